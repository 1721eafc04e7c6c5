//! The benchmark cases: for each problem instance, the modes to time and the error check.

use ferrad::prelude::*;
use ferrad::{forward, reverse};

use super::annotated::on_threads;
use super::limit;
use super::problems::*;

/// What a mode is, for the ratios.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeKind {
    /// The function value only (the ×primal denominator).
    Primal,
    /// The hand-written derivative (the ×hand denominator).
    Hand,
    /// An AD mode (must agree with the reference to 1e-9).
    Exact,
    /// Finite differences (context only; must agree to 1e-4).
    Approximate,
    /// The hand-written derivative as fused SIMD loops (the ×limit denominator; must agree to
    /// 1e-9).
    Limit,
    /// Another AD library (JAX, num-dual, echidna), for comparison (must agree to 1e-9).
    Peer,
}

/// Maximum relative error of a result (value, vector) of a mode kind against the reference.
pub type Check = Box<dyn Fn(ModeKind, f64, &[f64]) -> f64>;

/// A mode's computation: the previous result's vector in, `(value, vector)` out.
pub type RunFn = dyn Fn(Vec<f64>) -> (f64, Vec<f64>);

/// One timed way of computing a case's result.
pub struct Mode {
    /// Short name shown in the table (`reverse-tape`, `forward-dualvec`, …).
    pub name: &'static str,
    /// Primal, hand-written, AD or approximate.
    pub kind: ModeKind,
    /// Computes the result in the case's layout. Its argument is the vector the previous call
    /// returned (empty on the first call): a mode that writes into a buffer it keeps across
    /// calls, as a caller would (and as JAX's allocator reuses the memory of a freed result),
    /// takes it back ([`mode_reusing`]); the others drop it ([`mode`]).
    pub run: Box<RunFn>,
    /// Why it is not run at this size, if it is not.
    pub skip: Option<String>,
    /// Extra facts (tape memory, passes).
    pub note: String,
    /// Tolerance on the relative error, when not the kind's default (reduced precision).
    pub tol: Option<f64>,
}

/// A problem instance: its modes and how to measure a result's error.
pub struct Case {
    /// Name shown in the table (`F`, `R n=50`, `H n=1000000`, `FH`).
    pub name: String,
    /// The case as the JAX peer script spells it (`F`, `R:50`, `H:1000000`, `FH`).
    pub key: String,
    /// The modes, primal and hand-written first.
    pub modes: Vec<Mode>,
    /// Maximum relative error of a result (value, vector) of the given kind against the reference.
    pub check: Check,
    /// The reference result, for results known only by a summary (peers run out of process).
    pub reference: Reference,
}

/// A case's reference result: the value (where the derivative mode returns one) and the vector
/// (gradient, H·v or the row-major Hessian), from the hand-written derivative.
pub struct Reference {
    /// The function value, where the case's derivative modes return it.
    pub value: Option<f64>,
    /// The derivative, in the case's layout.
    pub out: Vec<f64>,
}

impl Reference {
    /// Maximum relative error of a result known by its value, length, some `(index, entry)`
    /// samples and its Euclidean norm. Entries are measured like [`rel_vec`] (against the
    /// reference's largest entry).
    pub fn check_summary(
        &self,
        value: Option<f64>,
        len: usize,
        samples: &[(usize, f64)],
        norm_: f64,
    ) -> f64 {
        if len != self.out.len() || samples.iter().any(|&(i, _)| i >= len) {
            return f64::INFINITY;
        }
        let scale = self
            .out
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()))
            .max(1e-300);
        let mut e = rel(norm_, norm(&self.out));
        if let (Some(got), Some(want)) = (value, self.value) {
            e = e.max(rel(got, want));
        }
        for &(i, v) in samples {
            let d = (v - self.out[i]).abs() / scale;
            e = e.max(if d.is_nan() { f64::INFINITY } else { d });
        }
        e
    }
}

pub(super) fn mode(
    name: &'static str,
    kind: ModeKind,
    run: impl Fn() -> (f64, Vec<f64>) + 'static,
) -> Mode {
    mode_reusing(name, kind, move |_previous| run())
}

