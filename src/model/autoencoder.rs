//! The autoencoder family: the denoising autoencoder (dA; Vincent et al. 2008; tutorial dA.py),
//! the contractive autoencoder (cA; Rifai et al. 2011; tutorial cA.py) and the ReLU denoising
//! autoencoder (the exercise) are configurations of this one struct — encoder activation, tied
//! or untied decoder, loss (cross-entropy from logits with a sigmoid output, or squared error
//! with a linear output), noise (masking p, Gaussian σ), contractive weight λ, standardised
//! inputs, initialisation.
//!
//! ReLU-DAE (DESIGN.md): x standardised; x̃ = x + N(0, σ²); z = max(0, x̃W + B): [B, H];
//! y = zV + C: [B, V] (V: [H, V], untied, linear output); E = ‖y − x‖² per row. Backward of ½E
//! (mean over B): dY = (y − x)/B; dZ = (dY·Vᵀ) ⊙ 1[z > 0] (the ReLU mask: units that are off
//! pass no gradient); ∂V = zᵀ·dY, ∂W = x̃ᵀ·dZ, ∂C = Σ dY, ∂B = Σ dZ.
//!
//! Dims legend: B = batch rows, V = n_vis (784), H = n_hid (500).
//! dA, for a clean batch x ∈ [0,1]^{B×V}:
//!   x̃ = m ⊙ x, m ~ Bernoulli(1 − p)          (masking noise; p = 0 gives the plain autoencoder)
//!   h = σ(x̃W + b)                              h: [B, H], W: [V, H]
//!   a = hWᵀ + b′,  z = σ(a)                    a, z: [B, V]
//!   L = Σₖ softplus(aₖ) − xₖaₖ  = −Σₖ[xₖ log zₖ + (1−xₖ) log(1−zₖ)]  per row; cost = mean over B
//! Backward (of the batch-mean cost):
//!   dA = (z − x)/B                             [B, V]
//!   dH = (dA·W) ⊙ h(1 − h)                     [B, H]
//!   ∂W = x̃ᵀ·dH + dAᵀ·h,  ∂b = Σ_rows dH,  ∂b′ = Σ_rows dA
//! Contractive penalty (λ > 0, DESIGN.md): with s = h(1 − h): [B, H], cⱼ = Σᵢ Wᵢⱼ²: [H],
//!   P = λ·(1/B)·Σₙ ‖Jₙ‖²_F,  ‖Jₙ‖²_F = Σⱼ sₙⱼ² cⱼ          O(B·H) given c (true division by B)
//!   ∂P/∂preₙⱼ = (2λ/B)·cⱼ·sₙⱼ²·(1 − 2hₙⱼ)     (through h: ∂s²/∂pre = 2s·(1 − 2h)·s), added to dH
//!   ∂P/∂Wᵢⱼ  += (2λ/B)·Σₙ sₙⱼ² · Wᵢⱼ          (through the column norm), applied as a column
//!                                             scaling of W before the fused update
//! so ∂W and ∂b of the penalty's h path ride on the dA's x̃ᵀ·dH and Σ dH.
//! The SGD update is fused into a GEMM summing both products of ∂W (`GemmSum`, α = −lr, β = 1)
//! with the bias updates folded into its pass (`SumBiases`); the untied model's decoder V is
//! updated (with b′) in the same sweep of V as the backward product (`DenseUpdate`), and W's
//! update carries b (`Epilogue::BiasUpdate`). A dA step is four ops: the load, corruption and
//! encoder in one (`LoadGemm`), the decoder with the loss (`GemmXent`), the backprop, and the
//! update of W, b and b′; the cA adds one (`Contractive`: the column norms, the penalty and W's
//! step along its column-norm path); the ReLU-DAE's load standardises in the same `LoadGemm`,
//! and its step has the decoder with the squared error (`GemmSqErr`), the sparsity count, the
//! decoder's `DenseUpdate` and the W update. `gpu-dae bench` counts what they cost on each backend.

