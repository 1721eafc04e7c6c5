//! Call inlining: each `call @g(args)` becomes a copy of `g`'s body.
//!
//! Invariant: the result has no `call` and the same semantics; recursion is reported, not
//! looped on.

use crate::builder::FunctionBuilder;
use crate::ir::*;
use crate::rewrite::{Copier, Rewrite};
use crate::transform::TransformError;

struct Inliner<'m> {
    m: &'m Module,
    depth: usize,
    err: Option<TransformError>,
}

impl Rewrite for Inliner<'_> {
    fn inst(
        &mut self,
        b: &mut FunctionBuilder,
        _src: &Function,
        d: &InstData,
        args: &[Value],
    ) -> Option<Vec<Value>> {
        let Op::Call(fid) = d.op else { return None };
        let g = self.m.func(fid);
        if self.depth > 32 {
            self.err = Some(TransformError::Unsupported(format!(
                "@{} is recursive; recursion cannot be inlined",
                g.name
            )));
            return Some(d.results.iter().map(|_| b.const_f64(f64::NAN)).collect());
        }
        let mut c = Copier::new(g);
        for (&p, &a) in g.params.iter().zip(args) {
            c.map.insert(p, a);
        }
        self.depth += 1;
        let ys = c.block(b, g.body, self);
        self.depth -= 1;
        Some(ys)
    }
}

/// Function `id` of `m` with every call inlined (transitively).
pub fn inline_calls(m: &Module, id: FuncId) -> Result<Function, TransformError> {
    let f = m.func(id);
    let mut r = Inliner {
        m,
        depth: 0,
        err: None,
    };
    let out = crate::rewrite::rewrite(f, &mut r);
    match r.err {
        Some(e) => Err(e),
        None => {
            crate::verify::debug_verify(&out, "inline");
            Ok(out)
        }
    }
}
