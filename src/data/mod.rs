//! MNIST-style data: IDX reader (gz or raw), validation, splits.
//!
//! A data set is four IDX files (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
//! `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each raw or `.gz`), split as mnist.pkl.gz:
//! train = the training file minus its last ⌊n/6⌋ images, valid = those last ⌊n/6⌋ (MNIST:
//! 50 000 / 10 000), test = the t10k file. Every failure is a [`DataError`] naming the file, what
//! was found and what was expected; no input makes the reader panic.

mod error;
mod idx;
mod split;

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use error::{Content, DataError};
pub use idx::{parse_images, parse_labels, read_images, read_labels};
pub use split::MIN_TRAIN_IMAGES;

use split::Named;

/// Classes of MNIST-style labels: every label is checked to lie in 0..CLASSES.
pub const CLASSES: usize = 10;

/// The four standard file names (without `.gz`): train images, train labels, test images, test
/// labels.
pub const FILE_NAMES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Images as raw u8 pixels, row-major: `pixels: [n, rows*cols]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Images {
    /// All pixels, image after image: `[n, rows*cols]`, 0 = background.
    pub pixels: Vec<u8>,
    /// Number of images.
    pub n: usize,
    /// Pixel rows per image.
    pub rows: usize,
    /// Pixel columns per image.
    pub cols: usize,
}

impl Images {
    /// Pixels per image: `rows * cols`.
    pub fn dim(&self) -> usize {
        self.rows * self.cols
    }

    /// Mean and standard deviation of every pixel after /255, accumulated in f64 in pixel
    /// order: the statistics `--inputs standardised` divides by, x = (pixel/255 − mean)/std.
    /// The std is at least 1e-12 (a blank image set divides by that, not by 0).
    pub fn pixel_stats(&self) -> [f32; 2] {
        let n = self.pixels.len().max(1) as f64;
        let sum: f64 = self.pixels.iter().map(|&p| f64::from(p) / 255.0).sum();
        let mean = sum / n;
        let var: f64 =
            self.pixels.iter().map(|&p| (f64::from(p) / 255.0 - mean).powi(2)).sum::<f64>() / n;
        [mean as f32, var.sqrt().max(1e-12) as f32]
    }

    /// Image `i`: `[rows*cols]` row-major. Panics if `i >= n`.
    pub fn image(&self, i: usize) -> &[u8] {
        assert!(i < self.n, "image {i} of {} images", self.n);
        let d = self.dim();
        &self.pixels[i * d..(i + 1) * d]
    }
}

impl fmt::Debug for Images {
    /// Shape only: printing millions of pixels helps no one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Images {{ n: {}, rows: {}, cols: {} }}", self.n, self.rows, self.cols)
    }
}

/// One split: images `[n, dim]` and labels `[n]` in 0..=9.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Images `[n, dim]`.
    pub images: Images,
    /// Labels `[n]`, each in 0..=9.
    pub labels: Vec<u8>,
}

impl Split {
    /// Number of examples `n`.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the split holds no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Keeps the first `n` examples (no-op if `n >= len`).
    fn truncate(&mut self, n: usize) {
        let n = n.min(self.len());
        self.images.pixels.truncate(n * self.images.dim());
        self.images.n = n;
        self.labels.truncate(n);
    }

    /// Splits off examples `[at, len)` into a new split, keeping `[0, at)`; `at <= len`.
    fn split_off(&mut self, at: usize) -> Split {
        let dim = self.images.dim();
        let images = Images {
            pixels: self.images.pixels.split_off(at * dim),
            n: self.len() - at,
            rows: self.images.rows,
            cols: self.images.cols,
        };
        self.images.n = at;
        Split { images, labels: self.labels.split_off(at) }
    }
}

/// A data set split as mnist.pkl.gz: train = training file minus its last ⌊n/6⌋ images, valid =
/// those last ⌊n/6⌋ (for MNIST: 50 000 / 10 000), test = the t10k file. All three share
/// `rows × cols`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSet {
    /// Where the data came from: the directory, or `"embedded MNIST"`.
    pub source: String,
    /// Training examples `[n − ⌊n/6⌋, dim]`.
    pub train: Split,
    /// Validation examples `[⌊n/6⌋, dim]`: the last ⌊n/6⌋ of the training file.
    pub valid: Split,
    /// Test examples `[n_test, dim]`: the t10k file.
    pub test: Split,
}

/// `dir/name.gz` if it exists, else `dir/name`, else [`DataError::Missing`].
fn locate(dir: &Path, name: &str) -> Result<PathBuf, DataError> {
    for candidate in [dir.join(format!("{name}.gz")), dir.join(name)] {
        match fs::metadata(&candidate) {
            Ok(_) => return Ok(candidate),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(DataError::Io { file: candidate.display().to_string(), source });
            }
        }
    }
    Err(DataError::Missing { file: name.to_owned(), dir: dir.display().to_string() })
}

/// Loads the four standard files from `dir` (train-images-idx3-ubyte, train-labels-idx1-ubyte,
/// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each either with a `.gz` suffix or raw; .gz is
/// preferred when both exist) and splits them (see [`DataSet`]). `limit`: use only the first
/// `limit` images of the training file (before the split) and of the test file; it must not
/// exceed either file, and the training part must keep at least [`MIN_TRAIN_IMAGES`].
pub fn load_dir(dir: &Path, limit: Option<usize>) -> Result<DataSet, DataError> {
    // All four located first, so a missing file is reported before any decompression.
    let [ti, tl, si, sl] = FILE_NAMES;
    let paths = [locate(dir, ti)?, locate(dir, tl)?, locate(dir, si)?, locate(dir, sl)?];
    let named = |p: &PathBuf| p.display().to_string();
    split::assemble(
        dir.display().to_string(),
        Named { file: named(&paths[0]), value: read_images(&paths[0])? },
        Named { file: named(&paths[1]), value: read_labels(&paths[1])? },
        Named { file: named(&paths[2]), value: read_images(&paths[2])? },
        Named { file: named(&paths[3]), value: read_labels(&paths[3])? },
        limit,
    )
}

/// The MNIST files shipped in the binary (assets/mnist/*.gz), gz-compressed.
const EMBEDDED: [(&str, &[u8]); 4] = [
    ("train-images-idx3-ubyte.gz", include_bytes!("../../assets/mnist/train-images-idx3-ubyte.gz")),
    ("train-labels-idx1-ubyte.gz", include_bytes!("../../assets/mnist/train-labels-idx1-ubyte.gz")),
    ("t10k-images-idx3-ubyte.gz", include_bytes!("../../assets/mnist/t10k-images-idx3-ubyte.gz")),
    ("t10k-labels-idx1-ubyte.gz", include_bytes!("../../assets/mnist/t10k-labels-idx1-ubyte.gz")),
];

/// The MNIST copy shipped in the binary (assets/mnist/*.gz via `include_bytes!`), split as
/// [`load_dir`] does (train `[50 000, 784]`, valid `[10 000, 784]`, test `[10 000, 784]`), with
/// the same meaning of `limit`. `source` is `"embedded MNIST"`.
pub fn load_embedded(limit: Option<usize>) -> Result<DataSet, DataError> {
    let [(ti, tib), (tl, tlb), (si, sib), (sl, slb)] = EMBEDDED;
    split::assemble(
        "embedded MNIST".to_owned(),
        Named { file: ti.to_owned(), value: parse_images(ti, tib)? },
        Named { file: tl.to_owned(), value: parse_labels(tl, tlb)? },
        Named { file: si.to_owned(), value: parse_images(si, sib)? },
        Named { file: sl.to_owned(), value: parse_labels(sl, slb)? },
        limit,
    )
}
