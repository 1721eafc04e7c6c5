//! Reverse mode: `vjp(f)` computes `f(x)` and the gradient of `Σ seedₖ·yₖ` with respect to
//! the active inputs.
//!
//! Signature (Enzyme's `Active`/`Duplicated` convention, as in DESIGN §3.4): the parameters of
//! `f`, each active buffer followed by its `&mut [f64]` shadow (gradients are *added* into it; a
//! mutable buffer's shadow holds its output seed on entry), then one seed per float result
//! (`dret`); the function returns the results of `f`, then the gradient of each active float
//! parameter.
//!
//! The output is a forward sweep (the primal code) followed by a reverse sweep (adjoints, in
//! reverse order). Partials come from ferrad-core's rules evaluated on tracers, so there is no
//! second rule table.
//!
//! - `if`: the reverse sweep has an `if` on the same condition whose arms recompute the arm's
//!   primal values and accumulate the adjoints of outer values, which they yield.
//! - `for`: the forward loop saves its carried values per iteration (a checkpoint buffer
//!   indexed by `i - lo`); the adjoint loop runs the other way, restores the carried values,
//!   recomputes the body and carries the adjoints of the carried values and of the outer
//!   values the body uses. Which body values are *cached* (stored per iteration by the forward
//!   loop) instead of recomputed is the [`CachePolicy`]; loads from mutable buffers are always
//!   cached, since memory may change after them. Checkpoints and caches the adjoint does not
//!   read are removed by DCE, so a loop whose adjoint does not depend on its carried values
//!   (a sum) costs no memory at all; when the optimizer fuses the forward loop into the
//!   adjoint loop, a cached value is forwarded from its store and its buffer disappears too.
//!   The default, [`CachePolicy::Auto`], stores what is expensive to recompute
//!   ([`crate::transform::cost`]): `exp`, `tanh`, … are computed once, in the forward loop.
//!   A rule's partial that is the primal value itself (`exp`'s, or `tanh`'s `1 - t²`) uses the
//!   primal's (possibly cached) value, not a fresh evaluation.
//! - nested loops: an inner loop's checkpoints and caches are filled and read back within one
//!   iteration of the outer adjoint loop; they are allocated once, outside the outer loops,
//!   when their size does not depend on those ([`crate::transform::scratch`]).
//! - buffers: a load's adjoint is added into the shadow at the same index; a store's adjoint
//!   reads the shadow there and zeroes it (the stored-over value has no influence).
//!
//! Invariant: the reverse sweep of a block runs right after a forward (or recomputed) sweep of
//! the same block in the same scope, so every primal value the adjoint needs is in scope.
//! Limitation: a load inside an `if` arm or a nested loop is recomputed in the reverse sweep;
//! if it reads a buffer the function also writes, the element could have changed, so such
//! programs are rejected with [`TransformError::Unsupported`] rather than differentiated
//! wrongly (loads at the top level of the function or of an outermost loop are exact).

use std::collections::{HashMap, HashSet};

use ferrad_core::rules::{Binary, Unary};

use crate::activity::{Activity, analyze, free_values};
use crate::builder::FunctionBuilder;
use crate::ir::*;
use crate::trace::{rule_binary, rule_ternary, rule_unary};
use crate::transform::cost::worth_caching;
use crate::transform::scratch::hoist_scratch;
use crate::transform::{TransformError, rem_unsupported};

/// Which loop-body values the forward loop stores for the adjoint loop.
///
/// Whatever the policy, the adjoint loop gets every value it needs: a value that is not stored
/// is recomputed from the checkpointed carried values (and the inputs) before the adjoint of
/// the body runs. Stored values that the adjoint turns out not to read are removed by DCE, so
/// a policy only decides *how* a needed value is obtained, never whether it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CachePolicy {
    /// Store nothing beyond the carried values (and mutable loads); recompute the rest.
    Recompute,
    /// Store every float value the body computes.
    Cache,
    /// The default: store the values that cost more to recompute than to store and read back
    /// (transcendentals such as `exp`, `ln`, `tanh`, `powf`, and custom rules); recompute
    /// cheap arithmetic, divisions and loads. The cost model is [`crate::transform::cost`].
    /// One exception: `sin`/`cos` of a differentiated argument are recomputed, because the
    /// adjoint evaluates the partner function of that argument anyway and one `sin_cos` call
    /// gives both.
    #[default]
    Auto,
}

