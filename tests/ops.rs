//! Every op against naive loops in f64 (or exact expectations), on awkward shapes (1, 7, 33,
//! 784). Each body is written once for any backend and run on the CPU and on the GPU
//! (`on_every_backend!`).

use gpu_dae::backend::cpu::{Cpu, Isa};
use gpu_dae::backend::ops::{ColSum, Corrupt, Gemm, GemmSum, SqErr, XentLogits};
use gpu_dae::backend::{Activation, Backend, Epilogue, GemmSpec, Noise, Run};
use gpu_dae::rng::{RngKey, drop_threshold};

use crate::util::{
    BIT_EXACT_NOISES, DENSE_SHAPES, GEMM_SHAPES, GEMM_SUM_SHAPES, LOAD_GEMM_SHAPES, SCALINGS,
    TRANSPOSES, Tol, assert_bit_identical, assert_close, cpu_with, dense_inputs, dense_update_on,
    gemm_corrupt_on, gemm_sq_err_on, gemm_xent_inputs, gemm_xent_on, load_batch_on, load_gemm_on,
    on_every_backend, pixels, sq_err_cost_tol, uniforms,
};

on_every_backend! {
    gemm_matches_naive_loops_for_every_transpose_and_scaling,
    gemm_epilogues_match_naive_loops,
    gemm_sum_matches_naive_loops_for_every_transpose_and_scaling,
    xent_logits_matches_the_log_sigmoid_formula_in_f64,
    gemm_xent_matches_the_log_sigmoid_formula_in_f64_for_every_transpose,
    gemm_sq_err_matches_the_squared_error_in_f64_for_every_transpose,
    col_sum_matches_naive_loops,
    dense_update_matches_naive_loops,
    load_batch_scales_the_chosen_rows_to_unit_interval,
    masking_noise_zeroes_exactly_the_dropped_elements,
    salt_and_pepper_noise_sets_exactly_the_dropped_elements_to_their_low_bit,
    corrupt_masks_as_load_batch_does,
    load_gemm_is_load_batch_then_the_product,
    gemm_corrupt_is_the_product_then_its_corruption,
}

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

fn sigmoid64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// C before a GEMM: NaN where β = 0 (it must not be read), else seeded values.
fn c_before(beta: f32, len: usize, seed: u64) -> Vec<f32> {
    if beta == 0.0 { vec![f32::NAN; len] } else { uniforms(seed, len, -1.0, 1.0) }
}

fn gemm_matches_naive_loops_for_every_transpose_and_scaling<B: Backend>(be: &B) {
    for &(m, n, k) in GEMM_SHAPES {
        let (a, b) = (uniforms(1, m * k, -1.0, 1.0), uniforms(2, k * n, -1.0, 1.0));
        let (da, db) = (be.upload(&a), be.upload(&b));
        for (trans_a, trans_b) in TRANSPOSES {
            for &(alpha, beta) in SCALINGS {
                let spec = GemmSpec { m, n, k, trans_a, trans_b, alpha, beta };
                let c0 = c_before(beta, m * n, 3);
                let mut want = c0.clone();
                naive_gemm(&mut want, &a, &b, spec);
                let mut c = be.upload(&c0);
                be.run(Gemm { c: &mut c, a: &da, b: &db, spec, epilogue: Epilogue::None });
                assert_close(&format!("gemm {spec:?}"), &be.download(&c), &want, Tol::gemm(k));
            }
        }
    }
}

fn gemm_epilogues_match_naive_loops<B: Backend>(be: &B) {
    for &(m, n, k) in GEMM_SHAPES {
        let spec = GemmSpec::new(m, n, k);
        let a = uniforms(4, m * k, -1.0, 1.0);
        let b = uniforms(5, k * n, -1.0, 1.0);
        let bias = uniforms(6, n, -2.0, 2.0);
        let (da, db, dbias) = (be.upload(&a), be.upload(&b), be.upload(&bias));
        let mut plain = vec![0.0; m * n];
        naive_gemm(&mut plain, &a, &b, spec);
        for act in [Activation::Identity, Activation::Sigmoid, Activation::Relu] {
            let f = |y: f64| match act {
                Activation::Identity => y,
                Activation::Sigmoid => sigmoid64(y),
                Activation::Relu => y.max(0.0),
            };
            let want: Vec<f32> = plain
                .iter()
                .enumerate()
                .map(|(i, &v)| f(v as f64 + bias[i % n] as f64) as f32)
                .collect();
            let mut c = be.zeros(m * n);
            let epilogue = Epilogue::BiasAct { bias: &dbias, act };
            be.run(Gemm { c: &mut c, a: &da, b: &db, spec, epilogue });
            let what = format!("bias+{act:?} {m}x{n}x{k}");
            assert_close(&what, &be.download(&c), &want, Tol::gemm(k));
        }
        // Outputs in [−0.5, 1): the ReLU's units below 0 are off.
        let out = uniforms(7, m * n, -0.5, 1.0);
        let dout = be.upload(&out);
        for act in [Activation::Identity, Activation::Sigmoid, Activation::Relu] {
            let want: Vec<f32> = plain
                .iter()
                .zip(&out)
                .map(|(&v, &o)| (v as f64 * act.grad_from_output(o) as f64) as f32)
                .collect();
            let mut c = be.zeros(m * n);
            let epilogue = Epilogue::ActGrad { out: &dout, act };
            be.run(Gemm { c: &mut c, a: &da, b: &db, spec, epilogue });
            let what = format!("act-grad {act:?} {m}x{n}x{k}");
            assert_close(&what, &be.download(&c), &want, Tol::gemm(k));
        }
    }
}

