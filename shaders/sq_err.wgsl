// sq_err: squared error with its gradient, fused; needs math.wgsl, activation.wgsl, sums.wgsl
// and loss_passes.wgsl. Twin of `cpu::sq_err` (`ops::SqErr`). With y = the decoder's output (after its
// activation of code out_act) and x = target, both [rows, cols]:
//   grad = (y − x) · scale · out′(y)    (∂/∂ of the pre-activation of ½ · the cost below);
//   costs[slot] = scale · Σ (y − x)²    (E = ‖y − x‖² per row, times scale).
// The fixed-order reduction of loss_passes.wgsl: `sq_err` for one workgroup, else
// `sq_err_partials` then `sq_err_finish`.

struct Params {
    // Elements: rows · cols.
    len: u32,
    // Elements per lane of a workgroup.
    per_thread: u32,
    // Workgroups of the first pass.
    groups: u32,
    slot: u32,
    scale: f32,
    // The decoder's output activation (activation.wgsl's codes).
    out_act: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;      // [rows, cols]
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;  // [groups]
@group(0) @binding(3) var<storage, read_write> costs: array<f32>;     // [≥ slot + 1]
@group(0) @binding(4) var<storage, read> y: array<f32>;               // [rows, cols]
@group(0) @binding(5) var<storage, read> targets: array<f32>;         // [rows, cols]

// Writes the gradient of workgroup `group`'s elements of this lane; returns their squared
// errors' sum, in order.
fn lane_sum(group: u32, lane: u32) -> f32 {
    let base = group * p.per_thread * 256u;
    var sum = 0.0;
    for (var j = 0u; j < p.per_thread; j++) {
        let i = base + j * 256u + lane;
        if i < p.len {
            let d = y[i] - targets[i];
            grad[i] = d * p.scale * act_grad(p.out_act, y[i]);
            sum += d * d;
        }
    }
    return sum;
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
