//! Mixed-precision reverse mode: a tape that stores its partial derivatives in half precision
//! (`f16` or `bf16`, from the `half` crate) and computes values and adjoints in `f32`.
//!
//! A reverse-mode tape is memory-bound: the backward sweep reads every recorded partial once.
//! [`HalfTape<H>`] records each elementary operation as a 12-byte node (two `u32` parent slots and
//! two partials of type `H`) instead of the 24 bytes of a `Tape<f64>` node, halving the memory and
//! the bandwidth of the sweep. Values are computed in `f32` and the partials come from the same rule
//! table as every other mode (`op.rule::<f32>(..)`), rounded once when stored; the sweep widens
//! each partial back to `f32` and accumulates adjoints in `f32`.
//!
//! The price is accuracy. Each stored partial carries a relative error of at most the unit
//! roundoff `u` of `H` (`2⁻¹¹ ≈ 4.9e-4` for `f16`, `2⁻⁸ ≈ 3.9e-3` for `bf16`), so an adjoint
//! path through `k` recorded operations is off by at most `(1 + u)ᵏ − 1 ≈ k·u` relative, and a
//! gradient entry summing paths `pⱼ` is off by at most `≈ Σⱼ kⱼ·u·|pⱼ|` — cancelling paths can
//! make its relative error larger. `f16` also has a narrow range (`|x| ≤ 65504`, normal above
//! `6.1e-5`): partials beyond it become `±inf` or lose digits, which `bf16` (the `f32` range)
//! avoids. Use it where a gradient to three (f16) or two (bf16) digits is enough and memory is not.
//!
//! Generic code written against `Real<f32>` runs unchanged on [`HVar<H>`]:
//!
//! ```
//! use ferrad_core::prelude::*;
//! use ferrad_core::mixed::{self, ScalarFn32};
//! struct R;
//! impl ScalarFn32 for R {
//!     fn eval<T: Real<f32>>(&self, x: &[T]) -> T {
//!         x.iter().map(|&v| v.tanh().powi(3) + v * v).sum()
//!     }
//! }
//! let x: Vec<f32> = (1..=50).map(|i| (i as f32).sin()).collect();
//! let (y, g, stats) = mixed::gradient_f16(&R, &x);
//! assert!((y - 25.123198).abs() < 1e-3);
//! assert!((g[0] - 2.430488).abs() < 3e-3);
//! assert_eq!(stats.bytes_per_entry, 12);
//! ```
//!
//! Invariant: values and adjoints are `f32` throughout; only the recorded partials are rounded to
//! `H`, once each, so the sweep's error is the sum of those roundings and `f32` arithmetic.

use core::cmp::Ordering;
use core::fmt;
use core::marker::PhantomData;

use crate::custom::CustomRule;
use crate::lift::Lift;
use num_traits::{Float, One, Zero};

use crate::real::{Real, Scalar};
use crate::reverse::registry::{self, Recording};
use crate::rules::{Binary, Ternary, Unary};

/// The storage type of a [`HalfTape`]'s partials: a float that converts to and from `f32`.
pub trait Storage: Copy + fmt::Debug + Default + 'static {
    /// The type values are computed in: `f32` for every storage type here.
    ///
    /// It is an associated type rather than a fixed `f32` so that [`HVar<H>`]'s operator impls
    /// (derived by [`impl_scalar_via_lift!`](crate::impl_scalar_via_lift), including the
    /// unusable `f64` ones) stay generic in `H`.
    type Value: Real<f32>;
    /// The type's name in reports (`f16`, `bf16`, `f32`).
    const NAME: &'static str;
    /// The unit roundoff: the largest relative error of rounding a normal `f32` to this type.
    const UNIT_ROUNDOFF: f64;
    /// Rounds a partial to nearest.
    fn store(v: Self::Value) -> Self;
    /// Widens a stored partial exactly.
    fn load(self) -> f32;
}

impl Storage for half::f16 {
    type Value = f32;
    const NAME: &'static str = "f16";
    const UNIT_ROUNDOFF: f64 = 1.0 / 2048.0;
    #[inline(always)]
    fn store(v: f32) -> Self {
        half::f16::from_f32(v)
    }
    #[inline(always)]
    fn load(self) -> f32 {
        half::f16::to_f32(self)
    }
}

