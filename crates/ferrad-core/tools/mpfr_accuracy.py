#!/usr/bin/env python3
"""True errors of ferrad_core::math's f64 functions against MPFR, in fractional ulps.

The Rust accuracy harness (`examples/math_accuracy.rs`, `tests/math.rs`) measures f64 results
against glibc, whose own error reaches 1.5 ulp (tanh, cosh, exp_m1). This tool takes the same
arguments (`examples/math_points.rs` writes them with our results) and compares with the exact
value from MPFR at 160 bits: error = |ours − exact| / ulp(exact), with ulp(v) = 2^(⌊log2|v|⌋ − 52)
(2^-1074 at least). A result that should overflow, underflow to 0 or be NaN must be exactly that.
Where our result is the correctly rounded one its error is at most 0.5 ulp and is not computed
further: the table gives the largest error over the other points ("≤ 0.5" if there are none) and
the share of points correctly rounded.

Usage (from the repository root; needs `pip install gmpy2`):
    crates/ferrad-core/tools/mpfr_accuracy.py [--points N] [--only NAME ...]
NAME@fma (exp@fma, tanh@fma) measures the variant that `ferrad::simd::Isa` runs in the
AVX2 + FMA copy of `dispatch` (fused multiply-adds, which may change the last bit).
Prints a Markdown table; N defaults to 10^7 (one to two minutes per function and core; the
functions are spread over `--jobs` processes, 2 by default).
"""

import argparse
import array
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile

import gmpy2
from gmpy2 import mpfr

PREC = 160

# name -> (exact functions, one per result, of the two arguments a, b)
FUNCTIONS = {
    "exp": [lambda a, b: gmpy2.exp(a)],
    "exp_m1": [lambda a, b: gmpy2.expm1(a)],
    "ln": [lambda a, b: gmpy2.log(a)],
    "ln_1p": [lambda a, b: gmpy2.log1p(a)],
    "sin": [lambda a, b: gmpy2.sin(a)],
    "cos": [lambda a, b: gmpy2.cos(a)],
    "sin_cos": [lambda a, b: gmpy2.sin(a), lambda a, b: gmpy2.cos(a)],
    "tan": [lambda a, b: gmpy2.tan(a)],
    "tanh": [lambda a, b: gmpy2.tanh(a)],
    "sinh": [lambda a, b: gmpy2.sinh(a)],
    "cosh": [lambda a, b: gmpy2.cosh(a)],
    "atan": [lambda a, b: gmpy2.atan(a)],
    "atan2": [lambda a, b: gmpy2.atan2(a, b)],
    "asin": [lambda a, b: gmpy2.asin(a)],
    "acos": [lambda a, b: gmpy2.acos(a)],
    "powf": [lambda a, b: a**b],
    "cbrt": [lambda a, b: gmpy2.cbrt(a)],
}


def ulp_error(ours, exact, want):
    """|ours − exact| in ulps of exact (an mpfr), or inf where the classes differ; `want` is
    float(exact), exact correctly rounded to f64 (±inf past the range, 0 below it)."""
    if math.isnan(ours) or math.isnan(want):
        return 0.0 if math.isnan(ours) and math.isnan(want) else math.inf
    if math.isinf(ours) or math.isinf(want):
        return 0.0 if ours == want else math.inf
    if exact == 0:
        return abs(ours) / 2.0**-1074
    e = max(gmpy2.get_exp(exact) - 53, -1074)  # exact = m·2^E, 1/2 <= |m| < 1
    return math.ldexp(float(abs(mpfr(ours) - exact)), -e)


def measure(name, points, binary):
    funcs = FUNCTIONS[name.split("@")[0]]
    width = 2 + len(funcs)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "points.bin")
        subprocess.run([binary, name, str(points), path], check=True)
        data = array.array("d")
        with open(path, "rb") as f:
            data.frombytes(f.read())
    if sys.byteorder != "little":
        data.byteswap()
    gmpy2.get_context().precision = PREC
    worst, at, rounded, total = 0.0, None, 0, 0
    for i in range(0, len(data), width):
        a, b = data[i], data[i + 1]
        ma, mb = mpfr(a), mpfr(b)
        for j, f in enumerate(funcs):
            ours, exact = data[i + 2 + j], f(ma, mb)
            total += 1
            want = float(exact)
            if ours == want:
                rounded += 1
                continue
            err = ulp_error(ours, exact, want)
            if err > worst:
                worst, at = err, (a, b)
    return name, worst, at, len(data) // width, rounded / total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, default=10_000_000)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--binary", help="a built math_points (default: build it now)")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    if args.binary is None:
        # always through cargo: a binary left from an older build would measure old code
        subprocess.run(
            ["cargo", "build", "--release", "-p", "ferrad-core", "--example", "math_points"],
            check=True,
        )
        args.binary = "target/release/examples/math_points"
    names = [n for n in FUNCTIONS if not args.only or n in args.only]
    # NAME@fma: the AVX2 + FMA copy's variant (`Isa::AVX2_FMA`), for the functions that have one
    names += [n for n in args.only or [] if n.endswith("@fma")]
    print("| function | max ulp (MPFR) | worst at | correctly rounded | points |")
    print("|---|---:|---|---:|---:|")
    with multiprocessing.Pool(args.jobs) as pool:
        jobs = [(n, args.points, args.binary) for n in names]
        for name, worst, at, n, share in pool.imap_unordered(measure_job, jobs):
            if at is None:
                cell, where = "≤ 0.5", "-"
            else:
                cell = f"{worst:.3f}"
                two = name.split("@")[0] in ("atan2", "powf")
                where = f"({at[0]!r}, {at[1]!r})" if two else f"{at[0]!r}"
            print(f"| {name} | {cell} | {where} | {100 * share:.2f}% | {n:.1e} |", flush=True)


def measure_job(job):
    return measure(*job)


if __name__ == "__main__":
    sys.exit(main())
