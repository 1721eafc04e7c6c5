//! Forward mode over a compiled reverse derivative, compiled as one function: the body of a
//! `#[autodiff_forward]` function that only calls a reverse derivative generated earlier in the
//! same file by the compiled backend is differentiated from the *primal's* IR with
//! `ferrad_ir::Mode::ForwardOverReverse`. H·v then runs as fused, tape-free Rust (the VJP's JVP,
//! optimized), instead of dual numbers flowing through an operator-overloading tape.
//!
//! ```text
//! #[autodiff_reverse(d_f, Duplicated, Active)]
//! fn f(x: &[f64]) -> f64 { … }                       // compiled: its IR text is remembered
//!
//! #[autodiff_forward(hvp_f, Dual, Dual)]
//! fn grad_f(x: &[f64], g: &mut [f64]) { d_f(x, g, 1.0); }   // → FoR of f's IR
//! ```
//!
//! The call may follow `g.fill(0.0);` statements on the gradient buffers it is given: the
//! gradient, and H·v in the buffer's shadow, then overwrite them instead of accumulating
//! (`ferrad_ir::DiffOptions::zeroed`). The fill fuses into the compiled loop, which stores H·v
//! without reading the shadow, so the caller neither zeroes it nor pays for a second pass.
//!
//! Invariant, as for [`crate::lower`]: anything this module does not recognise answers `None`
//! and the caller keeps the operator-overloading backend, which nests through the generic
//! twins. The IR of compiled reverse derivatives is kept in a [`PerFile`] table (see
//! [`crate::per_file`]); an expansion that does not find it (another file, another expansion
//! order) simply falls back.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Expr, Ident, ItemFn, Lit, Stmt};

use crate::attr::{Activity, Attr};
use crate::per_file::PerFile;
use crate::sig::{Analysed, Kind};

/// One parameter of a compiled reverse derivative, as ferrad-ir's VJP takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// An `f64` input (`Const`: only derivatives without scalar gradients are remembered).
    Scalar,
    /// A `&[f64]` input (followed by [`Slot::Grad`] when `Duplicated`).
    Slice,
    /// The `&mut [f64]` shadow that the gradient of the previous slice accumulates into.
    Grad,
    /// An integer input (passed as `i64`, no tangent).
    Int,
    /// The output seed `dret`.
    Seed,
}

/// A compiled reverse derivative: the primal's IR text and the derivative's parameters.
#[derive(Clone, Debug)]
pub struct Compiled {
    ir: String,
    slots: Vec<Slot>,
    /// The reverse derivative's active parameters (of the primal).
    active: Vec<bool>,
    /// Whether the derivative returns the primal value (output `Active`, not `ActiveOnly`).
    returns_primal: bool,
}

static COMPILED: PerFile<Compiled> = PerFile::new();

/// Records that `name` (a reverse derivative in the current file) was compiled from `ir`.
pub fn remember(name: &Ident, ir: &str, slots: Vec<Slot>, active: Vec<bool>, returns_primal: bool) {
    let compiled = Compiled {
        ir: ir.to_string(),
        slots,
        active,
        returns_primal,
    };
    COMPILED.insert(name, compiled);
}

fn lookup(name: &Ident) -> Option<Compiled> {
    COMPILED.get_at(name)
}

/// The body's call of the derivative: `d_f(args…)`, `d_f(args…);` or `return d_f(args…)`,
/// after any number of `g.fill(0.0);` statements, whose buffers are returned. (The fills
/// make `g` start from zero, so the gradient, and H·v in its shadow, overwrite it.)
fn body_call(func: &ItemFn) -> Option<(Vec<&Ident>, &syn::ExprCall, bool)> {
    let (stmt, fills) = func.block.stmts.split_last()?;
    let filled = fills.iter().map(zero_fill).collect::<Option<Vec<_>>>()?;
    let (e, tail) = match stmt {
        Stmt::Expr(Expr::Return(r), _) => (r.expr.as_deref()?, true),
        Stmt::Expr(e, semi) => (e, semi.is_none()),
        _ => return None,
    };
    match e {
        Expr::Call(c) if c.attrs.is_empty() => Some((filled, c, tail)),
        _ => None,
    }
}

/// The buffer `g` of a statement `g.fill(0.0);`.
fn zero_fill(stmt: &Stmt) -> Option<&Ident> {
    let Stmt::Expr(Expr::MethodCall(m), Some(_)) = stmt else {
        return None;
    };
    let (Some(Expr::Lit(l)), 1) = (m.args.first(), m.args.len()) else {
        return None;
    };
    let Lit::Float(f) = &l.lit else { return None };
    let zero = matches!(f.suffix(), "" | "f64") && f.base10_parse::<f64>().ok()? == 0.0;
    let Expr::Path(p) = &*m.receiver else {
        return None;
    };
    (m.method == "fill" && zero && m.attrs.is_empty()).then_some(())?;
    p.path.get_ident()
}

