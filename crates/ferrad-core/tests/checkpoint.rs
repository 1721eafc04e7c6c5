//! Binomial checkpointing (issue 4 item 3): the work matches Griewank's formula exactly, the
//! memory stays within the snapshot budget, and the gradient equals the full-tape gradient.

use std::cell::Cell;

use ferrad_core::checkpoint::{self, Action, TimeStep, min_forward_steps, revolve};
use ferrad_core::prelude::*;

/// A nonlinear two-species reaction-diffusion step on a ring, with three parameters; counts its
/// evaluations (all number types).
struct Reaction {
    calls: Cell<u64>,
}

impl Reaction {
    fn new() -> Self {
        Reaction {
            calls: Cell::new(0),
        }
    }
}

impl TimeStep for Reaction {
    fn step<T: Real>(&self, k: usize, s: &[T], th: &[T]) -> Vec<T> {
        self.calls.set(self.calls.get() + 1);
        let n = s.len();
        let dt = 0.01 * (1.0 + 0.1 * (k as f64).sin()); // step-dependent, so k matters
        (0..n)
            .map(|i| {
                let (l, r) = (s[(i + n - 1) % n], s[(i + 1) % n]);
                let lap = l + r - s[i] * 2.0;
                s[i] + (th[0] * lap
                    + th[1] * s[i] * (T::one() - s[i] * s[i])
                    + th[2] * (s[i] * 3.0).sin())
                    * dt
            })
            .collect()
    }
}

fn energy<T: Real>(s: &[T]) -> T {
    s.iter()
        .enumerate()
        .map(|(i, &v)| v * v * (1.0 + i as f64 * 0.1))
        .sum()
}

fn s0(n: usize) -> Vec<f64> {
    (0..n).map(|i| (i as f64 * 0.9).sin() * 0.5).collect()
}

const THETA: [f64; 3] = [0.7, 1.3, 0.2];

/// Compares a checkpointed gradient with the full-tape one and checks the work against the formula.
fn check(steps: usize, snapshots: usize, n: usize) {
    let loss = ferrad_core::scalar_fn!(energy);
    let full = checkpoint::gradient_full_tape(&Reaction::new(), &loss, &s0(n), &THETA, steps);
    let step = Reaction::new();
    let cp = checkpoint::gradient(&step, &loss, &s0(n), &THETA, steps, snapshots);
    let at = format!("steps = {steps}, snapshots = {snapshots}");
    // Work: exactly Griewank's p(l, s) untaped evaluations plus one taped evaluation per step,
    // counted both by the driver and by the step function itself.
    let p = min_forward_steps(steps, snapshots);
    assert_eq!(cp.stats.forward_steps, p, "{at}: forward steps");
    assert_eq!(cp.stats.taped_steps, steps as u64, "{at}: taped steps");
    assert_eq!(
        step.calls.get(),
        p + steps as u64,
        "{at}: step evaluations seen by the step"
    );
    assert_eq!(cp.stats.recomputations, p, "{at}: recomputations");
    // Memory: never more snapshots than allowed.
    assert!(
        cp.stats.peak_snapshots <= snapshots.max(1),
        "{at}: {} snapshots",
        cp.stats.peak_snapshots
    );
    // Result: the same primal bits, the same gradient.
    assert_eq!(cp.value.to_bits(), full.value.to_bits(), "{at}: value");
    for (i, (a, b)) in cp.d_s0.iter().zip(&full.d_s0).enumerate() {
        assert!(
            (a - b).abs() <= 1e-12 * b.abs().max(1.0),
            "{at}: d_s0[{i}] = {a} vs {b}"
        );
    }
    for (i, (a, b)) in cp.d_theta.iter().zip(&full.d_theta).enumerate() {
        assert!(
            (a - b).abs() <= 1e-12 * b.abs().max(1.0),
            "{at}: d_theta[{i}] = {a} vs {b}"
        );
    }
}

#[test]
fn forward_steps_match_griewank_formula_exactly() {
    for snapshots in 1..=6 {
        for steps in 0..=60 {
            check(steps, snapshots, 2);
        }
    }
}

#[test]
fn known_values_of_the_binomial_bound() {
    // (l, s, p(l, s)): one snapshot is the triangular number; l ≤ s + 1 needs one sweep;
    // t = 2 on [s + 2, β(s, 2)] gives 2l − (s + 2); t = 3 up to β(s, 3) gives 3l − β(s + 1, 2).
    for (l, s, p) in [
        (10, 1, 45),
        (60, 1, 1770),
        (7, 6, 6),
        (5, 2, 6),
        (6, 2, 8),
        (7, 2, 11),
        (10, 3, 15),
        (20, 3, 45),
    ] {
        assert_eq!(min_forward_steps(l, s), p, "p({l}, {s})");
    }
    // The heat example's sizes.
    assert_eq!(min_forward_steps(10_000, 16), 44_015);
    assert_eq!(min_forward_steps(10_000, 64), 27_789);
}

