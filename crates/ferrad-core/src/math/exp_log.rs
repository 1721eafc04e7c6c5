//! Exponential and logarithm: `exp`, `exp_m1`, `ln`, `ln_1p`.
//!
//! exp/exp_m1: x = n·ln2 + r with a Cody–Waite split of ln2 (n·LN2_HI exact), e^r − 1 by a
//! degree-13 polynomial on |r| <= ln2/2, the reduction error folded back, and 2^n applied in
//! two exact steps so overflow and gradual underflow come out right.
//! ln/ln_1p: x = 2^k·m with m in [√½, √2), ln m = 2·atanh(f/(2+f)) with f = m − 1 (fdlibm's
//! rational-free form with the Lg1..Lg7 minimax coefficients); ln_1p adds the rounding error of
//! 1 + x back as a first-order correction.

use super::kernel::{
    ExpParts, LN2_HI, LN2_LO, SHIFT32, TWO52, TWO52_BITS, clamp_exp_arg, exp_parts, expm1_single,
    pow2i, scale, scale32, sel, sel32, two_sum,
};

/// e^x. Domain: all f64. Max error about 1 ulp (see the table in [`crate::math`]);
/// overflows to +inf above 709.78, underflows gradually to +0 below −745.1; NaN → NaN.
#[inline]
pub fn exp(x: f64) -> f64 {
    let p = exp_parts(x);
    // Below −745.2, e^x rounds to +0: select it, and scale by 2^0 meanwhile, since an x86
    // multiply that underflows takes a microcode assist (~100× a normal one; F's exp(−p·t)
    // underflows in most of its terms). NaN compares false and keeps its path.
    let zero = x < -745.2;
    sel(zero, 0.0, scale(p.one_plus(), sel(zero, 0.0, p.n)))
}

/// [`exp`], in one double on fused multiply-adds when `fma` (the AVX2 + FMA copy of
/// [`crate::simd::dispatch`], through [`crate::simd::Isa::exp`]): r = x − n·ln2 by two FMAs,
/// e^r − 1 by the same degree-13 polynomial, 2^n·(1 + q) by the same exact scaling, but no
/// double-double correction term. About half the operations of [`exp`] (2× faster in a
/// 16-lane loop, measured), 1.002 ulp against MPFR on 10⁷ points (`mpfr_accuracy.py --only
/// exp@fma`), within an ulp of [`exp`] (tested). Without `fma` it is [`exp`].
#[inline(always)]
pub(crate) fn exp_with(x: f64, fma: bool) -> f64 {
    if !fma {
        return exp(x);
    }
    // one rounding for r (|r| <= ln2/2, so 2^-54·|r| off)
    let (n, q) = expm1_single(clamp_exp_arg(x), true);
    let zero = x < -745.2;
    sel(zero, 0.0, scale(1.0 + q, sel(zero, 0.0, n)))
}

/// e^x − 1, accurate near 0. Domain: all f64. Max error about 1 ulp; exp_m1(±0) = ±0,
/// exp_m1(−inf) = −1, overflow to +inf above 709.78; NaN → NaN.
#[inline]
pub fn exp_m1(x: f64) -> f64 {
    exp_m1_inline(x)
}

/// [`exp_m1`], always inlined: [`crate::simd::Isa`]'s method calls it, so that it is compiled
/// into the dispatched copy that calls it (FMA in the AVX2 copy) where LLVM would call the
/// baseline function out of line.
#[inline(always)]
pub(crate) fn exp_m1_inline(x: f64) -> f64 {
    let xc = if x < -60.0 { -60.0 } else { x };
    expm1_from_parts(x, exp_parts(xc))
}

/// exp_m1 from the reduced parts of `x`.
#[inline(always)]
pub(crate) fn expm1_from_parts(x: f64, p: ExpParts) -> f64 {
    // 2^n·(1 + q) − 1 = (2^n − 1) + 2^n·q; 2^n − 1 is exact for |n| <= 53, 2^n·q is exact.
    let n = p.n;
    let ns = if n > 56.0 { 56.0 } else { n };
    let s = pow2i(ns);
    let (h, l) = two_sum(s - 1.0, s * p.qh);
    let small = h + (l + s * p.ql);
    let big = scale(p.one_plus(), n);
    let r = sel(n > 56.0, big, small);
    // keep the sign of zero (and return x itself for tiny subnormals)
    sel(x == 0.0, x, r)
}

