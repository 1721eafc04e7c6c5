//! ferrad-ir: ferrad's AD compiler — an SSA IR with structured loops, activity analysis,
//! JVP/VJP transforms, an optimizer, an interpreter and a Rust emitter.
//!
//! Derivatives here are produced by *transforming a program* (like Enzyme) rather than by
//! recording operations at run time. The pieces, one concept per module:
//!
//! | module | holds |
//! |---|---|
//! | [`ir`], [`entities`] | the IR: values, instructions and blocks in arenas, structured `for`/`if` |
//! | [`builder`] | the one way instructions are created |
//! | [`rewrite`] | the instruction-by-instruction rebuild every pass shares |
//! | [`mod@print`], [`parse`] | the stable text form and its parser (errors with line and column) |
//! | [`verify`] | types, scoping, region arities; run after every pass in debug builds |
//! | [`interp`] | the reference semantics |
//! | [`trace`] | the tracer: `Real`-generic Rust code → IR, and the rule table on IR values |
//! | [`activity`] | which values can carry derivatives |
//! | [`transform`] | `jvp` (batched forward), `vjp` (reverse, loops with cache/recompute), inlining |
//! | [`opt`] | fold, simplify, CSE, forward stores, LICM, loop fusion, DCE |
//! | [`emit`] | IR → Rust source |
//!
//! Entry points: [`diff_text`] (IR text in, derivative as IR or Rust out: `ferrad diff`) and
//! [`autodiff_rust`] (a [`Function`] built with [`FunctionBuilder`] in, a Rust `fn` out: the
//! `#[autodiff_*]` macros).
//!
//! ```
//! use ferrad_ir::{DiffOptions, EmitKind, Mode, diff_text};
//! let src = "
//! fn @sumsq(%0: &[f64]) -> (f64) {
//!   %1: i64 = len %0
//!   %2: i64 = const 0
//!   %3: f64 = const 0.0
//!   %4: f64 = for %5 = %2 to %1 carry(%6 = %3) {
//!     %7: f64 = load %0[%5]
//!     %8: f64 = mul %7, %7
//!     %9: f64 = add %6, %8
//!     yield %9
//!   }
//!   return %4
//! }";
//! let opts = DiffOptions { mode: Mode::Reverse, emit: EmitKind::Rust, ..DiffOptions::default() };
//! let rust = diff_text(src, &opts).unwrap();
//! assert!(rust.contains("fn sumsq_vjp(p0: &[f64], p1: &mut [f64], p2: f64) -> f64"));
//! assert!(rust.contains("p1[i"), "{rust}"); // the gradient is accumulated in the loop
//! assert!(!rust.contains("vec!"), "{rust}"); // no tape
//! ```

use std::fmt;

pub mod activity;
pub mod builder;
pub mod emit;
pub mod entities;
pub mod interp;
pub mod ir;
pub mod opt;
pub mod parse;
pub mod print;
pub mod rewrite;
pub mod trace;
pub mod transform;
pub mod verify;

pub use builder::FunctionBuilder;
pub use emit::{EmitOptions, Simd};
pub use ir::{Function, Module, Type};
pub use parse::ParseError;
pub use transform::TransformError;
pub use transform::vjp::CachePolicy;

/// Everything that can go wrong between IR text and a derivative.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// The text is not valid IR.
    Parse(ParseError),
    /// The IR is malformed.
    Verify(verify::VerifyError),
    /// The transform does not apply.
    Transform(TransformError),
    /// Running the IR failed.
    Interp(interp::InterpError),
    /// A bad option (unknown function name, zero width…).
    Usage(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Parse(e) => write!(f, "parse error at {e}"),
            Error::Verify(e) => write!(f, "invalid IR: {e}"),
            Error::Transform(e) => write!(f, "cannot differentiate: {e}"),
            Error::Interp(e) => write!(f, "{e}"),
            Error::Usage(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        Error::Parse(e)
    }
}
impl From<verify::VerifyError> for Error {
    fn from(e: verify::VerifyError) -> Self {
        Error::Verify(e)
    }
}
impl From<TransformError> for Error {
    fn from(e: TransformError) -> Self {
        Error::Transform(e)
    }
}
impl From<interp::InterpError> for Error {
    fn from(e: interp::InterpError) -> Self {
        Error::Interp(e)
    }
}

