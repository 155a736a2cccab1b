//! Gradients of the models against central finite differences of an independent f64 cost.

use gpu_dae::backend::cpu::Cpu;
use gpu_dae::backend::ops::SoftmaxNll;
use gpu_dae::backend::{Noise, Run, Storage};
use gpu_dae::model::sda::LayerKind;
use gpu_dae::model::{Autoencoder, AutoencoderConfig, Step};
use gpu_dae::rng::{RngKey, drop_threshold};

use crate::util::{FiniteDifferences, Rel, Tol, uniforms};

/// Asserts that an analytic gradient matches its central finite difference
/// (`FiniteDifferences::GRADIENTS`), `scale` being the largest gradient.
fn assert_matches_fd(name: &str, i: usize, analytic: f64, numeric: f64, scale: f64) {
    assert!(
        FiniteDifferences::GRADIENTS.accepts(analytic, numeric, scale),
        "{name} parameter {i}: analytic {analytic} vs numeric {numeric}"
    );
}

/// The name of flat parameter `i` of a tied autoencoder laid out as [W (V·H), b (H), b′ (V)].
fn tied_name(i: usize, v: usize, h: usize) -> &'static str {
    if i < v * h {
        "W"
    } else if i < v * h + h {
        "b"
    } else {
        "b'"
    }
}

/// Splits flat tied-autoencoder parameters [W (V·H), b (H), b′ (V)] into (W, b, b′).
fn split_tied(p: &[f64], v: usize, h: usize) -> (&[f64], &[f64], &[f64]) {
    let (w, rest) = p.split_at(v * h);
    let (b, bp) = rest.split_at(h);
    (w, b, bp)
}

/// What one SGD step at lr = 1 tells about a tied autoencoder's gradient.
struct TiedStep {
    /// The starting parameters, flat [W, b, b′], in f64.
    params: Vec<f64>,
    /// The analytic gradient: each parameter's old value minus its new one.
    analytic: Vec<f64>,
    /// The step's reported batch-mean cost.
    cost: f32,
    /// Contractive models: the step's batch-mean squared Jacobian norm.
    jac_sq: Option<f32>,
}

/// One SGD step at lr = 1 of a tied autoencoder of `config` from (w0, b0, b′0) on `rows`
/// images of `pixels`, corrupted under `key`: one step moves each parameter by minus its
/// gradient.
fn tied_step(
    config: AutoencoderConfig,
    (w0, b0, bp0): (&[f32], &[f32], &[f32]),
    pixels: &[u8],
    rows: usize,
    key: RngKey,
) -> TiedStep {
    let be = Cpu::new();
    let (v, contractive) = (config.n_vis, config.contraction > 0.0);
    let mut ae = Autoencoder::from_host(&be, config, w0, b0, bp0);
    let mut ws = ae.workspace(&be, rows);
    let images = be.upload_images(pixels, v);
    ae.train_step(&be, &mut ws, &images, Step { first: 0, key, lr: 1.0, slot: 0 });
    let (w1, b1, bp1) = ae.download(&be);
    let old = w0.iter().chain(b0).chain(bp0);
    let new = w1.iter().chain(&b1).chain(&bp1);
    TiedStep {
        params: old.clone().map(|&p| p as f64).collect(),
        analytic: old.zip(new).map(|(&o, &n)| o as f64 - n as f64).collect(),
        cost: ws.costs()[0],
        jac_sq: contractive.then(|| be.download(ws.jacobian_sq())[0]),
    }
}

