//! `kmeans`: the cost `Σᵢ minⱼ ‖Cⱼ − Pᵢ‖²` and the Newton direction `J ⊘ diag(H)` with respect
//! to the centroids `C`.
//!
//! Mode: compiled forward over compiled reverse. The gradient `J` and the Hessian's diagonal
//! (the Hessian is diagonal, so `H·1` is its diagonal) come from one Hessian-vector product with
//! every tangent 1. The `min` picks the closest centroid by primal value; its derivative is that
//! of the chosen distance, so the cost is, locally, `Σⱼ costⱼ(Cⱼ)` with
//! `costⱼ = Σ_{i assigned to j} ‖Cⱼ − Pᵢ‖²`. After the assignment (a primal scan, the same as
//! the cost's), the points are gathered cluster by cluster and each cluster's H·1 is
//! [`hvp_cluster`]: `#[ferrad::autodiff_forward]` over the compiled reverse derivative of
//! [`cluster_cost`] (plain `f64` code in the compiled subset; the points are a `Const` slice and
//! their count a `Const` integer), which ferrad-ir emits as one fused, tape-free function.
//!
//! Invariant: the branch chosen depends on primal values only, identically in every mode;
//! [`dir`] agrees with forward over a tape of the generic [`cost`] (tested), and both compiled
//! functions use the IR backend (`__FERRAD_BACKEND_* == "ir"`, tested).

use ferrad::prelude::*;
use ferrad::{autodiff_forward, autodiff_reverse};
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

/// The index of the centroid closest to `pi` (the first on ties), as [`cost`] picks it.
fn closest(c: &[f64], pi: &[f64], d: usize) -> usize {
    let mut best = 0;
    let mut best_dist = f64::INFINITY;
    for (j, cj) in c.chunks_exact(d).enumerate() {
        let dist: f64 = cj.iter().zip(pi).map(|(a, &b)| (a - b).powi(2)).sum();
        if dist < best_dist {
            best_dist = dist;
            best = j;
        }
    }
    best
}

/// `Σᵢ ‖c − ptsᵢ‖²` over the `count` points `pts` (row-major, `d = c.len()` columns) assigned to
/// the centroid `c`.
#[autodiff_reverse(d_cluster_cost, Duplicated, Const, Const, Active)]
#[allow(clippy::needless_range_loop)] // index loops are the compiled subset
pub fn cluster_cost(c: &[f64], pts: &[f64], count: usize) -> f64 {
    let d = c.len();
    let mut s = 0.0;
    for i in 0..count {
        for a in 0..d {
            let t = c[a] - pts[i * d + a];
            s += t * t;
        }
    }
    s
}

/// The gradient of [`cluster_cost`] into `g`; `hvp_cluster(c, v, g, dg, pts, count)` also gives
/// `H·v` in `dg` (forward over the compiled reverse derivative, compiled).
#[autodiff_forward(hvp_cluster, Dual, Dual, Const, Const)]
pub fn grad_cluster(c: &[f64], g: &mut [f64], pts: &[f64], count: usize) {
    d_cluster_cost(c, g, pts, count, 1.0);
}

/// `J ⊘ diag(H)`, by compiled forward over compiled reverse, cluster by cluster.
pub fn dir(p: &[f64], c: &[f64], d: usize) -> Vec<f64> {
    let k = c.len() / d;
    let assign: Vec<usize> = p.chunks_exact(d).map(|pi| closest(c, pi, d)).collect();
    // the points gathered cluster by cluster
    let mut start = vec![0; k + 1];
    for &j in &assign {
        start[j + 1] += 1;
    }
    for j in 0..k {
        start[j + 1] += start[j];
    }
    let mut next = start.clone();
    let mut gathered = vec![0.0; p.len()];
    for (pi, &j) in p.chunks_exact(d).zip(&assign) {
        gathered[next[j] * d..(next[j] + 1) * d].copy_from_slice(pi);
        next[j] += 1;
    }
    let mut g = vec![0.0; c.len()];
    let mut h = vec![0.0; c.len()];
    let ones = vec![1.0; d];
    for j in 0..k {
        let (cj, range) = (j * d..(j + 1) * d, start[j] * d..start[j + 1] * d);
        hvp_cluster(
            &c[cj.clone()],
            &ones,
            &mut g[cj.clone()],
            &mut h[cj],
            &gathered[range],
            start[j + 1] - start[j],
        );
    }
    g.iter().zip(&h).map(|(a, b)| a / b).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_dir_agrees_with_forward_over_a_tape() {
        assert_eq!(__FERRAD_BACKEND_d_cluster_cost, "ir");
        assert_eq!(__FERRAD_BACKEND_hvp_cluster, "ir");
        let d = 3;
        let p: Vec<f64> = (0..40 * d).map(|i| (i as f64 * 0.37).sin()).collect();
        let c: Vec<f64> = (0..4 * d).map(|i| 0.5 * (i as f64 * 0.91).cos()).collect();
        let tape = Tape::<Dual<f64>>::new();
        let v: Vec<Var<Dual<f64>>> = c.iter().map(|&x| tape.var(Dual::new(x, 1.0))).collect();
        let y = cost(&p, &v, d);
        let adj = tape.adjoints_wrt(&[(y, Dual::constant(1.0))], &v);
        let want: Vec<f64> = adj.iter().map(|a| a.re / a.eps).collect();
        let got = dir(&p, &c, d);
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() < 1e-13 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }
}
