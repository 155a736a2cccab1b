// xent_logits: cross-entropy from logits with its gradient, fused; needs math.wgsl, sums.wgsl
// and loss_passes.wgsl (the parameters, bindings and fixed-order reduction). Twin of
// `cpu::xent_logits` (`ops::XentLogits`). With a = logits (`inputs`), x = target, both
// [rows, cols], z = σ(a):
//   grad = (z − x) · scale;
//   costs[slot] = scale · Σ [softplus(a) − x·a]   (= −Σ[x log z + (1 − x) log(1 − z)]).
// `xent_logits` for one workgroup, else `xent_logits_partials` then `xent_logits_finish`.

// grad[i] = (σ(a) − x)·scale; returns softplus(a) − x·a.
fn loss_term(i: u32) -> f32 {
    let a = inputs[i];
    let x = targets[i];
    let zs = sigmoid_softplus(a);
    grad[i] = (zs.x - x) * p.scale;
    return zs.y - x * a;
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
