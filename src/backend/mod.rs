//! The op set every model is written against, and the backends that execute it.
//!
//! A model allocates its parameters and workspaces as backend tensors and calls these ops; the
//! CPU backend executes each op at once, the GPU backend records it into an open compute pass and
//! submits only when the host must read (`download`). Fused ops (a batch load with its
//! corruption, GEMM epilogues, a GEMM summing two products, a loss with its gradient) are part of
//! the op set, not GPU-only tricks: the CPU twin computes the same thing.
//!
//! Conventions: tensors are flat f32 arrays holding row-major matrices; shapes are given in the
//! op's arguments; outputs come first, then inputs, then dimensions.

pub mod cpu;
pub mod gpu;
mod math;
pub mod timed;

use crate::rng::RngKey;

/// Element-wise activation applied in a GEMM epilogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// f(y) = y
    Identity,
    /// f(y) = σ(y) = 1 / (1 + e^(−y))
    Sigmoid,
    /// f(y) = max(0, y) (the ReLU-DAE's encoder).
    Relu,
}

impl Activation {
    /// f'(y) expressed through the activation's output o = f(y): 1 for identity, o(1 − o) for
    /// the sigmoid, 1 where o > 0 and 0 elsewhere for the ReLU (the mask of the units that are
    /// on; the derivative at 0 is taken as 0).
    #[inline(always)]
    pub fn grad_from_output(self, o: f32) -> f32 {
        match self {
            Activation::Identity => 1.0,
            Activation::Sigmoid => o * (1.0 - o),
            Activation::Relu => {
                if o > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }
}

/// Corruption applied to a clean batch as `load_batch` loads it. Element i of the batch
/// (row-major, counted from the batch's first pixel) draws from `RngKey::bits(i)` of the step's
/// key, so every backend corrupts the same elements the same way. A new kind of noise is a new
/// variant here, in `Cpu::load_batch` and `Cpu::corrupt`, and in shaders/noise.wgsl (encoded by
/// `gpu/noise.rs`).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Noise {
    /// x̃ = x.
    None,
    /// Masking noise (Vincent et al. 2008): each element is zeroed with probability `p`, kept
    /// otherwise: kept iff `bits(i) >> 8 ≥ rng::drop_threshold(p)`, an integer comparison.
    Mask {
        /// Probability of zeroing an element, in [0, 1].
        p: f32,
    },
    /// Additive Gaussian noise: x̃ = x + σ·z, z ~ N(0, 1) by Box–Muller from two uniforms of
    /// element i (`rng::gaussian`: u₁ from bits(i), u₂ from a second hash of it). The uniforms
    /// are bit-identical on every backend; ln and cos are each backend's own (polynomials on the
    /// CPU, the driver's on the GPU), so GPU and CPU agree within a tolerance, not bit for bit.
    Gauss {
        /// Standard deviation σ ≥ 0.
        sigma: f32,
    },
    /// Salt-and-pepper noise (Vincent et al. 2010, "salt-and-pepper noise": each chosen element
    /// is set to the minimum or the maximum of the input range, 0 or 1 here, with equal odds):
    /// with b = bits(i), element i is corrupted iff `b >> 8 < rng::drop_threshold(p)` (masking
    /// noise's comparison, so under the same key the corrupted set is `Mask`'s dropped set)
    /// and then x̃ = `(b & 1) as f32`, the low bit, which the decision's top 24 bits do not
    /// touch; x̃ = x otherwise. One hash and integer comparisons: bit-identical on every backend.
    SaltPepper {
        /// Probability of corrupting an element, in [0, 1].
        p: f32,
    },
}

impl std::fmt::Display for Noise {
    /// The `--noise` spelling: `none`, `mask:P`, `gauss:S`, `salt-pepper:P`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Noise::None => write!(f, "none"),
            Noise::Mask { p } => write!(f, "mask:{p}"),
            Noise::Gauss { sigma } => write!(f, "gauss:{sigma}"),
            Noise::SaltPepper { p } => write!(f, "salt-pepper:{p}"),
        }
    }
}

