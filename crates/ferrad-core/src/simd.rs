//! Runtime ISA dispatch without `target-cpu`: [`dispatch`] runs a closure inside a function
//! compiled for AVX2 + FMA when the CPU has them, and as baseline code otherwise;
//! [`dispatch_wide`] adds a copy compiled for AVX-512.
//!
//! A release build for plain x86-64 only uses SSE2 (2 f64 lanes). The code that
//! `#[autodiff_reverse]`/`#[autodiff_forward]` emit wraps its body as
//! `::ferrad::simd::dispatch(#[inline(always)] move |isa| { ... })`: the closure is inlined into
//! each copy of [`dispatch`]'s body, so its loops (and the `ferrad::math` functions they call,
//! which are inlined too) are compiled again with 4-lane AVX2 registers, and the copy is picked
//! at run time ([`level`]: one relaxed atomic load per call; `FERRAD_ISA` caps it). Code whose
//! loops are long vectorized math calls [`dispatch_wide`] instead, which adds a copy with 8-lane
//! AVX-512 registers; it runs the same operations as the AVX2 copy, so the two give the same
//! bits.
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
//! Invariant: the only `unsafe` is the call of a `#[target_feature]` copy, made after
//! `is_x86_feature_detected!` found the features it was compiled with ([`cpu_level`];
//! `FERRAD_ISA` can only lower the level). The copies compute the same function, the AVX-512
//! and AVX2 copies to the same bits; the baseline copy's results may differ from theirs in the
//! last bits only where the closure itself lets the compiler choose (it never contracts `a * b + c` into an FMA: Rust does not
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

/// Forwarders to `ferrad::math`, for functions that have no FMA variant: `name = body(..)`
/// calls `math::body`. For the f64 functions that is their always-inlined body (`NAME_inline`),
/// so that it is compiled in the copy that calls it.
macro_rules! same_math {
    ($($name:ident = $body:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(
            #[doc = concat!("`ferrad::math::", stringify!($name), "`.")]
            #[inline(always)]
            pub fn $name(self, $($arg: $ty),*) -> $ret {
                math::$body($($arg),*)
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
    /// [`Isa::tanh`], bit for bit, in the form for the body of a loop that LLVM vectorizes:
    /// its two sides share one division where `tanh`'s branch, if-converted, may not (faster
    /// there, slower in scalar code, where `tanh` skips the side not taken).
    #[inline(always)]
    pub fn tanh_lanes(self, x: f64) -> f64 {
        math::tanh_lanes_with(x, self.fma)
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
        exp_m1 = exp_m1_inline(x: f64) -> f64;
        ln = ln_inline(x: f64) -> f64;
        ln_1p = ln_1p_inline(x: f64) -> f64;
        sin = sin_inline(x: f64) -> f64;
        cos = cos_inline(x: f64) -> f64;
        sin_cos = sin_cos_inline(x: f64) -> (f64, f64);
        sinh = sinh_inline(x: f64) -> f64;
        cosh = cosh_inline(x: f64) -> f64;
        asin = asin_inline(x: f64) -> f64;
        acos = acos_inline(x: f64) -> f64;
        atan = atan_inline(x: f64) -> f64;
        atan2 = atan2_inline(y: f64, x: f64) -> f64;
        exp_f32 = exp_f32(x: f32) -> f32;
        exp_m1_f32 = exp_m1_f32(x: f32) -> f32;
        ln_f32 = ln_f32(x: f32) -> f32;
        ln_1p_f32 = ln_1p_f32(x: f32) -> f32;
        sin_f32 = sin_f32(x: f32) -> f32;
        cos_f32 = cos_f32(x: f32) -> f32;
        sin_cos_f32 = sin_cos_f32(x: f32) -> (f32, f32);
        tan_f32 = tan_f32(x: f32) -> f32;
        sinh_f32 = sinh_f32(x: f32) -> f32;
        cosh_f32 = cosh_f32(x: f32) -> f32;
        asin_f32 = asin_f32(x: f32) -> f32;
        acos_f32 = acos_f32(x: f32) -> f32;
        atan_f32 = atan_f32(x: f32) -> f32;
        atan2_f32 = atan2_f32(y: f32, x: f32) -> f32;
        powf_f32 = powf_f32(x: f32, y: f32) -> f32;
    }
}

/// The instruction sets [`dispatch`] compiles its closure for, narrowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Plain x86-64 (SSE2: 2 f64 lanes), or any other architecture.
    Baseline,
    /// AVX2 + FMA: 4 f64 lanes in 16 registers.
    Avx2Fma,
    /// AVX-512 (F, VL, DQ, BW) with AVX2 + FMA: 8 f64 lanes in 32 registers.
    Avx512,
}

impl Level {
    /// The level's name: `"baseline"`, `"avx2+fma"` or `"avx512"`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Baseline => "baseline",
            Level::Avx2Fma => "avx2+fma",
            Level::Avx512 => "avx512",
        }
    }

    /// Parses a name of [`Level::name`] (and `"avx2"` for [`Level::Avx2Fma`]).
    ///
    /// ```
    /// use ferrad_core::simd::Level;
    /// assert_eq!(Level::parse("avx2"), Some(Level::Avx2Fma));
    /// assert_eq!(Level::parse("sse"), None);
    /// ```
    pub fn parse(name: &str) -> Option<Level> {
        match name.trim().to_ascii_lowercase().as_str() {
            "baseline" => Some(Level::Baseline),
            "avx2" | "avx2+fma" => Some(Level::Avx2Fma),
            "avx512" => Some(Level::Avx512),
            _ => None,
        }
    }
}

/// The widest [`Level`] this CPU has, whatever `FERRAD_ISA` says.
pub fn cpu_level() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx2") && has!("fma") {
            let avx512 =
                has!("avx512f") && has!("avx512vl") && has!("avx512dq") && has!("avx512bw");
            return if avx512 {
                Level::Avx512
            } else {
                Level::Avx2Fma
            };
        }
    }
    Level::Baseline
}

