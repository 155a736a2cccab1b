// A loss with its gradient over [rows, cols] elements, the parameters, bindings and passes
// shared by xent_logits.wgsl and sq_err.wgsl; needs sums.wgsl. The including file defines
// `fn loss_term(i: u32) -> f32`: it writes grad[i] and returns element i's term of the cost.
// Deterministic fixed-order reduction, no float atomics: workgroup g owns the elements
// g·per_thread·256 + j·256 + lane (j < per_thread); each lane sums its elements in order, then
// a fixed tree sums the 256 lanes. One workgroup writes costs[slot] = scale · its total itself
// (`loss_single`); more write their totals to partials[g] (`loss_partial`) and one workgroup
// then adds them the same way (`loss_finish`). Call each pass in uniform control flow, from
// the entry point of its dispatch.

struct Params {
    // Elements: rows · cols.
    len: u32,
    // Elements per lane of a workgroup.
    per_thread: u32,
    // Workgroups of the first pass.
    groups: u32,
    slot: u32,
    scale: f32,
    // sq_err: the decoder's output activation (activation.wgsl's codes); xent_logits: unused.
    out_act: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;      // [rows, cols]
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;  // [groups]
@group(0) @binding(3) var<storage, read_write> costs: array<f32>;     // [≥ slot + 1]
// The loss's input: the logits (xent_logits) or the decoder's output y (sq_err).
@group(0) @binding(4) var<storage, read> inputs: array<f32>;          // [rows, cols]
@group(0) @binding(5) var<storage, read> targets: array<f32>;         // [rows, cols]

// The gradient of workgroup `group`'s elements of this lane; returns their cost terms' sum, in
// order.
fn lane_sum(group: u32, lane: u32) -> f32 {
    let base = group * p.per_thread * 256u;
    var sum = 0.0;
    for (var j = 0u; j < p.per_thread; j++) {
        let i = base + j * 256u + lane;
        if i < p.len {
            sum += loss_term(i);
        }
    }
    return sum;
}

// costs[slot] = scale · the loss of the only workgroup.
fn loss_single(lane: u32) {
    let total = tree_total(lane, lane_sum(0u, lane));
    if lane == 0u {
        costs[p.slot] = p.scale * total;
    }
}

// partials[group] = workgroup `group`'s sum.
fn loss_partial(group: u32, lane: u32) {
    let total = tree_total(lane, lane_sum(group, lane));
    if lane == 0u {
        partials[group] = total;
    }
}

// costs[slot] = scale · Σ partials[g] for g < groups.
fn loss_finish(lane: u32) {
    var sum = 0.0;
    for (var g = lane; g < p.groups; g += 256u) {
        sum += partials[g];
    }
    let total = tree_total(lane, sum);
    if lane == 0u {
        costs[p.slot] = p.scale * total;
    }
}
