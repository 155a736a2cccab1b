//! `ops::DenseUpdate` (shaders/dense_update.wgsl): a dense layer's backward product and SGD
//! update in one pass over W at batch ≤ `MAX_ROWS`, its row sums in subgroup registers where
//! the adapter has subgroups (shaders/lane_sums_subgroup.wgsl) and in workgroup memory
//! otherwise (shaders/lane_sums.wgsl), both the same fixed tree; the two GEMMs of the op's
//! definition at larger batches, where the tiled GEMMs reuse W across the rows.

use std::marker::PhantomData;

use super::kernel::{
    ACTIVATION, AnyKernel, Kernel, LANE_SUMS, LANE_SUMS_SUBGROUP, LANE_TREE, MATH, Module, read,
    shader_file, wgsl_struct, write,
};
use super::{Gpu, GpuTensor, u32_of};
use crate::backend::Run;
use crate::backend::ops::DenseUpdate;

wgsl_struct! {
    /// `Params` of shaders/dense_update.wgsl.
    pub(super) struct DenseUpdateParams {
        n_in: u32,
        n_out: u32,
        alpha: f32,
    }
}

/// The most batch rows the one-pass kernel takes (its ROWS).
pub(super) const MAX_ROWS: usize = 4;

/// Lanes of a workgroup (its size).
const WORKGROUP: usize = 256;

/// The workgroups a grid dimension may have.
const MAX_GROUPS: usize = 65_535;

/// The kernel with its row sums in workgroup memory.
const DENSE_UPDATE: Kernel<DenseUpdateParams> = Kernel {
    op: "dense_update",
    module: Module(&[LANE_SUMS, LANE_TREE, MATH, ACTIVATION, shader_file!("dense_update.wgsl")]),
    entry: "dense_update",
    bindings: &[write(1, "dx"), write(2, "w"), write(3, "bias"), read(4, "d"), read(5, "x")],
    overrides: &["LR", "ROWS", "ACT"],
    params: PhantomData,
};

/// The kernel with the first levels of its row sums in subgroup shuffles.
const DENSE_UPDATE_SUBGROUP: Kernel<DenseUpdateParams> = Kernel {
    module: Module(&[
        LANE_SUMS_SUBGROUP,
        LANE_TREE,
        MATH,
        ACTIVATION,
        shader_file!("dense_update.wgsl"),
    ]),
    ..DENSE_UPDATE
};

pub(super) const KERNELS: &[&dyn AnyKernel] = &[&DENSE_UPDATE, &DENSE_UPDATE_SUBGROUP];

/// Lanes per row of W for `n_out` columns: about eight columns a lane (fewer levels in the
/// row's sum tree, fewer barriers), a power of two ≤ 256.
fn lanes_per_row(n_out: usize) -> usize {
    n_out.div_ceil(8).next_power_of_two().min(WORKGROUP)
}

impl Run<DenseUpdate<'_, GpuTensor>> for Gpu {
    /// One dispatch of ⌈n_in / (256 / LR)⌉ workgroups for 1 ≤ rows ≤ `MAX_ROWS`; otherwise
    /// the op's two GEMMs.
    fn run(&self, op: DenseUpdate<'_, GpuTensor>) {
        let (rows, n_in, n_out) = (op.rows, op.n_in, op.n_out);
        let lanes = lanes_per_row(n_out);
        let groups = n_in.div_ceil(WORKGROUP / lanes);
        if rows == 0 || rows > MAX_ROWS || n_out == 0 || groups == 0 || groups > MAX_GROUPS {
            op.run_as_gemms(|g| self.run(g));
            return;
        }
        let DenseUpdate { dx, w, bias, d, x, lr, act, .. } = op;
        for (t, len, what) in [
            (&*dx, rows * n_in, "dx"),
            (&*w, n_in * n_out, "w"),
            (&*bias, n_out, "bias"),
            (d, rows * n_out, "d"),
            (x, rows * n_in, "x"),
        ] {
            assert!(t.len >= len, "dense_update [{rows}, {n_in}, {n_out}]: {what} holds {}", t.len);
        }
        u32_of(n_in * n_out, "dense_update W");
        let params = DenseUpdateParams { n_in: n_in as u32, n_out: n_out as u32, alpha: -lr };
        let mut st = self.lock();
        let kernel = if st.subgroups { &DENSE_UPDATE_SUBGROUP } else { &DENSE_UPDATE };
        let overrides = [lanes as u32, rows as u32, act as u32];
        let first = st.log_len();
        let bufs = [&dx.buf, &w.buf, &bias.buf, &d.buf, &x.buf];
        self.dispatch(&mut st, (kernel, &overrides), &params, &bufs, [groups as u32, 1, 1]);
        if groups < 256 {
            let fewer =
                format!("{n_in} rows of W, {} a workgroup ({lanes} lanes each)", WORKGROUP / lanes);
            st.note_fewer(first, Some(fewer));
        }
        // The backward product and the update, 2·rows·n_in·n_out flops each; W read and
        // written once, d and the bias, x read and dx written.
        let flops = 4 * (rows * n_in * n_out) as u64;
        let elements = 2 * n_in * n_out + rows * n_out + 2 * n_out + 2 * rows * n_in;
        st.note_work(first, flops, 4 * elements as u64);
    }
}
