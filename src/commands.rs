//! The subcommands, built on the library: load data, pick a backend, run, report.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use gpu_dae::backend::Storage;
use gpu_dae::backend::cpu::Cpu;
use gpu_dae::backend::gpu::{Gpu, list_adapters};
use gpu_dae::backend::timed::Timed;
use gpu_dae::bench::{self, BenchRow, DaBench, EPOCH_EXAMPLES, SdaBench, SdaStep};
use gpu_dae::checkpoint::{Checkpoint, DataSource};
use gpu_dae::cli::{BackendChoice, BenchArgs, ModelKind, Preset, ReproduceArgs, TrainArgs};
use gpu_dae::config::{AePreset, tutorial_sda};
use gpu_dae::data::{self, DataSet, Images};
use gpu_dae::device::{self, Engine, EnginePolicy};
use gpu_dae::model::AutoencoderConfig;
use gpu_dae::output;
use gpu_dae::reproduce;
use gpu_dae::train::{self, Console, RunRecord, Session, Settings};
use gpu_dae::viz::sweep_plot::{self, SweepLine};
use gpu_dae::with_engine;

/// `gpu-dae train`: validate the flags (or read the checkpoint to resume), load the data, pick
/// the engine, train, write the outputs. Ctrl-C stops after the current step with a checkpoint.
pub fn train(args: &TrainArgs) -> anyhow::Result<()> {
    let resume = args.resume.as_deref().map(Checkpoint::load).transpose()?;
    let (model, run, data, source, out) = match &resume {
        None => {
            let data = load_data(args.data.as_deref(), args.limit)?;
            let run = args.settings(&data)?;
            let dir = args.data.as_deref().map(|d| std::fs::canonicalize(d).unwrap_or(d.into()));
            let images = &data.train.images;
            let source =
                DataSource { dir, limit: args.limit, image_shape: (images.rows, images.cols) };
            let out = args.out.clone().unwrap_or_else(|| default_out_dir(args.model().name()));
            (args.model().name().to_string(), run, data, source, out)
        }
        Some(ck) => {
            let path = args.resume.as_deref().unwrap_or(Path::new(""));
            for (flag, given) in args.settings_given() {
                if given {
                    anyhow::bail!(
                        "--{flag} cannot be given with --resume: the run's settings come from {}",
                        path.display()
                    );
                }
            }
            let (model, mut run) = (ck.model()?.to_string(), Settings::from_checkpoint(ck)?);
            extend(&mut run, args, ck)?;
            let source: DataSource = ck.json("data")?;
            let dir = args.data.clone().or(source.dir.clone());
            let data = load_data(dir.as_deref(), source.limit)?;
            run.check_data(ck, &source, &data)?;
            let source = DataSource { dir, ..source };
            let out = args.out.clone().unwrap_or_else(|| {
                path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).into()
            });
            (model, run, data, source, out)
        }
    };
    let choice = device::choose(args.device.backend.into(), args.device.adapter.as_deref())?;
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create the output directory {}", out.display()))?;
    ctrlc::set_handler(|| {
        if train::request_interrupt() {
            std::process::exit(INTERRUPTED_EXIT);
        }
        eprintln!(
            "\ninterrupt: finishing the current step, then saving a checkpoint (Ctrl-C again quits at once)"
        );
    })
    .context("cannot install the Ctrl-C handler")?;
    with_engine!(choice.engine, |be| {
        eprintln!("backend: {} ({})", be.describe(), choice.reason);
        eprintln!(
            "data: {}: train {}, valid {}, test {}",
            data.source,
            data.train.len(),
            data.valid.len(),
            data.test.len()
        );
        eprintln!("output: {}", out.display());
        if let Some(path) = &args.resume {
            eprintln!("resuming from {}", path.display());
        }
        let mut record = RunRecord {
            program: format!("gpu-dae {}", env!("CARGO_PKG_VERSION")),
            command: std::env::args().collect(),
            model,
            config: run.to_json(),
            backend: be.describe(),
            data: data.source.clone(),
            split_sizes: [data.train.len(), data.valid.len(), data.test.len()],
            seed: run.seed(),
            ..RunRecord::default()
        };
        let console = Console::new();
        let mut session = Session {
            out: &out,
            record: &mut record,
            progress: &console,
            source: source.clone(),
            resume: resume.clone(),
        };
        train::train(be, &data, &run, &mut session)?;
    });
    Ok(())
}

