//! The function's parameters: what shape each one has, whether its activity fits, and the
//! generated signature (shadows, seeds and returned gradients) as std::autodiff lays it out.
//!
//! Invariant: every error here points at the activity word or the parameter type that is wrong
//! and names what would be allowed instead.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Expr, FnArg, Ident, Pat, ReturnType, Signature, Type};

use crate::attr::{Activity, Attr, Mode};

/// The base float of a function: every float in its signature is this one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Float {
    F64,
    F32,
}

impl Float {
    pub fn ident(self) -> Ident {
        Ident::new(
            if self == Float::F64 { "f64" } else { "f32" },
            Span::call_site(),
        )
    }
}

/// The shape of a parameter or return type.
#[derive(Clone)]
pub enum Kind {
    /// `f64` / `f32`.
    Scalar,
    /// `&f64` / `&mut f64`.
    Ref { mutable: bool },
    /// `&[f64]`, `&mut [f64]`, `&Vec<f64>`, `&mut Vec<f64>`.
    Slice { mutable: bool },
    /// `&[f64; N]` / `&mut [f64; N]`.
    ArrayRef { mutable: bool, len: Box<Expr> },
    /// `[f64; N]` by value.
    Array { len: Box<Expr> },
    /// A type with no float in it (`usize`, `bool`, `&str`…): always `Const`, passed through.
    NonFloat,
    /// A float type of a shape the macro does not handle.
    Unsupported,
}

impl Kind {
    pub fn is_float(&self) -> bool {
        !matches!(self, Kind::NonFloat | Kind::Unsupported)
    }
    pub fn is_mut(&self) -> bool {
        matches!(
            self,
            Kind::Ref { mutable: true }
                | Kind::Slice { mutable: true }
                | Kind::ArrayRef { mutable: true, .. }
        )
    }
}

/// One parameter with its activity.
pub struct Param {
    pub name: Ident,
    pub ty: Type,
    pub kind: Kind,
    pub act: Activity,
}

/// The analysed signature.
pub struct Analysed {
    pub float: Float,
    pub params: Vec<Param>,
    /// The return type, `None` for `()`.
    pub ret: Option<(Type, Kind, Activity)>,
}

fn is_float_ident(id: &Ident) -> Option<Float> {
    if id == "f64" {
        Some(Float::F64)
    } else if id == "f32" {
        Some(Float::F32)
    } else {
        None
    }
}

/// Every float named anywhere in `tokens`.
pub fn floats_in(tokens: TokenStream, out: &mut Vec<(Float, Span)>) {
    for tt in tokens {
        match tt {
            TokenTree::Ident(id) => {
                if let Some(f) = is_float_ident(&id) {
                    out.push((f, id.span()));
                }
            }
            TokenTree::Group(g) => floats_in(g.stream(), out),
            _ => {}
        }
    }
}

fn float_path(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.qself.is_none() && p.path.get_ident().and_then(is_float_ident).is_some(),
        Type::Paren(p) => float_path(&p.elem),
        _ => false,
    }
}

fn vec_of_float(ty: &Type) -> bool {
    let Type::Path(p) = ty else { return false };
    let Some(last) = p.path.segments.last() else {
        return false;
    };
    if last.ident != "Vec" {
        return false;
    }
    let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
        return false;
    };
    matches!(a.args.first(), Some(syn::GenericArgument::Type(t)) if float_path(t))
        && a.args.len() == 1
}

/// A type as the user wrote it (`&[f64]`, not `& [f64]`).
fn show_type(ty: &Type) -> String {
    ty.to_token_stream()
        .to_string()
        .replace("& ", "&")
        .replace(" ;", ";")
        .replace(" >", ">")
        .replace("< ", "<")
}

pub fn classify(ty: &Type) -> Kind {
    let mut fl = Vec::new();
    floats_in(ty.to_token_stream(), &mut fl);
    if fl.is_empty() {
        return Kind::NonFloat;
    }
    match ty {
        _ if float_path(ty) => Kind::Scalar,
        Type::Paren(p) => classify(&p.elem),
        Type::Reference(r) => {
            let mutable = r.mutability.is_some();
            match &*r.elem {
                t if float_path(t) => Kind::Ref { mutable },
                Type::Slice(s) if float_path(&s.elem) => Kind::Slice { mutable },
                Type::Array(a) if float_path(&a.elem) => Kind::ArrayRef {
                    mutable,
                    len: Box::new(a.len.clone()),
                },
                t if vec_of_float(t) => Kind::Slice { mutable },
                _ => Kind::Unsupported,
            }
        }
        Type::Array(a) if float_path(&a.elem) => Kind::Array {
            len: Box::new(a.len.clone()),
        },
        _ => Kind::Unsupported,
    }
}

