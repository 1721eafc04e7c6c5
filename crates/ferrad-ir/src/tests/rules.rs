//! No second rule table: every rule emitted as IR through the tracer computes, bit for bit,
//! what ferrad-core's rule computes on `f64`, at ordinary and special points.

use ferrad_core::rules::{Binary, Ternary, Unary};

use crate::builder::FunctionBuilder;
use crate::interp::eval_f64;
use crate::ir::{Op, Type};
use crate::trace::{rule_binary, rule_ternary, rule_unary};
use crate::transform::jvp::{JvpOptions, jvp};
use crate::transform::vjp::{VjpOptions, vjp};

const POINTS: [f64; 16] = [
    -3.7,
    -1.0,
    -0.5,
    -0.0,
    0.0,
    0.25,
    0.9,
    1.0,
    2.5,
    40.0,
    1e300,
    -1e-300,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    3.0,
];

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[test]
fn unary_rules_as_ir_match_ferrad_core_bit_for_bit() {
    let ops = Unary::ALL
        .into_iter()
        .chain([Unary::Powi(1), Unary::Powi(5), Unary::Powi(-1)]);
    for op in ops {
        let mut b = FunctionBuilder::new(op.name());
        let x = b.param(Type::F64);
        let (v, d) = rule_unary(&mut b, op, x);
        let f = b.finish(&[v, d]);
        for x in POINTS {
            let got = eval_f64(&f, &[x]).unwrap();
            let (v, d) = op.rule(x);
            assert!(
                same(got[0], v) && same(got[1], d),
                "{op:?} at {x}: IR {got:?}, rule ({v}, {d})\n{f}"
            );
        }
    }
}

#[test]
fn binary_rules_as_ir_match_ferrad_core_bit_for_bit() {
    for op in Binary::ALL.into_iter().filter(|&o| o != Binary::Rem) {
        let mut b = FunctionBuilder::new(op.name());
        let (x, y) = (b.param(Type::F64), b.param(Type::F64));
        let (v, dx, dy) = rule_binary(&mut b, op, x, y);
        let f = b.finish(&[v, dx, dy]);
        for x in POINTS {
            for y in POINTS {
                let got = eval_f64(&f, &[x, y]).unwrap();
                let (v, dx, dy) = op.rule(x, y);
                assert!(
                    same(got[0], v) && same(got[1], dx) && same(got[2], dy),
                    "{op:?} at ({x}, {y}): IR {got:?}, rule ({v}, {dx}, {dy})\n{f}"
                );
            }
        }
    }
    let mut b = FunctionBuilder::new("mul_add");
    let (x, y, z) = (b.param(Type::F64), b.param(Type::F64), b.param(Type::F64));
    let (v, da, db, dc) = rule_ternary(&mut b, Ternary::MulAdd, x, y, z);
    let f = b.finish(&[v, da, db, dc]);
    for (x, y, z) in [
        (1.5, -2.0, 0.25),
        (0.0, f64::INFINITY, 1.0),
        (f64::NAN, 1.0, 2.0),
    ] {
        let got = eval_f64(&f, &[x, y, z]).unwrap();
        let (v, da, db, dc) = Ternary::MulAdd.rule(x, y, z);
        assert!(same(got[0], v) && same(got[1], da) && same(got[2], db) && same(got[3], dc));
    }
}

#[test]
fn rules_with_branches_become_selects_not_control_flow() {
    let mut b = FunctionBuilder::new("max");
    let (x, y) = (b.param(Type::F64), b.param(Type::F64));
    let _ = rule_binary(&mut b, Binary::Max, x, y);
    let f = b.finish(&[]);
    let mut ops = vec![];
    f.walk(&mut |i| ops.push(f.inst(i).op.clone()));
    assert!(ops.contains(&Op::Select));
    assert!(
        !ops.iter()
            .any(|o| matches!(o, Op::If { .. } | Op::For { .. }))
    );
}

#[test]
#[should_panic(expected = "piecewise-constant function")]
fn a_rule_needing_trunc_is_refused_by_the_tracer() {
    let mut b = FunctionBuilder::new("rem");
    let (x, y) = (b.param(Type::F64), b.param(Type::F64));
    let _ = rule_binary(&mut b, Binary::Rem, x, y);
}

#[test]
fn differentiating_rem_is_a_clear_error() {
    let mut b = FunctionBuilder::new("r");
    let (x, y) = (b.param(Type::F64), b.param(Type::F64));
    let r = b.binary(Binary::Rem, x, y);
    let f = b.finish(&[r]);
    let e = jvp(&f, &JvpOptions::default()).unwrap_err();
    assert!(e.to_string().contains("`rem` needs `trunc`"), "{e}");
    let e = vjp(&f, &VjpOptions::default()).unwrap_err();
    assert!(e.to_string().contains("`rem` needs `trunc`"), "{e}");
}
