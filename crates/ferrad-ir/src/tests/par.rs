//! Parallel loops in emitted Rust ([`crate::emit::Simd::par`]): snapshots of their shape, and
//! the loops that must stay one loop. (The macro crate's tests compile and run them.)

use expect_test::expect;

use super::progs::*;
use super::simd::check;
use crate::Mode;
use crate::emit::Simd;

/// [`Simd::ON`] with parallel loops.
const PAR: Simd = Simd {
    par: true,
    ..Simd::ON
};

#[test]
fn r_gradient_in_chunks_of_lanes() {
    check(
        R,
        Mode::Reverse,
        PAR,
        expect![[r#"
            pub fn r_vjp(p0: &[f64], p1: &mut [f64], p2: f64) -> f64 {
                ::ferrad::simd::dispatch_wide(#[inline(always)] move |isa| {
                    let n1 = p0.len();
                    let x2 = &p0[..n1];
                    let x3 = &mut p1[..n1];
                    let acc4 = if ::ferrad::par::loop_in_chunks(n1) {
                        let parts8 = ::ferrad::par::map_chunks(
                            (0..n1).step_by(::ferrad::par::LOOP_CHUNK).zip(x2.chunks(::ferrad::par::LOOP_CHUNK)).zip(x3.chunks_mut(::ferrad::par::LOOP_CHUNK)),
                            |((b5, y6), y7)| {
                                ::ferrad::simd::dispatch_wide(#[inline(always)] |isa| {
                                    let m9 = ::core::cmp::min(::ferrad::par::LOOP_CHUNK, n1 - b5);
                                    let x10 = &y6[..m9];
                                    let x11 = &mut y7[..m9];
                                    let mut acc12 = [-0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0];
                                    let mut b13 = 0;
                                    while b13 + 16 <= m9 {
                                        let x15: [f64; 16] = ::core::convert::TryInto::try_into(&x10[b13..b13 + 16]).unwrap();
                                        let mut x16: [f64; 16] = ::core::convert::TryInto::try_into(&x11[b13..b13 + 16]).unwrap();
                                        for l14 in 0..16 {
                                            let v17 = x15[l14];
                                            let v18 = isa.tanh_lanes(v17);
                                            let v19 = p2 * v17;
                                            let v20 = v18 * v18;
                                            x16[l14] += v19 + v19 + p2 * (v20 * 3.0) * (1.0 - v20);
                                            acc12[l14] += v18.powi(3) + v17 * v17;
                                        }
                                        x11[b13..b13 + 16].copy_from_slice(&x16);
                                        b13 += 16;
                                    }
                                    let mut acc21 = (((acc12[0] + acc12[1]) + (acc12[2] + acc12[3])) + ((acc12[4] + acc12[5]) + (acc12[6] + acc12[7]))) + (((acc12[8] + acc12[9]) + (acc12[10] + acc12[11])) + ((acc12[12] + acc12[13]) + (acc12[14] + acc12[15])));
                                    for j22 in b13..m9 {
                                        let v23 = x10[j22];
                                        let v24 = isa.tanh(v23);
                                        let v25 = p2 * v23;
                                        let v26 = v24 * v24;
                                        x11[j22] += v25 + v25 + p2 * (v26 * 3.0) * (1.0 - v26);
                                        acc21 += v24.powi(3) + v23 * v23;
                                    }
                                    acc21
                                })
                            },
                        );
                        let mut acc27 = 0.0;
                        for p28 in parts8 {
                            acc27 += p28;
                        }
                        acc27
                    } else {
                        let mut acc29 = [0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0];
                        let mut b30 = 0;
                        while b30 + 16 <= n1 {
                            let x32: [f64; 16] = ::core::convert::TryInto::try_into(&x2[b30..b30 + 16]).unwrap();
                            let mut x33: [f64; 16] = ::core::convert::TryInto::try_into(&x3[b30..b30 + 16]).unwrap();
                            for l31 in 0..16 {
                                let v34 = x32[l31];
                                let v35 = isa.tanh_lanes(v34);
                                let v36 = p2 * v34;
                                let v37 = v35 * v35;
                                x33[l31] += v36 + v36 + p2 * (v37 * 3.0) * (1.0 - v37);
                                acc29[l31] += v35.powi(3) + v34 * v34;
                            }
                            x3[b30..b30 + 16].copy_from_slice(&x33);
                            b30 += 16;
                        }
                        let mut acc38 = (((acc29[0] + acc29[1]) + (acc29[2] + acc29[3])) + ((acc29[4] + acc29[5]) + (acc29[6] + acc29[7]))) + (((acc29[8] + acc29[9]) + (acc29[10] + acc29[11])) + ((acc29[12] + acc29[13]) + (acc29[14] + acc29[15])));
                        for i39 in b30..n1 {
                            let v40 = x2[i39];
                            let v41 = isa.tanh(v40);
                            let v42 = p2 * v40;
                            let v43 = v41 * v41;
                            x3[i39] += v42 + v42 + p2 * (v43 * 3.0) * (1.0 - v43);
                            acc38 += v41.powi(3) + v40 * v40;
                        }
                        acc38
                    };
                    acc4
                })
            }
        "#]],
    );
}

