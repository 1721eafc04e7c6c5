//! Max-ulp error of every `ferrad_core::math` function, f64 and f32, over 10^7 points each
//! (random over the documented domain plus the special values); prints the Markdown table
//! that the `ferrad_core::math` module docs show.
//!
//! `cargo run --release -p ferrad-core --example math_accuracy [points]`

use ferrad_core::math::accuracy::{self, Precision, Row};
use std::sync::Mutex;

fn main() {
    let points: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let jobs: Vec<(&'static str, Precision)> = accuracy::names()
        .into_iter()
        .flat_map(|n| [(n, Precision::F64), (n, Precision::F32)])
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len());
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<(usize, Row)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(&(name, p)) = jobs.get(i) else { break };
                    let row = accuracy::measure(name, p, points, 2026);
                    eprintln!(
                        "{name:>8} {p:?}: {:.3} ulp (worst at {:?})",
                        row.max_ulp, row.worst
                    );
                    results.lock().unwrap().push((i, row));
                }
            });
        }
    });
    let mut rows = results.into_inner().unwrap();
    rows.sort_by_key(|r| r.0);
    let rows: Vec<Row> = rows.into_iter().map(|r| r.1).collect();
    print!("{}", accuracy::markdown(&rows));
    let over: Vec<&Row> = rows
        .iter()
        .filter(|r| r.max_ulp > r.bound || r.max_ulp.is_nan())
        .collect();
    if !over.is_empty() {
        eprintln!(
            "over the bound: {:?}",
            over.iter()
                .map(|r| (r.name, r.precision))
                .collect::<Vec<_>>()
        );
        std::process::exit(1);
    }
}
