//! Block-local columns: loop values and adjoints that never leave their block of iterations.
//!
//! A loop column whose slots are read only by its own loop, in the same iteration or the next,
//! is needed only while its block runs: in the forward pass until the block's later columns
//! have read it, in the sweep until its adjoint has been propagated. Such a column lives in a
//! scratch area of [`BLOCK`] entries (plus one *halo* entry in front, for the value or adjoint
//! that crosses into the neighbouring block) appended to the value and adjoint buffers, instead
//! of one entry per iteration interleaved with the other columns. R at n = 10⁶ then writes and
//! sweeps a few kilobytes that stay in L1 instead of streaming 48 MB of values and 48 MB of
//! adjoints through memory. Its last iteration's slot, which later code may read, is copied out
//! after the forward pass (its adjoint copied in before the sweep).
//!
//! Invariant: a column is local only if every read of its slots by anything but its own loop
//! is of the last iteration's slot, and its own loop reads it in the same iteration or the
//! next only (lag 0 or 1). Its value stays local only if nothing reads it in the sweep (an
//! operand of `x·y`, whose partials are the other operand's value).

use super::{BLOCK, BodyOp, Column, Instr, Segment, at};
use crate::reverse::tape::OpRec;
use crate::rules::Binary;

/// Where a loop column lives (see the module docs). `base` is its first scratch entry; the
/// halo is `base − 1`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Local {
    pub(super) base: usize,
    /// Values in scratch (else in their interleaved slots).
    pub(super) value: bool,
    /// Adjoints in scratch (else in their interleaved slots).
    pub(super) adjoint: bool,
    /// The slot iteration 0 reads as "the previous iteration" of this column, if some body
    /// instruction reads the column one iteration back.
    pub(super) carry: Option<usize>,
}

/// Decides which loop columns are local, gives them scratch entries from `len` (the tape
/// length) on, and returns the buffer length with the scratch. `reads` are slots read from
/// outside the program (guards, outputs).
pub(super) fn localize(
    segments: &mut [Segment],
    ops: &[OpRec<f64>],
    reads: &[u32],
    len: usize,
) -> usize {
    // loop ranges, for finding the loop of a slot
    let loops: Vec<(usize, usize, usize, usize)> = segments
        .iter()
        .enumerate()
        .filter_map(|(s, seg)| match seg {
            Segment::Loop {
                start, trips, body, ..
            } => Some((*start, start + trips * body.len(), body.len(), s)),
            Segment::Straight { .. } => None,
        })
        .collect();
    let find = |slot: usize| {
        let i = loops.partition_point(|l| l.1 <= slot);
        loops.get(i).filter(|l| l.0 <= slot)
    };
    // ok[s][p]: column p of segment s may be local
    let mut ok: Vec<Vec<bool>> = segments
        .iter()
        .map(|seg| match seg {
            Segment::Loop { body, block, .. } => {
                let eligible =
                    *block == BLOCK && !body.iter().any(|b| matches!(b.ins, Instr::Input(_)));
                vec![eligible; body.len()]
            }
            Segment::Straight { .. } => Vec::new(),
        })
        .collect();
    // a read of `slot` from outside its loop: only the last iteration's slot may be read so
    let outside = |ok: &mut Vec<Vec<bool>>, slot: usize| {
        if let Some(&(start, end, k, s)) = find(slot)
            && slot < end - k
        {
            ok[s][(slot - start) % k] = false;
        }
    };
    for &r in reads {
        outside(&mut ok, r as usize);
    }
    let mut carries: Vec<Vec<Option<usize>>> = ok.iter().map(|o| vec![None; o.len()]).collect();
    let mut mul_read: Vec<Vec<bool>> = ok.iter().map(|o| vec![false; o.len()]).collect();
    for (s, seg) in segments.iter().enumerate() {
        match seg {
            Segment::Straight { start, end } => {
                for op in &ops[*start..*end] {
                    for &a in op.args.iter().filter(|&&a| a != 0) {
                        outside(&mut ok, a as usize);
                    }
                }
            }
            Segment::Loop {
                start, trips, body, ..
            } => {
                let k = body.len();
                // (an input's operand indexes `x`, not the slots)
                for op in body.iter().filter(|b| !matches!(b.ins, Instr::Input(_))) {
                    let (opnds, n) = op.ins.operands();
                    let is_mul = matches!(op.ins, Instr::Binary(Binary::Mul, ..));
                    for (&a, &st) in opnds.iter().zip(&op.stride).take(n) {
                        let own = st == k as i64 && (a as usize) + k > *start;
                        if own && a as usize >= *start {
                            // the same iteration's column
                            let p = a as usize - start;
                            mul_read[s][p] |= is_mul;
                        } else if own {
                            // the previous iteration's column; iteration 0 reads `a`
                            let p = a as usize + k - start;
                            mul_read[s][p] |= is_mul;
                            carries[s][p] = Some(a as usize);
                            outside(&mut ok, a as usize);
                        } else if st == 0 {
                            outside(&mut ok, a as usize);
                        } else {
                            for j in 0..*trips {
                                outside(&mut ok, at(a, st, j));
                            }
                        }
                    }
                }
            }
        }
    }
    // hand out scratch entries
    let mut next = len;
    for (s, seg) in segments.iter_mut().enumerate() {
        if let Segment::Loop { local, body, .. } = seg {
            *local = (0..body.len())
                .map(|p| {
                    if !ok[s][p] {
                        return Local::default();
                    }
                    let base = next + 1;
                    next += BLOCK + 1;
                    Local {
                        base,
                        value: !mul_read[s][p],
                        adjoint: true,
                        carry: carries[s][p],
                    }
                })
                .collect();
        }
    }
    next
}

/// Body instruction `op` (column `p` of a loop at `start` with `k` columns) with its output
/// and operands addressed for the block starting at iteration `jb`: local columns at
/// `base − jb + j` (`base − 1 − jb + j` one iteration back), the others at their slots.
/// `values` picks the value placement, else the adjoint one.
pub(super) fn addressed(
    (op, p): (&BodyOp, usize),
    (start, k, trips): (usize, usize, usize),
    local: &[Local],
    jb: usize,
    values: bool,
) -> (BodyOp, Column) {
    let here = |l: &Local| if values { l.value } else { l.adjoint };
    let column = match local.get(p).filter(|l| here(l)) {
        Some(l) => Column {
            first: l.base - jb,
            k: 1,
            trips,
        },
        None => Column {
            first: start + p,
            k,
            trips,
        },
    };
    let (mut opnds, n) = op.ins.operands();
    let mut stride = op.stride;
    if !matches!(op.ins, Instr::Input(_)) {
        for q in 0..n {
            let (a, st) = (opnds[q] as usize, op.stride[q]);
            if st != k as i64 || a + k <= start {
                continue;
            }
            let (col, lag) = if a >= start {
                (a - start, 0)
            } else {
                (a + k - start, 1)
            };
            if let Some(l) = local.get(col).filter(|l| here(l)) {
                opnds[q] = (l.base - lag - jb) as u32;
                stride[q] = 1;
            }
        }
    }
    let ins = if n > 0 {
        op.ins.with_operands(opnds)
    } else {
        op.ins
    };
    (BodyOp { ins, stride, ..*op }, column)
}
