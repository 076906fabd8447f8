"""Runtime: turn a graph into a callable (generated source compiled by Numba), cache it per
argument signature, validate arguments, and run it.

Backends: "numba" (the default: parallel compiled kernels), "python" (the same generated code
run as plain Python: slow, but debuggable and free of compile time) and "reference" (the NumPy
interpreter).
"""

from __future__ import annotations

import importlib
import itertools
import linecache
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import reference
from .codegen.entry import emit_entry
from .codegen.kernel import Kernel, emit_kernel
from .errors import ArgumentError
from .ir import dtypes
from .ir.node import Graph
from .passes.partition import Plan
from .passes.pipeline import plan as make_plan

BACKENDS = ("numba", "python", "reference")
# No nnan/ninf: NaN and inf keep their IEEE meaning (max, comparisons, isnan).
FASTMATH = {"contract", "reassoc"}
_COUNTER = itertools.count()
# Transcendental functions in generated code: "fast" = jitgraph.codegen.vmath (vectorizable
# polynomial / rational code, accuracy documented there), "libm" = NumPy's scalar functions (C
# library calls, correctly rounded or within 1 ulp, which stop loops from vectorizing). Read when
# a graph is compiled; the environment variable JITGRAPH_MATH sets the default.
MATH = os.environ.get("JITGRAPH_MATH", "fast")


def _choose_threading_layer() -> None:
    """Numba's default 'workqueue' layer aborts when two threads run parallel code at once;
    prefer a thread-safe layer (OpenMP or TBB) when one can be loaded."""
    import numba

    if os.environ.get("NUMBA_THREADING_LAYER"):
        return
    for module in ("numba.np.ufunc.omppool", "numba.np.ufunc.tbbpool"):
        try:
            importlib.import_module(module)
        except ImportError:
            continue
        numba.config.THREADING_LAYER = "threadsafe"
        return


_THREADING_CHOSEN = False
_SERIAL_LOCK: threading.Lock | None = None


def _numba_namespace() -> dict[str, Any]:
    global _THREADING_CHOSEN
    import numba

    if not _THREADING_CHOSEN:
        _choose_threading_layer()
        _THREADING_CHOSEN = True
    from .codegen import support, vmath

    return {
        "np": np,
        "njit": numba.njit,
        "prange": numba.prange,
        "FASTMATH": FASTMATH,
        **vmath.NAMESPACE,
        **support.NAMESPACE,
    }


def _python_namespace() -> dict[str, Any]:
    # The vmath functions are njit dispatchers here too (their bit-cast intrinsics have no
    # Python implementation): each compiles on its first call, and results match the Numba
    # backend's exactly.
    from .codegen import support, vmath

    return {
        "np": np,
        "njit": lambda *a, **k: lambda fn: fn,
        "prange": range,
        "FASTMATH": FASTMATH,
        **vmath.NAMESPACE,
        **support.PYTHON_NAMESPACE,
    }


def _register_source(source: str, label: str) -> str:
    filename = f"<jitgraph:{label}:{next(_COUNTER)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return filename


@dataclass
class Executable:
    """One specialization: the graph, its plan, the generated sources and the entry function."""

    graph: Graph
    plan: Plan | None
    kernel: Kernel | None
    entry_source: str
    run: Callable[..., tuple]
    backend: str
    input_graph: Graph | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """Generated code: the kernel, then the entry function that calls it."""
        if self.kernel is None:
            return "# reference backend: no code is generated\n"
        return self.kernel.source + "\n\n" + self.entry_source


def build(graph: Graph, backend: str = "numba", label: str = "graph") -> Executable:
    if backend == "reference":
        return Executable(
            graph,
            None,
            None,
            "",
            lambda *a: tuple(reference.evaluate(graph, list(a))),
            backend,
            graph,
        )
    timings: dict[str, float] = {}
    start = time.perf_counter()
    plan = make_plan(graph)
    timings["passes"] = time.perf_counter() - start
    start = time.perf_counter()
    kernel = emit_kernel(plan, name=f"kernel_{_identifier(label)}")
    entry_source, env = emit_entry(plan.graph, kernel, name=f"entry_{_identifier(label)}")
    timings["codegen"] = time.perf_counter() - start
    namespace = _numba_namespace() if backend == "numba" else _python_namespace()
    exec(compile(kernel.source, _register_source(kernel.source, label), "exec"), namespace)
    env["_kernel"] = namespace[kernel.name]
    exec(compile(entry_source, _register_source(entry_source, label + "-entry"), "exec"), env)
    entry = env[f"entry_{_identifier(label)}"]
    if backend == "numba":
        entry = _guard_threading(entry, timings)
    return Executable(plan.graph, plan, kernel, entry_source, entry, backend, graph, timings)


def _identifier(label: str) -> str:
    text = "".join(c if c.isalnum() and c.isascii() else "_" for c in label)[:32]
    return text if text and not text[0].isdigit() else "g" + text


def _guard_threading(
    entry: Callable[..., tuple], timings: dict[str, float]
) -> Callable[..., tuple]:
    """Serialize calls if Numba ended up on the non-thread-safe workqueue layer. The first
    call's time (mostly Numba's compilation) is recorded in `timings`."""

    def first_call(*args):
        global _SERIAL_LOCK
        start = time.perf_counter()
        result = entry(*args)
        timings.setdefault("numba compile + first run", time.perf_counter() - start)
        import numba

        try:
            layer = numba.threading_layer()
        except ValueError:  # no parallel region has run yet: ask again on the next call
            return result
        if layer == "workqueue" and _SERIAL_LOCK is None:
            _SERIAL_LOCK = threading.Lock()
        return result

    def guarded(*args):
        if _SERIAL_LOCK is None:
            return first_call(*args)
        with _SERIAL_LOCK:
            return entry(*args)

    return guarded


def as_array(value: Any, name: str) -> np.ndarray:
    """A call argument as an ndarray of a supported dtype, or an error naming the argument."""
    if isinstance(value, np.ndarray):
        array = value
    else:
        try:
            array = np.asarray(value)
        except Exception as exc:  # ragged lists and the like
            raise ArgumentError(
                f"argument {name!r}: cannot convert {type(value).__name__} to an array ({exc})"
            ) from None
    if array.dtype not in dtypes.SUPPORTED or array.dtype.byteorder == ">":
        raise ArgumentError(
            f"argument {name!r} (shape {array.shape}) has dtype {array.dtype}, which "
            f"jitgraph does not support; supported: {dtypes.supported_names()}"
        )
    return array


def signature(arrays: list[np.ndarray]) -> tuple:
    """What a kernel is specialized on: dtype, ndim and which axes have size 1 (not sizes)."""
    return tuple((a.dtype, tuple(s == 1 for s in a.shape)) for a in arrays)
