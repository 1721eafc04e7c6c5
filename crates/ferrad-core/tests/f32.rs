//! Single precision: the same generic code in `f32`, `Dual<f32>`, `DualVec<f32, N>`, `Var<f32>`
//! and their nestings agrees with the `f64` results to `f32` tolerance, for every primitive and
//! for whole functions (including custom rules).
#![allow(clippy::needless_range_loop)] // index loops mirror the math (H[i][j])

mod common;

use common::*;
use ferrad_core::prelude::*;
use ferrad_core::{gradient, hessian};
use proptest::prelude::*;

/// Tolerance of single-precision results against double precision (a few ulps of `f32`,
/// times the conditioning of the sampled points).
const RTOL32: f64 = 2e-5;

fn to32(p: &[f64]) -> Vec<f32> {
    p.iter().map(|&v| v as f32).collect()
}

/// Every first-order f32 mode of `prim` at `p` (already representable in f32) against f64.
fn prim_f32_vs_f64(prim: Prim, p: &[f64]) {
    let ctx = format!("{prim:?} at {p:?}");
    let k = p.len();
    let p32 = to32(p);
    let want_v = prim.eval(p);
    let (_, want_g) = gradient(&PrimFn(prim), p);
    let atol = 1e-6 * scale(&want_g);

    let v32: f32 = prim.apply::<f32, f32>(&p32);
    check(
        format_args!("{ctx}: f32 value"),
        v32 as f64,
        want_v,
        RTOL32,
        1e-6,
    );

    for i in 0..k {
        let xs: Vec<Dual<f32>> = p32
            .iter()
            .enumerate()
            .map(|(j, &v)| Dual::new(v, if i == j { 1.0 } else { 0.0 }))
            .collect();
        let y = prim.apply::<f32, Dual<f32>>(&xs);
        check(
            format_args!("{ctx}: Dual<f32> value differs from f32"),
            y.re as f64,
            v32 as f64,
            2.5e-7,
            0.0,
        );
        check(
            format_args!("{ctx}: Dual<f32> ∂{i}"),
            y.eps as f64,
            want_g[i],
            RTOL32,
            atol,
        );
    }

    let xs: Vec<DualVec<f32, 3>> = p32
        .iter()
        .enumerate()
        .map(|(i, &v)| DualVec::variable(v, i))
        .collect();
    let y = prim.apply::<f32, DualVec<f32, 3>>(&xs);
    check(
        format_args!("{ctx}: DualVec<f32> value differs from f32"),
        y.re as f64,
        v32 as f64,
        2.5e-7,
        0.0,
    );
    let g: Vec<f64> = y.eps[..k].iter().map(|&e| e as f64).collect();
    check_vec(
        format_args!("{ctx}: DualVec<f32>"),
        &g,
        &want_g,
        RTOL32,
        atol,
    );

    let tape = Tape::<f32>::new();
    let xs = tape.vars(&p32);
    let y = prim.apply::<f32, Var<f32>>(&xs);
    check(
        format_args!("{ctx}: Var<f32> value differs from f32"),
        y.val() as f64,
        v32 as f64,
        2.5e-7,
        0.0,
    );
    let g: Vec<f64> = tape
        .gradient(y)
        .wrt_all(&xs)
        .iter()
        .map(|&e| e as f64)
        .collect();
    check_vec(format_args!("{ctx}: Var<f32>"), &g, &want_g, RTOL32, atol);
}

