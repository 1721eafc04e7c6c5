//! The replay program of a recorded tape, and the loops found in it.
//!
//! A tape of a loop is the loop body copied once per iteration: R at n = 10⁶ is five million
//! entries that follow one five-instruction pattern. Replaying it entry by entry pays an
//! instruction fetch and a dispatch per entry, and the sweep reads a 24-byte node per entry,
//! which costs as much as taping anew. So the program is re-rolled when it is built: a run of
//! entries that repeats a pattern of `k` instructions, each operand advancing by a fixed stride
//! per repetition, becomes one [`Segment::Loop`]. Replay runs a loop *column by column* within
//! blocks of [`BLOCK`] iterations (one body instruction over the block: one dispatch per block
//! and a tight inner loop), storing only the partials that are not constants or operand values
//! of the rule, in dense columns; the sweep does the same in reverse, without reading the
//! nodes. Columns that form a recurrence through earlier iterations (an accumulator updated by
//! two additions) run row by row as a group; see [`schedule`]. A column that only its own loop
//! reads, in the same iteration or the next, lives in block-local scratch instead of its slots
//! (see [`local`]), so its values and adjoints stay in L1.
//!
//! Invariant: a loop segment computes exactly what the straight program computes, to the bit.
//! Its operands are affine in the iteration number only because every iteration was compared
//! with the first when the loop was found; the column order respects every read (the groups
//! are the strongly connected components of the loop's dependences, in dependency order); and
//! every partial is the one the rule table gives.

use super::tape::{Node, OpCode, OpRec};
use crate::rules::{Binary, Step, Ternary, Unary};

mod local;
use local::{Local, addressed, localize};

/// The longest loop body looked for.
const MAX_PERIOD: usize = 64;
/// The fewest iterations that make a loop (shorter runs stay straight).
const MIN_TRIPS: usize = 8;
/// Iterations per column block: enough to amortize the dispatch, few enough that a block's
/// values stay in L1.
const BLOCK: usize = 128;
/// The fewest iterations of a unary column worth gathering into a dense block for a
/// vectorized evaluation (row groups run one iteration at a time and skip it).
const GATHER: usize = 16;

/// One replay instruction; the result goes to the slot of the instruction's position.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Instr {
    Input(u32),
    Unary(Unary, u32),
    Binary(Binary, u32, u32),
    BinaryConstLhs(Binary, f64, u32),
    BinaryConstRhs(Binary, u32, f64),
    /// `Binary::Add` of two slots: partials are the constant 1 already on the tape.
    Add(u32, u32),
    AddConst(u32, f64),
    MulConst(u32, f64),
    DivConst(u32, f64),
    Step(Step, u32),
    MulAddPart,
    MulAdd,
}

impl Instr {
    /// The operand slots (for `Input`, the input's index) and how many there are.
    fn operands(self) -> ([u32; 2], usize) {
        match self {
            Instr::Input(a)
            | Instr::Unary(_, a)
            | Instr::BinaryConstLhs(_, _, a)
            | Instr::BinaryConstRhs(_, a, _)
            | Instr::AddConst(a, _)
            | Instr::MulConst(a, _)
            | Instr::DivConst(a, _)
            | Instr::Step(_, a) => ([a, 0], 1),
            Instr::Binary(_, a, b) | Instr::Add(a, b) => ([a, b], 2),
            Instr::MulAddPart | Instr::MulAdd => ([0, 0], 0),
        }
    }

    /// The same instruction on other operands.
    fn with_operands(self, [a, b]: [u32; 2]) -> Instr {
        match self {
            Instr::Input(_) => Instr::Input(a),
            Instr::Unary(u, _) => Instr::Unary(u, a),
            Instr::BinaryConstLhs(op, c, _) => Instr::BinaryConstLhs(op, c, a),
            Instr::BinaryConstRhs(op, _, c) => Instr::BinaryConstRhs(op, a, c),
            Instr::AddConst(_, c) => Instr::AddConst(a, c),
            Instr::MulConst(_, c) => Instr::MulConst(a, c),
            Instr::DivConst(_, c) => Instr::DivConst(a, c),
            Instr::Step(s, _) => Instr::Step(s, a),
            Instr::Binary(op, _, _) => Instr::Binary(op, a, b),
            Instr::Add(_, _) => Instr::Add(a, b),
            other => other,
        }
    }

    /// The constant operand, if the instruction has one (`x + c`, `c − x`, …).
    fn constant(self) -> Option<f64> {
        match self {
            Instr::BinaryConstLhs(_, c, _)
            | Instr::BinaryConstRhs(_, _, c)
            | Instr::AddConst(_, c)
            | Instr::MulConst(_, c)
            | Instr::DivConst(_, c) => Some(c),
            _ => None,
        }
    }

    /// The same instruction with another constant operand.
    fn with_constant(self, c: f64) -> Instr {
        match self {
            Instr::BinaryConstLhs(op, _, a) => Instr::BinaryConstLhs(op, c, a),
            Instr::BinaryConstRhs(op, a, _) => Instr::BinaryConstRhs(op, a, c),
            Instr::AddConst(a, _) => Instr::AddConst(a, c),
            Instr::MulConst(a, _) => Instr::MulConst(a, c),
            Instr::DivConst(a, _) => Instr::DivConst(a, c),
            other => other,
        }
    }

    /// Whether `other` is this instruction on (possibly) other operands and another constant.
    /// `mul_add` pairs read the op records and never join a loop.
    fn same_shape(self, other: Instr) -> bool {
        let (_, n) = self.operands();
        let bare = |i: Instr| i.with_operands([0, 0]).with_constant(0.0);
        n > 0 && bare(self) == bare(other)
    }
}

