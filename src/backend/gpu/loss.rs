//! `xent_logits`, `sq_err` and `count_positive` (shaders/loss.wgsl + shaders/math.wgsl): the
//! losses with their gradients, and the count of units on, reduced in a fixed order.

use std::sync::Arc;

use super::{Buf, Gpu, GpuTensor, u32_of};
use crate::backend::Activation;
use crate::backend::gpu::kernels::Kernel;

/// Up to this many elements one workgroup does the whole loss (one dispatch); above, each
/// workgroup takes `CHUNK` elements and `xent_finish` adds the partial sums (two dispatches).
const SINGLE_MAX: usize = 1 << 16;
const PER_THREAD: usize = 16;
const CHUNK: usize = 256 * PER_THREAD;

impl Gpu {
    /// grad = (σ(a) − x)·scale, costs[slot] = scale·Σ[softplus(a) − x·a]; all [rows, cols].
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record_xent_logits(
        &self,
        grad: &mut GpuTensor,
        costs: &mut GpuTensor,
        slot: usize,
        logits: &GpuTensor,
        target: &GpuTensor,
        rows: usize,
        cols: usize,
        scale: f32,
    ) {
        let (shape, none) = ((rows, cols), Activation::Identity);
        self.record_loss(Kernel::XentLogits, grad, costs, slot, logits, target, shape, scale, none);
    }

    /// grad = (y − x)·scale·out′(y), costs[slot] = scale·Σ(y − x)²; all [rows, cols].
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record_sq_err(
        &self,
        grad: &mut GpuTensor,
        costs: &mut GpuTensor,
        slot: usize,
        y: &GpuTensor,
        target: &GpuTensor,
        rows: usize,
        cols: usize,
        scale: f32,
        out: Activation,
    ) {
        self.record_loss(Kernel::SqErr, grad, costs, slot, y, target, (rows, cols), scale, out);
    }

    /// out[slot] = scale·#{i < len : a[i] > 0}. One dispatch of one workgroup.
    pub(super) fn record_count_positive(
        &self,
        out: &mut GpuTensor,
        slot: usize,
        a: &GpuTensor,
        len: usize,
        scale: f32,
    ) {
        assert!(a.len >= len, "count_positive: a holds {}, len = {len}", a.len);
        assert!(slot < out.len, "count_positive: slot {slot} of a vector of {}", out.len);
        let params = [u32_of(len, "count_positive elements"), 0, 1, slot as u32, scale.to_bits()];
        let d = &self.dummy;
        let bufs = [d, d, &out.buf, &a.buf, &a.buf];
        let mut st = self.lock();
        self.dispatch(&mut st, Kernel::CountPositive, &bufs, &params, [1, 1, 1]);
    }

    /// A loss with its gradient (`kernel` = XentLogits or SqErr, whose gradient is multiplied
    /// by `out`'s derivative), reduced in one or two passes.
    #[allow(clippy::too_many_arguments)]
    fn record_loss(
        &self,
        kernel: Kernel,
        grad: &mut GpuTensor,
        costs: &mut GpuTensor,
        slot: usize,
        logits: &GpuTensor,
        target: &GpuTensor,
        (rows, cols): (usize, usize),
        scale: f32,
        out: Activation,
    ) {
        let len = rows * cols;
        assert!(
            grad.len >= len && logits.len >= len && target.len >= len,
            "xent_logits: [{rows}, {cols}] but grad holds {}, logits {}, target {}",
            grad.len,
            logits.len,
            target.len
        );
        assert!(slot < costs.len, "xent_logits: slot {slot} of a cost vector of {}", costs.len);
        let (groups, per_thread) = if len <= SINGLE_MAX {
            (1, len.div_ceil(256))
        } else {
            (len.div_ceil(CHUNK), PER_THREAD)
        };
        assert!(groups <= 65_535, "xent_logits: {len} elements is more than one dispatch covers");
        let params = [
            u32_of(len, "xent elements"),
            per_thread as u32,
            groups as u32,
            slot as u32,
            scale.to_bits(),
            // shaders/loss.wgsl's OUT_* codes.
            match out {
                Activation::Identity => 0,
                Activation::Sigmoid => 1,
                Activation::Relu => 2,
            },
        ];
        let mut st = self.lock();
        if groups > 1 && st.partials.as_ref().is_none_or(|p| p.raw.size() < (groups * 4) as u64) {
            let bytes = groups.next_power_of_two() * 4;
            st.partials = Some(Arc::new(self.buffer("xent partials", bytes, None)));
        }
        // Cloned out of the state so that `st` can be borrowed by `dispatch`.
        let scratch = st.partials.clone();
        let partials: &Buf = match &scratch {
            Some(p) if groups > 1 => p,
            _ => &self.dummy,
        };
        let bufs = [&grad.buf, partials, &costs.buf, &logits.buf, &target.buf];
        self.dispatch(&mut st, kernel, &bufs, &params, [groups as u32, 1, 1]);
        if groups > 1 {
            self.dispatch(&mut st, Kernel::XentFinish, &bufs, &params, [1, 1, 1]);
        }
    }
}
