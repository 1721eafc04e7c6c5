//! `Var<T>`: a value recorded on a [`Tape`](super::Tape).

use core::cmp::Ordering;
use core::fmt;

use crate::custom::CustomRule;
use crate::lift::Lift;
use crate::real::{Real, Scalar};
use crate::reverse::nodes::Entry;
use crate::reverse::tape::{
    Guard, GuardKind, OpCode, OpRec, is_instrumented, push, push_custom, push_guard,
};
use crate::rules::{Binary, Step, Ternary, Unary};

/// A reverse-mode variable: a value and its slot on a tape.
///
/// Slot 0 means "constant": operations on constants are computed without recording, so
/// constants cost no tape entry. `Var<Dual<f64>>` (forward over reverse) gives Hessian-vector
/// products; `Var<Var<f64>>` gives reverse over reverse.
#[derive(Clone, Copy)]
pub struct Var<T> {
    value: T,
    index: u32,
    tape: u32,
}

#[inline(always)]
fn rec<T: Scalar>(code: OpCode, args: [u32; 3], consts: [T; 3]) -> OpRec<T> {
    OpRec { code, args, consts }
}

impl<T: Scalar> Var<T> {
    pub(crate) fn from_parts(value: T, index: u32, tape: u32) -> Self {
        Var { value, index, tape }
    }
    /// A constant (no tape entry).
    pub fn constant(value: T) -> Self {
        Var {
            value,
            index: 0,
            tape: 0,
        }
    }
    /// The value.
    pub fn val(&self) -> T {
        self.value
    }
    /// The slot on the tape (0 for a constant).
    pub fn index(&self) -> u32 {
        self.index
    }
    /// The id of the tape it was recorded on (meaningless for a constant).
    pub fn tape(&self) -> u32 {
        self.tape
    }
    /// Whether this is a constant (no derivative flows through it).
    pub fn is_constant(&self) -> bool {
        self.index == 0
    }

    #[inline(always)]
    fn tape_of(self, rhs: Self) -> u32 {
        match (self.index, rhs.index) {
            (0, _) => rhs.tape,
            (_, 0) => self.tape,
            _ => {
                assert_eq!(
                    self.tape, rhs.tape,
                    "operation mixes Vars of tape #{} and tape #{}",
                    self.tape, rhs.tape
                );
                self.tape
            }
        }
    }

    #[inline(always)]
    fn unary_node(self, value: T, d: T, code: OpCode, c: T) -> Self {
        let i = push(self.tape, Entry::Unary(self.index, d), value, || {
            rec(code, [self.index, 0, 0], [self.value, c, T::zero()])
        });
        Var {
            value,
            index: i,
            tape: self.tape,
        }
    }

    fn guard(self, other: Self, kind: GuardKind) -> i8 {
        let outcome = kind.outcome(self.value, other.value);
        let tape = match (self.index, other.index) {
            (0, 0) => return outcome,
            (0, _) => other.tape,
            _ => self.tape,
        };
        if is_instrumented::<T>(tape) {
            let guard = Guard {
                lhs: self.index,
                rhs: other.index,
                consts: [self.value, other.value],
                kind,
                outcome,
            };
            push_guard(tape, guard);
        }
        outcome
    }
}

