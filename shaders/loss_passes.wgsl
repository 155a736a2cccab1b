// The passes of a loss's fixed-order reduction, shared by xent_logits.wgsl and sq_err.wgsl;
// needs sums.wgsl. The including file declares `p` (a uniform with groups, slot and scale),
// `partials`, `costs`, and `fn lane_sum(group: u32, lane: u32) -> f32`: the gradient of
// workgroup `group`'s elements of this lane, and the sum of their cost terms in order. Each
// lane sums its elements, a fixed tree sums the 256 lanes; one workgroup writes the cost
// itself, more write partial sums that one workgroup then adds the same way. Call each in
// uniform control flow, from the entry point of its pass.

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
