//! The tape's storage: entries of variable size in three streams, and the backward sweep over them.
//!
//! A fixed-size entry (two parents, two partials: 24 bytes for `f64`) spends most of its bytes
//! on nothing: inputs have no parent, unary ops one, and a sum's partials are both 1. Recording
//! and sweeping a large tape is bound by memory traffic, so each entry stores only what it needs:
//! a kind byte, then its parent slots in `slots` and its partials in `partials`:
//!
//! | kind | slots | partials | bytes (`f64`) | from |
//! |---|---|---|---:|---|
//! | leaf | – | – | 1 | inputs, custom-rule outputs |
//! | unary | a | ∂/∂a | 13 | unary ops, `x·c`, `x/c` |
//! | add | a, b | – | 9 | `x + y` |
//! | sub | a, b | – | 9 | `x − y` |
//! | binary | a, b | ∂/∂a, ∂/∂b | 25 | other binary ops |
//!
//! On benchmark R (n = 10⁶) that is 11.7 bytes an entry instead of 24: measured there, the sweep
//! takes 18–19 ms instead of 31–34 and creating the inputs 3 ms instead of 10, while recording
//! costs 57 ms instead of 47 (more stores an entry). The sweep walks the streams backwards with
//! one cursor each; the partials 1 and −1 of sums and differences are applied as additions and
//! subtractions, which give the same bits as multiplying by them. A constant operand's slot is
//! 0, the sink: its adjoint is never read, so the sweep needs no branch for it.
//!
//! Invariant: the entries of `kinds` (one per tape slot, slot 0 a leaf) consume exactly
//! `slots.len()` slots and `partials.len()` partials, in order.

use crate::real::Scalar;
use crate::reverse::tape::Node;

/// An entry to record (slot 0 = a constant operand).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Entry<T> {
    /// No parent: an input, or the output of a custom rule.
    Leaf,
    /// `∂/∂a = d`.
    Unary(u32, T),
    /// `x + y`: both partials 1.
    Add(u32, u32),
    /// `x − y`: partials 1 and −1.
    Sub(u32, u32),
    /// `∂/∂a = da`, `∂/∂b = db`.
    Binary(u32, u32, T, T),
}

impl<T: Scalar> From<Entry<T>> for Node<T> {
    /// The fixed-size form, constant parents and unit partials included.
    fn from(e: Entry<T>) -> Self {
        let (a, b, da, db) = match e {
            Entry::Leaf => (0, 0, T::zero(), T::zero()),
            Entry::Unary(a, d) => (a, 0, d, T::zero()),
            Entry::Add(a, b) => (a, b, T::one(), T::one()),
            Entry::Sub(a, b) => (a, b, T::one(), -T::one()),
            Entry::Binary(a, b, da, db) => (a, b, da, db),
        };
        Node { a, b, da, db }
    }
}

type Kind = u8;
const LEAF: Kind = 0;
const UNARY: Kind = 1;
const ADD: Kind = 2;
const SUB: Kind = 3;
const BINARY: Kind = 4;

/// The recorded entries of a tape (slot 0 is the sink leaf).
pub(crate) struct Nodes<T> {
    kinds: Vec<Kind>,
    slots: Vec<u32>,
    partials: Vec<T>,
}

/// Where the sweep stands in the slot and partial streams.
pub(crate) struct Cursor {
    slot: usize,
    partial: usize,
}

impl<T: Scalar> Nodes<T> {
    pub(crate) fn new() -> Self {
        let mut n = Nodes {
            kinds: Vec::new(),
            slots: Vec::new(),
            partials: Vec::new(),
        };
        n.clear();
        n
    }

    /// Empties the store down to the sink (keeping the capacity).
    pub(crate) fn clear(&mut self) {
        self.kinds.clear();
        self.slots.clear();
        self.partials.clear();
        self.kinds.push(LEAF);
    }

