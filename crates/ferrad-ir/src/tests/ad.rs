use ferrad_core::prelude::*;

use super::progs::*;
use crate::interp::{Arg, Val, run_function};
use crate::interp::{RuleSet, run_in};
use crate::ir::{Function, Type};
use crate::opt::{self, OptOptions};
use crate::transform::jvp::{JvpOptions, jvp};
use crate::transform::vjp::{CachePolicy, VjpOptions, vjp};

fn scalar_out(out: &[Val]) -> Vec<f64> {
    out.iter().filter_map(|v| v.as_f64()).collect()
}

/// Central differences of output 0 w.r.t. every float scalar and every buffer element.
fn fd(f: &Function, args: &[Arg]) -> Vec<f64> {
    fd_h(f, args, 1e-6)
}

/// Central differences with step `h`.
pub(super) fn fd_h(f: &Function, args: &[Arg], h: f64) -> Vec<f64> {
    let mut g = vec![];
    let eval = |a: &[Arg]| {
        let mut a = a.to_vec();
        scalar_out(&run_function(f, &mut a).unwrap())[0]
    };
    for (k, a) in args.iter().enumerate() {
        match a {
            Arg::F64(x) => {
                let mut p = args.to_vec();
                p[k] = Arg::F64(x + h);
                let mut m = args.to_vec();
                m[k] = Arg::F64(x - h);
                g.push((eval(&p) - eval(&m)) / (2.0 * h));
            }
            Arg::Buf(b) if f.ty(f.params[k]) == Type::Buf => {
                for j in 0..b.len() {
                    let mut p = args.to_vec();
                    let mut m = args.to_vec();
                    if let (Arg::Buf(bp), Arg::Buf(bm)) = (&mut p[k], &mut m[k]) {
                        bp[j] += h;
                        bm[j] -= h;
                    }
                    g.push((eval(&p) - eval(&m)) / (2.0 * h));
                }
            }
            _ => {}
        }
    }
    g
}

/// Gradient of output 0 through the VJP (read-only buffers and scalars active, mutable
/// buffers seeded with zero).
fn rev(f: &Function, args: &[Arg], policy: CachePolicy) -> (f64, Vec<f64>) {
    rev_opt(f, args, policy, false)
}

pub(super) fn rev_opt(
    f: &Function,
    args: &[Arg],
    policy: CachePolicy,
    optimize: bool,
) -> (f64, Vec<f64>) {
    let df = vjp(
        f,
        &VjpOptions {
            active: None,
            policy,
        },
    )
    .unwrap();
    let df = if optimize {
        opt::optimize(&df, &OptOptions::default()).0
    } else {
        df
    };
    // Arguments: each buffer followed by its zeroed shadow, then one seed per float result.
    let mut a = vec![];
    let mut shadow_pos = vec![None; args.len()];
    for (k, x) in args.iter().enumerate() {
        a.push(x.clone());
        if let Arg::Buf(b) = x {
            shadow_pos[k] = Some(a.len());
            a.push(Arg::Buf(vec![0.0; b.len()]));
        }
    }
    for (k, &t) in f.ret_types.iter().enumerate() {
        if t.is_float() {
            a.push(Arg::F64(if k == 0 { 1.0 } else { 0.0 }));
        }
    }
    let out = scalar_out(&run_function(&df, &mut a).unwrap());
    // Gradients: scalars from the results, read-only buffers from their shadows.
    let mut g = vec![];
    let mut scalar = out[f.ret_types.len()..].iter();
    for (k, x) in args.iter().enumerate() {
        match x {
            Arg::F64(_) => g.push(*scalar.next().unwrap()),
            Arg::Buf(_) if f.ty(f.params[k]) == Type::Buf => {
                g.extend_from_slice(a[shadow_pos[k].unwrap()].buf().unwrap());
            }
            _ => {}
        }
    }
    (out[0], g)
}

