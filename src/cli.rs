//! Command-line flags (clap). Defaults are the Theano tutorials' values; every flag states its
//! unit. `config` turns the raw flags into a checked run configuration (`TrainArgs::da_run`,
//! `relu_dae_run`, `sda_run`) before any work starts. The value enums here are the flags'
//! spellings; the library's own types (`model::Loss`, `device::EnginePolicy`, …) know nothing
//! of clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::device::EnginePolicy;
use crate::model::sda::LayerKind;
use crate::model::{FinetuneScope, Loss};

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
    /// Train a model and write its pictures, metrics, checkpoint and run record into --out.
    Train(TrainArgs),
    /// Write the hidden representation of a split, computed by a checkpoint, as .npy.
    Encode(EncodeArgs),
    /// Draw originals, corrupted inputs and a checkpoint's reconstructions of test digits (an
    /// SdA's layer-0 dA draws them).
    Reconstruct(ReconstructArgs),
    /// Measure training throughput of every available backend side by side.
    Bench(BenchArgs),
    /// List the GPU adapters wgpu can see.
    Devices,
    /// Train a study's rows (papers' and tutorials' MNIST configurations) over many seeds and
    /// report each row's test error: mean, standard deviation and 95 % confidence interval,
    /// beside the published figure. Re-running resumes; --collect only reports.
    Reproduce(ReproduceArgs),
}

/// Which models `train` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModelKind {
    /// Denoising autoencoder with tied weights and masking noise (tutorial dA.py).
    Da,
    /// Contractive autoencoder with tied weights, no corruption (tutorial cA.py): 784-500,
    /// --contraction 0.1, --lr 0.01, --batch 10, 20 epochs by default.
    Cae,
    /// ReLU denoising autoencoder (the exercise): 784-225, --encoder relu, --weights untied,
    /// --decoder linear, --loss squared-error, --init normal:0.01, --hidden-bias 0.5,
    /// --noise gauss:1.0 on --inputs standardised, --lr 0.0005, --batch 1, --steps 25000
    /// random examples.
    ReluDae,
    /// Stacked denoising autoencoder: greedy pretraining, then fine-tuning of a softmax
    /// classifier with early stopping (tutorial SdA.py).
    Sda,
}

impl ModelKind {
    /// The name used on the command line and in output directory names.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Da => "da",
            ModelKind::Cae => "cae",
            ModelKind::ReluDae => "relu-dae",
            ModelKind::Sda => "sda",
        }
    }
}

/// Named sets of SdA settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// The tutorial's SdA.py settings (the default).
    Tutorial,
    /// A quick SdA run: the tutorial's network and corruption with minibatches of 20, 3
    /// pretraining epochs per layer at --pretrain-lr 0.05, fine-tuning at --finetune-lr 0.5 for
    /// at most 30 epochs.
    Fast,
    /// The tutorial's settings with pretraining at --pretrain-lr 0.01 instead of 0.001, chosen
    /// on the validation error; the most accurate preset.
    Tuned,
}

/// An autoencoder's encoder activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EncoderChoice {
    /// h = σ(x̃W + b).
    Sigmoid,
    /// h = max(0, x̃W + b).
    Relu,
}

/// An autoencoder's decoder output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DecoderChoice {
    /// z = σ(hW′ + b′), in (0, 1).
    Sigmoid,
    /// y = hW′ + b′.
    Linear,
}

/// Whether the decoder has its own weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Weights {
    /// The decoder uses Wᵀ.
    Tied,
    /// The decoder has its own V: [n_hid, n_vis].
    Untied,
}

/// How pixels become inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Inputs {
    /// x = pixel/255 ∈ [0, 1].
    Unit,
    /// x = (pixel/255 − mean)/std, with the training split's pixel mean and std.
    Standardised,
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

impl From<BackendChoice> for EnginePolicy {
    fn from(choice: BackendChoice) -> Self {
        match choice {
            BackendChoice::Auto => EnginePolicy::Auto,
            BackendChoice::Gpu => EnginePolicy::Gpu,
            BackendChoice::Cpu => EnginePolicy::Cpu,
        }
    }
}

