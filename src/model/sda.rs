//! The stacked denoising autoencoder (Vincent et al. 2010; tutorial SdA.py): sigmoid layers whose
//! W, b are shared with one dA each, and a softmax layer on top.
//!
//! Dims legend: B = batch rows, I = n_in (784), Hₖ = hidden[k], L = number of hidden layers,
//! C = n_out (10).
//! Forward, for a clean batch x ∈ [0,1]^{B×I}:
//!   h₋₁ = x;  hₖ = σ(hₖ₋₁Wₖ + bₖ)               hₖ: [B, Hₖ], Wₖ: [Hₖ₋₁, Hₖ]
//!   a = h_{L−1}W_top + b_top,  p = softmax(a)   a: [B, C], W_top: [H_{L−1}, C]
//!   NLL = −(1/B) Σᵣ log p(yᵣ | xᵣ)
//! Pretraining (greedy, layer by layer): layer k is the dA (Wₖ, bₖ, b′ₖ) trained on the clean
//! hₖ₋₁, corrupted with its own masking level; b′ₖ is not part of the classifier. With
//! `LayerKind::Cae` (a stacked contractive autoencoder, Rifai et al. 2011) layer k is instead
//! a cA on the uncorrupted hₖ₋₁: the cross-entropy plus λ·(1/B)Σₙ‖Jₙ‖²_F, as `--model cae`.
//! Fine-tuning backward (of the batch-mean NLL), all deltas taken before any update:
//!   dA = (p − onehot(y))/B                      [B, C]
//!   d_{L−1} = (dA·W_topᵀ) ⊙ h_{L−1}(1 − h_{L−1})
//!   dₖ₋₁ = (dₖ·Wₖᵀ) ⊙ hₖ₋₁(1 − hₖ₋₁)           [B, Hₖ₋₁]
//!   ∂W_top = h_{L−1}ᵀ·dA, ∂Wₖ = hₖ₋₁ᵀ·dₖ, ∂bₖ = Σ_rows dₖ
//! Each update is fused into its GEMM (α = −lr, β = 1) or column sum, as in the dA.

use super::Step;
use super::dense::{self, Dense, DenseMut};
use crate::backend::ops::{GemmCorrupt, LoadBatch, SoftmaxNll};
use crate::backend::{Activation, Backend, Epilogue, GemmSpec, Noise};
use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::model::autoencoder::{INIT_STREAM, Workspace};
use crate::model::logistic::Logistic;
use crate::model::{Autoencoder, AutoencoderConfig};
use crate::rng::RngKey;

/// Shape of a stacked autoencoder and the corruption of each layer's dA.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SdaConfig {
    /// Inputs I (784 for MNIST).
    pub n_in: usize,
    /// Hidden units of each sigmoid layer, bottom first.
    pub hidden: Vec<usize>,
    /// Masking-noise level of each layer's dA, in [0, 1]; one per hidden layer (0 for cA
    /// layers).
    pub corruption: Vec<f32>,
    /// Classes C.
    pub n_out: usize,
    /// What each hidden layer is pretrained as (runs written before stacked cAs existed are
    /// dAs).
    #[serde(default)]
    pub layer: LayerKind,
    /// Weight λ of each cA layer's contractive penalty (0 for dA layers).
    #[serde(default)]
    pub contraction: f32,
}

/// The autoencoder each hidden layer of a stack is pretrained as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerKind {
    /// A denoising autoencoder with its layer's masking noise (SdA.py).
    #[default]
    Da,
    /// A contractive autoencoder without corruption, penalty weight `SdaConfig::contraction`.
    Cae,
}

impl SdaConfig {
    /// Inputs of hidden layer k: n_in for k = 0, hidden[k − 1] above.
    pub fn layer_inputs(&self, k: usize) -> usize {
        if k == 0 { self.n_in } else { self.hidden[k - 1] }
    }

