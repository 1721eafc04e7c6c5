//! The functions compiled bodies may call: every function whose body the compiled backend
//! lowered, kept with its IR so that a later annotated function in the same file that calls it
//! lowers to an IR call (the compiler inlines it) instead of falling back to operator
//! overloading.
//!
//! A proc macro sees one item at a time, so the lowered functions are kept in a process-wide
//! table keyed by source file and name, like the registry of annotated names in
//! [`crate::rewrite`]. An expansion that does not find a callee (another file, a function
//! outside the subset, another expansion order) lowers nothing and keeps the fallback.

use std::collections::HashMap;
use std::sync::Mutex;

use ferrad_front::{Callee, ParamKind};
use syn::Ident;

type Table = HashMap<(String, String), Callee>;

static LOWERED: Mutex<Option<Table>> = Mutex::new(None);

/// Records that function `name` of the current file lowered to `module` with `params`.
pub fn remember(name: &Ident, params: Vec<ParamKind>, module: &str) {
    let key = (crate::rewrite::file_of(name.span()), name.to_string());
    let callee = Callee::from_module(&name.to_string(), params, module);
    if let Ok(mut t) = LOWERED.lock() {
        t.get_or_insert_with(HashMap::new).insert(key, callee);
    }
}

/// A resolver for [`ferrad_front::lower_fn_with`]: the functions of `at`'s file lowered so far.
pub fn resolver(at: &Ident) -> impl Fn(&str) -> Option<Callee> {
    let file = crate::rewrite::file_of(at.span());
    move |name: &str| {
        let t = LOWERED.lock().ok()?;
        t.as_ref()?.get(&(file.clone(), name.to_string())).cloned()
    }
}
