// xent_logits: cross-entropy from logits with its gradient, fused; needs math.wgsl, sums.wgsl
// and loss_passes.wgsl. Twin of `cpu::xent_logits` (`ops::XentLogits`). With a = logits,
// x = target, both [rows, cols], z = σ(a):
//   grad = (z − x) · scale;
//   costs[slot] = scale · Σ [softplus(a) − x·a]   (= −Σ[x log z + (1 − x) log(1 − z)]).
// Deterministic fixed-order reduction, no float atomics: workgroup g owns the elements
// g·per_thread·256 + j·256 + lane (j < per_thread); each lane sums its elements in order, then a
// fixed tree sums the 256 lanes. One workgroup (`xent_logits`) writes costs[slot] itself; with
// more, `xent_logits_partials` writes each workgroup's sum to partials[g] and
// `xent_logits_finish` (one workgroup) reduces the partials the same way.

struct Params {
    // Elements: rows · cols.
    len: u32,
    // Elements per lane of a workgroup.
    per_thread: u32,
    // Workgroups of the first pass.
    groups: u32,
    slot: u32,
    scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;      // [rows, cols]
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;  // [groups]
@group(0) @binding(3) var<storage, read_write> costs: array<f32>;     // [≥ slot + 1]
@group(0) @binding(4) var<storage, read> logits: array<f32>;          // [rows, cols]
@group(0) @binding(5) var<storage, read> targets: array<f32>;         // [rows, cols]

// Writes the gradient of workgroup `group`'s elements of this lane; returns their cost terms'
// sum, in order.
fn lane_sum(group: u32, lane: u32) -> f32 {
    let base = group * p.per_thread * 256u;
    var sum = 0.0;
    for (var j = 0u; j < p.per_thread; j++) {
        let i = base + j * 256u + lane;
        if i < p.len {
            let a = logits[i];
            let x = targets[i];
            let zs = sigmoid_softplus(a);
            grad[i] = (zs.x - x) * p.scale;
            sum += zs.y - x * a;
        }
    }
    return sum;
}

@compute @workgroup_size(256)
fn xent_logits(@builtin(local_invocation_index) lane: u32) {
    loss_single(lane);
}

@compute @workgroup_size(256)
fn xent_logits_partials(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    loss_partial(wid.x, lane);
}

@compute @workgroup_size(256)
fn xent_logits_finish(@builtin(local_invocation_index) lane: u32) {
    loss_finish(lane);
}
