//! The seed benchmarks of DESIGN §6: generic definitions, hand-written derivatives (the
//! practical limit), and the reference values every mode is checked against.

use ferrad::prelude::*;

/// Number of time samples in benchmark F.
pub const F_SAMPLES: usize = 100_000;

/// Parameters of benchmark F.
pub const F_P: [f64; 10] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.01, 0.02, 0.03, 0.04, 0.05];

/// Reference loss and gradient entries of F: `(value, [(index, ∂loss/∂p_index)])`.
pub const F_REF: (f64, &[(usize, f64)]) = (
    2.248195627699457e+01,
    &[
        (0, -9.713268349016758e+01),
        (1, -2.434582580517401e+01),
        (2, -1.086696238947319e+01),
        (9, -7.840243609283328e-01),
    ],
);

/// Reference values of R at n = 50: loss, first gradient entries and the gradient's norm.
pub const R50_REF: (f64, &[(usize, f64)], f64) = (
    2.512319765985212e+01,
    &[
        (0, 2.430488478694623),
        (1, 2.567448803828114),
        (2, 0.3400414730735312),
    ],
    10.88526264882785,
);

/// Reference values of H (H·v of R) at n = 50: first entries and norm.
pub const H50_REF: (&[(usize, f64)], f64) = (
    &[
        (0, 1.147897752224595),
        (1, -0.7984923929438998),
        (2, -2.76425652161373),
    ],
    10.95369564510562,
);

/// F: `Σₖ Σᵢ sin(tₖ·pᵢ)·exp(−p₅₊ᵢ·tₖ)`, `tₖ = k`, written once for every mode.
pub fn f_loss<T: Real>(p: &[T]) -> T {
    let mut s = T::zero();
    for k in 1..=F_SAMPLES {
        let t = k as f64;
        for i in 0..5 {
            s += (p[i] * t).sin() * (p[5 + i] * -t).exp();
        }
    }
    s
}

/// R: `Σᵢ tanh(xᵢ)³ + xᵢ²`.
pub fn r_loss<T: Real>(x: &[T]) -> T {
    x.iter().map(|&v| v.tanh().powi(3) + v * v).sum()
}

/// R in single precision (for the reduced-precision tapes).
pub fn r_loss32<T: Real<f32>>(x: &[T]) -> T {
    x.iter().map(|&v| v.tanh().powi(3) + v * v).sum()
}

/// [`r_loss32`] as a single-precision function.
pub struct ProblemR32;
impl ferrad::mixed::ScalarFn32 for ProblemR32 {
    fn eval<T: Real<f32>>(&self, x: &[T]) -> T {
        r_loss32(x)
    }
}

/// The inputs of R: `xᵢ = sin(i)`, `i = 1..=n`.
pub fn r_input(n: usize) -> Vec<f64> {
    (1..=n).map(|i| (i as f64).sin()).collect()
}

/// The direction of H: `vᵢ = cos(i)`.
pub fn h_direction(n: usize) -> Vec<f64> {
    (1..=n).map(|i| (i as f64).cos()).collect()
}

/// Hand-written gradient of F: one fused loop.
pub fn f_grad_hand(p: &[f64]) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; 10];
    let mut loss = 0.0;
    for k in 1..=F_SAMPLES {
        let t = k as f64;
        for i in 0..5 {
            let (s, c) = (t * p[i]).sin_cos();
            let e = (-p[5 + i] * t).exp();
            loss += s * e;
            g[i] += t * c * e;
            g[5 + i] -= t * s * e;
        }
    }
    (loss, g)
}

/// Hand-written Hessian of F (the only non-zeros couple pᵢ with p₅₊ᵢ).
pub fn f_hessian_hand(p: &[f64]) -> Vec<Vec<f64>> {
    let mut h = vec![vec![0.0; 10]; 10];
    for k in 1..=F_SAMPLES {
        let t = k as f64;
        for i in 0..5 {
            let (s, c) = (t * p[i]).sin_cos();
            let e = (-p[5 + i] * t).exp();
            let t2 = t * t;
            h[i][i] -= t2 * s * e;
            h[i][5 + i] -= t2 * c * e;
            h[5 + i][5 + i] += t2 * s * e;
        }
    }
    for i in 0..5 {
        h[5 + i][i] = h[i][5 + i];
    }
    h
}

/// Hand-written gradient of R.
pub fn r_grad_hand(x: &[f64], g: &mut [f64]) -> f64 {
    let mut loss = 0.0;
    for (gi, &xi) in g.iter_mut().zip(x) {
        let t = xi.tanh();
        let t2 = t * t;
        loss += t2 * t + xi * xi;
        *gi = 3.0 * t2 * (1.0 - t2) + 2.0 * xi;
    }
    loss
}

/// Hand-written Hessian-vector product of R (the Hessian is diagonal).
pub fn r_hvp_hand(x: &[f64], v: &[f64], hv: &mut [f64]) {
    for ((h, &xi), &vi) in hv.iter_mut().zip(x).zip(v) {
        let t = xi.tanh();
        let s = 1.0 - t * t;
        *h = (6.0 * t * s * s - 6.0 * t * t * t * s + 2.0) * vi;
    }
}

/// [`f_loss`] as a [`ScalarFn`].
pub struct ProblemF;
impl ScalarFn for ProblemF {
    fn eval<T: Real>(&self, x: &[T]) -> T {
        f_loss(x)
    }
}

/// [`r_loss`] as a [`ScalarFn`].
pub struct ProblemR;
impl ScalarFn for ProblemR {
    fn eval<T: Real>(&self, x: &[T]) -> T {
        r_loss(x)
    }
}
