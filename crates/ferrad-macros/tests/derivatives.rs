//! Every generated derivative against ferrad's own drivers (`gradient`, `jvp`, `hvp`), central
//! differences, and the reference values of DESIGN §6, over the Rust subset of DESIGN §3.4.

// Index loops are part of the differentiated subset (DESIGN §3.4), written as users write them.
#![allow(clippy::needless_range_loop, clippy::type_complexity)]

use ferrad::prelude::*;
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

/// Central differences of a plain f64 function.
fn fd(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    let mut xp = x.to_vec();
    (0..x.len())
        .map(|i| {
            let h = 1e-6 * x[i].abs().max(1.0);
            xp[i] = x[i] + h;
            let up = f(&xp);
            xp[i] = x[i] - h;
            let dn = f(&xp);
            xp[i] = x[i];
            (up - dn) / (2.0 * h)
        })
        .collect()
}

// ---- seed benchmark R (DESIGN §6): reverse, and forward over reverse for H·v ----

#[autodiff_reverse(d_loss_r, Duplicated, Active)]
fn loss_r(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let t = x[i].tanh();
        s += t * t * t + x[i] * x[i];
    }
    s
}

#[autodiff_forward(hvp_r, Dual, Dual)]
fn grad_r(x: &[f64], g: &mut [f64]) {
    d_loss_r(x, g, 1.0);
}

fn loss_r_generic<T: Real>(x: &[T]) -> T {
    x.iter().map(|&v| v.tanh().powi(3) + v * v).sum()
}

#[test]
fn benchmark_r_gradient_and_hvp() {
    let n = 50;
    let x: Vec<f64> = (1..=n).map(|i| (i as f64).sin()).collect();
    let v: Vec<f64> = (1..=n).map(|i| (i as f64).cos()).collect();
    let mut g = vec![0.0; n];
    let y = d_loss_r(&x, &mut g, 1.0);
    assert!(close(y, 2.512319765985212e+01, 1e-14));
    assert_all_close(
        "grad",
        &g[..3],
        &[2.430488478694623, 2.567448803828114, 0.3400414730735312],
        1e-14,
    );
    let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!(close(norm, 10.88526264882785, 1e-13));
    let (y2, g2) = ferrad::gradient(&ferrad::scalar_fn!(loss_r_generic), &x);
    assert!(close(y, y2, 1e-14));
    assert_all_close("grad vs ferrad::gradient", &g, &g2, 1e-13);

    // H·v: forward over the generated reverse function.
    let mut g3 = vec![0.0; n];
    let mut hv = vec![0.0; n];
    hvp_r(&x, &v, &mut g3, &mut hv);
    assert_all_close("grad from hvp", &g3, &g, 1e-14);
    assert_all_close(
        "Hv",
        &hv[..3],
        &[1.147897752224595, -0.7984923929438998, -2.76425652161373],
        1e-13,
    );
    let hnorm = hv.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!(close(hnorm, 10.95369564510562, 1e-13));
    let (_, _, hv2) = ferrad::hvp(&ferrad::scalar_fn!(loss_r_generic), &x, &v);
    assert_all_close("Hv vs ferrad::hvp", &hv, &hv2, 1e-13);
}

// ---- seed benchmark F (DESIGN §6): forward, width 10, one pass ----

#[autodiff_forward(d_loss_f, 10, Dualv, Dual)]
fn loss_f(p: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 1..=100_000 {
        let t = k as f64;
        for i in 0..5 {
            s += (t * p[i]).sin() * (-p[5 + i] * t).exp();
        }
    }
    s
}

#[autodiff_reverse(d_loss_f_rev, Duplicated, Active)]
fn loss_f_small(p: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut k = 1;
    while k <= 100 {
        let t = k as f64;
        for i in 0..5 {
            s += (t * p[i]).sin() * (-p[5 + i] * t).exp();
        }
        k += 1;
    }
    s
}

#[test]
fn benchmark_f_forward_width_10() {
    let p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.01, 0.02, 0.03, 0.04, 0.05];
    let mut seeds = [0.0; 100];
    for i in 0..10 {
        seeds[i * 10 + i] = 1.0; // direction i, element i
    }
    let r = d_loss_f(&p, &seeds);
    assert!(close(r[0], 2.248195627699457e+01, 1e-12));
    assert_all_close(
        "grad F",
        &r[1..4],
        &[
            -9.713268349016758e+01,
            -2.434582580517401e+01,
            -1.086696238947319e+01,
        ],
        1e-11,
    );
    assert!(close(r[10], -7.840243609283328e-01, 1e-11));

    // The reverse derivative of the same shape agrees with central differences.
    let mut g = [0.0; 10];
    d_loss_f_rev(&p, &mut g, 1.0);
    assert_all_close("F small vs fd", &g, &fd(loss_f_small, &p), 1e-7);
}

