// The register-tiled GEMM shared by gemm.wgsl and gemm_sum.wgsl. A 16×16 workgroup computes a
// 64×64 tile of C: each thread a 4×4 block held in four vec4 accumulators; K advances 16 at a
// time through two 16×64 tiles of op(A) and op(B) in workgroup memory. Tiles are zero-filled
// past the edges, so any m, n, k (1, 7, 33, 500, 784 …) works. A and B are read as vec4 arrays:
// when a matrix's contiguous dimension is a multiple of 4 (VEC_A / VEC_B) its tile is read with
// one vec4 load per thread, otherwise with four scalar loads.
//   op(A): [m, k] (A stored [m, k], or [k, m] when TRANS_A)
//   op(B): [k, n] (B stored [k, n], or [n, k] when TRANS_B)
//   C: [m, n]
// The including file declares `p` (a uniform with m, n, alpha and beta), `c` (C, read_write
// f32) and the words of its matrices: `fn a_vec(second: bool, i: u32) -> vec4<f32>` and
// `b_vec`, word i of A and B (of A₂ and B₂ when `second`, for gemm_sum's second product).

// Pipeline-overridable constants: each combination is its own compiled pipeline.
override TRANS_A: bool = false;
override TRANS_B: bool = false;
// A's (B's) contiguous dimension is a multiple of 4: k (m) for A, n (k) for B; with a second
// product, for both pairs.
override VEC_A: bool = false;
override VEC_B: bool = false;

const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;

// op(A) tile, k-major: tile_a[kk · 16 + r / 4][r % 4] = op(A)[i0 + r, k0 + kk].
var<workgroup> tile_a: array<vec4<f32>, 256>;
// op(B) tile, k-major: tile_b[kk · 16 + c / 4][c % 4] = op(B)[k0 + kk, j0 + c].
var<workgroup> tile_b: array<vec4<f32>, 256>;

fn a_at(second: bool, i: u32) -> f32 {
    return a_vec(second, i >> 2u)[i & 3u];
}

fn b_at(second: bool, i: u32) -> f32 {
    return b_vec(second, i >> 2u)[i & 3u];
}

// Stores op(A)[i0 + r, k0 + kk] = v into the tile.
fn put_a(r: u32, kk: u32, v: f32) {
    tile_a[kk * 16u + (r >> 2u)][r & 3u] = v;
}

// Stores op(B)[k0 + kk, j0 + c] = v into the tile.
fn put_b(kk: u32, col: u32, v: f32) {
    tile_b[kk * 16u + (col >> 2u)][col & 3u] = v;
}

// Thread t (of 256) loads its share of op(A)[i0 .. i0 + 64, k0 .. k0 + 16] (of op(A₂) when
// `second`), zero from column kend on; kd is that matrix's inner dimension.
fn load_a(second: bool, kd: u32, kend: u32, t: u32, i0: u32, k0: u32) {
    if !TRANS_A {
        // A: [m, k], contiguous along k.
        if VEC_A {
            let r = t >> 2u;
            let q = (t & 3u) * 4u;
            let gi = i0 + r;
            let gk = k0 + q;
            var v = vec4<f32>(0.0);
            if gi < p.m && gk < kend {
                v = a_vec(second, (gi * kd + gk) >> 2u);
            }
            put_a(r, q, v.x);
            put_a(r, q + 1u, v.y);
            put_a(r, q + 2u, v.z);
            put_a(r, q + 3u, v.w);
        } else {
            for (var s = 0u; s < 4u; s++) {
                let idx = t + 256u * s;
                let r = idx >> 4u;
                let kk = idx & 15u;
                let gi = i0 + r;
                let gk = k0 + kk;
                var v = 0.0;
                if gi < p.m && gk < kend {
                    v = a_at(second, gi * kd + gk);
                }
                put_a(r, kk, v);
            }
        }
    } else {
        // A: [k, m], contiguous along m.
        if VEC_A {
            let kk = t >> 4u;
            let q = t & 15u;
            let gk = k0 + kk;
            let gi = i0 + q * 4u;
            var v = vec4<f32>(0.0);
            if gk < kend && gi < p.m {
                v = a_vec(second, (gk * p.m + gi) >> 2u);
            }
            tile_a[kk * 16u + q] = v;
        } else {
            for (var s = 0u; s < 4u; s++) {
                let idx = t + 256u * s;
                let kk = idx >> 6u;
                let r = idx & 63u;
                let gk = k0 + kk;
                let gi = i0 + r;
                var v = 0.0;
                if gk < kend && gi < p.m {
                    v = a_at(second, gk * p.m + gi);
                }
                put_a(r, kk, v);
            }
        }
    }
}

