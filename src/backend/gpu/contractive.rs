//! `ops::Contractive` (shaders/contractive.wgsl): the contractive penalty's value and gradient
//! terms, a pass over columns and a finish that sums the Jacobian norm.

use std::marker::PhantomData;

use super::kernel::{AnyKernel, Kernel, Module, SUMS, read, shader_file, wgsl_struct, write};
use super::{Gpu, GpuTensor, u32_of};
use crate::backend::Run;
use crate::backend::ops::Contractive;

wgsl_struct! {
    /// `Params` of shaders/contractive.wgsl.
    pub(super) struct ContractiveParams {
        rows: u32,
        cols: u32,
        /// 2λ·scale.
        alpha: f32,
        scale: f32,
        slot: u32,
    }
}

/// shaders/contractive.wgsl on sums.wgsl.
const MODULE: Module = Module(&[SUMS, shader_file!("contractive.wgsl")]);

const CONTRACTIVE: Kernel<ContractiveParams> = Kernel {
    op: "contractive",
    module: MODULE,
    entry: "contractive",
    bindings: &[
        write(1, "dh"),
        write(2, "col_grad"),
        write(3, "partials"),
        read(5, "h"),
        read(6, "norms"),
    ],
    overrides: &[],
    params: PhantomData,
};

const CONTRACTIVE_FINISH: Kernel<ContractiveParams> = Kernel {
    entry: "contractive_finish",
    bindings: &[write(3, "partials"), write(4, "jac_sq")],
    ..CONTRACTIVE
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&CONTRACTIVE, &CONTRACTIVE_FINISH];

impl Run<Contractive<'_, GpuTensor>> for Gpu {
    /// Two dispatches: one over columns (dh, col_grad and the per-column terms of the Jacobian
    /// norm), one workgroup summing those terms.
    fn run(&self, op: Contractive<'_, GpuTensor>) {
        let Contractive { dh, col_grad, jac_sq, slot, h, col_norms, rows, cols, lambda, scale } =
            op;
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
        let params = ContractiveParams {
            rows: rows as u32,
            cols: cols as u32,
            alpha: 2.0 * lambda * scale,
            scale,
            slot: slot as u32,
        };
        let mut st = self.lock();
        let first = st.log_len();
        let partials = self.partials(&mut st, cols);
        let bufs = [&dh.buf, &col_grad.buf, &*partials, &h.buf, &col_norms.buf];
        let groups = [cols.div_ceil(64) as u32, 1, 1];
        self.dispatch(&mut st, (&CONTRACTIVE, &[]), &params, &bufs, groups);
        let bufs = [&*partials, &jac_sq.buf];
        self.dispatch(&mut st, (&CONTRACTIVE_FINISH, &[]), &params, &bufs, [1, 1, 1]);
        // h read, dh read and written, the column norms read and col_grad written.
        st.note_work(first, 0, 4 * (3 * rows * cols + 2 * cols) as u64);
    }
}