/// Shape and scaling of one GEMM: C = α·op(A)·op(B) + β·C, then the epilogue.
/// op(A): [m, k] (A is stored [m, k], or [k, m] when `trans_a`); op(B): [k, n] (B is stored
/// [k, n], or [n, k] when `trans_b`); C: [m, n].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GemmSpec {
    /// Rows of op(A) and C.
    pub m: usize,
    /// Columns of op(B) and C.
    pub n: usize,
    /// Inner dimension.
    pub k: usize,
    /// A is stored [k, m] and used transposed (the weight gradient xᵀ·dH).
    pub trans_a: bool,
    /// B is stored [n, k] and used transposed (the tied decoder h·Wᵀ).
    pub trans_b: bool,
    /// Scale of the product; −lr turns the GEMM into a fused SGD weight update.
    pub alpha: f32,
    /// Scale of the previous C: 0 overwrites, 1 accumulates.
    pub beta: f32,
}

impl GemmSpec {
    /// C = op(A)·op(B) with no transposes, α = 1, β = 0.
    pub fn new(m: usize, n: usize, k: usize) -> Self {
        GemmSpec { m, n, k, trans_a: false, trans_b: false, alpha: 1.0, beta: 0.0 }
    }
    /// The same GEMM with A used transposed.
    pub fn trans_a(self) -> Self {
        GemmSpec { trans_a: true, ..self }
    }
    /// The same GEMM with B used transposed.
    pub fn trans_b(self) -> Self {
        GemmSpec { trans_b: true, ..self }
    }
    /// The same GEMM with the given α and β.
    pub fn scaled(self, alpha: f32, beta: f32) -> Self {
        GemmSpec { alpha, beta, ..self }
    }
}

/// What a GEMM does to each element of C after C = α·op(A)·op(B) + β·C.
pub enum Epilogue<'a, T> {
    /// Nothing.
    None,
    /// C[i, j] = act(C[i, j] + bias[j]); bias: [n]. The forward pass of a layer.
    BiasAct {
        /// Per-column bias, [n].
        bias: &'a T,
        /// Activation applied after the bias.
        act: Activation,
    },
    /// C[i, j] *= act'(·) computed from the layer's saved output: C[i, j] · g(out[i, j]) with
    /// g = `Activation::grad_from_output`; out: [m, n]. Backpropagation through an activation.
    ActGrad {
        /// The activation's output saved by the forward pass, [m, n].
        out: &'a T,
        /// The activation whose derivative is applied.
        act: Activation,
    },
}

/// The op set. Each backend implements it; `backend::cpu::Cpu` is the reference.
pub trait Backend {
    /// A flat f32 array living where the backend computes.
    type Tensor;
    /// A set of u8 images living where the backend computes: [n, dim].
    type Images;

    /// A short description for logs and `run.json`, e.g. "cpu (2 threads)".
    fn describe(&self) -> String;

    /// A tensor of `len` zeros.
    fn zeros(&self, len: usize) -> Self::Tensor;
    /// A tensor holding a copy of `host`.
    fn upload(&self, host: &[f32]) -> Self::Tensor;
    /// A host copy of `t` (waits for all recorded work).
    fn download(&self, t: &Self::Tensor) -> Vec<f32>;
    /// Uploads `pixels: [n, dim]` once; batches are then taken by offset with `load_batch`.
    fn upload_images(&self, pixels: &[u8], dim: usize) -> Self::Images;

    /// One minibatch, clean and corrupted, in one pass over its pixels (a batch is an offset
    /// into the device-resident image set, as Theano's `givens` were):
    /// - x: [rows, dim] = images[first .. first + rows] · (1/255), the product with the f32
    ///   constant 1/255 (correctly rounded everywhere, so every backend loads the same bits);
    /// - x̃: [rows, dim] = `noise` applied to x element-wise, drawn under `key` (see `Noise`):
    ///   the same bits on every backend.
    #[allow(clippy::too_many_arguments)]
    fn load_batch(
        &self,
        x: &mut Self::Tensor,
        x_tilde: &mut Self::Tensor,
        images: &Self::Images,
        first: usize,
        rows: usize,
        noise: Noise,
        key: RngKey,
    );

