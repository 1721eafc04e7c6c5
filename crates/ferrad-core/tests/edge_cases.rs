//! Edge cases with the documented conventions of the rule table (0, -0, negatives, huge, tiny,
//! NaN, ±inf), tape accounting (constants take no entry, bytes per entry), and shape-mismatch
//! panics that name both lengths.
#![allow(clippy::needless_range_loop)] // index loops mirror the math (H[i][j])

mod common;

use common::*;
use ferrad_core::prelude::*;
use ferrad_core::rules::{Binary, Unary};
use ferrad_core::{gradient, gradient_forward, hessian, hvp, jvp, vjp};

/// `∂f/∂xᵢ` of a `Prim` at `p` in the one-tangent forward mode, the chunked forward mode and
/// reverse mode, each returned separately (so a test can tell which mode broke a convention).
fn partials(prim: Prim, p: &[f64]) -> [Vec<f64>; 3] {
    let dual: Vec<f64> = (0..p.len())
        .map(|i| {
            let xs: Vec<Dual<f64>> = p
                .iter()
                .enumerate()
                .map(|(j, &v)| Dual::new(v, if i == j { 1.0 } else { 0.0 }))
                .collect();
            prim.eval(&xs).eps
        })
        .collect();
    let fwd = gradient_forward(&PrimFn(prim), p).1;
    let rev = gradient(&PrimFn(prim), p).1;
    [dual, fwd, rev]
}

/// Asserts the partials of `prim` at `p` in every first-order mode.
#[track_caller]
fn assert_partials(prim: Prim, p: &[f64], want: &[f64]) {
    for (mode, got) in ["Dual", "gradient_forward", "gradient"]
        .iter()
        .zip(partials(prim, p))
    {
        check_vec(
            format_args!("{prim:?} at {p:?} in {mode}"),
            &got,
            want,
            1e-15,
            0.0,
        );
    }
}

#[test]
fn abs_derivative_is_zero_at_both_zeros() {
    for z in [0.0, -0.0] {
        assert_partials(Prim::U(Unary::Abs), &[z], &[0.0]);
        let h = hessian(&PrimFn(Prim::U(Unary::Abs)), &[z]).2;
        assert_eq!(h, vec![vec![0.0]]);
    }
    assert_partials(Prim::U(Unary::Abs), &[-2.0], &[-1.0]);
    assert_partials(Prim::U(Unary::Abs), &[2.0], &[1.0]);
    assert!(
        partials(Prim::U(Unary::Abs), &[f64::NAN])
            .iter()
            .all(|g| g[0].is_nan())
    );
}

#[test]
fn max_and_min_ties_pick_the_first_argument() {
    for op in [Binary::Max, Binary::Min] {
        assert_partials(Prim::B(op), &[2.0, 2.0], &[1.0, 0.0]);
        assert_partials(Prim::B(op), &[-0.0, -0.0], &[1.0, 0.0]);
        // The same variable on both sides gets the full derivative.
        let (_, d) = ferrad_core::derivative(
            |x| {
                if op == Binary::Max {
                    x.max(x)
                } else {
                    x.min(x)
                }
            },
            1.5,
        );
        assert_eq!(d, 1.0);
        // A NaN argument is ignored, as by f64::max / f64::min; the other one gets the derivative.
        let (v, g) = gradient(&PrimFn(Prim::B(op)), &[f64::NAN, 1.0]);
        assert_eq!((v, g), (1.0, vec![0.0, 1.0]), "{op:?}(NaN, 1)");
        let (v, g) = gradient(&PrimFn(Prim::B(op)), &[1.0, f64::NAN]);
        assert_eq!((v, g), (1.0, vec![1.0, 0.0]), "{op:?}(1, NaN)");
    }
    assert_partials(Prim::B(Binary::Max), &[1.0, 3.0], &[0.0, 1.0]);
    assert_partials(Prim::B(Binary::Min), &[1.0, 3.0], &[1.0, 0.0]);
}