fn gemm_sum_matches_naive_loops_for_every_transpose_and_scaling<B: Backend>(be: &B) {
    for &(m, n, k, k2) in GEMM_SUM_SHAPES {
        let (a1, b1) = (uniforms(1, m * k, -1.0, 1.0), uniforms(2, k * n, -1.0, 1.0));
        let (a2, b2) = (uniforms(3, m * k2, -1.0, 1.0), uniforms(4, k2 * n, -1.0, 1.0));
        let (da1, db1, da2, db2) = (be.upload(&a1), be.upload(&b1), be.upload(&a2), be.upload(&b2));
        for (trans_a, trans_b) in TRANSPOSES {
            for &(alpha, beta) in SCALINGS {
                let spec = GemmSpec { m, n, k, trans_a, trans_b, alpha, beta };
                let c0 = c_before(beta, m * n, 5);
                // α·(P₁ + P₂) + β·C = (α·P₁ + β·C) + α·P₂, each naive sum in f64.
                let mut want = c0.clone();
                naive_gemm(&mut want, &a1, &b1, spec);
                naive_gemm(&mut want, &a2, &b2, GemmSpec { k: k2, beta: 1.0, ..spec });
                let mut c = be.upload(&c0);
                be.run(GemmSum {
                    c: &mut c,
                    a1: &da1,
                    b1: &db1,
                    a2: &da2,
                    b2: &db2,
                    spec,
                    k2,
                    biases: None,
                });
                let what = format!("gemm_sum {spec:?} k2={k2}");
                assert_close(&what, &be.download(&c), &want, Tol::gemm(k + k2));
            }
        }
    }
}

fn xent_logits_matches_the_log_sigmoid_formula_in_f64<B: Backend>(be: &B) {
    for (rows, cols) in [(1, 1), (7, 33), (3, 784), (20, 784)] {
        // Logits across the sigmoid's whole useful range, including saturated values.
        let a = uniforms(8, rows * cols, -30.0, 30.0);
        let x = uniforms(9, rows * cols, 0.0, 1.0);
        let scale = 1.0 / rows as f32;
        let (mut grad, mut costs) = (be.zeros(rows * cols), be.zeros(3));
        let (logits, target) = (be.upload(&a), be.upload(&x));
        be.run(XentLogits {
            grad: &mut grad,
            costs: &mut costs,
            slot: 1,
            logits: &logits,
            target: &target,
            rows,
            cols,
            scale,
        });
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
        let costs = be.download(&costs);
        assert_close("xent grad", &be.download(&grad), &want_grad, Tol::ELEMENTWISE);
        assert_close("xent cost", &costs[1..2], &[want_cost as f32], Tol::F32_REORDERED);
        assert_eq!((costs[0], costs[2]), (0.0, 0.0), "only the given slot is written");
    }
}

fn col_sum_matches_naive_loops<B: Backend>(be: &B) {
    for (rows, cols) in [(1, 1), (7, 33), (33, 7), (20, 784)] {
        let a = uniforms(10, rows * cols, -1.0, 1.0);
        let da = be.upload(&a);
        for (alpha, beta) in [(1.0f32, 0.0f32), (-0.1, 1.0)] {
            let out0 = uniforms(11, cols, -1.0, 1.0);
            let want: Vec<f32> = (0..cols)
                .map(|j| {
                    let s: f64 = (0..rows).map(|i| a[i * cols + j] as f64).sum();
                    (alpha as f64 * s + beta as f64 * out0[j] as f64) as f32
                })
                .collect();
            let mut out = be.upload(&out0);
            be.run(ColSum { out: &mut out, a: &da, rows, cols, alpha, beta });
            assert_close("col_sum", &be.download(&out), &want, Tol::F32_REORDERED);
        }
    }
}

