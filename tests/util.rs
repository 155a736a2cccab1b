//! Shared test vocabulary: the named tolerances, tolerant and bit-exact comparison, seeded
//! data, the one GPU-availability helper and the macro that runs a test body on every backend.

use std::sync::OnceLock;

use gpu_dae::backend::gpu::{Gpu, GpuOptions};
use gpu_dae::backend::ops::{
    Corrupt, DenseUpdate, GemmCorrupt, GemmSqErr, GemmXent, LoadBatch, LoadGemm,
};
use gpu_dae::backend::{Activation, Backend, Epilogue, GemmSpec, Noise, Storage};
use gpu_dae::rng::RngKey;

/// A tolerance: |x − y| ≤ max(rel·|x + y|, abs) (burn's rule). Every tolerance a test uses is
/// one of the named ones below, each saying why it is that loose.
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    pub rel: f64,
    pub abs: f64,
}

impl Tol {
    /// f32 results of the same computation in a different order: 1e-5 relative.
    pub const F32_REORDERED: Tol = Tol { rel: 1e-5, abs: 1e-6 };

    /// Element-wise transcendental results (σ, softplus) of the same polynomials, evaluated
    /// with and without fma, or against f64: a few ulp.
    pub const ELEMENTWISE: Tol = Tol { rel: 1e-5, abs: 1e-7 };

    /// A multiply and an add per element that a driver may fuse into one fma.
    pub const AFFINE: Tol = Tol { rel: 1e-6, abs: 1e-6 };

    /// Results summed over hundreds to thousands of terms in another order: a loss over a
    /// batch, the hidden codes of a GEMM over 784 pixels.
    pub const REORDERED_SUMS: Tol = Tol { rel: 1e-5, abs: 1e-5 };

    /// Parameters after tens of training steps whose GEMMs sum in another order (|W| ≲ 0.3).
    pub const PARAMS_AFTER_STEPS: Tol = Tol { rel: 1e-5, abs: 1e-5 };

    /// The results of a few training steps of a small model on two backends.
    pub const STEPS: Tol = Tol { rel: 1e-4, abs: 1e-5 };

    /// The results of a few ReLU-DAE steps whose Gaussian noise differs in the last bits
    /// between drivers (ln and cos are the driver's on the GPU).
    pub const GAUSSIAN_STEPS: Tol = Tol { rel: 1e-3, abs: 1e-4 };

    /// The CPU's polynomial ln and cos on exactly reduced arguments against f64: a few ulp of
    /// z, and near the zeros of cos the rounding of 2π·c (c ≤ ⅛) times |√(−2 ln u₁)| ≤ 5.77.
    pub const BOX_MULLER_F64: Tol = Tol { rel: 2e-7, abs: 3e-7 };

    /// A GEMM's k products accumulated in another order (or against f64): error grows like
    /// √k.
    pub fn gemm(k: usize) -> Tol {
        Tol { rel: 1e-5, abs: 1e-5 * (k as f64).sqrt() }
    }

    /// Column sums over `rows` rows in another order: error grows like √rows.
    pub fn column_sums(rows: usize) -> Tol {
        Tol { rel: 1e-5, abs: 1e-6 * (rows as f64).sqrt() }
    }

    /// A sum of `len` squares in a tree against in order: relative error grows like √len.
    pub fn sum_of(len: usize) -> Tol {
        Tol { rel: 1e-5 * (len as f64).sqrt().max(1.0), abs: 1e-6 }
    }

    /// The softmax gradient (p − onehot)·scale: p to a few ulp, times scale.
    pub fn softmax_grad(scale: f32) -> Tol {
        Tol { rel: 1e-5, abs: 1e-6 * f64::from(scale) }
    }

    /// Additive Gaussian noise of σ: the uniforms are the same bits, ln, cos and √ the
    /// driver's, so |Δz| stays ~1e-6·|z| plus the absolute error of cos near its zeros and of
    /// ln near u₁ = 1, times σ.
    pub fn gaussian(sigma: f32) -> Tol {
        Tol { rel: 1e-4, abs: 2e-5 * f64::from(sigma).max(1e-3) }
    }

    /// A fraction of `n` units that may differ by one unit (a pre-activation within rounding
    /// of 0).
    pub fn one_unit_of(n: usize) -> Tol {
        Tol { rel: 0.0, abs: 1.5 / n as f64 }
    }

