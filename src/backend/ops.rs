//! The op set: one struct per op, its operands as named fields, run by every backend
//! (`be.run(Gemm { c, a, b, spec, epilogue })`). Each op's stem names its struct (in snake
//! case), its CPU twin (`backend::cpu::<stem>`), its kernel (`shaders/<stem>.wgsl`, entry point
//! `<stem>`), its GPU-vs-CPU test (`tests/gpu_vs_cpu.rs`, `<stem>_…`) and its bench case
//! (`benches/kernels.rs`, `"<stem> …"`).
//!
//! Conventions: tensors (`T`) are flat f32 arrays holding row-major matrices, whose shapes are
//! the op's fields; outputs come first, then inputs, then dimensions and scalars. An op reads
//! and writes only the first elements its shape covers (a tensor may be longer). `costs[slot]`
//! style outputs write one element of a per-step log, leaving the others as they were.
//! Reductions are deterministic on every backend: a fixed order, no float atomics.

use super::{Activation, Epilogue, GemmSpec, Noise, Op};
use crate::rng::RngKey;

/// One minibatch, clean and corrupted, in one pass over its pixels (a batch is an offset into
/// the device-resident image set, as Theano's `givens` were):
/// - x: [rows, dim] = images[first .. first + rows] · (1/255), the product with the f32
///   constant 1/255 (correctly rounded everywhere, so every backend loads the same bits);
/// - x̃: [rows, dim] = `noise` applied to x element-wise, element i (counted from the batch's
///   first pixel) drawing `RngKey::bits(i)` of `key` (see `Noise`);
/// - with `standardise` = [mean, std], x is then standardised as x·mul + add with
///   (mul, add) = `standardising(standardise)` (an `Affine`), and x̃ is the noise of the
///   standardised x — except salt and pepper, whose 0s and 1s are pixel extremes: that noise
///   corrupts the pixels and x̃ is standardised like x.
pub struct LoadBatch<'a, T, I> {
    /// Clean batch: [rows, dim].
    pub x: &'a mut T,
    /// Corrupted batch: [rows, dim].
    pub x_tilde: &'a mut T,
    /// The image set: [n, dim] u8.
    pub images: &'a I,
    /// Index of the batch's first image.
    pub first: usize,
    /// Images in the batch.
    pub rows: usize,
    /// The corruption of x̃.
    pub noise: Noise,
    /// The draw of this corruption.
    pub key: RngKey,
    /// The data set's pixel [mean, std] (after /255) to standardise by; None keeps x ∈ [0, 1].
    pub standardise: Option<[f32; 2]>,
}

/// The (mul, add) of `LoadBatch`'s standardising, x·mul + add = (x − mean)/std: (1/std,
/// −mean/std), or (1, 0) without it (x·1 + 0 is x exactly).
pub fn standardising(standardise: Option<[f32; 2]>) -> (f32, f32) {
    standardise.map_or((1.0, 0.0), |[mean, std]| (1.0 / std, -mean / std))
}

impl<T, I> Op for LoadBatch<'_, T, I> {
    const STEM: &'static str = "load_batch";
}

/// A minibatch loaded and multiplied in one op: `LoadBatch { x, x_tilde, images, first, rows:
/// spec.m, noise, key, standardise }` then `Gemm { c, a: x̃, b, spec, epilogue }`, with x̃: [m, k] not
/// transposed (k = the images' dim): the encoder of a dA (or a stack's first layer) reading
/// the pixels itself. On the GPU at a minibatch (the rows kernel, k a multiple of 4, a
/// `BiasAct` epilogue) one dispatch whose loader decodes and corrupts the pixels and writes x
/// and x̃ on the way; otherwise, and on the CPU, the two ops, with their bits.
pub struct LoadGemm<'a, T, I> {
    /// C: [m, n].
    pub c: &'a mut T,
    /// Clean batch: [m, k].
    pub x: &'a mut T,
    /// Corrupted batch, the product's A: [m, k].
    pub x_tilde: &'a mut T,
    /// The image set: [n_images, k] u8.
    pub images: &'a I,
    /// B: [k, n], or [n, k] with `spec.trans_b`.
    pub b: &'a T,
    /// Index of the batch's first image.
    pub first: usize,
    /// Shape (m = the batch's images, k = their dim), B's transpose, α and β; A not transposed.
    pub spec: GemmSpec,
    /// What is done to each element of C afterwards.
    pub epilogue: Epilogue<'a, T>,
    /// The corruption of x̃.
    pub noise: Noise,
    /// The draw of this corruption.
    pub key: RngKey,
    /// `LoadBatch::standardise`.
    pub standardise: Option<[f32; 2]>,
}

