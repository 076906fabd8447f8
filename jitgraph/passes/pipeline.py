"""The optimization pipeline, in order. Each pass is pure: Graph -> Graph; the last one turns
the graph into a Plan (groups of nodes that become loop nests)."""

from __future__ import annotations

from typing import Callable

from ..ir.node import Graph
from .partition import Plan, partition

# Graph -> Graph passes, in order. Common subexpressions are already shared by interning.
PASSES: list[tuple[str, Callable[[Graph], Graph]]] = []


def optimize(graph: Graph) -> Graph:
    for _, run in PASSES:
        graph = run(graph)
    return graph


def plan(graph: Graph) -> Plan:
    return partition(optimize(graph))
