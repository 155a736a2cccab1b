//! Checkpoints: a run's parameters and progress in one safetensors file
//! (<https://github.com/huggingface/safetensors>), loadable from Python with
//! `safetensors.numpy.load_file`.
//!
//! Tensors are little-endian f32, named `layer{k}.W` [n_in, n_hid], `layer{k}.b` [n_hid],
//! `layer{k}.b_prime` [n_in], `layer{k}.V` [n_hid, n_in] (untied decoders only), `top.W`
//! [n_hid, n_classes] and `top.b` [n_classes] (SdA); during SdA fine-tuning the best model so far
//! is kept as `best.layer{k}.W`, `best.layer{k}.b`, `best.top.W`, `best.top.b`; tensors under
//! `log.` hold the per-step costs a resumed run needs for its curves and epoch means.
//!
//! String metadata: `format` (`FORMAT`), `model` (`da`, `cae`, `relu-dae`, `sda`), `run` (the
//! run's settings as JSON, the same object as `run.json`'s `config`), `data` (`DataSource` as
//! JSON) and `progress` (where the run stands, JSON; its shape is the trainer's).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::output::write_atomic;

/// The value of the `format` metadata field this program writes and reads.
pub const FORMAT: &str = "gpu-dae-checkpoint-1";

/// The name of the checkpoint file a training run writes into its output directory.
pub const FILE_NAME: &str = "checkpoint.safetensors";

/// A checkpoint that cannot be read or does not fit: names the file, the field and what was
/// expected.
#[derive(Debug, thiserror::Error)]
#[error("checkpoint {}: {what}", path.display())]
pub struct CheckpointError {
    /// The checkpoint file.
    pub path: PathBuf,
    /// What is wrong, naming the tensor or metadata field.
    pub what: String,
}

/// Where a run's images came from, so `--resume`, `encode` and `reconstruct` find the same data.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct DataSource {
    /// The `--data` directory, None for the MNIST copy built into the binary.
    pub dir: Option<PathBuf>,
    /// The `--limit` in force.
    pub limit: Option<usize>,
    /// Image height and width in pixels.
    pub image_shape: (usize, usize),
}

/// One f32 tensor: its shape and row-major values.
#[derive(Clone, Debug, PartialEq)]
struct Tensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

/// A checkpoint in memory: named f32 tensors and string metadata.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checkpoint {
    /// The file it was read from (empty for one built in memory), for error messages.
    path: PathBuf,
    tensors: BTreeMap<String, Tensor>,
    metadata: BTreeMap<String, String>,
}

impl Checkpoint {
    /// An empty checkpoint of `model` (`da`, `cae`, `relu-dae`, `sda`) with its run settings,
    /// data source and progress as metadata.
    pub fn new(
        model: &str,
        run: &impl Serialize,
        data: &DataSource,
        progress: &impl Serialize,
    ) -> Self {
        let mut metadata = BTreeMap::new();
        metadata.insert("format".to_string(), FORMAT.to_string());
        metadata.insert("model".to_string(), model.to_string());
        metadata.insert("run".to_string(), to_json(run));
        metadata.insert("data".to_string(), to_json(data));
        metadata.insert("progress".to_string(), to_json(progress));
        Checkpoint { path: PathBuf::new(), tensors: BTreeMap::new(), metadata }
    }

    /// Adds tensor `name` of `shape` holding `data` (row-major; len = product of shape).
    pub fn put(&mut self, name: impl Into<String>, shape: &[usize], data: Vec<f32>) {
        assert_eq!(shape.iter().product::<usize>(), data.len(), "tensor data must fill its shape");
        self.tensors.insert(name.into(), Tensor { shape: shape.to_vec(), data });
    }

    /// The file as bytes: the safetensors header with the metadata, then the tensors.
    pub fn to_bytes(&self) -> Vec<u8> {
        let bytes: Vec<(&str, Vec<u8>, &[usize])> = self
            .tensors
            .iter()
            .map(|(name, t)| {
                let le = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
                (name.as_str(), le, t.shape.as_slice())
            })
            .collect();
        let views = bytes.iter().map(|(name, le, shape)| {
            let view = TensorView::new(Dtype::F32, shape.to_vec(), le)
                .expect("an f32 tensor's bytes fill its shape");
            (*name, view)
        });
        let metadata: HashMap<String, String> = self.metadata.clone().into_iter().collect();
        safetensors::serialize(views, Some(metadata)).expect("f32 tensors always serialise")
    }

