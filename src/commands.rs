//! The subcommands, built on the library: load data, pick a backend, run, report.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use gpu_dae::backend::Backend;
use gpu_dae::backend::cpu::Cpu;
use gpu_dae::backend::timed::Timed;
use gpu_dae::bench::{self, BenchRow};
use gpu_dae::cli::{BackendChoice, BenchArgs, TrainArgs};
use gpu_dae::data::{self, DataSet};
use gpu_dae::model::AutoencoderConfig;
use gpu_dae::train::{self, Console, RunRecord};

/// `gpu-dae train`: validate the flags, load the data, train, write the outputs.
pub fn train(args: &TrainArgs) -> anyhow::Result<()> {
    let data = load_data(args.data.as_deref(), args.limit)?;
    let n_vis = data.train.images.dim();
    let run = args.da_run(data.train.len(), n_vis)?;
    let out = args.out.clone().unwrap_or_else(|| default_out_dir(args.model.name()));
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create the output directory {}", out.display()))?;
    let be = Cpu::new();
    eprintln!("backend: {} ({})", be.describe(), backend_reason(args.device.backend));
    eprintln!(
        "data: {} — train {}, valid {}, test {}",
        data.source,
        data.train.len(),
        data.valid.len(),
        data.test.len()
    );
    eprintln!("output: {}", out.display());
    let mut record = RunRecord {
        program: format!("gpu-dae {}", env!("CARGO_PKG_VERSION")),
        command: std::env::args().collect(),
        model: args.model.name().to_string(),
        config: serde_json::to_value(&run).context("serialising the configuration")?,
        backend: be.describe(),
        data: data.source.clone(),
        split_sizes: [data.train.len(), data.valid.len(), data.test.len()],
        seed: run.seed,
        ..RunRecord::default()
    };
    let outcome = train::train_da(&be, &data, &run, &out, &mut record, &Console::new())?;
    let last = outcome.epochs.last().map(|r| r.cost).unwrap_or(f32::NAN);
    eprintln!(
        "done: final cost {last:.4}, {:.1} s in all; wrote filters.png, metrics.csv, run.json to {}",
        record.total_seconds,
        out.display()
    );
    Ok(())
}

/// `gpu-dae bench`: training throughput of the chosen backends at each minibatch size.
pub fn bench(args: &BenchArgs) -> anyhow::Result<()> {
    let data = data::load_embedded(None)?;
    let images = &data.train.images;
    let config = AutoencoderConfig { n_vis: images.dim(), n_hid: 500, corruption: 0.3 };
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "dA {}-{} on {} training images, {:.1} s per case",
        config.n_vis, config.n_hid, images.n, args.seconds
    )?;
    writeln!(
        out,
        "{:<24} {:>6} {:>10} {:>12} {:>9} {:>12}",
        "backend", "batch", "ms/step", "samples/s", "GFLOP/s", "s/epoch(50k)"
    )?;
    let be = Cpu::new();
    for &batch in &args.batch {
        let row = bench::bench_da(&be, images, &config, batch, args.seconds);
        print_row(&mut out, &be.describe(), &row)?;
    }
    writeln!(out, "\nwhere the CPU time goes (share of a step, timed op by op):")?;
    for &batch in &args.batch {
        let timed = Timed::new(Cpu::new());
        let row = bench::bench_da(&timed, images, &config, batch, args.seconds.min(1.0));
        let totals = timed.totals();
        let all: f64 = totals.iter().map(|t| t.1).sum();
        let parts: Vec<String> =
            totals.iter().map(|(name, s, _)| format!("{name} {:.0}%", 100.0 * s / all)).collect();
        writeln!(
            out,
            "  batch {:>4} ({:.3} ms/step): {}",
            batch,
            row.ms_per_step,
            parts.join(", ")
        )?;
    }
    Ok(())
}

fn print_row(out: &mut impl Write, backend: &str, r: &BenchRow) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<24} {:>6} {:>10.3} {:>12.0} {:>9.1} {:>12.2}",
        backend, r.batch, r.ms_per_step, r.samples_per_s, r.gflops, r.s_per_epoch
    )
}

/// `gpu-dae devices`: every adapter wgpu sees.
pub fn devices() -> anyhow::Result<()> {
    anyhow::bail!("no GPU support in this build yet")
}

fn backend_reason(choice: BackendChoice) -> &'static str {
    match choice {
        BackendChoice::Cpu => "--backend cpu",
        _ => "no hardware GPU adapter found",
    }
}

fn load_data(dir: Option<&Path>, limit: Option<usize>) -> anyhow::Result<DataSet> {
    Ok(match dir {
        Some(dir) => data::load_dir(dir, limit)?,
        None => data::load_embedded(limit)?,
    })
}

/// runs/<model>-<UTC yyyymmdd-hhmmss>.
fn default_out_dir(model: &str) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    PathBuf::from("runs").join(format!(
        "{model}-{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    ))
}

/// Gregorian date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}
