//! One benchmark case per op of the Backend trait, on the dA's shapes (B = 20 and 128, V = 784,
//! H = 500; the SdA's softmax on 10 classes), for the CPU backend and, when wgpu finds an
//! adapter, the GPU backend.
//! `cargo bench --bench kernels`; `cargo bench --bench kernels -- cpu/` for one backend.
//! GPU cases wait for the device after every op, so they time execution, not recording.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use gpu_dae::backend::cpu::Cpu;
use gpu_dae::backend::gpu::{Gpu, GpuOptions};
use gpu_dae::backend::{Activation, Backend, Epilogue, GemmSpec, Noise};
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
    let key = RngKey::new(1, 2);
    let sig = Activation::Sigmoid;

    g.bench_function("load_batch+mask", |it| {
        it.iter(|| {
            be.load_batch(&mut x, &mut xt, &images, 0, b, Noise::Mask { p: 0.3 }, key);
            wait()
        })
    });
    // Salt-and-pepper noise: masking's decision plus the replacement's low bit.
    g.bench_function("load_batch+salt-pepper", |it| {
        it.iter(|| {
            be.load_batch(&mut x, &mut xt, &images, 0, b, Noise::SaltPepper { p: 0.3 }, key);
            wait()
        })
    });
    g.bench_function("gemm x̃W+b σ", |it| {
        it.iter(|| {
            be.gemm(
                &mut h,
                &xt,
                &w,
                GemmSpec::new(b, H, V),
                Epilogue::BiasAct { bias: &bias_h, act: sig },
            );
            wait()
        })
    });
    g.bench_function("gemm hWᵀ+b′", |it| {
        it.iter(|| {
            let spec = GemmSpec::new(b, V, H).trans_b();
            be.gemm(
                &mut a,
                &h,
                &w,
                spec,
                Epilogue::BiasAct { bias: &bias_v, act: Activation::Identity },
            );
            wait()
        })
    });
    g.bench_function("xent_logits", |it| {
        it.iter(|| {
            be.xent_logits(&mut da, &mut costs, 1, &a, &x, b, V, 1.0 / b as f32);
            wait()
        })
    });
    g.bench_function("gemm dA·W ⊙ σ'", |it| {
        it.iter(|| {
            be.gemm(
                &mut dh,
                &da,
                &w,
                GemmSpec::new(b, H, V),
                Epilogue::ActGrad { out: &h, act: sig },
            );
            wait()
        })
    });
    g.bench_function("gemm_sum x̃ᵀdH+dAᵀh (update)", |it| {
        it.iter(|| {
            let spec = GemmSpec::new(V, H, b).trans_a().scaled(-1e-3, 1.0);
            be.gemm_sum(&mut w_upd, (&xt, &dh), (&da, &h), spec, b);
            wait()
        })
    });
    g.bench_function("col_sum", |it| {
        it.iter(|| {
            be.col_sum(&mut bias, &da, b, V, -1e-3, 1.0);
            wait()
        })
    });
    // The ReLU-DAE's noise: additive Gaussian (Box–Muller per element) on a batch.
    g.bench_function("load_batch gauss σ=1", |it| {
        it.iter(|| {
            be.load_batch(&mut x, &mut xt, &images, 0, b, Noise::Gauss { sigma: 1.0 }, key);
            wait()
        })
    });
    // The ReLU-DAE's other ops at this batch: standardising x, the squared error with its
    // gradient, and the fraction of units on.
    let mut costs1 = be.zeros(1);
    g.bench_function("affine x (standardise)", |it| {
        it.iter(|| {
            be.affine(&mut xt, b * V, 1.0, 0.0);
            wait()
        })
    });
    g.bench_function("sq_err", |it| {
        it.iter(|| {
            be.sq_err(&mut da, &mut costs1, 0, &xt, &x, b, V, 1.0 / b as f32, Activation::Identity);
            wait()
        })
    });
    g.bench_function("count_positive h", |it| {
        it.iter(|| {
            be.count_positive(&mut costs1, 0, &h, b * H, 1.0 / (b * H) as f32);
            wait()
        })
    });
    // The cA's ops: W's squared column norms, the penalty with its gradient terms at the
    // batch, and the column scaling of W.
    let mut norms = be.zeros(H);
    let mut col_grad = be.zeros(H);
    let mut jac = be.zeros(1);
    g.bench_function("col_sq_norms W", |it| {
        it.iter(|| {
            be.col_sq_norms(&mut norms, &w, V, H);
            wait()
        })
    });
    let hs = be.upload(&seeded(b * H, 9).iter().map(|v| v + 0.5).collect::<Vec<f32>>());
    g.bench_function("contractive", |it| {
        it.iter(|| {
            be.contractive(&mut dh, &mut col_grad, &mut jac, 0, &hs, &norms, b, H, 0.1, 0.1);
            wait()
        })
    });
    let mut w2 = be.upload(&seeded(V * H, 10));
    g.bench_function("scale_cols W", |it| {
        it.iter(|| {
            be.scale_cols(&mut w2, &col_grad, V, H, -1e-6);
            wait()
        })
    });
    // The SdA's ops: corruption of an upper layer's input (the clean h of the layer below,
    // here [b, H]) and the softmax NLL of MNIST's 10 classes, at the batch and for one
    // 500-example evaluation chunk.
    g.bench_function("corrupt h (upper dA input)", |it| {
        it.iter(|| {
            be.corrupt(&mut dh, &h, b * H, Noise::Mask { p: 0.2 }, key);
            wait()
        })
    });
    let labels: Vec<u8> = (0..EVAL).map(|i| (i * 7 % CLASSES) as u8).collect();
    let labels = be.upload_images(&labels, 1);
    let logits = be.upload(&seeded(EVAL * CLASSES, 7));
    let mut dlogits = be.zeros(EVAL * CLASSES);
    let mut errors = be.zeros(4);
    for rows in [b, EVAL] {
        g.bench_function(format!("softmax_nll [{rows}, {CLASSES}]"), |it| {
            it.iter(|| {
                let scale = 1.0 / rows as f32;
                be.softmax_nll(
                    &mut dlogits,
                    &mut costs,
                    &mut errors,
                    2,
                    &logits,
                    &labels,
                    0,
                    rows,
                    CLASSES,
                    scale,
                );
                wait()
            })
        });
    }
    g.finish();
    black_box(be.download(&costs));
    black_box(be.download(&errors));
}

fn kernels(c: &mut Criterion) {
    let cpu = Cpu::new();
    for b in [20, 128] {
        ops(c, "cpu", &cpu, b, &|| {});
    }
    match Gpu::new(&GpuOptions { adapter: None, allow_software: true }) {
        Ok(gpu) => {
            for b in [20, 128] {
                ops(c, "gpu", &gpu, b, &|| gpu.sync());
            }
        }
        Err(e) => eprintln!("no GPU cases: {e}"),
    }
}

criterion_group!(benches, kernels);
criterion_main!(benches);
