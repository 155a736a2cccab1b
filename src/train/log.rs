//! What a run reports: progress on the terminal, `metrics.csv` (one row per epoch) and
//! `run.json` (configuration, backend, seed, timings). Files are rewritten atomically after every
//! epoch, so an interrupted run leaves complete files for the epochs it finished.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use super::TrainError;
use crate::output::write_atomic;

/// One epoch of a training run.
#[derive(Clone, Debug, Serialize, PartialEq, Deserialize)]
pub struct EpochRow {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training cost over the epoch's minibatches: the reconstruction loss per example
    /// (cross-entropy or squared error; for the cA without the penalty).
    pub cost: f32,
    /// Contractive models: the mean over the epoch's minibatches of the Jacobian Frobenius
    /// norm √((1/B)Σₙ‖Jₙ‖²_F) (tutorial cA.py's "jacobian norm", over every minibatch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jacobian_norm: Option<f32>,
    /// Wall-clock seconds of the epoch.
    pub seconds: f64,
}

/// Writes `header` and `lines` as a CSV file, atomically.
pub fn write_csv(
    path: &Path,
    header: &str,
    lines: impl Iterator<Item = String>,
) -> Result<(), TrainError> {
    let mut csv = format!("{header}\n");
    for line in lines {
        csv.push_str(&line);
        csv.push('\n');
    }
    write_atomic(path, csv.as_bytes())
        .map_err(|source| TrainError::Write { path: path.to_path_buf(), source })
}

/// Writes `rows` as CSV with the header `epoch,cost,seconds`, or
/// `epoch,cost,jacobian_norm,seconds` when the rows carry a Jacobian norm (contractive models).
pub fn write_metrics(path: &Path, rows: &[EpochRow]) -> Result<(), TrainError> {
    let jacobian = rows.iter().any(|r| r.jacobian_norm.is_some());
    let header = if jacobian { "epoch,cost,jacobian_norm,seconds" } else { "epoch,cost,seconds" };
    let lines = rows.iter().map(|r| match (jacobian, r.jacobian_norm) {
        (true, j) => format!("{},{},{},{:.3}", r.epoch, r.cost, j.unwrap_or(f32::NAN), r.seconds),
        (false, _) => format!("{},{},{:.3}", r.epoch, r.cost, r.seconds),
    });
    write_csv(path, header, lines)
}

/// Which phase of an SdA run a metrics row belongs to.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Greedy layer-wise pretraining of one hidden layer's dA.
    Pretrain,
    /// Supervised fine-tuning on the NLL.
    Finetune,
}

impl Phase {
    /// The name in `metrics.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Pretrain => "pretrain",
            Phase::Finetune => "finetune",
        }
    }
}

/// One epoch of an SdA run: a pretraining epoch of one layer, or a fine-tuning epoch.
#[derive(Clone, Debug, Serialize, PartialEq, Deserialize)]
pub struct SdaRow {
    /// Pretraining or fine-tuning.
    pub phase: Phase,
    /// Pretraining: the hidden layer (0-based); None when fine-tuning.
    pub layer: Option<usize>,
    /// 1-based epoch within the phase (and layer).
    pub epoch: usize,
    /// Mean over the epoch's minibatches of the dA's reconstruction cross-entropy
    /// (pretraining) or of the NLL (fine-tuning).
    pub cost: f32,
    /// Fine-tuning: the validation error (%) of the last validation in the epoch.
    pub valid_error: Option<f64>,
    /// Fine-tuning: the test error (%), measured when the validation error reached a new best.
    pub test_error: Option<f64>,
    /// Wall-clock seconds of the epoch (fine-tuning: with its validation and test passes).
    pub seconds: f64,
}

/// Writes `rows` as CSV with the header `phase,layer,epoch,cost,valid_error,test_error,seconds`;
/// errors in %, absent values empty.
pub fn write_sda_metrics(path: &Path, rows: &[SdaRow]) -> Result<(), TrainError> {
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
    let lines = rows.iter().map(|r| {
        format!(
            "{},{},{},{},{},{},{:.3}",
            r.phase.name(),
            r.layer.map(|l| l.to_string()).unwrap_or_default(),
            r.epoch,
            r.cost,
            opt(r.valid_error),
            opt(r.test_error),
            r.seconds
        )
    });
    write_csv(path, "phase,layer,epoch,cost,valid_error,test_error,seconds", lines)
}

