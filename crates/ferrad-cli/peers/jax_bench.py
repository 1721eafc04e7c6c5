"""JAX peer rows for `ferrad bench --peers` (DESIGN §6 seed benchmarks, jit on one CPU core).

Run by the ferrad binary (the script is embedded in it and fed on stdin), or by hand:

    target/peers-venv/bin/python crates/ferrad-cli/peers/jax_bench.py --cases F,R:50,H:50,FH

For each case it jit-compiles the derivative (F, R: value_and_grad; H: forward-over-reverse
H·v; FH: jax.hessian), warms up, times repeated calls (median), checks the result against the
closed-form derivatives (numpy) and prints one JSON object on stdout:

    {"jax": "0.x", "device": "...", "cpu": 0, "results": [{"case": "R:50", "mode": "jax-jit-grad",
      "median_s": ..., "reps": ..., "compile_s": ..., "value": ..., "len": 50,
      "samples": [[0, ...], ...], "norm": ..., "self_check": ...}]}

`samples` holds every entry of the result when it has at most 1000, else 20 spread over it;
the Rust side checks them (and the norm and value) against its own references.

One core: the process pins itself to one CPU (like `taskset -c`), XLA's Eigen thread pool
is turned off and OMP/BLAS pools are set to 1 thread, all before jax is imported.
"""

import argparse
import json
import math
import os
import sys
import time


def pin_to_one_core():
    cpu = min(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    if flags not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flags).strip()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    return cpu


CPU = pin_to_one_core()

import numpy as np  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")

F_SAMPLES = 100_000
F_P = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.01, 0.02, 0.03, 0.04, 0.05])


def f_loss(p):
    t = jnp.arange(1, F_SAMPLES + 1, dtype=jnp.float64)[:, None]
    return jnp.sum(jnp.sin(t * p[None, :5]) * jnp.exp(-p[None, 5:] * t))


def r_loss(x):
    return jnp.sum(jnp.tanh(x) ** 3 + x * x)


def r_input(n):
    return np.sin(np.arange(1, n + 1, dtype=np.float64))


def h_direction(n):
    return np.cos(np.arange(1, n + 1, dtype=np.float64))


# Closed forms (numpy), for the self-check.
def f_grad_ref(p):
    t = np.arange(1, F_SAMPLES + 1, dtype=np.float64)[:, None]
    s, c, e = np.sin(t * p[:5]), np.cos(t * p[:5]), np.exp(-p[5:] * t)
    return np.sum(s * e), np.concatenate([np.sum(t * c * e, 0), -np.sum(t * s * e, 0)])


def f_hessian_ref(p):
    t = np.arange(1, F_SAMPLES + 1, dtype=np.float64)[:, None]
    s, c, e = np.sin(t * p[:5]), np.cos(t * p[:5]), np.exp(-p[5:] * t)
    t2 = t * t
    h = np.zeros((10, 10))
    for i in range(5):
        h[i, i] = -np.sum(t2[:, 0] * s[:, i] * e[:, i])
        h[i, 5 + i] = h[5 + i, i] = -np.sum(t2[:, 0] * c[:, i] * e[:, i])
        h[5 + i, 5 + i] = np.sum(t2[:, 0] * s[:, i] * e[:, i])
    return h


def r_grad_ref(x):
    t = np.tanh(x)
    return np.sum(t**3 + x * x), 3 * t * t * (1 - t * t) + 2 * x


def r_hvp_ref(x, v):
    t = np.tanh(x)
    return (6 * t * (1 - t * t) * (1 - 2 * t * t) + 2) * v


def rel_err(got, want):
    got, want = np.ravel(got), np.ravel(want)
    return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-300))


def make_case(key):
    """(mode name, jitted fn, args, reference (value or None, vector), note) for a case key."""
    problem, _, n = key.partition(":")
    if problem == "F":
        fn = jax.jit(jax.value_and_grad(f_loss))
        return "jax-jit-grad", fn, (jnp.asarray(F_P),), f_grad_ref(F_P), "jit(value_and_grad)"
    if problem == "R":
        x = r_input(int(n))
        fn = jax.jit(jax.value_and_grad(r_loss))
        return "jax-jit-grad", fn, (jnp.asarray(x),), r_grad_ref(x), "jit(value_and_grad)"
    if problem == "H":
        x, v = r_input(int(n)), h_direction(int(n))

        def hvp(x, v):
            return jax.jvp(jax.grad(r_loss), (x,), (v,))[1]

        fn = jax.jit(hvp)
        args = (jnp.asarray(x), jnp.asarray(v))
        return "jax-jit-hvp", fn, args, (None, r_hvp_ref(x, v)), "jit(jvp(grad)), fwd-over-rev"
    if problem == "FH":
        fn = jax.jit(jax.hessian(f_loss))
        return "jax-jit-hessian", fn, (jnp.asarray(F_P),), (None, f_hessian_ref(F_P)), "jit(hessian)"
    raise SystemExit(f"unknown case `{key}`: expected F, R:N, H:N or FH")


def split(out):
    """(value or None, result vector as numpy)."""
    if isinstance(out, tuple):
        return float(out[0]), np.asarray(out[1])
    return None, np.asarray(out)


def run_case(key, budget_s, min_reps):
    mode, fn, args, (ref_value, ref_vec), note = make_case(key)
    t = time.perf_counter()
    out = jax.block_until_ready(fn(*args))  # trace + compile + first run
    compile_s = time.perf_counter() - t
    for _ in range(3):
        out = jax.block_until_ready(fn(*args))
    samples = []
    start = time.perf_counter()
    while len(samples) < min_reps or (time.perf_counter() - start < budget_s and len(samples) < 1000):
        t = time.perf_counter()
        out = jax.block_until_ready(fn(*args))
        samples.append(time.perf_counter() - t)
    samples.sort()
    value, vec = split(out)
    vec = vec.ravel()
    check = rel_err(vec, ref_vec)
    if ref_value is not None:
        check = max(check, abs(value - ref_value) / abs(ref_value))
    if vec.size <= 1000:
        idx = range(vec.size)
    else:
        idx = sorted({0, 1, 2, vec.size - 1, *range(0, vec.size, vec.size // 16)})
    return {
        "case": key,
        "mode": mode,
        "median_s": samples[len(samples) // 2],
        "reps": len(samples),
        "compile_s": compile_s,
        "value": value,
        "len": int(vec.size),
        "samples": [[i, float(vec[i])] for i in idx],
        "norm": float(np.linalg.norm(vec)),
        "self_check": check,
        "note": note,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="F,R:50,R:1000000,H:50,H:1000000,FH")
    ap.add_argument("--budget-ms", type=float, default=700.0)
    ap.add_argument("--min-reps", type=int, default=5)
    a = ap.parse_args()
    results = [run_case(k, a.budget_ms / 1e3, a.min_reps) for k in a.cases.split(",") if k]
    for r in results:
        print(
            f"{r['case']:>10} {r['mode']:<16} {r['median_s'] * 1e3:10.4f} ms  "
            f"(compile {r['compile_s']:.2f} s, self-check rel err {r['self_check']:.1e})",
            file=sys.stderr,
        )
    json.dump(
        {
            "jax": jax.__version__,
            "device": str(jax.devices()[0]),
            "cpu": CPU,
            "xla_flags": os.environ.get("XLA_FLAGS", ""),
            "results": results,
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
