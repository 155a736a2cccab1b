//! The CPU backend: the reference every GPU kernel is tested against, and a fast engine of its
//! own. Each op of `backend::ops` has its twin here, a function named by the op's stem
//! (`gemm`, `load_batch`, …). A training step's GEMMs run in the backend's own kernels
//! (`small_gemm`, on the instruction set of `simd::Isa` and the threads of `pool`); larger
//! products go to faer (rayon's threads); element-wise loops are written branch-free over
//! `backend::math` so LLVM vectorises them.

mod pool;
mod simd;
mod small_gemm;

use std::cell::RefCell;

use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

use super::math;
use super::ops::{
    Affine, ColSum, Contractive, Corrupt, CountPositive, DenseUpdate, Gemm, GemmCorrupt, GemmSqErr,
    GemmSum, GemmXent, LoadBatch, LoadGemm, SoftmaxNll, SqErr, SumBiases, XentLogits,
    standardising,
};
use super::{Activation, Backend, Epilogue, GemmSpec, Noise, Run, Storage};
use crate::rng::{RngKey, drop_threshold, gaussian_uniforms};

pub use simd::{ISA_ENV, Isa};

/// Element-wise work below this many elements runs on one thread (rayon's fork/join costs more).
const PAR_MIN: usize = 1 << 16;

/// GEMMs of fewer multiply-adds (m·n·k) than this run on one thread: below it rayon's
/// fork/join and faer's partitioning cost more than a second core gains (the SdA's batch-1
/// products are below it, the dA's batch-20 ones above).
const GEMM_PAR_MIN: usize = 1 << 25;

/// Independent partial sums kept by reductions, so LLVM can vectorise them (f32 addition is
/// not associative, so a single running sum forces a scalar loop).
const LANES: usize = 16;

/// Defines `fn $name` three times: as written, and compiled for AVX2 + FMA and for AVX-512,
/// picking the widest at run time that the processor has (and `Isa::chosen` allows). The
/// element-wise kernels run several times faster that way than with the x86-64 baseline (SSE2)
/// while computing identical bits: the same IEEE operations in the same order, only more lanes
/// at a time (Rust never contracts a·b + c into an FMA on its own).
macro_rules! simd_kernel {
    ($(#[$meta:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn portable($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                fn avx512($($arg: $ty),*) $(-> $ret)? {
                    portable($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    portable($($arg),*)
                }
                if Isa::chosen() >= Isa::Avx512 {
                    // SAFETY: the processor has the features `avx512` is compiled for.
                    return unsafe { avx512($($arg),*) };
                }
                if Isa::chosen() >= Isa::Avx2 {
                    // SAFETY: the processor has the features `avx2` is compiled for.
                    return unsafe { avx2($($arg),*) };
                }
            }
            portable($($arg),*)
        }
    };
}

simd_kernel! {
    /// One row of `xent_logits` in place: g holds the logits a on entry and
    /// (σ(a) − x)·scale on return; returns Σ softplus(a) − x·a. LANES partial sums in a fixed
    /// order keep it vectorisable and deterministic.
    fn xent_row(g: &mut [f32], x: &[f32], scale: f32) -> f32 {
        let mut sums = [0.0f32; LANES];
        let cols = g.len();
        let tail = cols / LANES * LANES;
        let (g_body, g_tail) = g.split_at_mut(tail);
        for (g, x) in g_body.chunks_exact_mut(LANES).zip(x.chunks_exact(LANES)) {
            for l in 0..LANES {
                let a = g[l];
                let (z, sp) = math::sigmoid_softplus(a);
                g[l] = (z - x[l]) * scale;
                sums[l] += sp - x[l] * a;
            }
        }
        for (g, &x) in g_tail.iter_mut().zip(&x[tail..]) {
            let a = *g;
            let (z, sp) = math::sigmoid_softplus(a);
            *g = (z - x) * scale;
            sums[0] += sp - x * a;
        }
        sums.iter().sum()
    }
}

simd_kernel! {
    /// One row of the bias + sigmoid epilogue: row = σ(row + bias).
    fn bias_sigmoid_row(row: &mut [f32], bias: &[f32]) {
        row.iter_mut().zip(bias).for_each(|(v, &b)| *v = math::sigmoid(*v + b));
    }
}