/// Asserts that every entry of `analytic` matches the central finite difference of `cost` at
/// `params` (step 1e-6), naming a failing parameter `i` by `name(i)`; the gradient must not be
/// all zero, which would make the comparison empty.
fn assert_gradient(
    analytic: &[f64],
    mut params: Vec<f64>,
    cost: impl Fn(&[f64]) -> f64,
    name: impl Fn(usize) -> &'static str,
) {
    let eps = 1e-6;
    let scale = analytic.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    assert!(scale > 0.0, "the analytic gradient is all zero");
    for i in 0..params.len() {
        let p = params[i];
        params[i] = p + eps;
        let up = cost(&params);
        params[i] = p - eps;
        let down = cost(&params);
        params[i] = p;
        assert_matches_fd(name(i), i, analytic[i], (up - down) / (2.0 * eps), scale);
    }
}

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
    let config = AutoencoderConfig {
        n_vis: v,
        n_hid: h,
        noise: Noise::Mask { p: 0.3 },
        contraction: 0.0,
        ..Default::default()
    };
    let w0 = uniforms(20, v * h, -1.0, 1.0);
    let b0 = uniforms(21, h, -0.5, 0.5);
    let bp0 = uniforms(22, v, -0.5, 0.5);
    let pixels: Vec<u8> = uniforms(23, rows * v, 0.0, 256.0).iter().map(|&p| p as u8).collect();
    let key = RngKey::new(77, 3);
    let step = tied_step(config, (&w0, &b0, &bp0), &pixels, rows, key);

    let x: Vec<f64> = pixels.iter().map(|&p| p as f64 / 255.0).collect();
    let t = drop_threshold(0.3);
    let keep: Vec<bool> = (0..rows * v).map(|i| key.bits(i as u32) >> 8 >= t).collect();
    assert!(keep.iter().any(|k| !k), "the test must exercise dropped inputs");
    let cost = |p: &[f64]| da_cost_f64(split_tied(p, v, h), &x, &keep, (rows, v, h));
    let c0 = cost(&step.params);
    Rel::COST_VS_F64.check("step cost vs f64 cost", step.cost.into(), c0);
    assert_gradient(&step.analytic, step.params, cost, |i| tied_name(i, v, h));
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
        let labels = be.upload_labels(&y);
        let mut grad = vec![f32::NAN; rows * classes];
        let (mut costs, mut errors) = (vec![0.0; 2], vec![0.0; 2]);
        let scale = 1.0 / rows as f32;
        be.run(SoftmaxNll {
            grad: &mut grad,
            costs: &mut costs,
            errors: &mut errors,
            slot: 1,
            logits: &a0,
            labels: &labels,
            first: 0,
            rows,
            classes,
            scale,
        });
        let mut a: Vec<f64> = a0.iter().map(|&v| v as f64).collect();
        let c0 = nll_f64(&a, &y, classes);
        Rel::NLL_VS_F64.check(&format!("[{rows}, {classes}]: cost vs f64"), costs[1].into(), c0);
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
                Tol::SOFTMAX_FD.accepts(grad[i].into(), numeric),
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
    let labels = be.upload_labels(&[1, 2, 0]);
    let (mut grad, mut costs, mut errors) = (vec![0.0; 9], vec![0.0], vec![0.0]);
    be.run(SoftmaxNll {
        grad: &mut grad,
        costs: &mut costs,
        errors: &mut errors,
        slot: 0,
        logits: &a,
        labels: &labels,
        first: 0,
        rows: 3,
        classes: 3,
        scale: 1.0,
    });
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
    let config = SdaConfig {
        n_in: 7,
        hidden: vec![5, 4],
        corruption: vec![0.1, 0.2],
        n_out: 3,
        layer: LayerKind::Da,
        contraction: 0.0,
    };
    let mut host = tiny_sda_params(&sizes);
    let top = host.pop().expect("the softmax layer");
    let params0 = SdaParams { layers: host, top };
    let pixels: Vec<u8> = uniforms(60, rows * 7, 0.0, 256.0).iter().map(|&p| p as u8).collect();
    let y = [2u8, 0, 1];
    let images = be.upload_images(&pixels, 7);
    let labels = be.upload_labels(&y);

    // Analytic gradient: one SGD step with lr = 1 moves each parameter by minus its gradient.
    let mut sda = Sda::from_host(&be, config, &params0);
    let mut ws = sda.workspace(&be, rows, 1);
    let step = Step { first: 0, key: RngKey::UNUSED, lr: 1.0, slot: 0 };
    sda.finetune_step(&be, &mut ws, &images, &labels, step, FinetuneScope::Full);
    let cost0 = ws.costs()[0];
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
    let theta = flat(&params0);
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
    Rel::COST_VS_F64.check("step cost vs f64 cost", cost0.into(), c0);
    assert_gradient(&analytic, theta, cost, |_| "SdA");

    // Fine-tuning the top only leaves the hidden layers as they were.
    let mut sda = Sda::from_host(&be, sda.config.clone(), &params0);
    sda.finetune_step(&be, &mut ws, &images, &labels, step, FinetuneScope::Top);
    let after = sda.params(&be);
    assert_eq!(after.layers, params0.layers, "--finetune top changed a hidden layer");
    assert_eq!(after.top, params1.top, "the softmax layer's step does not depend on the scope");
}

