//! Fuzzes `gpu_dae::data::parse_labels` on raw and gzip-wrapped input (layout: see
//! `gpu_dae_fuzz`). Properties: no panic; an error names the file and, where the decompressed
//! content is known, is exactly the one the IDX rules predict; an `Ok` holds labels ≤ 9 only,
//! as many as the header claims, equal to the content after the 8-byte header.
#![no_main]

use gpu_dae::data::parse_labels;
use gpu_dae_fuzz::{Expect, NAME, check_err, expect, prepare};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = prepare(data);
    match parse_labels(NAME, &input.bytes) {
        Ok(labels) => {
            assert!(labels.iter().all(|&l| l <= 9), "label above 9 accepted: {labels:?}");
            if let Some(p) = &input.plain {
                assert_eq!(
                    expect(p, false, input.is_gz()),
                    Expect::Ok,
                    "reader accepted {} labels",
                    labels.len()
                );
                assert_eq!(labels, p[8..], "labels differ from the file's payload");
                assert_eq!(labels.len(), u32::from_be_bytes([p[4], p[5], p[6], p[7]]) as usize);
            }
        }
        Err(e) => check_err(&e, &input, false),
    }
});
