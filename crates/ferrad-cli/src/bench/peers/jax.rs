//! JAX as a peer: `peers/jax_bench.py` (embedded in the binary, fed to Python on stdin) jit-
//! compiles the gradient, H·v and Hessian of the seed benchmarks, times them on one CPU core
//! and prints JSON; this module finds an interpreter with jax, runs the script, turns its JSON
//! into rows and checks them against the case's reference.
//!
//! Interpreter: the venv made by `--install-peers` ([`venv_dir`]) when it exists, else
//! `python3` if it can `import jax`; otherwise every JAX row says how to install it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::bench::cases::{Case, ModeKind};
use crate::bench::report::Record;

/// The peer script, run as `python - ARGS` with this text on stdin.
pub const SCRIPT: &str = include_str!("../../../peers/jax_bench.py");

/// What a skipped JAX row says.
pub const NOT_INSTALLED: &str = "skipped: jax not installed (ferrad bench --install-peers)";

/// XLA and thread-pool settings for one core (the script pins itself to one CPU as well).
const ONE_CORE_ENV: [(&str, &str); 6] = [
    (
        "XLA_FLAGS",
        "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    ),
    ("OMP_NUM_THREADS", "1"),
    ("OPENBLAS_NUM_THREADS", "1"),
    ("MKL_NUM_THREADS", "1"),
    ("JAX_PLATFORMS", "cpu"),
    ("JAX_ENABLE_X64", "1"),
];

/// Where `--install-peers` makes its venv: `$FERRAD_PEERS_VENV`, else `target/peers-venv` in
/// the workspace this binary was built from.
pub fn venv_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FERRAD_PEERS_VENV") {
        return PathBuf::from(dir);
    }
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = crate_dir
        .parent()
        .and_then(Path::parent)
        .unwrap_or(crate_dir);
    root.join("target").join("peers-venv")
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

fn imports_jax(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import jax"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// An interpreter that can `import jax`: the peers venv's, else `python3`.
pub fn find_python() -> Option<PathBuf> {
    let venv = venv_python(&venv_dir());
    [venv, PathBuf::from("python3")]
        .into_iter()
        .find(|p| imports_jax(p))
}

/// `--install-peers`: makes the venv (if missing) with `python3 -m venv` and pip-installs jax
/// (CPU) into it, then checks that it imports. Prints pip's progress.
pub fn install() -> Result<(), String> {
    let venv = venv_dir();
    let python = venv_python(&venv);
    let run = |cmd: &mut Command, what: &str| -> Result<(), String> {
        eprintln!("$ {what}");
        let status = cmd
            .status()
            .map_err(|e| format!("cannot run `{what}`: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{what}` failed ({status})"))
        }
    };
    if !python.exists() {
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            &format!("python3 -m venv {}", venv.display()),
        )
        .map_err(|e| {
            format!("{e}; the venv module may be missing (Debian: apt install python3-venv)")
        })?;
    }
    run(
        Command::new(&python).args(["-m", "pip", "install", "--upgrade", "jax"]),
        &format!("{} -m pip install --upgrade jax", python.display()),
    )?;
    let out = Command::new(&python)
        .args(["-c", "import jax; print(jax.__version__, jax.devices())"])
        .envs(ONE_CORE_ENV)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "jax was installed but does not import:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    eprintln!(
        "jax {} installed in {}; `ferrad bench --peers` uses it",
        String::from_utf8_lossy(&out.stdout).trim(),
        venv.display()
    );
    Ok(())
}

/// One case's result from the script.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerResult {
    /// The case key (`F`, `R:50`, …).
    pub case: String,
    /// Row name (`jax-jit-grad`, …).
    pub mode: String,
    /// Median time of one call.
    pub median: Duration,
    /// Timed calls.
    pub reps: usize,
    /// Trace + compile + first call.
    pub compile: Duration,
    /// The function value, where the mode returns one.
    pub value: Option<f64>,
    /// Entries of the result vector.
    pub len: usize,
    /// Some `(index, entry)` of the result (all of them when it is short).
    pub samples: Vec<(usize, f64)>,
    /// Euclidean norm of the result.
    pub norm: f64,
    /// What was timed.
    pub note: String,
}

/// The script's whole answer.
#[derive(Clone, Debug, PartialEq)]
pub struct JaxRun {
    /// jax's version.
    pub version: String,
    /// One result per case asked for.
    pub results: Vec<PeerResult>,
}

