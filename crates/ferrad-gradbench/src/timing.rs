//! Timing per the protocol: run at least `min_runs` times and until `min_seconds` have passed,
//! one `evaluate` entry per run; input conversion is timed apart as one `prepare` entry.
//!
//! Invariant: only the computation is inside the timed region; parsing the JSON input and
//! serialising the output are not.

use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

/// One timing entry of an evaluate response.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Timing {
    /// `"evaluate"` for a run of the function, `"prepare"` for input conversion.
    pub name: &'static str,
    /// Wall-clock nanoseconds.
    pub nanoseconds: u128,
}

/// The result of one evaluate message: the output and its timings.
#[derive(Clone, Debug)]
pub struct Evaluated {
    /// The JSON output.
    pub output: Value,
    /// `prepare` (if any) then one `evaluate` entry per run.
    pub timings: Vec<Timing>,
}

/// How often to run: the protocol's `Runs` fields (defaults 1 run, 0 seconds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Runs {
    /// Run at least this many times.
    pub min_runs: u64,
    /// And until this many seconds of runs have passed.
    pub min_seconds: f64,
}

impl Runs {
    /// Reads `min_runs` / `min_seconds` from an input object; absent fields take the defaults.
    pub fn from_input(input: &Value) -> Result<Runs, String> {
        let min_runs = match input.get("min_runs") {
            None | Some(Value::Null) => 1,
            Some(v) => v
                .as_u64()
                .ok_or_else(|| format!("min_runs must be a non-negative integer, got {v}"))?,
        };
        let min_seconds = match input.get("min_seconds") {
            None | Some(Value::Null) => 0.0,
            Some(v) => v
                .as_f64()
                .filter(|s| s.is_finite())
                .ok_or_else(|| format!("min_seconds must be a number, got {v}"))?,
        };
        Ok(Runs {
            min_runs: min_runs.max(1),
            min_seconds,
        })
    }
}

/// Starts the `prepare` clock; call [`Prepare::run`] once the input is converted.
#[derive(Debug)]
pub struct Prepare {
    start: Instant,
}

impl Prepare {
    /// Starts timing input conversion.
    pub fn start() -> Self {
        Prepare {
            start: Instant::now(),
        }
    }

    /// Runs `f` per `runs`, timing each run; returns the last output and the timings
    /// (`prepare` first). `to_json` is applied once, outside the timed region.
    pub fn run<O>(
        self,
        runs: Runs,
        mut f: impl FnMut() -> O,
        to_json: impl FnOnce(O) -> Value,
    ) -> Evaluated {
        let prepare = self.start.elapsed().as_nanos();
        let mut timings = vec![Timing {
            name: "prepare",
            nanoseconds: prepare,
        }];
        let mut total = 0.0;
        let mut count = 0u64;
        let mut out = None;
        loop {
            // The previous run's output is freed before this run, outside the timed region, so
            // that the run can reuse its memory (as a loop calling the function would) instead
            // of faulting in fresh pages while the old output is still alive.
            drop(out.take());
            let t = Instant::now();
            let o = f();
            let ns = t.elapsed().as_nanos();
            out = Some(o);
            timings.push(Timing {
                name: "evaluate",
                nanoseconds: ns,
            });
            total += ns as f64 * 1e-9;
            count += 1;
            if count >= runs.min_runs && total >= runs.min_seconds {
                break;
            }
        }
        Evaluated {
            output: to_json(out.expect("at least one run")),
            timings,
        }
    }
}

/// Parses `input` into `T` (serde), naming the eval in the error.
pub fn parse<T: serde::de::DeserializeOwned>(eval: &str, input: &Value) -> Result<T, String> {
    T::deserialize(input).map_err(|e| format!("{eval}: malformed input: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    /// Counts the outputs alive at once.
    struct Out(Rc<Cell<usize>>);
    impl Drop for Out {
        fn drop(&mut self) {
            self.0.set(self.0.get() - 1);
        }
    }

    #[test]
    fn each_run_is_timed_and_the_previous_output_is_freed_first() {
        let alive = Rc::new(Cell::new(0));
        let most = Cell::new(0);
        let runs = Runs {
            min_runs: 5,
            min_seconds: 0.0,
        };
        let mut k = 0;
        let done = Prepare::start().run(
            runs,
            || {
                // Only this run's output will exist once it returns.
                most.set(most.get().max(alive.get() + 1));
                alive.set(alive.get() + 1);
                k += 1;
                (k, Out(alive.clone()))
            },
            |(k, _out)| Value::from(k),
        );
        assert_eq!(most.get(), 1, "an earlier output was alive during a run");
        assert_eq!(alive.get(), 0);
        assert_eq!(done.output, Value::from(5));
        let names: Vec<_> = done.timings.iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            [
                "prepare", "evaluate", "evaluate", "evaluate", "evaluate", "evaluate"
            ]
        );
    }
}