impl Storage for half::bf16 {
    type Value = f32;
    const NAME: &'static str = "bf16";
    const UNIT_ROUNDOFF: f64 = 1.0 / 256.0;
    #[inline(always)]
    fn store(v: f32) -> Self {
        half::bf16::from_f32(v)
    }
    #[inline(always)]
    fn load(self) -> f32 {
        half::bf16::to_f32(self)
    }
}

/// `f32` storage: the same tape without compression, as a reference.
impl Storage for f32 {
    type Value = f32;
    const NAME: &'static str = "f32";
    const UNIT_ROUNDOFF: f64 = f32::EPSILON as f64 / 2.0;
    #[inline(always)]
    fn store(v: f32) -> Self {
        v
    }
    #[inline(always)]
    fn load(self) -> f32 {
        self
    }
}

/// One recorded operation: `∂self/∂a = da`, `∂self/∂b = db`, partials in storage precision.
#[derive(Clone, Copy, Debug)]
struct HNode<H> {
    a: u32,
    b: u32,
    da: H,
    db: H,
}

/// A half tape's nodes, kept in the registry every tape shares (`crate::reverse::registry`).
struct HNodes<H>(Vec<HNode<H>>);

impl<H: Storage> Recording for HNodes<H> {
    fn variable() -> String {
        format!("HVar<{}>", H::NAME)
    }
}

fn with_nodes<H: Storage, R>(tape: u32, f: impl FnOnce(&mut Vec<HNode<H>>) -> R) -> R {
    registry::with(tape, |d: &mut HNodes<H>| f(&mut d.0))
}

#[inline]
fn push<H: Storage>(tape: u32, a: u32, b: u32, da: H::Value, db: H::Value) -> u32 {
    registry::with_fast(tape, |d: &mut HNodes<H>| {
        let nodes = &mut d.0;
        let i = nodes.len();
        assert!(
            i < u32::MAX as usize,
            "half tape #{tape} is full (2^32 entries)"
        );
        nodes.push(HNode {
            a,
            b,
            da: H::store(da),
            db: H::store(db),
        });
        i as u32
    })
}

/// Size of a [`HalfTape`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryStats {
    /// The partials' storage type (`f16`, `bf16`, `f32`).
    pub storage: &'static str,
    /// Recorded inputs and operations.
    pub entries: usize,
    /// Bytes per entry: two `u32` parents and two partials.
    pub bytes_per_entry: usize,
    /// `entries × bytes_per_entry`.
    pub bytes: usize,
    /// Bytes of the `f32` adjoint vector a sweep allocates.
    pub adjoint_bytes: usize,
}

/// A tape whose partials are stored in `H` (`half::f16`, `half::bf16`, or `f32`), with values and
/// adjoints in `f32`. The guard owns the recording, as [`crate::Tape`] does.
///
/// ```
/// use ferrad_core::prelude::*;
/// use ferrad_core::mixed::HalfTape;
/// let tape = HalfTape::<half::bf16>::new();
/// let x = tape.var(3.0);
/// let y = tape.var(2.0);
/// let z = x * y + x.sin();
/// let g = tape.adjoints_wrt(&[(z, 1.0)], &[x, y]);
/// assert!((g[0] - (2.0 + 3f32.cos())).abs() < 2.0 * 3.0 / 256.0);
/// assert_eq!(g[1], 3.0); // 3 is exact in bf16
/// assert_eq!(tape.stats().bytes_per_entry, 12);
/// ```
pub struct HalfTape<H: Storage> {
    id: u32,
    // Not Send: the recording lives in this thread's storage.
    _marker: PhantomData<(H, *const ())>,
}

impl<H: Storage> Default for HalfTape<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H: Storage> HalfTape<H> {
    /// Starts a new, empty tape on this thread.
    pub fn new() -> Self {
        // Slot 0 is the sink for constant parents.
        let nodes: Vec<HNode<H>> = vec![HNode {
            a: 0,
            b: 0,
            da: H::default(),
            db: H::default(),
        }];
        let id = registry::register(Box::new(HNodes(nodes)));
        HalfTape {
            id,
            _marker: PhantomData,
        }
    }

    /// A new independent variable with value `v`.
    pub fn var(&self, v: H::Value) -> HVar<H> {
        let i = push::<H>(self.id, 0, 0, H::Value::zero(), H::Value::zero());
        HVar {
            value: v,
            index: i,
            tape: self.id,
            _storage: PhantomData,
        }
    }

