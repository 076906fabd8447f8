"""`make bench`: jitgraph against NumPy, a hand-written prange loop, Numba's parallel=True on
the NumPy code, numexpr and JAX (when installed), measured side by side in one run.

Rounds interleave the implementations (so machine noise hits all alike) and the table reports
medians. Results go to stdout and to benchmarks/RESULTS.md with the machine described.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numba
import numpy as np
from numba import njit, prange

import jitgraph as jg
from jitgraph.codegen.vmath import vm_exp_f32, vm_tanh_f32  # the same vectorizable math

HERE = os.path.dirname(os.path.abspath(__file__))


@dataclass
class Workload:
    name: str
    make_inputs: Callable[[np.random.Generator], dict[str, np.ndarray]]
    impls: dict[str, Callable[..., object]] = field(default_factory=dict)


# -- a*b + c*d -----------------------------------------------------------------------------------


@njit(parallel=True, fastmath={"contract", "reassoc"})
def _hand_abcd(a, b, c, d, out):
    for i in prange(a.shape[0]):
        for j in range(a.shape[1]):
            out[i, j] = a[i, j] * b[i, j] + c[i, j] * d[i, j]


def hand_abcd(A, B, C, D):
    out = np.empty_like(A)
    _hand_abcd(A, B, C, D, out)
    return out


def numpy_abcd(A, B, C, D):
    return A * B + C * D


def _symbolic_abcd():
    a, b, c, d = (jg.Variable(n) for n in "ABCD")
    return jg.compile(a * b + c * d)


def abcd_workload(n: int) -> Workload:
    def inputs(rng):
        return {k: rng.uniform(0, 1, (n, n)).astype(np.float32) for k in "ABCD"}

    w = Workload(f"a*b + c*d  ({n}x{n} f32)", inputs)
    w.impls["numpy"] = numpy_abcd
    w.impls["jitgraph"] = _symbolic_abcd()
    w.impls["hand prange"] = hand_abcd
    w.impls["numba parallel"] = njit(parallel=True)(numpy_abcd)
    _optional(w, "numexpr", lambda: _numexpr("A*B + C*D"))
    _optional(w, "jax", lambda: _jax(numpy_abcd))
    return w


# -- mean((x - y)**2) ------------------------------------------------------------------------------


@njit(parallel=True, fastmath={"contract", "reassoc"})
def _hand_mse(x, y):
    acc = np.float32(0.0)
    for i in prange(x.shape[0]):
        d = x[i] - y[i]
        acc += d * d
    return acc / x.shape[0]


def numpy_mse(x, y):
    return np.mean((x - y) ** 2)


def mse_workload(n: int) -> Workload:
    def inputs(rng):
        return {k: rng.standard_normal(n).astype(np.float32) for k in "xy"}

    w = Workload(f"mean((x-y)**2)  ({n} f32)", inputs)
    x, y = jg.Variable("x"), jg.Variable("y")
    w.impls["numpy"] = numpy_mse
    w.impls["jitgraph"] = jg.compile(((x - y) ** 2).mean())
    w.impls["hand prange"] = lambda x, y: _hand_mse(x, y)
    w.impls["numba parallel"] = njit(parallel=True)(numpy_mse)
    _optional(w, "jax", lambda: _jax(numpy_mse))
    return w


# -- row softmax -----------------------------------------------------------------------------------


@njit(parallel=True, fastmath={"contract", "reassoc"})
def _hand_softmax(x, out):
    for i in prange(x.shape[0]):
        m = x[i, 0]
        for j in range(x.shape[1]):
            m = max(m, x[i, j])
        s = np.float32(0.0)
        for j in range(x.shape[1]):
            e = vm_exp_f32(x[i, j] - m)
            out[i, j] = e
            s += e
        for j in range(x.shape[1]):
            out[i, j] /= s


def hand_softmax(x):
    out = np.empty_like(x)
    _hand_softmax(x, out)
    return out


def numpy_softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_workload(rows: int, cols: int) -> Workload:
    def inputs(rng):
        return {"x": rng.standard_normal((rows, cols)).astype(np.float32)}

    w = Workload(f"row softmax  ({rows}x{cols} f32)", inputs)
    x = jg.Variable("x")
    e = jg.sym.exp(x - x.max(axis=1, keepdims=True))
    w.impls["numpy"] = numpy_softmax
    w.impls["jitgraph"] = jg.compile(e / e.sum(axis=1, keepdims=True))
    w.impls["hand prange"] = hand_softmax
    _optional(w, "jax", lambda: _jax(numpy_softmax))
    return w


# -- GELU and an exp/sqrt chain --------------------------------------------------------------------


def numpy_gelu(x):
    return 0.5 * x * (1 + np.tanh(0.7978845608 * (x + 0.044715 * x**3)))


@njit(parallel=True, fastmath={"contract", "reassoc"})
def _hand_gelu(x, out):
    for i in prange(x.shape[0]):
        for j in range(x.shape[1]):
            v = x[i, j]
            out[i, j] = (
                np.float32(0.5)
                * v
                * (
                    np.float32(1)
                    + vm_tanh_f32(np.float32(0.7978845608) * (v + np.float32(0.044715) * v * v * v))
                )
            )


def hand_gelu(x):
    out = np.empty_like(x)
    _hand_gelu(x, out)
    return out


def gelu_workload(n: int) -> Workload:
    def inputs(rng):
        return {"x": rng.standard_normal((n, n)).astype(np.float32)}

    w = Workload(f"GELU  ({n}x{n} f32)", inputs)
    x = jg.Variable("x")
    w.impls["numpy"] = numpy_gelu
    w.impls["jitgraph"] = jg.compile(
        0.5 * x * (1 + jg.sym.tanh(0.7978845608 * (x + 0.044715 * x**3)))
    )
    w.impls["hand prange"] = hand_gelu
    w.impls["numba parallel"] = njit(parallel=True)(numpy_gelu)
    _optional(w, "jax", lambda: _jax(numpy_gelu))
    return w


# -- optional competitors --------------------------------------------------------------------------


def _numexpr(expr: str):
    import numexpr

    return lambda **kw: numexpr.evaluate(expr, local_dict=kw)


def _jax(fn):
    import jax
    import jax.numpy as jnp  # noqa: F401

    jitted = jax.jit(fn)

    def run(**kw):
        return jitted(**kw).block_until_ready()

    return run


def _optional(w: Workload, name: str, make) -> None:
    try:
        w.impls[name] = make()
    except ImportError:
        pass


# -- measurement -----------------------------------------------------------------------------------


def measure(w: Workload, rounds: int, rng) -> dict[str, tuple[float, float]]:
    """Median seconds and max relative error (vs NumPy in float64) of each implementation."""
    inputs = w.make_inputs(rng)
    exact = np.asarray(w.impls["numpy"](**{k: v.astype(np.float64) for k, v in inputs.items()}))
    errors = {}
    for name, fn in w.impls.items():  # warm up (compiles) and check every result
        result = np.asarray(fn(**inputs), dtype=np.float64)
        scale = max(float(np.max(np.abs(exact))), 1e-30)
        errors[name] = float(np.max(np.abs(result - exact))) / scale
    times: dict[str, list[float]] = {name: [] for name in w.impls}
    for _ in range(rounds):
        for name, fn in w.impls.items():
            start = time.perf_counter()
            fn(**inputs)
            times[name].append(time.perf_counter() - start)
    return {name: (float(np.median(t)), errors[name]) for name, t in times.items()}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"{cpu}; {os.cpu_count()} cores; Python {platform.python_version()}; "
        f"NumPy {np.__version__}; Numba {numba.__version__} "
        f"(threading layer set at first parallel call); jitgraph {jg.__version__}"
    )


def table(results: dict[str, dict[str, tuple[float, float]]]) -> str:
    lines = [
        "| workload | implementation | median ms | vs jitgraph | max rel. error |",
        "|---|---|---:|---:|---:|",
    ]
    for workload, entries in results.items():
        ours = entries.get("jitgraph", (None,))[0]
        for name, (t, err) in entries.items():
            ratio = f"{t / ours:.2f}x" if ours else "-"
            lines.append(f"| {workload} | {name} | {t * 1e3:.2f} | {ratio} | {err:.1e} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    parser.add_argument("--only", help="run only workloads whose name contains this text")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    workloads = [
        abcd_workload(args.size),
        mse_workload(args.size * args.size),
        softmax_workload(args.size, 1024),
        gelu_workload(args.size),
    ]
    if args.only:
        workloads = [w for w in workloads if args.only in w.name]
    results = {}
    for w in workloads:
        results[w.name] = measure(w, args.rounds, rng)
        print(
            f"{w.name}: "
            + ", ".join(f"{k} {v[0] * 1e3:.2f} ms" for k, v in results[w.name].items()),
            flush=True,
        )
    text = table(results)
    print()
    print(text)
    if not args.no_write:
        with open(os.path.join(HERE, "RESULTS.md"), "w") as f:
            f.write("# Benchmark results\n\n")
            f.write(f"Machine: {machine()}\n\n")
            f.write(
                f"Command: `{' '.join(['python', 'benchmarks/run.py'] + (argv or sys.argv[1:]))}`; "
                f"medians of {args.rounds} interleaved rounds, one process.\n\n"
            )
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
