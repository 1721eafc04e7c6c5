//! Binomial checkpointing (REVOLVE, Griewank & Walther) for time-stepping loops.
//!
//! A simulation `s_{k+1} = step(k, s_k, θ)`, `k = 0..l`, followed by a scalar loss of the final
//! state, taped whole, costs memory proportional to `l × (operations per step)`: for a 1,000-cell
//! heat equation over 10,000 steps that is about a gigabyte. Here the reverse sweep instead needs
//! each state `s_k` once, in reverse order, and gets it back by recomputing forward from a few
//! stored states (*snapshots*). Each step's adjoint is one small [`Tape`]: record `step(k, ·, ·)`
//! from `s_k` and `θ`, sweep it with the adjoint of `s_{k+1}`, and drop it. Peak memory is
//! `snapshots × state size + one step's tape`.
//!
//! With `s` snapshots the schedule built by [`revolve`] needs the fewest forward recomputations
//! possible, Griewank's binomial bound [`min_forward_steps`]:
//! `p(l, s) = t·l − β(s + 1, t − 1)`, where `β(s, t) = C(s + t, s)` and `t` is the smallest
//! integer with `β(s, t) ≥ l`. The schedule is plain data ([`Action`], printed as
//! `store 0`, `advance 0..3`, `reverse 2`, …) executed by [`gradient`]; [`gradient_full_tape`]
//! computes the same gradient from one tape of all steps, for comparison.
//!
//! Invariant: every step is recorded on a tape exactly once (in reverse order) and the snapshot
//! stack never holds more than the given number of states; the gradient equals the full-tape one
//! up to the order of floating-point additions in `∂loss/∂θ`.

use core::fmt;

use crate::api::ScalarFn;
use crate::real::Real;
use crate::reverse::{Tape, Var};

/// One step of a time-stepping loop, generic over the number type:
/// `s_{k+1} = step(k, s_k, θ)`.
///
/// ```
/// use ferrad_core::prelude::*;
/// use ferrad_core::checkpoint::TimeStep;
/// /// Exponential decay, explicit Euler: s ← s − dt·θ₀·s.
/// struct Decay;
/// impl TimeStep for Decay {
///     fn step<T: Real>(&self, _k: usize, s: &[T], theta: &[T]) -> Vec<T> {
///         s.iter().map(|&v| v - v * theta[0] * 0.1).collect()
///     }
/// }
/// assert_eq!(Decay.step(0, &[1.0], &[2.0]), vec![0.8]);
/// ```
pub trait TimeStep {
    /// The state after step `k`, from the state `s` before it and the parameters `theta`.
    fn step<T: Real>(&self, k: usize, s: &[T], theta: &[T]) -> Vec<T>;
}

impl<S: TimeStep + ?Sized> TimeStep for &S {
    fn step<T: Real>(&self, k: usize, s: &[T], theta: &[T]) -> Vec<T> {
        (**self).step(k, s, theta)
    }
}

/// One action of a checkpointing schedule, acting on the *current state* and a stack of snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Push the current state, which is `s_at`, as a snapshot.
    Store {
        /// The step index of the stored state.
        at: usize,
    },
    /// Make a copy of the snapshot `s_at` the current state.
    Restore {
        /// The step index of the restored state.
        at: usize,
    },
    /// Run steps `from..to` in plain `f64` (no tape): the current state goes from `s_from` to `s_to`.
    Advance {
        /// First step run.
        from: usize,
        /// One past the last step run.
        to: usize,
    },
    /// Record step `k` from the current state `s_k` on a tape and sweep it with the adjoint of
    /// `s_{k+1}` (for the last step: the loss gradient), giving the adjoint of `s_k`.
    Reverse {
        /// The step reversed.
        k: usize,
    },
    /// Pop the snapshot `s_at`.
    Free {
        /// The step index of the freed state.
        at: usize,
    },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Action::Store { at } => write!(f, "store {at}"),
            Action::Restore { at } => write!(f, "restore {at}"),
            Action::Advance { from, to } => write!(f, "advance {from}..{to}"),
            Action::Reverse { k } => write!(f, "reverse {k}"),
            Action::Free { at } => write!(f, "free {at}"),
        }
    }
}

