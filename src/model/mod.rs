//! The models: the autoencoder family, written once against the `Backend` op set.

pub mod autoencoder;

pub use autoencoder::{Autoencoder, AutoencoderConfig};