// ---- the Rust subset ----

/// A `Real`-generic helper: differentiated by operator overloading inside the generated code.
fn softplus<T: Real>(x: T) -> T {
    (x.exp() + T::cst(1.0)).ln()
}

#[autodiff_reverse(d_inner, Active, Active)]
fn inner(x: f64) -> f64 {
    x.sin() * 2.0
}

struct Cube;
impl CustomRule for Cube {
    fn name(&self) -> &str {
        "cube"
    }
    fn eval(&self, x: &[f64]) -> Vec<f64> {
        vec![x[0] * x[0] * x[0]]
    }
    fn jvp<T: Real>(&self, x: &[T], dx: &[T]) -> Vec<T> {
        vec![x[0] * x[0] * dx[0] * 3.0]
    }
    fn vjp<T: Real>(&self, x: &[T], w: &[T]) -> Vec<T> {
        vec![x[0] * x[0] * w[0] * 3.0]
    }
}

#[autodiff_reverse(d_subset, Duplicated, Active, Const, Active)]
#[autodiff_forward(t_subset, Dual, Dual, Const, Dual)]
fn subset(x: &[f64], a: f64, n: usize) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    let mut acc = [0.0; 2];
    let mut i = 0;
    while i < x.len() {
        if x[i] > 0.5 {
            acc[0] += x[i].powf(1.5) * a;
        } else {
            acc[1] += f64::max(x[i], 0.1) * std::f64::consts::PI;
        }
        i += 1;
    }
    let w: Vec<f64> = vec![0.25; x.len()];
    let dot: f64 = x.iter().zip(w.iter()).map(|(&p, &q)| p * q).sum();
    let c = ferrad::apply_rule(&Cube, &[a])[0];
    let scale = n as f64 / 2.0;
    let h = inner(a) + softplus(x[0]) + f64::EPSILON;
    if a < -100.0 {
        return std::f64::consts::E;
    }
    (acc[0] + acc[1]) * scale + dot.sqrt() + c + h.abs()
}

fn subset_flat(v: &[f64]) -> f64 {
    let n = v.len() - 1;
    subset(&v[..n], v[n], 3)
}

#[test]
fn subset_reverse_and_forward_agree_with_fd() {
    let x = [0.3, 0.9, 1.7, 0.05];
    let a = 0.7;
    let mut dx = [0.0; 4];
    let (y, da) = d_subset(&x, &mut dx, a, 3, 1.0);
    assert_eq!(y, subset(&x, a, 3));
    let mut flat = x.to_vec();
    flat.push(a);
    let want = fd(subset_flat, &flat);
    let mut got = dx.to_vec();
    got.push(da);
    assert_all_close("subset grad vs fd", &got, &want, 1e-7);

    // Forward: J·v with v = (bx, ba) must equal ⟨∇f, v⟩.
    let bx = [1.0, -2.0, 0.5, 3.0];
    let ba = 0.25;
    let (y2, t) = t_subset(&x, &bx, a, ba, 3);
    assert_eq!(y2, y);
    let dot: f64 = got
        .iter()
        .zip(bx.iter().chain([ba].iter()))
        .map(|(g, v)| g * v)
        .sum();
    assert!(close(t, dot, 1e-13), "{t} vs {dot}");
}

// ---- &mut slices and arrays, in-place updates ----

#[autodiff_reverse(d_step, Duplicated, Active)]
#[autodiff_forward(t_step, Dual, Dual)]
fn step(x: &mut [f64], k: f64) {
    for v in x.iter_mut() {
        *v = v.sin() * k;
    }
    let n = x.len();
    x[n - 1] += x[0] * x[0];
}