/// dx, W and b after the two GEMMs that define `DenseUpdate`, as `dense_update_on`.
fn dense_gemms_on<B: Backend>(be: &B, shape: (usize, usize, usize), seed: u64) -> [Vec<f32>; 3] {
    let (rows, n_in, n_out) = shape;
    let [w, b, d, x] = dense_inputs(shape, seed);
    let (mut w, mut bias, d, x) = (be.upload(&w), be.upload(&b), be.upload(&d), be.upload(&x));
    let mut dx = be.upload(&vec![f32::NAN; rows * n_in]);
    let epilogue = Epilogue::ActGrad { out: &x, act: Activation::Sigmoid };
    let spec = GemmSpec::new(rows, n_in, n_out).trans_b();
    be.run(Gemm { c: &mut dx, a: &d, b: &w, spec, epilogue });
    let spec = GemmSpec::new(n_in, n_out, rows).trans_a().scaled(-0.25, 1.0);
    let epilogue = Epilogue::BiasUpdate { bias: &mut bias };
    be.run(Gemm { c: &mut w, a: &x, b: &d, spec, epilogue });
    [be.download(&dx), be.download(&w), be.download(&bias)]
}

fn dense_update_matches_naive_loops<B: Backend>(be: &B) {
    for (s, &shape) in DENSE_SHAPES.iter().enumerate() {
        let (rows, n_in, n_out) = shape;
        let [w0, b0, d, x] = dense_inputs(shape, 40 + s as u64);
        let mut dx = vec![0.0; rows * n_in];
        naive_gemm(&mut dx, &d, &w0, GemmSpec::new(rows, n_in, n_out).trans_b());
        dx.iter_mut().zip(&x).for_each(|(v, &o)| *v *= o * (1.0 - o));
        let mut w = w0.clone();
        naive_gemm(&mut w, &x, &d, GemmSpec::new(n_in, n_out, rows).trans_a().scaled(-0.25, 1.0));
        let mut b = b0.clone();
        let ones = vec![1.0; rows];
        naive_gemm(&mut b, &ones, &d, GemmSpec::new(1, n_out, rows).scaled(-0.25, 1.0));
        let got = dense_update_on(be, shape, 40 + s as u64);
        let what = format!("dense_update [{rows}, {n_in}, {n_out}]");
        assert_close(&format!("{what}: dx"), &got[0], &dx, Tol::gemm(n_out));
        assert_close(&format!("{what}: W"), &got[1], &w, Tol::gemm(rows));
        assert_close(&format!("{what}: b"), &got[2], &b, Tol::column_sums(rows));
    }
}

/// The cross-entropy of logits `a` against `x` in f64, scaled: (grad, cost).
fn xent_f64(a: &[f64], x: &[f32], scale: f64) -> (Vec<f32>, f64) {
    let mut cost = 0.0f64;
    let mut grad = Vec::new();
    for (&a, &x) in a.iter().zip(x) {
        let x = x as f64;
        // −[x log σ(a) + (1 − x) log(1 − σ(a))], with log σ(a) = −ln(1 + e^−a).
        cost -= x * -(-a).exp().ln_1p() + (1.0 - x) * -a.exp().ln_1p();
        grad.push(((sigmoid64(a) - x) * scale) as f32);
    }
    (grad, cost * scale)
}

/// α·op(A)·op(B) + bias in f64: [m, n] for `s` (β = 0), bias: [n].
fn affine_f64(s: GemmSpec, a: &[f32], b: &[f32], bias: &[f32]) -> Vec<f64> {
    let (m, n, k) = (s.m, s.n, s.k);
    let mut out = vec![0.0f64; m * n];
    for i in 0..m {
        for j in 0..n {
            let dot: f64 = (0..k)
                .map(|p| {
                    let av = if s.trans_a { a[p * m + i] } else { a[i * k + p] };
                    let bv = if s.trans_b { b[j * k + p] } else { b[p * n + j] };
                    av as f64 * bv as f64
                })
                .sum();
            out[i * n + j] = s.alpha as f64 * dot + bias[j] as f64;
        }
    }
    out
}

fn gemm_xent_matches_the_log_sigmoid_formula_in_f64_for_every_transpose<B: Backend>(be: &B) {
    for &(m, n, k) in GEMM_SHAPES {
        for (trans_a, trans_b) in TRANSPOSES {
            for alpha in [1.0, -0.5] {
                let spec = GemmSpec { m, n, k, trans_a, trans_b, alpha, beta: 0.0 };
                let what = format!("gemm_xent {m}×{n}×{k} {trans_a}/{trans_b} α = {alpha}");
                let [a, b, bias, x] = gemm_xent_inputs(spec);
                let logits = affine_f64(spec, &a, &b, &bias);
                let (want_grad, want_cost) = xent_f64(&logits, &x, 1.0 / m as f64);
                let (grad, costs) = gemm_xent_on(be, spec, 1);
                // σ′ ≤ ¼ scales the logits' GEMM error into the gradient; the cost adds
                // m·n terms, each off by at most the logit's error.
                assert_close(&format!("{what}: grad"), &grad, &want_grad, Tol::gemm(k));
                let cost_tol = Tol { rel: 1e-5, abs: 1e-5 * (k as f64).sqrt() * n as f64 };
                assert_close(&format!("{what}: cost"), &costs[1..2], &[want_cost as f32], cost_tol);
                let others = [costs[0], costs[2], costs[3]];
                assert_bit_identical(&format!("{what}: other slots"), &others, &[7.0, 9.0, 10.0]);
            }
        }
    }
}

