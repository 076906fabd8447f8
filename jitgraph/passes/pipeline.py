"""The optimization pipeline, in order. Each pass is pure: Graph -> Graph; partitioning turns
the graph into a Plan (groups of nodes that become loop nests) and plan passes refine it.

Any pass can be switched off for a block of code with `disabled("simplify", ...)`: the test
harness bisects a wrong result to the first pass whose removal fixes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ..ir.node import Graph
from .columns import fuse_columns
from .fold import fold_constants
from .partition import Plan, partition
from .rows import fuse_rows
from .simplify import simplify

# Graph -> Graph passes, in order. Common subexpressions are already shared by interning.
# simplify first removes identities that hide constants from folding (eye's index + 0, a
# where(c, K, K)); folding then turns constant subexpressions into CONST nodes, which the rules
# recognize in the second simplify (x * (Constant(2) - Constant(1)) becomes x). Each pass
# reaches a fixpoint per node by itself; longer alternations are rare enough not to loop.
PASSES: list[tuple[str, Callable[[Graph], Graph]]] = [
    ("simplify", simplify),
    ("fold_constants", fold_constants),
    ("simplify", simplify),
]

# Plan -> Plan passes, after partitioning.
PLAN_PASSES: list[tuple[str, Callable[[Plan], Plan]]] = [
    ("fuse_columns", fuse_columns),
    ("fuse_rows", fuse_rows),
]

_DISABLED: ContextVar[frozenset[str]] = ContextVar("jitgraph_disabled_passes", default=frozenset())


def pass_names() -> list[str]:
    """Every pass that can be disabled, in pipeline order, each name once."""
    names = [name for name, _ in PASSES] + [name for name, _ in PLAN_PASSES] + ["buffer_reuse"]
    return list(dict.fromkeys(names))


@contextmanager
def disabled(*names: str) -> Iterator[None]:
    """Compile without the named passes inside this block (for debugging and bisection)."""
    unknown = set(names) - set(pass_names())
    if unknown:
        raise ValueError(f"unknown pass {sorted(unknown)}; passes are {pass_names()}")
    token = _DISABLED.set(_DISABLED.get() | frozenset(names))
    try:
        yield
    finally:
        _DISABLED.reset(token)


def is_enabled(name: str) -> bool:
    return name not in _DISABLED.get()


def optimize(graph: Graph) -> Graph:
    for name, run in PASSES:
        if is_enabled(name):
            graph = run(graph)
    return graph


def plan(graph: Graph) -> Plan:
    result = partition(optimize(graph))
    for name, run in PLAN_PASSES:
        if is_enabled(name):
            result = run(result)
    return result
