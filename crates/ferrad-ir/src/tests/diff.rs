//! `diff_text`: the library side of `ferrad diff`.

use super::progs::*;
use crate::{DiffOptions, EmitKind, Error, Mode, diff_text};

#[test]
fn reverse_ir_output_parses_and_reports_stats() {
    let out = diff_text(
        R,
        &DiffOptions {
            stats: true,
            ..DiffOptions::default()
        },
    )
    .unwrap();
    let first = out.lines().next().unwrap();
    assert!(first.starts_with("// ops: 10 in @r, "), "{out}");
    assert!(
        out.contains("fn @r_vjp(%0: &[f64], %1: &mut [f64], %2: f64) -> (f64)"),
        "{out}"
    );
    // The output, stats comments included, is valid IR text.
    crate::parse::parse_function(&out).unwrap();
}

#[test]
fn forward_width_and_rust_emission() {
    let opts = DiffOptions {
        mode: Mode::Forward,
        width: 4,
        emit: EmitKind::Rust,
        ..DiffOptions::default()
    };
    let out = diff_text(BRANCH, &opts).unwrap();
    assert!(
        out.contains("pub fn branch_jvp(p0: f64, p1: f64, p2: f64, p3: f64, p4: f64, p5: f64, p6: f64, p7: f64, p8: f64, p9: f64) -> (f64, f64, f64, f64, f64)"),
        "{out}"
    );
    let hvp = DiffOptions {
        mode: Mode::ForwardOverReverse,
        ..DiffOptions::default()
    };
    let out = diff_text(R, &hvp).unwrap();
    assert!(out.contains("fn @r_vjp_jvp("), "{out}");
}

#[test]
fn errors_are_clear() {
    let e = diff_text(
        "fn @f(%0: f64) -> (f64) {\n  return %9\n}",
        &DiffOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "parse error at line 2, column 10: use of undefined value `%9` (not defined before this point, or out of scope)"
    );
    let e = diff_text(
        R,
        &DiffOptions {
            function: Some("nope".into()),
            ..DiffOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e,
        Error::Usage("no function `@nope` in the input; it defines @r".into())
    );
    let e = diff_text(
        R,
        &DiffOptions {
            width: 0,
            ..DiffOptions::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e, Error::Usage(_)));
}

#[test]
fn the_root_function_of_a_module_is_differentiated_with_calls_inlined() {
    let src = "fn @sq(%0: f64) -> (f64) {
  %1: f64 = mul %0, %0
  return %1
}

fn @main(%0: f64) -> (f64) {
  %1: f64 = call @sq(%0)
  %2: f64 = sin %1
  return %2
}
";
    let out = diff_text(src, &DiffOptions::default()).unwrap();
    assert!(
        out.starts_with("fn @main_vjp(%0: f64, %1: f64) -> (f64, f64)"),
        "{out}"
    );
    assert!(!out.contains("call"), "{out}");
    let g = crate::parse::parse_function(&out).unwrap();
    let y = crate::interp::eval_f64(&g, &[0.7, 1.0]).unwrap();
    let want = (0.49f64).cos() * 1.4;
    assert!((y[1] - want).abs() < 1e-15);
}

#[test]
fn cli_words_parse() {
    assert_eq!("forward".parse::<Mode>().unwrap(), Mode::Forward);
    assert_eq!("reverse".parse::<Mode>().unwrap(), Mode::Reverse);
    assert_eq!("hvp".parse::<Mode>().unwrap(), Mode::ForwardOverReverse);
    assert_eq!("rust".parse::<EmitKind>().unwrap(), EmitKind::Rust);
    let e = "sideways".parse::<Mode>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown mode `sideways`: expected forward, reverse or hvp"
    );
}
