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
