//! Training a stacked denoising autoencoder as SdA.py does: greedy layer-wise pretraining of each
//! dA on the clean output of the layers below, then fine-tuning of the classifier by minibatch
//! SGD on the NLL with the tutorial's early stopping (`EarlyStopping`), the test error measured
//! whenever the validation error reaches a new best. Minibatches are taken in order.

use std::path::Path;
use std::time::Instant;

use super::log::{self, Phase, Progress, RunRecord, SdaRow, SdaSummary};
use super::{EarlyStopping, TrainError, mean};
use crate::backend::Backend;
use crate::data::{DataSet, Split};
use crate::model::sda::{FinetuneScope, Sda, SdaConfig, SdaParams, SdaWorkspace};
use crate::rng::RngKey;
use crate::viz;

/// Settings of an SdA run (validated by the CLI layer).
#[derive(Clone, Debug, serde::Serialize)]
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

/// Trains an SdA on `data` (pretraining on `data.train`'s images, fine-tuning on its labels,
/// early stopping on `data.valid`, test error on `data.test`), writing `metrics.csv` and
/// `run.json` into `out` after every epoch and `filters.png` (the best model's layer-0 filters)
/// at the end. n_batches = ⌊n_train / batch⌋ (a final partial batch is skipped, as in SdA.py).
pub fn train_sda<B: Backend>(
    be: &B,
    data: &DataSet,
    run: &SdaRun,
    out: &Path,
    record: &mut RunRecord,
    progress: &dyn Progress,
) -> Result<SdaOutcome, TrainError> {
    let started = Instant::now();
    let n_batches = data.train.len() / run.batch;
    let train = DeviceSplit::upload(be, &data.train);
    let valid = DeviceSplit::upload(be, &data.valid);
    let test = DeviceSplit::upload(be, &data.test);
    let mut sda = Sda::new(be, run.model.clone(), run.seed);
    let mut ws = sda.workspace(be, run.batch);
    let mut costs = be.zeros(n_batches);
    let mut rows: Vec<SdaRow> = Vec::new();
    record.setup_seconds = started.elapsed().as_secs_f64();
    let layers = run.model.hidden.len();

    // Greedy layer-wise pretraining.
    let pretrain_start = Instant::now();
    for k in 0..layers {
        let mut dws = sda.layer_workspace(be, k, run.batch);
        let mut step: u64 = 0;
        for epoch in 1..=run.pretrain_epochs {
            let t0 = Instant::now();
            progress.start_epoch(epoch, run.pretrain_epochs, n_batches);
            for i in 0..n_batches {
                // Layer k's noise draws: streams k·2⁴⁰ + step (layer 0 draws as a lone dA).
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
                step += 1;
                progress.step(i + 1);
            }
            let per_step = be.download(&costs);
            let cost = mean(&per_step);
            let seconds = t0.elapsed().as_secs_f64();
            progress.end_epoch_line(&format!(
                "pretrain layer {k} epoch {epoch:>3}/{}  cost {cost:.4}  {seconds:.2} s",
                run.pretrain_epochs
            ));
            if !cost.is_finite() {
                let bad = per_step.iter().position(|c| !c.is_finite()).unwrap_or(0);
                let lr = run.pretrain_lr;
                return Err(TrainError::Diverged {
                    flag: "pretrain-lr",
                    epoch,
                    step: bad + 1,
                    cost,
                    lr,
                });
            }
            rows.push(SdaRow {
                phase: Phase::Pretrain,
                layer: Some(k),
                epoch,
                cost,
                valid_error: None,
                test_error: None,
                seconds,
            });
            save(out, &rows, record)?;
        }
    }
    let pretrain_seconds = pretrain_start.elapsed().as_secs_f64();

    // Fine-tuning with the tutorial's early stopping.
    let finetune_start = Instant::now();
    let mut stopping = EarlyStopping::new(n_batches);
    let mut eval = Evaluator::new(be, &sda, valid.n.max(test.n), run.eval_chunk);
    let mut errors = be.zeros(n_batches);
    let mut best: Option<(SdaParams, f64)> = None;
    let (mut epoch, mut iterations, mut done) = (0, 0, false);
    while epoch < run.epochs && !done {
        epoch += 1;
        let t0 = Instant::now();
        progress.start_epoch(epoch, run.epochs, n_batches);
        let (mut valid_error, mut test_error, mut steps) = (None, None, 0);
        for i in 0..n_batches {
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
            progress.step(steps);
            let iter = (epoch - 1) * n_batches + i;
            iterations = iter + 1;
            if stopping.validation_due(iter) {
                let v = eval.error_pct(be, &sda, &valid);
                valid_error = Some(v);
                if stopping.record(iter, v) {
                    let t = eval.error_pct(be, &sda, &test);
                    test_error = Some(t);
                    best = Some((sda.params(be), t));
                }
            }
            if stopping.should_stop(iter) {
                done = true;
                break;
            }
        }
        let per_step = be.download(&costs);
        let cost = mean(&per_step[..steps]);
        let seconds = t0.elapsed().as_secs_f64();
        let pct = |v: Option<f64>| v.map(|v| format!("{v:.2} %")).unwrap_or("-".into());
        let mark = if test_error.is_some() { " (new best)" } else { "" };
        progress.end_epoch_line(&format!(
            "finetune epoch {epoch:>4}  cost {cost:.4}  valid error {}  test error {}{mark}  {seconds:.2} s",
            pct(valid_error),
            pct(test_error)
        ));
        if !cost.is_finite() {
            let bad = per_step.iter().position(|c| !c.is_finite()).unwrap_or(0);
            let lr = run.finetune_lr;
            return Err(TrainError::Diverged {
                flag: "finetune-lr",
                epoch,
                step: bad + 1,
                cost,
                lr,
            });
        }
        let phase = Phase::Finetune;
        rows.push(SdaRow { phase, layer: None, epoch, cost, valid_error, test_error, seconds });
        save(out, &rows, record)?;
    }
    let finetune_seconds = finetune_start.elapsed().as_secs_f64();

    // The best model (the last one if validation never improved, e.g. an empty valid split).
    let (best, test_error) =
        best.unwrap_or_else(|| (sda.params(be), eval.error_pct(be, &sda, &test)));
    let best_iter = stopping.best_iter().unwrap_or(iterations.saturating_sub(1));
    let summary = SdaSummary {
        best_valid_error: stopping.best(),
        test_error,
        best_iter,
        best_epoch: best_iter / n_batches + 1,
        epochs: epoch,
        iterations,
        stopped_early: done,
        pretrain_seconds,
        finetune_seconds,
    };
    let (w0, _) = &best.layers[0];
    let (v, h) = (run.model.n_in, run.model.hidden[0]);
    let img_shape = (data.train.images.rows, data.train.images.cols);
    let path = out.join("filters.png");
    viz::filters_image(w0, v, h, img_shape, (10, 10))
        .save(&path)
        .map_err(|source| TrainError::Write { path, source })?;
    record.summary = Some(summary.clone());
    record.total_seconds = started.elapsed().as_secs_f64();
    save(out, &rows, record)?;
    Ok(SdaOutcome { rows, summary, best })
}

/// Rewrites metrics.csv and run.json with the rows so far.
fn save(out: &Path, rows: &[SdaRow], record: &mut RunRecord) -> Result<(), TrainError> {
    log::write_sda_metrics(&out.join("metrics.csv"), rows)?;
    record.phases = rows.to_vec();
    record.save(&out.join("run.json"))
}