pub(super) fn compile(ops: &[OpRec<f64>]) -> Vec<Instr> {
    ops.iter()
        .enumerate()
        .map(|(i, op)| {
            let [a, b, _] = op.args;
            match op.code {
                OpCode::Input => Instr::Input(i.saturating_sub(1) as u32),
                OpCode::Unary(u) => Instr::Unary(u, a),
                OpCode::Binary(Binary::Add) if a != 0 && b != 0 => Instr::Add(a, b),
                OpCode::Binary(bin) => match (a, b) {
                    (0, _) => Instr::BinaryConstLhs(bin, op.consts[0], b),
                    (_, 0) => Instr::BinaryConstRhs(bin, a, op.consts[1]),
                    _ => Instr::Binary(bin, a, b),
                },
                OpCode::AddConst => Instr::AddConst(a, op.consts[1]),
                OpCode::MulConst => Instr::MulConst(a, op.consts[1]),
                OpCode::DivConst => Instr::DivConst(a, op.consts[1]),
                OpCode::Step(s) => Instr::Step(s, a),
                OpCode::MulAddPart => Instr::MulAddPart,
                OpCode::MulAdd => Instr::MulAdd,
                OpCode::CustomOut => unreachable!("custom rules are rejected when recording"),
            }
        })
        .collect()
}

/// A stretch of the program.
#[derive(Clone, Debug, PartialEq)]
enum Segment {
    /// Slots `start..end`, one instruction each, swept node by node.
    Straight { start: usize, end: usize },
    /// `trips` iterations of `body`: iteration `j`'s copy of body instruction `p` sits at slot
    /// `start + j·body.len() + p`. The columns run in `groups`, `block` iterations at a time.
    Loop {
        start: usize,
        trips: usize,
        body: Vec<BodyOp>,
        block: usize,
        groups: Vec<Group>,
        /// Per column, whether it lives in block-local scratch (empty: none does).
        local: Vec<Local>,
    },
}

/// One instruction of a loop body.
#[derive(Clone, Copy, Debug, PartialEq)]
struct BodyOp {
    /// The first iteration's instruction.
    ins: Instr,
    /// Operand `o` of iteration `j` is the first iteration's plus `j · stride[o]`.
    stride: [i64; 2],
    /// The step of the constant operand (see [`Steps::constant`]).
    cstep: f64,
    /// Where its partials of iteration `j` live in the loop partials: `col + j` (and
    /// `col + trips + j` for a second partial). Partials that are constants or operand values
    /// (`+`, `−`, `·`, `+ c`…) are not stored: the sweep knows them.
    col: usize,
}

/// How many partials of `ins` a loop stores (see [`BodyOp::col`]).
fn stored_partials(ins: Instr) -> usize {
    let simple = |b: Binary| matches!(b, Binary::Add | Binary::Sub | Binary::Mul);
    match ins {
        Instr::Unary(..) => 1,
        Instr::Binary(b, ..) if !simple(b) => 2,
        Instr::BinaryConstLhs(b, ..) | Instr::BinaryConstRhs(b, ..) if !simple(b) => 1,
        _ => 0,
    }
}

/// A recorded tape's program: the instructions, and the same split into straight runs and
/// re-rolled loops.
#[derive(Clone, Debug)]
pub(super) struct Program {
    instrs: Vec<Instr>,
    segments: Vec<Segment>,
    /// Length of the buffer of loop partials.
    n_partials: usize,
    /// Length of the value and adjoint buffers: the slots, then the block-local scratch.
    n_values: usize,
}

/// `base + j·stride` as a slot (never negative: the loop was checked iteration by iteration).
#[inline(always)]
fn at(base: u32, stride: i64, j: usize) -> usize {
    (i64::from(base) + j as i64 * stride) as usize
}

/// Per-iteration steps of a body instruction: of each operand slot, and of its constant.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Steps {
    operands: [i64; 2],
    /// The constant of iteration `j` is `c₀ + j·constant` (a loop over `k as f64`, say):
    /// checked bit for bit against every iteration when the loop was found.
    constant: f64,
}

/// The constant of iteration `j`, from the first one and its step: exactly as [`loop_at`]
/// checked it (a zero step leaves `c₀` alone, −0 included).
#[inline(always)]
fn constant_at(c0: f64, step: f64, j: usize) -> f64 {
    if step == 0.0 {
        c0
    } else {
        c0 + j as f64 * step
    }
}

/// A loop of period `k` starting at `i`: its trip count and steps, if it repeats at least
/// [`MIN_TRIPS`] times.
fn loop_at(instrs: &[Instr], i: usize, k: usize) -> Option<(usize, Vec<Steps>)> {
    if i + 2 * k > instrs.len() {
        return None;
    }
    let mut steps = Vec::with_capacity(k);
    for p in 0..k {
        let (a, b) = (instrs[i + p], instrs[i + k + p]);
        if !a.same_shape(b) {
            return None;
        }
        let (oa, ob) = (a.operands().0, b.operands().0);
        let constant = match (a.constant(), b.constant()) {
            (Some(ca), Some(cb)) if ca.to_bits() != cb.to_bits() => cb - ca,
            _ => 0.0,
        };
        steps.push(Steps {
            operands: [
                i64::from(ob[0]) - i64::from(oa[0]),
                i64::from(ob[1]) - i64::from(oa[1]),
            ],
            constant,
        });
    }
    let mut trips = 1;
    'more: while i + (trips + 1) * k <= instrs.len() {
        for (p, st) in steps.iter().enumerate() {
            let (first, now) = (instrs[i + p], instrs[i + trips * k + p]);
            let (o0, o) = (first.operands().0, now.operands().0);
            let want = |q: usize| i64::from(o0[q]) + trips as i64 * st.operands[q];
            let same_constant = match (first.constant(), now.constant()) {
                (Some(c0), Some(c)) => constant_at(c0, st.constant, trips).to_bits() == c.to_bits(),
                _ => true,
            };
            if !first.same_shape(now)
                || i64::from(o[0]) != want(0)
                || i64::from(o[1]) != want(1)
                || !same_constant
            {
                break 'more;
            }
        }
        trips += 1;
    }
    (trips >= MIN_TRIPS).then_some((trips, steps))
}