/// `gpu-dae reproduce`: a study over seeds (`gpu_dae::reproduce::run`), each run a `gpu-dae
/// train` child of this executable. Ctrl-C lets the runs under way save their checkpoints and
/// starts no more.
pub fn reproduce(args: &ReproduceArgs) -> anyhow::Result<()> {
    let program = std::env::current_exe().context("cannot find this gpu-dae executable")?;
    ctrlc::set_handler(|| {
        if reproduce::local::request_stop() {
            std::process::exit(INTERRUPTED_EXIT);
        }
        eprintln!("\ninterrupt: the runs under way save their checkpoints; no more start");
    })
    .context("cannot install the Ctrl-C handler")?;
    Ok(reproduce::run(args, &program)?)
}

/// The exit status after Ctrl-C (128 + SIGINT, the shell's convention).
pub const INTERRUPTED_EXIT: i32 = 130;

/// Applies the length flags a resumed run may change: --epochs (da, cae, sda), --steps
/// (relu-dae); rejects the one that does not apply.
fn extend(run: &mut Settings, args: &TrainArgs, ck: &Checkpoint) -> anyhow::Result<()> {
    match run {
        Settings::Da(r) => r.epochs = args.epochs.unwrap_or(r.epochs),
        Settings::Sda(r) => r.epochs = args.epochs.unwrap_or(r.epochs),
        Settings::ReluDae(r) => r.steps = args.steps.unwrap_or(r.steps),
    }
    let (flag, given) = match run {
        Settings::ReluDae(_) => ("epochs", args.epochs),
        _ => ("steps", args.steps),
    };
    if given.is_some() {
        anyhow::bail!(
            "--{flag} does not apply to the {} run of {}",
            ck.model()?,
            args.resume.as_deref().unwrap_or(Path::new("")).display()
        );
    }
    for (flag, n) in [("epochs", args.epochs), ("steps", args.steps)] {
        if n == Some(0) {
            anyhow::bail!("--{flag} 0: expected at least 1");
        }
    }
    Ok(())
}

/// `gpu-dae bench`: training throughput of the chosen backends side by side at each minibatch
/// size, with the GPU's dispatch, submit, readback and transfer counts.
pub fn bench(args: &BenchArgs) -> anyhow::Result<()> {
    let data = data::load_embedded(None)?;
    // With --json the text goes nowhere and the cases are printed as one JSON document.
    let mut out: Box<dyn Write> =
        if args.json { Box::new(std::io::sink()) } else { Box::new(std::io::stdout().lock()) };
    let mut engines: Vec<Engine> = Vec::new();
    if args.backend != BackendChoice::Gpu {
        engines.push(Engine::Cpu(Cpu::new()));
    }
    if args.backend != BackendChoice::Cpu {
        // Side by side: any adapter, software ones included (`describe` labels them).
        match device::choose(EnginePolicy::Gpu, args.adapter.as_deref()) {
            Ok(choice) => engines.push(choice.engine),
            Err(e) if args.backend == BackendChoice::Auto => writeln!(out, "no GPU row: {e}")?,
            Err(e) => return Err(e.into()),
        }
    }
    if args.sweep {
        return bench_sweep(args, &data, &engines, &mut out);
    }
    // The preset's batch and a larger one.
    let (label, larger) = match args.model {
        ModelKind::Da => ("dA", 128),
        ModelKind::Cae => ("cA", 128),
        ModelKind::ReluDae => ("ReLU-DAE", 20),
        ModelKind::Sda => {
            let batches = args
                .batch
                .clone()
                .unwrap_or(vec![Preset::Tutorial.sda_batch(), Preset::Fast.sda_batch()]);
            let cases = bench_sda(args, &data, &engines, &batches, &mut out)?;
            return print_json(args, "sda", cases);
        }
    };
    let preset = AePreset::of(args.model, data.train.images.dim());
    let mut config = preset.model;
    if preset.standardise {
        config.standardise = Some(data.train.images.pixel_stats());
    }
    let batches = args.batch.clone().unwrap_or(vec![preset.batch, larger]);
    let cases = bench_da(args, &data, &engines, &batches, (label, config), &mut out)?;
    print_json(args, label, cases)
}

