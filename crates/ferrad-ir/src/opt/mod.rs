//! The optimizer: small passes, each rebuilding or editing a function, run after AD.
//!
//! | pass | what it does |
//! |---|---|
//! | [`fold`] | evaluates pure operations on constants (exactly, with the interpreter's semantics) |
//! | [`simplify`] | algebraic identities allowed by the [`FloatPolicy`] |
//! | [`cse`] | global value numbering over the region tree (commutative operands normalized) |
//! | [`forward_store`] | a load after a store (or load) of the same element in the same block reuses the value |
//! | [`dead_store`] | a store that a later store to the same element in the same block overwrites, unread, is deleted |
//! | [`licm`] | hoists loop-invariant pure operations out of loops |
//! | [`fuse`] | fuses a loop with the next one over the same range (the forward sweep into the reverse) |
//! | [`dce`] | removes unused values, unused loop-carried values, and buffers that are written but never read |
//!
//! # IEEE policy
//! [`FloatPolicy::Exact`] allows only rewrites that give bit-identical results for every input,
//! NaNs and signed zeros included (`x * 1 → x`, `x - 0 → x`, `x + -0 → x`, `--x → x`).
//! [`FloatPolicy::NoSignedZeros`] (the default) also treats `+0` and `-0` as equal
//! (`x + 0 → x`, `0 - x → -x`, `mul_add(a, b, 0) → a * b`): results agree except possibly in
//! the sign of a zero. [`FloatPolicy::Finite`] further assumes no NaN or infinity reaches the
//! code (`x * 0 → 0`, `x - x → 0`), as `-ffinite-math-only` does. Fusing a reverse loop into
//! a forward loop reorders a sum (see [`fuse`]) and is only done when [`OptOptions::reassociate`]
//! is set (the default).
//!
//! Invariant: every pass preserves the interpreter semantics up to the chosen policy, and its
//! output verifies (checked after every pass in debug builds).

use crate::ir::Function;
use crate::verify::debug_verify;

pub mod cse;
pub mod dce;
pub mod dead_store;
pub mod fold;
pub mod forward_store;
pub mod fuse;
pub mod licm;
pub mod simplify;

/// Which floating-point identities [`simplify`] may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FloatPolicy {
    /// Bit-identical results only.
    Exact,
    /// Signed zeros may change (`x + 0 → x`).
    #[default]
    NoSignedZeros,
    /// Also assume finite values (`x * 0 → 0`).
    Finite,
}

/// Options of [`optimize`].
#[derive(Clone, Copy, Debug)]
pub struct OptOptions {
    /// The floating-point policy.
    pub float: FloatPolicy,
    /// Allow loop fusion that reverses the order of a reduction.
    pub reassociate: bool,
}

impl Default for OptOptions {
    fn default() -> Self {
        OptOptions {
            float: FloatPolicy::NoSignedZeros,
            reassociate: true,
        }
    }
}

/// Instruction counts around [`optimize`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OptStats {
    /// Instructions before (nested ones included).
    pub before: usize,
    /// Instructions after.
    pub after: usize,
    /// `(pass, instructions after it)` in the order the passes ran.
    pub passes: Vec<(&'static str, usize)>,
}

fn run(
    f: Function,
    name: &'static str,
    stats: &mut OptStats,
    pass: impl FnOnce(&Function) -> Function,
) -> Function {
    let g = pass(&f);
    debug_verify(&g, name);
    stats.passes.push((name, g.inst_count()));
    g
}

/// Runs the pipeline to a fixed point (at most four rounds) and reports op counts.
pub fn optimize(f: &Function, opts: &OptOptions) -> (Function, OptStats) {
    let mut stats = OptStats {
        before: f.inst_count(),
        ..OptStats::default()
    };
    let mut f = f.clone();
    for _ in 0..4 {
        let n = f.inst_count();
        let text = crate::print::print_function(&f);
        f = run(f, "fold", &mut stats, fold::fold);
        f = run(f, "simplify", &mut stats, |g| {
            simplify::simplify(g, opts.float)
        });
        f = run(f, "cse", &mut stats, cse::cse);
        f = run(f, "forward_store", &mut stats, forward_store::forward_store);
        f = run(f, "dead_store", &mut stats, dead_store::dead_store);
        f = run(f, "dce", &mut stats, dce::dce);
        f = run(f, "licm", &mut stats, licm::licm);
        f = run(f, "fuse", &mut stats, |g| fuse::fuse(g, opts.reassociate));
        f = run(f, "cse", &mut stats, cse::cse);
        f = run(f, "dce", &mut stats, dce::dce);
        if f.inst_count() == n && crate::print::print_function(&f) == text {
            break;
        }
    }
    stats.after = f.inst_count();
    (f, stats)
}

impl std::fmt::Display for OptStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "instructions: {} -> {}", self.before, self.after)
    }
}
