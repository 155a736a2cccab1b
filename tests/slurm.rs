//! `reproduce --slurm`'s submission: the batch script and args files `slurm::submit` writes,
//! checked against a stand-in `sbatch` that records its arguments (no Slurm needed), and the
//! script run by bash as a Slurm task would run it. `.ci/slurm-test` runs a real cluster.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use gpu_dae::reproduce::slurm::{SlurmError, SlurmOptions, submit};

/// Writes an executable shell script `body` at `path`.
fn script(path: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    path.to_path_buf()
}

/// A stand-in sbatch in `dir` that writes its arguments, one per line, to `dir/sbatch.argv` and
/// answers as `sbatch --parsable` does.
fn fake_sbatch(dir: &Path) -> PathBuf {
    let argv = dir.join("sbatch.argv");
    let body = format!("printf '%s\\n' \"$@\" > '{}'\necho '4242;cluster'\n", argv.display());
    script(&dir.join("sbatch"), &body)
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[test]
fn script_and_args_files_survive_spaces_and_quotes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("it's a dir");
    let dir = root.join("study 1");
    let program = script(&root.join("bin dir/fake gpu-dae"), "for a; do echo \"[$a]\"; done\n");
    let sbatch = fake_sbatch(tmp.path());
    let out = format!("{}/row a/seed-1", dir.display());
    let odd = "a'b\"c $HOME `x` \\ # *";
    let tasks = vec![strings(&["train", "--out", &out]), strings(&["train", "", odd])];

    let id = submit(&sbatch, &program, &dir, &tasks, &SlurmOptions::default()).unwrap();
    assert_eq!(id, "4242");

    let slurm = dir.join("slurm");
    let argv = fs::read_to_string(tmp.path().join("sbatch.argv")).unwrap();
    assert_eq!(argv, format!("--parsable\n{}\n", slurm.join("array.sh").display()));
    let args0 = fs::read_to_string(slurm.join("task-0.args")).unwrap();
    assert_eq!(args0, format!("train\n--out\n{out}\n"));
    let args1 = fs::read_to_string(slurm.join("task-1.args")).unwrap();
    assert_eq!(args1, format!("train\n\n{odd}\n"));

    let text = fs::read_to_string(slurm.join("array.sh")).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("#SBATCH")).collect();
    let log = format!("#SBATCH --output=\"{}/task-%a.log\"", slurm.display());
    let expected = ["#SBATCH --array=0-1", "#SBATCH --job-name=\"gpu-dae-study 1\"", &log];
    assert_eq!(lines, expected, "{text}");

    // Each task, run as Slurm runs it, gets exactly its arguments.
    for (i, want) in [vec!["train", "--out", &out], vec!["train", "", odd]].iter().enumerate() {
        let run = Command::new("bash")
            .arg(slurm.join("array.sh"))
            .env("SLURM_ARRAY_TASK_ID", i.to_string())
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let got: Vec<String> = want.iter().map(|a| format!("[{a}]\n")).collect();
        assert_eq!(String::from_utf8_lossy(&run.stdout), got.concat());
    }
}

#[test]
fn script_has_the_options_given() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("100%");
    let program = Path::new("/opt/gpu-dae");
    let opts = SlurmOptions {
        partition: Some("gpu".into()),
        time: Some("0:10:00".into()),
        gpus_per_task: Some(1),
    };
    let tasks = vec![strings(&["train"]); 3];
    submit(&fake_sbatch(tmp.path()), program, &dir, &tasks, &opts).unwrap();

    let slurm = dir.join("slurm").display().to_string();
    let text = fs::read_to_string(dir.join("slurm/array.sh")).unwrap();
    let log = slurm.replace('%', "%%");
    let expected = format!(
        "#!/bin/bash
#SBATCH --array=0-2
#SBATCH --job-name=\"gpu-dae-100%\"
#SBATCH --output=\"{log}/task-%a.log\"
#SBATCH --partition=\"gpu\"
#SBATCH --time=\"0:10:00\"
#SBATCH --gpus-per-task=1
# Written by `gpu-dae reproduce --slurm`: task i runs the program with the arguments
# in task-<i>.args, one per line.
set -euo pipefail
mapfile -t args < '{slurm}'/task-\"$SLURM_ARRAY_TASK_ID\".args
exec '/opt/gpu-dae' \"${{args[@]}}\"
"
    );
    assert_eq!(text, expected);
}

#[test]
fn an_argument_with_a_newline_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    let tasks = vec![strings(&["train"]), strings(&["train", "a\nb"])];
    let sbatch = fake_sbatch(tmp.path());
    let err = submit(&sbatch, Path::new("/bin/true"), &dir, &tasks, &SlurmOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("argument 1 of task 1") && err.contains("newline"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!dir.exists() && !tmp.path().join("sbatch.argv").exists());
}

#[test]
fn sbatch_errors_are_one_line_with_its_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    let tasks = vec![strings(&["train"])];
    let opts = SlurmOptions::default();
    let refusing = script(
        &tmp.path().join("refusing/sbatch"),
        "echo 'sbatch: error: invalid partition specified: x' >&2\necho 'sbatch: error: Unable to allocate resources' >&2\nexit 1\n",
    );
    let err = submit(&refusing, Path::new("/bin/true"), &dir, &tasks, &opts).unwrap_err();
    let err = err.to_string();
    assert!(err.contains("invalid partition specified: x | sbatch: error: Unable"), "{err}");
    assert!(err.contains("array.sh") && err.lines().count() == 1, "{err}");

    let chatty = script(&tmp.path().join("chatty/sbatch"), "echo 'Submitted batch job 7'\n");
    let err = submit(&chatty, Path::new("/bin/true"), &dir, &tasks, &opts).unwrap_err();
    assert!(matches!(err, SlurmError::NoJobId { .. }), "{err}");

    let missing = tmp.path().join("missing/sbatch");
    let err = submit(&missing, Path::new("/bin/true"), &dir, &tasks, &opts).unwrap_err();
    assert!(err.to_string().contains("cannot run") && err.to_string().contains("missing/sbatch"));

    assert_eq!(
        SlurmError::SbatchNotFound.to_string(),
        "--slurm: sbatch not found on PATH: install Slurm's client or run without --slurm"
    );
}
