//! `ops::CountPositive` (shaders/count_positive.wgsl): the count of units on, exact, in one
//! workgroup.

use std::marker::PhantomData;

use super::kernel::{AnyKernel, Kernel, Module, SUMS, read, shader_file, wgsl_struct, write};
use super::{Gpu, GpuTensor, u32_of};
use crate::backend::Run;
use crate::backend::ops::CountPositive;

wgsl_struct! {
    /// `Params` of shaders/count_positive.wgsl.
    pub(super) struct CountPositiveParams {
        len: u32,
        slot: u32,
        scale: f32,
    }
}

/// shaders/count_positive.wgsl on sums.wgsl.
const MODULE: Module = Module(&[SUMS, shader_file!("count_positive.wgsl")]);

const COUNT_POSITIVE: Kernel<CountPositiveParams> = Kernel {
    op: "count_positive",
    module: MODULE,
    entry: "count_positive",
    bindings: &[write(1, "out"), read(2, "a")],
    overrides: &[],
    params: PhantomData,
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&COUNT_POSITIVE];

impl Run<CountPositive<'_, GpuTensor>> for Gpu {
    /// One dispatch of one workgroup.
    fn run(&self, op: CountPositive<'_, GpuTensor>) {
        let CountPositive { out, slot, a, len, scale } = op;
        assert!(a.len >= len, "count_positive: a holds {}, len = {len}", a.len);
        assert!(slot < out.len, "count_positive: slot {slot} of a vector of {}", out.len);
        let params = CountPositiveParams {
            len: u32_of(len, "count_positive elements"),
            slot: slot as u32,
            scale,
        };
        let mut st = self.lock();
        self.dispatch(&mut st, (&COUNT_POSITIVE, &[]), &params, &[&out.buf, &a.buf], [1, 1, 1]);
        st.note_bytes(4 * len);
    }
}
