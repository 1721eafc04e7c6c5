//! `Var<T>`: a value recorded on a [`Tape`](super::Tape).

use core::cmp::Ordering;
use core::fmt;

use crate::custom::CustomRule;
use crate::lift::Lift;
use crate::real::{Real, Scalar};
use crate::reverse::tape::{Node, push, push_custom};
use crate::rules::{Binary, Ternary, Unary};

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

impl<T: Scalar> Var<T> {
    pub(crate) fn from_parts(value: T, index: u32, tape: u32) -> Self {
        Var { value, index, tape }
    }
    /// A constant (no tape entry).
    pub fn constant(value: T) -> Self {
        Var { value, index: 0, tape: 0 }
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
        let i = push(self.tape, Node { a: self.index, b: 0, da: d, db: T::zero() });
        Var { value: v, index: i, tape: self.tape }
    }
    #[inline(always)]
    fn binary(self, op: Binary, rhs: Self) -> Self {
        if self.index == 0 && rhs.index == 0 {
            return Var::constant(op.value(self.value, rhs.value));
        }
        let tape = self.tape_of(rhs);
        let (v, dx, dy) = op.rule(self.value, rhs.value);
        let i = push(tape, Node { a: self.index, b: rhs.index, da: dx, db: dy });
        Var { value: v, index: i, tape }
    }
    #[inline(always)]
    fn ternary(self, op: Ternary, b: Self, c: Self) -> Self {
        if self.index == 0 && b.index == 0 && c.index == 0 {
            return Var::constant(op.value(self.value, b.value, c.value));
        }
        let tape = self.tape_of(b).max(c.tape_of(self));
        let (v, da, db, dc) = op.rule(self.value, b.value, c.value);
        // Two parents per node: chain `(a, b)` into an intermediate slot, then add `c`.
        let ab = if self.index == 0 && b.index == 0 {
            0
        } else {
            push(tape, Node { a: self.index, b: b.index, da, db })
        };
        let i = push(tape, Node { a: ab, b: c.index, da: T::one(), db: dc });
        Var { value: v, index: i, tape }
    }
    #[inline(always)]
    fn add_const(self, c: T) -> Self {
        // ∂(x + c)/∂x = 1, so the result can share x's slot: no entry needed.
        Var { value: self.value + c, index: self.index, tape: self.tape }
    }
    #[inline(always)]
    fn mul_const(self, c: T) -> Self {
        if self.index == 0 {
            return Var::constant(self.value * c);
        }
        let i = push(self.tape, Node { a: self.index, b: 0, da: c, db: T::zero() });
        Var { value: self.value * c, index: i, tape: self.tape }
    }
    #[inline(always)]
    fn div_const(self, c: T) -> Self {
        if self.index == 0 {
            return Var::constant(self.value / c);
        }
        let i = push(self.tape, Node { a: self.index, b: 0, da: c.recip(), db: T::zero() });
        Var { value: self.value / c, index: i, tape: self.tape }
    }
}

crate::impl_scalar_via_lift!([T: Scalar] Var<T>);

impl<T: Scalar> Default for Var<T> {
    fn default() -> Self {
        Var::constant(T::default())
    }
}

impl<T: Scalar> PartialEq for Var<T> {
    /// Compares values only.
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Scalar> PartialOrd for Var<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.value.partial_cmp(&other.value)
    }
}

impl<T: Scalar> fmt::Debug for Var<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.index == 0 {
            write!(f, "{:?} (const)", self.value)
        } else {
            write!(f, "{:?} (%{} on tape #{})", self.value, self.index, self.tape)
        }
    }
}

/// Records a custom rule's outputs with a dense Jacobian computed by `jac(row_or_col)`.
fn record_custom<T: Scalar>(x: &[Var<T>], y: Vec<T>, jac: Vec<T>, active: &[usize]) -> Vec<Var<T>> {
    if active.is_empty() {
        return y.into_iter().map(Var::constant).collect();
    }
    let tape = x[active[0]].tape;
    for &i in active {
        assert_eq!(x[i].tape, tape, "custom rule inputs mix tapes #{} and #{}", x[i].tape, tape);
    }
    let inputs = active.iter().map(|&i| x[i].index).collect();
    let first = push_custom(tape, inputs, y.len(), jac);
    y.into_iter()
        .enumerate()
        .map(|(j, v)| Var { value: v, index: first + j as u32, tape })
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
            assert_eq!(row.len(), n, "custom rule vjp returned {} values for {} inputs", row.len(), n);
            for (c, &i) in active.iter().enumerate() {
                jac[j * k + c] = row[i];
            }
        }
    } else {
        for (c, &i) in active.iter().enumerate() {
            let mut d = vec![T::zero(); n];
            d[i] = T::one();
            let col = jvp(&d);
            assert_eq!(col.len(), m, "custom rule jvp returned {} values for {} outputs", col.len(), m);
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
        let jac = dense_jacobian(y.len(), x.len(), &active, |w| rule.vjp(&re, w), |d| rule.jvp(&re, d));
        record_custom(x, y, jac, &active)
    }
}

impl<T: Real<f32>> Real<f32> for Var<T> {
    /// First order in single precision: the Jacobian is computed in `f64` at the primal values.
    fn apply_custom<R: CustomRule + ?Sized>(rule: &R, x: &[Self]) -> Vec<Self> {
        let re: Vec<T> = x.iter().map(|v| v.value).collect();
        let xv: Vec<f64> = x.iter().map(|v| v.value.primal()).collect();
        let y = T::apply_custom(rule, &re);
        let active: Vec<usize> = (0..x.len()).filter(|&i| x[i].index != 0).collect();
        let jac = dense_jacobian::<f64>(y.len(), x.len(), &active, |w| rule.vjp(&xv, w), |d| rule.jvp(&xv, d));
        record_custom(x, y, jac.into_iter().map(T::lit).collect(), &active)
    }
}
