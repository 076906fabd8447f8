"""Compile latency: jitgraph vs Numba's own `@njit(parallel=True)`, each in a fresh process.

For every function, four measurements, each the median of `--repeat` fresh processes:

- cold: jitgraph with its persistent cache disabled (JITGRAPH_CACHE=0), and Numba compiling
  the same function without `cache=True`;
- cached: a second process after a first one filled the cache (jitgraph's cache directory, or
  Numba's `cache=True` files).

Times run from the first call's start to its result; importing NumPy, Numba and jitgraph comes
before and is reported apart (jitgraph imports Numba lazily, on its first compile, so it is
imported up front for both). jitgraph's cold time is split into its phases (parse, passes,
codegen, Numba). Numba cannot compile the NumPy softmax (`max(axis=, keepdims=)`): its version
is the closest it compiles, a `prange` over rows.

    .venv/bin/python benchmarks/compile.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

CASES = {
    "a*b + c*d": {
        "args": "[rng.random(100_000) for _ in range(4)]",
        "numpy": """
            def fn(a, b, c, d):
                return a * b + c * d
        """,
    },
    "row softmax": {
        "args": "[rng.random((1000, 100))]",
        "numpy": """
            def fn(x):
                e = np.exp(x - x.max(axis=1, keepdims=True))
                return e / e.sum(axis=1, keepdims=True)
        """,
        "numba": """
            def fn(x):
                out = np.empty_like(x)
                for i in prange(x.shape[0]):
                    e = np.exp(x[i] - x[i].max())
                    out[i] = e / e.sum()
                return out
        """,
    },
    "GELU (tanh)": {
        "args": "[rng.random(100_000)]",
        "numpy": """
            def fn(x):
                return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))
        """,
    },
}

PROLOGUE = """
import json, time
start = time.perf_counter()
import numpy as np
import numba
from numba import njit, prange
import jitgraph as jg
imported = time.perf_counter() - start
rng = np.random.default_rng(0)
"""

JITGRAPH = """
args = {args}
f = jg.jit(fn)
start = time.perf_counter()
f(*args)
seconds = time.perf_counter() - start
exe = f.specialization(*args).executable
print(json.dumps({{"seconds": seconds, "import": imported, "cache": exe.cache,
                  "timings": exe.timings}}))
"""

NUMBA = """
f = njit(parallel=True, cache={cache})(fn)
args = {args}
start = time.perf_counter()
f(*args)
seconds = time.perf_counter() - start
hits = sum(f.stats.cache_hits.values())
print(json.dumps({{"seconds": seconds, "import": imported, "cache": "hit" if hits else "miss"}}))
"""


def program(case: dict, tool: str, cache: bool) -> str:
    source = textwrap.dedent(case.get(tool, case["numpy"]))
    body = JITGRAPH if tool == "numpy" else NUMBA
    return PROLOGUE + source + body.format(args=case["args"], cache=cache)


def run(code: str, directory: Path, env: dict[str, str]) -> dict:
    """Run `code` as a script in `directory` (where Numba's cache=True files go)."""
    directory.mkdir(exist_ok=True)
    script = directory / "program.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark program failed:\n{code}\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def measure(case: dict, repeat: int) -> dict[str, list[dict]]:
    """Fresh processes, jitgraph and Numba alternating (the machine's load then weighs on
    both alike)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("JITGRAPH_CACHE")}
    tools = {"jitgraph": "numpy", "numba": "numba"}
    results: dict[str, list[dict]] = {f"{n} {k}": [] for n in tools for k in ("cold", "cached")}
    with tempfile.TemporaryDirectory() as tmp:
        cold_env = {**base, "JITGRAPH_CACHE": "0"}
        cached_env = {**base, "JITGRAPH_CACHE_DIR": str(Path(tmp) / "cache")}
        for name, tool in tools.items():  # fill the caches
            first = run(program(case, tool, True), Path(tmp) / name, cached_env)
            assert first["cache"] == "miss", first
        for _ in range(repeat):
            for name, tool in tools.items():
                with tempfile.TemporaryDirectory() as cold:
                    results[f"{name} cold"].append(
                        run(program(case, tool, False), Path(cold), cold_env))
                hit = run(program(case, tool, True), Path(tmp) / name, cached_env)
                assert hit["cache"] == "hit", hit
                results[f"{name} cached"].append(hit)
    return results


def median(runs: list[dict], field: str = "seconds") -> float:
    return float(np.median([r[field] for r in runs]))


def phases(runs: list[dict]) -> str:
    names = {"parse": "parse", "passes": "passes", "codegen": "codegen",
             "numba compile + first run": "numba"}
    return ", ".join(f"{short} {np.median([r['timings'][k] for r in runs]) * 1e3:.0f}"
                     for k, short in names.items())


COLUMNS = ("jitgraph cold", "numba cold", "jitgraph cached", "numba cached")


def warm_os_cache() -> None:
    """Load the libraries into the OS's file cache (the first process would pay for it)."""
    with tempfile.TemporaryDirectory() as tmp:
        run(PROLOGUE + "print('{}')", Path(tmp), dict(os.environ))


def summary(repeat: int, names: list[str] | None = None) -> dict[str, dict[str, object]]:
    """For each case (all, or those named): the median seconds of each of COLUMNS, jitgraph's
    cold phases ("phases", a text in ms) and the import time ("import", seconds)."""
    warm_os_cache()
    found = {}
    for name, case in CASES.items():
        if names is not None and name not in names:
            continue
        r = measure(case, repeat)
        found[name] = {k: median(r[k]) for k in COLUMNS}
        found[name]["phases"] = phases(r["jitgraph cold"])
        found[name]["import"] = median(r["jitgraph cold"], "import")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    found = summary(args.repeat)
    print(f"first call, seconds (median of {args.repeat} fresh processes)\n")
    header = ("function", *COLUMNS)
    rows = [(name, *(f"{r[k]:.3f}" for k in COLUMNS)) for name, r in found.items()]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    print("\njitgraph cold, by phase:")
    print("\n".join(f"  {name}: {r['phases']} ms" for name, r in found.items()))
    imports = list(found.values())[-1]["import"]
    print(f"\nimporting numpy + numba + jitgraph before the first call: {imports:.2f} s")


if __name__ == "__main__":
    main()
