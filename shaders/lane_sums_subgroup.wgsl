// Needs subgroups: the GPU backend compiles it only on a device with wgpu::Features::SUBGROUP
// (naga takes the subgroup built-ins without WGSL's `enable subgroups;`, which it cannot parse).
//
// lane_sums.wgsl's `segment_total` with the tree's first levels in registers: within a
// subgroup, `subgroupShuffleXor` at strides 1, 2, 4, … adds lane a and lane a + o for every a
// with a % 2o = 0 (and their mirror images, the same sum), exactly the levels of the tree in
// lane order; the levels from the subgroup size up to LR go through workgroup memory
// (lane_tree.wgsl). Same bits as the fallback. Assumes, as every driver lays out a 1-D
// workgroup, that subgroups hold consecutive local indices starting at a multiple of their size.
// Needs lane_tree.wgsl.

// The subgroup size, made workgroup-uniform for lane_tree.wgsl's loop of barriers.
var<workgroup> subgroup_lanes: u32;

// The sum of v over lid's segment, in every lane of it. Call in uniform control flow.
fn segment_total(v: f32, lid: u32) -> f32 {
    let size = subgroupAdd(1u);
    if lid == 0u {
        subgroup_lanes = size;
    }
    // Every subgroup of the workgroup has the same size (a 256-lane workgroup is whole
    // subgroups), so lane 0's is every lane's.
    let first = min(workgroupUniformLoad(&subgroup_lanes), LR);
    var s = v;
    for (var o = 1u; o < first; o <<= 1u) {
        s += subgroupShuffleXor(s, o);
    }
    segment[lid] = s;
    return segment_levels(lid, first);
}
