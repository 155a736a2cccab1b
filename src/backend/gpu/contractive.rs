//! `ops::Contractive` (shaders/contractive.wgsl): the contractive penalty's column norms, value
//! and gradient terms and the step of W along its column-norm path, one dispatch; the
//! Jacobian norm finished late (gpu/log_finish.rs).

use std::marker::PhantomData;

use super::kernel::{
    AnyKernel, Kernel, LOG_RECORDS, Module, read, shader_file, wgsl_struct, write,
};
use super::{Gpu, GpuTensor, u32_of};
use crate::backend::Run;
use crate::backend::ops::Contractive;

wgsl_struct! {
    /// `Params` of shaders/contractive.wgsl.
    pub(super) struct ContractiveParams {
        rows: u32,
        cols: u32,
        n_vis: u32,
        /// 2λ·scale.
        alpha: f32,
        scale: f32,
        /// −lr.
        step: f32,
        /// The step's record in the Jacobian log's records: its first word.
        record: u32,
    }
}

/// shaders/contractive.wgsl on log_records.wgsl.
const MODULE: Module = Module(&[LOG_RECORDS, shader_file!("contractive.wgsl")]);

const CONTRACTIVE: Kernel<ContractiveParams> = Kernel {
    op: "contractive",
    module: MODULE,
    entry: "contractive",
    bindings: &[
        write(1, "dh"),
        write(2, "w"),
        write(3, "col_norms"),
        write(4, "col_grad"),
        write(5, "records"),
        read(6, "h"),
    ],
    overrides: &[],
    params: PhantomData,
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&CONTRACTIVE];

/// Columns a workgroup of shaders/contractive.wgsl owns.
const COLS_PER_GROUP: usize = 16;

impl Run<Contractive<'_, GpuTensor>> for Gpu {
    /// One dispatch, 16 columns a workgroup; the Jacobian norm's finish comes at the log's
    /// readback.
    fn run(&self, op: Contractive<'_, GpuTensor>) {
        let Contractive {
            dh,
            w,
            col_norms,
            col_grad,
            jac_sq,
            slot,
            h,
            n_vis,
            rows,
            cols,
            lambda,
            scale,
            lr,
        } = op;
        let len = rows * cols;
        assert!(
            dh.len >= len && h.len >= len && w.len >= n_vis * cols,
            "contractive: h [{rows}, {cols}], W [{n_vis}, {cols}] but dh holds {}, h {}, W {}",
            dh.len,
            h.len,
            w.len
        );
        assert!(
            col_grad.len >= cols && col_norms.len >= cols,
            "contractive: {cols} columns but col_grad holds {}, col_norms {}",
            col_grad.len,
            col_norms.len
        );
        assert!(slot < jac_sq.len, "contractive: slot {slot} of a vector of {}", jac_sq.len);
        if cols == 0 {
            return;
        }
        u32_of(len.max(n_vis * cols), "contractive elements");
        let groups = cols.div_ceil(COLS_PER_GROUP);
        let mut st = self.lock();
        let (records, record) = self.deferred_records(&mut st, jac_sq, slot, groups);
        let params = ContractiveParams {
            rows: rows as u32,
            cols: cols as u32,
            n_vis: n_vis as u32,
            alpha: 2.0 * lambda * scale,
            scale,
            step: -lr,
            record,
        };
        let bufs = [&dh.buf, &w.buf, &col_norms.buf, &col_grad.buf, &*records, &h.buf];
        let grid = [u32_of(groups, "contractive workgroups"), 1, 1];
        self.dispatch(&mut st, (&CONTRACTIVE, &[]), &params, &bufs, grid);
        // W read twice and written, h read, dh read and written, c and col_grad written.
        st.note_bytes(4 * (3 * n_vis * cols + 3 * rows * cols + 2 * cols));
    }
}
