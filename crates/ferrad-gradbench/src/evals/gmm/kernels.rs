//! The two `n·k·d²` parts of gmm as register-blocked kernels: the betas' sums of squares
//! `‖Qₖ(xᵢ − μₖ)‖²` and the weighted second moments `Σᵢ wᵢₖ xᵢxᵢᵀ`. Everything else in the
//! gradient costs `O(n·k + k·d³)`.
//!
//! Both are matrix products (`Qₖ·(X − μₖ)ᵀ` and `Xᵀ·diag(wₖ)·X`). Written as loops over one
//! point at a time, each multiply-add loads its operands from memory and the compiler cannot
//! keep partial sums in registers across points. Here each kernel holds a tile of
//! `ROWS × LANES` partial sums in fixed-size arrays (8 AVX2 registers), and per step loads one
//! `LANES`-vector and broadcasts `ROWS` scalars for `ROWS × LANES` multiply-adds. The data are
//! repacked once per call so that every step reads contiguous memory:
//! - [`PointBlocks`]: points transposed in blocks of `LANES` (the betas' vectors run over
//!   points, so the squares add up per lane without a horizontal sum);
//! - [`MomentKernel`]: coordinates in panels of `LANES` (the moments' vectors run over the
//!   columns of `xᵢxᵢᵀ`); the broadcast rows, weighted per component, are cut from them.
//!
//! Measured (d = 64, k = 100, n = 1000, AVX2 + FMA): both kernels run at roughly 80–95% of
//! the FMA units' peak, about 11 ms (betas) and 14 ms (moments) for ~2.1e8 multiply-adds each.
//!
//! Sizes that are not multiples of the tile are padded with zeros: zero points give betas that
//! are never written out, zero coordinates and zero rows of `Q` add zero.
//!
//! Both run in [`dispatch`], so the tiles are AVX2 registers and the multiply-adds fused where
//! the CPU has them.
//!
//! Invariant: the kernels compute the same sums as the straightforward loops ([`super::beta`],
//! [`super::Moments::add`]) except for the order of the additions (tested to 1e-12 relative).

use ferrad::par::map_chunks;
use ferrad::simd::{Isa, dispatch};

use super::Moments;

/// Points per block in the betas and columns per panel in the moments: the width of the tile
/// (two AVX2 registers of 4 `f64`).
pub const LANES: usize = 8;
/// Rows of `Qₖ` per pass over a point block, rows of a moment tile: `ROWS × LANES / 4 = 8`
/// accumulator registers, which leaves AVX2's other 8 for the loaded vectors and broadcasts.
pub const ROWS: usize = 4;
/// Points per pass of the moment tiles: a panel's slice (`POINT_BLOCK × 64` bytes) stays in L1
/// while the block's weighted rows pass over it (64 to 512 measured the same; 32 was slower).
const POINT_BLOCK: usize = 128;

/// The points transposed in blocks of [`LANES`]: `data[b·d + j][lane]` is coordinate `j` of
/// point `b·LANES + lane` (zero past the last point).
pub struct PointBlocks {
    d: usize,
    n: usize,
    data: Vec<[f64; LANES]>,
}

impl PointBlocks {
    /// Packs the `n × d` row-major points `x` (`d > 0`).
    pub fn new(x: &[f64], d: usize) -> Self {
        let n = x.len() / d;
        let mut data = vec![[0.0; LANES]; n.div_ceil(LANES) * d];
        for (i, xi) in x.chunks_exact(d).enumerate() {
            for (c, &v) in data[(i / LANES) * d..][..d].iter_mut().zip(xi) {
                c[i % LANES] = v;
            }
        }
        PointBlocks { d, n, data }
    }
}

