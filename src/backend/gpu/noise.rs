//! Corruption as the GPU kernels receive it: a `Noise` and its key encoded as
//! shaders/noise.wgsl's `NoiseParams`, whose `corrupt` draws from shaders/rng.wgsl,
//! bit-identical to the CPU backend; used by `load_batch` and by `corrupt` (shaders/corrupt.wgsl),
//! the corruption of a tensor.

use super::{Gpu, GpuTensor, grid_1d, u32_of};
use crate::backend::Noise;
use crate::backend::gpu::kernels::Kernel;
use crate::rng::{RngKey, drop_threshold};

/// `NoiseParams { kind, threshold, k0, k1 }` for `noise` drawn under `key`; kind is
/// NOISE_NONE = 0, NOISE_MASK = 1, NOISE_GAUSS = 2 (whose `threshold` word holds σ's bits) or
/// NOISE_SALT_PEPPER = 3 (shaders/noise.wgsl); masking and salt-and-pepper noise carry
/// `rng::drop_threshold(p)`.
pub(super) fn noise_params(noise: Noise, key: RngKey) -> [u32; 4] {
    let (kind, threshold) = match noise {
        Noise::None => (0, 0),
        Noise::Mask { p } => (1, drop_threshold(p)),
        Noise::Gauss { sigma } => (2, sigma.to_bits()),
        Noise::SaltPepper { p } => (3, drop_threshold(p)),
    };
    [kind, threshold, key.k0, key.k1]
}

impl Gpu {
    /// x̃[i] = noise(x[i]) under `key` for i < len; one dispatch.
    pub(super) fn record_corrupt(
        &self,
        x_tilde: &mut GpuTensor,
        x: &GpuTensor,
        len: usize,
        noise: Noise,
        key: RngKey,
    ) {
        assert!(
            x.len >= len && x_tilde.len >= len,
            "corrupt: {len} elements, but x holds {}, x̃ {}",
            x.len,
            x_tilde.len
        );
        if len == 0 {
            return;
        }
        let [kind, threshold, k0, k1] = noise_params(noise, key);
        let params = [kind, threshold, k0, k1, u32_of(len, "corrupt elements")];
        let mut st = self.lock();
        self.dispatch(
            &mut st,
            Kernel::CorruptTensor,
            &[&x_tilde.buf, &x.buf],
            &params,
            grid_1d(len),
        );
    }
}
