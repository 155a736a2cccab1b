//! `ops::ColSum` (shaders/col_sum.wgsl): deterministic column sums, the bias gradient and its
//! fused SGD update.

use std::marker::PhantomData;

use super::kernel::{AnyKernel, Kernel, Module, SUMS, read, shader_file, wgsl_struct, write};
use super::{Gpu, GpuTensor, u32_of};
use crate::backend::Run;
use crate::backend::ops::ColSum;

wgsl_struct! {
    /// `Params` of shaders/col_sum.wgsl.
    pub(super) struct ColSumParams {
        rows: u32,
        cols: u32,
        alpha: f32,
        beta: f32,
    }
}

/// shaders/col_sum.wgsl on sums.wgsl.
const MODULE: Module = Module(&[SUMS, shader_file!("col_sum.wgsl")]);

const COL_SUM: Kernel<ColSumParams> = Kernel {
    op: "col_sum",
    module: MODULE,
    entry: "col_sum",
    bindings: &[write(1, "out"), read(2, "a")],
    overrides: &[],
    params: PhantomData,
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&COL_SUM];

impl Run<ColSum<'_, GpuTensor>> for Gpu {
    /// One dispatch, 64 columns per workgroup.
    fn run(&self, op: ColSum<'_, GpuTensor>) {
        let ColSum { out, a, rows, cols, alpha, beta } = op;
        assert!(out.len >= cols, "col_sum: out holds {}, cols = {cols}", out.len);
        assert!(a.len >= rows * cols, "col_sum: a holds {}, [{rows}, {cols}] needed", a.len);
        if cols == 0 {
            return;
        }
        u32_of(rows * cols, "col_sum elements");
        let params = ColSumParams { rows: rows as u32, cols: cols as u32, alpha, beta };
        let groups = [cols.div_ceil(64) as u32, 1, 1];
        let mut st = self.lock();
        self.dispatch(&mut st, (&COL_SUM, &[]), &params, &[&out.buf, &a.buf], groups);
        st.note_bytes(4 * (rows * cols + if beta == 0.0 { cols } else { 2 * cols }));
    }
}
