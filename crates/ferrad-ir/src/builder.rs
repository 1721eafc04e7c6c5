//! The builder: the one way instructions enter a function.
//!
//! [`FunctionBuilder::emit`] is the single interception point; the typed helpers
//! (`binary`, `load`, `for_loop`, …) and the tracer ([`crate::trace`]) all go through it.
//! Structured regions are built either with closures ([`FunctionBuilder::for_loop`],
//! [`FunctionBuilder::if_else`]) or with explicit begin/end pairs for frontends that cannot
//! nest closures (the tracer).
//!
//! Invariant: instructions are appended to the innermost open block; every begun region is
//! ended before [`FunctionBuilder::finish`].

use ferrad_core::rules::{Binary, Ternary, Unary};

use crate::ir::*;

/// Builds one [`Function`].
#[derive(Clone, Debug)]
pub struct FunctionBuilder {
    /// The function under construction.
    pub func: Function,
    stack: Vec<Block>,
}

/// An open `for` loop (see [`FunctionBuilder::begin_for`]).
#[derive(Clone, Copy, Debug)]
pub struct ForHandle {
    /// The loop instruction.
    pub inst: Inst,
    /// The body block.
    pub body: Block,
}

/// An open `if` (see [`FunctionBuilder::begin_if`]).
#[derive(Clone, Copy, Debug)]
pub struct IfHandle {
    /// The `if` instruction.
    pub inst: Inst,
    /// The then arm.
    pub then_blk: Block,
    /// The else arm.
    pub else_blk: Block,
}

