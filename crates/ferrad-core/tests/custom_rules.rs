//! Custom rules in every mode and under nesting (DESIGN §3.3, issue 4 item 2).
//!
//! (a) A dense linear solve whose primal is an opaque `f64` LU routine and whose derivatives are
//!     the textbook formulas, checked against finite differences — first derivatives in forward
//!     and reverse mode, and the Hessian of a scalar loss through the solve.
//! (b) Stable `logsumexp` and `softplus` rules that give finite, correct gradients where the naive
//!     code (differentiated through `exp`/`ln`) overflows to inf/NaN.
//!
//! Every scalar case goes through one helper, [`check`], which compares reverse mode, chunked
//! forward mode, `hessian` (forward over forward for n ≤ 12, forward over reverse above) and `hvp`
//! (forward over reverse) with each other and with central differences.

// Jacobians and Hessians are compared entry by entry, `h[i][j]` against `h[j][i]`: index
// loops say that more plainly than iterator chains.
#![allow(clippy::needless_range_loop)]

use ferrad_core::prelude::*;
use ferrad_core::stdrules::{LinearSolve, LogSumExp, Lu, Softplus};
use ferrad_core::{central_differences, gradient, gradient_forward, hessian, hvp};

/// Relative distance `|a − b| / max(1, |a|, |b|)`.
fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / 1f64.max(a.abs()).max(b.abs())
}

fn assert_close(what: &str, a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        assert!(rel(x, y) <= tol, "{what}[{i}]: {x} vs {y} (tol {tol})");
    }
}

/// Central differences of the reverse-mode gradient: a Hessian oracle independent of nesting.
fn fd_hessian(f: &impl ScalarFn, x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let mut cols = vec![vec![0.0; n]; n];
    let mut xp = x.to_vec();
    for j in 0..n {
        let h = f64::EPSILON.cbrt() * x[j].abs().max(1.0);
        xp[j] = x[j] + h;
        let (_, up) = gradient(f, &xp);
        xp[j] = x[j] - h;
        let (_, down) = gradient(f, &xp);
        xp[j] = x[j];
        for i in 0..n {
            cols[j][i] = (up[i] - down[i]) / (2.0 * h);
        }
    }
    // cols[j] = ∂g/∂x_j = column j of H; H is symmetric, so return rows = columns.
    cols
}

/// Checks one scalar function at one point in every mode, against finite differences.
/// Returns the reverse-mode gradient for case-specific checks.
fn check(name: &str, f: &impl ScalarFn, x: &[f64]) -> Vec<f64> {
    let (y, g) = gradient(f, x);
    let (yf, gf) = gradient_forward(f, x);
    assert_eq!(
        y.to_bits(),
        yf.to_bits(),
        "{name}: value differs between modes"
    );
    assert!(
        y.is_finite() && g.iter().all(|v| v.is_finite()),
        "{name}: non-finite gradient {g:?}"
    );
    assert_close(&format!("{name}: forward vs reverse"), &gf, &g, 1e-12);
    assert_close(
        &format!("{name}: reverse vs central differences"),
        &g,
        &central_differences(f, x),
        1e-6,
    );

    let (yh, gh, h) = hessian(f, x);
    assert_eq!(yh.to_bits(), y.to_bits(), "{name}: hessian value");
    assert_close(&format!("{name}: hessian's gradient"), &gh, &g, 1e-12);
    let fd = fd_hessian(f, x);
    for i in 0..x.len() {
        assert_close(
            &format!("{name}: H row {i} vs central differences of ∇f"),
            &h[i],
            &fd[i],
            1e-5,
        );
        for j in 0..x.len() {
            assert!(
                rel(h[i][j], h[j][i]) <= 1e-12,
                "{name}: H not symmetric at ({i},{j})"
            );
        }
    }
    // hvp (Var<Dual>) along a fixed direction against H·v.
    let v: Vec<f64> = (0..x.len())
        .map(|i| ((i as f64) * 0.7 + 0.3).cos())
        .collect();
    let (yv, gv, hv) = hvp(f, x, &v);
    assert_eq!(yv.to_bits(), y.to_bits(), "{name}: hvp value");
    assert_close(&format!("{name}: hvp's gradient"), &gv, &g, 1e-12);
    let h_v: Vec<f64> = h
        .iter()
        .map(|row| row.iter().zip(&v).map(|(a, b)| a * b).sum())
        .collect();
    assert_close(&format!("{name}: hvp vs hessian·v"), &hv, &h_v, 1e-11);
    g
}

