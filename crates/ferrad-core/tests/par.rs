//! `ferrad::par`: the threaded derivatives agree bit for bit with the sequential API and with
//! themselves at every thread count (fixed chunking: the result never depends on scheduling).

use ferrad_core::par::{self, TermFn};
use ferrad_core::prelude::*;
use ferrad_core::{gradient, gradient_forward, hessian, jacobian, scalar_fn};

fn f<T: Real>(x: &[T]) -> T {
    let mut s = T::cst(0.0);
    for i in 0..x.len() {
        let next = x[(i + 1) % x.len()];
        s += (x[i] * next).sin() + x[i].powi(2) * T::cst(0.5);
    }
    s
}

struct Map;
impl VectorFn for Map {
    fn eval<T: Real>(&self, x: &[T]) -> Vec<T> {
        (0..x.len() / 3)
            .map(|i| x[i].exp() * x[3 * i + 1].cos() - x[3 * i + 2])
            .collect()
    }
}
struct Wide;
impl VectorFn for Wide {
    fn eval<T: Real>(&self, x: &[T]) -> Vec<T> {
        (0..3 * x.len())
            .map(|k| x[k % x.len()].sin() * T::cst(k as f64 + 1.0))
            .collect()
    }
}

/// Σᵢ (x₀·aᵢ + x₁·sin(aᵢ) − bᵢ)², data generated from i.
struct Fit;
impl TermFn for Fit {
    fn term<T: Real>(&self, i: usize, x: &[T]) -> T {
        let a = i as f64 * 0.001;
        let r = x[0] * T::cst(a) + x[1] * T::cst(a.sin()) - T::cst(a.cos());
        r * r
    }
}
struct Sum;
impl ScalarFn for Sum {
    fn eval<T: Real>(&self, x: &[T]) -> T {
        let mut s = T::cst(0.0);
        for i in 0..2000 {
            s += Fit.term(i, x);
        }
        s
    }
}

fn at(n: usize) -> Vec<f64> {
    (0..n).map(|i| (i as f64 * 0.37).sin()).collect()
}

/// Runs `check` with 1, 2 and 3 threads; `par`'s setting is global, so one test owns it.
#[test]
fn threaded_results_are_the_sequential_bits_at_every_thread_count() {
    for threads in [1, 2, 3] {
        par::set_threads(threads);
        assert_eq!(par::threads(), threads);
        // forward passes: 100 inputs in chunks
        let x = at(100);
        let sf = scalar_fn!(f);
        assert_eq!(
            par::gradient_forward(&sf, &x),
            gradient_forward(&sf, &x),
            "{threads}"
        );
        // Jacobian, forward shape (n ≤ m) and reverse shape (n > m, several row blocks)
        let x = at(40);
        assert_eq!(par::jacobian(&Wide, &x), jacobian(&Wide, &x), "{threads}");
        let x = at(150);
        assert_eq!(par::jacobian(&Map, &x), jacobian(&Map, &x), "{threads}");
        // Hessian: n > 12, several column blocks
        let x = at(30);
        assert_eq!(par::hessian(&sf, &x), hessian(&sf, &x), "{threads}");
        // small problems stay on the calling thread and agree too
        let x = at(3);
        assert_eq!(par::hessian(&sf, &x), hessian(&sf, &x));
        assert_eq!(par::gradient_forward(&sf, &[]), gradient_forward(&sf, &[]));
    }
    // a sum of terms: identical at every thread count, and the one-tape gradient to rounding
    let mut results = Vec::new();
    for threads in [1, 2, 3] {
        par::set_threads(threads);
        results.push(par::gradient_of_sum(&Fit, &[0.3, -0.7], 2000));
    }
    assert!(results.windows(2).all(|w| w[0] == w[1]), "{results:?}");
    let (y, g) = gradient(&Sum, &[0.3, -0.7]);
    let (py, pg) = &results[0];
    assert!((py - y).abs() <= 1e-12 * y.abs());
    for (a, b) in pg.iter().zip(&g) {
        assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
    }
    par::set_threads(0);
}
