//! Reverse mode: [`Var`] values recorded on a [`Tape`], and the backward sweep.

mod nodes;
mod recorded;
pub(crate) mod registry;
mod replay;
mod tape;
mod var;

pub use recorded::RecordedTape;
pub use tape::{Adjoints, Tape, TapeStats, release_pooled_memory};
pub use var::Var;

/// `f(x)` and `∇f(x)` of a closure over [`Var<f64>`]: one recording, one sweep.
///
/// ```
/// use ferrad_core::prelude::*;
/// let (y, g) = ferrad_core::reverse::gradient_with(|x| x[0] * x[1].exp(), &[3.0, 0.0]);
/// assert_eq!((y, g), (3.0, vec![1.0, 3.0]));
/// ```
pub fn gradient_with(f: impl FnOnce(&[Var<f64>]) -> Var<f64>, x: &[f64]) -> (f64, Vec<f64>) {
    let tape = Tape::<f64>::new();
    let xs = tape.vars(x);
    let y = f(&xs);
    let g = tape.adjoints_wrt(&[(y, 1.0)], &xs);
    (y.val(), g)
}
