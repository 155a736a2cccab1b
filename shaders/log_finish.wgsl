// log_finish: the late finish of a per-step log's records (log_records.wgsl); needs sums.wgsl.
// Workgroup w finishes slot s = first + w: out[s] = factor · Σ_g total[g], the totals added
// lane-strided then in sums.wgsl's tree (a fixed order), and marks the record done. One
// dispatch per readback of the log, not one per step (gpu/log_finish.rs).

struct Params {
    // The first pending slot.
    first: u32,
    // Words a record.
    stride: u32,
    // Slots of the log.
    slots: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> records: array<u32>;   // [slots, stride]
@group(0) @binding(2) var<storage, read_write> out: array<f32>;       // [slots]: the log

@compute @workgroup_size(256)
fn log_finish(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let slot = p.first + wid.y * nwg.x + wid.x;
    let base = slot * p.stride;
    var count = 0u;
    if slot < p.slots {
        count = records[base];
    }
    var sum = 0.0;
    for (var g = t; g < count; g += 256u) {
        sum += bitcast<f32>(records[base + 2u + g]);
    }
    let total = tree_total(t, sum);
    // Every thread has read the header before thread 0 clears it.
    storageBarrier();
    if t == 0u && count != 0u {
        out[slot] = bitcast<f32>(records[base + 1u]) * total;
        records[base] = 0u;
    }
}
