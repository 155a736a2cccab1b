//! `ops::GemmXent` (shaders/gemm_xent.wgsl on the rows kernel of shaders/gemm_small.wgsl): the
//! decoder GEMM and the cross-entropy of its logits in one dispatch at m ≤ `ROWS_MAX_M`; for
//! larger m, a split product's `gemm_part` then `gemm_xent_reduce` (its parts' sum, the bias and
//! the loss in one pass), or the tiled GEMM then the loss in place.
//!
//! The cost is finished late (gpu/log_finish.rs): a step's workgroups leave their totals in
//! the cost log's records and `log_finish` adds them when the costs are read.

use std::marker::PhantomData;

use super::gemm::{GemmKernel, GemmPlan, count, tiling, vec4_ok, work};
use super::kernel::{
    AnyKernel, GEMM_SMALL, GEMM_TILES, Kernel, LOG_RECORDS, MATH, SUMS, read, rows_modules,
    shader_file, wgsl_struct, write,
};
use super::{Gpu, GpuTensor, grid_1d, u32_of};
use crate::backend::ops::{Gemm, GemmXent};
use crate::backend::{Activation, Epilogue, GemmSpec, Run};

wgsl_struct! {
    /// `Params` of shaders/gemm_xent.wgsl.
    pub(super) struct GemmXentParams {
        m: u32,
        n: u32,
        k: u32,
        alpha: f32,
        beta: f32,
        /// The step's record in the cost log's records: its first word.
        record: u32,
        scale: f32,
        /// K per part of a `Split` (gemm.rs); k otherwise.
        kc: u32,
    }
}

rows_modules! {
    /// shaders/gemm_xent.wgsl on rows_shuffle.wgsl, math.wgsl, sums.wgsl, log_records.wgsl,
    /// gemm_tiles.wgsl, gemm_small.wgsl.
    MODULE, MODULE_SUBGROUP: [
        MATH,
        SUMS,
        LOG_RECORDS,
        GEMM_TILES,
        GEMM_SMALL,
        shader_file!("gemm_xent.wgsl"),
    ]
}

const GEMM_XENT: Kernel<GemmXentParams> = Kernel {
    op: "gemm_xent",
    module: MODULE,
    entry: "gemm_xent",
    bindings: &[
        read(1, "a"),
        read(2, "b"),
        write(3, "c"),
        write(4, "bias"),
        read(5, "targets"),
        write(6, "records"),
    ],
    overrides: &["TRANS_A", "TRANS_B", "VEC_A", "VEC_B", "MR", "KL"],
    params: PhantomData,
};

const GEMM_XENT_LOSS: Kernel<GemmXentParams> = Kernel {
    entry: "gemm_xent_loss",
    bindings: &[write(3, "c"), read(5, "targets"), write(6, "records")],
    overrides: &[],
    ..GEMM_XENT
};

/// After a `Split`'s `gemm_part`: its parts added in order, the bias, and the loss.
const GEMM_XENT_REDUCE: Kernel<GemmXentParams> = Kernel {
    entry: "gemm_xent_reduce",
    bindings: &[
        write(3, "c"),
        write(4, "bias"),
        read(5, "targets"),
        write(6, "records"),
        read(7, "part"),
    ],
    overrides: &[],
    ..GEMM_XENT
};

/// `GEMM_XENT` with subgroup shuffles.
const GEMM_XENT_SUBGROUP: Kernel<GemmXentParams> = Kernel { module: MODULE_SUBGROUP, ..GEMM_XENT };

pub(super) const KERNELS: &[&dyn AnyKernel] =
    &[&GEMM_XENT, &GEMM_XENT_SUBGROUP, &GEMM_XENT_LOSS, &GEMM_XENT_REDUCE];

