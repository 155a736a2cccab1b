// Deterministic sums over segments of LR lanes (see lane_tree.wgsl), every level of the tree
// in workgroup memory: the fallback of lane_sums_subgroup.wgsl, with the same bits. Needs
// lane_tree.wgsl.

// The sum of v over lid's segment, in every lane of it. Call in uniform control flow.
fn segment_total(v: f32, lid: u32) -> f32 {
    segment[lid] = v;
    return segment_levels(lid, 1u);
}