// ---------------------------------------------------------------------------------------------
// (a) Linear solve
// ---------------------------------------------------------------------------------------------

/// A well-conditioned but non-symmetric test matrix whose first pivot needs a row swap,
/// followed by a right-hand side: the rule's input layout.
fn system(n: usize) -> Vec<f64> {
    let mut ab = Vec::with_capacity(n * n + n);
    for i in 0..n {
        for j in 0..n {
            let v = ((i * n + j) as f64 * 1.3 + 0.2).sin();
            ab.push(if i == j { v + 3.0 + i as f64 } else { v });
        }
    }
    ab[0] = 0.05; // smaller than the entries below it: partial pivoting must swap
    for i in 0..n {
        ab.push((i as f64 + 0.5).cos() * 2.0);
    }
    ab
}

/// loss(A, b) = ½‖x‖² + sin(x₀)·x_{n−1} + Σ xᵢ³/10, with x = A⁻¹ b: quadratic and non-quadratic
/// in x, so the Hessian has both the solve's second derivatives and the loss's own curvature.
struct SolveLoss {
    n: usize,
}

impl ScalarFn for SolveLoss {
    fn eval<T: Real>(&self, ab: &[T]) -> T {
        let x = apply_rule(&LinearSolve { n: self.n }, ab);
        let quad: T = x.iter().map(|&v| v * v * 0.5 + v.powi(3) / 10.0).sum();
        quad + x[0].sin() * x[self.n - 1]
    }
}

/// The same loss written through the generic `Lu` directly: ordinary taped arithmetic, no rule.
struct SolveLossTraced {
    n: usize,
}

impl ScalarFn for SolveLossTraced {
    fn eval<T: Real>(&self, ab: &[T]) -> T {
        let n = self.n;
        let x = Lu::factor(&ab[..n * n], n).solve(&ab[n * n..]);
        let quad: T = x.iter().map(|&v| v * v * 0.5 + v.powi(3) / 10.0).sum();
        quad + x[0].sin() * x[n - 1]
    }
}

#[test]
fn lu_solves_and_transposed_solves() {
    for n in [1, 2, 3, 5, 8] {
        let ab = system(n);
        let (a, b) = ab.split_at(n * n);
        let lu = Lu::factor(a, n);
        let x = lu.solve(b);
        let y = lu.solve_transpose(b);
        for i in 0..n {
            let ax: f64 = (0..n).map(|j| a[i * n + j] * x[j]).sum();
            let aty: f64 = (0..n).map(|j| a[j * n + i] * y[j]).sum();
            assert!(
                (ax - b[i]).abs() < 1e-13,
                "n={n}: (A x)[{i}] = {ax} vs {}",
                b[i]
            );
            assert!(
                (aty - b[i]).abs() < 1e-13,
                "n={n}: (Aᵀ y)[{i}] = {aty} vs {}",
                b[i]
            );
        }
    }
}

#[test]
fn linear_solve_primal_is_the_opaque_f64_routine() {
    let n = 4;
    let ab = system(n);
    let direct = LinearSolve { n }.eval(&ab);
    // Every mode returns exactly the f64 routine's bits as its primal.
    let dual: Vec<Dual<f64>> = ab.iter().map(|&v| Dual::variable(v)).collect();
    let via_dual = apply_rule(&LinearSolve { n }, &dual);
    let tape = Tape::<f64>::new();
    let vars = tape.vars(&ab);
    let via_var = apply_rule(&LinearSolve { n }, &vars);
    for i in 0..n {
        assert_eq!(via_dual[i].re.to_bits(), direct[i].to_bits());
        assert_eq!(via_var[i].val().to_bits(), direct[i].to_bits());
    }
    // A custom rule costs one dense block on the tape, not the LU's operations.
    assert_eq!(
        tape.stats().entries,
        ab.len() + n,
        "inputs + one leaf per output"
    );
}

