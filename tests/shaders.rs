//! Every WGSL module of the GPU backend parses and validates with naga, with no adapter needed:
//! the modules exactly as the backend compiles them (helper files prefixed), and every file in
//! `shaders/` is part of at least one module.

use std::collections::BTreeSet;

use gpu_dae::backend::gpu::shader_modules;
use naga::valid::{Capabilities, ValidationFlags, Validator};

const SHADER_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/shaders");

#[test]
fn every_shader_module_parses_and_validates() {
    let modules = shader_modules();
    assert!(!modules.is_empty(), "the GPU backend reports no shader module");
    let mut failures = Vec::new();
    for m in &modules {
        let module = match naga::front::wgsl::parse_str(&m.source) {
            Ok(module) => module,
            Err(e) => {
                failures.push(format!(
                    "{} ({:?}): {}",
                    m.name,
                    m.files,
                    e.emit_to_string(&m.source)
                ));
                continue;
            }
        };
        let mut validator = Validator::new(ValidationFlags::all(), Capabilities::default());
        if let Err(e) = validator.validate(&module) {
            failures.push(format!("{} ({:?}): {}", m.name, m.files, e.emit_to_string(&m.source)));
        }
    }
    assert!(failures.is_empty(), "invalid shader modules:\n{}", failures.join("\n"));
}

#[test]
fn every_shader_file_is_compiled_by_the_backend() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(SHADER_DIR)
        .unwrap_or_else(|e| panic!("reading {SHADER_DIR}: {e}"))
        .map(|entry| entry.expect("directory entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".wgsl"))
        .collect();
    let used: BTreeSet<String> =
        shader_modules().iter().flat_map(|m| m.files.iter().map(|f| f.to_string())).collect();
    let orphans: Vec<_> = on_disk.difference(&used).collect();
    let missing: Vec<_> = used.difference(&on_disk).collect();
    assert!(orphans.is_empty(), "shaders/ files no module includes: {orphans:?}");
    assert!(missing.is_empty(), "modules name files not in shaders/: {missing:?}");
}

#[test]
fn every_module_has_its_entry_points() {
    let expected = [
        ("batch", &["load_batch"][..]),
        ("matmul", &["gemm"][..]),
        ("loss", &["xent_logits", "xent_finish"][..]),
        ("reduce", &["col_sum"][..]),
        ("corrupt", &["corrupt_tensor"][..]),
        ("softmax", &["softmax_nll"][..]),
    ];
    for (name, entries) in expected {
        let m = shader_modules()
            .into_iter()
            .find(|m| m.name == name)
            .unwrap_or_else(|| panic!("no shader module {name:?}"));
        let module = naga::front::wgsl::parse_str(&m.source).expect("parses (checked above)");
        let found: Vec<&str> = module.entry_points.iter().map(|e| e.name.as_str()).collect();
        for entry in entries {
            assert!(found.contains(entry), "module {name}: no entry point {entry:?} in {found:?}");
        }
    }
}
