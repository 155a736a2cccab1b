//! Data: the shipped MNIST files, the mnist.pkl.gz split, Fashion-MNIST, and one test per
//! malformed input (each asserting the specific `DataError` variant and that the message names
//! the file), plus random byte strings that must never make the parser panic.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use gpu_dae::data::{
    DataError, DataSet, load_dir, load_embedded, parse_images, parse_labels, read_images,
    read_labels,
};
use md5::{Digest, Md5};
use tempfile::TempDir;

const ASSETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/mnist");
const FASHION: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/fashion-mnist");

const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// The embedded MNIST, loaded once for all tests that need the full set.
fn embedded() -> &'static DataSet {
    static SET: OnceLock<DataSet> = OnceLock::new();
    SET.get_or_init(|| load_embedded(None).expect("embedded MNIST loads"))
}

/// Decompressed content of a gz file.
fn gunzip_file(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_end(&mut out).unwrap();
    out
}

/// gzip-compresses `bytes`.
fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A valid raw IDX images file: header `[0x803, n, rows, cols]`, then pixels `[n, rows*cols]`
/// with pixel j of image i = (7i + j) mod 256.
pub fn idx_images(n: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [0x803u32, n, rows, cols] {
        v.extend_from_slice(&x.to_be_bytes());
    }
    let dim = (rows * cols) as usize;
    v.extend((0..n as usize * dim).map(|k| ((k / dim) * 7 + k % dim) as u8));
    v
}

/// A valid raw IDX labels file: header `[0x801, n]`, then labels `[n]` = i mod 10.
pub fn idx_labels(n: u32) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [0x801u32, n] {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v.extend((0..n).map(|i| (i % 10) as u8));
    v
}

/// A temporary data directory with four valid files: `n_train` and `n_test` images of 4×3,
/// written gz-compressed (`name.gz`) or raw.
struct Fixture {
    dir: TempDir,
    gz: bool,
}

impl Fixture {
    fn new(n_train: u32, n_test: u32, gz: bool) -> Fixture {
        let f = Fixture { dir: TempDir::new().unwrap(), gz };
        f.write(TRAIN_IMAGES, &idx_images(n_train, 4, 3));
        f.write(TRAIN_LABELS, &idx_labels(n_train));
        f.write(TEST_IMAGES, &idx_images(n_test, 4, 3));
        f.write(TEST_LABELS, &idx_labels(n_test));
        f
    }

    /// Path of the standard file `name` (with `.gz` if the fixture is compressed).
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(if self.gz { format!("{name}.gz") } else { name.to_owned() })
    }

    /// Replaces file `name` by `raw` (compressed first if the fixture is gz).
    fn write(&self, name: &str, raw: &[u8]) {
        let bytes = if self.gz { gz(raw) } else { raw.to_vec() };
        self.write_bytes(name, &bytes);
    }

    /// Replaces file `name` by exactly `bytes`.
    fn write_bytes(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.path(name), bytes).unwrap();
    }

    fn load(&self, limit: Option<usize>) -> Result<DataSet, DataError> {
        load_dir(self.dir.path(), limit)
    }

    /// Loads, expecting an error whose message names `name`'s file; returns the error.
    fn load_err(&self, limit: Option<usize>, name: &str) -> DataError {
        let err = self.load(limit).expect_err("malformed data must be rejected");
        let file = self.path(name).display().to_string();
        assert!(
            err.to_string().contains(&file),
            "message {:?} does not name {file}",
            err.to_string()
        );
        err
    }
}

// ---- the shipped files and the split -------------------------------------------------------

