// log_records: how a step leaves its value of a per-step log (costs, Jacobian norms, fractions
// on) for a later finish, so that no step ends in a single-workgroup reduction (gpu/log_finish.rs).
// A file that calls it declares `records: array<u32>`, read_write. Each slot of the log has a
// record of `stride` words there:
//   record[0]      the totals written (0: nothing pending for this slot),
//   record[1]      the value's factor, as f32 bits,
//   record[2 + g]  workgroup g's total, as f32 bits;
// log_finish.wgsl sets log[slot] = factor · Σ_g total[g] (a fixed order) when the log is read.

// Workgroup g of `groups` puts its `total` into the record that starts at word `record`
// (thread t = 0; workgroup 0 also the header).
fn record_total(record: u32, factor: f32, g: u32, groups: u32, t: u32, total: f32) {
    if t == 0u {
        records[record + 2u + g] = bitcast<u32>(total);
        if g == 0u {
            records[record] = groups;
            records[record + 1u] = bitcast<u32>(factor);
        }
    }
}
