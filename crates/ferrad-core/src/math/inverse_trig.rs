//! Inverse circular functions: `atan`, `atan2`, `asin`, `acos`.
//!
//! atan: fdlibm's five intervals made branch-free: u = (|x| − c)/(1 + c·|x|) with c in
//! {0, ½, 1, 3/2} (or u = −1/|x| beyond 39/16), picked by selects together with atan(c) as a
//! hi/lo pair; then atan(u) by an 11-term odd minimax polynomial on |u| <= 7/16.
//! asin/acos: fdlibm's rational approximation R(z) of (asin √z − √z)/√z^3 on [0, ½], with
//! asin x = π/2 − 2·asin √((1−|x|)/2) above ½ (the square root split into a 32-bit head and
//! a correction so the subtraction loses nothing). Every branch is computed and selected.

use super::kernel::{abs, sel, with_sign_of};

const ATANHI: [f64; 4] = [
    f64::from_bits(0x3FDD_AC67_0561_BB4F),
    f64::from_bits(0x3FE9_21FB_5444_2D18),
    f64::from_bits(0x3FEF_730B_D281_F69B),
    f64::from_bits(0x3FF9_21FB_5444_2D18),
];
const ATANLO: [f64; 4] = [
    f64::from_bits(0x3C7A_2B7F_222F_65E2),
    f64::from_bits(0x3C81_A626_3314_5C07),
    f64::from_bits(0x3C70_0788_7AF0_CBBD),
    f64::from_bits(0x3C91_A626_3314_5C07),
];
const AT: [f64; 11] = [
    f64::from_bits(0x3FD5_5555_5555_550D),
    f64::from_bits(0xBFC9_9999_9998_EBC4),
    f64::from_bits(0x3FC2_4924_9200_83FF),
    f64::from_bits(0xBFBC_71C6_FE23_1671),
    f64::from_bits(0x3FB7_45CD_C54C_206E),
    f64::from_bits(0xBFB3_B0F2_AF74_9A6D),
    f64::from_bits(0x3FB1_0D66_A0D0_3D51),
    f64::from_bits(0xBFAD_DE2D_52DE_FD9A),
    f64::from_bits(0x3FA9_7B4B_2476_0DEB),
    f64::from_bits(0xBFA2_B444_2C6A_6C2F),
    f64::from_bits(0x3F90_AD3A_E322_DA11),
];

/// atan(a) for a >= 0 (or NaN).
#[inline(always)]
fn atan_pos(a: f64) -> f64 {
    let r1 = a >= 0.4375;
    let r2 = a >= 0.6875;
    let r3 = a >= 1.1875;
    let r4 = !(a < 2.4375); // also NaN
    // u = (num_a·a − c)/(1 + c·a), or −1/a in the last interval.
    let c = sel(r3, 1.5, sel(r2, 1.0, sel(r1, 0.5, 0.0)));
    let num = sel(r4, -1.0, a - c);
    let den = sel(r4, a, 1.0 + c * a);
    let u = num / den;
    let hi = sel(
        r4,
        ATANHI[3],
        sel(r3, ATANHI[2], sel(r2, ATANHI[1], sel(r1, ATANHI[0], 0.0))),
    );
    let lo = sel(
        r4,
        ATANLO[3],
        sel(r3, ATANLO[2], sel(r2, ATANLO[1], sel(r1, ATANLO[0], 0.0))),
    );
    let z = u * u;
    let w = z * z;
    let s1 = z * (AT[0] + w * (AT[2] + w * (AT[4] + w * (AT[6] + w * (AT[8] + w * AT[10])))));
    let s2 = w * (AT[1] + w * (AT[3] + w * (AT[5] + w * (AT[7] + w * AT[9]))));
    hi - ((u * (s1 + s2) - lo) - u)
}

/// Arctangent. Domain: all f64, result in [−π/2, π/2]. Max error about 1 ulp;
/// atan(±0) = ±0, atan(±inf) = ±π/2, NaN → NaN.
#[inline]
pub fn atan(x: f64) -> f64 {
    atan_inline(x)
}

