//! Checkpoints: the safetensors file round-trips and rejects what does not fit with an error
//! naming the file and the field; a run interrupted and resumed ends bit-identical to one that
//! never stopped (every model, CPU and GPU); a checkpoint written on one backend loads on the
//! other.

use std::cell::Cell;
use std::path::Path;

use gpu_dae::backend::cpu::Cpu;
use gpu_dae::backend::{Backend, Noise};
use gpu_dae::checkpoint::{Checkpoint, DataSource, FILE_NAME};
use gpu_dae::data::{self, DataSet};
use gpu_dae::model::sda::LayerKind;
use gpu_dae::model::{Autoencoder, AutoencoderConfig, FinetuneScope, SdaConfig};
use gpu_dae::train::{
    self, DaRun, EpochRow, Progress, ReluDaeRun, RunRecord, SdaRun, Session, Silent, TrainError,
};

use crate::util::{Tol, assert_close, gpu};

/// 300 training, 60 validation and 360 test images of the embedded MNIST.
fn small_data() -> DataSet {
    data::load_embedded(Some(360)).expect("the embedded MNIST loads")
}

fn source() -> DataSource {
    DataSource { dir: None, limit: Some(360), image_shape: (28, 28) }
}

/// Reports nothing and asks to stop once `at` steps (counted over every epoch) are done.
struct StopAfter {
    at: usize,
    steps: Cell<usize>,
}

impl StopAfter {
    fn new(at: usize) -> Self {
        StopAfter { at, steps: Cell::new(0) }
    }
}

impl Progress for StopAfter {
    fn start_epoch(&self, _: usize, _: usize, _: usize) {}
    fn step(&self, _: usize) {
        self.steps.set(self.steps.get() + 1);
    }
    fn report(&self, _: &str) {}
    fn interrupted(&self) -> bool {
        self.steps.get() >= self.at
    }
}

/// Runs `train` (one of the trainers) in `out` with `progress`, resuming from `out`'s
/// checkpoint when `resume`.
fn session_run<T>(
    model: &str,
    out: &Path,
    progress: &dyn Progress,
    resume: bool,
    train: impl FnOnce(&mut Session<'_>) -> Result<T, TrainError>,
) -> Result<T, TrainError> {
    let mut record = RunRecord { model: model.to_string(), ..RunRecord::default() };
    let resume =
        resume.then(|| Checkpoint::load(&out.join(FILE_NAME)).expect("the checkpoint loads"));
    let mut session = Session { out, record: &mut record, progress, source: source(), resume };
    train(&mut session)
}

/// Every tensor of the checkpoint in `dir`, as bits.
fn tensor_bits(dir: &Path) -> Vec<(String, Vec<usize>, Vec<u32>)> {
    let ck = Checkpoint::load(&dir.join(FILE_NAME)).expect("the checkpoint loads");
    ck.names()
        .map(|name| {
            let (shape, data) = ck.get(name).expect("a listed tensor exists");
            (name.to_string(), shape.to_vec(), data.iter().map(|v| v.to_bits()).collect())
        })
        .collect()
}

/// Asserts that the run in `stopped` (interrupted at each of `stops`, counted in steps of each
/// session, then resumed to the end) left the same checkpoint tensors, bit for bit, as the run
/// in `straight`.
fn assert_same_checkpoints(straight: &Path, stopped: &Path) {
    let (a, b) = (tensor_bits(straight), tensor_bits(stopped));
    let names =
        |v: &[(String, Vec<usize>, Vec<u32>)]| v.iter().map(|t| t.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "the same tensors");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.1, y.1, "{}: shape", x.0);
        let diff = x.2.iter().zip(&y.2).filter(|(p, q)| p != q).count();
        assert_eq!(
            diff,
            0,
            "{}: {diff} of {} values differ from the uninterrupted run",
            x.0,
            x.2.len()
        );
    }
}

