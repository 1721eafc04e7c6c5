//! Dead store elimination: in one block, a store to `buf[i]` that a later store to `buf[i]`
//! (the same index value) overwrites, with nothing between them that may read `buf`, is
//! deleted. What may read it: a load from `buf` at any index (another index value can be the
//! same element), and any region (loop or branch), call or custom rule, which are not looked
//! into.
//!
//! This is the store a zero-filled gradient leaves behind once its fill loop is fused into the
//! loop that accumulates into it ([`crate::DiffOptions::zeroed`]): `buf[i] = 0`, the load of
//! `buf[i]` forwarded ([`super::forward_store`]), then `buf[i] = 0 + v`.
//!
//! Distinct buffers never alias (Rust's `&mut [f64]` rule, and `alloc` is fresh), as in
//! [`super::forward_store`].
//!
//! Invariant: a deleted store's value is never read. (If an instruction between the two
//! stores panicked, the caller could see the buffer without the first store's value; LLVM's
//! own dead store elimination makes the same assumption of the emitted Rust.)

use std::collections::HashSet;

use crate::ir::*;

/// `f` without its overwritten stores.
pub fn dead_store(f: &Function) -> Function {
    let mut f = f.clone();
    let mut dead: HashSet<Inst> = HashSet::new();
    for blk in &f.blocks {
        // (buffer, index) pairs that a later store overwrites before anything may read them
        let mut overwritten: HashSet<(Value, Value)> = HashSet::new();
        for &i in blk.insts.iter().rev() {
            let d = f.inst(i);
            match d.op {
                // (the guard records the pair; it was there already when a later store to
                // the same element comes first in this backward walk)
                Op::Store if !overwritten.insert((d.args[0], d.args[1])) => {
                    dead.insert(i);
                }
                Op::Store => {}
                Op::Load => overwritten.retain(|&(buf, _)| buf != d.args[0]),
                Op::Len => {}
                Op::For { .. } | Op::If { .. } => overwritten.clear(),
                _ if d.args.iter().any(|&a| f.ty(a).is_buf()) => overwritten.clear(),
                _ => {}
            }
        }
    }
    if !dead.is_empty() {
        for blk in &mut f.blocks {
            blk.insts.retain(|i| !dead.contains(i));
        }
    }
    f
}
