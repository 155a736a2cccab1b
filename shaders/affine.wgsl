// affine: x[i] = x[i]·mul + add for i < len, in place; twin of `cpu::affine` (`ops::Affine`):
// a multiply then an add (a driver may contract them into an fma, so the backends agree to
// rounding). The ReLU-DAE standardises its inputs with it: mul = 1/std, add = −mean/std.

struct Params {
    len: u32,
    mul: f32,
    add: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;   // [len]

@compute @workgroup_size(256)
fn affine(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.y * nwg.x + wid.x) * 256u + lid;
    if i >= p.len {
        return;
    }
    let scaled = x[i] * p.mul;
    x[i] = scaled + p.add;
}