/// Masking noise on element i of a draw: v where it is kept (`bits(i) >> 8 ≥ threshold`), 0
/// where it is dropped. The twin of `noisy` in shaders/noise.wgsl.
#[inline(always)]
fn masked(key: RngKey, threshold: u32, i: usize, v: f32) -> f32 {
    if key.bits(i as u32) >> 8 >= threshold { v } else { 0.0 }
}

simd_kernel! {
    /// `load_batch` with masking noise: x = pixels · (1/255); x̃ = `masked(x)`.
    fn load_masked(x: &mut [f32], x_tilde: &mut [f32], pixels: &[u8], key: RngKey, threshold: u32) {
        for (i, ((x, xt), &p)) in x.iter_mut().zip(x_tilde.iter_mut()).zip(pixels).enumerate() {
            let v = p as f32 * (1.0 / 255.0);
            *x = v;
            *xt = masked(key, threshold, i, v);
        }
    }
}

simd_kernel! {
    /// `corrupt` with masking noise: x̃ = `masked(x)` element-wise.
    fn corrupt_masked(x_tilde: &mut [f32], x: &[f32], key: RngKey, threshold: u32) {
        for (i, (xt, &v)) in x_tilde.iter_mut().zip(x).enumerate() {
            *xt = masked(key, threshold, i, v);
        }
    }
}

/// Salt-and-pepper noise on element i of a draw: with b = bits(i), `(b & 1)` as 0.0 or 1.0
/// where it is corrupted (`b >> 8 < threshold`, masking noise's dropped set), v elsewhere. The
/// twin of `noisy` in shaders/noise.wgsl.
#[inline(always)]
fn salt_pepper(key: RngKey, threshold: u32, i: usize, v: f32) -> f32 {
    let b = key.bits(i as u32);
    if b >> 8 < threshold { (b & 1) as f32 } else { v }
}

simd_kernel! {
    /// `load_batch` with salt-and-pepper noise: x = pixels · (1/255); x̃ = `salt_pepper(x)`.
    fn load_salt_pepper(
        x: &mut [f32],
        x_tilde: &mut [f32],
        pixels: &[u8],
        key: RngKey,
        threshold: u32,
    ) {
        for (i, ((x, xt), &p)) in x.iter_mut().zip(x_tilde.iter_mut()).zip(pixels).enumerate() {
            let v = p as f32 * (1.0 / 255.0);
            *x = v;
            *xt = salt_pepper(key, threshold, i, v);
        }
    }
}

simd_kernel! {
    /// `corrupt` with salt-and-pepper noise: x̃ = `salt_pepper(x)` element-wise.
    fn corrupt_salt_pepper(x_tilde: &mut [f32], x: &[f32], key: RngKey, threshold: u32) {
        for (i, (xt, &v)) in x_tilde.iter_mut().zip(x).enumerate() {
            *xt = salt_pepper(key, threshold, i, v);
        }
    }
}

simd_kernel! {
    /// Additive Gaussian noise: x̃[i] = x[i] + σ·z, z = √(−2 ln u₁)·cos(2π u₂) with
    /// (u₁, u₂) = `rng::gaussian_uniforms(key, i)` (`rng::gaussian`'s Box–Muller), ln and cos
    /// from `backend::math` so the loop vectorises (libm's are scalar calls).
    fn corrupt_gauss(x_tilde: &mut [f32], x: &[f32], key: RngKey, sigma: f32) {
        for (i, (xt, &v)) in x_tilde.iter_mut().zip(x).enumerate() {
            let (u1, u2) = gaussian_uniforms(key, i as u32);
            *xt = v + sigma * ((-2.0 * math::ln(u1)).sqrt() * math::cos_2pi(u2));
        }
    }
}

/// One row of `softmax_nll`: g = (softmax(a) − onehot(y))·scale; returns (−log softmax(a)_y,
/// whether the first argmax of a differs from y). Computed as m = max a, s = Σ e^(a − m) (in
/// order), −log p_y = m + ln s − a_y; the twin of shaders/softmax_nll.wgsl's row loop.
fn softmax_row(g: &mut [f32], a: &[f32], y: usize, scale: f32) -> (f32, bool) {
    let mut arg = 0;
    for (j, &v) in a.iter().enumerate().skip(1) {
        if v > a[arg] {
            arg = j;
        }
    }
    let m = a[arg];
    let mut s = 0.0f32;
    for (g, &v) in g.iter_mut().zip(a) {
        let e = math::exp(v - m);
        *g = e;
        s += e;
    }
    let inv = 1.0 / s;
    for (j, g) in g.iter_mut().enumerate() {
        let onehot = if j == y { 1.0 } else { 0.0 };
        *g = (*g * inv - onehot) * scale;
    }
    (m + s.ln() - a[y], arg != y)
}

