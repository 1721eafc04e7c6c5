//! Shared building blocks: branch-free rounding, selection, power-of-two scaling, error-free
//! transformations (double-double) and the reduced exponential kernel.
//!
//! Everything here is plain `f64` arithmetic plus bit moves (`to_bits`/`from_bits`, 64-bit
//! add/shift/and), which SSE2 has for every lane: a loop over these functions vectorizes on the
//! baseline x86-64 target. No `mul_add` (a libm call without the FMA feature), no `round`/`floor`
//! (libm calls without SSE4.1), no float-to-int conversions (no packed form before AVX-512).

/// 1.5 · 2^52: adding it rounds a float with |x| < 2^51 to an integer (ties to even), and the
/// low bits of the sum's bit pattern hold that integer in two's complement.
pub(crate) const SHIFT: f64 = 6_755_399_441_055_744.0;
/// 2^52, and the bit pattern of 2^52 (used to turn small unsigned integers into floats).
pub(crate) const TWO52: f64 = 4_503_599_627_370_496.0;
pub(crate) const TWO52_BITS: u64 = 0x4330_0000_0000_0000;

/// ln 2 split so that `n * LN2_HI` is exact for |n| < 2^21.
pub(crate) const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
pub(crate) const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
pub(crate) const LOG2E: f64 = core::f64::consts::LOG2_E;

/// `if c { a } else { b }` — LLVM turns this into a select (blend), never a branch, when both
/// arms are plain values.
#[inline(always)]
pub(crate) fn sel(c: bool, a: f64, b: f64) -> f64 {
    if c { a } else { b }
}

/// Round to the nearest integer (ties to even) for |x| < 2^51; NaN stays NaN.
#[inline(always)]
pub(crate) fn round_int(x: f64) -> f64 {
    (x + SHIFT) - SHIFT
}

/// 2^n for an integral `n` in [-1022, 1023], built from the bit pattern.
#[inline(always)]
pub(crate) fn pow2i(n: f64) -> f64 {
    // The low 12 bits of (n + SHIFT)'s bit pattern are n mod 4096; adding the bias and
    // shifting by 52 keeps exactly the biased exponent.
    f64::from_bits((n + SHIFT).to_bits().wrapping_add(1023) << 52)
}

/// v · 2^n for an integral `n` in [-2044, 2046], with correct overflow to ±inf and a single
/// rounding into the subnormal range (v·2^n1 is exact, the second product rounds once).
#[inline(always)]
pub(crate) fn scale(v: f64, n: f64) -> f64 {
    let n1 = round_int(n * 0.5);
    let n2 = n - n1;
    v * pow2i(n1) * pow2i(n2)
}

/// |x| by clearing the sign bit.
#[inline(always)]
pub(crate) fn abs(x: f64) -> f64 {
    f64::from_bits(x.to_bits() & 0x7fff_ffff_ffff_ffff)
}

/// The sign bit of `s` applied to the (non-negative) magnitude `m`.
#[inline(always)]
pub(crate) fn with_sign_of(m: f64, s: f64) -> f64 {
    f64::from_bits(m.to_bits() | (s.to_bits() & 0x8000_0000_0000_0000))
}

/// a + b = s + e exactly (Knuth's TwoSum, no precondition).
#[inline(always)]
pub(crate) fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    let e = (a - (s - bb)) + (b - bb);
    (s, e)
}

/// a + b = s + e exactly when |a| >= |b| (Dekker's Fast2Sum).
#[inline(always)]
pub(crate) fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let e = b - (s - a);
    (s, e)
}

/// Veltkamp split of `a` into two halves of 26 bits each (a = hi + lo).
#[inline(always)]
fn split(a: f64) -> (f64, f64) {
    let c = 134_217_729.0 * a; // 2^27 + 1
    let hi = c - (c - a);
    (hi, a - hi)
}

/// a · b = p + e exactly (Dekker's TwoProduct without FMA), barring overflow.
#[inline(always)]
pub(crate) fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    let e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
    (p, e)
}

/// a · b = p + e exactly: with `fma`, by one fused multiply-add (`fma` is a constant after
/// inlining: true only in code compiled for FMA, see [`crate::simd::Isa`]; elsewhere
/// `mul_add` would be a libm call), else by [`two_prod`]. Both give the same `(p, e)` wherever
/// Dekker's splitting is exact (no overflow or underflow in the halves).
#[inline(always)]
pub(crate) fn two_prod_with(a: f64, b: f64, fma: bool) -> (f64, f64) {
    if fma {
        let p = a * b;
        (p, a.mul_add(b, -p))
    } else {
        two_prod(a, b)
    }
}

/// `a·b + c`: one fused multiply-add when `fma` (a constant after inlining: true only in code
/// compiled for FMA, see [`crate::simd::Isa`]), else a rounded product and a rounded sum.
#[inline(always)]
pub(crate) fn mul_add_with(a: f64, b: f64, c: f64, fma: bool) -> f64 {
    if fma { a.mul_add(b, c) } else { a * b + c }
}

