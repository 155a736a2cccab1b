//! `gpu-dae reproduce`: a study's rows trained over many seeds, and a report of how the test
//! errors spread (mean, standard deviation, Student-t 95 % interval) beside the published
//! figures.
//!
//! A study directory holds `study.json` (which study, and the data flags every run shares) and
//! one ordinary `gpu-dae train` output per run, `DIR/<row>/seed-<s>/`, with its checkpoint and
//! `log.txt` (the run's console). Running the same command again skips the finished runs and
//! resumes the interrupted ones; `--collect` only rebuilds the report. Runs go to local child
//! processes (`local`) or to one Slurm array job (`slurm`).

pub mod collect;
pub mod local;
pub mod plan;
pub mod report;
pub mod slurm;
pub mod stats;
pub mod study;

use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::cli::{BackendChoice, ReproduceArgs};
pub use plan::{DataFlags, Plan, Shared, Task, TaskState};
use slurm::SlurmOptions;
pub use study::{Published, Row, Study};

/// Why a study cannot run or be reported. Each message is one line naming the flag or file.
#[derive(Debug, thiserror::Error)]
pub enum ReproduceError {
    /// STUDY is not a known study.
    #[error("unknown study {name:?}: expected one of {}", study::STUDY_NAMES.join(", "))]
    UnknownStudy {
        /// The name given.
        name: String,
    },
    /// Neither STUDY nor --collect was given.
    #[error("no study given: expected STUDY (one of {}) or --collect DIR", study::STUDY_NAMES.join(", "))]
    NoStudy,
    /// --seeds is not a count or a list of positive integers.
    #[error(
        "--seeds {value}: expected a count N ≥ 1 (seeds 1..N) or a comma-separated list of distinct positive integers"
    )]
    Seeds {
        /// The text given.
        value: String,
    },
    /// --rows names a row the study does not have.
    #[error("--rows {row}: the study {study} has no such row; expected some of {known}")]
    UnknownRow {
        /// The name given.
        row: String,
        /// The study.
        study: &'static str,
        /// Its rows.
        known: String,
    },
    /// --jobs 0.
    #[error("--jobs 0: expected at least 1")]
    Jobs,
    /// The study directory holds another study, or runs made with other data flags.
    #[error("{path}: {what}; use another --out")]
    OtherStudy {
        /// The directory or file.
        path: PathBuf,
        /// What it holds.
        what: String,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A run record that is not what `gpu-dae train` writes.
    #[error("{path}: {what}")]
    Record {
        /// The record.
        path: PathBuf,
        /// What is wrong with it.
        what: String,
    },
    /// --collect found no SdA run.
    #[error("{path}: no SdA run records (run.json or run_<name>.json) found in it or below")]
    NoRuns {
        /// The directory.
        path: PathBuf,
    },
    /// Slurm could not be used.
    #[error(transparent)]
    Slurm(#[from] slurm::SlurmError),
    /// A training process could not be started.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program.
        program: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Some runs failed; the others finished.
    #[error("{failed} of {total} runs failed: {first}")]
    RunsFailed {
        /// Failed runs.
        failed: usize,
        /// Runs started.
        total: usize,
        /// The first failure: its directory and the last line of its log.
        first: String,
    },
    /// Ctrl-C: the runs under way saved checkpoints.
    #[error(
        "interrupted: the runs under way saved their checkpoints; run the same command again to resume"
    )]
    Interrupted,
}

