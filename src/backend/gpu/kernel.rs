//! Typed kernels: each WGSL entry point is a `Kernel` naming its op, its shader module, its
//! parameter struct (binding 0, a `#[repr(C)]` Pod mirror of the WGSL `Params`) and its storage
//! bindings; each gets its own bind-group layout. Modules, layouts and pipelines are built once
//! on first use and cached for the life of the `Gpu`. tests/shaders.rs checks every kernel
//! against the WGSL itself (parsed with naga): the entry point, the parameter struct's fields,
//! offsets and sizes, the bindings it uses, its override constants, and the enum codes.

use std::collections::HashMap;
use std::marker::PhantomData;

/// Bytes of one dispatch's parameter block (binding 0 of every kernel, a dynamic-offset slice of
/// the uniform ring): every `Params` struct fits in it.
pub(super) const PARAMS_BYTES: u64 = 64;

/// The most override constants a kernel takes (`gemm_rows_epilogue`'s TRANS_A, TRANS_B, VEC_A,
/// VEC_B, MR, KL, ACT, GRAD).
const MAX_OVERRIDES: usize = 8;

/// One field of a WGSL struct mirrored in Rust: its name, byte offset and byte size, and the
/// fields of a nested struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// The field's name, the same in Rust and WGSL.
    pub name: &'static str,
    /// Byte offset in the struct.
    pub offset: usize,
    /// Byte size.
    pub size: usize,
    /// The fields of a nested struct (empty for a scalar).
    pub fields: &'static [Field],
}

/// A Rust type laid out as a WGSL type: u32, f32, or a struct of them (`wgsl_struct!`).
pub trait WgslType: bytemuck::Pod {
    /// The fields of a struct; empty for a scalar.
    const FIELDS: &'static [Field] = &[];
}

impl WgslType for u32 {}
impl WgslType for f32 {}

