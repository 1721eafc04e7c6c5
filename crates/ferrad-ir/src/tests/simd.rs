//! The SIMD shape of emitted Rust ([`crate::emit::Simd`]): snapshots of the seed benchmarks,
//! and every sample's lane-split, re-sliced code compiled and run against the interpreter.

use expect_test::{Expect, expect};

use super::progs::*;
use crate::emit::Simd;
use crate::{DiffOptions, EmitKind, Mode, diff_text};

/// The derivative of `src` in `mode` as Rust shaped by `simd` (shared with the `par` tests).
pub(super) fn emit(src: &str, mode: Mode, simd: Simd) -> String {
    diff_text(
        src,
        &DiffOptions {
            mode,
            emit: EmitKind::Rust,
            simd,
            ..DiffOptions::default()
        },
    )
    .unwrap()
}

/// [`emit`] against a snapshot.
pub(super) fn check(src: &str, mode: Mode, simd: Simd, want: Expect) {
    want.assert_eq(&emit(src, mode, simd));
}

#[test]
fn r_gradient_in_lanes() {
    check(
        R,
        Mode::Reverse,
        Simd::ON,
        expect![[r#"
            pub fn r_vjp(p0: &[f64], p1: &mut [f64], p2: f64) -> f64 {
                ::ferrad::simd::dispatch_wide(#[inline(always)] move |isa| {
                    let n1 = p0.len();
                    let x2 = &p0[..n1];
                    let x3 = &mut p1[..n1];
                    let mut acc4 = [0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0];
                    let mut b5 = 0;
                    while b5 + 16 <= n1 {
                        let x7: [f64; 16] = ::core::convert::TryInto::try_into(&x2[b5..b5 + 16]).unwrap();
                        let mut x8: [f64; 16] = ::core::convert::TryInto::try_into(&x3[b5..b5 + 16]).unwrap();
                        for l6 in 0..16 {
                            let v9 = x7[l6];
                            let v10 = isa.tanh_lanes(v9);
                            let v11 = p2 * v9;
                            let v12 = v10 * v10;
                            x8[l6] += v11 + v11 + p2 * (v12 * 3.0) * (1.0 - v12);
                            acc4[l6] += v10.powi(3) + v9 * v9;
                        }
                        x3[b5..b5 + 16].copy_from_slice(&x8);
                        b5 += 16;
                    }
                    let mut acc13 = (((acc4[0] + acc4[1]) + (acc4[2] + acc4[3])) + ((acc4[4] + acc4[5]) + (acc4[6] + acc4[7]))) + (((acc4[8] + acc4[9]) + (acc4[10] + acc4[11])) + ((acc4[12] + acc4[13]) + (acc4[14] + acc4[15])));
                    for i14 in b5..n1 {
                        let v15 = x2[i14];
                        let v16 = isa.tanh(v15);
                        let v17 = p2 * v15;
                        let v18 = v16 * v16;
                        x3[i14] += v17 + v17 + p2 * (v18 * 3.0) * (1.0 - v18);
                        acc13 += v16.powi(3) + v15 * v15;
                    }
                    acc13
                })
            }
        "#]],
    );
}

#[test]
fn r_hvp_in_lanes() {
    check(
        R,
        Mode::ForwardOverReverse,
        Simd::ON,
        expect![[r#"
            pub fn r_vjp_jvp(p0: &[f64], p1: &[f64], p2: &mut [f64], p3: &mut [f64], p4: f64, p5: f64) -> (f64, f64) {
                ::ferrad::simd::dispatch_wide(#[inline(always)] move |isa| {
                    let n1 = p0.len();
                    let x2 = &p0[..n1];
                    let x3 = &p1[..n1];
                    let x4 = &mut p2[..n1];
                    let x5 = &mut p3[..n1];
                    let mut acc6 = [0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0];
                    let mut acc7 = [0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0];
                    let mut b8 = 0;
                    while b8 + 16 <= n1 {
                        let x10: [f64; 16] = ::core::convert::TryInto::try_into(&x2[b8..b8 + 16]).unwrap();
                        let x11: [f64; 16] = ::core::convert::TryInto::try_into(&x3[b8..b8 + 16]).unwrap();
                        let mut x12: [f64; 16] = ::core::convert::TryInto::try_into(&x4[b8..b8 + 16]).unwrap();
                        let mut x13: [f64; 16] = ::core::convert::TryInto::try_into(&x5[b8..b8 + 16]).unwrap();
                        for l9 in 0..16 {
                            let v14 = x10[l9];
                            let v15 = x11[l9];
                            let v16 = isa.tanh_lanes(v14);
                            let v17 = v16 * v16;
                            let v18 = 1.0 - v17;
                            let v19 = v18 * v15;
                            let v20 = v17 * 3.0;
                            let v21 = v14 * v15;
                            let v22 = p4 * v14;
                            let v23 = v14 * p5 + p4 * v15;
                            let v24 = v16 * v19;
                            let v25 = v24 + v24;
                            let v26 = p4 * v20;
                            let v27 = x12[l9];
                            let v28 = x13[l9];
                            x12[l9] = v27 + (v22 + v22 + v26 * v18);
                            x13[l9] = v28 + (v23 + v23 + (v18 * (v20 * p5 + p4 * (3.0 * v25)) + v26 * -v25));
                            acc6[l9] += v17 * v16 + v14 * v14;
                            acc7[l9] += v20 * v19 + (v21 + v21);
                        }
                        x4[b8..b8 + 16].copy_from_slice(&x12);
                        x5[b8..b8 + 16].copy_from_slice(&x13);
                        b8 += 16;
                    }
                    let mut acc29 = (((acc6[0] + acc6[1]) + (acc6[2] + acc6[3])) + ((acc6[4] + acc6[5]) + (acc6[6] + acc6[7]))) + (((acc6[8] + acc6[9]) + (acc6[10] + acc6[11])) + ((acc6[12] + acc6[13]) + (acc6[14] + acc6[15])));
                    let mut acc30 = (((acc7[0] + acc7[1]) + (acc7[2] + acc7[3])) + ((acc7[4] + acc7[5]) + (acc7[6] + acc7[7]))) + (((acc7[8] + acc7[9]) + (acc7[10] + acc7[11])) + ((acc7[12] + acc7[13]) + (acc7[14] + acc7[15])));
                    for i31 in b8..n1 {
                        let v32 = x2[i31];
                        let v33 = x3[i31];
                        let v34 = isa.tanh(v32);
                        let v35 = v34 * v34;
                        let v36 = 1.0 - v35;
                        let v37 = v36 * v33;
                        let v38 = v35 * 3.0;
                        let v39 = v32 * v33;
                        let v40 = p4 * v32;
                        let v41 = v32 * p5 + p4 * v33;
                        let v42 = v34 * v37;
                        let v43 = v42 + v42;
                        let v44 = p4 * v38;
                        let v45 = x4[i31];
                        let v46 = x5[i31];
                        x4[i31] = v45 + (v40 + v40 + v44 * v36);
                        x5[i31] = v46 + (v41 + v41 + (v36 * (v38 * p5 + p4 * (3.0 * v43)) + v44 * -v43));
                        acc29 += v35 * v34 + v32 * v32;
                        acc30 += v38 * v37 + (v39 + v39);
                    }
                    (acc29, acc30)
                })
            }
        "#]],
    );
}

#[test]
fn inner_loop_sums_in_lanes_outer_sequential() {
    let simd = Simd {
        math: false,
        dispatch: false,
        ..Simd::ON
    };
    check(
        LANES,
        Mode::Forward,
        simd,
        expect![[r#"
            pub fn lanes_jvp(p0: &[f64], p1: &[f64], p2: &[f64], p3: &[f64]) -> (f64, f64) {
                let v1 = p0.len();
                let n2 = v1;
                let x3 = &p0[..n2];
                let x4 = &p1[..n2];
                let mut acc5 = 0.5;
                let mut acc6 = 0.0;
                for i7 in 0..n2 {
                    let v8 = x3[i7];
                    let v9 = x4[i7];
                    let n10 = v1;
                    let x11 = &p2[..n10];
                    let x12 = &p3[..n10];
                    let mut acc13 = [0.0, -0.0, -0.0, -0.0];
                    let mut acc14 = [0.0, -0.0, -0.0, -0.0];
                    let mut b15 = 0;
                    while b15 + 4 <= n10 {
                        let x17: [f64; 4] = ::core::convert::TryInto::try_into(&x11[b15..b15 + 4]).unwrap();
                        let x18: [f64; 4] = ::core::convert::TryInto::try_into(&x12[b15..b15 + 4]).unwrap();
                        for l16 in 0..4 {
                            let v19 = x17[l16];
                            let v20 = x18[l16];
                            let v21 = v8 * v19;
                            let (s22, c23) = v21.sin_cos();
                            acc13[l16] += s22;
                            acc14[l16] += c23 * (v19 * v9 + v8 * v20);
                        }
                        b15 += 4;
                    }
                    let mut acc24 = (acc13[0] + acc13[1]) + (acc13[2] + acc13[3]);
                    let mut acc25 = (acc14[0] + acc14[1]) + (acc14[2] + acc14[3]);
                    for i26 in b15..n10 {
                        let v27 = x11[i26];
                        let v28 = x12[i26];
                        let v29 = v8 * v27;
                        let (s30, c31) = v29.sin_cos();
                        acc24 += s30;
                        acc25 += c31 * (v27 * v9 + v8 * v28);
                    }
                    acc5 = acc5 - acc24 * v8;
                    acc6 += -(v8 * acc25 + acc24 * v9);
                }
                (acc5, acc6)
            }
        "#]],
    );
}

#[test]
fn strict_order_keeps_one_accumulator() {
    check(
        R,
        Mode::Reverse,
        Simd::STRICT,
        expect![[r#"
            pub fn r_vjp(p0: &[f64], p1: &mut [f64], p2: f64) -> f64 {
                ::ferrad::simd::dispatch(#[inline(always)] move |isa| {
                    let n1 = p0.len();
                    let x2 = &p0[..n1];
                    let x3 = &mut p1[..n1];
                    let mut acc4 = 0.0;
                    for i5 in 0..n1 {
                        let v6 = x2[i5];
                        let v7 = isa.tanh(v6);
                        let v8 = p2 * v6;
                        let v9 = v7 * v7;
                        x3[i5] += v8 + v8 + p2 * (v9 * 3.0) * (1.0 - v9);
                        acc4 += v7.powi(3) + v6 * v6;
                    }
                    acc4
                })
            }
        "#]],
    );
}

#[test]
fn off_is_the_plain_emitter() {
    for p in [R, PROD, BRANCH, STORE, NESTED, COUNTER] {
        for mode in [Mode::Reverse, Mode::Forward, Mode::ForwardOverReverse] {
            let plain = diff_text(
                p,
                &DiffOptions {
                    mode,
                    emit: EmitKind::Rust,
                    ..DiffOptions::default()
                },
            );
            if let Ok(plain) = plain {
                assert_eq!(plain, emit(p, mode, Simd::OFF));
                assert!(!plain.contains("ferrad"), "{plain}");
            }
        }
    }
}

/// H·v alone (the gradient buffer frozen, the results dropped, as `DualOnly` asks): a loop
/// with no sums left, still cut into chunks of local arrays, which is what vectorizes.
#[test]
fn a_map_loop_runs_in_chunks_too() {
    let text = diff_text(
        R,
        &DiffOptions {
            mode: Mode::ForwardOverReverse,
            emit: EmitKind::Rust,
            simd: Simd::ON,
            frozen: vec![2],
            drop_primal: true,
            ..DiffOptions::default()
        },
    )
    .unwrap();
    expect![[r#"
        pub fn r_vjp_jvp(p0: &[f64], p1: &[f64], p2: &mut [f64], p3: &mut [f64], p4: f64, p5: f64) -> (f64, f64) {
            ::ferrad::simd::dispatch_wide(#[inline(always)] move |isa| {
                let n1 = p0.len();
                let x2 = &p0[..n1];
                let x3 = &p1[..n1];
                let x4 = &mut p3[..n1];
                let mut b5 = 0;
                while b5 + 16 <= n1 {
                    let x7: [f64; 16] = ::core::convert::TryInto::try_into(&x2[b5..b5 + 16]).unwrap();
                    let x8: [f64; 16] = ::core::convert::TryInto::try_into(&x3[b5..b5 + 16]).unwrap();
                    let mut x9: [f64; 16] = ::core::convert::TryInto::try_into(&x4[b5..b5 + 16]).unwrap();
                    for l6 in 0..16 {
                        let v10 = x7[l6];
                        let v11 = x8[l6];
                        let v12 = isa.tanh_lanes(v10);
                        let v13 = v12 * v12;
                        let v14 = 1.0 - v13;
                        let v15 = v13 * 3.0;
                        let v16 = v10 * p5 + p4 * v11;
                        let v17 = v12 * (v14 * v11);
                        let v18 = v17 + v17;
                        x9[l6] += v16 + v16 + (v14 * (v15 * p5 + p4 * (3.0 * v18)) + p4 * v15 * -v18);
                    }
                    x4[b5..b5 + 16].copy_from_slice(&x9);
                    b5 += 16;
                }
                for i19 in b5..n1 {
                    let v20 = x2[i19];
                    let v21 = x3[i19];
                    let v22 = isa.tanh(v20);
                    let v23 = v22 * v22;
                    let v24 = 1.0 - v23;
                    let v25 = v23 * 3.0;
                    let v26 = v20 * p5 + p4 * v21;
                    let v27 = v22 * (v24 * v21);
                    let v28 = v27 + v27;
                    x4[i19] += v26 + v26 + (v24 * (v25 * p5 + p4 * (3.0 * v28)) + p4 * v25 * -v28);
                }
                (0.0, 0.0)
            })
        }
    "#]].assert_eq(&text);
}

/// The adjoint loop of a map (`dx[i] += …`, nothing carried, every element its own) runs
/// forwards in lanes: its iterations are independent, so the VJP's reversed order is moot.
/// (The forward loop calls `exp`: its chunks are [`crate::emit::WIDE_LANES`] long.)
#[test]
fn an_order_free_adjoint_loop_runs_forwards_in_lanes() {
    let text = diff_text(
        LSE,
        &DiffOptions {
            mode: Mode::Reverse,
            emit: EmitKind::Rust,
            simd: Simd::ON,
            active: Some(vec![true, false]),
            ..DiffOptions::default()
        },
    )
    .unwrap();
    expect![[r#"
        pub fn lse_vjp(p0: &[f64], p1: &mut [f64], p2: f64, p3: f64) -> f64 {
            ::ferrad::simd::dispatch_wide(#[inline(always)] move |isa| {
                let v1 = p0.len();
                let mut buf2 = ::ferrad::scratch::take(v1);
                let n3 = v1;
                let x4 = &p0[..n3];
                let x5 = &mut buf2[..n3];
                let mut acc6 = [0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0];
                let mut b7 = 0;
                while b7 + 16 <= n3 {
                    let x9: [f64; 16] = ::core::convert::TryInto::try_into(&x4[b7..b7 + 16]).unwrap();
                    let mut x10: [f64; 16] = ::core::convert::TryInto::try_into(&x5[b7..b7 + 16]).unwrap();
                    for l8 in 0..16 {
                        let v11 = isa.exp(x9[l8] - p2);
                        x10[l8] = v11;
                        acc6[l8] += v11;
                    }
                    x5[b7..b7 + 16].copy_from_slice(&x10);
                    b7 += 16;
                }
                let mut acc12 = (((acc6[0] + acc6[1]) + (acc6[2] + acc6[3])) + ((acc6[4] + acc6[5]) + (acc6[6] + acc6[7]))) + (((acc6[8] + acc6[9]) + (acc6[10] + acc6[11])) + ((acc6[12] + acc6[13]) + (acc6[14] + acc6[15])));
                for i13 in b7..n3 {
                    let v14 = isa.exp(x4[i13] - p2);
                    x5[i13] = v14;
                    acc12 += v14;
                }
                let v15 = p3 * acc12.recip();
                let n16 = v1;
                let x17 = &mut p1[..n16];
                let x18 = &mut buf2[..n16];
                let mut b19 = 0;
                while b19 + 4 <= n16 {
                    let mut x21: [f64; 4] = ::core::convert::TryInto::try_into(&x17[b19..b19 + 4]).unwrap();
                    let x22: [f64; 4] = ::core::convert::TryInto::try_into(&x18[b19..b19 + 4]).unwrap();
                    for l20 in 0..4 {
                        x21[l20] += v15 * x22[l20];
                    }
                    x17[b19..b19 + 4].copy_from_slice(&x21);
                    b19 += 4;
                }
                for i23 in b19..n16 {
                    x17[i23] += v15 * x18[i23];
                }
                ::ferrad::scratch::give(buf2);
                isa.ln(acc12) + p2
            })
        }
    "#]].assert_eq(&text);
    // a carried sum keeps the reversed order (here: the adjoint of the shift)
    let all = emit(LSE, Mode::Reverse, Simd::ON);
    assert!(all.contains(".rev()"), "{all}");
}

/// Which dispatcher wraps a function: `dispatch_wide` (an AVX-512 copy too) only where a loop
/// in lanes calls a math function; a loop that carries a product runs in order, scalar, and a
/// loop without math calls gains nothing from 512-bit registers worth their clock cost.
#[test]
fn only_math_loops_in_lanes_get_the_avx512_copy() {
    let first = |src: &str, mode: Mode, simd: Simd| {
        let code = emit(src, mode, simd);
        code.lines().nth(1).unwrap().trim().to_string()
    };
    let wide = "::ferrad::simd::dispatch_wide(#[inline(always)] move |isa| {";
    let avx2 = "::ferrad::simd::dispatch(#[inline(always)] move |isa| {";
    // tanh summed in lanes
    assert_eq!(first(R, Mode::Reverse, Simd::ON), wide);
    // the same, with sequential sums (`strict-order`): scalar, so AVX2 at most
    assert_eq!(first(R, Mode::Reverse, Simd::STRICT), avx2);
    // sin in a loop that carries a product and its tangent: in order
    assert_eq!(first(PROD, Mode::Forward, Simd::ON), avx2);
    // a sum of squares: lanes without math calls
    let squares = "\
fn @sq(%0: &[f64]) -> (f64) {
  %1: i64 = len %0
  %2: i64 = const 0
  %3: f64 = const 0.0
  %4: f64 = for %5 = %2 to %1 carry(%6 = %3) {
    %7: f64 = load %0[%5]
    %8: f64 = mul %7, %7
    %9: f64 = add %6, %8
    yield %9
  }
  return %4
}
";
    assert_eq!(first(squares, Mode::Reverse, Simd::ON), avx2);
}
