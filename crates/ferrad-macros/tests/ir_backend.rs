//! The compiled backend: bodies in the simple subset go through ferrad-ir at expansion time
//! (marker `__FERRAD_BACKEND_<NAME> == "ir"`); everything else keeps operator overloading
//! (`"overload"`). Both must agree to 1e-12 and match the reference values of DESIGN §6.

// Index loops are the subset the compiled backend takes, written as users write them.
#![allow(clippy::needless_range_loop, clippy::type_complexity)]

use ferrad_macros::{autodiff_forward, autodiff_reverse};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

fn assert_all_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(close(*g, *w, tol), "{what}[{i}]: got {g}, want {w}");
    }
}

// ---- R: compiled (indexed loop) and overloaded (iterator chain) ----

#[autodiff_reverse(d_r_ir, Duplicated, Active)]
fn r_ir(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i].tanh().powi(3) + x[i] * x[i];
    }
    s
}

/// The same through an iterator chain: compiled too.
#[autodiff_reverse(d_r_it, Duplicated, Active)]
fn r_it(x: &[f64]) -> f64 {
    x.iter().map(|v| v.tanh().powi(3) + v * v).sum()
}

/// A `fold` is outside the subset: operator overloading.
#[autodiff_reverse(d_r_ov, Duplicated, Active)]
fn r_ov(x: &[f64]) -> f64 {
    x.iter().fold(0.0, |s, &v| s + v.tanh().powi(3) + v * v)
}

/// `zip` is outside the subset (see `lower::iter_sum`): operator overloading.
#[autodiff_reverse(d_dot_ov, Duplicated, Duplicated, Active)]
fn dot_ov(x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .zip(y.iter())
        .map(|(a, b)| {
            let p = a * b;
            p.sin() + a
        })
        .sum::<f64>()
}

#[test]
fn r_reverse_is_compiled_and_agrees() {
    assert_eq!(__FERRAD_BACKEND_d_r_ir, "ir");
    assert_eq!(__FERRAD_BACKEND_d_r_it, "ir");
    assert_eq!(__FERRAD_BACKEND_d_r_ov, "overload");
    let n = 50;
    let x: Vec<f64> = (1..=n).map(|i| (i as f64).sin()).collect();
    let mut g = vec![0.0; n];
    let y = d_r_ir(&x, &mut g, 1.0);
    let mut g2 = vec![0.0; n];
    let y2 = d_r_ov(&x, &mut g2, 1.0);
    assert!(close(y, y2, 1e-12));
    assert_all_close("R ir vs overload", &g, &g2, 1e-12);
    assert!(close(y, 2.512319765985212e+01, 1e-14));
    assert_all_close(
        "grad R",
        &g[..3],
        &[2.430488478694623, 2.567448803828114, 0.3400414730735312],
        1e-14,
    );
    let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!(close(norm, 10.88526264882785, 1e-13));
    // gradients are added into the shadow, the seed scales them
    let y3 = d_r_ir(&x, &mut g, 2.0);
    assert_eq!(y3, y);
    assert_all_close(
        "accumulated",
        &g,
        &g2.iter().map(|v| 3.0 * v).collect::<Vec<_>>(),
        1e-14,
    );
    // ferrad::math's tanh and the sum in 4 lanes round differently from the plain function
    assert!(close(r_ir(&x), y, 1e-14));
    let mut g4 = vec![0.0; n];
    assert_eq!(d_r_it(&x, &mut g4, 1.0), y);
    assert_all_close("R through iter().map().sum()", &g4, &g2, 1e-12);
}

// ---- lanes and strict order ----

/// Σ xᵢ² + xᵢ: every operation exactly rounded, so only the order of the sum can differ.
#[autodiff_reverse(d_sq, Duplicated, Active)]
fn sq(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i] + x[i];
    }
    s
}

