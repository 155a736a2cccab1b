//! `ops::XentLogits` (shaders/xent_logits.wgsl on shaders/loss_passes.wgsl): cross-entropy from
//! logits with its gradient, reduced in a fixed order in one or two passes.

use std::marker::PhantomData;

use super::kernel::{AnyKernel, Kernel, LOSS_PASSES, MATH, Module, SUMS, shader_file};
use super::loss_passes::{FINISH, LossKernels, LossParams, PARTIALS, SINGLE};
use super::{Gpu, GpuTensor};
use crate::backend::Run;
use crate::backend::ops::XentLogits;

/// shaders/xent_logits.wgsl on math.wgsl, sums.wgsl, loss_passes.wgsl.
const MODULE: Module = Module(&[MATH, SUMS, LOSS_PASSES, shader_file!("xent_logits.wgsl")]);

const XENT_LOGITS: Kernel<LossParams> = Kernel {
    op: "xent_logits",
    module: MODULE,
    entry: "xent_logits",
    bindings: &SINGLE,
    overrides: &[],
    params: PhantomData,
};

const XENT_LOGITS_PARTIALS: Kernel<LossParams> =
    Kernel { entry: "xent_logits_partials", bindings: &PARTIALS, ..XENT_LOGITS };

const XENT_LOGITS_FINISH: Kernel<LossParams> =
    Kernel { entry: "xent_logits_finish", bindings: &FINISH, ..XENT_LOGITS };

pub(super) const KERNELS: &[&dyn AnyKernel] =
    &[&XENT_LOGITS, &XENT_LOGITS_PARTIALS, &XENT_LOGITS_FINISH];

impl Run<XentLogits<'_, GpuTensor>> for Gpu {
    /// One dispatch up to 65 536 elements, two above.
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
        let params = LossParams::new("xent_logits", len, slot, scale, 0);
        let kernels = LossKernels {
            single: &XENT_LOGITS,
            partials: &XENT_LOGITS_PARTIALS,
            finish: &XENT_LOGITS_FINISH,
        };
        self.run_loss(kernels, &params, [grad, costs, logits, target]);
    }
}
