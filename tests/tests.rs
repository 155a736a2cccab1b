//! The one integration-test binary; one module per area.

mod util;

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

mod alloc;
mod checkpoint;
mod cli;
mod data;
mod early_stopping;
mod gpu_vs_cpu;
mod gradients;
mod ops;
mod presets;
mod reproduce;
mod rng;
mod shaders;
mod slurm;
mod viz;
