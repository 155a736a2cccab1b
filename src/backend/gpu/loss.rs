//! `xent_logits` (shaders/loss.wgsl + shaders/math.wgsl): cross-entropy from logits with its
//! gradient, reduced in a fixed order.

use std::sync::Arc;

use super::{Buf, Gpu, GpuTensor, u32_of};
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
        self.dispatch(&mut st, Kernel::XentLogits, &bufs, &params, [groups as u32, 1, 1]);
        if groups > 1 {
            self.dispatch(&mut st, Kernel::XentFinish, &bufs, &params, [1, 1, 1]);
        }
    }
}
