//! The denoising and contractive autoencoders' training (tutorial dA.py, cA.py): plain SGD over
//! minibatches in order, epoch after epoch.

use serde::{Deserialize, Serialize};

use super::log::{self, EpochRow};
use super::pictures::{self, write_reconstructions};
use super::runner::{self, Epoch, Flow, Trainer};
use super::{Session, TrainError, mean};
use crate::backend::Backend;
use crate::checkpoint::Checkpoint;
use crate::data::DataSet;
use crate::model::autoencoder::{Workspace, flops_per_step};
use crate::model::{Autoencoder, AutoencoderConfig, Loss, Step};
use crate::rng::RngKey;
use crate::viz::{Axis, Curves, MOVING_AVERAGE_WINDOW, Series};

/// Settings of a denoising-autoencoder run (validated by `config`).
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
    runner::drive(be, session, |resume| DaTrainer::start(be, data, run, resume))
}

/// The dA/cA's part of the training loop.
struct DaTrainer<'a, B: Backend> {
    data: &'a DataSet,
    /// The settings as run and checkpointed: with the measured standardisation, if any.
    run: DaRun,
    images: B::Images,
    n_batches: usize,
    ae: Autoencoder<B>,
    ws: Workspace<B>,
    progress: DaProgress,
    /// The cost of every step taken.
    step_costs: Vec<f32>,
    /// A contractive model's batch Jacobian norms² of the epoch under way.
    epoch_jac: Vec<f32>,
}

impl<'a, B: Backend> DaTrainer<'a, B> {
    /// A fresh model, or the checkpoint's parameters, rows and logs.
    fn start(
        be: &B,
        data: &'a DataSet,
        run: &DaRun,
        resume: Option<&Checkpoint>,
    ) -> Result<Self, TrainError> {
        let images = &data.train.images;
        let n_batches = images.n / run.batch;
        let mut run = run.clone();
        if run.standardise {
            run.model.standardise = Some(images.pixel_stats());
        }
        let (ae, progress, step_costs, epoch_jac) = match resume {
            None => (
                Autoencoder::new(be, run.model.clone(), run.seed),
                DaProgress { epochs_done: 0, steps_in_epoch: 0, rows: Vec::new() },
                Vec::new(),
                Vec::new(),
            ),
            Some(ck) => {
                let p: DaProgress = ck.json("progress")?;
                let taken = p.epochs_done * n_batches + p.steps_in_epoch;
                let costs = ck.tensor("log.step_costs", &[taken])?.to_vec();
                let jac = if run.model.contraction > 0.0 && p.steps_in_epoch > 0 {
                    ck.tensor("log.jacobian_sq", &[p.steps_in_epoch])?.to_vec()
                } else {
                    Vec::new()
                };
                (Autoencoder::load_from(be, run.model.clone(), ck, "layer0")?, p, costs, jac)
            }
        };
        let ws = ae.workspace_with_slots(be, run.batch, n_batches);
        let images = be.upload_images(&images.pixels, images.dim());
        Ok(DaTrainer { data, run, images, n_batches, ae, ws, progress, step_costs, epoch_jac })
    }

    fn contractive(&self) -> bool {
        self.run.model.contraction > 0.0
    }
}

