//! Running a study's pending runs as local `gpu-dae train` child processes, `jobs` at a time,
//! each writing its console to `DIR/<row>/seed-<s>/log.txt`, with one progress line on
//! standard error whenever a run reports (runs done / total, the run and its last line).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::ReproduceError;
use super::plan::{Shared, Task};

/// The log each run's console goes to, in its directory.
pub const LOG_FILE: &str = "log.txt";

/// Set by Ctrl-C: start no more runs (the children, in the same process group, got the signal
/// too and save their checkpoints).
static STOP: AtomicBool = AtomicBool::new(false);

/// Asks `run_tasks` to start no more runs; returns whether it had been asked before.
pub fn request_stop() -> bool {
    STOP.swap(true, Ordering::SeqCst)
}

/// A run under way.
struct Running<'a> {
    task: &'a Task,
    child: Child,
    log: PathBuf,
    shown: String,
}

/// Trains `tasks` with `program` (this gpu-dae), `jobs` at a time. Returns once every started
/// run has ended: Ok if all finished, else the failures (or `Interrupted` after Ctrl-C).
pub fn run_tasks(
    program: &Path,
    tasks: &[&Task],
    shared: &Shared,
    jobs: usize,
    already_done: usize,
    total: usize,
) -> Result<(), ReproduceError> {
    let mut queue = tasks.iter();
    let mut running: Vec<Running> = Vec::new();
    let mut failures = Vec::new();
    let mut done = already_done;
    loop {
        while running.len() < jobs.max(1) && !STOP.load(Ordering::SeqCst) {
            let Some(task) = queue.next() else { break };
            // Another process (a second `reproduce` on the same DIR) may have finished it since
            // the plan was made: never train over a finished run.
            if task.finished_now() {
                done += 1;
                eprintln!("[{done}/{total}] {}: already finished", task.name());
                continue;
            }
            running.push(start(program, task, shared)?);
            eprintln!("[{done}/{total}] {}: started ({})", task.name(), task.dir.display());
        }
        if running.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
        let mut i = 0;
        while i < running.len() {
            let r = &mut running[i];
            let last = last_line(&r.log);
            if last != r.shown && !last.is_empty() {
                eprintln!("[{done}/{total}] {}: {last}", r.task.name());
                r.shown = last;
            }
            let status = r
                .child
                .try_wait()
                .map_err(|e| ReproduceError::Spawn { program: program.into(), source: e })?;
            match status {
                None => i += 1,
                Some(status) => {
                    let r = running.swap_remove(i);
                    if status.success() {
                        done += 1;
                        eprintln!("[{done}/{total}] {}: finished", r.task.name());
                    } else if !STOP.load(Ordering::SeqCst) {
                        let why = format!("{} ({status}): {}", r.log.display(), last_line(&r.log));
                        eprintln!("[{done}/{total}] {}: failed: {why}", r.task.name());
                        failures.push(why);
                    }
                }
            }
        }
    }
    if STOP.load(Ordering::SeqCst) {
        return Err(ReproduceError::Interrupted);
    }
    match failures.first() {
        None => Ok(()),
        Some(first) => Err(ReproduceError::RunsFailed {
            failed: failures.len(),
            total: tasks.len(),
            first: first.clone(),
        }),
    }
}

/// Starts `task`'s process, its standard output and error appended to its log.
fn start<'a>(
    program: &Path,
    task: &'a Task,
    shared: &Shared,
) -> Result<Running<'a>, ReproduceError> {
    let write = |path: &Path, e| ReproduceError::Write { path: path.into(), source: e };
    std::fs::create_dir_all(&task.dir).map_err(|e| write(&task.dir, e))?;
    let log = task.dir.join(LOG_FILE);
    let open = || OpenOptions::new().create(true).append(true).open(&log);
    let out: File = open().map_err(|e| write(&log, e))?;
    let err = out.try_clone().map_err(|e| write(&log, e))?;
    let child = Command::new(program)
        .args(task.argv(shared))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| ReproduceError::Spawn { program: program.into(), source: e })?;
    Ok(Running { task, child, log, shown: String::new() })
}

/// The last non-empty line of `log` ("" if there is none yet).
fn last_line(log: &Path) -> String {
    let Ok(file) = File::open(log) else { return String::new() };
    BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter(|l| !l.trim().is_empty())
        .last()
        .unwrap_or_default()
}
