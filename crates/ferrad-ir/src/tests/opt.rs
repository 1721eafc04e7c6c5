//! Snapshot tests of each optimizer pass: the printed IR before → after.

use expect_test::{Expect, expect};

use crate::opt::{self, FloatPolicy};
use crate::parse::parse_function;
use crate::print::print_function;

fn check(pass: impl Fn(&crate::ir::Function) -> crate::ir::Function, src: &str, want: Expect) {
    let f = parse_function(src).unwrap_or_else(|e| panic!("{e}"));
    let g = pass(&f);
    crate::verify::verify_function(&g, None).unwrap();
    want.assert_eq(&print_function(&g));
}

#[test]
fn fold_constants() {
    check(
        opt::fold::fold,
        "fn @f(%0: f64) -> (f64, i64) {
  %1: f64 = const 2.0
  %2: f64 = const 3.0
  %3: f64 = mul %1, %2
  %4: f64 = sin %3
  %5: f64 = add %0, %4
  %6: i64 = const 4
  %7: i64 = imul %6, %6
  %8: bool = lt %1, %2
  %9: f64 = select %8, %5, %0
  return %9, %7
}",
        expect![[r#"
            fn @f(%0: f64) -> (f64, i64) {
              %1: f64 = const 2.0
              %2: f64 = const 3.0
              %3: f64 = const 6.0
              %4: f64 = const -0.27941549819892586
              %5: f64 = add %0, %4
              %6: i64 = const 4
              %7: i64 = const 16
              %8: bool = const true
              return %5, %7
            }
        "#]],
    );
}

#[test]
fn one_over_x_is_recip_and_merges_with_a_rule_recip() {
    // A sigmoid's quotient and the `recip` its division rule computes become one value.
    check(
        |f| opt::cse::cse(&opt::simplify::simplify(f, FloatPolicy::Exact)),
        "fn @f(%0: f64) -> (f64, f64) {
  %1: f64 = const 1.0
  %2: f64 = exp %0
  %3: f64 = add %2, %1
  %4: f64 = div %1, %3
  %5: f64 = recip %3
  return %4, %5
}",
        expect![[r#"
            fn @f(%0: f64) -> (f64, f64) {
              %1: f64 = const 1.0
              %2: f64 = exp %0
              %3: f64 = add %2, %1
              %4: f64 = recip %3
              return %4, %4
            }
        "#]],
    );
}

#[test]
fn simplify_identities_exact_policy() {
    let src = "fn @f(%0: f64, %1: f64) -> (f64, f64, f64) {
  %2: f64 = const 1.0
  %3: f64 = const 0.0
  %4: f64 = const -0.0
  %5: f64 = mul %0, %2
  %6: f64 = add %5, %4
  %7: f64 = add %6, %3
  %8: f64 = neg %1
  %9: f64 = neg %8
  %10: f64 = mul %9, %3
  %11: f64 = sub %0, %0
  return %7, %10, %11
}";
    check(
        |f| opt::simplify::simplify(f, FloatPolicy::Exact),
        src,
        expect![[r#"
        fn @f(%0: f64, %1: f64) -> (f64, f64, f64) {
          %2: f64 = const 1.0
          %3: f64 = const 0.0
          %4: f64 = const -0.0
          %5: f64 = add %0, %3
          %6: f64 = neg %1
          %7: f64 = mul %1, %3
          %8: f64 = sub %0, %0
          return %5, %7, %8
        }
    "#]],
    );
    check(
        |f| opt::simplify::simplify(f, FloatPolicy::NoSignedZeros),
        src,
        expect![[r#"
        fn @f(%0: f64, %1: f64) -> (f64, f64, f64) {
          %2: f64 = const 1.0
          %3: f64 = const 0.0
          %4: f64 = const -0.0
          %5: f64 = neg %1
          %6: f64 = mul %1, %3
          %7: f64 = sub %0, %0
          return %0, %6, %7
        }
    "#]],
    );
    check(
        |f| opt::simplify::simplify(f, FloatPolicy::Finite),
        src,
        expect![[r#"
        fn @f(%0: f64, %1: f64) -> (f64, f64, f64) {
          %2: f64 = const 1.0
          %3: f64 = const 0.0
          %4: f64 = const -0.0
          %5: f64 = neg %1
          %6: f64 = const 0.0
          %7: f64 = const 0.0
          return %0, %6, %7
        }
    "#]],
    );
}

#[test]
fn cse_merges_within_scope_only() {
    check(
        opt::cse::cse,
        "fn @f(%0: f64, %1: f64) -> (f64) {
  %2: f64 = mul %0, %1
  %3: f64 = mul %1, %0
  %4: f64 = add %2, %3
  %5: bool = lt %0, %1
  %6: f64 = if %5 {
    %7: f64 = sin %0
    %8: f64 = mul %0, %1
    %9: f64 = add %7, %8
    yield %9
  } else {
    %10: f64 = sin %0
    yield %10
  }
  %11: f64 = sin %0
  %12: f64 = add %6, %11
  %13: f64 = add %12, %4
  return %13
}",
        expect![[r#"
            fn @f(%0: f64, %1: f64) -> (f64) {
              %2: f64 = mul %0, %1
              %3: f64 = add %2, %2
              %4: bool = lt %0, %1
              %5: f64 = if %4 {
                %6: f64 = sin %0
                %7: f64 = add %6, %2
                yield %7
              } else {
                %8: f64 = sin %0
                yield %8
              }
              %9: f64 = sin %0
              %10: f64 = add %5, %9
              %11: f64 = add %10, %3
              return %11
            }
        "#]],
    );
}

#[test]
fn dce_removes_dead_values_carried_slots_and_write_only_buffers() {
    check(
        opt::dce::dce,
        "fn @f(%0: &[f64]) -> (f64) {
  %1: i64 = len %0
  %2: i64 = const 0
  %3: f64 = const 0.0
  %4: &mut [f64] = alloc %1
  %5: f64 = sin %3
  %6: f64, %7: f64 = for %8 = %2 to %1 carry(%9 = %3, %10 = %3) {
    %11: f64 = load %0[%8]
    store %4[%8], %11
    %12: f64 = add %9, %11
    %13: f64 = mul %10, %11
    yield %12, %13
  }
  return %6
}",
        expect![[r#"
            fn @f(%0: &[f64]) -> (f64) {
              %1: i64 = len %0
              %2: i64 = const 0
              %3: f64 = const 0.0
              %4: f64 = for %5 = %2 to %1 carry(%6 = %3) {
                %7: f64 = load %0[%5]
                %8: f64 = add %6, %7
                yield %8
              }
              return %4
            }
        "#]],
    );
}

#[test]
fn licm_hoists_invariants() {
    check(
        opt::licm::licm,
        "fn @f(%0: &[f64], %1: f64) -> (f64) {
  %2: i64 = len %0
  %3: i64 = const 0
  %4: f64 = for %5 = %3 to %2 carry(%6 = %1) {
    %7: f64 = exp %1
    %8: f64 = load %0[%5]
    %9: f64 = mul %7, %8
    %10: f64 = const 2.0
    %11: f64 = mul %7, %10
    %12: f64 = add %6, %9
    %13: f64 = add %12, %11
    yield %13
  }
  return %4
}",
        expect![[r#"
            fn @f(%0: &[f64], %1: f64) -> (f64) {
              %2: i64 = len %0
              %3: i64 = const 0
              %4: f64 = exp %1
              %5: f64 = const 2.0
              %6: f64 = mul %4, %5
              %7: f64 = for %8 = %3 to %2 carry(%9 = %1) {
                %10: f64 = load %0[%8]
                %11: f64 = mul %4, %10
                %12: f64 = add %9, %11
                %13: f64 = add %12, %6
                yield %13
              }
              return %7
            }
        "#]],
    );
}

#[test]
fn forward_store_to_load() {
    check(
        opt::forward_store::forward_store,
        "fn @f(%0: &mut [f64], %1: f64, %2: i64, %3: i64) -> (f64) {
  store %0[%2], %1
  %4: f64 = load %0[%2]
  %5: f64 = load %0[%3]
  %6: f64 = load %0[%3]
  store %0[%3], %4
  %7: f64 = load %0[%2]
  %8: f64 = add %4, %5
  %9: f64 = add %8, %6
  %10: f64 = add %9, %7
  return %10
}",
        expect![[r#"
            fn @f(%0: &mut [f64], %1: f64, %2: i64, %3: i64) -> (f64) {
              store %0[%2], %1
              %4: f64 = load %0[%3]
              store %0[%3], %1
              %5: f64 = load %0[%2]
              %6: f64 = add %1, %4
              %7: f64 = add %6, %4
              %8: f64 = add %7, %5
              return %8
            }
        "#]],
    );
}

#[test]
fn dead_store_overwritten_in_the_block() {
    // %0[%2] is stored three times: the first store is dead (overwritten before any read),
    // the second is read by the load of %0 at another index (which may be the same element),
    // and stores to another buffer, `len` and arithmetic do not read %0; the store inside the
    // loop and the one before it stay (regions are not looked into)
    check(
        opt::dead_store::dead_store,
        "fn @f(%0: &mut [f64], %1: &mut [f64], %2: i64, %3: i64, %4: f64) -> (f64) {
  store %0[%2], %4
  store %1[%2], %4
  %5: i64 = len %0
  %6: f64 = mul %4, %4
  store %0[%2], %6
  %7: f64 = load %0[%3]
  store %0[%2], %7
  %8: i64 = const 0
  store %1[%3], %4
  for %9 = %8 to %5 {
    store %1[%3], %6
    store %1[%3], %4
    yield
  }
  store %1[%3], %6
  return %7
}",
        expect![[r#"
            fn @f(%0: &mut [f64], %1: &mut [f64], %2: i64, %3: i64, %4: f64) -> (f64) {
              store %1[%2], %4
              %5: i64 = len %0
              %6: f64 = mul %4, %4
              store %0[%2], %6
              %7: f64 = load %0[%3]
              store %0[%2], %7
              %8: i64 = const 0
              store %1[%3], %4
              for %9 = %8 to %5 {
                store %1[%3], %4
                yield
              }
              store %1[%3], %6
              return %7
            }
        "#]],
    );
}

#[test]
fn fuse_reverse_reduction_into_forward_loop() {
    let src = "fn @f(%0: &[f64]) -> (f64, f64) {
  %1: i64 = len %0
  %2: i64 = const 0
  %3: f64 = const 0.0
  %4: f64 = for %5 = %2 to %1 carry(%6 = %3) {
    %7: f64 = load %0[%5]
    %8: f64 = add %6, %7
    yield %8
  }
  %9: f64 = const 1.0
  %10: f64 = for rev %11 = %2 to %1 carry(%12 = %3) {
    %13: f64 = load %0[%11]
    %14: f64 = sin %13
    %15: f64 = add %12, %14
    yield %15
  }
  return %4, %10
}";
    check(
        |f| opt::fuse::fuse(f, true),
        src,
        expect![[r#"
        fn @f(%0: &[f64]) -> (f64, f64) {
          %1: i64 = len %0
          %2: i64 = const 0
          %3: f64 = const 0.0
          %4: f64 = const 1.0
          %5: f64, %6: f64 = for %7 = %2 to %1 carry(%8 = %3, %9 = %3) {
            %10: f64 = load %0[%7]
            %11: f64 = add %8, %10
            %12: f64 = load %0[%7]
            %13: f64 = sin %12
            %14: f64 = add %9, %13
            yield %11, %14
          }
          return %5, %6
        }
    "#]],
    );
    // Without reassociation the loops run in opposite directions and stay apart.
    let f = parse_function(src).unwrap();
    assert_eq!(
        print_function(&opt::fuse::fuse(&f, false)),
        print_function(&f)
    );
}

#[test]
fn fuse_shares_a_buffer_indexed_at_one_offset() {
    // A reverse sweep's cache over `1..n` is indexed by `i - 1` in both loops: iteration `i`
    // of each touches element `i - 1` alone, so the loops fuse (and forward_store then turns
    // the load into the stored value). At different offsets they must stay apart.
    let src = |off2: &str| {
        format!(
            "fn @f(%0: &[f64], %1: &mut [f64]) -> (f64, f64) {{
  %2: i64 = len %0
  %3: i64 = const 1
  %4: i64 = const {off2}
  %5: f64 = const 0.0
  %6: f64 = for %7 = %3 to %2 carry(%8 = %5) {{
    %9: f64 = load %0[%7]
    %10: f64 = exp %9
    %11: i64 = isub %7, %3
    store %1[%11], %10
    %12: f64 = add %8, %10
    yield %12
  }}
  %13: f64 = for rev %14 = %3 to %2 carry(%15 = %5) {{
    %16: i64 = isub %14, %4
    %17: f64 = load %1[%16]
    %18: f64 = add %15, %17
    yield %18
  }}
  return %6, %13
}}"
        )
    };
    check(
        |f| opt::fuse::fuse(f, true),
        &src("1"),
        expect![[r#"
            fn @f(%0: &[f64], %1: &mut [f64]) -> (f64, f64) {
              %2: i64 = len %0
              %3: i64 = const 1
              %4: i64 = const 1
              %5: f64 = const 0.0
              %6: f64, %7: f64 = for %8 = %3 to %2 carry(%9 = %5, %10 = %5) {
                %11: f64 = load %0[%8]
                %12: f64 = exp %11
                %13: i64 = isub %8, %3
                store %1[%13], %12
                %14: f64 = add %9, %12
                %15: i64 = isub %8, %4
                %16: f64 = load %1[%15]
                %17: f64 = add %10, %16
                yield %14, %17
              }
              return %6, %7
            }
        "#]],
    );
    let f = parse_function(&src("2")).unwrap();
    assert_eq!(
        print_function(&opt::fuse::fuse(&f, true)),
        print_function(&f)
    );
}

#[test]
fn fuse_refuses_dependent_loops() {
    let src = "fn @f(%0: &[f64]) -> (f64) {
  %1: i64 = len %0
  %2: i64 = const 0
  %3: f64 = const 0.0
  %4: f64 = for %5 = %2 to %1 carry(%6 = %3) {
    %7: f64 = load %0[%5]
    %8: f64 = add %6, %7
    yield %8
  }
  %9: f64 = for %10 = %2 to %1 carry(%11 = %3) {
    %12: f64 = load %0[%10]
    %13: f64 = mul %12, %4
    %14: f64 = add %11, %13
    yield %14
  }
  return %9
}";
    let f = parse_function(src).unwrap();
    assert_eq!(
        print_function(&opt::fuse::fuse(&f, true)),
        print_function(&f)
    );
}