    /// One independent variable per value.
    pub fn vars(&self, values: &[H::Value]) -> Vec<HVar<H>> {
        values.iter().map(|&v| self.var(v)).collect()
    }

    /// Entries and bytes recorded so far.
    pub fn stats(&self) -> MemoryStats {
        let entries = with_nodes(self.id, |n: &mut Vec<HNode<H>>| n.len() - 1);
        let bytes_per_entry = core::mem::size_of::<HNode<H>>();
        MemoryStats {
            storage: H::NAME,
            entries,
            bytes_per_entry,
            bytes: entries * bytes_per_entry,
            adjoint_bytes: (entries + 1) * core::mem::size_of::<f32>(),
        }
    }

    /// The adjoints of `xs` for the weighted outputs `Σ wᵢ·yᵢ`, accumulated in `f32`.
    pub fn adjoints_wrt(&self, seeds: &[(HVar<H>, f32)], xs: &[HVar<H>]) -> Vec<f32> {
        with_nodes(self.id, |nodes: &mut Vec<HNode<H>>| {
            let mut adj = vec![0f32; nodes.len()];
            for (y, w) in seeds {
                if y.index != 0 {
                    assert_eq!(
                        y.tape, self.id,
                        "output HVar of half tape #{} seeded on #{}",
                        y.tape, self.id
                    );
                    adj[y.index as usize] += *w;
                }
            }
            for i in (1..nodes.len()).rev() {
                let g = adj[i];
                let n = nodes[i];
                adj[n.a as usize] += n.da.load() * g;
                adj[n.b as usize] += n.db.load() * g;
            }
            xs.iter()
                .map(|x| {
                    if x.index == 0 {
                        return 0.0;
                    }
                    assert_eq!(
                        x.tape, self.id,
                        "HVar of half tape #{} read from #{}",
                        x.tape, self.id
                    );
                    adj[x.index as usize]
                })
                .collect()
        })
    }

    /// Writes the tape as text, one entry a line, partials as stored: `%4 = 2·%1 + 3·%2`.
    pub fn dump(&self) -> String {
        with_nodes(self.id, |nodes: &mut Vec<HNode<H>>| {
            use fmt::Write;
            let mut s = String::new();
            for (i, n) in nodes.iter().enumerate().skip(1) {
                let _ = match (n.a, n.b) {
                    (0, 0) => writeln!(s, "%{i} = input"),
                    (a, 0) => writeln!(s, "%{i} = {:?}·%{a}", n.da.load()),
                    (0, b) => writeln!(s, "%{i} = {:?}·%{b}", n.db.load()),
                    (a, b) => writeln!(s, "%{i} = {:?}·%{a} + {:?}·%{b}", n.da.load(), n.db.load()),
                };
            }
            s
        })
    }
}

impl<H: Storage> Drop for HalfTape<H> {
    fn drop(&mut self) {
        registry::unregister::<HNodes<H>>(self.id);
    }
}

/// A value recorded on a [`HalfTape<H>`]: an `f32` and its slot (0 for a constant). It implements
/// `Real<f32>`, so generic single-precision code runs on it.
#[derive(Clone, Copy)]
pub struct HVar<H: Storage> {
    value: H::Value,
    index: u32,
    tape: u32,
    _storage: PhantomData<H>,
}

impl<H: Storage> HVar<H> {
    /// A constant (no tape entry).
    pub fn constant(value: H::Value) -> Self {
        HVar {
            value,
            index: 0,
            tape: 0,
            _storage: PhantomData,
        }
    }
    /// The value.
    pub fn val(&self) -> H::Value {
        self.value
    }
    /// The slot on the tape (0 for a constant).
    pub fn index(&self) -> u32 {
        self.index
    }

    fn tape_of(self, rhs: Self) -> u32 {
        match (self.index, rhs.index) {
            (0, _) => rhs.tape,
            (_, 0) => self.tape,
            _ => {
                assert_eq!(
                    self.tape, rhs.tape,
                    "operation mixes HVars of half tapes #{} and #{}",
                    self.tape, rhs.tape
                );
                self.tape
            }
        }
    }

