// The contractive penalty's ops (Rifai et al. 2011; DESIGN.md, cA); needs sums.wgsl. Twins of
// `Cpu::col_sq_norms`, `Cpu::contractive`, `Cpu::scale_cols`. With h: [rows, cols] a sigmoid
// layer's output, sₙⱼ = hₙⱼ(1 − hₙⱼ) and cⱼ = Σᵢ Wᵢⱼ² (W: [n_vis, cols]):
//   col_sq_norms:        out[j] = Σᵢ src[i, j]²
//   contractive_cols:    dh[n, j] += alpha·cⱼ·sₙⱼ²·(1 − 2hₙⱼ)      (alpha = 2λ·scale)
//                        col_grad[j] = alpha·Σₙ sₙⱼ²,  partials[j] = cⱼ·Σₙ sₙⱼ²
//   contractive_finish:  jac_sq[slot] = scale·Σⱼ partials[j]     (= scale·Σₙ ‖Jₙ‖²_F)
//   scale_cols:          out[i, j] += alpha·f[j]·out[i, j]        (f in `src`)
// Deterministic: column kernels give a workgroup 64 columns; lane y of 4 takes rows y, y + 4, …
// in order and the four lane sums are added in a fixed order; the finish is a fixed tree.

struct Params {
    rows: u32,
    cols: u32,
    alpha: f32,
    scale: f32,
    slot: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;       // [rows, cols] or [cols]
@group(0) @binding(2) var<storage, read_write> col_grad: array<f32>;  // [cols]
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;  // [cols]
@group(0) @binding(4) var<storage, read_write> jac_sq: array<f32>;    // [≥ slot + 1]
@group(0) @binding(5) var<storage, read> src: array<f32>;             // [rows, cols] or [cols]
@group(0) @binding(6) var<storage, read> norms: array<f32>;           // [cols]

@compute @workgroup_size(64, 4)
fn col_sq_norms(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let j = wid.x * 64u + lid.x;
    var s = 0.0;
    if j < p.cols {
        for (var i = lid.y; i < p.rows; i += 4u) {
            let v = src[i * p.cols + j];
            s += v * v;
        }
    }
    let total = column_total(lid, s);
    if lid.y == 0u && j < p.cols {
        out[j] = total;
    }
}

@compute @workgroup_size(64, 4)
fn contractive_cols(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let j = wid.x * 64u + lid.x;
    var acc = 0.0;
    if j < p.cols {
        let c = norms[j];
        for (var n = lid.y; n < p.rows; n += 4u) {
            let i = n * p.cols + j;
            let h = src[i];
            let s = h * (1.0 - h);
            let s2 = s * s;
            out[i] += p.alpha * c * s2 * (1.0 - 2.0 * h);
            acc += s2;
        }
    }
    let total = column_total(lid, acc);
    if lid.y == 0u && j < p.cols {
        col_grad[j] = p.alpha * total;
        partials[j] = norms[j] * total;
    }
}

@compute @workgroup_size(256)
fn contractive_finish(@builtin(local_invocation_index) lane: u32) {
    var sum = 0.0;
    for (var j = lane; j < p.cols; j += 256u) {
        sum += partials[j];
    }
    tree[lane] = sum;
    tree_sum(lane);
    if lane == 0u {
        jac_sq[p.slot] = p.scale * tree[0];
    }
}

@compute @workgroup_size(256)
fn scale_cols(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let i = (wid.y * nwg.x + wid.x) * 256u + lane;
    if i < p.rows * p.cols {
        let w = out[i];
        out[i] = w + p.alpha * src[i % p.cols] * w;
    }
}
