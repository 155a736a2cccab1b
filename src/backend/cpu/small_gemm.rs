//! The CPU backend's own GEMM kernels, for the products a training step runs: a minibatch of a
//! few rows (or one example) against a weight matrix, and the SGD update of that matrix by a
//! rank-B product. Larger products (evaluation chunks) go to faer (`cpu::gemm`).
//!
//! Two register-tiled kernels, written once over `Lanes` and compiled per instruction set:
//! - **broadcast** (`op(A)·B`, A plain or transposed, B row-major [k, n]): C[i, j..j+w] +=
//!   A(i, p)·B[p, j..j+w], one element of A broadcast against vectors of a row of B. It serves
//!   the encoder x̃·W, the backward product dA·W and the updates x̃ᵀ·dH (+ dAᵀ·h), each
//!   element a single multiply-add chain over p in order. Where A has zeros (an image's blank
//!   pixels, the masked ones of a corrupted input) it adds only the terms of A's nonzero
//!   elements, register tile by register tile (`NonZeros`), which leaves every bit of C as the
//!   whole chain gives it;
//! - **dot** (`A·Bᵀ`, B stored [n, k]): C[i, j] = Σₚ A[i, p]·B[j, p] with vectors along p and a
//!   fixed lane-sum tree at the end: the tied decoder h·Wᵀ and the backward product dZ·Wᵀ.
//!
//! Threads split the columns of W (the weight matrix's hidden units) the same way in every
//! product of a step, so each core keeps its slice of W in its own cache: the broadcast
//! kernel's C columns are W's columns, and the dot kernel splits its inner dimension (W's
//! columns again) into parts whose partial products are then added in part order. The parts
//! are a function of k alone (`SPLIT_K`), never of the thread count, so a run's bits do not
//! depend on how many threads it has.
//!
//! A thread's slice of the SdA's W (784 or 1000 rows × 500 columns) is larger than its core's
//! L2, and a batch-1 step sweeps it four or five times. Two habits keep those sweeps cheap,
//! neither changing a bit: every other product runs its independent blocks (the broadcast
//! kernel's column blocks, the dot kernel's parts) last to first (`next_direction`), so that
//! it starts on the lines the previous sweep left in L2; and `dense_update` for one row walks
//! W by narrow column blocks down all its rows (`fused_sweep`), a pattern the hardware
//! prefetchers follow.

use super::pool::Pool;
#[cfg(target_arch = "x86_64")]
use super::simd::{Avx2, Avx512};
use super::simd::{Isa, Lanes, Portable};
use crate::backend::GemmSpec;

/// The most rows of op(A) (or, for a transposed A, the longest inner dimension) these kernels
/// take; larger products go to faer.
pub(super) const MAX_ROWS: usize = 256;

/// Inner-dimension length of one part of a dot (`A·Bᵀ`) product: ⌈k / SPLIT_K⌉ parts.
const SPLIT_K: usize = 256;

/// Alignment of the threads' column slices and of the dot kernel's parts (one AVX-512 vector).
const ALIGN: usize = 16;

/// Rows of B ahead of the one being read that the broadcast kernel asks the cache for.
const PREFETCH: usize = 8;

/// Products of fewer multiply-adds than this run on the calling thread alone.
const PAR_MIN: usize = 1 << 15;

/// What the caller does to the finished elements of C: `finish(i, j, row)` for row i's
/// columns j..j + row.len(), each slice once, from any thread.
pub(super) type Finish<'a> = dyn Fn(usize, usize, &mut [f32]) + Sync + 'a;

/// A read-only operand: element (i, p) at `ptr[i·rs + p·ks]`.
#[derive(Clone, Copy)]
struct Src {
    ptr: *const f32,
    rs: usize,
    ks: usize,
}

/// One product of a broadcast GEMM: op(A) [m, k] (element (i, p) at `a`) times B [k, n]
/// row-major with row stride `ldb`; with `nonzeros`, only the terms that list.
#[derive(Clone, Copy)]
struct Pair {
    a: Src,
    b: *const f32,
    ldb: usize,
    k: usize,
    nonzeros: Option<NonZeros>,
}

/// The inner indices p at which each block of op(A)'s rows has a nonzero element: for the
/// rows of register tile b (rows b·R.. of the broadcast kernel's tile height R, `tile_rows`),
/// `idx[starts[b]..starts[b + 1]]`, increasing. The broadcast kernel adds only those terms. A
/// term it skips is 0·B[p, j] = ±0, and adding ±0 leaves a sum as it was unless the sum is −0,
/// which a chain that starts at +0 reaches only through a multiply-add whose exact result lies
/// below the smallest subnormal: so C keeps the bits of the whole chain wherever B is finite.
/// (Where B holds ±∞ or NaN the whole chain gives NaN and the skipped one need not.) This is
/// what makes the sparse inputs of MNIST cheap: most of a digit's pixels are 0, and so are
/// the masked ones of a corrupted input, so most of x̃·W's terms and of the update x̃ᵀ·dH's
/// are skipped without changing a bit.
#[derive(Clone, Copy)]
struct NonZeros {
    starts: *const u32,
    idx: *const u32,
}

impl NonZeros {
    /// Block b's indices.
    ///
    /// # Safety
    /// b is one of the blocks the lists were made for, and the lists are alive.
    unsafe fn block(&self, b: usize) -> &[u32] {
        // SAFETY: forwarded from the caller; `starts` has an entry past every block.
        unsafe {
            let (start, end) = (*self.starts.add(b) as usize, *self.starts.add(b + 1) as usize);
            std::slice::from_raw_parts(self.idx.add(start), end - start)
        }
    }
}

/// A written matrix: element (i, j) at `ptr[i·ld + j]`.
#[derive(Clone, Copy)]
struct Dst {
    ptr: *mut f32,
    ld: usize,
}

impl Dst {
    /// Row i's columns `cols` as a slice.
    ///
    /// # Safety
    /// The elements lie in the matrix, and no one else reads or writes them meanwhile.
    #[allow(clippy::mut_from_ref)]
    unsafe fn row(&self, i: usize, cols: std::ops::Range<usize>) -> &mut [f32] {
        // SAFETY: forwarded from the caller.
        unsafe {
            std::slice::from_raw_parts_mut(self.ptr.add(i * self.ld + cols.start), cols.len())
        }
    }
}

