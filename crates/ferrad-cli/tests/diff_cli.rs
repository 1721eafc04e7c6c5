//! `ferrad diff` end to end: the binary on IR and on Rust files, and its errors.

use std::process::Command;

fn ferrad(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ferrad"))
        .args(args)
        .output()
        .expect("run ferrad");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("ferrad-diff-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

const R_RS: &str = "
/// R of DESIGN §6, as a user writes it under #[autodiff_reverse].
pub fn r(x: &[f64]) -> f64 {
    x.iter().map(|v| v.tanh().powi(3) + v * v).sum()
}
pub fn with_mut(x: &mut [f64]) -> f64 { x[0] }
";

#[test]
fn a_rust_function_shows_its_lowering_and_its_derivative() {
    let file = temp_file("r.rs", R_RS);
    let (ok, primal, err) = ferrad(&["diff", &file, "--function", "r", "--emit", "primal"]);
    assert!(ok, "{err}");
    assert!(
        primal.starts_with("fn @r(%0: &[f64]) -> (f64) {"),
        "{primal}"
    );
    assert!(
        primal.contains("tanh %") && primal.contains("= for %"),
        "{primal}"
    );
    let (ok, rust, err) = ferrad(&["diff", &file, "--function", "r", "--emit", "rust"]);
    assert!(ok, "{err}");
    assert!(
        rust.contains("fn r_vjp(p0: &[f64], p1: &mut [f64], p2: f64) -> f64"),
        "{rust}"
    );
    let (ok, hvp, err) = ferrad(&["diff", &file, "--function", "r", "--mode", "hvp"]);
    assert!(ok, "{err}");
    assert!(hvp.contains("fn @r_vjp_jvp("), "{hvp}");
}

#[test]
fn calls_to_other_functions_of_the_file_are_inlined() {
    let file = temp_file(
        "calls.rs",
        "fn f(x: &[f64]) -> f64 { let mut s = 0.0; for i in 0..x.len() { s += sq(x[i].sin()); } s }
         fn sq(v: f64) -> f64 { v * v }",
    );
    let (ok, primal, err) = ferrad(&["diff", &file, "--function", "f", "--emit", "primal"]);
    assert!(ok, "{err}");
    assert!(
        primal.contains("call @sq(") && primal.contains("fn @sq("),
        "{primal}"
    );
    let (ok, rust, err) = ferrad(&["diff", &file, "--function", "f", "--emit", "rust"]);
    assert!(ok, "{err}");
    assert!(
        rust.contains("fn f_vjp(") && !rust.contains("sq("),
        "{rust}"
    );
}

#[test]
fn rust_files_outside_the_subset_or_without_a_function_are_clear_errors() {
    let file = temp_file("r2.rs", R_RS);
    let (ok, _, err) = ferrad(&["diff", &file, "--function", "with_mut"]);
    assert!(!ok);
    assert!(err.contains("outside the compiled subset"), "{err}");
    let (ok, _, err) = ferrad(&["diff", &file]);
    assert!(!ok);
    assert!(err.contains("--function NAME"), "{err}");
    let (ok, _, err) = ferrad(&["diff", &file, "--function", "nope"]);
    assert!(!ok);
    assert!(err.contains("no free function `nope`"), "{err}");
}

#[test]
fn ir_files_still_work() {
    let file = temp_file(
        "s.ir",
        "fn @s(%0: f64) -> (f64) {\n  %1: f64 = sin %0\n  return %1\n}\n",
    );
    let (ok, out, err) = ferrad(&["diff", &file, "--mode", "forward", "--emit", "rust"]);
    assert!(ok, "{err}");
    assert!(out.contains("fn s_jvp("), "{out}");
    let (ok, _, err) = ferrad(&["diff", "/nonexistent/x.ir"]);
    assert!(!ok && err.contains("cannot read"), "{err}");
}

#[test]
fn an_attribute_gives_its_activities() {
    let file = temp_file(
        "attr.rs",
        "#[autodiff_reverse(d_f, Duplicated, Const, ActiveOnly)]
         fn f(x: &[f64], w: &[f64]) -> f64 { let mut s = 0.0; for i in 0..x.len() { s += w[i] * x[i].sin(); } s }",
    );
    let (ok, rust, err) = ferrad(&["diff", &file, "--function", "f", "--emit", "rust"]);
    assert!(ok, "{err}");
    assert!(
        err.contains("the activities of #[autodiff_reverse(d_f, Duplicated, Const, ActiveOnly)]"),
        "{err}"
    );
    // `w` is Const (no shadow), and the dropped primal leaves no forward sum
    assert!(
        rust.contains("fn f_vjp(p0: &[f64], p1: &mut [f64], p2: &[f64], p3: f64) -> f64"),
        "{rust}"
    );
    assert!(
        rust.trim_end().ends_with("0.0\n}") || rust.contains("    0.0\n}"),
        "{rust}"
    );
    // the other mode differentiates everything
    let (ok, fwd, err) = ferrad(&[
        "diff",
        &file,
        "--function",
        "f",
        "--mode",
        "forward",
        "--emit",
        "rust",
    ]);
    assert!(ok, "{err}");
    assert!(!err.contains("activities"), "{err}");
    assert!(
        fwd.contains("fn f_jvp(p0: &[f64], p1: &[f64], p2: &[f64], p3: &[f64])"),
        "{fwd}"
    );
}

#[test]
fn lanes_set_the_chunks_of_sums_without_math_calls() {
    let file = temp_file(
        "sq.rs",
        "pub fn sq(x: &[f64]) -> f64 { x.iter().map(|v| v * v).sum() }\n",
    );
    let run = |extra: &[&str]| {
        let mut args = vec![
            "diff",
            &file,
            "--function",
            "sq",
            "--emit",
            "rust",
            "--simd",
        ];
        args.extend_from_slice(extra);
        let (ok, out, err) = ferrad(&args);
        assert!(ok, "{err}");
        out
    };
    assert!(run(&[]).contains("+ 4 <= "), "{}", run(&[]));
    let eight = run(&["--lanes", "8"]);
    assert!(
        eight.contains("+ 8 <= ") && !eight.contains("+ 4 <= "),
        "{eight}"
    );
    // sequential sums: no chunks at all
    assert!(!run(&["--lanes", "1"]).contains(" <= "));
    // --lanes shapes SIMD code only
    let (ok, _, err) = ferrad(&["diff", &file, "--function", "sq", "--lanes", "8"]);
    assert!(!ok && err.contains("--simd"), "{err}");
}
