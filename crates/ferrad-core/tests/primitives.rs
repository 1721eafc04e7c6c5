//! Every primitive of the rule table in every first-order mode (`Dual`, `DualVec`, `Var`,
//! `gradient`, `gradient_forward`, the `forward` drivers): against finite differences, against
//! each other, and with bit-identical primal values.
#![allow(clippy::needless_range_loop)] // index loops mirror the math (H[i][j])

mod common;

use common::*;
use ferrad_core::prelude::*;
use ferrad_core::rules::{Binary, Unary};
use ferrad_core::{forward, gradient, gradient_forward, reverse};
use proptest::prelude::*;

/// All first-order modes of `prim` at the smooth point `p`.
fn first_order_all_modes(prim: Prim, p: &[f64]) {
    let k = p.len();
    let ctx = format!("{prim:?} at {p:?}");
    let f = PrimFn(prim);
    let value = rule_value(&f, p);
    check(
        format_args!("{ctx}: rule table vs std"),
        value,
        prim.eval(p),
        STD_RTOL,
        0.0,
    );

    // Dual<f64>: one pass per input.
    let mut g_dual = Vec::new();
    for i in 0..k {
        let xs: Vec<Dual<f64>> = p
            .iter()
            .enumerate()
            .map(|(j, &v)| Dual::new(v, if i == j { 1.0 } else { 0.0 }))
            .collect();
        let y = prim.eval(&xs);
        check(format_args!("{ctx}: Dual value"), y.re, value, 0.0, 0.0);
        g_dual.push(y.eps);
    }

    // DualVec<f64, 3>: one pass; unused tangents stay zero.
    let xs: Vec<DualVec<f64, 3>> = p
        .iter()
        .enumerate()
        .map(|(i, &v)| DualVec::variable(v, i))
        .collect();
    let y = prim.eval(&xs);
    check(format_args!("{ctx}: DualVec value"), y.re, value, 0.0, 0.0);
    let g_dualvec = y.eps[..k].to_vec();
    assert!(
        y.eps[k..].iter().all(|&e| e == 0.0),
        "{ctx}: DualVec unused tangents {:?}",
        y.eps
    );

    // Var<f64> on a tape.
    let tape = Tape::<f64>::new();
    let xs = tape.vars(p);
    let y = prim.eval(&xs);
    check(format_args!("{ctx}: Var value"), y.val(), value, 0.0, 0.0);
    let g_var = tape.gradient(y).wrt_all(&xs);
    drop(tape);

    // The drivers.
    let (v_rev, g_rev) = gradient(&f, p);
    let (v_fwd, g_fwd) = gradient_forward(&f, p);
    let (v_gd, g_gd) = forward::gradient_dual(|x| prim.eval(x), p);
    let (v_gc, g_gc) = forward::gradient_chunked::<2>(|x| prim.eval(x), p);
    let (v_gw, g_gw) = reverse::gradient_with(|x| prim.eval(x), p);
    for (name, v) in [
        ("gradient", v_rev),
        ("gradient_forward", v_fwd),
        ("gradient_dual", v_gd),
        ("gradient_chunked::<2>", v_gc),
        ("gradient_with", v_gw),
    ] {
        check(format_args!("{ctx}: {name} value"), v, value, 0.0, 0.0);
    }

    let atol = 1e-15 * scale(&g_dual);
    for (name, g) in [
        ("DualVec", &g_dualvec),
        ("Var", &g_var),
        ("gradient", &g_rev),
        ("gradient_forward", &g_fwd),
        ("gradient_dual", &g_gd),
        ("gradient_chunked::<2>", &g_gc),
        ("gradient_with", &g_gw),
    ] {
        check_vec(
            format_args!("{ctx}: {name} vs Dual"),
            g,
            &g_dual,
            MODE_RTOL,
            atol,
        );
    }

    // Against finite differences.
    let fd = fd_gradient(&|q| prim.eval(q), p);
    check_vec(
        format_args!("{ctx}: Dual vs finite differences"),
        &g_dual,
        &fd,
        FD_RTOL,
        1e-9 * value.abs().max(1.0),
    );

    // check_gradient agrees (it uses plain second-order differences, so a looser bound).
    let c = ferrad_core::check_gradient(&f, p);
    assert!(
        c.max_rel_error <= 1e-5 * scale(&g_dual).max(value.abs()),
        "{ctx}: {c:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    /// Every primitive at a random smooth point, every first-order mode.
    #[test]
    fn every_primitive_every_mode(u in prop::collection::vec(0.0..1.0f64, 3)) {
        for prim in Prim::all() {
            if let Some(p) = prim.sample(&u) {
                first_order_all_modes(prim, &p);
            }
        }
    }

    /// Primal values are bit-identical in every mode (the rule table's), and within
    /// [`STD_RTOL`] of plain `f64` code, at arbitrary points (including outside the smooth
    /// domain, where the value may be NaN or infinite).
    #[test]
    fn primal_bits_identical_everywhere(x in prop::collection::vec(-50.0..50.0f64, 3)) {
        for prim in Prim::all() {
            let p = &x[..prim.arity()];
            let v = rule_value(&PrimFn(prim), p);
            let d: Vec<Dual<f64>> = p.iter().map(|&a| Dual::variable(a)).collect();
            let dv: Vec<DualVec<f64, 2>> = p.iter().map(|&a| DualVec::new(a, [1.0, -1.0])).collect();
            let dd: Vec<Dual<Dual<f64>>> =
                p.iter().map(|&a| Dual::variable(Dual::variable(a))).collect();
            let tape = Tape::<f64>::new();
            let vs = tape.vars(p);
            let tape2 = Tape::<Dual<f64>>::new();
            let vd: Vec<Var<Dual<f64>>> = p.iter().map(|&a| tape2.var(Dual::variable(a))).collect();
            let ctx = format!("{prim:?} at {p:?}");
            check(format_args!("{ctx}: rule table vs std"), v, prim.eval(p), STD_RTOL, 0.0);
            check(format_args!("{ctx}: Dual"), prim.eval(&d).re, v, 0.0, 0.0);
            check(format_args!("{ctx}: DualVec"), prim.eval(&dv).re, v, 0.0, 0.0);
            check(format_args!("{ctx}: Dual<Dual>"), prim.eval(&dd).re.re, v, 0.0, 0.0);
            check(format_args!("{ctx}: Var"), prim.eval(&vs).val(), v, 0.0, 0.0);
            check(format_args!("{ctx}: Var<Dual>"), prim.eval(&vd).val().re, v, 0.0, 0.0);
        }
    }
}

/// Each primitive gets smooth sample points, so the property test above is not vacuous.
#[test]
fn every_primitive_is_sampled() {
    let all = Prim::all();
    assert_eq!(all.len(), Unary::ALL.len() + Binary::ALL.len() + 1 + 4);
    for prim in all {
        let hits = (0..50)
            .filter(|i| {
                let t = (*i as f64 + 0.5) / 50.0;
                prim.sample(&[t, (t * 3.7 + 0.13).fract(), (t * 7.0).fract()])
                    .is_some()
            })
            .count();
        assert!(
            hits >= 25,
            "{prim:?}: only {hits} of 50 grid points are smooth"
        );
    }
}

/// Known derivative values, written out by hand, as an anchor independent of finite differences.
#[test]
fn hand_written_derivatives() {
    let d = |prim: Prim, x: f64| ferrad_core::derivative(|t| prim.eval(&[t]), x).1;
    let e = std::f64::consts::E;
    let cases: [(Prim, f64, f64); 14] = [
        (Prim::K(KOp::Div), 2.0, 1.0 / K),
        (Prim::U(Unary::Sqrt), 4.0, 0.25),
        (Prim::U(Unary::Cbrt), 8.0, 1.0 / 12.0),
        (Prim::U(Unary::Exp), 1.0, e),
        (Prim::U(Unary::Exp2), 3.0, 8.0 * std::f64::consts::LN_2),
        (Prim::U(Unary::Ln), 0.5, 2.0),
        (
            Prim::U(Unary::Log2),
            2.0,
            1.0 / (2.0 * std::f64::consts::LN_2),
        ),
        (
            Prim::U(Unary::Log10),
            10.0,
            1.0 / (10.0 * std::f64::consts::LN_10),
        ),
        (Prim::U(Unary::Asin), 0.6, 1.25),
        (Prim::U(Unary::Acos), 0.6, -1.25),
        (Prim::U(Unary::Atan), 2.0, 0.2),
        (Prim::U(Unary::Atanh), 0.5, 4.0 / 3.0),
        (Prim::U(Unary::Acosh), 1.25, 4.0 / 3.0),
        (Prim::U(Unary::Powi(-2)), 2.0, -0.25),
    ];
    for (prim, x, want) in cases {
        check(
            format_args!("{prim:?} at {x}"),
            d(prim, x),
            want,
            1e-15,
            0.0,
        );
    }
    let g = |prim: Prim, p: &[f64]| gradient(&PrimFn(prim), p).1;
    check_vec(
        "atan2 at (3, 4)",
        &g(Prim::B(Binary::Atan2), &[3.0, 4.0]),
        &[0.16, -0.12],
        1e-15,
        0.0,
    );
    check_vec(
        "hypot at (3, 4)",
        &g(Prim::B(Binary::Hypot), &[3.0, 4.0]),
        &[0.6, 0.8],
        1e-15,
        0.0,
    );
    check_vec(
        "rem at (7.5, 2)",
        &g(Prim::B(Binary::Rem), &[7.5, 2.0]),
        &[1.0, -3.0],
        0.0,
        0.0,
    );
    check_vec(
        "rem at (-7.5, 2)",
        &g(Prim::B(Binary::Rem), &[-7.5, 2.0]),
        &[1.0, 3.0],
        0.0,
        0.0,
    );
    check_vec(
        "powf at (2, 3)",
        &g(Prim::B(Binary::Powf), &[2.0, 3.0]),
        &[12.0, 8.0 * std::f64::consts::LN_2],
        1e-15,
        0.0,
    );
    check_vec(
        "mul_add at (2, 3, 4)",
        &g(Prim::MulAdd, &[2.0, 3.0, 4.0]),
        &[3.0, 2.0, 1.0],
        0.0,
        0.0,
    );
}

/// The reversed mixed operators `c + x`, `c - x`, `c * x`, `c / x` (not part of the generic
/// `Real` bound, so tested on the concrete types).
#[test]
fn reversed_operators_with_f64() {
    let x0 = 0.8f64;
    let want_v = [2.5 + x0, 2.5 - x0, 2.5 * x0, 2.5 / x0];
    let want_d = [1.0, -1.0, 2.5, -2.5 / (x0 * x0)];
    let d = Dual::variable(x0);
    let dv = DualVec::<f64, 2>::new(x0, [1.0, 2.0]);
    let dd = Dual::variable(Dual::variable(x0));
    let tape = Tape::<f64>::new();
    let v = tape.var(x0);
    let ys_d = [2.5 + d, 2.5 - d, 2.5 * d, 2.5 / d];
    let ys_dv = [2.5 + dv, 2.5 - dv, 2.5 * dv, 2.5 / dv];
    let ys_dd = [2.5 + dd, 2.5 - dd, 2.5 * dd, 2.5 / dd];
    let ys_v = [2.5 + v, 2.5 - v, 2.5 * v, 2.5 / v];
    let want_d2 = [0.0, 0.0, 0.0, 5.0 / (x0 * x0 * x0)];
    for k in 0..4 {
        let ctx = format!("reversed operator #{k}");
        check(
            format_args!("{ctx}: Dual value"),
            ys_d[k].re,
            want_v[k],
            0.0,
            0.0,
        );
        check(
            format_args!("{ctx}: Dual"),
            ys_d[k].eps,
            want_d[k],
            1e-15,
            0.0,
        );
        check(
            format_args!("{ctx}: DualVec value"),
            ys_dv[k].re,
            want_v[k],
            0.0,
            0.0,
        );
        check_vec(
            format_args!("{ctx}: DualVec"),
            &ys_dv[k].eps,
            &[want_d[k], 2.0 * want_d[k]],
            1e-15,
            0.0,
        );
        check(
            format_args!("{ctx}: Dual<Dual> value"),
            ys_dd[k].re.re,
            want_v[k],
            0.0,
            0.0,
        );
        check(
            format_args!("{ctx}: Dual<Dual>"),
            ys_dd[k].eps.eps,
            want_d2[k],
            1e-15,
            0.0,
        );
        check(
            format_args!("{ctx}: Var value"),
            ys_v[k].val(),
            want_v[k],
            0.0,
            0.0,
        );
        check(
            format_args!("{ctx}: Var"),
            tape.gradient(ys_v[k]).wrt(&v),
            want_d[k],
            1e-15,
            0.0,
        );
    }
}