/// Gradient of output 0 through the JVP of width `w`, one seed direction per input coordinate.
pub(super) fn fwd_opt(f: &Function, args: &[Arg], w: usize, optimize: bool) -> Vec<f64> {
    let df = jvp(
        f,
        &JvpOptions {
            width: w,
            active: None,
        },
    )
    .unwrap();
    let df = if optimize {
        opt::optimize(&df, &OptOptions::default()).0
    } else {
        df
    };
    let n: usize = args
        .iter()
        .enumerate()
        .map(|(k, a)| match a {
            Arg::F64(_) => 1,
            Arg::Buf(b) if f.ty(f.params[k]) == Type::Buf => b.len(),
            _ => 0,
        })
        .sum();
    let mut g = vec![];
    let mut start = 0;
    while start < n {
        let mut a = vec![];
        let mut coord = 0;
        for (k, x) in args.iter().enumerate() {
            a.push(x.clone());
            match x {
                Arg::F64(_) => {
                    for lane in 0..w {
                        a.push(Arg::F64(if coord == start + lane { 1.0 } else { 0.0 }));
                    }
                    coord += 1;
                }
                Arg::Buf(b) => {
                    let ro = f.ty(f.params[k]) == Type::Buf;
                    for lane in 0..w {
                        let mut t = vec![0.0; b.len()];
                        if ro {
                            for (j, tj) in t.iter_mut().enumerate() {
                                if coord + j == start + lane {
                                    *tj = 1.0;
                                }
                            }
                        }
                        a.push(Arg::Buf(t));
                    }
                    if ro {
                        coord += b.len();
                    }
                }
                _ => {}
            }
        }
        let out = scalar_out(&run_function(&df, &mut a).unwrap());
        for lane in 0..w {
            if start + lane < n {
                g.push(out[1 + lane]);
            }
        }
        start += w;
    }
    g
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs())))
}

fn check_all(f: &Function, args: &[Arg]) {
    let g_fd = fd(f, args);
    let (_, g_ref) = rev(f, args, CachePolicy::Recompute);
    assert!(
        close(&g_ref, &g_fd, 1e-6),
        "vjp {g_ref:?} vs fd {g_fd:?}\n{f}"
    );
    for optimize in [false, true] {
        for policy in [
            CachePolicy::Recompute,
            CachePolicy::Cache,
            CachePolicy::Auto,
        ] {
            let (_, g_rev) = rev_opt(f, args, policy, optimize);
            assert!(
                close(&g_rev, &g_ref, 1e-12),
                "{policy:?}, optimized {optimize}: vjp {g_rev:?} vs {g_ref:?}\n{f}"
            );
        }
        for w in [1, 3] {
            let g_fwd = fwd_opt(f, args, w, optimize);
            assert!(
                close(&g_fwd, &g_ref, 1e-12),
                "jvp width {w}, optimized {optimize}: {g_fwd:?} vs vjp {g_ref:?}"
            );
        }
    }
}

#[test]
fn small_f_all_modes_agree_with_dual() {
    let f = traced_f(7);
    let args: Vec<Arg> = F_P.iter().map(|&x| Arg::F64(x)).collect();
    check_all(&f, &args);
    let (_, g) = rev(&f, &args, CachePolicy::Recompute);
    for (i, &gi) in g.iter().enumerate() {
        let p: Vec<Dual<f64>> = F_P
            .iter()
            .enumerate()
            .map(|(j, &x)| {
                if i == j {
                    Dual::variable(x)
                } else {
                    Dual::constant(x)
                }
            })
            .collect();
        let d = bench_f(&p, 7).eps;
        assert!((d - gi).abs() < 1e-12 * (1.0 + d.abs()), "{i}: {d} vs {gi}");
    }
}

#[test]
fn programs_all_modes_agree_with_finite_differences() {
    let x: Vec<f64> = (1..=6).map(|i| (i as f64).sin()).collect();
    check_all(&parse(R), &[Arg::Buf(x.clone())]);
    check_all(&parse(PROD), &[Arg::Buf(x.clone()), Arg::F64(0.7)]);
    check_all(&parse(BRANCH), &[Arg::F64(0.3), Arg::F64(0.9)]);
    check_all(&parse(COUNTER), &[Arg::F64(0.3)]);
    check_all(&parse(COUNTER), &[Arg::F64(-1.1)]);
    check_all(&parse(BRANCH), &[Arg::F64(1.3), Arg::F64(0.9)]);
    check_all(
        &parse(STORE),
        &[Arg::Buf(x.clone()), Arg::Buf(vec![0.0; 6]), Arg::F64(1.5)],
    );
}

