//! `load_batch` (shaders/batch.wgsl): a batch of the device-resident u8 image set, by offset.

use super::{Gpu, GpuImages, GpuTensor, grid_1d, u32_of};
use crate::backend::gpu::kernels::Kernel;

impl Gpu {
    /// x: [rows, dim] = images[first .. first + rows] / 255; one dispatch, no upload.
    pub(super) fn record_load_batch(
        &self,
        x: &mut GpuTensor,
        images: &GpuImages,
        first: usize,
        rows: usize,
    ) {
        let dim = images.dim;
        assert!(
            first + rows <= images.n,
            "load_batch: rows {first}..{} of an image set of {}",
            first + rows,
            images.n
        );
        let len = rows * dim;
        assert!(x.len >= len, "load_batch: x holds {} elements, the batch {len}", x.len);
        if len == 0 {
            return;
        }
        let params = [u32_of(first * dim, "first pixel"), u32_of(len, "batch elements")];
        let mut st = self.lock();
        self.dispatch(&mut st, Kernel::LoadBatch, &[&x.buf, &images.buf], &params, grid_1d(len));
    }
}
