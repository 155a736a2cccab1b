//! Throughput measurement for `gpu-dae bench`: training steps of a model timed on one backend.

use std::time::Instant;

use crate::backend::Backend;
use crate::data::Images;
use crate::model::autoencoder::{Workspace, flops_per_step};
use crate::model::sda::SdaWorkspace;
use crate::model::{Autoencoder, AutoencoderConfig, FinetuneScope, Sda, SdaConfig, Step};
use crate::rng::RngKey;

/// The learning rate of the benchmarked steps (a step's cost does not depend on it).
const LR: f32 = 0.01;

/// Examples per epoch used to express throughput per epoch (MNIST's training split).
pub const EPOCH_EXAMPLES: usize = 50_000;

/// One measured case.
#[derive(Clone, Debug)]
pub struct BenchRow {
    /// Minibatch size.
    pub batch: usize,
    /// Steps timed.
    pub steps: usize,
    /// Milliseconds per training step.
    pub ms_per_step: f64,
    /// Training examples per second.
    pub samples_per_s: f64,
    /// Achieved GEMM throughput, GFLOP/s (10·B·V·H FLOPs per step).
    pub gflops: f64,
    /// Seconds for one 50 000-example epoch (⌊50 000 / B⌋ steps) at this rate.
    pub s_per_epoch: f64,
}

/// Denoising-autoencoder training at one minibatch size, set up once (images uploaded, model
/// and workspaces allocated) and then run for any number of steps, as an epoch runs them:
/// minibatches in order, per-step costs on the device, one readback at the end of a run.
pub struct DaBench<'a, B: Backend> {
    be: &'a B,
    images: B::Images,
    ae: Autoencoder<B>,
    ws: Workspace<B>,
    config: AutoencoderConfig,
    n_batches: usize,
    batch: usize,
    step: usize,
}

impl<'a, B: Backend> DaBench<'a, B> {
    /// Uploads `images` ([n, n_vis]) and allocates a model of `config` for minibatches of `batch`.
    pub fn new(be: &'a B, images: &Images, config: &AutoencoderConfig, batch: usize) -> Self {
        let n_batches = (images.n / batch).max(1);
        let dev_images = be.upload_images(&images.pixels, images.dim());
        let ae = Autoencoder::new(be, config.clone(), 1);
        let ws = ae.workspace_with_slots(be, batch, n_batches);
        DaBench {
            be,
            images: dev_images,
            ae,
            ws,
            config: config.clone(),
            n_batches,
            batch,
            step: 0,
        }
    }

    /// Runs `steps` training steps and reads the costs back once; returns the seconds taken.
    pub fn run(&mut self, steps: usize) -> f64 {
        let t = Instant::now();
        for _ in 0..steps {
            let i = self.step % self.n_batches;
            let key = RngKey::new(1, self.step as u64);
            let step = Step { first: i * self.batch, key, lr: LR, slot: i };
            self.ae.train_step(self.be, &mut self.ws, &self.images, step);
            self.step += 1;
        }
        self.be.download(self.ws.costs());
        t.elapsed().as_secs_f64()
    }

    /// Warms up, sizes a run to about `seconds` from a short calibration run, and times it.
    /// `before_timed_run` is called just before the timed run (e.g. to reset device counters).
    pub fn measure(&mut self, seconds: f64, before_timed_run: impl FnOnce()) -> BenchRow {
        self.run(3);
        let per_step = self.run(5) / 5.0;
        let steps = ((seconds / per_step) as usize).clamp(5, 1_000_000);
        before_timed_run();
        let s = self.run(steps) / steps as f64;
        BenchRow {
            batch: self.batch,
            steps,
            ms_per_step: s * 1e3,
            samples_per_s: self.batch as f64 / s,
            gflops: flops_per_step(&self.config, self.batch) / s / 1e9,
            s_per_epoch: (EPOCH_EXAMPLES / self.batch) as f64 * s,
        }
    }
}

/// Stacked-denoising-autoencoder training at one minibatch size: the pretraining step of each
/// layer's dA (with the forward pass through the layers below) and the fine-tuning step, set up
/// once and run as the trainer runs them (minibatches in order, costs read back once per run).
pub struct SdaBench<'a, B: Backend> {
    be: &'a B,
    images: B::Images,
    labels: B::Labels,
    sda: Sda<B>,
    ws: SdaWorkspace<B>,
    layer_ws: Vec<Workspace<B>>,
    n_batches: usize,
    batch: usize,
    step: usize,
}

