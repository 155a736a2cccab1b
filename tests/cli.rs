//! The real binary, driven as a user would: a fresh temp directory per test; failures print the
//! command, its exit status, stdout and stderr.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{Tol, assert_close};

/// Runs `gpu-dae args…` in `dir` and returns its output.
pub(crate) fn gpu_dae(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gpu-dae"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the gpu-dae binary runs")
}

fn describe(args: &[&str], out: &Output) -> String {
    format!(
        "gpu-dae {}\nstatus: {}\n--- stdout\n{}\n--- stderr\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs and asserts success.
pub(crate) fn ok(dir: &Path, args: &[&str]) -> Output {
    let out = gpu_dae(dir, args);
    assert!(out.status.success(), "expected success:\n{}", describe(args, &out));
    out
}

/// Runs and asserts failure with a one-line error containing every one of `needles`.
pub(crate) fn fails_with(dir: &Path, args: &[&str], needles: &[&str]) {
    let out = gpu_dae(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure:\n{}", describe(args, &out));
    let error_lines: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(error_lines.len(), 1, "expected one error line:\n{}", describe(args, &out));
    for needle in needles {
        assert!(
            error_lines[0].contains(needle),
            "error lacks {needle:?}:\n{}",
            describe(args, &out)
        );
    }
    assert!(!stderr.contains("panicked"), "panicked:\n{}", describe(args, &out));
}

fn mnist_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/mnist")
}

#[test]
fn one_epoch_on_a_200_image_subset_writes_every_output() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "train",
        "--model",
        "da",
        "--backend",
        "cpu",
        "--limit",
        "200",
        "--epochs",
        "1",
        "--hidden",
        "100",
        "--out",
        "run",
    ];
    let out = ok(tmp.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("epoch   1/1"), "no epoch line:\n{}", describe(&args, &out));
    let run = tmp.path().join("run");

    // filters.png: 10×10 tiles of 28×28 with 1-pixel spacing.
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(run.join("filters.png")).unwrap(),
    ));
    let reader = decoder.read_info().expect("filters.png decodes");
    assert_eq!((reader.info().width, reader.info().height), (289, 289));

    // reconstructions.png: 3 rows (original, corrupted, reconstruction) × 10 test digits of
    // 28×28, 1-pixel spacing, grayscale; curves.png: the 1000×600 RGB plot.
    for (name, size, color) in [
        ("reconstructions.png", (289, 86), png::ColorType::Grayscale),
        ("curves.png", (1000, 600), png::ColorType::Rgb),
    ] {
        let file = std::fs::File::open(run.join(name)).unwrap();
        let mut reader = png::Decoder::new(std::io::BufReader::new(file))
            .read_info()
            .unwrap_or_else(|e| panic!("{name} decodes: {e}"));
        assert_eq!((reader.info().width, reader.info().height), size, "{name}");
        assert_eq!(reader.info().color_type, color, "{name}");
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buf).unwrap_or_else(|e| panic!("{name} pixels decode: {e}"));
        assert!(buf.iter().any(|&p| p > 0), "{name} is all black");
    }

    // metrics.csv: the header and one row for epoch 1 with a finite positive cost.
    let csv = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "epoch,cost,seconds");
    assert_eq!(lines.len(), 2, "{csv}");
    let fields: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(fields[0], "1");
    let cost: f64 = fields[1].parse().unwrap();
    assert!(cost.is_finite() && cost > 0.0, "{csv}");

    // run.json: the configuration, seed, backend and timings.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["model"], "da");
    assert_eq!(json["seed"], 123);
    assert_eq!(json["config"]["batch"], 20);
    assert_eq!(json["config"]["model"]["n_hid"], 100);
    assert!(json["config"]["lr"].as_f64().is_some_and(|lr| (lr - 0.1).abs() < 1e-6));
    assert!(json["backend"].as_str().unwrap().starts_with("cpu"));
    assert_eq!(json["split_sizes"], serde_json::json!([167, 33, 200]));
    assert_eq!(json["steps"], 167 / 20);
    assert!(json["total_seconds"].as_f64().unwrap() > 0.0);
    assert_eq!(json["epochs"][0]["epoch"], 1);

    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(&run)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
}

