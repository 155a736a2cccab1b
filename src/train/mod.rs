//! Training: one loop (`runner::drive`) driving each model's trainer (`da`: the dA and cA by epochs;
//! `relu_dae`: the ReLU-DAE by steps; `sda`: SdA pretraining and fine-tuning, with its learning
//! curves in `sda_curves`), early stopping, the metrics log, progress reporting and the run record.

pub mod da;
pub mod early_stopping;
pub mod log;
mod pictures;
pub mod relu_dae;
pub mod runner;
pub mod sda;
pub mod sda_curves;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::backend::Backend;
use crate::checkpoint::{self, Checkpoint, CheckpointError, DataSource};
use crate::data::DataSet;

pub use da::{DaOutcome, DaRun, train_da};
pub use early_stopping::EarlyStopping;
pub use log::{
    Console, EpochRow, Phase, Progress, RunRecord, SdaRow, SdaSummary, Silent, request_interrupt,
};
pub use relu_dae::{ReluDaeOutcome, ReluDaeRun, StepRow, train_relu_dae};
pub use sda::{SdaOutcome, SdaRun, train_sda};
pub use sda_curves::SdaCurves;

/// The checked settings of a run of any model, as its trainer takes them (from the flags by
/// `TrainArgs::settings`, or from a checkpoint).
#[derive(Clone, Debug)]
pub enum Settings {
    /// `--model da` or `--model cae`.
    Da(DaRun),
    /// `--model relu-dae`.
    ReluDae(ReluDaeRun),
    /// `--model sda`.
    Sda(SdaRun),
}

impl Settings {
    /// The run a checkpoint's `run` field holds, for the model its `model` field names.
    pub fn from_checkpoint(ck: &Checkpoint) -> Result<Settings, CheckpointError> {
        Ok(match ck.model()? {
            "da" | "cae" => Settings::Da(ck.json("run")?),
            "relu-dae" => Settings::ReluDae(ck.json("run")?),
            "sda" => {
                let run: SdaRun = ck.json("run")?;
                let (layers, levels) = (run.model.hidden.len(), run.model.corruption.len());
                if layers == 0 || levels != layers {
                    return Err(ck.error(format!(
                        "metadata field run: {layers} hidden layers and {levels} corruption levels, expected at least one layer and one level per layer"
                    )));
                }
                Settings::Sda(run)
            }
            name => {
                return Err(ck.error(format!(
                    "metadata field model is {name:?}, expected da, cae, relu-dae or sda"
                )));
            }
        })
    }

    /// The model's inputs per example.
    pub fn n_in(&self) -> usize {
        match self {
            Settings::Da(r) => r.model.n_vis,
            Settings::ReluDae(r) => r.model.n_vis,
            Settings::Sda(r) => r.model.n_in,
        }
    }

    /// The seed of every random draw.
    pub fn seed(&self) -> u64 {
        match self {
            Settings::Da(r) => r.seed,
            Settings::ReluDae(r) => r.seed,
            Settings::Sda(r) => r.seed,
        }
    }

    /// The settings as JSON (`run.json`'s `config`, a checkpoint's `run`).
    pub fn to_json(&self) -> serde_json::Value {
        let json = match self {
            Settings::Da(r) => serde_json::to_value(r),
            Settings::ReluDae(r) => serde_json::to_value(r),
            Settings::Sda(r) => serde_json::to_value(r),
        };
        json.expect("run settings always serialise")
    }

    /// Checks that `data` has the images the checkpoint `ck`'s model was trained on (`source`):
    /// the same image size, giving the model's inputs.
    pub fn check_data(
        &self,
        ck: &Checkpoint,
        source: &DataSource,
        data: &DataSet,
    ) -> Result<(), CheckpointError> {
        let (images, n_in) = (&data.train.images, self.n_in());
        let (h, w) = source.image_shape;
        if (images.rows, images.cols) != (h, w) || images.dim() != n_in {
            return Err(ck.error(format!(
                "the model takes {h}×{w} images ({n_in} inputs), but {} holds {}×{} images",
                data.source, images.rows, images.cols
            )));
        }
        Ok(())
    }
}

/// Trains the run of `run`'s settings on `data` with its model's trainer (see `runner::drive`).
pub fn train<B: Backend>(
    be: &B,
    data: &DataSet,
    run: &Settings,
    session: &mut Session<'_>,
) -> Result<(), TrainError> {
    match run {
        Settings::Da(run) => train_da(be, data, run, session).map(drop),
        Settings::ReluDae(run) => train_relu_dae(be, data, run, session).map(drop),
        Settings::Sda(run) => train_sda(be, data, run, session).map(drop),
    }
}

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
    /// The device failed (lost, out of memory, a readback that did not complete).
    #[error("{what}, during {position}; training stopped: {kept}")]
    Device {
        /// The backend's one line: the adapter and what failed.
        what: String,
        /// Where the run stood, e.g. "epoch 3 (steps 1–2500)".
        position: String,
        /// What was kept: the last good checkpoint, or that there is none yet.
        kept: String,
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
    /// An empty checkpoint of this run: its model, settings, data source and progress.
    fn checkpoint(&self, run: &impl Serialize, progress: &impl Serialize) -> Checkpoint {
        Checkpoint::new(&self.record.model, run, &self.source, progress)
    }

    /// Rewrites run.json.
    fn save_record(&self) -> Result<(), TrainError> {
        self.record.save(&self.out.join("run.json"))
    }

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

    /// `Device` if the backend has failed (checked after every readback, before anything read
    /// back is used or saved), at `position`.
    fn check_device<B: crate::backend::Storage>(
        &self,
        be: &B,
        position: impl FnOnce() -> String,
    ) -> Result<(), TrainError> {
        match be.failure() {
            None => Ok(()),
            Some(what) => Err(TrainError::Device { what, position: position(), kept: self.kept() }),
        }
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

/// Mean of the per-step costs, accumulated in f64 in a fixed order.
pub(crate) fn mean(xs: &[f32]) -> f32 {
    (xs.iter().map(|&c| c as f64).sum::<f64>() / xs.len().max(1) as f64) as f32
}
