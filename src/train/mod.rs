//! Training: the epoch loops (dA; SdA pretraining and fine-tuning), early stopping, the metrics
//! log, progress reporting and the run record.

pub mod early_stopping;
pub mod log;
pub mod relu_dae;
pub mod sda;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::backend::Backend;
use crate::data::DataSet;
use crate::model::autoencoder::flops_per_step;
use crate::model::{Autoencoder, AutoencoderConfig};
use crate::rng::RngKey;
use crate::viz::{self, Axis, Curves, MOVING_AVERAGE_WINDOW, Series};

pub use early_stopping::EarlyStopping;
pub use log::{Console, EpochRow, Phase, Progress, RunRecord, SdaRow, SdaSummary, Silent};
pub use relu_dae::{ReluDaeOutcome, ReluDaeRun, StepRow, train_relu_dae};
pub use sda::{SdaOutcome, SdaRun, train_sda};

/// Errors that stop a training run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// The cost became NaN or infinite.
    #[error(
        "training diverged: the mean cost of epoch {epoch} is {cost} (step {step} of that epoch is the first non-finite one); \
         the learning rate {lr} is likely too large, try a smaller --{flag}"
    )]
    Diverged {
        /// The flag setting the learning rate in use, e.g. "lr" or "finetune-lr".
        flag: &'static str,
        /// 1-based epoch.
        epoch: usize,
        /// 1-based step within the epoch where the cost first became non-finite.
        step: usize,
        /// The epoch's mean cost.
        cost: f32,
        /// The learning rate in use.
        lr: f32,
    },
    /// An output file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Settings of a denoising-autoencoder run (validated by the CLI layer).
#[derive(Clone, Debug, serde::Serialize)]
pub struct DaRun {
    /// Model shape and noise.
    pub model: AutoencoderConfig,
    /// SGD learning rate.
    pub lr: f32,
    /// Examples per minibatch.
    pub batch: usize,
    /// Passes over the training set.
    pub epochs: usize,
    /// Seed of every random draw (initialisation and noise).
    pub seed: u64,
}

/// What a finished run reports.
#[derive(Clone, Debug)]
pub struct DaOutcome {
    /// One row per epoch.
    pub epochs: Vec<EpochRow>,
    /// Final parameters on the host: W [n_vis, n_hid].
    pub w: Vec<f32>,
}

/// Test digits shown in `reconstructions.png` (the first ones of the test split).
pub const RECONSTRUCTION_DIGITS: usize = 10;

/// RNG stream of the corruption drawn for `reconstructions.png` (training steps use streams
/// 0, 1, 2, …, initialisation `INIT_STREAM`).
pub const PICTURE_STREAM: u64 = (1 << 63) + 1;