/// `c[0] + c[1]·z + … + c[11]·z¹¹` in Estrin's scheme (pairs, then pairs of pairs: a short
/// dependency chain), each step fused when `fma`.
#[inline(always)]
pub(crate) fn poly12(c: &[f64; 12], z: f64, fma: bool) -> f64 {
    let z2 = z * z;
    let p89 = mul_add_with(z, c[9], c[8], fma);
    let pab = mul_add_with(z, c[11], c[10], fma);
    estrin8_then(
        c[..8].try_into().expect("8 of 12"),
        z,
        z2,
        mul_add_with(z2, pab, p89, fma),
        fma,
    )
}

/// `c[0] + c[1]·z + c[2]·z²` by Horner's rule, each step fused when `fma`.
#[inline(always)]
pub(crate) fn horner3(c: &[f64; 3], z: f64, fma: bool) -> f64 {
    mul_add_with(z, mul_add_with(z, c[2], c[1], fma), c[0], fma)
}

/// `c[0] + … + c[3]·z³` by Horner's rule, each step fused when `fma`.
#[inline(always)]
pub(crate) fn horner4(c: &[f64; 4], z: f64, fma: bool) -> f64 {
    mul_add_with(z, horner3(&[c[1], c[2], c[3]], z, fma), c[0], fma)
}

/// `c[0] + … + c[9]·z⁹` in Estrin's scheme, like [`poly12`].
#[inline(always)]
pub(crate) fn poly10(c: &[f64; 10], z: f64, fma: bool) -> f64 {
    let p89 = mul_add_with(z, c[9], c[8], fma);
    estrin8_then(c[..8].try_into().expect("8 of 10"), z, z * z, p89, fma)
}

/// `c[0] + … + c[7]·z⁷ + z⁸·top` in Estrin's scheme, given z² (the shared part of [`poly12`]
/// and [`poly10`], whose `top` is the rest of their polynomial divided by z⁸).
#[inline(always)]
fn estrin8_then(c: &[f64; 8], z: f64, z2: f64, top: f64, fma: bool) -> f64 {
    let z4 = z2 * z2;
    let p01 = mul_add_with(z, c[1], c[0], fma);
    let p23 = mul_add_with(z, c[3], c[2], fma);
    let p45 = mul_add_with(z, c[5], c[4], fma);
    let p67 = mul_add_with(z, c[7], c[6], fma);
    let q0 = mul_add_with(z2, p23, p01, fma);
    let q1 = mul_add_with(z2, p67, p45, fma);
    mul_add_with(z4, mul_add_with(z4, top, q1, fma), q0, fma)
}

/// Coefficients of (e^r − 1 − r)/r² on |r| <= ln2/2, degree 9, interpolated at Chebyshev
/// nodes (`tools/tanh_coefficients.py`): r + r²·P(r) is e^r − 1 within 0.37 ulp (relative,
/// with these rounded coefficients), for callers that damp q's error, as tanh's large branch
/// does.
pub(crate) const EXPM1_CHEBYSHEV10: [f64; 10] = [
    0.500_000_000_000_000_1,
    0.166_666_666_666_666_69,
    0.041_666_666_666_624_164,
    0.008_333_333_333_330_065,
    0.001_388_888_891_719_671_9,
    0.000_198_412_698_630_405_45,
    2.480_152_132_236_869_2e-5,
    2.755_726_848_031_002_4e-6,
    2.762_007_587_998_336_7e-7,
    2.510_037_583_256_123_4e-8,
];

/// `(2^n, q)` with x = n·ln2 + r and q = e^r − 1 (within 0.37 ulp, [`EXPM1_CHEBYSHEV10`]),
/// for |x| <= 709 (the caller bounds `x`; NaN gives a NaN q). 2^n comes from the bits of the
/// same sum that rounds n, one operation fewer than [`pow2i`].
#[inline(always)]
pub(crate) fn expm1_short(x: f64, fma: bool) -> (f64, f64) {
    let t = mul_add_with(x, LOG2E, SHIFT, fma);
    let n = t - SHIFT;
    let r = mul_add_with(-n, LN2_LO, mul_add_with(n, -LN2_HI, x, fma), fma); // n·LN2_HI is exact
    let q = mul_add_with(r * r, poly10(&EXPM1_CHEBYSHEV10, r, fma), r, fma);
    (f64::from_bits(t.to_bits().wrapping_add(1023) << 52), q)
}

/// Taylor coefficients of (e^r − 1 − r)/r² to degree 11 (e^r − 1 to degree 13).
pub(crate) const EXPM1_TAYLOR: [f64; 12] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// e^r − 1 for |r| <= 0.35 as an unevaluated sum hi + lo (Taylor to degree 13; truncation
/// error < 2^-56 relative; the final addition r + r²·p is kept exact).
#[inline(always)]
pub(crate) fn expm1_poly(r: f64) -> (f64, f64) {
    let p = poly12(&EXPM1_TAYLOR, r, false);
    fast_two_sum(r, r * r * p)
}

