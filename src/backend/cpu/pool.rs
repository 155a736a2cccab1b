//! A persistent pool of worker threads for the CPU backend's GEMMs: one job at a time, split
//! into numbered parts, part ranges always given to the same thread, so the slice of a weight
//! matrix a thread works on stays in that core's cache from one GEMM of a step to the next.
//!
//! Workers wait for a job by spinning for a short while (a training step's GEMMs follow each
//! other within microseconds, and a fork/join that parks threads costs more than a small GEMM),
//! then sleep on a condition variable. The caller is thread 0 and works too.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long an idle worker spins before it sleeps.
const SPIN: Duration = Duration::from_micros(200);

/// A job: called once per part, from any thread.
type Task = dyn Fn(usize) + Sync;

/// The job being run: the task (its lifetime erased; `Pool::run` waits for every worker before
/// it returns, so the borrow outlives every use) and its number of parts.
struct Job {
    task: *const Task,
    parts: usize,
    reverse: bool,
}

/// What the caller and the workers share.
struct Shared {
    /// Bumped once per job; a worker runs a job when it sees a new value.
    generation: AtomicU64,
    /// The current job, written by the caller before it bumps `generation`.
    job: UnsafeCell<Job>,
    /// Workers still running the current job.
    running: AtomicUsize,
    /// Whether a worker's part panicked during the current job.
    panicked: AtomicBool,
    /// Workers asleep (or about to be) on `wake`.
    sleepers: AtomicUsize,
    sleep: Mutex<()>,
    wake: Condvar,
    /// Threads, the caller included.
    threads: usize,
}

// SAFETY: `job` is written only by the caller holding `Pool::busy`, while no worker reads it
// (before `generation` is bumped, after `running` reached 0); workers read it only between
// seeing the bump and decrementing `running`. `task` points to a `Sync` closure.
unsafe impl Sync for Shared {}
// SAFETY: as above; the raw pointer is only dereferenced under that protocol.
unsafe impl Send for Shared {}

/// The pool. `Pool::global()` is the one the backend uses.
pub struct Pool {
    shared: Arc<Shared>,
    /// Held while a job runs; a second caller at the same time runs its job on its own thread.
    busy: Mutex<()>,
}

impl Pool {
    /// The process's pool: one thread per rayon thread (`RAYON_NUM_THREADS`, else one per
    /// core), the caller being one of them.
    pub fn global() -> &'static Pool {
        static POOL: OnceLock<Pool> = OnceLock::new();
        POOL.get_or_init(|| Pool::new(rayon::current_num_threads().max(1)))
    }

    /// A pool of `threads` threads, the caller included (`threads − 1` workers are started).
    fn new(threads: usize) -> Pool {
        let shared = Arc::new(Shared {
            generation: AtomicU64::new(0),
            job: UnsafeCell::new(Job {
                task: std::ptr::null::<fn(usize)>() as *const Task,
                parts: 0,
                reverse: false,
            }),
            running: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            sleepers: AtomicUsize::new(0),
            sleep: Mutex::new(()),
            wake: Condvar::new(),
            threads,
        });
        for t in 1..threads {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("gpu-dae-cpu-{t}"))
                .spawn(move || worker(&shared, t))
                .expect("gpu-dae: could not start a CPU worker thread");
        }
        Pool { shared, busy: Mutex::new(()) }
    }

    /// Threads that run a job's parts, the caller included.
    pub fn threads(&self) -> usize {
        self.shared.threads
    }

    /// The parts of `parts` that thread `t` of `threads` runs: a contiguous range, the same
    /// one for every job of that many parts.
    pub fn owned(parts: usize, threads: usize, t: usize) -> std::ops::Range<usize> {
        parts * t / threads..parts * (t + 1) / threads
    }

    /// Calls `task(p)` for every part p in 0..parts, part ranges spread over the threads by
    /// `owned`, and returns when all have finished; each thread runs its parts in increasing
    /// order, or decreasing when `reverse`. Runs everything on the caller's thread when there
    /// is one part, one thread, or another job is running.
    pub fn run(&self, parts: usize, reverse: bool, task: &(dyn Fn(usize) + Sync)) {
        let sh = &*self.shared;
        let guard = if parts > 1 && sh.threads > 1 { self.busy.try_lock().ok() } else { None };
        let Some(_guard) = guard else {
            in_order(0..parts, reverse, task);
            return;
        };
        // SAFETY: no worker reads `job` now (the previous job's `running` reached 0 before its
        // caller released `busy`). The lifetime is erased; `WaitForWorkers` keeps the borrow
        // alive until every worker is done with it, even if the caller's parts panic.
        unsafe {
            let task: *const Task =
                std::mem::transmute::<&(dyn Fn(usize) + Sync + '_), &'static Task>(task);
            *sh.job.get() = Job { task, parts, reverse };
        }
        sh.panicked.store(false, Ordering::Relaxed);
        sh.running.store(sh.threads - 1, Ordering::Relaxed);
        sh.generation.fetch_add(1, Ordering::SeqCst);
        if sh.sleepers.load(Ordering::SeqCst) > 0 {
            let _lock = sh.sleep.lock().unwrap_or_else(|e| e.into_inner());
            sh.wake.notify_all();
        }
        {
            let _wait = WaitForWorkers(sh);
            in_order(Pool::owned(parts, sh.threads, 0), reverse, task);
        }
        if sh.panicked.load(Ordering::Acquire) {
            panic!("gpu-dae: a CPU worker thread panicked");
        }
    }
}

