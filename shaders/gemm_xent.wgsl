// gemm_xent: the decoder GEMM with the cross-entropy from its logits as the epilogue; needs
// math.wgsl, sums.wgsl, log_records.wgsl, gemm_tiles.wgsl and gemm_small.wgsl (the rows kernel,
// and red_total). Twin of `cpu::gemm_xent` (`ops::GemmXent`). With a = α·op(A)·op(B) + bias
// (the logits), x = target, both [m, n]:
//   c = (σ(a) − x) · scale;     cost = scale · Σ [softplus(a) − x·a].
// The step does not finish the cost: each workgroup adds its elements' terms (each thread its
// own in order, then the 256 threads in sums.wgsl's tree) and writes the total to the step's
// record of the cost log (log_records.wgsl, factor scale), which log_finish.wgsl adds up when
// the host reads the costs. Entry points:
//   gemm_xent:       m ≤ 128: the rows kernel (MR rows × 4·CT columns a workgroup), then the
//                    epilogue on its sums
//   gemm_xent_reduce: after a split product's gemm_part (gemm.wgsl): each element's parts added
//                    in order (gemm_reduce's sum), α, the bias, then the epilogue, one thread an
//                    element
//   gemm_xent_loss:  c holds the logits (a GEMM wrote them, bias included): the epilogue in
//                    place, one thread an element, for the shapes neither kernel above takes

struct Params {
    m: u32,
    n: u32,
    k: u32,
    alpha: f32,
    beta: f32,
    // The step's record: its first word in `records`.
    record: u32,
    scale: f32,
    // K per part of a split product (gemm_xent_reduce); k otherwise.
    kc: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;         // [m, k] or [k, m]
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;         // [k, n] or [n, k]
@group(0) @binding(3) var<storage, read_write> c: array<f32>;         // [m, n]: the gradient
// [n]; read only here (read_write for gemm_small.wgsl's bias update, which this file never calls).
@group(0) @binding(4) var<storage, read_write> bias: array<f32>;
@group(0) @binding(5) var<storage, read> targets: array<f32>;         // [m, n]
@group(0) @binding(6) var<storage, read_write> records: array<u32>;   // [slots, stride]
@group(0) @binding(7) var<storage, read> part: array<f32>;           // [splits, m, n]

fn a_vec(second: bool, i: u32) -> vec4<f32> {
    return a[i];
}

fn b_vec(second: bool, i: u32) -> vec4<f32> {
    return b[i];
}

// c[idx] = (σ(v) − x)·scale for the logit v of element idx; returns softplus(v) − x·v.
fn xent_term(idx: u32, v: f32) -> f32 {
    let x = targets[idx];
    let zs = sigmoid_softplus(v);
    c[idx] = (zs.x - x) * p.scale;
    return zs.y - x * v;
}

@compute @workgroup_size(256)
fn gemm_xent(
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
            sum += xent_term(idx, v);
        }
    }
    let total = red_total(t, sum);
    record_total(p.record, p.scale, wid.y * nwg.x + wid.x, nwg.x * nwg.y, t, total);
}

@compute @workgroup_size(256)
fn gemm_xent_loss(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let g = wid.y * nwg.x + wid.x;
    let idx = g * 256u + t;
    var sum = 0.0;
    if idx < p.m * p.n {
        sum = xent_term(idx, c[idx]);
    }
    record_total(p.record, p.scale, g, nwg.x * nwg.y, t, tree_total(t, sum));
}

@compute @workgroup_size(256)
fn gemm_xent_reduce(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let g = wid.y * nwg.x + wid.x;
    let idx = g * 256u + t;
    var sum = 0.0;
    let mn = p.m * p.n;
    if idx < mn {
        // gemm.wgsl's `reduced` and the BiasAct epilogue (β = 0: C is not read)
        let splits = (p.k + p.kc - 1u) / p.kc;
        var s = 0.0;
        for (var z = 0u; z < splits; z++) {
            s += part[z * mn + idx];
        }
        sum = xent_term(idx, p.alpha * s + bias[idx % p.n]);
    }
    record_total(p.record, p.scale, g, nwg.x * nwg.y, t, tree_total(t, sum));
}