/// [`atan`], always inlined: [`crate::simd::Isa`]'s method calls it, so that it is compiled
/// into the dispatched copy that calls it (FMA in the AVX2 copy) where LLVM would call the
/// baseline function out of line.
#[inline(always)]
pub(crate) fn atan_inline(x: f64) -> f64 {
    with_sign_of(atan_pos(abs(x)), x)
}

const PI_HI: f64 = f64::from_bits(0x4009_21FB_5444_2D18);
const PI_LO: f64 = f64::from_bits(0x3CA1_A626_3314_5C07);
const PIO2_HI: f64 = f64::from_bits(0x3FF9_21FB_5444_2D18);
const PIO2_LO: f64 = f64::from_bits(0x3C91_A626_3314_5C07);
const PIO4_HI: f64 = f64::from_bits(0x3FE9_21FB_5444_2D18);

/// Four-quadrant arctangent of y/x. Domain: all (y, x), result in [−π, π]. Max error about
/// 1.5 ulp; follows IEEE/C99 for zeros and infinities (atan2(±0, −0) = ±π, atan2(±inf, +inf) =
/// ±π/4, ...); NaN in either argument → NaN.
#[inline]
pub fn atan2(y: f64, x: f64) -> f64 {
    atan2_inline(y, x)
}

/// [`atan2`], always inlined: [`crate::simd::Isa`]'s method calls it, so that it is compiled
/// into the dispatched copy that calls it (FMA in the AVX2 copy) where LLVM would call the
/// baseline function out of line.
#[inline(always)]
pub(crate) fn atan2_inline(y: f64, x: f64) -> f64 {
    let ay = abs(y);
    let ax = abs(x);
    let swap = ay > ax;
    let num = sel(swap, ax, ay);
    let den = sel(swap, ay, ax);
    let t = num / den;
    // 0/0 → 0, inf/inf → 1 (the quadrant logic below does the rest)
    let t = sel(num == 0.0, 0.0, t);
    let t = sel(num == f64::INFINITY, 1.0, t);
    let a = atan_pos(t);
    // a in [0, π/4]; swap → π/2 − a
    let a = sel(swap, PIO2_HI - (a - PIO2_LO), a);
    // x negative (including −0) → π − a
    let xneg = x.to_bits() >> 63 != 0;
    let a = sel(xneg, PI_HI - (a - PI_LO), a);
    let r = with_sign_of(a, y);
    sel(x.is_nan() || y.is_nan(), f64::NAN, r)
}

const PS0: f64 = f64::from_bits(0x3FC5_5555_5555_5555);
const PS1: f64 = f64::from_bits(0xBFD4_D612_03EB_6F7D);
const PS2: f64 = f64::from_bits(0x3FC9_C155_0E88_4455);
const PS3: f64 = f64::from_bits(0xBFA4_8228_B568_8F3B);
const PS4: f64 = f64::from_bits(0x3F49_EFE0_7501_B288);
const PS5: f64 = f64::from_bits(0x3F02_3DE1_0DFD_F709);
const QS1: f64 = f64::from_bits(0xC003_3A27_1C8A_2D4B);
const QS2: f64 = f64::from_bits(0x4000_2AE5_9C59_8AC8);
const QS3: f64 = f64::from_bits(0xBFE6_066C_1B8D_0159);
const QS4: f64 = f64::from_bits(0x3FB3_B8C5_B12E_9282);

/// R(z) ≈ (asin √z − √z)/√z^3 on [0, ½].
#[inline(always)]
fn asin_r(z: f64) -> f64 {
    let p = z * (PS0 + z * (PS1 + z * (PS2 + z * (PS3 + z * (PS4 + z * PS5)))));
    let q = 1.0 + z * (QS1 + z * (QS2 + z * (QS3 + z * QS4)));
    p / q
}

