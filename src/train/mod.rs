//! Training: the epoch loops (dA; SdA pretraining and fine-tuning), early stopping, the metrics
//! log, progress reporting and the run record.

pub mod early_stopping;
pub mod log;
pub mod relu_dae;
pub mod sda;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::checkpoint::{self, Checkpoint, CheckpointError, DataSource};
use crate::data::DataSet;
use crate::model::autoencoder::flops_per_step;
use crate::model::{Autoencoder, AutoencoderConfig, Loss};
use crate::rng::RngKey;
use crate::viz::{self, Axis, Curves, MOVING_AVERAGE_WINDOW, Series};

pub use early_stopping::EarlyStopping;
pub use log::{
    Console, EpochRow, Phase, Progress, RunRecord, SdaRow, SdaSummary, Silent, request_interrupt,
};
pub use relu_dae::{ReluDaeOutcome, ReluDaeRun, StepRow, train_relu_dae};
pub use sda::{SdaOutcome, SdaRun, train_sda};

/// Errors that stop a training run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// The cost became NaN or infinite.
    #[error(
        "training diverged: the mean cost of epoch {epoch} is {cost} (step {step} of that epoch is the first non-finite one); \
         the learning rate {lr} is likely too large, try a smaller --{flag}; {kept}"
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
        /// What was kept: the last good checkpoint, or that there is none yet.
        kept: String,
    },
    /// A parameter became NaN or infinite (an update overflowed) though the costs were finite.
    #[error(
        "training diverged: tensor {tensor} is not finite after {position}; the learning rate {lr} is likely too large, try a smaller --{flag}; {kept}"
    )]
    DivergedWeights {
        /// The first non-finite tensor, e.g. "layer0.W".
        tensor: String,
        /// Where the run stood, e.g. "epoch 3".
        position: String,
        /// The flag setting the learning rate in use.
        flag: &'static str,
        /// The learning rate in use.
        lr: f32,
        /// What was kept: the last good checkpoint, or that there is none yet.
        kept: String,
    },
    /// The user asked to stop (Ctrl-C); the run was saved.
    #[error(
        "interrupted after {position}; saved {}: continue with `gpu-dae train --resume {}`",
        checkpoint.display(),
        checkpoint.display()
    )]
    Interrupted {
        /// Where the run stood, e.g. "step 1200 of epoch 3".
        position: String,
        /// The checkpoint written.
        checkpoint: PathBuf,
    },
    /// The checkpoint to resume from does not fit this run.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// An output file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// What every trainer needs besides the model settings and the data: where its outputs go, how
/// it reports, and the checkpoint it continues from.
pub struct Session<'a> {
    /// Output directory: pictures, metrics.csv, run.json and `checkpoint::FILE_NAME`.
    pub out: &'a Path,
    /// The run record, rewritten as run.json after every epoch.
    pub record: &'a mut RunRecord,
    /// Progress reporting, and the Ctrl-C flag.
    pub progress: &'a dyn Progress,
    /// Where the data came from (stored in checkpoints).
    pub source: DataSource,
    /// A checkpoint of this run to continue from (`--resume`).
    pub resume: Option<Checkpoint>,
}

