//! echidna (<https://crates.io/crates/echidna>) as an in-process peer: the gradients of F and R
//! with `echidna::grad` (its Adept-style `Reverse<f64>` tape, like ferrad's `reverse-tape`) and
//! H·v of R with `echidna::hvp` (forward over reverse on its bytecode tape, recorded each call
//! like ferrad's `hvp-fwd-over-rev`).

use crate::bench::cases::Mode;

/// A row of this peer in a build without its feature (see [`super::not_built`]).
#[cfg(not(feature = "peers-echidna"))]
fn not_built(name: &'static str) -> Mode {
    super::not_built(name, "peers-echidna")
}

/// The echidna row of F: `echidna::grad` on `Reverse<f64>`.
pub fn f_gradient() -> Mode {
    #[cfg(feature = "peers-echidna")]
    {
        imp::f_gradient()
    }
    #[cfg(not(feature = "peers-echidna"))]
    {
        not_built("echidna-tape")
    }
}

/// The echidna row of R at size `n`: `echidna::grad` on `Reverse<f64>`.
pub fn r_gradient(n: usize) -> Mode {
    #[cfg(feature = "peers-echidna")]
    {
        imp::r_gradient(n)
    }
    #[cfg(not(feature = "peers-echidna"))]
    {
        let _ = n;
        not_built("echidna-tape")
    }
}

/// The echidna row of H at size `n`: `echidna::hvp` on its bytecode tape.
pub fn h_hvp(n: usize) -> Mode {
    #[cfg(feature = "peers-echidna")]
    {
        imp::h_hvp(n)
    }
    #[cfg(not(feature = "peers-echidna"))]
    {
        let _ = n;
        not_built("echidna-hvp")
    }
}

#[cfg(feature = "peers-echidna")]
mod imp {
    use echidna::{BReverse, Reverse, Scalar};

    use crate::bench::cases::{Mode, ModeKind, mode};
    use crate::bench::problems::{F_P, F_SAMPLES, h_direction, r_input};

    /// F written for echidna's number types (DESIGN §6), the same loop as `f_loss`. `t` and `-t`
    /// are plain f64 lifted to constants, as in `f_loss` (negating a constant `Reverse` would
    /// record a statement on echidna's tape).
    fn f_loss<T: Scalar<Float = f64>>(p: &[T]) -> T {
        let mut s = T::zero();
        for k in 1..=F_SAMPLES {
            let t = k as f64;
            let (tp, tn) = (T::from_f(t), T::from_f(-t));
            for i in 0..5 {
                s = s + (p[i] * tp).sin() * (p[5 + i] * tn).exp();
            }
        }
        s
    }

    /// R written for echidna's number types, the same sum as `r_loss`.
    fn r_loss<T: Scalar<Float = f64>>(x: &[T]) -> T {
        x.iter()
            .fold(T::zero(), |s, &v| s + (v.tanh().powi(3) + v * v))
    }

    /// `echidna::grad` of `f` at `x`, with the value read off the recorded output (`grad`
    /// returns only the gradient; the value is the output of the same recording pass).
    fn value_and_grad(f: fn(&[Reverse<f64>]) -> Reverse<f64>, x: &[f64]) -> (f64, Vec<f64>) {
        let mut value = f64::NAN;
        let g = echidna::grad(
            |x: &[Reverse<f64>]| {
                let y = f(x);
                value = y.value();
                y
            },
            x,
        );
        (value, g)
    }

    pub fn f_gradient() -> Mode {
        let mut m = mode("echidna-tape", ModeKind::Peer, || {
            value_and_grad(f_loss, &F_P)
        });
        m.note = "PEER: echidna 0.15 grad, Reverse<f64> tape (Adept-style), value from the \
                  recording"
            .into();
        m
    }

    pub fn r_gradient(n: usize) -> Mode {
        let x = r_input(n);
        let mut m = mode("echidna-tape", ModeKind::Peer, move || {
            value_and_grad(r_loss, &x)
        });
        m.note = "PEER: echidna 0.15 grad, Reverse<f64> tape (Adept-style), value from the \
                  recording"
            .into();
        m
    }

    pub fn h_hvp(n: usize) -> Mode {
        let (x, v) = (r_input(n), h_direction(n));
        let mut m = mode("echidna-hvp", ModeKind::Peer, move || {
            let mut value = f64::NAN;
            let (_, hv) = echidna::hvp(
                |x: &[BReverse<f64>]| {
                    let y = r_loss(x);
                    value = y.value();
                    y
                },
                &x,
                &v,
            );
            (value, hv)
        });
        m.note = "PEER: echidna 0.15 hvp, forward over reverse on its BytecodeTape (recorded \
                  each call)"
            .into();
        m
    }
}

#[cfg(test)]
mod tests {
    use crate::bench::cases::ModeKind;

    /// Every echidna row agrees with its case's reference (R and H at n = 50, and F), or, in a
    /// build without the feature, is a skipped row.
    #[test]
    fn echidna_rows_agree_or_are_skipped() {
        let problems = ["F".into(), "R".into(), "H".into()];
        let cases = crate::bench::all_cases(&problems, Some(50), true).unwrap();
        let mut rows = 0;
        for case in &cases {
            for m in case.modes.iter().filter(|m| m.name.starts_with("echidna-")) {
                rows += 1;
                assert_eq!(m.kind, ModeKind::Peer);
                if cfg!(feature = "peers-echidna") {
                    assert!(m.skip.is_none() && m.note.starts_with("PEER:"));
                    let (value, out) = (m.run)(Vec::new());
                    let e = (case.check)(m.kind, value, &out);
                    assert!(e < 1e-9, "{} {}: rel err {e}", case.name, m.name);
                } else {
                    assert!(m.skip.as_deref().unwrap().contains("peers-echidna"));
                }
            }
        }
        assert_eq!(rows, 3);
    }
}