    /// The softmax NLL's gradient against its central finite difference in f64.
    pub const SOFTMAX_FD: Tol = Tol { rel: 0.0, abs: 1e-5 };

    /// A running sum over a long series (25 000 values of 100–900) against the direct mean.
    pub const RUNNING_MEAN: Tol = Tol { rel: 0.0, abs: 1e-3 };

    /// Whether `got` is within tolerance of `want` (NaN never is).
    pub fn accepts(self, got: f64, want: f64) -> bool {
        let allowed = (self.rel * (got + want).abs()).max(self.abs);
        matches!(
            (got - want).abs().partial_cmp(&allowed),
            Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
        )
    }
}

/// A tolerance relative to a reference value: |got − want| ≤ rel·max(|want|, floor).
#[derive(Clone, Copy, Debug)]
pub struct Rel {
    pub rel: f64,
    pub floor: f64,
}

impl Rel {
    /// The costs of the same training steps (or epochs) on two backends.
    pub const STEP_COSTS: Rel = Rel { rel: 1e-4, floor: 0.0 };

    /// A model's reported cost against the f64 formula it computes.
    pub const COST_VS_F64: Rel = Rel { rel: 1e-5, floor: 0.0 };

    /// The softmax NLL against its f64 formula, which can be near 0 (floor 1).
    pub const NLL_VS_F64: Rel = Rel { rel: 1e-5, floor: 1.0 };

    /// A squared error E = ‖y − x‖² against twice the f64 ½E whose gradient the step follows:
    /// 1e-5 of ½E.
    pub const SQ_ERR_VS_F64: Rel = Rel { rel: 5e-6, floor: 0.0 };

    /// `SQ_ERR_VS_F64` with Gaussian noise, which the f64 formula draws with the standard
    /// library's ln and cos where the backend uses its own polynomials: 1e-4 of ½E.
    pub const GAUSSIAN_SQ_ERR_VS_F64: Rel = Rel { rel: 5e-5, floor: 0.0 };

    /// f32 averages of a few values against f64, values near or above 1 (floor 1).
    pub const F32_MEANS: Rel = Rel { rel: 1e-5, floor: 1.0 };

    /// Whether `got` is within tolerance of `want` (NaN never is).
    pub fn accepts(self, got: f64, want: f64) -> bool {
        (got - want).abs() <= self.rel * want.abs().max(self.floor)
    }

    /// Asserts that `got` is within tolerance of `want`.
    pub fn check(self, what: &str, got: f64, want: f64) {
        assert!(self.accepts(got, want), "{what}: got {got}, want {want} (under {self:?})");
    }
}

/// Central finite differences against an analytic gradient: |analytic − numeric| ≤
/// of_largest·max|gradient| + rel·|numeric| (the f64 cost is exact to ~1e-12; the f32 step that
/// gives the analytic gradient to a few ulp of its largest entry).
#[derive(Clone, Copy, Debug)]
pub struct FiniteDifferences {
    pub of_largest: f64,
    pub rel: f64,
}

impl FiniteDifferences {
    /// The tolerance of every gradient test.
    pub const GRADIENTS: FiniteDifferences = FiniteDifferences { of_largest: 1e-4, rel: 1e-3 };

    /// Whether `analytic` matches `numeric` for a gradient whose largest entry is `largest`.
    pub fn accepts(self, analytic: f64, numeric: f64, largest: f64) -> bool {
        (analytic - numeric).abs() <= self.of_largest * largest + self.rel * numeric.abs()
    }
}

/// Asserts `got` ≈ `want` element-wise under `tol`; on failure reports the number of
/// mismatches, the worst element and the first few mismatches.
pub fn assert_close(what: &str, got: &[f32], want: &[f32], tol: Tol) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    let bad: Vec<usize> =
        (0..got.len()).filter(|&i| !tol.accepts(got[i] as f64, want[i] as f64)).collect();
    if bad.is_empty() {
        return;
    }
    let diff = |i: usize| (got[i] as f64 - want[i] as f64).abs();
    let worst = bad.iter().copied().max_by(|&i, &j| diff(i).total_cmp(&diff(j))).unwrap_or(bad[0]);
    let first: Vec<String> =
        bad.iter().take(5).map(|&i| format!("[{i}] got {:e} want {:e}", got[i], want[i])).collect();
    panic!(
        "{what}: {} of {} elements differ under {tol:?}; worst [{worst}]: got {:e} want {:e} (diff {:e}); first: {}",
        bad.len(),
        got.len(),
        got[worst],
        want[worst],
        diff(worst),
        first.join(", ")
    );
}

