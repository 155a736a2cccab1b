//! `ops::GemmSum` (shaders/gemm_sum.wgsl on shaders/gemm_tiles.wgsl and gemm_small.wgsl): two
//! products summed in one K loop, of the 64×64 tiles or, for short inner dimensions (the update
//! at a minibatch), of the outer kernel (`gemm::plan`).

use std::marker::PhantomData;

use super::gemm::{GemmKernel, TILING, plan, tiling, vec4_ok, work};
use super::kernel::{
    AnyKernel, Binding, GEMM_SMALL, GEMM_TILES, Kernel, Module, ROWS_SHUFFLE, read, shader_file,
    wgsl_struct, write,
};
use super::{Gpu, GpuTensor, u32_of};
use crate::backend::ops::{ColSum, GemmSum, SumBiases};
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

/// shaders/gemm_sum.wgsl on rows_shuffle.wgsl, gemm_tiles.wgsl and gemm_small.wgsl (whose rows
/// kernel it never calls).
const MODULE: Module =
    Module(&[ROWS_SHUFFLE, GEMM_TILES, GEMM_SMALL, shader_file!("gemm_sum.wgsl")]);

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

/// The bindings of a kernel that also updates the biases of `ops::SumBiases` (cols, rows).
const BIAS_BINDINGS: [Binding; 7] = [
    BINDINGS[0],
    BINDINGS[1],
    BINDINGS[2],
    BINDINGS[3],
    BINDINGS[4],
    write(6, "bias"),
    write(7, "rows"),
];

/// `gemm_sum` with the biases of `ops::SumBiases`.
const GEMM_SUM_BIAS: Kernel<GemmSumParams> = Kernel {
    op: "gemm_sum",
    module: MODULE,
    entry: "gemm_sum_bias",
    bindings: &BIAS_BINDINGS,
    overrides: &TILING,
    params: PhantomData,
};

/// `gemm_sum_outer` with the biases of `ops::SumBiases`.
const GEMM_SUM_OUTER_BIAS: Kernel<GemmSumParams> = Kernel {
    op: "gemm_sum",
    module: MODULE,
    entry: "gemm_sum_outer_bias",
    bindings: &BIAS_BINDINGS,
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

pub(super) const KERNELS: &[&dyn AnyKernel] =
    &[&GEMM_SUM, &GEMM_SUM_BIAS, &GEMM_SUM_OUTER, &GEMM_SUM_OUTER_BIAS];

impl Run<GemmSum<'_, GpuTensor>> for Gpu {
    /// One dispatch: the tiles or the outer kernel, as `gemm::plan` chooses, the biases in the
    /// same pass (two `ColSum`s when C is empty).
    fn run(&self, op: GemmSum<'_, GpuTensor>) {
        let GemmSum { c, a1, b1, a2, b2, spec: s, k2, biases } = op;
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
        if let Some(SumBiases { cols, rows }) = &biases {
            assert!(s.trans_a && !s.trans_b, "gemm_sum biases need A₂ [k2, m] and B₁ [k, n]");
            assert!(
                cols.len >= n && rows.len >= m,
                "gemm_sum biases: cols {}, rows {}",
                cols.len,
                rows.len
            );
        }
        if m > 0 && n > 0 {
            self.record_gemm_sum([a1, b1, a2, b2, c], s, k2, biases);
        } else if let Some(SumBiases { cols, rows }) = biases {
            // No C, so no kernel of the product: the biases alone.
            let alpha = s.alpha;
            self.run(ColSum { out: cols, a: b1, rows: k, cols: n, alpha, beta: 1.0 });
            self.run(ColSum { out: rows, a: a2, rows: k2, cols: m, alpha, beta: 1.0 });
        }
    }
}

impl Gpu {
    /// Records C = α·(op(A₁)·op(B₁) + op(A₂)·op(B₂)) + β·C for m, n > 0 with the kernel
    /// `plan` chooses, and the biases in the same pass.
    fn record_gemm_sum(
        &self,
        [a1, b1, a2, b2, c]: [&GpuTensor; 5],
        s: GemmSpec,
        k2: usize,
        biases: Option<SumBiases<'_, GpuTensor>>,
    ) {
        let GemmSpec { m, n, k, .. } = s;
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
        let outer = plan.kernel == GemmKernel::Outer;
        match biases {
            Some(SumBiases { cols, rows }) => {
                let bufs = [&a1.buf, &b1.buf, &a2.buf, &b2.buf, &c.buf, &cols.buf, &rows.buf];
                let kernel = if outer { &GEMM_SUM_OUTER_BIAS } else { &GEMM_SUM_BIAS };
                self.dispatch(&mut st, (kernel, &overrides), &params, &bufs, plan.groups);
            }
            None => {
                let kernel = if outer { &GEMM_SUM_OUTER } else { &GEMM_SUM };
                self.dispatch(&mut st, (kernel, &overrides), &params, &bufs, plan.groups);
            }
        }
        st.note_fewer(first, plan.fewer);
        // Both products, C counted once.
        let (flops1, bytes1) = work(&s, k, 0);
        let (flops2, bytes2) = work(&GemmSpec { beta: 0.0, ..s }, k2, 0);
        st.note_work(first, flops1 + flops2, bytes1 + bytes2 - 4 * (m * n) as u64);
    }
}