#[test]
fn sums_in_lanes_or_strict_order() {
    assert_eq!(__FERRAD_BACKEND_d_sq, "ir");
    // Terms whose sum depends on the order: 1e8², tiny ones, then −1e8²…
    for n in [0, 1, 3, 4, 5, 8, 50, 1003] {
        let x: Vec<f64> = (0..n)
            .map(|i| match i % 4 {
                0 => 1e8,
                2 => -1e8,
                _ => 0.3 + i as f64 * 1e-3,
            })
            .collect();
        let mut g = vec![0.0; n];
        let y = d_sq(&x, &mut g, 1.0);
        let seq = sq(&x);
        let magnitude: f64 = x.iter().map(|v| v * v + v.abs()).sum();
        if cfg!(feature = "strict-order") {
            // the source's sequential sum, bit for bit
            assert_eq!(y.to_bits(), seq.to_bits(), "n={n}");
        } else {
            assert!((y - seq).abs() <= 1e-15 * magnitude, "n={n}: {y} vs {seq}");
        }
        for (i, gi) in g.iter().enumerate() {
            assert!(close(*gi, 2.0 * x[i] + 1.0, 1e-15), "n={n}");
        }
    }
}

#[test]
fn zip_sum_falls_back() {
    assert_eq!(__FERRAD_BACKEND_d_dot_ov, "overload");
    let x = [0.5, -1.0, 2.0, 0.25];
    let y = [1.5, 0.3, -0.7];
    let (mut gx, mut gy) = ([0.0; 4], [0.0; 3]);
    let v = d_dot_ov(&x, &mut gx, &y, &mut gy, 1.0);
    assert!(close(v, dot_ov(&x, &y), 1e-15));
    for i in 0..3 {
        let c = (x[i] * y[i]).cos();
        assert!(close(gx[i], c * y[i] + 1.0, 1e-14), "{gx:?}");
        assert!(close(gy[i], c * x[i], 1e-14), "{gy:?}");
    }
    assert_eq!(gx[3], 0.0);
}

// ---- F: compiled (for loops) and overloaded (a while loop) ----

#[autodiff_reverse(d_f_ir, Duplicated, Active)]
#[autodiff_forward(j_f_ir, 10, Dual, Dual)]
#[autodiff_forward(jv_f_ir, 10, Dualv, Dual)]
fn f_ir(p: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 1..=100_000 {
        let t = k as f64;
        for i in 0..5 {
            s += (t * p[i]).sin() * (-p[5 + i] * t).exp();
        }
    }
    s
}

#[autodiff_reverse(d_f_ov, Duplicated, Active)]
#[autodiff_forward(j_f_ov, 10, Dual, Dual)]
fn f_ov(p: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut k = 1;
    while k <= 100_000 {
        let t = k as f64;
        for i in 0..5 {
            s += (t * p[i]).sin() * (-p[5 + i] * t).exp();
        }
        k += 1;
    }
    s
}

const P: [f64; 10] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.01, 0.02, 0.03, 0.04, 0.05];
const F_LOSS: f64 = 2.248195627699457e+01;
const F_GRAD: [f64; 3] = [
    -9.713268349016758e+01,
    -2.434582580517401e+01,
    -1.086696238947319e+01,
];
const F_GRAD9: f64 = -7.840243609283328e-01;

#[test]
fn f_reverse_is_compiled_and_agrees() {
    assert_eq!(__FERRAD_BACKEND_d_f_ir, "ir");
    assert_eq!(__FERRAD_BACKEND_d_f_ov, "overload");
    let mut g = [0.0; 10];
    let y = d_f_ir(&P, &mut g, 1.0);
    let mut g2 = [0.0; 10];
    let y2 = d_f_ov(&P, &mut g2, 1.0);
    assert!(close(y, y2, 1e-12));
    assert_all_close("F ir vs overload", &g, &g2, 1e-12);
    assert!(close(y, F_LOSS, 1e-12));
    assert_all_close("grad F", &g[..3], &F_GRAD, 1e-11);
    assert!(close(g[9], F_GRAD9, 1e-11));
}

#[test]
fn f_forward_width_10_is_compiled_and_agrees() {
    assert_eq!(__FERRAD_BACKEND_j_f_ir, "ir");
    assert_eq!(__FERRAD_BACKEND_j_f_ov, "overload");
    let e: Vec<[f64; 10]> = (0..10)
        .map(|i| {
            let mut v = [0.0; 10];
            v[i] = 1.0;
            v
        })
        .collect();
    let r = j_f_ir(
        &P, &e[0], &e[1], &e[2], &e[3], &e[4], &e[5], &e[6], &e[7], &e[8], &e[9],
    );
    let r2 = j_f_ov(
        &P, &e[0], &e[1], &e[2], &e[3], &e[4], &e[5], &e[6], &e[7], &e[8], &e[9],
    );
    assert_all_close("F jvp ir vs overload", &r, &r2, 1e-12);
    // Dualv: one shadow of 10 × 10 tangents, direction-major
    assert_eq!(__FERRAD_BACKEND_jv_f_ir, "ir");
    let flat: Vec<f64> = e.concat();
    let r3 = jv_f_ir(&P, &flat);
    assert_eq!(r3, r);
    assert!(close(r[0], F_LOSS, 1e-12));
    assert_all_close("grad F (forward)", &r[1..4], &F_GRAD, 1e-11);
    assert!(close(r[10], F_GRAD9, 1e-11));
}

