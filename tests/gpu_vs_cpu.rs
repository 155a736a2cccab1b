//! Every GPU kernel against its CPU twin (`backend::cpu`, the reference) on seeded data at
//! awkward shapes (1, 7, 33, 784: no tile divides them), plus determinism, the recording model
//! (ring wrap-around, buffers dropped while recorded) and adapter selection. Each comparison
//! runs one generic body (`fn …_on<B: Backend>`) on both backends from the same host inputs.
//!
//! The GPU is any adapter wgpu finds, software ones included (lavapipe on CI); see
//! `util::gpu` for what happens without one. Shapes are small: a software adapter is slow.

use gpu_dae::backend::cpu::Cpu;
use gpu_dae::backend::gpu::{
    DeviceError, FILL, GemmKernel, GemmPath, Gpu, GpuOptions, GpuTensor, ROWS_MAX_M, gemm_plan,
    list_adapters,
};
use gpu_dae::backend::ops::{
    Affine, ColSum, Contractive, Corrupt, CountPositive, Gemm, GemmSum, GemmXent, LoadBatch,
    SoftmaxNll, SqErr, SumBiases, XentLogits,
};
use gpu_dae::backend::{Activation, Backend, Epilogue, GemmSpec, Noise, Run, Storage};
use gpu_dae::model::sda::LayerKind;
use gpu_dae::model::{Autoencoder, AutoencoderConfig, Step};
use gpu_dae::rng::RngKey;

use crate::util::{
    BIT_EXACT_NOISES, DENSE_SHAPES, GEMM_SHAPES, GEMM_SUM_SHAPES, LOAD_GEMM_SHAPES, Rel, SCALINGS,
    TRANSPOSES, Tol, assert_bit_identical, assert_close, dense_update_on, gemm_corrupt_on,
    gemm_sq_err_on, gemm_xent_inputs, gemm_xent_on, gpu, load_batch_on, load_gemm_on, own_gpu,
    pixels, sq_err_cost_tol, uniforms,
};

#[test]
fn load_batch_and_its_corruption_are_bit_identical() {
    let Some(gpu) = gpu("load_batch_and_its_corruption_are_bit_identical") else {
        return;
    };
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
        for (i, &noise) in BIT_EXACT_NOISES.iter().enumerate() {
            let key = RngKey::new(0xdae, (c * BIT_EXACT_NOISES.len() + i) as u64);
            let (gx, gxt) = load_batch_on(gpu, (&px, dim), (first, rows), noise, key);
            let (cx, cxt) = load_batch_on(&Cpu::new(), (&px, dim), (first, rows), noise, key);
            let what = format!("load_batch n={n} dim={dim} first={first} rows={rows} {noise:?}");
            assert_bit_identical(&format!("{what}: x"), &gx, &cx);
            assert_bit_identical(&format!("{what}: x̃"), &gxt, &cxt);
        }
    }
}

/// A GEMM's epilogue, as the tests name it.
#[derive(Clone, Copy, Debug)]
enum EpilogueCase {
    None,
    BiasAct(Activation),
    ActGrad(Activation),
}

/// All epilogues but none.
const EPILOGUES: [EpilogueCase; 6] = [
    EpilogueCase::BiasAct(Activation::Identity),
    EpilogueCase::BiasAct(Activation::Sigmoid),
    EpilogueCase::BiasAct(Activation::Relu),
    EpilogueCase::ActGrad(Activation::Identity),
    EpilogueCase::ActGrad(Activation::Sigmoid),
    EpilogueCase::ActGrad(Activation::Relu),
];

/// C after one GEMM of `spec` with `epilogue`, from inputs seeded by `seed` (C starts as NaN
/// where β = 0).
fn gemm_on<B: Backend>(be: &B, spec: GemmSpec, epilogue: EpilogueCase, seed: u64) -> Vec<f32> {
    let GemmSpec { m, n, k, .. } = spec;
    let a = be.upload(&uniforms(seed, m * k, -1.0, 1.0));
    let b = be.upload(&uniforms(seed + 1, k * n, -1.0, 1.0));
    let c0 =
        if spec.beta == 0.0 { vec![f32::NAN; m * n] } else { uniforms(seed + 2, m * n, -1.0, 1.0) };
    let bias = be.upload(&uniforms(seed + 3, n, -2.0, 2.0));
    // The activation's output; for the ReLU in [−0.5, 0.5): half the units are off.
    let out_lo =
        if matches!(epilogue, EpilogueCase::ActGrad(Activation::Relu)) { -0.5 } else { 0.0 };
    let out = be.upload(&uniforms(seed + 4, m * n, out_lo, out_lo + 1.0));
    let epilogue = match epilogue {
        EpilogueCase::None => Epilogue::None,
        EpilogueCase::BiasAct(act) => Epilogue::BiasAct { bias: &bias, act },
        EpilogueCase::ActGrad(act) => Epilogue::ActGrad { out: &out, act },
    };
    let mut c = be.upload(&c0);
    be.run(Gemm { c: &mut c, a: &a, b: &b, spec, epilogue });
    be.download(&c)
}

/// Every way a GEMM runs on the GPU: as its shape chooses, and each kernel family forced.
const GEMM_PATHS: [Option<GemmPath>; 5] = [
    None,
    Some(GemmPath::Tiled),
    Some(GemmPath::Split),
    Some(GemmPath::Rows),
    Some(GemmPath::Outer),
];

/// Runs `body` on `gpu` with every GEMM taking `path`, and returns its result with the entry
/// points it dispatched.
fn with_gemm_path<T>(
    gpu: &Gpu,
    path: Option<GemmPath>,
    body: impl FnOnce() -> T,
) -> (T, Vec<String>) {
    gpu.force_gemm(path);
    gpu.log_dispatches(true);
    let out = body();
    let entries = gpu.dispatch_log().into_iter().map(|d| d.entry.to_string()).collect();
    gpu.log_dispatches(false);
    gpu.force_gemm(None);
    (out, entries)
}

/// The entry point a forced path must have dispatched, where the shape lets it (a `Split`
/// needs k > 32; the outer kernel applies no epilogue and yields to the others).
fn forced_entry(path: GemmPath, k: usize, epilogue: bool) -> Option<&'static str> {
    match path {
        GemmPath::Tiled => Some(if epilogue { "gemm_epilogue" } else { "gemm" }),
        GemmPath::Split => (k > 32).then_some("gemm_part"),
        GemmPath::Rows => Some(if epilogue { "gemm_rows_epilogue" } else { "gemm_rows" }),
        GemmPath::Outer => (!epilogue).then_some("gemm_outer"),
    }
}

/// Runs one GEMM on both backends from the same inputs, with the GPU's GEMMs taking `path`, and
/// compares C; checks that the forced kernel ran.
fn check_gemm(
    gpu: &Gpu,
    spec: GemmSpec,
    epilogue: EpilogueCase,
    seed: u64,
    path: Option<GemmPath>,
) {
    let (got, entries) = with_gemm_path(gpu, path, || gemm_on(gpu, spec, epilogue, seed));
    let want = gemm_on(&Cpu::new(), spec, epilogue, seed);
    let what = format!("gemm {spec:?} epilogue {epilogue:?} path {path:?}");
    assert_close(&what, &got, &want, Tol::gemm(spec.k));
    let applies =
        !matches!(epilogue, EpilogueCase::None | EpilogueCase::ActGrad(Activation::Identity));
    if let Some(entry) = path.and_then(|p| forced_entry(p, spec.k, applies)) {
        assert!(entries.iter().any(|e| e == entry), "{what}: dispatched {entries:?}, not {entry}");
    }
}

#[test]
fn gemm_matches_cpu_for_every_transpose_and_scaling() {
    let Some(gpu) = own_gpu("gemm_matches_cpu_for_every_transpose_and_scaling") else {
        return;
    };
    for (s, &(m, n, k)) in GEMM_SHAPES.iter().enumerate() {
        for (trans_a, trans_b) in TRANSPOSES {
            for &(alpha, beta) in SCALINGS {
                let spec = GemmSpec { m, n, k, trans_a, trans_b, alpha, beta };
                for path in GEMM_PATHS {
                    check_gemm(&gpu, spec, EpilogueCase::None, 100 + s as u64, path);
                }
            }
        }
    }
}

#[test]
fn gemm_epilogues_match_cpu() {
    let Some(gpu) = own_gpu("gemm_epilogues_match_cpu") else {
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
            for epilogue in EPILOGUES {
                // The outer kernel applies no epilogue: forcing it falls back to the others.
                for &path in &GEMM_PATHS[..4] {
                    check_gemm(&gpu, spec, epilogue, 200 + s as u64, path);
                }
            }
        }
    }
}

#[test]
fn gemm_plans_fill_the_grid_at_the_tutorial_shapes() {
    // (batch, n_hid, n_vis) of the dA (500-784) and the SdA's layers, at the batches where a
    // minibatch's rows alone can fill 256 workgroups.
    for batch in [10, 20, 128] {
        for (hid, vis) in [(500, 784), (1000, 784), (1000, 1000)] {
            let encode = GemmSpec::new(batch, hid, vis);
            let decode = GemmSpec::new(batch, vis, hid).trans_b();
            let update = GemmSpec::new(vis, hid, batch).trans_a().scaled(-0.1, 1.0);
            let cases = [
                ("encode", gemm_plan(&encode, None, true, None)),
                ("decode", gemm_plan(&decode, None, true, None)),
                ("update", gemm_plan(&update, None, false, None)),
            ];
            for (what, plan) in cases {
                let groups: u32 = plan.groups.iter().product();
                assert!(
                    groups as usize >= FILL,
                    "batch {batch} {hid}-{vis} {what}: {plan:?} has {groups} workgroups"
                );
                assert_eq!(plan.fewer, None, "batch {batch} {hid}-{vis} {what}");
            }
        }
    }
    // At batch 1 the rows kernel gives every lane at most one of K's quads: fewer workgroups,
    // each saying why.
    let plan = gemm_plan(&GemmSpec::new(1, 500, 784), None, true, None);
    assert!(matches!(plan.kernel, GemmKernel::Rows { mr: 1, kl: 256 }), "{plan:?}");
    assert!(plan.fewer.is_some_and(|f| f.contains("≤ 1")), "batch 1 encode");
    // The tied update at batch 20 sums both products in the outer kernel.
    let update = GemmSpec::new(784, 500, 20).trans_a().scaled(-0.1, 1.0);
    assert_eq!(gemm_plan(&update, Some(20), false, None).kernel, GemmKernel::Outer);
}

