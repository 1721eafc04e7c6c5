//! `lse`: LogSumExp `log Σ exp(xᵢ)` with the max-shift trick, and its gradient.
//!
//! Mode: reverse ([`ferrad::gradient`]): `n` inputs (up to 1.28 million) and one output, so one
//! recording and one backward sweep give the gradient, where forward mode would need `n` passes.
//! The shift `a = max x` enters as a constant: `LSE(x) = a + log Σ exp(xᵢ − a)` holds for any `a`,
//! so its derivative through `a` is exactly zero and need not be taped (as JAX's
//! `stop_gradient` in `logsumexp`).

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

/// `lse.evaluate`: `primal` or `gradient`.
pub fn evaluate(function: &str, input: &Value) -> Result<Evaluated, String> {
    let prep = Prepare::start();
    let Input { x } = parse("lse", input)?;
    let runs = Runs::from_input(input)?;
    if x.is_empty() {
        return Err("lse: x is empty".into());
    }
    let f = ferrad::scalar_fn!(lse);
    match function {
        "primal" => Ok(prep.run(runs, || lse(&x), |y| json!(y))),
        "gradient" => Ok(prep.run(runs, || ferrad::gradient(&f, &x).1, |g| json!(g))),
        _ => Err(super::unknown_function(
            "lse",
            function,
            &["primal", "gradient"],
        )),
    }
}