#[test]
fn in_place_update() {
    let x0 = [0.4, 1.1, -0.3];
    let k = 1.5;
    // Jacobian of the in-place map (x, k) -> x' by the reverse derivative, one output at a time.
    for out in 0..3 {
        let mut x = x0;
        let mut dx = [0.0; 3];
        dx[out] = 1.0; // seed: the adjoint of the final x[out]
        let dk = d_step(&mut x, &mut dx, k);
        let mut want_x = x0;
        step(&mut want_x, k);
        assert_eq!(x, want_x, "the primal result is written back");
        let mut flat = x0.to_vec();
        flat.push(k);
        let want = fd(
            |v| {
                let mut y = [v[0], v[1], v[2]];
                step(&mut y, v[3]);
                y[out]
            },
            &flat,
        );
        let mut got = dx.to_vec();
        got.push(dk);
        assert_all_close("d step", &got, &want, 1e-7);
    }
    // Forward: the tangent of x' along (bx, bk).
    let mut x = x0;
    let mut bx = [1.0, 0.0, 0.0];
    t_step(&mut x, &mut bx, k, 0.0);
    // d x'_0 / d x_0 = cos(x0) k; d x'_2 / d x_0 = 2 x'_0 cos(x0) k
    let c = x0[0].cos() * k;
    assert!(close(bx[0], c, 1e-15));
    assert!(close(bx[2], 2.0 * x[0] * c, 1e-14));
}

#[autodiff_reverse(d_arr, Duplicated, Const, Active)]
#[autodiff_forward(t_arr, Dual, Const, Dual)]
fn arr(x: &[f64; 3], w: [f64; 3]) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        s += w[i] * x[i].exp();
    }
    s
}

#[autodiff_reverse(d_byval, Active, Const, Active)]
fn byval(x: f64, w: [f64; 2]) -> f64 {
    let a: [f64; 2] = [x, x * x];
    a[0] * w[0] + a[1] * w[1]
}

#[test]
fn arrays() {
    let x = [0.1, 0.2, 0.3];
    let w = [1.0, 2.0, 3.0];
    let mut dx = [0.0; 3];
    let y = d_arr(&x, &mut dx, w, 1.0);
    assert_eq!(y, arr(&x, w));
    for i in 0..3 {
        assert!(close(dx[i], w[i] * x[i].exp(), 1e-15));
    }
    let (_, t) = t_arr(&x, &[0.0, 1.0, 0.0], w);
    assert!(close(t, dx[1], 1e-15));
    assert_eq!(d_byval(3.0, [1.0, 2.0], 1.0), (3.0 + 18.0, 1.0 + 12.0));
}

// ---- agreement with ferrad::jvp on a vector of scalar functions ----

#[autodiff_forward(t_polar_x, Dual, Dual, Dual)]
fn polar_x(r: f64, th: f64) -> f64 {
    r * th.cos()
}

fn polar<T: Real>(x: &[T]) -> Vec<T> {
    vec![x[0] * x[1].cos(), x[0] * x[1].sin()]
}

#[test]
fn forward_matches_jvp() {
    let (y, jv) = ferrad::jvp(&ferrad::vector_fn!(polar), &[2.0, 0.3], &[0.5, -1.0]);
    let (y0, t0) = t_polar_x(2.0, 0.5, 0.3, -1.0);
    assert_eq!(y0, y[0]);
    assert!(close(t0, jv[0], 1e-15));
}

// ---- single precision ----

#[autodiff_reverse(d_f32, Duplicated, Active)]
#[autodiff_forward(t_f32, Dual, Dual)]
fn norm_f32(x: &[f32]) -> f32 {
    x.iter().map(|&v| v * v).sum::<f32>().sqrt()
}

#[test]
fn single_precision() {
    let x = [3.0f32, 4.0];
    let mut dx = [0.0f32; 2];
    assert_eq!(d_f32(&x, &mut dx, 1.0), 5.0);
    assert_eq!(dx, [0.6, 0.8]);
    assert_eq!(t_f32(&x, &[1.0, 1.0]), (5.0, 1.4));
}

// ---- nesting: forward over forward (second derivative) ----

#[autodiff_forward(d1, Dual, Dual)]
fn quart(x: f64) -> f64 {
    x.powi(4)
}

#[autodiff_forward(d2, Dual, Dual)]
fn quart_prime(x: f64) -> f64 {
    d1(x, 1.0).1
}

#[test]
fn second_derivative() {
    assert_eq!(d2(2.0, 1.0), (32.0, 48.0));
}

// ---- return shapes of the reverse grammar, `&f64`, `&Vec<f64>`, `&mut Vec<f64>` ----

