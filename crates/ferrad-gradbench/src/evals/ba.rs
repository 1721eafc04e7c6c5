//! `ba`: bundle adjustment (ADBench). `objective` gives the reprojection errors and the Zach
//! weight errors; `jacobian` their sparse Jacobian in the reference tool's CSR-like layout, of
//! which the protocol transmits the first 30 entries and the last.
//!
//! Mode: compiled reverse, block by block. Each observation's 2 reprojection errors depend on 15
//! inputs (11 camera parameters, 3 point coordinates, 1 weight), so its dense `2 × 15` block is
//! 2 reverse sweeps (one per row), where forward mode needs 15 tangents. The sweep is the
//! gradient of `s₀·e₀ + s₁·e₁` at `s = (1, 0)` and `(0, 1)`: [`reproj_dot`], straight-line
//! plain `f64` code (one branch) in the compiled subset of `#[ferrad::autodiff_reverse]`, so
//! ferrad-ir emits it as one fused, tape-free function whose adjoints stay in registers. The
//! weight error `1 − w²` depends on one input and takes one [`Dual`] pass. The sparsity pattern
//! is known from the structure, so no sparsity detection is needed.
//!
//! Invariant: [`reproj_dot`] equals `s · reproj_err(…)` of the generic [`reproj_err`] (which the
//! objective runs) to rounding, in both branches of the rotation, and its derivative uses the
//! compiled backend (`__FERRAD_BACKEND_d_reproj_dot == "ir"`), both tested.
//!
//! The input describes one camera, point, weight and feature that are replicated (`n` cameras,
//! `m` points, `p` observations), as the reference tool does; every block is still computed.

use ferrad::autodiff_reverse;
use ferrad::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::timing::{Evaluated, Prepare, Runs, parse};

const NCAM: usize = 11;

#[derive(Deserialize)]
struct Input {
    n: usize,
    m: usize,
    p: usize,
    cam: Vec<f64>,
    x: Vec<f64>,
    w: f64,
    feat: Vec<f64>,
}

/// A replicated bundle-adjustment problem.
#[derive(Clone, Debug)]
pub struct Ba {
    /// Cameras.
    pub n: usize,
    /// Points.
    pub m: usize,
    /// Observations.
    pub p: usize,
    /// `11·n` camera parameters `[r(3) C(3) f u0 v0 k1 k2]`.
    pub cams: Vec<f64>,
    /// `3·m` point coordinates.
    pub x: Vec<f64>,
    /// `p` weights.
    pub w: Vec<f64>,
    /// `2·p` (camera, point) indices.
    pub obs: Vec<usize>,
    /// `2·p` measured features.
    pub feats: Vec<f64>,
}