impl<T, I> Op for LoadGemm<'_, T, I> {
    const STEM: &'static str = "load_gemm";
}

impl<'a, T, I> LoadGemm<'a, T, I> {
    /// The op as its two ops, each given to `load` and `gemm` in order.
    pub fn run_as_ops(
        self,
        load: impl FnOnce(LoadBatch<'_, T, I>),
        gemm: impl FnOnce(Gemm<'_, T>),
    ) {
        let LoadGemm { c, x, x_tilde, images, b, first, spec, epilogue, noise, key, standardise } =
            self;
        assert!(!spec.trans_a, "load_gemm: A is the batch [m, k], not transposed");
        let (x_tilde_ref, rows) = (&mut *x_tilde, spec.m);
        load(LoadBatch { x, x_tilde: x_tilde_ref, images, first, rows, noise, key, standardise });
        gemm(Gemm { c, a: &*x_tilde, b, spec, epilogue });
    }
}

/// A layer's output and its corrupted copy in one op: `Gemm { c, a, b, spec, epilogue }` then
/// `Corrupt { x_tilde, x: c, len: m·n, noise, key }`: the last layer below a stacked dA's
/// upper layer, writing that layer's clean input and its x̃. On the GPU at a minibatch (the
/// rows kernel, a `BiasAct` epilogue) one dispatch; otherwise, and on the CPU, the two ops,
/// with their bits.
pub struct GemmCorrupt<'a, T> {
    /// C: [m, n].
    pub c: &'a mut T,
    /// noise(C): [m, n].
    pub x_tilde: &'a mut T,
    /// A: [m, k], or [k, m] with `spec.trans_a`.
    pub a: &'a T,
    /// B: [k, n], or [n, k] with `spec.trans_b`.
    pub b: &'a T,
    /// Shape, transposes, α and β.
    pub spec: GemmSpec,
    /// What is done to each element of C before its corruption.
    pub epilogue: Epilogue<'a, T>,
    /// The corruption.
    pub noise: Noise,
    /// The draw of this corruption.
    pub key: RngKey,
}

impl<T> Op for GemmCorrupt<'_, T> {
    const STEM: &'static str = "gemm_corrupt";
}

impl<'a, T> GemmCorrupt<'a, T> {
    /// The op as its two ops, each given to `gemm` and `corrupt` in order.
    pub fn run_as_ops(self, gemm: impl FnOnce(Gemm<'_, T>), corrupt: impl FnOnce(Corrupt<'_, T>)) {
        let GemmCorrupt { c, x_tilde, a, b, spec, epilogue, noise, key } = self;
        gemm(Gemm { c: &mut *c, a, b, spec, epilogue });
        corrupt(Corrupt { x_tilde, x: &*c, len: spec.m * spec.n, noise, key });
    }
}

/// Corruption of a tensor (the input of a stacked dA's upper layer, the clean output of the
/// layers below): x̃[i] = `noise` applied to x[i] for i < len, element i drawing
/// `RngKey::bits(i)` of `key` exactly as `LoadBatch` does, so the masks are the same bits on
/// every backend.
pub struct Corrupt<'a, T> {
    /// x̃: [len].
    pub x_tilde: &'a mut T,
    /// x: [len].
    pub x: &'a T,
    /// Elements.
    pub len: usize,
    /// The corruption.
    pub noise: Noise,
    /// The draw of this corruption.
    pub key: RngKey,
}