/// Asserts `got` and `want` are the same bits, element by element.
pub fn assert_bit_identical(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    let bad: Vec<String> = got
        .iter()
        .zip(want)
        .enumerate()
        .filter(|(_, (g, w))| g.to_bits() != w.to_bits())
        .take(5)
        .map(|(i, (g, w))| format!("[{i}] got {g:e} want {w:e}"))
        .collect();
    assert!(bad.is_empty(), "{what}: not bit-identical; first: {}", bad.join(", "));
}

/// `n` seeded uniforms in [lo, hi) (a 64-bit LCG; independent of the code under test).
pub fn uniforms(seed: u64, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            lo + (hi - lo) * ((s >> 40) as f32 / (1u64 << 24) as f32)
        })
        .collect()
}

/// `n` seeded u8 pixels.
pub fn pixels(seed: u64, n: usize) -> Vec<u8> {
    uniforms(seed, n, 0.0, 256.0).into_iter().map(|v| v as u8).collect()
}

/// (rows, n_in, n_out) of the `DenseUpdate` tests: one row and a few (the GPU's one-pass kernel
/// takes up to 4), 7 rows (the GPU's two GEMMs), n_out from one lane a row to 256 lanes (2500:
/// one row a workgroup, ten columns a lane) and 784 (4 parts of the CPU's dot kernel), and a
/// softmax-like 784 × 10.
pub const DENSE_SHAPES: &[(usize, usize, usize)] = &[
    (1, 1, 1),
    (1, 7, 33),
    (2, 33, 7),
    (4, 784, 10),
    (1, 33, 784),
    (3, 65, 300),
    (2, 3, 2500),
    (7, 33, 65),
];

/// GEMM shapes (m, n, k): single elements, odd sizes on every dimension, 64-tile edges ± 1, and
/// the dA's [20, 784] × [784, 500].
pub const GEMM_SHAPES: &[(usize, usize, usize)] = &[
    (1, 1, 1),
    (7, 33, 1),
    (1, 7, 33),
    (33, 7, 784),
    (7, 784, 33),
    (65, 63, 17),
    (20, 500, 784),
    (130, 66, 300),
];

/// Every combination of transposes.
pub const TRANSPOSES: [(bool, bool); 4] =
    [(false, false), (true, false), (false, true), (true, true)];

/// (α, β) pairs: overwrite (C starts as NaN and must be ignored), the fused SGD update, and a
/// general scaling.
pub const SCALINGS: &[(f32, f32)] = &[(1.0, 0.0), (-0.1, 1.0), (0.5, -2.0)];

/// `GemmSum` shapes (m, n, k, k2): single elements, k ≠ k2 on odd sizes, an empty pair on
/// either side, vec4-readable A for one pair only, 64-tile edges ± 1, and the dA's update
/// [784, 20]·[20, 500] twice.
pub const GEMM_SUM_SHAPES: &[(usize, usize, usize, usize)] = &[
    (1, 1, 1, 1),
    (7, 33, 1, 5),
    (1, 7, 33, 7),
    (33, 7, 784, 1),
    (7, 33, 0, 5),
    (7, 33, 5, 0),
    (12, 16, 8, 6),
    (65, 63, 17, 4),
    (784, 500, 20, 20),
];

/// The noises whose corruption is the same bits on every backend: none, masking and
/// salt-and-pepper at the edges of their range and between (Gaussian noise agrees within a
/// tolerance, `Tol::gaussian`).
pub const BIT_EXACT_NOISES: &[Noise] = &[
    Noise::None,
    Noise::Mask { p: 0.0 },
    Noise::Mask { p: 0.3 },
    Noise::Mask { p: 0.5 },
    Noise::Mask { p: 1.0 },
    Noise::SaltPepper { p: 0.0 },
    Noise::SaltPepper { p: 0.3 },
    Noise::SaltPepper { p: 0.5 },
    Noise::SaltPepper { p: 1.0 },
];

