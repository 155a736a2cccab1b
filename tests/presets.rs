//! The model presets parse to the documented values (DESIGN.md, issue 5), and every preset field
//! can be overridden by its flag.

use clap::Parser;
use gpu_dae::cli::{Cli, Command, TrainArgs};
use gpu_dae::model::AutoencoderConfig;

fn train_args(flags: &[&str]) -> TrainArgs {
    let argv = ["gpu-dae", "train"].iter().chain(flags).copied();
    match Cli::try_parse_from(argv).expect("the flags parse").command {
        Command::Train(args) => args,
        other => panic!("expected train, got {other:?}"),
    }
}

#[test]
fn da_preset_is_the_tutorials_da() {
    let run = train_args(&["--model", "da"]).da_run(50_000, 784).unwrap();
    let model = AutoencoderConfig {
        n_vis: 784,
        n_hid: 500,
        corruption: 0.3,
        contraction: 0.0,
        ..Default::default()
    };
    assert_eq!(run.model, model);
    assert_eq!((run.lr, run.batch, run.epochs, run.seed), (0.1, 20, 15, 123));
}

#[test]
fn cae_preset_is_the_tutorials_ca() {
    let run = train_args(&["--model", "cae"]).da_run(50_000, 784).unwrap();
    let model = AutoencoderConfig {
        n_vis: 784,
        n_hid: 500,
        corruption: 0.0,
        contraction: 0.1,
        ..Default::default()
    };
    assert_eq!(run.model, model);
    assert_eq!((run.lr, run.batch, run.epochs), (0.01, 10, 20));
}

#[test]
fn every_cae_preset_field_can_be_overridden() {
    let flags = [
        "--model",
        "cae",
        "--hidden",
        "64",
        "--contraction",
        "0.5",
        "--corruption",
        "0.2",
        "--lr",
        "0.03",
        "--batch",
        "7",
        "--epochs",
        "2",
        "--seed",
        "9",
    ];
    let run = train_args(&flags).da_run(1000, 784).unwrap();
    let model = AutoencoderConfig {
        n_vis: 784,
        n_hid: 64,
        corruption: 0.2,
        contraction: 0.5,
        ..Default::default()
    };
    assert_eq!(run.model, model);
    assert_eq!((run.lr, run.batch, run.epochs, run.seed), (0.03, 7, 2, 9));
}

#[test]
fn contraction_is_checked_and_belongs_to_the_cae() {
    let err = train_args(&["--model", "cae", "--contraction=-1"]).da_run(1000, 784).unwrap_err();
    assert_eq!(err.flag, "contraction");
    let err = train_args(&["--model", "da", "--contraction", "0.1"]).da_run(1000, 784).unwrap_err();
    assert_eq!(err.flag, "contraction");
    assert!(err.expected.contains("--model cae"), "{err}");
    let err =
        train_args(&["--model", "sda", "--contraction", "0.1"]).sda_run(1000, 784, 10).unwrap_err();
    assert_eq!(err.flag, "contraction");
}

#[test]
fn relu_dae_preset_is_the_exercise() {
    use gpu_dae::backend::Activation;
    use gpu_dae::model::{Init, Loss};
    let run = train_args(&["--model", "relu-dae"]).relu_dae_run(50_000, 784).unwrap();
    let model = AutoencoderConfig {
        n_vis: 784,
        n_hid: 225,
        corruption: 0.0,
        contraction: 0.0,
        noise_std: 1.0,
        encoder: Activation::Relu,
        tied: false,
        loss: Loss::SquaredError,
        standardise: None,
        init: Init::Normal { std: 0.01, hidden_bias: 0.5 },
    };
    assert_eq!(run.model, model);
    assert_eq!((run.lr, run.batch, run.steps), (0.0005, 1, 25_000));
    let flags = ["--model", "relu-dae", "--hidden", "50", "--noise-std", "0.5", "--lr", "0.01"];
    let run = train_args(&[&flags[..], &["--batch", "4", "--steps", "10"]].concat())
        .relu_dae_run(1000, 784)
        .unwrap();
    assert_eq!((run.model.n_hid, run.model.noise_std), (50, 0.5));
    assert_eq!((run.lr, run.batch, run.steps), (0.01, 4, 10));
    let err =
        train_args(&["--model", "relu-dae", "--epochs", "3"]).relu_dae_run(1000, 784).unwrap_err();
    assert_eq!(err.flag, "epochs");
    let err = train_args(&["--model", "da", "--steps", "3"]).da_run(1000, 784).unwrap_err();
    assert_eq!(err.flag, "steps");
}