/// The cA cost in f64 straight from the formulas (no corruption): h = σ(xW + b),
/// a = hWᵀ + b′, cost = (1/B)Σ_rows Σ_k [softplus(a) − x·a] + λ·(1/B)Σₙ‖Jₙ‖²_F with the full
/// Jacobian Jₙ = diag(hₙ(1 − hₙ))·Wᵀ: ‖Jₙ‖²_F = Σⱼ Σᵢ (hₙⱼ(1 − hₙⱼ)·Wᵢⱼ)² (every entry of J,
/// not the column-norm shortcut the model uses). Returns (reconstruction, mean ‖J‖²_F).
fn cae_cost_f64(
    (w, b, bp): (&[f64], &[f64], &[f64]),
    x: &[f64],
    (rows, v, h): (usize, usize, usize),
) -> (f64, f64) {
    let keep = vec![true; rows * v];
    let recon = da_cost_f64((w, b, bp), x, &keep, (rows, v, h));
    let mut jac = 0.0;
    for r in 0..rows {
        for j in 0..h {
            let pre: f64 = (0..v).map(|i| x[r * v + i] * w[i * h + j]).sum::<f64>() + b[j];
            let hj = 1.0 / (1.0 + (-pre).exp());
            let s = hj * (1.0 - hj);
            jac += (0..v).map(|i| (s * w[i * h + j]).powi(2)).sum::<f64>();
        }
    }
    (recon, jac / rows as f64)
}

#[test]
fn cae_penalty_gradient_matches_central_finite_differences() {
    let (rows, v, h) = (3, 7, 5);
    let lambda = 0.7;
    let config = AutoencoderConfig {
        n_vis: v,
        n_hid: h,
        noise: Noise::None,
        contraction: lambda,
        ..Default::default()
    };
    let w0 = uniforms(30, v * h, -1.5, 1.5);
    let b0 = uniforms(31, h, -0.5, 0.5);
    let bp0 = uniforms(32, v, -0.5, 0.5);
    let pixels: Vec<u8> = uniforms(33, rows * v, 0.0, 256.0).iter().map(|&p| p as u8).collect();

    // Analytic gradient of CE + λ·penalty: one SGD step with lr = 1.
    let step = tied_step(config, (&w0, &b0, &bp0), &pixels, rows, RngKey::new(1, 0));
    let jac_sq = step.jac_sq.expect("a contractive step reports its Jacobian norm");

    let x: Vec<f64> = pixels.iter().map(|&p| p as f64 / 255.0).collect();
    let parts = |p: &[f64]| cae_cost_f64(split_tied(p, v, h), &x, (rows, v, h));
    let (recon0, jac0) = parts(&step.params);
    Rel::COST_VS_F64.check("reconstruction cost vs f64", step.cost.into(), recon0);
    Rel::COST_VS_F64.check("‖J‖² vs f64", jac_sq.into(), jac0);

    // The penalty alone moves the gradient: without it the check below would fail.
    let eps = 1e-6;
    let scale = step.analytic.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    let mut params = step.params.clone();
    let mut penalty_scale = 0.0f64;
    for i in 0..params.len() {
        let p = params[i];
        params[i] = p + eps;
        let pen_up = parts(&params).1;
        params[i] = p - eps;
        let pen_down = parts(&params).1;
        params[i] = p;
        penalty_scale =
            penalty_scale.max((lambda as f64 * (pen_up - pen_down) / (2.0 * eps)).abs());
    }
    assert!(penalty_scale > 1e-2 * scale, "the penalty's gradient must matter in this test");
    let cost = |p: &[f64]| {
        let (r, j) = parts(p);
        r + lambda as f64 * j
    };
    assert_gradient(&step.analytic, step.params, cost, |i| tied_name(i, v, h));
}

