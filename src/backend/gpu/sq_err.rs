//! `ops::SqErr` (shaders/sq_err.wgsl on shaders/loss_elements.wgsl): squared error with its
//! gradient in one dispatch over as many workgroups as the elements fill; the cost finished
//! late (gpu/log_finish.rs).

use std::marker::PhantomData;

use super::kernel::{
    ACTIVATION, AnyKernel, Kernel, LOG_RECORDS, LOSS_ELEMENTS, MATH, Module, SUMS, shader_file,
};
use super::loss_elements::{BINDINGS, LossParams};
use super::{Gpu, GpuTensor};
use crate::backend::Run;
use crate::backend::ops::SqErr;

/// shaders/sq_err.wgsl on math.wgsl, activation.wgsl, sums.wgsl, log_records.wgsl and
/// loss_elements.wgsl.
const MODULE: Module =
    Module(&[MATH, ACTIVATION, SUMS, LOG_RECORDS, LOSS_ELEMENTS, shader_file!("sq_err.wgsl")]);

const SQ_ERR: Kernel<LossParams> = Kernel {
    op: "sq_err",
    module: MODULE,
    entry: "sq_err",
    bindings: &BINDINGS,
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
        self.run_loss(&SQ_ERR, [grad, costs, y, target], (len, slot, scale, out as u32));
    }
}
