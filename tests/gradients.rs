//! Gradients of the models against central finite differences of an independent f64 cost.

use gpu_dae::backend::Backend;
use gpu_dae::backend::cpu::Cpu;
use gpu_dae::model::{Autoencoder, AutoencoderConfig};
use gpu_dae::rng::{RngKey, drop_threshold};

use crate::util::uniforms;

/// The dA cost in f64 straight from the formulas: x̃ = m⊙x, h = σ(x̃W + b), a = hWᵀ + b′,
/// cost = (1/B) Σ_rows Σ_k softplus(a) − x·a.
/// Dims (rows, n_vis, n_hid) = (B, V, H).
fn da_cost_f64(
    (w, b, bp): (&[f64], &[f64], &[f64]),
    x: &[f64],
    keep: &[bool],
    (rows, v, h): (usize, usize, usize),
) -> f64 {
    let mut total = 0.0;
    for r in 0..rows {
        let xr = &x[r * v..(r + 1) * v];
        let hid: Vec<f64> = (0..h)
            .map(|j| {
                let s: f64 =
                    (0..v).map(|i| if keep[r * v + i] { xr[i] * w[i * h + j] } else { 0.0 }).sum();
                1.0 / (1.0 + (-(s + b[j])).exp())
            })
            .collect();
        for i in 0..v {
            let a: f64 = (0..h).map(|j| hid[j] * w[i * h + j]).sum::<f64>() + bp[i];
            let softplus = a.max(0.0) + (-a.abs()).exp().ln_1p();
            total += softplus - xr[i] * a;
        }
    }
    total / rows as f64
}

#[test]
fn da_gradient_matches_central_finite_differences_for_every_parameter() {
    let (rows, v, h) = (3, 7, 5);
    let be = Cpu::new();
    let config = AutoencoderConfig { n_vis: v, n_hid: h, corruption: 0.3 };
    let w0 = uniforms(20, v * h, -1.0, 1.0);
    let b0 = uniforms(21, h, -0.5, 0.5);
    let bp0 = uniforms(22, v, -0.5, 0.5);
    let pixels: Vec<u8> = uniforms(23, rows * v, 0.0, 256.0).iter().map(|&p| p as u8).collect();
    let key = RngKey::new(77, 3);

    // Analytic gradient: one SGD step with lr = 1 moves each parameter by minus its gradient.
    let mut ae = Autoencoder::from_host(&be, config, &w0, &b0, &bp0);
    let mut ws = ae.workspace(&be, rows);
    let images = be.upload_images(&pixels, v);
    let mut costs = be.zeros(1);
    ae.train_step(&be, &mut ws, &images, 0, key, 1.0, &mut costs, 0);
    let (w1, b1, bp1) = ae.download(&be);
    let analytic: Vec<f64> = [(&w0, &w1), (&b0, &b1), (&bp0, &bp1)]
        .iter()
        .flat_map(|(old, new)| old.iter().zip(new.iter()).map(|(&o, &n)| o as f64 - n as f64))
        .collect();

    let x: Vec<f64> = pixels.iter().map(|&p| p as f64 / 255.0).collect();
    let t = drop_threshold(0.3);
    let keep: Vec<bool> = (0..rows * v).map(|i| key.bits(i as u32) >> 8 >= t).collect();
    assert!(keep.iter().any(|k| !k), "the test must exercise dropped inputs");
    let mut params: Vec<f64> = w0.iter().chain(&b0).chain(&bp0).map(|&p| p as f64).collect();
    let cost = |p: &[f64]| {
        let (w, rest) = p.split_at(v * h);
        let (b, bp) = rest.split_at(h);
        da_cost_f64((w, b, bp), &x, &keep, (rows, v, h))
    };
    let c0 = cost(&params);
    assert!((costs[0] as f64 - c0).abs() <= 1e-5 * c0, "step cost {} vs f64 cost {c0}", costs[0]);

    let eps = 1e-6;
    let scale = analytic.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    for i in 0..params.len() {
        let p = params[i];
        params[i] = p + eps;
        let up = cost(&params);
        params[i] = p - eps;
        let down = cost(&params);
        params[i] = p;
        let numeric = (up - down) / (2.0 * eps);
        let name = if i < v * h {
            "W"
        } else if i < v * h + h {
            "b"
        } else {
            "b'"
        };
        assert!(
            (analytic[i] - numeric).abs() <= 1e-4 * scale + 1e-3 * numeric.abs(),
            "{name} parameter {i}: analytic {} vs numeric {numeric}",
            analytic[i]
        );
    }
}

