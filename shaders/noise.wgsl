// Corruption of one element, drawn from the counter-based RNG; needs rng.wgsl. The twin of the
// noise in `cpu::load_batch` and `cpu::corrupt`; the host encodes a `backend::Noise` and its
// key into `NoiseParams` in src/backend/gpu/noise.rs (its kinds' codes are checked against
// these constants by tests/shaders.rs). Element i of a batch draws from bits(i), as on the CPU,
// so both backends corrupt the same elements the same way.
// Masking noise (Vincent et al. 2008): element i is kept iff (bits(i) >> 8) ≥ threshold, with
// threshold = `rng::drop_threshold(p)`; an integer comparison, so masks are bit-identical.
// Salt-and-pepper noise (Vincent et al. 2010) corrupts the same set, (bits(i) >> 8) < threshold,
// replacing element i by the low bit of bits(i) as 0.0 or 1.0: bit-identical too.

// x̃ = x.
const NOISE_NONE: u32 = 0u;
// x̃ = x where kept, 0 where dropped.
const NOISE_MASK: u32 = 1u;
// x̃ = x + σ·z, z ~ N(0, 1) by Box–Muller (`rng::gaussian`); σ's bits in `threshold`.
const NOISE_GAUSS: u32 = 2u;
// x̃ = f32(bits(i) & 1) (0 or 1) where corrupted, x elsewhere.
const NOISE_SALT_PEPPER: u32 = 3u;
// `rng::GAUSS_SALT`.
const GAUSS_SALT: u32 = 0x68e31da4u;

struct NoiseParams {
    // NOISE_NONE, NOISE_MASK, NOISE_GAUSS or NOISE_SALT_PEPPER.
    kind: u32,
    // NOISE_MASK and NOISE_SALT_PEPPER: the 24-bit drop threshold; NOISE_GAUSS: bitcast of σ.
    threshold: u32,
    // RngKey words of this draw.
    k0: u32,
    k1: u32,
}

// x̃ᵢ for the clean value v of element i.
fn noisy(noise: NoiseParams, i: u32, v: f32) -> f32 {
    if noise.kind == NOISE_MASK {
        let keep = (rng_bits(noise.k0, noise.k1, i) >> 8u) >= noise.threshold;
        return select(0.0, v, keep);
    }
    if noise.kind == NOISE_SALT_PEPPER {
        let b = rng_bits(noise.k0, noise.k1, i);
        let corrupted = (b >> 8u) < noise.threshold;
        return select(v, f32(b & 1u), corrupted);
    }
    if noise.kind == NOISE_GAUSS {
        let b = rng_bits(noise.k0, noise.k1, i);
        let u1 = f32((b >> 8u) + 1u) * (1.0 / 16777216.0);
        let u2 = f32(mix32(b ^ GAUSS_SALT) >> 8u) * (1.0 / 16777216.0);
        let z = sqrt(-2.0 * log(u1)) * cos(6.2831855 * u2);
        return v + bitcast<f32>(noise.threshold) * z;
    }
    return v;
}

// (x, x̃) of element i of a loaded batch whose pixel value is v = pixel/255 (`ops::LoadBatch`):
// x = v·mul + add (mul = 1, add = 0 when not standardising: x = v exactly) and x̃ the noise of
// x, except salt and pepper, which corrupts the pixel before it is standardised like x.
fn loaded(noise: NoiseParams, i: u32, v: f32, mul: f32, add: f32) -> vec2<f32> {
    if noise.kind == NOISE_SALT_PEPPER {
        return vec2<f32>(v * mul + add, noisy(noise, i, v) * mul + add);
    }
    let x = v * mul + add;
    return vec2<f32>(x, noisy(noise, i, x));
}
