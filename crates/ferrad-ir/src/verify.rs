//! The verifier: types, scoping (dominance) and region arities.
//!
//! Because control flow is structured, dominance is lexical scoping: a value may be used in the
//! block that defines it after its definition, and in blocks nested inside. The verifier also
//! checks every op's argument and result types, that a loop body's parameters, the loop's
//! initial values, its body's yields and its results agree in number and type, and that both
//! arms of an `if` yield its result types. Passes call [`debug_verify`] after they run.
//!
//! Invariant: a function that passes [`verify_function`] can be printed, parsed back,
//! interpreted and transformed without panics.

use std::collections::HashSet;
use std::fmt;

use crate::ir::*;

/// Why a function is malformed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    /// The function's name.
    pub func: String,
    /// The offending instruction, if the problem is in one.
    pub inst: Option<Inst>,
    /// What is wrong.
    pub msg: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "in @{}: {}", self.func, self.msg)
    }
}

impl std::error::Error for VerifyError {}

struct V<'a> {
    f: &'a Function,
    m: Option<&'a Module>,
    defined: HashSet<Value>,
    scope: Vec<Vec<Value>>,
    visible: HashSet<Value>,
}

impl V<'_> {
    fn fail<T>(&self, inst: Option<Inst>, msg: String) -> Result<T, VerifyError> {
        Err(VerifyError {
            func: self.f.name.clone(),
            inst,
            msg,
        })
    }
    fn def(&mut self, v: Value, inst: Option<Inst>) -> Result<(), VerifyError> {
        if v.index() >= self.f.values.len() {
            return self.fail(inst, format!("value {v} has no type (not in the arena)"));
        }
        if !self.defined.insert(v) {
            return self.fail(inst, format!("value {v} is defined more than once"));
        }
        self.scope.last_mut().expect("scope").push(v);
        self.visible.insert(v);
        Ok(())
    }
    fn open(&mut self) {
        self.scope.push(vec![]);
    }
    fn close(&mut self) {
        for v in self.scope.pop().expect("scope") {
            self.visible.remove(&v);
        }
    }
    fn block(&mut self, b: Block, owner: Option<Inst>) -> Result<(), VerifyError> {
        if b.index() >= self.f.blocks.len() {
            return self.fail(owner, format!("block {b} does not exist"));
        }
        for &p in &self.f.block(b).params {
            self.def(p, owner)?;
        }
        for &i in &self.f.block(b).insts {
            self.inst(i)?;
        }
        for &y in &self.f.block(b).yields {
            if !self.visible.contains(&y) {
                return self.fail(
                    owner,
                    format!("block {b} yields {y}, which is not in scope there"),
                );
            }
        }
        Ok(())
    }
    fn inst(&mut self, i: Inst) -> Result<(), VerifyError> {
        let f = self.f;
        let d = f.inst(i);
        for &a in &d.args {
            if !self.visible.contains(&a) {
                return self.fail(
                    Some(i),
                    format!(
                        "`{}` uses {a}, which is not defined before it in scope",
                        d.op.name()
                    ),
                );
            }
        }
        let at: Vec<Type> = d.args.iter().map(|&a| f.ty(a)).collect();
        let rt: Vec<Type> = d.results.iter().map(|&r| f.ty(r)).collect();
        let name = d.op.name().to_string();
        let bad = |v: &Self, what: String| v.fail(Some(i), format!("`{name}`: {what}"));
        let show = |ts: &[Type]| {
            ts.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let same_float = |n: usize| {
            at.len() == n && at[0].is_float() && at.iter().all(|&t| t == at[0]) && rt == [at[0]]
        };
        match &d.op {
            Op::Const(c) => {
                if !d.args.is_empty() || rt != [c.ty()] {
                    return bad(
                        self,
                        format!("a {} constant must have one {} result", c.ty(), c.ty()),
                    );
                }
            }
            Op::Unary(_) | Op::Binary(_) | Op::Ternary(_) => {
                let n = match d.op {
                    Op::Unary(_) => 1,
                    Op::Binary(_) => 2,
                    _ => 3,
                };
                if !same_float(n) {
                    return bad(
                        self,
                        format!(
                            "expects {n} float argument(s) of one type and a result of that type, got ({}) -> ({})",
                            show(&at),
                            show(&rt)
                        ),
                    );
                }
            }
            Op::Int(_) => {
                if at != [Type::I64, Type::I64] || rt != [Type::I64] {
                    return bad(
                        self,
                        format!(
                            "expects (i64, i64) -> i64, got ({}) -> ({})",
                            show(&at),
                            show(&rt)
                        ),
                    );
                }
            }
            Op::Cmp(_) => {
                if at.len() != 2
                    || at[0] != at[1]
                    || !(at[0].is_float() || at[0] == Type::I64)
                    || rt != [Type::Bool]
                {
                    return bad(
                        self,
                        format!(
                            "expects two floats or two i64 and a bool result, got ({}) -> ({})",
                            show(&at),
                            show(&rt)
                        ),
                    );
                }
            }
            Op::IsNan => {
                if at.len() != 1 || !at[0].is_float() || rt != [Type::Bool] {
                    return bad(
                        self,
                        format!(
                            "expects a float and a bool result, got ({}) -> ({})",
                            show(&at),
                            show(&rt)
                        ),
                    );
                }
            }
            Op::Select => {
                if at.len() != 3
                    || at[0] != Type::Bool
                    || at[1] != at[2]
                    || rt != [at[1]]
                    || at[1].is_buf()
                {
                    return bad(
                        self,
                        format!(
                            "expects (bool, T, T) -> T, got ({}) -> ({})",
                            show(&at),
                            show(&rt)
                        ),
                    );
                }
            }
            Op::Cast => {
                let num = |t: Type| t.is_float() || t == Type::I64;
                if at.len() != 1 || rt.len() != 1 || !num(at[0]) || !num(rt[0]) {
                    return bad(
                        self,
                        format!(
                            "converts between f64, f32 and i64, got ({}) -> ({})",
                            show(&at),
                            show(&rt)
                        ),
                    );
                }
            }
            Op::Len => {
                if at.len() != 1 || !at[0].is_buf() || rt != [Type::I64] {
                    return bad(
                        self,
                        format!(
                            "expects a buffer and an i64 result, got ({}) -> ({})",
                            show(&at),
                            show(&rt)
                        ),
                    );
                }
            }
            Op::Load => {
                if at.len() != 2 || !at[0].is_buf() || at[1] != Type::I64 || rt != [Type::F64] {
                    return bad(
                        self,
                        format!(
                            "expects buf[i64] -> f64, got ({}) -> ({})",
                            show(&at),
                            show(&rt)
                        ),
                    );
                }
            }
            Op::Store => {
                if at.len() != 3 || at[1] != Type::I64 || at[2] != Type::F64 || !rt.is_empty() {
                    return bad(
                        self,
                        format!(
                            "expects (&mut [f64], i64, f64) and no result, got ({}) -> ({})",
                            show(&at),
                            show(&rt)
                        ),
                    );
                }
                if at[0] != Type::BufMut {
                    return bad(
                        self,
                        format!(
                            "stores into {}, which is {}: only `&mut [f64]` buffers can be written",
                            d.args[0], at[0]
                        ),
                    );
                }
            }
            Op::Alloc | Op::Scratch => {
                if at != [Type::I64] || rt != [Type::BufMut] {
                    return bad(
                        self,
                        format!(
                            "expects i64 -> &mut [f64], got ({}) -> ({})",
                            show(&at),
                            show(&rt)
                        ),
                    );
                }
            }
            Op::For { body, .. } => {
                if at.len() < 2 || at[0] != Type::I64 || at[1] != Type::I64 {
                    return bad(self, "the bounds must be two i64 values".into());
                }
                let inits = &at[2..];
                if inits != rt.as_slice() {
                    return bad(
                        self,
                        format!("carries ({}) but has results ({})", show(inits), show(&rt)),
                    );
                }
                if body.index() >= f.blocks.len() {
                    return bad(self, format!("body {body} does not exist"));
                }
                let bd = f.block(*body);
                let pt: Vec<Type> = bd.params.iter().map(|&p| f.ty(p)).collect();
                if pt.first() != Some(&Type::I64) || &pt[1..] != inits {
                    return bad(
                        self,
                        format!(
                            "body parameters ({}) must be (i64, {})",
                            show(&pt),
                            show(inits)
                        ),
                    );
                }
                let yt: Vec<Type> = bd.yields.iter().map(|&y| f.ty(y)).collect();
                if yt != inits {
                    return bad(
                        self,
                        format!(
                            "body yields ({}) but carries ({}): loop-carried arity/type mismatch",
                            show(&yt),
                            show(inits)
                        ),
                    );
                }
                self.open();
                self.block(*body, Some(i))?;
                self.close();
            }
            Op::If { then_blk, else_blk } => {
                if at != [Type::Bool] {
                    return bad(
                        self,
                        format!("the condition must be a bool, got ({})", show(&at)),
                    );
                }
                for b in [*then_blk, *else_blk] {
                    if b.index() >= f.blocks.len() {
                        return bad(self, format!("arm {b} does not exist"));
                    }
                    let bd = f.block(b);
                    if !bd.params.is_empty() {
                        return bad(self, "if arms take no parameters".into());
                    }
                    let yt: Vec<Type> = bd.yields.iter().map(|&y| f.ty(y)).collect();
                    if yt != rt {
                        return bad(
                            self,
                            format!(
                                "an arm yields ({}) but the if has results ({})",
                                show(&yt),
                                show(&rt)
                            ),
                        );
                    }
                    self.open();
                    self.block(b, Some(i))?;
                    self.close();
                }
            }
            Op::Call(fid) => {
                if let Some(m) = self.m {
                    if fid.index() >= m.funcs.len() {
                        return bad(self, format!("callee {fid} does not exist"));
                    }
                    let g = m.func(*fid);
                    if g.param_types() != at || g.ret_types != rt {
                        return bad(
                            self,
                            format!(
                                "@{} has signature ({}) -> ({}), called as ({}) -> ({})",
                                g.name,
                                show(&g.param_types()),
                                show(&g.ret_types),
                                show(&at),
                                show(&rt)
                            ),
                        );
                    }
                }
            }
            Op::Custom { .. } => {
                if !at.iter().chain(&rt).all(|t| *t == Type::F64) {
                    return bad(
                        self,
                        format!(
                            "custom rules take and return f64 values, got ({}) -> ({})",
                            show(&at),
                            show(&rt)
                        ),
                    );
                }
            }
        }
        for &r in &d.results {
            self.def(r, Some(i))?;
        }
        Ok(())
    }
}