/// A group of body columns run together: one column over a block of iterations, or the
/// columns of a recurrence (an accumulator updated by several instructions) row by row.
#[derive(Clone, Debug, PartialEq)]
struct Group {
    cols: Vec<usize>,
    by_row: bool,
    /// A row group of slot additions only (a sum accumulated by several `+`): it runs without
    /// dispatching per instruction.
    adds: bool,
}

/// The order in which a loop's columns run within a block of iterations.
///
/// Column `p` depends on column `q` if it reads `q`'s value of the same or of an earlier
/// iteration. The groups are the strongly connected components of that graph, in dependency
/// order: a lone column runs over the whole block (a column that reads its own previous value,
/// like `s = s + t`, runs in iteration order, which a column pass is), and a cycle through
/// earlier iterations (`s1 = s + a; s = s1 + b`) runs row by row. `None`: some operand reads the
/// loop's values with another stride, and the whole loop runs row by row.
fn schedule(start: usize, trips: usize, body: &[(Instr, [i64; 2])]) -> Option<Vec<Group>> {
    let k = body.len();
    let (ki, start) = (k as i64, start as i64);
    // reach[p][q]: p depends on q, transitively
    let mut reach = vec![vec![false; k]; k];
    for (p, (ins, st)) in body.iter().enumerate() {
        if matches!(ins, Instr::Input(_)) {
            continue; // reads `x`, not the values
        }
        let (ops, n) = ins.operands();
        for q in 0..n {
            let (s0, s) = (i64::from(ops[q]), st[q]);
            let last = s0 + (trips as i64 - 1) * s;
            if s0.max(last) < start {
                continue; // computed before the loop
            }
            if s != ki {
                return None;
            }
            reach[p][(s0 - start).rem_euclid(ki) as usize] = true;
        }
    }
    // transitive closure (Warshall): k ≤ MAX_PERIOD
    for m in 0..k {
        let via = reach[m].clone();
        for row in reach.iter_mut().filter(|row| row[m]) {
            row.iter_mut().zip(&via).for_each(|(r, v)| *r |= v);
        }
    }
    // components in dependency order: repeatedly the first column whose dependencies outside
    // its component are all scheduled
    let mut done = vec![false; k];
    let mut groups = Vec::new();
    while let Some(p) = (0..k)
        .find(|&p| !done[p] && (0..k).all(|q| done[q] || !reach[p][q] || (reach[q][p] || q == p)))
    {
        let cols: Vec<usize> = (0..k)
            .filter(|&q| q == p || (reach[p][q] && reach[q][p]))
            .collect();
        cols.iter().for_each(|&q| done[q] = true);
        let by_row = cols.len() > 1;
        groups.push(Group {
            adds: by_row && cols.iter().all(|&c| matches!(body[c].0, Instr::Add(..))),
            by_row,
            cols,
        });
    }
    Some(groups)
}

/// Splits `instrs` (slot 0 is the constant slot) into straight runs and loops; also returns
/// the length of the loop partials buffer.
fn plan(instrs: &[Instr]) -> (Vec<Segment>, usize) {
    let mut segments = Vec::new();
    let mut n_partials = 0;
    let (mut i, mut straight) = (1, 1);
    while i < instrs.len() {
        let found = (1..=MAX_PERIOD).find_map(|k| loop_at(instrs, i, k).map(|l| (k, l)));
        let Some((k, (trips, steps))) = found else {
            i += 1;
            continue;
        };
        if straight < i {
            segments.push(Segment::Straight {
                start: straight,
                end: i,
            });
        }
        let body: Vec<(Instr, [i64; 2])> =
            (0..k).map(|p| (instrs[i + p], steps[p].operands)).collect();
        let (block, groups) = match schedule(i, trips, &body) {
            Some(groups) => (BLOCK, groups),
            None => (
                1,
                vec![Group {
                    cols: (0..k).collect(),
                    by_row: true,
                    adds: false,
                }],
            ),
        };
        let body = body
            .into_iter()
            .zip(&steps)
            .map(|((ins, stride), st)| {
                let col = n_partials;
                n_partials += stored_partials(ins) * trips;
                BodyOp {
                    ins,
                    stride,
                    cstep: st.constant,
                    col,
                }
            })
            .collect();
        segments.push(Segment::Loop {
            start: i,
            trips,
            block,
            groups,
            body,
            local: Vec::new(),
        });
        i += k * trips;
        straight = i;
    }
    if straight < instrs.len() {
        segments.push(Segment::Straight {
            start: straight,
            end: instrs.len(),
        });
    }
    (segments, n_partials)
}

impl Program {
    /// The program of a recording; `reads` are the slots read from outside it (outputs, guards).
    pub(super) fn new(ops: &[OpRec<f64>], reads: &[u32]) -> Self {
        let instrs = compile(ops);
        let (mut segments, n_partials) = plan(&instrs);
        let n_values = localize(&mut segments, ops, reads, instrs.len());
        Program {
            instrs,
            segments,
            n_partials,
            n_values,
        }
    }

    /// The length of the value and adjoint buffers (the slots, then scratch).
    pub(super) fn n_values(&self) -> usize {
        self.n_values
    }

    /// The length of the loop partials buffer that [`Program::forward`] fills.
    pub(super) fn n_partials(&self) -> usize {
        self.n_partials
    }