impl<T> Op for Corrupt<'_, T> {
    const STEM: &'static str = "corrupt";
}

/// C = epilogue(α·op(A)·op(B) + β·C), see `GemmSpec` and `Epilogue`. With α = −lr, β = 1 it is
/// the fused SGD weight update.
pub struct Gemm<'a, T> {
    /// C: [m, n].
    pub c: &'a mut T,
    /// A: [m, k], or [k, m] with `spec.trans_a`.
    pub a: &'a T,
    /// B: [k, n], or [n, k] with `spec.trans_b`.
    pub b: &'a T,
    /// Shape, transposes, α and β.
    pub spec: GemmSpec,
    /// What is done to each element of C afterwards.
    pub epilogue: Epilogue<'a, T>,
}

impl<T> Op for Gemm<'_, T> {
    const STEM: &'static str = "gemm";

    /// The GEMM's use, by its transposes and epilogue.
    fn label(&self) -> &'static str {
        match (self.spec.trans_a, self.spec.trans_b, &self.epilogue) {
            (false, false, Epilogue::BiasAct { .. }) => "gemm A·B + bias/act",
            (false, true, Epilogue::BiasAct { .. }) => "gemm A·Bᵀ + bias/act",
            (false, true, Epilogue::ActGrad { .. }) => "gemm A·Bᵀ ⊙ act'",
            (false, false, Epilogue::ActGrad { .. }) => "gemm A·B ⊙ act'",
            (true, false, _) => "gemm Aᵀ·B (update)",
            _ => "gemm (other)",
        }
    }
}

/// C = α·(op(A₁)·op(B₁) + op(A₂)·op(B₂)) + β·C: two products summed in one pass over C. Both
/// pairs use `spec`'s transposes and output shape [m, n]; the first pair's inner dimension is
/// `spec.k`, the second's `k2`. With α = −lr, β = 1 it is the tied-weight SGD update
/// W −= lr·(x̃ᵀ·dH + dAᵀ·h) in one GEMM (one dispatch on the GPU, one sweep of W on the CPU).
pub struct GemmSum<'a, T> {
    /// C: [m, n].
    pub c: &'a mut T,
    /// A₁: [m, k] or [k, m].
    pub a1: &'a T,
    /// B₁: [k, n] or [n, k].
    pub b1: &'a T,
    /// A₂: [m, k2] or [k2, m].
    pub a2: &'a T,
    /// B₂: [k2, n] or [n, k2].
    pub b2: &'a T,
    /// Shape of the first pair and of C, transposes, α and β.
    pub spec: GemmSpec,
    /// Inner dimension of the second pair.
    pub k2: usize,
    /// The bias updates folded into the same pass, if any.
    pub biases: Option<SumBiases<'a, T>>,
}

/// The tied dA's bias updates folded into its `GemmSum` (W −= lr·(x̃ᵀ·dH + dAᵀ·h)): with A₂
/// stored [k2, m] and B₁ stored [k, n] (`spec.trans_a`, not `spec.trans_b`), and the spec's α,
/// - cols[j] += α·Σₖ B₁[k, j]   (b −= lr·Σ_rows dH), and
/// - rows[i] += α·Σₖ A₂[k, i]   (b′ −= lr·Σ_rows dA),
///
/// each sum as `ColSum` with β = 1 computes it: in k's order on the CPU and in the GPU's outer
/// and tiled kernels, which update the biases in the same pass; for an empty C the GPU runs its
/// `ColSum`, which adds in its own fixed order.
pub struct SumBiases<'a, T> {
    /// cols: [n], the bias of B₁'s columns.
    pub cols: &'a mut T,
    /// rows: [m], the bias of A₂'s columns (C's rows).
    pub rows: &'a mut T,
}