fn cross<T: Real>(a: &[T], b: &[T]) -> [T; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn rodrigues_rotate_point<T: Real>(rot: &[T], pt: &[T]) -> [T; 3] {
    let sqtheta = rot[0] * rot[0] + rot[1] * rot[1] + rot[2] * rot[2];
    if sqtheta.value() != 0.0 {
        let theta = sqtheta.sqrt();
        let (costheta, sintheta) = (theta.cos(), theta.sin());
        let inv = T::cst(1.0) / theta;
        let w = [rot[0] * inv, rot[1] * inv, rot[2] * inv];
        let wxp = cross(&w, pt);
        let tmp = (w[0] * pt[0] + w[1] * pt[1] + w[2] * pt[2]) * (-costheta + 1.0);
        core::array::from_fn(|i| pt[i] * costheta + wxp[i] * sintheta + w[i] * tmp)
    } else {
        let rxp = cross(rot, pt);
        core::array::from_fn(|i| pt[i] + rxp[i])
    }
}

/// The weighted reprojection error of point `x` seen by camera `cam` with weight `w`.
pub fn reproj_err<T: Real>(cam: &[T], x: &[T], w: T, feat: &[f64]) -> [T; 2] {
    let xo = [x[0] - cam[3], x[1] - cam[4], x[2] - cam[5]];
    let xcam = rodrigues_rotate_point(&cam[0..3], &xo);
    let mut proj = [xcam[0] / xcam[2], xcam[1] / xcam[2]];
    let rsq = proj[0] * proj[0] + proj[1] * proj[1];
    let factor = cam[9] * rsq + cam[10] * rsq * rsq + 1.0;
    proj[0] *= factor;
    proj[1] *= factor;
    let proj = [proj[0] * cam[6] + cam[7], proj[1] * cam[6] + cam[8]];
    [w * (proj[0] - feat[0]), w * (proj[1] - feat[1])]
}

/// `s₀·e₀ + s₁·e₁` for the weighted reprojection error `e = reproj_err(cam, x, w, feat)`, in the
/// compiled subset (the same arithmetic as [`reproj_err`]).
#[autodiff_reverse(
    d_reproj_dot,
    Duplicated,
    Duplicated,
    Active,
    Const,
    Const,
    Const,
    ActiveOnly
)]
pub fn reproj_dot(cam: &[f64], x: &[f64], w: f64, feat: &[f64], s0: f64, s1: f64) -> f64 {
    let p0 = x[0] - cam[3];
    let p1 = x[1] - cam[4];
    let p2 = x[2] - cam[5];
    let r0 = cam[0];
    let r1 = cam[1];
    let r2 = cam[2];
    let sqtheta = r0 * r0 + r1 * r1 + r2 * r2;
    let mut c0 = p0;
    let mut c1 = p1;
    let mut c2 = p2;
    if sqtheta != 0.0 {
        let theta = sqtheta.sqrt();
        let costheta = theta.cos();
        let sintheta = theta.sin();
        let inv = 1.0 / theta;
        let w0 = r0 * inv;
        let w1 = r1 * inv;
        let w2 = r2 * inv;
        let tmp = (w0 * p0 + w1 * p1 + w2 * p2) * (-costheta + 1.0);
        c0 = p0 * costheta + (w1 * p2 - w2 * p1) * sintheta + w0 * tmp;
        c1 = p1 * costheta + (w2 * p0 - w0 * p2) * sintheta + w1 * tmp;
        c2 = p2 * costheta + (w0 * p1 - w1 * p0) * sintheta + w2 * tmp;
    } else {
        c0 += r1 * p2 - r2 * p1;
        c1 += r2 * p0 - r0 * p2;
        c2 += r0 * p1 - r1 * p0;
    }
    let q0 = c0 / c2;
    let q1 = c1 / c2;
    let rsq = q0 * q0 + q1 * q1;
    let factor = cam[9] * rsq + cam[10] * rsq * rsq + 1.0;
    let e0 = w * ((q0 * factor) * cam[6] + cam[7] - feat[0]);
    let e1 = w * ((q1 * factor) * cam[6] + cam[8] - feat[1]);
    s0 * e0 + s1 * e1
}

/// The Zach weight error `1 − w²`.
pub fn w_err<T: Real>(w: T) -> T {
    -(w * w) + 1.0
}

/// The Jacobian in the reference layout: `rows` is the CSR row pointer (`3p + 1` entries),
/// `cols` and `vals` the column and value of each nonzero, row by row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SparseJacobian {
    /// Row pointer.
    pub rows: Vec<u32>,
    /// Column of each nonzero.
    pub cols: Vec<u32>,
    /// Value of each nonzero.
    pub vals: Vec<f64>,
}

