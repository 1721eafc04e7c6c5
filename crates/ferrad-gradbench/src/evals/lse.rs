//! `lse`: LogSumExp `log Σ exp(xᵢ)` with the max-shift trick, and its gradient.
//!
//! Mode: compiled reverse (`#[ferrad::autodiff_reverse]` on [`lse_shifted`], which the macro
//! lowers through ferrad-ir into one fused, tape-free loop). `n` inputs (up to 1.28 million) and
//! one output, so one reverse sweep gives the gradient, where forward mode would need `n`
//! passes; the body is plain `f64` code in the macro's compiled subset, so no tape is recorded.
//! The shift `a = max x` enters as a `Const` argument: `LSE(x) = a + log Σ exp(xᵢ − a)` holds
//! for any `a`, so its derivative through `a` is exactly zero and need not be propagated (as
//! JAX's `stop_gradient` in `logsumexp`).
//!
//! The generic [`lse`] (over [`Real`]) is the same formula for callers that nest it in a larger
//! taped computation (the `gmm` eval); [`lse_shifted`] at `a = max x` equals it bit for bit.
//!
//! Invariant: `gradient` uses the compiled backend (`__FERRAD_BACKEND_d_lse_shifted == "ir"`,
//! tested).

use ferrad::autodiff_reverse;
use ferrad::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::timing::{Evaluated, Prepare, Runs, parse};

#[derive(Deserialize)]
struct Input {
    x: Vec<f64>,
}

/// `log Σ exp(xᵢ)`, computed stably.
pub fn lse<T: Real>(x: &[T]) -> T {
    let a = x.iter().map(Real::value).fold(f64::NEG_INFINITY, f64::max);
    let s: T = x.iter().map(|&v| (v - a).exp()).sum();
    s.ln() + a
}

/// `a + log Σ exp(xᵢ − a)`: `log Σ exp(xᵢ)` for any shift `a` (stable at `a = max x`).
/// `d_lse_shifted(x, dx, a, seed)` adds `seed · ∂/∂x` into `dx`.
#[autodiff_reverse(d_lse_shifted, Duplicated, Const, Active)]
pub fn lse_shifted(x: &[f64], a: f64) -> f64 {
    let s: f64 = x.iter().map(|v| (v - a).exp()).sum();
    s.ln() + a
}

/// `max x` (`−∞` for an empty `x`).
pub fn max(x: &[f64]) -> f64 {
    x.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// `(lse(x), ∇lse(x))` by the compiled reverse derivative of [`lse_shifted`].
pub fn value_and_gradient(x: &[f64]) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; x.len()];
    let y = d_lse_shifted(x, &mut g, max(x), 1.0);
    (y, g)
}

/// `lse.evaluate`: `primal` or `gradient`.
pub fn evaluate(function: &str, input: &Value) -> Result<Evaluated, String> {
    let prep = Prepare::start();
    let Input { x } = parse("lse", input)?;
    let runs = Runs::from_input(input)?;
    if x.is_empty() {
        return Err("lse: x is empty".into());
    }
    match function {
        "primal" => Ok(prep.run(runs, || lse(&x), |y| json!(y))),
        "gradient" => Ok(prep.run(runs, || value_and_gradient(&x).1, |g| json!(g))),
        _ => Err(super::unknown_function(
            "lse",
            function,
            &["primal", "gradient"],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_and_equal_to_the_generic_lse() {
        assert_eq!(__FERRAD_BACKEND_d_lse_shifted, "ir");
        let x: Vec<f64> = (0..37).map(|i| 10.0 * (i as f64 * 0.7).sin()).collect();
        let (y, g) = value_and_gradient(&x);
        assert_eq!(y, lse(&x));
        assert_eq!(lse_shifted(&x, max(&x)), lse(&x));
        let (_, g_tape) = ferrad::gradient(&ferrad::scalar_fn!(lse), &x);
        for (a, b) in g.iter().zip(&g_tape) {
            assert!((a - b).abs() < 1e-14, "{a} vs {b}");
        }
    }
}