impl<T> Op for GemmSum<'_, T> {
    const STEM: &'static str = "gemm_sum";

    fn label(&self) -> &'static str {
        match (self.spec.trans_a, self.spec.trans_b) {
            (true, false) => "gemm_sum Aᵀ·B + Aᵀ·B (update)",
            _ => "gemm_sum (other)",
        }
    }
}

/// A dense layer's backward pass fused with its SGD update, one sweep of W: with W: [I, O],
/// b: [O], the delta d: [rows, O] of the layer's pre-activation and its input x: [rows, I]
/// (the output of the layer below, computed by `act`),
/// - dx = (d·Wᵀ) ⊙ act′(x): [rows, I], with W before its update (the delta of the layer below);
/// - W −= lr·xᵀ·d and b −= lr·Σ_rows d.
///
/// Exactly `Gemm { c: dx, a: d, b: W, spec: [rows, I, O] trans_b, ActGrad }` followed by
/// `Gemm { c: W, a: x, b: d, spec: [I, O, rows] trans_a, α = −lr, β = 1, BiasUpdate }`: the
/// CPU computes the same bits either way; the GPU's kernel for batches ≤ 4 reads each row
/// of W from memory once and writes it once (the two GEMMs read it twice and write it once).
pub struct DenseUpdate<'a, T> {
    /// dx: [rows, I].
    pub dx: &'a mut T,
    /// W: [I, O].
    pub w: &'a mut T,
    /// b: [O].
    pub bias: &'a mut T,
    /// d: [rows, O].
    pub d: &'a T,
    /// x: [rows, I].
    pub x: &'a T,
    /// Rows (examples).
    pub rows: usize,
    /// Inputs I.
    pub n_in: usize,
    /// Outputs O.
    pub n_out: usize,
    /// The SGD step.
    pub lr: f32,
    /// The activation x is the output of.
    pub act: Activation,
}

impl<T> Op for DenseUpdate<'_, T> {
    const STEM: &'static str = "dense_update";
}

impl<T> DenseUpdate<'_, T> {
    /// The specs of the two GEMMs that define the op: the backward product [rows, I, O] with W
    /// transposed, and the update [I, O, rows] with x transposed, α = −lr, β = 1.
    pub fn gemm_specs(&self) -> (GemmSpec, GemmSpec) {
        let (rows, n_in, n_out) = (self.rows, self.n_in, self.n_out);
        let backward = GemmSpec::new(rows, n_in, n_out).trans_b();
        (backward, GemmSpec::new(n_in, n_out, rows).trans_a().scaled(-self.lr, 1.0))
    }

    /// Runs the op as the two GEMMs that define it, in order, through `run`.
    pub fn run_as_gemms(self, mut run: impl FnMut(Gemm<'_, T>)) {
        let (backward, update) = self.gemm_specs();
        let DenseUpdate { dx, w, bias, d, x, act, .. } = self;
        let epilogue = Epilogue::ActGrad { out: x, act };
        run(Gemm { c: dx, a: d, b: &*w, spec: backward, epilogue });
        run(Gemm { c: w, a: x, b: d, spec: update, epilogue: Epilogue::BiasUpdate { bias } });
    }
}

/// Cross-entropy from logits with its gradient, fused. With a = logits, x = target, both
/// [rows, cols], and z = σ(a):
/// - grad = (z − x)·scale  (∂/∂a of the cost below, for scale = 1/rows);
/// - costs[slot] = scale·Σ_rows Σ_k [softplus(a) − x·a], which equals
///   −Σ[x log z + (1 − x) log(1 − z)] without ever forming log σ.
pub struct XentLogits<'a, T> {
    /// ∂cost/∂a: [rows, cols].
    pub grad: &'a mut T,
    /// The per-step log the cost goes to: [≥ slot + 1].
    pub costs: &'a mut T,
    /// The element of `costs` written.
    pub slot: usize,
    /// a: [rows, cols].
    pub logits: &'a T,
    /// x: [rows, cols], in [0, 1].
    pub target: &'a T,
    /// Rows (examples).
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// The cost's factor (1/rows: the batch mean).
    pub scale: f32,
}

