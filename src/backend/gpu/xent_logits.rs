//! `ops::XentLogits` (shaders/xent_logits.wgsl on shaders/loss_elements.wgsl): cross-entropy
//! from logits with its gradient in one dispatch over as many workgroups as the elements fill;
//! the cost finished late (gpu/log_finish.rs).

use std::marker::PhantomData;

use super::kernel::{
    AnyKernel, Kernel, LOG_RECORDS, LOSS_ELEMENTS, MATH, Module, SUMS, shader_file,
};
use super::loss_elements::{BINDINGS, LossParams};
use super::{Gpu, GpuTensor};
use crate::backend::Run;
use crate::backend::ops::XentLogits;

/// shaders/xent_logits.wgsl on math.wgsl, sums.wgsl, log_records.wgsl and loss_elements.wgsl.
const MODULE: Module =
    Module(&[MATH, SUMS, LOG_RECORDS, LOSS_ELEMENTS, shader_file!("xent_logits.wgsl")]);

const XENT_LOGITS: Kernel<LossParams> = Kernel {
    op: "xent_logits",
    module: MODULE,
    entry: "xent_logits",
    bindings: &BINDINGS,
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
        self.run_loss(&XENT_LOGITS, [grad, costs, logits, target], (len, slot, scale, 0));
    }
}
