//! Runtime ISA dispatch without `target-cpu`: [`dispatch`] runs a closure inside a function
//! compiled for AVX2 + FMA when the CPU has them, and as baseline code otherwise.
//!
//! A release build for plain x86-64 only uses SSE2 (2 f64 lanes). The code that
//! `#[autodiff_reverse]`/`#[autodiff_forward]` emit wraps its body as
//! `::ferrad::simd::dispatch(#[inline(always)] || { ... })`: the closure is inlined into both
//! copies of [`dispatch`]'s body, so its loops (and the `ferrad::math` functions they call,
//! which are inlined too) are compiled a second time with 4-lane AVX2 registers, and the copy is
//! picked at run time (std caches the CPUID answer: one atomic load per call).
//!
//! ```
//! let x: Vec<f64> = (0..1000).map(|i| i as f64).collect();
//! let s = ferrad_core::simd::dispatch(
//!     #[inline(always)]
//!     || x.iter().map(|v| v * v).sum::<f64>(),
//! );
//! assert_eq!(s, 332_833_500.0);
//! ```
//!
//! Invariant: the only `unsafe` is the call of the `#[target_feature]` copy, made after
//! `is_x86_feature_detected!` found exactly the features it was compiled with. Both copies
//! compute the same function; their results may differ in the last bits only where the closure
//! itself lets the compiler choose (it never contracts `a * b + c` into an FMA: Rust does not
//! allow that without an explicit `mul_add`).

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

/// Runs `body` compiled for AVX2 + FMA when the CPU has both, as baseline code otherwise.
///
/// Mark the closure `#[inline(always)]` at the call site: only a closure inlined into the
/// AVX2 copy is compiled with AVX2.
#[inline(always)]
pub fn dispatch<R>(body: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx2_fma() {
            return avx2::run(body);
        }
    }
    body()
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    /// `body()` compiled with AVX2 and FMA enabled.
    #[target_feature(enable = "avx2,fma")]
    fn run_avx2<R>(body: impl FnOnce() -> R) -> R {
        body()
    }

    /// Calls [`run_avx2`]; the caller has checked the CPU.
    #[inline(always)]
    #[allow(unsafe_code)]
    pub(super) fn run<R>(body: impl FnOnce() -> R) -> R {
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
            || {
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
}