/// Trains a dA-family model straight through and with an interruption after each of `stops`
/// steps (each count within its session), then resumes; asserts bit-identical results.
fn da_resume_is_bit_identical<B: Backend>(be: &B, run: &DaRun, stops: &[usize]) {
    let data = small_data();
    let (straight, stopped) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let full =
        session_run("da", straight.path(), &Silent, false, |s| train::train_da(be, &data, run, s))
            .expect("the straight run trains");
    for (i, &at) in stops.iter().enumerate() {
        let err = session_run("da", stopped.path(), &StopAfter::new(at), i > 0, |s| {
            train::train_da(be, &data, run, s)
        })
        .expect_err("the run stops when interrupted");
        assert!(matches!(err, TrainError::Interrupted { .. }), "interrupted, got {err}");
    }
    let resumed =
        session_run("da", stopped.path(), &Silent, true, |s| train::train_da(be, &data, run, s))
            .expect("the resumed run trains");
    let rows = |r: &[EpochRow]| {
        r.iter()
            .map(|r| (r.epoch, r.cost.to_bits(), r.jacobian_norm.map(f32::to_bits)))
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(&resumed.epochs), rows(&full.epochs), "epoch costs (and Jacobian norms)");
    assert_same_checkpoints(straight.path(), stopped.path());
}

fn small_da(contraction: f32) -> DaRun {
    let model = AutoencoderConfig {
        n_vis: 784,
        n_hid: 16,
        noise: if contraction > 0.0 { Noise::None } else { Noise::Mask { p: 0.3 } },
        contraction,
        ..Default::default()
    };
    // 300 images in batches of 20: 15 steps per epoch.
    DaRun { model, standardise: false, lr: 0.1, batch: 20, epochs: 3, seed: 5 }
}

#[test]
fn da_interrupted_twice_mid_epoch_resumes_bit_identical_on_the_cpu() {
    // Stops at epoch 1 step 7, then 13 steps later (epoch 2, step 5).
    da_resume_is_bit_identical(&Cpu::new(), &small_da(0.0), &[7, 13]);
}

#[test]
fn da_interrupted_at_an_epoch_boundary_resumes_bit_identical() {
    // The stop request after the 15th step comes with the epoch's end: the epoch is finished
    // and saved first, and the run stops after step 1 of epoch 2.
    da_resume_is_bit_identical(&Cpu::new(), &small_da(0.0), &[15]);
}

#[test]
fn cae_resumes_with_the_same_costs_and_jacobian_norms() {
    da_resume_is_bit_identical(&Cpu::new(), &small_da(0.1), &[9, 11]);
}

#[test]
fn da_resumes_bit_identical_on_the_gpu() {
    let Some(gpu) = gpu("da_resumes_bit_identical_on_the_gpu") else { return };
    let run = DaRun { epochs: 2, ..small_da(0.0) };
    da_resume_is_bit_identical(gpu, &run, &[8]);
}

/// A ReLU-DAE run straight through, and the same run interrupted after `stop` steps and resumed
/// (first with `resumed_steps` as its length, then with the run's own, when they differ):
/// asserts the same per-step logs, 1000-step rows and checkpoint tensors.
fn relu_dae_resume_is_bit_identical(stop: usize, resumed_steps: usize) {
    let data = small_data();
    let model = gpu_dae::config::relu_dae_model(784, 12);
    let run = ReluDaeRun { model, standardise: true, lr: 0.0005, batch: 1, steps: 2300, seed: 3 };
    let be = Cpu::new();
    let (straight, stopped) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let full = session_run("relu-dae", straight.path(), &Silent, false, |s| {
        train::train_relu_dae(&be, &data, &run, s)
    })
    .unwrap();
    let first = ReluDaeRun { steps: resumed_steps, ..run.clone() };
    let outcome = session_run("relu-dae", stopped.path(), &StopAfter::new(stop), false, |s| {
        train::train_relu_dae(&be, &data, &first, s)
    });
    match outcome {
        Err(TrainError::Interrupted { .. }) => {}
        Err(e) => panic!("interrupted, got {e}"),
        // A shorter first run finishes; it is then trained on to the full length.
        Ok(_) => assert!(resumed_steps < run.steps, "the run was not interrupted"),
    }
    let resumed = session_run("relu-dae", stopped.path(), &Silent, true, |s| {
        train::train_relu_dae(&be, &data, &run, s)
    })
    .unwrap();
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&resumed.errors), bits(&full.errors), "per-step errors");
    assert_eq!(bits(&resumed.sparsity), bits(&full.sparsity), "per-step sparsity");
    let rows = |r: &[train::StepRow]| {
        r.iter()
            .map(|r| (r.step, r.error.to_bits(), r.sparsity.map(f32::to_bits)))
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(&resumed.rows), rows(&full.rows), "the 1000-step rows");
    assert_same_checkpoints(straight.path(), stopped.path());
}

