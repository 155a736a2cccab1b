// sq_err: squared error with its gradient, fused; needs math.wgsl, activation.wgsl, sums.wgsl
// and log_records.wgsl. Twin of `cpu::sq_err` (`ops::SqErr`). With y = the decoder's output
// (`inputs`, after its activation of code out_act) and x = target, both [rows, cols]:
//   grad = (y − x) · scale · out′(y)    (∂/∂ of the pre-activation of ½ · the cost below);
//   costs[slot] = scale · Σ (y − x)²    (E = ‖y − x‖² per row, times scale).
// The step does not finish the cost: thread i of the grid takes elements 4i … 4i + 3 in
// order, each workgroup adds its 256 sums in sums.wgsl's tree and leaves the total in the
// step's record of the cost log (factor scale), which log_finish.wgsl adds up when the costs
// are read.

struct Params {
    len: u32,
    scale: f32,
    out_act: u32,
    // The step's record in `records`: its first word.
    record: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;      // [len]
@group(0) @binding(2) var<storage, read_write> records: array<u32>;   // the log's records
@group(0) @binding(3) var<storage, read> inputs: array<f32>;          // [len]: y
@group(0) @binding(4) var<storage, read> targets: array<f32>;         // [len]: x

@compute @workgroup_size(256)
fn sq_err(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let g = wid.y * nwg.x + wid.x;
    let first = (g * 256u + t) * 4u;
    var sum = 0.0;
    for (var i = first; i < min(first + 4u, p.len); i++) {
        let y = inputs[i];
        let d = y - targets[i];
        grad[i] = d * p.scale * act_grad(p.out_act, y);
        sum += d * d;
    }
    let total = tree_total(t, sum);
    record_total(p.record, p.scale, g, nwg.x * nwg.y, t, total);
}