/// A broadcast GEMM: C [m, n] = α·Σ_pairs op(A)·B + β·C, its columns split into `pieces`.
struct BcastJob {
    pairs: [Pair; 2],
    npairs: usize,
    m: usize,
    c: Dst,
    alpha: f32,
    beta: f32,
    pieces: usize,
    /// The rows per block of the pairs' `NonZeros` (the kernel's tile height), where any has
    /// them.
    list_rows: usize,
    /// Whether the tiles run last to first (`next_direction`).
    reverse: bool,
}

/// A dot GEMM: out_p [m, n] = A[:, part p]·B[:, part p]ᵀ (A [m, k], B [n, k] row-major), for
/// part p of `parts` of k, each part's n split into `pieces`; with one part, out is C itself,
/// scaled by α and β.
struct DotJob {
    a: *const f32,
    b: *const f32,
    m: usize,
    k: usize,
    parts: usize,
    out: Dst,
    /// Floats between one part's output and the next.
    part_stride: usize,
    alpha: f32,
    beta: f32,
    /// Whether a thread runs its parts last to first (`next_direction`): `Pool::run` orders the
    /// dot's tasks by it, `fused_rows` the parts of each of its tasks.
    reverse: bool,
}

/// A dense layer's backward product and update in one sweep of W (`dense_update`): `dot`
/// computes the parts of dx = d·Wᵀ (A = d [m, k], B = W [n, k], so n is W's rows and k its
/// columns), and `w` (the same W, [n, k]) takes W += α·xᵀ·d with x: [m, n] and d: [m, k].
struct FusedJob {
    dot: DotJob,
    w: Dst,
    x: *const f32,
    /// W's rows, x's columns.
    n: usize,
    alpha: f32,
}

// SAFETY: the jobs' pointers are only dereferenced by the kernels below, each task writing a
// disjoint range of the output, while the borrow they were made from is held by the caller of
// `Pool::run`, which returns only after every task has finished.
unsafe impl Sync for BcastJob {}
// SAFETY: as for `BcastJob`.
unsafe impl Sync for DotJob {}
// SAFETY: as for `BcastJob`: each task reads and writes only its parts' columns of its rows.
unsafe impl Sync for FusedJob {}
// SAFETY: as for `BcastJob`: tasks write disjoint ranges through it.
unsafe impl Sync for Dst {}