use super::Step;
use crate::backend::ops::{
    Contractive, Corrupt, CountPositive, DenseUpdate, Gemm, GemmSqErr, GemmSum, GemmXent,
    LoadBatch, LoadGemm, SumBiases,
};
use crate::backend::{Activation, Backend, Epilogue, GemmSpec, Noise};
use crate::checkpoint::{Checkpoint, CheckpointError};
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
    /// The corruption of the input: masking (dA), none (cA), Gaussian (ReLU-DAE), salt-and-pepper.
    pub noise: Noise,
    /// Contractive weight λ ≥ 0 of the penalty λ·(1/B)Σₙ‖Jₙ‖²_F (0: no penalty, the dA).
    /// Needs the sigmoid encoder.
    #[serde(default)]
    pub contraction: f32,
    /// Encoder activation: sigmoid (dA, cA) or ReLU (ReLU-DAE).
    #[serde(default = "sigmoid")]
    pub encoder: Activation,
    /// Tied decoder weights Wᵀ (dA, cA), or a separate V: [n_hid, n_vis] (ReLU-DAE).
    #[serde(default = "yes")]
    pub tied: bool,
    /// The decoder's output activation: sigmoid (dA, cA) or identity, a linear output
    /// (ReLU-DAE).
    #[serde(default = "sigmoid")]
    pub decoder: Activation,
    /// Reconstruction loss; cross-entropy needs the sigmoid decoder.
    #[serde(default)]
    pub loss: Loss,
    /// Standardise each loaded batch as (x − mean)/std (the data set's pixel mean and standard
    /// deviation, after /255); None keeps x ∈ [0, 1].
    #[serde(default)]
    pub standardise: Option<[f32; 2]>,
    /// Weight initialisation.
    #[serde(default)]
    pub init: Init,
    /// Initial value of every visible (reconstruction) bias b′ (C in the ReLU-DAE); 0 in every
    /// preset.
    #[serde(default)]
    pub visible_bias: f32,
}

fn sigmoid() -> Activation {
    Activation::Sigmoid
}

fn yes() -> bool {
    true
}

/// The reconstruction loss of an autoencoder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// Cross-entropy −Σ[x log z + (1 − x) log(1 − z)] of the sigmoid output z, computed from
    /// the logits (dA, cA).
    #[default]
    CrossEntropy,
    /// Squared error ‖y − x‖² of the decoder's output y (ReLU-DAE: linear y; the gradient is
    /// that of ½E).
    SquaredError,
}

/// How the weights start.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Init {
    /// The tutorial's W ~ U(±4·√(6/(n_vis + n_hid))), biases 0.
    #[default]
    Tutorial,
    /// W (and V) ~ N(0, std²), hidden bias = `hidden_bias`, visible bias 0 (the ReLU-DAE:
    /// std 0.01, hidden bias 0.5).
    Normal {
        /// Standard deviation of the weights.
        std: f32,
        /// Initial value of every hidden bias.
        hidden_bias: f32,
    },
}

impl Default for AutoencoderConfig {
    /// The tutorial dA's 784-500 without noise: sigmoid encoder, tied weights, cross-entropy,
    /// tutorial initialisation.
    fn default() -> Self {
        AutoencoderConfig {
            n_vis: 784,
            n_hid: 500,
            noise: Noise::None,
            contraction: 0.0,
            encoder: Activation::Sigmoid,
            tied: true,
            decoder: Activation::Sigmoid,
            loss: Loss::CrossEntropy,
            standardise: None,
            init: Init::Tutorial,
            visible_bias: 0.0,
        }
    }
}

/// Parameters of an autoencoder, living on the backend.
pub struct Autoencoder<B: Backend> {
    /// Shape and noise.
    pub config: AutoencoderConfig,
    /// Encoder weights, also the transposed decoder weights: [n_vis, n_hid].
    pub w: B::Tensor,
    /// Hidden bias: [n_hid].
    pub b: B::Tensor,
    /// Visible (reconstruction) bias: [n_vis].
    pub b_prime: B::Tensor,
    /// Decoder weights of an untied model: [n_hid, n_vis] (None when tied: the decoder is Wᵀ).
    pub v: Option<B::Tensor>,
}

