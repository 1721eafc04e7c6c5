//! Bench results: one record per problem and mode, printed as a table or JSON.

use std::fmt::Write;
use std::time::Duration;

use super::cases::{Case, Mode, ModeKind};

/// Tolerance on the relative error for an AD mode: it must match the reference to rounding.
pub const EXACT_TOL: f64 = 1e-9;
/// Tolerance for finite differences, which are only an approximation.
pub const APPROX_TOL: f64 = 1e-4;

/// One problem × mode result.
#[derive(Clone, Debug)]
pub struct Record {
    /// Problem instance (`F`, `R n=50`, …).
    pub problem: String,
    /// Mode name.
    pub mode: String,
    /// What the mode is.
    pub kind: ModeKind,
    /// Median time, or `None` if skipped.
    pub median: Option<Duration>,
    /// Timed repetitions.
    pub reps: usize,
    /// Time / primal time.
    pub ratio_primal: Option<f64>,
    /// Time / hand-written derivative time.
    pub ratio_hand: Option<f64>,
    /// Time / SIMD hand-written derivative time (the `hand-simd` limit row).
    pub ratio_limit: Option<f64>,
    /// Max relative error against the reference.
    pub error: Option<f64>,
    /// Why the mode was skipped.
    pub skipped: Option<String>,
    /// Extra facts.
    pub note: String,
    /// The largest relative error that counts as agreeing.
    pub tolerance: f64,
}

impl Record {
    pub(super) fn timed(
        case: &Case,
        mode: &Mode,
        median: Duration,
        reps: usize,
        error: f64,
    ) -> Self {
        Record {
            problem: case.name.clone(),
            mode: mode.name.into(),
            kind: mode.kind,
            median: Some(median),
            reps,
            ratio_primal: None,
            ratio_hand: None,
            ratio_limit: None,
            error: Some(error),
            skipped: None,
            note: mode.note.clone(),
            tolerance: tolerance(mode),
        }
    }

    pub(super) fn skipped(case: &Case, mode: &Mode, why: &str) -> Self {
        Record {
            problem: case.name.clone(),
            mode: mode.name.into(),
            kind: mode.kind,
            median: None,
            reps: 0,
            ratio_primal: None,
            ratio_hand: None,
            ratio_limit: None,
            error: None,
            skipped: Some(why.into()),
            note: mode.note.clone(),
            tolerance: tolerance(mode),
        }
    }

    /// A peer row timed outside this process (the JAX script), checked by the caller.
    pub(super) fn external(
        case: &Case,
        mode: &str,
        median: Duration,
        reps: usize,
        error: f64,
        note: String,
    ) -> Self {
        Record {
            problem: case.name.clone(),
            mode: mode.into(),
            kind: ModeKind::Peer,
            median: Some(median),
            reps,
            ratio_primal: None,
            ratio_hand: None,
            ratio_limit: None,
            error: Some(error),
            skipped: None,
            note,
            tolerance: EXACT_TOL,
        }
    }

    /// A peer row that was not timed: skipped (`failed == false`, agrees vacuously) or failed
    /// (the run fails).
    pub(super) fn not_timed(case: &Case, mode: &str, why: String, failed: bool) -> Self {
        Record {
            problem: case.name.clone(),
            mode: mode.into(),
            kind: ModeKind::Peer,
            median: None,
            reps: 0,
            ratio_primal: None,
            ratio_hand: None,
            ratio_limit: None,
            error: failed.then_some(f64::INFINITY),
            skipped: Some(why),
            note: String::new(),
            tolerance: EXACT_TOL,
        }
    }

    /// Sets the ratios to the primal, hand-written and limit times of the same case.
    pub(super) fn set_ratios(
        &mut self,
        primal: Option<Duration>,
        hand: Option<Duration>,
        limit: Option<Duration>,
    ) {
        if let Some(t) = self.median {
            let t = t.as_secs_f64();
            self.ratio_primal = primal.map(|p| t / p.as_secs_f64());
            self.ratio_hand = hand.map(|h| t / h.as_secs_f64());
            self.ratio_limit = limit.map(|h| t / h.as_secs_f64());
        }
    }

    /// Whether the result agreed with the reference (skipped modes agree vacuously).
    pub fn agrees(&self) -> bool {
        self.error.is_none_or(|e| e <= self.tolerance)
    }
}

fn tolerance(mode: &Mode) -> f64 {
    mode.tol.unwrap_or(match mode.kind {
        ModeKind::Approximate => APPROX_TOL,
        _ => EXACT_TOL,
    })
}

fn fmt_time(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else {
        format!("{:.3} µs", s * 1e6)
    }
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "-".into(), |r| format!("{r:.2}x"))
}

/// The results as a Markdown table.
pub fn table(records: &[Record]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| problem | mode | median | x primal | x hand | x limit | max rel err | ok | notes |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|---|---|");
    for r in records {
        let (time, err) = match (&r.median, &r.error) {
            (Some(t), Some(e)) => (fmt_time(*t), format!("{e:.1e}")),
            (None, Some(_)) => ("failed".into(), "-".into()),
            _ => ("skipped".into(), "-".into()),
        };
        let note = match &r.skipped {
            Some(why) => why.clone(),
            None => r.note.clone(),
        };
        let ok = if r.agrees() { "yes" } else { "NO" };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.problem,
            r.mode,
            time,
            fmt_ratio(r.ratio_primal),
            fmt_ratio(r.ratio_hand),
            fmt_ratio(r.ratio_limit),
            err,
            ok,
            note
        );
    }
    s
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_num(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:e}"),
        _ => "null".into(),
    }
}

/// The results as a JSON array, one object per problem and mode.
pub fn json(records: &[Record]) -> String {
    let mut s = String::from("[\n");
    for (i, r) in records.iter().enumerate() {
        let _ = write!(
            s,
            "  {{\"problem\": {}, \"mode\": {}, \"kind\": {}, \"median_s\": {}, \"reps\": {}, \
             \"ratio_primal\": {}, \"ratio_hand\": {}, \"ratio_limit\": {}, \"max_rel_error\": {}, \
             \"tolerance\": {}, \"agrees\": {}, \"skipped\": {}, \"note\": {}}}",
            json_str(&r.problem),
            json_str(&r.mode),
            json_str(&format!("{:?}", r.kind)),
            json_num(r.median.map(|d| d.as_secs_f64())),
            r.reps,
            json_num(r.ratio_primal),
            json_num(r.ratio_hand),
            json_num(r.ratio_limit),
            json_num(r.error),
            json_num(Some(r.tolerance)),
            r.agrees(),
            r.skipped.as_deref().map_or_else(|| "null".into(), json_str),
            json_str(&r.note),
        );
        s.push_str(if i + 1 < records.len() { ",\n" } else { "\n" });
    }
    s.push_str("]\n");
    s
}
