"""The IR's one node type: frozen, interned (hash-consed), typed at construction.

Two nodes built from the same op, inputs and attributes are the same object, so structural
equality is identity and common-subexpression elimination happens as the graph is built.
Source locations are kept outside node identity, in `Graph.locations`.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .dims import Dim
from .ops import Op


@dataclass(frozen=True)
class Check:
    """A runtime condition on sizes that the graph relies on: `a == b` (kind 'eq'),
    `a % b == 0` ('divides'), `0 <= a < b`-style index bounds ('index': -b <= a < b)
    or `a > 0` ('nonempty'). `what` says which operation needs it, for the error message."""

    kind: str
    a: Dim
    b: Dim
    what: str


class ConstValue:
    """A hashable, read-only wrapper of a constant's array value."""

    __slots__ = ("array", "_key")

    def __init__(self, array: np.ndarray):
        array = np.array(array, copy=True)
        array.setflags(write=False)
        self.array = array
        self._key = (array.dtype.str, array.shape, array.tobytes())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConstValue) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        if self.array.ndim == 0:
            return repr(self.array.item())
        return f"array{self.array.shape}"


_TABLE: weakref.WeakValueDictionary[tuple, Node] = weakref.WeakValueDictionary()
_LOCK = threading.Lock()


class Node:
    """op(inputs; attrs) -> value of `shape` and `dtype`. `weak`: a Python scalar (NEP 50)."""

    __slots__ = ("op", "inputs", "attrs", "shape", "dtype", "weak", "checks", "__weakref__")

    op: Op
    inputs: tuple[Node, ...]
    attrs: tuple[tuple[str, Any], ...]
    shape: tuple[Dim, ...]
    dtype: np.dtype
    weak: bool
    checks: tuple[Check, ...]

    @staticmethod
    def make(
        op: Op,
        inputs: Iterable[Node],
        attrs: dict[str, Any],
        shape: tuple[Dim, ...],
        dtype: np.dtype,
        weak: bool = False,
        checks: tuple[Check, ...] = (),
    ) -> Node:
        inputs = tuple(inputs)
        frozen = tuple(sorted(attrs.items()))
        key = (op, inputs, frozen)
        with _LOCK:
            node = _TABLE.get(key)
            if node is None:
                node = object.__new__(Node)
                for name, value in (
                    ("op", op),
                    ("inputs", inputs),
                    ("attrs", frozen),
                    ("shape", tuple(shape)),
                    ("dtype", np.dtype(dtype)),
                    ("weak", weak),
                    ("checks", tuple(checks)),
                ):
                    object.__setattr__(node, name, value)
                _TABLE[key] = node
        return node

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("IR nodes are immutable")

    def attr(self, name: str, default: Any = None) -> Any:
        for key, value in self.attrs:
            if key == name:
                return value
        return default

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        from .printer import format_type

        return f"<Node {self.op.value} {format_type(self)}>"


@dataclass
class Graph:
    """Outputs of a computation over its arguments (VAR nodes, in call order)."""

    outputs: tuple[Node, ...]
    args: tuple[Node, ...]
    output_names: tuple[str, ...] = ()
    locations: dict[Node, Any] = field(default_factory=dict)
    # Checks of nodes a rewrite removed: the program must still reject what NumPy rejects.
    carried_checks: tuple[Check, ...] = ()

    def nodes(self) -> list[Node]:
        """Every node reachable from the outputs, inputs before users, deterministic."""
        return topological_order(self.outputs)

    def checks(self) -> list[Check]:
        seen: dict[Check, None] = dict.fromkeys(self.carried_checks)
        for node in self.nodes():
            for check in node.checks:
                seen.setdefault(check)
        return list(seen)

    def users(self) -> dict[Node, list[Node]]:
        result: dict[Node, list[Node]] = {n: [] for n in self.nodes()}
        for node in result:
            for inp in node.inputs:
                if node not in result[inp]:
                    result[inp].append(node)
        return result


def topological_order(roots: Iterable[Node]) -> list[Node]:
    """Post-order DFS from `roots` (inputs in order): first use first."""
    order: list[Node] = []
    seen: set[int] = set()
    for root in roots:
        stack: list[tuple[Node, int]] = [(root, 0)]
        while stack:
            node, i = stack.pop()
            if i == 0 and id(node) in seen:
                continue
            if i < len(node.inputs):
                stack.append((node, i + 1))
                child = node.inputs[i]
                if id(child) not in seen:
                    stack.append((child, 0))
            else:
                if id(node) not in seen:
                    seen.add(id(node))
                    order.append(node)
    return order
