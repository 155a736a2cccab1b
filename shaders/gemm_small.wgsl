// The GEMMs for shapes the 64×64 tiles leave mostly idle, shared by gemm.wgsl, gemm_sum.wgsl and
// the fused minibatch kernels (load_gemm, gemm_xent, gemm_sq_err, gemm_corrupt);
// needs gemm_tiles.wgsl (TRANS_A, TRANS_B, VEC_A, VEC_B, a_at, b_at, a_vec, b_vec) and
// rows_shuffle.wgsl or rows_shuffle_subgroup.wgsl (the rows kernel's tree's last levels).
//   rows:  few rows (m ≤ 128, a minibatch). A workgroup of 256 threads computes MR rows × 4·CT
//          columns of C (CT = 256 / KL): CT column threads, four columns each, times KL lanes
//          along K. Lane l takes K's quads 4l, 4l + 4·KL, …; the KL partial sums are then added
//          in workgroup memory in a fixed tree (lane l += lane l + s for s = KL/2, …, 1), so the
//          bits depend only on the shape. With TRANS_B (B stored [n, k], the tied decoder) the
//          lanes are the fast thread index and read B's rows along k; otherwise the column
//          threads are, and read B's rows along n.
//   outer: a small inner dimension (the weight update at a minibatch: k = batch). One thread
//          computes C[i, j .. j + 4] directly: no workgroup memory, no barrier.
// The including file declares `p` (m, n, k, alpha), `c`, `bias` (a column bias [n]) and the words
// of its matrices (a_vec, b_vec); gemm_tiles.wgsl gives `scaled` and OUTSIDE.

// Rows of C per workgroup (1 ..= 4) and lanes along K (a power of two, 1 ..= 256).
override MR: u32 = 4u;
override KL: u32 = 16u;

// The lanes' partial sums: red[(lane · MR + r) · CT + ct] is row r, columns 4·ct .. 4·ct + 4;
// before them, in rows_tile_staged, a stage of A's rows (red[r · stage_quads() + q]).
var<workgroup> red: array<vec4<f32>, 1024>;

// Column threads of a rows workgroup.
fn rows_cts() -> u32 {
    return 256u / KL;
}

// Thread t's (lane, column thread).
fn rows_lane(t: u32) -> vec2<u32> {
    if TRANS_B {
        return vec2<u32>(t % KL, t / KL);
    }
    return vec2<u32>(t / rows_cts(), t % rows_cts());
}

// op(A)[i, k .. k + 4] of the pair (A₂ when `second`) of inner dimension kd, zero from column
// kend on; k is a multiple of 4.
fn a_quad(second: bool, kd: u32, kend: u32, i: u32, k: u32) -> vec4<f32> {
    if !TRANS_A && VEC_A && k + 4u <= kend {
        return a_vec(second, (i * kd + k) >> 2u);
    }
    var v = vec4<f32>(0.0);
    for (var q = 0u; q < 4u; q++) {
        if k + q < kend {
            if TRANS_A {
                v[q] = a_at(second, (k + q) * p.m + i);
            } else {
                v[q] = a_at(second, i * kd + k + q);
            }
        }
    }
    return v;
}

// op(B)[k, j .. j + 4] of the pair of inner dimension kd (k < kd), zero from column n on.
fn b_row(second: bool, kd: u32, k: u32, j: u32) -> vec4<f32> {
    if !TRANS_B && VEC_B && j + 4u <= p.n {
        return b_vec(second, (k * p.n + j) >> 2u);
    }
    var v = vec4<f32>(0.0);
    for (var q = 0u; q < 4u; q++) {
        if j + q < p.n {
            if TRANS_B {
                v[q] = b_at(second, (j + q) * kd + k);
            } else {
                v[q] = b_at(second, k * p.n + j + q);
            }
        }
    }
    return v;
}

// op(B)[k .. k + 4, j] of the pair of inner dimension kd (j < n), zero from row kend on; k is a
// multiple of 4.
fn b_col(second: bool, kd: u32, kend: u32, k: u32, j: u32) -> vec4<f32> {
    if TRANS_B && VEC_B && k + 4u <= kend {
        return b_vec(second, (j * kd + k) >> 2u);
    }
    var v = vec4<f32>(0.0);
    for (var q = 0u; q < 4u; q++) {
        if k + q < kend {
            if TRANS_B {
                v[q] = b_at(second, j * kd + k + q);
            } else {
                v[q] = b_at(second, (k + q) * p.n + j);
            }
        }
    }
    return v;
}

