//! Checked run configuration: flags are validated once, before any work, into the settings the
//! trainers take (`train::Settings`, by `TrainArgs::settings`). Each rejection names the flag, the value
//! found and what is allowed.

use crate::backend::{Activation, Noise};
use crate::cli::{
    DecoderChoice, EncoderChoice, Inputs, LayerChoice, ModelKind, Preset, TrainArgs, Weights,
};
use crate::data::{self, DataSet};
use crate::model::sda::LayerKind;
use crate::model::{AutoencoderConfig, FinetuneScope, Init, Loss, SdaConfig};
use crate::train::{DaRun, ReluDaeRun, SdaRun, Settings};

/// A flag value outside its allowed range.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("--{flag} {value}: expected {expected}")]
pub struct ConfigError {
    /// The flag, without dashes.
    pub flag: &'static str,
    /// The value given.
    pub value: String,
    /// What is allowed.
    pub expected: String,
}

fn check(
    ok: bool,
    flag: &'static str,
    value: impl ToString,
    expected: impl ToString,
) -> Result<(), ConfigError> {
    if ok {
        Ok(())
    } else {
        Err(ConfigError { flag, value: value.to_string(), expected: expected.to_string() })
    }
}

/// A `--noise` value: `none`, `mask:P` (zero each element with probability P), `gauss:S` (add
/// N(0, S²)) or `salt-pepper:P` (set each element to 0 or 1 with probability P).
pub fn parse_noise(text: &str) -> Result<Noise, ConfigError> {
    let fail = || ConfigError {
        flag: "noise",
        value: text.to_string(),
        expected: "none, mask:P or salt-pepper:P with P in [0, 1], or gauss:S with S ≥ 0".into(),
    };
    let (kind, level) = text.split_once(':').unwrap_or((text, ""));
    let level = || level.parse::<f32>().ok().filter(|v| v.is_finite()).ok_or_else(fail);
    let probability =
        || level().and_then(|p| if (0.0..=1.0).contains(&p) { Ok(p) } else { Err(fail()) });
    match kind {
        "none" if text == "none" => Ok(Noise::None),
        "mask" => Ok(Noise::Mask { p: probability()? }),
        "salt-pepper" => Ok(Noise::SaltPepper { p: probability()? }),
        "gauss" => {
            let sigma = level()?;
            if sigma >= 0.0 { Ok(Noise::Gauss { sigma }) } else { Err(fail()) }
        }
        _ => Err(fail()),
    }
}

/// The SdA defaults of a preset, before explicit flags override them.
struct SdaDefaults {
    batch: usize,
    pretrain_lr: f32,
    pretrain_epochs: usize,
    finetune_lr: f32,
    epochs: usize,
}

impl Preset {
    /// The preset's minibatch size.
    pub fn sda_batch(self) -> usize {
        self.sda_defaults().batch
    }

    fn sda_defaults(self) -> SdaDefaults {
        match self {
            // SdA.py: batch 1, pretraining 15 epochs at 0.001, fine-tuning at 0.1, ≤ 1000 epochs.
            Preset::Tutorial => SdaDefaults {
                batch: 1,
                pretrain_lr: 0.001,
                pretrain_epochs: 15,
                finetune_lr: 0.1,
                epochs: 1000,
            },
            // SdA.py with 10× its pretraining rate: 15 epochs at 0.001 leave each dA far from
            // converged; the choice was made on the validation error (README, "Stacked denoising
            // autoencoder", and docs/sda/ hold the runs).
            Preset::Tuned => SdaDefaults { pretrain_lr: 0.01, ..Preset::Tutorial.sda_defaults() },
            // Minibatches of 20 make a step much cheaper per example than at batch 1 (the GEMMs
            // reach their throughput); the learning rates are raised to keep SGD moving
            // (pretraining 0.05/20 per example ≈ the tutorial's 0.001·2.5; fine-tuning 0.5/20),
            // and 30 fine-tuning epochs bound the run (its measured run: docs/sda/log_fast.txt).
            Preset::Fast => SdaDefaults {
                batch: 20,
                pretrain_lr: 0.05,
                pretrain_epochs: 3,
                finetune_lr: 0.5,
                epochs: 30,
            },
        }
    }
}

