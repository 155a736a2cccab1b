//! The tutorial's early stopping (SdA.py, logistic_sgd.py, mlp.py), as a pure state machine the
//! fine-tuning loop drives. With n = minibatches per epoch and iter = (epoch − 1)·n + minibatch
//! index (0-based):
//! - patience = 10·n iterations at first; patience_increase = 2; improvement_threshold = 0.995;
//! - validation_frequency = min(n, patience / 2) (integer division); validate after minibatch
//!   `iter` when (iter + 1) % validation_frequency = 0;
//! - on a validation loss below the best so far: if loss < best · 0.995 (a significant
//!   improvement) then patience = max(patience, iter · 2); best = loss; the caller measures the
//!   test error then;
//! - stop as soon as patience ≤ iter, checked after every minibatch (and after the epochs run
//!   out).

/// Early-stopping state: the patience, the best validation loss and where it was reached.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EarlyStopping {
    patience: usize,
    validation_frequency: usize,
    /// The best validation loss so far (None before the first validation).
    best: Option<f64>,
    best_iter: Option<usize>,
}

/// The tutorial's patience_increase.
pub const PATIENCE_INCREASE: usize = 2;
/// The tutorial's improvement_threshold.
pub const IMPROVEMENT_THRESHOLD: f64 = 0.995;

impl EarlyStopping {
    /// The initial state for `n_batches` minibatches per epoch: patience 10·n_batches, no best.
    pub fn new(n_batches: usize) -> Self {
        let patience = 10 * n_batches;
        EarlyStopping {
            patience,
            validation_frequency: n_batches.min(patience / 2).max(1),
            best: None,
            best_iter: None,
        }
    }

    /// Whether the model is validated after minibatch `iter`: (iter + 1) % validation_frequency
    /// = 0.
    pub fn validation_due(&self, iter: usize) -> bool {
        (iter + 1).is_multiple_of(self.validation_frequency)
    }

    /// Records the validation loss measured after minibatch `iter`; returns true when it is a
    /// new best (the caller then measures the test error and keeps the parameters). A loss below
    /// best · 0.995 also extends the patience to at least iter · 2.
    pub fn record(&mut self, iter: usize, loss: f64) -> bool {
        let best = self.best();
        if loss >= best {
            return false;
        }
        if loss < best * IMPROVEMENT_THRESHOLD {
            self.patience = self.patience.max(iter * PATIENCE_INCREASE);
        }
        self.best = Some(loss);
        self.best_iter = Some(iter);
        true
    }

    /// Whether training stops after minibatch `iter`: patience ≤ iter.
    pub fn should_stop(&self, iter: usize) -> bool {
        self.patience <= iter
    }

    /// The current patience, in iterations.
    pub fn patience(&self) -> usize {
        self.patience
    }

    /// Iterations between validations.
    pub fn validation_frequency(&self) -> usize {
        self.validation_frequency
    }

    /// The best validation loss so far (∞ before the first validation).
    pub fn best(&self) -> f64 {
        self.best.unwrap_or(f64::INFINITY)
    }

    /// The iteration of the best validation loss, if any.
    pub fn best_iter(&self) -> Option<usize> {
        self.best_iter
    }
}
