//! The GPU backend: the op set of `backend::Backend` as WGSL compute shaders (`shaders/`) run
//! through wgpu on Vulkan, Metal, DX12 or GL.
//!
//! Recording model. Ops do not run when called: each is recorded as one or two dispatches into
//! an open command encoder and compute pass, and the work is submitted only when the host must
//! read (`download`, `sync`) or after `RING_SLOTS` dispatches, which bounds the memory a long run
//! of recorded work takes. An epoch of steps is then a handful of submits and one readback (the
//! per-step costs); `gpu-dae bench` counts them.
//!
//! Kernels. Each op's host side is one file named by its stem (`gemm.rs` for `ops::Gemm`): its
//! kernels (`kernel::Kernel`: entry point, parameter struct, storage bindings) and its
//! `Run` impl, which checks the operands' sizes and records the dispatches.
//!
//! Per-dispatch parameters (sizes, offsets, α/β, RNG keys, cost slot) live in a uniform ring: a
//! dispatch appends its parameter block to a host-side array at the next slot (slots are
//! `min_uniform_buffer_offset_alignment` apart) and binds it with a dynamic offset; the array is
//! written with one `queue.write_buffer` just before the submit. That path is core WebGPU, so the
//! same code runs on every adapter (lavapipe included) with no optional feature.
//!
//! Buffers are never created per step: tensors are created by the model once, the training set
//! is uploaded once as packed u8 (`LoadBatch` takes a batch by offset), bind groups are cached by
//! buffer ids (and dropped with their buffers), pipelines are compiled once per kernel variant.
//! `counters` reports dispatches, submits, readbacks and bytes moved for `gpu-dae bench`.

mod affine;
mod col_sum;
mod context;
mod contractive;
mod corrupt;
mod count_positive;
mod dense_update;
mod gemm;
mod gemm_corrupt;
mod gemm_sq_err;
mod gemm_sum;
mod gemm_xent;
pub mod kernel;
mod load_batch;
mod load_gemm;
mod log_finish;
mod loss_elements;
mod noise;
mod profile;
mod softmax_nll;
mod sq_err;
mod xent_logits;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub use context::{AdapterRow, DeviceError, GpuOptions, list_adapters};
pub use gemm::{FILL, GemmKernel, GemmPath, GemmPlan, OUTER_MAX_K, ROWS_MAX_M, plan as gemm_plan};
pub use kernel::{KernelInfo, ShaderModuleSource};
pub use profile::DispatchTime;

use super::{Activation, Backend, Storage};
use kernel::{AnyKernel, Kernel, Kernels, PARAMS_BYTES, WgslType};

/// Dispatches recorded before a submit is forced; also the number of parameter slots in the
/// uniform ring (≤ 4096 × 256 B = 1 MiB).
const RING_SLOTS: usize = 4096;

/// The most storage bindings a kernel has (`gemm_sum_outer_bias`: a, b, a₂, b₂, c, cols, rows);
/// WebGPU's default limit is 8 a stage.
pub const MAX_BINDINGS: usize = 7;

/// Storage buffers are allocated in multiples of this (the kernels read tensors as vec4 arrays).
const BUFFER_ALIGN: u64 = 16;

/// Counts for `gpu-dae bench`, since the `Gpu` was created or `reset_counters` was last called.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GpuCounters {
    /// Compute dispatches recorded.
    pub dispatches: u64,
    /// Command buffers submitted to the queue.
    pub submits: u64,
    /// Buffers read back to the host (`download`).
    pub readbacks: u64,
    /// Bytes written host → device: uploads, the image set and the parameter ring.
    pub bytes_up: u64,
    /// The part of `bytes_up` that is per-dispatch parameter blocks (one aligned slot each,
    /// usually 256 B), as opposed to data.
    pub param_bytes: u64,
    /// Bytes read device → host.
    pub bytes_down: u64,
}

