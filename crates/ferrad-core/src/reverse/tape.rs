//! The tape: a Wengert list of partial derivatives, and its backward sweep.
//!
//! Each recorded elementary operation is one entry: up to two parent slots and the partial
//! derivative with respect to each, stored in as few bytes as its kind allows (see
//! [`super::nodes`]; 1 to 25 bytes for `f64`). Slot 0 is the sink leaf. Custom rules add dense
//! Jacobian blocks.
//!
//! A tape can be *instrumented*: it then also keeps, per entry, what was computed (the op and
//! its constant operands) and the value, plus every comparison made on its `Var`s. That is what
//! a [`RecordedTape`](super::RecordedTape) replays, and what the NaN-origin check inspects.
//!
//! Tapes live in a per-thread registry reached only through the [`Tape`] guard that owns them:
//! no state is shared between threads, and nothing is visible to users beyond the guard.
//!
//! Invariant: a node's parents have smaller indices than the node, so one reverse pass over the
//! nodes visits every node after all of its consumers.

use core::any::Any;
use core::cell::RefCell;
use core::cmp::Ordering;
use core::fmt;
use core::marker::PhantomData;

use super::nodes::{Entry, Nodes};
use super::registry;
use crate::debug::NanOrigin;
use crate::real::Scalar;
use crate::reverse::var::Var;
use crate::rules::{Binary, Step, Unary};

/// One recorded operation in fixed-size form: `∂self/∂a = da`, `∂self/∂b = db` (slot 0 = none).
/// Instrumented tapes keep this form for replay; plain tapes store [`Entry`]s compactly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Node<T> {
    pub(crate) a: u32,
    pub(crate) b: u32,
    pub(crate) da: T,
    pub(crate) db: T,
}

impl<T: Scalar> Node<T> {
    pub(crate) fn leaf() -> Self {
        Node {
            a: 0,
            b: 0,
            da: T::zero(),
            db: T::zero(),
        }
    }
}

/// What an entry computes, for replay and diagnostics.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum OpCode {
    /// An independent variable.
    Input,
    /// `op(args[0])`.
    Unary(Unary),
    /// `op(args[0], args[1])`.
    Binary(Binary),
    /// The `a·b` half of a `mul_add`; its partials are written by the following `MulAdd`.
    MulAddPart,
    /// `mul_add(args[0], args[1], args[2])`; its node's `a` is the preceding `MulAddPart` (or 0).
    MulAdd,
    /// `args[0] + consts[1]`.
    AddConst,
    /// `args[0] * consts[1]`.
    MulConst,
    /// `args[0] / consts[1]`.
    DivConst,
    /// A piecewise-constant function of `args[0]` (zero derivative).
    Step(Step),
    /// An output of a custom rule (not replayable).
    CustomOut,
}

impl OpCode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            OpCode::Input => "input",
            OpCode::Unary(u) => u.name(),
            OpCode::Binary(b) => b.name(),
            OpCode::MulAddPart => "mul_add(part)",
            OpCode::MulAdd => "mul_add",
            OpCode::AddConst => "add",
            OpCode::MulConst => "mul",
            OpCode::DivConst => "div",
            OpCode::Step(s) => s.name(),
            OpCode::CustomOut => "custom",
        }
    }
}

/// An instrumented entry: the op, its operand slots (0 = constant) and constant operand values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct OpRec<T> {
    pub(crate) code: OpCode,
    pub(crate) args: [u32; 3],
    pub(crate) consts: [T; 3],
}

/// Which comparison a guard saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GuardKind {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Cmp,
}

impl GuardKind {
    /// The comparison's outcome: 0/1 for the boolean ones; -1, 0, 1 or 2 (unordered) for `Cmp`.
    pub(crate) fn outcome<T: PartialOrd>(self, a: T, b: T) -> i8 {
        match self {
            GuardKind::Lt => (a < b) as i8,
            GuardKind::Le => (a <= b) as i8,
            GuardKind::Gt => (a > b) as i8,
            GuardKind::Ge => (a >= b) as i8,
            GuardKind::Eq => (a == b) as i8,
            GuardKind::Cmp => match a.partial_cmp(&b) {
                Some(Ordering::Less) => -1,
                Some(Ordering::Equal) => 0,
                Some(Ordering::Greater) => 1,
                None => 2,
            },
        }
    }