// Thread t (of 256) loads its share of op(B)[k0 .. k0 + 16, j0 .. j0 + 64] (of op(B₂) when
// `second`), zero from row kend on; kd is that matrix's inner dimension.
fn load_b(second: bool, kd: u32, kend: u32, t: u32, j0: u32, k0: u32) {
    if !TRANS_B {
        // B: [k, n], contiguous along n.
        if VEC_B {
            let kk = t >> 4u;
            let q = t & 15u;
            let gk = k0 + kk;
            let gj = j0 + q * 4u;
            var v = vec4<f32>(0.0);
            if gk < kend && gj < p.n {
                v = b_vec(second, (gk * p.n + gj) >> 2u);
            }
            tile_b[kk * 16u + q] = v;
        } else {
            for (var s = 0u; s < 4u; s++) {
                let idx = t + 256u * s;
                let kk = idx >> 6u;
                let col = idx & 63u;
                let gk = k0 + kk;
                let gj = j0 + col;
                var v = 0.0;
                if gk < kend && gj < p.n {
                    v = b_at(second, gk * p.n + gj);
                }
                put_b(kk, col, v);
            }
        }
    } else {
        // B: [n, k], contiguous along k.
        if VEC_B {
            let col = t >> 2u;
            let q = (t & 3u) * 4u;
            let gj = j0 + col;
            let gk = k0 + q;
            var v = vec4<f32>(0.0);
            if gj < p.n && gk < kend {
                v = b_vec(second, (gj * kd + gk) >> 2u);
            }
            put_b(q, col, v.x);
            put_b(q + 1u, col, v.y);
            put_b(q + 2u, col, v.z);
            put_b(q + 3u, col, v.w);
        } else {
            for (var s = 0u; s < 4u; s++) {
                let idx = t + 256u * s;
                let col = idx >> 4u;
                let kk = idx & 15u;
                let gj = j0 + col;
                let gk = k0 + kk;
                var v = 0.0;
                if gj < p.n && gk < kend {
                    v = b_at(second, gj * kd + gk);
                }
                put_b(kk, col, v);
            }
        }
    }
}

// acc[r][cc] += Σ_k op(A)[i0 + 4·ty + r, k] · op(B)[k, j0 + 4·tx + cc] for kbeg ≤ k < kend,
// over one pair (A₂, B₂ when `second`) of inner dimension kd; kbeg is a multiple of 4 (a split
// of K starts on a vec4 word). Call in uniform control flow (it has barriers).
fn accumulate(
    acc: ptr<function, array<vec4<f32>, 4>>,
    second: bool,
    kd: u32,
    kbeg: u32,
    kend: u32,
    t: u32,
    lid: vec3<u32>,
    i0: u32,
    j0: u32,
) {
    for (var k0 = kbeg; k0 < kend; k0 += BK) {
        load_a(second, kd, kend, t, i0, k0);
        load_b(second, kd, kend, t, j0, k0);
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            let av = tile_a[kk * 16u + lid.y];
            let bv = tile_b[kk * 16u + lid.x];
            (*acc)[0] = fma(vec4<f32>(av.x), bv, (*acc)[0]);
            (*acc)[1] = fma(vec4<f32>(av.y), bv, (*acc)[1]);
            (*acc)[2] = fma(vec4<f32>(av.z), bv, (*acc)[2]);
            (*acc)[3] = fma(vec4<f32>(av.w), bv, (*acc)[3]);
        }
        workgroupBarrier();
    }
}

// `c_index`'s answer for an element past C's edges.
const OUTSIDE: u32 = 0xffffffffu;

// The index in C of element (r, cc) of this thread's 4×4 block of the tile at (i0, j0), or
// OUTSIDE past C's edges.
fn c_index(i0: u32, j0: u32, lid: vec3<u32>, r: u32, cc: u32) -> u32 {
    let i = i0 + lid.y * 4u + r;
    let j = j0 + lid.x * 4u + cc;
    if i >= p.m || j >= p.n {
        return OUTSIDE;
    }
    return i * p.n + j;
}

// α·acc + β·C[idx]; β = 0 never reads C, so whatever C held (even NaN) is ignored.
fn scaled(acc: f32, idx: u32) -> f32 {
    var v = p.alpha * acc;
    if p.beta != 0.0 {
        v = fma(p.beta, c[idx], v);
    }
    return v;
}

// C = α·acc + β·C over this thread's block.
fn store(acc: ptr<function, array<vec4<f32>, 4>>, i0: u32, j0: u32, lid: vec3<u32>) {
    for (var r = 0u; r < 4u; r++) {
        for (var cc = 0u; cc < 4u; cc++) {
            let idx = c_index(i0, j0, lid, r, cc);
            if idx != OUTSIDE {
                c[idx] = scaled((*acc)[r][cc], idx);
            }
        }
    }
}