#[test]
fn the_same_seed_gives_the_same_costs() {
    let tmp = tempfile::tempdir().unwrap();
    let common = ["train", "--backend", "cpu", "--limit", "120", "--epochs", "2", "--hidden", "16"];
    for out in ["a", "b"] {
        ok(tmp.path(), &[&common[..], &["--out", out]].concat());
    }
    let read = |d: &str| {
        let csv = std::fs::read_to_string(tmp.path().join(d).join("metrics.csv")).unwrap();
        csv.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(read("a"), read("b"));
}

/// Every column of metrics.csv but the last (seconds), row by row.
fn metrics_without_seconds(run: &Path) -> Vec<String> {
    let csv = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    csv.lines().map(|l| l.rsplit_once(',').map_or(l, |(head, _)| head).to_string()).collect()
}

/// The CPU backend's runs (metrics and every checkpoint tensor, by a hash of its bits) are
/// bit-identical whatever the thread count (its GEMMs split the
/// work by columns and a fixed split of the inner dimension, never by thread) and with the
/// skipping of zero inputs turned off (GPU_DAE_CPU_SKIP_ZEROS=off), and its slower
/// instruction sets, forced with GPU_DAE_CPU_ISA, train the same dA within rounding. A dA
/// with 300 hidden units (its decoder's inner dimension in two parts) at batch 20, and an SdA
/// fine-tuned at batch 1 (the single-row kernels) for the thread counts.
#[test]
fn cpu_runs_do_not_depend_on_the_thread_count_and_every_instruction_set_agrees() {
    let tmp = tempfile::tempdir().unwrap();
    let da = ["train", "--backend", "cpu", "--limit", "200", "--epochs", "2", "--hidden", "300"];
    let sda = [
        "train",
        "--model",
        "sda",
        "--backend",
        "cpu",
        "--limit",
        "120",
        "--hidden",
        "300,20",
        "--corruption",
        "0.1,0.2",
        "--pretrain-epochs",
        "1",
        "--epochs",
        "2",
        "--batch",
        "1",
    ];
    let run = |args: &[&str], out: &str, env: &[(&str, &str)]| {
        let args = [args, &["--out", out]].concat();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gpu-dae"));
        cmd.args(&args).current_dir(tmp.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let output = cmd.output().expect("the gpu-dae binary runs");
        assert!(output.status.success(), "{env:?}:\n{}", describe(&args, &output));
        let dir = tmp.path().join(out);
        let ck = gpu_dae::checkpoint::Checkpoint::load(&dir.join("checkpoint.safetensors"))
            .expect("the run's checkpoint loads");
        let mut bits: Vec<String> = ck
            .names()
            .map(|name| {
                let (_, data) = ck.get(name).expect("a listed tensor exists");
                let sum = data.iter().fold(0u64, |h, v| h.rotate_left(5) ^ u64::from(v.to_bits()));
                format!("{name}: {sum:016x}")
            })
            .collect();
        bits.sort();
        (metrics_without_seconds(&dir), bits)
    };
    for (name, args) in [("da", &da[..]), ("sda", &sda[..])] {
        let (one, one_bits) = run(args, &format!("{name}-1"), &[("RAYON_NUM_THREADS", "1")]);
        for threads in ["2", "3"] {
            let many = run(args, &format!("{name}-{threads}"), &[("RAYON_NUM_THREADS", threads)]);
            assert_eq!((&one, &one_bits), (&many.0, &many.1), "{name}: 1 thread against {threads}");
        }
        let dense = run(args, &format!("{name}-dense"), &[("GPU_DAE_CPU_SKIP_ZEROS", "off")]);
        assert_eq!((&one, &one_bits), (&dense.0, &dense.1), "{name}: zeros skipped or not");
        // The SdA's error rates move in steps of one example: compare the dA's costs only.
        for isa in ["portable", "avx2"].into_iter().filter(|_| name == "da") {
            let (got, _) = run(args, &format!("{name}-{isa}"), &[("GPU_DAE_CPU_ISA", isa)]);
            assert_eq!(got.len(), one.len(), "{name} on {isa}: rows");
            let numbers = |rows: &[String]| -> Vec<f32> {
                rows.iter()
                    .skip(1)
                    .flat_map(|r| {
                        r.split(',').filter_map(|v| v.parse::<f32>().ok()).collect::<Vec<_>>()
                    })
                    .collect()
            };
            assert_close(&format!("{name} on {isa}"), &numbers(&got), &numbers(&one), Tol::STEPS);
        }
    }
}

#[test]
fn data_from_a_directory_is_used() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = mnist_dir();
    let args = [
        "train",
        "--backend",
        "cpu",
        "--data",
        dir.to_str().unwrap(),
        "--limit",
        "60",
        "--epochs",
        "1",
        "--hidden",
        "8",
        "--batch",
        "10",
        "--out",
        "run",
    ];
    let out = ok(tmp.path(), &args);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("train 50, valid 10, test 60"),
        "{}",
        describe(&args, &out)
    );
}

#[test]
fn bad_flags_are_rejected_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let base = ["train", "--backend", "cpu", "--limit", "60", "--out", "run"];
    let cases: &[(&[&str], &[&str])] = &[
        (&["--lr", "-0.1"], &["--lr", "-0.1", "> 0"]),
        (&["--lr", "NaN"], &["--lr", "NaN"]),
        (&["--corruption", "1.5"], &["--corruption", "1.5", "[0, 1]"]),
        (&["--batch", "0"], &["--batch", "0", "1 to 50"]),
        (&["--batch", "51"], &["--batch", "51", "1 to 50"]),
        (&["--hidden", "0"], &["--hidden", "0"]),
        (&["--epochs", "0"], &["--epochs", "0"]),
    ];
    for (extra, needles) in cases {
        fails_with(tmp.path(), &[&base[..], extra].concat(), needles);
    }
    assert!(!tmp.path().join("run").exists(), "no output directory for a rejected run");
}

#[test]
fn a_missing_or_malformed_data_directory_gives_one_line_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    fails_with(
        tmp.path(),
        &["train", "--backend", "cpu", "--data", "nowhere"],
        &["train-images-idx3-ubyte", "nowhere"],
    );
    let bad = tmp.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    for name in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        std::fs::copy(mnist_dir().join(format!("{name}.gz")), bad.join(format!("{name}.gz")))
            .unwrap();
    }
    // Truncate the training images: the gzip stream ends early.
    let path = bad.join("train-images-idx3-ubyte.gz");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    fails_with(
        tmp.path(),
        &["train", "--backend", "cpu", "--data", "bad"],
        &["train-images-idx3-ubyte.gz", "gzip"],
    );
}

