//! `ht`: hand tracking (ADBench). A skinned hand model posed by 26 parameters `θ` is compared with
//! observed points; `objective` gives the `3·c` residuals, `jacobian` their Jacobian with respect
//! to `θ` — and, in the "complicated" variant where each point sits at barycentric coordinates
//! `u` on a triangle, with respect to `u` too (two extra leading columns: each residual depends
//! only on its own point's `u`, so all `u₀` share one direction and all `u₁` another).
//!
//! Mode: forward, chunked ([`DualVec`]): 26 (or 28) directions against `3·c` outputs (up to
//! 300 000), so a couple of passes of 14 tangents each beat `3·c` reverse sweeps by far.
//!
//! Matrices follow the reference's `LightMatrix`: column-major, 4 × 4 transforms.

use ferrad::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::timing::{Evaluated, Prepare, Runs, parse};

#[derive(Deserialize)]
struct ModelIn {
    bone_names: Vec<String>,
    parents: Vec<i64>,
    base_relatives: Vec<Vec<Vec<f64>>>,
    inverse_base_absolutes: Vec<Vec<Vec<f64>>>,
    base_positions: Vec<Vec<f64>>,
    weights: Vec<Vec<f64>>,
    triangles: Vec<[usize; 3]>,
    is_mirrored: bool,
}

#[derive(Deserialize)]
struct DataIn {
    model: ModelIn,
    correspondences: Vec<usize>,
    points: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
struct Input {
    theta: Vec<f64>,
    data: DataIn,
    #[serde(default)]
    us: Value,
}

/// A column-major matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Mat<T> {
    rows: usize,
    cols: usize,
    data: Vec<T>,
}

impl<T: Copy> Mat<T> {
    fn filled(rows: usize, cols: usize, v: T) -> Self {
        Mat {
            rows,
            cols,
            data: vec![v; rows * cols],
        }
    }
    fn at(&self, i: usize, j: usize) -> T {
        self.data[j * self.rows + i]
    }
    fn set(&mut self, i: usize, j: usize, v: T) {
        self.data[j * self.rows + i] = v;
    }
    fn col(&self, j: usize) -> &[T] {
        &self.data[j * self.rows..(j + 1) * self.rows]
    }
}

impl Mat<f64> {
    /// The reference's `to_light_matrix`: entry `i` of `v` is column `i`.
    fn from_columns(v: &[Vec<f64>]) -> Result<Self, String> {
        let rows = v.first().map_or(0, Vec::len);
        if v.iter().any(|c| c.len() != rows) {
            return Err("ragged matrix".into());
        }
        Ok(Mat {
            rows,
            cols: v.len(),
            data: v.concat(),
        })
    }
    /// Entry `i` of `v` is row `i` (`to_light_matrix` then `transpose_in_place`).
    fn from_rows(v: &[Vec<f64>]) -> Result<Self, String> {
        let m = Self::from_columns(v)?;
        let mut t = Mat::filled(m.cols, m.rows, 0.0);
        for i in 0..m.rows {
            for j in 0..m.cols {
                t.set(j, i, m.at(i, j));
            }
        }
        Ok(t)
    }
}

fn mul<A: Copy, B: Copy, T: Real>(a: &Mat<A>, b: &Mat<B>, f: impl Fn(A, B) -> T) -> Mat<T> {
    assert_eq!(
        a.cols, b.rows,
        "matrix product of {}×{} and {}×{}",
        a.rows, a.cols, b.rows, b.cols
    );
    let mut out = Mat::filled(a.rows, b.cols, T::cst(0.0));
    for j in 0..b.cols {
        for i in 0..a.rows {
            let mut s = T::cst(0.0);
            for k in 0..a.cols {
                s += f(a.at(i, k), b.at(k, j));
            }
            out.set(i, j, s);
        }
    }
    out
}

/// The hand model and the observations.
#[derive(Clone, Debug)]
pub struct Hand {
    parents: Vec<i64>,
    base_relatives: Vec<Mat<f64>>,
    inverse_base_absolutes: Vec<Mat<f64>>,
    base_positions: Mat<f64>,
    weights: Mat<f64>,
    triangles: Vec<[usize; 3]>,
    is_mirrored: bool,
    correspondences: Vec<usize>,
    points: Mat<f64>,
}

