//! Multiclass logistic regression: the softmax layer on top of a stacked autoencoder (tutorial
//! logistic_sgd.py, `LogisticRegression`).
//!
//! Dims legend: B = batch rows, I = n_in (inputs), C = n_out (classes).
//! Forward:   a = xW + b                      x: [B, I], W: [I, C], a: [B, C]
//!            p(y = j | x) = softmax(a)ⱼ
//! Cost:      NLL = −(1/B) Σᵣ log p(yᵣ | xᵣ)  (batch mean); error = #{argmax a ≠ y}
//! Backward (`ops::SoftmaxNll` gives dA = (softmax(a) − onehot(y))/B):
//!            ∂W = xᵀ·dA,  ∂b = Σ_rows dA,  ∂x = dA·Wᵀ
//! W and b start at 0, as in the tutorial.

use super::dense::{self, Dense, DenseMut};
use crate::backend::{Activation, Backend};

/// The parameters of a softmax layer, living on the backend.
pub struct Logistic<B: Backend> {
    /// Inputs I.
    pub n_in: usize,
    /// Classes C.
    pub n_out: usize,
    /// Weights: [n_in, n_out].
    pub w: B::Tensor,
    /// Bias: [n_out].
    pub b: B::Tensor,
}

impl<B: Backend> Logistic<B> {
    /// The tutorial's initialisation: W = 0, b = 0.
    pub fn zeros(be: &B, n_in: usize, n_out: usize) -> Self {
        Logistic { n_in, n_out, w: be.zeros(n_in * n_out), b: be.zeros(n_out) }
    }

    /// A layer with the given parameters: w: [n_in, n_out], b: [n_out].
    pub fn from_host(be: &B, n_in: usize, n_out: usize, w: &[f32], b: &[f32]) -> Self {
        assert_eq!(w.len(), n_in * n_out, "w must be [n_in, n_out]");
        assert_eq!(b.len(), n_out, "b must be [n_out]");
        Logistic { n_in, n_out, w: be.upload(w), b: be.upload(b) }
    }

    /// logits a = xW + b: [rows, C] from x: [rows, I].
    pub fn forward(&self, be: &B, logits: &mut B::Tensor, x: &B::Tensor, rows: usize) {
        let layer = Dense { w: &self.w, b: &self.b, n_in: self.n_in, n_out: self.n_out };
        dense::forward(be, layer, Activation::Identity, logits, x, rows);
    }

    /// Backpropagation and the SGD update from the logits' delta dA: [rows, C] and the layer's
    /// input x: [rows, I]. When `dx` is given, first dx = (dA·Wᵀ) ⊙ x(1 − x): [rows, I], the
    /// delta of the sigmoid layer whose output x is (with the weights before the update); then
    /// W −= lr·xᵀ·dA and b −= lr·Σ_rows dA.
    pub fn backward_update(
        &mut self,
        be: &B,
        dlogits: &B::Tensor,
        x: &B::Tensor,
        rows: usize,
        lr: f32,
        dx: Option<&mut B::Tensor>,
    ) {
        let (n_in, n_out) = (self.n_in, self.n_out);
        let layer = DenseMut { w: &mut self.w, b: &mut self.b, n_in, n_out };
        dense::backward_update(be, layer, dlogits, x, (rows, lr), dx);
    }

    /// Host copies of (W, b).
    pub fn download(&self, be: &B) -> (Vec<f32>, Vec<f32>) {
        (be.download(&self.w), be.download(&self.b))
    }
}
