//! Finding the SdA runs under a directory and reading what they achieved: a study's
//! `DIR/<row>/seed-<s>/run.json`, or any `gpu-dae train` output (`run.json`, and the committed
//! `docs/sda/run_<name>.json` records).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::ReproduceError;
use crate::train::SdaRun;

/// What a finished SdA run achieved.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// Best validation error, %.
    pub valid_error: f64,
    /// Test error at the best validation error, %.
    pub test_error: f64,
    /// Fine-tuning epochs run.
    pub epochs: usize,
    /// Minutes of pretraining and fine-tuning.
    pub minutes: f64,
}

/// An SdA run found on disk.
#[derive(Clone, Debug)]
pub struct FoundRun {
    /// Its run record.
    pub record: PathBuf,
    /// The study row it belongs to, from the layout `<row>/seed-<s>/run.json`, if it has it.
    pub row_dir: Option<String>,
    /// The run's settings (older records gain the defaults of fields added since).
    pub run: SdaRun,
    /// Examples in the train / valid / test splits.
    pub split_sizes: [usize; 3],
    /// What it achieved; None while it is unfinished.
    pub outcome: Option<Outcome>,
}

impl FoundRun {
    /// The run's settings without its seed, as JSON: runs that differ only by seed share it.
    pub fn settings_key(&self) -> Value {
        settings_key(&self.run, self.split_sizes)
    }
}

/// `run`'s settings without the seed, with the split sizes: the key runs of one configuration
/// share.
pub fn settings_key(run: &SdaRun, split_sizes: [usize; 3]) -> Value {
    let mut json = serde_json::to_value(run).expect("an SdaRun always serialises");
    if let Value::Object(map) = &mut json {
        map.remove("seed");
        map.insert("split_sizes".into(), serde_json::json!(split_sizes));
    }
    json
}

/// Reads one run record. Ok(None) for a record of another model (it has no test error).
pub fn read_record(path: &Path) -> Result<Option<FoundRun>, ReproduceError> {
    let bad = |what: String| ReproduceError::Record { path: path.into(), what };
    let text = std::fs::read_to_string(path)
        .map_err(|e| ReproduceError::Read { path: path.into(), source: e })?;
    let json: Value = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON ({e})")))?;
    if json.get("model").and_then(Value::as_str) != Some("sda") {
        return Ok(None);
    }
    let run: SdaRun = serde_json::from_value(json["config"].clone())
        .map_err(|e| bad(format!("its `config` is not an SdA run's settings ({e})")))?;
    let split_sizes: [usize; 3] = serde_json::from_value(json["split_sizes"].clone())
        .map_err(|e| bad(format!("its `split_sizes` is not three counts ({e})")))?;
    let outcome = match &json["summary"] {
        Value::Null => None,
        s => {
            let num = |key: &str| {
                s[key].as_f64().ok_or_else(|| bad(format!("its summary has no number `{key}`")))
            };
            Some(Outcome {
                valid_error: num("best_valid_error")?,
                test_error: num("test_error")?,
                epochs: num("epochs")? as usize,
                minutes: (num("pretrain_seconds")? + num("finetune_seconds")?) / 60.0,
            })
        }
    };
    Ok(Some(FoundRun { record: path.into(), row_dir: row_dir(path), run, split_sizes, outcome }))
}

/// The row of a study run, from its path `…/<row>/seed-<s>/run.json`.
fn row_dir(record: &Path) -> Option<String> {
    let seed_dir = record.parent()?;
    let name = seed_dir.file_name()?.to_str()?;
    name.strip_prefix("seed-")?.parse::<u64>().ok()?;
    Some(seed_dir.parent()?.file_name()?.to_str()?.to_string())
}

/// Whether `name` is a run record's file name: `run.json`, or `run_<name>.json` as in `docs/`.
fn is_record(name: &str) -> bool {
    name == "run.json" || (name.starts_with("run_") && name.ends_with(".json"))
}

/// Every SdA run record under `dir` (to three levels down: `dir/<row>/seed-<s>/run.json`), in
/// path order. Records of other models are skipped; an unreadable or malformed one is an error
/// naming it.
pub fn find_runs(dir: &Path) -> Result<Vec<FoundRun>, ReproduceError> {
    let mut records = Vec::new();
    walk(dir, 3, &mut records)?;
    records.sort();
    let mut runs = Vec::new();
    for path in records {
        if let Some(run) = read_record(&path)? {
            runs.push(run);
        }
    }
    Ok(runs)
}

fn walk(dir: &Path, depth: usize, records: &mut Vec<PathBuf>) -> Result<(), ReproduceError> {
    let read = |e| ReproduceError::Read { path: dir.into(), source: e };
    for entry in std::fs::read_dir(dir).map_err(read)? {
        let entry = entry.map_err(read)?;
        let path = entry.path();
        let kind = entry.file_type().map_err(read)?;
        if kind.is_dir() && depth > 0 {
            walk(&path, depth - 1, records)?;
        } else if kind.is_file() && path.file_name().and_then(|n| n.to_str()).is_some_and(is_record)
        {
            records.push(path);
        }
    }
    Ok(())
}
