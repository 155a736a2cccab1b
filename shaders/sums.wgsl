// Deterministic workgroup sums shared by the reduction kernels (gemm_xent, loss_elements,
// count_positive, col_sum, log_finish): fixed orders, no float atomics, so every
// run adds the same terms in the same order.

// A 256-lane workgroup's partial sums, for `tree_sum`.
var<workgroup> tree: array<f32, 256>;

// Sums tree[0..256] into tree[0] in a fixed order (halving strides). Call in uniform control
// flow, after each lane has written tree[lane].
fn tree_sum(lane: u32) {
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if lane < s {
            tree[lane] += tree[lane + s];
        }
        workgroupBarrier();
    }
}

// tree_sum of every lane's `sum`: the workgroup's total, valid in every lane. Call in uniform
// control flow.
fn tree_total(lane: u32, sum: f32) -> f32 {
    tree[lane] = sum;
    tree_sum(lane);
    return tree[0];
}

// The four row-lanes of a 64×4 column workgroup: [4, 64].
var<workgroup> lanes: array<f32, 256>;

// Column kernels give a workgroup 64 columns; lane (x, y) sums rows y, y + 4, … of column x
// into `s`. Returns the column's total, (s₀ + s₁) + (s₂ + s₃) in that order, valid in the
// lanes with lid.y = 0. Call in uniform control flow.
fn column_total(lid: vec3<u32>, s: f32) -> f32 {
    lanes[lid.y * 64u + lid.x] = s;
    workgroupBarrier();
    return (lanes[lid.x] + lanes[64u + lid.x]) + (lanes[128u + lid.x] + lanes[192u + lid.x]);
}
