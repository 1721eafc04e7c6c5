//! The tracer: record IR by running `Real`-generic Rust code on a symbolic number.
//!
//! [`Tracer`] is a number type built like `Dual` (through ferrad-core's
//! [`Lift`] and `impl_scalar_via_lift!`), whose every primitive *emits* an instruction into the
//! function being built instead of computing. It serves two purposes:
//!
//! 1. **Frontend.** [`trace_fn`] runs a generic function on tracers and returns the recorded IR.
//!    [`for_range`] (through the [`Loop`] trait) keeps a loop a loop: on `f64` or `Dual` it is a
//!    plain Rust loop, on a tracer it emits one IR `for`.
//! 2. **No second rule table.** The transforms obtain the derivative code of a primitive by
//!    calling `op.rule::<Tracer>(..)` ([`rule_unary`], [`rule_binary`], [`rule_ternary`]): the
//!    IR and ferrad-core instantiate the same rule, so they can never disagree.
//!
//! Data-dependent branches (a rule's `if x > 0`, or a user's) are handled by *path
//! exploration*: a comparison on tracers emits the comparison and answers from a decision
//! list; a run that needs an undecided answer is re-run both ways, and the results of the two
//! runs are merged with `select`. Branches therefore become branch-free `select`s, which is
//! exact for the pure code tracers see. A tracer has no primal value: inside a rule, `re()`
//! answers only NaN-ness (as a decision); elsewhere it panics with an explanation. A rule that
//! applies a piecewise-constant function (`trunc`, `floor`, …) to its argument cannot be
//! represented (the IR has no such operation) and is refused with a panic rather than traced
//! as a constant; the transforms report `rem`, whose rule needs `trunc`, as unsupported.
//! The test `tests::rules` checks every other rule emitted as IR against ferrad-core bit for bit.
//!
//! Invariant: every instruction a tracer emits goes through [`FunctionBuilder::emit`] of the
//! innermost active builder, and every comparison is either resolved by a `select` or panics.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;

use ferrad_core::custom::CustomRule;
use ferrad_core::lift::Lift;
use ferrad_core::real::{Real, Scalar};
use ferrad_core::rules::{Binary, Ternary, Unary};

use crate::builder::FunctionBuilder;
use crate::ir::*;

/// Most runs one exploration may take before giving up (2⁸ paths).
const MAX_RUNS: usize = 512;

struct Frame {
    path: Vec<bool>,
    pos: usize,
    conds: Vec<Value>,
    overflow: bool,
}

struct Ctx {
    b: FunctionBuilder,
    frames: Vec<Frame>,
    in_rule: usize,
    /// `re()` was just answered: a constant built from it next would be a piecewise-constant
    /// function (`trunc`, `floor`, …) of the probe, which the tracer cannot represent.
    probed: bool,
}

thread_local! {
    static CTX: RefCell<Vec<Ctx>> = const { RefCell::new(Vec::new()) };
}

fn with_ctx<R>(f: impl FnOnce(&mut Ctx) -> R) -> R {
    CTX.with(|c| {
        let mut c = c.borrow_mut();
        let ctx = c
            .last_mut()
            .expect("a Tracer is used outside of tracing (trace_fn or a transform)");
        ctx.probed = false;
        f(ctx)
    })
}

/// Like [`with_ctx`] but leaves the `probed` flag to `f`.
fn ctx_raw<R>(f: impl FnOnce(&mut Ctx) -> R) -> R {
    CTX.with(|c| {
        f(c.borrow_mut()
            .last_mut()
            .expect("a Tracer is used outside of tracing"))
    })
}

fn emit<M: 'static>(op: Op, args: Vec<Value>) -> Tracer<M> {
    with_ctx(|c| {
        let ty = c.b.ty(args[0]);
        tr(c.b.emit(op, args, &[ty])[0])
    })
}

fn decide(c: Value) -> bool {
    with_ctx(|ctx| {
        let fr = ctx
            .frames
            .last_mut()
            .expect("a comparison on a Tracer outside of an exploration");
        if fr.pos < fr.path.len() {
            let d = fr.path[fr.pos];
            fr.conds.push(c);
            fr.pos += 1;
            d
        } else {
            if !fr.overflow {
                fr.conds.push(c);
            }
            fr.overflow = true;
            true
        }
    })
}

