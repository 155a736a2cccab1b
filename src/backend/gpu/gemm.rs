//! `ops::Gemm` (shaders/gemm.wgsl on shaders/gemm_tiles.wgsl and shaders/gemm_small.wgsl): a
//! kernel chosen by shape (`plan`), each entry point binding only the tensors it reads.
//!
//! - `Tiled`: 64×64 tiles, one workgroup each, for products of many rows.
//! - `Split`: the same tiles over parts of K (grid z), the raw sums into the scratch buffer,
//!   then `gemm_reduce` adds the parts in order and applies α, β and the epilogue: for a grid of
//!   few tiles and a long K (a batch of 200 through a 784-wide layer).
//! - `Rows`: m ≤ `ROWS_MAX_M` (a minibatch, up to the tutorial's largest): MR ≤ 4 rows × 4·CT
//!   columns a workgroup, K split across its KL lanes (KL·CT = 256) and added in a fixed tree;
//!   CT narrows until the grid has `FILL` workgroups or the lanes would outnumber K's quads. One
//!   pass, epilogue included.
//! - `Outer`: a short K and no epilogue (the weight update, K = the batch): one thread per four
//!   elements of C.
//!
//! Every choice depends on the shape alone, and every sum has a fixed order: the same inputs
//! give the same bits on the same adapter.

use std::marker::PhantomData;
use std::sync::Arc;

use super::kernel::{
    ACTIVATION, AnyKernel, Binding, GEMM_SMALL, GEMM_TILES, Kernel, MATH, read, rows_modules,
    shader_file, wgsl_struct, write,
};
use super::{Buf, Gpu, GpuTensor, State, grid_1d, u32_of};
use crate::backend::ops::{ColSum, Gemm};
use crate::backend::{Activation, Epilogue, GemmSpec, Run};

/// The output tile of one `Tiled` workgroup: 64 × 64 (BM × BN in gemm_tiles.wgsl).
pub(super) const TILE: usize = 64;

/// Workgroups a GEMM's grid aims for: two or more per compute unit of a GPU with 100+.
pub const FILL: usize = 256;

/// The most rows the `Rows` kernel is chosen for: a batch of 128, the largest of the tutorial's,
/// still takes one pass with its epilogue (⌈128/4⌉ = 32 row blocks, each re-reading B, which a
/// GPU's L2 serves), where a `Split` takes a second pass for the parts' sum: the dA step stays at
/// four dispatches. The hardware benchmark times both (`GPU_DAE_GEMM=split`).
pub const ROWS_MAX_M: usize = 128;

/// The longest inner dimension (both pairs' for `GemmSum`) the `Outer` kernel is chosen for.
pub const OUTER_MAX_K: usize = 64;

/// The shortest part of K a `Split` takes: two of the tiles' 16-deep K steps.
const SPLIT_MIN_K: usize = 32;

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
        /// K per part of a `Split` (a multiple of 4); k otherwise.
        kc: u32,
    }
}

impl GemmParams {
    /// The parameters of `s`, with `kc` the K of one part of a `Split` (k otherwise).
    fn of(s: &GemmSpec, kc: usize) -> Self {
        GemmParams {
            m: s.m as u32,
            n: s.n as u32,
            k: s.k as u32,
            alpha: s.alpha,
            beta: s.beta,
            kc: kc as u32,
        }
    }
}

/// A GEMM kernel of the GPU backend, with its shape parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GemmKernel {
    /// 64×64 tiles.
    Tiled,
    /// 64×64 tiles over `splits` parts of K, `kc` each, then the ordered reduction pass.
    Split {
        /// K per part, a multiple of 4.
        kc: usize,
        /// Parts: ⌈k / kc⌉.
        splits: usize,
    },
    /// `mr` rows × 4·(256 / `kl`) columns a workgroup, `kl` lanes along K.
    Rows {
        /// Rows of C per workgroup, 1 ..= 4.
        mr: usize,
        /// Lanes along K, a power of two.
        kl: usize,
    },
    /// One thread per four elements of C.
    Outer,
}