    /// Writes the checkpoint to `path` atomically (temporary file, then rename), so an interrupted
    /// write leaves the previous checkpoint in place.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        write_atomic(path, &self.to_bytes())
    }

    /// Reads and checks a checkpoint: a safetensors file whose `format` field is `FORMAT` and
    /// whose tensors are all f32.
    pub fn load(path: &Path) -> Result<Self, CheckpointError> {
        let fail = |what: String| CheckpointError { path: path.to_path_buf(), what };
        let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        Self::from_bytes(path, &bytes)
    }

    /// `load` of bytes already in memory; `path` names them in errors.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Self, CheckpointError> {
        let fail = |what: String| CheckpointError { path: path.to_path_buf(), what };
        let (_, header) = SafeTensors::read_metadata(bytes)
            .map_err(|e| fail(format!("not a safetensors file ({e})")))?;
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| fail(format!("not a safetensors file ({e})")))?;
        let metadata: BTreeMap<String, String> =
            header.metadata().clone().unwrap_or_default().into_iter().collect();
        match metadata.get("format") {
            Some(f) if f == FORMAT => {}
            Some(f) => {
                return Err(fail(format!("metadata field format is {f:?}, expected {FORMAT:?}")));
            }
            None => {
                return Err(fail(format!(
                    "metadata field format is missing, expected {FORMAT:?} (not written by gpu-dae?)"
                )));
            }
        }
        let mut tensors = BTreeMap::new();
        for (name, view) in st.tensors() {
            if view.dtype() != Dtype::F32 {
                return Err(fail(format!("tensor {name} is {:?}, expected F32", view.dtype())));
            }
            let data =
                view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            let tensor = Tensor { shape: view.shape().to_vec(), data: data.collect() };
            tensors.insert(name, tensor);
        }
        Ok(Checkpoint { path: path.to_path_buf(), tensors, metadata })
    }

    /// An error about this checkpoint.
    pub fn error(&self, what: impl Into<String>) -> CheckpointError {
        CheckpointError { path: self.path.clone(), what: what.into() }
    }

    /// The model name of metadata field `model`.
    pub fn model(&self) -> Result<&str, CheckpointError> {
        self.field("model")
    }

    /// Metadata field `key` as a string.
    pub fn field(&self, key: &str) -> Result<&str, CheckpointError> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| self.error(format!("metadata field {key} is missing")))
    }

    /// Metadata field `key` parsed from JSON into `T`.
    pub fn json<T: DeserializeOwned>(&self, key: &str) -> Result<T, CheckpointError> {
        serde_json::from_str(self.field(key)?)
            .map_err(|e| self.error(format!("metadata field {key} does not parse: {e}")))
    }

    /// Tensor `name`'s shape and values, if present.
    pub fn get(&self, name: &str) -> Option<(&[usize], &[f32])> {
        self.tensors.get(name).map(|t| (t.shape.as_slice(), t.data.as_slice()))
    }

    /// Tensor `name`, which must have exactly `shape`.
    pub fn tensor(&self, name: &str, shape: &[usize]) -> Result<&[f32], CheckpointError> {
        let t = self.tensors.get(name).ok_or_else(|| {
            self.error(format!("tensor {name} is missing, expected shape {shape:?}"))
        })?;
        if t.shape != shape {
            return Err(
                self.error(format!("tensor {name} has shape {:?}, expected {shape:?}", t.shape))
            );
        }
        Ok(&t.data)
    }

    /// The name of the first tensor (in name order) holding a NaN or an infinity, if any.
    pub fn non_finite(&self) -> Option<&str> {
        self.tensors
            .iter()
            .find(|(_, t)| t.data.iter().any(|v| !v.is_finite()))
            .map(|(name, _)| name.as_str())
    }

    /// The names of every tensor, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }
}

/// `v` as compact JSON.
fn to_json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("checkpoint metadata always serialises")
}
