//! Circular functions: `sin`, `cos`, `sin_cos`, `tan`.
//!
//! Reduction: q = round(x·2/π), r = x − q·π/2 with π/2 split into three 29-bit pieces and a
//! 53-bit tail (Cody–Waite), so q·P1..q·P3 are exact for |q| < 2^24; the subtractions are
//! done with TwoSum and r is carried as a double-double (rh + rl). The kernels on [−π/4, π/4]
//! are fdlibm's degree-13 sine and degree-14 cosine minimax polynomials, with the tail rl
//! folded in to first order. The quadrant (q mod 4) picks and signs the kernels by bit masks.
//!
//! Invariant: for |x| <= 2^24 (TRIG_MAX) the reduced argument is within 2^-100 of the exact
//! x − q·π/2, so the error is that of the kernels (< 1 ulp). Beyond 2^24 the products q·Pi are
//! no longer exact and the result loses accuracy gradually (still in [−1, 1]); ±inf and NaN give
//! NaN as std does.

use super::kernel::{SHIFT, abs, div_dd, fast_two_sum, sel, two_sum};

/// Largest |x| for which sin/cos/tan/sin_cos meet their documented accuracy.
pub const TRIG_MAX: f64 = 16_777_216.0;

const FRAC_2_PI: f64 = f64::from_bits(0x3fe4_5f30_6dc9_c883);
const P1: f64 = f64::from_bits(0x3ff9_21fb_5400_0000);
const P2: f64 = f64::from_bits(0x3e11_0b46_1100_0000);
const P3: f64 = f64::from_bits(0x3c44_c4c6_6200_0000);
const P4: f64 = f64::from_bits(0x3a71_701b_839a_2520);

const S1: f64 = f64::from_bits(0xBFC5_5555_5555_5549);
const S2: f64 = f64::from_bits(0x3F81_1111_1110_F8A6);
const S3: f64 = f64::from_bits(0xBF2A_01A0_19C1_61D5);
const S4: f64 = f64::from_bits(0x3EC7_1DE3_57B1_FE7D);
const S5: f64 = f64::from_bits(0xBE5A_E5E6_8A2B_9CEB);
const S6: f64 = f64::from_bits(0x3DE5_D93A_5ACF_D57C);

const C1: f64 = f64::from_bits(0x3FA5_5555_5555_554C);
const C2: f64 = f64::from_bits(0xBF56_C16C_16C1_5177);
const C3: f64 = f64::from_bits(0x3EFA_01A0_19CB_1590);
const C4: f64 = f64::from_bits(0xBE92_7E4F_809C_52AD);
const C5: f64 = f64::from_bits(0x3E21_EE9E_BDB4_B1C4);
const C6: f64 = f64::from_bits(0xBDA8_FAE9_BE88_38D4);

/// x = q·π/2 + (rh + rl); returns (bit pattern whose low two bits are q mod 4, rh, rl).
#[inline(always)]
fn reduce(x: f64) -> (u64, f64, f64) {
    let t = x * FRAC_2_PI + SHIFT;
    let qbits = t.to_bits();
    let q = t - SHIFT;
    let r1 = x - q * P1; // exact
    let (a, ae) = two_sum(r1, -(q * P2));
    let (b, be) = two_sum(a, -(q * P3));
    let tail = (ae + be) - q * P4;
    let (rh, rl) = fast_two_sum(b, tail);
    (qbits, rh, rl)
}

/// sin(x + y) = head + tail (|tail| small against head) for |x| <= π/4, |y| tiny.
#[inline(always)]
fn sin_kernel2(x: f64, y: f64) -> (f64, f64) {
    let z = x * x;
    let w = z * z;
    let r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
    let v = z * x;
    (x, -((z * (0.5 * y - v * r) - y) - v * S1))
}

/// cos(x + y) = head + tail for |x| <= π/4, |y| tiny.
#[inline(always)]
fn cos_kernel2(x: f64, y: f64) -> (f64, f64) {
    let z = x * x;
    let w = z * z;
    let r = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
    let hz = 0.5 * z;
    let w = 1.0 - hz;
    (w, ((1.0 - w) - hz) + (z * r - x * y))
}

#[inline(always)]
fn sin_kernel(x: f64, y: f64) -> f64 {
    let (h, t) = sin_kernel2(x, y);
    h + t
}

#[inline(always)]
fn cos_kernel(x: f64, y: f64) -> f64 {
    let (h, t) = cos_kernel2(x, y);
    h + t
}

/// Pick `b` where the mask is all ones, `a` where it is zero.
#[inline(always)]
fn blend(mask: u64, a: f64, b: f64) -> f64 {
    f64::from_bits((a.to_bits() & !mask) | (b.to_bits() & mask))
}