impl CachePolicy {
    /// Whether this policy caches the body instruction `d`.
    pub fn caches(self, f: &Function, d: &InstData) -> bool {
        let all_f64 = !d.results.is_empty() && d.results.iter().all(|&r| f.ty(r) == Type::F64);
        if !all_f64 {
            return false;
        }
        if d.op == Op::Load && f.ty(d.args[0]) == Type::BufMut {
            return true;
        }
        match self {
            CachePolicy::Recompute => false,
            CachePolicy::Cache => {
                !matches!(d.op, Op::Const(_))
                    && (d.op.is_pure() || matches!(d.op, Op::Load | Op::Custom { .. }))
            }
            CachePolicy::Auto => {
                (d.op.is_pure() || matches!(d.op, Op::Custom { .. })) && worth_caching(&d.op)
            }
        }
    }
}

/// Options of [`vjp`].
#[derive(Clone, Debug, Default)]
pub struct VjpOptions {
    /// Which parameters are active; `None`: every float and buffer parameter.
    pub active: Option<Vec<bool>>,
    /// What loops cache for their adjoint.
    pub policy: CachePolicy,
}

struct Tape {
    lo: Value,
    carried: Vec<Value>,
    cached: HashMap<Value, Value>,
}

struct CacheCtx {
    idx: Value,
    bufs: HashMap<Value, Value>,
    store: bool,
}

struct Vjp<'a> {
    src: &'a Function,
    b: FunctionBuilder,
    act: Activity,
    policy: CachePolicy,
    map: HashMap<Value, Value>,
    adj: HashMap<Value, Value>,
    shadow: HashMap<Value, Value>,
    tapes: HashMap<Inst, Tape>,
    active_loops: HashSet<Inst>,
    /// The checkpoint and cache buffers of loops: [`hoist_scratch`] may move them out of
    /// enclosing loops (each is filled and read back within one iteration of those).
    scratch: HashSet<Value>,
}

/// The reverse-mode derivative of `f`; see the module docs for the signature.
pub fn vjp(f: &Function, opts: &VjpOptions) -> Result<Function, TransformError> {
    let active = opts
        .active
        .clone()
        .unwrap_or_else(|| crate::transform::jvp::default_active(f));
    if active.len() != f.params.len() {
        return Err(TransformError::Unsupported(format!(
            "{} activities given for {} parameters",
            active.len(),
            f.params.len()
        )));
    }
    check_mutable_loads(f)?;
    let act = analyze(f, &active);
    let mut v = Vjp {
        src: f,
        b: FunctionBuilder::new(format!("{}_vjp", f.name)),
        act,
        policy: opts.policy,
        map: HashMap::new(),
        adj: HashMap::new(),
        shadow: HashMap::new(),
        tapes: HashMap::new(),
        active_loops: HashSet::new(),
        scratch: HashSet::new(),
    };
    v.find_active_loops();
    for (&p, &on) in f.params.iter().zip(&active) {
        let t = f.ty(p);
        let np = v.b.param(t);
        v.map.insert(p, np);
        if on && t.is_buf() {
            let s = v.b.param(Type::BufMut);
            v.shadow.insert(p, s);
        }
    }
    let yields = f.block(f.body).yields.clone();
    let seeds: Vec<Option<Value>> = yields
        .iter()
        .map(|&y| f.ty(y).is_float().then(|| v.b.param(f.ty(y))))
        .collect();
    v.fwd_block(f.body, false, None)?;
    for (&y, s) in yields.iter().zip(&seeds) {
        if let Some(s) = s {
            v.add_adj(y, *s);
        }
    }
    v.rev_block(f.body)?;
    let mut rets: Vec<Value> = yields.iter().map(|&y| v.map[&y]).collect();
    for (&p, &on) in f.params.iter().zip(&active) {
        if on && f.ty(p).is_float() {
            let g = v.adj_or_zero(p);
            rets.push(g);
        }
    }
    let mut out = v.b.finish(&rets);
    hoist_scratch(&mut out, &v.scratch);
    crate::verify::debug_verify(&out, "vjp");
    Ok(out)
}

