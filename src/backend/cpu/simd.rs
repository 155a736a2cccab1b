//! The CPU backend's instruction sets, chosen at run time, and the vector type its GEMM kernels
//! are written over (`Lanes`): AVX-512 (16 f32 lanes), AVX2 + FMA (8 lanes) and a portable
//! path (8 lanes of plain Rust, unfused multiply-add) that runs anywhere.
//!
//! Each kernel is written once, generic over `Lanes`, and compiled three times inside
//! `#[target_feature]` entry points (see `small_gemm`). Results depend on the instruction set
//! (lane count, fused or unfused multiply-add), never on the thread count: the same seed on the
//! same machine gives the same bits.

use std::sync::OnceLock;

/// The instruction set the CPU backend's kernels run with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isa {
    /// Plain Rust, no target features: any processor.
    Portable,
    /// x86-64 AVX2 with FMA.
    Avx2,
    /// x86-64 AVX-512 (F).
    Avx512,
}

/// The environment variable that caps the instruction set (`portable`, `avx2`, `avx512`), to
/// test or compare the slower paths on a processor that has the faster ones.
pub const ISA_ENV: &str = "GPU_DAE_CPU_ISA";

impl Isa {
    /// The best instruction set this processor has.
    pub fn detected() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Isa::Avx2;
            }
        }
        Isa::Portable
    }

    /// The instruction set the backend uses by default: `detected()`, capped by `ISA_ENV` when
    /// it is set (read once per process). An unknown value or one the processor lacks is
    /// reported once on stderr and ignored, as far as it asks for more than the processor has.
    pub fn chosen() -> Isa {
        static CHOSEN: OnceLock<Isa> = OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let detected = Isa::detected();
            let Ok(asked) = std::env::var(ISA_ENV) else { return detected };
            match Isa::parse(&asked) {
                Some(isa) if isa <= detected => isa,
                Some(_) => {
                    eprintln!(
                        "gpu-dae: {ISA_ENV}={asked}: this processor has only {}; using it",
                        detected.name()
                    );
                    detected
                }
                None => {
                    eprintln!(
                        "gpu-dae: {ISA_ENV}={asked}: expected portable, avx2 or avx512; using {}",
                        detected.name()
                    );
                    detected
                }
            }
        })
    }

    /// `name()`'s inverse.
    pub fn parse(s: &str) -> Option<Isa> {
        match s {
            "portable" => Some(Isa::Portable),
            "avx2" => Some(Isa::Avx2),
            "avx512" => Some(Isa::Avx512),
            _ => None,
        }
    }

    /// The spelling used by `ISA_ENV`, logs and `run.json`: "portable", "avx2", "avx512".
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    /// Whether this processor can run `self`.
    pub fn available(self) -> bool {
        self <= Isa::detected()
    }
}

/// A vector of `N` f32 lanes. Every method is `unsafe`: it may use instructions the processor
/// must have (the caller runs inside a `#[target_feature]` function of the matching set), and
/// the pointer methods read or write `N` (or `len`) floats there.
pub(crate) trait Lanes: Copy {
    /// Lanes per vector.
    const N: usize;
    /// Whether the set has 32 vector registers (AVX-512) rather than 16, so kernels can hold
    /// larger register tiles.
    const WIDE: bool;

    /// All lanes 0.
    unsafe fn zero() -> Self;
    /// All lanes `v`.
    unsafe fn splat(v: f32) -> Self;
    /// `N` floats from `p`.
    unsafe fn load(p: *const f32) -> Self;
    /// `len < N` floats from `p`, the other lanes 0 (nothing past `p + len` is read).
    unsafe fn load_part(p: *const f32, len: usize) -> Self;
    /// Stores the `N` lanes at `p`.
    unsafe fn store(self, p: *mut f32);
    /// Stores the first `len < N` lanes at `p` (nothing past `p + len` is written).
    unsafe fn store_part(self, p: *mut f32, len: usize);
    /// a·b + c: fused where the set has FMA, else rounded twice.
    unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self;
    /// a·b.
    unsafe fn mul(a: Self, b: Self) -> Self;
    /// The sum of the lanes, in a fixed order (a pairwise tree).
    unsafe fn sum(self) -> f32;
    /// `sum()` of each of 16 vectors, element-for-element the same bits (the same tree per
    /// vector), returned in the order of `acc`. AVX-512 computes all 16 in one
    /// transpose-and-add network.
    #[inline(always)]
    unsafe fn sum16(acc: &[Self; 16]) -> [f32; 16] {
        let mut out = [0.0; 16];
        for (o, a) in out.iter_mut().zip(acc) {
            // SAFETY: forwarded from the caller.
            *o = unsafe { a.sum() };
        }
        out
    }
    /// Asks for the cache line at `p` to be brought into L1 (a hint; no-op where unsupported).
    #[inline(always)]
    unsafe fn prefetch(_p: *const f32) {}

