//! The ReLU denoising autoencoder's loop (the exercise; DESIGN.md): SGD on examples drawn at
//! random from the training split, inputs standardised over the split, error and sparsity
//! tracked at every step.

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{Session, TrainError, mean, write_reconstructions};
use crate::backend::{Activation, Backend};
use crate::checkpoint::Checkpoint;
use crate::data::DataSet;
use crate::model::{Autoencoder, AutoencoderConfig};
use crate::output::write_atomic;
use crate::rng::{HostRng, RngKey};
use crate::viz::{self, Axis, Curves, MOVING_AVERAGE_WINDOW, Series};

/// Steps per row of `metrics.csv` and per progress line.
pub const LOG_EVERY: usize = 1000;

/// RNG stream of the example order: 2³² above `INIT_STREAM`, clear of the initialisation's
/// streams (`INIT_STREAM + k` for layer k, + 1 for an untied decoder) and of `PICTURE_STREAM`;
/// noise draws use the step numbers.
pub const ORDER_STREAM: u64 = (1 << 63) + (2 << 32);

/// Settings of a ReLU-DAE run (validated by the CLI layer).
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
    /// Mean fraction of hidden units on (z > 0) over the row's steps.
    pub sparsity: f32,
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
    /// The fraction of units on at every step.
    pub sparsity: Vec<f32>,
    /// The standardisation used: (mean, std) of the training pixels after /255, if any.
    pub standardise: Option<[f32; 2]>,
}