/// Parses --seeds: a count N (seeds 1..N) or a comma-separated list of distinct positive
/// integers.
pub fn parse_seeds(text: &str) -> Result<Vec<u64>, ReproduceError> {
    let bad = || ReproduceError::Seeds { value: text.to_string() };
    let numbers: Vec<u64> = text
        .split(',')
        .map(|s| s.trim().parse::<u64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    if numbers.contains(&0) {
        return Err(bad());
    }
    let seeds: Vec<u64> = match numbers.as_slice() {
        [n] if !text.contains(',') => (1..=*n).collect(),
        list => list.to_vec(),
    };
    let mut sorted = seeds.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != seeds.len() {
        return Err(bad());
    }
    Ok(seeds)
}

/// `gpu-dae reproduce`: with --collect, rebuilds the report of DIR; otherwise checks the flags
/// and the study directory, then trains the pending runs with `program` (this gpu-dae) locally
/// or submits them to Slurm, and writes the report. Bad flags and a directory of another study
/// are errors before any work.
pub fn run(args: &ReproduceArgs, program: &Path) -> Result<(), ReproduceError> {
    if let Some(dir) = &args.collect {
        return collect_report(dir);
    }
    let name = args.study.as_deref().ok_or(ReproduceError::NoStudy)?;
    let study =
        Study::named(name).ok_or_else(|| ReproduceError::UnknownStudy { name: name.into() })?;
    let seeds = parse_seeds(&args.seeds)?;
    if args.jobs == Some(0) {
        return Err(ReproduceError::Jobs);
    }
    let sbatch = args.slurm.then(slurm::find_sbatch).transpose()?;
    let dir = args.out.clone().unwrap_or_else(|| Path::new("runs").join(study.name));
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    let shared = Shared {
        data: DataFlags {
            data: args.data.as_ref().map(|d| std::path::absolute(d).unwrap_or(d.clone())),
            limit: args.limit,
        },
        backend: args
            .device
            .backend
            .to_possible_value()
            .expect("no skipped variants")
            .get_name()
            .into(),
        adapter: args.device.adapter.clone(),
    };
    if let Some(names) = &args.rows {
        for name in names {
            if study.row(name).is_none() {
                let known: Vec<&str> = study.rows.iter().map(|r| r.name).collect();
                return Err(ReproduceError::UnknownRow {
                    row: name.clone(),
                    study: study.name,
                    known: known.join(", "),
                });
            }
        }
    }
    let rows = args.rows.as_deref();
    let plan = Plan::new(study, &dir, &seeds, rows, shared)?;
    plan.save_study_file()?;
    let count = |s: TaskState| plan.tasks.iter().filter(|t| t.state == s).count();
    let (done, total) = (count(TaskState::Finished), plan.tasks.len());
    eprintln!(
        "study {}: {} rows × {} seeds = {total} runs in {}: {done} finished, {} to resume, {} to start",
        plan.study.name,
        total / seeds.len(),
        seeds.len(),
        dir.display(),
        count(TaskState::Interrupted),
        count(TaskState::New)
    );
    let pending: Vec<&Task> = plan.pending().collect();
    match sbatch {
        Some(sbatch) if !pending.is_empty() => {
            let argvs: Vec<Vec<String>> = pending.iter().map(|t| t.argv(&plan.shared)).collect();
            let options = SlurmOptions {
                partition: args.partition.clone(),
                time: args.time.clone(),
                gpus_per_task: args.gpus_per_task,
            };
            let job = slurm::submit(&sbatch, program, &dir, &argvs, &options)?;
            println!(
                "submitted Slurm array job {job}: {} tasks; when they finish: gpu-dae reproduce --collect {}",
                argvs.len(),
                dir.display()
            );
            Ok(())
        }
        Some(_) => {
            eprintln!("nothing to submit: every run is finished");
            report_study(&plan.study, &dir)
        }
        None => {
            let jobs = args.jobs.unwrap_or_else(|| default_jobs(args.device.backend));
            eprintln!("running {} runs, {jobs} at a time", pending.len());
            let ran = local::run_tasks(program, &pending, &plan.shared, jobs, done, total);
            // After failures the finished runs are still reported; after Ctrl-C nothing is.
            if !matches!(ran, Err(ReproduceError::Interrupted)) {
                report_study(&plan.study, &dir)?;
            }
            ran
        }
    }
}

/// Trainings at once by default: one per hardware GPU adapter (counted on the graphics API
/// with the most of them) when a GPU may be used, else one.
fn default_jobs(backend: BackendChoice) -> usize {
    if backend == BackendChoice::Cpu {
        return 1;
    }
    let adapters = crate::backend::gpu::list_adapters();
    let mut per_api: Vec<(&str, usize)> = Vec::new();
    for a in adapters.iter().filter(|a| !a.is_software) {
        match per_api.iter_mut().find(|(api, _)| *api == a.backend) {
            Some((_, n)) => *n += 1,
            None => per_api.push((&a.backend, 1)),
        }
    }
    per_api.iter().map(|&(_, n)| n).max().unwrap_or(1)
}

/// Builds and prints the report of `study`'s runs in `dir`.
fn report_study(study: &Study, dir: &Path) -> Result<(), ReproduceError> {
    let runs = collect::find_runs(dir)?;
    let rows = report::rows(Some(study), &runs);
    report::write(dir, study.title, Some(study.choices), &rows)?;
    print_report(dir, &rows);
    Ok(())
}

/// `--collect DIR`: the report of whatever SdA runs DIR holds.
fn collect_report(dir: &Path) -> Result<(), ReproduceError> {
    let study = plan::study_of(dir)?;
    let runs = collect::find_runs(dir)?;
    if runs.is_empty() {
        return Err(ReproduceError::NoRuns { path: dir.into() });
    }
    let rows = report::rows(study.as_ref(), &runs);
    match &study {
        Some(study) => report::write(dir, study.title, Some(study.choices), &rows)?,
        None => {
            let title = format!("SdA runs in {}", dir.display());
            report::write(dir, &title, None, &rows)?
        }
    }
    print_report(dir, &rows);
    Ok(())
}

fn print_report(dir: &Path, rows: &[report::ReportRow]) {
    println!("{}", report::table(rows));
    println!("wrote report.md, results.csv, results.png to {}", dir.display());
}