/// x and x̃ of `rows` images of `px` ([n, dim] u8) from `first`, corrupted by `noise` under
/// `key`, both starting as NaN.
pub fn load_batch_on<B: Backend>(
    be: &B,
    (px, dim): (&[u8], usize),
    (first, rows): (usize, usize),
    noise: Noise,
    key: RngKey,
) -> (Vec<f32>, Vec<f32>) {
    let images = be.upload_images(px, dim);
    let nan = vec![f32::NAN; rows * dim];
    let (mut x, mut x_tilde) = (be.upload(&nan), be.upload(&nan));
    let images = &images;
    let (x_tilde_ref, standardise) = (&mut x_tilde, None);
    be.run(LoadBatch {
        x: &mut x,
        x_tilde: x_tilde_ref,
        images,
        first,
        rows,
        noise,
        key,
        standardise,
    });
    (be.download(&x), be.download(&x_tilde))
}

/// The seeded operands of a `GemmXent` of shape `s` (logits reaching ±20 where |α| = 1, a few
/// saturated): (A, B, bias, target).
pub fn gemm_xent_inputs(s: GemmSpec) -> [Vec<f32>; 4] {
    let (m, n, k) = (s.m, s.n, s.k);
    let spread = 3.0 / (k as f32).sqrt().max(1.0);
    [
        uniforms(31 + k as u64, m * k, -spread, spread),
        uniforms(32 + n as u64, k * n, -4.0, 4.0),
        uniforms(33, n, -2.0, 2.0),
        uniforms(34 + m as u64, m * n, 0.0, 1.0),
    ]
}

/// (grad, costs) of `GemmXent` of shape `s` on `gemm_xent_inputs`, grad starting as NaN (it
/// must not be read) and the cost log as [7, 8, 9, 10] with the cost into `slot`.
pub fn gemm_xent_on<B: Backend>(be: &B, s: GemmSpec, slot: usize) -> (Vec<f32>, Vec<f32>) {
    let [a, b, bias, target] = gemm_xent_inputs(s).map(|v| be.upload(&v));
    let mut grad = be.upload(&vec![f32::NAN; s.m * s.n]);
    let mut costs = be.upload(&[7.0, 8.0, 9.0, 10.0]);
    be.run(GemmXent {
        grad: &mut grad,
        costs: &mut costs,
        slot,
        a: &a,
        b: &b,
        spec: s,
        bias: &bias,
        target: &target,
        scale: 1.0 / s.m.max(1) as f32,
    });
    (be.download(&grad), be.download(&costs))
}

/// The tolerance of `GemmSqErr`'s cost over an m × n output of inner dimension k: its m·n
/// squares summed in another order (relative error like √(m·n) roundings), each off by twice
/// its difference times y's GEMM error; below one element's term at these tests' shapes.
pub fn sq_err_cost_tol(m: usize, n: usize, k: usize) -> Tol {
    let len = (m * n) as f64;
    Tol { rel: 1e-6 * len.sqrt().max(1.0), abs: 1e-5 * (k as f64).sqrt() * n as f64 }
}

/// [grad, y, costs] of `GemmSqErr` of shape `s` with output activation `out` on
/// `gemm_xent_inputs`, grad and y starting as NaN (neither may be read) and the cost log as
/// [7, 8, 9, 10] with the cost into `slot`.
pub fn gemm_sq_err_on<B: Backend>(
    be: &B,
    s: GemmSpec,
    out: Activation,
    slot: usize,
) -> [Vec<f32>; 3] {
    let [a, b, bias, target] = gemm_xent_inputs(s).map(|v| be.upload(&v));
    let [mut grad, mut y] = [0; 2].map(|_| be.upload(&vec![f32::NAN; s.m * s.n]));
    let mut costs = be.upload(&[7.0, 8.0, 9.0, 10.0]);
    be.run(GemmSqErr {
        grad: &mut grad,
        y: &mut y,
        costs: &mut costs,
        slot,
        a: &a,
        b: &b,
        spec: s,
        bias: &bias,
        out,
        target: &target,
        scale: 1.0 / s.m.max(1) as f32,
    });
    [grad, y, costs].map(|t| be.download(&t))
}

