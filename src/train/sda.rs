//! Training a stacked denoising autoencoder as SdA.py does: greedy layer-wise pretraining of each
//! dA on the clean output of the layers below, then fine-tuning of the classifier by minibatch
//! SGD on the NLL with the tutorial's early stopping (`EarlyStopping`), the test error measured
//! whenever the validation error reaches a new best. Minibatches are taken in order. For the
//! runner, each layer's pretraining epochs and then the fine-tuning epochs follow one another.

use serde::{Deserialize, Serialize};

use super::log::{self, Phase, SdaRow, SdaSummary};
use super::pictures;
use super::runner::{self, Epoch, Flow, Trainer};
use super::sda_curves::SdaCurves;
use super::{EarlyStopping, Session, TrainError, mean};
use crate::backend::Backend;
use crate::checkpoint::Checkpoint;
use crate::data::{DataSet, Split};
use crate::model::Step;
use crate::model::autoencoder::Workspace;
use crate::model::sda::{FinetuneScope, Sda, SdaConfig, SdaParams, SdaWorkspace};
use crate::rng::RngKey;

/// Settings of an SdA run (validated by `config`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SdaRun {
    /// Layer sizes and per-layer corruption.
    pub model: SdaConfig,
    /// Examples per minibatch, in pretraining and fine-tuning.
    pub batch: usize,
    /// SGD learning rate of each dA's pretraining.
    pub pretrain_lr: f32,
    /// Pretraining passes over the training set, per layer.
    pub pretrain_epochs: usize,
    /// SGD learning rate of fine-tuning.
    pub finetune_lr: f32,
    /// What fine-tuning updates.
    pub finetune: FinetuneScope,
    /// Maximum fine-tuning passes over the training set (early stopping usually ends sooner).
    pub epochs: usize,
    /// Seed of the initialisation and of every noise draw.
    pub seed: u64,
    /// Examples per forward pass when measuring the validation and test errors.
    pub eval_chunk: usize,
}

/// What a finished SdA run reports.
#[derive(Clone, Debug)]
pub struct SdaOutcome {
    /// One row per pretraining epoch of each layer, then per fine-tuning epoch.
    pub rows: Vec<SdaRow>,
    /// Best validation error, test error then, epochs and timings.
    pub summary: SdaSummary,
    /// The parameters at the best validation error.
    pub best: SdaParams,
}

/// A split resident on the backend: images [n, dim] and labels [n].
struct DeviceSplit<B: Backend> {
    images: B::Images,
    labels: B::Labels,
    n: usize,
}

impl<B: Backend> DeviceSplit<B> {
    fn upload(be: &B, split: &Split) -> Self {
        DeviceSplit {
            images: be.upload_images(&split.images.pixels, split.images.dim()),
            labels: be.upload_labels(&split.labels),
            n: split.len(),
        }
    }
}

/// The evaluation workspace, its per-chunk logs allocated once.
struct Evaluator<B: Backend> {
    ws: SdaWorkspace<B>,
}

impl<B: Backend> Evaluator<B> {
    /// For splits of up to `n` examples, `chunk` at a time.
    fn new(be: &B, sda: &Sda<B>, n: usize, chunk: usize) -> Self {
        let rows = chunk.min(n).max(1);
        Evaluator { ws: sda.eval_workspace(be, rows, n.div_ceil(rows)) }
    }

    /// The error of `sda` on `split`, in %: the error counts of every chunk accumulate on the
    /// device and are read back once.
    fn error_pct(&mut self, be: &B, sda: &Sda<B>, split: &DeviceSplit<B>) -> f64 {
        let chunks = sda.evaluate(be, &mut self.ws, &split.images, &split.labels, split.n);
        let counts = be.download(self.ws.errors());
        let wrong: f64 = counts[..chunks].iter().map(|&c| c as f64).sum();
        100.0 * wrong / split.n as f64
    }
}

/// The phase an SdA run is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Stage {
    /// Pretraining hidden layer `layer`'s dA.
    Pretrain {
        /// The layer (0-based).
        layer: usize,
    },
    /// Fine-tuning the classifier.
    Finetune,
    /// Finished: the checkpoint's `layer{k}.*` and `top.*` are the best model.
    Done,
}