    /// The autoencoder hidden layer k is pretrained as: its dA, or its cA.
    pub fn layer(&self, k: usize) -> AutoencoderConfig {
        let (noise, contraction) = match self.layer {
            LayerKind::Da => (Noise::Mask { p: self.corruption[k] }, 0.0),
            LayerKind::Cae => (Noise::None, self.contraction),
        };
        AutoencoderConfig {
            n_vis: self.layer_inputs(k),
            n_hid: self.hidden[k],
            noise,
            contraction,
            ..Default::default()
        }
    }

    /// Units of the top hidden layer (the softmax layer's inputs).
    pub fn top_inputs(&self) -> usize {
        self.hidden.last().copied().unwrap_or(self.n_in)
    }
}

/// What is fine-tuned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FinetuneScope {
    /// Every layer: the sigmoid layers' W, b and the softmax layer (the tutorial).
    Full,
    /// The softmax layer only; the pretrained layers stay fixed.
    Top,
}

/// Host copies of the classifier's parameters: (Wₖ: [Hₖ₋₁, Hₖ], bₖ: [Hₖ]) per hidden layer,
/// then (W_top: [H_{L−1}, C], b_top: [C]).
#[derive(Clone, Debug, PartialEq)]
pub struct SdaParams {
    /// (W, b) of each hidden layer, bottom first.
    pub layers: Vec<(Vec<f32>, Vec<f32>)>,
    /// (W, b) of the softmax layer.
    pub top: (Vec<f32>, Vec<f32>),
}

impl SdaParams {
    /// Adds the parameters to `ck` as `{prefix}layer{k}.W` [Hₖ₋₁, Hₖ], `{prefix}layer{k}.b`
    /// [Hₖ], `{prefix}top.W` [H_{L−1}, C] and `{prefix}top.b` [C] (prefix "" or "best.").
    pub fn save_to(&self, config: &SdaConfig, ck: &mut Checkpoint, prefix: &str) {
        for (k, (w, b)) in self.layers.iter().enumerate() {
            let (v, h) = (config.layer_inputs(k), config.hidden[k]);
            ck.put(format!("{prefix}layer{k}.W"), &[v, h], w.clone());
            ck.put(format!("{prefix}layer{k}.b"), &[h], b.clone());
        }
        let (w, b) = &self.top;
        ck.put(format!("{prefix}top.W"), &[config.top_inputs(), config.n_out], w.clone());
        ck.put(format!("{prefix}top.b"), &[config.n_out], b.clone());
    }

    /// The parameters `save_to` wrote under `prefix`, shapes checked against `config`.
    pub fn load_from(
        config: &SdaConfig,
        ck: &Checkpoint,
        prefix: &str,
    ) -> Result<Self, CheckpointError> {
        let layers = (0..config.hidden.len())
            .map(|k| {
                let (v, h) = (config.layer_inputs(k), config.hidden[k]);
                let w = ck.tensor(&format!("{prefix}layer{k}.W"), &[v, h])?;
                let b = ck.tensor(&format!("{prefix}layer{k}.b"), &[h])?;
                Ok((w.to_vec(), b.to_vec()))
            })
            .collect::<Result<Vec<_>, CheckpointError>>()?;
        let (i, c) = (config.top_inputs(), config.n_out);
        let w = ck.tensor(&format!("{prefix}top.W"), &[i, c])?.to_vec();
        let b = ck.tensor(&format!("{prefix}top.b"), &[c])?.to_vec();
        Ok(SdaParams { layers, top: (w, b) })
    }
}

/// A stacked denoising autoencoder living on the backend.
pub struct Sda<B: Backend> {
    /// Shape and corruption levels.
    pub config: SdaConfig,
    /// One dA per hidden layer; its W, b are the sigmoid layer's.
    pub layers: Vec<Autoencoder<B>>,
    /// The softmax layer.
    pub top: Logistic<B>,
}

