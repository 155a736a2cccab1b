//! The ReLU denoising autoencoder's loop (the exercise; DESIGN.md): SGD on examples drawn at
//! random from the training split, inputs standardised over the split, error and sparsity
//! tracked at every step.

use std::path::Path;
use std::time::Instant;

use super::{Progress, RunRecord, TrainError, mean, write_reconstructions};
use crate::backend::Backend;
use crate::data::{DataSet, Images};
use crate::model::{Autoencoder, AutoencoderConfig};
use crate::output::write_atomic;
use crate::rng::{HostRng, RngKey};
use crate::viz::{self, Axis, Curves, MOVING_AVERAGE_WINDOW, Series};

/// Steps per row of `metrics.csv` and per progress line.
pub const LOG_EVERY: usize = 1000;

/// RNG stream of the example order (initialisation uses `INIT_STREAM` and the next one, noise
/// draws the step numbers).
pub const ORDER_STREAM: u64 = (1 << 63) + 2;

/// Settings of a ReLU-DAE run (validated by the CLI layer).
#[derive(Clone, Debug, serde::Serialize)]
pub struct ReluDaeRun {
    /// Model: ReLU encoder, untied linear decoder, squared error, Gaussian noise; its
    /// `standardise` is filled in from the training split by `train_relu_dae`.
    pub model: AutoencoderConfig,
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
#[derive(Clone, Debug, serde::Serialize, PartialEq)]
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
    /// The standardisation used: (mean, std) of the training pixels after /255.
    pub standardise: [f32; 2],
}

/// Mean and standard deviation of every pixel of `images` after /255, in f64.
pub fn pixel_stats(images: &Images) -> [f32; 2] {
    let n = images.pixels.len().max(1) as f64;
    let sum: f64 = images.pixels.iter().map(|&p| f64::from(p) / 255.0).sum();
    let mean = sum / n;
    let var: f64 =
        images.pixels.iter().map(|&p| (f64::from(p) / 255.0 - mean).powi(2)).sum::<f64>() / n;
    [mean as f32, var.sqrt().max(1e-12) as f32]
}

/// Trains a ReLU-DAE on `data.train`: `run.steps` SGD steps, each on `run.batch` consecutive
/// examples starting at a uniformly random position, inputs standardised by the split's pixel
/// mean and standard deviation. Writes `metrics.csv` (`step,error,sparsity,seconds` every
/// `LOG_EVERY` steps), `steps.csv` (every step), `filters.png` (columns of W),
/// `decoder_filters.png` (rows of V), `reconstructions.png` (un-standardised),
/// `curves.png` (per-step error and sparsity with their moving averages) and `run.json`.
pub fn train_relu_dae<B: Backend>(
    be: &B,
    data: &DataSet,
    run: &ReluDaeRun,
    out: &Path,
    record: &mut RunRecord,
    progress: &dyn Progress,
) -> Result<ReluDaeOutcome, TrainError> {
    let started = Instant::now();
    let images = &data.train.images;
    let standardise = pixel_stats(images);
    let mut model = run.model.clone();
    model.standardise = Some(standardise);
    let gpu_images = be.upload_images(&images.pixels, images.dim());
    let mut ae = Autoencoder::new(be, model.clone(), run.seed);
    let mut ws = ae.workspace_with_slots(be, run.batch, LOG_EVERY);
    let mut costs = be.zeros(LOG_EVERY);
    let mut order = HostRng::new(run.seed, ORDER_STREAM);
    let positions = (images.n - run.batch + 1) as u64;
    let (mut rows, mut errors, mut sparsity) = (Vec::new(), Vec::new(), Vec::new());
    let chunks = run.steps.div_ceil(LOG_EVERY);
    record.setup_seconds = started.elapsed().as_secs_f64();
    let mut step = 0;
    for chunk in 1..=chunks {
        let t0 = Instant::now();
        let len = LOG_EVERY.min(run.steps - step);
        progress.start_epoch(chunk, chunks, len);
        for i in 0..len {
            // A uniform position in [0, positions): the high word of a 32×64-bit product.
            let first = ((u64::from(order.next_u32()) * positions) >> 32) as usize;
            let key = RngKey::new(run.seed, step as u64);
            ae.train_step(be, &mut ws, &gpu_images, first, key, run.lr, &mut costs, i);
            step += 1;
            progress.step(i + 1);
        }
        let err = &be.download(&costs)[..len];
        let on = &be.download(ws.fraction_on())[..len];
        let row = StepRow {
            step,
            error: mean(err),
            sparsity: mean(on),
            seconds: t0.elapsed().as_secs_f64(),
        };
        progress.end_epoch_line(&format!(
            "step {:>6}/{}  error {:.4}  sparsity {:.4}  {:.2} s",
            row.step, run.steps, row.error, row.sparsity, row.seconds
        ));
        if !row.error.is_finite() {
            let bad = err.iter().position(|c| !c.is_finite()).unwrap_or(0);
            return Err(TrainError::Diverged {
                flag: "lr",
                epoch: chunk,
                step: bad + 1,
                cost: row.error,
                lr: run.lr,
            });
        }
        errors.extend_from_slice(err);
        sparsity.extend_from_slice(on);
        rows.push(row);
        write_csv(
            &out.join("metrics.csv"),
            "step,error,sparsity,seconds",
            rows.iter().map(|r| format!("{},{},{},{:.3}", r.step, r.error, r.sparsity, r.seconds)),
        )?;
        record.steps = step as u64;
        record.save(&out.join("run.json"))?;
    }
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
    let [m, s] = standardise;
    write_reconstructions(be, &ae, data, run.seed, out, |x| x * s + m)?;
    let title =
        format!("ReLU-DAE {}-{}, σ {}, lr {}, batch {}", v, h, model.noise_std, run.lr, run.batch);
    let left = Axis::new(
        "squared error ‖y − x‖² per example",
        vec![Series::new("error", &errors).with_moving_average(MOVING_AVERAGE_WINDOW)],
    );
    let right = Axis::new(
        "fraction of hidden units on (z > 0)",
        vec![Series::new("sparsity", &sparsity).with_moving_average(MOVING_AVERAGE_WINDOW)],
    );
    let curves = Curves::new(&title, "step", left).with_right(right);
    let path = out.join("curves.png");
    viz::curves_png(&path, &curves).map_err(|source| TrainError::Write { path, source })?;
    record.total_seconds = started.elapsed().as_secs_f64();
    record.save(&out.join("run.json"))?;
    Ok(ReluDaeOutcome { rows, errors, sparsity, standardise })
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
