//! Random compositions of primitives checked across modes (gradient vs gradient_forward vs
//! finite differences, hvp vs hessian·v, jacobian vs jvp/vjp in both shape regimes), and custom
//! rules through `apply_rule` against the same function written with primitives, in every mode.
#![allow(clippy::needless_range_loop)] // index loops mirror the math (H[i][j])

mod common;

use common::*;
use ferrad_core::prelude::*;
use ferrad_core::{forward, gradient, gradient_forward, hessian, hvp, jacobian, jvp, vjp};
use proptest::prelude::*;

/// Below this distance to a kink (abs, min/max, hypot, rem) finite differences are not compared.
const KINK_MARGIN: f64 = 0.05;

fn unit(n: usize, i: usize) -> Vec<f64> {
    let mut e = vec![0.0; n];
    e[i] = 1.0;
    e
}

fn mat_vec(m: &[Vec<f64>], v: &[f64]) -> Vec<f64> {
    m.iter()
        .map(|r| r.iter().zip(v).map(|(a, b)| a * b).sum())
        .collect()
}

fn vec_mat(w: &[f64], m: &[Vec<f64>]) -> Vec<f64> {
    (0..m[0].len())
        .map(|j| m.iter().zip(w).map(|(r, b)| r[j] * b).sum())
        .collect()
}

/// The checks of one vector function in whatever shape regime `(n, m)` it has.
fn check_jacobian(es: &[Expr], x: &[f64], v: &[f64], w: &[f64]) {
    let ctx = format!("{es:?} at {x:?}");
    let f = ExprVec(es.to_vec());
    let (n, m) = (x.len(), es.len());
    let y0 = rule_values(&f, x);
    prop_assume_finite(&y0);
    let (y, jac) = jacobian(&f, x);
    // `jacobian` learns the output count from a plain `f64` evaluation and returns its values
    check_vec(
        format_args!("{ctx}: jacobian value"),
        &y,
        &f.eval(x),
        0.0,
        0.0,
    );
    check_vec(
        format_args!("{ctx}: jacobian value vs modes"),
        &y,
        &y0,
        1e-12,
        1e-12 * scale(&y0),
    );
    assert_eq!((jac.len(), jac[0].len()), (m, n), "{ctx}: jacobian shape");
    let atol = 1e-13 * scale_mat(&jac);
    for j in 0..n {
        let (yj, col) = jvp(&f, x, &unit(n, j));
        check_vec(format_args!("{ctx}: jvp value"), &yj, &y0, 0.0, 0.0);
        let want: Vec<f64> = jac.iter().map(|r| r[j]).collect();
        check_vec(
            format_args!("{ctx}: column {j} vs jvp"),
            &col,
            &want,
            MODE_RTOL,
            atol,
        );
    }
    for (i, row) in jac.iter().enumerate() {
        let (yi, r) = vjp(&f, x, &unit(m, i));
        check_vec(format_args!("{ctx}: vjp value"), &yi, &y0, 0.0, 0.0);
        check_vec(
            format_args!("{ctx}: row {i} vs vjp"),
            &r,
            row,
            MODE_RTOL,
            atol,
        );
    }
    let (_, jv) = jvp(&f, x, &v[..n]);
    check_vec(
        format_args!("{ctx}: jvp vs J·v"),
        &jv,
        &mat_vec(&jac, &v[..n]),
        1e-11,
        atol,
    );
    let (_, wj) = vjp(&f, x, &w[..m]);
    check_vec(
        format_args!("{ctx}: vjp vs wᵀ·J"),
        &wj,
        &vec_mat(&w[..m], &jac),
        1e-11,
        atol,
    );
    let kink = es
        .iter()
        .map(|e| e.kink_distance(x))
        .fold(f64::INFINITY, f64::min);
    if kink > KINK_MARGIN {
        let (fd, fd_err) = fd_jacobian_with_error(&|p| f.eval(p), x, m);
        check_mat(
            format_args!("{ctx}: jacobian vs finite differences"),
            &jac,
            &fd,
            FD_RTOL,
            (1e-8 * scale(&y0)).max(fd_err),
        );
    }
}