#[test]
fn linear_solve_jvp_and_vjp_match_finite_differences() {
    for n in [1, 2, 3, 4] {
        let rule = LinearSolve { n };
        let ab = system(n);
        let k = ab.len();
        // Full Jacobian by central differences of the opaque primal.
        let mut fd = vec![vec![0.0; k]; n];
        let mut xp = ab.clone();
        for c in 0..k {
            let h = 1e-6 * ab[c].abs().max(1.0);
            xp[c] = ab[c] + h;
            let up = rule.eval(&xp);
            xp[c] = ab[c] - h;
            let down = rule.eval(&xp);
            xp[c] = ab[c];
            for r in 0..n {
                fd[r][c] = (up[r] - down[r]) / (2.0 * h);
            }
        }
        // Columns by the rule's jvp in forward mode (Dual), rows by its vjp in reverse mode (Var).
        for c in 0..k {
            let xs: Vec<Dual<f64>> = ab
                .iter()
                .enumerate()
                .map(|(i, &v)| Dual::new(v, if i == c { 1.0 } else { 0.0 }))
                .collect();
            let col = apply_rule(&rule, &xs);
            for r in 0..n {
                assert!(
                    rel(col[r].eps, fd[r][c]) < 1e-7,
                    "n={n}: jvp J[{r}][{c}] = {} vs fd {}",
                    col[r].eps,
                    fd[r][c]
                );
            }
        }
        let tape = Tape::<f64>::new();
        let vars = tape.vars(&ab);
        let ys = apply_rule(&rule, &vars);
        for r in 0..n {
            let row = tape.adjoints_wrt(&[(ys[r], 1.0)], &vars);
            assert_close(&format!("n={n}: vjp row {r} vs fd"), &row, &fd[r], 1e-7);
        }
    }
}

#[test]
fn linear_solve_jvp_and_vjp_are_transposes() {
    let n = 5;
    let rule = LinearSolve { n };
    let ab = system(n);
    let dx: Vec<f64> = (0..ab.len()).map(|i| (i as f64 * 0.37).sin()).collect();
    let w: Vec<f64> = (0..n).map(|i| (i as f64 * 1.1).cos()).collect();
    let jv = rule.jvp(&ab, &dx);
    let wj = rule.vjp(&ab, &w);
    let lhs: f64 = w.iter().zip(&jv).map(|(a, b)| a * b).sum();
    let rhs: f64 = wj.iter().zip(&dx).map(|(a, b)| a * b).sum();
    assert!(
        rel(lhs, rhs) < 1e-13,
        "wᵀ(J dx) = {lhs} but (wᵀJ) dx = {rhs}"
    );
}

#[test]
fn hessian_through_linear_solve_small() {
    // n = 2, 3: 6 and 12 inputs, so `hessian` uses one second-order forward pass (Dual2Vec).
    for n in [2, 3] {
        check(&format!("solve loss n={n}"), &SolveLoss { n }, &system(n));
    }
}

#[test]
fn hessian_through_linear_solve_large() {
    // n = 4: 20 inputs, so `hessian` uses forward over reverse (Var<DualVec<f64, 8>>).
    check("solve loss n=4", &SolveLoss { n: 4 }, &system(4));
}

#[test]
fn reverse_over_reverse_through_linear_solve() {
    // Var<Var<f64>>: the rule's vjp runs on Var<f64>, recorded on the outer tape, so sweeping the
    // outer tape from each inner adjoint gives a Hessian row.
    let n = 2;
    let ab = system(n);
    let (_, _, h) = hessian(&SolveLoss { n }, &ab);
    let outer = Tape::<f64>::new();
    let xo = outer.vars(&ab);
    let inner = Tape::<Var<f64>>::new();
    let xi = inner.vars(&xo);
    let y = SolveLoss { n }.eval(&xi);
    let g = inner.adjoints_wrt(&[(y, Var::constant(1.0))], &xi);
    for i in 0..ab.len() {
        let row = outer.adjoints_wrt(&[(g[i], 1.0)], &xo);
        assert_close(
            &format!("reverse-over-reverse H row {i}"),
            &row,
            &h[i],
            1e-12,
        );
    }
}