#[test]
fn bench_prints_the_throughput_table() {
    let tmp = tempfile::tempdir().unwrap();
    let args = ["bench", "--backend", "cpu", "--batch", "20", "--seconds", "0.2"];
    let out = ok(tmp.path(), &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for column in ["ms/step", "samples/s", "GFLOP/s", "s/epoch"] {
        assert!(stdout.contains(column), "no {column} column:\n{}", describe(&args, &out));
    }
    let row = stdout.lines().find(|l| l.starts_with("cpu")).expect("a cpu row");
    let numbers: Vec<f64> = row.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    assert!(numbers.len() >= 5 && numbers.iter().all(|n| *n > 0.0), "{row}");
}

/// `bench --sweep` measures every batch × hidden case and writes its table and picture; its
/// bad flags are one-line errors before any work.
#[test]
fn bench_sweep_writes_every_case_and_the_picture() {
    let tmp = tempfile::tempdir().unwrap();
    let args = ["bench", "--backend", "cpu", "--sweep", "--seconds", "0.01", "--out", "sweep"];
    let out = ok(tmp.path(), &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("SGEMM 2048³ (faer, all threads)"), "{}", describe(&args, &out));
    let csv = std::fs::read_to_string(tmp.path().join("sweep/sweep.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("hidden,batch,ms_per_step,s_per_epoch,gflops,sgemm_gflops,backend")
    );
    let cases: Vec<(String, String)> = lines
        .map(|l| {
            // The backend, last, is quoted: "cpu (2 threads, avx512)".
            let f: Vec<&str> = l.splitn(7, ',').collect();
            assert!(f[2..6].iter().all(|v| v.parse::<f64>().is_ok_and(|v| v > 0.0)), "{l}");
            assert!(f[6].starts_with("\"cpu (") && f[6].ends_with(")\""), "{l}");
            (f[0].to_string(), f[1].to_string())
        })
        .collect();
    assert_eq!(cases.len(), 24, "{csv}");
    assert!(
        cases.contains(&("2000".into(), "256".into()))
            && cases.contains(&("225".into(), "1".into()))
    );
    let png = std::fs::read(tmp.path().join("sweep/sweep.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "sweep.png is a PNG");
    for (bad, needle) in [
        (&["bench", "--sweep", "--peak", "fast"][..], "--peak fast"),
        (&["bench", "--sweep", "--model", "sda"][..], "--model sda"),
        (&["bench", "--sweep", "--batch", "7"][..], "--batch"),
    ] {
        fails_with(tmp.path(), bad, &[needle]);
    }
}

fn epoch_costs(run: &Path) -> Vec<f64> {
    let csv = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    csv.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse().unwrap()).collect()
}

#[test]
fn devices_lists_every_adapter_and_what_auto_takes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ok(tmp.path(), &["devices"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if crate::util::gpu("cli::devices_lists_every_adapter_and_what_auto_takes").is_some() {
        assert!(stdout.starts_with("name"), "{stdout}");
        for row in gpu_dae::backend::gpu::list_adapters() {
            assert!(stdout.contains(&row.name), "{} missing:\n{stdout}", row.name);
            if row.is_software {
                assert!(stdout.contains("only with --backend gpu"), "{stdout}");
            }
        }
    } else {
        assert!(stdout.contains("CPU backend"), "{stdout}");
    }
}

#[test]
fn auto_says_which_backend_it_chose_and_never_takes_a_software_adapter() {
    let tmp = tempfile::tempdir().unwrap();
    let args = ["train", "--limit", "60", "--epochs", "1", "--hidden", "8", "--out", "run"];
    let out = ok(tmp.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().find(|l| l.starts_with("backend: ")).expect("a backend line");
    let hardware = gpu_dae::backend::gpu::list_adapters().iter().any(|r| !r.is_software);
    if hardware {
        assert!(line.contains("gpu (") && !line.contains("software"), "{line}");
    } else {
        assert!(
            line.starts_with("backend: cpu") && line.contains("no hardware GPU adapter"),
            "{line}"
        );
    }
    assert!(!stderr.contains("error"), "no error lines on a good run:\n{}", describe(&args, &out));
}

#[test]
fn gpu_training_gives_the_cpu_costs() {
    if crate::util::gpu("cli::gpu_training_gives_the_cpu_costs").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let common = ["train", "--limit", "120", "--epochs", "2", "--hidden", "16", "--batch", "10"];
    ok(tmp.path(), &[&common[..], &["--backend", "cpu", "--out", "cpu"]].concat());
    let out = ok(tmp.path(), &[&common[..], &["--backend", "gpu", "--out", "gpu"]].concat());
    assert!(String::from_utf8_lossy(&out.stderr).contains("backend: gpu ("));
    let (cpu, gpu) = (epoch_costs(&tmp.path().join("cpu")), epoch_costs(&tmp.path().join("gpu")));
    assert_eq!(cpu.len(), 2);
    for (c, g) in cpu.iter().zip(&gpu) {
        let rel = crate::util::Rel::STEP_COSTS;
        assert!(rel.accepts(*g, *c), "epoch costs: cpu {cpu:?} gpu {gpu:?}");
    }
    let png = tmp.path().join("gpu/filters.png");
    assert!(
        png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()))
            .read_info()
            .is_ok()
    );
}

/// `bench --json` on the GPU: every dispatch of the step is accounted for (the kernels' counts
/// add up to the dispatches per step), each kernel timed by timestamps (lavapipe has them), the
/// GEMMs with their work and rates, and the dispatch floor.
#[test]
fn bench_json_accounts_for_every_gpu_dispatch() {
    if crate::util::gpu("cli::bench_json_accounts_for_every_gpu_dispatch").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let args = ["bench", "--backend", "gpu", "--batch", "20", "--seconds", "0.05", "--json"];
    let out = ok(tmp.path(), &args);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: not JSON:\n{}", describe(&args, &out)));
    assert_eq!(doc["model"], "dA");
    let case = &doc["cases"][0];
    assert_eq!(case["batch"], 20);
    assert!(case["ms_per_step"].as_f64().is_some_and(|v| v > 0.0), "{case}");
    let gpu = &case["gpu"];
    let step = &gpu["step"];
    assert_eq!(step["timing"], "gpu timestamps", "{step}");
    let kernels = step["kernels"].as_array().expect("kernels");
    let per_step: f64 = kernels.iter().map(|k| k["per_step"].as_f64().unwrap()).sum();
    let dispatches = step["dispatches_per_step"].as_f64().unwrap();
    assert!((per_step - dispatches).abs() < 1e-9, "{per_step} vs {dispatches}: {step}");
    // The tutorial dA at batch 20: the rows kernel for the encoder with the batch's load
    // (load_gemm), the decoder with its loss (gemm_xent) and the backprop, the tied update of
    // W, b and b′ in one outer-kernel pass, and the costs' finish once for the profile's
    // readback; every kernel timed.
    let named = |name: &str| -> f64 {
        let of_name = kernels.iter().filter(|k| k["kernel"] == name);
        of_name.map(|k| k["per_step"].as_f64().unwrap()).sum()
    };
    assert_eq!(named("load_gemm"), 1.0, "{step}");
    assert_eq!(named("gemm_xent"), 1.0, "{step}");
    assert_eq!(named("gemm_rows_epilogue"), 1.0, "{step}");
    assert_eq!(named("gemm_sum_outer_bias"), 1.0, "{step}");
    let steps = step["steps"].as_f64().unwrap();
    assert_eq!((named("log_finish") * steps).round(), 1.0, "{step}");
    let all = (dispatches * steps).round();
    assert_eq!(all, 4.0 * steps + 1.0, "load + encode, decode + loss, backprop, update: {step}");
    for k in kernels {
        assert!(k["us"].as_f64().is_some_and(|v| v > 0.0), "{k}");
        assert!(k["gbps"].as_f64().is_some_and(|v| v > 0.0), "{k}");
        if k["kernel"].as_str().unwrap().starts_with("gemm") {
            assert!(k["flops"].as_u64().is_some_and(|v| v > 0), "{k}");
            assert!(k["gflops"].as_f64().is_some_and(|v| v > 0.0), "{k}");
            assert!(k["workgroups"].as_u64().is_some_and(|v| v >= 256), "{k}");
        }
    }
    assert!(gpu["floor_us_per_dispatch"].as_f64().is_some_and(|v| v > 0.0), "{gpu}");
    assert_eq!(gpu["epoch"]["readbacks"], 1, "{gpu}");
}

/// A device lost mid-run (destroyed after its 80th dispatch, in epoch 2 of 10 six-dispatch
/// steps each, as a driver reset would): one error line naming the adapter, the failure and the epoch, exit ≠ 0, no panic,
/// epoch 1's checkpoint kept; resuming on a working device finishes the run.
/// Runs gpu-dae with `args` in `dir`, its device destroyed after `after` dispatches; checks it
/// fails without a panic and with one error line containing every one of `needles`.
fn fails_on_a_lost_device(dir: &std::path::Path, args: &[&str], after: &str, needles: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_gpu-dae"))
        .args(args)
        .current_dir(dir)
        .env(gpu_dae::backend::gpu::LOSE_DEVICE_ENV, after)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{}", describe(args, &out));
    assert!(!stderr.contains("panicked"), "{}", describe(args, &out));
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{}", describe(args, &out));
    for needle in needles {
        assert!(errors[0].contains(needle), "lacks {needle:?}: {}", describe(args, &out));
    }
}

#[test]
fn a_lost_gpu_device_stops_the_bench_with_one_line() {
    if crate::util::gpu("cli::a_lost_gpu_device_stops_the_bench_with_one_line").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let args = ["bench", "--backend", "gpu", "--batch", "20", "--seconds", "0.05"];
    fails_on_a_lost_device(tmp.path(), &args, "5", &["bench stopped", "GPU ", "failed"]);
}

#[test]
fn a_lost_gpu_device_stops_training_keeping_the_last_checkpoint() {
    if crate::util::gpu("cli::a_lost_gpu_device_stops_training_keeping_the_last_checkpoint")
        .is_none()
    {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "train",
        "--limit",
        "120",
        "--epochs",
        "3",
        "--hidden",
        "16",
        "--batch",
        "10",
        "--backend",
        "gpu",
        "--out",
        "run",
    ];
    let needles = ["GPU ", "device lost", "during epoch 2", "last good checkpoint is kept"];
    fails_on_a_lost_device(tmp.path(), &args, "80", &needles);
    assert_eq!(epoch_costs(&tmp.path().join("run")).len(), 1, "metrics.csv lists epoch 1 only");
    let resume = ["train", "--resume", "run/checkpoint.safetensors", "--backend", "gpu"];
    let resumed = ok(tmp.path(), &resume);
    assert_eq!(epoch_costs(&tmp.path().join("run")).len(), 3, "{}", describe(&resume, &resumed));
}

#[test]
fn an_adapter_that_does_not_exist_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "train",
        "--backend",
        "gpu",
        "--adapter",
        "no-such-adapter-xyz",
        "--limit",
        "60",
        "--out",
        "run",
    ];
    fails_with(tmp.path(), &args, &["no-such-adapter-xyz"]);
    assert!(!tmp.path().join("run").exists());
}

/// `train --model sda` on a small subset: a 784-20-10-10 net, 2 pretraining epochs per layer,
/// at most 3 fine-tuning epochs.
const SDA_SMALL: [&str; 17] = [
    "train",
    "--model",
    "sda",
    "--limit",
    "300",
    "--hidden",
    "20,10",
    "--corruption",
    "0.1,0.2",
    "--batch",
    "10",
    "--pretrain-epochs",
    "2",
    "--epochs",
    "3",
    "--pretrain-lr",
    "0.01",
];

/// The rows of an SdA metrics.csv after its header, split into fields.
fn sda_rows(run: &Path) -> Vec<Vec<String>> {
    let csv = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("phase,layer,epoch,cost,valid_error,test_error,seconds"));
    lines.map(|l| l.split(',').map(str::to_string).collect()).collect()
}

