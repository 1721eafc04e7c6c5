#!/usr/bin/env python3
"""Times ferrad-gradbench on the largest default workload of every GradBench eval and prints a
Markdown table beside upstream's published numbers (manual, enzyme, jax).

Usage: bench/workloads.py TOOL_BINARY RESULTS_DIR [--runs N] [--only EVAL ...]
  TOOL_BINARY  a release build of ferrad-gradbench
  RESULTS_DIR  shared/gradbench/results/nightly-2026-03-14

Inputs are synthesized with the workload's sizes (the upstream data files for ba, ht and lstm are
not shipped here), so values differ from upstream's while the work per evaluation is the same.
Each cell is the best of N runs (the tool's own `evaluate` timings) in each of R rounds, and the
rounds alternate primal and derivative: on a shared, noisy machine both then get their best of the
same quiet and busy moments, so the ratio is steadier than from two separate batches.
"""

import argparse
import json
import math
import subprocess
import sys


def sized(n, seed=1.0, scale=1.0):
    return [scale * math.sin(seed * (i + 1)) for i in range(n)]


def rows(r, c, seed=1.0, scale=1.0):
    return [sized(c, seed + 0.01 * i, scale) for i in range(r)]


def hand(c):
    nb, nv, nt = 22, 544, 1084
    parents = [-1] + [max(0, b - 1 - (b % 4 == 1) * 0) for b in range(1, nb)]
    parents = [-1] + [0 if b % 4 == 1 else b - 1 for b in range(1, nb)]

    def mat(t):
        return [[1.0, 0.0, 0.0, t[0]], [0.0, 1.0, 0.0, t[1]], [0.0, 0.0, 1.0, t[2]], [0.0, 0.0, 0.0, 1.0]]

    model = {
        "bone_count": nb,
        "bone_names": [f"b{b}" for b in range(nb)],
        "parents": parents,
        "base_relatives": [mat([0.01 * b, 0.02, 0.0]) for b in range(nb)],
        "inverse_base_absolutes": [mat([-0.01 * b, -0.02 * b, 0.0]) for b in range(nb)],
        "base_positions": [[math.sin(v), math.cos(v), 0.01 * v, 1.0] for v in range(nv)],
        "weights": [[1.0 / 3 if (v + b) % 8 < 3 else 0.0 for b in range(nb)] for v in range(nv)],
        "triangles": [[t % nv, (t + 1) % nv, (t + 7) % nv] for t in range(nt)],
        "is_mirrored": False,
    }
    return {
        "theta": sized(26, 0.7, 0.2),
        "data": {
            "model": model,
            "correspondences": [(7 * i) % nv for i in range(c)],
            "points": rows(c, 3, 0.3),
        },
        "us": [],
    }


