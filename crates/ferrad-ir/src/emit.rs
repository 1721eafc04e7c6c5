//! The Rust emitter: an IR function becomes the source text of a plain Rust `fn`.
//!
//! Scalars become `f64`/`f32`/`i64`/`bool` locals, buffers slices, loops `for` loops over
//! ranges (`.rev()` for reverse loops) with loop-carried values as `let mut` variables, `if`s
//! `if` expressions. A value used once, in the same block, by a pure operation is written
//! inline, so the text reads like hand-written code; `sin x` and `cos x` of one `x` become one
//! `sin_cos`; `buf[i] = buf[i] + a` is written `buf[i] += a`; a carried value updated by
//! `c + e` is written `c += e`. Loop indices that start at a non-negative constant and end at a
//! constant or a buffer length are `usize`, so indexing needs no casts. Straight-line code
//! allocates nothing; `alloc` and `scratch` (only produced by the transforms, for loop
//! checkpoints and caches the optimizer could not remove and their shadows) become a `vec!`,
//! or with [`Simd::pool`] a `scratch` buffer comes from `::ferrad::scratch`'s pool. Custom rules are called as `rule_name(...)` (`rule_name_jvp`,
//! `rule_name_vjp`), functions the surrounding code provides, returning an array.
//!
//! With [`Simd`] settings on (what the attributes and the `ir-*` bench rows use), the code is
//! shaped like hand-written SIMD code: elementary functions call `::ferrad::math` (inline
//! polynomials instead of libm calls), a loop whose carried floats are all sums runs in chunks
//! of 4 iterations (16 when it calls a math function) with one partial sum per lane (the
//! chunk's buffer elements copied into local arrays, so LLVM vectorizes the chunk without
//! overlap checks) plus a sequential tail, buffers indexed by the loop index are
//! re-sliced to the loop bound (no bounds checks), and the body is a closure run by
//! `::ferrad::simd::dispatch` (AVX2 + FMA when the CPU has them; `dispatch_wide`, AVX-512 too,
//! for a function whose innermost loops call math functions), which calls the math functions
//! through the `isa` it is given.
//! With [`Simd::par`], a long outermost loop of independent iterations runs in fixed chunks
//! on `::ferrad::par`'s thread pool (see the `emit/par.rs` module). An innermost loop that
//! loads and stores only at `base + i` (a reverse sweep adding into columns of packed
//! storage) runs over slices of its buffers, forwards, when the slices it stores into are
//! disjoint (see the `emit/window.rs` module).
//!
//! Integer arithmetic uses plain operators (the interpreter wraps; indices in real programs do
//! not overflow).
//!
//! Invariant: the emitted function computes what the interpreter computes (tested by
//! compiling emitted code in the macro crate's tests).

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use ferrad_core::rules::{Binary, Ternary, Unary};

use crate::ir::*;

mod par;
mod window;

/// How [`emit_rust`] shapes code for SIMD ([`EmitOptions::simd`]); [`Simd::OFF`] by default.
///
/// Every setting keeps the function's meaning; only [`Simd::lanes`] changes results, and only
/// in the rounding of float sums (the lanes add the same terms in another order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Simd {
    /// Call `::ferrad::math` (inline, branch-free polynomials that vectorize) for the elementary
    /// functions it has — exp, exp_m1, ln, ln_1p, sin, cos, sin_cos, tan, tanh, sinh, cosh,
    /// asin, acos, atan, atan2, powf, cbrt — instead of std's libm calls, one element at a time.
    /// Needs the `ferrad` crate.
    pub math: bool,
    /// An innermost loop whose carried floats are all sums (`acc = acc + e`, `acc -= e`, chains
    /// of them) runs in chunks of `lanes` iterations with one partial sum per lane, added pairwise at
    /// the end, plus a sequential tail: the iterations still run in order, but the sum is
    /// rounded differently (LLVM never reorders a float sum by itself, so a single accumulator
    /// keeps the loop scalar). 0 or 1: sums stay sequential, bit for bit what the IR says.
    /// With [`Simd::math`], a loop whose body calls a `ferrad::math` function runs in chunks of
    /// [`WIDE_LANES`] instead (see there).
    pub lanes: usize,
    /// Buffers that a loop body indexes only by the loop index are re-sliced to the loop's range
    /// before the loop (and copied a chunk at a time into local arrays in lane loops), so the
    /// indexing inside needs no bounds checks. A buffer too short still panics, before the loop
    /// instead of in the iteration that overruns it. With [`Simd::lanes`] ≥ 2, an innermost loop
    /// whose every access is at `base + i` (`base` invariant) runs over slices of its buffers,
    /// *windows* (see the `emit/window.rs` module): the windows of a stored buffer (up to 8)
    /// are checked disjoint at run time, and the loop runs as it was when two overlap.
    pub reslice: bool,
    /// Wrap the body in `::ferrad::simd::dispatch`, which runs it compiled for AVX2 + FMA when
    /// the CPU has them (no `target-cpu` flag needed), and call the math functions as methods
    /// of the `isa` it passes (FMA inside their exact products in the AVX2 copy). A function
    /// with an innermost loop that calls a math function uses `dispatch_wide` instead, which
    /// adds an AVX-512 copy (same results). Needs the `ferrad` crate.
    pub dispatch: bool,
    /// An outermost loop from 0 whose iterations are independent except for float sums into
    /// carried values, and whose written buffers are indexed by the loop index only (the
    /// buffers [`Simd::reslice`] cuts), runs in chunks of `::ferrad::par::LOOP_CHUNK`
    /// iterations on `::ferrad::par`'s thread pool when its trip count reaches
    /// `::ferrad::par::loop_in_chunks`'s threshold; each chunk sums its part from `-0.0`, and
    /// the parts are added in chunk order, so the result does not depend on the thread count
    /// (`ferrad::par::set_threads`, `FERRAD_THREADS`). Below the threshold the loop is what it
    /// is without this setting. With sequential sums ([`Simd::lanes`] < 2) only loops without
    /// sums are chunked, so the sums keep their order. Needs the `ferrad` crate and
    /// [`Simd::reslice`]. The attributes turn it on with the `ferrad` crate's `parallel`
    /// feature.
    pub par: bool,
    /// A `scratch` buffer (written before read: the VJP's loop checkpoints and caches) is
    /// taken from `::ferrad::scratch`'s per-thread pool and given back at the end of its block,
    /// instead of a fresh `vec![0.0; n]` per call (a zero fill and new pages each time). An
    /// `alloc` (an accumulator that relies on zeros) stays a `vec!`. Needs the `ferrad` crate.
    pub pool: bool,
}

