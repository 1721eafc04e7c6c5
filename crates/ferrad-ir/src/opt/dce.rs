//! Dead code elimination, including unused loop-carried values and write-only buffers.
//!
//! Liveness is computed by marking from the roots (the returned values, and stores into
//! buffers that can be observed) backwards through arguments, with loop-carried values
//! tracked per slot: slot `k` of a loop is live when its result or its body parameter is
//! used, and then keeps its initial value and its yield alive. A buffer from `alloc` that is
//! only ever stored into is not observable, so its stores are not roots and it disappears
//! (this is what removes the checkpoints the reverse sweep turned out not to need). A carried
//! value that the body yields unchanged is replaced by its initial value.
//!
//! Invariant: only instructions without observable effect are removed.

use std::collections::{HashMap, HashSet};

use crate::builder::FunctionBuilder;
use crate::ir::*;

#[derive(Clone, Copy)]
enum Def {
    Result(Inst, usize),
    Param(Inst, usize),
    FuncParam,
}

struct Live<'a> {
    f: &'a Function,
    def: HashMap<Value, Def>,
    parent: HashMap<Inst, Inst>,
    values: HashSet<Value>,
    insts: HashSet<Inst>,
    slots: HashSet<(Inst, usize)>,
    work: Vec<Value>,
}

impl Live<'_> {
    fn value(&mut self, v: Value) {
        if self.values.insert(v) {
            self.work.push(v);
        }
    }
    fn inst(&mut self, i: Inst) {
        if !self.insts.insert(i) {
            return;
        }
        if let Some(&p) = self.parent.get(&i) {
            self.inst(p);
        }
        let d = self.f.inst(i);
        match d.op {
            Op::For { .. } => {
                self.value(d.args[0]);
                self.value(d.args[1]);
            }
            Op::If { .. } => self.value(d.args[0]),
            _ => {
                for &a in &d.args {
                    self.value(a);
                }
            }
        }
    }
    fn slot(&mut self, i: Inst, k: usize) {
        if !self.slots.insert((i, k)) {
            return;
        }
        self.inst(i);
        let d = self.f.inst(i);
        match d.op {
            Op::For { body, .. } => {
                self.value(d.args[2 + k]);
                self.value(self.f.block(body).yields[k]);
            }
            Op::If { then_blk, else_blk } => {
                self.value(self.f.block(then_blk).yields[k]);
                self.value(self.f.block(else_blk).yields[k]);
            }
            _ => {}
        }
    }
    fn run(&mut self) {
        while let Some(v) = self.work.pop() {
            match self.def.get(&v).copied() {
                Some(Def::Result(i, k)) => match self.f.inst(i).op {
                    Op::For { .. } | Op::If { .. } => self.slot(i, k),
                    _ => self.inst(i),
                },
                Some(Def::Param(i, 0)) => self.inst(i),
                Some(Def::Param(i, k)) => self.slot(i, k - 1),
                Some(Def::FuncParam) | None => {}
            }
        }
    }
}

fn index(f: &Function, b: Block, parent: Option<Inst>, l: &mut Live<'_>) {
    for &i in &f.block(b).insts {
        if let Some(p) = parent {
            l.parent.insert(i, p);
        }
        let d = f.inst(i);
        for (k, &r) in d.results.iter().enumerate() {
            l.def.insert(r, Def::Result(i, k));
        }
        for nb in d.op.blocks() {
            for (k, &p) in f.block(nb).params.iter().enumerate() {
                l.def.insert(p, Def::Param(i, k));
            }
            index(f, nb, Some(i), l);
        }
    }
}