impl<T> Op for XentLogits<'_, T> {
    const STEM: &'static str = "xent_logits";
}

/// A decoder GEMM whose epilogue is the cross-entropy from its logits, with the gradient:
/// `Gemm { c: grad, a, b, spec, epilogue: BiasAct { bias, act: Identity } }` (the logits
/// a = α·op(A)·op(B) + bias: [m, n]) then `XentLogits` over them in place, so grad ends
/// holding (σ(a) − target)·scale and costs[slot] the scaled cost: the tied dA's decoder and
/// loss in one op (one dispatch on the GPU at a minibatch), the same bits on the CPU as the two
/// ops. `spec.beta` must be 0 (grad is not read).
pub struct GemmXent<'a, T> {
    /// ∂cost/∂a: [m, n].
    pub grad: &'a mut T,
    /// The per-step log the cost goes to: [≥ slot + 1].
    pub costs: &'a mut T,
    /// The element of `costs` written.
    pub slot: usize,
    /// A: [m, k], or [k, m] with `spec.trans_a`.
    pub a: &'a T,
    /// B: [k, n], or [n, k] with `spec.trans_b` (the tied decoder's W: [n, k]).
    pub b: &'a T,
    /// Shape, transposes and α (β = 0).
    pub spec: GemmSpec,
    /// The logits' column bias: [n].
    pub bias: &'a T,
    /// x: [m, n], in [0, 1].
    pub target: &'a T,
    /// The cost's factor (1/m: the batch mean).
    pub scale: f32,
}

impl<T> Op for GemmXent<'_, T> {
    const STEM: &'static str = "gemm_xent";
}

/// Squared error with its gradient, fused. With y = the decoder's output, computed by the
/// activation `out` (identity for a linear decoder), and x = target, both [rows, cols]:
/// - grad = (y − x)·scale·out′  (∂/∂ of the pre-activation of ½·the cost below, with out′ =
///   `Activation::grad_from_output(y)`: 1 for a linear output, y(1 − y) for a sigmoid; the
///   ReLU-DAE backpropagates ½E);
/// - costs[slot] = scale·Σ_rows Σ_k (y − x)²  (E = ‖y − x‖² per row; scale = 1/rows gives the
///   batch mean).
pub struct SqErr<'a, T> {
    /// ∂(½·cost)/∂ of the pre-activation: [rows, cols].
    pub grad: &'a mut T,
    /// The per-step log the cost goes to: [≥ slot + 1].
    pub costs: &'a mut T,
    /// The element of `costs` written.
    pub slot: usize,
    /// y: [rows, cols].
    pub y: &'a T,
    /// x: [rows, cols].
    pub target: &'a T,
    /// Rows (examples).
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// The cost's factor (1/rows: the batch mean).
    pub scale: f32,
    /// The activation y is the output of.
    pub out: Activation,
}

impl<T> Op for SqErr<'_, T> {
    const STEM: &'static str = "sq_err";
}

/// A decoder GEMM whose epilogue is the squared error of its output, with the gradient:
/// `Gemm { c: y, a, b, spec, epilogue: BiasAct { bias, act: out } }` (y = out(α·op(A)·op(B) +
/// bias): [m, n]) then `SqErr { grad, y, target, out, .. }` over its m rows and n columns: the
/// ReLU-DAE's decoder and loss in one op (one dispatch on the GPU at a minibatch), the same bits
/// on the CPU as the two ops. `spec.beta` must be 0 (y is not read).
pub struct GemmSqErr<'a, T> {
    /// ∂(½·cost)/∂ of the pre-activation: [m, n].
    pub grad: &'a mut T,
    /// The decoder's output y: [m, n].
    pub y: &'a mut T,
    /// The per-step log the cost goes to: [≥ slot + 1].
    pub costs: &'a mut T,
    /// The element of `costs` written.
    pub slot: usize,
    /// A: [m, k], or [k, m] with `spec.trans_a`.
    pub a: &'a T,
    /// B: [k, n], or [n, k] with `spec.trans_b`.
    pub b: &'a T,
    /// Shape, transposes and α (β = 0).
    pub spec: GemmSpec,
    /// The output's column bias: [n].
    pub bias: &'a T,
    /// The output's activation (identity for the ReLU-DAE's linear decoder).
    pub out: Activation,
    /// x: [m, n].
    pub target: &'a T,
    /// The cost's factor (1/m: the batch mean).
    pub scale: f32,
}

