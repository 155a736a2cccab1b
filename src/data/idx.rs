//! The IDX format (LeCun's MNIST files), raw or gzip-compressed.
//!
//! Images: big-endian header `[0x00000803, n, rows, cols]` (16 bytes), then n·rows·cols pixel
//! bytes. Labels: `[0x00000801, n]` (8 bytes), then n label bytes. Every length is checked
//! against the header before anything of the claimed size is allocated; a gz file is decompressed
//! incrementally and never trusted for its size.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

use super::{Content, DataError, Images};

/// Magic number of an IDX file of unsigned bytes with 3 dimensions (images).
pub(crate) const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with 1 dimension (labels).
pub(crate) const LABELS_MAGIC: u32 = 0x0000_0801;
/// The two first bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// How many trailing decompressed bytes are counted before reporting "at least".
const TRAILING_COUNT_CAP: u64 = 1 << 20;

/// Which of the two IDX layouts a parse expects.
#[derive(Clone, Copy)]
enum Kind {
    Images,
    Labels,
}

impl Kind {
    fn magic(self) -> u32 {
        match self {
            Kind::Images => IMAGES_MAGIC,
            Kind::Labels => LABELS_MAGIC,
        }
    }

    /// Header length in bytes: magic + one u32 per dimension.
    fn header_len(self) -> usize {
        match self {
            Kind::Images => 16,
            Kind::Labels => 8,
        }
    }
}

/// A validated header.
struct Header {
    /// Items claimed.
    count: u32,
    /// What they are.
    content: Content,
    /// Image rows and columns (1, 1 for labels).
    rows: u32,
    cols: u32,
    /// Payload bytes the claim needs (cannot overflow: at most (2³²−1)³ < 2¹²⁸).
    expected: u128,
}

/// Big-endian u32 at `at`; the caller guarantees `at + 4 <= h.len()`.
fn be_u32(h: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&h[at..at + 4]);
    u32::from_be_bytes(b)
}