thread_local! {
    /// Per-thread scratch for ops that need temporary storage (packing, partial sums), grown to
    /// the largest size asked for and reused, so a training step allocates nothing.
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on `len` scratch floats (contents unspecified), without allocating once the
/// thread's scratch has grown to `len`. A re-entrant call (which the ops never make) gets a fresh
/// buffer instead of panicking.
fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < len {
                buf.resize(len, 0.0);
            }
            f(&mut buf[..len])
        }
        Err(_) => f(&mut vec![0.0; len]),
    })
}

/// The CPU backend. Tensors are `Vec<f32>`; image and label sets keep their u8 values. Its
/// GEMM kernels run with the instruction set `isa`, and its broadcast products skip the terms
/// of A's zeros when `skip_zeros` (the same bits: `small_gemm`'s `NonZeros`).
#[derive(Clone, Copy, Debug)]
pub struct Cpu {
    isa: Isa,
    skip_zeros: bool,
}

/// The environment variable that turns the skipping of zero inputs off (`off`), to measure
/// what it saves; any other value, or none, leaves it on.
pub const SKIP_ZEROS_ENV: &str = "GPU_DAE_CPU_SKIP_ZEROS";

/// Whether `SKIP_ZEROS_ENV` leaves the skipping on (read once per process).
fn skip_zeros_chosen() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var(SKIP_ZEROS_ENV).map_or(true, |v| v != "off"))
}

impl Default for Cpu {
    fn default() -> Self {
        Cpu::new()
    }
}

/// A u8 image set held by the CPU backend: pixels: [n, dim].
pub struct CpuImages {
    pixels: Vec<u8>,
    dim: usize,
}

impl Cpu {
    /// The CPU backend with the best instruction set the processor has (`Isa::chosen`), its
    /// threads one per core (`RAYON_NUM_THREADS` overrides).
    pub fn new() -> Self {
        Cpu { isa: Isa::chosen(), skip_zeros: skip_zeros_chosen() }
    }

    /// The CPU backend with its GEMMs on `isa`, or None if the processor lacks it (to test and
    /// compare the slower paths).
    pub fn with_isa(isa: Isa) -> Option<Self> {
        isa.available().then_some(Cpu { isa, skip_zeros: skip_zeros_chosen() })
    }

    /// The same backend with the skipping of zero inputs on or off (to compare the two).
    pub fn skipping_zeros(self, on: bool) -> Self {
        Cpu { skip_zeros: on, ..self }
    }

    /// The instruction set of its GEMM kernels.
    pub fn isa(&self) -> Isa {
        self.isa
    }
}

impl Storage for Cpu {
    type Tensor = Vec<f32>;
    type Images = CpuImages;
    type Labels = Vec<u8>;

    fn describe(&self) -> String {
        let zeros = if self.skip_zeros { "" } else { ", zero inputs not skipped" };
        match rayon::current_num_threads() {
            1 => format!("cpu (1 thread, {}{zeros})", self.isa.name()),
            n => format!("cpu ({n} threads, {}{zeros})", self.isa.name()),
        }
    }

    fn zeros(&self, len: usize) -> Vec<f32> {
        vec![0.0; len]
    }

    fn upload(&self, host: &[f32]) -> Vec<f32> {
        host.to_vec()
    }

    fn download(&self, t: &Vec<f32>) -> Vec<f32> {
        t.clone()
    }

    fn upload_images(&self, pixels: &[u8], dim: usize) -> CpuImages {
        CpuImages { pixels: pixels.to_vec(), dim }
    }

    fn upload_labels(&self, labels: &[u8]) -> Vec<u8> {
        labels.to_vec()
    }
}

impl Backend for Cpu {}

/// Implements `Run<Op>` for `Cpu` by calling the op's twin, the function named by its stem.
macro_rules! cpu_twins {
    ($($op:ident$(<$($extra:ty),*>)? => $twin:ident),* $(,)?) => {
        $(
            impl Run<$op<'_, Vec<f32> $($(, $extra)*)?>> for Cpu {
                fn run(&self, op: $op<'_, Vec<f32> $($(, $extra)*)?>) {
                    $twin(op)
                }
            }
        )*
    };
}

