//! Runtime ISA dispatch without `target-cpu`: [`dispatch`] runs a closure inside a function
//! compiled for AVX2 + FMA when the CPU has them, and as baseline code otherwise.
//!
//! A release build for plain x86-64 only uses SSE2 (2 f64 lanes). The code that
//! `#[autodiff_reverse]`/`#[autodiff_forward]` emit wraps its body as
//! `::ferrad::simd::dispatch(#[inline(always)] move |isa| { ... })`: the closure is inlined into
//! both copies of [`dispatch`]'s body, so its loops (and the `ferrad::math` functions they call,
//! which are inlined too) are compiled a second time with 4-lane AVX2 registers, and the copy is
//! picked at run time (std caches the CPUID answer: one atomic load per call).
//!
//! Each copy hands the closure an [`Isa`] constant saying what it was compiled for. Its math
//! methods (`isa.tanh(x)`, …) are `ferrad::math`'s functions, except that in the AVX2 + FMA copy
//! the exact products inside tan, powf and cbrt take one fused multiply-add instead of
//! Dekker's 17-operation splitting, tanh's polynomials run on fused multiply-adds (1.3×
//! faster in a vectorized loop, measured), and exp runs in one double on fused multiply-adds
//! (2× faster); tanh's and exp's results may differ from the baseline's in the last bit, all
//! within the bound. The baseline copy cannot do that: there `mul_add` is a libm call, which
//! stops vectorization.
//!
//! ```
//! let x: Vec<f64> = (0..1000).map(|i| i as f64).collect();
//! let s = ferrad_core::simd::dispatch(
//!     #[inline(always)]
//!     |isa| x.iter().map(|&v| isa.tanh(v * 1e-3)).sum::<f64>(),
//! );
//! assert!((s - x.iter().map(|v| (v * 1e-3).tanh()).sum::<f64>()).abs() < 1e-12);
//! ```
//!
//! Invariant: the only `unsafe` is the call of the `#[target_feature]` copy, made after
//! `is_x86_feature_detected!` found exactly the features it was compiled with. Both copies
//! compute the same function; their results may differ in the last bits only where the closure
//! itself lets the compiler choose (it never contracts `a * b + c` into an FMA: Rust does not
//! allow that without an explicit `mul_add`), and in [`Isa::tanh`] and [`Isa::exp`], whose
//! fused evaluations may round the last bit differently. [`Isa`]'s other FMA products are
//! exact, as Dekker's are wherever its splitting does not overflow or underflow, so both
//! copies agree there.

use crate::math;

/// What the code of a [`dispatch`] copy was compiled for, and `ferrad::math` for it: the
/// same functions, with FMA inside the double-double products when the copy has FMA.
///
/// A constant in each copy (after inlining, `if isa.has_fma()` folds away).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Isa {
    fma: bool,
}

/// Forwarders to `ferrad::math`, for functions that have no FMA variant.
macro_rules! same_math {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(
            #[doc = concat!("`ferrad::math::", stringify!($name), "`.")]
            #[inline(always)]
            pub fn $name(self, $($arg: $ty),*) -> $ret {
                math::$name($($arg),*)
            }
        )*
    };
}

impl Isa {
    /// Baseline code: no FMA.
    pub const BASELINE: Isa = Isa { fma: false };
    /// Code compiled for AVX2 + FMA.
    pub const AVX2_FMA: Isa = Isa { fma: true };

    /// Whether this code was compiled with FMA.
    #[inline(always)]
    pub fn has_fma(self) -> bool {
        self.fma
    }

    /// `a·b + c`: one fused multiply-add in the FMA copy, a product and a sum elsewhere (where
    /// `f64::mul_add` would be a libm call, which stops vectorization).
    #[inline(always)]
    pub fn mul_add(self, a: f64, b: f64, c: f64) -> f64 {
        math::kernel::mul_add_with(a, b, c, self.fma)
    }
    /// `ferrad::math::exp`; in the FMA copy in one double on fused multiply-adds, without the
    /// baseline's double-double correction (2× faster in a vectorized loop; within an ulp of
    /// the baseline's result, 1.002 ulp against MPFR).
    #[inline(always)]
    pub fn exp(self, x: f64) -> f64 {
        math::exp_with(x, self.fma)
    }
    /// `ferrad::math::tanh`, its polynomials fused when the code has FMA (within an ulp of the
    /// baseline's result, and within tanh's bound).
    #[inline(always)]
    pub fn tanh(self, x: f64) -> f64 {
        math::tanh_with(x, self.fma)
    }
    /// `ferrad::math::tanh_f32` (evaluated by [`Isa::tanh`], rounded once).
    #[inline(always)]
    pub fn tanh_f32(self, x: f32) -> f32 {
        math::tanh_f32_with(x, self.fma)
    }
    /// `ferrad::math::tan` (its exact products by FMA when the code has it).
    #[inline(always)]
    pub fn tan(self, x: f64) -> f64 {
        math::tan_with(x, self.fma)
    }
    /// `ferrad::math::powf` (its exact products by FMA when the code has it).
    #[inline(always)]
    pub fn powf(self, x: f64, y: f64) -> f64 {
        math::powf_with(x, y, self.fma)
    }
    /// `ferrad::math::cbrt` (its exact product by FMA when the code has it).
    #[inline(always)]
    pub fn cbrt(self, x: f64) -> f64 {
        math::cbrt_with(x, self.fma)
    }
    /// `ferrad::math::cbrt_f32` (its exact product by FMA when the code has it).
    #[inline(always)]
    pub fn cbrt_f32(self, x: f32) -> f32 {
        math::cbrt_f32_with(x, self.fma)
    }

