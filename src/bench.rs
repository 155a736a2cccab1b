//! Throughput measurement for `gpu-dae bench`: training steps of a model timed on one backend.

use std::time::Instant;

use crate::backend::Backend;
use crate::data::Images;
use crate::model::autoencoder::flops_per_step;
use crate::model::{Autoencoder, AutoencoderConfig};
use crate::rng::RngKey;

/// Examples per epoch used to express throughput as seconds per epoch (MNIST's training split).
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
    /// Seconds for one 50 000-example epoch at this rate.
    pub s_per_epoch: f64,
}

/// Times denoising-autoencoder training steps at minibatch `batch` on `be` for about `seconds`
/// (after a warm-up of a few steps), walking the minibatches of `images` in order and reading the
/// per-step costs back once at the end, as an epoch does.
pub fn bench_da<B: Backend>(
    be: &B,
    images: &Images,
    config: &AutoencoderConfig,
    batch: usize,
    seconds: f64,
) -> BenchRow {
    let n_batches = (images.n / batch).max(1);
    let dev_images = be.upload_images(&images.pixels, images.dim());
    let mut ae = Autoencoder::new(be, config.clone(), 1);
    let mut ws = ae.workspace(be, batch);
    let mut costs = be.zeros(n_batches);
    let mut step = 0usize;
    let mut run = |ae: &mut Autoencoder<B>, steps: usize| {
        for _ in 0..steps {
            let i = step % n_batches;
            let key = RngKey::new(1, step as u64);
            ae.train_step(be, &mut ws, &dev_images, i * batch, key, 0.01, &mut costs, i);
            step += 1;
        }
        be.download(&costs);
    };
    run(&mut ae, 3);
    // Calibrate: time a short run, then size the measured run to `seconds`.
    let t = Instant::now();
    run(&mut ae, 10);
    let per_step = t.elapsed().as_secs_f64() / 10.0;
    let steps = ((seconds / per_step) as usize).clamp(10, 1_000_000);
    let t = Instant::now();
    run(&mut ae, steps);
    let s = t.elapsed().as_secs_f64() / steps as f64;
    BenchRow {
        batch,
        steps,
        ms_per_step: s * 1e3,
        samples_per_s: batch as f64 / s,
        gflops: flops_per_step(config, batch) / s / 1e9,
        s_per_epoch: (EPOCH_EXAMPLES / batch) as f64 * s,
    }
}