/// Removes dead code from `f`.
pub fn dce(f: &Function) -> Function {
    let mut l = Live {
        f,
        def: HashMap::new(),
        parent: HashMap::new(),
        values: HashSet::new(),
        insts: HashSet::new(),
        slots: HashSet::new(),
        work: vec![],
    };
    for &p in &f.params {
        l.def.insert(p, Def::FuncParam);
    }
    index(f, f.body, None, &mut l);
    // Buffers from `alloc` that are only ever stored into.
    let mut observed: HashSet<Value> = HashSet::new();
    let mut allocs = vec![];
    f.walk(&mut |i| {
        let d = f.inst(i);
        match d.op {
            Op::Alloc | Op::Scratch => allocs.push(d.results[0]),
            Op::Store => {
                observed.extend(d.args[1..].iter().copied());
            }
            _ => observed.extend(d.args.iter().copied()),
        }
    });
    observed.extend(f.block(f.body).yields.iter().copied());
    let write_only: HashSet<Value> = allocs
        .into_iter()
        .filter(|a| !observed.contains(a))
        .collect();
    let mut roots = vec![];
    f.walk(&mut |i| {
        let d = f.inst(i);
        let effect = match d.op {
            Op::Store => !write_only.contains(&d.args[0]),
            Op::Call(_) => true,
            _ => false,
        };
        if effect {
            roots.push(i);
        }
    });
    for i in roots {
        l.inst(i);
    }
    for &y in &f.block(f.body).yields {
        l.value(y);
    }
    l.run();

    let mut b = FunctionBuilder::new(f.name.clone());
    let mut map = HashMap::new();
    for &p in &f.params {
        map.insert(p, b.param(f.ty(p)));
    }
    copy_block(f, f.body, &l, &mut b, &mut map);
    let ys: Vec<Value> = f.block(f.body).yields.iter().map(|y| map[y]).collect();
    b.finish(&ys)
}

fn copy_block(
    f: &Function,
    blk: Block,
    l: &Live<'_>,
    b: &mut FunctionBuilder,
    map: &mut HashMap<Value, Value>,
) {
    for &i in &f.block(blk).insts {
        if !l.insts.contains(&i) {
            continue;
        }
        let d = f.inst(i);
        let m = |map: &HashMap<Value, Value>, v: &Value| map[v];
        match &d.op {
            Op::For { body, rev } => {
                let bd = f.block(*body);
                // A slot whose body yields its own parameter never changes: use the initial value.
                let (fixed, live): (Vec<usize>, Vec<usize>) = (0..d.results.len())
                    .filter(|&k| l.slots.contains(&(i, k)))
                    .partition(|&k| bd.yields[k] == bd.params[1 + k]);
                for &k in &fixed {
                    let init = m(map, &d.args[2 + k]);
                    map.insert(bd.params[1 + k], init);
                    map.insert(d.results[k], init);
                }
                let inits: Vec<Value> = live.iter().map(|&k| m(map, &d.args[2 + k])).collect();
                let (h, iv, cs) = b.begin_for(m(map, &d.args[0]), m(map, &d.args[1]), &inits, *rev);
                map.insert(bd.params[0], iv);
                for (&k, c) in live.iter().zip(cs) {
                    map.insert(bd.params[1 + k], c);
                }
                copy_block(f, *body, l, b, map);
                let ys: Vec<Value> = live.iter().map(|&k| m(map, &bd.yields[k])).collect();
                let rs = b.end_for(h, &ys);
                for (&k, r) in live.iter().zip(rs) {
                    map.insert(d.results[k], r);
                }
            }
            Op::If { then_blk, else_blk } => {
                let live: Vec<usize> = (0..d.results.len())
                    .filter(|&k| l.slots.contains(&(i, k)))
                    .collect();
                let tys: Vec<Type> = live.iter().map(|&k| f.ty(d.results[k])).collect();
                let h = b.begin_if(m(map, &d.args[0]), &tys);
                copy_block(f, *then_blk, l, b, map);
                let ys: Vec<Value> = live
                    .iter()
                    .map(|&k| m(map, &f.block(*then_blk).yields[k]))
                    .collect();
                b.begin_else(h, &ys);
                copy_block(f, *else_blk, l, b, map);
                let ys: Vec<Value> = live
                    .iter()
                    .map(|&k| m(map, &f.block(*else_blk).yields[k]))
                    .collect();
                let rs = b.end_if(h, &ys);
                for (&k, r) in live.iter().zip(rs) {
                    map.insert(d.results[k], r);
                }
            }
            _ => {
                let args: Vec<Value> = d.args.iter().map(|a| m(map, a)).collect();
                let tys: Vec<Type> = d.results.iter().map(|&r| f.ty(r)).collect();
                let rs = b.emit(d.op.clone(), args, &tys);
                for (&o, n) in d.results.iter().zip(rs) {
                    map.insert(o, n);
                }
            }
        }
    }
}
