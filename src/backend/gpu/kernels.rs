//! The WGSL sources (one family per file of `shaders/`), their bind-group layouts and the
//! compiled pipelines, each built once on first use and cached for the life of the `Gpu`.

use std::collections::HashMap;

/// Bytes of one dispatch's parameter block (binding 0 of every kernel, a dynamic-offset slice of
/// the uniform ring): up to 16 u32/f32 words.
pub(super) const PARAMS_BYTES: u64 = 64;

const RNG: (&str, &str) = ("rng.wgsl", include_str!("../../../shaders/rng.wgsl"));
const MATH: (&str, &str) = ("math.wgsl", include_str!("../../../shaders/math.wgsl"));
const BATCH: (&str, &str) = ("batch.wgsl", include_str!("../../../shaders/batch.wgsl"));
const NOISE: (&str, &str) = ("noise.wgsl", include_str!("../../../shaders/noise.wgsl"));
const MATMUL: (&str, &str) = ("matmul.wgsl", include_str!("../../../shaders/matmul.wgsl"));
const LOSS: (&str, &str) = ("loss.wgsl", include_str!("../../../shaders/loss.wgsl"));
const REDUCE: (&str, &str) = ("reduce.wgsl", include_str!("../../../shaders/reduce.wgsl"));
const CORRUPT: (&str, &str) = ("corrupt.wgsl", include_str!("../../../shaders/corrupt.wgsl"));
const SOFTMAX: (&str, &str) = ("softmax.wgsl", include_str!("../../../shaders/softmax.wgsl"));
const ELEMENTWISE: (&str, &str) =
    ("elementwise.wgsl", include_str!("../../../shaders/elementwise.wgsl"));
const JACOBIAN: (&str, &str) = ("jacobian.wgsl", include_str!("../../../shaders/jacobian.wgsl"));
const SUMS: (&str, &str) = ("sums.wgsl", include_str!("../../../shaders/sums.wgsl"));

/// How a kernel accesses one of its storage bindings (1, 2, …; binding 0 is the parameters).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    ReadWrite,
}

/// One op family: one shader module (its file, prefixed by the helper files it calls) and one
/// bind-group layout shared by the family's entry points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Family {
    Batch,
    Matmul,
    Loss,
    Reduce,
    Corrupt,
    Softmax,
    Jacobian,
    Elementwise,
}

impl Family {
    const ALL: [Family; 8] = [
        Family::Batch,
        Family::Matmul,
        Family::Loss,
        Family::Reduce,
        Family::Corrupt,
        Family::Softmax,
        Family::Jacobian,
        Family::Elementwise,
    ];

    /// The files concatenated into the module, helpers first.
    fn files(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Family::Batch => &[RNG, NOISE, BATCH],
            Family::Matmul => &[MATH, MATMUL],
            Family::Loss => &[MATH, SUMS, LOSS],
            Family::Reduce => &[SUMS, REDUCE],
            Family::Corrupt => &[RNG, NOISE, CORRUPT],
            Family::Softmax => &[MATH, SOFTMAX],
            Family::Jacobian => &[SUMS, JACOBIAN],
            Family::Elementwise => &[ELEMENTWISE],
        }
    }

    /// The storage bindings 1, 2, … in order (see each shader's header).
    fn bindings(self) -> &'static [Access] {
        use Access::{Read, ReadWrite};
        match self {
            // x, x_tilde, pixels
            Family::Batch => &[ReadWrite, ReadWrite, Read],
            // a, b, c, e, a2, b2
            Family::Matmul => &[Read, Read, ReadWrite, Read, Read, Read],
            // grad, partials, costs, logits, target
            Family::Loss => &[ReadWrite, ReadWrite, ReadWrite, Read, Read],
            // out, a
            Family::Reduce => &[ReadWrite, Read],
            // x_tilde, x
            Family::Corrupt => &[ReadWrite, Read],
            // grad, costs, errors, logits, labels
            Family::Softmax => &[ReadWrite, ReadWrite, ReadWrite, Read, Read],
            // out, col_grad, partials, jac_sq, src, norms
            Family::Jacobian => &[ReadWrite, ReadWrite, ReadWrite, ReadWrite, Read, Read],
            // x
            Family::Elementwise => &[ReadWrite],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Family::Batch => "batch",
            Family::Matmul => "matmul",
            Family::Loss => "loss",
            Family::Reduce => "reduce",
            Family::Corrupt => "corrupt",
            Family::Softmax => "softmax",
            Family::Jacobian => "jacobian",
            Family::Elementwise => "elementwise",
        }
    }

    fn source(self) -> String {
        self.files().iter().map(|(_, src)| *src).collect::<Vec<_>>().join("\n")
    }

    /// Number of storage bindings.
    pub(super) fn arity(self) -> usize {
        self.bindings().len()
    }
}

/// One shader module as the GPU backend compiles it, for validation without an adapter.
#[derive(Clone, Debug)]
pub struct ShaderModuleSource {
    /// The op family, e.g. "matmul".
    pub name: &'static str,
    /// The files of `shaders/` it is made of, helpers first.
    pub files: Vec<&'static str>,
    /// Their concatenated WGSL.
    pub source: String,
}

/// Every shader module the GPU backend compiles, exactly as it compiles them.
pub fn shader_modules() -> Vec<ShaderModuleSource> {
    Family::ALL
        .iter()
        .map(|&f| ShaderModuleSource {
            name: f.name(),
            files: f.files().iter().map(|(file, _)| *file).collect(),
            source: f.source(),
        })
        .collect()
}

