//! `#[autodiff_forward]` and `#[autodiff_reverse]` on stable Rust, with exactly the grammar and
//! generated signatures of nightly `std::autodiff`, so code moves between the two by changing
//! the import (`use ferrad::{autodiff_forward, autodiff_reverse};`).
//!
//! The annotated function is kept as written. The macro adds a generic twin of it (the body
//! with `f64` replaced by a type parameter `__T: ferrad::Real`), and for each attribute the
//! requested derivative: forward mode runs the twin on `ferrad::Dual` / `ferrad::DualVec`
//! numbers (compiled dual-number code, no tape), reverse mode runs it on `ferrad::Var` on a
//! fresh `ferrad::Tape` and sweeps once. Because the derivatives are themselves generic
//! underneath, a derivative can be differentiated again: forward over reverse gives a
//! Hessian-vector product, which `std::autodiff` cannot do today.
//!
//! Invariant: the generated public function has std::autodiff's signature with concrete
//! `f64`/`f32` types and only forwards to its generic twin; all arithmetic runs through
//! ferrad's one rule table, so derivatives agree with `ferrad::gradient`, `ferrad::jvp` and
//! `ferrad::hvp` to rounding.
//!
//! See [`macro@autodiff_forward`] and [`macro@autodiff_reverse`] for the grammar.
//!
//! # Differences from `std::autodiff`
//!
//! The grammar and the generated signatures are std's; these are the places where ferrad
//! says no or does more:
//!
//! - `DuplicatedOnly` / `DualOnly` inputs behave like `Duplicated` / `Dual`: the primal is still
//!   computed and the generated function stays safe (std makes it `unsafe`). One difference is
//!   defined rather than left to chance: a `DualOnly` `&mut` argument keeps its primal contents
//!   (only its shadow receives the tangent), so the compiled forward-over-reverse H·v skips
//!   computing and storing the gradient itself.
//! - `ActiveOnly` is accepted only as the return activity (std accepts it on inputs and then
//!   returns no gradient for them); `Active` only on `f64`/`f32` scalars; `Dualv` only on
//!   slices and not on the return (std's `Dualv` return type, `(f64, f64)`, cannot hold WIDTH
//!   tangents: use `Dual` with a WIDTH, which returns `[f64; WIDTH + 1]`).
//! - A WIDTH greater than 1 is a forward-mode feature here.
//! - Derivatives nest (forward over reverse for H·v, forward over forward), and calls to
//!   `Real`-generic functions and custom rules are differentiated through ferrad's rules.
//!
//! # Limits of the current (operator-overloading) backend
//!
//! - A call `g(…)` inside an annotated body reaches `g`'s derivative when `g` is annotated (or
//!   generated) *earlier in the same file*; otherwise `g` must be generic over
//!   `T: ferrad::Real`.
//! - References to a generic number have no arithmetic, so iterator items are taken by value:
//!   the macro rewrites `x.iter().sum()`, and closures `|v|` / `|(a, b)|` given to `map` or
//!   `for_each` on `x.iter()` / `x.iter().zip(…)`, itself; other adaptors (`fold`, `filter`…)
//!   take their items by pattern (`|acc, &v|`) or after `.copied()`.
//! - Free functions only (no `self`, no associated functions), no `async`, no generic type
//!   parameters (lifetimes and const generics are fine), no items using floats nested in the
//!   body. Each is a `compile_error!` that says so.
//! - Outside the compiled subset (below), reverse mode records a tape (`ferrad::Tape`) per call.
//!
//! # The compiled backend
//!
//! When the body lies in a simple subset — `f64`, `&[f64]` and integer parameters, `let`/`let mut`
//! scalars, `for i in a..b` (or `a..=b`) loops and `if`/`else` whose state is the `let mut`
//! scalars assigned inside, indexing, `len()`, `+ - * /`, comparisons, unary minus, literals,
//! `as f64`, the float methods of the rule table, a final expression or `return` — and the
//! activities are reverse `Active`/`Const` scalars, `Duplicated`/`Const` slices and an
//! `Active`/`ActiveOnly` return, or forward `Dual`/`Const` scalars, `Dual`/`Dualv`/`Const` slices and a
//! `Dual`/`DualOnly` return, the macro lowers the body to ferrad-ir, differentiates and
//! optimizes it at expansion time, and the generated function runs that fused, tape-free code. Anything else (or a compiler error) silently keeps
//! the operator-overloading backend. The signature is the same either way; the hidden
//! `const __FERRAD_BACKEND_<NAME>: &str` (`"ir"` or `"overload"`) says which one was used.
//!
//! Nesting is compiled too: a `#[autodiff_forward]` function (width 1) whose body is one call
//! to a reverse derivative compiled earlier in the same file, with its parameters, literals
//! and `&mut` gradient buffers as arguments, is differentiated from the primal's IR in
//! forward-over-reverse mode, so H·v runs as one fused loop (see `nested.rs`). The call may
//! follow `g.fill(0.0);` on its gradient buffers: the gradient, and H·v in the shadow, then
//! overwrite their buffers instead of accumulating into them, and the compiled loop stores
//! H·v without reading the shadow:
//!
//! ```ignore
//! #[autodiff_forward(hvp, Dual, DualOnly)]
//! fn grad(x: &[f64], g: &mut [f64]) {
//!     g.fill(0.0);
//!     d_f(x, g, 1.0);
//! }
//! // hvp(&x, &v, &mut g, &mut hv): hv = H·v, whatever hv held; g untouched (`DualOnly`)
//! ```
//!
//! A call to a function whose body was compiled earlier in the same file is lowered to an IR
//! call, which the compiler inlines (see `callees.rs`).
//!
//! The compiled code is shaped for SIMD (`ferrad_ir::Simd::ON`): elementary functions call
//! `ferrad::math` (≤ 2 ulp, inlined and vectorized, not bit-identical to std), buffers indexed
//! by a loop's index are re-sliced so indexing has no bounds checks, the body runs through
//! `ferrad::simd::dispatch` (compiled a second time for AVX2 + FMA, picked at run time; no
//! `target-cpu` flag needed; `dispatch_wide`, with an AVX-512 copy too, when its loops in
//! lanes call math functions), and a float sum carried by an innermost loop runs in 4 lanes
//! (partial sums over the iterations i ≡ 0, 1, 2, 3 mod 4 from the start, added pairwise, then
//! the sequential tail; 16 lanes when the loop calls a math function), which rounds it
//! differently from the sequential sum the source writes.
//!
//! # Features
//!
//! - `strict-order` (also a feature of `ferrad`, which forwards it): float sums stay
//!   sequential, in source order; everything else above stays on. A primal value made only of
//!   exactly rounded operations (`+ − × ÷ sqrt`) is then bit-identical to the plain function's.
//! - `parallel` (forwarded by `ferrad`'s `parallel` feature, on by default): an outermost loop
//!   whose iterations are independent except for float sums, and whose written buffers are
//!   indexed by the loop index only, runs in chunks of `ferrad::par::LOOP_CHUNK` iterations on
//!   `ferrad::par`'s thread pool once it has `2 × LOOP_CHUNK` iterations or more; each chunk sums
//!   its part, and the parts are added in chunk order, so the result is the same at every
//!   thread count. The thread count is `ferrad::par::set_threads`, else `FERRAD_THREADS`, else
//!   the machine's; 1 runs the chunks on the calling thread. With `strict-order` too, only
//!   loops without sums are chunked.

