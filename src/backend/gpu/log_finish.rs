//! Per-step logs finished late (shaders/log_records.wgsl, shaders/log_finish.wgsl): an op that
//! writes a step's value of a log (the costs of `gemm_xent`, `gemm_sq_err` and the losses, the
//! Jacobian norms of `contractive`, the fractions on of `count_positive`) leaves each
//! workgroup's total in the step's record, one record of `stride` words a slot, kept per log in
//! `State::deferred`; `log_finish` adds every pending record in one dispatch when something
//! reads the log: `download`, or any dispatch that binds it (so a later op writing the same log
//! is ordered after the finish). A step pays no dispatch and no single-workgroup reduction for
//! its log value; an epoch pays one finish per log per readback.

use std::marker::PhantomData;
use std::sync::Arc;

use super::kernel::{AnyKernel, Kernel, Module, SUMS, shader_file, wgsl_struct, write};
use super::{Buf, Gpu, GpuTensor, State, u32_of};

wgsl_struct! {
    /// `Params` of shaders/log_finish.wgsl.
    pub(super) struct LogFinishParams {
        /// The first pending slot.
        first: u32,
        /// Words a record.
        stride: u32,
        /// Slots of the log.
        slots: u32,
    }
}

/// shaders/log_finish.wgsl on sums.wgsl.
const MODULE: Module = Module(&[SUMS, shader_file!("log_finish.wgsl")]);

const LOG_FINISH: Kernel<LogFinishParams> = Kernel {
    op: "log_finish",
    module: MODULE,
    entry: "log_finish",
    bindings: &[write(1, "records"), write(2, "out")],
    overrides: &[],
    params: PhantomData,
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&LOG_FINISH];

/// A log's pending records (`State::deferred`, by the log's buffer id).
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

impl Gpu {
    /// The record buffer of the log `log` for a step of `groups` workgroups into `slot`, and
    /// the word its record starts at; the log's earlier records are finished first when they
    /// were laid out for fewer workgroups. Call before taking the op's first log index: it
    /// may record a finish.
    pub(super) fn deferred_records(
        &self,
        st: &mut State,
        log: &GpuTensor,
        slot: usize,
        groups: usize,
    ) -> (Arc<Buf>, u32) {
        assert!(slot < log.len, "slot {slot} of a log of {}", log.len);
        let stride = groups + 2;
        let fits = st.deferred.get(&log.buf.id).is_some_and(|d| d.stride >= stride);
        if !fits {
            self.finish_deferred(st, &log.buf);
            let words = log.len * stride;
            u32_of(words, "log records");
            let records = Arc::new(self.buffer("log records", words * 4, None));
            let entry = Deferred { records, stride, slots: log.len, pending: 0..0 };
            st.deferred.insert(log.buf.id, entry);
        }
        let d = st.deferred.get_mut(&log.buf.id).expect("inserted above");
        d.pending = if d.pending.is_empty() {
            slot..slot + 1
        } else {
            d.pending.start.min(slot)..d.pending.end.max(slot + 1)
        };
        (Arc::clone(&d.records), u32_of(slot * d.stride, "log record"))
    }

    /// Records the finish of the log `log`'s pending records, if it has any.
    pub(super) fn finish_deferred(&self, st: &mut State, log: &Buf) {
        let Some(d) = st.deferred.get_mut(&log.id).filter(|d| !d.pending.is_empty()) else {
            return;
        };
        let pending = std::mem::replace(&mut d.pending, 0..0);
        let (records, stride, slots) = (Arc::clone(&d.records), d.stride, d.slots);
        let params = LogFinishParams {
            first: pending.start as u32,
            stride: stride as u32,
            slots: slots as u32,
        };
        let x = pending.len().min(65_535);
        let groups = [x as u32, pending.len().div_ceil(x) as u32, 1];
        self.dispatch(st, (&LOG_FINISH, &[]), &params, &[&*records, log], groups);
        // The pending records read, their slots written.
        st.note_bytes(4 * pending.len() * (stride + 1));
    }
}