/// The [`Level`] whose copy [`dispatch`] runs: the CPU's ([`cpu_level`]), capped by the
/// environment variable `FERRAD_ISA` (`baseline`, `avx2` or `avx512`; read once, at the
/// first call) when it names a narrower one. A name it does not know caps nothing.
///
/// The cap compares the copies on one machine (a benchmark, a test of each copy), or keeps
/// 512-bit registers off a CPU that slows its clock for them.
#[inline]
pub fn level() -> Level {
    use std::sync::atomic::{AtomicU8, Ordering};
    // 0: not known yet; else the level + 1 (one relaxed load per call after the first)
    static LEVEL: AtomicU8 = AtomicU8::new(0);
    match LEVEL.load(Ordering::Relaxed) {
        1 => Level::Baseline,
        2 => Level::Avx2Fma,
        3 => Level::Avx512,
        _ => {
            let lv = capped(cpu_level(), std::env::var("FERRAD_ISA").ok().as_deref());
            LEVEL.store(lv as u8 + 1, Ordering::Relaxed);
            lv
        }
    }
}

/// `cpu` capped by a `FERRAD_ISA` value: never wider than the CPU, unchanged by an unknown name.
fn capped(cpu: Level, env: Option<&str>) -> Level {
    env.and_then(Level::parse).map_or(cpu, |cap| cap.min(cpu))
}

/// Whether [`dispatch`] runs a copy with AVX2 + FMA on this CPU ([`Level::Avx2Fma`] or
/// wider).
#[inline]
pub fn has_avx2_fma() -> bool {
    level() >= Level::Avx2Fma
}

/// Runs `body` compiled for AVX2 + FMA when the CPU has both ([`level`] at least
/// [`Level::Avx2Fma`]), as baseline code otherwise; `body` gets the [`Isa`] of the copy it
/// runs in. [`dispatch_wide`] adds an AVX-512 copy.
///
/// Mark the closure `#[inline(always)]` at the call site: only a closure inlined into the
/// copies is compiled for their instruction sets.
#[inline(always)]
pub fn dispatch<R>(body: impl FnOnce(Isa) -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if level() >= Level::Avx2Fma {
            return wide::run_avx2(body);
        }
    }
    body(Isa::BASELINE)
}

