//! Loop-invariant code motion: a pure operation in a loop body whose arguments are all
//! defined outside the loop moves in front of the loop.
//!
//! Pure operations cannot trap, so hoisting out of a loop that runs zero times is safe. Loads
//! are not hoisted (a store in the loop could change the element). Inner loops are handled
//! first, so an invariant moves as far out as its arguments allow.
//!
//! Invariant: the moved instruction computes the same value on every iteration.

use std::collections::HashSet;

use crate::ir::*;

fn defined_in(f: &Function, b: Block, out: &mut HashSet<Value>) {
    let bd = f.block(b);
    out.extend(bd.params.iter().copied());
    for &i in &bd.insts {
        out.extend(f.inst(i).results.iter().copied());
        for nb in f.inst(i).op.blocks() {
            defined_in(f, nb, out);
        }
    }
}

fn hoist_block(f: &mut Function, b: Block) {
    let insts = f.block(b).insts.clone();
    let mut out = Vec::with_capacity(insts.len());
    for i in insts {
        for nb in f.inst(i).op.blocks() {
            hoist_block(f, nb);
        }
        if let Op::For { body, .. } = f.inst(i).op {
            let mut inside = HashSet::new();
            defined_in(f, body, &mut inside);
            let mut keep = vec![];
            for j in f.block(body).insts.clone() {
                let d = f.inst(j);
                let invariant = d.op.is_pure() && d.args.iter().all(|a| !inside.contains(a));
                if invariant {
                    for r in &d.results {
                        inside.remove(r);
                    }
                    out.push(j);
                } else {
                    keep.push(j);
                }
            }
            f.blocks[body.index()].insts = keep;
        }
        out.push(i);
    }
    f.blocks[b.index()].insts = out;
}

/// Hoists loop invariants in `f`.
pub fn licm(f: &Function) -> Function {
    let mut g = f.clone();
    let body = g.body;
    hoist_block(&mut g, body);
    g
}