    same_math! {
        exp_f32(x: f32) -> f32;
        exp_m1(x: f64) -> f64;
        exp_m1_f32(x: f32) -> f32;
        ln(x: f64) -> f64;
        ln_f32(x: f32) -> f32;
        ln_1p(x: f64) -> f64;
        ln_1p_f32(x: f32) -> f32;
        sin(x: f64) -> f64;
        sin_f32(x: f32) -> f32;
        cos(x: f64) -> f64;
        cos_f32(x: f32) -> f32;
        sin_cos(x: f64) -> (f64, f64);
        sin_cos_f32(x: f32) -> (f32, f32);
        tan_f32(x: f32) -> f32;
        sinh(x: f64) -> f64;
        sinh_f32(x: f32) -> f32;
        cosh(x: f64) -> f64;
        cosh_f32(x: f32) -> f32;
        asin(x: f64) -> f64;
        asin_f32(x: f32) -> f32;
        acos(x: f64) -> f64;
        acos_f32(x: f32) -> f32;
        atan(x: f64) -> f64;
        atan_f32(x: f32) -> f32;
        atan2(y: f64, x: f64) -> f64;
        atan2_f32(y: f32, x: f32) -> f32;
        powf_f32(x: f32, y: f32) -> f32;
    }
}

/// Whether [`dispatch`] runs the AVX2 + FMA copy on this CPU.
#[inline]
pub fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The name of the instruction set [`dispatch`] uses here: `"avx2+fma"` or `"baseline"`.
pub fn level() -> &'static str {
    if has_avx2_fma() {
        "avx2+fma"
    } else {
        "baseline"
    }
}