/// One recorded dispatch, for `gpu-dae bench` (`Gpu::log_dispatches`).
#[derive(Clone, Debug, PartialEq)]
pub struct DispatchRecord {
    /// The kernel's entry point.
    pub entry: &'static str,
    /// Its grid (x, y, z).
    pub groups: [u32; 3],
    /// Why a GEMM's grid is under `FILL` workgroups, when it is.
    pub fewer: Option<String>,
    /// Its time, when `time_dispatches` is on.
    pub time: DispatchTime,
    /// Useful floating-point operations (a GEMM's 2·m·n·k; 0 where not counted).
    pub flops: u64,
    /// Bytes its operands take in device memory, read and written once each (on the first
    /// dispatch of an op of several).
    pub bytes: u64,
}

impl DispatchRecord {
    /// Workgroups of the grid.
    pub fn workgroups(&self) -> u64 {
        self.groups.iter().map(|&g| u64::from(g)).product()
    }
}

/// A device buffer with an id for the bind-group cache; dropping it retires the bind groups that
/// use it.
struct Buf {
    raw: wgpu::Buffer,
    id: u64,
    dead: Arc<Mutex<Vec<u64>>>,
}

impl Drop for Buf {
    fn drop(&mut self) {
        if let Ok(mut dead) = self.dead.lock() {
            dead.push(self.id);
        }
    }
}

/// A flat f32 array in device memory.
pub struct GpuTensor {
    buf: Buf,
    len: usize,
}

impl GpuTensor {
    /// Number of f32 elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if the tensor holds no element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A u8 image set in device memory, four pixels to a u32 word: [n, dim].
pub struct GpuImages {
    buf: Buf,
    n: usize,
    dim: usize,
}

/// A u8 label set in device memory, four labels to a u32 word: [n].
pub struct GpuLabels {
    buf: Buf,
    n: usize,
}

/// The GPU backend: one wgpu device, its compiled kernels and the open command recorder.
pub struct Gpu {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: AdapterRow,
    /// The uniform ring of per-dispatch parameter blocks, `stride` bytes apart.
    ring: wgpu::Buffer,
    stride: usize,
    /// Ids of dropped buffers whose bind groups are still cached.
    dead: Arc<Mutex<Vec<u64>>>,
    next_id: AtomicU64,
    state: Mutex<State>,
    /// The first failure: set by wgpu's error and device-lost callbacks and by failed waits
    /// and maps (`Storage::failure`).
    failure: Arc<Mutex<Option<String>>>,
    /// `GPU_DAE_LOSE_DEVICE_AFTER`: the dispatch after which the device is destroyed, to test
    /// the failure path end to end.
    lose_after: Option<u64>,
}

/// The environment variable that makes every GEMM take one kernel family whatever its shape
/// (`tiled`, `split`, `rows`, `outer`; see `GemmPath`): for comparing the kernels on one
/// adapter with `gpu-dae bench`.
pub const GEMM_ENV: &str = "GPU_DAE_GEMM";

/// The environment variable that, set to `off`, keeps the kernels off the adapter's subgroup
/// operations (their workgroup-memory fallback runs instead, with the same bits).
pub const SUBGROUPS_ENV: &str = "GPU_DAE_SUBGROUPS";

/// The environment variable that, set to `off`, runs the fused minibatch ops (`load_gemm`,
/// `gemm_xent`, `gemm_sq_err`, `gemm_corrupt`) as the ops they fuse, each its own dispatch (the
/// costs still finished late): for measuring on one adapter what the fusion gains.
pub const FUSE_ENV: &str = "GPU_DAE_FUSE";

/// The environment variable that makes the GPU backend destroy its device after that many
/// dispatches, as a driver reset would: the tests' way to lose a device mid-run.
pub const LOSE_DEVICE_ENV: &str = "GPU_DAE_LOSE_DEVICE_AFTER";

/// The kernel family `GPU_DAE_GEMM` names, if set (a name it does not know is said, then
/// ignored).
fn forced_gemm() -> Option<GemmPath> {
    let name = std::env::var(GEMM_ENV).ok().filter(|v| !v.is_empty())?;
    let path = GemmPath::parse(&name);
    if path.is_none() {
        eprintln!("{GEMM_ENV}={name}: expected tiled, split, rows or outer; choosing by shape");
    }
    path
}

/// Whether `device` has subgroup operations.
fn has_subgroups(device: &wgpu::Device) -> bool {
    device.features().contains(wgpu::Features::SUBGROUP)
}

/// Keeps the first failure, as one line (wgpu's errors span several: "Validation Error",
/// "Caused by:", the cause).
fn record(failure: &Mutex<Option<String>>, what: String) {
    let mut slot = failure.lock().unwrap_or_else(|e| e.into_inner());
    if slot.is_none() {
        let parts: Vec<&str> = what.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        *slot = Some(parts.join(" "));
    }
}

/// Everything an op mutates, behind one lock.
struct State {
    kernels: Kernels,
    bind_groups: HashMap<(&'static str, [u64; MAX_BINDINGS]), wgpu::BindGroup>,
    rec: Recorder,
    counters: GpuCounters,
    /// The split-K GEMMs' partial products, grown as needed.
    partials: Option<Arc<Buf>>,
    /// The pending records of the per-step logs, by the id of the log they finish into.
    deferred: HashMap<u64, log_finish::Deferred>,
    /// MAP_READ buffer for `download`, grown as needed.
    staging: Option<wgpu::Buffer>,
    /// The GEMM kernel family every GEMM takes, for the tests (`force_gemm`).
    force_gemm: Option<GemmPath>,
    /// Whether kernels with a subgroup variant take it (`use_subgroups`).
    subgroups: bool,
    /// Whether the fused minibatch ops take their one-dispatch kernels (`use_fused`).
    fused: bool,
    /// The dispatches recorded since `log_dispatches(true)`, when on.
    log: Option<Vec<DispatchRecord>>,
    /// The log index of the last `dispatch` call's record; None when that call recorded
    /// nothing (after a failure), so no op's work is attached to another's.
    last_logged: Option<usize>,
    /// How logged dispatches are timed.
    timing: Timing,
}

/// How `Gpu::dispatch` times what it records.
enum Timing {
    Off,
    /// Timestamps around a pass per dispatch, into these queries.
    Timestamps(profile::Profiler),
    /// A submit and a wait per dispatch.
    Wall,
}

impl State {
    /// Attaches a GEMM plan's reason for a small grid to the logged dispatch `at` (the
    /// product's, the op's first).
    fn note_fewer(&mut self, at: usize, fewer: Option<String>) {
        if let Some(rec) = self.log.as_mut().and_then(|log| log.get_mut(at)) {
            rec.fewer = fewer;
        }
    }

