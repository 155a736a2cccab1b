// gemm_sq_err: the decoder GEMM with the squared error of its output as the epilogue; needs
// math.wgsl, activation.wgsl, log_records.wgsl, gemm_tiles.wgsl and gemm_small.wgsl (the rows
// kernel, and red_total). Twin of `cpu::gemm_sq_err` (`ops::GemmSqErr`). With
// y = ACT(α·op(A)·op(B) + bias) and x = target, both [m, n]:
//   y written;   c = (y − x)·scale·ACT′(y);   cost = scale·Σ (y − x)²   (sq_err.wgsl's terms).
// As in gemm_xent.wgsl, the step does not finish the cost: each workgroup adds its elements'
// terms (each thread its own in order, then the 256 threads in red_total's tree) and writes the
// total to the step's record of the cost log (log_records.wgsl, factor scale).

struct Params {
    m: u32,
    n: u32,
    k: u32,
    alpha: f32,
    beta: f32,
    // The step's record: its first word in `records`.
    record: u32,
    scale: f32,
}

// The output's activation (activation.wgsl's codes).
override ACT: u32 = 0u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;         // [m, k] or [k, m]
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;         // [k, n] or [n, k]
@group(0) @binding(3) var<storage, read_write> c: array<f32>;         // [m, n]: the gradient
// [n]; read only here (read_write for gemm_small.wgsl's bias update, which this file never calls).
@group(0) @binding(4) var<storage, read_write> bias: array<f32>;
@group(0) @binding(5) var<storage, read> targets: array<f32>;         // [m, n]
@group(0) @binding(6) var<storage, read_write> records: array<u32>;   // [slots, stride]
@group(0) @binding(7) var<storage, read_write> y: array<f32>;         // [m, n]

fn a_vec(second: bool, i: u32) -> vec4<f32> {
    return a[i];
}

fn b_vec(second: bool, i: u32) -> vec4<f32> {
    return b[i];
}

// m ≤ 128: the rows kernel (MR rows × 4·CT columns a workgroup), then the epilogue on its sums.
@compute @workgroup_size(256)
fn gemm_sq_err(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let w = rows_tile(wid, t);
    var sum = 0.0;
    for (var e = 0u; e < 4u * MR && w.lane == 0u; e++) {
        let idx = rows_index(w, e);
        if idx != OUTSIDE {
            let v = rows_scaled(w, e, idx) + bias[w.j + e % 4u];
            let out = act_apply(ACT, v);
            y[idx] = out;
            let d = out - targets[idx];
            c[idx] = d * p.scale * act_grad(ACT, out);
            sum += d * d;
        }
    }
    let total = red_total(t, sum);
    record_total(p.record, p.scale, wid.y * nwg.x + wid.x, nwg.x * nwg.y, t, total);
}
