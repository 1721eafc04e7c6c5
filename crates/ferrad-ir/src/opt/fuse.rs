//! Loop fusion: two loops over the same range in one block become one loop carrying both
//! sets of values. This is how the forward sweep of a reverse-mode derivative and its adjoint
//! loop become the single loop a person would write.
//!
//! Legality: the second loop must not depend on the first one's results; the instructions
//! between them must be pure (those that do not depend on the first loop move in front of it);
//! a buffer written by one loop and read or written by the other must be indexed by the loop
//! index minus one loop-invariant offset `k`, the same in both loops, so that iteration `i` of
//! each touches element `i - k` alone (`k` is `lo` for the per-iteration caches of a reverse
//! sweep, which fusion then turns into plain values). When the loops run in opposite
//! directions the second one is turned around, which is only done with `reassociate` and when
//! that loop is a reduction: each carried value is used once, by the `add` that produces its
//! next value, and its mutable buffers are indexed by the loop index (minus an offset).
//! Turning it around changes the summation order (the last bits of the sums), as a
//! hand-written fused gradient does.
//!
//! Invariant: without `reassociate` fused code computes bit-identical results.

use std::collections::{HashMap, HashSet};

use ferrad_core::rules::Binary;

use crate::ir::*;

fn all_insts(f: &Function, b: Block) -> Vec<Inst> {
    let mut v = vec![];
    f.walk_block(b, &mut |i| v.push(i));
    v
}

/// Where a loop body accesses a buffer, relative to its index `i`: always at `i - k` for one
/// loop-invariant offset (a constant or a value defined outside the loop), or irregularly
/// (`None`). `i - lo` is how the reverse sweep indexes its per-iteration buffers.
type Access = Option<Offset>;

/// A loop-invariant index offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Offset {
    Const(i64),
    Value(Value),
}

/// The offset `k` when `ix` is `i - k` (or `i`, or `i + c`) for the loop index `i`.
fn offset_of(
    f: &Function,
    body: Block,
    ix: Value,
    defs: &HashMap<Value, Inst>,
    inside: &HashSet<Value>,
) -> Access {
    let i = f.block(body).params[0];
    if ix == i {
        return Some(Offset::Const(0));
    }
    let invariant = |v: Value| -> Access {
        if inside.contains(&v) {
            return None;
        }
        match defs.get(&v).map(|&j| &f.inst(j).op) {
            Some(Op::Const(Const::I64(c))) => Some(Offset::Const(*c)),
            _ => Some(Offset::Value(v)),
        }
    };
    let d = f.inst(*defs.get(&ix)?);
    match (&d.op, d.args.as_slice()) {
        (Op::Int(IntOp::Sub), &[a, k]) if a == i => invariant(k),
        (Op::Int(IntOp::Add), &[a, k]) if a == i => match invariant(k)? {
            Offset::Const(c) => Some(Offset::Const(c.wrapping_neg())),
            Offset::Value(_) => None,
        },
        _ => None,
    }
}

/// Buffers a loop body accesses: (stored, loaded, how each is indexed).
fn mem(f: &Function, body: Block) -> (HashSet<Value>, HashSet<Value>, HashMap<Value, Access>) {
    let mut defs = HashMap::new();
    f.walk(&mut |i| {
        for &r in &f.inst(i).results {
            defs.insert(r, i);
        }
    });
    let mut inside: HashSet<Value> = f.block(body).params.iter().copied().collect();
    f.walk_block(body, &mut |i| {
        inside.extend(f.inst(i).results.iter().copied())
    });
    let (mut st, mut ld, mut acc) = (HashSet::new(), HashSet::new(), HashMap::new());
    let mut access = |buf: Value, a: Access| {
        let e = acc.entry(buf).or_insert(a);
        if *e != a {
            *e = None;
        }
    };
    for i in all_insts(f, body) {
        let d = f.inst(i);
        match d.op {
            Op::Store => {
                st.insert(d.args[0]);
                access(d.args[0], offset_of(f, body, d.args[1], &defs, &inside));
            }
            Op::Load => {
                ld.insert(d.args[0]);
                access(d.args[0], offset_of(f, body, d.args[1], &defs, &inside));
            }
            Op::Call(_) | Op::Custom { .. } => {
                for &a in &d.args {
                    if f.ty(a).is_buf() {
                        st.insert(a);
                        access(a, None);
                    }
                }
            }
            _ => {}
        }
    }
    (st, ld, acc)
}

fn uses(f: &Function, b: Block) -> HashSet<Value> {
    crate::activity::free_values(f, b).into_iter().collect()
}

