//! The practical limit (the `hand-simd` bench modes): the hand-written derivatives of F, R and H
//! as fused loops shaped for SIMD, with `ferrad::math` instead of libm, so that LLVM vectorizes
//! them 4 lanes wide.
//!
//! std's `sin`, `exp` and `tanh` are libm calls, one element at a time; `ferrad::math`'s are
//! branch-free inline polynomials (tanh is built here from `math::exp_m1`, cheaper and less
//! accurate than `math::tanh`: see [`tanh`]). Each
//! loop below works on chunks of independent elements with one accumulator per lane (summed at
//! the end), since LLVM will not reorder a sequential floating-point sum by itself; a chunk
//! held in an array is what its SLP vectorizer turns into AVX2 registers. The release build has no `target-cpu` flag, so every kernel is compiled twice — for
//! baseline x86-64 (SSE2, 2 lanes) and with `#[target_feature(enable = "avx2,fma")]` — and
//! [`dispatch`] picks the AVX2 copy at run time when the CPU has it.
//!
//! Invariant: the only `unsafe` is the call in [`dispatch`], made after the CPU was checked for
//! exactly the features the called copy was compiled with.

use ferrad::math;

use super::problems::F_SAMPLES;

/// Lanes per chunk: one AVX2 register of f64.
const LANES: usize = 4;
/// Lanes per chunk of F: two AVX2 registers per accumulator, so that two independent
/// `sin_cos`/`exp` polynomial chains overlap (measured a little faster than one).
const F_LANES: usize = 8;

/// Whether the AVX2 + FMA copies run here (std caches the CPUID answer).
pub fn simd_level() -> &'static str {
    if has_avx2_fma() { "avx2+fma" } else { "sse2" }
}

fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Runs `avx2(args)` when the CPU has AVX2 and FMA, `plain(args)` otherwise.
/// `avx2` must be a `#[target_feature(enable = "avx2,fma")]` copy of `plain` (the [`kernel!`]
/// macro below is the only caller, and guarantees it).
#[allow(unsafe_code)]
fn dispatch<A, R>(args: A, plain: fn(A) -> R, avx2: unsafe fn(A) -> R) -> R {
    if has_avx2_fma() {
        // SAFETY: `avx2` only requires the features "avx2" and "fma" (its
        // `#[target_feature]`), and `has_avx2_fma()` just detected both on this CPU.
        unsafe { avx2(args) }
    } else {
        plain(args)
    }
}