#[test]
fn stacked_cae_layer_gradient_matches_central_finite_differences() {
    use gpu_dae::model::{Sda, SdaConfig, SdaParams};
    // 7-5-4-3 pretrained as cAs (`--layer cae`); the step checked is layer 1's, whose input is
    // layer 0's clean code h₀ = σ(xW₀ + b₀).
    let (rows, v, h) = (3, 5, 4);
    let lambda = 0.7;
    let be = Cpu::new();
    let (hidden, corruption) = (vec![5, 4], vec![0.0, 0.0]);
    let config = SdaConfig {
        n_in: 7,
        hidden,
        corruption,
        n_out: 3,
        layer: LayerKind::Cae,
        contraction: lambda,
    };
    let mut layers = tiny_sda_params(&[7, 5, 4, 3]);
    layers[1].0 = uniforms(34, v * h, -1.5, 1.5);
    let top = layers.pop().expect("the softmax layer");
    let params0 = SdaParams { layers, top };
    let pixels: Vec<u8> = uniforms(35, rows * 7, 0.0, 256.0).iter().map(|&p| p as u8).collect();
    let images = be.upload_images(&pixels, 7);

    // Analytic gradient: one SGD step at lr = 1 of layer 1 (b′₁ starts at 0).
    let mut sda = Sda::from_host(&be, config, &params0);
    let mut ws = sda.workspace(&be, rows, 1);
    let mut dws = sda.layer_workspace(&be, 1, rows, 1);
    let step = Step { first: 0, key: RngKey::new(1, 1 << 40), lr: 1.0, slot: 0 };
    sda.pretrain_step(&be, 1, &mut ws, &mut dws, &images, step);
    let (w1, b1, bp1) = sda.layers[1].download(&be);
    let (w0, b0) = &params0.layers[1];
    let old: Vec<f64> = w0.iter().chain(b0).map(|&p| p as f64).chain(vec![0.0; v]).collect();
    let new = w1.iter().chain(&b1).chain(&bp1).map(|&p| p as f64);
    let analytic: Vec<f64> = old.iter().zip(new).map(|(o, n)| o - n).collect();

    let x: Vec<f64> = pixels.iter().map(|&p| p as f64 / 255.0).collect();
    let (wx, bx) = &params0.layers[0];
    let h0: Vec<f64> = (0..rows * v)
        .map(|e| {
            let (r, j) = (e / v, e % v);
            let pre: f64 = (0..7).map(|i| x[r * 7 + i] * wx[i * v + j] as f64).sum::<f64>();
            1.0 / (1.0 + (-(pre + bx[j] as f64)).exp())
        })
        .collect();
    let parts = |p: &[f64]| cae_cost_f64(split_tied(p, v, h), &h0, (rows, v, h));
    let (recon0, jac0) = parts(&old);
    Rel::COST_VS_F64.check("layer 1 reconstruction cost vs f64", dws.costs()[0].into(), recon0);
    let jac_sq = be.download(dws.jacobian_sq())[0];
    Rel::COST_VS_F64.check("layer 1 ‖J‖² vs f64", jac_sq.into(), jac0);
    // Without the penalty the same step would not match: its gradient matters here.
    let recon_only = |p: &[f64]| parts(p).0;
    let eps = 1e-6;
    let mut probe = old.clone();
    let moved = (0..probe.len()).any(|i| {
        let p = probe[i];
        probe[i] = p + eps;
        let up = recon_only(&probe);
        probe[i] = p - eps;
        let down = recon_only(&probe);
        probe[i] = p;
        ((up - down) / (2.0 * eps) - analytic[i]).abs() > 1e-2 * analytic[i].abs().max(1e-3)
    });
    assert!(moved, "the contractive penalty did not change layer 1's step");
    let cost = |p: &[f64]| {
        let (r, j) = parts(p);
        r + lambda as f64 * j
    };
    assert_gradient(&analytic, old.clone(), cost, |i| tied_name(i, v, h));
}