/// Per-batch activations and deltas of one training step, allocated once for a batch size,
/// and the per-step logs the steps write (one slot per step, read back once per epoch).
pub struct Workspace<B: Backend> {
    rows: usize,
    /// Batch-mean reconstruction costs, one slot per step: [slots].
    costs: B::Tensor,
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
    /// Squared column norms of W, cⱼ = Σᵢ Wᵢⱼ²: [H] (contractive only, else empty).
    col_norms: B::Tensor,
    /// The penalty's column-norm gradient factor: [H] (contractive only, else empty).
    col_grad: B::Tensor,
    /// Batch-mean squared Jacobian norms, one slot per step: [slots] (contractive only).
    jac_sq: B::Tensor,
    /// Fraction of hidden units on (> 0), one slot per step: [slots] (ReLU encoder only).
    frac_on: B::Tensor,
}

impl<B: Backend> Workspace<B> {
    /// The clean batch x: [B, V], for a caller that computes it itself (the input of a stacked
    /// dA's upper layer) before `Autoencoder::train_step_on_input`.
    pub fn input_mut(&mut self) -> &mut B::Tensor {
        &mut self.x
    }

    /// The clean batch x and its corruption x̃: [B, V] each, for a caller that computes both
    /// (`ops::GemmCorrupt`) before `Autoencoder::train_step_on_corrupted_input`.
    pub fn input_and_corrupted_mut(&mut self) -> (&mut B::Tensor, &mut B::Tensor) {
        (&mut self.x, &mut self.x_tilde)
    }

    /// The per-step batch-mean reconstruction costs, [slots].
    pub fn costs(&self) -> &B::Tensor {
        &self.costs
    }

    /// The per-step batch-mean squared Jacobian norms (1/B)Σₙ‖Jₙ‖²_F written by the contractive
    /// steps, [slots] (empty for a model without penalty).
    pub fn jacobian_sq(&self) -> &B::Tensor {
        &self.jac_sq
    }