// acc[r] += Σ_k op(A)[i0 + r, k] · op(B)[k, j .. j + 4] over lane `lane`'s quads of k in
// kbeg .. kend (kbeg a multiple of 4·KL, so that quad q is lane q mod KL's in every range) of
// the inner dimension kd, for the rows of C below m. With `staged`, A's quads come from `red`:
// row r's quad at k is red[r · stage_quads() + (k − kbeg) / 4] (`rows_tile_staged`).
fn rows_accumulate(
    acc: ptr<function, array<vec4<f32>, 4>>,
    second: bool,
    kd: u32,
    kbeg: u32,
    kend: u32,
    i0: u32,
    j: u32,
    lane: u32,
    staged: bool,
) {
    for (var k = kbeg + 4u * lane; k < kend; k += 4u * KL) {
        var bq: array<vec4<f32>, 4>;
        for (var q = 0u; q < 4u; q++) {
            if TRANS_B {
                // bq[q] = op(B)[k .. k + 4, j + q]: the dot products' right-hand sides.
                if j + q < p.n {
                    bq[q] = b_col(second, kd, kd, k, j + q);
                }
            } else if k + q < kd {
                // bq[q] = op(B)[k + q, j .. j + 4]: the rows that A's elements broadcast over.
                bq[q] = b_row(second, kd, k + q, j);
            }
        }
        for (var r = 0u; r < MR; r++) {
            if i0 + r < p.m {
                var aq: vec4<f32>;
                if staged {
                    aq = red[r * stage_quads() + (k - kbeg) / 4u];
                } else {
                    aq = a_quad(second, kd, kd, i0 + r, k);
                }
                if TRANS_B {
                    let d = vec4<f32>(dot(aq, bq[0]), dot(aq, bq[1]), dot(aq, bq[2]), dot(aq, bq[3]));
                    (*acc)[r] += d;
                } else {
                    var s = fma(vec4<f32>(aq.x), bq[0], (*acc)[r]);
                    s = fma(vec4<f32>(aq.y), bq[1], s);
                    s = fma(vec4<f32>(aq.z), bq[2], s);
                    (*acc)[r] = fma(vec4<f32>(aq.w), bq[3], s);
                }
            }
        }
    }
}

// Adds the KL lanes' acc in the fixed tree; afterwards red[r · CT + ct] holds the workgroup's
// sum for row r of column thread ct. The levels whose two lanes are fewer invocations apart
// than `rows_shuffle_limit` (the subgroup size with rows_shuffle_subgroup.wgsl, 1 with
// rows_shuffle.wgsl) are subgroup shuffles, the others workgroup memory: the same additions.
// Call in uniform control flow (it has barriers); t is the thread's local index.
fn rows_reduce(acc: ptr<function, array<vec4<f32>, 4>>, lane: u32, ct: u32, t: u32) {
    let cts = rows_cts();
    // Invocations between lane l and lane l + 1 of a column thread (`rows_lane`).
    let step = select(cts, 1u, TRANS_B);
    let limit = rows_shuffle_limit(t);
    for (var r = 0u; r < MR; r++) {
        red[(lane * MR + r) * cts + ct] = (*acc)[r];
    }
    workgroupBarrier();
    var s = KL / 2u;
    for (; s > 0u && s * step >= limit; s >>= 1u) {
        if lane < s {
            for (var r = 0u; r < MR; r++) {
                let at = (lane * MR + r) * cts + ct;
                red[at] += red[((lane + s) * MR + r) * cts + ct];
            }
        }
        workgroupBarrier();
    }
    if s == 0u {
        return;
    }
    // The last levels, strides s … 1, in registers: lanes < 2s hold the partial sums.
    var v: array<vec4<f32>, 4>;
    for (var r = 0u; r < MR; r++) {
        v[r] = red[(lane * MR + r) * cts + ct];
    }
    for (; s > 0u; s >>= 1u) {
        for (var r = 0u; r < MR; r++) {
            v[r] += rows_shuffle(v[r], s * step);
        }
    }
    // Every thread has read red before lane 0 writes the totals.
    workgroupBarrier();
    if lane == 0u {
        for (var r = 0u; r < MR; r++) {
            red[r * cts + ct] = v[r];
        }
    }
    workgroupBarrier();
}

// Σ_k op(A)[i, k] · op(B)[k, j .. j + 4] over the pair (A₂, B₂ when `second`) of inner
// dimension kd, added to acc in k's order.
fn outer_accumulate(acc: vec4<f32>, second: bool, kd: u32, i: u32, j: u32) -> vec4<f32> {
    var s = acc;
    for (var k = 0u; k < kd; k++) {
        var av: f32;
        if TRANS_A {
            av = a_at(second, k * p.m + i);
        } else {
            av = a_at(second, i * kd + k);
        }
        s = fma(vec4<f32>(av), b_row(second, kd, k, j), s);
    }
    return s;
}

// The (row, first column) of C that outer-kernel thread g computes, for ⌈n/4⌉ quads a row.
fn outer_at(g: u32) -> vec2<u32> {
    let quads = (p.n + 3u) / 4u;
    return vec2<u32>(g / quads, (g % quads) * 4u);
}

// C[i, j .. j + 4] = α·v + β·C for outer-kernel thread `at` = (i, j), within C's columns.
fn outer_store(at: vec2<u32>, v: vec4<f32>) {
    for (var q = 0u; q < 4u; q++) {
        if at.y + q < p.n {
            let idx = at.x * p.n + at.y + q;
            c[idx] = scaled(v[q], idx);
        }
    }
}