/// `β(s, t) = C(s + t, s)`: the largest number of steps that `s` snapshots can reverse with at
/// most `t` forward evaluations of any one step (saturating at `u64::MAX`).
///
/// ```
/// assert_eq!(ferrad_core::checkpoint::binomial(2, 3), 10);
/// assert_eq!(ferrad_core::checkpoint::binomial(16, 5), 20349);
/// ```
pub fn binomial(s: usize, t: usize) -> u64 {
    // C(s + t, t) = Π_{i=1..t} (s + i) / i, exact at every step.
    let mut c: u128 = 1;
    for i in 1..=t as u128 {
        c = c * (s as u128 + i) / i;
        if c > u64::MAX as u128 {
            return u64::MAX;
        }
    }
    c as u64
}

/// The repetition number: the smallest `t` with `β(s, t) ≥ l`.
fn repetitions(l: usize, s: usize) -> usize {
    let mut t = 0;
    while binomial(s, t) < l as u64 {
        t += 1;
    }
    t
}

/// Griewank's minimal number of forward (untaped) step evaluations needed to reverse `steps`
/// steps with `snapshots` snapshots, the initial state counting as one:
/// `p(l, s) = t·l − β(s + 1, t − 1)` with `t` the smallest integer such that `β(s, t) ≥ l`.
///
/// On top of these, each step is evaluated once more, on a tape, when it is reversed.
///
/// # Panics
/// If `snapshots == 0` and `steps > 1`.
///
/// ```
/// use ferrad_core::checkpoint::min_forward_steps;
/// assert_eq!(min_forward_steps(10, 1), 45);  // one snapshot: 9 + 8 + … + 1
/// assert_eq!(min_forward_steps(10, 10), 9);  // enough snapshots: one forward sweep
/// assert_eq!(min_forward_steps(10_000, 16), 44_015);
/// ```
pub fn min_forward_steps(steps: usize, snapshots: usize) -> u64 {
    if steps <= 1 {
        return 0;
    }
    check_snapshots(snapshots);
    let t = repetitions(steps, snapshots);
    (t as u64) * (steps as u64) - binomial(snapshots + 1, t - 1)
}

fn check_snapshots(snapshots: usize) {
    assert!(
        snapshots >= 1,
        "checkpointing needs at least 1 snapshot (it holds the initial state); got 0"
    );
}

/// Where to place the next snapshot when reversing `l ≥ 2` steps with `s ≥ 2` snapshots: after
/// `m` steps, so that the `l − m` steps on the right are reversed with `s − 1` snapshots and
/// repetition number `t`, and the `m` on the left with `s` snapshots and `t − 1`.
fn split(l: usize, s: usize) -> usize {
    let t = repetitions(l, s);
    let b = |s, t| binomial(s, t).min(usize::MAX as u64) as usize;
    let lo = l
        .saturating_sub(b(s - 1, t))
        .max(if t >= 2 { b(s, t - 2) } else { 0 })
        .max(1);
    let hi = b(s, t - 1).min(l - 1);
    debug_assert!(lo <= hi, "revolve split for l = {l}, s = {s}: {lo} > {hi}");
    lo.min(hi)
}

/// The binomial checkpointing schedule reversing `steps` steps with at most `snapshots` stored
/// states (the initial state included). Its [`Action::Advance`]s sum to exactly
/// [`min_forward_steps`]`(steps, snapshots)` step evaluations.
///
/// # Panics
/// If `snapshots == 0` and `steps > 0`.
///
/// ```
/// use ferrad_core::checkpoint::revolve;
/// let text: Vec<String> = revolve(4, 2).iter().map(|a| a.to_string()).collect();
/// assert_eq!(
///     text.join(", "),
///     "store 0, advance 0..1, store 1, advance 1..3, reverse 3, restore 1, advance 1..2, \
///      reverse 2, restore 1, reverse 1, free 1, restore 0, reverse 0, free 0"
/// );
/// ```
pub fn revolve(steps: usize, snapshots: usize) -> Vec<Action> {
    let mut out = Vec::new();
    if steps == 0 {
        return out;
    }
    check_snapshots(snapshots);
    // Snapshots beyond one per step cannot help.
    let snapshots = snapshots.min(steps);
    enum Task {
        /// Reverse steps `a..a + l`, with `s_a` on top of the snapshot stack and `s`
        /// snapshots available (that one included).
        Rev {
            a: usize,
            l: usize,
            s: usize,
        },
        Free {
            at: usize,
        },
    }
    let mut cur = Some(0);
    let goto = |out: &mut Vec<Action>, cur: &mut Option<usize>, a: usize| {
        if *cur != Some(a) {
            out.push(Action::Restore { at: a });
            *cur = Some(a);
        }
    };
    out.push(Action::Store { at: 0 });
    // An explicit stack instead of recursion: `steps` may be far larger than the call stack.
    let mut tasks = vec![
        Task::Free { at: 0 },
        Task::Rev {
            a: 0,
            l: steps,
            s: snapshots,
        },
    ];
    while let Some(task) = tasks.pop() {
        match task {
            Task::Free { at } => out.push(Action::Free { at }),
            Task::Rev { l: 0, .. } => {}
            Task::Rev { a, l: 1, .. } => {
                goto(&mut out, &mut cur, a);
                out.push(Action::Reverse { k: a });
                cur = None;
            }
            Task::Rev { a, l, s: 1 } => {
                for k in (a..a + l).rev() {
                    goto(&mut out, &mut cur, a);
                    if k > a {
                        out.push(Action::Advance { from: a, to: k });
                    }
                    out.push(Action::Reverse { k });
                    cur = None;
                }
            }
            Task::Rev { a, l, s } => {
                let m = split(l, s);
                goto(&mut out, &mut cur, a);
                out.push(Action::Advance { from: a, to: a + m });
                out.push(Action::Store { at: a + m });
                cur = Some(a + m);
                // Right part first (it needs the adjoint from the end), then the left part.
                tasks.push(Task::Rev { a, l: m, s });
                tasks.push(Task::Free { at: a + m });
                tasks.push(Task::Rev {
                    a: a + m,
                    l: l - m,
                    s: s - 1,
                });
            }
        }
    }
    out
}