/// (z, s, f, c) for |x| >= ½: z = (1 − |x|)/2, s = √z, f = s with the low 32 bits cleared,
/// c = √z − f.
#[inline(always)]
fn sqrt_split(a: f64) -> (f64, f64, f64, f64) {
    let z = (1.0 - a) * 0.5;
    let s = z.sqrt();
    let f = f64::from_bits(s.to_bits() & 0xffff_ffff_0000_0000);
    let c = (z - f * f) / (s + f);
    let c = sel(s == 0.0, 0.0, c);
    (z, s, f, c)
}

/// Arcsine. Domain: [−1, 1] (outside → NaN), result in [−π/2, π/2]. Max error about 1 ulp;
/// asin(±0) = ±0.
#[inline]
pub fn asin(x: f64) -> f64 {
    asin_inline(x)
}

/// [`asin`], always inlined: [`crate::simd::Isa`]'s method calls it, so that it is compiled
/// into the dispatched copy that calls it (FMA in the AVX2 copy) where LLVM would call the
/// baseline function out of line.
#[inline(always)]
pub(crate) fn asin_inline(x: f64) -> f64 {
    let a = abs(x);
    let lt = a < 0.5;
    let (z2, s, f, c) = sqrt_split(a);
    let z = sel(lt, a * a, z2);
    let r = asin_r(z);
    let small = a + a * r;
    // π/2 − 2(s + s·r) = π/4 − ((2s·r − (PIO2_LO − 2c)) − (π/4 − 2f))
    let p = 2.0 * s * r - (PIO2_LO - 2.0 * c);
    let q = PIO4_HI - 2.0 * f;
    let large = PIO4_HI - (p - q);
    with_sign_of(sel(lt, small, large), x)
}

/// Arccosine. Domain: [−1, 1] (outside → NaN), result in [0, π]. Max error about 1 ulp.
#[inline]
pub fn acos(x: f64) -> f64 {
    acos_inline(x)
}

/// [`acos`], always inlined: [`crate::simd::Isa`]'s method calls it, so that it is compiled
/// into the dispatched copy that calls it (FMA in the AVX2 copy) where LLVM would call the
/// baseline function out of line.
#[inline(always)]
pub(crate) fn acos_inline(x: f64) -> f64 {
    let a = abs(x);
    let lt = a < 0.5;
    // |x| >= ½ works on z = (1 − |x|)/2 for both signs
    let (z2, s, f, c) = sqrt_split(a);
    let z = sel(lt, x * x, z2);
    let r = asin_r(z);
    // |x| < ½: π/2 − (x − (PIO2_LO − x·r))
    let mid = PIO2_HI - (x - (PIO2_LO - x * r));
    // x <= −½: π − 2(s + (r·s − PIO2_LO))
    let neg = PI_HI - 2.0 * (s + (r * s - PIO2_LO));
    // x >= ½: 2(f + (r·s + c))
    let pos = 2.0 * (f + (r * s + c));
    sel(lt, mid, sel(x < 0.0, neg, pos))
}

/// atan for f32 (evaluated in f64, rounded once). Domain: all f32. Max error 0.5 ulp + ε.
#[inline]
pub fn atan_f32(x: f32) -> f32 {
    atan(x as f64) as f32
}

/// atan2 for f32 (evaluated in f64). Domain: all f32 pairs. Max error 0.5 ulp + ε.
#[inline]
pub fn atan2_f32(y: f32, x: f32) -> f32 {
    atan2(y as f64, x as f64) as f32
}

/// asin for f32 (evaluated in f64). Domain: [−1, 1]. Max error 0.5 ulp + ε.
#[inline]
pub fn asin_f32(x: f32) -> f32 {
    asin(x as f64) as f32
}

/// acos for f32 (evaluated in f64). Domain: [−1, 1]. Max error 0.5 ulp + ε.
#[inline]
pub fn acos_f32(x: f32) -> f32 {
    acos(x as f64) as f32
}