impl Ba {
    fn from_input(inp: &Input) -> Result<Ba, String> {
        let bad = |what: String| Err(format!("ba: malformed input: {what}"));
        if inp.cam.len() != NCAM || inp.x.len() != 3 || inp.feat.len() != 2 {
            return bad(format!(
                "cam, x, feat must have 11, 3, 2 entries (got {}, {}, {})",
                inp.cam.len(),
                inp.x.len(),
                inp.feat.len()
            ));
        }
        if inp.n == 0 || inp.m == 0 || inp.p == 0 {
            return bad(format!(
                "n, m, p must be positive (got {}, {}, {})",
                inp.n, inp.m, inp.p
            ));
        }
        let (n, m, p) = (inp.n, inp.m, inp.p);
        Ok(Ba {
            n,
            m,
            p,
            cams: inp.cam.repeat(n),
            x: inp.x.repeat(m),
            w: vec![inp.w; p],
            obs: (0..p).flat_map(|i| [i % n, i % m]).collect(),
            feats: inp.feat.repeat(p),
        })
    }

    /// The reprojection errors (`2p`) and weight errors (`p`).
    pub fn objective(&self) -> (Vec<f64>, Vec<f64>) {
        let mut reproj = Vec::with_capacity(2 * self.p);
        for i in 0..self.p {
            let (c, pt) = (self.obs[2 * i], self.obs[2 * i + 1]);
            let e = reproj_err(
                &self.cams[c * NCAM..(c + 1) * NCAM],
                &self.x[pt * 3..pt * 3 + 3],
                self.w[i],
                &self.feats[2 * i..2 * i + 2],
            );
            reproj.extend_from_slice(&e);
        }
        let werr = self.w.iter().map(|&w| w_err(w)).collect();
        (reproj, werr)
    }

    /// The sparse Jacobian, by compiled reverse mode block by block, into `jac` (cleared first; its
    /// buffers are reused between calls, as the reference tool reuses its `SparseMat`).
    pub fn jacobian(&self, jac: &mut SparseJacobian) {
        let (n, m, p) = (self.n, self.m, self.p);
        let nnz = (NCAM + 3 + 1) * 2 * p + p;
        jac.rows.clear();
        jac.cols.clear();
        jac.vals.clear();
        jac.rows.reserve(3 * p + 1);
        jac.cols.reserve(nnz);
        jac.vals.reserve(nnz);
        jac.rows.push(0);
        // every column index fits a u32 if the largest does (checked once, not per entry)
        let _ = index(NCAM * n + 3 * m + p);
        for i in 0..p {
            let (c, pt) = (self.obs[2 * i], self.obs[2 * i + 1]);
            let cam = &self.cams[c * NCAM..(c + 1) * NCAM];
            let x = &self.x[pt * 3..pt * 3 + 3];
            let feat = &self.feats[2 * i..2 * i + 2];
            let (cam_col, x_col) = ((NCAM * c) as u32, (NCAM * n + 3 * pt) as u32);
            let w_col = (NCAM * n + 3 * m + i) as u32;
            for (s0, s1) in [(1.0, 0.0), (0.0, 1.0)] {
                let (mut d_cam, mut d_x) = ([0.0; NCAM], [0.0; 3]);
                let d_w = d_reproj_dot(cam, &mut d_cam, x, &mut d_x, self.w[i], feat, s0, s1, 1.0);
                let last = *jac.rows.last().expect("rows starts with 0");
                jac.rows.push(last + 15);
                // (ranges and slices: one capacity check per run, not one per entry)
                jac.cols.extend((0..NCAM as u32).map(|j| cam_col + j));
                jac.cols.extend((0..3).map(|j| x_col + j));
                jac.cols.push(w_col);
                jac.vals.extend_from_slice(&d_cam);
                jac.vals.extend_from_slice(&d_x);
                jac.vals.push(d_w);
            }
        }
        for i in 0..p {
            let (_, dw) = ferrad::derivative(w_err, self.w[i]);
            let last = *jac.rows.last().expect("rows starts with 0");
            jac.rows.push(last + 1);
            jac.cols.push(index(NCAM * n + 3 * m + i));
            jac.vals.push(dw);
        }
    }
}

/// A column or row index as the compact `u32` the output stores.
fn index(i: usize) -> u32 {
    u32::try_from(i).expect("ba: more than 2^32 columns")
}

