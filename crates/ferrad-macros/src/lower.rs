//! The compiled backend: the function body is lowered to ferrad-ir text by the Rust front end
//! (crate ferrad-front, which documents the subset), differentiated by `ferrad_ir::diff_text`
//! at expansion time, and the emitted Rust (one fused, tape-free function) becomes the body of
//! the concrete derivative. `Const` parameters get no shadow, tangent or gradient.
//!
//! Invariant: anything outside the subset, or any error of the compiler, makes [`compiled_body`]
//! answer `None`, and the caller keeps the operator-overloading backend: this module never
//! produces an error of its own.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::ItemFn;

use crate::attr::{Activity, Attr, Mode};
use crate::nested::Slot;
use crate::sig::{Analysed, Float, Kind};
use ferrad_front::ParamKind;

type R<T> = Option<T>;

/// `v as i64 < 3` is not Rust (`<` would open generic arguments), but ferrad-ir's emitter
/// writes it for integer comparisons: parenthesize `IDENT as TYPE` before a `<`.
fn paren_casts(src: &str) -> String {
    let mut out = src.to_string();
    for ty in ["i64", "f64", "f32", "usize"] {
        let pat = format!(" as {ty} <");
        let mut from = 0;
        while let Some(k) = out[from..].find(&pat).map(|k| k + from) {
            let start = out[..k]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(0, |j| j + 1);
            if start == k {
                // not `IDENT as TYPE <`: leave it (the parse fails, and the caller falls back)
                from = k + pat.len();
                continue;
            }
            let end = k + pat.len() - 2;
            out.insert(end, ')');
            out.insert(start, '(');
            from = end + 2;
        }
    }
    out
}

/// The emitted derivative with respect to the `active` parameters, parsed and renamed, with
/// its arity checked.
fn compile(
    text: &str,
    mode: Mode,
    width: usize,
    active: &[bool],
    n_inputs: usize,
    n_out: usize,
    drop_primal: bool,
) -> R<ItemFn> {
    let opts = ferrad_ir::DiffOptions {
        mode: match mode {
            Mode::Forward => ferrad_ir::Mode::Forward,
            Mode::Reverse => ferrad_ir::Mode::Reverse,
        },
        width,
        emit: ferrad_ir::EmitKind::Rust,
        active: Some(active.to_vec()),
        simd: simd(),
        drop_primal,
        ..ferrad_ir::DiffOptions::default()
    };
    compile_with(text, &opts, n_inputs, n_out)
}

/// How the compiled derivatives are shaped for SIMD: `ferrad::math`, re-sliced buffers, AVX2
/// (or AVX-512) dispatch at run time, unless the `strict-order` feature is on, float sums of
/// loops in 4 or 16 lanes (which rounds them differently from the sequential sum the source
/// writes), and with
/// the `parallel` feature, long outermost loops in chunks on `ferrad::par`'s threads.
pub(crate) fn simd() -> ferrad_ir::Simd {
    let base = if cfg!(feature = "strict-order") {
        ferrad_ir::Simd::STRICT
    } else {
        ferrad_ir::Simd::ON
    };
    ferrad_ir::Simd {
        par: cfg!(feature = "parallel"),
        ..base
    }
}

