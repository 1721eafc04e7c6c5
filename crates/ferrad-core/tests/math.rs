//! `ferrad_core::math`: accuracy against std (10^5 points per function, the bounds of the
//! table in the module docs) and the class of every special value (±0, subnormals, ±inf, NaN)
//! against std.

use ferrad_core::math::{self, accuracy};

const POINTS: u64 = 100_000;

fn check_accuracy(precision: accuracy::Precision) {
    let mut failures = Vec::new();
    let mut rows = Vec::new();
    for name in accuracy::names() {
        let row = accuracy::measure(name, precision, POINTS, 7);
        if row.max_ulp > row.bound || row.max_ulp.is_nan() {
            failures.push(format!(
                "{name} ({precision:?}): {} ulp > {} at {:?}",
                row.max_ulp, row.bound, row.worst
            ));
        }
        rows.push(row);
    }
    println!("{}", accuracy::markdown(&rows));
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn accuracy_f64() {
    check_accuracy(accuracy::Precision::F64);
}

#[test]
fn accuracy_f32() {
    check_accuracy(accuracy::Precision::F32);
}

/// std's value of the function `name` at (a, b), as `accuracy` measures against.
fn std_values(name: &str, a: f64, b: f64) -> Vec<f64> {
    match name {
        "exp" => vec![a.exp()],
        "exp_m1" => vec![a.exp_m1()],
        "ln" => vec![a.ln()],
        "ln_1p" => vec![a.ln_1p()],
        "sin" => vec![a.sin()],
        "cos" => vec![a.cos()],
        "sin_cos" => vec![a.sin(), a.cos()],
        "tan" => vec![a.tan()],
        "tanh" => vec![a.tanh()],
        "sinh" => vec![a.sinh()],
        "cosh" => vec![a.cosh()],
        "atan" => vec![a.atan()],
        "atan2" => vec![a.atan2(b)],
        "asin" => vec![a.asin()],
        "acos" => vec![a.acos()],
        "powf" => vec![a.powf(b)],
        "cbrt" => vec![a.cbrt()],
        _ => panic!("no std function for {name}"),
    }
}

#[test]
fn the_exported_points_are_the_measured_ones_with_our_results() {
    // `for_each_f64` feeds tools/mpfr_accuracy.py: the arguments `measure` takes, as many, and
    // our results at them (so the same worst error against std).
    for name in accuracy::names() {
        let row = accuracy::measure(name, accuracy::Precision::F64, 500, 11);
        let mut count = 0u64;
        let mut worst = 0.0f64;
        accuracy::for_each_f64(name, 500, 11, |a, b, results| {
            count += 1;
            let want = std_values(name, a, b);
            assert_eq!(results.len(), want.len(), "{name}");
            for (&got, &w) in results.iter().zip(&want) {
                worst = worst.max(accuracy::ulp_err_f64(got, w));
            }
        });
        assert_eq!(count, row.points, "{name}");
        assert_eq!(worst, row.max_ulp, "{name}");
    }
}

/// NaN, ±inf, ±0, or the sign of a finite nonzero value.
fn class(v: f64) -> &'static str {
    if v.is_nan() {
        "NaN"
    } else if v == f64::INFINITY {
        "+inf"
    } else if v == f64::NEG_INFINITY {
        "-inf"
    } else if v == 0.0 {
        if v.is_sign_negative() { "-0" } else { "+0" }
    } else if v < 0.0 {
        "-finite"
    } else {
        "+finite"
    }
}

