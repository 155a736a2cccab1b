//! Every GPU kernel against its CPU twin (`backend::cpu::Cpu`, the reference) on seeded data at
//! awkward shapes (1, 7, 33, 784: no tile divides them), plus determinism, the recording model
//! (ring wrap-around, buffers dropped while recorded) and adapter selection.
//!
//! The GPU is any adapter wgpu finds, software ones included (lavapipe on CI). Without one the
//! tests print a skip line and pass, unless `GPU_DAE_REQUIRE_GPU=1`, where they fail. Shapes are
//! small: a software adapter is ~100× slower than a GPU.

use std::sync::OnceLock;

use gpu_dae::backend::cpu::Cpu;
use gpu_dae::backend::gpu::{DeviceError, Gpu, GpuOptions, GpuTensor, list_adapters};
use gpu_dae::backend::{Activation, Backend, Epilogue, GemmSpec, Noise};
use gpu_dae::model::{Autoencoder, AutoencoderConfig};
use gpu_dae::rng::RngKey;

use crate::util::{Tol, assert_close, uniforms};

/// GEMM shapes (m, n, k): single elements, odd sizes on every dimension, 64-tile edges ± 1, and
/// the dA's [20, 784] × [784, 500].
const GEMM_SHAPES: &[(usize, usize, usize)] =
    &[(1, 1, 1), (7, 33, 1), (1, 7, 33), (33, 7, 784), (7, 784, 33), (65, 63, 17), (20, 500, 784)];

/// (α, β) pairs: overwrite (C starts as NaN and must be ignored), the fused SGD update, and a
/// general scaling.
const SCALINGS: &[(f32, f32)] = &[(1.0, 0.0), (-0.1, 1.0), (0.5, -2.0)];

/// A GEMM accumulates k products in another order than faer: error grows like √k.
fn gemm_tol(k: usize) -> Tol {
    Tol { rel: 1e-5, abs: 1e-5 * (k as f64).sqrt() }
}

/// Element-wise transcendental results (σ, softplus): the same polynomials, a few ulp apart.
const ELEMENTWISE: Tol = Tol { rel: 1e-5, abs: 1e-7 };

/// The shared GPU for the kernel tests, or why there is none.
fn gpu_or_err() -> &'static Result<Gpu, String> {
    static GPU: OnceLock<Result<Gpu, String>> = OnceLock::new();
    GPU.get_or_init(|| {
        let opts = GpuOptions { adapter: None, allow_software: true };
        let gpu = Gpu::new(&opts).map_err(|e| e.to_string());
        if let Ok(g) = &gpu {
            println!("gpu_vs_cpu: on {}", g.describe());
        }
        gpu
    })
}

fn require_gpu() -> bool {
    std::env::var("GPU_DAE_REQUIRE_GPU").is_ok_and(|v| v == "1")
}

/// The GPU for `test`, or None after printing a skip line (a failure under
/// `GPU_DAE_REQUIRE_GPU=1`).
pub fn gpu(test: &str) -> Option<&'static Gpu> {
    match gpu_or_err() {
        Ok(g) => Some(g),
        Err(e) if require_gpu() => panic!("{test}: GPU_DAE_REQUIRE_GPU=1 but no GPU: {e}"),
        Err(e) => {
            println!("SKIP gpu_vs_cpu::{test}: no GPU adapter ({e})");
            None
        }
    }
}

/// A GPU of its own for tests that read the counters (the shared one is used concurrently).
fn own_gpu(test: &str) -> Option<Gpu> {
    gpu(test)?;
    Some(
        Gpu::new(&GpuOptions { adapter: None, allow_software: true }).expect("opened once already"),
    )
}

fn assert_bit_identical(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    let bad: Vec<String> = got
        .iter()
        .zip(want)
        .enumerate()
        .filter(|(_, (g, w))| g.to_bits() != w.to_bits())
        .take(5)
        .map(|(i, (g, w))| format!("[{i}] got {g:e} want {w:e}"))
        .collect();
    assert!(bad.is_empty(), "{what}: not bit-identical; first: {}", bad.join(", "));
}

/// Seeded u8 pixels.
fn pixels(seed: u64, n: usize) -> Vec<u8> {
    uniforms(seed, n, 0.0, 256.0).into_iter().map(|v| v as u8).collect()
}

/// The bit-identical noises `load_batch` and `corrupt` are checked with: none, masking and
/// salt-and-pepper at the edges of their range and between (Gaussian noise agrees within a
/// tolerance: `gaussian_noise_matches_cpu_within_a_tolerance`).
const NOISES: &[Noise] = &[
    Noise::None,
    Noise::Mask { p: 0.0 },
    Noise::Mask { p: 0.3 },
    Noise::Mask { p: 0.5 },
    Noise::Mask { p: 1.0 },
    Noise::SaltPepper { p: 0.0 },
    Noise::SaltPepper { p: 0.3 },
    Noise::SaltPepper { p: 0.5 },
    Noise::SaltPepper { p: 1.0 },
];

#[test]
fn load_batch_and_its_corruption_are_bit_identical() {
    let Some(gpu) = gpu("load_batch_and_its_corruption_are_bit_identical") else {
        return;
    };
    let cpu = Cpu::new();
    // (n, dim, first, rows): dim 7 and 33 put rows across u32 word boundaries; 784 is MNIST,
    // and [20, 784] the tutorial's batch.
    let cases = [
        (1, 1, 0, 1),
        (13, 7, 3, 5),
        (13, 7, 12, 1),
        (40, 33, 5, 33),
        (5, 784, 1, 3),
        (25, 784, 3, 20),
    ];
    for (c, (n, dim, first, rows)) in cases.into_iter().enumerate() {
        let px = pixels(n as u64 * 31 + dim as u64, n * dim);
        let (gi, ci) = (gpu.upload_images(&px, dim), cpu.upload_images(&px, dim));
        for (i, &noise) in NOISES.iter().enumerate() {
            let key = RngKey::new(0xdae, (c * NOISES.len() + i) as u64);
            let nan = vec![f32::NAN; rows * dim];
            let (mut gx, mut gxt) = (gpu.upload(&nan), gpu.upload(&nan));
            let (mut cx, mut cxt) = (nan.clone(), nan);
            gpu.load_batch(&mut gx, &mut gxt, &gi, first, rows, noise, key);
            cpu.load_batch(&mut cx, &mut cxt, &ci, first, rows, noise, key);
            let what = format!("load_batch n={n} dim={dim} first={first} rows={rows} {noise:?}");
            assert_bit_identical(&format!("{what}: x"), &gpu.download(&gx), &cx);
            assert_bit_identical(&format!("{what}: x̃"), &gpu.download(&gxt), &cxt);
        }
    }
}

