//! `ferrad::math` against std (problem `M`): one case per function, the same inputs through
//! std's function (the `primal` row: one libm call per element) and through `ferrad::math` under
//! `simd::dispatch_wide` (AVX-512 or AVX2 + FMA when the CPU has them, as the attributes run loops
//! that call math functions) in chunks of 16 elements copied into a
//! local array, the shape the attributes' emitted loops have, so `x primal` is its time over
//! std's. (A plain `iter().map(..).collect()` loop is not that shape: LLVM leaves ln, exp and
//! powf scalar there, several times slower.) The rows must agree to 1e-13 relative
//! (both are within 2 ulp of the true value; the accuracy itself is measured by
//! `ferrad_core::math`'s accuracy test over 10⁷ points a function, see its module docs).

use ferrad::simd::dispatch_wide;

use super::cases::{Case, Mode, ModeKind, Reference, mode};

/// Inputs per function.
const N: usize = 1 << 16;
/// Elements per chunk (as the emitter's wide lanes).
const LANES: usize = 16;

/// One function: its domain for the inputs, std's version and ours over a slice.
struct Fun {
    name: &'static str,
    lo: f64,
    hi: f64,
    std: fn(f64) -> f64,
    ours: fn(&[f64]) -> Vec<f64>,
}

/// A [`Fun`]: `$ours` is the `ferrad::math` call on `$x` through the copy's `$isa`, `$std`
/// std's function. With `tail:`, the lanes call `$ours` and the tail `$tail`, as the emitted
/// loops do for tanh (`isa.tanh_lanes` in the lanes, `isa.tanh` in the tail: the same bits).
macro_rules! fun {
    ($name:literal, $lo:expr, $hi:expr, |$x:ident, $isa:ident| $ours:expr, $std:expr) => {
        fun!($name, $lo, $hi, |$x, $isa| $ours, tail: $ours, $std)
    };
    ($name:literal, $lo:expr, $hi:expr, |$x:ident, $isa:ident| $ours:expr, tail: $tail:expr, $std:expr) => {
        Fun {
            name: $name,
            lo: $lo,
            hi: $hi,
            std: $std,
            ours: |xs: &[f64]| {
                let mut out = vec![0.0; xs.len()];
                dispatch_wide(
                    #[inline(always)]
                    |$isa| {
                        let mut chunks = out.chunks_exact_mut(LANES);
                        for (o, c) in (&mut chunks).zip(xs.chunks_exact(LANES)) {
                            let c: [f64; LANES] = c.try_into().expect("a chunk of LANES");
                            let mut r = [0.0; LANES];
                            for l in 0..LANES {
                                let $x = c[l];
                                r[l] = $ours;
                            }
                            o.copy_from_slice(&r);
                        }
                        let done = xs.len() / LANES * LANES;
                        for (o, &$x) in chunks.into_remainder().iter_mut().zip(&xs[done..]) {
                            *o = $tail;
                        }
                    },
                );
                out
            },
        }
    };
}

fn funs() -> Vec<Fun> {
    vec![
        fun!("exp", -700.0, 700.0, |x, isa| isa.exp(x), f64::exp),
        fun!("exp_m1", -20.0, 20.0, |x, isa| isa.exp_m1(x), f64::exp_m1),
        fun!("ln", 1e-300, 1e300, |x, isa| isa.ln(x), f64::ln),
        fun!("ln_1p", -0.99, 1e6, |x, isa| isa.ln_1p(x), f64::ln_1p),
        fun!("sin", -100.0, 100.0, |x, isa| isa.sin(x), f64::sin),
        fun!("cos", -100.0, 100.0, |x, isa| isa.cos(x), f64::cos),
        fun!("tan", -1.5, 1.5, |x, isa| isa.tan(x), f64::tan),
        fun!("tanh", -20.0, 20.0, |x, isa| isa.tanh_lanes(x), tail: isa.tanh(x), f64::tanh),
        fun!("sinh", -700.0, 700.0, |x, isa| isa.sinh(x), f64::sinh),
        fun!("cosh", -700.0, 700.0, |x, isa| isa.cosh(x), f64::cosh),
        fun!("atan", -1e3, 1e3, |x, isa| isa.atan(x), f64::atan),
        fun!("atan2", -1e3, 1e3, |x, isa| isa.atan2(x, 0.7), |x| x
            .atan2(0.7)),
        fun!("asin", -1.0, 1.0, |x, isa| isa.asin(x), f64::asin),
        fun!("acos", -1.0, 1.0, |x, isa| isa.acos(x), f64::acos),
        fun!("powf", 1e-3, 1e3, |x, isa| isa.powf(x, 1.7), |x| x
            .powf(1.7)),
        fun!("cbrt", -1e300, 1e300, |x, isa| isa.cbrt(x), f64::cbrt),
    ]
}

/// `N` inputs spread over `[lo, hi]` (geometrically when the range spans many decades).
fn inputs(lo: f64, hi: f64) -> Vec<f64> {
    let wide = lo > 0.0 && hi / lo > 1e6;
    (0..N)
        .map(|i| {
            let t = (i as f64 * 0.618_033_988_749_895).fract();
            if wide {
                lo * (hi / lo).powf(t)
            } else {
                lo + (hi - lo) * t
            }
        })
        .collect()
}

/// Largest relative difference between two outputs (each element against its own size).
fn rel_each(got: &[f64], want: &[f64]) -> f64 {
    if got.len() != want.len() {
        return f64::INFINITY;
    }
    got.iter().zip(want).fold(0.0f64, |m, (a, b)| {
        let e = if a == b {
            0.0
        } else {
            (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
        };
        if e.is_nan() { f64::INFINITY } else { m.max(e) }
    })
}

/// One case per function of `ferrad::math` (f64): std against ours.
pub fn cases() -> Vec<Case> {
    funs()
        .into_iter()
        .map(|f| {
            let x = inputs(f.lo, f.hi);
            let want: Vec<f64> = x.iter().map(|&v| (f.std)(v)).collect();
            let (std, ours) = (f.std, f.ours);
            let xs = x.clone();
            let mut base = mode("std", ModeKind::Primal, move || {
                (0.0, xs.iter().map(|&v| std(v)).collect())
            });
            base.note = "f64 method: a libm call per element".into();
            let mut m: Mode = mode("ferrad::math", ModeKind::Exact, move || (0.0, ours(&x)));
            m.note = format!(
                "under simd::dispatch_wide ({})",
                ferrad::simd::level().name()
            );
            m.tol = Some(1e-13);
            let reference = Reference {
                value: None,
                out: want.clone(),
            };
            Case {
                name: format!("math {} ({N} f64)", f.name),
                key: format!("M-{}", f.name),
                reference,
                modes: vec![base, m],
                check: Box::new(move |_, _, out| rel_each(out, &want)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_math_function_agrees_with_std_on_its_inputs() {
        for case in cases() {
            for m in &case.modes {
                let (v, out) = (m.run)(Vec::new());
                let e = (case.check)(m.kind, v, &out);
                assert!(e <= 1e-13, "{} {}: {e:e}", case.name, m.name);
            }
        }
        // and the table names each function once
        assert_eq!(cases().len(), 16);
    }
}
