//! The CPU backend's ops against naive loops in f64, on awkward shapes.

use gpu_dae::backend::cpu::Cpu;
use gpu_dae::backend::{Activation, Backend, Epilogue, GemmSpec, Noise};
use gpu_dae::rng::RngKey;

use crate::util::{Tol, assert_close, uniforms};

/// Shapes (m, n, k) where no tile divides: 1, 7, 33, 784 as in the issue.
const SHAPES: &[(usize, usize, usize)] =
    &[(1, 1, 1), (7, 33, 1), (1, 7, 33), (33, 7, 784), (7, 784, 33), (20, 500, 784)];

fn naive_gemm(c: &mut [f32], a: &[f32], b: &[f32], s: GemmSpec) {
    for i in 0..s.m {
        for j in 0..s.n {
            let mut acc = 0.0f64;
            for p in 0..s.k {
                let av = if s.trans_a { a[p * s.m + i] } else { a[i * s.k + p] };
                let bv = if s.trans_b { b[j * s.k + p] } else { b[p * s.n + j] };
                acc += av as f64 * bv as f64;
            }
            let prev = if s.beta == 0.0 { 0.0 } else { s.beta as f64 * c[i * s.n + j] as f64 };
            c[i * s.n + j] = (s.alpha as f64 * acc + prev) as f32;
        }
    }
}

/// f32 dot products of length k against f64: rounding error grows like √k.
fn gemm_tol(k: usize) -> Tol {
    Tol { rel: 1e-5, abs: 1e-5 * (k as f64).sqrt() }
}

fn sigmoid64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn gemm_matches_naive_loops_for_every_transpose_and_scaling() {
    let be = Cpu::new();
    for &(m, n, k) in SHAPES {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            for (alpha, beta) in [(1.0, 0.0), (-0.1, 1.0), (0.5, -2.0)] {
                let spec = GemmSpec { m, n, k, trans_a: ta, trans_b: tb, alpha, beta };
                let a = uniforms(1, m * k, -1.0, 1.0);
                let b = uniforms(2, k * n, -1.0, 1.0);
                let c0 =
                    if beta == 0.0 { vec![f32::NAN; m * n] } else { uniforms(3, m * n, -1.0, 1.0) };
                let mut want = c0.clone();
                naive_gemm(&mut want, &a, &b, spec);
                let mut got = c0;
                be.gemm(&mut got, &a, &b, spec, Epilogue::None);
                assert_close(&format!("gemm {spec:?}"), &got, &want, gemm_tol(k));
            }
        }
    }
}

#[test]
fn gemm_epilogues_match_naive_loops() {
    let be = Cpu::new();
    for &(m, n, k) in SHAPES {
        let spec = GemmSpec::new(m, n, k);
        let a = uniforms(4, m * k, -1.0, 1.0);
        let b = uniforms(5, k * n, -1.0, 1.0);
        let bias = uniforms(6, n, -2.0, 2.0);
        let mut plain = vec![0.0; m * n];
        naive_gemm(&mut plain, &a, &b, spec);
        for act in [Activation::Identity, Activation::Sigmoid] {
            let want: Vec<f32> = plain
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let y = v as f64 + bias[i % n] as f64;
                    (if act == Activation::Sigmoid { sigmoid64(y) } else { y }) as f32
                })
                .collect();
            let mut got = vec![0.0; m * n];
            be.gemm(&mut got, &a, &b, spec, Epilogue::BiasAct { bias: &bias, act });
            assert_close(&format!("bias+{act:?} {m}x{n}x{k}"), &got, &want, gemm_tol(k));
        }
        let out = uniforms(7, m * n, 0.0, 1.0);
        let want: Vec<f32> = plain
            .iter()
            .zip(&out)
            .map(|(&v, &o)| (v as f64 * o as f64 * (1.0 - o as f64)) as f32)
            .collect();
        let mut got = vec![0.0; m * n];
        be.gemm(&mut got, &a, &b, spec, Epilogue::ActGrad { out: &out, act: Activation::Sigmoid });
        assert_close(&format!("act-grad {m}x{n}x{k}"), &got, &want, gemm_tol(k));
    }
}