fn cmp<M: 'static>(op: CmpOp, a: Tracer<M>, b: Tracer<M>) -> bool {
    let c = with_ctx(|ctx| ctx.b.cmp(op, a.0, b.0));
    decide(c)
}

/// Runs `f` once per control-flow path it can take and merges the results with `select`.
fn explore(f: &mut dyn FnMut() -> Vec<Tracer>) -> Vec<Tracer> {
    let mut runs = 0;
    solve(f, vec![], &mut runs)
}

fn solve(f: &mut dyn FnMut() -> Vec<Tracer>, prefix: Vec<bool>, runs: &mut usize) -> Vec<Tracer> {
    *runs += 1;
    assert!(
        *runs <= MAX_RUNS,
        "tracing explored more than {MAX_RUNS} control-flow paths: too many data-dependent branches \
         for branch-free tracing; build the function with FunctionBuilder::if_else instead"
    );
    with_ctx(|c| {
        c.frames.push(Frame {
            path: prefix.clone(),
            pos: 0,
            conds: vec![],
            overflow: false,
        })
    });
    let out = f();
    let fr = with_ctx(|c| c.frames.pop().expect("frame"));
    if !fr.overflow {
        return out;
    }
    let cond = fr.conds[prefix.len()];
    let mut p = prefix.clone();
    p.push(true);
    let t = solve(f, p, runs);
    let mut p = prefix;
    p.push(false);
    let e = solve(f, p, runs);
    assert_eq!(
        t.len(),
        e.len(),
        "the paths of a traced function return different numbers of values"
    );
    with_ctx(|c| {
        t.iter()
            .zip(&e)
            .map(|(a, b)| Tracer::new(c.b.select(cond, a.0, b.0)))
            .collect()
    })
}

/// A symbolic `f64`: the value it stands for is an IR [`Value`].
///
/// The marker parameter `M` only exists so that ferrad-core's `impl_scalar_via_lift!` (whose
/// mixed-precision impls carry `where` clauses that are false for `f64` alone) sees a generic
/// type; always use the default, `Tracer`.
pub struct Tracer<M: 'static = ()>(pub Value, PhantomData<M>);

impl<M: 'static> Clone for Tracer<M> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M: 'static> Copy for Tracer<M> {}

impl Tracer {
    /// The tracer standing for `v`.
    pub fn new(v: Value) -> Self {
        Tracer(v, PhantomData)
    }
}

impl<M: 'static> Tracer<M> {
    /// The IR value.
    pub fn value(self) -> Value {
        self.0
    }
}

fn tr<M: 'static>(v: Value) -> Tracer<M> {
    Tracer(v, PhantomData)
}

impl<M: 'static> fmt::Debug for Tracer<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tracer({})", self.0)
    }
}

impl<M: 'static> Default for Tracer<M> {
    fn default() -> Self {
        Tracer::from_inner(0.0)
    }
}

impl<M: 'static> Lift for Tracer<M> {
    type Inner = f64;
    /// A tracer has no primal value. Inside a rule, this answers NaN-ness only (recorded as an
    /// `is_nan` decision), which is all the rule table asks; elsewhere it panics.
    fn re(&self) -> f64 {
        let in_rule = with_ctx(|c| c.in_rule > 0);
        assert!(
            in_rule,
            "a Tracer has no primal value: `floor`, `ceil`, `round`, `trunc`, `signum`, `fract`, \
             `copysign`, the `is_*` predicates and `value()` cannot be traced; write the branch \
             with a comparison (`x < y`), which the tracer turns into a `select`"
        );
        let c = with_ctx(|ctx| ctx.b.is_nan(self.0));
        let nan = decide(c);
        ctx_raw(|ctx| ctx.probed = true);
        if nan { f64::NAN } else { 0.0 }
    }
    fn from_inner(v: f64) -> Self {
        let probed = ctx_raw(|c| std::mem::take(&mut c.probed));
        assert!(
            !(probed && v.is_nan()),
            "a rule applied a piecewise-constant function (`trunc`, `floor`, `ceil`, `round`, \
             `signum`, `fract`) to a Tracer: the IR has no such operation, so this rule cannot be \
             emitted as IR"
        );
        with_ctx(|c| tr(c.b.const_f64(v)))
    }
    fn unary(self, op: Unary) -> Self {
        emit(Op::Unary(op), vec![self.0])
    }
    fn binary(self, op: Binary, rhs: Self) -> Self {
        emit(Op::Binary(op), vec![self.0, rhs.0])
    }
    fn ternary(self, op: Ternary, b: Self, c: Self) -> Self {
        emit(Op::Ternary(op), vec![self.0, b.0, c.0])
    }
}