// ---- scalars: Active / Const mixes, ActiveOnly, forward Dual / Const / DualOnly ----

#[autodiff_reverse(d_g_ir, Active, Const, Duplicated, Active)]
#[autodiff_reverse(do_g_ir, Active, Active, Duplicated, ActiveOnly)]
#[autodiff_forward(j_g_ir, Dual, Const, Dual, Dual)]
#[autodiff_forward(jo_g_ir, 2, Dual, Dual, Dual, DualOnly)]
#[allow(clippy::needless_return)] // a final `return` is part of the subset
fn g_ir(x: f64, y: f64, z: &[f64]) -> f64 {
    let a = x * y - z[0] / (1.0 + x * x);
    let mut acc = a.exp().ln_1p();
    for i in 1..z.len() {
        let w = (i as f64) * 0.5;
        acc = acc + z[i].sin().powf(2.0) * w - (z[i - 1] * x).cosh().sqrt();
        acc -= y.powi(-2) * z[i];
    }
    return -acc * a.tanh();
}

#[autodiff_reverse(d_g_ov, Active, Const, Duplicated, Active)]
#[autodiff_reverse(do_g_ov, Active, Active, Duplicated, ActiveOnly)]
#[autodiff_forward(j_g_ov, Dual, Const, Dual, Dual)]
#[autodiff_forward(jo_g_ov, 2, Dual, Dual, Dual, DualOnly)]
fn g_ov(x: f64, y: f64, z: &[f64]) -> f64 {
    let a = x * y - z[0] / (1.0 + x * x);
    let mut acc = a.exp().ln_1p();
    let mut i = 1;
    while i < z.len() {
        let w = (i as f64) * 0.5;
        acc = acc + z[i].sin().powf(2.0) * w - (z[i - 1] * x).cosh().sqrt();
        acc -= y.powi(-2) * z[i];
        i += 1;
    }
    -acc * a.tanh()
}

#[test]
fn scalar_mixes_are_compiled_and_agree() {
    for m in [
        __FERRAD_BACKEND_d_g_ir,
        __FERRAD_BACKEND_do_g_ir,
        __FERRAD_BACKEND_j_g_ir,
        __FERRAD_BACKEND_jo_g_ir,
    ] {
        assert_eq!(m, "ir");
    }
    assert_eq!(__FERRAD_BACKEND_d_g_ov, "overload");
    let (x, y) = (0.7, -1.3);
    let z = [0.3, -0.2, 1.1, 0.5];
    let (mut dz, mut dz2) = ([0.0; 4], [0.0; 4]);
    let (v, gx) = d_g_ir(x, y, &z, &mut dz, 1.5);
    let (v2, gx2) = d_g_ov(x, y, &z, &mut dz2, 1.5);
    assert!(
        close(v, v2, 1e-12) && close(gx, gx2, 1e-12),
        "{v} {v2} {gx} {gx2}"
    );
    assert_all_close("dz", &dz, &dz2, 1e-12);
    assert!(close(v, g_ov(x, y, &z), 1e-14));

    let (mut dz, mut dz2) = ([0.0; 4], [0.0; 4]);
    let (gx, gy) = do_g_ir(x, y, &z, &mut dz, 1.0);
    let (gx2, gy2) = do_g_ov(x, y, &z, &mut dz2, 1.0);
    assert!(close(gx, gx2, 1e-12) && close(gy, gy2, 1e-12));
    assert_all_close("dz (ActiveOnly)", &dz, &dz2, 1e-12);

    let bz = [1.0, 0.5, -0.25, 2.0];
    let r = j_g_ir(x, 0.3, y, &z, &bz);
    let r2 = j_g_ov(x, 0.3, y, &z, &bz);
    assert!(
        close(r.0, r2.0, 1e-12) && close(r.1, r2.1, 1e-12),
        "{r:?} {r2:?}"
    );

    let bz2 = [0.0, 1.0, 0.0, -1.0];
    let t = jo_g_ir(x, 1.0, 0.0, y, 0.0, 1.0, &z, &bz, &bz2);
    let t2 = jo_g_ov(x, 1.0, 0.0, y, 0.0, 1.0, &z, &bz, &bz2);
    assert_all_close("DualOnly width 2", &t, &t2, 1e-12);
}

