// The workgroup-memory levels of the fixed-order segment sums of lane_sums.wgsl and
// lane_sums_subgroup.wgsl: segments of LR lanes (LR a power of two ≤ 256, an override of the
// module's op file), the segment of lane `lid` of a 256-lane workgroup being lanes
// lid − lid % LR .. + LR. The sum is the balanced tree in lane order, ((v0 + v1) + (v2 + v3)) +
// …; the two files differ only in where its first levels are added.

var<workgroup> segment: array<f32, 256>;

// Given segment[lid] = the sum of the aligned run of `start` lanes starting at lid (for lid a
// multiple of `start`; `start` a workgroup-uniform power of two), adds the tree's levels from
// `start` up to LR and returns the segment's total, in every lane of it. Call in uniform
// control flow.
fn segment_levels(lid: u32, start: u32) -> f32 {
    let lane = lid % LR;
    workgroupBarrier();
    for (var o = start; o < LR; o <<= 1u) {
        if lane % (2u * o) == 0u {
            segment[lid] += segment[lid + o];
        }
        workgroupBarrier();
    }
    let total = segment[lid - lane];
    workgroupBarrier();
    return total;
}
