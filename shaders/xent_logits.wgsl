// xent_logits: cross-entropy from logits with its gradient, fused; needs math.wgsl, sums.wgsl,
// log_records.wgsl and loss_elements.wgsl (the parameters, bindings and the late-finished
// sum). Twin of `cpu::xent_logits` (`ops::XentLogits`). With a = logits (`inputs`), x = target,
// both [rows, cols], z = σ(a):
//   grad = (z − x) · scale;
//   costs[slot] = scale · Σ [softplus(a) − x·a]   (= −Σ[x log z + (1 − x) log(1 − z)]).

// grad[i] = (σ(a) − x)·scale; returns softplus(a) − x·a.
fn loss_term(i: u32) -> f32 {
    let a = inputs[i];
    let x = targets[i];
    let zs = sigmoid_softplus(a);
    grad[i] = (zs.x - x) * p.scale;
    return zs.y - x * a;
}

@compute @workgroup_size(256)
fn xent_logits(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    loss_elements(wid, nwg, t);
}