/// The defaults of a single-autoencoder model (`--model da|cae|relu-dae`), before explicit
/// flags override them.
#[derive(Clone, Debug, PartialEq)]
pub struct AePreset {
    /// The model: hidden units, noise, penalty, activations, weights, loss, initialisation
    /// (`standardise` left None: the trainer measures it).
    pub model: AutoencoderConfig,
    /// Whether inputs are standardised by the training split's pixel mean and std.
    pub standardise: bool,
    /// SGD learning rate.
    pub lr: f32,
    /// Examples per minibatch.
    pub batch: usize,
    /// Passes over the training set (da, cae).
    pub epochs: usize,
    /// SGD steps (relu-dae).
    pub steps: usize,
}

impl AePreset {
    /// The tutorial's values for `n_vis` inputs: dA.py for `--model da` (784-500, masking 0.3,
    /// lr 0.1, batch 20, 15 epochs), cA.py for `--model cae` (784-500, λ 0.1, no noise, lr
    /// 0.01, batch 10, 20 epochs), the exercise for `--model relu-dae` (`relu_dae_model`,
    /// standardised inputs, lr 0.0005, batch 1, 25 000 steps). `--model sda` gets the dA's.
    pub fn of(model: ModelKind, n_vis: usize) -> Self {
        let tutorial = AutoencoderConfig { n_vis, n_hid: 500, ..Default::default() };
        let base = AePreset {
            model: tutorial.clone(),
            standardise: false,
            lr: 0.1,
            batch: 20,
            epochs: 15,
            steps: 25_000,
        };
        match model {
            ModelKind::Cae => AePreset {
                model: AutoencoderConfig { contraction: CAE_CONTRACTION, ..tutorial },
                lr: 0.01,
                batch: 10,
                epochs: 20,
                ..base
            },
            ModelKind::ReluDae => AePreset {
                model: relu_dae_model(n_vis, 225),
                standardise: true,
                lr: 0.0005,
                batch: 1,
                ..base
            },
            ModelKind::Da | ModelKind::Sda => AePreset {
                model: AutoencoderConfig { noise: Noise::Mask { p: 0.3 }, ..tutorial },
                ..base
            },
        }
    }
}

/// The exercise's ReLU-DAE with `n_vis`-`n_hid` units: ReLU encoder, untied linear decoder,
/// squared error, Gaussian noise σ 1.0, W, V ~ N(0, 0.01²), B = 0.5, C = 0; the
/// standardisation is left to the trainer (None).
pub fn relu_dae_model(n_vis: usize, n_hid: usize) -> AutoencoderConfig {
    AutoencoderConfig {
        n_vis,
        n_hid,
        noise: Noise::Gauss { sigma: 1.0 },
        contraction: 0.0,
        encoder: Activation::Relu,
        tied: false,
        decoder: Activation::Identity,
        loss: Loss::SquaredError,
        standardise: None,
        init: Init::Normal { std: 0.01, hidden_bias: 0.5 },
        visible_bias: 0.0,
    }
}

/// cA.py's penalty weight λ: the default of `--model cae` and of `--model sda --layer cae`.
pub const CAE_CONTRACTION: f32 = 0.1;

/// The tutorial SdA's hidden layers.
const SDA_HIDDEN: [usize; 3] = [1000, 1000, 1000];
/// The tutorial SdA's corruption levels, one per layer.
const SDA_CORRUPTION: [f32; 3] = [0.1, 0.2, 0.3];

/// The tutorial SdA (SdA.py) for `n_in` inputs and `n_out` classes: hidden layers
/// 1000-1000-1000, masking noise 0.1, 0.2, 0.3 (every preset's network).
pub fn tutorial_sda(n_in: usize, n_out: usize) -> SdaConfig {
    SdaConfig {
        n_in,
        hidden: SDA_HIDDEN.to_vec(),
        corruption: SDA_CORRUPTION.to_vec(),
        n_out,
        layer: LayerKind::Da,
        contraction: 0.0,
    }
}
/// Examples per forward pass when the SdA measures validation and test errors.
const EVAL_CHUNK: usize = 500;

fn check_lr(flag: &'static str, lr: f32) -> Result<f32, ConfigError> {
    check(lr.is_finite() && lr > 0.0, flag, lr, "a finite number > 0")?;
    Ok(lr)
}

fn check_corruption(ps: &[f32]) -> Result<(), ConfigError> {
    for &p in ps {
        check((0.0..=1.0).contains(&p), "corruption", p, "a probability in [0, 1]")?;
    }
    Ok(())
}

fn check_batch(batch: usize, n_train: usize) -> Result<(), ConfigError> {
    check(
        (1..=n_train).contains(&batch),
        "batch",
        batch,
        format!("1 to {n_train} (the training split's size)"),
    )
}

