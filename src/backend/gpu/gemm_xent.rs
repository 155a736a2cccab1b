//! `ops::GemmXent` (shaders/gemm_xent.wgsl on the rows kernel of shaders/gemm_small.wgsl): the
//! decoder GEMM and the cross-entropy of its logits in one dispatch at m ≤ `ROWS_MAX_M`; the
//! GEMM then the loss in place (two or three dispatches) for larger m.
//!
//! The cost is finished late. A step's workgroups leave their totals in the cost log's
//! record buffer (one record of `stride` words a slot, kept per cost tensor in
//! `State::deferred`), and `gemm_xent_finish` adds every pending record in one dispatch when
//! something reads the log: `download`, or any dispatch that binds it (so a later op writing
//! the same log is ordered after the finish). A step pays no dispatch and no single-workgroup
//! reduction for its cost; an epoch pays one finish per readback.

use std::marker::PhantomData;
use std::sync::Arc;

use super::gemm::{count, tiling, vec4_ok, work};
use super::kernel::{
    AnyKernel, GEMM_SMALL, GEMM_TILES, Kernel, MATH, Module, SUMS, read, shader_file, wgsl_struct,
    write,
};
use super::{Buf, Gpu, GpuTensor, State, grid_1d, u32_of};
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
        /// The step's record: its first word (the finish: its first slot).
        record: u32,
        scale: f32,
        /// The finish: words a record, and slots of the log.
        stride: u32,
        slots: u32,
    }
}

/// shaders/gemm_xent.wgsl on math.wgsl, sums.wgsl, gemm_tiles.wgsl, gemm_small.wgsl.
const MODULE: Module =
    Module(&[MATH, SUMS, GEMM_TILES, GEMM_SMALL, shader_file!("gemm_xent.wgsl")]);

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

const GEMM_XENT_FINISH: Kernel<GemmXentParams> = Kernel {
    entry: "gemm_xent_finish",
    bindings: &[write(6, "records"), write(7, "costs")],
    overrides: &[],
    ..GEMM_XENT
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&GEMM_XENT, &GEMM_XENT_LOSS, &GEMM_XENT_FINISH];

/// A cost log's pending records (`State::deferred`, by the log's buffer id).
pub(super) struct Deferred {
    /// [slots, stride] u32.
    records: Arc<Buf>,
    /// Words a record: two of header, then one a workgroup.
    stride: usize,
    /// Slots of the log.
    slots: usize,
    /// The slots written since the last finish, lo .. hi (empty: nothing pending).
    pending: std::ops::Range<usize>,
}

impl Run<GemmXent<'_, GpuTensor>> for Gpu {
    /// One dispatch for m ≤ `ROWS_MAX_M` (the rows kernel, unless a test forces another
    /// family, or `GPU_DAE_FUSE=off`), else the GEMM's dispatches and the loss pass; the
    /// cost's finish comes later (see the module's doc).
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
        // Without the rows kernel: the GEMM, then the loss pass (an empty product's writes a
        // zero total).
        let rows = self.fused_rows_plan(&spec, true);
        if rows.is_none() {
            let epilogue = Epilogue::BiasAct { bias, act: Activation::Identity };
            self.run(Gemm { c: &mut *grad, a, b, spec, epilogue });
        }
        let mut st = self.lock();
        let groups = rows.as_ref().map_or_else(|| grid_1d(m * n), |(p, ..)| p.groups);
        // (May record a finish of the log's earlier records: the op's own dispatch is next.)
        let (records, stride) = self.deferred_records(&mut st, costs, slot, count(groups));
        let first = st.log_len();
        let mut params = GemmXentParams {
            m: m as u32,
            n: n as u32,
            k: k as u32,
            alpha: spec.alpha,
            beta: 0.0,
            record: u32_of(slot * stride, "gemm_xent record"),
            scale,
            stride: stride as u32,
            slots: costs.len as u32,
        };
        match rows {
            Some((gemm_plan, mr, kl)) => {
                let [ta, tb, va, vb] = tiling(&spec, vec4_ok(&spec, k));
                let overrides = [ta, tb, va, vb, mr as u32, kl as u32];
                let bufs = [&a.buf, &b.buf, &grad.buf, &bias.buf, &target.buf, &*records];
                self.dispatch(&mut st, (&GEMM_XENT, &overrides), &params, &bufs, groups);
                st.note_fewer(first, gemm_plan.fewer);
                let (flops, bytes) = work(&spec, k, n + m * n);
                st.note_work(first, flops, bytes);
            }
            None => {
                params.k = 0;
                let bufs = [&grad.buf, &target.buf, &*records];
                self.dispatch(&mut st, (&GEMM_XENT_LOSS, &[]), &params, &bufs, groups);
                st.note_bytes(12 * m * n);
            }
        }
    }
}

impl Gpu {
    /// The record buffer of the cost log `costs` for a step of `groups` workgroups into
    /// `slot`, and its stride; the log's earlier records are finished first when they were
    /// laid out for fewer workgroups.
    fn deferred_records(
        &self,
        st: &mut State,
        costs: &GpuTensor,
        slot: usize,
        groups: usize,
    ) -> (Arc<Buf>, usize) {
        let stride = groups + 2;
        let fits = st.deferred.get(&costs.buf.id).is_some_and(|d| d.stride >= stride);
        if !fits {
            self.finish_deferred(st, &costs.buf);
            let words = costs.len * stride;
            u32_of(words, "gemm_xent records");
            let records = Arc::new(self.buffer("cost records", words * 4, None));
            let entry = Deferred { records, stride, slots: costs.len, pending: 0..0 };
            st.deferred.insert(costs.buf.id, entry);
        }
        let d = st.deferred.get_mut(&costs.buf.id).expect("inserted above");
        d.pending = if d.pending.is_empty() {
            slot..slot + 1
        } else {
            d.pending.start.min(slot)..d.pending.end.max(slot + 1)
        };
        (Arc::clone(&d.records), d.stride)
    }

    /// Records the finish of the cost log `costs`'s pending records, if it has any.
    pub(super) fn finish_deferred(&self, st: &mut State, costs: &Buf) {
        let Some(d) = st.deferred.get_mut(&costs.id).filter(|d| !d.pending.is_empty()) else {
            return;
        };
        let pending = std::mem::replace(&mut d.pending, 0..0);
        let (records, stride, slots) = (Arc::clone(&d.records), d.stride, d.slots);
        let params = GemmXentParams {
            m: 0,
            n: 0,
            k: 0,
            alpha: 0.0,
            beta: 0.0,
            record: pending.start as u32,
            scale: 0.0,
            stride: stride as u32,
            slots: slots as u32,
        };
        let x = pending.len().min(65_535);
        let groups = [x as u32, pending.len().div_ceil(x) as u32, 1];
        self.dispatch(st, (&GEMM_XENT_FINISH, &[]), &params, &[&*records, costs], groups);
        // The pending records read, their slots written.
        st.note_bytes(4 * pending.len() * (stride + 1));
    }
}
