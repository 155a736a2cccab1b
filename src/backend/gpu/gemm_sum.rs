//! `ops::GemmSum` (shaders/gemm_sum.wgsl on shaders/gemm_tiles.wgsl and gemm_small.wgsl): two
//! products summed in one K loop, of the 64×64 tiles or, for short inner dimensions (the update
//! at a minibatch), of the outer kernel (`gemm::plan`).

use std::marker::PhantomData;

use super::gemm::{GemmKernel, TILING, plan, tiling, vec4_ok, work};
use super::kernel::{
    AnyKernel, Binding, GEMM_SMALL, GEMM_TILES, Kernel, Module, read, shader_file, wgsl_struct,
    write,
};
use super::{Gpu, GpuTensor, u32_of};
use crate::backend::ops::GemmSum;
use crate::backend::{GemmSpec, Run};

wgsl_struct! {
    /// `Params` of shaders/gemm_sum.wgsl.
    pub(super) struct GemmSumParams {
        m: u32,
        n: u32,
        /// Inner dimension of the first pair.
        k: u32,
        /// Inner dimension of the second pair.
        k2: u32,
        alpha: f32,
        beta: f32,
    }
}

/// shaders/gemm_sum.wgsl on gemm_tiles.wgsl and gemm_small.wgsl.
const MODULE: Module = Module(&[GEMM_TILES, GEMM_SMALL, shader_file!("gemm_sum.wgsl")]);

const BINDINGS: [Binding; 5] =
    [read(1, "a"), read(2, "b"), read(3, "a2"), read(4, "b2"), write(5, "c")];

const GEMM_SUM: Kernel<GemmSumParams> = Kernel {
    op: "gemm_sum",
    module: MODULE,
    entry: "gemm_sum",
    bindings: &BINDINGS,
    overrides: &TILING,
    params: PhantomData,
};

const GEMM_SUM_OUTER: Kernel<GemmSumParams> = Kernel {
    op: "gemm_sum",
    module: MODULE,
    entry: "gemm_sum_outer",
    bindings: &BINDINGS,
    overrides: &TILING,
    params: PhantomData,
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&GEMM_SUM, &GEMM_SUM_OUTER];

impl Run<GemmSum<'_, GpuTensor>> for Gpu {
    /// One dispatch: the tiles or the outer kernel, as `gemm::plan` chooses.
    fn run(&self, op: GemmSum<'_, GpuTensor>) {
        let GemmSum { c, a1, b1, a2, b2, spec: s, k2 } = op;
        let GemmSpec { m, n, k, .. } = s;
        assert!(
            a1.len >= m * k && b1.len >= k * n && c.len >= m * n,
            "gemm_sum {m}×{n}×{k}: a₁ holds {}, b₁ {}, c {}",
            a1.len,
            b1.len,
            c.len
        );
        assert!(
            a2.len >= m * k2 && b2.len >= k2 * n,
            "gemm_sum second pair {m}×{n}×{k2}: a₂ holds {}, b₂ {}",
            a2.len,
            b2.len
        );
        if m == 0 || n == 0 {
            return;
        }
        for (v, what) in
            [(m * k, "A₁"), (k * n, "B₁"), (m * k2, "A₂"), (k2 * n, "B₂"), (m * n, "C")]
        {
            u32_of(v, what);
        }
        // vec4 loads need the stored matrix's contiguous dimension to be a multiple of 4, for
        // both pairs (they share the loaders).
        let ((va1, vb1), (va2, vb2)) = (vec4_ok(&s, k), vec4_ok(&s, k2));
        let overrides = tiling(&s, (va1 && va2, vb1 && vb2));
        let params = GemmSumParams {
            m: m as u32,
            n: n as u32,
            k: k as u32,
            k2: k2 as u32,
            alpha: s.alpha,
            beta: s.beta,
        };
        let bufs = [&a1.buf, &b1.buf, &a2.buf, &b2.buf, &c.buf];
        let mut st = self.lock();
        let first = st.log_len();
        let plan = plan(&s, Some(k2), false, st.force_gemm);
        let kernel = if plan.kernel == GemmKernel::Outer { &GEMM_SUM_OUTER } else { &GEMM_SUM };
        self.dispatch(&mut st, (kernel, &overrides), &params, &bufs, plan.groups);
        st.note_fewer(plan.fewer);
        // Both products, C counted once.
        let (f1, b1) = work(&s, k, 0);
        let (f2, b2) = work(&GemmSpec { beta: 0.0, ..s }, k2, 0);
        st.note_work(first, f1 + f2, b1 + b2 - 4 * (m * n) as u64);
    }
}
