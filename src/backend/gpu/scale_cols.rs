//! `ops::ScaleCols` (shaders/scale_cols.wgsl): W scaled column by column along the contractive
//! penalty's column-norm path.

use std::marker::PhantomData;

use super::kernel::{AnyKernel, Kernel, Module, read, shader_file, wgsl_struct, write};
use super::{Gpu, GpuTensor, grid_1d, u32_of};
use crate::backend::Run;
use crate::backend::ops::ScaleCols;

wgsl_struct! {
    /// `Params` of shaders/scale_cols.wgsl.
    pub(super) struct ScaleColsParams {
        rows: u32,
        cols: u32,
        alpha: f32,
    }
}

/// shaders/scale_cols.wgsl.
const MODULE: Module = Module(&[shader_file!("scale_cols.wgsl")]);

const SCALE_COLS: Kernel<ScaleColsParams> = Kernel {
    op: "scale_cols",
    module: MODULE,
    entry: "scale_cols",
    bindings: &[write(1, "a"), read(2, "f")],
    overrides: &[],
    params: PhantomData,
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&SCALE_COLS];

impl Run<ScaleCols<'_, GpuTensor>> for Gpu {
    /// One dispatch, an element per invocation.
    fn run(&self, op: ScaleCols<'_, GpuTensor>) {
        let ScaleCols { a, f, rows, cols, alpha } = op;
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
        u32_of(len, "scale_cols elements");
        let params = ScaleColsParams { rows: rows as u32, cols: cols as u32, alpha };
        let mut st = self.lock();
        self.dispatch(&mut st, (&SCALE_COLS, &[]), &params, &[&a.buf, &f.buf], grid_1d(len));
        st.note_bytes(4 * (2 * len + cols));
    }
}