/// What the GEMM epilogue does, as the shader's `EPILOGUE` constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum GemmEpilogue {
    None = 0,
    BiasIdentity = 1,
    BiasSigmoid = 2,
    SigmoidGrad = 3,
    BiasRelu = 4,
    ReluGrad = 5,
}

/// One compiled pipeline: an entry point with its override constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Kernel {
    LoadBatch,
    /// `sum`: a second product op(A₂)·op(B₂) (`gemm_sum`).
    Gemm {
        trans_a: bool,
        trans_b: bool,
        vec_a: bool,
        vec_b: bool,
        epilogue: GemmEpilogue,
        sum: bool,
    },
    XentLogits,
    XentFinish,
    ColSum,
    CorruptTensor,
    SoftmaxNll,
    ColSqNorms,
    ContractiveCols,
    ContractiveFinish,
    ScaleCols,
    SqErr,
    CountPositive,
    Affine,
}

impl Kernel {
    pub(super) fn family(self) -> Family {
        match self {
            Kernel::LoadBatch => Family::Batch,
            Kernel::Gemm { .. } => Family::Matmul,
            Kernel::XentLogits | Kernel::XentFinish | Kernel::SqErr | Kernel::CountPositive => {
                Family::Loss
            }
            Kernel::Affine => Family::Elementwise,
            Kernel::ColSum => Family::Reduce,
            Kernel::CorruptTensor => Family::Corrupt,
            Kernel::SoftmaxNll => Family::Softmax,
            Kernel::ColSqNorms
            | Kernel::ContractiveCols
            | Kernel::ContractiveFinish
            | Kernel::ScaleCols => Family::Jacobian,
        }
    }

    fn entry_point(self) -> &'static str {
        match self {
            Kernel::LoadBatch => "load_batch",
            Kernel::Gemm { .. } => "gemm",
            Kernel::XentLogits => "xent_logits",
            Kernel::XentFinish => "xent_finish",
            Kernel::ColSum => "col_sum",
            Kernel::CorruptTensor => "corrupt_tensor",
            Kernel::SoftmaxNll => "softmax_nll",
            Kernel::ColSqNorms => "col_sq_norms",
            Kernel::ContractiveCols => "contractive_cols",
            Kernel::ContractiveFinish => "contractive_finish",
            Kernel::ScaleCols => "scale_cols",
            Kernel::SqErr => "sq_err",
            Kernel::CountPositive => "count_positive",
            Kernel::Affine => "affine",
        }
    }

    fn constants(self) -> Vec<(&'static str, f64)> {
        match self {
            Kernel::Gemm { trans_a, trans_b, vec_a, vec_b, epilogue, sum } => vec![
                ("TRANS_A", f64::from(u8::from(trans_a))),
                ("TRANS_B", f64::from(u8::from(trans_b))),
                ("VEC_A", f64::from(u8::from(vec_a))),
                ("VEC_B", f64::from(u8::from(vec_b))),
                ("EPILOGUE", epilogue as u8 as f64),
                ("SUM", f64::from(u8::from(sum))),
            ],
            _ => Vec::new(),
        }
    }
}

/// Shader modules, layouts and pipelines, created on first use.
#[derive(Default)]
pub(super) struct Kernels {
    modules: HashMap<Family, wgpu::ShaderModule>,
    layouts: HashMap<Family, (wgpu::BindGroupLayout, wgpu::PipelineLayout)>,
    pipelines: HashMap<Kernel, wgpu::ComputePipeline>,
}

impl Kernels {
    /// The bind-group layout of `family`: binding 0 the parameter block (uniform, dynamic
    /// offset), then the family's storage bindings.
    pub(super) fn bind_group_layout(
        &mut self,
        device: &wgpu::Device,
        family: Family,
    ) -> &wgpu::BindGroupLayout {
        &self.layouts.entry(family).or_insert_with(|| make_layouts(device, family)).0
    }

    /// The pipeline of `kernel`, compiled on first use.
    pub(super) fn pipeline(
        &mut self,
        device: &wgpu::Device,
        kernel: Kernel,
    ) -> &wgpu::ComputePipeline {
        if !self.pipelines.contains_key(&kernel) {
            let family = kernel.family();
            self.bind_group_layout(device, family);
            let layout = &self.layouts[&family].1;
            let module = self.modules.entry(family).or_insert_with(|| {
                device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(family.name()),
                    source: wgpu::ShaderSource::Wgsl(family.source().into()),
                })
            });
            let constants = kernel.constants();
            let label = format!("{kernel:?}");
            let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&label),
                layout: Some(layout),
                module,
                entry_point: Some(kernel.entry_point()),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: &constants,
                    // Every kernel writes its workgroup memory before reading it.
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            });
            self.pipelines.insert(kernel, pipeline);
        }
        &self.pipelines[&kernel]
    }
}

fn make_layouts(
    device: &wgpu::Device,
    family: Family,
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
    let storage =
        family.bindings().iter().enumerate().map(|(i, &access)| wgpu::BindGroupLayoutEntry {
            binding: i as u32 + 1,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only: access == Access::Read },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        });
    let entries: Vec<_> = std::iter::once(params).chain(storage).collect();
    let bgl = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(family.name()),
        entries: &entries,
    });
    let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(family.name()),
        bind_group_layouts: &[Some(&bgl)],
        immediate_size: 0,
    });
    (bgl, layout)
}
