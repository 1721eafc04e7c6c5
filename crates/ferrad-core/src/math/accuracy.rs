//! The accuracy harness behind the table in [`crate::math`]: max-ulp measurement of every
//! function against a reference, shared by `tests/math.rs` (10^5 points, asserts the bounds)
//! and `examples/math_accuracy.rs` (10^7 points, prints the Markdown table).
//!
//! Reference: for f32 functions, std's f64 function (glibc) at the f32 argument, unrounded —
//! errors are in f32 ulps of that value; for f64 functions, std (glibc), errors in f64 ulps of
//! glibc's result. Mismatched classes (NaN vs number, inf vs finite) count as an infinite error.

/// Float precision of a measured function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// `f64` functions.
    F64,
    /// `f32` functions.
    F32,
}

/// One measured row of the accuracy table.
#[derive(Clone, Debug)]
pub struct Row {
    /// Function name.
    pub name: &'static str,
    /// f64 or f32.
    pub precision: Precision,
    /// Human-readable sampled domain.
    pub domain: &'static str,
    /// Largest error seen, in ulps of the reference.
    pub max_ulp: f64,
    /// An argument (x, y) attaining it (y unused for one-argument functions).
    pub worst: (f64, f64),
    /// Number of points evaluated.
    pub points: u64,
    /// The bound the tests assert.
    pub bound: f64,
}

/// A small deterministic generator (SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }
    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// Magnitude log-uniform in [lo, hi] (0 < lo < hi), with a random sign if `signed`.
    pub fn log_uniform(&mut self, lo: f64, hi: f64, signed: bool) -> f64 {
        let v = (lo.ln() + (hi.ln() - lo.ln()) * self.unit()).exp();
        let v = v.clamp(lo, hi);
        if signed && self.next_u64() & 1 == 1 {
            -v
        } else {
            v
        }
    }
}

/// One piece of a sampled domain.
#[derive(Clone, Copy, Debug)]
pub enum Piece {
    /// Uniform in [lo, hi).
    Uni(f64, f64),
    /// Log-uniform magnitude in [lo, hi], positive.
    Log(f64, f64),
    /// Log-uniform magnitude in [lo, hi], either sign.
    LogS(f64, f64),
}

impl Piece {
    fn sample(self, rng: &mut Rng) -> f64 {
        match self {
            Piece::Uni(a, b) => rng.uniform(a, b),
            Piece::Log(a, b) => rng.log_uniform(a, b, false),
            Piece::LogS(a, b) => rng.log_uniform(a, b, true),
        }
    }
}

/// Special arguments every function is evaluated at (f64).
pub fn specials() -> Vec<f64> {
    let mut v = vec![
        0.0,
        5e-324,
        1e-310,
        f64::MIN_POSITIVE,
        1e-300,
        1e-20,
        1e-8,
        0.5,
        1.0,
        2.0,
        core::f64::consts::FRAC_PI_2,
        core::f64::consts::PI,
        20.0,
        88.72,
        89.5,
        104.0,
        709.78,
        709.79,
        710.47,
        710.48,
        745.13,
        746.0,
        1e10,
        16_777_216.0,
        1e300,
        f64::MAX,
        f64::INFINITY,
    ];
    let neg: Vec<f64> = v.iter().map(|x| -x).collect();
    v.extend(neg);
    v.push(f64::NAN);
    v
}

/// Special arguments (f32).
pub fn specials_f32() -> Vec<f32> {
    let mut v: Vec<f32> = specials().iter().map(|&x| x as f32).collect();
    v.extend([
        1e-45f32,
        1e-40,
        f32::MIN_POSITIVE,
        f32::MAX,
        -1e-45,
        -1e-40,
        -f32::MAX,
    ]);
    v
}

/// Error of `got` in f64 ulps of the f64 reference `want`.
pub fn ulp_err_f64(got: f64, want: f64) -> f64 {
    if got.is_nan() && want.is_nan() || got == want {
        return 0.0;
    }
    if !got.is_finite() || !want.is_finite() {
        return f64::INFINITY;
    }
    // ulp of want: 2^(exponent − 52), floor 2^-1074 (built from bits: powi underflows)
    let field = (want.abs().to_bits() >> 52).max(1);
    let ulp = if field > 52 {
        f64::from_bits((field - 52) << 52)
    } else {
        f64::from_bits(1 << (field - 1))
    };
    (got - want).abs() / ulp
}

