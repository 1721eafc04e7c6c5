//! `det`: the determinant of an `ℓ × ℓ` matrix by expansion in minors (cmpad's
//! `det_by_minor`), and its gradient.
//!
//! Mode: reverse, split at the first row. `ℓ²` inputs and one output call for reverse mode, but
//! the expansion costs `~ℓ!` operations, so one tape of it holds `~3.4·ℓ!` entries (3 GB at
//! `ℓ = 11`). The determinant is the sum of `ℓ` first-row terms `±a₀ⱼ·det(M₀ⱼ)`; each term is
//! recorded on its own [`Tape`] and swept at once, so the memory is that of one term.
//!
//! Invariant: the primal is the sum of the same generic [`det_term`]s the gradient records.

use ferrad::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::timing::{Evaluated, Prepare, Runs, parse};

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Input {
    A: Vec<f64>,
    ell: usize,
}

/// The determinant of the minor of `a` (`n × n`, row-major) whose rows and columns are the
/// linked lists `r` and `c` (entry `n` is the head), of size `m`.
fn det_of_minor<T: Real>(a: &[T], n: usize, m: usize, r: &mut [usize], c: &mut [usize]) -> T {
    let r0 = r[n];
    let mut cj = c[n];
    if m == 1 {
        return a[r0 * n + cj];
    }
    let mut det = T::cst(0.0);
    let mut positive = true;
    r[n] = r[r0];
    let mut cj1 = n;
    for _ in 0..m {
        let m0j = a[r0 * n + cj];
        c[cj1] = c[cj];
        let det_s = det_of_minor(a, n, m - 1, r, c);
        c[cj1] = cj;
        if positive {
            det += m0j * det_s;
        } else {
            det -= m0j * det_s;
        }
        cj1 = cj;
        cj = c[cj];
        positive = !positive;
    }
    r[n] = r0;
    det
}

/// The `j`-th term `(−1)ʲ·a₀ⱼ·det(M₀ⱼ)` of the expansion along the first row.
pub fn det_term<T: Real>(a: &[T], ell: usize, j: usize) -> T {
    if ell == 1 {
        return a[0];
    }
    // Row and column lists with row 0 and column j unlinked.
    let mut r: Vec<usize> = (1..=ell).collect();
    r.push(1);
    let mut c: Vec<usize> = (1..=ell).collect();
    c.push(0);
    let prev = if j == 0 { ell } else { j - 1 };
    c[prev] = c[j];
    let det_s = det_of_minor(a, ell, ell - 1, &mut r, &mut c);
    let term = a[j] * det_s;
    if j.is_multiple_of(2) { term } else { -term }
}

/// `det(A)`.
pub fn det<T: Real>(a: &[T], ell: usize) -> T {
    (0..ell)
        .map(|j| det_term(a, ell, j))
        .fold(T::cst(0.0), |s, t| s + t)
}

/// `∇ det(A)`, one tape per first-row term.
pub fn gradient(a: &[f64], ell: usize) -> Vec<f64> {
    let mut g = vec![0.0; a.len()];
    for j in 0..ell {
        let tape = Tape::<f64>::new();
        let v = tape.vars(a);
        let t = det_term(&v, ell, j);
        for (gi, ai) in g.iter_mut().zip(tape.adjoints_wrt(&[(t, 1.0)], &v)) {
            *gi += ai;
        }
    }
    g
}

/// `det.evaluate`: `primal` or `gradient`.
pub fn evaluate(function: &str, input: &Value) -> Result<Evaluated, String> {
    let prep = Prepare::start();
    let Input { A: a, ell } = parse("det", input)?;
    let runs = Runs::from_input(input)?;
    if ell == 0 || a.len() != ell * ell {
        return Err(format!(
            "det: A has {} entries, expected ell² with ell = {ell} > 0",
            a.len()
        ));
    }
    match function {
        "primal" => Ok(prep.run(runs, || det(&a, ell), |y| json!(y))),
        "gradient" => Ok(prep.run(runs, || gradient(&a, ell), |g| json!(g))),
        _ => Err(super::unknown_function(
            "det",
            function,
            &["primal", "gradient"],
        )),
    }
}
