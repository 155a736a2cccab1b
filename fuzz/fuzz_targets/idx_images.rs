//! Fuzzes `gpu_dae::data::parse_images` on raw and gzip-wrapped input (layout: see
//! `gpu_dae_fuzz`). Properties: no panic; an error names the file and, where the decompressed
//! content is known, is exactly the one the IDX rules predict; an `Ok` has rows, cols > 0,
//! `pixels.len() == n·rows·cols` and equals the content after the 16-byte header.
#![no_main]

use gpu_dae::data::parse_images;
use gpu_dae_fuzz::{Expect, NAME, check_err, expect, prepare};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = prepare(data);
    match parse_images(NAME, &input.bytes) {
        Ok(im) => {
            assert!(im.rows > 0 && im.cols > 0, "{im:?}");
            let len = (im.n as u128) * (im.rows as u128) * (im.cols as u128);
            assert_eq!(im.pixels.len() as u128, len, "{im:?}");
            assert_eq!(im.dim(), im.rows * im.cols);
            if im.n > 0 {
                assert_eq!(im.image(im.n - 1).len(), im.dim());
            }
            if let Some(p) = &input.plain {
                assert_eq!(expect(p, true, input.is_gz()), Expect::Ok, "reader accepted {im:?}");
                assert_eq!(im.pixels, p[16..], "pixels differ from the file's payload");
                let be = |at: usize| u32::from_be_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]]);
                assert_eq!(
                    (im.n, im.rows, im.cols),
                    (be(4) as usize, be(8) as usize, be(12) as usize)
                );
            }
        }
        Err(e) => check_err(&e, &input, true),
    }
});
