//! gpu-dae: the classic autoencoder family (denoising, contractive, ReLU denoising, stacked)
//! trained on MNIST-style data, on WGSL compute shaders through `wgpu` or on a fast CPU backend
//! that doubles as the reference every GPU kernel is tested against.

pub mod backend;
pub mod bench;
pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod data;
pub mod device;
pub mod model;
pub mod output;
pub mod reproduce;

pub mod rng;
pub mod train;
pub mod viz;