impl Session<'_> {
    /// The checkpoint file in the output directory.
    pub fn checkpoint_path(&self) -> PathBuf {
        self.out.join(checkpoint::FILE_NAME)
    }

    /// Writes `ck` atomically to the checkpoint file, unless one of its tensors is not finite:
    /// then the previous checkpoint stays and the run stops with `DivergedWeights`, naming
    /// `position` and the learning rate `(flag, lr)` in use.
    fn save_checkpoint(
        &self,
        ck: &Checkpoint,
        position: impl FnOnce() -> String,
        (flag, lr): (&'static str, f32),
    ) -> Result<(), TrainError> {
        if let Some(tensor) = ck.non_finite() {
            let (tensor, position, kept) = (tensor.to_string(), position(), self.kept());
            return Err(TrainError::DivergedWeights { tensor, position, flag, lr, kept });
        }
        let path = self.checkpoint_path();
        ck.save(&path).map_err(|source| TrainError::Write { path, source })
    }

    /// The `kept` part of a divergence message: the checkpoint on disk, which is always the
    /// last good one (a non-finite one is never written), if any.
    fn kept(&self) -> String {
        let path = self.checkpoint_path();
        if path.exists() {
            format!("the last good checkpoint is kept in {}", path.display())
        } else {
            "no checkpoint was written yet".to_string()
        }
    }

    /// `Diverged` if a cost of `per_step` (epoch `epoch`'s steps, from its first) is NaN or
    /// infinite, naming the first such step, the epoch's mean and the learning rate
    /// `(flag, lr)` in use.
    fn check_finite(
        &self,
        per_step: &[f32],
        epoch: usize,
        (flag, lr): (&'static str, f32),
    ) -> Result<(), TrainError> {
        match per_step.iter().position(|c| !c.is_finite()) {
            None => Ok(()),
            Some(bad) => Err(TrainError::Diverged {
                flag,
                epoch,
                step: bad + 1,
                cost: mean(per_step),
                lr,
                kept: self.kept(),
            }),
        }
    }

    /// Ends an interrupted run at `position`: saves `ck` (as `save_checkpoint`) and returns
    /// `Interrupted`, or the error that kept it from being saved.
    fn save_and_stop(
        &self,
        ck: &Checkpoint,
        position: String,
        lr: (&'static str, f32),
    ) -> TrainError {
        match self.save_checkpoint(ck, || position.clone(), lr) {
            Ok(()) => TrainError::Interrupted { position, checkpoint: self.checkpoint_path() },
            Err(e) => e,
        }
    }

    /// After a checkpoint at `position`: stops the run if the user asked to and there is
    /// `more` to do.
    fn stop_if_interrupted(&self, position: String, more: bool) -> Result<(), TrainError> {
        if more && self.progress.interrupted() {
            Err(TrainError::Interrupted { position, checkpoint: self.checkpoint_path() })
        } else {
            Ok(())
        }
    }
}

/// Settings of a denoising-autoencoder run (validated by the CLI layer).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DaRun {
    /// Model shape and noise; its `standardise` is filled in from the training split when
    /// `standardise` is set.
    pub model: AutoencoderConfig,
    /// Standardise the inputs by the training split's pixel mean and std.
    #[serde(default)]
    pub standardise: bool,
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

/// RNG stream of the corruption drawn for `reconstructions.png`: 2³² above `INIT_STREAM`, clear
/// of the initialisation's streams (`INIT_STREAM + k`) and of the training steps' (0, 1, 2, …).
pub const PICTURE_STREAM: u64 = (1 << 63) + (1 << 32);

/// Where a dA/cA run stands, as stored in its checkpoint's `progress` field. Its per-step costs
/// are the tensor `log.step_costs` (every step taken), and for a contractive model the batch
/// Jacobian norms of the unfinished epoch's steps are `log.jacobian_sq`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct DaProgress {
    /// Epochs finished.
    epochs_done: usize,
    /// Steps taken of the next epoch (0 at an epoch boundary).
    steps_in_epoch: usize,
    /// One row per finished epoch.
    rows: Vec<EpochRow>,
}

/// Trains a denoising autoencoder on `data.train` with plain SGD over minibatches in order (the
/// tutorial's loop), writing `metrics.csv`, `checkpoint.safetensors` and `run.json` after every
/// epoch, and at the end `filters.png`, `reconstructions.png` (3 rows × 10 test digits:
/// original, corrupted, reconstruction) and `curves.png` (per-minibatch cost with its moving
/// average, and the epoch means) into `session.out`.
/// n_batches = ⌊n_train / batch⌋ (a final partial batch is skipped, as in dA.py).
/// Step s (0-based, counted over the whole run) corrupts with `RngKey::new(seed, s)`, so a run
/// resumed from a checkpoint takes the same steps as one that never stopped.
pub fn train_da<B: Backend>(
    be: &B,
    data: &DataSet,
    run: &DaRun,
    session: &mut Session<'_>,
) -> Result<DaOutcome, TrainError> {
    let started = Instant::now();
    let out = session.out;
    let images = &data.train.images;
    let n_batches = images.n / run.batch;
    let gpu_images = be.upload_images(&images.pixels, images.dim());
    let contractive = run.model.contraction > 0.0;
    // The settings as run and checkpointed: with the measured standardisation, if any.
    let mut model = run.model.clone();
    if run.standardise {
        model.standardise = Some(images.pixel_stats());
    }
    let run = &DaRun { model, ..run.clone() };
    // Where to start: a fresh model, or the checkpoint's parameters, rows and logs.
    let (mut ae, mut progress, mut step_costs, mut partial_jac) = match &session.resume {
        None => (
            Autoencoder::new(be, run.model.clone(), run.seed),
            DaProgress { epochs_done: 0, steps_in_epoch: 0, rows: Vec::new() },
            Vec::new(),
            Vec::new(),
        ),
        Some(ck) => {
            let p: DaProgress = ck.json("progress")?;
            if p.epochs_done >= run.epochs {
                return Err(ck
                    .error(format!(
                        "the run is finished ({} of {} epochs); give --epochs above {} to train on",
                        p.epochs_done, run.epochs, p.epochs_done
                    ))
                    .into());
            }
            check_steps_in_epoch(ck, p.steps_in_epoch, n_batches)?;
            let taken = p.epochs_done * n_batches + p.steps_in_epoch;
            let costs = ck.tensor("log.step_costs", &[taken])?.to_vec();
            let jac = if contractive && p.steps_in_epoch > 0 {
                ck.tensor("log.jacobian_sq", &[p.steps_in_epoch])?.to_vec()
            } else {
                Vec::new()
            };
            (Autoencoder::load_from(be, run.model.clone(), ck, "layer0")?, p, costs, jac)
        }
    };
    let mut ws = ae.workspace_with_slots(be, run.batch, n_batches);
    let mut costs = be.zeros(n_batches);
    session.record.setup_seconds = started.elapsed().as_secs_f64();
    // The checkpoint of the run as it stands.
    let checkpoint = |ae: &Autoencoder<B>, p: &DaProgress, costs: &[f32], jac: &[f32]| {
        let mut ck = Checkpoint::new(&session.record.model, run, &session.source, p);
        ae.save_to(be, &mut ck, "layer0");
        ck.put("log.step_costs", &[costs.len()], costs.to_vec());
        if !jac.is_empty() {
            ck.put("log.jacobian_sq", &[jac.len()], jac.to_vec());
        }
        ck
    };
    for epoch in progress.epochs_done + 1..=run.epochs {
        let t0 = Instant::now();
        let first_step = progress.steps_in_epoch;
        session.progress.start_epoch(epoch, run.epochs, n_batches);
        let mut done = n_batches;
        for i in first_step..n_batches {
            let step = ((epoch - 1) * n_batches + i) as u64;
            let key = RngKey::new(run.seed, step);
            ae.train_step(be, &mut ws, &gpu_images, i * run.batch, key, run.lr, &mut costs, i);
            session.progress.step(i + 1);
            if session.progress.interrupted() && i + 1 < n_batches {
                done = i + 1;
                break;
            }
        }
        // This epoch's per-step costs (and Jacobian norms): those saved before a resume, then
        // this session's.
        let epoch_start = (epoch - 1) * n_batches;
        step_costs.extend_from_slice(&be.download(&costs)[first_step..done]);
        if contractive {
            partial_jac.extend_from_slice(&be.download(ws.jacobian_sq())[first_step..done]);
        }
        let per_step = &step_costs[epoch_start..];
        if done < n_batches {
            // Interrupted: save the unfinished epoch.
            session.check_finite(per_step, epoch, ("lr", run.lr))?;
            progress.steps_in_epoch = done;
            let position = format!("step {done} of {n_batches} in epoch {epoch}");
            let ck = checkpoint(&ae, &progress, &step_costs, &partial_jac);
            return Err(session.save_and_stop(&ck, position, ("lr", run.lr)));
        }
        let cost = mean(per_step);
        let seconds = t0.elapsed().as_secs_f64();
        let jacobian_norm = contractive.then(|| {
            let norm = mean(&partial_jac.iter().map(|&s| s.sqrt()).collect::<Vec<f32>>());
            partial_jac.clear();
            norm
        });
        let row = EpochRow { epoch, cost, jacobian_norm, seconds };
        session.progress.end_epoch(&row);
        session.check_finite(per_step, epoch, ("lr", run.lr))?;
        progress.rows.push(row);
        progress.epochs_done = epoch;
        progress.steps_in_epoch = 0;
        log::write_metrics(&out.join("metrics.csv"), &progress.rows)?;
        let ck = checkpoint(&ae, &progress, &step_costs, &[]);
        session.save_checkpoint(&ck, || format!("epoch {epoch}"), ("lr", run.lr))?;
        session.record.epochs = progress.rows.clone();
        session.record.steps = (epoch * n_batches) as u64;
        session.record.save(&out.join("run.json"))?;
        session.stop_if_interrupted(format!("epoch {epoch}"), epoch < run.epochs)?;
    }
    let rows = progress.rows;
    let (w, _, _) = ae.download(be);
    let (v, h) = (run.model.n_vis, run.model.n_hid);
    let img_shape = (images.rows, images.cols);
    let path = out.join("filters.png");
    viz::filters_image(&w, v, h, img_shape, (10, 10))
        .save(&path)
        .map_err(|source| TrainError::Write { path, source })?;
    let [m, s] = run.model.standardise.unwrap_or([0.0, 1.0]);
    write_reconstructions(be, &ae, data, run.seed, out, |x| x * s + m)?;
    let epoch_costs: Vec<f32> = rows.iter().map(|r| r.cost).collect();
    let title = if contractive {
        format!(
            "cA {}-{}, contraction {}, lr {}, batch {}",
            v, h, run.model.contraction, run.lr, run.batch
        )
    } else {
        format!("dA {}-{}, noise {}, lr {}, batch {}", v, h, run.model.noise, run.lr, run.batch)
    };
    // Step i of epoch e (1-based e, 0-based i) sits at x = e − 1 + (i + 1)/n_batches, so each
    // epoch's mean (at x = e) ends its steps.
    let dx = 1.0 / n_batches.max(1) as f64;
    let per_step = Series::new("cost per minibatch", &step_costs)
        .with_x(dx, dx)
        .with_moving_average(MOVING_AVERAGE_WINDOW);
    let per_epoch = Series::new("epoch mean", &epoch_costs);
    let loss_name = match run.model.loss {
        Loss::CrossEntropy => "reconstruction cross-entropy per example",
        Loss::SquaredError => "squared error ‖z − x‖² per example",
    };
    let axis = Axis::new(loss_name, vec![per_step, per_epoch]);
    let jac: Vec<f32> = rows.iter().filter_map(|r| r.jacobian_norm).collect();
    let mut curves = Curves::new(&title, "epoch", axis);
    if !jac.is_empty() {
        let series = Series::new("Jacobian norm (epoch mean)", &jac);
        curves = curves.with_right(Axis::new("Jacobian Frobenius norm", vec![series]));
    }
    let path = out.join("curves.png");
    viz::curves_png(&path, &curves).map_err(|source| TrainError::Write { path, source })?;
    let record = &mut *session.record;
    record.total_seconds = started.elapsed().as_secs_f64();
    let train_seconds: f64 = rows.iter().map(|r| r.seconds).sum();
    let steps = (rows.len() * n_batches) as f64;
    record.gflops = Some(flops_per_step(&run.model, run.batch) * steps / train_seconds / 1e9);
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
    let (x, x_tilde, z) = ae.reconstruct(be, &mut ws, &images, 0, ae.noise(), key);
    let map = |v: Vec<f32>| v.into_iter().map(&to_pixels).collect::<Vec<f32>>();
    let (x, x_tilde, z) = (map(x), map(x_tilde), map(z));
    let img_shape = (test.rows, test.cols);
    let path = out.join("reconstructions.png");
    viz::reconstructions_image(&x, &x_tilde, &z, RECONSTRUCTION_DIGITS, img_shape)
        .save(&path)
        .map_err(|source| TrainError::Write { path, source })
}

/// Checks a checkpoint's count of steps taken into an unfinished epoch against the epoch's
/// `n_batches`.
fn check_steps_in_epoch(
    ck: &Checkpoint,
    steps: usize,
    n_batches: usize,
) -> Result<(), CheckpointError> {
    if steps < n_batches.max(1) {
        Ok(())
    } else {
        Err(ck
            .error(format!("metadata field progress: {steps} steps into an epoch of {n_batches}")))
    }
}

/// Mean of the per-step costs, accumulated in f64 in a fixed order.
pub(crate) fn mean(xs: &[f32]) -> f32 {
    (xs.iter().map(|&c| c as f64).sum::<f64>() / xs.len().max(1) as f64) as f32
}