fn is_reduction(f: &Function, body: Block) -> bool {
    let bd = f.block(body);
    let insts = all_insts(f, body);
    for (k, &p) in bd.params[1..].iter().enumerate() {
        if !f.ty(p).is_float() {
            return false;
        }
        let users: Vec<Inst> = insts
            .iter()
            .copied()
            .filter(|&i| f.inst(i).args.contains(&p))
            .collect();
        let in_yields = bd.yields.iter().filter(|&&y| y == p).count();
        let ok = match (users.as_slice(), in_yields) {
            ([u], 0) => {
                let d = f.inst(*u);
                d.op == Op::Binary(Binary::Add)
                    && d.results[0] == bd.yields[k]
                    && d.args.iter().filter(|&&a| a == p).count() == 1
                    && bd.insts.contains(u)
            }
            ([], 1) => bd.yields[k] == p,
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    let (st, ld, acc) = mem(f, body);
    st.iter()
        .chain(&ld)
        .all(|b| f.ty(*b) != Type::BufMut || acc[b].is_some())
}

fn substitute(f: &mut Function, b: Block, from: Value, to: Value) {
    for i in all_insts(f, b) {
        for a in &mut f.insts[i.index()].args {
            if *a == from {
                *a = to;
            }
        }
        for nb in f.inst(i).op.blocks() {
            for y in &mut f.blocks[nb.index()].yields {
                if *y == from {
                    *y = to;
                }
            }
        }
    }
    for y in &mut f.blocks[b.index()].yields {
        if *y == from {
            *y = to;
        }
    }
}

/// Tries to fuse the loop at position `p` of block `b` with a later loop; true if it did.
fn try_fuse_at(f: &mut Function, b: Block, p: usize, reassociate: bool) -> bool {
    let insts = f.block(b).insts.clone();
    let l1 = insts[p];
    let Op::For { body: b1, rev: r1 } = f.inst(l1).op else {
        return false;
    };
    let mut tainted: HashSet<Value> = f.inst(l1).results.iter().copied().collect();
    let mut between = vec![];
    for (q, &l2) in insts.iter().enumerate().skip(p + 1) {
        let d2 = f.inst(l2).clone();
        if let Op::For { body: b2, rev: r2 } = d2.op {
            let d1 = f.inst(l1).clone();
            let same_range = d1.args[0] == d2.args[0] && d1.args[1] == d2.args[1];
            let independent = !d2.args.iter().any(|a| tainted.contains(a))
                && !uses(f, b2).iter().any(|v| tainted.contains(v));
            let (s1, ld1, acc1) = mem(f, b1);
            let (s2, ld2, acc2) = mem(f, b2);
            // Shared buffers must be accessed at one offset from the index, the same in both
            // loops, so that iteration `i` of each touches the same single element.
            let conflict = s1
                .iter()
                .filter(|x| s2.contains(x) || ld2.contains(x))
                .chain(s2.iter().filter(|x| ld1.contains(x)))
                .any(|x| acc1[x].is_none() || acc1[x] != acc2[x]);
            let direction_ok = r1 == r2 || (reassociate && is_reduction(f, b2));
            if !(same_range && independent && !conflict && direction_ok) {
                return false;
            }
            // Fuse: body2 joins body1.
            let i1 = f.block(b1).params[0];
            let i2 = f.block(b2).params[0];
            substitute(f, b2, i2, i1);
            let bd2 = f.block(b2).clone();
            let bd1 = &mut f.blocks[b1.index()];
            bd1.params.extend_from_slice(&bd2.params[1..]);
            bd1.insts.extend_from_slice(&bd2.insts);
            bd1.yields.extend_from_slice(&bd2.yields);
            let l1d = &mut f.insts[l1.index()];
            l1d.args.extend_from_slice(&d2.args[2..]);
            l1d.results.extend_from_slice(&d2.results);
            // Reorder the block: pure insts independent of L1 go before it.
            let mut new = insts[..p].to_vec();
            new.extend(between.iter().filter(|i: &&(Inst, bool)| !i.1).map(|i| i.0));
            new.push(l1);
            new.extend(between.iter().filter(|i| i.1).map(|i| i.0));
            new.extend_from_slice(&insts[q + 1..]);
            f.blocks[b.index()].insts = new;
            return true;
        }
        if !d2.op.is_pure() {
            return false;
        }
        let dep = d2.args.iter().any(|a| tainted.contains(a));
        if dep {
            tainted.extend(d2.results.iter().copied());
        }
        between.push((l2, dep));
    }
    false
}

fn fuse_block(f: &mut Function, b: Block, reassociate: bool) {
    let mut p = 0;
    while p < f.block(b).insts.len() {
        if !try_fuse_at(f, b, p, reassociate) {
            p += 1;
        }
    }
    for i in f.block(b).insts.clone() {
        for nb in f.inst(i).op.blocks() {
            fuse_block(f, nb, reassociate);
        }
    }
}

/// Fuses adjacent loops over the same range in `f`.
pub fn fuse(f: &Function, reassociate: bool) -> Function {
    let mut g = f.clone();
    let body = g.body;
    fuse_block(&mut g, body, reassociate);
    g
}
