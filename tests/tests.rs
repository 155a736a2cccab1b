//! The one integration-test binary; one module per area.

mod util;

mod cli;
mod cpu_ops;
mod data;
mod gpu_vs_cpu;
mod gradients;
mod rng;
mod shaders;
mod viz;
