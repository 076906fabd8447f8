"""Runtime: turn a graph into a callable (generated source compiled by Numba, its machine code
kept on disk for other processes by `jitgraph.cache`), cache it per argument signature,
validate arguments, and run it.

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

from . import cache, reference
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
_SERIAL_LOCK = threading.Lock()  # calls on the workqueue layer, one at a time


# Helper modules of generated code, imported only for a kernel that names one of their
# functions: importing both costs ~23 ms, a tenth of a cached first call.
_HELPERS = {"vm_": "vmath", "_fmax": "support", "_fmin": "support", "_gemm_": "support",
            "_wrap_": "support"}


def _numba_namespace(source: str) -> dict[str, Any]:
    """The names a kernel's `source` may use."""
    global _THREADING_CHOSEN
    import numba  # after `import jitgraph` set the thread pools' defaults (_threads.py)

    if not _THREADING_CHOSEN:
        _choose_threading_layer()
        _THREADING_CHOSEN = True
    namespace = {"np": np, "njit": numba.njit, "prange": numba.prange, "FASTMATH": FASTMATH}
    for module in sorted({m for prefix, m in _HELPERS.items() if prefix in source}):
        namespace.update(importlib.import_module(f".codegen.{module}", __package__).NAMESPACE)
    return namespace


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
    """One specialization: the graph, its plan, the generated sources and the entry function.

    `run` is what a call runs: for the Numba backend, first a wrapper that times the first call
    (mostly Numba's compilation) and then replaces itself with the entry function, so that
    later calls pay for nothing else. `cache` says where the kernel's machine code came from:
    "off" (no persistent cache), "pending" (not called yet), "hit" (loaded from disk) or
    "miss" (compiled, and saved for other processes)."""

    graph: Graph
    plan: Plan | None
    kernel: Kernel | None
    entry_source: str
    run: Callable[..., tuple]
    backend: str
    input_graph: Graph | None = None
    timings: dict[str, float] = field(default_factory=dict)
    cache: str = "off"

    @property
    def source(self) -> str:
        """Generated code: the kernel, then the entry function that calls it."""
        if self.kernel is None:
            return "# reference backend: no code is generated\n"
        twin = "\n\n" + self.kernel.serial_source if self.kernel.serial_name else ""
        return self.kernel.source + twin + "\n\n" + self.entry_source


def build(
    graph: Graph, backend: str = "numba", label: str = "graph", donate: dict[int, int] | None = None
) -> Executable:
    """Plan, generate and compile `graph`. `donate` (output index -> argument index): outputs
    that are a written argument's final value, which may be computed in that argument's array."""
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
    name = _identifier(label)
    kernel = emit_kernel(plan, name=f"kernel_{name}", donate=donate)
    entry_source, env = emit_entry(plan.graph, kernel, name=f"entry_{name}")
    timings["codegen"] = time.perf_counter() - start
    cached = None
    names = (kernel.name, kernel.serial_name) if kernel.serial_name else (kernel.name,)
    source = kernel.source + ("\n\n" + kernel.serial_source if kernel.serial_name else "")
    if backend == "numba":
        namespace = _numba_namespace(source)
        _link_gemm(kernel.source)
        flags = {"fastmath": ", ".join(sorted(FASTMATH)), "math": MATH}
        cached = cache.load_kernel(source, names, entry_source, label, name,
                                   signature_text(plan.graph), flags, namespace)
    else:
        namespace = _python_namespace()
    functions = cached.dispatchers if cached else _execute(source, names, namespace, label)
    env["_kernel"] = functions[0]
    if kernel.serial_name:
        env["_kernel_serial"] = functions[1]
    exec(compile(entry_source, _register_source(entry_source, label + "-entry"), "exec"), env)
    entry = env[f"entry_{name}"]
    exe = Executable(plan.graph, plan, kernel, entry_source, entry, backend, graph, timings)
    if backend == "numba":
        if "prange(" in kernel.source or "_gemm_" in kernel.source:  # runs Numba's threads
            env["_kernel"] = _guarded(env, functions[0])
        exe.run = _first_call(exe, entry, cached)
        exe.cache = "off" if cached is None else "pending"
    return exe


def _link_gemm(source: str) -> None:
    """Register the GEMM entries a kernel calls (codegen/gemm.py) before it is compiled or
    loaded from the cache: it links to them by symbol name."""
    from .codegen import gemm

    for dtype in ("float32", "float64"):
        if f"_gemm_{dtype}(" in source:
            gemm.register(dtype)


def _execute(source: str, names: tuple[str, ...], namespace: dict[str, Any],
             label: str) -> list[Callable]:
    """The kernel (and its serial twin) defined in memory (the cache disabled, or the python
    backend)."""
    exec(compile(source, _register_source(source, label), "exec"), namespace)
    return [namespace[n] for n in names]


def signature_text(graph: Graph) -> str:
    """`a: float32[:, 1], n: int64[]`: the arguments a kernel is specialized on (dtype, rank and
    size-1 axes), as cache explanations show them."""
    return ", ".join(
        f"{arg.attr('name')}: {arg.dtype}[{', '.join('1' if d == 1 else ':' for d in arg.shape)}]"
        for arg in graph.args
    )


def _identifier(label: str) -> str:
    text = "".join(c if c.isalnum() and c.isascii() else "_" for c in label)[:32]
    return text if text and not text[0].isdigit() else "g" + text


def _first_call(
    exe: Executable, entry: Callable[..., tuple], cached: cache.Entry | None
) -> Callable[..., tuple]:
    """The first call: run `entry` (Numba compiles or loads the kernel it calls), record its
    time and the cache outcome, then make `exe.run` the entry itself."""

    def first_call(*args):
        start = time.perf_counter()
        result = entry(*args)
        exe.timings.setdefault("numba compile + first run", time.perf_counter() - start)
        if cached is not None and exe.cache == "pending":
            exe.cache = cached.outcome()
        exe.run = entry
        return result

    return first_call


def _guarded(env: dict[str, Any], kernel: Callable) -> Callable:
    """The parallel kernel as the entry calls it. Numba's 'workqueue' threading layer aborts
    when two threads run parallel code at once, so on it calls are serialized. Compiling or
    loading a parallel kernel starts the layer; until one is known to run, calls hold the lock
    too (two threads' first calls of kernels whose only parallel loops are a GEMM's aborted
    the process on the workqueue layer). Once the layer is known the entry's global `_kernel`
    is rebound, once: to the kernel itself on a thread-safe layer, to a locked call on
    workqueue. A serial twin needs no lock."""

    def locked(*args):
        with _SERIAL_LOCK:
            return kernel(*args)

    def guarded(*args):
        result = locked(*args)
        layer = _threading_layer()
        if layer is not None:
            env["_kernel"] = locked if layer == "workqueue" else kernel
        return result

    return guarded


def _threading_layer() -> str | None:
    """Numba's running threading layer, None before any parallel code has started it."""
    import numba

    try:
        return numba.threading_layer()
    except ValueError:
        return None


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
