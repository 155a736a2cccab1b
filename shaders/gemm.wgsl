// gemm: C = α·op(A)·op(B) + β·C, then an epilogue; needs math.wgsl, activation.wgsl,
// gemm_tiles.wgsl (the tiling, the transposes, the shapes) and gemm_small.wgsl (the rows and
// outer kernels). Twin of `cpu::gemm` (`ops::Gemm`, `backend::GemmSpec`, `backend::Epilogue`).
// The host picks a kernel by shape (gpu/gemm.rs, `plan`); each entry point binds only what it
// reads:
//   gemm, gemm_epilogue:            the 64×64 tiles, one workgroup per tile
//   gemm_part:                      the tiles over one of K's splits (wid.z: K from z·kc to
//                                   (z + 1)·kc), the raw sums into part [splits, m, n]
//   gemm_reduce, gemm_reduce_epilogue: C from part, the splits added in order (one thread an
//                                   element)
//   gemm_rows, gemm_rows_epilogue:  m ≤ 128: MR rows × 4·CT columns a workgroup, K split across
//                                   its threads (gemm_small.wgsl)
//   gemm_outer:                     small k, no epilogue: one thread four elements of C
//   gemm_outer_bias:                the same and `Epilogue::BiasUpdate` (B stored [k, n]): the
//                                   threads of C's row 0 add α·Σₖ B[k, j] to bias
// and the epilogues:
//   BiasAct:  C[i, j] = act(C[i, j] + e[j]),        e = bias [n]
//   ActGrad:  C[i, j] = C[i, j] · act′(e[i, j]),    e = out [m, n]   (GRAD)
// with act the activation of code ACT (activation.wgsl).

override ACT: u32 = 0u;
override GRAD: bool = false;

struct Params {
    m: u32,
    n: u32,
    k: u32,
    alpha: f32,
    beta: f32,
    // K per split of gemm_part (a multiple of 4); splits = ⌈k / kc⌉.
    kc: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;     // [m, k] or [k, m]
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;     // [k, n] or [n, k]
@group(0) @binding(3) var<storage, read_write> c: array<f32>;     // [m, n]
@group(0) @binding(4) var<storage, read> e: array<f32>;           // bias [n] or out [m, n]
@group(0) @binding(5) var<storage, read_write> part: array<f32>;  // [splits, m, n]
@group(0) @binding(6) var<storage, read_write> bias: array<f32>;  // [n]: += α·Σₖ B[k, j]

fn a_vec(second: bool, i: u32) -> vec4<f32> {
    return a[i];
}

fn b_vec(second: bool, i: u32) -> vec4<f32> {
    return b[i];
}

// C[idx] (column j) = the epilogue of v, already α-scaled and β-added.
fn finish(idx: u32, j: u32, v: f32) {
    if GRAD {
        c[idx] = v * act_grad(ACT, e[idx]);
    } else {
        c[idx] = act_apply(ACT, v + e[j]);
    }
}

@compute @workgroup_size(16, 16)
fn gemm(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let i0 = wid.y * BM;
    let j0 = wid.x * BN;
    var acc: array<vec4<f32>, 4>;
    accumulate(&acc, false, p.k, 0u, p.k, t, lid, i0, j0);
    store(&acc, i0, j0, lid);
}

@compute @workgroup_size(16, 16)
fn gemm_epilogue(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let i0 = wid.y * BM;
    let j0 = wid.x * BN;
    var acc: array<vec4<f32>, 4>;
    accumulate(&acc, false, p.k, 0u, p.k, t, lid, i0, j0);
    for (var r = 0u; r < 4u; r++) {
        for (var cc = 0u; cc < 4u; cc++) {
            let idx = c_index(i0, j0, lid, r, cc);
            if idx != OUTSIDE {
                finish(idx, j0 + lid.x * 4u + cc, scaled(acc[r][cc], idx));
            }
        }
    }
}

@compute @workgroup_size(16, 16)
fn gemm_part(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let i0 = wid.y * BM;
    let j0 = wid.x * BN;
    let kbeg = wid.z * p.kc;
    var acc: array<vec4<f32>, 4>;
    accumulate(&acc, false, p.k, kbeg, min(kbeg + p.kc, p.k), t, lid, i0, j0);
    let base = wid.z * p.m * p.n;
    for (var r = 0u; r < 4u; r++) {
        for (var cc = 0u; cc < 4u; cc++) {
            let idx = c_index(i0, j0, lid, r, cc);
            if idx != OUTSIDE {
                part[base + idx] = acc[r][cc];
            }
        }
    }
}

// α·Σ_z part[z, idx] + β·C[idx], the splits added in order.
fn reduced(idx: u32) -> f32 {
    let mn = p.m * p.n;
    let splits = (p.k + p.kc - 1u) / p.kc;
    var s = 0.0;
    for (var z = 0u; z < splits; z++) {
        s += part[z * mn + idx];
    }
    return scaled(s, idx);
}

@compute @workgroup_size(256)
fn gemm_reduce(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let idx = (wid.y * nwg.x + wid.x) * 256u + t;
    if idx < p.m * p.n {
        c[idx] = reduced(idx);
    }
}

@compute @workgroup_size(256)
fn gemm_reduce_epilogue(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let idx = (wid.y * nwg.x + wid.x) * 256u + t;
    if idx < p.m * p.n {
        finish(idx, idx % p.n, reduced(idx));
    }
}

@compute @workgroup_size(256)
fn gemm_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let w = rows_tile(wid, t);
    for (var e = 0u; e < 4u * MR && w.lane == 0u; e++) {
        let idx = rows_index(w, e);
        if idx != OUTSIDE {
            c[idx] = rows_scaled(w, e, idx);
        }
    }
}

@compute @workgroup_size(256)
fn gemm_rows_epilogue(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let w = rows_tile(wid, t);
    for (var e = 0u; e < 4u * MR && w.lane == 0u; e++) {
        let idx = rows_index(w, e);
        if idx != OUTSIDE {
            finish(idx, w.j + e % 4u, rows_scaled(w, e, idx));
        }
    }
}

@compute @workgroup_size(256)
fn gemm_outer(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let at = outer_at((wid.y * nwg.x + wid.x) * 256u + t);
    if at.x < p.m {
        outer_store(at, outer_accumulate(vec4<f32>(0.0), false, p.k, at.x, at.y));
    }
}

@compute @workgroup_size(256)
fn gemm_outer_bias(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let at = outer_at((wid.y * nwg.x + wid.x) * 256u + t);
    if at.x >= p.m {
        return;
    }
    outer_store(at, outer_accumulate(vec4<f32>(0.0), false, p.k, at.x, at.y));
    outer_bias_update(at);
}
