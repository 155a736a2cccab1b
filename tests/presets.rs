//! The model presets parse to the documented values (DESIGN.md, issue 5), and every preset field
//! can be overridden by its flag.

use clap::Parser;
use gpu_dae::backend::{Activation, Noise};
use gpu_dae::cli::{Cli, Command, TrainArgs};
use gpu_dae::model::{AutoencoderConfig, Init, Loss};

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
        noise: Noise::Mask { p: 0.3 },
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
        noise: Noise::None,
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
        noise: Noise::Mask { p: 0.2 },
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
    let run = train_args(&["--model", "relu-dae"]).relu_dae_run(50_000, 784).unwrap();
    let model = AutoencoderConfig {
        n_vis: 784,
        n_hid: 225,
        noise: Noise::Gauss { sigma: 1.0 },
        contraction: 0.0,
        encoder: Activation::Relu,
        tied: false,
        decoder: Activation::Identity,
        loss: Loss::SquaredError,
        standardise: None,
        init: Init::Normal { std: 0.01, hidden_bias: 0.5 },
        visible_bias: 0.0,
    };
    assert_eq!(run.model, model);
    assert!(run.standardise, "the exercise standardises the inputs");
    assert_eq!((run.lr, run.batch, run.steps), (0.0005, 1, 25_000));
    let err =
        train_args(&["--model", "relu-dae", "--epochs", "3"]).relu_dae_run(1000, 784).unwrap_err();
    assert_eq!(err.flag, "epochs");
    let err = train_args(&["--model", "da", "--steps", "3"]).da_run(1000, 784).unwrap_err();
    assert_eq!(err.flag, "steps");
}

#[test]
fn every_relu_dae_preset_field_can_be_overridden() {
    let flags = [
        "--model",
        "relu-dae",
        "--hidden",
        "50",
        "--noise",
        "mask:0.25",
        "--encoder",
        "sigmoid",
        "--decoder",
        "sigmoid",
        "--weights",
        "tied",
        "--init",
        "normal:0.05",
        "--hidden-bias",
        "-0.5",
        "--visible-bias",
        "0.25",
        "--inputs",
        "unit",
        "--lr",
        "0.01",
        "--batch",
        "4",
        "--steps",
        "10",
        "--seed",
        "2",
    ];
    let run = train_args(&flags).relu_dae_run(1000, 784).unwrap();
    let model = AutoencoderConfig {
        n_vis: 784,
        n_hid: 50,
        noise: Noise::Mask { p: 0.25 },
        contraction: 0.0,
        encoder: Activation::Sigmoid,
        tied: true,
        decoder: Activation::Sigmoid,
        loss: Loss::SquaredError,
        standardise: None,
        init: Init::Normal { std: 0.05, hidden_bias: -0.5 },
        visible_bias: 0.25,
    };
    assert_eq!(run.model, model);
    assert!(!run.standardise);
    assert_eq!((run.lr, run.batch, run.steps, run.seed), (0.01, 4, 10, 2));
    // A new initial scale alone keeps the preset's hidden bias.
    let run = train_args(&["--model", "relu-dae", "--init", "normal:0.05"]).relu_dae_run(1000, 784);
    assert_eq!(run.unwrap().model.init, Init::Normal { std: 0.05, hidden_bias: 0.5 });
}

#[test]
fn the_da_takes_the_relu_dae_fields_too() {
    let flags = [
        "--model",
        "da",
        "--noise",
        "gauss:0.5",
        "--encoder",
        "relu",
        "--weights",
        "untied",
        "--decoder",
        "linear",
        "--loss",
        "squared-error",
        "--inputs",
        "standardised",
        "--init",
        "normal:0.01",
    ];
    let run = train_args(&flags).da_run(1000, 784).unwrap();
    assert_eq!(run.model.noise, Noise::Gauss { sigma: 0.5 });
    assert_eq!((run.model.encoder, run.model.decoder), (Activation::Relu, Activation::Identity));
    assert_eq!((run.model.tied, run.model.loss), (false, Loss::SquaredError));
    assert_eq!(run.model.init, Init::Normal { std: 0.01, hidden_bias: 0.0 });
    assert!(run.standardise);
    let run = train_args(&["--noise", "salt-pepper:0.25"]).da_run(1000, 784).unwrap();
    assert_eq!(run.model.noise, Noise::SaltPepper { p: 0.25 });
    let run = train_args(&["--model", "cae", "--noise", "none"]).da_run(1000, 784).unwrap();
    assert_eq!(run.model.noise, Noise::None);
}

