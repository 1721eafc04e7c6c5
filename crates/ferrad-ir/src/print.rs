//! The printer: the stable text form of a [`Function`] or [`Module`].
//!
//! Values are renumbered in order of definition (parameters, then each result and block
//! parameter as the text reaches it), so the text of a function does not depend on arena
//! holes left by passes, and `print(parse(print(f))) == print(f)`.
//!
//! ```text
//! fn @dot(%0: &[f64], %1: &[f64]) -> (f64) {
//!   %2: i64 = len %0
//!   %3: i64 = const 0
//!   %4: f64 = const 0.0
//!   %5: f64 = for %6 = %3 to %2 carry(%7 = %4) {
//!     %8: f64 = load %0[%6]
//!     %9: f64 = load %1[%6]
//!     %10: f64 = mul_add %8, %9, %7
//!     yield %10
//!   }
//!   return %5
//! }
//! ```
//!
//! Invariant: the printer never fails; a value used out of scope prints as `%?N` (arena id) so
//! a broken function can still be looked at.

use std::collections::HashMap;
use std::fmt::Write;

use crate::ir::*;

struct Printer<'a> {
    f: &'a Function,
    m: Option<&'a Module>,
    names: HashMap<Value, u32>,
    out: String,
}

impl Printer<'_> {
    fn def(&mut self, v: Value) -> String {
        let n = self.names.len() as u32;
        self.names.insert(v, n);
        format!("%{n}")
    }
    fn name(&self, v: Value) -> String {
        match self.names.get(&v) {
            Some(n) => format!("%{n}"),
            None => format!("%?{}", v.0),
        }
    }
    fn list(&self, vs: &[Value]) -> String {
        vs.iter()
            .map(|&v| self.name(v))
            .collect::<Vec<_>>()
            .join(", ")
    }
    fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.out.push_str("  ");
        }
    }

    fn block(&mut self, b: Block, depth: usize, ret: bool) {
        let insts = self.f.block(b).insts.clone();
        for i in insts {
            self.inst(i, depth);
        }
        let ys = self.list(&self.f.block(b).yields);
        self.indent(depth);
        let kw = if ret { "return" } else { "yield" };
        if ys.is_empty() {
            let _ = writeln!(self.out, "{kw}");
        } else {
            let _ = writeln!(self.out, "{kw} {ys}");
        }
    }

    fn inst(&mut self, i: Inst, depth: usize) {
        let d = self.f.inst(i).clone();
        self.indent(depth);
        let args = self.list(&d.args);
        if !d.results.is_empty() {
            let rs: Vec<String> = d
                .results
                .iter()
                .map(|&r| {
                    let n = self.def(r);
                    format!("{n}: {}", self.f.ty(r))
                })
                .collect();
            let _ = write!(self.out, "{} = ", rs.join(", "));
        }
        match &d.op {
            Op::Const(c) => {
                let _ = match c {
                    Const::F64(v) => write!(self.out, "const {v:?}"),
                    Const::F32(v) => write!(self.out, "const {v:?}"),
                    Const::I64(v) => write!(self.out, "const {v}"),
                    Const::Bool(v) => write!(self.out, "const {v}"),
                };
            }
            Op::Unary(ferrad_core::rules::Unary::Powi(n)) => {
                let _ = write!(self.out, "powi {args}, {n}");
            }
            Op::Load => {
                let _ = write!(
                    self.out,
                    "load {}[{}]",
                    self.name(d.args[0]),
                    self.name(d.args[1])
                );
            }
            Op::Store => {
                let _ = write!(
                    self.out,
                    "store {}[{}], {}",
                    self.name(d.args[0]),
                    self.name(d.args[1]),
                    self.name(d.args[2])
                );
            }
            Op::Call(fid) => {
                let callee = match self.m {
                    Some(m) if fid.index() < m.funcs.len() => m.func(*fid).name.clone(),
                    _ => format!("{}", fid.0),
                };
                let _ = write!(self.out, "call @{callee}({args})");
            }
            Op::Custom { name, kind } => {
                let _ = write!(self.out, "{} {name:?}({args})", kind.name());
            }
            Op::For { body, rev } => {
                let bd = self.f.block(*body).clone();
                let idx = self.def(bd.params[0]);
                let _ = write!(
                    self.out,
                    "for {}{idx} = {} to {}",
                    if *rev { "rev " } else { "" },
                    self.name(d.args[0]),
                    self.name(d.args[1])
                );
                if bd.params.len() > 1 {
                    let mut parts = vec![];
                    for (k, &p) in bd.params[1..].iter().enumerate() {
                        let init = self.name(d.args[2 + k]);
                        let n = self.def(p);
                        parts.push(format!("{n} = {init}"));
                    }
                    let _ = write!(self.out, " carry({})", parts.join(", "));
                }
                self.out.push_str(" {\n");
                self.block(*body, depth + 1, false);
                self.indent(depth);
                self.out.push_str("}\n");
                return;
            }
            Op::If { then_blk, else_blk } => {
                let _ = writeln!(self.out, "if {args} {{");
                self.block(*then_blk, depth + 1, false);
                self.indent(depth);
                self.out.push_str("} else {\n");
                self.block(*else_blk, depth + 1, false);
                self.indent(depth);
                self.out.push_str("}\n");
                return;
            }
            op => {
                if args.is_empty() {
                    let _ = write!(self.out, "{}", op.name());
                } else {
                    let _ = write!(self.out, "{} {args}", op.name());
                }
            }
        }
        self.out.push('\n');
    }
}

/// Prints one function; calls print the callee's index (`call @0(...)`) for lack of a module.
pub fn print_function(f: &Function) -> String {
    print_in(f, None)
}

fn print_in(f: &Function, m: Option<&Module>) -> String {
    let mut p = Printer {
        f,
        m,
        names: HashMap::new(),
        out: String::new(),
    };
    let ps: Vec<String> = f
        .params
        .iter()
        .map(|&v| {
            let n = p.def(v);
            format!("{n}: {}", f.ty(v))
        })
        .collect();
    let rets: Vec<String> = f.ret_types.iter().map(|t| t.to_string()).collect();
    let _ = writeln!(
        p.out,
        "fn @{}({}) -> ({}) {{",
        f.name,
        ps.join(", "),
        rets.join(", ")
    );
    p.block(f.body, 1, true);
    p.out.push_str("}\n");
    p.out
}

/// Prints a module: its functions in order, separated by blank lines.
pub fn print_module(m: &Module) -> String {
    m.funcs
        .iter()
        .map(|f| print_in(f, Some(m)))
        .collect::<Vec<_>>()
        .join("\n")
}

impl std::fmt::Display for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&print_function(self))
    }
}

impl std::fmt::Display for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&print_module(self))
    }
}
