//! `--plot`: a horizontal bar chart (SVG) of each mode's time relative to the hand-written
//! derivative, on a log scale.

use std::path::Path;

use plotters::prelude::*;

use super::report::Record;

/// Draws one bar per timed record that has a hand-written ratio.
pub fn bar_chart(path: &Path, records: &[Record]) -> Result<(), String> {
    let bars: Vec<(String, f64)> = records
        .iter()
        .filter_map(|r| {
            r.ratio_hand
                .map(|x| (format!("{} / {}", r.problem, r.mode), x))
        })
        .collect();
    if bars.is_empty() {
        return Err("nothing to plot: no mode was timed".into());
    }
    let lo = bars
        .iter()
        .map(|b| b.1)
        .fold(f64::INFINITY, f64::min)
        .min(0.5)
        / 1.5;
    let hi = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(2.0) * 1.5;
    let height = 60 + 22 * bars.len() as u32;
    let root = SVGBackend::new(path, (1000, height)).into_drawing_area();
    let err = |e: &dyn std::fmt::Display| format!("plot {}: {e}", path.display());
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let n = bars.len();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "ferrad bench: time / hand-written derivative (log scale)",
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(330)
        .build_cartesian_2d((lo..hi).log_scale(), 0.0..n as f64)
        .map_err(|e| err(&e))?;
    let names: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    chart
        .configure_mesh()
        .y_labels(n)
        .y_label_formatter(&|y| {
            let i = (*y - 0.5).round();
            if i >= 0.0 && (i as usize) < names.len() && (*y - 0.5 - i).abs() < 1e-6 {
                names[n - 1 - i as usize].clone()
            } else {
                String::new()
            }
        })
        .x_desc("x hand-written")
        .draw()
        .map_err(|e| err(&e))?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (_, r))| {
            let y = (n - 1 - i) as f64;
            let color = if *r <= 1.0 {
                GREEN.mix(0.7)
            } else {
                BLUE.mix(0.6)
            };
            Rectangle::new([(lo, y + 0.15), (*r, y + 0.85)], color.filled())
        }))
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