fn gemm_sq_err_matches_the_squared_error_in_f64_for_every_transpose<B: Backend>(be: &B) {
    for &(m, n, k) in GEMM_SHAPES {
        for (trans_a, trans_b) in TRANSPOSES {
            for (alpha, out) in [(1.0, Activation::Identity), (-0.5, Activation::Sigmoid)] {
                let spec = GemmSpec { m, n, k, trans_a, trans_b, alpha, beta: 0.0 };
                let what = format!("gemm_sq_err {m}×{n}×{k} {trans_a}/{trans_b} {out:?}");
                let [a, b, bias, x] = gemm_xent_inputs(spec);
                let scale = 1.0 / m as f64;
                let (mut want_y, mut want_grad, mut want_cost) = (vec![], vec![], 0.0f64);
                for (v, &x) in affine_f64(spec, &a, &b, &bias).into_iter().zip(&x) {
                    // y = out(v), ∂(½E)/∂v = (y − x)·out′(y), E = (y − x)²
                    let (y, slope) = match out {
                        Activation::Sigmoid => (sigmoid64(v), sigmoid64(v) * (1.0 - sigmoid64(v))),
                        _ => (v, 1.0),
                    };
                    let d = y - x as f64;
                    want_y.push(y as f32);
                    want_grad.push((d * scale * slope) as f32);
                    want_cost += d * d;
                }
                let [grad, y, costs] = gemm_sq_err_on(be, spec, out, 1);
                assert_close(&format!("{what}: y"), &y, &want_y, Tol::gemm(k));
                assert_close(&format!("{what}: grad"), &grad, &want_grad, Tol::gemm(k));
                // m·n squares summed, each off by twice its difference times y's error.
                let cost_tol = sq_err_cost_tol(m, n, k);
                let want_cost = [(want_cost * scale) as f32];
                assert_close(&format!("{what}: cost"), &costs[1..2], &want_cost, cost_tol);
                let others = [costs[0], costs[2], costs[3]];
                assert_bit_identical(&format!("{what}: other slots"), &others, &[7.0, 9.0, 10.0]);
            }
        }
    }
}

#[test]
fn gemm_sq_err_on_the_cpu_is_its_gemm_then_sq_err_bit_for_bit_on_every_instruction_set() {
    // GEMM_SHAPES and the ReLU-DAE's decoder at batch 20.
    let shapes = GEMM_SHAPES.iter().copied().chain([(20, 784, 225)]);
    for (m, n, k) in shapes {
        let spec = GemmSpec::new(m, n, k);
        let isas = [Isa::Portable, Isa::Avx2, Isa::Avx512].into_iter().filter(|i| i.available());
        for (isa, out) in isas.flat_map(|i| [(i, Activation::Identity), (i, Activation::Sigmoid)]) {
            let cpu = cpu_with(isa);
            let got = gemm_sq_err_on(&cpu, spec, out, 2);
            let [a, b, bias, x] = gemm_xent_inputs(spec);
            let mut y = vec![f32::NAN; m * n];
            let epilogue = Epilogue::BiasAct { bias: &bias, act: out };
            cpu.run(Gemm { c: &mut y, a: &a, b: &b, spec, epilogue });
            let (mut grad, mut costs) = (vec![f32::NAN; m * n], vec![7.0, 8.0, 9.0, 10.0]);
            let (slot, rows, cols, scale) = (2, m, n, 1.0 / m as f32);
            let (y, target) = (&y, &x);
            cpu.run(SqErr {
                grad: &mut grad,
                costs: &mut costs,
                slot,
                y,
                target,
                rows,
                cols,
                scale,
                out,
            });
            let what = format!("gemm_sq_err {m}×{n}×{k} {out:?} on {isa:?}");
            assert_bit_identical(&format!("{what}: grad"), &got[0], &grad);
            assert_bit_identical(&format!("{what}: y"), &got[1], y);
            assert_bit_identical(&format!("{what}: costs"), &got[2], &costs);
        }
    }
}

