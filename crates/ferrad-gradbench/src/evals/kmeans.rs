//! `kmeans`: the cost `Σᵢ minⱼ ‖Cⱼ − Pᵢ‖²` and the Newton direction `J ⊘ diag(H)` with respect
//! to the centroids `C`.
//!
//! Mode: forward over reverse: one recording on a tape of [`Dual<f64>`] with every tangent set to
//! 1 gives the gradient `J` (the real parts of the adjoints) and `H·1` (their tangents) in one
//! sweep; the Hessian is diagonal, so `H·1` is its diagonal. The `min` picks the closest centroid
//! by primal value and records only the chosen distance, which is the derivative of `min` (the
//! chosen branch), without taping the `k − 1` distances that lose.
//!
//! Invariant: the branch chosen depends on primal values only, identically in every mode.

use ferrad::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use super::gmm::flatten;
use crate::timing::{Evaluated, Prepare, Runs, parse};

#[derive(Deserialize)]
struct Input {
    points: Vec<Vec<f64>>,
    centroids: Vec<Vec<f64>>,
}

/// The cost for points `p` (`n × d`) and centroids `c` (`k × d`), both row-major.
pub fn cost<T: Real>(p: &[f64], c: &[T], d: usize) -> T {
    let mut total = T::cst(0.0);
    for pi in p.chunks_exact(d) {
        let mut best = 0;
        let mut best_dist = f64::INFINITY;
        for (j, cj) in c.chunks_exact(d).enumerate() {
            let dist: f64 = cj
                .iter()
                .zip(pi)
                .map(|(a, &b)| (a.value() - b).powi(2))
                .sum();
            if dist < best_dist {
                best_dist = dist;
                best = j;
            }
        }
        let cj = &c[best * d..(best + 1) * d];
        total += cj
            .iter()
            .zip(pi)
            .map(|(&a, &b)| (a - b) * (a - b))
            .sum::<T>();
    }
    total
}

/// `J ⊘ diag(H)`, by forward over reverse.
pub fn dir(p: &[f64], c: &[f64], d: usize) -> Vec<f64> {
    let tape = Tape::<Dual<f64>>::new();
    let v: Vec<Var<Dual<f64>>> = c.iter().map(|&x| tape.var(Dual::new(x, 1.0))).collect();
    let y = cost(p, &v, d);
    let adj = tape.adjoints_wrt(&[(y, Dual::constant(1.0))], &v);
    adj.iter().map(|a| a.re / a.eps).collect()
}

/// `kmeans.evaluate`: `cost` or `dir`.
pub fn evaluate(function: &str, input: &Value) -> Result<Evaluated, String> {
    let prep = Prepare::start();
    let inp: Input = parse("kmeans", input)?;
    let runs = Runs::from_input(input)?;
    let (n, k) = (inp.points.len(), inp.centroids.len());
    let d = inp.points.first().map_or(0, Vec::len);
    if n == 0 || k == 0 || d == 0 {
        return Err(format!(
            "kmeans: need points and centroids of dimension > 0 (n = {n}, k = {k}, d = {d})"
        ));
    }
    let err = |e: String| format!("kmeans: malformed input: {e}");
    let p = flatten("points", &inp.points, n, d).map_err(err)?;
    let c = flatten("centroids", &inp.centroids, k, d).map_err(err)?;
    match function {
        "cost" => Ok(prep.run(runs, || cost(&p, &c, d), |y| json!(y))),
        "dir" => Ok(prep.run(
            runs,
            || dir(&p, &c, d),
            |g| json!(g.chunks_exact(d).collect::<Vec<_>>()),
        )),
        _ => Err(super::unknown_function(
            "kmeans",
            function,
            &["cost", "dir"],
        )),
    }
}
