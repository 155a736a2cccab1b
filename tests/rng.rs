//! The counter-based RNG: determinism, independence of streams, noise statistics.

use gpu_dae::backend::cpu::Cpu;
use gpu_dae::backend::ops::{Corrupt, LoadBatch};
use gpu_dae::backend::{Noise, Run, Storage};
use gpu_dae::rng::{HostRng, RngKey, drop_threshold, mix32};

use crate::util::uniforms;

/// Pinned outputs: every run's noise, and so its results, depends on these bits, and the WGSL
/// twin is checked against this code; a change to the RNG must be deliberate.
#[test]
fn rng_outputs_are_pinned() {
    let mixed: Vec<u32> = [0u32, 1, 2, 0xdead_beef, u32::MAX].map(mix32).to_vec();
    assert_eq!(mixed, [0x0000_0000, 0x6889_90c0, 0xd113_2181, 0xe628_c683, 0x6768_824a]);
    let key = RngKey::new(123, 0);
    assert_eq!((key.k0, key.k1), (0xc065_d1ce, 0x1cca_767c));
    let bits: Vec<u32> = (0..4).map(|i| key.bits(i)).collect();
    assert_eq!(bits, [0x3e20_4dee, 0x775b_cf7f, 0xed05_d2f6, 0x5742_c574]);
}

#[test]
fn same_seed_and_stream_give_the_same_bits() {
    let a: Vec<u32> = (0..1000).map(|i| RngKey::new(42, 7).bits(i)).collect();
    let b: Vec<u32> = (0..1000).map(|i| RngKey::new(42, 7).bits(i)).collect();
    assert_eq!(a, b);
    let mut h1 = HostRng::new(42, 3);
    let mut h2 = HostRng::new(42, 3);
    for _ in 0..100 {
        assert_eq!(h1.next_u32(), h2.next_u32());
    }
}

#[test]
fn different_seeds_or_streams_give_different_bits() {
    let base: Vec<u32> = (0..64).map(|i| RngKey::new(42, 7).bits(i)).collect();
    for key in [
        RngKey::new(43, 7),
        RngKey::new(42, 8),
        RngKey::new(42 | 1 << 40, 7),
        RngKey::new(42, 7 | 1 << 40),
    ] {
        let other: Vec<u32> = (0..64).map(|i| key.bits(i)).collect();
        let same = base.iter().zip(&other).filter(|(a, b)| a == b).count();
        assert!(same <= 1, "{key:?} repeats {same} of 64 words of the base stream");
    }
}

#[test]
fn uniforms_have_the_right_mean_and_variance() {
    let key = RngKey::new(1, 2);
    let n = 200_000;
    let xs: Vec<f64> = (0..n).map(|i| key.uniform(i) as f64).collect();
    let mean = xs.iter().sum::<f64>() / n as f64;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
    // Standard error of the mean of U(0,1): sqrt(1/12/n) ≈ 6.5e-4; allow 4σ.
    assert!((mean - 0.5).abs() < 4.0 * (1.0 / 12.0 / n as f64).sqrt(), "mean {mean}");
    assert!((var - 1.0 / 12.0).abs() < 2e-3, "variance {var}");
    assert!(xs.iter().all(|&x| (0.0..1.0).contains(&x)));
}

#[test]
fn masks_keep_one_minus_p_within_four_sigma() {
    let be = Cpu::new();
    let (rows, dim) = (200, 784);
    let n = rows * dim;
    // Every pixel 255, so x = 1 and x̃ is the keep mask.
    let images = be.upload_images(&vec![255u8; n], dim);
    let (mut x, mut out) = (vec![0.0; n], vec![0.0; n]);
    for (stream, p) in [(0u64, 0.0f32), (1, 0.1), (2, 0.3), (3, 0.5), (4, 0.9), (5, 1.0)] {
        let key = RngKey::new(123, stream);
        be.run(LoadBatch {
            x: &mut x,
            x_tilde: &mut out,
            images: &images,
            first: 0,
            rows,
            noise: Noise::Mask { p },
            key,
            standardise: None,
        });
        let kept = out.iter().filter(|&&v| v == 1.0).count() as f64 / n as f64;
        let q = 1.0 - p as f64;
        let sigma = (q * (1.0 - q) / n as f64).sqrt();
        assert!(
            (kept - q).abs() <= 4.0 * sigma + 1e-12,
            "p {p}: kept {kept}, expected {q} ± {}",
            4.0 * sigma
        );
    }
    assert_eq!(drop_threshold(0.0), 0);
    assert_eq!(drop_threshold(1.0), 1 << 24);
}

