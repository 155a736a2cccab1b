// dense_update: a dense layer's backward pass fused with its SGD update, each row of W read
// once and written once (`ops::DenseUpdate`, twin of `cpu::dense_update`). W: [n_in, n_out],
// d: [ROWS, n_out], x: [ROWS, n_in]:
//   dx[r, i] = (Σⱼ W[i, j]·d[r, j]) · act′(x[r, i])    (W before the update)
//   W[i, j] += α·Σᵣ x[r, i]·d[r, j],   bias[j] += α·Σᵣ d[r, j]   (α = −lr)
// A workgroup of 256 lanes takes 256 / LR rows of W, LR lanes a row; lane l of a row reads
// columns l, l + LR, … (consecutive lanes, consecutive addresses), keeps ROWS partial dot
// products, and `segment_total` (lane_sums.wgsl, or lane_sums_subgroup.wgsl where the adapter
// has subgroups) adds the row's lanes in a fixed tree. The lane then rewrites the same columns
// of W, which no other lane touches. The workgroup of rows 0.. also updates the bias.
// Needs math.wgsl, activation.wgsl, lane_tree.wgsl and one of the lane_sums files.

// Lanes per row of W: a power of two ≤ 256.
override LR: u32;
// Batch rows: 1 ..= 4.
override ROWS: u32;
// The activation x is the output of (ACT_* codes).
override ACT: u32;

struct Params {
    n_in: u32,
    n_out: u32,
    alpha: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;    // [ROWS, n_in]
@group(0) @binding(2) var<storage, read_write> w: array<f32>;     // [n_in, n_out]
@group(0) @binding(3) var<storage, read_write> bias: array<f32>;  // [n_out]
@group(0) @binding(4) var<storage, read> d: array<f32>;           // [ROWS, n_out]
@group(0) @binding(5) var<storage, read> x: array<f32>;           // [ROWS, n_in]

@compute @workgroup_size(256)
fn dense_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = wid.x * (256u / LR) + lid / LR;
    let lane = lid % LR;
    let live = i < p.n_in;
    let n = p.n_out;
    var dots = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
    if live {
        for (var j = lane; j < n; j += LR) {
            let wij = w[i * n + j];
            for (var r = 0u; r < ROWS; r++) {
                dots[r] = fma(wij, d[r * n + j], dots[r]);
            }
        }
    }
    for (var r = 0u; r < ROWS; r++) {
        let total = segment_total(dots[r], lid);
        if live && lane == 0u {
            let at = r * p.n_in + i;
            dx[at] = total * act_grad(ACT, x[at]);
        }
    }
    if live {
        var xi = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
        for (var r = 0u; r < ROWS; r++) {
            xi[r] = x[r * p.n_in + i];
        }
        for (var j = lane; j < n; j += LR) {
            var acc = 0.0;
            for (var r = 0u; r < ROWS; r++) {
                acc = fma(xi[r], d[r * n + j], acc);
            }
            w[i * n + j] = fma(p.alpha, acc, w[i * n + j]);
        }
    }
    if wid.x == 0u {
        for (var j = lid; j < n; j += 256u) {
            var s = 0.0;
            for (var r = 0u; r < ROWS; r++) {
                s += d[r * n + j];
            }
            bias[j] = fma(p.alpha, s, bias[j]);
        }
    }
}