/// The reduced exponential: x = n·ln2 + r and e^r − 1 = qh + ql.
#[derive(Clone, Copy)]
pub(crate) struct ExpParts {
    /// The integer n (as a float).
    pub n: f64,
    /// High part of e^r − 1.
    pub qh: f64,
    /// Low part of e^r − 1.
    pub ql: f64,
}

impl ExpParts {
    /// 1 + q rounded once.
    #[inline(always)]
    pub(crate) fn one_plus(self) -> f64 {
        let (h, e) = fast_two_sum(1.0, self.qh);
        h + (e + self.ql)
    }
    /// 1 + q as a double-double.
    #[inline(always)]
    pub(crate) fn one_plus_dd(self) -> (f64, f64) {
        let (h, e) = fast_two_sum(1.0, self.qh);
        (h, e + self.ql)
    }
}

/// `x` clamped to [-746, 711], where e^x has already overflowed or underflowed to 0 (so the
/// reduction's `n` stays in [`scale`]'s range). NaN passes.
#[inline(always)]
pub(crate) fn clamp_exp_arg(x: f64) -> f64 {
    let x = if x > 711.0 { 711.0 } else { x };
    if x < -746.0 { -746.0 } else { x }
}

/// Reduce `x` (clamped to [-746, 711]) as x = n·ln2 + r; the rounding error of r is folded
/// back into the low part. NaN propagates.
#[inline(always)]
pub(crate) fn exp_parts(x: f64) -> ExpParts {
    let x = clamp_exp_arg(x);
    let n = round_int(x * LOG2E);
    let hi = x - n * LN2_HI; // exact
    let lo = n * LN2_LO;
    let r = hi - lo;
    let c = (hi - r) - lo;
    let (qh, ql) = expm1_poly(r);
    // e^(r+c) − 1 ≈ q + c·(1 + q)
    ExpParts {
        n,
        qh,
        ql: ql + (c + c * qh),
    }
}

/// `(n, q)` with x = n·ln2 + r and q = e^r − 1, each in one double: no low part, unlike
/// [`exp_parts`] (and no clamp: the caller bounds `x`). r's last step and the polynomial are
/// fused when `fma`. tanh's large branch and the FMA copy's exp use it.
#[inline(always)]
pub(crate) fn expm1_single(x: f64, fma: bool) -> (f64, f64) {
    let n = round_int(x * LOG2E);
    let r = mul_add_with(-n, LN2_LO, x - n * LN2_HI, fma); // n·LN2_HI is exact
    let q = mul_add_with(r * r, poly12(&EXPM1_TAYLOR, r, fma), r, fma);
    (n, q)
}

/// Like [`exp_parts`] for an argument given as a double-double `xh + xl` (|xl| <= ulp(xh)).
#[inline(always)]
pub(crate) fn exp_parts_dd(xh: f64, xl: f64) -> ExpParts {
    let xh = clamp_exp_arg(xh);
    let n = round_int(xh * LOG2E);
    let hi = xh - n * LN2_HI; // exact
    let t = xl - n * LN2_LO;
    let (r, c) = two_sum(hi, t);
    let (qh, ql) = expm1_poly(r);
    ExpParts {
        n,
        qh,
        ql: ql + (c + c * qh),
    }
}

/// (ah + al)/(bh + bl) rounded about once (double-double division, first-order).
#[inline(always)]
pub(crate) fn div_dd(ah: f64, al: f64, bh: f64, bl: f64, fma: bool) -> f64 {
    let q = ah / bh;
    let (p, pe) = two_prod_with(q, bh, fma);
    let rem = (((ah - p) - pe) + al) - q * bl;
    q + rem / bh
}

/// 1.5 · 2^23: the f32 counterpart of [`SHIFT`] (rounds |x| < 2^22 to an integer).
pub(crate) const SHIFT32: f32 = 12_582_912.0;

/// `if c { a } else { b }` for f32 (a select, never a branch).
#[inline(always)]
pub(crate) fn sel32(c: bool, a: f32, b: f32) -> f32 {
    if c { a } else { b }
}

/// 2^n for an integral `n` in [-126, 127] (f32).
#[inline(always)]
pub(crate) fn pow2i32(n: f32) -> f32 {
    f32::from_bits((n + SHIFT32).to_bits().wrapping_add(127) << 23)
}

/// v · 2^n for an integral `n` in [-252, 254] (f32), overflow and gradual underflow exact.
#[inline(always)]
pub(crate) fn scale32(v: f32, n: f32) -> f32 {
    let n1 = (n * 0.5 + SHIFT32) - SHIFT32;
    let n2 = n - n1;
    v * pow2i32(n1) * pow2i32(n2)
}