/// Activations and deltas of a forward (and backward) pass over up to `rows` examples,
/// allocated once, and the per-step (or per-chunk) logs of the NLL and the error count.
pub struct SdaWorkspace<B: Backend> {
    rows: usize,
    /// Clean batch x: [B, I].
    x: B::Tensor,
    /// `LoadBatch`'s second output, x again (the classifier does not corrupt): [B, I].
    x_copy: B::Tensor,
    /// hₖ: [B, Hₖ].
    h: Vec<B::Tensor>,
    /// Logits a: [B, C].
    logits: B::Tensor,
    /// dA = (p − onehot(y))·scale: [B, C].
    dlogits: B::Tensor,
    /// dₖ: [B, Hₖ] (empty in an evaluation workspace).
    deltas: Vec<B::Tensor>,
    /// Batch-mean NLLs, one slot per step or evaluation chunk: [slots].
    costs: B::Tensor,
    /// Error counts, one slot per step or evaluation chunk: [slots].
    errors: B::Tensor,
}

impl<B: Backend> SdaWorkspace<B> {
    /// Rows this workspace holds.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The per-step (per-chunk) batch-mean NLLs, [slots].
    pub fn costs(&self) -> &B::Tensor {
        &self.costs
    }

    /// The per-step (per-chunk) error counts, [slots].
    pub fn errors(&self) -> &B::Tensor {
        &self.errors
    }

    /// x: [rows, I] = images[first .. first + rows]/255, without noise.
    fn load(&mut self, be: &B, images: &B::Images, first: usize, rows: usize) {
        be.run(LoadBatch {
            x: &mut self.x,
            x_tilde: &mut self.x_copy,
            images,
            first,
            rows,
            noise: Noise::None,
            key: RngKey::UNUSED,
            standardise: None,
        });
    }
}

/// h = σ(x·W + b): [rows, H] for the sigmoid layer of `layer` (W: [V, H]).
fn sigmoid_layer<B: Backend>(
    be: &B,
    layer: &Autoencoder<B>,
    out: &mut B::Tensor,
    x: &B::Tensor,
    rows: usize,
) {
    let (n_in, n_out) = (layer.config.n_vis, layer.config.n_hid);
    let dense = Dense { w: &layer.w, b: &layer.b, n_in, n_out };
    dense::forward(be, dense, Activation::Sigmoid, out, x, rows);
}

/// h₀ = σ(x·W₀ + b₀): [rows, H₀] for the first sigmoid layer `layer`, with x: [rows, I] =
/// images[first .. first + rows]/255 loaded into `ws` by the same op, without noise.
fn load_first_layer<B: Backend>(
    be: &B,
    layer: &Autoencoder<B>,
    x: (&mut B::Tensor, &mut B::Tensor),
    out: &mut B::Tensor,
    batch: (&B::Images, usize, usize),
) {
    layer.load_and_encode(be, out, x, batch, (Noise::None, RngKey::UNUSED));
}

impl<B: Backend> Sda<B> {
    /// The tutorial's initialisation: each hidden layer as a dA (`Autoencoder::new_in_stream`,
    /// layer k drawing from host stream `INIT_STREAM + k` of `seed`), the softmax layer at 0.
    pub fn new(be: &B, config: SdaConfig, seed: u64) -> Self {
        assert_eq!(config.hidden.len(), config.corruption.len(), "one corruption per layer");
        let layers = (0..config.hidden.len())
            .map(|k| Autoencoder::new_in_stream(be, config.layer(k), seed, INIT_STREAM + k as u64))
            .collect();
        let top = Logistic::zeros(be, config.top_inputs(), config.n_out);
        Sda { config, layers, top }
    }

    /// A network with the given classifier parameters (each dA's b′ = 0).
    pub fn from_host(be: &B, config: SdaConfig, params: &SdaParams) -> Self {
        assert_eq!(params.layers.len(), config.hidden.len(), "one (W, b) per hidden layer");
        let layers = params
            .layers
            .iter()
            .enumerate()
            .map(|(k, (w, b))| {
                let c = config.layer(k);
                let b_prime = vec![0.0; c.n_vis];
                Autoencoder::from_host(be, c, w, b, &b_prime)
            })
            .collect();
        let (w, b) = &params.top;
        let top = Logistic::from_host(be, config.top_inputs(), config.n_out, w, b);
        Sda { config, layers, top }
    }