#[test]
fn gemm_xent_on_the_cpu_is_its_gemm_then_xent_logits_bit_for_bit_on_every_instruction_set() {
    // GEMM_SHAPES, the tutorial dA's decoder at batch 20 and one at 100 rows (the loss's rows
    // in parallel).
    let shapes = GEMM_SHAPES.iter().copied().chain([(20, 784, 500), (100, 784, 500)]);
    for (m, n, k) in shapes {
        let spec = GemmSpec::new(m, n, k).trans_b();
        for isa in [Isa::Portable, Isa::Avx2, Isa::Avx512].into_iter().filter(|i| i.available()) {
            let cpu = cpu_with(isa);
            let got = gemm_xent_on(&cpu, spec, 2);
            let [a, b, bias, x] = gemm_xent_inputs(spec);
            let mut logits = vec![f32::NAN; m * n];
            let epilogue = Epilogue::BiasAct { bias: &bias, act: Activation::Identity };
            cpu.run(Gemm { c: &mut logits, a: &a, b: &b, spec, epilogue });
            let (mut grad, mut costs) = (vec![f32::NAN; m * n], vec![7.0, 8.0, 9.0, 10.0]);
            let (slot, rows, cols, scale) = (2, m, n, 1.0 / m as f32);
            let (logits, target) = (&logits, &x);
            cpu.run(XentLogits {
                grad: &mut grad,
                costs: &mut costs,
                slot,
                logits,
                target,
                rows,
                cols,
                scale,
            });
            let what = format!("gemm_xent {m}×{n}×{k} on {isa:?}");
            assert_bit_identical(&format!("{what}: grad"), &got.0, &grad);
            assert_bit_identical(&format!("{what}: costs"), &got.1, &costs);
        }
    }
}

#[test]
fn dense_update_on_the_cpu_is_its_two_gemms_bit_for_bit_on_every_instruction_set() {
    // DENSE_SHAPES, and the tutorial's (batch 1 and 20, 1000 × 1000: four parts of the dot
    // kernel) and one past the CPU kernels' 256 rows (faer's path).
    let shapes =
        DENSE_SHAPES.iter().copied().chain([(1, 1000, 1000), (20, 500, 784), (300, 7, 33)]);
    for (s, shape) in shapes.enumerate() {
        for isa in [Isa::Portable, Isa::Avx2, Isa::Avx512].into_iter().filter(|i| i.available()) {
            let cpu = cpu_with(isa);
            let got = dense_update_on(&cpu, shape, 70 + s as u64);
            let want = dense_gemms_on(&cpu, shape, 70 + s as u64);
            for (name, (got, want)) in ["dx", "W", "b"].iter().zip(got.iter().zip(&want)) {
                assert_bit_identical(
                    &format!("dense_update {shape:?} on {isa:?}: {name}"),
                    got,
                    want,
                );
            }
        }
    }
}

/// op(A) [m, k] stored as `Gemm` takes it ([k, m] when transposed), with the zeros the CPU's
/// broadcast kernel skips: every third inner index p (a whole column of op(A)), alternate
/// blocks of 6 rows and every third block of 4 (the register tiles' heights on AVX-512 and
/// on the others), and a scattering of single zeros (a quarter of the rest), +0 and −0 both;
/// the rest in (−1, 1). Every shape skips more than `SKIP_MIN` of its terms this way.
fn sparse_a((m, k): (usize, usize), trans_a: bool, seed: u64) -> Vec<f32> {
    let values = uniforms(seed, m * k, -1.0, 1.0);
    let mut a = vec![0.0f32; m * k];
    for i in 0..m {
        for p in 0..k {
            let v = values[i * k + p];
            let zero = p % 3 == 0 || (i / 6) % 2 == 1 || (i / 4) % 3 == 2 || v.abs() < 0.5;
            let v = if !zero {
                v
            } else if v < 0.0 {
                -0.0
            } else {
                0.0
            };
            a[if trans_a { p * m + i } else { i * k + p }] = v;
        }
    }
    a
}

/// C before a GEMM whose zero inputs are skipped: `c_before` with every fifth element −0 (a
/// tile left untouched must keep it, one that adds +0 must not).
fn c_with_negative_zeros(beta: f32, len: usize, seed: u64) -> Vec<f32> {
    let mut c = c_before(beta, len, seed);
    if beta != 0.0 {
        c.iter_mut().step_by(5).for_each(|v| *v = -0.0);
    }
    c
}

/// The CPU's instruction sets, each with the skipping of zero inputs on and off.
fn cpu_skipping_and_not() -> Vec<(Isa, Cpu, Cpu)> {
    [Isa::Portable, Isa::Avx2, Isa::Avx512]
        .into_iter()
        .filter(|i| i.available())
        .map(|isa| (isa, cpu_with(isa).skipping_zeros(true), cpu_with(isa).skipping_zeros(false)))
        .collect()
}

