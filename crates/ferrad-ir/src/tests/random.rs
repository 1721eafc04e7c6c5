//! Random programs (proptest): JVP, VJP (every cache policy), ferrad-core's `Dual` and central
//! finite differences agree, before and after optimization, through the interpreter.

use std::collections::HashMap;

use ferrad_core::prelude::*;
use ferrad_core::rules::{Binary, Unary};
use proptest::prelude::*;

use crate::builder::FunctionBuilder;
use crate::interp::eval_f64;
use crate::ir::*;
use crate::opt::{OptOptions, optimize};
use crate::transform::jvp::{JvpOptions, jvp};
use crate::transform::vjp::{CachePolicy, VjpOptions, vjp};

const UN: [Unary; 8] = [
    Unary::Sin,
    Unary::Cos,
    Unary::Tanh,
    Unary::Atan,
    Unary::Asinh,
    Unary::Neg,
    Unary::Powi(2),
    Unary::Abs,
];
const BIN: [Binary; 7] = [
    Binary::Add,
    Binary::Sub,
    Binary::Mul,
    Binary::Atan2,
    Binary::Hypot,
    Binary::Max,
    Binary::Min,
];

#[derive(Clone, Debug)]
enum Step {
    Un(usize, usize),
    Bin(usize, usize, usize),
    MulAdd(usize, usize, usize),
    /// exp(tanh a) and ln(1 + a²): bounded compositions of exp and ln.
    ExpLn(usize),
    Sel(usize, usize, usize, usize),
    Loop {
        n: i64,
        init: usize,
        un: usize,
        bin: usize,
        other: usize,
    },
    If {
        a: usize,
        b: usize,
        then_un: usize,
        else_bin: usize,
        c: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let i = 0..64usize;
    prop_oneof![
        3 => (0..UN.len(), i.clone()).prop_map(|(o, a)| Step::Un(o, a)),
        3 => (0..BIN.len(), i.clone(), i.clone()).prop_map(|(o, a, b)| Step::Bin(o, a, b)),
        1 => (i.clone(), i.clone(), i.clone()).prop_map(|(a, b, c)| Step::MulAdd(a, b, c)),
        1 => i.clone().prop_map(Step::ExpLn),
        1 => (i.clone(), i.clone(), i.clone(), i.clone()).prop_map(|(a, b, c, d)| Step::Sel(a, b, c, d)),
        1 => (0..4i64, i.clone(), 0..UN.len(), 0..BIN.len(), i.clone())
            .prop_map(|(n, init, un, bin, other)| Step::Loop { n, init, un, bin, other }),
        1 => (i.clone(), i.clone(), 0..UN.len(), 0..BIN.len(), i)
            .prop_map(|(a, b, then_un, else_bin, c)| Step::If { a, b, then_un, else_bin, c }),
    ]
}

fn build(n_in: usize, steps: &[Step]) -> Function {
    let mut b = FunctionBuilder::new("rand");
    let mut pool: Vec<Value> = (0..n_in).map(|_| b.param(Type::F64)).collect();
    for s in steps {
        let p = |k: usize| pool[k % pool.len()];
        let v = match *s {
            Step::Un(o, a) => b.unary(UN[o], p(a)),
            Step::Bin(o, a, c) => b.binary(BIN[o], p(a), p(c)),
            Step::MulAdd(a, c, d) => {
                let (x, y, z) = (p(a), p(c), p(d));
                b.ternary(ferrad_core::rules::Ternary::MulAdd, x, y, z)
            }
            Step::ExpLn(a) => {
                let x = p(a);
                let t = b.unary(Unary::Tanh, x);
                let e = b.unary(Unary::Exp, t);
                let sq = b.mul(x, x);
                let l = b.unary(Unary::Ln1p, sq);
                b.add(e, l)
            }
            Step::Sel(a, c, d, e) => {
                let cond = b.cmp(CmpOp::Lt, p(a), p(c));
                b.select(cond, p(d), p(e))
            }
            Step::Loop {
                n,
                init,
                un,
                bin,
                other,
            } => {
                let (lo, hi) = (b.const_i64(0), b.const_i64(n));
                let (x0, o) = (p(init), p(other));
                b.for_loop(lo, hi, &[x0], |b, i, c| {
                    let t = b.binary(BIN[bin], c[0], o);
                    let u = b.unary(UN[un], t);
                    let k = b.cast(i, Type::F64);
                    let s = b.const_f64(0.25);
                    let ks = b.mul(k, s);
                    vec![b.add(u, ks)]
                })[0]
            }
            Step::If {
                a,
                b: c,
                then_un,
                else_bin,
                c: d,
            } => {
                let cond = b.cmp(CmpOp::Lt, p(a), p(c));
                let (x, y) = (p(c), p(d));
                b.if_else(
                    cond,
                    &[Type::F64],
                    |b| vec![b.unary(UN[then_un], x)],
                    |b| vec![b.binary(BIN[else_bin], x, y)],
                )[0]
            }
        };
        pool.push(v);
    }
    let last = *pool.last().expect("pool");
    let second = pool[pool.len() / 2];
    b.finish(&[last, second])
}

#[derive(Clone, Copy)]
enum G<T> {
    F(T),
    I(i64),
    B(bool),
}

/// Evaluates a scalar-only function on any `Scalar` (here `Dual<f64>`): ferrad-core's own modes
/// as an oracle for the IR transforms.
fn eval_generic<T: Scalar>(f: &Function, x: &[T]) -> Vec<T> {
    let mut env: HashMap<Value, G<T>> = HashMap::new();
    for (&p, &v) in f.params.iter().zip(x) {
        env.insert(p, G::F(v));
    }
    let ys = block(f, f.body, &mut env);
    ys.into_iter()
        .map(|g| if let G::F(v) = g { v } else { T::nan() })
        .collect()
}

fn block<T: Scalar>(f: &Function, blk: Block, env: &mut HashMap<Value, G<T>>) -> Vec<G<T>> {
    for &i in &f.block(blk).insts {
        let d = f.inst(i);
        let fa = |env: &HashMap<Value, G<T>>, k: usize| match env[&d.args[k]] {
            G::F(v) => v,
            _ => unreachable!(),
        };
        let out: Vec<G<T>> = match &d.op {
            Op::Const(Const::F64(v)) => vec![G::F(T::lit(*v))],
            Op::Const(Const::I64(v)) => vec![G::I(*v)],
            Op::Const(Const::Bool(v)) => vec![G::B(*v)],
            Op::Unary(u) => vec![G::F(u.value(fa(env, 0)))],
            Op::Binary(o) => vec![G::F(o.value(fa(env, 0), fa(env, 1)))],
            Op::Ternary(o) => vec![G::F(o.value(fa(env, 0), fa(env, 1), fa(env, 2)))],
            Op::Cmp(c) => vec![G::B(c.apply(fa(env, 0), fa(env, 1)))],
            Op::Select => {
                let G::B(c) = env[&d.args[0]] else {
                    unreachable!()
                };
                vec![env[&d.args[if c { 1 } else { 2 }]]]
            }
            Op::Cast => {
                let G::I(k) = env[&d.args[0]] else {
                    unreachable!()
                };
                vec![G::F(T::lit(k as f64))]
            }
            Op::For { body, .. } => {
                let (G::I(lo), G::I(hi)) = (env[&d.args[0]], env[&d.args[1]]) else {
                    unreachable!()
                };
                let mut c: Vec<G<T>> = d.args[2..].iter().map(|a| env[a]).collect();
                let ps = f.block(*body).params.clone();
                for k in lo..hi {
                    env.insert(ps[0], G::I(k));
                    for (&p, &v) in ps[1..].iter().zip(&c) {
                        env.insert(p, v);
                    }
                    c = block(f, *body, env);
                }
                c
            }
            Op::If { then_blk, else_blk } => {
                let G::B(c) = env[&d.args[0]] else {
                    unreachable!()
                };
                block(f, if c { *then_blk } else { *else_blk }, env)
            }
            op => unreachable!("random programs do not use {op:?}"),
        };
        for (&r, v) in d.results.iter().zip(out) {
            env.insert(r, v);
        }
    }
    f.block(blk).yields.iter().map(|y| env[y]).collect()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs())) || (a.is_nan() && b.is_nan())
}