    /// Number of slots, the sink included.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.kinds.len()
    }

    /// Bytes held by the recorded entries.
    pub(crate) fn bytes(&self) -> usize {
        Self::entry_bytes(self.kinds.len(), self.slots.len(), self.partials.len())
    }

    /// Bytes of the largest entry (a binary op).
    pub(crate) fn max_entry_bytes() -> usize {
        Self::entry_bytes(1, 2, 2)
    }

    /// Bytes of `kinds` kind bytes, `slots` parent slots and `partials` partials.
    fn entry_bytes(kinds: usize, slots: usize, partials: usize) -> usize {
        use core::mem::size_of;
        size_of::<Kind>() * kinds + size_of::<u32>() * slots + size_of::<T>() * partials
    }

    /// Reserves room for `n` more leaves.
    pub(crate) fn reserve_leaves(&mut self, n: usize) {
        self.kinds.reserve(n);
    }

    /// Appends an entry; returns its slot.
    #[inline(always)]
    pub(crate) fn push(&mut self, e: Entry<T>) -> u32 {
        let i = self.kinds.len();
        assert!(i < u32::MAX as usize, "tape is full (2^32 entries)");
        let kind = match e {
            Entry::Leaf => LEAF,
            Entry::Unary(a, d) => {
                self.partials.push(d);
                self.slots.push(a);
                UNARY
            }
            Entry::Add(a, b) => self.two(a, b, ADD),
            Entry::Sub(a, b) => self.two(a, b, SUB),
            Entry::Binary(a, b, da, db) => {
                self.partials.extend_from_slice(&[da, db]);
                self.two(a, b, BINARY)
            }
        };
        self.kinds.push(kind);
        i as u32
    }

    #[inline(always)]
    fn two(&mut self, a: u32, b: u32, kind: Kind) -> Kind {
        // One capacity check for both.
        self.slots.extend_from_slice(&[a, b]);
        kind
    }

    /// A cursor past the last entry, for a sweep from the end.
    pub(crate) fn end_cursor(&self) -> Cursor {
        Cursor {
            slot: self.slots.len(),
            partial: self.partials.len(),
        }
    }

    /// Propagates the adjoints of slots `end − 1` down to `start` to their parents; `at` must
    /// stand just past the entry of slot `end − 1` and ends just past that of `start − 1`.
    #[inline]
    pub(crate) fn sweep(&self, adj: &mut [T], start: usize, end: usize, at: &mut Cursor) {
        let (slots, partials) = (&self.slots, &self.partials);
        let (mut s, mut p) = (at.slot, at.partial);
        for i in (start..end).rev() {
            let g = adj[i];
            match self.kinds[i] {
                LEAF => {}
                UNARY => {
                    s -= 1;
                    p -= 1;
                    adj[slots[s] as usize] += partials[p] * g;
                }
                ADD => {
                    s -= 2;
                    adj[slots[s] as usize] += g;
                    adj[slots[s + 1] as usize] += g;
                }
                SUB => {
                    s -= 2;
                    adj[slots[s] as usize] += g;
                    adj[slots[s + 1] as usize] -= g;
                }
                _ => {
                    s -= 2;
                    p -= 2;
                    adj[slots[s] as usize] += partials[p] * g;
                    adj[slots[s + 1] as usize] += partials[p + 1] * g;
                }
            }
        }
        *at = Cursor {
            slot: s,
            partial: p,
        };
    }

    /// Every entry in the fixed-size form (parents, partials), slot 0 first.
    pub(crate) fn decode(&self) -> Vec<Node<T>> {
        let (sl, pa) = (&self.slots, &self.partials);
        let (mut s, mut p) = (0, 0);
        let mut out = Vec::with_capacity(self.kinds.len());
        for &k in &self.kinds {
            // the entry as recorded, read forwards off the streams
            let (e, ns, np) = match k {
                LEAF => (Entry::Leaf, 0, 0),
                UNARY => (Entry::Unary(sl[s], pa[p]), 1, 1),
                ADD => (Entry::Add(sl[s], sl[s + 1]), 2, 0),
                SUB => (Entry::Sub(sl[s], sl[s + 1]), 2, 0),
                _ => (Entry::Binary(sl[s], sl[s + 1], pa[p], pa[p + 1]), 2, 2),
            };
            out.push(Node::from(e));
            s += ns;
            p += np;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sweep over the fixed-size form: every parent gets `partial · adjoint`.
    fn reference_sweep(nodes: &[Node<f64>], adj: &mut [f64]) {
        for i in (1..nodes.len()).rev() {
            let (g, n) = (adj[i], nodes[i]);
            adj[n.a as usize] += n.da * g;
            adj[n.b as usize] += n.db * g;
        }
    }

    /// Random entries of every kind (constant operands included), recorded and swept both ways
    /// from seeds that include ±inf and NaN: the same bits everywhere but the sink.
    #[test]
    fn compact_entries_sweep_like_the_fixed_size_form() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut nodes = Nodes::<f64>::new();
        let mut fixed = vec![Node::from(Entry::<f64>::Leaf)];
        for i in 1..2000u32 {
            // A parent among the earlier slots, or 0 (a constant) one time in five.
            let mut parent = || match next() % 5 {
                0 => 0,
                _ => (next() % u64::from(i)) as u32,
            };
            let (a, b) = (parent(), parent());
            let d = (next() % 2001) as f64 / 100.0 - 10.0;
            let e = match next() % 5 {
                0 if i > 3 => Entry::Leaf,
                0 | 1 => Entry::Unary(a, d),
                2 => Entry::Add(a, b),
                3 => Entry::Sub(a, b),
                _ => Entry::Binary(a, b, d, 0.5 - d),
            };
            assert_eq!(nodes.push(e), i);
            fixed.push(Node::from(e));
        }
        assert_eq!(nodes.decode(), fixed);
        for seed in [1.0, -3.5, f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            let mut want = vec![0.0; fixed.len()];
            let mut got = want.clone();
            for (k, &s) in [1999, 1500, 700].iter().enumerate() {
                want[s] = seed * (k + 1) as f64;
                got[s] = want[s];
            }
            reference_sweep(&fixed, &mut want);
            let mut at = nodes.end_cursor();
            nodes.sweep(&mut got, 1, nodes.len(), &mut at);
            assert_eq!((at.slot, at.partial), (0, 0), "every stored item consumed");
            for i in 1..fixed.len() {
                assert_eq!(got[i].to_bits(), want[i].to_bits(), "slot {i}, seed {seed}");
            }
        }
        let kinds = nodes.kinds.len();
        let bytes = kinds + 4 * nodes.slots.len() + 8 * nodes.partials.len();
        assert_eq!(nodes.bytes(), bytes);
        nodes.clear();
        assert_eq!((nodes.len(), nodes.bytes()), (1, 1));
    }

    /// A sweep in pieces (as around custom-rule blocks) carries the cursor from one to the next.
    #[test]
    fn a_sweep_in_two_pieces_equals_one() {
        let mut nodes = Nodes::<f64>::new();
        let x = nodes.push(Entry::Leaf);
        let y = nodes.push(Entry::Unary(x, 2.0));
        let z = nodes.push(Entry::Binary(x, y, 3.0, 5.0));
        let w = nodes.push(Entry::Sub(z, y));
        let mut whole = vec![0.0; 5];
        whole[w as usize] = 1.0;
        let mut split = whole.clone();
        let mut at = nodes.end_cursor();
        nodes.sweep(&mut whole, 1, 5, &mut at);
        let mut at = nodes.end_cursor();
        nodes.sweep(&mut split, 3, 5, &mut at);
        nodes.sweep(&mut split, 1, 3, &mut at);
        assert_eq!(whole, split);
        // ∂w/∂x = 3 + 5·2 − 2
        assert_eq!(whole[x as usize], 11.0);
    }
}
