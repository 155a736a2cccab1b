// Deterministic sums over segments of LR lanes (LR a power of two ≤ 256, an override of the
// module's op file): the segment of lane `lid` of a 256-lane workgroup is lanes
// lid − lid % LR .. + LR. The sum is the balanced tree in lane order, ((v0 + v1) + (v2 + v3)) +
// …, the order lane_sums_subgroup.wgsl computes too, so both give the same bits.

var<workgroup> segment: array<f32, 256>;

// The sum of v over lid's segment, in every lane of it. Call in uniform control flow.
fn segment_total(v: f32, lid: u32) -> f32 {
    let lane = lid % LR;
    segment[lid] = v;
    workgroupBarrier();
    for (var o = 1u; o < LR; o <<= 1u) {
        if lane % (2u * o) == 0u {
            segment[lid] += segment[lid + o];
        }
        workgroupBarrier();
    }
    let total = segment[lid - lane];
    workgroupBarrier();
    return total;
}
