//! A study's runs in its directory: which are finished, which resume from a checkpoint and
//! which start, and the `gpu-dae train` command line of each.

use std::path::{Path, PathBuf};

use clap::Parser;
use serde::{Deserialize, Serialize};

use super::ReproduceError;
use super::collect::{self, settings_key};
use super::study::{Row, Study};
use crate::checkpoint::FILE_NAME;
use crate::cli::{Cli, Command};
use crate::train::SdaRun;

/// The data flags every run of a study shares, kept in `study.json`: a rerun must give the same.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DataFlags {
    /// --data DIR, if given.
    pub data: Option<PathBuf>,
    /// --limit N, if given.
    pub limit: Option<usize>,
}

/// The flags every run of a study shares: the data, and the device (not stored: a run may
/// resume elsewhere).
#[derive(Clone, Debug, Default)]
pub struct Shared {
    /// --data and --limit.
    pub data: DataFlags,
    /// --backend, as spelled on the command line.
    pub backend: String,
    /// --adapter NAME, if given.
    pub adapter: Option<String>,
}

/// `DIR/study.json`: what a study directory holds.
#[derive(Debug, Serialize, Deserialize)]
struct StudyFile {
    /// The study's name.
    study: String,
    /// The data flags of its runs.
    #[serde(flatten)]
    data: DataFlags,
}

/// MNIST's split sizes, for checking a row's flags before any run exists.
const MNIST_SPLITS: [usize; 3] = [50_000, 10_000, 10_000];

/// The file naming a study directory's study.
pub const STUDY_FILE: &str = "study.json";

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// Its run.json has a summary.
    Finished,
    /// It has a checkpoint but no summary: `train --resume` continues it.
    Interrupted,
    /// Nothing yet.
    New,
}

/// One run of a study: a row trained with one seed in `dir`.
#[derive(Clone, Debug)]
pub struct Task {
    /// The row.
    pub row: Row,
    /// The seed.
    pub seed: u64,
    /// `DIR/<row>/seed-<seed>`.
    pub dir: PathBuf,
    /// Where it stands.
    pub state: TaskState,
}

impl Task {
    /// The arguments of the `gpu-dae` process that trains it (after the program name): a new
    /// `train` with the row's flags, or `train --resume` of its checkpoint.
    pub fn argv(&self, shared: &Shared) -> Vec<String> {
        let mut argv = vec!["train".to_string()];
        if self.state == TaskState::Interrupted {
            argv.extend(["--resume".into(), path_arg(&self.dir.join(FILE_NAME))]);
        } else {
            argv.extend(self.row.args.iter().map(|a| a.to_string()));
            argv.extend(["--seed".into(), self.seed.to_string()]);
            if let Some(limit) = shared.data.limit {
                argv.extend(["--limit".into(), limit.to_string()]);
            }
        }
        argv.extend(["--out".into(), path_arg(&self.dir)]);
        argv.extend(["--backend".into(), shared.backend.clone()]);
        if let Some(data) = &shared.data.data {
            argv.extend(["--data".into(), path_arg(data)]);
        }
        if let Some(adapter) = &shared.adapter {
            argv.extend(["--adapter".into(), adapter.clone()]);
        }
        argv
    }

    /// Whether its run record now holds a summary (it finished after the plan was made).
    pub fn finished_now(&self) -> bool {
        let record = self.dir.join("run.json");
        record.exists()
            && collect::read_record(&record).is_ok_and(|r| r.is_some_and(|r| r.outcome.is_some()))
    }

    /// "row seed s", as progress lines name a run.
    pub fn name(&self) -> String {
        format!("{} seed {}", self.row.name, self.seed)
    }
}

fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// A study's runs in its directory.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The study.
    pub study: Study,
    /// Its directory.
    pub dir: PathBuf,
    /// Every row × seed, rows outermost.
    pub tasks: Vec<Task>,
    /// The flags every run shares.
    pub shared: Shared,
}

impl Plan {
    /// The runs of `study` with `seeds` in `dir` (of the rows named in `only`, if given), each
    /// checked against what the directory
    /// already holds: `dir/study.json` must name the same study and data flags (it is written
    /// if absent), and a run's existing record must hold its row's settings and seed. Nothing is
    /// trained.
    pub fn new(
        study: Study,
        dir: &Path,
        seeds: &[u64],
        only: Option<&[String]>,
        shared: Shared,
    ) -> Result<Plan, ReproduceError> {
        check_study_file(dir, &study, &shared)?;
        let mut tasks = Vec::new();
        for row in &study.rows {
            row_run(row, MNIST_SPLITS, 784, 10).map_err(|what| ReproduceError::Record {
                path: dir.join(row.name),
                what: format!("the study's own flags are rejected: {what}"),
            })?;
            if only.is_some_and(|names| !names.iter().any(|n| n == row.name)) {
                continue;
            }
            for &seed in seeds {
                let run_dir = dir.join(row.name).join(format!("seed-{seed}"));
                let state = task_state(row, seed, &run_dir)?;
                tasks.push(Task { row: row.clone(), seed, dir: run_dir, state });
            }
        }
        Ok(Plan { study, dir: dir.into(), tasks, shared })
    }