/// Runs one GEMM on both backends from the same inputs and compares C.
fn check_gemm(gpu: &Gpu, spec: GemmSpec, epi: &str, seed: u64) {
    let GemmSpec { m, n, k, .. } = spec;
    let cpu = Cpu::new();
    let a = uniforms(seed, m * k, -1.0, 1.0);
    let b = uniforms(seed + 1, k * n, -1.0, 1.0);
    let c0 =
        if spec.beta == 0.0 { vec![f32::NAN; m * n] } else { uniforms(seed + 2, m * n, -1.0, 1.0) };
    let bias = uniforms(seed + 3, n, -2.0, 2.0);
    let out = uniforms(seed + 4, m * n, 0.0, 1.0);
    let (ga, gb, gbias, gout) =
        (gpu.upload(&a), gpu.upload(&b), gpu.upload(&bias), gpu.upload(&out));
    let out_centred: Vec<f32> = out.iter().map(|o| o - 0.5).collect();
    let gout_centred = gpu.upload(&out_centred);
    let mut gc = gpu.upload(&c0);
    let mut cc = c0;
    let (ge, ce) = match epi {
        "none" => (Epilogue::None, Epilogue::None),
        "bias+identity" => (
            Epilogue::BiasAct { bias: &gbias, act: Activation::Identity },
            Epilogue::BiasAct { bias: &bias, act: Activation::Identity },
        ),
        "bias+sigmoid" => (
            Epilogue::BiasAct { bias: &gbias, act: Activation::Sigmoid },
            Epilogue::BiasAct { bias: &bias, act: Activation::Sigmoid },
        ),
        "grad identity" => (
            Epilogue::ActGrad { out: &gout, act: Activation::Identity },
            Epilogue::ActGrad { out: &out, act: Activation::Identity },
        ),
        "grad sigmoid" => (
            Epilogue::ActGrad { out: &gout, act: Activation::Sigmoid },
            Epilogue::ActGrad { out: &out, act: Activation::Sigmoid },
        ),
        "bias+relu" => (
            Epilogue::BiasAct { bias: &gbias, act: Activation::Relu },
            Epilogue::BiasAct { bias: &bias, act: Activation::Relu },
        ),
        // out in [−0.5, 0.5): half the units are off.
        "grad relu" => (
            Epilogue::ActGrad { out: &gout_centred, act: Activation::Relu },
            Epilogue::ActGrad { out: &out_centred, act: Activation::Relu },
        ),
        other => panic!("unknown epilogue {other}"),
    };
    gpu.gemm(&mut gc, &ga, &gb, spec, ge);
    cpu.gemm(&mut cc, &a, &b, spec, ce);
    assert_close(&format!("gemm {spec:?} epilogue {epi}"), &gpu.download(&gc), &cc, gemm_tol(k));
}

#[test]
fn gemm_matches_cpu_for_every_transpose_and_scaling() {
    let Some(gpu) = gpu("gemm_matches_cpu_for_every_transpose_and_scaling") else {
        return;
    };
    for (s, &(m, n, k)) in GEMM_SHAPES.iter().enumerate() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            for &(alpha, beta) in SCALINGS {
                let spec = GemmSpec { m, n, k, trans_a: ta, trans_b: tb, alpha, beta };
                check_gemm(gpu, spec, "none", 100 + s as u64);
            }
        }
    }
}

#[test]
fn gemm_epilogues_match_cpu() {
    let Some(gpu) = gpu("gemm_epilogues_match_cpu") else {
        return;
    };
    for (s, &(m, n, k)) in GEMM_SHAPES.iter().enumerate() {
        // The dA's uses: encoder (none), decoder (trans_b), backprop through σ (none), and the
        // scaled variants with the epilogue applied after β·C.
        let specs = [
            GemmSpec::new(m, n, k),
            GemmSpec::new(m, n, k).trans_b(),
            GemmSpec::new(m, n, k).trans_a().scaled(0.5, -2.0),
        ];
        for spec in specs {
            for epi in [
                "bias+identity",
                "bias+sigmoid",
                "grad identity",
                "grad sigmoid",
                "bias+relu",
                "grad relu",
            ] {
                check_gemm(gpu, spec, epi, 200 + s as u64);
            }
        }
    }
}

/// `gemm_sum` shapes (m, n, k, k2): single elements, k ≠ k2 on odd sizes, an empty pair on
/// either side, vec4-readable A for one pair only, 64-tile edges ± 1, and the dA's update
/// [784, 20]·[20, 500] twice.
const GEMM_SUM_SHAPES: &[(usize, usize, usize, usize)] = &[
    (1, 1, 1, 1),
    (7, 33, 1, 5),
    (1, 7, 33, 7),
    (33, 7, 784, 1),
    (7, 33, 0, 5),
    (7, 33, 5, 0),
    (12, 16, 8, 6),
    (65, 63, 17, 4),
    (784, 500, 20, 20),
];

#[test]
fn gemm_sum_matches_cpu_for_every_transpose_and_scaling() {
    let Some(gpu) = gpu("gemm_sum_matches_cpu_for_every_transpose_and_scaling") else {
        return;
    };
    let cpu = Cpu::new();
    for (s, &(m, n, k, k2)) in GEMM_SUM_SHAPES.iter().enumerate() {
        let seed = 300 + 10 * s as u64;
        let (a1, b1) = (uniforms(seed, m * k, -1.0, 1.0), uniforms(seed + 1, k * n, -1.0, 1.0));
        let (a2, b2) =
            (uniforms(seed + 2, m * k2, -1.0, 1.0), uniforms(seed + 3, k2 * n, -1.0, 1.0));
        let (ga1, gb1, ga2, gb2) =
            (gpu.upload(&a1), gpu.upload(&b1), gpu.upload(&a2), gpu.upload(&b2));
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            for &(alpha, beta) in SCALINGS {
                let spec = GemmSpec { m, n, k, trans_a: ta, trans_b: tb, alpha, beta };
                let c0 = if beta == 0.0 {
                    vec![f32::NAN; m * n]
                } else {
                    uniforms(seed + 4, m * n, -1.0, 1.0)
                };
                let mut gc = gpu.upload(&c0);
                let mut cc = c0;
                gpu.gemm_sum(&mut gc, (&ga1, &gb1), (&ga2, &gb2), spec, k2);
                cpu.gemm_sum(&mut cc, (&a1, &b1), (&a2, &b2), spec, k2);
                let what = format!("gemm_sum {spec:?} k2={k2}");
                assert_close(&what, &gpu.download(&gc), &cc, gemm_tol(k + k2));
            }
        }
    }
}

