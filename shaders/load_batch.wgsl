// load_batch: one minibatch, clean and corrupted, in one pass; needs rng.wgsl and noise.wgsl.
// x[rows, dim] = images[first .. first + rows] / 255, read from the u8 image set that lives on
// the device for the whole run (packed four pixels to a u32 word, little-endian), and
// x̃ = noisy(x) element-wise, both standardised by x·mul + add where the op asks (noise.wgsl's
// `loaded`). Twin of `cpu::load_batch` (`ops::LoadBatch`); bit-identical without
// standardising (one correctly rounded f32 multiply per element, integer mask decisions),
// to a driver's fusing of the multiply-add with it.

struct Params {
    // The corruption of x̃ (first: a struct member of a uniform block is 16-byte aligned).
    noise: NoiseParams,
    // Index of the first pixel of the batch: first · dim.
    first: u32,
    // Elements to write: rows · dim.
    len: u32,
    // Standardising: x·mul + add.
    mul: f32,
    add: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;         // [rows, dim]
@group(0) @binding(2) var<storage, read_write> x_tilde: array<f32>;   // [rows, dim]
@group(0) @binding(3) var<storage, read> pixels: array<u32>;          // [n, dim] u8, packed

// 1/255 rounded to f32, the constant `cpu::load_batch` multiplies by.
const INV_255: f32 = 1.0 / 255.0;

@compute @workgroup_size(256)
fn load_batch(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.y * nwg.x + wid.x) * 256u + lid;
    if i >= p.len {
        return;
    }
    let byte = p.first + i;
    let v = f32((pixels[byte >> 2u] >> ((byte & 3u) * 8u)) & 0xffu) * INV_255;
    let pair = loaded(p.noise, i, v, p.mul, p.add);
    x[i] = pair.x;
    x_tilde[i] = pair.y;
}
