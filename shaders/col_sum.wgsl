// col_sum: out[j] = α·Σ_i a[i, j] + β·out[j]; a: [rows, cols], out: [cols]. Twin of
// `cpu::col_sum` (`ops::ColSum`); with α = −lr, β = 1 the fused SGD update of a bias from its
// layer's delta. Needs sums.wgsl (`column_total`). Deterministic: a workgroup owns 64 columns;
// lane y of 4 sums rows y, y + 4, … in order, and the four lane sums are added in a fixed
// order. β = 0 never reads out.

struct Params {
    rows: u32,
    cols: u32,
    alpha: f32,
    beta: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;   // [cols]
@group(0) @binding(2) var<storage, read> a: array<f32>;           // [rows, cols]

@compute @workgroup_size(64, 4)
fn col_sum(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let j = wid.x * 64u + lid.x;
    var s = 0.0;
    if j < p.cols {
        for (var i = lid.y; i < p.rows; i += 4u) {
            s += a[i * p.cols + j];
        }
    }
    let total = column_total(lid, s);
    if lid.y == 0u && j < p.cols {
        if p.beta == 0.0 {
            out[j] = p.alpha * total;
        } else {
            out[j] = fma(p.alpha, total, p.beta * out[j]);
        }
    }
}
