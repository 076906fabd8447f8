"""jitgraph.testing: check jitted functions against NumPy, the oracle.

- `assert_matches_numpy(fn, *args)`: NumPy vs compiled vs reference interpreter, on copies of
  the arguments; differences are reported with the optimization pass that causes them.
- `strategies`: hypothesis strategies for arrays, dtypes, broadcastable shapes and random
  programs (imported on first use: hypothesis is only needed for it).
- `generate_program(seed)`: a random NumPy function (source and arguments) jitgraph supports.
- `run_campaign(count, seed)`: many random programs through the harness (`make fuzz`).
- the pytest plugin (`jitgraph.testing.plugin`): the `jit_check` fixture, `--jitgraph-fuzz=N`.
"""

from __future__ import annotations

import importlib
from typing import Any

from .compare import DEFAULT_RTOL, Tolerance
from .harness import Report, assert_matches_numpy, check, layout_copy
from .programs import Program, generate_program, load_function

__all__ = [
    "assert_matches_numpy",
    "check",
    "Report",
    "Tolerance",
    "DEFAULT_RTOL",
    "Program",
    "generate_program",
    "load_function",
    "layout_copy",
    "run_campaign",
    "strategies",
]


def __getattr__(name: str) -> Any:
    # hypothesis is a test dependency: import the strategies (and the campaign) only when used.
    if name == "strategies":
        return importlib.import_module(f"{__name__}.strategies")
    if name == "run_campaign":
        return importlib.import_module(f"{__name__}.fuzz").run_campaign
    raise AttributeError(f"module 'jitgraph.testing' has no attribute {name!r}")