/// With --json, the bench's cases as one JSON document on stdout: {"model", "cases": [...]}.
fn print_json(args: &BenchArgs, model: &str, cases: Vec<serde_json::Value>) -> anyhow::Result<()> {
    if args.json {
        let doc = serde_json::json!({ "model": model, "cases": cases });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    }
    Ok(())
}

/// Steps `gpu_profile::profile_steps` times per case.
const PROFILE_STEPS: usize = 20;

/// The GPU's account of one case: its step's kernels and the dispatch floor, as text lines
/// (printed under the table) and as JSON.
fn gpu_step_account(
    gpu: &Gpu,
    title: &str,
    run: impl FnMut(usize),
) -> (Vec<String>, serde_json::Value) {
    let profile = bench::gpu_profile::profile_steps(gpu, PROFILE_STEPS, run);
    let (floor, floor_timing) = bench::gpu_profile::dispatch_floor_us(gpu);
    let mut lines = vec![format!("{title}: the kernels of one step, over {PROFILE_STEPS} steps")];
    lines.extend(bench::gpu_profile::describe(&profile));
    lines.push(format!(
        "  floor: {floor:.2} µs per dispatch in a chain of dependent one-element dispatches ({floor_timing})"
    ));
    let json = serde_json::json!({
        "step": profile,
        "floor_us_per_dispatch": floor,
        "floor_timing": floor_timing,
    });
    (lines, json)
}