#[test]
fn rule_agrees_with_tracing_through_the_generic_lu() {
    // The rule (opaque primal + textbook derivatives) and plain operator overloading through the
    // same LU must give the same first and second derivatives.
    let n = 3;
    let ab = system(n);
    let (y1, g1, h1) = hessian(&SolveLoss { n }, &ab);
    let (y2, g2, h2) = hessian(&SolveLossTraced { n }, &ab);
    assert!(rel(y1, y2) < 1e-14);
    assert_close("gradient: rule vs traced", &g1, &g2, 1e-12);
    for i in 0..ab.len() {
        assert_close(
            &format!("hessian row {i}: rule vs traced"),
            &h1[i],
            &h2[i],
            1e-10,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// (b) Stable logsumexp and softplus
// ---------------------------------------------------------------------------------------------

fn naive_logsumexp<T: Real>(x: &[T]) -> T {
    x.iter().map(|v| v.exp()).sum::<T>().ln()
}

fn naive_softplus<T: Real>(x: T) -> T {
    (x.exp() + 1.0).ln()
}

struct Lse;
impl ScalarFn for Lse {
    fn eval<T: Real>(&self, x: &[T]) -> T {
        apply_rule(&LogSumExp, x)[0]
    }
}

struct NaiveLse;
impl ScalarFn for NaiveLse {
    fn eval<T: Real>(&self, x: &[T]) -> T {
        naive_logsumexp(x)
    }
}

/// A loss that uses both rules, with a cross term so the Hessian is dense.
struct SoftLoss;
impl ScalarFn for SoftLoss {
    fn eval<T: Real>(&self, x: &[T]) -> T {
        let sp: T = x.iter().map(|&v| apply_rule(&Softplus, &[v])[0]).sum();
        let scaled: Vec<T> = x
            .iter()
            .zip(x.iter().skip(1).chain(x.iter().take(1)))
            .map(|(&a, &b)| a + b * 0.5)
            .collect();
        apply_rule(&LogSumExp, &scaled)[0] + sp * 0.25
    }
}

/// Where the naive formulas are fine, the rules agree with them in every mode.
#[test]
fn rules_agree_with_naive_formulas_at_moderate_inputs() {
    let x = [0.3, -1.2, 2.5, 0.0, -0.7];
    let (y, g) = gradient(&Lse, &x);
    let (yn, gn) = gradient(&NaiveLse, &x);
    assert!(rel(y, yn) < 1e-15);
    assert_close("lse gradient vs naive", &g, &gn, 1e-15);
    let (_, _, h) = hessian(&Lse, &x);
    let (_, _, hn) = hessian(&NaiveLse, &x);
    for i in 0..x.len() {
        assert_close(
            &format!("lse hessian row {i} vs naive"),
            &h[i],
            &hn[i],
            1e-14,
        );
    }
    for v in [-3.0, -0.5, 0.0, 0.5, 3.0] {
        let (a, da) = ferrad_core::derivative(|x| apply_rule(&Softplus, &[x])[0], v);
        let (b, db) = ferrad_core::derivative(naive_softplus, v);
        assert!(
            rel(a, b) < 1e-15 && rel(da, db) < 1e-15,
            "softplus at {v}: ({a}, {da}) vs naive ({b}, {db})"
        );
    }
    check("lse moderate", &Lse, &x);
    check("soft loss moderate", &SoftLoss, &x);
}

#[test]
fn naive_logsumexp_overflows_where_the_rule_does_not() {
    for x in [
        vec![1000.0, 999.0, -1000.0],
        vec![-1000.0, -1000.0],
        vec![710.0, 0.0],
        vec![-800.0, -801.0, -799.5],
    ] {
        let (yn, gn) = gradient(&NaiveLse, &x);
        assert!(
            !yn.is_finite() || gn.iter().any(|v| !v.is_finite()),
            "the naive formula was expected to fail at {x:?}: {yn}, {gn:?}"
        );
        // Reference in extended form: m + ln Σ exp(x − m), softmax.
        let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = x.iter().map(|v| (v - m).exp()).collect();
        let s: f64 = e.iter().sum();
        let (y, g) = gradient(&Lse, &x);
        assert!(rel(y, m + s.ln()) < 1e-15, "lse({x:?}) = {y}");
        assert_close(
            &format!("lse gradient at {x:?}"),
            &g,
            &e.iter().map(|v| v / s).collect::<Vec<_>>(),
            1e-15,
        );
        // Second order: H = diag(p) − p pᵀ, finite and symmetric.
        let (_, _, h) = hessian(&Lse, &x);
        for i in 0..x.len() {
            for j in 0..x.len() {
                let p = |k: usize| e[k] / s;
                let want = if i == j {
                    p(i) - p(i) * p(i)
                } else {
                    -p(i) * p(j)
                };
                assert!(
                    (h[i][j] - want).abs() < 1e-15,
                    "H[{i}][{j}] at {x:?}: {} vs {want}",
                    h[i][j]
                );
            }
        }
    }
}

#[test]
fn naive_softplus_overflows_where_the_rule_does_not() {
    // Value, first and second derivative at large |x|, in forward over forward.
    let sp = |x: Dual<Dual<f64>>| apply_rule(&Softplus, &[x])[0];
    let naive = |x: Dual<Dual<f64>>| naive_softplus(x);
    for (x, y, d1, d2) in [
        (1000.0, 1000.0, 1.0, 0.0),
        (-1000.0, 0.0, 0.0, 0.0),
        (800.0, 800.0, 1.0, 0.0),
    ] {
        let at = Dual::new(Dual::new(x, 1.0), Dual::new(1.0, 0.0));
        let r = sp(at);
        assert_eq!(
            (r.re.re, r.re.eps, r.eps.eps),
            (y, d1, d2),
            "softplus at {x}"
        );
        let n = naive(at);
        assert!(
            [n.re.re, n.re.eps, n.eps.eps]
                .iter()
                .any(|v| !v.is_finite())
                || x < 0.0,
            "naive softplus was expected to overflow at {x}: {n:?}"
        );
    }
    // At -1000 the naive value underflows to exactly 0 (fine), but its reverse gradient through
    // exp and ln is also fine; at +1000 it is inf and NaN.
    let (yn, gn) = ferrad_core::reverse::gradient_with(|x| naive_softplus(x[0]), &[1000.0]);
    assert_eq!(yn, f64::INFINITY);
    assert!(gn[0].is_nan());
    let (y, g) =
        ferrad_core::reverse::gradient_with(|x| apply_rule(&Softplus, &x[..1])[0], &[1000.0]);
    assert_eq!((y, g[0]), (1000.0, 1.0));
    // A loss mixing both rules at extreme inputs: finite in every mode, consistent across modes.
    let x = [1000.0, -1000.0, 999.0, 3.0];
    let g = check("soft loss extreme", &SoftLoss, &x);
    assert!(g.iter().all(|v| v.is_finite()));
    let (yn, gn) = gradient(&NaiveSoftLoss, &x);
    assert!(
        !yn.is_finite() || gn.iter().any(|v| !v.is_finite()),
        "naive soft loss: {yn} {gn:?}"
    );
}

struct NaiveSoftLoss;
impl ScalarFn for NaiveSoftLoss {
    fn eval<T: Real>(&self, x: &[T]) -> T {
        let sp: T = x.iter().map(|&v| naive_softplus(v)).sum();
        let scaled: Vec<T> = x
            .iter()
            .zip(x.iter().skip(1).chain(x.iter().take(1)))
            .map(|(&a, &b)| a + b * 0.5)
            .collect();
        naive_logsumexp(&scaled) + sp * 0.25
    }
}

#[test]
fn rules_work_in_single_precision() {
    // Real<f32>: the rule's primal runs in f64, its derivative to first order.
    let r = <Dual<f32> as Real<f32>>::apply_custom(&Softplus, &[Dual::variable(100.0f32)])[0];
    assert_eq!((r.re, r.eps), (100.0, 1.0));
    let tape = Tape::<f32>::new();
    let xs = tape.vars(&[90.0f32, 90.0]);
    let y = <Var<f32> as Real<f32>>::apply_custom(&LogSumExp, &xs)[0];
    let g = tape.gradient(y).wrt_all(&xs);
    assert_eq!(g, vec![0.5f32, 0.5]);
}