/// Error of `got` in f32 ulps of the (f64, unrounded) reference `want`.
pub fn ulp_err_f32(got: f32, want: f64) -> f64 {
    let rounded = want as f32;
    if got.is_nan() && want.is_nan() || (got == rounded && !(got.is_finite() && want.is_finite())) {
        return 0.0;
    }
    if !got.is_finite() || !want.is_finite() {
        return f64::INFINITY;
    }
    // ulp of want in the f32 format (subnormal floor 2^-149)
    let e = if want == 0.0 {
        -149
    } else {
        (want.abs().log2().floor() as i32).max(-126) - 23
    };
    (got as f64 - want).abs() / 2f64.powi(e)
}

type F1 = fn(f64) -> f64;
type F2 = fn(f64, f64) -> f64;
type G1 = fn(f32) -> f32;
type G2 = fn(f32, f32) -> f32;

/// A measured function with its f64 and f32 forms, references and domains.
struct Case {
    name: &'static str,
    dom64: &'static str,
    dom32: &'static str,
    pieces64: &'static [Piece],
    pieces32: &'static [Piece],
    kind: Kind,
    /// sin/cos/tan: specials beyond TRIG_MAX are outside the documented domain.
    trig: bool,
}

enum Kind {
    One {
        ours: F1,
        ours32: G1,
        reference: F1,
    },
    /// sin_cos: both components, measured against sin and cos.
    SinCos,
    Two {
        ours: F2,
        ours32: G2,
        reference: F2,
        sample: fn(&mut Rng, bool) -> (f64, f64),
    },
}

use super::*;
use Piece::*;

const TINY: f64 = 1e-300;
const TINY32: f64 = 1e-44;

