//! What a GPU training step is made of, for `gpu-dae bench`: its dispatches, their grids, the
//! time of each kernel (timestamp queries where the adapter has them, else the wall time of a
//! submit per dispatch, said so), the useful work of the GEMMs, and the floor: the time of one
//! dispatch in a chain of dependent dispatches that do nothing measurable.

use serde::Serialize;

use crate::backend::Run;
use crate::backend::Storage;
use crate::backend::gpu::{FILL, Gpu};
use crate::backend::ops::Affine;

/// One kernel of a step: every dispatch of one entry point with one grid and one amount of
/// work (flops and bytes).
#[derive(Clone, Debug, Serialize)]
pub struct KernelRow {
    /// Entry point.
    pub kernel: &'static str,
    /// Workgroups of its grid.
    pub workgroups: u64,
    /// Dispatches of it per step.
    pub per_step: f64,
    /// Mean time of one dispatch, µs.
    pub us: f64,
    /// Useful floating-point operations of one dispatch (a GEMM's 2·m·n·k; 0: not counted).
    pub flops: u64,
    /// Bytes of its operands, each read or written once.
    pub bytes: u64,
    /// flops / time, GFLOP/s (None where not counted).
    pub gflops: Option<f64>,
    /// bytes / time, GB/s (None where not counted).
    pub gbps: Option<f64>,
    /// Why its grid is under `FILL` workgroups, when it is (GEMMs).
    pub fewer: Option<String>,
}

/// The dispatches of one kind of step, timed over several steps.
#[derive(Clone, Debug, Serialize)]
pub struct StepProfile {
    /// "gpu timestamps" or "wall: one submit and wait per dispatch".
    pub timing: &'static str,
    /// Steps profiled.
    pub steps: usize,
    /// Dispatches per step.
    pub dispatches_per_step: f64,
    /// Σ of the kernels' times per step, µs (with a pass per dispatch: not the step's time).
    pub kernel_us_per_step: f64,
    /// Useful GEMM flops per step.
    pub flops_per_step: f64,
    /// Operand bytes per step, every kernel's.
    pub bytes_per_step: f64,
    /// The step's kernels, in the order they first run.
    pub kernels: Vec<KernelRow>,
}

/// Profiles `steps` steps run by `run(steps)` on `gpu` after one untimed step (which compiles
/// the pipelines).
pub fn profile_steps(gpu: &Gpu, steps: usize, mut run: impl FnMut(usize)) -> StepProfile {
    run(1);
    let stamps = gpu.time_dispatches();
    run(steps);
    gpu.sync();
    let log = gpu.dispatch_log();
    gpu.log_dispatches(false);
    let mut kernels: Vec<(KernelRow, usize)> = Vec::new();
    for d in &log {
        let ns = d.time.ns();
        let same = |k: &&mut (KernelRow, usize)| {
            let row = &k.0;
            row.kernel == d.entry
                && row.workgroups == d.workgroups()
                && (row.flops, row.bytes) == (d.flops, d.bytes)
        };
        match kernels.iter_mut().find(same) {
            Some((row, n)) => {
                row.us += ns / 1e3;
                *n += 1;
            }
            None => {
                let row = KernelRow {
                    kernel: d.entry,
                    workgroups: d.workgroups(),
                    per_step: 0.0,
                    us: ns / 1e3,
                    flops: d.flops,
                    bytes: d.bytes,
                    gflops: None,
                    gbps: None,
                    fewer: d.fewer.clone(),
                };
                kernels.push((row, 1));
            }
        }
    }
    let rows: Vec<KernelRow> = kernels
        .into_iter()
        .map(|(mut row, n)| {
            row.us /= n as f64;
            row.per_step = n as f64 / steps as f64;
            let rate = |v: u64| (v > 0 && row.us > 0.0).then(|| v as f64 / row.us / 1e3);
            row.gflops = rate(row.flops);
            row.gbps = rate(row.bytes);
            row
        })
        .collect();
    let per_step = |f: &dyn Fn(&KernelRow) -> f64| rows.iter().map(|r| f(r) * r.per_step).sum();
    StepProfile {
        timing: if stamps { "gpu timestamps" } else { "wall: one submit and wait per dispatch" },
        steps,
        dispatches_per_step: log.len() as f64 / steps as f64,
        kernel_us_per_step: per_step(&|r| r.us),
        flops_per_step: per_step(&|r| r.flops as f64),
        bytes_per_step: per_step(&|r| r.bytes as f64),
        kernels: rows,
    }
}

/// Dispatches in the floor's chain.
const FLOOR_CHAIN: usize = 64;

/// The floor of a step: the median time of one dispatch in a chain of `FLOOR_CHAIN` dependent
/// one-element dispatches (`Affine` on one float, each reading what the last wrote), µs, and
/// how it was timed.
pub fn dispatch_floor_us(gpu: &Gpu) -> (f64, &'static str) {
    let mut x = gpu.zeros(1);
    gpu.run(Affine { x: &mut x, len: 1, mul: 1.0, add: 1.0 });
    let stamps = gpu.time_dispatches();
    for _ in 0..FLOOR_CHAIN {
        gpu.run(Affine { x: &mut x, len: 1, mul: 1.0, add: 1.0 });
    }
    gpu.sync();
    let mut ns: Vec<f64> = gpu.dispatch_log().iter().map(|d| d.time.ns()).collect();
    gpu.log_dispatches(false);
    ns.sort_by(f64::total_cmp);
    let median = ns.get(ns.len() / 2).copied().unwrap_or(0.0);
    (median / 1e3, if stamps { "gpu timestamps" } else { "wall" })
}

/// The profile as text lines: one per kernel, then the totals.
pub fn describe(p: &StepProfile) -> Vec<String> {
    let mut lines = vec![format!(
        "  {:<24} {:>10} {:>8} {:>10} {:>9} {:>8}  why fewer than {FILL} workgroups",
        "kernel", "workgroups", "/step", "µs each", "GFLOP/s", "GB/s"
    )];
    let opt = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.1}"));
    for r in &p.kernels {
        lines.push(format!(
            "  {:<24} {:>10} {:>8.2} {:>10.2} {:>9} {:>8}  {}",
            r.kernel,
            r.workgroups,
            r.per_step,
            r.us,
            opt(r.gflops),
            opt(r.gbps),
            r.fewer.as_deref().unwrap_or("")
        ));
    }
    lines.push(format!(
        "  {:.2} dispatches/step, Σ kernel time {:.1} µs/step ({}), GEMMs {:.1} MFLOP, operands {:.2} MB per step",
        p.dispatches_per_step,
        p.kernel_us_per_step,
        p.timing,
        p.flops_per_step / 1e6,
        p.bytes_per_step / 1e6
    ));
    lines
}