thread_local! {
    /// The calling thread's storage for `NonZeros` lists, grown to the largest asked for.
    static NONZERO_LISTS: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Rows of op(A) in the broadcast kernel's register tiles for an m-row product on `isa`
/// (`bcast_cols`' choice).
fn tile_rows(isa: Isa, m: usize) -> usize {
    match (m, isa) {
        (1, _) => 1,
        #[cfg(target_arch = "x86_64")]
        (_, Isa::Avx512) => 6,
        _ => 4,
    }
}

/// The least share of a product's terms its `NonZeros` must skip to be used: walking a list
/// costs a few instructions per term more than the whole chain does, which a dense
/// minibatch's tiles (the ReLU-DAE's units, a quarter or fewer of them off) do not win back.
const SKIP_MIN: f64 = 0.4;

/// Appends to `lists` the `NonZeros` of op(A) (element (i, p) at `a`, m rows, inner length k)
/// in blocks of `rows` rows: ⌈m / rows⌉ + 1 starts (offsets into the indices that follow
/// them), then the indices. Returns whether the lists skip at least `SKIP_MIN` of the terms;
/// if not, the caller truncates `lists` back and runs the whole chains.
fn find_nonzeros(lists: &mut Vec<u32>, a: Src, m: usize, k: usize, rows: usize) -> bool {
    let blocks = m.div_ceil(rows);
    // A skipped term takes at least one zero of A: too few zeros end the search at once (the
    // ReLU-DAE's standardised inputs have none).
    // SAFETY: op(A)'s m·k elements are the caller's contiguous slice, either way it is stored.
    let elements = unsafe { std::slice::from_raw_parts(a.ptr, m * k) };
    let zeros = elements.iter().filter(|&&v| v == 0.0).count();
    if (zeros as f64) < SKIP_MIN * (blocks * k) as f64 {
        return false;
    }
    let base = lists.len();
    let first = base + blocks + 1;
    lists.resize(first, 0);
    for b in 0..blocks {
        let start = lists.len();
        lists[base + b] = (start - first) as u32;
        // mask[p]: the block's elements at p, their bits ORed with the sign shifted out, so
        // it is 0 exactly where every one of them is ±0.
        lists.resize(start + k, 0);
        let mask = &mut lists[start..];
        for i in b * rows..((b + 1) * rows).min(m) {
            // SAFETY: i < m and p < k address op(A)'s elements in the caller's slice.
            let row = unsafe { a.ptr.add(i * a.rs) };
            if a.ks == 1 {
                // SAFETY: as above; row i's k elements are contiguous.
                let row = unsafe { std::slice::from_raw_parts(row, k) };
                mask.iter_mut().zip(row).for_each(|(mk, v)| *mk |= v.to_bits() << 1);
            } else {
                for (p, mk) in mask.iter_mut().enumerate() {
                    // SAFETY: as above.
                    *mk |= unsafe { *row.add(p * a.ks) }.to_bits() << 1;
                }
            }
        }
        // The p's of nonzero masks, compacted in place: index number c lands in slot c ≤ p.
        let mut count = 0;
        for p in 0..k {
            if lists[start + p] != 0 {
                lists[start + count] = p as u32;
                count += 1;
            }
        }
        lists.truncate(start + count);
    }
    let total = lists.len() - first;
    lists[base + blocks] = total as u32;
    (blocks * k - total) as f64 >= SKIP_MIN * (blocks * k) as f64
}

thread_local! {
    /// Whether the calling thread's next product runs its blocks last to first.
    static REVERSED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the product the calling thread starts now sweeps its blocks last to first: every
/// other one does. A step sweeps each W several times (the encoder, the decoder, the backward
/// product, the update), and W is larger than a core's L2 at the SdA's sizes: a sweep that
/// starts where the last one ended meets the lines that one left in L2 first, where one in the
/// same direction would meet the lines it evicted longest ago. The blocks are independent, so
/// their order changes no bit.
fn next_direction() -> bool {
    REVERSED.with(|r| r.replace(!r.get()))
}

/// The blocks of `step` elements of `range` (the last one shorter), first to last, or last to
/// first when `reverse`.
fn blocks(
    range: std::ops::Range<usize>,
    step: usize,
    reverse: bool,
) -> impl Iterator<Item = std::ops::Range<usize>> {
    let count = range.len().div_ceil(step);
    (0..count).map(move |b| {
        let b = if reverse { count - 1 - b } else { b };
        let start = range.start + b * step;
        start..(start + step).min(range.end)
    })
}

/// The index range of piece `t` of `pieces` over 0..len, boundaries rounded to `align`.
fn piece(len: usize, pieces: usize, t: usize, align: usize) -> std::ops::Range<usize> {
    let edge = |t: usize| ((len * t / pieces).div_ceil(align) * align).min(len);
    edge(t)..edge(t + 1)
}

/// Whether `s` (with a second inner dimension k2 for `GemmSum`, else 0) runs here rather than
/// in faer: no double transpose, few rows of op(A) (or a short inner dimension for a
/// transposed A), and, for a `GemmSum`, no transposed B.
pub(super) fn takes(s: GemmSpec, k2: usize) -> bool {
    match (s.trans_a, s.trans_b) {
        (false, false) => s.m <= MAX_ROWS,
        (true, false) => s.k + k2 <= MAX_ROWS,
        (false, true) => s.m <= MAX_ROWS && k2 == 0,
        (true, true) => false,
    }
}

/// C [m, n] = α·(op(A₁)·op(B₁) [+ op(A₂)·op(B₂)]) + β·C, then `finish` on every element, for
/// a spec `takes` accepted; `second` is (A₂, B₂, k₂). β = 0 never reads C. With `skip_zeros`,
/// a broadcast product adds only the terms of A's nonzero elements (`NonZeros`: the same
/// bits).
pub(super) fn gemm(
    (isa, skip_zeros): (Isa, bool),
    c: &mut [f32],
    (a, b): (&[f32], &[f32]),
    second: Option<(&[f32], &[f32], usize)>,
    s: GemmSpec,
    finish: &Finish<'_>,
) {
    let GemmSpec { m, n, k, .. } = s;
    let c = &mut c[..m * n];
    if m == 0 || n == 0 {
        return;
    }
    let pool = Pool::global();
    let work = m * n * (k + second.map_or(0, |(_, _, k2)| k2));
    let threads = if work < PAR_MIN { 1 } else { pool.threads() };
    let reverse = next_direction();
    if s.trans_b {
        dot(isa, (pool, threads, reverse), c, (&a[..m * k], &b[..n * k]), s, finish);
    } else {
        let pair = |a: &[f32], b: &[f32], k: usize| Pair {
            a: if s.trans_a {
                Src { ptr: a[..m * k].as_ptr(), rs: 1, ks: m }
            } else {
                Src { ptr: a[..m * k].as_ptr(), rs: k, ks: 1 }
            },
            b: b[..k * n].as_ptr(),
            ldb: n,
            k,
            nonzeros: None,
        };
        let mut pairs = [pair(a, b, k), pair(a, b, k)];
        let npairs = match second {
            Some((a2, b2, k2)) => {
                pairs[1] = pair(a2, b2, k2);
                2
            }
            None => 1,
        };
        let list_rows = tile_rows(isa, m);
        with_nonzero_lists(skip_zeros.then_some(list_rows), (pairs, npairs), m, |pairs| {
            let job = BcastJob {
                pairs,
                npairs,
                m,
                c: Dst { ptr: c.as_mut_ptr(), ld: n },
                alpha: s.alpha,
                beta: s.beta,
                pieces: threads,
                list_rows,
                reverse,
            };
            let kernel = bcast_kernel(isa);
            let task = |t: usize| {
                let cols = piece(n, job.pieces, t, ALIGN);
                if cols.is_empty() {
                    return;
                }
                // SAFETY: `kernel` matches an instruction set the processor has (`Isa`), and
                // task t writes only columns `cols` of C, which no other task writes; the
                // pairs' lists were made for the kernel's tile height and outlive `run`.
                unsafe { kernel(&job, cols.clone()) };
                finish_cols(job.c, 0..m, cols, finish);
            };
            pool.run(threads, reverse, &task);
        });
    }
}

/// Runs `f` on the first `npairs` of `pairs`, each pair's `nonzeros` set to its lists in
/// blocks of `rows` rows (m rows in all) where they skip at least `SKIP_MIN` of its terms,
/// and left `None` where they would not or `rows` is None.
fn with_nonzero_lists(
    rows: Option<usize>,
    (mut pairs, npairs): ([Pair; 2], usize),
    m: usize,
    f: impl FnOnce([Pair; 2]),
) {
    let Some(rows) = rows else { return f(pairs) };
    let mut fresh = Vec::new();
    NONZERO_LISTS.with(|cell| {
        // A re-entrant call (which the kernels never make) gets fresh storage.
        let mut held = cell.try_borrow_mut();
        let lists = match held.as_deref_mut() {
            Ok(lists) => lists,
            Err(_) => &mut fresh,
        };
        lists.clear();
        let mut starts = [None; 2];
        for (pair, start) in pairs[..npairs].iter().zip(&mut starts) {
            let base = lists.len();
            if find_nonzeros(lists, pair.a, m, pair.k, rows) {
                *start = Some(base);
            } else {
                lists.truncate(base);
            }
        }
        // The pointers are taken once `lists` has stopped growing.
        let blocks = m.div_ceil(rows);
        for (pair, start) in pairs.iter_mut().zip(starts) {
            pair.nonzeros = start.map(|base| NonZeros {
                starts: lists[base..].as_ptr(),
                idx: lists[base + blocks + 1..].as_ptr(),
            });
        }
        f(pairs)
    })
}

/// Calls `finish` on rows `rows`, columns `cols` of `c`.
fn finish_cols(c: Dst, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>, f: &Finish<'_>) {
    for i in rows {
        // SAFETY: the caller owns columns `cols` of these rows of C for the duration.
        f(i, cols.start, unsafe { c.row(i, cols.clone()) });
    }
}

/// The dot GEMM: split-k parts into a scratch buffer and their fixed-order sum, or C directly
/// when k is one part.
fn dot(
    isa: Isa,
    (pool, threads, reverse): (&Pool, usize, bool),
    c: &mut [f32],
    (a, b): (&[f32], &[f32]),
    s: GemmSpec,
    finish: &Finish<'_>,
) {
    let GemmSpec { m, n, k, alpha, beta, .. } = s;
    let parts = k.div_ceil(SPLIT_K).max(1);
    let pieces = threads.div_ceil(parts);
    let kernel = dot_kernel(isa);
    let mut job = DotJob {
        a: a.as_ptr(),
        b: b.as_ptr(),
        m,
        k,
        parts,
        out: Dst { ptr: c.as_mut_ptr(), ld: n },
        part_stride: 0,
        alpha,
        beta,
        reverse,
    };
    if parts == 1 {
        let task = |t: usize| {
            let cols = piece(n, pieces, t, 4);
            if cols.is_empty() {
                return;
            }
            // SAFETY: as in `gemm`; task t writes only columns `cols` of C.
            unsafe { kernel(&job, 0, cols.clone()) };
            finish_cols(job.out, 0..m, cols, finish);
        };
        pool.run(pieces, reverse, &task);
        return;
    }
    // The caller's per-thread scratch; the workers write their parts through `job.out`.
    super::with_scratch(parts * m * n, |partials| {
        job.out = Dst { ptr: partials.as_mut_ptr(), ld: n };
        job.part_stride = m * n;
        let task = |t: usize| {
            let (p, q) = (t / pieces, t % pieces);
            let cols = piece(n, pieces, q, 4);
            if !cols.is_empty() {
                // SAFETY: as in `gemm`; task t writes only part p's columns `cols`.
                unsafe { kernel(&job, p, cols) };
            }
        };
        pool.run(parts * pieces, reverse, &task);
        sum_parts(pool, threads, c, partials, (m, n, parts), (alpha, beta), finish);
    });
}

/// C [m, n] = α·Σ_p part p + β·C (β = 0 never reads C), the parts ([parts·m, n] row-major in
/// `partials`: part p's row i is row p·m + i) added in part order into the first, then
/// `finish` on each finished slice of C; threads split the columns.
fn sum_parts(
    pool: &Pool,
    threads: usize,
    c: &mut [f32],
    partials: &mut [f32],
    (m, n, parts): (usize, usize, usize),
    (alpha, beta): (f32, f32),
    finish: &Finish<'_>,
) {
    let out = Dst { ptr: c.as_mut_ptr(), ld: n };
    let part_rows = Dst { ptr: partials.as_mut_ptr(), ld: n };
    let sum = |t: usize| {
        let cols = piece(n, threads, t, ALIGN);
        if cols.is_empty() {
            return;
        }
        for i in 0..m {
            // SAFETY: task t alone touches these columns of the partials and of C.
            let (acc, row) = unsafe { (part_rows.row(i, cols.clone()), out.row(i, cols.clone())) };
            for p in 1..parts {
                // SAFETY: as above; part p's row is another row of the partials.
                let part = unsafe { part_rows.row(p * m + i, cols.clone()) };
                acc.iter_mut().zip(part.iter()).for_each(|(s, &v)| *s += v);
            }
            if beta == 0.0 {
                row.iter_mut().zip(acc.iter()).for_each(|(c, &s)| *c = alpha * s);
            } else {
                row.iter_mut().zip(acc.iter()).for_each(|(c, &s)| *c = alpha * s + beta * *c);
            }
            finish(i, cols.start, row);
        }
    };
    pool.run(threads, false, &sum);
}

/// W's rows a fused task takes at a time: the dot reads them, then the update rewrites them
/// while they are in L1 (8 rows of a 256-column part: 8 KB; rows 4 KB apart share L1 sets,
/// so more rows than L1 has ways would evict each other).
const FUSED_ROWS: usize = 8;

/// A dense layer's backward product and SGD update in one sweep of W (`ops::DenseUpdate`):
/// dx [m, n] = (d·Wᵀ) then `finish`, and W [n, k] += α·xᵀ·d, for d: [m, k], x: [m, n] and
/// m ≤ `MAX_ROWS`. dx's parts are the dot kernel's (⌈k/SPLIT_K⌉ parts of W's columns); each
/// thread takes a run of parts (or, with fewer parts than threads, a slice of one part's rows)
/// and walks its rows FUSED_ROWS at a time, updating them right after the dot has read them. Each element comes out with the bits `gemm` gives
/// the two products (the same multiply-add chains and lane sums), whatever the thread count.
pub(super) fn dense_update(
    isa: Isa,
    (dx, w): (&mut [f32], &mut [f32]),
    (d, x): (&[f32], &[f32]),
    (m, n, k): (usize, usize, usize),
    alpha: f32,
    finish: &Finish<'_>,
) {
    assert!(m <= MAX_ROWS && m > 0 && n > 0 && k > 0, "dense_update: [{m}, {n}, {k}]");
    let (dx, w, d, x) = (&mut dx[..m * n], &mut w[..n * k], &d[..m * k], &x[..m * n]);
    let pool = Pool::global();
    let threads = if 2 * m * n * k < PAR_MIN { 1 } else { pool.threads() };
    let parts = k.div_ceil(SPLIT_K);
    let pieces = threads.div_ceil(parts);
    let reverse = next_direction();
    // One pointer to W for both the dot's reads and the update's writes.
    let wp = w.as_mut_ptr();
    super::with_scratch(parts * m * n, |partials| {
        let job = FusedJob {
            dot: DotJob {
                a: d.as_ptr(),
                b: wp.cast_const(),
                m,
                k,
                parts,
                out: Dst { ptr: partials.as_mut_ptr(), ld: n },
                part_stride: m * n,
                alpha: 1.0,
                beta: 0.0,
                reverse,
            },
            w: Dst { ptr: wp, ld: k },
            x: x.as_ptr(),
            n,
            alpha,
        };
        let kernel = fused_kernel(isa);
        // With at least as many parts as threads, thread t takes its own run of parts over all
        // of W's rows (`Pool::owned`); with fewer, each part's rows are split.
        let tasks = if parts >= threads { threads } else { parts * pieces };
        let task = |t: usize| {
            let (parts, rows) = if parts >= threads {
                (Pool::owned(parts, threads, t), 0..n)
            } else {
                (t / pieces..t / pieces + 1, piece(n, pieces, t % pieces, 4))
            };
            if !rows.is_empty() && !parts.is_empty() {
                // SAFETY: `kernel` matches an instruction set the processor has, and task t
                // reads and writes only its parts' columns of W's rows `rows`, and only its
                // parts' partials of dx's columns `rows`.
                unsafe { kernel(&job, parts, rows) };
            }
        };
        pool.run(tasks, reverse, &task);
        sum_parts(pool, threads, dx, partials, (m, n, parts), (1.0, 0.0), finish);
    });
}

/// The fused kernel compiled for `isa`: the columns of parts `parts` of W's rows `rows`.
type FusedKernel = unsafe fn(&FusedJob, std::ops::Range<usize>, std::ops::Range<usize>);

fn fused_kernel(isa: Isa) -> FusedKernel {
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => fused_avx512,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => fused_avx2,
        _ => fused_portable,
    }
}

/// The broadcast kernel compiled for `isa`: computes the columns `cols` of the job's C.
type BcastKernel = unsafe fn(&BcastJob, std::ops::Range<usize>);
/// The dot kernel compiled for `isa`: computes part p's columns `cols`.
type DotKernel = unsafe fn(&DotJob, usize, std::ops::Range<usize>);

fn bcast_kernel(isa: Isa) -> BcastKernel {
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => bcast_avx512,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => bcast_avx2,
        _ => bcast_portable,
    }
}