#[test]
fn relu_dae_resumes_bit_identical_from_mid_row() {
    relu_dae_resume_is_bit_identical(1500, 2300);
}

#[test]
fn relu_dae_interrupted_at_a_row_boundary_keeps_that_row() {
    relu_dae_resume_is_bit_identical(1000, 2300);
}

#[test]
fn a_finished_relu_dae_run_trained_on_redoes_its_short_last_row() {
    // 1300 steps (rows 1000 and 1300), then on to 2300: rows 1000, 2000, 2300.
    relu_dae_resume_is_bit_identical(usize::MAX, 1300);
}

#[test]
fn an_epoch_of_one_step_still_stops_on_request() {
    // 300 images in one batch of 300: the stop request is honoured after the epoch's checkpoint.
    let run = DaRun { batch: 300, ..small_da(0.0) };
    da_resume_is_bit_identical(&Cpu::new(), &run, &[1]);
}

#[test]
fn weights_that_overflow_are_never_checkpointed() {
    let data = small_data();
    let be = Cpu::new();
    let dir = tempfile::tempdir().unwrap();
    // One step per epoch: its cost is measured before the update, which an infinite rate
    // (refused by the CLI, possible through the library) makes infinite.
    let run = DaRun { batch: 300, lr: f32::INFINITY, ..small_da(0.0) };
    let err =
        session_run("da", dir.path(), &Silent, false, |s| train::train_da(&be, &data, &run, s))
            .expect_err("diverges");
    let text = err.to_string();
    assert!(matches!(err, TrainError::DivergedWeights { .. }), "{text}");
    assert!(text.contains("layer0") && text.contains("--lr") && text.contains("epoch 1"), "{text}");
    assert!(text.contains("no checkpoint was written yet"), "{text}");
    assert!(!dir.path().join(FILE_NAME).exists(), "no checkpoint of non-finite weights");
}

#[test]
fn sda_interrupted_in_pretraining_and_fine_tuning_resumes_bit_identical() {
    let data = small_data();
    let run = SdaRun {
        model: SdaConfig {
            n_in: 784,
            hidden: vec![16, 12],
            corruption: vec![0.1, 0.2],
            n_out: 10,
            layer: LayerKind::Da,
            contraction: 0.0,
        },
        batch: 10,
        pretrain_lr: 0.05,
        pretrain_epochs: 2,
        finetune_lr: 0.2,
        finetune: FinetuneScope::Full,
        epochs: 4,
        seed: 8,
        eval_chunk: 25,
    };
    let be = Cpu::new();
    let (straight, stopped) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let full = session_run("sda", straight.path(), &Silent, false, |s| {
        train::train_sda(&be, &data, &run, s)
    })
    .unwrap();
    // 30 steps per epoch: stop in layer 1's first pretraining epoch (step 70 = layer 1, epoch 1,
    // step 10), then in fine-tuning epoch 2 (50 + 45 = 95 steps later: epoch 2, step 25).
    for (i, at) in [70, 95].into_iter().enumerate() {
        let err = session_run("sda", stopped.path(), &StopAfter::new(at), i > 0, |s| {
            train::train_sda(&be, &data, &run, s)
        })
        .expect_err("interrupted");
        assert!(matches!(err, TrainError::Interrupted { .. }), "interrupted, got {err}");
    }
    let resumed = session_run("sda", stopped.path(), &Silent, true, |s| {
        train::train_sda(&be, &data, &run, s)
    })
    .unwrap();
    assert_eq!(resumed.best, full.best, "the best model");
    let s = (&resumed.summary, &full.summary);
    assert_eq!(
        (s.0.best_valid_error, s.0.test_error, s.0.best_iter, s.0.epochs, s.0.iterations),
        (s.1.best_valid_error, s.1.test_error, s.1.best_iter, s.1.epochs, s.1.iterations)
    );
    let costs = |r: &[gpu_dae::train::SdaRow]| {
        r.iter().map(|r| (r.cost.to_bits(), r.valid_error, r.test_error)).collect::<Vec<_>>()
    };
    assert_eq!(costs(&resumed.rows), costs(&full.rows), "every epoch's cost and errors");
    assert_same_checkpoints(straight.path(), stopped.path());
}