fn cases() -> Vec<Case> {
    fn one(ours: F1, ours32: G1, reference: F1) -> Kind {
        Kind::One {
            ours,
            ours32,
            reference,
        }
    }
    const TRIG64: &[Piece] = &[
        Uni(-7.0, 7.0),
        LogS(TINY, 16_777_216.0),
        Uni(-16_777_216.0, 16_777_216.0),
    ];
    const TRIG32: &[Piece] = &[
        Uni(-7.0, 7.0),
        LogS(TINY32, 16_777_216.0),
        Uni(-16_777_216.0, 16_777_216.0),
    ];
    vec![
        Case {
            name: "exp",
            trig: false,
            dom64: "[-745.2, 709.8]",
            dom32: "[-103.9, 88.7]",
            pieces64: &[Uni(-745.2, 709.8), LogS(TINY, 745.0), Uni(-2.0, 2.0)],
            pieces32: &[Uni(-103.9, 88.7), LogS(TINY32, 103.0), Uni(-2.0, 2.0)],
            kind: one(exp, exp_f32, f64::exp),
        },
        Case {
            name: "exp_m1",
            trig: false,
            dom64: "[-40, 709.8]",
            dom32: "[-20, 88.7]",
            pieces64: &[Uni(-40.0, 709.7), LogS(TINY, 709.0), Uni(-2.0, 2.0)],
            pieces32: &[Uni(-20.0, 88.7), LogS(TINY32, 88.0), Uni(-2.0, 2.0)],
            kind: one(exp_m1, exp_m1_f32, f64::exp_m1),
        },
        Case {
            name: "ln",
            trig: false,
            dom64: "(0, MAX] incl. subnormals",
            dom32: "(0, MAX] incl. subnormals",
            pieces64: &[Log(5e-324, f64::MAX), Uni(0.5, 2.0), Uni(0.0, 1e3)],
            pieces32: &[Log(1.5e-45, 3.4e38), Uni(0.5, 2.0), Uni(0.0, 1e3)],
            kind: one(ln, ln_f32, f64::ln),
        },
        Case {
            name: "ln_1p",
            trig: false,
            dom64: "(-1, MAX]",
            dom32: "(-1, MAX]",
            pieces64: &[Uni(-1.0, 2.0), LogS(TINY, 0.999), Log(TINY, f64::MAX)],
            pieces32: &[Uni(-1.0, 2.0), LogS(TINY32, 0.999), Log(TINY32, 3.4e38)],
            kind: one(ln_1p, ln_1p_f32, f64::ln_1p),
        },
        Case {
            name: "sin",
            trig: true,
            dom64: "|x| <= 2^24",
            dom32: "|x| <= 2^24",
            pieces64: TRIG64,
            pieces32: TRIG32,
            kind: one(sin, sin_f32, f64::sin),
        },
        Case {
            name: "cos",
            trig: true,
            dom64: "|x| <= 2^24",
            dom32: "|x| <= 2^24",
            pieces64: TRIG64,
            pieces32: TRIG32,
            kind: one(cos, cos_f32, f64::cos),
        },
        Case {
            name: "sin_cos",
            trig: true,
            dom64: "|x| <= 2^24",
            dom32: "|x| <= 2^24",
            pieces64: TRIG64,
            pieces32: TRIG32,
            kind: Kind::SinCos,
        },
        Case {
            name: "tan",
            trig: true,
            dom64: "|x| <= 2^24",
            dom32: "|x| <= 2^24",
            pieces64: TRIG64,
            pieces32: TRIG32,
            kind: one(tan, tan_f32, f64::tan),
        },
        Case {
            name: "tanh",
            trig: false,
            dom64: "all",
            dom32: "all",
            pieces64: &[Uni(-20.0, 20.0), LogS(TINY, 1e3), Uni(-1.0, 1.0)],
            pieces32: &[Uni(-10.0, 10.0), LogS(TINY32, 1e3), Uni(-1.0, 1.0)],
            kind: one(tanh, tanh_f32, f64::tanh),
        },
        Case {
            name: "sinh",
            trig: false,
            dom64: "|x| <= 710.4",
            dom32: "|x| <= 89.4",
            pieces64: &[Uni(-710.4, 710.4), LogS(TINY, 710.4), Uni(-2.0, 2.0)],
            pieces32: &[Uni(-89.4, 89.4), LogS(TINY32, 89.4), Uni(-2.0, 2.0)],
            kind: one(sinh, sinh_f32, f64::sinh),
        },
        Case {
            name: "cosh",
            trig: false,
            dom64: "|x| <= 710.4",
            dom32: "|x| <= 89.4",
            pieces64: &[Uni(-710.4, 710.4), LogS(TINY, 710.4), Uni(-2.0, 2.0)],
            pieces32: &[Uni(-89.4, 89.4), LogS(TINY32, 89.4), Uni(-2.0, 2.0)],
            kind: one(cosh, cosh_f32, f64::cosh),
        },
        Case {
            name: "atan",
            trig: false,
            dom64: "all",
            dom32: "all",
            pieces64: &[Uni(-4.0, 4.0), LogS(TINY, 1e300)],
            pieces32: &[Uni(-4.0, 4.0), LogS(TINY32, 3e38)],
            kind: one(atan, atan_f32, f64::atan),
        },
        Case {
            name: "atan2",
            trig: false,
            dom64: "all (y, x)",
            dom32: "all (y, x)",
            pieces64: &[],
            pieces32: &[],
            kind: Kind::Two {
                ours: atan2,
                ours32: atan2_f32,
                reference: f64::atan2,
                sample: |rng, f32| {
                    let hi = if f32 { 3e38 } else { 1e300 };
                    let lo = if f32 { TINY32 } else { TINY };
                    if rng.next_u64() & 1 == 0 {
                        (rng.log_uniform(lo, hi, true), rng.log_uniform(lo, hi, true))
                    } else {
                        (rng.uniform(-4.0, 4.0), rng.uniform(-4.0, 4.0))
                    }
                },
            },
        },
        Case {
            name: "asin",
            trig: false,
            dom64: "[-1, 1]",
            dom32: "[-1, 1]",
            pieces64: &[Uni(-1.0, 1.0), LogS(TINY, 1.0)],
            pieces32: &[Uni(-1.0, 1.0), LogS(TINY32, 1.0)],
            kind: one(asin, asin_f32, f64::asin),
        },
        Case {
            name: "acos",
            trig: false,
            dom64: "[-1, 1]",
            dom32: "[-1, 1]",
            pieces64: &[Uni(-1.0, 1.0), LogS(TINY, 1.0)],
            pieces32: &[Uni(-1.0, 1.0), LogS(TINY32, 1.0)],
            kind: one(acos, acos_f32, f64::acos),
        },
        Case {
            name: "powf",
            trig: false,
            dom64: "x > 0 with |y ln x| <= 709; x < 0 with integral |y| <= 200",
            dom32: "x > 0 with |y ln x| <= 88; x < 0 with integral |y| <= 30",
            pieces64: &[],
            pieces32: &[],
            kind: Kind::Two {
                ours: powf,
                ours32: powf_f32,
                reference: f64::powf,
                sample: |rng, f32| {
                    let (lo, hi, lim, ymax) = if f32 {
                        (TINY32, 3e38, 88.0, 30.0)
                    } else {
                        (TINY, 1e300, 709.0, 200.0)
                    };
                    match rng.next_u64() % 4 {
                        0 | 1 => {
                            let x = rng.log_uniform(lo, hi, false);
                            let m = lim / x.ln().abs().max(1e-300);
                            let m = m.min(1e30);
                            (x, rng.uniform(-m, m))
                        }
                        2 => {
                            let x = rng.uniform(0.0, 4.0);
                            (x, rng.uniform(-20.0, 20.0))
                        }
                        _ => {
                            let x = -rng.uniform(0.1, 10.0);
                            let y = (rng.uniform(-ymax, ymax)).round();
                            let y = y
                                .clamp(-lim / x.abs().ln().abs(), lim / x.abs().ln().abs())
                                .trunc();
                            (x, y)
                        }
                    }
                },
            },
        },
        Case {
            name: "cbrt",
            trig: false,
            dom64: "all incl. subnormals",
            dom32: "all incl. subnormals",
            pieces64: &[LogS(5e-324, f64::MAX), Uni(-10.0, 10.0)],
            pieces32: &[LogS(1.5e-45, 3.4e38), Uni(-10.0, 10.0)],
            kind: one(cbrt, cbrt_f32, f64::cbrt),
        },
    ]
}