impl Run<GemmXent<'_, GpuTensor>> for Gpu {
    /// One dispatch for m ≤ `ROWS_MAX_M` (the rows kernel, unless a test forces another
    /// family, or `GPU_DAE_FUSE=off`), two for a split product, else the GEMM and the loss
    /// pass; the cost's finish comes later (see the module's doc).
    fn run(&self, op: GemmXent<'_, GpuTensor>) {
        let GemmXent { grad, costs, slot, a, b, spec, bias, target, scale } = op;
        let GemmSpec { m, n, k, .. } = spec;
        assert!(spec.beta == 0.0, "gemm_xent: β = {} but grad is not read", spec.beta);
        assert!(slot < costs.len, "gemm_xent: slot {slot} of a cost vector of {}", costs.len);
        assert!(
            a.len >= m * k && b.len >= k * n && grad.len >= m * n,
            "gemm_xent {m}×{n}×{k}: a holds {}, b {}, grad {}",
            a.len,
            b.len,
            grad.len
        );
        assert!(
            bias.len >= n && target.len >= m * n,
            "gemm_xent {m}×{n}: bias holds {}, target {}",
            bias.len,
            target.len
        );
        for (v, what) in [(m * k, "gemm_xent A"), (k * n, "gemm_xent B"), (m * n, "gemm_xent C")] {
            u32_of(v, what);
        }
        // The rows kernel, or a split product whose reduction pass takes the loss; otherwise
        // the GEMM, then the loss pass (an empty product's writes a zero total).
        let fused = self.fused_gemm_plan(&spec, true);
        if fused.is_none() {
            let epilogue = Epilogue::BiasAct { bias, act: Activation::Identity };
            self.run(Gemm { c: &mut *grad, a, b, spec, epilogue });
        }
        let mut st = self.lock();
        let groups = match &fused {
            Some(p @ GemmPlan { kernel: GemmKernel::Rows { .. }, .. }) => p.groups,
            _ => grid_1d(m * n),
        };
        // (May record a finish of the log's earlier records: the op's own dispatch is next.)
        let (records, record) = self.deferred_records(&mut st, costs, slot, count(groups));
        let first = st.log_len();
        let mut params = GemmXentParams {
            m: m as u32,
            n: n as u32,
            k: k as u32,
            alpha: spec.alpha,
            beta: 0.0,
            record,
            scale,
            kc: k as u32,
        };
        match fused {
            Some(GemmPlan { kernel: GemmKernel::Rows { mr, kl }, fewer, .. }) => {
                let [ta, tb, va, vb] = tiling(&spec, vec4_ok(&spec, k));
                let overrides = [ta, tb, va, vb, mr as u32, kl as u32];
                let bufs = [&a.buf, &b.buf, &grad.buf, &bias.buf, &target.buf, &*records];
                let kernel = if st.subgroups { &GEMM_XENT_SUBGROUP } else { &GEMM_XENT };
                self.dispatch(&mut st, (kernel, &overrides), &params, &bufs, groups);
                st.note_fewer(first, fewer);
                let (flops, bytes) = work(&spec, k, n + m * n);
                st.note_work(first, flops, bytes);
            }
            Some(GemmPlan { kernel: GemmKernel::Split { kc, splits }, groups: tiles, fewer }) => {
                let part = self.record_gemm_part(&mut st, (a, b), &spec, (kc, splits), tiles);
                params.kc = kc as u32;
                let bufs = [&grad.buf, &bias.buf, &target.buf, &*records, &*part];
                self.dispatch(&mut st, (&GEMM_XENT_REDUCE, &[]), &params, &bufs, groups);
                st.note_fewer(first, fewer);
                // As the rows kernel's: the operands, the bias and the targets, once each.
                let (flops, bytes) = work(&spec, k, n + m * n);
                st.note_work(first, flops, bytes);
            }
            _ => {
                params.k = 0;
                let bufs = [&grad.buf, &target.buf, &*records];
                self.dispatch(&mut st, (&GEMM_XENT_LOSS, &[]), &params, &bufs, groups);
                st.note_bytes(12 * m * n);
            }
        }
    }
}
