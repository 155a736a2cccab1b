//! One benchmark case per op of `backend::ops`, named by the op's stem, on the dA's shapes
//! (B = 20 and 128, V = 784, H = 500; the SdA's softmax on 10 classes), for the CPU backend
//! and, when wgpu finds an adapter, the GPU backend.
//! `cargo bench --bench kernels`; `cargo bench --bench kernels -- cpu/` for one backend.
//! GPU cases wait for the device after every op, so they time execution, not recording.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use gpu_dae::backend::cpu::Cpu;
use gpu_dae::backend::gpu::{GemmPath, Gpu, GpuOptions};
use gpu_dae::backend::ops::{
    Affine, ColSum, Contractive, Corrupt, CountPositive, DenseUpdate, Gemm, GemmCorrupt, GemmSqErr,
    GemmSum, GemmXent, LoadBatch, LoadGemm, SoftmaxNll, SqErr, SumBiases, XentLogits,
};
use gpu_dae::backend::{Activation, Backend, Epilogue, GemmSpec, Noise, Run, Storage};
use gpu_dae::rng::RngKey;

const V: usize = 784;
const H: usize = 500;
/// MNIST's classes (the SdA's softmax layer).
const CLASSES: usize = 10;
/// Rows of one SdA evaluation chunk.
const EVAL: usize = 500;

fn seeded(n: usize, seed: u32) -> Vec<f32> {
    (0..n).map(|i| (RngKey::new(seed as u64, 0).uniform(i as u32) - 0.5) * 0.2).collect()
}