/// Defines `pub fn $name(args) -> R` that runs one body compiled twice (baseline and
/// AVX2 + FMA) and picks the copy at run time through [`dispatch`].
macro_rules! kernel {
    ($(#[$doc:meta])* fn $name:ident($args:ident: $ty:ty) $(-> $ret:ty)? $body:block) => {
        $(#[$doc])*
        pub fn $name($args: $ty) $(-> $ret)? {
            #[inline(always)]
            fn body($args: $ty) $(-> $ret)? $body
            fn plain($args: $ty) $(-> $ret)? {
                body($args)
            }
            // Elsewhere than x86-64 a second plain copy, never called (see `has_avx2_fma`).
            #[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx2,fma"))]
            fn avx2($args: $ty) $(-> $ret)? {
                body($args)
            }
            dispatch($args, plain, avx2)
        }
    };
}

kernel! {
    /// `(loss, ∇loss)` of F. The sum over i is outermost so that pᵢ, p₅₊ᵢ are broadcast and
    /// the 100,000 samples tₖ run [`F_LANES`] at a time; `sin_cos` shares one range reduction.
    fn f_grad(p: &[f64; 10]) -> (f64, [f64; 10]) {
        let mut loss = [0.0; F_LANES];
        let mut g = [[0.0; F_LANES]; 10];
        for i in 0..5 {
            let (a, b) = (p[i], p[5 + i]);
            let (mut gi, mut gb) = ([0.0; F_LANES], [0.0; F_LANES]);
            let mut t0 = 1.0;
            for _ in 0..F_SAMPLES / F_LANES {
                for l in 0..F_LANES {
                    let t = t0 + l as f64;
                    let (s, c) = math::sin_cos(t * a);
                    let e = math::exp(-b * t);
                    let te = t * e;
                    loss[l] += s * e;
                    gi[l] += c * te;
                    gb[l] -= s * te;
                }
                t0 += F_LANES as f64;
            }
            g[i] = gi;
            g[5 + i] = gb;
        }
        debug_assert_eq!(F_SAMPLES % F_LANES, 0);
        (loss.iter().sum(), g.map(|l| l.iter().sum()))
    }
}

/// tanh x = e / (e + 2) with e = eˣ⁺ˣ − 1 from `math::exp_m1` (no cancellation near 0; |x| is
/// clamped to 20, beyond which tanh is ±1 in f64): within about 2.5 ulp. Written here rather
/// than calling `math::tanh`, which keeps ≤ 2 ulp with an exact-remainder correction after its
/// division and costs about 1.2× this: the limit is what a hand-written loop that accepts
/// 2.5 ulp gets.
#[inline(always)]
fn tanh(x: f64) -> f64 {
    let e = math::exp_m1(2.0 * x.clamp(-20.0, 20.0));
    e / (e + 2.0)
}

/// R's per-element terms: (tanh(x)³ + x², d/dx).
#[inline(always)]
fn r_terms(x: f64) -> (f64, f64) {
    let t = tanh(x);
    let t2 = t * t;
    (t2 * t + x * x, 3.0 * t2 * (1.0 - t2) + 2.0 * x)
}

kernel! {
    /// `loss` of R, with ∇loss written to `g`.
    fn r_grad(xg: (&[f64], &mut [f64])) -> f64 {
        let (x, g) = xg;
        assert_eq!(x.len(), g.len(), "x has {} entries, g has {}", x.len(), g.len());
        let mut acc = [0.0; LANES];
        let mut xc = x.chunks_exact(LANES);
        let mut gc = g.chunks_exact_mut(LANES);
        for (xs, gs) in (&mut xc).zip(&mut gc) {
            let xs: [f64; LANES] = xs.try_into().expect("a chunk of LANES");
            let mut d = [0.0; LANES];
            for l in 0..LANES {
                let (y, dl) = r_terms(xs[l]);
                acc[l] += y;
                d[l] = dl;
            }
            gs.copy_from_slice(&d);
        }
        let mut tail = 0.0;
        for (&xi, gi) in xc.remainder().iter().zip(gc.into_remainder()) {
            let (y, d) = r_terms(xi);
            tail += y;
            *gi = d;
        }
        acc.iter().sum::<f64>() + tail
    }
}

/// One entry of H·v for R (the Hessian is diagonal): `(6t(1−t²)(1−2t²) + 2)·v`.
#[inline(always)]
fn h_term(x: f64, v: f64) -> f64 {
    let t = tanh(x);
    let t2 = t * t;
    (6.0 * t * (1.0 - t2) * (1.0 - 2.0 * t2) + 2.0) * v
}

kernel! {
    /// H·v of R, written to `hv`.
    fn r_hvp(xvh: (&[f64], &[f64], &mut [f64])) {
        let (x, v, hv) = xvh;
        assert!(
            x.len() == v.len() && x.len() == hv.len(),
            "x has {} entries, v has {}, hv has {}",
            x.len(),
            v.len(),
            hv.len()
        );
        for ((h, &xi), &vi) in hv.iter_mut().zip(x).zip(v) {
            *h = h_term(xi, vi);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::problems::*;

    #[test]
    fn limit_kernels_match_the_hand_written_derivatives() {
        let (v, g) = f_grad(&F_P);
        let (hv, hg) = f_grad_hand(&F_P);
        assert!((v - hv).abs() <= 1e-12 * hv.abs());
        for (a, b) in g.iter().zip(&hg) {
            assert!((a - b).abs() <= 1e-12 * b.abs(), "{a} vs {b}");
        }
        for n in [1, 3, 4, 50, 1001] {
            let x = r_input(n);
            let d = h_direction(n);
            let (mut g, mut hg) = (vec![0.0; n], vec![0.0; n]);
            let y = r_grad((&x, &mut g));
            let hy = r_grad_hand(&x, &mut hg);
            assert!((y - hy).abs() <= 1e-13 * hy.abs(), "n={n}");
            for (a, b) in g.iter().zip(&hg) {
                assert!((a - b).abs() <= 1e-14 * (1.0 + b.abs()), "n={n}");
            }
            let (mut h, mut hh) = (vec![0.0; n], vec![0.0; n]);
            r_hvp((&x, &d, &mut h));
            r_hvp_hand(&x, &d, &mut hh);
            for (a, b) in h.iter().zip(&hh) {
                assert!((a - b).abs() <= 1e-13 * (1.0 + b.abs()), "n={n}");
            }
        }
    }
}
