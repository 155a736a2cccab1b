//! Corruption as the kernels receive it: a `Noise` and its key encoded as shaders/noise.wgsl's
//! `NoiseParams`, whose `noisy` draws from shaders/rng.wgsl, bit-identical to the CPU backend;
//! part of the parameters of `load_batch` and `corrupt`.

use super::kernel::wgsl_struct;
use crate::backend::Noise;
use crate::rng::{RngKey, drop_threshold};

/// The kinds of noise by their codes in shaders/noise.wgsl (`NOISE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NoiseKind {
    None,
    Mask,
    Gauss,
    SaltPepper,
}

/// Every kind; the code the kernels get is the discriminant, `kind as u32`.
pub(super) const KINDS: [NoiseKind; 4] =
    [NoiseKind::None, NoiseKind::Mask, NoiseKind::Gauss, NoiseKind::SaltPepper];

impl NoiseKind {
    /// The WGSL constant of the kind's code (shaders/noise.wgsl).
    pub(super) fn constant(self) -> &'static str {
        match self {
            NoiseKind::None => "NOISE_NONE",
            NoiseKind::Mask => "NOISE_MASK",
            NoiseKind::Gauss => "NOISE_GAUSS",
            NoiseKind::SaltPepper => "NOISE_SALT_PEPPER",
        }
    }
}

wgsl_struct! {
    /// `NoiseParams` of shaders/noise.wgsl.
    pub(super) struct NoiseParams {
        /// A `NoiseKind` code.
        kind: u32,
        /// Masking and salt-and-pepper noise: `rng::drop_threshold(p)`; Gaussian: σ's bits.
        threshold: u32,
        /// The draw's `RngKey`.
        k0: u32,
        k1: u32,
    }
}

impl NoiseParams {
    /// `noise` drawn under `key`.
    pub(super) fn new(noise: Noise, key: RngKey) -> Self {
        let (kind, threshold) = match noise {
            Noise::None => (NoiseKind::None, 0),
            Noise::Mask { p } => (NoiseKind::Mask, drop_threshold(p)),
            Noise::Gauss { sigma } => (NoiseKind::Gauss, sigma.to_bits()),
            Noise::SaltPepper { p } => (NoiseKind::SaltPepper, drop_threshold(p)),
        };
        NoiseParams { kind: kind as u32, threshold, k0: key.k0, k1: key.k1 }
    }
}