impl Run<Gemm<'_, Vec<f32>>> for Cpu {
    fn run(&self, op: Gemm<'_, Vec<f32>>) {
        gemm(*self, op)
    }
}

impl Run<GemmSum<'_, Vec<f32>>> for Cpu {
    fn run(&self, op: GemmSum<'_, Vec<f32>>) {
        gemm_sum(*self, op)
    }
}

impl Run<GemmXent<'_, Vec<f32>>> for Cpu {
    fn run(&self, op: GemmXent<'_, Vec<f32>>) {
        gemm_xent(*self, op)
    }
}

impl Run<LoadGemm<'_, Vec<f32>, CpuImages>> for Cpu {
    fn run(&self, op: LoadGemm<'_, Vec<f32>, CpuImages>) {
        load_gemm(*self, op)
    }
}

impl Run<GemmCorrupt<'_, Vec<f32>>> for Cpu {
    fn run(&self, op: GemmCorrupt<'_, Vec<f32>>) {
        gemm_corrupt(*self, op)
    }
}

impl Run<GemmSqErr<'_, Vec<f32>>> for Cpu {
    fn run(&self, op: GemmSqErr<'_, Vec<f32>>) {
        gemm_sq_err(*self, op)
    }
}

impl Run<DenseUpdate<'_, Vec<f32>>> for Cpu {
    fn run(&self, op: DenseUpdate<'_, Vec<f32>>) {
        dense_update(*self, op)
    }
}

cpu_twins! {
    LoadBatch<CpuImages> => load_batch,
    Corrupt => corrupt,
    XentLogits => xent_logits,
    SqErr => sq_err,
    CountPositive => count_positive,
    SoftmaxNll<Vec<u8>> => softmax_nll,
    ColSum => col_sum,
    Contractive => contractive,
    Affine => affine,
}

/// Applies `f` to every row of `c: [rows, cols]` (with the row index), in parallel when large.
fn for_rows(c: &mut [f32], cols: usize, f: impl Fn(usize, &mut [f32]) + Sync) {
    if c.len() >= PAR_MIN {
        c.par_chunks_mut(cols).enumerate().for_each(|(i, row)| f(i, row));
    } else {
        c.chunks_mut(cols).enumerate().for_each(|(i, row)| f(i, row));
    }
}

/// op(A): [m, k] for A stored row-major [m, k], or [k, m] when `s.trans_a`.
fn op_a(a: &[f32], s: GemmSpec, k: usize) -> MatRef<'_, f32> {
    if s.trans_a {
        MatRef::from_row_major_slice(a, k, s.m).transpose()
    } else {
        MatRef::from_row_major_slice(a, s.m, k)
    }
}

/// op(B): [k, n] for B stored row-major [k, n], or [n, k] when `s.trans_b`.
fn op_b(b: &[f32], s: GemmSpec, k: usize) -> MatRef<'_, f32> {
    if s.trans_b {
        MatRef::from_row_major_slice(b, s.n, k).transpose()
    } else {
        MatRef::from_row_major_slice(b, k, s.n)
    }
}

/// Prepares C for a `product` that adds into it: scales it by β (β = 0: C is overwritten and
/// never read, so NaN there is ignored) and says how the product lands.
fn scale_for_accum(c: &mut [f32], beta: f32) -> Accum {
    if beta == 0.0 {
        return Accum::Replace;
    }
    if beta != 1.0 {
        c.iter_mut().for_each(|v| *v *= beta);
    }
    Accum::Add
}

/// C (= or +=) α·op(A)·op(B) with the shape, transposes and α of `s`; c: [m, n]. k = 0
/// contributes nothing (C is zeroed if replaced).
fn product(c: &mut [f32], a: &[f32], b: &[f32], s: GemmSpec, accum: Accum) {
    let GemmSpec { m, n, k, .. } = s;
    if k == 0 {
        if accum == Accum::Replace {
            c.fill(0.0);
        }
        return;
    }
    let dst = MatMut::from_row_major_slice_mut(c, m, n);
    let par = if m * n * k < GEMM_PAR_MIN { Par::Seq } else { Par::rayon(0) };
    faer::linalg::matmul::matmul(dst, accum, op_a(a, s, k), op_b(b, s, k), s.alpha, par);
}