/// (α, β) for the zero-skipping tests: `SCALINGS`, and β = 1 with a positive α, where a tile
/// whose terms are all skipped still adds +0 to C (−0 becomes +0).
const SKIP_SCALINGS: &[(f32, f32)] = &[(1.0, 0.0), (-0.1, 1.0), (0.5, -2.0), (0.5, 1.0)];

#[test]
fn gemm_skipping_zero_inputs_gives_the_bits_of_the_whole_products_on_every_instruction_set() {
    // GEMM_SHAPES, an all-zero A's worth of rows (m = 6: one AVX-512 tile), and the SdA's
    // first layer at batch 1 (x·W and its update xᵀ·d).
    let shapes = GEMM_SHAPES.iter().copied().chain([(6, 40, 9), (1, 1000, 784), (784, 1000, 1)]);
    for (isa, skipping, whole) in cpu_skipping_and_not() {
        for (s, (m, n, k)) in shapes.clone().enumerate() {
            let b = uniforms(40 + s as u64, k * n, -1.0, 1.0);
            for trans_a in [false, true] {
                let a = sparse_a((m, k), trans_a, 30 + s as u64);
                for &(alpha, beta) in SKIP_SCALINGS {
                    let spec = GemmSpec { m, n, k, trans_a, trans_b: false, alpha, beta };
                    let c0 = c_with_negative_zeros(beta, m * n, 50 + s as u64);
                    let run = |be: &Cpu| {
                        let mut c = c0.clone();
                        be.run(Gemm { c: &mut c, a: &a, b: &b, spec, epilogue: Epilogue::None });
                        c
                    };
                    let what = format!("gemm {spec:?} on {isa:?}, zeros skipped against not");
                    assert_bit_identical(&what, &run(&skipping), &run(&whole));
                }
            }
        }
    }
}

#[test]
fn gemm_sum_skipping_zero_inputs_gives_the_bits_of_the_whole_products_on_every_instruction_set() {
    // Either pair sparse or both, on GEMM_SUM_SHAPES (the dA's update [784, 20]·[20, 500]
    // twice among them), A transposed as the updates have it and not.
    for (isa, skipping, whole) in cpu_skipping_and_not() {
        for (s, &(m, n, k, k2)) in GEMM_SUM_SHAPES.iter().enumerate() {
            let seed = 60 + 10 * s as u64;
            let (b1, b2) =
                (uniforms(seed, k * n, -1.0, 1.0), uniforms(seed + 1, k2 * n, -1.0, 1.0));
            for trans_a in [false, true] {
                let dense = |kk: usize, seed: u64| uniforms(seed, m * kk, -1.0, 1.0);
                let sparse = |kk: usize, seed: u64| sparse_a((m, kk), trans_a, seed);
                let pairs = [
                    (sparse(k, seed + 2), dense(k2, seed + 3)),
                    (dense(k, seed + 4), sparse(k2, seed + 5)),
                    (sparse(k, seed + 6), sparse(k2, seed + 7)),
                ];
                for (a1, a2) in &pairs {
                    for &(alpha, beta) in SKIP_SCALINGS {
                        let spec = GemmSpec { m, n, k, trans_a, trans_b: false, alpha, beta };
                        let c0 = c_with_negative_zeros(beta, m * n, seed + 8);
                        let run = |be: &Cpu| {
                            let mut c = c0.clone();
                            let (b1, b2) = (&b1, &b2);
                            let (c, biases) = (&mut c, None);
                            be.run(GemmSum { c, a1, b1, a2, b2, spec, k2, biases });
                            c.clone()
                        };
                        let what = format!("gemm_sum {spec:?} k2={k2} on {isa:?}, skipped or not");
                        assert_bit_identical(&what, &run(&skipping), &run(&whole));
                    }
                }
            }
        }
    }
}

#[test]
fn a_skipped_zero_input_never_reads_its_row_of_b() {
    // B's rows at the inner indices where op(A) is zero in every row hold NaN: the whole
    // product is NaN there, the skipping one never reads them and gives the bits of the whole
    // product with those rows zeroed.
    for (isa, skipping, whole) in cpu_skipping_and_not() {
        for &(m, n, k) in &[(1, 33, 784), (20, 500, 784), (7, 16, 9)] {
            let a = sparse_a((m, k), false, 3);
            let unread: Vec<bool> = (0..k).map(|p| (0..m).all(|i| a[i * k + p] == 0.0)).collect();
            assert!(unread.iter().any(|&u| u), "the test needs an all-zero column of A");
            let b = uniforms(4, k * n, -1.0, 1.0);
            let mut b_nan = b.clone();
            let mut b_zeroed = b;
            for (p, _) in unread.iter().enumerate().filter(|(_, u)| **u) {
                b_nan[p * n..(p + 1) * n].fill(f32::NAN);
                b_zeroed[p * n..(p + 1) * n].fill(0.0);
            }
            let spec = GemmSpec::new(m, n, k);
            let run = |be: &Cpu, b: &Vec<f32>| {
                let mut c = vec![0.0; m * n];
                be.run(Gemm { c: &mut c, a: &a, b, spec, epilogue: Epilogue::None });
                c
            };
            let what = format!("gemm {spec:?} on {isa:?}: NaN rows of B at A's zero columns");
            assert!(run(&whole, &b_nan).iter().all(|v| v.is_nan()), "{what}: the whole product");
            assert_bit_identical(&what, &run(&skipping, &b_nan), &run(&whole, &b_zeroed));
        }
    }
}

