//! Hyperbolic functions: `tanh`, `sinh`, `cosh`, all built on the reduced exponential
//! (x = n·ln2 + r, q = e^r − 1) of [`super::kernel::exp_parts`].
//!
//! tanh |x| = (1 − E)/(1 + E) with E = e^(−2|x|) carried as a double-double, so neither the
//! tiny nor the saturated end loses bits. sinh and cosh use e^|x|/2 = 2^(n−1)·(1 + q) (exact
//! halving, so they stay finite up to 710.47 where e^x alone overflows), plus e^|x| − 1 for
//! sinh below 1 where e^a/2 − e^-a/2 would cancel.

use super::exp_log::expm1_from_parts;
use super::kernel::{
    abs, div_dd, exp_parts, fast_two_sum, pow2i, scale, sel, two_sum, with_sign_of,
};

/// Hyperbolic tangent. Domain: all f64. Max error about 1 ulp (see the table);
/// tanh(±0) = ±0, tanh(±inf) = ±1, NaN → NaN.
#[inline]
pub fn tanh(x: f64) -> f64 {
    let a = abs(x);
    let m = -2.0 * a;
    let m = if m < -60.0 { -60.0 } else { m };
    // E = e^(−2|x|) = s·(1 + q), s = 2^n; tanh|x| = (1 − E)/(1 + E)
    let p = exp_parts(m);
    let s = pow2i(p.n);
    // E = eh + el exactly (|s·qh| < s), then 1 ∓ E as exact double-doubles
    let (eh, el) = fast_two_sum(s, s * p.qh);
    let el = el + s * p.ql;
    let (nh, nl) = two_sum(1.0, -eh);
    let (dh, dl) = two_sum(1.0, eh);
    let (nh, nl) = two_sum(nh, nl - el); // renormalize: 1 − E may be tiny
    let t = div_dd(nh, nl, dh, dl + el);
    with_sign_of(t, x)
}

/// Hyperbolic sine. Domain: all f64. Max error about 1.5 ulp; sinh(±0) = ±0, overflow to
/// ±inf above |x| ≈ 710.48; NaN → NaN.
#[inline]
pub fn sinh(x: f64) -> f64 {
    let a = abs(x);
    let p = exp_parts(a);
    // |x| < 1: from e^a − 1, without cancellation.
    let t = expm1_from_parts(a, p);
    let small = 0.5 * (2.0 * t - t * t / (t + 1.0));
    // |x| >= 1: e^a/2 − e^-a/2, with e^a/2 = 2^(n−1)·(1 + q) kept in two parts.
    let (h, l) = p.one_plus_dd();
    let eh = scale(h, p.n - 1.0);
    let el = scale(l, p.n - 1.0);
    let large = eh + (el - 0.25 / eh);
    with_sign_of(sel(a < 1.0, small, large), x)
}

/// Hyperbolic cosine. Domain: all f64. Max error about 1 ulp; cosh(±0) = 1, overflow to
/// +inf above |x| ≈ 710.48; NaN → NaN.
#[inline]
pub fn cosh(x: f64) -> f64 {
    let a = abs(x);
    // e^a/2 + e^-a/2 with e^a/2 = 2^(n−1)·(1 + q) in two parts (a sum: no cancellation)
    let p = exp_parts(a);
    let (h, l) = p.one_plus_dd();
    let eh = scale(h, p.n - 1.0);
    let el = scale(l, p.n - 1.0);
    eh + (el + 0.25 / eh)
}

/// tanh for f32 (evaluated in f64, rounded once). Domain: all f32. Max error 0.5 ulp + ε.
#[inline]
pub fn tanh_f32(x: f32) -> f32 {
    tanh(x as f64) as f32
}

/// sinh for f32 (evaluated in f64). Domain: all f32. Max error 0.5 ulp + ε.
#[inline]
pub fn sinh_f32(x: f32) -> f32 {
    sinh(x as f64) as f32
}

/// cosh for f32 (evaluated in f64). Domain: all f32. Max error 0.5 ulp + ε.
#[inline]
pub fn cosh_f32(x: f32) -> f32 {
    cosh(x as f64) as f32
}