#[test]
fn sda_pretrains_each_layer_then_finetunes_and_writes_every_output() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [&SDA_SMALL[..], &["--backend", "cpu", "--out", "run"]].concat();
    let out = ok(tmp.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "pretrain layer 1 epoch   2/2",
        "finetune epoch",
        "best validation score",
        "test performance",
        "pretraining took",
        "wrote filters.png, curves.png, metrics.csv",
    ] {
        assert!(stderr.contains(needle), "no {needle:?}:\n{}", describe(&args, &out));
    }
    let run = tmp.path().join("run");
    let rows = sda_rows(&run);
    let phases: Vec<(&str, &str, &str)> =
        rows.iter().map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str())).collect();
    assert_eq!(
        phases[..4],
        [
            ("pretrain", "0", "1"),
            ("pretrain", "0", "2"),
            ("pretrain", "1", "1"),
            ("pretrain", "1", "2")
        ],
        "{rows:?}"
    );
    assert_eq!(phases[4..], [("finetune", "", "1"), ("finetune", "", "2"), ("finetune", "", "3")]);
    for r in &rows {
        let cost: f64 = r[3].parse().unwrap();
        assert!(cost.is_finite() && cost > 0.0, "{r:?}");
    }
    // Validation after every epoch (n_batches = 25 < patience / 2); the first is a new best.
    assert!(rows[4..].iter().all(|r| r[4].parse::<f64>().is_ok()), "{rows:?}");
    assert!(rows[4][5].parse::<f64>().is_ok(), "test error measured at the first best: {rows:?}");

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["model"], "sda");
    assert_eq!(json["config"]["model"]["hidden"], serde_json::json!([20, 10]));
    assert_eq!(json["config"]["batch"], 10);
    assert_eq!(json["config"]["finetune"], "full");
    assert_eq!(json["split_sizes"], serde_json::json!([250, 50, 300]));
    assert_eq!(json["phases"].as_array().unwrap().len(), 7);
    // 25 steps per epoch: 2 pretraining epochs of each of 2 layers, then 3 fine-tuning epochs.
    assert_eq!(json["steps"], 25 * (2 * 2 + 3));
    let summary = &json["summary"];
    let valid = summary["best_valid_error"].as_f64().unwrap();
    let test = summary["test_error"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&valid) && (0.0..=100.0).contains(&test), "{summary}");
    assert_eq!(summary["epochs"], 3);
    assert_eq!(summary["stopped_early"], false);
    assert!(summary["pretrain_seconds"].as_f64().unwrap() > 0.0);
    assert!(
        png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(run.join("filters.png")).unwrap()
        ))
        .read_info()
        .is_ok()
    );
    // curves.png: a 48-pixel title over two 1000×600 panels (pretraining, fine-tuning), RGB.
    let file = std::fs::File::open(run.join("curves.png")).expect("curves.png is written");
    let mut reader =
        png::Decoder::new(std::io::BufReader::new(file)).read_info().expect("curves.png decodes");
    assert_eq!((reader.info().width, reader.info().height), (1000, 48 + 2 * 600));
    assert_eq!(reader.info().color_type, png::ColorType::Rgb);
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut buf).expect("curves.png pixels decode");
    assert!(buf.iter().any(|&p| p < 255), "curves.png is blank");

    // The final checkpoint holds the best model: its layer-1 codes, and layer 0's pictures.
    let ck = run.join("checkpoint.safetensors");
    let ck = ck.to_str().unwrap();
    ok(tmp.path(), &["encode", "--model", ck, "--backend", "cpu", "--out", "codes.npy"]);
    let (header, data) = read_npy(&tmp.path().join("codes.npy"));
    assert!(header.contains("'shape': (10000, 10)"), "the top layer by default: {header}");
    assert_eq!(data.len(), 10_000 * 10 * 4);
    let args = ["encode", "--model", ck, "--layer", "0", "--backend", "cpu", "--out", "l0.npy"];
    ok(tmp.path(), &args);
    assert!(read_npy(&tmp.path().join("l0.npy")).0.contains("'shape': (10000, 20)"));
    fails_with(
        tmp.path(),
        &["encode", "--model", ck, "--layer", "2", "--out", "x.npy"],
        &["--layer 2", "expected 0 to 1"],
    );
    ok(tmp.path(), &["reconstruct", "--model", ck, "--backend", "cpu", "--out", "grid.png"]);
    fails_with(tmp.path(), &["train", "--resume", ck], &["the run is finished"]);
}

