//! `ops::GemmSqErr` (shaders/gemm_sq_err.wgsl on the rows kernel of shaders/gemm_small.wgsl):
//! the decoder GEMM and the squared error of its output in one dispatch where the rows kernel
//! takes the shape; otherwise the op's `Gemm` and `SqErr`.
//!
//! The cost is finished late (gpu/log_finish.rs), as `gemm_xent`'s is.

use std::marker::PhantomData;

use super::gemm::{count, tiling, vec4_ok, work};
use super::kernel::{
    ACTIVATION, AnyKernel, GEMM_SMALL, GEMM_TILES, Kernel, LOG_RECORDS, MATH, read, rows_modules,
    shader_file, wgsl_struct, write,
};
use super::{Gpu, GpuTensor, u32_of};
use crate::backend::ops::GemmSqErr;
use crate::backend::{GemmSpec, Run};

wgsl_struct! {
    /// `Params` of shaders/gemm_sq_err.wgsl.
    pub(super) struct GemmSqErrParams {
        m: u32,
        n: u32,
        k: u32,
        alpha: f32,
        beta: f32,
        /// The step's record in the cost log's records: its first word.
        record: u32,
        scale: f32,
    }
}

rows_modules! {
    /// shaders/gemm_sq_err.wgsl on rows_shuffle.wgsl, math.wgsl, activation.wgsl,
    /// log_records.wgsl, gemm_tiles.wgsl, gemm_small.wgsl.
    MODULE, MODULE_SUBGROUP: [
        MATH,
        ACTIVATION,
        LOG_RECORDS,
        GEMM_TILES,
        GEMM_SMALL,
        shader_file!("gemm_sq_err.wgsl"),
    ]
}

const GEMM_SQ_ERR: Kernel<GemmSqErrParams> = Kernel {
    op: "gemm_sq_err",
    module: MODULE,
    entry: "gemm_sq_err",
    bindings: &[
        read(1, "a"),
        read(2, "b"),
        write(3, "c"),
        write(4, "bias"),
        read(5, "targets"),
        write(6, "records"),
        write(7, "y"),
    ],
    overrides: &["TRANS_A", "TRANS_B", "VEC_A", "VEC_B", "MR", "KL", "ACT"],
    params: PhantomData,
};

/// `GEMM_SQ_ERR` with subgroup shuffles.
const GEMM_SQ_ERR_SUBGROUP: Kernel<GemmSqErrParams> =
    Kernel { module: MODULE_SUBGROUP, ..GEMM_SQ_ERR };

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&GEMM_SQ_ERR, &GEMM_SQ_ERR_SUBGROUP];

impl Run<GemmSqErr<'_, GpuTensor>> for Gpu {
    /// One dispatch where the rows kernel takes the shape (unless a test forces another
    /// family, or `GPU_DAE_FUSE=off`); else `Gemm` and `SqErr`. The cost's finish comes later
    /// (see the module's doc).
    fn run(&self, op: GemmSqErr<'_, GpuTensor>) {
        let GemmSpec { m, n, k, .. } = op.spec;
        assert!(op.spec.beta == 0.0, "gemm_sq_err: β = {} but y is not read", op.spec.beta);
        assert!(op.slot < op.costs.len, "gemm_sq_err: slot {} of {}", op.slot, op.costs.len);
        let Some((gemm_plan, mr, kl)) = self.fused_rows_plan(&op.spec, true) else {
            op.run_as_ops(|g| self.run(g), |l| self.run(l));
            return;
        };
        let GemmSqErr { grad, y, costs, slot, a, b, spec, bias, out, target, scale } = op;
        for (t, len, what) in [
            (&*grad, m * n, "grad"),
            (&*y, m * n, "y"),
            (a, m * k, "a"),
            (b, k * n, "b"),
            (bias, n, "bias"),
            (target, m * n, "target"),
        ] {
            assert!(t.len >= len, "gemm_sq_err {m}×{n}×{k}: {what} holds {}", t.len);
        }
        for (v, what) in
            [(m * k, "gemm_sq_err A"), (k * n, "gemm_sq_err B"), (m * n, "gemm_sq_err C")]
        {
            u32_of(v, what);
        }
        let mut st = self.lock();
        // (May record a finish of the log's earlier records: the op's own dispatch is next.)
        let (records, record) =
            self.deferred_records(&mut st, costs, slot, count(gemm_plan.groups));
        let first = st.log_len();
        let params = GemmSqErrParams {
            m: m as u32,
            n: n as u32,
            k: k as u32,
            alpha: spec.alpha,
            beta: 0.0,
            record,
            scale,
        };
        let [ta, tb, va, vb] = tiling(&spec, vec4_ok(&spec, k));
        let overrides = [ta, tb, va, vb, mr as u32, kl as u32, out as u32];
        let bufs = [&a.buf, &b.buf, &grad.buf, &bias.buf, &target.buf, &*records, &y.buf];
        let kernel = if st.subgroups { &GEMM_SQ_ERR_SUBGROUP } else { &GEMM_SQ_ERR };
        self.dispatch(&mut st, (kernel, &overrides), &params, &bufs, gemm_plan.groups);
        st.note_fewer(first, gemm_plan.fewer);
        // The GEMM's work with the bias and the targets read and y written.
        let (flops, bytes) = work(&spec, k, n + 2 * m * n);
        st.note_work(first, flops, bytes);
    }
}