/// C and the bias after one weight-update GEMM of `spec` (A stored [k, m], B [k, n]) with
/// `Epilogue::BiasUpdate`, from inputs seeded by `seed`.
fn gemm_bias_update_on<B: Backend>(be: &B, spec: GemmSpec, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let GemmSpec { m, n, k, .. } = spec;
    let a = be.upload(&uniforms(seed, m * k, -1.0, 1.0));
    let b = be.upload(&uniforms(seed + 1, k * n, -1.0, 1.0));
    let mut c = be.upload(&uniforms(seed + 2, m * n, -1.0, 1.0));
    let mut bias = be.upload(&uniforms(seed + 3, n, -1.0, 1.0));
    let epilogue = Epilogue::BiasUpdate { bias: &mut bias };
    be.run(Gemm { c: &mut c, a: &a, b: &b, spec, epilogue });
    (be.download(&c), be.download(&bias))
}

#[test]
fn gemm_bias_update_matches_cpu() {
    let Some(gpu) = own_gpu("gemm_bias_update_matches_cpu") else {
        return;
    };
    for (s, &(m, n, k)) in GEMM_SHAPES.iter().enumerate() {
        let spec = GemmSpec::new(m, n, k).trans_a().scaled(-0.25, 1.0);
        let want = gemm_bias_update_on(&Cpu::new(), spec, 500 + s as u64);
        for path in GEMM_PATHS {
            let (got, entries) =
                with_gemm_path(&gpu, path, || gemm_bias_update_on(&gpu, spec, 500 + s as u64));
            let what = format!("gemm bias update {spec:?} path {path:?}");
            assert_close(&format!("{what}: C"), &got.0, &want.0, Tol::gemm(k));
            assert_close(&format!("{what}: bias"), &got.1, &want.1, Tol::column_sums(k));
            // In the outer kernel's pass, or a column sum after the others.
            let fused = entries.iter().any(|e| e == "gemm_outer_bias");
            let sums = entries.iter().filter(|e| e.as_str() == "col_sum").count();
            match path {
                Some(GemmPath::Outer) => assert!(fused && sums == 0, "{what}: {entries:?}"),
                Some(_) => assert!(!fused && sums == 1, "{what}: {entries:?}"),
                None => assert_eq!(usize::from(fused) + sums, 1, "{what}: {entries:?}"),
            }
        }
    }
}

#[test]
fn dense_update_matches_cpu_with_and_without_subgroups() {
    let Some(gpu) = own_gpu("dense_update_matches_cpu_with_and_without_subgroups") else {
        return;
    };
    // lavapipe, CI's adapter, has subgroups: there the subgroup path must be the one tested.
    let software = gpu.adapter_info().name.contains("llvmpipe");
    assert!(gpu.has_subgroups() || !software, "lavapipe opened without subgroups");
    for (s, &shape) in DENSE_SHAPES.iter().enumerate() {
        let (rows, _, n_out) = shape;
        let seed = 900 + 4 * s as u64;
        let want = dense_update_on(&Cpu::new(), shape, seed);
        let mut runs = Vec::new();
        for subgroups in [true, false] {
            let used = gpu.use_subgroups(subgroups);
            gpu.log_dispatches(true);
            let got = dense_update_on(&gpu, shape, seed);
            let entries: Vec<&str> = gpu.dispatch_log().iter().map(|d| d.entry).collect();
            gpu.log_dispatches(false);
            let what = format!("dense_update {shape:?} (subgroups {used})");
            assert_close(&format!("{what}: dx"), &got[0], &want[0], Tol::gemm(n_out));
            assert_close(&format!("{what}: W"), &got[1], &want[1], Tol::gemm(rows));
            assert_close(&format!("{what}: b"), &got[2], &want[2], Tol::column_sums(rows));
            let one_pass = rows <= 4;
            assert_eq!(entries == ["dense_update"], one_pass, "{what}: dispatched {entries:?}");
            runs.push(got);
        }
        gpu.use_subgroups(true);
        // The subgroup shuffles add in the fallback's tree order: the same bits.
        for (name, (a, b)) in ["dx", "W", "b"].iter().zip(runs[0].iter().zip(&runs[1])) {
            assert_bit_identical(&format!("dense_update {shape:?} {name}, subgroups vs not"), a, b);
        }
    }
}

#[test]
fn gemm_rows_kernels_give_the_same_bits_with_and_without_subgroups() {
    let Some(gpu) = own_gpu("gemm_rows_kernels_give_the_same_bits_with_and_without_subgroups")
    else {
        return;
    };
    // lavapipe, CI's adapter, has subgroups: there the subgroup path must be the one tested.
    let software = gpu.adapter_info().name.contains("llvmpipe");
    assert!(gpu.has_subgroups() || !software, "lavapipe opened without subgroups");
    // Every rows-kernel op, both paths: the outputs and the kernels dispatched.
    let both = |what: &str, run: &dyn Fn() -> Vec<Vec<f32>>, entry: &str| {
        let mut runs = Vec::new();
        for subgroups in [true, false] {
            let used = gpu.use_subgroups(subgroups);
            let (got, entries) = with_gemm_path(&gpu, Some(GemmPath::Rows), run);
            assert!(entries.iter().any(|e| e == entry), "{what} (subgroups {used}): {entries:?}");
            runs.push(got);
        }
        gpu.use_subgroups(true);
        for (i, (a, b)) in runs[0].iter().zip(&runs[1]).enumerate() {
            assert_bit_identical(&format!("{what} output {i}, subgroups vs not"), a, b);
        }
    };
    for &(m, n, k) in GEMM_SHAPES.iter().filter(|&&(m, ..)| m <= ROWS_MAX_M) {
        for (trans_a, trans_b) in TRANSPOSES {
            let spec = GemmSpec { trans_a, trans_b, ..GemmSpec::new(m, n, k) };
            let what = format!("gemm {m}×{n}×{k} trans {trans_a} {trans_b}");
            let plain = || vec![gemm_on(&gpu, spec, EpilogueCase::None, 5)];
            both(&what, &plain, "gemm_rows");
            let epilogue = EpilogueCase::BiasAct(Activation::Sigmoid);
            both(&what, &|| vec![gemm_on(&gpu, spec, epilogue, 6)], "gemm_rows_epilogue");
            let xent = || {
                let (grad, costs) = gemm_xent_on(&gpu, spec, 1);
                vec![grad, costs]
            };
            both(&what, &xent, "gemm_xent");
            let sq_err = || gemm_sq_err_on(&gpu, spec, Activation::Identity, 1).to_vec();
            both(&what, &sq_err, "gemm_sq_err");
            let corrupt = || gemm_corrupt_on(&gpu, spec, Noise::Mask { p: 0.3 }).to_vec();
            if !trans_a {
                both(&what, &corrupt, "gemm_corrupt");
            }
        }
    }
    for &(m, n, k) in LOAD_GEMM_SHAPES.iter().filter(|&&(m, _, k)| m <= ROWS_MAX_M && k % 4 == 0) {
        for trans_b in [false, true] {
            let what = format!("load_gemm {m}×{n}×{k} trans_b {trans_b}");
            let load = (Noise::Mask { p: 0.3 }, None);
            both(&what, &|| load_gemm_on(&gpu, (m, n, k), trans_b, load).to_vec(), "load_gemm");
        }
    }
}

/// C after one `GemmSum` of `spec` with second inner dimension `k2`, from inputs seeded by
/// `seed`.
fn gemm_sum_on<B: Backend>(be: &B, spec: GemmSpec, k2: usize, seed: u64) -> Vec<f32> {
    gemm_sum_with_biases_on(be, spec, k2, seed, false).0
}

/// C, and with `biases` the updated `SumBiases` (cols [n], rows [m], from seeded values), after
/// one `GemmSum`.
fn gemm_sum_with_biases_on<B: Backend>(
    be: &B,
    spec: GemmSpec,
    k2: usize,
    seed: u64,
    biases: bool,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let GemmSpec { m, n, k, .. } = spec;
    let a1 = be.upload(&uniforms(seed, m * k, -1.0, 1.0));
    let b1 = be.upload(&uniforms(seed + 1, k * n, -1.0, 1.0));
    let a2 = be.upload(&uniforms(seed + 2, m * k2, -1.0, 1.0));
    let b2 = be.upload(&uniforms(seed + 3, k2 * n, -1.0, 1.0));
    let c0 =
        if spec.beta == 0.0 { vec![f32::NAN; m * n] } else { uniforms(seed + 4, m * n, -1.0, 1.0) };
    let mut c = be.upload(&c0);
    let mut cols = be.upload(&uniforms(seed + 5, n, -1.0, 1.0));
    let mut rows = be.upload(&uniforms(seed + 6, m, -1.0, 1.0));
    let sums = biases.then_some(SumBiases { cols: &mut cols, rows: &mut rows });
    be.run(GemmSum { c: &mut c, a1: &a1, b1: &b1, a2: &a2, b2: &b2, spec, k2, biases: sums });
    (be.download(&c), be.download(&cols), be.download(&rows))
}