fn angle_axis_to_rotation_matrix<T: Real>(aa: &[T]) -> Mat<T> {
    let norm = (aa[0] * aa[0] + aa[1] * aa[1] + aa[2] * aa[2]).sqrt();
    let mut r = Mat::filled(3, 3, T::cst(0.0));
    if norm.value() < 0.0001 {
        for i in 0..3 {
            r.set(i, i, T::cst(1.0));
        }
        return r;
    }
    let (x, y, z) = (aa[0] / norm, aa[1] / norm, aa[2] / norm);
    let (s, c) = (norm.sin(), norm.cos());
    let one = T::cst(1.0);
    r.set(0, 0, x * x + (one - x * x) * c);
    r.set(0, 1, x * y * (one - c) - z * s);
    r.set(0, 2, x * z * (one - c) + y * s);
    r.set(1, 0, x * y * (one - c) + z * s);
    r.set(1, 1, y * y + (one - y * y) * c);
    r.set(1, 2, y * z * (one - c) - x * s);
    r.set(2, 0, x * z * (one - c) - y * s);
    r.set(2, 1, z * y * (one - c) + x * s);
    r.set(2, 2, z * z + (one - z * z) * c);
    r
}

fn euler_angles_to_rotation_matrix<T: Real>(xzy: &[T]) -> Mat<T> {
    let (tx, ty, tz) = (xzy[0], xzy[2], xzy[1]);
    let eye = || {
        let mut m = Mat::filled(3, 3, T::cst(0.0));
        for i in 0..3 {
            m.set(i, i, T::cst(1.0));
        }
        m
    };
    let mut rx = eye();
    rx.set(1, 1, tx.cos());
    rx.set(2, 1, tx.sin());
    rx.set(1, 2, -tx.sin());
    rx.set(2, 2, tx.cos());
    let mut ry = eye();
    ry.set(0, 0, ty.cos());
    ry.set(0, 2, ty.sin());
    ry.set(2, 0, -ty.sin());
    ry.set(2, 2, ty.cos());
    let mut rz = eye();
    rz.set(0, 0, tz.cos());
    rz.set(1, 0, tz.sin());
    rz.set(0, 1, -tz.sin());
    rz.set(1, 1, tz.cos());
    let tmp = mul(&rz, &ry, |a, b| a * b);
    mul(&tmp, &rx, |a, b| a * b)
}

impl Hand {
    fn n_bones(&self) -> usize {
        self.base_relatives.len()
    }

    fn pose_params<T: Real>(&self, theta: &[T]) -> Mat<T> {
        let mut pp = Mat::filled(3, self.n_bones() + 3, T::cst(0.0));
        for i in 0..3 {
            pp.set(i, 0, theta[i]);
            pp.set(i, 1, T::cst(1.0));
            pp.set(i, 2, theta[3 + i]);
        }
        let mut i_theta = 6;
        let mut i_pose = 5;
        for _finger in 0..5 {
            for i in 2..=4 {
                pp.set(0, i_pose, theta[i_theta]);
                i_theta += 1;
                if i == 2 {
                    pp.set(1, i_pose, theta[i_theta]);
                    i_theta += 1;
                }
                i_pose += 1;
            }
            i_pose += 1;
        }
        pp
    }

    /// The posed, skinned vertex positions (3 × vertices), global transform applied.
    fn vertex_positions<T: Real>(&self, theta: &[T]) -> Mat<T> {
        let pp = self.pose_params(theta);
        let nb = self.n_bones();
        let mut absolutes: Vec<Mat<T>> = Vec::with_capacity(nb);
        for b in 0..nb {
            let r = euler_angles_to_rotation_matrix(pp.col(b + 3));
            let mut tr = Mat::filled(4, 4, T::cst(0.0));
            tr.set(3, 3, T::cst(1.0));
            for i in 0..3 {
                for j in 0..3 {
                    tr.set(i, j, r.at(i, j));
                }
            }
            let relative = mul(&self.base_relatives[b], &tr, |a: f64, t: T| t * a);
            let absolute = match usize::try_from(self.parents[b]) {
                Ok(p) => mul(&absolutes[p], &relative, |a, c| a * c),
                Err(_) => relative,
            };
            absolutes.push(absolute);
        }
        let nv = self.base_positions.cols;
        let mut pos = Mat::filled(3, nv, T::cst(0.0));
        for (b, absolute) in absolutes.iter().enumerate() {
            let transform = mul(absolute, &self.inverse_base_absolutes[b], |t: T, a: f64| {
                t * a
            });
            for v in 0..nv {
                let w = self.weights.at(b, v);
                for i in 0..3 {
                    let mut s = T::cst(0.0);
                    for k in 0..4 {
                        s += transform.at(i, k) * self.base_positions.at(k, v);
                    }
                    let cur = pos.at(i, v);
                    pos.set(i, v, cur + s * w);
                }
            }
        }
        if self.is_mirrored {
            for v in 0..nv {
                let x = pos.at(0, v);
                pos.set(0, v, -x);
            }
        }
        let mut r = angle_axis_to_rotation_matrix(pp.col(0));
        for j in 0..3 {
            for i in 0..3 {
                let x = r.at(i, j);
                r.set(i, j, x * pp.at(j, 1));
            }
        }
        let mut out = mul(&r, &pos, |a, b| a * b);
        for v in 0..nv {
            for i in 0..3 {
                let x = out.at(i, v);
                out.set(i, v, x + pp.at(i, 2));
            }
        }
        out
    }