mod attr;
mod callees;
mod expand;
mod lower;
mod nested;
mod per_file;
mod rewrite;
mod sig;

use proc_macro::TokenStream;

/// Forward-mode derivative: `#[autodiff_forward(NAME[, WIDTH], INPUT_ACTIVITIES…, OUTPUT_ACTIVITY)]`.
///
/// Generates a new function `NAME` next to the annotated one (which is kept). One activity per
/// input, then one for the return value unless the function returns `()`:
///
/// | activity | on | generated |
/// |---|---|---|
/// | `Const` | anything | the argument as is; no tangent |
/// | `Dual` | any float argument (`f64`, `&[f64]`, `&mut f64`, arrays…) | a shadow of the **same type** right after it (WIDTH shadows `bx_0…` when WIDTH > 1): its tangent; a `&mut` shadow receives the output tangent |
/// | `DualOnly` | same | as `Dual`, but a `&mut` argument keeps its primal contents: only its shadow is written (H·v without the gradient) |
/// | `Dualv` | a slice, WIDTH > 1 | one shadow of WIDTH × len tangents, direction-major (`bx[k * n + i]`) |
/// | `Dual` return | an `f64`/`f32` result | returns `(primal, tangent)`; `[primal, t_0, …, t_{W-1}]` when WIDTH > 1 |
/// | `DualOnly` return | same | returns only the tangent (`[f64; WIDTH]` when WIDTH > 1) |
/// | `Const` return | any result | returns the primal |
///
/// The std::autodiff example, reproduced:
///
/// ```
/// use ferrad_macros::autodiff_forward;
///
/// #[autodiff_forward(rb_fwd1, Dual, Const, Dual)]
/// #[autodiff_forward(rb_fwd2, Const, Dual, Dual)]
/// #[autodiff_forward(rb_fwd3, Dual, Dual, Dual)]
/// fn rosenbrock(x: f64, y: f64) -> f64 {
///     (1.0 - x).powi(2) + 100.0 * (y - x.powi(2)).powi(2)
/// }
/// #[autodiff_forward(rb_inp_fwd, Dual, Dual, Dual)]
/// fn rosenbrock_inp(x: f64, y: f64, out: &mut f64) {
///     *out = (1.0 - x).powi(2) + 100.0 * (y - x.powi(2)).powi(2);
/// }
///
/// assert_eq!(rosenbrock(1.0, 3.0), 400.0);
/// assert_eq!(rb_fwd1(1.0, 1.0, 3.0), (400.0, -800.0));
/// assert_eq!(rb_fwd2(1.0, 3.0, 1.0), (400.0, 400.0));
/// // Seeding both arguments gives the sum of both tangents.
/// assert_eq!(rb_fwd3(1.0, 1.0, 3.0, 1.0), (400.0, -400.0));
/// let (mut out, mut dout) = (0.0, 0.0);
/// rb_inp_fwd(1.0, 1.0, 3.0, 1.0, &mut out, &mut dout);
/// assert_eq!((out, dout), (400.0, -400.0));
/// ```
///
/// Vector mode: `WIDTH` tangents in one pass (`ferrad::DualVec`):
///
/// ```
/// use ferrad_macros::autodiff_forward;
///
/// #[autodiff_forward(df2, 2, Dual, Dual, Dual)]
/// fn f(x: f64, y: f64) -> f64 {
///     x * x * y
/// }
/// // x shadows (1, 0), y shadows (0, 1): the gradient in one call.
/// assert_eq!(df2(2.0, 1.0, 0.0, 3.0, 0.0, 1.0), [12.0, 12.0, 4.0]);
/// ```
///
/// The body may use the Rust subset of DESIGN §3.4: `f64`/`f32` scalars, slices, `&mut`
/// slices, arrays, locals, `for`/`while`, `if`/`else`, early `return`, float methods and
/// `f64::consts`, `len()`, indexing, iterator chains (`x.iter().map(|&v| v * v).sum()`,
/// `zip`), `vec![…]`, calls to `Real`-generic functions (`fn h<T: ferrad::Real>(x: T) -> T`),
/// to custom rules (`ferrad::apply_rule`) and to functions annotated (or generated) earlier
/// in the same file. Errors (unknown activity, wrong count, an activity that does not fit the
/// type) are `compile_error!`s at the offending span that say what is allowed.
#[proc_macro_attribute]
pub fn autodiff_forward(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(attr::Mode::Forward, args.into(), item.into()).into()
}

