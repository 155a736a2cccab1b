// xent_logits: cross-entropy from logits with its gradient, fused; needs math.wgsl, sums.wgsl
// and log_records.wgsl. Twin of `cpu::xent_logits` (`ops::XentLogits`). With a = logits
// (`inputs`), x = target, both [rows, cols], z = σ(a):
//   grad = (z − x) · scale;
//   costs[slot] = scale · Σ [softplus(a) − x·a]   (= −Σ[x log z + (1 − x) log(1 − z)]).
// The step does not finish the cost: thread i of the grid takes elements 4i … 4i + 3 in
// order, each workgroup adds its 256 sums in sums.wgsl's tree and leaves the total in the
// step's record of the cost log (factor scale), which log_finish.wgsl adds up when the costs
// are read.

struct Params {
    len: u32,
    scale: f32,
    // The step's record in `records`: its first word.
    record: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;      // [len]
@group(0) @binding(2) var<storage, read_write> records: array<u32>;   // the log's records
@group(0) @binding(3) var<storage, read> inputs: array<f32>;          // [len]: a
@group(0) @binding(4) var<storage, read> targets: array<f32>;         // [len]: x

@compute @workgroup_size(256)
fn xent_logits(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let g = wid.y * nwg.x + wid.x;
    let first = (g * 256u + t) * 4u;
    var sum = 0.0;
    for (var i = first; i < min(first + 4u, p.len); i++) {
        let a = inputs[i];
        let x = targets[i];
        let zs = sigmoid_softplus(a);
        grad[i] = (zs.x - x) * p.scale;
        sum += zs.y - x * a;
    }
    let total = tree_total(t, sum);
    record_total(p.record, p.scale, g, nwg.x * nwg.y, t, total);
}
