//! Finding where a NaN or infinity comes from (JAX's `debug_nans`), in forward and reverse mode.
//!
//! A non-finite gradient is usually born in one primitive (`sqrt` at 0, `ln` of a negative, an
//! `exp` that overflows) and then spreads everywhere. The checks here report that first primitive
//! with its inputs, instead of the NaN that reaches the output.
//!
//! - Forward: [`find_nan_forward`] evaluates the function on [`Checked`], a dual number that
//!   inspects every value and tangent it produces.
//! - Reverse: [`Tape::with_nan_check`](crate::Tape::with_nan_check) inspects every value and
//!   partial derivative as it is recorded; [`gradient_checked`] wraps it.
//!
//! Invariant: the checks are opt-in types and tapes; the ordinary `Dual`, `DualVec` and `Tape`
//! pay nothing for them.

use core::cell::{Cell, RefCell};
use core::cmp::Ordering;
use core::fmt;

use crate::api::ScalarFn;
use crate::custom::CustomRule;
use crate::forward::Dual;
use crate::lift::Lift;
use crate::real::Real;
use crate::reverse::Tape;
use crate::rules::{Binary, Ternary, Unary};

/// The first primitive that produced a non-finite value or derivative.
#[derive(Clone, Debug, PartialEq)]
pub struct NanOrigin {
    /// Position of the operation (tape slot in reverse mode, operation count in forward mode).
    pub index: usize,
    /// The primitive's name (`sqrt`, `ln`, `div`, …).
    pub op: String,
    /// Its input values.
    pub inputs: Vec<f64>,
    /// The value it produced.
    pub value: f64,
    /// Its partial derivatives (reverse) or produced tangent (forward).
    pub partials: Vec<f64>,
    /// `"forward"` or `"reverse"`.
    pub mode: &'static str,
}

impl fmt::Display for NanOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} mode: operation #{} `{}` with inputs {:?} produced value {} and derivative(s) {:?}",
            self.mode, self.index, self.op, self.inputs, self.value, self.partials
        )
    }
}

impl std::error::Error for NanOrigin {}

thread_local! {
    static FIRST: RefCell<Option<NanOrigin>> = const { RefCell::new(None) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

/// A dual number (`f64` value and tangent) that reports the first operation producing a
/// non-finite value or tangent. Used by [`find_nan_forward`].
#[derive(Clone, Copy, Default)]
pub struct Checked {
    /// The value.
    pub re: f64,
    /// The tangent.
    pub eps: f64,
}

impl Checked {
    fn dual(self) -> Dual<f64> {
        Dual::new(self.re, self.eps)
    }

    #[inline]
    fn check(self, op: &str, inputs: &[f64]) -> Self {
        let n = COUNT.with(|c| {
            let n = c.get() + 1;
            c.set(n);
            n
        });
        if !self.re.is_finite() || !self.eps.is_finite() {
            FIRST.with(|f| {
                f.borrow_mut().get_or_insert_with(|| NanOrigin {
                    index: n,
                    op: op.to_string(),
                    inputs: inputs.to_vec(),
                    value: self.re,
                    partials: vec![self.eps],
                    mode: "forward",
                });
            });
        }
        self
    }
}

/// The arithmetic is `Dual<f64>`'s (the same rule-table combination); `Checked` only adds the
/// check of each result.
impl Lift for Checked {
    type Inner = f64;
    fn re(&self) -> f64 {
        self.re
    }
    fn from_inner(v: f64) -> Self {
        Checked { re: v, eps: 0.0 }
    }
    fn unary(self, op: Unary) -> Self {
        Checked::from(self.dual().unary(op)).check(op.name(), &[self.re])
    }
    fn binary(self, op: Binary, rhs: Self) -> Self {
        Checked::from(self.dual().binary(op, rhs.dual())).check(op.name(), &[self.re, rhs.re])
    }
    fn ternary(self, op: Ternary, b: Self, c: Self) -> Self {
        Checked::from(self.dual().ternary(op, b.dual(), c.dual()))
            .check(op.name(), &[self.re, b.re, c.re])
    }
    fn add_const(self, c: f64) -> Self {
        Checked::from(self.dual().add_const(c)).check("add", &[self.re, c])
    }
    fn mul_const(self, c: f64) -> Self {
        Checked::from(self.dual().mul_const(c)).check("mul", &[self.re, c])
    }
    fn div_const(self, c: f64) -> Self {
        Checked::from(self.dual().div_const(c)).check("div", &[self.re, c])
    }
}

impl From<Dual<f64>> for Checked {
    fn from(d: Dual<f64>) -> Self {
        Checked {
            re: d.re,
            eps: d.eps,
        }
    }
}

crate::impl_scalar_via_lift!([] Checked; f64);

impl PartialEq for Checked {
    fn eq(&self, other: &Self) -> bool {
        self.re == other.re
    }
}

impl PartialOrd for Checked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.re.partial_cmp(&other.re)
    }
}

