//! `ops::XentLogits` (shaders/xent_logits.wgsl): cross-entropy from logits with its gradient,
//! reduced in a fixed order in one or two passes; the passes are shared with `sq_err`.

use std::marker::PhantomData;

use super::kernel::{AnyKernel, Binding, Kernel, Module, read, wgsl_struct, write};
use super::{Gpu, GpuTensor, State, u32_of};
use crate::backend::Run;
use crate::backend::ops::XentLogits;

/// Up to this many elements one workgroup does the whole loss (one dispatch); above, each
/// workgroup takes `CHUNK` elements and the finish pass adds the partial sums (two dispatches).
const SINGLE_MAX: usize = 1 << 16;
const PER_THREAD: usize = 16;
const CHUNK: usize = 256 * PER_THREAD;

wgsl_struct! {
    /// `Params` of shaders/xent_logits.wgsl.
    pub(super) struct XentLogitsParams {
        /// Elements: rows · cols.
        len: u32,
        /// Elements per lane of a workgroup.
        per_thread: u32,
        /// Workgroups of the first pass.
        groups: u32,
        slot: u32,
        scale: f32,
    }
}

/// A loss's three kernels over the bindings grad (1), partials (2), costs (3), the loss's two
/// inputs (4, 5): the one-workgroup pass, the partial sums, and their finish.
pub(super) struct LossKernels<P: 'static> {
    pub single: &'static Kernel<P>,
    pub partials: &'static Kernel<P>,
    pub finish: &'static Kernel<P>,
}

/// The bindings of a loss's one-workgroup pass (the inputs named `inputs`).
pub(super) const fn single_bindings(inputs: [&'static str; 2]) -> [Binding; 4] {
    [write(1, "grad"), write(3, "costs"), read(4, inputs[0]), read(5, inputs[1])]
}

/// The bindings of a loss's partial-sums pass.
pub(super) const fn partial_bindings(inputs: [&'static str; 2]) -> [Binding; 4] {
    [write(1, "grad"), write(2, "partials"), read(4, inputs[0]), read(5, inputs[1])]
}

/// The bindings of a loss's finish.
pub(super) const FINISH_BINDINGS: [Binding; 2] = [write(2, "partials"), write(3, "costs")];

const XENT_SINGLE: [Binding; 4] = single_bindings(["logits", "targets"]);
const XENT_PARTIALS: [Binding; 4] = partial_bindings(["logits", "targets"]);

const XENT_LOGITS: Kernel<XentLogitsParams> = Kernel {
    op: "xent_logits",
    module: Module::XentLogits,
    entry: "xent_logits",
    bindings: &XENT_SINGLE,
    overrides: &[],
    params: PhantomData,
};

const XENT_LOGITS_PARTIALS: Kernel<XentLogitsParams> =
    Kernel { entry: "xent_logits_partials", bindings: &XENT_PARTIALS, ..XENT_LOGITS };

const XENT_LOGITS_FINISH: Kernel<XentLogitsParams> =
    Kernel { entry: "xent_logits_finish", bindings: &FINISH_BINDINGS, ..XENT_LOGITS };

pub(super) const KERNELS: &[&dyn AnyKernel] =
    &[&XENT_LOGITS, &XENT_LOGITS_PARTIALS, &XENT_LOGITS_FINISH];

/// The first pass of a loss over `len` elements: (workgroups, elements per lane).
pub(super) fn loss_grid(what: &str, len: usize) -> (usize, usize) {
    let (groups, per_thread) =
        if len <= SINGLE_MAX { (1, len.div_ceil(256)) } else { (len.div_ceil(CHUNK), PER_THREAD) };
    assert!(groups <= 65_535, "{what}: {len} elements is more than one dispatch covers");
    (groups, per_thread)
}

impl Gpu {
    /// Records a loss: one workgroup writing costs[slot] when `groups` is 1, else the partial
    /// sums and their finish; `bufs` = (grad, costs, first input, second input).
    pub(super) fn record_loss<P: super::kernel::WgslType>(
        &self,
        st: &mut State,
        kernels: LossKernels<P>,
        params: &P,
        groups: usize,
        [grad, costs, x, y]: [&GpuTensor; 4],
    ) {
        if groups == 1 {
            let bufs = [&grad.buf, &costs.buf, &x.buf, &y.buf];
            self.dispatch(st, (kernels.single, &[]), params, &bufs, [1, 1, 1]);
        } else {
            let partials = self.partials(st, groups);
            let bufs = [&grad.buf, &*partials, &x.buf, &y.buf];
            self.dispatch(st, (kernels.partials, &[]), params, &bufs, [groups as u32, 1, 1]);
            let bufs = [&*partials, &costs.buf];
            self.dispatch(st, (kernels.finish, &[]), params, &bufs, [1, 1, 1]);
        }
    }
}

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
        let (groups, per_thread) = loss_grid("xent_logits", len);
        let params = XentLogitsParams {
            len: u32_of(len, "xent_logits elements"),
            per_thread: per_thread as u32,
            groups: groups as u32,
            slot: slot as u32,
            scale,
        };
        let kernels = LossKernels {
            single: &XENT_LOGITS,
            partials: &XENT_LOGITS_PARTIALS,
            finish: &XENT_LOGITS_FINISH,
        };
        let mut st = self.lock();
        self.record_loss(&mut st, kernels, &params, groups, [grad, costs, logits, target]);
    }
}