    /// Attaches the useful work of the op just recorded to its first logged dispatch, index
    /// `first` (none when nothing was logged).
    fn note_work(&mut self, first: usize, flops: u64, bytes: u64) {
        if let Some(log) = self.log.as_mut()
            && let Some(head) = log.get_mut(first)
        {
            head.flops = flops;
            head.bytes = bytes;
        }
    }

    /// Attaches the bytes an op's operands take to the last logged dispatch (for an op of one
    /// dispatch; `note_work` for more).
    fn note_bytes(&mut self, bytes: usize) {
        if let Some(last) = self.last_logged {
            self.note_work(last, 0, bytes as u64);
        }
    }

    /// The index the next logged dispatch will have.
    fn log_len(&self) -> usize {
        self.log.as_ref().map_or(0, Vec::len)
    }
}

/// The open command encoder and compute pass, and this submit's parameter blocks.
#[derive(Default)]
struct Recorder {
    pass: Option<wgpu::ComputePass<'static>>,
    encoder: Option<wgpu::CommandEncoder>,
    params: Vec<u8>,
    last_submit: Option<wgpu::SubmissionIndex>,
}

impl Recorder {
    fn encoder(&mut self, device: &wgpu::Device) -> &mut wgpu::CommandEncoder {
        // A pass locks its encoder; end it before recording anything else.
        self.pass = None;
        self.encoder.get_or_insert_with(|| {
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("ops") })
        })
    }

