//! The denoising autoencoder with tied weights (Vincent et al. 2008; tutorial dA.py).
//!
//! Dims legend: B = batch rows, V = n_vis (784), H = n_hid (500).
//! Forward, for a clean batch x ∈ [0,1]^{B×V}:
//!   x̃ = m ⊙ x, m ~ Bernoulli(1 − p)          (masking noise; p = 0 gives the plain autoencoder)
//!   h = σ(x̃W + b)                              h: [B, H], W: [V, H]
//!   a = hWᵀ + b′,  z = σ(a)                    a, z: [B, V]
//!   L = Σₖ softplus(aₖ) − xₖaₖ  = −Σₖ[xₖ log zₖ + (1−xₖ) log(1−zₖ)]  per row; cost = mean over B
//! Backward (of the batch-mean cost):
//!   dA = (z − x)/B                             [B, V]
//!   dH = (dA·W) ⊙ h(1 − h)                     [B, H]
//!   ∂W = x̃ᵀ·dH + dAᵀ·h,  ∂b = Σ_rows dH,  ∂b′ = Σ_rows dA
//! The SGD update is fused into a GEMM summing both products of ∂W (`gemm_sum`, α = −lr, β = 1)
//! and into the column sums. A step is eight ops, one GPU dispatch each (load + corrupt, encode,
//! decode, loss, backprop, W update, two bias updates; the loss takes a second dispatch when
//! B·V > 65 536, i.e. B ≥ 84 at V = 784).

use crate::backend::{Activation, Backend, Epilogue, GemmSpec, Noise};
use crate::rng::{HostRng, RngKey};

/// RNG stream used for weight initialisation; noise draws use streams 0, 1, 2, … (one per step).
pub const INIT_STREAM: u64 = 1 << 63;

/// Shape and hyper-parameters of an autoencoder.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AutoencoderConfig {
    /// Visible units (784 for MNIST).
    pub n_vis: usize,
    /// Hidden units.
    pub n_hid: usize,
    /// Masking-noise level p: probability of zeroing an input element, in [0, 1].
    pub corruption: f32,
}

/// Parameters of a tied-weight autoencoder, living on the backend.
pub struct Autoencoder<B: Backend> {
    /// Shape and noise.
    pub config: AutoencoderConfig,
    /// Encoder weights, also the transposed decoder weights: [n_vis, n_hid].
    pub w: B::Tensor,
    /// Hidden bias: [n_hid].
    pub b: B::Tensor,
    /// Visible (reconstruction) bias: [n_vis].
    pub b_prime: B::Tensor,
}

/// Per-batch activations and deltas of one training step, allocated once for a batch size.
pub struct Workspace<B: Backend> {
    rows: usize,
    /// Clean batch: [B, V].
    x: B::Tensor,
    /// Corrupted batch: [B, V].
    x_tilde: B::Tensor,
    /// Hidden code: [B, H].
    h: B::Tensor,
    /// Reconstruction logits a: [B, V].
    a: B::Tensor,
    /// Reconstruction delta dA: [B, V].
    da: B::Tensor,
    /// Hidden delta dH: [B, H].
    dh: B::Tensor,
}

impl<B: Backend> Workspace<B> {
    /// The clean batch x: [B, V], for a caller that computes it itself (the input of a stacked
    /// dA's upper layer) before `Autoencoder::train_step_on_input`.
    pub fn input_mut(&mut self) -> &mut B::Tensor {
        &mut self.x
    }
}

impl<B: Backend> Autoencoder<B> {
    /// The tutorial's initialisation: W ~ U(±4·√(6/(n_vis + n_hid))), b = b′ = 0, drawn from the
    /// host RNG stream `INIT_STREAM` of `seed`.
    pub fn new(be: &B, config: AutoencoderConfig, seed: u64) -> Self {
        Self::new_in_stream(be, config, seed, INIT_STREAM)
    }

    /// `new`, drawing W from host RNG stream `stream` of `seed` (each layer of a stack has its
    /// own stream).
    pub fn new_in_stream(be: &B, config: AutoencoderConfig, seed: u64, stream: u64) -> Self {
        let (v, h) = (config.n_vis, config.n_hid);
        let bound = 4.0 * (6.0 / (v + h) as f32).sqrt();
        let mut rng = HostRng::new(seed, stream);
        let w: Vec<f32> = (0..v * h).map(|_| rng.uniform_in(-bound, bound)).collect();
        Self::from_host(be, config, &w, &vec![0.0; h], &vec![0.0; v])
    }

    /// An autoencoder with the given parameters: w: [n_vis, n_hid], b: [n_hid], b_prime: [n_vis].
    pub fn from_host(
        be: &B,
        config: AutoencoderConfig,
        w: &[f32],
        b: &[f32],
        b_prime: &[f32],
    ) -> Self {
        assert_eq!(w.len(), config.n_vis * config.n_hid, "w must be [n_vis, n_hid]");
        assert_eq!(b.len(), config.n_hid, "b must be [n_hid]");
        assert_eq!(b_prime.len(), config.n_vis, "b_prime must be [n_vis]");
        Autoencoder { w: be.upload(w), b: be.upload(b), b_prime: be.upload(b_prime), config }
    }