// ---- fallback: outside the subset keeps operator overloading ----

fn helper(v: f64) -> f64 {
    v * v
}

fn generic_helper<T: ferrad::Real>(v: T) -> T {
    v * v
}

#[autodiff_reverse(d_w, Duplicated, Active)]
fn with_while(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut i = 0;
    while i < x.len() {
        s += x[i].sin();
        i += 1;
    }
    s
}

#[autodiff_forward(j_c, Dual, Dual)]
fn with_call(x: f64) -> f64 {
    generic_helper(x) + x.exp()
}

#[test]
fn fallback_keeps_working() {
    assert_eq!(__FERRAD_BACKEND_d_w, "overload");
    assert_eq!(__FERRAD_BACKEND_j_c, "overload");
    let x = [0.5, 1.0, -2.0];
    let mut g = [0.0; 3];
    let y = d_w(&x, &mut g, 1.0);
    assert!(close(y, x.iter().map(|v| v.sin()).sum(), 1e-15));
    assert_all_close("cos", &g, &x.map(f64::cos), 1e-15);
    let (v, d) = j_c(0.4, 1.0);
    assert!(close(v, helper(0.4) + 0.4f64.exp(), 1e-15));
    assert!(close(d, 0.8 + 0.4f64.exp(), 1e-15));
}

#[test]
#[should_panic(expected = "r_ir: the shadow `dx` has length 2 but `x` has length 3")]
fn compiled_reverse_checks_the_shadow_length() {
    let mut g = [0.0; 2];
    d_r_ir(&[1.0, 2.0, 3.0], &mut g, 1.0);
}

// ---- branches: `if` expressions and `if` statements on the loop state ----

#[autodiff_reverse(d_h_ir, Duplicated, Active, Active)]
#[autodiff_reverse(d_h_c, Duplicated, Const, Active)]
#[autodiff_forward(j_h_ir, Dual, Dual, Dual)]
fn h_ir(x: &[f64], c: f64) -> f64 {
    let mut s = 0.0;
    let mut big = 0.0;
    for i in 0..x.len() {
        let v = if x[i] > c { x[i] * c } else { (x[i] - c).exp() };
        if i < 3 {
            s += v;
        } else if v < 1.0 {
            s -= v * v;
            big += 1.0;
        }
        s += v.sin();
    }
    if big > 1.0 { s * big } else { s - c }
}

#[autodiff_reverse(d_h_ov, Duplicated, Active, Active)]
#[autodiff_forward(j_h_ov, Dual, Dual, Dual)]
fn h_ov(x: &[f64], c: f64) -> f64 {
    let mut s = 0.0;
    let mut big = 0.0;
    let mut i = 0;
    while i < x.len() {
        let v = if x[i] > c { x[i] * c } else { (x[i] - c).exp() };
        if i < 3 {
            s += v;
        } else if v < 1.0 {
            s -= v * v;
            big += 1.0;
        }
        s += v.sin();
        i += 1;
    }
    if big > 1.0 { s * big } else { s - c }
}

#[test]
fn branches_agree() {
    assert_eq!(__FERRAD_BACKEND_d_h_ir, "ir");
    assert_eq!(__FERRAD_BACKEND_j_h_ir, "ir");
    let x = [0.3, -0.7, 1.2, 0.1, -0.4, 0.9, 0.05];
    let bx = [1.0, -0.5, 0.25, 0.0, 2.0, -1.0, 0.5];
    for c in [0.2, -1.0, 2.0] {
        let (mut g, mut g2) = ([0.0; 7], [0.0; 7]);
        let (y, gc) = d_h_ir(&x, &mut g, c, 1.0);
        let (y2, gc2) = d_h_ov(&x, &mut g2, c, 1.0);
        assert!(
            close(y, y2, 1e-12) && close(gc, gc2, 1e-12),
            "{y} {y2} {gc} {gc2}"
        );
        assert_all_close("dx with branches", &g, &g2, 1e-12);
        let r = j_h_ir(&x, &bx, c, 0.5);
        let r2 = j_h_ov(&x, &bx, c, 0.5);
        assert!(
            close(r.0, r2.0, 1e-12) && close(r.1, r2.1, 1e-12),
            "{r:?} {r2:?}"
        );
    }
}

