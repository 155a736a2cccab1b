//! `ops::ColSqNorms` (shaders/col_sq_norms.wgsl): the squared column norms of W for the
//! contractive penalty.

use std::marker::PhantomData;

use super::kernel::{AnyKernel, Kernel, Module, SUMS, read, shader_file, wgsl_struct, write};
use super::{Gpu, GpuTensor, u32_of};
use crate::backend::Run;
use crate::backend::ops::ColSqNorms;

wgsl_struct! {
    /// `Params` of shaders/col_sq_norms.wgsl.
    pub(super) struct ColSqNormsParams {
        rows: u32,
        cols: u32,
    }
}

/// shaders/col_sq_norms.wgsl on sums.wgsl.
const MODULE: Module = Module(&[SUMS, shader_file!("col_sq_norms.wgsl")]);

const COL_SQ_NORMS: Kernel<ColSqNormsParams> = Kernel {
    op: "col_sq_norms",
    module: MODULE,
    entry: "col_sq_norms",
    bindings: &[write(1, "out"), read(2, "a")],
    overrides: &[],
    params: PhantomData,
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&COL_SQ_NORMS];

impl Run<ColSqNorms<'_, GpuTensor>> for Gpu {
    /// One dispatch, 64 columns per workgroup.
    fn run(&self, op: ColSqNorms<'_, GpuTensor>) {
        let ColSqNorms { out, a, rows, cols } = op;
        assert!(out.len >= cols, "col_sq_norms: out holds {}, cols = {cols}", out.len);
        assert!(a.len >= rows * cols, "col_sq_norms: a holds {}, [{rows}, {cols}] needed", a.len);
        if cols == 0 {
            return;
        }
        u32_of(rows * cols, "col_sq_norms elements");
        let params = ColSqNormsParams { rows: rows as u32, cols: cols as u32 };
        let groups = [cols.div_ceil(64) as u32, 1, 1];
        let mut st = self.lock();
        self.dispatch(&mut st, (&COL_SQ_NORMS, &[]), &params, &[&out.buf, &a.buf], groups);
        st.note_bytes(4 * (rows * cols + cols));
    }
}
