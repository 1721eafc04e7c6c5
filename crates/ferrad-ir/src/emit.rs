//! The Rust emitter: an IR function becomes the source text of a plain Rust `fn`.
//!
//! Scalars become `f64`/`f32`/`i64`/`bool` locals, buffers slices, loops `for` loops over
//! ranges (`.rev()` for reverse loops) with loop-carried values as `let mut` variables, `if`s
//! `if` expressions. A value used once, in the same block, by a pure operation is written
//! inline, so the text reads like hand-written code; `sin x` and `cos x` of one `x` become one
//! `sin_cos`; `buf[i] = buf[i] + a` is written `buf[i] += a`; a carried value updated by
//! `c + e` is written `c += e`. Loop indices that start at a non-negative constant and end at a
//! constant or a buffer length are `usize`, so indexing needs no casts. Straight-line code
//! allocates nothing; `alloc` (only produced for loop checkpoints the optimizer could not
//! remove) becomes a `vec!`. Custom rules are called as `rule_name(...)` (`rule_name_jvp`,
//! `rule_name_vjp`), functions the surrounding code provides, returning an array.
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
            if let Op::For { body, .. } = d.op {
                let lo_ok = matches!(self.consts.get(&d.args[0]), Some(Const::I64(v)) if *v >= 0);
                let hi = d.args[1];
                let hi_ok = matches!(self.consts.get(&hi), Some(Const::I64(v)) if *v >= 0)
                    || self
                        .def
                        .get(&hi)
                        .is_some_and(|&j| self.f.inst(j).op == Op::Len);
                if lo_ok && hi_ok {
                    self.usize_vals.insert(self.f.block(body).params[0]);
                }
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

    /// The expression computing `i`'s result, and its precedence.
    fn expr(&self, i: Inst) -> (String, u8) {
        let d = self.f.inst(i);
        let a = |k: usize, min: u8| self.valp(d.args[k], min, false);
        match &d.op {
            Op::Const(c) => (lit(*c), ATOM),
            Op::Unary(Unary::Neg) => (format!("-{}", a(0, NEG)), NEG),
            Op::Unary(Unary::Powi(n)) => (format!("{}.powi({n})", self.recv(d.args[0])), ATOM),
            Op::Unary(u) => (format!("{}.{}()", self.recv(d.args[0]), method(*u)), ATOM),
            Op::Binary(b) => {
                let sym = match b {
                    Binary::Add => Some(("+", ADD)),
                    Binary::Sub => Some(("-", ADD)),
                    Binary::Mul => Some(("*", MUL)),
                    Binary::Div => Some(("/", MUL)),
                    Binary::Rem => Some(("%", MUL)),
                    _ => None,
                };
                match sym {
                    Some((s, p)) => (format!("{} {s} {}", a(0, p), a(1, p + 1)), p),
                    None => (
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
            Op::Load => (
                format!("{}[{}]", self.names[&d.args[0]], self.val(d.args[1], true)),
                ATOM,
            ),
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
                        let x = self.recv(d.args[0]);
                        self.line(depth, &format!("let ({sn}, {cn}) = {x}.sin_cos();"));
                        done_trig.insert(j);
                        continue;
                    }
                    self.let_expr(i, depth);
                }
                Op::Store => {
                    let buf = self.names[&d.args[0]].clone();
                    let idx = self.val(d.args[1], true);
                    // buf[i] = buf[i] + a  →  buf[i] += a
                    if let Some(a) = self.accumulate(d.args[2], |s, dl| {
                        dl.op == Op::Load
                            && dl.args[0] == d.args[0]
                            && dl.args[1] == d.args[1]
                            && s.inline.contains(&dl.results[0])
                    }) {
                        self.line(depth, &format!("{buf}[{idx}] += {a};"));
                    } else {
                        let v = self.val(d.args[2], false);
                        self.line(depth, &format!("{buf}[{idx}] = {v};"));
                    }
                }
                Op::Alloc => {
                    let n = self.fresh("buf");
                    self.names.insert(d.results[0], n.clone());
                    let len = self.val(d.args[0], true);
                    self.line(depth, &format!("let mut {n} = vec![0.0_f64; {len}];"));
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
        let mut vars = vec![];
        for (k, &p) in bd.params[1..].iter().enumerate() {
            let n = self.fresh("acc");
            let init = self.val(d.args[2 + k], false);
            self.line(depth, &format!("let mut {n} = {init};"));
            self.names.insert(p, n.clone());
            self.names.insert(d.results[k], n.clone());
            vars.push(n);
        }
        let idx = if self.uses.get(&bd.params[0]).copied().unwrap_or(0) == 0 {
            "_".to_string()
        } else {
            self.fresh("i")
        };
        self.names.insert(bd.params[0], idx.clone());
        let as_usize = self.usize_vals.contains(&bd.params[0]);
        let (lo, hi) = (self.val(d.args[0], as_usize), self.val(d.args[1], as_usize));
        let range = if rev {
            format!("({lo}..{hi}).rev()")
        } else {
            format!("{lo}..{hi}")
        };
        self.line(depth, &format!("for {idx} in {range} {{"));
        self.block(body, depth + 1);
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
                    Some(p) => self.line(depth + 1, &format!("{v} += {p};")),
                    None => self.line(depth + 1, &format!("{v} = {e};")),
                }
            }
        } else {
            let lhs: Vec<&str> = updates.iter().map(|u| u.0.as_str()).collect();
            let rhs: Vec<&str> = updates.iter().map(|u| u.1.as_str()).collect();
            self.line(
                depth + 1,
                &format!("({}) = ({});", lhs.join(", "), rhs.join(", ")),
            );
        }
        self.line(depth, "}");
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
    e.block(f.body, 1);
    let ys: Vec<String> = f
        .block(f.body)
        .yields
        .iter()
        .map(|&y| e.val(y, false))
        .collect();
    match ys.len() {
        0 => {}
        1 => e.line(1, &ys[0]),
        _ => e.line(1, &format!("({})", ys.join(", "))),
    }
    e.out.push_str("}\n");
    e.out
}
