// gemm_sum: C = α·(op(A)·op(B) + op(A₂)·op(B₂)) + β·C, two products summed in one K loop (the
// first pair's k, then the second's k2, into the same accumulators); needs gemm_tiles.wgsl and
// gemm_small.wgsl. Twin of `cpu::gemm_sum` (`ops::GemmSum`): the tied dA's update
// W −= lr·(x̃ᵀ·dH + dAᵀ·h). The host picks the kernel by shape (gpu/gemm_sum.rs):
//   gemm_sum:        the 64×64 tiles, one workgroup per tile
//   gemm_sum_bias:   the same tiles, and the biases (`ops::SumBiases`, A₂ stored [k2, m], B₁
//                    stored [k, n]): the tiles of C's first tile row update the column bias of
//                    their 64 columns, those of its first tile column the row bias `rows` of
//                    their 64 rows, each sum in k's order
//   gemm_sum_outer:  small k + k2 (the update at a minibatch): one thread four elements of C
//   gemm_sum_outer_bias: the same, and the biases (`ops::SumBiases`, A₂ stored [k2, m], B₁
//                    stored [k, n]): the threads of C's row 0 update the column bias
//                    (`bias`, SumBiases::cols), those of its first column quad `rows`, each
//                    sum in k's order
//   op(A₂): [m, k2] (A₂ stored [m, k2], or [k2, m] when TRANS_A)
//   op(B₂): [k2, n] (B₂ stored [k2, n], or [n, k2] when TRANS_B)

struct Params {
    m: u32,
    n: u32,
    // Inner dimension of the first pair.
    k: u32,
    // Inner dimension of the second pair.
    k2: u32,
    alpha: f32,
    beta: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;     // [m, k] or [k, m]
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;     // [k, n] or [n, k]
@group(0) @binding(3) var<storage, read> a2: array<vec4<f32>>;    // [m, k2] or [k2, m]
@group(0) @binding(4) var<storage, read> b2: array<vec4<f32>>;    // [k2, n] or [n, k2]
@group(0) @binding(5) var<storage, read_write> c: array<f32>;     // [m, n]
@group(0) @binding(6) var<storage, read_write> bias: array<f32>;  // [n]: += α·Σₖ B₁[k, j]
@group(0) @binding(7) var<storage, read_write> rows: array<f32>;  // [m]: += α·Σₖ A₂[k, i]

// Word i of A (A₂ when `second`): a uniform branch, both pairs share the loaders.
fn a_vec(second: bool, i: u32) -> vec4<f32> {
    if second {
        return a2[i];
    }
    return a[i];
}

fn b_vec(second: bool, i: u32) -> vec4<f32> {
    if second {
        return b2[i];
    }
    return b[i];
}

// Workgroup `wid`'s 64×64 tile of C: both products summed in one K loop, then α and β.
fn sum_tile(wid: vec3<u32>, lid: vec3<u32>, t: u32) {
    let i0 = wid.y * BM;
    let j0 = wid.x * BN;
    var acc: array<vec4<f32>, 4>;
    accumulate(&acc, false, p.k, 0u, p.k, t, lid, i0, j0);
    accumulate(&acc, true, p.k2, 0u, p.k2, t, lid, i0, j0);
    store(&acc, i0, j0, lid);
}

@compute @workgroup_size(16, 16)
fn gemm_sum(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    sum_tile(wid, lid, t);
}

@compute @workgroup_size(16, 16)
fn gemm_sum_bias(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    sum_tile(wid, lid, t);
    let i0 = wid.y * BM;
    let j0 = wid.x * BN;
    // bias[j] += α·Σₖ B₁[k, j] by threads 0..BN of the first tile row; rows[i] += α·Σₖ A₂[k, i]
    // by threads BN..BN + BM of the first tile column (the corner tile does both).
    if wid.y == 0u && t < BN && j0 + t < p.n {
        let j = j0 + t;
        var s = 0.0;
        for (var k = 0u; k < p.k; k++) {
            s += b_at(false, k * p.n + j);
        }
        bias[j] = p.alpha * s + bias[j];
    }
    if wid.x == 0u && t >= BN && t < BN + BM && i0 + t - BN < p.m {
        let i = i0 + t - BN;
        var s = 0.0;
        for (var k = 0u; k < p.k2; k++) {
            s += a_at(true, k * p.m + i);
        }
        rows[i] = p.alpha * s + rows[i];
    }
}

@compute @workgroup_size(256)
fn gemm_sum_outer(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let at = outer_at((wid.y * nwg.x + wid.x) * 256u + t);
    if at.x >= p.m {
        return;
    }
    let first = outer_accumulate(vec4<f32>(0.0), false, p.k, at.x, at.y);
    outer_store(at, outer_accumulate(first, true, p.k2, at.x, at.y));
}

@compute @workgroup_size(256)
fn gemm_sum_outer_bias(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let at = outer_at((wid.y * nwg.x + wid.x) * 256u + t);
    if at.x >= p.m {
        return;
    }
    let first = outer_accumulate(vec4<f32>(0.0), false, p.k, at.x, at.y);
    outer_store(at, outer_accumulate(first, true, p.k2, at.x, at.y));
    outer_bias_update(at);
    if at.y == 0u {
        var s = 0.0;
        for (var k = 0u; k < p.k2; k++) {
            s += a_at(true, k * p.m + at.x);
        }
        rows[at.x] = p.alpha * s + rows[at.x];
    }
}