    /// The per-step fractions of hidden units that are on, #{z > 0}/(B·H), written by the steps
    /// of a ReLU model, [slots] (empty otherwise).
    pub fn fraction_on(&self) -> &B::Tensor {
        &self.frac_on
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
    ///
    /// With `Init::Normal { std, hidden_bias }`, W ~ N(0, std²) from that stream, V (untied)
    /// ~ N(0, std²) from stream `stream + 1`, b = hidden_bias, b′ = 0.
    pub fn new_in_stream(be: &B, config: AutoencoderConfig, seed: u64, stream: u64) -> Self {
        let (v, h) = (config.n_vis, config.n_hid);
        let mut rng = HostRng::new(seed, stream);
        match config.init {
            Init::Tutorial => {
                let bound = 4.0 * (6.0 / (v + h) as f32).sqrt();
                let w: Vec<f32> = (0..v * h).map(|_| rng.uniform_in(-bound, bound)).collect();
                let c = vec![config.visible_bias; v];
                let mut ae = Self::from_host(be, config.clone(), &w, &vec![0.0; h], &c);
                if !config.tied {
                    // V = Wᵀ's values in V's layout: [n_hid, n_vis].
                    let vt: Vec<f32> = (0..h * v).map(|k| w[(k % v) * h + k / v]).collect();
                    ae.v = Some(be.upload(&vt));
                }
                ae
            }
            Init::Normal { std, hidden_bias } => {
                let w: Vec<f32> = (0..v * h).map(|_| std * rng.normal()).collect();
                let mut ae = Self::from_host(
                    be,
                    config.clone(),
                    &w,
                    &vec![hidden_bias; h],
                    &vec![config.visible_bias; v],
                );
                if !config.tied {
                    let mut rng = HostRng::new(seed, stream.wrapping_add(1));
                    let vt: Vec<f32> = (0..h * v).map(|_| std * rng.normal()).collect();
                    ae.v = Some(be.upload(&vt));
                }
                ae
            }
        }
    }

    /// An untied autoencoder with the given parameters: w: [n_vis, n_hid], v: [n_hid, n_vis],
    /// b: [n_hid], b_prime: [n_vis].
    pub fn from_host_untied(
        be: &B,
        config: AutoencoderConfig,
        (w, v): (&[f32], &[f32]),
        b: &[f32],
        b_prime: &[f32],
    ) -> Self {
        assert!(!config.tied, "from_host_untied needs an untied configuration");
        assert_eq!(v.len(), config.n_vis * config.n_hid, "v must be [n_hid, n_vis]");
        let mut ae = Self::from_host(be, config, w, b, b_prime);
        ae.v = Some(be.upload(v));
        ae
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
        Autoencoder {
            w: be.upload(w),
            b: be.upload(b),
            b_prime: be.upload(b_prime),
            v: None,
            config,
        }
    }

    /// Workspaces for batches of `rows` examples, with one slot of per-step logs.
    pub fn workspace(&self, be: &B, rows: usize) -> Workspace<B> {
        self.workspace_with_slots(be, rows, 1)
    }

    /// Workspaces for batches of `rows` examples, with `slots` slots of per-step logs (a step
    /// with `Step::slot` s writes slot s of the costs, and of the Jacobian norms of a
    /// contractive model or the fractions on of a ReLU one).
    pub fn workspace_with_slots(&self, be: &B, rows: usize, slots: usize) -> Workspace<B> {
        let (v, h) = (self.config.n_vis, self.config.n_hid);
        let penalty = self.config.contraction > 0.0;
        let if_penalty = |len: usize| be.zeros(if penalty { len } else { 0 });
        Workspace {
            rows,
            costs: be.zeros(slots.max(1)),
            x: be.zeros(rows * v),
            x_tilde: be.zeros(rows * v),
            h: be.zeros(rows * h),
            a: be.zeros(rows * v),
            da: be.zeros(rows * v),
            dh: be.zeros(rows * h),
            col_norms: if_penalty(h),
            col_grad: if_penalty(h),
            jac_sq: if_penalty(slots.max(1)),
            frac_on: be.zeros(if self.config.encoder == Activation::Relu {
                slots.max(1)
            } else {
                0
            }),
        }
    }

    /// One SGD step on images[step.first .. step.first + ws.rows]: corrupts with the draw
    /// `step.key`, writes the batch-mean reconstruction cost into slot `step.slot` of the
    /// workspace's logs and updates W, b, b′ in place with rate `step.lr`.
    pub fn train_step(&mut self, be: &B, ws: &mut Workspace<B>, images: &B::Images, step: Step) {
        let (h, x, x_tilde) = (&mut ws.h, &mut ws.x, &mut ws.x_tilde);
        let batch = (images, step.first, ws.rows);
        self.load_and_encode(be, h, (x, x_tilde), batch, (self.noise(), step.key));
        self.step_from_hidden(be, ws, step);
    }

    /// h = f(x̃W + b): [rows, H] with x: [rows, V] = images[first .. first + rows]/255
    /// (standardised if configured) and x̃ = noise(x) under `key`, all three written by one op
    /// (`LoadGemm`).
    pub(crate) fn load_and_encode(
        &self,
        be: &B,
        h: &mut B::Tensor,
        (x, x_tilde): (&mut B::Tensor, &mut B::Tensor),
        (images, first, rows): (&B::Images, usize, usize),
        (noise, key): (Noise, RngKey),
    ) {
        let (v, n_hid) = (self.config.n_vis, self.config.n_hid);
        be.run(LoadGemm {
            c: h,
            x,
            x_tilde,
            images,
            b: &self.w,
            first,
            spec: GemmSpec::new(rows, n_hid, v),
            epilogue: Epilogue::BiasAct { bias: &self.b, act: self.config.encoder },
            noise,
            key,
            standardise: self.config.standardise,
        });
    }

    /// x: [B, V] = images[first ..]/255 (standardised if configured); x̃ = noise(x): [B, V].
    fn load(
        &self,
        be: &B,
        ws: &mut Workspace<B>,
        images: &B::Images,
        first: usize,
        noise: Noise,
        key: RngKey,
    ) {
        let (rows, standardise) = (ws.rows, self.config.standardise);
        let (x, x_tilde) = (&mut ws.x, &mut ws.x_tilde);
        be.run(LoadBatch { x, x_tilde, images, first, rows, noise, key, standardise });
    }

    /// One SGD step on the clean batch the caller wrote into `ws.input_mut()` (e.g. the output
    /// of the layers below in a stack): corrupts it with the draw `step.key` (`ops::Corrupt`),
    /// writes the batch-mean reconstruction cost into slot `step.slot` of the workspace's logs
    /// and updates W, b, b′ in place (`step.first` is not used).
    pub fn train_step_on_input(&mut self, be: &B, ws: &mut Workspace<B>, step: Step) {
        // x̃ = m ⊙ x: [B, V]
        let len = ws.rows * self.config.n_vis;
        let (noise, key) = (self.noise(), step.key);
        be.run(Corrupt { x_tilde: &mut ws.x_tilde, x: &ws.x, len, noise, key });
        self.step_from_corrupted(be, ws, step);
    }

    /// `train_step_on_input` for a caller that also wrote x̃ = `Autoencoder::noise` of x under
    /// `step.key` (as `ops::Corrupt` would) into `ws.input_and_corrupted_mut()`.
    pub fn train_step_on_corrupted_input(&mut self, be: &B, ws: &mut Workspace<B>, step: Step) {
        self.step_from_corrupted(be, ws, step);
    }

    /// The noise the model trains with.
    pub fn noise(&self) -> Noise {
        self.config.noise
    }

    /// The step from x and x̃ in `ws` on: forward, loss, backward, fused updates.
    fn step_from_corrupted(&mut self, be: &B, ws: &mut Workspace<B>, step: Step) {
        self.hidden(be, ws);
        self.step_from_hidden(be, ws, step);
    }

    /// The step from x, x̃ and h = f(x̃W + b) in `ws` on: decoder, loss, backward, fused
    /// updates.
    fn step_from_hidden(&mut self, be: &B, ws: &mut Workspace<B>, step: Step) {
        let (rows, v, h) = (ws.rows, self.config.n_vis, self.config.n_hid);
        let (lr, slot) = (step.lr, step.slot);
        let enc = self.config.encoder;
        let scale = 1.0 / rows as f32;
        match self.config.loss {
            // dA = (σ(a) − x)/B with a = h·Wdec + b′, costs[slot] = mean cross-entropy: the
            // decoder and its loss in one op
            Loss::CrossEntropy => {
                let (spec, dec) = self.decoder(rows);
                be.run(GemmXent {
                    grad: &mut ws.da,
                    costs: &mut ws.costs,
                    slot,
                    a: &ws.h,
                    b: dec,
                    spec,
                    bias: &self.b_prime,
                    target: &ws.x,
                    scale,
                });
            }
            // y = out(h·Wdec + b′), dY = (y − x)·out′/B, costs[slot] = mean ‖y − x‖²: the
            // decoder and its loss in one op
            Loss::SquaredError => {
                let (spec, dec) = self.decoder(rows);
                be.run(GemmSqErr {
                    grad: &mut ws.da,
                    y: &mut ws.a,
                    costs: &mut ws.costs,
                    slot,
                    a: &ws.h,
                    b: dec,
                    spec,
                    bias: &self.b_prime,
                    out: self.config.decoder,
                    target: &ws.x,
                    scale,
                });
            }
        }
        if enc == Activation::Relu {
            // frac_on[slot] = #{z > 0}/(B·H)
            let (len, out) = (rows * h, &mut ws.frac_on);
            be.run(CountPositive { out, slot, a: &ws.h, len, scale: 1.0 / len as f32 });
        }
        // dH = (dA·Wdec) ⊙ f′(h): [B, H] (Wdec = W tied: dA·W; untied V: [H, V], dA·Vᵀ, in
        // one sweep of V with its update V −= lr·hᵀ·dA and b′ −= lr·Σ dA, which nothing below
        // reads)
        match &mut self.v {
            None => {
                let epilogue = Epilogue::ActGrad { out: &ws.h, act: enc };
                let spec = GemmSpec::new(rows, h, v);
                be.run(Gemm { c: &mut ws.dh, a: &ws.da, b: &self.w, spec, epilogue })
            }
            Some(vt) => be.run(DenseUpdate {
                dx: &mut ws.dh,
                w: vt,
                bias: &mut self.b_prime,
                d: &ws.da,
                x: &ws.h,
                rows,
                n_in: h,
                n_out: v,
                lr,
                act: enc,
            }),
        }
        let lambda = self.config.contraction;
        if lambda > 0.0 {
            // c = Σᵢ Wᵢⱼ²: [H]; dH += (2λ/B)·c·s²·(1 − 2h); col_grad = (2λ/B)·Σₙ s²;
            // jac_sq[slot] = (1/B)·Σₙ‖Jₙ‖²_F; W ⊙= 1 − lr·col_grad (the column-norm path, at
            // the old W: the backprop above has read it, and the GEMM below does not read W)
            be.run(Contractive {
                dh: &mut ws.dh,
                w: &mut self.w,
                col_norms: &mut ws.col_norms,
                col_grad: &mut ws.col_grad,
                jac_sq: &mut ws.jac_sq,
                slot,
                h: &ws.h,
                n_vis: v,
                rows,
                cols: h,
                lambda,
                scale,
                lr,
            });
        }
        let update = GemmSpec::new(v, h, rows).trans_a().scaled(-lr, 1.0);
        match &mut self.v {
            // W −= lr·(x̃ᵀ·dH + dAᵀ·h): [V, H], both products in one GEMM; b −= lr·Σ dH,
            // b′ −= lr·Σ dA in the same pass
            None => be.run(GemmSum {
                c: &mut self.w,
                a1: &ws.x_tilde,
                b1: &ws.dh,
                a2: &ws.da,
                b2: &ws.h,
                spec: update,
                k2: rows,
                biases: Some(SumBiases { cols: &mut self.b, rows: &mut self.b_prime }),
            }),
            // W −= lr·x̃ᵀ·dZ: [V, H] with b −= lr·Σ dH (V and b′ were updated above, in the sweep that gave dH)
            Some(_) => {
                let epilogue = Epilogue::BiasUpdate { bias: &mut self.b };
                be.run(Gemm { c: &mut self.w, a: &ws.x_tilde, b: &ws.dh, spec: update, epilogue });
            }
        }
    }

    /// h = f(x̃W + b): [B, H].
    fn hidden(&self, be: &B, ws: &mut Workspace<B>) {
        let (rows, v, h) = (ws.rows, self.config.n_vis, self.config.n_hid);
        be.run(Gemm {
            c: &mut ws.h,
            a: &ws.x_tilde,
            b: &self.w,
            spec: GemmSpec::new(rows, h, v),
            epilogue: Epilogue::BiasAct { bias: &self.b, act: self.config.encoder },
        });
    }

    /// The decoder's product: its spec for `rows` rows (h: [rows, H] times Wdec: [H, V]) and
    /// Wdec's tensor (W read transposed when tied, V untied).
    fn decoder(&self, rows: usize) -> (GemmSpec, &B::Tensor) {
        let (v, h) = (self.config.n_vis, self.config.n_hid);
        match &self.v {
            None => (GemmSpec::new(rows, v, h).trans_b(), &self.w),
            Some(vt) => (GemmSpec::new(rows, v, h), vt),
        }
    }

    /// a = h·Wdec + b′ then `out` applied: [B, V] (Wdec = Wᵀ tied, V untied).
    fn decode(&self, be: &B, ws: &mut Workspace<B>, out: Activation) {
        let epilogue = Epilogue::BiasAct { bias: &self.b_prime, act: out };
        let (spec, dec) = self.decoder(ws.rows);
        be.run(Gemm { c: &mut ws.a, a: &ws.h, b: dec, spec, epilogue });
    }

    /// Pictures of the model at work on images[first .. first + ws.rows] (e.g. test digits for
    /// `reconstructions.png`): returns host copies of (x, x̃, z), each [B, V], with x̃ the input
    /// corrupted by `noise` under `key` (`Autoencoder::noise` for the model's own) and z the
    /// reconstruction, the decoder's output (σ(hWᵀ + b′) for the dA and cA, the linear
    /// y = zV + C for the ReLU-DAE); x, x̃ and z are standardised when the model's inputs are.
    /// Parameters are not changed; `ws` is overwritten.
    pub fn reconstruct(
        &self,
        be: &B,
        ws: &mut Workspace<B>,
        images: &B::Images,
        first: usize,
        noise: Noise,
        key: RngKey,
    ) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        self.load(be, ws, images, first, noise, key);
        self.hidden(be, ws);
        self.decode(be, ws, self.config.decoder);
        (be.download(&ws.x), be.download(&ws.x_tilde), be.download(&ws.a))
    }

