"""Peak memory of one call beyond its inputs and outputs, measured in a fresh process.

Each (workload, implementation) runs in its own process: it compiles and warms up on the real
inputs, resets the kernel's peak-RSS mark (`echo 5 > /proc/self/clear_refs`, Linux), makes one
call, and reports VmHWM - RSS before the call - output bytes: the temporaries the call needed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
N = 4096

WORKLOADS = {
    "a*b + c*d": ("abcd", "ABCD"),
    "GELU": ("gelu", "x"),
    "sqrt(x*x+y*y)*exp(-(x*x+y*y))": ("chain", "xy"),
}

CHILD = r"""
import json, sys
import numpy as np
import jitgraph as jg

def rss_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])

kind, names, impl, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rng = np.random.default_rng(0)
args = {k: rng.uniform(0, 1, (n, n)).astype(np.float32) for k in names}
syms = {k: jg.Variable(k) for k in names}
if kind == "abcd":
    A, B, C, D = (syms[k] for k in "ABCD")
    sym = A * B + C * D
    np_fn = lambda A, B, C, D: A * B + C * D
elif kind == "gelu":
    x = syms["x"]
    sym = 0.5 * x * (1 + jg.sym.tanh(0.7978845608 * (x + 0.044715 * x**3)))
    np_fn = lambda x: 0.5 * x * (1 + np.tanh(0.7978845608 * (x + 0.044715 * x**3)))
else:
    x, y = syms["x"], syms["y"]
    r2 = x * x + y * y
    sym = jg.sym.sqrt(r2) * jg.sym.exp(-r2)
    np_fn = lambda x, y: np.sqrt(x * x + y * y) * np.exp(-(x * x + y * y))
fn = jg.compile(sym) if impl == "jitgraph" else np_fn
for _ in range(2):
    out = fn(**args)
del out
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = rss_kib("VmRSS")
out = fn(**args)
peak = rss_kib("VmHWM")
print(json.dumps({"beyond_outputs_mb": (peak - before) / 1024 - out.nbytes / 2**20}))
"""


def measure(kind: str, names: str, impl: str, n: int) -> float:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, kind, names, impl, str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])["beyond_outputs_mb"]


def measure_all(n: int = N) -> list[tuple[str, float, float]]:
    """(workload, NumPy MB, jitgraph MB) for every workload on n x n float32 inputs."""
    rows = []
    for label, (kind, names) in WORKLOADS.items():
        np_mb, jg_mb = (measure(kind, names, impl, n) for impl in ("numpy", "jitgraph"))
        rows.append((f"{label} ({n}x{n} f32)", np_mb, jg_mb))
    return rows


def markdown(rows: list[tuple[str, float, float]]) -> str:
    lines = ["| workload | NumPy temporaries MB | jitgraph temporaries MB |", "|---|---:|---:|"]
    lines += [f"| {label} | {np_mb:.1f} | {jg_mb:.1f} |" for label, np_mb, jg_mb in rows]
    return "\n".join(lines)


def write(rows: list[tuple[str, float, float]], path: str = os.path.join(HERE, "MEMORY.md")):
    with open(path, "w") as f:
        f.write(
            "# Peak memory of one call beyond its outputs\n\n"
            "Measured by `python benchmarks/memory.py` (peak RSS in a fresh process per "
            "row; see the script's docstring).\n\n" + markdown(rows) + "\n"
        )


def main() -> int:
    rows = measure_all(N)
    text = markdown(rows)
    print(text)
    write(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