#[test]
fn min_max_of_signed_zeros_match_f64_bits() {
    for (a, b) in [(0.0f64, -0.0f64), (-0.0, 0.0)] {
        for op in [Binary::Max, Binary::Min] {
            let want = Prim::B(op).eval(&[a, b]);
            let got = Prim::B(op).eval(&[Dual::variable(a), Dual::constant(b)]).re;
            check(format_args!("{op:?}({a:?}, {b:?})"), got, want, 0.0, 0.0);
        }
    }
}

#[test]
fn sqrt_and_cbrt_derivatives_at_zero_are_plus_infinity() {
    for z in [0.0, -0.0] {
        assert_partials(Prim::U(Unary::Sqrt), &[z], &[f64::INFINITY]);
        assert_partials(Prim::U(Unary::Cbrt), &[z], &[f64::INFINITY]);
    }
}

#[test]
fn powf_conventions_at_zero() {
    let pow = Prim::B(Binary::Powf);
    // ∂y = 0 where x^y = 0; ∂x = y·x^(y-1).
    assert_partials(pow, &[0.0, 2.0], &[0.0, 0.0]);
    assert_partials(pow, &[0.0, 3.0], &[0.0, 0.0]);
    assert_eq!(partials(pow, &[0.0, 1.0])[2], vec![1.0, 0.0]);
    assert_eq!(partials(pow, &[0.0, 0.5])[2], vec![f64::INFINITY, 0.0]);
    // x^0 = 1 for every x, 0^0 included: its derivative in x is 0, as for powi(x, 0).
    for x in [0.0, -0.0, 2.0, -3.0] {
        let (v, d) = ferrad_core::derivative(|t| t.powf(Dual::constant(0.0)), x);
        assert_eq!((v, d), (1.0, 0.0), "d/dx x^0 at {x}");
        let (v, g) = gradient(&PrimFn(pow), &[x, 0.0]);
        assert_eq!((v, g[0]), (1.0, 0.0), "∂x of x^y at ({x}, 0)");
    }
}

#[test]
fn powf_with_a_negative_base_and_constant_exponent() {
    // x.powf(2) at x = -3 is 9 with derivative -6 in every mode: the exponent's partial
    // (undefined for x < 0) must not leak into the result when the exponent is a constant.
    fn f<T: Real>(x: &[T]) -> T {
        x[0].powf(T::cst(2.0)) + x[0].powf(T::cst(-1.0))
    }
    let f = ferrad_core::scalar_fn!(f);
    let want = -6.0 - 1.0 / 9.0;
    assert_eq!(gradient(&f, &[-3.0]).1, vec![want]);
    assert_eq!(gradient_forward(&f, &[-3.0]).1, vec![want]);
    let h = hessian(&f, &[-3.0]).2[0][0];
    check("second derivative", h, 2.0 + 2.0 / -27.0, 1e-15, 0.0);
    check(
        "hvp",
        hvp(&f, &[-3.0], &[1.0]).2[0],
        2.0 + 2.0 / -27.0,
        1e-15,
        0.0,
    );
}

#[test]
fn powi_zero_has_zero_derivative_everywhere() {
    for x in [0.0, -0.0, 3.0, -2.0, f64::INFINITY, f64::NAN] {
        let (v, g) = gradient(&PrimFn(Prim::U(Unary::Powi(0))), &[x]);
        assert_eq!((v, g), (1.0, vec![0.0]), "powi(x, 0) at {x}");
        assert_eq!(
            gradient_forward(&PrimFn(Prim::U(Unary::Powi(0))), &[x]).1,
            vec![0.0]
        );
    }
}

#[test]
fn atan2_and_hypot_at_the_origin_have_zero_partials() {
    for op in [Binary::Atan2, Binary::Hypot] {
        for (x, y) in [(0.0, 0.0), (-0.0, 0.0), (0.0, -0.0), (-0.0, -0.0)] {
            assert_partials(Prim::B(op), &[x, y], &[0.0, 0.0]);
            let (_, _, h) = hessian(&PrimFn(Prim::B(op)), &[x, y]);
            assert!(
                h.iter().flatten().all(|v| v.is_finite()),
                "{op:?} hessian at origin: {h:?}"
            );
        }
    }
}

