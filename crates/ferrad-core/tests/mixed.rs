//! Mixed precision (issue 4 item 5): a tape with f16/bf16 partials and f32 adjoints, on the
//! reverse-mode benchmark R (DESIGN §6), against the f64 gradient and a derived error bound.

use ferrad_core::mixed::{self, HVar, HalfTape, ScalarFn32, Storage};
use ferrad_core::prelude::*;
use ferrad_core::stdrules::LogSumExp;

/// Benchmark R in single precision: Σ tanh(xᵢ)³ + xᵢ².
struct R32;
impl ScalarFn32 for R32 {
    fn eval<T: Real<f32>>(&self, x: &[T]) -> T {
        x.iter().map(|&v| v.tanh().powi(3) + v * v).sum()
    }
}

fn r64<T: Real>(x: &[T]) -> T {
    x.iter().map(|&v| v.tanh().powi(3) + v * v).sum()
}

fn inputs(n: usize) -> Vec<f64> {
    (1..=n).map(|i| (i as f64).sin()).collect()
}

/// Runs R at n on storage `H` and checks every gradient entry against the f64 gradient within
/// the bound derived in `mixed`'s docs: the adjoint of xᵢ sums two paths,
/// A = 3t²·(1 − t²) (two stored partials) and B = xᵢ + xᵢ (one stored partial each), so
/// |g̃ᵢ − gᵢ| ≤ (2u + u²)·|A| + u·|B| + (f32 arithmetic and input rounding, ≤ 1e-6·(|A| + |B| + 1)).
/// Returns (‖g̃ − g‖₂ / ‖g‖₂, bytes per entry, entries).
fn check_r<H: Storage<Value = f32>>(n: usize) -> (f64, usize, usize) {
    let x = inputs(n);
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let (y, g) = ferrad_core::gradient(&ferrad_core::scalar_fn!(r64), &x);
    let (y32, g32, stats) = mixed::gradient_with::<H>(|v| R32.eval(v), &x32);
    let u = H::UNIT_ROUNDOFF;
    assert!(
        ((y32 as f64) - y).abs() <= 1e-6 * y.abs(),
        "{}: value {y32} vs {y}",
        H::NAME
    );
    let (mut err2, mut norm2) = (0.0, 0.0);
    for i in 0..n {
        let t = x[i].tanh();
        let (a, b) = (3.0 * t * t * (1.0 - t * t), 2.0 * x[i]);
        let bound = (2.0 * u + u * u) * a.abs() + u * b.abs() + 1e-6 * (a.abs() + b.abs() + 1.0);
        let e = (g32[i] as f64 - g[i]).abs();
        assert!(
            e <= bound,
            "{}: g[{i}] = {} vs {} (error {e:.3e} > bound {bound:.3e})",
            H::NAME,
            g32[i],
            g[i]
        );
        err2 += e * e;
        norm2 += g[i] * g[i];
    }
    ((err2 / norm2).sqrt(), stats.bytes_per_entry, stats.entries)
}

#[test]
fn benchmark_r_at_n_1000_memory_and_error() {
    let n = 1000;
    let (e16, b16, n16) = check_r::<half::f16>(n);
    let (eb16, bb16, nb16) = check_r::<half::bf16>(n);
    let (e32, b32, n32) = check_r::<f32>(n);
    // The same recording on an ordinary f64 tape, for the memory comparison.
    let tape = Tape::<f64>::new();
    let xs = tape.vars(&inputs(n));
    let _ = r64(&xs);
    let full = tape.stats();
    let mean = full.bytes as f64 / full.entries as f64;
    println!(
        "R, n = {n}: entries {n16}; bytes/entry f64 {mean:.1} (compact entries, at most {}) \
         | f32 {b32} | bf16 {bb16} | f16 {b16}",
        full.bytes_per_entry
    );
    println!(
        "relative L2 error of the gradient vs f64: f32 {e32:.2e} | bf16 {eb16:.2e} | f16 {e16:.2e}"
    );
    assert_eq!((b16, bb16, b32, full.bytes_per_entry), (12, 12, 16, 25));
    assert!(
        n16 == nb16 && n16 == n32 && n16 == full.entries,
        "same entries as a Tape<f64>"
    );
    // Norm-wise: at most the per-entry bound's worst case, 2u + u² relative, plus f32 noise.
    assert!(e16 <= 2.0 / 2048.0 + 1e-6, "f16 error {e16}");
    assert!(eb16 <= 2.0 / 256.0 + 1e-6, "bf16 error {eb16}");
    assert!(e32 <= 1e-6, "f32 storage error {e32}");
    assert!(e32 < e16 && e16 < eb16);
}

