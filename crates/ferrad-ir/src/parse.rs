//! The parser: the text form printed by [`crate::print`] back into a [`Module`].
//!
//! Errors carry the line and column (1-based) of the offending token and say what was
//! expected. Names are resolved with lexical scoping as the verifier defines it (a value
//! defined inside a loop body or an `if` arm is not visible after it), and every parsed
//! function is then verified, so a parsed module is always well formed.
//!
//! Invariant: `parse_module(&print_module(m))` yields a module that prints identically.

use std::collections::HashMap;
use std::fmt;

use ferrad_core::rules::{Binary, Ternary, Unary};

use crate::builder::FunctionBuilder;
use crate::ir::*;

/// A syntax or well-formedness error in IR text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// What is wrong.
    pub msg: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.col, self.msg)
    }
}

impl std::error::Error for ParseError {}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Val(u32),
    Func(String),
    Num(String),
    Str(String),
    Punct(&'static str),
    Eof,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(s) => write!(f, "`{s}`"),
            Tok::Val(n) => write!(f, "`%{n}`"),
            Tok::Func(s) => write!(f, "`@{s}`"),
            Tok::Num(s) => write!(f, "`{s}`"),
            Tok::Str(s) => write!(f, "{s:?}"),
            Tok::Punct(p) => write!(f, "`{p}`"),
            Tok::Eof => write!(f, "end of input"),
        }
    }
}

fn lex(src: &str) -> Result<Vec<(Tok, usize, usize)>, ParseError> {
    let chars: Vec<char> = src.chars().collect();
    let (mut i, mut line, mut col) = (0, 1, 1);
    let mut out = vec![];
    let err = |line, col, msg: String| Err(ParseError { line, col, msg });
    while i < chars.len() {
        let c = chars[i];
        let (l0, c0) = (line, col);
        let start = i;
        let word = |i: &mut usize| {
            let s = *i;
            while *i < chars.len()
                && (chars[*i].is_alphanumeric() || chars[*i] == '_' || chars[*i] == '.')
            {
                *i += 1;
            }
            chars[s..*i].iter().collect::<String>()
        };
        if c == '\n' {
            i += 1;
            line += 1;
            col = 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            col += 1;
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        let tok = if c == '%' {
            i += 1;
            let w = word(&mut i);
            match w.parse::<u32>() {
                Ok(n) => Tok::Val(n),
                Err(_) => {
                    return err(
                        l0,
                        c0,
                        format!("expected a value number after `%`, found `{w}`"),
                    );
                }
            }
        } else if c == '@' {
            i += 1;
            let w = word(&mut i);
            if w.is_empty() {
                return err(l0, c0, "expected a function name after `@`".into());
            }
            Tok::Func(w)
        } else if c == '"' {
            i += 1;
            let s = i;
            while i < chars.len() && chars[i] != '"' && chars[i] != '\n' {
                i += 1;
            }
            if i >= chars.len() || chars[i] != '"' {
                return err(l0, c0, "unterminated string".into());
            }
            i += 1;
            Tok::Str(chars[s..i - 1].iter().collect())
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_alphanumeric()))
        {
            i += 1;
            while i < chars.len() {
                let d = chars[i];
                let exp_sign = (d == '-' || d == '+')
                    && matches!(chars[i - 1], 'e' | 'E')
                    && chars[start].is_ascii_digit()
                    || (d == '-' || d == '+')
                        && matches!(chars[i - 1], 'e' | 'E')
                        && chars[start] == '-';
                if d.is_ascii_alphanumeric() || d == '.' || d == '_' || exp_sign {
                    i += 1;
                } else {
                    break;
                }
            }
            Tok::Num(chars[start..i].iter().collect())
        } else if c.is_alphabetic() || c == '_' {
            Tok::Ident(word(&mut i))
        } else if c == '-' && chars.get(i + 1) == Some(&'>') {
            i += 2;
            Tok::Punct("->")
        } else {
            let p = match c {
                '(' => "(",
                ')' => ")",
                '{' => "{",
                '}' => "}",
                '[' => "[",
                ']' => "]",
                ',' => ",",
                ':' => ":",
                '=' => "=",
                '&' => "&",
                _ => return err(l0, c0, format!("unexpected character `{c}`")),
            };
            i += 1;
            Tok::Punct(p)
        };
        col += i - start;
        out.push((tok, l0, c0));
    }
    out.push((Tok::Eof, line, col));
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize, usize)>,
    pos: usize,
    funcs: Vec<(String, Vec<Type>)>,
}