    /// How many entries run inside re-rolled loops.
    pub(super) fn looped(&self) -> usize {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Loop { trips, body, .. } => trips * body.len(),
                Segment::Straight { .. } => 0,
            })
            .sum()
    }

    /// Recomputes every value and partial at `x` (values[0] is the constant slot): the
    /// partials of straight runs go to the nodes, those of loops to `partials`.
    pub(super) fn forward(
        &self,
        x: &[f64],
        ops: &[OpRec<f64>],
        values: &mut [f64],
        nodes: &mut [Node<f64>],
        partials: &mut [f64],
    ) {
        for seg in &self.segments {
            match seg {
                Segment::Straight { start, end } => {
                    for i in *start..*end {
                        values[i] = step(self.instrs[i], i, x, ops, values, nodes);
                    }
                }
                Segment::Loop {
                    start,
                    trips,
                    body,
                    block,
                    groups,
                    local,
                } => {
                    let (k, trips, block) = (body.len(), *trips, *block);
                    let last = (trips - 1) / block * block;
                    // (`column` is inlined at every call: a closure around it was not, and
                    // cost a call per element of the row groups.)
                    for jb in (0..trips).step_by(block) {
                        let je = (jb + block).min(trips);
                        // local columns read one iteration back: the halo holds iteration jb − 1
                        for l in local.iter().filter(|l| l.value) {
                            if let Some(c) = l.carry {
                                let prev = if jb == 0 { c } else { l.base + block - 1 };
                                values[l.base - 1] = values[prev];
                            }
                        }
                        let at = |p: usize| {
                            addressed((&body[p], p), (*start, k, trips), local, jb, true)
                        };
                        for g in groups {
                            if g.adds {
                                let ops: Vec<_> = g.cols.iter().map(|&p| at(p)).collect();
                                add_rows(&ops, jb..je, values);
                            } else if g.by_row {
                                let ops: Vec<_> = g.cols.iter().map(|&p| at(p)).collect();
                                for j in jb..je {
                                    for (op, c) in &ops {
                                        column(op, *c, j..j + 1, x, values, partials);
                                    }
                                }
                            } else {
                                let (op, c) = at(g.cols[0]);
                                column(&op, c, jb..je, x, values, partials);
                            }
                        }
                    }
                    // the last iteration of a local column is where later code reads it
                    for (p, l) in local.iter().enumerate().filter(|(_, l)| l.value) {
                        values[start + (trips - 1) * k + p] = values[l.base + (trips - 1 - last)];
                    }
                }
            }
        }
    }

    /// Accumulates into `adj` (seeded at the outputs) the adjoints of the inputs, from what
    /// [`Program::forward`] left in `values`, `nodes` and `partials`.
    ///
    /// Every other slot's adjoint is reset to zero once it has been propagated (slot 0, the
    /// constant, collects garbage): the caller clears the inputs and slot 0 and has a zero
    /// buffer for the next sweep, without clearing a buffer as long as the tape.
    pub(super) fn sweep(
        &self,
        values: &[f64],
        nodes: &[Node<f64>],
        partials: &[f64],
        adj: &mut [f64],
    ) {
        for seg in self.segments.iter().rev() {
            match seg {
                Segment::Straight { start, end } => {
                    for i in (*start..*end).rev() {
                        // an input keeps its adjoint: it is the gradient
                        if matches!(self.instrs[i], Instr::Input(_)) {
                            continue;
                        }
                        let g = std::mem::take(&mut adj[i]);
                        let n = nodes[i];
                        adj[n.a as usize] += n.da * g;
                        adj[n.b as usize] += n.db * g;
                    }
                }
                Segment::Loop {
                    start,
                    trips,
                    body,
                    block,
                    groups,
                    local,
                } => {
                    let (k, trips, block) = (body.len(), *trips, *block);
                    let last = (trips - 1) / block * block;
                    // what later code sent to the last iteration of a local column
                    for (p, l) in local.iter().enumerate().filter(|(_, l)| l.adjoint) {
                        let g = std::mem::take(&mut adj[start + (trips - 1) * k + p]);
                        adj[l.base + (trips - 1 - last)] += g;
                    }
                    for jb in (0..=last).rev().step_by(block) {
                        let je = (jb + block).min(trips);
                        // the halo holds what block jb + block sent to iteration jb + block − 1
                        if jb != last {
                            for l in local.iter().filter(|l| l.adjoint && l.carry.is_some()) {
                                let g = std::mem::take(&mut adj[l.base - 1]);
                                adj[l.base + block - 1] += g;
                            }
                        }
                        let at = |p: usize| {
                            let shape = (*start, k, trips);
                            let (op, c) = addressed((&body[p], p), shape, local, jb, false);
                            let (vop, _) = addressed((&body[p], p), shape, local, jb, true);
                            (op, c, vop)
                        };
                        for g in groups.iter().rev() {
                            if g.adds {
                                let ops: Vec<_> = g
                                    .cols
                                    .iter()
                                    .map(|&p| {
                                        let (op, c, _) = at(p);
                                        (op, c)
                                    })
                                    .collect();
                                add_rows_adjoint(&ops, jb..je, adj);
                            } else if g.by_row {
                                let ops: Vec<_> = g.cols.iter().map(|&p| at(p)).collect();
                                for j in (jb..je).rev() {
                                    for (op, c, vop) in ops.iter().rev() {
                                        let js = j..j + 1;
                                        column_adjoint(op, *c, vop, js, values, partials, adj);
                                    }
                                }
                            } else {
                                let (op, c, vop) = at(g.cols[0]);
                                column_adjoint(&op, c, &vop, jb..je, values, partials, adj);
                            }
                        }
                    }
                    // iteration 0's reads one iteration back go to the slots before the loop
                    for l in local.iter().filter(|l| l.adjoint) {
                        if let Some(c) = l.carry {
                            let g = std::mem::take(&mut adj[l.base - 1]);
                            adj[c] += g;
                        }
                    }
                }
            }
        }
    }
}

