//! `ops::CountPositive` (shaders/count_positive.wgsl): the count of units on, exact, over as
//! many workgroups as the elements fill; finished late (gpu/log_finish.rs).

use std::marker::PhantomData;

use super::gemm::count;
use super::kernel::{
    AnyKernel, Kernel, LOG_RECORDS, Module, SUMS, read, shader_file, wgsl_struct, write,
};
use super::{Gpu, GpuTensor, grid_1d, u32_of};
use crate::backend::Run;
use crate::backend::ops::CountPositive;

wgsl_struct! {
    /// `Params` of shaders/count_positive.wgsl.
    pub(super) struct CountPositiveParams {
        len: u32,
        scale: f32,
        /// The step's record in the log's records: its first word.
        record: u32,
    }
}

/// shaders/count_positive.wgsl on sums.wgsl and log_records.wgsl.
const MODULE: Module = Module(&[SUMS, LOG_RECORDS, shader_file!("count_positive.wgsl")]);

const COUNT_POSITIVE: Kernel<CountPositiveParams> = Kernel {
    op: "count_positive",
    module: MODULE,
    entry: "count_positive",
    bindings: &[write(1, "records"), read(2, "a")],
    overrides: &[],
    params: PhantomData,
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&COUNT_POSITIVE];

impl Run<CountPositive<'_, GpuTensor>> for Gpu {
    /// One dispatch, four elements a thread; the count's finish comes at the log's readback.
    fn run(&self, op: CountPositive<'_, GpuTensor>) {
        let CountPositive { out, slot, a, len, scale } = op;
        assert!(a.len >= len, "count_positive: a holds {}, len = {len}", a.len);
        assert!(slot < out.len, "count_positive: slot {slot} of a vector of {}", out.len);
        let len32 = u32_of(len, "count_positive elements");
        let groups = grid_1d(len.div_ceil(4));
        let mut st = self.lock();
        let (records, record) = self.deferred_records(&mut st, out, slot, count(groups));
        let params = CountPositiveParams { len: len32, scale, record };
        self.dispatch(&mut st, (&COUNT_POSITIVE, &[]), &params, &[&*records, &a.buf], groups);
        st.note_bytes(4 * len);
    }
}