/// Reverse-mode derivative: `#[autodiff_reverse(NAME, INPUT_ACTIVITIES…, OUTPUT_ACTIVITY)]`.
///
/// Generates a new function `NAME` next to the annotated one (which is kept). One activity per
/// input, then one for the return value unless the function returns `()`:
///
/// | activity | on | generated |
/// |---|---|---|
/// | `Const` | anything | the argument as is; no gradient |
/// | `Active` | an `f64`/`f32` scalar | its gradient is appended to the returned tuple |
/// | `Duplicated` | a reference (`&[f64]`, `&mut [f64]`, `&f64`, `&mut f64`, `&[f64; N]`, `&Vec<f64>`) | a `&mut` shadow right after it. For `&` inputs the gradient is **added** into the shadow; for a `&mut` argument the shadow holds the seed of its final value on entry and the gradient of its initial value on exit (so an output that is overwritten gets its seed reset to 0) |
/// | `DuplicatedOnly` | same | as `Duplicated` (ferrad still computes the primal; the function stays safe) |
/// | `Active` return | an `f64`/`f32` result | a seed argument `dret` appended last; returns `(primal, active gradients…)` |
/// | `ActiveOnly` return | same | as `Active` but the primal is dropped from the result |
/// | `Const` return | any result | returns the primal (plus active gradients) |
///
/// The std::autodiff examples, reproduced:
///
/// ```
/// use ferrad_macros::autodiff_reverse;
///
/// #[autodiff_reverse(rb_rev, Active, Active, Active)]
/// fn rosenbrock(x: f64, y: f64) -> f64 {
///     (1.0 - x).powi(2) + 100.0 * (y - x.powi(2)).powi(2)
/// }
/// #[autodiff_reverse(rb_inp_rev, Active, Active, Duplicated)]
/// fn rosenbrock_inp(x: f64, y: f64, out: &mut f64) {
///     *out = (1.0 - x).powi(2) + 100.0 * (y - x.powi(2)).powi(2);
/// }
///
/// assert_eq!(rb_rev(1.0, 3.0, 1.0), (400.0, -800.0, 400.0));
/// let mut output2 = 0.0;
/// let mut seed = 1.0;
/// let (dx2, dy2) = rb_inp_rev(1.0, 3.0, &mut output2, &mut seed);
/// assert_eq!((dx2, dy2, output2, seed), (-800.0, 400.0, 400.0, 0.0));
/// ```
///
/// Slices, and forward over reverse for a Hessian-vector product:
///
/// ```
/// use ferrad_macros::{autodiff_forward, autodiff_reverse};
///
/// #[autodiff_reverse(d_sumsq, Duplicated, Active)]
/// fn sumsq(x: &[f64]) -> f64 {
///     x.iter().map(|&v| v * v).sum()
/// }
/// let x = [1.0, 2.0, 3.0];
/// let mut dx = [0.0; 3];
/// assert_eq!(d_sumsq(&x, &mut dx, 1.0), 14.0);
/// assert_eq!(dx, [2.0, 4.0, 6.0]);
///
/// // `d_sumsq` is itself differentiable: H·v by forward over reverse.
/// #[autodiff_forward(hvp_sumsq, Dual, Dual)]
/// fn grad_sumsq(x: &[f64], g: &mut [f64]) {
///     d_sumsq(x, g, 1.0);
/// }
/// let (v, mut g, mut hv) = ([1.0, 0.0, 2.0], [0.0; 3], [0.0; 3]);
/// hvp_sumsq(&x, &v, &mut g, &mut hv);
/// assert_eq!((g, hv), ([2.0, 4.0, 6.0], [2.0, 0.0, 4.0]));
/// ```
///
/// See [`macro@autodiff_forward`] for the supported Rust subset.
#[proc_macro_attribute]
pub fn autodiff_reverse(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(attr::Mode::Reverse, args.into(), item.into()).into()
}
