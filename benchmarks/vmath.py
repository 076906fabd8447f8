"""vmath vs libm inside the same prange loop over 16M elements, float32 and float64.

Run: .venv/bin/python benchmarks/vmath.py   (prints a table; checks the float32 exp loop's LLVM IR
for <8 x float> vectors)
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit, prange

from jitgraph.codegen import vmath

N = 1 << 24
LIBM = {
    "exp": np.exp,
    "expm1": np.expm1,
    "log": np.log,
    "log1p": np.log1p,
    "tanh": np.tanh,
    "sin": np.sin,
    "cos": np.cos,
}
INPUT_RANGE = {
    "exp": (-20, 20),
    "expm1": (-2, 2),
    "log": (1e-3, 1e3),
    "log1p": (-0.5, 10),
    "tanh": (-5, 5),
    "sin": (-10, 10),
    "cos": (-10, 10),
}


def loop(fn):
    """A parallel elementwise loop over `fn`, compiled like jitgraph's kernels."""

    @njit(parallel=True, error_model="numpy", fastmath={"contract", "reassoc"})
    def run(x, out):
        for i in prange(x.size):
            out[i] = fn(x[i])

    return run


def best_time(run, x: np.ndarray, out: np.ndarray, repeat: int = 5) -> float:
    run(x, out)  # compile
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run(x, out)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"{'function':10s} {'dtype':8s} {'libm ms':>9s} {'vmath ms':>9s} {'speedup':>8s}")
    for name, libm in LIBM.items():
        for dtype, suffix in ((np.float32, "f32"), (np.float64, "f64")):
            fast = getattr(vmath, f"vm_{name}_{suffix}", None)
            if fast is None:
                continue
            x = rng.uniform(*INPUT_RANGE[name], N).astype(dtype)
            out = np.empty_like(x)
            t_libm = best_time(loop(libm), x, out)
            t_fast = best_time(loop(fast), x, out)
            print(
                f"{name:10s} {dtype.__name__:8s} {t_libm * 1e3:9.1f} {t_fast * 1e3:9.1f} "
                f"{t_libm / t_fast:7.1f}x"
            )
    run = loop(vmath.vm_exp_f32)
    x = np.ones(16, np.float32)
    run(x, np.empty_like(x))
    ir = "\n".join(run.inspect_llvm().values())
    print("float32 exp loop IR has <8 x float>:", "<8 x float>" in ir)


if __name__ == "__main__":
    main()