#[test]
fn combinations_that_make_no_sense_are_rejected() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["--decoder", "linear"], "decoder", "--loss squared-error"),
        (&["--inputs", "standardised"], "inputs", "--loss squared-error"),
        (&["--model", "cae", "--encoder", "relu"], "contraction", "sigmoid encoder"),
        (&["--hidden-bias", "0.5"], "hidden-bias", "--init normal"),
        (&["--noise", "mask:0.2", "--corruption", "0.2"], "noise", "--corruption"),
        (&["--noise", "mask:1.5"], "noise", "[0, 1]"),
        (&["--noise", "gauss:-1"], "noise", "S ≥ 0"),
        (&["--noise", "pink:0.1"], "noise", "salt-pepper:P"),
        (&["--init", "normal:0"], "init", "> 0"),
        (&["--init", "xavier"], "init", "tutorial or normal:S"),
        (&["--inputs", "standardised", "--loss", "squared-error"], "inputs", "--decoder linear"),
    ];
    for (flags, flag, needle) in cases {
        let err = train_args(flags).da_run(1000, 784).unwrap_err();
        assert_eq!(err.flag, *flag, "{flags:?}: {err}");
        assert!(err.to_string().contains(needle), "{flags:?}: {err}");
    }
    let err =
        train_args(&["--model", "sda", "--encoder", "relu"]).sda_run(1000, 784, 10).unwrap_err();
    assert_eq!(err.flag, "encoder");
    let err = train_args(&["--model", "relu-dae", "--contraction", "0.1"])
        .relu_dae_run(1000, 784)
        .unwrap_err();
    assert_eq!(err.flag, "contraction");
}

#[test]
fn the_initial_biases_follow_the_configuration() {
    use gpu_dae::backend::cpu::Cpu;
    use gpu_dae::model::Autoencoder;
    let be = Cpu::new();
    let flags = ["--model", "relu-dae", "--hidden", "6", "--visible-bias", "-0.25"];
    let config = train_args(&flags).relu_dae_run(1000, 10).unwrap().model;
    let ae = Autoencoder::new(&be, config, 1);
    let (_, b, b_prime) = ae.download(&be);
    assert_eq!((b, b_prime), (vec![0.5; 6], vec![-0.25; 10]));
    let config = train_args(&["--visible-bias", "0.5", "--hidden", "3"]).da_run(1000, 4).unwrap();
    let (_, b, b_prime) = Autoencoder::new(&be, config.model, 1).download(&be);
    assert_eq!((b, b_prime), (vec![0.0; 3], vec![0.5; 4]));
}

/// (batch, pretrain-lr, pretrain-epochs, finetune-lr, epochs) of an SdA run.
fn sda_settings(flags: &[&str]) -> (usize, f32, usize, f32, usize) {
    let args = train_args(&[&["--model", "sda"], flags].concat());
    let run = args.sda_run(50_000, 784, 10).unwrap();
    assert_eq!(run.model.hidden, [1000, 1000, 1000], "{flags:?}");
    assert_eq!(run.model.corruption, [0.1, 0.2, 0.3], "{flags:?}");
    (run.batch, run.pretrain_lr, run.pretrain_epochs, run.finetune_lr, run.epochs)
}

#[test]
fn sda_presets_are_the_documented_settings() {
    assert_eq!(sda_settings(&[]), (1, 0.001, 15, 0.1, 1000));
    assert_eq!(sda_settings(&["--preset", "tutorial"]), (1, 0.001, 15, 0.1, 1000));
    assert_eq!(sda_settings(&["--preset", "fast"]), (20, 0.05, 3, 0.5, 30));
    assert_eq!(sda_settings(&["--preset", "tuned"]), (1, 0.01, 15, 0.1, 1000));
}

#[test]
fn every_sda_preset_field_can_be_overridden() {
    let flags = [
        "--batch",
        "7",
        "--pretrain-lr",
        "0.02",
        "--pretrain-epochs",
        "2",
        "--finetune-lr",
        "0.3",
        "--epochs",
        "5",
    ];
    for preset in ["tutorial", "fast", "tuned"] {
        let settings = sda_settings(&[&["--preset", preset], &flags[..]].concat());
        assert_eq!(settings, (7, 0.02, 2, 0.3, 5), "--preset {preset}");
    }
}