impl<T> Op for GemmSqErr<'_, T> {
    const STEM: &'static str = "gemm_sq_err";
}

impl<'a, T> GemmSqErr<'a, T> {
    /// The op as its two ops, each given to `gemm` and `sq_err` in order.
    pub fn run_as_ops(self, gemm: impl FnOnce(Gemm<'_, T>), sq_err: impl FnOnce(SqErr<'_, T>)) {
        let GemmSqErr { grad, y, costs, slot, a, b, spec, bias, out, target, scale } = self;
        assert!(spec.beta == 0.0, "gemm_sq_err: β = {} but y is not read", spec.beta);
        let epilogue = Epilogue::BiasAct { bias, act: out };
        gemm(Gemm { c: &mut *y, a, b, spec, epilogue });
        let (rows, cols) = (spec.m, spec.n);
        sq_err(SqErr { grad, costs, slot, y: &*y, target, rows, cols, scale, out });
    }
}

/// out[slot] = scale·#{i < len : a[i] > 0}: with a = a ReLU layer's output and scale = 1/len,
/// the fraction of units that are on (the ReLU-DAE's sparsity). The count is exact (below 2²⁴)
/// on every backend.
pub struct CountPositive<'a, T> {
    /// The per-step log the fraction goes to: [≥ slot + 1].
    pub out: &'a mut T,
    /// The element of `out` written.
    pub slot: usize,
    /// a: [len].
    pub a: &'a T,
    /// Elements.
    pub len: usize,
    /// The count's factor.
    pub scale: f32,
}

impl<T> Op for CountPositive<'_, T> {
    const STEM: &'static str = "count_positive";
}

/// Softmax negative log-likelihood with its gradient and error count, fused. With
/// a = logits: [rows, classes], yᵣ = labels[first + r] (a label set uploaded once and taken by
/// offset, like a batch of images) and pᵣ = softmax(aᵣ) (Bishop 2006, §4.3.4):
/// - grad = (p − onehot(y))·scale  (∂/∂a of the cost below, for scale = 1/rows);
/// - costs[slot] = scale·Σᵣ −log pᵣ,yᵣ, computed stably as
///   Σᵣ (mᵣ + log Σⱼ e^(aᵣⱼ − mᵣ) − aᵣ,yᵣ) with mᵣ = maxⱼ aᵣⱼ (log-sum-exp);
/// - errors[slot] = #{r : argmaxⱼ aᵣⱼ ≠ yᵣ} as an f32 (exact below 2²⁴), the argmax taking the
///   first maximum on ties on every backend.
pub struct SoftmaxNll<'a, T, L> {
    /// ∂cost/∂a: [rows, classes].
    pub grad: &'a mut T,
    /// The per-step log the cost goes to: [≥ slot + 1].
    pub costs: &'a mut T,
    /// The per-step log the error count goes to: [≥ slot + 1].
    pub errors: &'a mut T,
    /// The element of `costs` and `errors` written.
    pub slot: usize,
    /// a: [rows, classes].
    pub logits: &'a T,
    /// The label set: [n], each below `classes`.
    pub labels: &'a L,
    /// Index of the first label.
    pub first: usize,
    /// Rows (examples).
    pub rows: usize,
    /// Classes.
    pub classes: usize,
    /// The cost's factor (1/rows: the batch mean).
    pub scale: f32,
}

