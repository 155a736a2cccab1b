//! The models: the autoencoder family, the softmax layer and the stacked denoising autoencoder,
//! written once against the `Backend` op set.

pub mod autoencoder;
pub mod logistic;
pub mod sda;

pub use autoencoder::{Autoencoder, AutoencoderConfig, Init, Loss};
pub use logistic::Logistic;
pub use sda::{FinetuneScope, Sda, SdaConfig, SdaParams};
