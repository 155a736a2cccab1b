//! Pictures: tile_raster_images (layout, per-tile scaling, degenerate input), filters_image,
//! image_rows, reconstructions_image, PNG encoding and atomic saving; moving_average, the
//! curves plot and the SdA's figure of them.

use std::path::Path;

use gpu_dae::model::sda::{FinetuneScope, SdaConfig};
use gpu_dae::train::{Phase, SdaCurves, SdaRow, SdaRun};
use gpu_dae::viz::{
    Axis, Curves, GrayImage, MARKER_RGB, MOVING_AVERAGE_WINDOW, RgbImage, Series, curves_png,
    figure_png, filters_image, image_rows, moving_average, reconstructions_image,
    tile_raster_images,
};

use crate::util::{Rel, Tol};

/// Pixel at row `r`, column `c`.
fn px(img: &GrayImage, r: usize, c: usize) -> u8 {
    assert!(r < img.height && c < img.width, "({r}, {c}) outside {}x{}", img.height, img.width);
    img.pixels[r * img.width + c]
}

/// Pixels of the tile at grid position `(tr, tc)`: `[img_h * img_w]` row-major.
fn tile(
    img: &GrayImage,
    img_shape: (usize, usize),
    spacing: (usize, usize),
    (tr, tc): (usize, usize),
) -> Vec<u8> {
    let (h, w) = img_shape;
    let (top, left) = (tr * (h + spacing.0), tc * (w + spacing.1));
    (0..h)
        .flat_map(|r| (0..w).map(move |c| (top + r, left + c)))
        .map(|(r, c)| px(img, r, c))
        .collect()
}

/// Whether pixel `(r, c)` lies in a spacing band of the grid.
fn in_spacing(r: usize, c: usize, img_shape: (usize, usize), spacing: (usize, usize)) -> bool {
    r % (img_shape.0 + spacing.0) >= img_shape.0 || c % (img_shape.1 + spacing.1) >= img_shape.1
}

/// Deterministic pseudo-random values in [lo, hi) (xorshift), `n` of them.
fn values(n: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            lo + (hi - lo) * ((s >> 40) as f32 / (1u64 << 24) as f32)
        })
        .collect()
}

fn decode(bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("PNG header decodes");
    let mut buf = vec![0; reader.output_buffer_size().expect("buffer size fits")];
    let info = reader.next_frame(&mut buf).expect("PNG frame decodes");
    buf.truncate(info.buffer_size());
    (info, buf)
}

#[test]
fn output_size_follows_the_formula() {
    // (img_shape, tile_shape, spacing) → (height, width)
    let cases = [
        ((28, 28), (10, 10), (1, 1), (289, 289)),
        ((28, 28), (1, 1), (1, 1), (28, 28)),
        ((2, 4), (3, 5), (2, 3), ((2 + 2) * 3 - 2, (4 + 3) * 5 - 3)),
        ((3, 2), (1, 4), (0, 0), (3, 8)),
        ((5, 7), (2, 1), (4, 9), (14, 7)),
    ];
    for (img_shape, tile_shape, spacing, (h, w)) in cases {
        let n = tile_shape.0 * tile_shape.1 * img_shape.0 * img_shape.1;
        for scale in [false, true] {
            let img =
                tile_raster_images(&values(n, 1, 0.0, 1.0), img_shape, tile_shape, spacing, scale);
            assert_eq!((img.height, img.width), (h, w), "{img_shape:?} {tile_shape:?} {spacing:?}");
            assert_eq!(img.pixels.len(), h * w);
        }
        // The size does not depend on how many pictures there are.
        let img = tile_raster_images(&[], img_shape, tile_shape, spacing, true);
        assert_eq!((img.height, img.width), (h, w));
        assert!(img.pixels.iter().all(|&p| p == 0));
    }
}

#[test]
fn spacing_pixels_are_black_and_tiles_are_filled() {
    let (img_shape, tile_shape, spacing) = ((3, 4), (2, 3), (2, 1));
    let n = 6 * 12;
    // All-ones pictures, not rescaled: every tile pixel is 255, every spacing pixel 0.
    let img = tile_raster_images(&vec![1.0; n], img_shape, tile_shape, spacing, false);
    for r in 0..img.height {
        for c in 0..img.width {
            let expected = if in_spacing(r, c, img_shape, spacing) { 0 } else { 255 };
            assert_eq!(px(&img, r, c), expected, "pixel ({r}, {c})");
        }
    }
    // Random pictures rescaled per tile: spacing stays 0.
    let img = tile_raster_images(&values(n, 7, -3.0, 9.0), img_shape, tile_shape, spacing, true);
    for r in 0..img.height {
        for c in 0..img.width {
            if in_spacing(r, c, img_shape, spacing) {
                assert_eq!(px(&img, r, c), 0, "spacing pixel ({r}, {c})");
            }
        }
    }
}

