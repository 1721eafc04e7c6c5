//! Hyperbolic functions: `tanh`, `sinh`, `cosh`, built on the reduced exponential
//! (x = n·ln2 + r, q = e^r − 1; [`super::kernel::exp_parts`]).
//!
//! tanh |x| is an odd polynomial below 0.625 and 1 − 2/(e^(2|x|) + 1) above: one division and
//! no double-double steps, so it inlines into loops and vectorizes, and in the AVX2 + FMA copy
//! of [`crate::simd::dispatch`] its polynomials run on fused multiply-adds. sinh and cosh use
//! e^|x|/2 = 2^(n−1)·(1 + q) (exact halving, so they stay finite up to 710.47 where e^x alone
//! overflows); below 1, where e^a/2 − e^-a/2 would cancel, sinh is its odd Taylor series.

use super::kernel::{
    abs, exp_parts, expm1_single, mul_add_with, poly12, pow2i, scale, sel, with_sign_of,
};

/// Hyperbolic tangent. Domain: all f64. Max error 1.2 ulp (see the table); tanh(±0) = ±0,
/// tanh(±inf) = ±1, NaN → NaN.
///
/// Branch-free, with one division, so that LLVM inlines it into loops and vectorizes them.
#[inline]
pub fn tanh(x: f64) -> f64 {
    tanh_with(x, false)
}

/// Below |x| = 0.625: tanh x = x + x³·P(x²), P of degree 11 (`tools/tanh_coefficients.py`;
/// approximation error 0.014·2^-53, and the x³·P term is at most 12% of the sum, so its
/// roundings count an eighth).
const TANH_SMALL: [f64; 12] = [
    -0.333_333_333_333_333_3,
    0.133_333_333_333_330_42,
    -0.053_968_253_967_896_99,
    0.021_869_488_519_008_305,
    -0.008_863_235_103_240_878,
    0.003_592_121_751_154_962_2,
    -0.001_455_775_412_047_805_5,
    0.000_589_660_657_775_704_3,
    -0.000_237_590_649_605_556_2,
    9.257_116_129_556_769e-5,
    -3.120_110_142_579_74e-5,
    6.485_163_482_793_113e-6,
];

/// [`tanh`], with its polynomials on fused multiply-adds when `fma` (see
/// [`crate::simd::Isa`]): the two may differ in the last bit, both within the bound.
#[inline(always)]
pub(crate) fn tanh_with(x: f64, fma: bool) -> f64 {
    let a = abs(x);
    // tanh 20 = 1 − 8.5e-18 rounds to 1; +inf clamps too, NaN passes (`NaN > 20` is false).
    let a = if a > 20.0 { 20.0 } else { a };
    let z = a * a;
    let small = mul_add_with(a * z, poly12(&TANH_SMALL, z, fma), a, fma);
    // Above 0.625, 1 − 2/D with D = e^(2a) + 1 = 2^n·q + (2^n + 1), where 2a = n·ln2 + r and
    // q = e^r − 1: 2^n·q is exact, so D is rounded once, and 2/D <= 0.45 damps its error (and
    // the division's) to at most 0.8 of an ulp of the result. (q in one double: the low part
    // that `exp_parts` carries would change nothing here, and costs a dozen operations.)
    let (n, q) = expm1_single(2.0 * a, fma);
    let s = pow2i(n);
    let large = 1.0 - 2.0 / mul_add_with(s, q, s + 1.0, fma);
    with_sign_of(sel(a < 0.625, small, large), x)
}

/// Hyperbolic sine. Domain: all f64. Max error under 1 ulp (see the table); sinh(±0) = ±0,
/// overflow to ±inf above |x| ≈ 710.48; NaN → NaN.
#[inline]
pub fn sinh(x: f64) -> f64 {
    sinh_inline(x)
}

/// [`sinh`], always inlined: [`crate::simd::Isa`]'s method calls it, so that it is compiled
/// into the dispatched copy that calls it (FMA in the AVX2 copy) where LLVM would call the
/// baseline function out of line.
#[inline(always)]
pub(crate) fn sinh_inline(x: f64) -> f64 {
    let a = abs(x);
    // |x| < 1: the odd Taylor series a + a³·P(a²) (no cancellation, no division; the a³·P
    // term is at most 15% of the sum, so its roundings count a seventh). The quotient of
    // e^a − 1 it replaced reached 1.83 ulp (at 0.8547, against MPFR).
    let z = a * a;
    let small = a * z * poly12(&SINH_TAYLOR, z, false) + a;
    // |x| >= 1: e^a/2 − e^-a/2, with e^a/2 = 2^(n−1)·(1 + q) kept in two parts.
    let p = exp_parts(a);
    let (h, l) = p.one_plus_dd();
    let eh = scale(h, p.n - 1.0);
    let el = scale(l, p.n - 1.0);
    let large = eh + (el - 0.25 / eh);
    with_sign_of(sel(a < 1.0, small, large), x)
}

/// `1/(2k + 3)!` for k = 0..11: sinh a = a + a³·Σ_k (a²)^k/(2k + 3)! (below |a| = 1 the first
/// omitted term, a^27/27!, is 10^-28 of the sum).
const SINH_TAYLOR: [f64; 12] = [
    0.166_666_666_666_666_66,
    0.008_333_333_333_333_333,
    0.000_198_412_698_412_698_4,
    2.755_731_922_398_589_3e-6,
    2.505_210_838_544_172e-8,
    1.605_904_383_682_161_3e-10,
    7.647_163_731_819_816e-13,
    2.811_457_254_345_520_6e-15,
    8.220_635_246_624_33e-18,
    1.957_294_106_339_126_3e-20,
    3.868_170_170_630_684e-23,
    6.446_950_284_384_474e-26,
];

/// Hyperbolic cosine. Domain: all f64. Max error about 1 ulp; cosh(±0) = 1, overflow to
/// +inf above |x| ≈ 710.48; NaN → NaN.
#[inline]
pub fn cosh(x: f64) -> f64 {
    cosh_inline(x)
}

/// [`cosh`], always inlined: [`crate::simd::Isa`]'s method calls it, so that it is compiled
/// into the dispatched copy that calls it (FMA in the AVX2 copy) where LLVM would call the
/// baseline function out of line.
#[inline(always)]
pub(crate) fn cosh_inline(x: f64) -> f64 {
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

/// [`tanh_f32`], through [`tanh_with`]'s fused polynomials when `fma`.
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