def workloads():
    yield "lse", "n=1280000", "primal", "gradient", {"x": sized(1280000, 1.0, 10.0)}
    yield "llsq", "n=16392,m=128", "primal", "gradient", {"x": sized(128, 0.3, 0.1), "n": 16392}
    yield "ode", "n=10000,s=100", "primal", "gradient", {"x": sized(10000, 0.5, 1.0), "s": 100}
    yield "ode", "n=100000,s=100", "primal", "gradient", {"x": sized(100000, 0.5, 1.0), "s": 100}
    yield "det", "9", "primal", "gradient", {"A": sized(81, 0.9), "ell": 9}
    yield "det", "11", "primal", "gradient", {"A": sized(121, 0.9), "ell": 11}
    for d, k in [(2, 5), (64, 100)]:
        n = 1000
        yield "gmm", f"{d}_{k}_{n}", "objective", "jacobian", {
            "d": d, "k": k, "n": n, "m": 0, "gamma": 1.0,
            "x": rows(n, d, 0.1), "alpha": sized(k, 0.2), "mu": rows(k, d, 0.3),
            "q": rows(k, d, 0.4, 0.1), "l": rows(k, d * (d - 1) // 2, 0.5, 0.1),
        }
    yield "kmeans", "k=1000,n=10000,d=16", "cost", "dir", {
        "points": rows(10000, 16, 0.11), "centroids": rows(1000, 16, 0.13)}
    b = 14
    for l, c in [(2, 1024), (6, 8192)]:
        yield "lstm", f"l={l},c={c}", "objective", "jacobian", {
            "main_params": rows(2 * l, 4 * b, 0.2, 0.5), "extra_params": rows(3, b, 0.3, 0.5),
            "state": rows(2 * l, b, 0.4, 0.5), "sequence": [[abs(v) for v in r] for r in rows(c, b, 0.6)]}
    cam = [0.1, -0.2, 0.3, 0.5, -0.4, -3.0, 200.0, 10.0, -5.0, 1e-3, -2e-4]
    for name, n, m, p in [("ba1_n49_m7776_p31843", 49, 7776, 31843), ("ba14_n356_m226730_p1255268", 356, 226730, 1255268)]:
        yield "ba", name, "objective", "jacobian", {
            "n": n, "m": m, "p": p, "cam": cam, "x": [0.3, -0.2, 2.0], "w": 0.8, "feat": [12.0, -7.0]}
    for name, c in [("hand1_t26_c100", 100), ("hand12_t26_c100000", 100000)]:
        yield "ht", name, "objective", "jacobian", hand(c)
    for f in ["ff", "fr", "rf", "rr"]:
        yield "particle", f, None, f, {"w": 0.0}
    for f in ["ff", "fr", "rf", "rr"]:
        yield "saddle", f, None, f, {"start": [1.0, 1.0]}


def run(tool, module, function, inp, runs):
    msgs = [
        {"id": 0, "kind": "start", "eval": module},
        {"id": 1, "kind": "define", "module": module},
        {"id": 2, "kind": "evaluate", "module": module, "function": function,
         "input": dict(inp, min_runs=runs, min_seconds=0)},
    ]
    text = "".join(json.dumps(m) + "\n" for m in msgs)
    out = subprocess.run([tool], input=text, capture_output=True, text=True, check=True).stdout
    reply = json.loads(out.strip().split("\n")[-1])
    if not reply.get("success"):
        raise RuntimeError(f"{module}.{function}: {reply.get('error')}")
    return min(t["nanoseconds"] for t in reply["timings"] if t["name"] == "evaluate") / 1e6


def upstream(results, module, workload, tool, which):
    try:
        with open(f"{results}/evals/{module}/summary.json") as f:
            t = json.load(f)["tools"][tool][workload]
    except (OSError, KeyError):
        return None
    t = t.get(which, t) if which else t
    if not t or "secs" not in t:
        return None
    return (t["secs"] * 1e9 + t["nanos"]) / 1e6


def fmt(x):
    if x is None:
        return "–"
    return f"{x:.3g}" if x < 100 else f"{x:.0f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool")
    ap.add_argument("results")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args()
    print("| eval | workload | ferrad primal ms | ferrad derivative ms | ratio | manual D (ratio) | enzyme D (ratio) | jax D (ratio) |")
    print("|---|---|---|---|---|---|---|---|")
    for module, workload, primal, deriv, inp in workloads():
        if a.only and module not in a.only:
            continue
        p = d = None
        for _ in range(a.rounds):
            if primal:
                t = run(a.tool, module, primal, inp, a.runs)
                p = t if p is None else min(p, t)
            t = run(a.tool, module, deriv, inp, a.runs)
            d = t if d is None else min(d, t)
        cells = []
        for tool in ["manual", "enzyme", "jax"]:
            if primal:
                up, ud = (upstream(a.results, module, workload, tool, w) for w in ("primal", "derivative"))
            else:
                up, ud = None, upstream(a.results, module, workload, tool, None)
            cells.append(f"{fmt(ud)} ({fmt(ud / up) if up and ud else '–'})")
        ratio = fmt(d / p) if p else "–"
        print(f"| {module} | {workload} | {fmt(p)} | {fmt(d)} | {ratio} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