#[test]
fn each_tile_is_scaled_on_its_own() {
    // Tile 0 in [5, 6], tile 1 in [-1, 1]; both must span 0..=255 independently.
    let x = [
        5.0, 6.0, 5.25, 5.75, // tile 0: [2, 2]
        -1.0, 1.0, -0.5, 0.5, // tile 1
    ];
    let img = tile_raster_images(&x, (2, 2), (1, 2), (1, 1), true);
    assert_eq!(tile(&img, (2, 2), (1, 1), (0, 0)), [0, 255, 64, 191]);
    assert_eq!(tile(&img, (2, 2), (1, 1), (0, 1)), [0, 255, 64, 191]);
}

#[test]
fn a_constant_tile_stays_black_not_nan() {
    let x = [
        3.0, 3.0, 3.0, 3.0, // constant tile
        0.0, 2.0, 1.0, 0.0, // ordinary tile next to it
        0.0, 0.0, 0.0, 0.0, // constant zero
    ];
    let img = tile_raster_images(&x, (2, 2), (1, 3), (0, 0), true);
    assert_eq!(tile(&img, (2, 2), (0, 0), (0, 0)), [0; 4]);
    assert_eq!(tile(&img, (2, 2), (0, 0), (0, 1)), [0, 255, 128, 0]);
    assert_eq!(tile(&img, (2, 2), (0, 0), (0, 2)), [0; 4]);
}

#[test]
fn tiles_are_laid_out_row_by_row() {
    // Non-square pictures and spacing so that a swapped axis would show.
    let (img_shape, tile_shape, spacing) = ((2, 3), (3, 4), (1, 2));
    let pic_len = 6;
    let n = 10; // fewer than the 12 tiles
    // Picture k is constant (k + 1) / 20: recognisable without rescaling.
    let level = |k: usize| (k + 1) as f32 / 20.0;
    let x: Vec<f32> = (0..n).flat_map(|k| std::iter::repeat_n(level(k), pic_len)).collect();
    let img = tile_raster_images(&x, img_shape, tile_shape, spacing, false);
    for k in 0..12 {
        let pos = (k / 4, k % 4);
        let expected = if k < n { (level(k) * 255.0).round() as u8 } else { 0 };
        assert_eq!(
            tile(&img, img_shape, spacing, pos),
            vec![expected; pic_len],
            "tile {k} at {pos:?}"
        );
    }
}

#[test]
fn pixels_within_a_picture_are_row_major() {
    // One [2, 3] picture with distinct values p / 5, p = 0..6 (clamped: p = 5 → 1.0).
    let x: Vec<f32> = (0..6).map(|p| p as f32 / 5.0).collect();
    let img = tile_raster_images(&x, (2, 3), (1, 1), (0, 0), false);
    assert_eq!((img.height, img.width), (2, 3));
    assert_eq!(img.pixels, [0, 51, 102, 153, 204, 255]);
}

#[test]
fn unscaled_values_are_clamped_and_rounded_to_nearest() {
    let x = [-3.0, 0.5, 7.0, 100.6 / 255.0, f32::NAN, 1.0, 0.0, 1e-9];
    let img = tile_raster_images(&x, (1, 8), (1, 1), (0, 0), false);
    // 0.5 → 127.5 → 128; 100.6 → 101 (truncation would give 100); NaN → 0.
    assert_eq!(img.pixels, [0, 128, 255, 101, 0, 255, 0, 0]);
}

#[test]
fn extra_and_partial_pictures_are_not_drawn() {
    // 2.5 pictures of [1, 2] for 4 tiles: two drawn, the partial third and the fourth black.
    let x = [1.0, 1.0, 0.2, 0.2, 1.0];
    let img = tile_raster_images(&x, (1, 2), (1, 4), (0, 1), false);
    assert_eq!(img.pixels, [255, 255, 0, 51, 51, 0, 0, 0, 0, 0, 0]);
    // More pictures than tiles: only the first tiles are drawn.
    let x = [0.2, 0.4, 0.6, 0.8];
    let img = tile_raster_images(&x, (1, 1), (1, 2), (0, 0), false);
    assert_eq!(img.pixels, [51, 102]);
}

#[test]
fn degenerate_shapes_give_an_empty_image() {
    let x = values(100, 3, 0.0, 1.0);
    for (img_shape, tile_shape) in [
        ((0, 28), (10, 10)),
        ((28, 0), (10, 10)),
        ((5, 5), (0, 3)),
        ((5, 5), (3, 0)),
        ((0, 0), (0, 0)),
    ] {
        for scale in [false, true] {
            let img = tile_raster_images(&x, img_shape, tile_shape, (1, 1), scale);
            assert_eq!(
                (img.width, img.height, img.pixels.len()),
                (0, 0, 0),
                "{img_shape:?} {tile_shape:?}"
            );
        }
        let img = filters_image(&x, 10, 10, img_shape, tile_shape);
        assert_eq!((img.width, img.height, img.pixels.len()), (0, 0, 0));
    }
    // A size that overflows usize is treated the same way, without allocating or panicking.
    let img = tile_raster_images(&x, (usize::MAX / 2, 3), (4, 1), (0, 0), true);
    assert_eq!((img.width, img.height), (0, 0));
    // The empty image cannot be a PNG: an error, not a panic.
    let empty = tile_raster_images(&x, (0, 0), (1, 1), (0, 0), false);
    assert!(empty.encode_png().is_err());
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(empty.save(&dir.path().join("empty.png")).is_err());
    assert_eq!(std::fs::read_dir(dir.path()).expect("list dir").count(), 0);
}