ferrad_core::impl_scalar_via_lift!([M: 'static] Tracer<M>);

impl<M: 'static> PartialEq for Tracer<M> {
    fn eq(&self, other: &Self) -> bool {
        cmp(CmpOp::Eq, *self, *other)
    }
}

impl<M: 'static> PartialOrd for Tracer<M> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        if cmp(CmpOp::Lt, *self, *other) {
            Some(Ordering::Less)
        } else if cmp(CmpOp::Gt, *self, *other) {
            Some(Ordering::Greater)
        } else if cmp(CmpOp::Eq, *self, *other) {
            Some(Ordering::Equal)
        } else {
            None
        }
    }
    fn lt(&self, other: &Self) -> bool {
        cmp(CmpOp::Lt, *self, *other)
    }
    fn le(&self, other: &Self) -> bool {
        cmp(CmpOp::Le, *self, *other)
    }
    fn gt(&self, other: &Self) -> bool {
        cmp(CmpOp::Gt, *self, *other)
    }
    fn ge(&self, other: &Self) -> bool {
        cmp(CmpOp::Ge, *self, *other)
    }
}

impl<M: 'static> Real<f64> for Tracer<M> {
    /// Emits an opaque `custom "name"(x…)`. The number of outputs is learned by evaluating the
    /// rule once at `x = 1`.
    fn apply_custom<R: CustomRule + ?Sized>(rule: &R, x: &[Self]) -> Vec<Self> {
        let m = rule.eval(&vec![1.0; x.len()]).len();
        let args = x.iter().map(|t| t.0).collect();
        with_ctx(|c| {
            c.b.custom(rule.name(), CustomKind::Eval, args, m)
                .into_iter()
                .map(tr)
                .collect()
        })
    }
}

/// Runs `f` with `b` as the tracers' target builder (used by the transforms).
pub fn with_builder<R>(b: &mut FunctionBuilder, f: impl FnOnce() -> R) -> R {
    let taken = std::mem::replace(b, FunctionBuilder::new(""));
    CTX.with(|c| {
        c.borrow_mut().push(Ctx {
            b: taken,
            frames: vec![],
            in_rule: 0,
            probed: false,
        })
    });
    let r = f();
    let ctx = CTX.with(|c| c.borrow_mut().pop().expect("ctx"));
    *b = ctx.b;
    r
}

fn in_rule(b: &mut FunctionBuilder, f: &mut dyn FnMut() -> Vec<Tracer>) -> Vec<Value> {
    with_builder(b, || {
        with_ctx(|c| c.in_rule += 1);
        let out = explore(f);
        with_ctx(|c| c.in_rule -= 1);
        out.into_iter().map(|t| t.0).collect()
    })
}

/// Emits `Unary::rule` at `x`: returns `(value, derivative)` as IR values.
pub fn rule_unary(b: &mut FunctionBuilder, op: Unary, x: Value) -> (Value, Value) {
    let r = in_rule(b, &mut || {
        let (v, d) = op.rule(Tracer::new(x));
        vec![v, d]
    });
    (r[0], r[1])
}

/// Emits `Binary::rule` at `(x, y)`: returns `(value, ∂x, ∂y)`.
pub fn rule_binary(
    b: &mut FunctionBuilder,
    op: Binary,
    x: Value,
    y: Value,
) -> (Value, Value, Value) {
    let r = in_rule(b, &mut || {
        let (v, dx, dy) = op.rule(Tracer::new(x), Tracer::new(y));
        vec![v, dx, dy]
    });
    (r[0], r[1], r[2])
}

