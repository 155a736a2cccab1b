// sq_err: squared error with its gradient, fused; needs math.wgsl, activation.wgsl, sums.wgsl,
// log_records.wgsl and loss_elements.wgsl (the parameters, bindings and the late-finished
// sum). Twin of `cpu::sq_err` (`ops::SqErr`). With y = the decoder's output (`inputs`, after
// its activation of code out_act) and x = target, both [rows, cols]:
//   grad = (y − x) · scale · out′(y)    (∂/∂ of the pre-activation of ½ · the cost below);
//   costs[slot] = scale · Σ (y − x)²    (E = ‖y − x‖² per row, times scale).

// grad[i] = (y − x)·scale·out′(y); returns (y − x)².
fn loss_term(i: u32) -> f32 {
    let y = inputs[i];
    let d = y - targets[i];
    grad[i] = d * p.scale * act_grad(p.out_act, y);
    return d * d;
}

@compute @workgroup_size(256)
fn sq_err(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    loss_elements(wid, nwg, t);
}