/// The outcome of an SdA run, the tutorial's closing summary.
#[derive(Clone, Debug, Serialize, PartialEq, Deserialize)]
pub struct SdaSummary {
    /// The best validation error (%).
    pub best_valid_error: f64,
    /// The test error (%) of the model at the best validation error.
    pub test_error: f64,
    /// The fine-tuning iteration (0-based minibatch count) of the best validation error.
    pub best_iter: usize,
    /// The fine-tuning epoch (1-based) of the best validation error.
    pub best_epoch: usize,
    /// Fine-tuning epochs run (the last one possibly cut short by early stopping).
    pub epochs: usize,
    /// Fine-tuning iterations run.
    pub iterations: usize,
    /// Whether early stopping ended fine-tuning (rather than the epoch limit).
    pub stopped_early: bool,
    /// Seconds of pretraining.
    pub pretrain_seconds: f64,
    /// Seconds of fine-tuning, validation and test passes included.
    pub finetune_seconds: f64,
}

/// The record of a run, saved as `run.json`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunRecord {
    /// The program and its version, e.g. "gpu-dae 0.1.0".
    pub program: String,
    /// The command line.
    pub command: Vec<String>,
    /// The model name (`da`, ...).
    pub model: String,
    /// Every setting of the run, as given to the trainer.
    pub config: serde_json::Value,
    /// The backend and device, e.g. "cpu (2 threads)".
    pub backend: String,
    /// Where the data came from.
    pub data: String,
    /// Examples in the train / valid / test splits.
    pub split_sizes: [usize; 3],
    /// Seed of every random draw.
    pub seed: u64,
    /// Steps taken so far.
    pub steps: u64,
    /// Seconds before the first epoch (upload, initialisation).
    pub setup_seconds: f64,
    /// Seconds from start to end of the run.
    pub total_seconds: f64,
    /// Achieved GEMM throughput over the training epochs, GFLOP/s (dA runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gflops: Option<f64>,
    /// One row per finished epoch (dA runs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub epochs: Vec<EpochRow>,
    /// SdA runs: one row per pretraining epoch of each layer and per fine-tuning epoch.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<SdaRow>,
    /// SdA runs: best validation error, test error then, epochs and timings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<SdaSummary>,
}

impl RunRecord {
    /// Writes the record as pretty JSON, atomically.
    pub fn save(&self, path: &Path) -> Result<(), TrainError> {
        let json = serde_json::to_vec_pretty(self).expect("a RunRecord always serialises");
        write_atomic(path, &json)
            .map_err(|source| TrainError::Write { path: path.to_path_buf(), source })
    }
}

/// Receives progress from the training loop (`runner::drive`).
pub trait Progress {
    /// Epoch `epoch` of `epochs` in its phase begins; it has `steps` steps.
    fn start_epoch(&self, epoch: usize, epochs: usize, steps: usize);
    /// `done` steps of the current epoch are finished.
    fn step(&self, done: usize);
    /// A line of the run's report: how an epoch went, or the run's closing summary.
    fn report(&self, line: &str);
    /// Whether the user asked the run to stop (Ctrl-C): the runner checks after every step,
    /// then writes a checkpoint and returns `TrainError::Interrupted`.
    fn interrupted(&self) -> bool;
}

/// Set by `request_interrupt` (the Ctrl-C handler), read by `Console::interrupted`.
static INTERRUPT: AtomicBool = AtomicBool::new(false);

/// Asks the running trainer to stop after its current step; returns whether a stop had already
/// been asked for (a second Ctrl-C).
pub fn request_interrupt() -> bool {
    INTERRUPT.swap(true, Ordering::SeqCst)
}

/// Reports nothing (tests, benchmarks).
pub struct Silent;

impl Progress for Silent {
    fn start_epoch(&self, _: usize, _: usize, _: usize) {}
    fn step(&self, _: usize) {}
    fn report(&self, _: &str) {}
    fn interrupted(&self) -> bool {
        false
    }
}

/// A progress bar per epoch on a terminal, plain lines otherwise; the report's lines (one per
/// epoch, and the summary) on standard error either way.
pub struct Console {
    tty: bool,
    bar: std::cell::RefCell<Option<ProgressBar>>,
}

impl Console {
    /// A reporter that draws bars only when standard error is a terminal.
    pub fn new() -> Self {
        let tty = std::io::stderr().is_terminal();
        Console { tty, bar: Default::default() }
    }
}

impl Default for Console {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for Console {
    fn start_epoch(&self, epoch: usize, epochs: usize, steps: usize) {
        if self.tty {
            let bar = ProgressBar::new(steps as u64).with_style(
                ProgressStyle::with_template(
                    "epoch {prefix} [{bar:30}] {pos}/{len} steps {per_sec} eta {eta}",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar.set_prefix(format!("{epoch}/{epochs}"));
            *self.bar.borrow_mut() = Some(bar);
        }
    }

    fn step(&self, done: usize) {
        if let Some(bar) = self.bar.borrow().as_ref() {
            bar.set_position(done as u64);
        }
    }

    fn report(&self, line: &str) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
        eprintln!("{line}");
    }

    fn interrupted(&self) -> bool {
        INTERRUPT.load(Ordering::SeqCst)
    }
}