/// Emits `Ternary::rule` at `(a, b, c)`: returns `(value, ∂a, ∂b, ∂c)`.
pub fn rule_ternary(
    bld: &mut FunctionBuilder,
    op: Ternary,
    a: Value,
    b: Value,
    c: Value,
) -> (Value, Value, Value, Value) {
    let r = in_rule(bld, &mut || {
        let (v, da, db, dc) = op.rule(Tracer::new(a), Tracer::new(b), Tracer::new(c));
        vec![v, da, db, dc]
    });
    (r[0], r[1], r[2], r[3])
}

/// Records `f` as an IR function of `n` `f64` parameters returning `f64`s.
///
/// ```
/// use ferrad_core::prelude::*;
/// fn f<T: Real>(x: &[T]) -> T { x[0].sin() * x[1] + 2.0 }
/// let ir = ferrad_ir::trace::trace_fn("f", 2, |x| vec![f(x)]);
/// assert_eq!(ferrad_ir::interp::eval_f64(&ir, &[0.5, 3.0]).unwrap(), vec![f(&[0.5, 3.0])]);
/// ```
pub fn trace_fn(name: &str, n: usize, mut f: impl FnMut(&[Tracer]) -> Vec<Tracer>) -> Function {
    let mut b = FunctionBuilder::new(name);
    let xs: Vec<Tracer> = (0..n).map(|_| Tracer::new(b.param(Type::F64))).collect();
    let out = with_builder(&mut b, || explore(&mut || f(&xs)));
    let rets: Vec<Value> = out.iter().map(|t| t.0).collect();
    let func = b.finish(&rets);
    crate::verify::debug_verify(&func, "trace");
    func
}

/// Numbers that can run a counted loop: a plain loop for concrete numbers, one IR `for` for
/// [`Tracer`].
pub trait Loop: Scalar {
    /// Runs `body(k, carried) -> next` for `k` in `range` (the index as a number), starting from
    /// `init`; returns the final carried values.
    fn for_range(
        range: Range<i64>,
        init: &[Self],
        mut body: impl FnMut(Self, &[Self]) -> Vec<Self>,
    ) -> Vec<Self> {
        let mut c = init.to_vec();
        for k in range {
            c = body(Self::lit(k as f64), &c);
        }
        c
    }
}

impl Loop for f64 {}
impl Loop for f32 {}
impl<T: Scalar> Loop for ferrad_core::Dual<T> {}
impl<T: Scalar, const N: usize> Loop for ferrad_core::DualVec<T, N> {}
impl<T: Scalar> Loop for ferrad_core::Var<T> {}

impl Loop for Tracer {
    fn for_range(
        range: Range<i64>,
        init: &[Self],
        mut body: impl FnMut(Self, &[Self]) -> Vec<Self>,
    ) -> Vec<Self> {
        let inits: Vec<Value> = init.iter().map(|t| t.0).collect();
        let (h, kf, cs) = with_ctx(|c| {
            let lo = c.b.const_i64(range.start);
            let hi = c.b.const_i64(range.end);
            let (h, i, cs) = c.b.begin_for(lo, hi, &inits, false);
            let kf = c.b.cast(i, Type::F64);
            (h, kf, cs)
        });
        let cs: Vec<Tracer> = cs.into_iter().map(Tracer::new).collect();
        let out = explore(&mut || body(Tracer::new(kf), &cs));
        assert_eq!(
            out.len(),
            init.len(),
            "a for_range body must return as many values as it carries"
        );
        let next: Vec<Value> = out.iter().map(|t| t.0).collect();
        with_ctx(|c| c.b.end_for(h, &next))
            .into_iter()
            .map(Tracer::new)
            .collect()
    }
}

/// `for k in range` carrying `init` through `body(k, carried) -> next`; see [`Loop`].
pub fn for_range<T: Loop>(
    range: Range<i64>,
    init: &[T],
    body: impl FnMut(T, &[T]) -> Vec<T>,
) -> Vec<T> {
    T::for_range(range, init, body)
}