#[test]
fn r_hvp_in_chunks() {
    let simd = Simd {
        math: false,
        dispatch: false,
        ..PAR
    };
    check(
        R,
        Mode::ForwardOverReverse,
        simd,
        expect![[r#"
        pub fn r_vjp_jvp(p0: &[f64], p1: &[f64], p2: &mut [f64], p3: &mut [f64], p4: f64, p5: f64) -> (f64, f64) {
            let n1 = p0.len();
            let x2 = &p0[..n1];
            let x3 = &p1[..n1];
            let x4 = &mut p2[..n1];
            let x5 = &mut p3[..n1];
            let (acc6, acc7) = if ::ferrad::par::loop_in_chunks(n1) {
                let parts13 = ::ferrad::par::map_chunks(
                    (0..n1).step_by(::ferrad::par::LOOP_CHUNK).zip(x2.chunks(::ferrad::par::LOOP_CHUNK)).zip(x3.chunks(::ferrad::par::LOOP_CHUNK)).zip(x4.chunks_mut(::ferrad::par::LOOP_CHUNK)).zip(x5.chunks_mut(::ferrad::par::LOOP_CHUNK)),
                    |((((b8, y9), y10), y11), y12)| {
                        let m14 = ::core::cmp::min(::ferrad::par::LOOP_CHUNK, n1 - b8);
                        let x15 = &y9[..m14];
                        let x16 = &y10[..m14];
                        let x17 = &mut y11[..m14];
                        let x18 = &mut y12[..m14];
                        let mut acc19 = [-0.0, -0.0, -0.0, -0.0];
                        let mut acc20 = [-0.0, -0.0, -0.0, -0.0];
                        let mut b21 = 0;
                        while b21 + 4 <= m14 {
                            let x23: [f64; 4] = ::core::convert::TryInto::try_into(&x15[b21..b21 + 4]).unwrap();
                            let x24: [f64; 4] = ::core::convert::TryInto::try_into(&x16[b21..b21 + 4]).unwrap();
                            let mut x25: [f64; 4] = ::core::convert::TryInto::try_into(&x17[b21..b21 + 4]).unwrap();
                            let mut x26: [f64; 4] = ::core::convert::TryInto::try_into(&x18[b21..b21 + 4]).unwrap();
                            for l22 in 0..4 {
                                let v27 = x23[l22];
                                let v28 = x24[l22];
                                let v29 = v27.tanh();
                                let v30 = v29 * v29;
                                let v31 = 1.0 - v30;
                                let v32 = v31 * v28;
                                let v33 = v30 * 3.0;
                                let v34 = v27 * v28;
                                let v35 = p4 * v27;
                                let v36 = v27 * p5 + p4 * v28;
                                let v37 = v29 * v32;
                                let v38 = v37 + v37;
                                let v39 = p4 * v33;
                                let v40 = x25[l22];
                                let v41 = x26[l22];
                                x25[l22] = v40 + (v35 + v35 + v39 * v31);
                                x26[l22] = v41 + (v36 + v36 + (v31 * (v33 * p5 + p4 * (3.0 * v38)) + v39 * -v38));
                                acc19[l22] += v30 * v29 + v27 * v27;
                                acc20[l22] += v33 * v32 + (v34 + v34);
                            }
                            x17[b21..b21 + 4].copy_from_slice(&x25);
                            x18[b21..b21 + 4].copy_from_slice(&x26);
                            b21 += 4;
                        }
                        let mut acc42 = (acc19[0] + acc19[1]) + (acc19[2] + acc19[3]);
                        let mut acc43 = (acc20[0] + acc20[1]) + (acc20[2] + acc20[3]);
                        for j44 in b21..m14 {
                            let v45 = x15[j44];
                            let v46 = x16[j44];
                            let v47 = v45.tanh();
                            let v48 = v47 * v47;
                            let v49 = 1.0 - v48;
                            let v50 = v49 * v46;
                            let v51 = v48 * 3.0;
                            let v52 = v45 * v46;
                            let v53 = p4 * v45;
                            let v54 = v45 * p5 + p4 * v46;
                            let v55 = v47 * v50;
                            let v56 = v55 + v55;
                            let v57 = p4 * v51;
                            let v58 = x17[j44];
                            let v59 = x18[j44];
                            x17[j44] = v58 + (v53 + v53 + v57 * v49);
                            x18[j44] = v59 + (v54 + v54 + (v49 * (v51 * p5 + p4 * (3.0 * v56)) + v57 * -v56));
                            acc42 += v48 * v47 + v45 * v45;
                            acc43 += v51 * v50 + (v52 + v52);
                        }
                        (acc42, acc43)
                    },
                );
                let mut acc60 = 0.0;
                let mut acc61 = 0.0;
                for (p62, p63) in parts13 {
                    acc60 += p62;
                    acc61 += p63;
                }
                (acc60, acc61)
            } else {
                let mut acc64 = [0.0, -0.0, -0.0, -0.0];
                let mut acc65 = [0.0, -0.0, -0.0, -0.0];
                let mut b66 = 0;
                while b66 + 4 <= n1 {
                    let x68: [f64; 4] = ::core::convert::TryInto::try_into(&x2[b66..b66 + 4]).unwrap();
                    let x69: [f64; 4] = ::core::convert::TryInto::try_into(&x3[b66..b66 + 4]).unwrap();
                    let mut x70: [f64; 4] = ::core::convert::TryInto::try_into(&x4[b66..b66 + 4]).unwrap();
                    let mut x71: [f64; 4] = ::core::convert::TryInto::try_into(&x5[b66..b66 + 4]).unwrap();
                    for l67 in 0..4 {
                        let v72 = x68[l67];
                        let v73 = x69[l67];
                        let v74 = v72.tanh();
                        let v75 = v74 * v74;
                        let v76 = 1.0 - v75;
                        let v77 = v76 * v73;
                        let v78 = v75 * 3.0;
                        let v79 = v72 * v73;
                        let v80 = p4 * v72;
                        let v81 = v72 * p5 + p4 * v73;
                        let v82 = v74 * v77;
                        let v83 = v82 + v82;
                        let v84 = p4 * v78;
                        let v85 = x70[l67];
                        let v86 = x71[l67];
                        x70[l67] = v85 + (v80 + v80 + v84 * v76);
                        x71[l67] = v86 + (v81 + v81 + (v76 * (v78 * p5 + p4 * (3.0 * v83)) + v84 * -v83));
                        acc64[l67] += v75 * v74 + v72 * v72;
                        acc65[l67] += v78 * v77 + (v79 + v79);
                    }
                    x4[b66..b66 + 4].copy_from_slice(&x70);
                    x5[b66..b66 + 4].copy_from_slice(&x71);
                    b66 += 4;
                }
                let mut acc87 = (acc64[0] + acc64[1]) + (acc64[2] + acc64[3]);
                let mut acc88 = (acc65[0] + acc65[1]) + (acc65[2] + acc65[3]);
                for i89 in b66..n1 {
                    let v90 = x2[i89];
                    let v91 = x3[i89];
                    let v92 = v90.tanh();
                    let v93 = v92 * v92;
                    let v94 = 1.0 - v93;
                    let v95 = v94 * v91;
                    let v96 = v93 * 3.0;
                    let v97 = v90 * v91;
                    let v98 = p4 * v90;
                    let v99 = v90 * p5 + p4 * v91;
                    let v100 = v92 * v95;
                    let v101 = v100 + v100;
                    let v102 = p4 * v96;
                    let v103 = x4[i89];
                    let v104 = x5[i89];
                    x4[i89] = v103 + (v98 + v98 + v102 * v94);
                    x5[i89] = v104 + (v99 + v99 + (v94 * (v96 * p5 + p4 * (3.0 * v101)) + v102 * -v101));
                    acc87 += v93 * v92 + v90 * v90;
                    acc88 += v96 * v95 + (v97 + v97);
                }
                (acc87, acc88)
            };
            (acc6, acc7)
        }
    "#]],
    );
}

#[test]
fn strict_order_chunks_no_sum() {
    let simd = Simd { lanes: 0, ..PAR };
    check(
        R,
        Mode::Reverse,
        simd,
        expect![[r#"
            pub fn r_vjp(p0: &[f64], p1: &mut [f64], p2: f64) -> f64 {
                ::ferrad::simd::dispatch(#[inline(always)] move |isa| {
                    let n1 = p0.len();
                    let x2 = &p0[..n1];
                    let x3 = &mut p1[..n1];
                    let mut acc4 = 0.0;
                    for i5 in 0..n1 {
                        let v6 = x2[i5];
                        let v7 = isa.tanh(v6);
                        let v8 = p2 * v6;
                        let v9 = v7 * v7;
                        x3[i5] += v8 + v8 + p2 * (v9 * 3.0) * (1.0 - v9);
                        acc4 += v7.powi(3) + v6 * v6;
                    }
                    acc4
                })
            }
        "#]],
    );
}

#[test]
fn only_the_outer_loop_is_chunked() {
    let simd = Simd {
        math: false,
        dispatch: false,
        ..PAR
    };
    check(
        LANES,
        Mode::Reverse,
        simd,
        expect![[r#"
        pub fn lanes_vjp(p0: &[f64], p1: &mut [f64], p2: &[f64], p3: &mut [f64], p4: f64) -> f64 {
            let v1 = p0.len();
            let n2 = v1;
            let x3 = &p0[..n2];
            let acc4 = if ::ferrad::par::loop_in_chunks(n2) {
                let parts7 = ::ferrad::par::map_chunks(
                    (0..n2).step_by(::ferrad::par::LOOP_CHUNK).zip(x3.chunks(::ferrad::par::LOOP_CHUNK)),
                    |(b5, y6)| {
                        let m8 = ::core::cmp::min(::ferrad::par::LOOP_CHUNK, n2 - b5);
                        let x9 = &y6[..m8];
                        let mut acc10 = -0.0;
                        for j11 in 0..m8 {
                            let v12 = x9[j11];
                            let n13 = v1;
                            let x14 = &p2[..n13];
                            let mut acc15 = [0.0, -0.0, -0.0, -0.0];
                            let mut b16 = 0;
                            while b16 + 4 <= n13 {
                                let x18: [f64; 4] = ::core::convert::TryInto::try_into(&x14[b16..b16 + 4]).unwrap();
                                for l17 in 0..4 {
                                    acc15[l17] += (v12 * x18[l17]).sin();
                                }
                                b16 += 4;
                            }
                            let mut acc19 = (acc15[0] + acc15[1]) + (acc15[2] + acc15[3]);
                            for i20 in b16..n13 {
                                acc19 += (v12 * x14[i20]).sin();
                            }
                            acc10 = acc10 - acc19 * v12;
                        }
                        acc10
                    },
                );
                let mut acc21 = 0.5;
                for p22 in parts7 {
                    acc21 += p22;
                }
                acc21
            } else {
                let mut acc23 = 0.5;
                for i24 in 0..n2 {
                    let v25 = x3[i24];
                    let n26 = v1;
                    let x27 = &p2[..n26];
                    let mut acc28 = [0.0, -0.0, -0.0, -0.0];
                    let mut b29 = 0;
                    while b29 + 4 <= n26 {
                        let x31: [f64; 4] = ::core::convert::TryInto::try_into(&x27[b29..b29 + 4]).unwrap();
                        for l30 in 0..4 {
                            acc28[l30] += (v25 * x31[l30]).sin();
                        }
                        b29 += 4;
                    }
                    let mut acc32 = (acc28[0] + acc28[1]) + (acc28[2] + acc28[3]);
                    for i33 in b29..n26 {
                        acc32 += (v25 * x27[i33]).sin();
                    }
                    acc23 = acc23 - acc32 * v25;
                }
                acc23
            };
            let v34 = -p4;
            let n35 = v1;
            let x36 = &p0[..n35];
            let x37 = &mut p1[..n35];
            for i38 in (0..n35).rev() {
                let v39 = x36[i38];
                let v40 = v34 * v39;
                let n41 = v1;
                let x42 = &p2[..n41];
                let x43 = &mut p3[..n41];
                let mut acc44 = [0.0, -0.0, -0.0, -0.0];
                let mut acc45 = [0.0, -0.0, -0.0, -0.0];
                let mut b46 = 0;
                while b46 + 4 <= n41 {
                    let x48: [f64; 4] = ::core::convert::TryInto::try_into(&x42[b46..b46 + 4]).unwrap();
                    let mut x49: [f64; 4] = ::core::convert::TryInto::try_into(&x43[b46..b46 + 4]).unwrap();
                    for l47 in 0..4 {
                        let v50 = x48[l47];
                        let v51 = v39 * v50;
                        let (s52, c53) = v51.sin_cos();
                        let v54 = v40 * c53;
                        x49[l47] += v54 * v39;
                        acc44[l47] += s52;
                        acc45[l47] += v54 * v50;
                    }
                    x43[b46..b46 + 4].copy_from_slice(&x49);
                    b46 += 4;
                }
                let mut acc55 = (acc44[0] + acc44[1]) + (acc44[2] + acc44[3]);
                let mut acc56 = (acc45[0] + acc45[1]) + (acc45[2] + acc45[3]);
                for i57 in b46..n41 {
                    let v58 = x42[i57];
                    let v59 = v39 * v58;
                    let (s60, c61) = v59.sin_cos();
                    let v62 = v40 * c61;
                    x43[i57] += v62 * v39;
                    acc55 += s60;
                    acc56 += v62 * v58;
                }
                x37[i38] += v34 * acc55 + acc56;
            }
            acc4
        }
    "#]],
    );
}