    pub(crate) fn symbol(self) -> &'static str {
        match self {
            GuardKind::Lt => "<",
            GuardKind::Le => "<=",
            GuardKind::Gt => ">",
            GuardKind::Ge => ">=",
            GuardKind::Eq => "==",
            GuardKind::Cmp => "partial_cmp",
        }
    }
}

/// A comparison seen while recording: `kind(lhs, rhs)` gave `outcome` (slot 0 = a constant,
/// whose value is in `consts`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Guard<T> {
    pub(crate) lhs: u32,
    pub(crate) rhs: u32,
    pub(crate) consts: [T; 2],
    pub(crate) kind: GuardKind,
    pub(crate) outcome: i8,
}

/// What an instrumented tape keeps beside the compact entries.
pub(crate) struct Instrument<T> {
    /// Every entry in fixed-size form, exactly as recorded (slot 0 first).
    pub(crate) nodes: Vec<Node<T>>,
    pub(crate) ops: Vec<OpRec<T>>,
    pub(crate) values: Vec<T>,
    pub(crate) guards: Vec<Guard<T>>,
    pub(crate) custom_rule: Option<String>,
    pub(crate) nan_check: bool,
    pub(crate) nan_origin: Option<NanOrigin>,
}

/// A custom rule's dense Jacobian `∂outputs/∂inputs` (row-major, one row per output).
struct CustomBlock<T> {
    first_out: u32,
    n_out: u32,
    inputs: Vec<u32>,
    jac: Vec<T>,
}

/// The recorded data of one tape.
pub(crate) struct TapeData<T> {
    pub(crate) nodes: Nodes<T>,
    customs: Vec<CustomBlock<T>>,
    pub(crate) inst: Option<Box<Instrument<T>>>,
}

impl<T: Scalar> registry::Recording for TapeData<T> {
    fn variable() -> String {
        format!("Var<{}>", core::any::type_name::<T>())
    }
}

impl<T: Scalar> TapeData<T> {
    fn reset(&mut self) {
        self.nodes.clear();
        self.customs.clear();
        self.inst = None;
    }

    #[inline(always)]
    fn push(&mut self, entry: Entry<T>, value: T, op: impl FnOnce() -> OpRec<T>) -> u32 {
        if self.inst.is_some() {
            return self.push_instrumented(entry, value, op());
        }
        self.nodes.push(entry)
    }

    #[cold]
    #[inline(never)]
    fn push_instrumented(&mut self, entry: Entry<T>, value: T, op: OpRec<T>) -> u32 {
        let i = self.nodes.push(entry) as usize;
        let node = Node::from(entry);
        let inst = self.inst.as_mut().expect("instrumented");
        inst.nodes.push(node);
        if inst.nan_check && inst.nan_origin.is_none() {
            let bad = |v: T| !v.is_finite();
            if bad(value) || bad(node.da) || bad(node.db) {
                let input = |k: usize| {
                    let s = op.args[k] as usize;
                    if s == 0 {
                        op.consts[k].primal()
                    } else {
                        inst.values[s].primal()
                    }
                };
                let arity = match op.code {
                    OpCode::Input | OpCode::CustomOut => 0,
                    OpCode::Unary(_) | OpCode::Step(_) => 1,
                    OpCode::MulAdd => 3,
                    _ => 2,
                };
                let mut inputs: Vec<f64> = (0..arity).map(input).collect();
                if matches!(
                    op.code,
                    OpCode::AddConst | OpCode::MulConst | OpCode::DivConst
                ) {
                    inputs[1] = op.consts[1].primal();
                }
                inst.nan_origin = Some(NanOrigin {
                    index: i,
                    op: op.code.name().to_string(),
                    inputs,
                    value: value.primal(),
                    partials: vec![node.da.primal(), node.db.primal()],
                    mode: "reverse",
                });
            }
        }
        inst.ops.push(op);
        inst.values.push(value);
        i as u32
    }
}

/// The instrumented description of an input.
fn input_op<T: Scalar>() -> OpRec<T> {
    OpRec {
        code: OpCode::Input,
        args: [0; 3],
        consts: [T::zero(); 3],
    }
}

/// Appends a node to tape `tape` and returns its index. `op` describes it for instrumented tapes
/// (it is not evaluated otherwise).
#[inline(always)]
pub(crate) fn push<T: Scalar>(
    tape: u32,
    entry: Entry<T>,
    value: T,
    op: impl FnOnce() -> OpRec<T>,
) -> u32 {
    // `inline(always)`: LLVM left this closure out of line once it pushed compact entries,
    // which cost 12 ns an entry on benchmark R.
    registry::with_fast(
        tape,
        #[inline(always)]
        |d: &mut TapeData<T>| d.push(entry, value, op),
    )
}

