//! Per-dispatch GPU time for `gpu-dae bench` (`Gpu::time_dispatches`). On an adapter with
//! timestamp queries each dispatch is recorded in a compute pass of its own whose beginning and
//! end write a timestamp pair; the pairs are resolved and read back at each submit. Without
//! them each dispatch is submitted alone and waited for: the wall time of a submit, not the
//! kernel's, and `DispatchTime::Wall` says so.

/// Timestamp pairs a query set holds (wgpu's limit is 4096 queries); a submit is forced when
/// they are used up.
pub(super) const PAIRS: u32 = 2048;

/// How a logged dispatch was timed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DispatchTime {
    /// Not timed.
    None,
    /// Nanoseconds between the timestamps around its pass, on the GPU's clock.
    Gpu(f64),
    /// Nanoseconds from its submit to the queue's completion, on the host's clock.
    Wall(f64),
}

impl DispatchTime {
    /// The nanoseconds, however taken; 0 when not timed.
    pub fn ns(self) -> f64 {
        match self {
            DispatchTime::Gpu(ns) | DispatchTime::Wall(ns) => ns,
            DispatchTime::None => 0.0,
        }
    }
}

/// The timestamp queries of the dispatches recorded since the last submit.
pub(super) struct Profiler {
    queries: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    read: wgpu::Buffer,
    /// The log index of each pair in flight, in pair order.
    pub pending: Vec<usize>,
    /// Nanoseconds per timestamp tick.
    period_ns: f64,
}

impl Profiler {
    pub(super) fn new(device: &wgpu::Device, queue: &wgpu::Queue) -> Profiler {
        let queries = device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("dispatch timestamps"),
            ty: wgpu::QueryType::Timestamp,
            count: 2 * PAIRS,
        });
        let bytes = u64::from(2 * PAIRS) * 8;
        let buffer = |label, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage,
                mapped_at_creation: false,
            })
        };
        let resolve =
            buffer("timestamps", wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC);
        let read =
            buffer("timestamps read", wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST);
        let period_ns = f64::from(queue.get_timestamp_period());
        Profiler { queries, resolve, read, pending: Vec::new(), period_ns }
    }

    /// The timestamp writes around the pass of the next dispatch (pair `pending.len()`).
    pub(super) fn writes(&self) -> wgpu::ComputePassTimestampWrites<'_> {
        let q = self.pending.len() as u32;
        wgpu::ComputePassTimestampWrites {
            query_set: &self.queries,
            beginning_of_pass_write_index: Some(2 * q),
            end_of_pass_write_index: Some(2 * q + 1),
        }
    }

    /// Records the resolve of the pending pairs into `encoder`, before its submit.
    pub(super) fn resolve(&self, encoder: &mut wgpu::CommandEncoder) {
        let n = self.pending.len() as u32;
        if n > 0 {
            encoder.resolve_query_set(&self.queries, 0..2 * n, &self.resolve, 0);
            encoder.copy_buffer_to_buffer(&self.resolve, 0, &self.read, 0, u64::from(n) * 16);
        }
    }

    /// After the submit that resolved them has completed: the pending dispatches' durations as
    /// (log index, nanoseconds), and no pair pending.
    pub(super) fn collect(&mut self, device: &wgpu::Device) -> Vec<(usize, f64)> {
        let n = self.pending.len();
        if n == 0 {
            return Vec::new();
        }
        let slice = self.read.slice(..n as u64 * 16);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        let mapped = device.poll(wgpu::PollType::wait_indefinitely()).is_ok()
            && matches!(rx.recv(), Ok(Ok(())));
        let view = if mapped { slice.get_mapped_range().ok() } else { None };
        let ticks: Vec<u64> = match view {
            Some(view) => {
                let ticks = bytemuck::cast_slice::<u8, u64>(&view).to_vec();
                drop(view);
                self.read.unmap();
                ticks
            }
            None => vec![0; 2 * n],
        };
        let period = self.period_ns;
        self.pending
            .drain(..)
            .zip(ticks.chunks(2))
            .map(|(i, t)| (i, t[1].saturating_sub(t[0]) as f64 * period))
            .collect()
    }
}
