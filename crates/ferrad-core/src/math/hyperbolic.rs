//! Hyperbolic functions: `tanh`, `sinh`, `cosh`, all built on the reduced exponential
//! (x = n·ln2 + r, q = e^r − 1) of [`super::kernel::exp_parts`].
//!
//! tanh |x| = −t/(t + 2) with t = e^(−2|x|) − 1 (no cancellation for any |x|; saturates to 1).
//! sinh and cosh use e^|x|/2 = 2^(n−1)·(1 + q) (exact halving, so they stay finite up to
//! 710.47 where e^x alone overflows) and e^|x| − 1 for small |x|.

use super::exp_log::expm1_from_parts;
use super::kernel::{abs, exp_parts, scale, sel, with_sign_of};

/// Hyperbolic tangent. Domain: all f64. Max error about 2 ulp (see the table);
/// tanh(±0) = ±0, tanh(±inf) = ±1, NaN → NaN.
#[inline]
pub fn tanh(x: f64) -> f64 {
    let a = abs(x);
    let m = -2.0 * a;
    let mc = if m < -60.0 { -60.0 } else { m };
    let (n, q) = exp_parts(mc);
    let t = expm1_from_parts(m, n, q);
    with_sign_of(-t / (t + 2.0), x)
}

/// Hyperbolic sine. Domain: all f64. Max error about 2 ulp; sinh(±0) = ±0, overflow to
/// ±inf above |x| ≈ 710.48; NaN → NaN.
#[inline]
pub fn sinh(x: f64) -> f64 {
    let a = abs(x);
    let (n, q) = exp_parts(a);
    // |x| < 1: from e^a − 1, without cancellation.
    let t = expm1_from_parts(a, n, q);
    let small = 0.5 * (2.0 * t - t * t / (t + 1.0));
    // |x| >= 1: e^a/2 − e^-a/2.
    let eh = scale(1.0 + q, n - 1.0);
    let large = eh - 0.25 / eh;
    with_sign_of(sel(a < 1.0, small, large), x)
}

/// Hyperbolic cosine. Domain: all f64. Max error about 2 ulp; cosh(±0) = 1, overflow to
/// +inf above |x| ≈ 710.48; NaN → NaN.
#[inline]
pub fn cosh(x: f64) -> f64 {
    let a = abs(x);
    let (n, q) = exp_parts(a);
    let t = expm1_from_parts(a, n, q);
    let small = 1.0 + t * t / (2.0 * (1.0 + t));
    let eh = scale(1.0 + q, n - 1.0);
    let large = eh + 0.25 / eh;
    sel(a < core::f64::consts::LN_2, small, large)
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
