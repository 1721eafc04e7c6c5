//! The tape: a Wengert list of partial derivatives, and its backward sweep.
//!
//! Each recorded elementary operation is one [`Node`]: up to two parent slots and the partial
//! derivative with respect to each (24 bytes for `f64`). Slot 0 is a sink: a missing or constant
//! parent points there, so the sweep needs no branch. Custom rules add dense Jacobian blocks.
//!
//! Tapes live in a thread-local stack, reached only through the [`Tape`] guard that owns them:
//! no state is shared between threads, and nothing is visible to users beyond the guard.
//!
//! Invariant: a node's parents have smaller indices than the node, so one reverse pass over the
//! nodes visits every node after all of its consumers.

use core::any::Any;
use core::cell::{Cell, RefCell};
use core::fmt;
use core::marker::PhantomData;

use crate::real::Scalar;
use crate::reverse::var::Var;

/// One recorded operation: `∂self/∂a = da`, `∂self/∂b = db` (slot 0 is the sink).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node<T> {
    pub(crate) a: u32,
    pub(crate) b: u32,
    pub(crate) da: T,
    pub(crate) db: T,
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
    nodes: Vec<Node<T>>,
    customs: Vec<CustomBlock<T>>,
}

impl<T: Scalar> TapeData<T> {
    fn reset(&mut self) {
        self.nodes.clear();
        self.customs.clear();
        self.nodes.push(Node { a: 0, b: 0, da: T::zero(), db: T::zero() });
    }
}

thread_local! {
    /// The tapes active on this thread, innermost last, each with its id.
    static ACTIVE: RefCell<Vec<(u32, Box<dyn Any>)>> = const { RefCell::new(Vec::new()) };
    /// Emptied tapes and adjoint buffers kept for reuse, so a loop of gradients does not
    /// fault in fresh pages on every call.
    static POOL: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u32> = const { Cell::new(1) };
}

fn with_data<T: Scalar, R>(tape: u32, f: impl FnOnce(&mut TapeData<T>) -> R) -> R {
    ACTIVE.with(|active| {
        let mut active = active.borrow_mut();
        for (id, data) in active.iter_mut().rev() {
            if *id == tape {
                let data = data
                    .downcast_mut::<TapeData<T>>()
                    .expect("tape ids are unique per thread, so the type matches");
                return f(data);
            }
        }
        panic!(
            "Var<{}> belongs to tape #{tape}, which is not active on this thread \
             (it was dropped, or the Var was sent to another thread)",
            core::any::type_name::<T>()
        )
    })
}

/// Appends a node to tape `tape` and returns its index.
#[inline]
pub(crate) fn push<T: Scalar>(tape: u32, node: Node<T>) -> u32 {
    with_data(tape, |d: &mut TapeData<T>| {
        let i = d.nodes.len();
        assert!(i < u32::MAX as usize, "tape #{tape} is full (2^32 entries)");
        d.nodes.push(node);
        i as u32
    })
}