impl fmt::Debug for Checked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} + {:?}ε", self.re, self.eps)
    }
}

impl Real<f64> for Checked {
    fn apply_custom<R: CustomRule + ?Sized>(rule: &R, x: &[Self]) -> Vec<Self> {
        let re: Vec<f64> = x.iter().map(|c| c.re).collect();
        let eps: Vec<f64> = x.iter().map(|c| c.eps).collect();
        let y = rule.eval(&re);
        let dy = rule.jvp(&re, &eps);
        y.into_iter()
            .zip(dy)
            .map(|(re, eps)| Checked { re, eps }.check(rule.name(), &[]))
            .collect()
    }
}

/// Evaluates `f` at `x` in forward mode along `v` and returns the first operation whose value or
/// tangent is not finite, if any.
///
/// # Panics
/// If `v.len() != x.len()`.
///
/// ```
/// use ferrad_core::prelude::*;
/// fn f<T: Real>(x: &[T]) -> T { (x[0] - x[1]).sqrt() + x[0] }
/// let origin = ferrad_core::debug::find_nan_forward(&ferrad_core::scalar_fn!(f), &[1.0, 1.0], &[1.0, 0.0]);
/// assert_eq!(origin.unwrap().op, "sqrt");
/// ```
pub fn find_nan_forward(f: &impl ScalarFn, x: &[f64], v: &[f64]) -> Option<NanOrigin> {
    assert!(
        v.len() == x.len(),
        "find_nan_forward: v has length {} but x has length {}",
        v.len(),
        x.len()
    );
    FIRST.with(|f| f.borrow_mut().take());
    COUNT.with(|c| c.set(0));
    let xs: Vec<Checked> = x
        .iter()
        .zip(v)
        .map(|(&re, &eps)| Checked { re, eps })
        .collect();
    let _ = f.eval(&xs);
    FIRST.with(|f| f.borrow_mut().take())
}

/// The reverse-mode gradient, or the first operation that produced a non-finite value or partial
/// derivative while recording, or a non-finite gradient entry from the sweep.
///
/// ```
/// use ferrad_core::prelude::*;
/// fn f<T: Real>(x: &[T]) -> T { x[0].ln() * x[1] }
/// let f = ferrad_core::scalar_fn!(f);
/// assert!(ferrad_core::debug::gradient_checked(&f, &[2.0, 1.0]).is_ok());
/// let err = ferrad_core::debug::gradient_checked(&f, &[0.0, 1.0]).unwrap_err();
/// assert_eq!((err.op.as_str(), err.inputs[0]), ("ln", 0.0));
/// ```
pub fn gradient_checked(f: &impl ScalarFn, x: &[f64]) -> Result<(f64, Vec<f64>), NanOrigin> {
    let tape = Tape::<f64>::with_nan_check();
    let xs = tape.vars(x);
    let y = f.eval(&xs);
    if let Some(origin) = tape.nan_origin() {
        return Err(origin);
    }
    let g = tape.adjoints_wrt(&[(y, 1.0)], &xs);
    if let Some(i) = g.iter().position(|v| !v.is_finite()) {
        return Err(NanOrigin {
            index: xs[i].index() as usize,
            op: format!("adjoint of input {i}"),
            inputs: vec![x[i]],
            value: y.val(),
            partials: vec![g[i]],
            mode: "reverse",
        });
    }
    Ok((y.val(), g))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct F;
    impl ScalarFn for F {
        fn eval<T: Real>(&self, x: &[T]) -> T {
            let a = x[0] * x[1];
            let b = (a - T::cst(1.0)).ln(); // -inf at a = 1
            a + b * T::cst(0.0)
        }
    }

    #[test]
    fn forward_and_reverse_agree_on_the_origin() {
        let fw = find_nan_forward(&F, &[1.0, 1.0], &[1.0, 1.0]).unwrap();
        let rv = gradient_checked(&F, &[1.0, 1.0]).unwrap_err();
        assert_eq!(fw.op, "ln");
        assert_eq!(rv.op, "ln");
        assert_eq!(fw.inputs, vec![0.0]);
        assert_eq!(rv.inputs, vec![0.0]);
        assert!(find_nan_forward(&F, &[2.0, 1.0], &[1.0, 0.0]).is_none());
        assert!(gradient_checked(&F, &[2.0, 1.0]).is_ok());
    }
}
