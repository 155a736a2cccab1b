//! `ops::SoftmaxNll` (shaders/softmax_nll.wgsl): softmax negative log-likelihood, its gradient
//! and the error count in one dispatch of a row per thread, labels read by offset from the
//! device-resident label set; the cost and the count finished late (gpu/log_finish.rs).

use std::marker::PhantomData;

use super::gemm::count;
use super::kernel::{
    AnyKernel, Kernel, LOG_RECORDS, MATH, Module, read, shader_file, wgsl_struct, write,
};
use super::{Gpu, GpuLabels, GpuTensor, grid_1d, u32_of};
use crate::backend::Run;
use crate::backend::ops::SoftmaxNll;

wgsl_struct! {
    /// `Params` of shaders/softmax_nll.wgsl.
    pub(super) struct SoftmaxNllParams {
        rows: u32,
        classes: u32,
        /// Index of the first label in the label set.
        first: u32,
        scale: f32,
        /// The step's records: their first words in the cost log's and the error log's.
        record: u32,
        error_record: u32,
    }
}

/// shaders/softmax_nll.wgsl on math.wgsl and log_records.wgsl.
const MODULE: Module = Module(&[MATH, LOG_RECORDS, shader_file!("softmax_nll.wgsl")]);

const SOFTMAX_NLL: Kernel<SoftmaxNllParams> = Kernel {
    op: "softmax_nll",
    module: MODULE,
    entry: "softmax_nll",
    bindings: &[
        write(1, "grad"),
        write(2, "records"),
        write(3, "error_records"),
        read(4, "logits"),
        read(5, "labels"),
    ],
    overrides: &[],
    params: PhantomData,
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&SOFTMAX_NLL];

impl Run<SoftmaxNll<'_, GpuTensor, GpuLabels>> for Gpu {
    /// One dispatch, a row a thread; the two logs' finishes come at their readbacks.
    fn run(&self, op: SoftmaxNll<'_, GpuTensor, GpuLabels>) {
        let SoftmaxNll { grad, costs, errors, slot, logits, labels, first, rows, classes, scale } =
            op;
        let len = rows * classes;
        assert!(
            first + rows <= labels.n,
            "softmax_nll: labels {first}..{} of a set of {}",
            first + rows,
            labels.n
        );
        assert!(
            grad.len >= len && logits.len >= len,
            "softmax_nll: [{rows}, {classes}] but grad holds {}, logits {}",
            grad.len,
            logits.len
        );
        assert!(
            slot < costs.len && slot < errors.len,
            "softmax_nll: slot {slot} of costs [{}], errors [{}]",
            costs.len,
            errors.len
        );
        assert!(classes >= 1 || rows == 0, "softmax_nll: {rows} rows of 0 classes");
        u32_of(len, "softmax_nll elements");
        let groups = grid_1d(rows);
        let mut st = self.lock();
        let (records, record) = self.deferred_records(&mut st, costs, slot, count(groups));
        let (error_records, error_record) =
            self.deferred_records(&mut st, errors, slot, count(groups));
        let params = SoftmaxNllParams {
            rows: u32_of(rows, "softmax_nll rows"),
            classes: u32_of(classes, "softmax_nll classes"),
            first: u32_of(first, "first label"),
            scale,
            record,
            error_record,
        };
        let bufs = [&grad.buf, &*records, &*error_records, &logits.buf, &labels.buf];
        self.dispatch(&mut st, (&SOFTMAX_NLL, &[]), &params, &bufs, groups);
        // The logits read, the gradient written.
        st.note_bytes(8 * len);
    }
}