/// [`dispatch`] with a third copy compiled for AVX-512, run where [`level`] is
/// [`Level::Avx512`]: for closures whose loops are long vectorized math (their 16-iteration
/// chunks run in 8-lane registers).
///
/// The AVX-512 copy computes what the AVX2 copy does, bit for bit: its [`Isa`] is
/// [`Isa::AVX2_FMA`] (the same fused operations), and only the width of the registers LLVM
/// vectorizes the loops into differs. Why it is a separate entry point: on the CPUs measured,
/// a few 512-bit instructions among latency-bound scalar code slow that code down (the clock
/// drops for them), so a closure that is mostly scalar runs faster in the AVX2 copy.
///
/// ```
/// let x: Vec<f64> = (0..1000).map(|i| i as f64 * 1e-3).collect();
/// let wide = ferrad_core::simd::dispatch_wide(
///     #[inline(always)]
///     |isa| x.iter().map(|&v| isa.tanh(v)).collect::<Vec<f64>>(),
/// );
/// let avx2 = ferrad_core::simd::dispatch(
///     #[inline(always)]
///     |isa| x.iter().map(|&v| isa.tanh(v)).collect::<Vec<f64>>(),
/// );
/// assert_eq!(wide, avx2);
/// ```
#[inline(always)]
pub fn dispatch_wide<R>(body: impl FnOnce(Isa) -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        match level() {
            Level::Avx512 => return wide::run_avx512(body),
            Level::Avx2Fma => return wide::run_avx2(body),
            Level::Baseline => {}
        }
    }
    body(Isa::BASELINE)
}

#[cfg(target_arch = "x86_64")]
mod wide {
    use super::{Isa, Level};

    /// `body` compiled with AVX2 and FMA enabled.
    #[target_feature(enable = "avx2,fma")]
    fn avx2<R>(body: impl FnOnce(Isa) -> R) -> R {
        body(Isa::AVX2_FMA)
    }

    /// `body` compiled with AVX-512 (F, VL, DQ, BW), AVX2 and FMA enabled.
    #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]
    fn avx512<R>(body: impl FnOnce(Isa) -> R) -> R {
        body(Isa::AVX2_FMA)
    }

    /// Calls [`avx2`]; the caller has checked the CPU.
    #[inline(always)]
    #[allow(unsafe_code)]
    pub(super) fn run_avx2<R>(body: impl FnOnce(Isa) -> R) -> R {
        debug_assert!(super::cpu_level() >= Level::Avx2Fma);
        // SAFETY: `avx2` requires only the target features "avx2" and "fma", and its callers,
        // `dispatch` and `dispatch_wide`, call this when `level()` is `Avx2Fma` or wider,
        // which `cpu_level()` gives only after detecting both on this CPU (`FERRAD_ISA` only
        // lowers it).
        unsafe { avx2(body) }
    }