/// Lanes of a loop whose body calls a `ferrad::math` function. LLVM's loop vectorizer takes a
/// 16-iteration chunk as a rolled loop and vectorizes it at the width of the copy it is compiled
/// in (4 lanes in AVX2, 8 in AVX-512), where its SLP vectorizer, given a 4-iteration chunk,
/// leaves some bodies scalar: exp, ln, ln_1p and atan 3–3.5× slower, and a tanh whose value is
/// summed (the gradient of Σ tanh xᵢ: 4.5 against 2.0 ms at n = 10⁶). In 4-lane chunks, sin,
/// cos and tanh bodies that it does vectorize ran 0–10% faster in the AVX2 copy, and in the
/// AVX-512 copy 16 lanes run F's gradient in 1.8 ms against 3.2 (and against 2.6 in AVX2).
/// Measured with rustc 1.95.
pub const WIDE_LANES: usize = 16;

impl Simd {
    /// Plain Rust over std, as the IR says it (`ferrad diff --emit rust` by default).
    pub const OFF: Simd = Simd {
        math: false,
        lanes: 0,
        reslice: false,
        dispatch: false,
        par: false,
        pool: false,
    };
    /// Everything on but [`Simd::par`], 4 lanes (one AVX2 register of f64): what the
    /// attributes emit on one thread.
    pub const ON: Simd = Simd {
        math: true,
        lanes: 4,
        reslice: true,
        dispatch: true,
        par: false,
        pool: true,
    };
    /// [`Simd::ON`] with sequential sums (the `strict-order` feature of the attributes).
    pub const STRICT: Simd = Simd {
        lanes: 0,
        ..Simd::ON
    };
}

impl Default for Simd {
    fn default() -> Self {
        Simd::OFF
    }
}

/// Options of [`emit_rust`].
#[derive(Clone, Debug, Default)]
pub struct EmitOptions {
    /// Parameter names (default `p0`, `p1`, …).
    pub param_names: Option<Vec<String>>,
    /// Emit `pub fn`.
    pub public: bool,
    /// The function's name (default: the IR function's name), e.g. the `d_f` of
    /// `#[autodiff_reverse(d_f, ...)]`.
    pub name: Option<String>,
    /// SIMD shaping ([`Simd::OFF`]: plain std code).
    pub simd: Simd,
}

struct Em<'a> {
    f: &'a Function,
    names: HashMap<Value, String>,
    uses: HashMap<Value, usize>,
    use_block: HashMap<Value, Block>,
    def_block: HashMap<Value, Block>,
    def: HashMap<Value, Inst>,
    consts: HashMap<Value, Const>,
    usize_vals: HashSet<Value>,
    inline: HashSet<Value>,
    skip: HashSet<Inst>,
    counter: usize,
    out: String,
    simd: Simd,
    /// Inside a lane loop: (buffer, index) → (chunk array name, lane variable name).
    chunk: HashMap<(Value, Value), (String, String)>,
    /// How many lane loops enclose the code being emitted: inside one, tanh is
    /// `isa.tanh_lanes` (its vectorized shape, the same bits).
    lanes_depth: usize,
    /// How many loops enclose the code being emitted (only an outermost loop runs in
    /// parallel: an inner one would start a pool task per outer iteration).
    loop_depth: usize,
    /// Inside a parallel chunk: its loop and buffers ([`par::Chunk`]).
    par: Option<par::Chunk>,
    /// Inside a loop run in windows ([`window`]): `(buffer, index)` → the window element.
    windows: HashMap<(Value, Value), String>,
}

const ATOM: u8 = 10;
const NEG: u8 = 9;
const CAST: u8 = 8;
const MUL: u8 = 7;
const ADD: u8 = 6;
const CMP: u8 = 4;
const SELECT: u8 = 1;

fn lit(c: Const) -> String {
    match c {
        Const::F64(v) => {
            if v.is_nan() {
                "f64::NAN".into()
            } else if v.is_infinite() {
                if v > 0.0 {
                    "f64::INFINITY".into()
                } else {
                    "f64::NEG_INFINITY".into()
                }
            } else {
                format!("{v:?}")
            }
        }
        Const::F32(v) => {
            if v.is_nan() {
                "f32::NAN".into()
            } else if v.is_infinite() {
                if v > 0.0 {
                    "f32::INFINITY".into()
                } else {
                    "f32::NEG_INFINITY".into()
                }
            } else {
                format!("{v:?}_f32")
            }
        }
        Const::I64(v) => format!("{v}"),
        Const::Bool(v) => format!("{v}"),
    }
}

fn method(u: Unary) -> &'static str {
    u.name()
}

/// The `ferrad::math` function computing `u`, if it has one.
fn math_unary(u: Unary) -> Option<&'static str> {
    Some(match u {
        Unary::Exp => "exp",
        Unary::ExpM1 => "exp_m1",
        Unary::Ln => "ln",
        Unary::Ln1p => "ln_1p",
        Unary::Sin => "sin",
        Unary::Cos => "cos",
        Unary::Tan => "tan",
        Unary::Tanh => "tanh",
        Unary::Sinh => "sinh",
        Unary::Cosh => "cosh",
        Unary::Asin => "asin",
        Unary::Acos => "acos",
        Unary::Atan => "atan",
        Unary::Cbrt => "cbrt",
        _ => return None,
    })
}

/// The `ferrad::math` function computing `b`, if it has one.
fn math_binary(b: Binary) -> Option<&'static str> {
    match b {
        Binary::Powf => Some("powf"),
        Binary::Atan2 => Some("atan2"),
        _ => None,
    }
}

