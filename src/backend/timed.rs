//! A backend wrapper that times every op by its label, for `gpu-dae bench`'s "where the time
//! goes". Meaningful for backends that execute ops synchronously (the CPU backend); a GPU
//! backend only records ops, so its times would measure recording, not execution.

use std::cell::RefCell;
use std::time::Instant;

use super::{Backend, Op, Run, Storage};

/// Wraps `B`, accumulating wall-clock seconds and call counts per op label (`Op::label`).
pub struct Timed<B> {
    inner: B,
    totals: RefCell<Vec<(&'static str, f64, u64)>>,
}

impl<B> Timed<B> {
    /// Times the ops of `inner`.
    pub fn new(inner: B) -> Self {
        Timed { inner, totals: RefCell::new(Vec::new()) }
    }

    /// (op label, seconds, calls) in order of first use.
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

impl<B: Storage> Storage for Timed<B> {
    type Tensor = B::Tensor;
    type Images = B::Images;
    type Labels = B::Labels;

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
    fn upload_labels(&self, labels: &[u8]) -> B::Labels {
        self.inner.upload_labels(labels)
    }
}

impl<B: Run<O>, O: Op> Run<O> for Timed<B> {
    fn run(&self, op: O) {
        self.time(op.label(), || self.inner.run(op))
    }
}

impl<B: Backend> Backend for Timed<B> {}
