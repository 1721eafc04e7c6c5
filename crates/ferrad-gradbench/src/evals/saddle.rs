//! `saddle`: `min_x max_y f(x, y)` for the points `x, y ∈ R²` with `f(x, y) = ‖x‖² − ‖y‖²`
//! (the specification's `(x₁² + y₁²) − (x₂² + y₂²)` names the coordinates of the first point
//! `(x₁, y₁)` and of the second `(x₂, y₂)`, as the reference `saddle::objective(x1, y1, x2, y2)`),
//! both by gradient descent from the same start (Siskind & Pearlmutter).
//!
//! Mode: nested, all four combinations. The objective of the outer argmin is `max_y f(x, y)`,
//! itself found by gradient descent whose gradient `∇_y f` is the *inner* gradient, in forward or
//! reverse mode; the outer gradient differentiates through that whole inner descent, in forward
//! or reverse mode — `Dual<Dual<f64>>` (ff), `Var<Dual<f64>>` (fr), `Dual<Var<f64>>` (rf),
//! `Var<Var<f64>>` (rr). The final argmax over `y` at the optimal `x` uses the inner mode, as the
//! reference tools do. The function name picks the modes as `outer inner`.

use ferrad::lift::Lift;
use ferrad::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::gd::{Mode, Nested, argmax, argmin, gradient_in};
use crate::timing::{Evaluated, Prepare, Runs, parse};

#[derive(Deserialize)]
struct Input {
    start: [f64; 2],
}

/// The function whose saddle point is sought.
pub fn objective<T: Real>(x: &[T], y: &[T]) -> T {
    (x[0] * x[0] + x[1] * x[1]) - (y[0] * y[0] + y[1] * y[1])
}

/// `f(x, ·)` for a fixed `x`, as a function of `y`.
struct AtX<'a, T> {
    x: &'a [T],
}

impl<T: Real> Nested<T> for AtX<'_, T> {
    fn eval<U: Real + Lift<Inner = T>>(&self, y: &[U]) -> U {
        let x = [U::from_inner(self.x[0]), U::from_inner(self.x[1])];
        objective(&x, y)
    }
}

/// `max_y f(x, y)` by gradient ascent from `start`, with `∇_y f` in mode `inner`.
pub fn max_over_y<T: Real>(inner: Mode, x: &[T], start: [f64; 2]) -> T {
    let at = AtX { x };
    let start = [T::cst(start[0]), T::cst(start[1])];
    let y = argmax(
        |y: &[T]| objective(x, y),
        |y| gradient_in(inner, &at, y),
        &start,
    );
    objective(x, &y)
}

struct MaxOverY {
    inner: Mode,
    start: [f64; 2],
}

impl Nested<f64> for MaxOverY {
    fn eval<U: Real + Lift<Inner = f64>>(&self, x: &[U]) -> U {
        max_over_y(self.inner, x, self.start)
    }
}

/// `[x₁, x₂, y₁, y₂]` of the saddle point found from `start`, with the (outer, inner) modes.
pub fn solve(outer: Mode, inner: Mode, start: [f64; 2]) -> [f64; 4] {
    let max = MaxOverY { inner, start };
    let x = argmin(
        |x: &[f64]| max_over_y(inner, x, start),
        |x| gradient_in(outer, &max, x),
        &start,
    );
    let at = AtX { x: &x };
    let y = argmax(
        |y: &[f64]| objective(&x, y),
        |y| gradient_in(inner, &at, y),
        &start,
    );
    [x[0], x[1], y[0], y[1]]
}

/// `saddle.evaluate`: `ff`, `fr`, `rf` or `rr`.
pub fn evaluate(function: &str, input: &Value) -> Result<Evaluated, String> {
    let prep = Prepare::start();
    let Input { start } = parse("saddle", input)?;
    let runs = Runs::from_input(input)?;
    let Some((outer, inner)) = Mode::pair(function) else {
        return Err(super::unknown_function(
            "saddle",
            function,
            &["ff", "fr", "rf", "rr"],
        ));
    };
    Ok(prep.run(runs, || solve(outer, inner, start), |y| json!(y)))
}
