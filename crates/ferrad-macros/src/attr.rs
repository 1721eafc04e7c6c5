//! The attribute grammar, exactly as nightly `std::autodiff`:
//! `#[autodiff_forward(NAME[, WIDTH], ACTIVITY…)]` and `#[autodiff_reverse(NAME[, WIDTH], ACTIVITY…)]`.
//!
//! Invariant: parsing only checks the *shape* of the attribute (a name, an optional positive
//! width, known activity words); whether an activity fits its argument is checked in
//! [`crate::sig`], where the types are known.

use proc_macro2::{Span, TokenStream};
use syn::parse::{ParseStream, Parser};
use syn::{Ident, LitInt, Token};

/// Which derivative the attribute asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `#[autodiff_forward]`: tangents pushed forward (dual numbers).
    Forward,
    /// `#[autodiff_reverse]`: adjoints pulled back (a tape).
    Reverse,
}

impl Mode {
    pub fn attr_name(self) -> &'static str {
        match self {
            Mode::Forward => "autodiff_forward",
            Mode::Reverse => "autodiff_reverse",
        }
    }
    pub fn allowed(self) -> &'static str {
        match self {
            Mode::Forward => "Const, Dual, DualOnly, Dualv",
            Mode::Reverse => "Const, Active, ActiveOnly, Duplicated, DuplicatedOnly",
        }
    }
}

/// One activity word of the grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activity {
    Const,
    Active,
    ActiveOnly,
    Duplicated,
    DuplicatedOnly,
    Dual,
    DualOnly,
    Dualv,
}

impl Activity {
    const ALL: [(&'static str, Activity); 8] = [
        ("Const", Activity::Const),
        ("Active", Activity::Active),
        ("ActiveOnly", Activity::ActiveOnly),
        ("Duplicated", Activity::Duplicated),
        ("DuplicatedOnly", Activity::DuplicatedOnly),
        ("Dual", Activity::Dual),
        ("DualOnly", Activity::DualOnly),
        ("Dualv", Activity::Dualv),
    ];

    fn from_ident(id: &Ident) -> Option<Activity> {
        Self::ALL.iter().find(|(s, _)| id == s).map(|&(_, a)| a)
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, a)| *a == self)
            .map(|(s, _)| *s)
            .unwrap_or("?")
    }

    /// Whether the activity belongs to `mode` (`Const` belongs to both).
    pub fn fits_mode(self, mode: Mode) -> bool {
        use Activity::*;
        match self {
            Const => true,
            Active | ActiveOnly | Duplicated | DuplicatedOnly => mode == Mode::Reverse,
            Dual | DualOnly | Dualv => mode == Mode::Forward,
        }
    }
}

/// A parsed attribute.
pub struct Attr {
    pub mode: Mode,
    /// The name of the generated function.
    pub name: Ident,
    /// The vector width (1 when not given).
    pub width: usize,
    /// The activities with their spans, in order (inputs, then the return if any).
    pub acts: Vec<(Activity, Span)>,
}

pub fn parse(mode: Mode, args: TokenStream) -> syn::Result<Attr> {
    let parser = |input: ParseStream| -> syn::Result<Attr> {
        let usage = format!(
            "expected `#[{}(NAME[, WIDTH], ACTIVITY, …)]` with one activity per input and one for the return value",
            mode.attr_name()
        );
        if input.is_empty() {
            return Err(syn::Error::new(Span::call_site(), usage));
        }
        let name: Ident = input.parse().map_err(|e| {
            syn::Error::new(e.span(), format!("{usage}: NAME must be an identifier"))
        })?;
        let mut width = 1usize;
        let mut acts = Vec::new();
        let mut first = true;
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break; // trailing comma
            }
            if first && input.peek(LitInt) {
                let lit: LitInt = input.parse()?;
                width = lit.base10_parse::<usize>()?;
                if width == 0 {
                    return Err(syn::Error::new(lit.span(), "the width must be at least 1"));
                }
                if mode == Mode::Reverse && width > 1 {
                    return Err(syn::Error::new(
                        lit.span(),
                        "a width greater than 1 is only supported by `#[autodiff_forward]`; \
                         call the reverse derivative once per seed instead",
                    ));
                }
                first = false;
                continue;
            }
            first = false;
            let id: Ident = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!("expected an activity ({})", mode.allowed()),
                )
            })?;
            match Activity::from_ident(&id) {
                Some(a) => acts.push((a, id.span())),
                None => {
                    return Err(syn::Error::new(
                        id.span(),
                        format!(
                            "unknown activity `{id}`; `#[{}]` accepts {}",
                            mode.attr_name(),
                            mode.allowed()
                        ),
                    ));
                }
            }
        }
        Ok(Attr {
            mode,
            name,
            width,
            acts,
        })
    };
    parser.parse2(args)
}
