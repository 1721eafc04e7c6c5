//! The Rust emitter on the seed benchmarks: snapshot and shape.

use expect_test::expect;

use super::progs::*;
use crate::emit::{EmitOptions, emit_rust};
use crate::opt::{OptOptions, optimize};
use crate::transform::jvp::{JvpOptions, jvp};
use crate::transform::vjp::{VjpOptions, vjp};

fn names(v: &[&str]) -> EmitOptions {
    EmitOptions {
        param_names: Some(v.iter().map(|s| s.to_string()).collect()),
        public: true,
        ..EmitOptions::default()
    }
}

pub fn f_gradient_rust(n: i64) -> (String, String) {
    let f = traced_f(n);
    let g = vjp(&f, &VjpOptions::default()).unwrap();
    let (g, _) = optimize(&g, &OptOptions::default());
    let mut ps: Vec<String> = (0..10).map(|i| format!("p{i}")).collect();
    ps.push("dloss".into());
    let ps: Vec<&str> = ps.iter().map(|s| s.as_str()).collect();
    (crate::print::print_function(&g), emit_rust(&g, &names(&ps)))
}

pub fn r_gradient_rust() -> (String, String) {
    let f = parse(R);
    let g = vjp(&f, &VjpOptions::default()).unwrap();
    let (g, _) = optimize(&g, &OptOptions::default());
    (
        crate::print::print_function(&g),
        emit_rust(&g, &names(&["x", "dx", "dloss"])),
    )
}

/// The shape a hand-written gradient has: one loop, no allocation, no tape.
fn assert_hand_written(rs: &str, loops: usize) {
    assert_eq!(rs.matches("for ").count(), loops, "{rs}");
    assert!(
        !rs.contains("vec!") && !rs.contains("Vec"),
        "allocates:\n{rs}"
    );
    assert!(
        !rs.contains(".rev()"),
        "a reverse loop was left unfused:\n{rs}"
    );
}