/// Keep |r| inside the kernels' range beyond TRIG_MAX (where the reduction is inexact) so the
/// result stays in [−1, 1]; a no-op on the documented domain.
#[inline(always)]
fn guard(x: f64, rh: f64, rl: f64) -> (f64, f64) {
    let big = !(abs(x) <= TRIG_MAX);
    let c = if rh > 0.785 { 0.785 } else { rh };
    let c = if c < -0.785 { -0.785 } else { c };
    (sel(big, c, rh), sel(big, 0.0 * rl, rl))
}

/// (sin x, cos x) with one shared reduction. Domain: |x| <= 2^24 (`TRIG_MAX`) at about
/// 1 ulp; beyond it accuracy degrades (results stay in [−1, 1]); ±inf/NaN → NaN.
#[inline]
pub fn sin_cos(x: f64) -> (f64, f64) {
    sin_cos_inline(x)
}

/// [`sin_cos`], always inlined: [`crate::simd::Isa`]'s method calls it, so that it is compiled
/// into the dispatched copy that calls it (FMA in the AVX2 copy) where LLVM would call the
/// baseline function out of line.
#[inline(always)]
pub(crate) fn sin_cos_inline(x: f64) -> (f64, f64) {
    let (qb, rh, rl) = reduce(x);
    let (rh, rl) = guard(x, rh, rl);
    let s = sin_kernel(rh, rl);
    let c = cos_kernel(rh, rl);
    let odd = (qb & 1).wrapping_neg();
    let sin_sign = (qb & 2) << 62;
    let cos_sign = (qb.wrapping_add(1) & 2) << 62;
    let sv = f64::from_bits(blend(odd, s, c).to_bits() ^ sin_sign);
    let cv = f64::from_bits(blend(odd, c, s).to_bits() ^ cos_sign);
    (sel(x == 0.0, x, sv), cv)
}

/// sin x. Domain: |x| <= 2^24 (`TRIG_MAX`) at about 1 ulp; beyond it accuracy degrades
/// (result stays in [−1, 1]); sin(±0) = ±0; ±inf/NaN → NaN.
#[inline]
pub fn sin(x: f64) -> f64 {
    sin_inline(x)
}

/// [`sin`], always inlined: [`crate::simd::Isa`]'s method calls it, so that it is compiled
/// into the dispatched copy that calls it (FMA in the AVX2 copy) where LLVM would call the
/// baseline function out of line.
#[inline(always)]
pub(crate) fn sin_inline(x: f64) -> f64 {
    let (qb, rh, rl) = reduce(x);
    let (rh, rl) = guard(x, rh, rl);
    let s = sin_kernel(rh, rl);
    let c = cos_kernel(rh, rl);
    let odd = (qb & 1).wrapping_neg();
    let sign = (qb & 2) << 62;
    let v = f64::from_bits(blend(odd, s, c).to_bits() ^ sign);
    sel(x == 0.0, x, v)
}

/// cos x. Domain: |x| <= 2^24 (`TRIG_MAX`) at about 1 ulp; beyond it accuracy degrades
/// (result stays in [−1, 1]); ±inf/NaN → NaN.
#[inline]
pub fn cos(x: f64) -> f64 {
    cos_inline(x)
}

/// [`cos`], always inlined: [`crate::simd::Isa`]'s method calls it, so that it is compiled
/// into the dispatched copy that calls it (FMA in the AVX2 copy) where LLVM would call the
/// baseline function out of line.
#[inline(always)]
pub(crate) fn cos_inline(x: f64) -> f64 {
    let (qb, rh, rl) = reduce(x);
    let (rh, rl) = guard(x, rh, rl);
    let s = sin_kernel(rh, rl);
    let c = cos_kernel(rh, rl);
    let odd = (qb & 1).wrapping_neg();
    let sign = (qb.wrapping_add(1) & 2) << 62;
    f64::from_bits(blend(odd, c, s).to_bits() ^ sign)
}

/// tan x = sin/cos of the reduced argument (−cos/sin in odd quadrants), divided as
/// double-doubles. Domain: |x| <= 2^24 (`TRIG_MAX`) at about 1 ulp; tan(±0) = ±0;
/// ±inf/NaN → NaN.
#[inline]
pub fn tan(x: f64) -> f64 {
    tan_with(x, false)
}

