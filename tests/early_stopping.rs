//! The tutorial's early stopping (`train::EarlyStopping`) driven as SdA.py's loop drives it, on
//! scripted validation losses: each case asserts the exact iteration the rule stops at.

use gpu_dae::train::EarlyStopping;

/// What a scripted run did.
#[derive(Debug, PartialEq)]
struct Stopped {
    /// The iteration after which `patience ≤ iter` stopped it; None if the epochs ran out.
    at: Option<usize>,
    /// Epochs begun.
    epochs: usize,
    /// Iterations whose validation loss was a new best (where the test error is measured).
    bests: Vec<usize>,
}

/// SdA.py's fine-tuning loop with `n_batches` minibatches per epoch and at most `max_epochs`
/// epochs; `loss(k)` is the k-th validation loss (0-based).
fn drive(n_batches: usize, max_epochs: usize, loss: impl Fn(usize) -> f64) -> Stopped {
    let mut es = EarlyStopping::new(n_batches);
    let (mut epoch, mut validations, mut bests) = (0, 0, Vec::new());
    while epoch < max_epochs {
        epoch += 1;
        for minibatch in 0..n_batches {
            let iter = (epoch - 1) * n_batches + minibatch;
            if es.validation_due(iter) {
                if es.record(iter, loss(validations)) {
                    bests.push(iter);
                }
                validations += 1;
            }
            if es.should_stop(iter) {
                return Stopped { at: Some(iter), epochs: epoch, bests };
            }
        }
    }
    Stopped { at: None, epochs: epoch, bests }
}

#[test]
fn the_tutorial_constants() {
    let es = EarlyStopping::new(50_000);
    assert_eq!(es.patience(), 500_000);
    assert_eq!(es.validation_frequency(), 50_000);
    assert_eq!(es.best(), f64::INFINITY);
    assert_eq!(es.best_iter(), None);
    // One minibatch per epoch: patience 10, validation every iteration (min(1, 10 // 2)).
    assert_eq!(EarlyStopping::new(1).validation_frequency(), 1);
}

#[test]
fn no_improvement_after_the_first_validation_stops_at_the_initial_patience() {
    // n = 10: patience 100, validation after iterations 9, 19, …; the first loss is a new best
    // (patience = max(100, 9·2) = 100), the rest equal it (not below: no new best). Stop after
    // iteration 100 = epoch 11, minibatch 0.
    let got = drive(10, 1000, |_| 0.5);
    assert_eq!(got, Stopped { at: Some(100), epochs: 11, bests: vec![9] });
}

#[test]
fn significant_improvements_extend_the_patience_to_twice_the_iteration() {
    // Improving by 10 % at validations 0..=5 (iterations 9 … 59), flat after: the last
    // significant improvement at iteration 59 sets patience = max(100, 118) = 118. Stop after
    // iteration 118 = epoch 12, minibatch 8.
    let got = drive(10, 1000, |k| 0.9f64.powi(k.min(5) as i32));
    assert_eq!(got, Stopped { at: Some(118), epochs: 12, bests: vec![9, 19, 29, 39, 49, 59] });
}

#[test]
fn insignificant_improvements_are_new_bests_but_do_not_extend_the_patience() {
    // 10 % better up to validation 6 (iteration 69: patience 138), then 0.1 % better at every
    // validation: new bests (the test error is measured) with loss ≥ best · 0.995, so the
    // patience stays 138. Stop after iteration 138; the last best is iteration 129.
    let got = drive(10, 1000, |k| {
        if k <= 6 { 0.9f64.powi(k as i32) } else { 0.9f64.powi(6) * 0.999f64.powi((k - 6) as i32) }
    });
    let bests: Vec<usize> = (0..13).map(|v| 10 * v + 9).collect();
    assert_eq!(got, Stopped { at: Some(138), epochs: 14, bests });
}

#[test]
fn a_loss_exactly_at_the_threshold_is_not_significant() {
    // 1.0, then exactly 0.995 (not < 0.995 · best): a new best without more patience, so the
    // stop is the initial patience's, iteration 100.
    let got = drive(10, 1000, |k| if k == 0 { 1.0 } else { 1.0 * 0.995 });
    assert_eq!(got, Stopped { at: Some(100), epochs: 11, bests: vec![9, 19] });
}

#[test]
fn steady_improvement_runs_until_the_epochs_run_out() {
    // 1 % better at every validation: patience = 2·iter after each, always ahead of iter.
    let got = drive(10, 30, |k| 0.99f64.powi(k as i32));
    assert_eq!(got.at, None);
    assert_eq!(got.epochs, 30);
    assert_eq!(got.bests.len(), 30);
}

#[test]
fn a_worse_loss_is_ignored() {
    // Best at validation 3 (iteration 39: patience max(100, 78) = 100), worse afterwards.
    let got = drive(10, 1000, |k| [1.0, 0.8, 0.7, 0.6, 0.9, 0.65, 0.61][k.min(6)]);
    assert_eq!(got, Stopped { at: Some(100), epochs: 11, bests: vec![9, 19, 29, 39] });
    let mut es = EarlyStopping::new(10);
    assert!(es.record(9, 0.5));
    assert!(!es.record(19, 0.6));
    assert_eq!((es.best(), es.best_iter()), (0.5, Some(9)));
}

#[test]
fn one_minibatch_per_epoch_validates_every_iteration() {
    // n = 1: patience 10, validation every iteration. Improving 10 % for 8 validations
    // (iterations 0 … 7: patience max(10, 14) = 14), flat after: stop after iteration 14, in
    // epoch 15.
    let got = drive(1, 1000, |k| 0.9f64.powi(k.min(7) as i32));
    assert_eq!(got, Stopped { at: Some(14), epochs: 15, bests: (0..8).collect() });
}
