//! The contractive penalty's ops (shaders/jacobian.wgsl): squared column norms, the penalty's
//! value and gradient terms, and the column scaling of W along the norm path.

use std::sync::Arc;

use super::{Buf, Gpu, GpuTensor, grid_1d, u32_of};
use crate::backend::gpu::kernels::Kernel;

impl Gpu {
    /// out[j] = Σᵢ a[i, j]²; a: [rows, cols], out: [cols]. One dispatch.
    pub(super) fn record_col_sq_norms(
        &self,
        out: &mut GpuTensor,
        a: &GpuTensor,
        rows: usize,
        cols: usize,
    ) {
        assert!(out.len >= cols, "col_sq_norms: out holds {}, cols = {cols}", out.len);
        assert!(a.len >= rows * cols, "col_sq_norms: a holds {}, [{rows}, {cols}] needed", a.len);
        if cols == 0 {
            return;
        }
        u32_of(rows * cols, "col_sq_norms elements");
        let params = [rows as u32, cols as u32, 0, 0, 0];
        let groups = [cols.div_ceil(64) as u32, 1, 1];
        let d = &self.dummy;
        let mut st = self.lock();
        self.dispatch(
            &mut st,
            Kernel::ColSqNorms,
            &[&out.buf, d, d, d, &a.buf, &a.buf],
            &params,
            groups,
        );
    }

    /// See `Backend::contractive`. Two dispatches: one over columns (dh, col_grad and the
    /// per-column terms of the Jacobian norm), one workgroup summing those terms.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record_contractive(
        &self,
        dh: &mut GpuTensor,
        col_grad: &mut GpuTensor,
        jac_sq: &mut GpuTensor,
        slot: usize,
        h: &GpuTensor,
        col_norms: &GpuTensor,
        rows: usize,
        cols: usize,
        lambda: f32,
        scale: f32,
    ) {
        let len = rows * cols;
        assert!(
            dh.len >= len && h.len >= len && col_grad.len >= cols && col_norms.len >= cols,
            "contractive: [{rows}, {cols}] but dh holds {}, h {}, col_grad {}, col_norms {}",
            dh.len,
            h.len,
            col_grad.len,
            col_norms.len
        );
        assert!(slot < jac_sq.len, "contractive: slot {slot} of a vector of {}", jac_sq.len);
        if cols == 0 {
            return;
        }
        u32_of(len, "contractive elements");
        let alpha = 2.0 * lambda * scale;
        let params = [rows as u32, cols as u32, alpha.to_bits(), scale.to_bits(), slot as u32];
        let mut st = self.lock();
        if st.partials.as_ref().is_none_or(|p| p.raw.size() < (cols * 4) as u64) {
            let bytes = cols.next_power_of_two().max(4) * 4;
            st.partials = Some(Arc::new(self.buffer("partials", bytes, None)));
        }
        // Cloned out of the state so that `st` can be borrowed by `dispatch`.
        let scratch = st.partials.clone().expect("allocated above");
        let partials: &Buf = &scratch;
        let bufs = [&dh.buf, &col_grad.buf, partials, &jac_sq.buf, &h.buf, &col_norms.buf];
        let groups = [cols.div_ceil(64) as u32, 1, 1];
        self.dispatch(&mut st, Kernel::ContractiveCols, &bufs, &params, groups);
        self.dispatch(&mut st, Kernel::ContractiveFinish, &bufs, &params, [1, 1, 1]);
    }

    /// a[i, j] += α·f[j]·a[i, j]; a: [rows, cols], f: [cols]. One dispatch.
    pub(super) fn record_scale_cols(
        &self,
        a: &mut GpuTensor,
        f: &GpuTensor,
        rows: usize,
        cols: usize,
        alpha: f32,
    ) {
        let len = rows * cols;
        assert!(
            a.len >= len && f.len >= cols,
            "scale_cols: [{rows}, {cols}] but a holds {}, f {}",
            a.len,
            f.len
        );
        if len == 0 {
            return;
        }
        let params = [rows as u32, cols as u32, alpha.to_bits(), 0, 0];
        u32_of(len, "scale_cols elements");
        let d = &self.dummy;
        let mut st = self.lock();
        self.dispatch(
            &mut st,
            Kernel::ScaleCols,
            &[&a.buf, d, d, d, &f.buf, &f.buf],
            &params,
            grid_1d(len),
        );
    }
}