/// `bench --sweep`: the dA (784-H, the tutorial's other settings) at every batch of
/// `SWEEP_BATCHES` and H of `SWEEP_HIDDEN` per backend, printed as it goes and written to
/// DIR/sweep.csv and DIR/sweep.png with the machine's SGEMM rate.
fn bench_sweep(
    args: &BenchArgs,
    data: &DataSet,
    engines: &[Engine],
    out: &mut impl Write,
) -> anyhow::Result<()> {
    if args.model != ModelKind::Da {
        let name = clap::ValueEnum::to_possible_value(&args.model).map(|v| v.get_name().to_owned());
        anyhow::bail!(
            "--sweep measures the dA; leave --model out (found --model {})",
            name.unwrap_or_default()
        );
    }
    if args.batch.is_some() {
        anyhow::bail!(
            "--sweep measures its own batches (1, 10, 20, 64, 128, 256); leave --batch out"
        );
    }
    let extra_peak = match &args.peak {
        None => None,
        Some(text) => {
            let (rate, label) = text.split_once(':').unwrap_or((text, "reference"));
            match rate.trim().parse::<f64>() {
                Ok(r) if r.is_finite() && r > 0.0 => Some((r, label.trim().to_string())),
                _ => anyhow::bail!(
                    "--peak {text}: expected GFLOPS:LABEL with GFLOPS a positive number, e.g. 361:OpenBLAS 2048³"
                ),
            }
        }
    };
    let dir = args.out.clone().unwrap_or_else(|| PathBuf::from("runs/bench-sweep"));
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("--out {}: cannot create it: {e}", dir.display()))?;
    let images = &data.train.images;
    let peak = bench::sgemm_peak_gflops();
    writeln!(
        out,
        "dA 784-H sweep on {} training images, about {:.1} s per case; SGEMM {n}³ (faer, all threads): {peak:.0} GFLOP/s",
        images.n,
        args.seconds,
        n = bench::PEAK_SIDE
    )?;
    writeln!(
        out,
        "{:<48} {:>6} {:>6} {:>10} {:>12} {:>9} {:>8}",
        "backend", "hidden", "batch", "ms/step", "s/epoch(50k)", "GFLOP/s", "of SGEMM"
    )?;
    let mut csv =
        String::from("hidden,batch,ms_per_step,s_per_epoch,gflops,sgemm_gflops,backend\n");
    let mut lines = Vec::new();
    for engine in engines {
        with_engine!(engine, |be| {
            for hidden in bench::SWEEP_HIDDEN {
                let config = AutoencoderConfig {
                    n_vis: images.dim(),
                    n_hid: hidden,
                    ..AePreset::of(ModelKind::Da, images.dim()).model
                };
                let mut points = Vec::new();
                for batch in bench::SWEEP_BATCHES {
                    let row = DaBench::new(be, images, &config, batch).measure(args.seconds, || {});
                    still_working(be)?;
                    writeln!(
                        out,
                        "{:<48} {:>6} {:>6} {:>10.3} {:>12.2} {:>9.1} {:>7.0}%",
                        be.describe(),
                        hidden,
                        batch,
                        row.ms_per_step,
                        row.s_per_epoch,
                        row.gflops,
                        100.0 * row.gflops / peak
                    )?;
                    csv.push_str(&format!(
                        "{hidden},{batch},{:.4},{:.3},{:.1},{peak:.1},\"{}\"\n",
                        row.ms_per_step,
                        row.s_per_epoch,
                        row.gflops,
                        be.describe(),
                    ));
                    points.push((batch as f64, row.gflops));
                }
                let label = format!("{}: 784-{hidden}", be.describe());
                lines.push(SweepLine { label, points });
            }
        });
    }
    let csv_path = dir.join("sweep.csv");
    output::write_atomic(&csv_path, csv.as_bytes())
        .map_err(|e| anyhow::anyhow!("{}: {e}", csv_path.display()))?;
    let peak_label = format!("SGEMM {n}³ (faer): {peak:.0} GFLOP/s", n = bench::PEAK_SIDE);
    let extra_label = extra_peak.as_ref().map(|(r, l)| format!("{l}: {r:.0} GFLOP/s"));
    let mut peaks = vec![(peak_label.as_str(), peak)];
    if let (Some((rate, _)), Some(label)) = (&extra_peak, &extra_label) {
        peaks.push((label.as_str(), *rate));
    }
    let png = dir.join("sweep.png");
    let title = "dA training step: GFLOP/s by minibatch and hidden size";
    sweep_plot::sweep_png(&png, title, &lines, &peaks)?;
    writeln!(out, "wrote {} and {}", csv_path.display(), png.display())?;
    Ok(())
}

/// The SdA's steps (the tutorial's 784-1000-1000-1000-10) per backend and minibatch size, and
/// what they make of a run: minutes per pretraining epoch of each layer and per fine-tuning
/// epoch over 50 000 examples.
fn bench_sda(
    args: &BenchArgs,
    data: &DataSet,
    engines: &[Engine],
    batches: &[usize],
    out: &mut impl Write,
) -> anyhow::Result<Vec<serde_json::Value>> {
    let images = &data.train.images;
    let config = tutorial_sda(images.dim(), data::CLASSES);
    let mut cases = Vec::new();
    let mut gpu_notes = Vec::new();
    let layers: Vec<String> = config.hidden.iter().map(usize::to_string).collect();
    writeln!(
        out,
        "SdA {}-{}-{} on {} training images, about {:.1} s per case; ms/step, and s per 50k-example epoch",
        config.n_in,
        layers.join("-"),
        config.n_out,
        images.n,
        args.seconds
    )?;
    writeln!(
        out,
        "{:<48} {:>6} {:>11} {:>11} {:>11} {:>11} {:>12} {:>12}",
        "backend",
        "batch",
        "pretrain L0",
        "pretrain L1",
        "pretrain L2",
        "finetune",
        "s/pre-epoch",
        "s/fine-epoch"
    )?;
    for engine in engines {
        with_engine!(engine, |be| {
            for &batch in batches {
                let mut bench = SdaBench::new(be, images, &data.train.labels, &config, batch);
                let steps = [
                    SdaStep::Pretrain(0),
                    SdaStep::Pretrain(1),
                    SdaStep::Pretrain(2),
                    SdaStep::Finetune,
                ];
                let ms: Vec<f64> =
                    steps.iter().map(|&s| bench.ms_per_step(s, args.seconds)).collect();
                still_working(be)?;
                let per_epoch = (EPOCH_EXAMPLES / batch) as f64 / 1e3;
                for (&step, &ms) in steps.iter().zip(&ms) {
                    let name = match step {
                        SdaStep::Pretrain(k) => format!("pretrain L{k}"),
                        SdaStep::Finetune => "finetune".to_string(),
                    };
                    let mut case = serde_json::json!({
                        "backend": be.describe(),
                        "batch": batch,
                        "step": name,
                        "ms_per_step": ms,
                        "s_per_epoch": ms * per_epoch,
                    });
                    if let Engine::Gpu(gpu) = engine {
                        let title = format!("gpu batch {batch} {name}");
                        let (lines, json) = gpu_step_account(gpu, &title, |n| {
                            bench.run(step, n);
                        });
                        gpu_notes.extend(lines);
                        case["gpu"] = json;
                    }
                    cases.push(case);
                }
                writeln!(
                    out,
                    "{:<48} {:>6} {:>11.3} {:>11.3} {:>11.3} {:>11.3} {:>12.1} {:>12.1}",
                    be.describe(),
                    batch,
                    ms[0],
                    ms[1],
                    ms[2],
                    ms[3],
                    (ms[0] + ms[1] + ms[2]) * per_epoch,
                    ms[3] * per_epoch
                )?;
            }
        });
    }
    for note in gpu_notes {
        writeln!(out, "{note}")?;
    }
    Ok(cases)
}