/// Second derivatives in f32 (Dual<Dual<f32>> and Var<Dual<f32>>) against the f64 Hessian.
fn prim_f32_second_order(prim: Prim, p: &[f64]) {
    let ctx = format!("{prim:?} at {p:?}");
    let k = p.len();
    let p32 = to32(p);
    let (_, _, h) = hessian(&PrimFn(prim), p);
    let atol = 1e-5 * scale_mat(&h);
    for i in 0..k {
        for j in 0..k {
            let xs: Vec<Dual<Dual<f32>>> = (0..k)
                .map(|m| {
                    let a = if m == i { 1.0 } else { 0.0 };
                    let b = if m == j { 1.0 } else { 0.0 };
                    Dual::new(Dual::new(p32[m], a), Dual::new(b, 0.0))
                })
                .collect();
            let y = prim.apply::<f32, Dual<Dual<f32>>>(&xs);
            check(
                format_args!("{ctx}: Dual<Dual<f32>> ({i},{j})"),
                y.eps.eps as f64,
                h[i][j],
                1e-4,
                atol,
            );
        }
        // Column i by forward over reverse in f32.
        let tape = Tape::<Dual<f32>>::new();
        let xs: Vec<Var<Dual<f32>>> = (0..k)
            .map(|m| tape.var(Dual::new(p32[m], if m == i { 1.0 } else { 0.0 })))
            .collect();
        let y = prim.apply::<f32, Var<Dual<f32>>>(&xs);
        let adj = tape.gradient(y).wrt_all(&xs);
        for (m, a) in adj.iter().enumerate() {
            check(
                format_args!("{ctx}: Var<Dual<f32>> ({m},{i})"),
                a.eps as f64,
                h[m][i],
                1e-4,
                atol,
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Every primitive in every f32 mode agrees with f64.
    #[test]
    fn every_primitive_in_f32(u in prop::collection::vec(0.0..1.0f64, 3)) {
        for prim in Prim::all() {
            if let Some(p) = prim.sample(&u) {
                // Evaluate the f64 reference at the f32-rounded point.
                let p: Vec<f64> = p.iter().map(|&v| v as f32 as f64).collect();
                prim_f32_vs_f64(prim, &p);
                prim_f32_second_order(prim, &p);
            }
        }
    }
}

/// A generic function over any base precision `F`.
fn model<F: num_traits::Float, T: Real<F>>(x: &[T]) -> T {
    let c = |v: f64| T::cst(v);
    let mut s = T::zero();
    for w in x.windows(2) {
        let a = c(1.0) - w[0];
        let b = w[1] - w[0] * w[0];
        s += a * a + b * b * c(10.0);
    }
    let n = x.len();
    s + (x[0] * x[n - 1]).sin() * x[1].exp()
        + x.iter().map(|&v| v * v).sum::<T>().sqrt().atan()
        + x[2].powf(c(1.5)) / (x[1].hypot(c(0.5)))
}

struct Model;

impl ScalarFn for Model {
    fn eval<T: Real>(&self, x: &[T]) -> T {
        model::<f64, T>(x)
    }
}

#[test]
fn generic_function_in_f32_matches_f64() {
    let points: [[f32; 4]; 3] = [
        [0.3, -0.8, 1.2, 0.5],
        [1.1, 0.9, 0.7, -0.4],
        [-1.5, 0.2, 2.0, 1.0],
    ];
    for p32 in points {
        let p: Vec<f64> = p32.iter().map(|&v| v as f64).collect();
        let (want_v, want_g, want_h) = hessian(&Model, &p);
        let ctx = format!("model at {p:?}");
        let atol = 1e-5 * scale(&want_g);

        let v32 = model::<f32, f32>(&p32);
        check(
            format_args!("{ctx}: f32 value"),
            v32 as f64,
            want_v,
            1e-5,
            1e-6,
        );

        // Dual<f32>: one pass per input.
        for i in 0..4 {
            let xs: Vec<Dual<f32>> = p32
                .iter()
                .enumerate()
                .map(|(j, &v)| Dual::new(v, if i == j { 1.0 } else { 0.0 }))
                .collect();
            let y = model::<f32, Dual<f32>>(&xs);
            check(
                format_args!("{ctx}: Dual<f32> value"),
                y.re as f64,
                v32 as f64,
                2.5e-7,
                0.0,
            );
            check(
                format_args!("{ctx}: Dual<f32> ∂{i}"),
                y.eps as f64,
                want_g[i],
                1e-4,
                atol,
            );
        }
        // DualVec<f32, 4>: one pass.
        let xs: Vec<DualVec<f32, 4>> = p32
            .iter()
            .enumerate()
            .map(|(i, &v)| DualVec::variable(v, i))
            .collect();
        let y = model::<f32, DualVec<f32, 4>>(&xs);
        let g: Vec<f64> = y.eps.iter().map(|&e| e as f64).collect();
        check_vec(format_args!("{ctx}: DualVec<f32>"), &g, &want_g, 1e-4, atol);
        // Var<f32>: one sweep.
        let tape = Tape::<f32>::new();
        let xs = tape.vars(&p32);
        let y = model::<f32, Var<f32>>(&xs);
        check(
            format_args!("{ctx}: Var<f32> value"),
            y.val() as f64,
            v32 as f64,
            2.5e-7,
            0.0,
        );
        let g: Vec<f64> = tape
            .gradient(y)
            .wrt_all(&xs)
            .iter()
            .map(|&e| e as f64)
            .collect();
        check_vec(format_args!("{ctx}: Var<f32>"), &g, &want_g, 1e-4, atol);
        assert_eq!(tape.stats().bytes_per_entry, 17, "{:?}", tape.stats());
        drop(tape);
        // Var<Dual<f32>>: Hessian columns.
        for i in 0..4 {
            let tape = Tape::<Dual<f32>>::new();
            let xs: Vec<Var<Dual<f32>>> = (0..4)
                .map(|m| tape.var(Dual::new(p32[m], if m == i { 1.0 } else { 0.0 })))
                .collect();
            let y = model::<f32, Var<Dual<f32>>>(&xs);
            let col: Vec<f64> = tape
                .gradient(y)
                .wrt_all(&xs)
                .iter()
                .map(|a| a.eps as f64)
                .collect();
            let want: Vec<f64> = want_h.iter().map(|r| r[i]).collect();
            check_vec(
                format_args!("{ctx}: Var<Dual<f32>> column {i}"),
                &col,
                &want,
                1e-3,
                1e-4 * scale_mat(&want_h),
            );
        }
    }
}

/// `ln(1 + eˣ)` as a custom rule; in f32 it is differentiated to first order through its f64 jvp.
struct Softplus;

impl CustomRule for Softplus {
    fn name(&self) -> &str {
        "softplus"
    }
    fn eval(&self, x: &[f64]) -> Vec<f64> {
        vec![x[0].max(0.0) + (-x[0].abs()).exp().ln_1p()]
    }
    fn jvp<T: Real>(&self, x: &[T], dx: &[T]) -> Vec<T> {
        vec![dx[0] / (T::one() + (-x[0]).exp())]
    }
    fn vjp<T: Real>(&self, x: &[T], w: &[T]) -> Vec<T> {
        self.jvp(x, w)
    }
}

#[test]
fn custom_rule_in_f32_matches_f64() {
    for x in [-3.0f32, -0.5, 0.0, 0.75, 4.0] {
        let want = 1.0 / (1.0 + (-(x as f64)).exp());
        let y = <f32 as Real<f32>>::apply_custom(&Softplus, &[x]);
        check(
            format_args!("softplus({x}) in f32"),
            y[0] as f64,
            Softplus.eval(&[x as f64])[0],
            1e-6,
            1e-7,
        );
        let d = <Dual<f32> as Real<f32>>::apply_custom(&Softplus, &[Dual::variable(x)]);
        check(
            format_args!("softplus'({x}) in Dual<f32>"),
            d[0].eps as f64,
            want,
            1e-6,
            1e-7,
        );
        let dv =
            <DualVec<f32, 2> as Real<f32>>::apply_custom(&Softplus, &[DualVec::new(x, [1.0, 2.0])]);
        check(
            format_args!("softplus'({x}) in DualVec<f32>"),
            dv[0].eps[1] as f64,
            2.0 * want,
            1e-6,
            1e-7,
        );
        let tape = Tape::<f32>::new();
        let v = tape.var(x);
        let y = <Var<f32> as Real<f32>>::apply_custom(&Softplus, &[v])[0];
        let z = y * y;
        let g = tape.gradient(z).wrt(&v) as f64;
        check(
            format_args!("d(softplus²)/dx at {x} in Var<f32>"),
            g,
            2.0 * y.val() as f64 * want,
            1e-6,
            1e-7,
        );
    }
}

#[test]
fn f32_tape_is_compact() {
    let tape = Tape::<f32>::new();
    let x = tape.var(1.5f32);
    let _ = x.sin() * x + x.exp();
    let st = tape.stats();
    assert_eq!(st.entries, 5, "{st:?}"); // x, sin, *, exp, +
    // f32 partials: input 1 byte, sin 1 + 4 + 4, product 1 + 8 + 8, exp 9, sum 1 + 8.
    assert_eq!(st.bytes_per_entry, 17, "{st:?}");
    assert_eq!(st.bytes, 1 + 9 + 17 + 9 + 9, "{st:?}");
}

/// Primal values in `Dual<f32>` equal the rule table's `f32` value bit for bit (the rule-table
/// invariant), which is within 2 ulp of std's.
#[test]
fn f32_primal_bits_identical_across_modes() {
    use ferrad_core::rules::Unary;
    for x in [2.658_278_2f32, 0.3, 1.0, -2.0, 10.0] {
        let d = Dual::variable(x);
        for (u, got, std) in [
            (Unary::Sin, d.sin().re, x.sin()),
            (Unary::Cos, d.cos().re, x.cos()),
        ] {
            assert_eq!(got.to_bits(), u.value(x).to_bits(), "{u:?}({x})");
            assert!(
                (got - std).abs() <= 2.0 * f32::EPSILON * std.abs(),
                "{u:?}({x})"
            );
        }
    }
}
