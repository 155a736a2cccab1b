//! `affine` (shaders/elementwise.wgsl): x = x·mul + add in place.

use super::{Gpu, GpuTensor, grid_1d, u32_of};
use crate::backend::gpu::kernels::Kernel;

impl Gpu {
    /// x[i] = x[i]·mul + add for i < len. One dispatch.
    pub(super) fn record_affine(&self, x: &mut GpuTensor, len: usize, mul: f32, add: f32) {
        assert!(x.len >= len, "affine: x holds {}, len = {len}", x.len);
        if len == 0 {
            return;
        }
        let params = [u32_of(len, "affine elements"), mul.to_bits(), add.to_bits()];
        let mut st = self.lock();
        self.dispatch(&mut st, Kernel::Affine, &[&x.buf], &params, grid_1d(len));
    }
}