#[test]
fn embedded_assets_decompress_to_the_known_md5s() {
    for (name, md5) in [
        (TRAIN_IMAGES, "6bbc9ace898e44ae57da46a324031adb"),
        (TRAIN_LABELS, "a25bea736e30d166cdddb491f175f624"),
        (TEST_IMAGES, "2646ac647ad5339dbf082846283269ea"),
        (TEST_LABELS, "27ae3e4e09519cfbb04c329615203637"),
    ] {
        let raw = gunzip_file(&Path::new(ASSETS).join(format!("{name}.gz")));
        assert_eq!(format!("{:x}", Md5::digest(&raw)), md5, "{name}");
    }
}

#[test]
fn embedded_mnist_splits_50000_10000_10000() {
    let set = embedded();
    assert_eq!(set.source, "embedded MNIST");
    assert_eq!((set.train.len(), set.valid.len(), set.test.len()), (50_000, 10_000, 10_000));
    for split in [&set.train, &set.valid, &set.test] {
        let im = &split.images;
        assert_eq!((im.n, im.rows, im.cols, im.dim()), (split.len(), 28, 28, 784));
        assert_eq!(im.pixels.len(), split.len() * 784);
        assert!(split.labels.iter().all(|&l| l <= 9));
    }
    // Every digit occurs in every split.
    for split in [&set.train, &set.valid, &set.test] {
        for d in 0..10u8 {
            assert!(split.labels.contains(&d), "digit {d} missing");
        }
    }
}

#[test]
fn embedded_valid_is_the_last_10000_training_images() {
    let set = embedded();
    let raw = gunzip_file(&Path::new(ASSETS).join(format!("{TRAIN_IMAGES}.gz")));
    let labels = gunzip_file(&Path::new(ASSETS).join(format!("{TRAIN_LABELS}.gz")));
    let full = parse_images(TRAIN_IMAGES, &raw).unwrap();
    assert_eq!(full.n, 60_000);
    // The raw parse agrees with the file bytes: image i starts at 16 + 784 i.
    assert_eq!(full.image(59_999), &raw[16 + 784 * 59_999..]);
    for i in [0, 1, 4_321, 9_998, 9_999] {
        assert_eq!(set.valid.images.image(i), full.image(50_000 + i), "valid {i}");
        assert_eq!(set.valid.labels[i], labels[8 + 50_000 + i], "valid label {i}");
    }
    for i in [0, 1, 25_000, 49_999] {
        assert_eq!(set.train.images.image(i), full.image(i), "train {i}");
        assert_eq!(set.train.labels[i], labels[8 + i], "train label {i}");
    }
}

#[test]
fn embedded_with_limit_600_splits_500_100_and_test_600() {
    let set = load_embedded(Some(600)).unwrap();
    assert_eq!((set.train.len(), set.valid.len(), set.test.len()), (500, 100, 600));
    assert_eq!(set.train.images.pixels.len(), 500 * 784);
    assert_eq!(set.valid.images.pixels.len(), 100 * 784);
    assert_eq!(set.test.images.pixels.len(), 600 * 784);
    // The limit is applied before the split: valid = training images 500..600.
    let full = embedded();
    assert_eq!(set.train.images.image(499), full.train.images.image(499));
    assert_eq!(set.valid.images.image(0), full.train.images.image(500));
    assert_eq!(set.test.images.image(599), full.test.images.image(599));
}

#[test]
fn fashion_mnist_loads_with_the_mnist_sizes() {
    let dir = Path::new(FASHION);
    assert!(dir.is_dir(), "{FASHION} must exist (it does in CI)");
    let set = load_dir(dir, None).unwrap();
    assert_eq!(set.source, dir.display().to_string());
    assert_eq!((set.train.len(), set.valid.len(), set.test.len()), (50_000, 10_000, 10_000));
    assert_eq!((set.train.images.rows, set.train.images.cols), (28, 28));
    assert_eq!((set.test.images.rows, set.test.images.cols), (28, 28));
    // Not the MNIST digits.
    assert_ne!(set.train.images.image(0), embedded().train.images.image(0));
}

