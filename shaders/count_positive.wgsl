// count_positive: out[slot] = scale · #{i < len : a[i] > 0}; needs sums.wgsl. Twin of
// `cpu::count_positive` (`ops::CountPositive`; the ReLU-DAE's sparsity, the fraction of units
// on). One workgroup: lane l counts elements l, l + 256, … as u32, the 256 counts are summed
// exactly as f32 (exact below 2²⁴) by the fixed tree.

struct Params {
    len: u32,
    slot: u32,
    scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;   // [≥ slot + 1]
@group(0) @binding(2) var<storage, read> a: array<f32>;           // [len]

@compute @workgroup_size(256)
fn count_positive(@builtin(local_invocation_index) lane: u32) {
    var n = 0u;
    for (var i = lane; i < p.len; i += 256u) {
        n += select(0u, 1u, a[i] > 0.0);
    }
    let total = tree_total(lane, f32(n));
    if lane == 0u {
        out[p.slot] = p.scale * total;
    }
}