type Pair = (&'static str, fn(f64) -> f64, fn(f64) -> f64);

fn unary() -> Vec<Pair> {
    vec![
        ("exp", math::exp, f64::exp),
        ("exp_m1", math::exp_m1, f64::exp_m1),
        ("ln", math::ln, f64::ln),
        ("ln_1p", math::ln_1p, f64::ln_1p),
        ("sin", math::sin, f64::sin),
        ("cos", math::cos, f64::cos),
        ("sin_cos.0", |x| math::sin_cos(x).0, f64::sin),
        ("sin_cos.1", |x| math::sin_cos(x).1, f64::cos),
        ("tan", math::tan, f64::tan),
        ("tanh", math::tanh, f64::tanh),
        ("sinh", math::sinh, f64::sinh),
        ("cosh", math::cosh, f64::cosh),
        ("atan", math::atan, f64::atan),
        ("asin", math::asin, f64::asin),
        ("acos", math::acos, f64::acos),
        ("cbrt", math::cbrt, f64::cbrt),
    ]
}

type Pair32 = (&'static str, fn(f32) -> f32, fn(f32) -> f32);
type Pair2 = (&'static str, fn(f64, f64) -> f64, fn(f64, f64) -> f64);
type Pair2f32 = (&'static str, fn(f32, f32) -> f32, fn(f32, f32) -> f32);

fn unary32() -> Vec<Pair32> {
    vec![
        ("exp", math::exp_f32, f32::exp),
        ("exp_m1", math::exp_m1_f32, f32::exp_m1),
        ("ln", math::ln_f32, f32::ln),
        ("ln_1p", math::ln_1p_f32, f32::ln_1p),
        ("sin", math::sin_f32, f32::sin),
        ("cos", math::cos_f32, f32::cos),
        ("sin_cos.0", |x| math::sin_cos_f32(x).0, f32::sin),
        ("sin_cos.1", |x| math::sin_cos_f32(x).1, f32::cos),
        ("tan", math::tan_f32, f32::tan),
        ("tanh", math::tanh_f32, f32::tanh),
        ("sinh", math::sinh_f32, f32::sinh),
        ("cosh", math::cosh_f32, f32::cosh),
        ("atan", math::atan_f32, f32::atan),
        ("asin", math::asin_f32, f32::asin),
        ("acos", math::acos_f32, f32::acos),
        ("cbrt", math::cbrt_f32, f32::cbrt),
    ]
}

fn is_trig(name: &str) -> bool {
    name.starts_with("sin") || name.starts_with("cos") || name == "tan"
}

#[test]
fn special_values_match_std_class() {
    let mut bad = Vec::new();
    for (name, ours, std) in unary() {
        for x in accuracy::specials() {
            let (a, b) = (ours(x), std(x));
            // beyond TRIG_MAX only "a number, not NaN" is promised for sin/cos/tan
            if is_trig(name) && x.is_finite() && x.abs() > math::TRIG_MAX {
                if a.is_nan() {
                    bad.push(format!("{name}({x:e}) = NaN"));
                }
                continue;
            }
            if class(a) != class(b) {
                bad.push(format!("{name}({x:e}) = {a:e}, std {b:e}"));
            }
        }
    }
    for (name, ours, std) in unary32() {
        for x in accuracy::specials_f32() {
            let (a, b) = (ours(x), std(x));
            if is_trig(name) && x.is_finite() && x.abs() as f64 > math::TRIG_MAX {
                if a.is_nan() {
                    bad.push(format!("{name}_f32({x:e}) = NaN"));
                }
                continue;
            }
            if class(a as f64) != class(b as f64) {
                bad.push(format!("{name}_f32({x:e}) = {a:e}, std {b:e}"));
            }
        }
    }
    let two: [Pair2; 2] = [
        ("atan2", math::atan2, f64::atan2),
        ("powf", math::powf, f64::powf),
    ];
    let mut sp = accuracy::specials();
    sp.extend([3.0, -3.0, 0.5, -0.5, 1.5, -1.5, 1e20, -1e20]);
    for (name, ours, std) in two {
        for &a in &sp {
            for &b in &sp {
                let (r, s) = (ours(a, b), std(a, b));
                if class(r) != class(s) {
                    bad.push(format!("{name}({a:e}, {b:e}) = {r:e}, std {s:e}"));
                }
            }
        }
    }
    let two32: [Pair2f32; 2] = [
        ("atan2", math::atan2_f32, f32::atan2),
        ("powf", math::powf_f32, f32::powf),
    ];
    let sp32: Vec<f32> = sp.iter().map(|&v| v as f32).collect();
    for (name, ours, std) in two32 {
        for &a in &sp32 {
            for &b in &sp32 {
                let (r, s) = (ours(a, b), std(a, b));
                if class(r as f64) != class(s as f64) {
                    bad.push(format!("{name}_f32({a:e}, {b:e}) = {r:e}, std {s:e}"));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn beyond_trig_max_stays_bounded() {
    let mut rng = accuracy::Rng::new(3);
    for _ in 0..10_000 {
        let x = rng.log_uniform(math::TRIG_MAX, f64::MAX, true);
        for v in [
            math::sin(x),
            math::cos(x),
            math::sin_cos(x).0,
            math::sin_cos(x).1,
        ] {
            assert!((-1.0..=1.0).contains(&v), "{x:e} -> {v}");
        }
    }
}

#[test]
fn generic_trait_matches_free_functions() {
    use math::Elementary;
    assert_eq!(Elementary::exp(0.3f64), math::exp(0.3));
    assert_eq!(Elementary::exp(0.3f32), math::exp_f32(0.3));
    assert_eq!(Elementary::powf(1.7f64, 2.5), math::powf(1.7, 2.5));
    assert_eq!(Elementary::atan2(1.0f32, -2.0), math::atan2_f32(1.0, -2.0));
}