#[test]
fn gemm_sigmoid_saturates_like_cpu() {
    let Some(gpu) = gpu("gemm_sigmoid_saturates_like_cpu") else {
        return;
    };
    let cpu = Cpu::new();
    // k = 1, A = 1: C = σ(B + bias) with pre-activations out to ±200.
    let n = 41;
    let b: Vec<f32> = (0..n).map(|j| (j as f32 - 20.0) * 10.0).collect();
    let bias = vec![0.25; n];
    let (ga, gb, gbias) = (gpu.upload(&[1.0]), gpu.upload(&b), gpu.upload(&bias));
    let mut gc = gpu.zeros(n);
    let mut cc = vec![0.0; n];
    let act = Activation::Sigmoid;
    gpu.gemm(&mut gc, &ga, &gb, GemmSpec::new(1, n, 1), Epilogue::BiasAct { bias: &gbias, act });
    cpu.gemm(
        &mut cc,
        &vec![1.0],
        &b,
        GemmSpec::new(1, n, 1),
        Epilogue::BiasAct { bias: &bias, act },
    );
    let got = gpu.download(&gc);
    assert!(
        got.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)),
        "σ out of [0, 1]: {got:?}"
    );
    assert_close("σ saturation", &got, &cc, ELEMENTWISE);
}

#[test]
fn xent_logits_matches_cpu() {
    let Some(gpu) = gpu("xent_logits_matches_cpu") else {
        return;
    };
    let cpu = Cpu::new();
    // (100, 784) has more than 65 536 elements: the two-pass reduction.
    for (rows, cols) in [(1, 1), (7, 33), (20, 784), (100, 784)] {
        let len = rows * cols;
        let mut logits = uniforms(len as u64, len, -12.0, 12.0);
        // Extremes where a naive log σ overflows.
        for (i, v) in [(0, 100.0), (len / 2, -100.0), (len - 1, 88.0)] {
            logits[i] = v;
        }
        let target = uniforms(len as u64 + 1, len, 0.0, 1.0);
        let scale = 1.0 / rows as f32;
        let costs0 = vec![7.0, 8.0, 9.0, 10.0];
        let (gl, gt) = (gpu.upload(&logits), gpu.upload(&target));
        let mut ggrad = gpu.upload(&vec![f32::NAN; len]);
        let mut gcosts = gpu.upload(&costs0);
        let mut cgrad = vec![f32::NAN; len];
        let mut ccosts = costs0.clone();
        gpu.xent_logits(&mut ggrad, &mut gcosts, 2, &gl, &gt, rows, cols, scale);
        cpu.xent_logits(&mut cgrad, &mut ccosts, 2, &logits, &target, rows, cols, scale);
        let what = format!("xent_logits [{rows}, {cols}]");
        assert_close(&format!("{what} grad"), &gpu.download(&ggrad), &cgrad, ELEMENTWISE);
        let got = gpu.download(&gcosts);
        assert_bit_identical(
            &format!("{what} other slots"),
            &[got[0], got[1], got[3]],
            &[7.0, 8.0, 10.0],
        );
        // Sums of thousands of terms in another order.
        assert_close(
            &format!("{what} cost"),
            &got[2..3],
            &ccosts[2..3],
            Tol { rel: 1e-5, abs: 1e-5 },
        );
    }
}

#[test]
fn col_sum_matches_cpu() {
    let Some(gpu) = gpu("col_sum_matches_cpu") else {
        return;
    };
    let cpu = Cpu::new();
    for (rows, cols) in [(1, 1), (7, 33), (20, 500), (33, 784), (1000, 7)] {
        let a = uniforms(rows as u64 * 7 + cols as u64, rows * cols, -1.0, 1.0);
        let ga = gpu.upload(&a);
        for &(alpha, beta) in SCALINGS {
            let out0 =
                if beta == 0.0 { vec![f32::NAN; cols] } else { uniforms(5, cols, -1.0, 1.0) };
            let mut gout = gpu.upload(&out0);
            let mut cout = out0;
            gpu.col_sum(&mut gout, &ga, rows, cols, alpha, beta);
            cpu.col_sum(&mut cout, &a, rows, cols, alpha, beta);
            let tol = Tol { rel: 1e-5, abs: 1e-6 * (rows as f64).sqrt() };
            let what = format!("col_sum [{rows}, {cols}] α={alpha} β={beta}");
            assert_close(&what, &gpu.download(&gout), &cout, tol);
        }
    }
}

/// `steps` SGD steps of a vis-hid dA (`Autoencoder::train_step`, corruption 0.3, lr 0.1) on
/// `images` ([n, vis] u8), batches of `batch` taken in order and wrapping around; W starts from the seeded
/// uniforms of the tutorial's range, b = b′ = 0. Returns (W, b, b′, per-step costs), the costs
/// downloaded once after the last step.
fn da_steps<B: Backend>(
    be: &B,
    images: &[u8],
    (vis, hid): (usize, usize),
    batch: usize,
    steps: usize,
) -> [Vec<f32>; 4] {
    da_steps_with(be, images, (vis, hid), batch, steps, |_| {})
}

/// `da_steps`, calling `after_step(step)` after each step is recorded (to read GPU counters).
fn da_steps_with<B: Backend>(
    be: &B,
    images: &[u8],
    (vis, hid): (usize, usize),
    batch: usize,
    steps: usize,
    mut after_step: impl FnMut(usize),
) -> [Vec<f32>; 4] {
    let n_batches = images.len() / vis / batch;
    let dev_images = be.upload_images(images, vis);
    let r = 4.0 * (6.0 / (vis + hid) as f32).sqrt();
    let config = AutoencoderConfig {
        n_vis: vis,
        n_hid: hid,
        noise: Noise::Mask { p: 0.3 },
        contraction: 0.0,
        ..Default::default()
    };
    let w0 = uniforms(9, vis * hid, -r, r);
    let mut ae = Autoencoder::from_host(be, config, &w0, &vec![0.0; hid], &vec![0.0; vis]);
    let mut ws = ae.workspace(be, batch);
    let mut costs = be.zeros(steps);
    for step in 0..steps {
        let first = (step % n_batches) * batch;
        let key = RngKey::new(1, step as u64);
        ae.train_step(be, &mut ws, &dev_images, first, key, 0.1, &mut costs, step);
        after_step(step);
    }
    let costs = be.download(&costs);
    let (w, b, b_prime) = ae.download(be);
    [w, b, b_prime, costs]
}