/// The ReLU-DAE's ½E in f64 from the formulas, for a given corrupted input x̃ and clean x (both
/// standardised): z = max(0, x̃W + B), y = zV + C, cost = (1/B)Σ_rows ½‖y − x‖². Also returns
/// how many hidden units are on.
fn relu_dae_half_error_f64(
    (w, v, b, c): (&[f64], &[f64], &[f64], &[f64]),
    x: &[f64],
    x_tilde: &[f64],
    (rows, nv, nh): (usize, usize, usize),
) -> (f64, usize) {
    let (mut total, mut on) = (0.0, 0);
    for r in 0..rows {
        let z: Vec<f64> = (0..nh)
            .map(|j| {
                let s: f64 = (0..nv).map(|i| x_tilde[r * nv + i] * w[i * nh + j]).sum();
                (s + b[j]).max(0.0)
            })
            .collect();
        on += z.iter().filter(|&&v| v > 0.0).count();
        for i in 0..nv {
            let y: f64 = (0..nh).map(|j| z[j] * v[j * nv + i]).sum::<f64>() + c[i];
            total += 0.5 * (y - x[r * nv + i]).powi(2);
        }
    }
    (total / rows as f64, on)
}

#[test]
fn relu_dae_gradient_matches_central_finite_differences_with_units_off() {
    use gpu_dae::backend::Activation;
    use gpu_dae::model::{Init, Loss};
    use gpu_dae::rng::gaussian;
    let (rows, nv, nh) = (2, 7, 6);
    let (mean, std, sigma) = (0.13f32, 0.31f32, 1.0f32);
    let be = Cpu::new();
    let config = AutoencoderConfig {
        n_vis: nv,
        n_hid: nh,
        noise: Noise::Gauss { sigma },
        encoder: Activation::Relu,
        tied: false,
        loss: Loss::SquaredError,
        decoder: Activation::Identity,
        standardise: Some([mean, std]),
        init: Init::Normal { std: 0.01, hidden_bias: 0.5 },
        ..Default::default()
    };
    let w0 = uniforms(50, nv * nh, -0.5, 0.5);
    let v0 = uniforms(51, nh * nv, -0.5, 0.5);
    // Hidden biases from −2 to 2: some units are off for some examples.
    let b0 = uniforms(52, nh, -2.0, 2.0);
    let c0 = uniforms(53, nv, -0.5, 0.5);
    let pixels: Vec<u8> = uniforms(54, rows * nv, 0.0, 256.0).iter().map(|&p| p as u8).collect();
    let key = RngKey::new(9, 4);

    let mut ae = Autoencoder::from_host_untied(&be, config, (&w0, &v0), &b0, &c0);
    let mut ws = ae.workspace(&be, rows);
    let images = be.upload_images(&pixels, nv);
    ae.train_step(&be, &mut ws, &images, Step { first: 0, key, lr: 1.0, slot: 0 });
    let (cost0, frac_on) = (ws.costs()[0], ws.fraction_on()[0]);
    let (w1, b1, c1) = ae.download(&be);
    let v1 = ae.download_decoder(&be).unwrap();
    let analytic: Vec<f64> = [(&w0, &w1), (&v0, &v1), (&b0, &b1), (&c0, &c1)]
        .iter()
        .flat_map(|(old, new)| old.iter().zip(new.iter()).map(|(&o, &n)| o as f64 - n as f64))
        .collect();

    // x and x̃ exactly as the backend computes them in f32.
    let xf: Vec<f32> =
        pixels.iter().map(|&p| p as f32 * (1.0 / 255.0) * (1.0 / std) + (-mean / std)).collect();
    let x: Vec<f64> = xf.iter().map(|&v| v as f64).collect();
    let x_tilde: Vec<f64> =
        xf.iter().enumerate().map(|(i, &v)| (v + sigma * gaussian(key, i as u32)) as f64).collect();
    let (nw, nvv) = (nv * nh, nh * nv);
    let params: Vec<f64> = w0.iter().chain(&v0).chain(&b0).chain(&c0).map(|&p| p as f64).collect();
    let cost = |p: &[f64]| {
        let (w, rest) = p.split_at(nw);
        let (v, rest) = rest.split_at(nvv);
        let (b, c) = rest.split_at(nh);
        relu_dae_half_error_f64((w, v, b, c), &x, &x_tilde, (rows, nv, nh))
    };
    let (half, on) = cost(&params);
    assert!(on > 0 && on < rows * nh, "units on: {on} of {}: the test needs some off", rows * nh);
    assert_eq!(frac_on, on as f32 / (rows * nh) as f32, "fraction on");
    // The step reports E = ‖y − x‖², twice the ½E whose gradient it follows.
    Rel::GAUSSIAN_SQ_ERR_VS_F64.check("E vs f64", cost0.into(), 2.0 * half);

    let name = |i| match i {
        i if i < nw => "W",
        i if i < nw + nvv => "V",
        i if i < nw + nvv + nh => "B",
        _ => "C",
    };
    assert_gradient(&analytic, params, |p| cost(p).0, name);
}