#[test]
fn gemm_sum_folds_the_bias_updates_like_cpu() {
    let Some(gpu) = own_gpu("gemm_sum_folds_the_bias_updates_like_cpu") else {
        return;
    };
    for (s, &(m, n, k, k2)) in GEMM_SUM_SHAPES.iter().enumerate() {
        let seed = 400 + 10 * s as u64;
        // The tied update's layout (A₂ stored [k2, m], B₁ [k, n]), as the dA runs it.
        let spec = GemmSpec::new(m, n, k).trans_a().scaled(-0.25, 1.0);
        let want = gemm_sum_with_biases_on(&Cpu::new(), spec, k2, seed, true);
        for path in [None, Some(GemmPath::Tiled), Some(GemmPath::Outer)] {
            let (got, entries) =
                with_gemm_path(&gpu, path, || gemm_sum_with_biases_on(&gpu, spec, k2, seed, true));
            let what = format!("gemm_sum biases {spec:?} k2={k2} path {path:?}");
            assert_close(&format!("{what}: C"), &got.0, &want.0, Tol::gemm(k + k2));
            assert_close(&format!("{what}: cols"), &got.1, &want.1, Tol::column_sums(k));
            assert_close(&format!("{what}: rows"), &got.2, &want.2, Tol::column_sums(k2));
            // Fused into the pass of the outer kernel or of the tiles: one dispatch.
            let want_entry = match path {
                Some(GemmPath::Outer) => Some("gemm_sum_outer_bias"),
                Some(_) => Some("gemm_sum_bias"),
                None => None,
            };
            assert_eq!(entries.len(), 1, "{what}: {entries:?}");
            if let Some(entry) = want_entry {
                assert_eq!(entries[0], entry, "{what}");
            }
        }
    }
}

#[test]
fn gemm_sum_matches_cpu_for_every_transpose_and_scaling() {
    let Some(gpu) = own_gpu("gemm_sum_matches_cpu_for_every_transpose_and_scaling") else {
        return;
    };
    for (s, &(m, n, k, k2)) in GEMM_SUM_SHAPES.iter().enumerate() {
        let seed = 300 + 10 * s as u64;
        for (trans_a, trans_b) in TRANSPOSES {
            for &(alpha, beta) in SCALINGS {
                let spec = GemmSpec { m, n, k, trans_a, trans_b, alpha, beta };
                let want = gemm_sum_on(&Cpu::new(), spec, k2, seed);
                for path in [None, Some(GemmPath::Tiled), Some(GemmPath::Outer)] {
                    let (got, entries) =
                        with_gemm_path(&gpu, path, || gemm_sum_on(&gpu, spec, k2, seed));
                    let what = format!("gemm_sum {spec:?} k2={k2} path {path:?}");
                    assert_close(&what, &got, &want, Tol::gemm(k + k2));
                    let entry = match path {
                        Some(GemmPath::Outer) => "gemm_sum_outer",
                        Some(_) => "gemm_sum",
                        None => continue,
                    };
                    assert!(entries.iter().any(|e| e == entry), "{what}: dispatched {entries:?}");
                }
            }
        }
    }
}

/// σ(B + bias) through a k = 1 GEMM with A = 1, for pre-activations out to ±200.
fn sigmoid_saturation_on<B: Backend>(be: &B) -> Vec<f32> {
    let n = 41;
    let b: Vec<f32> = (0..n).map(|j| (j as f32 - 20.0) * 10.0).collect();
    let (a, b, bias) = (be.upload(&[1.0]), be.upload(&b), be.upload(&vec![0.25; n]));
    let mut c = be.zeros(n);
    let epilogue = Epilogue::BiasAct { bias: &bias, act: Activation::Sigmoid };
    be.run(Gemm { c: &mut c, a: &a, b: &b, spec: GemmSpec::new(1, n, 1), epilogue });
    be.download(&c)
}

#[test]
fn gemm_sigmoid_saturates_like_cpu() {
    let Some(gpu) = gpu("gemm_sigmoid_saturates_like_cpu") else {
        return;
    };
    let got = sigmoid_saturation_on(gpu);
    assert!(
        got.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)),
        "σ out of [0, 1]: {got:?}"
    );
    assert_close("σ saturation", &got, &sigmoid_saturation_on(&Cpu::new()), Tol::ELEMENTWISE);
}

/// The gradient and the cost log (slot 2 written; slots 0, 1, 3 start as 7, 8, 10) of
/// `XentLogits` over [rows, cols] seeded logits with extremes where a naive log σ overflows.
fn xent_logits_on<B: Backend>(be: &B, (rows, cols): (usize, usize)) -> (Vec<f32>, Vec<f32>) {
    let len = rows * cols;
    let mut logits = uniforms(len as u64, len, -12.0, 12.0);
    for (i, v) in [(0, 100.0), (len / 2, -100.0), (len - 1, 88.0)] {
        logits[i] = v;
    }
    let (logits, target) =
        (be.upload(&logits), be.upload(&uniforms(len as u64 + 1, len, 0.0, 1.0)));
    let (mut grad, mut costs) =
        (be.upload(&vec![f32::NAN; len]), be.upload(&[7.0, 8.0, 9.0, 10.0]));
    be.run(XentLogits {
        grad: &mut grad,
        costs: &mut costs,
        slot: 2,
        logits: &logits,
        target: &target,
        rows,
        cols,
        scale: 1.0 / rows as f32,
    });
    (be.download(&grad), be.download(&costs))
}

#[test]
fn xent_logits_matches_cpu() {
    let Some(gpu) = gpu("xent_logits_matches_cpu") else {
        return;
    };
    // (100, 784) has more than 65 536 elements: the two-pass reduction.
    for shape in [(1, 1), (7, 33), (20, 784), (100, 784)] {
        let (grad, costs) = xent_logits_on(gpu, shape);
        let (want_grad, want_costs) = xent_logits_on(&Cpu::new(), shape);
        let what = format!("xent_logits {shape:?}");
        assert_close(&format!("{what} grad"), &grad, &want_grad, Tol::ELEMENTWISE);
        let others = [costs[0], costs[1], costs[3]];
        assert_bit_identical(&format!("{what} other slots"), &others, &[7.0, 8.0, 10.0]);
        assert_close(&format!("{what} cost"), &costs[2..3], &want_costs[2..3], Tol::REORDERED_SUMS);
    }
}

#[test]
fn gemm_xent_matches_cpu_through_every_gemm_family() {
    let Some(gpu) = own_gpu("gemm_xent_matches_cpu_through_every_gemm_family") else {
        return;
    };
    for &(m, n, k) in GEMM_SHAPES {
        for trans_b in [false, true] {
            let spec = GemmSpec { trans_b, ..GemmSpec::new(m, n, k) };
            let want = gemm_xent_on(&Cpu::new(), spec, 2);
            for path in GEMM_PATHS {
                let what = format!("gemm_xent {m}×{n}×{k} trans_b {trans_b} {path:?}");
                let ((grad, costs), entries) =
                    with_gemm_path(&gpu, path, || gemm_xent_on(&gpu, spec, 2));
                assert_close(&format!("{what}: grad"), &grad, &want.0, Tol::gemm(k));
                let cost_tol = Tol { rel: 1e-5, abs: 1e-5 * (k as f64).sqrt() * n as f64 };
                assert_close(&format!("{what}: cost"), &costs[2..3], &want.1[2..3], cost_tol);
                let others = [costs[0], costs[1], costs[3]];
                assert_bit_identical(&format!("{what}: other slots"), &others, &[7.0, 8.0, 10.0]);
                // The rows kernel is the whole op, a split product's reduction pass takes the
                // loss, and any other GEMM is followed by the loss pass. Either way the cost's
                // one finish comes at the readback.
                let finish = entries.iter().position(|e| e == "log_finish");
                assert_eq!(finish, Some(entries.len() - 1), "{what}: {entries:?}");
                match gemm_plan(&spec, None, true, path).kernel {
                    GemmKernel::Rows { .. } => {
                        assert_eq!(entries, ["gemm_xent", "log_finish"], "{what}")
                    }
                    GemmKernel::Split { .. } => {
                        let want = ["gemm_part", "gemm_xent_reduce", "log_finish"];
                        assert_eq!(entries, want, "{what}")
                    }
                    _ => assert_eq!(entries[entries.len() - 2], "gemm_xent_loss", "{what}"),
                }
            }
        }
    }
}

#[test]
fn gemm_sq_err_matches_cpu_through_every_gemm_family() {
    let Some(gpu) = own_gpu("gemm_sq_err_matches_cpu_through_every_gemm_family") else {
        return;
    };
    for &(m, n, k) in GEMM_SHAPES {
        for (trans_b, out) in [(false, Activation::Identity), (true, Activation::Sigmoid)] {
            let spec = GemmSpec { trans_b, ..GemmSpec::new(m, n, k) };
            let want = gemm_sq_err_on(&Cpu::new(), spec, out, 2);
            for path in GEMM_PATHS {
                let what = format!("gemm_sq_err {m}×{n}×{k} trans_b {trans_b} {out:?} {path:?}");
                let ([grad, y, costs], entries) =
                    with_gemm_path(&gpu, path, || gemm_sq_err_on(&gpu, spec, out, 2));
                assert_close(&format!("{what}: y"), &y, &want[1], Tol::gemm(k));
                assert_close(&format!("{what}: grad"), &grad, &want[0], Tol::gemm(k));
                let cost_tol = sq_err_cost_tol(m, n, k);
                assert_close(&format!("{what}: cost"), &costs[2..3], &want[2][2..3], cost_tol);
                let others = [costs[0], costs[1], costs[3]];
                assert_bit_identical(&format!("{what}: other slots"), &others, &[7.0, 8.0, 10.0]);
                // The rows kernel is the whole op; any other GEMM is followed by `sq_err`. Either
                // way the cost's one finish comes at the readback.
                let finish = entries.iter().position(|e| e == "log_finish");
                assert_eq!(finish, Some(entries.len() - 1), "{what}: {entries:?}");
                match gemm_plan(&spec, None, true, path).kernel {
                    GemmKernel::Rows { .. } => {
                        assert_eq!(entries, ["gemm_sq_err", "log_finish"], "{what}")
                    }
                    _ => assert_eq!(entries[entries.len() - 2], "sq_err", "{what}"),
                }
            }
            // The one dispatch computes what its two ops (GPU_DAE_FUSE=off) do: the same
            // product, its epilogue's multiply-add perhaps fused by the driver.
            gpu.use_fused(false);
            let apart = gemm_sq_err_on(&gpu, spec, out, 2);
            gpu.use_fused(true);
            let fused = gemm_sq_err_on(&gpu, spec, out, 2);
            let what = format!("gemm_sq_err {m}×{n}×{k} trans_b {trans_b} {out:?}, fused and not");
            assert_close(&format!("{what}: y"), &fused[1], &apart[1], Tol::AFFINE);
            assert_close(&format!("{what}: grad"), &fused[0], &apart[0], Tol::AFFINE);
        }
    }
}