/// One straight instruction at slot `i`: its value (its partials go to `nodes[i]`).
#[inline(always)]
fn step(
    ins: Instr,
    i: usize,
    x: &[f64],
    ops: &[OpRec<f64>],
    values: &[f64],
    nodes: &mut [Node<f64>],
) -> f64 {
    // Each arm is one primitive of the rule table with its operand kinds resolved when the
    // program was built, so the loop does no per-operand constness test.
    match ins {
        Instr::Input(k) => x[k as usize],
        Instr::Unary(u, a) => {
            let (v, d) = u.rule(values[a as usize]);
            nodes[i].da = d;
            v
        }
        Instr::Binary(b, l, r) => {
            let (v, dx, dy) = b.rule(values[l as usize], values[r as usize]);
            nodes[i].da = dx;
            nodes[i].db = dy;
            v
        }
        Instr::BinaryConstLhs(b, c, r) => {
            let (v, _, dy) = b.rule(c, values[r as usize]);
            nodes[i].db = dy;
            v
        }
        Instr::BinaryConstRhs(b, l, c) => {
            let (v, dx, _) = b.rule(values[l as usize], c);
            nodes[i].da = dx;
            v
        }
        Instr::Add(l, r) => values[l as usize] + values[r as usize],
        Instr::AddConst(a, c) => values[a as usize] + c,
        Instr::MulConst(a, c) => values[a as usize] * c,
        Instr::DivConst(a, c) => values[a as usize] / c,
        Instr::Step(st, a) => st.value(values[a as usize]),
        Instr::MulAddPart => 0.0,
        Instr::MulAdd => {
            let op = ops[i];
            let arg = |k: usize| {
                let s = op.args[k] as usize;
                if s == 0 { op.consts[k] } else { values[s] }
            };
            let (v, da, db, dc) = Ternary::MulAdd.rule(arg(0), arg(1), arg(2));
            if nodes[i].a != 0 {
                nodes[i - 1].da = da;
                nodes[i - 1].db = db;
            }
            nodes[i].db = dc;
            v
        }
    }
}

/// Where a body instruction's copies live: slot `first + j·k` for iteration `j` of `trips`.
#[derive(Clone, Copy)]
struct Column {
    first: usize,
    k: usize,
    trips: usize,
}

/// Body instruction `op` over iterations `js`: values, and the partials the loop stores.
#[inline(always)]
fn column(
    op: &BodyOp,
    c: Column,
    js: std::ops::Range<usize>,
    x: &[f64],
    values: &mut [f64],
    partials: &mut [f64],
) {
    let out = |j: usize| c.first + j * c.k;
    let (st, cs, p, q) = (op.stride, op.cstep, op.col, op.col + c.trips);
    match op.ins {
        Instr::Input(a) => js.for_each(|j| values[out(j)] = x[at(a, st[0], j)]),
        // a column of at least GATHER iterations: gathered into a dense block, evaluated by a
        // vectorized loop, scattered back (the same rule, element for element, to the bit)
        Instr::Unary(u, a) if js.len() >= GATHER => {
            let len = js.len();
            let mut xs = [0.0; BLOCK];
            let mut vs = [0.0; BLOCK];
            for (t, j) in js.clone().enumerate() {
                xs[t] = values[at(a, st[0], j)];
            }
            unary_block(
                u,
                &xs[..len],
                &mut vs[..len],
                &mut partials[p + js.start..][..len],
            );
            for (t, j) in js.enumerate() {
                values[out(j)] = vs[t];
            }
        }
        Instr::Unary(u, a) => {
            for j in js {
                let (v, d) = u.rule(values[at(a, st[0], j)]);
                values[out(j)] = v;
                partials[p + j] = d;
            }
        }
        Instr::Binary(b, l, r) if stored_partials(op.ins) == 2 => {
            for j in js {
                let (v, dx, dy) = b.rule(values[at(l, st[0], j)], values[at(r, st[1], j)]);
                values[out(j)] = v;
                partials[p + j] = dx;
                partials[q + j] = dy;
            }
        }
        Instr::Binary(b, l, r) => js.for_each(|j| {
            values[out(j)] = b.value(values[at(l, st[0], j)], values[at(r, st[1], j)]);
        }),
        Instr::BinaryConstLhs(b, cst, r) if stored_partials(op.ins) == 1 => {
            for j in js {
                let (v, _, dy) = b.rule(constant_at(cst, cs, j), values[at(r, st[0], j)]);
                values[out(j)] = v;
                partials[p + j] = dy;
            }
        }
        Instr::BinaryConstLhs(b, cst, r) => {
            js.for_each(|j| {
                values[out(j)] = b.value(constant_at(cst, cs, j), values[at(r, st[0], j)]);
            });
        }
        Instr::BinaryConstRhs(b, l, cst) if stored_partials(op.ins) == 1 => {
            for j in js {
                let (v, dx, _) = b.rule(values[at(l, st[0], j)], constant_at(cst, cs, j));
                values[out(j)] = v;
                partials[p + j] = dx;
            }
        }
        Instr::BinaryConstRhs(b, l, cst) => {
            js.for_each(|j| {
                values[out(j)] = b.value(values[at(l, st[0], j)], constant_at(cst, cs, j));
            });
        }
        // a running sum `s = s + t` (or `t + s`): the sum stays in a register
        Instr::Add(l, r) if self_carried(op, c).is_some() => {
            let q = self_carried(op, c).unwrap_or(0);
            let (prev, (t, ts)) = ([l, r][q], [(l, st[0]), (r, st[1])][1 - q]);
            let Some(first) = js.clone().next() else {
                return;
            };
            let mut acc = values[at(prev, st[q], first)];
            for j in js {
                acc += values[at(t, ts, j)];
                values[out(j)] = acc;
            }
        }
        Instr::Add(l, r) => js.for_each(|j| {
            values[out(j)] = values[at(l, st[0], j)] + values[at(r, st[1], j)];
        }),
        Instr::AddConst(a, k) => js.for_each(|j| {
            values[out(j)] = values[at(a, st[0], j)] + constant_at(k, cs, j);
        }),
        Instr::MulConst(a, k) => js.for_each(|j| {
            values[out(j)] = values[at(a, st[0], j)] * constant_at(k, cs, j);
        }),
        Instr::DivConst(a, k) => js.for_each(|j| {
            values[out(j)] = values[at(a, st[0], j)] / constant_at(k, cs, j);
        }),
        Instr::Step(s, a) => js.for_each(|j| values[out(j)] = s.value(values[at(a, st[0], j)])),
        Instr::MulAddPart | Instr::MulAdd => unreachable!("mul_add never joins a loop"),
    }
}