// bias[j .. j + 4] += α·Σₖ B[k, j .. j + 4] (B, the first pair's, stored [k, n]) by the
// outer-kernel threads of C's row 0: a bias update beside a weight update, in k's order.
fn outer_bias_update(at: vec2<u32>) {
    if at.x != 0u {
        return;
    }
    var s = vec4<f32>(0.0);
    for (var k = 0u; k < p.k; k++) {
        s += b_row(false, p.k, k, at.y);
    }
    for (var q = 0u; q < 4u; q++) {
        if at.y + q < p.n {
            bias[at.y + q] = p.alpha * s[q] + bias[at.y + q];
        }
    }
}

// A rows workgroup's thread after its share of the products and the workgroup's reduction:
// its lane, column thread, first row and first column.
struct RowsTile {
    lane: u32,
    ct: u32,
    i0: u32,
    j: u32,
}

// Thread t of rows workgroup wid: its share of C = op(A)·op(B) summed into red (call in uniform
// control flow: it has barriers).
fn rows_tile(wid: vec3<u32>, t: u32) -> RowsTile {
    let lc = rows_lane(t);
    let i0 = wid.y * MR;
    let j = (wid.x * rows_cts() + lc.y) * 4u;
    var acc: array<vec4<f32>, 4>;
    rows_accumulate(&acc, false, p.k, 0u, p.k, i0, j, lc.x, false);
    rows_reduce(&acc, lc.x, lc.y, t);
    return RowsTile(lc.x, lc.y, i0, j);
}

// Quads of each of the MR rows of A that one stage of `rows_tile_staged` holds in `red`: the
// largest power of two that MR rows of them fit in (a multiple of KL ≤ 256).
fn stage_quads() -> u32 {
    return 1u << firstLeadingBit(1024u / MR);
}

// rows_tile with A's rows staged in workgroup memory, stage_quads() quads of each row at a
// time: each word of A is loaded once by the workgroup (`a_vec`, which in load_gemm.wgsl
// decodes and corrupts four pixels) instead of once by each of its CT column threads, then
// every lane reads its quads from `red`. The same lanes add the same products in the same order
// as rows_tile: the same bits. For A stored [m, k] in whole words (!TRANS_A, VEC_A; k a
// multiple of 4). Call in uniform control flow (it has barriers).
fn rows_tile_staged(wid: vec3<u32>, t: u32) -> RowsTile {
    let lc = rows_lane(t);
    let i0 = wid.y * MR;
    let j = (wid.x * rows_cts() + lc.y) * 4u;
    let sq = stage_quads();
    let kq = p.k / 4u;
    var acc: array<vec4<f32>, 4>;
    for (var q0 = 0u; q0 < kq; q0 += sq) {
        let quads = min(sq, kq - q0);
        for (var e = t; e < MR * sq; e += 256u) {
            let r = e / sq;
            let q = e % sq;
            if i0 + r < p.m && q < quads {
                red[e] = a_vec(false, (i0 + r) * kq + q0 + q);
            }
        }
        workgroupBarrier();
        rows_accumulate(&acc, false, p.k, 4u * q0, 4u * (q0 + quads), i0, j, lc.x, true);
        // Every lane has read this stage before the next overwrites it (or rows_reduce
        // writes its sums).
        workgroupBarrier();
    }
    rows_reduce(&acc, lc.x, lc.y, t);
    return RowsTile(lc.x, lc.y, i0, j);
}

// The index in C of element e (row e / 4, column e % 4) of tile w's sums, or OUTSIDE past C's
// edges; the sum is red[(e / 4) · CT + w.ct][e % 4] (`rows_scaled`).
fn rows_index(w: RowsTile, e: u32) -> u32 {
    let i = w.i0 + e / 4u;
    let j = w.j + e % 4u;
    if i >= p.m || j >= p.n {
        return OUTSIDE;
    }
    return i * p.n + j;
}

// α·(tile w's sum of element e) + β·C[idx] (gemm_tiles.wgsl's `scaled`), for idx =
// rows_index(w, e) inside C: the value an epilogue starts from.
fn rows_scaled(w: RowsTile, e: u32, idx: u32) -> f32 {
    return scaled(red[(e / 4u) * rows_cts() + w.ct][e % 4u], idx);
}

// A loss epilogue's workgroup total (gemm_xent.wgsl, gemm_sq_err.wgsl): `tree_total` of every
// thread's `sum` (sums.wgsl's tree, the same additions in the same order) in the x components
// of the rows kernel's `red`, once the epilogue has read it: the rows kernel's workgroup memory
// is all such an entry point takes, within every adapter's 16 KiB. Call in uniform control flow.
fn red_total(t: u32, sum: f32) -> f32 {
    workgroupBarrier();
    red[t].x = sum;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if t < s {
            red[t].x += red[t + s].x;
        }
        workgroupBarrier();
    }
    return red[0].x;
}
