//! Branch-free f32 transcendental functions written so LLVM vectorises the loops that call them
//! (libm's `expf`/`log1pf`/`logf`/`cosf` are scalar calls and cost more than the GEMMs at batch 20).
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

/// ln(1 + f) + e·ln 2 for f in [√½ − 1, √2 − 1] (Cephes' logf after its range reduction;
/// ln 2 is added as LN2_HI + LN2_LO so e·ln 2 costs no accuracy for small integers e).
#[inline(always)]
fn ln_reduced(e: f32, f: f32) -> f32 {
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

/// ln(1 + y) for y in [0, 1], the only range softplus needs (y = e^(−|a|)).
#[inline(always)]
pub fn ln_1p_unit(y: f32) -> f32 {
    // 1 + y in [1, 2]; Cephes' logf wants the mantissa m in [√½, √2) and f = m − 1. Taking f
    // from y directly (not from the rounded 1 + y) keeps full precision for tiny y.
    let big = y > std::f32::consts::SQRT_2 - 1.0;
    let e = if big { 1.0 } else { 0.0 };
    let f = if big { (y - 1.0) * 0.5 } else { y };
    ln_reduced(e, f)
}

/// ln x for a normal, finite x > 0 (Cephes' logf; the Box–Muller ln u₁, u₁ ∈ [2⁻²⁴, 1]).
/// x = m·2^e with m ∈ [½, 1) read from the bits; m < √½ is taken as 2m·2^(e−1), so
/// ln x = e·ln 2 + ln(1 + f) with f = m − 1 or 2m − 1 in [√½ − 1, √2 − 1), both exact.
#[inline(always)]
pub fn ln(x: f32) -> f32 {
    let bits = x.to_bits();
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000);
    let e = ((bits >> 23) as i32 - 126) as f32;
    let small = m < std::f32::consts::FRAC_1_SQRT_2;
    let e = if small { e - 1.0 } else { e };
    let f = if small { m + m - 1.0 } else { m - 1.0 };
    ln_reduced(e, f)
}

/// cos(2πu) for u in [0, 1] (the Box–Muller cos 2πu₂). The reduction is exact: with
/// a = min(u, 1 − u) ∈ [0, ½], cos 2πu = cos 2πa = −cos 2π(½ − a), then
/// cos 2πb = sin 2π(¼ − b), leaving x = 2πc with c ∈ [0, ⅛] (each difference is exact by
/// Sterbenz's lemma); Cephes' sinf/cosf polynomials on [0, π/4] finish it.
#[inline(always)]
pub fn cos_2pi(u: f32) -> f32 {
    let a = if u > 0.5 { 1.0 - u } else { u };
    let neg = a > 0.25;
    let b = if neg { 0.5 - a } else { a };
    let use_sin = b > 0.125;
    let c = if use_sin { 0.25 - b } else { b };
    let x = c * std::f32::consts::TAU;
    let z = x * x;
    // sin x = x + x³·P(x²), cos x = 1 − x²/2 + x⁴·Q(x²) on [−π/4, π/4].
    let sin = ((-1.951_529_6e-4 * z + 8.332_161e-3) * z - 1.666_665_5e-1) * z * x + x;
    let cos = ((2.443_315_7e-5 * z - 1.388_731_6e-3) * z + 4.166_664_6e-2) * z * z - 0.5 * z + 1.0;
    let r = if use_sin { sin } else { cos };
    if neg { -r } else { r }
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