fn check_program(f: &Function, x: &[f64]) -> Result<(), TestCaseError> {
    let n = x.len();
    let y = eval_f64(f, x).unwrap();
    prop_assume!(y.iter().all(|v| v.is_finite() && v.abs() < 1e6));
    // Dual mode (ferrad-core) as the reference gradient of output 0.
    let dual: Vec<f64> = (0..n)
        .map(|k| {
            let xs: Vec<Dual<f64>> = x
                .iter()
                .enumerate()
                .map(|(j, &v)| {
                    if j == k {
                        Dual::variable(v)
                    } else {
                        Dual::constant(v)
                    }
                })
                .collect();
            eval_generic(f, &xs)[0].eps
        })
        .collect();
    prop_assume!(dual.iter().all(|d| d.is_finite() && d.abs() < 1e6));
    for optimized in [false, true] {
        let prep = |g: Function| {
            if optimized {
                optimize(&g, &OptOptions::default()).0
            } else {
                g
            }
        };
        for policy in [
            CachePolicy::Recompute,
            CachePolicy::Cache,
            CachePolicy::Auto,
        ] {
            let g = prep(
                vjp(
                    f,
                    &VjpOptions {
                        active: None,
                        policy,
                    },
                )
                .unwrap(),
            );
            let mut args = x.to_vec();
            args.extend([1.0, 0.0]);
            let out = eval_f64(&g, &args).unwrap();
            prop_assert!(
                close(out[0], y[0], 1e-12),
                "primal changed: {} vs {}",
                out[0],
                y[0]
            );
            for k in 0..n {
                prop_assert!(
                    close(out[2 + k], dual[k], 1e-9),
                    "vjp ({policy:?}, optimized {optimized}) d/dx{k}: {} vs Dual {}\n{f}",
                    out[2 + k],
                    dual[k]
                );
            }
        }
        let g = prep(
            jvp(
                f,
                &JvpOptions {
                    width: 2,
                    active: None,
                },
            )
            .unwrap(),
        );
        for k in (0..n).step_by(2) {
            let mut args = vec![];
            for (j, &v) in x.iter().enumerate() {
                args.extend([v, (j == k) as u8 as f64, (j == k + 1) as u8 as f64]);
            }
            let out = eval_f64(&g, &args).unwrap();
            for lane in 0..2 {
                if k + lane < n {
                    prop_assert!(
                        close(out[1 + lane], dual[k + lane], 1e-9),
                        "jvp (optimized {optimized}) d/dx{}: {} vs Dual {}\n{f}",
                        k + lane,
                        out[1 + lane],
                        dual[k + lane]
                    );
                }
            }
        }
    }
    // Central differences where the function is smooth around x: two step sizes agree, and so
    // do the one-sided slopes (a branch whose condition flips at x itself, as `(x0 + x2) − x2 <
    // x0` at x0 = 0 does by rounding, gives two equal central differences of the wrong slope).
    for k in 0..n {
        let at = |h: f64| {
            let mut p = x.to_vec();
            p[k] += h;
            eval_f64(f, &p).unwrap()[0]
        };
        let fd = |h: f64| (at(h) - at(-h)) / (2.0 * h);
        let (a, b) = (fd(1e-5), fd(1e-6));
        let (right, left) = ((at(1e-6) - at(0.0)) / 1e-6, (at(0.0) - at(-1e-6)) / 1e-6);
        if close(a, b, 1e-5) && close(right, left, 1e-3) {
            prop_assert!(
                close(a, dual[k], 1e-4),
                "fd d/dx{k}: {a} vs Dual {}\n{f}",
                dual[k]
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_programs_all_modes_agree(
        steps in proptest::collection::vec(step(), 1..14),
        x in proptest::collection::vec(-2.0f64..2.0, 3),
    ) {
        let f = build(x.len(), &steps);
        crate::verify::verify_function(&f, None).unwrap();
        // The text form round-trips on every generated program.
        let text = crate::print::print_function(&f);
        prop_assert_eq!(crate::print::print_function(&crate::parse::parse_function(&text).unwrap()), text);
        check_program(&f, &x)?;
    }
}

/// A random loop over buffers: loads (at `i` or mirrored), an optional branch, a store into a
/// mutable output buffer read back, a carried value, and a read of the output after the loop.
#[derive(Clone, Debug)]
struct BufProg {
    rev: bool,
    mirror: bool,
    branch: bool,
    ops: [usize; 4],
}

const SUN: [Unary; 5] = [
    Unary::Sin,
    Unary::Cos,
    Unary::Tanh,
    Unary::Atan,
    Unary::Asinh,
];
const SBIN: [Binary; 4] = [Binary::Add, Binary::Sub, Binary::Mul, Binary::Atan2];

fn build_buf(p: &BufProg) -> Function {
    let mut b = FunctionBuilder::new("bufprog");
    let x = b.param(Type::Buf);
    let y = b.param(Type::BufMut);
    let s = b.param(Type::F64);
    let n = b.len(x);
    let zero = b.const_i64(0);
    let one = b.const_i64(1);
    let (h, i, c) = b.begin_for(zero, n, &[s], p.rev);
    let v = b.load(x, i);
    let j = if p.mirror {
        let last = b.int(IntOp::Sub, n, one);
        b.int(IntOp::Sub, last, i)
    } else {
        i
    };
    let v2 = b.load(x, j);
    let w = b.binary(SBIN[p.ops[0] % SBIN.len()], v, c[0]);
    let u = if p.branch {
        let cond = b.cmp(CmpOp::Lt, v, c[0]);
        let (o1, o2) = (p.ops[1], p.ops[2]);
        b.if_else(
            cond,
            &[Type::F64],
            |b| vec![b.unary(SUN[o1 % SUN.len()], w)],
            |b| vec![b.binary(SBIN[o2 % SBIN.len()], w, v2)],
        )[0]
    } else {
        b.unary(SUN[p.ops[1] % SUN.len()], w)
    };
    let prod = b.mul(u, v2);
    b.store(y, i, prod);
    let z = b.load(y, i);
    let t = b.unary(SUN[p.ops[3] % SUN.len()], z);
    let next = b.add(c[0], t);
    let r = b.end_for(h, &[next]);
    let y0 = b.load(y, zero);
    let out = b.add(r[0], y0);
    b.finish(&[out])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_buffer_loops_all_modes_agree(
        rev in any::<bool>(),
        mirror in any::<bool>(),
        branch in any::<bool>(),
        ops in proptest::array::uniform4(0..20usize),
        x in proptest::collection::vec(-1.5f64..1.5, 1..5),
        s in -1.5f64..1.5,
    ) {
        use crate::interp::Arg;
        use super::ad::{fd_h, fwd_opt, rev_opt};
        let f = build_buf(&BufProg { rev, mirror, branch, ops });
        let n = x.len();
        let args = vec![Arg::Buf(x), Arg::Buf(vec![0.0; n]), Arg::F64(s)];
        let (_, g_ref) = rev_opt(&f, &args, CachePolicy::Recompute, false);
        for optimized in [false, true] {
            for policy in [CachePolicy::Recompute, CachePolicy::Cache, CachePolicy::Auto] {
                let (_, g) = rev_opt(&f, &args, policy, optimized);
                for (a, b) in g.iter().zip(&g_ref) {
                    prop_assert!(close(*a, *b, 1e-10), "vjp {policy:?} opt {optimized}: {g:?} vs {g_ref:?}\n{f}");
                }
            }
            for w in [1, 2] {
                let g = fwd_opt(&f, &args, w, optimized);
                for (a, b) in g.iter().zip(&g_ref) {
                    prop_assert!(close(*a, *b, 1e-10), "jvp {w} opt {optimized}: {g:?} vs {g_ref:?}\n{f}");
                }
            }
        }
        let (a, b) = (fd_h(&f, &args, 1e-5), fd_h(&f, &args, 1e-6));
        for k in 0..g_ref.len() {
            if close(a[k], b[k], 1e-5) {
                prop_assert!(close(a[k], g_ref[k], 1e-4), "fd[{k}] {} vs vjp {}\n{f}", a[k], g_ref[k]);
            }
        }
    }
}