#[test]
fn benchmark_f_gradient_is_one_fused_loop() {
    let (_, rs) = f_gradient_rust(100_000);
    assert_hand_written(&rs, 1);
    assert!(rs.contains("for i12 in 1..100001 {"), "{rs}");
    assert_eq!(
        rs.matches("sin_cos()").count(),
        5,
        "sin and cos share one call per term:\n{rs}"
    );
    assert_eq!(
        rs.matches(".exp()").count(),
        5,
        "exp computed once per term:\n{rs}"
    );
    expect![[r#"
        pub fn f_vjp(p0: f64, p1: f64, p2: f64, p3: f64, p4: f64, p5: f64, p6: f64, p7: f64, p8: f64, p9: f64, dloss: f64) -> (f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64) {
            let mut acc1 = 0.0;
            let mut acc2 = 0.0;
            let mut acc3 = 0.0;
            let mut acc4 = 0.0;
            let mut acc5 = 0.0;
            let mut acc6 = 0.0;
            let mut acc7 = 0.0;
            let mut acc8 = 0.0;
            let mut acc9 = 0.0;
            let mut acc10 = 0.0;
            let mut acc11 = 0.0;
            for i12 in 1..100001 {
                let v13 = i12 as f64;
                let v14 = v13 * p0;
                let (s15, c16) = v14.sin_cos();
                let v17 = (-(p5 * v13)).exp();
                let v18 = v13 * p1;
                let (s19, c20) = v18.sin_cos();
                let v21 = (-(p6 * v13)).exp();
                let v22 = v13 * p2;
                let (s23, c24) = v22.sin_cos();
                let v25 = (-(p7 * v13)).exp();
                let v26 = v13 * p3;
                let (s27, c28) = v26.sin_cos();
                let v29 = (-(p8 * v13)).exp();
                let v30 = v13 * p4;
                let (s31, c32) = v30.sin_cos();
                let v33 = (-(p9 * v13)).exp();
                acc1 = acc1 + s15 * v17 + s19 * v21 + s23 * v25 + s27 * v29 + s31 * v33;
                acc2 += dloss * v17 * c16 * v13;
                acc3 += -(dloss * s15 * v17) * v13;
                acc4 += dloss * v21 * c20 * v13;
                acc5 += -(dloss * s19 * v21) * v13;
                acc6 += dloss * v25 * c24 * v13;
                acc7 += -(dloss * s23 * v25) * v13;
                acc8 += dloss * v29 * c28 * v13;
                acc9 += -(dloss * s27 * v29) * v13;
                acc10 += dloss * v33 * c32 * v13;
                acc11 += -(dloss * s31 * v33) * v13;
            }
            (acc1, acc2, acc4, acc6, acc8, acc10, acc3, acc5, acc7, acc9, acc11)
        }
    "#]].assert_eq(&rs);
}

#[test]
fn benchmark_r_gradient_is_one_fused_loop() {
    let (ir, rs) = r_gradient_rust();
    assert_hand_written(&rs, 1);
    assert!(rs.contains("dx[i2] += "), "{rs}");
    expect![[r#"
        fn @r_vjp(%0: &[f64], %1: &mut [f64], %2: f64) -> (f64) {
          %3: i64 = len %0
          %4: i64 = const 0
          %5: f64 = const 0.0
          %6: f64 = const 1.0
          %7: f64 = const 3.0
          %8: f64 = for %9 = %4 to %3 carry(%10 = %5) {
            %11: f64 = load %0[%9]
            %12: f64 = tanh %11
            %13: f64 = powi %12, 3
            %14: f64 = mul %11, %11
            %15: f64 = add %13, %14
            %16: f64 = add %10, %15
            %17: f64 = mul %2, %11
            %18: f64 = add %17, %17
            %19: f64 = mul %12, %12
            %20: f64 = mul %19, %7
            %21: f64 = mul %2, %20
            %22: f64 = sub %6, %19
            %23: f64 = mul %21, %22
            %24: f64 = add %18, %23
            %25: f64 = load %1[%9]
            %26: f64 = add %25, %24
            store %1[%9], %26
            yield %16
          }
          return %8
        }
    "#]]
    .assert_eq(&ir);
    expect![[r#"
        pub fn r_vjp(x: &[f64], dx: &mut [f64], dloss: f64) -> f64 {
            let mut acc1 = 0.0;
            for i2 in 0..x.len() {
                let v3 = x[i2];
                let v4 = v3.tanh();
                let v5 = dloss * v3;
                let v6 = v4 * v4;
                dx[i2] += v5 + v5 + dloss * (v6 * 3.0) * (1.0 - v6);
                acc1 += v4.powi(3) + v3 * v3;
            }
            acc1
        }
    "#]]
    .assert_eq(&rs);
}

#[test]
fn benchmark_f_forward_mode_width_10_is_one_loop() {
    let f = traced_f(100_000);
    let g = jvp(
        &f,
        &JvpOptions {
            width: 10,
            active: None,
        },
    )
    .unwrap();
    let (g, _) = optimize(&g, &OptOptions::default());
    let rs = emit_rust(&g, &EmitOptions::default());
    if std::env::var("FERRAD_SHOW").is_ok() {
        println!("{rs}");
    }
    assert_hand_written(&rs, 1);
    assert_eq!(rs.matches("sin_cos()").count(), 5, "{rs}");
}

#[test]
fn emitter_writes_ifs_selects_and_reverse_loops() {
    let src = "fn @g(%0: &mut [f64], %1: f64) -> (f64) {
  %2: i64 = len %0
  %3: i64 = const 0
  %4: bool = lt %1, %1
  %5: f64 = const -2.0
  %6: f64 = select %4, %1, %5
  %7: f64 = for rev %8 = %3 to %2 carry(%9 = %6) {
    %10: f64 = load %0[%8]
    %11: bool = gt %10, %9
    %12: f64 = if %11 {
      %13: f64 = sub %10, %9
      yield %13
    } else {
      %14: f64 = abs %9
      yield %14
    }
    store %0[%8], %12
    yield %12
  }
  return %7
}";
    let f = parse(src);
    expect![[r#"
        pub fn g(y: &mut [f64], s: f64) -> f64 {
            let mut acc1 = if s < s { s } else { -2.0 };
            for i2 in (0..y.len()).rev() {
                let v3 = y[i2];
                let v4 = if v3 > acc1 {
                    v3 - acc1
                } else {
                    acc1.abs()
                };
                y[i2] = v4;
                acc1 = v4;
            }
            acc1
        }
    "#]]
    .assert_eq(&emit_rust(&f, &names(&["y", "s"])));
}

/// Compiles the emitted F and R gradients with rustc and checks the values they compute
/// against DESIGN §6 (the emitter's output is real Rust, not just text that looks like it).
#[test]
fn emitted_gradients_compile_and_match_the_references() {
    let (_, f) = f_gradient_rust(100_000);
    let (_, r) = r_gradient_rust();
    let main = r#"
fn main() {
    let p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.01, 0.02, 0.03, 0.04, 0.05];
    let o = f_vjp(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], 1.0);
    assert!((o.0 - 2.248195627699457e+01).abs() < 1e-10, "{}", o.0);
    assert!((o.1 - -9.713268349016758e+01).abs() < 1e-9, "{}", o.1);
    assert!((o.10 - -7.840243609283328e-01).abs() < 1e-11, "{}", o.10);
    let x: Vec<f64> = (1..=50).map(|i| (i as f64).sin()).collect();
    let mut dx = vec![0.0; 50];
    let y = r_vjp(&x, &mut dx, 1.0);
    assert!((y - 2.512319765985212e+01).abs() < 1e-12);
    assert!((dx[0] - 2.430488478694623).abs() < 1e-13);
    println!("ok");
}
"#;
    let dir = std::env::temp_dir().join(format!("ferrad-ir-emit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("main.rs");
    std::fs::write(&src, format!("{f}\n{r}\n{main}")).unwrap();
    let exe = dir.join("main");
    let out = std::process::Command::new("rustc")
        .args(["--edition", "2024", "-O", "-D", "warnings"])
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("rustc runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = std::process::Command::new(&exe).output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&run.stdout).trim(), "ok");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every sample's optimized JVP and VJP is valid Rust (compiled as a library, warnings denied).
#[test]
fn emitted_derivatives_of_all_samples_compile() {
    let mut src = String::new();
    for p in [R, PROD, BRANCH, STORE, NESTED, COUNTER] {
        let f = parse(p);
        let g = vjp(&f, &VjpOptions::default()).unwrap();
        let (g, _) = optimize(&g, &OptOptions::default());
        src.push_str(&emit_rust(
            &g,
            &EmitOptions {
                public: true,
                ..EmitOptions::default()
            },
        ));
        let g = jvp(
            &f,
            &JvpOptions {
                width: 2,
                active: None,
            },
        )
        .unwrap();
        let (g, _) = optimize(&g, &OptOptions::default());
        src.push_str(&emit_rust(
            &g,
            &EmitOptions {
                public: true,
                ..EmitOptions::default()
            },
        ));
    }
    let dir = std::env::temp_dir().join(format!("ferrad-ir-emit-lib-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("lib.rs");
    std::fs::write(&file, &src).unwrap();
    let out = std::process::Command::new("rustc")
        .args([
            "--edition",
            "2024",
            "--crate-type",
            "lib",
            "-D",
            "warnings",
            "--out-dir",
        ])
        .arg(&dir)
        .arg(&file)
        .output()
        .expect("rustc runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}\n{src}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs every sample's emitted, compiled derivatives and compares all outputs (returned values
/// and final buffer contents) with the interpreter running the same IR.
#[test]
fn emitted_derivatives_compute_what_the_interpreter_computes() {
    compiled_matches_interpreter(crate::emit::Simd::OFF, 4);
}

const SAMPLES: [&str; 14] = [
    R, PROD, BRANCH, STORE, NESTED, COUNTER, LANES, LAGGED, PACKED, RECUR, STENCIL, CARRYIDX, SOA,
    OVERLAP,
];

/// The same with sums in lanes and re-sliced buffers (the std-only part of the SIMD shape;
/// `ferrad::math` and the dispatch need the `ferrad` crate: the macro tests run them), on
/// buffers of 7 (one chunk of 4 and a tail of 3) and 2 (the tail only), and in 16 lanes on 37.
#[test]
fn lane_split_derivatives_compute_what_the_interpreter_computes() {
    let simd = crate::emit::Simd {
        math: false,
        dispatch: false,
        pool: false,
        ..crate::emit::Simd::ON
    };
    compiled_matches_interpreter(simd, 7);
    compiled_matches_interpreter(simd, 2);
    // the wide chunks of loops that call exp or ln (`ferrad::math` is not available here, so
    // every loop gets them): two chunks and a tail
    let wide = crate::emit::Simd {
        lanes: crate::emit::WIDE_LANES,
        ..simd
    };
    compiled_matches_interpreter(wide, 37);
}

fn compiled_matches_interpreter(simd: crate::emit::Simd, len: usize) {
    use crate::interp::{Arg, Val, run_function};
    use crate::ir::Type;
    let mut lib = String::new();
    let mut main = String::from("fn main() {\n");
    let mut want: Vec<f64> = vec![];
    for (k, p) in SAMPLES.into_iter().enumerate() {
        let f = parse(p);
        let mut gs = vec![];
        let g = vjp(&f, &VjpOptions::default()).unwrap();
        gs.push(optimize(&g, &OptOptions::default()).0);
        let g = jvp(
            &f,
            &JvpOptions {
                width: 2,
                active: None,
            },
        )
        .unwrap();
        gs.push(optimize(&g, &OptOptions::default()).0);
        for g in gs {
            lib.push_str(&emit_rust(
                &g,
                &EmitOptions {
                    simd,
                    ..EmitOptions::default()
                },
            ));
            let mut args = vec![];
            let mut call = vec![];
            main.push_str("    {\n");
            for (j, &p) in g.params.iter().enumerate() {
                let seed = 0.3 + 0.17 * (j + k) as f64;
                match g.ty(p) {
                    Type::F64 => {
                        args.push(Arg::F64(seed));
                        call.push(format!("{seed:?}"));
                    }
                    t => {
                        let v: Vec<f64> = (0..len).map(|i| (seed * (i + 1) as f64).sin()).collect();
                        main.push_str(&format!("        let mut b{j}: Vec<f64> = vec!{v:?};\n"));
                        call.push(if t == Type::Buf {
                            format!("&b{j}")
                        } else {
                            format!("&mut b{j}")
                        });
                        args.push(Arg::Buf(v));
                    }
                }
            }
            let out = run_function(&g, &mut args).unwrap();
            let nret = out.len();
            main.push_str(&format!(
                "        let r = {}({});\n",
                g.name,
                call.join(", ")
            ));
            let r: Vec<String> = if nret == 1 {
                vec!["r".into()]
            } else {
                (0..nret).map(|i| format!("r.{i}")).collect()
            };
            for (v, name) in out.iter().zip(&r) {
                let Val::F64(x) = v else { panic!("{v:?}") };
                want.push(*x);
                main.push_str(&format!("        println!(\"{{:?}}\", {name});\n"));
            }
            for (j, a) in args.iter().enumerate() {
                if g.ty(g.params[j]) == Type::BufMut {
                    want.extend_from_slice(a.buf().unwrap());
                    main.push_str(&format!(
                        "        for v in &b{j} {{ println!(\"{{v:?}}\"); }}\n"
                    ));
                }
            }
            main.push_str("    }\n");
        }
    }
    main.push_str("}\n");
    if simd.lanes > 1 {
        let step = format!(" += {};\n", simd.lanes);
        assert!(lib.contains(&step), "no loop in lanes:\n{lib}");
    }
    let dir = std::env::temp_dir().join(format!(
        "ferrad-ir-emit-run-{}-{}-{len}",
        std::process::id(),
        simd.lanes
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("main.rs");
    let src = format!("#![allow(unused_mut)]\n{lib}\n{main}");
    std::fs::write(&file, &src).unwrap();
    let exe = dir.join("main");
    let out = std::process::Command::new("rustc")
        .args(["--edition", "2024", "-O", "-D", "warnings", "-o"])
        .arg(&exe)
        .arg(&file)
        .output()
        .expect("rustc runs");
    assert!(
        out.status.success(),
        "{}\n{src}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = std::process::Command::new(&exe).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let got: Vec<f64> = String::from_utf8_lossy(&run.stdout)
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(got.len(), want.len());
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        assert!(
            (a - b).abs() <= 1e-14 * (1.0 + b.abs()),
            "output {i}: compiled {a} vs interpreted {b}\n{src}"
        );
    }
}

/// The VJP's checkpoint and cache buffers are `scratch`: with [`crate::emit::Simd::pool`] they
/// come from `::ferrad::scratch`'s pool and go back at the end of their block (the function's
/// body, or the loop body of a triangular nest whose buffers could not be hoisted); without
/// it, and for zero-initialized `alloc`s, they are `vec![0.0; n]`.
#[test]
fn scratch_buffers_come_from_the_pool() {
    let pooled = crate::emit::Simd {
        math: false,
        dispatch: false,
        lanes: 0,
        reslice: false,
        ..crate::emit::Simd::ON
    };
    let emit = |src: &str, simd| {
        let g = vjp(&parse(src), &VjpOptions::default()).unwrap();
        let (g, _) = optimize(&g, &OptOptions::default());
        emit_rust(
            &g,
            &EmitOptions {
                simd,
                ..EmitOptions::default()
            },
        )
    };
    expect![[r#"
        fn lse_vjp(p0: &[f64], p1: &mut [f64], p2: f64, p3: f64) -> (f64, f64) {
            let v1 = p0.len();
            let mut buf2 = ::ferrad::scratch::take(v1);
            let mut acc3 = 0.0;
            for i4 in 0..v1 {
                let v5 = (p0[i4] - p2).exp();
                buf2[i4] = v5;
                acc3 += v5;
            }
            let v6 = p3 * acc3.recip();
            let mut acc7 = 0.0;
            for i8 in (0..v1).rev() {
                let v9 = v6 * buf2[i8];
                p1[i8] += v9;
                acc7 += -v9;
            }
            ::ferrad::scratch::give(buf2);
            (acc3.ln() + p2, p3 + acc7)
        }
    "#]]
    .assert_eq(&emit(LSE, pooled));
    let plain = emit(LSE, crate::emit::Simd::OFF);
    assert!(plain.contains("vec![0.0_f64;") && !plain.contains("scratch"));
    expect![[r#"
        fn triangle_vjp(p0: &[f64], p1: &mut [f64], p2: f64, p3: f64) -> (f64, f64) {
            let v1 = p0.len();
            let mut buf2 = ::ferrad::scratch::take(v1);
            let mut acc3 = p2;
            for i4 in 0..v1 {
                buf2[i4] = acc3;
                let mut acc5 = acc3;
                for i6 in 0..i4 {
                    acc5 += (acc5 * p0[i6]).sin().exp();
                }
                acc3 = acc5 + p0[i4];
            }
            let mut acc7 = p3;
            for i8 in (0..v1).rev() {
                let v9 = buf2[i8];
                let v10 = if 0 < i8 as i64 { i8 as i64 } else { 0 };
                let mut buf11 = ::ferrad::scratch::take(v10 as usize);
                let mut buf12 = ::ferrad::scratch::take(v10 as usize);
                let mut acc13 = v9;
                for i14 in 0..i8 {
                    buf11[i14] = acc13;
                    let v15 = (acc13 * p0[i14]).sin().exp();
                    buf12[i14] = v15;
                    acc13 += v15;
                }
                p1[i8] += acc7;
                let mut acc16 = acc7;
                for i17 in (0..i8).rev() {
                    let v18 = buf11[i17];
                    let v19 = p0[i17];
                    let v20 = acc16 * buf12[i17] * (v18 * v19).cos();
                    p1[i17] += v20 * v18;
                    acc16 += v20 * v19;
                }
                ::ferrad::scratch::give(buf11);
                ::ferrad::scratch::give(buf12);
                acc7 = acc16;
            }
            ::ferrad::scratch::give(buf2);
            (acc3, acc7)
        }
    "#]]
    .assert_eq(&emit(TRIANGLE, pooled));
    // A zeroed `alloc` (here written in the IR by hand) is never pooled.
    let f = parse(
        "fn @z(%0: i64) -> (f64) {\n  %1: &mut [f64] = alloc %0\n  %2: i64 = const 0\n  %3: f64 = load %1[%2]\n  return %3\n}\n",
    );
    let text = emit_rust(
        &f,
        &EmitOptions {
            simd: pooled,
            ..EmitOptions::default()
        },
    );
    assert!(
        text.contains("vec![0.0_f64; p0 as usize]") && !text.contains("scratch"),
        "{text}"
    );
}

/// A sum over `b + 1..n` (a bound that is a loop index plus a constant) counts in `usize` and
/// runs in lanes, forwards and in the VJP's recomputation; `0..b` (the outer index) too.
#[test]
fn loops_from_an_index_plus_one_run_in_lanes() {
    let simd = crate::emit::Simd {
        math: false,
        dispatch: false,
        pool: false,
        ..crate::emit::Simd::ON
    };
    let f = parse(LAGGED);
    let primal = emit_rust(
        &f,
        &EmitOptions {
            simd,
            ..EmitOptions::default()
        },
    );
    assert!(!primal.contains("as i64.."), "{primal}");
    assert_eq!(primal.matches("while ").count(), 1, "{primal}");
    let g = optimize(
        &vjp(&f, &VjpOptions::default()).unwrap(),
        &OptOptions::default(),
    )
    .0;
    let rs = emit_rust(
        &g,
        &EmitOptions {
            simd,
            ..EmitOptions::default()
        },
    );
    assert!(!rs.contains("as i64.."), "{rs}");
    assert!(rs.matches("while ").count() >= 2, "{rs}");
}

/// The VJP of dot products of packed columns adds into two windows of one adjoint buffer at
/// offsets invariant in the inner loop: with SIMD shaping the loop runs forwards over slices
/// (`split_at_mut` when the windows are disjoint), and as the reversed loop it was otherwise.
/// (Compiled and checked against the interpreter with the other samples.)
#[test]
fn shifted_scatters_run_in_windows() {
    let simd = crate::emit::Simd {
        math: false,
        dispatch: false,
        pool: false,
        ..crate::emit::Simd::ON
    };
    let g = optimize(
        &vjp(&parse(PACKED), &VjpOptions::default()).unwrap(),
        &OptOptions::default(),
    )
    .0;
    let rs = emit_rust(
        &g,
        &EmitOptions {
            simd,
            ..EmitOptions::default()
        },
    );
    expect![[r#"
        fn packed_vjp(p0: &[f64], p1: &mut [f64], p2: &[f64], p3: &mut [f64], p4: f64) -> f64 {
            let v1 = p2.len();
            let mut buf2 = vec![0.0_f64; v1];
            let n3 = v1;
            let x4 = &p2[..n3];
            let x5 = &mut buf2[..n3];
            let mut acc6 = 0.0;
            let mut acc7 = 0;
            for i8 in 0..n3 {
                x5[i8] = acc7 as f64;
                let v9 = i8 as i64 + 1;
                let mut acc10 = 0.0;
                let lo11 = v9 as usize;
                let hi12 = v1;
                if lo11 < hi12 {
                    let len13 = hi12 - lo11;
                    let s14 = (acc7 - v9 + lo11 as i64) as usize;
                    let s15 = (0 - v9 + lo11 as i64) as usize;
                    let w16 = &p0[s14..s14 + len13];
                    let w17 = &p0[s15..s15 + len13];
                    let mut acc19 = [acc10, -0.0, -0.0, -0.0];
                    let mut b20 = 0;
                    while b20 + 4 <= len13 {
                        let x22: [f64; 4] = ::core::convert::TryInto::try_into(&w16[b20..b20 + 4]).unwrap();
                        let x23: [f64; 4] = ::core::convert::TryInto::try_into(&w17[b20..b20 + 4]).unwrap();
                        for l21 in 0..4 {
                            let v24 = x22[l21];
                            acc19[l21] += v24 * x23[l21];
                        }
                        b20 += 4;
                    }
                    let mut acc25 = (acc19[0] + acc19[1]) + (acc19[2] + acc19[3]);
                    for j18 in b20..len13 {
                        let v26 = w16[j18];
                        acc25 += v26 * w17[j18];
                    }
                    acc10 = acc25;
                }
                acc6 += acc10 * x4[i8];
                acc7 = acc7 + 1;
            }
            let n27 = v1;
            let x28 = &p2[..n27];
            let x29 = &mut p3[..n27];
            let x30 = &mut buf2[..n27];
            for i31 in (0..n27).rev() {
                let v32 = x30[i31] as i64;
                let v33 = i31 as i64 + 1;
                let mut acc34 = 0.0;
                let lo35 = v33 as usize;
                let hi36 = v1;
                if lo35 < hi36 {
                    let len37 = hi36 - lo35;
                    let s38 = (v32 - v33 + lo35 as i64) as usize;
                    let s39 = (0 - v33 + lo35 as i64) as usize;
                    let w40 = &p0[s38..s38 + len37];
                    let w41 = &p0[s39..s39 + len37];
                    let mut acc43 = [acc34, -0.0, -0.0, -0.0];
                    let mut b44 = 0;
                    while b44 + 4 <= len37 {
                        let x46: [f64; 4] = ::core::convert::TryInto::try_into(&w40[b44..b44 + 4]).unwrap();
                        let x47: [f64; 4] = ::core::convert::TryInto::try_into(&w41[b44..b44 + 4]).unwrap();
                        for l45 in 0..4 {
                            let v48 = x46[l45];
                            acc43[l45] += v48 * x47[l45];
                        }
                        b44 += 4;
                    }
                    let mut acc49 = (acc43[0] + acc43[1]) + (acc43[2] + acc43[3]);
                    for j42 in b44..len37 {
                        let v50 = w40[j42];
                        acc49 += v50 * w41[j42];
                    }
                    acc34 = acc49;
                }
                let v51 = p4 * x28[i31];
                x29[i31] += p4 * acc34;
                let lo52 = v33 as usize;
                let hi53 = v1;
                if lo52 < hi53 {
                    let len54 = hi53 - lo52;
                    let s55 = (v32 - v33 + lo52 as i64) as usize;
                    let s56 = (0 - v33 + lo52 as i64) as usize;
                    if s56 + len54 <= s55 || s55 + len54 <= s56 {
                        let w57 = &p0[s55..s55 + len54];
                        let w58 = &p0[s56..s56 + len54];
                        let (w59, w60) = if s56 < s55 { let (y61, y62) = p1.split_at_mut(s55); (&mut y61[s56..s56 + len54], &mut y62[..len54]) } else { let (y61, y62) = p1.split_at_mut(s56); (&mut y62[..len54], &mut y61[s55..s55 + len54]) };
                        for j63 in 0..len54 {
                            let v64 = w57[j63];
                            w59[j63] += v51 * v64;
                            w60[j63] += v51 * w58[j63];
                        }
                    } else {
                        for i65 in (lo52..hi53).rev() {
                            let v66 = i65 as i64 - v33;
                            let v67 = v32 + i65 as i64 - v33;
                            let v68 = p0[v67 as usize];
                            p1[v66 as usize] += v51 * v68;
                            p1[v67 as usize] += v51 * p0[v66 as usize];
                        }
                    }
                }
            }
            acc6
        }
    "#]]
    .assert_eq(&rs);
    let plain = emit_rust(&g, &EmitOptions::default());
    assert!(!plain.contains("split_at_mut"), "{plain}");
}

/// A recurrence that reads `x[i − 1]`: its VJP's forward loop caches the carried stage at
/// `i − 1`, and its adjoint loop carries an adjoint backwards; both run in windows (no
/// bounds checks), in their own order.
#[test]
fn carried_loops_run_in_windows_in_their_order() {
    let simd = crate::emit::Simd {
        math: false,
        dispatch: false,
        pool: false,
        ..crate::emit::Simd::ON
    };
    let f = parse(RECUR);
    crate::verify::verify_function(&f, None).unwrap();
    let g = optimize(
        &vjp(&f, &VjpOptions::default()).unwrap(),
        &OptOptions::default(),
    )
    .0;
    let rs = emit_rust(
        &g,
        &EmitOptions {
            simd,
            ..EmitOptions::default()
        },
    );
    expect![[r#"
        fn recur_vjp(p0: &[f64], p1: &mut [f64], p2: &[f64], p3: &mut [f64], p4: f64) -> f64 {
            let v1 = p0.len();
            let v2 = p2[0];
            let mut buf3 = vec![0.0_f64; (if 1 < v1 as i64 { v1 as i64 - 1 } else { 0 }) as usize];
            let mut acc4 = 0.0;
            let mut acc5 = v2;
            let lo6 = 1;
            let hi7 = v1;
            if lo6 < hi7 {
                let len8 = hi7 - lo6;
                let s9 = (-1 + lo6 as i64) as usize;
                let s10 = lo6;
                let w11 = &mut buf3[s9..s9 + len8];
                let w12 = &p0[s10..s10 + len8];
                let w13 = &p0[s9..s9 + len8];
                let w14 = &p2[s10..s10 + len8];
                for j15 in 0..len8 {
                    w11[j15] = acc5;
                    let v16 = w12[j15];
                    let v17 = w13[j15];
                    let v18 = w14[j15];
                    (acc4, acc5) = (acc4 + v18 * (v16 * acc5 + v17).sin(), acc5 * v18 + v16);
                }
            }
            let mut acc19 = 0.0;
            let lo20 = 1;
            let hi21 = v1;
            if lo20 < hi21 {
                let len22 = hi21 - lo20;
                let s23 = (-1 + lo20 as i64) as usize;
                let s24 = lo20;
                if s23 + len22 <= s24 || s24 + len22 <= s23 {
                    let w25 = &buf3[s23..s23 + len22];
                    let w26 = &p0[s24..s24 + len22];
                    let w27 = &p0[s23..s23 + len22];
                    let w28 = &p2[s24..s24 + len22];
                    let w29 = &mut p3[s24..s24 + len22];
                    let (w30, w31) = if s23 < s24 { let (y32, y33) = p1.split_at_mut(s24); (&mut y32[s23..s23 + len22], &mut y33[..len22]) } else { let (y32, y33) = p1.split_at_mut(s23); (&mut y33[..len22], &mut y32[s24..s24 + len22]) };
                    for j34 in (0..len22).rev() {
                        let v35 = w25[j34];
                        let v36 = w26[j34];
                        let v37 = w27[j34];
                        let v38 = v36 * v35 + v37;
                        let (s39, c40) = v38.sin_cos();
                        let v41 = w28[j34];
                        w29[j34] += acc19 * v35 + p4 * s39;
                        let v42 = p4 * v41 * c40;
                        w30[j34] += v42;
                        w31[j34] += acc19 + v42 * v35;
                        acc19 = acc19 * v41 + v42 * v36;
                    }
                } else {
                    for i43 in (lo20..hi21).rev() {
                        let v44 = i43 as i64 - 1;
                        let v45 = buf3[v44 as usize];
                        let v46 = p0[i43];
                        let v47 = p0[v44 as usize];
                        let v48 = v46 * v45 + v47;
                        let (s49, c50) = v48.sin_cos();
                        let v51 = p2[i43];
                        p3[i43] += acc19 * v45 + p4 * s49;
                        let v52 = p4 * v51 * c50;
                        p1[v44 as usize] += v52;
                        p1[i43] += acc19 + v52 * v45;
                        acc19 = acc19 * v51 + v52 * v46;
                    }
                }
            }
            p3[0] += acc19;
            acc4
        }
    "#]]
    .assert_eq(&rs);
}
