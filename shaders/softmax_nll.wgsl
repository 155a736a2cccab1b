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
// One workgroup: lane l owns rows l, l + 256, … and walks each row's classes in order (the CPU's
// order); the lanes' sums are added by a fixed tree. Deterministic, no atomics.

struct Params {
    rows: u32,
    classes: u32,
    // Index of the first label in the label set.
    first: u32,
    slot: u32,
    scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;     // [rows, classes]
@group(0) @binding(2) var<storage, read_write> costs: array<f32>;    // [≥ slot + 1]
@group(0) @binding(3) var<storage, read_write> errors: array<f32>;   // [≥ slot + 1]
@group(0) @binding(4) var<storage, read> logits: array<f32>;         // [rows, classes]
@group(0) @binding(5) var<storage, read> labels: array<u32>;         // [n] u8, packed

var<workgroup> nll_tree: array<f32, 256>;
var<workgroup> err_tree: array<u32, 256>;

@compute @workgroup_size(256)
fn softmax_nll(@builtin(local_invocation_index) lane: u32) {
    var nll = 0.0;
    var wrong = 0u;
    for (var r = lane; r < p.rows; r += 256u) {
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
    if lane == 0u {
        costs[p.slot] = p.scale * nll_tree[0];
        errors[p.slot] = f32(err_tree[0]);
    }
}
