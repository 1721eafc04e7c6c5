//! The seed benchmarks differentiated by ferrad-ir at build time (see `build.rs`): the `ir-*`
//! bench modes. The functions below only adapt calling conventions; the derivative code is the
//! compiler's.

#![allow(clippy::all, missing_docs, unused_parens, unused_mut)]

include!(concat!(env!("OUT_DIR"), "/ir_emitted.rs"));

/// `(loss, ∇loss)` of F by the emitted reverse-mode code.
pub fn f_reverse(p: &[f64]) -> (f64, Vec<f64>) {
    let r = f_vjp(
        p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], 1.0,
    );
    (r.0, vec![r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10])
}

/// `(loss, ∇loss)` of F by the emitted forward-mode code, 10 tangents in one pass.
pub fn f_forward(p: &[f64]) -> (f64, Vec<f64>) {
    // Each parameter is followed by its 10 tangents (the identity's column).
    let mut a = [0.0f64; 110];
    for i in 0..10 {
        a[i * 11] = p[i];
        a[i * 11 + 1 + i] = 1.0;
    }
    let r = f_jvp(
        a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13],
        a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24], a[25], a[26],
        a[27], a[28], a[29], a[30], a[31], a[32], a[33], a[34], a[35], a[36], a[37], a[38], a[39],
        a[40], a[41], a[42], a[43], a[44], a[45], a[46], a[47], a[48], a[49], a[50], a[51], a[52],
        a[53], a[54], a[55], a[56], a[57], a[58], a[59], a[60], a[61], a[62], a[63], a[64], a[65],
        a[66], a[67], a[68], a[69], a[70], a[71], a[72], a[73], a[74], a[75], a[76], a[77], a[78],
        a[79], a[80], a[81], a[82], a[83], a[84], a[85], a[86], a[87], a[88], a[89], a[90], a[91],
        a[92], a[93], a[94], a[95], a[96], a[97], a[98], a[99], a[100], a[101], a[102], a[103],
        a[104], a[105], a[106], a[107], a[108], a[109],
    );
    (r.0, vec![r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10])
}

/// `(loss, ∇loss)` of R by the emitted reverse-mode code.
pub fn r_reverse(x: &[f64]) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; x.len()];
    let y = r_vjp(x, &mut g, 1.0);
    (y, g)
}

/// H·v of R by the emitted forward-over-reverse code.
pub fn r_hvp(x: &[f64], v: &[f64]) -> Vec<f64> {
    let mut g = vec![0.0; x.len()];
    let mut hv = vec![0.0; x.len()];
    let _ = r_vjp_jvp(x, v, &mut g, &mut hv, 1.0, 0.0);
    hv
}