#[test]
fn atan2_partials_at_tiny_and_huge_radii() {
    // ∂/∂x atan2(x, y) = y / (x² + y²), ∂/∂y = -x / (x² + y²): finite and nonzero at any
    // representable nonzero point, even where x² + y² under- or overflows.
    for s in [1e-200, 1e-160, 1e160, 1e300] {
        let want = [0.5 / s, -0.5 / s];
        assert_partials(Prim::B(Binary::Atan2), &[s, s], &want);
    }
}

#[test]
fn hypot_partials_at_tiny_and_huge_radii() {
    for s in [1e-300, 1e300] {
        let r = std::f64::consts::FRAC_1_SQRT_2;
        assert_partials(Prim::B(Binary::Hypot), &[s, s], &[r, r]);
    }
}

#[test]
fn inverse_hyperbolic_derivatives_at_huge_arguments() {
    // asinh'(x) = 1/√(x²+1), acosh'(x) = 1/√(x²-1): about 1/|x|, representable up to f64::MAX.
    for x in [1e160, 1e200, 1e300] {
        assert_partials(Prim::U(Unary::Asinh), &[x], &[1.0 / x]);
        assert_partials(Prim::U(Unary::Asinh), &[-x], &[1.0 / x]);
        assert_partials(Prim::U(Unary::Acosh), &[x], &[1.0 / x]);
    }
}

#[test]
fn derivatives_at_huge_values() {
    let x = 1e300f64;
    assert_partials(Prim::U(Unary::Sqrt), &[x], &[0.5 / x.sqrt()]);
    assert_partials(Prim::U(Unary::Ln), &[x], &[1e-300]);
    assert_partials(
        Prim::U(Unary::Log2),
        &[x],
        &[1.0 / (x * std::f64::consts::LN_2)],
    );
    assert_partials(Prim::U(Unary::Atan), &[x], &[0.0]);
    assert_partials(Prim::U(Unary::Tanh), &[x], &[0.0]);
    assert_partials(Prim::U(Unary::Tanh), &[-x], &[0.0]);
    assert_partials(Prim::U(Unary::Sin), &[x], &[x.cos()]);
    assert_partials(
        Prim::U(Unary::Cbrt),
        &[x],
        &[1.0 / (3.0 * x.cbrt() * x.cbrt())],
    );
    assert_partials(Prim::B(Binary::Mul), &[x, x], &[x, x]);
    assert_partials(Prim::B(Binary::Div), &[x, x], &[1.0 / x, -1.0 / x]);
    assert_partials(Prim::B(Binary::Rem), &[x, 3.0], &[1.0, -(x / 3.0).trunc()]);
    assert_partials(Prim::U(Unary::Powi(2)), &[x], &[2.0 * x]);
    assert_partials(Prim::U(Unary::Exp), &[x], &[f64::INFINITY]);
    assert_partials(Prim::U(Unary::Exp), &[-x], &[0.0]);
}

#[test]
fn derivatives_at_tiny_values() {
    for x in [1e-300f64, 5e-324] {
        assert_partials(Prim::U(Unary::Sqrt), &[x], &[0.5 / x.sqrt()]);
        assert_partials(Prim::U(Unary::Sin), &[x], &[1.0]);
        assert_partials(Prim::U(Unary::Asin), &[x], &[1.0]);
        assert_partials(Prim::U(Unary::Tanh), &[x], &[1.0]);
        assert_partials(Prim::U(Unary::Exp), &[x], &[1.0]);
        assert_partials(Prim::U(Unary::Ln1p), &[x], &[1.0]);
    }
    let x = 1e-300f64;
    assert_partials(
        Prim::U(Unary::Cbrt),
        &[x],
        &[1.0 / (3.0 * x.cbrt() * x.cbrt())],
    );
    assert_partials(Prim::U(Unary::Ln), &[x], &[1e300]);
    assert_partials(Prim::U(Unary::Recip), &[1e-100], &[-1e200]);
}

