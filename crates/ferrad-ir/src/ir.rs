//! The IR: SSA values in structured regions.
//!
//! A [`Function`] owns three arenas: value types, instructions and blocks. Control flow is
//! *structured*: a `for` loop or an `if` is one instruction that owns its blocks, so there is
//! no CFG and dominance is lexical scoping. A block has parameters (a loop body's index and
//! loop-carried values), a list of instructions and the values it `yield`s (the next carried
//! values, an `if` arm's results, or, for the function body, the returned values).
//!
//! The primitive float operations are exactly ferrad-core's rule table
//! ([`Unary`], [`Binary`], [`Ternary`]); the rest of the op set is constants, integer
//! arithmetic, comparisons, `select`, casts, buffer access, loops, ifs and calls.
//!
//! Invariant: every value is defined exactly once, by a function parameter, a block parameter
//! or an instruction result, and used only where that definition is in scope (checked by
//! [`crate::verify`]).

use core::fmt;

use ferrad_core::rules::{Binary, Ternary, Unary};

pub use crate::entities::{Block, FuncId, Inst, Value};

/// The type of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// A double-precision float.
    F64,
    /// A single-precision float.
    F32,
    /// A signed 64-bit integer (indices, lengths, loop counters).
    I64,
    /// A boolean (comparison results).
    Bool,
    /// A read-only buffer of `f64`: `&[f64]`.
    Buf,
    /// A mutable buffer of `f64`: `&mut [f64]`.
    BufMut,
}

impl Type {
    /// `f64` or `f32`.
    pub fn is_float(self) -> bool {
        matches!(self, Type::F64 | Type::F32)
    }
    /// Either kind of buffer.
    pub fn is_buf(self) -> bool {
        matches!(self, Type::Buf | Type::BufMut)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::F64 => "f64",
            Type::F32 => "f32",
            Type::I64 => "i64",
            Type::Bool => "bool",
            Type::Buf => "&[f64]",
            Type::BufMut => "&mut [f64]",
        })
    }
}

/// A constant. Floats compare bitwise so that constants can be hashed (CSE) and `-0.0` stays
/// distinct from `0.0`.
#[derive(Clone, Copy, Debug)]
pub enum Const {
    /// An `f64` constant.
    F64(f64),
    /// An `f32` constant.
    F32(f32),
    /// An `i64` constant.
    I64(i64),
    /// A `bool` constant.
    Bool(bool),
}

impl Const {
    /// The type of the constant.
    pub fn ty(self) -> Type {
        match self {
            Const::F64(_) => Type::F64,
            Const::F32(_) => Type::F32,
            Const::I64(_) => Type::I64,
            Const::Bool(_) => Type::Bool,
        }
    }
    /// The value as an `f64`, for float constants.
    pub fn as_f64(self) -> Option<f64> {
        match self {
            Const::F64(v) => Some(v),
            Const::F32(v) => Some(v as f64),
            _ => None,
        }
    }
    fn key(self) -> (u8, u64) {
        match self {
            Const::F64(v) => (0, v.to_bits()),
            Const::F32(v) => (1, v.to_bits() as u64),
            Const::I64(v) => (2, v as u64),
            Const::Bool(v) => (3, v as u64),
        }
    }
}

impl PartialEq for Const {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Const {}
impl core::hash::Hash for Const {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state)
    }
}

/// An integer operation on `i64` (wrapping).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntOp {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
}

impl IntOp {
    /// The text name.
    pub fn name(self) -> &'static str {
        match self {
            IntOp::Add => "iadd",
            IntOp::Sub => "isub",
            IntOp::Mul => "imul",
        }
    }
    /// Applies the operation.
    pub fn apply(self, a: i64, b: i64) -> i64 {
        match self {
            IntOp::Add => a.wrapping_add(b),
            IntOp::Sub => a.wrapping_sub(b),
            IntOp::Mul => a.wrapping_mul(b),
        }
    }
}

/// A comparison of two floats or two integers, giving a `bool` (IEEE: false if a NaN is involved,
/// except `ne`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl CmpOp {
    /// The text name.
    pub fn name(self) -> &'static str {
        match self {
            CmpOp::Lt => "lt",
            CmpOp::Le => "le",
            CmpOp::Gt => "gt",
            CmpOp::Ge => "ge",
            CmpOp::Eq => "eq",
            CmpOp::Ne => "ne",
        }
    }
    /// The Rust operator.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }
    /// Applies the comparison.
    pub fn apply<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
        }
    }
    /// All comparisons.
    pub const ALL: [CmpOp; 6] = [
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
        CmpOp::Eq,
        CmpOp::Ne,
    ];
}