/// Whether tape `tape` is instrumented (then every operation needs its own entry).
#[inline(always)]
pub(crate) fn is_instrumented<T: Scalar>(tape: u32) -> bool {
    registry::with_fast(tape, |d: &mut TapeData<T>| d.inst.is_some())
}

/// Records a comparison on an instrumented tape.
pub(crate) fn push_guard<T: Scalar>(tape: u32, guard: Guard<T>) {
    registry::with_fast(tape, |d: &mut TapeData<T>| {
        if let Some(inst) = d.inst.as_mut() {
            inst.guards.push(guard);
        }
    })
}

/// Records a custom rule's outputs (as leaves) with their Jacobian block; returns the first index.
pub(crate) fn push_custom<T: Scalar>(
    tape: u32,
    name: &str,
    inputs: Vec<u32>,
    values: &[T],
    jac: Vec<T>,
) -> u32 {
    let n_out = values.len();
    debug_assert_eq!(jac.len(), n_out * inputs.len());
    registry::with_fast(tape, |d: &mut TapeData<T>| {
        let first = d.nodes.len() as u32;
        if let Some(inst) = d.inst.as_mut() {
            inst.custom_rule.get_or_insert_with(|| name.to_string());
        }
        for &v in values {
            d.push(Entry::Leaf, v, || OpRec {
                code: OpCode::CustomOut,
                args: [0; 3],
                consts: [T::zero(); 3],
            });
        }
        d.customs.push(CustomBlock {
            first_out: first,
            n_out: n_out as u32,
            inputs,
            jac,
        });
        first
    })
}

thread_local! {
    /// Emptied tapes and adjoint buffers kept for reuse, so a loop of gradients does not
    /// fault in fresh pages on every call.
    static POOL: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

fn take_pooled<X: 'static>() -> Option<X> {
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        let at = p.iter().position(|b| b.is::<X>())?;
        p.swap_remove(at).downcast::<X>().ok().map(|b| *b)
    })
}

fn give_pooled<X: 'static>(x: X) {
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        if p.iter().filter(|b| b.is::<X>()).count() < 2 {
            p.push(Box::new(x));
        }
    })
}

/// Frees the buffers this thread keeps for reuse between gradients.
///
/// After a large gradient the tape's memory is kept so that the next one is faster; call this
/// when a thread is done differentiating big functions.
pub fn release_pooled_memory() {
    POOL.with(|p| p.borrow_mut().clear());
}

/// Size of a tape, as reported by [`Tape::stats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TapeStats {
    /// Recorded elementary operations and inputs (the sink slot excluded).
    pub entries: usize,
    /// Bytes of the largest entry: a kind byte, two parent slots and two partials (25 for
    /// `f64`). Inputs take 1 byte, sums and differences 9, unary ops 13 (see `bytes`).
    pub bytes_per_entry: usize,
    /// Bytes of custom-rule Jacobian blocks.
    pub custom_bytes: usize,
    /// Total bytes held by recorded data, custom blocks included.
    pub bytes: usize,
}

/// A tape for reverse mode over values of type `T`: create [`Var`]s with [`Tape::var`], compute
/// with them, then ask for adjoints.
///
/// The guard owns the recording; dropping it ends it. Tapes nest (an inner `Tape<T>` is used by
/// the `Var`s created from it) and every thread has its own.
///
/// ```
/// use ferrad_core::prelude::*;
/// let tape = Tape::<f64>::new();
/// let x = tape.var(3.0);
/// let y = tape.var(2.0);
/// let z = x * y + x.sin();
/// let g = tape.gradient(z);
/// assert_eq!(g.wrt(&x), 2.0 + 3.0_f64.cos());
/// assert_eq!(g.wrt(&y), 3.0);
/// assert_eq!(tape.stats().entries, 5); // x, y, x*y, sin x, +
/// ```
pub struct Tape<T: Scalar> {
    id: u32,
    // Not Send: the recording lives in this thread's storage.
    _marker: PhantomData<(T, *const ())>,
}

impl<T: Scalar> Default for Tape<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Scalar> Tape<T> {
    /// Starts a new, empty tape on this thread.
    pub fn new() -> Self {
        let mut data = take_pooled::<Box<TapeData<T>>>().unwrap_or_else(|| {
            Box::new(TapeData {
                nodes: Nodes::new(),
                customs: Vec::new(),
                inst: None,
            })
        });
        data.reset();
        Tape {
            id: registry::register(data),
            _marker: PhantomData,
        }
    }

