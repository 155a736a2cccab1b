//! The ReLU denoising autoencoder's training (the exercise; DESIGN.md): SGD on examples drawn
//! at random from the training split, inputs standardised over the split, error and sparsity
//! tracked at every step. Its "epochs" for the runner are blocks of `LOG_EVERY` steps.

use serde::{Deserialize, Serialize};

use super::log::write_csv;
use super::pictures::{self, write_reconstructions};
use super::runner::{self, Epoch, Flow, Trainer};
use super::{Session, TrainError, mean};
use crate::backend::{Activation, Backend};
use crate::checkpoint::Checkpoint;
use crate::data::DataSet;
use crate::model::autoencoder::Workspace;
use crate::model::{Autoencoder, AutoencoderConfig, Step};
use crate::rng::{HostRng, RngKey};
use crate::viz::{self, Axis, Curves, MOVING_AVERAGE_WINDOW, Series};

/// Steps per row of `metrics.csv` and per progress line.
pub const LOG_EVERY: usize = 1000;

/// RNG stream of the example order: 2³² above `INIT_STREAM`, clear of the initialisation's
/// streams (`INIT_STREAM + k` for layer k, + 1 for an untied decoder) and of
/// `pictures::PICTURE_STREAM`; noise draws use the step numbers.
pub const ORDER_STREAM: u64 = (1 << 63) + (2 << 32);

/// The number of steps before the `LOG_EVERY` row that step `step` (1-based) belongs to.
fn row_start(step: usize) -> usize {
    (step - 1) / LOG_EVERY * LOG_EVERY
}

/// Settings of a ReLU-DAE run (validated by `config`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReluDaeRun {
    /// Model: ReLU encoder, untied linear decoder, squared error, Gaussian noise; its
    /// `standardise` is filled in from the training split when `standardise` is set.
    pub model: AutoencoderConfig,
    /// Standardise the inputs by the training split's pixel mean and std.
    #[serde(default)]
    pub standardise: bool,
    /// SGD learning rate (of the batch-mean gradient of ½E).
    pub lr: f32,
    /// Examples per step (1: per-example SGD).
    pub batch: usize,
    /// SGD steps; each takes `batch` consecutive examples from a random position.
    pub steps: usize,
    /// Seed of every random draw (initialisation, order, noise).
    pub seed: u64,
}

/// One row of `metrics.csv`: the means over `LOG_EVERY` steps.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StepRow {
    /// The last step of the row (1-based).
    pub step: usize,
    /// Mean squared error ‖y − x‖² per example over the row's steps.
    pub error: f32,
    /// Mean fraction of hidden units on (z > 0) over the row's steps; tracked for a ReLU
    /// encoder only (a sigmoid's units are all on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparsity: Option<f32>,
    /// Wall-clock seconds of the row's steps.
    pub seconds: f64,
}

/// What a finished ReLU-DAE run reports.
#[derive(Clone, Debug)]
pub struct ReluDaeOutcome {
    /// One row per `LOG_EVERY` steps.
    pub rows: Vec<StepRow>,
    /// The error of every step.
    pub errors: Vec<f32>,
    /// The fraction of units on at every step (empty unless the encoder is ReLU).
    pub sparsity: Vec<f32>,
    /// The standardisation used: (mean, std) of the training pixels after /255, if any.
    pub standardise: Option<[f32; 2]>,
}

/// Where a ReLU-DAE run stands, as stored in its checkpoint's `progress` field; the per-step
/// errors and (ReLU encoder) fractions of units on are the tensors `log.errors` and
/// `log.sparsity`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct ReluDaeProgress {
    /// Steps taken.
    steps_done: usize,
    /// One row per `LOG_EVERY` steps finished.
    rows: Vec<StepRow>,
}

/// Trains a ReLU-DAE on `data.train`: `run.steps` SGD steps, each on `run.batch` consecutive
/// examples starting at a uniformly random position, inputs standardised by the split's pixel
/// mean and standard deviation. Writes `metrics.csv` (`step,error,sparsity,seconds` every
/// `LOG_EVERY` steps, with `checkpoint.safetensors` and `run.json`), and at the end `steps.csv`
/// (every step), `filters.png` (columns of W), `decoder_filters.png` (rows of V),
/// `reconstructions.png` (un-standardised), `curves.png` (per-step error and sparsity with
/// their moving averages); the sparsity columns and curve are there for a ReLU encoder only.
/// Step s draws its position as the s-th number of the order stream and its noise from
/// `RngKey::new(seed, s)`, so a resumed run takes the same steps.
pub fn train_relu_dae<B: Backend>(
    be: &B,
    data: &DataSet,
    run: &ReluDaeRun,
    session: &mut Session<'_>,
) -> Result<ReluDaeOutcome, TrainError> {
    runner::drive(be, session, |resume| ReluDaeTrainer::start(be, data, run, resume))
}