/// What a checkpointed (or full-tape) gradient cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Number of time steps `l`.
    pub steps: usize,
    /// Step evaluations in plain `f64`, without a tape (forward sweeps and recomputations).
    pub forward_steps: u64,
    /// Step evaluations recorded on a tape: each step once.
    pub taped_steps: u64,
    /// Step evaluations beyond the `l` of one taped run: `forward_steps + taped_steps − l`.
    pub recomputations: u64,
    /// The most snapshots held at once (the initial state included).
    pub peak_snapshots: usize,
    /// Bytes of the snapshots at that peak.
    pub peak_snapshot_bytes: usize,
    /// Bytes of the largest tape held (one step's tape; for the full tape, all of it).
    pub max_tape_bytes: usize,
    /// An upper bound on the bytes held at once: snapshots, the largest tape, and the current
    /// state with the state and parameter adjoints.
    pub peak_bytes: usize,
}

/// The value and gradient of `loss(s_l)` for a time-stepping loop, from [`gradient`] or
/// [`gradient_full_tape`].
#[derive(Clone, Debug, PartialEq)]
pub struct LoopGradient {
    /// `loss(s_l)`.
    pub value: f64,
    /// `∂loss/∂s₀`.
    pub d_s0: Vec<f64>,
    /// `∂loss/∂θ`.
    pub d_theta: Vec<f64>,
    /// Work and memory.
    pub stats: Stats,
}

/// Runs the loop forward in `f64` and returns the final state `s_steps`.
///
/// ```
/// use ferrad_core::prelude::*;
/// use ferrad_core::checkpoint::{TimeStep, run};
/// struct Double;
/// impl TimeStep for Double {
///     fn step<T: Real>(&self, _k: usize, s: &[T], _theta: &[T]) -> Vec<T> { vec![s[0] * 2.0] }
/// }
/// assert_eq!(run(&Double, &[1.0], &[], 10), vec![1024.0]);
/// ```
pub fn run(step: &impl TimeStep, s0: &[f64], theta: &[f64], steps: usize) -> Vec<f64> {
    let mut s = s0.to_vec();
    for k in 0..steps {
        s = checked_step(step, k, &s, theta);
    }
    s
}

fn checked_step<T: Real>(step: &impl TimeStep, k: usize, s: &[T], theta: &[T]) -> Vec<T> {
    let next = step.step(k, s, theta);
    assert!(
        next.len() == s.len(),
        "TimeStep::step({k}, ..) returned a state of length {} from one of length {}",
        next.len(),
        s.len()
    );
    next
}