    /// Starts a tape that also keeps ops, values and comparisons (for replay and diagnostics).
    pub(crate) fn new_instrumented(nan_check: bool) -> Self {
        let tape = Self::new();
        registry::with(tape.id, |d: &mut TapeData<T>| {
            d.inst = Some(Box::new(Instrument {
                nodes: vec![Node::leaf()],
                ops: vec![OpRec {
                    code: OpCode::Input,
                    args: [0; 3],
                    consts: [T::zero(); 3],
                }],
                values: vec![T::zero()],
                guards: Vec::new(),
                custom_rule: None,
                nan_check,
                nan_origin: None,
            }));
        });
        tape
    }

    /// Starts a tape that reports the first operation producing a non-finite value or partial
    /// derivative (see [`Tape::nan_origin`]), like JAX's `debug_nans`. Slower than [`Tape::new`].
    ///
    /// ```
    /// use ferrad_core::prelude::*;
    /// let tape = Tape::<f64>::with_nan_check();
    /// let x = tape.var(0.0);
    /// let y = x.sqrt() * 2.0 + x.ln();
    /// let origin = tape.nan_origin().unwrap();
    /// assert_eq!(origin.op, "sqrt"); // sqrt'(0) = inf comes before ln(0) = -inf
    /// # let _ = y;
    /// ```
    pub fn with_nan_check() -> Self {
        Self::new_instrumented(true)
    }

    /// The first operation that produced a non-finite value or partial, on a tape made with
    /// [`Tape::with_nan_check`].
    pub fn nan_origin(&self) -> Option<NanOrigin> {
        registry::with(self.id, |d: &mut TapeData<T>| {
            d.inst.as_ref().and_then(|i| i.nan_origin.clone())
        })
    }

    /// This tape's id (unique in the process).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// A new independent variable with value `v`.
    pub fn var(&self, v: T) -> Var<T> {
        let i = push(self.id, Entry::Leaf, v, input_op);
        Var::from_parts(v, i, self.id)
    }

    /// One independent variable per value.
    pub fn vars(&self, values: &[T]) -> Vec<Var<T>> {
        registry::with(self.id, |d: &mut TapeData<T>| {
            if d.inst.is_none() {
                d.nodes.reserve_leaves(values.len());
            }
            values
                .iter()
                .map(|&v| Var::from_parts(v, d.push(Entry::Leaf, v, input_op), self.id))
                .collect()
        })
    }