    fn at(value: H::Value, index: u32, tape: u32) -> Self {
        HVar {
            value,
            index,
            tape,
            _storage: PhantomData,
        }
    }
}

impl<H: Storage> Lift for HVar<H> {
    type Inner = H::Value;
    #[inline(always)]
    fn re(&self) -> H::Value {
        self.value
    }
    #[inline(always)]
    fn from_inner(v: H::Value) -> Self {
        HVar::constant(v)
    }
    #[inline(always)]
    fn unary(self, op: Unary) -> Self {
        if self.index == 0 {
            return HVar::constant(op.value(self.value));
        }
        let (v, d) = op.rule(self.value);
        HVar::at(
            v,
            push::<H>(self.tape, self.index, 0, d, H::Value::zero()),
            self.tape,
        )
    }
    #[inline(always)]
    fn binary(self, op: Binary, rhs: Self) -> Self {
        if self.index == 0 && rhs.index == 0 {
            return HVar::constant(op.value(self.value, rhs.value));
        }
        let tape = self.tape_of(rhs);
        let (v, dx, dy) = op.rule(self.value, rhs.value);
        HVar::at(v, push::<H>(tape, self.index, rhs.index, dx, dy), tape)
    }
    #[inline(always)]
    fn ternary(self, op: Ternary, b: Self, c: Self) -> Self {
        if self.index == 0 && b.index == 0 && c.index == 0 {
            return HVar::constant(op.value(self.value, b.value, c.value));
        }
        let tape = self.tape_of(b).max(c.tape_of(self));
        let (v, da, db, dc) = op.rule(self.value, b.value, c.value);
        let ab = if self.index == 0 && b.index == 0 {
            0
        } else {
            push::<H>(tape, self.index, b.index, da, db)
        };
        HVar::at(v, push::<H>(tape, ab, c.index, H::Value::one(), dc), tape)
    }
    #[inline(always)]
    fn add_const(self, c: H::Value) -> Self {
        // ∂(x + c)/∂x = 1: the result shares x's slot.
        HVar {
            value: self.value + c,
            ..self
        }
    }
    #[inline(always)]
    fn mul_const(self, c: H::Value) -> Self {
        if self.index == 0 {
            return HVar::constant(self.value * c);
        }
        HVar::at(
            self.value * c,
            push::<H>(self.tape, self.index, 0, c, H::Value::zero()),
            self.tape,
        )
    }
    #[inline(always)]
    fn div_const(self, c: H::Value) -> Self {
        if self.index == 0 {
            return HVar::constant(self.value / c);
        }
        HVar::at(
            self.value / c,
            push::<H>(self.tape, self.index, 0, c.recip(), H::Value::zero()),
            self.tape,
        )
    }
}

crate::impl_scalar_via_lift!([H: Storage] HVar<H>);

impl<H: Storage> Default for HVar<H> {
    fn default() -> Self {
        HVar::constant(H::Value::zero())
    }
}

impl<H: Storage> PartialEq for HVar<H> {
    /// Compares values only.
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<H: Storage> PartialOrd for HVar<H> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.value.partial_cmp(&other.value)
    }
}

impl<H: Storage> fmt::Debug for HVar<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.index == 0 {
            write!(f, "{:?} (const)", self.value)
        } else {
            write!(
                f,
                "{:?} (%{} on {} tape #{})",
                self.value,
                self.index,
                H::NAME,
                self.tape
            )
        }
    }
}

