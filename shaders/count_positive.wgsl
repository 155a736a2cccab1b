// count_positive: out[slot] = scale · #{i < len : a[i] > 0}; needs sums.wgsl and
// log_records.wgsl. Twin of `cpu::count_positive` (`ops::CountPositive`; the ReLU-DAE's
// sparsity, the fraction of units on). Thread i of the grid counts elements 4i … 4i + 3 as
// u32; each workgroup's 256 counts are summed as f32 by the fixed tree and left in the step's
// record of the log (factor scale), which log_finish.wgsl adds up when the log is read: every
// partial sum is an integer below 2²⁴, so the count is exact and the result is the CPU's.

struct Params {
    len: u32,
    scale: f32,
    // The step's record in `records`: its first word.
    record: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> records: array<u32>;   // the log's records
@group(0) @binding(2) var<storage, read> a: array<f32>;               // [len]

@compute @workgroup_size(256)
fn count_positive(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let g = wid.y * nwg.x + wid.x;
    let first = (g * 256u + t) * 4u;
    var n = 0u;
    for (var i = first; i < min(first + 4u, p.len); i++) {
        n += select(0u, 1u, a[i] > 0.0);
    }
    let total = tree_total(t, f32(n));
    record_total(p.record, p.scale, g, nwg.x * nwg.y, t, total);
}
