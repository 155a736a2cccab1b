// Needs subgroups: the GPU backend compiles it only on a device with wgpu::Features::SUBGROUP
// (naga takes the subgroup built-ins without WGSL's `enable subgroups;`, which it cannot parse).
//
// rows_shuffle_subgroup: the rows kernel's (gemm_small.wgsl) K-lane tree with its last levels in
// subgroup shuffles.
// A level of stride s adds lane l + s to lane l (l < s); where the two lanes' invocation
// indices differ by less than the subgroup size, `subgroupShuffleXor` by that offset brings
// lane l + s's sum to lane l, which adds it as the workgroup-memory level would: the same
// bits as rows_shuffle.wgsl. Assumes, as every driver lays out a 1-D workgroup, that
// subgroups hold consecutive local indices starting at a multiple of their size.

// The subgroup size: invocation-index offsets below it are shuffles. Made workgroup-uniform
// for the tree's loop of barriers through gemm_small.wgsl's `red` (before the lanes' sums go
// there: the rows kernel's 16 KiB of workgroup memory is all `red`). Call in uniform control
// flow, before the tree stores its sums.
fn rows_shuffle_limit(t: u32) -> u32 {
    let size = subgroupAdd(1u);
    // Every subgroup of the workgroup has the same size (a 256-thread workgroup is whole
    // subgroups), so thread 0's is every thread's.
    if t == 0u {
        red[0].x = f32(size);
    }
    let limit = u32(workgroupUniformLoad(&red[0]).x);
    // Every thread has read it before red takes the lanes' sums.
    workgroupBarrier();
    return limit;
}

// v of the invocation `offset` away (index xor offset). Call in uniform control flow.
fn rows_shuffle(v: vec4<f32>, offset: u32) -> vec4<f32> {
    return subgroupShuffleXor(v, offset);
}