/// Parses the script's JSON.
pub fn parse(text: &str) -> Result<JaxRun, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("bad JSON from jax: {e}"))?;
    let bad = |what: &str| format!("jax JSON: missing or bad `{what}`");
    let num = |r: &Value, k: &str| r[k].as_f64().ok_or_else(|| bad(k));
    let version = v["jax"].as_str().ok_or_else(|| bad("jax"))?.to_string();
    let mut results = Vec::new();
    for r in v["results"].as_array().ok_or_else(|| bad("results"))? {
        let samples = r["samples"]
            .as_array()
            .ok_or_else(|| bad("samples"))?
            .iter()
            .map(|s| match (s[0].as_u64(), s[1].as_f64()) {
                (Some(i), Some(x)) => Ok((i as usize, x)),
                _ => Err(bad("samples")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        results.push(PeerResult {
            case: r["case"].as_str().ok_or_else(|| bad("case"))?.into(),
            mode: r["mode"].as_str().ok_or_else(|| bad("mode"))?.into(),
            median: Duration::from_secs_f64(num(r, "median_s")?),
            reps: r["reps"].as_u64().ok_or_else(|| bad("reps"))? as usize,
            compile: Duration::from_secs_f64(num(r, "compile_s")?),
            value: r["value"].as_f64(),
            len: r["len"].as_u64().ok_or_else(|| bad("len"))? as usize,
            samples,
            norm: num(r, "norm")?,
            note: r["note"].as_str().unwrap_or_default().into(),
        });
    }
    Ok(JaxRun { version, results })
}

/// How the JAX peer went for the whole run.
pub enum Outcome {
    /// No interpreter with jax.
    NotInstalled,
    /// The script failed: why.
    Failed(String),
    /// The script ran.
    Ran(JaxRun),
}

/// Whether the script has a JAX version of `case` (the problems of DESIGN §6: F, R, H, FH; not
/// the `M` rows of `ferrad::math` against std).
pub fn covers(case: &Case) -> bool {
    matches!(case.key.split(':').next(), Some("F" | "R" | "H" | "FH"))
}

/// Runs the script once for all the `cases` it [`covers`] with the bench's time budget per case.
pub fn run(cases: &[Case], budget: Duration, min_reps: usize) -> Outcome {
    let keys: Vec<&str> = cases
        .iter()
        .filter(|c| covers(c))
        .map(|c| c.key.as_str())
        .collect();
    if keys.is_empty() {
        return Outcome::Ran(JaxRun {
            version: String::new(),
            results: Vec::new(),
        });
    }
    let Some(python) = find_python() else {
        return Outcome::NotInstalled;
    };
    let child = Command::new(&python)
        .arg("-")
        .arg("--cases")
        .arg(keys.join(","))
        .arg("--budget-ms")
        .arg(format!("{}", budget.as_secs_f64() * 1e3))
        .arg("--min-reps")
        .arg(min_reps.to_string())
        .envs(ONE_CORE_ENV)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return Outcome::Failed(format!("cannot run {}: {e}", python.display())),
    };
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        if let Err(e) = stdin.write_all(SCRIPT.as_bytes()) {
            return Outcome::Failed(format!("cannot send the script to python: {e}"));
        }
    }
    let out = match child.wait_with_output() {
        Ok(o) => o,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Outcome::Failed(format!(
            "{} exited with {}:\n{}",
            python.display(),
            out.status,
            tail.join("\n")
        ));
    }
    match parse(&String::from_utf8_lossy(&out.stdout)) {
        Ok(run) => Outcome::Ran(run),
        Err(e) => Outcome::Failed(e),
    }
}

/// The name of `case`'s JAX row.
fn mode_name(case: &Case) -> &'static str {
    match case.key.split(':').next() {
        Some("H") => "jax-jit-hvp",
        Some("FH") => "jax-jit-hessian",
        _ => "jax-jit-grad",
    }
}

