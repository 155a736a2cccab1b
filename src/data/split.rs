//! From four parsed files to a [`DataSet`]: cross-file checks, `limit`, and the mnist.pkl.gz
//! split (valid = the last ⌊n/6⌋ training images, train = the rest).

use super::{DataError, DataSet, Images, Split};

/// Smallest training file that splits into non-empty train and valid: ⌊6/6⌋ = 1 and 6 − 1 = 5.
pub const MIN_TRAIN_IMAGES: usize = 6;

/// A parsed file together with the name used in its errors.
pub(super) struct Named<T> {
    /// File name or path, for messages.
    pub file: String,
    /// Its content.
    pub value: T,
}

/// Images `[n, dim]` and labels `[n]` of one file pair, counts checked to agree.
fn pair(images: Named<Images>, labels: Named<Vec<u8>>) -> Result<Split, DataError> {
    if images.value.n != labels.value.len() {
        return Err(DataError::CountMismatch {
            images_file: images.file,
            images: images.value.n,
            labels_file: labels.file,
            labels: labels.value.len(),
        });
    }
    Ok(Split { images: images.value, labels: labels.value })
}

/// Keeps the first `limit` items of `split` (`limit` ≤ its length, else `LimitTooLarge`).
fn apply_limit(split: &mut Split, file: &str, limit: Option<usize>) -> Result<(), DataError> {
    let Some(limit) = limit else { return Ok(()) };
    if limit > split.len() {
        return Err(DataError::LimitTooLarge {
            file: file.to_owned(),
            limit,
            available: split.len(),
        });
    }
    split.truncate(limit);
    Ok(())
}

/// Builds the data set: checks the counts of each pair, equal image sizes, `limit` against both
/// files, then splits the training file into train `[n − ⌊n/6⌋]` and valid `[⌊n/6⌋]`.
pub(super) fn assemble(
    source: String,
    train_images: Named<Images>,
    train_labels: Named<Vec<u8>>,
    test_images: Named<Images>,
    test_labels: Named<Vec<u8>>,
    limit: Option<usize>,
) -> Result<DataSet, DataError> {
    let (train_file, test_file) = (train_images.file.clone(), test_images.file.clone());
    let mut full = pair(train_images, train_labels)?;
    let mut test = pair(test_images, test_labels)?;
    let (a, b) = (&full.images, &test.images);
    if (a.rows, a.cols) != (b.rows, b.cols) {
        return Err(DataError::ShapeMismatch {
            train_file,
            train_rows: a.rows,
            train_cols: a.cols,
            test_file,
            test_rows: b.rows,
            test_cols: b.cols,
        });
    }
    apply_limit(&mut full, &train_file, limit)?;
    apply_limit(&mut test, &test_file, limit)?;
    if full.len() < MIN_TRAIN_IMAGES {
        return Err(DataError::TooFewImages {
            file: train_file,
            n: full.len(),
            min: MIN_TRAIN_IMAGES,
            purpose: "to split into train and a non-empty validation set of the last ⌊n/6⌋",
        });
    }
    if test.is_empty() {
        return Err(DataError::TooFewImages {
            file: test_file,
            n: 0,
            min: 1,
            purpose: "in the test set",
        });
    }
    let n_valid = full.len() / 6;
    let valid = full.split_off(full.len() - n_valid);
    Ok(DataSet { source, train: full, valid, test })
}
