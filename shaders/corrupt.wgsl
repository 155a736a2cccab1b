// corrupt: the corruption of a tensor, x̃[i] = noisy(x[i]) for i < len; needs rng.wgsl and
// noise.wgsl (the per-element function `load_batch` uses too). Twin of `cpu::corrupt`
// (`ops::Corrupt`): element i draws bits(i) of the key, so the masks are bit-identical to the
// CPU's. A stacked dA corrupts the clean output of the layers below with it.

struct Params {
    // The corruption (first: a struct member of a uniform block is 16-byte aligned).
    noise: NoiseParams,
    // Elements to write.
    len: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x_tilde: array<f32>;   // [len]
@group(0) @binding(2) var<storage, read> x: array<f32>;               // [len]

@compute @workgroup_size(256)
fn corrupt(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.y * nwg.x + wid.x) * 256u + lid;
    if i >= p.len {
        return;
    }
    x_tilde[i] = noisy(p.noise, i, x[i]);
}