#[test]
fn filters_image_takes_the_columns_of_w() {
    // n_vis = 2 * 3, n_hid = 7, grid 2x2: filters 0..4 are drawn, 4..7 are not.
    let (n_vis, n_hid, img_shape, tile_shape) = (6, 7, (2, 3), (2, 2));
    // Column j = 10 j everywhere (a per-column offset the per-tile scaling removes) plus a single
    // bright pixel at i = j % n_vis. Taking rows instead of columns would draw something else.
    let mark = |j: usize| j % n_vis;
    let w: Vec<f32> = (0..n_vis * n_hid)
        .map(|idx| {
            let (i, j) = (idx / n_hid, idx % n_hid);
            10.0 * j as f32 + if i == mark(j) { 1.0 } else { 0.0 }
        })
        .collect();
    let img = filters_image(&w, n_vis, n_hid, img_shape, tile_shape);
    assert_eq!((img.height, img.width), (3 * 2 - 1, 4 * 2 - 1));
    for j in 0..4 {
        let mut expected = vec![0u8; n_vis];
        expected[mark(j)] = 255;
        assert_eq!(tile(&img, img_shape, (1, 1), (j / 2, j % 2)), expected, "filter {j}");
    }
    // Spacing of one black pixel: row 2 and column 3.
    assert!((0..img.width).all(|c| px(&img, 2, c) == 0));
    assert!((0..img.height).all(|r| px(&img, r, 3) == 0));

    // Fewer filters than tiles: the rest of the grid stays black.
    let w3: Vec<f32> =
        (0..n_vis * 3).map(|idx| if idx / 3 == idx % 3 { 1.0 } else { 0.0 }).collect();
    let img = filters_image(&w3, n_vis, 3, img_shape, tile_shape);
    for j in 0..3 {
        let mut expected = vec![0u8; n_vis];
        expected[j] = 255;
        assert_eq!(tile(&img, img_shape, (1, 1), (j / 2, j % 2)), expected);
    }
    assert_eq!(tile(&img, img_shape, (1, 1), (1, 1)), vec![0; n_vis]);
}

#[test]
fn filters_image_is_tile_raster_images_of_w_transposed() {
    let (n_vis, n_hid) = (28 * 28, 120);
    let w = values(n_vis * n_hid, 11, -0.3, 0.3);
    let mut wt = vec![0.0; n_vis * n_hid]; // Wᵀ: [n_hid, n_vis]
    for i in 0..n_vis {
        for j in 0..n_hid {
            wt[j * n_vis + i] = w[i * n_hid + j];
        }
    }
    let filters = filters_image(&w, n_vis, n_hid, (28, 28), (10, 10));
    let reference = tile_raster_images(&wt, (28, 28), (10, 10), (1, 1), true);
    assert_eq!((filters.height, filters.width), (289, 289));
    assert_eq!(filters, reference);
    // Every tile is scaled on its own: each reaches both 0 and 255.
    for k in 0..100 {
        let t = tile(&filters, (28, 28), (1, 1), (k / 10, k % 10));
        assert_eq!((t.iter().min(), t.iter().max()), (Some(&0), Some(&255)), "tile {k}");
    }
}

#[test]
fn filters_image_with_bad_shapes_does_not_panic() {
    let w = values(6 * 4, 5, -1.0, 1.0);
    // img_h * img_w != n_vis: black grid of the formula's size.
    let img = filters_image(&w, 6, 4, (2, 2), (2, 2));
    assert_eq!((img.height, img.width), (5, 5));
    assert!(img.pixels.iter().all(|&p| p == 0));
    // w shorter than n_vis * n_hid: only complete columns are drawn (here 0 and 1 of 4).
    let short = &w[..5 * 4 + 2];
    let img = filters_image(short, 6, 4, (2, 3), (1, 4));
    let full = filters_image(&w, 6, 4, (2, 3), (1, 4));
    for j in 0..4 {
        let got = tile(&img, (2, 3), (1, 1), (0, j));
        if j < 2 {
            assert_eq!(got, tile(&full, (2, 3), (1, 1), (0, j)));
        } else {
            assert_eq!(got, vec![0; 6]);
        }
    }
    // n_hid = 0 or an empty w: black grid.
    assert!(filters_image(&[], 6, 0, (2, 3), (2, 2)).pixels.iter().all(|&p| p == 0));
    assert!(filters_image(&[], 6, 4, (2, 3), (2, 2)).pixels.iter().all(|&p| p == 0));
}