/// The names of all measured functions, in table order.
pub fn names() -> Vec<&'static str> {
    cases().iter().map(|c| c.name).collect()
}

/// The bound `tests/math.rs` asserts for a function (ulps, see the module docs).
pub fn bound(name: &str, precision: Precision) -> f64 {
    match precision {
        Precision::F64 => 2.0,
        // native f32 kernels
        Precision::F32 if matches!(name, "exp" | "ln" | "sin" | "cos" | "sin_cos") => 2.0,
        // f32 functions evaluated through the f64 kernels: one final rounding
        Precision::F32 => 1.0,
    }
}

fn case(name: &str) -> Case {
    cases()
        .into_iter()
        .find(|c| c.name == name)
        .expect("unknown function")
}

/// Calls `visit(a, b)` with every argument [`measure`] evaluates `case` at, in its order: the
/// special values (all pairs of them for two-argument functions), then `points` random ones
/// (`b` is the second argument of atan2/powf, 0 for the others).
fn arguments(case: &Case, f32: bool, points: u64, seed: u64, mut visit: impl FnMut(f64, f64)) {
    let mut rng = Rng::new(seed ^ (case.name.len() as u64 * 0x1234_5678_9abc));
    let in_domain = |x: f64| !(case.trig && x.is_finite() && x.abs() > TRIG_MAX);
    let sp: Vec<f64> = if f32 {
        specials_f32().iter().map(|&v| v as f64).collect()
    } else {
        specials()
    }
    .into_iter()
    .filter(|&x| in_domain(x))
    .collect();
    match case.kind {
        Kind::One { .. } | Kind::SinCos => {
            let pieces = if f32 { case.pieces32 } else { case.pieces64 };
            for &x in &sp {
                visit(x, 0.0);
            }
            for i in 0..points {
                visit(
                    pieces[(i % pieces.len() as u64) as usize].sample(&mut rng),
                    0.0,
                );
            }
        }
        Kind::Two { sample, .. } => {
            for &a in &sp {
                for &b in &sp {
                    visit(a, b);
                }
            }
            for _ in 0..points {
                let (a, b) = sample(&mut rng, f32);
                visit(a, b);
            }
        }
    }
}