const SUPPORTED: &str = "supported float types are f64/f32, &f64, &mut f64, &[f64], &mut [f64], \
                         &[f64; N], &mut [f64; N], [f64; N] and &Vec<f64> (or the f32 versions)";

/// Checks that `act` fits a parameter of kind `kind`; the message says what would fit.
fn check_input(
    mode: Mode,
    act: Activity,
    span: Span,
    p_name: &Ident,
    ty: &Type,
    kind: &Kind,
    width: usize,
) -> syn::Result<()> {
    use Activity::*;
    if !act.fits_mode(mode) {
        return Err(syn::Error::new(
            span,
            format!(
                "`{}` is not a `#[{}]` activity; it accepts {}",
                act.name(),
                mode.attr_name(),
                mode.allowed()
            ),
        ));
    }
    if matches!(kind, Kind::Unsupported) {
        return Err(syn::Error::new_spanned(
            ty,
            format!(
                "the macro cannot handle the parameter `{p_name}: {}`; {SUPPORTED} (types without floats pass through as `Const`)",
                show_type(ty)
            ),
        ));
    }
    let what = |s: &str| syn::Error::new(span, s.to_string());
    match act {
        Const => Ok(()),
        ActiveOnly => Err(what(
            "`ActiveOnly` is a return activity (the primal result is dropped); for an input use `Active`",
        )),
        Active => match kind {
            Kind::Scalar => Ok(()),
            Kind::Slice { .. } | Kind::ArrayRef { .. } | Kind::Ref { .. } => Err(what(&format!(
                "`Active` is for f64/f32 scalars; for a slice or reference like `{p_name}` use `Duplicated` (a `&mut` shadow receives the gradient)"
            ))),
            Kind::Array { .. } => Err(what(&format!(
                "`Active` is for f64/f32 scalars; pass the array `{p_name}` by reference (`&[f64; N]`) and use `Duplicated`"
            ))),
            _ => Err(what(&format!(
                "`Active` is for f64/f32 scalars; `{p_name}` has no float type, use `Const`"
            ))),
        },
        Duplicated | DuplicatedOnly => match kind {
            Kind::Ref { .. } | Kind::Slice { .. } | Kind::ArrayRef { .. } => Ok(()),
            Kind::Scalar => Err(what(&format!(
                "`{}` is for references and slices (&[f64], &mut f64, …); for the f64/f32 scalar `{p_name}` use `Active` (its gradient is returned)",
                act.name()
            ))),
            Kind::Array { .. } => Err(what(&format!(
                "`{}` needs a reference; pass the array `{p_name}` as `&[f64; N]`",
                act.name()
            ))),
            _ => Err(what(&format!(
                "`{}` needs a float reference; `{p_name}` has no float type, use `Const`",
                act.name()
            ))),
        },
        Dual | DualOnly => {
            if kind.is_float() {
                Ok(())
            } else {
                Err(what(&format!(
                    "`{}` needs a float argument; `{p_name}` has no float type, use `Const`",
                    act.name()
                )))
            }
        }
        Dualv => {
            if width < 2 {
                return Err(what(
                    "`Dualv` needs a width: `#[autodiff_forward(NAME, WIDTH, …)]` with WIDTH > 1 (its one shadow holds WIDTH × len tangents)",
                ));
            }
            match kind {
                Kind::Slice { .. } => Ok(()),
                _ => Err(what(&format!(
                    "`Dualv` is for slices (one shadow of WIDTH × len tangents, direction-major); for `{p_name}` use `Dual` (WIDTH separate shadows)"
                ))),
            }
        }
    }
}

