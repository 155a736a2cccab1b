//! `ops::Gemm` (shaders/gemm.wgsl on shaders/gemm_tiles.wgsl): the register-tiled GEMM, one
//! entry point per epilogue, each binding only the tensors it reads.

use std::marker::PhantomData;

use super::kernel::{
    ACTIVATION, AnyKernel, Binding, GEMM_TILES, Kernel, MATH, Module, read, shader_file,
    wgsl_struct, write,
};
use super::{Gpu, GpuTensor, u32_of};
use crate::backend::ops::Gemm;
use crate::backend::{Activation, Epilogue, GemmSpec, Run};

/// The output tile of one workgroup: 64 × 64 (BM × BN in gemm_tiles.wgsl).
pub(super) const TILE: usize = 64;

/// The tiling's override constants (gemm_tiles.wgsl), in `tiling`'s order.
pub(super) const TILING: [&str; 4] = ["TRANS_A", "TRANS_B", "VEC_A", "VEC_B"];

wgsl_struct! {
    /// `Params` of shaders/gemm.wgsl.
    pub(super) struct GemmParams {
        m: u32,
        n: u32,
        k: u32,
        alpha: f32,
        beta: f32,
    }
}

const AB_C: [Binding; 3] = [read(1, "a"), read(2, "b"), write(3, "c")];

/// shaders/gemm.wgsl on math.wgsl, activation.wgsl, gemm_tiles.wgsl.
const MODULE: Module = Module(&[MATH, ACTIVATION, GEMM_TILES, shader_file!("gemm.wgsl")]);

/// C = α·op(A)·op(B) + β·C.
const GEMM: Kernel<GemmParams> = Kernel {
    op: "gemm",
    module: MODULE,
    entry: "gemm",
    bindings: &AB_C,
    overrides: &TILING,
    params: PhantomData,
};

/// `Epilogue::BiasAct` (e = bias [n]), or with GRAD `Epilogue::ActGrad` (e = out [m, n]).
const GEMM_EPILOGUE: Kernel<GemmParams> = Kernel {
    op: "gemm",
    module: MODULE,
    entry: "gemm_epilogue",
    bindings: &[AB_C[0], AB_C[1], AB_C[2], read(4, "e")],
    overrides: &["TRANS_A", "TRANS_B", "VEC_A", "VEC_B", "ACT", "GRAD"],
    params: PhantomData,
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&GEMM, &GEMM_EPILOGUE];

/// Whether a matrix of `s`'s pair with inner dimension `k` can be read as vec4 words: its
/// stored contiguous dimension is a multiple of 4 (A: k, or m when transposed; B: n, or k when
/// transposed).
pub(super) fn vec4_ok(s: &GemmSpec, k: usize) -> (bool, bool) {
    let a = if s.trans_a { s.m } else { k }.is_multiple_of(4);
    let b = if s.trans_b { k } else { s.n }.is_multiple_of(4);
    (a, b)
}

/// The tiling's override values (`TILING`) for `s` with vec4 reads where `vec` allows.
pub(super) fn tiling(s: &GemmSpec, (vec_a, vec_b): (bool, bool)) -> [u32; 4] {
    [s.trans_a, s.trans_b, vec_a, vec_b].map(u32::from)
}

/// ⌈n/64⌉ × ⌈m/64⌉ workgroups, one per output tile.
pub(super) fn tile_grid(s: &GemmSpec) -> [u32; 3] {
    [s.n.div_ceil(TILE) as u32, u32_of(s.m.div_ceil(TILE), "gemm row tiles"), 1]
}

impl Run<Gemm<'_, GpuTensor>> for Gpu {
    /// One dispatch of ⌈n/64⌉ × ⌈m/64⌉ workgroups.
    fn run(&self, op: Gemm<'_, GpuTensor>) {
        let Gemm { c, a, b, spec: s, epilogue } = op;
        let GemmSpec { m, n, k, .. } = s;
        assert!(
            a.len >= m * k && b.len >= k * n && c.len >= m * n,
            "gemm {m}×{n}×{k}: a holds {}, b {}, c {}",
            a.len,
            b.len,
            c.len
        );
        if m == 0 || n == 0 {
            return;
        }
        for (v, what) in [(m * k, "gemm A"), (k * n, "gemm B"), (m * n, "gemm C")] {
            u32_of(v, what);
        }
        let params =
            GemmParams { m: m as u32, n: n as u32, k: k as u32, alpha: s.alpha, beta: s.beta };
        let [ta, tb, va, vb] = tiling(&s, vec4_ok(&s, k));
        let groups = tile_grid(&s);
        // The epilogue's tensor, activation and GRAD; the identity's derivative is 1: nothing
        // to apply.
        let epilogue = match epilogue {
            Epilogue::None | Epilogue::ActGrad { act: Activation::Identity, .. } => None,
            Epilogue::BiasAct { bias, act } => {
                assert!(bias.len >= n, "gemm bias holds {}, n = {n}", bias.len);
                Some((bias, act, false))
            }
            Epilogue::ActGrad { out, act } => {
                assert!(out.len >= m * n, "gemm ActGrad out holds {}, [{m}, {n}] needed", out.len);
                Some((out, act, true))
            }
        };
        let mut st = self.lock();
        match epilogue {
            None => {
                let bufs = [&a.buf, &b.buf, &c.buf];
                self.dispatch(&mut st, (&GEMM, &[ta, tb, va, vb]), &params, &bufs, groups);
            }
            Some((e, act, grad)) => {
                let bufs = [&a.buf, &b.buf, &c.buf, &e.buf];
                let overrides = [ta, tb, va, vb, act as u32, u32::from(grad)];
                self.dispatch(&mut st, (&GEMM_EPILOGUE, &overrides), &params, &bufs, groups);
            }
        }
    }
}
