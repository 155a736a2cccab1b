//! The studies `gpu-dae reproduce` knows: named sets of rows, each a `gpu-dae train`
//! configuration with the figure its paper or tutorial published. Where a source leaves a
//! setting open, the study's `choices` say what we chose.

/// A figure a source published for a row: the MNIST test error and where it comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Published {
    /// Test error, in %.
    pub test_error: f64,
    /// The source, e.g. "Vincent et al. 2010, JMLR, Table 3 (SDAE-3)".
    pub source: &'static str,
}

/// One row of a study: a training configuration, run once per seed.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Directory name of the row's runs (`DIR/<name>/seed-<s>/`) and its name in the report.
    pub name: &'static str,
    /// What the row is, in a few words.
    pub label: &'static str,
    /// The `gpu-dae train` flags of the row, without --seed, --out and the device flags.
    pub args: &'static [&'static str],
    /// The published figure the row is compared with, if any.
    pub published: Option<Published>,
}

/// A named study.
#[derive(Clone, Debug, PartialEq)]
pub struct Study {
    /// The name given on the command line.
    pub name: &'static str,
    /// A title for the report.
    pub title: &'static str,
    /// The settings the sources leave open and what we chose (Markdown, for the report).
    pub choices: &'static str,
    /// The rows, in report order.
    pub rows: Vec<Row>,
}

/// SdA.py's figure: the Theano tutorial's closing line.
const TUTORIAL: Published = Published {
    test_error: 1.30,
    source: "Theano tutorial SdA.py (validation 1.39 %, test 1.30 %)",
};
/// Vincent et al. 2010's stacked denoising autoencoder on MNIST.
const SDAE3: Published =
    Published { test_error: 1.28, source: "Vincent et al. 2010, JMLR, Table 3 (SDAE-3)" };
/// The same stack pretrained as ordinary autoencoders.
const SAE3: Published =
    Published { test_error: 1.40, source: "Vincent et al. 2010, JMLR, Table 3 (SAE-3)" };
/// Rifai et al. 2011's one-layer contractive autoencoder, fine-tuned.
const CAE1: Published = Published {
    test_error: 1.14,
    source: "Rifai et al. 2011, ICML (CAE, one hidden layer, fine-tuned)",
};

const TUTORIAL_CHOICES: &str = "\
Every row is SdA.py's network (784-1000-1000-1000-10, masking 0.1/0.2/0.3, batch 1, fine-tuning \
at 0.1 with the tutorial's early stopping). `no-pretraining` is the same network fine-tuned from \
its random initialisation (`--pretrain-epochs 0`), the control that shows what pretraining buys; \
the tutorial publishes no figure for it. `tuned` is `--preset tuned` (pretraining at 0.01 instead \
of 0.001), chosen on the validation error; it has no published figure of its own.";

const VINCENT_CHOICES: &str = "\
Vincent et al. chose layer sizes, learning rates and pretraining length on the validation set and \
do not list the chosen values for this row; we take the tutorial's 1000-1000-1000 stack with \
`--preset tuned`'s schedule (15 pretraining epochs per layer at 0.01, batch 1, fine-tuning at \
0.1 with the tutorial's early stopping). SDAE-3 masks 25 % of each layer's inputs; SAE-3 is the \
same stack with no corruption (plain autoencoders).";

const RIFAI_CHOICES: &str = "\
Rifai et al. pretrain a contractive autoencoder and fine-tune the network it initialises. We take \
cA.py's cA settings (λ = 0.1, pretraining 20 epochs at 0.01, minibatches of 10), 1000 hidden \
units, and fine-tune at 0.5 (minibatch mean, batch 10) with the tutorial's early stopping, at \
most 200 epochs. `cae-2` stacks two such layers; we compare it with no published figure.";

const FAST_CHOICES: &str = "\
Every row of tutorial-sda, vincent2010 and rifai2011 at `--preset fast`'s settings (minibatches \
of 20, 3 pretraining epochs per layer at 0.05, fine-tuning at 0.5), with fine-tuning cut to 15 \
epochs: minutes per run, for trying a study out. The published figures are those of the full \
rows, which these settings do not aim to reach. `tuned` is left out: at these settings it is the \
`sda` row.";

/// The names of every study, in the order `gpu-dae reproduce --help` lists them.
pub const STUDY_NAMES: [&str; 4] = ["tutorial-sda", "vincent2010", "rifai2011", "fast"];

