//! `ops::LoadBatch` (shaders/load_batch.wgsl): a batch of the device-resident u8 image set, by
//! offset, and its corrupted copy in the same dispatch.

use std::marker::PhantomData;

use super::kernel::{AnyKernel, Kernel, Module, NOISE, RNG, read, shader_file, wgsl_struct, write};
use super::noise::NoiseParams;
use super::{Gpu, GpuImages, GpuTensor, grid_1d, u32_of};
use crate::backend::Run;
use crate::backend::ops::{LoadBatch, standardising};

wgsl_struct! {
    /// `Params` of shaders/load_batch.wgsl.
    pub(super) struct LoadBatchParams {
        /// The corruption of x̃.
        noise: NoiseParams,
        /// Index of the batch's first pixel: first · dim.
        first: u32,
        /// Elements to write: rows · dim.
        len: u32,
        /// Standardising: x·mul + add (`ops::standardising`).
        mul: f32,
        add: f32,
    }
}

/// shaders/load_batch.wgsl on rng.wgsl, noise.wgsl.
const MODULE: Module = Module(&[RNG, NOISE, shader_file!("load_batch.wgsl")]);

const LOAD_BATCH: Kernel<LoadBatchParams> = Kernel {
    op: "load_batch",
    module: MODULE,
    entry: "load_batch",
    bindings: &[write(1, "x"), write(2, "x_tilde"), read(3, "pixels")],
    overrides: &[],
    params: PhantomData,
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&LOAD_BATCH];

impl Run<LoadBatch<'_, GpuTensor, GpuImages>> for Gpu {
    /// One dispatch, no upload.
    fn run(&self, op: LoadBatch<'_, GpuTensor, GpuImages>) {
        let LoadBatch { x, x_tilde, images, first, rows, noise, key, standardise } = op;
        let dim = images.dim;
        assert!(
            first + rows <= images.n,
            "load_batch: rows {first}..{} of an image set of {}",
            first + rows,
            images.n
        );
        let len = rows * dim;
        assert!(
            x.len >= len && x_tilde.len >= len,
            "load_batch: the batch has {len} elements, x holds {}, x̃ {}",
            x.len,
            x_tilde.len
        );
        if len == 0 {
            return;
        }
        let (mul, add) = standardising(standardise);
        let params = LoadBatchParams {
            noise: NoiseParams::new(noise, key),
            first: u32_of(first * dim, "first pixel"),
            len: u32_of(len, "batch elements"),
            mul,
            add,
        };
        let bufs = [&x.buf, &x_tilde.buf, &images.buf];
        let mut st = self.lock();
        self.dispatch(&mut st, (&LOAD_BATCH, &[]), &params, &bufs, grid_1d(len));
        // The batch's pixels read, x and x̃ written.
        st.note_bytes(len + 8 * len);
    }
}