#[test]
fn products_give_the_same_bits_whichever_way_they_sweep() {
    // The CPU's kernels run every other product's blocks last to first. Each op runs three
    // times on the same inputs, with a one-element product between the second and the third,
    // so that both directions meet each op however many products it runs: the encoder at
    // batch 1 and 20 (sparse input: the nonzero lists), the tied decoder (four parts), the
    // update of W and a dense layer's backward pass with its update.
    let one = |be: &Cpu| {
        let mut c = vec![0.0f32];
        be.run(Gemm {
            c: &mut c,
            a: &vec![1.0],
            b: &vec![2.0],
            spec: GemmSpec::new(1, 1, 1),
            epilogue: Epilogue::None,
        });
    };
    for (isa, cpu, _) in cpu_skipping_and_not() {
        let runs = |what: &str, op: &dyn Fn(&Cpu) -> Vec<Vec<f32>>| {
            let first = op(&cpu);
            let second = op(&cpu);
            one(&cpu);
            let third = op(&cpu);
            for (again, outputs) in [("second", &second), ("third", &third)] {
                for (o, (got, want)) in outputs.iter().zip(&first).enumerate() {
                    assert_bit_identical(
                        &format!("{what} on {isa:?}, {again} run, output {o}"),
                        got,
                        want,
                    );
                }
            }
        };
        for &(m, n, k, trans_a, trans_b) in &[
            (1, 1000, 784, false, false),
            (20, 500, 784, false, false),
            (20, 784, 500, false, true),
            (1, 784, 1000, false, true),
            (784, 1000, 1, true, false),
        ] {
            let a = sparse_a((m, k), trans_a, 7);
            let b = uniforms(8, k * n, -1.0, 1.0);
            let c0 = uniforms(9, m * n, -1.0, 1.0);
            let spec = GemmSpec { m, n, k, trans_a, trans_b, alpha: -0.1, beta: 1.0 };
            runs(&format!("gemm {spec:?}"), &|be| {
                let mut c = c0.clone();
                be.run(Gemm { c: &mut c, a: &a, b: &b, spec, epilogue: Epilogue::None });
                vec![c]
            });
        }
        for shape in [(1, 1000, 1000), (1, 33, 784), (20, 500, 784)] {
            runs(&format!("dense_update {shape:?}"), &|be| dense_update_on(be, shape, 11).to_vec());
        }
    }
}