#[test]
fn sda_resumed_with_no_epochs_left_is_an_error() {
    let data = small_data();
    let run = SdaRun {
        model: SdaConfig {
            n_in: 784,
            hidden: vec![8],
            corruption: vec![0.1],
            n_out: 10,
            layer: LayerKind::Da,
            contraction: 0.0,
        },
        batch: 10,
        pretrain_lr: 0.05,
        pretrain_epochs: 1,
        finetune_lr: 0.2,
        finetune: FinetuneScope::Full,
        epochs: 3,
        seed: 8,
        eval_chunk: 25,
    };
    let be = Cpu::new();
    let dir = tempfile::tempdir().unwrap();
    // 30 pretraining steps, then 40 fine-tuning steps: in fine-tuning epoch 2.
    session_run("sda", dir.path(), &StopAfter::new(70), false, |s| {
        train::train_sda(&be, &data, &run, s)
    })
    .expect_err("interrupted");
    let short = SdaRun { epochs: 1, ..run };
    let err =
        session_run("sda", dir.path(), &Silent, true, |s| train::train_sda(&be, &data, &short, s))
            .expect_err("nothing left to do");
    assert!(err.to_string().contains("give --epochs above 1"), "{err}");
}

/// The hidden codes of the first 50 test images under the checkpoint in `dir`, on `be`.
fn codes<B: Backend>(be: &B, dir: &Path, config: &AutoencoderConfig) -> Vec<f32> {
    let ck = Checkpoint::load(&dir.join(FILE_NAME)).unwrap();
    let ae = Autoencoder::load_from(be, config.clone(), &ck, "layer0").unwrap();
    let data = small_data();
    let images = be.upload_images(&data.test.images.pixels, 784);
    let mut ws = ae.workspace(be, 50);
    ae.encode(be, &mut ws, &images, 0)
}

#[test]
fn a_checkpoint_written_on_one_backend_loads_on_the_other() {
    let Some(gpu) = gpu("a_checkpoint_written_on_one_backend_loads_on_the_other") else { return };
    let cpu = Cpu::new();
    let data = small_data();
    let run = DaRun { epochs: 1, ..small_da(0.0) };
    let (on_cpu, on_gpu) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    session_run("da", on_cpu.path(), &Silent, false, |s| train::train_da(&cpu, &data, &run, s))
        .unwrap();
    session_run("da", on_gpu.path(), &Silent, false, |s| train::train_da(gpu, &data, &run, s))
        .unwrap();
    // Each checkpoint encodes the same on both backends (the GPU's GEMM sums in another order).
    let tol = Tol::REORDERED_SUMS;
    for dir in [on_cpu.path(), on_gpu.path()] {
        assert_close("codes", &codes(gpu, dir, &run.model), &codes(&cpu, dir, &run.model), tol);
    }
    // And the two runs trained the same model, within the GPU-vs-CPU tolerance.
    assert_close(
        "codes of the two runs",
        &codes(&cpu, on_gpu.path(), &run.model),
        &codes(&cpu, on_cpu.path(), &run.model),
        Tol::STEPS,
    );
}

#[test]
fn a_checkpoint_round_trips_through_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.safetensors");
    let mut ck = Checkpoint::new("da", &small_da(0.0), &source(), &serde_json::json!({"step": 3}));
    ck.put("layer0.W", &[2, 3], vec![1.0, -2.0, 3.5, f32::MIN_POSITIVE, 0.0, -0.0]);
    ck.put("layer0.b", &[3], vec![0.25, 0.5, 0.75]);
    ck.save(&path).unwrap();
    let back = Checkpoint::load(&path).unwrap();
    assert_eq!(back.model().unwrap(), "da");
    assert_eq!(back.json::<DaRun>("run").unwrap().seed, 5);
    assert_eq!(back.json::<DataSource>("data").unwrap(), source());
    assert_eq!(
        back.tensor("layer0.W", &[2, 3]).unwrap(),
        &[1.0, -2.0, 3.5, f32::MIN_POSITIVE, 0.0, -0.0]
    );
    assert_eq!(back.names().collect::<Vec<_>>(), ["layer0.W", "layer0.b"]);
}

