//! Checked run configuration: flags are validated once, before any work, into the settings the
//! trainers take. Each rejection names the flag, the value found and what is allowed.

use crate::cli::{ModelKind, Preset, TrainArgs};
use crate::model::{AutoencoderConfig, FinetuneScope, SdaConfig};
use crate::train::{DaRun, SdaRun};

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

/// The SdA defaults of a preset, before explicit flags override them.
struct SdaDefaults {
    batch: usize,
    pretrain_lr: f32,
    pretrain_epochs: usize,
    finetune_lr: f32,
    epochs: usize,
}

impl Preset {
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
            // Minibatches of 20 make a step ~20× cheaper per example than at batch 1 (the CPU's
            // GEMMs reach their throughput); the learning rates are raised to keep SGD moving
            // (pretraining 0.05/20 per example ≈ the tutorial's 0.001·2.5; fine-tuning 0.5/20),
            // and 30 fine-tuning epochs bound the run (measured: test 1.57 % at epoch 13).
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

/// The tutorial SdA's hidden layers.
const SDA_HIDDEN: [usize; 3] = [1000, 1000, 1000];
/// The tutorial SdA's corruption levels, one per layer.
const SDA_CORRUPTION: [f32; 3] = [0.1, 0.2, 0.3];
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

/// `--flag v1,v2,…` as it was written.
fn list<T: ToString>(values: &[T]) -> String {
    values.iter().map(T::to_string).collect::<Vec<_>>().join(",")
}

impl TrainArgs {
    /// Rejects the flags that belong to another model than `--model`.
    fn check_flags_apply(&self) -> Result<(), ConfigError> {
        let sda_only: [(&'static str, bool); 5] = [
            ("pretrain-lr", self.pretrain_lr.is_some()),
            ("pretrain-epochs", self.pretrain_epochs.is_some()),
            ("finetune-lr", self.finetune_lr.is_some()),
            ("finetune", self.finetune.is_some()),
            ("preset", self.preset.is_some()),
        ];
        match self.model {
            ModelKind::Da => {
                for (flag, given) in sda_only {
                    check(!given, flag, "(given)", "no value: it applies to --model sda only")?;
                }
            }
            ModelKind::Sda => {
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

    /// The denoising-autoencoder run these flags describe, for a training split of `n_train`
    /// examples of `n_vis` pixels. Unset flags take the tutorial dA's values: 500 hidden units,
    /// corruption 0.3, lr 0.1, batch 20, 15 epochs.
    pub fn da_run(&self, n_train: usize, n_vis: usize) -> Result<DaRun, ConfigError> {
        self.check_flags_apply()?;
        let lr = check_lr("lr", self.lr.unwrap_or(0.1))?;
        let corruption = match self.corruption.as_deref() {
            None => 0.3,
            Some(&[p]) => p,
            Some(ps) => {
                return Err(ConfigError {
                    flag: "corruption",
                    value: list(ps),
                    expected: "one probability for --model da".into(),
                });
            }
        };
        check_corruption(&[corruption])?;
        let batch = self.batch.unwrap_or(20);
        check_batch(batch, n_train)?;
        let hidden = match self.hidden.as_deref() {
            None => 500,
            Some(&[h]) => h,
            Some(hs) => {
                return Err(ConfigError {
                    flag: "hidden",
                    value: list(hs),
                    expected: "one number for --model da".into(),
                });
            }
        };
        check(hidden >= 1, "hidden", hidden, "at least 1")?;
        let epochs = self.epochs.unwrap_or(15);
        check(epochs >= 1, "epochs", epochs, "at least 1")?;
        Ok(DaRun {
            model: AutoencoderConfig { n_vis, n_hid: hidden, corruption },
            lr,
            batch,
            epochs,
            seed: self.seed,
        })
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
        let corruption = match self.corruption.as_deref() {
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
        let batch = self.batch.unwrap_or(d.batch);
        check_batch(batch, n_train)?;
        let pretrain_lr = check_lr("pretrain-lr", self.pretrain_lr.unwrap_or(d.pretrain_lr))?;
        let finetune_lr = check_lr("finetune-lr", self.finetune_lr.unwrap_or(d.finetune_lr))?;
        let epochs = self.epochs.unwrap_or(d.epochs);
        check(epochs >= 1, "epochs", epochs, "at least 1")?;
        Ok(SdaRun {
            model: SdaConfig { n_in, hidden, corruption, n_out },
            batch,
            pretrain_lr,
            pretrain_epochs: self.pretrain_epochs.unwrap_or(d.pretrain_epochs),
            finetune_lr,
            finetune: self.finetune.unwrap_or(FinetuneScope::Full),
            epochs,
            seed: self.seed,
            eval_chunk: EVAL_CHUNK,
        })
    }
}