    /// Adds the network to `ck`: `SdaParams::save_to` with prefix "" and each dA's visible bias
    /// as `layer{k}.b_prime` [Hₖ₋₁] (pretraining state, not part of the classifier).
    pub fn save_to(&self, be: &B, ck: &mut Checkpoint) {
        self.params(be).save_to(&self.config, ck, "");
        for (k, layer) in self.layers.iter().enumerate() {
            ck.put(format!("layer{k}.b_prime"), &[layer.config.n_vis], be.download(&layer.b_prime));
        }
    }

    /// The network `save_to` wrote, shapes checked against `config`.
    pub fn load_from(be: &B, config: SdaConfig, ck: &Checkpoint) -> Result<Self, CheckpointError> {
        let layers = (0..config.hidden.len())
            .map(|k| Autoencoder::load_from(be, config.layer(k), ck, &format!("layer{k}")))
            .collect::<Result<Vec<_>, CheckpointError>>()?;
        let (i, c) = (config.top_inputs(), config.n_out);
        let w = ck.tensor("top.W", &[i, c])?;
        let b = ck.tensor("top.b", &[c])?;
        let top = Logistic::from_host(be, i, c, w, b);
        Ok(Sda { config, layers, top })
    }

    /// The output of hidden layer `layer` for images[first .. first + rows] (rows ≤ ws.rows()),
    /// without noise: h_layer: [rows, H_layer] on the host (what `gpu-dae encode` writes).
    pub fn encode(
        &self,
        be: &B,
        ws: &mut SdaWorkspace<B>,
        images: &B::Images,
        first: usize,
        rows: usize,
        layer: usize,
    ) -> Vec<f32> {
        self.forward(be, ws, images, first, rows);
        let mut code = be.download(&ws.h[layer]);
        code.truncate(rows * self.config.hidden[layer]);
        code
    }

    /// A workspace for training steps on batches of `rows` (forward and backward), with
    /// `slots` slots of per-step logs.
    pub fn workspace(&self, be: &B, rows: usize, slots: usize) -> SdaWorkspace<B> {
        let mut ws = self.eval_workspace(be, rows, slots);
        ws.deltas = self.config.hidden.iter().map(|&h| be.zeros(rows * h)).collect();
        ws
    }

    /// A forward-only workspace for evaluating up to `rows` examples at a time, with `slots`
    /// slots of per-chunk logs.
    pub fn eval_workspace(&self, be: &B, rows: usize, slots: usize) -> SdaWorkspace<B> {
        let c = &self.config;
        SdaWorkspace {
            rows,
            x: be.zeros(rows * c.n_in),
            x_copy: be.zeros(rows * c.n_in),
            h: c.hidden.iter().map(|&h| be.zeros(rows * h)).collect(),
            logits: be.zeros(rows * c.n_out),
            dlogits: be.zeros(rows * c.n_out),
            deltas: Vec::new(),
            costs: be.zeros(slots.max(1)),
            errors: be.zeros(slots.max(1)),
        }
    }

    /// A workspace for pretraining hidden layer k's dA on batches of `rows`, with `slots` slots
    /// of per-step costs.
    pub fn layer_workspace(&self, be: &B, k: usize, rows: usize, slots: usize) -> Workspace<B> {
        self.layers[k].workspace_with_slots(be, rows, slots)
    }