/// Appends `Q(q, l)` to `out` by row blocks of [`ROWS`]: block `r0` holds, for each column
/// `j < min(r0 + ROWS, d)`, the entries `Q[r0 + t][j]` of its rows, zero above the diagonal and
/// past row `d − 1`. The kernel reads each block front to back, one entry per column.
fn pack_q(q: &[f64], l: &[f64], out: &mut Vec<[f64; ROWS]>) {
    let d = q.len();
    for r0 in (0..d).step_by(ROWS) {
        for j in 0..(r0 + ROWS).min(d) {
            // column j's strictly lower part starts after columns 0..j: Σ_{c<j} (d − 1 − c)
            let start = j * (2 * d - j - 1) / 2;
            let mut col = [0.0; ROWS];
            for (t, e) in col.iter_mut().enumerate() {
                let r = r0 + t;
                *e = match r {
                    _ if r >= d || r < j => 0.0,
                    _ if r == j => q[j].exp(),
                    _ => l[start + r - j - 1],
                };
            }
            out.push(col);
        }
    }
}

/// `‖Q·cₗ‖²` for the `LANES` centered points `c` (`c[j][lane]`), `Q` packed by [`pack_q`]:
/// each row block's `ROWS × LANES` products stay in registers over its columns and are squared
/// into the lanes' sums without being stored.
#[inline(always)]
fn sums_of_squares(isa: Isa, q: &[[f64; ROWS]], c: &[[f64; LANES]]) -> [f64; LANES] {
    let d = c.len();
    let mut sq = [0.0; LANES];
    let mut rest = q;
    for r0 in (0..d).step_by(ROWS) {
        let (block, tail) = rest.split_at((r0 + ROWS).min(d));
        rest = tail;
        let mut acc = [[0.0; LANES]; ROWS];
        for (qj, cj) in block.iter().zip(c) {
            for (row, &qrj) in acc.iter_mut().zip(qj) {
                for (a, &v) in row.iter_mut().zip(cj) {
                    *a = isa.mul_add(qrj, v, *a);
                }
            }
        }
        for row in &acc {
            for (s, &y) in sq.iter_mut().zip(row) {
                *s = isa.mul_add(y, y, *s);
            }
        }
    }
    sq
}

/// Point blocks per task of [`betas`] on `ferrad::par`'s threads (256 points; all in one task
/// below [`super::PARALLEL_WORK`]). The cut depends on the sizes only, and each β is computed whole by one task, so the result is the same with any
/// number of threads.
const BLOCKS_PER_TASK: usize = 32;

/// `βᵢₖ = αₖ + Σⱼ qₖⱼ − ½‖Qₖ(xᵢ − μₖ)‖²` for every point and component into `out` (`n × k`,
/// row-major): every `Qₖ` packed once, then the points cut into tasks of [`BLOCKS_PER_TASK`]
/// blocks spread over `ferrad::par`'s threads.
///
/// # Panics
/// If `out` does not have `n·k` entries.
pub fn betas(
    points: &PointBlocks,
    alpha: &[f64],
    mu: &[f64],
    q: &[f64],
    l: &[f64],
    out: &mut [f64],
) {
    let (d, n, k) = (points.d, points.n, alpha.len());
    assert_eq!(
        out.len(),
        n * k,
        "betas: out has {} entries, n·k = {n}·{k}",
        out.len()
    );
    if k == 0 {
        return;
    }
    let ls = d * (d - 1) / 2;
    let mut packed = Vec::new();
    for ik in 0..k {
        pack_q(
            &q[ik * d..(ik + 1) * d],
            &l[ik * ls..(ik + 1) * ls],
            &mut packed,
        );
    }
    // (the same number of entries for every component: it depends on d only)
    let per_component = packed.len() / k;
    let blocks = super::task_size(BLOCKS_PER_TASK, n.div_ceil(LANES), n * k * d * d);
    let tasks = points
        .data
        .chunks(blocks * d)
        .zip(out.chunks_mut(blocks * LANES * k));
    map_chunks(tasks, |(blocks, out)| {
        let packed = packed.chunks_exact(per_component);
        betas_of_blocks(d, blocks, alpha, mu, q, packed, out);
    });
}