/// A mode that writes its result into the vector its previous call returned (see
/// [`Mode::run`]).
pub(super) fn mode_reusing(
    name: &'static str,
    kind: ModeKind,
    run: impl Fn(Vec<f64>) -> (f64, Vec<f64>) + 'static,
) -> Mode {
    Mode {
        name,
        kind,
        run: Box::new(run),
        skip: None,
        note: String::new(),
        tol: None,
    }
}

/// The note of a `macro-*-par` row: its threads, and when it runs on them.
/// A macro row's note: the attribute, then the copy its math loops ran in
/// (`ferrad::simd::dispatch_wide`'s level here; the limit row is 4-wide AVX2 by definition).
fn macro_note(attribute: &str) -> String {
    format!(
        "{attribute}; math loops in the {} copy",
        ferrad::simd::level().name()
    )
}

fn par_note() -> String {
    format!(
        "the macro row on {} thread(s) of ferrad::par (chunks of {} iterations from n = {})",
        ferrad::par::threads(),
        ferrad::par::LOOP_CHUNK,
        ferrad::par::LOOP_MIN_CHUNKS * ferrad::par::LOOP_CHUNK
    )
}

/// Relative error of `got` against `want`, with a floor of 1e-300 on the denominator.
fn rel(got: f64, want: f64) -> f64 {
    if got == want {
        return 0.0;
    }
    let e = (got - want).abs() / want.abs().max(1e-300);
    if e.is_nan() { f64::INFINITY } else { e }
}

