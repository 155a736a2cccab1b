//! Using a trained checkpoint: `gpu-dae encode` (hidden codes as .npy) and `gpu-dae reconstruct`
//! (originals, corrupted inputs and reconstructions of test digits).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::ValueEnum;
use gpu_dae::backend::{Backend, Storage};
use gpu_dae::checkpoint::{Checkpoint, CheckpointError, DataSource};
use gpu_dae::cli::{CheckpointArgs, EncodeArgs, ReconstructArgs, SplitChoice};
use gpu_dae::config::parse_noise;
use gpu_dae::data::{self, DataSet, Split};
use gpu_dae::device;
use gpu_dae::model::{Autoencoder, AutoencoderConfig, Sda, SdaConfig};
use gpu_dae::output::{npy_bytes, write_atomic};
use gpu_dae::rng::{HostRng, RngKey};
use gpu_dae::train::Settings;
use gpu_dae::viz;
use gpu_dae::with_engine;

/// Examples per forward pass of `encode`.
const ENCODE_CHUNK: usize = 500;

/// Test digits `reconstruct` shows when neither --digits nor --random is given.
const DEFAULT_DIGITS: usize = 10;

/// The most digits one `reconstruct` picture holds (one row of tiles each for originals,
/// corrupted inputs and reconstructions).
const MAX_DIGITS: usize = 100;

/// RNG stream of `reconstruct`'s random digit choice (its noise uses stream 0 of --seed).
const DIGIT_STREAM: u64 = 1;

/// A checkpoint's model, reduced to what encoding and reconstructing need.
enum Trained {
    /// A single autoencoder (dA, cA, ReLU-DAE).
    Autoencoder(AutoencoderConfig),
    /// A stack.
    Sda(SdaConfig),
}

/// The checkpoint of `args`, its model, and its run's data (or `args.data`), all of it,
/// checked to hold images of the model's size.
fn open(args: &CheckpointArgs) -> anyhow::Result<(Checkpoint, Trained, DataSet)> {
    let ck = Checkpoint::load(&args.model)?;
    let run = Settings::from_checkpoint(&ck)?;
    let source: DataSource = ck.json("data")?;
    let dir = args.data.clone().or(source.dir.clone());
    let data = match &dir {
        Some(dir) => data::load_dir(dir, None)?,
        None => data::load_embedded(None)?,
    };
    run.check_data(&ck, &source, &data)?;
    let model = match run {
        Settings::Da(r) => Trained::Autoencoder(r.model),
        Settings::ReluDae(r) => Trained::Autoencoder(r.model),
        Settings::Sda(r) => Trained::Sda(r.model),
    };
    Ok((ck, model, data))
}

/// `gpu-dae encode`: the hidden code of every example of a split, as float32 [n, H] in --out
/// and the labels as uint8 [n] in <stem>_labels.npy beside it.
pub fn encode(args: &EncodeArgs) -> anyhow::Result<()> {
    let (ck, model, data) = open(&args.checkpoint)?;
    let split = match args.split {
        SplitChoice::Train => &data.train,
        SplitChoice::Valid => &data.valid,
        SplitChoice::Test => &data.test,
    };
    let layers = match &model {
        Trained::Autoencoder(_) => 1,
        Trained::Sda(c) => c.hidden.len(),
    };
    let layer = args.layer.unwrap_or(layers - 1);
    if layer >= layers {
        anyhow::bail!(
            "--layer {layer}: expected 0 to {} ({} has {layers} hidden layer{})",
            layers - 1,
            args.checkpoint.model.display(),
            if layers == 1 { "" } else { "s" }
        );
    }
    let choice = device::choose(
        args.checkpoint.device.backend.into(),
        args.checkpoint.device.adapter.as_deref(),
    )?;
    let (codes, width) = with_engine!(choice.engine, |be| {
        eprintln!("backend: {} ({})", be.describe(), choice.reason);
        codes(be, &ck, &model, split, layer)?
    });
    let n = split.len();
    let bytes: Vec<u8> = codes.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_atomic(&args.out, &npy_bytes("<f4", &[n, width], &bytes))
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let labels_path = labels_path(&args.out);
    write_atomic(&labels_path, &npy_bytes("|u1", &[n], &split.labels))
        .with_context(|| format!("cannot write {}", labels_path.display()))?;
    eprintln!(
        "wrote the layer-{layer} codes of {n} {} examples, float32 [{n}, {width}], to {} and their labels, uint8 [{n}], to {}",
        args.split.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default(),
        args.out.display(),
        labels_path.display()
    );
    Ok(())
}

/// `codes.npy` → `codes_labels.npy`, in the same directory.
fn labels_path(out: &Path) -> PathBuf {
    let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    out.with_file_name(format!("{stem}_labels.npy"))
}