/// [`betas`] for the point blocks `blocks` (`d` rows each) into their rows `out`, `Qₖ` packed
/// by [`pack_q`]. Component by component, so that `Qₖ` (`~d²/2` entries) stays in L1 while the
/// blocks pass; each block is centered once per component (`d·LANES` subtractions against
/// `d²·LANES/2` multiply-adds).
fn betas_of_blocks<'a>(
    d: usize,
    blocks: &[[f64; LANES]],
    alpha: &[f64],
    mu: &[f64],
    q: &[f64],
    packed: impl Iterator<Item = &'a [[f64; ROWS]]>,
    out: &mut [f64],
) {
    let k = alpha.len();
    let rows = out.len() / k;
    dispatch(
        #[inline(always)]
        move |isa| {
            let mut centered = vec![[0.0; LANES]; d];
            for (ik, q_packed) in packed.enumerate() {
                let mu_k = &mu[ik * d..(ik + 1) * d];
                let c = alpha[ik] + q[ik * d..(ik + 1) * d].iter().sum::<f64>();
                for (b, block) in blocks.chunks_exact(d).enumerate() {
                    for ((cj, xj), &m) in centered.iter_mut().zip(block).zip(mu_k) {
                        // whole arrays: element by element, the stores could alias the next
                        // loads as far as LLVM knows after inlining, and it does not vectorize
                        *cj = xj.map(|v| v - m);
                    }
                    let sq = sums_of_squares(isa, q_packed, &centered);
                    let i0 = b * LANES;
                    for (lane, &s) in sq.iter().enumerate().take(rows - i0) {
                        out[(i0 + lane) * k + ik] = c - s * 0.5;
                    }
                }
            }
        },
    );
}

/// One moment tile: adds `Σᵢ wxᵢ[t]·xᵢ[lane]` to `tile[t][lane]` over the points of a block,
/// `wx` the weighted coordinates of `ROWS` rows and `x` those of a panel of `LANES` columns.
#[inline(always)]
fn moment_tile(isa: Isa, wx: &[[f64; ROWS]], x: &[[f64; LANES]], tile: &mut [[f64; LANES]; ROWS]) {
    // in a local, so that the sums stay in registers: through `tile` LLVM would store them back
    // every step, as it cannot rule out that `tile` aliases `wx` or `x` once inlined
    let mut acc = *tile;
    for (wi, xi) in wx.iter().zip(x) {
        for (row, &w) in acc.iter_mut().zip(wi) {
            for (a, &v) in row.iter_mut().zip(xi) {
                *a = isa.mul_add(w, v, *a);
            }
        }
    }
    *tile = acc;
}

/// Row blocks per column panel: the weighted rows are cut from the panels.
const HALVES: usize = LANES / ROWS;
const _: () = assert!(LANES.is_multiple_of(ROWS));

/// The weighted moments of each component from the points, packed once ([`MomentKernel::new`])
/// and shared by every component ([`MomentKernel::component`]), each thread with its own
/// [`MomentScratch`].
pub struct MomentKernel {
    d: usize,
    n: usize,
    /// Column panels: `panels[p·n + i]` is coordinates `p·LANES..` of point `i` (zero past `d`).
    panels: Vec<[f64; LANES]>,
    /// `d` rounded up to `LANES`, over `LANES`.
    col_panels: usize,
}

/// The working memory of [`MomentKernel::component`] (one per thread).
pub struct MomentScratch {
    /// The weighted rows of one point block, `wx[a·POINT_BLOCK + i]` for the row block `a`
    /// (coordinates `a·ROWS..`).
    wx: Vec<[f64; ROWS]>,
    /// The second moment by tiles, `m2[a·col_panels + p]`.
    m2: Vec<[[f64; LANES]; ROWS]>,
    /// The first moment by panels.
    m1: Vec<[f64; LANES]>,
}