const LG1: f64 = f64::from_bits(0x3FE5_5555_5555_5593);
const LG2: f64 = f64::from_bits(0x3FD9_9999_9997_FA04);
const LG3: f64 = f64::from_bits(0x3FD2_4924_9422_9359);
const LG4: f64 = f64::from_bits(0x3FCC_71C5_1D8E_78AF);
const LG5: f64 = f64::from_bits(0x3FC7_4664_96CB_03DE);
const LG6: f64 = f64::from_bits(0x3FC3_9A09_D078_C69F);
const LG7: f64 = f64::from_bits(0x3FC2_F112_DF3E_5244);

/// Bit pattern of √½ (rounded); m is normalized into [√½, √2).
pub(crate) const SQRT_HALF_BITS: u64 = 0x3fe6_a09e_667f_3bcd;

/// Split a positive normal (or +inf/NaN, which give garbage the caller replaces) `u` into
/// (k, f) with u = 2^k·(1 + f), 1 + f in [√½, √2); `f` is exact.
#[inline(always)]
pub(crate) fn decompose(u: f64) -> (f64, f64) {
    let ix = u
        .to_bits()
        .wrapping_add(0x3ff0_0000_0000_0000 - SQRT_HALF_BITS);
    let kb = ix >> 52;
    // k as a float without an int→float conversion: 2^52 + kb is exact, then unbias.
    let k = f64::from_bits(TWO52_BITS | kb) - (TWO52 + 1023.0);
    let m = f64::from_bits((ix & 0x000f_ffff_ffff_ffff).wrapping_add(SQRT_HALF_BITS));
    (k, m - 1.0)
}

/// ln(2^k·(1+f)) + c for a small correction c (fdlibm's log1p kernel).
#[inline(always)]
fn ln_kernel(k: f64, f: f64, c: f64) -> f64 {
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    k * LN2_HI - ((hfsq - (s * (hfsq + r) + (k * LN2_LO + c))) - f)
}

/// Natural logarithm. Domain: x >= 0 (x < 0 → NaN). Max error about 1 ulp;
/// ln(±0) = −inf, ln(+inf) = +inf, subnormals handled exactly.
#[inline]
pub fn ln(x: f64) -> f64 {
    ln_inline(x)
}

/// [`ln`], always inlined: [`crate::simd::Isa`]'s method calls it, so that it is compiled
/// into the dispatched copy that calls it (FMA in the AVX2 copy) where LLVM would call the
/// baseline function out of line.
#[inline(always)]
pub(crate) fn ln_inline(x: f64) -> f64 {
    let sub = x < f64::MIN_POSITIVE;
    let u = sel(sub, x * 18_014_398_509_481_984.0, x); // 2^54
    let (k, f) = decompose(u);
    let k = k - sel(sub, 54.0, 0.0);
    let r = ln_kernel(k, f, 0.0);
    let r = sel(x == f64::INFINITY, x, r);
    let r = sel(x == 0.0, f64::NEG_INFINITY, r);
    sel(x >= 0.0, r, f64::NAN)
}

/// ln(1 + x), accurate near 0. Domain: x >= −1 (below → NaN). Max error about 1 ulp;
/// ln_1p(±0) = ±0, ln_1p(−1) = −inf, ln_1p(+inf) = +inf.
#[inline]
pub fn ln_1p(x: f64) -> f64 {
    ln_1p_inline(x)
}