/// Calls `task` on each part of `parts`, in increasing order or decreasing when `reverse`.
fn in_order(parts: std::ops::Range<usize>, reverse: bool, task: &(dyn Fn(usize) + Sync + '_)) {
    if reverse { parts.rev().for_each(task) } else { parts.for_each(task) }
}

/// Waits, when dropped, until every worker has finished the current job.
struct WaitForWorkers<'a>(&'a Shared);

impl Drop for WaitForWorkers<'_> {
    fn drop(&mut self) {
        let mut spins = 0u32;
        while self.0.running.load(Ordering::Acquire) > 0 {
            spins += 1;
            if spins < 1 << 16 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// Worker thread `t`: waits for each new job and runs its parts.
fn worker(sh: &Shared, t: usize) {
    let mut seen = 0u64;
    loop {
        seen = wait_for_job(sh, seen);
        // SAFETY: the caller wrote `job` before bumping `generation` (SeqCst, seen above) and
        // will not touch it or drop the task until `running` reaches 0.
        let (task, parts, reverse) = unsafe {
            let job = &*sh.job.get();
            (&*job.task, job.parts, job.reverse)
        };
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            in_order(Pool::owned(parts, sh.threads, t), reverse, task);
        }));
        if ran.is_err() {
            sh.panicked.store(true, Ordering::Release);
        }
        sh.running.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Returns the generation of the next job after `seen`: spins for `SPIN`, then sleeps.
fn wait_for_job(sh: &Shared, seen: u64) -> u64 {
    let start = Instant::now();
    let mut spins = 0u32;
    loop {
        let g = sh.generation.load(Ordering::SeqCst);
        if g != seen {
            return g;
        }
        spins = spins.wrapping_add(1);
        std::hint::spin_loop();
        if spins.is_multiple_of(64) && start.elapsed() > SPIN {
            break;
        }
    }
    let mut lock = sh.sleep.lock().unwrap_or_else(|e| e.into_inner());
    sh.sleepers.fetch_add(1, Ordering::SeqCst);
    loop {
        let g = sh.generation.load(Ordering::SeqCst);
        if g != seen {
            sh.sleepers.fetch_sub(1, Ordering::SeqCst);
            return g;
        }
        lock = sh.wake.wait(lock).unwrap_or_else(|e| e.into_inner());
    }
}
