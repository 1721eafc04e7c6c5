//! ferrad-core: the `Real` trait, one table of derivative rules, forward mode (`Dual`,
//! `DualVec`), reverse mode (`Var` on a `Tape`), custom rules and the high-level API.
//!
//! Write a function once, generic over [`Real`], and differentiate it in every mode:
//!
//! ```
//! use ferrad_core::prelude::*;
//! fn f<T: Real>(x: &[T]) -> T {
//!     x.iter().map(|&v| v.tanh().powi(3) + v * v).sum()
//! }
//! let f = ferrad_core::scalar_fn!(f);
//! let x = [0.5, -1.0, 2.0];
//! let (y, g) = ferrad_core::gradient(&f, &x);             // reverse
//! let (_, gf) = ferrad_core::gradient_forward(&f, &x);    // chunked forward
//! let (_, _, hv) = ferrad_core::hvp(&f, &x, &[1.0, 0.0, 0.0]); // forward over reverse
//! for i in 0..3 { assert!((g[i] - gf[i]).abs() < 1e-14); }
//! assert!(hv[1] == 0.0 && hv[2] == 0.0);
//! # let _ = y;
//! ```

pub mod api;
pub mod checkpoint;
pub mod custom;
pub mod debug;
pub mod error;
pub mod forward;
pub mod lift;
pub mod math;
pub mod mixed;
pub mod par;
pub mod real;
pub mod reverse;
pub mod rules;
pub mod scratch;
pub mod simd;
pub mod stdrules;

pub use api::{
    GradCheck, ScalarFn, VectorFn, central_differences, check_gradient, derivative, gradient,
    gradient_forward, hessian, hvp, jacobian, jvp, vjp,
};
pub use custom::{CustomRule, apply_rule};
pub use error::Error;
pub use forward::{Dual, Dual2Vec, DualVec};
pub use real::{Real, Scalar};
pub use reverse::{Tape, Var};

/// Everything a user of the generic API needs in scope.
pub mod prelude {
    pub use crate::api::{ScalarFn, VectorFn};
    pub use crate::custom::{CustomRule, apply_rule};
    pub use crate::forward::{Dual, Dual2Vec, DualVec};
    pub use crate::real::{Real, Scalar};
    pub use crate::reverse::{Tape, Var};
    pub use num_traits::{Float, FloatConst};
}