    /// One pretraining step of hidden layer k's dA on images[step.first .. + ws.rows()]: its
    /// input is the clean output of the layers below (hₖ₋₁, computed into `dws`'s input), which
    /// it corrupts with the draw `step.key`; writes the batch-mean reconstruction cost into slot
    /// `step.slot` of `dws`'s logs and updates Wₖ, bₖ, b′ₖ with rate `step.lr`. Layer 0 takes
    /// the fused load + corrupt.
    pub fn pretrain_step(
        &mut self,
        be: &B,
        k: usize,
        ws: &mut SdaWorkspace<B>,
        dws: &mut Workspace<B>,
        images: &B::Images,
        step: Step,
    ) {
        let rows = ws.rows;
        let (below, rest) = self.layers.split_at_mut(k);
        let layer = &mut rest[0];
        let Some((last, lower)) = below.split_last() else {
            layer.train_step(be, dws, images, step);
            return;
        };
        // x: [B, I] loaded with h₀ = σ(xW₀ + b₀); hⱼ = σ(hⱼ₋₁Wⱼ + bⱼ) for j < k − 1, then
        // hₖ₋₁ straight into the dA's input
        let batch = (images, step.first, rows);
        let (x, x_copy) = (&mut ws.x, &mut ws.x_copy);
        let Some((first, middle)) = lower.split_first() else {
            load_first_layer(be, last, (x, x_copy), dws.input_mut(), batch);
            return layer.train_step_on_input(be, dws, step);
        };
        load_first_layer(be, first, (x, x_copy), &mut ws.h[0], batch);
        for (j, lj) in middle.iter().enumerate() {
            let (done, todo) = ws.h.split_at_mut(j + 1);
            sigmoid_layer(be, lj, &mut todo[0], &done[j], rows);
        }
        // hₖ₋₁ and its corruption x̃ (the dA's noise, its draw) in one op
        let (n_in, n_out) = (last.config.n_vis, last.config.n_hid);
        let (input, corrupted) = dws.input_and_corrupted_mut();
        be.run(GemmCorrupt {
            c: input,
            x_tilde: corrupted,
            a: &ws.h[k - 2],
            b: &last.w,
            spec: GemmSpec::new(rows, n_out, n_in),
            epilogue: Epilogue::BiasAct { bias: &last.b, act: Activation::Sigmoid },
            noise: layer.noise(),
            key: step.key,
        });
        layer.train_step_on_corrupted_input(be, dws, step);
    }

    /// Forward pass over images[first .. first + rows] (rows ≤ ws.rows()): every hₖ and the
    /// logits.
    pub fn forward(
        &self,
        be: &B,
        ws: &mut SdaWorkspace<B>,
        images: &B::Images,
        first: usize,
        rows: usize,
    ) {
        assert!(rows <= ws.rows, "forward: {rows} rows in a workspace of {}", ws.rows);
        // x: [B, I] loaded with h₀ = σ(xW₀ + b₀) (x alone without hidden layers);
        // hₖ = σ(hₖ₋₁Wₖ + bₖ): [B, Hₖ]
        match self.layers.split_first() {
            None => ws.load(be, images, first, rows),
            Some((first_layer, upper)) => {
                let (x, x_copy) = (&mut ws.x, &mut ws.x_copy);
                let batch = (images, first, rows);
                load_first_layer(be, first_layer, (x, x_copy), &mut ws.h[0], batch);
                for (j, layer) in upper.iter().enumerate() {
                    let (done, todo) = ws.h.split_at_mut(j + 1);
                    sigmoid_layer(be, layer, &mut todo[0], &done[j], rows);
                }
            }
        }
        // a = h_{L−1}W_top + b_top: [B, C]
        let top_in = ws.h.last().unwrap_or(&ws.x);
        self.top.forward(be, &mut ws.logits, top_in, rows);
    }

