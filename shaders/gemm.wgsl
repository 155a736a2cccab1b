// gemm: C = α·op(A)·op(B) + β·C, then an epilogue; needs math.wgsl, activation.wgsl and
// gemm_tiles.wgsl (the tiling, the transposes, the shapes). Twin of `cpu::gemm` (`ops::Gemm`,
// `backend::GemmSpec`, `backend::Epilogue`). Two entry points, each binding only what it reads:
//   gemm:            no epilogue
//   gemm_epilogue:   C[i, j] = act(C[i, j] + e[j]),      e = bias [n]     (`Epilogue::BiasAct`)
//                    GRAD: C[i, j] = C[i, j] · act′(e[i, j]), e = out [m, n] (`Epilogue::ActGrad`)
// with act the activation of code ACT (activation.wgsl).

override ACT: u32 = 0u;
override GRAD: bool = false;

struct Params {
    m: u32,
    n: u32,
    k: u32,
    alpha: f32,
    beta: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;     // [m, k] or [k, m]
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;     // [k, n] or [n, k]
@group(0) @binding(3) var<storage, read_write> c: array<f32>;     // [m, n]
@group(0) @binding(4) var<storage, read> e: array<f32>;           // bias [n] or out [m, n]

fn a_vec(second: bool, i: u32) -> vec4<f32> {
    return a[i];
}

fn b_vec(second: bool, i: u32) -> vec4<f32> {
    return b[i];
}

@compute @workgroup_size(16, 16)
fn gemm(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let i0 = wid.y * BM;
    let j0 = wid.x * BN;
    var acc: array<vec4<f32>, 4>;
    accumulate(&acc, false, p.k, t, lid, i0, j0);
    store(&acc, i0, j0, lid);
}

@compute @workgroup_size(16, 16)
fn gemm_epilogue(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let i0 = wid.y * BM;
    let j0 = wid.x * BN;
    var acc: array<vec4<f32>, 4>;
    accumulate(&acc, false, p.k, t, lid, i0, j0);
    for (var r = 0u; r < 4u; r++) {
        for (var cc = 0u; cc < 4u; cc++) {
            let idx = c_index(i0, j0, lid, r, cc);
            if idx != OUTSIDE {
                let v = scaled(acc[r][cc], idx);
                if GRAD {
                    c[idx] = v * act_grad(ACT, e[idx]);
                } else {
                    c[idx] = act_apply(ACT, v + e[j0 + lid.x * 4u + cc]);
                }
            }
        }
    }
}
