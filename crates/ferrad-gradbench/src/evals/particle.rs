//! `particle`: a charged particle accelerated by two fixed charges (Siskind & Pearlmutter); find
//! by gradient descent the control `w` for which the trajectory hits the origin.
//!
//! Mode: nested, all four combinations. The trajectory (Euler steps until the particle crosses
//! the x axis) needs the force `−∇ₓ p(x; w)` at every step: the *inner* gradient, in forward
//! ([`Dual`]) or reverse ([`Var`] on a fresh tape) mode. The argmin over `w` needs `d/dw` of the
//! whole trajectory: the *outer* gradient, in forward or reverse mode over numbers that the inner
//! gradient is computed on — `Dual<Dual<f64>>` (ff), `Var<Dual<f64>>` (fr),
//! `Dual<Var<f64>>` (rf) and `Var<Var<f64>>` (rr). The trajectory and the potential are each
//! written once, generic over the number type ([`crate::gd::Nested`]); the function name picks
//! the two modes, as `outer inner`.

use ferrad::lift::Lift;
use ferrad::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::gd::{Mode, Nested, argmin, gradient_in};
use crate::timing::{Evaluated, Prepare, Runs, parse};

#[derive(Deserialize)]
struct Input {
    w: f64,
}

/// The most Euler steps before the trajectory is declared not to cross the x axis.
pub const MAX_STEPS: usize = 1_000_000;

/// The potential `p(x) = Σ 1/‖x − cᵢ‖` of the fixed charges, as a function of the position.
struct Potential<T> {
    charges: [[T; 2]; 2],
}

impl<T: Real> Nested<T> for Potential<T> {
    fn eval<U: Real + Lift<Inner = T>>(&self, x: &[U]) -> U {
        let mut a = U::cst(0.0);
        for c in &self.charges {
            let dx = x[0] - U::from_inner(c[0]);
            let dy = x[1] - U::from_inner(c[1]);
            a += U::cst(1.0) / (dx * dx + dy * dy).sqrt();
        }
        a
    }
}

/// `x₀(t_f)²` where the trajectory for control `w` crosses the x axis; the force at each step is
/// the gradient of the potential in mode `inner`.
///
/// # Panics
/// If the particle does not cross the axis within [`MAX_STEPS`] steps.
pub fn naive_euler<T: Real>(inner: Mode, w: T) -> T {
    let potential = Potential {
        charges: [[T::cst(10.0), -w + 10.0], [T::cst(10.0), T::cst(0.0)]],
    };
    let mut x = [T::cst(0.0), T::cst(8.0)];
    let mut xdot = [T::cst(0.75), T::cst(0.0)];
    let dt = 0.1;
    for _ in 0..MAX_STEPS {
        let g = gradient_in(inner, &potential, &x);
        let xddot = [-g[0], -g[1]];
        x = [x[0] + xdot[0] * dt, x[1] + xdot[1] * dt];
        if x[1].value() <= 0.0 {
            let dt_f = -x[1] / xdot[1];
            let x_tf = x[0] + dt_f * xdot[0];
            return x_tf * x_tf;
        }
        xdot = [xdot[0] + xddot[0] * dt, xdot[1] + xddot[1] * dt];
    }
    panic!(
        "particle: the trajectory did not cross the x axis in {MAX_STEPS} steps (w = {})",
        w.value()
    );
}

struct Trajectory {
    inner: Mode,
}

impl Nested<f64> for Trajectory {
    fn eval<U: Real + Lift<Inner = f64>>(&self, w: &[U]) -> U {
        naive_euler(self.inner, w[0])
    }
}

/// The optimal control from `w0`, with the (outer, inner) modes.
pub fn solve(outer: Mode, inner: Mode, w0: f64) -> f64 {
    let traj = Trajectory { inner };
    argmin(
        |w: &[f64]| naive_euler(inner, w[0]),
        |w| gradient_in(outer, &traj, w),
        &[w0],
    )[0]
}

/// `particle.evaluate`: `ff`, `fr`, `rf` or `rr`.
pub fn evaluate(function: &str, input: &Value) -> Result<Evaluated, String> {
    let prep = Prepare::start();
    let Input { w } = parse("particle", input)?;
    let runs = Runs::from_input(input)?;
    let Some((outer, inner)) = Mode::pair(function) else {
        return Err(super::unknown_function(
            "particle",
            function,
            &["ff", "fr", "rf", "rr"],
        ));
    };
    Ok(prep.run(runs, || solve(outer, inner, w), |y| json!(y)))
}