    /// One fine-tuning SGD step on images[step.first .. + ws.rows()] with the same labels:
    /// writes the batch-mean NLL and the batch's error count into slot `step.slot` of the
    /// workspace's logs; updates the softmax layer and, for `FinetuneScope::Full`, every hidden
    /// layer's W, b with rate `step.lr` (`step.key` is not used).
    pub fn finetune_step(
        &mut self,
        be: &B,
        ws: &mut SdaWorkspace<B>,
        images: &B::Images,
        labels: &B::Labels,
        step: Step,
        scope: FinetuneScope,
    ) {
        let (rows, first, lr) = (ws.rows, step.first, step.lr);
        assert_eq!(ws.deltas.len(), self.layers.len(), "finetune_step needs a training workspace");
        self.forward(be, ws, images, first, rows);
        // dA = (softmax(a) − onehot(y))/B; costs[slot] = mean NLL; errors[slot] = #wrong
        self.softmax_nll(be, ws, labels, first, rows, step.slot);
        let full = scope == FinetuneScope::Full && !self.layers.is_empty();
        let top_in = ws.h.last().unwrap_or(&ws.x);
        // d_{L−1} = (dA·W_topᵀ) ⊙ σ'; W_top −= lr·h_{L−1}ᵀ·dA; b_top −= lr·Σ dA
        let d_top = if full { ws.deltas.last_mut() } else { None };
        self.top.backward_update(be, &ws.dlogits, top_in, rows, lr, d_top);
        if !full {
            return;
        }
        for (k, layer) in self.layers.iter_mut().enumerate().rev() {
            let (n_in, n_out) = (layer.config.n_vis, layer.config.n_hid);
            let (lower, upper) = ws.deltas.split_at_mut(k);
            let input = if k == 0 { &ws.x } else { &ws.h[k - 1] };
            // dₖ₋₁ = (dₖ·Wₖᵀ) ⊙ hₖ₋₁(1 − hₖ₋₁): [B, Hₖ₋₁], before Wₖ changes; then
            // Wₖ −= lr·hₖ₋₁ᵀ·dₖ: [Hₖ₋₁, Hₖ]; bₖ −= lr·Σ dₖ
            let dense = DenseMut { w: &mut layer.w, b: &mut layer.b, n_in, n_out };
            dense::backward_update(be, dense, &upper[0], input, (rows, lr), lower.last_mut());
        }
    }

    /// dlogits = (softmax(a) − onehot(y))/rows; costs[slot] = the mean NLL and errors[slot] the
    /// error count of the `rows` examples from `first` whose logits `forward` left in `ws`.
    fn softmax_nll(
        &self,
        be: &B,
        ws: &mut SdaWorkspace<B>,
        labels: &B::Labels,
        first: usize,
        rows: usize,
        slot: usize,
    ) {
        be.run(SoftmaxNll {
            grad: &mut ws.dlogits,
            costs: &mut ws.costs,
            errors: &mut ws.errors,
            slot,
            logits: &ws.logits,
            labels,
            first,
            rows,
            classes: self.config.n_out,
            scale: 1.0 / rows as f32,
        });
    }

    /// The error count over examples [0, n) of (images, labels), in chunks of ws.rows(): chunk
    /// c's count lands in slot c of the workspace's error log (and its mean NLL in its cost
    /// log), on the device, so one `download` of `ws.errors()` reads a whole evaluation. The
    /// workspace needs ⌈n / ws.rows()⌉ slots. Returns the number of chunks.
    pub fn evaluate(
        &self,
        be: &B,
        ws: &mut SdaWorkspace<B>,
        images: &B::Images,
        labels: &B::Labels,
        n: usize,
    ) -> usize {
        let chunks = n.div_ceil(ws.rows);
        for chunk in 0..chunks {
            let first = chunk * ws.rows;
            let rows = ws.rows.min(n - first);
            self.forward(be, ws, images, first, rows);
            self.softmax_nll(be, ws, labels, first, rows, chunk);
        }
        chunks
    }

    /// Host copies of the classifier's parameters.
    pub fn params(&self, be: &B) -> SdaParams {
        SdaParams {
            layers: self.layers.iter().map(|l| (be.download(&l.w), be.download(&l.b))).collect(),
            top: self.top.download(be),
        }
    }
}
