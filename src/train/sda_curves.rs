//! The SdA's `curves.png`, drawn from the run's metrics rows: a pretraining panel (each layer's
//! dA cost per epoch) above a fine-tuning panel (the training NLL, the validation and test
//! errors, and the early-stopping point).

use super::log::{Phase, SdaRow};
use super::sda::SdaRun;
use crate::model::sda::FinetuneScope;
use crate::model::sda::LayerKind;
use crate::viz::{Axis, Curves, Figure, Series};

/// The curves of an SdA run, owned so that [`SdaCurves::figure`] can lend them to a [`Figure`].
///
/// The layers' pretraining costs differ in scale from layer to layer (each dA reconstructs
/// inputs of its own size and kind), so one axis in their units would flatten all but the
/// largest. Each layer's curve is therefore its cost divided by its own epoch-1 cost: every
/// layer starts at 1, the panel shows how far each one has come down, and the legend gives each
/// layer's epoch-1 cost, its scale.
#[derive(Clone, Debug, PartialEq)]
pub struct SdaCurves {
    /// The figure's title: the layer sizes, corruption levels and batch.
    title: String,
    /// The pretraining panel's title (with its learning rate).
    pretrain_title: String,
    /// The fine-tuning panel's title (what it updates, its learning rate).
    finetune_title: String,
    /// Per pretrained layer, bottom first: its legend entry and its cost per epoch ÷ its
    /// epoch-1 cost.
    layers: Vec<(String, Vec<f32>)>,
    /// Per fine-tuning epoch: the mean training NLL.
    nll: Vec<f32>,
    /// Per fine-tuning epoch: the validation error (%), NaN where none was measured.
    valid: Vec<f32>,
    /// Per fine-tuning epoch: the test error (%), NaN where validation reached no new best.
    test: Vec<f32>,
    /// The fine-tuning epoch (1-based) of the best validation error.
    best_epoch: usize,
    /// The early-stopping marker's label.
    marker: String,
}

impl SdaCurves {
    /// The curves of `run`'s `rows`, in the order the trainer writes them (each layer's
    /// pretraining epochs 1, 2, …, then the fine-tuning epochs 1, 2, …), with the fine-tuning
    /// epoch of the best validation error `best_epoch` (1-based) marked. A layer whose epoch-1
    /// cost is 0 or not finite draws nothing.
    pub fn new(run: &SdaRun, rows: &[SdaRow], best_epoch: usize) -> Self {
        let m = &run.model;
        let sizes: Vec<String> = std::iter::once(m.n_in)
            .chain(m.hidden.iter().copied())
            .chain([m.n_out])
            .map(|n| n.to_string())
            .collect();
        let (layers_as, kind) = match m.layer {
            LayerKind::Da => {
                let levels: Vec<String> = m.corruption.iter().map(f32::to_string).collect();
                (format!("corruption {}", levels.join(",")), "dA")
            }
            LayerKind::Cae => (format!("cA layers, λ {}", m.contraction), "cA"),
        };
        let title = format!("SdA {}, {layers_as}, batch {}", sizes.join("-"), run.batch);
        let scope = match run.finetune {
            FinetuneScope::Full => "every layer",
            FinetuneScope::Top => "the softmax layer",
        };
        let layers = rows.iter().filter_map(|r| r.layer).max().map_or(0, |k| k + 1);
        let layers = (0..layers)
            .map(|k| {
                let costs: Vec<f32> = rows
                    .iter()
                    .filter(|r| r.phase == Phase::Pretrain && r.layer == Some(k))
                    .map(|r| r.cost)
                    .collect();
                let first = costs.first().copied().unwrap_or(f32::NAN);
                let label = format!("layer {k} (epoch 1: {first:.2})");
                (label, costs.iter().map(|c| c / first).collect())
            })
            .collect();
        let finetune: Vec<&SdaRow> = rows.iter().filter(|r| r.phase == Phase::Finetune).collect();
        let pct = |v: Option<f64>| v.map_or(f32::NAN, |v| v as f32);
        Self {
            title,
            pretrain_title: format!(
                "pretraining, lr {}: each layer's {kind} reconstruction cost, relative to its first epoch",
                run.pretrain_lr
            ),
            finetune_title: format!("fine-tuning of {scope}, lr {}", run.finetune_lr),
            layers,
            nll: finetune.iter().map(|r| r.cost).collect(),
            valid: finetune.iter().map(|r| pct(r.valid_error)).collect(),
            test: finetune.iter().map(|r| pct(r.test_error)).collect(),
            best_epoch,
            marker: format!("best validation: epoch {best_epoch}"),
        }
    }

    /// The figure: the pretraining panel (only if some layer was pretrained), one series per
    /// layer by pretraining epoch; then the fine-tuning panel by fine-tuning epoch, the mean
    /// training NLL on the left axis, the validation error and the test error (points at the
    /// epochs where validation reached a new best, joined where those follow one another) on
    /// the right, and a marker at `best_epoch`: the model the run kept.
    pub fn figure(&self) -> Figure<'_> {
        let mut panels = Vec::new();
        if !self.layers.is_empty() {
            let series = self.layers.iter().map(|(label, y)| Series::new(label, y)).collect();
            panels.push(Curves::new(
                &self.pretrain_title,
                "pretraining epoch",
                Axis::new("cost ÷ the layer's epoch-1 cost", series),
            ));
        }
        let nll = Axis::new(
            "negative log-likelihood",
            vec![Series::new("training NLL (epoch mean)", &self.nll)],
        );
        let errors = Axis::new(
            "error (%)",
            vec![
                Series::new("validation error", &self.valid),
                Series::new("test error at a new best", &self.test),
            ],
        );
        panels.push(
            Curves::new(&self.finetune_title, "fine-tuning epoch", nll)
                .with_right(errors)
                .with_marker(self.best_epoch as f64, &self.marker),
        );
        Figure::new(&self.title, panels)
    }
}
