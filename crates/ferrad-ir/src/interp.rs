//! The interpreter: the reference semantics of the IR.
//!
//! Floats follow IEEE-754 exactly as Rust's `f64`/`f32` methods do (primitives are evaluated
//! with ferrad-core's [`Unary::value`](ferrad_core::rules::Unary::value) and friends), integer
//! arithmetic wraps, a `for` loop with `lo >= hi` runs zero times, and everything that depends on
//! run-time data (an index out of bounds, a negative `alloc`, an unknown custom rule, a wrong
//! argument) is an [`InterpError`], never a panic.
//!
//! Invariant: the interpreter is the oracle; transforms and the optimizer are tested against it.

use std::fmt;

use ferrad_core::custom::CustomRule;

use crate::ir::*;

/// A run-time value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val {
    /// An `f64`.
    F64(f64),
    /// An `f32`.
    F32(f32),
    /// An `i64`.
    I64(i64),
    /// A `bool`.
    Bool(bool),
    /// A buffer (an index into the interpreter's memory).
    Buf(usize),
}

impl Val {
    /// The value as an `f64` (floats and integers).
    pub fn as_f64(self) -> Option<f64> {
        match self {
            Val::F64(v) => Some(v),
            Val::F32(v) => Some(v as f64),
            Val::I64(v) => Some(v as f64),
            _ => None,
        }
    }
}

/// An argument to [`run`]: scalars by value, buffers by content (written back after the run).
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// An `f64` scalar.
    F64(f64),
    /// An `f32` scalar.
    F32(f32),
    /// An `i64` scalar.
    I64(i64),
    /// A `bool` scalar.
    Bool(bool),
    /// A buffer (`&[f64]` or `&mut [f64]`).
    Buf(Vec<f64>),
}

impl Arg {
    /// The buffer's content, if this is a buffer.
    pub fn buf(&self) -> Option<&[f64]> {
        match self {
            Arg::Buf(b) => Some(b),
            _ => None,
        }
    }
}

/// A run-time error.
#[derive(Clone, Debug, PartialEq)]
pub enum InterpError {
    /// `buf[i]` with `i` outside `0..len`.
    OutOfBounds {
        /// The index.
        index: i64,
        /// The buffer length.
        len: usize,
        /// `load` or `store`.
        op: &'static str,
    },
    /// The arguments do not match the parameters.
    BadArgs(String),
    /// A custom rule that the [`CustomRules`] given does not know.
    UnknownRule(String),
    /// `alloc` of a negative length.
    BadAlloc(i64),
    /// The module given has no such function.
    UnknownFunction(String),
    /// Calls nested deeper than [`MAX_CALL_DEPTH`] (unbounded recursion).
    CallDepth(String),
}

/// The deepest call nesting the interpreter follows before reporting [`InterpError::CallDepth`].
pub const MAX_CALL_DEPTH: usize = 200;

impl fmt::Display for InterpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InterpError::OutOfBounds { index, len, op } => {
                write!(
                    f,
                    "{op} index out of bounds: the len is {len} but the index is {index}"
                )
            }
            InterpError::BadArgs(m) => write!(f, "bad arguments: {m}"),
            InterpError::UnknownRule(n) => write!(
                f,
                "unknown custom rule {n:?}: register it in the CustomRules given to the interpreter"
            ),
            InterpError::BadAlloc(n) => write!(f, "alloc of negative length {n}"),
            InterpError::UnknownFunction(n) => write!(f, "unknown function `@{n}`"),
            InterpError::CallDepth(n) => {
                write!(
                    f,
                    "calls nested deeper than {MAX_CALL_DEPTH} at `@{n}` (unbounded recursion?)"
                )
            }
        }
    }
}

impl std::error::Error for InterpError {}

/// The custom rules known to an interpreter run.
pub trait CustomRules {
    /// Calls entry `kind` of rule `name` (see [`CustomKind`] for the argument layout);
    /// `n_out` is the number of results expected. `None` if the rule is unknown.
    fn call(&self, name: &str, kind: CustomKind, args: &[f64], n_out: usize) -> Option<Vec<f64>>;
}

/// No custom rules.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRules;

impl CustomRules for NoRules {
    fn call(&self, _: &str, _: CustomKind, _: &[f64], _: usize) -> Option<Vec<f64>> {
        None
    }
}

