//! The `#[autodiff_forward]` / `#[autodiff_reverse]` attribute on a function of a source file,
//! read as the compiler options it stands for, so that `ferrad diff FILE.rs --function NAME`
//! shows the derivative the attribute compiles (its `Const` parameters without shadows, an
//! `ActiveOnly` primal dropped), not the one with every float parameter active.
//!
//! ```
//! let src = "#[autodiff_reverse(d_f, Duplicated, Const, ActiveOnly)]
//!            fn f(x: &[f64], w: &[f64]) -> f64 { x[0] * w[0] }";
//! let spec = ferrad_front::attr::attribute_spec(src, "f").unwrap().unwrap();
//! assert!(spec.reverse);
//! assert_eq!(spec.active, [true, false]);
//! assert!(spec.drop_primal);
//! ```

use syn::punctuated::Punctuated;
use syn::{Expr, Lit, Token};

/// What an attribute asks of the compiler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrSpec {
    /// `#[autodiff_reverse]` (else `#[autodiff_forward]`).
    pub reverse: bool,
    /// Tangents per forward pass (1 unless the attribute gives a width).
    pub width: usize,
    /// Per parameter: differentiated (`Active`, `Duplicated`, `DuplicatedOnly`, `Dual`,
    /// `Dualv`, `DualOnly`) or not (`Const`).
    pub active: Vec<bool>,
    /// The return is `ActiveOnly`: the derivative drops the primal.
    pub drop_primal: bool,
    /// The attribute as written, for messages.
    pub text: String,
}

/// The `#[autodiff_*]` attribute of free function `name` in `src`: `Ok(None)` if it has none.
///
/// # Errors
/// A message if the source does not parse, has no such function, or the attribute does not
/// read as a derivative name, an optional width and one activity per parameter (and one for
/// the result, if the function returns one).
pub fn attribute_spec(src: &str, name: &str) -> Result<Option<AttrSpec>, String> {
    let file = syn::parse_file(src).map_err(|e| format!("cannot parse the file: {e}"))?;
    let func = crate::free_fn(&file, name)
        .ok_or_else(|| format!("no free function `{name}` in the file"))?;
    let Some((attr, reverse)) = func.attrs.iter().find_map(|a| {
        let last = a.path().segments.last()?.ident.to_string();
        match last.as_str() {
            "autodiff_reverse" => Some((a, true)),
            "autodiff_forward" => Some((a, false)),
            _ => None,
        }
    }) else {
        return Ok(None);
    };
    let text = quote_attr(attr);
    let args = attr
        .parse_args_with(Punctuated::<Expr, Token![,]>::parse_terminated)
        .map_err(|e| format!("{text}: {e}"))?;
    let mut args = args.into_iter().skip(1).peekable(); // the derivative's name
    let mut width = 1;
    if let Some(Expr::Lit(l)) = args.peek()
        && let Lit::Int(n) = &l.lit
    {
        width = n.base10_parse().map_err(|e| format!("{text}: {e}"))?;
        args.next();
    }
    let acts: Vec<String> = args
        .map(|e| match e {
            Expr::Path(p) if p.path.get_ident().is_some() => {
                Ok(p.path.segments[0].ident.to_string())
            }
            _ => Err(format!("{text}: expected an activity")),
        })
        .collect::<Result<_, _>>()?;
    let returns = !matches!(func.sig.output, syn::ReturnType::Default);
    let n = func.sig.inputs.len();
    if acts.len() != n + usize::from(returns) {
        return Err(format!(
            "{text}: {} activities for {n} parameter(s){}",
            acts.len(),
            if returns { " and a result" } else { "" }
        ));
    }
    let active = acts[..n]
        .iter()
        .map(|a| match a.as_str() {
            "Const" => Ok(false),
            "Active" | "Duplicated" | "DuplicatedOnly" | "Dual" | "Dualv" | "DualOnly" => Ok(true),
            other => Err(format!("{text}: unknown activity `{other}`")),
        })
        .collect::<Result<_, _>>()?;
    let drop_primal = returns && acts[n] == "ActiveOnly";
    Ok(Some(AttrSpec {
        reverse,
        width,
        active,
        drop_primal,
        text,
    }))
}

/// `#[path(args)]` as written (tokens re-spaced).
fn quote_attr(a: &syn::Attribute) -> String {
    let path: Vec<String> = a
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let args = match &a.meta {
        syn::Meta::List(l) => l.tokens.to_string().replace(" ,", ","),
        _ => String::new(),
    };
    format!("#[{}({args})]", path.join("::"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_attributes_give_their_width_and_tangents() {
        let src = "#[ferrad::autodiff_forward(df, 4, Dualv, Const, Dual)]
                   fn f(x: &[f64], n: usize) -> f64 { x[0] }";
        let spec = attribute_spec(src, "f").unwrap().unwrap();
        assert!(!spec.reverse);
        assert_eq!((spec.width, spec.active.clone()), (4, vec![true, false]));
        assert!(!spec.drop_primal);
        assert!(
            spec.text.starts_with("#[ferrad::autodiff_forward("),
            "{}",
            spec.text
        );
    }

    #[test]
    fn no_attribute_is_none_and_a_wrong_one_is_an_error() {
        assert_eq!(attribute_spec("fn f(x: f64) -> f64 { x }", "f"), Ok(None));
        let wrong_count = "#[autodiff_reverse(df, Active)] fn f(x: f64) -> f64 { x }";
        let e = attribute_spec(wrong_count, "f").unwrap_err();
        assert!(
            e.contains("1 activities for 1 parameter(s) and a result"),
            "{e}"
        );
        let unknown = "#[autodiff_reverse(df, Shiny, Active)] fn f(x: f64) -> f64 { x }";
        let e = attribute_spec(unknown, "f").unwrap_err();
        assert!(e.contains("unknown activity `Shiny`"), "{e}");
        assert!(attribute_spec("fn g() {}", "f").is_err());
    }
}
