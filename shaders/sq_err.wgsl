// sq_err: squared error with its gradient, fused; needs math.wgsl, activation.wgsl, sums.wgsl
// and loss_passes.wgsl (the parameters, bindings and fixed-order reduction). Twin of
// `cpu::sq_err` (`ops::SqErr`). With y = the decoder's output (`inputs`, after its activation
// of code out_act) and x = target, both [rows, cols]:
//   grad = (y − x) · scale · out′(y)    (∂/∂ of the pre-activation of ½ · the cost below);
//   costs[slot] = scale · Σ (y − x)²    (E = ‖y − x‖² per row, times scale).
// `sq_err` for one workgroup, else `sq_err_partials` then `sq_err_finish`.

// grad[i] = (y − x)·scale·out′(y); returns (y − x)².
fn loss_term(i: u32) -> f32 {
    let y = inputs[i];
    let d = y - targets[i];
    grad[i] = d * p.scale * act_grad(p.out_act, y);
    return d * d;
}

@compute @workgroup_size(256)
fn sq_err(@builtin(local_invocation_index) lane: u32) {
    loss_single(lane);
}

@compute @workgroup_size(256)
fn sq_err_partials(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    loss_partial(wid.x, lane);
}

@compute @workgroup_size(256)
fn sq_err_finish(@builtin(local_invocation_index) lane: u32) {
    loss_finish(lane);
}