    /// A new pass for one dispatch, with `writes` around it.
    fn timed_pass(
        &mut self,
        device: &wgpu::Device,
        writes: wgpu::ComputePassTimestampWrites<'_>,
    ) -> &mut wgpu::ComputePass<'static> {
        let pass = self
            .encoder(device)
            .begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("timed op"),
                timestamp_writes: Some(writes),
            })
            .forget_lifetime();
        self.pass.insert(pass)
    }

    fn pass(&mut self, device: &wgpu::Device) -> &mut wgpu::ComputePass<'static> {
        if self.pass.is_none() {
            let pass = self
                .encoder(device)
                .begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("ops"),
                    timestamp_writes: None,
                })
                .forget_lifetime();
            self.pass = Some(pass);
        }
        self.pass.as_mut().expect("pass just opened")
    }
}

/// Workgroups for `len` elements at 256 per workgroup, as (x, y) under the 65 535 per-dimension
/// limit; the 1-D kernels compute their index as (wid.y · nwg.x + wid.x) · 256 + lane.
fn grid_1d(len: usize) -> [u32; 3] {
    let groups = len.div_ceil(256).max(1);
    let x = groups.min(65_535);
    [x as u32, groups.div_ceil(x) as u32, 1]
}

/// `v` as a u32 kernel parameter; the kernels index with u32.
fn u32_of(v: usize, what: &str) -> u32 {
    u32::try_from(v).unwrap_or_else(|_| panic!("{what} = {v} exceeds the GPU kernels' u32 range"))
}