impl<T, L> Op for SoftmaxNll<'_, T, L> {
    const STEM: &'static str = "softmax_nll";
}

/// out[j] = α·Σᵢ a[i, j] + β·out[j]. With α = −lr, β = 1 it is the fused SGD update of a bias
/// from its layer's delta; β = 0 never reads out.
pub struct ColSum<'a, T> {
    /// out: [cols].
    pub out: &'a mut T,
    /// a: [rows, cols].
    pub a: &'a T,
    /// Rows of a.
    pub rows: usize,
    /// Columns of a.
    pub cols: usize,
    /// Scale of the sums.
    pub alpha: f32,
    /// Scale of the previous out.
    pub beta: f32,
}

impl<T> Op for ColSum<'_, T> {
    const STEM: &'static str = "col_sum";
}

/// The contractive penalty of a sigmoid layer, its value and gradient, with the SGD step of its
/// weights along the penalty's column-norm path, fused (Rifai et al. 2011; DESIGN.md, cA).
/// With W: [n_vis, cols] the layer's weights (as they come in), h: [rows, cols] its output,
/// sₙⱼ = hₙⱼ(1 − hₙⱼ), cⱼ = Σᵢ Wᵢⱼ² and the penalty P = λ·scale·Σₙ ‖Jₙ‖²_F,
/// ‖Jₙ‖²_F = Σⱼ sₙⱼ² cⱼ (O(B·cols) given c):
/// - col_norms[j] = cⱼ;
/// - dh[n, j] += 2λ·scale·cⱼ·sₙⱼ²·(1 − 2hₙⱼ)  (∂P/∂ of the pre-activation, added to the layer's
///   delta, so the W and b updates that follow carry the penalty's h path);
/// - col_grad[j] = 2λ·scale·Σₙ sₙⱼ²  (∂P/∂Wᵢⱼ through the column norm is col_grad[j]·Wᵢⱼ);
/// - W[i, j] += −lr·col_grad[j]·W[i, j]  (the SGD step along that path; the caller's update
///   adds the rest of W's gradient after this op, and nothing may read W between the two);
/// - jac_sq[slot] = scale·Σₙ ‖Jₙ‖²_F  (the batch-mean squared Jacobian norm for scale = 1/rows).
pub struct Contractive<'a, T> {
    /// The layer's delta, added to: [rows, cols].
    pub dh: &'a mut T,
    /// W: [n_vis, cols], read, then stepped in place.
    pub w: &'a mut T,
    /// c, written: [cols].
    pub col_norms: &'a mut T,
    /// The column-norm path's factor, written: [cols].
    pub col_grad: &'a mut T,
    /// The per-step log the squared Jacobian norm goes to: [≥ slot + 1].
    pub jac_sq: &'a mut T,
    /// The element of `jac_sq` written.
    pub slot: usize,
    /// h: [rows, cols].
    pub h: &'a T,
    /// Rows of W (the layer's inputs).
    pub n_vis: usize,
    /// Rows of h (examples).
    pub rows: usize,
    /// Hidden units.
    pub cols: usize,
    /// The penalty's weight λ.
    pub lambda: f32,
    /// The penalty's factor (1/rows: the batch mean).
    pub scale: f32,
    /// The learning rate of W's step.
    pub lr: f32,
}

impl<T> Op for Contractive<'_, T> {
    const STEM: &'static str = "contractive";
}

/// x[i] = x[i]·mul + add for i < len, in place (a multiply then an add; a driver may fuse them,
/// so backends agree to rounding). Standardising a batch: mul = 1/std, add = −mean/std.
pub struct Affine<'a, T> {
    /// x: [len], in place.
    pub x: &'a mut T,
    /// Elements.
    pub len: usize,
    /// The factor.
    pub mul: f32,
    /// The offset added after the product.
    pub add: f32,
}

impl<T> Op for Affine<'_, T> {
    const STEM: &'static str = "affine";
}