/// [`compile`] with explicit compiler options (forward over reverse uses it too).
pub(crate) fn compile_with(
    text: &str,
    opts: &ferrad_ir::DiffOptions,
    n_inputs: usize,
    n_out: usize,
) -> R<ItemFn> {
    // A panic inside the compiler is a decline too, never a failed expansion.
    let rust = std::panic::catch_unwind(|| ferrad_ir::diff_text(text, opts))
        .ok()?
        .ok()?;
    let mut f: ItemFn = syn::parse_str(&paren_casts(&rust)).ok()?;
    (f.sig.inputs.len() == n_inputs).then_some(())?;
    let outs = match &f.sig.output {
        syn::ReturnType::Type(_, t) => match &**t {
            syn::Type::Tuple(tt) => tt.elems.len(),
            _ => 1,
        },
        syn::ReturnType::Default => 0,
    };
    (outs == n_out).then_some(())?;
    f.sig.ident = syn::Ident::new("__ferrad_ir", Span::call_site());
    f.vis = syn::Visibility::Inherited;
    // One call site, in the derivative: inlined there, a result the caller drops (the primal
    // of an `ActiveOnly` derivative) can be optimized away with the code that computes it.
    f.attrs.push(syn::parse_quote!(#[inline(always)]));
    Some(f)
}

/// The body of the concrete derivative `attr.name` through the compiled backend, or `None`
/// (outside the subset, or the compiler declined) to keep the operator-overloading one.
pub fn compiled_body(
    attr: &Attr,
    a: &Analysed,
    func: &ItemFn,
    shadows: &[Vec<syn::Ident>],
    dret: &syn::Ident,
    allows: &TokenStream,
) -> R<TokenStream> {
    (a.float == Float::F64 && func.sig.generics.params.is_empty()).then_some(())?;
    (func.sig.asyncness.is_none() && func.sig.variadic.is_none()).then_some(())?;
    if attr.mode == Mode::Forward
        && let Some(body) = crate::nested::forward_over_reverse(attr, a, func, shadows, allows)
    {
        return Some(body);
    }
    // The shadow-length messages name what the overloading backend names.
    let fname = match attr.mode {
        Mode::Reverse => func.sig.ident.to_string(),
        Mode::Forward => attr.name.to_string(),
    };
    let (_, rkind, ract) = a.ret.as_ref()?;
    matches!(rkind, Kind::Scalar).then_some(())?;
    let kinds: Option<Vec<ParamKind>> = a
        .params
        .iter()
        .map(|p| match p.kind {
            Kind::Scalar => Some(ParamKind::Scalar),
            Kind::Slice { mutable: false } => Some(ParamKind::Slice),
            Kind::NonFloat if ferrad_front::is_int(&p.ty) => Some(ParamKind::Int),
            _ => None,
        })
        .collect();
    let kinds = kinds?;
    let text =
        ferrad_front::lower_fn_with(func, &kinds, &crate::callees::resolver(&func.sig.ident))?;
    crate::callees::remember(&func.sig.ident, kinds, &text);
    let mut args: Vec<TokenStream> = Vec::new();
    let mut checks: Vec<TokenStream> = Vec::new();
    match attr.mode {
        Mode::Reverse => {
            matches!(ract, Activity::Active | Activity::ActiveOnly).then_some(())?;
            // which parameters are differentiated, and the gradients returned (active scalars)
            let mut active: Vec<bool> = Vec::new();
            let mut n_grads = 0;
            let mut slots = Vec::new();
            for (p, sh) in a.params.iter().zip(shadows) {
                let x = &p.name;
                match (&p.kind, p.act) {
                    (Kind::Scalar, Activity::Active | Activity::Const) => {
                        args.push(quote!(#x));
                        let on = p.act == Activity::Active;
                        active.push(on);
                        n_grads += usize::from(on);
                        slots.push(Slot::Scalar);
                    }
                    (Kind::Slice { mutable: false }, Activity::Duplicated) => {
                        let d = &sh[0];
                        checks.push(crate::expand::len_check(&fname, d, x, 1));
                        args.push(quote!(#x));
                        args.push(quote!(#d));
                        active.push(true);
                        slots.extend([Slot::Slice, Slot::Grad]);
                    }
                    (Kind::Slice { mutable: false }, Activity::Const) => {
                        args.push(quote!(#x));
                        active.push(false);
                        slots.push(Slot::Slice);
                    }
                    (Kind::NonFloat, _) => {
                        args.push(quote!(#x as i64));
                        active.push(false);
                        slots.push(Slot::Int);
                    }
                    _ => return None,
                }
            }
            args.push(quote!(#dret));
            slots.push(Slot::Seed);
            // an `ActiveOnly` caller drops the primal: the IR returns zero for it, and its
            // forward sweep goes wherever the adjoints do not need it
            let drop = *ract == Activity::ActiveOnly;
            let f = compile(&text, attr.mode, 1, &active, args.len(), 1 + n_grads, drop)?;
            // Forward mode over this derivative can then be compiled from the same IR (its
            // result is one value and one tangent only when no scalar gradient is returned).
            if n_grads == 0 {
                crate::nested::remember(
                    &attr.name,
                    &text,
                    slots,
                    active,
                    *ract == Activity::Active,
                );
            }
            let grads: Vec<syn::Ident> = (0..n_grads)
                .map(|k| quote::format_ident!("__g{}", k))
                .collect();
            let bind = if grads.is_empty() {
                quote!(__p)
            } else {
                quote!((__p, #(#grads),*))
            };
            let primal = *ract == Activity::Active;
            let ret = match (primal, grads.len()) {
                (true, 0) => quote!(__p),
                (true, _) => quote!((__p, #(#grads),*)),
                (false, 0) => quote!(()),
                (false, 1) => {
                    let g = &grads[0];
                    quote!(#g)
                }
                (false, _) => quote!((#(#grads),*)),
            };
            Some(quote! {
                #allows
                #f
                #(#checks)*
                let #bind = __ferrad_ir(#(#args),*);
                #ret
            })
        }
        Mode::Forward => {
            let w = attr.width;
            matches!(ract, Activity::Dual | Activity::DualOnly).then_some(())?;
            let mut active: Vec<bool> = Vec::new();
            for (p, sh) in a.params.iter().zip(shadows) {
                let x = &p.name;
                let on = matches!(p.act, Activity::Dual | Activity::Dualv);
                active.push(on);
                match &p.kind {
                    Kind::NonFloat => args.push(quote!(#x as i64)),
                    _ => args.push(quote!(#x)),
                }
                match (&p.kind, p.act) {
                    (Kind::Scalar, Activity::Dual) => args.extend(sh.iter().map(|s| quote!(#s))),
                    (
                        Kind::Scalar | Kind::Slice { mutable: false } | Kind::NonFloat,
                        Activity::Const,
                    ) => {}
                    (Kind::Slice { mutable: false }, Activity::Dual) => {
                        for s in sh {
                            checks.push(crate::expand::len_check(&fname, s, x, 1));
                            args.push(quote!(#s));
                        }
                    }
                    // one shadow of w × len tangents, direction-major: a subslice each
                    (Kind::Slice { mutable: false }, Activity::Dualv) if w > 1 => {
                        let s = &sh[0];
                        checks.push(crate::expand::len_check(&fname, s, x, w));
                        for k in 0..w {
                            let k1 = k + 1;
                            args.push(quote!(&#s[#k * #x.len()..#k1 * #x.len()]));
                        }
                    }
                    _ => return None,
                }
            }
            let f = compile(&text, attr.mode, w, &active, args.len(), w + 1, false)?;
            let ts: Vec<syn::Ident> = (0..w).map(|k| quote::format_ident!("__t{}", k)).collect();
            let ret = match (ract, w) {
                (Activity::Dual, 1) => quote!((__p, __t0)),
                (Activity::Dual, _) => quote!([__p, #(#ts),*]),
                (_, 1) => quote!(__t0),
                _ => quote!([#(#ts),*]),
            };
            Some(quote! {
                #allows
                #f
                #(#checks)*
                let (__p, #(#ts),*) = __ferrad_ir(#(#args),*);
                #ret
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_before_less_than_are_parenthesized() {
        assert_eq!(
            paren_casts("if i4 as i64 < 3 { a } else if x as f64 <= y { b } else { c }"),
            "if (i4 as i64) < 3 { a } else if (x as f64) <= y { b } else { c }"
        );
        assert_eq!(paren_casts("(a + b) as f64 < c"), "(a + b) as f64 < c");
    }
}