#[test]
fn image_rows_puts_one_group_per_row_clamped_not_rescaled() {
    let img_shape = (2, 3);
    let originals: Vec<f32> = (0..4).flat_map(|k| [0.2 + 0.1 * k as f32; 6]).collect();
    let corrupted = [0.0f32; 4 * 6];
    let mut recon: Vec<f32> = vec![0.3; 4 * 6];
    recon[0] = -2.0; // clamped to 0
    recon[1] = 4.0; // clamped to 1
    let img = image_rows(&[&originals, &corrupted, &recon], img_shape, 1);
    assert_eq!((img.height, img.width), ((2 + 1) * 3 - 1, (3 + 1) * 4 - 1));
    for c in 0..4 {
        let level = ((0.2 + 0.1 * c as f32) * 255.0).round() as u8;
        assert_eq!(tile(&img, img_shape, (1, 1), (0, c)), vec![level; 6], "original {c}");
        assert_eq!(tile(&img, img_shape, (1, 1), (1, c)), vec![0; 6], "corrupted {c}");
    }
    let mut first = vec![77u8; 6]; // 0.3 * 255 = 76.5 → 77, not stretched to 0..255
    first[0] = 0;
    first[1] = 255;
    assert_eq!(tile(&img, img_shape, (1, 1), (2, 0)), first);
    assert_eq!(tile(&img, img_shape, (1, 1), (2, 3)), vec![77; 6]);
    for r in 0..img.height {
        for c in 0..img.width {
            if in_spacing(r, c, img_shape, (1, 1)) {
                assert_eq!(px(&img, r, c), 0);
            }
        }
    }
}

#[test]
fn image_rows_with_ragged_or_empty_input() {
    // Rows of 3, 1 and 2 pictures of [1, 1]: width from the longest row, black fill.
    let img = image_rows(&[&[1.0, 1.0, 1.0], &[0.2], &[1.0, 1.0]], (1, 1), 0);
    assert_eq!((img.height, img.width), (3, 3));
    assert_eq!(img.pixels, [255, 255, 255, 51, 0, 0, 255, 255, 0]);
    for empty in [
        image_rows(&[], (2, 2), 1),
        image_rows(&[&[], &[]], (2, 2), 1),
        image_rows(&[&[1.0]], (0, 2), 1),
    ] {
        assert_eq!((empty.width, empty.height, empty.pixels.len()), (0, 0, 0));
    }
}

#[test]
fn encode_png_round_trips() {
    let (width, height) = (7, 5);
    let pixels: Vec<u8> = (0..width * height).map(|i| (i * 37 % 256) as u8).collect();
    let img = GrayImage { width, height, pixels };
    let bytes = img.encode_png().expect("encodes");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let (info, decoded) = decode(&bytes);
    assert_eq!((info.width, info.height), (width as u32, height as u32));
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    assert_eq!(decoded, img.pixels);

    // A real filters picture round-trips too.
    let filters = filters_image(&values(784 * 100, 2, -1.0, 1.0), 784, 100, (28, 28), (10, 10));
    let (info, decoded) = decode(&filters.encode_png().expect("encodes"));
    assert_eq!((info.width, info.height), (289, 289));
    assert_eq!(decoded, filters.pixels);
}

#[test]
fn encode_png_rejects_inconsistent_pixels() {
    let img = GrayImage { width: 3, height: 2, pixels: vec![0; 5] };
    let err = img.encode_png().expect_err("5 pixels for 3x2");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn save_writes_a_decodable_png_and_no_temp_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("filters.png");
    let img = tile_raster_images(&values(4 * 12, 9, 0.0, 1.0), (3, 4), (2, 2), (1, 1), true);
    img.save(&path).expect("saves");
    let (info, decoded) = decode(&std::fs::read(&path).expect("reads back"));
    assert_eq!((info.width as usize, info.height as usize), (img.width, img.height));
    assert_eq!(decoded, img.pixels);
    // Overwriting works and still leaves exactly one file behind.
    let black = GrayImage { width: 2, height: 2, pixels: vec![0; 4] };
    black.save(&path).expect("overwrites");
    assert_eq!(decode(&std::fs::read(&path).expect("reads back")).1, [0; 4]);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list dir")
        .map(|e| e.expect("dir entry").file_name())
        .collect();
    assert_eq!(names, ["filters.png"]);
    // A missing directory is an error naming the path, not a panic.
    let missing = dir.path().join("no-such-dir").join("x.png");
    let err = black.save(&missing).expect_err("directory does not exist");
    assert!(err.to_string().contains("no-such-dir"), "{err}");
}