/// `ops::LoadBatch`: x = pixels · (1/255), x̃ = noise(x), one pass over the batch's pixels.
fn load_batch(op: LoadBatch<'_, Vec<f32>, CpuImages>) {
    let LoadBatch { x, x_tilde, images, first, rows, noise, key, standardise } = op;
    let d = images.dim;
    let src = &images.pixels[first * d..(first + rows) * d];
    let (x, x_tilde) = (&mut x[..rows * d], &mut x_tilde[..rows * d]);
    if standardise.is_none() {
        return load_pixels(x, x_tilde, src, noise, key);
    }
    // The pixels loaded (salt and pepper on them), x standardised, then x̃: standardised
    // like x, or the noise of the standardised x.
    let on_pixels = matches!(noise, Noise::SaltPepper { .. });
    load_pixels(x, x_tilde, src, if on_pixels { noise } else { Noise::None }, key);
    let (mul, add) = standardising(standardise);
    affine_in_place(x, mul, add);
    if on_pixels {
        affine_in_place(x_tilde, mul, add);
    } else {
        corrupt_in_place(x_tilde, x, noise, key);
    }
}

/// x = pixels/255 and x̃ = noise(x), each [pixels.len()].
fn load_pixels(x: &mut [f32], x_tilde: &mut [f32], src: &[u8], noise: Noise, key: RngKey) {
    match noise {
        Noise::None => {
            x.iter_mut().zip(src).for_each(|(o, &p)| *o = p as f32 * (1.0 / 255.0));
            x_tilde.copy_from_slice(x);
        }
        Noise::Mask { p } => load_masked(x, x_tilde, src, key, drop_threshold(p)),
        Noise::SaltPepper { p } => load_salt_pepper(x, x_tilde, src, key, drop_threshold(p)),
        Noise::Gauss { sigma } => {
            x.iter_mut().zip(src).for_each(|(o, &p)| *o = p as f32 * (1.0 / 255.0));
            corrupt_gauss(x_tilde, x, key, sigma);
        }
    }
}

/// `ops::Corrupt`: x̃ = noise(x) element-wise.
fn corrupt(op: Corrupt<'_, Vec<f32>>) {
    let Corrupt { x_tilde, x, len, noise, key } = op;
    corrupt_in_place(&mut x_tilde[..len], &x[..len], noise, key);
}

/// x̃ = noise(x) element-wise, x̃ and x of one length.
fn corrupt_in_place(x_tilde: &mut [f32], x: &[f32], noise: Noise, key: RngKey) {
    match noise {
        Noise::None => x_tilde.copy_from_slice(x),
        Noise::Mask { p } => corrupt_masked(x_tilde, x, key, drop_threshold(p)),
        Noise::SaltPepper { p } => corrupt_salt_pepper(x_tilde, x, key, drop_threshold(p)),
        Noise::Gauss { sigma } => corrupt_gauss(x_tilde, x, key, sigma),
    }
}

/// `ops::Gemm`: the CPU's own kernels for the step's products (`small_gemm`), faer's for
/// larger ones (scaled by β first); the epilogue on each finished slice of rows.
fn gemm(cpu: Cpu, op: Gemm<'_, Vec<f32>>) {
    let Gemm { c, a, b, spec: s, epilogue } = op;
    let GemmSpec { m, n, k, .. } = s;
    let epilogue = match epilogue {
        Epilogue::BiasUpdate { bias } => {
            assert!(!s.trans_b, "gemm BiasUpdate sums B's columns: B must be stored [k, n]");
            col_sum(ColSum { out: bias, a: b, rows: k, cols: n, alpha: s.alpha, beta: 1.0 });
            Epilogue::None
        }
        e => e,
    };
    let c = &mut c[..m * n];
    let finish = |i: usize, j: usize, row: &mut [f32]| finish_row(&epilogue, n, i, j, row);
    if small_gemm::takes(s, 0) {
        small_gemm::gemm(
            (cpu.isa, cpu.skip_zeros),
            c,
            (&a[..m * k], &b[..k * n]),
            None,
            s,
            &finish,
        );
        return;
    }
    let accum = scale_for_accum(c, s.beta);
    product(c, &a[..m * k], &b[..k * n], s, accum);
    if !matches!(epilogue, Epilogue::None) {
        for_rows(c, n, |i, row| finish(i, 0, row));
    }
}