/// The training step of an autoencoder configuration (dA, cA, ReLU-DAE) per backend and minibatch size, with the GPU's counts over an epoch
/// and the CPU's time per op.
fn bench_da(
    args: &BenchArgs,
    data: &DataSet,
    engines: &[Engine],
    batches: &[usize],
    (label, config): (&str, AutoencoderConfig),
    out: &mut impl Write,
) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut cases = Vec::new();
    let images = &data.train.images;
    let config = AutoencoderConfig { n_vis: images.dim(), ..config };
    writeln!(
        out,
        "{} {}-{} on {} training images, about {:.1} s per case",
        label, config.n_vis, config.n_hid, images.n, args.seconds
    )?;
    writeln!(
        out,
        "{:<48} {:>6} {:>10} {:>12} {:>9} {:>12}",
        "backend", "batch", "ms/step", "samples/s", "GFLOP/s", "s/epoch(50k)"
    )?;
    let mut gpu_notes = Vec::new();
    for engine in engines {
        with_engine!(engine, |be| {
            for &batch in batches {
                let mut bench = DaBench::new(be, images, &config, batch);
                let row = bench.measure(args.seconds, || {});
                still_working(be)?;
                let mut case = serde_json::json!({
                    "backend": be.describe(),
                    "batch": batch,
                    "ms_per_step": row.ms_per_step,
                    "samples_per_s": row.samples_per_s,
                    "gflops": row.gflops,
                    "s_per_epoch": row.s_per_epoch,
                });
                if let Engine::Gpu(gpu) = engine {
                    let (line, epoch) = gpu_epoch_counts(gpu, images, &config, batch, &row);
                    gpu_notes.push(line);
                    let title = format!("gpu batch {batch}");
                    let (lines, json) = gpu_step_account(gpu, &title, |n| {
                        bench.run(n);
                    });
                    gpu_notes.extend(lines);
                    case["gpu"] = json;
                    case["gpu"]["epoch"] = epoch;
                }
                cases.push(case);
                print_row(out, &be.describe(), &row)?;
            }
        });
    }
    for note in gpu_notes {
        writeln!(out, "{note}")?;
    }
    if args.backend != BackendChoice::Gpu {
        writeln!(out, "\nwhere the CPU time goes (share of a step, timed op by op):")?;
        for &batch in batches {
            let timed = Timed::new(Cpu::new());
            let row =
                DaBench::new(&timed, images, &config, batch).measure(args.seconds.min(1.0), || {});
            let totals = timed.totals();
            let all: f64 = totals.iter().map(|t| t.1).sum();
            let parts: Vec<String> = totals
                .iter()
                .map(|(name, s, _)| format!("{name} {:.0}%", 100.0 * s / all))
                .collect();
            writeln!(
                out,
                "  batch {:>4} ({:.3} ms/step): {}",
                batch,
                row.ms_per_step,
                parts.join(", ")
            )?;
        }
    }
    Ok(cases)
}

