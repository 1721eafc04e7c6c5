//! The functions compiled bodies may call: every function whose body the compiled backend
//! lowered, kept with its IR so that a later annotated function in the same file that calls it
//! lowers to an IR call (the compiler inlines it) instead of falling back to operator
//! overloading.
//!
//! The lowered functions are kept in a [`PerFile`] table (see [`crate::per_file`]). An
//! expansion that does not find a callee (another file, a function outside the subset,
//! another expansion order) lowers nothing and keeps the fallback.

use ferrad_front::{Callee, ParamKind};
use syn::Ident;

use crate::per_file::{PerFile, file_of};

static LOWERED: PerFile<Callee> = PerFile::new();

/// Records that function `name` of the current file lowered to `module` with `params`.
pub fn remember(name: &Ident, params: Vec<ParamKind>, module: &str) {
    LOWERED.insert(name, Callee::from_module(&name.to_string(), params, module));
}

/// A resolver for [`ferrad_front::lower_fn_with`]: the functions of `at`'s file lowered so far.
pub fn resolver(at: &Ident) -> impl Fn(&str) -> Option<Callee> {
    let file = file_of(at.span());
    move |name: &str| LOWERED.get(&file, name)
}