/// `loss(s_steps)`, `∂loss/∂s₀` and `∂loss/∂θ` with binomial checkpointing: at most `snapshots`
/// states stored at once, one step's tape at a time, and the fewest recomputations possible
/// ([`min_forward_steps`]).
///
/// # Panics
/// If `snapshots == 0` while `steps > 0`, or if `step` changes the state's length.
///
/// ```
/// use ferrad_core::prelude::*;
/// use ferrad_core::checkpoint::{self, TimeStep};
/// struct Decay;
/// impl TimeStep for Decay {
///     fn step<T: Real>(&self, _k: usize, s: &[T], theta: &[T]) -> Vec<T> {
///         s.iter().map(|&v| v - v * theta[0] * 0.01).collect()
///     }
/// }
/// fn energy<T: Real>(s: &[T]) -> T { s.iter().map(|&v| v * v).sum() }
/// let loss = ferrad_core::scalar_fn!(energy);
/// let cp = checkpoint::gradient(&Decay, &loss, &[1.0, 2.0], &[1.0], 100, 4);
/// let full = checkpoint::gradient_full_tape(&Decay, &loss, &[1.0, 2.0], &[1.0], 100);
/// assert_eq!(cp.value, full.value);
/// assert!((cp.d_theta[0] - full.d_theta[0]).abs() < 1e-12);
/// assert_eq!(cp.stats.forward_steps, checkpoint::min_forward_steps(100, 4));
/// assert!(cp.stats.peak_snapshots <= 4);
/// ```
pub fn gradient(
    step: &impl TimeStep,
    loss: &impl ScalarFn,
    s0: &[f64],
    theta: &[f64],
    steps: usize,
    snapshots: usize,
) -> LoopGradient {
    execute(step, loss, s0, theta, steps, &revolve(steps, snapshots))
}

/// Runs a schedule (from [`revolve`], or any valid one) and returns the loop's value and gradient.
///
/// # Panics
/// If the schedule is not valid for `steps` steps: an action finds the current state or the top
/// snapshot at the wrong step, or some step is not reversed exactly once in order.
pub fn execute(
    step: &impl TimeStep,
    loss: &impl ScalarFn,
    s0: &[f64],
    theta: &[f64],
    steps: usize,
    schedule: &[Action],
) -> LoopGradient {
    let (d, p) = (s0.len(), theta.len());
    let mut stats = Stats {
        steps,
        ..Stats::default()
    };
    let mut snaps: Vec<(usize, Vec<f64>)> = Vec::new();
    let mut cur = s0.to_vec();
    let mut cur_at = Some(0);
    let mut value = f64::NAN;
    // The adjoint of s_{next_reverse + 1}; `None` until the last step has been reversed.
    let mut adj_s: Option<Vec<f64>> = None;
    let mut adj_theta = vec![0.0; p];
    let mut next_reverse = steps;
    let bad =
        |a: &Action, why: String| -> ! { panic!("invalid checkpointing schedule at `{a}`: {why}") };
    for a in schedule {
        match *a {
            Action::Store { at } => {
                if cur_at != Some(at) {
                    bad(a, format!("the current state is {cur_at:?}"));
                }
                snaps.push((at, cur.clone()));
                stats.peak_snapshots = stats.peak_snapshots.max(snaps.len());
            }
            Action::Restore { at } => match snaps.iter().rev().find(|(k, _)| *k == at) {
                Some((_, s)) => {
                    cur.clone_from(s);
                    cur_at = Some(at);
                }
                None => bad(a, "no such snapshot".into()),
            },
            Action::Advance { from, to } => {
                if cur_at != Some(from) || to > steps {
                    bad(
                        a,
                        format!("the current state is {cur_at:?}, steps = {steps}"),
                    );
                }
                for k in from..to {
                    cur = checked_step(step, k, &cur, theta);
                    stats.forward_steps += 1;
                }
                cur_at = Some(to);
            }
            Action::Reverse { k } => {
                if cur_at != Some(k) || k + 1 != next_reverse {
                    bad(
                        a,
                        format!(
                            "the current state is {cur_at:?}, the next step to reverse is {next_reverse} - 1"
                        ),
                    );
                }
                let tape = Tape::<f64>::new();
                let xs = tape.vars(&cur);
                let th = tape.vars(theta);
                let ys = checked_step(step, k, &xs, &th);
                stats.taped_steps += 1;
                let seed = match adj_s.take() {
                    Some(g) => g,
                    None => {
                        let last: Vec<f64> = ys.iter().map(|y| y.val()).collect();
                        let (v, g) = crate::api::gradient(loss, &last);
                        value = v;
                        g
                    }
                };
                stats.max_tape_bytes = stats.max_tape_bytes.max(tape.stats().bytes);
                let seeds: Vec<(Var<f64>, f64)> = ys.into_iter().zip(seed).collect();
                let inputs: Vec<Var<f64>> = xs.into_iter().chain(th).collect();
                let g = tape.adjoints_wrt(&seeds, &inputs);
                for (t, gt) in adj_theta.iter_mut().zip(&g[d..]) {
                    *t += gt;
                }
                adj_s = Some(g[..d].to_vec());
                cur_at = None;
                next_reverse = k;
            }
            Action::Free { at } => match snaps.last() {
                Some((k, _)) if *k == at => {
                    snaps.pop();
                }
                _ => bad(a, "it is not the top snapshot".into()),
            },
        }
    }
    if next_reverse != 0 {
        panic!("invalid checkpointing schedule: steps 0..{next_reverse} were never reversed");
    }
    let d_s0 = match adj_s {
        Some(g) => g,
        None => {
            // No steps: the loss of the initial state.
            let (v, g) = crate::api::gradient(loss, s0);
            value = v;
            g
        }
    };
    finish(&mut stats, d, p);
    LoopGradient {
        value,
        d_s0,
        d_theta: adj_theta,
        stats,
    }
}