/// The error `Checkpoint::load` (or a later accessor) gives for `bytes`, as text.
fn load_error(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.safetensors");
    std::fs::write(&path, bytes).unwrap();
    match Checkpoint::load(&path) {
        Ok(ck) => ck.tensor("layer0.W", &[784, 16]).map(|_| ()).unwrap_err().to_string(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_bad_checkpoint_names_the_file_and_the_field() {
    let good = {
        let mut ck = Checkpoint::new("da", &small_da(0.0), &source(), &0);
        ck.put("layer0.W", &[784, 8], vec![0.0; 784 * 8]);
        ck.to_bytes()
    };
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        ("empty file", Vec::new(), &["bad.safetensors", "not a safetensors file"]),
        ("text", b"hello, world".to_vec(), &["bad.safetensors", "not a safetensors file"]),
        (
            "truncated",
            good[..good.len() - 100].to_vec(),
            &["bad.safetensors", "not a safetensors file"],
        ),
        (
            "wrong shape",
            good.clone(),
            &["bad.safetensors", "tensor layer0.W has shape [784, 8], expected [784, 16]"],
        ),
        (
            "another program's file",
            safetensors::serialize(Vec::<(&str, safetensors::tensor::TensorView<'_>)>::new(), None)
                .unwrap(),
            &["bad.safetensors", "metadata field format is missing"],
        ),
    ];
    for (what, bytes, needles) in cases {
        let err = load_error(&bytes);
        for needle in needles {
            assert!(err.contains(needle), "{what}: {err:?} lacks {needle:?}");
        }
        assert!(!err.contains('\n'), "{what}: one line: {err:?}");
    }
    let missing =
        Checkpoint::load(Path::new("/nonexistent/c.safetensors")).unwrap_err().to_string();
    assert!(
        missing.contains("/nonexistent/c.safetensors") && missing.contains("cannot read"),
        "{missing}"
    );
}

#[test]
fn a_non_f32_tensor_is_rejected() {
    let bytes = [0u8; 4];
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::I32, vec![1], &bytes).unwrap();
    let metadata =
        [("format".to_string(), gpu_dae::checkpoint::FORMAT.to_string())].into_iter().collect();
    let file = safetensors::serialize([("layer0.W", view)], Some(metadata)).unwrap();
    let err = load_error(&file);
    assert!(err.contains("tensor layer0.W is I32, expected F32"), "{err}");
}

#[test]
fn divergence_keeps_the_last_good_checkpoint() {
    let data = small_data();
    let be = Cpu::new();
    let dir = tempfile::tempdir().unwrap();
    // Two good epochs, then a resumed run at a learning rate that overflows.
    let run = DaRun { epochs: 2, ..small_da(0.0) };
    session_run("da", dir.path(), &Silent, false, |s| train::train_da(&be, &data, &run, s))
        .unwrap();
    let before = tensor_bits(dir.path());
    let wild = DaRun { epochs: 3, lr: 3e38, ..run };
    let err =
        session_run("da", dir.path(), &Silent, true, |s| train::train_da(&be, &data, &wild, s))
            .expect_err("diverges");
    let text = err.to_string();
    assert!(matches!(err, TrainError::Diverged { epoch: 3, .. }), "{text}");
    assert!(text.contains("--lr") && text.contains("last good checkpoint"), "{text}");
    assert_eq!(tensor_bits(dir.path()), before, "the epoch-2 checkpoint is untouched");
}

/// The checkpoints of tests/fixtures/format-1 (written before the backend and trainer
/// redesign; its README says how), each resumed by this version, end where the same run made
/// straight through ends: the `progress` fields and tensor names of that format still resume.
/// Within `Tol::STEPS`, not bit for bit: the fixtures were trained by the CPU's earlier GEMM
/// kernels (faer's), whose rounding the current ones do not repeat; a resume at the wrong
/// step, minibatch or noise draw would differ by far more.
#[test]
fn checkpoints_written_before_the_redesign_resume_where_a_straight_run_ends() {
    use gpu_dae::train::Settings;
    let data = small_data();
    let be = Cpu::new();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/format-1");
    for (name, model) in [
        ("da", "da"),
        ("cae", "cae"),
        ("relu-dae", "relu-dae"),
        ("sda-pre", "sda"),
        ("sda-fine", "sda"),
    ] {
        let (straight, resumed) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::copy(fixtures.join(name).join(FILE_NAME), resumed.path().join(FILE_NAME))
            .unwrap_or_else(|e| panic!("{name}: the fixture copies: {e}"));
        let ck = Checkpoint::load(&resumed.path().join(FILE_NAME)).expect("the fixture loads");
        // The finished runs are trained on; the others go on to their own end.
        let settings = match Settings::from_checkpoint(&ck).expect("its settings read") {
            Settings::Da(run) if name == "da" => Settings::Da(DaRun { epochs: 2, ..run }),
            Settings::ReluDae(run) => Settings::ReluDae(ReluDaeRun { steps: 2300, ..run }),
            other => other,
        };
        let train = |s: &mut Session<'_>| train::train(&be, &data, &settings, s);
        session_run(model, straight.path(), &Silent, false, train)
            .unwrap_or_else(|e| panic!("{name}: the straight run trains: {e}"));
        session_run(model, resumed.path(), &Silent, true, train)
            .unwrap_or_else(|e| panic!("{name}: the fixture resumes: {e}"));
        let (want, got) = (tensor_bits(straight.path()), tensor_bits(resumed.path()));
        assert_eq!(want.len(), got.len(), "{name}: the same tensors");
        for (w, g) in want.iter().zip(&got) {
            assert_eq!((&w.0, &w.1), (&g.0, &g.1), "{name}: the same names and shapes");
            let floats = |bits: &[u32]| bits.iter().map(|&b| f32::from_bits(b)).collect::<Vec<_>>();
            let what = format!("{name}: {}", w.0);
            assert_close(&what, &floats(&g.2), &floats(&w.2), Tol::STEPS);
        }
    }
}

#[test]
fn a_relu_dae_with_a_sigmoid_encoder_logs_no_sparsity_and_resumes_bit_identical() {
    use gpu_dae::backend::Activation;
    let data = small_data();
    let model = AutoencoderConfig {
        encoder: Activation::Sigmoid,
        ..gpu_dae::config::relu_dae_model(784, 12)
    };
    let run = ReluDaeRun { model, standardise: true, lr: 0.0005, batch: 1, steps: 1500, seed: 3 };
    let be = Cpu::new();
    let (straight, stopped) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let full = session_run("relu-dae", straight.path(), &Silent, false, |s| {
        train::train_relu_dae(&be, &data, &run, s)
    })
    .expect("a sigmoid encoder trains");
    assert!(full.sparsity.is_empty() && full.rows.iter().all(|r| r.sparsity.is_none()));
    let header = |file: &str| {
        let text = std::fs::read_to_string(straight.path().join(file)).unwrap();
        text.lines().next().unwrap_or_default().to_string()
    };
    assert_eq!(header("metrics.csv"), "step,error,seconds");
    assert_eq!(header("steps.csv"), "step,error");
    let ck = Checkpoint::load(&straight.path().join(FILE_NAME)).unwrap();
    assert!(ck.names().all(|n| n != "log.sparsity"), "no sparsity log without a ReLU encoder");
    let err = session_run("relu-dae", stopped.path(), &StopAfter::new(1200), false, |s| {
        train::train_relu_dae(&be, &data, &run, s)
    })
    .expect_err("interrupted");
    assert!(matches!(err, TrainError::Interrupted { .. }), "interrupted, got {err}");
    session_run("relu-dae", stopped.path(), &Silent, true, |s| {
        train::train_relu_dae(&be, &data, &run, s)
    })
    .expect("resumes");
    assert_same_checkpoints(straight.path(), stopped.path());
}