// ---- constant-index loads are hoisted only where the code runs unconditionally ----

#[autodiff_reverse(d_guard_ir, Duplicated, Active)]
fn guard_ir(x: &[f64]) -> f64 {
    let mut s = x[0];
    for i in 0..x.len() {
        s += x[3] * x[i];
    }
    for k in 0..3 {
        s += x[k + 1].sin();
    }
    if x.len() > 7 { s + x[7] } else { s }
}

#[autodiff_reverse(d_guard_ov, Duplicated, Active)]
fn guard_ov(x: &[f64]) -> f64 {
    let mut s = x[0];
    let mut i = 0;
    while i < x.len() {
        s += x[3] * x[i];
        i += 1;
    }
    for k in 0..3 {
        s += x[k + 1].sin();
    }
    if x.len() > 7 { s + x[7] } else { s }
}

#[test]
fn guarded_loads_do_not_panic() {
    assert_eq!(__FERRAD_BACKEND_d_guard_ir, "ir");
    for n in [4, 9] {
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).cos()).collect();
        let (mut g, mut g2) = (vec![0.0; n], vec![0.0; n]);
        let y = d_guard_ir(&x, &mut g, 1.0);
        let y2 = d_guard_ov(&x, &mut g2, 1.0);
        assert!(close(y, y2, 1e-12));
        assert_all_close("guarded", &g, &g2, 1e-12);
    }
}

// ---- forward over a compiled reverse derivative: H·v compiled as one function ----

/// The gradient of R, differentiated forward: compiled from R's IR (forward over reverse).
#[autodiff_forward(hvp_r_ir, Dual, Dual)]
fn grad_r_ir(x: &[f64], g: &mut [f64]) {
    d_r_ir(x, g, 1.0);
}

/// The same with the primal returned and a seed that is an input: the tangent of the seed
/// scales the gradient into the tangent of the gradient.
#[autodiff_forward(hvp_h_ir, Dual, Dual, Dual, Dual, Dual)]
fn grad_h_ir(x: &[f64], c: f64, g: &mut [f64], seed: f64) -> f64 {
    d_h_c(x, g, c, seed)
}

/// Over an overloaded reverse derivative: stays on operator overloading.
#[autodiff_forward(hvp_r_ov, Dual, Dual)]
fn grad_r_ov(x: &[f64], g: &mut [f64]) {
    d_r_ov(x, g, 1.0);
}

#[test]
fn forward_over_compiled_reverse_is_compiled_and_agrees_with_hvp() {
    assert_eq!(__FERRAD_BACKEND_hvp_r_ir, "ir");
    assert_eq!(__FERRAD_BACKEND_hvp_h_ir, "ir");
    assert_eq!(__FERRAD_BACKEND_hvp_r_ov, "overload");
    let x: Vec<f64> = (1..=50).map(|i| (i as f64).sin()).collect();
    let v: Vec<f64> = (1..=50).map(|i| (i as f64).cos()).collect();
    // DESIGN §6, H at n = 50
    let want_head = [1.147897752224595, -0.7984923929438998];
    for hvp in [hvp_r_ir, hvp_r_ov] {
        let (mut g, mut hv) = (vec![0.0; 50], vec![0.0; 50]);
        hvp(&x, &v, &mut g, &mut hv);
        assert_all_close("H·v head", &hv[..2], &want_head, 1e-12);
        let mut gr = vec![0.0; 50];
        d_r_ir(&x, &mut gr, 1.0);
        assert_all_close("gradient beside H·v", &g, &gr, 1e-12);
    }
    let (mut a, mut b) = (vec![0.0; 50], vec![0.0; 50]);
    hvp_r_ir(&x, &v, &mut a, &mut b);
    let (mut c, mut d) = (vec![0.0; 50], vec![0.0; 50]);
    hvp_r_ov(&x, &v, &mut c, &mut d);
    assert_all_close("compiled vs overloaded H·v", &b, &d, 1e-12);
}

/// H·v only: a `DualOnly` gradient buffer keeps its contents (compiled: its stores deleted).
#[autodiff_forward(hvp_only_r_ir, Dual, DualOnly)]
fn grad_only_r_ir(x: &[f64], g: &mut [f64]) {
    d_r_ir(x, g, 1.0);
}