/// An error naming the backend's failure, if it has failed (a lost GPU device, a kernel that
/// did not compile): the bench stops instead of printing what a dead device timed.
fn still_working(be: &impl Storage) -> anyhow::Result<()> {
    match be.failure() {
        Some(why) => anyhow::bail!("bench stopped: {why}"),
        None => Ok(()),
    }
}

/// The GPU's submits, readbacks and bytes over one whole epoch (⌊n_train / B⌋ steps and its
/// single readback) of the same model with 8 hidden units at the same batch, which runs an epoch quickly. Its readbacks
/// and data bytes are the real model's (they depend on the steps and the batch only); its
/// submits and parameter bytes follow its dispatches per step, which are the real model's only
/// where the GEMM kernels chosen by shape are the same (at the tutorial batches they are), so
/// the line names the model it counted.
fn gpu_epoch_counts(
    gpu: &Gpu,
    images: &Images,
    config: &AutoencoderConfig,
    batch: usize,
    row: &BenchRow,
) -> (String, serde_json::Value) {
    let small = AutoencoderConfig { n_hid: 8, ..config.clone() };
    let mut epoch = DaBench::new(gpu, images, &small, batch);
    epoch.run(1);
    gpu.reset_counters();
    let steps = images.n / batch;
    epoch.run(steps);
    let c = gpu.counters();
    let data_up = c.bytes_up - c.param_bytes;
    let json = serde_json::json!({
        "model": format!("{}-{}", small.n_vis, small.n_hid),
        "steps": steps,
        "submits": c.submits,
        "readbacks": c.readbacks,
        "data_bytes_up": data_up,
        "param_bytes_up": c.param_bytes,
        "bytes_down": c.bytes_down,
    });
    let line = format!(
        "gpu batch {:>4}: {:.1} ms/step; one epoch of {steps} steps of the {}-8 model after the first: \
         {} submits, {} readback(s), {} B training data up, {:.2} MB parameters up, {:.1} KB down",
        batch,
        row.ms_per_step,
        small.n_vis,
        c.submits,
        c.readbacks,
        data_up,
        c.param_bytes as f64 / 1e6,
        c.bytes_down as f64 / 1e3,
    );
    (line, json)
}

fn print_row(out: &mut impl Write, backend: &str, r: &BenchRow) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<48} {:>6} {:>10.3} {:>12.0} {:>9.1} {:>12.2}",
        backend, r.batch, r.ms_per_step, r.samples_per_s, r.gflops, r.s_per_epoch
    )
}

/// `gpu-dae devices`: every adapter wgpu sees, and which one `--backend auto` would take.
pub fn devices() -> anyhow::Result<()> {
    let rows = list_adapters();
    let mut out = std::io::stdout().lock();
    if rows.is_empty() {
        writeln!(out, "no GPU adapters found; --backend auto will use the CPU backend")?;
        return Ok(());
    }
    writeln!(out, "{:<40} {:<14} {:<8} {:<40} auto?", "name", "type", "api", "driver")?;
    let auto = rows.iter().position(|r| !r.is_software);
    for (i, r) in rows.iter().enumerate() {
        let mark = match (auto == Some(i), r.is_software) {
            (true, _) => "chosen",
            (false, true) => "software: only with --backend gpu",
            (false, false) => "",
        };
        writeln!(
            out,
            "{:<40} {:<14} {:<8} {:<40} {mark}",
            r.name, r.device_type, r.backend, r.driver
        )?;
    }
    if auto.is_none() {
        writeln!(out, "no hardware adapter: --backend auto will use the CPU backend")?;
    }
    Ok(())
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
