//! Windows: an innermost loop whose loads and stores are all at `base + i`, each `base`
//! invariant in the loop, runs over contiguous slices of its buffers. A plain loop runs as
//! below (in its own order if it carries values); one whose carried values are sums runs in
//! lanes, its windows copied
//! a chunk at a time like the re-sliced buffers of any lane loop (gmm's dot products of packed
//! columns, `Σ_r l[sa + r] · l[sb + r]`: bounds-checked scalar loads before).
//!
//! ```text
//! let lo5 = v56 as usize;
//! let hi6 = v1;
//! if lo5 < hi6 {
//!     let len7 = hi6 - lo5;
//!     let s8 = (v90 - i89 as i64 - 1 + lo5 as i64) as usize;
//!     let s9 = (v57 - i55 as i64 - 1 + lo5 as i64) as usize;
//!     if s8 + len7 <= s9 || s9 + len7 <= s8 {
//!         let (w10, w11) = (the two windows of p6, by `split_at_mut`);
//!         let w12 = &p5[s8..s8 + len7];
//!         for j13 in 0..len7 {
//!             w11[j13] += v107 * w12[j13];
//!             ...
//!         }
//!     } else {
//!         (the loop as it was)
//!     }
//! }
//! ```
//!
//! This is the shape of reverse sweeps over packed triangular storage: gmm's weighted beta
//! sums add into two columns of one adjoint buffer at `sa + r` and `sb + r`. Written as
//! indexing at computed offsets, each access is bounds-checked and the two stores into one
//! buffer may overlap, so the loop stays scalar (and reversed, as the VJP made it). In
//! windows, each stored element is touched by one iteration only (each window is indexed by
//! the counter alone, and the windows of a stored buffer are checked disjoint at run time),
//! so the order is free and LLVM vectorizes the loop without overlap checks. When the windows
//! of a stored buffer overlap, the loop runs as it was.
//!
//! With three or more windows in one stored buffer (coordinates stored as blocks of one
//! buffer, `x[i]`, `x[n + i]`, `x[2n + i]`, or the gates of an LSTM cell), the emitted function
//! defines a small helper that sorts the windows by their starts, cuts them with
//! `split_at_mut`, and returns `None` when two overlap, in which case the loop runs as it was.

use std::collections::{HashMap, HashSet};

use super::{ADD, Em};
use crate::ir::*;

/// The most windows of one stored buffer (each pair must be disjoint: checked at run time).
const MAX_STORED: usize = 8;

/// The local helper that cuts `K` disjoint windows out of one buffer, named `name`: the
/// windows in the order of their starts, `None` if two overlap (a window past the end panics
/// in `split_at_mut`, as the loop's access would).
fn windows_helper(name: &str) -> String {
    format!(
        "fn {name}<const K: usize>(buf: &mut [f64], starts: [usize; K], len: usize) \
         -> ::core::option::Option<[&mut [f64]; K]> {{ \
         let mut order = [0; K]; for (k, o) in order.iter_mut().enumerate() {{ *o = k; }} \
         order.sort_unstable_by_key(|&k| starts[k]); \
         let mut out: [::core::option::Option<&mut [f64]>; K] = [const {{ None }}; K]; \
         let (mut rest, mut at) = (buf, 0); \
         for k in order {{ if starts[k] < at {{ return None; }} \
         let (_, tail) = ::core::mem::take(&mut rest).split_at_mut(starts[k] - at); \
         let (w, tail) = tail.split_at_mut(len); \
         out[k] = Some(w); rest = tail; at = starts[k] + len; }} \
         Some(out.map(|w| w.unwrap())) }}"
    )
}

/// A loop-invariant integer: the sum of signed values defined outside the loop plus a
/// constant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Offset {
    /// `(value, +1 or −1)`, sorted, no value twice.
    terms: Vec<(Value, i64)>,
    konst: i64,
}

impl Offset {
    fn add(mut self, other: &Offset, sign: i64) -> Offset {
        for &(v, s) in &other.terms {
            match self.terms.iter().position(|&(w, _)| w == v) {
                Some(k) => {
                    self.terms[k].1 += s * sign;
                    if self.terms[k].1 == 0 {
                        self.terms.remove(k);
                    }
                }
                None => self.terms.push((v, s * sign)),
            }
        }
        self.terms.sort_by_key(|&(v, _)| v.0);
        self.konst += other.konst * sign;
        self
    }
}