/// Which step an `SdaBench` run times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SdaStep {
    /// Pretraining of hidden layer k's dA.
    Pretrain(usize),
    /// Full fine-tuning (every layer).
    Finetune,
}

impl<'a, B: Backend> SdaBench<'a, B> {
    /// Uploads `images` ([n, n_in]) and `labels` ([n]) and allocates a network of `config` for
    /// minibatches of `batch`.
    pub fn new(
        be: &'a B,
        images: &Images,
        labels: &[u8],
        config: &SdaConfig,
        batch: usize,
    ) -> Self {
        let n_batches = (images.n / batch).max(1);
        let sda = Sda::new(be, config.clone(), 1);
        let ws = sda.workspace(be, batch, n_batches);
        let layer_ws = (0..config.hidden.len())
            .map(|k| sda.layer_workspace(be, k, batch, n_batches))
            .collect();
        SdaBench {
            be,
            images: be.upload_images(&images.pixels, images.dim()),
            labels: be.upload_labels(labels),
            sda,
            ws,
            layer_ws,
            n_batches,
            batch,
            step: 0,
        }
    }

    /// Runs `steps` steps of `which` and reads the costs back once; returns the seconds taken.
    pub fn run(&mut self, which: SdaStep, steps: usize) -> f64 {
        let t = Instant::now();
        for _ in 0..steps {
            let i = self.step % self.n_batches;
            let key = RngKey::new(1, self.step as u64);
            let step = Step { first: i * self.batch, key, lr: LR, slot: i };
            match which {
                SdaStep::Pretrain(k) => {
                    let dws = &mut self.layer_ws[k];
                    self.sda.pretrain_step(self.be, k, &mut self.ws, dws, &self.images, step);
                }
                SdaStep::Finetune => {
                    let (images, labels) = (&self.images, &self.labels);
                    let full = FinetuneScope::Full;
                    self.sda.finetune_step(self.be, &mut self.ws, images, labels, step, full);
                }
            }
            self.step += 1;
        }
        let costs = match which {
            SdaStep::Pretrain(k) => self.layer_ws[k].costs(),
            SdaStep::Finetune => self.ws.costs(),
        };
        self.be.download(costs);
        t.elapsed().as_secs_f64()
    }

    /// Milliseconds per step of `which`, from a run of about `seconds` after a warm-up.
    pub fn ms_per_step(&mut self, which: SdaStep, seconds: f64) -> f64 {
        self.run(which, 3);
        let per_step = self.run(which, 5) / 5.0;
        let steps = ((seconds / per_step) as usize).clamp(5, 1_000_000);
        self.run(which, steps) / steps as f64 * 1e3
    }
}

/// The minibatch sizes of `gpu-dae bench --sweep`: batch 1 (per-example SGD) to 256.
pub const SWEEP_BATCHES: [usize; 6] = [1, 10, 20, 64, 128, 256];

/// The hidden-layer sizes of `gpu-dae bench --sweep` (784-H dA): the ReLU-DAE's 225, the
/// tutorial's 500, the SdA's 1000 and a wider 2000.
pub const SWEEP_HIDDEN: [usize; 4] = [225, 500, 1000, 2000];

/// Side of the square SGEMM `sgemm_peak_gflops` times.
pub const PEAK_SIDE: usize = 2048;

/// The machine's single-precision GEMM rate as faer reaches it on all threads: the best of three
/// 2048³ products, GFLOP/s (2·n³ FLOPs each). The reference line of the sweep: a large GEMM is
/// the fastest thing a CPU does with floats, so no training step can beat it.
pub fn sgemm_peak_gflops() -> f64 {
    use faer::{Accum, Mat, Par};
    let n = PEAK_SIDE;
    let a = Mat::<f32>::from_fn(n, n, |i, j| ((i * 7 + j * 3) % 11) as f32 * 0.1);
    let b = Mat::<f32>::from_fn(n, n, |i, j| ((i * 5 + j) % 13) as f32 * 0.1);
    let mut c = Mat::<f32>::zeros(n, n);
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        faer::linalg::matmul::matmul(
            c.as_mut(),
            Accum::Replace,
            a.as_ref(),
            b.as_ref(),
            1.0,
            Par::rayon(0),
        );
        best = best.min(t.elapsed().as_secs_f64());
    }
    std::hint::black_box(&c);
    2.0 * (n as f64).powi(3) / best / 1e9
}

pub mod gpu_profile;
