//! `ops::XentLogits` (shaders/xent_logits.wgsl): cross-entropy from logits with its gradient in
//! one dispatch over as many workgroups as the elements fill; the cost finished late
//! (gpu/log_finish.rs).

use std::marker::PhantomData;

use super::gemm::count;
use super::kernel::{
    AnyKernel, Kernel, LOG_RECORDS, MATH, Module, SUMS, read, shader_file, wgsl_struct, write,
};
use super::{Gpu, GpuTensor, grid_1d, u32_of};
use crate::backend::Run;
use crate::backend::ops::XentLogits;

wgsl_struct! {
    /// `Params` of shaders/xent_logits.wgsl.
    pub(super) struct XentLogitsParams {
        len: u32,
        scale: f32,
        /// The step's record in the cost log's records: its first word.
        record: u32,
    }
}

/// shaders/xent_logits.wgsl on math.wgsl, sums.wgsl and log_records.wgsl.
const MODULE: Module = Module(&[MATH, SUMS, LOG_RECORDS, shader_file!("xent_logits.wgsl")]);

const XENT_LOGITS: Kernel<XentLogitsParams> = Kernel {
    op: "xent_logits",
    module: MODULE,
    entry: "xent_logits",
    bindings: &[write(1, "grad"), write(2, "records"), read(3, "inputs"), read(4, "targets")],
    overrides: &[],
    params: PhantomData,
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&XENT_LOGITS];

impl Run<XentLogits<'_, GpuTensor>> for Gpu {
    /// One dispatch, four elements a thread; the cost's finish comes at the log's readback.
    fn run(&self, op: XentLogits<'_, GpuTensor>) {
        let XentLogits { grad, costs, slot, logits, target, rows, cols, scale } = op;
        let len = rows * cols;
        assert!(
            grad.len >= len && logits.len >= len && target.len >= len,
            "xent_logits: [{rows}, {cols}] but grad holds {}, logits {}, target {}",
            grad.len,
            logits.len,
            target.len
        );
        assert!(slot < costs.len, "xent_logits: slot {slot} of a cost vector of {}", costs.len);
        let len32 = u32_of(len, "xent_logits elements");
        let groups = grid_1d(len.div_ceil(4));
        let mut st = self.lock();
        let (records, record) = self.deferred_records(&mut st, costs, slot, count(groups));
        let params = XentLogitsParams { len: len32, scale, record };
        let bufs = [&grad.buf, &*records, &logits.buf, &target.buf];
        self.dispatch(&mut st, (&XENT_LOGITS, &[]), &params, &bufs, groups);
        // The logits and targets read, the gradient written.
        st.note_bytes(12 * len);
    }
}