#[test]
fn reconstructions_image_is_three_rows_of_n() {
    let img_shape = (2, 3);
    let pic = |level: f32| vec![level; 6];
    // 4 originals (1 more than n = 3 is ignored), 3 corrupted, only 2 reconstructions.
    let originals: Vec<f32> = [0.1, 0.2, 0.3, 0.9].iter().flat_map(|&l| pic(l)).collect();
    let corrupted: Vec<f32> = [0.4, 0.5, 0.6].iter().flat_map(|&l| pic(l)).collect();
    let recon: Vec<f32> = [1.5, 0.7].iter().flat_map(|&l| pic(l)).collect(); // 1.5 clamped
    let img = reconstructions_image(&originals, &corrupted, &recon, 3, img_shape);
    assert_eq!((img.height, img.width), ((2 + 1) * 3 - 1, (3 + 1) * 3 - 1));
    let level = |v: f32| (v * 255.0).round() as u8;
    let expected = [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [1.0, 0.7, 0.0]];
    for (r, row) in expected.iter().enumerate() {
        for (c, &v) in row.iter().enumerate() {
            assert_eq!(tile(&img, img_shape, (1, 1), (r, c)), vec![level(v); 6], "({r}, {c})");
        }
    }
    for r in 0..img.height {
        for c in 0..img.width {
            if in_spacing(r, c, img_shape, (1, 1)) {
                assert_eq!(px(&img, r, c), 0, "spacing ({r}, {c})");
            }
        }
    }
    // MNIST, 10 digits: 86 x 289 (height x width), whatever is missing stays black.
    let img = reconstructions_image(&[], &[], &[], 10, (28, 28));
    assert_eq!((img.height, img.width), (86, 289));
    assert!(img.pixels.iter().all(|&p| p == 0));
    // The same as image_rows when every group has n pictures.
    let x = values(5 * 784, 4, 0.0, 1.0);
    let img = reconstructions_image(&x, &x, &x, 5, (28, 28));
    assert_eq!(img, image_rows(&[&x, &x, &x], (28, 28), 1));
    // Degenerate: empty picture.
    for img in [
        reconstructions_image(&x, &x, &x, 0, (28, 28)),
        reconstructions_image(&x, &x, &x, 5, (0, 28)),
    ] {
        assert_eq!((img.width, img.height, img.pixels.len()), (0, 0, 0));
    }
}

/// Asserts `got` ≈ `expected` element-wise (`Rel::F32_MEANS`), NaN where NaN is expected.
fn assert_means(got: &[f32], expected: &[f32]) {
    assert_eq!(got.len(), expected.len(), "{got:?} vs {expected:?}");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        if e.is_nan() {
            assert!(g.is_nan(), "[{i}]: {g} vs NaN");
        } else {
            Rel::F32_MEANS.check(&format!("[{i}]"), f64::from(*g), f64::from(*e));
        }
    }
}

#[test]
fn moving_average_is_trailing_and_averages_what_exists() {
    let xs = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    assert_means(&moving_average(&xs, 3), &[1.0, 1.5, 2.0, 3.0, 4.0, 5.0]);
    assert_means(&moving_average(&xs, 1), &xs);
    assert_means(&moving_average(&xs, 0), &xs); // 0 is taken as 1
    // A window longer than the series: the running mean.
    assert_means(&moving_average(&xs, 25), &[1.0, 1.5, 2.0, 2.5, 3.0, 3.5]);
    assert!(moving_average(&[], 25).is_empty());
    assert_means(&moving_average(&[7.0], 25), &[7.0]);
}

#[test]
fn moving_average_skips_non_finite_values() {
    let xs = [f32::NAN, 2.0, f32::INFINITY, 4.0, f32::NAN, f32::NAN, f32::NEG_INFINITY, 8.0];
    // Windows of 2: finite values only; NaN where a window has none.
    assert_means(&moving_average(&xs, 2), &[f32::NAN, 2.0, 2.0, 4.0, 4.0, f32::NAN, f32::NAN, 8.0]);
}

#[test]
fn moving_average_matches_the_direct_mean_on_a_long_series() {
    // 25 000 values (a ReLU-DAE run), window 25: the running sum must not drift.
    let xs = values(25_000, 8, 100.0, 900.0);
    let ma = moving_average(&xs, MOVING_AVERAGE_WINDOW);
    for i in [0usize, 1, 23, 24, 25, 1000, 24_999] {
        let window = &xs[i.saturating_sub(MOVING_AVERAGE_WINDOW - 1)..=i];
        let mean = window.iter().map(|&v| f64::from(v)).sum::<f64>() / window.len() as f64;
        let got = f64::from(ma[i]);
        assert!(Tol::RUNNING_MEAN.accepts(got, mean), "[{i}]: {got} vs {mean}");
    }
}

/// A realistic run: `n` noisy, decreasing per-step costs and a sparsity fraction in [0, 1].
fn training_run(n: usize) -> (Vec<f32>, Vec<f32>) {
    let noise = values(2 * n, 21, -1.0, 1.0);
    let cost = (0..n)
        .map(|i| {
            let t = i as f32 / n as f32;
            60.0 + 140.0 * (-5.0 * t).exp() + 25.0 * noise[i] * (1.0 - 0.5 * t)
        })
        .collect();
    let sparsity = (0..n)
        .map(|i| {
            let t = i as f32 / n as f32;
            (0.55 - 0.3 * (1.0 - (-4.0 * t).exp()) + 0.04 * noise[n + i]).clamp(0.0, 1.0)
        })
        .collect();
    (cost, sparsity)
}

