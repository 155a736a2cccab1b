//! The pictures a finished run writes into its output directory: the filters, the
//! reconstructions of test digits and the curves.

use std::path::Path;

use super::TrainError;
use crate::backend::Backend;
use crate::data::DataSet;
use crate::model::Autoencoder;
use crate::rng::RngKey;
use crate::viz::{self, Curves, Figure, GrayImage};

/// Test digits shown in `reconstructions.png` (the first ones of the test split).
pub const RECONSTRUCTION_DIGITS: usize = 10;

/// RNG stream of the corruption drawn for `reconstructions.png`: 2³² above `INIT_STREAM`, clear
/// of the initialisation's streams (`INIT_STREAM + k`) and of the training steps' (0, 1, 2, …).
pub const PICTURE_STREAM: u64 = (1 << 63) + (1 << 32);

/// Writes `img` as `out/name`.
pub(super) fn save(out: &Path, name: &str, img: &GrayImage) -> Result<(), TrainError> {
    let path = out.join(name);
    img.save(&path).map_err(|source| TrainError::Write { path, source })
}

/// Writes `filters.png`: the first 100 columns of W: [n_vis, n_hid] as images of `img_shape`.
pub(super) fn write_filters(
    out: &Path,
    w: &[f32],
    (n_vis, n_hid): (usize, usize),
    img_shape: (usize, usize),
) -> Result<(), TrainError> {
    save(out, "filters.png", &viz::filters_image(w, n_vis, n_hid, img_shape, (10, 10)))
}

/// Writes `curves.png`.
pub(super) fn write_curves(out: &Path, curves: &Curves) -> Result<(), TrainError> {
    let path = out.join("curves.png");
    viz::curves_png(&path, curves).map_err(|source| TrainError::Write { path, source })
}

/// Writes `curves.png` as a figure of several panels.
pub(super) fn write_figure(out: &Path, figure: &Figure) -> Result<(), TrainError> {
    let path = out.join("curves.png");
    viz::figure_png(&path, figure).map_err(|source| TrainError::Write { path, source })
}

/// Writes `reconstructions.png`: the first `RECONSTRUCTION_DIGITS` test digits (fewer if the
/// test split is smaller), their corrupted versions (drawn from `PICTURE_STREAM` of `seed`) and
/// the model's reconstructions, each value mapped by `to_pixels` (e.g. un-standardised) before
/// the picture clamps it to [0, 1].
pub(super) fn write_reconstructions<B: Backend>(
    be: &B,
    ae: &Autoencoder<B>,
    data: &DataSet,
    seed: u64,
    out: &Path,
    to_pixels: impl Fn(f32) -> f32,
) -> Result<(), TrainError> {
    let test = &data.test.images;
    let n = RECONSTRUCTION_DIGITS.min(test.n);
    if n == 0 {
        return Ok(());
    }
    let dim = test.dim();
    let images = be.upload_images(&test.pixels[..n * dim], dim);
    let mut ws = ae.workspace(be, n);
    let key = RngKey::new(seed, PICTURE_STREAM);
    let (x, x_tilde, z) = ae.reconstruct(be, &mut ws, &images, 0, ae.noise(), key);
    let map = |v: Vec<f32>| v.into_iter().map(&to_pixels).collect::<Vec<f32>>();
    let (x, x_tilde, z) = (map(x), map(x_tilde), map(z));
    let picture =
        viz::reconstructions_image(&x, &x_tilde, &z, RECONSTRUCTION_DIGITS, (test.rows, test.cols));
    save(out, "reconstructions.png", &picture)
}