/// [`tan`], with its exact products by FMA when `fma` (see [`crate::simd::Isa`]).
#[inline(always)]
pub(crate) fn tan_with(x: f64, fma: bool) -> f64 {
    let (qb, rh, rl) = reduce(x);
    let (rh, rl) = guard(x, rh, rl);
    // sin and cos as exact double-doubles, then one double-double division
    let (sh, st) = sin_kernel2(rh, rl);
    let (sh, sl) = fast_two_sum(sh, st);
    let (ch, ct) = cos_kernel2(rh, rl);
    let (ch, cl) = fast_two_sum(ch, ct);
    let odd = (qb & 1).wrapping_neg();
    let nh = blend(odd, sh, -ch);
    let nl = blend(odd, sl, -cl);
    let dh = blend(odd, ch, sh);
    let dl = blend(odd, cl, sl);
    sel(x == 0.0, x, div_dd(nh, nl, dh, dl, fma))
}

/// π/2 − P1 to double precision (the f32 reduction needs only two pieces).
const P1_TAIL: f64 = f64::from_bits(0x3e11_0b46_11a6_2633);

/// f32 reduction, done in f64: x = q·π/2 + r, |r| <= π/4 (r rounded to f32 once). Exact
/// enough for every f32 with |x| <= 2^24; beyond, r is clamped into the kernels' range.
#[inline(always)]
fn reduce_f32(x: f32) -> (u32, f32) {
    let xd = x as f64;
    let t = xd * FRAC_2_PI + SHIFT;
    let q = t - SHIFT;
    let r = ((xd - q * P1) - q * P1_TAIL) as f32;
    let big = !(x.abs() <= TRIG_MAX as f32);
    let c = if r > 0.785 { 0.785 } else { r };
    let c = if c < -0.785 { -0.785 } else { c };
    (t.to_bits() as u32, if big { c } else { r })
}

/// Cephes' sinf kernel on [−π/4, π/4].
#[inline(always)]
fn sin_poly_f32(r: f32) -> f32 {
    let z = r * r;
    ((-1.951_529_6e-4 * z + 8.332_161e-3) * z - 1.666_665_5e-1) * z * r + r
}

/// Cephes' cosf kernel on [−π/4, π/4], with 1 − z/2 summed as in fdlibm.
#[inline(always)]
fn cos_poly_f32(r: f32) -> f32 {
    let z = r * r;
    let p = ((2.443_315_7e-5 * z - 1.388_731_6e-3) * z + 4.166_664_6e-2) * (z * z);
    let hz = 0.5 * z;
    let w = 1.0 - hz;
    w + (((1.0 - w) - hz) + p)
}

#[inline(always)]
fn blend32(mask: u32, a: f32, b: f32) -> f32 {
    f32::from_bits((a.to_bits() & !mask) | (b.to_bits() & mask))
}

/// sin x for f32: reduction in f64, Cephes' degree-7 kernel in f32. Domain: |x| <= 2^24
/// (`TRIG_MAX`) at about 1.6 ulp; beyond, the result stays in [−1, 1] without accuracy;
/// sin(±0) = ±0; ±inf/NaN → NaN.
#[inline]
pub fn sin_f32(x: f32) -> f32 {
    let (qb, r) = reduce_f32(x);
    let s = sin_poly_f32(r);
    let c = cos_poly_f32(r);
    let odd = (qb & 1).wrapping_neg();
    let v = f32::from_bits(blend32(odd, s, c).to_bits() ^ ((qb & 2) << 30));
    if x == 0.0 { x } else { v }
}

/// cos x for f32: reduction in f64, Cephes' degree-8 kernel in f32. Domain: |x| <= 2^24
/// at about 1.6 ulp; beyond, the result stays in [−1, 1] without accuracy; ±inf/NaN → NaN.
#[inline]
pub fn cos_f32(x: f32) -> f32 {
    let (qb, r) = reduce_f32(x);
    let s = sin_poly_f32(r);
    let c = cos_poly_f32(r);
    let odd = (qb & 1).wrapping_neg();
    f32::from_bits(blend32(odd, c, s).to_bits() ^ ((qb.wrapping_add(1) & 2) << 30))
}

/// (sin x, cos x) for f32 with one shared reduction. Domain and accuracy as [`sin_f32`].
#[inline]
pub fn sin_cos_f32(x: f32) -> (f32, f32) {
    let (qb, r) = reduce_f32(x);
    let s = sin_poly_f32(r);
    let c = cos_poly_f32(r);
    let odd = (qb & 1).wrapping_neg();
    let sv = f32::from_bits(blend32(odd, s, c).to_bits() ^ ((qb & 2) << 30));
    let cv = f32::from_bits(blend32(odd, c, s).to_bits() ^ ((qb.wrapping_add(1) & 2) << 30));
    (if x == 0.0 { x } else { sv }, cv)
}

/// tan x for f32 (evaluated in f64). Domain: |x| <= 2^24 at 0.5 ulp + ε.
#[inline]
pub fn tan_f32(x: f32) -> f32 {
    tan(x as f64) as f32
}