/// Error of a full vector against a reference vector, relative to the reference's largest entry.
fn rel_vec(got: &[f64], want: &[f64]) -> f64 {
    if got.len() != want.len() {
        return f64::INFINITY;
    }
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
    got.iter().zip(want).fold(0.0f64, |m, (a, b)| {
        let e = (a - b).abs() / scale;
        if e.is_nan() { f64::INFINITY } else { m.max(e) }
    })
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// What a `reverse-recorded` row replays: entries, and how many run in re-rolled loops.
fn replay_note(t: &ferrad::reverse::RecordedTape) -> String {
    format!(
        "replay of a tape recorded once (recording not timed); {:.0}% of {} entries in re-rolled loops",
        100.0 * t.looped_len() as f64 / t.len().max(1) as f64,
        t.len()
    )
}

/// Tape memory of one recording of `f` at `x` (on a tape of `T`), as a note.
fn tape_note<T: Real>(f: &impl ScalarFn, x: &[T]) -> String {
    let tape = Tape::<T>::new();
    let xs = tape.vars(x);
    let _ = f.eval(&xs);
    let s = tape.stats();
    format!(
        "{:.1} B/entry (compact), {} entries, {:.1} MB",
        s.bytes as f64 / s.entries as f64,
        s.entries,
        s.bytes as f64 / 1e6
    )
}

/// R's gradient on the reduced-precision tape the mode `name` stands for.
fn reduced_gradient(name: &str, x: &[f32]) -> (f32, Vec<f32>, ferrad::mixed::MemoryStats) {
    match name {
        "reverse-f16-tape" => ferrad::mixed::gradient_f16(&ProblemR32, x),
        "reverse-bf16-tape" => ferrad::mixed::gradient_bf16(&ProblemR32, x),
        _ => ferrad::mixed::gradient_with::<f32>(r_loss32, x),
    }
}

/// The `hand-simd` row: the limit a compiled derivative is measured against.
fn limit_mode(run: impl Fn() -> (f64, Vec<f64>) + 'static) -> Mode {
    let mut m = mode("hand-simd", ModeKind::Limit, run);
    m.note = format!(
        "LIMIT: hand-written fused loops, 4-wide SIMD on ferrad::math ({})",
        limit::simd_level()
    );
    m
}

/// Sizes at which an O(n²) mode is skipped.
const QUADRATIC_LIMIT: usize = 20_000;

fn case_f(peers: bool) -> Case {
    let p = F_P.to_vec();
    let (_, hand) = f_grad_hand(&p);
    let mut modes = vec![
        mode("primal", ModeKind::Primal, move || {
            (f_loss(&F_P), Vec::new())
        }),
        mode("hand-written", ModeKind::Hand, move || {
            let (v, g) = f_grad_hand(&F_P);
            (v, g)
        }),
        mode("forward-dual", ModeKind::Exact, move || {
            let (v, g) = forward::gradient_dual(f_loss, &F_P);
            (v, g)
        }),
        mode("forward-dualvec", ModeKind::Exact, move || {
            let (v, g) = ferrad::gradient_forward(&ProblemF, &F_P);
            (v, g)
        }),
        mode("reverse-tape", ModeKind::Exact, move || {
            let (v, g) = ferrad::gradient(&ProblemF, &F_P);
            (v, g)
        }),
        mode("finite-diff", ModeKind::Approximate, move || {
            (f_loss(&F_P), ferrad::central_differences(&ProblemF, &F_P))
        }),
        {
            let recorded = ferrad::reverse::RecordedTape::record(&ProblemF, &F_P)
                .expect("F has no custom rules");
            let note = replay_note(&recorded);
            let tape = std::cell::RefCell::new(recorded);
            let mut m = mode("reverse-recorded", ModeKind::Exact, move || {
                tape.borrow_mut().gradient(&F_P).expect("F has no branches")
            });
            m.note = note;
            m
        },
        mode("ir-reverse", ModeKind::Exact, move || {
            super::compiled::f_reverse(&F_P)
        }),
        mode("ir-forward", ModeKind::Exact, move || {
            super::compiled::f_forward(&F_P)
        }),
        // (the headline rows use one core: see `macro-reverse-par` of R)
        mode("macro-forward", ModeKind::Exact, move || {
            on_threads(1, || super::annotated::f_forward(&F_P))
        }),
        mode("macro-reverse", ModeKind::Exact, move || {
            on_threads(1, || super::annotated::f_reverse(&F_P))
        }),
    ];
    modes[2].note = "10 passes".into();
    modes[3].note = format!(
        "{} pass(es) of width {}",
        10usize.div_ceil(forward::pick_chunk(10)),
        forward::pick_chunk(10)
    );
    modes[4].note = tape_note(&ProblemF, &p);
    modes[5].note = "20 evaluations".into();
    modes[7].note = "ferrad-ir VJP, optimized, emitted as Rust (ir/f.ir)".into();
    modes[8].note = "ferrad-ir JVP width 10, emitted as Rust".into();
    modes[9].note = macro_note("#[autodiff_forward(.., 10, Dualv, Dual)] on plain f64 code");
    modes[10].note = macro_note("#[autodiff_reverse(.., Duplicated, Active)] on plain f64 code");
    modes.insert(
        2,
        limit_mode(|| {
            let (v, g) = limit::f_grad(&F_P);
            (v, g.to_vec())
        }),
    );
    if peers {
        modes.push(super::peers::num_dual::f_gradient());
        modes.push(super::peers::echidna::f_gradient());
    }
    let reference = Reference {
        value: Some(F_REF.0),
        out: hand.clone(),
    };
    Case {
        name: "F".into(),
        key: "F".into(),
        reference,
        modes,
        check: Box::new(move |kind, value, grad| {
            let mut e = rel(value, F_REF.0);
            if kind != ModeKind::Primal {
                for &(i, g) in F_REF.1 {
                    e = e.max(rel(grad[i], g));
                }
                e = e.max(rel_vec(grad, &hand));
            }
            e
        }),
    }
}

fn case_r(n: usize, peers: bool) -> Case {
    let x = r_input(n);
    let mut hand = vec![0.0; n];
    let hand_value = r_grad_hand(&x, &mut hand);
    let quadratic = n > QUADRATIC_LIMIT;
    let skip = quadratic.then(|| format!("O(n²) at n = {n}: {n} passes over {n} inputs"));
    let mut modes = Vec::new();
    {
        let x = x.clone();
        modes.push(mode("primal", ModeKind::Primal, move || {
            (r_loss(&x), Vec::new())
        }));
    }
    {
        let x = x.clone();
        modes.push(mode("hand-written", ModeKind::Hand, move || {
            let mut g = vec![0.0; x.len()];
            let v = r_grad_hand(&x, &mut g);
            (v, g)
        }));
    }
    {
        let x = x.clone();
        modes.push(limit_mode(move || {
            let mut g = vec![0.0; x.len()];
            let v = limit::r_grad((&x, &mut g));
            (v, g)
        }));
    }
    {
        let x = x.clone();
        let mut m = mode("forward-dual", ModeKind::Exact, move || {
            let (v, g) = forward::gradient_dual(r_loss, &x);
            (v, g)
        });
        m.skip = skip.clone();
        m.note = format!("{n} passes");
        modes.push(m);
    }
    {
        let x = x.clone();
        let mut m = mode("forward-dualvec", ModeKind::Exact, move || {
            let (v, g) = ferrad::gradient_forward(&ProblemR, &x);
            (v, g)
        });
        m.skip = skip.clone();
        let c = forward::pick_chunk(n);
        m.note = format!("{} passes of width {c}", n.div_ceil(c));
        modes.push(m);
    }
    {
        let x2 = x.clone();
        let mut m = mode("reverse-tape", ModeKind::Exact, move || {
            let (v, g) = ferrad::gradient(&ProblemR, &x2);
            (v, g)
        });
        m.note = tape_note(&ProblemR, &x);
        modes.push(m);
    }
    {
        let x = x.clone();
        let recorded =
            ferrad::reverse::RecordedTape::record(&ProblemR, &x).expect("R has no custom rules");
        let note = replay_note(&recorded);
        let tape = std::cell::RefCell::new(recorded);
        let mut m = mode("reverse-recorded", ModeKind::Exact, move || {
            tape.borrow_mut().gradient(&x).expect("R has no branches")
        });
        m.note = note;
        modes.push(m);
    }
    {
        let x = x.clone();
        let mut m = mode("reverse-closure", ModeKind::Exact, move || {
            let (v, g) = reverse::gradient_with(r_loss, &x);
            (v, g)
        });
        m.note = "same tape, closure API".into();
        modes.push(m);
    }
    {
        let x = x.clone();
        let mut m = mode("ir-reverse", ModeKind::Exact, move || {
            super::compiled::r_reverse(&x)
        });
        m.note = "ferrad-ir VJP, optimized, emitted as Rust (ir/r.ir)".into();
        modes.push(m);
    }
    {
        let x = x.clone();
        let mut m = mode("macro-reverse", ModeKind::Exact, move || {
            on_threads(1, || super::annotated::r_reverse(&x))
        });
        m.note =
            macro_note("#[autodiff_reverse(.., Duplicated, Active)] on plain f64 code, 1 thread");
        modes.push(m);
    }
    {
        let x = x.clone();
        let mut m = mode("macro-reverse-par", ModeKind::Exact, move || {
            on_threads(0, || super::annotated::r_reverse(&x))
        });
        m.note = par_note();
        modes.push(m);
    }
    for (name, tol) in [
        ("reverse-f32-tape", 1e-4),
        ("reverse-f16-tape", 4e-3),
        ("reverse-bf16-tape", 3e-2),
    ] {
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let (_, _, stats) = reduced_gradient(name, &x32);
        let mut m = mode(name, ModeKind::Approximate, move || {
            let (y, g, _) = reduced_gradient(name, &x32);
            (y as f64, g.into_iter().map(f64::from).collect())
        });
        m.tol = Some(tol);
        m.note = format!(
            "{} partials, f32 adjoints: {} B/entry, {:.1} MB tape + {:.1} MB adjoints",
            stats.storage,
            stats.bytes_per_entry,
            stats.bytes as f64 / 1e6,
            stats.adjoint_bytes as f64 / 1e6
        );
        modes.push(m);
    }
    {
        let x = x.clone();
        let mut m = mode("finite-diff", ModeKind::Approximate, move || {
            (r_loss(&x), ferrad::central_differences(&ProblemR, &x))
        });
        m.skip = skip;
        m.note = format!("{} evaluations", 2 * n);
        modes.push(m);
    }
    if peers {
        modes.push(super::peers::echidna::r_gradient(n));
    }
    let reference = Reference {
        value: Some(hand_value),
        out: hand.clone(),
    };
    Case {
        name: format!("R n={n}"),
        key: format!("R:{n}"),
        reference,
        modes,
        check: Box::new(move |kind, value, grad| {
            let mut e = rel(value, hand_value);
            if n == 50 {
                e = e.max(rel(value, R50_REF.0));
            }
            if kind != ModeKind::Primal {
                e = e.max(rel_vec(grad, &hand));
                if n == 50 {
                    for &(i, g) in R50_REF.1 {
                        e = e.max(rel(grad[i], g));
                    }
                    e = e.max(rel(norm(grad), R50_REF.2));
                }
            }
            e
        }),
    }
}

fn case_h(n: usize, peers: bool) -> Case {
    let x = r_input(n);
    let v = h_direction(n);
    let mut hand = vec![0.0; n];
    r_hvp_hand(&x, &v, &mut hand);
    let r_value = r_grad_hand(&x, &mut vec![0.0; n]);
    let mut modes = Vec::new();
    {
        let x = x.clone();
        modes.push(mode("primal", ModeKind::Primal, move || {
            (r_loss(&x), Vec::new())
        }));
    }
    {
        let (x, v) = (x.clone(), v.clone());
        modes.push(mode("hand-written", ModeKind::Hand, move || {
            let mut hv = vec![0.0; x.len()];
            r_hvp_hand(&x, &v, &mut hv);
            (0.0, hv)
        }));
    }
    {
        let (x, v) = (x.clone(), v.clone());
        modes.push(limit_mode(move || {
            let mut hv = vec![0.0; x.len()];
            limit::r_hvp((&x, &v, &mut hv));
            (0.0, hv)
        }));
    }
    {
        let (x2, v) = (x.clone(), v.clone());
        let mut m = mode("hvp-fwd-over-rev", ModeKind::Exact, move || {
            let (y, _, hv) = ferrad::hvp(&ProblemR, &x2, &v);
            (y, hv)
        });
        m.note = tape_note(
            &ProblemR,
            &x.iter().map(|&v| Dual::variable(v)).collect::<Vec<_>>(),
        );
        modes.push(m);
    }
    {
        let (x, v) = (x.clone(), v.clone());
        let mut m = mode("ir-hvp", ModeKind::Exact, move || {
            (0.0, super::compiled::r_hvp(&x, &v))
        });
        m.note = "ferrad-ir JVP of the VJP, emitted as Rust".into();
        modes.push(m);
    }
    {
        let (x, v) = (x.clone(), v.clone());
        // the untouched (`DualOnly`) gradient buffer and the H·v buffer, kept across calls as
        // a caller would
        let g = std::cell::RefCell::new(vec![0.0; n]);
        let mut m = mode_reusing("macro-hvp", ModeKind::Exact, move |mut hv| {
            let g = &mut g.borrow_mut();
            on_threads(1, || super::annotated::r_hvp_into(&x, &v, g, &mut hv));
            (0.0, hv)
        });
        m.note = macro_note(
            "#[autodiff_forward(.., Dual, DualOnly)] over a gradient that zero-fills its buffer and calls the #[autodiff_reverse] one: H·v overwrites its buffer, kept across calls (as JAX's allocator reuses a freed result's memory), with the untouched gradient buffer; 1 thread",
        );
        modes.push(m);
    }
    {
        let (x, v) = (x.clone(), v.clone());
        let g = std::cell::RefCell::new(vec![0.0; n]);
        let mut m = mode_reusing("macro-hvp-par", ModeKind::Exact, move |mut hv| {
            let g = &mut g.borrow_mut();
            on_threads(0, || super::annotated::r_hvp_into(&x, &v, g, &mut hv));
            (0.0, hv)
        });
        m.note = par_note();
        modes.push(m);
    }
    {
        let (x, v) = (x.clone(), v.clone());
        let g = std::cell::RefCell::new(vec![0.0; n]);
        let mut m = mode("macro-hvp-acc", ModeKind::Exact, move || {
            let g = &mut g.borrow_mut();
            (
                0.0,
                on_threads(1, || super::annotated::r_hvp_acc(&x, &v, g)),
            )
        });
        m.note = macro_note(
            "the macro row without the fill: H·v accumulates into a new zeroed vector each call, as reverse derivatives accumulate; 1 thread",
        );
        modes.push(m);
    }
    {
        let (x, v) = (x.clone(), v.clone());
        let mut m = mode("finite-diff-of-grad", ModeKind::Approximate, move || {
            let h = 1e-6;
            let xp: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a + h * b).collect();
            let xm: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a - h * b).collect();
            let (_, gp) = ferrad::gradient(&ProblemR, &xp);
            let (_, gm) = ferrad::gradient(&ProblemR, &xm);
            (
                0.0,
                gp.iter()
                    .zip(&gm)
                    .map(|(a, b)| (a - b) / (2.0 * h))
                    .collect(),
            )
        });
        m.note = "2 reverse gradients".into();
        modes.push(m);
    }
    if peers {
        modes.push(super::peers::echidna::h_hvp(n));
    }
    let reference = Reference {
        value: None,
        out: hand.clone(),
    };
    Case {
        name: format!("H n={n}"),
        key: format!("H:{n}"),
        reference,
        modes,
        check: Box::new(move |kind, value, out| {
            if kind == ModeKind::Primal {
                return rel(value, r_value);
            }
            let mut e = rel_vec(out, &hand);
            if n == 50 {
                for &(i, h) in H50_REF.0 {
                    e = e.max(rel(out[i], h));
                }
                e = e.max(rel(norm(out), H50_REF.1));
            }
            e
        }),
    }
}

