//! `softmax_nll` (shaders/softmax.wgsl + shaders/math.wgsl): softmax negative log-likelihood,
//! its gradient and the error count in one dispatch, labels read by offset from the
//! device-resident label set.

use super::{Gpu, GpuImages, GpuTensor, u32_of};
use crate::backend::gpu::kernels::Kernel;

impl Gpu {
    /// grad = (softmax(a) − onehot(y))·scale: [rows, classes]; costs[slot] = scale·Σ −log p_y;
    /// errors[slot] = #{argmax ≠ y}; y = labels[first .. first + rows]. One dispatch of one
    /// workgroup.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record_softmax_nll(
        &self,
        grad: &mut GpuTensor,
        costs: &mut GpuTensor,
        errors: &mut GpuTensor,
        slot: usize,
        logits: &GpuTensor,
        labels: &GpuImages,
        first: usize,
        rows: usize,
        classes: usize,
        scale: f32,
    ) {
        let len = rows * classes;
        assert_eq!(labels.dim, 1, "softmax_nll: labels must be a set of [n, 1]");
        assert!(
            first + rows <= labels.n,
            "softmax_nll: labels {first}..{} of a set of {}",
            first + rows,
            labels.n
        );
        assert!(
            grad.len >= len && logits.len >= len,
            "softmax_nll: [{rows}, {classes}] but grad holds {}, logits {}",
            grad.len,
            logits.len
        );
        assert!(
            slot < costs.len && slot < errors.len,
            "softmax_nll: slot {slot} of costs [{}], errors [{}]",
            costs.len,
            errors.len
        );
        assert!(classes >= 1 || rows == 0, "softmax_nll: {rows} rows of 0 classes");
        let params = [
            u32_of(rows, "softmax rows"),
            u32_of(classes, "softmax classes"),
            u32_of(first, "first label"),
            slot as u32,
            scale.to_bits(),
        ];
        u32_of(len, "softmax elements");
        let bufs = [&grad.buf, &costs.buf, &errors.buf, &logits.buf, &labels.buf];
        let mut st = self.lock();
        self.dispatch(&mut st, Kernel::SoftmaxNll, &bufs, &params, [1, 1, 1]);
    }
}
