// softmax_nll: softmax negative log-likelihood with its gradient and error count, fused; needs
// math.wgsl (exp_f, the twin of the CPU's exp). Twin of `cpu::softmax_nll` (`ops::SoftmaxNll`).
// With a = logits [rows, classes], y_r = labels[first + r] (a u8 label set resident on the
// device, packed four to a u32 word, taken by offset like a batch of images) and
// p_r = softmax(a_r):
//   grad = (p − onehot(y)) · scale;
//   costs[slot] = scale · Σ_r (m_r + log Σ_j e^(a_rj − m_r) − a_r,y_r),  m_r = max_j a_rj
//                 (log-sum-exp: −log p_r,y_r without overflow);
//   errors[slot] = #{r : argmax_j a_rj ≠ y_r}, the argmax the first maximum (strict >), as on
//                  the CPU.
// The step does not finish its logs: lane l of workgroup g owns row g·256 + l and walks its
// classes in order (the CPU's order); each workgroup adds its lanes' NLLs and error counts by a
// fixed tree and leaves the totals in the step's records of the two logs (log_records.wgsl:
// costs with factor scale, errors with factor 1; a count is exact as f32), which
// log_finish.wgsl adds up when the logs are read. Deterministic, no atomics. Needs
// log_records.wgsl.

struct Params {
    rows: u32,
    classes: u32,
    // Index of the first label in the label set.
    first: u32,
    scale: f32,
    // The step's records: their first words in `records` (costs) and `error_records`.
    record: u32,
    error_record: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;     // [rows, classes]
@group(0) @binding(2) var<storage, read_write> records: array<u32>;         // the cost log's
@group(0) @binding(3) var<storage, read_write> error_records: array<u32>;   // the error log's
@group(0) @binding(4) var<storage, read> logits: array<f32>;         // [rows, classes]
@group(0) @binding(5) var<storage, read> labels: array<u32>;         // [n] u8, packed

var<workgroup> nll_tree: array<f32, 256>;
var<workgroup> err_tree: array<u32, 256>;

// `record_total` for the error log's records.
fn record_errors(g: u32, groups: u32, t: u32, total: f32) {
    if t == 0u {
        error_records[p.error_record + 2u + g] = bitcast<u32>(total);
        if g == 0u {
            error_records[p.error_record] = groups;
            error_records[p.error_record + 1u] = bitcast<u32>(1.0);
        }
    }
}

@compute @workgroup_size(256)
fn softmax_nll(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let g = wid.y * nwg.x + wid.x;
    var nll = 0.0;
    var wrong = 0u;
    let r = g * 256u + lane;
    if r < p.rows {
        let base = r * p.classes;
        let byte = p.first + r;
        let y = (labels[byte >> 2u] >> ((byte & 3u) * 8u)) & 0xffu;
        var arg = 0u;
        var m = logits[base];
        for (var j = 1u; j < p.classes; j++) {
            let v = logits[base + j];
            if v > m {
                m = v;
                arg = j;
            }
        }
        var s = 0.0;
        for (var j = 0u; j < p.classes; j++) {
            let e = exp_f(logits[base + j] - m);
            grad[base + j] = e;
            s += e;
        }
        let inv = 1.0 / s;
        for (var j = 0u; j < p.classes; j++) {
            let onehot = select(0.0, 1.0, j == y);
            grad[base + j] = (grad[base + j] * inv - onehot) * p.scale;
        }
        nll += m + log(s) - logits[base + y];
        wrong += select(0u, 1u, arg != y);
    }
    nll_tree[lane] = nll;
    err_tree[lane] = wrong;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if lane < s {
            nll_tree[lane] += nll_tree[lane + s];
            err_tree[lane] += err_tree[lane + s];
        }
        workgroupBarrier();
    }
    let groups = nwg.x * nwg.y;
    record_total(p.record, p.scale, g, groups, lane, nll_tree[0]);
    record_errors(g, groups, lane, f32(err_tree[0]));
}