fn case_fh(peers: bool) -> Case {
    let hand: Vec<f64> = f_hessian_hand(&F_P).concat();
    let mut modes = vec![
        mode("primal", ModeKind::Primal, move || {
            (f_loss(&F_P), Vec::new())
        }),
        mode("hand-written", ModeKind::Hand, move || {
            (0.0, f_hessian_hand(&F_P).concat())
        }),
        mode("hessian", ModeKind::Exact, move || {
            let (y, _, h) = ferrad::hessian(&ProblemF, &F_P);
            (y, h.concat())
        }),
        mode("hvp-columns", ModeKind::Exact, move || {
            let mut cols = vec![vec![0.0; 10]; 10];
            for (j, col) in cols.iter_mut().enumerate() {
                let mut e = vec![0.0; 10];
                e[j] = 1.0;
                *col = ferrad::hvp(&ProblemF, &F_P, &e).2;
            }
            // H is symmetric: columns are rows.
            (0.0, cols.concat())
        }),
    ];
    modes[2].note =
        "second-order forward, 1 pass of Dual2Vec<10> (gradient + upper triangle)".into();
    modes[3].note = "10 hvp, forward over reverse".into();
    if peers {
        modes.push(super::peers::num_dual::f_hessian());
    }
    let reference = Reference {
        value: None,
        out: hand.clone(),
    };
    Case {
        name: "FH (10x10 Hessian of F)".into(),
        key: "FH".into(),
        reference,
        modes,
        check: Box::new(move |kind, value, out| {
            if kind == ModeKind::Primal {
                rel(value, F_REF.0)
            } else {
                rel_vec(out, &hand)
            }
        }),
    }
}