/// The cost log after a run of `GemmXent`s and an `XentLogits` into it, read once: slots 0 … 4
/// at α = 1, 0.9, …; slot 3 again at α = −1 (the later cost must win); `XentLogits` into slot 4
/// (after slot 4's pending cost, another op's record); every slot doubled by a `ColSum` that
/// binds the log itself (so the pending costs must be finished before it); slot 5; slot 6 at
/// four times the columns (more workgroups than the log's records were laid out for).
fn gemm_xent_log_on<B: Backend>(be: &B) -> Vec<f32> {
    let spec = GemmSpec::new(20, 100, 50).trans_b();
    let wide = GemmSpec::new(20, 400, 50).trans_b();
    let [a, b, bias, x] = gemm_xent_inputs(spec).map(|v| be.upload(&v));
    let [a_w, b_w, bias_w, x_w] = gemm_xent_inputs(wide).map(|v| be.upload(&v));
    let mut costs = be.zeros(8);
    let mut grad = be.zeros(wide.m * wide.n);
    let scale = 1.0 / 20.0;
    let steps = [(0, 1.0), (1, 0.9), (2, 0.8), (3, 0.7), (4, 0.6), (3, -1.0)];
    for (slot, alpha) in steps {
        let (costs, grad, spec) = (&mut costs, &mut grad, spec.scaled(alpha, 0.0));
        be.run(GemmXent { grad, costs, slot, a: &a, b: &b, spec, bias: &bias, target: &x, scale });
    }
    let (rows, cols) = (spec.m, spec.n);
    let (grad_out, logits, target) = (&mut be.zeros(rows * cols), &x, &x);
    be.run(XentLogits {
        grad: grad_out,
        costs: &mut costs,
        slot: 4,
        logits,
        target,
        rows,
        cols,
        scale,
    });
    let zeros = be.zeros(8);
    be.run(ColSum { out: &mut costs, a: &zeros, rows: 1, cols: 8, alpha: 1.0, beta: 2.0 });
    let (a, b, bias, target) = (&a, &b, &bias, &x);
    be.run(GemmXent {
        grad: &mut grad,
        costs: &mut costs,
        slot: 5,
        a,
        b,
        spec,
        bias,
        target,
        scale,
    });
    let (a, b, bias, target) = (&a_w, &b_w, &bias_w, &x_w);
    be.run(GemmXent {
        grad: &mut grad,
        costs: &mut costs,
        slot: 6,
        a,
        b,
        spec: wide,
        bias,
        target,
        scale,
    });
    be.download(&costs)
}

#[test]
fn gemm_xent_costs_finish_late_in_step_order() {
    let Some(gpu) = own_gpu("gemm_xent_costs_finish_late_in_step_order") else {
        return;
    };
    let want = gemm_xent_log_on(&Cpu::new());
    gpu.log_dispatches(true);
    let got = gemm_xent_log_on(&gpu);
    let entries: Vec<&str> = gpu.dispatch_log().iter().map(|d| d.entry).collect();
    gpu.log_dispatches(false);
    assert_close("cost log", &got, &want, Tol { rel: 1e-5, abs: 1e-4 });
    assert_eq!(got[7], 0.0, "slot 7 is never written");
    // Finished before the ColSum that binds the log, before the re-layout for the wide step,
    // and at the readback: three finishes for eight steps.
    let finishes = entries.iter().filter(|&&e| e == "log_finish").count();
    assert_eq!(finishes, 3, "{entries:?}");
}

#[test]
fn load_gemm_matches_cpu_and_loads_the_batch_bit_for_bit() {
    let Some(gpu) = own_gpu("load_gemm_matches_cpu_and_loads_the_batch_bit_for_bit") else {
        return;
    };
    for &(m, n, k) in LOAD_GEMM_SHAPES {
        for trans_b in [false, true] {
            for &noise in BIT_EXACT_NOISES.iter().step_by(3) {
                let want = load_gemm_on(&Cpu::new(), (m, n, k), trans_b, (noise, None));
                for path in
                    [None, Some(GemmPath::Rows), Some(GemmPath::Tiled), Some(GemmPath::Split)]
                {
                    let what =
                        format!("load_gemm {m}×{n}×{k} trans_b {trans_b} {noise:?} {path:?}");
                    let ([c, x, x_tilde], entries) = with_gemm_path(&gpu, path, || {
                        load_gemm_on(&gpu, (m, n, k), trans_b, (noise, None))
                    });
                    assert_bit_identical(&format!("{what}: x"), &x, &want[1]);
                    assert_bit_identical(&format!("{what}: x̃"), &x_tilde, &want[2]);
                    assert_close(&format!("{what}: c"), &c, &want[0], Tol::gemm(k));
                    let spec = GemmSpec { trans_b, ..GemmSpec::new(m, n, k) };
                    assert_eq!(entries, load_gemm_entries(spec, path), "{what}");
                }
            }
        }
    }
}

/// The dispatches of a `LoadGemm` of `spec` (with a sigmoid `BiasAct`) on the GPU under the
/// forced family `path`: where A's words are whole quads (k a multiple of 4), the rows kernel
/// with the load in its loader, or a split product's first pass with the load in its loader
/// and the reduction pass; otherwise `load_batch` and the GEMM's own.
fn load_gemm_entries(spec: GemmSpec, path: Option<GemmPath>) -> Vec<&'static str> {
    let plan = gemm_plan(&spec, None, true, path);
    let quads = spec.k.is_multiple_of(4);
    match plan.kernel {
        GemmKernel::Rows { .. } if quads => vec!["load_gemm"],
        GemmKernel::Split { .. } if quads => {
            vec!["load_gemm_part", "gemm_reduce_epilogue"]
        }
        GemmKernel::Rows { .. } => vec!["load_batch", "gemm_rows_epilogue"],
        GemmKernel::Split { .. } => vec!["load_batch", "gemm_part", "gemm_reduce_epilogue"],
        _ => vec!["load_batch", "gemm_epilogue"],
    }
}

/// MNIST's pixel mean and standard deviation (after /255), the ReLU-DAE's standardising.
const MNIST_STANDARDISE: [f32; 2] = [0.1307, 0.3081];

#[test]
fn load_gemm_standardises_as_the_cpu_does_and_as_its_own_load_batch() {
    let Some(gpu) = own_gpu("load_gemm_standardises_as_the_cpu_does_and_as_its_own_load_batch")
    else {
        return;
    };
    let [mean, std] = MNIST_STANDARDISE;
    let noises = [
        Noise::None,
        Noise::Mask { p: 0.3 },
        Noise::SaltPepper { p: 0.3 },
        Noise::Gauss { sigma: 0.5 },
    ];
    for &(m, n, k) in LOAD_GEMM_SHAPES {
        for noise in noises {
            let what = format!("standardised load_gemm {m}×{n}×{k} {noise:?}");
            let load = (noise, Some(MNIST_STANDARDISE));
            let want = load_gemm_on(&Cpu::new(), (m, n, k), false, load);
            let ([c, x, x_tilde], entries) =
                with_gemm_path(&gpu, None, || load_gemm_on(&gpu, (m, n, k), false, load));
            assert_eq!(entries, load_gemm_entries(GemmSpec::new(m, n, k), None), "{what}");
            // The CPU's x is (p/255)·(1/std) − mean/std: the formula to rounding.
            let px = pixels(k as u64, (2 + m + 1) * k);
            let formula: Vec<f32> =
                px[2 * k..(2 + m) * k].iter().map(|&p| (p as f32 / 255.0 - mean) / std).collect();
            assert_close(&format!("{what}: CPU x"), &want[1], &formula, Tol::AFFINE);
            // A multiply-add the driver may fuse; Gaussian noise the driver's ln and cos.
            let noisy =
                if let Noise::Gauss { sigma } = noise { Tol::gaussian(sigma) } else { Tol::AFFINE };
            assert_close(&format!("{what}: x"), &x, &want[1], Tol::AFFINE);
            assert_close(&format!("{what}: x̃"), &x_tilde, &want[2], noisy);
            assert_close(&format!("{what}: c"), &c, &want[0], Tol::GAUSSIAN_STEPS);
            // The GPU's fused kernels load what its separate load_batch loads, bit for bit; the
            // rows kernel with A's rows staged (`load_gemm`) and a split product's parts and
            // their reduction (`load_gemm_part`) give the unfused GEMM's bits.
            gpu.use_fused(false);
            let apart = load_gemm_on(&gpu, (m, n, k), false, load);
            gpu.use_fused(true);
            assert_bit_identical(&format!("{what}: x fused and not"), &x, &apart[1]);
            assert_bit_identical(&format!("{what}: x̃ fused and not"), &x_tilde, &apart[2]);
            assert_bit_identical(&format!("{what}: c fused and not"), &c, &apart[0]);
        }
    }
}

#[test]
fn gemm_corrupt_matches_cpu_and_corrupts_its_own_output_bit_for_bit() {
    let Some(gpu) = own_gpu("gemm_corrupt_matches_cpu_and_corrupts_its_own_output_bit_for_bit")
    else {
        return;
    };
    for &(m, n, k) in GEMM_SHAPES {
        for trans_b in [false, true] {
            let spec = GemmSpec { trans_b, ..GemmSpec::new(m, n, k) };
            for &noise in BIT_EXACT_NOISES.iter().step_by(3) {
                let want = gemm_corrupt_on(&Cpu::new(), spec, noise);
                for path in [None, Some(GemmPath::Rows), Some(GemmPath::Tiled)] {
                    let what =
                        format!("gemm_corrupt {m}×{n}×{k} trans_b {trans_b} {noise:?} {path:?}");
                    let ([c, x_tilde, corrupted], entries) =
                        with_gemm_path(&gpu, path, || gemm_corrupt_on(&gpu, spec, noise));
                    assert_close(&format!("{what}: c"), &c, &want[0], Tol::gemm(k));
                    assert_bit_identical(&format!("{what}: x̃"), &x_tilde, &corrupted);
                    let rows = match path {
                        Some(GemmPath::Rows) => true,
                        None => m <= ROWS_MAX_M,
                        _ => false,
                    };
                    // The op, then the test's own Corrupt.
                    if rows {
                        assert_eq!(entries, ["gemm_corrupt", "corrupt"], "{what}");
                    } else {
                        assert!(
                            entries.iter().filter(|&e| e == "corrupt").count() == 2,
                            "{what}: {entries:?}"
                        );
                    }
                }
            }
        }
    }
}

