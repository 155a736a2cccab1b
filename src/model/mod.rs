//! The models: the autoencoder family, the softmax layer and the stacked denoising autoencoder,
//! written once against the `Backend` op set.

pub mod autoencoder;
mod dense;
pub mod logistic;
pub mod sda;

pub use autoencoder::{Autoencoder, AutoencoderConfig, Init, Loss};
pub use logistic::Logistic;
pub use sda::{FinetuneScope, Sda, SdaConfig, SdaParams};

use crate::rng::RngKey;

/// One SGD step's settings: its examples, its draw of noise, its rate and the slot of the
/// workspace's per-step logs it writes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    /// Index of the batch's first example.
    pub first: usize,
    /// The draw of the step's corruption (`RngKey::UNUSED` where nothing is corrupted).
    pub key: RngKey,
    /// SGD learning rate.
    pub lr: f32,
    /// The slot of the per-step logs (costs, …) the step writes.
    pub slot: usize,
}
