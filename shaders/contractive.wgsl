// contractive: the contractive penalty of a sigmoid layer, its value and gradient, and the SGD
// step of W along the penalty's column-norm path, fused (Rifai et al. 2011; DESIGN.md, cA);
// needs log_records.wgsl. Twin of `cpu::contractive` (`ops::Contractive`). With W: [n_vis, cols]
// as it comes in, h: [rows, cols] the layer's output and sₙⱼ = hₙⱼ(1 − hₙⱼ):
//   col_norms[j] = cⱼ = Σᵢ Wᵢⱼ²
//   dh[n, j]    += alpha·cⱼ·sₙⱼ²·(1 − 2hₙⱼ)      (alpha = 2λ·scale)
//   col_grad[j]  = alpha·Σₙ sₙⱼ²
//   W[i, j]     += step·col_grad[j]·W[i, j]       (step = −lr)
// and the squared Jacobian norm scale·Σⱼ cⱼ·Σₙ sₙⱼ² left in the step's record of the log
// (log_records.wgsl): each workgroup its columns' terms. One dispatch: a workgroup owns 16
// columns of W and h, so it reads W's columns, then h's, then writes W's, with no other
// workgroup between. Deterministic: lane y of 16 takes rows y, y + 16, … in order, the 16 lane
// sums are added in order, and the workgroup's 16 column terms in order.

struct Params {
    rows: u32,
    cols: u32,
    n_vis: u32,
    alpha: f32,
    scale: f32,
    step: f32,
    // The step's record in `records`: its first word.
    record: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dh: array<f32>;         // [rows, cols]
@group(0) @binding(2) var<storage, read_write> w: array<f32>;          // [n_vis, cols]
@group(0) @binding(3) var<storage, read_write> col_norms: array<f32>;  // [cols]
@group(0) @binding(4) var<storage, read_write> col_grad: array<f32>;   // [cols]
@group(0) @binding(5) var<storage, read_write> records: array<u32>;    // the log's records
@group(0) @binding(6) var<storage, read> h: array<f32>;                // [rows, cols]

// The lane sums of the workgroup's columns: [16 lanes y, 16 columns x].
var<workgroup> lanes: array<f32, 256>;
// The workgroup's column terms cⱼ·Σₙ sₙⱼ².
var<workgroup> terms: array<f32, 16>;

// Σ_y of the lanes' sums `s` of column lid.x, y in order, in every lane of the column. Call in
// uniform control flow.
fn lane_total(lid: vec3<u32>, s: f32) -> f32 {
    lanes[lid.y * 16u + lid.x] = s;
    workgroupBarrier();
    var total = 0.0;
    for (var y = 0u; y < 16u; y++) {
        total += lanes[y * 16u + lid.x];
    }
    // Every lane has read before `lanes` is written again.
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(16, 16)
fn contractive(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let j = wid.x * 16u + lid.x;
    let inside = j < p.cols;
    var squares = 0.0;
    if inside {
        for (var i = lid.y; i < p.n_vis; i += 16u) {
            let v = w[i * p.cols + j];
            squares += v * v;
        }
    }
    let c = lane_total(lid, squares);
    var acc = 0.0;
    if inside {
        for (var n = lid.y; n < p.rows; n += 16u) {
            let idx = n * p.cols + j;
            let hv = h[idx];
            let s = hv * (1.0 - hv);
            let s2 = s * s;
            dh[idx] += p.alpha * c * s2 * (1.0 - 2.0 * hv);
            acc += s2;
        }
    }
    let total = lane_total(lid, acc);
    let g = p.alpha * total;
    if inside {
        for (var i = lid.y; i < p.n_vis; i += 16u) {
            let k = i * p.cols + j;
            let v = w[k];
            w[k] = v + p.step * g * v;
        }
        if lid.y == 0u {
            col_norms[j] = c;
            col_grad[j] = g;
        }
    }
    if lid.y == 0u {
        terms[lid.x] = select(0.0, c * total, inside);
    }
    workgroupBarrier();
    var jac = 0.0;
    for (var x = 0u; x < 16u; x++) {
        jac += terms[x];
    }
    record_total(p.record, p.scale, wid.x, nwg.x, t, jac);
}