/// (m, n, k) of the `LoadGemm` tests: k (the images' dim) a multiple of 4 (the GPU's fused
/// kernels) and not (its two ops), one row to more than the rows kernel's 128, rows staged in
/// more than one stage of the rows kernel's workgroup memory (5 × 9 × 1100: three rows a
/// workgroup, 256 quads a stage, the last stage part full; 1 × 3 × 4104: one row, 1024 quads a
/// stage), and a product that `plan` splits along K (130 × 66 × 300: six tiles; 130 × 66 × 100:
/// parts of 28, the last ending within a 16-deep K step).
pub const LOAD_GEMM_SHAPES: &[(usize, usize, usize)] = &[
    (1, 1, 4),
    (5, 9, 1100),
    (1, 3, 4104),
    (1, 7, 33),
    (7, 33, 784),
    (33, 7, 12),
    (20, 500, 784),
    (3, 10, 7),
    (65, 63, 16),
    (130, 66, 300),
    (130, 66, 100),
];

/// (c, x, x̃) of `LoadGemm` of shape (m, n, k) on images of dim k from image 2, corrupted by
/// `noise` under a fixed key and standardised by `standardise`: c = σ(x̃·op(B) + bias), B
/// [k, n] or [n, k] with `trans_b`; every output starting as NaN.
pub fn load_gemm_on<B: Backend>(
    be: &B,
    (m, n, k): (usize, usize, usize),
    trans_b: bool,
    (noise, standardise): (Noise, Option<[f32; 2]>),
) -> [Vec<f32>; 3] {
    let first = 2;
    let images = be.upload_images(&pixels(k as u64, (first + m + 1) * k), k);
    let b = be.upload(&uniforms(51, k * n, -0.2, 0.2));
    let bias = be.upload(&uniforms(52, n, -1.0, 1.0));
    let [mut c, mut x, mut x_tilde] =
        [m * n, m * k, m * k].map(|len| be.upload(&vec![f32::NAN; len]));
    be.run(LoadGemm {
        c: &mut c,
        x: &mut x,
        x_tilde: &mut x_tilde,
        images: &images,
        b: &b,
        first,
        spec: GemmSpec { trans_b, ..GemmSpec::new(m, n, k) },
        epilogue: Epilogue::BiasAct { bias: &bias, act: Activation::Sigmoid },
        noise,
        key: RngKey::new(8, 9),
        standardise,
    });
    [c, x, x_tilde].map(|t| be.download(&t))
}

/// (c, x̃, want_x̃) of `GemmCorrupt` of shape `s` (c = σ(op(A)·op(B) + bias) on seeded
/// operands, x̃ = `noise`(c) under a fixed key) and of `Corrupt` run on that c afterwards: the
/// op's x̃ must be the latter's bits.
pub fn gemm_corrupt_on<B: Backend>(be: &B, s: GemmSpec, noise: Noise) -> [Vec<f32>; 3] {
    let (m, n, k) = (s.m, s.n, s.k);
    let a = be.upload(&uniforms(61, m * k, -1.0, 1.0));
    let b = be.upload(&uniforms(62, k * n, -0.3, 0.3));
    let bias = be.upload(&uniforms(63, n, -1.0, 1.0));
    let [mut c, mut x_tilde, mut want] = [0; 3].map(|_| be.upload(&vec![f32::NAN; m * n]));
    let key = RngKey::new(4, 11);
    be.run(GemmCorrupt {
        c: &mut c,
        x_tilde: &mut x_tilde,
        a: &a,
        b: &b,
        spec: s,
        epilogue: Epilogue::BiasAct { bias: &bias, act: Activation::Sigmoid },
        noise,
        key,
    });
    be.run(Corrupt { x_tilde: &mut want, x: &c, len: m * n, noise, key });
    [c, x_tilde, want].map(|t| be.download(&t))
}

/// Whether this run requires the GPU tests to run (`GPU_DAE_REQUIRE_GPU=1`, as in CI).
pub fn require_gpu() -> bool {
    std::env::var("GPU_DAE_REQUIRE_GPU").is_ok_and(|v| v == "1")
}

/// The options every GPU test opens its adapter with: any adapter, software ones included
/// (lavapipe on CI).
pub const ANY_ADAPTER: GpuOptions = GpuOptions { adapter: None, allow_software: true };

/// The GPU shared by the tests, or why there is none.
fn shared_gpu() -> &'static Result<Gpu, String> {
    static GPU: OnceLock<Result<Gpu, String>> = OnceLock::new();
    GPU.get_or_init(|| {
        let gpu = Gpu::new(&ANY_ADAPTER).map_err(|e| e.to_string());
        if let Ok(g) = &gpu {
            println!("GPU tests on {}", g.describe());
        }
        gpu
    })
}

