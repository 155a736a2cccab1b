// rows_shuffle: the rows kernel's (gemm_small.wgsl) K-lane tree without subgroups: every level
// in workgroup memory. Its twin rows_shuffle_subgroup.wgsl does the tree's last levels in
// subgroup shuffles; the two give the same bits.

// The invocation-index offsets below which the tree's levels are shuffles: 1, none.
fn rows_shuffle_limit(t: u32) -> u32 {
    return 1u;
}

// Never called (no level is below the limit): v unchanged.
fn rows_shuffle(v: vec4<f32>, offset: u32) -> vec4<f32> {
    return v;
}
