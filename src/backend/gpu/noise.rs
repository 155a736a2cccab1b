//! `corrupt` (shaders/noise.wgsl + shaders/rng.wgsl): corruption drawn from the counter-based
//! RNG, bit-identical to the CPU backend.

use super::{Gpu, GpuTensor, grid_1d, u32_of};
use crate::backend::Noise;
use crate::backend::gpu::kernels::Kernel;
use crate::rng::{RngKey, drop_threshold};

impl Gpu {
    /// out = corrupt(x) element-wise under `key`; out, x: [len]. One dispatch.
    pub(super) fn record_corrupt(
        &self,
        out: &mut GpuTensor,
        x: &GpuTensor,
        len: usize,
        noise: Noise,
        key: RngKey,
    ) {
        assert!(
            out.len >= len && x.len >= len,
            "corrupt: len {len}, out holds {}, x {}",
            out.len,
            x.len
        );
        if len == 0 {
            return;
        }
        // Threshold 0 keeps every element: Noise::None is a copy.
        let threshold = match noise {
            Noise::None => 0,
            Noise::Mask { p } => drop_threshold(p),
        };
        let params = [u32_of(len, "corrupt len"), threshold, key.k0, key.k1];
        let mut st = self.lock();
        self.dispatch(&mut st, Kernel::Corrupt, &[&out.buf, &x.buf], &params, grid_1d(len));
    }
}
