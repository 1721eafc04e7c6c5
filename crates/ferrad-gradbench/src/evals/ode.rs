//! `ode`: `s` classical Runge–Kutta steps of `y₀' = x₀`, `yᵢ' = xᵢ·yᵢ₋₁` on `[0, 2]` from
//! `y(0) = 0`, and the gradient of the last component of `y(2)` with respect to `x`.
//!
//! Mode: reverse, checkpointed per step. One output and `n` inputs call for reverse mode, but a
//! tape of the whole solve holds `~16·n·s` entries (3.8 GB at `n = 10⁵, s = 100`). So the primal
//! keeps the state `y` before each step (`n·s` floats), and the backward pass records one step at a
//! time on a fresh [`Tape`] and pulls the adjoint `ȳ` back through it with
//! [`Tape::adjoints_wrt`] (a vector-Jacobian product), accumulating `x̄`.
//!
//! Invariant: the step recorded in the backward pass is the same generic [`rk4_step`] the primal
//! runs, so both see identical arithmetic.

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

/// `∇ₓ y(2)ₙ₋₁` by step-wise checkpointed reverse mode.
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
    y_bar[n - 1] = 1.0;
    for y in states.iter().rev() {
        let tape = Tape::<f64>::new();
        let mut inputs = tape.vars(x);
        inputs.extend(tape.vars(y));
        let out = rk4_step(&inputs[..n], &inputs[n..], h);
        let seeds: Vec<(Var<f64>, f64)> = out.into_iter().zip(y_bar.iter().copied()).collect();
        let adj = tape.adjoints_wrt(&seeds, &inputs);
        for (xb, a) in x_bar.iter_mut().zip(&adj[..n]) {
            *xb += a;
        }
        y_bar.copy_from_slice(&adj[n..]);
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