#[test]
fn sda_finetune_top_keeps_the_pretrained_layers() {
    let tmp = tempfile::tempdir().unwrap();
    for (scope, dir) in [("full", "full"), ("top", "top")] {
        let args =
            [&SDA_SMALL[..], &["--backend", "cpu", "--finetune", scope, "--out", dir]].concat();
        ok(tmp.path(), &args);
    }
    // Same pretraining (same seed), different fine-tuning.
    let (full, top) = (sda_rows(&tmp.path().join("full")), sda_rows(&tmp.path().join("top")));
    for (f, t) in full[..4].iter().zip(&top[..4]) {
        assert_eq!(f[..4], t[..4], "pretraining differs: {full:?}\n{top:?}");
    }
    assert_ne!(full[4][3], top[4][3], "fine-tuning costs of full and top coincide");
}

#[test]
fn sda_on_the_gpu_gives_the_cpu_costs() {
    if crate::util::gpu("cli::sda_on_the_gpu_gives_the_cpu_costs").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // Tiny for lavapipe: 120 images, 784-8-6-10, batch 20.
    let common = [
        "train",
        "--model",
        "sda",
        "--limit",
        "120",
        "--hidden",
        "8,6",
        "--corruption",
        "0.2",
        "--batch",
        "20",
        "--pretrain-epochs",
        "1",
        "--epochs",
        "2",
        "--pretrain-lr",
        "0.05",
    ];
    ok(tmp.path(), &[&common[..], &["--backend", "cpu", "--out", "cpu"]].concat());
    let out = ok(tmp.path(), &[&common[..], &["--backend", "gpu", "--out", "gpu"]].concat());
    assert!(String::from_utf8_lossy(&out.stderr).contains("backend: gpu ("));
    let (cpu, gpu) = (sda_rows(&tmp.path().join("cpu")), sda_rows(&tmp.path().join("gpu")));
    assert_eq!(cpu.len(), gpu.len());
    for (c, g) in cpu.iter().zip(&gpu) {
        assert_eq!(c[..3], g[..3]);
        let (c_cost, g_cost): (f64, f64) = (c[3].parse().unwrap(), g[3].parse().unwrap());
        let rel = crate::util::Rel::STEP_COSTS;
        assert!(rel.accepts(g_cost, c_cost), "costs: cpu {cpu:?}\ngpu {gpu:?}");
        // Error rates are counts over the same examples: equal unless a logit tie flips.
        assert_eq!(c[4], g[4], "validation errors: cpu {cpu:?}\ngpu {gpu:?}");
    }
}