type RuleFn = Box<dyn Fn(CustomKind, &[f64], usize) -> Vec<f64>>;

/// A registry of ferrad-core [`CustomRule`]s by name.
#[derive(Default)]
pub struct RuleSet {
    rules: Vec<(String, RuleFn)>,
}

impl fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.rules.iter().map(|r| &r.0))
            .finish()
    }
}

impl RuleSet {
    /// An empty registry.
    pub fn new() -> Self {
        RuleSet::default()
    }
    /// Registers `rule` under its name.
    pub fn with<R: CustomRule + 'static>(mut self, rule: R) -> Self {
        let name = rule.name().to_string();
        let f: RuleFn = Box::new(move |kind, args, n_out| match kind {
            CustomKind::Eval => rule.eval(args),
            CustomKind::Jvp => {
                let n = args.len() / 2;
                rule.jvp::<f64>(&args[..n], &args[n..])
            }
            CustomKind::Vjp => rule.vjp::<f64>(&args[..n_out], &args[n_out..]),
        });
        self.rules.push((name, f));
        self
    }
}

impl CustomRules for RuleSet {
    fn call(&self, name: &str, kind: CustomKind, args: &[f64], n_out: usize) -> Option<Vec<f64>> {
        self.rules
            .iter()
            .find(|r| r.0 == name)
            .map(|r| (r.1)(kind, args, n_out))
    }
}

struct Machine<'a> {
    m: Option<&'a Module>,
    depth: usize,
    rules: &'a dyn CustomRules,
    mem: Vec<Vec<f64>>,
}

fn float_op(vals: &[Val], f64op: impl Fn(&[f64]) -> f64, f32op: impl Fn(&[f32]) -> f32) -> Val {
    match vals[0] {
        Val::F32(_) => {
            let xs: Vec<f32> = vals
                .iter()
                .map(|v| if let Val::F32(x) = v { *x } else { f32::NAN })
                .collect();
            Val::F32(f32op(&xs))
        }
        _ => {
            let xs: Vec<f64> = vals
                .iter()
                .map(|v| v.as_f64().unwrap_or(f64::NAN))
                .collect();
            Val::F64(f64op(&xs))
        }
    }
}

/// Evaluates a pure, region-free op on constant arguments (used by constant folding).
pub fn eval_pure(op: &Op, args: &[Val], result_ty: Type) -> Option<Val> {
    Some(match op {
        Op::Const(c) => match c {
            Const::F64(v) => Val::F64(*v),
            Const::F32(v) => Val::F32(*v),
            Const::I64(v) => Val::I64(*v),
            Const::Bool(v) => Val::Bool(*v),
        },
        Op::Unary(u) => float_op(args, |x| u.value(x[0]), |x| u.value(x[0])),
        Op::Binary(b) => float_op(args, |x| b.value(x[0], x[1]), |x| b.value(x[0], x[1])),
        Op::Ternary(t) => float_op(
            args,
            |x| t.value(x[0], x[1], x[2]),
            |x| t.value(x[0], x[1], x[2]),
        ),
        Op::Int(o) => match (args[0], args[1]) {
            (Val::I64(a), Val::I64(b)) => Val::I64(o.apply(a, b)),
            _ => return None,
        },
        Op::Cmp(c) => Val::Bool(match (args[0], args[1]) {
            (Val::I64(a), Val::I64(b)) => c.apply(a, b),
            (Val::F32(a), Val::F32(b)) => c.apply(a, b),
            (a, b) => c.apply(a.as_f64()?, b.as_f64()?),
        }),
        Op::IsNan => Val::Bool(args[0].as_f64()?.is_nan()),
        Op::Select => match args[0] {
            Val::Bool(c) => {
                if c {
                    args[1]
                } else {
                    args[2]
                }
            }
            _ => return None,
        },
        Op::Cast => match (args[0], result_ty) {
            (Val::I64(i), Type::F64) => Val::F64(i as f64),
            (Val::I64(i), Type::F32) => Val::F32(i as f32),
            (Val::F64(x), Type::F32) => Val::F32(x as f32),
            (Val::F32(x), Type::F64) => Val::F64(x as f64),
            (Val::F64(x), Type::I64) => Val::I64(x as i64),
            (Val::F32(x), Type::I64) => Val::I64(x as i64),
            (v, _) => v,
        },
        _ => return None,
    })
}

