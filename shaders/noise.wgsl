// corrupt: out = corrupt(x) element-wise; needs rng.wgsl. Twin of `Cpu::corrupt`.
// Masking noise (Vincent et al. 2008): element i is kept iff (bits(i) >> 8) ≥ threshold, with
// threshold = `rng::drop_threshold(p)`; an integer comparison, so masks are bit-identical to the
// CPU's. Noise::None is threshold 0 (every element kept: a copy).

struct Params {
    // Elements: out, x: [len].
    len: u32,
    // 24-bit drop threshold; 0 keeps everything.
    threshold: u32,
    // RngKey words of this draw.
    k0: u32,
    k1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;   // [len]
@group(0) @binding(2) var<storage, read> x: array<f32>;           // [len]

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
    var keep = true;
    if p.threshold != 0u {
        keep = (rng_bits(p.k0, p.k1, i) >> 8u) >= p.threshold;
    }
    out[i] = select(0.0, x[i], keep);
}
