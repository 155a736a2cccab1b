//! A dense layer y = act(x·W + b), its forward pass and its backward pass fused with the SGD
//! update: the softmax layer's (`Logistic`) and the stacked autoencoder's sigmoid layers'.
//!
//! Dims legend: B = batch rows, I = inputs, O = outputs; x: [B, I], W: [I, O], b: [O].
//! Backward from the delta d of the layer's pre-activation, d: [B, O]:
//!   dx = (d·Wᵀ) ⊙ x(1 − x)   (the delta of the sigmoid layer below, whose output x is; taken
//!                            with W before its update)
//!   W −= lr·xᵀ·d,  b −= lr·Σ_rows d

use crate::backend::ops::{DenseUpdate, Gemm};
use crate::backend::{Activation, Backend, Epilogue, GemmSpec};

/// The parameters of a dense layer: W: [I, O] and b: [O].
pub(crate) struct Dense<'a, B: Backend> {
    /// W: [I, O].
    pub w: &'a B::Tensor,
    /// b: [O].
    pub b: &'a B::Tensor,
    /// Inputs I.
    pub n_in: usize,
    /// Outputs O.
    pub n_out: usize,
}

/// y = act(x·W + b): [rows, O] from x: [rows, I].
pub(crate) fn forward<B: Backend>(
    be: &B,
    layer: Dense<'_, B>,
    act: Activation,
    y: &mut B::Tensor,
    x: &B::Tensor,
    rows: usize,
) {
    be.run(Gemm {
        c: y,
        a: x,
        b: layer.w,
        spec: GemmSpec::new(rows, layer.n_out, layer.n_in),
        epilogue: Epilogue::BiasAct { bias: layer.b, act },
    });
}

/// The parameters of a dense layer to update: W: [I, O] and b: [O].
pub(crate) struct DenseMut<'a, B: Backend> {
    /// W: [I, O].
    pub w: &'a mut B::Tensor,
    /// b: [O].
    pub b: &'a mut B::Tensor,
    /// Inputs I.
    pub n_in: usize,
    /// Outputs O.
    pub n_out: usize,
}

/// Backpropagation and the SGD update from the delta d: [rows, O] of the layer's input x:
/// [rows, I]: first, when `dx` is given, dx = (d·Wᵀ) ⊙ x(1 − x): [rows, I] (x the output of a
/// sigmoid layer), then W −= lr·xᵀ·d and b −= lr·Σ_rows d.
pub(crate) fn backward_update<B: Backend>(
    be: &B,
    layer: DenseMut<'_, B>,
    d: &B::Tensor,
    x: &B::Tensor,
    (rows, lr): (usize, f32),
    dx: Option<&mut B::Tensor>,
) {
    let DenseMut { w, b, n_in, n_out } = layer;
    match dx {
        // dx = (d·Wᵀ) ⊙ σ'(x): [B, I], then W −= lr·xᵀ·d and b −= lr·Σ d, in one sweep of W
        Some(dx) => {
            let act = Activation::Sigmoid;
            be.run(DenseUpdate { dx, w, bias: b, d, x, rows, n_in, n_out, lr, act });
        }
        // W −= lr·xᵀ·d: [I, O], and b −= lr·Σ d beside it
        None => be.run(Gemm {
            c: w,
            a: x,
            b: d,
            spec: GemmSpec::new(n_in, n_out, rows).trans_a().scaled(-lr, 1.0),
            epilogue: Epilogue::BiasUpdate { bias: b },
        }),
    }
}
