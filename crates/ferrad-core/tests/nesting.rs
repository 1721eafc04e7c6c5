//! Second derivatives of every primitive through every nesting (`Dual<Dual>`, `Var<Dual>` = hvp,
//! `DualVec<DualVec>` = `hessian` for n ≤ 12, `Var<DualVec>` = `hessian` for n > 12, `Var<Var>`,
//! `Dual<Var>`): against finite differences of the gradient and against each other.
#![allow(clippy::needless_range_loop)] // index loops mirror the math (H[i][j])

mod common;

use common::*;
use ferrad_core::prelude::*;
use ferrad_core::{gradient, hessian, hvp};
use proptest::prelude::*;

/// The Hessian by reverse over forward (`Dual<Var<f64>>`): the tangent along `eⱼ` is a `Var`
/// whose gradient is column `j`.
fn hessian_dual_var(f: &impl ScalarFn, x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let mut cols = Vec::new();
    for j in 0..n {
        let tape = Tape::<f64>::new();
        let vars = tape.vars(x);
        let xs: Vec<Dual<Var<f64>>> = vars
            .iter()
            .enumerate()
            .map(|(k, &v)| Dual::new(v, Var::constant(if k == j { 1.0 } else { 0.0 })))
            .collect();
        let y = f.eval(&xs);
        cols.push(tape.gradient(y.eps).wrt_all(&vars));
    }
    (0..n)
        .map(|i| (0..n).map(|j| cols[j][i]).collect())
        .collect()
}

