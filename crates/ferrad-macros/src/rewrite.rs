//! Rewrites a function written for `f64` into one generic over `__T: ferrad::Real`: the
//! operator-overloading ("hybrid") backend. Every mode then instantiates the generic version
//! with its own number type (`Dual`, `DualVec`, `Var` on a tape), so everything `Real` offers
//! — float methods, `Real`-generic helpers, custom rules through `ferrad::apply_rule`, other
//! annotated functions — differentiates without the macro knowing their bodies.
//!
//! Invariant: the rewrite is purely syntactic and type-directed only through the names `f64`
//! and `f32`: a float literal becomes a `cst` constant, `f64` becomes `__T`, `f64::consts::PI`
//! becomes `FloatConst::PI()`, a call to a function annotated earlier in the same file goes
//! to its generic twin. Anything else is left for rustc to type-check.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Ident, Lit, Macro, Token, Type};

use crate::per_file::{PerFile, file_of};
use crate::sig::{Float, floats_in};

/// The name of the generic type parameter in generated code.
pub fn tparam() -> Ident {
    Ident::new("__T", Span::call_site())
}

/// The generic twin of a function name.
pub fn twin(name: &Ident) -> Ident {
    format_ident!("__ferrad_generic_{}", name)
}

/// `<__T as ::ferrad::Real<f64>>`
pub fn real_path(float: Float) -> TokenStream {
    let t = tparam();
    let f = float.ident();
    quote!(<#t as ::ferrad::Real<#f>>)
}

// ---- the registry of annotated functions -------------------------------------------------
//
// A call `g(x)` inside an annotated body must reach `g`'s generic twin when `g` is itself
// annotated (or generated), and stay a plain call when `g` is a `Real`-generic helper. A proc
// macro cannot see other items, so expansions record the names they define (a `PerFile`
// table, see `crate::per_file`); a later expansion in the same file redirects calls to them.

static REGISTRY: PerFile<()> = PerFile::new();

pub fn register(name: &Ident) {
    REGISTRY.insert(name, ());
}

fn is_registered(name: &Ident, file: &str) -> bool {
    REGISTRY.get(file, &name.to_string()).is_some()
}

// ---- the rewriter ------------------------------------------------------------------------

pub struct Rewriter {
    pub float: Float,
    file: String,
    pub errors: Vec<syn::Error>,
}

impl Rewriter {
    pub fn new(float: Float, span: Span) -> Self {
        Rewriter {
            float,
            file: file_of(span),
            errors: Vec::new(),
        }
    }

    fn cst(&self, v: TokenStream, span: Span) -> Expr {
        let r = real_path(self.float);
        syn::parse_quote_spanned!(span=> #r::cst(#v))
    }

    /// `f64::consts::NAME`, `std::f64::consts::NAME`, `f64::EPSILON`… as generic expressions.
    fn float_path_expr(&self, p: &syn::ExprPath) -> Option<Expr> {
        if p.qself.is_some() {
            return None;
        }
        let segs: Vec<String> = p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let fl = self.float.ident().to_string();
        let rest: &[&str] = match segs.as_slice() {
            ["std" | "core", f, rest @ ..] if *f == fl => rest,
            [f, rest @ ..] if *f == fl => rest,
            _ => return None,
        };
        let t = tparam();
        let span = p.span();
        match rest {
            ["consts", name] => {
                let id = Ident::new(name, span);
                Some(syn::parse_quote_spanned!(span=> <#t as ::ferrad::prelude::FloatConst>::#id()))
            }
            [name] => {
                let method = match *name {
                    "EPSILON" => "epsilon",
                    "INFINITY" => "infinity",
                    "NEG_INFINITY" => "neg_infinity",
                    "NAN" => "nan",
                    "MAX" => "max_value",
                    "MIN" => "min_value",
                    "MIN_POSITIVE" => "min_positive_value",
                    _ => return None,
                };
                let id = Ident::new(method, span);
                Some(syn::parse_quote_spanned!(span=> <#t as ::ferrad::prelude::Float>::#id()))
            }
            _ => None,
        }
    }

    fn rewrite_macro(&mut self, m: &mut Macro) {
        let is_vec = m.path.is_ident("vec");
        if is_vec {
            // vec![elem; n]
            let repeat = |input: syn::parse::ParseStream| -> syn::Result<(Expr, Expr)> {
                let e: Expr = input.parse()?;
                input.parse::<Token![;]>()?;
                let n: Expr = input.parse()?;
                Ok((e, n))
            };
            if let Ok((mut e, n)) = syn::parse::Parser::parse2(repeat, m.tokens.clone()) {
                self.visit_expr_mut(&mut e);
                m.tokens = quote!(#e; #n);
                return;
            }
        }
        // Comma-separated expressions: vec![a, b], assert!(c), assert_eq!(a, b)…
        let list = Punctuated::<Expr, Token![,]>::parse_terminated;
        if let Ok(mut items) = syn::parse::Parser::parse2(list, m.tokens.clone()) {
            for e in items.iter_mut() {
                self.visit_expr_mut(e);
            }
            m.tokens = items.into_token_stream();
        }
    }
}

fn float_suffix(lit: &Lit) -> Option<String> {
    match lit {
        Lit::Float(f) if matches!(f.suffix(), "" | "f64" | "f32") => {
            Some(f.base10_digits().to_string())
        }
        Lit::Int(i) if matches!(i.suffix(), "f64" | "f32") => Some(i.base10_digits().to_string()),
        _ => None,
    }
}

fn is_float_type(ty: &Type, float: Float) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.is_ident(&float.ident()))
}

impl VisitMut for Rewriter {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Lit(l) => {
                if let Some(digits) = float_suffix(&l.lit) {
                    let span = l.lit.span();
                    let lit = syn::LitFloat::new(&format!("{digits}f64"), span);
                    *e = self.cst(lit.into_token_stream(), span);
                }
                return;
            }
            Expr::Cast(c) if is_float_type(&c.ty, self.float) => {
                self.visit_expr_mut(&mut c.expr);
                let span = c.span();
                let inner = &c.expr;
                *e = self.cst(quote_spanned!(span=> (#inner) as f64), span);
                return;
            }
            Expr::Path(p) => {
                if let Some(new) = self.float_path_expr(p) {
                    *e = new;
                    return;
                }
            }
            Expr::MethodCall(_) => deref_iter_items(e, self.float),
            Expr::Call(c) => {
                if let Expr::Path(p) = &mut *c.func
                    && p.qself.is_none()
                    && let Some(id) = p.path.get_ident()
                    && is_registered(id, &self.file)
                {
                    let t = twin(id);
                    p.path = syn::parse_quote_spanned!(id.span()=> #t);
                }
            }
            _ => {}
        }
        visit_mut::visit_expr_mut(self, e);
    }

    fn visit_path_mut(&mut self, p: &mut syn::Path) {
        // `f64` as a type or as the first segment of a path (`f64::sqrt`) becomes `__T`.
        if p.leading_colon.is_none()
            && let Some(first) = p.segments.first_mut()
            && first.ident == self.float.ident()
            && first.arguments.is_none()
        {
            first.ident = Ident::new("__T", first.ident.span());
        }
        visit_mut::visit_path_mut(self, p);
    }

    fn visit_macro_mut(&mut self, m: &mut Macro) {
        self.rewrite_macro(m);
    }

    fn visit_item_mut(&mut self, item: &mut syn::Item) {
        // Items nested in the body cannot see the generic parameter.
        let mut fl = Vec::new();
        floats_in(item.to_token_stream(), &mut fl);
        if let Some((_, span)) = fl.first() {
            self.errors.push(syn::Error::new(
                *span,
                "an item nested in a differentiated function cannot use f64/f32 (it cannot see the generic number type); \
                 move it out of the function and make it generic over `T: ferrad::Real`",
            ));
        }
    }
}

fn is_call(e: &Expr, name: &str, nargs: usize) -> bool {
    matches!(e, Expr::MethodCall(m) if m.method == name && m.args.len() == nargs)
}

/// Makes iterator chains over references work for a generic number (which, unlike `f64`, has
/// no arithmetic on references): `x.iter().sum()` → `x.iter().copied().sum()`, and a closure
/// `|v|` (or `|(a, b)|` after `zip`) given to `map`/`for_each` on `x.iter()` takes its items
/// by pattern: `|&v|`, `|(&a, &b)|`.
fn deref_iter_items(e: &mut Expr, float: Float) {
    let Expr::MethodCall(m) = e else { return };
    let recv = &*m.receiver;
    let on_iter = is_call(recv, "iter", 0);
    // `Real` has no `Product`: a float product becomes a fold.
    let float_fish = m.turbofish.as_ref().is_some_and(|t| {
        t.args.len() == 1
            && matches!(&t.args[0], syn::GenericArgument::Type(Type::Path(p)) if p.path.is_ident(&float.ident()))
    });
    if m.method == "product" && m.args.is_empty() && float_fish {
        let r = &m.receiver;
        let r = if on_iter {
            quote!(#r.copied())
        } else {
            quote!(#r)
        };
        *e = syn::parse_quote_spanned!(m.span()=> #r.fold(__T::one(), |__a, __b| __a * __b));
        return;
    }
    if (m.method == "sum" || m.method == "product") && m.args.is_empty() && on_iter {
        let r = &m.receiver;
        *m.receiver = syn::parse_quote_spanned!(r.span()=> #r.copied());
        return;
    }
    if !(m.method == "map" || m.method == "for_each") || m.args.len() != 1 {
        return;
    }
    let zipped = match recv {
        Expr::MethodCall(z)
            if z.method == "zip" && z.args.len() == 1 && is_call(&z.receiver, "iter", 0) =>
        {
            let a = &z.args[0];
            is_call(a, "iter", 0) || matches!(a, Expr::Reference(_) | Expr::Path(_))
        }
        _ => false,
    };
    if !on_iter && !zipped {
        return;
    }
    let Expr::Closure(c) = &mut m.args[0] else {
        return;
    };
    if c.inputs.len() != 1 {
        return;
    }
    let by_ref = |p: &mut syn::Pat| {
        if let syn::Pat::Ident(id) = p
            && id.by_ref.is_none()
            && id.subpat.is_none()
        {
            let inner = p.clone();
            *p = syn::parse_quote!(&#inner);
        }
    };
    let pat = &mut c.inputs[0];
    if on_iter {
        by_ref(pat);
    } else if let syn::Pat::Tuple(t) = pat
        && t.elems.len() == 2
    {
        for e in t.elems.iter_mut() {
            by_ref(e);
        }
    }
}

/// The generic version of a type (`&[f64]` → `&[__T]`).
pub fn generic_type(ty: &Type, float: Float) -> Type {
    let mut t = ty.clone();
    let mut r = Rewriter {
        float,
        file: String::new(),
        errors: Vec::new(),
    };
    r.visit_type_mut(&mut t);
    t
}