/// The body of the forward derivative `attr.name` of `func` when `func` only calls a compiled
/// reverse derivative, or `None`.
pub fn forward_over_reverse(
    attr: &Attr,
    a: &Analysed,
    func: &ItemFn,
    shadows: &[Vec<Ident>],
    allows: &TokenStream,
) -> Option<TokenStream> {
    (attr.width == 1 && func.sig.generics.params.is_empty()).then_some(())?;
    let (filled, call, tail) = body_call(func)?;
    let Expr::Path(callee) = &*call.func else {
        return None;
    };
    let callee = callee.path.get_ident()?;
    let c = lookup(callee)?;
    (call.args.len() == c.slots.len()).then_some(())?;

    let fname = attr.name.to_string();
    let mut args: Vec<TokenStream> = Vec::new();
    let mut checks: Vec<TokenStream> = Vec::new();
    // `DualOnly` gradient buffers: the compiled code leaves them as they were
    let mut frozen: Vec<usize> = Vec::new();
    // literal arguments (the seed) and their zero tangents: constants in the compiled code
    let mut fixed: Vec<(usize, f64)> = Vec::new();
    // gradient buffers (and shadows) filled with zeros before the call, each with the
    // position of the slice whose length the fill covers
    let mut zeroed: Vec<(usize, usize)> = Vec::new();
    let mut grads: Vec<&Ident> = Vec::new();
    // the last slice argument: the one a gradient buffer that follows belongs to
    let mut slice: Option<(usize, &Ident)> = None;
    for (arg, slot) in call.args.iter().zip(&c.slots) {
        if *slot == Slot::Int {
            args.push(quote!((#arg) as i64));
            continue;
        }
        match arg {
            // a literal (the seed, a constant scalar): no tangent
            Expr::Lit(l) => {
                let Lit::Float(f) = &l.lit else { return None };
                matches!(f.suffix(), "" | "f64").then_some(())?;
                matches!(slot, Slot::Scalar | Slot::Seed).then_some(())?;
                let value: f64 = f.base10_parse().ok()?;
                fixed.push((args.len(), value));
                fixed.push((args.len() + 1, 0.0));
                args.push(quote!(#l));
                args.push(quote!(0.0));
            }
            Expr::Path(p) => {
                let id = p.path.get_ident()?;
                let (k, param) = a.params.iter().enumerate().find(|(_, q)| q.name == *id)?;
                let dual = matches!(param.act, Activity::Dual | Activity::DualOnly);
                (dual || param.act == Activity::Const).then_some(())?;
                match (slot, &param.kind) {
                    (Slot::Scalar | Slot::Seed, Kind::Scalar) => {
                        args.push(quote!(#id));
                        if dual {
                            let s = &shadows[k][0];
                            args.push(quote!(#s));
                        } else {
                            args.push(quote!(0.0));
                        }
                    }
                    (Slot::Slice, Kind::Slice { .. }) => {
                        slice = Some((args.len(), id));
                        args.push(quote!(&#id[..]));
                        if dual {
                            let s = &shadows[k][0];
                            checks.push(crate::expand::len_check(&fname, s, id, 1));
                            args.push(quote!(&#s[..]));
                        } else {
                            args.push(quote!(&::std::vec![0.0f64; #id.len()][..]));
                        }
                    }
                    (Slot::Grad, Kind::Slice { mutable: true }) => {
                        if param.act == Activity::DualOnly {
                            frozen.push(args.len());
                        }
                        grads.push(id);
                        if filled.contains(&id) {
                            let (bound, x) = slice?;
                            zeroed.push((args.len(), bound));
                            zeroed.push((args.len() + 1, bound));
                            // the fill covers `x`'s length: all of `g` only when the two
                            // agree (the reverse derivative fails on any other length)
                            let what = "the gradient buffer";
                            checks.push(crate::expand::buf_len_check(&fname, what, id, x, 1));
                        }
                        args.push(quote!(&mut #id[..]));
                        if dual {
                            let s = &shadows[k][0];
                            checks.push(crate::expand::len_check(&fname, s, id, 1));
                            args.push(quote!(&mut #s[..]));
                        } else {
                            // a constant gradient buffer: its tangent is computed and dropped
                            args.push(quote!(&mut ::std::vec![0.0f64; #id.len()][..]));
                        }
                    }
                    _ => return None,
                }
            }
            _ => return None,
        }
    }

    // a fill of anything but a gradient buffer passed to the call: not this pattern
    filled.iter().all(|g| grads.contains(g)).then_some(())?;

    // What the wrapper returns: nothing, or the callee's primal value with its tangent.
    let ret = match &a.ret {
        None => quote!(()),
        Some((_, Kind::Scalar, act)) if tail && c.returns_primal => match act {
            Activity::Dual => quote!((__p, __t0)),
            Activity::DualOnly => quote!(__t0),
            Activity::Const => quote!(__p),
            _ => return None,
        },
        Some(_) => return None,
    };
    let opts = ferrad_ir::DiffOptions {
        mode: ferrad_ir::Mode::ForwardOverReverse,
        width: 1,
        emit: ferrad_ir::EmitKind::Rust,
        active: Some(c.active.clone()),
        simd: crate::lower::simd(),
        frozen,
        fixed,
        zeroed,
        // a wrapper returning `()` drops the primal and its tangent: not computed at all
        drop_primal: a.ret.is_none(),
        ..ferrad_ir::DiffOptions::default()
    };
    // The VJP (no scalar gradients) returns the primal; its JVP pairs it with its tangent.
    // (With a frozen buffer whose stores turn out to be read back, the compiler declines and
    // the operator-overloading backend, which also leaves a `DualOnly` buffer as it was,
    // takes over.)
    let f = crate::lower::compile_with(&c.ir, &opts, args.len(), 2)?;
    Some(quote! {
        #allows
        #f
        #(#checks)*
        let (__p, __t0) = __ferrad_ir(#(#args),*);
        #ret
    })
}