/// The AD mode of [`diff_text`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// Forward mode (JVP) with `width` tangents.
    Forward,
    /// Reverse mode (VJP).
    #[default]
    Reverse,
    /// Forward over reverse: JVP of the VJP (Hessian-vector products).
    ForwardOverReverse,
}

impl std::str::FromStr for Mode {
    type Err = Error;
    /// `forward`, `reverse` or `hvp` (also `forward-over-reverse`).
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "forward" | "fwd" | "jvp" => Ok(Mode::Forward),
            "reverse" | "rev" | "vjp" => Ok(Mode::Reverse),
            "hvp" | "forward-over-reverse" => Ok(Mode::ForwardOverReverse),
            _ => Err(Error::Usage(format!(
                "unknown mode `{s}`: expected forward, reverse or hvp"
            ))),
        }
    }
}

/// What [`diff_text`] prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EmitKind {
    /// The derivative's IR text.
    #[default]
    Ir,
    /// Rust source.
    Rust,
}

impl std::str::FromStr for EmitKind {
    type Err = Error;
    /// `ir` or `rust`.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "ir" => Ok(EmitKind::Ir),
            "rust" | "rs" => Ok(EmitKind::Rust),
            _ => Err(Error::Usage(format!(
                "unknown output `{s}`: expected ir or rust"
            ))),
        }
    }
}

/// Options of [`diff_text`] (the CLI's `ferrad diff` flags).
#[derive(Clone, Debug)]
pub struct DiffOptions {
    /// `--mode forward|reverse|hvp`.
    pub mode: Mode,
    /// `--width W` (forward mode tangents per pass).
    pub width: usize,
    /// `--emit ir|rust`.
    pub emit: EmitKind,
    /// `--stats`: prepend op counts before and after optimization as `//` comments.
    pub stats: bool,
    /// Run the optimizer (default true).
    pub optimize: bool,
    /// Loop cache policy of reverse mode ([`CachePolicy::Auto`] by default: transcendentals
    /// are stored for the adjoint loop, arithmetic is recomputed).
    pub policy: CachePolicy,
    /// The function to differentiate; default: the first one no other function calls.
    pub function: Option<String>,
    /// Which parameters are differentiated (`Active`/`Duplicated`/`Dual`; `false`: `Const`, no
    /// shadow, tangent or gradient); default: every float and buffer parameter. In
    /// forward-over-reverse mode it selects the reverse derivative's, whose parameters then all
    /// get tangents.
    pub active: Option<Vec<bool>>,
    /// How emitted Rust is shaped for SIMD (`--emit rust` only): [`emit::Simd::OFF`] (plain
    /// std code) by default; the attributes use [`emit::Simd::ON`].
    pub simd: emit::Simd,
    /// Reverse mode: return zero in place of the primal results, for a caller that drops them
    /// (`ActiveOnly`), so the optimizer deletes the code that only computed them. (LLVM cannot
    /// do it for the caller when the body runs behind [`emit::Simd::dispatch`]'s call.)
    /// Forward over reverse: zero in place of every result (the primal and its tangent), for
    /// a caller that only wants the tangents stored into the gradient buffers' shadows.
    pub drop_primal: bool,
    /// Mutable buffer parameters of the *derivative* (by position) that it must leave as they
    /// were: their stores are deleted before optimizing. Sound only when nothing observable
    /// depends on what was stored, so differentiation fails if, after optimizing, anything but
    /// `len` still uses such a parameter. (Forward over reverse with a `DualOnly` gradient
    /// buffer: only its shadow, H·v, is wanted, and the VJP merely accumulates into it.)
    pub frozen: Vec<usize>,
    /// Float parameters of the *derivative* (by position) whose values the caller fixes, as
    /// `(position, value)`: every use becomes that constant before optimizing, so the code that
    /// multiplies by a seed of 1 folds away (the parameter stays in the signature, unused).
    /// A value fixed at 0 is a *structural* zero, like JAX's symbolic zeros: the tangent of a
    /// literal seed, whose products are dropped rather than computed (`0·∞` counts as 0, not
    /// NaN). LLVM cannot fold either for the caller when the body runs behind
    /// [`emit::Simd::dispatch`]'s call. (`#[autodiff_forward]` over a reverse derivative called
    /// with a literal seed.)
    pub fixed: Vec<(usize, f64)>,
    /// Mutable buffer parameters of the *derivative* (by position) that the caller's code
    /// fills with zeros right before it runs, each as `(buffer, bound)`: the fill covers
    /// `0..len(bound)`, and the caller guarantees the two lengths agree. The derivative then
    /// starts with that loop of stores, which the optimizer fuses into the loop that
    /// accumulates into the buffer, where the loaded zero is forwarded: the buffer is written
    /// once and never read, where a separate fill would read and write it twice
    /// (`#[autodiff_forward]` over `g.fill(0.0); d_f(x, g, 1.0)`: H·v overwrites the shadow).
    pub zeroed: Vec<(usize, usize)>,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            mode: Mode::Reverse,
            width: 1,
            emit: EmitKind::Ir,
            stats: false,
            optimize: true,
            policy: CachePolicy::Auto,
            function: None,
            active: None,
            simd: emit::Simd::OFF,
            drop_primal: false,
            frozen: Vec::new(),
            fixed: Vec::new(),
            zeroed: Vec::new(),
        }
    }
}

