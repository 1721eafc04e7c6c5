//! Concurrency and tape ownership: threads differentiating different functions at once match the
//! sequential results bit for bit, tapes nest on one thread, and a `Var` used with a tape that is
//! not active (dropped, another thread, another tape) panics with a clear message.
#![allow(clippy::needless_range_loop)] // index loops mirror the math (H[i][j])

mod common;

use std::sync::Barrier;

use common::*;
use ferrad_core::prelude::*;
use ferrad_core::{gradient, gradient_forward, hessian, hvp, jacobian};

fn f0<T: Real>(x: &[T]) -> T {
    x.iter().map(|&v| v.sin() * v.exp()).sum::<T>() + x[0] * x[x.len() - 1]
}
fn f1<T: Real>(x: &[T]) -> T {
    let s: T = x.iter().map(|&v| v * v).sum();
    (s + T::one()).ln() * x[1].tanh()
}
fn f2<T: Real>(x: &[T]) -> T {
    x.windows(2)
        .map(|w| (w[1] - w[0] * w[0]).powi(2) * 100.0 + (T::one() - w[0]).powi(2))
        .sum()
}
fn f3<T: Real>(x: &[T]) -> T {
    x.iter().fold(T::one(), |a, &v| (a * v).atan() + v.hypot(a))
}
fn g0<T: Real>(x: &[T]) -> Vec<T> {
    vec![x[0] * x[1], x[1].sin() + x[2], x[2].exp() - x[0]]
}

/// Everything one thread computes for one function: gradient, forward gradient, hvp, hessian
/// (both paths), a reverse-over-reverse Hessian and a Jacobian.
type Results = (
    (f64, Vec<f64>),
    (f64, Vec<f64>),
    (f64, Vec<f64>, Vec<f64>),
    (f64, Vec<f64>, Vec<Vec<f64>>),
    (f64, Vec<f64>, Vec<Vec<f64>>),
    (f64, Vec<f64>, Vec<Vec<f64>>),
    (Vec<f64>, Vec<Vec<f64>>),
);

fn work(k: usize, x: &[f64]) -> Results {
    fn all<F: ScalarFn>(f: &F, x: &[f64]) -> Results {
        let v: Vec<f64> = (0..x.len()).map(|i| 1.0 - 0.1 * i as f64).collect();
        let big: Vec<f64> = (0..15).map(|i| x[i % x.len()] + 0.01 * i as f64).collect();
        (
            gradient(f, x),
            gradient_forward(f, x),
            hvp(f, x, &v),
            hessian(f, x),
            hessian(f, &big),
            hessian_var_var(f, x),
            jacobian(&ferrad_core::vector_fn!(g0), x),
        )
    }
    match k % 4 {
        0 => all(&ferrad_core::scalar_fn!(f0), x),
        1 => all(&ferrad_core::scalar_fn!(f1), x),
        2 => all(&ferrad_core::scalar_fn!(f2), x),
        _ => all(&ferrad_core::scalar_fn!(f3), x),
    }
}

fn point_for(k: usize, rep: usize) -> Vec<f64> {
    (0..4)
        .map(|i| ((k * 7 + rep * 3 + i) as f64 * 0.37).sin())
        .collect()
}

#[test]
fn threads_match_sequential_results() {
    const THREADS: usize = 8;
    const REPS: usize = 12;
    let sequential: Vec<Vec<Results>> = (0..THREADS)
        .map(|k| (0..REPS).map(|r| work(k, &point_for(k, r))).collect())
        .collect();
    let barrier = Barrier::new(THREADS);
    let parallel: Vec<Vec<Results>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|k| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    (0..REPS)
                        .map(|r| work(k, &point_for(k, r)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker panicked"))
            .collect()
    });
    for k in 0..THREADS {
        for r in 0..REPS {
            assert_eq!(
                parallel[k][r], sequential[k][r],
                "thread {k}, repetition {r}"
            );
        }
    }
}

#[test]
fn threads_with_long_lived_tapes_do_not_interfere() {
    // Each thread keeps its own tape open while recording many operations, interleaved in time
    // with the others; each gets the gradient of its own function.
    std::thread::scope(|s| {
        for k in 0..6usize {
            s.spawn(move || {
                let tape = Tape::<f64>::new();
                let x = tape.var(0.5 + k as f64);
                let mut y = x;
                for i in 0..2000 {
                    y = (y * 0.5).sin() + x * (i % 3) as f64;
                    if i % 100 == 0 {
                        std::thread::yield_now();
                    }
                }
                let g = tape.gradient(y).wrt(&x);
                let (v2, g2) = ferrad_core::reverse::gradient_with(
                    |x| {
                        let mut y = x[0];
                        for i in 0..2000 {
                            y = (y * 0.5).sin() + x[0] * (i % 3) as f64;
                        }
                        y
                    },
                    &[0.5 + k as f64],
                );
                assert_eq!((y.val(), g), (v2, g2[0]), "thread {k}");
            });
        }
    });
}