impl Em<'_> {
    fn scan(&mut self, b: Block) {
        let bd = self.f.block(b);
        for &p in &bd.params {
            self.def_block.insert(p, b);
        }
        for &i in &bd.insts {
            let d = self.f.inst(i);
            for &a in &d.args {
                *self.uses.entry(a).or_default() += 1;
                self.use_block.insert(a, b);
            }
            for &r in &d.results {
                self.def_block.insert(r, b);
                self.def.insert(r, i);
            }
            if let Op::Const(c) = d.op {
                self.consts.insert(d.results[0], c);
            }
            if let Op::For { body, .. } = d.op
                && self.non_negative(d.args[0])
                && self.non_negative(d.args[1])
            {
                self.usize_vals.insert(self.f.block(body).params[0]);
            }
            for nb in d.op.blocks() {
                self.scan(nb);
            }
        }
        for &y in &bd.yields {
            *self.uses.entry(y).or_default() += 1;
            self.use_block.insert(y, b);
        }
    }

    /// Whether the integer `v` is never negative: a constant ≥ 0, a buffer length, the index
    /// of a loop whose bounds are such, or a sum or product of such values. A loop between two
    /// of them counts in `usize` (no casts in its indexing, and it may run in lanes: the
    /// triangular loops `for r in b + 1..d` of gmm's weighted beta sums are). Sums and
    /// products of lengths and indices are far from overflowing `i64`.
    fn non_negative(&self, v: Value) -> bool {
        if let Some(c) = self.consts.get(&v) {
            return matches!(c, Const::I64(x) if *x >= 0);
        }
        if self.usize_vals.contains(&v) {
            return true;
        }
        self.def.get(&v).is_some_and(|&j| {
            let d = self.f.inst(j);
            match d.op {
                Op::Len => true,
                Op::Int(IntOp::Add | IntOp::Mul) => {
                    self.non_negative(d.args[0]) && self.non_negative(d.args[1])
                }
                _ => false,
            }
        })
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter)
    }

    /// `v` as a complete expression; `want_usize` when used as an index or range bound.
    fn val(&self, v: Value, want_usize: bool) -> String {
        self.valp(v, 0, want_usize)
    }

    /// `v` as an operand that binds at least as tightly as `min` (parenthesized otherwise).
    fn valp(&self, v: Value, min: u8, want_usize: bool) -> String {
        if let Some(&c) = self.consts.get(&v) {
            if let (true, Const::I64(n)) = (want_usize, c) {
                return format!("{n}");
            }
            let s = lit(c);
            let p = if s.starts_with('-') { NEG } else { ATOM };
            return if p < min { format!("({s})") } else { s };
        }
        let is_len = self
            .def
            .get(&v)
            .is_some_and(|&j| self.f.inst(j).op == Op::Len);
        let (mut s, mut p) = if self.inline.contains(&v) {
            self.expr(self.def[&v])
        } else {
            (
                self.names
                    .get(&v)
                    .cloned()
                    .unwrap_or_else(|| format!("UNDEFINED_{}", v.0)),
                ATOM,
            )
        };
        let is_usize = self.usize_vals.contains(&v) || is_len;
        if is_usize != want_usize {
            let target = if want_usize { "usize" } else { "i64" };
            s = format!(
                "{} as {target}",
                if p < CAST { format!("({s})") } else { s }
            );
            p = CAST;
        }
        if p < min { format!("({s})") } else { s }
    }

    /// `v` as the receiver of a method call.
    fn recv(&self, v: Value) -> String {
        if let Some(&c) = self.consts.get(&v) {
            return match c {
                Const::F64(x) if x.is_finite() => format!("({x:?}_f64)"),
                Const::F32(x) if x.is_finite() => format!("({x:?}_f32)"),
                _ => format!("({})", lit(c)),
            };
        }
        self.valp(v, ATOM, false)
    }

    /// `::ferrad::math::NAME` for a value of type `ty` (the `_f32` function for f32), when
    /// [`Simd::math`] is on; inside `dispatch`, the same function as a method of the copy's
    /// `isa` (`ferrad::simd::Isa`), which uses FMA in its exact products where the copy has it
    /// (and in a lane loop, f64 tanh as `isa.tanh_lanes`, its form for vectorized loops).
    fn math_fn(&self, name: Option<&str>, ty: Type) -> Option<String> {
        let name = name.filter(|_| self.simd.math)?;
        let suffix = if ty == Type::F32 { "_f32" } else { "" };
        Some(if self.simd.dispatch {
            if name == "tanh" && ty == Type::F64 && self.lanes_depth > 0 {
                return Some("isa.tanh_lanes".to_string());
            }
            format!("isa.{name}{suffix}")
        } else {
            format!("::ferrad::math::{name}{suffix}")
        })
    }

    /// `buf[idx]` as written: a lane of the chunk slice inside a lane loop, an element of a
    /// window in a loop over windows.
    fn place(&self, buf: Value, idx: Value) -> String {
        if let Some((c, lane)) = self.chunk.get(&(buf, idx)) {
            return format!("{c}[{lane}]");
        }
        if let Some(w) = self.windows.get(&(buf, idx)) {
            return w.clone();
        }
        match &self.par {
            // a buffer cut into chunks: at the chunk's own counter
            Some(p) if p.ix == idx && p.bufs.contains(&buf) => {
                format!("{}[{}]", self.names[&buf], p.local)
            }
            _ => format!("{}[{}]", self.names[&buf], self.val(idx, true)),
        }
    }

    /// The expression computing `i`'s result, and its precedence.
    fn expr(&self, i: Inst) -> (String, u8) {
        let d = self.f.inst(i);
        let a = |k: usize, min: u8| self.valp(d.args[k], min, false);
        match &d.op {
            Op::Const(c) => (lit(*c), ATOM),
            Op::Unary(Unary::Neg) => (format!("-{}", a(0, NEG)), NEG),
            Op::Unary(Unary::Powi(n)) => (format!("{}.powi({n})", self.recv(d.args[0])), ATOM),
            Op::Unary(u) => match self.math_fn(math_unary(*u), self.f.ty(d.args[0])) {
                Some(m) => (format!("{m}({})", a(0, 0)), ATOM),
                None => (format!("{}.{}()", self.recv(d.args[0]), method(*u)), ATOM),
            },
            Op::Binary(b) => {
                let sym = match b {
                    Binary::Add => Some(("+", ADD)),
                    Binary::Sub => Some(("-", ADD)),
                    Binary::Mul => Some(("*", MUL)),
                    Binary::Div => Some(("/", MUL)),
                    Binary::Rem => Some(("%", MUL)),
                    _ => None,
                };
                let m = self.math_fn(math_binary(*b), self.f.ty(d.args[0]));
                match (sym, m) {
                    (Some((s, p)), _) => (format!("{} {s} {}", a(0, p), a(1, p + 1)), p),
                    (None, Some(m)) => (format!("{m}({}, {})", a(0, 0), a(1, 0)), ATOM),
                    (None, None) => (
                        format!("{}.{}({})", self.recv(d.args[0]), b.name(), a(1, 0)),
                        ATOM,
                    ),
                }
            }
            Op::Ternary(Ternary::MulAdd) => (
                format!("{}.mul_add({}, {})", self.recv(d.args[0]), a(1, 0), a(2, 0)),
                ATOM,
            ),
            Op::Int(o) => {
                let (s, p) = match o {
                    IntOp::Add => ("+", ADD),
                    IntOp::Sub => ("-", ADD),
                    IntOp::Mul => ("*", MUL),
                };
                (format!("{} {s} {}", a(0, p), a(1, p + 1)), p)
            }
            Op::Cmp(c) => (
                format!("{} {} {}", a(0, CMP + 1), c.symbol(), a(1, CMP + 1)),
                CMP,
            ),
            Op::IsNan => (format!("{}.is_nan()", self.recv(d.args[0])), ATOM),
            Op::Select => (
                format!("if {} {{ {} }} else {{ {} }}", a(0, 0), a(1, 0), a(2, 0)),
                SELECT,
            ),
            Op::Cast => {
                let ty = self.f.ty(d.results[0]);
                let x = d.args[0];
                // A usize index converts directly.
                let s =
                    if self.usize_vals.contains(&x) && !self.inline.contains(&x) && ty.is_float() {
                        self.names[&x].clone()
                    } else {
                        a(0, CAST)
                    };
                (format!("{s} as {ty}"), CAST)
            }
            Op::Len => (format!("{}.len()", self.names[&d.args[0]]), ATOM),
            Op::Load => (self.place(d.args[0], d.args[1]), ATOM),
            _ => unreachable!("only pure operations and loads are expressions"),
        }
    }

    fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.out.push_str("    ");
        }
    }

    fn line(&mut self, depth: usize, s: &str) {
        self.indent(depth);
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn decide_inline(&mut self, b: Block) {
        let bd = self.f.block(b).clone();
        // sin/cos pairs stay named.
        let mut trig: HashMap<(Value, bool), Inst> = HashMap::new();
        for &i in &bd.insts {
            let d = self.f.inst(i);
            match d.op {
                Op::Unary(Unary::Sin) => {
                    trig.insert((d.args[0], true), i);
                }
                Op::Unary(Unary::Cos) => {
                    trig.insert((d.args[0], false), i);
                }
                _ => {}
            }
        }
        let paired: HashSet<Inst> = trig
            .iter()
            .filter(|((x, s), _)| trig.contains_key(&(*x, !*s)))
            .map(|(_, &i)| i)
            .collect();
        for (k, &i) in bd.insts.iter().enumerate() {
            let d = self.f.inst(i);
            if d.results.len() != 1 || paired.contains(&i) || matches!(d.op, Op::Const(_)) {
                continue;
            }
            let r = d.results[0];
            let single =
                self.uses.get(&r).copied().unwrap_or(0) == 1 && self.use_block.get(&r) == Some(&b);
            if !single {
                continue;
            }
            if d.op.is_pure() {
                self.inline.insert(r);
            } else if d.op == Op::Load {
                // A load may move only up to the next instruction with an effect.
                let next = bd.insts.get(k + 1).map(|&j| self.f.inst(j));
                let used_next = next.is_some_and(|n| {
                    n.args.contains(&r) && n.op.is_pure()
                        || n.op == Op::Store && n.args.contains(&r)
                });
                if used_next {
                    self.inline.insert(r);
                }
            }
        }
        for &i in &bd.insts {
            for nb in self.f.inst(i).op.blocks() {
                self.decide_inline(nb);
            }
        }
    }

    fn block(&mut self, b: Block, depth: usize) {
        let bd = self.f.block(b).clone();
        let mut done_trig: HashSet<Inst> = HashSet::new();
        // Pooled scratch buffers taken in this block, given back at its end.
        let mut pooled = vec![];
        for &i in &bd.insts {
            if self.skip.contains(&i) || done_trig.contains(&i) {
                continue;
            }
            let d = self.f.inst(i).clone();
            if d.results.len() == 1
                && (self.inline.contains(&d.results[0]) || self.consts.contains_key(&d.results[0]))
            {
                continue;
            }
            match &d.op {
                Op::Unary(u @ (Unary::Sin | Unary::Cos)) => {
                    let other = if *u == Unary::Sin {
                        Unary::Cos
                    } else {
                        Unary::Sin
                    };
                    let partner = bd.insts.iter().copied().find(|&j| {
                        let dj = self.f.inst(j);
                        dj.op == Op::Unary(other) && dj.args[0] == d.args[0]
                    });
                    if let Some(j) = partner {
                        let (s, c) = if *u == Unary::Sin { (i, j) } else { (j, i) };
                        let (sn, cn) = (self.fresh("s"), self.fresh("c"));
                        self.names.insert(self.f.inst(s).results[0], sn.clone());
                        self.names.insert(self.f.inst(c).results[0], cn.clone());
                        let call = match self.math_fn(Some("sin_cos"), self.f.ty(d.args[0])) {
                            Some(m) => format!("{m}({})", self.val(d.args[0], false)),
                            None => format!("{}.sin_cos()", self.recv(d.args[0])),
                        };
                        self.line(depth, &format!("let ({sn}, {cn}) = {call};"));
                        done_trig.insert(j);
                        continue;
                    }
                    self.let_expr(i, depth);
                }
                Op::Store => {
                    let place = self.place(d.args[0], d.args[1]);
                    // buf[i] = buf[i] + a  →  buf[i] += a
                    if let Some(a) = self.accumulate(d.args[2], |s, dl| {
                        dl.op == Op::Load
                            && dl.args[0] == d.args[0]
                            && dl.args[1] == d.args[1]
                            && s.inline.contains(&dl.results[0])
                    }) {
                        self.line(depth, &format!("{place} += {a};"));
                    } else {
                        let v = self.val(d.args[2], false);
                        self.line(depth, &format!("{place} = {v};"));
                    }
                }
                // Which buffers may come from the pool: an `alloc` is read as zeros (the VJP's
                // shadow buffers are accumulators, `+=`-ed into, and so are the JVP's tangents of
                // an `alloc`), so it is always a fresh zeroed `vec!`. A `scratch` buffer has
                // every element stored before it is loaded (the VJP's checkpoints and caches:
                // the forward loop stores each index the adjoint loop reads; see `Op::Scratch`),
                // so what an earlier call left in a pooled buffer is never observed. It is given
                // back at the end of the block that takes it: no load is ever written inline
                // into the block's yields (a load is inlined only into the next instruction), so
                // nothing after that point borrows it. A panic just drops it.
                Op::Alloc | Op::Scratch => {
                    let n = self.fresh("buf");
                    self.names.insert(d.results[0], n.clone());
                    let len = self.val(d.args[0], true);
                    if d.op == Op::Scratch && self.simd.pool {
                        self.line(
                            depth,
                            &format!("let mut {n} = ::ferrad::scratch::take({len});"),
                        );
                        pooled.push(n);
                    } else {
                        self.line(depth, &format!("let mut {n} = vec![0.0_f64; {len}];"));
                    }
                }
                Op::For { body, rev } => self.emit_for(&d, *body, *rev, depth),
                Op::If { then_blk, else_blk } => self.emit_if(&d, *then_blk, *else_blk, depth),
                Op::Call(fid) => {
                    let args: Vec<String> = d.args.iter().map(|&a| self.arg(a)).collect();
                    self.let_results(&d, &format!("f{}({})", fid.0, args.join(", ")), depth);
                }
                Op::Custom { name, kind } => {
                    let suffix = match kind {
                        CustomKind::Eval => "",
                        CustomKind::Jvp => "_jvp",
                        CustomKind::Vjp => "_vjp",
                    };
                    let args: Vec<String> = d.args.iter().map(|&a| self.val(a, false)).collect();
                    let call = format!("{name}{suffix}([{}])", args.join(", "));
                    let names: Vec<String> = d.results.iter().map(|_| self.fresh("v")).collect();
                    for (&r, n) in d.results.iter().zip(&names) {
                        self.names.insert(r, n.clone());
                    }
                    self.line(depth, &format!("let [{}] = {call};", names.join(", ")));
                }
                _ => self.let_expr(i, depth),
            }
        }
        for n in pooled {
            self.line(depth, &format!("::ferrad::scratch::give({n});"));
        }
    }

    /// If `v` is an inlined `add(x, y)` where `x` satisfies `is_acc`, the other operand.
    fn accumulate(&self, v: Value, is_acc: impl Fn(&Self, &InstData) -> bool) -> Option<String> {
        if !self.inline.contains(&v) {
            return None;
        }
        let d = self.f.inst(self.def[&v]);
        if d.op != Op::Binary(Binary::Add) {
            return None;
        }
        for (k, other) in [(0, 1), (1, 0)] {
            if let Some(&j) = self.def.get(&d.args[k])
                && is_acc(self, self.f.inst(j))
            {
                return Some(self.val(d.args[other], false));
            }
        }
        None
    }

    fn arg(&self, a: Value) -> String {
        match self.f.ty(a) {
            Type::Buf => format!("&{}", self.names[&a]),
            Type::BufMut => format!("&mut {}", self.names[&a]),
            _ => self.val(a, false),
        }
    }

    fn let_expr(&mut self, i: Inst, depth: usize) {
        let d = self.f.inst(i);
        let (e, _) = self.expr(i);
        let r = d.results[0];
        let n = self.fresh("v");
        self.names.insert(r, n.clone());
        self.line(depth, &format!("let {n} = {e};"));
    }

    fn let_results(&mut self, d: &InstData, e: &str, depth: usize) {
        let names: Vec<String> = d.results.iter().map(|_| self.fresh("v")).collect();
        for (&r, n) in d.results.iter().zip(&names) {
            self.names.insert(r, n.clone());
        }
        match names.len() {
            0 => self.line(depth, &format!("{e};")),
            1 => self.line(depth, &format!("let {} = {e};", names[0])),
            _ => self.line(depth, &format!("let ({}) = {e};", names.join(", "))),
        }
    }

    fn emit_for(&mut self, d: &InstData, body: Block, rev: bool, depth: usize) {
        let bd = self.f.block(body).clone();
        let ix = bd.params[0];
        let as_usize = self.usize_vals.contains(&ix);
        let (lo, hi) = (self.val(d.args[0], as_usize), self.val(d.args[1], as_usize));
        let lo_zero = matches!(self.consts.get(&d.args[0]), Some(Const::I64(0)));
        let bufs = if self.simd.reslice && as_usize {
            self.indexed_bufs(body, ix)
        } else {
            vec![]
        };
        let lanes = self.simd.lanes;
        // A reversed loop without carried values whose iterations touch disjoint elements (the
        // adjoint loops of maps: `dx[i] += …`) may run in either order: forwards, it can
        // run in lanes (and in parallel chunks) like any other.
        let rev = rev && !(lanes >= 2 && bd.params.len() == 1 && self.order_free(body, ix));
        // Only innermost loops: an outer loop's lanes would not vectorize around the inner
        // loop, and each level of lanes emits its body twice. Loops without carried values
        // too: LLVM's loop vectorizer leaves a plain map loop whose body inlines a
        // `ferrad::math` function scalar (H·v of R without its primal: 2x slower), while the
        // chunks' local arrays vectorize.
        // (a loop over windows counts in `usize` whatever its index: it may split in `i64` too)
        let sums = lanes >= 2 && !rev && !self.has_loop(body) && self.carries_only_sums(body);
        let split = sums && as_usize;
        let reslice = lo_zero && !bufs.is_empty();
        let par = self.par_plan(body, rev, lo_zero, &bufs);
        let inits: Vec<String> = (2..d.args.len())
            .map(|k| self.val(d.args[k], false))
            .collect();
        self.loop_depth += 1;
        // (windows change no result, but they are SIMD shaping: with the other settings)
        if par.is_none()
            && lanes >= 2
            && self.simd.reslice
            && let Some(plan) = self.window_plan(body, ix)
        {
            let (range, order) = ((lo.as_str(), hi.as_str()), (rev, sums));
            self.emit_windows(d, body, order, depth, range, as_usize, &inits, plan);
            self.loop_depth -= 1;
            return;
        }
        if !split && !reslice && par.is_none() {
            self.emit_plain_for(d, body, rev, depth, (&lo, &hi), &inits);
            self.loop_depth -= 1;
            return;
        }
        // The loop bound, once, and the buffers cut to it (fresh names; the originals are
        // usable again after the loop).
        let n = self.fresh("n");
        self.line(depth, &format!("let {n} = {hi};"));
        let saved: Vec<(Value, String)> = bufs
            .iter()
            .map(|&(b, _, _)| (b, self.names[&b].clone()))
            .collect();
        if reslice {
            for &(b, _, _) in &bufs {
                let cut = self.fresh("x");
                let (amp, orig) = (self.borrow(b), self.names[&b].clone());
                self.line(depth, &format!("let {cut} = {amp}{orig}[..{n}];"));
                self.names.insert(b, cut);
            }
        }
        if let Some(chunked) = par {
            self.emit_par(d, body, depth, (&lo, &n), split, &chunked, &bufs, &inits);
        } else if !split {
            self.emit_plain_for(d, body, rev, depth, (&lo, &n), &inits);
        } else {
            self.emit_lanes(d, body, depth, (&lo, &n), &bufs, &inits);
        }
        self.loop_depth -= 1;
        for (b, name) in saved {
            self.names.insert(b, name);
        }
    }

    /// Whether block `b` contains a loop, at any depth.
    fn has_loop(&self, b: Block) -> bool {
        self.f.block(b).insts.iter().any(|&i| {
            let op = &self.f.inst(i).op;
            matches!(op, Op::For { .. }) || op.blocks().into_iter().any(|nb| self.has_loop(nb))
        })
    }

    /// `&` or `&mut ` for a re-borrow of buffer `b`.
    fn borrow(&self, b: Value) -> &'static str {
        if self.f.ty(b) == Type::BufMut {
            "&mut "
        } else {
            "&"
        }
    }

    /// A loop whose carried values are all sums ([`Self::is_sum`]), in chunks of
    /// [`Simd::lanes`] iterations with one partial sum per lane, then a sequential tail.
    fn emit_lanes(
        &mut self,
        d: &InstData,
        body: Block,
        depth: usize,
        (lo, hi): (&str, &str),
        bufs: &[(Value, usize, bool)],
        inits: &[String],
    ) {
        let ix = self.f.block(body).params[0];
        let srcs: Vec<LaneSrc> = bufs
            .iter()
            .map(|&(b, count, stored)| LaneSrc {
                keys: vec![(b, ix)],
                name: self.names[&b].clone(),
                stored,
                count,
            })
            .collect();
        self.emit_lanes_in(d, body, depth, (lo, hi), &srcs, inits, None);
    }

    /// [`Self::emit_lanes`] over the slices `srcs`, each copied a chunk at a time; with `win`,
    /// the loop counts over windows ([`window`]) from 0 and the loop index is `win`'s base
    /// plus the count.
    #[allow(clippy::too_many_arguments)]
    fn emit_lanes_in(
        &mut self,
        d: &InstData,
        body: Block,
        depth: usize,
        (lo, hi): (&str, &str),
        bufs: &[LaneSrc],
        inits: &[String],
        win: Option<&window::WinIx>,
    ) {
        let bd = self.f.block(body).clone();
        let ix = bd.params[0];
        let lanes = self.lanes_for(body);
        let mut arrays = vec![];
        for (k, &p) in bd.params[1..].iter().enumerate() {
            let a = self.fresh("acc");
            let init = inits[k].clone();
            // -0.0 is the exact identity of IEEE addition (−0 + x = x for every x, +0 included).
            let mut elems = vec![init];
            elems.resize(lanes, "-0.0".to_string());
            self.line(depth, &format!("let mut {a} = [{}];", elems.join(", ")));
            arrays.push((p, a));
        }
        let b = self.fresh("b");
        self.line(depth, &format!("let mut {b} = {lo};"));
        self.line(depth, &format!("while {b} + {lanes} <= {hi} {{"));
        let l = self.fresh("l");
        let mut chunk = HashMap::new();
        // Each chunk is copied into a local array (and stored ones back after it): LLVM then
        // needs no overlap check between the buffers, which it would not do for 4 iterations.
        let mut write_back = vec![];
        for src in bufs {
            let (stored, orig) = (src.stored, src.name.clone());
            let c = self.fresh("x");
            let m = if stored { "mut " } else { "" };
            self.line(
                depth + 1,
                // (TryInto by path: it is not in the 2018 prelude of a user's crate)
                &format!(
                    "let {m}{c}: [f64; {lanes}] = \
                     ::core::convert::TryInto::try_into(&{orig}[{b}..{b} + {lanes}]).unwrap();"
                ),
            );
            if stored {
                write_back.push(format!("{orig}[{b}..{b} + {lanes}].copy_from_slice(&{c});"));
            }
            for &key in &src.keys {
                chunk.insert(key, (c.clone(), l.clone()));
            }
        }
        self.line(depth + 1, &format!("for {l} in 0..{lanes} {{"));
        let replaced: usize = bufs.iter().map(|s| s.count).sum();
        if let Some(w) = win {
            if w.ix_used {
                let i = self.fresh("i");
                self.line(
                    depth + 2,
                    &format!("let {i} = {};", w.index(&format!("{b} + {l}"))),
                );
                self.names.insert(ix, i);
            }
        } else if self.uses.get(&ix).copied().unwrap_or(0) > replaced {
            let i = self.fresh("i");
            // (in a parallel chunk `b` counts from the chunk's start)
            let base = match &self.par {
                Some(p) if p.ix == ix => format!("{} + ", p.base),
                _ => String::new(),
            };
            self.line(depth + 2, &format!("let {i} = {base}{b} + {l};"));
            self.names.insert(ix, i);
        }
        let vars: Vec<String> = arrays.iter().map(|(_, a)| format!("{a}[{l}]")).collect();
        for ((p, _), v) in arrays.iter().zip(&vars) {
            self.names.insert(*p, v.clone());
        }
        // (a lane loop nested in another keeps the outer one's chunks too)
        let outer = self.chunk.clone();
        self.chunk.extend(chunk);
        self.lanes_depth += 1;
        self.loop_body(body, &vars, depth + 2);
        self.lanes_depth -= 1;
        self.chunk = outer;
        self.line(depth + 1, "}");
        for w in write_back {
            self.line(depth + 1, &w);
        }
        self.line(depth + 1, &format!("{b} += {lanes};"));
        self.line(depth, "}");
        // The tail, into the lanes' sum.
        let mut vars = vec![];
        for (k, (p, a)) in arrays.iter().enumerate() {
            let t = self.fresh("acc");
            let lanes: Vec<String> = (0..lanes).map(|j| format!("{a}[{j}]")).collect();
            self.line(depth, &format!("let mut {t} = {};", pairwise(&lanes)));
            self.names.insert(*p, t.clone());
            self.names.insert(d.results[k], t.clone());
            vars.push(t);
        }
        match win {
            Some(w) => {
                self.line(depth, &format!("for {} in {b}..{hi} {{", w.j));
                if w.ix_used {
                    let i = self.fresh("i");
                    self.line(depth + 1, &format!("let {i} = {};", w.index(&w.j)));
                    self.names.insert(ix, i);
                }
            }
            None => {
                let (i, global) = self.loop_index(ix);
                self.line(depth, &format!("for {i} in {b}..{hi} {{"));
                if let Some(g) = global {
                    self.line(depth + 1, &g);
                }
            }
        }
        self.loop_body(body, &vars, depth + 1);
        self.line(depth, "}");
    }

    /// The variable a loop over index `ix` counts with (`_` when unused), and, in a parallel
    /// chunk, where it counts from the chunk's start, the `let` of the index itself when the
    /// body uses it beyond the chunk's buffers.
    fn loop_index(&mut self, ix: Value) -> (String, Option<String>) {
        let uses = self.uses.get(&ix).copied().unwrap_or(0);
        let Some((base, replaced)) = self
            .par
            .as_ref()
            .filter(|p| p.ix == ix)
            .map(|p| (p.base.clone(), p.replaced))
        else {
            let i = if uses == 0 {
                "_".to_string()
            } else {
                self.fresh("i")
            };
            self.names.insert(ix, i.clone());
            return (i, None);
        };
        if uses == 0 {
            return ("_".into(), None);
        }
        let j = self.fresh("j");
        if let Some(p) = self.par.as_mut() {
            p.local = j.clone();
        }
        if uses == replaced {
            return (j, None);
        }
        let i = self.fresh("i");
        self.names.insert(ix, i.clone());
        (j.clone(), Some(format!("let {i} = {base} + {j};")))
    }

    /// Whether every value loop body `body` carries (if any) is a sum ([`Self::is_sum`]).
    fn carries_only_sums(&self, body: Block) -> bool {
        let bd = self.f.block(body);
        bd.params[1..]
            .iter()
            .zip(&bd.yields)
            .all(|(&p, &y)| self.is_sum(p, y, body))
    }

    /// Whether carried value `p` of loop body `body` (yielding `y`) is a float sum that lanes
    /// may split: its one use is in a chain of `add`s (either side) and `sub`s (left side)
    /// in the body that ends in `y`, and no link of the chain is used elsewhere.
    fn is_sum(&self, p: Value, y: Value, body: Block) -> bool {
        self.f.ty(p).is_float() && self.uses.get(&p) == Some(&1) && y != p && {
            fn leads(e: &Em<'_>, v: Value, p: Value, body: Block) -> bool {
                if v == p {
                    return true;
                }
                let Some(&i) = e.def.get(&v) else {
                    return false;
                };
                if e.def_block.get(&v) != Some(&body) || e.uses.get(&v) != Some(&1) {
                    return false;
                }
                let d = e.f.inst(i);
                match d.op {
                    Op::Binary(Binary::Add) => {
                        leads(e, d.args[0], p, body) || leads(e, d.args[1], p, body)
                    }
                    Op::Binary(Binary::Sub) => leads(e, d.args[0], p, body),
                    _ => false,
                }
            }
            leads(self, y, p, body)
        }
    }

    /// The buffers defined outside loop body `body` that it indexes only by its index `ix`
    /// (never through `len`, another index or a call), at least once unconditionally, with the
    /// number of such loads and stores and whether it stores.
    fn indexed_bufs(&self, body: Block, ix: Value) -> Vec<(Value, usize, bool)> {
        let mut out: Vec<(Value, usize, bool)> = self
            .buf_uses(body, ix)
            .into_iter()
            // (a buffer defined inside the loop has no cut before it)
            .filter(|(_, u)| !u.bad && !u.local && u.top)
            .map(|(b, u)| (b, u.count, u.stored))
            .collect();
        out.sort_by_key(|&(b, _, _)| b.0);
        out
    }

    /// How loop body `body` (over index `ix`, nested blocks included) uses each buffer.
    fn buf_uses(&self, body: Block, ix: Value) -> HashMap<Value, BufUse> {
        fn walk(e: &Em<'_>, b: Block, ix: Value, top: bool, seen: &mut HashMap<Value, BufUse>) {
            let bd = e.f.block(b);
            for &i in &bd.insts {
                let d = e.f.inst(i);
                match d.op {
                    Op::Load | Op::Store => {
                        let u = seen.entry(d.args[0]).or_default();
                        u.stored |= d.op == Op::Store;
                        if d.args[1] == ix {
                            u.count += 1;
                            u.top |= top;
                        } else {
                            u.bad = true;
                        }
                    }
                    _ => {
                        for &a in &d.args {
                            if e.f.ty(a).is_buf() {
                                seen.entry(a).or_default().bad = true;
                            }
                        }
                    }
                }
                for &r in &d.results {
                    if e.f.ty(r).is_buf() {
                        seen.entry(r).or_default().local = true;
                    }
                }
                for nb in d.op.blocks() {
                    walk(e, nb, ix, false, seen);
                }
            }
        }
        let mut seen = HashMap::new();
        walk(self, body, ix, true, &mut seen);
        seen
    }

    /// The lanes of a split loop with body `body`: [`Simd::lanes`], or [`WIDE_LANES`] when
    /// it calls a `ferrad::math` function.
    fn lanes_for(&self, body: Block) -> usize {
        if self.calls_math(body) {
            self.simd.lanes.max(WIDE_LANES)
        } else {
            self.simd.lanes
        }
    }

    /// Whether block `b` (nested blocks included) calls a `ferrad::math` function.
    fn calls_math(&self, b: Block) -> bool {
        let mut any = false;
        self.f.walk_block(b, &mut |i| match self.f.inst(i).op {
            Op::Unary(u) => any |= math_unary(u).is_some(),
            Op::Binary(op) => any |= math_binary(op).is_some(),
            _ => {}
        });
        self.simd.math && any
    }

    /// `::ferrad::simd::dispatch_wide` for a function with an innermost loop in lanes (its
    /// carried values all sums, if any) that calls a `ferrad::math` function: its 16-iteration
    /// chunks then run in AVX-512 registers where the CPU has them. `::ferrad::simd::dispatch`
    /// (AVX2 at most) for any other, and with sequential sums. A 512-bit
    /// instruction now and then lowers the clock of the scalar code around it: llsq's
    /// gradient, a latency-bound scalar power chain beside a short 16-lane `axpy`, measured
    /// 2.3 ms in the AVX2 copy and 3.2 ms in the AVX-512 one, while F's sin·exp sums (2.6
    /// against 1.8 ms) and H·v of R's tanh map (3.0 against 2.1 ms) gain.
    fn dispatcher(&self) -> &'static str {
        let mut wide = false;
        self.f.walk_block(self.f.body, &mut |i| {
            if let Op::For { body, .. } = self.f.inst(i).op {
                // (a loop that carries other values than sums runs in order: scalar)
                wide |= self.simd.lanes >= 2
                    && self.carries_only_sums(body)
                    && !self.has_loop(body)
                    && self.calls_math(body);
            }
        });
        if wide {
            "::ferrad::simd::dispatch_wide"
        } else {
            "::ferrad::simd::dispatch"
        }
    }

    /// Whether the iterations of a loop over `ix` with body `body` are independent of each
    /// other's memory: every buffer the body stores into is loaded and stored only at index
    /// `ix` and used by nothing else (buffers never alias in the IR).
    fn order_free(&self, body: Block, ix: Value) -> bool {
        self.buf_uses(body, ix)
            .values()
            .all(|u| !u.stored || !u.bad)
    }

    /// `for i in lo..hi { body; updates }` with one sequential variable per carried value.
    fn emit_plain_for(
        &mut self,
        d: &InstData,
        body: Block,
        rev: bool,
        depth: usize,
        (lo, hi): (&str, &str),
        inits: &[String],
    ) {
        let bd = self.f.block(body).clone();
        let mut vars = vec![];
        for (k, &p) in bd.params[1..].iter().enumerate() {
            let n = self.fresh("acc");
            self.line(depth, &format!("let mut {n} = {};", inits[k]));
            self.names.insert(p, n.clone());
            self.names.insert(d.results[k], n.clone());
            vars.push(n);
        }
        let (idx, global) = self.loop_index(bd.params[0]);
        let range = if rev {
            format!("({lo}..{hi}).rev()")
        } else {
            format!("{lo}..{hi}")
        };
        self.line(depth, &format!("for {idx} in {range} {{"));
        if let Some(g) = global {
            self.line(depth + 1, &g);
        }
        self.loop_body(body, &vars, depth + 1);
        self.line(depth, "}");
    }

    /// The statements of loop body `body`, then the updates of the carried variables `vars`
    /// (named as their block parameters are).
    fn loop_body(&mut self, body: Block, vars: &[String], depth: usize) {
        let bd = self.f.block(body).clone();
        self.block(body, depth);
        let params: Vec<Value> = bd.params[1..].to_vec();
        let mut updates = vec![];
        let mut all_names = String::new();
        for (k, &y) in bd.yields.iter().enumerate() {
            if y == params[k] {
                continue;
            }
            let acc = self.accumulate(y, |_, dl| dl.results.is_empty());
            let plus = {
                let dy = self.def.get(&y).map(|&j| self.f.inst(j));
                match dy {
                    Some(dy) if self.inline.contains(&y) && dy.op == Op::Binary(Binary::Add) => {
                        if dy.args[0] == params[k] {
                            Some(self.val(dy.args[1], false))
                        } else if dy.args[1] == params[k] {
                            Some(self.val(dy.args[0], false))
                        } else {
                            None
                        }
                    }
                    _ => None,
                }
            };
            let _ = acc;
            let e = self.val(y, false);
            all_names.push_str(&e);
            all_names.push(' ');
            updates.push((vars[k].clone(), e, plus));
        }
        // `acc += e` in sequence is only right when no update reads another carried variable.
        let reads_other = |s: &str, me: &str| {
            vars.iter().any(|v| {
                v != me
                    && s.split(|c: char| !c.is_alphanumeric() && c != '_')
                        .any(|w| w == v)
            })
        };
        let sequential = updates.iter().all(|(v, e, _)| !reads_other(e, v));
        if sequential {
            for (v, e, plus) in &updates {
                match plus {
                    Some(p) => self.line(depth, &format!("{v} += {p};")),
                    None => self.line(depth, &format!("{v} = {e};")),
                }
            }
        } else {
            let lhs: Vec<&str> = updates.iter().map(|u| u.0.as_str()).collect();
            let rhs: Vec<&str> = updates.iter().map(|u| u.1.as_str()).collect();
            self.line(
                depth,
                &format!("({}) = ({});", lhs.join(", "), rhs.join(", ")),
            );
        }
    }

    fn emit_if(&mut self, d: &InstData, t: Block, e: Block, depth: usize) {
        let names: Vec<String> = d.results.iter().map(|_| self.fresh("v")).collect();
        let c = self.val(d.args[0], false);
        let head = match names.len() {
            0 => format!("if {c} {{"),
            1 => format!("let {} = if {c} {{", names[0]),
            _ => format!("let ({}) = if {c} {{", names.join(", ")),
        };
        self.line(depth, &head);
        for (k, blk) in [t, e].into_iter().enumerate() {
            if k == 1 {
                self.line(depth, "} else {");
            }
            self.block(blk, depth + 1);
            let ys: Vec<String> = self
                .f
                .block(blk)
                .yields
                .iter()
                .map(|&y| self.val(y, false))
                .collect();
            match ys.len() {
                0 => {}
                1 => self.line(depth + 1, &ys[0]),
                _ => self.line(depth + 1, &format!("({})", ys.join(", "))),
            }
        }
        self.line(depth, if names.is_empty() { "}" } else { "};" });
        for (&r, n) in d.results.iter().zip(names) {
            self.names.insert(r, n);
        }
    }
}

