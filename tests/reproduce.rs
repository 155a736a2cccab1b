//! `gpu-dae reproduce`: the statistics, the study directory (runs, skip, resume, report) and the
//! bad-input errors, driven through the real binary on small subsets of MNIST.

use std::path::Path;
use std::process::Command;

use gpu_dae::reproduce::parse_seeds;
use gpu_dae::reproduce::stats::{Summary, student_t_quantile};
use serde_json::Value;

use crate::cli::{fails_with, ok};

/// Published two-sided 95 % Student-t critical values t₀.₉₇₅ (any statistics table).
const T_TABLE: [(f64, f64); 6] = [
    (1.0, 12.7062),
    (2.0, 4.3027),
    (4.0, 2.7764),
    (10.0, 2.2281),
    (30.0, 2.0423),
    (1000.0, 1.9623),
];

#[test]
fn student_t_quantiles_match_the_tables() {
    for (df, want) in T_TABLE {
        let got = student_t_quantile(0.975, df);
        assert!((got - want).abs() < 1e-4, "t(0.975, {df}) = {got}, tables: {want}");
        let lower = student_t_quantile(0.025, df);
        assert!((lower + got).abs() < 1e-9, "the t distribution is symmetric: {lower} vs {got}");
    }
    assert_eq!(student_t_quantile(0.5, 3.0), 0.0);
}