#[test]
fn benchmark_r_gradient_matches_reference() {
    let x: Vec<f64> = (1..=50).map(|i| (i as f64).sin()).collect();
    let (y, g) = rev(&parse(R), &[Arg::Buf(x)], CachePolicy::Recompute);
    assert!((y - 2.512319765985212e+01).abs() < 1e-12);
    for (k, want) in [2.430488478694623, 2.567448803828114, 0.3400414730735312]
        .into_iter()
        .enumerate()
    {
        assert!((g[k] - want).abs() < 1e-13, "{k}: {} vs {want}", g[k]);
    }
    let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!((norm - 10.88526264882785).abs() < 1e-12);
}

#[test]
fn nested_loops_with_if_on_carried_values() {
    let x: Vec<f64> = (1..=4).map(|i| (i as f64 * 0.7).cos()).collect();
    check_all(&parse(NESTED), &[Arg::Buf(x.clone()), Arg::F64(0.4)]);
    check_all(&parse(NESTED), &[Arg::Buf(x), Arg::F64(-0.9)]);
}

#[test]
fn cached_transcendentals_and_hoisted_scratch_keep_gradients() {
    // Every policy, optimized or not, against the recompute policy and central differences:
    // a stored exp (LSE), stored tanh/exp in a nest whose inner buffers move out of the outer
    // adjoint loop (NESTED_TANH), and a triangular nest whose buffers cannot (TRIANGLE).
    let x: Vec<f64> = (1..=7).map(|i| 0.3 * (i as f64).sin()).collect();
    check_all(&parse(LSE), &[Arg::Buf(x.clone()), Arg::F64(0.25)]);
    check_all(&parse(NESTED_TANH), &[Arg::Buf(x.clone()), Arg::F64(0.8)]);
    check_all(&parse(NESTED_TANH), &[Arg::Buf(x.clone()), Arg::F64(-1.3)]);
    check_all(&parse(TRIANGLE), &[Arg::Buf(x.clone()), Arg::F64(0.6)]);
    check_all(&parse(TRIANGLE), &[Arg::Buf(vec![]), Arg::F64(0.6)]);
}

#[test]
fn cache_and_recompute_policies_differ_in_what_they_store() {
    // The optimized VJP of `src` under `policy`.
    let vjp_with = |src: &str, policy: CachePolicy| {
        let opts = VjpOptions {
            active: None,
            policy,
        };
        opt::optimize(&vjp(&parse(src), &opts).unwrap(), &OptOptions::default()).0
    };
    // PROD's adjoint needs the carried product at every iteration: both policies keep a
    // checkpoint, and `Cache` also stores the body's values (more buffers).
    let count = |p: CachePolicy| {
        vjp_with(PROD, p)
            .op_counts()
            .into_iter()
            .filter(|(k, _)| k == "alloc" || k == "scratch")
            .map(|(_, n)| n)
            .sum::<usize>()
    };
    assert_eq!(count(CachePolicy::Recompute), 1);
    // Auto: the carried product only; sin(x) is not stored, since its partial cos(x) is
    // computed anyway (and emitted as one sin_cos with it).
    assert_eq!(count(CachePolicy::Auto), 1);
    assert!(count(CachePolicy::Cache) > 2);
    // LSE's adjoint loop needs exp(xᵢ - a): Auto stores it (a second buffer beside nothing
    // else: the sum's adjoint does not need the carried sum).
    let allocs = |p: CachePolicy| {
        let text = crate::print::print_function(&vjp_with(LSE, p));
        // checkpoints and caches are `scratch` buffers
        assert!(!text.contains("alloc"));
        (text.matches("scratch").count(), text.matches("exp").count())
    };
    assert_eq!(allocs(CachePolicy::Recompute), (0, 2)); // exp in both loops
    assert_eq!(allocs(CachePolicy::Auto), (1, 1)); // exp once, stored
    // R's adjoint does not depend on the carried sum: nothing is stored at all.
    let text = crate::print::print_function(&vjp_with(R, CachePolicy::default()));
    assert!(!text.contains("alloc") && !text.contains("scratch"));
}