    /// Workspaces for batches of `rows` examples.
    pub fn workspace(&self, be: &B, rows: usize) -> Workspace<B> {
        let (v, h) = (self.config.n_vis, self.config.n_hid);
        Workspace {
            rows,
            x: be.zeros(rows * v),
            x_tilde: be.zeros(rows * v),
            h: be.zeros(rows * h),
            a: be.zeros(rows * v),
            da: be.zeros(rows * v),
            dh: be.zeros(rows * h),
        }
    }

    /// One SGD step on images[first .. first + ws.rows]: corrupts with the draw `key`, writes the
    /// batch-mean reconstruction cost into costs[slot] and updates W, b, b′ in place with rate lr.
    #[allow(clippy::too_many_arguments)]
    pub fn train_step(
        &mut self,
        be: &B,
        ws: &mut Workspace<B>,
        images: &B::Images,
        first: usize,
        key: RngKey,
        lr: f32,
        costs: &mut B::Tensor,
        slot: usize,
    ) {
        // x: [B, V]; x̃ = m ⊙ x: [B, V]
        be.load_batch(&mut ws.x, &mut ws.x_tilde, images, first, ws.rows, self.noise(), key);
        self.step_from_corrupted(be, ws, lr, costs, slot);
    }

    /// One SGD step on the clean batch the caller wrote into `ws.input_mut()` (e.g. the output
    /// of the layers below in a stack): corrupts it with the draw `key` (`Backend::corrupt`),
    /// writes the batch-mean reconstruction cost into costs[slot] and updates W, b, b′ in place.
    #[allow(clippy::too_many_arguments)]
    pub fn train_step_on_input(
        &mut self,
        be: &B,
        ws: &mut Workspace<B>,
        key: RngKey,
        lr: f32,
        costs: &mut B::Tensor,
        slot: usize,
    ) {
        // x̃ = m ⊙ x: [B, V]
        let len = ws.rows * self.config.n_vis;
        be.corrupt(&mut ws.x_tilde, &ws.x, len, self.noise(), key);
        self.step_from_corrupted(be, ws, lr, costs, slot);
    }

    /// The masking noise of `config.corruption` (none at 0).
    fn noise(&self) -> Noise {
        if self.config.corruption > 0.0 {
            Noise::Mask { p: self.config.corruption }
        } else {
            Noise::None
        }
    }

    /// The step from x and x̃ in `ws` on: forward, loss, backward, fused updates.
    fn step_from_corrupted(
        &mut self,
        be: &B,
        ws: &mut Workspace<B>,
        lr: f32,
        costs: &mut B::Tensor,
        slot: usize,
    ) {
        let (rows, v, h) = (ws.rows, self.config.n_vis, self.config.n_hid);
        // h = σ(x̃W + b): [B, H]
        let sigmoid = Activation::Sigmoid;
        be.gemm(
            &mut ws.h,
            &ws.x_tilde,
            &self.w,
            GemmSpec::new(rows, h, v),
            Epilogue::BiasAct { bias: &self.b, act: sigmoid },
        );
        // a = hWᵀ + b′: [B, V]
        be.gemm(
            &mut ws.a,
            &ws.h,
            &self.w,
            GemmSpec::new(rows, v, h).trans_b(),
            Epilogue::BiasAct { bias: &self.b_prime, act: Activation::Identity },
        );
        // dA = (σ(a) − x)/B, costs[slot] = mean cross-entropy
        let scale = 1.0 / rows as f32;
        be.xent_logits(&mut ws.da, costs, slot, &ws.a, &ws.x, rows, v, scale);
        // dH = (dA·W) ⊙ h(1 − h): [B, H]
        be.gemm(
            &mut ws.dh,
            &ws.da,
            &self.w,
            GemmSpec::new(rows, h, v),
            Epilogue::ActGrad { out: &ws.h, act: sigmoid },
        );
        // W −= lr·(x̃ᵀ·dH + dAᵀ·h): [V, H], both products in one GEMM
        let update = GemmSpec::new(v, h, rows).trans_a().scaled(-lr, 1.0);
        be.gemm_sum(&mut self.w, (&ws.x_tilde, &ws.dh), (&ws.da, &ws.h), update, rows);
        // b −= lr·Σ dH, b′ −= lr·Σ dA
        be.col_sum(&mut self.b, &ws.dh, rows, h, -lr, 1.0);
        be.col_sum(&mut self.b_prime, &ws.da, rows, v, -lr, 1.0);
    }

    /// Host copies of (W, b, b′).
    pub fn download(&self, be: &B) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        (be.download(&self.w), be.download(&self.b), be.download(&self.b_prime))
    }
}

/// FLOPs of one training step on `rows` examples: five products of 2·rows·n_vis·n_hid each
/// (encoder, decoder, backpropagation, and the two weight-gradient products of the update).
pub fn flops_per_step(config: &AutoencoderConfig, rows: usize) -> f64 {
    10.0 * rows as f64 * config.n_vis as f64 * config.n_hid as f64
}
