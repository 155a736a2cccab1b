//! Shared test helpers: seeded data and tolerant comparison.

/// A named tolerance: |x − y| ≤ max(rel·|x + y|, abs) (burn's rule).
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    pub rel: f64,
    pub abs: f64,
}

impl Tol {
    /// For f32 results of the same computation in a different order: 1e-5 relative.
    pub const F32_REORDERED: Tol = Tol { rel: 1e-5, abs: 1e-6 };
}

impl Tol {
    /// Whether `got` is within tolerance of `want` (NaN never is).
    pub fn accepts(self, got: f64, want: f64) -> bool {
        let allowed = (self.rel * (got + want).abs()).max(self.abs);
        matches!(
            (got - want).abs().partial_cmp(&allowed),
            Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
        )
    }
}

/// Asserts `got` ≈ `want` element-wise under `tol`; on failure reports the number of
/// mismatches, the worst element and the first few mismatches.
pub fn assert_close(what: &str, got: &[f32], want: &[f32], tol: Tol) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    let bad: Vec<usize> =
        (0..got.len()).filter(|&i| !tol.accepts(got[i] as f64, want[i] as f64)).collect();
    if bad.is_empty() {
        return;
    }
    let diff = |i: usize| (got[i] as f64 - want[i] as f64).abs();
    let worst = bad.iter().copied().max_by(|&i, &j| diff(i).total_cmp(&diff(j))).unwrap_or(bad[0]);
    let first: Vec<String> =
        bad.iter().take(5).map(|&i| format!("[{i}] got {:e} want {:e}", got[i], want[i])).collect();
    panic!(
        "{what}: {} of {} elements differ under {tol:?}; worst [{worst}]: got {:e} want {:e} (diff {:e}); first: {}",
        bad.len(),
        got.len(),
        got[worst],
        want[worst],
        diff(worst),
        first.join(", ")
    );
}

/// `n` seeded uniforms in [lo, hi) (a 64-bit LCG; independent of the code under test).
pub fn uniforms(seed: u64, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            lo + (hi - lo) * ((s >> 40) as f32 / (1u64 << 24) as f32)
        })
        .collect()
}