/// Where an SdA run stands, as stored in its checkpoint's `progress` field. The unfinished
/// epoch's per-step costs are the tensor `log.partial_costs`; during fine-tuning the best model
/// so far is `best.*`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct SdaProgress {
    /// The phase under way.
    stage: Stage,
    /// Epochs finished in that phase (and layer).
    epochs_done: usize,
    /// Steps taken of the next epoch (0 at an epoch boundary).
    steps_in_epoch: usize,
    /// One row per finished epoch.
    rows: Vec<SdaRow>,
    /// Seconds of pretraining so far.
    pretrain_seconds: f64,
    /// Seconds of fine-tuning so far.
    finetune_seconds: f64,
    /// The early-stopping state (fine-tuning).
    stopping: EarlyStopping,
    /// The test error of the best model so far, if any.
    best_test_error: Option<f64>,
    /// Validation and test errors measured in the unfinished fine-tuning epoch.
    epoch_errors: (Option<f64>, Option<f64>),
}

/// Trains an SdA on `data` (pretraining on `data.train`'s images, fine-tuning on its labels,
/// early stopping on `data.valid`, test error on `data.test`), writing `metrics.csv`,
/// `checkpoint.safetensors` and `run.json` into `session.out` after every epoch and
/// `filters.png` (the best model's layer-0 filters) and `curves.png` (`SdaCurves`) at the end;
/// the final checkpoint holds the best model. n_batches = ⌊n_train / batch⌋ (a final partial
/// batch is skipped, as in SdA.py).
/// Pretraining step s of layer k corrupts with `RngKey::new(seed, k·2⁴⁰ + s)`, so a resumed
/// run takes the same steps as one that never stopped.
pub fn train_sda<B: Backend>(
    be: &B,
    data: &DataSet,
    run: &SdaRun,
    session: &mut Session<'_>,
) -> Result<SdaOutcome, TrainError> {
    runner::drive(be, session, |resume| SdaTrainer::start(be, data, run, resume))
}

/// The SdA's part of the training loop: the pretraining steps of each layer's dA, then the
/// fine-tuning steps with their validations.
struct SdaTrainer<'a, B: Backend> {
    data: &'a DataSet,
    run: SdaRun,
    n_batches: usize,
    train: DeviceSplit<B>,
    valid: DeviceSplit<B>,
    test: DeviceSplit<B>,
    sda: Sda<B>,
    /// The forward and fine-tuning workspace (its logs: the fine-tuning costs).
    ws: SdaWorkspace<B>,
    /// The dA workspace of the layer being pretrained (its logs: the pretraining costs).
    layer_ws: Option<(usize, Workspace<B>)>,
    eval: Evaluator<B>,
    p: SdaProgress,
    /// The best model so far and its test error.
    best: Option<(SdaParams, f64)>,
    /// The costs of the epoch under way's steps (those before a resume first).
    partial: Vec<f32>,
    /// Fine-tuning iterations run, the last one's index + 1.
    iterations: usize,
    /// Early stopping has ended fine-tuning.
    stopped: bool,
}