/// Rejects (by returning early through proptest's assume) values that overflowed.
fn prop_assume_finite(v: &[f64]) {
    // Expressions are built from domain-safe forms, so every value should be finite.
    assert!(
        v.iter().all(|y| y.is_finite()),
        "domain-safe expression gave {v:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    /// gradient (reverse) vs gradient_forward (chunked) vs one-tangent forward vs finite differences.
    #[test]
    fn random_gradients_agree(e in expr_strategy(3), x in point(3)) {
        let ctx = format!("{e:?} at {x:?}");
        let f = ExprFn(e.clone());
        let y0 = rule_value(&f, &x);
        prop_assume_finite(&[y0]);
        let (vr, gr) = gradient(&f, &x);
        let (vf, gf) = gradient_forward(&f, &x);
        let (vd, gd) = forward::gradient_dual(|p| f.eval(p), &x);
        for (name, v) in [("gradient", vr), ("gradient_forward", vf), ("gradient_dual", vd)] {
            check(format_args!("{ctx}: {name} value"), v, y0, 0.0, 0.0);
        }
        let atol = 1e-14 * scale(&gr);
        check_vec(format_args!("{ctx}: gradient_forward vs gradient"), &gf, &gr, MODE_RTOL, atol);
        check_vec(format_args!("{ctx}: gradient_dual vs gradient"), &gd, &gr, MODE_RTOL, atol);
        if e.kink_distance(&x) > KINK_MARGIN {
            let (fd, fd_err) = fd_jacobian_with_error(&|p| vec![f.eval(p)], &x, 1);
            check_vec(format_args!("{ctx}: gradient vs finite differences"), &gr, &fd[0], FD_RTOL, (1e-9 * y0.abs().max(1.0)).max(fd_err));
        }
    }

    /// hvp vs hessian·v, hessian vs hvp columns, Var<Var> and Dual<Dual>, and finite differences.
    #[test]
    fn random_hessians_agree(e in expr_strategy(3), x in point(3), v in point(3)) {
        let ctx = format!("{e:?} at {x:?}");
        let f = ExprFn(e.clone());
        let y0 = rule_value(&f, &x);
        prop_assume_finite(&[y0]);
        let (vh, gh, h) = hessian(&f, &x);
        let (_, gr) = gradient(&f, &x);
        check(format_args!("{ctx}: hessian value"), vh, y0, 0.0, 0.0);
        check_vec(format_args!("{ctx}: hessian gradient"), &gh, &gr, MODE_RTOL, 1e-14 * scale(&gr));
        let atol = 1e-13 * scale_mat(&h);
        let (vv, gv, hv) = hvp(&f, &x, &v);
        check(format_args!("{ctx}: hvp value"), vv, y0, 0.0, 0.0);
        check_vec(format_args!("{ctx}: hvp gradient"), &gv, &gr, MODE_RTOL, 1e-14 * scale(&gr));
        check_vec(format_args!("{ctx}: hvp vs H·v"), &hv, &mat_vec(&h, &v), 1e-11, atol);
        check_mat(format_args!("{ctx}: hvp columns"), &hessian_by_hvp(&f, &x), &h, 1e-11, atol);
        check_mat(format_args!("{ctx}: Var<Var>"), &hessian_var_var(&f, &x).2, &h, 1e-11, atol);
        check_mat(format_args!("{ctx}: Dual<Dual>"), &hessian_dual_dual(&f, &x), &h, 1e-11, atol);
        if e.kink_distance(&x) > KINK_MARGIN {
            let (fd, fd_err) = hessian_fd_with_error(&f, &x);
            check_mat(format_args!("{ctx}: hessian vs finite differences"), &h, &fd, FD_RTOL, (1e-8 * scale(&gr).max(y0.abs())).max(fd_err));
        }
    }

    /// Jacobians in the forward regime (n = 2 ≤ m = 3) against jvp/vjp and finite differences.
    #[test]
    fn random_jacobians_forward_regime(
        es in prop::collection::vec(expr_strategy(2), 3),
        x in point(2),
        v in point(4),
        w in point(4),
    ) {
        check_jacobian(&es, &x, &v, &w);
    }

    /// Jacobians in the reverse regime (n = 4 > m = 2) against jvp/vjp and finite differences.
    #[test]
    fn random_jacobians_reverse_regime(
        es in prop::collection::vec(expr_strategy(4), 2),
        x in point(4),
        v in point(4),
        w in point(4),
    ) {
        check_jacobian(&es, &x, &v, &w);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// With 13 inputs `hessian` goes forward over reverse in chunks; it must match hvp columns.
    #[test]
    fn random_large_hessians_agree(es in prop::collection::vec(expr_strategy(13), 3), x in point(13)) {
        // Sum of three expressions so that more inputs take part.
        let f = ExprVecSum(ExprVec(es));
        let ctx = format!("{:?} at {x:?}", f.0);
        let (vh, gh, h) = hessian(&f, &x);
        let (vr, gr) = gradient(&f, &x);
        check(format_args!("{ctx}: value"), vh, vr, 0.0, 0.0);
        check_vec(format_args!("{ctx}: gradient"), &gh, &gr, MODE_RTOL, 1e-14 * scale(&gr));
        let atol = 1e-13 * scale_mat(&h);
        check_mat(format_args!("{ctx}: hvp columns"), &hessian_by_hvp(&f, &x), &h, 1e-11, atol);
        check_mat(format_args!("{ctx}: Var<Var>"), &hessian_var_var(&f, &x).2, &h, 1e-11, atol);
    }
}

/// The sum of the outputs of an [`ExprVec`].
struct ExprVecSum(ExprVec);

impl ScalarFn for ExprVecSum {
    fn eval<T: Real>(&self, x: &[T]) -> T {
        self.0.eval(x).into_iter().sum()
    }
}

// ---------------------------------------------------------------------------------------------
// Custom rules.
// ---------------------------------------------------------------------------------------------

/// `log Σ exp(xᵢ)`, `Rⁿ → R` (one output: a reverse tape builds its Jacobian by vjp).
struct LogSumExp;

impl CustomRule for LogSumExp {
    fn name(&self) -> &str {
        "logsumexp"
    }
    fn eval(&self, x: &[f64]) -> Vec<f64> {
        let m = x.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        vec![m + x.iter().map(|&v| (v - m).exp()).sum::<f64>().ln()]
    }
    fn jvp<T: Real>(&self, x: &[T], dx: &[T]) -> Vec<T> {
        let p = softmax(x);
        vec![p.iter().zip(dx).map(|(&a, &b)| a * b).sum()]
    }
    fn vjp<T: Real>(&self, x: &[T], w: &[T]) -> Vec<T> {
        softmax(x).into_iter().map(|p| p * w[0]).collect()
    }
}

fn softmax<T: Real>(x: &[T]) -> Vec<T> {
    let m = T::cst(
        x.iter()
            .map(|v| v.value())
            .fold(f64::NEG_INFINITY, f64::max),
    );
    let e: Vec<T> = x.iter().map(|&v| (v - m).exp()).collect();
    let z: T = e.iter().copied().sum();
    e.into_iter().map(|v| v / z).collect()
}

fn logsumexp_prims<T: Real>(x: &[T]) -> T {
    let m = T::cst(
        x.iter()
            .map(|v| v.value())
            .fold(f64::NEG_INFINITY, f64::max),
    );
    m + x.iter().map(|&v| (v - m).exp()).sum::<T>().ln()
}

/// `(a, b) ↦ (a·sin b, eᵃ·b, a²·b)`, `R² → R³` (more outputs than inputs: a reverse tape builds
/// its Jacobian by jvp).
struct Trig;

impl CustomRule for Trig {
    fn name(&self) -> &str {
        "trig"
    }
    fn eval(&self, x: &[f64]) -> Vec<f64> {
        let (a, b) = (x[0], x[1]);
        vec![a * b.sin(), a.exp() * b, a * a * b]
    }
    fn jvp<T: Real>(&self, x: &[T], dx: &[T]) -> Vec<T> {
        let (a, b, da, db) = (x[0], x[1], dx[0], dx[1]);
        vec![
            b.sin() * da + a * b.cos() * db,
            a.exp() * b * da + a.exp() * db,
            a * b * 2.0 * da + a * a * db,
        ]
    }
    fn vjp<T: Real>(&self, x: &[T], w: &[T]) -> Vec<T> {
        let (a, b) = (x[0], x[1]);
        vec![
            w[0] * b.sin() + w[1] * a.exp() * b + w[2] * a * b * 2.0,
            w[0] * a * b.cos() + w[1] * a.exp() + w[2] * a * a,
        ]
    }
}

fn trig_prims<T: Real>(x: &[T]) -> Vec<T> {
    let (a, b) = (x[0], x[1]);
    vec![a * b.sin(), a.exp() * b, a * a * b]
}

/// A scalar function of `n ≥ 3` inputs using the two rules (or their primitive twins).
struct UsesRules {
    with_rules: bool,
}

impl ScalarFn for UsesRules {
    fn eval<T: Real>(&self, x: &[T]) -> T {
        let n = x.len();
        let (l, t) = if self.with_rules {
            (
                apply_rule(&LogSumExp, x)[0],
                apply_rule(&Trig, &[x[0], x[n - 1]]),
            )
        } else {
            (logsumexp_prims(x), trig_prims(&[x[0], x[n - 1]]))
        };
        // A constant input to a rule must not break anything either.
        let tc = if self.with_rules {
            apply_rule(&Trig, &[T::cst(0.5), x[1]])
        } else {
            trig_prims(&[T::cst(0.5), x[1]])
        };
        l * 0.5 + t[0] * t[1].sin() + t[2].powi(2) * 0.1 + (tc[0] + tc[1] * tc[2]).tanh() + x[2] * l
    }
}

/// The rules as a vector function (for jacobian/jvp/vjp).
struct RulesVec {
    with_rules: bool,
}

impl VectorFn for RulesVec {
    fn eval<T: Real>(&self, x: &[T]) -> Vec<T> {
        let mut y = if self.with_rules {
            apply_rule(&Trig, &x[..2])
        } else {
            trig_prims(&x[..2])
        };
        y.push(if self.with_rules {
            apply_rule(&LogSumExp, x)[0]
        } else {
            logsumexp_prims(x)
        });
        y
    }
}

/// Every mode through custom rules equals the same mode through primitives.
fn custom_rules_match_primitives(x: &[f64], v: &[f64]) {
    let ctx = format!("custom rules at {x:?}");
    let (r, p) = (
        UsesRules { with_rules: true },
        UsesRules { with_rules: false },
    );
    let close = |what: &str, a: &[f64], b: &[f64]| {
        check_vec(format_args!("{ctx}: {what}"), a, b, 1e-12, 1e-13 * scale(b));
    };
    let (vr, gr) = gradient(&r, x);
    let (vp, gp) = gradient(&p, x);
    close("value", &[vr], &[vp]);
    close("Var gradient", &gr, &gp);
    close("DualVec gradient_forward", &gradient_forward(&r, x).1, &gp);
    close(
        "Dual gradient",
        &forward::gradient_dual(|z| r.eval(z), x).1,
        &gp,
    );
    let (_, gh, hh) = hvp(&r, x, v);
    close("hvp gradient", &gh, &gp);
    close("hvp", &hh, &hvp(&p, x, v).2);
    let (_, _, hr) = hessian(&r, x);
    let (_, _, hp) = hessian(&p, x);
    for (i, (a, b)) in hr.iter().zip(&hp).enumerate() {
        close(&format!("hessian row {i} (n = {})", x.len()), a, b);
    }
    if x.len() <= 4 {
        let hdd = hessian_dual_dual(&r, x);
        let hvv = hessian_var_var(&r, x).2;
        for i in 0..x.len() {
            close(&format!("Dual<Dual> row {i}"), &hdd[i], &hp[i]);
            close(&format!("Var<Var> row {i}"), &hvv[i], &hp[i]);
        }
    }
    let fd = fd_gradient(&|z| r.eval(z), x);
    check_vec(
        format_args!("{ctx}: gradient vs finite differences"),
        &gr,
        &fd,
        FD_RTOL,
        1e-9 * vr.abs().max(1.0),
    );

    let (fr, fp) = (
        RulesVec { with_rules: true },
        RulesVec { with_rules: false },
    );
    let (yr, jr) = jacobian(&fr, x);
    let (yp, jp) = jacobian(&fp, x);
    close("jacobian value", &yr, &yp);
    for (i, (a, b)) in jr.iter().zip(&jp).enumerate() {
        close(&format!("jacobian row {i}"), a, b);
    }
    close("jvp", &jvp(&fr, x, v).1, &jvp(&fp, x, v).1);
    let w: Vec<f64> = (0..4).map(|i| v[(i + 1) % v.len()]).collect();
    close("vjp", &vjp(&fr, x, &w).1, &vjp(&fp, x, &w).1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Custom rules with 3 inputs (hessian forward over forward; jacobian forward, n = m).
    #[test]
    fn custom_rules_small(x in point(3), v in point(3)) {
        custom_rules_match_primitives(&x, &v);
    }

    /// Custom rules with 14 inputs (hessian forward over reverse; jacobian reverse, n > m).
    #[test]
    fn custom_rules_large(x in point(14), v in point(14)) {
        custom_rules_match_primitives(&x, &v);
    }
}

/// A rule whose primal is opaque is never differentiated through `eval`: the derivative is the
/// rule's own (here deliberately "wrong" by a factor) in every mode, including nested ones.
#[test]
fn custom_rule_derivative_comes_from_the_rule() {
    struct Scaled;
    impl CustomRule for Scaled {
        fn name(&self) -> &str {
            "scaled"
        }
        fn eval(&self, x: &[f64]) -> Vec<f64> {
            vec![x[0] * x[0]]
        }
        fn jvp<T: Real>(&self, x: &[T], dx: &[T]) -> Vec<T> {
            vec![x[0] * dx[0] * 3.0]
        }
        fn vjp<T: Real>(&self, x: &[T], w: &[T]) -> Vec<T> {
            vec![x[0] * w[0] * 3.0]
        }
    }
    fn f<T: Real>(x: &[T]) -> T {
        apply_rule(&Scaled, x)[0]
    }
    let f = ferrad_core::scalar_fn!(f);
    let x = [2.0];
    assert_eq!(gradient(&f, &x), (4.0, vec![6.0]));
    assert_eq!(gradient_forward(&f, &x), (4.0, vec![6.0]));
    assert_eq!(hessian(&f, &x), (4.0, vec![6.0], vec![vec![3.0]]));
    assert_eq!(hvp(&f, &x, &[2.0]), (4.0, vec![6.0], vec![6.0]));
    assert_eq!(hessian_var_var(&f, &x), (4.0, vec![6.0], vec![vec![3.0]]));
}

/// A custom rule's jvp returning the wrong number of tangents panics with a clear message.
#[test]
#[should_panic(expected = "custom rule `bad`: jvp returned 2 tangents but eval returned 1 outputs")]
fn custom_rule_with_wrong_jvp_length_panics() {
    struct Bad;
    impl CustomRule for Bad {
        fn name(&self) -> &str {
            "bad"
        }
        fn eval(&self, x: &[f64]) -> Vec<f64> {
            vec![x[0]]
        }
        fn jvp<T: Real>(&self, _x: &[T], dx: &[T]) -> Vec<T> {
            vec![dx[0], dx[0]]
        }
        fn vjp<T: Real>(&self, _x: &[T], w: &[T]) -> Vec<T> {
            vec![w[0]]
        }
    }
    let _ = ferrad_core::derivative(|x| apply_rule(&Bad, &[x])[0], 1.0);
}
