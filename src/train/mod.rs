//! Training: the epoch loops (dA; SdA pretraining and fine-tuning), early stopping, the metrics
//! log, progress reporting and the run record.

pub mod early_stopping;
pub mod log;
pub mod sda;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::backend::Backend;
use crate::data::DataSet;
use crate::model::autoencoder::flops_per_step;
use crate::model::{Autoencoder, AutoencoderConfig};
use crate::rng::RngKey;
use crate::viz;

pub use early_stopping::EarlyStopping;
pub use log::{Console, EpochRow, Phase, Progress, RunRecord, SdaRow, SdaSummary, Silent};
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

/// Trains a denoising autoencoder on `data.train` with plain SGD over minibatches in order (the
/// tutorial's loop), writing `metrics.csv`, `filters.png` and `run.json` into `out`.
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
    let mut ws = ae.workspace(be, run.batch);
    let mut costs = be.zeros(n_batches);
    let mut rows = Vec::with_capacity(run.epochs);
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
        let seconds = t0.elapsed().as_secs_f64();
        let row = EpochRow { epoch, cost, seconds };
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
    record.total_seconds = started.elapsed().as_secs_f64();
    let train_seconds: f64 = rows.iter().map(|r| r.seconds).sum();
    record.gflops = Some(flops_per_step(&run.model, run.batch) * step as f64 / train_seconds / 1e9);
    record.save(&out.join("run.json"))?;
    Ok(DaOutcome { epochs: rows, w })
}

/// Mean of the per-step costs, accumulated in f64 in a fixed order.
pub(crate) fn mean(xs: &[f32]) -> f32 {
    (xs.iter().map(|&c| c as f64).sum::<f64>() / xs.len().max(1) as f64) as f32
}