#[test]
fn small_raw_and_gz_directories_load_and_split() {
    for gz in [false, true] {
        let f = Fixture::new(13, 6, gz);
        let set = f.load(None).unwrap();
        // ⌊13/6⌋ = 2 validation images.
        assert_eq!((set.train.len(), set.valid.len(), set.test.len()), (11, 2, 6));
        assert_eq!(set.valid.images.image(1), &idx_images(13, 4, 3)[16 + 12 * 12..]);
        assert_eq!(set.valid.labels, [1, 2]);
        let set = f.load(Some(12)).unwrap_err();
        assert!(matches!(set, DataError::LimitTooLarge { limit: 12, available: 6, .. }), "{set}");
        let set = f.load(Some(5)).unwrap_err();
        assert!(matches!(set, DataError::TooFewImages { n: 5, min: 6, .. }), "{set}");
        let set = f.load(Some(6)).unwrap();
        assert_eq!((set.train.len(), set.valid.len(), set.test.len()), (5, 1, 6));
    }
}

#[test]
fn gz_is_preferred_when_both_exist() {
    let f = Fixture::new(12, 3, true);
    // A broken raw twin is ignored.
    std::fs::write(f.dir.path().join(TRAIN_IMAGES), b"garbage").unwrap();
    assert_eq!(f.load(None).unwrap().train.len(), 10);
    // Without the .gz, the raw file is read (and rejected).
    std::fs::remove_file(f.path(TRAIN_IMAGES)).unwrap();
    let err = f.load(None).unwrap_err();
    assert!(matches!(err, DataError::Magic { found: 0x6761_7262, .. }), "{err}");
}

#[test]
fn read_images_and_labels_read_raw_and_gz_files() {
    for gz in [false, true] {
        let f = Fixture::new(7, 2, gz);
        let im = read_images(&f.path(TRAIN_IMAGES)).unwrap();
        assert_eq!((im.n, im.rows, im.cols, im.dim()), (7, 4, 3, 12));
        assert_eq!(im.pixels, idx_images(7, 4, 3)[16..]);
        assert_eq!(read_labels(&f.path(TRAIN_LABELS)).unwrap(), [0, 1, 2, 3, 4, 5, 6]);
    }
}

// ---- malformed inputs: one test each ---------------------------------------------------------

#[test]
fn truncated_gz_is_not_a_valid_gzip_stream() {
    let f = Fixture::new(12, 3, true);
    let full = gz(&idx_images(12, 4, 3));
    // Cut inside the deflate data, and cut only the CRC/size trailer.
    for cut in [full.len() / 2, full.len() - 4] {
        f.write_bytes(TRAIN_IMAGES, &full[..cut]);
        let err = f.load_err(None, TRAIN_IMAGES);
        assert!(matches!(err, DataError::Gzip { .. }), "{err}");
        assert!(err.to_string().contains("not a valid gzip stream"), "{err}");
    }
}

#[test]
fn wrong_magic_is_rejected() {
    let f = Fixture::new(12, 3, true);
    // A labels file where the images belong.
    f.write(TEST_IMAGES, &idx_labels(3));
    let err = f.load_err(None, TEST_IMAGES);
    assert!(matches!(err, DataError::Magic { found: 0x801, expected: 0x803, .. }), "{err}");
    f.write(TEST_IMAGES, &idx_labels(30));
    let err = f.load_err(None, TEST_IMAGES);
    assert!(matches!(err, DataError::Magic { found: 0x801, expected: 0x803, .. }), "{err}");
    assert!(
        err.to_string().ends_with("wrong magic 0x00000801, expected 0x00000803 (IDX images)"),
        "{err}"
    );
}

#[test]
fn image_label_count_mismatch_names_both_files() {
    let f = Fixture::new(12, 3, false);
    f.write(TRAIN_LABELS, &idx_labels(11));
    let err = f.load_err(None, TRAIN_IMAGES);
    assert!(matches!(err, DataError::CountMismatch { images: 12, labels: 11, .. }), "{err}");
    assert!(err.to_string().contains(&f.path(TRAIN_LABELS).display().to_string()), "{err}");
}

