//! `reproduce --slurm`: a study submitted as one Slurm array job, one task per run.
//!
//! [`submit`] writes, under `DIR/slurm/`, one `task-<i>.args` file per run (its arguments, one
//! per line) and `array.sh`, the batch script: `#SBATCH` lines for the array, job name, log files
//! (`task-%a.log`) and the partition, time limit and GPUs asked for, then a body that reads its
//! task's arguments into a bash array and execs the program with them. Tasks run in the
//! directory `sbatch` was run from (Slurm's default), so relative paths in the arguments mean
//! what they meant to the submitter.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use crate::output::write_atomic;

/// Slurm options of `reproduce --slurm`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlurmOptions {
    /// `--partition`: the partition to submit to (Slurm's default partition when None).
    pub partition: Option<String>,
    /// `--time`: each task's time limit in a form sbatch accepts (`MM`, `HH:MM:SS`, `D-HH`...).
    pub time: Option<String>,
    /// `--gpus-per-task`: GPUs each task asks for.
    pub gpus_per_task: Option<u32>,
}

/// What kept a study from being submitted; its Display is one line naming what failed.
#[derive(Debug, thiserror::Error)]
pub enum SlurmError {
    /// No `sbatch` on PATH.
    #[error("--slurm: sbatch not found on PATH: install Slurm's client or run without --slurm")]
    SbatchNotFound,
    /// A study with no runs.
    #[error("--slurm: no runs to submit")]
    NoTasks,
    /// A value that cannot be written into the batch script or an args file.
    #[error("--slurm: {what} {value:?} {why}")]
    Unwritable {
        /// Which value: "argument 3 of task 1", "partition", "study directory"...
        what: String,
        /// The value.
        value: String,
        /// Why it cannot be written ("contains a newline", "is not valid UTF-8"...).
        why: &'static str,
    },
    /// A file or directory under `DIR/slurm` that could not be made or written.
    #[error("--slurm: {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// sbatch could not be started.
    #[error("--slurm: cannot run {}: {source}", sbatch.display())]
    Spawn {
        /// The sbatch run.
        sbatch: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// sbatch ran and refused the job.
    #[error("--slurm: {} {} failed ({status}): {stderr}", sbatch.display(), script.display())]
    Rejected {
        /// The sbatch run.
        sbatch: PathBuf,
        /// The batch script submitted.
        script: PathBuf,
        /// Its exit status.
        status: ExitStatus,
        /// Its standard error, lines joined by " | ".
        stderr: String,
    },
    /// sbatch succeeded but its output is not `JOBID` or `JOBID;CLUSTER`.
    #[error("--slurm: {} printed no job id: {stdout:?}", sbatch.display())]
    NoJobId {
        /// The sbatch run.
        sbatch: PathBuf,
        /// What it printed.
        stdout: String,
    },
}

/// The sbatch on PATH, or a one-line error ("--slurm: sbatch not found on PATH: install Slurm's
/// client or run without --slurm") — checked before any work.
pub fn find_sbatch() -> Result<PathBuf, SlurmError> {
    let path = std::env::var_os("PATH").ok_or(SlurmError::SbatchNotFound)?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("sbatch"))
        .find(|candidate| is_executable(candidate))
        .ok_or(SlurmError::SbatchNotFound)
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Submits one array job: task i runs `program tasks[i]...` (tasks[i] is the full argv after the
/// program, e.g. `["train", "--model", "sda", ..., "--out", "DIR/row/seed-1"]`).
///
/// Writes `DIR/slurm/task-<i>.args` (one argument per line; arguments containing a newline are
/// rejected before anything is written) and `DIR/slurm/array.sh` (the batch script: `#SBATCH`
/// lines for `--array=0-(n-1)`, `--job-name`, `--output=DIR/slurm/task-%a.log` and the partition,
/// time and GPUs per task when given; it reads its task's args file into a bash array and execs
/// `program` with it), each atomically (a temporary file renamed), then runs
/// `sbatch --parsable DIR/slurm/array.sh` and returns the job id it prints.
pub fn submit(
    sbatch: &Path,
    program: &Path,
    dir: &Path,
    tasks: &[Vec<String>],
    opts: &SlurmOptions,
) -> Result<String, SlurmError> {
    if tasks.is_empty() {
        return Err(SlurmError::NoTasks);
    }
    let mut args_files = Vec::with_capacity(tasks.len());
    for (i, task) in tasks.iter().enumerate() {
        let mut text = String::new();
        for (k, arg) in task.iter().enumerate() {
            check_line(&format!("argument {k} of task {i}"), arg)?;
            text.push_str(arg);
            text.push('\n');
        }
        args_files.push(text);
    }
    let program = absolute(program)?;
    let slurm_dir = absolute(dir)?.join("slurm");
    let script = array_script(&program, &slurm_dir, tasks.len(), opts)?;

    std::fs::create_dir_all(&slurm_dir)
        .map_err(|source| SlurmError::Io { path: slurm_dir.clone(), source })?;
    for (i, text) in args_files.iter().enumerate() {
        write(&slurm_dir.join(format!("task-{i}.args")), text)?;
    }
    let script_path = slurm_dir.join("array.sh");
    write(&script_path, &script)?;

    let out = Command::new(sbatch)
        .arg("--parsable")
        .arg(&script_path)
        .output()
        .map_err(|source| SlurmError::Spawn { sbatch: sbatch.to_path_buf(), source })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(SlurmError::Rejected {
            sbatch: sbatch.to_path_buf(),
            script: script_path,
            status: out.status,
            stderr: stderr
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" | "),
        });
    }
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let id = stdout.split(';').next().unwrap_or_default();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SlurmError::NoJobId { sbatch: sbatch.to_path_buf(), stdout });
    }
    Ok(id.to_string())
}

