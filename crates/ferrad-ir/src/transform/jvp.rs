//! Forward mode: `jvp(f)` computes `f(x)` and `W` directional derivatives at once.
//!
//! Signature (Enzyme's `Dual`/`Dualv` convention): every active parameter is followed by `W`
//! tangent parameters of the same type (a buffer's tangents are buffers); the function returns
//! each result followed by its `W` tangents (float results only).
//!
//! The derivative of each primitive is emitted by evaluating ferrad-core's rule on
//! [`Tracer`](crate::trace::Tracer)s ([`crate::trace::rule_unary`] and friends): the rule's
//! partials are computed once and shared by the `W` tangent lanes. Loops carry the tangents of
//! their active carried values; `if`s yield them; loads and stores read and write the tangent
//! buffers at the same index.
//!
//! Invariant: a value without an entry in the tangent map has a zero tangent, and only active
//! values (see [`crate::activity`]) get one.

use std::collections::HashMap;

use ferrad_core::rules::Binary;

use crate::activity::{Activity, analyze};
use crate::builder::FunctionBuilder;
use crate::ir::*;
use crate::trace::{rule_binary, rule_ternary, rule_unary};
use crate::transform::{TransformError, rem_unsupported};

/// Options of [`jvp`].
#[derive(Clone, Debug)]
pub struct JvpOptions {
    /// Tangents per value (`W`, batch width), at least 1.
    pub width: usize,
    /// Which parameters are active; `None`: every float and buffer parameter.
    pub active: Option<Vec<bool>>,
}

impl Default for JvpOptions {
    fn default() -> Self {
        JvpOptions {
            width: 1,
            active: None,
        }
    }
}

struct Jvp<'a> {
    src: &'a Function,
    b: FunctionBuilder,
    act: Activity,
    w: usize,
    map: HashMap<Value, Value>,
    tan: HashMap<Value, Vec<Value>>,
}

/// The default activity: every float and buffer parameter.
pub fn default_active(f: &Function) -> Vec<bool> {
    f.params
        .iter()
        .map(|&p| f.ty(p).is_float() || f.ty(p).is_buf())
        .collect()
}

/// The forward-mode derivative of `f`; see the module docs for the signature.
pub fn jvp(f: &Function, opts: &JvpOptions) -> Result<Function, TransformError> {
    if opts.width == 0 {
        return Err(TransformError::Unsupported(
            "width must be at least 1".into(),
        ));
    }
    let active = opts.active.clone().unwrap_or_else(|| default_active(f));
    if active.len() != f.params.len() {
        return Err(TransformError::Unsupported(format!(
            "{} activities given for {} parameters",
            active.len(),
            f.params.len()
        )));
    }
    let act = analyze(f, &active);
    let mut j = Jvp {
        src: f,
        b: FunctionBuilder::new(format!("{}_jvp", f.name)),
        act,
        w: opts.width,
        map: HashMap::new(),
        tan: HashMap::new(),
    };
    for (&p, &on) in f.params.iter().zip(&active) {
        let t = f.ty(p);
        let np = j.b.param(t);
        j.map.insert(p, np);
        if on && (t.is_float() || t.is_buf()) {
            let ts: Vec<Value> = (0..j.w).map(|_| j.b.param(t)).collect();
            j.tan.insert(p, ts);
        }
    }
    j.block(f.body)?;
    let mut rets = vec![];
    for &y in &f.block(f.body).yields {
        rets.push(j.map[&y]);
        if f.ty(y).is_float() {
            rets.extend(j.tz(y));
        }
    }
    let out = j.b.finish(&rets);
    crate::verify::debug_verify(&out, "jvp");
    Ok(out)
}

