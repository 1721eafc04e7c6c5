//! `llsq`: the linear least-squares objective of cmpad,
//! `y(x) = ½ Σᵢ (sign(tᵢ) − Σⱼ xⱼ tᵢʲ)²` with `tᵢ = −1 + 2i/(n−1)`, and its gradient.
//!
//! Mode: reverse ([`ferrad::gradient`]): `m = 128` inputs at the default workloads and one
//! output; one sweep beats the 11 chunked forward passes that 128 tangents would need.

use ferrad::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::timing::{Evaluated, Prepare, Runs, parse};

#[derive(Deserialize)]
struct Input {
    x: Vec<f64>,
    n: usize,
}

fn t(i: usize, n: usize) -> f64 {
    -1.0 + i as f64 * 2.0 / (n as f64 - 1.0)
}

fn sign(t: f64) -> f64 {
    ((0.0 < t) as i32 - (t < 0.0) as i32) as f64
}

/// The objective for `n` sample points.
pub fn llsq<T: Real>(x: &[T], n: usize) -> T {
    let mut sum = T::cst(0.0);
    for i in 0..n {
        let ti = t(i, n);
        let mut inner = T::cst(sign(ti));
        let mut mul = 1.0;
        for &xj in x {
            inner -= xj * mul;
            mul *= ti;
        }
        sum += inner * inner;
    }
    sum * 0.5
}

/// [`llsq`] with its `n` fixed, as a [`ScalarFn`].
#[derive(Clone, Copy, Debug)]
pub struct Llsq {
    /// The number of sample points.
    pub n: usize,
}

impl ScalarFn for Llsq {
    fn eval<T: Real>(&self, x: &[T]) -> T {
        llsq(x, self.n)
    }
}

/// `llsq.evaluate`: `primal` or `gradient`.
pub fn evaluate(function: &str, input: &Value) -> Result<Evaluated, String> {
    let prep = Prepare::start();
    let Input { x, n } = parse("llsq", input)?;
    let runs = Runs::from_input(input)?;
    let f = Llsq { n };
    match function {
        "primal" => Ok(prep.run(runs, || llsq(&x, n), |y| json!(y))),
        "gradient" => Ok(prep.run(runs, || ferrad::gradient(&f, &x).1, |g| json!(g))),
        _ => Err(super::unknown_function(
            "llsq",
            function,
            &["primal", "gradient"],
        )),
    }
}
