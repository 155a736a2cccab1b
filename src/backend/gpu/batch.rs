//! `load_batch` (shaders/batch.wgsl + shaders/noise.wgsl + shaders/rng.wgsl): a batch of the
//! device-resident u8 image set, by offset, and its corrupted copy in the same dispatch.

use super::noise::noise_params;
use super::{Gpu, GpuImages, GpuTensor, grid_1d, u32_of};
use crate::backend::Noise;
use crate::backend::gpu::kernels::Kernel;
use crate::rng::RngKey;

impl Gpu {
    /// x: [rows, dim] = images[first .. first + rows] / 255 and x̃ = noise(x) under `key`; one
    /// dispatch, no upload.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record_load_batch(
        &self,
        x: &mut GpuTensor,
        x_tilde: &mut GpuTensor,
        images: &GpuImages,
        first: usize,
        rows: usize,
        noise: Noise,
        key: RngKey,
    ) {
        let dim = images.dim;
        assert!(
            first + rows <= images.n,
            "load_batch: rows {first}..{} of an image set of {}",
            first + rows,
            images.n
        );
        let len = rows * dim;
        assert!(
            x.len >= len && x_tilde.len >= len,
            "load_batch: the batch has {len} elements, x holds {}, x̃ {}",
            x.len,
            x_tilde.len
        );
        if len == 0 {
            return;
        }
        let [kind, threshold, k0, k1] = noise_params(noise, key);
        let params = [
            kind,
            threshold,
            k0,
            k1,
            u32_of(first * dim, "first pixel"),
            u32_of(len, "batch elements"),
        ];
        let bufs = [&x.buf, &x_tilde.buf, &images.buf];
        let mut st = self.lock();
        self.dispatch(&mut st, Kernel::LoadBatch, &bufs, &params, grid_1d(len));
    }
}
