//! Printed snapshots of the transforms on small inputs (what a reviewer reads), activity, the
//! tracer's branch handling, f32 and the verifier on builder-made IR.

use expect_test::expect;
use ferrad_core::prelude::*;

use crate::activity::analyze;
use crate::builder::FunctionBuilder;
use crate::interp::{Arg, Val, eval_f64, run_function};
use crate::ir::*;
use crate::opt::{OptOptions, optimize};
use crate::parse::parse_function;
use crate::print::print_function;
use crate::trace::trace_fn;
use crate::transform::jvp::{JvpOptions, jvp};
use crate::transform::vjp::{VjpOptions, vjp};

const MIXED: &str = "fn @m(%0: f64, %1: f64) -> (f64) {
  %2: f64 = sin %0
  %3: f64 = exp %1
  %4: f64 = mul %2, %3
  return %4
}";

#[test]
fn activity_marks_what_depends_on_active_inputs() {
    let f = parse_function(MIXED).unwrap();
    let a = analyze(&f, &[true, false]);
    let names: Vec<bool> = (0..f.values.len() as u32)
        .map(|v| a.is_active(Value(v)))
        .collect();
    // %0 sin(%0) and the product are active; %1 and exp(%1) are not.
    assert_eq!(names, vec![true, false, true, false, true]);
}