/// Where a ReLU-DAE run stands, as stored in its checkpoint's `progress` field; the per-step
/// errors and fractions of units on are the tensors `log.errors` and `log.sparsity`.
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
/// their moving averages). Step s draws its position as the s-th number of the order stream and
/// its noise from `RngKey::new(seed, s)`, so a resumed run takes the same steps.
pub fn train_relu_dae<B: Backend>(
    be: &B,
    data: &DataSet,
    run: &ReluDaeRun,
    session: &mut Session<'_>,
) -> Result<ReluDaeOutcome, TrainError> {
    let started = Instant::now();
    let out = session.out;
    let images = &data.train.images;
    let mut model = run.model.clone();
    model.standardise = run.standardise.then(|| images.pixel_stats());
    // The settings as a checkpoint records them: with the measured standardisation.
    let saved_run = ReluDaeRun { model: model.clone(), ..run.clone() };
    let gpu_images = be.upload_images(&images.pixels, images.dim());
    let (mut ae, mut progress, mut errors, mut sparsity) = match &session.resume {
        None => (
            Autoencoder::new(be, model.clone(), run.seed),
            ReluDaeProgress { steps_done: 0, rows: Vec::new() },
            Vec::new(),
            Vec::new(),
        ),
        Some(ck) => {
            let p: ReluDaeProgress = ck.json("progress")?;
            if p.steps_done >= run.steps {
                return Err(ck
                    .error(format!(
                        "the run is finished ({} of {} steps); give --steps above {} to train on",
                        p.steps_done, run.steps, p.steps_done
                    ))
                    .into());
            }
            let errors = ck.tensor("log.errors", &[p.steps_done])?.to_vec();
            let sparsity = ck.tensor("log.sparsity", &[p.steps_done])?.to_vec();
            let mut p = p;
            // A finished run's last row may cover fewer than LOG_EVERY steps; training on
            // redoes that row in full.
            if p.rows.last().is_some_and(|r| r.step % LOG_EVERY != 0) {
                p.rows.pop();
            }
            (Autoencoder::load_from(be, model.clone(), ck, "layer0")?, p, errors, sparsity)
        }
    };
    let mut ws = ae.workspace_with_slots(be, run.batch, LOG_EVERY);
    let relu = model.encoder == Activation::Relu;
    let mut costs = be.zeros(LOG_EVERY);
    let mut order = HostRng::at(run.seed, ORDER_STREAM, progress.steps_done as u32);
    let positions = (images.n - run.batch + 1) as u64;
    let chunks = run.steps.div_ceil(LOG_EVERY);
    session.record.setup_seconds = started.elapsed().as_secs_f64();
    let checkpoint = |ae: &Autoencoder<B>, p: &ReluDaeProgress, errors: &[f32], on: &[f32]| {
        let mut ck = Checkpoint::new(&session.record.model, &saved_run, &session.source, p);
        ae.save_to(be, &mut ck, "layer0");
        ck.put("log.errors", &[errors.len()], errors.to_vec());
        ck.put("log.sparsity", &[on.len()], on.to_vec());
        ck
    };
    let mut step = progress.steps_done;
    for chunk in step / LOG_EVERY + 1..=chunks {
        let t0 = Instant::now();
        let (first_i, len) = (step % LOG_EVERY, LOG_EVERY.min(run.steps - (chunk - 1) * LOG_EVERY));
        session.progress.start_epoch(chunk, chunks, len);
        let mut interrupted = false;
        for i in first_i..len {
            // A uniform position in [0, positions): the high word of a 32×64-bit product.
            let first = ((u64::from(order.next_u32()) * positions) >> 32) as usize;
            let key = RngKey::new(run.seed, step as u64);
            ae.train_step(be, &mut ws, &gpu_images, first, key, run.lr, &mut costs, i);
            step += 1;
            session.progress.step(i + 1);
            if session.progress.interrupted() && i + 1 < len {
                interrupted = true;
                break;
            }
        }
        let done = step - (chunk - 1) * LOG_EVERY;
        let err = &be.download(&costs)[first_i..done];
        // The fraction of units on is tracked for a ReLU encoder (a sigmoid's are all on).
        let on = if relu {
            be.download(ws.fraction_on())[first_i..done].to_vec()
        } else {
            vec![f32::NAN; done - first_i]
        };
        errors.extend_from_slice(err);
        sparsity.extend_from_slice(&on);
        let chunk_start = (chunk - 1) * LOG_EVERY;
        session.check_finite(&errors[chunk_start..], chunk, ("lr", run.lr))?;
        progress.steps_done = step;
        if interrupted {
            let position = format!("step {step} of {}", run.steps);
            let ck = checkpoint(&ae, &progress, &errors, &sparsity);
            return Err(session.save_and_stop(&ck, position, ("lr", run.lr)));
        }
        let row = StepRow {
            step,
            error: mean(&errors[chunk_start..]),
            sparsity: mean(&sparsity[chunk_start..]),
            seconds: t0.elapsed().as_secs_f64(),
        };
        let on = if relu { format!("  sparsity {:.4}", row.sparsity) } else { String::new() };
        session.progress.end_epoch_line(&format!(
            "step {:>6}/{}  error {:.4}{on}  {:.2} s",
            row.step, run.steps, row.error, row.seconds
        ));
        progress.rows.push(row);
        write_csv(
            &out.join("metrics.csv"),
            "step,error,sparsity,seconds",
            progress
                .rows
                .iter()
                .map(|r| format!("{},{},{},{:.3}", r.step, r.error, r.sparsity, r.seconds)),
        )?;
        let ck = checkpoint(&ae, &progress, &errors, &sparsity);
        session.save_checkpoint(&ck, || format!("step {step}"), ("lr", run.lr))?;
        session.record.steps = step as u64;
        session.record.save(&out.join("run.json"))?;
        session.stop_if_interrupted(format!("step {step} of {}", run.steps), step < run.steps)?;
    }
    let rows = progress.rows;
    write_csv(
        &out.join("steps.csv"),
        "step,error,sparsity",
        errors.iter().zip(&sparsity).enumerate().map(|(i, (e, s))| format!("{},{e},{s}", i + 1)),
    )?;

    // Pictures.
    let (v, h) = (model.n_vis, model.n_hid);
    let img_shape = (images.rows, images.cols);
    let (w, _, _) = ae.download(be);
    let save = |img: viz::GrayImage, name: &str| {
        let path = out.join(name);
        img.save(&path).map_err(|source| TrainError::Write { path, source })
    };
    save(viz::filters_image(&w, v, h, img_shape, (10, 10)), "filters.png")?;
    if let Some(dec) = ae.download_decoder(be) {
        // Row j of V: [n_vis], the picture unit j draws.
        save(
            viz::tile_raster_images(&dec, img_shape, (10, 10), (1, 1), true),
            "decoder_filters.png",
        )?;
    }
    let [m, s] = model.standardise.unwrap_or([0.0, 1.0]);
    write_reconstructions(be, &ae, data, run.seed, out, |x| x * s + m)?;
    let title =
        format!("ReLU-DAE {}-{}, noise {}, lr {}, batch {}", v, h, model.noise, run.lr, run.batch);
    let left = Axis::new(
        "squared error ‖y − x‖² per example",
        vec![Series::new("error", &errors).with_moving_average(MOVING_AVERAGE_WINDOW)],
    );
    let right = Axis::new(
        "fraction of hidden units on (z > 0)",
        vec![Series::new("sparsity", &sparsity).with_moving_average(MOVING_AVERAGE_WINDOW)],
    );
    let mut curves = Curves::new(&title, "step", left);
    if relu {
        curves = curves.with_right(right);
    }
    let path = out.join("curves.png");
    viz::curves_png(&path, &curves).map_err(|source| TrainError::Write { path, source })?;
    session.record.total_seconds = started.elapsed().as_secs_f64();
    session.record.save(&out.join("run.json"))?;
    Ok(ReluDaeOutcome { rows, errors, sparsity, standardise: model.standardise })
}

/// Writes `header` and `lines` as a CSV file, atomically.
fn write_csv(
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
