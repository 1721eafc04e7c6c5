//! Parallel loops ([`Simd::par`]): an outermost loop of independent iterations, in fixed
//! chunks on `::ferrad::par`'s thread pool.
//!
//! ```text
//! let acc9 = if ::ferrad::par::loop_in_chunks(n1) {
//!     let parts10 = ::ferrad::par::map_chunks(
//!         (0..n1).step_by(C).zip(x2.chunks(C)).zip(x3.chunks_mut(C)),
//!         |((b11, y12), y13)| {
//!             let m14 = ::core::cmp::min(C, n1 - b11);
//!             let x15 = &y12[..m14];
//!             let x16 = &mut y13[..m14];
//!             (the loop over 0..m14, its sums from -0.0)
//!         },
//!     );
//!     let mut acc = init;
//!     for p in parts10 { acc += p; }
//!     acc
//! } else {
//!     (the loop as without `par`)
//! };
//! ```
//!
//! The loop qualifies by the analyses the lane split and the re-slicing already make: its
//! carried values are all sums ([`Em::is_sum`]), and every buffer from outside that it writes is
//! one that [`Em::indexed_bufs`] found indexed by the loop index only, so each chunk writes
//! its own `chunks_mut` slice and safe Rust proves the tasks disjoint.

use std::collections::HashSet;

use super::{Em, Simd};
use crate::ir::*;

/// The chunk a parallel loop's body is being emitted for.
pub(super) struct Chunk {
    /// The loop index.
    pub(super) ix: Value,
    /// The name of the chunk's first index.
    pub(super) base: String,
    /// The buffers cut into chunks, indexed by [`Chunk::local`].
    pub(super) bufs: HashSet<Value>,
    /// How many loads and stores of [`Chunk::bufs`] use the index.
    pub(super) replaced: usize,
    /// The counter of the loop now being emitted, from 0 in the chunk.
    pub(super) local: String,
}

/// `::ferrad::par::LOOP_CHUNK`, the iterations per chunk.
const CHUNK: &str = "::ferrad::par::LOOP_CHUNK";