/// The same over an overloaded reverse derivative.
#[autodiff_forward(hvp_only_r_ov, Dual, DualOnly)]
fn grad_only_r_ov(x: &[f64], g: &mut [f64]) {
    d_r_ov(x, g, 1.0);
}

#[test]
fn a_dual_only_gradient_buffer_keeps_its_contents_in_both_backends() {
    assert_eq!(__FERRAD_BACKEND_hvp_only_r_ir, "ir");
    assert_eq!(__FERRAD_BACKEND_hvp_only_r_ov, "overload");
    let n = 37;
    let x: Vec<f64> = (1..=n).map(|i| (i as f64).sin()).collect();
    let v: Vec<f64> = (1..=n).map(|i| (i as f64).cos()).collect();
    let (mut g, mut hv) = (vec![0.0; n], vec![0.25; n]);
    hvp_r_ir(&x, &v, &mut g, &mut hv);
    for hvp in [hvp_only_r_ir, hvp_only_r_ov] {
        let marker: Vec<f64> = (0..n).map(|i| -(i as f64)).collect();
        let (mut g2, mut hv2) = (marker.clone(), vec![0.25; n]);
        hvp(&x, &v, &mut g2, &mut hv2);
        assert_eq!(g2, marker, "the DualOnly buffer was written");
        // the shadow still accumulates: 0.25 + H·v
        assert_all_close("H·v only", &hv2, &hv, 1e-13);
    }
}

/// A gradient that overwrites its buffer: the fill makes H·v overwrite the shadow too
/// (compiled: the fill fuses into the H·v loop, which never reads the shadow).
#[autodiff_forward(hvp_fresh_r_ir, Dual, DualOnly)]
fn grad_fresh_r_ir(x: &[f64], g: &mut [f64]) {
    g.fill(0.0);
    d_r_ir(x, g, 1.0);
}

/// The same with the gradient wanted too (`Dual`): it overwrites `g`.
#[autodiff_forward(hvp_fresh_both_r_ir, Dual, Dual)]
fn grad_fresh_both_r_ir(x: &[f64], g: &mut [f64]) {
    g.fill(0.0);
    d_r_ir(x, g, 1.0);
}

/// The same over the overloaded reverse derivative.
#[autodiff_forward(hvp_fresh_r_ov, Dual, DualOnly)]
fn grad_fresh_r_ov(x: &[f64], g: &mut [f64]) {
    g.fill(0.0);
    d_r_ov(x, g, 1.0);
}

#[test]
fn a_zero_filled_gradient_makes_hv_overwrite_its_buffer_in_both_backends() {
    assert_eq!(__FERRAD_BACKEND_hvp_fresh_r_ir, "ir");
    assert_eq!(__FERRAD_BACKEND_hvp_fresh_both_r_ir, "ir");
    assert_eq!(__FERRAD_BACKEND_hvp_fresh_r_ov, "overload");
    // 37: a 16-lane chunk loop and its tail
    let n = 37;
    let x: Vec<f64> = (1..=n).map(|i| (i as f64).sin()).collect();
    let v: Vec<f64> = (1..=n).map(|i| (i as f64).cos()).collect();
    let (mut g, mut hv) = (vec![0.0; n], vec![0.0; n]);
    hvp_r_ir(&x, &v, &mut g, &mut hv);
    for hvp in [hvp_fresh_r_ir, hvp_fresh_r_ov] {
        let marker: Vec<f64> = (0..n).map(|i| -(i as f64)).collect();
        let (mut g2, mut hv2) = (marker.clone(), vec![f64::NAN; n]);
        hvp(&x, &v, &mut g2, &mut hv2);
        assert_eq!(g2, marker, "the DualOnly buffer was written");
        assert_all_close("H·v overwrites", &hv2, &hv, 1e-13);
    }
    let (mut g3, mut hv3) = (vec![7.0; n], vec![7.0; n]);
    hvp_fresh_both_r_ir(&x, &v, &mut g3, &mut hv3);
    assert_all_close("gradient overwrites", &g3, &g, 1e-14);
    assert_all_close("H·v beside it", &hv3, &hv, 1e-13);
}

#[test]
#[should_panic(expected = "the gradient buffer `g` has length 5 but `x` has length 4")]
fn a_zero_filled_gradient_buffer_of_another_length_panics_with_both_lengths() {
    let x = [0.1, 0.2, 0.3, 0.4];
    let (mut g, mut hv) = (vec![0.0; 5], vec![0.0; 5]);
    hvp_fresh_r_ir(&x, &x, &mut g, &mut hv);
}

