//! Hyperbolic functions: `tanh`, `sinh`, `cosh`, built on the reduced exponential
//! (x = n·ln2 + r, q = e^r − 1; [`super::kernel::exp_parts`]).
//!
//! tanh |x| is |x| + |x|³·N(x²)/M(x²) below 0.625 and 1 − 2/(e^(2|x|) + 1) above, one
//! division either way and no double-double steps, so it inlines into loops and vectorizes,
//! and in the AVX2 + FMA copy of [`crate::simd::dispatch`] its polynomials run on fused
//! multiply-adds. sinh and cosh use
//! e^|x|/2 = 2^(n−1)·(1 + q) (exact halving, so they stay finite up to 710.47 where e^x alone
//! overflows); below 1, where e^a/2 − e^-a/2 would cancel, sinh is its odd Taylor series.

use super::kernel::{
    abs, exp_parts, expm1_short, horner3, horner4, mul_add_with, poly12, scale, sel, with_sign_of,
};

/// Hyperbolic tangent. Domain: all f64. Max error 1.2 ulp (see the table); tanh(±0) = ±0,
/// tanh(±inf) = ±1, NaN → NaN.
///
/// One division and short polynomials, so that LLVM inlines it into loops and vectorizes
/// them (its branch becomes a select there, and skips the other side in scalar code).
#[inline]
pub fn tanh(x: f64) -> f64 {
    tanh_with(x, false)
}

/// Below |x| = 0.625: tanh x = x + x³·N(x²)/M(x²), N and M of degree 3 with M(0) = 1
/// (`tools/tanh_coefficients.py`; approximation error 0.06·2^-53 with these rounded
/// coefficients). The quotient term is at most 12% of the sum, so the roundings of N, M and
/// their division count an eighth.
const TANH_NUM: [f64; 4] = [
    -0.333_333_333_333_333_3,
    -0.021_420_667_608_853_146,
    -0.000_243_817_253_748_727_12,
    -1.746_805_602_645_034_3e-8,
];
const TANH_DEN: [f64; 3] = [
    0.464_262_002_826_559_44,
    0.024_531_490_987_108_17,
    0.000_254_885_378_413_070_6,
];

/// |x| clamped at 20, where tanh has rounded to 1: +inf clamps too, and NaN passes
/// (`NaN > 20` is false) to take the large side (`NaN < 0.625` is false), where it stays NaN.
#[inline(always)]
fn tanh_arg(x: f64) -> f64 {
    let a = abs(x);
    if a > 20.0 { 20.0 } else { a }
}

/// The small side's `(N(z), M(z))` at z = a².
#[inline(always)]
fn tanh_small_parts(z: f64, fma: bool) -> (f64, f64) {
    let num = horner4(&TANH_NUM, z, fma);
    let den = mul_add_with(z, horner3(&TANH_DEN, z, fma), 1.0, fma);
    (num, den)
}

/// The large side's D = e^(2a) + 1 = 2^n·q + (2^n + 1), where 2a = n·ln2 + r and
/// q = e^r − 1: 2^n·q is exact, so D is rounded once, and 2/D <= 0.45 damps its error (and
/// the division's) to at most 0.8 of an ulp of tanh = 1 − 2/D. q's own error enters D scaled
/// by 2^n·|q|/D <= 0.29, which is why a 10-term polynomial (0.37 ulp, interpolated at
/// Chebyshev nodes) is enough.
#[inline(always)]
fn tanh_large_den(a: f64, fma: bool) -> f64 {
    let (s, q) = expm1_short(2.0 * a, fma);
    mul_add_with(s, q, s + 1.0, fma)
}

/// [`tanh`], with its polynomials on fused multiply-adds when `fma` (see
/// [`crate::simd::Isa`]): the two may differ in the last bit, both within the bound.
///
/// Written with a branch on purpose. In a loop LLVM vectorizes, it if-converts the branch:
/// every lane computes both sides, and the small side costs two degree-3 polynomials and a
/// division (the degree-11 polynomial it replaced made the H·v loop of the bench 1.2× slower).
/// In scalar code (a loop's tail, a short loop, the tape's one value at a time) LLVM keeps
/// the branch, which skips the side not taken: 1.4 ns a call for small arguments, where a
/// select of the two sides took 4.6 (and the previous form 2.3), measured.
#[inline(always)]
pub(crate) fn tanh_with(x: f64, fma: bool) -> f64 {
    let a = tanh_arg(x);
    let r = if a < 0.625 {
        let z = a * a;
        let (num, den) = tanh_small_parts(z, fma);
        mul_add_with(a * z, num / den, a, fma)
    } else {
        1.0 - 2.0 / tanh_large_den(a, fma)
    };
    with_sign_of(r, x)
}

/// [`tanh_with`] shaped for the body of a loop that LLVM vectorizes: the same operations on
/// each side, so the same result bit for bit (tested), with the two sides sharing one
/// division. LLVM's if-conversion of [`tanh_with`]'s branch does not always share it (in the
/// emitted H·v loop of the bench it ran 1.1–1.2× slower than this form, measured), and in
/// scalar code this form pays for both sides (4.6 ns a call against 1.4 for small
/// arguments). The code `#[autodiff_*]` emit calls it in their lane loops
/// ([`crate::simd::Isa::tanh_lanes`]).
#[inline(always)]
pub(crate) fn tanh_lanes_with(x: f64, fma: bool) -> f64 {
    let a = tanh_arg(x);
    let z = a * a;
    let (num, den) = tanh_small_parts(z, fma);
    let d = tanh_large_den(a, fma);
    // No select after the division: LLVM turns a select of two quotients back into two
    // divisions (it did, with the numerator and the denominator selected on one condition,
    // or the result selected on it), which made the loop bound by the divider. So the
    // numerator is selected on `a >= 0.625`, which LLVM cannot merge with `a < 0.625` (both
    // are false for NaN, the only input where they disagree, and every side gives NaN there),
    // and the result is one multiply-add of selected operands: small x: a + a·z·(N/M); large:
    // 1 − 2/D (−1·t is exact, so the unfused form rounds once, as 1 − t does).
    let small = a < 0.625;
    let t = sel(a >= 0.625, 2.0, num) / sel(small, den, d);
    let r = mul_add_with(sel(small, a * z, -1.0), t, sel(small, a, 1.0), fma);
    with_sign_of(r, x)
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
