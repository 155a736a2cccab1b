// scale_cols: a[i, j] += α·f[j]·a[i, j], in place; twin of `cpu::scale_cols` (`ops::ScaleCols`).
// With f the contractive penalty's col_grad and α = −lr, the SGD step of W along the penalty's
// column-norm path.

struct Params {
    rows: u32,
    cols: u32,
    alpha: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> a: array<f32>;   // [rows, cols]
@group(0) @binding(2) var<storage, read> f: array<f32>;         // [cols]

@compute @workgroup_size(256)
fn scale_cols(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let i = (wid.y * nwg.x + wid.x) * 256u + lane;
    if i < p.rows * p.cols {
        let w = a[i];
        a[i] = w + p.alpha * f[i % p.cols] * w;
    }
}