/// The codes of hidden layer `layer` for every example of `split`, row after row, and their
/// width.
fn codes<B: Backend>(
    be: &B,
    ck: &Checkpoint,
    model: &Trained,
    split: &Split,
    layer: usize,
) -> Result<(Vec<f32>, usize), CheckpointError> {
    let images = be.upload_images(&split.images.pixels, split.images.dim());
    let n = split.len();
    let mut codes = Vec::new();
    match model {
        Trained::Autoencoder(config) => {
            let ae = Autoencoder::load_from(be, config.clone(), ck, "layer0")?;
            for first in (0..n).step_by(ENCODE_CHUNK) {
                let mut ws = ae.workspace(be, ENCODE_CHUNK.min(n - first));
                codes.extend(ae.encode(be, &mut ws, &images, first));
            }
            Ok((codes, config.n_hid))
        }
        Trained::Sda(config) => {
            let sda = Sda::load_from(be, config.clone(), ck)?;
            let mut ws = sda.eval_workspace(be, ENCODE_CHUNK.min(n).max(1), 1);
            for first in (0..n).step_by(ENCODE_CHUNK) {
                let rows = ENCODE_CHUNK.min(n - first);
                codes.extend(sda.encode(be, &mut ws, &images, first, rows, layer));
            }
            Ok((codes, config.hidden[layer]))
        }
    }
}

/// `gpu-dae reconstruct`: a picture of test digits (originals, corrupted inputs,
/// reconstructions) drawn by a checkpoint's autoencoder (an SdA's layer-0 dA).
pub fn reconstruct(args: &ReconstructArgs) -> anyhow::Result<()> {
    let (ck, model, data) = open(&args.checkpoint)?;
    let config = match model {
        Trained::Autoencoder(c) => c,
        Trained::Sda(c) => c.layer(0),
    };
    let test = &data.test.images;
    let digits = match (&args.digits, args.random) {
        (Some(digits), _) => {
            if let Some(&bad) = digits.iter().find(|&&i| i >= test.n) {
                anyhow::bail!("--digits {bad}: expected test-set indices below {}", test.n);
            }
            digits.clone()
        }
        (None, n) => random_digits(n.unwrap_or(DEFAULT_DIGITS).min(test.n), test.n, args.seed),
    };
    if digits.is_empty() || digits.len() > MAX_DIGITS {
        anyhow::bail!("--digits/--random: {} digits; expected 1 to {MAX_DIGITS}", digits.len());
    }
    let noise = args.noise.as_deref().map(parse_noise).transpose()?;
    let dim = test.dim();
    let pixels: Vec<u8> =
        digits.iter().flat_map(|&i| test.pixels[i * dim..(i + 1) * dim].iter().copied()).collect();
    let choice = device::choose(
        args.checkpoint.device.backend.into(),
        args.checkpoint.device.adapter.as_deref(),
    )?;
    let (x, x_tilde, z, standardise) = with_engine!(choice.engine, |be| {
        eprintln!("backend: {} ({})", be.describe(), choice.reason);
        let ae = Autoencoder::load_from(be, config.clone(), &ck, "layer0")?;
        let images = be.upload_images(&pixels, dim);
        let mut ws = ae.workspace(be, digits.len());
        let noise = noise.unwrap_or(ae.noise());
        let (x, xt, z) = ae.reconstruct(be, &mut ws, &images, 0, noise, RngKey::new(args.seed, 0));
        (x, xt, z, config.standardise)
    });
    // Back to pixels in [0, 1] for a standardised model.
    let to_pixels = |v: Vec<f32>| match standardise {
        Some([mean, std]) => v.into_iter().map(|x| x * std + mean).collect(),
        None => v,
    };
    let (x, x_tilde, z) = (to_pixels(x), to_pixels(x_tilde), to_pixels(z));
    let picture =
        viz::reconstructions_image(&x, &x_tilde, &z, digits.len(), (test.rows, test.cols));
    picture.save(&args.out).with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!(
        "wrote {}: test digits {:?}; rows: originals, corrupted inputs, reconstructions",
        args.out.display(),
        digits
    );
    Ok(())
}

/// `n` distinct indices below `len`, drawn with `seed` (a partial Fisher–Yates shuffle).
fn random_digits(n: usize, len: usize, seed: u64) -> Vec<usize> {
    let mut rng = HostRng::new(seed, DIGIT_STREAM);
    let mut all: Vec<usize> = (0..len).collect();
    for i in 0..n {
        // A uniform index in [i, len): the high word of a 32×64-bit product.
        let j = i + ((u64::from(rng.next_u32()) * (len - i) as u64) >> 32) as usize;
        all.swap(i, j);
    }
    all.truncate(n);
    all
}
