//! The corruption of `load_batch` as the GPU kernels receive it: a `Noise` and its key encoded
//! as shaders/noise.wgsl's `NoiseParams`, whose `corrupt` draws from shaders/rng.wgsl,
//! bit-identical to the CPU backend.

use crate::backend::Noise;
use crate::rng::{RngKey, drop_threshold};

/// `NoiseParams { kind, threshold, k0, k1 }` for `noise` drawn under `key`; kind is
/// NOISE_NONE = 0 or NOISE_MASK = 1 (shaders/noise.wgsl).
pub(super) fn noise_params(noise: Noise, key: RngKey) -> [u32; 4] {
    let (kind, threshold) = match noise {
        Noise::None => (0, 0),
        Noise::Mask { p } => (1, drop_threshold(p)),
    };
    [kind, threshold, key.k0, key.k1]
}