fn check_ret(mode: Mode, act: Activity, span: Span, ty: &Type, kind: &Kind) -> syn::Result<()> {
    use Activity::*;
    let ok = match mode {
        Mode::Forward => matches!(act, Const | Dual | DualOnly),
        Mode::Reverse => matches!(act, Const | Active | ActiveOnly),
    };
    if !ok {
        let allowed = match mode {
            Mode::Forward => "Const, Dual or DualOnly",
            Mode::Reverse => "Const, Active or ActiveOnly",
        };
        let extra = if act == Dualv {
            " (for a vector of tangents use `Dual` with a WIDTH: it returns [f64; WIDTH + 1])"
        } else {
            ""
        };
        return Err(syn::Error::new(
            span,
            format!(
                "`{}` is not a return activity of `#[{}]`; use {allowed}{extra}",
                act.name(),
                mode.attr_name()
            ),
        ));
    }
    match (act, kind) {
        (Const, Kind::Scalar | Kind::NonFloat) => Ok(()),
        (Const, _) => Err(syn::Error::new_spanned(
            ty,
            "the return type must be an f64/f32 scalar, `()` or a type without floats; return other results through a `&mut` argument",
        )),
        (_, Kind::Scalar) => Ok(()),
        _ => Err(syn::Error::new(
            span,
            format!(
                "`{}` on the return needs an f64/f32 scalar result; return other results through a `&mut` argument marked `{}`",
                act.name(),
                if mode == Mode::Forward {
                    "Dual"
                } else {
                    "Duplicated"
                }
            ),
        )),
    }
}

pub fn analyse(attr: &Attr, sig: &Signature) -> syn::Result<Analysed> {
    if let Some(a) = &sig.asyncness {
        return Err(syn::Error::new(
            a.span(),
            "`async fn` cannot be differentiated; differentiate a plain `fn` and call it from async code",
        ));
    }
    if let Some(v) = &sig.variadic {
        return Err(syn::Error::new(
            v.span(),
            "variadic functions cannot be differentiated",
        ));
    }
    for g in &sig.generics.params {
        if let syn::GenericParam::Type(t) = g {
            return Err(syn::Error::new_spanned(
                t,
                "the macro makes its own generic version of the function, so generic type parameters are not supported; \
                 write the function for f64 (lifetimes and const generics are fine)",
            ));
        }
    }
    // The base float.
    let mut fl = Vec::new();
    for a in &sig.inputs {
        floats_in(a.to_token_stream(), &mut fl);
    }
    floats_in(sig.output.to_token_stream(), &mut fl);
    let float = fl.first().map(|f| f.0).unwrap_or(Float::F64);
    if let Some((_, sp)) = fl.iter().find(|f| f.0 != float) {
        return Err(syn::Error::new(
            *sp,
            "f64 and f32 are mixed in this signature; the macro needs one base float",
        ));
    }

    let has_ret = match &sig.output {
        ReturnType::Default => false,
        ReturnType::Type(_, t) => !matches!(&**t, Type::Tuple(tt) if tt.elems.is_empty()),
    };
    let expected = sig.inputs.len() + usize::from(has_ret);
    if attr.acts.len() != expected {
        let names: Vec<String> = sig
            .inputs
            .iter()
            .map(|a| match a {
                FnArg::Typed(p) => p.pat.to_token_stream().to_string(),
                FnArg::Receiver(_) => "self".into(),
            })
            .collect();
        let ret = if has_ret {
            " plus one for the return value"
        } else {
            " (the function returns `()`, so no return activity)"
        };
        let span = if attr.acts.len() > expected {
            attr.acts[expected].1
        } else {
            attr.name.span()
        };
        return Err(syn::Error::new(
            span,
            format!(
                "expected {expected} activities, found {}: one per input ({}){ret}",
                attr.acts.len(),
                names.join(", ")
            ),
        ));
    }

    let mut params = Vec::new();
    for (arg, &(act, span)) in sig.inputs.iter().zip(&attr.acts) {
        let p = match arg {
            FnArg::Receiver(r) => {
                return Err(syn::Error::new_spanned(
                    r,
                    "methods taking `self` are not supported; write a free function (or an associated function without `self`)",
                ));
            }
            FnArg::Typed(p) => p,
        };
        let name = match &*p.pat {
            Pat::Ident(pi) if pi.subpat.is_none() => pi.ident.clone(),
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "parameters must be plain names (`x: &[f64]`) so that their shadows can be named",
                ));
            }
        };
        let kind = classify(&p.ty);
        check_input(attr.mode, act, span, &name, &p.ty, &kind, attr.width)?;
        params.push(Param {
            name,
            ty: (*p.ty).clone(),
            kind,
            act,
        });
    }
    let ret = if has_ret {
        let ReturnType::Type(_, t) = &sig.output else {
            unreachable!()
        };
        let kind = classify(t);
        let (act, span) = attr.acts[expected - 1];
        check_ret(attr.mode, act, span, t, &kind)?;
        Some(((**t).clone(), kind, act))
    } else {
        None
    };
    Ok(Analysed { float, params, ret })
}