#[test]
fn a_summary_has_the_mean_sd_and_student_t_interval() {
    let s = Summary::of(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
    assert_eq!((s.n, s.mean, s.min, s.max), (5, 3.0, 1.0, 5.0));
    let sd = 2.5f64.sqrt();
    assert!((s.sd.unwrap() - sd).abs() < 1e-12);
    let (lo, hi) = s.ci95.unwrap();
    let half = 2.7764 * sd / 5f64.sqrt();
    assert!((lo - (3.0 - half)).abs() < 1e-3 && (hi - (3.0 + half)).abs() < 1e-3, "{lo} {hi}");
    assert_eq!(s.covers(3.0 + half * 0.99), Some(true));
    assert_eq!(s.covers(3.0 + half * 1.01), Some(false));
    let one = Summary::of(&[1.3]).unwrap();
    assert_eq!((one.sd, one.ci95, one.covers(1.3)), (None, None, None));
    assert!(Summary::of(&[]).is_none());
}

#[test]
fn seeds_are_a_count_or_a_list_of_distinct_positive_integers() {
    assert_eq!(parse_seeds("3").unwrap(), [1, 2, 3]);
    assert_eq!(parse_seeds("3,7,11").unwrap(), [3, 7, 11]);
    assert_eq!(parse_seeds("5,").ok(), None);
    for bad in ["0", "-1", "a", "1,1", "", "2,0", "1.5"] {
        assert!(parse_seeds(bad).is_err(), "--seeds {bad:?} was accepted");
    }
}

/// The fast study's `sda` and `cae-1` rows on the first 300 images: seconds per run.
const SMALL_STUDY: [&str; 10] = [
    "reproduce",
    "fast",
    "--rows",
    "sda,cae-1",
    "--limit",
    "300",
    "--backend",
    "cpu",
    "--out",
    "study",
];

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// results.csv as (row name → fields by column name).
fn results(dir: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
    lines
        .map(|line| {
            // Quoted fields hold no commas here except the source, which is quoted.
            let mut fields = Vec::new();
            let mut field = String::new();
            let mut quoted = false;
            for c in line.chars() {
                match c {
                    '"' => quoted = !quoted,
                    ',' if !quoted => fields.push(std::mem::take(&mut field)),
                    c => field.push(c),
                }
            }
            fields.push(field);
            assert_eq!(fields.len(), header.len(), "{line}");
            header.iter().cloned().zip(fields).collect()
        })
        .collect()
}

#[test]
fn a_study_trains_every_row_and_seed_reports_them_and_skips_them_when_rerun() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [&SMALL_STUDY[..], &["--seeds", "2"]].concat();
    let out = ok(tmp.path(), &args);
    let study = tmp.path().join("study");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("| sda | 1.30 | 2 |") && stdout.contains("| cae-1 | 1.14 | 2 |"),
        "{stdout}"
    );
    let rows = results(&study);
    let names: Vec<&str> = rows.iter().map(|r| r["row"].as_str()).collect();
    assert_eq!(names, ["sda", "no-pretraining", "sdae-3", "sae-3", "cae-1", "cae-2"]);
    for row in &rows {
        let name = &row["row"];
        let n: usize = row["n"].parse().unwrap();
        if !["sda", "cae-1"].contains(&name.as_str()) {
            assert_eq!(n, 0, "{name} was not asked for");
            continue;
        }
        assert_eq!((n, row["seeds"].as_str()), (2, "1 2"), "{name}");
        // The mean is that of the runs' own records.
        let errors: Vec<f64> = (1..=2)
            .map(|s| {
                let record = json(&study.join(name).join(format!("seed-{s}/run.json")));
                assert_eq!(record["seed"], s);
                record["summary"]["test_error"].as_f64().unwrap()
            })
            .collect();
        let mean: f64 = row["mean_test_error"].parse().unwrap();
        assert!((mean - (errors[0] + errors[1]) / 2.0).abs() < 1e-4, "{name}: {mean} {errors:?}");
        let (lo, hi): (f64, f64) =
            (row["ci95_low"].parse().unwrap(), row["ci95_high"].parse().unwrap());
        assert!(lo <= mean && mean <= hi);
        assert!(study.join(name).join("seed-1/log.txt").exists());
    }
    let report = std::fs::read_to_string(study.join("report.md")).unwrap();
    assert!(
        report.contains("## Every run")
            && report.contains("![each seed's test error](results.png)")
    );
    let png = std::fs::read(study.join("results.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(json(&study.join("study.json"))["study"], "fast");

    // Again: every run is finished, nothing is trained, the records are untouched.
    let record = study.join("sda/seed-1/run.json");
    let before = std::fs::metadata(&record).unwrap().modified().unwrap();
    let out = ok(tmp.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("4 finished, 0 to resume, 0 to start"), "{stderr}");
    assert_eq!(std::fs::metadata(&record).unwrap().modified().unwrap(), before);

    // --collect rebuilds the same results from the directory alone.
    let csv = std::fs::read_to_string(study.join("results.csv")).unwrap();
    std::fs::remove_file(study.join("results.csv")).unwrap();
    ok(tmp.path(), &["reproduce", "--collect", "study"]);
    assert_eq!(std::fs::read_to_string(study.join("results.csv")).unwrap(), csv);
}

#[test]
fn an_interrupted_run_of_a_study_is_resumed() {
    let tmp = tempfile::tempdir().unwrap();
    // The run the study would start for fast/sda seed 1, stopped by Ctrl-C after its first epoch.
    let run = tmp.path().join("study/sda/seed-1");
    let row = ["--model", "sda", "--preset", "fast", "--epochs", "15", "--seed", "1"];
    let child = Command::new(env!("CARGO_BIN_EXE_gpu-dae"))
        .arg("train")
        .args(row)
        .args(["--limit", "300", "--backend", "cpu", "--out"])
        .arg(&run)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !run.join("run.json").exists() {
        assert!(started.elapsed().as_secs() < 120, "no epoch finished in 2 minutes");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = format!("kill -INT {}", child.id());
    assert!(Command::new("sh").args(["-c", &kill]).status().unwrap().success());
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(130));
    assert!(json(&run.join("run.json"))["summary"].is_null());

    let args = ["reproduce", "fast", "--rows", "sda", "--seeds", "1", "--limit", "300"];
    let out = ok(tmp.path(), &[&args[..], &["--backend", "cpu", "--out", "study"]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("0 finished, 1 to resume, 0 to start"), "{stderr}");
    let log = std::fs::read_to_string(run.join("log.txt")).unwrap();
    assert!(log.contains("resuming from"), "{log}");
    assert!(json(&run.join("run.json"))["summary"]["test_error"].is_f64());
}

#[test]
fn bad_input_is_one_line_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let base = ["--limit", "300", "--backend", "cpu", "--out", "study"];
    let cases: &[(&[&str], &[&str])] = &[
        (&["reproduce", "nope"], &["unknown study \"nope\"", "tutorial-sda", "fast"]),
        (&["reproduce", "fast", "--seeds", "0"], &["--seeds 0", "positive integers"]),
        (&["reproduce", "fast", "--seeds", "1,1"], &["--seeds 1,1", "distinct"]),
        (&["reproduce", "fast", "--seeds", "x"], &["--seeds x"]),
        (&["reproduce", "fast", "--rows", "sda,nope"], &["--rows nope", "sdae-3"]),
        (&["reproduce", "fast", "--jobs", "0"], &["--jobs 0"]),
    ];
    for (args, needles) in cases {
        fails_with(tmp.path(), &[args, &base[..]].concat(), needles);
    }
    assert!(!tmp.path().join("study").exists(), "no study directory for rejected flags");

    // Slurm asked for, sbatch not on PATH.
    let out = Command::new(env!("CARGO_BIN_EXE_gpu-dae"))
        .args(["reproduce", "fast", "--slurm"])
        .args(base)
        .current_dir(tmp.path())
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("sbatch"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!tmp.path().join("study").exists(), "no study directory without sbatch");

    // A directory of another study.
    std::fs::create_dir(tmp.path().join("study")).unwrap();
    let other = r#"{"study": "rifai2011", "data": null, "limit": 300}"#;
    std::fs::write(tmp.path().join("study/study.json"), other).unwrap();
    fails_with(
        tmp.path(),
        &[&["reproduce", "fast"][..], &base].concat(),
        &["rifai2011", "another --out"],
    );
    // Runs made with other data flags.
    std::fs::write(tmp.path().join("study/study.json"), r#"{"study": "fast", "limit": 600}"#)
        .unwrap();
    fails_with(
        tmp.path(),
        &[&["reproduce", "fast"][..], &base].concat(),
        &["--limit 600", "--limit 300"],
    );
    // A run directory holding a run of other settings.
    std::fs::remove_file(tmp.path().join("study/study.json")).unwrap();
    let stray = [
        "train",
        "--model",
        "sda",
        "--hidden",
        "10",
        "--corruption",
        "0.1",
        "--pretrain-epochs",
        "1",
        "--epochs",
        "1",
        "--batch",
        "20",
        "--seed",
        "1",
        "--limit",
        "300",
        "--backend",
        "cpu",
        "--out",
        "study/sda/seed-1",
    ];
    ok(tmp.path(), &stray);
    fails_with(
        tmp.path(),
        &[&["reproduce", "fast", "--rows", "sda", "--seeds", "1"][..], &base].concat(),
        &["study/sda/seed-1", "other settings than the row sda"],
    );
    // --collect of a directory without SdA runs.
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    fails_with(tmp.path(), &["reproduce", "--collect", "empty"], &["empty", "no SdA run records"]);
}

#[test]
fn collect_groups_train_runs_by_settings_and_names_the_study_rows_they_match() {
    // The committed SdA runs: five of SdA.py's settings, four of --preset tuned, one fast.
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/sda");
    let tmp = tempfile::tempdir().unwrap();
    let mut tutorial = Vec::new();
    for entry in std::fs::read_dir(&docs).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if name.starts_with("run_") && name.ends_with(".json") {
            std::fs::copy(&path, tmp.path().join(&name)).unwrap();
            if name.starts_with("run_tutorial") {
                tutorial.push(json(&path)["summary"]["test_error"].as_f64().unwrap());
            }
        }
    }
    assert_eq!(tutorial.len(), 5);
    ok(tmp.path(), &["reproduce", "--collect", "."]);
    let rows = results(tmp.path());
    let row = |name: &str| {
        rows.iter().find(|r| r["row"] == name).unwrap_or_else(|| panic!("no row {name}: {rows:?}"))
    };
    let sda = row("tutorial-sda/sda");
    assert_eq!(sda["n"], "5");
    assert_eq!(sda["published_test_error"], "1.3000");
    let mean: f64 = sda["mean_test_error"].parse().unwrap();
    assert!((mean - tutorial.iter().sum::<f64>() / 5.0).abs() < 1e-4);
    assert_eq!(row("tutorial-sda/tuned")["n"], "4");
    assert_eq!(row("other-1")["n"], "1", "the fast run (30 epochs) matches no study row");
    assert_eq!(rows.len(), 3, "{rows:?}");
}

#[test]
fn a_run_finished_after_the_plan_was_made_is_seen_as_finished() {
    use gpu_dae::reproduce::{DataFlags, Plan, Shared, Study, TaskState};
    let tmp = tempfile::tempdir().unwrap();
    let study = Study::named("fast").unwrap();
    let only = ["no-pretraining".to_string()];
    let data = DataFlags { limit: Some(300), ..DataFlags::default() };
    let shared = Shared { data, backend: "cpu".into(), ..Shared::default() };
    let plan = Plan::new(study, &tmp.path().join("study"), &[1], Some(&only), shared).unwrap();
    let task = &plan.tasks[0];
    assert_eq!((task.state, task.finished_now()), (TaskState::New, false));
    // A second `reproduce` on the same directory trains it meanwhile: the plan's task must not
    // be trained again over it.
    let argv = task.argv(&plan.shared);
    ok(tmp.path(), &argv.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(task.finished_now(), "{}", task.dir.display());
}
