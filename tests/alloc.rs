//! The training steps allocate nothing once warm: a counting allocator (installed for this
//! test binary) counts the heap allocations the current thread makes while steps run. At
//! batch 1 every GEMM runs on the calling thread (below the CPU backend's parallel threshold),
//! so the count covers the whole step.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use gpu_dae::backend::Storage;
use gpu_dae::backend::cpu::Cpu;
use gpu_dae::model::sda::LayerKind;
use gpu_dae::model::{FinetuneScope, Sda, SdaConfig, Step};
use gpu_dae::rng::RngKey;

use crate::util::uniforms;

/// `System`, counting the allocations of each thread.
pub struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to `System` unchanged; the counter is a thread-local `Cell`
// that never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract is `System::alloc`'s.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is `System::dealloc`'s.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract is `System::realloc`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations this thread makes while `f` runs.
fn allocations_in(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn sda_steps_at_batch_1_allocate_nothing() {
    let be = Cpu::new();
    let (vis, n) = (784, 8);
    let config = SdaConfig {
        n_in: vis,
        hidden: vec![100, 50],
        corruption: vec![0.1, 0.2],
        n_out: 10,
        layer: LayerKind::Da,
        contraction: 0.0,
    };
    let pixels: Vec<u8> = uniforms(1, n * vis, 0.0, 256.0).iter().map(|&p| p as u8).collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    let (images, labels) = (be.upload_images(&pixels, vis), be.upload_labels(&labels));
    let mut sda = Sda::new(&be, config, 1);
    let mut ws = sda.workspace(&be, 1, n);
    let mut layer_ws: Vec<_> = (0..2).map(|k| sda.layer_workspace(&be, k, 1, n)).collect();
    let mut steps = |sda: &mut Sda<Cpu>| {
        for i in 0..n {
            for (k, dws) in layer_ws.iter_mut().enumerate() {
                let step = Step { first: i, key: RngKey::new(1, i as u64), lr: 0.01, slot: i };
                sda.pretrain_step(&be, k, &mut ws, dws, &images, step);
            }
            let step = Step { first: i, key: RngKey::UNUSED, lr: 0.1, slot: i };
            sda.finetune_step(&be, &mut ws, &images, &labels, step, FinetuneScope::Full);
        }
    };
    // Warm-up: the CPU backend's scratch buffers grow to size (so the counter is seen counting).
    let warm_up = allocations_in(|| steps(&mut sda));
    assert!(warm_up > 0, "the warm-up allocates its scratch, and the counter must see it");
    let count = allocations_in(|| steps(&mut sda));
    assert_eq!(count, 0, "{count} allocations in {n} pretraining + fine-tuning steps");
}