    /// C = epilogue(α·op(A)·op(B) + β·C), see `GemmSpec` and `Epilogue`.
    fn gemm(
        &self,
        c: &mut Self::Tensor,
        a: &Self::Tensor,
        b: &Self::Tensor,
        spec: GemmSpec,
        epilogue: Epilogue<'_, Self::Tensor>,
    );

    /// C = α·(op(A₁)·op(B₁) + op(A₂)·op(B₂)) + β·C: two products summed in one pass over C.
    /// Both pairs use `spec`'s transposes and output shape [m, n]; the first pair's inner
    /// dimension is `spec.k`, the second's `k2` (A₂ is stored [m, k2] or [k2, m], B₂ [k2, n] or
    /// [n, k2]). With α = −lr, β = 1 it is the tied-weight SGD update W −= lr·(x̃ᵀ·dH + dAᵀ·h)
    /// in one GEMM (one dispatch on the GPU, one sweep of W on the CPU).
    fn gemm_sum(
        &self,
        c: &mut Self::Tensor,
        first: (&Self::Tensor, &Self::Tensor),
        second: (&Self::Tensor, &Self::Tensor),
        spec: GemmSpec,
        k2: usize,
    );

    /// Cross-entropy from logits with its gradient, fused. With a = logits, x = target, both
    /// [rows, cols], and z = σ(a):
    /// - grad = (z − x) · scale  (∂/∂a of the cost below, for scale = 1/rows);
    /// - costs[slot] = scale · Σ_rows Σ_k [softplus(a) − x·a], which equals
    ///   −Σ[x log z + (1 − x) log(1 − z)] without ever forming log σ.
    #[allow(clippy::too_many_arguments)]
    fn xent_logits(
        &self,
        grad: &mut Self::Tensor,
        costs: &mut Self::Tensor,
        slot: usize,
        logits: &Self::Tensor,
        target: &Self::Tensor,
        rows: usize,
        cols: usize,
        scale: f32,
    );

    /// Corruption of a tensor (the input of a stacked dA's upper layer, which is the clean
    /// output of the layers below rather than a batch of images): x̃[i] = `noise` applied to
    /// x[i] for i < len, element i drawing `RngKey::bits(i)` of `key` exactly as `load_batch`
    /// does, so the masks are the same bits on every backend. x, x̃: [len].
    fn corrupt(
        &self,
        x_tilde: &mut Self::Tensor,
        x: &Self::Tensor,
        len: usize,
        noise: Noise,
        key: RngKey,
    );

    /// Softmax negative log-likelihood with its gradient and error count, fused. With
    /// a = logits: [rows, classes], yᵣ = labels[first + r] (a label set uploaded once with
    /// `upload_images(labels, 1)` and taken by offset, like a batch of images) and
    /// pᵣ = softmax(aᵣ) (Bishop 2006, §4.3.4):
    /// - grad = (p − onehot(y))·scale  (∂/∂a of the cost below, for scale = 1/rows);
    /// - costs[slot] = scale·Σᵣ −log pᵣ,yᵣ, computed stably as
    ///   Σᵣ (mᵣ + log Σⱼ e^(aᵣⱼ − mᵣ) − aᵣ,yᵣ) with mᵣ = maxⱼ aᵣⱼ (log-sum-exp);
    /// - errors[slot] = #{r : argmaxⱼ aᵣⱼ ≠ yᵣ} as an f32 (exact below 2²⁴), the argmax taking
    ///   the first maximum on ties on every backend.
    ///
    /// Reductions are deterministic (fixed order, no float atomics).
    #[allow(clippy::too_many_arguments)]
    fn softmax_nll(
        &self,
        grad: &mut Self::Tensor,
        costs: &mut Self::Tensor,
        errors: &mut Self::Tensor,
        slot: usize,
        logits: &Self::Tensor,
        labels: &Self::Images,
        first: usize,
        rows: usize,
        classes: usize,
        scale: f32,
    );

    /// out[j] = α·Σ_i a[i, j] + β·out[j]; a: [rows, cols], out: [cols]. With α = −lr, β = 1 it
    /// is the fused SGD update of a bias from its layer's delta.
    fn col_sum(
        &self,
        out: &mut Self::Tensor,
        a: &Self::Tensor,
        rows: usize,
        cols: usize,
        alpha: f32,
        beta: f32,
    );