/// Which kernel family a test makes `plan` take, whatever the shape (`Gpu::force_gemm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GemmPath {
    /// `GemmKernel::Tiled`.
    Tiled,
    /// `GemmKernel::Split`, parts as `plan` would cut them (at least two where k allows).
    Split,
    /// `GemmKernel::Rows`.
    Rows,
    /// `GemmKernel::Outer` (ignored for a GEMM with an epilogue, which it cannot apply).
    Outer,
}

impl GemmPath {
    /// `tiled`, `split`, `rows` or `outer` (as `GPU_DAE_GEMM` takes them); None otherwise.
    pub fn parse(name: &str) -> Option<GemmPath> {
        match name {
            "tiled" => Some(GemmPath::Tiled),
            "split" => Some(GemmPath::Split),
            "rows" => Some(GemmPath::Rows),
            "outer" => Some(GemmPath::Outer),
            _ => None,
        }
    }
}

/// How one GEMM runs on the GPU: the kernel, the workgroups of each dispatch, and why the first
/// dispatch's grid is under `FILL` where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct GemmPlan {
    /// The kernel.
    pub kernel: GemmKernel,
    /// Workgroups of the product's dispatch (x, y, z).
    pub groups: [u32; 3],
    /// Why fewer than `FILL` workgroups suffice, when they are fewer.
    pub fewer: Option<String>,
}

/// The plan of C = α·op(A)·op(B) (+ op(A₂)·op(B₂) of inner dimension `k2` for `GemmSum`, which
/// has no `Rows` or `Split`) with or without an epilogue, or of the kernel `force` names.
pub fn plan(s: &GemmSpec, k2: Option<usize>, epilogue: bool, force: Option<GemmPath>) -> GemmPlan {
    let (m, n, k) = (s.m, s.n, s.k);
    let k_all = k + k2.unwrap_or(0);
    let path = match force {
        Some(GemmPath::Outer) if epilogue => None,
        Some(GemmPath::Rows | GemmPath::Split) if k2.is_some() => Some(GemmPath::Tiled),
        forced => forced,
    };
    let path = path.unwrap_or(if !epilogue && k_all <= OUTER_MAX_K {
        GemmPath::Outer
    } else if k2.is_some() {
        GemmPath::Tiled
    } else if m <= ROWS_MAX_M {
        GemmPath::Rows
    } else {
        GemmPath::Split
    });
    match path {
        GemmPath::Outer => {
            let threads = m * n.div_ceil(4);
            let groups = grid_1d(threads);
            let fewer = (count(groups) < FILL).then(|| {
                format!("{m}×{n} outputs at four a thread are {threads} threads, all busy")
            });
            GemmPlan { kernel: GemmKernel::Outer, groups, fewer }
        }
        GemmPath::Rows => rows_plan(m, n, k),
        GemmPath::Tiled => tiled_plan(
            s,
            k2.map(|k2| format!("k + k2 = {} each (gemm_sum does not split K)", k + k2)),
        ),
        GemmPath::Split => {
            let tiles = n.div_ceil(TILE) * m.div_ceil(TILE);
            let most = k.div_ceil(SPLIT_MIN_K);
            let want =
                if force.is_some() { FILL.div_ceil(tiles).max(2) } else { FILL.div_ceil(tiles) };
            let splits = want.min(most);
            if splits < 2 {
                return tiled_plan(s, Some(format!("k = {k} too short to split")));
            }
            let kc = k.div_ceil(splits).next_multiple_of(4);
            let splits = k.div_ceil(kc);
            let mut p = tiled_plan(s, None);
            p.kernel = GemmKernel::Split { kc, splits };
            p.groups[2] = splits as u32;
            p.fewer = (count(p.groups) < FILL)
                .then(|| format!("k = {k} splits into at most {splits} parts of ≥ {SPLIT_MIN_K}"));
            p
        }
    }
}

/// Workgroups of a grid.
pub(super) fn count(g: [u32; 3]) -> usize {
    g.iter().map(|&d| d as usize).product()
}