#[test]
fn da_steps_match_cpu_and_repeat_bit_for_bit() {
    let Some(gpu) = gpu("da_steps_match_cpu_and_repeat_bit_for_bit") else {
        return;
    };
    let (shape, batch, steps) = ((33, 7), 5, 4);
    let images = pixels(3, batch * steps * shape.0);
    let first = da_steps(gpu, &images, shape, batch, steps);
    let again = da_steps(gpu, &images, shape, batch, steps);
    let want = da_steps(&Cpu::new(), &images, shape, batch, steps);
    for (i, name) in ["W", "b", "b′", "costs"].into_iter().enumerate() {
        assert_bit_identical(&format!("dA {name}, run twice"), &again[i], &first[i]);
        assert_close(
            &format!("dA {name} vs CPU"),
            &first[i],
            &want[i],
            Tol { rel: 1e-4, abs: 1e-5 },
        );
    }
}

#[test]
fn da_20_steps_on_64_images_match_cpu() {
    let Some(gpu) = own_gpu("da_20_steps_on_64_images_match_cpu") else {
        return;
    };
    // The first 64 MNIST training images; batch 16 walks them in 4 batches, 20 steps wrap
    // around 5 times. The tutorial's 784-500, corruption 0.3, lr 0.1.
    let data = gpu_dae::data::load_embedded(Some(600)).expect("embedded MNIST");
    let images = &data.train.images.pixels[..64 * 784];
    let (shape, batch, steps) = ((784, 500), 16, 20);
    let want = da_steps(&Cpu::new(), images, shape, batch, steps);

    gpu.reset_counters();
    let mut after_each = Vec::new();
    let got = da_steps_with(&gpu, images, shape, batch, steps, |_| after_each.push(gpu.counters()));
    let c = gpu.counters();
    let per_step: Vec<u64> = after_each
        .iter()
        .scan(0, |prev, s| Some(s.dispatches - std::mem::replace(prev, s.dispatches)))
        .collect();
    println!("da_20_steps_on_64_images_match_cpu: {c:?}; dispatches per step {per_step:?}");
    assert!(per_step.iter().all(|&d| d <= 8), "dispatches per step {per_step:?}, at most 8 wanted");
    // No readback while the steps are recorded; then one for the costs, and `da_steps_with`
    // downloads W, b, b′ after it.
    assert!(
        after_each.iter().all(|s| s.readbacks == 0),
        "readback during the steps: {after_each:?}"
    );
    let (vis, hid) = shape;
    assert_eq!(c.readbacks, 1 + 3, "one readback for the costs (then W, b, b′): {c:?}");
    assert_eq!(c.bytes_down, (steps + vis * hid + hid + vis) as u64 * 4, "{c:?}");
    let data_up: Vec<u64> = after_each.iter().map(|s| s.bytes_up - s.param_bytes).collect();
    assert!(
        data_up.iter().all(|&b| b == data_up[0]),
        "data bytes uploaded after the first step: {data_up:?}"
    );

    let [w, b, b_prime, costs] = &got;
    println!("costs GPU {costs:?}\ncosts CPU {:?}", want[3]);
    for (step, (&g, &c)) in costs.iter().zip(&want[3]).enumerate() {
        let rel = ((g - c) / c).abs();
        assert!(rel <= 1e-4, "step {step}: cost GPU {g} vs CPU {c}, relative difference {rel:e}");
    }
    // 20 steps of f32 GEMMs summed in another order than faer's: W (|W| ≤ 0.27 at init) agrees
    // to 1e-5 absolute; lavapipe measured 1.2e-7.
    let worst = |got: &[f32], want: &[f32]| {
        got.iter().zip(want).map(|(g, w)| (g - w).abs()).fold(0.0f32, f32::max)
    };
    println!(
        "worst |GPU − CPU|: W {:e}, b {:e}, b′ {:e}",
        worst(w, &want[0]),
        worst(b, &want[1]),
        worst(b_prime, &want[2])
    );
    let params = Tol { rel: 1e-5, abs: 1e-5 };
    assert_close("W after 20 steps", w, &want[0], params);
    assert_close("b after 20 steps", b, &want[1], params);
    assert_close("b′ after 20 steps", b_prime, &want[2], params);
}

#[test]
fn reductions_repeat_bit_for_bit() {
    let Some(gpu) = gpu("reductions_repeat_bit_for_bit") else {
        return;
    };
    let (rows, cols) = (90, 784); // 70 560 elements: the two-pass loss
    let len = rows * cols;
    let logits = gpu.upload(&uniforms(41, len, -5.0, 5.0));
    let target = gpu.upload(&uniforms(42, len, 0.0, 1.0));
    let mut grad = gpu.zeros(len);
    let mut costs = gpu.zeros(8);
    let mut sums = gpu.zeros(8 * cols);
    for slot in 0..8 {
        gpu.xent_logits(&mut grad, &mut costs, slot, &logits, &target, rows, cols, 0.01);
        let mut s = gpu.zeros(cols);
        gpu.col_sum(&mut s, &grad, rows, cols, 1.0, 0.0);
        let row = gpu.download(&s);
        let mut all = gpu.download(&sums);
        all[slot * cols..(slot + 1) * cols].copy_from_slice(&row);
        sums = gpu.upload(&all);
    }
    let costs = gpu.download(&costs);
    let sums = gpu.download(&sums);
    for slot in 1..8 {
        assert_bit_identical("xent cost, repeated", &costs[slot..slot + 1], &costs[..1]);
        assert_bit_identical(
            "col_sum, repeated",
            &sums[slot * cols..(slot + 1) * cols],
            &sums[..cols],
        );
    }
}

#[test]
fn ring_wraps_across_submits_and_counters_add_up() {
    let Some(gpu) = own_gpu("ring_wraps_across_submits_and_counters_add_up") else {
        return;
    };
    let cols = 3;
    let ones = gpu.upload(&[1.0; 3]);
    let mut acc = gpu.zeros(cols);
    gpu.reset_counters();
    // More dispatches than the ring has slots: every one must see its own parameters.
    let n = 5000;
    for i in 0..n {
        let alpha = if i % 2 == 0 { 1.0 } else { 2.0 };
        gpu.col_sum(&mut acc, &ones, 1, cols, alpha, 1.0);
    }
    let got = gpu.download(&acc);
    assert_eq!(got, vec![(n / 2 * 3) as f32; 3], "accumulated sums");
    let c = gpu.counters();
    assert_eq!(c.dispatches, n as u64, "{c:?}");
    assert!(c.submits >= 2, "5000 dispatches fit no ring: {c:?}");
    assert_eq!(c.readbacks, 1, "{c:?}");
    assert_eq!(c.bytes_down, 12, "{c:?}");
    assert!(c.bytes_up >= n as u64 * 16, "every parameter block is uploaded: {c:?}");
    gpu.reset_counters();
    assert_eq!(gpu.counters().dispatches, 0);
}

