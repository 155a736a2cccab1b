//! The host side of shaders/loss_elements.wgsl, shared by `xent_logits` and `sq_err`: the
//! parameters and bindings of an element-wise loss and its one dispatch, four elements a
//! thread, the cost finished late (gpu/log_finish.rs).

use super::gemm::count;
use super::kernel::{Binding, Kernel, read, wgsl_struct, write};
use super::{Gpu, GpuTensor, grid_1d, u32_of};

wgsl_struct! {
    /// `Params` of shaders/loss_elements.wgsl.
    pub(super) struct LossParams {
        len: u32,
        scale: f32,
        /// sq_err: the decoder's output activation, `act as u32`; xent_logits: 0.
        out_act: u32,
        /// The step's record in the cost log's records: its first word.
        record: u32,
    }
}

/// The bindings of an element-wise loss.
pub(super) const BINDINGS: [Binding; 4] =
    [write(1, "grad"), write(2, "records"), read(3, "inputs"), read(4, "targets")];

impl Gpu {
    /// Records `kernel`'s loss over `len` elements of `inputs` and `targets` into `grad` and
    /// slot `slot` of `costs`, times `scale`.
    pub(super) fn run_loss(
        &self,
        kernel: &Kernel<LossParams>,
        [grad, costs, inputs, targets]: [&GpuTensor; 4],
        (len, slot, scale, out_act): (usize, usize, f32, u32),
    ) {
        let len32 = u32_of(len, "loss elements");
        let groups = grid_1d(len.div_ceil(4));
        let mut st = self.lock();
        let (records, record) = self.deferred_records(&mut st, costs, slot, count(groups));
        let params = LossParams { len: len32, scale, out_act, record };
        let bufs = [&grad.buf, &*records, &inputs.buf, &targets.buf];
        self.dispatch(&mut st, (kernel, &[]), &params, &bufs, groups);
        // The inputs and targets read, the gradient written.
        st.note_bytes(12 * len);
    }
}