/// Decodes an RGB PNG: its size and the number of distinct colours.
fn decode_rgb(path: &Path) -> ((u32, u32), usize) {
    let (info, pixels) = decode(&std::fs::read(path).expect("reads back"));
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let colours: std::collections::HashSet<&[u8]> = pixels.chunks_exact(3).collect();
    ((info.width, info.height), colours.len())
}

/// With `GPU_DAE_KEEP_PICTURES=DIR` set, copies the picture at `path` to `DIR/name` so that a
/// person can look at it.
fn keep(path: &Path, name: &str) {
    if let Some(dir) = std::env::var_os("GPU_DAE_KEEP_PICTURES") {
        std::fs::copy(path, Path::new(&dir).join(name)).expect("copies the picture");
    }
}

fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list dir")
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn curves_png_writes_a_picture_of_the_requested_size() {
    let (cost, sparsity) = training_run(2500);
    let curves = Curves::new(
        "ReLU-DAE 784-225, per-example SGD",
        "step",
        Axis::new(
            "squared error",
            vec![Series::new("error", &cost).with_moving_average(MOVING_AVERAGE_WINDOW)],
        ),
    )
    .with_right(Axis::new(
        "fraction of hidden units > 0",
        vec![Series::new("sparsity", &sparsity).with_moving_average(MOVING_AVERAGE_WINDOW)],
    ));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("curves.png");
    curves_png(&path, &curves).expect("writes curves.png");
    let (size, colours) = decode_rgb(&path);
    assert_eq!(size, (1000, 600));
    // Not blank: white, text grays, grid and four line colours (with antialiasing, many more).
    assert!(colours >= 6, "only {colours} colours");
    assert_eq!(dir_names(dir.path()), ["curves.png"]);

    keep(&path, "curves_example.png");

    // Another size, and overwriting leaves one file.
    curves_png(&path, &curves.clone().with_size(640, 400)).expect("overwrites");
    assert_eq!(decode_rgb(&path).0, (640, 400));
    assert_eq!(dir_names(dir.path()), ["curves.png"]);
}

#[test]
fn curves_png_per_epoch_with_several_series() {
    // 15 epochs, two left-axis series (dots at each epoch), no right axis.
    let a: Vec<f32> = (0..15).map(|e| 160.0 * (0.93f32).powi(e) + 60.0).collect();
    let b: Vec<f32> = (0..15).map(|e| 120.0 * (0.9f32).powi(e) + 62.0).collect();
    let curves = Curves::new(
        "dA 784-500",
        "epoch",
        Axis::new(
            "cross-entropy",
            vec![Series::new("corruption 0 %", &a), Series::new("corruption 30 %", &b)],
        ),
    );
    let image = curves.render().expect("renders");
    assert_eq!((image.width, image.height, image.pixels.len()), (1000, 600, 1000 * 600 * 3));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("curves.png");
    curves_png(&path, &curves).expect("writes");
    assert!(decode_rgb(&path).1 >= 4);
    keep(&path, "curves_per_epoch.png");
}

#[test]
fn curves_png_survives_degenerate_input() {
    let nan = [f32::NAN; 10];
    let mixed = [f32::NAN, 3.0, f32::INFINITY, f32::NEG_INFINITY, 2.0, f32::NAN, 5.0];
    let constant = [0.25f32; 100];
    let zeros = [0.0f32; 3];
    let huge = [f32::MAX, -f32::MAX, 1.0];
    let tiny = [1e-30f32, 2e-30, 1.5e-30];
    let one = [42.0f32];
    let cases: Vec<(&str, Vec<Series>, Option<Series>)> = vec![
        ("no series", vec![], None),
        ("empty", vec![Series::new("cost", &[])], Some(Series::new("sparsity", &[]))),
        ("all NaN", vec![Series::new("cost", &nan).with_moving_average(25)], None),
        ("mixed", vec![Series::new("cost", &mixed).with_moving_average(3)], None),
        ("constant", vec![Series::new("c", &constant)], Some(Series::new("z", &zeros))),
        ("one point", vec![Series::new("cost", &one).with_moving_average(25)], None),
        ("huge", vec![Series::new("cost", &huge)], Some(Series::new("tiny", &tiny))),
        ("bad x", vec![Series::new("cost", &mixed).with_x(f64::NAN, 1.0)], None),
        ("x overflow", vec![Series::new("cost", &constant).with_x(1.0, f64::MAX)], None),
        ("only right", vec![], Some(Series::new("sparsity", &constant))),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, left, right) in cases {
        let mut curves = Curves::new(name, "step", Axis::new("cost", left));
        if let Some(right) = right {
            curves = curves.with_right(Axis::new("fraction", vec![right]));
        }
        let path = dir.path().join(format!("{name}.png"));
        curves_png(&path, &curves).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (size, colours) = decode_rgb(&path);
        assert_eq!(size, (1000, 600), "{name}");
        assert!(colours >= 2, "{name}: blank picture");
        keep(&path, &format!("curves_{}.png", name.replace(' ', "_")));
    }
    // More legend than picture: many long labels at the smallest size.
    let labels: Vec<String> =
        (0..40).map(|k| format!("series number {k} with a rather long label")).collect();
    let many: Vec<Series> =
        labels.iter().map(|l| Series::new(l, &constant).with_moving_average(5)).collect();
    let crowded = Curves::new("crowded", "step", Axis::new("cost", many))
        .with_size(Curves::MIN_SIZE.0, Curves::MIN_SIZE.1);
    let path = dir.path().join("crowded.png");
    curves_png(&path, &crowded).expect("a crowded legend draws");
    keep(&path, "curves_crowded.png");
    // The smallest accepted size still draws.
    let small = Curves::new("small", "step", Axis::new("cost", vec![Series::new("c", &mixed)]))
        .with_size(Curves::MIN_SIZE.0, Curves::MIN_SIZE.1);
    curves_png(&dir.path().join("small.png"), &small).expect("smallest size draws");
    keep(&dir.path().join("small.png"), "curves_small.png");
}

