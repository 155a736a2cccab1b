//! Training a stacked denoising autoencoder as SdA.py does: greedy layer-wise pretraining of each
//! dA on the clean output of the layers below, then fine-tuning of the classifier by minibatch
//! SGD on the NLL with the tutorial's early stopping (`EarlyStopping`), the test error measured
//! whenever the validation error reaches a new best. Minibatches are taken in order.

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::log::{self, Phase, RunRecord, SdaRow, SdaSummary};
use super::{EarlyStopping, Session, TrainError, check_steps_in_epoch, mean};
use crate::backend::Backend;
use crate::checkpoint::Checkpoint;
use crate::data::{DataSet, Split};
use crate::model::sda::{FinetuneScope, Sda, SdaConfig, SdaParams, SdaWorkspace};
use crate::rng::RngKey;
use crate::viz;

/// Settings of an SdA run (validated by the CLI layer).
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

/// A split resident on the backend: images [n, dim] and labels [n, 1].
struct DeviceSplit<B: Backend> {
    images: B::Images,
    labels: B::Images,
    n: usize,
}

impl<B: Backend> DeviceSplit<B> {
    fn upload(be: &B, split: &Split) -> Self {
        DeviceSplit {
            images: be.upload_images(&split.images.pixels, split.images.dim()),
            labels: be.upload_images(&split.labels, 1),
            n: split.len(),
        }
    }
}

/// The evaluation workspace and its per-chunk outputs, allocated once.
struct Evaluator<B: Backend> {
    ws: SdaWorkspace<B>,
    costs: B::Tensor,
    errors: B::Tensor,
}

impl<B: Backend> Evaluator<B> {
    /// For splits of up to `n` examples, `chunk` at a time.
    fn new(be: &B, sda: &Sda<B>, n: usize, chunk: usize) -> Self {
        let rows = chunk.min(n).max(1);
        let chunks = n.div_ceil(rows).max(1);
        Evaluator {
            ws: sda.eval_workspace(be, rows),
            costs: be.zeros(chunks),
            errors: be.zeros(chunks),
        }
    }