/// `(vs, ds)[t] = u.rule(xs[t])`, each primitive in its own loop, compiled for AVX2 + FMA when
/// the CPU has them: with `ferrad::math` in the rule table (the default) the elementary
/// functions inline and these loops vectorize, while a per-element `match` on `u` would not.
/// The rule table's functions use no FMA (this passes no [`crate::simd::Isa`] on), so either
/// copy computes exactly what the tape computes.
#[inline(never)]
fn unary_block(u: Unary, xs: &[f64], vs: &mut [f64], ds: &mut [f64]) {
    macro_rules! arms {
        ($($k:ident),*) => {
            match u {
                $(Unary::$k => crate::simd::dispatch(
                    #[inline(always)]
                    |_| run(Unary::$k, xs, vs, ds),
                ),)*
                // the common small powers as constants, so their loops are branch-free
                Unary::Powi(2) => crate::simd::dispatch(
                    #[inline(always)]
                    |_| run(Unary::Powi(2), xs, vs, ds),
                ),
                Unary::Powi(3) => crate::simd::dispatch(
                    #[inline(always)]
                    |_| run(Unary::Powi(3), xs, vs, ds),
                ),
                Unary::Powi(n) => run(Unary::Powi(n), xs, vs, ds),
            }
        };
    }
    #[inline(always)]
    fn run(u: Unary, xs: &[f64], vs: &mut [f64], ds: &mut [f64]) {
        for ((x, v), d) in xs.iter().zip(vs.iter_mut()).zip(ds.iter_mut()) {
            (*v, *d) = u.rule(*x);
        }
    }
    arms!(
        Neg, Recip, Sqrt, Cbrt, Exp, Exp2, ExpM1, Ln, Log2, Log10, Ln1p, Sin, Cos, Tan, Asin, Acos,
        Atan, Sinh, Cosh, Tanh, Asinh, Acosh, Atanh, Abs
    )
}

/// Which operand of the add `op` (its copies located by `c`) is its own column one iteration
/// back, if one is and the other is not: a running sum.
fn self_carried(op: &BodyOp, c: Column) -> Option<usize> {
    let Instr::Add(l, r) = op.ins else {
        return None;
    };
    let prev = |s: u32, st: i64| st == c.k as i64 && i64::from(s) == c.first as i64 - c.k as i64;
    match (prev(l, op.stride[0]), prev(r, op.stride[1])) {
        (true, false) => Some(0),
        (false, true) => Some(1),
        _ => None,
    }
}

/// The operands of an `Add` body instruction (see [`Group::adds`]).
fn add_operands(op: &BodyOp) -> (u32, u32, i64, i64) {
    match op.ins {
        Instr::Add(l, r) => (l, r, op.stride[0], op.stride[1]),
        _ => unreachable!("an add group holds adds only"),
    }
}

/// A row group of additions over iterations `js`, each with its output column.
#[inline(always)]
fn add_rows(ops: &[(BodyOp, Column)], js: std::ops::Range<usize>, values: &mut [f64]) {
    let ops: Vec<(Column, (u32, u32, i64, i64))> =
        ops.iter().map(|(op, c)| (*c, add_operands(op))).collect();
    for j in js {
        for &(c, (l, r, sl, sr)) in &ops {
            values[c.first + j * c.k] = values[at(l, sl, j)] + values[at(r, sr, j)];
        }
    }
}

/// The adjoint of [`add_rows`]: iterations and columns last first.
#[inline(always)]
fn add_rows_adjoint(ops: &[(BodyOp, Column)], js: std::ops::Range<usize>, adj: &mut [f64]) {
    let ops: Vec<(Column, (u32, u32, i64, i64))> =
        ops.iter().map(|(op, c)| (*c, add_operands(op))).collect();
    for j in js.rev() {
        for &(c, (l, r, sl, sr)) in ops.iter().rev() {
            let g = std::mem::take(&mut adj[c.first + j * c.k]);
            adj[at(l, sl, j)] += g;
            adj[at(r, sr, j)] += g;
        }
    }
}

