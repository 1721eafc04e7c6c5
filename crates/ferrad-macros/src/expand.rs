//! Code generation: the generic twin of the annotated function, and for each attribute a
//! generic derivative twin plus the concrete function with std::autodiff's exact signature.
//!
//! For `#[autodiff_reverse(d_f, Duplicated, Active)] fn f(x: &[f64]) -> f64` the output is
//!
//! ```text
//! fn f(x: &[f64]) -> f64 { … }                                  // kept as written
//! fn __ferrad_generic_f<__T: Real>(x: &[__T]) -> __T { … }      // the body, generic
//! fn __ferrad_generic_d_f<__T: Real>(x: &[__T], dx: &mut [__T], dret: __T) -> __T {
//!     // x on a fresh Tape<__T>, f's twin on Var<__T>, one sweep, gradients added into dx
//! }
//! fn d_f(x: &[f64], dx: &mut [f64], dret: f64) -> f64 { __ferrad_generic_d_f::<f64>(x, dx, dret) }
//! ```
//!
//! When the body lies in the subset of [`crate::lower`], the concrete function instead holds
//! the derivative compiled by ferrad-ir at expansion time (one fused loop, no tape); the
//! generic twin is generated all the same. `const __FERRAD_BACKEND_<NAME>: &str` says which
//! backend the concrete function uses: `"ir"` or `"overload"`.
//!
//! Invariant: the concrete function forwards to its twin or runs the compiled derivative of
//! the same body, and the twin is generic over `__T: Real`, so a derivative can itself be
//! differentiated (forward over reverse = H·v) through the twin.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::visit_mut::VisitMut;
use syn::{GenericParam, Ident, ItemFn, Type};

use crate::attr::{self, Activity, Attr, Mode};
use crate::rewrite::{Rewriter, generic_type, register, tparam, twin};
use crate::sig::{self, Analysed, Float, Kind};

pub fn expand(mode: Mode, args: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let err = syn::Error::new(
                Span::call_site(),
                format!(
                    "`#[{}]` can only be applied to a function item (`fn name(…) {{ … }}`)",
                    mode.attr_name()
                ),
            );
            let e = err.to_compile_error();
            return quote!(#e #item);
        }
    };
    let attr = match attr::parse(mode, args) {
        Ok(a) => a,
        Err(e) => {
            let e = e.to_compile_error();
            return quote!(#e #func);
        }
    };
    match generate(&attr, &func) {
        Ok(ts) => ts,
        Err(e) => {
            let e = e.to_compile_error();
            quote!(#e #func)
        }
    }
}

fn is_autodiff_attr(a: &syn::Attribute) -> bool {
    a.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "autodiff_forward" || s.ident == "autodiff_reverse")
}