fn tiled_plan(s: &GemmSpec, why: Option<String>) -> GemmPlan {
    let groups = [s.n.div_ceil(TILE) as u32, u32_of(s.m.div_ceil(TILE), "gemm row tiles"), 1];
    let fewer = (count(groups) < FILL).then(|| {
        let why = why.unwrap_or_else(|| format!("k = {} each", s.k));
        format!("{} tiles of 64×64, {why}", count(groups))
    });
    GemmPlan { kernel: GemmKernel::Tiled, groups, fewer }
}

/// `Rows`: MR the even share of m over ⌈m/4⌉ row blocks; CT from 16 (or n's quads) down while
/// the grid is under `FILL` and the KL = 256/CT lanes stay within K's quads (rounded up to a
/// power of two).
fn rows_plan(m: usize, n: usize, k: usize) -> GemmPlan {
    let mr = m.div_ceil(m.div_ceil(4)).max(1);
    let row_blocks = m.div_ceil(mr);
    let lanes_cap = k.div_ceil(4).max(1).next_power_of_two().min(256);
    let mut ct = n.div_ceil(4).next_power_of_two().min(16).max(256 / lanes_cap);
    let groups = |ct: usize| n.div_ceil(4 * ct) * row_blocks;
    while groups(ct) < FILL && ct > 1 && 256 / (ct / 2) <= lanes_cap {
        ct /= 2;
    }
    let kl = 256 / ct;
    let grid =
        [u32_of(n.div_ceil(4 * ct), "gemm column tiles"), u32_of(row_blocks, "gemm row blocks"), 1];
    let fewer = (count(grid) < FILL).then(|| {
        let quads = k.div_ceil(4);
        format!("{kl} lanes for k = {k} ({quads} quads) give each ≤ {}", quads.div_ceil(kl))
    });
    GemmPlan { kernel: GemmKernel::Rows { mr, kl }, groups: grid, fewer }
}

const AB_C: [Binding; 3] = [read(1, "a"), read(2, "b"), write(3, "c")];

rows_modules! {
    /// shaders/gemm.wgsl on rows_shuffle.wgsl, math.wgsl, activation.wgsl, gemm_tiles.wgsl,
    /// gemm_small.wgsl.
    MODULE, MODULE_SUBGROUP: [MATH, ACTIVATION, GEMM_TILES, GEMM_SMALL, shader_file!("gemm.wgsl")]
}

/// The epilogue's override constants after the tiling's.
const EPILOGUE: [&str; 6] = ["TRANS_A", "TRANS_B", "VEC_A", "VEC_B", "ACT", "GRAD"];

/// The rows kernel's override constants: the tiling's, MR and KL.
const ROWS: [&str; 6] = ["TRANS_A", "TRANS_B", "VEC_A", "VEC_B", "MR", "KL"];

/// The rows kernel with an epilogue: the tiling's, MR, KL, ACT and GRAD.
const ROWS_EPILOGUE: [&str; 8] =
    ["TRANS_A", "TRANS_B", "VEC_A", "VEC_B", "MR", "KL", "ACT", "GRAD"];

/// Defines a `Kernel<GemmParams>` of this module.
macro_rules! gemm_kernel {
    ($name:ident, $entry:literal, $bindings:expr, $overrides:expr) => {
        const $name: Kernel<GemmParams> = Kernel {
            op: "gemm",
            module: MODULE,
            entry: $entry,
            bindings: $bindings,
            overrides: $overrides,
            params: PhantomData,
        };
    };
}

