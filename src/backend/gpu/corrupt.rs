//! `ops::Corrupt` (shaders/corrupt.wgsl): the corruption of a tensor.

use std::marker::PhantomData;

use super::kernel::{AnyKernel, Kernel, Module, NOISE, RNG, read, shader_file, wgsl_struct, write};
use super::noise::NoiseParams;
use super::{Gpu, GpuTensor, grid_1d, u32_of};
use crate::backend::Run;
use crate::backend::ops::Corrupt;

wgsl_struct! {
    /// `Params` of shaders/corrupt.wgsl.
    pub(super) struct CorruptParams {
        /// The corruption.
        noise: NoiseParams,
        /// Elements to write.
        len: u32,
    }
}

/// shaders/corrupt.wgsl on rng.wgsl, noise.wgsl.
const MODULE: Module = Module(&[RNG, NOISE, shader_file!("corrupt.wgsl")]);

const CORRUPT: Kernel<CorruptParams> = Kernel {
    op: "corrupt",
    module: MODULE,
    entry: "corrupt",
    bindings: &[write(1, "x_tilde"), read(2, "x")],
    overrides: &[],
    params: PhantomData,
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&CORRUPT];

impl Run<Corrupt<'_, GpuTensor>> for Gpu {
    /// One dispatch.
    fn run(&self, op: Corrupt<'_, GpuTensor>) {
        let Corrupt { x_tilde, x, len, noise, key } = op;
        assert!(
            x.len >= len && x_tilde.len >= len,
            "corrupt: {len} elements, but x holds {}, x̃ {}",
            x.len,
            x_tilde.len
        );
        if len == 0 {
            return;
        }
        let params = CorruptParams {
            noise: NoiseParams::new(noise, key),
            len: u32_of(len, "corrupt elements"),
        };
        let mut st = self.lock();
        self.dispatch(&mut st, (&CORRUPT, &[]), &params, &[&x_tilde.buf, &x.buf], grid_1d(len));
        st.note_bytes(8 * len);
    }
}