impl Gpu {
    /// Opens the adapter chosen by `opts` (see `GpuOptions`) and prepares the uniform ring.
    pub fn new(opts: &GpuOptions) -> Result<Gpu, DeviceError> {
        let context::Device { info, device, queue } = context::open(opts)?;
        let align = device.limits().min_uniform_buffer_offset_alignment as usize;
        let stride = (PARAMS_BYTES as usize).next_multiple_of(align);
        let ring = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("params ring"),
            size: (RING_SLOTS * stride) as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let failure = Arc::new(Mutex::new(None));
        let seen = Arc::clone(&failure);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| record(&seen, e.to_string())));
        let seen = Arc::clone(&failure);
        device.set_device_lost_callback(move |reason, msg| {
            let msg = if msg.is_empty() { String::new() } else { format!(": {msg}") };
            record(&seen, format!("device lost ({reason:?}){msg}"));
        });
        let lose_after = std::env::var(LOSE_DEVICE_ENV).ok().and_then(|v| v.parse().ok());
        let dead = Arc::new(Mutex::new(Vec::new()));
        let state = State {
            kernels: Kernels::default(),
            bind_groups: HashMap::new(),
            rec: Recorder::default(),
            counters: GpuCounters::default(),
            partials: None,
            deferred: HashMap::new(),
            staging: None,
            force_gemm: forced_gemm(),
            subgroups: has_subgroups(&device)
                && std::env::var(SUBGROUPS_ENV).ok().is_none_or(|v| v != "off"),
            fused: std::env::var(FUSE_ENV).ok().is_none_or(|v| v != "off"),
            log: None,
            last_logged: None,
            timing: Timing::Off,
        };
        Ok(Gpu {
            device,
            queue,
            info,
            ring,
            stride,
            dead,
            next_id: AtomicU64::new(1),
            state: Mutex::new(state),
            failure,
            lose_after,
        })
    }

    /// The adapter this backend runs on.
    pub fn adapter_info(&self) -> AdapterRow {
        self.info.clone()
    }

    /// Counts since creation or the last `reset_counters`.
    pub fn counters(&self) -> GpuCounters {
        self.lock().counters
    }

    /// Zeroes the counters.
    pub fn reset_counters(&self) {
        self.lock().counters = GpuCounters::default();
    }

    /// Makes every GEMM take the kernel family `path` whatever its shape (`None`: by shape, as
    /// `gemm_plan` chooses), so the tests reach every kernel with every shape.
    pub fn force_gemm(&self, path: Option<GemmPath>) {
        self.lock().force_gemm = path;
    }

    /// Whether the device was opened with subgroup operations (the adapter has them).
    pub fn has_subgroups(&self) -> bool {
        has_subgroups(&self.device)
    }

    /// Lets the fused minibatch ops take their one-dispatch kernels (`true`, the default
    /// unless `GPU_DAE_FUSE=off`) or runs each as the ops it fuses (`false`).
    pub fn use_fused(&self, on: bool) {
        self.lock().fused = on;
    }

    /// Lets the kernels with a subgroup variant use it (`true`, where the device has
    /// subgroups) or keeps them on their workgroup-memory fallback (`false`), so the tests reach
    /// both on one adapter; returns whether subgroups are now in use.
    pub fn use_subgroups(&self, on: bool) -> bool {
        let on = on && self.has_subgroups();
        self.lock().subgroups = on;
        on
    }

    /// Starts (`true`) or stops logging each dispatch's kernel and grid; starting clears the log.
    /// Stopping also stops `time_dispatches`.
    pub fn log_dispatches(&self, on: bool) {
        let mut st = self.lock();
        self.submit(&mut st);
        st.log = on.then(Vec::new);
        st.timing = Timing::Off;
    }

    /// Starts logging as `log_dispatches(true)` does, each dispatch timed: with timestamp
    /// queries where the adapter has them (returns true), else by a submit and wait per
    /// dispatch (returns false). Timing changes how work is recorded: for measuring, not
    /// training.
    pub fn time_dispatches(&self) -> bool {
        let stamps = self.device.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let mut st = self.lock();
        self.submit(&mut st);
        st.log = Some(Vec::new());
        st.timing = if stamps {
            Timing::Timestamps(profile::Profiler::new(&self.device, &self.queue))
        } else {
            Timing::Wall
        };
        stamps
    }

    /// The dispatches logged since `log_dispatches(true)`, in order.
    pub fn dispatch_log(&self) -> Vec<DispatchRecord> {
        self.lock().log.clone().unwrap_or_default()
    }

    /// Submits all recorded work and waits until the device has finished it (for timing).
    pub fn sync(&self) {
        let mut st = self.lock();
        self.submit(&mut st);
        self.wait();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for the queue; a failure is recorded, not raised.
    fn wait(&self) {
        if let Err(e) = self.device.poll(wgpu::PollType::wait_indefinitely()) {
            self.fail(format!("waiting for the queue: {e}"));
        }
    }

    /// Records a failure (the first one is kept).
    fn fail(&self, what: String) {
        record(&self.failure, what);
    }

    /// Whether a failure has been recorded: ops then record nothing.
    fn failed(&self) -> bool {
        self.failure.lock().map_or(true, |f| f.is_some())
    }

    /// A storage buffer of at least `bytes` (rounded up to 16), zeroed unless `init` is given.
    fn buffer(&self, label: &str, bytes: usize, init: Option<&[u8]>) -> Buf {
        let size = (bytes as u64).next_multiple_of(BUFFER_ALIGN).max(BUFFER_ALIGN);
        let raw = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: init.is_some(),
        });
        if let Some(data) = init {
            let mut padded = data.to_vec();
            padded.resize(size as usize, 0);
            match raw.get_mapped_range_mut(..) {
                Ok(mut view) => view.copy_from_slice(&padded),
                Err(e) => self.fail(format!("uploading {label} ({size} bytes): {e}")),
            }
            raw.unmap();
            self.lock().counters.bytes_up += size;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        Buf { raw, id, dead: Arc::clone(&self.dead) }
    }

    /// The scratch buffer of at least `len` f32 for the split-K GEMMs' partial products.
    fn partials(&self, st: &mut State, len: usize) -> Arc<Buf> {
        if st.partials.as_ref().is_none_or(|p| p.raw.size() < (len * 4) as u64) {
            let bytes = len.next_power_of_two().max(4) * 4;
            st.partials = Some(Arc::new(self.buffer("partials", bytes, None)));
        }
        Arc::clone(st.partials.as_ref().expect("allocated above"))
    }

    /// The cached bind group of `kernel` over `bufs` (its storage bindings in order; binding 0
    /// is the ring).
    fn bind_group<P>(&self, st: &mut State, kernel: &Kernel<P>, bufs: &[&Buf]) -> wgpu::BindGroup {
        let dead: Vec<u64> =
            std::mem::take(&mut *self.dead.lock().unwrap_or_else(|e| e.into_inner()));
        if !dead.is_empty() {
            st.bind_groups.retain(|(_, ids), _| !ids.iter().any(|id| dead.contains(id)));
            st.deferred.retain(|id, _| !dead.contains(id));
        }
        assert!(bufs.len() <= MAX_BINDINGS, "{}: more buffers than MAX_BINDINGS", kernel.entry);
        let mut ids = [0u64; MAX_BINDINGS];
        for (slot, b) in ids.iter_mut().zip(bufs) {
            *slot = b.id;
        }
        if let Some(bg) = st.bind_groups.get(&(kernel.entry, ids)) {
            return bg.clone();
        }
        let ring = wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &self.ring,
                offset: 0,
                size: wgpu::BufferSize::new(PARAMS_BYTES),
            }),
        };
        let entries: Vec<_> = std::iter::once(ring)
            .chain(kernel.bindings.iter().zip(bufs).map(|(binding, b)| wgpu::BindGroupEntry {
                binding: binding.slot,
                resource: b.raw.as_entire_binding(),
            }))
            .collect();
        let layout = st.kernels.bind_group_layout(&self.device, kernel);
        let bg = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(kernel.entry),
            layout,
            entries: &entries,
        });
        st.bind_groups.insert((kernel.entry, ids), bg.clone());
        bg
    }

    /// Records one dispatch of `kernel` (with the values of its override constants, in order)
    /// over `bufs` (its storage bindings in order) with the parameter block `params`.
    fn dispatch<P: WgslType>(
        &self,
        st: &mut State,
        (kernel, overrides): (&Kernel<P>, &[u32]),
        params: &P,
        bufs: &[&Buf],
        groups: [u32; 3],
    ) {
        assert_eq!(bufs.len(), kernel.bindings.len(), "{}: wrong number of buffers", kernel.entry);
        st.last_logged = None;
        if self.failed() {
            return;
        }
        // A log with pending records is finished before anything else touches it.
        if !st.deferred.is_empty() {
            for b in bufs {
                self.finish_deferred(st, b);
            }
        }
        if self.lose_after == Some(st.counters.dispatches) {
            self.device.destroy();
        }
        let block = bytemuck::bytes_of(params);
        assert!(block.len() <= PARAMS_BYTES as usize, "{}: parameter block too big", kernel.entry);
        if st.rec.params.len() == RING_SLOTS * self.stride {
            self.submit(st);
        }
        let offset = st.rec.params.len();
        st.rec.params.extend_from_slice(block);
        st.rec.params.resize(offset + self.stride, 0);
        let bind_group = self.bind_group(st, kernel, bufs);
        let pipeline = st.kernels.pipeline(&self.device, kernel, overrides).clone();
        let index = st.log_len();
        st.last_logged = st.log.is_some().then_some(index);
        if let Some(log) = st.log.as_mut() {
            let time = DispatchTime::None;
            log.push(DispatchRecord {
                entry: kernel.entry,
                groups,
                fewer: None,
                time,
                flops: 0,
                bytes: 0,
            });
        }
        st.counters.dispatches += 1;
        let State { rec, timing, .. } = st;
        let pass = match timing {
            Timing::Timestamps(prof) => rec.timed_pass(&self.device, prof.writes()),
            Timing::Off | Timing::Wall => rec.pass(&self.device),
        };
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[offset as u32]);
        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
        match &mut st.timing {
            Timing::Off => {}
            Timing::Timestamps(prof) => {
                // A pass per dispatch: its timestamps bracket this dispatch alone.
                st.rec.pass = None;
                prof.pending.push(index);
                if prof.pending.len() == profile::PAIRS as usize {
                    self.submit(st);
                }
            }
            Timing::Wall => {
                let t = std::time::Instant::now();
                self.submit(st);
                self.wait();
                let ns = t.elapsed().as_secs_f64() * 1e9;
                if let Some(rec) = st.log.as_mut().and_then(|log| log.get_mut(index)) {
                    rec.time = DispatchTime::Wall(ns);
                }
            }
        }
    }

    /// Submits the recorded work (parameter ring first). At most two submits are in flight: this
    /// waits for the previous one, which bounds how far the host runs ahead of the device.
    fn submit(&self, st: &mut State) {
        st.rec.pass = None;
        let Some(encoder) = st.rec.encoder.take() else {
            return;
        };
        if self.failed() {
            // The device is gone: the recorded work is dropped, never submitted.
            st.rec.params.clear();
            return;
        }
        if !st.rec.params.is_empty() {
            self.queue.write_buffer(&self.ring, 0, &st.rec.params);
            st.counters.bytes_up += st.rec.params.len() as u64;
            st.counters.param_bytes += st.rec.params.len() as u64;
            st.rec.params.clear();
        }
        if let Some(previous) = st.rec.last_submit.take() {
            let wait = wgpu::PollType::Wait { submission_index: Some(previous), timeout: None };
            if let Err(e) = self.device.poll(wait) {
                self.fail(format!("waiting for submit {}: {e}", st.counters.submits));
            }
        }
        let mut encoder = encoder;
        if let Timing::Timestamps(prof) = &st.timing {
            prof.resolve(&mut encoder);
        }
        st.rec.last_submit = Some(self.queue.submit([encoder.finish()]));
        st.counters.submits += 1;
        if let Timing::Timestamps(prof) = &mut st.timing {
            for (i, ns) in prof.collect(&self.device) {
                if let Some(rec) = st.log.as_mut().and_then(|log| log.get_mut(i)) {
                    rec.time = DispatchTime::Gpu(ns);
                }
            }
        }
    }
}

