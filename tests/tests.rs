//! The one integration-test binary; one module per area.

mod util;

mod cpu_ops;
mod data;
mod gradients;
mod rng;
mod viz;
