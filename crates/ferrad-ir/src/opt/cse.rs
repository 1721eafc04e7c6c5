//! Common subexpression elimination (global value numbering over the region tree).
//!
//! A pure operation with the same op and arguments as one already available in an enclosing
//! scope reuses its results; `add`, `mul`, `min`, `max`, `hypot`, integer `iadd`/`imul` and
//! `eq`/`ne` are keyed with sorted operands. Tables are scoped: a value computed inside a loop
//! body or an `if` arm is not reused after it.
//!
//! Invariant: only pure operations are merged, and only with a dominating equal one.

use std::collections::HashMap;

use ferrad_core::rules::Binary;

use crate::builder::FunctionBuilder;
use crate::ir::*;
use crate::rewrite::{Rewrite, rewrite};

/// Op and (normalized) arguments → results.
type Table = HashMap<(Op, Vec<Value>), Vec<Value>>;

struct Cse {
    scopes: Vec<Table>,
}

fn commutative(op: &Op) -> bool {
    matches!(
        op,
        Op::Binary(Binary::Add | Binary::Mul | Binary::Min | Binary::Max | Binary::Hypot)
            | Op::Int(IntOp::Add | IntOp::Mul)
            | Op::Cmp(CmpOp::Eq | CmpOp::Ne)
    )
}

impl Rewrite for Cse {
    fn inst(
        &mut self,
        b: &mut FunctionBuilder,
        src: &Function,
        d: &InstData,
        args: &[Value],
    ) -> Option<Vec<Value>> {
        if !d.op.is_pure() {
            return None;
        }
        let mut key_args = args.to_vec();
        if commutative(&d.op) {
            key_args.sort();
        }
        let key = (d.op.clone(), key_args);
        for s in self.scopes.iter().rev() {
            if let Some(rs) = s.get(&key) {
                return Some(rs.clone());
            }
        }
        let tys: Vec<Type> = d.results.iter().map(|&r| src.ty(r)).collect();
        let rs = b.emit(d.op.clone(), args.to_vec(), &tys);
        self.scopes
            .last_mut()
            .expect("scope")
            .insert(key, rs.clone());
        Some(rs)
    }
    fn enter(&mut self) {
        self.scopes.push(HashMap::new());
    }
    fn exit(&mut self) {
        self.scopes.pop();
    }
}

/// Merges common subexpressions of `f`.
pub fn cse(f: &Function) -> Function {
    rewrite(
        f,
        &mut Cse {
            scopes: vec![HashMap::new()],
        },
    )
}