impl Drop for Gpu {
    fn drop(&mut self) {
        // End the pass before its encoder goes; unsubmitted work is discarded.
        let st = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        st.rec.pass = None;
    }
}

impl Storage for Gpu {
    type Tensor = GpuTensor;
    type Images = GpuImages;
    type Labels = GpuLabels;

    fn describe(&self) -> String {
        let soft = if self.info.is_software { ", software" } else { "" };
        format!("gpu ({}, {}{soft})", self.info.name, self.info.backend)
    }

    fn failure(&self) -> Option<String> {
        let what = self.failure.lock().map_or_else(|e| e.into_inner().clone(), |f| f.clone())?;
        Some(format!("GPU {} ({}) failed: {what}", self.info.name, self.info.backend))
    }

    fn zeros(&self, len: usize) -> GpuTensor {
        GpuTensor { buf: self.buffer("tensor", len * 4, None), len }
    }

    fn upload(&self, host: &[f32]) -> GpuTensor {
        let buf = self.buffer("tensor", host.len() * 4, Some(bytemuck::cast_slice(host)));
        GpuTensor { buf, len: host.len() }
    }

    fn download(&self, t: &GpuTensor) -> Vec<f32> {
        if self.failed() {
            return vec![f32::NAN; t.len];
        }
        let bytes = (t.len * 4) as u64;
        let mut st = self.lock();
        self.finish_deferred(&mut st, &t.buf);
        if bytes == 0 {
            self.submit(&mut st);
            return Vec::new();
        }
        let staging = match &st.staging {
            Some(s) if s.size() >= bytes => s.clone(),
            _ => {
                let s = self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("readback"),
                    size: bytes.next_power_of_two().max(256),
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                st.staging = Some(s.clone());
                s
            }
        };
        st.rec.encoder(&self.device).copy_buffer_to_buffer(&t.buf.raw, 0, &staging, 0, bytes);
        self.submit(&mut st);
        let slice = staging.slice(..bytes);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait();
        if self.failed() {
            // The copy may not have run (the submit that held it was dropped).
            return vec![f32::NAN; t.len];
        }
        let mapped = match rx.try_recv() {
            Ok(Ok(())) => slice.get_mapped_range().ok(),
            Ok(Err(e)) => {
                self.fail(format!("reading back {bytes} bytes: {e}"));
                None
            }
            Err(_) => {
                self.fail(format!("reading back {bytes} bytes: the map never completed"));
                None
            }
        };
        let Some(view) = mapped else {
            return vec![f32::NAN; t.len];
        };
        let out = bytemuck::cast_slice::<u8, f32>(&view).to_vec();
        drop(view);
        staging.unmap();
        st.counters.readbacks += 1;
        st.counters.bytes_down += bytes;
        out
    }