/// An autoencoder's reconstruction loss (`model::Loss`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LossChoice {
    /// Cross-entropy −Σ[x log z + (1 − x) log(1 − z)] of the sigmoid output z, computed from
    /// the logits (dA, cA).
    CrossEntropy,
    /// Squared error ‖y − x‖² of the decoder's output y (ReLU-DAE: linear y; the gradient is
    /// that of ½E).
    SquaredError,
}

impl From<LossChoice> for Loss {
    fn from(choice: LossChoice) -> Self {
        match choice {
            LossChoice::CrossEntropy => Loss::CrossEntropy,
            LossChoice::SquaredError => Loss::SquaredError,
        }
    }
}

/// What SdA fine-tuning updates (`model::FinetuneScope`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FinetuneChoice {
    /// Every layer: the sigmoid layers' W, b and the softmax layer (the tutorial).
    Full,
    /// The softmax layer only; the pretrained layers stay fixed.
    Top,
}

impl From<FinetuneChoice> for FinetuneScope {
    fn from(choice: FinetuneChoice) -> Self {
        match choice {
            FinetuneChoice::Full => FinetuneScope::Full,
            FinetuneChoice::Top => FinetuneScope::Top,
        }
    }
}

/// What each SdA layer is pretrained as (`model::sda::LayerKind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LayerChoice {
    /// A denoising autoencoder with the layer's --corruption (SdA.py).
    Da,
    /// A contractive autoencoder without corruption, penalty --contraction (default 0.1).
    Cae,
}

