//! Pictures of a training run: the filters grid (`filters.png`), the reconstruction rows
//! (`reconstructions.png`: originals / corrupted / reconstructions), the learning curves
//! (`curves.png`: a [`Curves`] plot, or a [`Figure`] of several) and the PNG encoding of all of
//! them.
//!
//! [`tile_raster_images`] is a port of the Theano tutorials' `utils.tile_raster_images`
//! (DeepLearningTutorials, `code/utils.py`) for one grayscale channel. Every function here is
//! total: degenerate shapes give an empty 0×0 picture or black tiles, never a panic.

mod curves;
pub mod study_plot;
pub mod sweep_plot;

pub use curves::{
    Axis, Curves, Figure, MARKER_RGB, MOVING_AVERAGE_WINDOW, Marker, RgbImage, Series, curves_png,
    figure_png, moving_average,
};

use std::io;
use std::path::Path;

use crate::output::write_atomic;

/// An 8-bit grayscale picture, row-major pixels: `[height, width]` (`pixels[r * width + c]`).
///
/// The fields are public; [`GrayImage::encode_png`] and [`GrayImage::save`] check that
/// `pixels.len() == width * height` and report a mismatch as an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrayImage {
    /// Number of columns.
    pub width: usize,
    /// Number of rows.
    pub height: usize,
    /// Pixels `[height, width]`, row-major, 0 = black, 255 = white.
    pub pixels: Vec<u8>,
}

impl GrayImage {
    /// The picture as a PNG file (8-bit grayscale, no alpha), bytes `[file length]`.
    ///
    /// Errors (`InvalidInput`) when the picture cannot be a PNG: a zero width or height (PNG has
    /// no empty images), a side above `u32::MAX`, or `pixels.len() != width * height`. Encoder
    /// errors, which cannot happen when writing to memory in practice, are mapped to
    /// [`io::Error`] as well.
    pub fn encode_png(&self) -> io::Result<Vec<u8>> {
        encode_png(self.width, self.height, png::ColorType::Grayscale, &self.pixels)
    }

    /// Encodes the picture as PNG and writes it to `path` atomically (temporary sibling + rename,
    /// via [`crate::output::write_atomic`]), so a crash never leaves a half-written file.
    ///
    /// Errors name `path`; encoding errors are those of [`GrayImage::encode_png`].
    pub fn save(&self, path: &Path) -> io::Result<()> {
        save_png(path, self.encode_png())
    }
}

/// Encodes 8-bit `pixels: [height, width, channels]` (channels from `color`: 1 for grayscale,
/// 3 for RGB) as a PNG file. Errors (`InvalidInput`) as described at [`GrayImage::encode_png`].
fn encode_png(
    width: usize,
    height: usize,
    color: png::ColorType,
    pixels: &[u8],
) -> io::Result<Vec<u8>> {
    let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
    if width == 0 || height == 0 {
        return Err(invalid(format!(
            "cannot encode a {width}x{height} (width x height) picture as PNG: expected both \
             sides > 0"
        )));
    }
    let channels = color.samples();
    let expected = width.checked_mul(height).and_then(|n| n.checked_mul(channels));
    if expected != Some(pixels.len()) {
        return Err(invalid(format!(
            "picture of {width}x{height} (width x height) with {channels} channel(s) has {} \
             bytes, expected width * height * channels",
            pixels.len()
        )));
    }
    let side = |v: usize, what: &str| {
        u32::try_from(v)
            .map_err(|_| invalid(format!("picture {what} {v} exceeds the PNG limit u32::MAX")))
    };
    let (w, h) = (side(width, "width")?, side(height, "height")?);

    // Raw 8-bit pixels plus a filter byte per row, before compression.
    let mut bytes = Vec::with_capacity(pixels.len() / 2 + 64);
    let mut encoder = png::Encoder::new(&mut bytes, w, h);
    encoder.set_color(color);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(bytes)
}

/// Writes already encoded PNG `bytes` (or the encoding error) to `path` atomically, naming
/// `path` in any error.
fn save_png(path: &Path, bytes: io::Result<Vec<u8>>) -> io::Result<()> {
    let with_path = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    write_atomic(path, &bytes.map_err(with_path)?).map_err(with_path)
}

/// The blank grid of `tile_shape = (tile_rows, tile_cols)` tiles of `img_shape = (img_h, img_w)`
/// pixels separated by `spacing = (rows, cols)` pixels: `[(img_h + sh) * tile_rows - sh,
/// (img_w + sw) * tile_cols - sw]`. `None` when a side is zero or the size overflows `usize`.
fn blank_grid(
    img_shape: (usize, usize),
    tile_shape: (usize, usize),
    spacing: (usize, usize),
) -> Option<GrayImage> {
    let (img_h, img_w) = img_shape;
    let (tile_rows, tile_cols) = tile_shape;
    if img_h == 0 || img_w == 0 || tile_rows == 0 || tile_cols == 0 {
        return None;
    }
    let side = |img: usize, sp: usize, tiles: usize| {
        img.checked_add(sp)?.checked_mul(tiles)?.checked_sub(sp)
    };
    let height = side(img_h, spacing.0, tile_rows)?;
    let width = side(img_w, spacing.1, tile_cols)?;
    let pixels = vec![0; height.checked_mul(width)?];
    Some(GrayImage { width, height, pixels })
}

