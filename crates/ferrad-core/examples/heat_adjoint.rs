//! Adjoint of a 1-D heat equation with binomial checkpointing.
//!
//! `u_t = κ·u_xx` on `[0, 1]`, `u = 0` at both ends, 1,000 cells, explicit Euler for 10,000 steps
//! (`r = κ·dt/dx² = 0.4`, stable). The loss is the final energy `E = Σ uᵢ²·dx`; we want
//! `∂E/∂u₀` (1,000 values) and `∂E/∂κ`. Compared: one tape of all steps, and checkpointing with
//! 64 and 16 snapshots.
//!
//! Run with `cargo run --release -p ferrad-core --example heat_adjoint`.

use std::time::Instant;

use ferrad_core::checkpoint::{self, LoopGradient, TimeStep};
use ferrad_core::prelude::*;

const CELLS: usize = 1_000;
const STEPS: usize = 10_000;
const DX: f64 = 1.0 / (CELLS as f64 + 1.0);
const DT: f64 = 0.4 * DX * DX;

/// One explicit Euler step; `theta = [κ]`.
struct Heat;

impl TimeStep for Heat {
    fn step<T: Real>(&self, _k: usize, u: &[T], theta: &[T]) -> Vec<T> {
        let n = u.len();
        let r = theta[0] * (DT / (DX * DX));
        let c = T::one() - r * 2.0;
        (0..n)
            .map(|i| {
                let left = if i > 0 { u[i - 1] } else { T::zero() };
                let right = if i + 1 < n { u[i + 1] } else { T::zero() };
                u[i] * c + (left + right) * r
            })
            .collect()
    }
}

fn energy<T: Real>(u: &[T]) -> T {
    u.iter().map(|&v| v * v).sum::<T>() * DX
}

/// The process's peak resident memory so far (Linux), in bytes.
fn peak_rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn mib(b: usize) -> String {
    format!("{:.3} MiB", b as f64 / (1024.0 * 1024.0))
}

fn report(name: &str, g: &LoopGradient, secs: f64, rss_before: Option<usize>) {
    let s = &g.stats;
    let rss = match (rss_before, peak_rss()) {
        (Some(a), Some(b)) => mib(b.saturating_sub(a)),
        _ => "n/a".into(),
    };
    println!(
        "{name:<14} {secs:>7.3} s  {:>7} fwd  {:>6} taped  {:>3} snaps  tape {:>13}  peak {:>13}  (peak RSS growth {rss})",
        s.forward_steps,
        s.taped_steps,
        s.peak_snapshots,
        mib(s.max_tape_bytes),
        mib(s.peak_bytes),
    );
}

fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
        / scale
}

fn main() {
    let u0: Vec<f64> = (1..=CELLS)
        .map(|i| {
            let x = i as f64 * DX;
            (std::f64::consts::PI * x).sin() + 0.5 * (7.0 * std::f64::consts::PI * x).sin()
        })
        .collect();
    let kappa = [1.0];
    let loss = ferrad_core::scalar_fn!(energy);
    println!("1-D heat equation: {CELLS} cells, {STEPS} explicit Euler steps, r = κ·dt/dx² = 0.4");

    let t = Instant::now();
    let u_final = checkpoint::run(&Heat, &u0, &kappa, STEPS);
    let primal = t.elapsed().as_secs_f64();
    println!(
        "primal only    {primal:>7.3} s  E(u₀) = {:.12e}, E(u_T) = {:.12e}",
        energy(&u0),
        energy(&u_final)
    );

    // Checkpointed runs first: the process's peak RSS only grows, so the full tape goes last.
    let mut results = Vec::new();
    for snapshots in [64, 16] {
        let before = peak_rss();
        let t = Instant::now();
        let g = checkpoint::gradient(&Heat, &loss, &u0, &kappa, STEPS, snapshots);
        let secs = t.elapsed().as_secs_f64();
        report(&format!("{snapshots} snapshots"), &g, secs, before);
        assert_eq!(
            g.stats.forward_steps,
            checkpoint::min_forward_steps(STEPS, snapshots)
        );
        results.push(g);
    }
    let before = peak_rss();
    let t = Instant::now();
    let full = checkpoint::gradient_full_tape(&Heat, &loss, &u0, &kappa, STEPS);
    let secs = t.elapsed().as_secs_f64();
    report("full tape", &full, secs, before);
    ferrad_core::reverse::release_pooled_memory();

    println!(
        "E = {:.15e}, ∂E/∂κ = {:.15e}, ∂E/∂u₀[500] = {:.15e}",
        full.value, full.d_theta[0], full.d_s0[500]
    );
    for (g, snapshots) in results.iter().zip([64, 16]) {
        let du = max_rel_diff(&g.d_s0, &full.d_s0);
        let dk = (g.d_theta[0] - full.d_theta[0]).abs() / full.d_theta[0].abs();
        println!(
            "{snapshots} snapshots vs full tape: max rel diff ∂E/∂u₀ {du:.2e}, ∂E/∂κ {dk:.2e}"
        );
        assert!(g.value == full.value && du < 1e-12 && dk < 1e-12);
    }
    // An independent check of ∂E/∂κ: central differences of the primal.
    let h = 1e-6;
    let e = |k: f64| energy(&checkpoint::run(&Heat, &u0, &[k], STEPS));
    let fd = (e(1.0 + h) - e(1.0 - h)) / (2.0 * h);
    println!(
        "∂E/∂κ by central differences: {fd:.9e} (rel diff {:.1e})",
        (fd - full.d_theta[0]).abs() / fd.abs()
    );
}
