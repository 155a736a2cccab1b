//! Adapter discovery and device creation: which adapters exist (`gpu-dae devices`), which one a
//! run uses (`GpuOptions`), and why none could be used (`DeviceError`).

use thiserror::Error;

/// The least a usable adapter must offer: compute shaders, 256 invocations per workgroup (the
/// kernels' workgroup size) and as many storage buffers per stage as a kernel binds
/// (`MAX_BINDINGS`; WebGPU's default limit is 8).
const MIN_INVOCATIONS: u32 = 256;
const MIN_STORAGE_BUFFERS: u32 = super::MAX_BINDINGS as u32;

/// One row of `gpu-dae devices`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterRow {
    /// The adapter's name, e.g. "NVIDIA GeForce RTX 3060" or "llvmpipe (LLVM 15.0.6, 256 bits)".
    pub name: String,
    /// "DiscreteGpu", "IntegratedGpu", "VirtualGpu", "Cpu" or "Other".
    pub device_type: String,
    /// The graphics API wgpu drives it through: "vulkan", "metal", "dx12" or "gl".
    pub backend: String,
    /// Driver name and version as reported, e.g. "llvmpipe Mesa 22.3.6 (LLVM 15.0.6)".
    pub driver: String,
    /// A software rasteriser running on the CPU (device type `Cpu`, or a known software driver:
    /// llvmpipe/lavapipe, SwiftShader, WARP); used only when asked for with `--backend gpu`.
    pub is_software: bool,
}

impl AdapterRow {
    pub(super) fn from_info(info: &wgpu::AdapterInfo) -> Self {
        let driver = match (info.driver.is_empty(), info.driver_info.is_empty()) {
            (false, false) => format!("{} {}", info.driver, info.driver_info),
            (false, true) => info.driver.clone(),
            (true, _) => info.driver_info.clone(),
        };
        AdapterRow {
            name: info.name.clone(),
            device_type: format!("{:?}", info.device_type),
            backend: info.backend.to_str().to_string(),
            driver,
            is_software: is_software(info),
        }
    }
}

/// Which adapter `Gpu::new` opens.
#[derive(Clone, Debug, Default)]
pub struct GpuOptions {
    /// Only adapters whose name contains this, case-insensitively (`--adapter`); None = any.
    pub adapter: Option<String>,
    /// Accept a software adapter (llvmpipe …) when no hardware one matches (`--backend gpu`).
    pub allow_software: bool,
}

/// Why no GPU device could be opened.
#[derive(Debug, Error)]
pub enum DeviceError {
    /// No adapter able to run the kernels (compute shaders, workgroups of 256, `MAX_BINDINGS`
    /// storage buffers per stage).
    #[error(
        "no GPU adapter able to run compute shaders was found (searched {searched}){}",
        unusable_note(.unusable)
    )]
    NoAdapter {
        /// The APIs searched, e.g. "Vulkan, Metal, DX12, then GL" or "WGPU_BACKEND=metal".
        searched: String,
        /// Adapters that exist but lack what the kernels need, with the reason.
        unusable: Vec<String>,
    },
    /// Only software adapters were found and `allow_software` was false.
    #[error(
        "found only software adapters ({}); use --backend gpu to run on them anyway",
        .found.join(", ")
    )]
    OnlySoftware {
        /// Names of the software adapters found.
        found: Vec<String>,
    },
    /// No usable adapter's name contains the requested substring.
    #[error(
        "no usable GPU adapter matches --adapter {wanted:?}; available: {}",
        if .available.is_empty() { "none".to_string() } else { .available.join(", ") }
    )]
    NoMatch {
        /// The substring asked for.
        wanted: String,
        /// Names of the usable adapters.
        available: Vec<String>,
    },
    /// The adapter refused to create a device.
    #[error("adapter {adapter:?} could not create a device: {source}")]
    RequestDevice {
        /// Name of the adapter.
        adapter: String,
        /// wgpu's reason.
        #[source]
        source: wgpu::RequestDeviceError,
    },
}

fn unusable_note(unusable: &[String]) -> String {
    if unusable.is_empty() {
        String::new()
    } else {
        format!(" (unusable: {})", unusable.join("; "))
    }
}

/// Device type `Cpu`, or a software driver that reports itself as something else.
fn is_software(info: &wgpu::AdapterInfo) -> bool {
    let name = info.name.to_lowercase();
    info.device_type == wgpu::DeviceType::Cpu
        || ["llvmpipe", "lavapipe", "softpipe", "swiftshader", "basic render driver"]
            .iter()
            .any(|s| name.contains(s))
}

