//! `ode`: `s` classical Runge–Kutta steps of `y₀' = x₀`, `yᵢ' = xᵢ·yᵢ₋₁` on `[0, 2]` from
//! `y(0) = 0`, and the gradient of the last component of `y(2)` with respect to `x`.
//!
//! Mode: compiled reverse, checkpointed per step. One output and `n` inputs call for reverse
//! mode, but a tape of the whole solve holds `~16·n·s` entries (3.8 GB at `n = 10⁵, s = 100`).
//! So the primal keeps the state `y` before each step (`n·s` floats), and the backward pass pulls
//! the adjoint `ȳ` back through one step at a time, accumulating `x̄`. The vector-Jacobian
//! product of a step is the gradient of the scalar `⟨w, step(x, y)⟩` at `w = ȳ`: that is
//! [`step_dot`], written as plain `f64` code in the compiled subset of
//! `#[ferrad::autodiff_reverse]`, so each step's VJP is one fused, tape-free loop emitted by
//! ferrad-ir (`ActiveOnly`: the value of `⟨w, step⟩` itself is not returned).
//!
//! The stages of component `i` only read component `i − 1`'s, so the loop carries those in
//! scalars (ferrad-ir caches them per iteration for the reverse sweep). The weights `w` are a
//! `Const` slice: no shadow, no adjoint.
//!
//! Invariant: [`step_dot`] computes `Σᵢ wᵢ·rk4_step(x, y, h)ᵢ` with the same
//! arithmetic as the generic [`rk4_step`] the primal runs (tested), and its derivative uses the
//! compiled backend (`__FERRAD_BACKEND_d_step_dot == "ir"`, tested).

use ferrad::autodiff_reverse;
use ferrad::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::timing::{Evaluated, Prepare, Runs, parse};

#[derive(Deserialize)]
struct Input {
    x: Vec<f64>,
    s: usize,
}

fn ode_fun<T: Real>(x: &[T], y: &[T], z: &mut [T]) {
    z[0] = x[0];
    for i in 1..x.len() {
        z[i] = x[i] * y[i - 1];
    }
}

/// One Runge–Kutta step of size `h` from `y`.
pub fn rk4_step<T: Real>(x: &[T], y: &[T], h: f64) -> Vec<T> {
    let n = x.len();
    let mut k1 = vec![T::cst(0.0); n];
    let mut k2 = k1.clone();
    let mut k3 = k1.clone();
    let mut k4 = k1.clone();
    ode_fun(x, y, &mut k1);
    let tmp: Vec<T> = y
        .iter()
        .zip(&k1)
        .map(|(&yi, &k)| yi + k * h / 2.0)
        .collect();
    ode_fun(x, &tmp, &mut k2);
    let tmp: Vec<T> = y
        .iter()
        .zip(&k2)
        .map(|(&yi, &k)| yi + k * h / 2.0)
        .collect();
    ode_fun(x, &tmp, &mut k3);
    let tmp: Vec<T> = y.iter().zip(&k3).map(|(&yi, &k)| yi + k * h).collect();
    ode_fun(x, &tmp, &mut k4);
    (0..n)
        .map(|i| y[i] + (k1[i] + k2[i] * 2.0 + k3[i] * 2.0 + k4[i]) * h / 6.0)
        .collect()
}

/// `y(2)` after `s` steps.
pub fn primal<T: Real>(x: &[T], s: usize) -> Vec<T> {
    let h = 2.0 / s as f64;
    let mut y = vec![T::cst(0.0); x.len()];
    for _ in 0..s {
        y = rk4_step(x, &y, h);
    }
    y
}