#[test]
fn sda_flags_are_checked_per_model() {
    let tmp = tempfile::tempdir().unwrap();
    let da = ["train", "--backend", "cpu", "--limit", "60", "--out", "run"];
    let sda = ["train", "--model", "sda", "--backend", "cpu", "--limit", "60", "--out", "run"];
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (
            &sda,
            &["--hidden", "10,10", "--corruption", "0.1,0.2,0.3"],
            &["--corruption", "0.1,0.2,0.3", "2"],
        ),
        (&sda, &["--hidden", "10,10"], &["--corruption", "one level per hidden layer"]),
        (&sda, &["--hidden", "10,0"], &["--hidden", "10,0"]),
        (&sda, &["--corruption", "0.1,0.2,1.5"], &["--corruption", "1.5", "[0, 1]"]),
        (&sda, &["--lr", "0.1"], &["--lr", "--pretrain-lr", "--finetune-lr"]),
        (&sda, &["--pretrain-lr", "0"], &["--pretrain-lr", "0", "> 0"]),
        (&sda, &["--finetune-lr", "-1"], &["--finetune-lr", "-1", "> 0"]),
        (&sda, &["--batch", "51"], &["--batch", "51", "1 to 50"]),
        (&sda, &["--epochs", "0"], &["--epochs", "0"]),
        (&sda, &["--contraction", "0.1"], &["--contraction", "--layer cae"]),
        (&sda, &["--layer", "cae", "--corruption", "0.1"], &["--corruption", "--layer cae"]),
        (&sda, &["--layer", "cae", "--contraction", "NaN"], &["--contraction", "NaN", "≥ 0"]),
        (&da, &["--layer", "cae"], &["--layer", "--model sda"]),
        (&da, &["--pretrain-lr", "0.1"], &["--pretrain-lr", "--model sda"]),
        (&da, &["--finetune", "top"], &["--finetune", "--model sda"]),
        (&da, &["--preset", "fast"], &["--preset", "--model sda"]),
        (&da, &["--hidden", "10,20"], &["--hidden", "10,20", "one number"]),
        (&da, &["--corruption", "0.1,0.2"], &["--corruption", "0.1,0.2", "one probability"]),
    ];
    for (base, extra, needles) in cases {
        fails_with(tmp.path(), &[&base[..], extra].concat(), needles);
    }
    assert!(!tmp.path().join("run").exists(), "no output directory for a rejected run");
}

#[test]
fn train_help_states_each_models_defaults() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ok(tmp.path(), &["train", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "sda",
        "1000,1000,1000",
        "0.1,0.2,0.3",
        "default 500",
        "default 0.3",
        "--pretrain-lr",
        "--finetune-lr",
        "--pretrain-epochs",
        "--finetune",
        "--preset",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
}

#[test]
fn bench_measures_the_sda_steps() {
    let tmp = tempfile::tempdir().unwrap();
    let args = ["bench", "--model", "sda", "--backend", "cpu", "--batch", "1", "--seconds", "0.05"];
    let out = ok(tmp.path(), &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for column in ["pretrain L0", "pretrain L2", "finetune", "s/fine-epoch"] {
        assert!(stdout.contains(column), "no {column} column:\n{}", describe(&args, &out));
    }
    let row = stdout.lines().find(|l| l.starts_with("cpu")).expect("a cpu row");
    let numbers: Vec<f64> = row.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    assert!(numbers.len() >= 7 && numbers.iter().all(|n| *n > 0.0), "{row}");
}

#[test]
fn cae_reports_the_jacobian_norm_each_epoch_and_writes_every_picture() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "train",
        "--model",
        "cae",
        "--backend",
        "cpu",
        "--limit",
        "200",
        "--epochs",
        "2",
        "--hidden",
        "50",
        "--out",
        "run",
    ];
    let out = ok(tmp.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("jacobian norm").count(), 2, "{}", describe(&args, &out));
    let run = tmp.path().join("run");
    let csv = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "epoch,cost,jacobian_norm,seconds");
    assert_eq!(lines.len(), 3, "{csv}");
    for line in &lines[1..] {
        let f: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        assert!(f[1] > 0.0 && f[2] > 0.0 && f[2].is_finite(), "{csv}");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["model"], "cae");
    assert_eq!(json["config"]["batch"], 10);
    assert!((json["config"]["model"]["contraction"].as_f64().unwrap() - 0.1).abs() < 1e-6);
    assert_eq!(json["config"]["model"]["noise"], serde_json::json!({"kind": "none"}));
    assert!(json["epochs"][1]["jacobian_norm"].as_f64().unwrap() > 0.0);
    for (name, size) in [
        ("filters.png", (289, 289)),
        ("reconstructions.png", (289, 86)),
        ("curves.png", (1000, 600)),
    ] {
        let file = std::fs::File::open(run.join(name)).unwrap();
        let reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), size, "{name}");
    }
}