/// The 0×0 picture returned for degenerate shapes.
fn empty() -> GrayImage {
    GrayImage { width: 0, height: 0, pixels: Vec::new() }
}

/// Converts a value in [0, 1] to a pixel: `round(clamp(v, 0, 1) * 255)`, NaN → 0.
fn to_pixel(v: f32) -> u8 {
    // `as` saturates and maps NaN to 0.
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// Draws `pic: [img_h * img_w]` (row-major) into the tile at grid position `(tile_r, tile_c)` of
/// `out`. With `scale`, the picture is first mapped to [0, 1] on its own by
/// `(x - min) / (max - min + 1e-8)` (the tutorial's `scale_to_unit_interval`); otherwise values
/// are clamped to [0, 1].
fn draw_tile(
    out: &mut GrayImage,
    pic: &[f32],
    img_shape: (usize, usize),
    spacing: (usize, usize),
    (tile_r, tile_c): (usize, usize),
    scale: bool,
) {
    let (img_h, img_w) = img_shape;
    // Computed in f64 so that the 1e-8 epsilon is not lost to f32 rounding for small ranges.
    let (offset, factor) = if scale {
        let min = pic.iter().copied().fold(f32::INFINITY, f32::min);
        let max = pic.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let min = f64::from(min);
        (min, 1.0 / (f64::from(max) - min + 1e-8))
    } else {
        (0.0, 1.0)
    };
    let top = tile_r * (img_h + spacing.0);
    let left = tile_c * (img_w + spacing.1);
    for (r, src_row) in pic.chunks_exact(img_w).take(img_h).enumerate() {
        let start = (top + r) * out.width + left;
        let dst_row = &mut out.pixels[start..start + img_w];
        for (dst, &v) in dst_row.iter_mut().zip(src_row) {
            *dst = to_pixel(((f64::from(v) - offset) * factor) as f32);
        }
    }
}

/// Port of the Theano tutorials' `utils.tile_raster_images` for one grayscale channel.
///
/// - `x: [n, img_h * img_w]` row-major, each row one picture (itself row-major `[img_h, img_w]`);
///   `n = x.len() / (img_h * img_w)`: only complete pictures are drawn, a trailing partial row
///   of `x` is ignored.
/// - `img_shape = (img_h, img_w)`, `tile_shape = (tile_rows, tile_cols)`,
///   `spacing = (between tile rows, between tile columns)` in pixels.
///
/// Picture `k < min(n, tile_rows * tile_cols)` goes to grid row `k / tile_cols`, column
/// `k % tile_cols` (row by row); extra pictures are not drawn and missing ones (`n` smaller than
/// the grid) leave black tiles. Spacing pixels are 0 (black).
///
/// With `scale_rows_to_unit_interval`, each picture is scaled to [0, 1] on its own by
/// `(x - min) / (max - min + 1e-8)` (a constant picture becomes all 0, not NaN); otherwise values
/// are clamped to [0, 1]. Pixels are `round(v * 255)` — rounded to nearest, where the tutorial's
/// `uint8` assignment truncates (so a picture's maximum reaches 255 here). NaN becomes 0.
///
/// Output `[height, width]` = `[(img_h + sh) * tile_rows - sh, (img_w + sw) * tile_cols - sw]`,
/// e.g. 10×10 tiles of 28×28 with spacing (1, 1) → 289×289. A zero in `img_shape` or
/// `tile_shape` (or a size overflowing `usize`) gives an empty 0×0 image.
pub fn tile_raster_images(
    x: &[f32],
    img_shape: (usize, usize),
    tile_shape: (usize, usize),
    spacing: (usize, usize),
    scale_rows_to_unit_interval: bool,
) -> GrayImage {
    let Some(mut out) = blank_grid(img_shape, tile_shape, spacing) else {
        return empty();
    };
    let (tile_rows, tile_cols) = tile_shape;
    let pic_len = img_shape.0 * img_shape.1; // cannot overflow: it fits in the grid
    for (k, pic) in x.chunks_exact(pic_len).take(tile_rows * tile_cols).enumerate() {
        let pos = (k / tile_cols, k % tile_cols);
        draw_tile(&mut out, pic, img_shape, spacing, pos, scale_rows_to_unit_interval);
    }
    out
}

/// The filters picture of an autoencoder.
///
/// - `w: [n_vis, n_hid]` row-major (the weight matrix, `W[i, j] = w[i * n_hid + j]`);
/// - `img_shape = (img_h, img_w)` with `img_h * img_w == n_vis`;
/// - `tile_shape = (tile_rows, tile_cols)`.
///
/// Takes the first `tile_rows * tile_cols` columns of W (filter `j = W[:, j]`, a picture
/// `[img_h, img_w]`), each tile scaled to [0, 1] on its own, 1-pixel spacing — exactly the
/// tutorial's `tile_raster_images(X=W.T, img_shape=(28, 28), tile_shape=(10, 10),
/// tile_spacing=(1, 1))`. Output `[(img_h + 1) * tile_rows - 1, (img_w + 1) * tile_cols - 1]`.
///
/// Degenerate input: if `img_h * img_w != n_vis` no filter is drawn (black grid); if `w` is
/// shorter than `n_vis * n_hid` only the complete columns are drawn; a zero in `img_shape` or
/// `tile_shape` gives an empty 0×0 image, as in [`tile_raster_images`].
pub fn filters_image(
    w: &[f32],
    n_vis: usize,
    n_hid: usize,
    img_shape: (usize, usize),
    tile_shape: (usize, usize),
) -> GrayImage {
    let spacing = (1, 1);
    let Some(mut out) = blank_grid(img_shape, tile_shape, spacing) else {
        return empty();
    };
    if img_shape.0 * img_shape.1 != n_vis {
        return out;
    }
    let (tile_rows, tile_cols) = tile_shape;
    // Column j is complete when its last entry W[n_vis - 1, j] exists.
    let last_row = (n_vis - 1).saturating_mul(n_hid); // n_vis > 0: it equals a nonzero img size
    let complete = n_hid.min(w.len().saturating_sub(last_row));
    let mut column = vec![0.0f32; n_vis]; // W[:, j]: [n_vis]
    for j in 0..complete.min(tile_rows * tile_cols) {
        for (i, dst) in column.iter_mut().enumerate() {
            *dst = w[i * n_hid + j];
        }
        draw_tile(&mut out, &column, img_shape, spacing, (j / tile_cols, j % tile_cols), true);
    }
    out
}

/// A grid with one row per group, e.g. `reconstructions.png` (originals / corrupted /
/// reconstructions).
///
/// - `rows: &[&[f32]]`, row `r` is `[k_r, img_h * img_w]` row-major (`k_r` pictures, each
///   `[img_h, img_w]`); only complete pictures are drawn;
/// - `img_shape = (img_h, img_w)`; `spacing` pixels (value 0) between tiles in both directions.
///
/// Picture `c` of row `r` goes to grid row `r`, column `c`. Values are clamped to [0, 1] (not
/// rescaled) and rounded to nearest: `round(clamp(v, 0, 1) * 255)`, NaN → 0. Output
/// `[(img_h + s) * rows.len() - s, (img_w + s) * max_r(k_r) - s]`; rows with fewer pictures
/// than the longest leave black tiles. No rows, no complete picture or a zero in `img_shape`
/// gives an empty 0×0 image.
pub fn image_rows(rows: &[&[f32]], img_shape: (usize, usize), spacing: usize) -> GrayImage {
    let pic_len = img_shape.0.saturating_mul(img_shape.1);
    if pic_len == 0 {
        return empty();
    }
    let cols = rows.iter().map(|row| row.len() / pic_len).max().unwrap_or(0);
    let spacing = (spacing, spacing);
    let Some(mut out) = blank_grid(img_shape, (rows.len(), cols), spacing) else {
        return empty();
    };
    for (r, row) in rows.iter().enumerate() {
        for (c, pic) in row.chunks_exact(pic_len).enumerate() {
            draw_tile(&mut out, pic, img_shape, spacing, (r, c), false);
        }
    }
    out
}

/// The `reconstructions.png` picture: 3 rows × `n` digits with 1-pixel black spacing — row 0 the
/// originals, row 1 their corrupted versions (the encoder's input), row 2 the reconstructions.
///
/// - `original`, `corrupted`, `reconstructed`: each `[≥ n, img_h * img_w]` row-major (the first
///   `n` pictures are drawn, further ones ignored), values in [0, 1];
/// - `img_shape = (img_h, img_w)`, e.g. (28, 28).
///
/// Values are clamped to [0, 1] and rounded, as in [`image_rows`]. The output is always
/// `[(img_h + 1) * 3 - 1, (img_w + 1) * n - 1]` (for MNIST and n = 10: 86×289, height × width);
/// a group with fewer than `n` complete pictures leaves its remaining tiles black. `n = 0` or a
/// zero in `img_shape` gives an empty 0×0 image.
pub fn reconstructions_image(
    original: &[f32],
    corrupted: &[f32],
    reconstructed: &[f32],
    n: usize,
    img_shape: (usize, usize),
) -> GrayImage {
    let spacing = (1, 1);
    let Some(mut out) = blank_grid(img_shape, (3, n), spacing) else {
        return empty();
    };
    let pic_len = img_shape.0 * img_shape.1; // cannot overflow: it fits in the grid
    for (r, group) in [original, corrupted, reconstructed].into_iter().enumerate() {
        for (c, pic) in group.chunks_exact(pic_len).take(n).enumerate() {
            draw_tile(&mut out, pic, img_shape, spacing, (r, c), false);
        }
    }
    out
}