gemm_kernel!(GEMM, "gemm", &AB_C, &TILING);
// `Epilogue::BiasAct` (e = bias [n]), or with GRAD `Epilogue::ActGrad` (e = out [m, n]).
gemm_kernel!(GEMM_EPILOGUE, "gemm_epilogue", &[AB_C[0], AB_C[1], AB_C[2], read(4, "e")], &EPILOGUE);
gemm_kernel!(GEMM_PART, "gemm_part", &[AB_C[0], AB_C[1], write(5, "part")], &TILING);
gemm_kernel!(GEMM_REDUCE, "gemm_reduce", &[write(3, "c"), write(5, "part")], &[]);
gemm_kernel!(
    GEMM_REDUCE_EPILOGUE,
    "gemm_reduce_epilogue",
    &[write(3, "c"), read(4, "e"), write(5, "part")],
    &["ACT", "GRAD"]
);
gemm_kernel!(GEMM_ROWS, "gemm_rows", &AB_C, &ROWS);
gemm_kernel!(
    GEMM_ROWS_EPILOGUE,
    "gemm_rows_epilogue",
    &[AB_C[0], AB_C[1], AB_C[2], read(4, "e")],
    &ROWS_EPILOGUE
);
/// `GEMM_ROWS` and `GEMM_ROWS_EPILOGUE` with subgroup shuffles.
const GEMM_ROWS_SUBGROUP: Kernel<GemmParams> = Kernel { module: MODULE_SUBGROUP, ..GEMM_ROWS };
const GEMM_ROWS_EPILOGUE_SUBGROUP: Kernel<GemmParams> =
    Kernel { module: MODULE_SUBGROUP, ..GEMM_ROWS_EPILOGUE };
gemm_kernel!(GEMM_OUTER, "gemm_outer", &AB_C, &TILING);
gemm_kernel!(
    GEMM_OUTER_BIAS,
    "gemm_outer_bias",
    &[AB_C[0], AB_C[1], AB_C[2], write(6, "bias")],
    &TILING
);

pub(super) const KERNELS: &[&dyn AnyKernel] = &[
    &GEMM,
    &GEMM_EPILOGUE,
    &GEMM_PART,
    &GEMM_REDUCE,
    &GEMM_REDUCE_EPILOGUE,
    &GEMM_ROWS,
    &GEMM_ROWS_EPILOGUE,
    &GEMM_ROWS_SUBGROUP,
    &GEMM_ROWS_EPILOGUE_SUBGROUP,
    &GEMM_OUTER,
    &GEMM_OUTER_BIAS,
];

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

impl Run<Gemm<'_, GpuTensor>> for Gpu {
    /// The dispatches of `plan`: one, or two for a `Split`; a `BiasUpdate` in the outer
    /// kernel's pass, or as a `ColSum` after the others.
    fn run(&self, op: Gemm<'_, GpuTensor>) {
        let Gemm { c, a, b, spec: s, epilogue } = op;
        let GemmSpec { m, n, k, .. } = s;
        // The epilogue's tensor, activation and GRAD (the identity's derivative is 1: nothing
        // to apply), and the bias a `BiasUpdate` updates beside C.
        let (epilogue, bias_update) = match epilogue {
            Epilogue::None | Epilogue::ActGrad { act: Activation::Identity, .. } => (None, None),
            Epilogue::BiasAct { bias, act } => {
                assert!(bias.len >= n, "gemm bias holds {}, n = {n}", bias.len);
                (Some((bias, act as u32, 0)), None)
            }
            Epilogue::ActGrad { out, act } => {
                assert!(out.len >= m * n, "gemm ActGrad out holds {}, [{m}, {n}] needed", out.len);
                (Some((out, act as u32, 1)), None)
            }
            Epilogue::BiasUpdate { bias } => {
                assert!(!s.trans_b, "gemm BiasUpdate sums B's columns: B must be stored [k, n]");
                assert!(bias.len >= n, "gemm BiasUpdate bias holds {}, n = {n}", bias.len);
                (None, Some(bias))
            }
        };
        assert!(
            a.len >= m * k && b.len >= k * n && c.len >= m * n,
            "gemm {m}×{n}×{k}: a holds {}, b {}, c {}",
            a.len,
            b.len,
            c.len
        );
        // The bias no kernel of the product updated: all of it when there is no C.
        let leftover = if m == 0 || n == 0 {
            bias_update
        } else {
            self.record_gemm((c, a, b), s, epilogue, bias_update)
        };
        if let Some(bias) = leftover {
            self.run(ColSum { out: bias, a: b, rows: k, cols: n, alpha: s.alpha, beta: 1.0 });
        }
    }
}