/// The outcome of [`differentiate`]: the derivative and op counts.
#[derive(Clone, Debug)]
pub struct Derivative {
    /// The derivative function.
    pub func: Function,
    /// Op counts of the unoptimized derivative and after each pass.
    pub stats: opt::OptStats,
}

/// Differentiates function `id` of `m` (calls inlined) in `mode`, then optimizes if asked.
pub fn differentiate(m: &Module, id: ir::FuncId, opts: &DiffOptions) -> Result<Derivative, Error> {
    verify::verify_module(m)?;
    let f = transform::inline::inline_calls(m, id)?;
    let jopts = transform::jvp::JvpOptions {
        width: opts.width,
        active: opts.active.clone(),
    };
    let vopts = transform::vjp::VjpOptions {
        active: opts.active.clone(),
        policy: opts.policy,
    };
    let d = match opts.mode {
        Mode::Forward => transform::jvp::jvp(&f, &jopts)?,
        Mode::Reverse if opts.drop_primal => {
            let n_primal = f.block(f.body).yields.len();
            zero_results(transform::vjp::vjp(&f, &vopts)?, n_primal)
        }
        Mode::Reverse => transform::vjp::vjp(&f, &vopts)?,
        Mode::ForwardOverReverse => {
            let g = transform::vjp::vjp(&f, &vopts)?;
            let g = if opts.optimize {
                opt::optimize(&g, &opt::OptOptions::default()).0
            } else {
                g
            };
            let all = transform::jvp::JvpOptions {
                width: opts.width,
                active: None,
            };
            let d = transform::jvp::jvp(&g, &all)?;
            if opts.drop_primal {
                let n = d.block(d.body).yields.len();
                zero_results(d, n)
            } else {
                d
            }
        }
    };
    let d = zero_fill(d, &opts.zeroed)?;
    let d = freeze(d, &opts.frozen)?;
    let d = fix(d, &opts.fixed)?;
    if opts.optimize {
        let (func, stats) = opt::optimize(&d, &opt::OptOptions::default());
        check_frozen(&func, &opts.frozen)?;
        Ok(Derivative { func, stats })
    } else {
        check_frozen(&d, &opts.frozen)?;
        let n = d.inst_count();
        Ok(Derivative {
            func: d,
            stats: opt::OptStats {
                before: n,
                after: n,
                passes: vec![],
            },
        })
    }
}

