//! Rebuilding a function instruction by instruction: the skeleton every pass shares.
//!
//! [`rewrite`] walks the source function in order and copies each instruction into a new
//! [`FunctionBuilder`], renaming values through a map; a pass implements [`Rewrite`] and may
//! replace any non-region instruction by other instructions (or by existing values). Regions
//! are copied structurally and reported through [`Rewrite::enter`]/[`Rewrite::exit`], so a pass
//! can keep scoped tables (CSE) without handling regions itself.
//!
//! Invariant: a pass that replaces each instruction by values computing the same thing yields
//! a function with the same semantics; the skeleton itself never changes meaning.

use std::collections::HashMap;

use crate::builder::FunctionBuilder;
use crate::ir::*;

/// A rewriting pass.
pub trait Rewrite {
    /// Called for each non-region instruction with its arguments already renamed. Return
    /// `Some(results)` to replace it, `None` to copy it unchanged.
    fn inst(
        &mut self,
        _b: &mut FunctionBuilder,
        _src: &Function,
        _d: &InstData,
        _args: &[Value],
    ) -> Option<Vec<Value>> {
        None
    }
    /// A region (loop body or `if` arm) is entered.
    fn enter(&mut self) {}
    /// The region entered last is left.
    fn exit(&mut self) {}
}

/// Copies instructions of a source function into a builder, renaming values.
pub struct Copier<'a> {
    /// The source function.
    pub src: &'a Function,
    /// Source value → value in the builder.
    pub map: HashMap<Value, Value>,
}

impl<'a> Copier<'a> {
    /// A copier with an empty map.
    pub fn new(src: &'a Function) -> Self {
        Copier {
            src,
            map: HashMap::new(),
        }
    }
    /// The renamed value.
    pub fn m(&self, v: Value) -> Value {
        *self
            .map
            .get(&v)
            .unwrap_or_else(|| panic!("value {v} used before it was copied"))
    }
    /// Copies the instructions of `blk` (not its parameters) and returns its renamed yields.
    pub fn block(
        &mut self,
        b: &mut FunctionBuilder,
        blk: Block,
        r: &mut dyn Rewrite,
    ) -> Vec<Value> {
        for &i in &self.src.block(blk).insts {
            self.inst(b, i, r);
        }
        self.src
            .block(blk)
            .yields
            .iter()
            .map(|&y| self.m(y))
            .collect()
    }
    /// Copies one instruction (regions recursively).
    pub fn inst(&mut self, b: &mut FunctionBuilder, i: Inst, r: &mut dyn Rewrite) {
        let d = self.src.inst(i);
        let args: Vec<Value> = d.args.iter().map(|&a| self.m(a)).collect();
        let results = match &d.op {
            Op::For { body, rev } => {
                let (h, iv, cs) = b.begin_for(args[0], args[1], &args[2..], *rev);
                let bd = self.src.block(*body);
                self.map.insert(bd.params[0], iv);
                for (&p, c) in bd.params[1..].iter().zip(cs) {
                    self.map.insert(p, c);
                }
                r.enter();
                let ys = self.block(b, *body, r);
                r.exit();
                b.end_for(h, &ys)
            }
            Op::If { then_blk, else_blk } => {
                let tys: Vec<Type> = d.results.iter().map(|&v| self.src.ty(v)).collect();
                let h = b.begin_if(args[0], &tys);
                r.enter();
                let ys = self.block(b, *then_blk, r);
                r.exit();
                b.begin_else(h, &ys);
                r.enter();
                let ys = self.block(b, *else_blk, r);
                r.exit();
                b.end_if(h, &ys)
            }
            _ => match r.inst(b, self.src, d, &args) {
                Some(rs) => rs,
                None => {
                    let tys: Vec<Type> = d.results.iter().map(|&v| self.src.ty(v)).collect();
                    b.emit(d.op.clone(), args, &tys)
                }
            },
        };
        for (&old, new) in d.results.iter().zip(results) {
            self.map.insert(old, new);
        }
    }
}

/// A fresh builder with the parameters of `f`, and a copier mapping them.
pub fn start(f: &Function) -> (FunctionBuilder, Copier<'_>) {
    let mut b = FunctionBuilder::new(f.name.clone());
    let mut c = Copier::new(f);
    for &p in &f.params {
        let np = b.param(f.ty(p));
        c.map.insert(p, np);
    }
    (b, c)
}

/// Rebuilds `f` through the pass `r`.
pub fn rewrite(f: &Function, r: &mut dyn Rewrite) -> Function {
    let (mut b, mut c) = start(f);
    let ys = c.block(&mut b, f.body, r);
    b.finish(&ys)
}

/// The identity pass (copies; compacts the arenas).
pub struct Identity;
impl Rewrite for Identity {}
