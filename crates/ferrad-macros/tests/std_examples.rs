//! Every example of the `std::autodiff` documentation (`autodiff_forward`, `autodiff_reverse`)
//! and of DESIGN §3.4, with the same generated signatures, checked by coercing each generated
//! function to the fn-pointer type std::autodiff would give it.

// Index loops are part of the differentiated subset (DESIGN §3.4), written as users write them.
#![allow(clippy::needless_range_loop, clippy::type_complexity)]

use ferrad_macros::{autodiff_forward, autodiff_reverse};

// ---- std::autodiff::autodiff_forward ----

#[autodiff_forward(rb_fwd1, Dual, Const, Dual)]
#[autodiff_forward(rb_fwd2, Const, Dual, Dual)]
#[autodiff_forward(rb_fwd3, Dual, Dual, Dual)]
fn rosenbrock(x: f64, y: f64) -> f64 {
    (1.0 - x).powi(2) + 100.0 * (y - x.powi(2)).powi(2)
}

#[autodiff_forward(rb_inp_fwd, Dual, Dual, Dual)]
fn rosenbrock_inp(x: f64, y: f64, out: &mut f64) {
    *out = (1.0 - x).powi(2) + 100.0 * (y - x.powi(2)).powi(2);
}

#[test]
fn forward_signatures() {
    let _: fn(f64, f64, f64) -> (f64, f64) = rb_fwd1;
    let _: fn(f64, f64, f64) -> (f64, f64) = rb_fwd2;
    let _: fn(f64, f64, f64, f64) -> (f64, f64) = rb_fwd3;
    let _: fn(f64, f64, f64, f64, &mut f64, &mut f64) = rb_inp_fwd;
}

#[test]
fn forward_example() {
    let x0 = rosenbrock(1.0, 3.0);
    assert_eq!(x0, 400.0);
    let (x1, dx1) = rb_fwd1(1.0, 1.0, 3.0);
    assert_eq!((x1, dx1), (400.0, -800.0));
    let (x2, dy1) = rb_fwd2(1.0, 3.0, 1.0);
    assert_eq!((x2, dy1), (400.0, 400.0));
    // When seeding both arguments at once the tangent return is the sum of both.
    let (x3, dxy) = rb_fwd3(1.0, 1.0, 3.0, 1.0);
    assert_eq!((x3, dxy), (400.0, -400.0));

    let mut out = 0.0;
    let mut dout = 0.0;
    rb_inp_fwd(1.0, 1.0, 3.0, 1.0, &mut out, &mut dout);
    assert_eq!((out, dout), (400.0, -400.0));
}

// ---- std::autodiff::autodiff_reverse ----

mod rev {
    use super::*;

    #[autodiff_reverse(rb_rev, Active, Active, Active)]
    pub fn rosenbrock(x: f64, y: f64) -> f64 {
        (1.0 - x).powi(2) + 100.0 * (y - x.powi(2)).powi(2)
    }

    #[autodiff_reverse(rb_inp_rev, Active, Active, Duplicated)]
    pub fn rosenbrock_inp(x: f64, y: f64, out: &mut f64) {
        *out = (1.0 - x).powi(2) + 100.0 * (y - x.powi(2)).powi(2);
    }
}

#[test]
fn reverse_signatures() {
    let _: fn(f64, f64, f64) -> (f64, f64, f64) = rev::rb_rev;
    let _: fn(f64, f64, &mut f64, &mut f64) -> (f64, f64) = rev::rb_inp_rev;
}

#[test]
fn reverse_example() {
    let (output1, dx1, dy1) = rev::rb_rev(1.0, 3.0, 1.0);
    assert_eq!((output1, dx1, dy1), (400.0, -800.0, 400.0));
    let mut output2 = 0.0;
    let mut seed = 1.0;
    let (dx2, dy2) = rev::rb_inp_rev(1.0, 3.0, &mut output2, &mut seed);
    assert_eq!((dx2, dy2, output2, seed), (-800.0, 400.0, 400.0, 0.0));
}

// ---- DESIGN §3.4 ----

#[autodiff_reverse(d_sumsq, Duplicated, Active)]
fn sumsq(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i];
    }
    s
}

#[autodiff_forward(df, Dual, Const, Dual)]
fn f(x: f64, y: f64) -> f64 {
    x.sin() * y
}

