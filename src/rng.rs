//! Counter-based random numbers: every random value is a pure function of
//! (seed, stream, element index), so the CPU backend and `shaders/rng.wgsl` draw the same bits
//! in any order, on any number of threads, with no state to carry but a stream counter.
//!
//! Construction (all u32 arithmetic, so WGSL reproduces it bit for bit):
//! - `mix32` is Chris Wellons' "lowbias32" integer hash, a bijection on u32;
//! - a draw is keyed by `RngKey::new(seed, stream)`, which hashes the 64-bit seed and the stream
//!   number into two words `k0, k1` on the host;
//! - element `i` gets `bits(i) = mix32(mix32(i ^ k0) ^ k1)`.
//!
//! Uniforms use the top 24 bits: `u = (bits >> 8) · 2⁻²⁴ ∈ [0, 1)`. The masking noise keeps an
//! element when `bits >> 8 ≥ drop_threshold(p)`, an integer comparison, so masks are identical on
//! every device.

/// lowbias32 (Wellons, "Prospecting for hash functions", 2018): a fast, well-mixing bijection.
#[inline(always)]
pub fn mix32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

/// The key of one random draw (one call of a noise op): derived from the run's seed and a stream
/// number that the caller increments for every draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RngKey {
    /// First key word, XORed into the element index before the first hash.
    pub k0: u32,
    /// Second key word, XORed between the two hashes.
    pub k1: u32,
}

impl RngKey {
    /// The key passed with `Noise::None`, which draws nothing (the key is not read).
    pub const UNUSED: RngKey = RngKey { k0: 0, k1: 0 };

    /// Key for draw number `stream` of the run seeded with `seed`.
    pub fn new(seed: u64, stream: u64) -> Self {
        let s = mix32(seed as u32 ^ mix32((seed >> 32) as u32 ^ 0x9e37_79b9));
        let k0 = mix32(s ^ mix32(stream as u32 ^ mix32((stream >> 32) as u32 ^ 0x85eb_ca6b)));
        let k1 = mix32(k0 ^ 0xc2b2_ae35);
        RngKey { k0, k1 }
    }

    /// The 32 random bits of element `i` of this draw.
    #[inline(always)]
    pub fn bits(self, i: u32) -> u32 {
        mix32(mix32(i ^ self.k0) ^ self.k1)
    }

    /// A uniform number in [0, 1) with 24 random bits, for element `i`.
    #[inline(always)]
    pub fn uniform(self, i: u32) -> f32 {
        (self.bits(i) >> 8) as f32 * (1.0 / 16_777_216.0)
    }
}

/// Salt of the second uniform of a Gaussian draw: u₂ comes from `mix32(bits(i) ^ GAUSS_SALT)`.
pub const GAUSS_SALT: u32 = 0x68e3_1da4;

/// The two uniforms of the Gaussian draw of element `i` of `key`:
/// u₁ = ((bits(i) >> 8) + 1)/2²⁴ ∈ (0, 1], u₂ = (mix32(bits(i) ^ GAUSS_SALT) >> 8)/2²⁴ ∈ [0, 1).
/// Exact integer work and exact conversions: the same bits on every backend.
#[inline(always)]
pub fn gaussian_uniforms(key: RngKey, i: u32) -> (f32, f32) {
    let b = key.bits(i);
    let u1 = ((b >> 8) + 1) as f32 * (1.0 / 16_777_216.0);
    let u2 = (mix32(b ^ GAUSS_SALT) >> 8) as f32 * (1.0 / 16_777_216.0);
    (u1, u2)
}

/// The standard normal draw of element `i` of `key` (Box–Muller, cosine branch): with
/// (u₁, u₂) = `gaussian_uniforms(key, i)`, z = √(−2 ln u₁)·cos(2π u₂);
/// |z| ≤ √(2·24·ln 2) ≈ 5.77. Evaluated here with the standard library's ln and cos; the CPU
/// backend's Gaussian noise evaluates the same formula with vectorisable polynomials and
/// shaders/noise.wgsl with the driver's ln and cos, so they agree to a few ulp, not bit for bit.
#[inline(always)]
pub fn gaussian(key: RngKey, i: u32) -> f32 {
    let (u1, u2) = gaussian_uniforms(key, i);
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// The 24-bit threshold below which an element is dropped by masking noise of level `p`
/// (probability of zeroing): an element is kept when `bits >> 8 >= drop_threshold(p)`, so the kept
/// fraction is `1 − round(p·2²⁴)/2²⁴`.
pub fn drop_threshold(p: f32) -> u32 {
    (p.clamp(0.0, 1.0) as f64 * 16_777_216.0).round() as u32
}

/// A small sequential generator for host-side choices (weight initialisation, example order),
/// built on the same hash: draw `n` of stream `stream` is `RngKey::new(seed, stream).bits(n)`.
#[derive(Clone, Debug)]
pub struct HostRng {
    key: RngKey,
    next: u32,
}

impl HostRng {
    /// A generator for stream `stream` of the run seeded with `seed`.
    pub fn new(seed: u64, stream: u64) -> Self {
        HostRng { key: RngKey::new(seed, stream), next: 0 }
    }

    /// The generator of `new(seed, stream)` after `position` draws (a resumed run's order).
    pub fn at(seed: u64, stream: u64, position: u32) -> Self {
        HostRng { key: RngKey::new(seed, stream), next: position }
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        let b = self.key.bits(self.next);
        self.next = self.next.wrapping_add(1);
        b
    }

    /// A uniform number in [0, 1) with 24 random bits.
    pub fn uniform(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// A uniform number in [lo, hi).
    pub fn uniform_in(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.uniform()
    }

    /// A standard normal number: `gaussian` of the next element of this stream.
    pub fn normal(&mut self) -> f32 {
        let z = gaussian(self.key, self.next);
        self.next = self.next.wrapping_add(1);
        z
    }
}