#[test]
fn curves_png_rejects_bad_sizes_and_paths_without_leaving_files() {
    let cost = [3.0f32, 2.0, 1.0];
    let curves = Curves::new("t", "epoch", Axis::new("cost", vec![Series::new("cost", &cost)]));
    let dir = tempfile::tempdir().expect("temp dir");
    for (w, h) in [(0, 0), (10, 600), (1000, 10), (Curves::MAX_SIDE + 1, 600)] {
        let err = curves_png(&dir.path().join("c.png"), &curves.clone().with_size(w, h))
            .expect_err("size rejected");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{w}x{h}");
    }
    assert!(dir_names(dir.path()).is_empty());
    let missing = dir.path().join("no-such-dir").join("curves.png");
    let err = curves_png(&missing, &curves).expect_err("directory does not exist");
    assert!(err.to_string().contains("no-such-dir"), "{err}");
    assert!(dir_names(dir.path()).is_empty());
}

#[test]
fn a_few_early_spikes_do_not_squash_a_long_curve() {
    // 4 000 per-step costs falling from 80 to 60, with a first step of 800 (the dA's shape;
    // the spike also lifts the first 25 points of the moving average).
    let mut costs: Vec<f32> = (0..4000).map(|i| 80.0 - 20.0 * i as f32 / 4000.0).collect();
    costs[0] = 800.0;
    let axis = Axis::new("cost", vec![Series::new("cost", &costs).with_moving_average(25)]);
    let curves = Curves::new("spike", "step", axis);
    let (range, clipped) = curves.y_range(false);
    assert!(clipped, "the spike is clipped");
    assert!(range.end < 100.0 && range.start < 61.0, "the range covers the curve: {range:?}");
    // A short series is never clipped: its spike stays in range.
    let short = Axis::new("cost", vec![Series::new("cost", &costs[..50])]);
    let (range, clipped) = Curves::new("short", "step", short).y_range(false);
    assert!(!clipped && range.end >= 800.0, "{range:?}");
    // The picture still renders, with every point drawn inside the frame.
    curves.render().expect("renders");
}

/// The settings of an SdA run of `layers` hidden layers of 100 units (the title only).
fn sda_run(layers: usize) -> SdaRun {
    SdaRun {
        model: SdaConfig {
            n_in: 784,
            hidden: vec![100; layers],
            corruption: vec![0.1; layers],
            n_out: 10,
            layer: gpu_dae::model::sda::LayerKind::Da,
            contraction: 0.0,
        },
        batch: 20,
        pretrain_lr: 0.05,
        pretrain_epochs: 3,
        finetune_lr: 0.5,
        finetune: FinetuneScope::Full,
        epochs: 5,
        seed: 1,
        eval_chunk: 500,
    }
}

/// A fine-tuning epoch's metrics: (mean NLL, validation error %, test error %).
type FinetuneEpoch = (f32, Option<f64>, Option<f64>);

/// SdA metrics rows: `pretrain[k]` is layer k's cost per epoch, `finetune` one entry per
/// fine-tuning epoch.
fn sda_rows(pretrain: &[&[f32]], finetune: &[FinetuneEpoch]) -> Vec<SdaRow> {
    let row = |phase, layer, epoch, cost, valid_error, test_error| SdaRow {
        phase,
        layer,
        epoch,
        cost,
        valid_error,
        test_error,
        seconds: 1.0,
    };
    let pretraining = pretrain.iter().enumerate().flat_map(|(k, costs)| {
        costs
            .iter()
            .enumerate()
            .map(move |(e, &c)| row(Phase::Pretrain, Some(k), e + 1, c, None, None))
    });
    let finetuning = finetune
        .iter()
        .enumerate()
        .map(|(e, &(nll, v, t))| row(Phase::Finetune, None, e + 1, nll, v, t));
    pretraining.chain(finetuning).collect()
}