fn load_batch_scales_the_chosen_rows_to_unit_interval<B: Backend>(be: &B) {
    let dim = 7;
    let pixels: Vec<u8> = (0..5 * dim).map(|i| (i * 37 % 256) as u8).collect();
    let (x, x_tilde) = load_batch_on(be, (&pixels, dim), (2, 2), Noise::None, RngKey::new(1, 2));
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

fn masking_noise_zeroes_exactly_the_dropped_elements<B: Backend>(be: &B) {
    let (dim, rows, first) = (784, 7, 2);
    let pixels: Vec<u8> = (0..10 * dim).map(|i| (i * 37 % 255 + 1) as u8).collect();
    let key = RngKey::new(5, 9);
    let t = drop_threshold(0.3);
    let noise = Noise::Mask { p: 0.3 };
    let (x, x_tilde) = load_batch_on(be, (&pixels, dim), (first, rows), noise, key);
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

fn salt_and_pepper_noise_sets_exactly_the_dropped_elements_to_their_low_bit<B: Backend>(be: &B) {
    let (dim, rows, first) = (784, 7, 2);
    let pixels: Vec<u8> = (0..10 * dim).map(|i| (i * 37 % 256) as u8).collect();
    let key = RngKey::new(5, 9);
    let t = drop_threshold(0.3);
    let noise = Noise::SaltPepper { p: 0.3 };
    let (x, x_tilde) = load_batch_on(be, (&pixels, dim), (first, rows), noise, key);
    for i in 0..rows * dim {
        // Element i of the batch draws bits(i): corrupted as masking noise drops, then its low bit.
        let b = key.bits(i as u32);
        let want = if b >> 8 < t { (b & 1) as f32 } else { x[i] };
        assert_eq!(x[i], pixels[first * dim + i] as f32 * (1.0 / 255.0), "x element {i}");
        assert_eq!(x_tilde[i].to_bits(), want.to_bits(), "x̃ element {i}");
    }
}

fn corrupt_masks_as_load_batch_does<B: Backend>(be: &B) {
    for (c, (rows, dim)) in [(1, 1), (3, 7), (2, 33), (4, 784)].into_iter().enumerate() {
        let pixels: Vec<u8> =
            uniforms(c as u64, rows * dim, 1.0, 256.0).iter().map(|&p| p as u8).collect();
        let len = rows * dim;
        for &noise in BIT_EXACT_NOISES {
            let key = RngKey::new(9, c as u64);
            let (x, want) = load_batch_on(be, (&pixels, dim), (0, rows), noise, key);
            let mut got = be.upload(&vec![f32::NAN; len]);
            be.run(Corrupt { x_tilde: &mut got, x: &be.upload(&x), len, noise, key });
            assert_eq!(be.download(&got), want, "corrupt [{rows}, {dim}] {noise:?}");
        }
    }
}

/// The CPU's Gaussian noise (its own polynomial ln and cos) against the Box–Muller formula in
/// f64; the GPU's uses the driver's ln and cos and is checked against the CPU in
/// gpu_vs_cpu.rs.
#[test]
fn gaussian_noise_of_the_cpu_matches_box_muller_in_f64() {
    use gpu_dae::rng::gaussian_uniforms;
    let n = 1 << 20;
    let (mut z, x) = (vec![f32::NAN; n], vec![0.0; n]);
    let key = RngKey::new(31, 4);
    let noise = Noise::Gauss { sigma: 1.0 };
    Cpu::new().run(Corrupt { x_tilde: &mut z, x: &x, len: n, noise, key });
    for (i, &got) in z.iter().enumerate() {
        // The same uniforms, the formula in f64.
        let (u1, u2) = gaussian_uniforms(key, i as u32);
        let (u1, u2) = (f64::from(u1), f64::from(u2));
        let want = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let tol = Tol::BOX_MULLER_F64;
        assert!(tol.accepts(f64::from(got), want), "element {i}: got {got:e}, want {want:e}");
    }
}

fn load_gemm_is_load_batch_then_the_product<B: Backend>(be: &B) {
    for &(m, n, k) in LOAD_GEMM_SHAPES {
        for trans_b in [false, true] {
            let noise = Noise::Mask { p: 0.3 };
            let what = format!("load_gemm {m}×{n}×{k} trans_b {trans_b}");
            let [c, x, x_tilde] = load_gemm_on(be, (m, n, k), trans_b, (noise, None));
            // load_gemm_on's images, weights and key.
            let px = pixels(k as u64, (m + 3) * k);
            let (want_x, want_xt) = load_batch_on(be, (&px, k), (2, m), noise, RngKey::new(8, 9));
            assert_bit_identical(&format!("{what}: x"), &x, &want_x);
            assert_bit_identical(&format!("{what}: x̃"), &x_tilde, &want_xt);
            let (b, bias) = (uniforms(51, k * n, -0.2, 0.2), uniforms(52, n, -1.0, 1.0));
            let spec = GemmSpec { trans_b, ..GemmSpec::new(m, n, k) };
            let mut want = vec![0.0; m * n];
            naive_gemm(&mut want, &want_xt, &b, spec);
            for (i, v) in want.iter_mut().enumerate() {
                *v = sigmoid64(*v as f64 + bias[i % n] as f64) as f32;
            }
            assert_close(&format!("{what}: c"), &c, &want, Tol::gemm(k));
        }
    }
}

fn gemm_corrupt_is_the_product_then_its_corruption<B: Backend>(be: &B) {
    for &(m, n, k) in GEMM_SHAPES {
        let spec = GemmSpec::new(m, n, k).trans_b();
        let what = format!("gemm_corrupt {m}×{n}×{k}");
        let [c, x_tilde, corrupted] = gemm_corrupt_on(be, spec, Noise::Mask { p: 0.3 });
        assert_bit_identical(&format!("{what}: x̃"), &x_tilde, &corrupted);
        // gemm_corrupt_on's operands.
        let (a, b, bias) = (
            uniforms(61, m * k, -1.0, 1.0),
            uniforms(62, k * n, -0.3, 0.3),
            uniforms(63, n, -1.0, 1.0),
        );
        let mut want = vec![0.0; m * n];
        naive_gemm(&mut want, &a, &b, spec);
        for (i, v) in want.iter_mut().enumerate() {
            *v = sigmoid64(*v as f64 + bias[i % n] as f64) as f32;
        }
        assert_close(&format!("{what}: c"), &c, &want, Tol::gemm(k));
        assert!(x_tilde.contains(&0.0) || m * n < 8, "{what}: nothing masked");
    }
}