#[test]
fn custom_rules_through_jvp_and_vjp() {
    let f = parse(CUSTOM);
    let rules = RuleSet::new().with(Polar);
    let x = [0.8, 0.3];
    let eval = |a: f64, b: f64| {
        let mut args = vec![Arg::F64(a), Arg::F64(b)];
        scalar_out(&run_in(None, &f, &mut args, &rules).unwrap())[0]
    };
    let h = 1e-6;
    let fd = [
        (eval(x[0] + h, x[1]) - eval(x[0] - h, x[1])) / (2.0 * h),
        (eval(x[0], x[1] + h) - eval(x[0], x[1] - h)) / (2.0 * h),
    ];
    let g = vjp(&f, &VjpOptions::default()).unwrap();
    let mut args = vec![Arg::F64(x[0]), Arg::F64(x[1]), Arg::F64(1.0)];
    let out = scalar_out(&run_in(None, &g, &mut args, &rules).unwrap());
    assert!(close(&out[1..], &fd, 1e-6), "{out:?} vs {fd:?}");
    assert!(crate::print::print_function(&g).contains("custom_vjp \"polar\""));
    let j = jvp(
        &f,
        &JvpOptions {
            width: 2,
            active: None,
        },
    )
    .unwrap();
    let mut args = vec![
        Arg::F64(x[0]),
        Arg::F64(1.0),
        Arg::F64(0.0),
        Arg::F64(x[1]),
        Arg::F64(0.0),
        Arg::F64(1.0),
    ];
    let out = scalar_out(&run_in(None, &j, &mut args, &rules).unwrap());
    assert!(close(&out[1..], &fd, 1e-6), "{out:?} vs {fd:?}");
}

#[test]
fn benchmark_f_value_and_gradient_match_reference() {
    let f = traced_f(100_000);
    let g = vjp(&f, &VjpOptions::default()).unwrap();
    let (g, _) = opt::optimize(&g, &OptOptions::default());
    let mut args: Vec<Arg> = F_P.iter().map(|&x| Arg::F64(x)).collect();
    args.push(Arg::F64(1.0));
    let out = scalar_out(&run_function(&g, &mut args).unwrap());
    assert!((out[0] - 2.248195627699457e+01).abs() < 1e-10, "{}", out[0]);
    for (k, want) in [
        (0, -9.713268349016758e+01),
        (1, -2.434582580517401e+01),
        (2, -1.086696238947319e+01),
        (9, -7.840243609283328e-01),
    ] {
        assert!(
            (out[1 + k] - want).abs() < 1e-9 * want.abs(),
            "grad[{k}] = {} vs {want}",
            out[1 + k]
        );
    }
}

#[test]
fn benchmark_h_hessian_vector_product_by_forward_over_reverse() {
    let n = 50;
    let x: Vec<f64> = (1..=n).map(|i| (i as f64).sin()).collect();
    let v: Vec<f64> = (1..=n).map(|i| (i as f64).cos()).collect();
    let g = vjp(&parse(R), &VjpOptions::default()).unwrap();
    let (g, _) = opt::optimize(&g, &OptOptions::default());
    let h = jvp(&g, &JvpOptions::default()).unwrap();
    let (h, _) = opt::optimize(&h, &OptOptions::default());
    // (x, ẋ, dx, ḋx, dret, ḋret)
    let mut args = vec![
        Arg::Buf(x),
        Arg::Buf(v),
        Arg::Buf(vec![0.0; n]),
        Arg::Buf(vec![0.0; n]),
        Arg::F64(1.0),
        Arg::F64(0.0),
    ];
    run_function(&h, &mut args).unwrap();
    let hv = args[3].buf().unwrap();
    for (k, want) in [1.147897752224595, -0.7984923929438998, -2.76425652161373]
        .into_iter()
        .enumerate()
    {
        assert!(
            (hv[k] - want).abs() < 1e-12,
            "(Hv)[{k}] = {} vs {want}",
            hv[k]
        );
    }
    let norm = hv.iter().map(|t| t * t).sum::<f64>().sqrt();
    assert!((norm - 10.95369564510562).abs() < 1e-11);
    let grad = args[2].buf().unwrap();
    assert!((grad[0] - 2.430488478694623).abs() < 1e-13);
}

#[test]
fn a_dropped_primal_returns_zero_and_its_code_is_deleted() {
    // LSE's adjoint needs the sum, not its `ln`: with the primal dropped, `ln` goes
    let m = crate::parse::parse_module(LSE).unwrap();
    let run = |drop_primal: bool| {
        let opts = crate::DiffOptions {
            drop_primal,
            ..crate::DiffOptions::default()
        };
        let d = crate::differentiate(&m, crate::ir::FuncId(0), &opts).unwrap();
        let x = vec![0.3, -1.2, 2.0, 0.7];
        let mut args = vec![
            Arg::Buf(x.clone()),
            Arg::Buf(vec![0.0; x.len()]),
            Arg::F64(0.25),
            Arg::F64(1.0),
        ];
        let out = run_function(&d.func, &mut args).unwrap();
        let ln = d.func.op_counts().iter().any(|(k, _)| k == "ln");
        (out, args[1].buf().unwrap().to_vec(), ln)
    };
    let (out, dx, ln) = run(false);
    let (out0, dx0, ln0) = run(true);
    assert!(ln && !ln0, "ln kept {ln}, after dropping {ln0}");
    assert_eq!(out0[0], Val::F64(0.0));
    assert!(matches!(out[0], Val::F64(v) if v > 0.0));
    assert_eq!(out0[1..], out[1..]);
    assert_eq!(dx0, dx);
}