/// Defines a `#[repr(C)]` Pod struct that mirrors a WGSL struct field for field, with its
/// `WgslType::FIELDS` (names, offsets, sizes) for the layout test.
macro_rules! wgsl_struct {
    ($(#[$meta:meta])* $vis:vis struct $name:ident {
        $($(#[$fmeta:meta])* $field:ident: $ty:ty),* $(,)?
    }) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
        $vis struct $name {
            $($(#[$fmeta])* pub $field: $ty),*
        }

        impl $crate::backend::gpu::kernel::WgslType for $name {
            const FIELDS: &'static [$crate::backend::gpu::kernel::Field] = &[$(
                $crate::backend::gpu::kernel::Field {
                    name: stringify!($field),
                    offset: std::mem::offset_of!($name, $field),
                    size: std::mem::size_of::<$ty>(),
                    fields: <$ty as $crate::backend::gpu::kernel::WgslType>::FIELDS,
                }
            ),*];
        }
    };
}
pub(super) use wgsl_struct;

/// A shader file of `shaders/`: its name and its text.
pub(super) type File = (&'static str, &'static str);

/// A file of `shaders/`, embedded.
macro_rules! shader_file {
    ($name:literal) => {
        ($name, include_str!(concat!("../../../shaders/", $name)))
    };
}
pub(super) use shader_file;

/// The two modules of an op file on the rows kernel (gemm_small.wgsl), over the same helper
/// files: `$plain` with rows_shuffle.wgsl first (the K-lane tree all in workgroup memory) and
/// `$subgroup` with rows_shuffle_subgroup.wgsl first (its last levels in subgroup shuffles,
/// for `Gpu::use_subgroups`).
macro_rules! rows_modules {
    ($(#[$meta:meta])* $plain:ident, $subgroup:ident: [$($file:expr),* $(,)?]) => {
        $(#[$meta])*
        const $plain: $crate::backend::gpu::kernel::Module =
            $crate::backend::gpu::kernel::Module(&[
                $crate::backend::gpu::kernel::ROWS_SHUFFLE,
                $($file),*
            ]);
        /// The subgroup-shuffle twin of the module above (`rows_modules!`).
        const $subgroup: $crate::backend::gpu::kernel::Module =
            $crate::backend::gpu::kernel::Module(&[
                $crate::backend::gpu::kernel::ROWS_SHUFFLE_SUBGROUP,
                $($file),*
            ]);
    };
}
pub(super) use rows_modules;

/// The helper files the ops' modules are built from.
pub(super) const RNG: File = shader_file!("rng.wgsl");
pub(super) const MATH: File = shader_file!("math.wgsl");
pub(super) const ACTIVATION: File = shader_file!("activation.wgsl");
pub(super) const NOISE: File = shader_file!("noise.wgsl");
pub(super) const SUMS: File = shader_file!("sums.wgsl");
pub(super) const GEMM_TILES: File = shader_file!("gemm_tiles.wgsl");
pub(super) const GEMM_SMALL: File = shader_file!("gemm_small.wgsl");
/// The rows kernel's tree in workgroup memory only, and with its last levels in subgroup
/// shuffles (`Gpu::use_subgroups`): one of them is the first file of every module on
/// gemm_small.wgsl.
pub(super) const ROWS_SHUFFLE: File = shader_file!("rows_shuffle.wgsl");
pub(super) const ROWS_SHUFFLE_SUBGROUP: File = shader_file!("rows_shuffle_subgroup.wgsl");
pub(super) const LANE_TREE: File = shader_file!("lane_tree.wgsl");
pub(super) const LANE_SUMS: File = shader_file!("lane_sums.wgsl");
pub(super) const LANE_SUMS_SUBGROUP: File = shader_file!("lane_sums_subgroup.wgsl");
/// `loss_elements`, the element-wise losses' parameters, bindings and late-finished sum.
pub(super) const LOSS_ELEMENTS: File = shader_file!("loss_elements.wgsl");
/// `record_total`, for the ops that leave a per-step log's value to `log_finish`.
pub(super) const LOG_RECORDS: File = shader_file!("log_records.wgsl");

/// One shader module: an op's file (last), prefixed by the helper files it calls. An op's
/// file may be compiled in more than one module (with different helpers first, e.g. its
/// subgroup and its workgroup-memory reductions): a module is known by its first and last
/// files (`Module::key`).
#[derive(Clone, Copy, Debug)]
pub(super) struct Module(pub &'static [File]);

/// What a module is cached under: its first and its last file.
type ModuleKey = (&'static str, &'static str);

impl Module {
    /// The op's own file, e.g. "gemm.wgsl": the module's name.
    fn name(self) -> &'static str {
        self.0.last().map_or("", |(name, _)| name)
    }

    /// Its first and last files' names.
    fn key(self) -> ModuleKey {
        (self.0.first().map_or("", |(name, _)| name), self.name())
    }

    fn source(self) -> String {
        self.0.iter().map(|(_, src)| *src).collect::<Vec<_>>().join("\n")
    }
}

/// How a kernel uses one of its storage bindings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// `var<storage, read>`.
    Read,
    /// `var<storage, read_write>`.
    ReadWrite,
}

/// One storage binding of a kernel: its number in group 0 (binding 0 is the parameter block),
/// its WGSL name and its access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding {
    /// `@binding(n)`.
    pub slot: u32,
    /// The WGSL variable's name.
    pub name: &'static str,
    /// Read-only or read-write.
    pub access: Access,
}

/// A read-only storage binding.
pub(super) const fn read(slot: u32, name: &'static str) -> Binding {
    Binding { slot, name, access: Access::Read }
}

/// A read-write storage binding.
pub(super) const fn write(slot: u32, name: &'static str) -> Binding {
    Binding { slot, name, access: Access::ReadWrite }
}

/// One compute kernel: an entry point of a module, with parameter struct `P`.
pub(super) struct Kernel<P> {
    /// The op it belongs to (`Op::STEM`).
    pub op: &'static str,
    /// The module it is compiled in.
    pub module: Module,
    /// The entry point.
    pub entry: &'static str,
    /// The storage bindings the entry point uses, in binding order: the order `Gpu::dispatch`
    /// takes their buffers.
    pub bindings: &'static [Binding],
    /// The override constants it takes, in the order `Gpu::dispatch` takes their values.
    pub overrides: &'static [&'static str],
    /// The parameter struct.
    pub params: PhantomData<P>,
}

/// A kernel as the tests see it.
#[derive(Clone, Debug)]
pub struct KernelInfo {
    /// The op it belongs to, e.g. "gemm".
    pub op: &'static str,
    /// The op's shader file, e.g. "gemm.wgsl".
    pub file: &'static str,
    /// The module's WGSL, exactly as the backend compiles it.
    pub source: String,
    /// The entry point, e.g. "gemm_bias_act".
    pub entry: &'static str,
    /// The parameter struct's fields.
    pub params: &'static [Field],
    /// The storage bindings it uses.
    pub bindings: &'static [Binding],
    /// The override constants it takes.
    pub overrides: &'static [&'static str],
}

/// A kernel of any parameter type.
pub(super) trait AnyKernel {
    /// Its module.
    fn module(&self) -> Module;
    /// What the tests check of it.
    fn info(&self) -> KernelInfo;
}

impl<P: WgslType> AnyKernel for Kernel<P> {
    fn module(&self) -> Module {
        self.module
    }

    fn info(&self) -> KernelInfo {
        KernelInfo {
            op: self.op,
            file: self.module.name(),
            source: self.module.source(),
            entry: self.entry,
            params: P::FIELDS,
            bindings: self.bindings,
            overrides: self.overrides,
        }
    }
}

/// One shader module as the GPU backend compiles it, for validation without an adapter.
#[derive(Clone, Debug)]
pub struct ShaderModuleSource {
    /// The op's file, e.g. "gemm.wgsl".
    pub name: &'static str,
    /// The files of `shaders/` it is made of, helpers first.
    pub files: Vec<&'static str>,
    /// Their concatenated WGSL.
    pub source: String,
}