/// Benchmarks every op at batch `b` on `be`; `wait` blocks until the backend has executed all
/// recorded work.
fn ops<B: Backend>(c: &mut Criterion, name: &str, be: &B, b: usize, wait: &dyn Fn()) {
    let mut g = c.benchmark_group(format!("{name}/b{b}"));
    g.sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300));
    let pixels: Vec<u8> = (0..b * V).map(|i| (i * 37 % 256) as u8).collect();
    let images = be.upload_images(&pixels, V);
    let (mut x, mut xt) = (be.zeros(b * V), be.zeros(b * V));
    let w = be.upload(&seeded(V * H, 1));
    let bias_h = be.upload(&seeded(H, 2));
    let bias_v = be.upload(&seeded(V, 3));
    let mut h = be.upload(&seeded(b * H, 4));
    let mut a = be.upload(&seeded(b * V, 5));
    let mut da = be.zeros(b * V);
    let mut dh = be.zeros(b * H);
    let mut w_upd = be.upload(&seeded(V * H, 6));
    let mut costs = be.zeros(4);
    let mut bias = be.zeros(V);
    let mut bias_b = be.zeros(H);
    let key = RngKey::new(1, 2);
    let sig = Activation::Sigmoid;

    g.bench_function("load_batch+mask", |it| {
        it.iter(|| {
            let (x, x_tilde, images) = (&mut x, &mut xt, &images);
            let noise = Noise::Mask { p: 0.3 };
            be.run(LoadBatch {
                x,
                x_tilde,
                images,
                first: 0,
                rows: b,
                noise,
                key,
                standardise: None,
            });
            wait()
        })
    });
    // Salt-and-pepper noise: masking's decision plus the replacement's low bit.
    g.bench_function("load_batch+salt-pepper", |it| {
        it.iter(|| {
            let (x, x_tilde, images) = (&mut x, &mut xt, &images);
            let noise = Noise::SaltPepper { p: 0.3 };
            be.run(LoadBatch {
                x,
                x_tilde,
                images,
                first: 0,
                rows: b,
                noise,
                key,
                standardise: None,
            });
            wait()
        })
    });
    g.bench_function("gemm x̃W+b σ", |it| {
        it.iter(|| {
            be.run(Gemm {
                c: &mut h,
                a: &xt,
                b: &w,
                spec: GemmSpec::new(b, H, V),
                epilogue: Epilogue::BiasAct { bias: &bias_h, act: sig },
            });
            wait()
        })
    });
    // The two cases above in one op.
    g.bench_function("load_gemm+mask x̃W+b σ", |it| {
        it.iter(|| {
            be.run(LoadGemm {
                c: &mut h,
                x: &mut x,
                x_tilde: &mut xt,
                images: &images,
                b: &w,
                first: 0,
                spec: GemmSpec::new(b, H, V),
                epilogue: Epilogue::BiasAct { bias: &bias_h, act: sig },
                noise: Noise::Mask { p: 0.3 },
                key,
                standardise: None,
            });
            wait()
        })
    });
    // A stacked dA's layer below with the corruption of its output (the next layer's x̃).
    g.bench_function("gemm_corrupt+mask x̃W+b σ", |it| {
        it.iter(|| {
            be.run(GemmCorrupt {
                c: &mut h,
                x_tilde: &mut dh,
                a: &xt,
                b: &w,
                spec: GemmSpec::new(b, H, V),
                epilogue: Epilogue::BiasAct { bias: &bias_h, act: sig },
                noise: Noise::Mask { p: 0.3 },
                key,
            });
            wait()
        })
    });
    g.bench_function("gemm hWᵀ+b′", |it| {
        it.iter(|| {
            be.run(Gemm {
                c: &mut a,
                a: &h,
                b: &w,
                spec: GemmSpec::new(b, V, H).trans_b(),
                epilogue: Epilogue::BiasAct { bias: &bias_v, act: Activation::Identity },
            });
            wait()
        })
    });
    g.bench_function("xent_logits", |it| {
        it.iter(|| {
            be.run(XentLogits {
                grad: &mut da,
                costs: &mut costs,
                slot: 1,
                logits: &a,
                target: &x,
                rows: b,
                cols: V,
                scale: 1.0 / b as f32,
            });
            wait()
        })
    });
    // The two cases above in one op (the cost's finish is left to the log's readback).
    g.bench_function("gemm_xent hWᵀ+b′ → dA, cost", |it| {
        it.iter(|| {
            be.run(GemmXent {
                grad: &mut da,
                costs: &mut costs,
                slot: 1,
                a: &h,
                b: &w,
                spec: GemmSpec::new(b, V, H).trans_b(),
                bias: &bias_v,
                target: &x,
                scale: 1.0 / b as f32,
            });
            wait()
        })
    });
    g.bench_function("gemm dA·W ⊙ σ'", |it| {
        it.iter(|| {
            be.run(Gemm {
                c: &mut dh,
                a: &da,
                b: &w,
                spec: GemmSpec::new(b, H, V),
                epilogue: Epilogue::ActGrad { out: &h, act: sig },
            });
            wait()
        })
    });
    g.bench_function("gemm_sum x̃ᵀdH+dAᵀh (update)", |it| {
        it.iter(|| {
            let spec = GemmSpec::new(V, H, b).trans_a().scaled(-1e-3, 1.0);
            let (a1, b1, a2, b2) = (&xt, &dh, &da, &h);
            be.run(GemmSum { c: &mut w_upd, a1, b1, a2, b2, spec, k2: b, biases: None });
            wait()
        })
    });
    // The dA's whole update: W, b and b′ (one pass on the GPU at a minibatch).
    g.bench_function("gemm_sum x̃ᵀdH+dAᵀh, b, b′ (update with biases)", |it| {
        it.iter(|| {
            let spec = GemmSpec::new(V, H, b).trans_a().scaled(-1e-3, 1.0);
            let (a1, b1, a2, b2) = (&xt, &dh, &da, &h);
            let biases = Some(SumBiases { cols: &mut bias_b, rows: &mut bias });
            be.run(GemmSum { c: &mut w_upd, a1, b1, a2, b2, spec, k2: b, biases });
            wait()
        })
    });
    g.bench_function("col_sum", |it| {
        it.iter(|| {
            be.run(ColSum { out: &mut bias, a: &da, rows: b, cols: V, alpha: -1e-3, beta: 1.0 });
            wait()
        })
    });
    // The ReLU-DAE's noise: additive Gaussian (Box–Muller per element) on a batch.
    g.bench_function("load_batch gauss σ=1", |it| {
        it.iter(|| {
            let (x, x_tilde, images) = (&mut x, &mut xt, &images);
            let noise = Noise::Gauss { sigma: 1.0 };
            be.run(LoadBatch {
                x,
                x_tilde,
                images,
                first: 0,
                rows: b,
                noise,
                key,
                standardise: None,
            });
            wait()
        })
    });
    // The ReLU-DAE's other ops at this batch: standardising x, the squared error with its
    // gradient, and the fraction of units on.
    let mut costs1 = be.zeros(1);
    g.bench_function("affine x (standardise)", |it| {
        it.iter(|| {
            be.run(Affine { x: &mut xt, len: b * V, mul: 1.0, add: 0.0 });
            wait()
        })
    });
    g.bench_function("sq_err", |it| {
        it.iter(|| {
            be.run(SqErr {
                grad: &mut da,
                costs: &mut costs1,
                slot: 0,
                y: &xt,
                target: &x,
                rows: b,
                cols: V,
                scale: 1.0 / b as f32,
                out: Activation::Identity,
            });
            wait()
        })
    });
    // The decoder and the squared error in one op (the ReLU-DAE's, here at the dA's shapes;
    // the cost's finish is left to the log's readback).
    g.bench_function("gemm_sq_err hWᵀ+b′ → dY, cost", |it| {
        it.iter(|| {
            be.run(GemmSqErr {
                grad: &mut da,
                y: &mut a,
                costs: &mut costs1,
                slot: 0,
                a: &h,
                b: &w,
                spec: GemmSpec::new(b, V, H).trans_b(),
                bias: &bias_v,
                out: Activation::Identity,
                target: &x,
                scale: 1.0 / b as f32,
            });
            wait()
        })
    });
    g.bench_function("count_positive h", |it| {
        it.iter(|| {
            let (len, scale) = (b * H, 1.0 / (b * H) as f32);
            be.run(CountPositive { out: &mut costs1, slot: 0, a: &h, len, scale });
            wait()
        })
    });
    // The GPU's late finish of a per-step log (none on the CPU): 20 steps' counts, then the
    // log read back.
    let mut frac20 = be.zeros(20);
    g.bench_function("log_finish of 20 count_positive steps, read back", |it| {
        it.iter(|| {
            for slot in 0..20 {
                let (len, scale) = (b * H, 1.0 / (b * H) as f32);
                be.run(CountPositive { out: &mut frac20, slot, a: &h, len, scale });
            }
            be.download(&frac20)
        })
    });
    // The cA's penalty at the batch: W's squared column norms, the gradient terms and W's
    // step along the column-norm path (a tiny rate: W barely moves between iterations).
    let mut norms = be.zeros(H);
    let mut col_grad = be.zeros(H);
    let mut jac = be.zeros(1);
    let mut w2 = be.upload(&seeded(V * H, 10));
    let hs = be.upload(&seeded(b * H, 9).iter().map(|v| v + 0.5).collect::<Vec<f32>>());
    g.bench_function("contractive", |it| {
        it.iter(|| {
            be.run(Contractive {
                dh: &mut dh,
                w: &mut w2,
                col_norms: &mut norms,
                col_grad: &mut col_grad,
                jac_sq: &mut jac,
                slot: 0,
                h: &hs,
                n_vis: V,
                rows: b,
                cols: H,
                lambda: 0.1,
                scale: 0.1,
                lr: 1e-6,
            });
            wait()
        })
    });
    // The SdA's ops: corruption of an upper layer's input (the clean h of the layer below,
    // here [b, H]) and the softmax NLL of MNIST's 10 classes, at the batch and for one
    // 500-example evaluation chunk.
    g.bench_function("corrupt h (upper dA input)", |it| {
        it.iter(|| {
            let (len, noise) = (b * H, Noise::Mask { p: 0.2 });
            be.run(Corrupt { x_tilde: &mut dh, x: &h, len, noise, key });
            wait()
        })
    });
    let labels: Vec<u8> = (0..EVAL).map(|i| (i * 7 % CLASSES) as u8).collect();
    let labels = be.upload_labels(&labels);
    let logits = be.upload(&seeded(EVAL * CLASSES, 7));
    let mut dlogits = be.zeros(EVAL * CLASSES);
    let mut errors = be.zeros(4);
    for rows in [b, EVAL] {
        g.bench_function(format!("softmax_nll [{rows}, {CLASSES}]"), |it| {
            it.iter(|| {
                be.run(SoftmaxNll {
                    grad: &mut dlogits,
                    costs: &mut costs,
                    errors: &mut errors,
                    slot: 2,
                    logits: &logits,
                    labels: &labels,
                    first: 0,
                    rows,
                    classes: CLASSES,
                    scale: 1.0 / rows as f32,
                });
                wait()
            })
        });
    }
    g.finish();
    black_box(be.download(&costs));
    black_box(be.download(&errors));
}

