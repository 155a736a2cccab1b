// load_gemm: a minibatch loaded, corrupted and multiplied in one pass; needs math.wgsl,
// activation.wgsl, rng.wgsl, noise.wgsl, gemm_tiles.wgsl and gemm_small.wgsl (the rows
// kernel, VEC_A: k a multiple of 4, A not transposed). Twin of `cpu::load_gemm`
// (`ops::LoadGemm`): x = images[first ..] / 255 and x̃ = noisy(x), standardised where the op
// asks, exactly as load_batch.wgsl computes them (element i of the batch drawing bits(i)), C = act(α·x̃·op(B) + β·C + bias).
// A's words are not read from a buffer: each is decoded from the pixels and corrupted where
// the kernel loads it, and the threads that load every word once write x and x̃ on the way,
// for the ops after it (the loss's target, the update's x̃). Entry points:
//   load_gemm:      m ≤ 128 (by shape): the rows kernel, epilogue included, with A's rows staged
//                   in workgroup memory (rows_tile_staged: each word decoded once a workgroup);
//                   the workgroups of column block 0 write x, x̃ as they stage them
//   load_gemm_part: a split product's first pass (gemm.wgsl's gemm_part on the 64×64 tiles:
//                   the raw sums of part z of K into `part`); every thread of the workgroups of
//                   column tile 0 writes x, x̃ (each loads one word of A's tile per K step).
//                   gemm.wgsl's gemm_reduce_epilogue adds the parts and applies the epilogue.

struct Params {
    // The corruption of x̃ (first: a struct member of a uniform block is 16-byte aligned).
    noise: NoiseParams,
    m: u32,
    n: u32,
    k: u32,
    alpha: f32,
    beta: f32,
    // Index of the batch's first pixel: first image · k.
    first: u32,
    // Standardising: x·mul + add.
    mul: f32,
    add: f32,
    // K per part of a split product (load_gemm_part); k otherwise.
    kc: u32,
}

override ACT: u32 = 0u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pixels: array<u32>;         // [n_images, k] u8, packed
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;        // [k, n] or [n, k]
@group(0) @binding(3) var<storage, read_write> c: array<f32>;        // [m, n]
// [n]; read only here (read_write for gemm_small.wgsl's bias update, which this file never calls).
@group(0) @binding(4) var<storage, read_write> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> x: array<f32>;        // [m, k]
@group(0) @binding(6) var<storage, read_write> x_tilde: array<f32>;  // [m, k]
@group(0) @binding(7) var<storage, read_write> part: array<f32>;     // [splits, m, n]

// 1/255 rounded to f32, the constant `cpu::load_batch` multiplies by.
const INV_255: f32 = 1.0 / 255.0;

// Whether this thread writes the words of A it loads into x and x̃.
var<private> writes_batch: bool;

// Word w of x̃ (elements 4w .. 4w + 4 of the batch, all within it: VEC_A).
fn a_vec(second: bool, w: u32) -> vec4<f32> {
    var v: vec4<f32>;
    for (var q = 0u; q < 4u; q++) {
        let i = 4u * w + q;
        let byte = p.first + i;
        let pixel = f32((pixels[byte >> 2u] >> ((byte & 3u) * 8u)) & 0xffu) * INV_255;
        let pair = loaded(p.noise, i, pixel, p.mul, p.add);
        v[q] = pair.y;
        if writes_batch {
            x[i] = pair.x;
            x_tilde[i] = pair.y;
        }
    }
    return v;
}

fn b_vec(second: bool, i: u32) -> vec4<f32> {
    return b[i];
}

@compute @workgroup_size(256)
fn load_gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    writes_batch = wid.x == 0u;
    let w = rows_tile_staged(wid, t);
    for (var e = 0u; e < 4u * MR && w.lane == 0u; e++) {
        let idx = rows_index(w, e);
        if idx != OUTSIDE {
            let v = rows_scaled(w, e, idx);
            c[idx] = act_apply(ACT, v + bias[w.j + e % 4u]);
        }
    }
}

@compute @workgroup_size(16, 16)
fn load_gemm_part(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    writes_batch = wid.x == 0u;
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