/// Why an adapter cannot run the kernels, or None if it can.
fn unusable_reason(adapter: &wgpu::Adapter) -> Option<String> {
    let caps = adapter.get_downlevel_capabilities();
    let limits = adapter.limits();
    if !caps.flags.contains(wgpu::DownlevelFlags::COMPUTE_SHADERS) {
        Some("no compute shaders".into())
    } else if limits.max_compute_invocations_per_workgroup < MIN_INVOCATIONS
        || limits.max_compute_workgroup_size_x < MIN_INVOCATIONS
    {
        Some(format!(
            "{} invocations per workgroup, {MIN_INVOCATIONS} needed",
            limits.max_compute_invocations_per_workgroup
        ))
    } else if limits.max_storage_buffers_per_shader_stage < MIN_STORAGE_BUFFERS {
        Some(format!(
            "{} storage buffers per stage, {MIN_STORAGE_BUFFERS} needed",
            limits.max_storage_buffers_per_shader_stage
        ))
    } else {
        None
    }
}

/// Preference order: discrete, integrated, virtual, other, software; then native APIs over GL.
fn rank(info: &wgpu::AdapterInfo) -> (u8, u8) {
    let kind = if is_software(info) {
        4
    } else {
        match info.device_type {
            wgpu::DeviceType::DiscreteGpu => 0,
            wgpu::DeviceType::IntegratedGpu => 1,
            wgpu::DeviceType::VirtualGpu => 2,
            wgpu::DeviceType::Other => 3,
            wgpu::DeviceType::Cpu => 4,
        }
    };
    let api = u8::from(info.backend == wgpu::Backend::Gl);
    (kind, api)
}

/// The adapters of `backends` (narrowed further by `WGPU_BACKEND` when set).
fn enumerate(backends: wgpu::Backends) -> Vec<wgpu::Adapter> {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends &= backends;
    if desc.backends.is_empty() {
        return Vec::new();
    }
    let chosen = desc.backends;
    let instance = wgpu::Instance::new(desc);
    pollster::block_on(instance.enumerate_adapters(chosen))
}

/// The adapters a run may use: those of the native APIs (Vulkan, Metal, DX12), or, only when
/// there are none, those of GL (a fallback: the same llvmpipe or GPU, through a slower path).
fn adapters() -> Vec<wgpu::Adapter> {
    let native = enumerate(wgpu::Backends::PRIMARY);
    if native.is_empty() { enumerate(wgpu::Backends::SECONDARY) } else { native }
}

/// Every adapter a run may choose from, usable or not, best first: the rows of
/// `gpu-dae devices`. GL adapters appear only where no native one exists.
pub fn list_adapters() -> Vec<AdapterRow> {
    let mut adapters = adapters();
    adapters.sort_by_key(|a| rank(&a.get_info()));
    adapters.iter().map(|a| AdapterRow::from_info(&a.get_info())).collect()
}

/// An open device: the adapter's description, the device and its queue.
pub(super) struct Device {
    pub info: AdapterRow,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
}

/// Opens the best adapter allowed by `opts` (see `GpuOptions`).
pub(super) fn open(opts: &GpuOptions) -> Result<Device, DeviceError> {
    let mut unusable = Vec::new();
    let mut usable = Vec::new();
    for adapter in adapters() {
        let info = adapter.get_info();
        match unusable_reason(&adapter) {
            Some(why) => unusable.push(format!("{} ({}): {why}", info.name, info.backend)),
            None => usable.push(adapter),
        }
    }
    if usable.is_empty() {
        let searched = match std::env::var("WGPU_BACKEND") {
            Ok(v) => format!("WGPU_BACKEND={v}"),
            Err(_) => "Vulkan, Metal, DX12, then GL".to_string(),
        };
        return Err(DeviceError::NoAdapter { searched, unusable });
    }
    usable.sort_by_key(|a| rank(&a.get_info()));
    if let Some(wanted) = &opts.adapter {
        let needle = wanted.to_lowercase();
        let available: Vec<String> = usable.iter().map(|a| a.get_info().name).collect();
        usable.retain(|a| a.get_info().name.to_lowercase().contains(&needle));
        if usable.is_empty() {
            return Err(DeviceError::NoMatch { wanted: wanted.clone(), available });
        }
    }
    let adapter = &usable[0];
    let info = adapter.get_info();
    if is_software(&info) && !opts.allow_software {
        let found = usable.iter().map(|a| a.get_info().name).collect();
        return Err(DeviceError::OnlySoftware { found });
    }
    let desc = wgpu::DeviceDescriptor {
        label: Some("gpu-dae"),
        // Timestamps, where there are any, for `gpu-dae bench`'s per-kernel times; subgroups,
        // where there are any, for the kernels' row sums (`dense_update`).
        required_features: adapter.features()
            & (wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::SUBGROUP),
        // The adapter's own limits: the image set is one storage binding (50 000 × 784 bytes).
        required_limits: adapter.limits(),
        ..Default::default()
    };
    let (device, queue) = pollster::block_on(adapter.request_device(&desc))
        .map_err(|source| DeviceError::RequestDevice { adapter: info.name.clone(), source })?;
    Ok(Device { info: AdapterRow::from_info(&info), device, queue })
}
