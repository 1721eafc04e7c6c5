//! Hoisting of scratch buffers: an `alloc` that the VJP made for a nested loop's checkpoints or
//! cache moves out of the enclosing loops, so it is allocated once instead of once per outer
//! iteration.
//!
//! Legality is the VJP's, not something this pass could prove from the IR alone: a scratch
//! buffer is written by a forward loop and read back by its adjoint loop within one iteration
//! of every enclosing loop, and every element read was written earlier in that same
//! iteration (the forward loop stores each index of its range, the adjoint loop reads the same
//! range). So no iteration observes what an earlier one left in the buffer, and one buffer can
//! serve them all. It is only applied to the values the caller names.
//!
//! The buffer's size must not depend on the loop it leaves: the size and the pure operations
//! that compute it (`select(lo < hi, hi - lo, 0)` of the inner loop's bounds) move along when
//! all their inputs are defined outside that loop; otherwise the `alloc` stays where it is
//! (a triangular loop nest keeps allocating per outer iteration). Moved instructions go right
//! after the last of their inputs defined in the destination block, so they do not end up
//! between two loops that [`crate::opt::fuse`] could otherwise fuse.
//!
//! Invariant: the function computes the same results (every read of a scratch buffer still
//! sees the value its own iteration stored), and its values stay in scope.

use std::collections::{HashMap, HashSet};

use crate::ir::*;

/// Moves the `alloc`s whose results are in `scratch` (and the pure operations computing their
/// sizes) out of every loop their size does not depend on.
pub fn hoist_scratch(f: &mut Function, scratch: &HashSet<Value>) {
    if scratch.is_empty() {
        return;
    }
    let body = f.body;
    hoist_block(f, body, scratch);
}

/// Every value a block defines, nested blocks included.
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

/// The defining instruction of every instruction result in `b` and its nested blocks.
fn defs_in(f: &Function, b: Block, out: &mut HashMap<Value, Inst>) {
    f.walk_block(b, &mut |i| {
        for &r in &f.inst(i).results {
            out.insert(r, i);
        }
    });
}

/// Whether `v` can be computed in front of the loop: defined outside it, or by a pure,
/// region-free instruction inside it whose arguments can. Pushes the instructions to move,
/// arguments first.
fn movable(
    f: &Function,
    v: Value,
    inside: &HashSet<Value>,
    defs: &HashMap<Value, Inst>,
    chain: &mut Vec<Inst>,
) -> bool {
    if !inside.contains(&v) {
        return true;
    }
    let Some(&i) = defs.get(&v) else {
        return false; // a block parameter of the loop (its index or a carried value)
    };
    let d = f.inst(i);
    if !d.op.is_pure() || !d.op.blocks().is_empty() {
        return false;
    }
    for &a in &d.args {
        if !movable(f, a, inside, defs, chain) {
            return false;
        }
    }
    if !chain.contains(&i) {
        chain.push(i);
    }
    true
}

/// Removes `gone` from the instruction lists of `b` and its nested blocks.
fn remove_from(f: &mut Function, b: Block, gone: &HashSet<Inst>) {
    let insts = f.block(b).insts.clone();
    for &i in &insts {
        for nb in f.inst(i).op.blocks() {
            remove_from(f, nb, gone);
        }
    }
    f.blocks[b.index()].insts = insts.into_iter().filter(|i| !gone.contains(i)).collect();
}

/// The instructions of loop `l` (a `for`) that can move in front of it, in an order that
/// defines every value before its use.
fn hoistable(f: &Function, l: Inst, scratch: &HashSet<Value>) -> Vec<Inst> {
    let Op::For { body, .. } = f.inst(l).op else {
        return vec![];
    };
    let mut inside = HashSet::new();
    defined_in(f, body, &mut inside);
    let mut defs = HashMap::new();
    defs_in(f, body, &mut defs);
    let mut allocs = vec![];
    f.walk_block(body, &mut |i| {
        let d = f.inst(i);
        if matches!(d.op, Op::Alloc | Op::Scratch) && scratch.contains(&d.results[0]) {
            allocs.push(i);
        }
    });
    let mut moved = vec![];
    for a in allocs {
        let mut chain = vec![];
        if movable(f, f.inst(a).args[0], &inside, &defs, &mut chain) {
            for i in chain.into_iter().chain([a]) {
                if !moved.contains(&i) {
                    moved.push(i);
                }
            }
        }
    }
    moved
}

fn hoist_block(f: &mut Function, b: Block, scratch: &HashSet<Value>) {
    let insts = f.block(b).insts.clone();
    let mut out: Vec<Inst> = Vec::with_capacity(insts.len());
    for i in insts {
        // Inner regions first, so a buffer moves out as far as its size allows.
        for nb in f.inst(i).op.blocks() {
            hoist_block(f, nb, scratch);
        }
        let moved = hoistable(f, i, scratch);
        if !moved.is_empty() {
            let Op::For { body, .. } = f.inst(i).op else {
                unreachable!("only loops have hoistable instructions")
            };
            let gone: HashSet<Inst> = moved.iter().copied().collect();
            remove_from(f, body, &gone);
            for m in moved {
                // Right after the last input defined in this block (or at its start).
                let args = f.inst(m).args.clone();
                let at = out
                    .iter()
                    .rposition(|&o| f.inst(o).results.iter().any(|r| args.contains(r)))
                    .map_or(0, |p| p + 1);
                out.insert(at, m);
            }
        }
        out.push(i);
    }
    f.blocks[b.index()].insts = out;
}
