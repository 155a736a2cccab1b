//! `ops::LoadGemm` (shaders/load_gemm.wgsl on the rows kernel of shaders/gemm_small.wgsl and
//! the tiles of shaders/gemm_tiles.wgsl): a minibatch's load, corruption and encoder product
//! where A's words are whole quads of a row (k a multiple of 4) and the epilogue is `BiasAct`:
//! one dispatch where the rows kernel takes the shape, and where the product is split along K
//! (more than `ROWS_MAX_M` rows) the split's first pass with the load in its loader
//! (`load_gemm_part`), then its reduction pass. Otherwise the op's `LoadBatch` and `Gemm`.

use std::marker::PhantomData;

use super::gemm::{GemmKernel, GemmPlan, TILING, tiling, vec4_ok, work};
use super::kernel::{
    ACTIVATION, AnyKernel, GEMM_SMALL, GEMM_TILES, Kernel, MATH, NOISE, RNG, read, rows_modules,
    shader_file, wgsl_struct, write,
};
use super::noise::NoiseParams;
use super::{Gpu, GpuImages, GpuTensor, u32_of};
use crate::backend::ops::{LoadGemm, standardising};
use crate::backend::{Epilogue, GemmSpec, Run};

wgsl_struct! {
    /// `Params` of shaders/load_gemm.wgsl.
    pub(super) struct LoadGemmParams {
        /// The corruption of x̃.
        noise: NoiseParams,
        m: u32,
        n: u32,
        k: u32,
        alpha: f32,
        beta: f32,
        /// Index of the batch's first pixel: first · k.
        first: u32,
        /// Standardising: x·mul + add (`ops::standardising`).
        mul: f32,
        add: f32,
        /// K per part of a `Split` (gemm.rs); k otherwise.
        kc: u32,
    }
}

rows_modules! {
    /// shaders/load_gemm.wgsl on rows_shuffle.wgsl, math.wgsl, activation.wgsl, rng.wgsl,
    /// noise.wgsl, gemm_tiles.wgsl, gemm_small.wgsl.
    MODULE, MODULE_SUBGROUP: [
        MATH,
        ACTIVATION,
        RNG,
        NOISE,
        GEMM_TILES,
        GEMM_SMALL,
        shader_file!("load_gemm.wgsl"),
    ]
}

const LOAD_GEMM: Kernel<LoadGemmParams> = Kernel {
    op: "load_gemm",
    module: MODULE,
    entry: "load_gemm",
    bindings: &[
        read(1, "pixels"),
        read(2, "b"),
        write(3, "c"),
        write(4, "bias"),
        write(5, "x"),
        write(6, "x_tilde"),
    ],
    overrides: &["TRANS_A", "TRANS_B", "VEC_A", "VEC_B", "MR", "KL", "ACT"],
    params: PhantomData,
};

/// `LOAD_GEMM` with subgroup shuffles.
const LOAD_GEMM_SUBGROUP: Kernel<LoadGemmParams> = Kernel { module: MODULE_SUBGROUP, ..LOAD_GEMM };

/// A `Split`'s first pass with the load in its loader; gemm.rs's reduction pass follows.
const LOAD_GEMM_PART: Kernel<LoadGemmParams> = Kernel {
    entry: "load_gemm_part",
    bindings: &[
        read(1, "pixels"),
        read(2, "b"),
        write(5, "x"),
        write(6, "x_tilde"),
        write(7, "part"),
    ],
    overrides: &TILING,
    ..LOAD_GEMM
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&LOAD_GEMM, &LOAD_GEMM_SUBGROUP, &LOAD_GEMM_PART];

impl Run<LoadGemm<'_, GpuTensor, GpuImages>> for Gpu {
    /// Where k is a multiple of 4 and the epilogue is `BiasAct`: one dispatch where the rows
    /// kernel takes the shape, two where the product is split (unless a test forces another
    /// family, or `GPU_DAE_FUSE=off`); else `LoadBatch` and `Gemm`.
    fn run(&self, op: LoadGemm<'_, GpuTensor, GpuImages>) {
        let GemmSpec { m, n, k, .. } = op.spec;
        assert!(!op.spec.trans_a, "load_gemm: A is the batch [m, k], not transposed");
        assert_eq!(op.images.dim, k, "load_gemm: images of dim {} but k = {k}", op.images.dim);
        let fits = matches!(op.epilogue, Epilogue::BiasAct { .. }) && k.is_multiple_of(4);
        let Some(gemm_plan) = self.fused_gemm_plan(&op.spec, fits) else {
            op.run_as_ops(|l| self.run(l), |g| self.run(g));
            return;
        };
        let LoadGemm { c, x, x_tilde, images, b, first, spec, epilogue, noise, key, standardise } =
            op;
        let Epilogue::BiasAct { bias, act } = epilogue else { unreachable!("matched above") };
        assert!(
            first + m <= images.n,
            "load_gemm: rows {first}..{} of an image set of {}",
            first + m,
            images.n
        );
        for (t, len, what) in [
            (&*c, m * n, "c"),
            (&*x, m * k, "x"),
            (&*x_tilde, m * k, "x̃"),
            (b, k * n, "b"),
            (bias, n, "bias"),
        ] {
            assert!(t.len >= len, "load_gemm {m}×{n}×{k}: {what} holds {}", t.len);
        }
        u32_of(k * n, "load_gemm B");
        u32_of(m * n, "load_gemm C");
        let (mul, add) = standardising(standardise);
        let mut params = LoadGemmParams {
            noise: NoiseParams::new(noise, key),
            m: m as u32,
            n: n as u32,
            k: k as u32,
            alpha: spec.alpha,
            beta: spec.beta,
            first: u32_of(first * k, "first pixel"),
            mul,
            add,
            kc: k as u32,
        };
        let [ta, tb, va, vb] = tiling(&spec, vec4_ok(&spec, k));
        let mut st = self.lock();
        let first_logged = st.log_len();
        let GemmPlan { kernel: family, groups, fewer } = gemm_plan;
        match family {
            GemmKernel::Split { kc, splits } => {
                params.kc = kc as u32;
                let part = self.partials(&mut st, splits * m * n);
                let bufs = [&images.buf, &b.buf, &x.buf, &x_tilde.buf, &*part];
                self.dispatch(
                    &mut st,
                    (&LOAD_GEMM_PART, &[ta, tb, va, vb]),
                    &params,
                    &bufs,
                    groups,
                );
                let epilogue = Some((bias, act as u32, 0));
                self.record_gemm_reduce(&mut st, (c, epilogue), &part, &spec, kc);
            }
            GemmKernel::Rows { mr, kl } => {
                let overrides = [ta, tb, va, vb, mr as u32, kl as u32, act as u32];
                let bufs = [&images.buf, &b.buf, &c.buf, &bias.buf, &x.buf, &x_tilde.buf];
                let kernel = if st.subgroups { &LOAD_GEMM_SUBGROUP } else { &LOAD_GEMM };
                self.dispatch(&mut st, (kernel, &overrides), &params, &bufs, groups);
            }
            _ => unreachable!("fused_gemm_plan gives the rows kernel or a split"),
        }
        st.note_fewer(first_logged, fewer);
        // The GEMM's work with A's floats replaced by its pixels, x and x̃ written.
        let (flops, bytes) = work(&spec, k, n);
        let a_bytes = (4 * m * k) as u64;
        st.note_work(first_logged, flops, bytes - a_bytes + (m * k) as u64 + 2 * a_bytes);
    }
}
