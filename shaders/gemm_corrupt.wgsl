// gemm_corrupt: a layer's output and its corrupted copy in one pass; needs math.wgsl,
// activation.wgsl, rng.wgsl, noise.wgsl, gemm_tiles.wgsl and gemm_small.wgsl (the rows
// kernel). Twin of `cpu::gemm_corrupt` (`ops::GemmCorrupt`): C = act(α·op(A)·op(B) + β·C +
// bias), then x̃ = noisy(C) element-wise, element i of C drawing bits(i) exactly as
// corrupt.wgsl does, so the masks are the same bits as the two ops'.

struct Params {
    // The corruption of x̃ (first: a struct member of a uniform block is 16-byte aligned).
    noise: NoiseParams,
    m: u32,
    n: u32,
    k: u32,
    alpha: f32,
    beta: f32,
}

override ACT: u32 = 0u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;        // [m, k] or [k, m]
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;        // [k, n] or [n, k]
@group(0) @binding(3) var<storage, read_write> c: array<f32>;        // [m, n]
// [n]; read only here (read_write for gemm_small.wgsl's bias update, which this file never calls).
@group(0) @binding(4) var<storage, read_write> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> x_tilde: array<f32>;  // [m, n]

fn a_vec(second: bool, i: u32) -> vec4<f32> {
    return a[i];
}

fn b_vec(second: bool, i: u32) -> vec4<f32> {
    return b[i];
}

@compute @workgroup_size(256)
fn gemm_corrupt(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let w = rows_tile(wid, t);
    for (var e = 0u; e < 4u * MR && w.lane == 0u; e++) {
        let idx = rows_index(w, e);
        if idx != OUTSIDE {
            let v = rows_scaled(w, e, idx);
            let out = act_apply(ACT, v + bias[w.j + e % 4u]);
            c[idx] = out;
            x_tilde[idx] = noisy(p.noise, idx, out);
        }
    }
}
