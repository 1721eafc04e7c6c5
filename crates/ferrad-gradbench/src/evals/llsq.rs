//! `llsq`: the linear least-squares objective of cmpad,
//! `y(x) = ½ Σᵢ (sign(tᵢ) − Σⱼ xⱼ tᵢʲ)²` with `tᵢ = −1 + 2i/(n−1)`, and its gradient.
//!
//! Mode: compiled reverse (`#[ferrad::autodiff_reverse]` on [`llsq_compiled`], lowered through
//! ferrad-ir into fused, tape-free loops): `m = 128` inputs at the default workloads and one
//! output, so one reverse sweep beats the 11 chunked forward passes that 128 tangents would
//! need, and the body is plain `f64` code in the macro's compiled subset. The number of sample
//! points `n` is a `Const` integer parameter (the points `tᵢ` are computed from the index as the
//! specification defines them), so it carries no derivative. The derivative returns no
//! primal (`ActiveOnly`), so the compiled code keeps no separate forward sweep: it is one
//! reverse sweep over the points that recomputes each point's powers `tᵢʲ` into a buffer and
//! accumulates `x̄` from them. (Horner's rule would need no buffer, but its single dependency
//! chain is latency-bound and measured 2.5× slower.)
//!
//! The generic [`llsq`] (over [`Real`]) is the objective as the specification writes it; the
//! `primal` function runs it.
//!
//! Invariant: `gradient` uses the compiled backend (`__FERRAD_BACKEND_d_llsq_compiled == "ir"`,
//! tested) and [`llsq_compiled`] equals [`llsq`] to rounding.

use ferrad::autodiff_reverse;
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

/// [`llsq`] for `n` sample points, in the compiled subset.
#[allow(clippy::needless_range_loop)] // index loops are the compiled subset
#[autodiff_reverse(d_llsq_compiled, Duplicated, Const, ActiveOnly)]
pub fn llsq_compiled(x: &[f64], n: usize) -> f64 {
    let nf = n as f64;
    let mut sum = 0.0;
    for i in 0..n {
        let ti = -1.0 + i as f64 * 2.0 / (nf - 1.0);
        let sign = if ti > 0.0 {
            1.0
        } else if ti < 0.0 {
            -1.0
        } else {
            0.0
        };
        let mut inner = sign;
        let mut mul = 1.0;
        for j in 0..x.len() {
            inner -= x[j] * mul;
            mul *= ti;
        }
        sum += inner * inner;
    }
    sum * 0.5
}

/// `∇ llsq(x)` for `n` sample points by the compiled reverse derivative of [`llsq_compiled`].
pub fn gradient(x: &[f64], n: usize) -> Vec<f64> {
    let mut g = vec![0.0; x.len()];
    d_llsq_compiled(x, &mut g, n, 1.0);
    g
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
    match function {
        "primal" => Ok(prep.run(runs, || llsq(&x, n), |y| json!(y))),
        "gradient" => Ok(prep.run(runs, || gradient(&x, n), |g| json!(g))),
        _ => Err(super::unknown_function(
            "llsq",
            function,
            &["primal", "gradient"],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_and_equal_to_the_tape() {
        assert_eq!(__FERRAD_BACKEND_d_llsq_compiled, "ir");
        let x: Vec<f64> = (0..9).map(|i| 0.1 * (i as f64 * 0.3).sin()).collect();
        for n in [2, 7, 50] {
            let y = llsq_compiled(&x, n);
            assert!((y - llsq(&x, n)).abs() < 1e-13 * (1.0 + y.abs()), "n = {n}");
            let g = gradient(&x, n);
            let (_, g_tape) = ferrad::gradient(&Llsq { n }, &x);
            for (a, b) in g.iter().zip(&g_tape) {
                assert!(
                    (a - b).abs() < 1e-12 * (1.0 + b.abs()),
                    "n = {n}: {a} vs {b}"
                );
            }
        }
        assert_eq!(gradient(&[], 5), Vec::<f64>::new());
    }
}
