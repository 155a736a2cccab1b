// col_sq_norms: out[j] = Σᵢ a[i, j]², the squared column norms cⱼ = Σᵢ Wᵢⱼ² of the contractive
// penalty (Rifai et al. 2011); needs sums.wgsl (`column_total`). Twin of `cpu::col_sq_norms`
// (`ops::ColSqNorms`). Deterministic: a workgroup owns 64 columns; lane y of 4 takes rows
// y, y + 4, … in order and the four lane sums are added in a fixed order.

struct Params {
    rows: u32,
    cols: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;   // [cols]
@group(0) @binding(2) var<storage, read> a: array<f32>;           // [rows, cols]

@compute @workgroup_size(64, 4)
fn col_sq_norms(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let j = wid.x * 64u + lid.x;
    var s = 0.0;
    if j < p.cols {
        for (var i = lid.y; i < p.rows; i += 4u) {
            let v = a[i * p.cols + j];
            s += v * v;
        }
    }
    let total = column_total(lid, s);
    if lid.y == 0u && j < p.cols {
        out[j] = total;
    }
}