impl Jvp<'_> {
    fn m(&self, v: Value) -> Value {
        self.map[&v]
    }
    /// The tangents of `v`, zeros if it has none.
    fn tz(&mut self, v: Value) -> Vec<Value> {
        if let Some(t) = self.tan.get(&v) {
            return t.clone();
        }
        let ty = self.src.ty(v);
        let z = self.b.const_float(ty, 0.0);
        vec![z; self.w]
    }
    fn has(&self, v: Value) -> bool {
        self.tan.contains_key(&v)
    }

    fn block(&mut self, blk: Block) -> Result<(), TransformError> {
        for &i in &self.src.block(blk).insts {
            self.inst(i)?;
        }
        Ok(())
    }

    /// `Σ_j partial_j · t_j` per lane, over the arguments that have tangents.
    fn combine(&mut self, terms: &[(Value, Value)]) -> Vec<Value> {
        (0..self.w)
            .map(|k| {
                let mut acc: Option<Value> = None;
                for &(partial, arg) in terms {
                    let t = self.tan[&arg][k];
                    let p = self.b.mul(partial, t);
                    acc = Some(match acc {
                        None => p,
                        Some(a) => self.b.add(a, p),
                    });
                }
                acc.expect("at least one term")
            })
            .collect()
    }

    fn copy(&mut self, d: &InstData, args: Vec<Value>) -> Vec<Value> {
        let tys: Vec<Type> = d.results.iter().map(|&v| self.src.ty(v)).collect();
        let rs = self.b.emit(d.op.clone(), args, &tys);
        for (&o, &n) in d.results.iter().zip(&rs) {
            self.map.insert(o, n);
        }
        rs
    }

    fn inst(&mut self, i: Inst) -> Result<(), TransformError> {
        let d = self.src.inst(i).clone();
        let args: Vec<Value> = d.args.iter().map(|&a| self.m(a)).collect();
        let wants = |s: &Self| {
            d.results.iter().any(|&r| s.act.is_active(r)) && d.args.iter().any(|&a| s.has(a))
        };
        match &d.op {
            Op::Unary(op) if wants(self) => {
                let (v, dx) = rule_unary(&mut self.b, *op, args[0]);
                self.map.insert(d.results[0], v);
                let t = self.combine(&[(dx, d.args[0])]);
                self.tan.insert(d.results[0], t);
            }
            Op::Binary(Binary::Rem) if wants(self) => return Err(rem_unsupported()),
            Op::Binary(op) if wants(self) => {
                let (v, dx, dy) = rule_binary(&mut self.b, *op, args[0], args[1]);
                self.map.insert(d.results[0], v);
                let terms: Vec<(Value, Value)> = [(dx, d.args[0]), (dy, d.args[1])]
                    .into_iter()
                    .filter(|t| self.has(t.1))
                    .collect();
                let t = self.combine(&terms);
                self.tan.insert(d.results[0], t);
            }
            Op::Ternary(op) if wants(self) => {
                let (v, da, db, dc) = rule_ternary(&mut self.b, *op, args[0], args[1], args[2]);
                self.map.insert(d.results[0], v);
                let terms: Vec<(Value, Value)> =
                    [(da, d.args[0]), (db, d.args[1]), (dc, d.args[2])]
                        .into_iter()
                        .filter(|t| self.has(t.1))
                        .collect();
                let t = self.combine(&terms);
                self.tan.insert(d.results[0], t);
            }
            Op::Select
                if self.act.is_active(d.results[0])
                    && (self.has(d.args[1]) || self.has(d.args[2])) =>
            {
                self.copy(&d, args.clone());
                let (ta, tb) = (self.tz(d.args[1]), self.tz(d.args[2]));
                let t = (0..self.w)
                    .map(|k| self.b.select(args[0], ta[k], tb[k]))
                    .collect();
                self.tan.insert(d.results[0], t);
            }
            Op::Cast if self.src.ty(d.results[0]).is_float() && wants(self) => {
                self.copy(&d, args);
                let ty = self.src.ty(d.results[0]);
                let t = self.tan[&d.args[0]]
                    .clone()
                    .into_iter()
                    .map(|x| self.b.cast(x, ty))
                    .collect();
                self.tan.insert(d.results[0], t);
            }
            Op::Load => {
                self.copy(&d, args.clone());
                if self.has(d.args[0]) && self.act.is_active(d.results[0]) {
                    let sh = self.tan[&d.args[0]].clone();
                    let t = sh.into_iter().map(|s| self.b.load(s, args[1])).collect();
                    self.tan.insert(d.results[0], t);
                }
            }
            Op::Store => {
                self.copy(&d, args.clone());
                if self.has(d.args[0]) {
                    let sh = self.tan[&d.args[0]].clone();
                    let tv = self.tz(d.args[2]);
                    for (s, t) in sh.into_iter().zip(tv) {
                        self.b.store(s, args[1], t);
                    }
                }
            }
            Op::Alloc => {
                self.copy(&d, args.clone());
                if self.act.is_varied(d.results[0]) {
                    let sh = (0..self.w).map(|_| self.b.alloc(args[0])).collect();
                    self.tan.insert(d.results[0], sh);
                }
            }
            // The tangent buffer is stored wherever the primal is (every store of a buffer
            // with a tangent stores one), so it too is written before it is read.
            Op::Scratch => {
                self.copy(&d, args.clone());
                if self.act.is_varied(d.results[0]) {
                    let sh = (0..self.w).map(|_| self.b.scratch(args[0])).collect();
                    self.tan.insert(d.results[0], sh);
                }
            }
            Op::Custom { name, kind } => {
                if *kind != CustomKind::Eval && d.args.iter().any(|&a| self.has(a)) {
                    return Err(TransformError::Unsupported(format!(
                        "differentiating `{}` of rule {name:?} needs its second derivatives, which custom rules do not provide in the IR",
                        kind.name()
                    )));
                }
                self.copy(&d, args.clone());
                if wants(self) {
                    let mut lanes = vec![];
                    for k in 0..self.w {
                        let mut a = args.clone();
                        for &x in &d.args {
                            let t = self.tz(x)[k];
                            a.push(t);
                        }
                        lanes.push(self.b.custom(name, CustomKind::Jvp, a, d.results.len()));
                    }
                    for (r, &res) in d.results.iter().enumerate() {
                        self.tan.insert(res, lanes.iter().map(|l| l[r]).collect());
                    }
                }
            }
            Op::Call(_) => return Err(TransformError::CallNotInlined(self.src.name.clone())),
            Op::For { body, rev } => {
                let bd = self.src.block(*body).clone();
                let slots: Vec<usize> = (0..d.results.len())
                    .filter(|&k| {
                        self.act.is_active(bd.params[1 + k]) || self.act.is_active(d.results[k])
                    })
                    .collect();
                let mut inits = args[2..].to_vec();
                for &k in &slots {
                    inits.extend(self.tz(d.args[2 + k]));
                }
                let (h, iv, cs) = self.b.begin_for(args[0], args[1], &inits, *rev);
                self.map.insert(bd.params[0], iv);
                let n = d.results.len();
                for (&p, &c) in bd.params[1..].iter().zip(&cs[..n]) {
                    self.map.insert(p, c);
                }
                for (s, &k) in slots.iter().enumerate() {
                    let t = cs[n + s * self.w..n + (s + 1) * self.w].to_vec();
                    self.tan.insert(bd.params[1 + k], t);
                }
                self.block(*body)?;
                let mut ys: Vec<Value> = bd.yields.iter().map(|&y| self.m(y)).collect();
                for &k in &slots {
                    ys.extend(self.tz(bd.yields[k]));
                }
                let rs = self.b.end_for(h, &ys);
                for (&r, &v) in d.results.iter().zip(&rs[..n]) {
                    self.map.insert(r, v);
                }
                for (s, &k) in slots.iter().enumerate() {
                    self.tan.insert(
                        d.results[k],
                        rs[n + s * self.w..n + (s + 1) * self.w].to_vec(),
                    );
                }
            }
            Op::If { then_blk, else_blk } => {
                let slots: Vec<usize> = (0..d.results.len())
                    .filter(|&k| self.act.is_active(d.results[k]))
                    .collect();
                let mut tys: Vec<Type> = d.results.iter().map(|&v| self.src.ty(v)).collect();
                for &k in &slots {
                    tys.extend(vec![self.src.ty(d.results[k]); self.w]);
                }
                let h = self.b.begin_if(args[0], &tys);
                let ys = self.arm(*then_blk, &slots)?;
                self.b.begin_else(h, &ys);
                let ys = self.arm(*else_blk, &slots)?;
                let rs = self.b.end_if(h, &ys);
                let n = d.results.len();
                for (&r, &v) in d.results.iter().zip(&rs[..n]) {
                    self.map.insert(r, v);
                }
                for (s, &k) in slots.iter().enumerate() {
                    self.tan.insert(
                        d.results[k],
                        rs[n + s * self.w..n + (s + 1) * self.w].to_vec(),
                    );
                }
            }
            _ => {
                self.copy(&d, args);
            }
        }
        Ok(())
    }

    fn arm(&mut self, blk: Block, slots: &[usize]) -> Result<Vec<Value>, TransformError> {
        self.block(blk)?;
        let yields = self.src.block(blk).yields.clone();
        let mut ys: Vec<Value> = yields.iter().map(|&y| self.m(y)).collect();
        for &k in slots {
            ys.extend(self.tz(yields[k]));
        }
        Ok(ys)
    }
}