/// The error of an --init value that is neither `tutorial` nor `normal:S`.
fn init_error(text: &str) -> ConfigError {
    ConfigError {
        flag: "init",
        value: text.to_string(),
        expected: "tutorial or normal:S with S a finite number > 0".into(),
    }
}

/// `--flag v1,v2,…` as it was written.
fn list<T: ToString>(values: &[T]) -> String {
    values.iter().map(T::to_string).collect::<Vec<_>>().join(",")
}

impl TrainArgs {
    /// The settings of the run these flags describe for `data` (see `da_run`, `relu_dae_run`,
    /// `sda_run`).
    pub fn settings(&self, data: &DataSet) -> Result<Settings, ConfigError> {
        let (n_train, n_vis) = (data.train.len(), data.train.images.dim());
        Ok(match self.model() {
            ModelKind::Da | ModelKind::Cae => Settings::Da(self.da_run(n_train, n_vis)?),
            ModelKind::ReluDae => Settings::ReluDae(self.relu_dae_run(n_train, n_vis)?),
            ModelKind::Sda => Settings::Sda(self.sda_run(n_train, n_vis, data::CLASSES)?),
        })
    }

    /// The one hidden size of a single-layer model (`models` names them for the error): the
    /// flag's single value, else `default`; at least 1.
    fn single_hidden(&self, default: usize, models: &str) -> Result<usize, ConfigError> {
        let hidden = match self.hidden.as_deref() {
            None => default,
            Some(&[h]) => h,
            Some(hs) => {
                return Err(ConfigError {
                    flag: "hidden",
                    value: list(hs),
                    expected: format!("one number for --model {models}"),
                });
            }
        };
        check(hidden >= 1, "hidden", hidden, "at least 1")?;
        Ok(hidden)
    }

    /// Rejects the flags that belong to another model than `--model`.
    fn check_flags_apply(&self) -> Result<(), ConfigError> {
        let model = self.model();
        if model != ModelKind::ReluDae {
            check(
                self.steps.is_none(),
                "steps",
                "(given)",
                "no value: it applies to --model relu-dae only",
            )?;
        }
        let (sda_only, autoencoder_only) = (self.sda_flags_given(), self.autoencoder_flags_given());
        match model {
            ModelKind::ReluDae => {
                let not_here = [
                    ("corruption", self.corruption.is_some()),
                    ("contraction", self.contraction.is_some()),
                    ("epochs", self.epochs.is_some()),
                ];
                for (flag, given) in sda_only.into_iter().chain(not_here) {
                    let expected = "no value with --model relu-dae (its noise is --noise, its length --steps; for a penalty use --model cae)";
                    check(!given, flag, "(given)", expected)?;
                }
            }
            ModelKind::Da | ModelKind::Cae => {
                for (flag, given) in sda_only {
                    check(!given, flag, "(given)", "no value: it applies to --model sda only")?;
                }
                if model == ModelKind::Da
                    && let Some(c) = self.contraction
                {
                    check(false, "contraction", c, "no value with --model da: use --model cae")?;
                }
            }
            ModelKind::Sda => {
                for (flag, given) in autoencoder_only {
                    let expected = "no value with --model sda (its layers are the tutorial's dAs; see --corruption)";
                    check(!given, flag, "(given)", expected)?;
                }
                if let Some(c) = self.contraction
                    && self.layer != Some(LayerChoice::Cae)
                {
                    let expected = "no value with --model sda unless --layer cae";
                    check(false, "contraction", c, expected)?;
                }
                if let Some(ps) = &self.corruption
                    && self.layer == Some(LayerChoice::Cae)
                {
                    let expected = "no value with --layer cae (a cA layer is not corrupted; its penalty is --contraction)";
                    check(false, "corruption", list(ps), expected)?;
                }
                if let Some(lr) = self.lr {
                    check(
                        false,
                        "lr",
                        lr,
                        "no value with --model sda: use --pretrain-lr and --finetune-lr",
                    )?;
                }
            }
        }
        Ok(())
    }