/// Records a custom rule's outputs (as leaves) with their Jacobian block; returns the first index.
pub(crate) fn push_custom<T: Scalar>(tape: u32, inputs: Vec<u32>, n_out: usize, jac: Vec<T>) -> u32 {
    debug_assert_eq!(jac.len(), n_out * inputs.len());
    with_data(tape, |d: &mut TapeData<T>| {
        let first = d.nodes.len() as u32;
        for _ in 0..n_out {
            d.nodes.push(Node { a: 0, b: 0, da: T::zero(), db: T::zero() });
        }
        d.customs.push(CustomBlock { first_out: first, n_out: n_out as u32, inputs, jac });
        first
    })
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
    /// Bytes one entry takes (two parent indices and two partials).
    pub bytes_per_entry: usize,
    /// Bytes of custom-rule Jacobian blocks.
    pub custom_bytes: usize,
    /// Total bytes held by recorded data: `entries * bytes_per_entry + custom_bytes`.
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
        let id = NEXT_ID.with(|n| {
            let id = n.get();
            n.set(id.checked_add(1).expect("2^32 tapes created on one thread"));
            id
        });
        let mut data = take_pooled::<TapeData<T>>()
            .unwrap_or(TapeData { nodes: Vec::new(), customs: Vec::new() });
        data.reset();
        ACTIVE.with(|a| a.borrow_mut().push((id, Box::new(data))));
        Tape { id, _marker: PhantomData }
    }

    /// This tape's id (unique on its thread).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// A new independent variable with value `v`.
    pub fn var(&self, v: T) -> Var<T> {
        let i = push(self.id, Node { a: 0, b: 0, da: T::zero(), db: T::zero() });
        Var::from_parts(v, i, self.id)
    }

    /// One independent variable per value.
    pub fn vars(&self, values: &[T]) -> Vec<Var<T>> {
        values.iter().map(|&v| self.var(v)).collect()
    }

    /// Number of recorded entries (inputs and operations).
    pub fn len(&self) -> usize {
        with_data(self.id, |d: &mut TapeData<T>| d.nodes.len() - 1)
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries and bytes recorded so far.
    pub fn stats(&self) -> TapeStats {
        with_data(self.id, |d: &mut TapeData<T>| {
            let entries = d.nodes.len() - 1;
            let bytes_per_entry = core::mem::size_of::<Node<T>>();
            let custom_bytes = d
                .customs
                .iter()
                .map(|c| c.jac.len() * core::mem::size_of::<T>() + c.inputs.len() * 4)
                .sum();
            TapeStats {
                entries,
                bytes_per_entry,
                custom_bytes,
                bytes: entries * bytes_per_entry + custom_bytes,
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
        if x.index() == 0 {
            return T::zero();
        }
        assert_eq!(x.tape(), self.id, "Var of tape #{} read from tape #{}", x.tape(), self.id);
        adj[x.index() as usize]
    }

    fn sweep(&self, seeds: &[(Var<T>, T)], mut adj: Vec<T>) -> Vec<T> {
        // Take the recording out of thread-local storage: the sweep's own arithmetic may record
        // onto other tapes (reverse over reverse) and must not find this one borrowed.
        let data = ACTIVE.with(|a| {
            let mut a = a.borrow_mut();
            let slot = a.iter_mut().rev().find(|(id, _)| *id == self.id).expect("tape is active");
            core::mem::replace(&mut slot.1, Box::new(()))
        });
        let data = data.downcast::<TapeData<T>>().expect("tape type");
        adj.clear();
        adj.resize(data.nodes.len(), T::zero());
        for (y, w) in seeds {
            if y.index() != 0 {
                assert_eq!(y.tape(), self.id, "output Var of tape #{} seeded on tape #{}", y.tape(), self.id);
                adj[y.index() as usize] += *w;
            }
        }
        let mut end = data.nodes.len();
        for block in data.customs.iter().rev() {
            let first = block.first_out as usize;
            sweep_nodes(&data.nodes, &mut adj, first, end);
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
        sweep_nodes(&data.nodes, &mut adj, 1, end);
        ACTIVE.with(|a| {
            let mut a = a.borrow_mut();
            let slot = a.iter_mut().rev().find(|(id, _)| *id == self.id).expect("tape is active");
            slot.1 = data;
        });
        adj
    }

    /// Writes the tape as text, one entry a line: `%4 = 2·%1 + 3·%2`.
    pub fn dump(&self) -> String {
        with_data(self.id, |d: &mut TapeData<T>| {
            let mut s = String::new();
            for (i, n) in d.nodes.iter().enumerate().skip(1) {
                use fmt::Write;
                let _ = match (n.a, n.b) {
                    (0, 0) => writeln!(s, "%{i} = input"),
                    (a, 0) => writeln!(s, "%{i} = {:?}·%{a}", n.da),
                    (0, b) => writeln!(s, "%{i} = {:?}·%{b}", n.db),
                    (a, b) => writeln!(s, "%{i} = {:?}·%{a} + {:?}·%{b}", n.da, n.db),
                };
            }
            s
        })
    }
}

#[inline]
fn sweep_nodes<T: Scalar>(nodes: &[Node<T>], adj: &mut [T], start: usize, end: usize) {
    for i in (start..end).rev() {
        let g = adj[i];
        let n = nodes[i];
        adj[n.a as usize] += n.da * g;
        adj[n.b as usize] += n.db * g;
    }
}

impl<T: Scalar> Drop for Tape<T> {
    fn drop(&mut self) {
        let data = ACTIVE.with(|a| {
            let mut a = a.borrow_mut();
            let at = a.iter().rposition(|(id, _)| *id == self.id)?;
            Some(a.remove(at).1)
        });
        if let Some(Ok(data)) = data.map(|d| d.downcast::<TapeData<T>>()) {
            give_pooled(*data);
        }
    }
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
        if x.index() == 0 {
            return T::zero();
        }
        assert_eq!(x.tape(), self.tape, "Var of tape #{} read from adjoints of tape #{}", x.tape(), self.tape);
        self.adj[x.index() as usize]
    }

    /// The adjoints of several variables.
    pub fn wrt_all(&self, xs: &[Var<T>]) -> Vec<T> {
        xs.iter().map(|x| self.wrt(x)).collect()
    }
}