/// Generics with `__T: Real<F>` inserted after the lifetimes.
fn with_tparam(g: &syn::Generics, float: Float) -> syn::Generics {
    let mut g = g.clone();
    let t = tparam();
    let f = float.ident();
    let p: GenericParam = syn::parse_quote!(#t: ::ferrad::Real<#f>);
    let pos = g
        .params
        .iter()
        .take_while(|p| matches!(p, GenericParam::Lifetime(_)))
        .count();
    g.params.insert(pos, p);
    g
}

/// Whether a call to a generic twin can name `__T` explicitly (no other generics to list).
fn turbofish(g: &syn::Generics, ty: TokenStream) -> TokenStream {
    if g.params.is_empty() {
        quote!(::<#ty>)
    } else {
        TokenStream::new()
    }
}

fn unique(base: String, taken: &mut Vec<String>) -> Ident {
    let mut s = base;
    while taken.contains(&s) {
        s.push('_');
    }
    taken.push(s.clone());
    Ident::new(&s, Span::call_site())
}

const ALLOWS: &str = "#[allow(unused_mut, unused_variables, unused_parens, unused_braces, non_snake_case, clippy::all)]";

fn generate(attr: &Attr, func: &ItemFn) -> syn::Result<TokenStream> {
    let a = sig::analyse(attr, &func.sig)?;
    register(&func.sig.ident);
    register(&attr.name);
    let allows: TokenStream = ALLOWS.parse().unwrap_or_default();

    // The generic twin of the primal, emitted once: by the last autodiff attribute.
    let mut out = TokenStream::new();
    if !func.attrs.iter().any(is_autodiff_attr) {
        out.extend(primal_twin(func, &a, &allows)?);
    }

    let float = a.float;
    let f = float.ident();
    let primal_twin_name = twin(&func.sig.ident);
    let vis = &func.vis;
    let name = &attr.name;
    let dtwin = twin(name);
    let g_generics = with_tparam(&func.sig.generics, float);
    let (g_impl, _, g_where) = g_generics.split_for_impl();
    let (c_impl, _, c_where) = func.sig.generics.split_for_impl();

    // Parameter lists (concrete and generic) of the derivative.
    let mut taken: Vec<String> = a.params.iter().map(|p| p.name.to_string()).collect();
    let mut c_params: Vec<TokenStream> = Vec::new();
    let mut g_params: Vec<TokenStream> = Vec::new();
    let mut call_args: Vec<Ident> = Vec::new();
    let mut push = |id: &Ident, ty: &Type| {
        let gt = generic_type(ty, float);
        c_params.push(quote!(#id: #ty));
        g_params.push(quote!(#id: #gt));
        call_args.push(id.clone());
    };
    // shadows[i] = the shadow names of parameter i
    let mut shadows: Vec<Vec<Ident>> = Vec::new();
    for p in &a.params {
        push(&p.name, &p.ty);
        let mut sh = Vec::new();
        match p.act {
            Activity::Duplicated | Activity::DuplicatedOnly => {
                let id = unique(format!("d{}", p.name), &mut taken);
                let ty = mut_ref(&p.ty);
                push(&id, &ty);
                sh.push(id);
            }
            Activity::Dual | Activity::DualOnly => {
                for k in 0..attr.width {
                    let base = if attr.width == 1 {
                        format!("b{}", p.name)
                    } else {
                        format!("b{}_{k}", p.name)
                    };
                    let id = unique(base, &mut taken);
                    push(&id, &p.ty);
                    sh.push(id);
                }
            }
            Activity::Dualv => {
                let id = unique(format!("b{}", p.name), &mut taken);
                push(&id, &p.ty);
                sh.push(id);
            }
            _ => {}
        }
        shadows.push(sh);
    }
    let dret = unique("dret".into(), &mut taken);
    if let (Mode::Reverse, Some((ty, _, Activity::Active | Activity::ActiveOnly))) =
        (attr.mode, &a.ret)
    {
        push(&dret, ty);
    }

    let (body, c_ret, g_ret) = match attr.mode {
        Mode::Forward => forward_body(attr, &a, &shadows, &primal_twin_name),
        Mode::Reverse => reverse_body(&a, &shadows, &dret, &primal_twin_name),
    };
    let fish = turbofish(&func.sig.generics, quote!(#f));
    let doc = format!(
        "{} derivative of `{}`, generated by `#[{}({})]` (ferrad).",
        if attr.mode == Mode::Forward {
            "Forward-mode"
        } else {
            "Reverse-mode"
        },
        func.sig.ident,
        attr.mode.attr_name(),
        std::iter::once(attr.name.to_string())
            .chain((attr.width > 1).then(|| attr.width.to_string()))
            .chain(attr.acts.iter().map(|(a, _)| a.name().to_string()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let c_ret_ts = if c_ret.is_empty() {
        quote!()
    } else {
        quote!(-> #c_ret)
    };
    let g_ret_ts = if g_ret.is_empty() {
        quote!()
    } else {
        quote!(-> #g_ret)
    };
    // Mark the original as used when only its derivatives are called (as std::autodiff does).
    let orig = &func.sig.ident;
    let touch = if func.sig.generics.params.is_empty() {
        quote!(let _ = #orig;)
    } else {
        quote!()
    };
    // The compiled backend when the body is in its subset, else the generic twin.
    let compiled = crate::lower::compiled_body(attr, &a, func, &shadows, &dret, &allows);
    let backend = if compiled.is_some() { "ir" } else { "overload" };
    let c_body = compiled.unwrap_or_else(|| quote!(#dtwin #fish (#(#call_args),*)));
    let marker = format_ident!("__FERRAD_BACKEND_{}", name);
    out.extend(quote! {
        #[doc(hidden)]
        #[inline]
        #allows
        #vis fn #dtwin #g_impl (#(#g_params),*) #g_ret_ts #g_where {
            #body
        }
        #[doc = #doc]
        #[inline]
        #allows
        #vis fn #name #c_impl (#(#c_params),*) #c_ret_ts #c_where {
            #touch
            #c_body
        }
        /// Which backend generated the derivative: `"ir"` (compiled) or `"overload"`.
        #[doc(hidden)]
        #[allow(dead_code, non_upper_case_globals)]
        #vis const #marker: &str = #backend;
    });
    Ok(quote!(#func #out))
}

/// `&T` → `&mut T`; `&mut T` stays.
fn mut_ref(ty: &Type) -> Type {
    match ty {
        Type::Reference(r) => {
            let mut r = r.clone();
            r.mutability = Some(Default::default());
            Type::Reference(r)
        }
        other => other.clone(),
    }
}

fn primal_twin(func: &ItemFn, a: &Analysed, allows: &TokenStream) -> syn::Result<TokenStream> {
    let float = a.float;
    let mut rw = Rewriter::new(float, func.sig.ident.span());
    let mut sig = func.sig.clone();
    sig.ident = twin(&func.sig.ident);
    sig.constness = None;
    sig.unsafety = None;
    sig.abi = None;
    sig.generics = with_tparam(&func.sig.generics, float);
    for arg in sig.inputs.iter_mut() {
        if let syn::FnArg::Typed(p) = arg {
            *p.ty = generic_type(&p.ty, float);
        }
    }
    if let syn::ReturnType::Type(_, t) = &mut sig.output {
        **t = generic_type(t, float);
    }
    let mut block = (*func.block).clone();
    rw.visit_block_mut(&mut block);
    if let Some(first) = rw.errors.first() {
        let mut e = first.clone();
        for more in &rw.errors[1..] {
            e.combine(more.clone());
        }
        return Err(e);
    }
    let vis = &func.vis;
    let stmts = &block.stmts;
    Ok(quote! {
        #[doc(hidden)]
        #[inline]
        #allows
        #vis #sig {
            #[allow(unused_imports)]
            use ::ferrad::prelude::{Float as _, FloatConst as _};
            #(#stmts)*
        }
    })
}

/// Locals in generated code.
fn local(prefix: &str, name: &Ident) -> Ident {
    format_ident!("__{}_{}", prefix, name)
}

pub(crate) fn len_check(fname: &str, shadow: &Ident, x: &Ident, factor: usize) -> TokenStream {
    buf_len_check(fname, "the shadow", shadow, x, factor)
}

/// `assert!(buf.len() == factor · x.len(), ..)`, the message naming `buf` as `what` (the
/// shadow, the gradient buffer) and both lengths.
pub(crate) fn buf_len_check(
    fname: &str,
    what: &str,
    shadow: &Ident,
    x: &Ident,
    factor: usize,
) -> TokenStream {
    let msg = if factor == 1 {
        format!("{fname}: {what} `{shadow}` has length {{}} but `{x}` has length {{}}")
    } else {
        format!(
            "{fname}: {what} `{shadow}` has length {{}} but must hold {factor} × `{x}`.len() = {{}} tangents"
        )
    };
    let want = if factor == 1 {
        quote!(#x.len())
    } else {
        quote!(#factor * #x.len())
    };
    quote! { assert!(#shadow.len() == #want, #msg, #shadow.len(), #want); }
}

/// Forward mode: every float becomes a `Dual<__T>` (width 1) or `DualVec<__T, W>`.
fn forward_body(
    attr: &Attr,
    a: &Analysed,
    shadows: &[Vec<Ident>],
    ptwin: &Ident,
) -> (TokenStream, TokenStream, TokenStream) {
    let w = attr.width;
    let t = tparam();
    let f = a.float.ident();
    let fname = attr.name.to_string();
    let dty = if w == 1 {
        quote!(::ferrad::Dual<#t>)
    } else {
        quote!(::ferrad::DualVec<#t, #w>)
    };
    let make = |v: TokenStream, tangents: Vec<TokenStream>| -> TokenStream {
        if w == 1 {
            let t0 = &tangents[0];
            quote!(::ferrad::Dual::new(#v, #t0))
        } else {
            quote!(::ferrad::DualVec::new(#v, [#(#tangents),*]))
        }
    };
    let eps = |k: usize| -> TokenStream {
        if w == 1 {
            quote!(.eps)
        } else {
            quote!(.eps[#k])
        }
    };
    let mut pre = Vec::new();
    let mut args = Vec::new();
    let mut post = Vec::new();
    for (p, sh) in a.params.iter().zip(shadows) {
        let x = &p.name;
        let l = local("a", x);
        if !p.kind.is_float() {
            args.push(quote!(#x));
            continue;
        }
        let dual = matches!(p.act, Activity::Dual | Activity::DualOnly);
        let dualv = p.act == Activity::Dualv;
        // The element/scalar builder for index expression `at` (None for scalars).
        let build = |at: Option<TokenStream>| -> TokenStream {
            let v = match &at {
                None => quote!(#x),
                Some(i) => quote!(#x[#i]),
            };
            let v = if matches!(p.kind, Kind::Ref { .. }) {
                quote!(*#x)
            } else {
                v
            };
            if dual {
                let tangents = sh
                    .iter()
                    .map(|s| match (&at, &p.kind) {
                        (_, Kind::Ref { .. }) => quote!(*#s),
                        (None, _) => quote!(#s),
                        (Some(i), _) => quote!(#s[#i]),
                    })
                    .collect();
                make(v, tangents)
            } else if dualv {
                let s = &sh[0];
                let i = at.clone().unwrap_or_default();
                quote!(::ferrad::DualVec::new(#v, ::core::array::from_fn(|__k| #s[__k * #x.len() + #i])))
            } else {
                quote!(<#dty>::constant(#v))
            }
        };
        match &p.kind {
            Kind::Scalar | Kind::Ref { .. } => {
                let e = build(None);
                let m = if p.kind.is_mut() {
                    quote!(mut)
                } else {
                    quote!()
                };
                pre.push(quote!(let #m #l: #dty = #e;));
                args.push(match p.kind {
                    Kind::Scalar => quote!(#l),
                    Kind::Ref { mutable: false } => quote!(&#l),
                    _ => quote!(&mut #l),
                });
                if p.kind.is_mut() {
                    // a `DualOnly` argument's primal is left as it was: only its shadow is output
                    if p.act != Activity::DualOnly {
                        post.push(quote!(*#x = #l.re;));
                    }
                    if dual {
                        for (k, s) in sh.iter().enumerate() {
                            let e = eps(k);
                            post.push(quote!(*#s = #l #e;));
                        }
                    }
                }
            }
            Kind::Slice { .. } | Kind::ArrayRef { .. } | Kind::Array { .. } => {
                if dual {
                    for s in sh {
                        pre.push(len_check(&fname, s, x, 1));
                    }
                }
                if dualv {
                    pre.push(len_check(&fname, &sh[0], x, w));
                }
                let e = build(Some(quote!(__i)));
                let m = if p.kind.is_mut() {
                    quote!(mut)
                } else {
                    quote!()
                };
                match &p.kind {
                    Kind::Slice { .. } => {
                        pre.push(quote!(let #m #l: ::std::vec::Vec<#dty> = (0..#x.len()).map(|__i| #e).collect();));
                    }
                    Kind::ArrayRef { len, .. } | Kind::Array { len } => {
                        pre.push(
                            quote!(let #m #l: [#dty; #len] = ::core::array::from_fn(|__i| #e);),
                        );
                    }
                    _ => {}
                }
                args.push(match &p.kind {
                    Kind::Array { .. } => quote!(#l),
                    k if k.is_mut() => quote!(&mut #l),
                    _ => quote!(&#l),
                });
                if p.kind.is_mut() {
                    let mut body = Vec::new();
                    // a `DualOnly` buffer keeps its primal (see the scalar case)
                    if p.act != Activity::DualOnly {
                        body.push(quote!(#x[__i] = #l[__i].re;));
                    }
                    if dual {
                        for (k, s) in sh.iter().enumerate() {
                            let e = eps(k);
                            body.push(quote!(#s[__i] = #l[__i] #e;));
                        }
                    }
                    if dualv {
                        let s = &sh[0];
                        body.push(quote!(for __k in 0..#w { #s[__k * #x.len() + __i] = #l[__i].eps[__k]; }));
                    }
                    post.push(quote!(for __i in 0..#x.len() { #(#body)* }));
                }
            }
            Kind::NonFloat | Kind::Unsupported => args.push(quote!(#x)),
        }
    }
    let (ret_expr, c_ret, g_ret) = match &a.ret {
        None => (quote!(), quote!(), quote!()),
        Some((ty, kind, act)) => {
            let gty = generic_type(ty, a.float);
            match (act, kind.is_float()) {
                (Activity::Const, true) => (quote!(__r.re), quote!(#ty), quote!(#gty)),
                (Activity::Const, false) => (quote!(__r), quote!(#ty), quote!(#gty)),
                (Activity::Dual, _) if w == 1 => (
                    quote!((__r.re, __r.eps)),
                    quote!((#f, #f)),
                    quote!((#t, #t)),
                ),
                (Activity::Dual, _) => {
                    let ks = 0..w;
                    let n = w + 1;
                    (
                        quote!([__r.re, #(__r.eps[#ks]),*]),
                        quote!([#f; #n]),
                        quote!([#t; #n]),
                    )
                }
                (_, _) if w == 1 => (quote!(__r.eps), quote!(#f), quote!(#t)),
                _ => (quote!(__r.eps), quote!([#f; #w]), quote!([#t; #w])),
            }
        }
    };
    let bind = if a.ret.is_some() {
        quote!(let __r = )
    } else {
        quote!()
    };
    let body = quote! {
        #(#pre)*
        #bind #ptwin(#(#args),*);
        #(#post)*
        #ret_expr
    };
    (body, c_ret, g_ret)
}

/// Reverse mode: active floats become `Var<__T>` on a fresh `Tape<__T>`, one sweep.
fn reverse_body(
    a: &Analysed,
    shadows: &[Vec<Ident>],
    dret: &Ident,
    ptwin: &Ident,
) -> (TokenStream, TokenStream, TokenStream) {
    let t = tparam();
    let f = a.float.ident();
    let vty = quote!(::ferrad::Var<#t>);
    let mut pre = Vec::new();
    let mut args = Vec::new();
    let mut post = Vec::new(); // after the primal call, before the sweep
    let mut after = Vec::new(); // after the sweep
    let mut grads = Vec::new(); // (expr) of Active input gradients
    let mut c_grad_tys = Vec::new();
    let mut any_active = false;
    let fname = ptwin.to_string();
    let fname = fname.trim_start_matches("__ferrad_generic_");
    for (p, sh) in a.params.iter().zip(shadows) {
        let x = &p.name;
        let l = local("a", x);
        let l0 = local("a0", x);
        let ix = local("i", x);
        if !p.kind.is_float() {
            args.push(quote!(#x));
            continue;
        }
        let active = p.act != Activity::Const;
        any_active |= active;
        let mk = |v: TokenStream| -> TokenStream {
            if active {
                quote!(__tape.var(#v))
            } else {
                quote!(<#vty>::constant(#v))
            }
        };
        match &p.kind {
            Kind::Scalar => {
                let e = mk(quote!(#x));
                pre.push(quote!(let #l: #vty = #e;));
                args.push(quote!(#l));
                if active {
                    pre.push(quote!(let #ix = __wrt.len(); __wrt.push(#l);));
                    grads.push(quote!(__g[#ix]));
                    c_grad_tys.push(quote!(#f));
                }
            }
            Kind::Ref { mutable } => {
                let e = mk(quote!(*#x));
                if *mutable {
                    pre.push(quote!(let #l0: #vty = #e; let mut #l: #vty = #l0;));
                    args.push(quote!(&mut #l));
                    post.push(quote!(*#x = #l.val();));
                } else {
                    pre.push(quote!(let #l0: #vty = #e; let #l: #vty = #l0;));
                    args.push(quote!(&#l));
                }
                if active {
                    let d = &sh[0];
                    pre.push(quote!(let #ix = __wrt.len(); __wrt.push(#l0);));
                    if *mutable {
                        post.push(quote!(__seeds.push((#l, *#d));));
                        after.push(quote!(*#d = __g[#ix];));
                    } else {
                        after.push(quote!(*#d += __g[#ix];));
                    }
                }
            }
            Kind::Slice { .. } | Kind::ArrayRef { .. } | Kind::Array { .. } => {
                let e = mk(quote!(#x[__i]));
                match &p.kind {
                    Kind::Slice { .. } => {
                        pre.push(quote!(let #l0: ::std::vec::Vec<#vty> = (0..#x.len()).map(|__i| #e).collect();));
                    }
                    Kind::ArrayRef { len, .. } | Kind::Array { len } => {
                        pre.push(quote!(let #l0: [#vty; #len] = ::core::array::from_fn(|__i| #e);));
                    }
                    _ => {}
                }
                let mutable = p.kind.is_mut();
                if mutable {
                    pre.push(quote!(let mut #l = #l0.clone();));
                    args.push(quote!(&mut #l));
                    post.push(quote!(for __i in 0..#x.len() { #x[__i] = #l[__i].val(); }));
                } else {
                    pre.push(quote!(let #l = &#l0;));
                    args.push(match &p.kind {
                        Kind::Array { .. } => quote!(*#l),
                        _ => quote!(#l),
                    });
                }
                if active {
                    let d = &sh[0];
                    pre.push(len_check(fname, d, x, 1));
                    pre.push(quote!(let #ix = __wrt.len(); __wrt.extend_from_slice(&#l0[..]);));
                    if mutable {
                        post.push(
                            quote!(for __i in 0..#x.len() { __seeds.push((#l[__i], #d[__i])); }),
                        );
                        after.push(quote!(for __i in 0..#x.len() { #d[__i] = __g[#ix + __i]; }));
                    } else {
                        after.push(quote!(for __i in 0..#x.len() { #d[__i] += __g[#ix + __i]; }));
                    }
                }
            }
            Kind::NonFloat | Kind::Unsupported => args.push(quote!(#x)),
        }
    }
    let mut primal: Option<(TokenStream, TokenStream, TokenStream)> = None;
    if let Some((ty, kind, act)) = &a.ret {
        let gty = generic_type(ty, a.float);
        if matches!(act, Activity::Active | Activity::ActiveOnly) {
            any_active = true;
            post.push(quote!(__seeds.push((__r, #dret));));
        }
        if *act != Activity::ActiveOnly {
            let e = if kind.is_float() {
                quote!(__r.val())
            } else {
                quote!(__r)
            };
            primal = Some((e, quote!(#ty), quote!(#gty)));
        }
    }
    let bind = if a.ret.is_some() {
        quote!(let __r = )
    } else {
        quote!()
    };
    let sweep = if any_active {
        quote!(let __g: ::std::vec::Vec<#t> = __tape.adjoints_wrt(&__seeds, &__wrt);)
    } else {
        quote!()
    };
    let g_grad_tys: Vec<TokenStream> = c_grad_tys.iter().map(|_| quote!(#t)).collect();
    let (ret_expr, c_ret, g_ret) = match (primal, grads.len()) {
        (None, 0) => (quote!(), quote!(), quote!()),
        (Some((e, c, g)), 0) => (e, c, g),
        (Some((e, c, g)), _) => (
            quote!((#e, #(#grads),*)),
            quote!((#c, #(#c_grad_tys),*)),
            quote!((#g, #(#g_grad_tys),*)),
        ),
        (None, 1) => (
            grads[0].clone(),
            c_grad_tys[0].clone(),
            g_grad_tys[0].clone(),
        ),
        (None, _) => (
            quote!((#(#grads),*)),
            quote!((#(#c_grad_tys),*)),
            quote!((#(#g_grad_tys),*)),
        ),
    };
    let body = quote! {
        let __tape = ::ferrad::Tape::<#t>::new();
        let mut __wrt: ::std::vec::Vec<#vty> = ::std::vec::Vec::new();
        let mut __seeds: ::std::vec::Vec<(#vty, #t)> = ::std::vec::Vec::new();
        #(#pre)*
        #bind #ptwin(#(#args),*);
        #(#post)*
        #sweep
        #(#after)*
        #ret_expr
    };
    (body, c_ret, g_ret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    /// The expansion, one generated item a paragraph (for review and the docs).
    fn expansion(mode: Mode, args: &str, item: &str) -> String {
        let ts = expand(mode, args.parse().unwrap(), item.parse().unwrap());
        let file: syn::File = syn::parse2(ts).expect("the expansion parses as items");
        file.items
            .iter()
            .map(|i| i.to_token_stream().to_string())
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    #[test]
    fn sumsq_expansion() {
        let out = expansion(
            Mode::Reverse,
            "d_sumsq, Duplicated, Active",
            "fn sumsq(x: &[f64]) -> f64 { let mut s = 0.0; for i in 0..x.len() { s += x[i] * x[i]; } s }",
        );
        println!("{out}");
        assert!(out.contains("fn d_sumsq (x : & [f64] , dx : & mut [f64] , dret : f64) -> f64"));
        assert!(out.contains(
            "fn __ferrad_generic_sumsq < __T : :: ferrad :: Real < f64 > > (x : & [__T]) -> __T"
        ));
        assert!(out.contains("< __T as :: ferrad :: Real < f64 > > :: cst (0.0f64)"));
        assert!(out.contains("dx [__i] += __g [__i_x + __i]"));
    }

    #[test]
    fn r_reverse_goes_through_the_compiler() {
        let out = expansion(
            Mode::Reverse,
            "d_loss_r, Duplicated, Active",
            "fn loss_r(x: &[f64]) -> f64 { let mut s = 0.0; for i in 0..x.len() { s += x[i].tanh().powi(3) + x[i] * x[i]; } s }",
        );
        println!("{out}");
        let concrete = out
            .split("\n\n")
            .find(|i| i.contains("fn d_loss_r ("))
            .expect("the concrete derivative");
        assert!(
            concrete.contains("fn __ferrad_ir (p0 : & [f64] , p1 : & mut [f64] , p2 : f64) -> f64")
        );
        assert!(concrete.contains("__ferrad_ir (x , dx , dret)"));
        assert!(!concrete.contains("Tape"), "{concrete}");
        assert!(!concrete.contains("vec !"), "{concrete}");
        assert!(out.contains("const __FERRAD_BACKEND_d_loss_r : & str = \"ir\""));
    }

    #[test]
    fn while_loops_keep_operator_overloading() {
        let out = expansion(
            Mode::Reverse,
            "d_w, Duplicated, Active",
            "fn w(x: &[f64]) -> f64 { let mut s = 0.0; let mut i = 0; while i < x.len() { s += x[i]; i += 1; } s }",
        );
        assert!(out.contains("const __FERRAD_BACKEND_d_w : & str = \"overload\""));
        assert!(
            out.contains("__ferrad_generic_d_w :: < f64 > (x , dx , dret)"),
            "{out}"
        );
    }

    #[test]
    fn rosenbrock_forward_expansion() {
        let out = expansion(
            Mode::Forward,
            "rb_fwd1, Dual, Const, Dual",
            "fn rosenbrock(x: f64, y: f64) -> f64 { (1.0 - x).powi(2) + 100.0 * (y - x.powi(2)).powi(2) }",
        );
        println!("{out}");
        assert!(out.contains("fn rb_fwd1 (x : f64 , bx : f64 , y : f64) -> (f64 , f64)"));
        assert!(out.contains(":: ferrad :: Dual :: new (x , bx)"));
        assert!(out.contains("< :: ferrad :: Dual < __T > > :: constant (y)"));
    }

    #[test]
    fn errors_become_compile_error_and_keep_the_item() {
        let out = expansion(
            Mode::Reverse,
            "df, Duplicated, Active",
            "fn f(x: f64) -> f64 { x }",
        );
        assert!(out.contains("compile_error"));
        assert!(out.contains("fn f (x : f64) -> f64"));
    }
}