#[test]
fn nested_tapes_on_one_thread() {
    let outer = Tape::<f64>::new();
    let x = outer.var(2.0);
    let y1 = x * x;
    let inner = Tape::<f64>::new();
    let y = inner.var(3.0);
    let z1 = y.sin();
    let y2 = y1 * x; // back on the outer tape while the inner one is active
    let z2 = z1 * y;
    assert_eq!(outer.gradient(y2).wrt(&x), 12.0);
    assert_eq!(
        inner.gradient(z2).wrt(&y),
        3.0f64.sin() + 3.0 * 3.0f64.cos()
    );
    assert_eq!(outer.len(), 3);
    assert_eq!(inner.len(), 3);
    // Dropping the outer tape first leaves the inner one usable.
    drop(outer);
    let z3 = z2.exp();
    check(
        "after dropping the outer tape",
        inner.gradient(z3).wrt(&y),
        z2.val().exp() * (3.0f64.sin() + 3.0 * 3.0f64.cos()),
        1e-15,
        0.0,
    );
    // Tapes of different number types nest too (this is how hvp works).
    let t2 = Tape::<Dual<f64>>::new();
    let d = t2.var(Dual::new(1.5, 1.0));
    let w = d.powi(3);
    let gd = t2.gradient(w).wrt(&d);
    assert_eq!((gd.re, gd.eps), (3.0 * 1.5 * 1.5, 6.0 * 1.5));
    let _ = inner.gradient(z3);
}

#[test]
fn constants_work_on_any_thread() {
    let c = Var::constant(2.0f64);
    let v = std::thread::scope(|s| s.spawn(move || (c * c).sin().val()).join().unwrap());
    assert_eq!(v, 4.0f64.sin());
}

#[test]
#[should_panic(expected = "which is not active on this thread")]
fn var_of_a_dropped_tape_panics() {
    let x = {
        let tape = Tape::<f64>::new();
        tape.var(1.0)
    };
    let _ = x.sin();
}

#[test]
fn var_sent_to_another_thread_panics_there() {
    let tape = Tape::<f64>::new();
    let x = tape.var(1.0);
    let err =
        std::thread::scope(|s| s.spawn(move || (x * 2.0).val()).join()).expect_err("must panic");
    let msg = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(msg.contains("not active on this thread"), "message: {msg}");
    // The tape on this thread is unaffected.
    assert_eq!(tape.gradient(x * 3.0).wrt(&x), 3.0);
}

#[test]
#[should_panic(expected = "mixes Vars of tape")]
fn mixing_two_tapes_panics() {
    let a = Tape::<f64>::new();
    let b = Tape::<f64>::new();
    let _ = a.var(1.0) * b.var(2.0);
}

#[test]
#[should_panic(expected = "read from adjoints of tape")]
fn reading_adjoints_of_another_tape_panics() {
    let a = Tape::<f64>::new();
    let b = Tape::<f64>::new();
    let x = a.var(1.0);
    let y = b.var(2.0);
    let g = a.gradient(x.sin());
    let _ = g.wrt(&y);
}

/// Regression: `Var::ternary` once took the tape as the max of the ids when the first argument
/// of `mul_add` was a constant, so `b` and `c` on different tapes went undetected.
#[test]
fn mul_add_mixing_two_tapes_panics() {
    let a = Tape::<f64>::new();
    let b = Tape::<f64>::new();
    let (x, y) = (a.var(1.0), b.var(2.0));
    let r = std::panic::catch_unwind(|| Var::constant(3.0).mul_add(x, y));
    assert!(
        r.is_err(),
        "mul_add(const, tape #{} var, tape #{} var) did not panic",
        a.id(),
        b.id()
    );
    let r = std::panic::catch_unwind(|| x.mul_add(Var::constant(3.0), y));
    assert!(
        r.is_err(),
        "mul_add(tape #{} var, const, tape #{} var) did not panic",
        a.id(),
        b.id()
    );
}

/// Regression: tape ids were once counted per thread, so a `Var` moved to another thread whose
/// first tape had the same id was silently recorded against the wrong tape.
#[test]
fn var_moved_to_a_thread_with_its_own_tape_panics() {
    // Thread 1: its first tape; the Var escapes.
    let x = std::thread::scope(|s| {
        s.spawn(|| {
            let tape = Tape::<f64>::new();
            tape.var(3.0)
        })
        .join()
        .unwrap()
    });
    // Thread 2: its first tape; using thread 1's Var there must panic, not mix slots.
    let outcome = std::thread::scope(|s| {
        s.spawn(move || {
            let tape = Tape::<f64>::new();
            let y = tape.var(2.0);
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let z = x * y;
                tape.gradient(z).wrt(&y)
            }));
            r.ok()
        })
        .join()
        .unwrap()
    });
    assert!(
        outcome.is_none(),
        "no panic; ∂(x·y)/∂y came out as {outcome:?} (want a panic)"
    );
}
