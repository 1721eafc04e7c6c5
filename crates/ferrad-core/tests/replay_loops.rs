//! Recorded tapes of loops: replay re-rolls the repeated body into loops (see
//! `reverse/replay.rs`), and must give exactly the gradient and Jacobian of a fresh tape, on
//! the recorded input and on others, whatever the loop's shape: maps, sums accumulated by one
//! or several instructions, recurrences through several columns, reversed and strided
//! indexing, stored and constant partials, several loops in a row, and loops too short to
//! re-roll.
#![allow(clippy::needless_range_loop)] // index loops mirror the math

use ferrad_core::prelude::*;
use ferrad_core::reverse::RecordedTape;
use ferrad_core::{gradient, jacobian, scalar_fn};
use proptest::prelude::*;

/// R of DESIGN §6: a sum accumulated by two additions per iteration.
fn r<T: Real>(x: &[T]) -> T {
    let mut s = T::cst(0.0);
    for &v in x {
        s = s + v.tanh().powi(3) + v * v;
    }
    s
}

/// A recurrence through two instructions (each step reads the last one), a division and
/// `powf` (two stored partials), subtraction from and division of constants.
fn recurrence<T: Real>(x: &[T]) -> T {
    let mut a = x[0];
    for i in 1..x.len() {
        let b = (a * T::cst(0.5)).sin() + x[i] / (T::cst(2.0) + a * a);
        a = T::cst(1.0) - b.abs().powf(x[i].cos() * T::cst(0.1) + T::cst(1.1)) / T::cst(3.0);
    }
    a
}

/// Reversed and strided indexing, a product, min/max (a step-like branch-free choice) and
/// several loops in a row.
fn strided<T: Real>(x: &[T]) -> T {
    let n = x.len();
    let mut s = T::cst(0.0);
    for i in 0..n {
        s += x[i] * x[n - 1 - i];
    }
    let mut p = T::cst(1.0);
    for i in (0..n).step_by(3) {
        p *= T::cst(1.0) + x[i].exp() * T::cst(0.01);
    }
    let mut m = T::cst(0.0);
    for i in 0..n / 2 {
        m += x[2 * i].max(x[2 * i + 1]) - x[i].floor() * x[i];
    }
    s + p.ln() + m
}

/// F of DESIGN §6 (shortened): the loop counter enters as a constant, `k as f64`, that changes
/// every iteration.
fn f_like<T: Real>(p: &[T]) -> T {
    let mut s = T::cst(0.0);
    for k in 1..=300 {
        let t = k as f64;
        for i in 0..5 {
            s += (p[i] * T::cst(t)).sin() * (p[5 + i] * T::cst(-t)).exp();
        }
    }
    s
}

/// Constants `0.1·k` do not step by a constant exactly in binary: only the stretches where
/// they do re-roll, and the replay is exact all the same.
fn tenths<T: Real>(p: &[T]) -> T {
    let mut s = T::cst(0.0);
    for k in 1..=300 {
        let t = k as f64;
        s += p[0] / T::cst(0.1 * t) - T::cst(t * 0.1) * p[1] + (p[2] + T::cst(t)).sin();
    }
    s
}

/// A comparison inside the loop: the guard reads every iteration's `t`, so that column keeps
/// its slots (it cannot live in block-local scratch).
fn guarded<T: Real>(x: &[T]) -> T {
    let mut s = T::zero();
    for &v in x {
        let t = v.sin() - 0.3;
        s += if t > T::zero() { t * t } else { -t * 0.5 };
    }
    s
}

/// A first loop whose every value a second and a third loop read again (not just its last).
fn two_passes<T: Real>(x: &[T]) -> T {
    let u: Vec<T> = x.iter().map(|&v| v.tanh() * 2.0).collect();
    let a: T = u.iter().zip(x).map(|(&ui, &xi)| ui * xi).sum();
    let b: T = u.iter().map(|&ui| ui.exp()).sum();
    a * b.ln()
}

/// A running product: `·` needs the previous iteration's value in the sweep, so that column's
/// values keep their slots while its adjoints can be block-local.
fn running_product<T: Real>(x: &[T]) -> T {
    let mut p = T::one();
    for &v in x {
        p *= v.sin() * 0.1 + 1.0;
    }
    p
}

/// A map to several outputs (for the Jacobian): y_i = x_i · sin(x_{i+1}) + c.
fn map<T: Real>(x: &[T]) -> Vec<T> {
    (0..x.len() - 1)
        .map(|i| x[i] * x[i + 1].sin() + T::cst(2.0))
        .collect()
}