/// A literal seed other than 1: compiled as a constant (its tangent a structural zero).
#[autodiff_forward(hvp_scaled_r_ir, Dual, DualOnly)]
fn grad_scaled_r_ir(x: &[f64], g: &mut [f64]) {
    d_r_ir(x, g, 2.5);
}

/// The same over the overloaded reverse derivative.
#[autodiff_forward(hvp_scaled_r_ov, Dual, DualOnly)]
fn grad_scaled_r_ov(x: &[f64], g: &mut [f64]) {
    d_r_ov(x, g, 2.5);
}

#[test]
fn a_literal_seed_is_folded_into_the_compiled_hvp() {
    assert_eq!(__FERRAD_BACKEND_hvp_scaled_r_ir, "ir");
    let n = 41;
    let x: Vec<f64> = (1..=n).map(|i| (i as f64).sin()).collect();
    let v: Vec<f64> = (1..=n).map(|i| (i as f64).cos()).collect();
    let (mut g, mut hv) = (vec![0.0; n], vec![0.0; n]);
    hvp_only_r_ir(&x, &v, &mut g, &mut hv);
    let (mut g2, mut hv2) = (vec![0.0; n], vec![0.0; n]);
    hvp_scaled_r_ir(&x, &v, &mut g2, &mut hv2);
    let (mut g3, mut hv3) = (vec![0.0; n], vec![0.0; n]);
    hvp_scaled_r_ov(&x, &v, &mut g3, &mut hv3);
    let want: Vec<f64> = hv.iter().map(|h| 2.5 * h).collect();
    assert_all_close("2.5·H·v, compiled", &hv2, &want, 1e-13);
    assert_all_close("2.5·H·v, overloaded", &hv3, &want, 1e-13);
    // an input of ±inf: the seed's tangent is a structural zero, so it adds nothing (not NaN)
    let mut xi = x.clone();
    xi[3] = f64::INFINITY;
    let (mut g4, mut hv4) = (vec![0.0; n], vec![0.0; n]);
    hvp_scaled_r_ir(&xi, &v, &mut g4, &mut hv4);
    assert!(hv4.iter().enumerate().all(|(i, h)| i == 3 || h.is_finite()));
}

#[test]
fn forward_over_compiled_reverse_carries_every_tangent() {
    // h(x, c) with tangents on x, c and the seed; against central differences of d_h_c.
    let x = [0.3, -1.2, 0.7];
    let (c, seed) = (0.9, 1.5);
    let (vx, vc, vs) = ([0.2, 0.5, -0.4], -0.3, 0.7);
    let (mut g, mut dg) = (vec![0.0; 3], vec![0.0; 3]);
    let (p, dp) = hvp_h_ir(&x, &vx, c, vc, &mut g, &mut dg, seed, vs);
    let grad_at = |t: f64| {
        let xs: Vec<f64> = x.iter().zip(&vx).map(|(a, b)| a + t * b).collect();
        let mut gg = vec![0.0; 3];
        let y = d_h_c(&xs, &mut gg, c + t * vc, seed + t * vs);
        (y, gg)
    };
    let h = 1e-6;
    let ((yp, gp), (ym, gm)) = (grad_at(h), grad_at(-h));
    let (y0, g0) = grad_at(0.0);
    assert!(close(p, y0, 1e-14), "primal {p} vs {y0}");
    assert!(
        close(dp, (yp - ym) / (2.0 * h), 1e-7),
        "tangent of the primal"
    );
    assert_all_close("gradient", &g, &g0, 1e-14);
    let fd: Vec<f64> = gp
        .iter()
        .zip(&gm)
        .map(|(a, b)| (a - b) / (2.0 * h))
        .collect();
    assert_all_close("tangent of the gradient", &dg, &fd, 1e-6);
}

// ---- constant slices and integer parameters stay out of the derivative ----

/// `Σ_{i<n} wᵢ · sin(xᵢ)·c`: data `w`, a size `n` and a scale `c`, none differentiated.
#[autodiff_reverse(d_weighted, Duplicated, Const, Const, Const, Active)]
#[autodiff_forward(j_weighted, Dual, Const, Const, Const, Dual)]
fn weighted(x: &[f64], w: &[f64], n: usize, c: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        s += w[i] * x[i].sin() * c;
    }
    s
}