impl FunctionBuilder {
    /// Starts a function called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        let func = Function::new(name);
        let body = func.body;
        FunctionBuilder {
            func,
            stack: vec![body],
        }
    }

    /// Adds a parameter of type `ty`.
    pub fn param(&mut self, ty: Type) -> Value {
        let v = self.func.new_value(ty);
        self.func.params.push(v);
        v
    }

    /// The type of `v`.
    pub fn ty(&self, v: Value) -> Type {
        self.func.ty(v)
    }

    /// The block instructions are currently appended to.
    pub fn current_block(&self) -> Block {
        *self.stack.last().expect("builder has an open block")
    }

    /// Appends `op(args)` with results of the given types; returns the results.
    pub fn emit(&mut self, op: Op, args: Vec<Value>, result_types: &[Type]) -> Vec<Value> {
        let results: Vec<Value> = result_types
            .iter()
            .map(|&t| self.func.new_value(t))
            .collect();
        self.func.insts.push(InstData {
            op,
            args,
            results: results.clone(),
        });
        let inst = Inst(self.func.insts.len() as u32 - 1);
        let b = self.current_block();
        self.func.blocks[b.index()].insts.push(inst);
        results
    }

    fn emit1(&mut self, op: Op, args: Vec<Value>, ty: Type) -> Value {
        self.emit(op, args, &[ty])[0]
    }

    /// A constant.
    pub fn constant(&mut self, c: Const) -> Value {
        self.emit1(Op::Const(c), vec![], c.ty())
    }
    /// An `f64` constant.
    pub fn const_f64(&mut self, v: f64) -> Value {
        self.constant(Const::F64(v))
    }
    /// An `i64` constant.
    pub fn const_i64(&mut self, v: i64) -> Value {
        self.constant(Const::I64(v))
    }
    /// A float constant of type `ty` (`f64` or `f32`).
    pub fn const_float(&mut self, ty: Type, v: f64) -> Value {
        match ty {
            Type::F32 => self.constant(Const::F32(v as f32)),
            _ => self.const_f64(v),
        }
    }
    /// `op(x)`.
    pub fn unary(&mut self, op: Unary, x: Value) -> Value {
        let t = self.ty(x);
        self.emit1(Op::Unary(op), vec![x], t)
    }
    /// `op(a, b)`.
    pub fn binary(&mut self, op: Binary, a: Value, b: Value) -> Value {
        let t = self.ty(a);
        self.emit1(Op::Binary(op), vec![a, b], t)
    }
    /// `op(a, b, c)`.
    pub fn ternary(&mut self, op: Ternary, a: Value, b: Value, c: Value) -> Value {
        let t = self.ty(a);
        self.emit1(Op::Ternary(op), vec![a, b, c], t)
    }
    /// `a + b` (floats).
    pub fn add(&mut self, a: Value, b: Value) -> Value {
        self.binary(Binary::Add, a, b)
    }
    /// `a * b` (floats).
    pub fn mul(&mut self, a: Value, b: Value) -> Value {
        self.binary(Binary::Mul, a, b)
    }
    /// Integer `a op b`.
    pub fn int(&mut self, op: IntOp, a: Value, b: Value) -> Value {
        self.emit1(Op::Int(op), vec![a, b], Type::I64)
    }
    /// `a op b` as a `bool`.
    pub fn cmp(&mut self, op: CmpOp, a: Value, b: Value) -> Value {
        self.emit1(Op::Cmp(op), vec![a, b], Type::Bool)
    }
    /// `x != x`.
    pub fn is_nan(&mut self, x: Value) -> Value {
        self.emit1(Op::IsNan, vec![x], Type::Bool)
    }
    /// `if c { a } else { b }` without branching.
    pub fn select(&mut self, c: Value, a: Value, b: Value) -> Value {
        let t = self.ty(a);
        self.emit1(Op::Select, vec![c, a, b], t)
    }
    /// `x as ty`.
    pub fn cast(&mut self, x: Value, ty: Type) -> Value {
        self.emit1(Op::Cast, vec![x], ty)
    }
    /// `buf.len() as i64`.
    pub fn len(&mut self, buf: Value) -> Value {
        self.emit1(Op::Len, vec![buf], Type::I64)
    }
    /// `buf[i]`.
    pub fn load(&mut self, buf: Value, i: Value) -> Value {
        self.emit1(Op::Load, vec![buf, i], Type::F64)
    }
    /// `buf[i] = v`.
    pub fn store(&mut self, buf: Value, i: Value, v: Value) {
        self.emit(Op::Store, vec![buf, i, v], &[]);
    }
    /// A fresh zeroed local buffer of `n` elements.
    pub fn alloc(&mut self, n: Value) -> Value {
        self.emit1(Op::Alloc, vec![n], Type::BufMut)
    }
    /// A fresh local buffer of `n` elements whose contents are unspecified until stored
    /// ([`Op::Scratch`]): the caller guarantees every element is stored before it is loaded.
    pub fn scratch(&mut self, n: Value) -> Value {
        self.emit1(Op::Scratch, vec![n], Type::BufMut)
    }
    /// A call to `f` of the module, with the callee's return types.
    pub fn call(&mut self, f: FuncId, args: Vec<Value>, ret_types: &[Type]) -> Vec<Value> {
        self.emit(Op::Call(f), args, ret_types)
    }
    /// A call to the custom rule `name` with `n_results` `f64` results.
    pub fn custom(
        &mut self,
        name: &str,
        kind: CustomKind,
        args: Vec<Value>,
        n_results: usize,
    ) -> Vec<Value> {
        self.emit(
            Op::Custom {
                name: name.to_string(),
                kind,
            },
            args,
            &vec![Type::F64; n_results],
        )
    }

    /// Opens `for i in lo..hi` carrying `inits`; returns the handle, the index and the carried
    /// values inside the body. Close it with [`FunctionBuilder::end_for`].
    pub fn begin_for(
        &mut self,
        lo: Value,
        hi: Value,
        inits: &[Value],
        rev: bool,
    ) -> (ForHandle, Value, Vec<Value>) {
        let body = self.func.new_block();
        let tys: Vec<Type> = inits.iter().map(|&v| self.ty(v)).collect();
        let mut args = vec![lo, hi];
        args.extend_from_slice(inits);
        self.emit(Op::For { body, rev }, args, &tys);
        let inst = Inst(self.func.insts.len() as u32 - 1);
        let i = self.func.new_value(Type::I64);
        let carried: Vec<Value> = tys.iter().map(|&t| self.func.new_value(t)).collect();
        let bd = &mut self.func.blocks[body.index()];
        bd.params.push(i);
        bd.params.extend_from_slice(&carried);
        self.stack.push(body);
        (ForHandle { inst, body }, i, carried)
    }

    /// Closes the loop opened by `begin_for`: the body yields `next`; returns the loop results.
    pub fn end_for(&mut self, h: ForHandle, next: &[Value]) -> Vec<Value> {
        let top = self.stack.pop();
        debug_assert_eq!(top, Some(h.body), "end_for closes the innermost open block");
        self.func.blocks[h.body.index()].yields = next.to_vec();
        self.func.insts[h.inst.index()].results.clone()
    }

    /// `for i in lo..hi` carrying `inits` through `body(builder, i, carried) -> next`.
    pub fn for_loop(
        &mut self,
        lo: Value,
        hi: Value,
        inits: &[Value],
        body: impl FnOnce(&mut Self, Value, &[Value]) -> Vec<Value>,
    ) -> Vec<Value> {
        let (h, i, c) = self.begin_for(lo, hi, inits, false);
        let next = body(self, i, &c);
        self.end_for(h, &next)
    }

    /// Opens `if cond` with results of the given types; the then arm is open.
    pub fn begin_if(&mut self, cond: Value, result_types: &[Type]) -> IfHandle {
        let then_blk = self.func.new_block();
        let else_blk = self.func.new_block();
        self.emit(Op::If { then_blk, else_blk }, vec![cond], result_types);
        let inst = Inst(self.func.insts.len() as u32 - 1);
        self.stack.push(then_blk);
        IfHandle {
            inst,
            then_blk,
            else_blk,
        }
    }

    /// Ends the then arm (yielding `yields`) and opens the else arm.
    pub fn begin_else(&mut self, h: IfHandle, yields: &[Value]) {
        let top = self.stack.pop();
        debug_assert_eq!(top, Some(h.then_blk));
        self.func.blocks[h.then_blk.index()].yields = yields.to_vec();
        self.stack.push(h.else_blk);
    }

    /// Ends the else arm (yielding `yields`); returns the results of the `if`.
    pub fn end_if(&mut self, h: IfHandle, yields: &[Value]) -> Vec<Value> {
        let top = self.stack.pop();
        debug_assert_eq!(top, Some(h.else_blk));
        self.func.blocks[h.else_blk.index()].yields = yields.to_vec();
        self.func.insts[h.inst.index()].results.clone()
    }

    /// `if cond { then() } else { otherwise() }` with results of the given types.
    pub fn if_else(
        &mut self,
        cond: Value,
        result_types: &[Type],
        then: impl FnOnce(&mut Self) -> Vec<Value>,
        otherwise: impl FnOnce(&mut Self) -> Vec<Value>,
    ) -> Vec<Value> {
        let h = self.begin_if(cond, result_types);
        let y = then(self);
        self.begin_else(h, &y);
        let y = otherwise(self);
        self.end_if(h, &y)
    }

    /// Finishes the function, returning `rets`.
    pub fn finish(mut self, rets: &[Value]) -> Function {
        assert_eq!(self.stack.len(), 1, "every region is closed before finish");
        let body = self.func.body;
        self.func.blocks[body.index()].yields = rets.to_vec();
        self.func.ret_types = rets.iter().map(|&v| self.func.ty(v)).collect();
        self.func
    }
}