/// Every GEMM kernel of the GPU backend on the dA's products at batch `b`, each forced
/// (`Gpu::force_gemm`) whatever the shape would choose: the encoder x̃W + b with σ (tiles, split
/// tiles, rows; with the batch's load in the loader, split tiles and rows) and the update
/// W −= lr·x̃ᵀdH, no epilogue (tiles, split tiles, rows, outer).
fn gemm_kernels(c: &mut Criterion, gpu: &Gpu, b: usize) {
    let mut g = c.benchmark_group(format!("gpu/b{b}"));
    g.sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300));
    let (xt, w, bias) =
        (gpu.upload(&seeded(b * V, 1)), gpu.upload(&seeded(V * H, 2)), gpu.upload(&seeded(H, 3)));
    let dh = gpu.upload(&seeded(b * H, 4));
    let (mut h, mut w_upd) = (gpu.zeros(b * H), gpu.upload(&seeded(V * H, 5)));
    let pixels: Vec<u8> = (0..b * V).map(|i| (i * 37 % 256) as u8).collect();
    let images = gpu.upload_images(&pixels, V);
    let (mut x, mut x_tilde) = (gpu.zeros(b * V), gpu.zeros(b * V));
    let paths = [GemmPath::Tiled, GemmPath::Split, GemmPath::Rows, GemmPath::Outer];
    for path in paths {
        gpu.force_gemm(Some(path));
        if path != GemmPath::Outer {
            g.bench_function(format!("gemm {path:?} x̃W+b σ"), |it| {
                it.iter(|| {
                    let epilogue = Epilogue::BiasAct { bias: &bias, act: Activation::Sigmoid };
                    let (c, a, b_) = (&mut h, &xt, &w);
                    gpu.run(Gemm { c, a, b: b_, spec: GemmSpec::new(b, H, V), epilogue });
                    gpu.sync()
                })
            });
        }
        // The encoder with the batch's load and corruption in its loader: `load_gemm` on the
        // rows kernel, `load_gemm_part` and the reduction for a split product.
        if matches!(path, GemmPath::Split | GemmPath::Rows) {
            g.bench_function(format!("load_gemm {path:?} +mask x̃W+b σ"), |it| {
                it.iter(|| {
                    gpu.run(LoadGemm {
                        c: &mut h,
                        x: &mut x,
                        x_tilde: &mut x_tilde,
                        images: &images,
                        b: &w,
                        first: 0,
                        spec: GemmSpec::new(b, H, V),
                        epilogue: Epilogue::BiasAct { bias: &bias, act: Activation::Sigmoid },
                        noise: Noise::Mask { p: 0.3 },
                        key: RngKey::new(1, 2),
                        standardise: None,
                    });
                    gpu.sync()
                })
            });
        }
        g.bench_function(format!("gemm {path:?} x̃ᵀdH (update)"), |it| {
            it.iter(|| {
                let spec = GemmSpec::new(V, H, b).trans_a().scaled(-1e-3, 1.0);
                let (c, a, b_) = (&mut w_upd, &xt, &dh);
                gpu.run(Gemm { c, a, b: b_, spec, epilogue: Epilogue::None });
                gpu.sync()
            })
        });
    }
    gpu.force_gemm(None);
    // A dense layer's whole update, W −= lr·xᵀd with b −= lr·Σ d, in the outer kernel's pass.
    let mut b_upd = gpu.zeros(H);
    g.bench_function("gemm outer x̃ᵀdH, b (update with bias)", |it| {
        it.iter(|| {
            let spec = GemmSpec::new(V, H, b).trans_a().scaled(-1e-3, 1.0);
            let epilogue = Epilogue::BiasUpdate { bias: &mut b_upd };
            gpu.run(Gemm { c: &mut w_upd, a: &xt, b: &dh, spec, epilogue });
            gpu.sync()
        })
    });
}

