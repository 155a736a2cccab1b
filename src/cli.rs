//! Command-line flags (clap). Defaults are the Theano tutorials' values; every flag states its
//! unit. `TrainArgs::validate` turns the raw flags into a checked run configuration before any
//! work starts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Train the classic autoencoders (denoising, contractive, stacked) on MNIST-style data, on a GPU
/// through wgpu or on the CPU.
#[derive(Debug, Parser)]
#[command(name = "gpu-dae", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a model and write its pictures, metrics and run record into --out.
    Train(TrainArgs),
    /// Measure training throughput of every available backend side by side.
    Bench(BenchArgs),
    /// List the GPU adapters wgpu can see.
    Devices,
}

/// Which models `train` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModelKind {
    /// Denoising autoencoder with tied weights and masking noise (tutorial dA.py).
    Da,
}

impl ModelKind {
    /// The name used on the command line and in output directory names.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Da => "da",
        }
    }
}

/// Which engine runs the ops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendChoice {
    /// A hardware GPU if there is one, else the CPU (a software GPU driver is never chosen).
    Auto,
    /// A GPU adapter, software drivers (lavapipe/llvmpipe) included; fails if there is none.
    Gpu,
    /// The CPU backend.
    Cpu,
}

/// Device selection shared by `train` and `bench`.
#[derive(Clone, Debug, Args)]
pub struct BackendArgs {
    /// Engine: auto = hardware GPU if present, else CPU; gpu = any GPU adapter, including a
    /// software one; cpu = the CPU backend.
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    /// Use the GPU adapter whose name contains NAME (case-insensitive), software or not; with
    /// --backend auto, naming an adapter selects it. See `gpu-dae devices`.
    #[arg(long, value_name = "NAME")]
    pub adapter: Option<String>,
}

/// Flags of `gpu-dae train`.
#[derive(Clone, Debug, Args)]
pub struct TrainArgs {
    /// Model to train.
    #[arg(long, value_enum, default_value_t = ModelKind::Da)]
    pub model: ModelKind,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub device: BackendArgs,
    /// Directory with the four IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte,
    /// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte). Default: the MNIST copy built into the
    /// binary.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Use only the first N images of the training and test files (before the train/valid
    /// split, which keeps the last ⌊N/6⌋ for validation). Default: all.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Output directory. Default: runs/<model>-<UTC timestamp>.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Hidden units.
    #[arg(long, default_value_t = 500)]
    pub hidden: usize,
    /// Masking-noise level: probability of zeroing each input pixel, in [0, 1]; 0 trains the
    /// plain autoencoder.
    #[arg(long, default_value_t = 0.3, allow_negative_numbers = true)]
    pub corruption: f32,
    /// SGD learning rate (per minibatch-mean gradient).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub lr: f32,
    /// Examples per minibatch.
    #[arg(long, default_value_t = 20)]
    pub batch: usize,
    /// Passes over the training set.
    #[arg(long, default_value_t = 15)]
    pub epochs: usize,
    /// Seed of the weight initialisation and of every noise draw.
    #[arg(long, default_value_t = 123)]
    pub seed: u64,
}

/// Flags of `gpu-dae bench`.
#[derive(Clone, Debug, Args)]
pub struct BenchArgs {
    /// Engine(s): auto = every available backend side by side (the CPU, and a GPU adapter if
    /// any, software ones included); gpu or cpu = that one only.
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    /// Use the GPU adapter whose name contains NAME (case-insensitive).
    #[arg(long, value_name = "NAME")]
    pub adapter: Option<String>,
    /// Model to benchmark.
    #[arg(long, value_enum, default_value_t = ModelKind::Da)]
    pub model: ModelKind,
    /// Minibatch sizes to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [20, 128])]
    pub batch: Vec<usize>,
    /// Seconds to measure each case for (after one warm-up epoch slice).
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
}