    /// out[j] = Σ_i a[i, j]²; a: [rows, cols], out: [cols]. The squared column norms of W,
    /// Σᵢ Wᵢⱼ², from which the contractive penalty is O(B·n_hid) (Rifai et al. 2011).
    fn col_sq_norms(&self, out: &mut Self::Tensor, a: &Self::Tensor, rows: usize, cols: usize);

    /// The contractive penalty of a sigmoid layer, its value and gradient, fused (Rifai et al.
    /// 2011; DESIGN.md, cA). With h: [rows, cols] the layer's output, sₙⱼ = hₙⱼ(1 − hₙⱼ),
    /// c = `col_norms`: [cols] (cⱼ = Σᵢ Wᵢⱼ², see `col_sq_norms`) and the penalty
    /// P = λ·scale·Σₙ ‖Jₙ‖²_F, ‖Jₙ‖²_F = Σⱼ sₙⱼ² cⱼ:
    /// - dh[n, j] += 2λ·scale·cⱼ·sₙⱼ²·(1 − 2hₙⱼ)  (∂P/∂ of the pre-activation, added to the
    ///   layer's delta, so the W and b updates that follow carry the penalty's h path);
    /// - col_grad[j] = 2λ·scale·Σₙ sₙⱼ²  (∂P/∂Wᵢⱼ through the column norm is col_grad[j]·Wᵢⱼ,
    ///   applied by `scale_cols`);
    /// - jac_sq[slot] = scale·Σₙ ‖Jₙ‖²_F  (the batch-mean squared Jacobian norm for scale = 1/rows).
    ///
    /// Reductions are deterministic (fixed order, no float atomics).
    #[allow(clippy::too_many_arguments)]
    fn contractive(
        &self,
        dh: &mut Self::Tensor,
        col_grad: &mut Self::Tensor,
        jac_sq: &mut Self::Tensor,
        slot: usize,
        h: &Self::Tensor,
        col_norms: &Self::Tensor,
        rows: usize,
        cols: usize,
        lambda: f32,
        scale: f32,
    );

    /// a[i, j] += α·f[j]·a[i, j]; a: [rows, cols], f: [cols]. With f = `contractive`'s col_grad
    /// and α = −lr, the SGD step of W along the penalty's column-norm path.
    fn scale_cols(
        &self,
        a: &mut Self::Tensor,
        f: &Self::Tensor,
        rows: usize,
        cols: usize,
        alpha: f32,
    );

    /// Squared error with its gradient, fused. With y = the decoder's output, computed by the
    /// activation `out` (identity for a linear decoder), and x = target, both [rows, cols]:
    /// - grad = (y − x)·scale·out′  (∂/∂ of the pre-activation of ½·the cost below, with out′ =
    ///   `Activation::grad_from_output(y)`: 1 for a linear output, y(1 − y) for a sigmoid; the
    ///   ReLU-DAE backpropagates ½E);
    /// - costs[slot] = scale·Σ_rows Σ_k (y − x)²  (E = ‖y − x‖² per row; scale = 1/rows gives
    ///   the batch mean).
    ///
    /// Reductions are deterministic (fixed order, no float atomics).
    #[allow(clippy::too_many_arguments)]
    fn sq_err(
        &self,
        grad: &mut Self::Tensor,
        costs: &mut Self::Tensor,
        slot: usize,
        y: &Self::Tensor,
        target: &Self::Tensor,
        rows: usize,
        cols: usize,
        scale: f32,
        out: Activation,
    );

    /// out[slot] = scale·#{i < len : a[i] > 0}: with a = a ReLU layer's output and
    /// scale = 1/len, the fraction of units that are on (the ReLU-DAE's sparsity). The count is
    /// exact (below 2²⁴) on every backend.
    fn count_positive(
        &self,
        out: &mut Self::Tensor,
        slot: usize,
        a: &Self::Tensor,
        len: usize,
        scale: f32,
    );

    /// x[i] = x[i]·mul + add for i < len, in place (a multiply then an add; a driver may fuse
    /// them, so backends agree to rounding). Standardising a batch: mul = 1/std,
    /// add = −mean/std.
    fn affine(&self, x: &mut Self::Tensor, len: usize, mul: f32, add: f32);
}