    /// Calls `sink(r, eᵣ)` for each residual `r` in order (`3·c` of them), with the barycentric
    /// coordinates `us` (`2·c`) in the complicated variant.
    fn residuals<T: Real>(&self, theta: &[T], us: Option<&[T]>, mut sink: impl FnMut(usize, T)) {
        let pos = self.vertex_positions(theta);
        for (i, &c) in self.correspondences.iter().enumerate() {
            for j in 0..3 {
                let model_point = match us {
                    None => pos.at(j, c),
                    Some(us) => {
                        let [v0, v1, v2] = self.triangles[c];
                        let (u0, u1) = (us[2 * i], us[2 * i + 1]);
                        u0 * pos.at(j, v0)
                            + u1 * pos.at(j, v1)
                            + (T::cst(1.0) - u0 - u1) * pos.at(j, v2)
                    }
                };
                sink(3 * i + j, -model_point + self.points.at(j, i));
            }
        }
    }

    /// The residuals `3·c`, with the barycentric coordinates `us` (`2·c`) in the complicated
    /// variant.
    pub fn objective<T: Real>(&self, theta: &[T], us: Option<&[T]>) -> Vec<T> {
        let mut err = Vec::with_capacity(3 * self.correspondences.len());
        self.residuals(theta, us, |_, e| err.push(e));
        err
    }

    /// The number of Jacobian columns: `θ`, plus `u₀` and `u₁` in the complicated variant.
    pub fn n_cols(&self, theta: &[f64], us: Option<&[f64]>) -> usize {
        theta.len() + if us.is_some() { 2 } else { 0 }
    }

    /// The Jacobian into `jac`, row-major with one row per residual:
    /// `[∂/∂u₀, ∂/∂u₁,] ∂/∂θ` ([`Hand::n_cols`] columns). `jac` is reused between calls, as the
    /// reference tool reuses its output buffer.
    pub fn jacobian(&self, theta: &[f64], us: Option<&[f64]>, jac: &mut Vec<f64>) {
        const N: usize = 14;
        let extra = if us.is_some() { 2 } else { 0 };
        let n_dirs = self.n_cols(theta, us);
        jac.resize(3 * self.correspondences.len() * n_dirs, 0.0);
        for start in (0..n_dirs).step_by(N) {
            // Direction d: u₀ (d = 0), u₁ (d = 1) when complicated, then θ.
            let seed = |d: usize, v: f64| {
                let mut x = DualVec::<f64, N>::constant(v);
                if d >= start && d < start + N {
                    x.eps[d - start] = 1.0;
                }
                x
            };
            let th: Vec<DualVec<f64, N>> = theta
                .iter()
                .enumerate()
                .map(|(t, &v)| seed(extra + t, v))
                .collect();
            let u: Option<Vec<DualVec<f64, N>>> = us.map(|us| {
                us.iter()
                    .enumerate()
                    .map(|(k, &v)| seed(k % 2, v))
                    .collect()
            });
            let width = N.min(n_dirs - start);
            self.residuals(&th, u.as_deref(), |r, e| {
                jac[r * n_dirs + start..r * n_dirs + start + width]
                    .copy_from_slice(&e.eps[..width]);
            });
        }
    }
}

fn parse_us(us: &Value) -> Result<Option<Vec<f64>>, String> {
    let bad = || {
        "ht: malformed input: us must be a list of [u0, u1] pairs or a flat list of numbers"
            .to_string()
    };
    let Some(items) = us.as_array() else {
        return if us.is_null() { Ok(None) } else { Err(bad()) };
    };
    let mut flat = Vec::new();
    for item in items {
        match item {
            Value::Array(pair) => {
                for v in pair {
                    flat.push(v.as_f64().ok_or_else(bad)?);
                }
            }
            v => flat.push(v.as_f64().ok_or_else(bad)?),
        }
    }
    Ok((!flat.is_empty()).then_some(flat))
}

