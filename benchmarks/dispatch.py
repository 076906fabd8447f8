"""Per-call overhead on tiny arrays: jitgraph vs plain Numba, NumPy and JAX.

On 16-element float64 arrays the arithmetic is nothing; what is measured is the way from the
call to the machine code and back. For jitgraph, "kernel alone" calls its Numba kernel directly
(outputs preallocated): jitgraph's own overhead is the difference from the full call (binding
and keying the arguments, the entry function's shape checks and output allocation). The kernel
is `parallel=True`, so it includes launching Numba's thread pool; the njit(parallel=True)
line shows the same cost for a Numba function that allocates its own result.

    .venv/bin/python benchmarks/dispatch.py [--rounds 15] [--calls 20000]

Medians of interleaved rounds (every candidate once per round), in microseconds per call.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np

import jitgraph as jg
from jitgraph.codegen.kernel import SERIAL_MAX


def a_mul_b_plus_1(a, b):
    return a * b + 1


def kernel_alone(fn: jg.frontend.JitFunction, *args: np.ndarray) -> Callable[[], object]:
    """A call of the Numba kernel `fn`'s entry calls for these sizes (the serial twin for
    small ones, codegen/kernel.py), with its outputs and sizes prepared in advance."""
    exe = fn.specialization(*args).executable
    functions = exe.run.__globals__  # the entry function's globals hold the kernels
    small = all(a.size < SERIAL_MAX for a in args)
    kernel = functions["_kernel_serial" if exe.kernel.serial_name and small else "_kernel"]
    values = []
    for p in exe.kernel.params:
        if p.kind == "arg":
            values.append(args[p.key])
        elif p.kind == "out":
            values.append(np.empty_like(args[0]))
        elif p.kind == "dim":
            values.append(args[0].shape[0])
        else:
            raise ValueError(f"kernel_alone handles arguments, outputs and sizes, not {p.kind}")
    return lambda: kernel(*values)


def candidates(n: int) -> dict[str, Callable[[], object]]:
    import numba

    rng = np.random.default_rng(0)
    a, b = rng.random(n), rng.random(n)
    # Measure the call path, not a cache: jitgraph compiles without its persistent cache unless
    # JITGRAPH_CACHE is set (read at each compile; restored afterwards for the caller's own).
    no_cache = "JITGRAPH_CACHE" not in os.environ
    if no_cache:
        os.environ["JITGRAPH_CACHE"] = "0"
    try:
        jitted = jg.jit(a_mul_b_plus_1)
        jitted(a, b)
    finally:
        if no_cache:
            del os.environ["JITGRAPH_CACHE"]
    serial = numba.njit(a_mul_b_plus_1)
    parallel = numba.njit(parallel=True)(a_mul_b_plus_1)
    found = {
        "jitgraph": lambda: jitted(a, b),
        "jitgraph kernel alone": None,
        "numba njit": lambda: serial(a, b),
        "numba njit(parallel=True)": lambda: parallel(a, b),
        "numpy": lambda: a_mul_b_plus_1(a, b),
    }
    for fn in found.values():
        if fn is not None:
            fn()  # compile
    found["jitgraph kernel alone"] = kernel_alone(jitted, a, b)
    expected = a * b + 1
    assert np.allclose(jitted(a, b), expected) and np.allclose(serial(a, b), expected)
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        jax_fn = jax.jit(a_mul_b_plus_1)
        ja, jb = jax.numpy.asarray(a), jax.numpy.asarray(b)
        jax_fn(ja, jb).block_until_ready()
        found["jax.jit (device arrays)"] = lambda: jax_fn(ja, jb).block_until_ready()
    except ImportError:
        pass
    return found


def measure(fns: dict[str, Callable[[], object]], rounds: int, calls: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            samples[name].append((time.perf_counter() - start) / calls * 1e6)
    return {name: float(np.median(times)) for name, times in samples.items()}


def numba_threads() -> int:
    import numba

    return numba.get_num_threads()


def run(size: int = 16, rounds: int = 15, calls: int = 20000) -> dict[str, float]:
    """Microseconds per call of every candidate (median of interleaved rounds), and
    "jitgraph overhead": jitgraph's full call minus its kernel alone."""
    results = measure(candidates(size), rounds, calls)
    results["jitgraph overhead"] = results["jitgraph"] - results["jitgraph kernel alone"]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=None,
                        help="numba.set_num_threads first (1: no thread wake-ups in the kernels)")
    args = parser.parse_args()
    if args.threads is not None:
        import numba

        numba.set_num_threads(args.threads)
    results = run(args.size, args.rounds, args.calls)
    threads = numba_threads()
    print(f"a * b + 1 on two float64[{args.size}], {threads} Numba threads, median of "
          f"{args.rounds} rounds of {args.calls} calls (us per call)")
    overhead = results.pop("jitgraph overhead")
    for name, us in results.items():
        print(f"  {name:<28}{us:8.2f}")
    print(f"  {'jitgraph overhead':<28}{overhead:8.2f}  (jitgraph - its kernel alone)")


if __name__ == "__main__":
    main()
