//! A backend wrapper that times every op by kind, for `gpu-dae bench`'s "where the time goes".
//! Meaningful for backends that execute ops synchronously (the CPU backend); a GPU backend only
//! records ops, so its times would measure recording, not execution.

use std::cell::RefCell;
use std::time::Instant;

use super::{Activation, Backend, Epilogue, GemmSpec, Noise};
use crate::rng::RngKey;

/// Wraps `B`, accumulating wall-clock seconds and call counts per op name.
pub struct Timed<B> {
    inner: B,
    totals: RefCell<Vec<(&'static str, f64, u64)>>,
}

impl<B: Backend> Timed<B> {
    /// Times the ops of `inner`.
    pub fn new(inner: B) -> Self {
        Timed { inner, totals: RefCell::new(Vec::new()) }
    }

    /// (op name, seconds, calls) in order of first use.
    pub fn totals(&self) -> Vec<(&'static str, f64, u64)> {
        self.totals.borrow().clone()
    }

    fn time<R>(&self, name: &'static str, f: impl FnOnce() -> R) -> R {
        let t = Instant::now();
        let r = f();
        let dt = t.elapsed().as_secs_f64();
        let mut totals = self.totals.borrow_mut();
        match totals.iter_mut().find(|(n, _, _)| *n == name) {
            Some(entry) => {
                entry.1 += dt;
                entry.2 += 1;
            }
            None => totals.push((name, dt, 1)),
        }
        r
    }
}

/// The name a GEMM is reported under: its transposes and epilogue.
fn gemm_name<T>(s: &GemmSpec, e: &Epilogue<'_, T>) -> &'static str {
    match (s.trans_a, s.trans_b, e) {
        (false, false, Epilogue::BiasAct { .. }) => "gemm A·B + bias/act",
        (false, true, Epilogue::BiasAct { .. }) => "gemm A·Bᵀ + bias/act",
        (false, true, Epilogue::ActGrad { .. }) => "gemm A·Bᵀ ⊙ act'",
        (false, false, Epilogue::ActGrad { .. }) => "gemm A·B ⊙ act'",
        (true, false, _) => "gemm Aᵀ·B (update)",
        _ => "gemm (other)",
    }
}

impl<B: Backend> Backend for Timed<B> {
    type Tensor = B::Tensor;
    type Images = B::Images;

    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn zeros(&self, len: usize) -> B::Tensor {
        self.inner.zeros(len)
    }
    fn upload(&self, host: &[f32]) -> B::Tensor {
        self.inner.upload(host)
    }
    fn download(&self, t: &B::Tensor) -> Vec<f32> {
        self.time("download", || self.inner.download(t))
    }
    fn upload_images(&self, pixels: &[u8], dim: usize) -> B::Images {
        self.inner.upload_images(pixels, dim)
    }
    fn load_batch(
        &self,
        x: &mut B::Tensor,
        x_tilde: &mut B::Tensor,
        images: &B::Images,
        first: usize,
        rows: usize,
        noise: Noise,
        key: RngKey,
    ) {
        self.time("load_batch", || {
            self.inner.load_batch(x, x_tilde, images, first, rows, noise, key)
        })
    }
    fn gemm(
        &self,
        c: &mut B::Tensor,
        a: &B::Tensor,
        b: &B::Tensor,
        spec: GemmSpec,
        e: Epilogue<'_, B::Tensor>,
    ) {
        self.time(gemm_name(&spec, &e), || self.inner.gemm(c, a, b, spec, e))
    }
    fn gemm_sum(
        &self,
        c: &mut B::Tensor,
        first: (&B::Tensor, &B::Tensor),
        second: (&B::Tensor, &B::Tensor),
        spec: GemmSpec,
        k2: usize,
    ) {
        let name = match (spec.trans_a, spec.trans_b) {
            (true, false) => "gemm Aᵀ·B + Aᵀ·B (update)",
            _ => "gemm sum (other)",
        };
        self.time(name, || self.inner.gemm_sum(c, first, second, spec, k2))
    }
    fn xent_logits(
        &self,
        grad: &mut B::Tensor,
        costs: &mut B::Tensor,
        slot: usize,
        logits: &B::Tensor,
        target: &B::Tensor,
        rows: usize,
        cols: usize,
        scale: f32,
    ) {
        self.time("xent_logits", || {
            self.inner.xent_logits(grad, costs, slot, logits, target, rows, cols, scale)
        })
    }
    fn corrupt(
        &self,
        x_tilde: &mut B::Tensor,
        x: &B::Tensor,
        len: usize,
        noise: Noise,
        key: RngKey,
    ) {
        self.time("corrupt", || self.inner.corrupt(x_tilde, x, len, noise, key))
    }
    fn softmax_nll(
        &self,
        grad: &mut B::Tensor,
        costs: &mut B::Tensor,
        errors: &mut B::Tensor,
        slot: usize,
        logits: &B::Tensor,
        labels: &B::Images,
        first: usize,
        rows: usize,
        classes: usize,
        scale: f32,
    ) {
        self.time("softmax_nll", || {
            self.inner
                .softmax_nll(grad, costs, errors, slot, logits, labels, first, rows, classes, scale)
        })
    }
    fn col_sum(
        &self,
        out: &mut B::Tensor,
        a: &B::Tensor,
        rows: usize,
        cols: usize,
        alpha: f32,
        beta: f32,
    ) {
        self.time("col_sum", || self.inner.col_sum(out, a, rows, cols, alpha, beta))
    }

    fn col_sq_norms(&self, out: &mut B::Tensor, a: &B::Tensor, rows: usize, cols: usize) {
        self.time("col_sq_norms", || self.inner.col_sq_norms(out, a, rows, cols))
    }
    fn contractive(
        &self,
        dh: &mut B::Tensor,
        col_grad: &mut B::Tensor,
        jac_sq: &mut B::Tensor,
        slot: usize,
        h: &B::Tensor,
        col_norms: &B::Tensor,
        rows: usize,
        cols: usize,
        lambda: f32,
        scale: f32,
    ) {
        self.time("contractive", || {
            self.inner
                .contractive(dh, col_grad, jac_sq, slot, h, col_norms, rows, cols, lambda, scale)
        })
    }
    fn scale_cols(&self, a: &mut B::Tensor, f: &B::Tensor, rows: usize, cols: usize, alpha: f32) {
        self.time("scale_cols", || self.inner.scale_cols(a, f, rows, cols, alpha))
    }

    fn sq_err(
        &self,
        grad: &mut B::Tensor,
        costs: &mut B::Tensor,
        slot: usize,
        y: &B::Tensor,
        target: &B::Tensor,
        rows: usize,
        cols: usize,
        scale: f32,
        out: Activation,
    ) {
        self.time("sq_err", || {
            self.inner.sq_err(grad, costs, slot, y, target, rows, cols, scale, out)
        })
    }
    fn count_positive(
        &self,
        out: &mut B::Tensor,
        slot: usize,
        a: &B::Tensor,
        len: usize,
        scale: f32,
    ) {
        self.time("count_positive", || self.inner.count_positive(out, slot, a, len, scale))
    }
    fn affine(&self, x: &mut B::Tensor, len: usize, mul: f32, add: f32) {
        self.time("affine", || self.inner.affine(x, len, mul, add))
    }
}
