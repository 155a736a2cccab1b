//! `ops::SqErr` (shaders/sq_err.wgsl): squared error with its gradient, reduced in the passes
//! of `xent_logits`.

use std::marker::PhantomData;

use super::kernel::{AnyKernel, Binding, Kernel, Module, wgsl_struct};
use super::xent_logits::{
    FINISH_BINDINGS, LossKernels, loss_grid, partial_bindings, single_bindings,
};
use super::{Gpu, GpuTensor, u32_of};
use crate::backend::Run;
use crate::backend::ops::SqErr;

wgsl_struct! {
    /// `Params` of shaders/sq_err.wgsl.
    pub(super) struct SqErrParams {
        /// Elements: rows · cols.
        len: u32,
        /// Elements per lane of a workgroup.
        per_thread: u32,
        /// Workgroups of the first pass.
        groups: u32,
        slot: u32,
        scale: f32,
        /// The decoder's output activation, `act as u32`.
        out_act: u32,
    }
}

const SQ_ERR_SINGLE: [Binding; 4] = single_bindings(["y", "targets"]);
const SQ_ERR_PARTIALS: [Binding; 4] = partial_bindings(["y", "targets"]);

const SQ_ERR: Kernel<SqErrParams> = Kernel {
    op: "sq_err",
    module: Module::SqErr,
    entry: "sq_err",
    bindings: &SQ_ERR_SINGLE,
    overrides: &[],
    params: PhantomData,
};

const SQ_ERR_PARTIALS_KERNEL: Kernel<SqErrParams> =
    Kernel { entry: "sq_err_partials", bindings: &SQ_ERR_PARTIALS, ..SQ_ERR };

const SQ_ERR_FINISH: Kernel<SqErrParams> =
    Kernel { entry: "sq_err_finish", bindings: &FINISH_BINDINGS, ..SQ_ERR };

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&SQ_ERR, &SQ_ERR_PARTIALS_KERNEL, &SQ_ERR_FINISH];

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
        let (groups, per_thread) = loss_grid("sq_err", len);
        let params = SqErrParams {
            len: u32_of(len, "sq_err elements"),
            per_thread: per_thread as u32,
            groups: groups as u32,
            slot: slot as u32,
            scale,
            out_act: out as u32,
        };
        let kernels = LossKernels {
            single: &SQ_ERR,
            partials: &SQ_ERR_PARTIALS_KERNEL,
            finish: &SQ_ERR_FINISH,
        };
        let mut st = self.lock();
        self.record_loss(&mut st, kernels, &params, groups, [grad, costs, y, target]);
    }
}
