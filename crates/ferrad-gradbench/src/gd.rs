//! The gradient-descent solver shared by `particle` and `saddle`, transcribed from GradBench's
//! `cpp/gradbench/gd.hpp` so that every tool runs the same iterations.
//!
//! It is generic over [`Real`]: when an outer AD mode differentiates through an argmin (nested
//! AD), the iterates carry the outer derivative while the step-size logic compares primal
//! values only.
//!
//! Invariant: the control flow (accept/reject, stopping) depends on primal values alone, so every
//! number type takes the same path as plain `f64`.

use ferrad::prelude::*;

fn magnitude<T: Real>(v: &[T]) -> f64 {
    v.iter().map(|x| x.value() * x.value()).sum::<f64>().sqrt()
}

fn distance<T: Real>(u: &[T], v: &[T]) -> f64 {
    u.iter().zip(v).map(|(a, b)| (a.value() - b.value()).powi(2)).sum::<f64>().sqrt()
}

/// The argmin of `objective` from `start` by gradient descent with an adaptive step, exactly as
/// GradBench's `multivariate_argmin`.
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
    loop {
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
