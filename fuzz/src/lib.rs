//! Shared by the two fuzz targets: how a fuzz input becomes the bytes handed to
//! `gpu_dae::data::parse_images` / `parse_labels`, and a reference model of the IDX rules that the
//! reader's result is checked against.
//!
//! Input layout: `[mode, rest..]`. The low two bits of `mode` choose what is parsed:
//!
//! - `0`: `rest` as is (the reader takes it for gzip if it starts with 1f 8b). Plaintext known
//!   unless it starts with 1f 8b.
//! - `1`: `gzip(rest)` at level `(mode >> 2) % 10`. For `mode >> 2` = 61, 62, 63, a second gzip
//!   member of 1 MiB − 1, 1 MiB or 1 MiB + 1 zeros follows (compressed once, ~1 KB): small gzip
//!   bombs that reach the reader's 1 MiB bound on counting trailing bytes, and check that a large
//!   decompressed payload costs no more than its size. Plaintext known: `rest` + the zeros.
//! - `2`: two gzip members, `gzip(rest[..k]) ++ gzip(rest[k..])` with `k = len·(mode >> 2)/63`.
//!   Plaintext known: `rest`.
//! - `3`: `gzip(rest)` damaged at `p = len·(mode >> 3)/32`: truncated at `p` if `mode & 4`, else
//!   byte `p` flipped. Plaintext unknown (the damage may or may not be detected).
//!
//! Modes 1–3 push the decompressor past the gzip header into the deflate data, CRC and trailer,
//! which random bytes after a `1f 8b` rarely reach. Where the plaintext is known, the reader's
//! result must be exactly what [`expect`] says (variant and numbers); always, the reader must not
//! panic, an `Err` must print as `"{NAME}: …"`, and an `Ok` must satisfy the shape invariants the
//! targets check.

use std::io::Write;
use std::sync::OnceLock;

use flate2::Compression;
use flate2::write::GzEncoder;
use gpu_dae::data::DataError;

/// The name the targets pass to the parser; every error message must start with it.
pub const NAME: &str = "fuzz-input";

/// The two first bytes of a gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How many decompressed bytes beyond the first trailing one the reader counts before it reports
/// `at_least` (`TRAILING_COUNT_CAP` in src/data/idx.rs).
const TRAILING_COUNT_CAP: u64 = 1 << 20;

/// Zero padding after `rest` in mode 1, by `mode >> 2` (61, 62, 63): around the point where the
/// reader stops counting trailing bytes (at 1 + [`TRAILING_COUNT_CAP`] of them).
const BOMB_ZEROS: [usize; 3] = [(1 << 20) - 1, 1 << 20, (1 << 20) + 1];

/// The gzip members of [`BOMB_ZEROS`] zeros, compressed once.
fn bombs() -> &'static [Vec<u8>; 3] {
    static BOMBS: OnceLock<[Vec<u8>; 3]> = OnceLock::new();
    BOMBS.get_or_init(|| BOMB_ZEROS.map(|n| gzip(&vec![0; n], 9)))
}

/// gzip-compresses `bytes` at `level` (0..=9).
fn gzip(bytes: &[u8], level: u32) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::new(level));
    enc.write_all(bytes).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

/// The bytes to parse and, when known, the decompressed content the reader will see.
pub struct Input {
    /// What `parse_*` gets.
    pub bytes: Vec<u8>,
    /// The IDX content after decompression, when it is known exactly.
    pub plain: Option<Vec<u8>>,
}

impl Input {
    /// Whether the reader will take `bytes` for gzip (it goes by the magic 1f 8b).
    pub fn is_gz(&self) -> bool {
        self.bytes.starts_with(&GZIP_MAGIC)
    }
}

/// Turns a fuzz input into parser input (see the module docs for the layout).
pub fn prepare(data: &[u8]) -> Input {
    let Some((&mode, rest)) = data.split_first() else {
        return Input { bytes: Vec::new(), plain: Some(Vec::new()) };
    };
    let param = usize::from(mode >> 2);
    match mode & 3 {
        0 => Input {
            bytes: rest.to_vec(),
            plain: (!rest.starts_with(&GZIP_MAGIC)).then(|| rest.to_vec()),
        },
        1 => {
            let mut bytes = gzip(rest, u32::from(mode >> 2) % 10);
            let mut plain = rest.to_vec();
            if let Some(i) = param.checked_sub(61) {
                bytes.extend_from_slice(&bombs()[i]);
                plain.resize(rest.len() + BOMB_ZEROS[i], 0);
            }
            Input { bytes, plain: Some(plain) }
        }
        2 => {
            let k = rest.len() * param / 63;
            let mut bytes = gzip(&rest[..k], 6);
            bytes.extend_from_slice(&gzip(&rest[k..], 6));
            Input { bytes, plain: Some(rest.to_vec()) }
        }
        _ => {
            let mut bytes = gzip(rest, 6);
            let p = bytes.len() * usize::from(mode >> 3) / 32;
            if mode & 4 != 0 {
                bytes.truncate(p);
            } else {
                bytes[p] ^= 0xff;
            }
            Input { bytes, plain: None }
        }
    }
}