/// The mean softmax NLL in f64: (1/B) Σᵣ [log Σⱼ e^(aᵣⱼ) − aᵣ,yᵣ].
fn nll_f64(a: &[f64], y: &[u8], classes: usize) -> f64 {
    let rows = y.len();
    let mut total = 0.0;
    for r in 0..rows {
        let row = &a[r * classes..(r + 1) * classes];
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        total += lse - row[y[r] as usize];
    }
    total / rows as f64
}

#[test]
fn softmax_nll_gradient_matches_central_finite_differences() {
    let be = Cpu::new();
    for (rows, classes) in [(1, 1), (3, 7), (5, 10), (2, 33)] {
        let a0 = uniforms(30 + classes as u64, rows * classes, -4.0, 4.0);
        let y: Vec<u8> = (0..rows).map(|r| ((r * 5 + 3) % classes) as u8).collect();
        let labels = be.upload_images(&y, 1);
        let mut grad = vec![f32::NAN; rows * classes];
        let (mut costs, mut errors) = (vec![0.0; 2], vec![0.0; 2]);
        let scale = 1.0 / rows as f32;
        be.softmax_nll(
            &mut grad,
            &mut costs,
            &mut errors,
            1,
            &a0,
            &labels,
            0,
            rows,
            classes,
            scale,
        );
        let mut a: Vec<f64> = a0.iter().map(|&v| v as f64).collect();
        let c0 = nll_f64(&a, &y, classes);
        assert!(
            (costs[1] as f64 - c0).abs() <= 1e-5 * c0.abs().max(1.0),
            "[{rows}, {classes}]: cost {} vs f64 {c0}",
            costs[1]
        );
        let eps = 1e-6;
        for i in 0..a.len() {
            let v = a[i];
            a[i] = v + eps;
            let up = nll_f64(&a, &y, classes);
            a[i] = v - eps;
            let down = nll_f64(&a, &y, classes);
            a[i] = v;
            let numeric = (up - down) / (2.0 * eps);
            assert!(
                (grad[i] as f64 - numeric).abs() <= 1e-5,
                "[{rows}, {classes}] logit {i}: analytic {} vs numeric {numeric}",
                grad[i]
            );
        }
        let wrong = (0..rows)
            .filter(|&r| {
                let row = &a0[r * classes..(r + 1) * classes];
                let arg = (0..classes).fold(0, |best, j| if row[j] > row[best] { j } else { best });
                arg != y[r] as usize
            })
            .count();
        assert_eq!(errors[1], wrong as f32, "[{rows}, {classes}] error count");
    }
}

#[test]
fn softmax_nll_counts_ties_by_the_first_maximum() {
    let be = Cpu::new();
    // Row 0: classes 1 and 2 tie for the maximum, label 1 (right); row 1: same logits, label 2
    // (wrong: the first maximum is 1); row 2: all equal, label 0 (right).
    let a = vec![0.0, 3.0, 3.0, 0.0, 3.0, 3.0, 1.0, 1.0, 1.0];
    let labels = be.upload_images(&[1, 2, 0], 1);
    let (mut grad, mut costs, mut errors) = (vec![0.0; 9], vec![0.0], vec![0.0]);
    be.softmax_nll(&mut grad, &mut costs, &mut errors, 0, &a, &labels, 0, 3, 3, 1.0);
    assert_eq!(errors[0], 1.0);
}

/// Parameters of a tiny SdA: per layer (W: [in, out], b: [out]), seeded, the top layer too.
fn tiny_sda_params(sizes: &[usize]) -> Vec<(Vec<f32>, Vec<f32>)> {
    sizes
        .windows(2)
        .enumerate()
        .map(|(k, io)| {
            let (i, o) = (io[0], io[1]);
            (uniforms(40 + k as u64, i * o, -1.0, 1.0), uniforms(50 + k as u64, o, -0.5, 0.5))
        })
        .collect()
}