    /// Number of recorded entries (inputs and operations).
    pub fn len(&self) -> usize {
        registry::with(self.id, |d: &mut TapeData<T>| d.nodes.len() - 1)
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries and bytes recorded so far.
    pub fn stats(&self) -> TapeStats {
        registry::with(self.id, |d: &mut TapeData<T>| {
            let entries = d.nodes.len() - 1;
            let bytes_per_entry = Nodes::<T>::max_entry_bytes();
            let custom_bytes = d
                .customs
                .iter()
                .map(|c| c.jac.len() * core::mem::size_of::<T>() + c.inputs.len() * 4)
                .sum();
            TapeStats {
                entries,
                bytes_per_entry,
                custom_bytes,
                bytes: d.nodes.bytes() - 1 + custom_bytes,
            }
        })
    }

    /// The adjoints of every recorded value for the output `y` (seed 1).
    pub fn gradient(&self, y: Var<T>) -> Adjoints<T> {
        self.adjoints(&[(y, T::one())])
    }

    /// The adjoints for a weighted sum of outputs `Σ wᵢ·yᵢ` (a vector-Jacobian product).
    pub fn adjoints(&self, seeds: &[(Var<T>, T)]) -> Adjoints<T> {
        let adj = self.sweep(seeds, Vec::new());
        Adjoints { adj, tape: self.id }
    }

    /// The adjoints of `xs` only, for the weighted outputs `seeds`; reuses pooled buffers.
    pub fn adjoints_wrt(&self, seeds: &[(Var<T>, T)], xs: &[Var<T>]) -> Vec<T> {
        let buf = take_pooled::<Vec<T>>().unwrap_or_default();
        let adj = self.sweep(seeds, buf);
        let out = xs.iter().map(|x| self.read(&adj, x)).collect();
        give_pooled(adj);
        out
    }

    fn read(&self, adj: &[T], x: &Var<T>) -> T {
        adjoint_of(adj, self.id, x, "tape")
    }

    fn sweep(&self, seeds: &[(Var<T>, T)], mut adj: Vec<T>) -> Vec<T> {
        // `registry::with` lets the sweep's own arithmetic record onto other tapes (reverse over
        // reverse) while this one is borrowed.
        registry::with(self.id, |data: &mut TapeData<T>| {
            adj.clear();
            adj.resize(data.nodes.len(), T::zero());
            for (y, w) in seeds {
                if y.index() != 0 {
                    assert_eq!(
                        y.tape(),
                        self.id,
                        "output Var of tape #{} seeded on tape #{}",
                        y.tape(),
                        self.id
                    );
                    adj[y.index() as usize] += *w;
                }
            }
            sweep_with_customs(&data.nodes, &data.customs, &mut adj);
        });
        adj
    }

    /// Writes the tape as text, one entry a line: `%4 = 2·%1 + 3·%2` (instrumented tapes also
    /// name the op: `%4 = mul(%1, %2)`).
    pub fn dump(&self) -> String {
        registry::with(self.id, |d: &mut TapeData<T>| {
            use fmt::Write;
            let mut s = String::new();
            for (i, n) in d.nodes.decode().iter().enumerate().skip(1) {
                if let Some(inst) = &d.inst {
                    let _ = write!(s, "{:<14} ", inst.ops[i].code.name());
                }
                let _ = match (n.a, n.b) {
                    (0, 0) => writeln!(s, "%{i} = leaf"),
                    (a, 0) => writeln!(s, "%{i} = {:?}·%{a}", n.da),
                    (0, b) => writeln!(s, "%{i} = {:?}·%{b}", n.db),
                    (a, b) => writeln!(s, "%{i} = {:?}·%{a} + {:?}·%{b}", n.da, n.db),
                };
            }
            s
        })
    }

    /// Moves the instrumented recording out (for [`RecordedTape`](super::RecordedTape)).
    pub(crate) fn take_recording(&self) -> (Vec<Node<T>>, Box<Instrument<T>>) {
        registry::with(self.id, |d: &mut TapeData<T>| {
            let mut inst = d.inst.take().expect("tape was not instrumented");
            d.nodes.clear();
            (core::mem::take(&mut inst.nodes), inst)
        })
    }
}

/// The backward sweep over plain nodes and custom blocks.
fn sweep_with_customs<T: Scalar>(nodes: &Nodes<T>, customs: &[CustomBlock<T>], adj: &mut [T]) {
    let mut end = nodes.len();
    let mut at = nodes.end_cursor();
    for block in customs.iter().rev() {
        let first = block.first_out as usize;
        nodes.sweep(adj, first, end, &mut at);
        let n_in = block.inputs.len();
        for j in 0..block.n_out as usize {
            let g = adj[first + j];
            for (i, &p) in block.inputs.iter().enumerate() {
                let v = block.jac[j * n_in + i] * g;
                adj[p as usize] += v;
            }
        }
        end = first;
    }
    nodes.sweep(adj, 1, end, &mut at);
}

impl<T: Scalar> Drop for Tape<T> {
    fn drop(&mut self) {
        if let Some(data) = registry::unregister::<TapeData<T>>(self.id) {
            give_pooled(data);
        }
    }
}

/// `x`'s entry of the adjoint vector `adj` of tape `tape` (zero for a constant).
///
/// # Panics
/// If `x` belongs to another tape; `whose` names what was read in the message.
fn adjoint_of<T: Scalar>(adj: &[T], tape: u32, x: &Var<T>, whose: &str) -> T {
    if x.index() == 0 {
        return T::zero();
    }
    assert_eq!(
        x.tape(),
        tape,
        "Var of tape #{} read from {whose} #{tape}",
        x.tape()
    );
    adj[x.index() as usize]
}

/// The adjoints of every value on a tape, from [`Tape::gradient`] or [`Tape::adjoints`].
pub struct Adjoints<T> {
    adj: Vec<T>,
    tape: u32,
}

impl<T: Scalar> Adjoints<T> {
    /// The adjoint (derivative of the seeded output) of `x`; zero for a constant.
    ///
    /// # Panics
    /// If `x` belongs to another tape.
    pub fn wrt(&self, x: &Var<T>) -> T {
        adjoint_of(&self.adj, self.tape, x, "adjoints of tape")
    }

    /// The adjoints of several variables.
    pub fn wrt_all(&self, xs: &[Var<T>]) -> Vec<T> {
        xs.iter().map(|x| self.wrt(x)).collect()
    }
}
