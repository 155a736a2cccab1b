//! The one error type of the data module: every way an IDX file or a data directory can be wrong,
//! each naming the file, what was found and what was expected.

use std::fmt;
use std::io;

/// What an IDX file holds, for messages: `images of 28×28` or `labels`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Content {
    /// An images file (magic 0x00000803) with images of `rows × cols` pixels.
    Images {
        /// Pixel rows per image.
        rows: u32,
        /// Pixel columns per image.
        cols: u32,
    },
    /// A labels file (magic 0x00000801): one byte per item.
    Labels,
}

impl fmt::Display for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Content::Images { rows, cols } => write!(f, "images of {rows}×{cols}"),
            Content::Labels => f.write_str("labels"),
        }
    }
}

/// The IDX file kind a magic number stands for, for messages.
fn magic_kind(magic: u32) -> &'static str {
    match magic {
        super::idx::IMAGES_MAGIC => "IDX images",
        super::idx::LABELS_MAGIC => "IDX labels",
        _ => "IDX",
    }
}

/// Everything that can go wrong reading, validating or splitting a data set.
///
/// `file` fields hold the name the caller gave (`parse_*`) or the path (`read_*`, `load_dir`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// One of the four standard files is in `dir` neither raw nor with a `.gz` suffix.
    #[error("{file}: missing (expected {file}[.gz] in {dir})")]
    Missing {
        /// The standard file name without `.gz`, e.g. `train-images-idx3-ubyte`.
        file: String,
        /// The directory searched.
        dir: String,
    },
    /// The file exists (or was named) but could not be read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The path.
        file: String,
        /// The operating system's error.
        source: io::Error,
    },
    /// The file (or, for gz, its decompressed content) holds no bytes at all.
    #[error("{file}: empty file")]
    Empty {
        /// The file.
        file: String,
    },
    /// The file starts with the gzip magic but decompressing it failed (truncated, corrupt, CRC).
    #[error("{file}: not a valid gzip stream: {source}")]
    Gzip {
        /// The file.
        file: String,
        /// The decoder's error.
        source: io::Error,
    },
    /// The (decompressed) file is shorter than the IDX header.
    #[error("{file}: {found} bytes, too short for the {expected}-byte IDX header")]
    ShortHeader {
        /// The file.
        file: String,
        /// Bytes present.
        found: usize,
        /// Header length: 16 for images, 8 for labels.
        expected: usize,
    },
    /// The first four bytes are not the expected IDX magic number.
    #[error(
        "{file}: wrong magic 0x{found:08x}, expected 0x{expected:08x} ({})",
        magic_kind(*expected)
    )]
    Magic {
        /// The file.
        file: String,
        /// The magic number found (big-endian u32).
        found: u32,
        /// 0x00000803 for images, 0x00000801 for labels.
        expected: u32,
    },
    /// The header of an images file gives zero rows or zero columns.
    #[error("{file}: images of {rows}×{cols}, expected rows and cols > 0")]
    ZeroDimension {
        /// The file.
        file: String,
        /// Rows in the header.
        rows: u32,
        /// Columns in the header.
        cols: u32,
    },
    /// The header claims more data than the file (after the header) holds.
    #[error(
        "{file}: header claims {count} {content} ({expected} bytes) but the file holds {found}{}",
        if *compressed { " after decompression" } else { "" }
    )]
    Truncated {
        /// The file.
        file: String,
        /// Number of items the header claims.
        count: u32,
        /// What the items are.
        content: Content,
        /// Bytes after the header the claim needs: count × rows × cols, or count.
        expected: u128,
        /// Bytes after the header actually present.
        found: u64,
        /// Whether `found` counts decompressed bytes of a gz file.
        compressed: bool,
    },
    /// The file holds more bytes after the header than the header's counts account for.
    #[error(
        "{file}: header claims {count} {content} ({expected} bytes) but {}{trailing} trailing bytes follow",
        if *at_least { "at least " } else { "" }
    )]
    TrailingBytes {
        /// The file.
        file: String,
        /// Number of items the header claims.
        count: u32,
        /// What the items are.
        content: Content,
        /// Bytes after the header the claim accounts for.
        expected: u64,
        /// Bytes beyond `expected` (for gz: counted up to a bound, see `at_least`).
        trailing: u64,
        /// For gz files: counting stopped at a bound, there may be more.
        at_least: bool,
    },
    /// `rows × cols` of an images header does not fit in `usize` (only possible on 32-bit targets).
    #[error("{file}: images of {rows}×{cols}, too large to address on this platform")]
    ImageTooLarge {
        /// The file.
        file: String,
        /// Rows in the header.
        rows: u32,
        /// Columns in the header.
        cols: u32,
    },
    /// A label outside 0..=9.
    #[error("{file}: label {label} at index {index}, expected 0..=9")]
    BadLabel {
        /// The file.
        file: String,
        /// Position of the first bad label.
        index: usize,
        /// Its value.
        label: u8,
    },
    /// An images file and its labels file hold different numbers of items.
    #[error(
        "{images_file} holds {images} images but {labels_file} holds {labels} labels, expected the same count"
    )]
    CountMismatch {
        /// The images file.
        images_file: String,
        /// Its image count.
        images: usize,
        /// The labels file.
        labels_file: String,
        /// Its label count.
        labels: usize,
    },
    /// Training and test images have different sizes.
    #[error(
        "{test_file}: images of {test_rows}×{test_cols}, expected {train_rows}×{train_cols} as in {train_file}"
    )]
    ShapeMismatch {
        /// The training images file.
        train_file: String,
        /// Its rows.
        train_rows: usize,
        /// Its columns.
        train_cols: usize,
        /// The test images file.
        test_file: String,
        /// Its rows.
        test_rows: usize,
        /// Its columns.
        test_cols: usize,
    },
    /// `limit` asks for more images than a file holds.
    #[error("limit {limit} exceeds the {available} images in {file}, expected at most {available}")]
    LimitTooLarge {
        /// The file that is too small for the limit.
        file: String,
        /// The limit asked for.
        limit: usize,
        /// Images in the file.
        available: usize,
    },
    /// Too few images to use: training needs n ≥ 6 so that valid = the last ⌊n/6⌋ and train
    /// = the rest are both non-empty; the test set needs n ≥ 1.
    #[error("{file}: {n} images {purpose}, expected at least {min}")]
    TooFewImages {
        /// The file (the limit, if any, is applied before this check).
        file: String,
        /// Images available after `limit`.
        n: usize,
        /// The minimum.
        min: usize,
        /// Why the minimum, e.g. `leave an empty validation set (the last ⌊n/6⌋)`.
        purpose: &'static str,
    },
}
