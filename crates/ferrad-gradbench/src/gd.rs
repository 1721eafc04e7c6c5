//! The gradient-descent solver shared by `particle` and `saddle`, transcribed from GradBench's
//! `cpp/gradbench/gd.hpp` so that every tool runs the same iterations.
//!
//! It is generic over [`Real`]: when an outer AD mode differentiates through an argmin (nested
//! AD), the iterates carry the outer derivative while the step-size logic compares primal
//! values only.
//!
//! Invariant: the control flow (accept/reject, stopping) depends on primal values alone, so every
//! number type takes the same path as plain `f64`.

use ferrad::lift::Lift;
use ferrad::prelude::*;

fn magnitude<T: Real>(v: &[T]) -> f64 {
    v.iter().map(|x| x.value() * x.value()).sum::<f64>().sqrt()
}

fn distance<T: Real>(u: &[T], v: &[T]) -> f64 {
    u.iter()
        .zip(v)
        .map(|(a, b)| (a.value() - b.value()).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// The most iterations [`argmin`] runs before it gives up (with a panic, which the protocol
/// layer answers as `success: false`).
pub const MAX_ITERATIONS: usize = 10_000_000;

/// The argmin of `objective` from `start` by gradient descent with an adaptive step, exactly as
/// GradBench's `multivariate_argmin`.
///
/// # Panics
/// If it has not converged after [`MAX_ITERATIONS`] iterations (a NaN objective, say).
pub fn argmin<T: Real>(
    objective: impl Fn(&[T]) -> T,
    gradient: impl Fn(&[T]) -> Vec<T>,
    start: &[T],
) -> Vec<T> {
    let mut x = start.to_vec();
    let mut fx = objective(&x);
    let mut gx = gradient(&x);
    let mut i = 0;
    let mut eta = 1e-5;
    for _ in 0..MAX_ITERATIONS {
        if magnitude(&gx) <= 1e-5 {
            return x;
        } else if i == 10 {
            eta *= 2.0;
            i = 0;
        } else {
            let x_prime: Vec<T> = x.iter().zip(&gx).map(|(&a, &g)| a - g * eta).collect();
            if distance(&x, &x_prime) <= 1e-5 {
                return x;
            }
            let fx_prime = objective(&x_prime);
            if fx_prime.value() < fx.value() {
                x = x_prime;
                fx = fx_prime;
                gx = gradient(&x);
                i += 1;
            } else {
                eta /= 2.0;
                i = 0;
            }
        }
    }
    panic!(
        "gradient descent did not converge in {MAX_ITERATIONS} iterations (last gradient norm {})",
        magnitude(&gx)
    )
}

/// The argmax of `objective` from `start`: [`argmin`] of its negation.
pub fn argmax<T: Real>(
    objective: impl Fn(&[T]) -> T,
    gradient: impl Fn(&[T]) -> Vec<T>,
    start: &[T],
) -> Vec<T> {
    argmin(
        |x| -objective(x),
        |x| gradient(x).into_iter().map(|g| -g).collect(),
        start,
    )
}

/// Which AD mode computes a gradient inside [`gradient_in`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One [`Dual`] pass per input.
    Forward,
    /// One recording on a [`Tape`] and one sweep.
    Reverse,
}

impl Mode {
    /// Parses the two letters of a nested-AD function name (`"ff"`, `"fr"`, `"rf"`, `"rr"`) into
    /// (outer, inner) modes.
    pub fn pair(function: &str) -> Option<(Mode, Mode)> {
        let m = |c| match c {
            'f' => Some(Mode::Forward),
            'r' => Some(Mode::Reverse),
            _ => None,
        };
        let mut cs = function.chars();
        let pair = (m(cs.next()?)?, m(cs.next()?)?);
        cs.next().is_none().then_some(pair)
    }
}

/// A scalar function that can be evaluated on any AD number built over `T`, so that it can be
/// differentiated inside a computation that is itself being differentiated (nested AD).
/// Constants of type `T` enter through [`Lift::from_inner`].
pub trait Nested<T: Real> {
    /// Evaluates the function on numbers over `T`.
    fn eval<U: Real + Lift<Inner = T>>(&self, x: &[U]) -> U;
}

/// The gradient of `f` at `x` (numbers of type `T`, possibly themselves dual or taped) in the
/// given mode: `f` is run on [`Dual<T>`] (forward) or [`Var<T>`] on a fresh [`Tape<T>`]
/// (reverse).
pub fn gradient_in<T: Real, F: Nested<T>>(mode: Mode, f: &F, x: &[T]) -> Vec<T> {
    match mode {
        Mode::Forward => {
            let mut xs: Vec<Dual<T>> = x.iter().map(|&v| Dual::constant(v)).collect();
            (0..x.len())
                .map(|i| {
                    xs[i].eps = T::cst(1.0);
                    let y = f.eval(&xs);
                    xs[i].eps = T::cst(0.0);
                    y.eps
                })
                .collect()
        }
        Mode::Reverse => {
            let tape = Tape::<T>::new();
            let xs = tape.vars(x);
            let y = f.eval(&xs);
            tape.adjoints_wrt(&[(y, T::cst(1.0))], &xs)
        }
    }
}