/// Checks one function; with a module, calls are checked against the callee's signature.
pub fn verify_function(f: &Function, m: Option<&Module>) -> Result<(), VerifyError> {
    let mut v = V {
        f,
        m,
        defined: HashSet::new(),
        scope: vec![vec![]],
        visible: HashSet::new(),
    };
    for &p in &f.params {
        v.def(p, None)?;
    }
    v.block(f.body, None)?;
    if !v.f.block(f.body).params.is_empty() {
        return v.fail(None, "the function body takes no block parameters".into());
    }
    let yt: Vec<Type> = f.block(f.body).yields.iter().map(|&y| f.ty(y)).collect();
    if yt != f.ret_types {
        return v.fail(
            None,
            format!(
                "returns ({:?}) but is declared to return ({:?})",
                yt, f.ret_types
            ),
        );
    }
    Ok(())
}

/// Checks every function of a module.
pub fn verify_module(m: &Module) -> Result<(), VerifyError> {
    m.funcs.iter().try_for_each(|f| verify_function(f, Some(m)))
}

/// Verifies in debug builds and panics with the printed function on failure: passes call this
/// on their output so a broken pass is caught where it broke.
pub fn debug_verify(f: &Function, pass: &str) {
    if cfg!(debug_assertions)
        && let Err(e) = verify_function(f, None)
    {
        panic!(
            "pass `{pass}` produced invalid IR: {e}\n{}",
            crate::print::print_function(f)
        );
    }
}