/// The SdA's mean NLL in f64: sigmoid layers, then softmax. `params` as `tiny_sda_params`.
fn sda_nll_f64(params: &[(Vec<f64>, Vec<f64>)], sizes: &[usize], x: &[f64], y: &[u8]) -> f64 {
    let rows = y.len();
    let mut act = x.to_vec();
    let last = params.len() - 1;
    for (k, (w, b)) in params.iter().enumerate() {
        let (i, o) = (sizes[k], sizes[k + 1]);
        let mut next = vec![0.0; rows * o];
        for r in 0..rows {
            for j in 0..o {
                let s: f64 = (0..i).map(|p| act[r * i + p] * w[p * o + j]).sum::<f64>() + b[j];
                next[r * o + j] = if k == last { s } else { 1.0 / (1.0 + (-s).exp()) };
            }
        }
        act = next;
    }
    nll_f64(&act, y, sizes[sizes.len() - 1])
}

#[test]
fn sda_finetuning_gradient_matches_central_finite_differences() {
    use gpu_dae::model::{FinetuneScope, Sda, SdaConfig, SdaParams};
    // 7-5-4-3 with a batch of 3.
    let sizes = [7, 5, 4, 3];
    let rows = 3;
    let be = Cpu::new();
    let config = SdaConfig { n_in: 7, hidden: vec![5, 4], corruption: vec![0.1, 0.2], n_out: 3 };
    let mut host = tiny_sda_params(&sizes);
    let top = host.pop().expect("the softmax layer");
    let params0 = SdaParams { layers: host, top };
    let pixels: Vec<u8> = uniforms(60, rows * 7, 0.0, 256.0).iter().map(|&p| p as u8).collect();
    let y = [2u8, 0, 1];
    let images = be.upload_images(&pixels, 7);
    let labels = be.upload_images(&y, 1);

    // Analytic gradient: one SGD step with lr = 1 moves each parameter by minus its gradient.
    let mut sda = Sda::from_host(&be, config, &params0);
    let mut ws = sda.workspace(&be, rows);
    let (mut costs, mut errors) = (be.zeros(1), be.zeros(1));
    let full = FinetuneScope::Full;
    sda.finetune_step(&be, &mut ws, &images, &labels, 0, 1.0, full, &mut costs, &mut errors, 0);
    let params1 = sda.params(&be);
    let flat = |p: &SdaParams| -> Vec<f64> {
        p.layers
            .iter()
            .chain(std::iter::once(&p.top))
            .flat_map(|(w, b)| w.iter().chain(b).map(|&v| v as f64).collect::<Vec<_>>())
            .collect()
    };
    let analytic: Vec<f64> =
        flat(&params0).iter().zip(flat(&params1)).map(|(old, new)| old - new).collect();

    let x: Vec<f64> = pixels.iter().map(|&p| p as f64 / 255.0).collect();
    let mut theta = flat(&params0);
    let cost = |t: &[f64]| {
        let mut rest = t;
        let layers: Vec<(Vec<f64>, Vec<f64>)> = sizes
            .windows(2)
            .map(|io| {
                let (w, r) = rest.split_at(io[0] * io[1]);
                let (b, r) = r.split_at(io[1]);
                rest = r;
                (w.to_vec(), b.to_vec())
            })
            .collect();
        sda_nll_f64(&layers, &sizes, &x, &y)
    };
    let c0 = cost(&theta);
    assert!((costs[0] as f64 - c0).abs() <= 1e-5 * c0, "step cost {} vs f64 cost {c0}", costs[0]);
    let eps = 1e-6;
    let scale = analytic.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    assert!(scale > 0.0);
    for i in 0..theta.len() {
        let p = theta[i];
        theta[i] = p + eps;
        let up = cost(&theta);
        theta[i] = p - eps;
        let down = cost(&theta);
        theta[i] = p;
        let numeric = (up - down) / (2.0 * eps);
        assert!(
            (analytic[i] - numeric).abs() <= 1e-4 * scale + 1e-3 * numeric.abs(),
            "parameter {i}: analytic {} vs numeric {numeric}",
            analytic[i]
        );
    }

    // Fine-tuning the top only leaves the hidden layers as they were.
    let mut sda = Sda::from_host(&be, sda.config.clone(), &params0);
    let top = FinetuneScope::Top;
    sda.finetune_step(&be, &mut ws, &images, &labels, 0, 1.0, top, &mut costs, &mut errors, 0);
    let after = sda.params(&be);
    assert_eq!(after.layers, params0.layers, "--finetune top changed a hidden layer");
    assert_eq!(after.top, params1.top, "the softmax layer's step does not depend on the scope");
}