/// The column of `image` with the most marker-coloured pixels in rows `rows`, and how many.
fn marker_column(image: &RgbImage, rows: std::ops::Range<usize>) -> (usize, usize) {
    let mut counts = vec![0; image.width];
    for r in rows {
        for (c, count) in counts.iter_mut().enumerate() {
            let i = (r * image.width + c) * 3;
            *count += usize::from(image.pixels[i..i + 3] == MARKER_RGB);
        }
    }
    let (column, &count) =
        counts.iter().enumerate().max_by_key(|&(c, &n)| (n, std::cmp::Reverse(c))).unwrap();
    (column, count)
}

#[test]
fn sda_curves_show_each_phase_and_mark_the_best_epoch_inside_the_plot() {
    // Two layers whose costs differ in scale, then five fine-tuning epochs; the best is epoch 4.
    let finetune = [
        (0.9, Some(12.0), Some(12.5)),
        (0.5, Some(9.0), Some(9.4)),
        (0.4, Some(9.5), None),
        (0.35, Some(8.0), Some(8.2)),
        (0.3, Some(8.1), None),
    ];
    let rows = sda_rows(&[&[58.0, 55.0, 54.0], &[450.0, 430.0, 425.0]], &finetune);
    let curves = SdaCurves::new(&sda_run(2), &rows, 4);
    let figure = curves.figure();
    assert_eq!(figure.panels.len(), 2);
    // Each layer is drawn relative to its epoch 1: the axis spans about [0.94, 1], not [54, 450].
    let (range, _) = figure.panels[0].y_range(false);
    assert!(range.start > 0.9 && range.end < 1.01, "pretraining axis {range:?}");
    assert!(figure.panels[0].marker.is_none());
    let finetuning = &figure.panels[1];
    assert_eq!(finetuning.marker.map(|m| m.x), Some(4.0));
    let x = finetuning.x_range();
    assert!(x.start < 1.0 && x.end > 5.0, "the marker pads the x range: {x:?}");

    let image = figure.render().expect("renders");
    assert_eq!((image.width, image.height), (1000, 48 + 2 * 600));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("curves.png");
    figure_png(&path, &figure).expect("writes");
    assert_eq!(decode_rgb(&path).0, (1000, 1248));
    keep(&path, "curves_sda.png");
    // The marker is only in the fine-tuning panel; there it is a dashed line over most of the
    // plot's height.
    assert_eq!(marker_column(&image, 0..648).1, 0, "no marker in the pretraining panel");
    let (at_4, n) = marker_column(&image, 648..1248);
    assert!(n > 150, "a line of {n} pixels");

    // Moved to the first and the last epoch (the x range stays 0.8 ..= 5.2), the line moves
    // with x and stays inside the plot, clear of the image's edges.
    let column_at = |epoch: f64| {
        let mut moved = figure.clone();
        moved.panels[1] = moved.panels[1].clone().with_marker(epoch, "moved");
        marker_column(&moved.render().expect("renders"), 648..1248).0
    };
    let (at_1, at_5) = (column_at(1.0), column_at(5.0));
    assert!(60 < at_1 && at_1 < at_4 && at_4 < at_5 && at_5 < 940, "{at_1} {at_4} {at_5}");
    let share = (at_4 - at_1) as f64 / (at_5 - at_1) as f64;
    assert!((share - 0.75).abs() < 0.02, "epoch 4 at {share} of the way from 1 to 5");
}

#[test]
fn sda_curves_without_pretraining_and_with_one_fine_tuning_epoch() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases: [(&str, &[FinetuneEpoch]); 3] = [
        ("one epoch", &[(0.8, Some(11.0), Some(11.5))]),
        ("no validation", &[(0.8, None, None)]),
        ("no epoch", &[]),
    ];
    for (name, finetune) in cases {
        let rows = sda_rows(&[], finetune);
        let curves = SdaCurves::new(&sda_run(2), &rows, 1);
        let figure = curves.figure();
        assert_eq!(figure.panels.len(), 1, "{name}: only the fine-tuning panel");
        let image = figure.render().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((image.width, image.height), (1000, 48 + 600), "{name}");
        // The single epoch sits in the middle of the x range, and so does the marker.
        let x = figure.panels[0].x_range();
        assert!(x.start < 1.0 && 1.0 < x.end, "{name}: {x:?}");
        let (column, n) = marker_column(&image, 0..image.height);
        assert!(n > 150 && (300..750).contains(&column), "{name}: line of {n} at {column}");
        let path = dir.path().join("curves.png");
        figure_png(&path, &figure).unwrap_or_else(|e| panic!("{name}: {e}"));
        keep(&path, &format!("curves_sda_{}.png", name.replace(' ', "_")));
    }
}