    /// Calls [`avx512`]; the caller has checked the CPU.
    #[inline(always)]
    #[allow(unsafe_code)]
    pub(super) fn run_avx512<R>(body: impl FnOnce(Isa) -> R) -> R {
        debug_assert!(super::cpu_level() == Level::Avx512);
        // SAFETY: `avx512` requires the target features "avx512f", "avx512vl", "avx512dq",
        // "avx512bw", "avx2" and "fma"; its one caller calls this when `level()`
        // is `Avx512`, which `cpu_level()` gives only after detecting all six on this CPU.
        // (Its one caller is `dispatch_wide`.)
        unsafe { avx512(body) }
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
        assert!(level() <= cpu_level());
        assert_eq!(level().name(), Level::parse(level().name()).unwrap().name());
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
                // the always-inlined bodies: the same functions
                check("sin", isa.sin(x), math::sin(x));
                check("cos", isa.cos(x), math::cos(x));
                check("sin_cos.0", isa.sin_cos(x).0, math::sin_cos(x).0);
                check("sin_cos.1", isa.sin_cos(x).1, math::sin_cos(x).1);
                check("exp_m1", isa.exp_m1(x), math::exp_m1(x));
                check("ln", isa.ln(x), math::ln(x));
                check("ln_1p", isa.ln_1p(x), math::ln_1p(x));
                check("sinh", isa.sinh(x), math::sinh(x));
                check("cosh", isa.cosh(x), math::cosh(x));
                check("asin", isa.asin(x), math::asin(x));
                check("acos", isa.acos(x), math::acos(x));
                check("atan", isa.atan(x), math::atan(x));
                check("atan2", isa.atan2(x, 0.7), math::atan2(x, 0.7));
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
    fn ferrad_isa_only_narrows_the_level() {
        use Level::*;
        assert_eq!(capped(Avx512, Some("avx2")), Avx2Fma);
        assert_eq!(capped(Avx512, Some("baseline")), Baseline);
        assert_eq!(capped(Avx2Fma, Some("avx512")), Avx2Fma);
        assert_eq!(capped(Baseline, Some("AVX512")), Baseline);
        assert_eq!(capped(Avx512, Some("sse4")), Avx512);
        assert_eq!(capped(Avx2Fma, None), Avx2Fma);
        for lv in [Baseline, Avx2Fma, Avx512] {
            assert_eq!(Level::parse(lv.name()), Some(lv));
        }
    }

    /// Sums of tanh, exp and sin·cos in 16 lanes, as the emitted code's wide chunks run them.
    #[inline(always)]
    fn wide_sums(isa: Isa, x: &[f64]) -> [f64; 3] {
        let mut acc = [[0.0; 16]; 3];
        for c in x.chunks_exact(16) {
            for l in 0..16 {
                let (s, co) = isa.sin_cos(c[l]);
                acc[0][l] += isa.tanh(c[l]);
                acc[1][l] += isa.exp(c[l]);
                acc[2][l] += s * co;
            }
        }
        acc.map(|a| a.iter().sum())
    }

    /// The AVX-512 copy runs the AVX2 copy's operations: the same bits, in loops LLVM
    /// vectorizes at 8 lanes (where the CPU has AVX-512; the AVX2 copy alone elsewhere).
    #[test]
    fn the_avx512_copy_gives_the_avx2_copys_bits() {
        let x: Vec<f64> = (0..4096).map(|i| (i as f64 * 0.37).sin() * 3.0).collect();
        let plain = wide_sums(Isa::AVX2_FMA, &x);
        let dispatched = dispatch_wide(
            #[inline(always)]
            |isa| wide_sums(isa, &x),
        );
        if has_avx2_fma() {
            let avx2 = wide::run_avx2(
                #[inline(always)]
                |isa| wide_sums(isa, &x),
            );
            assert_eq!(dispatched, avx2);
            // and `Isa::AVX2_FMA` outside the copies: libm's exact `fma`, the same roundings
            assert_eq!(plain, avx2);
        }
        if cpu_level() == Level::Avx512 {
            let avx512 = wide::run_avx512(
                #[inline(always)]
                |isa| wide_sums(isa, &x),
            );
            assert_eq!(avx512, plain);
        }
    }

    /// `tanh_lanes` is `tanh` in another shape: the same bits, in scalar code and in the
    /// dispatched copies' vectorized loops, either side of 0.625 and at the special values.
    #[test]
    fn tanh_lanes_gives_tanhs_bits() {
        let mut xs = points();
        let edge = 0.625f64;
        for k in 1..40u64 {
            xs.extend([
                f64::from_bits(edge.to_bits() - k),
                f64::from_bits(edge.to_bits() + k),
            ]);
        }
        xs.extend((0..4000).map(|i| (i as f64 * 0.37).sin() * 1.3));
        let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
        for isa in [Isa::BASELINE, Isa::AVX2_FMA] {
            for &x in &xs {
                let (t, l) = (isa.tanh(x), isa.tanh_lanes(x));
                assert!(same(t, l), "{isa:?} {x:e}: tanh {t:e}, tanh_lanes {l:e}");
            }
        }
        let both = |isa: Isa| -> (Vec<f64>, Vec<f64>) {
            let tanh = xs.iter().map(|&x| isa.tanh(x)).collect();
            let lanes = xs.iter().map(|&x| isa.tanh_lanes(x)).collect();
            (tanh, lanes)
        };
        // (each copy instantiates `both`; inlined or not, the bits must agree)
        for (t, l) in [dispatch(both), dispatch_wide(both)] {
            for ((&x, a), b) in xs.iter().zip(t).zip(l) {
                assert!(same(a, b), "{x:e}: tanh {a:e}, tanh_lanes {b:e}");
            }
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