    /// The error of `sda` on `split`, in %: the error counts of every chunk accumulate on the
    /// device and are read back once.
    fn error_pct(&mut self, be: &B, sda: &Sda<B>, split: &DeviceSplit<B>) -> f64 {
        let chunks = sda.evaluate(
            be,
            &mut self.ws,
            &split.images,
            &split.labels,
            split.n,
            &mut self.costs,
            &mut self.errors,
        );
        let counts = be.download(&self.errors);
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
/// `filters.png` (the best model's layer-0 filters) at the end; the final checkpoint holds the
/// best model. n_batches = ⌊n_train / batch⌋ (a final partial batch is skipped, as in SdA.py).
/// Pretraining step s of layer k corrupts with `RngKey::new(seed, k·2⁴⁰ + s)`, so a resumed
/// run takes the same steps as one that never stopped.
pub fn train_sda<B: Backend>(
    be: &B,
    data: &DataSet,
    run: &SdaRun,
    session: &mut Session<'_>,
) -> Result<SdaOutcome, TrainError> {
    let started = Instant::now();
    let out = session.out;
    let n_batches = data.train.len() / run.batch;
    let train = DeviceSplit::upload(be, &data.train);
    let valid = DeviceSplit::upload(be, &data.valid);
    let test = DeviceSplit::upload(be, &data.test);
    let layers = run.model.hidden.len();
    let first_stage = if layers > 0 && run.pretrain_epochs > 0 {
        Stage::Pretrain { layer: 0 }
    } else {
        Stage::Finetune
    };
    let (mut sda, mut p, mut best, mut partial) = match &session.resume {
        None => (
            Sda::new(be, run.model.clone(), run.seed),
            SdaProgress {
                stage: first_stage,
                epochs_done: 0,
                steps_in_epoch: 0,
                rows: Vec::new(),
                pretrain_seconds: 0.0,
                finetune_seconds: 0.0,
                stopping: EarlyStopping::new(n_batches),
                best_test_error: None,
                epoch_errors: (None, None),
            },
            None,
            Vec::new(),
        ),
        Some(ck) => {
            let p: SdaProgress = ck.json("progress")?;
            let done = |what: String| Err(ck.error(what).into());
            match p.stage {
                Stage::Done => {
                    return done("the run is finished: its checkpoint holds the best model, there is nothing to resume".into());
                }
                Stage::Pretrain { layer }
                    if layer >= layers || p.epochs_done >= run.pretrain_epochs =>
                {
                    return done(format!(
                        "metadata field progress: pretraining layer {layer} after {} epochs does not fit {layers} layers of {} epochs",
                        p.epochs_done, run.pretrain_epochs
                    ));
                }
                Stage::Finetune if p.epochs_done >= run.epochs => {
                    return done(format!(
                        "fine-tuning has run {} of {} epochs; give --epochs above {} to train on",
                        p.epochs_done, run.epochs, p.epochs_done
                    ));
                }
                _ => {}
            }
            check_steps_in_epoch(ck, p.steps_in_epoch, n_batches)?;
            let partial = ck.tensor("log.partial_costs", &[p.steps_in_epoch])?.to_vec();
            let best = match p.best_test_error {
                Some(t) => Some((SdaParams::load_from(&run.model, ck, "best.")?, t)),
                None => None,
            };
            (Sda::load_from(be, run.model.clone(), ck)?, p, best, partial)
        }
    };
    let mut ws = sda.workspace(be, run.batch);
    let mut costs = be.zeros(n_batches);
    session.record.setup_seconds = started.elapsed().as_secs_f64();
    let model_name = session.record.model.clone();
    let checkpoint =
        |sda: &Sda<B>, p: &SdaProgress, best: &Option<(SdaParams, f64)>, partial: &[f32]| {
            let mut ck = Checkpoint::new(&model_name, run, &session.source, p);
            sda.save_to(be, &mut ck);
            if let Some((params, _)) = best {
                params.save_to(&run.model, &mut ck, "best.");
            }
            ck.put("log.partial_costs", &[partial.len()], partial.to_vec());
            ck
        };

    // Greedy layer-wise pretraining.
    while let Stage::Pretrain { layer: k } = p.stage {
        let mut dws = sda.layer_workspace(be, k, run.batch);
        for epoch in p.epochs_done + 1..=run.pretrain_epochs {
            let t0 = Instant::now();
            let first_step = p.steps_in_epoch;
            session.progress.start_epoch(epoch, run.pretrain_epochs, n_batches);
            let mut interrupted = false;
            let mut done = n_batches;
            for i in first_step..n_batches {
                // Layer k's noise draws: streams k·2⁴⁰ + step (layer 0 draws as a lone dA).
                let step = ((epoch - 1) * n_batches + i) as u64;
                let key = RngKey::new(run.seed, ((k as u64) << 40) | step);
                let first = i * run.batch;
                sda.pretrain_step(
                    be,
                    k,
                    &mut ws,
                    &mut dws,
                    &train.images,
                    first,
                    key,
                    run.pretrain_lr,
                    &mut costs,
                    i,
                );
                session.progress.step(i + 1);
                if session.progress.interrupted() && i + 1 < n_batches {
                    (interrupted, done) = (true, i + 1);
                    break;
                }
            }
            partial.extend_from_slice(&be.download(&costs)[first_step..done]);
            let seconds = t0.elapsed().as_secs_f64();
            p.pretrain_seconds += seconds;
            let lr = ("pretrain-lr", run.pretrain_lr);
            session.check_finite(&partial, epoch, lr)?;
            if interrupted {
                p.steps_in_epoch = done;
                let position =
                    format!("step {done} of {n_batches} in pretraining epoch {epoch} of layer {k}");
                let ck = checkpoint(&sda, &p, &best, &partial);
                return Err(session.save_and_stop(&ck, position, lr));
            }
            let cost = mean(&partial);
            partial.clear();
            session.progress.end_epoch_line(&format!(
                "pretrain layer {k} epoch {epoch:>3}/{}  cost {cost:.4}  {seconds:.2} s",
                run.pretrain_epochs
            ));
            p.rows.push(SdaRow {
                phase: Phase::Pretrain,
                layer: Some(k),
                epoch,
                cost,
                valid_error: None,
                test_error: None,
                seconds,
            });
            (p.epochs_done, p.steps_in_epoch) = (epoch, 0);
            if epoch == run.pretrain_epochs {
                p.stage =
                    if k + 1 < layers { Stage::Pretrain { layer: k + 1 } } else { Stage::Finetune };
                p.epochs_done = 0;
            }
            let position = format!("pretraining epoch {epoch} of layer {k}");
            let ck = checkpoint(&sda, &p, &best, &partial);
            session.save_checkpoint(&ck, || position.clone(), lr)?;
            save(out, &p.rows, session.record)?;
            session.stop_if_interrupted(position, true)?;
        }
    }

    // Fine-tuning with the tutorial's early stopping.
    let mut eval = Evaluator::new(be, &sda, valid.n.max(test.n), run.eval_chunk);
    let mut errors = be.zeros(n_batches);
    let (mut epoch, mut iterations, mut done) = (p.epochs_done, p.epochs_done * n_batches, false);
    while p.stage == Stage::Finetune && epoch < run.epochs && !done {
        epoch += 1;
        let t0 = Instant::now();
        let first_step = p.steps_in_epoch;
        session.progress.start_epoch(epoch, run.epochs, n_batches);
        let (mut valid_error, mut test_error) = p.epoch_errors;
        let (mut steps, mut interrupted) = (first_step, false);
        for i in first_step..n_batches {
            let first = i * run.batch;
            let (lr, scope) = (run.finetune_lr, run.finetune);
            sda.finetune_step(
                be,
                &mut ws,
                &train.images,
                &train.labels,
                first,
                lr,
                scope,
                &mut costs,
                &mut errors,
                i,
            );
            steps = i + 1;
            session.progress.step(steps);
            let iter = (epoch - 1) * n_batches + i;
            iterations = iter + 1;
            if p.stopping.validation_due(iter) {
                let v = eval.error_pct(be, &sda, &valid);
                valid_error = Some(v);
                if p.stopping.record(iter, v) {
                    let t = eval.error_pct(be, &sda, &test);
                    test_error = Some(t);
                    best = Some((sda.params(be), t));
                }
            }
            if p.stopping.should_stop(iter) {
                done = true;
                break;
            }
            if session.progress.interrupted() && steps < n_batches {
                interrupted = true;
                break;
            }
        }
        partial.extend_from_slice(&be.download(&costs)[first_step..steps]);
        let cost = mean(&partial);
        let seconds = t0.elapsed().as_secs_f64();
        p.finetune_seconds += seconds;
        session.check_finite(&partial, epoch, ("finetune-lr", run.finetune_lr))?;
        p.best_test_error = best.as_ref().map(|(_, t)| *t);
        if interrupted {
            p.steps_in_epoch = steps;
            p.epoch_errors = (valid_error, test_error);
            let position = format!("step {steps} of {n_batches} in fine-tuning epoch {epoch}");
            let ck = checkpoint(&sda, &p, &best, &partial);
            return Err(session.save_and_stop(&ck, position, ("finetune-lr", run.finetune_lr)));
        }
        partial.clear();
        let pct = |v: Option<f64>| v.map(|v| format!("{v:.2} %")).unwrap_or("-".into());
        let mark = if test_error.is_some() { " (new best)" } else { "" };
        session.progress.end_epoch_line(&format!(
            "finetune epoch {epoch:>4}  cost {cost:.4e}  valid error {}  test error {}{mark}  {seconds:.2} s",
            pct(valid_error),
            pct(test_error)
        ));
        let phase = Phase::Finetune;
        p.rows.push(SdaRow { phase, layer: None, epoch, cost, valid_error, test_error, seconds });
        (p.epochs_done, p.steps_in_epoch, p.epoch_errors) = (epoch, 0, (None, None));
        let position = format!("fine-tuning epoch {epoch}");
        let ck = checkpoint(&sda, &p, &best, &partial);
        session.save_checkpoint(&ck, || position.clone(), ("finetune-lr", run.finetune_lr))?;
        save(out, &p.rows, session.record)?;
        session.stop_if_interrupted(position, epoch < run.epochs && !done)?;
    }

    // The best model (the last one if validation never improved, e.g. an empty valid split).
    let (best, test_error) =
        best.unwrap_or_else(|| (sda.params(be), eval.error_pct(be, &sda, &test)));
    let best_iter = p.stopping.best_iter().unwrap_or(iterations.saturating_sub(1));
    let summary = SdaSummary {
        best_valid_error: p.stopping.best(),
        test_error,
        best_iter,
        best_epoch: best_iter / n_batches.max(1) + 1,
        epochs: epoch,
        iterations,
        stopped_early: done,
        pretrain_seconds: p.pretrain_seconds,
        finetune_seconds: p.finetune_seconds,
    };
    // The final checkpoint: the best model as `layer{k}.*` and `top.*`.
    p.stage = Stage::Done;
    p.best_test_error = Some(test_error);
    let mut ck = Checkpoint::new(&session.record.model, run, &session.source, &p);
    best.save_to(&run.model, &mut ck, "");
    for (k, layer) in sda.layers.iter().enumerate() {
        ck.put(format!("layer{k}.b_prime"), &[layer.config.n_vis], be.download(&layer.b_prime));
    }
    ck.put("log.partial_costs", &[0], Vec::new());
    session.save_checkpoint(&ck, || "the run".into(), ("finetune-lr", run.finetune_lr))?;
    let (w0, _) = &best.layers[0];
    let (v, h) = (run.model.n_in, run.model.hidden[0]);
    let img_shape = (data.train.images.rows, data.train.images.cols);
    let path = out.join("filters.png");
    viz::filters_image(w0, v, h, img_shape, (10, 10))
        .save(&path)
        .map_err(|source| TrainError::Write { path, source })?;
    session.record.summary = Some(summary.clone());
    session.record.total_seconds = started.elapsed().as_secs_f64();
    save(out, &p.rows, session.record)?;
    Ok(SdaOutcome { rows: p.rows, summary, best })
}

/// Rewrites metrics.csv and run.json with the rows so far.
fn save(out: &Path, rows: &[SdaRow], record: &mut RunRecord) -> Result<(), TrainError> {
    log::write_sda_metrics(&out.join("metrics.csv"), rows)?;
    record.phases = rows.to_vec();
    record.save(&out.join("run.json"))
}