/// The epilogue on row i, columns j..j + row.len() of C: [m, n].
fn finish_row(epilogue: &Epilogue<'_, Vec<f32>>, n: usize, i: usize, j: usize, row: &mut [f32]) {
    match *epilogue {
        Epilogue::None | Epilogue::BiasUpdate { .. } => {}
        Epilogue::BiasAct { bias, act } => {
            let bias = &bias[j..j + row.len()];
            match act {
                Activation::Identity => row.iter_mut().zip(bias).for_each(|(v, &b)| *v += b),
                Activation::Sigmoid => bias_sigmoid_row(row, bias),
                Activation::Relu => {
                    row.iter_mut().zip(bias).for_each(|(v, &b)| *v = (*v + b).max(0.0))
                }
            }
        }
        Epilogue::ActGrad { out, act } => {
            let o = &out[i * n + j..i * n + j + row.len()];
            row.iter_mut().zip(o).for_each(|(v, &o)| *v *= act.grad_from_output(o));
        }
    }
}

/// `ops::GemmSum`: the CPU's own broadcast kernel for the step's updates (`small_gemm`, both
/// pairs in one multiply-add chain per element); otherwise one faer product over the
/// concatenated inner dimension, so C is swept once. op(A) = [op(A₁) | op(A₂)]:
/// [m, k + k2] and op(B) = [op(B₁); op(B₂)]: [k + k2, n], packed row-major as op(A)ᵀ and op(B);
/// for the dA's update (Aᵢ stored [B, V] used transposed, Bᵢ [B, H]) the packing is four
/// contiguous copies.
fn gemm_sum(cpu: Cpu, op: GemmSum<'_, Vec<f32>>) {
    let GemmSum { c, a1, b1, a2, b2, spec: s, k2, biases } = op;
    let GemmSpec { m, n, k, .. } = s;
    if let Some(SumBiases { cols, rows }) = biases {
        assert!(s.trans_a && !s.trans_b, "gemm_sum biases need A₂ [k2, m] and B₁ [k, n]");
        col_sum(ColSum { out: cols, a: b1, rows: k, cols: n, alpha: s.alpha, beta: 1.0 });
        col_sum(ColSum { out: rows, a: a2, rows: k2, cols: m, alpha: s.alpha, beta: 1.0 });
    }
    if small_gemm::takes(s, k2) {
        let second = Some((&a2[..m * k2], &b2[..k2 * n], k2));
        small_gemm::gemm(
            (cpu.isa, cpu.skip_zeros),
            &mut c[..m * n],
            (&a1[..m * k], &b1[..k * n]),
            second,
            s,
            &|_, _, _| {},
        );
        return;
    }
    let kt = k + k2;
    with_scratch(kt * (m + n), |scratch| {
        let (packed_at, packed_b) = scratch.split_at_mut(kt * m);
        let (at1, at2) = packed_at.split_at_mut(k * m);
        MatMut::from_row_major_slice_mut(at1, k, m).copy_from(op_a(&a1[..m * k], s, k).transpose());
        MatMut::from_row_major_slice_mut(at2, k2, m)
            .copy_from(op_a(&a2[..m * k2], s, k2).transpose());
        let (b1p, b2p) = packed_b.split_at_mut(k * n);
        MatMut::from_row_major_slice_mut(b1p, k, n).copy_from(op_b(&b1[..k * n], s, k));
        MatMut::from_row_major_slice_mut(b2p, k2, n).copy_from(op_b(&b2[..k2 * n], s, k2));
        let c = &mut c[..m * n];
        let accum = scale_for_accum(c, s.beta);
        let packed = GemmSpec { k: kt, trans_a: true, trans_b: false, ..s };
        product(c, packed_at, packed_b, packed, accum);
    });
}

/// `ops::DenseUpdate`: one sweep of W (`small_gemm::dense_update`) where the step's kernels
/// take both products, which gives the two GEMMs' bits; the two GEMMs otherwise.
fn dense_update(cpu: Cpu, op: DenseUpdate<'_, Vec<f32>>) {
    let (backward, update) = op.gemm_specs();
    let fused = op.rows > 0 && op.n_in > 0 && op.n_out > 0;
    if !(fused && small_gemm::takes(backward, 0) && small_gemm::takes(update, 0)) {
        op.run_as_gemms(|g| gemm(cpu, g));
        return;
    }
    let DenseUpdate { dx, w, bias, d, x, rows, n_in, n_out, lr, act } = op;
    col_sum(ColSum { out: bias, a: d, rows, cols: n_out, alpha: -lr, beta: 1.0 });
    let epilogue = Epilogue::ActGrad { out: x, act };
    let finish = |i: usize, j: usize, row: &mut [f32]| finish_row(&epilogue, n_in, i, j, row);
    small_gemm::dense_update(cpu.isa, (dx, w), (d, x), (rows, n_in, n_out), -lr, &finish);
}