fn inputs(n: usize, shift: f64) -> Vec<f64> {
    (1..=n).map(|i| (i as f64 + shift).sin()).collect()
}

fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-13 * w.abs().max(1.0) || (g.is_nan() && w.is_nan()),
            "{what}[{i}]: replay {g}, fresh tape {w}"
        );
    }
}

fn check_scalar(name: &str, f: &impl ScalarFn, n: usize, min_looped: f64) {
    let x0 = inputs(n, 0.0);
    let mut tape = RecordedTape::record(f, &x0).unwrap();
    assert!(
        tape.looped_len() as f64 >= min_looped * tape.len() as f64,
        "{name}: only {} of {} entries re-rolled",
        tape.looped_len(),
        tape.len()
    );
    for shift in [0.0, 0.01, -0.02] {
        let x = inputs(n, shift);
        let (y, g) = match tape.gradient(&x) {
            Ok(r) => r,
            Err(ferrad_core::Error::ControlFlowChanged { .. }) => continue,
            Err(e) => panic!("{name}: {e}"),
        };
        let (y2, g2) = gradient(f, &x);
        assert_close(&format!("{name} value"), &[y], &[y2]);
        assert_close(&format!("{name} gradient"), &g, &g2);
    }
}

#[test]
fn loops_replay_to_the_fresh_gradient() {
    check_scalar("R", &scalar_fn!(r), 200, 0.9);
    check_scalar("recurrence", &scalar_fn!(recurrence), 100, 0.9);
    check_scalar("strided", &scalar_fn!(strided), 120, 0.8);
    check_scalar("F", &scalar_fn!(f_like), 10, 0.9);
    check_scalar("tenths", &scalar_fn!(tenths), 3, 0.0);
}

/// Loops of several blocks (the scratch's halo carries a value and an adjoint across each block
/// boundary, and the last block is partial), with columns that must keep their slots beside
/// block-local ones.
#[test]
fn block_local_columns_replay_across_blocks() {
    for n in [129, 300, 1000] {
        check_scalar("R", &scalar_fn!(r), n, 0.9);
        check_scalar("recurrence", &scalar_fn!(recurrence), n, 0.9);
        check_scalar("strided", &scalar_fn!(strided), n, 0.8);
        check_scalar("guarded", &scalar_fn!(guarded), n, 0.0);
        check_scalar("two passes", &scalar_fn!(two_passes), n, 0.9);
        check_scalar("running product", &scalar_fn!(running_product), n, 0.9);
    }
}

#[test]
fn short_loops_stay_straight_and_replay_all_the_same() {
    let x = inputs(5, 0.0);
    let mut tape = RecordedTape::record(&scalar_fn!(r), &x).unwrap();
    assert_eq!(tape.looped_len(), 0);
    let (_, g) = tape.gradient(&x).unwrap();
    assert_close("R n=5", &g, &gradient(&scalar_fn!(r), &x).1);
}

#[test]
fn a_looped_map_replays_the_jacobian() {
    struct Map;
    impl VectorFn for Map {
        fn eval<T: Real>(&self, x: &[T]) -> Vec<T> {
            map(x)
        }
    }
    let x0 = inputs(40, 0.0);
    let mut tape = RecordedTape::record_vector(&Map, &x0).unwrap();
    assert!(tape.looped_len() > tape.len() / 2);
    let x = inputs(40, 0.3);
    let (y, jac) = tape.jacobian(&x).unwrap();
    let (y2, jac2) = jacobian(&Map, &x);
    assert_close("map values", &y, &y2);
    for (i, (a, b)) in jac.iter().zip(&jac2).enumerate() {
        assert_close(&format!("map Jacobian row {i}"), a, b);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Repeated sweeps on one tape (each leaves its adjoint buffer clean for the next) at
    /// random inputs agree with fresh tapes.
    #[test]
    fn repeated_replays_agree_with_fresh_tapes(
        xs in prop::collection::vec(prop::collection::vec(-2.0..2.0f64, 30), 1..4)
    ) {
        let f = scalar_fn!(r);
        let mut tape = RecordedTape::record(&f, &xs[0]).unwrap();
        for x in &xs {
            let (y, g) = tape.gradient(x).unwrap();
            let (y2, g2) = gradient(&f, x);
            prop_assert_eq!(y, y2);
            for (a, b) in g.iter().zip(&g2) {
                prop_assert!((a - b).abs() <= 1e-13 * b.abs().max(1.0));
            }
        }
    }
}