    /// `len` floats from `p` (`len ≤ N`): `load` when the vector is whole.
    #[inline(always)]
    unsafe fn load_n(p: *const f32, len: usize) -> Self {
        unsafe { if len == Self::N { Self::load(p) } else { Self::load_part(p, len) } }
    }
    /// Stores the first `len ≤ N` lanes at `p`: `store` when the vector is whole.
    #[inline(always)]
    unsafe fn store_n(self, p: *mut f32, len: usize) {
        unsafe { if len == Self::N { self.store(p) } else { self.store_part(p, len) } }
    }
}

/// The portable vector: 8 lanes of plain Rust (LLVM turns the loops into whatever vectors the
/// baseline target has, SSE2 on x86-64).
#[derive(Clone, Copy)]
pub(crate) struct Portable([f32; 8]);

impl Lanes for Portable {
    const N: usize = 8;
    const WIDE: bool = false;

    #[inline(always)]
    unsafe fn zero() -> Self {
        Portable([0.0; 8])
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        Portable([v; 8])
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees 8 readable floats at p.
        Portable(unsafe { p.cast::<[f32; 8]>().read_unaligned() })
    }
    #[inline(always)]
    unsafe fn load_part(p: *const f32, len: usize) -> Self {
        let mut v = [0.0; 8];
        for (l, v) in v.iter_mut().enumerate().take(len) {
            // SAFETY: the caller guarantees len readable floats at p.
            *v = unsafe { *p.add(l) };
        }
        Portable(v)
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller guarantees 8 writable floats at p.
        unsafe { p.cast::<[f32; 8]>().write_unaligned(self.0) }
    }
    #[inline(always)]
    unsafe fn store_part(self, p: *mut f32, len: usize) {
        for (l, &v) in self.0.iter().enumerate().take(len) {
            // SAFETY: the caller guarantees len writable floats at p.
            unsafe { *p.add(l) = v };
        }
    }
    #[inline(always)]
    unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
        Portable(std::array::from_fn(|l| a.0[l] * b.0[l] + c.0[l]))
    }
    #[inline(always)]
    unsafe fn mul(a: Self, b: Self) -> Self {
        Portable(std::array::from_fn(|l| a.0[l] * b.0[l]))
    }
    #[inline(always)]
    unsafe fn sum(self) -> f32 {
        let v = self.0;
        let q = [v[0] + v[4], v[1] + v[5], v[2] + v[6], v[3] + v[7]];
        (q[0] + q[2]) + (q[1] + q[3])
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::{Avx2, Avx512};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::Lanes;

    /// AVX2 + FMA: 8 lanes in a `__m256`.
    #[derive(Clone, Copy)]
    pub(crate) struct Avx2(__m256);

    /// Lane indices 0..8, to build AVX2's partial-load masks.
    const LANE_INDEX: [i32; 8] = [0, 1, 2, 3, 4, 5, 6, 7];

    /// The AVX2 mask whose first `len` lanes are set.
    #[inline(always)]
    unsafe fn mask8(len: usize) -> __m256i {
        unsafe {
            let idx = _mm256_loadu_si256(LANE_INDEX.as_ptr().cast());
            _mm256_cmpgt_epi32(_mm256_set1_epi32(len as i32), idx)
        }
    }

    impl Lanes for Avx2 {
        const N: usize = 8;
        const WIDE: bool = false;

        #[inline(always)]
        unsafe fn zero() -> Self {
            unsafe { Avx2(_mm256_setzero_ps()) }
        }
        #[inline(always)]
        unsafe fn splat(v: f32) -> Self {
            unsafe { Avx2(_mm256_set1_ps(v)) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            unsafe { Avx2(_mm256_loadu_ps(p)) }
        }
        #[inline(always)]
        unsafe fn load_part(p: *const f32, len: usize) -> Self {
            unsafe { Avx2(_mm256_maskload_ps(p, mask8(len))) }
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            unsafe { _mm256_storeu_ps(p, self.0) }
        }
        #[inline(always)]
        unsafe fn store_part(self, p: *mut f32, len: usize) {
            unsafe { _mm256_maskstore_ps(p, mask8(len), self.0) }
        }
        #[inline(always)]
        unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
            unsafe { Avx2(_mm256_fmadd_ps(a.0, b.0, c.0)) }
        }
        #[inline(always)]
        unsafe fn mul(a: Self, b: Self) -> Self {
            unsafe { Avx2(_mm256_mul_ps(a.0, b.0)) }
        }
        #[inline(always)]
        unsafe fn sum(self) -> f32 {
            unsafe {
                // (l + l+4), then (l + l+2), then (l + l+1): Portable::sum's tree.
                let q =
                    _mm_add_ps(_mm256_castps256_ps128(self.0), _mm256_extractf128_ps(self.0, 1));
                let d = _mm_add_ps(q, _mm_movehl_ps(q, q));
                _mm_cvtss_f32(_mm_add_ss(d, _mm_shuffle_ps(d, d, 1)))
            }
        }
    }

    /// AVX-512: 16 lanes in a `__m512`.
    #[derive(Clone, Copy)]
    pub(crate) struct Avx512(__m512);

    impl Lanes for Avx512 {
        const N: usize = 16;
        const WIDE: bool = true;

        #[inline(always)]
        unsafe fn sum16(acc: &[Self; 16]) -> [f32; 16] {
            // Four levels, each adding the halves `sum` adds (l + l+8, l + l+4, l + l+2,
            // l + l+1) for all vectors at once. Lane 4b + c of the result is vector 4c + b.
            unsafe {
                let t: [__m512; 8] = std::array::from_fn(|k| {
                    let (a, b) = (acc[2 * k].0, acc[2 * k + 1].0);
                    _mm512_add_ps(
                        _mm512_shuffle_f32x4::<0b01_00_01_00>(a, b),
                        _mm512_shuffle_f32x4::<0b11_10_11_10>(a, b),
                    )
                });
                let u: [__m512; 4] = std::array::from_fn(|k| {
                    let (a, b) = (t[2 * k], t[2 * k + 1]);
                    _mm512_add_ps(
                        _mm512_shuffle_f32x4::<0b10_00_10_00>(a, b),
                        _mm512_shuffle_f32x4::<0b11_01_11_01>(a, b),
                    )
                });
                let v: [__m512; 2] = std::array::from_fn(|k| {
                    let (a, b) = (u[2 * k], u[2 * k + 1]);
                    _mm512_add_ps(
                        _mm512_shuffle_ps::<0b01_00_01_00>(a, b),
                        _mm512_shuffle_ps::<0b11_10_11_10>(a, b),
                    )
                });
                let r = _mm512_add_ps(
                    _mm512_shuffle_ps::<0b10_00_10_00>(v[0], v[1]),
                    _mm512_shuffle_ps::<0b11_01_11_01>(v[0], v[1]),
                );
                let mut lanes = [0.0f32; 16];
                _mm512_storeu_ps(lanes.as_mut_ptr(), r);
                std::array::from_fn(|i| lanes[4 * (i % 4) + i / 4])
            }
        }

        #[inline(always)]
        unsafe fn prefetch(p: *const f32) {
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) }
        }

        #[inline(always)]
        unsafe fn zero() -> Self {
            unsafe { Avx512(_mm512_setzero_ps()) }
        }
        #[inline(always)]
        unsafe fn splat(v: f32) -> Self {
            unsafe { Avx512(_mm512_set1_ps(v)) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            unsafe { Avx512(_mm512_loadu_ps(p)) }
        }
        #[inline(always)]
        unsafe fn load_part(p: *const f32, len: usize) -> Self {
            unsafe { Avx512(_mm512_maskz_loadu_ps(((1u32 << len) - 1) as __mmask16, p)) }
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            unsafe { _mm512_storeu_ps(p, self.0) }
        }
        #[inline(always)]
        unsafe fn store_part(self, p: *mut f32, len: usize) {
            unsafe { _mm512_mask_storeu_ps(p, ((1u32 << len) - 1) as __mmask16, self.0) }
        }
        #[inline(always)]
        unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
            unsafe { Avx512(_mm512_fmadd_ps(a.0, b.0, c.0)) }
        }
        #[inline(always)]
        unsafe fn mul(a: Self, b: Self) -> Self {
            unsafe { Avx512(_mm512_mul_ps(a.0, b.0)) }
        }
        #[inline(always)]
        unsafe fn sum(self) -> f32 {
            unsafe {
                // (l + l+8), then AVX2's tree on the 8 sums.
                let lo = _mm512_castps512_ps256(self.0);
                let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(self.0), 1));
                Avx2(_mm256_add_ps(lo, hi)).sum()
            }
        }
    }
}