impl MomentKernel {
    /// Packs the `n × d` row-major points `x` (`d > 0`).
    pub fn new(x: &[f64], d: usize) -> Self {
        let n = x.len() / d;
        let col_panels = d.div_ceil(LANES);
        let mut panels = vec![[0.0; LANES]; col_panels * n];
        for (i, xi) in x.chunks_exact(d).enumerate() {
            for (j, &v) in xi.iter().enumerate() {
                panels[(j / LANES) * n + i][j % LANES] = v;
            }
        }
        MomentKernel {
            d,
            n,
            panels,
            col_panels,
        }
    }

    /// Working memory for [`MomentKernel::component`].
    pub fn scratch(&self) -> MomentScratch {
        let col_panels = self.col_panels;
        MomentScratch {
            wx: vec![[0.0; ROWS]; col_panels * HALVES * POINT_BLOCK],
            m2: vec![[[0.0; LANES]; ROWS]; col_panels * HALVES * col_panels],
            m1: vec![[0.0; LANES]; col_panels],
        }
    }

    /// The moments under the weights `w` (one per point) into `out`: `w`, `m1` and the lower
    /// triangle of `m2` (the upper one is left as it is, as by [`Moments::add`]). Only the
    /// tiles that meet the lower triangle are computed.
    ///
    /// Block by block of points, in two passes over the block's panels: the first weights them
    /// (`m1` and the rows `wx`), the second runs the tiles, panel-major so that a panel's slice
    /// stays in L1 while the row blocks pass; the panels are read from memory only once.
    pub fn component(&self, scratch: &mut MomentScratch, w: &[f64], out: &mut Moments) {
        let (d, n, col_panels) = (self.d, self.n, self.col_panels);
        let panels = &self.panels;
        let MomentScratch { wx, m2, m1 } = scratch;
        let row_blocks = d.div_ceil(ROWS);
        dispatch(
            #[inline(always)]
            move |isa| {
                m2.fill([[0.0; LANES]; ROWS]);
                m1.fill([0.0; LANES]);
                for i0 in (0..n).step_by(POINT_BLOCK) {
                    let len = POINT_BLOCK.min(n - i0);
                    let wb = &w[i0..i0 + len];
                    let wx_panels = wx.chunks_exact_mut(HALVES * POINT_BLOCK);
                    for ((x_p, m1p), wx_p) in
                        panels.chunks_exact(n).zip(m1.iter_mut()).zip(wx_panels)
                    {
                        let x_p = &x_p[i0..i0 + len];
                        // in a local, for the same reason as the tiles
                        let mut acc = *m1p;
                        for (x, &wi) in x_p.iter().zip(wb) {
                            for (m, &v) in acc.iter_mut().zip(x) {
                                *m = isa.mul_add(wi, v, *m);
                            }
                        }
                        *m1p = acc;
                        for (h, wx_a) in wx_p.chunks_exact_mut(POINT_BLOCK).enumerate() {
                            for ((o, x), &wi) in wx_a.iter_mut().zip(x_p).zip(wb) {
                                *o = std::array::from_fn(|t| wi * x[h * ROWS + t]);
                            }
                        }
                    }
                    for p in 0..col_panels {
                        let x_p = &panels[p * n + i0..][..len];
                        // the row blocks reaching column p·LANES or beyond (the lower triangle)
                        let rows = wx.chunks_exact(POINT_BLOCK).enumerate().take(row_blocks);
                        for (a, wx_a) in rows.skip(p * HALVES) {
                            moment_tile(isa, &wx_a[..len], x_p, &mut m2[a * col_panels + p]);
                        }
                    }
                }
                out.w = w.iter().sum();
                for (j, m) in out.m1.iter_mut().enumerate() {
                    *m = m1[j / LANES][j % LANES];
                }
                for a in 0..d {
                    let tiles = &m2[(a / ROWS) * col_panels..];
                    for (b, m) in out.m2[a * d..=a * d + a].iter_mut().enumerate() {
                        *m = tiles[b / LANES][a % ROWS][b % LANES];
                    }
                }
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::beta;
    use super::*;

    /// Reproducible values in (−1, 1) from a 64-bit LCG.
    fn random(len: usize, seed: u64) -> Vec<f64> {
        let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..len)
            .map(|_| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
            })
            .collect()
    }

    /// Sizes around the tiles: `d` below, between and above multiples of `ROWS` and `LANES`,
    /// `n` below, at and past multiples of `LANES` and `POINT_BLOCK`, one and several components.
    fn sizes() -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for d in [1, 3, 4, 5, 8, 9, 13] {
            for (k, n) in [(2, 0), (1, 1), (1, 7), (3, 8), (2, 13), (4, 130), (1, 257)] {
                out.push((d, k, n));
            }
        }
        out.push((64, 3, 21));
        out
    }