#[test]
fn f32_storage_is_bitwise_the_f32_tape() {
    // With no compression the half tape is exactly a Tape<f32>: same rules, same sweep order.
    let x: Vec<f32> = (1..=200).map(|i| (i as f32 * 0.37).cos() * 2.0).collect();
    let (y, g, _) = mixed::gradient_with::<f32>(|v| R32.eval(v), &x);
    let tape = Tape::<f32>::new();
    let xs = tape.vars(&x);
    let yv = R32.eval(&xs);
    let gv = tape.gradient(yv).wrt_all(&xs);
    assert_eq!(y.to_bits(), yv.val().to_bits());
    for i in 0..x.len() {
        assert_eq!(g[i].to_bits(), gv[i].to_bits(), "g[{i}]");
    }
}

#[test]
fn tape_prints_the_stored_partials() {
    let tape = HalfTape::<half::bf16>::new();
    let x = tape.var(3.0);
    let y = tape.var(2.0);
    let z = x * y + x.sin() * 0.1f32 + 1.0f32;
    assert_eq!(
        tape.dump(),
        "%1 = input\n%2 = input\n%3 = 2.0·%1 + 3.0·%2\n%4 = -0.98828125·%1\n%5 = 0.100097656·%4\n%6 = 1.0·%3 + 1.0·%5\n"
    );
    // cos 3 = -0.98999…, 0.1 rounded to 8 significant bits; "+ 1" costs no entry.
    let g = tape.adjoints_wrt(&[(z, 1.0)], &[x, y]);
    assert_eq!(g, vec![2.0 + -0.98828125 * 0.10009766, 3.0]);
    assert_eq!(tape.stats().entries, 6);
}

#[test]
fn f16_range_is_limited_and_bf16_is_not() {
    // e¹² ≈ 162755 exceeds f16's largest finite value (65504): the stored partial is inf.
    let (_, g16, _) = mixed::gradient_with::<half::f16>(|x| x[0].exp(), &[12.0]);
    let (y, gb, _) = mixed::gradient_with::<half::bf16>(|x| x[0].exp(), &[12.0]);
    assert_eq!(g16[0], f32::INFINITY);
    assert!(((gb[0] - y) / y).abs() <= 1.0 / 256.0);
}

#[test]
fn custom_rules_record_on_the_half_tape() {
    let x = [0.5f32, -1.0, 2.0, 1000.0, 999.0];
    let (y, g, stats) = mixed::gradient_with::<half::bf16>(
        |v: &[HVar<half::bf16>]| <HVar<half::bf16> as Real<f32>>::apply_custom(&LogSumExp, v)[0],
        &x,
    );
    let (y64, g64) = ferrad_core::reverse::gradient_with(
        |v| apply_rule(&LogSumExp, v)[0],
        &x.iter().map(|&v| v as f64).collect::<Vec<_>>(),
    );
    assert!((y as f64 - y64).abs() <= 1e-6 * y64.abs());
    for i in 0..x.len() {
        assert!(
            (g[i] as f64 - g64[i]).abs() <= g64[i].abs() / 256.0 + 1e-30,
            "g[{i}] = {} vs {}",
            g[i],
            g64[i]
        );
    }
    // Inputs plus one chain node per active input.
    assert_eq!(stats.entries, 2 * x.len());
}

#[test]
#[should_panic(expected = "not active on this thread")]
fn a_var_outliving_its_tape_is_named() {
    let x = {
        let tape = HalfTape::<half::f16>::new();
        tape.var(1.0)
    };
    let _ = x.sin();
}
