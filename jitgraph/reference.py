"""The reference interpreter: evaluates any graph with plain NumPy, node by node.

It is the oracle of the test suite and a user-visible backend (`backend="reference"`) for
debugging: no code is generated, every intermediate is an ordinary NumPy array.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .codegen.entry import check_failed
from .errors import CodegenError
from .ir import dims as D
from .ir.build import key_from_items
from .ir.control import at_lengths, body_of, checked_index, checked_window, split_inputs
from .ir.node import Graph, Node
from .ir.ops import BINARY, REDUCTIONS, UNARY, Op


def _index_grid(node: Node, shapes: list) -> np.ndarray:
    shape = tuple(D.evaluate(d, shapes) for d in node.attr("shape"))
    axis = node.attr("axis")
    line = np.arange(shape[axis], dtype=np.int64)
    return np.broadcast_to(line.reshape([-1 if a == axis else 1 for a in range(len(shape))]), shape)


def _reduce(node: Node, x: np.ndarray) -> Any:
    fn = REDUCTIONS[node.op]
    keepdims = node.attr("keepdims")
    if node.op in (Op.ARGMAX, Op.ARGMIN):
        axis = None if node.attr("flat") else node.attr("axes")[0]
        return fn(x, axis=axis, keepdims=keepdims)
    return fn(x, axis=node.attr("axes"), keepdims=keepdims)


def _evaluate_node(node: Node, values: list[Any], shapes: list) -> Any:
    op = node.op
    if op is Op.CONST:
        value = node.attr("value").array
        return value.item() if node.weak else value
    if op is Op.SIZE:
        return D.evaluate(node.attr("dim"), shapes)
    if op is Op.INDEX:
        return _index_grid(node, shapes)
    fn: Callable | None = UNARY.get(op) or BINARY.get(op)
    if fn is not None:
        return fn(*values)
    if op is Op.CAST:
        return np.asarray(values[0]).astype(node.attr("dtype"))
    if op is Op.WHERE:
        return np.where(*values)
    if op in REDUCTIONS:
        return _reduce(node, values[0])
    if op is Op.MATMUL:
        return np.matmul(*values)
    if op is Op.TRANSPOSE:
        return np.transpose(values[0], node.attr("perm"))
    if op is Op.GETITEM:
        return np.asarray(values[0])[key_from_items(node.attr("items"))]
    if op is Op.BROADCAST:
        return np.broadcast_to(values[0], tuple(D.evaluate(d, shapes) for d in node.attr("shape")))
    if op is Op.RESHAPE:
        return np.reshape(values[0], tuple(D.evaluate(d, shapes) for d in node.attr("shape")))
    if op is Op.CONCAT:
        return np.concatenate(values, axis=node.attr("axis"))
    if op is Op.SETITEM:
        result = np.array(values[0], copy=True)
        result[key_from_items(node.attr("items"))] = values[1]
        return result
    if op is Op.WRAP:
        length = node.attr("length")
        if length is not None:
            return checked_window(int(values[0]), int(values[1]), length, node.attr("site"))
        return checked_index(int(values[0]), int(values[1]), node.attr("site"))
    if op is Op.AT:
        return np.asarray(values[0])[_at_key(node, values[1:])]
    if op is Op.PUT:
        result = np.array(values[0], copy=True)
        result[_at_key(node, values[2:])] = values[1]
        return result
    if op in (Op.LOOP, Op.BRANCH):
        return _control(node, values, shapes)
    if op is Op.RESULT:
        return values[0][node.attr("index")]
    raise CodegenError(f"reference interpreter: no rule for {op.value}")


def _at_key(node: Node, indices: list[Any]) -> tuple:
    key: list[Any] = [slice(None)] * (len(node.inputs[0].shape))
    for axis, i, k in zip(node.attr("axes"), indices, at_lengths(node), strict=True):
        key[axis] = int(i) if k is None else slice(int(i), int(i) + k)
    return tuple(key)


def _control(node: Node, values: list[Any], shapes: list) -> tuple:
    """A loop or branch: its body graphs run on the carried values, iteration by iteration."""
    body = body_of(node)
    n_head, n_inits = (len(part) for part in split_inputs(node)[:2])
    head, carried = values[:n_head], values[n_head : n_head + n_inits]
    captures = values[n_head + n_inits :]
    if body.kind == "branch":
        graph = body.graph if bool(head[0]) else body.orelse
        return tuple(_run(graph, [*carried, *captures], shapes))
    if body.kind == "while":
        while bool(_run(body.cond, [*carried, *captures], shapes)[0]):
            carried = _run(body.graph, [*carried, *captures], shapes)
        return tuple(carried)
    for i in range(*(int(v) for v in head)):
        carried = _run(body.graph, [i, *carried, *captures], shapes)
    return tuple(carried)


def _run(graph: Graph, values: list[Any], shapes: list) -> list[Any]:
    """The outputs of `graph` for its argument values; sizes come from the outermost call."""
    env: dict[Node, Any] = dict(zip(graph.args, values, strict=True))
    for node in graph.nodes():
        if node not in env:
            value = _evaluate_node(node, [env[i] for i in node.inputs], shapes)
            # A weak value stays a Python scalar, so it keeps promoting weakly (NEP 50).
            env[node] = np.asarray(value).item() if node.weak and node.ndim == 0 else value
    return [env[node] for node in graph.outputs]


def evaluate(graph: Graph, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Outputs of `graph` for `arrays` (one per graph argument), as fresh NumPy arrays."""
    shapes = [np.shape(a) for a in arrays]
    for check in graph.checks():
        if not _holds(check, shapes):
            raise check_failed(graph, check, shapes)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        values = _run(graph, list(arrays), shapes)
    results = []
    for node, value in zip(graph.outputs, values, strict=True):
        value = np.array(value, copy=True)
        if value.dtype != node.dtype:
            raise CodegenError(
                f"reference: {node.op.value} gave {value.dtype}, the IR inferred "
                f"{node.dtype} (a jitgraph bug: please report it)"
            )
        results.append(value)
    return results


def _holds(check, shapes) -> bool:
    a, b = D.evaluate(check.a, shapes), D.evaluate(check.b, shapes)
    if check.kind == "eq":
        return a == b
    if check.kind == "divides":
        return b != 0 and a % b == 0
    if check.kind == "index":
        return -b <= a < b
    return a != 0