/// A slice a lane loop copies a chunk at a time: a buffer cut to the loop's range, or a
/// window ([`window`]).
struct LaneSrc {
    /// The `(buffer, index)` loads and stores it serves.
    keys: Vec<(Value, Value)>,
    /// The slice.
    name: String,
    stored: bool,
    /// How many loads and stores it serves.
    count: usize,
}

/// How a loop body uses one buffer ([`Em::buf_uses`]).
#[derive(Default)]
struct BufUse {
    /// Accessed at another index than the loop's, or used by any other operation.
    bad: bool,
    /// Defined inside the loop.
    local: bool,
    /// Accessed at least once outside nested blocks.
    top: bool,
    /// Loads and stores at the loop's index.
    count: usize,
    /// Stored into.
    stored: bool,
}

/// `(a + b) + (c + d)`: the lanes' partial sums added pairwise.
fn pairwise(xs: &[String]) -> String {
    match xs.len() {
        0 => "0.0".into(),
        1 => xs[0].clone(),
        n => {
            let (a, b) = xs.split_at(n.div_ceil(2));
            let wrap = |v: &[String]| {
                let s = pairwise(v);
                if v.len() > 1 { format!("({s})") } else { s }
            };
            format!("{} + {}", wrap(a), wrap(b))
        }
    }
}