/// The adjoint of body instruction `op` over iterations `js`, last first. Every partial is
/// the one the rule table gives and the tape's sweep would use (stored, a constant of the rule,
/// or an operand's value for `·`), so a loop sweeps to the same bits; the operand slots come
/// from the strides instead of the nodes.
#[inline(always)]
fn column_adjoint(
    op: &BodyOp,
    c: Column,
    vop: &BodyOp,
    js: std::ops::Range<usize>,
    values: &[f64],
    partials: &[f64],
    adj: &mut [f64],
) {
    let out = |j: usize| c.first + j * c.k;
    let (st, cs, p, q) = (op.stride, op.cstep, op.col, op.col + c.trips);
    // adj[operand] += partial · adj[out], for one operand and iterations `js`, last first
    #[inline(always)]
    fn one_operand(
        adj: &mut [f64],
        out: impl Fn(usize) -> usize,
        js: std::ops::Range<usize>,
        (a, s): (u32, i64),
        d: impl Fn(usize) -> f64,
    ) {
        for j in js.rev() {
            let g = std::mem::take(&mut adj[out(j)]);
            adj[at(a, s, j)] += d(j) * g;
        }
    }
    match op.ins {
        Instr::Input(_) => {} // an input has no operands
        Instr::Unary(_, a) => one_operand(adj, out, js, (a, st[0]), |j| partials[p + j]),
        Instr::Binary(b, l, r) => {
            // (the operands' values, for `·`, may live elsewhere than their adjoints)
            let ([vl, vr], _) = vop.ins.operands();
            for j in js.rev() {
                let g = std::mem::take(&mut adj[out(j)]);
                let (la, ra) = (at(l, st[0], j), at(r, st[1], j));
                let (dx, dy) = match b {
                    Binary::Add => (1.0, 1.0),
                    Binary::Sub => (1.0, -1.0),
                    Binary::Mul => (
                        values[at(vr, vop.stride[1], j)],
                        values[at(vl, vop.stride[0], j)],
                    ),
                    _ => (partials[p + j], partials[q + j]),
                };
                adj[la] += dx * g;
                adj[ra] += dy * g;
            }
        }
        Instr::BinaryConstLhs(b, cst, r) => match b {
            Binary::Add => one_operand(adj, out, js, (r, st[0]), |_| 1.0),
            Binary::Sub => one_operand(adj, out, js, (r, st[0]), |_| -1.0),
            Binary::Mul => one_operand(adj, out, js, (r, st[0]), |j| constant_at(cst, cs, j)),
            _ => one_operand(adj, out, js, (r, st[0]), |j| partials[p + j]),
        },
        Instr::BinaryConstRhs(b, l, cst) => match b {
            Binary::Add | Binary::Sub => one_operand(adj, out, js, (l, st[0]), |_| 1.0),
            Binary::Mul => one_operand(adj, out, js, (l, st[0]), |j| constant_at(cst, cs, j)),
            _ => one_operand(adj, out, js, (l, st[0]), |j| partials[p + j]),
        },
        Instr::Add(l, r) if self_carried(op, c).is_some() => {
            // the adjoint flowing to the previous iteration's sum stays in a register and
            // reaches memory once, at the first iteration (same additions, same order)
            let q = self_carried(op, c).unwrap_or(0);
            let (prev, (t, ts)) = ([l, r][q], [(l, st[0]), (r, st[1])][1 - q]);
            let Some(first) = js.clone().next() else {
                return;
            };
            let mut carry: Option<f64> = None;
            for j in js.rev() {
                let mut g = std::mem::take(&mut adj[out(j)]);
                if let Some(c) = carry {
                    g += c;
                }
                adj[at(t, ts, j)] += g;
                carry = Some(g);
            }
            if let Some(g) = carry {
                adj[at(prev, st[q], first)] += g;
            }
        }
        Instr::Add(l, r) => {
            for j in js.rev() {
                let g = std::mem::take(&mut adj[out(j)]);
                adj[at(l, st[0], j)] += g;
                adj[at(r, st[1], j)] += g;
            }
        }
        Instr::AddConst(a, _) => one_operand(adj, out, js, (a, st[0]), |_| 1.0),
        Instr::MulConst(a, k) => one_operand(adj, out, js, (a, st[0]), |j| constant_at(k, cs, j)),
        Instr::DivConst(a, k) => {
            one_operand(adj, out, js, (a, st[0]), |j| constant_at(k, cs, j).recip())
        }
        // zero derivative, but 0·∞ is NaN on the straight tape too
        Instr::Step(_, a) => one_operand(adj, out, js, (a, st[0]), |_| 0.0),
        Instr::MulAddPart | Instr::MulAdd => unreachable!("mul_add never joins a loop"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loop's start, entries, and groups as (columns, by row).
    type Shape = (usize, usize, Vec<(Vec<usize>, bool)>);

    fn looped_body(segs: &[Segment]) -> Vec<Shape> {
        segs.iter()
            .filter_map(|s| match s {
                Segment::Loop {
                    start,
                    trips,
                    body,
                    groups,
                    ..
                } => Some((
                    *start,
                    trips * body.len(),
                    groups.iter().map(|g| (g.cols.clone(), g.by_row)).collect(),
                )),
                Segment::Straight { .. } => None,
            })
            .collect()
    }

    #[test]
    fn a_map_and_a_sum_reroll_into_loops() {
        // inputs 1..=20, then per input: t = sin(x); s = s + t (s starts as the first t)
        let n = 20u32;
        let mut p = vec![Instr::MulAddPart]; // slot 0 (unused)
        p.extend((0..n).map(Instr::Input));
        let first = p.len() as u32;
        p.push(Instr::Unary(Unary::Sin, 1));
        let mut s = first;
        for i in 1..n {
            let t = p.len() as u32;
            p.push(Instr::Unary(Unary::Sin, 1 + i));
            p.push(Instr::Add(s, t));
            s = t + 1;
        }
        let (segs, _) = plan(&p);
        // the inputs (period 1) and the body (period 2) are loops; the first sin is straight
        assert_eq!(
            looped_body(&segs),
            vec![
                (1, 20, vec![(vec![0], false)]),
                (22, 38, vec![(vec![0], false), (vec![1], false)])
            ],
            "{segs:?}"
        );
    }

    #[test]
    fn a_recurrence_through_two_columns_runs_row_by_row() {
        // per iteration: a = sin(b_prev); b = cos(a): `a` reads column 1 one iteration back
        let mut p = vec![Instr::MulAddPart, Instr::Input(0)];
        let mut b = 1u32;
        for _ in 0..12 {
            let a = p.len() as u32;
            p.push(Instr::Unary(Unary::Sin, b));
            p.push(Instr::Unary(Unary::Cos, a));
            b = a + 1;
        }
        let (segs, _) = plan(&p);
        // `a` reads slots 1, 3, 5, …: the input, then column 1 of the iteration before
        assert_eq!(looped_body(&segs), vec![(2, 24, vec![(vec![0, 1], true)])]);
    }

    /// R's tape over `n` inputs (slots 1..=n), an initial sum `sin x₀` at slot n + 1, then per
    /// input: t = tanh(x); u = t³; s1 = s + u; m = x·x; s = s1 + m. Also returns the last sum.
    fn r_program(n: u32) -> (Vec<Instr>, u32) {
        let mut p = vec![Instr::MulAddPart];
        p.extend((0..n).map(Instr::Input));
        let mut s = p.len() as u32;
        p.push(Instr::Unary(Unary::Sin, 1)); // the initial s
        for i in 0..n {
            let b = p.len() as u32;
            p.push(Instr::Unary(Unary::Tanh, 1 + i));
            p.push(Instr::Unary(Unary::Powi(3), b));
            p.push(Instr::Add(s, b + 1));
            p.push(Instr::Binary(Binary::Mul, 1 + i, 1 + i));
            p.push(Instr::Add(b + 2, b + 3));
            s = b + 4;
        }
        (p, s)
    }

    #[test]
    fn an_accumulator_updated_twice_is_one_row_group_after_the_independent_columns() {
        let (p, _) = r_program(10);
        let (segs, n_partials) = plan(&p);
        assert_eq!(
            looped_body(&segs)[1],
            (
                12,
                50,
                vec![
                    (vec![0], false),
                    (vec![1], false),
                    (vec![3], false),
                    (vec![2, 4], true)
                ]
            )
        );
        // tanh and powi store one partial each; + and · do not
        assert_eq!(n_partials, 2 * 10);
    }

    /// Op records with the operands of `p` (all that [`localize`] reads of straight runs).
    fn ops_of(p: &[Instr]) -> Vec<OpRec<f64>> {
        p.iter()
            .map(|ins| {
                let ([a, b], n) = ins.operands();
                let real = !matches!(ins, Instr::Input(_));
                OpRec {
                    code: OpCode::Input,
                    args: [
                        if real && n > 0 { a } else { 0 },
                        if n > 1 { b } else { 0 },
                        0,
                    ],
                    consts: [0.0; 3],
                }
            })
            .collect()
    }

    #[test]
    fn columns_read_only_by_their_loop_live_in_block_local_scratch() {
        // R's tape over 300 inputs, the sum returned; then the same with a guard on a `tanh`
        let (p, s) = r_program(300);
        let body_start = 1 + 300 + 1; // after slot 0, the inputs and the initial sum
        let locals = |reads: &[u32]| {
            let (mut segs, _) = plan(&p);
            let len = localize(&mut segs, &ops_of(&p), reads, p.len());
            let Segment::Loop { local, .. } = &segs[2] else {
                panic!("{segs:?}")
            };
            (local.clone(), len - p.len())
        };
        let (local, scratch) = locals(&[s]);
        assert!(local.iter().all(|l| l.value && l.adjoint), "{local:?}");
        assert_eq!(scratch, 5 * (BLOCK + 1));
        // column 2 reads column 4 one iteration back: at iteration 0, the sum before the loop
        assert_eq!(local[4].carry, Some(body_start - 1));
        assert_eq!(local[0].carry, None);
        // a guard on the tanh of iteration 7 pins that column to its slots
        let (local, scratch) = locals(&[s, body_start as u32 + 7 * 5]);
        assert_eq!(local[0], Local::default());
        assert!(local[1..].iter().all(|l| l.adjoint));
        assert_eq!(scratch, 4 * (BLOCK + 1));
    }

    #[test]
    fn constants_that_step_by_a_fixed_amount_join_the_loop() {
        // x·k for k = 1, 2, 3, …: one loop whose constant steps by 1; then x·0.1·k, whose
        // constants are not c₀ + j·step to the bit everywhere: only exact runs re-roll
        let mut p = vec![Instr::MulAddPart, Instr::Input(0)];
        p.extend((1..=20).map(|k| Instr::MulConst(1, k as f64)));
        let (segs, _) = plan(&p);
        assert_eq!(looped_body(&segs), vec![(2, 20, vec![(vec![0], false)])]);
        match &segs[1] {
            Segment::Loop { body, .. } => assert_eq!(body[0].cstep, 1.0),
            other => panic!("{other:?}"),
        }
        let mut q = vec![Instr::MulAddPart, Instr::Input(0)];
        q.extend((1..=40).map(|k| Instr::MulConst(1, 0.1 * k as f64)));
        let (segs, _) = plan(&q);
        for s in &segs {
            if let Segment::Loop {
                start, trips, body, ..
            } = s
            {
                for j in 0..*trips {
                    let Instr::MulConst(_, c) = q[start + j] else {
                        panic!()
                    };
                    let Instr::MulConst(_, c0) = body[0].ins else {
                        panic!()
                    };
                    assert_eq!(constant_at(c0, body[0].cstep, j).to_bits(), c.to_bits());
                }
            }
        }
    }

    #[test]
    fn short_runs_stay_straight() {
        let mut p = vec![Instr::MulAddPart];
        p.extend((0..(MIN_TRIPS as u32 - 1)).map(Instr::Input));
        assert!(looped_body(&plan(&p).0).is_empty());
        assert_eq!(
            plan(&p).0,
            vec![Segment::Straight {
                start: 1,
                end: MIN_TRIPS
            }]
        );
    }
}
