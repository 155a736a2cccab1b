//! Checked run configuration: flags are validated once, before any work, into the settings the
//! trainers take. Each rejection names the flag, the value found and what is allowed.

use crate::cli::TrainArgs;
use crate::model::AutoencoderConfig;
use crate::train::DaRun;

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

impl TrainArgs {
    /// The denoising-autoencoder run these flags describe, for a training split of `n_train`
    /// examples of `n_vis` pixels.
    pub fn da_run(&self, n_train: usize, n_vis: usize) -> Result<DaRun, ConfigError> {
        check(self.lr.is_finite() && self.lr > 0.0, "lr", self.lr, "a finite number > 0")?;
        check(
            (0.0..=1.0).contains(&self.corruption),
            "corruption",
            self.corruption,
            "a probability in [0, 1]",
        )?;
        check(
            (1..=n_train).contains(&self.batch),
            "batch",
            self.batch,
            format!("1 to {n_train} (the training split's size)"),
        )?;
        check(self.hidden >= 1, "hidden", self.hidden, "at least 1")?;
        check(self.epochs >= 1, "epochs", self.epochs, "at least 1")?;
        Ok(DaRun {
            model: AutoencoderConfig { n_vis, n_hid: self.hidden, corruption: self.corruption },
            lr: self.lr,
            batch: self.batch,
            epochs: self.epochs,
            seed: self.seed,
        })
    }
}
