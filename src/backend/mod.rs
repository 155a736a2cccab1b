//! The backends and the op set every model is written against.
//!
//! A model allocates its parameters and workspaces as backend tensors (`Storage`) and runs ops
//! on them (`be.run(op)`, one struct per op in `ops`); the CPU backend executes each op at
//! once, the GPU backend records it into an open compute pass and submits only when the host
//! must read (`download`). Fused ops (a batch load with its corruption, GEMM epilogues, a GEMM
//! summing two products, a loss with its gradient) are part of the op set, not GPU-only
//! tricks: the CPU twin computes the same thing.
//!
//! Adding an op: its struct in `ops` (and its line in `Backend`), its CPU twin in `cpu` (and its
//! line in `cpu_twins!`), its kernel in `shaders/` with its host side in `gpu/` (listed in
//! `gpu::KERNELS`), its test in tests/gpu_vs_cpu.rs and its case in benches/kernels.rs (README,
//! "Layout"); `Timed` and the models need nothing.

pub mod cpu;
pub mod gpu;
mod math;
pub mod ops;
pub mod timed;

use ops::{
    Affine, ColSum, Contractive, Corrupt, CountPositive, DenseUpdate, Gemm, GemmCorrupt, GemmSqErr,
    GemmSum, GemmXent, LoadBatch, LoadGemm, SoftmaxNll, SqErr, XentLogits,
};

/// Where a backend keeps its data: tensors, image sets and label sets, and the copies to and
/// from the host.
pub trait Storage {
    /// A flat f32 array living where the backend computes.
    type Tensor;
    /// A set of u8 images living where the backend computes: [n, dim].
    type Images;
    /// A set of u8 class labels living where the backend computes: [n].
    type Labels;

    /// A short description for logs and `run.json`, e.g. "cpu (2 threads)".
    fn describe(&self) -> String;
    /// The first device failure since the backend was made (device lost, out of memory, a
    /// failed readback), as one line naming the device and what failed; None while all is
    /// well. After a failure, ops do nothing and downloads return NaN: the trainer checks this
    /// after every readback and stops, keeping the last good checkpoint.
    fn failure(&self) -> Option<String> {
        None
    }
    /// A tensor of `len` zeros.
    fn zeros(&self, len: usize) -> Self::Tensor;
    /// A tensor holding a copy of `host`.
    fn upload(&self, host: &[f32]) -> Self::Tensor;
    /// A host copy of `t` (waits for all recorded work).
    fn download(&self, t: &Self::Tensor) -> Vec<f32>;
    /// Uploads `pixels: [n, dim]` once; batches are then taken by offset (`ops::LoadBatch`).
    fn upload_images(&self, pixels: &[u8], dim: usize) -> Self::Images;
    /// Uploads `labels: [n]` once; they are then taken by offset (`ops::SoftmaxNll`).
    fn upload_labels(&self, labels: &[u8]) -> Self::Labels;
}

/// An op of `ops`: its stem (the name its CPU twin, kernel, test and bench case share).
pub trait Op {
    /// The op's stem, e.g. "gemm".
    const STEM: &'static str;

    /// What `Timed` reports this call under: the stem, or a finer label (a GEMM's use).
    fn label(&self) -> &'static str {
        Self::STEM
    }
}

/// A backend's implementation of op `O`.
pub trait Run<O: Op>: Storage {
    /// Executes (CPU) or records (GPU) `op`.
    fn run(&self, op: O);
}

/// A backend: storage and every op of `ops`. The list below is the op set; a type that
/// implements `Run` for each of them is a backend by declaring `impl Backend for …`.
pub trait Backend:
    Storage
    + for<'a> Run<LoadBatch<'a, <Self as Storage>::Tensor, <Self as Storage>::Images>>
    + for<'a> Run<Corrupt<'a, <Self as Storage>::Tensor>>
    + for<'a> Run<Gemm<'a, <Self as Storage>::Tensor>>
    + for<'a> Run<GemmSum<'a, <Self as Storage>::Tensor>>
    + for<'a> Run<DenseUpdate<'a, <Self as Storage>::Tensor>>
    + for<'a> Run<GemmXent<'a, <Self as Storage>::Tensor>>
    + for<'a> Run<GemmCorrupt<'a, <Self as Storage>::Tensor>>
    + for<'a> Run<GemmSqErr<'a, <Self as Storage>::Tensor>>
    + for<'a> Run<LoadGemm<'a, <Self as Storage>::Tensor, <Self as Storage>::Images>>
    + for<'a> Run<XentLogits<'a, <Self as Storage>::Tensor>>
    + for<'a> Run<SqErr<'a, <Self as Storage>::Tensor>>
    + for<'a> Run<CountPositive<'a, <Self as Storage>::Tensor>>
    + for<'a> Run<SoftmaxNll<'a, <Self as Storage>::Tensor, <Self as Storage>::Labels>>
    + for<'a> Run<ColSum<'a, <Self as Storage>::Tensor>>
    + for<'a> Run<Contractive<'a, <Self as Storage>::Tensor>>
    + for<'a> Run<Affine<'a, <Self as Storage>::Tensor>>
{
}

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

/// Corruption applied to a clean batch as `ops::LoadBatch` loads it, or to a tensor by
/// `ops::Corrupt`. Element i (row-major, counted from the batch's first pixel) draws from
/// `RngKey::bits(i)` of the step's key, so every backend corrupts the same elements the same
/// way. A new kind of noise is a new variant here, its case in the CPU twins (`cpu::load_batch`,
/// `cpu::corrupt`), and its case in shaders/noise.wgsl with its code in `gpu/noise.rs`.
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
    /// Nothing more to C; besides it, bias[j] += α·Σₖ B[k, j] for B stored [k, n] (not
    /// transposed), as `ColSum` with β = 1 (in k's order on the CPU and in the GPU's outer
    /// kernel; the GPU's `ColSum` fallback adds in its own fixed order): the bias step of a layer beside its weight
    /// update W −= lr·xᵀ·d (B = d), one pass on the GPU where the update is the outer kernel.
    BiasUpdate {
        /// The bias, [n].
        bias: &'a mut T,
    },
}
