//! Hyperbolic functions: `tanh`, `sinh`, `cosh`, all built on the reduced exponential
//! (x = n·ln2 + r, q = e^r − 1) of [`super::kernel::exp_parts`].
//!
//! tanh |x| = T/(T + 2) below 0.55 and 1 − 2/(T + 2) above, T = e^(2|x|) − 1 carried as a
//! double-double, with one division (so it inlines and vectorizes), losing bits at neither the
//! tiny nor the saturated end. sinh and cosh use e^|x|/2 = 2^(n−1)·(1 + q) (exact
//! halving, so they stay finite up to 710.47 where e^x alone overflows), plus e^|x| − 1 for
//! sinh below 1 where e^a/2 − e^-a/2 would cancel.

use super::exp_log::expm1_from_parts;
use super::kernel::{abs, exp_parts, fast_two_sum, pow2i, scale, sel, two_prod_with, with_sign_of};

/// Hyperbolic tangent. Domain: all f64. Max error about 1 ulp (see the table);
/// tanh(±0) = ±0, tanh(±inf) = ±1, NaN → NaN.
///
/// One division, so that LLVM inlines it into loops and vectorizes them: with
/// T = e^(2|x|) − 1 and D = T + 2 carried as double-doubles (from the reduced exponential,
/// exactly), tanh |x| = T/D below 0.55 and 1 − 2/D above (neither cancels); the quotient
/// is corrected by its exact remainder.
#[inline]
pub fn tanh(x: f64) -> f64 {
    tanh_with(x, false)
}

/// [`tanh`], with its exact product by FMA when `fma` (see [`crate::simd::Isa`]).
#[inline(always)]
pub(crate) fn tanh_with(x: f64, fma: bool) -> f64 {
    let a = abs(x);
    // tanh 20 = 1 − 8.5e-18 rounds to 1; +inf clamps too, NaN passes (`NaN > 20` is false).
    let a = if a > 20.0 { 20.0 } else { a };
    // 2a = n·ln2 + r, e^r − 1 = qh + ql; T = (2^n − 1) + 2^n·q (2^n − 1 and 2^n·qh exact)
    let p = exp_parts(2.0 * a);
    let s = pow2i(p.n);
    // (n >= 0: 2^n − 1 is 0 or outweighs 2^n·qh, |qh| < 0.42, so Fast2Sum is exact)
    let (th, tl) = fast_two_sum(s - 1.0, s * p.qh);
    let tl = tl + s * p.ql;
    let (dh, dl) = fast_two_sum(th.max(2.0), th.min(2.0));
    let dl = dl + tl;
    let small = a < 0.55;
    let (nh, nl) = (sel(small, th, 2.0), sel(small, tl, 0.0));
    // (nh + nl)/(dh + dl) = q0 + (nh − q0·dh + nl − q0·dl)/(dh + dl) for any q0 near it: the
    // remainder is exact to first order (q0·dh by TwoProduct), so q0 = nh·(1/dh) may be an
    // ulp off and the one division is 1/dh.
    let inv = 1.0 / dh;
    let q0 = nh * inv;
    let (p, pe) = two_prod_with(q0, dh, fma);
    let rem = ((nh - p) - pe) + (nl - q0 * dl);
    let q = q0 + rem * inv;
    with_sign_of(sel(small, q, 1.0 - q), x)
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
    tanh_f32_with(x, false)
}

/// [`tanh_f32`], with its exact product by FMA when `fma` (see [`crate::simd::Isa`]).
#[inline(always)]
pub(crate) fn tanh_f32_with(x: f32, fma: bool) -> f32 {
    tanh_with(x as f64, fma) as f32
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