    /// The autoencoder these flags describe on top of `preset` (`AePreset::of(--model)`):
    /// every preset field can be overridden, and the combinations that do not make sense are
    /// rejected (cross-entropy needs the sigmoid decoder and unit inputs; the contractive
    /// penalty needs the sigmoid encoder; the normal initialisation's hidden bias needs
    /// --init normal).
    fn autoencoder(&self, preset: &AePreset) -> Result<(AutoencoderConfig, bool), ConfigError> {
        let mut m = preset.model.clone();
        m.n_hid = self.single_hidden(m.n_hid, "da, cae or relu-dae")?;
        m.contraction = self.contraction.unwrap_or(m.contraction);
        check(
            m.contraction.is_finite() && m.contraction >= 0.0,
            "contraction",
            m.contraction,
            "a finite number ≥ 0",
        )?;
        match (self.corruption.as_deref(), &self.noise) {
            (Some(_), Some(noise)) => {
                return Err(ConfigError {
                    flag: "noise",
                    value: noise.clone(),
                    expected: "no value with --corruption (--corruption P is --noise mask:P)"
                        .into(),
                });
            }
            (Some(&[p]), None) => {
                check_corruption(&[p])?;
                m.noise = Noise::Mask { p };
            }
            (Some(ps), None) => {
                return Err(ConfigError {
                    flag: "corruption",
                    value: list(ps),
                    expected: "one probability for --model da or cae".into(),
                });
            }
            (None, Some(text)) => m.noise = parse_noise(text)?,
            (None, None) => {}
        }
        if let Some(e) = self.encoder {
            m.encoder = match e {
                EncoderChoice::Sigmoid => Activation::Sigmoid,
                EncoderChoice::Relu => Activation::Relu,
            };
        }
        if let Some(d) = self.decoder {
            m.decoder = match d {
                DecoderChoice::Sigmoid => Activation::Sigmoid,
                DecoderChoice::Linear => Activation::Identity,
            };
        }
        m.tied = self.weights.map_or(m.tied, |w| w == Weights::Tied);
        m.loss = self.loss.map_or(m.loss, Loss::from);
        if let Some(text) = &self.init {
            // A new standard deviation keeps the preset's hidden bias (relu-dae: 0.5).
            let hidden_bias = match m.init {
                Init::Normal { hidden_bias, .. } => hidden_bias,
                Init::Tutorial => 0.0,
            };
            let normal = |std: f32| Init::Normal { std, hidden_bias };
            m.init = match text.split_once(':') {
                None if text == "tutorial" => Init::Tutorial,
                Some(("normal", s)) => match s.parse::<f32>() {
                    Ok(std) if std.is_finite() && std > 0.0 => normal(std),
                    _ => return Err(init_error(text)),
                },
                _ => return Err(init_error(text)),
            };
        }
        if let Some(bias) = self.hidden_bias {
            check(bias.is_finite(), "hidden-bias", bias, "a finite number")?;
            match &mut m.init {
                Init::Normal { hidden_bias, .. } => *hidden_bias = bias,
                Init::Tutorial => check(
                    false,
                    "hidden-bias",
                    bias,
                    "no value with --init tutorial, which starts every bias at 0 (use --init normal:S)",
                )?,
            }
        }
        if let Some(c) = self.visible_bias {
            check(c.is_finite(), "visible-bias", c, "a finite number")?;
            m.visible_bias = c;
        }
        let standardise = self.inputs.map_or(preset.standardise, |i| i == Inputs::Standardised);
        if m.loss == Loss::CrossEntropy {
            if m.decoder != Activation::Sigmoid {
                check(
                    false,
                    "decoder",
                    "linear",
                    "sigmoid with --loss cross-entropy (its targets and outputs lie in [0, 1]); use --loss squared-error",
                )?;
            }
            if standardise {
                check(
                    false,
                    "inputs",
                    "standardised",
                    "unit with --loss cross-entropy (its targets lie in [0, 1]); use --loss squared-error",
                )?;
            }
        }
        if standardise && m.decoder == Activation::Sigmoid {
            check(
                false,
                "inputs",
                "standardised",
                "unit with --decoder sigmoid (its outputs lie in (0, 1)); use --decoder linear",
            )?;
        }
        if m.contraction > 0.0 && m.encoder != Activation::Sigmoid {
            check(
                false,
                "contraction",
                m.contraction,
                "0 with --encoder relu: the penalty is the sigmoid encoder's (Rifai et al. 2011)",
            )?;
        }
        Ok((m, standardise))
    }

    /// The dA or cA run (`--model da` or `--model cae`) these flags describe, for a training
    /// split of `n_train` examples of `n_vis` pixels. Unset flags take the tutorial's values
    /// (`AePreset::of`).
    pub fn da_run(&self, n_train: usize, n_vis: usize) -> Result<DaRun, ConfigError> {
        self.check_flags_apply()?;
        let d = AePreset::of(self.model(), n_vis);
        let lr = check_lr("lr", self.lr.unwrap_or(d.lr))?;
        let (model, standardise) = self.autoencoder(&d)?;
        let batch = self.batch.unwrap_or(d.batch);
        check_batch(batch, n_train)?;
        let epochs = self.epochs.unwrap_or(d.epochs);
        check(epochs >= 1, "epochs", epochs, "at least 1")?;
        Ok(DaRun { model, standardise, lr, batch, epochs, seed: self.seed() })
    }