/// The arguments of forward over reverse of R, `(x, ẋ, g, ġ, seed, ṡeed)`: x_i = sin i,
/// v_i = cos i (DESIGN's H), g and ġ filled with `g` and `hv`, the seed 1 and its tangent 0
/// (what a caller passes whether or not those values are fixed).
fn r_hvp_args(n: usize, g: f64, hv: f64) -> Vec<Arg> {
    vec![
        Arg::Buf((1..=n).map(|i| (i as f64).sin()).collect()),
        Arg::Buf((1..=n).map(|i| (i as f64).cos()).collect()),
        Arg::Buf(vec![g; n]),
        Arg::Buf(vec![hv; n]),
        Arg::F64(1.0),
        Arg::F64(0.0),
    ]
}

#[test]
fn a_frozen_gradient_buffer_is_left_untouched_and_hv_is_unchanged() {
    // forward over reverse of R: (x, ẋ, g, ġ, seed, ṡeed); freeze g and drop the results,
    // keep ġ = H·v
    let m = crate::parse::parse_module(R).unwrap();
    let n = 50;
    let run = |frozen: Vec<usize>| {
        let opts = crate::DiffOptions {
            mode: crate::Mode::ForwardOverReverse,
            drop_primal: !frozen.is_empty(),
            frozen,
            ..crate::DiffOptions::default()
        };
        let d = crate::differentiate(&m, crate::ir::FuncId(0), &opts).unwrap();
        let mut args = r_hvp_args(n, 7.0, 0.0);
        let out = run_function(&d.func, &mut args).unwrap();
        let text = crate::print::print_function(&d.func);
        let g = args[2].buf().unwrap().to_vec();
        let hv = args[3].buf().unwrap().to_vec();
        (g, hv, text, d.func.inst_count(), out)
    };
    let (g, hv, text, ops, out) = run(vec![]);
    // with the results dropped too, the loop keeps only what H·v needs
    let (g0, hv0, text0, ops0, out0) = run(vec![2]);
    assert!(matches!(out[0], Val::F64(v) if (v - 2.512319765985212e+01).abs() < 1e-12));
    assert_eq!(out0, vec![Val::F64(0.0), Val::F64(0.0)]);
    assert!(
        text.contains("store %2[") && !text0.contains("store %2["),
        "{text0}"
    );
    assert!(ops0 < ops, "{ops0} ops frozen vs {ops}");
    assert!((g[0] - 7.0 - 2.430488478694623).abs() < 1e-13);
    assert_eq!(g0, vec![7.0; n]);
    assert_eq!(hv0, hv);
    assert!((hv0[0] - 1.147897752224595).abs() < 1e-12);
}

#[test]
fn a_zeroed_shadow_is_overwritten_in_the_one_fused_loop() {
    // forward over reverse of R, as `g.fill(0.0); d_r(x, g, 1.0)` with a `DualOnly` g: the
    // shadow ġ (position 3) starts as zeros over len(x), whatever it held, and the fill fuses
    // into the H·v loop, which then stores ġ[i] without loading it
    let m = crate::parse::parse_module(R).unwrap();
    let n = 50;
    let run = |zeroed: Vec<(usize, usize)>, hv_in: f64| {
        let opts = crate::DiffOptions {
            mode: crate::Mode::ForwardOverReverse,
            drop_primal: true,
            frozen: vec![2],
            fixed: vec![(4, 1.0), (5, 0.0)],
            zeroed,
            ..crate::DiffOptions::default()
        };
        let d = crate::differentiate(&m, crate::ir::FuncId(0), &opts).unwrap();
        let mut args = r_hvp_args(n, 7.0, hv_in);
        run_function(&d.func, &mut args).unwrap();
        let text = crate::print::print_function(&d.func);
        (args[3].buf().unwrap().to_vec(), text)
    };
    let (want, _) = run(vec![], 0.0);
    let (hv, text) = run(vec![(3, 0)], f64::NAN);
    assert_eq!(hv, want);
    assert!((hv[0] - 1.147897752224595).abs() < 1e-12);
    assert_eq!(text.matches("for ").count(), 1, "{text}");
    assert!(!text.contains("load %3["), "{text}");
    // and the fill's store, overwritten in the same iteration, is gone
    assert_eq!(text.matches("store %3[").count(), 1, "{text}");
    // the zeroed parameter must be a mutable buffer and its bound a buffer
    let opts = |zeroed| crate::DiffOptions {
        mode: crate::Mode::ForwardOverReverse,
        zeroed,
        ..crate::DiffOptions::default()
    };
    for bad in [vec![(0, 0)], vec![(3, 4)], vec![(9, 0)]] {
        let e = crate::differentiate(&m, crate::ir::FuncId(0), &opts(bad)).unwrap_err();
        assert!(e.to_string().contains("zeroed parameter"), "{e}");
    }
}