impl Gpu {
    /// Records C = epilogue(α·op(A)·op(B) + β·C) for m, n > 0 with the kernel `plan` chooses
    /// (`epilogue`: its tensor, ACT and GRAD); returns the bias of a `BiasUpdate` when that
    /// kernel did not update it.
    fn record_gemm<'t>(
        &self,
        (c, a, b): (&GpuTensor, &GpuTensor, &GpuTensor),
        s: GemmSpec,
        epilogue: Option<(&GpuTensor, u32, u32)>,
        mut bias_update: Option<&'t mut GpuTensor>,
    ) -> Option<&'t mut GpuTensor> {
        let GemmSpec { m, n, k, .. } = s;
        for (v, what) in [(m * k, "gemm A"), (k * n, "gemm B"), (m * n, "gemm C")] {
            u32_of(v, what);
        }
        let mut st = self.lock();
        let first = st.log_len();
        let plan = plan(&s, None, epilogue.is_some(), st.force_gemm);
        let kc = match plan.kernel {
            GemmKernel::Split { kc, .. } => kc,
            _ => k,
        };
        let params = GemmParams::of(&s, kc);
        let [ta, tb, va, vb] = tiling(&s, vec4_ok(&s, k));
        let (ab_c, groups) = ([&a.buf, &b.buf, &c.buf], plan.groups);
        match (plan.kernel, epilogue) {
            (GemmKernel::Tiled, None) => {
                self.dispatch(&mut st, (&GEMM, &[ta, tb, va, vb]), &params, &ab_c, groups);
            }
            (GemmKernel::Tiled, Some((e, act, grad))) => {
                let bufs = [&a.buf, &b.buf, &c.buf, &e.buf];
                let overrides = [ta, tb, va, vb, act, grad];
                self.dispatch(&mut st, (&GEMM_EPILOGUE, &overrides), &params, &bufs, groups);
            }
            (GemmKernel::Split { kc, splits }, epilogue) => {
                let part = self.record_gemm_part(&mut st, (a, b), &s, (kc, splits), groups);
                self.record_gemm_reduce(&mut st, (c, epilogue), &part, &s, kc);
            }
            (GemmKernel::Rows { mr, kl }, None) => {
                let overrides = [ta, tb, va, vb, mr as u32, kl as u32];
                let kernel = if st.subgroups { &GEMM_ROWS_SUBGROUP } else { &GEMM_ROWS };
                self.dispatch(&mut st, (kernel, &overrides), &params, &ab_c, groups);
            }
            (GemmKernel::Rows { mr, kl }, Some((e, act, grad))) => {
                let bufs = [&a.buf, &b.buf, &c.buf, &e.buf];
                let overrides = [ta, tb, va, vb, mr as u32, kl as u32, act, grad];
                let kernel =
                    if st.subgroups { &GEMM_ROWS_EPILOGUE_SUBGROUP } else { &GEMM_ROWS_EPILOGUE };
                self.dispatch(&mut st, (kernel, &overrides), &params, &bufs, groups);
            }
            (GemmKernel::Outer, _) => match bias_update.take() {
                Some(bias) => {
                    let bufs = [&a.buf, &b.buf, &c.buf, &bias.buf];
                    let kernel = (&GEMM_OUTER_BIAS, &[ta, tb, va, vb][..]);
                    self.dispatch(&mut st, kernel, &params, &bufs, groups);
                }
                None => {
                    let kernel = (&GEMM_OUTER, &[ta, tb, va, vb][..]);
                    self.dispatch(&mut st, kernel, &params, &ab_c, groups);
                }
            },
        }
        st.note_fewer(first, plan.fewer);
        let e_len = match epilogue {
            Some((_, _, 0)) => n,
            Some(_) => m * n,
            None => 0,
        };
        let (flops, bytes) = work(&s, k, e_len);
        st.note_work(first, flops, bytes);
        bias_update
    }
}