/// `ColSum` of a seeded [rows, cols] into out (NaN where β = 0).
fn col_sum_on<B: Backend>(
    be: &B,
    (rows, cols): (usize, usize),
    (alpha, beta): (f32, f32),
) -> Vec<f32> {
    let a = be.upload(&uniforms(rows as u64 * 7 + cols as u64, rows * cols, -1.0, 1.0));
    let out0 = if beta == 0.0 { vec![f32::NAN; cols] } else { uniforms(5, cols, -1.0, 1.0) };
    let mut out = be.upload(&out0);
    be.run(ColSum { out: &mut out, a: &a, rows, cols, alpha, beta });
    be.download(&out)
}

#[test]
fn col_sum_matches_cpu() {
    let Some(gpu) = gpu("col_sum_matches_cpu") else {
        return;
    };
    for (rows, cols) in [(1, 1), (7, 33), (20, 500), (33, 784), (1000, 7)] {
        for &scaling in SCALINGS {
            let got = col_sum_on(gpu, (rows, cols), scaling);
            let want = col_sum_on(&Cpu::new(), (rows, cols), scaling);
            let what = format!("col_sum [{rows}, {cols}] (α, β) = {scaling:?}");
            assert_close(&what, &got, &want, Tol::column_sums(rows));
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
    let mut ws = ae.workspace_with_slots(be, batch, steps);
    for step in 0..steps {
        let first = (step % n_batches) * batch;
        let key = RngKey::new(1, step as u64);
        ae.train_step(be, &mut ws, &dev_images, Step { first, key, lr: 0.1, slot: step });
        after_step(step);
    }
    let costs = be.download(ws.costs());
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
        assert_close(&format!("dA {name} vs CPU"), &first[i], &want[i], Tol::STEPS);
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
    // Load, encode, decode, loss, backprop, and the update of W, b and b′ in one pass.
    assert!(per_step.iter().all(|&d| d <= 6), "dispatches per step {per_step:?}, at most 6 wanted");
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
        Rel::STEP_COSTS.check(&format!("step {step}: cost GPU vs CPU"), g.into(), c.into());
    }
    let worst = |got: &[f32], want: &[f32]| {
        got.iter().zip(want).map(|(g, w)| (g - w).abs()).fold(0.0f32, f32::max)
    };
    println!(
        "worst |GPU − CPU|: W {:e}, b {:e}, b′ {:e}",
        worst(w, &want[0]),
        worst(b, &want[1]),
        worst(b_prime, &want[2])
    );
    let params = Tol::PARAMS_AFTER_STEPS;
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
    let mut sums = Vec::new();
    for slot in 0..8 {
        let (logits, target, scale) = (&logits, &target, 0.01);
        gpu.run(XentLogits {
            grad: &mut grad,
            costs: &mut costs,
            slot,
            logits,
            target,
            rows,
            cols,
            scale,
        });
        let mut s = gpu.zeros(cols);
        gpu.run(ColSum { out: &mut s, a: &grad, rows, cols, alpha: 1.0, beta: 0.0 });
        sums.push(gpu.download(&s));
    }
    let costs = gpu.download(&costs);
    for slot in 1..8 {
        assert_bit_identical("xent cost, repeated", &costs[slot..slot + 1], &costs[..1]);
        assert_bit_identical("col_sum, repeated", &sums[slot], &sums[0]);
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
        gpu.run(ColSum { out: &mut acc, a: &ones, rows: 1, cols, alpha, beta: 1.0 });
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
    let spec = GemmSpec::new(0, 2, 0);
    gpu.run(Gemm { c: &mut c, a: &empty, b: &empty, spec, epilogue: Epilogue::None });
    gpu.run(ColSum { out: &mut c, a: &empty, rows: 0, cols: 0, alpha: 1.0, beta: 0.0 });
    let (a1, b1, a2, b2) = (&empty, &empty, &empty, &empty);
    gpu.run(GemmSum { c: &mut c, a1, b1, a2, b2, spec, k2: 0, biases: None });
    let images = gpu.upload_images(&[7; 4], 2);
    let (mut x, mut x_tilde) = (gpu.zeros(0), gpu.zeros(0));
    let (noise, key) = (Noise::Mask { p: 0.5 }, RngKey::new(0, 0));
    let images = &images;
    let (x_tilde, standardise) = (&mut x_tilde, None);
    gpu.run(LoadBatch { x: &mut x, x_tilde, images, first: 1, rows: 0, noise, key, standardise });
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
        gpu.run(ColSum { out: &mut out, a: &tmp, rows: 1, cols: 4, alpha: 1.0, beta: 1.0 });
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

/// x̃ of `Corrupt` on host `x` (x̃ starts as NaN).
fn corrupt_on<B: Backend>(be: &B, x: &[f32], noise: Noise, key: RngKey) -> Vec<f32> {
    let len = x.len();
    let mut x_tilde = be.upload(&vec![f32::NAN; len]);
    be.run(Corrupt { x_tilde: &mut x_tilde, x: &be.upload(x), len, noise, key });
    be.download(&x_tilde)
}

#[test]
fn corrupt_is_bit_identical_to_cpu_and_to_load_batch() {
    let Some(gpu) = gpu("corrupt_is_bit_identical_to_cpu_and_to_load_batch") else {
        return;
    };
    for (c, len) in [1, 7, 33, 784, 20 * 784].into_iter().enumerate() {
        let x = uniforms(700 + c as u64, len, 0.0, 1.0);
        for (i, &noise) in BIT_EXACT_NOISES.iter().enumerate() {
            let key = RngKey::new(0x5da, (c * BIT_EXACT_NOISES.len() + i) as u64);
            let what = format!("corrupt len={len} {noise:?}");
            let want = corrupt_on(&Cpu::new(), &x, noise, key);
            assert_bit_identical(&what, &corrupt_on(gpu, &x, noise, key), &want);
        }
    }
    // The same key corrupts the same elements as `LoadBatch` does on a batch of images.
    let px = pixels(77, 3 * 33);
    for noise in [Noise::Mask { p: 0.4 }, Noise::SaltPepper { p: 0.4 }] {
        let key = RngKey::new(5, 9);
        let (x, x_tilde) = load_batch_on(gpu, (&px, 33), (0, 3), noise, key);
        let what = format!("corrupt vs load_batch {noise:?}");
        assert_bit_identical(&what, &corrupt_on(gpu, &x, noise, key), &x_tilde);
    }
}

/// `SoftmaxNll` of one case: (grad, cost log, error log), slot 1 written of logs starting as
/// 7, 8, 9.
fn softmax_nll_on<B: Backend>(
    be: &B,
    (logits, labels): (&[f32], &[u8]),
    (first, rows, classes): (usize, usize, usize),
) -> [Vec<f32>; 3] {
    let len = rows * classes;
    let (logits, labels) = (be.upload(logits), be.upload_labels(labels));
    let mut grad = be.upload(&vec![f32::NAN; len]);
    let (mut costs, mut errors) = (be.upload(&[7.0, 8.0, 9.0]), be.upload(&[7.0, 8.0, 9.0]));
    be.run(SoftmaxNll {
        grad: &mut grad,
        costs: &mut costs,
        errors: &mut errors,
        slot: 1,
        logits: &logits,
        labels: &labels,
        first,
        rows,
        classes,
        scale: 1.0 / rows as f32,
    });
    [be.download(&grad), be.download(&costs), be.download(&errors)]
}

#[test]
fn softmax_nll_matches_cpu() {
    let Some(gpu) = gpu("softmax_nll_matches_cpu") else {
        return;
    };
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
        let shape = (first, rows, classes);
        let [grad, costs, errors] = softmax_nll_on(gpu, (&logits, &y), shape);
        let [want_grad, want_costs, want_errors] =
            softmax_nll_on(&Cpu::new(), (&logits, &y), shape);
        let what = format!("softmax_nll [{rows}, {classes}] first={first}");
        let grad_tol = Tol::softmax_grad(1.0 / rows as f32);
        assert_close(&format!("{what} grad"), &grad, &want_grad, grad_tol);
        assert_bit_identical(&format!("{what} other slots"), &costs[..1], &[7.0]);
        assert_bit_identical(&format!("{what} other slots"), &costs[2..], &[9.0]);
        assert_close(&format!("{what} cost"), &costs[1..2], &want_costs[1..2], Tol::F32_REORDERED);
        assert_bit_identical(&format!("{what} errors"), &errors, &want_errors);
    }
}

/// `pretrain` steps of each hidden layer's autoencoder (`layer`: dAs with corruption 0.1/0.3,
/// or cAs with λ = 0.5), then `finetune` fine-tuning steps, of a small SdA (vis-7-5-10,
/// batches of `batch` in order, wrapping around) on
/// `images` ([n, vis] u8) and `labels`. Returns the per-step pretraining costs, fine-tuning
/// costs and error counts, each downloaded once, then the parameters (W, b of every layer, then
/// the softmax layer's).
fn sda_steps<B: Backend>(
    be: &B,
    images: &[u8],
    labels: &[u8],
    vis: usize,
    batch: usize,
    (pretrain, finetune): (usize, usize),
    layer: LayerKind,
) -> Vec<Vec<f32>> {
    use gpu_dae::model::{FinetuneScope, Sda, SdaConfig};
    let n_batches = labels.len() / batch;
    let (corruption, contraction) = match layer {
        LayerKind::Da => (vec![0.1, 0.3], 0.0),
        LayerKind::Cae => (vec![0.0, 0.0], 0.5),
    };
    let hidden = vec![7, 5];
    let config = SdaConfig { n_in: vis, hidden, corruption, n_out: 10, layer, contraction };
    let (dev_images, dev_labels) = (be.upload_images(images, vis), be.upload_labels(labels));
    let mut sda = Sda::new(be, config, 3);
    let mut ws = sda.workspace(be, batch, finetune);
    let mut pre_costs = Vec::new();
    for k in 0..2 {
        let mut dws = sda.layer_workspace(be, k, batch, pretrain);
        for step in 0..pretrain {
            let first = (step % n_batches) * batch;
            let key = RngKey::new(1, ((k as u64) << 40) | step as u64);
            let step = Step { first, key, lr: 0.1, slot: step };
            sda.pretrain_step(be, k, &mut ws, &mut dws, &dev_images, step);
        }
        pre_costs.extend(be.download(dws.costs()));
    }
    for step in 0..finetune {
        let first = (step % n_batches) * batch;
        let step = Step { first, key: RngKey::UNUSED, lr: 0.5, slot: step };
        sda.finetune_step(be, &mut ws, &dev_images, &dev_labels, step, FinetuneScope::Full);
    }
    let mut out = vec![pre_costs, be.download(ws.costs()), be.download(ws.errors())];
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
    // Stacked dAs (SdA.py) and stacked cAs (`--layer cae`).
    for layer in [LayerKind::Da, LayerKind::Cae] {
        let want = sda_steps(&Cpu::new(), &images, &labels, vis, batch, steps, layer);
        let got = sda_steps(gpu, &images, &labels, vis, batch, steps, layer);
        let again = sda_steps(gpu, &images, &labels, vis, batch, steps, layer);
        let names =
            ["pretraining costs", "fine-tuning costs", "errors", "W0", "b0", "W1", "b1", "W", "b"];
        for (i, name) in names.into_iter().enumerate() {
            assert_bit_identical(&format!("{layer:?} SdA {name}, run twice"), &again[i], &got[i]);
        }
        println!("fine-tuning costs GPU {:?}\nfine-tuning costs CPU {:?}", got[1], want[1]);
        for i in 0..2 {
            for (step, (&g, &c)) in got[i].iter().zip(&want[i]).enumerate() {
                let what = format!("{layer:?} SdA {} step {step}: GPU vs CPU", names[i]);
                Rel::STEP_COSTS.check(&what, g.into(), c.into());
            }
        }
        assert_eq!(got[2], want[2], "{layer:?} SdA fine-tuning error counts");
        for i in 3..names.len() {
            let what = format!("{layer:?} SdA {} vs CPU", names[i]);
            assert_close(&what, &got[i], &want[i], Tol::STEPS);
        }
    }
}

#[test]
fn sda_finetuning_at_batch_1_takes_at_most_10_dispatches_a_step() {
    use gpu_dae::model::{FinetuneScope, Sda, SdaConfig};
    let Some(gpu) = own_gpu("sda_finetuning_at_batch_1_takes_at_most_10_dispatches_a_step") else {
        return;
    };
    // SdA.py's three hidden layers (smaller): load, four forward GEMMs, the softmax loss, the
    // softmax layer's and two hidden layers' backward products fused with their updates
    // (`DenseUpdate`), and the first layer's update alone.
    let (vis, n) = (33, 3);
    let hidden = vec![7, 5, 3];
    let config = SdaConfig {
        n_in: vis,
        hidden,
        corruption: vec![0.1, 0.2, 0.3],
        n_out: 10,
        layer: LayerKind::Da,
        contraction: 0.0,
    };
    let images = gpu.upload_images(&pixels(5, n * vis), vis);
    let labels = gpu.upload_labels(&[1, 7, 3]);
    let mut sda = Sda::new(&gpu, config, 3);
    let mut ws = sda.workspace(&gpu, 1, n);
    gpu.log_dispatches(true);
    let mut per_step = Vec::new();
    for slot in 0..n {
        let before = gpu.dispatch_log().len();
        let step = Step { first: slot, key: RngKey::UNUSED, lr: 0.1, slot };
        sda.finetune_step(&gpu, &mut ws, &images, &labels, step, FinetuneScope::Full);
        per_step.push(gpu.dispatch_log()[before..].iter().map(|d| d.entry).collect::<Vec<_>>());
    }
    gpu.log_dispatches(false);
    for entries in &per_step {
        assert!(entries.len() <= 10, "{} dispatches: {entries:?}", entries.len());
        let fused = entries.iter().filter(|&&e| e == "dense_update").count();
        assert_eq!(fused, 3, "the softmax and two hidden layers in one pass each: {entries:?}");
    }
}

#[test]
fn da_and_sda_pretraining_steps_take_at_most_4_and_6_dispatches() {
    use gpu_dae::model::{Sda, SdaConfig};
    let Some(gpu) = own_gpu("da_and_sda_pretraining_steps_take_at_most_4_and_6_dispatches") else {
        return;
    };
    // 36 pixels: a multiple of 4, as 784 is, so the load rides in the encoder's loader.
    let (vis, n) = (36, 40);
    let images = gpu.upload_images(&pixels(6, n * vis), vis);
    let step = |slot: usize| Step { first: slot, key: RngKey::new(3, slot as u64), lr: 0.1, slot };
    // The dispatches of each of `steps` steps run by `run`.
    let count = |steps: usize, run: &mut dyn FnMut(Step)| -> Vec<Vec<&'static str>> {
        gpu.log_dispatches(true);
        let mut per_step = Vec::new();
        for slot in 0..steps {
            let before = gpu.dispatch_log().len();
            run(step(slot));
            per_step.push(gpu.dispatch_log()[before..].iter().map(|d| d.entry).collect());
        }
        gpu.log_dispatches(false);
        per_step
    };
    for rows in [1, 20] {
        let config = AutoencoderConfig {
            n_vis: vis,
            n_hid: 8,
            noise: Noise::Mask { p: 0.3 },
            ..AutoencoderConfig::default()
        };
        let mut da = Autoencoder::new(&gpu, config.clone(), 1);
        let mut ws = da.workspace_with_slots(&gpu, rows, 2);
        for entries in count(2, &mut |s| da.train_step(&gpu, &mut ws, &images, s)) {
            // load + encode, decode + loss, backprop, update
            assert_eq!(
                entries,
                ["load_gemm", "gemm_xent", "gemm_rows_epilogue", "gemm_sum_outer_bias"],
                "dA at batch {rows}"
            );
        }
        // The same steps unfused (GPU_DAE_FUSE=off): six dispatches, the same parameters'
        // bits (the same products and element-wise passes; only the cost's sum is grouped
        // otherwise).
        gpu.use_fused(false);
        let mut unfused = Autoencoder::new(&gpu, config, 1);
        let mut ws = unfused.workspace_with_slots(&gpu, rows, 2);
        let per_step = count(2, &mut |s| unfused.train_step(&gpu, &mut ws, &images, s));
        gpu.use_fused(true);
        for entries in per_step {
            let want = [
                "load_batch",
                "gemm_rows_epilogue",
                "gemm_rows_epilogue",
                "gemm_xent_loss",
                "gemm_rows_epilogue",
                "gemm_sum_outer_bias",
            ];
            assert_eq!(entries, want, "unfused dA at batch {rows}");
        }
        let (fused, apart) = (da.download(&gpu), unfused.download(&gpu));
        assert_bit_identical(&format!("W fused and not, batch {rows}"), &fused.0, &apart.0);
        assert_bit_identical(&format!("b′ fused and not, batch {rows}"), &fused.2, &apart.2);
    }
    // At batch 128 (`ROWS_MAX_M`) the rows kernel still takes every product and the update
    // (k + k2 = 256) is the tiled `gemm_sum`, whose tiles of W's first tile row and column add
    // the bias sums: four dispatches. At 200 rows the encoder is split along K, its first pass
    // loading the batch (`load_gemm_part`), and so is the backprop; at this toy size (k = 8)
    // the decoder's product is too short to split: the tiles, then the loss pass.
    let cases: [(usize, &[&str]); 2] = [
        (128, &["load_gemm", "gemm_xent", "gemm_rows_epilogue", "gemm_sum_bias"]),
        (
            200,
            &[
                "load_gemm_part",
                "gemm_reduce_epilogue",
                "gemm_epilogue",
                "gemm_xent_loss",
                "gemm_part",
                "gemm_reduce_epilogue",
                "gemm_sum_bias",
            ],
        ),
    ];
    for (rows, want) in cases {
        let big_px = pixels(8, rows * vis);
        let big = gpu.upload_images(&big_px, vis);
        let config = AutoencoderConfig {
            n_vis: vis,
            n_hid: 8,
            noise: Noise::Mask { p: 0.3 },
            ..Default::default()
        };
        let step0 = Step { first: 0, key: RngKey::new(3, 0), lr: 0.1, slot: 0 };
        let mut da = Autoencoder::new(&gpu, config.clone(), 1);
        let mut ws = da.workspace_with_slots(&gpu, rows, 1);
        gpu.log_dispatches(true);
        da.train_step(&gpu, &mut ws, &big, step0);
        let entries: Vec<_> = gpu.dispatch_log().iter().map(|d| d.entry).collect();
        gpu.log_dispatches(false);
        assert_eq!(entries, want, "dA at batch {rows}");
        // Unfused, the same parameters to the bit.
        gpu.use_fused(false);
        let mut unfused = Autoencoder::new(&gpu, config.clone(), 1);
        let mut ws = unfused.workspace_with_slots(&gpu, rows, 1);
        unfused.train_step(&gpu, &mut ws, &big, step0);
        gpu.use_fused(true);
        let (fused, apart) = (da.download(&gpu), unfused.download(&gpu));
        assert_bit_identical(&format!("W fused and not, batch {rows}"), &fused.0, &apart.0);
        assert_bit_identical(&format!("b′ fused and not, batch {rows}"), &fused.2, &apart.2);
        let cpu = Cpu::new();
        let mut da_cpu = Autoencoder::new(&cpu, config, 1);
        let mut ws_cpu = da_cpu.workspace_with_slots(&cpu, rows, 1);
        da_cpu.train_step(&cpu, &mut ws_cpu, &cpu.upload_images(&big_px, vis), step0);
        let (got, want) = (da.download(&gpu), da_cpu.download(&cpu));
        assert_close(&format!("W after a batch-{rows} step"), &got.0, &want.0, Tol::STEPS);
        assert_close(&format!("b′ after a batch-{rows} step"), &got.2, &want.2, Tol::STEPS);
    }
    let config = SdaConfig {
        n_in: vis,
        hidden: vec![8, 12, 4],
        corruption: vec![0.1, 0.2, 0.3],
        n_out: 10,
        layer: LayerKind::Da,
        contraction: 0.0,
    };
    let mut sda = Sda::new(&gpu, config, 3);
    for rows in [1, 20] {
        let mut ws = sda.workspace(&gpu, rows, 2);
        for k in 0..3 {
            let mut dws = sda.layer_workspace(&gpu, k, rows, 2);
            let per_step = count(2, &mut |s| {
                sda.pretrain_step(&gpu, k, &mut ws, &mut dws, &images, s);
            });
            for entries in per_step {
                let what = format!("SdA layer {k} at batch {rows}: {entries:?}");
                assert!(entries.len() <= 6, "{what}");
                assert_eq!(entries[0], "load_gemm", "{what}");
                assert!(entries.contains(&"gemm_xent"), "{what}");
                assert_eq!(k == 2, entries.contains(&"gemm_corrupt"), "{what}");
            }
        }
    }
}

#[test]
fn cae_and_relu_dae_steps_take_at_most_6_dispatches() {
    use gpu_dae::model::{Init, Loss};
    let Some(gpu) = own_gpu("cae_and_relu_dae_steps_take_at_most_6_dispatches") else {
        return;
    };
    // 36 pixels: a multiple of 4, as 784 is, so the load rides in the encoder's loader.
    let (vis, n) = (36, 130);
    let px = pixels(7, n * vis);
    let images = gpu.upload_images(&px, vis);
    let step = |slot: usize| Step { first: slot, key: RngKey::new(4, slot as u64), lr: 0.01, slot };
    let cae = AutoencoderConfig { n_vis: vis, n_hid: 8, contraction: 0.1, ..Default::default() };
    let relu_dae = AutoencoderConfig {
        n_vis: vis,
        n_hid: 8,
        noise: Noise::Gauss { sigma: 1.0 },
        encoder: Activation::Relu,
        tied: false,
        loss: Loss::SquaredError,
        decoder: Activation::Identity,
        standardise: Some(MNIST_STANDARDISE),
        init: Init::Normal { std: 0.1, hidden_bias: 0.5 },
        ..Default::default()
    };
    // The dispatches of each of two steps, and the parameters after them on `be`.
    fn steps<B: Backend>(
        be: &B,
        config: &AutoencoderConfig,
        images: &B::Images,
        rows: usize,
        step: impl Fn(usize) -> Step,
        log: impl Fn() -> usize,
    ) -> (Vec<usize>, Vec<f32>) {
        let mut ae = Autoencoder::new(be, config.clone(), 2);
        let mut ws = ae.workspace_with_slots(be, rows, 2);
        let mut ends = Vec::new();
        for slot in 0..2 {
            ae.train_step(be, &mut ws, images, step(slot));
            ends.push(log());
        }
        (ends, ae.download(be).0)
    }
    let cpu = Cpu::new();
    let cpu_images = cpu.upload_images(&px, vis);
    for (config, rows, want) in [
        (
            &cae,
            1,
            &["load_gemm", "gemm_xent", "gemm_rows_epilogue", "contractive", "gemm_sum_outer_bias"]
                [..],
        ),
        (
            &cae,
            10,
            &["load_gemm", "gemm_xent", "gemm_rows_epilogue", "contractive", "gemm_sum_outer_bias"],
        ),
        // At 128 rows the update (k + k2 = 256) is the tiled `gemm_sum`.
        (
            &cae,
            128,
            &["load_gemm", "gemm_xent", "gemm_rows_epilogue", "contractive", "gemm_sum_bias"],
        ),
        (
            &relu_dae,
            1,
            &["load_gemm", "gemm_sq_err", "count_positive", "dense_update", "gemm_outer_bias"],
        ),
        // At 20 rows (past `dense_update`'s 4) the decoder's backward product and its update
        // are two GEMMs.
        (
            &relu_dae,
            20,
            &[
                "load_gemm",
                "gemm_sq_err",
                "count_positive",
                "gemm_rows_epilogue",
                "gemm_outer_bias",
                "gemm_outer_bias",
            ],
        ),
    ] {
        gpu.log_dispatches(true);
        let entries = || gpu.dispatch_log().len();
        let (ends, w) = steps(&gpu, config, &images, rows, step, entries);
        let log: Vec<&str> = gpu.dispatch_log().iter().map(|d| d.entry).collect();
        gpu.log_dispatches(false);
        let what =
            format!("{} at batch {rows}", if config.contraction > 0.0 { "cA" } else { "ReLU-DAE" });
        assert_eq!(&log[..ends[0]], want, "{what}: the first step");
        assert_eq!(&log[ends[0]..ends[1]], want, "{what}: the second step");
        // The fused steps train as the CPU does.
        let (_, want_w) = steps(&cpu, config, &cpu_images, rows, step, || 0);
        assert_close(&format!("{what}: W"), &w, &want_w, Tol::GAUSSIAN_STEPS);
    }
}

/// Shapes (rows, cols, n_vis) of the contractive op: h: [rows, cols], W: [n_vis, cols]; single
/// elements, odd sizes, more columns than a workgroup's 16 and a cA batch of the tutorial
/// (10 × 500 with the 784-row W).
const JACOBIAN_SHAPES: &[(usize, usize, usize)] =
    &[(1, 1, 1), (7, 33, 7), (33, 7, 33), (1, 784, 1), (10, 500, 784), (784, 33, 784)];

/// `Contractive` on seeded h, W and dh (col_norms and col_grad start as NaN, the Jacobian log as
/// 7s; slot 2 written): (dh, W, col_norms, col_grad, jac_sq).
fn contractive_on<B: Backend>(be: &B, (rows, cols, n_vis): (usize, usize, usize)) -> [Vec<f32>; 5] {
    let seed = rows as u64 * 13 + cols as u64;
    let h = be.upload(&uniforms(seed, rows * cols, 0.0, 1.0));
    let mut w = be.upload(&uniforms(seed + 1, n_vis * cols, -1.0, 1.0));
    let mut dh = be.upload(&uniforms(seed + 2, rows * cols, -1.0, 1.0));
    let mut col_norms = be.upload(&vec![f32::NAN; cols]);
    let mut col_grad = be.upload(&vec![f32::NAN; cols]);
    let mut jac_sq = be.upload(&[7.0; 4]);
    be.run(Contractive {
        dh: &mut dh,
        w: &mut w,
        col_norms: &mut col_norms,
        col_grad: &mut col_grad,
        jac_sq: &mut jac_sq,
        slot: 2,
        h: &h,
        n_vis,
        rows,
        cols,
        lambda: 0.1,
        scale: 1.0 / rows as f32,
        lr: 0.5,
    });
    [dh, w, col_norms, col_grad, jac_sq].map(|t| be.download(&t))
}

#[test]
fn contractive_matches_cpu() {
    let Some(gpu) = gpu("contractive_matches_cpu") else {
        return;
    };
    for &shape in JACOBIAN_SHAPES {
        let [dh, w, norms, col_grad, jac_sq] = contractive_on(gpu, shape);
        let want = contractive_on(&Cpu::new(), shape);
        let [want_dh, want_w, want_norms, want_col_grad, want_jac_sq] = &want;
        let (rows, cols, n_vis) = shape;
        let what = format!("contractive h [{rows}, {cols}], W [{n_vis}, {cols}]");
        // c: 16 lane sums added in order on the GPU, the rows in order on the CPU; dh and W
        // carry c's rounding.
        let norms_tol = Tol::column_sums(n_vis);
        assert_close(&format!("{what} col_norms"), &norms, want_norms, norms_tol);
        assert_close(&format!("{what} dh"), &dh, want_dh, Tol::F32_REORDERED);
        let tol = Tol::column_sums(rows);
        assert_close(&format!("{what} col_grad"), &col_grad, want_col_grad, tol);
        assert_close(&format!("{what} W"), &w, want_w, Tol::F32_REORDERED);
        // Σⱼ by workgroups then finished late on the GPU, in order on the CPU; the other slots
        // are untouched.
        assert_close(&format!("{what} jac_sq"), &jac_sq, want_jac_sq, Tol::sum_of(cols));
        assert_bit_identical(&format!("{what} other slots"), &jac_sq[..2], &[7.0, 7.0]);
        assert_eq!(jac_sq[3], 7.0, "{what}");
    }
}

#[test]
fn cae_steps_match_cpu() {
    let Some(gpu) = gpu("cae_steps_match_cpu") else {
        return;
    };
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
        for s in 0..steps {
            let step = Step { first: s * rows, key: RngKey::new(3, s as u64), lr: 0.05, slot: s };
            ae.train_step(be, &mut ws, &images, step);
        }
        (ae.download(be).0, be.download(ws.costs()), be.download(ws.jacobian_sq()))
    }
    let (gw, gcost, gjac) = run(gpu, &config, &w0, &px, (rows, steps));
    let (cw, ccost, cjac) = run(&Cpu::new(), &config, &w0, &px, (rows, steps));
    assert_close("cA W after 4 steps", &gw, &cw, Tol::STEPS);
    assert_close("cA costs", &gcost, &ccost, Tol::STEPS);
    assert_close("cA jacobian norms²", &gjac, &cjac, Tol::STEPS);
    assert!(cjac.iter().all(|&j| j > 0.0), "{cjac:?}");
}

