//! `ops::Affine` (shaders/affine.wgsl): x = x·mul + add in place.

use std::marker::PhantomData;

use super::kernel::{AnyKernel, Kernel, Module, shader_file, wgsl_struct, write};
use super::{Gpu, GpuTensor, grid_1d, u32_of};
use crate::backend::Run;
use crate::backend::ops::Affine;

wgsl_struct! {
    /// `Params` of shaders/affine.wgsl.
    pub(super) struct AffineParams {
        len: u32,
        mul: f32,
        add: f32,
    }
}

/// shaders/affine.wgsl.
const MODULE: Module = Module(&[shader_file!("affine.wgsl")]);

const AFFINE: Kernel<AffineParams> = Kernel {
    op: "affine",
    module: MODULE,
    entry: "affine",
    bindings: &[write(1, "x")],
    overrides: &[],
    params: PhantomData,
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&AFFINE];

impl Run<Affine<'_, GpuTensor>> for Gpu {
    /// One dispatch, an element per invocation.
    fn run(&self, op: Affine<'_, GpuTensor>) {
        let Affine { x, len, mul, add } = op;
        assert!(x.len >= len, "affine: x holds {}, len = {len}", x.len);
        if len == 0 {
            return;
        }
        let params = AffineParams { len: u32_of(len, "affine elements"), mul, add };
        let mut st = self.lock();
        self.dispatch(&mut st, (&AFFINE, &[]), &params, &[&x.buf], grid_1d(len));
        st.note_bytes(8 * len);
    }
}