/// Checks the (possibly incomplete) header `h`, the first `min(len, header_len)` bytes of the
/// decompressed file: empty, magic (as soon as 4 bytes are there), complete, dimensions.
fn parse_header(name: &str, kind: Kind, h: &[u8]) -> Result<Header, DataError> {
    if h.is_empty() {
        return Err(DataError::Empty { file: name.to_owned() });
    }
    if h.len() >= 4 {
        let magic = be_u32(h, 0);
        if magic != kind.magic() {
            return Err(DataError::Magic {
                file: name.to_owned(),
                found: magic,
                expected: kind.magic(),
            });
        }
    }
    let hl = kind.header_len();
    if h.len() < hl {
        return Err(DataError::ShortHeader { file: name.to_owned(), found: h.len(), expected: hl });
    }
    let count = be_u32(h, 4);
    let (content, rows, cols) = match kind {
        Kind::Labels => (Content::Labels, 1, 1),
        Kind::Images => {
            let (rows, cols) = (be_u32(h, 8), be_u32(h, 12));
            if rows == 0 || cols == 0 {
                return Err(DataError::ZeroDimension { file: name.to_owned(), rows, cols });
            }
            (Content::Images { rows, cols }, rows, cols)
        }
    };
    let expected = u128::from(count)
        .checked_mul(u128::from(rows))
        .and_then(|b| b.checked_mul(u128::from(cols)))
        .unwrap_or(u128::MAX);
    Ok(Header { count, content, rows, cols, expected })
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Header and payload of a raw (uncompressed) IDX file.
fn decode_raw(name: &str, kind: Kind, bytes: &[u8]) -> Result<(Header, Vec<u8>), DataError> {
    let (h, payload) = bytes.split_at(kind.header_len().min(bytes.len()));
    let header = parse_header(name, kind, h)?;
    let found = payload.len() as u64;
    if u128::from(found) < header.expected {
        return Err(DataError::Truncated {
            file: name.to_owned(),
            count: header.count,
            content: header.content,
            expected: header.expected,
            found,
            compressed: false,
        });
    }
    // `expected <= found`, so it fits in u64 and usize.
    let expected = header.expected as u64;
    if found > expected {
        return Err(DataError::TrailingBytes {
            file: name.to_owned(),
            count: header.count,
            content: header.content,
            expected,
            trailing: found - expected,
            at_least: false,
        });
    }
    Ok((header, payload.to_vec()))
}

/// Header and payload of a gzip-compressed IDX file, decompressed incrementally: the buffer
/// grows only as decompressed bytes arrive, never to the header's claim up front.
fn decode_gz(name: &str, kind: Kind, bytes: &[u8]) -> Result<(Header, Vec<u8>), DataError> {
    let gz_err = |source: io::Error| DataError::Gzip { file: name.to_owned(), source };
    let mut dec = MultiGzDecoder::new(bytes);
    let hl = kind.header_len();
    let mut h = [0u8; 16];
    let got = read_up_to(&mut dec, &mut h[..hl]).map_err(gz_err)?;
    let header = parse_header(name, kind, &h[..got])?;
    // One byte more than claimed, to detect trailing data; saturates for absurd claims (which
    // then end as `Truncated` once the real stream runs out).
    let take =
        u64::try_from(header.expected).ok().and_then(|e| e.checked_add(1)).unwrap_or(u64::MAX);
    let mut payload = Vec::new();
    (&mut dec).take(take).read_to_end(&mut payload).map_err(gz_err)?;
    let found = payload.len() as u64;
    if u128::from(found) < header.expected {
        return Err(DataError::Truncated {
            file: name.to_owned(),
            count: header.count,
            content: header.content,
            expected: header.expected,
            found,
            compressed: true,
        });
    }
    let expected = header.expected as u64;
    if found > expected {
        // Count (a bounded amount of) what follows, without keeping it.
        let more = io::copy(&mut (&mut dec).take(TRAILING_COUNT_CAP), &mut io::sink());
        let (trailing, at_least) = match more {
            Ok(k) => (found - expected + k, k == TRAILING_COUNT_CAP),
            Err(_) => (found - expected, true),
        };
        return Err(DataError::TrailingBytes {
            file: name.to_owned(),
            count: header.count,
            content: header.content,
            expected,
            trailing,
            at_least,
        });
    }
    Ok((header, payload))
}

/// Header and payload of an IDX file, gz or raw (gz detected by the magic 1f 8b).
fn decode(name: &str, kind: Kind, bytes: &[u8]) -> Result<(Header, Vec<u8>), DataError> {
    if bytes.starts_with(&GZIP_MAGIC) {
        decode_gz(name, kind, bytes)
    } else {
        decode_raw(name, kind, bytes)
    }
}

/// Parses an IDX images file, gz or raw (detected by the gzip magic 1f 8b), into
/// `Images { pixels: [n, rows*cols] }`. `name` is used in errors. Never panics: every count is
/// checked against the data actually present before it is used.
pub fn parse_images(name: &str, bytes: &[u8]) -> Result<Images, DataError> {
    let (header, pixels) = decode(name, Kind::Images, bytes)?;
    let (rows, cols) = (header.rows, header.cols);
    // rows·cols fits in u64; on 32-bit targets it may not fit in usize.
    let too_large = || DataError::ImageTooLarge { file: name.to_owned(), rows, cols };
    usize::try_from(u64::from(rows) * u64::from(cols)).map_err(|_| too_large())?;
    // The payload holds count·rows·cols bytes, so count, rows and cols fit in usize.
    let n = usize::try_from(header.count).map_err(|_| too_large())?;
    let rows = usize::try_from(rows).map_err(|_| too_large())?;
    let cols = usize::try_from(cols).map_err(|_| too_large())?;
    Ok(Images { pixels, n, rows, cols })
}

/// Parses an IDX labels file, gz or raw, into labels `[n]`, each checked to lie in 0..=9.
/// `name` is used in errors.
pub fn parse_labels(name: &str, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    let (_, labels) = decode(name, Kind::Labels, bytes)?;
    if let Some((index, &label)) =
        labels.iter().enumerate().find(|&(_, &l)| usize::from(l) >= super::CLASSES)
    {
        return Err(DataError::BadLabel { file: name.to_owned(), index, label });
    }
    Ok(labels)
}

/// Reads the whole file at `path` (`DataError::Io` naming the path if that fails).
fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    fs::read(path).map_err(|source| DataError::Io { file: path.display().to_string(), source })
}

/// Reads an IDX images file (gz or raw) from `path`, then [`parse_images`] with the path as name.
/// Returns images `[n, rows*cols]`.
pub fn read_images(path: &Path) -> Result<Images, DataError> {
    parse_images(&path.display().to_string(), &read_file(path)?)
}

/// Reads an IDX labels file (gz or raw) from `path`, then [`parse_labels`] with the path as name.
/// Returns labels `[n]` in 0..=9.
pub fn read_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    parse_labels(&path.display().to_string(), &read_file(path)?)
}
