//! The one training loop. A model's trainer (`da::DaTrainer`, `relu_dae::ReluDaeTrainer`,
//! `sda::SdaTrainer`) supplies its step and what its epochs report; the runner owns the rest:
//! resume-or-fresh (and the checks a resumed run must pass), the epoch and step loop, Ctrl-C,
//! divergence, the checkpoint after every epoch, the per-epoch outputs (metrics.csv, run.json,
//! the console line), the final outputs and the closing summary.

use std::time::Instant;

use super::{Session, TrainError};
use crate::backend::Backend;
use crate::checkpoint::Checkpoint;

/// Whether training goes on after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// The next step follows.
    Continue,
    /// Training ends after this step's epoch is closed (early stopping).
    Stop,
}

/// The epoch a run continues with, as its trainer describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Epoch {
    /// 1-based number of the epoch in its phase (ReLU-DAE: of the block of steps).
    pub number: usize,
    /// Epochs in the phase (for the progress bar).
    pub of: usize,
    /// Steps of the epoch.
    pub steps: usize,
    /// Steps of it taken before a resume: the loop starts there.
    pub first_step: usize,
    /// What the epoch is called in messages: "epoch 3", "pretraining epoch 2 of layer 1".
    pub name: String,
    /// The learning rate in use and the flag that sets it, named when the run diverges.
    pub lr: (&'static str, f32),
}

/// A model's training run as the runner drives it: the step, and what an epoch reports.
pub trait Trainer<B: Backend> {
    /// What a finished run returns.
    type Outcome;

    /// The epoch to run next, None when the run is finished.
    fn next_epoch(&self) -> Option<Epoch>;

    /// Why a resumed run that has no next epoch cannot go on, with what would let it (e.g.
    /// "the run is finished (3 of 3 epochs); give --epochs above 3 to train on").
    fn finished(&self) -> String;

    /// Step `i` (0-based) of the epoch under way.
    fn step(&mut self, be: &B, i: usize) -> Flow;

    /// Reads back the per-step logs of steps `from..to` of the epoch under way (one download
    /// per log) and keeps them; returns the costs of all its steps so far, those before a
    /// resume included, which the runner checks for divergence.
    fn collect(&mut self, be: &B, from: usize, to: usize) -> &[f32];

    /// The epoch under way stops after `done` of its steps, which took `seconds` (Ctrl-C):
    /// records it for the checkpoint.
    fn pause(&mut self, done: usize, seconds: f64);

    /// Closes the epoch under way, which took `seconds` (and ended training if `stopped`):
    /// keeps its row and moves on; returns its console line.
    fn end_epoch(&mut self, seconds: f64, stopped: bool) -> String;

    /// Where the run stands in messages: after `done` steps of `epoch`, or (None) at its end.
    fn position(&self, epoch: &Epoch, done: Option<usize>) -> String {
        match done {
            Some(done) => format!("step {done} of {} in {}", epoch.steps, epoch.name),
            None => epoch.name.clone(),
        }
    }

    /// The checkpoint of the run as it stands.
    fn checkpoint(&self, be: &B, session: &Session<'_>) -> Checkpoint;

    /// Rewrites metrics.csv and puts the rows so far into the run record.
    fn write_metrics(&self, session: &mut Session<'_>) -> Result<(), TrainError>;

    /// Writes the finished run's outputs (pictures, the final checkpoint), fills in the run
    /// record's results and returns the outcome.
    fn finish(self, be: &B, session: &mut Session<'_>) -> Result<Self::Outcome, TrainError>;

    /// The closing lines of a finished run, after its record is complete.
    fn summary(outcome: &Self::Outcome, session: &Session<'_>) -> Vec<String>;
}

/// Drives a training: `start` makes the trainer, fresh or from the session's checkpoint (which
/// must leave an epoch to run, with fewer steps taken than it has), then every epoch: its steps
/// with Ctrl-C checked after each, its logs read back and checked for divergence (before its
/// row and console line), its checkpoint (not written if a parameter is not finite, so
/// metrics.csv and run.json never list an epoch whose weights were not kept), metrics.csv and
/// run.json; then the final outputs, the record's times and the summary.
pub fn drive<B: Backend, T: Trainer<B>>(
    be: &B,
    session: &mut Session<'_>,
    start: impl FnOnce(Option<&Checkpoint>) -> Result<T, TrainError>,
) -> Result<T::Outcome, TrainError> {
    let started = Instant::now();
    let mut trainer = start(session.resume.as_ref())?;
    if let Some(ck) = &session.resume {
        match trainer.next_epoch() {
            None => return Err(ck.error(trainer.finished()).into()),
            Some(e) if e.first_step >= e.steps.max(1) => {
                let what = format!(
                    "metadata field progress: {} steps into an epoch of {}",
                    e.first_step, e.steps
                );
                return Err(ck.error(what).into());
            }
            Some(_) => {}
        }
    }
    session.record.setup_seconds = started.elapsed().as_secs_f64();
    while let Some(epoch) = trainer.next_epoch() {
        let t0 = Instant::now();
        session.progress.start_epoch(epoch.number, epoch.of, epoch.steps);
        let (mut done, mut flow, mut interrupted) = (epoch.steps, Flow::Continue, false);
        for i in epoch.first_step..epoch.steps {
            flow = trainer.step(be, i);
            session.progress.step(i + 1);
            let more = i + 1 < epoch.steps;
            if flow == Flow::Stop {
                done = i + 1;
                break;
            }
            if more && session.progress.interrupted() {
                (done, interrupted) = (i + 1, true);
                break;
            }
        }
        let costs = trainer.collect(be, epoch.first_step, done);
        let steps = || format!("epoch {} (steps {}–{done})", epoch.number, epoch.first_step + 1);
        session.check_device(be, steps)?;
        session.check_finite(costs, epoch.number, epoch.lr)?;
        let seconds = t0.elapsed().as_secs_f64();
        if interrupted {
            trainer.pause(done, seconds);
            let ck = trainer.checkpoint(be, session);
            let position = trainer.position(&epoch, Some(done));
            session.check_device(be, || format!("the checkpoint at {position}"))?;
            return Err(session.save_and_stop(&ck, position, epoch.lr));
        }
        let line = trainer.end_epoch(seconds, flow == Flow::Stop);
        session.progress.report(&line);
        let position = trainer.position(&epoch, None);
        let ck = trainer.checkpoint(be, session);
        session.check_device(be, || format!("the checkpoint after {position}"))?;
        session.save_checkpoint(&ck, || position.clone(), epoch.lr)?;
        trainer.write_metrics(session)?;
        session.save_record()?;
        session.stop_if_interrupted(position, trainer.next_epoch().is_some())?;
    }
    // A device lost inside `finish` shows first as NaN weights: say what it was.
    let outcome = trainer.finish(be, session).map_err(|e| {
        session.check_device(be, || "the final outputs".to_string()).err().unwrap_or(e)
    })?;
    session.check_device(be, || "the final outputs".to_string())?;
    session.record.total_seconds = started.elapsed().as_secs_f64();
    session.save_record()?;
    for line in T::summary(&outcome, session) {
        session.progress.report(&line);
    }
    Ok(outcome)
}