#[test]
fn a_fixed_seed_folds_away_and_hv_is_unchanged() {
    // forward over reverse of R with g frozen: (x, ẋ, g, ġ, seed, ṡeed); fix seed = 1, ṡeed = 0
    let m = crate::parse::parse_module(R).unwrap();
    let n = 37;
    let run = |fixed: Vec<(usize, f64)>| {
        let opts = crate::DiffOptions {
            mode: crate::Mode::ForwardOverReverse,
            drop_primal: true,
            frozen: vec![2],
            fixed,
            ..crate::DiffOptions::default()
        };
        let d = crate::differentiate(&m, crate::ir::FuncId(0), &opts).unwrap();
        let mut args = r_hvp_args(n, 0.0, 0.5);
        run_function(&d.func, &mut args).unwrap();
        let text = crate::print::print_function(&d.func);
        (args[3].buf().unwrap().to_vec(), text, d.func.inst_count())
    };
    let (hv, text, ops) = run(vec![]);
    let (hv1, text1, ops1) = run(vec![(4, 1.0), (5, 0.0)]);
    // the seed and its tangent are read in the loop, unless fixed
    assert!(text.contains("%4") && text.contains("%5"), "{text}");
    let body = |t: &str| t.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert!(
        !body(&text1).contains("%4,") && !body(&text1).contains("%5"),
        "{text1}"
    );
    assert!(ops1 + 4 <= ops, "{ops1} ops fixed vs {ops}");
    for (a, b) in hv1.iter().zip(&hv) {
        assert!((a - b).abs() <= 1e-15 * b.abs().max(1.0), "{a} vs {b}");
    }
    assert!((hv1[0] - 0.5 - 1.147897752224595).abs() < 1e-12);
    let bad = crate::DiffOptions {
        mode: crate::Mode::ForwardOverReverse,
        fixed: vec![(0, 1.0)],
        ..crate::DiffOptions::default()
    };
    let e = crate::differentiate(&m, crate::ir::FuncId(0), &bad).unwrap_err();
    assert!(e.to_string().contains("not an f64"), "{e}");
}

#[test]
fn freezing_a_buffer_whose_stores_are_read_back_is_refused() {
    // the tangent of out[1] = out[0]·x[0] reads the primal out[0], which freezing would lose
    let src = "\
fn @f(%0: &[f64], %1: &mut [f64]) -> () {
  %2: i64 = const 0
  %3: i64 = const 1
  %4: f64 = load %0[%2]
  %5: f64 = mul %4, %4
  store %1[%2], %5
  %6: f64 = load %1[%2]
  %7: f64 = mul %6, %4
  store %1[%3], %7
  return
}
";
    let m = crate::parse::parse_module(src).unwrap();
    let opts = |frozen| crate::DiffOptions {
        mode: crate::Mode::Forward,
        frozen,
        ..crate::DiffOptions::default()
    };
    assert!(crate::differentiate(&m, crate::ir::FuncId(0), &opts(vec![])).is_ok());
    let e = crate::differentiate(&m, crate::ir::FuncId(0), &opts(vec![2])).unwrap_err();
    assert!(e.to_string().contains("frozen"), "{e}");
    let e = crate::differentiate(&m, crate::ir::FuncId(0), &opts(vec![0])).unwrap_err();
    assert!(e.to_string().contains("not a mutable buffer"), "{e}");
}