fn excerpt<X: Copy>(v: &[X]) -> Vec<X> {
    let k = 2 * (NCAM + 4);
    let mut out: Vec<X> = v[..k.min(v.len())].to_vec();
    if let Some(&last) = v.last() {
        out.push(last);
    }
    out
}

/// `ba.evaluate`: `objective` or `jacobian`.
pub fn evaluate(function: &str, input: &Value) -> Result<Evaluated, String> {
    let prep = Prepare::start();
    let inp: Input = parse("ba", input)?;
    let runs = Runs::from_input(input)?;
    let ba = Ba::from_input(&inp)?;
    match function {
        "objective" => Ok(prep.run(
            runs,
            || ba.objective(),
            |(reproj, werr)| {
                json!({
                    "reproj_error": {"elements": &reproj[..2], "repeated": reproj.len() / 2},
                    "w_err": {"element": werr[0], "repeated": werr.len()},
                })
            },
        )),
        "jacobian" => {
            if (NCAM * ba.n + 3 * ba.m + ba.p) as u64 >= u64::from(u32::MAX)
                || 31 * ba.p as u64 >= u64::from(u32::MAX)
            {
                return Err("ba: the Jacobian is too large for 32-bit indices".into());
            }
            let buffer = core::cell::Cell::new(SparseJacobian::default());
            Ok(prep.run(
                runs,
                || {
                    let mut jac = buffer.take();
                    ba.jacobian(&mut jac);
                    buffer.set(jac);
                },
                |()| {
                    let j = buffer.take();
                    json!({"rows": excerpt(&j.rows), "cols": excerpt(&j.cols), "vals": excerpt(&j.vals)})
                },
            ))
        }
        _ => Err(super::unknown_function(
            "ba",
            function,
            &["objective", "jacobian"],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproj_dot_is_compiled_and_matches_forward_mode_of_reproj_err() {
        assert_eq!(__FERRAD_BACKEND_d_reproj_dot, "ir");
        let feat = [12.0, -7.0];
        let x = [0.3, -0.2, 2.0];
        let w = 0.8;
        for rot in [[0.1, -0.2, 0.3], [0.0, 0.0, 0.0]] {
            let mut cam = vec![0.0; NCAM];
            cam[..3].copy_from_slice(&rot);
            cam[3..].copy_from_slice(&[0.5, -0.4, -3.0, 200.0, 10.0, -5.0, 1e-3, -2e-4]);
            let e = reproj_err(&cam, &x, w, &feat);
            // the same block by forward mode of the generic reproj_err
            let cv: Vec<DualVec<f64, 15>> =
                (0..NCAM).map(|j| DualVec::variable(cam[j], j)).collect();
            let xv: Vec<DualVec<f64, 15>> =
                (0..3).map(|j| DualVec::variable(x[j], NCAM + j)).collect();
            let ef = reproj_err(&cv, &xv, DualVec::variable(w, NCAM + 3), &feat);
            for (r, (s0, s1)) in [(1.0, 0.0), (0.0, 1.0)].into_iter().enumerate() {
                let y = reproj_dot(&cam, &x, w, &feat, s0, s1);
                assert!(
                    (y - e[r]).abs() < 1e-12 * (1.0 + e[r].abs()),
                    "{y} vs {}",
                    e[r]
                );
                let (mut dc, mut dx) = ([0.0; NCAM], [0.0; 3]);
                let dw = d_reproj_dot(&cam, &mut dc, &x, &mut dx, w, &feat, s0, s1, 1.0);
                let got: Vec<f64> = dc.iter().chain(&dx).copied().chain([dw]).collect();
                for (j, (a, b)) in got.iter().zip(&ef[r].eps).enumerate() {
                    assert!(
                        (a - b).abs() < 1e-10 * (1.0 + b.abs()),
                        "row {r}, [{j}]: {a} vs {b}"
                    );
                }
            }
        }
    }
}