#[test]
fn gaussian_noise_matches_cpu_within_a_tolerance() {
    let Some(gpu) = gpu("gaussian_noise_matches_cpu_within_a_tolerance") else {
        return;
    };
    for (c, len) in [1, 7, 33, 784, 20 * 784].into_iter().enumerate() {
        let x = uniforms(900 + c as u64, len, -2.0, 2.0);
        for sigma in [0.0, 0.3, 1.0] {
            let noise = Noise::Gauss { sigma };
            let key = RngKey::new(0x6a55, c as u64);
            let what = format!("corrupt len={len} {noise:?}");
            let want = corrupt_on(&Cpu::new(), &x, noise, key);
            assert_close(&what, &corrupt_on(gpu, &x, noise, key), &want, Tol::gaussian(sigma));
        }
    }
    for (n, dim, first, rows) in [(1, 1, 0, 1), (13, 7, 3, 5), (40, 33, 5, 33), (25, 784, 3, 20)] {
        let px = pixels(n as u64 * 17 + dim as u64, n * dim);
        let noise = Noise::Gauss { sigma: 1.0 };
        let key = RngKey::new(0x6a56, n as u64);
        let (gx, gxt) = load_batch_on(gpu, (&px, dim), (first, rows), noise, key);
        let (cx, cxt) = load_batch_on(&Cpu::new(), (&px, dim), (first, rows), noise, key);
        let what = format!("load_batch n={n} dim={dim} first={first} rows={rows} {noise:?}");
        assert_bit_identical(&format!("{what}: x"), &gx, &cx);
        assert_close(&format!("{what}: x̃"), &gxt, &cxt, Tol::gaussian(1.0));
    }
}

