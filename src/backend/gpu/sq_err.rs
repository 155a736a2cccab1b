//! `ops::SqErr` (shaders/sq_err.wgsl): squared error with its gradient in one dispatch over
//! as many workgroups as the elements fill; the cost finished late (gpu/log_finish.rs).

use std::marker::PhantomData;

use super::gemm::count;
use super::kernel::{
    ACTIVATION, AnyKernel, Kernel, LOG_RECORDS, MATH, Module, SUMS, read, shader_file, wgsl_struct,
    write,
};
use super::{Gpu, GpuTensor, grid_1d, u32_of};
use crate::backend::Run;
use crate::backend::ops::SqErr;

wgsl_struct! {
    /// `Params` of shaders/sq_err.wgsl.
    pub(super) struct SqErrParams {
        len: u32,
        scale: f32,
        /// `Activation` code of the decoder's output.
        out_act: u32,
        /// The step's record in the cost log's records: its first word.
        record: u32,
    }
}

/// shaders/sq_err.wgsl on math.wgsl, activation.wgsl, sums.wgsl and log_records.wgsl.
const MODULE: Module = Module(&[MATH, ACTIVATION, SUMS, LOG_RECORDS, shader_file!("sq_err.wgsl")]);

const SQ_ERR: Kernel<SqErrParams> = Kernel {
    op: "sq_err",
    module: MODULE,
    entry: "sq_err",
    bindings: &[write(1, "grad"), write(2, "records"), read(3, "inputs"), read(4, "targets")],
    overrides: &[],
    params: PhantomData,
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&SQ_ERR];

impl Run<SqErr<'_, GpuTensor>> for Gpu {
    /// One dispatch, four elements a thread; the cost's finish comes at the log's readback.
    fn run(&self, op: SqErr<'_, GpuTensor>) {
        let SqErr { grad, costs, slot, y, target, rows, cols, scale, out } = op;
        let len = rows * cols;
        assert!(
            grad.len >= len && y.len >= len && target.len >= len,
            "sq_err: [{rows}, {cols}] but grad holds {}, y {}, target {}",
            grad.len,
            y.len,
            target.len
        );
        assert!(slot < costs.len, "sq_err: slot {slot} of a cost vector of {}", costs.len);
        let len32 = u32_of(len, "sq_err elements");
        let groups = grid_1d(len.div_ceil(4));
        let mut st = self.lock();
        let (records, record) = self.deferred_records(&mut st, costs, slot, count(groups));
        let params = SqErrParams { len: len32, scale, out_act: out as u32, record };
        let bufs = [&grad.buf, &*records, &y.buf, &target.buf];
        self.dispatch(&mut st, (&SQ_ERR, &[]), &params, &bufs, groups);
        // y and x read, the gradient written.
        st.note_bytes(12 * len);
    }
}