#[test]
fn salt_and_pepper_noise_corrupts_p_half_salt_half_pepper_within_four_sigma() {
    let be = Cpu::new();
    let (rows, dim) = (200, 784);
    let n = rows * dim;
    // Pixels 1..=254, so x is never 0 or 1 and x̃ ≠ x exactly where an element is corrupted.
    let pixels: Vec<u8> = (0..n).map(|i| (i * 37 % 254 + 1) as u8).collect();
    let images = be.upload_images(&pixels, dim);
    let (mut x, mut out, mut masked) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for (stream, p) in [(0u64, 0.05f32), (1, 0.1), (2, 0.3), (3, 0.5), (4, 0.9)] {
        let key = RngKey::new(321, stream);
        be.run(LoadBatch {
            x: &mut x,
            x_tilde: &mut out,
            images: &images,
            first: 0,
            rows,
            noise: Noise::SaltPepper { p },
            key,
            standardise: None,
        });
        let (mut salt, mut pepper) = (0usize, 0usize);
        for (i, (&v, &xt)) in x.iter().zip(&out).enumerate() {
            if xt.to_bits() == v.to_bits() {
                continue;
            }
            assert!(xt == 0.0 || xt == 1.0, "p {p}: element {i} is {xt}, neither x = {v} nor 0, 1");
            salt += usize::from(xt == 1.0);
            pepper += usize::from(xt == 0.0);
        }
        let corrupted = salt + pepper;
        let frac = corrupted as f64 / n as f64;
        let q = p as f64;
        let sigma = (q * (1.0 - q) / n as f64).sqrt();
        assert!(
            (frac - q).abs() <= 4.0 * sigma,
            "p {p}: corrupted {frac}, expected {q} ± {}",
            4.0 * sigma
        );
        // Salt and pepper are a fair coin among the corrupted elements.
        let half = salt as f64 / corrupted as f64;
        let sigma_half = (0.25 / corrupted as f64).sqrt();
        assert!(
            (half - 0.5).abs() <= 4.0 * sigma_half,
            "p {p}: salt {half} of the corrupted, expected 0.5 ± {}",
            4.0 * sigma_half
        );
        // Under the same key the corrupted set is masking noise's dropped set (x ≠ 0 here).
        be.run(LoadBatch {
            x: &mut x,
            x_tilde: &mut masked,
            images: &images,
            first: 0,
            rows,
            noise: Noise::Mask { p },
            key,
            standardise: None,
        });
        for i in 0..n {
            let dropped = masked[i] == 0.0;
            let changed = out[i].to_bits() != x[i].to_bits();
            assert_eq!(
                changed, dropped,
                "p {p}: element {i}: corrupted {changed}, dropped {dropped}"
            );
        }
    }
}

#[test]
fn salt_and_pepper_noise_at_p_0_keeps_x_and_at_p_1_replaces_every_element() {
    let be = Cpu::new();
    let n = 50_000;
    let x = uniforms(8, n, 0.25, 0.75);
    let mut out = vec![f32::NAN; n];
    be.run(Corrupt {
        x_tilde: &mut out,
        x: &x,
        len: n,
        noise: Noise::SaltPepper { p: 0.0 },
        key: RngKey::new(8, 0),
    });
    assert_eq!(out, x, "p = 0 must leave x unchanged");
    be.run(Corrupt {
        x_tilde: &mut out,
        x: &x,
        len: n,
        noise: Noise::SaltPepper { p: 1.0 },
        key: RngKey::new(8, 1),
    });
    assert!(out.iter().all(|&v| v == 0.0 || v == 1.0), "p = 1 must replace everything by 0 or 1");
    let salt = out.iter().filter(|&&v| v == 1.0).count() as f64;
    assert!((salt - n as f64 / 2.0).abs() <= 4.0 * (n as f64 / 4.0).sqrt(), "salt {salt} of {n}");
}

#[test]
fn neighbouring_mask_elements_are_uncorrelated() {
    // Lag-1 agreement of keep decisions must be q² + (1−q)² for independent draws.
    let key = RngKey::new(9, 0);
    let t = drop_threshold(0.5);
    let n = 100_000u32;
    let keep: Vec<bool> = (0..n).map(|i| key.bits(i) >> 8 >= t).collect();
    let agree = keep.windows(2).filter(|w| w[0] == w[1]).count() as f64 / (n - 1) as f64;
    let sigma = (0.25 / n as f64).sqrt();
    assert!((agree - 0.5).abs() < 4.0 * sigma, "lag-1 agreement {agree}");
}

#[test]
fn gaussian_noise_has_mean_0_and_variance_sigma_squared_within_four_sigma() {
    let cpu = Cpu::new();
    let n = 200_000;
    for (stream, sigma) in [(1u64, 1.0f32), (2, 0.25), (3, 3.0)] {
        let x = vec![0.5f32; n];
        let mut xt = vec![0.0f32; n];
        cpu.run(Corrupt {
            x_tilde: &mut xt,
            x: &x,
            len: n,
            noise: Noise::Gauss { sigma },
            key: RngKey::new(42, stream),
        });
        let z: Vec<f64> = xt.iter().map(|&v| (f64::from(v) - 0.5) / f64::from(sigma)).collect();
        let mean = z.iter().sum::<f64>() / n as f64;
        let var = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        // Standard errors of N(0, 1): mean 1/√n, sample variance √(2/n); fourth moment 3.
        let four_sigma_mean = 4.0 / (n as f64).sqrt();
        let four_sigma_var = 4.0 * (2.0 / n as f64).sqrt();
        assert!(mean.abs() <= four_sigma_mean, "σ={sigma}: mean {mean}");
        assert!((var - 1.0).abs() <= four_sigma_var, "σ={sigma}: variance {var}");
        let kurt = z.iter().map(|v| (v - mean).powi(4)).sum::<f64>() / n as f64 / var.powi(2);
        assert!((kurt - 3.0).abs() <= 4.0 * (24.0 / n as f64).sqrt(), "σ={sigma}: kurtosis {kurt}");
        // Symmetric: as many draws above as below the mean, within 4σ of a fair coin.
        let above = z.iter().filter(|&&v| v > 0.0).count() as f64;
        assert!((above - n as f64 / 2.0).abs() <= 4.0 * (n as f64 / 4.0).sqrt(), "σ={sigma}");
    }
    // Neighbouring elements are uncorrelated.
    let mut z = vec![0.0f32; n];
    let (noise, key) = (Noise::Gauss { sigma: 1.0 }, RngKey::new(43, 0));
    cpu.run(Corrupt { x_tilde: &mut z, x: &vec![0.0; n], len: n, noise, key });
    let corr = z.windows(2).map(|w| f64::from(w[0]) * f64::from(w[1])).sum::<f64>() / n as f64;
    assert!(corr.abs() <= 4.0 / (n as f64).sqrt(), "lag-1 correlation {corr}");
}