/// [`ln_1p`], always inlined: [`crate::simd::Isa`]'s method calls it, so that it is compiled
/// into the dispatched copy that calls it (FMA in the AVX2 copy) where LLVM would call the
/// baseline function out of line.
#[inline(always)]
pub(crate) fn ln_1p_inline(x: f64) -> f64 {
    let u = 1.0 + x;
    // 1 + x = u + err exactly (TwoSum); ln(1+x) ≈ ln(u) + err/u.
    let bb = u - 1.0;
    let err = (1.0 - (u - bb)) + (x - bb);
    let (k, f) = decompose(u);
    let r = ln_kernel(k, f, err / u);
    let r = sel(x == f64::INFINITY, x, r);
    let r = sel(x == -1.0, f64::NEG_INFINITY, r);
    let r = sel(x == 0.0, x, r);
    sel(x >= -1.0, r, f64::NAN)
}

/// −(ln2 − 0.693359375) as f32 (Cephes' second Cody–Waite constant, −2.12194440e-4).
const LN2_LO_CW: f32 = f32::from_bits(0xb95e_8083);

/// e^x for f32, native f32 arithmetic (4 lanes per SSE2 register): Cody–Waite reduction
/// with ln2 = 0.693359375 − 2.12194440e-4 and Cephes' degree-7 polynomial. Domain: all f32.
/// Max error about 1 ulp; overflow to +inf above 88.72, gradual underflow below −87.3.
#[inline]
#[allow(clippy::excessive_precision)] // Cephes' coefficients as published
pub fn exp_f32(x: f32) -> f32 {
    let x = if x > 89.0 { 89.0 } else { x };
    let x = if x < -104.0 { -104.0 } else { x };
    let n = (x * core::f32::consts::LOG2_E + SHIFT32) - SHIFT32;
    let r = (x - n * 0.693_359_375) - n * LN2_LO_CW;
    let z = r * r;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    scale32(1.0 + (r + z * p), n)
}

/// e^x − 1 for f32 (evaluated in f64). Domain: all f32. Max error 0.5 ulp + ε.
#[inline]
pub fn exp_m1_f32(x: f32) -> f32 {
    exp_m1(x as f64) as f32
}

const LN2_HI_F: f32 = f32::from_bits(0x3f31_7180);
const LN2_LO_F: f32 = f32::from_bits(0x3717_f7d1);
const LG1_F: f32 = f32::from_bits(0x3f2a_aaaa);
const LG2_F: f32 = f32::from_bits(0x3ecc_ce13);
const LG3_F: f32 = f32::from_bits(0x3e91_e9ee);
const LG4_F: f32 = f32::from_bits(0x3e78_9e26);

/// ln x for f32, native f32 arithmetic (fdlibm's logf kernel: x = 2^k·(1+f), 1+f in
/// [√½, √2), ln(1+f) from s = f/(2+f) and a degree-8 polynomial in s). Domain: x >= 0
/// (x < 0 → NaN). Max error about 1 ulp; ln(±0) = −inf, subnormals handled by rescaling.
#[inline]
pub fn ln_f32(x: f32) -> f32 {
    let sub = x < f32::MIN_POSITIVE;
    let u = sel32(sub, x * 8_388_608.0, x); // 2^23
    let ix = u.to_bits().wrapping_add(0x3f80_0000 - 0x3f35_04f3);
    let kb = ix >> 23;
    let k = f32::from_bits(0x4b00_0000 | kb) - (8_388_608.0 + 127.0) - sel32(sub, 23.0, 0.0);
    let f = f32::from_bits((ix & 0x007f_ffff).wrapping_add(0x3f35_04f3)) - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let r = z * (LG1_F + w * LG3_F) + w * (LG2_F + w * LG4_F);
    let hfsq = 0.5 * f * f;
    let res = k * LN2_HI_F - ((hfsq - (s * (hfsq + r) + k * LN2_LO_F)) - f);
    let res = sel32(x == f32::INFINITY, x, res);
    let res = sel32(x == 0.0, f32::NEG_INFINITY, res);
    sel32(x >= 0.0, res, f32::NAN)
}

/// ln(1 + x) for f32 (evaluated in f64). Domain: x >= −1. Max error 0.5 ulp + ε.
#[inline]
pub fn ln_1p_f32(x: f32) -> f32 {
    ln_1p(x as f64) as f32
}
