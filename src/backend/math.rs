//! Branch-free f32 transcendental functions written so LLVM vectorises the loops that call them
//! (libm's `expf`/`log1pf` are scalar calls and cost more than the GEMMs at batch 20).
//! Plain `a * b + c` rather than `mul_add`: without a target FMA feature `mul_add` is a libm
//! call that blocks vectorisation. Polynomials from Cephes (S. Moshier), accurate to a few ulp on the ranges used here.

const LOG2E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// e^x, relative error ≲ 2 ulp for x in [−87.3, 88.0] (2¹²⁷ is the largest scale the bit trick
/// forms, so the range stops short of f32's 88.7); inputs outside are clamped.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.3, 88.0);
    // n = round(x / ln 2) with the 1.5·2²³ trick, which vectorises where `round` may not.
    let shifted = x * LOG2E + 12_582_912.0;
    let n = shifted - 12_582_912.0;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let e = p * r * r + r + 1.0;
    // 2ⁿ from the bits of `shifted`, whose low mantissa bits hold n + 2²² (no float→int cast,
    // whose saturating semantics would stop vectorisation).
    let n_biased = shifted.to_bits().wrapping_sub(0x4b40_0000).wrapping_add(127);
    let scale = f32::from_bits(n_biased << 23);
    e * scale
}

/// ln(1 + y) for y in [0, 1], the only range softplus needs (y = e^(−|a|)).
#[inline(always)]
pub fn ln_1p_unit(y: f32) -> f32 {
    // 1 + y in [1, 2]; Cephes' logf wants the mantissa m in [√½, √2) and f = m − 1. Taking f
    // from y directly (not from the rounded 1 + y) keeps full precision for tiny y.
    let big = y > std::f32::consts::SQRT_2 - 1.0;
    let e = if big { 1.0 } else { 0.0 };
    let f = if big { (y - 1.0) * 0.5 } else { y };
    let z = f * f;
    let mut p = 7.037_683_6e-2_f32;
    p = p * f + -1.151_461e-1;
    p = p * f + 1.167_699_9e-1;
    p = p * f + -1.242_014_1e-1;
    p = p * f + 1.424_932_3e-1;
    p = p * f + -1.666_805_8e-1;
    p = p * f + 2.000_071_5e-1;
    p = p * f + -2.499_999_4e-1;
    p = p * f + 0.333_333_3;
    let mut r = p * f * z;
    r += e * LN2_LO;
    r -= 0.5 * z;
    e * LN2_HI + (f + r)
}

/// σ(a) = 1 / (1 + e^(−a)), stable for any a.
#[inline(always)]
pub fn sigmoid(a: f32) -> f32 {
    1.0 / (1.0 + exp(-a))
}

/// σ(a) and softplus(a) = ln(1 + e^a) from one exponential: with t = e^(−|a|),
/// σ(a) = 1/(1+t) for a ≥ 0 and t/(1+t) otherwise; softplus(a) = max(a, 0) + ln(1 + t).
#[inline(always)]
pub fn sigmoid_softplus(a: f32) -> (f32, f32) {
    let t = exp(-a.abs());
    let inv = 1.0 / (1.0 + t);
    let s = if a >= 0.0 { inv } else { t * inv };
    (s, a.max(0.0) + ln_1p_unit(t))
}