#[test]
fn gradient_matches_full_tape_on_larger_states() {
    for (steps, snapshots) in [(200, 3), (97, 5), (128, 128), (50, 1000)] {
        check(steps, snapshots, 16);
    }
}

#[test]
fn gradient_matches_finite_differences() {
    let loss = ferrad_core::scalar_fn!(energy);
    let (steps, n) = (40, 5);
    let cp = checkpoint::gradient(&Reaction::new(), &loss, &s0(n), &THETA, steps, 3);
    let f = |s: &[f64], th: &[f64]| energy(&checkpoint::run(&Reaction::new(), s, th, steps));
    let h = 1e-6;
    for i in 0..n {
        let (mut up, mut down) = (s0(n), s0(n));
        up[i] += h;
        down[i] -= h;
        let fd = (f(&up, &THETA) - f(&down, &THETA)) / (2.0 * h);
        assert!(
            (fd - cp.d_s0[i]).abs() < 1e-7,
            "d_s0[{i}]: {} vs fd {fd}",
            cp.d_s0[i]
        );
    }
    for j in 0..3 {
        let (mut up, mut down) = (THETA, THETA);
        up[j] += h;
        down[j] -= h;
        let fd = (f(&s0(n), &up) - f(&s0(n), &down)) / (2.0 * h);
        assert!(
            (fd - cp.d_theta[j]).abs() < 1e-7,
            "d_theta[{j}]: {} vs fd {fd}",
            cp.d_theta[j]
        );
    }
}

#[test]
fn schedules_are_well_formed() {
    // Each step reversed once, in decreasing order; snapshots popped in stack order; the stack
    // never exceeds the budget.
    for s in 1..=5 {
        for l in 1..=40 {
            let sched = revolve(l, s);
            let mut stack = Vec::new();
            let mut peak = 0;
            let mut reversed = Vec::new();
            for a in &sched {
                match *a {
                    Action::Store { at } => {
                        stack.push(at);
                        peak = peak.max(stack.len());
                    }
                    Action::Free { at } => assert_eq!(stack.pop(), Some(at)),
                    Action::Reverse { k } => reversed.push(k),
                    Action::Restore { at } => assert!(stack.contains(&at)),
                    Action::Advance { from, to } => assert!(from < to && to <= l),
                }
            }
            assert!(
                stack.is_empty() && peak <= s,
                "l = {l}, s = {s}: peak {peak}"
            );
            assert_eq!(
                reversed,
                (0..l).rev().collect::<Vec<_>>(),
                "l = {l}, s = {s}"
            );
        }
    }
}

#[test]
fn memory_is_bounded_by_snapshots_and_one_step() {
    let loss = ferrad_core::scalar_fn!(energy);
    let (steps, n) = (300, 64);
    let full = checkpoint::gradient_full_tape(&Reaction::new(), &loss, &s0(n), &THETA, steps);
    let cp = checkpoint::gradient(&Reaction::new(), &loss, &s0(n), &THETA, steps, 4);
    assert_eq!(cp.stats.peak_snapshot_bytes, 4 * n * 8);
    // One step's tape is the full tape divided by the number of steps (up to the inputs).
    assert!(cp.stats.max_tape_bytes * steps <= full.stats.max_tape_bytes * 11 / 10);
    assert!(
        cp.stats.peak_bytes * 20 < full.stats.peak_bytes,
        "{:?} vs {:?}",
        cp.stats,
        full.stats
    );
}

#[test]
fn zero_steps_is_the_loss_of_the_initial_state() {
    let loss = ferrad_core::scalar_fn!(energy);
    let cp = checkpoint::gradient(&Reaction::new(), &loss, &[1.0, 2.0], &THETA, 0, 1);
    let (v, g) = ferrad_core::gradient(&loss, &[1.0, 2.0]);
    assert_eq!((cp.value, cp.d_s0, cp.d_theta), (v, g, vec![0.0; 3]));
}

#[test]
#[should_panic(expected = "at least 1 snapshot")]
fn zero_snapshots_is_refused() {
    let loss = ferrad_core::scalar_fn!(energy);
    checkpoint::gradient(&Reaction::new(), &loss, &[1.0], &THETA, 5, 0);
}

struct Grows;
impl TimeStep for Grows {
    fn step<T: Real>(&self, _k: usize, s: &[T], _th: &[T]) -> Vec<T> {
        let mut v = s.to_vec();
        v.push(T::zero());
        v
    }
}

#[test]
#[should_panic(expected = "returned a state of length 2 from one of length 1")]
fn a_step_that_changes_the_state_length_is_named() {
    let loss = ferrad_core::scalar_fn!(energy);
    checkpoint::gradient(&Grows, &loss, &[1.0], &[], 3, 2);
}
