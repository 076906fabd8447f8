"""Constant folding: a computation over constants is done once, at compile time.

A node whose inputs all have values known now (constants, and small index grids of known
shape) is evaluated by the reference interpreter -- NumPy itself, the oracle -- and replaced by a
constant of the same dtype, shape and weakness. Folding therefore cannot change a result: the
value is the one the reference semantics give, including overflow wrap-around, NaN and inf.

Large results are not folded: a broadcast scalar or an index grid costs nothing in a loop nest,
while a folded array would be stored, passed to the kernel and read from memory.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import reference
from ..ir import build
from ..ir.node import Graph, Node
from ..ir.ops import Kind, Op, kind
from .rewrite import rewrite, same_type

# Largest number of elements a folded constant (or an index grid read as one) may have.
MAX_FOLD_ELEMENTS = 4096


def _static_size(node: Node) -> int | None:
    """Number of elements if every dimension is known now, else None."""
    size = 1
    for d in node.shape:
        if not isinstance(d, int):
            return None
        size *= d
    return size


def _known_value(node: Node) -> bool:
    """True if `node`'s value is known at compile time: a constant, or an index grid whose
    shape is known and small (arange(5), eye(3)); sizes (SIZE) depend on the arguments."""
    if node.op is Op.CONST:
        return True
    if node.op is Op.INDEX:
        size = _static_size(node)
        return size is not None and size <= MAX_FOLD_ELEMENTS
    return False


def _evaluate(node: Node) -> Any:
    """`node`'s value by the reference interpreter, or None if NumPy raises (e.g. an integer
    to a negative power): the error is then left to happen, or not, at run time as before."""
    inputs = [reference._evaluate_node(i, [], []) for i in node.inputs]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return reference._evaluate_node(node, inputs, [])
        except (ArithmeticError, ValueError, TypeError, IndexError):
            return None


def _constant_like(node: Node, value: Any) -> Node | None:
    """A CONST node holding `value` with `node`'s exact type, or None if that is impossible."""
    array = np.asarray(value)
    if array.dtype != node.dtype or array.shape != node.shape:
        return None  # NumPy disagrees with the inferred type: leave the node to the backends
    if node.weak:
        # A weak value stays a Python scalar (NEP 50): users keep their own dtype.
        if array.shape != ():
            return None
        folded = build.const(array.item())
    else:
        folded = build.const(array)
    return folded if same_type(node, folded) else None


def fold_node(node: Node) -> Node | None:
    """The rule: `node` evaluated to a constant, or None if it is not foldable."""
    if kind(node.op) in (Kind.SOURCE, Kind.CONTROL) or not node.inputs:
        return None  # a loop over constants is run by the kernel, not by the compiler
    if not all(_known_value(i) for i in node.inputs):
        return None
    size = _static_size(node)
    if size is None or size > MAX_FOLD_ELEMENTS:
        return None
    value = _evaluate(node)
    if value is None:
        return None
    return _constant_like(node, value)


def fold_constants(graph: Graph) -> Graph:
    """`graph` with every foldable computation over constants replaced by its value."""
    return rewrite(graph, fold_node)
