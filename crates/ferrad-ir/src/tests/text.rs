//! The text form: round trips, parse errors with positions, verifier and interpreter errors.

use super::progs::*;
use crate::interp::{Arg, InterpError, run_function};
use crate::parse::{parse_function, parse_module};
use crate::print::{print_function, print_module};

#[test]
fn every_sample_round_trips() {
    for src in [R, PROD, BRANCH, STORE, NESTED, CUSTOM] {
        let f = parse(src);
        let text = print_function(&f);
        assert_eq!(text, src, "the samples are written in canonical form");
        assert_eq!(print_function(&parse_function(&text).unwrap()), text);
    }
    let f = traced_f(3);
    let text = print_function(&f);
    assert_eq!(print_function(&parse_function(&text).unwrap()), text);
}

#[test]
fn special_floats_round_trip() {
    let src = "fn @c() -> (f64, f64, f64, f64, f64, f32) {
  %0: f64 = const NaN
  %1: f64 = const inf
  %2: f64 = const -inf
  %3: f64 = const -0.0
  %4: f64 = const 1e-300
  %5: f32 = const 0.1
  return %0, %1, %2, %3, %4, %5
}
";
    let f = parse_function(src).unwrap();
    assert_eq!(print_function(&f), src);
}

#[test]
fn modules_with_calls_round_trip_and_inline() {
    let src = "fn @sq(%0: f64) -> (f64) {
  %1: f64 = mul %0, %0
  return %1
}

fn @main(%0: f64) -> (f64) {
  %1: f64 = call @sq(%0)
  %2: f64 = call @sq(%1)
  return %2
}
";
    let m = parse_module(src).unwrap();
    assert_eq!(print_module(&m), src);
    let f = crate::transform::inline::inline_calls(&m, m.find("main").unwrap()).unwrap();
    assert_eq!(crate::interp::eval_f64(&f, &[3.0]).unwrap(), vec![81.0]);
    let out = crate::interp::run(
        &m,
        m.find("main").unwrap(),
        &mut [Arg::F64(3.0)],
        &crate::interp::NoRules,
    )
    .unwrap();
    assert_eq!(out[0].as_f64(), Some(81.0));
}

/// One malformed input per line: (text, line, column, part of the message).
#[test]
fn parse_errors_name_line_column_and_cause() {
    let cases: &[(&str, usize, usize, &str)] = &[
        (
            "fn @f(%0: f64) -> (f64) {\n  return %1\n}",
            2,
            10,
            "undefined value `%1`",
        ),
        (
            "fn @f(%0: f64) -> (f64) {\n  %1: f64 = sine %0\n  return %1\n}",
            2,
            13,
            "unknown operation `sine`",
        ),
        (
            "fn @f(%0: f65) -> (f64) {\n  return %0\n}",
            1,
            11,
            "unknown type `f65`",
        ),
        (
            "fn @f(%0: f64) -> (f64) {\n  %1: f64 = add %0\n  return %1\n}",
            2,
            13,
            "`add` takes 2 argument(s), 1 given",
        ),
        (
            "fn @f(%0: f64) -> (f64) {\n  %0: f64 = sin %0\n  return %0\n}",
            2,
            3,
            "defined twice",
        ),
        (
            "fn @f(%0: f64) -> (f64) {\n  %1: i64 = sin %0\n  return %0\n}",
            2,
            3,
            "expects 1 float argument",
        ),
        (
            "fn @f(%0: f64) -> (i64) {\n  return %0\n}",
            2,
            3,
            "`return` gives types (f64) but the signature says (i64)",
        ),
        (
            "fn @f(%0: &[f64]) -> () {\n  %1: i64 = const 0\n  store %0[%1], %1\n  return\n}",
            3,
            3,
            "expects (&mut [f64], i64, f64)",
        ),
        (
            "fn @f(%0: &[f64], %1: f64) -> () {\n  %2: i64 = const 0\n  store %0[%2], %1\n  return\n}",
            3,
            3,
            "only `&mut [f64]` buffers can be written",
        ),
        (
            "fn @f(%0: f64) -> (f64) {\n  %1: i64 = const 0\n  %2: f64 = for %3 = %1 to %1 carry(%4 = %0) {\n    %5: f64 = sin %4\n    yield %5\n  }\n  return %5\n}",
            7,
            10,
            "undefined value `%5`",
        ),
        (
            "fn @f(%0: f64) -> (f64) {\n  %1: i64 = const 0\n  %2: f64 = for %3 = %1 to %1 carry(%4 = %0) {\n    yield %4, %4\n  }\n  return %2\n}",
            3,
            3,
            "loop-carried arity",
        ),
        (
            "fn @f(%0: f64) -> (f64) {\n  %1: f64 = call @g(%0)\n  return %1\n}",
            2,
            18,
            "unknown function `@g`",
        ),
        (
            "fn @f(%0: f64) -> (f64) {\n  %1: f64 = const 1.2.3\n  return %1\n}",
            2,
            19,
            "not a valid f64 constant",
        ),
        (
            "fn @f(%0: f64) -> (f64) {\n  %1: f64 = sin %0",
            2,
            19,
            "expected an instruction or `return`",
        ),
        (
            "fn @f(%0: f64) -> (f64) {\n  %1: f64 = sin %0 $\n}",
            2,
            20,
            "unexpected character `$`",
        ),
        ("", 1, 1, "expected at least one function"),
    ];
    for &(src, line, col, msg) in cases {
        let e = parse_module(src).expect_err(src);
        assert!(e.msg.contains(msg), "{src:?}: got `{e}`, want `{msg}`");
        assert_eq!((e.line, e.col), (line, col), "{src:?}: {e}");
    }
}