#[test]
fn negative_arguments() {
    assert_partials(Prim::U(Unary::Cbrt), &[-8.0], &[1.0 / 12.0]);
    assert_partials(Prim::U(Unary::Powi(3)), &[-2.0], &[12.0]);
    assert_partials(Prim::U(Unary::Powi(-2)), &[-2.0], &[0.25]);
    assert_partials(Prim::U(Unary::Recip), &[-4.0], &[-1.0 / 16.0]);
    assert_partials(Prim::B(Binary::Rem), &[-7.5, 2.0], &[1.0, 3.0]);
    assert_partials(Prim::B(Binary::Rem), &[7.5, -2.0], &[1.0, 3.0]);
    assert_partials(Prim::B(Binary::Atan2), &[-3.0, -4.0], &[-0.16, 0.12]);
    // Outside the domain the value is NaN (and, where the derivative needs the value's square
    // root, the derivative too).
    assert!(Prim::U(Unary::Ln).eval(&[-1.0]).is_nan());
    for (op, x) in [
        (Unary::Sqrt, -1.0),
        (Unary::Asin, 2.0),
        (Unary::Acos, -2.0),
        (Unary::Acosh, 0.5),
    ] {
        let [d, f, r] = partials(Prim::U(op), &[x]);
        assert!(Prim::U(op).eval(&[x]).is_nan(), "{op:?}({x})");
        assert!(
            d[0].is_nan() && f[0].is_nan() && r[0].is_nan(),
            "{op:?}'({x})"
        );
    }
}

#[test]
fn piecewise_constant_functions_have_zero_derivative() {
    fn f<T: Real>(x: &[T]) -> T {
        let v = x[0];
        v.floor() + v.ceil() * 2.0 + v.round() * 3.0 + v.trunc() * 4.0 + v.signum() * 5.0
    }
    let f = ferrad_core::scalar_fn!(f);
    for x in [-2.5, -0.3, 0.0, 0.7, 3.5] {
        assert_eq!(gradient(&f, &[x]).1, vec![0.0], "at {x}");
        assert_eq!(gradient_forward(&f, &[x]).1, vec![0.0], "at {x}");
        assert_eq!(hessian(&f, &[x]).2, vec![vec![0.0]], "at {x}");
        assert_eq!(f.eval(&[x]), gradient(&f, &[x]).0);
    }
}

#[test]
fn fract_copysign_and_friends() {
    fn f<T: Real>(x: &[T]) -> Vec<T> {
        vec![
            x[0].fract(),
            x[0].copysign(x[1]),
            x[0].to_degrees(),
            x[0].log(x[1]),
            x[0].abs_sub(x[1]),
        ]
    }
    let f = ferrad_core::vector_fn!(f);
    let (y, j) = ferrad_core::jacobian(&f, &[2.75, -3.0]);
    assert_eq!(y[0], 0.75);
    assert_eq!(y[1], -2.75);
    assert_eq!(j[0], vec![1.0, 0.0]);
    assert_eq!(j[1], vec![-1.0, 0.0]);
    check_vec(
        "to_degrees",
        &j[2],
        &[180.0 / std::f64::consts::PI, 0.0],
        1e-15,
        0.0,
    );
    let (_, j) = ferrad_core::jacobian(&f, &[2.75, 3.0]);
    assert_eq!(j[1], vec![1.0, 0.0]);
    let (l2, l3) = (2.75f64.ln(), 3.0f64.ln());
    check_vec(
        "log",
        &j[3],
        &[1.0 / (2.75 * l3), -l2 / (3.0 * l3 * l3)],
        1e-14,
        0.0,
    );
    assert_eq!(j[4], vec![0.0, 0.0]);
    let (_, j) = ferrad_core::jacobian(&f, &[4.0, 3.0]);
    assert_eq!(j[4], vec![1.0, -1.0]);
}