fn dot_kernel(isa: Isa) -> DotKernel {
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => dot_avx512,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => dot_avx2,
        _ => dot_portable,
    }
}

/// Defines the per-instruction-set entry points of the two kernels.
macro_rules! entry_points {
    ($($(#[$cfg:meta])* $features:literal, $lanes:ty => $bcast:ident, $dot:ident, $fused:ident;)*) => {
        $(
            $(#[$cfg])*
            #[target_feature(enable = $features)]
            unsafe fn $bcast(job: &BcastJob, cols: std::ops::Range<usize>) {
                // SAFETY: forwarded from the caller (features present, columns owned).
                unsafe { bcast_cols::<$lanes>(job, cols) }
            }
            $(#[$cfg])*
            #[target_feature(enable = $features)]
            unsafe fn $dot(job: &DotJob, part: usize, cols: std::ops::Range<usize>) {
                // SAFETY: forwarded from the caller (features present, columns owned).
                unsafe { dot_cols::<$lanes>(job, part, cols) }
            }
            $(#[$cfg])*
            #[target_feature(enable = $features)]
            unsafe fn $fused(
                job: &FusedJob,
                parts: std::ops::Range<usize>,
                rows: std::ops::Range<usize>,
            ) {
                // SAFETY: forwarded from the caller (features present, parts' columns owned).
                unsafe { fused_rows::<$lanes>(job, parts, rows) }
            }
        )*
    };
}

entry_points! {
    #[cfg(target_arch = "x86_64")] "avx512f,avx2,fma", Avx512 => bcast_avx512, dot_avx512, fused_avx512;
    #[cfg(target_arch = "x86_64")] "avx2,fma", Avx2 => bcast_avx2, dot_avx2, fused_avx2;
}

unsafe fn bcast_portable(job: &BcastJob, cols: std::ops::Range<usize>) {
    // SAFETY: forwarded from the caller (columns owned); the portable path needs no features.
    unsafe { bcast_cols::<Portable>(job, cols) }
}

unsafe fn dot_portable(job: &DotJob, part: usize, cols: std::ops::Range<usize>) {
    // SAFETY: forwarded from the caller (columns owned); the portable path needs no features.
    unsafe { dot_cols::<Portable>(job, part, cols) }
}

unsafe fn fused_portable(
    job: &FusedJob,
    parts: std::ops::Range<usize>,
    rows: std::ops::Range<usize>,
) {
    // SAFETY: forwarded from the caller (parts' columns owned); no features needed.
    unsafe { fused_rows::<Portable>(job, parts, rows) }
}

/// The columns of parts `parts` of W's rows `rows`: for one row of d (m = 1) `fused_sweep`
/// on each part; otherwise FUSED_ROWS rows at a time, the dot kernel's partial sums of dx for
/// those rows, part by part (W as it was), then W[i, cols] += α·Σᵣ x[r, i]·d[r, cols] over the
/// parts' columns, each element one multiply-add chain over r in order, scaled by α and added
/// to W (`bcast_tile`'s arithmetic with β = 1).
#[inline(always)]
unsafe fn fused_rows<L: Lanes>(
    job: &FusedJob,
    parts: std::ops::Range<usize>,
    rows: std::ops::Range<usize>,
) {
    let dot = &job.dot;
    let alpha = unsafe { L::splat(job.alpha) };
    if dot.m == 1 {
        for part in blocks(parts, 1, dot.reverse) {
            // SAFETY: forwarded; the task owns these parts' columns of W's rows `rows`.
            unsafe { fused_sweep::<L>(job, part.start, rows.clone(), alpha) };
        }
        return;
    }
    let cols = piece(dot.k, dot.parts, parts.start, ALIGN).start
        ..piece(dot.k, dot.parts, parts.end - 1, ALIGN).end;
    for block in blocks(rows, FUSED_ROWS, false) {
        // SAFETY: forwarded; the block lies in W's rows and the task owns its parts' columns.
        unsafe {
            for part in parts.clone() {
                dot_cols::<L>(dot, part, block.clone());
            }
            if block.len() == FUSED_ROWS {
                update_rows::<L, FUSED_ROWS>(job, block.start, &cols, alpha);
            } else {
                for i in block.clone() {
                    update_rows::<L, 1>(job, i, &cols, alpha);
                }
            }
        }
    }
}

/// Columns of W `fused_sweep` takes at a time. For a single row of d it walks W by blocks of
/// SWEEP_COLS columns down all the rows it owns: one constant-stride pattern, which the
/// hardware prefetchers follow, where blocks of a few whole rows start a short stream in
/// every row and leave most of W to demand misses.
const SWEEP_COLS: usize = 64;

thread_local! {
    /// The calling thread's lane accumulators for a sweep: row r of its task at [r·N, (r + 1)·N).
    static SWEEP_LANES: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `len` floats of the calling thread's `SWEEP_LANES` (contents unspecified), grown if needed.
/// The pointer is valid until this thread's next call, and only this thread uses it.
fn sweep_lanes(len: usize) -> *mut f32 {
    SWEEP_LANES.with(|cell| {
        let mut lanes = cell.borrow_mut();
        if lanes.len() < len {
            lanes.resize(len, 0.0);
        }
        lanes.as_mut_ptr()
    })
}

/// Rows of W a sweep takes together in each block, so their independent multiply-add chains
/// hide each other's latency.
const SWEEP_ROWS: usize = 4;

/// `fused_sweep`'s work on rows i0..i0 + R of W and one block of columns: each row's dx lanes,
/// R vectors from `acc`, take d·W in order, and W steps by α·x[i]·d.
#[inline(always)]
unsafe fn fused_sweep_rows<L: Lanes, const R: usize>(
    job: &FusedJob,
    block: &std::ops::Range<usize>,
    i0: usize,
    acc: *mut f32,
    alpha: L,
) {
    let dot = &job.dot;
    // SAFETY: the caller keeps the rows and the block inside W, x and d, and R vectors at
    // `acc`.
    unsafe {
        let mut sums = [L::zero(); R];
        let mut xs = [L::zero(); R];
        for r in 0..R {
            sums[r] = L::load(acc.wrapping_add(r * L::N));
            xs[r] = L::splat(*job.x.wrapping_add(i0 + r));
        }
        let mut j = block.start;
        while j < block.end {
            let len = (block.end - j).min(L::N);
            let dv = L::load_n(dot.a.wrapping_add(j), len);
            for r in 0..R {
                let w = job.w.ptr.wrapping_add((i0 + r) * job.w.ld + j);
                let wv = L::load_n(w, len);
                sums[r] = L::mul_add(dv, wv, sums[r]);
                let step = L::mul(alpha, L::mul_add(xs[r], dv, L::zero()));
                L::mul_add(L::splat(1.0), wv, step).store_n(w, len);
            }
            j += L::N;
        }
        for (r, sum) in sums.iter().enumerate() {
            sum.store(acc.wrapping_add(r * L::N));
        }
    }
}

/// `fused_rows` for one row of d (m = 1) on part `part` of W's rows `rows`, swept by blocks of
/// SWEEP_COLS columns: each row's block is read once for both products. Row i's dx lanes (in
/// `sweep_lanes` between blocks) take d·W[i, block], so lane l sums the part's p ≡ l (mod N)
/// in order as `dot_tile`'s does, and `Lanes::sum` adds them with its tree; W[i, block] steps
/// by α·x[i]·d[block] with `update_vector`'s arithmetic. The bits are the two GEMMs'.
#[inline(always)]
unsafe fn fused_sweep<L: Lanes>(
    job: &FusedJob,
    part: usize,
    rows: std::ops::Range<usize>,
    alpha: L,
) {
    let dot = &job.dot;
    let ks = piece(dot.k, dot.parts, part, ALIGN);
    let lanes = sweep_lanes(rows.len() * L::N);
    let first = rows.start;
    let acc_of = move |i: usize| lanes.wrapping_add((i - first) * L::N);
    // SAFETY: the caller keeps `rows` inside W, x and dx, and owns the part's columns of
    // them; the lanes hold rows.len() vectors.
    unsafe {
        for i in rows.clone() {
            L::zero().store(acc_of(i));
        }
        for block in blocks(ks, SWEEP_COLS, false) {
            let mut i = rows.start;
            while i + SWEEP_ROWS <= rows.end {
                fused_sweep_rows::<L, SWEEP_ROWS>(job, &block, i, acc_of(i), alpha);
                i += SWEEP_ROWS;
            }
            for i in i..rows.end {
                fused_sweep_rows::<L, 1>(job, &block, i, acc_of(i), alpha);
            }
        }
        let out = dot.out.ptr.wrapping_add(part * dot.part_stride);
        for i in rows {
            *out.wrapping_add(i) = L::load(acc_of(i)).sum();
        }
    }
}

/// W[i, cols] += α·Σᵣ x[r, i]·d[r, cols] for rows i0..i0 + R of W (`fused_rows`), a vector
/// of columns at a time across the R rows (d's vector read once for them), the masked tail
/// last.
#[inline(always)]
unsafe fn update_rows<L: Lanes, const R: usize>(
    job: &FusedJob,
    i0: usize,
    cols: &std::ops::Range<usize>,
    alpha: L,
) {
    let mut j = cols.start;
    // SAFETY: forwarded; the rows and `cols` lie in W, x and d.
    unsafe {
        while j + L::N <= cols.end {
            update_vector::<L, R>(job, i0, j, L::N, alpha);
            j += L::N;
        }
        if j < cols.end {
            update_vector::<L, R>(job, i0, j, cols.end - j, alpha);
        }
    }
}

/// W[i, j..j + len] += α·Σᵣ x[r, i]·d[r, j..j + len] for i in i0..i0 + R: per element one
/// multiply-add chain over r in order, then α times it plus W (`bcast_tile` with β = 1). A
/// function, not a closure, so it inherits the caller's target features.
#[inline(always)]
unsafe fn update_vector<L: Lanes, const R: usize>(
    job: &FusedJob,
    i0: usize,
    j: usize,
    len: usize,
    alpha: L,
) {
    let dot = &job.dot;
    // SAFETY: forwarded; the elements lie in W, x and d.
    unsafe {
        let mut acc = [L::zero(); R];
        for r in 0..dot.m {
            let dv = L::load_n(dot.a.wrapping_add(r * dot.k + j), len);
            let x = job.x.wrapping_add(r * job.n + i0);
            for (ii, acc) in acc.iter_mut().enumerate() {
                *acc = L::mul_add(L::splat(*x.wrapping_add(ii)), dv, *acc);
            }
        }
        for (ii, &acc) in acc.iter().enumerate() {
            let p = job.w.ptr.wrapping_add((i0 + ii) * job.w.ld + j);
            L::mul_add(L::splat(1.0), L::load_n(p, len), L::mul(alpha, acc)).store_n(p, len);
        }
    }
}

/// Calls `$f::<$L, R, …>($args)` for R = `$rows` (1..=6).
macro_rules! by_rows {
    ($rows:expr, $f:ident::<$L:ty; $($rest:tt),*>($($arg:expr),*)) => {
        match $rows {
            1 => $f::<$L, 1, $($rest),*>($($arg),*),
            2 => $f::<$L, 2, $($rest),*>($($arg),*),
            3 => $f::<$L, 3, $($rest),*>($($arg),*),
            4 => $f::<$L, 4, $($rest),*>($($arg),*),
            5 => $f::<$L, 5, $($rest),*>($($arg),*),
            _ => $f::<$L, 6, $($rest),*>($($arg),*),
        }
    };
}

/// The broadcast kernel over columns `cols` of C: register tiles of MR rows × NV vectors
/// (6 × 4 with AVX-512's 32 registers, 4 × 2 otherwise; 1 × 8 or 1 × 4 for a single row, so
/// enough independent chains hide the multiply-add latency).
#[inline(always)]
unsafe fn bcast_cols<L: Lanes>(job: &BcastJob, cols: std::ops::Range<usize>) {
    // SAFETY: forwarded.
    unsafe {
        match (job.m == 1, L::WIDE) {
            (true, true) => bcast_blocks::<L, 1, 8>(job, cols),
            (true, false) => bcast_blocks::<L, 1, 4>(job, cols),
            (false, true) => bcast_blocks::<L, 6, 4>(job, cols),
            (false, false) => bcast_blocks::<L, 4, 2>(job, cols),
        }
    }
}

/// Column blocks of NV vectors (outer, so a block of B stays in L1 across the row blocks),
/// row blocks of MR (inner).
#[inline(always)]
unsafe fn bcast_blocks<L: Lanes, const MR: usize, const NV: usize>(
    job: &BcastJob,
    cols: std::ops::Range<usize>,
) {
    let width = NV * L::N;
    let pairs = &job.pairs[..job.npairs];
    let listed = pairs.iter().any(|p| p.nonzeros.is_some());
    assert!(
        !listed || job.list_rows == MR,
        "nonzero lists of {} rows for tiles of {MR}",
        job.list_rows
    );
    for col_block in blocks(cols, width, job.reverse) {
        let (j0, w) = (col_block.start, col_block.len());
        for row_block in blocks(0..job.m, MR, false) {
            let (i0, rows) = (row_block.start, row_block.len());
            // SAFETY: forwarded; the tile lies inside C and the operands.
            unsafe {
                let tile = (i0 / MR, i0, j0, w);
                match (w == width, listed) {
                    (true, false) => {
                        by_rows!(rows, bcast_tile::<L; NV, true, false>(job, pairs, tile))
                    }
                    (false, false) => {
                        by_rows!(rows, bcast_tile::<L; NV, false, false>(job, pairs, tile))
                    }
                    (true, true) => {
                        by_rows!(rows, bcast_tile::<L; NV, true, true>(job, pairs, tile))
                    }
                    (false, true) => {
                        by_rows!(rows, bcast_tile::<L; NV, false, true>(job, pairs, tile))
                    }
                }
            }
        }
    }
}

/// Rows i0..i0 + R, columns j0..j0 + w of C = α·Σ_pairs Σₚ A(i, p)·B[p, j] + β·C, each
/// element one multiply-add chain over the pairs and p in order (over a pair's `NonZeros` of
/// register tile `block` only, where it has them). FULL: w = NV·N. A tile with no term left
/// that would add α·(+0) = −0 to C (β = 1, α negative: an SGD update) leaves C untouched,
/// which is what that addition does to every value.
#[inline(always)]
unsafe fn bcast_tile<
    L: Lanes,
    const R: usize,
    const NV: usize,
    const FULL: bool,
    const LISTED: bool,
>(
    job: &BcastJob,
    pairs: &[Pair],
    (block, i0, j0, w): (usize, usize, usize, usize),
) {
    // SAFETY: the caller keeps rows i0..i0 + R < m and columns j0..j0 + w ≤ n, and block is
    // the tile's block of the pairs' lists; vectors past w are read and written with
    // zero-length masks.
    unsafe {
        let no_terms = |pair: &Pair| pair.nonzeros.is_some_and(|nz| nz.block(block).is_empty());
        if LISTED && job.beta == 1.0 && job.alpha.is_sign_negative() && pairs.iter().all(no_terms) {
            return;
        }
        let mut lens = [L::N; NV];
        for (v, len) in lens.iter_mut().enumerate() {
            *len = w.saturating_sub(v * L::N).min(L::N);
        }
        if job.beta != 0.0 {
            // C's tile is read at the end: ask for it now, so the loads below hide its latency.
            for r in 0..R {
                let row = job.c.ptr.wrapping_add((i0 + r) * job.c.ld + j0);
                for v in 0..NV {
                    L::prefetch(row.wrapping_add(v * L::N));
                }
            }
        }
        let mut acc = [[L::zero(); NV]; R];
        for pair in pairs {
            let a = pair.a.ptr.wrapping_add(i0 * pair.a.rs);
            let b = pair.b.wrapping_add(j0);
            // Term p: A(i0.., p) at a + p·ks, B[p, j0..] at b + p·ldb.
            let (ks, ldb) = (pair.a.ks, pair.ldb);
            match pair.nonzeros.filter(|_| LISTED) {
                None => {
                    let (mut a, mut b) = (a, b);
                    for _ in 0..pair.k {
                        let ahead = b.wrapping_add(PREFETCH * ldb);
                        bcast_term::<L, R, NV, FULL>(&mut acc, (a, pair.a.rs), b, ahead, &lens);
                        a = a.wrapping_add(ks);
                        b = b.wrapping_add(ldb);
                    }
                }
                Some(nz) => {
                    let terms = nz.block(block);
                    for (t, &p) in terms.iter().enumerate() {
                        let p = p as usize;
                        let (a, b) = (a.wrapping_add(p * ks), b.wrapping_add(p * ldb));
                        let next = terms[(t + PREFETCH).min(terms.len() - 1)] as usize;
                        let ahead = pair.b.wrapping_add(j0 + next * ldb);
                        bcast_term::<L, R, NV, FULL>(&mut acc, (a, pair.a.rs), b, ahead, &lens);
                    }
                }
            }
        }
        let (alpha, beta) = (L::splat(job.alpha), L::splat(job.beta));
        for (r, acc) in acc.iter().enumerate() {
            let row = job.c.ptr.wrapping_add((i0 + r) * job.c.ld + j0);
            for (v, &acc) in acc.iter().enumerate() {
                let p = row.wrapping_add(v * L::N);
                let len = if FULL { L::N } else { lens[v] };
                let mut out = L::mul(alpha, acc);
                if job.beta != 0.0 {
                    out = L::mul_add(beta, L::load_n(p, len), out);
                }
                out.store_n(p, len);
            }
        }
    }
}

/// One term of `bcast_tile`'s chains: acc[r][v] += A(r)·B[v·N..], with A's R elements at
/// `a.0 + r·a.1` and B's row at `b` (`lens[v]` lanes of vector v), asking the cache for the
/// row at `ahead`. A function, not a closure, so it inherits the caller's target features.
#[inline(always)]
unsafe fn bcast_term<L: Lanes, const R: usize, const NV: usize, const FULL: bool>(
    acc: &mut [[L; NV]; R],
    (a, rs): (*const f32, usize),
    b: *const f32,
    ahead: *const f32,
    lens: &[usize; NV],
) {
    // SAFETY: the caller keeps A's R elements and B's row's `lens` lanes in bounds.
    unsafe {
        for v in 0..NV {
            L::prefetch(ahead.wrapping_add(v * L::N));
        }
        let mut bv = [L::zero(); NV];
        for (v, bv) in bv.iter_mut().enumerate() {
            let p = b.wrapping_add(v * L::N);
            *bv = if FULL { L::load(p) } else { L::load_n(p, lens[v]) };
        }
        for (r, acc) in acc.iter_mut().enumerate() {
            let av = L::splat(*a.wrapping_add(r * rs));
            for (acc, &bv) in acc.iter_mut().zip(&bv) {
                *acc = L::mul_add(av, bv, *acc);
            }
        }
    }
}

/// Calls `$f::<$L, R, …>($args)` for R = `$rows` (1..=4).
macro_rules! by_rows4 {
    ($rows:expr, $f:ident::<$L:ty; $($rest:tt),*>($($arg:expr),*)) => {
        match $rows {
            1 => $f::<$L, 1, $($rest),*>($($arg),*),
            2 => $f::<$L, 2, $($rest),*>($($arg),*),
            3 => $f::<$L, 3, $($rest),*>($($arg),*),
            _ => $f::<$L, 4, $($rest),*>($($arg),*),
        }
    };
}

/// The dot kernel over part `part` of k and columns `cols` of its output: register tiles of
/// MR rows of A × NR rows of B (4 × 4 with AVX-512, 2 × 4 otherwise; 1 × 8 or 1 × 6 for a
/// single row).
#[inline(always)]
unsafe fn dot_cols<L: Lanes>(job: &DotJob, part: usize, cols: std::ops::Range<usize>) {
    // SAFETY: forwarded.
    unsafe {
        match (job.m == 1, L::WIDE) {
            (true, true) => dot_blocks::<L, 1, 8>(job, part, cols),
            (true, false) => dot_blocks::<L, 1, 6>(job, part, cols),
            (false, true) => dot_blocks::<L, 4, 4>(job, part, cols),
            (false, false) => dot_blocks::<L, 2, 4>(job, part, cols),
        }
    }
}

/// Blocks of NR rows of B (outer: A's rows, a few KB, stay in L1 while B streams once), blocks
/// of MR rows of A (inner).
#[inline(always)]
unsafe fn dot_blocks<L: Lanes, const MR: usize, const NR: usize>(
    job: &DotJob,
    part: usize,
    cols: std::ops::Range<usize>,
) {
    let ks = piece(job.k, job.parts, part, ALIGN);
    let out = Dst { ptr: job.out.ptr.wrapping_add(part * job.part_stride), ld: job.out.ld };
    for b_rows in blocks(cols, NR, false) {
        let (j0, nr) = (b_rows.start, b_rows.len());
        for a_rows in blocks(0..job.m, MR, false) {
            let (i0, rows) = (a_rows.start, a_rows.len());
            // SAFETY: forwarded; the tile lies inside the operands and the output.
            unsafe {
                match nr {
                    1 => by_rows4!(rows, dot_tile::<L; 1>(job, &ks, out, i0, j0)),
                    2 => by_rows4!(rows, dot_tile::<L; 2>(job, &ks, out, i0, j0)),
                    3 => by_rows4!(rows, dot_tile::<L; 3>(job, &ks, out, i0, j0)),
                    4 => by_rows4!(rows, dot_tile::<L; 4>(job, &ks, out, i0, j0)),
                    5 => by_rows4!(rows, dot_tile::<L; 5>(job, &ks, out, i0, j0)),
                    6 => by_rows4!(rows, dot_tile::<L; 6>(job, &ks, out, i0, j0)),
                    7 => by_rows4!(rows, dot_tile::<L; 7>(job, &ks, out, i0, j0)),
                    _ => by_rows4!(rows, dot_tile::<L; 8>(job, &ks, out, i0, j0)),
                }
            }
        }
    }
}

/// One vector step of `dot_tile`: acc[r][s] += A[i0 + r, p..p + len]·B[j0 + s, p..p + len]
/// lane by lane (a function, not a closure, so it inherits the caller's target features).
#[inline(always)]
unsafe fn dot_step<L: Lanes, const R: usize, const S: usize>(
    job: &DotJob,
    i0: usize,
    j0: usize,
    p: usize,
    len: usize,
    acc: &mut [[L; S]; R],
) {
    // SAFETY: the caller keeps the rows and p..p + len inside A and B.
    unsafe {
        let mut av = [L::zero(); R];
        for (r, av) in av.iter_mut().enumerate() {
            *av = L::load_n(job.a.wrapping_add((i0 + r) * job.k + p), len);
        }
        let mut bv = [L::zero(); S];
        for (s, bv) in bv.iter_mut().enumerate() {
            *bv = L::load_n(job.b.wrapping_add((j0 + s) * job.k + p), len);
        }
        for (acc, &av) in acc.iter_mut().zip(&av) {
            for (acc, &bv) in acc.iter_mut().zip(&bv) {
                *acc = L::mul_add(av, bv, *acc);
            }
        }
    }
}

/// Rows i0..i0 + R, columns j0..j0 + S of `out` = Σ_{p ∈ ks} A[i, p]·B[j, p] (scaled by α and
/// β into C when k is one part): lane l of each accumulator sums the p ≡ l (mod N) of the
/// part, then `Lanes::sum` adds the lanes.
#[inline(always)]
unsafe fn dot_tile<L: Lanes, const R: usize, const S: usize>(
    job: &DotJob,
    ks: &std::ops::Range<usize>,
    out: Dst,
    i0: usize,
    j0: usize,
) {
    // SAFETY: the caller keeps rows i0..i0 + R ≤ m and j0..j0 + S ≤ n; the last vector of the
    // part is read with a mask.
    unsafe {
        let mut acc = [[L::zero(); S]; R];
        let mut p = ks.start;
        while p + L::N <= ks.end {
            dot_step::<L, R, S>(job, i0, j0, p, L::N, &mut acc);
            p += L::N;
        }
        if p < ks.end {
            dot_step::<L, R, S>(job, i0, j0, p, ks.end - p, &mut acc);
        }
        // Lane sums of up to 16 accumulators at once (`Lanes::sum16`), the tile padded with
        // zeros; wider tiles (1 × 8 at most) fit too.
        let mut flat = [L::zero(); 16];
        for (r, acc) in acc.iter().enumerate() {
            for (s, &acc) in acc.iter().enumerate() {
                flat[r * S + s] = acc;
            }
        }
        let sums = L::sum16(&flat);
        let one_part = job.parts == 1;
        for r in 0..R {
            for s in 0..S {
                let o = out.ptr.wrapping_add((i0 + r) * out.ld + j0 + s);
                let sum = sums[r * S + s];
                *o = if !one_part {
                    sum
                } else if job.beta == 0.0 {
                    job.alpha * sum
                } else {
                    job.alpha * sum + job.beta * *o
                };
            }
        }
    }
}
