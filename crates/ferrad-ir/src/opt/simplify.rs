//! Algebraic simplification under a [`FloatPolicy`] (see [`crate::opt`] for what each allows).
//!
//! Rules: `x*1`, `1*x`, `x/1 → x`; `1/x → recip x`; `x*-1`, `x/-1 → -x`; `x-0`, `x+-0 → x`; `--x → x`;
//! `select(c, a, a) → a`; `select(0 < len, len, 0) → len`; `powi(x, 1) → x`; `powi(x, 2) → x*x`; `mul_add(1, b, c) → b + c`; integer `x+0`, `x-0`,
//! `x*1`; with signed zeros allowed: `x+0 → x`, `0-x → -x`, `mul_add(a, b, 0) → a*b`; with
//! finite math: `x*0 → 0`, `x-x → 0`.
//!
//! Invariant: each rewrite is exact under the policy it is gated on.

use std::collections::HashMap;

use ferrad_core::rules::{Binary, Ternary, Unary};

use super::FloatPolicy;
use crate::builder::FunctionBuilder;
use crate::ir::*;
use crate::rewrite::{Rewrite, rewrite};

struct Simplify {
    policy: FloatPolicy,
    defs: HashMap<Value, (Op, Vec<Value>)>,
}

impl Simplify {
    fn fconst(&self, v: Value) -> Option<f64> {
        match self.defs.get(&v) {
            Some((Op::Const(c), _)) => c.as_f64(),
            _ => None,
        }
    }
    fn iconst(&self, v: Value) -> Option<i64> {
        match self.defs.get(&v) {
            Some((Op::Const(Const::I64(i)), _)) => Some(*i),
            _ => None,
        }
    }
    fn is(&self, v: Value, x: f64) -> bool {
        self.fconst(v)
            .is_some_and(|c| c == x && c.is_sign_negative() == x.is_sign_negative())
    }
    fn zero(&self, v: Value) -> bool {
        self.fconst(v) == Some(0.0)
    }

    fn try_simplify(&mut self, b: &mut FunctionBuilder, op: &Op, a: &[Value]) -> Option<Value> {
        let nsz = self.policy != FloatPolicy::Exact;
        let finite = self.policy == FloatPolicy::Finite;
        match op {
            Op::Binary(Binary::Mul) => {
                if self.is(a[1], 1.0) {
                    return Some(a[0]);
                }
                if self.is(a[0], 1.0) {
                    return Some(a[1]);
                }
                if self.is(a[1], -1.0) {
                    return Some(b.unary(Unary::Neg, a[0]));
                }
                if self.is(a[0], -1.0) {
                    return Some(b.unary(Unary::Neg, a[1]));
                }
                if finite && (self.zero(a[0]) || self.zero(a[1])) {
                    let t = b.ty(a[0]);
                    return Some(b.const_float(t, 0.0));
                }
            }
            Op::Binary(Binary::Div) => {
                if self.is(a[1], 1.0) {
                    return Some(a[0]);
                }
                // `recip` is defined as `1 / y`; one spelling lets CSE merge a quotient with
                // the `recip` of the same divisor that a derivative rule computes (a sigmoid
                // `1 / (e + 1)` and its partial: one division instead of two).
                if self.is(a[0], 1.0) {
                    return Some(b.unary(Unary::Recip, a[1]));
                }
                if self.is(a[1], -1.0) {
                    return Some(b.unary(Unary::Neg, a[0]));
                }
            }
            Op::Binary(Binary::Add) => {
                if self.is(a[1], -0.0) || (nsz && self.zero(a[1])) {
                    return Some(a[0]);
                }
                if self.is(a[0], -0.0) || (nsz && self.zero(a[0])) {
                    return Some(a[1]);
                }
            }
            Op::Binary(Binary::Sub) => {
                if self.is(a[1], 0.0) || (nsz && self.zero(a[1])) {
                    return Some(a[0]);
                }
                if nsz && self.zero(a[0]) {
                    return Some(b.unary(Unary::Neg, a[1]));
                }
                if finite && a[0] == a[1] {
                    let t = b.ty(a[0]);
                    return Some(b.const_float(t, 0.0));
                }
            }
            Op::Unary(Unary::Neg) => {
                if let Some((Op::Unary(Unary::Neg), inner)) = self.defs.get(&a[0]) {
                    return Some(inner[0]);
                }
            }
            Op::Unary(Unary::Powi(1)) => return Some(a[0]),
            // `powi` multiplies by repeated squaring, so `powi(x, 2)` is exactly `x * x`.
            Op::Unary(Unary::Powi(2)) => return Some(b.mul(a[0], a[0])),
            Op::Ternary(Ternary::MulAdd) => {
                if self.is(a[0], 1.0) {
                    return Some(b.add(a[1], a[2]));
                }
                if self.is(a[1], 1.0) {
                    return Some(b.add(a[0], a[2]));
                }
                if nsz && self.zero(a[2]) {
                    return Some(b.mul(a[0], a[1]));
                }
            }
            Op::Select if a[1] == a[2] => return Some(a[1]),
            // `if 0 < n { n } else { 0 }` for a length `n` (never negative) is `n`.
            Op::Select
                if self.iconst(a[2]) == Some(0)
                    && matches!(self.defs.get(&a[1]), Some((Op::Len, _)))
                    && matches!(self.defs.get(&a[0]), Some((Op::Cmp(CmpOp::Lt), c)) if self.iconst(c[0]) == Some(0) && c[1] == a[1]) =>
            {
                return Some(a[1]);
            }
            Op::Int(IntOp::Add) => {
                if self.iconst(a[1]) == Some(0) {
                    return Some(a[0]);
                }
                if self.iconst(a[0]) == Some(0) {
                    return Some(a[1]);
                }
            }
            Op::Int(IntOp::Sub) if self.iconst(a[1]) == Some(0) => return Some(a[0]),
            Op::Int(IntOp::Mul) => {
                if self.iconst(a[1]) == Some(1) {
                    return Some(a[0]);
                }
                if self.iconst(a[0]) == Some(1) {
                    return Some(a[1]);
                }
            }
            _ => {}
        }
        None
    }
}

impl Rewrite for Simplify {
    fn inst(
        &mut self,
        b: &mut FunctionBuilder,
        src: &Function,
        d: &InstData,
        args: &[Value],
    ) -> Option<Vec<Value>> {
        if d.op.is_pure()
            && d.results.len() == 1
            && let Some(v) = self.try_simplify(b, &d.op, args)
        {
            return Some(vec![v]);
        }
        let tys: Vec<Type> = d.results.iter().map(|&r| src.ty(r)).collect();
        let rs = b.emit(d.op.clone(), args.to_vec(), &tys);
        if rs.len() == 1 {
            self.defs.insert(rs[0], (d.op.clone(), args.to_vec()));
        }
        Some(rs)
    }
}

/// Simplifies `f` under `policy`.
pub fn simplify(f: &Function, policy: FloatPolicy) -> Function {
    rewrite(
        f,
        &mut Simplify {
            policy,
            defs: HashMap::new(),
        },
    )
}