impl<H: Storage> Real<f32> for HVar<H> {
    /// The rule's primal and Jacobian are computed in `f64` at the `f32` values (first order, as
    /// for `Var<f32>`); each output is recorded as a chain of nodes over the active inputs.
    fn apply_custom<R: CustomRule + ?Sized>(rule: &R, x: &[Self]) -> Vec<Self> {
        let xv: Vec<f64> = x.iter().map(|v| v.value.primal()).collect();
        let y = rule.eval(&xv);
        let active: Vec<usize> = (0..x.len()).filter(|&i| x[i].index != 0).collect();
        let Some(&first) = active.first() else {
            return y
                .into_iter()
                .map(|v| HVar::constant(H::Value::lit(v)))
                .collect();
        };
        let tape = x[first].tape;
        (0..y.len())
            .map(|j| {
                let mut w = vec![0.0; y.len()];
                w[j] = 1.0;
                let row = rule.vjp(&xv, &w);
                assert!(
                    row.len() == x.len(),
                    "custom rule `{}`: vjp returned {} values for {} inputs",
                    rule.name(),
                    row.len(),
                    x.len()
                );
                // y_j = Σ_i J_ji x_i as a chain: ((J₁x₁ + J₂x₂) + J₃x₃) + …
                let mut acc = 0u32;
                for (c, &i) in active.iter().enumerate() {
                    assert_eq!(
                        x[i].tape, tape,
                        "custom rule inputs mix half tapes #{} and #{}",
                        x[i].tape, tape
                    );
                    let d = H::Value::lit(row[i]);
                    acc = if c == 0 {
                        push::<H>(tape, x[i].index, 0, d, H::Value::zero())
                    } else {
                        push::<H>(tape, acc, x[i].index, H::Value::one(), d)
                    };
                }
                HVar::at(H::Value::lit(y[j]), acc, tape)
            })
            .collect()
    }
}

/// A function `Rⁿ → R` generic over single-precision number types (`f32`, `Dual<f32>`,
/// `Var<f32>`, [`HVar<H>`]). Write it once as `fn f<T: Real<f32>>(x: &[T]) -> T`.
pub trait ScalarFn32 {
    /// Evaluates the function.
    fn eval<T: Real<f32>>(&self, x: &[T]) -> T;
}

impl<F: ScalarFn32 + ?Sized> ScalarFn32 for &F {
    fn eval<T: Real<f32>>(&self, x: &[T]) -> T {
        (**self).eval(x)
    }
}

/// `f(x)`, `∇f(x)` and the tape's size, by one recording on a [`HalfTape<H>`] and one sweep.
///
/// ```
/// use ferrad_core::mixed::{self, HVar};
/// let (y, g, stats) = mixed::gradient_with(|x: &[HVar<f32>]| x[0] * x[1], &[3.0, 2.0]);
/// assert_eq!((y, g), (6.0, vec![2.0, 3.0]));
/// assert_eq!((stats.entries, stats.bytes_per_entry), (3, 16));
/// ```
pub fn gradient_with<H: Storage<Value = f32>>(
    f: impl FnOnce(&[HVar<H>]) -> HVar<H>,
    x: &[f32],
) -> (f32, Vec<f32>, MemoryStats) {
    let tape = HalfTape::<H>::new();
    let xs = tape.vars(x);
    let y = f(&xs);
    let stats = tape.stats();
    let g = tape.adjoints_wrt(&[(y, 1.0)], &xs);
    (y.val(), g, stats)
}

/// [`gradient_with`] for a [`ScalarFn32`], partials stored in `f16`.
///
/// ```
/// use ferrad_core::prelude::*;
/// use ferrad_core::mixed::{self, ScalarFn32};
/// struct SumSq;
/// impl ScalarFn32 for SumSq {
///     fn eval<T: Real<f32>>(&self, x: &[T]) -> T { x.iter().map(|&v| v * v).sum() }
/// }
/// let (y, g, stats) = mixed::gradient_f16(&SumSq, &[1.0, 2.0]);
/// assert_eq!((y, g), (5.0, vec![2.0, 4.0]));
/// assert_eq!(stats.storage, "f16");
/// ```
pub fn gradient_f16(f: &impl ScalarFn32, x: &[f32]) -> (f32, Vec<f32>, MemoryStats) {
    gradient_with::<half::f16>(|v| f.eval(v), x)
}

/// [`gradient_with`] for a [`ScalarFn32`], partials stored in `bf16`.
///
/// ```
/// use ferrad_core::prelude::*;
/// use ferrad_core::mixed::{self, ScalarFn32};
/// struct Exp;
/// impl ScalarFn32 for Exp {
///     fn eval<T: Real<f32>>(&self, x: &[T]) -> T { x[0].exp() }
/// }
/// // e¹⁰ ≈ 22026 is stored with 8 significant bits.
/// let (y, g, _) = mixed::gradient_bf16(&Exp, &[10.0]);
/// assert!(((g[0] - y) / y).abs() <= 1.0 / 256.0);
/// ```
pub fn gradient_bf16(f: &impl ScalarFn32, x: &[f32]) -> (f32, Vec<f32>, MemoryStats) {
    gradient_with::<half::bf16>(|v| f.eval(v), x)
}