#[test]
fn empty_tensors_and_ops_are_no_ops() {
    let Some(gpu) = gpu("empty_tensors_and_ops_are_no_ops") else {
        return;
    };
    let empty = gpu.zeros(0);
    assert!(gpu.download(&empty).is_empty());
    assert!(gpu.download(&gpu.upload(&[])).is_empty());
    let mut c = gpu.upload(&[1.0, 2.0]);
    gpu.gemm(&mut c, &empty, &empty, GemmSpec::new(0, 2, 0), Epilogue::None);
    gpu.col_sum(&mut c, &empty, 0, 0, 1.0, 0.0);
    gpu.gemm_sum(&mut c, (&empty, &empty), (&empty, &empty), GemmSpec::new(0, 2, 0), 0);
    let images = gpu.upload_images(&[7; 4], 2);
    let (mut x, mut x_tilde) = (gpu.zeros(0), gpu.zeros(0));
    gpu.load_batch(&mut x, &mut x_tilde, &images, 1, 0, Noise::Mask { p: 0.5 }, RngKey::new(0, 0));
    assert_eq!(gpu.download(&c), vec![1.0, 2.0]);
}

#[test]
fn a_tensor_dropped_while_recorded_is_kept_alive() {
    let Some(gpu) = gpu("a_tensor_dropped_while_recorded_is_kept_alive") else {
        return;
    };
    let mut out = gpu.zeros(4);
    for round in 0..3 {
        let tmp: GpuTensor = gpu.upload(&[1.0, 2.0, 3.0, 4.0 + round as f32]);
        gpu.col_sum(&mut out, &tmp, 1, 4, 1.0, 1.0);
        drop(tmp);
    }
    assert_eq!(gpu.download(&out), vec![3.0, 6.0, 9.0, 15.0]);
}

#[test]
fn adapter_selection_reports_what_it_found() {
    let Some(gpu) = gpu("adapter_selection_reports_what_it_found") else {
        return;
    };
    let info = gpu.adapter_info();
    for row in list_adapters() {
        println!("adapter: {row:?}");
    }
    assert!(list_adapters().contains(&info), "{info:?} not in list_adapters()");
    assert!(gpu.describe().contains(&info.name), "{}", gpu.describe());
    let wanted = "no-such-adapter-xyz".to_string();
    match Gpu::new(&GpuOptions { adapter: Some(wanted.clone()), allow_software: true }) {
        Err(e @ DeviceError::NoMatch { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(&wanted) && msg.contains(&info.name), "{msg}");
        }
        Err(e) => panic!("expected NoMatch, got {e}"),
        Ok(_) => panic!("an adapter matched {wanted:?}"),
    }
    // Asking by (a part of) its own name, in other case, finds it again.
    let part = info.name.split_whitespace().next().expect("adapter has a name").to_uppercase();
    let again =
        Gpu::new(&GpuOptions { adapter: Some(part), allow_software: true }).expect("found by name");
    assert_eq!(again.adapter_info().name, info.name);
    if info.is_software {
        match Gpu::new(&GpuOptions { adapter: None, allow_software: false }) {
            Err(e @ DeviceError::OnlySoftware { .. }) => {
                assert!(e.to_string().contains(&info.name))
            }
            Err(e) => panic!("expected OnlySoftware, got {e}"),
            Ok(g) => {
                assert!(!g.adapter_info().is_software, "software adapter without allow_software")
            }
        }
    }
}

#[test]
fn corrupt_is_bit_identical_to_cpu_and_to_load_batch() {
    let Some(gpu) = gpu("corrupt_is_bit_identical_to_cpu_and_to_load_batch") else {
        return;
    };
    let cpu = Cpu::new();
    for (c, len) in [1, 7, 33, 784, 20 * 784].into_iter().enumerate() {
        let x = uniforms(700 + c as u64, len, 0.0, 1.0);
        let gx = gpu.upload(&x);
        for (i, &noise) in NOISES.iter().enumerate() {
            let key = RngKey::new(0x5da, (c * NOISES.len() + i) as u64);
            let nan = vec![f32::NAN; len];
            let mut gxt = gpu.upload(&nan);
            let mut cxt = nan;
            gpu.corrupt(&mut gxt, &gx, len, noise, key);
            cpu.corrupt(&mut cxt, &x, len, noise, key);
            assert_bit_identical(
                &format!("corrupt len={len} {noise:?}"),
                &gpu.download(&gxt),
                &cxt,
            );
        }
    }
    // The same key corrupts the same elements as `load_batch` does on a batch of images.
    let px = pixels(77, 3 * 33);
    let images = gpu.upload_images(&px, 33);
    for noise in [Noise::Mask { p: 0.4 }, Noise::SaltPepper { p: 0.4 }] {
        let (mut x, mut xt) = (gpu.zeros(99), gpu.zeros(99));
        let key = RngKey::new(5, 9);
        gpu.load_batch(&mut x, &mut xt, &images, 0, 3, noise, key);
        let mut again = gpu.zeros(99);
        gpu.corrupt(&mut again, &x, 99, noise, key);
        assert_bit_identical(
            &format!("corrupt vs load_batch {noise:?}"),
            &gpu.download(&again),
            &gpu.download(&xt),
        );
    }
}

