//! num-dual (<https://crates.io/crates/num-dual>) as an in-process peer: the gradient of F with
//! `DualSVec64<10>` (one forward pass with 10 tangents, like ferrad's `forward-dualvec`) and
//! the 10×10 Hessian of F with `Dual2SVec64<10>`.

use crate::bench::cases::Mode;

/// A row of this peer in a build without its feature (see [`super::not_built`]).
#[cfg(not(feature = "peers-num-dual"))]
fn not_built(name: &'static str) -> Mode {
    super::not_built(name, "peers-num-dual")
}

/// The num-dual row of F: `num_dual::gradient` on `DualSVec64<10>`.
pub fn f_gradient() -> Mode {
    #[cfg(feature = "peers-num-dual")]
    {
        imp::f_gradient()
    }
    #[cfg(not(feature = "peers-num-dual"))]
    {
        not_built("num-dual-dualvec")
    }
}

/// The num-dual row of FH: `num_dual::hessian` on `Dual2SVec64<10>`.
pub fn f_hessian() -> Mode {
    #[cfg(feature = "peers-num-dual")]
    {
        imp::f_hessian()
    }
    #[cfg(not(feature = "peers-num-dual"))]
    {
        not_built("num-dual-hessian")
    }
}

#[cfg(feature = "peers-num-dual")]
mod imp {
    use nalgebra::SVector;
    use num_dual::{Dual2SVec64, DualNum, DualSVec64};

    use crate::bench::cases::{Mode, ModeKind, mode};
    use crate::bench::problems::{F_P, F_SAMPLES};

    /// F written for num-dual's number types (DESIGN §6), the same loop as `f_loss`.
    fn f_loss<D: DualNum<Primitive = f64> + Copy>(p: &SVector<D, 10>) -> D {
        let mut s = D::zero();
        for k in 1..=F_SAMPLES {
            let t = k as f64;
            for i in 0..5 {
                s += (p[i] * t).sin() * (p[5 + i] * -t).exp();
            }
        }
        s
    }

    pub fn f_gradient() -> Mode {
        let mut m = mode("num-dual-dualvec", ModeKind::Peer, || {
            let (v, g) = num_dual::gradient(
                |p: SVector<DualSVec64<10>, 10>| f_loss(&p),
                &SVector::from(F_P),
            );
            (v, g.iter().copied().collect())
        });
        m.note = "PEER: num-dual 0.15 gradient, DualSVec64<10>, 1 pass".into();
        m
    }

    pub fn f_hessian() -> Mode {
        let mut m = mode("num-dual-hessian", ModeKind::Peer, || {
            let (v, _, h) = num_dual::hessian(
                |p: SVector<Dual2SVec64<10>, 10>| f_loss(&p),
                &SVector::from(F_P),
            );
            let rows = (0..10).flat_map(|i| (0..10).map(move |j| (i, j)));
            (v, rows.map(|ij| h[ij]).collect())
        });
        m.note = "PEER: num-dual 0.15 hessian, Dual2SVec64<10>, 1 pass".into();
        m
    }
}