struct FnState {
    b: FunctionBuilder,
    scopes: Vec<HashMap<u32, Value>>,
    positions: HashMap<Inst, (usize, usize)>,
}

impl FnState {
    fn lookup(&self, n: u32) -> Option<Value> {
        self.scopes.iter().rev().find_map(|s| s.get(&n).copied())
    }
}

type R<T> = Result<T, ParseError>;

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }
    fn here(&self) -> (usize, usize) {
        (self.toks[self.pos].1, self.toks[self.pos].2)
    }
    fn err<T>(&self, msg: impl Into<String>) -> R<T> {
        let (line, col) = self.here();
        Err(ParseError {
            line,
            col,
            msg: msg.into(),
        })
    }
    fn next(&mut self) -> Tok {
        let t = self.toks[self.pos].0.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn eat(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Tok::Punct(q) if *q == p) {
            self.next();
            true
        } else {
            false
        }
    }
    fn expect(&mut self, p: &str) -> R<()> {
        if self.eat(p) {
            Ok(())
        } else {
            self.err(format!("expected `{p}`, found {}", self.peek()))
        }
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        if matches!(self.peek(), Tok::Ident(s) if s == kw) {
            self.next();
            true
        } else {
            false
        }
    }
    fn expect_kw(&mut self, kw: &str) -> R<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            self.err(format!("expected `{kw}`, found {}", self.peek()))
        }
    }

    fn ty(&mut self) -> R<Type> {
        if self.eat("&") {
            let m = self.eat_kw("mut");
            self.expect("[")?;
            self.expect_kw("f64")?;
            self.expect("]")?;
            return Ok(if m { Type::BufMut } else { Type::Buf });
        }
        let t = match self.peek() {
            Tok::Ident(s) => match s.as_str() {
                "f64" => Type::F64,
                "f32" => Type::F32,
                "i64" => Type::I64,
                "bool" => Type::Bool,
                _ => {
                    return self.err(format!(
                        "unknown type `{s}`: expected f64, f32, i64, bool, &[f64] or &mut [f64]"
                    ));
                }
            },
            t => return self.err(format!("expected a type, found {t}")),
        };
        self.next();
        Ok(t)
    }

    fn val_num(&mut self) -> R<u32> {
        match self.peek() {
            Tok::Val(n) => {
                let n = *n;
                self.next();
                Ok(n)
            }
            t => self.err(format!("expected a value like `%3`, found {t}")),
        }
    }

    fn use_val(&mut self, st: &FnState) -> R<Value> {
        let n = self.val_num()?;
        match st.lookup(n) {
            Some(v) => Ok(v),
            None => {
                self.pos -= 1;
                self.err(format!(
                    "use of undefined value `%{n}` (not defined before this point, or out of scope)"
                ))
            }
        }
    }

    fn define(&mut self, st: &mut FnState, n: u32, v: Value) -> R<()> {
        if st.lookup(n).is_some() {
            self.pos -= 1;
            return self.err(format!("value `%{n}` is defined twice"));
        }
        st.scopes.last_mut().expect("scope").insert(n, v);
        Ok(())
    }

    fn args(&mut self, st: &FnState, close: Option<&str>) -> R<Vec<Value>> {
        let mut v = vec![];
        if let Some(c) = close {
            if self.eat(c) {
                return Ok(v);
            }
        } else if !matches!(self.peek(), Tok::Val(_)) {
            return Ok(v);
        }
        loop {
            v.push(self.use_val(st)?);
            if !self.eat(",") {
                break;
            }
        }
        if let Some(c) = close {
            self.expect(c)?;
        }
        Ok(v)
    }

    fn function(&mut self) -> R<Function> {
        self.expect_kw("fn")?;
        let name = match self.next() {
            Tok::Func(n) => n,
            t => {
                self.pos -= 1;
                return self.err(format!("expected a function name like `@f`, found {t}"));
            }
        };
        let mut st = FnState {
            b: FunctionBuilder::new(name),
            scopes: vec![HashMap::new()],
            positions: HashMap::new(),
        };
        self.expect("(")?;
        if !self.eat(")") {
            loop {
                let n = self.val_num()?;
                self.expect(":")?;
                let t = self.ty()?;
                let v = st.b.param(t);
                self.define(&mut st, n, v)?;
                if !self.eat(",") {
                    break;
                }
            }
            self.expect(")")?;
        }
        self.expect("->")?;
        self.expect("(")?;
        let mut rets = vec![];
        if !self.eat(")") {
            loop {
                rets.push(self.ty()?);
                if !self.eat(",") {
                    break;
                }
            }
            self.expect(")")?;
        }
        self.expect("{")?;
        let (ys, at) = self.block_body(&mut st, "return")?;
        self.expect("}")?;
        let FnState { b, positions, .. } = st;
        let got: Vec<Type> = ys.iter().map(|&v| b.ty(v)).collect();
        if got != rets {
            return Err(ParseError {
                line: at.0,
                col: at.1,
                msg: format!(
                    "`return` gives types ({}) but the signature says ({})",
                    list(&got),
                    list(&rets)
                ),
            });
        }
        let f = b.finish(&ys);
        if let Err(e) = crate::verify::verify_function(&f, None) {
            let (line, col) = e
                .inst
                .and_then(|i| positions.get(&i).copied())
                .unwrap_or(at);
            return Err(ParseError {
                line,
                col,
                msg: e.msg,
            });
        }
        Ok(f)
    }

    /// Instructions up to the terminator `kw` (`yield`/`return`); returns the yielded values.
    fn block_body(&mut self, st: &mut FnState, kw: &str) -> R<(Vec<Value>, (usize, usize))> {
        loop {
            let at = self.here();
            if self.eat_kw(kw) {
                let ys = self.args(st, None)?;
                return Ok((ys, at));
            }
            if matches!(self.peek(), Tok::Punct("}") | Tok::Eof) {
                return self.err(format!(
                    "expected an instruction or `{kw}`, found {}",
                    self.peek()
                ));
            }
            self.inst(st)?;
        }
    }

    fn inst(&mut self, st: &mut FnState) -> R<()> {
        let at = self.here();
        let mut results: Vec<(u32, Type, (usize, usize))> = vec![];
        if matches!(self.peek(), Tok::Val(_)) {
            loop {
                let p = self.here();
                let n = self.val_num()?;
                self.expect(":")?;
                let t = self.ty()?;
                results.push((n, t, p));
                if !self.eat(",") {
                    break;
                }
            }
            self.expect("=")?;
        }
        let op_at = self.here();
        let opname = match self.next() {
            Tok::Ident(s) => s,
            t => {
                self.pos -= 1;
                return self.err(format!("expected an operation name, found {t}"));
            }
        };
        let tys: Vec<Type> = results.iter().map(|r| r.1).collect();
        let ninst_before = st.b.func.insts.len();
        let vals: Vec<Value> = match opname.as_str() {
            "const" => {
                let c = self.constant(tys.first().copied())?;
                vec![st.b.constant(c)]
            }
            "for" => return self.for_inst(st, results, at),
            "if" => return self.if_inst(st, results, at),
            "load" => {
                let buf = self.use_val(st)?;
                self.expect("[")?;
                let i = self.use_val(st)?;
                self.expect("]")?;
                st.b.emit(Op::Load, vec![buf, i], &tys)
            }
            "store" => {
                let buf = self.use_val(st)?;
                self.expect("[")?;
                let i = self.use_val(st)?;
                self.expect("]")?;
                self.expect(",")?;
                let v = self.use_val(st)?;
                st.b.emit(Op::Store, vec![buf, i, v], &tys)
            }
            "call" => {
                let callee = match self.next() {
                    Tok::Func(n) => n,
                    t => {
                        self.pos -= 1;
                        return self.err(format!("expected a callee like `@f`, found {t}"));
                    }
                };
                let Some(idx) = self.funcs.iter().position(|f| f.0 == callee) else {
                    self.pos -= 1;
                    return self.err(format!("call to unknown function `@{callee}`"));
                };
                self.expect("(")?;
                let a = self.args(st, Some(")"))?;
                if self.funcs[idx].1.len() != a.len() {
                    return Err(ParseError {
                        line: op_at.0,
                        col: op_at.1,
                        msg: format!(
                            "`@{callee}` takes {} arguments, {} given",
                            self.funcs[idx].1.len(),
                            a.len()
                        ),
                    });
                }
                st.b.call(FuncId(idx as u32), a, &tys)
            }
            "custom" | "custom_jvp" | "custom_vjp" => {
                let name = match self.next() {
                    Tok::Str(s) => s,
                    t => {
                        self.pos -= 1;
                        return self.err(format!("expected the rule name as a string, found {t}"));
                    }
                };
                let kind = match opname.as_str() {
                    "custom" => CustomKind::Eval,
                    "custom_jvp" => CustomKind::Jvp,
                    _ => CustomKind::Vjp,
                };
                self.expect("(")?;
                let a = self.args(st, Some(")"))?;
                st.b.emit(Op::Custom { name, kind }, a, &tys)
            }
            "powi" => {
                let x = self.use_val(st)?;
                self.expect(",")?;
                let n = match self.next() {
                    Tok::Num(s) => match s.parse::<i32>() {
                        Ok(n) => n,
                        Err(_) => {
                            self.pos -= 1;
                            return self.err(format!("`powi` needs an i32 exponent, found `{s}`"));
                        }
                    },
                    t => {
                        self.pos -= 1;
                        return self.err(format!("`powi` needs an integer exponent, found {t}"));
                    }
                };
                st.b.emit(Op::Unary(Unary::Powi(n)), vec![x], &tys)
            }
            name => {
                let Some((op, arity)) = op_by_name(name) else {
                    return Err(ParseError {
                        line: op_at.0,
                        col: op_at.1,
                        msg: format!("unknown operation `{name}`"),
                    });
                };
                let a = self.args(st, None)?;
                if a.len() != arity {
                    return Err(ParseError {
                        line: op_at.0,
                        col: op_at.1,
                        msg: format!("`{name}` takes {arity} argument(s), {} given", a.len()),
                    });
                }
                st.b.emit(op, a, &tys)
            }
        };
        if st.b.func.insts.len() > ninst_before {
            st.positions
                .insert(Inst(st.b.func.insts.len() as u32 - 1), at);
        }
        if vals.len() != results.len() {
            return Err(ParseError {
                line: at.0,
                col: at.1,
                msg: format!(
                    "`{opname}` defines {} result(s), {} named",
                    vals.len(),
                    results.len()
                ),
            });
        }
        for ((n, _, p), v) in results.into_iter().zip(vals) {
            let save = self.pos;
            if st.lookup(n).is_some() {
                return Err(ParseError {
                    line: p.0,
                    col: p.1,
                    msg: format!("value `%{n}` is defined twice"),
                });
            }
            self.pos = save;
            st.scopes.last_mut().expect("scope").insert(n, v);
        }
        Ok(())
    }

    fn constant(&mut self, ty: Option<Type>) -> R<Const> {
        let tok = self.next();
        let text = match &tok {
            Tok::Num(s) | Tok::Ident(s) => s.clone(),
            t => {
                self.pos -= 1;
                return self.err(format!("expected a constant, found {t}"));
            }
        };
        let bad = |p: &mut Self, what: &str| {
            p.pos -= 1;
            p.err(format!("`{text}` is not a valid {what} constant"))
        };
        Ok(match ty {
            Some(Type::F64) => match text.parse::<f64>() {
                Ok(v) => Const::F64(v),
                Err(_) => return bad(self, "f64"),
            },
            Some(Type::F32) => match text.parse::<f32>() {
                Ok(v) => Const::F32(v),
                Err(_) => return bad(self, "f32"),
            },
            Some(Type::I64) => match text.parse::<i64>() {
                Ok(v) => Const::I64(v),
                Err(_) => return bad(self, "i64"),
            },
            Some(Type::Bool) => match text.as_str() {
                "true" => Const::Bool(true),
                "false" => Const::Bool(false),
                _ => return bad(self, "bool"),
            },
            _ => {
                self.pos -= 1;
                return self.err("`const` needs one result of type f64, f32, i64 or bool");
            }
        })
    }

    fn for_inst(
        &mut self,
        st: &mut FnState,
        results: Vec<(u32, Type, (usize, usize))>,
        at: (usize, usize),
    ) -> R<()> {
        let rev = self.eat_kw("rev");
        let idx = self.val_num()?;
        self.expect("=")?;
        let lo = self.use_val(st)?;
        self.expect_kw("to")?;
        let hi = self.use_val(st)?;
        let mut carried = vec![];
        if self.eat_kw("carry") {
            self.expect("(")?;
            loop {
                let n = self.val_num()?;
                self.expect("=")?;
                let init = self.use_val(st)?;
                carried.push((n, init));
                if !self.eat(",") {
                    break;
                }
            }
            self.expect(")")?;
        }
        if carried.len() != results.len() {
            return Err(ParseError {
                line: at.0,
                col: at.1,
                msg: format!(
                    "loop carries {} value(s) but names {} result(s)",
                    carried.len(),
                    results.len()
                ),
            });
        }
        for ((_, t, p), (_, init)) in results.iter().zip(&carried) {
            if *t != st.b.ty(*init) {
                return Err(ParseError {
                    line: p.0,
                    col: p.1,
                    msg: format!(
                        "loop result declared {t} but its initial value is {}",
                        st.b.ty(*init)
                    ),
                });
            }
        }
        let inits: Vec<Value> = carried.iter().map(|c| c.1).collect();
        let (h, i, cs) = st.b.begin_for(lo, hi, &inits, rev);
        st.positions.insert(h.inst, at);
        self.expect("{")?;
        st.scopes.push(HashMap::new());
        self.define(st, idx, i)?;
        for ((n, _), v) in carried.iter().zip(cs) {
            st.scopes.last_mut().expect("scope").insert(*n, v);
        }
        let (ys, _) = self.block_body(st, "yield")?;
        self.expect("}")?;
        st.scopes.pop();
        let rs = st.b.end_for(h, &ys);
        for ((n, _, p), v) in results.into_iter().zip(rs) {
            if st.lookup(n).is_some() {
                return Err(ParseError {
                    line: p.0,
                    col: p.1,
                    msg: format!("value `%{n}` is defined twice"),
                });
            }
            st.scopes.last_mut().expect("scope").insert(n, v);
        }
        Ok(())
    }

    fn if_inst(
        &mut self,
        st: &mut FnState,
        results: Vec<(u32, Type, (usize, usize))>,
        at: (usize, usize),
    ) -> R<()> {
        let c = self.use_val(st)?;
        let tys: Vec<Type> = results.iter().map(|r| r.1).collect();
        let h = st.b.begin_if(c, &tys);
        st.positions.insert(h.inst, at);
        self.expect("{")?;
        st.scopes.push(HashMap::new());
        let (ys, _) = self.block_body(st, "yield")?;
        st.scopes.pop();
        self.expect("}")?;
        st.b.begin_else(h, &ys);
        self.expect_kw("else")?;
        self.expect("{")?;
        st.scopes.push(HashMap::new());
        let (ys, _) = self.block_body(st, "yield")?;
        st.scopes.pop();
        self.expect("}")?;
        let rs = st.b.end_if(h, &ys);
        for ((n, _, p), v) in results.into_iter().zip(rs) {
            if st.lookup(n).is_some() {
                return Err(ParseError {
                    line: p.0,
                    col: p.1,
                    msg: format!("value `%{n}` is defined twice"),
                });
            }
            st.scopes.last_mut().expect("scope").insert(n, v);
        }
        Ok(())
    }
}