/// The cases selected by `problems` (`F`, `R`, `H`, `FH`, `M`: `ferrad::math` against std;
/// empty = all) at the default sizes, or at size `n` for R and H; with `peers`, the in-process
/// peer modes (num-dual, echidna) too.
pub fn all_cases(problems: &[String], n: Option<usize>, peers: bool) -> Result<Vec<Case>, String> {
    let all = ["F", "R", "H", "FH", "M"];
    let wanted: Vec<String> = if problems.is_empty() {
        all.iter().map(|s| s.to_string()).collect()
    } else {
        problems.iter().map(|p| p.to_uppercase()).collect()
    };
    if let Some(bad) = wanted.iter().find(|p| !all.contains(&p.as_str())) {
        return Err(format!(
            "unknown problem `{bad}`: choose from F, R, H, FH, M"
        ));
    }
    if n == Some(0) {
        return Err("--n must be at least 1".into());
    }
    let sizes = match n {
        Some(n) => vec![n],
        None => vec![50, 1_000_000],
    };
    let mut cases = Vec::new();
    for p in &wanted {
        match p.as_str() {
            "F" => cases.push(case_f(peers)),
            "R" => cases.extend(sizes.iter().map(|&n| case_r(n, peers))),
            "H" => cases.extend(sizes.iter().map(|&n| case_h(n, peers))),
            "M" => cases.extend(super::math::cases()),
            _ => cases.push(case_fh(peers)),
        }
    }
    Ok(cases)
}