/// The shared GPU for `test`, or None after printing a skip line: without an adapter a GPU test
/// passes as skipped, unless `GPU_DAE_REQUIRE_GPU=1`, where it fails.
pub fn gpu(test: &str) -> Option<&'static Gpu> {
    match shared_gpu() {
        Ok(g) => Some(g),
        Err(e) if require_gpu() => panic!("{test}: GPU_DAE_REQUIRE_GPU=1 but no GPU: {e}"),
        Err(e) => {
            println!("SKIP {test}: no GPU adapter ({e})");
            None
        }
    }
}

/// A GPU of its own for a test that reads the counters (the shared one is used concurrently),
/// or None as `gpu` says.
pub fn own_gpu(test: &str) -> Option<Gpu> {
    gpu(test)?;
    Some(Gpu::new(&ANY_ADAPTER).expect("opened once already"))
}

/// For each test body `fn name<B: Backend>(be: &B)` named, a test on the CPU backend
/// (`on_cpu::name`) and one on the shared GPU (`on_gpu::name`, see `gpu`): one body, run on
/// every backend there is.
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod on_cpu {
            $(
                #[test]
                fn $name() {
                    super::$name(&gpu_dae::backend::cpu::Cpu::new());
                }
            )*
        }
        /// The CPU backend's slower instruction sets, forced on a processor that has faster
        /// ones (`Cpu::with_isa`); a processor without one skips it, saying so.
        mod on_cpu_portable {
            $(
                #[test]
                fn $name() {
                    super::$name(&crate::util::cpu_with(gpu_dae::backend::cpu::Isa::Portable));
                }
            )*
        }
        mod on_cpu_avx2 {
            $(
                #[test]
                fn $name() {
                    let isa = gpu_dae::backend::cpu::Isa::Avx2;
                    if isa.available() {
                        super::$name(&crate::util::cpu_with(isa));
                    } else {
                        eprintln!("skipped: this processor has no AVX2 + FMA");
                    }
                }
            )*
        }
        mod on_gpu {
            $(
                #[test]
                fn $name() {
                    let test = concat!(module_path!(), "::", stringify!($name));
                    if let Some(gpu) = crate::util::gpu(test) {
                        super::$name(gpu);
                    }
                }
            )*
        }
    };
}
pub(crate) use on_every_backend;

/// The CPU backend with its kernels on `isa` (which the processor must have).
pub fn cpu_with(isa: gpu_dae::backend::cpu::Isa) -> gpu_dae::backend::cpu::Cpu {
    gpu_dae::backend::cpu::Cpu::with_isa(isa).expect("the processor has this instruction set")
}

/// The seeded inputs of a `DenseUpdate` of (rows, n_in, n_out): W, b, d and x (x in (0, 1), a
/// sigmoid layer's output).
pub fn dense_inputs((rows, n_in, n_out): (usize, usize, usize), seed: u64) -> [Vec<f32>; 4] {
    [
        uniforms(seed, n_in * n_out, -1.0, 1.0),
        uniforms(seed + 1, n_out, -1.0, 1.0),
        uniforms(seed + 2, rows * n_out, -1.0, 1.0),
        uniforms(seed + 3, rows * n_in, 0.01, 0.99),
    ]
}

/// dx, W and b after one `DenseUpdate` (lr 0.25, x a sigmoid's output) of `shape`.
pub fn dense_update_on<B: Backend>(
    be: &B,
    shape: (usize, usize, usize),
    seed: u64,
) -> [Vec<f32>; 3] {
    let (rows, n_in, n_out) = shape;
    let [w, b, d, x] = dense_inputs(shape, seed);
    let (mut w, mut bias, d, x) = (be.upload(&w), be.upload(&b), be.upload(&d), be.upload(&x));
    let mut dx = be.upload(&vec![f32::NAN; rows * n_in]);
    let act = Activation::Sigmoid;
    be.run(DenseUpdate {
        dx: &mut dx,
        w: &mut w,
        bias: &mut bias,
        d: &d,
        x: &x,
        rows,
        n_in,
        n_out,
        lr: 0.25,
        act,
    });
    [be.download(&dx), be.download(&w), be.download(&bias)]
}
