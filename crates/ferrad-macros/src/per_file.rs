//! What earlier expansions in the same source file left for later ones.
//!
//! A proc macro sees one item at a time, so everything an annotated function needs to know about
//! another item of its file (that it is annotated, the IR its body lowered to, how its reverse
//! derivative was compiled) is kept in a process-wide [`PerFile`] table keyed by source file and
//! item name. A lookup that finds nothing (another file, another expansion order) is not an
//! error: the caller keeps the general path (a plain call, operator overloading).

use std::collections::BTreeMap;
use std::sync::Mutex;

use proc_macro2::Span;
use syn::Ident;

/// The source file of `span` (empty outside a macro expansion, as in this crate's unit tests).
pub(crate) fn file_of(span: Span) -> String {
    if proc_macro::is_available() {
        span.unwrap().file()
    } else {
        String::new()
    }
}

/// A process-wide table of `V`s keyed by (source file, item name).
pub(crate) struct PerFile<V> {
    map: Mutex<BTreeMap<(String, String), V>>,
}

impl<V: Clone> PerFile<V> {
    pub(crate) const fn new() -> Self {
        PerFile {
            map: Mutex::new(BTreeMap::new()),
        }
    }

    /// Records `v` for the item `name` of `name`'s file.
    pub(crate) fn insert(&self, name: &Ident, v: V) {
        let key = (file_of(name.span()), name.to_string());
        if let Ok(mut m) = self.map.lock() {
            m.insert(key, v);
        }
    }

    /// What was recorded for the item `name` of `file`.
    pub(crate) fn get(&self, file: &str, name: &str) -> Option<V> {
        let m = self.map.lock().ok()?;
        m.get(&(file.to_string(), name.to_string())).cloned()
    }

    /// What was recorded for the item `name` of `name`'s own file.
    pub(crate) fn get_at(&self, name: &Ident) -> Option<V> {
        self.get(&file_of(name.span()), &name.to_string())
    }
}