fn finish(stats: &mut Stats, d: usize, p: usize) {
    let f = core::mem::size_of::<f64>();
    stats.recomputations = stats.forward_steps + stats.taped_steps - stats.steps as u64;
    stats.peak_snapshot_bytes = stats.peak_snapshots * d * f;
    stats.peak_bytes = stats.peak_snapshot_bytes + stats.max_tape_bytes + (2 * d + p) * f;
}

/// The same as [`gradient`], from one tape holding every step (no recomputation; memory grows
/// with `steps × operations per step`). For comparison and for short loops.
///
/// ```
/// use ferrad_core::prelude::*;
/// use ferrad_core::checkpoint::{self, TimeStep};
/// struct Scale;
/// impl TimeStep for Scale {
///     fn step<T: Real>(&self, _k: usize, s: &[T], theta: &[T]) -> Vec<T> { vec![s[0] * theta[0]] }
/// }
/// fn id<T: Real>(s: &[T]) -> T { s[0] }
/// // s₃ = s₀·θ³: ∂/∂s₀ = θ³, ∂/∂θ = 3·s₀·θ².
/// let g = checkpoint::gradient_full_tape(&Scale, &ferrad_core::scalar_fn!(id), &[2.0], &[3.0], 3);
/// assert_eq!((g.value, g.d_s0[0], g.d_theta[0]), (54.0, 27.0, 54.0));
/// ```
pub fn gradient_full_tape(
    step: &impl TimeStep,
    loss: &impl ScalarFn,
    s0: &[f64],
    theta: &[f64],
    steps: usize,
) -> LoopGradient {
    let (d, p) = (s0.len(), theta.len());
    let tape = Tape::<f64>::new();
    let xs = tape.vars(s0);
    let th = tape.vars(theta);
    let mut s = xs.clone();
    for k in 0..steps {
        s = checked_step(step, k, &s, &th);
    }
    let y = loss.eval(&s);
    let mut stats = Stats {
        steps,
        taped_steps: steps as u64,
        ..Stats::default()
    };
    stats.max_tape_bytes = tape.stats().bytes;
    let inputs: Vec<Var<f64>> = xs.into_iter().chain(th).collect();
    let g = tape.adjoints_wrt(&[(y, 1.0)], &inputs);
    finish(&mut stats, d, p);
    LoopGradient {
        value: y.val(),
        d_s0: g[..d].to_vec(),
        d_theta: g[d..].to_vec(),
        stats,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Minimal forward steps by dynamic programming over the first snapshot's position.
    fn dp(lmax: usize, smax: usize) -> Vec<Vec<u64>> {
        let mut p = vec![vec![0u64; smax + 1]; lmax + 1];
        for l in 2..=lmax {
            p[l][1] = (l * (l - 1) / 2) as u64;
            for s in 2..=smax {
                p[l][s] = (1..l)
                    .map(|m| m as u64 + p[l - m][s - 1] + p[m][s])
                    .min()
                    .unwrap();
            }
        }
        p
    }

    #[test]
    fn closed_form_equals_dynamic_programming() {
        let p = dp(80, 7);
        for (l, row) in p.iter().enumerate().skip(1) {
            for (s, &v) in row.iter().enumerate().skip(1) {
                assert_eq!(min_forward_steps(l, s), v, "l = {l}, s = {s}");
            }
        }
    }

    #[test]
    fn split_is_always_in_range() {
        for s in 2..12 {
            for l in 2..3000 {
                let m = split(l, s);
                assert!((1..l).contains(&m), "l = {l}, s = {s}: m = {m}");
            }
        }
    }

    #[test]
    fn schedule_printer() {
        let text: Vec<String> = revolve(3, 1).iter().map(|a| a.to_string()).collect();
        assert_eq!(
            text.join("; "),
            "store 0; advance 0..2; reverse 2; restore 0; advance 0..1; reverse 1; restore 0; reverse 0; free 0"
        );
    }
}