    /// Host copy of the untied decoder weights V: [n_hid, n_vis] (None when tied).
    pub fn download_decoder(&self, be: &B) -> Option<Vec<f32>> {
        self.v.as_ref().map(|v| be.download(v))
    }

    /// Host copies of (W, b, b′).
    pub fn download(&self, be: &B) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        (be.download(&self.w), be.download(&self.b), be.download(&self.b_prime))
    }

    /// Adds the parameters to `ck` as `{prefix}.W` [n_vis, n_hid], `{prefix}.b` [n_hid],
    /// `{prefix}.b_prime` [n_vis] and, untied, `{prefix}.V` [n_hid, n_vis].
    pub fn save_to(&self, be: &B, ck: &mut Checkpoint, prefix: &str) {
        let (v, h) = (self.config.n_vis, self.config.n_hid);
        let (w, b, b_prime) = self.download(be);
        ck.put(format!("{prefix}.W"), &[v, h], w);
        ck.put(format!("{prefix}.b"), &[h], b);
        ck.put(format!("{prefix}.b_prime"), &[v], b_prime);
        if let Some(dec) = self.download_decoder(be) {
            ck.put(format!("{prefix}.V"), &[h, v], dec);
        }
    }

    /// An autoencoder of `config` with the parameters `save_to` wrote under `prefix`; every
    /// tensor's shape is checked against `config`.
    pub fn load_from(
        be: &B,
        config: AutoencoderConfig,
        ck: &Checkpoint,
        prefix: &str,
    ) -> Result<Self, CheckpointError> {
        let (v, h) = (config.n_vis, config.n_hid);
        let w = ck.tensor(&format!("{prefix}.W"), &[v, h])?;
        let b = ck.tensor(&format!("{prefix}.b"), &[h])?;
        let b_prime = ck.tensor(&format!("{prefix}.b_prime"), &[v])?;
        if config.tied {
            Ok(Self::from_host(be, config, w, b, b_prime))
        } else {
            let dec = ck.tensor(&format!("{prefix}.V"), &[h, v])?;
            Ok(Self::from_host_untied(be, config, (w, dec), b, b_prime))
        }
    }

    /// The hidden code of images[first .. first + ws.rows] without noise: h = f(xW + b):
    /// [rows, n_hid] on the host, x standardised when the model's inputs are (what `gpu-dae
    /// encode` writes).
    pub fn encode(
        &self,
        be: &B,
        ws: &mut Workspace<B>,
        images: &B::Images,
        first: usize,
    ) -> Vec<f32> {
        self.load(be, ws, images, first, Noise::None, RngKey::UNUSED);
        self.hidden(be, ws);
        let mut code = be.download(&ws.h);
        code.truncate(ws.rows * self.config.n_hid);
        code
    }
}

/// FLOPs of one training step on `rows` examples: five products of 2·rows·n_vis·n_hid each
/// (encoder, decoder, backpropagation, and the two weight-gradient products of the update).
pub fn flops_per_step(config: &AutoencoderConfig, rows: usize) -> f64 {
    10.0 * rows as f64 * config.n_vis as f64 * config.n_hid as f64
}