/// Emits `f` as a Rust function.
pub fn emit_rust(f: &Function, opts: &EmitOptions) -> String {
    let mut e = Em {
        f,
        names: HashMap::new(),
        uses: HashMap::new(),
        use_block: HashMap::new(),
        def_block: HashMap::new(),
        def: HashMap::new(),
        consts: HashMap::new(),
        usize_vals: HashSet::new(),
        inline: HashSet::new(),
        skip: HashSet::new(),
        counter: 0,
        out: String::new(),
        simd: opts.simd,
        chunk: HashMap::new(),
        lanes_depth: 0,
        loop_depth: 0,
        par: None,
        windows: HashMap::new(),
    };
    e.scan(f.body);
    e.decide_inline(f.body);
    let mut ps = vec![];
    for (k, &p) in f.params.iter().enumerate() {
        let n = opts
            .param_names
            .as_ref()
            .and_then(|v| v.get(k).cloned())
            .unwrap_or_else(|| format!("p{k}"));
        ps.push(format!("{n}: {}", f.ty(p)));
        e.names.insert(p, n);
    }
    let ret = match f.ret_types.len() {
        0 => String::new(),
        1 => format!(" -> {}", f.ret_types[0]),
        _ => format!(
            " -> ({})",
            f.ret_types
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let vis = if opts.public { "pub " } else { "" };
    let name = opts.name.as_deref().unwrap_or(&f.name);
    let _ = writeln!(e.out, "{vis}fn {name}({}){ret} {{", ps.join(", "));
    // The body as a closure that `dispatch` compiles for each instruction set.
    let depth = if opts.simd.dispatch {
        let d = e.dispatcher();
        e.line(1, &format!("{d}(#[inline(always)] move |isa| {{"));
        2
    } else {
        1
    };
    e.block(f.body, depth);
    let ys: Vec<String> = f
        .block(f.body)
        .yields
        .iter()
        .map(|&y| e.val(y, false))
        .collect();
    match ys.len() {
        0 => {}
        1 => e.line(depth, &ys[0]),
        _ => e.line(depth, &format!("({})", ys.join(", "))),
    }
    if opts.simd.dispatch {
        e.line(1, "})");
    }
    e.out.push_str("}\n");
    e.out
}
