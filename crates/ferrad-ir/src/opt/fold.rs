//! Constant folding: a pure operation whose arguments are all constants becomes a constant,
//! computed by the interpreter ([`eval_pure`]), so folding can never disagree with it;
//! `select` on a constant condition picks its operand.
//!
//! Invariant: bit-identical results (folding evaluates exactly what would run).

use std::collections::HashMap;

use crate::builder::FunctionBuilder;
use crate::interp::{Val, eval_pure};
use crate::ir::*;
use crate::rewrite::{Rewrite, rewrite};

struct Fold {
    consts: HashMap<Value, Val>,
}

fn to_const(v: Val) -> Option<Const> {
    Some(match v {
        Val::F64(x) => Const::F64(x),
        Val::F32(x) => Const::F32(x),
        Val::I64(x) => Const::I64(x),
        Val::Bool(x) => Const::Bool(x),
        Val::Buf(_) => return None,
    })
}

impl Rewrite for Fold {
    fn inst(
        &mut self,
        b: &mut FunctionBuilder,
        src: &Function,
        d: &InstData,
        args: &[Value],
    ) -> Option<Vec<Value>> {
        if !d.op.is_pure() || d.results.len() != 1 {
            return None;
        }
        let ty = src.ty(d.results[0]);
        if d.op == Op::Select
            && let Some(Val::Bool(c)) = self.consts.get(&args[0])
        {
            return Some(vec![if *c { args[1] } else { args[2] }]);
        }
        let vals: Option<Vec<Val>> = args.iter().map(|a| self.consts.get(a).copied()).collect();
        let v = eval_pure(&d.op, &vals?, ty)?;
        let c = to_const(v)?;
        let r = b.constant(c);
        self.consts.insert(r, v);
        Some(vec![r])
    }
}

/// Folds constants in `f`.
pub fn fold(f: &Function) -> Function {
    rewrite(
        f,
        &mut Fold {
            consts: HashMap::new(),
        },
    )
}