#[test]
fn softmax_nll_matches_cpu() {
    let Some(gpu) = gpu("softmax_nll_matches_cpu") else {
        return;
    };
    let cpu = Cpu::new();
    // (rows, classes, first): single elements, odd sizes, MNIST's 10 classes at batch 1, 7 and
    // an evaluation chunk of 500, 784 classes; `first` puts labels across u32 word boundaries.
    let cases =
        [(1, 1, 0), (7, 10, 3), (33, 7, 1), (1, 784, 2), (7, 33, 5), (1, 10, 0), (500, 10, 7)];
    for (c, (rows, classes, first)) in cases.into_iter().enumerate() {
        let n = first + rows + 3;
        let y: Vec<u8> = uniforms(800 + c as u64, n, 0.0, classes as f32)
            .iter()
            .map(|&v| (v as usize).min(classes - 1) as u8)
            .collect();
        let len = rows * classes;
        let mut logits = uniforms(900 + c as u64, len, -8.0, 8.0);
        // Extremes (a naive softmax overflows) and a tie for the maximum in the first row.
        if classes >= 3 {
            logits[0] = 100.0;
            logits[1] = 100.0;
            logits[len - 1] = -100.0;
        }
        let (gl, glab, clab) =
            (gpu.upload(&logits), gpu.upload_images(&y, 1), cpu.upload_images(&y, 1));
        let slots0 = vec![7.0, 8.0, 9.0];
        let scale = 1.0 / rows as f32;
        let mut ggrad = gpu.upload(&vec![f32::NAN; len]);
        let (mut gcosts, mut gerrors) = (gpu.upload(&slots0), gpu.upload(&slots0));
        let mut cgrad = vec![f32::NAN; len];
        let (mut ccosts, mut cerrors) = (slots0.clone(), slots0.clone());
        gpu.softmax_nll(
            &mut ggrad,
            &mut gcosts,
            &mut gerrors,
            1,
            &gl,
            &glab,
            first,
            rows,
            classes,
            scale,
        );
        cpu.softmax_nll(
            &mut cgrad,
            &mut ccosts,
            &mut cerrors,
            1,
            &logits,
            &clab,
            first,
            rows,
            classes,
            scale,
        );
        let what = format!("softmax_nll [{rows}, {classes}] first={first}");
        let grad_tol = Tol { rel: 1e-5, abs: 1e-6 * scale as f64 };
        assert_close(&format!("{what} grad"), &gpu.download(&ggrad), &cgrad, grad_tol);
        let (got_costs, got_errors) = (gpu.download(&gcosts), gpu.download(&gerrors));
        assert_bit_identical(&format!("{what} other slots"), &got_costs[..1], &[7.0]);
        assert_bit_identical(&format!("{what} other slots"), &got_costs[2..], &[9.0]);
        assert_close(
            &format!("{what} cost"),
            &got_costs[1..2],
            &ccosts[1..2],
            Tol { rel: 1e-5, abs: 1e-6 },
        );
        assert_bit_identical(&format!("{what} errors"), &got_errors, &cerrors);
    }
}

/// `pretrain` steps of each hidden layer's dA, then `finetune` fine-tuning steps, of a small
/// SdA (vis-7-5-10, corruption 0.1/0.3, batches of `batch` in order, wrapping around) on
/// `images` ([n, vis] u8) and `labels`. Returns the parameters (W, b of every layer, then the
/// softmax layer's) and the per-step pretraining costs, fine-tuning costs and error counts,
/// each downloaded once.
fn sda_steps<B: Backend>(
    be: &B,
    images: &[u8],
    labels: &[u8],
    vis: usize,
    batch: usize,
    (pretrain, finetune): (usize, usize),
) -> Vec<Vec<f32>> {
    use gpu_dae::model::{FinetuneScope, Sda, SdaConfig};
    let n_batches = labels.len() / batch;
    let config = SdaConfig { n_in: vis, hidden: vec![7, 5], corruption: vec![0.1, 0.3], n_out: 10 };
    let (dev_images, dev_labels) = (be.upload_images(images, vis), be.upload_images(labels, 1));
    let mut sda = Sda::new(be, config, 3);
    let mut ws = sda.workspace(be, batch);
    let mut pre_costs = be.zeros(2 * pretrain);
    for k in 0..2 {
        let mut dws = sda.layer_workspace(be, k, batch);
        for step in 0..pretrain {
            let first = (step % n_batches) * batch;
            let key = RngKey::new(1, ((k as u64) << 40) | step as u64);
            let slot = k * pretrain + step;
            sda.pretrain_step(
                be,
                k,
                &mut ws,
                &mut dws,
                &dev_images,
                first,
                key,
                0.1,
                &mut pre_costs,
                slot,
            );
        }
    }
    let (mut costs, mut errors) = (be.zeros(finetune), be.zeros(finetune));
    for step in 0..finetune {
        let first = (step % n_batches) * batch;
        let full = FinetuneScope::Full;
        sda.finetune_step(
            be,
            &mut ws,
            &dev_images,
            &dev_labels,
            first,
            0.5,
            full,
            &mut costs,
            &mut errors,
            step,
        );
    }
    let mut out = vec![be.download(&pre_costs), be.download(&costs), be.download(&errors)];
    let params = sda.params(be);
    for (w, b) in params.layers.into_iter().chain(std::iter::once(params.top)) {
        out.push(w);
        out.push(b);
    }
    out
}

#[test]
fn sda_pretraining_and_finetuning_steps_match_cpu() {
    let Some(gpu) = gpu("sda_pretraining_and_finetuning_steps_match_cpu") else {
        return;
    };
    let (vis, batch, n) = (33, 4, 12);
    let images = pixels(11, n * vis);
    let labels: Vec<u8> = uniforms(12, n, 0.0, 10.0).iter().map(|&v| v as u8).collect();
    let steps = (5, 6);
    let want = sda_steps(&Cpu::new(), &images, &labels, vis, batch, steps);
    let got = sda_steps(gpu, &images, &labels, vis, batch, steps);
    let again = sda_steps(gpu, &images, &labels, vis, batch, steps);
    let names =
        ["pretraining costs", "fine-tuning costs", "errors", "W0", "b0", "W1", "b1", "W", "b"];
    for (i, name) in names.into_iter().enumerate() {
        assert_bit_identical(&format!("SdA {name}, run twice"), &again[i], &got[i]);
    }
    println!("fine-tuning costs GPU {:?}\nfine-tuning costs CPU {:?}", got[1], want[1]);
    for i in 0..2 {
        for (step, (&g, &c)) in got[i].iter().zip(&want[i]).enumerate() {
            let rel = ((g - c) / c).abs();
            assert!(rel <= 1e-4, "{} step {step}: GPU {g} vs CPU {c}, relative {rel:e}", names[i]);
        }
    }
    assert_eq!(got[2], want[2], "fine-tuning error counts");
    for i in 3..names.len() {
        assert_close(
            &format!("SdA {} vs CPU", names[i]),
            &got[i],
            &want[i],
            Tol { rel: 1e-4, abs: 1e-5 },
        );
    }
}

/// Shapes (rows, cols) of the contractive ops: single elements, odd sizes, a cA batch of the
/// tutorial (10 × 500) and W itself ([784, 500] for the column norms).
const JACOBIAN_SHAPES: &[(usize, usize)] =
    &[(1, 1), (7, 33), (33, 7), (1, 784), (10, 500), (784, 33)];