impl<B: Backend> Trainer<B> for DaTrainer<'_, B> {
    type Outcome = DaOutcome;

    fn next_epoch(&self) -> Option<Epoch> {
        let number = self.progress.epochs_done + 1;
        (number <= self.run.epochs).then(|| Epoch {
            number,
            of: self.run.epochs,
            steps: self.n_batches,
            first_step: self.progress.steps_in_epoch,
            name: format!("epoch {number}"),
            lr: ("lr", self.run.lr),
        })
    }

    fn finished(&self) -> String {
        let (done, epochs) = (self.progress.epochs_done, self.run.epochs);
        format!(
            "the run is finished ({done} of {epochs} epochs); give --epochs above {done} to train on"
        )
    }

    fn step(&mut self, be: &B, i: usize) -> Flow {
        let global = self.progress.epochs_done * self.n_batches + i;
        let key = RngKey::new(self.run.seed, global as u64);
        let step = Step { first: i * self.run.batch, key, lr: self.run.lr, slot: i };
        self.ae.train_step(be, &mut self.ws, &self.images, step);
        Flow::Continue
    }

    fn collect(&mut self, be: &B, from: usize, to: usize) -> &[f32] {
        self.step_costs.extend_from_slice(&be.download(self.ws.costs())[from..to]);
        if self.contractive() {
            self.epoch_jac.extend_from_slice(&be.download(self.ws.jacobian_sq())[from..to]);
        }
        &self.step_costs[self.progress.epochs_done * self.n_batches..]
    }

    fn pause(&mut self, done: usize, _seconds: f64) {
        self.progress.steps_in_epoch = done;
    }

    fn end_epoch(&mut self, seconds: f64, _stopped: bool) -> String {
        let epoch = self.progress.epochs_done + 1;
        let cost = mean(&self.step_costs[(epoch - 1) * self.n_batches..]);
        let jacobian_norm = self.contractive().then(|| {
            let norms: Vec<f32> = self.epoch_jac.iter().map(|&s| s.sqrt()).collect();
            self.epoch_jac.clear();
            mean(&norms)
        });
        let row = EpochRow { epoch, cost, jacobian_norm, seconds };
        let jacobian = jacobian_norm.map(|j| format!("  jacobian norm {j:.4}")).unwrap_or_default();
        let line = format!(
            "epoch {epoch:>3}/{}  cost {cost:.4}{jacobian}  {seconds:.2} s",
            self.run.epochs
        );
        self.progress.rows.push(row);
        (self.progress.epochs_done, self.progress.steps_in_epoch) = (epoch, 0);
        line
    }

    fn checkpoint(&self, be: &B, session: &Session<'_>) -> Checkpoint {
        let mut ck = session.checkpoint(&self.run, &self.progress);
        self.ae.save_to(be, &mut ck, "layer0");
        ck.put("log.step_costs", &[self.step_costs.len()], self.step_costs.clone());
        if !self.epoch_jac.is_empty() {
            ck.put("log.jacobian_sq", &[self.epoch_jac.len()], self.epoch_jac.clone());
        }
        ck
    }

    fn write_metrics(&self, session: &mut Session<'_>) -> Result<(), TrainError> {
        log::write_metrics(&session.out.join("metrics.csv"), &self.progress.rows)?;
        session.record.epochs = self.progress.rows.clone();
        session.record.steps = (self.progress.epochs_done * self.n_batches) as u64;
        Ok(())
    }

    fn finish(self, be: &B, session: &mut Session<'_>) -> Result<DaOutcome, TrainError> {
        let (run, out, rows) = (&self.run, session.out, &self.progress.rows);
        let (v, h) = (run.model.n_vis, run.model.n_hid);
        let train = &self.data.train.images;
        let (w, _, _) = self.ae.download(be);
        pictures::write_filters(out, &w, (v, h), (train.rows, train.cols))?;
        let [m, s] = run.model.standardise.unwrap_or([0.0, 1.0]);
        write_reconstructions(be, &self.ae, self.data, run.seed, out, |x| x * s + m)?;
        let contractive = self.contractive();
        let title = if contractive {
            format!(
                "cA {v}-{h}, contraction {}, lr {}, batch {}",
                run.model.contraction, run.lr, run.batch
            )
        } else {
            format!("dA {v}-{h}, noise {}, lr {}, batch {}", run.model.noise, run.lr, run.batch)
        };
        // Step i of epoch e (1-based e, 0-based i) sits at x = e − 1 + (i + 1)/n_batches, so each
        // epoch's mean (at x = e) ends its steps.
        let epoch_costs: Vec<f32> = rows.iter().map(|r| r.cost).collect();
        let dx = 1.0 / self.n_batches.max(1) as f64;
        let per_step = Series::new("cost per minibatch", &self.step_costs)
            .with_x(dx, dx)
            .with_moving_average(MOVING_AVERAGE_WINDOW);
        let per_epoch = Series::new("epoch mean", &epoch_costs);
        let loss_name = match run.model.loss {
            Loss::CrossEntropy => "reconstruction cross-entropy per example",
            Loss::SquaredError => "squared error ‖z − x‖² per example",
        };
        let jac: Vec<f32> = rows.iter().filter_map(|r| r.jacobian_norm).collect();
        let mut curves =
            Curves::new(&title, "epoch", Axis::new(loss_name, vec![per_step, per_epoch]));
        if !jac.is_empty() {
            let series = Series::new("Jacobian norm (epoch mean)", &jac);
            curves = curves.with_right(Axis::new("Jacobian Frobenius norm", vec![series]));
        }
        pictures::write_curves(out, &curves)?;
        let train_seconds: f64 = rows.iter().map(|r| r.seconds).sum();
        let steps = (rows.len() * self.n_batches) as f64;
        session.record.gflops =
            Some(flops_per_step(&run.model, run.batch) * steps / train_seconds / 1e9);
        Ok(DaOutcome { epochs: self.progress.rows, w })
    }

    fn summary(outcome: &DaOutcome, session: &Session<'_>) -> Vec<String> {
        let last = outcome.epochs.last().map_or(f32::NAN, |r| r.cost);
        vec![format!(
            "done: final cost {last:.4}, {:.1} s in all; wrote filters.png, reconstructions.png, curves.png, metrics.csv, checkpoint.safetensors, run.json to {}",
            session.record.total_seconds,
            session.out.display()
        )]
    }
}