#[test]
fn gemm_sum_matches_naive_loops_for_every_transpose_and_scaling() {
    let be = Cpu::new();
    // (m, n, k, k2): k ≠ k2, empty pairs, and the dA's update [784, 20]·[20, 500] twice.
    let shapes = [
        (1, 1, 1, 1),
        (7, 33, 1, 5),
        (1, 7, 33, 7),
        (33, 7, 784, 1),
        (7, 33, 0, 5),
        (7, 33, 5, 0),
        (784, 500, 20, 20),
    ];
    for (m, n, k, k2) in shapes {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            for (alpha, beta) in [(1.0, 0.0), (-0.1, 1.0), (0.5, -2.0)] {
                let spec = GemmSpec { m, n, k, trans_a: ta, trans_b: tb, alpha, beta };
                let (a1, b1) = (uniforms(1, m * k, -1.0, 1.0), uniforms(2, k * n, -1.0, 1.0));
                let (a2, b2) = (uniforms(3, m * k2, -1.0, 1.0), uniforms(4, k2 * n, -1.0, 1.0));
                let c0 =
                    if beta == 0.0 { vec![f32::NAN; m * n] } else { uniforms(5, m * n, -1.0, 1.0) };
                // α·(P₁ + P₂) + β·C = (α·P₁ + β·C) + α·P₂, each naive sum in f64.
                let mut want = c0.clone();
                naive_gemm(&mut want, &a1, &b1, spec);
                naive_gemm(&mut want, &a2, &b2, GemmSpec { k: k2, beta: 1.0, ..spec });
                let mut got = c0;
                be.gemm_sum(&mut got, (&a1, &b1), (&a2, &b2), spec, k2);
                assert_close(&format!("gemm_sum {spec:?} k2={k2}"), &got, &want, gemm_tol(k + k2));
            }
        }
    }
}

#[test]
fn xent_logits_matches_the_log_sigmoid_formula_in_f64() {
    let be = Cpu::new();
    for (rows, cols) in [(1, 1), (7, 33), (3, 784), (20, 784)] {
        // Logits across the sigmoid's whole useful range, including saturated values.
        let a = uniforms(8, rows * cols, -30.0, 30.0);
        let x = uniforms(9, rows * cols, 0.0, 1.0);
        let scale = 1.0 / rows as f32;
        let mut grad = vec![0.0; rows * cols];
        let mut costs = vec![0.0; 3];
        be.xent_logits(&mut grad, &mut costs, 1, &a, &x, rows, cols, scale);
        let mut want_cost = 0.0f64;
        let mut want_grad = Vec::new();
        for (&a, &x) in a.iter().zip(&x) {
            let (a, x) = (a as f64, x as f64);
            // −[x log σ(a) + (1 − x) log(1 − σ(a))], with log σ(a) = −ln(1 + e^−a).
            let log_z = -(-a).exp().ln_1p();
            let log_1mz = -a.exp().ln_1p();
            want_cost -= x * log_z + (1.0 - x) * log_1mz;
            want_grad.push(((sigmoid64(a) - x) * scale as f64) as f32);
        }
        want_cost *= scale as f64;
        assert_close("xent grad", &grad, &want_grad, Tol { rel: 1e-5, abs: 1e-7 });
        assert_close("xent cost", &costs[1..2], &[want_cost as f32], Tol { rel: 1e-5, abs: 1e-6 });
        assert_eq!((costs[0], costs[2]), (0.0, 0.0), "only the given slot is written");
    }
}

#[test]
fn col_sum_matches_naive_loops() {
    let be = Cpu::new();
    for (rows, cols) in [(1, 1), (7, 33), (33, 7), (20, 784)] {
        let a = uniforms(10, rows * cols, -1.0, 1.0);
        for (alpha, beta) in [(1.0f32, 0.0f32), (-0.1, 1.0)] {
            let out0 = uniforms(11, cols, -1.0, 1.0);
            let want: Vec<f32> = (0..cols)
                .map(|j| {
                    let s: f64 = (0..rows).map(|i| a[i * cols + j] as f64).sum();
                    (alpha as f64 * s + beta as f64 * out0[j] as f64) as f32
                })
                .collect();
            let mut got = out0.clone();
            be.col_sum(&mut got, &a, rows, cols, alpha, beta);
            assert_close("col_sum", &got, &want, Tol::F32_REORDERED);
        }
    }
}

#[test]
fn load_batch_scales_the_chosen_rows_to_unit_interval() {
    let be = Cpu::new();
    let dim = 7;
    let pixels: Vec<u8> = (0..5 * dim).map(|i| (i * 37 % 256) as u8).collect();
    let images = be.upload_images(&pixels, dim);
    let (mut x, mut x_tilde) = (vec![0.0; 2 * dim], vec![f32::NAN; 2 * dim]);
    be.load_batch(&mut x, &mut x_tilde, &images, 2, 2, Noise::None, RngKey::new(1, 2));
    // Defined as p · f32(1/255), a correctly rounded product on every backend; within 1 ulp of p/255.
    let want: Vec<f32> =
        pixels[2 * dim..4 * dim].iter().map(|&p| p as f32 * (1.0 / 255.0)).collect();
    assert_eq!(x, want);
    assert_eq!(x_tilde, want, "no noise: x̃ = x");
    for (&got, &p) in x.iter().zip(&pixels[2 * dim..4 * dim]) {
        let exact = p as f64 / 255.0;
        assert!((got as f64 - exact).abs() <= f32::EPSILON as f64 * exact, "pixel {p} → {got}");
    }
}

