"""Deterministic text form of a graph: the backbone of golden tests and of `inspect`.

    def graph(A: f32[A.0,A.1], B: f32[A.0,A.1]) -> (f32[A.0,A.1]):
      %0 = multiply B, A : f32[A.0,A.1]
      %1 = add %0, 1 : f32[A.0,A.1]
      return %1

Values are numbered at print time in topological order, so equal graphs print equal text.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dims as D
from . import dtypes
from .node import ConstValue, Graph, Node
from .ops import Op


def format_type(node: Node) -> str:
    kind = "weak " if node.weak else ""
    return f"{kind}{dtypes.short_name(node.dtype)}[{D.format_shape(node.shape)}]"


def _format_attr(value: Any) -> str:
    if isinstance(value, np.dtype):
        return dtypes.short_name(value)
    if isinstance(value, ConstValue):
        return repr(value)
    if isinstance(value, D.DimExpr):
        return D.format_dim(value)
    if isinstance(value, tuple):
        return (
            "(" + ", ".join(_format_attr(v) for v in value) + ("," if len(value) == 1 else "") + ")"
        )
    return repr(value)


def _format_items(items: tuple) -> str:
    parts = []
    for item in items:
        if item[0] == "new":
            parts.append("None")
        elif item[0] == "int":
            parts.append(str(item[1]))
        else:
            _, start, stop, step = item
            text = f"{'' if start is None else start}:{'' if stop is None else stop}"
            parts.append(text + (f":{step}" if step != 1 else ""))
    return "[" + ", ".join(parts) + "]"


def value_names(graph: Graph) -> dict[Node, str]:
    """Print names: arguments by name, scalar constants as literals, the rest %0, %1, ... in
    topological order (so equal graphs get equal names)."""
    names: dict[Node, str] = {arg: arg.attr("name") for arg in graph.args}
    counter = 0
    for node in graph.nodes():
        if node in names:
            continue
        if node.op is Op.CONST and node.ndim == 0:
            value = node.attr("value").array.item()
            names[node] = (
                repr(value) if node.weak else f"{dtypes.short_name(node.dtype)}({value!r})"
            )
        elif node.op is Op.VAR:
            names[node] = node.attr("name")
        else:
            names[node] = f"%{counter}"
            counter += 1
    return names


def format_node(node: Node, names: dict[Node, str]) -> str:
    """`%3 = add %1, %2 : f32[x.0]` (one line of a printed graph)."""
    operands = ", ".join(names[i] for i in node.inputs)
    if node.op in (Op.GETITEM, Op.SETITEM):
        attr_text = _format_items(node.attr("items"))
    else:
        attrs = [(k, v) for k, v in node.attrs if k not in ("weak", "flat") or v is True]
        attr_text = "".join(f" {k}={_format_attr(v)}" for k, v in attrs)
    sep = " " if operands else ""
    return f"{names[node]} = {node.op.value}{sep}{operands}{attr_text} : {format_type(node)}"


def format_graph(graph: Graph, name: str = "graph", names: dict[Node, str] | None = None) -> str:
    names = names or value_names(graph)
    lines = []
    for node in graph.nodes():
        if node.op is Op.VAR or (node.op is Op.CONST and node.ndim == 0):
            continue
        lines.append("  " + format_node(node, names))
        if node.op in (Op.LOOP, Op.BRANCH):
            lines += _format_bodies(node)
    params = ", ".join(f"{n.attr('name')}: {format_type(n)}" for n in graph.args)
    results = ", ".join(format_type(n) for n in graph.outputs)
    header = f"def {name}({params}) -> ({results}):"
    footer = "  return " + ", ".join(names[n] for n in graph.outputs)
    return "\n".join([header, *lines, footer])


def _format_bodies(node: Node) -> list[str]:
    """The graphs a LOOP or BRANCH node holds, indented under it: a while loop's condition,
    then the body (a branch: the side run when its condition holds), then a branch's else."""
    body = node.attr("body")
    sides = {"for": ("body",), "while": ("cond", "body"), "branch": ("then", "else")}[body.kind]
    graphs = [g for g in (body.cond, body.graph, body.orelse) if g is not None]
    lines = []
    for label, graph in zip(sides, graphs, strict=True):
        text = format_graph(graph, name=label).replace("def ", "", 1)
        lines += ["    " + line for line in text.splitlines()]
    return lines