/// Trains a denoising autoencoder on `data.train` with plain SGD over minibatches in order (the
/// tutorial's loop), writing `metrics.csv`, `filters.png`, `reconstructions.png` (3 rows × 10
/// test digits: original, corrupted, reconstruction), `curves.png` (per-minibatch cost with its
/// moving average, and the epoch means) and `run.json` into `out`.
/// n_batches = ⌊n_train / batch⌋ (a final partial batch is skipped, as in dA.py).
pub fn train_da<B: Backend>(
    be: &B,
    data: &DataSet,
    run: &DaRun,
    out: &Path,
    record: &mut RunRecord,
    progress: &dyn Progress,
) -> Result<DaOutcome, TrainError> {
    let started = Instant::now();
    let images = &data.train.images;
    let n_batches = images.n / run.batch;
    let gpu_images = be.upload_images(&images.pixels, images.dim());
    let mut ae = Autoencoder::new(be, run.model.clone(), run.seed);
    let mut ws = ae.workspace_with_slots(be, run.batch, n_batches);
    let mut costs = be.zeros(n_batches);
    let mut rows = Vec::with_capacity(run.epochs);
    let mut step_costs: Vec<f32> = Vec::with_capacity(run.epochs * n_batches);
    let mut step: u64 = 0;
    record.setup_seconds = started.elapsed().as_secs_f64();
    for epoch in 1..=run.epochs {
        let t0 = Instant::now();
        progress.start_epoch(epoch, run.epochs, n_batches);
        for i in 0..n_batches {
            let key = RngKey::new(run.seed, step);
            ae.train_step(be, &mut ws, &gpu_images, i * run.batch, key, run.lr, &mut costs, i);
            step += 1;
            progress.step(i + 1);
        }
        let per_step = be.download(&costs);
        let cost = mean(&per_step);
        step_costs.extend_from_slice(&per_step);
        let seconds = t0.elapsed().as_secs_f64();
        let jacobian_norm = (run.model.contraction > 0.0).then(|| {
            let sq = be.download(ws.jacobian_sq());
            mean(&sq.iter().map(|&s| s.sqrt()).collect::<Vec<f32>>())
        });
        let row = EpochRow { epoch, cost, jacobian_norm, seconds };
        progress.end_epoch(&row);
        if !cost.is_finite() {
            let bad = per_step.iter().position(|c| !c.is_finite()).unwrap_or(0);
            return Err(TrainError::Diverged {
                flag: "lr",
                epoch,
                step: bad + 1,
                cost,
                lr: run.lr,
            });
        }
        rows.push(row);
        log::write_metrics(&out.join("metrics.csv"), &rows)?;
        record.epochs = rows.clone();
        record.steps = step;
        record.save(&out.join("run.json"))?;
    }
    let (w, _, _) = ae.download(be);
    let (v, h) = (run.model.n_vis, run.model.n_hid);
    let img_shape = (images.rows, images.cols);
    let path = out.join("filters.png");
    viz::filters_image(&w, v, h, img_shape, (10, 10))
        .save(&path)
        .map_err(|source| TrainError::Write { path, source })?;
    write_reconstructions(be, &ae, data, run.seed, out, |x| x)?;
    let epoch_costs: Vec<f32> = rows.iter().map(|r| r.cost).collect();
    let title = if run.model.contraction > 0.0 {
        format!(
            "cA {}-{}, contraction {}, lr {}, batch {}",
            v, h, run.model.contraction, run.lr, run.batch
        )
    } else {
        format!(
            "dA {}-{}, corruption {}, lr {}, batch {}",
            v, h, run.model.corruption, run.lr, run.batch
        )
    };
    // Step i of epoch e (1-based e, 0-based i) sits at x = e − 1 + (i + 1)/n_batches, so each
    // epoch's mean (at x = e) ends its steps.
    let dx = 1.0 / n_batches.max(1) as f64;
    let per_step = Series::new("cost per minibatch", &step_costs)
        .with_x(dx, dx)
        .with_moving_average(MOVING_AVERAGE_WINDOW);
    let per_epoch = Series::new("epoch mean", &epoch_costs);
    let axis = Axis::new("reconstruction cross-entropy per example", vec![per_step, per_epoch]);
    let jac: Vec<f32> = rows.iter().filter_map(|r| r.jacobian_norm).collect();
    let mut curves = Curves::new(&title, "epoch", axis);
    if !jac.is_empty() {
        let series = Series::new("Jacobian norm (epoch mean)", &jac);
        curves = curves.with_right(Axis::new("Jacobian Frobenius norm", vec![series]));
    }
    let path = out.join("curves.png");
    viz::curves_png(&path, &curves).map_err(|source| TrainError::Write { path, source })?;
    record.total_seconds = started.elapsed().as_secs_f64();
    let train_seconds: f64 = rows.iter().map(|r| r.seconds).sum();
    record.gflops = Some(flops_per_step(&run.model, run.batch) * step as f64 / train_seconds / 1e9);
    record.save(&out.join("run.json"))?;
    Ok(DaOutcome { epochs: rows, w })
}

/// Writes `reconstructions.png`: the first `RECONSTRUCTION_DIGITS` test digits (fewer if the
/// test split is smaller), their corrupted versions and the model's reconstructions, each value
/// mapped by `to_pixels` (e.g. un-standardised) before the picture clamps it to [0, 1].
fn write_reconstructions<B: Backend>(
    be: &B,
    ae: &Autoencoder<B>,
    data: &DataSet,
    seed: u64,
    out: &Path,
    to_pixels: impl Fn(f32) -> f32,
) -> Result<(), TrainError> {
    let test = &data.test.images;
    let n = RECONSTRUCTION_DIGITS.min(test.n);
    if n == 0 {
        return Ok(());
    }
    let dim = test.dim();
    let images = be.upload_images(&test.pixels[..n * dim], dim);
    let mut ws = ae.workspace(be, n);
    let key = RngKey::new(seed, PICTURE_STREAM);
    let (x, x_tilde, z) = ae.reconstruct(be, &mut ws, &images, 0, key);
    let map = |v: Vec<f32>| v.into_iter().map(&to_pixels).collect::<Vec<f32>>();
    let (x, x_tilde, z) = (map(x), map(x_tilde), map(z));
    let img_shape = (test.rows, test.cols);
    let path = out.join("reconstructions.png");
    viz::reconstructions_image(&x, &x_tilde, &z, RECONSTRUCTION_DIGITS, img_shape)
        .save(&path)
        .map_err(|source| TrainError::Write { path, source })
}

/// Mean of the per-step costs, accumulated in f64 in a fixed order.
pub(crate) fn mean(xs: &[f32]) -> f32 {
    (xs.iter().map(|&c| c as f64).sum::<f64>() / xs.len().max(1) as f64) as f32
}