/// Measure one function (by name) in one precision over `points` random points plus the
/// special values (and, for two-argument functions, all pairs of them).
pub fn measure(name: &str, precision: Precision, points: u64, seed: u64) -> Row {
    let case = case(name);
    let f32 = precision == Precision::F32;
    let mut worst = (0.0f64, (0.0, 0.0));
    let mut count = 0u64;
    let mut note = |err: f64, x: f64, y: f64| {
        count += 1;
        if err > worst.0 || err.is_nan() {
            worst = (err, (x, y));
        }
    };
    let eval = |x: f64, y: f64| match case.kind {
        Kind::One {
            ours,
            ours32,
            reference,
        } => {
            if f32 {
                let xf = x as f32;
                ulp_err_f32(ours32(xf), reference(xf as f64))
            } else {
                ulp_err_f64(ours(x), reference(x))
            }
        }
        Kind::SinCos => {
            if f32 {
                let xf = x as f32;
                let (s, c) = sin_cos_f32(xf);
                let xd = xf as f64;
                ulp_err_f32(s, xd.sin()).max(ulp_err_f32(c, xd.cos()))
            } else {
                let (s, c) = sin_cos(x);
                ulp_err_f64(s, x.sin()).max(ulp_err_f64(c, x.cos()))
            }
        }
        Kind::Two {
            ours,
            ours32,
            reference,
            ..
        } => {
            if f32 {
                let (xf, yf) = (x as f32, y as f32);
                ulp_err_f32(ours32(xf, yf), reference(xf as f64, yf as f64))
            } else {
                ulp_err_f64(ours(x, y), reference(x, y))
            }
        }
    };
    arguments(&case, f32, points, seed, |x, y| note(eval(x, y), x, y));
    Row {
        name: case.name,
        precision,
        domain: if f32 { case.dom32 } else { case.dom64 },
        max_ulp: worst.0,
        worst: worst.1,
        points: count,
        bound: bound(case.name, precision),
    }
}

/// The f64 arguments [`measure`] evaluates `name` at, in the same order, with our results:
/// `visit(a, b, results)`, where `b` is the second argument of atan2/powf (0 for the others)
/// and `results` holds the one value (sin and cos for `sin_cos`). For measuring against a
/// reference outside Rust (`tools/mpfr_accuracy.py`).
pub fn for_each_f64(name: &str, points: u64, seed: u64, mut visit: impl FnMut(f64, f64, &[f64])) {
    let case = case(name);
    arguments(&case, false, points, seed, |a, b| match case.kind {
        Kind::One { ours, .. } => visit(a, b, &[ours(a)]),
        Kind::SinCos => {
            let (s, c) = sin_cos(a);
            visit(a, b, &[s, c]);
        }
        Kind::Two { ours, .. } => visit(a, b, &[ours(a, b)]),
    });
}

/// The Markdown table of `rows`.
pub fn markdown(rows: &[Row]) -> String {
    let mut s = String::from(
        "| function | precision | domain | max ulp | bound | points | reference |\n|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let (p, reference) = match r.precision {
            Precision::F64 => ("f64", "glibc f64 (ulps from glibc)"),
            Precision::F32 => ("f32", "glibc f64, unrounded"),
        };
        s.push_str(&format!(
            "| {} | {} | {} | {:.3} | {} | {:.1e} | {} |\n",
            r.name,
            p,
            r.domain.replace('|', "\\|"),
            r.max_ulp,
            r.bound,
            r.points as f64,
            reference
        ));
    }
    s
}