/// Runs `body` compiled for AVX2 + FMA when the CPU has both, as baseline code otherwise;
/// `body` gets the [`Isa`] of the copy it runs in.
///
/// Mark the closure `#[inline(always)]` at the call site: only a closure inlined into the
/// AVX2 copy is compiled with AVX2.
#[inline(always)]
pub fn dispatch<R>(body: impl FnOnce(Isa) -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx2_fma() {
            return avx2::run(body);
        }
    }
    body(Isa::BASELINE)
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::Isa;

    /// `body` compiled with AVX2 and FMA enabled.
    #[target_feature(enable = "avx2,fma")]
    fn run_avx2<R>(body: impl FnOnce(Isa) -> R) -> R {
        body(Isa::AVX2_FMA)
    }

    /// Calls [`run_avx2`]; the caller has checked the CPU.
    #[inline(always)]
    #[allow(unsafe_code)]
    pub(super) fn run<R>(body: impl FnOnce(Isa) -> R) -> R {
        debug_assert!(super::has_avx2_fma());
        // SAFETY: `run_avx2` requires only the target features "avx2" and "fma", and its one
        // caller, `dispatch`, calls this after `has_avx2_fma()` detected both on this CPU.
        unsafe { run_avx2(body) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatch_runs_the_closure_once_and_returns_its_value() {
        let mut calls = 0;
        let x: Vec<f64> = (0..1003).map(|i| (i as f64).sin()).collect();
        let mut y = vec![0.0; x.len()];
        let s = dispatch(
            #[inline(always)]
            |isa| {
                assert_eq!(isa.has_fma(), has_avx2_fma());
                calls += 1;
                for (o, &v) in y.iter_mut().zip(&x) {
                    *o = crate::math::exp(v);
                }
                y.iter().sum::<f64>()
            },
        );
        assert_eq!(calls, 1);
        let plain: Vec<f64> = x.iter().map(|&v| crate::math::exp(v)).collect();
        // Same operations in the same order: the same bits in either copy.
        assert_eq!(y, plain);
        assert_eq!(s, plain.iter().sum::<f64>());
        assert!(matches!(level(), "avx2+fma" | "baseline"));
    }

    /// Inputs spread over each function's domain, edges included.
    fn points() -> Vec<f64> {
        let mut x: Vec<f64> = (0..20_000)
            .map(|i| {
                let t = (i as f64 * 0.618_033_988_749_895).fract();
                (t - 0.5) * 10f64.powf((i % 9) as f64 - 4.0)
            })
            .collect();
        x.extend([
            0.0, -0.0, 1e-300, -1e-310, 0.549, 0.551, 19.9, 20.1, 700.0, -745.0,
        ]);
        x.extend([1.0, 2.0, 1e300, f64::INFINITY, f64::NEG_INFINITY, f64::NAN]);
        x
    }

    /// FMA products are exact like Dekker's (where its halves neither overflow nor underflow),
    /// so both ISAs give the same bits as `ferrad::math` over these points, in either copy.
    /// (tanh's polynomials are fused in the FMA copy: see the next test.)
    #[test]
    fn fma_and_dekker_products_give_the_same_bits() {
        let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
        // (Outside `dispatch`, `AVX2_FMA`'s `mul_add` is libm's `fma`: exact too.)
        for isa in [Isa::BASELINE, Isa::AVX2_FMA] {
            for &x in &points() {
                let check = |name: &str, got: f64, want: f64| {
                    assert!(
                        same(got, want),
                        "{name}({x:e}) with {isa:?}: {got:e} vs {want:e}"
                    );
                };
                check("tan", isa.tan(x), math::tan(x));
                check("cbrt", isa.cbrt(x), math::cbrt(x));
                for y in [0.5, -1.3, 2.0, 3.0, 17.25] {
                    check("powf", isa.powf(x.abs(), y), math::powf(x.abs(), y));
                    check("powf", isa.powf(x, y), math::powf(x, y));
                }
                let xf = x as f32;
                assert!(same(isa.cbrt_f32(xf) as f64, math::cbrt_f32(xf) as f64));
            }
        }
        // And inside the dispatched copy, compiled with FMA where the CPU has it.
        let xs = points();
        let got = dispatch(
            #[inline(always)]
            |isa| xs.iter().map(|&x| isa.tan(x)).collect::<Vec<_>>(),
        );
        for (&x, &g) in xs.iter().zip(&got) {
            assert!(same(g, math::tan(x)), "tan({x:e}) dispatched: {g:e}");
        }
    }

    #[test]
    fn mul_add_is_fused_only_in_the_fma_copy() {
        // 0.1·0.1 − p rounds to 0 unfused, and to the product's rounding error fused.
        let p = 0.1 * 0.1;
        assert_eq!(Isa::BASELINE.mul_add(0.1, 0.1, -p), 0.0);
        assert_eq!(Isa::AVX2_FMA.mul_add(0.1, 0.1, -p), 0.1f64.mul_add(0.1, -p));
        assert_ne!(Isa::AVX2_FMA.mul_add(0.1, 0.1, -p), 0.0);
    }

    /// tanh's polynomials and exp's reduction and polynomial are fused in the FMA copy, so
    /// their last bit may differ from the baseline's: by at most one ulp, with the same special
    /// values, in either copy (both are within the accuracy bound: `tests/math.rs`, and
    /// `tools/mpfr_accuracy.py --only exp@fma tanh@fma`).
    #[test]
    fn fma_tanh_and_exp_are_within_an_ulp_of_the_baseline() {
        let xs = points();
        let dispatched = dispatch(
            #[inline(always)]
            |isa| {
                let tanh: Vec<f64> = xs.iter().map(|&x| isa.tanh(x)).collect();
                let exp: Vec<f64> = xs.iter().map(|&x| isa.exp(x)).collect();
                (tanh, exp)
            },
        );
        let close = |name: &str, x: f64, got: f64, want: f64| {
            if want.is_nan() {
                assert!(got.is_nan(), "{name}({x:e}): {got:e}");
            } else if want == 0.0 || want.abs() == 1.0 || want.is_infinite() {
                assert_eq!(got.to_bits(), want.to_bits(), "{name}({x:e})");
            } else {
                // (a subnormal result's ulp is the smallest subnormal)
                let ulp = (f64::EPSILON * want.abs()).max(f64::from_bits(1));
                assert!(
                    (got - want).abs() <= ulp,
                    "{name}({x:e}): {got:e} vs {want:e}"
                );
            }
        };
        for (k, &x) in xs.iter().enumerate() {
            close("tanh", x, dispatched.0[k], math::tanh(x));
            close("tanh", x, Isa::AVX2_FMA.tanh(x), math::tanh(x));
            for x in [x, x * 100.0, x - 740.0, x + 700.0] {
                close("exp", x, Isa::AVX2_FMA.exp(x), math::exp(x));
            }
            close("exp", x, dispatched.1[k], math::exp(x));
            let xf = x as f32;
            let (got, want) = (Isa::AVX2_FMA.tanh_f32(xf), math::tanh_f32(xf));
            assert!(
                got == want
                    || (got.is_nan() && want.is_nan())
                    || (got - want).abs() <= f32::EPSILON * want.abs(),
                "tanh_f32({xf:e}): {got:e} vs {want:e}"
            );
        }
    }
}
