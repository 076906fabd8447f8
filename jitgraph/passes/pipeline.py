"""The optimization pipeline, in order. Each pass is pure: Graph -> Graph; the last one turns
the graph into a Plan (groups of nodes that become loop nests)."""

from __future__ import annotations

from typing import Callable

from ..ir.node import Graph
from .fold import fold_constants
from .partition import Plan, partition
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


def optimize(graph: Graph) -> Graph:
    for _, run in PASSES:
        graph = run(graph)
    return graph


def plan(graph: Graph) -> Plan:
    return partition(optimize(graph))