    #[test]
    fn blocked_betas_agree_with_beta_point_by_point() {
        for (d, k, n) in sizes() {
            let seed = (d * 1000 + k * 100 + n) as u64;
            let x = random(n * d, seed);
            let alpha = random(k, seed + 1);
            let mu = random(k * d, seed + 2);
            let q = random(k * d, seed + 3);
            let l = random(k * d * (d - 1) / 2, seed + 4);
            let mut got = vec![f64::NAN; n * k];
            betas(&PointBlocks::new(&x, d), &alpha, &mu, &q, &l, &mut got);
            let ls = d * (d - 1) / 2;
            for (i, xi) in x.chunks_exact(d).enumerate() {
                for ik in 0..k {
                    let want = beta(
                        alpha[ik],
                        &mu[ik * d..(ik + 1) * d],
                        &q[ik * d..(ik + 1) * d],
                        &l[ik * ls..(ik + 1) * ls],
                        xi,
                    );
                    // relative to the size of the terms: β itself may cancel to near zero
                    let scale = 1.0 + alpha[ik].abs() + d as f64 + (want - alpha[ik]).abs();
                    let g = got[i * k + ik];
                    assert!(
                        (g - want).abs() <= 1e-12 * scale,
                        "d = {d}, k = {k}, n = {n}, β[{i}][{ik}]: {g} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn blocked_moments_agree_with_moments_add() {
        for (d, k, n) in sizes() {
            let seed = (d * 1000 + k * 100 + n) as u64;
            let x = random(n * d, seed);
            // weights in (0, 1), as the posteriors are
            let weights: Vec<f64> = random(n * k, seed + 5)
                .iter()
                .map(|v| 0.5 + 0.5 * v)
                .collect();
            let kernel = MomentKernel::new(&x, d);
            let mut scratch = kernel.scratch();
            // poisoned upper triangle, to check that only the lower one is written
            let mut got = Moments::zero(d);
            got.m2.fill(f64::NAN);
            for ik in 0..k {
                let mut want = Moments::zero(d);
                for (xi, &w) in x.chunks_exact(d).zip(weights.iter().skip(ik).step_by(k)) {
                    want.add(w, xi);
                }
                let w: Vec<f64> = weights.iter().skip(ik).step_by(k).copied().collect();
                kernel.component(&mut scratch, &w, &mut got);
                let scale = want.w.abs() + 1.0;
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * scale;
                let at = format!("d = {d}, k = {k}, n = {n}, component {ik}");
                assert!(close(got.w, want.w), "{at}: w {} vs {}", got.w, want.w);
                for (j, (a, b)) in got.m1.iter().zip(&want.m1).enumerate() {
                    assert!(close(*a, *b), "{at}: m1[{j}] {a} vs {b}");
                }
                for a in 0..d {
                    for b in 0..d {
                        let (g, w) = (got.m2[a * d + b], want.m2[a * d + b]);
                        if b <= a {
                            assert!(close(g, w), "{at}: m2[{a}][{b}] {g} vs {w}");
                        } else {
                            assert!(g.is_nan(), "{at}: m2[{a}][{b}] written: {g}");
                        }
                    }
                }
            }
        }
    }
}