/// The JAX row of `case` from the run's outcome, checked against the case's reference.
pub fn record(case: &Case, outcome: &Outcome) -> Record {
    let name = mode_name(case);
    let run = match outcome {
        Outcome::NotInstalled => {
            return Record::not_timed(case, name, NOT_INSTALLED.into(), false);
        }
        Outcome::Failed(why) => {
            let first = why.lines().next().unwrap_or_default();
            return Record::not_timed(case, name, format!("jax failed: {first}"), true);
        }
        Outcome::Ran(run) => run,
    };
    let Some(r) = run.results.iter().find(|r| r.case == case.key) else {
        let why = format!("jax returned no result for {}", case.key);
        return Record::not_timed(case, name, why, true);
    };
    let full = r.samples.len() == r.len && r.samples.iter().enumerate().all(|(k, s)| s.0 == k);
    let summary = case
        .reference
        .check_summary(r.value, r.len, &r.samples, r.norm);
    let error = if full {
        // Every entry came back: the case's own check (with DESIGN §6's values) applies.
        let out: Vec<f64> = r.samples.iter().map(|s| s.1).collect();
        summary.max((case.check)(ModeKind::Peer, r.value.unwrap_or(0.0), &out))
    } else {
        summary
    };
    let sampled = if full {
        String::new()
    } else {
        format!(", checked on {} entries + norm", r.samples.len())
    };
    let note = format!(
        "PEER: jax {} {}, 1 core; compile {:.2} s{sampled}",
        run.version,
        r.note,
        r.compile.as_secs_f64()
    );
    Record::external(case, &r.mode, r.median, r.reps, error, note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_script_output() {
        let text = r#"{"jax": "0.4.1", "device": "cpu:0", "cpu": 0, "results": [
            {"case": "R:50", "mode": "jax-jit-grad", "median_s": 1.5e-5, "reps": 9,
             "compile_s": 0.3, "value": 25.1, "len": 3, "samples": [[0, 1.0], [2, -2.5]],
             "norm": 3.0, "self_check": 1e-16, "note": "jit(value_and_grad)"},
            {"case": "FH", "mode": "jax-jit-hessian", "median_s": 0.2, "reps": 5,
             "compile_s": 1.0, "value": null, "len": 100, "samples": [], "norm": 1.0,
             "self_check": 0.0, "note": "jit(hessian)"}]}"#;
        let run = parse(text).unwrap();
        assert_eq!(run.version, "0.4.1");
        assert_eq!(run.results.len(), 2);
        let r = &run.results[0];
        assert_eq!((r.case.as_str(), r.reps, r.len), ("R:50", 9, 3));
        assert_eq!(r.samples, vec![(0, 1.0), (2, -2.5)]);
        assert_eq!(r.value, Some(25.1));
        assert_eq!(run.results[1].value, None);
        assert!(parse("{\"jax\": 1}").is_err());
        assert!(parse("not json").is_err());
    }

    #[test]
    fn only_the_design_problems_go_to_the_script() {
        let cases = crate::bench::all_cases(&["F".into(), "M".into()], Some(50), false).unwrap();
        let covered: Vec<&str> = cases
            .iter()
            .filter(|c| covers(c))
            .map(|c| c.key.as_str())
            .collect();
        assert_eq!(covered, ["F"]);
        let m_only: Vec<Case> = cases.into_iter().filter(|c| !covers(c)).collect();
        assert!(!m_only.is_empty());
        // nothing to ask: no script run, no failure
        assert!(matches!(
            run(&m_only, Duration::from_millis(1), 1),
            Outcome::Ran(JaxRun { ref results, .. }) if results.is_empty()
        ));
    }

    #[test]
    fn a_wrong_peer_result_fails_its_row() {
        let cases = crate::bench::all_cases(&["R".into()], Some(50), false).unwrap();
        let case = &cases[0];
        let good: Vec<(usize, f64)> = case.reference.out.iter().copied().enumerate().collect();
        let mut result = PeerResult {
            case: "R:50".into(),
            mode: "jax-jit-grad".into(),
            median: Duration::from_micros(10),
            reps: 5,
            compile: Duration::from_millis(300),
            value: case.reference.value,
            len: 50,
            samples: good.clone(),
            norm: good.iter().map(|s| s.1 * s.1).sum::<f64>().sqrt(),
            note: String::new(),
        };
        let ran = |r: &PeerResult| {
            Outcome::Ran(JaxRun {
                version: "test".into(),
                results: vec![r.clone()],
            })
        };
        assert!(record(case, &ran(&result)).agrees());
        result.samples[7].1 *= 1.0 + 1e-6;
        assert!(!record(case, &ran(&result)).agrees());
        // Sampled (large-n) results are checked on the samples and the norm.
        result.samples = good.iter().copied().step_by(7).collect();
        assert!(record(case, &ran(&result)).agrees());
        result.norm *= 1.0 + 1e-6;
        assert!(!record(case, &ran(&result)).agrees());
        let skipped = record(case, &Outcome::NotInstalled);
        assert!(skipped.agrees() && skipped.median.is_none());
        assert!(!record(case, &Outcome::Failed("boom".into())).agrees());
    }
}