/// `Σᵢ wᵢ·rk4_step(x, y, h)ᵢ` in one pass over the components: the stages of component `i`
/// read only component `i − 1`'s, which the loop carries in scalars.
#[autodiff_reverse(d_step_dot, Duplicated, Duplicated, Const, Const, ActiveOnly)]
#[allow(clippy::needless_range_loop)] // index loops are the compiled subset
pub fn step_dot(x: &[f64], y: &[f64], w: &[f64], h: f64) -> f64 {
    // component 0: y₀' = x₀, so every stage is x₀
    let x0 = x[0];
    let y0 = y[0];
    let mut yp = y0;
    let mut t1p = y0 + x0 * h / 2.0;
    let mut t2p = y0 + x0 * h / 2.0;
    let mut t3p = y0 + x0 * h;
    let mut s = w[0] * (y0 + (x0 + x0 * 2.0 + x0 * 2.0 + x0) * h / 6.0);
    for i in 1..x.len() {
        let xi = x[i];
        let yi = y[i];
        let k1 = xi * yp;
        let t1 = yi + k1 * h / 2.0;
        let k2 = xi * t1p;
        let t2 = yi + k2 * h / 2.0;
        let k3 = xi * t2p;
        let t3 = yi + k3 * h;
        let k4 = xi * t3p;
        s += w[i] * (yi + (k1 + k2 * 2.0 + k3 * 2.0 + k4) * h / 6.0);
        yp = yi;
        t1p = t1;
        t2p = t2;
        t3p = t3;
    }
    s
}

/// `∇ₓ y(2)ₙ₋₁` by step-wise checkpointed reverse mode, each step's VJP compiled.
pub fn gradient(x: &[f64], s: usize) -> Vec<f64> {
    let n = x.len();
    let h = 2.0 / s as f64;
    let mut states = Vec::with_capacity(s);
    let mut y = vec![0.0; n];
    for _ in 0..s {
        let next = rk4_step(x, &y, h);
        states.push(y);
        y = next;
    }
    let mut x_bar = vec![0.0; n];
    let mut y_bar = vec![0.0; n];
    let mut y_bar_prev = vec![0.0; n];
    y_bar[n - 1] = 1.0;
    for y in states.iter().rev() {
        y_bar_prev.fill(0.0);
        d_step_dot(x, &mut x_bar, y, &mut y_bar_prev, &y_bar, h, 1.0);
        std::mem::swap(&mut y_bar, &mut y_bar_prev);
    }
    x_bar
}

/// `ode.evaluate`: `primal` or `gradient`.
pub fn evaluate(function: &str, input: &Value) -> Result<Evaluated, String> {
    let prep = Prepare::start();
    let Input { x, s } = parse("ode", input)?;
    let runs = Runs::from_input(input)?;
    if x.is_empty() || s == 0 {
        return Err(format!(
            "ode: need x non-empty and s > 0 (got {} inputs, s = {s})",
            x.len()
        ));
    }
    match function {
        "primal" => Ok(prep.run(runs, || primal(&x, s), |y| json!(y))),
        "gradient" => Ok(prep.run(runs, || gradient(&x, s), |g| json!(g))),
        _ => Err(super::unknown_function(
            "ode",
            function,
            &["primal", "gradient"],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_dot_is_compiled_and_is_the_step_paired_with_w() {
        assert_eq!(__FERRAD_BACKEND_d_step_dot, "ir");
        for n in [1, 2, 3, 9] {
            let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7 + 0.2).sin()).collect();
            let y: Vec<f64> = (0..n).map(|i| (i as f64 * 1.3).cos()).collect();
            let w: Vec<f64> = (0..n).map(|i| 1.0 + i as f64).collect();
            let next = rk4_step(&x, &y, 0.1);
            let want: f64 = next.iter().zip(&w).map(|(a, b)| a * b).sum();
            assert!((step_dot(&x, &y, &w, 0.1) - want).abs() < 1e-13, "n = {n}");
        }
    }

    #[test]
    fn gradient_matches_a_tape_of_the_whole_solve() {
        let x: Vec<f64> = (0..6).map(|i| 0.5 * (i as f64 + 1.0).sin()).collect();
        let (_, want) = ferrad::reverse::gradient_with(|v| primal(v, 7)[5], &x);
        let got = gradient(&x, 7);
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() < 1e-13 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }
}
