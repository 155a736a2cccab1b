//! `ops::GemmCorrupt` (shaders/gemm_corrupt.wgsl on the rows kernel of
//! shaders/gemm_small.wgsl): a layer's output and its corrupted copy in one dispatch where the
//! rows kernel takes the shape and the epilogue is `BiasAct`; otherwise the op's `Gemm` and
//! `Corrupt`.

use std::marker::PhantomData;

use super::gemm::{tiling, vec4_ok, work};
use super::kernel::{
    ACTIVATION, AnyKernel, GEMM_SMALL, GEMM_TILES, Kernel, MATH, NOISE, RNG, read, rows_modules,
    shader_file, wgsl_struct, write,
};
use super::noise::NoiseParams;
use super::{Gpu, GpuTensor, u32_of};
use crate::backend::ops::GemmCorrupt;
use crate::backend::{Epilogue, GemmSpec, Run};

wgsl_struct! {
    /// `Params` of shaders/gemm_corrupt.wgsl.
    pub(super) struct GemmCorruptParams {
        /// The corruption of x̃.
        noise: NoiseParams,
        m: u32,
        n: u32,
        k: u32,
        alpha: f32,
        beta: f32,
    }
}

rows_modules! {
    /// shaders/gemm_corrupt.wgsl on rows_shuffle.wgsl, math.wgsl, activation.wgsl, rng.wgsl,
    /// noise.wgsl, gemm_tiles.wgsl, gemm_small.wgsl.
    MODULE, MODULE_SUBGROUP: [
        MATH,
        ACTIVATION,
        RNG,
        NOISE,
        GEMM_TILES,
        GEMM_SMALL,
        shader_file!("gemm_corrupt.wgsl"),
    ]
}

const GEMM_CORRUPT: Kernel<GemmCorruptParams> = Kernel {
    op: "gemm_corrupt",
    module: MODULE,
    entry: "gemm_corrupt",
    bindings: &[read(1, "a"), read(2, "b"), write(3, "c"), write(4, "bias"), write(5, "x_tilde")],
    overrides: &["TRANS_A", "TRANS_B", "VEC_A", "VEC_B", "MR", "KL", "ACT"],
    params: PhantomData,
};

/// `GEMM_CORRUPT` with subgroup shuffles.
const GEMM_CORRUPT_SUBGROUP: Kernel<GemmCorruptParams> =
    Kernel { module: MODULE_SUBGROUP, ..GEMM_CORRUPT };

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&GEMM_CORRUPT, &GEMM_CORRUPT_SUBGROUP];

impl Run<GemmCorrupt<'_, GpuTensor>> for Gpu {
    /// One dispatch where the rows kernel takes the shape (unless a test forces another
    /// family, or `GPU_DAE_FUSE=off`) and the epilogue is `BiasAct`; else `Gemm` and `Corrupt`.
    fn run(&self, op: GemmCorrupt<'_, GpuTensor>) {
        let GemmSpec { m, n, k, .. } = op.spec;
        let fits = matches!(op.epilogue, Epilogue::BiasAct { .. });
        let Some((gemm_plan, mr, kl)) = self.fused_rows_plan(&op.spec, fits) else {
            op.run_as_ops(|g| self.run(g), |c| self.run(c));
            return;
        };
        let GemmCorrupt { c, x_tilde, a, b, spec, epilogue, noise, key } = op;
        let Epilogue::BiasAct { bias, act } = epilogue else { unreachable!("checked above") };
        for (t, len, what) in [
            (&*c, m * n, "c"),
            (&*x_tilde, m * n, "x̃"),
            (a, m * k, "a"),
            (b, k * n, "b"),
            (bias, n, "bias"),
        ] {
            assert!(t.len >= len, "gemm_corrupt {m}×{n}×{k}: {what} holds {}", t.len);
        }
        for (v, what) in [(m * k, "gemm_corrupt A"), (k * n, "gemm_corrupt B"), (m * n, "C")] {
            u32_of(v, what);
        }
        let params = GemmCorruptParams {
            noise: NoiseParams::new(noise, key),
            m: m as u32,
            n: n as u32,
            k: k as u32,
            alpha: spec.alpha,
            beta: spec.beta,
        };
        let [ta, tb, va, vb] = tiling(&spec, vec4_ok(&spec, k));
        let overrides = [ta, tb, va, vb, mr as u32, kl as u32, act as u32];
        let bufs = [&a.buf, &b.buf, &c.buf, &bias.buf, &x_tilde.buf];
        let mut st = self.lock();
        let first = st.log_len();
        let kernel = if st.subgroups { &GEMM_CORRUPT_SUBGROUP } else { &GEMM_CORRUPT };
        self.dispatch(&mut st, (kernel, &overrides), &params, &bufs, gemm_plan.groups);
        st.note_fewer(first, gemm_plan.fewer);
        // The GEMM's work with the bias read and x̃ written.
        let (flops, bytes) = work(&spec, k, n + m * n);
        st.note_work(first, flops, bytes);
    }
}