impl From<LayerChoice> for LayerKind {
    fn from(choice: LayerChoice) -> Self {
        match choice {
            LayerChoice::Da => LayerKind::Da,
            LayerChoice::Cae => LayerKind::Cae,
        }
    }
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

/// The seed `train` uses when --seed is not given.
pub const DEFAULT_SEED: u64 = 123;

/// Flags of `gpu-dae train`.
#[derive(Clone, Debug, Args)]
pub struct TrainArgs {
    /// Model to train. Default: da.
    #[arg(long, value_enum)]
    pub model: Option<ModelKind>,
    /// Continue the run saved in this checkpoint (a run's checkpoint.safetensors): its model,
    /// settings, data and progress come from the file; only --epochs (--steps for relu-dae),
    /// --out (default: the checkpoint's directory), --data, --backend and --adapter may be
    /// given.
    #[arg(long, value_name = "CKPT")]
    pub resume: Option<PathBuf>,
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
    /// Hidden units. da, cae: one number, default 500. relu-dae: default 225. sda: one per hidden layer, comma-separated,
    /// default 1000,1000,1000.
    #[arg(long, value_delimiter = ',', value_name = "N[,N…]")]
    pub hidden: Option<Vec<usize>>,
    /// Masking-noise level: probability of zeroing each input unit, in [0, 1]; 0 trains a plain
    /// autoencoder. da: one number, default 0.3. cae: one number, default 0. sda: one per hidden layer (or one for all),
    /// comma-separated, default 0.1,0.2,0.3.
    #[arg(long, value_delimiter = ',', value_name = "P[,P…]", allow_negative_numbers = true)]
    pub corruption: Option<Vec<f32>>,
    /// SGD learning rate (per minibatch-mean gradient): da default 0.1, cae default 0.01,
    /// relu-dae default 0.0005. sda:
    /// use --pretrain-lr and --finetune-lr.
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f32>,
    /// Examples per minibatch. da: default 20. cae: default 10. relu-dae: default 1. sda: default 1 (--preset fast: 20).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Passes over the training set. da: default 15. cae: default 20. sda: the most fine-tuning epochs, early
    /// stopping usually ends sooner; default 1000 (--preset fast: 30).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// cae: weight λ of the contractive penalty λ·(1/B)Σₙ‖Jₙ‖²_F (Jₙ the Jacobian of the
    /// hidden code w.r.t. the input of example n), ≥ 0; default 0.1. da: 0 (no penalty).
    /// sda --layer cae: each layer's penalty, default 0.1.
    #[arg(long)]
    pub contraction: Option<f32>,
    /// da, cae, relu-dae: the input corruption: none, mask:P (zero each input with probability
    /// P; on standardised inputs 0 is the mean pixel), gauss:S (add N(0, S²)), salt-pepper:P
    /// (set each pixel to 0 or 1 with probability P, before any standardisation).
    /// Default: da mask:0.3 (= --corruption 0.3), cae none, relu-dae gauss:1.0.
    #[arg(long, value_name = "KIND[:LEVEL]")]
    pub noise: Option<String>,
    /// da, cae, relu-dae: the encoder's activation. Default: sigmoid (relu-dae: relu).
    #[arg(long, value_enum)]
    pub encoder: Option<EncoderChoice>,
    /// da, cae, relu-dae: the decoder's output. Default: sigmoid (relu-dae: linear).
    #[arg(long, value_enum)]
    pub decoder: Option<DecoderChoice>,
    /// da, cae, relu-dae: tied decoder weights Wᵀ, or a separate V. Default: tied (relu-dae:
    /// untied).
    #[arg(long, value_enum)]
    pub weights: Option<Weights>,
    /// da, cae, relu-dae: the reconstruction loss; cross-entropy needs --decoder sigmoid and
    /// --inputs unit. Default: cross-entropy (relu-dae: squared-error).
    #[arg(long, value_enum)]
    pub loss: Option<LossChoice>,
    /// da, cae, relu-dae: the weight initialisation: tutorial (W ~ U(±4·√(6/(n_vis + n_hid))))
    /// or normal:S (W and V ~ N(0, S²)). Default: tutorial (relu-dae: normal:0.01).
    #[arg(long, value_name = "tutorial|normal:S")]
    pub init: Option<String>,
    /// da, cae, relu-dae: the initial value of every hidden bias. Default: 0 (relu-dae: 0.5).
    #[arg(long, allow_negative_numbers = true)]
    pub hidden_bias: Option<f32>,
    /// da, cae, relu-dae: the initial value of every visible (reconstruction) bias. Default: 0.
    #[arg(long, allow_negative_numbers = true)]
    pub visible_bias: Option<f32>,
    /// da, cae, relu-dae: unit = pixels/255 in [0, 1]; standardised = (x − mean)/std with the
    /// training split's pixel mean and std. Default: unit (relu-dae: standardised).
    #[arg(long, value_enum)]
    pub inputs: Option<Inputs>,
    /// relu-dae: SGD steps, each on --batch examples from a random position of the training
    /// split; default 25000.
    #[arg(long)]
    pub steps: Option<usize>,
    /// sda: SGD learning rate of each layer's dA pretraining, default 0.001 (--preset fast:
    /// 0.05, --preset tuned: 0.01).
    #[arg(long, allow_negative_numbers = true)]
    pub pretrain_lr: Option<f32>,
    /// sda: pretraining passes over the training set per layer, default 15 (--preset fast: 3);
    /// 0 skips pretraining.
    #[arg(long)]
    pub pretrain_epochs: Option<usize>,
    /// sda: SGD learning rate of fine-tuning (on the mean NLL of a minibatch), default 0.1
    /// (--preset fast: 0.5).
    #[arg(long, allow_negative_numbers = true)]
    pub finetune_lr: Option<f32>,
    /// sda: what fine-tuning updates: full = every layer (default), top = the softmax layer
    /// only.
    #[arg(long, value_enum, value_name = "full|top")]
    pub finetune: Option<FinetuneChoice>,
    /// sda: what each hidden layer is pretrained as: da = a denoising autoencoder with its
    /// --corruption (default), cae = a contractive autoencoder with penalty --contraction
    /// (default 0.1) and no corruption (a stacked cA).
    #[arg(long, value_enum, value_name = "da|cae")]
    pub layer: Option<LayerChoice>,
    /// sda: a named set of defaults; flags given explicitly override it. Default: tutorial.
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    /// Seed of the weight initialisation and of every noise draw. Default: 123.
    #[arg(long)]
    pub seed: Option<u64>,
}

impl TrainArgs {
    /// The model to train: --model, or da.
    pub fn model(&self) -> ModelKind {
        self.model.unwrap_or(ModelKind::Da)
    }