/// `f` starting with `for i in 0..len(bound) { buf[i] = 0 }` for each `(buf, bound)` of
/// `zeroed` (see [`DiffOptions::zeroed`]).
fn zero_fill(f: ir::Function, zeroed: &[(usize, usize)]) -> Result<ir::Function, Error> {
    if zeroed.is_empty() {
        return Ok(f);
    }
    let (mut b, mut c) = rewrite::start(&f);
    for &(k, l) in zeroed {
        let param = |p: usize, what: &str, ok: fn(ir::Type) -> bool| match f.params.get(p) {
            Some(&v) if ok(f.ty(v)) => Ok(c.m(v)),
            _ => Err(Error::Usage(format!(
                "zeroed parameter {p} of @{} is not a {what}",
                f.name
            ))),
        };
        let buf = param(k, "mutable buffer", |t| t == ir::Type::BufMut)?;
        let bound = param(l, "buffer", ir::Type::is_buf)?;
        let zero = b.const_i64(0);
        let n = b.len(bound);
        let z = b.const_f64(0.0);
        b.for_loop(zero, n, &[], |b, i, _| {
            b.store(buf, i, z);
            vec![]
        });
    }
    let ys = c.block(&mut b, f.body, &mut rewrite::Identity);
    Ok(b.finish(&ys))
}

/// `f` without its stores into the parameters at positions `frozen` (see
/// [`DiffOptions::frozen`]).
fn freeze(mut f: ir::Function, frozen: &[usize]) -> Result<ir::Function, Error> {
    let mut bufs = Vec::new();
    for &k in frozen {
        match f.params.get(k) {
            Some(&v) if f.ty(v) == ir::Type::BufMut => bufs.push(v),
            _ => {
                return Err(Error::Usage(format!(
                    "frozen parameter {k} of @{} is not a mutable buffer",
                    f.name
                )));
            }
        }
    }
    if bufs.is_empty() {
        return Ok(f);
    }
    let stores: Vec<bool> = f
        .insts
        .iter()
        .map(|d| matches!(d.op, ir::Op::Store) && bufs.contains(&d.args[0]))
        .collect();
    for b in &mut f.blocks {
        b.insts.retain(|i| !stores[i.index()]);
    }
    Ok(f)
}

/// `f` with the float parameters at the positions of `fixed` replaced by constants in every use,
/// and the structural zeros among them propagated (see [`DiffOptions::fixed`]).
fn fix(mut f: ir::Function, fixed: &[(usize, f64)]) -> Result<ir::Function, Error> {
    let mut zeros = Vec::new();
    for &(k, c) in fixed {
        let v = match f.params.get(k) {
            Some(&v) if f.ty(v) == ir::Type::F64 => v,
            _ => {
                return Err(Error::Usage(format!(
                    "fixed parameter {k} of @{} is not an f64",
                    f.name
                )));
            }
        };
        let z = const_first(&mut f, ir::Type::F64, ir::Const::F64(c));
        replace_uses(&mut f, v, z);
        if c == 0.0 {
            zeros.push(z);
        }
    }
    drop_zero_terms(&mut f, &zeros);
    Ok(f)
}

