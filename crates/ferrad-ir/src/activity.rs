//! Activity analysis: which values and buffers can carry a derivative.
//!
//! A value is *varied* if it depends (through float operations, loads, stores, loop-carried
//! values and `if` results) on an active input, and *useful* if an active output depends on it.
//! It is *active* when both hold; only active values get tangent or adjoint code. Buffers are
//! tracked by the value that names them (a parameter or an `alloc`): a buffer is varied when
//! it is an active input or a varied value is stored into it, and useful when it is a mutable
//! parameter (its final contents are an output) or a useful value is loaded from it.
//! Integers and booleans never carry derivatives.
//!
//! Invariant: the analysis is a sound over-approximation: a value that is not active has a zero
//! derivative for every seed (so skipping it is exact). It is computed as a fixed point, so
//! loop-carried dependencies are followed to any depth.

use std::collections::HashSet;

use crate::ir::*;

/// The result of [`analyze`].
#[derive(Clone, Debug, Default)]
pub struct Activity {
    /// Values (and buffers) that depend on an active input.
    pub varied: HashSet<Value>,
    /// Values (and buffers) that an active output depends on.
    pub useful: HashSet<Value>,
}

impl Activity {
    /// Varied and useful: the value needs derivative code.
    pub fn is_active(&self, v: Value) -> bool {
        self.varied.contains(&v) && self.useful.contains(&v)
    }
    /// Depends on an active input.
    pub fn is_varied(&self, v: Value) -> bool {
        self.varied.contains(&v)
    }
}

fn diff_type(t: Type) -> bool {
    t.is_float() || t.is_buf()
}

/// Analyzes `f` with the parameters marked in `active_params` as active inputs; every float
/// result and every mutable buffer parameter is an active output.
pub fn analyze(f: &Function, active_params: &[bool]) -> Activity {
    let mut a = Activity::default();
    for (&p, &on) in f.params.iter().zip(active_params) {
        if on && diff_type(f.ty(p)) {
            a.varied.insert(p);
        }
    }
    for &p in &f.params {
        if f.ty(p) == Type::BufMut {
            a.useful.insert(p);
        }
    }
    for &y in &f.block(f.body).yields {
        if f.ty(y).is_float() {
            a.useful.insert(y);
        }
    }
    let mut insts = vec![];
    f.walk(&mut |i| insts.push(i));
    loop {
        let before = (a.varied.len(), a.useful.len());
        for &i in &insts {
            step(f, i, &mut a);
        }
        if (a.varied.len(), a.useful.len()) == before {
            return a;
        }
    }
}

fn step(f: &Function, i: Inst, a: &mut Activity) {
    let d = f.inst(i);
    let fl = |v: Value| diff_type(f.ty(v));
    let mark = |set: &mut HashSet<Value>, v: Value| {
        if fl(v) {
            set.insert(v);
        }
    };
    match &d.op {
        Op::Unary(_)
        | Op::Binary(_)
        | Op::Ternary(_)
        | Op::Custom { .. }
        | Op::Call(_)
        | Op::Cast => {
            if d.args.iter().any(|x| a.varied.contains(x)) {
                for &r in &d.results {
                    mark(&mut a.varied, r);
                }
            }
            if d.results.iter().any(|r| a.useful.contains(r)) {
                for &x in &d.args {
                    mark(&mut a.useful, x);
                }
            }
        }
        Op::Select => {
            if a.varied.contains(&d.args[1]) || a.varied.contains(&d.args[2]) {
                mark(&mut a.varied, d.results[0]);
            }
            if a.useful.contains(&d.results[0]) {
                mark(&mut a.useful, d.args[1]);
                mark(&mut a.useful, d.args[2]);
            }
        }
        Op::Load => {
            if a.varied.contains(&d.args[0]) {
                a.varied.insert(d.results[0]);
            }
            if a.useful.contains(&d.results[0]) {
                a.useful.insert(d.args[0]);
            }
        }
        Op::Store => {
            if a.varied.contains(&d.args[2]) {
                a.varied.insert(d.args[0]);
            }
            if a.useful.contains(&d.args[0]) {
                a.useful.insert(d.args[2]);
            }
        }
        Op::For { body, .. } => {
            let bd = f.block(*body);
            for k in 0..d.results.len() {
                let (init, p, y, r) = (d.args[2 + k], bd.params[1 + k], bd.yields[k], d.results[k]);
                if !fl(r) {
                    continue;
                }
                if a.varied.contains(&init) || a.varied.contains(&y) {
                    a.varied.insert(p);
                }
                if a.varied.contains(&p) {
                    a.varied.insert(r);
                }
                if a.useful.contains(&r) || a.useful.contains(&p) {
                    a.useful.insert(p);
                    mark(&mut a.useful, y);
                    mark(&mut a.useful, init);
                }
            }
        }
        Op::If { then_blk, else_blk } => {
            for (k, &r) in d.results.iter().enumerate() {
                if !fl(r) {
                    continue;
                }
                let (ty, ey) = (f.block(*then_blk).yields[k], f.block(*else_blk).yields[k]);
                if a.varied.contains(&ty) || a.varied.contains(&ey) {
                    a.varied.insert(r);
                }
                if a.useful.contains(&r) {
                    mark(&mut a.useful, ty);
                    mark(&mut a.useful, ey);
                }
            }
        }
        _ => {}
    }
}

/// Values defined outside `b` (and its nested blocks) but used inside: a region's free variables.
pub fn free_values(f: &Function, b: Block) -> Vec<Value> {
    let mut defined = HashSet::new();
    let mut used = vec![];
    let mut seen = HashSet::new();
    collect(f, b, &mut defined, &mut used, &mut seen);
    used.retain(|v| !defined.contains(v));
    used
}

fn collect(
    f: &Function,
    b: Block,
    defined: &mut HashSet<Value>,
    used: &mut Vec<Value>,
    seen: &mut HashSet<Value>,
) {
    let bd = f.block(b);
    defined.extend(bd.params.iter().copied());
    for &i in &bd.insts {
        let d = f.inst(i);
        for &a in &d.args {
            if seen.insert(a) {
                used.push(a);
            }
        }
        defined.extend(d.results.iter().copied());
        for nb in d.op.blocks() {
            collect(f, nb, defined, used, seen);
        }
    }
    for &y in &bd.yields {
        if seen.insert(y) {
            used.push(y);
        }
    }
}