/// NaN inputs give the `f64` value (usually NaN) in every mode, up to the rule table's
/// rounding, and never panic.
#[test]
fn nan_propagates_without_panicking() {
    let specials = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.0,
        -0.0,
        1e300,
        -1e300,
        1e-310,
    ];
    for prim in Prim::all() {
        for &s in &specials {
            for pos in 0..prim.arity() {
                let mut p = vec![0.5; prim.arity()];
                p[pos] = s;
                let ctx = format!("{prim:?} at {p:?}");
                let f = PrimFn(prim);
                let want = prim.eval(&p);
                check(
                    format_args!("{ctx}: gradient value"),
                    gradient(&f, &p).0,
                    want,
                    STD_RTOL,
                    0.0,
                );
                check(
                    format_args!("{ctx}: gradient_forward value"),
                    gradient_forward(&f, &p).0,
                    want,
                    STD_RTOL,
                    0.0,
                );
                check(
                    format_args!("{ctx}: hessian value"),
                    hessian(&f, &p).0,
                    want,
                    STD_RTOL,
                    0.0,
                );
                check(
                    format_args!("{ctx}: hvp value"),
                    hvp(&f, &p, &vec![1.0; p.len()]).0,
                    want,
                    STD_RTOL,
                    0.0,
                );
                check(
                    format_args!("{ctx}: Var<Var> value"),
                    hessian_var_var(&f, &p).0,
                    want,
                    STD_RTOL,
                    0.0,
                );
                // A NaN result carries NaN or finite partials, never a panic; the partial with
                // respect to the NaN argument of a unary primitive with a non-constant
                // derivative is NaN.
                if s.is_nan()
                    && want.is_nan()
                    && prim.arity() == 1
                    && !matches!(prim, Prim::K(KOp::Add | KOp::Sub | KOp::Mul | KOp::Div))
                    && prim != Prim::U(Unary::Neg)
                {
                    assert!(gradient(&f, &p).1[0].is_nan(), "{ctx}: derivative");
                }
            }
        }
    }
}

#[test]
fn infinities_follow_the_limits() {
    let inf = f64::INFINITY;
    assert_eq!(
        gradient(&PrimFn(Prim::U(Unary::Exp)), &[-inf]),
        (0.0, vec![0.0])
    );
    assert_eq!(
        gradient(&PrimFn(Prim::U(Unary::Tanh)), &[inf]),
        (1.0, vec![0.0])
    );
    assert_eq!(
        gradient(&PrimFn(Prim::U(Unary::Tanh)), &[-inf]),
        (-1.0, vec![0.0])
    );
    assert_eq!(
        gradient(&PrimFn(Prim::U(Unary::Atan)), &[inf]),
        (std::f64::consts::FRAC_PI_2, vec![0.0])
    );
    assert_eq!(
        gradient(&PrimFn(Prim::U(Unary::Recip)), &[inf]),
        (0.0, vec![-0.0])
    );
    assert_eq!(
        gradient(&PrimFn(Prim::U(Unary::Exp)), &[inf]),
        (inf, vec![inf])
    );
    assert_eq!(
        gradient(&PrimFn(Prim::U(Unary::Sqrt)), &[inf]),
        (inf, vec![0.0])
    );
    assert_eq!(
        gradient_forward(&PrimFn(Prim::U(Unary::Tanh)), &[inf]),
        (1.0, vec![0.0])
    );
}

// ---------------------------------------------------------------------------------------------
// Tape accounting.
// ---------------------------------------------------------------------------------------------

#[test]
fn constants_take_no_tape_entry() {
    let tape = Tape::<f64>::new();
    assert!(tape.is_empty());
    let c = Var::constant(3.0);
    let k = <Var<f64> as Real>::cst(2.0);
    let z = (c * k).sin() + c.powi(3) / k - Var::constant(2.0).mul_add(c, k) + c.max(k);
    assert!(z.is_constant());
    assert_eq!(
        z.val(),
        (6.0f64).sin() + 13.5 - 2.0f64.mul_add(3.0, 2.0) + 3.0
    );
    assert_eq!(tape.stats().entries, 0, "constants only");

    let x = tape.var(0.5);
    assert_eq!(tape.stats().entries, 1);
    let y = x * c + c.exp() * k + x * 2.0 + 1.0;
    // x, x*c, (+ constant), x*2.0 and the sum are recorded; c.exp()*k is a constant, and
    // `+ 1.0` needs no entry.
    let entries = tape.stats().entries;
    assert!(entries <= 5, "entries = {entries}:\n{}", tape.dump());
    let g = tape.gradient(y);
    assert_eq!(g.wrt(&x), 5.0);
    assert_eq!(g.wrt(&c), 0.0);
    drop(tape);

    // Reverse gradient of a function with constants inside: the constants cost nothing.
    let tape = Tape::<f64>::new();
    let xs = tape.vars(&[1.0, 2.0]);
    let before = tape.stats().entries;
    let _ = Var::constant(4.0).sqrt() * Var::constant(2.0) + Var::constant(1.0).ln();
    assert_eq!(tape.stats().entries, before);
    let _ = xs[0] * xs[1];
    assert_eq!(tape.stats().entries, before + 1);
}