impl<'a, B: Backend> SdaTrainer<'a, B> {
    /// A fresh network, or the checkpoint's parameters, progress and best model.
    fn start(
        be: &B,
        data: &'a DataSet,
        run: &SdaRun,
        resume: Option<&Checkpoint>,
    ) -> Result<Self, TrainError> {
        let n_batches = data.train.len() / run.batch;
        let layers = run.model.hidden.len();
        let (sda, p, best, partial) = match resume {
            None => {
                let stage = if layers > 0 && run.pretrain_epochs > 0 {
                    Stage::Pretrain { layer: 0 }
                } else {
                    Stage::Finetune
                };
                let p = SdaProgress {
                    stage,
                    epochs_done: 0,
                    steps_in_epoch: 0,
                    rows: Vec::new(),
                    pretrain_seconds: 0.0,
                    finetune_seconds: 0.0,
                    stopping: EarlyStopping::new(n_batches),
                    best_test_error: None,
                    epoch_errors: (None, None),
                };
                (Sda::new(be, run.model.clone(), run.seed), p, None, Vec::new())
            }
            Some(ck) => {
                let p: SdaProgress = ck.json("progress")?;
                if let Stage::Pretrain { layer } = p.stage
                    && (layer >= layers || p.epochs_done >= run.pretrain_epochs)
                {
                    return Err(ck
                        .error(format!(
                            "metadata field progress: pretraining layer {layer} after {} epochs does not fit {layers} layers of {} epochs",
                            p.epochs_done, run.pretrain_epochs
                        ))
                        .into());
                }
                let partial = ck.tensor("log.partial_costs", &[p.steps_in_epoch])?.to_vec();
                // A finished run's best model is its main one; there is no `best.*` then.
                let best = match (p.stage, p.best_test_error) {
                    (Stage::Done, _) | (_, None) => None,
                    (_, Some(t)) => Some((SdaParams::load_from(&run.model, ck, "best.")?, t)),
                };
                (Sda::load_from(be, run.model.clone(), ck)?, p, best, partial)
            }
        };
        let ws = sda.workspace(be, run.batch, n_batches);
        let (valid, test) = (&data.valid, &data.test);
        let eval = Evaluator::new(be, &sda, valid.len().max(test.len()), run.eval_chunk);
        let iterations = if p.stage == Stage::Finetune { p.epochs_done * n_batches } else { 0 };
        Ok(SdaTrainer {
            data,
            run: run.clone(),
            n_batches,
            train: DeviceSplit::upload(be, &data.train),
            valid: DeviceSplit::upload(be, valid),
            test: DeviceSplit::upload(be, test),
            sda,
            ws,
            layer_ws: None,
            eval,
            p,
            best,
            partial,
            iterations,
            stopped: false,
        })
    }

    /// One pretraining step of layer k.
    fn pretrain_step(&mut self, be: &B, k: usize, i: usize) {
        if self.layer_ws.as_ref().is_none_or(|(layer, _)| *layer != k) {
            let dws = self.sda.layer_workspace(be, k, self.run.batch, self.n_batches);
            self.layer_ws = Some((k, dws));
        }
        let (_, dws) = self.layer_ws.as_mut().expect("made above");
        // Layer k's noise draws: streams k·2⁴⁰ + step (layer 0 draws as a lone dA).
        let global = (self.p.epochs_done * self.n_batches + i) as u64;
        let key = RngKey::new(self.run.seed, ((k as u64) << 40) | global);
        let step = Step { first: i * self.run.batch, key, lr: self.run.pretrain_lr, slot: i };
        self.sda.pretrain_step(be, k, &mut self.ws, dws, &self.train.images, step);
    }

    /// One fine-tuning step, then the validation (and on a new best, the test) if one is due;
    /// `Flow::Stop` when the patience has run out.
    fn finetune_step(&mut self, be: &B, i: usize) -> Flow {
        let step = Step {
            first: i * self.run.batch,
            key: RngKey::UNUSED,
            lr: self.run.finetune_lr,
            slot: i,
        };
        let (images, labels) = (&self.train.images, &self.train.labels);
        self.sda.finetune_step(be, &mut self.ws, images, labels, step, self.run.finetune);
        let iter = self.p.epochs_done * self.n_batches + i;
        self.iterations = iter + 1;
        if self.p.stopping.validation_due(iter) {
            let v = self.eval.error_pct(be, &self.sda, &self.valid);
            self.p.epoch_errors.0 = Some(v);
            if self.p.stopping.record(iter, v) {
                let t = self.eval.error_pct(be, &self.sda, &self.test);
                self.p.epoch_errors.1 = Some(t);
                self.best = Some((self.sda.params(be), t));
                self.p.best_test_error = Some(t);
            }
        }
        if self.p.stopping.should_stop(iter) { Flow::Stop } else { Flow::Continue }
    }

    /// Adds an epoch's (or part epoch's) seconds to its phase's time.
    fn add_seconds(&mut self, seconds: f64) {
        match self.p.stage {
            Stage::Pretrain { .. } => self.p.pretrain_seconds += seconds,
            _ => self.p.finetune_seconds += seconds,
        }
    }
}