    /// The ReLU-DAE run these flags describe (the exercise's values unless overridden, see
    /// `AePreset::of`), for a training split of `n_train` examples of `n_vis` pixels. The
    /// standardisation is measured by the trainer.
    pub fn relu_dae_run(&self, n_train: usize, n_vis: usize) -> Result<ReluDaeRun, ConfigError> {
        self.check_flags_apply()?;
        let d = AePreset::of(ModelKind::ReluDae, n_vis);
        let lr = check_lr("lr", self.lr.unwrap_or(d.lr))?;
        let (model, standardise) = self.autoencoder(&d)?;
        let batch = self.batch.unwrap_or(d.batch);
        check_batch(batch, n_train)?;
        let steps = self.steps.unwrap_or(d.steps);
        check(steps >= 1, "steps", steps, "at least 1")?;
        Ok(ReluDaeRun { model, standardise, lr, batch, steps, seed: self.seed() })
    }

    /// The stacked-denoising-autoencoder run these flags describe, for a training split of
    /// `n_train` examples of `n_in` pixels and `n_out` classes. Unset flags take the preset's
    /// values (`--preset tutorial`, the default: SdA.py's 1000,1000,1000 hidden units,
    /// corruption 0.1,0.2,0.3, batch 1, pretraining 15 epochs at lr 0.001, fine-tuning at lr 0.1
    /// for at most 1000 epochs, full).
    pub fn sda_run(
        &self,
        n_train: usize,
        n_in: usize,
        n_out: usize,
    ) -> Result<SdaRun, ConfigError> {
        self.check_flags_apply()?;
        let d = self.preset.unwrap_or(Preset::Tutorial).sda_defaults();
        let hidden = self.hidden.clone().unwrap_or(SDA_HIDDEN.to_vec());
        check(!hidden.is_empty(), "hidden", "", "at least one layer size")?;
        for &h in &hidden {
            check(h >= 1, "hidden", list(&hidden), "layer sizes of at least 1")?;
        }
        let layer = self.layer.map_or(LayerKind::Da, LayerKind::from);
        let corruption = match self.corruption.as_deref() {
            None if layer == LayerKind::Cae => vec![0.0; hidden.len()],
            None if hidden.len() == SDA_CORRUPTION.len() => SDA_CORRUPTION.to_vec(),
            None => {
                return Err(ConfigError {
                    flag: "corruption",
                    value: format!("(default {})", list(&SDA_CORRUPTION)),
                    expected: format!(
                        "one level per hidden layer: --hidden {} has {} layers",
                        list(&hidden),
                        hidden.len()
                    ),
                });
            }
            Some(&[p]) => vec![p; hidden.len()],
            Some(ps) if ps.len() == hidden.len() => ps.to_vec(),
            Some(ps) => {
                return Err(ConfigError {
                    flag: "corruption",
                    value: list(ps),
                    expected: format!(
                        "one level for all layers or one per hidden layer ({} for --hidden {})",
                        hidden.len(),
                        list(&hidden)
                    ),
                });
            }
        };
        check_corruption(&corruption)?;
        let contraction = match layer {
            LayerKind::Da => 0.0,
            LayerKind::Cae => self.contraction.unwrap_or(CAE_CONTRACTION),
        };
        check(
            contraction.is_finite() && contraction >= 0.0,
            "contraction",
            contraction,
            "a finite number ≥ 0",
        )?;
        let batch = self.batch.unwrap_or(d.batch);
        check_batch(batch, n_train)?;
        let pretrain_lr = check_lr("pretrain-lr", self.pretrain_lr.unwrap_or(d.pretrain_lr))?;
        let finetune_lr = check_lr("finetune-lr", self.finetune_lr.unwrap_or(d.finetune_lr))?;
        let epochs = self.epochs.unwrap_or(d.epochs);
        check(epochs >= 1, "epochs", epochs, "at least 1")?;
        Ok(SdaRun {
            model: SdaConfig { n_in, hidden, corruption, n_out, layer, contraction },
            batch,
            pretrain_lr,
            pretrain_epochs: self.pretrain_epochs.unwrap_or(d.pretrain_epochs),
            finetune_lr,
            finetune: self.finetune.map_or(FinetuneScope::Full, FinetuneScope::from),
            epochs,
            seed: self.seed(),
            eval_chunk: EVAL_CHUNK,
        })
    }
}
