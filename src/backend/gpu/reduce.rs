//! `col_sum` (shaders/reduce.wgsl): deterministic column sums, the bias gradient and its fused
//! SGD update.

use super::{Gpu, GpuTensor, u32_of};
use crate::backend::gpu::kernels::Kernel;

impl Gpu {
    /// out[j] = α·Σ_i a[i, j] + β·out[j]; a: [rows, cols], out: [cols]. One dispatch.
    pub(super) fn record_col_sum(
        &self,
        out: &mut GpuTensor,
        a: &GpuTensor,
        rows: usize,
        cols: usize,
        alpha: f32,
        beta: f32,
    ) {
        assert!(out.len >= cols, "col_sum: out holds {}, cols = {cols}", out.len);
        assert!(a.len >= rows * cols, "col_sum: a holds {}, [{rows}, {cols}] needed", a.len);
        if cols == 0 {
            return;
        }
        u32_of(rows * cols, "col_sum elements");
        let params = [rows as u32, cols as u32, alpha.to_bits(), beta.to_bits()];
        let groups = [cols.div_ceil(64) as u32, 1, 1];
        let mut st = self.lock();
        self.dispatch(&mut st, Kernel::ColSum, &[&out.buf, &a.buf], &params, groups);
    }
}