impl<B: Backend> Trainer<B> for SdaTrainer<'_, B> {
    type Outcome = SdaOutcome;

    fn next_epoch(&self) -> Option<Epoch> {
        let number = self.p.epochs_done + 1;
        let (of, name, lr) = match self.p.stage {
            Stage::Pretrain { layer } => (
                self.run.pretrain_epochs,
                format!("pretraining epoch {number} of layer {layer}"),
                ("pretrain-lr", self.run.pretrain_lr),
            ),
            Stage::Finetune if number <= self.run.epochs && !self.stopped => (
                self.run.epochs,
                format!("fine-tuning epoch {number}"),
                ("finetune-lr", self.run.finetune_lr),
            ),
            Stage::Finetune | Stage::Done => return None,
        };
        let (steps, first_step) = (self.n_batches, self.p.steps_in_epoch);
        Some(Epoch { number, of, steps, first_step, name, lr })
    }

    fn finished(&self) -> String {
        match self.p.stage {
            Stage::Done => "the run is finished: its checkpoint holds the best model, there is nothing to resume".into(),
            _ => format!(
                "fine-tuning has run {} of {} epochs; give --epochs above {} to train on",
                self.p.epochs_done, self.run.epochs, self.p.epochs_done
            ),
        }
    }

    fn step(&mut self, be: &B, i: usize) -> Flow {
        match self.p.stage {
            Stage::Pretrain { layer } => {
                self.pretrain_step(be, layer, i);
                Flow::Continue
            }
            _ => self.finetune_step(be, i),
        }
    }

    fn collect(&mut self, be: &B, from: usize, to: usize) -> &[f32] {
        let costs = match (&self.layer_ws, self.p.stage) {
            (Some((_, dws)), Stage::Pretrain { .. }) => dws.costs(),
            _ => self.ws.costs(),
        };
        self.partial.extend_from_slice(&be.download(costs)[from..to]);
        &self.partial
    }

    fn pause(&mut self, done: usize, seconds: f64) {
        self.add_seconds(seconds);
        self.p.steps_in_epoch = done;
    }

    fn end_epoch(&mut self, seconds: f64, stopped: bool) -> String {
        self.add_seconds(seconds);
        let epoch = self.p.epochs_done + 1;
        let cost = mean(&self.partial);
        self.partial.clear();
        match self.p.stage {
            Stage::Pretrain { layer } => {
                self.p.rows.push(SdaRow {
                    phase: Phase::Pretrain,
                    layer: Some(layer),
                    epoch,
                    cost,
                    valid_error: None,
                    test_error: None,
                    seconds,
                });
                (self.p.epochs_done, self.p.steps_in_epoch) = (epoch, 0);
                if epoch == self.run.pretrain_epochs {
                    let layers = self.run.model.hidden.len();
                    self.p.stage = if layer + 1 < layers {
                        Stage::Pretrain { layer: layer + 1 }
                    } else {
                        Stage::Finetune
                    };
                    self.p.epochs_done = 0;
                }
                format!(
                    "pretrain layer {layer} epoch {epoch:>3}/{}  cost {cost:.4}  {seconds:.2} s",
                    self.run.pretrain_epochs
                )
            }
            _ => {
                let (valid_error, test_error) = self.p.epoch_errors;
                let pct = |v: Option<f64>| v.map(|v| format!("{v:.2} %")).unwrap_or("-".into());
                let mark = if test_error.is_some() { " (new best)" } else { "" };
                let line = format!(
                    "finetune epoch {epoch:>4}  cost {cost:.4e}  valid error {}  test error {}{mark}  {seconds:.2} s",
                    pct(valid_error),
                    pct(test_error)
                );
                let phase = Phase::Finetune;
                let row =
                    SdaRow { phase, layer: None, epoch, cost, valid_error, test_error, seconds };
                self.p.rows.push(row);
                (self.p.epochs_done, self.p.steps_in_epoch) = (epoch, 0);
                self.p.epoch_errors = (None, None);
                self.stopped = stopped;
                line
            }
        }
    }

    fn checkpoint(&self, be: &B, session: &Session<'_>) -> Checkpoint {
        let mut ck = session.checkpoint(&self.run, &self.p);
        self.sda.save_to(be, &mut ck);
        if let Some((params, _)) = &self.best {
            params.save_to(&self.run.model, &mut ck, "best.");
        }
        ck.put("log.partial_costs", &[self.partial.len()], self.partial.clone());
        ck
    }

    fn write_metrics(&self, session: &mut Session<'_>) -> Result<(), TrainError> {
        log::write_sda_metrics(&session.out.join("metrics.csv"), &self.p.rows)?;
        session.record.phases = self.p.rows.clone();
        // Every pretraining epoch finished, and the fine-tuning iterations.
        let pretraining = self.p.rows.iter().filter(|r| r.phase == Phase::Pretrain).count();
        session.record.steps = (pretraining * self.n_batches + self.iterations) as u64;
        Ok(())
    }

    fn finish(mut self, be: &B, session: &mut Session<'_>) -> Result<SdaOutcome, TrainError> {
        let n_batches = self.n_batches;
        // The best model (the last one if validation never improved, e.g. an empty valid split).
        let (best, test_error) = match self.best.take() {
            Some(best) => best,
            None => (self.sda.params(be), self.eval.error_pct(be, &self.sda, &self.test)),
        };
        let p = &mut self.p;
        let best_iter = p.stopping.best_iter().unwrap_or(self.iterations.saturating_sub(1));
        let summary = SdaSummary {
            best_valid_error: p.stopping.best(),
            test_error,
            best_iter,
            best_epoch: best_iter / n_batches.max(1) + 1,
            epochs: p.epochs_done,
            iterations: self.iterations,
            stopped_early: self.stopped,
            pretrain_seconds: p.pretrain_seconds,
            finetune_seconds: p.finetune_seconds,
        };
        // The final checkpoint: the best model as `layer{k}.*` and `top.*`.
        p.stage = Stage::Done;
        p.best_test_error = Some(test_error);
        let mut ck = session.checkpoint(&self.run, p);
        best.save_to(&self.run.model, &mut ck, "");
        for (k, layer) in self.sda.layers.iter().enumerate() {
            ck.put(format!("layer{k}.b_prime"), &[layer.config.n_vis], be.download(&layer.b_prime));
        }
        ck.put("log.partial_costs", &[0], Vec::new());
        let lr = ("finetune-lr", self.run.finetune_lr);
        session.save_checkpoint(&ck, || "the run".into(), lr)?;
        let (w0, _) = &best.layers[0];
        let train = &self.data.train.images;
        let shape = (self.run.model.n_in, self.run.model.hidden[0]);
        pictures::write_filters(session.out, w0, shape, (train.rows, train.cols))?;
        let curves = SdaCurves::new(&self.run, &self.p.rows, summary.best_epoch);
        pictures::write_figure(session.out, &curves.figure())?;
        session.record.summary = Some(summary.clone());
        Ok(SdaOutcome { rows: self.p.rows, summary, best })
    }

    fn summary(outcome: &SdaOutcome, session: &Session<'_>) -> Vec<String> {
        let s = &outcome.summary;
        let stop = if s.stopped_early { "early stopping" } else { "epoch limit" };
        // The tutorial's closing lines (SdA.py), in our words.
        vec![
            format!(
                "Optimization complete with best validation score of {:.2} %, on iteration {} (epoch {}), with test performance {:.2} %",
                s.best_valid_error,
                s.best_iter + 1,
                s.best_epoch,
                s.test_error
            ),
            format!(
                "fine-tuning ran {} epochs ({stop}); pretraining took {:.1} min, fine-tuning {:.1} min",
                s.epochs,
                s.pretrain_seconds / 60.0,
                s.finetune_seconds / 60.0
            ),
            format!(
                "done: {:.1} s in all; wrote filters.png, curves.png, metrics.csv, checkpoint.safetensors (the best model), run.json to {}",
                session.record.total_seconds,
                session.out.display()
            ),
        ]
    }
}
