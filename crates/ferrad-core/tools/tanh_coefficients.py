#!/usr/bin/env python3
"""The coefficients of `ferrad_core::math::tanh`: its small-argument rational function and the
short e^r − 1 polynomial of its large branch.

Small branch: for |x| < T (T = 0.625), tanh x = x + x³·N(x²)/M(x²), N and M of degree 3 and
M(0) = 1. R(z) = (tanh √z − √z)/z^(3/2) is interpolated by N/M at the 7 Chebyshev nodes of
[0, T²] (linearized: N(z) − R(z)·(M(z) − 1) = R(z)) in 200-bit arithmetic (mpmath).

Large branch: (e^r − 1 − r)/r² is interpolated by a degree-9 polynomial at the 10 Chebyshev
nodes of [−ln2/2, ln2/2], so that r + r²·P(r) is e^r − 1.

Each printed check is the function's own relative error, with the coefficients rounded to f64
as the Rust code holds them, in units of 2^-53 (tanh: about 0.06; e^r − 1: about 0.37, which
tanh's large branch damps to under 0.1 ulp of its result).

Usage: crates/ferrad-core/tools/tanh_coefficients.py   (needs `pip install mpmath`)
"""

import mpmath as mp

mp.mp.prec = 200
T = mp.mpf("0.625")
NUM_DEGREE = 3
DEN_DEGREE = 3
EXPM1_DEGREE = 9


def chebyshev_nodes(lo, hi, k):
    return [(lo + hi) / 2 + (hi - lo) / 2 * mp.cos(mp.pi * (2 * j + 1) / (2 * k)) for j in range(k)]


def r_exact(z):
    if z == 0:
        return mp.mpf(-1) / 3
    s = mp.sqrt(z)
    return (mp.tanh(s) - s) / (z * s)


def rounded(values):
    return [mp.mpf(float(v)) for v in values]


def horner(c, z):
    return sum(c[i] * z**i for i in range(len(c)))


def tanh_rational():
    k = NUM_DEGREE + DEN_DEGREE + 1
    a = mp.matrix(k, k)
    b = mp.matrix(k, 1)
    for row, z in enumerate(chebyshev_nodes(0, T * T, k)):
        r = r_exact(z)
        for i in range(NUM_DEGREE + 1):
            a[row, i] = z**i
        for i in range(1, DEN_DEGREE + 1):
            a[row, NUM_DEGREE + i] = -r * z**i
        b[row] = r
    c = mp.lu_solve(a, b)
    num = rounded(c[i] for i in range(NUM_DEGREE + 1))
    den = rounded([1] + [c[NUM_DEGREE + i] for i in range(1, DEN_DEGREE + 1)])
    worst = 0
    for j in range(1, 2001):
        x = T * j / 2000
        z = x * x
        approx = x + x * z * horner(num, z) / horner(den, z)
        worst = max(worst, abs(approx / mp.tanh(x) - 1) * 2**53)
    return num, den[1:], worst


def expm1_polynomial():
    half = mp.log(2) / 2
    k = EXPM1_DEGREE + 1

    def p_exact(r):
        return mp.mpf(1) / 2 if r == 0 else (mp.expm1(r) - r) / (r * r)

    nodes = chebyshev_nodes(-half, half, k)
    a = mp.matrix([[r**i for i in range(k)] for r in nodes])
    c = rounded(mp.lu_solve(a, mp.matrix([p_exact(r) for r in nodes])))
    worst = 0
    for j in range(-2000, 2001):
        r = half * j / 2000
        if r != 0:
            worst = max(worst, abs((r + r * r * horner(c, r)) / mp.expm1(r) - 1) * 2**53)
    return c, worst


def main():
    num, den, worst = tanh_rational()
    print(f"// TANH_NUM, TANH_DEN: tanh's relative error over (0, {T}]: {float(worst):.3f} · 2^-53")
    for name, values in (("TANH_NUM", num), ("TANH_DEN (from z¹)", den)):
        print(f"// {name}")
        for v in values:
            print(f"    {float(v)!r},")
    c, worst = expm1_polynomial()
    print(f"// EXPM1_CHEBYSHEV10: e^r − 1's relative error over |r| <= ln2/2: {float(worst):.3f} · 2^-53")
    for v in c:
        print(f"    {float(v)!r},")


if __name__ == "__main__":
    main()