/// The batch-1 kernels: the SdA's fine-tuning layers (a 1000 × 1000 hidden layer, the
/// 1000 × 10 softmax) as `DenseUpdate` (one sweep of W) and as the two GEMMs it replaces, and
/// the encoder's vector-matrix product x·W + b with σ (784 × 500; the rows kernel on the GPU).
fn batch1_cases<B: Backend>(c: &mut Criterion, name: &str, be: &B, wait: &dyn Fn()) {
    let mut g = c.benchmark_group(format!("{name}/b1"));
    g.sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300));
    const HIDDEN: usize = 1000;
    for n_out in [HIDDEN, CLASSES] {
        let n_in = HIDDEN;
        let mut w = be.upload(&seeded(n_in * n_out, 1));
        let mut bias = be.upload(&seeded(n_out, 2));
        let d = be.upload(&seeded(n_out, 3));
        let x = be.upload(&seeded(n_in, 4).iter().map(|v| v + 0.5).collect::<Vec<_>>());
        let mut dx = be.zeros(n_in);
        let (lr, act) = (1e-3, Activation::Sigmoid);
        g.bench_function(format!("dense_update {n_in}×{n_out}"), |it| {
            it.iter(|| {
                let (dx, w, bias) = (&mut dx, &mut w, &mut bias);
                let (rows, d, x) = (1, &d, &x);
                be.run(DenseUpdate { dx, w, bias, d, x, rows, n_in, n_out, lr, act });
                wait()
            })
        });
        g.bench_function(format!("dense_update {n_in}×{n_out} as two GEMMs"), |it| {
            it.iter(|| {
                let (dx, w, bias) = (&mut dx, &mut w, &mut bias);
                let (rows, d, x) = (1, &d, &x);
                let op = DenseUpdate { dx, w, bias, d, x, rows, n_in, n_out, lr, act };
                op.run_as_gemms(|g| be.run(g));
                wait()
            })
        });
    }
    // The SdA's 1000×1000 layer at batch 1, its three products one by one: the forward pass,
    // the backward product and the update (with the bias beside it).
    let x_wide = be.upload(&seeded(HIDDEN, 8));
    let mut w_wide = be.upload(&seeded(HIDDEN * HIDDEN, 9));
    let b_wide = be.upload(&seeded(HIDDEN, 10));
    let d_wide = be.upload(&seeded(HIDDEN, 12));
    let mut out_wide = be.zeros(HIDDEN);
    let mut b_step = be.upload(&seeded(HIDDEN, 11));
    g.bench_function(format!("gemm x·W+b σ {HIDDEN}×{HIDDEN}"), |it| {
        it.iter(|| {
            let epilogue = Epilogue::BiasAct { bias: &b_wide, act: Activation::Sigmoid };
            let spec = GemmSpec::new(1, HIDDEN, HIDDEN);
            be.run(Gemm { c: &mut out_wide, a: &x_wide, b: &w_wide, spec, epilogue });
            wait()
        })
    });
    g.bench_function(format!("gemm d·Wᵀ {HIDDEN}×{HIDDEN}"), |it| {
        it.iter(|| {
            let spec = GemmSpec::new(1, HIDDEN, HIDDEN).trans_b();
            let epilogue = Epilogue::None;
            be.run(Gemm { c: &mut out_wide, a: &d_wide, b: &w_wide, spec, epilogue });
            wait()
        })
    });
    g.bench_function(format!("gemm update W −= lr·xᵀd {HIDDEN}×{HIDDEN}"), |it| {
        it.iter(|| {
            let epilogue = Epilogue::BiasUpdate { bias: &mut b_step };
            let spec = GemmSpec::new(HIDDEN, HIDDEN, 1).trans_a().scaled(-1e-3, 1.0);
            be.run(Gemm { c: &mut w_wide, a: &x_wide, b: &d_wide, spec, epilogue });
            wait()
        })
    });
    let (x, w, bias) =
        (be.upload(&seeded(V, 5)), be.upload(&seeded(V * H, 6)), be.upload(&seeded(H, 7)));
    let mut h = be.zeros(H);
    g.bench_function("gemm x·W+b σ (batch 1)", |it| {
        it.iter(|| {
            let epilogue = Epilogue::BiasAct { bias: &bias, act: Activation::Sigmoid };
            be.run(Gemm { c: &mut h, a: &x, b: &w, spec: GemmSpec::new(1, H, V), epilogue });
            wait()
        })
    });
}

fn kernels(c: &mut Criterion) {
    let cpu = Cpu::new();
    for b in [20, 128] {
        ops(c, "cpu", &cpu, b, &|| {});
    }
    batch1_cases(c, "cpu", &cpu, &|| {});
    match Gpu::new(&GpuOptions { adapter: None, allow_software: true }) {
        Ok(gpu) => {
            for b in [20, 128] {
                ops(c, "gpu", &gpu, b, &|| gpu.sync());
                gemm_kernels(c, &gpu, b);
            }
            batch1_cases(c, "gpu", &gpu, &|| gpu.sync());
            if gpu.has_subgroups() {
                // The workgroup-memory fallbacks of the row and K-lane sums, on the same
                // adapter.
                gpu.use_subgroups(false);
                batch1_cases(c, "gpu-no-subgroups", &gpu, &|| gpu.sync());
                gpu.use_subgroups(true);
            }
        }
        Err(e) => eprintln!("no GPU cases: {e}"),
    }
}

criterion_group!(benches, kernels);
criterion_main!(benches);