#[test]
fn jvp_emits_tangents_only_for_active_values() {
    let f = parse_function(MIXED).unwrap();
    let g = jvp(
        &f,
        &JvpOptions {
            width: 2,
            active: Some(vec![true, false]),
        },
    )
    .unwrap();
    let (g, _) = optimize(&g, &OptOptions::default());
    expect![[r#"
        fn @m_jvp(%0: f64, %1: f64, %2: f64, %3: f64) -> (f64, f64, f64) {
          %4: f64 = sin %0
          %5: f64 = cos %0
          %6: f64 = mul %5, %1
          %7: f64 = mul %5, %2
          %8: f64 = exp %3
          %9: f64 = mul %4, %8
          %10: f64 = mul %8, %6
          %11: f64 = mul %8, %7
          return %9, %10, %11
        }
    "#]]
    .assert_eq(&print_function(&g));
}

#[test]
fn vjp_snapshot_straight_line() {
    let f = parse_function(MIXED).unwrap();
    let g = vjp(&f, &VjpOptions::default()).unwrap();
    let (g, stats) = optimize(&g, &OptOptions::default());
    assert!(stats.after < stats.before, "{stats}");
    expect![[r#"
        fn @m_vjp(%0: f64, %1: f64, %2: f64) -> (f64, f64, f64) {
          %3: f64 = sin %0
          %4: f64 = exp %1
          %5: f64 = mul %3, %4
          %6: f64 = mul %2, %4
          %7: f64 = mul %2, %3
          %8: f64 = mul %7, %4
          %9: f64 = cos %0
          %10: f64 = mul %6, %9
          return %5, %10, %8
        }
    "#]]
    .assert_eq(&print_function(&g));
}

#[test]
fn vjp_snapshot_loop_with_checkpoint() {
    let g = vjp(
        &super::progs::parse(super::progs::PROD),
        &VjpOptions::default(),
    )
    .unwrap();
    let (g, _) = optimize(&g, &OptOptions::default());
    expect![[r#"
        fn @prod_vjp(%0: &[f64], %1: &mut [f64], %2: f64, %3: f64) -> (f64, f64) {
          %4: i64 = len %0
          %5: i64 = const 0
          %6: &mut [f64] = scratch %4
          %7: f64 = for %8 = %5 to %4 carry(%9 = %2) {
            store %6[%8], %9
            %10: f64 = load %0[%8]
            %11: f64 = sin %10
            %12: f64 = mul %9, %11
            %13: f64 = add %12, %10
            yield %13
          }
          %14: f64 = for rev %15 = %5 to %4 carry(%16 = %3) {
            %17: f64 = load %6[%15]
            %18: f64 = load %0[%15]
            %19: f64 = sin %18
            %20: f64 = mul %16, %19
            %21: f64 = mul %16, %17
            %22: f64 = cos %18
            %23: f64 = mul %21, %22
            %24: f64 = add %16, %23
            %25: f64 = load %1[%15]
            %26: f64 = add %25, %24
            store %1[%15], %26
            yield %20
          }
          return %7, %14
        }
    "#]]
    .assert_eq(&print_function(&g));
}

#[test]
fn vjp_snapshot_exp_stored_and_read_back() {
    // The default policy (Auto) stores exp(xᵢ - a) in the forward loop (%7) and the adjoint
    // loop reads it back instead of calling exp again: the two loops cannot fuse, since the
    // adjoint needs 1/Σ, known only after the forward loop.
    let f = super::progs::parse(super::progs::LSE);
    let g = vjp(&f, &VjpOptions::default()).unwrap();
    let (g, _) = optimize(&g, &OptOptions::default());
    expect![[r#"
        fn @lse_vjp(%0: &[f64], %1: &mut [f64], %2: f64, %3: f64) -> (f64, f64) {
          %4: i64 = len %0
          %5: i64 = const 0
          %6: f64 = const 0.0
          %7: &mut [f64] = scratch %4
          %8: f64 = for %9 = %5 to %4 carry(%10 = %6) {
            %11: f64 = load %0[%9]
            %12: f64 = sub %11, %2
            %13: f64 = exp %12
            store %7[%9], %13
            %14: f64 = add %10, %13
            yield %14
          }
          %15: f64 = ln %8
          %16: f64 = add %15, %2
          %17: f64 = recip %8
          %18: f64 = mul %3, %17
          %19: f64 = for rev %20 = %5 to %4 carry(%21 = %6) {
            %22: f64 = load %7[%20]
            %23: f64 = mul %18, %22
            %24: f64 = neg %23
            %25: f64 = add %21, %24
            %26: f64 = load %1[%20]
            %27: f64 = add %26, %23
            store %1[%20], %27
            yield %25
          }
          %28: f64 = add %3, %19
          return %16, %28
        }
    "#]]
    .assert_eq(&print_function(&g));
}

#[test]
fn vjp_snapshot_nested_scratch_allocated_once() {
    // The inner loop's checkpoint (the carried h) and tanh cache are allocated once, before
    // the outer adjoint loop, not in each of its iterations; the outer loop's own exp cache
    // sits beside them.
    let f = super::progs::parse(super::progs::NESTED_TANH);
    let g = vjp(&f, &VjpOptions::default()).unwrap();
    let (g, _) = optimize(&g, &OptOptions::default());
    assert_eq!(top_level_allocs(&g), all_allocs(&g));
    expect![[r#"
        fn @nested_tanh_vjp(%0: &[f64], %1: &mut [f64], %2: f64, %3: f64) -> (f64, f64) {
          %4: i64 = const 0
          %5: i64 = len %0
          %6: &mut [f64] = scratch %5
          %7: &mut [f64] = scratch %5
          %8: i64 = const 3
          %9: &mut [f64] = scratch %8
          %10: &mut [f64] = scratch %8
          %11: f64 = for %12 = %4 to %8 carry(%13 = %2) {
            store %9[%12], %13
            %14: f64 = for %15 = %4 to %5 carry(%16 = %13) {
              %17: f64 = load %0[%15]
              %18: f64 = mul %16, %17
              %19: f64 = add %18, %17
              %20: f64 = tanh %19
              yield %20
            }
            %21: f64 = mul %14, %2
            %22: f64 = exp %21
            store %10[%12], %22
            yield %22
          }
          %23: f64 = const 0.0
          %24: f64 = const 1.0
          %25: f64, %26: f64 = for rev %27 = %4 to %8 carry(%28 = %3, %29 = %23) {
            %30: f64 = load %9[%27]
            %31: f64 = for %32 = %4 to %5 carry(%33 = %30) {
              store %7[%32], %33
              %34: f64 = load %0[%32]
              %35: f64 = mul %33, %34
              %36: f64 = add %35, %34
              %37: f64 = tanh %36
              store %6[%32], %37
              yield %37
            }
            %38: f64 = load %10[%27]
            %39: f64 = mul %28, %38
            %40: f64 = mul %39, %2
            %41: f64 = mul %39, %31
            %42: f64 = add %29, %41
            %43: f64 = for rev %44 = %4 to %5 carry(%45 = %40) {
              %46: f64 = load %7[%44]
              %47: f64 = load %0[%44]
              %48: f64 = load %6[%44]
              %49: f64 = mul %48, %48
              %50: f64 = sub %24, %49
              %51: f64 = mul %45, %50
              %52: f64 = mul %51, %47
              %53: f64 = mul %51, %46
              %54: f64 = add %51, %53
              %55: f64 = load %1[%44]
              %56: f64 = add %55, %54
              store %1[%44], %56
              yield %52
            }
            yield %43, %42
          }
          %57: f64 = add %25, %26
          return %11, %57
        }
    "#]]
    .assert_eq(&print_function(&g));
    // A triangular nest's inner buffers change size with the outer index: they stay inside.
    let f = super::progs::parse(super::progs::TRIANGLE);
    let g = vjp(&f, &VjpOptions::default()).unwrap();
    let (g, _) = optimize(&g, &OptOptions::default());
    assert!(
        top_level_allocs(&g) < all_allocs(&g),
        "{}",
        print_function(&g)
    );
}

fn top_level_allocs(g: &Function) -> usize {
    let body = &g.block(g.body).insts;
    body.iter()
        .filter(|&&i| matches!(g.inst(i).op, Op::Alloc | Op::Scratch))
        .count()
}

fn all_allocs(g: &Function) -> usize {
    let counts = g.op_counts();
    counts
        .iter()
        .filter(|(k, _)| k == "alloc" || k == "scratch")
        .map(|(_, n)| *n)
        .sum()
}

#[test]
fn traced_user_branches_become_selects() {
    fn relu_ish<T: Real>(x: &[T]) -> T {
        if x[0] > x[1] { x[0] * x[1] } else { x[1].sin() }
    }
    let f = trace_fn("relu_ish", 2, |x| vec![relu_ish(x)]);
    assert!(print_function(&f).contains("select"));
    for x in [[1.0, 0.5], [0.2, 0.9]] {
        assert_eq!(eval_f64(&f, &x).unwrap(), vec![relu_ish(&x)]);
        let g = vjp(&f, &VjpOptions::default()).unwrap();
        let out = eval_f64(&g, &[x[0], x[1], 1.0]).unwrap();
        let (_, want) = ferrad_core::gradient(&ferrad_core::scalar_fn!(relu_ish), &x);
        assert_eq!(&out[1..], &want[..]);
    }
}

#[test]
#[should_panic(expected = "a Tracer has no primal value")]
fn tracing_floor_is_a_clear_error() {
    trace_fn("floor", 1, |x| vec![x[0].floor()]);
}

#[test]
fn f32_functions_differentiate() {
    let src = "fn @h(%0: f32) -> (f32) {
  %1: f32 = sin %0
  %2: f32 = mul %1, %0
  return %2
}";
    let f = parse_function(src).unwrap();
    let x = 0.75f32;
    let want = x.sin() + x * x.cos();
    let g = vjp(&f, &VjpOptions::default()).unwrap();
    let out = run_function(&g, &mut [Arg::F32(x), Arg::F32(1.0)]).unwrap();
    assert_eq!(out[0], Val::F32(x.sin() * x));
    let Val::F32(d) = out[1] else {
        panic!("{out:?}")
    };
    assert!((d - want).abs() < 1e-6);
    let j = jvp(&f, &JvpOptions::default()).unwrap();
    let out = run_function(&j, &mut [Arg::F32(x), Arg::F32(1.0)]).unwrap();
    let Val::F32(t) = out[1] else {
        panic!("{out:?}")
    };
    assert!((t - want).abs() < 1e-6);
}

#[test]
fn verifier_catches_builder_mistakes() {
    // A value defined in a loop body used after the loop.
    let mut b = FunctionBuilder::new("bad");
    let x = b.param(Type::F64);
    let (lo, hi) = (b.const_i64(0), b.const_i64(3));
    let mut leaked = None;
    let r = b.for_loop(lo, hi, &[x], |b, _, c| {
        let s = b.unary(ferrad_core::rules::Unary::Sin, c[0]);
        leaked = Some(s);
        vec![s]
    });
    let y = b.add(r[0], leaked.unwrap());
    let f = b.finish(&[y]);
    let e = crate::verify::verify_function(&f, None).unwrap_err();
    assert!(e.msg.contains("not defined before it in scope"), "{e}");
    // A float op on an integer.
    let mut b = FunctionBuilder::new("bad2");
    let i = b.param(Type::I64);
    let s = b.emit(
        Op::Unary(ferrad_core::rules::Unary::Sin),
        vec![i],
        &[Type::F64],
    )[0];
    let f = b.finish(&[s]);
    let e = crate::verify::verify_function(&f, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "in @bad2: `sin`: expects 1 float argument(s) of one type and a result of that type, got (i64) -> (f64)"
    );
}

#[test]
fn vjp_rejects_recomputed_loads_of_written_buffers() {
    let src = "fn @w(%0: &mut [f64], %1: f64) -> (f64) {
  %2: i64 = const 0
  %3: bool = lt %1, %1
  %4: f64 = if %3 {
    %5: f64 = load %0[%2]
    yield %5
  } else {
    yield %1
  }
  store %0[%2], %1
  return %4
}";
    let f = parse_function(src).unwrap();
    let e = vjp(&f, &VjpOptions::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("inside an `if` arm or a nested loop"),
        "{e}"
    );
    // Reading a buffer that is never written is exact anywhere.
    let ok = src.replace("  store %0[%2], %1\n", "");
    vjp(&parse_function(&ok).unwrap(), &VjpOptions::default()).unwrap();
}

#[test]
fn traced_custom_rules_stay_opaque_calls() {
    use super::progs::Polar;
    fn g<T: Real>(x: &[T]) -> T {
        let y = ferrad_core::apply_rule(&Polar, &[x[0] * x[1], x[1]]);
        (y[0] * y[1]).sin()
    }
    let f = trace_fn("g", 2, |x| vec![g(x)]);
    let text = print_function(&f);
    assert!(text.contains("custom \"polar\"(%2, %1)"), "{text}");
    let rules = crate::interp::RuleSet::new().with(Polar);
    let x = [0.8, 0.3];
    let d = vjp(&f, &VjpOptions::default()).unwrap();
    let mut args = vec![Arg::F64(x[0]), Arg::F64(x[1]), Arg::F64(1.0)];
    let out = crate::interp::run_in(None, &d, &mut args, &rules).unwrap();
    let (y, want) = ferrad_core::gradient(&ferrad_core::scalar_fn!(g), &x);
    assert_eq!(out[0], Val::F64(y));
    for k in 0..2 {
        let Val::F64(got) = out[1 + k] else { panic!() };
        assert!((got - want[k]).abs() < 1e-14, "{got} vs {}", want[k]);
    }
}