    fn upload_images(&self, pixels: &[u8], dim: usize) -> GpuImages {
        assert!(
            dim > 0 && pixels.len().is_multiple_of(dim),
            "upload_images: {} bytes is not [n, {dim}]",
            pixels.len()
        );
        u32_of(pixels.len(), "image set bytes");
        let max = self.device.limits().max_storage_buffer_binding_size;
        assert!(
            pixels.len() as u64 <= max,
            "upload_images: {} bytes exceed the adapter's largest storage binding ({max} bytes)",
            pixels.len()
        );
        let buf = self.buffer("images", pixels.len(), Some(pixels));
        GpuImages { buf, n: pixels.len() / dim, dim }
    }

    fn upload_labels(&self, labels: &[u8]) -> GpuLabels {
        u32_of(labels.len(), "label set bytes");
        GpuLabels { buf: self.buffer("labels", labels.len(), Some(labels)), n: labels.len() }
    }
}

impl Backend for Gpu {}

/// Every kernel of the GPU backend, by op.
const KERNELS: &[&[&dyn AnyKernel]] = &[
    load_batch::KERNELS,
    load_gemm::KERNELS,
    corrupt::KERNELS,
    gemm::KERNELS,
    gemm_sum::KERNELS,
    gemm_corrupt::KERNELS,
    gemm_sq_err::KERNELS,
    gemm_xent::KERNELS,
    xent_logits::KERNELS,
    sq_err::KERNELS,
    count_positive::KERNELS,
    dense_update::KERNELS,
    softmax_nll::KERNELS,
    col_sum::KERNELS,
    contractive::KERNELS,
    affine::KERNELS,
    log_finish::KERNELS,
];

