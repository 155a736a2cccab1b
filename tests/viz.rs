//! Pictures: tile_raster_images (layout, per-tile scaling, degenerate input), filters_image,
//! image_rows, PNG encoding and atomic saving.

use gpu_dae::viz::{GrayImage, filters_image, image_rows, tile_raster_images};

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