impl Machine<'_> {
    fn call(&mut self, f: &Function, args: Vec<Val>) -> Result<Vec<Val>, InterpError> {
        if self.depth >= MAX_CALL_DEPTH {
            return Err(InterpError::CallDepth(f.name.clone()));
        }
        self.depth += 1;
        let r = self.call_inner(f, args);
        self.depth -= 1;
        r
    }

    fn call_inner(&mut self, f: &Function, args: Vec<Val>) -> Result<Vec<Val>, InterpError> {
        let mut env: Vec<Option<Val>> = vec![None; f.values.len()];
        for (&p, a) in f.params.iter().zip(args) {
            env[p.index()] = Some(a);
        }
        self.block(f, f.body, &mut env)
    }

    fn block(
        &mut self,
        f: &Function,
        b: Block,
        env: &mut [Option<Val>],
    ) -> Result<Vec<Val>, InterpError> {
        let get = |env: &[Option<Val>], v: Value| {
            env[v.index()].expect("verified IR: value defined before use")
        };
        for &i in &f.block(b).insts {
            let d = f.inst(i);
            let args: Vec<Val> = d.args.iter().map(|&a| get(env, a)).collect();
            let results: Vec<Val> = match &d.op {
                Op::Len => match args[0] {
                    Val::Buf(k) => vec![Val::I64(self.mem[k].len() as i64)],
                    _ => unreachable!("verified IR"),
                },
                Op::Load => match (args[0], args[1]) {
                    (Val::Buf(k), Val::I64(ix)) => {
                        let len = self.mem[k].len();
                        if ix < 0 || ix as usize >= len {
                            return Err(InterpError::OutOfBounds {
                                index: ix,
                                len,
                                op: "load",
                            });
                        }
                        vec![Val::F64(self.mem[k][ix as usize])]
                    }
                    _ => unreachable!("verified IR"),
                },
                Op::Store => match (args[0], args[1], args[2]) {
                    (Val::Buf(k), Val::I64(ix), Val::F64(v)) => {
                        let len = self.mem[k].len();
                        if ix < 0 || ix as usize >= len {
                            return Err(InterpError::OutOfBounds {
                                index: ix,
                                len,
                                op: "store",
                            });
                        }
                        self.mem[k][ix as usize] = v;
                        vec![]
                    }
                    _ => unreachable!("verified IR"),
                },
                Op::Alloc | Op::Scratch => match args[0] {
                    Val::I64(n) if n >= 0 => {
                        // Unspecified contents are NaN here, so a load before its store shows.
                        let fill = if d.op == Op::Scratch { f64::NAN } else { 0.0 };
                        self.mem.push(vec![fill; n as usize]);
                        vec![Val::Buf(self.mem.len() - 1)]
                    }
                    Val::I64(n) => return Err(InterpError::BadAlloc(n)),
                    _ => unreachable!("verified IR"),
                },
                Op::For { body, rev } => {
                    let (Val::I64(lo), Val::I64(hi)) = (args[0], args[1]) else {
                        unreachable!("verified IR")
                    };
                    let mut carried: Vec<Val> = args[2..].to_vec();
                    let params = f.block(*body).params.clone();
                    let n = (hi - lo).max(0);
                    for k in 0..n {
                        let i = if *rev { hi - 1 - k } else { lo + k };
                        env[params[0].index()] = Some(Val::I64(i));
                        for (&p, &c) in params[1..].iter().zip(&carried) {
                            env[p.index()] = Some(c);
                        }
                        carried = self.block(f, *body, env)?;
                    }
                    carried
                }
                Op::If { then_blk, else_blk } => {
                    let blk = if args[0] == Val::Bool(true) {
                        *then_blk
                    } else {
                        *else_blk
                    };
                    self.block(f, blk, env)?
                }
                Op::Call(fid) => {
                    let Some(m) = self.m else {
                        return Err(InterpError::UnknownFunction(format!("{}", fid.0)));
                    };
                    let g = m
                        .funcs
                        .get(fid.index())
                        .ok_or_else(|| InterpError::UnknownFunction(format!("{}", fid.0)))?;
                    self.call(g, args)?
                }
                Op::Custom { name, kind } => {
                    let xs: Vec<f64> = args
                        .iter()
                        .map(|a| a.as_f64().unwrap_or(f64::NAN))
                        .collect();
                    let ys = self
                        .rules
                        .call(name, *kind, &xs, d.results.len())
                        .ok_or_else(|| InterpError::UnknownRule(name.clone()))?;
                    if ys.len() != d.results.len() {
                        return Err(InterpError::BadArgs(format!(
                            "custom rule {name:?} returned {} values, {} expected",
                            ys.len(),
                            d.results.len()
                        )));
                    }
                    ys.into_iter().map(Val::F64).collect()
                }
                op => {
                    let ty = d.results.first().map(|&r| f.ty(r)).unwrap_or(Type::F64);
                    vec![
                        eval_pure(op, &args, ty)
                            .expect("verified IR: pure op on well-typed values"),
                    ]
                }
            };
            for (&r, v) in d.results.iter().zip(results) {
                env[r.index()] = Some(v);
            }
        }
        Ok(f.block(b).yields.iter().map(|&y| get(env, y)).collect())
    }
}