#[autodiff_reverse(d_mixed_const, Active, Duplicated, Const)]
#[autodiff_reverse(d_mixed_only, Active, Duplicated, ActiveOnly)]
#[allow(clippy::ptr_arg)]
fn mixed(a: f64, v: &Vec<f64>) -> f64 {
    a * v[0] + v[1]
}

#[autodiff_reverse(d_by_ref, Duplicated, Active)]
fn by_ref(x: &f64) -> f64 {
    *x * *x
}

#[autodiff_reverse(d_square_all, Duplicated)]
#[allow(clippy::ptr_arg)]
fn square_all(v: &mut Vec<f64>) {
    for i in 0..v.len() {
        v[i] = v[i] * v[i];
    }
}

#[autodiff_forward(t_exp2, 2, Dual, Dual)]
fn exp_out(x: f64, out: &mut f64) {
    *out = x.exp();
}

#[test]
fn reverse_return_shapes() {
    let v = vec![2.0, 5.0];
    // Const return: the primal and the Active gradients; no seed, so nothing flows.
    let _: fn(f64, &Vec<f64>, &mut Vec<f64>) -> (f64, f64) = d_mixed_const;
    let mut dv = vec![0.0; 2];
    assert_eq!(d_mixed_const(3.0, &v, &mut dv), (11.0, 0.0));
    assert_eq!(dv, [0.0, 0.0]);
    // ActiveOnly: the primal is dropped; one Active input gives a bare f64.
    let _: fn(f64, &Vec<f64>, &mut Vec<f64>, f64) -> f64 = d_mixed_only;
    assert_eq!(d_mixed_only(3.0, &v, &mut dv, 2.0), 4.0);
    assert_eq!(dv, [6.0, 2.0]);

    let _: fn(&f64, &mut f64, f64) -> f64 = d_by_ref;
    let mut dx = 1.0;
    assert_eq!(d_by_ref(&3.0, &mut dx, 1.0), 9.0);
    assert_eq!(dx, 7.0, "added into the shadow");

    let _: fn(&mut Vec<f64>, &mut Vec<f64>) = d_square_all;
    let mut v = vec![3.0, -1.0];
    let mut dv = vec![1.0, 10.0]; // seeds of the final values
    d_square_all(&mut v, &mut dv);
    assert_eq!(v, [9.0, 1.0]);
    assert_eq!(
        dv,
        [6.0, -20.0],
        "replaced by the adjoints of the initial values"
    );
}

#[test]
fn forward_width_with_mut_output() {
    let _: fn(f64, f64, f64, &mut f64, &mut f64, &mut f64) = t_exp2;
    let (mut out, mut b0, mut b1) = (0.0, 0.0, 0.0);
    t_exp2(1.0, 1.0, 2.0, &mut out, &mut b0, &mut b1);
    let e = 1f64.exp();
    assert_eq!((out, b0, b1), (e, e, 2.0 * e));
}

// ---- iterator chains written as for f64 (items by reference) ----

#[autodiff_reverse(d_chains, Duplicated, Duplicated, Active)]
fn chains(x: &[f64], w: &[f64]) -> f64 {
    let a: f64 = x.iter().map(|v| v * v).sum();
    let b: f64 = x.iter().zip(w.iter()).map(|(p, q)| p * q).sum();
    let c: f64 = x.iter().zip(w).map(|(p, q)| p - q).sum();
    let d: f64 = x.iter().sum::<f64>()
        + w.iter().product::<f64>()
        + x.iter().map(|&v| v + 1.0).product::<f64>();
    let mut e = 0.0;
    x.iter().for_each(|v| e += v.sin());
    let f: f64 = x.iter().enumerate().map(|(i, &v)| v * i as f64).sum();
    a + b + c + d + e + f
}

#[test]
fn iterator_chains() {
    let x = [0.5, -1.5, 2.0];
    let w = [1.0, 2.0, 3.0];
    let (mut dx, mut dw) = ([0.0; 3], [0.0; 3]);
    let y = d_chains(&x, &mut dx, &w, &mut dw, 1.0);
    assert_eq!(y, chains(&x, &w));
    let flat: Vec<f64> = x.iter().chain(&w).copied().collect();
    let want = fd(|v| chains(&v[..3], &v[3..]), &flat);
    let got: Vec<f64> = dx.iter().chain(&dw).copied().collect();
    assert_all_close("chains vs fd", &got, &want, 1e-7);
}
