#!/usr/bin/env python3
"""The coefficients of `ferrad_core::math::tanh`'s small-argument polynomial.

For |x| < T (T = 0.625), tanh x = x + x³·P(x²). P(z) = (tanh √z − √z)/z^(3/2) is interpolated
at the 12 Chebyshev nodes of [0, T²] in 200-bit arithmetic (mpmath) and written in the power
basis; the printed check is the polynomial's own relative error in tanh over [0, T], in units
of 2^-53 (about 0.014: the evaluation's roundings, not the approximation, dominate).

Usage: crates/ferrad-core/tools/tanh_coefficients.py   (needs `pip install mpmath`)
"""

import mpmath as mp

mp.mp.prec = 200
T = mp.mpf("0.625")
DEGREE = 11


def p_exact(z):
    if z == 0:
        return mp.mpf(-1) / 3
    s = mp.sqrt(z)
    return (mp.tanh(s) - s) / (z * s)


def main():
    b = T * T
    nodes = [b / 2 * (1 + mp.cos(mp.pi * (2 * j + 1) / (2 * (DEGREE + 1)))) for j in range(DEGREE + 1)]
    a = mp.matrix([[z**i for i in range(DEGREE + 1)] for z in nodes])
    c = mp.lu_solve(a, mp.matrix([p_exact(z) for z in nodes]))
    worst = 0
    for j in range(1, 2001):
        x = T * j / 2000
        z = x * x
        approx = x + x * z * sum(c[i] * z**i for i in range(DEGREE + 1))
        worst = max(worst, abs(approx / mp.tanh(x) - 1) * 2**53)
    print(f"// approximation error over (0, {T}]: {float(worst):.3f} · 2^-53 relative")
    for v in c:
        print(f"    {float(v)!r},")


if __name__ == "__main__":
    main()