fn list(ts: &[Type]) -> String {
    ts.iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The op with this text name (other than the ones with special syntax) and its arity.
pub(crate) fn op_by_name(name: &str) -> Option<(Op, usize)> {
    for u in Unary::ALL {
        if u.name() == name && !matches!(u, Unary::Powi(_)) {
            return Some((Op::Unary(u), 1));
        }
    }
    for b in Binary::ALL {
        if b.name() == name {
            return Some((Op::Binary(b), 2));
        }
    }
    if name == Ternary::MulAdd.name() {
        return Some((Op::Ternary(Ternary::MulAdd), 3));
    }
    for i in [IntOp::Add, IntOp::Sub, IntOp::Mul] {
        if i.name() == name {
            return Some((Op::Int(i), 2));
        }
    }
    for c in CmpOp::ALL {
        if c.name() == name {
            return Some((Op::Cmp(c), 2));
        }
    }
    Some(match name {
        "is_nan" => (Op::IsNan, 1),
        "select" => (Op::Select, 3),
        "cast" => (Op::Cast, 1),
        "len" => (Op::Len, 1),
        "alloc" => (Op::Alloc, 1),
        "scratch" => (Op::Scratch, 1),
        _ => return None,
    })
}

/// Parses a module (one or more functions).
pub fn parse_module(src: &str) -> Result<Module, ParseError> {
    let toks = lex(src)?;
    // Pre-pass: function names and parameter types, so calls may refer forward.
    let mut funcs = vec![];
    for k in 0..toks.len() {
        if toks[k].0 == Tok::Ident("fn".into())
            && let Some((Tok::Func(n), l, c)) = toks.get(k + 1)
        {
            {
                if funcs.iter().any(|(m, _): &(String, Vec<Type>)| m == n) {
                    return Err(ParseError {
                        line: *l,
                        col: *c,
                        msg: format!("function `@{n}` is defined twice"),
                    });
                }
                let mut arity = 0;
                let mut j = k + 2;
                while j < toks.len() && toks[j].0 != Tok::Punct(")") {
                    if toks[j].0 == Tok::Punct(":") {
                        arity += 1;
                    }
                    j += 1;
                }
                funcs.push((n.clone(), vec![Type::F64; arity]));
            }
        }
    }
    let mut p = Parser {
        toks,
        pos: 0,
        funcs,
    };
    let mut m = Module::new();
    while p.peek() != &Tok::Eof {
        m.push(p.function()?);
    }
    if m.funcs.is_empty() {
        return p.err("expected at least one function (`fn @name(...) -> (...) { ... }`)");
    }
    if let Err(e) = crate::verify::verify_module(&m) {
        return Err(ParseError {
            line: 1,
            col: 1,
            msg: e.to_string(),
        });
    }
    Ok(m)
}

/// Parses text holding exactly one function.
pub fn parse_function(src: &str) -> Result<Function, ParseError> {
    let m = parse_module(src)?;
    if m.funcs.len() != 1 {
        return Err(ParseError {
            line: 1,
            col: 1,
            msg: format!("expected one function, found {}", m.funcs.len()),
        });
    }
    Ok(m.funcs.into_iter().next().expect("one function"))
}