#[test]
fn col_sq_norms_and_scale_cols_match_cpu() {
    let Some(gpu) = gpu("col_sq_norms_and_scale_cols_match_cpu") else {
        return;
    };
    let cpu = Cpu::new();
    for &(rows, cols) in JACOBIAN_SHAPES.iter().chain(&[(784, 500)]) {
        let a = uniforms(rows as u64 * 11 + cols as u64, rows * cols, -1.0, 1.0);
        let ga = gpu.upload(&a);
        let mut gout = gpu.upload(&vec![f32::NAN; cols]);
        let mut cout = vec![f32::NAN; cols];
        gpu.col_sq_norms(&mut gout, &ga, rows, cols);
        cpu.col_sq_norms(&mut cout, &a, rows, cols);
        let tol = Tol { rel: 1e-5, abs: 1e-6 * (rows as f64).sqrt() };
        assert_close(&format!("col_sq_norms [{rows}, {cols}]"), &gpu.download(&gout), &cout, tol);

        let f = uniforms(cols as u64 + 3, cols, 0.0, 2.0);
        let gf = gpu.upload(&f);
        let mut ga = ga;
        let mut ca = a;
        gpu.scale_cols(&mut ga, &gf, rows, cols, -0.3);
        cpu.scale_cols(&mut ca, &f, rows, cols, -0.3);
        let what = format!("scale_cols [{rows}, {cols}]");
        assert_close(&what, &gpu.download(&ga), &ca, Tol { rel: 1e-6, abs: 1e-7 });
    }
}

#[test]
fn contractive_matches_cpu() {
    let Some(gpu) = gpu("contractive_matches_cpu") else {
        return;
    };
    let cpu = Cpu::new();
    for &(rows, cols) in JACOBIAN_SHAPES {
        let seed = rows as u64 * 13 + cols as u64;
        let h = uniforms(seed, rows * cols, 0.0, 1.0);
        let c = uniforms(seed + 1, cols, 0.0, 50.0);
        let dh0 = uniforms(seed + 2, rows * cols, -1.0, 1.0);
        let (lambda, scale, slot) = (0.1, 1.0 / rows as f32, 2);
        let (gh, gc) = (gpu.upload(&h), gpu.upload(&c));
        let mut gdh = gpu.upload(&dh0);
        let mut gcg = gpu.upload(&vec![f32::NAN; cols]);
        let mut gjac = gpu.upload(&[7.0; 4]);
        let mut cdh = dh0;
        let mut ccg = vec![f32::NAN; cols];
        let mut cjac = vec![7.0; 4];
        gpu.contractive(&mut gdh, &mut gcg, &mut gjac, slot, &gh, &gc, rows, cols, lambda, scale);
        cpu.contractive(&mut cdh, &mut ccg, &mut cjac, slot, &h, &c, rows, cols, lambda, scale);
        let what = format!("contractive [{rows}, {cols}]");
        let tol = Tol { rel: 1e-5, abs: 1e-6 };
        assert_close(&format!("{what} dh"), &gpu.download(&gdh), &cdh, tol);
        let tol = Tol { rel: 1e-5, abs: 1e-6 * (rows as f64).sqrt() };
        assert_close(&format!("{what} col_grad"), &gpu.download(&gcg), &ccg, tol);
        // Σⱼ in a tree on the GPU, in order on the CPU; the other slots are untouched.
        let tol = Tol { rel: 1e-5 * (cols as f64).sqrt(), abs: 1e-6 };
        assert_close(&format!("{what} jac_sq"), &gpu.download(&gjac), &cjac, tol);
        assert_eq!(cjac[0], 7.0);
    }
}

#[test]
fn cae_steps_match_cpu() {
    let Some(gpu) = gpu("cae_steps_match_cpu") else {
        return;
    };
    let cpu = Cpu::new();
    let (vis, hid, rows, steps) = (33, 7, 5, 4);
    let config = AutoencoderConfig {
        n_vis: vis,
        n_hid: hid,
        noise: Noise::None,
        contraction: 0.5,
        ..Default::default()
    };
    let w0 = uniforms(41, vis * hid, -1.0, 1.0);
    let px = pixels(42, rows * steps * vis);
    fn run<B: Backend>(
        be: &B,
        config: &AutoencoderConfig,
        w0: &[f32],
        px: &[u8],
        (rows, steps): (usize, usize),
    ) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let (vis, hid) = (config.n_vis, config.n_hid);
        let mut ae =
            Autoencoder::from_host(be, config.clone(), w0, &vec![0.0; hid], &vec![0.0; vis]);
        let mut ws = ae.workspace_with_slots(be, rows, steps);
        let images = be.upload_images(px, vis);
        let mut costs = be.zeros(steps);
        for s in 0..steps {
            let key = RngKey::new(3, s as u64);
            ae.train_step(be, &mut ws, &images, s * rows, key, 0.05, &mut costs, s);
        }
        (ae.download(be).0, be.download(&costs), be.download(ws.jacobian_sq()))
    }
    let (gw, gcost, gjac) = run(gpu, &config, &w0, &px, (rows, steps));
    let (cw, ccost, cjac) = run(&cpu, &config, &w0, &px, (rows, steps));
    let tol = Tol { rel: 1e-4, abs: 1e-5 };
    assert_close("cA W after 4 steps", &gw, &cw, tol);
    assert_close("cA costs", &gcost, &ccost, tol);
    assert_close("cA jacobian norms²", &gjac, &cjac, tol);
    assert!(cjac.iter().all(|&j| j > 0.0), "{cjac:?}");
}