impl Em<'_> {
    /// The buffers to cut into chunks if the loop with body `body` (reversed when `rev`, from
    /// index 0 when `from_zero`) runs in parallel; `None` when it stays one loop. `bufs` are the
    /// buffers it indexes only by its index ([`Em::indexed_bufs`]).
    pub(super) fn par_plan(
        &self,
        body: Block,
        rev: bool,
        from_zero: bool,
        bufs: &[(Value, usize, bool)],
    ) -> Option<Vec<(Value, usize, bool)>> {
        let Simd { par, lanes, .. } = self.simd;
        let bd = self.f.block(body);
        let ix = bd.params[0];
        if !par || self.loop_depth > 0 || rev || !self.usize_vals.contains(&ix) {
            return None;
        }
        let carried = &bd.params[1..];
        // with sequential sums, chunks would reorder them
        let sums_ok = carried.is_empty() || lanes >= 2;
        if !sums_ok || !self.carries_only_sums(body) {
            return None;
        }
        // the buffers are cut from index 0; from elsewhere, none is
        let chunked = if from_zero { bufs.to_vec() } else { vec![] };
        let cut: HashSet<Value> = chunked.iter().map(|&(b, _, _)| b).collect();
        (!self.writes_other(body, &cut)).then_some(chunked)
    }

    /// Whether block `b` writes (stores into, or passes as `&mut` to a call) a buffer defined
    /// outside it that is not in `cut`.
    fn writes_other(&self, b: Block, cut: &HashSet<Value>) -> bool {
        fn defs(e: &Em<'_>, b: Block, out: &mut HashSet<Value>) {
            for &i in &e.f.block(b).insts {
                let d = e.f.inst(i);
                out.extend(&d.results);
                for nb in d.op.blocks() {
                    defs(e, nb, out);
                }
            }
        }
        fn writes(e: &Em<'_>, b: Block, ok: &dyn Fn(Value) -> bool) -> bool {
            e.f.block(b).insts.iter().any(|&i| {
                let d = e.f.inst(i);
                let bad = match d.op {
                    Op::Store => !ok(d.args[0]),
                    _ => d
                        .args
                        .iter()
                        .any(|&a| e.f.ty(a) == Type::BufMut && d.op != Op::Load && !ok(a)),
                };
                bad || d.op.blocks().into_iter().any(|nb| writes(e, nb, ok))
            })
        }
        let mut inside = HashSet::new();
        defs(self, b, &mut inside);
        writes(self, b, &|v| inside.contains(&v) || cut.contains(&v))
    }

    /// Loop `d` as `if loop_in_chunks(trip) { chunks on the pool } else { the loop }`; `lo..n`
    /// its range, `split` whether its sums run in lanes, `chunked` the buffers cut into chunks
    /// (`bufs` all the buffers it indexes by its index), `inits` its carried values' initial
    /// values.
    // (the loop's parts, as emit_for has them: a struct for one call would not be clearer)
    #[allow(clippy::too_many_arguments)]
    pub(super) fn emit_par(
        &mut self,
        d: &InstData,
        body: Block,
        depth: usize,
        (lo, n): (&str, &str),
        split: bool,
        chunked: &[(Value, usize, bool)],
        bufs: &[(Value, usize, bool)],
        inits: &[String],
    ) {
        let ix = self.f.block(body).params[0];
        let outs: Vec<String> = d.results.iter().map(|_| self.fresh("acc")).collect();
        let trip = if lo == "0" {
            n.to_string()
        } else {
            format!("usize::saturating_sub({n}, {lo})")
        };
        let cond = format!("if ::ferrad::par::loop_in_chunks({trip}) {{");
        self.line(
            depth,
            &match outs.len() {
                0 => cond,
                1 => format!("let {} = {cond}", outs[0]),
                _ => format!("let ({}) = {cond}", outs.join(", ")),
            },
        );
        // The chunks: their first index and a slice of each buffer cut.
        let base = self.fresh("b");
        let mut tasks = format!("({lo}..{n}).step_by({CHUNK})");
        let mut pat = base.clone();
        let mut cuts = vec![];
        for &(buf, _, stored) in chunked {
            let y = self.fresh("y");
            let m = if stored { "chunks_mut" } else { "chunks" };
            tasks = format!("{tasks}.zip({}.{m}({CHUNK}))", self.names[&buf]);
            pat = format!("({pat}, {y})");
            cuts.push((buf, y, stored));
        }
        let parts = self.fresh("parts");
        let assign = if outs.is_empty() {
            String::new()
        } else {
            format!("let {parts} = ")
        };
        self.line(depth + 1, &format!("{assign}::ferrad::par::map_chunks("));
        self.line(depth + 2, &format!("{tasks},"));
        self.line(depth + 2, &format!("|{pat}| {{"));
        // The chunk runs on a pool thread: it dispatches to AVX2 itself.
        let inner = if self.simd.dispatch {
            let d = self.dispatcher();
            self.line(depth + 3, &format!("{d}(#[inline(always)] |isa| {{"));
            depth + 4
        } else {
            depth + 3
        };
        let m = self.fresh("m");
        self.line(
            inner,
            &format!("let {m} = ::core::cmp::min({CHUNK}, {n} - {base});"),
        );
        let saved: Vec<(Value, String)> = cuts
            .iter()
            .map(|(b, _, _)| (*b, self.names[b].clone()))
            .collect();
        for (buf, y, stored) in &cuts {
            // cut to the chunk's length again, so the indexing inside needs no bounds checks
            let x = self.fresh("x");
            let amp = if *stored { "&mut " } else { "&" };
            self.line(inner, &format!("let {x} = {amp}{y}[..{m}];"));
            self.names.insert(*buf, x);
        }
        self.par = Some(Chunk {
            ix,
            base,
            bufs: cuts.iter().map(|c| c.0).collect(),
            replaced: chunked.iter().map(|&(_, k, _)| k).sum(),
            local: String::new(),
        });
        // each chunk's sums start from the exact identity of IEEE addition
        let zeros = vec!["-0.0".to_string(); inits.len()];
        if split {
            self.emit_lanes(d, body, inner, ("0", &m), chunked, &zeros);
        } else {
            self.emit_plain_for(d, body, false, inner, ("0", &m), &zeros);
        }
        self.par = None;
        for (b, name) in saved {
            self.names.insert(b, name);
        }
        self.yield_results(d, inner);
        if self.simd.dispatch {
            self.line(depth + 3, "})");
        }
        self.line(depth + 2, "},");
        self.line(depth + 1, ");");
        // The parts, added in chunk order.
        if !outs.is_empty() {
            let accs: Vec<String> = inits
                .iter()
                .map(|init| {
                    let a = self.fresh("acc");
                    self.line(depth + 1, &format!("let mut {a} = {init};"));
                    a
                })
                .collect();
            let ps: Vec<String> = accs.iter().map(|_| self.fresh("p")).collect();
            let pat = match ps.len() {
                1 => ps[0].clone(),
                _ => format!("({})", ps.join(", ")),
            };
            self.line(depth + 1, &format!("for {pat} in {parts} {{"));
            for (a, p) in accs.iter().zip(&ps) {
                self.line(depth + 2, &format!("{a} += {p};"));
            }
            self.line(depth + 1, "}");
            self.line(depth + 1, &tuple(&accs));
        }
        self.line(depth, "} else {");
        if split {
            self.emit_lanes(d, body, depth + 1, (lo, n), bufs, inits);
        } else {
            self.emit_plain_for(d, body, false, depth + 1, (lo, n), inits);
        }
        self.yield_results(d, depth + 1);
        self.line(depth, if outs.is_empty() { "}" } else { "};" });
        for (&r, o) in d.results.iter().zip(outs) {
            self.names.insert(r, o);
        }
    }

    /// The line yielding loop `d`'s results as the loop emitters named them (none: no line).
    fn yield_results(&mut self, d: &InstData, depth: usize) {
        if !d.results.is_empty() {
            let names: Vec<String> = d.results.iter().map(|r| self.names[r].clone()).collect();
            self.line(depth, &tuple(&names));
        }
    }
}

/// `a` or `(a, b, …)`.
fn tuple(xs: &[String]) -> String {
    match xs.len() {
        1 => xs[0].clone(),
        _ => format!("({})", xs.join(", ")),
    }
}