#[test]
fn const_slices_and_integers_are_compiled() {
    assert_eq!(__FERRAD_BACKEND_d_weighted, "ir");
    assert_eq!(__FERRAD_BACKEND_j_weighted, "ir");
    let x: [f64; 4] = [0.3, -1.1, 2.0, 0.7];
    let w: [f64; 4] = [2.0, 0.5, -1.0, 4.0];
    let (n, c) = (3, 1.5);
    let want: Vec<f64> = (0..4)
        .map(|i| if i < n { w[i] * x[i].cos() * c } else { 0.0 })
        .collect();
    let mut g = vec![0.0; 4];
    let y = d_weighted(&x, &mut g, &w, n, c, 1.0);
    assert!(close(y, weighted(&x, &w, n, c), 1e-15));
    assert_all_close("gradient", &g, &want, 1e-15);
    let v = [1.0, -2.0, 0.5, 3.0];
    let (y2, dy) = j_weighted(&x, &v, &w, n, c);
    assert!(close(y2, y, 1e-15));
    let want_dy: f64 = want.iter().zip(&v).map(|(a, b)| a * b).sum();
    assert!(close(dy, want_dy, 1e-14), "{dy} vs {want_dy}");
}

// ---- calls to annotated functions stay on the compiled backend ----

#[autodiff_reverse(d_sq_sum, Duplicated, Active)]
fn sq_sum(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i];
    }
    s
}

/// ‖x‖ + sin x₀, through a call to `sq_sum` (inlined by the compiler).
#[autodiff_reverse(d_norm_sin, Duplicated, Active)]
#[autodiff_forward(j_norm_sin, Dual, Dual)]
fn norm_sin(x: &[f64]) -> f64 {
    sq_sum(x).sqrt() + x[0].sin()
}

#[test]
fn calls_to_annotated_functions_are_compiled() {
    assert_eq!(__FERRAD_BACKEND_d_norm_sin, "ir");
    assert_eq!(__FERRAD_BACKEND_j_norm_sin, "ir");
    let x = [0.3, -1.2, 2.0];
    let norm = sq_sum(&x).sqrt();
    let want: Vec<f64> = (0..3)
        .map(|i| x[i] / norm + if i == 0 { x[0].cos() } else { 0.0 })
        .collect();
    let mut g = vec![0.0; 3];
    let y = d_norm_sin(&x, &mut g, 1.0);
    assert!(close(y, norm + x[0].sin(), 1e-15));
    assert_all_close("gradient through the call", &g, &want, 1e-14);
    let v = [1.0, 0.5, -2.0];
    let (_, dy) = j_norm_sin(&x, &v);
    let want_dy: f64 = want.iter().zip(&v).map(|(a, b)| a * b).sum();
    assert!(close(dy, want_dy, 1e-14), "{dy} vs {want_dy}");
}

// ---- loops that call exp/ln run in 16-iteration chunks (ferrad_ir::emit::WIDE_LANES) ----

/// `ln Σ exp(xᵢ − a) + a` with an `atan` term: wide chunks in the forward loop, and the
/// order-free adjoint loop forwards in lanes.
#[autodiff_reverse(d_lse_wide, Duplicated, Const, Active)]
fn lse_wide(x: &[f64], a: f64) -> f64 {
    let mut s = 0.0;
    let mut t = 0.0;
    for i in 0..x.len() {
        s += (x[i] - a).exp();
        t += x[i].atan();
    }
    s.ln() + a + t
}

#[test]
fn wide_chunks_agree_with_the_closed_form() {
    assert_eq!(__FERRAD_BACKEND_d_lse_wide, "ir");
    for n in [3, 16, 37, 100] {
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin() * 3.0).collect();
        let a = 0.5;
        let mut g = vec![0.25; n];
        let y = d_lse_wide(&x, &mut g, a, 1.0);
        let s: f64 = x.iter().map(|v| (v - a).exp()).sum();
        let t: f64 = x.iter().map(|v| v.atan()).sum();
        assert!(close(y, s.ln() + a + t, 1e-13), "n={n}: {y}");
        let want: Vec<f64> = x
            .iter()
            .map(|v| 0.25 + (v - a).exp() / s + 1.0 / (1.0 + v * v))
            .collect();
        assert_all_close(&format!("n={n}"), &g, &want, 1e-13);
    }
}
