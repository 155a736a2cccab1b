// A loss with its gradient, element by element, shared by xent_logits.wgsl and sq_err.wgsl;
// needs sums.wgsl and log_records.wgsl. The including file defines
// `fn loss_term(i: u32) -> f32`: it writes grad[i] and returns element i's term of the cost.
// The step does not finish the cost: thread i of the grid takes elements 4i … 4i + 3 in
// order, each workgroup adds its 256 sums in sums.wgsl's tree and leaves the total in the
// step's record of the cost log (factor scale), which log_finish.wgsl adds up when the costs
// are read.

struct Params {
    len: u32,
    scale: f32,
    // sq_err: the decoder's output activation (activation.wgsl's codes); xent_logits: unused.
    out_act: u32,
    // The step's record in `records`: its first word.
    record: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;      // [len]
@group(0) @binding(2) var<storage, read_write> records: array<u32>;   // the log's records
// The loss's input: the logits (xent_logits) or the decoder's output y (sq_err).
@group(0) @binding(3) var<storage, read> inputs: array<f32>;          // [len]
@group(0) @binding(4) var<storage, read> targets: array<f32>;         // [len]

// Workgroup wid's share of the loss: its threads' elements, their total left in the record.
// Call from the entry point, in uniform control flow.
fn loss_elements(wid: vec3<u32>, nwg: vec3<u32>, t: u32) {
    let g = wid.y * nwg.x + wid.x;
    let first = (g * 256u + t) * 4u;
    var sum = 0.0;
    for (var i = first; i < min(first + 4u, p.len); i++) {
        sum += loss_term(i);
    }
    let total = tree_total(t, sum);
    record_total(p.record, p.scale, g, nwg.x * nwg.y, t, total);
}