#[test]
fn gaussian_noise_matches_cpu_within_a_tolerance() {
    let Some(gpu) = gpu("gaussian_noise_matches_cpu_within_a_tolerance") else {
        return;
    };
    let cpu = Cpu::new();
    // The uniforms are the same bits; ln, cos and √ are the driver's: |Δz| stays ~1e-6·|z|
    // plus the absolute error of cos near its zeros and of ln near u₁ = 1.
    let tol = |sigma: f32| Tol { rel: 1e-4, abs: 2e-5 * f64::from(sigma).max(1e-3) };
    for (c, len) in [1, 7, 33, 784, 20 * 784].into_iter().enumerate() {
        let x = uniforms(900 + c as u64, len, -2.0, 2.0);
        let gx = gpu.upload(&x);
        for sigma in [0.0, 0.3, 1.0] {
            let noise = Noise::Gauss { sigma };
            let key = RngKey::new(0x6a55, c as u64);
            let mut gxt = gpu.upload(&vec![f32::NAN; len]);
            let mut cxt = vec![f32::NAN; len];
            gpu.corrupt(&mut gxt, &gx, len, noise, key);
            cpu.corrupt(&mut cxt, &x, len, noise, key);
            assert_close(
                &format!("corrupt len={len} {noise:?}"),
                &gpu.download(&gxt),
                &cxt,
                tol(sigma),
            );
        }
    }
    for (n, dim, first, rows) in [(1, 1, 0, 1), (13, 7, 3, 5), (40, 33, 5, 33), (25, 784, 3, 20)] {
        let px = pixels(n as u64 * 17 + dim as u64, n * dim);
        let (gi, ci) = (gpu.upload_images(&px, dim), cpu.upload_images(&px, dim));
        let noise = Noise::Gauss { sigma: 1.0 };
        let key = RngKey::new(0x6a56, n as u64);
        let nan = vec![f32::NAN; rows * dim];
        let (mut gx, mut gxt) = (gpu.upload(&nan), gpu.upload(&nan));
        let (mut cx, mut cxt) = (nan.clone(), nan);
        gpu.load_batch(&mut gx, &mut gxt, &gi, first, rows, noise, key);
        cpu.load_batch(&mut cx, &mut cxt, &ci, first, rows, noise, key);
        let what = format!("load_batch n={n} dim={dim} first={first} rows={rows} {noise:?}");
        assert_bit_identical(&format!("{what}: x"), &gpu.download(&gx), &cx);
        assert_close(&format!("{what}: x̃"), &gpu.download(&gxt), &cxt, tol(1.0));
    }
}

#[test]
fn sq_err_count_positive_and_affine_match_cpu() {
    let Some(gpu) = gpu("sq_err_count_positive_and_affine_match_cpu") else {
        return;
    };
    let cpu = Cpu::new();
    // [1, 784] is the ReLU-DAE's per-example step; 100 × 784 takes the two-pass reduction.
    for (rows, cols) in [(1, 1), (7, 33), (33, 7), (1, 784), (20, 225), (100, 784)] {
        let len = rows * cols;
        let seed = rows as u64 * 19 + cols as u64;
        let y = uniforms(seed, len, -3.0, 3.0);
        let x = uniforms(seed + 1, len, -2.0, 2.0);
        let scale = 1.0 / rows as f32;
        let (gy, gx) = (gpu.upload(&y), gpu.upload(&x));
        // The decoder's output activation scales the gradient by its derivative.
        for out in [Activation::Identity, Activation::Sigmoid, Activation::Relu] {
            let mut ggrad = gpu.upload(&vec![f32::NAN; len]);
            let mut gcost = gpu.upload(&[5.0; 3]);
            let mut cgrad = vec![f32::NAN; len];
            let mut ccost = vec![5.0; 3];
            gpu.sq_err(&mut ggrad, &mut gcost, 1, &gy, &gx, rows, cols, scale, out);
            cpu.sq_err(&mut cgrad, &mut ccost, 1, &y, &x, rows, cols, scale, out);
            let what = format!("sq_err [{rows}, {cols}] {out:?}");
            let grad = gpu.download(&ggrad);
            assert_close(&format!("{what} grad"), &grad, &cgrad, Tol::F32_REORDERED);
            let tol = Tol { rel: 1e-5 * (len as f64).sqrt().max(1.0), abs: 1e-6 };
            assert_close(&format!("{what} cost"), &gpu.download(&gcost), &ccost, tol);
        }

        // About half of y is > 0; exact zeros count as off.
        let mut z = y.clone();
        z[0] = 0.0;
        let gz = gpu.upload(&z);
        let mut gcount = gpu.upload(&[9.0; 2]);
        let mut ccount = vec![9.0; 2];
        gpu.count_positive(&mut gcount, 0, &gz, len, 1.0);
        cpu.count_positive(&mut ccount, 0, &z, len, 1.0);
        assert_bit_identical(&format!("count_positive {len}"), &gpu.download(&gcount), &ccount);
        assert_eq!(ccount[0] as usize, z.iter().filter(|&&v| v > 0.0).count());

        let mut ga = gpu.upload(&y);
        let mut ca = y.clone();
        gpu.affine(&mut ga, len, 1.0 / 0.3081, -0.1307 / 0.3081);
        cpu.affine(&mut ca, len, 1.0 / 0.3081, -0.1307 / 0.3081);
        assert_close(
            &format!("affine {len}"),
            &gpu.download(&ga),
            &ca,
            Tol { rel: 1e-6, abs: 1e-6 },
        );
    }
}

#[test]
fn relu_dae_steps_match_cpu() {
    use gpu_dae::model::{Init, Loss};
    let Some(gpu) = gpu("relu_dae_steps_match_cpu") else {
        return;
    };
    let cpu = Cpu::new();
    let (vis, hid, rows, steps) = (33, 7, 3, 5);
    let config = AutoencoderConfig {
        n_vis: vis,
        n_hid: hid,
        noise: Noise::Gauss { sigma: 1.0 },
        encoder: Activation::Relu,
        tied: false,
        loss: Loss::SquaredError,
        decoder: Activation::Identity,
        standardise: Some([0.13, 0.31]),
        init: Init::Normal { std: 0.1, hidden_bias: 0.5 },
        ..Default::default()
    };
    let px = pixels(61, rows * steps * vis);
    fn run<B: Backend>(
        be: &B,
        config: &AutoencoderConfig,
        px: &[u8],
        (rows, steps): (usize, usize),
    ) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
        let mut ae = Autoencoder::new(be, config.clone(), 5);
        let mut ws = ae.workspace_with_slots(be, rows, steps);
        let images = be.upload_images(px, config.n_vis);
        let mut costs = be.zeros(steps);
        for s in 0..steps {
            let key = RngKey::new(3, s as u64);
            ae.train_step(be, &mut ws, &images, s * rows, key, 0.01, &mut costs, s);
        }
        let v = ae.download_decoder(be).unwrap();
        (ae.download(be).0, v, be.download(&costs), be.download(ws.fraction_on()))
    }
    let (gw, gv, gcost, gon) = run(gpu, &config, &px, (rows, steps));
    let (cw, cv, ccost, con) = run(&cpu, &config, &px, (rows, steps));
    // Gaussian noise differs in the last bits between drivers: a tolerance, not bits.
    let tol = Tol { rel: 1e-3, abs: 1e-4 };
    assert_close("ReLU-DAE W", &gw, &cw, tol);
    assert_close("ReLU-DAE V", &gv, &cv, tol);
    assert_close("ReLU-DAE errors", &gcost, &ccost, tol);
    assert_close(
        "ReLU-DAE fraction on",
        &gon,
        &con,
        Tol { rel: 0.0, abs: 1.5 / (rows * hid) as f64 },
    );
}