#[test]
fn relu_dae_tracks_error_and_sparsity_per_step_and_writes_every_picture() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "train",
        "--model",
        "relu-dae",
        "--backend",
        "cpu",
        "--limit",
        "200",
        "--steps",
        "1500",
        "--hidden",
        "30",
        "--out",
        "run",
    ];
    let out = ok(tmp.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("step   1500/1500"), "{}", describe(&args, &out));
    let run = tmp.path().join("run");
    let csv = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "step,error,sparsity,seconds");
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[2].starts_with("1500,"), "{csv}");
    let steps = std::fs::read_to_string(run.join("steps.csv")).unwrap();
    assert_eq!(steps.lines().count(), 1501);
    for line in steps.lines().skip(1) {
        let f: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        assert!(f[1].is_finite() && f[1] > 0.0 && (0.0..=1.0).contains(&f[2]), "{line}");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["model"], "relu-dae");
    assert_eq!(json["steps"], 1500);
    assert_eq!(json["config"]["model"]["tied"], false);
    for (name, size) in [
        ("filters.png", (289, 289)),
        ("decoder_filters.png", (289, 289)),
        ("reconstructions.png", (289, 86)),
        ("curves.png", (1000, 600)),
    ] {
        let file = std::fs::File::open(run.join(name)).unwrap();
        let reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), size, "{name}");
    }
}

/// Trains a small dA (`--limit 600`: 500 training images, hidden 20, 1 epoch) into `dir/run`.
fn small_checkpoint(dir: &Path) -> PathBuf {
    let args = [
        "train",
        "--backend",
        "cpu",
        "--limit",
        "600",
        "--hidden",
        "20",
        "--epochs",
        "1",
        "--out",
        "run",
    ];
    ok(dir, &args);
    dir.join("run/checkpoint.safetensors")
}

/// A .npy file's header dictionary and data bytes.
fn read_npy(path: &Path) -> (String, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00", "{}: magic and version 1.0", path.display());
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert_eq!((10 + len) % 64, 0, "{}: the header pads to 64 bytes", path.display());
    let header = String::from_utf8(bytes[10..10 + len].to_vec()).unwrap();
    assert!(header.ends_with('\n'), "{header:?}");
    (header, bytes[10 + len..].to_vec())
}

#[test]
fn encode_writes_the_codes_and_labels_of_a_split_as_npy() {
    let tmp = tempfile::tempdir().unwrap();
    let ck = small_checkpoint(tmp.path());
    let ck = ck.to_str().unwrap();
    let args = ["encode", "--model", ck, "--split", "valid", "--backend", "cpu", "--out", "v.npy"];
    ok(tmp.path(), &args);
    // The whole validation split (the checkpoint's --limit is not applied): 10 000 × 20.
    let (header, data) = read_npy(&tmp.path().join("v.npy"));
    assert!(
        header.contains("'descr': '<f4'") && header.contains("'shape': (10000, 20)"),
        "{header}"
    );
    assert_eq!(data.len(), 10_000 * 20 * 4);
    let codes: Vec<f32> =
        data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    assert!(codes.iter().all(|&h| h > 0.0 && h < 1.0), "sigmoid codes lie in (0, 1)");
    let (header, labels) = read_npy(&tmp.path().join("v_labels.npy"));
    assert!(header.contains("'descr': '|u1'") && header.contains("'shape': (10000,)"), "{header}");
    let want = gpu_dae::data::load_embedded(None).unwrap().valid.labels;
    assert_eq!(labels, want, "the labels of the validation split, in order");

    fails_with(
        tmp.path(),
        &["encode", "--model", ck, "--layer", "1", "--out", "x.npy"],
        &["--layer 1", "expected 0 to 0"],
    );
    std::fs::write(tmp.path().join("junk.safetensors"), "not a checkpoint").unwrap();
    fails_with(
        tmp.path(),
        &["encode", "--model", "junk.safetensors", "--out", "x.npy"],
        &["junk.safetensors", "not a safetensors file"],
    );
}

#[test]
fn reconstruct_draws_the_chosen_test_digits() {
    let tmp = tempfile::tempdir().unwrap();
    let ck = small_checkpoint(tmp.path());
    let ck = ck.to_str().unwrap();
    for (extra, width) in
        [(vec!["--digits", "0,5,9999"], 3 * 29 - 1), (vec!["--random", "12"], 12 * 29 - 1)]
    {
        let mut args =
            vec!["reconstruct", "--model", ck, "--noise", "mask:0.5", "--backend", "cpu"];
        args.extend(extra);
        args.extend(["--out", "grid.png"]);
        ok(tmp.path(), &args);
        let file = std::fs::File::open(tmp.path().join("grid.png")).unwrap();
        let reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (width as u32, 86), "{args:?}");
    }
    fails_with(
        tmp.path(),
        &["reconstruct", "--model", ck, "--digits", "10000", "--out", "g.png"],
        &["--digits 10000", "below 10000"],
    );
    fails_with(
        tmp.path(),
        &["reconstruct", "--model", ck, "--noise", "mask:2", "--out", "g.png"],
        &["--noise mask:2", "[0, 1]"],
    );
}

#[test]
fn resume_takes_the_settings_from_the_checkpoint_and_rejects_what_does_not_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let ck = small_checkpoint(tmp.path());
    let ck = ck.to_str().unwrap();
    fails_with(tmp.path(), &["train", "--resume", ck, "--lr", "0.5"], &["--lr", "--resume"]);
    fails_with(
        tmp.path(),
        &["train", "--resume", ck, "--backend", "cpu"],
        &["the run is finished (1 of 1 epochs)", "--epochs"],
    );
    fails_with(
        tmp.path(),
        &["train", "--resume", ck, "--steps", "5"],
        &["--steps", "does not apply"],
    );
    // Resuming with a longer run continues in the checkpoint's directory with its settings.
    ok(tmp.path(), &["train", "--resume", ck, "--epochs", "2", "--backend", "cpu"]);
    let csv = std::fs::read_to_string(tmp.path().join("run/metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "epochs 1 and 2:\n{csv}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("run/run.json")).unwrap()).unwrap();
    assert_eq!(json["config"]["model"]["n_hid"], 20);
}