/// ½ the squared error of a tied autoencoder with a sigmoid decoder, in f64 and per example:
/// h = σ(x̃W + b), z = σ(hWᵀ + b′), ½‖z − x‖² averaged over the rows.
fn sigmoid_sq_half_error_f64(
    (w, b, bp): (&[f64], &[f64], &[f64]),
    x: &[f64],
    x_tilde: &[f64],
    (rows, v, h): (usize, usize, usize),
) -> f64 {
    let sigma = |a: f64| 1.0 / (1.0 + (-a).exp());
    let mut total = 0.0;
    for r in 0..rows {
        let hid: Vec<f64> = (0..h)
            .map(|j| sigma((0..v).map(|i| x_tilde[r * v + i] * w[i * h + j]).sum::<f64>() + b[j]))
            .collect();
        for i in 0..v {
            let z = sigma((0..h).map(|j| hid[j] * w[i * h + j]).sum::<f64>() + bp[i]);
            total += 0.5 * (z - x[r * v + i]).powi(2);
        }
    }
    total / rows as f64
}

#[test]
fn sigmoid_decoder_with_squared_error_and_salt_and_pepper_matches_finite_differences() {
    use gpu_dae::model::Loss;
    let (rows, v, h) = (3, 7, 5);
    let p = 0.4;
    let config = AutoencoderConfig {
        n_vis: v,
        n_hid: h,
        noise: Noise::SaltPepper { p },
        loss: Loss::SquaredError,
        ..Default::default()
    };
    let w0 = uniforms(60, v * h, -1.0, 1.0);
    let b0 = uniforms(61, h, -0.5, 0.5);
    let bp0 = uniforms(62, v, -0.5, 0.5);
    let pixels: Vec<u8> = uniforms(63, rows * v, 0.0, 256.0).iter().map(|&p| p as u8).collect();
    let key = RngKey::new(78, 5);
    let step = tied_step(config, (&w0, &b0, &bp0), &pixels, rows, key);

    // x̃ by the documented rule: corrupted iff bits >> 8 < threshold, then the low bit.
    let x: Vec<f64> = pixels.iter().map(|&px| (px as f32 * (1.0 / 255.0)) as f64).collect();
    let t = drop_threshold(p);
    let x_tilde: Vec<f64> = (0..rows * v)
        .map(|i| {
            let bits = key.bits(i as u32);
            if bits >> 8 < t { (bits & 1) as f64 } else { x[i] }
        })
        .collect();
    assert!(x_tilde.iter().zip(&x).any(|(a, b)| a != b), "the test must exercise corruption");
    let cost =
        |q: &[f64]| sigmoid_sq_half_error_f64(split_tied(q, v, h), &x, &x_tilde, (rows, v, h));
    let half = cost(&step.params);
    // The step reports E = ‖z − x‖², twice the ½E whose gradient it follows.
    Rel::SQ_ERR_VS_F64.check("E vs f64", step.cost.into(), 2.0 * half);
    assert_gradient(&step.analytic, step.params, cost, |i| tied_name(i, v, h));
}
