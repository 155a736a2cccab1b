//! The shaders against the host code, with no adapter needed (naga parses and validates the
//! WGSL exactly as the backend compiles it):
//! - every module validates, and every file in `shaders/` is part of one;
//! - every kernel's entry point exists, its `Params` struct has the fields, offsets and sizes
//!   of the Rust mirror, it uses exactly the storage bindings its bind-group layout declares,
//!   its override constants exist, and its workgroup memory fits every adapter;
//! - every entry point of the WGSL is a kernel, whose op has its own shader file, its CPU twin,
//!   its GPU-vs-CPU test and its bench case, all named by the op's stem;
//! - every enum code shared with WGSL has the same value on both sides.

use std::collections::BTreeSet;

use gpu_dae::backend::gpu::kernel::{Access, Field, KernelInfo};
use gpu_dae::backend::gpu::{MAX_BINDINGS, kernels, shader_modules, wgsl_codes};
use naga::valid::{Capabilities, ModuleInfo, ValidationFlags, Validator};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Bytes of workgroup memory every WebGPU adapter offers (the default
/// `max_compute_workgroup_storage_size`): a kernel over it fails on some adapters.
const WORKGROUP_STORAGE: u64 = 16_384;

/// What a module may use: subgroup operations where one of its files says it needs them (the
/// GPU backend compiles those modules only on a device with `wgpu::Features::SUBGROUP`), the
/// defaults otherwise, so a fallback module that used one would fail validation.
fn capabilities(source: &str) -> Capabilities {
    if source.lines().any(|l| l.starts_with("// Needs subgroups:")) {
        Capabilities::default() | Capabilities::SUBGROUP
    } else {
        Capabilities::default()
    }
}

/// A module parsed and validated.
fn parse(name: &str, source: &str) -> (naga::Module, ModuleInfo) {
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
    let info = Validator::new(ValidationFlags::all(), capabilities(source))
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
    (module, info)
}

fn read(path: &str) -> String {
    let path = format!("{ROOT}/{path}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

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
        let mut validator = Validator::new(ValidationFlags::all(), capabilities(&m.source));
        if let Err(e) = validator.validate(&module) {
            failures.push(format!("{} ({:?}): {}", m.name, m.files, e.emit_to_string(&m.source)));
        }
    }
    assert!(failures.is_empty(), "invalid shader modules:\n{}", failures.join("\n"));
}

#[test]
fn every_shader_file_is_compiled_by_the_backend() {
    let dir = format!("{ROOT}/shaders");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {dir}: {e}"))
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

/// The fields of a WGSL struct type as `Field`s (nested structs' too), and its span.
fn wgsl_fields(module: &naga::Module, ty: naga::Handle<naga::Type>) -> (Vec<Field>, u32) {
    let naga::TypeInner::Struct { members, span } = &module.types[ty].inner else {
        panic!("{:?} is not a struct", module.types[ty].name);
    };
    let fields = members
        .iter()
        .map(|m| {
            let nested = match module.types[m.ty].inner {
                naga::TypeInner::Struct { .. } => wgsl_fields(module, m.ty).0,
                _ => Vec::new(),
            };
            Field {
                name: Box::leak(m.name.clone().unwrap_or_default().into_boxed_str()),
                offset: m.offset as usize,
                size: module.types[m.ty].inner.size(module.to_ctx()) as usize,
                fields: Box::leak(nested.into_boxed_slice()),
            }
        })
        .collect();
    (fields, *span)
}

/// What is wrong with `kernel` against its module, if anything.
fn kernel_mismatches(kernel: &KernelInfo) -> Vec<String> {
    let (module, info) = parse(kernel.file, &kernel.source);
    let what = |m: String| format!("{} ({}): {m}", kernel.entry, kernel.file);
    let Some(index) = module.entry_points.iter().position(|e| e.name == kernel.entry) else {
        return vec![what("no such entry point".into())];
    };
    let uses = info.get_entry_point(index);
    let mut wrong = Vec::new();
    let mut bound = Vec::new();
    for (handle, var) in module.global_variables.iter() {
        let Some(binding) = &var.binding else { continue };
        let name = var.name.clone().unwrap_or_default();
        match var.space {
            naga::AddressSpace::Uniform => {
                assert_eq!((binding.group, binding.binding), (0, 0), "{name}: the parameters");
                let (fields, span) = wgsl_fields(&module, var.ty);
                if fields != kernel.params {
                    wrong.push(what(format!("Params: WGSL {fields:?}, Rust {:?}", kernel.params)));
                }
                if span as u64 > 64 {
                    wrong.push(what(format!("Params spans {span} bytes, a ring slot 64")));
                }
            }
            naga::AddressSpace::Storage { access } if !uses[handle].is_empty() => {
                let write = access.contains(naga::StorageAccess::STORE);
                let access = if write { Access::ReadWrite } else { Access::Read };
                bound.push((binding.binding, name, access));
            }
            _ => {}
        }
    }
    bound.sort_by_key(|b| b.0);
    let declared: Vec<_> =
        kernel.bindings.iter().map(|b| (b.slot, b.name.to_string(), b.access)).collect();
    if bound != declared {
        wrong.push(what(format!("uses {bound:?}, its layout declares {declared:?}")));
    }
    let overrides: Vec<String> =
        module.overrides.iter().filter_map(|(_, o)| o.name.clone()).collect();
    for name in kernel.overrides {
        if !overrides.iter().any(|o| o == name) {
            wrong.push(what(format!("override {name} is not in {overrides:?}")));
        }
    }
    let shared: u64 = module
        .global_variables
        .iter()
        .filter(|(h, v)| v.space == naga::AddressSpace::WorkGroup && !uses[*h].is_empty())
        .map(|(_, v)| u64::from(module.types[v.ty].inner.size(module.to_ctx())))
        .sum();
    if shared > WORKGROUP_STORAGE {
        wrong.push(what(format!("{shared} bytes of workgroup memory, over {WORKGROUP_STORAGE}")));
    }
    if kernel.bindings.len() > MAX_BINDINGS {
        wrong.push(what(format!(
            "{} bindings, the bind-group cache keys {MAX_BINDINGS}",
            kernel.bindings.len()
        )));
    }
    wrong
}

#[test]
fn every_kernel_matches_its_wgsl_parameters_bindings_and_overrides() {
    let kernels = kernels();
    assert!(!kernels.is_empty(), "the GPU backend reports no kernel");
    // Pipelines are cached by module and entry point, bind-group layouts by entry point alone:
    // kernels sharing an entry point (one op file in several modules) share its bindings.
    let entries: BTreeSet<(&str, &str)> = kernels.iter().map(|k| (k.entry, &*k.source)).collect();
    assert_eq!(entries.len(), kernels.len(), "a module's entry point is one kernel");
    for (a, b) in kernels.iter().zip(&kernels[1..]).filter(|(a, b)| a.entry == b.entry) {
        assert_eq!(a.bindings, b.bindings, "{}: one layout, two sets of bindings", a.entry);
    }
    let wrong: Vec<String> = kernels.iter().flat_map(kernel_mismatches).collect();
    assert!(wrong.is_empty(), "kernels that do not match their WGSL:\n{}", wrong.join("\n"));
}

/// Kernels of no one op: `log_finish` finishes the per-step logs that `gemm_xent`,
/// `gemm_sq_err`, `sq_err`, `count_positive` and `contractive` leave late (gpu/log_finish.rs),
/// so it has no op struct and no CPU twin of its own (each op's CPU twin sums in order at
/// once); it still has its own GPU test and bench case.
const SHARED_KERNELS: &[&str] = &["log_finish"];

#[test]
fn every_entry_point_is_a_kernel_whose_op_has_its_stem_everywhere() {
    let kernels = kernels();
    let cpu = read("src/backend/cpu.rs");
    let ops = read("src/backend/ops.rs");
    let tests = read("tests/gpu_vs_cpu.rs");
    let benches = read("benches/kernels.rs");
    let mut wrong = Vec::new();
    for m in shader_modules() {
        let (module, _) = parse(m.name, &m.source);
        for entry in &module.entry_points {
            if !kernels.iter().any(|k| k.entry == entry.name && k.file == m.name) {
                wrong.push(format!(
                    "{}: entry point {} is no kernel of the backend",
                    m.name, entry.name
                ));
            }
        }
    }
    let stems: BTreeSet<&str> = kernels.iter().map(|k| k.op).collect();
    // A stem followed by a character that cannot continue an identifier.
    let names = |text: &str, before: &str, stem: &str| {
        text.match_indices(&format!("{before}{stem}")).any(|(i, s)| {
            let next = text[i + s.len()..].chars().next().unwrap_or(' ');
            !(next.is_alphanumeric() || next == '_')
        })
    };
    for stem in stems {
        let file = format!("{stem}.wgsl");
        if !kernels.iter().filter(|k| k.op == stem).all(|k| k.file == file) {
            wrong.push(format!("{stem}: its kernels are not all in shaders/{file}"));
        }
        let shared = SHARED_KERNELS.contains(&stem);
        if !shared && !names(&ops, "const STEM: &'static str = \"", stem) {
            wrong.push(format!("{stem}: no op of backend/ops.rs has this stem"));
        }
        if !shared && !names(&cpu, "fn ", stem) {
            wrong.push(format!("{stem}: no CPU twin `fn {stem}` in src/backend/cpu.rs"));
        }
        if !tests.contains(&format!("#[test]\nfn {stem}_")) {
            wrong.push(format!("{stem}: no test `fn {stem}_…` in tests/gpu_vs_cpu.rs"));
        }
        if !names(&benches, "\"", stem) {
            wrong.push(format!("{stem}: no bench case \"{stem} …\" in benches/kernels.rs"));
        }
    }
    assert!(wrong.is_empty(), "ops missing a part:\n{}", wrong.join("\n"));
}

#[test]
fn every_enum_code_shared_with_wgsl_matches() {
    let codes = wgsl_codes();
    assert!(!codes.is_empty(), "the GPU backend reports no code");
    let modules = shader_modules();
    // Every code constant of the WGSL is one the host passes, and the other way round.
    for (file, prefix) in [("activation.wgsl", "ACT_"), ("noise.wgsl", "NOISE_")] {
        let m = modules.iter().find(|m| m.files.contains(&file)).expect("a module includes it");
        let (module, _) = parse(m.name, &m.source);
        let in_wgsl: BTreeSet<&str> = module
            .constants
            .iter()
            .filter_map(|(_, c)| c.name.as_deref())
            .filter(|n| n.starts_with(prefix))
            .collect();
        let from_host: BTreeSet<&str> =
            codes.iter().filter(|c| c.0 == file && c.1.starts_with(prefix)).map(|c| c.1).collect();
        assert_eq!(in_wgsl, from_host, "{file}: the {prefix}* codes");
    }
    for (file, name, value) in codes {
        let m = modules
            .iter()
            .find(|m| m.files.contains(&file))
            .unwrap_or_else(|| panic!("no module includes {file}"));
        let (module, _) = parse(m.name, &m.source);
        let constant = module
            .constants
            .iter()
            .find(|(_, c)| c.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{file}: no constant {name}"))
            .1;
        match module.global_expressions[constant.init] {
            naga::Expression::Literal(naga::Literal::U32(v)) => {
                assert_eq!(v, value, "{file}: {name} is {v}, the host passes {value}")
            }
            ref other => panic!("{file}: {name} is {other:?}, not a u32 literal"),
        }
    }
}