impl Gpu {
    /// Records a `Split`'s first pass, the raw sums of op(A)·op(B) over each of `splits` parts
    /// of K (`kc` each) on the 64×64 tiles of `groups`, and returns the scratch buffer holding
    /// them: part z's [m, n] at z·m·n. The caller's pass adds them (`gemm_reduce*`,
    /// `gemm_xent_reduce`).
    pub(super) fn record_gemm_part(
        &self,
        st: &mut State,
        (a, b): (&GpuTensor, &GpuTensor),
        s: &GemmSpec,
        (kc, splits): (usize, usize),
        groups: [u32; 3],
    ) -> Arc<Buf> {
        let GemmSpec { m, n, k, .. } = *s;
        let params = GemmParams::of(s, kc);
        let part = self.partials(st, splits * m * n);
        let bufs = [&a.buf, &b.buf, &*part];
        let overrides = tiling(s, vec4_ok(s, k));
        self.dispatch(st, (&GEMM_PART, &overrides), &params, &bufs, groups);
        part
    }

    /// Records a `Split`'s second pass over the parts in `part` (`kc` of K each): C =
    /// epilogue(α·Σ_z part z + β·C), the parts added in order (`gemm_reduce`,
    /// `gemm_reduce_epilogue`), one thread an element.
    pub(super) fn record_gemm_reduce(
        &self,
        st: &mut State,
        (c, epilogue): (&GpuTensor, Option<(&GpuTensor, u32, u32)>),
        part: &Buf,
        s: &GemmSpec,
        kc: usize,
    ) {
        let params = GemmParams::of(s, kc);
        let cells = grid_1d(s.m * s.n);
        match epilogue {
            None => {
                let bufs = [&c.buf, part];
                self.dispatch(st, (&GEMM_REDUCE, &[]), &params, &bufs, cells);
            }
            Some((e, act, grad)) => {
                let bufs = [&c.buf, &e.buf, part];
                let kernel = (&GEMM_REDUCE_EPILOGUE, &[act, grad][..]);
                self.dispatch(st, kernel, &params, &bufs, cells);
            }
        }
    }

    /// The plan by shape (or the forced family) of a fused minibatch op's product `s`
    /// (`load_gemm`, `gemm_xent`, `gemm_sq_err`, `gemm_corrupt`) when fusing is on, `fits` (the
    /// op's own conditions), C is not empty and the plan is the rows kernel or a `Split`, the
    /// two that fused forms exist for; None when the op runs as the ops it fuses. Each op fuses
    /// only on the kernels it has a fused form for (`fused_rows_plan`: the rows kernel alone).
    pub(super) fn fused_gemm_plan(&self, s: &GemmSpec, fits: bool) -> Option<GemmPlan> {
        let (force, fused) = {
            let st = self.lock();
            (st.force_gemm, st.fused)
        };
        (fused && fits && s.m > 0 && s.n > 0)
            .then(|| plan(s, None, true, force))
            .filter(|p| matches!(p.kernel, GemmKernel::Rows { .. } | GemmKernel::Split { .. }))
    }

    /// `fused_gemm_plan` when it is the rows kernel, with its MR and KL.
    pub(super) fn fused_rows_plan(
        &self,
        s: &GemmSpec,
        fits: bool,
    ) -> Option<(GemmPlan, usize, usize)> {
        let p = self.fused_gemm_plan(s, fits)?;
        match p.kernel {
            GemmKernel::Rows { mr, kl } => Some((p, mr, kl)),
            _ => None,
        }
    }
}

/// A GEMM's useful work: 2·m·n·k flops, and the bytes of A, B, C (twice when β ≠ 0: read and
/// written) and `e_len` epilogue elements.
pub(super) fn work(s: &GemmSpec, k: usize, e_len: usize) -> (u64, u64) {
    let c_passes = if s.beta == 0.0 { 1 } else { 2 };
    let elements = s.m * k + k * s.n + c_passes * s.m * s.n + e_len;
    (2 * (s.m * s.n * k) as u64, 4 * elements as u64)
}