#[test]
fn masking_noise_zeroes_exactly_the_dropped_elements() {
    let be = Cpu::new();
    let (dim, rows, first) = (784, 7, 2);
    let pixels: Vec<u8> = (0..10 * dim).map(|i| (i * 37 % 255 + 1) as u8).collect();
    let images = be.upload_images(&pixels, dim);
    let key = RngKey::new(5, 9);
    let t = gpu_dae::rng::drop_threshold(0.3);
    let (mut x, mut x_tilde) = (vec![0.0; rows * dim], vec![0.0; rows * dim]);
    be.load_batch(&mut x, &mut x_tilde, &images, first, rows, Noise::Mask { p: 0.3 }, key);
    let mut dropped = 0;
    for i in 0..rows * dim {
        // Element i of the batch (not of the image set) draws bits(i).
        let kept = key.bits(i as u32) >> 8 >= t;
        assert_eq!(x[i], pixels[first * dim + i] as f32 * (1.0 / 255.0), "x element {i}");
        assert_eq!(x_tilde[i], if kept { x[i] } else { 0.0 }, "x̃ element {i}");
        dropped += usize::from(!kept);
    }
    let frac = dropped as f64 / (rows * dim) as f64;
    assert!((frac - 0.3).abs() < 0.03, "dropped fraction {frac}, 0.3 wanted");
}

#[test]
fn salt_and_pepper_noise_sets_exactly_the_dropped_elements_to_their_low_bit() {
    let be = Cpu::new();
    let (dim, rows, first) = (784, 7, 2);
    let pixels: Vec<u8> = (0..10 * dim).map(|i| (i * 37 % 256) as u8).collect();
    let images = be.upload_images(&pixels, dim);
    let key = RngKey::new(5, 9);
    let t = gpu_dae::rng::drop_threshold(0.3);
    let (mut x, mut x_tilde) = (vec![0.0; rows * dim], vec![0.0; rows * dim]);
    be.load_batch(&mut x, &mut x_tilde, &images, first, rows, Noise::SaltPepper { p: 0.3 }, key);
    for i in 0..rows * dim {
        // Element i of the batch draws bits(i): corrupted as masking noise drops, then its low bit.
        let b = key.bits(i as u32);
        let want = if b >> 8 < t { (b & 1) as f32 } else { x[i] };
        assert_eq!(x[i], pixels[first * dim + i] as f32 * (1.0 / 255.0), "x element {i}");
        assert_eq!(x_tilde[i].to_bits(), want.to_bits(), "x̃ element {i}");
    }
}

#[test]
fn gaussian_noise_matches_box_muller_in_f64() {
    use gpu_dae::rng::gaussian_uniforms;
    let be = Cpu::new();
    let n = 1 << 20;
    let mut z = vec![f32::NAN; n];
    let key = RngKey::new(31, 4);
    be.corrupt(&mut z, &vec![0.0; n], n, Noise::Gauss { sigma: 1.0 }, key);
    // The CPU's polynomial ln and cos on exactly reduced arguments: a few ulp of z, and near
    // the zeros of cos the rounding of 2π·c (c ≤ ⅛) times |√(−2 ln u₁)| ≤ 5.77.
    let tol = Tol { rel: 2e-7, abs: 3e-7 };
    for (i, &got) in z.iter().enumerate() {
        // The same uniforms, the formula in f64.
        let (u1, u2) = gaussian_uniforms(key, i as u32);
        let (u1, u2) = (f64::from(u1), f64::from(u2));
        let want = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        assert!(tol.accepts(f64::from(got), want), "element {i}: got {got:e}, want {want:e}");
    }
}

#[test]
fn corrupt_masks_as_load_batch_does() {
    let be = Cpu::new();
    for (c, (rows, dim)) in [(1, 1), (3, 7), (2, 33), (4, 784)].into_iter().enumerate() {
        let pixels: Vec<u8> =
            uniforms(c as u64, rows * dim, 1.0, 256.0).iter().map(|&p| p as u8).collect();
        let images = be.upload_images(&pixels, dim);
        let len = rows * dim;
        for noise in [
            Noise::None,
            Noise::Mask { p: 0.0 },
            Noise::Mask { p: 0.3 },
            Noise::Mask { p: 1.0 },
            Noise::SaltPepper { p: 0.0 },
            Noise::SaltPepper { p: 0.3 },
            Noise::SaltPepper { p: 1.0 },
        ] {
            let key = RngKey::new(9, c as u64);
            let (mut x, mut want) = (vec![0.0; len], vec![0.0; len]);
            be.load_batch(&mut x, &mut want, &images, 0, rows, noise, key);
            let mut got = vec![f32::NAN; len];
            be.corrupt(&mut got, &x, len, noise, key);
            assert_eq!(got, want, "corrupt [{rows}, {dim}] {noise:?}");
        }
    }
}