/// The shader module of each of `kernels`, once each, in order: what the GPU backend
/// compiles, exactly as it compiles it.
pub(super) fn modules_of(kernels: &[&dyn AnyKernel]) -> Vec<ShaderModuleSource> {
    let mut modules: Vec<ShaderModuleSource> = Vec::new();
    let mut seen: Vec<ModuleKey> = Vec::new();
    for m in kernels.iter().map(|k| k.module()) {
        if !seen.contains(&m.key()) {
            seen.push(m.key());
            modules.push(ShaderModuleSource {
                name: m.name(),
                files: m.0.iter().map(|(file, _)| *file).collect(),
                source: m.source(),
            });
        }
    }
    modules
}

/// The modules compiled without wgpu's runtime bounds checks: the GEMMs, whose every load and
/// store tests its row, column and K against the shape (the checks would add a clamp to every
/// access of the inner loops).
const UNCHECKED: [&str; 2] = ["gemm.wgsl", "gemm_sum.wgsl"];

/// A pipeline: an entry point of a module with its override values (unused ones 0).
type PipelineKey = (ModuleKey, &'static str, [u32; MAX_OVERRIDES]);

/// Shader modules, layouts and pipelines, created on first use.
#[derive(Default)]
pub(super) struct Kernels {
    modules: HashMap<ModuleKey, wgpu::ShaderModule>,
    layouts: HashMap<&'static str, (wgpu::BindGroupLayout, wgpu::PipelineLayout)>,
    pipelines: HashMap<PipelineKey, wgpu::ComputePipeline>,
}

impl Kernels {
    /// The bind-group layout of `kernel`: binding 0 the parameter block (uniform, dynamic
    /// offset), then the kernel's storage bindings.
    pub(super) fn bind_group_layout<P>(
        &mut self,
        device: &wgpu::Device,
        kernel: &Kernel<P>,
    ) -> &wgpu::BindGroupLayout {
        &self.layouts.entry(kernel.entry).or_insert_with(|| make_layouts(device, kernel)).0
    }

    /// The pipeline of `kernel` with override values `overrides` (in `kernel.overrides`'
    /// order), compiled on first use.
    pub(super) fn pipeline<P>(
        &mut self,
        device: &wgpu::Device,
        kernel: &Kernel<P>,
        overrides: &[u32],
    ) -> &wgpu::ComputePipeline {
        assert_eq!(
            overrides.len(),
            kernel.overrides.len(),
            "{}: override values {overrides:?} for {:?}",
            kernel.entry,
            kernel.overrides
        );
        let mut values = [0; MAX_OVERRIDES];
        values[..overrides.len()].copy_from_slice(overrides);
        let key = (kernel.module.key(), kernel.entry, values);
        if !self.pipelines.contains_key(&key) {
            self.bind_group_layout(device, kernel);
            let layout = &self.layouts[kernel.entry].1;
            let module = self.modules.entry(kernel.module.key()).or_insert_with(|| {
                let desc = wgpu::ShaderModuleDescriptor {
                    label: Some(kernel.module.name()),
                    source: wgpu::ShaderSource::Wgsl(kernel.module.source().into()),
                };
                if UNCHECKED.contains(&kernel.module.name()) {
                    // SAFETY: every index these modules form is guarded by the shapes in their
                    // parameter block, and their ops' `Run` impls assert that each buffer holds
                    // the elements those shapes cover (gpu/gemm.rs, gpu/gemm_sum.rs), so no
                    // access is out of bounds without the runtime checks.
                    unsafe {
                        device.create_shader_module_trusted(
                            desc,
                            wgpu::ShaderRuntimeChecks::unchecked(),
                        )
                    }
                } else {
                    device.create_shader_module(desc)
                }
            });
            let constants: Vec<(&str, f64)> =
                kernel.overrides.iter().zip(overrides).map(|(&n, &v)| (n, f64::from(v))).collect();
            let label = format!("{} {overrides:?}", kernel.entry);
            let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&label),
                layout: Some(layout),
                module,
                entry_point: Some(kernel.entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: &constants,
                    // Every kernel writes its workgroup memory before reading it.
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            });
            self.pipelines.insert(key, pipeline);
        }
        &self.pipelines[&key]
    }
}

fn make_layouts<P>(
    device: &wgpu::Device,
    kernel: &Kernel<P>,
) -> (wgpu::BindGroupLayout, wgpu::PipelineLayout) {
    let params = wgpu::BindGroupLayoutEntry {
        binding: 0,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: true,
            min_binding_size: wgpu::BufferSize::new(PARAMS_BYTES),
        },
        count: None,
    };
    let storage = kernel.bindings.iter().map(|b| wgpu::BindGroupLayoutEntry {
        binding: b.slot,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only: b.access == Access::Read },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    });
    let entries: Vec<_> = std::iter::once(params).chain(storage).collect();
    let bgl = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(kernel.entry),
        entries: &entries,
    });
    let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(kernel.entry),
        bind_group_layouts: &[Some(&bgl)],
        immediate_size: 0,
    });
    (bgl, layout)
}