#[test]
fn label_10_is_rejected_with_its_index() {
    let f = Fixture::new(12, 3, true);
    let mut labels = idx_labels(12);
    labels[8 + 3] = 10;
    f.write(TRAIN_LABELS, &labels);
    let err = f.load_err(None, TRAIN_LABELS);
    assert!(matches!(err, DataError::BadLabel { index: 3, label: 10, .. }), "{err}");
    assert!(err.to_string().ends_with(".gz: label 10 at index 3, expected 0..=9"), "{err}");
}

#[test]
fn empty_file_is_rejected() {
    for gz in [false, true] {
        let f = Fixture::new(12, 3, gz);
        // Raw: zero bytes; gz: a valid gzip stream of zero bytes.
        f.write(TEST_LABELS, &[]);
        let err = f.load_err(None, TEST_LABELS);
        assert!(matches!(err, DataError::Empty { .. }), "{err}");
        assert!(err.to_string().ends_with(": empty file"), "{err}");
    }
}

#[test]
fn short_header_is_rejected() {
    for gz in [false, true] {
        let f = Fixture::new(12, 3, gz);
        f.write(TRAIN_LABELS, &idx_labels(12)[..5]);
        let err = f.load_err(None, TRAIN_LABELS);
        assert!(matches!(err, DataError::ShortHeader { found: 5, expected: 8, .. }), "{err}");
        // Too short even for the magic.
        f.write(TRAIN_LABELS, &[0, 0]);
        let err = f.load_err(None, TRAIN_LABELS);
        assert!(matches!(err, DataError::ShortHeader { found: 2, expected: 8, .. }), "{err}");
    }
}