/// What the IDX rules say about a decompressed file: the outcome of the reader, variant and
/// numbers, or `Ok`.
#[derive(Debug, PartialEq, Eq)]
pub enum Expect {
    /// A valid file.
    Ok,
    /// No bytes at all.
    Empty,
    /// Shorter than the header (`found` bytes).
    ShortHeader { found: usize, expected: usize },
    /// Wrong magic number.
    Magic { found: u32, expected: u32 },
    /// Images with zero rows or columns.
    ZeroDimension { rows: u32, cols: u32 },
    /// Fewer payload bytes than the header claims.
    Truncated { count: u32, expected: u128, found: u64 },
    /// More payload bytes than the header claims: `trailing` of them, or (`at_least`) more.
    TrailingBytes { count: u32, expected: u64, trailing: u64, at_least: bool },
    /// A label above 9 (labels only).
    BadLabel { index: usize, label: u8 },
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// The reference model: what reading the decompressed IDX content `p` must give. `images`: an
/// images file (magic 0x803, 16-byte header) rather than labels (0x801, 8 bytes). `gz`: the
/// content came gzip-compressed, so trailing bytes are counted only up to the reader's bound.
pub fn expect(p: &[u8], images: bool, gz: bool) -> Expect {
    let (magic, hl) = if images { (0x803, 16) } else { (0x801, 8) };
    if p.is_empty() {
        return Expect::Empty;
    }
    if p.len() >= 4 && be_u32(p) != magic {
        return Expect::Magic { found: be_u32(p), expected: magic };
    }
    if p.len() < hl {
        return Expect::ShortHeader { found: p.len(), expected: hl };
    }
    let count = be_u32(&p[4..]);
    let (rows, cols) = if images { (be_u32(&p[8..]), be_u32(&p[12..])) } else { (1, 1) };
    if rows == 0 || cols == 0 {
        return Expect::ZeroDimension { rows, cols };
    }
    let expected = u128::from(count) * u128::from(rows) * u128::from(cols);
    let found = (p.len() - hl) as u64;
    if u128::from(found) < expected {
        return Expect::Truncated { count, expected, found };
    }
    if u128::from(found) > expected {
        let expected = expected as u64;
        let trailing = found - expected;
        // gz: the reader reads one byte past the claim, then counts at most the bound more, so
        // from 1 + bound trailing bytes on it reports "at least 1 + bound".
        if gz && trailing > TRAILING_COUNT_CAP {
            let trailing = 1 + TRAILING_COUNT_CAP;
            return Expect::TrailingBytes { count, expected, trailing, at_least: true };
        }
        return Expect::TrailingBytes { count, expected, trailing, at_least: false };
    }
    if !images && let Some((index, &label)) = p[hl..].iter().enumerate().find(|(_, l)| **l > 9) {
        return Expect::BadLabel { index, label };
    }
    Expect::Ok
}

/// The reader's error in the terms of [`Expect`]; `None` for a variant the model has no
/// counterpart for (`Gzip`, and errors parsing never produces).
pub fn observed(e: &DataError) -> Option<Expect> {
    Some(match *e {
        DataError::Empty { .. } => Expect::Empty,
        DataError::ShortHeader { found, expected, .. } => Expect::ShortHeader { found, expected },
        DataError::Magic { found, expected, .. } => Expect::Magic { found, expected },
        DataError::ZeroDimension { rows, cols, .. } => Expect::ZeroDimension { rows, cols },
        DataError::Truncated { count, expected, found, .. } => {
            Expect::Truncated { count, expected, found }
        }
        DataError::TrailingBytes { count, expected, trailing, at_least, .. } => {
            Expect::TrailingBytes { count, expected, trailing, at_least }
        }
        DataError::BadLabel { index, label, .. } => Expect::BadLabel { index, label },
        _ => return None,
    })
}

/// Checks an error for `input`: it prints as `"NAME: …"` and, where the plaintext is known, it
/// is the one the model predicts (a `Gzip` error is never right for a stream we compressed
/// ourselves).
pub fn check_err(e: &DataError, input: &Input, images: bool) {
    let msg = e.to_string();
    assert!(msg.starts_with(&format!("{NAME}: ")), "message does not name the file: {msg}");
    if let Some(p) = &input.plain {
        let want = expect(p, images, input.is_gz());
        assert_eq!(observed(e).as_ref(), Some(&want), "reader says {e:?} ({msg})");
    }
}