/// `ops::XentLogits`: the logits copied into grad, then `xent_in_place`.
fn xent_logits(op: XentLogits<'_, Vec<f32>>) {
    let XentLogits { grad, costs, slot, logits, target, rows, cols, scale } = op;
    let len = rows * cols;
    grad[..len].copy_from_slice(&logits[..len]);
    costs[slot] = xent_in_place(&mut grad[..len], &target[..len], cols, scale);
}

/// `ops::GemmXent`: the GEMM into grad (logits plus bias), then `xent_in_place`: the bits of
/// `Gemm` then `XentLogits`.
fn gemm_xent(cpu: Cpu, op: GemmXent<'_, Vec<f32>>) {
    let GemmXent { grad, costs, slot, a, b, spec, bias, target, scale } = op;
    assert!(spec.beta == 0.0, "gemm_xent: β = {} but grad is not read", spec.beta);
    let (rows, cols) = (spec.m, spec.n);
    let epilogue = Epilogue::BiasAct { bias, act: Activation::Identity };
    gemm(cpu, Gemm { c: &mut *grad, a, b, spec, epilogue });
    let len = rows * cols;
    costs[slot] = xent_in_place(&mut grad[..len], &target[..len], cols, scale);
}

/// `ops::LoadGemm`: `load_batch` then `gemm`.
fn load_gemm(cpu: Cpu, op: LoadGemm<'_, Vec<f32>, CpuImages>) {
    op.run_as_ops(load_batch, |g| gemm(cpu, g));
}

/// `ops::GemmCorrupt`: `gemm` then `corrupt`.
fn gemm_corrupt(cpu: Cpu, op: GemmCorrupt<'_, Vec<f32>>) {
    op.run_as_ops(|g| gemm(cpu, g), corrupt);
}

/// `ops::GemmSqErr`: `gemm` then `sq_err`.
fn gemm_sq_err(cpu: Cpu, op: GemmSqErr<'_, Vec<f32>>) {
    op.run_as_ops(|g| gemm(cpu, g), sq_err);
}

/// The cross-entropy of the logits in `grad: [rows, cols]` against `target`, each row by
/// `xent_row` (grad becomes the gradient); returns scale · the row costs summed in row order.
fn xent_in_place(grad: &mut [f32], target: &[f32], cols: usize, scale: f32) -> f32 {
    if cols == 0 {
        return 0.0;
    }
    let rows = grad.len() / cols;
    let row_pass = |(i, (g, c)): (usize, (&mut [f32], &mut f32))| {
        *c = xent_row(g, &target[i * cols..(i + 1) * cols], scale);
    };
    with_scratch(rows, |row_costs| {
        if grad.len() >= PAR_MIN {
            grad.par_chunks_mut(cols).zip(row_costs.par_iter_mut()).enumerate().for_each(row_pass);
        } else {
            grad.chunks_mut(cols).zip(row_costs.iter_mut()).enumerate().for_each(row_pass);
        }
        scale * row_costs.iter().sum::<f32>()
    })
}

/// `ops::SqErr`: one pass, the squared differences summed in order.
fn sq_err(op: SqErr<'_, Vec<f32>>) {
    let SqErr { grad, costs, slot, y, target, rows, cols, scale, out } = op;
    let len = rows * cols;
    let mut sum = 0.0f32;
    for ((g, &y), &x) in grad[..len].iter_mut().zip(&y[..len]).zip(&target[..len]) {
        let d = y - x;
        *g = d * scale * out.grad_from_output(y);
        sum += d * d;
    }
    costs[slot] = scale * sum;
}

/// `ops::CountPositive`: an exact count.
fn count_positive(op: CountPositive<'_, Vec<f32>>) {
    let CountPositive { out, slot, a, len, scale } = op;
    let n = a[..len].iter().filter(|&&v| v > 0.0).count();
    out[slot] = scale * n as f32;
}