impl Study {
    /// The study called `name`, or None.
    pub fn named(name: &str) -> Option<Study> {
        let study = |name, title, choices, rows| Some(Study { name, title, choices, rows });
        let row = |name, label, args, published| Row { name, label, args, published };
        match name {
            "tutorial-sda" => study(
                "tutorial-sda",
                "The Theano tutorial's stacked denoising autoencoder (SdA.py)",
                TUTORIAL_CHOICES,
                vec![
                    row("sda", "SdA.py's settings", &["--model", "sda"], Some(TUTORIAL)),
                    row(
                        "no-pretraining",
                        "the same network, no pretraining",
                        &["--model", "sda", "--pretrain-epochs", "0"],
                        None,
                    ),
                    row("tuned", "--preset tuned", &["--model", "sda", "--preset", "tuned"], None),
                ],
            ),
            "vincent2010" => study(
                "vincent2010",
                "Vincent et al. 2010, JMLR, Table 3, MNIST",
                VINCENT_CHOICES,
                vec![
                    row(
                        "sdae-3",
                        "SDAE-3: masking 25 %",
                        &["--model", "sda", "--preset", "tuned", "--corruption", "0.25"],
                        Some(SDAE3),
                    ),
                    row(
                        "sae-3",
                        "SAE-3: no corruption",
                        &["--model", "sda", "--preset", "tuned", "--corruption", "0"],
                        Some(SAE3),
                    ),
                ],
            ),
            "rifai2011" => study(
                "rifai2011",
                "Rifai et al. 2011, ICML: contractive autoencoders, MNIST",
                RIFAI_CHOICES,
                vec![
                    row("cae-1", "one cA layer, fine-tuned", CAE_1, Some(CAE1)),
                    row("cae-2", "two stacked cA layers, fine-tuned", CAE_2, None),
                ],
            ),
            "fast" => study(
                "fast",
                "Every row above at --preset fast's settings",
                FAST_CHOICES,
                vec![
                    row("sda", "SdA.py's network", FAST_SDA, Some(TUTORIAL)),
                    row("no-pretraining", "no pretraining", FAST_NO_PRETRAINING, None),
                    row("sdae-3", "SDAE-3: masking 25 %", FAST_SDAE3, Some(SDAE3)),
                    row("sae-3", "SAE-3: no corruption", FAST_SAE3, Some(SAE3)),
                    row("cae-1", "one cA layer", FAST_CAE_1, Some(CAE1)),
                    row("cae-2", "two stacked cA layers", FAST_CAE_2, None),
                ],
            ),
            _ => None,
        }
    }

    /// The row called `name`, or None.
    pub fn row(&self, name: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.name == name)
    }

    /// Every known study.
    pub fn all() -> impl Iterator<Item = Study> {
        STUDY_NAMES.into_iter().filter_map(Study::named)
    }
}

/// rifai2011's rows: contractive layers of `$hidden` units (see `RIFAI_CHOICES`).
macro_rules! rifai {
    ($hidden:literal) => {
        &[
            "--model",
            "sda",
            "--layer",
            "cae",
            "--hidden",
            $hidden,
            "--contraction",
            "0.1",
            "--batch",
            "10",
            "--pretrain-lr",
            "0.01",
            "--pretrain-epochs",
            "20",
            "--finetune-lr",
            "0.5",
            "--epochs",
            "200",
        ]
    };
}
const CAE_1: &[&str] = rifai!("1000");
const CAE_2: &[&str] = rifai!("1000,1000");

/// The fast study's settings, shared by its rows.
macro_rules! fast {
    ($($extra:literal),*) => {
        &["--model", "sda", "--preset", "fast", "--epochs", "15", $($extra),*]
    };
}
const FAST_SDA: &[&str] = fast!();
const FAST_NO_PRETRAINING: &[&str] = fast!("--pretrain-epochs", "0");
const FAST_SDAE3: &[&str] = fast!("--corruption", "0.25");
const FAST_SAE3: &[&str] = fast!("--corruption", "0");
const FAST_CAE_1: &[&str] = fast!("--layer", "cae", "--hidden", "1000");
const FAST_CAE_2: &[&str] = fast!("--layer", "cae", "--hidden", "1000,1000");
