//! The host side of shaders/loss_passes.wgsl, shared by `xent_logits` and `sq_err`: the
//! parameters and bindings of a loss, and its one or two passes of fixed-order reduction.

use super::kernel::{Binding, Kernel, read, wgsl_struct, write};
use super::{Gpu, GpuTensor, u32_of};

/// Up to this many elements one workgroup does the whole loss (one dispatch); above, each
/// workgroup takes `CHUNK` elements and the finish pass adds the partial sums (two dispatches).
const SINGLE_MAX: usize = 1 << 16;
const PER_THREAD: usize = 16;
const CHUNK: usize = 256 * PER_THREAD;

wgsl_struct! {
    /// `Params` of shaders/loss_passes.wgsl.
    pub(super) struct LossParams {
        /// Elements: rows · cols.
        len: u32,
        /// Elements per lane of a workgroup.
        per_thread: u32,
        /// Workgroups of the first pass.
        groups: u32,
        slot: u32,
        scale: f32,
        /// sq_err: the decoder's output activation, `act as u32`; xent_logits: 0.
        out_act: u32,
    }
}

impl LossParams {
    /// The parameters of `what`'s loss over `len` elements into costs[slot], times `scale`.
    pub(super) fn new(what: &str, len: usize, slot: usize, scale: f32, out_act: u32) -> Self {
        let (groups, per_thread) = if len <= SINGLE_MAX {
            (1, len.div_ceil(256))
        } else {
            (len.div_ceil(CHUNK), PER_THREAD)
        };
        assert!(groups <= 65_535, "{what}: {len} elements is more than one dispatch covers");
        LossParams {
            len: u32_of(len, "loss elements"),
            per_thread: per_thread as u32,
            groups: groups as u32,
            slot: slot as u32,
            scale,
            out_act,
        }
    }
}

/// The bindings of a loss's one-workgroup pass.
pub(super) const SINGLE: [Binding; 4] =
    [write(1, "grad"), write(3, "costs"), read(4, "inputs"), read(5, "targets")];

/// The bindings of a loss's partial-sums pass.
pub(super) const PARTIALS: [Binding; 4] =
    [write(1, "grad"), write(2, "partials"), read(4, "inputs"), read(5, "targets")];

/// The bindings of a loss's finish.
pub(super) const FINISH: [Binding; 2] = [write(2, "partials"), write(3, "costs")];

/// A loss's three kernels: the one-workgroup pass, the partial sums, and their finish.
pub(super) struct LossKernels {
    pub single: &'static Kernel<LossParams>,
    pub partials: &'static Kernel<LossParams>,
    pub finish: &'static Kernel<LossParams>,
}

impl Gpu {
    /// Records a loss over `inputs` and `targets` into `grad` and `costs`: one workgroup
    /// writing costs[slot] when `params` has one group, else the partial sums and their
    /// finish.
    pub(super) fn run_loss(
        &self,
        kernels: LossKernels,
        params: &LossParams,
        [grad, costs, inputs, targets]: [&GpuTensor; 4],
    ) {
        let groups = params.groups;
        let mut st = self.lock();
        let first = st.log_len();
        if groups == 1 {
            let bufs = [&grad.buf, &costs.buf, &inputs.buf, &targets.buf];
            self.dispatch(&mut st, (kernels.single, &[]), params, &bufs, [1, 1, 1]);
        } else {
            let partials = self.partials(&mut st, groups as usize);
            let bufs = [&grad.buf, &*partials, &inputs.buf, &targets.buf];
            self.dispatch(&mut st, (kernels.partials, &[]), params, &bufs, [groups, 1, 1]);
            let bufs = [&*partials, &costs.buf];
            self.dispatch(&mut st, (kernels.finish, &[]), params, &bufs, [1, 1, 1]);
        }
        // The inputs and targets read, the gradient written.
        st.note_work(first, 0, 12 * u64::from(params.len));
    }
}