impl<T: Scalar> Lift for Var<T> {
    type Inner = T;
    #[inline(always)]
    fn re(&self) -> T {
        self.value
    }
    #[inline(always)]
    fn from_inner(v: T) -> Self {
        Var::constant(v)
    }
    #[inline(always)]
    fn unary(self, op: Unary) -> Self {
        if self.index == 0 {
            return Var::constant(op.value(self.value));
        }
        let (v, d) = op.rule(self.value);
        self.unary_node(v, d, OpCode::Unary(op), T::zero())
    }
    #[inline(always)]
    fn binary(self, op: Binary, rhs: Self) -> Self {
        if self.index == 0 && rhs.index == 0 {
            return Var::constant(op.value(self.value, rhs.value));
        }
        let tape = self.tape_of(rhs);
        let (v, dx, dy) = op.rule(self.value, rhs.value);
        let (a, b) = (self.index, rhs.index);
        // Sums and differences store no partials (they are ±1).
        let entry = match op {
            Binary::Add => Entry::Add(a, b),
            Binary::Sub => Entry::Sub(a, b),
            _ => Entry::Binary(a, b, dx, dy),
        };
        let i = push(tape, entry, v, || {
            rec(
                OpCode::Binary(op),
                [self.index, rhs.index, 0],
                [self.value, rhs.value, T::zero()],
            )
        });
        Var {
            value: v,
            index: i,
            tape,
        }
    }
    #[inline(always)]
    fn ternary(self, op: Ternary, b: Self, c: Self) -> Self {
        let Ternary::MulAdd = op;
        if self.index == 0 && b.index == 0 && c.index == 0 {
            return Var::constant(op.value(self.value, b.value, c.value));
        }
        let tape = [self, b, c]
            .iter()
            .find(|v| v.index != 0)
            .map_or(0, |v| v.tape);
        for v in [self, b, c] {
            assert!(
                v.index == 0 || v.tape == tape,
                "mul_add mixes Vars of tapes #{} and #{}",
                v.tape,
                tape
            );
        }
        let (v, da, db, dc) = op.rule(self.value, b.value, c.value);
        let consts = [self.value, b.value, c.value];
        let args = [self.index, b.index, c.index];
        // Two parents per node: chain `(a, b)` into an intermediate slot, then add `c`.
        let ab = if self.index == 0 && b.index == 0 {
            0
        } else {
            let n = Entry::Binary(self.index, b.index, da, db);
            push(tape, n, T::zero(), || rec(OpCode::MulAddPart, args, consts))
        };
        let n = Entry::Binary(ab, c.index, T::one(), dc);
        let i = push(tape, n, v, || rec(OpCode::MulAdd, args, consts));
        Var {
            value: v,
            index: i,
            tape,
        }
    }
    #[inline(always)]
    fn step(self, op: Step) -> Self {
        let v = op.value(self.value);
        if self.index != 0 && is_instrumented::<T>(self.tape) {
            // Recorded so that a replay recomputes it; its derivative is zero.
            return self.unary_node(v, T::zero(), OpCode::Step(op), T::zero());
        }
        Var::constant(v)
    }
    #[inline(always)]
    fn add_const(self, c: T) -> Self {
        let v = self.value + c;
        if self.index != 0 && is_instrumented::<T>(self.tape) {
            return self.unary_node(v, T::one(), OpCode::AddConst, c);
        }
        // ∂(x + c)/∂x = 1, so the result can share x's slot: no entry needed.
        Var {
            value: v,
            index: self.index,
            tape: self.tape,
        }
    }
    #[inline(always)]
    fn mul_const(self, c: T) -> Self {
        let v = self.value * c;
        if self.index == 0 {
            return Var::constant(v);
        }
        self.unary_node(v, c, OpCode::MulConst, c)
    }
    #[inline(always)]
    fn div_const(self, c: T) -> Self {
        let v = self.value / c;
        if self.index == 0 {
            return Var::constant(v);
        }
        self.unary_node(v, c.recip(), OpCode::DivConst, c)
    }
}

crate::impl_scalar_via_lift!([T: Scalar] Var<T>);

impl<T: Scalar> Default for Var<T> {
    fn default() -> Self {
        Var::constant(T::default())
    }
}

impl<T: Scalar> PartialEq for Var<T> {
    /// Compares values only (and is guarded on an instrumented tape).
    fn eq(&self, other: &Self) -> bool {
        self.guard(*other, GuardKind::Eq) == 1
    }
}

impl<T: Scalar> PartialOrd for Var<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.guard(*other, GuardKind::Cmp) {
            -1 => Some(Ordering::Less),
            0 => Some(Ordering::Equal),
            1 => Some(Ordering::Greater),
            _ => None,
        }
    }
    fn lt(&self, other: &Self) -> bool {
        self.guard(*other, GuardKind::Lt) == 1
    }
    fn le(&self, other: &Self) -> bool {
        self.guard(*other, GuardKind::Le) == 1
    }
    fn gt(&self, other: &Self) -> bool {
        self.guard(*other, GuardKind::Gt) == 1
    }
    fn ge(&self, other: &Self) -> bool {
        self.guard(*other, GuardKind::Ge) == 1
    }
}