/// The ReLU-DAE's part of the training loop.
struct ReluDaeTrainer<'a, B: Backend> {
    data: &'a DataSet,
    /// The settings as a checkpoint records them: with the measured standardisation.
    run: ReluDaeRun,
    images: B::Images,
    ae: Autoencoder<B>,
    ws: Workspace<B>,
    progress: ReluDaeProgress,
    /// Where each step's examples start: the order stream, at the next step's draw.
    order: HostRng,
    /// The error of every step taken.
    errors: Vec<f32>,
    /// The fraction of units on at every step taken (ReLU encoder only).
    sparsity: Vec<f32>,
}

impl<'a, B: Backend> ReluDaeTrainer<'a, B> {
    /// A fresh model, or the checkpoint's parameters, rows and logs.
    fn start(
        be: &B,
        data: &'a DataSet,
        run: &ReluDaeRun,
        resume: Option<&Checkpoint>,
    ) -> Result<Self, TrainError> {
        let images = &data.train.images;
        let mut run = run.clone();
        run.model.standardise = run.standardise.then(|| images.pixel_stats());
        let relu = run.model.encoder == Activation::Relu;
        let (ae, progress, errors, sparsity) = match resume {
            None => (
                Autoencoder::new(be, run.model.clone(), run.seed),
                ReluDaeProgress { steps_done: 0, rows: Vec::new() },
                Vec::new(),
                Vec::new(),
            ),
            Some(ck) => {
                let mut p: ReluDaeProgress = ck.json("progress")?;
                let errors = ck.tensor("log.errors", &[p.steps_done])?.to_vec();
                let sparsity = if relu {
                    ck.tensor("log.sparsity", &[p.steps_done])?.to_vec()
                } else {
                    Vec::new()
                };
                // A finished run's last row may cover fewer than LOG_EVERY steps; training on
                // redoes that row in full.
                if p.steps_done < run.steps
                    && p.rows.last().is_some_and(|r| r.step % LOG_EVERY != 0)
                {
                    p.rows.pop();
                }
                (Autoencoder::load_from(be, run.model.clone(), ck, "layer0")?, p, errors, sparsity)
            }
        };
        let ws = ae.workspace_with_slots(be, run.batch, LOG_EVERY);
        let order = HostRng::at(run.seed, ORDER_STREAM, progress.steps_done as u32);
        let images = be.upload_images(&images.pixels, images.dim());
        Ok(ReluDaeTrainer { data, run, images, ae, ws, progress, order, errors, sparsity })
    }

    fn relu(&self) -> bool {
        self.run.model.encoder == Activation::Relu
    }

    /// The first step of the block under way.
    fn block_start(&self) -> usize {
        self.progress.steps_done / LOG_EVERY * LOG_EVERY
    }
}