/// A converted input: the hand, `θ`, and the barycentric coordinates if complicated.
type Built = (Hand, Vec<f64>, Option<Vec<f64>>);

fn build(inp: Input) -> Result<Built, String> {
    let err = |e: String| format!("ht: malformed input: {e}");
    let m = inp.data.model;
    let nb = m.base_relatives.len();
    if m.bone_names.len() != nb || m.parents.len() != nb || m.inverse_base_absolutes.len() != nb {
        return Err(err(
            "bone_names, parents, base_relatives, inverse_base_absolutes differ in length".into(),
        ));
    }
    if nb + 3 < 25 || inp.theta.len() < 26 {
        return Err(err(format!(
            "need at least 22 bones and 26 parameters (got {nb} and {})",
            inp.theta.len()
        )));
    }
    for (b, &p) in m.parents.iter().enumerate() {
        if p >= b as i64 {
            return Err(err(format!(
                "parent {p} of bone {b} is not an earlier bone"
            )));
        }
    }
    let four = |v: &[Vec<f64>]| {
        let mat = Mat::from_rows(v)?;
        if mat.rows != 4 || mat.cols != 4 {
            Err("a bone transform is not 4 × 4".to_string())
        } else {
            Ok(mat)
        }
    };
    let base_relatives = m
        .base_relatives
        .iter()
        .map(|v| four(v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let inverse_base_absolutes = m
        .inverse_base_absolutes
        .iter()
        .map(|v| four(v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let base_positions = Mat::from_columns(&m.base_positions).map_err(err)?;
    let weights = Mat::from_columns(&m.weights).map_err(err)?;
    let points = Mat::from_columns(&inp.data.points).map_err(err)?;
    let nv = base_positions.cols;
    if base_positions.rows != 4 || weights.rows != nb || weights.cols != nv || points.rows != 3 {
        return Err(err(
            "base_positions must be 4-vectors, weights one per bone and vertex, points 3-vectors"
                .into(),
        ));
    }
    let nc = inp.data.correspondences.len();
    if points.cols != nc {
        return Err(err(format!(
            "{} points for {nc} correspondences",
            points.cols
        )));
    }
    let us = parse_us(&inp.us)?;
    if let Some(us) = &us {
        if us.len() != 2 * nc {
            return Err(err(format!(
                "{} barycentric coordinates for {nc} correspondences",
                us.len()
            )));
        }
        if inp
            .data
            .correspondences
            .iter()
            .any(|&c| c >= m.triangles.len())
            || m.triangles.iter().flatten().any(|&v| v >= nv)
        {
            return Err(err(
                "a correspondence or triangle index is out of range".into()
            ));
        }
    } else if inp.data.correspondences.iter().any(|&c| c >= nv) {
        return Err(err("a correspondence index is out of range".into()));
    }
    let hand = Hand {
        parents: m.parents,
        base_relatives,
        inverse_base_absolutes,
        base_positions,
        weights,
        triangles: m.triangles,
        is_mirrored: m.is_mirrored,
        correspondences: inp.data.correspondences,
        points,
    };
    Ok((hand, inp.theta, us))
}

/// `ht.evaluate`: `objective` or `jacobian`.
pub fn evaluate(function: &str, input: &Value) -> Result<Evaluated, String> {
    let prep = Prepare::start();
    let inp: Input = parse("ht", input)?;
    let runs = Runs::from_input(input)?;
    let (hand, theta, us) = build(inp)?;
    match function {
        "objective" => Ok(prep.run(runs, || hand.objective(&theta, us.as_deref()), |e| json!(e))),
        "jacobian" => {
            let cols = hand.n_cols(&theta, us.as_deref());
            let buffer = core::cell::Cell::new(Vec::new());
            Ok(prep.run(
                runs,
                || {
                    let mut jac = buffer.take();
                    hand.jacobian(&theta, us.as_deref(), &mut jac);
                    buffer.set(jac);
                },
                |()| json!(buffer.take().chunks_exact(cols).collect::<Vec<_>>()),
            ))
        }
        _ => Err(super::unknown_function(
            "ht",
            function,
            &["objective", "jacobian"],
        )),
    }
}
