//! `ferrad bench`: every mode of every seed benchmark timed in one run, side by side with the
//! primal and a hand-written derivative, checked against DESIGN §6's reference values.
//!
//! Invariant: a mode's time is only reported together with its error against the reference;
//! a mode that disagrees makes the whole run fail.

mod annotated;
mod cases;
mod compiled;
mod limit;
mod math;
mod peers;
mod plot;
pub mod problems;
mod report;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use cases::{ModeKind, all_cases};
pub use report::Record;

/// What to run, from the command line.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Problems to run (`F`, `R`, `H`, `FH`, `M`); empty means all.
    pub problems: Vec<String>,
    /// Size for R and H instead of the default sizes (50 and 1,000,000).
    pub n: Option<usize>,
    /// Short time budget per mode (CI smoke run).
    pub quick: bool,
    /// Write one JSON record per problem and mode here.
    pub json: Option<PathBuf>,
    /// Write a bar chart of the ratios here (SVG).
    pub plot: Option<PathBuf>,
    /// Show a progress bar.
    pub progress: bool,
    /// Add peer rows (JAX, num-dual when built with `peers-num-dual`, echidna when built with
    /// `peers-echidna`).
    pub peers: bool,
}

/// `--install-peers`: a venv with jax for the JAX peer rows (see [`peers::jax::venv_dir`]).
pub fn install_peers() -> Result<(), String> {
    peers::jax::install()
}

/// Runs the benchmarks, prints the table, and returns the records and whether all agreed.
pub fn run(opts: &BenchOptions) -> Result<(Vec<Record>, bool), String> {
    let cases = all_cases(&opts.problems, opts.n, opts.peers)?;
    let total: usize = cases.iter().map(|c| c.modes.len()).sum();
    let bar = if opts.progress {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .map_err(|e| e.to_string())?,
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let budget = if opts.quick {
        Duration::from_millis(20)
    } else {
        Duration::from_millis(700)
    };
    let min_reps = if opts.quick { 1 } else { 5 };
    let jax = opts.peers.then(|| {
        bar.set_message("jax (peer script)");
        peers::jax::run(&cases, budget, min_reps)
    });
    if let Some(peers::jax::Outcome::Failed(why)) = &jax {
        bar.suspend(|| eprintln!("error: the JAX peer script failed: {why}"));
    }
    let mut records = Vec::new();
    for case in &cases {
        let mut primal = None;
        let mut hand = None;
        let mut limit = None;
        let mut rows = Vec::new();
        for mode in &case.modes {
            bar.set_message(format!("{} / {}", case.name, mode.name));
            let row = if let Some(why) = &mode.skip {
                Record::skipped(case, mode, why)
            } else {
                let (out, median, reps) = time(&*mode.run, budget, min_reps);
                let err = (case.check)(mode.kind, out.0, &out.1);
                match mode.kind {
                    ModeKind::Primal => primal = Some(median),
                    ModeKind::Hand => hand = Some(median),
                    ModeKind::Limit => limit = Some(median),
                    _ => {}
                }
                Record::timed(case, mode, median, reps, err)
            };
            rows.push(row);
            bar.inc(1);
        }
        if let Some(outcome) = jax.as_ref().filter(|_| peers::jax::covers(case)) {
            rows.push(peers::jax::record(case, outcome));
        }
        for r in &mut rows {
            r.set_ratios(primal, hand, limit);
        }
        records.extend(rows);
    }
    bar.finish_and_clear();
    let ok = records.iter().all(|r| r.agrees());
    print!("{}", report::table(&records));
    if let Some(path) = &opts.json {
        std::fs::write(path, report::json(&records))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    if let Some(path) = &opts.plot {
        plot::bar_chart(path, &records)?;
    }
    Ok((records, ok))
}

/// Runs `f` until `budget` is spent (at least `min_reps` times, at most 1000) and returns the
/// last output and the median time. Each call gets the vector the previous one returned (see
/// [`cases::Mode::run`]); dropping or reusing it is part of the timed call.
fn time(f: &cases::RunFn, budget: Duration, min_reps: usize) -> ((f64, Vec<f64>), Duration, usize) {
    // One untimed warm-up: first-touch page faults and lazy initialization are not the mode's cost.
    let mut out = black_box(f(Vec::new()));
    let mut samples = Vec::new();
    let start = Instant::now();
    while samples.len() < min_reps || (start.elapsed() < budget && samples.len() < 1000) {
        let previous = std::mem::take(&mut out.1);
        let t = Instant::now();
        out = black_box(f(previous));
        samples.push(t.elapsed());
    }
    samples.sort();
    (out, samples[samples.len() / 2], samples.len())
}
