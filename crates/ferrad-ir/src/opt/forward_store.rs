//! Store→load forwarding: in one block, a load of `buf[i]` after a store to (or a load of)
//! `buf[i]` with the same index value, and no intervening store to `buf` or region, uses the
//! known value instead of reading memory.
//!
//! Distinct buffers never alias (Rust's `&mut [f64]` rule, and `alloc` is fresh), so a store
//! to one buffer leaves what is known about the others.
//!
//! Invariant: a forwarded load would have read exactly the forwarded value.

use std::collections::HashMap;

use crate::builder::FunctionBuilder;
use crate::ir::*;
use crate::rewrite::{Rewrite, rewrite};

struct Forward {
    known: Vec<HashMap<(Value, Value), Value>>,
}

impl Rewrite for Forward {
    fn inst(
        &mut self,
        b: &mut FunctionBuilder,
        _src: &Function,
        d: &InstData,
        args: &[Value],
    ) -> Option<Vec<Value>> {
        let known = self.known.last_mut().expect("scope");
        match d.op {
            Op::Load => {
                if let Some(&v) = known.get(&(args[0], args[1])) {
                    return Some(vec![v]);
                }
                let v = b.load(args[0], args[1]);
                known.insert((args[0], args[1]), v);
                Some(vec![v])
            }
            Op::Store => {
                known.retain(|k, _| k.0 != args[0]);
                b.store(args[0], args[1], args[2]);
                known.insert((args[0], args[1]), args[2]);
                Some(vec![])
            }
            Op::Call(_) => {
                known.clear();
                None
            }
            _ => None,
        }
    }
    fn enter(&mut self) {
        self.known.push(HashMap::new());
    }
    fn exit(&mut self) {
        self.known.pop();
        // The region may have stored anything.
        if let Some(k) = self.known.last_mut() {
            k.clear();
        }
    }
}

/// Forwards stores to loads in `f`.
pub fn forward_store(f: &Function) -> Function {
    rewrite(
        f,
        &mut Forward {
            known: vec![HashMap::new()],
        },
    )
}