    /// The seed: --seed, or `DEFAULT_SEED`.
    pub fn seed(&self) -> u64 {
        self.seed.unwrap_or(DEFAULT_SEED)
    }

    /// The flags of a single autoencoder's configuration (da, cae, relu-dae): (flag, given).
    pub fn autoencoder_flags_given(&self) -> [(&'static str, bool); 9] {
        [
            ("noise", self.noise.is_some()),
            ("encoder", self.encoder.is_some()),
            ("decoder", self.decoder.is_some()),
            ("weights", self.weights.is_some()),
            ("loss", self.loss.is_some()),
            ("init", self.init.is_some()),
            ("hidden-bias", self.hidden_bias.is_some()),
            ("visible-bias", self.visible_bias.is_some()),
            ("inputs", self.inputs.is_some()),
        ]
    }

    /// The flags of the SdA only: (flag, given).
    pub fn sda_flags_given(&self) -> [(&'static str, bool); 6] {
        [
            ("layer", self.layer.is_some()),
            ("pretrain-lr", self.pretrain_lr.is_some()),
            ("pretrain-epochs", self.pretrain_epochs.is_some()),
            ("finetune-lr", self.finetune_lr.is_some()),
            ("finetune", self.finetune.is_some()),
            ("preset", self.preset.is_some()),
        ]
    }

    /// The flags that set a run's model or settings, which a resumed run takes from its
    /// checkpoint instead: (flag, given).
    pub fn settings_given(&self) -> impl Iterator<Item = (&'static str, bool)> {
        let shared = [
            ("model", self.model.is_some()),
            ("limit", self.limit.is_some()),
            ("hidden", self.hidden.is_some()),
            ("corruption", self.corruption.is_some()),
            ("lr", self.lr.is_some()),
            ("batch", self.batch.is_some()),
            ("contraction", self.contraction.is_some()),
            ("seed", self.seed.is_some()),
        ];
        shared.into_iter().chain(self.autoencoder_flags_given()).chain(self.sda_flags_given())
    }
}

/// Which split of the data `encode` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SplitChoice {
    /// The training split (the first 50 000 MNIST training images).
    Train,
    /// The validation split (the last 10 000 MNIST training images).
    Valid,
    /// The test set.
    Test,
}

/// The trained model `encode` and `reconstruct` use, its data and the engine.
#[derive(Clone, Debug, Args)]
pub struct CheckpointArgs {
    /// The checkpoint (a run's checkpoint.safetensors).
    #[arg(long, value_name = "CKPT")]
    pub model: PathBuf,
    /// Directory with the four IDX files. Default: the checkpoint's run's directory (or the
    /// built-in MNIST), all of it: the run's --limit is not applied.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub device: BackendArgs,
}

/// Flags of `gpu-dae encode`.
#[derive(Clone, Debug, Args)]
pub struct EncodeArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub checkpoint: CheckpointArgs,
    /// The split to encode.
    #[arg(long, value_enum, default_value_t = SplitChoice::Test)]
    pub split: SplitChoice,
    /// The hidden layer whose output is written (0-based; SdA: 0 to layers − 1). Default: the
    /// top hidden layer.
    #[arg(long)]
    pub layer: Option<usize>,
    /// The .npy file of the codes, float32 [n, hidden units]; the labels go beside it as
    /// <stem>_labels.npy, uint8 [n].
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Flags of `gpu-dae reconstruct`.
#[derive(Clone, Debug, Args)]
pub struct ReconstructArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub checkpoint: CheckpointArgs,
    /// The corruption of the middle row: none, mask:P (zero each pixel with probability P),
    /// gauss:S (add N(0, S²)), salt-pepper:P (set each pixel to 0 or 1 with probability P).
    /// Default: the noise the model was trained with.
    #[arg(long, value_name = "KIND[:LEVEL]")]
    pub noise: Option<String>,
    /// Test digits to show, by index in the test set, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "I[,I…]", conflicts_with = "random")]
    pub digits: Option<Vec<usize>>,
    /// Show N test digits drawn at random (with --seed). Default: 10 (when --digits is absent).
    #[arg(long, value_name = "N")]
    pub random: Option<usize>,
    /// Seed of the random digits and of the noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The picture to write (PNG): three rows per group of digits: originals, corrupted
    /// inputs, reconstructions.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
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
    /// Minibatch sizes to measure, comma-separated. Default: da 20,128 (the tutorial's and a
    /// larger one); sda 1,20 (the tutorial's and --preset fast's).
    #[arg(long, value_delimiter = ',')]
    pub batch: Option<Vec<usize>>,
    /// Seconds to measure each case for (after one warm-up epoch slice).
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Sweep the dA over minibatch sizes 1, 10, 20, 64, 128, 256 and hidden sizes 225, 500,
    /// 1000, 2000: s/epoch and GFLOP/s of each, beside the machine's SGEMM rate (faer,
    /// 2048³); writes sweep.csv and sweep.png into --out.
    #[arg(long)]
    pub sweep: bool,
    /// A second reference rate for --sweep's picture, GFLOP/s, with its label after a colon,
    /// e.g. "361:OpenBLAS 2048³" (measured elsewhere: gpu-dae links no BLAS).
    #[arg(long, value_name = "GFLOPS:LABEL", requires = "sweep")]
    pub peak: Option<String>,
    /// Print the cases as one JSON document (each GPU case with its step's kernels, their
    /// grids and times, and the dispatch floor) instead of the tables.
    #[arg(long, conflicts_with = "sweep")]
    pub json: bool,
    /// Where --sweep writes sweep.csv and sweep.png. Default: runs/bench-sweep.
    #[arg(long, value_name = "DIR", requires = "sweep")]
    pub out: Option<PathBuf>,
}

/// Flags of `gpu-dae reproduce`.
#[derive(Clone, Debug, Args)]
pub struct ReproduceArgs {
    /// The study: tutorial-sda (SdA.py, its no-pretraining control, --preset tuned),
    /// vincent2010 (SDAE-3, SAE-3), rifai2011 (one and two contractive layers), fast (every
    /// row above at --preset fast's settings, minutes per run).
    #[arg(value_name = "STUDY", required_unless_present = "collect")]
    pub study: Option<String>,
    /// Seeds: a count N (seeds 1..N) or a comma-separated list, e.g. 3,7,11.
    #[arg(long, default_value = "5")]
    pub seeds: String,
    /// Train only these rows of the study (comma-separated names, as in its report). Default:
    /// every row.
    #[arg(long, value_delimiter = ',', value_name = "ROW[,ROW…]")]
    pub rows: Option<Vec<String>>,
    /// The study directory: one `gpu-dae train` output per run in DIR/<row>/seed-<s>/, and the
    /// report. Default: runs/<STUDY>.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Only rebuild the report of the runs in DIR (a study directory, or any directory of
    /// `gpu-dae train` outputs such as docs/sda), training nothing.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["study", "out", "slurm", "jobs", "rows"])]
    pub collect: Option<PathBuf>,
    /// Trainings run at once on this machine. Default: one per hardware GPU adapter, else one.
    #[arg(long, value_name = "J")]
    pub jobs: Option<usize>,
    /// Submit the study's pending runs as one Slurm array job (one task per run, each an
    /// ordinary `gpu-dae train`), then exit; --collect DIR reports once they finish.
    #[arg(long)]
    pub slurm: bool,
    /// --slurm: the partition to submit to. Default: the cluster's default partition.
    #[arg(long, requires = "slurm", value_name = "NAME")]
    pub partition: Option<String>,
    /// --slurm: each task's time limit, in Slurm's format (e.g. 2:00:00). Default: the
    /// partition's.
    #[arg(long, requires = "slurm", value_name = "TIME")]
    pub time: Option<String>,
    /// --slurm: GPUs per task. Default: none requested.
    #[arg(long, requires = "slurm", value_name = "G")]
    pub gpus_per_task: Option<u32>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub device: BackendArgs,
    /// Directory with the four IDX files, for every run. Default: the built-in MNIST.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Use only the first N images of the training and test files, in every run (a quick
    /// trial; the report is then not comparable with the published figures).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}