#[test]
fn design_signatures() {
    let _: fn(&[f64], &mut [f64], f64) -> f64 = d_sumsq;
    let _: fn(f64, f64, f64) -> (f64, f64) = df;
}

#[test]
fn design_examples() {
    let x = [1.0, 2.0, 3.0];
    let mut dx = [10.0, 10.0, 10.0];
    assert_eq!(d_sumsq(&x, &mut dx, 1.0), 14.0);
    // Gradients are added into the shadow.
    assert_eq!(dx, [12.0, 14.0, 16.0]);
    // The seed scales the gradient.
    let mut dx = [0.0; 3];
    d_sumsq(&x, &mut dx, 0.5);
    assert_eq!(dx, [1.0, 2.0, 3.0]);
    assert_eq!(sumsq(&x), 14.0);

    let (y, dy) = df(0.5, 1.0, 3.0);
    assert_eq!(y, 0.5f64.sin() * 3.0);
    assert_eq!(dy, 0.5f64.cos() * 3.0);
}

// ---- the other activities and shapes of the grammar ----

#[autodiff_reverse(d_only, Active, ActiveOnly)]
fn cube(x: f64) -> f64 {
    x * x * x
}

#[autodiff_forward(t_only, DualOnly, DualOnly)]
#[autodiff_forward(t_const_ret, Dual, Const)]
fn sq(x: f64) -> f64 {
    x * x
}

#[autodiff_forward(jv3, 3, Dual, Const, Dual)]
#[autodiff_forward(jv3_only, 3, Dual, Const, DualOnly)]
fn wsum(x: &[f64], w: &[f64]) -> f64 {
    x.iter().zip(w).map(|(&a, &b)| a * b * a).sum()
}

#[autodiff_forward(jv2v, 2, Dualv, Dual)]
fn prod(x: &[f64]) -> f64 {
    x.iter().fold(1.0, |acc, &v| acc * v)
}

#[autodiff_reverse(d_dup_only, DuplicatedOnly, Const, Active)]
fn scaled(x: &[f64; 2], k: usize) -> f64 {
    (x[0] + x[1]) * k as f64
}

#[test]
fn more_activities() {
    let _: fn(f64, f64) -> f64 = d_only;
    assert_eq!(d_only(2.0, 1.0), 12.0);
    let _: fn(f64, f64) -> f64 = t_only;
    assert_eq!(t_only(3.0, 1.0), 6.0);
    let _: fn(f64, f64) -> f64 = t_const_ret;
    assert_eq!(t_const_ret(3.0, 1.0), 9.0);

    // Width 3: three shadows `bx_0, bx_1, bx_2`, result `[primal, t0, t1, t2]`.
    let _: fn(&[f64], &[f64], &[f64], &[f64], &[f64]) -> [f64; 4] = jv3;
    let _: fn(&[f64], &[f64], &[f64], &[f64], &[f64]) -> [f64; 3] = jv3_only;
    let x = [1.0, 2.0];
    let w = [3.0, 5.0];
    let r = jv3(&x, &[1.0, 0.0], &[0.0, 1.0], &[1.0, 1.0], &w);
    // f = Σ w x², ∂f/∂x = 2 w x = [6, 20]
    assert_eq!(r, [3.0 + 20.0, 6.0, 20.0, 26.0]);
    assert_eq!(
        jv3_only(&x, &[1.0, 0.0], &[0.0, 1.0], &[1.0, 1.0], &w),
        [6.0, 20.0, 26.0]
    );

    // Dualv: one shadow of width × len tangents, direction-major.
    let _: fn(&[f64], &[f64]) -> [f64; 3] = jv2v;
    let x = [2.0, 3.0, 4.0];
    let b = [1.0, 0.0, 0.0, /* direction 2 */ 0.0, 1.0, 1.0];
    assert_eq!(jv2v(&x, &b), [24.0, 12.0, 8.0 + 6.0]);

    let _: fn(&[f64; 2], &mut [f64; 2], usize, f64) -> f64 = d_dup_only;
    let mut dx = [0.0; 2];
    assert_eq!(d_dup_only(&[1.0, 2.0], &mut dx, 4, 1.0), 12.0);
    assert_eq!(dx, [4.0, 4.0]);
}
