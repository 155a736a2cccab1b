// Counter-based random numbers: the bit-exact twin of src/rng.rs (read its header).
// A draw is keyed by two words k0, k1 computed on the host by `RngKey::new(seed, stream)`;
// element i gets bits(i) = mix32(mix32(i ^ k0) ^ k1). All arithmetic is u32 and wraps, as in
// Rust's `wrapping_mul`, so every device draws the same bits.

// lowbias32 (Wellons, "Prospecting for hash functions", 2018): a bijection on u32.
fn mix32(x_in: u32) -> u32 {
    var x = x_in;
    x ^= x >> 16u;
    x *= 0x7feb352du;
    x ^= x >> 15u;
    x *= 0x846ca68bu;
    x ^= x >> 16u;
    return x;
}

// The 32 random bits of element i of the draw keyed by (k0, k1): `RngKey::bits`.
fn rng_bits(k0: u32, k1: u32, i: u32) -> u32 {
    return mix32(mix32(i ^ k0) ^ k1);
}