/// `ops::SoftmaxNll`: row by row (`softmax_row`), the costs and error counts summed in row
/// order.
fn softmax_nll(op: SoftmaxNll<'_, Vec<f32>, Vec<u8>>) {
    let SoftmaxNll { grad, costs, errors, slot, logits, labels, first, rows, classes, scale } = op;
    assert!(classes >= 1 || rows == 0, "softmax_nll: {rows} rows of 0 classes");
    let len = rows * classes;
    let y = &labels[first..first + rows];
    let (mut nll, mut wrong) = (0.0f32, 0u32);
    let rows_iter = grad[..len]
        .chunks_exact_mut(classes.max(1))
        .zip(logits[..len].chunks_exact(classes.max(1)));
    for ((g, a), &y) in rows_iter.zip(y) {
        let (l, e) = softmax_row(g, a, y as usize, scale);
        nll += l;
        wrong += u32::from(e);
    }
    costs[slot] = scale * nll;
    errors[slot] = wrong as f32;
}

/// `ops::ColSum`: the rows added in order into a scratch row, then scaled.
fn col_sum(op: ColSum<'_, Vec<f32>>) {
    let ColSum { out, a, rows, cols, alpha, beta } = op;
    with_scratch(cols, |acc| {
        acc.fill(0.0);
        for row in a[..rows * cols].chunks_exact(cols.max(1)) {
            acc.iter_mut().zip(row).for_each(|(s, &v)| *s += v);
        }
        for (o, &s) in out[..cols].iter_mut().zip(acc.iter()) {
            *o = if beta == 0.0 { alpha * s } else { alpha * s + beta * *o };
        }
    });
}

/// `ops::Contractive`: W's column norms (`col_sq_norms`), one pass over h's rows in order (dh,
/// and Σₙ sₙⱼ² per column), the columns in order for the Jacobian norm, then W's step
/// (`scale_cols`).
fn contractive(op: Contractive<'_, Vec<f32>>) {
    let Contractive {
        dh,
        w,
        col_norms,
        col_grad,
        jac_sq,
        slot,
        h,
        n_vis,
        rows,
        cols,
        lambda,
        scale,
        lr,
    } = op;
    let coef = 2.0 * lambda * scale;
    col_sq_norms(&mut col_norms[..cols], &w[..n_vis * cols]);
    let c = &col_norms[..cols];
    with_scratch(cols, |acc| {
        // acc[j] = Σₙ sₙⱼ², rows in order
        acc.fill(0.0);
        let rows_iter =
            dh[..rows * cols].chunks_exact_mut(cols.max(1)).zip(h.chunks_exact(cols.max(1)));
        for (d, hr) in rows_iter {
            for j in 0..cols {
                let hv = hr[j];
                let s = hv * (1.0 - hv);
                let s2 = s * s;
                d[j] += coef * c[j] * s2 * (1.0 - 2.0 * hv);
                acc[j] += s2;
            }
        }
        let mut total = 0.0f32;
        for j in 0..cols {
            col_grad[j] = coef * acc[j];
            total += c[j] * acc[j];
        }
        jac_sq[slot] = scale * total;
    });
    scale_cols(&mut w[..n_vis * cols], &col_grad[..cols], -lr);
}

/// out[j] = Σᵢ a[i, j]² for a: [rows, out.len()], the rows' squares added in order.
fn col_sq_norms(out: &mut [f32], a: &[f32]) {
    out.fill(0.0);
    for row in a.chunks_exact(out.len().max(1)) {
        out.iter_mut().zip(row).for_each(|(s, &v)| *s += v * v);
    }
}

/// a[i, j] += α·f[j]·a[i, j] for a: [rows, f.len()], in place, row by row.
fn scale_cols(a: &mut [f32], f: &[f32], alpha: f32) {
    for row in a.chunks_exact_mut(f.len().max(1)) {
        row.iter_mut().zip(f).for_each(|(w, &g)| *w += alpha * g * *w);
    }
}

/// `ops::Affine`: in place.
fn affine(op: Affine<'_, Vec<f32>>) {
    let Affine { x, len, mul, add } = op;
    affine_in_place(&mut x[..len], mul, add);
}

/// x = x·mul + add, element-wise.
fn affine_in_place(x: &mut [f32], mul: f32, add: f32) {
    x.iter_mut().for_each(|v| *v = *v * mul + add);
}
