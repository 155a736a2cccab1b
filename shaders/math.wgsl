// f32 transcendental functions: the twins of src/backend/math.rs (Cephes polynomials by
// S. Moshier), so both backends evaluate σ and softplus with the same formulas and constants,
// independently of the precision a driver's exp/log happen to have. The GPU evaluates the
// polynomials with fma (native on GPUs; the CPU twin uses a·b + c to vectorise), so the two
// agree to a few ulp rather than bit for bit.

const LOG2E: f32 = 1.442695;
const LN2_HI: f32 = 0.6933594;
const LN2_LO: f32 = -2.1219444e-4;
// std::f32::consts::SQRT_2 − 1.0 evaluated in f32, as the CPU twin does.
const SQRT2_M1: f32 = 0.41421354;

// e^x, relative error ≲ 2 ulp for x in [−87.3, 88.0] (2^127 is the largest scale the bit trick
// forms); inputs outside are clamped. Twin of `exp` in src/backend/math.rs.
fn exp_f(x_in: f32) -> f32 {
    let x = clamp(x_in, -87.3, 88.0);
    let n = round(x * LOG2E);
    let r = fma(n, -LN2_LO, fma(n, -LN2_HI, x));
    var p = 1.9875691e-4;
    p = fma(p, r, 1.3981999e-3);
    p = fma(p, r, 8.333452e-3);
    p = fma(p, r, 4.1665796e-2);
    p = fma(p, r, 1.6666665e-1);
    p = fma(p, r, 5.0000001e-1);
    let e = fma(p * r, r, r) + 1.0;
    let scale = bitcast<f32>(u32(i32(n) + 127) << 23u);
    return e * scale;
}

// ln(1 + y) for y in [0, 1], the only range softplus needs (y = e^(−|a|)).
fn ln_1p_unit(y: f32) -> f32 {
    let big = y > SQRT2_M1;
    let e = select(0.0, 1.0, big);
    let f = select(y, (y - 1.0) * 0.5, big);
    let z = f * f;
    var p = 7.0376836e-2;
    p = fma(p, f, -1.151461e-1);
    p = fma(p, f, 1.1676999e-1);
    p = fma(p, f, -1.2420141e-1);
    p = fma(p, f, 1.4249323e-1);
    p = fma(p, f, -1.6668058e-1);
    p = fma(p, f, 2.0000715e-1);
    p = fma(p, f, -2.4999994e-1);
    p = fma(p, f, 3.3333331e-1);
    var r = p * f * z;
    r = fma(e, LN2_LO, r);
    r = fma(-0.5, z, r);
    return fma(e, LN2_HI, f + r);
}

// σ(a) = 1 / (1 + e^(−a)); for a ≤ −88 e^(−a) saturates at e^88 and σ underflows to ~0, as on the CPU.
fn sigmoid(a: f32) -> f32 {
    return 1.0 / (1.0 + exp_f(-a));
}

// (σ(a), softplus(a)) from one exponential: with t = e^(−|a|), σ(a) = 1/(1+t) for a ≥ 0 and
// t/(1+t) otherwise; softplus(a) = ln(1 + e^a) = max(a, 0) + ln(1 + t). Never forms log σ.
fn sigmoid_softplus(a: f32) -> vec2<f32> {
    let t = exp_f(-abs(a));
    let inv = 1.0 / (1.0 + t);
    let s = select(t * inv, inv, a >= 0.0);
    return vec2<f32>(s, max(a, 0.0) + ln_1p_unit(t));
}