/// Replaces, until nothing changes, the result of `z·a`, `a·z`, `z/a` and `−z` by `z` and that
/// of `a + z`, `z + a`, `a − z` by `a`, for the structural zeros `z` (the dead instructions are
/// left to the optimizer's DCE).
///
/// Sweeps over the instructions, reading each argument through the replacements found so far,
/// until a sweep finds nothing new, then rewrites every use once: linear in the function's
/// size per sweep (one replacement per sweep and a rewrite of the whole function for each
/// was quadratic), and a sweep in definition order finds the chains of a derivative at once.
fn drop_zero_terms(f: &mut ir::Function, zeros: &[ir::Value]) {
    use ferrad_core::rules::{Binary, Unary};
    use std::collections::{HashMap, HashSet};
    let Some(&zero) = zeros.first() else { return };
    let mut is_zero: HashSet<ir::Value> = zeros.iter().copied().collect();
    let mut repl: HashMap<ir::Value, ir::Value> = HashMap::new();
    let resolve = |repl: &HashMap<ir::Value, ir::Value>, mut v: ir::Value| {
        while let Some(&w) = repl.get(&v) {
            v = w;
        }
        v
    };
    loop {
        let mut changed = false;
        for d in &f.insts {
            let [r] = d.results[..] else { continue };
            if repl.contains_key(&r) {
                continue;
            }
            let arg = |k: usize| d.args.get(k).map(|&a| resolve(&repl, a));
            let z = |k: usize| arg(k).is_some_and(|a| is_zero.contains(&a));
            let with = match d.op {
                ir::Op::Binary(Binary::Mul) if z(0) || z(1) => Some(zero),
                ir::Op::Binary(Binary::Div) if z(0) => Some(zero),
                ir::Op::Unary(Unary::Neg) if z(0) => Some(zero),
                ir::Op::Binary(Binary::Add) if z(0) => arg(1),
                ir::Op::Binary(Binary::Add | Binary::Sub) if z(1) => arg(0),
                _ => None,
            };
            if let Some(w) = with {
                if is_zero.contains(&w) {
                    is_zero.insert(r);
                }
                repl.insert(r, w);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    if repl.is_empty() {
        return;
    }
    let args = f.insts.iter_mut().flat_map(|d| &mut d.args);
    let yields = f.blocks.iter_mut().flat_map(|b| &mut b.yields);
    for a in args.chain(yields) {
        *a = resolve(&repl, *a);
    }
}

/// A new constant `c` of type `ty`, defined first in `f`'s body (so it dominates every use).
fn const_first(f: &mut ir::Function, ty: ir::Type, c: ir::Const) -> ir::Value {
    let z = f.new_value(ty);
    f.insts.push(ir::InstData {
        op: ir::Op::Const(c),
        args: vec![],
        results: vec![z],
    });
    let inst = entities::Inst(f.insts.len() as u32 - 1);
    let body = f.body.index();
    f.blocks[body].insts.insert(0, inst);
    z
}

/// Every use of `from` in `f` (arguments and yields) reads `to` instead.
fn replace_uses(f: &mut ir::Function, from: ir::Value, to: ir::Value) {
    let args = f.insts.iter_mut().flat_map(|d| &mut d.args);
    let yields = f.blocks.iter_mut().flat_map(|b| &mut b.yields);
    for a in args.chain(yields) {
        if *a == from {
            *a = to;
        }
    }
}

/// Fails if anything but `len` still uses a frozen parameter of `f`: a load would see the
/// stores [`freeze`] deleted.
fn check_frozen(f: &ir::Function, frozen: &[usize]) -> Result<(), Error> {
    for &k in frozen {
        let v = f.params[k];
        let used = f.blocks.iter().flat_map(|b| &b.insts).any(|&i| {
            let d = f.inst(i);
            !matches!(d.op, ir::Op::Len) && d.args.contains(&v)
        });
        if used {
            return Err(Error::Transform(TransformError::Unsupported(format!(
                "parameter {k} of @{} is frozen (its stores deleted) but the derivative still \
                 reads it",
                f.name
            ))));
        }
    }
    Ok(())
}

/// `f` returning zero in place of its first `n` float results (see [`DiffOptions::drop_primal`]).
fn zero_results(mut f: ir::Function, n: usize) -> ir::Function {
    let body = f.body;
    for k in 0..n.min(f.block(body).yields.len()) {
        let ty = f.ty(f.block(body).yields[k]);
        let c = match ty {
            ir::Type::F64 => ir::Const::F64(0.0),
            ir::Type::F32 => ir::Const::F32(0.0),
            _ => continue,
        };
        let z = const_first(&mut f, ty, c);
        f.blocks[body.index()].yields[k] = z;
    }
    f
}

/// Parses IR text, differentiates one function and prints the result as IR or Rust: the
/// library side of `ferrad diff FILE.ir --mode forward|reverse [--width W] [--emit ir|rust] [--stats]`.
pub fn diff_text(src: &str, opts: &DiffOptions) -> Result<String, Error> {
    if opts.width == 0 {
        return Err(Error::Usage("--width must be at least 1".into()));
    }
    let m = parse::parse_module(src)?;
    let id = match &opts.function {
        Some(name) => m.find(name).ok_or_else(|| {
            let names: Vec<String> = m.funcs.iter().map(|f| format!("@{}", f.name)).collect();
            Error::Usage(format!(
                "no function `@{name}` in the input; it defines {}",
                names.join(", ")
            ))
        })?,
        None => root(&m),
    };
    let d = differentiate(&m, id, opts)?;
    let mut out = String::new();
    if opts.stats {
        out.push_str(&format!(
            "// ops: {} in @{}, {} in the derivative before optimization, {} after\n",
            m.func(id).inst_count(),
            m.func(id).name,
            d.stats.before,
            d.stats.after
        ));
        let counts: Vec<String> = d
            .func
            .op_counts()
            .into_iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        out.push_str(&format!("// after: {}\n", counts.join(", ")));
    }
    match opts.emit {
        EmitKind::Ir => out.push_str(&print::print_function(&d.func)),
        EmitKind::Rust => out.push_str(&emit::emit_rust(
            &d.func,
            &emit::EmitOptions {
                public: true,
                simd: opts.simd,
                ..emit::EmitOptions::default()
            },
        )),
    }
    Ok(out)
}

/// Differentiates `f` with explicit activities and emits the derivative as a Rust `pub fn`
/// called `name`: the entry point for `#[autodiff_forward]`/`#[autodiff_reverse]`.
///
/// `active[k]` says whether parameter `k` is differentiated (`Active`/`Duplicated`/`Dual` vs
/// `Const`). Reverse mode gives Enzyme's signature: each active buffer is followed by its
/// `&mut` shadow, a seed per float result comes last, and gradients of active scalars are
/// returned after the results. Forward mode puts `width` tangents after each active parameter
/// and returns each float result followed by its tangents.
///
/// ```
/// use ferrad_ir::{FunctionBuilder, Mode, Type, autodiff_rust};
/// use ferrad_core::rules::Unary;
/// // fn f(x: f64, y: f64) -> f64 { x.sin() * y }
/// let mut b = FunctionBuilder::new("f");
/// let (x, y) = (b.param(Type::F64), b.param(Type::F64));
/// let s = b.unary(Unary::Sin, x);
/// let r = b.mul(s, y);
/// let f = b.finish(&[r]);
/// let df = autodiff_rust(&f, Mode::Forward, &[true, false], 1, "df").unwrap();
/// assert!(df.starts_with("pub fn df(p0: f64, p1: f64, p2: f64) -> (f64, f64) {"), "{df}");
/// let gf = autodiff_rust(&f, Mode::Reverse, &[true, true], 1, "gf").unwrap();
/// assert!(gf.starts_with("pub fn gf(p0: f64, p1: f64, p2: f64) -> (f64, f64, f64) {"), "{gf}");
/// ```
pub fn autodiff_rust(
    f: &Function,
    mode: Mode,
    active: &[bool],
    width: usize,
    name: &str,
) -> Result<String, Error> {
    verify::verify_function(f, None)?;
    if width == 0 {
        return Err(Error::Usage("the width must be at least 1".into()));
    }
    let jopts = transform::jvp::JvpOptions {
        width,
        active: Some(active.to_vec()),
    };
    let vopts = transform::vjp::VjpOptions {
        active: Some(active.to_vec()),
        policy: CachePolicy::Auto,
    };
    let d = match mode {
        Mode::Forward => transform::jvp::jvp(f, &jopts)?,
        Mode::Reverse => transform::vjp::vjp(f, &vopts)?,
        Mode::ForwardOverReverse => {
            let g = opt::optimize(
                &transform::vjp::vjp(f, &vopts)?,
                &opt::OptOptions::default(),
            )
            .0;
            transform::jvp::jvp(
                &g,
                &transform::jvp::JvpOptions {
                    width,
                    active: None,
                },
            )?
        }
    };
    let (d, _) = opt::optimize(&d, &opt::OptOptions::default());
    let opts = emit::EmitOptions {
        public: true,
        name: Some(name.to_string()),
        ..emit::EmitOptions::default()
    };
    Ok(emit::emit_rust(&d, &opts))
}

fn root(m: &Module) -> ir::FuncId {
    let mut called = std::collections::HashSet::new();
    for f in &m.funcs {
        f.walk(&mut |i| {
            if let ir::Op::Call(c) = f.inst(i).op {
                called.insert(c);
            }
        });
    }
    (0..m.funcs.len() as u32)
        .map(ir::FuncId)
        .find(|id| !called.contains(id))
        .unwrap_or(ir::FuncId(0))
}

#[cfg(test)]
mod tests;
