//! `ops::SqErr` (shaders/sq_err.wgsl on shaders/loss_passes.wgsl): squared error with its
//! gradient, reduced in a fixed order in one or two passes.

use std::marker::PhantomData;

use super::kernel::{ACTIVATION, AnyKernel, Kernel, LOSS_PASSES, MATH, Module, SUMS, shader_file};
use super::loss_passes::{FINISH, LossKernels, LossParams, PARTIALS, SINGLE};
use super::{Gpu, GpuTensor};
use crate::backend::Run;
use crate::backend::ops::SqErr;

/// shaders/sq_err.wgsl on math.wgsl, activation.wgsl, sums.wgsl, loss_passes.wgsl.
const MODULE: Module = Module(&[MATH, ACTIVATION, SUMS, LOSS_PASSES, shader_file!("sq_err.wgsl")]);

const SQ_ERR: Kernel<LossParams> = Kernel {
    op: "sq_err",
    module: MODULE,
    entry: "sq_err",
    bindings: &SINGLE,
    overrides: &[],
    params: PhantomData,
};

const SQ_ERR_PARTIALS: Kernel<LossParams> =
    Kernel { entry: "sq_err_partials", bindings: &PARTIALS, ..SQ_ERR };

const SQ_ERR_FINISH: Kernel<LossParams> =
    Kernel { entry: "sq_err_finish", bindings: &FINISH, ..SQ_ERR };

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&SQ_ERR, &SQ_ERR_PARTIALS, &SQ_ERR_FINISH];

impl Run<SqErr<'_, GpuTensor>> for Gpu {
    /// One dispatch up to 65 536 elements, two above.
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
        let params = LossParams::new("sq_err", len, slot, scale, out as u32);
        let kernels =
            LossKernels { single: &SQ_ERR, partials: &SQ_ERR_PARTIALS, finish: &SQ_ERR_FINISH };
        self.run_loss(kernels, &params, [grad, costs, y, target]);
    }
}