/// Every kernel of the GPU backend, for the tests (`tests/shaders.rs`).
pub fn kernels() -> Vec<KernelInfo> {
    KERNELS.iter().copied().flatten().map(|k| k.info()).collect()
}

/// Every shader module the GPU backend compiles, exactly as it compiles them, for validation
/// without an adapter.
pub fn shader_modules() -> Vec<ShaderModuleSource> {
    let all: Vec<&dyn AnyKernel> = KERNELS.iter().copied().flatten().copied().collect();
    kernel::modules_of(&all)
}

/// The codes the host passes to the shaders for the enums they share, with the shader file
/// that declares each as a WGSL constant: (file, constant, value).
pub fn wgsl_codes() -> Vec<(&'static str, &'static str, u32)> {
    let activations =
        ACTIVATIONS.iter().map(|&a| ("activation.wgsl", activation_constant(a), a as u32));
    let noise = noise::KINDS.iter().map(|&k| ("noise.wgsl", k.constant(), k as u32));
    let salt = ("noise.wgsl", "GAUSS_SALT", crate::rng::GAUSS_SALT);
    activations.chain(noise).chain(std::iter::once(salt)).collect()
}

/// Every activation; the code the kernels get is the discriminant, `act as u32`.
const ACTIVATIONS: [Activation; 3] = [Activation::Identity, Activation::Sigmoid, Activation::Relu];

/// The WGSL constant of an activation's code (shaders/activation.wgsl). A new activation is a
/// new arm here (the match is exhaustive), an entry of `ACTIVATIONS` and its WGSL constant.
fn activation_constant(a: Activation) -> &'static str {
    match a {
        Activation::Identity => "ACT_IDENTITY",
        Activation::Sigmoid => "ACT_SIGMOID",
        Activation::Relu => "ACT_RELU",
    }
}