fn bind(f: &Function, args: &[Arg], mem: &mut Vec<Vec<f64>>) -> Result<Vec<Val>, InterpError> {
    if args.len() != f.params.len() {
        return Err(InterpError::BadArgs(format!(
            "@{} takes {} arguments, {} given",
            f.name,
            f.params.len(),
            args.len()
        )));
    }
    let mut vals = vec![];
    for (k, (&p, a)) in f.params.iter().zip(args).enumerate() {
        let v = match (f.ty(p), a) {
            (Type::F64, Arg::F64(x)) => Val::F64(*x),
            (Type::F32, Arg::F32(x)) => Val::F32(*x),
            (Type::I64, Arg::I64(x)) => Val::I64(*x),
            (Type::Bool, Arg::Bool(x)) => Val::Bool(*x),
            (Type::Buf | Type::BufMut, Arg::Buf(b)) => {
                mem.push(b.clone());
                Val::Buf(mem.len() - 1)
            }
            (t, a) => {
                return Err(InterpError::BadArgs(format!(
                    "argument {k} of @{} is {t}, given {a:?}",
                    f.name
                )));
            }
        };
        vals.push(v);
    }
    Ok(vals)
}

/// Runs function `id` of `m`; mutable buffer arguments are updated in place.
pub fn run(
    m: &Module,
    id: FuncId,
    args: &mut [Arg],
    rules: &dyn CustomRules,
) -> Result<Vec<Val>, InterpError> {
    let f = m
        .funcs
        .get(id.index())
        .ok_or_else(|| InterpError::UnknownFunction(format!("{}", id.0)))?;
    run_in(Some(m), f, args, rules)
}

/// Runs a standalone function (no calls to other functions, no custom rules).
pub fn run_function(f: &Function, args: &mut [Arg]) -> Result<Vec<Val>, InterpError> {
    run_in(None, f, args, &NoRules)
}

/// Runs `f`, resolving calls in `m` and custom rules in `rules`.
pub fn run_in(
    m: Option<&Module>,
    f: &Function,
    args: &mut [Arg],
    rules: &dyn CustomRules,
) -> Result<Vec<Val>, InterpError> {
    let mut mach = Machine {
        m,
        depth: 0,
        rules,
        mem: vec![],
    };
    let vals = bind(f, args, &mut mach.mem)?;
    let out = mach.call(f, vals)?;
    let mut k = 0;
    for (&p, a) in f.params.iter().zip(args.iter_mut()) {
        if f.ty(p).is_buf() {
            if let Arg::Buf(b) = a {
                *b = std::mem::take(&mut mach.mem[k]);
            }
            k += 1;
        }
    }
    Ok(out)
}

/// Runs `f` on scalar `f64` arguments and returns its `f64` results (a convenience for tests).
pub fn eval_f64(f: &Function, x: &[f64]) -> Result<Vec<f64>, InterpError> {
    let mut args: Vec<Arg> = x.iter().map(|&v| Arg::F64(v)).collect();
    let out = run_function(f, &mut args)?;
    Ok(out.into_iter().filter_map(Val::as_f64).collect())
}