#[test]
fn header_claiming_more_images_than_a_raw_file_holds_is_rejected() {
    let f = Fixture::new(12, 3, false);
    let mut bytes = idx_images(3, 4, 3);
    bytes[4..8].copy_from_slice(&10_000u32.to_be_bytes());
    f.write(TEST_IMAGES, &bytes);
    let err = f.load_err(None, TEST_IMAGES);
    assert!(
        matches!(err, DataError::Truncated { count: 10_000, expected: 120_000, found: 36, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("header claims 10000 images of 4×3 (120000 bytes) but the file holds 36"),
        "{err}"
    );
}

#[test]
fn header_claiming_more_than_a_gz_file_holds_is_rejected_without_allocating_the_claim() {
    let f = Fixture::new(12, 3, true);
    // u32::MAX images of u32::MAX × u32::MAX: ~2⁹⁶ bytes claimed, 36 present.
    let mut bytes = idx_images(3, 4, 3);
    for at in [4, 8, 12] {
        bytes[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    }
    f.write(TEST_IMAGES, &bytes);
    let err = f.load_err(None, TEST_IMAGES);
    let claimed = u128::from(u32::MAX).pow(3);
    assert!(
        matches!(err, DataError::Truncated { expected, found: 36, compressed: true, .. } if expected == claimed),
        "{err}"
    );
    // Labels too.
    f.write(TEST_IMAGES, &idx_images(3, 4, 3));
    let mut labels = idx_labels(3);
    labels[4..8].copy_from_slice(&60_000u32.to_be_bytes());
    f.write(TEST_LABELS, &labels);
    let err = f.load_err(None, TEST_LABELS);
    assert!(matches!(err, DataError::Truncated { count: 60_000, found: 3, .. }), "{err}");
}

#[test]
fn trailing_bytes_are_rejected() {
    for gz in [false, true] {
        let f = Fixture::new(12, 3, gz);
        let mut bytes = idx_images(12, 4, 3);
        bytes.extend_from_slice(&[0; 5]);
        f.write(TRAIN_IMAGES, &bytes);
        let err = f.load_err(None, TRAIN_IMAGES);
        assert!(
            matches!(
                err,
                DataError::TrailingBytes { expected: 144, trailing: 5, at_least: false, .. }
            ),
            "{err}"
        );
        let mut labels = idx_labels(3);
        labels.push(1);
        f.write(TEST_LABELS, &labels);
        f.write(TRAIN_IMAGES, &idx_images(12, 4, 3));
        let err = f.load_err(None, TEST_LABELS);
        assert!(matches!(err, DataError::TrailingBytes { trailing: 1, .. }), "{err}");
    }
}

#[test]
fn missing_file_is_reported_with_the_directory() {
    let f = Fixture::new(12, 3, true);
    std::fs::remove_file(f.path(TEST_LABELS)).unwrap();
    let err = f.load(None).unwrap_err();
    assert!(matches!(err, DataError::Missing { .. }), "{err}");
    let expected = format!(
        "{TEST_LABELS}: missing (expected {TEST_LABELS}[.gz] in {})",
        f.dir.path().display()
    );
    assert_eq!(err.to_string(), expected);
}

#[test]
fn zero_rows_or_cols_are_rejected() {
    for (rows, cols) in [(0, 3), (4, 0), (0, 0)] {
        let f = Fixture::new(12, 3, false);
        let mut bytes = idx_images(12, 4, 3);
        bytes[8..12].copy_from_slice(&u32::to_be_bytes(rows));
        bytes[12..16].copy_from_slice(&u32::to_be_bytes(cols));
        f.write(TRAIN_IMAGES, &bytes);
        let err = f.load_err(None, TRAIN_IMAGES);
        assert!(
            matches!(err, DataError::ZeroDimension { rows: r, cols: c, .. } if (r, c) == (rows, cols)),
            "{err}"
        );
    }
}

#[test]
fn train_and_test_image_sizes_must_agree() {
    let f = Fixture::new(12, 3, false);
    f.write(TEST_IMAGES, &idx_images(3, 3, 4));
    let err = f.load_err(None, TEST_IMAGES);
    assert!(matches!(err, DataError::ShapeMismatch { test_rows: 3, test_cols: 4, .. }), "{err}");
    assert!(err.to_string().contains(&f.path(TRAIN_IMAGES).display().to_string()), "{err}");
}

#[test]
fn limit_too_large_names_the_value_and_the_maximum() {
    let err = load_embedded(Some(60_001)).unwrap_err();
    assert!(
        matches!(err, DataError::LimitTooLarge { limit: 60_001, available: 60_000, .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "limit 60001 exceeds the 60000 images in train-images-idx3-ubyte.gz, expected at most 60000"
    );
    // Fits the training file but not the test file.
    let err = load_embedded(Some(10_001)).unwrap_err();
    assert!(
        matches!(err, DataError::LimitTooLarge { limit: 10_001, available: 10_000, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("t10k-images-idx3-ubyte.gz"), "{err}");
}

#[test]
fn too_few_images_to_split_is_rejected() {
    for limit in [0, 1, 5] {
        let err = load_embedded(Some(limit)).unwrap_err();
        assert!(matches!(err, DataError::TooFewImages { n, min: 6, .. } if n == limit), "{err}");
        assert!(err.to_string().contains("train-images-idx3-ubyte.gz"), "{err}");
    }
    let f = Fixture::new(5, 3, false);
    let err = f.load_err(None, TRAIN_IMAGES);
    assert!(matches!(err, DataError::TooFewImages { n: 5, min: 6, .. }), "{err}");
    let f = Fixture::new(6, 0, false);
    let err = f.load_err(None, TEST_IMAGES);
    assert!(matches!(err, DataError::TooFewImages { n: 0, min: 1, .. }), "{err}");
}

#[test]
fn parse_errors_name_the_given_name() {
    let err = parse_labels("some/name", &idx_images(1, 1, 1)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("some/name: wrong magic 0x00000803, expected 0x00000801 (IDX labels)"),
        "{err}"
    );
    let err = read_images(Path::new("/nonexistent/x.gz")).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }), "{err}");
    assert!(err.to_string().starts_with("/nonexistent/x.gz: cannot read:"), "{err}");
}

// ---- robustness ----------------------------------------------------------------------------

#[test]
fn random_bytes_never_panic() {
    // 64-bit LCG (Knuth's MMIX constants); the high byte as output.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state =
            state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 56) as u8
    };
    let headers: [&[u8]; 4] = [
        &[0, 0, 8, 3],
        &[0, 0, 8, 1],
        &[0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 2],
        &[0, 0, 8, 1, 0, 0, 0, 5],
    ];
    let mut parsed = 0;
    for case in 0..4_000 {
        let len = usize::from(next()) % 64;
        let mut bytes: Vec<u8> = (0..len).map(|_| next()).collect();
        if case % 2 == 0 {
            // A valid header prefix (clipped to the length), random bytes after it.
            let h = headers[case / 2 % headers.len()];
            let k = h.len().min(bytes.len());
            bytes[..k].copy_from_slice(&h[..k]);
        }
        if case % 7 == 0 {
            // A complete valid file: 2 images of 3×2 with random pixels.
            bytes = headers[2].iter().copied().chain((0..12).map(|_| next())).collect();
        }
        if case % 5 == 0 {
            bytes = gz(&bytes);
            if case % 10 == 0 {
                // A truncated or corrupted gzip stream.
                let cut = usize::from(next()) % bytes.len();
                bytes.truncate(cut.max(2));
                if let Some(b) = bytes.get_mut(cut / 2 + 1) {
                    *b ^= next();
                }
            }
        }
        let images = parse_images("fuzz", &bytes);
        let labels = parse_labels("fuzz", &bytes);
        if case % 7 == 0 && case % 10 != 0 {
            assert_eq!(images.as_ref().map(|im| (im.n, im.rows, im.cols)).ok(), Some((2, 3, 2)));
        }
        parsed += usize::from(images.is_ok()) + usize::from(labels.is_ok());
        for e in [images.err(), labels.err()].into_iter().flatten() {
            assert!(e.to_string().starts_with("fuzz: "), "{e}");
        }
    }
    assert!(parsed > 0);
}

// ---- from fuzzing (fuzz/README.md) ------------------------------------------------------------

#[test]
fn gz_trailing_bytes_are_counted_up_to_one_mib_past_the_first() {
    // The fuzz targets' gzip bombs (no crash found; this pins the boundary their oracle checks):
    // 5 labels, then 1 MiB − 1, 1 MiB, 1 MiB + 1 and 3 MiB of zeros. The reader reads one byte
    // past the claim, then counts at most 1 MiB more.
    const MIB: u64 = 1 << 20;
    for (zeros, trailing, at_least) in [
        (MIB - 1, MIB - 1, false),
        (MIB, MIB, false),
        (MIB + 1, MIB + 1, true),
        (3 * MIB, MIB + 1, true),
    ] {
        let mut labels = idx_labels(5);
        labels.resize(labels.len() + zeros as usize, 0);
        let err = parse_labels("bomb.gz", &gz(&labels)).unwrap_err();
        assert!(
            matches!(err, DataError::TrailingBytes { count: 5, expected: 5, trailing: t, at_least: a, .. }
                if (t, a) == (trailing, at_least)),
            "{zeros} zeros: {err}"
        );
        let at = if at_least { "at least " } else { "" };
        assert!(err.to_string().ends_with(&format!("but {at}{trailing} trailing bytes follow")));
        // Raw, the count is exact.
        let err = parse_labels("bomb", &labels).unwrap_err();
        assert!(
            matches!(err, DataError::TrailingBytes { trailing: t, at_least: false, .. } if t == zeros),
            "{err}"
        );
    }
}