    /// Writes `dir/study.json` (creating `dir`).
    pub fn save_study_file(&self) -> Result<(), ReproduceError> {
        let write = |path: &Path, e| ReproduceError::Write { path: path.into(), source: e };
        std::fs::create_dir_all(&self.dir).map_err(|e| write(&self.dir, e))?;
        let file = StudyFile { study: self.study.name.into(), data: self.shared.data.clone() };
        let path = self.dir.join(STUDY_FILE);
        let json = serde_json::to_vec_pretty(&file).expect("a StudyFile always serialises");
        crate::output::write_atomic(&path, &json).map_err(|e| write(&path, e))
    }

    /// The runs that still have work to do.
    pub fn pending(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().filter(|t| t.state != TaskState::Finished)
    }
}

/// The study named by `dir/study.json`, if the file exists.
pub fn study_of(dir: &Path) -> Result<Option<Study>, ReproduceError> {
    let path = dir.join(STUDY_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let file = read_study_file(&path)?;
    let study = Study::named(&file.study).ok_or_else(|| ReproduceError::Record {
        path: path.clone(),
        what: format!("names the study {:?}, which this gpu-dae does not know", file.study),
    })?;
    Ok(Some(study))
}

fn read_study_file(path: &Path) -> Result<StudyFile, ReproduceError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ReproduceError::Read { path: path.into(), source: e })?;
    serde_json::from_str(&text).map_err(|e| ReproduceError::Record {
        path: path.into(),
        what: format!("not a study file ({e})"),
    })
}

fn check_study_file(dir: &Path, study: &Study, shared: &Shared) -> Result<(), ReproduceError> {
    let path = dir.join(STUDY_FILE);
    if !path.exists() {
        return Ok(());
    }
    let file = read_study_file(&path)?;
    let other = |what: String| ReproduceError::OtherStudy { path: dir.into(), what };
    if file.study != study.name {
        return Err(other(format!("holds runs of the study {}, not {}", file.study, study.name)));
    }
    if file.data != shared.data {
        let flags = |f: &DataFlags| {
            let data =
                f.data.as_ref().map_or("the built-in MNIST".into(), |d| d.display().to_string());
            let limit = f.limit.map_or("no --limit".into(), |n| format!("--limit {n}"));
            format!("data {data}, {limit}")
        };
        return Err(other(format!(
            "its runs were made with {}, not {}",
            flags(&file.data),
            flags(&shared.data)
        )));
    }
    Ok(())
}

/// Where the run of `row` with `seed` in `dir` stands; an error if `dir` holds a run of other
/// settings or another seed.
fn task_state(row: &Row, seed: u64, dir: &Path) -> Result<TaskState, ReproduceError> {
    let record = dir.join("run.json");
    if record.exists() {
        let other = |what: String| ReproduceError::OtherStudy { path: dir.into(), what };
        let Some(found) = collect::read_record(&record)? else {
            return Err(other("holds a run of another model".into()));
        };
        let (n_in, n_out) = (found.run.model.n_in, found.run.model.n_out);
        let want = row_run(row, found.split_sizes, n_in, n_out)
            .map_err(|what| other(format!("its row's flags are rejected: {what}")))?;
        if found.run.seed != seed {
            return Err(other(format!("holds a run with seed {}, not {seed}", found.run.seed)));
        }
        if found.settings_key() != settings_key(&want, found.split_sizes) {
            return Err(other(format!("holds a run of other settings than the row {}", row.name)));
        }
        if found.outcome.is_some() {
            return Ok(TaskState::Finished);
        }
    }
    Ok(if dir.join(FILE_NAME).exists() { TaskState::Interrupted } else { TaskState::New })
}

/// The settings `row`'s flags give for a training split of `split_sizes[0]` examples of `n_in`
/// inputs and `n_out` classes (as `gpu-dae train` would check them), or the flag error.
pub fn row_run(
    row: &Row,
    split_sizes: [usize; 3],
    n_in: usize,
    n_out: usize,
) -> Result<SdaRun, String> {
    let argv = ["gpu-dae", "train"].into_iter().chain(row.args.iter().copied());
    let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    let Command::Train(args) = cli.command else { unreachable!("the argv starts with `train`") };
    args.sda_run(split_sizes[0].max(1), n_in, n_out).map_err(|e| e.to_string())
}