#[test]
fn tape_memory_is_reported() {
    let tape = Tape::<f64>::new();
    let xs = tape.vars(&[1.0, 2.0, 3.0]);
    let mut s = xs[0];
    for x in &xs {
        s = s * *x + x.sin();
    }
    let st = tape.stats();
    assert_eq!(st.bytes_per_entry, 25, "{st:?}");
    assert_eq!(st.entries, tape.len());
    assert_eq!(st.entries, 3 + 3 * 3, "{st:?}");
    // Each entry takes what its kind needs: inputs 1 byte, then per step a product (25), a
    // unary op (13) and a sum (9).
    assert_eq!(st.bytes, 3 + 3 * (25 + 13 + 9), "{st:?}");
    assert_eq!(st.custom_bytes, 0);
    assert_eq!(Tape::<f32>::new().stats().bytes_per_entry, 17);
}

// ---------------------------------------------------------------------------------------------
// Shape mismatches.
// ---------------------------------------------------------------------------------------------

fn two_outputs<T: Real>(x: &[T]) -> Vec<T> {
    vec![x[0] * x[1], x[1].sin() + x[2]]
}

fn sum_sq<T: Real>(x: &[T]) -> T {
    x.iter().map(|&v| v * v).sum()
}

#[test]
#[should_panic(expected = "v has length 2 but x has length 3")]
fn jvp_shape_mismatch_names_both_lengths() {
    let _ = jvp(
        &ferrad_core::vector_fn!(two_outputs),
        &[1.0, 2.0, 3.0],
        &[1.0, 0.0],
    );
}

#[test]
#[should_panic(expected = "v has length 4 but x has length 3")]
fn jvp_longer_direction_names_both_lengths() {
    let _ = jvp(
        &ferrad_core::vector_fn!(two_outputs),
        &[1.0, 2.0, 3.0],
        &[1.0, 0.0, 0.0, 0.0],
    );
}

#[test]
#[should_panic(expected = "w has length 3 but f has 2 outputs")]
fn vjp_shape_mismatch_names_both_lengths() {
    let _ = vjp(
        &ferrad_core::vector_fn!(two_outputs),
        &[1.0, 2.0, 3.0],
        &[1.0, 0.0, 0.0],
    );
}

#[test]
#[should_panic(expected = "v has length 1 but x has length 3")]
fn hvp_shape_mismatch_names_both_lengths() {
    let _ = hvp(&ferrad_core::scalar_fn!(sum_sq), &[1.0, 2.0, 3.0], &[1.0]);
}

#[test]
#[should_panic(expected = "v has length 1 but x has length 2")]
fn forward_jvp_dual_shape_mismatch_names_both_lengths() {
    let _ = ferrad_core::forward::jvp_dual(|x| vec![x[0] * x[1]], &[1.0, 2.0], &[1.0]);
}

#[test]
fn matching_shapes_and_empty_inputs_work() {
    let f = ferrad_core::scalar_fn!(sum_sq);
    assert_eq!(gradient(&f, &[]), (0.0, vec![]));
    assert_eq!(gradient_forward(&f, &[]), (0.0, vec![]));
    assert_eq!(hessian(&f, &[]), (0.0, vec![], vec![]));
    assert_eq!(hvp(&f, &[], &[]), (0.0, vec![], vec![]));
    let g = ferrad_core::vector_fn!(two_outputs);
    assert_eq!(
        jvp(&g, &[1.0, 2.0, 3.0], &[0.0, 0.0, 1.0]).1,
        vec![0.0, 1.0]
    );
    assert_eq!(
        vjp(&g, &[1.0, 2.0, 3.0], &[0.0, 1.0]).1,
        vec![0.0, 2.0f64.cos(), 1.0]
    );
}