impl Vjp<'_> {
    fn find_active_loops(&mut self) {
        let f = self.src;
        let mut loops = vec![];
        f.walk(&mut |i| {
            if let Op::For { body, .. } = f.inst(i).op {
                loops.push((i, body));
            }
        });
        for (i, body) in loops {
            let d = f.inst(i);
            let mut on = d.results.iter().any(|&r| self.act.is_active(r))
                || f.block(body).params.iter().any(|&p| self.act.is_active(p));
            f.walk_block(body, &mut |j| {
                let dj = f.inst(j);
                if dj.results.iter().any(|&r| self.act.is_active(r))
                    || (dj.op == Op::Store && self.act.is_varied(dj.args[0]))
                {
                    on = true;
                }
            });
            if on {
                self.active_loops.insert(i);
            }
        }
    }

    fn m(&self, v: Value) -> Value {
        self.map[&v]
    }

    fn zero(&mut self, ty: Type) -> Value {
        self.b.const_float(ty, 0.0)
    }

    fn adj_or_zero(&mut self, v: Value) -> Value {
        match self.adj.get(&v) {
            Some(&a) => a,
            None => self.zero(self.src.ty(v)),
        }
    }

    fn add_adj(&mut self, v: Value, c: Value) {
        if !self.act.is_varied(v) || !self.src.ty(v).is_float() {
            return;
        }
        let n = match self.adj.get(&v) {
            Some(&a) => self.b.add(a, c),
            None => c,
        };
        self.adj.insert(v, n);
    }

    fn emit_copy(&mut self, d: &InstData) -> Vec<Value> {
        let args: Vec<Value> = d.args.iter().map(|&a| self.m(a)).collect();
        let tys: Vec<Type> = d.results.iter().map(|&v| self.src.ty(v)).collect();
        let rs = self.b.emit(d.op.clone(), args, &tys);
        for (&o, &n) in d.results.iter().zip(&rs) {
            self.map.insert(o, n);
        }
        rs
    }

    fn widen(&mut self, v: Value) -> Value {
        match self.b.ty(v) {
            Type::F64 => v,
            Type::Bool => {
                let (one, zero) = (self.b.const_f64(1.0), self.b.const_f64(0.0));
                self.b.select(v, one, zero)
            }
            _ => self.b.cast(v, Type::F64),
        }
    }

    fn narrow(&mut self, v: Value, ty: Type) -> Value {
        match ty {
            Type::F64 => v,
            Type::Bool => {
                let zero = self.b.const_f64(0.0);
                self.b.cmp(CmpOp::Ne, v, zero)
            }
            _ => self.b.cast(v, ty),
        }
    }

    /// The primal sweep of `blk`. `recompute`: the block's effects already happened (stores
    /// are skipped). `cache`: stores (forward) or loads (recompute) of cached values.
    fn fwd_block(
        &mut self,
        blk: Block,
        recompute: bool,
        cache: Option<&CacheCtx>,
    ) -> Result<(), TransformError> {
        for &i in &self.src.block(blk).insts {
            let d = self.src.inst(i).clone();
            if let Some(c) = cache
                && !c.store
                && d.results.first().is_some_and(|r| c.bufs.contains_key(r))
            {
                for &r in &d.results {
                    let v = self.b.load(c.bufs[&r], c.idx);
                    self.map.insert(r, v);
                }
                continue;
            }
            match &d.op {
                Op::Store if recompute => {}
                Op::Call(_) => return Err(TransformError::CallNotInlined(self.src.name.clone())),
                // The shadow is an adjoint accumulator (loads add into it): zeroed, even for
                // a scratch primal.
                Op::Alloc | Op::Scratch => {
                    let rs = self.emit_copy(&d);
                    if self.act.is_varied(d.results[0]) {
                        let n = self.m(d.args[0]);
                        let s = self.b.alloc(n);
                        self.shadow.insert(d.results[0], s);
                    }
                    let _ = rs;
                }
                Op::For { .. } => self.fwd_for(i, recompute)?,
                Op::If { then_blk, else_blk } => {
                    let tys: Vec<Type> = d.results.iter().map(|&v| self.src.ty(v)).collect();
                    let h = self.b.begin_if(self.m(d.args[0]), &tys);
                    self.fwd_block(*then_blk, recompute, None)?;
                    let ys: Vec<Value> = self
                        .src
                        .block(*then_blk)
                        .yields
                        .iter()
                        .map(|&y| self.m(y))
                        .collect();
                    self.b.begin_else(h, &ys);
                    self.fwd_block(*else_blk, recompute, None)?;
                    let ys: Vec<Value> = self
                        .src
                        .block(*else_blk)
                        .yields
                        .iter()
                        .map(|&y| self.m(y))
                        .collect();
                    let rs = self.b.end_if(h, &ys);
                    for (&o, n) in d.results.iter().zip(rs) {
                        self.map.insert(o, n);
                    }
                }
                _ => {
                    let rs = self.emit_copy(&d);
                    if let Some(c) = cache
                        && c.store
                    {
                        for (r, v) in d.results.iter().zip(rs) {
                            if let Some(&buf) = c.bufs.get(r) {
                                self.b.store(buf, c.idx, v);
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn fwd_for(&mut self, i: Inst, recompute: bool) -> Result<(), TransformError> {
        let d = self.src.inst(i).clone();
        let Op::For { body, rev } = d.op else {
            unreachable!()
        };
        let bd = self.src.block(body).clone();
        let args: Vec<Value> = d.args.iter().map(|&a| self.m(a)).collect();
        let (lo, hi) = (args[0], args[1]);
        let taped = self.active_loops.contains(&i);
        let mut tape = None;
        if taped {
            let diff = self.b.int(IntOp::Sub, hi, lo);
            let zero = self.b.const_i64(0);
            let nonempty = self.b.cmp(CmpOp::Lt, lo, hi);
            let n = self.b.select(nonempty, diff, zero);
            // Checkpoints and caches are scratch: the forward loop below stores index `i - lo`
            // of each at every iteration (the carried values first thing, the cached values
            // where the body computes them, unconditionally at the body's top level), and the
            // adjoint loop loads the same indices over the same range afterwards.
            let carried: Vec<Value> = (0..d.results.len()).map(|_| self.b.scratch(n)).collect();
            self.scratch.extend(carried.iter().copied());
            let mut cached = HashMap::new();
            for &j in &bd.insts {
                let dj = self.src.inst(j);
                if self.policy.caches(self.src, dj) && !self.partner_recomputed(dj) {
                    for &r in &dj.results {
                        let buf = self.b.scratch(n);
                        self.scratch.insert(buf);
                        cached.insert(r, buf);
                    }
                }
            }
            tape = Some(Tape {
                lo,
                carried,
                cached,
            });
        }
        let (h, iv, cs) = self.b.begin_for(lo, hi, &args[2..], rev);
        self.map.insert(bd.params[0], iv);
        for (&p, &c) in bd.params[1..].iter().zip(&cs) {
            self.map.insert(p, c);
        }
        let ctx = if let Some(t) = &tape {
            let idx = self.b.int(IntOp::Sub, iv, t.lo);
            for (k, &c) in cs.iter().enumerate() {
                let v = self.widen(c);
                self.b.store(t.carried[k], idx, v);
            }
            Some(CacheCtx {
                idx,
                bufs: t.cached.clone(),
                store: true,
            })
        } else {
            None
        };
        self.fwd_block(body, recompute, ctx.as_ref())?;
        let ys: Vec<Value> = bd.yields.iter().map(|&y| self.m(y)).collect();
        let rs = self.b.end_for(h, &ys);
        for (&o, n) in d.results.iter().zip(rs) {
            self.map.insert(o, n);
        }
        if let Some(t) = tape {
            self.tapes.insert(i, t);
        }
        Ok(())
    }

    /// Under [`CachePolicy::Auto`], `sin x` and `cos x` of a varied `x` are not worth storing:
    /// the adjoint computes the partner function of the same `x` (the partial of `sin` is
    /// `cos`), and the emitter computes both in one `sin_cos` call for about the price of
    /// one, so storing would add memory traffic and save next to nothing.
    fn partner_recomputed(&self, d: &InstData) -> bool {
        self.policy == CachePolicy::Auto
            && matches!(d.op, Op::Unary(Unary::Sin | Unary::Cos))
            && self.act.is_varied(d.args[0])
    }

    fn rev_block(&mut self, blk: Block) -> Result<(), TransformError> {
        let insts = self.src.block(blk).insts.clone();
        for &i in insts.iter().rev() {
            self.rev_inst(i)?;
        }
        Ok(())
    }

    fn rev_inst(&mut self, i: Inst) -> Result<(), TransformError> {
        let d = self.src.inst(i).clone();
        let a = d.results.first().and_then(|r| self.adj.get(r).copied());
        let pa: Vec<Value> = d
            .args
            .iter()
            .map(|x| self.map.get(x).copied().unwrap_or(*x))
            .collect();
        match &d.op {
            Op::Unary(op) => {
                if let Some(a) = a {
                    let start = self.b.func.insts.len();
                    let (_, dx) = rule_unary(&mut self.b, *op, pa[0]);
                    let [dx] = self.reuse_primal(start, &d, &pa, [dx]);
                    let c = self.b.mul(a, dx);
                    self.add_adj(d.args[0], c);
                }
            }
            Op::Binary(Binary::Rem) if a.is_some() => return Err(rem_unsupported()),
            Op::Binary(op) => {
                if let Some(a) = a {
                    let start = self.b.func.insts.len();
                    let (_, dx, dy) = rule_binary(&mut self.b, *op, pa[0], pa[1]);
                    let [dx, dy] = self.reuse_primal(start, &d, &pa, [dx, dy]);
                    for (p, x) in [(dx, d.args[0]), (dy, d.args[1])] {
                        if self.act.is_varied(x) {
                            let c = self.b.mul(a, p);
                            self.add_adj(x, c);
                        }
                    }
                }
            }
            Op::Ternary(op) => {
                if let Some(a) = a {
                    let start = self.b.func.insts.len();
                    let (_, da, db, dc) = rule_ternary(&mut self.b, *op, pa[0], pa[1], pa[2]);
                    let [da, db, dc] = self.reuse_primal(start, &d, &pa, [da, db, dc]);
                    for (p, x) in [(da, d.args[0]), (db, d.args[1]), (dc, d.args[2])] {
                        if self.act.is_varied(x) {
                            let c = self.b.mul(a, p);
                            self.add_adj(x, c);
                        }
                    }
                }
            }
            Op::Select => {
                if let Some(a) = a {
                    let z = self.zero(self.src.ty(d.results[0]));
                    let c = self.m(d.args[0]);
                    if self.act.is_varied(d.args[1]) {
                        let t = self.b.select(c, a, z);
                        self.add_adj(d.args[1], t);
                    }
                    if self.act.is_varied(d.args[2]) {
                        let e = self.b.select(c, z, a);
                        self.add_adj(d.args[2], e);
                    }
                }
            }
            Op::Cast => {
                if let Some(a) = a {
                    let ty = self.src.ty(d.args[0]);
                    if ty.is_float() {
                        let c = self.b.cast(a, ty);
                        self.add_adj(d.args[0], c);
                    }
                }
            }
            Op::Load => {
                if let (Some(a), Some(&sh)) = (a, self.shadow.get(&d.args[0])) {
                    let ix = self.m(d.args[1]);
                    let s = self.b.load(sh, ix);
                    let t = self.b.add(s, a);
                    self.b.store(sh, ix, t);
                }
            }
            Op::Store => {
                if let Some(&sh) = self.shadow.get(&d.args[0]) {
                    let ix = self.m(d.args[1]);
                    let s = self.b.load(sh, ix);
                    let z = self.b.const_f64(0.0);
                    self.b.store(sh, ix, z);
                    self.add_adj(d.args[2], s);
                }
            }
            Op::Custom { name, kind } if d.results.iter().any(|r| self.adj.contains_key(r)) => {
                if *kind != CustomKind::Eval {
                    return Err(TransformError::Unsupported(format!(
                        "differentiating `{}` of rule {name:?} needs its second derivatives",
                        kind.name()
                    )));
                }
                let mut args: Vec<Value> = d.args.iter().map(|&x| self.m(x)).collect();
                for &r in &d.results {
                    let w = self.adj_or_zero(r);
                    args.push(w);
                }
                let dx = self.b.custom(name, CustomKind::Vjp, args, d.args.len());
                for (&x, g) in d.args.iter().zip(dx) {
                    self.add_adj(x, g);
                }
            }
            Op::Call(_) => return Err(TransformError::CallNotInlined(self.src.name.clone())),
            Op::For { .. } if self.tapes.contains_key(&i) => self.rev_for(i)?,
            Op::If { .. } => self.rev_if(i)?,
            _ => {}
        }
        Ok(())
    }

    /// Makes the partials a rule just emitted (instructions `start..`) use the primal's value
    /// of `d` wherever the rule recomputes it (`exp`'s partial *is* `exp x`, `tanh`'s is
    /// `1 - t²`): the same operation on the same arguments, so the same bits. Without this a
    /// value the forward loop cached would still be recomputed by its own rule.
    fn reuse_primal<const N: usize>(
        &mut self,
        start: usize,
        d: &InstData,
        pa: &[Value],
        mut partials: [Value; N],
    ) -> [Value; N] {
        let [r] = d.results[..] else {
            return partials;
        };
        let Some(&primal) = self.map.get(&r) else {
            return partials;
        };
        // The rule's own copies of the primal operation (tracer rules emit flat code, one copy
        // per control-flow path they explored).
        let mut copies = vec![];
        for k in start..self.b.func.insts.len() {
            let di = &mut self.b.func.insts[k];
            for x in &mut di.args {
                if copies.contains(x) {
                    *x = primal;
                }
            }
            if di.op == d.op && di.args == pa && di.results.len() == 1 {
                copies.push(di.results[0]);
            }
        }
        for p in &mut partials {
            if copies.contains(p) {
                *p = primal;
            }
        }
        partials
    }

    fn free_varied(&self, blocks: &[Block]) -> Vec<Value> {
        let mut out = vec![];
        for &b in blocks {
            for v in free_values(self.src, b) {
                if self.src.ty(v).is_float() && self.act.is_varied(v) && !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        out
    }

    fn rev_for(&mut self, i: Inst) -> Result<(), TransformError> {
        let d = self.src.inst(i).clone();
        let Op::For { body, rev } = d.op else {
            unreachable!()
        };
        let bd = self.src.block(body).clone();
        let tape = self.tapes.remove(&i).expect("taped loop");
        let (lo, hi) = (self.m(d.args[0]), self.m(d.args[1]));
        let free = self.free_varied(&[body]);
        let n = d.results.len();
        let slots: Vec<usize> = (0..n)
            .filter(|&k| {
                self.src.ty(d.results[k]).is_float()
                    && (self.act.is_active(bd.params[1 + k]) || self.act.is_active(d.results[k]))
            })
            .collect();
        let mut inits = vec![];
        for &k in &slots {
            inits.push(self.adj_or_zero(d.results[k]));
        }
        for &f in &free {
            let z = self.zero(self.src.ty(f));
            inits.push(z);
        }
        let (h, iv, cs) = self.b.begin_for(lo, hi, &inits, !rev);
        let idx = self.b.int(IntOp::Sub, iv, tape.lo);
        self.map.insert(bd.params[0], iv);
        for k in 0..n {
            let raw = self.b.load(tape.carried[k], idx);
            let v = self.narrow(raw, self.src.ty(bd.params[1 + k]));
            self.map.insert(bd.params[1 + k], v);
        }
        let saved = std::mem::take(&mut self.adj);
        for (s, &f) in free.iter().enumerate() {
            self.adj.insert(f, cs[slots.len() + s]);
        }
        for (s, &k) in slots.iter().enumerate() {
            self.add_adj(bd.yields[k], cs[s]);
        }
        let ctx = CacheCtx {
            idx,
            bufs: tape.cached,
            store: false,
        };
        self.fwd_block(body, true, Some(&ctx))?;
        self.rev_block(body)?;
        let mut next = vec![];
        for &k in &slots {
            next.push(self.adj_or_zero(bd.params[1 + k]));
        }
        for &f in &free {
            next.push(self.adj_or_zero(f));
        }
        self.adj = saved;
        let rs = self.b.end_for(h, &next);
        for (s, &k) in slots.iter().enumerate() {
            self.add_adj(d.args[2 + k], rs[s]);
        }
        for (s, &f) in free.iter().enumerate() {
            self.add_adj(f, rs[slots.len() + s]);
        }
        Ok(())
    }

    fn rev_if(&mut self, i: Inst) -> Result<(), TransformError> {
        let d = self.src.inst(i).clone();
        let Op::If { then_blk, else_blk } = d.op else {
            unreachable!()
        };
        let seeds: Vec<Option<Value>> =
            d.results.iter().map(|r| self.adj.get(r).copied()).collect();
        let mut effects = false;
        for b in [then_blk, else_blk] {
            self.src.walk_block(b, &mut |j| {
                let dj = self.src.inst(j);
                if matches!(dj.op, Op::Store | Op::Load) && self.shadow.contains_key(&dj.args[0]) {
                    effects = true;
                }
            });
        }
        if seeds.iter().all(Option::is_none) && !effects {
            return Ok(());
        }
        let free = self.free_varied(&[then_blk, else_blk]);
        let tys: Vec<Type> = free.iter().map(|&f| self.src.ty(f)).collect();
        let h = self.b.begin_if(self.m(d.args[0]), &tys);
        let ys = self.rev_arm(then_blk, &seeds, &free)?;
        self.b.begin_else(h, &ys);
        let ys = self.rev_arm(else_blk, &seeds, &free)?;
        let rs = self.b.end_if(h, &ys);
        for (&f, r) in free.iter().zip(rs) {
            self.add_adj(f, r);
        }
        Ok(())
    }

    fn rev_arm(
        &mut self,
        blk: Block,
        seeds: &[Option<Value>],
        free: &[Value],
    ) -> Result<Vec<Value>, TransformError> {
        let saved = std::mem::take(&mut self.adj);
        self.fwd_block(blk, true, None)?;
        let yields = self.src.block(blk).yields.clone();
        for (&y, s) in yields.iter().zip(seeds) {
            if let Some(s) = s {
                self.add_adj(y, *s);
            }
        }
        self.rev_block(blk)?;
        let ys = free.iter().map(|&f| self.adj_or_zero(f)).collect();
        self.adj = saved;
        Ok(ys)
    }
}

/// Rejects loads that the reverse sweep would recompute from memory that may have changed.
fn check_mutable_loads(f: &Function) -> Result<(), TransformError> {
    let mut written = HashSet::new();
    f.walk(&mut |i| {
        if f.inst(i).op == Op::Store {
            written.insert(f.inst(i).args[0]);
        }
    });
    fn walk(
        f: &Function,
        b: Block,
        safe: bool,
        top: bool,
        written: &HashSet<Value>,
    ) -> Result<(), TransformError> {
        for &i in &f.block(b).insts {
            let d = f.inst(i);
            match d.op {
                Op::Load if !safe && written.contains(&d.args[0]) => {
                    return Err(TransformError::Unsupported(format!(
                        "@{}: a load from {} inside an `if` arm or a nested loop reads a buffer the function also \
                         writes; the reverse sweep would re-read it after later stores. Move the load to the top \
                         level of the function or of an outermost loop",
                        f.name, d.args[0]
                    )));
                }
                Op::For { body, .. } => walk(f, body, top, false, written)?,
                Op::If { then_blk, else_blk } => {
                    walk(f, then_blk, false, false, written)?;
                    walk(f, else_blk, false, false, written)?;
                }
                _ => {}
            }
        }
        Ok(())
    }
    walk(f, f.body, true, true, &written)
}