/// The windows of one buffer.
struct WindowBuf {
    buf: Value,
    stored: bool,
    /// Distinct offsets (the window of offset `o` starts at `o + lo`).
    offsets: Vec<Offset>,
}

/// The windows of a loop: every buffer it loads or stores, and for each `(buffer, index)` of
/// its loads and stores, which buffer and offset.
pub(super) struct WindowPlan {
    bufs: Vec<WindowBuf>,
    at: HashMap<(Value, Value), (usize, usize)>,
}

impl Em<'_> {
    /// The windows of the loop over `ix` with body `body`, if it qualifies: a straight-line
    /// body (no nested blocks; the caller decides how its carried values run) whose every
    /// buffer use is a load or store at `base + ix` (`base` invariant,
    /// made of values from outside the loop, constants, `+` and `-`), with some `base` not 0
    /// (otherwise plain re-slicing does the job), and at most [`MAX_STORED`] windows in each
    /// buffer it stores into.
    pub(super) fn window_plan(&self, body: Block, ix: Value) -> Option<WindowPlan> {
        let bd = self.f.block(body);
        let mut bufs: Vec<WindowBuf> = vec![];
        let mut at = HashMap::new();
        let mut shifted = false;
        for &i in &bd.insts {
            let d = self.f.inst(i);
            if !d.op.blocks().is_empty() {
                return None;
            }
            match d.op {
                Op::Load | Op::Store => {
                    let (buf, idx) = (d.args[0], d.args[1]);
                    if self.def_block.get(&buf) == Some(&body) {
                        return None;
                    }
                    let off = self.affine(idx, ix, body)?;
                    shifted |= off != Offset::default();
                    let b = match bufs.iter().position(|w| w.buf == buf) {
                        Some(b) => b,
                        None => {
                            bufs.push(WindowBuf {
                                buf,
                                stored: false,
                                offsets: vec![],
                            });
                            bufs.len() - 1
                        }
                    };
                    let w = &mut bufs[b];
                    w.stored |= d.op == Op::Store;
                    let o = match w.offsets.iter().position(|o| *o == off) {
                        Some(o) => o,
                        None => {
                            w.offsets.push(off);
                            w.offsets.len() - 1
                        }
                    };
                    at.insert((buf, idx), (b, o));
                }
                _ => {
                    if d.args.iter().any(|&a| self.f.ty(a).is_buf())
                        || d.results.iter().any(|&r| self.f.ty(r).is_buf())
                    {
                        return None;
                    }
                }
            }
        }
        let fits = bufs
            .iter()
            .all(|w| !w.stored || w.offsets.len() <= MAX_STORED);
        (shifted && fits).then_some(WindowPlan { bufs, at })
    }

    /// `v` as `ix + offset`, or as `offset` (coefficient 0 of `ix`), when it is one.
    fn affine_parts(&self, v: Value, ix: Value, body: Block) -> Option<(i64, Offset)> {
        if v == ix {
            return Some((1, Offset::default()));
        }
        if let Some(c) = self.consts.get(&v) {
            return match c {
                Const::I64(k) => Some((
                    0,
                    Offset {
                        terms: vec![],
                        konst: *k,
                    },
                )),
                _ => None,
            };
        }
        if self.f.ty(v) != Type::I64 {
            return None;
        }
        if self.def_block.get(&v) != Some(&body) {
            return Some((
                0,
                Offset {
                    terms: vec![(v, 1)],
                    konst: 0,
                },
            ));
        }
        let d = self.f.inst(*self.def.get(&v)?);
        let sign = match d.op {
            Op::Int(IntOp::Add) => 1,
            Op::Int(IntOp::Sub) => -1,
            _ => return None,
        };
        let (ca, a) = self.affine_parts(d.args[0], ix, body)?;
        let (cb, b) = self.affine_parts(d.args[1], ix, body)?;
        Some((ca + sign * cb, a.add(&b, sign)))
    }

    /// `v` as `ix + offset`.
    fn affine(&self, v: Value, ix: Value, body: Block) -> Option<Offset> {
        match self.affine_parts(v, ix, body)? {
            (1, off) => Some(off),
            _ => None,
        }
    }

    /// The integer instructions of `body` whose results only feed the indices of the windowed
    /// loads and stores of `plan` (directly or through each other): in windows, nothing
    /// computes them.
    fn index_only(&self, body: Block, plan: &WindowPlan) -> HashSet<Inst> {
        let (insts, yields) = (&self.f.block(body).insts, &self.f.block(body).yields);
        let mut skip: HashSet<Inst> = insts
            .iter()
            .copied()
            .filter(|&i| matches!(self.f.inst(i).op, Op::Int(_)))
            .collect();
        loop {
            let keep: Vec<Inst> = skip
                .iter()
                .copied()
                .filter(|&i| {
                    let r = self.f.inst(i).results[0];
                    yields.contains(&r)
                        || insts.iter().any(|&u| {
                            let d = self.f.inst(u);
                            d.args.iter().enumerate().any(|(k, &a)| {
                                a == r
                                    && !skip.contains(&u)
                                    && !(k == 1
                                        && matches!(d.op, Op::Load | Op::Store)
                                        && plan.at.contains_key(&(d.args[0], a)))
                            })
                        })
                })
                .collect();
            if keep.is_empty() {
                return skip;
            }
            for i in keep {
                skip.remove(&i);
            }
        }
    }

    /// `off` as an `i64` expression (its added terms first: `-x as i64` would negate before
    /// the cast).
    fn offset_expr(&self, off: &Offset) -> String {
        let mut terms: Vec<(i64, String)> = off
            .terms
            .iter()
            .map(|&(v, sign)| (sign, self.valp(v, ADD + 1, false)))
            .collect();
        terms.sort_by_key(|&(sign, _)| -sign);
        let mut s = String::new();
        for (sign, term) in terms {
            for _ in 0..sign.unsigned_abs() {
                match (s.is_empty(), sign > 0) {
                    (true, true) => s.push_str(&term),
                    (true, false) => s.push_str(&format!("0 - {term}")),
                    (false, true) => s.push_str(&format!(" + {term}")),
                    (false, false) => s.push_str(&format!(" - {term}")),
                }
            }
        }
        match (s.is_empty(), off.konst) {
            (true, k) => format!("{k}"),
            (false, 0) => s,
            (false, k) if k > 0 => format!("{s} + {k}"),
            (false, k) => format!("{s} - {}", -k),
        }
    }

    /// The loop `d` over `lo..hi` (index `ix`, `as_usize` when it counts in `usize`) with body
    /// `body`, in the windows of `plan`: in lanes when `split` (its carried values are sums),
    /// else plain, reversed when `rev` and it carries values; as it was (reversed when `rev`)
    /// when the windows of a stored buffer overlap.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn emit_windows(
        &mut self,
        d: &InstData,
        body: Block,
        (rev, split): (bool, bool),
        depth: usize,
        (lo, hi): (&str, &str),
        as_usize: bool,
        inits: &[String],
        plan: WindowPlan,
    ) {
        let ix = self.f.block(body).params[0];
        // The loop's results, named before the `if` that skips an empty range.
        let results: Vec<String> = inits
            .iter()
            .map(|init| {
                let r = self.fresh("acc");
                self.line(depth, &format!("let mut {r} = {init};"));
                r
            })
            .collect();
        if !split {
            // (a plain body updates the carried variables in place)
            let params = self.f.block(body).params[1..].to_vec();
            for (&p, r) in params.iter().zip(&results) {
                self.names.insert(p, r.clone());
            }
        }
        let (l, h, len) = (self.fresh("lo"), self.fresh("hi"), self.fresh("len"));
        self.line(depth, &format!("let {l} = {lo};"));
        self.line(depth, &format!("let {h} = {hi};"));
        self.line(depth, &format!("if {l} < {h} {{"));
        let d1 = depth + 1;
        let n = if as_usize {
            format!("{h} - {l}")
        } else {
            format!("({h} - {l}) as usize")
        };
        self.line(d1, &format!("let {len} = {n};"));
        let starts = self.window_starts(&plan, &l, as_usize, d1);
        // Stored buffers with several windows: two are checked disjoint here and cut by
        // `split_at_mut`; with three or more anywhere, every such buffer is cut by a local
        // helper that sorts its windows and returns `None` when two overlap.
        let multi: Vec<usize> = (0..plan.bufs.len())
            .filter(|&b| plan.bufs[b].stored && plan.bufs[b].offsets.len() >= 2)
            .collect();
        let helper = multi
            .iter()
            .any(|&b| plan.bufs[b].offsets.len() >= 3)
            .then(|| self.fresh("__windows"));
        let mut names: Vec<Vec<String>> = vec![vec![]; plan.bufs.len()];
        let mut checks: Vec<String> = vec![];
        if helper.is_none() {
            for &b in &multi {
                let (a, c) = (&starts[b][0], &starts[b][1]);
                let check = format!("{a} + {len} <= {c} || {c} + {len} <= {a}");
                if !checks.contains(&check) {
                    checks.push(check);
                }
            }
        }
        let d2 = match (&helper, checks.len()) {
            (Some(h), _) => {
                self.line(d1, &windows_helper(h));
                let mut pats = vec![];
                let mut calls = vec![];
                for &b in &multi {
                    let ws: Vec<String> = starts[b].iter().map(|_| self.fresh("w")).collect();
                    let orig = self.names[&plan.bufs[b].buf].clone();
                    pats.push(format!("Some([{}])", ws.join(", ")));
                    calls.push(format!(
                        "{h}(&mut {orig}[..], [{}], {len})",
                        starts[b].join(", ")
                    ));
                    names[b] = ws;
                }
                self.line(
                    d1,
                    &format!("if let ({},) = ({},) {{", pats.join(", "), calls.join(", ")),
                );
                d1 + 1
            }
            (None, 0) => d1,
            (None, 1) => {
                self.line(d1, &format!("if {} {{", checks[0]));
                d1 + 1
            }
            (None, _) => {
                self.line(d1, &format!("if ({}) {{", checks.join(") && (")));
                d1 + 1
            }
        };
        self.cut_windows(&plan, &starts, &len, d2, &mut names);
        let fallback = helper.is_some() || !checks.is_empty();
        let skip = self.index_only(body, &plan);
        // (a carried value may be the index itself)
        let ix_used = self.f.block(body).yields.contains(&ix)
            || self.f.block(body).insts.iter().any(|&i| {
                let d = self.f.inst(i);
                !skip.contains(&i)
                    && d.args
                        .iter()
                        .enumerate()
                        .any(|(k, &a)| a == ix && !(k == 1 && matches!(d.op, Op::Load | Op::Store)))
            });
        let win = WinIx {
            j: self.fresh("j"),
            lo: l.clone(),
            as_usize,
            ix_used,
        };
        let mut places = HashMap::new();
        for (&key, &(b, o)) in &plan.at {
            places.insert(key, format!("{}[{}]", names[b][o], win.j));
        }
        let outer = std::mem::replace(&mut self.windows, places);
        self.skip.extend(skip.iter().copied());
        if split {
            let mut srcs = vec![];
            for (b, w) in plan.bufs.iter().enumerate() {
                for (o, name) in names[b].iter().enumerate() {
                    let keys: Vec<(Value, Value)> = plan
                        .at
                        .iter()
                        .filter(|&(_, &bo)| bo == (b, o))
                        .map(|(&k, _)| k)
                        .collect();
                    srcs.push(super::LaneSrc {
                        count: keys.len(),
                        keys,
                        name: name.clone(),
                        stored: w.stored,
                    });
                }
            }
            self.emit_lanes_in(d, body, d2, ("0", &len), &srcs, &results, Some(&win));
            for (k, r) in results.iter().enumerate() {
                let t = self.names[&d.results[k]].clone();
                self.line(d2, &format!("{r} = {t};"));
            }
        } else {
            // Carried values keep the loop's order; without them, each stored element is
            // touched by one iteration, and forwards is the order that vectorizes.
            let counts = if rev && !results.is_empty() {
                format!("(0..{len}).rev()")
            } else {
                format!("0..{len}")
            };
            self.line(d2, &format!("for {} in {counts} {{", win.j));
            if ix_used {
                let i = self.fresh("i");
                self.line(d2 + 1, &format!("let {i} = {};", win.index(&win.j)));
                self.names.insert(ix, i);
            }
            self.loop_body(body, &results, d2 + 1);
            self.line(d2, "}");
        }
        for i in &skip {
            self.skip.remove(i);
        }
        self.windows = outer;
        if fallback {
            self.line(d1, "} else {");
            // (the lanes named the carried values after their own arrays)
            let params = self.f.block(body).params[1..].to_vec();
            for (&p, r) in params.iter().zip(&results) {
                self.names.insert(p, r.clone());
            }
            let (i, _) = self.loop_index(ix);
            let range = if rev {
                format!("({l}..{h}).rev()")
            } else {
                format!("{l}..{h}")
            };
            self.line(d1 + 1, &format!("for {i} in {range} {{"));
            self.loop_body(body, &results, d1 + 2);
            self.line(d1 + 1, "}");
            self.line(d1, "}");
        }
        self.line(depth, "}");
        for (k, r) in results.iter().enumerate() {
            self.names.insert(d.results[k], r.clone());
        }
    }

    /// The first index of each window of `plan` (one `let` per distinct offset), for a loop
    /// from `lo`. A negative one wraps, and the slicing panics, as the loop's first access
    /// would.
    fn window_starts(
        &mut self,
        plan: &WindowPlan,
        lo: &str,
        as_usize: bool,
        depth: usize,
    ) -> Vec<Vec<String>> {
        let lo_i64 = if as_usize {
            format!("{lo} as i64")
        } else {
            lo.to_string()
        };
        let mut starts = vec![];
        let mut named: HashMap<String, String> = HashMap::new();
        for w in &plan.bufs {
            let mut s = vec![];
            for off in &w.offsets {
                let e = self.offset_expr(off);
                let name = match named.get(&e) {
                    Some(name) => name.clone(),
                    None => {
                        let name = self.fresh("s");
                        let start = if e == "0" {
                            format!("{lo}{}", if as_usize { "" } else { " as usize" })
                        } else {
                            format!("({e} + {lo_i64}) as usize")
                        };
                        self.line(depth, &format!("let {name} = {start};"));
                        named.insert(e, name.clone());
                        name
                    }
                };
                s.push(name);
            }
            starts.push(s);
        }
        starts
    }

    /// The windows of `plan`, `len` long from `starts`, as slices (the two windows of a stored
    /// buffer by `split_at_mut`, already checked disjoint), named into `names` by buffer and
    /// offset; buffers already named there (cut by the helper) are left as they are.
    fn cut_windows(
        &mut self,
        plan: &WindowPlan,
        starts: &[Vec<String>],
        len: &str,
        depth: usize,
        names: &mut [Vec<String>],
    ) {
        for ((w, s), named) in plan.bufs.iter().zip(starts).zip(names) {
            if !named.is_empty() {
                continue; // (cut by the helper)
            }
            let orig = self.names[&w.buf].clone();
            let ws: Vec<String> = s.iter().map(|_| self.fresh("w")).collect();
            if w.stored && ws.len() == 2 {
                let (a, b) = (&s[0], &s[1]);
                let (x, y) = (self.fresh("y"), self.fresh("y"));
                self.line(
                    depth,
                    &format!(
                        "let ({}, {}) = if {a} < {b} {{ let ({x}, {y}) = {orig}.split_at_mut({b}); \
                         (&mut {x}[{a}..{a} + {len}], &mut {y}[..{len}]) }} else {{ \
                         let ({x}, {y}) = {orig}.split_at_mut({a}); \
                         (&mut {y}[..{len}], &mut {x}[{b}..{b} + {len}]) }};",
                        ws[0], ws[1]
                    ),
                );
            } else {
                let amp = if w.stored { "&mut " } else { "&" };
                for (name, start) in ws.iter().zip(s) {
                    self.line(
                        depth,
                        &format!("let {name} = {amp}{orig}[{start}..{start} + {len}];"),
                    );
                }
            }
            *named = ws;
        }
    }
}

/// The counter of a loop over windows, and how the loop index follows from it.
pub(super) struct WinIx {
    /// The counter (from 0).
    pub(super) j: String,
    /// The loop's first index.
    lo: String,
    as_usize: bool,
    /// Whether the body uses the loop index beyond the windowed loads and stores.
    pub(super) ix_used: bool,
}

impl WinIx {
    /// The loop index at count `count`.
    pub(super) fn index(&self, count: &str) -> String {
        if self.as_usize {
            format!("{} + {count}", self.lo)
        } else {
            let count = if count.contains(' ') {
                format!("({count})")
            } else {
                count.to_string()
            };
            format!("{} + {count} as i64", self.lo)
        }
    }
}