/// [1, 784] is the ReLU-DAE's per-example step; 100 × 784 takes the two-pass reduction.
const LOSS_SHAPES: [(usize, usize); 6] =
    [(1, 1), (7, 33), (33, 7), (1, 784), (20, 225), (100, 784)];

/// Seeded y in [−3, 3) and x in [−2, 2) of [rows, cols].
fn seeded_pair((rows, cols): (usize, usize)) -> (Vec<f32>, Vec<f32>) {
    let (len, seed) = (rows * cols, rows as u64 * 19 + cols as u64);
    (uniforms(seed, len, -3.0, 3.0), uniforms(seed + 1, len, -2.0, 2.0))
}

/// `SqErr` of `seeded_pair` through output activation `out`: (grad, cost log), slot 1 of 5s.
fn sq_err_on<B: Backend>(be: &B, (rows, cols): (usize, usize), out: Activation) -> [Vec<f32>; 2] {
    let (y, x) = seeded_pair((rows, cols));
    let (y, target) = (be.upload(&y), be.upload(&x));
    let mut grad = be.upload(&vec![f32::NAN; rows * cols]);
    let mut costs = be.upload(&[5.0; 3]);
    let scale = 1.0 / rows as f32;
    let (grad_ref, costs_ref) = (&mut grad, &mut costs);
    be.run(SqErr {
        grad: grad_ref,
        costs: costs_ref,
        slot: 1,
        y: &y,
        target: &target,
        rows,
        cols,
        scale,
        out,
    });
    [be.download(&grad), be.download(&costs)]
}