#[test]
fn ctrl_c_saves_a_checkpoint_and_the_resumed_run_matches_an_uninterrupted_one() {
    let tmp = tempfile::tempdir().unwrap();
    let flags = ["train", "--backend", "cpu", "--limit", "6000", "--hidden", "100", "--seed", "4"];
    let child = Command::new(env!("CARGO_BIN_EXE_gpu-dae"))
        .args(flags)
        .args(["--epochs", "200", "--out", "stopped"])
        .current_dir(tmp.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the first epoch is saved (the Ctrl-C handler is installed by then).
    let started = std::time::Instant::now();
    while !tmp.path().join("stopped/run.json").exists() {
        assert!(started.elapsed().as_secs() < 120, "no epoch finished in 2 minutes");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = format!("kill -INT {}", child.id());
    assert!(Command::new("sh").args(["-c", &kill]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "exit status after Ctrl-C:\n{stderr}");
    assert!(stderr.contains("interrupted after") && stderr.contains("--resume"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // Finish the epoch it was in, and train the same number of epochs without a stop.
    let ck = tmp.path().join("stopped/checkpoint.safetensors");
    let checkpoint = gpu_dae::checkpoint::Checkpoint::load(&ck).unwrap();
    let progress: serde_json::Value = checkpoint.json("progress").unwrap();
    let epochs = (progress["epochs_done"].as_u64().unwrap() + 1).to_string();
    assert!(progress["epochs_done"].as_u64().unwrap() < 200, "{progress}");
    ok(tmp.path(), &["train", "--resume", ck.to_str().unwrap(), "--epochs", &epochs]);
    let mut straight = flags.to_vec();
    straight.extend(["--epochs", &epochs, "--out", "straight"]);
    ok(tmp.path(), &straight);
    let load = |dir: &str| {
        gpu_dae::checkpoint::Checkpoint::load(&tmp.path().join(dir).join("checkpoint.safetensors"))
            .unwrap()
    };
    let (a, b) = (load("stopped"), load("straight"));
    for name in ["layer0.W", "layer0.b", "layer0.b_prime", "log.step_costs"] {
        let (x, y) = (a.get(name).unwrap().1, b.get(name).unwrap().1);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert!(bits(x) == bits(y), "{name}: the resumed run differs from the uninterrupted one");
    }
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("stopped/metrics.csv")).unwrap().lines().count(),
        std::fs::read_to_string(tmp.path().join("straight/metrics.csv")).unwrap().lines().count()
    );
}

#[test]
fn data_whose_images_do_not_fit_the_checkpoint_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let ck = small_checkpoint(tmp.path());
    let ck = ck.to_str().unwrap();
    // 700 training and 700 test images of 4×3 pixels (the checkpoint was trained with --limit 600).
    let data = tmp.path().join("small");
    std::fs::create_dir(&data).unwrap();
    for (name, bytes) in [
        ("train-images-idx3-ubyte", crate::data::idx_images(700, 4, 3)),
        ("train-labels-idx1-ubyte", crate::data::idx_labels(700)),
        ("t10k-images-idx3-ubyte", crate::data::idx_images(700, 4, 3)),
        ("t10k-labels-idx1-ubyte", crate::data::idx_labels(700)),
    ] {
        std::fs::write(data.join(name), bytes).unwrap();
    }
    let needles = ["checkpoint.safetensors", "the model takes 28×28 images", "4×3"];
    fails_with(
        tmp.path(),
        &["train", "--resume", ck, "--epochs", "2", "--data", "small"],
        &needles,
    );
    fails_with(
        tmp.path(),
        &["encode", "--model", ck, "--data", "small", "--out", "x.npy"],
        &needles,
    );
}

#[test]
fn sda_layer_cae_pretrains_stacked_contractive_autoencoders() {
    let tmp = tempfile::tempdir().unwrap();
    // SDA_SMALL without its --corruption.
    let stack = [&SDA_SMALL[..7], &SDA_SMALL[9..]].concat();
    let cae = [&stack[..], &["--layer", "cae", "--contraction", "0.3"]].concat();
    ok(tmp.path(), &[&cae[..], &["--backend", "cpu", "--out", "cae"]].concat());
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("cae/run.json")).unwrap()).unwrap();
    let model = &record["config"]["model"];
    assert_eq!(model["layer"], "cae");
    assert!((model["contraction"].as_f64().unwrap() - 0.3).abs() < 1e-6);
    assert!(model["corruption"].as_array().unwrap().iter().all(|c| c.as_f64() == Some(0.0)));
    // The penalty changes the pretraining costs: the same stack as dAs without corruption
    // (the same inputs, no penalty) gives other costs from the first epoch on.
    let plain = [&stack[..], &["--corruption", "0", "--backend", "cpu", "--out", "plain"]];
    ok(tmp.path(), &plain.concat());
    let pretrain = |run: &str| -> Vec<f64> {
        sda_rows(&tmp.path().join(run))
            .iter()
            .filter(|r| r[0] == "pretrain")
            .map(|r| r[3].parse().unwrap())
            .collect()
    };
    let (with_penalty, without) = (pretrain("cae"), pretrain("plain"));
    assert_eq!(with_penalty.len(), without.len());
    assert!(with_penalty.iter().all(|c| c.is_finite() && *c > 0.0));
    assert_ne!(with_penalty[0], without[0], "the contractive penalty changed nothing");
}