/// Which entry of a custom rule a [`Op::Custom`] call invokes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CustomKind {
    /// `y = f(x)`: args `x`, results `y`.
    Eval,
    /// `J(x)·dx`: args `x ++ dx`, results `dy`.
    Jvp,
    /// `wᵀ·J(x)`: args `x ++ w`, results `dx`.
    Vjp,
}

impl CustomKind {
    /// The text keyword.
    pub fn name(self) -> &'static str {
        match self {
            CustomKind::Eval => "custom",
            CustomKind::Jvp => "custom_jvp",
            CustomKind::Vjp => "custom_vjp",
        }
    }
}

/// An operation. Arguments and results live in [`InstData`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A constant; no arguments.
    Const(Const),
    /// A one-argument float primitive of the rule table.
    Unary(Unary),
    /// A two-argument float primitive of the rule table.
    Binary(Binary),
    /// A three-argument float primitive of the rule table.
    Ternary(Ternary),
    /// Integer arithmetic: `(a, b) -> a op b`.
    Int(IntOp),
    /// `(a, b) -> bool`, both floats of one type or both `i64`.
    Cmp(CmpOp),
    /// `(x) -> bool`: `x != x`.
    IsNan,
    /// `(c, a, b) -> if c { a } else { b }`; `a` and `b` of one type.
    Select,
    /// `(x) -> y`: numeric conversion to the result's type (`i64 -> f64`, `f64 <-> f32`,
    /// float `-> i64` truncating as Rust's `as`).
    Cast,
    /// `(buf) -> i64`: the buffer's length.
    Len,
    /// `(buf, i) -> f64`: `buf[i]`; out of bounds is an interpreter error.
    Load,
    /// `(buf, i, v)`: `buf[i] = v`; `buf` must be mutable. No results.
    Store,
    /// `(n) -> &mut [f64]`: a fresh zeroed buffer of `n` elements, local to the function.
    Alloc,
    /// `(n) -> &mut [f64]`: a fresh buffer of `n` elements, local to the function, whose
    /// contents are unspecified until stored: the program stores every element before loading
    /// it. The VJP's loop checkpoints and caches are such buffers (the forward loop stores each
    /// index its adjoint loop reads); the emitter may reuse a pooled buffer for it instead of
    /// zeroing a fresh one, and the interpreter fills it with NaN, so a load before the store
    /// shows.
    Scratch,
    /// `(lo, hi, init...) -> carried...`: runs `body` for `i` in `lo..hi` (descending when `rev`);
    /// `body` has parameters `(i, carried...)` and yields the next carried values.
    For {
        /// The loop body.
        body: Block,
        /// Iterate `hi-1, hi-2, …, lo` instead of `lo, …, hi-1`.
        rev: bool,
    },
    /// `(cond) -> results`: runs `then_blk` or `else_blk`, which take no parameters and yield the
    /// results.
    If {
        /// The arm run when the condition holds.
        then_blk: Block,
        /// The arm run otherwise.
        else_blk: Block,
    },
    /// A call to another function of the module: args and results as its signature.
    Call(FuncId),
    /// An opaque call to a named custom rule (see [`crate::interp::CustomRules`]).
    Custom {
        /// The rule's name.
        name: String,
        /// Which entry is called.
        kind: CustomKind,
    },
}

impl Op {
    /// Whether the operation has no effect beyond its results (so it may be removed, merged
    /// or moved).
    pub fn is_pure(&self) -> bool {
        !matches!(
            self,
            Op::Load
                | Op::Store
                | Op::Alloc
                | Op::Scratch
                | Op::For { .. }
                | Op::If { .. }
                | Op::Call(_)
                | Op::Custom { .. }
        )
    }
    /// The blocks the operation owns.
    pub fn blocks(&self) -> Vec<Block> {
        match self {
            Op::For { body, .. } => vec![*body],
            Op::If { then_blk, else_blk } => vec![*then_blk, *else_blk],
            _ => vec![],
        }
    }
    /// The name in the text form (without attributes).
    pub fn name(&self) -> &str {
        match self {
            Op::Const(_) => "const",
            Op::Unary(u) => u.name(),
            Op::Binary(b) => b.name(),
            Op::Ternary(t) => t.name(),
            Op::Int(i) => i.name(),
            Op::Cmp(c) => c.name(),
            Op::IsNan => "is_nan",
            Op::Select => "select",
            Op::Cast => "cast",
            Op::Len => "len",
            Op::Load => "load",
            Op::Store => "store",
            Op::Alloc => "alloc",
            Op::Scratch => "scratch",
            Op::For { .. } => "for",
            Op::If { .. } => "if",
            Op::Call(_) => "call",
            Op::Custom { kind, .. } => kind.name(),
        }
    }
}