/// All second-order modes of `prim` at the smooth point `p`; `v` is a direction, `fill` values for
/// the padding inputs of the large-n check.
fn second_order_all_modes(prim: Prim, p: &[f64], v: &[f64], fill: &[f64]) {
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
    let (_, g) = gradient(&f, p);

    let (hv0, hg, h) = hessian(&f, p);
    check(format_args!("{ctx}: hessian value"), hv0, value, 0.0, 0.0);
    check_vec(
        format_args!("{ctx}: hessian gradient"),
        &hg,
        &g,
        MODE_RTOL,
        0.0,
    );
    let atol = 1e-15 * scale_mat(&h);
    for i in 0..h.len() {
        for j in 0..i {
            check(
                format_args!("{ctx}: hessian symmetry ({i},{j})"),
                h[i][j],
                h[j][i],
                MODE_RTOL,
                atol,
            );
        }
    }

    check_mat(
        format_args!("{ctx}: Dual<Dual> vs hessian"),
        &hessian_dual_dual(&f, p),
        &h,
        MODE_RTOL,
        atol,
    );
    check_mat(
        format_args!("{ctx}: hvp columns vs hessian"),
        &hessian_by_hvp(&f, p),
        &h,
        MODE_RTOL,
        atol,
    );
    check_mat(
        format_args!("{ctx}: Dual<Var> vs hessian"),
        &hessian_dual_var(&f, p),
        &h,
        MODE_RTOL,
        atol,
    );
    let (vv, gv, hvv) = hessian_var_var(&f, p);
    check(format_args!("{ctx}: Var<Var> value"), vv, value, 0.0, 0.0);
    check_vec(
        format_args!("{ctx}: Var<Var> gradient"),
        &gv,
        &g,
        MODE_RTOL,
        0.0,
    );
    check_mat(
        format_args!("{ctx}: Var<Var> vs hessian"),
        &hvv,
        &h,
        MODE_RTOL,
        atol,
    );

    // hvp along a random direction is H·v.
    let v = &v[..p.len()];
    let (hvp_v, hvp_g, hvp_hv) = hvp(&f, p, v);
    check(format_args!("{ctx}: hvp value"), hvp_v, value, 0.0, 0.0);
    check_vec(
        format_args!("{ctx}: hvp gradient"),
        &hvp_g,
        &g,
        MODE_RTOL,
        0.0,
    );
    let hv: Vec<f64> = h
        .iter()
        .map(|r| r.iter().zip(v).map(|(a, b)| a * b).sum())
        .collect();
    check_vec(
        format_args!("{ctx}: hvp vs H·v"),
        &hvp_hv,
        &hv,
        1e-11,
        1e-14 * scale_mat(&h),
    );

    // Against finite differences of the reverse-mode gradient.
    check_mat(
        format_args!("{ctx}: hessian vs finite differences"),
        &h,
        &hessian_fd(&f, p),
        FD_RTOL,
        1e-9 * scale(&g).max(value.abs()),
    );

    // The same primitive inside a function of 14 inputs: `hessian` goes forward over reverse.
    let pf = PaddedPrim(prim);
    let x = pf.embed(p, fill);
    let (v14, g14, h14) = hessian(&pf, &x);
    check(
        format_args!("{ctx}: n = 14 hessian value"),
        v14,
        rule_value(&pf, &x),
        0.0,
        0.0,
    );
    check_vec(
        format_args!("{ctx}: n = 14 hessian gradient"),
        &g14,
        &gradient(&pf, &x).1,
        MODE_RTOL,
        1e-15,
    );
    for i in 0..PAD_N {
        for j in 0..PAD_N {
            let a = PAD_AT[..p.len()].iter().position(|&k| k == i);
            let b = PAD_AT[..p.len()].iter().position(|&k| k == j);
            let want = match (a, b) {
                (Some(a), Some(b)) => h[a][b],
                (None, None) if i == j => 1.0 - x[i].sin(),
                _ => 0.0,
            };
            check(
                format_args!("{ctx}: n = 14 hessian ({i},{j})"),
                h14[i][j],
                want,
                MODE_RTOL,
                atol,
            );
        }
    }
    let w: Vec<f64> = (0..PAD_N).map(|i| fill[(i + 1) % fill.len()]).collect();
    let (_, _, hw) = hvp(&pf, &x, &w);
    let h14w: Vec<f64> = h14
        .iter()
        .map(|r| r.iter().zip(&w).map(|(a, b)| a * b).sum())
        .collect();
    check_vec(
        format_args!("{ctx}: n = 14 hvp vs H·w"),
        &hw,
        &h14w,
        1e-11,
        1e-14 * scale_mat(&h14),
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every primitive at a random smooth point, every second-order mode.
    #[test]
    fn every_primitive_second_order(
        u in prop::collection::vec(0.0..1.0f64, 3),
        v in prop::collection::vec(-1.0..1.0f64, 3),
        fill in prop::collection::vec(-1.0..1.0f64, 5),
    ) {
        for prim in Prim::all() {
            if let Some(p) = prim.sample(&u) {
                second_order_all_modes(prim, &p, &v, &fill);
            }
        }
    }
}

/// Third derivatives through three levels of nesting agree with the closed form.
#[test]
fn third_derivative_through_triple_nesting() {
    // f = sin(x)·exp(x): f''' = 2 e^x (cos x - sin x)
    let x0 = 0.7f64;
    let x = Dual::new(
        Dual::new(Dual::new(x0, 1.0), Dual::new(1.0, 0.0)),
        Dual::new(Dual::new(1.0, 0.0), Dual::new(0.0, 0.0)),
    );
    let y = x.sin() * x.exp();
    check(
        "f'''",
        y.eps.eps.eps,
        2.0 * x0.exp() * (x0.cos() - x0.sin()),
        1e-14,
        0.0,
    );
    check("f''", y.eps.eps.re, 2.0 * x0.exp() * x0.cos(), 1e-14, 0.0);

    // Var<Dual<Dual<f64>>>: reverse over second-order forward.
    let tape = Tape::<Dual<Dual<f64>>>::new();
    let xv = tape.var(Dual::new(Dual::new(x0, 1.0), Dual::new(1.0, 0.0)));
    let yv = xv.sin() * xv.exp();
    let d = tape.gradient(yv).wrt(&xv);
    check(
        "Var<Dual<Dual>> f'",
        d.re.re,
        x0.exp() * (x0.sin() + x0.cos()),
        1e-14,
        0.0,
    );
    check(
        "Var<Dual<Dual>> f'''",
        d.eps.eps,
        2.0 * x0.exp() * (x0.cos() - x0.sin()),
        1e-14,
        0.0,
    );

    // DualVec<Dual<f64>, 2> and Dual<DualVec<f64, 2>> agree on the mixed second derivative.
    let (a, b) = (0.4f64, -1.3f64);
    let want = (a * b).cos() - a * b * (a * b).sin(); // ∂²/∂a∂b sin(ab)
    let xa = DualVec::<Dual<f64>, 2>::new(
        Dual::new(a, 0.0),
        [Dual::new(1.0, 0.0), Dual::new(0.0, 0.0)],
    );
    let xb = DualVec::<Dual<f64>, 2>::new(
        Dual::new(b, 1.0),
        [Dual::new(0.0, 0.0), Dual::new(1.0, 0.0)],
    );
    check(
        "DualVec<Dual> ∂a∂b",
        (xa * xb).sin().eps[0].eps,
        want,
        1e-14,
        0.0,
    );
    let ya =
        Dual::<DualVec<f64, 2>>::new(DualVec::new(a, [1.0, 0.0]), DualVec::new(0.0, [0.0, 0.0]));
    let yb =
        Dual::<DualVec<f64, 2>>::new(DualVec::new(b, [0.0, 1.0]), DualVec::new(1.0, [0.0, 0.0]));
    check(
        "Dual<DualVec> ∂a∂b",
        (ya * yb).sin().eps.eps[0],
        want,
        1e-14,
        0.0,
    );
}

/// The Hessian path switch at n = 12 / 13 gives the same matrix for the same function.
#[test]
fn hessian_paths_agree_across_the_switch() {
    fn f<T: Real>(x: &[T]) -> T {
        let mut s = T::zero();
        for i in 0..x.len() {
            let j = (i + 5) % x.len();
            s += (x[i] * x[j]).sin() + x[i].powi(3) * 0.1 + (x[i] - x[j]).exp() * 0.01;
        }
        s.atan()
    }
    let f = ferrad_core::scalar_fn!(f);
    for n in [11usize, 12, 13, 17, 24] {
        let x: Vec<f64> = (0..n).map(|i| ((i as f64) * 0.37).sin()).collect();
        let (v, g, h) = hessian(&f, &x);
        let (vg, gg) = gradient(&f, &x);
        check(format_args!("n = {n}: value"), v, vg, 0.0, 0.0);
        check_vec(format_args!("n = {n}: gradient"), &g, &gg, MODE_RTOL, 1e-15);
        let atol = 1e-14 * scale_mat(&h);
        check_mat(
            format_args!("n = {n}: hessian vs hvp columns"),
            &h,
            &hessian_by_hvp(&f, &x),
            1e-11,
            atol,
        );
        check_mat(
            format_args!("n = {n}: hessian vs Var<Var>"),
            &h,
            &hessian_var_var(&f, &x).2,
            1e-11,
            atol,
        );
        check_mat(
            format_args!("n = {n}: hessian vs finite differences"),
            &h,
            &hessian_fd(&f, &x),
            FD_RTOL,
            1e-8,
        );
    }
}

/// Forward types add and subtract tangents directly and share one `sin_cos` of the primal:
/// the same bits as the rule-table path for `f64` tangents, and no `inf·0 = NaN` from a unit
/// partial when the tangents are themselves nested numbers.
#[test]
fn forward_fast_paths_match_the_rule_table() {
    for x in [-3.7f64, -0.0, 0.0, 0.4, 2.5, 1e6, 1e30] {
        let d = Dual::new(x, 0.75);
        let (s, c) = d.sin_cos();
        let (rs, rc) = (d.sin(), d.cos());
        assert_eq!(
            (s.re.to_bits(), s.eps.to_bits()),
            (rs.re.to_bits(), rs.eps.to_bits())
        );
        assert_eq!(
            (c.re.to_bits(), c.eps.to_bits()),
            (rc.re.to_bits(), rc.eps.to_bits())
        );
        let v = DualVec::<f64, 3>::new(x, [0.5, -2.0, 1e-300]);
        let (s, c) = v.sin_cos();
        let (rs, rc) = (v.sin(), v.cos());
        assert_eq!(s.re.to_bits(), rs.re.to_bits());
        assert_eq!(c.re.to_bits(), rc.re.to_bits());
        for k in 0..3 {
            assert_eq!(
                s.eps[k].to_bits(),
                rs.eps[k].to_bits(),
                "sin tangent {k} at {x}"
            );
            assert_eq!(
                c.eps[k].to_bits(),
                rc.eps[k].to_bits(),
                "cos tangent {k} at {x}"
            );
        }
        // sin_cos of a nested number, down to the second derivatives
        let n = Dual::new(Dual::variable(x), Dual::new(1.0, 0.0));
        let (s, c) = n.sin_cos();
        let (rs, rc) = (n.sin(), n.cos());
        for (a, b) in [(s, rs), (c, rc)] {
            let bits =
                |d: Dual<Dual<f64>>| [d.re.re, d.re.eps, d.eps.re, d.eps.eps].map(f64::to_bits);
            assert_eq!(bits(a), bits(b), "nested sin_cos at {x}");
        }
    }
    let inf = Dual::new(Dual::new(1.0, 2.0), Dual::new(f64::INFINITY, 3.0));
    let b = Dual::new(Dual::new(1.0, 0.0), Dual::new(0.0, 5.0));
    assert_eq!((inf + b).eps.eps, 8.0);
    assert_eq!((inf - b).eps.eps, -2.0);
    assert_eq!((-inf).eps.eps, -3.0);
    let inf = DualVec::<DualVec<f64, 1>, 1>::new(
        DualVec::new(1.0, [2.0]),
        [DualVec::new(f64::INFINITY, [3.0])],
    );
    let b =
        DualVec::<DualVec<f64, 1>, 1>::new(DualVec::new(1.0, [0.0]), [DualVec::new(0.0, [5.0])]);
    assert_eq!((inf + b).eps[0].eps[0], 8.0);
    assert_eq!((inf - b).eps[0].eps[0], -2.0);
    assert_eq!((-inf).eps[0].eps[0], -3.0);
}

/// A composite of every kind of step (unary, the linear and product fast paths, a general
/// binary, a ternary, constants on both sides): `Dual2Vec` against `DualVec<DualVec>`.
#[test]
fn dual2vec_matches_nested_dualvec() {
    fn f<T: Real>(x: &[T]) -> T {
        let a = x[0].sin() * x[1].exp() - x[2] / (x[0] * x[0] + 1.0);
        let b = a.powf(x[1] * 0.5 + 1.0).atan2(x[2].tanh() + 2.0) + x[3].hypot(x[0]);
        let (s, c) = (b * 3.0).sin_cos();
        x[1].mul_add(s, c) - x[3].ln_1p() * 2.0 + (x[2] - 0.25).powi(3) / 7.0
    }
    for seed in 0..20 {
        let x: Vec<f64> = (0..4)
            .map(|i| (0.37 * (seed * 4 + i) as f64).sin() * 0.8 + 0.9)
            .collect();
        let d2: Vec<Dual2Vec<4>> = (0..4).map(|i| Dual2Vec::variable(x[i], i)).collect();
        let nested: Vec<DualVec<DualVec<f64, 4>, 4>> = (0..4)
            .map(|i| DualVec::variable(DualVec::variable(x[i], i), i))
            .collect();
        let (y, z) = (f(&d2), f(&nested));
        let ctx = format!("at {x:?}");
        check(format_args!("{ctx}: value"), y.re, z.re.re, 0.0, 0.0);
        check_vec(format_args!("{ctx}: gradient"), &y.g, &z.re.eps, 1e-14, 0.0);
        let h = y.hess();
        for i in 0..4 {
            check_vec(
                format_args!("{ctx}: H row {i}"),
                &h[i],
                &z.eps[i].eps,
                1e-12,
                1e-14,
            );
            for j in 0..4 {
                assert_eq!(h[i][j].to_bits(), h[j][i].to_bits(), "symmetric");
            }
        }
    }
}

/// A point proptest once drew: x/y = −9.056 is 0.056 from an integer, within the reach of the
/// Hessian's finite differences (whose steps crossed the jump of `%`), so it is not sampled.
#[test]
fn rem_is_not_sampled_within_finite_difference_reach_of_its_jump() {
    use ferrad_core::rules::Binary;
    let (x, y) = (-2.7895508263102897, 0.30802942492044494);
    let u = [(x + 3.0) / 6.0, (y + 3.0) / 6.0, 0.5];
    assert_eq!(Prim::B(Binary::Rem).sample(&u), None);
    // far from the jump it is
    assert!(Prim::B(Binary::Rem).sample(&[0.8, 0.3, 0.5]).is_some());
}