#[test]
fn interpreter_reports_out_of_bounds_and_bad_arguments() {
    let f = parse(R);
    let g = parse_function(
        "fn @g(%0: &[f64]) -> (f64) {\n  %1: i64 = len %0\n  %2: f64 = load %0[%1]\n  return %2\n}",
    )
    .unwrap();
    assert_eq!(
        run_function(&g, &mut [Arg::Buf(vec![1.0, 2.0])]),
        Err(InterpError::OutOfBounds {
            index: 2,
            len: 2,
            op: "load"
        })
    );
    assert!(matches!(
        run_function(&f, &mut [Arg::F64(1.0)]),
        Err(InterpError::BadArgs(_))
    ));
    assert!(matches!(
        run_function(&f, &mut []),
        Err(InterpError::BadArgs(_))
    ));
    let c = parse(CUSTOM);
    assert!(matches!(
        run_function(&c, &mut [Arg::F64(1.0), Arg::F64(2.0)]),
        Err(InterpError::UnknownRule(n)) if n == "polar"
    ));
    let msg = InterpError::OutOfBounds {
        index: 2,
        len: 2,
        op: "load",
    }
    .to_string();
    assert_eq!(
        msg,
        "load index out of bounds: the len is 2 but the index is 2"
    );
}

#[test]
fn empty_and_reverse_loops_follow_the_semantics() {
    let src = "fn @f(%0: i64, %1: i64) -> (f64) {
  %2: f64 = const 0.0
  %3: f64 = const 10.0
  %4: f64 = for rev %5 = %0 to %1 carry(%6 = %2) {
    %7: f64 = cast %5
    %8: f64 = mul %6, %3
    %9: f64 = add %8, %7
    yield %9
  }
  return %4
}";
    let f = parse_function(src).unwrap();
    let run = |lo, hi| {
        run_function(&f, &mut [Arg::I64(lo), Arg::I64(hi)]).unwrap()[0]
            .as_f64()
            .unwrap()
    };
    assert_eq!(run(1, 4), 321.0); // visits 3, 2, 1
    assert_eq!(run(4, 1), 0.0);
}

#[test]
fn recursion_is_an_error_not_a_crash() {
    let src = "fn @loop(%0: f64) -> (f64) {
  %1: f64 = call @loop(%0)
  return %1
}
";
    let m = parse_module(src).unwrap();
    let e = crate::interp::run(
        &m,
        crate::ir::FuncId(0),
        &mut [Arg::F64(1.0)],
        &crate::interp::NoRules,
    )
    .unwrap_err();
    assert_eq!(e, InterpError::CallDepth("loop".into()));
    let e = crate::transform::inline::inline_calls(&m, crate::ir::FuncId(0)).unwrap_err();
    assert!(e.to_string().contains("recursive"), "{e}");
}