/// An instruction: an operation applied to arguments, defining results.
#[derive(Clone, Debug)]
pub struct InstData {
    /// The operation.
    pub op: Op,
    /// The arguments.
    pub args: Vec<Value>,
    /// The results.
    pub results: Vec<Value>,
}

/// A block: a region body.
#[derive(Clone, Debug, Default)]
pub struct BlockData {
    /// Block parameters (a loop's index and carried values).
    pub params: Vec<Value>,
    /// Instructions in order.
    pub insts: Vec<Inst>,
    /// The values the block yields when it ends.
    pub yields: Vec<Value>,
}

/// A function: typed parameters, a body block whose yields are the returned values.
#[derive(Clone, Debug)]
pub struct Function {
    /// The name (printed as `@name`).
    pub name: String,
    /// The parameters.
    pub params: Vec<Value>,
    /// The types of the returned values.
    pub ret_types: Vec<Type>,
    /// The body; its yields are returned.
    pub body: Block,
    /// Value arena: the type of each value.
    pub values: Vec<Type>,
    /// Instruction arena.
    pub insts: Vec<InstData>,
    /// Block arena.
    pub blocks: Vec<BlockData>,
}

impl Function {
    /// An empty function with a fresh body block.
    pub fn new(name: impl Into<String>) -> Self {
        Function {
            name: name.into(),
            params: vec![],
            ret_types: vec![],
            body: Block(0),
            values: vec![],
            insts: vec![],
            blocks: vec![BlockData::default()],
        }
    }
    /// The type of `v`.
    pub fn ty(&self, v: Value) -> Type {
        self.values[v.index()]
    }
    /// The data of `i`.
    pub fn inst(&self, i: Inst) -> &InstData {
        &self.insts[i.index()]
    }
    /// The data of `b`.
    pub fn block(&self, b: Block) -> &BlockData {
        &self.blocks[b.index()]
    }
    /// A new value of type `ty`.
    pub fn new_value(&mut self, ty: Type) -> Value {
        self.values.push(ty);
        Value(self.values.len() as u32 - 1)
    }
    /// A new empty block.
    pub fn new_block(&mut self) -> Block {
        self.blocks.push(BlockData::default());
        Block(self.blocks.len() as u32 - 1)
    }
    /// The types of the parameters.
    pub fn param_types(&self) -> Vec<Type> {
        self.params.iter().map(|&p| self.ty(p)).collect()
    }
    /// Calls `f` on every instruction reachable from the body, outer before inner, in order.
    pub fn walk(&self, f: &mut impl FnMut(Inst)) {
        self.walk_block(self.body, f);
    }
    /// Calls `f` on every instruction in `b` and its nested blocks.
    pub fn walk_block(&self, b: Block, f: &mut impl FnMut(Inst)) {
        for &i in &self.block(b).insts {
            f(i);
            for nb in self.inst(i).op.blocks() {
                self.walk_block(nb, f);
            }
        }
    }
    /// Number of instructions reachable from the body (nested ones included).
    pub fn inst_count(&self) -> usize {
        let mut n = 0;
        self.walk(&mut |_| n += 1);
        n
    }
    /// Op counts by name, sorted by name (for `--stats`).
    pub fn op_counts(&self) -> Vec<(String, usize)> {
        let mut m = std::collections::BTreeMap::<String, usize>::new();
        self.walk(&mut |i| *m.entry(self.inst(i).op.name().to_string()).or_default() += 1);
        m.into_iter().collect()
    }
}

/// A set of functions that may call each other.
#[derive(Clone, Debug, Default)]
pub struct Module {
    /// The functions; a [`FuncId`] indexes this vector.
    pub funcs: Vec<Function>,
}

impl Module {
    /// An empty module.
    pub fn new() -> Self {
        Module::default()
    }
    /// Adds a function and returns its id.
    pub fn push(&mut self, f: Function) -> FuncId {
        self.funcs.push(f);
        FuncId(self.funcs.len() as u32 - 1)
    }
    /// The function `id`.
    pub fn func(&self, id: FuncId) -> &Function {
        &self.funcs[id.index()]
    }
    /// Finds a function by name.
    pub fn find(&self, name: &str) -> Option<FuncId> {
        self.funcs
            .iter()
            .position(|f| f.name == name)
            .map(|i| FuncId(i as u32))
    }
}
