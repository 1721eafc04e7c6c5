//! The cost model behind [`CachePolicy::Auto`](super::vjp::CachePolicy::Auto): what a loop-body
//! value costs to recompute, against what it costs to store it for the adjoint loop.
//!
//! Units are one floating-point add or multiply on data already in registers. A cached value
//! costs a store in the forward loop, a load in the adjoint loop and 8 bytes per iteration of
//! memory traffic (the buffer is usually too large for L1 when the loop is long enough to
//! matter); that is [`CACHE_COST`]. A value is cached when recomputing it costs more.
//!
//! The estimates are coarse on purpose and fixed (the policy must be deterministic, so the
//! same source always compiles to the same code): adds, multiplies, fused multiply-adds,
//! comparisons, selects, casts and loads from read-only buffers are 1; division, reciprocal
//! and square root, which the hardware pipelines at a few cycles per element, are 4; `powi`
//! is its multiplications (plus a division for a negative exponent); everything that is a
//! libm call or a polynomial approximation in `ferrad::math` (exp, ln, sin, cos, tan, tanh,
//! the inverse and hyperbolic functions, cbrt, powf, atan2, hypot, rem) is 20; an opaque
//! custom rule is unbounded. So transcendentals are stored and arithmetic is recomputed.
//! (The VJP adds one refinement that needs activity: `sin`/`cos` of a differentiated argument
//! are recomputed, since their partial is the partner function of the same argument.)

use ferrad_core::rules::{Binary, Unary};

use crate::ir::Op;

/// What storing one value per iteration and reading it back costs, in the units of
/// [`recompute_cost`].
pub const CACHE_COST: u32 = 8;

/// The cost of a libm call or an inline polynomial approximation.
const TRANSCENDENTAL: u32 = 20;

/// The cost of a division or square root (pipelined, a few cycles per element).
const DIVIDE: u32 = 4;

/// The estimated cost of evaluating `op` once more, in adds; `u32::MAX` for opaque calls.
/// Region and memory-writing operations (`for`, `if`, `store`, `alloc`, `call`) are never
/// cached and report `u32::MAX` so that nobody mistakes them for cheap.
pub fn recompute_cost(op: &Op) -> u32 {
    match op {
        Op::Const(_) => 0,
        Op::Int(_) | Op::Cmp(_) | Op::IsNan | Op::Select | Op::Cast | Op::Len | Op::Load => 1,
        Op::Ternary(_) => 1,
        Op::Unary(u) => match u {
            Unary::Neg | Unary::Abs => 1,
            Unary::Recip | Unary::Sqrt => DIVIDE,
            Unary::Powi(n) => powi_cost(*n),
            _ => TRANSCENDENTAL,
        },
        Op::Binary(b) => match b {
            Binary::Add | Binary::Sub | Binary::Mul | Binary::Min | Binary::Max => 1,
            Binary::Div => DIVIDE,
            Binary::Rem | Binary::Powf | Binary::Atan2 | Binary::Hypot => TRANSCENDENTAL,
        },
        Op::Custom { .. } => u32::MAX,
        Op::Store | Op::Alloc | Op::Scratch | Op::For { .. } | Op::If { .. } | Op::Call(_) => {
            u32::MAX
        }
    }
}

/// `x.powi(n)` by repeated squaring: one multiplication per bit of `|n|` and one per set bit,
/// and a division for a negative exponent.
fn powi_cost(n: i32) -> u32 {
    let m = n.unsigned_abs();
    let bits = u32::BITS - m.leading_zeros();
    let muls = bits.saturating_sub(1) + m.count_ones().saturating_sub(1);
    muls + if n < 0 { DIVIDE } else { 0 }
}

/// Whether [`CachePolicy::Auto`](super::vjp::CachePolicy::Auto) stores the result of `op`.
pub fn worth_caching(op: &Op) -> bool {
    recompute_cost(op) > CACHE_COST
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcendentals_are_cached_and_arithmetic_is_not() {
        for u in [Unary::Exp, Unary::Ln, Unary::Tanh, Unary::Sin, Unary::Cos] {
            assert!(worth_caching(&Op::Unary(u)), "{u:?}");
        }
        assert!(worth_caching(&Op::Binary(Binary::Powf)));
        assert!(worth_caching(&Op::Custom {
            name: "r".into(),
            kind: crate::ir::CustomKind::Eval
        }));
        for op in [
            Op::Binary(Binary::Add),
            Op::Binary(Binary::Mul),
            Op::Binary(Binary::Div),
            Op::Unary(Unary::Sqrt),
            Op::Unary(Unary::Neg),
            Op::Unary(Unary::Powi(3)),
            Op::Unary(Unary::Powi(-2)),
            Op::Load,
        ] {
            assert!(!worth_caching(&op), "{op:?}");
        }
        assert_eq!(powi_cost(1), 0);
        assert_eq!(powi_cost(2), 1);
        assert_eq!(powi_cost(3), 2);
        assert_eq!(powi_cost(8), 3);
        assert_eq!(powi_cost(-1), DIVIDE);
        assert!(worth_caching(&Op::Unary(Unary::Powi(1023))));
    }
}