/// The batch script of an `n`-task array whose files live in `slurm_dir` (absolute).
fn array_script(
    program: &Path,
    slurm_dir: &Path,
    n: usize,
    opts: &SlurmOptions,
) -> Result<String, SlurmError> {
    let program = utf8("program", program)?;
    let slurm_dir = utf8("study directory", slurm_dir)?;
    if slurm_dir.contains('\\') {
        return Err(SlurmError::Unwritable {
            what: "study directory".into(),
            value: slurm_dir.into(),
            why: "contains a backslash (sbatch would not expand %a in the log file names)",
        });
    }
    let study = Path::new(slurm_dir).parent().and_then(Path::file_name);
    let job_name = format!("gpu-dae-{}", study.map_or("study".into(), |s| s.to_string_lossy()));
    // `%` starts a filename pattern in --output; `%%` is a literal one.
    let log = format!("{}/task-%a.log", slurm_dir.replace('%', "%%"));

    let mut s = String::from("#!/bin/bash\n");
    s += &format!("#SBATCH --array=0-{}\n", n - 1);
    s += &sbatch_line("job-name", &job_name)?;
    s += &sbatch_line("output", &log)?;
    if let Some(partition) = &opts.partition {
        s += &sbatch_line("partition", partition)?;
    }
    if let Some(time) = &opts.time {
        s += &sbatch_line("time", time)?;
    }
    if let Some(gpus) = opts.gpus_per_task {
        s += &format!("#SBATCH --gpus-per-task={gpus}\n");
    }
    s += "# Written by `gpu-dae reproduce --slurm`: task i runs the program with the arguments\n";
    s += "# in task-<i>.args, one per line.\n";
    s += "set -euo pipefail\n";
    s += &format!(
        "mapfile -t args < {}/task-\"$SLURM_ARRAY_TASK_ID\".args\n",
        shell_quote(slurm_dir)
    );
    s += &format!("exec {} \"${{args[@]}}\"\n", shell_quote(program));
    Ok(s)
}

/// `#SBATCH --name="value"`, quoted for sbatch's own reading of `#SBATCH` lines (double quotes,
/// backslash escapes; an unquoted `#` would start a comment).
fn sbatch_line(name: &str, value: &str) -> Result<String, SlurmError> {
    check_line(name, value)?;
    let quoted = value.replace('\\', "\\\\").replace('"', "\\\"");
    Ok(format!("#SBATCH --{name}=\"{quoted}\"\n"))
}

/// `s` as one bash word: single-quoted, each `'` written as `'\''`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn check_line(what: &str, value: &str) -> Result<(), SlurmError> {
    if value.contains('\n') {
        let (what, value) = (what.to_string(), value.to_string());
        return Err(SlurmError::Unwritable { what, value, why: "contains a newline" });
    }
    Ok(())
}

fn utf8<'a>(what: &str, path: &'a Path) -> Result<&'a str, SlurmError> {
    let s = path.to_str().ok_or_else(|| SlurmError::Unwritable {
        what: what.to_string(),
        value: path.display().to_string(),
        why: "is not valid UTF-8",
    })?;
    check_line(what, s)?;
    Ok(s)
}

fn absolute(path: &Path) -> Result<PathBuf, SlurmError> {
    std::path::absolute(path).map_err(|source| SlurmError::Io { path: path.to_path_buf(), source })
}

fn write(path: &Path, text: &str) -> Result<(), SlurmError> {
    write_atomic(path, text.as_bytes())
        .map_err(|source| SlurmError::Io { path: path.to_path_buf(), source })
}