impl<B: Backend> Trainer<B> for ReluDaeTrainer<'_, B> {
    type Outcome = ReluDaeOutcome;

    fn next_epoch(&self) -> Option<Epoch> {
        let (done, steps) = (self.progress.steps_done, self.run.steps);
        let start = self.block_start();
        let len = LOG_EVERY.min(steps.saturating_sub(start));
        (done < steps).then(|| Epoch {
            number: start / LOG_EVERY + 1,
            of: steps.div_ceil(LOG_EVERY),
            steps: len,
            first_step: done - start,
            name: format!("step {} of {steps}", start + len),
            lr: ("lr", self.run.lr),
        })
    }

    fn finished(&self) -> String {
        let (done, steps) = (self.progress.steps_done, self.run.steps);
        format!(
            "the run is finished ({done} of {steps} steps); give --steps above {done} to train on"
        )
    }

    fn step(&mut self, be: &B, i: usize) -> Flow {
        // A uniform position in [0, positions): the high word of a 32×64-bit product.
        let positions = (self.data.train.images.n - self.run.batch + 1) as u64;
        let first = ((u64::from(self.order.next_u32()) * positions) >> 32) as usize;
        let key = RngKey::new(self.run.seed, self.progress.steps_done as u64);
        self.ae.train_step(
            be,
            &mut self.ws,
            &self.images,
            Step { first, key, lr: self.run.lr, slot: i },
        );
        self.progress.steps_done += 1;
        Flow::Continue
    }

    fn collect(&mut self, be: &B, from: usize, to: usize) -> &[f32] {
        self.errors.extend_from_slice(&be.download(self.ws.costs())[from..to]);
        if self.relu() {
            self.sparsity.extend_from_slice(&be.download(self.ws.fraction_on())[from..to]);
        }
        // The block of the steps taken (`steps_done` is past the last of them).
        let start = row_start(self.progress.steps_done);
        &self.errors[start..]
    }

    fn pause(&mut self, _done: usize, _seconds: f64) {}

    fn end_epoch(&mut self, seconds: f64, _stopped: bool) -> String {
        let step = self.progress.steps_done;
        let start = row_start(step);
        let row = StepRow {
            step,
            error: mean(&self.errors[start..]),
            sparsity: self.relu().then(|| mean(&self.sparsity[start..])),
            seconds,
        };
        let on = row.sparsity.map(|s| format!("  sparsity {s:.4}")).unwrap_or_default();
        let line = format!(
            "step {:>6}/{}  error {:.4}{on}  {:.2} s",
            row.step, self.run.steps, row.error, row.seconds
        );
        self.progress.rows.push(row);
        line
    }

    /// Steps are counted over the whole run: "step 2350 of 25000" after `done` steps of a
    /// block, else the block's name, its last step ("step 3000 of 25000").
    fn position(&self, epoch: &Epoch, done: Option<usize>) -> String {
        match done {
            Some(_) => format!("step {} of {}", self.progress.steps_done, self.run.steps),
            None => epoch.name.clone(),
        }
    }

    fn checkpoint(&self, be: &B, session: &Session<'_>) -> Checkpoint {
        let mut ck = session.checkpoint(&self.run, &self.progress);
        self.ae.save_to(be, &mut ck, "layer0");
        ck.put("log.errors", &[self.errors.len()], self.errors.clone());
        if self.relu() {
            ck.put("log.sparsity", &[self.sparsity.len()], self.sparsity.clone());
        }
        ck
    }

    fn write_metrics(&self, session: &mut Session<'_>) -> Result<(), TrainError> {
        let relu = self.relu();
        let header = if relu { "step,error,sparsity,seconds" } else { "step,error,seconds" };
        let lines = self.progress.rows.iter().map(|r| match r.sparsity {
            Some(s) => format!("{},{},{s},{:.3}", r.step, r.error, r.seconds),
            None => format!("{},{},{:.3}", r.step, r.error, r.seconds),
        });
        write_csv(&session.out.join("metrics.csv"), header, lines)?;
        session.record.steps = self.progress.steps_done as u64;
        Ok(())
    }

    fn finish(self, be: &B, session: &mut Session<'_>) -> Result<ReluDaeOutcome, TrainError> {
        let (run, out) = (&self.run, session.out);
        let relu = self.relu();
        let steps_csv = out.join("steps.csv");
        if relu {
            let lines = self.errors.iter().zip(&self.sparsity);
            let lines = lines.enumerate().map(|(i, (e, s))| format!("{},{e},{s}", i + 1));
            write_csv(&steps_csv, "step,error,sparsity", lines)?;
        } else {
            let lines = self.errors.iter().enumerate().map(|(i, e)| format!("{},{e}", i + 1));
            write_csv(&steps_csv, "step,error", lines)?;
        }
        let (v, h) = (run.model.n_vis, run.model.n_hid);
        let train = &self.data.train.images;
        let img_shape = (train.rows, train.cols);
        let (w, _, _) = self.ae.download(be);
        pictures::write_filters(out, &w, (v, h), img_shape)?;
        if let Some(dec) = self.ae.download_decoder(be) {
            // Row j of V: [n_vis], the picture unit j draws.
            let picture = viz::tile_raster_images(&dec, img_shape, (10, 10), (1, 1), true);
            pictures::save(out, "decoder_filters.png", &picture)?;
        }
        let [m, s] = run.model.standardise.unwrap_or([0.0, 1.0]);
        write_reconstructions(be, &self.ae, self.data, run.seed, out, |x| x * s + m)?;
        let title = format!(
            "ReLU-DAE {v}-{h}, noise {}, lr {}, batch {}",
            run.model.noise, run.lr, run.batch
        );
        let left = Axis::new(
            "squared error ‖y − x‖² per example",
            vec![Series::new("error", &self.errors).with_moving_average(MOVING_AVERAGE_WINDOW)],
        );
        let mut curves = Curves::new(&title, "step", left);
        if relu {
            let right = Axis::new(
                "fraction of hidden units on (z > 0)",
                vec![
                    Series::new("sparsity", &self.sparsity)
                        .with_moving_average(MOVING_AVERAGE_WINDOW),
                ],
            );
            curves = curves.with_right(right);
        }
        pictures::write_curves(out, &curves)?;
        Ok(ReluDaeOutcome {
            rows: self.progress.rows,
            errors: self.errors,
            sparsity: self.sparsity,
            standardise: self.run.model.standardise,
        })
    }

    fn summary(outcome: &ReluDaeOutcome, session: &Session<'_>) -> Vec<String> {
        let last = outcome.rows.last();
        let inputs = match outcome.standardise {
            Some([m, s]) => format!("standardised by mean {m:.4}, std {s:.4}"),
            None => "inputs in [0, 1]".to_string(),
        };
        let sparsity =
            last.and_then(|r| r.sparsity).map(|s| format!(", sparsity {s:.4}")).unwrap_or_default();
        let steps = last.map_or(0, |r| r.step - row_start(r.step));
        vec![format!(
            "done: error {:.4}{sparsity} over the last {steps} steps ({inputs}), {:.1} s in all; wrote filters.png, decoder_filters.png, reconstructions.png, curves.png, metrics.csv, steps.csv, checkpoint.safetensors, run.json to {}",
            last.map_or(f32::NAN, |r| r.error),
            session.record.total_seconds,
            session.out.display()
        )]
    }
}