#[test]
fn sq_err_matches_cpu() {
    let Some(gpu) = gpu("sq_err_matches_cpu") else {
        return;
    };
    for (rows, cols) in LOSS_SHAPES {
        // The decoder's output activation scales the gradient by its derivative.
        for out in [Activation::Identity, Activation::Sigmoid, Activation::Relu] {
            let [grad, cost] = sq_err_on(gpu, (rows, cols), out);
            let [want_grad, want_cost] = sq_err_on(&Cpu::new(), (rows, cols), out);
            let what = format!("sq_err [{rows}, {cols}] {out:?}");
            assert_close(&format!("{what} grad"), &grad, &want_grad, Tol::F32_REORDERED);
            assert_close(&format!("{what} cost"), &cost, &want_cost, Tol::sum_of(rows * cols));
        }
    }
}

/// `CountPositive` of `seeded_pair`'s y with its first element set to 0 (which counts as
/// off), into slot 0 of a log of 9s.
fn count_positive_on<B: Backend>(be: &B, (rows, cols): (usize, usize)) -> Vec<f32> {
    let (mut z, _) = seeded_pair((rows, cols));
    z[0] = 0.0;
    let (a, len) = (be.upload(&z), rows * cols);
    let mut out = be.upload(&[9.0; 2]);
    be.run(CountPositive { out: &mut out, slot: 0, a: &a, len, scale: 1.0 });
    be.download(&out)
}

#[test]
fn count_positive_matches_cpu() {
    let Some(gpu) = gpu("count_positive_matches_cpu") else {
        return;
    };
    for shape in LOSS_SHAPES {
        let want = count_positive_on(&Cpu::new(), shape);
        assert_bit_identical(
            &format!("count_positive {shape:?}"),
            &count_positive_on(gpu, shape),
            &want,
        );
        let (mut z, _) = seeded_pair(shape);
        z[0] = 0.0;
        assert_eq!(want[0] as usize, z.iter().filter(|&&v| v > 0.0).count());
    }
}

/// Two logs written late by interleaved steps: squared errors into a cost log (slots 0, 1,
/// then 1 again at a wider shape, whose records take more workgroups) and counts into a
/// fraction log (slots 0 and 2); both logs start as 9s. Returns the two logs, not read back.
fn two_late_logs_on<B: Backend>(be: &B) -> [B::Tensor; 2] {
    let (mut costs, mut frac) = (be.upload(&[9.0; 4]), be.upload(&[9.0; 4]));
    let mut sq_err = |slot: usize, (rows, cols): (usize, usize)| {
        let (y, x) = seeded_pair((rows, cols));
        let (y, target, mut grad) = (be.upload(&y), be.upload(&x), be.zeros(rows * cols));
        let (grad, costs, scale) = (&mut grad, &mut costs, 1.0 / rows as f32);
        let out = Activation::Identity;
        be.run(SqErr { grad, costs, slot, y: &y, target: &target, rows, cols, scale, out });
    };
    let mut count = |slot: usize, len: usize| {
        let a = be.upload(&seeded_pair((len, 1)).0);
        be.run(CountPositive { out: &mut frac, slot, a: &a, len, scale: 1.0 / len as f32 });
    };
    sq_err(0, (7, 33));
    count(0, 231);
    sq_err(1, (1, 784));
    count(2, 5000);
    sq_err(1, (20, 225));
    [costs, frac]
}

#[test]
fn log_finish_finishes_each_log_apart_once_per_readback() {
    let Some(gpu) = own_gpu("log_finish_finishes_each_log_apart_once_per_readback") else {
        return;
    };
    let [want_costs, want_frac] = two_late_logs_on(&Cpu::new()).map(|t| Cpu::new().download(&t));
    gpu.log_dispatches(true);
    let logs = two_late_logs_on(&gpu);
    let [costs, frac] = [&logs[0], &logs[1]].map(|t| gpu.download(t));
    // Each log's wider step re-lays its records (finishing the earlier slots first); each
    // readback finishes its own log; a second readback finds nothing pending.
    let [again, _] = [&logs[0], &logs[1]].map(|t| gpu.download(t));
    let entries: Vec<&str> = gpu.dispatch_log().iter().map(|d| d.entry).collect();
    gpu.log_dispatches(false);
    let want = [
        "sq_err",
        "count_positive",
        "sq_err",
        "log_finish",
        "count_positive",
        "log_finish",
        "sq_err",
        "log_finish",
        "log_finish",
    ];
    assert_eq!(entries, want);
    assert_close("costs", &costs, &want_costs, Tol::sum_of(20 * 225));
    assert_bit_identical("costs read twice", &again, &costs);
    assert_bit_identical("fractions", &frac, &want_frac);
    assert_bit_identical("untouched slots", &[costs[2], costs[3], frac[1], frac[3]], &[9.0; 4]);
}

/// `Affine` of `seeded_pair`'s y by MNIST-like standardisation.
fn affine_on<B: Backend>(be: &B, (rows, cols): (usize, usize)) -> Vec<f32> {
    let (y, _) = seeded_pair((rows, cols));
    let mut x = be.upload(&y);
    be.run(Affine { x: &mut x, len: rows * cols, mul: 1.0 / 0.3081, add: -0.1307 / 0.3081 });
    be.download(&x)
}

#[test]
fn affine_matches_cpu() {
    let Some(gpu) = gpu("affine_matches_cpu") else {
        return;
    };
    for shape in LOSS_SHAPES {
        let want = affine_on(&Cpu::new(), shape);
        assert_close(&format!("affine {shape:?}"), &affine_on(gpu, shape), &want, Tol::AFFINE);
    }
}

#[test]
fn relu_dae_steps_match_cpu() {
    use gpu_dae::model::{Init, Loss};
    let Some(gpu) = gpu("relu_dae_steps_match_cpu") else {
        return;
    };
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
        for s in 0..steps {
            let step = Step { first: s * rows, key: RngKey::new(3, s as u64), lr: 0.01, slot: s };
            ae.train_step(be, &mut ws, &images, step);
        }
        let v = ae.download_decoder(be).unwrap();
        (ae.download(be).0, v, be.download(ws.costs()), be.download(ws.fraction_on()))
    }
    let (gw, gv, gcost, gon) = run(gpu, &config, &px, (rows, steps));
    let (cw, cv, ccost, con) = run(&Cpu::new(), &config, &px, (rows, steps));
    // Gaussian noise differs in the last bits between drivers: a tolerance, not bits.
    assert_close("ReLU-DAE W", &gw, &cw, Tol::GAUSSIAN_STEPS);
    assert_close("ReLU-DAE V", &gv, &cv, Tol::GAUSSIAN_STEPS);
    assert_close("ReLU-DAE errors", &gcost, &ccost, Tol::GAUSSIAN_STEPS);
    assert_close("ReLU-DAE fraction on", &gon, &con, Tol::one_unit_of(rows * hid));
}