impl<T: Scalar> fmt::Debug for Var<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.index == 0 {
            write!(f, "{:?} (const)", self.value)
        } else {
            write!(
                f,
                "{:?} (%{} on tape #{})",
                self.value, self.index, self.tape
            )
        }
    }
}

/// Records a custom rule's outputs with their dense Jacobian block.
fn record_custom<T: Scalar>(
    name: &str,
    x: &[Var<T>],
    y: Vec<T>,
    jac: Vec<T>,
    active: &[usize],
) -> Vec<Var<T>> {
    if active.is_empty() {
        return y.into_iter().map(Var::constant).collect();
    }
    let tape = x[active[0]].tape;
    for &i in active {
        assert_eq!(
            x[i].tape, tape,
            "custom rule inputs mix tapes #{} and #{}",
            x[i].tape, tape
        );
    }
    let inputs = active.iter().map(|&i| x[i].index).collect();
    let first = push_custom(tape, name, inputs, &y, jac);
    y.into_iter()
        .enumerate()
        .map(|(j, v)| Var {
            value: v,
            index: first + j as u32,
            tape,
        })
        .collect()
}

/// The dense Jacobian rows (outputs) × active columns, by whichever of vjp/jvp needs fewer calls.
fn dense_jacobian<T: Scalar>(
    m: usize,
    n: usize,
    active: &[usize],
    vjp: impl Fn(&[T]) -> Vec<T>,
    jvp: impl Fn(&[T]) -> Vec<T>,
) -> Vec<T> {
    let k = active.len();
    let mut jac = vec![T::zero(); m * k];
    if m <= k {
        for j in 0..m {
            let mut w = vec![T::zero(); m];
            w[j] = T::one();
            let row = vjp(&w);
            assert_eq!(
                row.len(),
                n,
                "custom rule vjp returned {} values for {} inputs",
                row.len(),
                n
            );
            for (c, &i) in active.iter().enumerate() {
                jac[j * k + c] = row[i];
            }
        }
    } else {
        for (c, &i) in active.iter().enumerate() {
            let mut d = vec![T::zero(); n];
            d[i] = T::one();
            let col = jvp(&d);
            assert_eq!(
                col.len(),
                m,
                "custom rule jvp returned {} values for {} outputs",
                col.len(),
                m
            );
            for j in 0..m {
                jac[j * k + c] = col[j];
            }
        }
    }
    jac
}

impl<T: Real<f64>> Real<f64> for Var<T> {
    fn apply_custom<R: CustomRule + ?Sized>(rule: &R, x: &[Self]) -> Vec<Self> {
        let re: Vec<T> = x.iter().map(|v| v.value).collect();
        let y = T::apply_custom(rule, &re);
        let active: Vec<usize> = (0..x.len()).filter(|&i| x[i].index != 0).collect();
        let jac = dense_jacobian(
            y.len(),
            x.len(),
            &active,
            |w| rule.vjp(&re, w),
            |d| rule.jvp(&re, d),
        );
        record_custom(rule.name(), x, y, jac, &active)
    }
}

impl<T: Real<f32>> Real<f32> for Var<T> {
    /// First order in single precision: the Jacobian is computed in `f64` at the primal values.
    fn apply_custom<R: CustomRule + ?Sized>(rule: &R, x: &[Self]) -> Vec<Self> {
        let re: Vec<T> = x.iter().map(|v| v.value).collect();
        let xv: Vec<f64> = x.iter().map(|v| v.value.primal()).collect();
        let y = T::apply_custom(rule, &re);
        let active: Vec<usize> = (0..x.len()).filter(|&i| x[i].index != 0).collect();
        let jac = dense_jacobian::<f64>(
            y.len(),
            x.len(),
            &active,
            |w| rule.vjp(&xv, w),
            |d| rule.jvp(&xv, d),
        );
        record_custom(
            rule.name(),
            x,
            y,
            jac.into_iter().map(T::lit).collect(),
            &active,
        )
    }
}
