// contractive: the contractive penalty of a sigmoid layer, its value and gradient, fused (Rifai
// et al. 2011; DESIGN.md, cA); needs sums.wgsl. Twin of `cpu::contractive` (`ops::Contractive`).
// With h: [rows, cols] the layer's output, sₙⱼ = hₙⱼ(1 − hₙⱼ) and cⱼ = norms[j] = Σᵢ Wᵢⱼ²:
//   contractive:         dh[n, j] += alpha·cⱼ·sₙⱼ²·(1 − 2hₙⱼ)      (alpha = 2λ·scale)
//                        col_grad[j] = alpha·Σₙ sₙⱼ²,  partials[j] = cⱼ·Σₙ sₙⱼ²
//   contractive_finish:  jac_sq[slot] = scale·Σⱼ partials[j]     (= scale·Σₙ ‖Jₙ‖²_F)
// Deterministic: the first pass gives a workgroup 64 columns; lane y of 4 takes rows y, y + 4, …
// in order and the four lane sums are added in a fixed order; the finish is a fixed tree.

struct Params {
    rows: u32,
    cols: u32,
    alpha: f32,
    scale: f32,
    slot: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dh: array<f32>;        // [rows, cols]
@group(0) @binding(2) var<storage, read_write> col_grad: array<f32>;  // [cols]
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;  // [cols]
@group(0) @binding(4) var<storage, read_write> jac_sq: array<f32>;    // [≥ slot + 1]
@group(0) @binding(5) var<storage, read> h: array<f32>;               // [rows, cols]
@group(0) @binding(6) var<storage, read> norms: array<f32>;           // [cols]

@compute @workgroup_size(64, 4)
fn contractive(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let j = wid.x * 64u + lid.x;
    var acc = 0.0;
    if j < p.cols {
        let c = norms[j];
        for (var n = lid.y; n < p.rows; n += 4u) {
            let i = n * p.cols + j;
            let hv = h[i];
            let s = hv * (1.0 - hv);
            let s2 = s * s;
            dh[i] += p.alpha * c * s2 * (1.0 - 2.0 * hv);
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
    let total = tree_total(lane, sum);
    if lane == 0u {
        jac_sq[p.slot] = p.scale * total;
    }
}
