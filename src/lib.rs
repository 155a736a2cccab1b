//! gpu-dae: the classic autoencoder family (denoising, contractive, ReLU denoising, stacked)
//! trained on MNIST-style data, on WGSL compute shaders through `wgpu` or on a fast CPU backend
//! that doubles as the reference every GPU kernel is tested against.

pub mod data;
pub mod output;
pub mod viz;
