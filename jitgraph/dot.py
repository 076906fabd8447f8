"""Graphviz output: a graph as DOT source, each fusion group (one loop nest) a cluster.

Nodes show their printed name, op, attributes and type (`%3 = sum axes=(1,) keepdims=True` over
`f64[x.0,1]`); arguments are boxes, outputs have a double border, values stored in memory
(group roots) are filled. Free nodes (arguments, constants, views) stay outside the clusters:
they are read, never computed.
"""

from __future__ import annotations

from collections.abc import Sequence

from .ir.node import Graph, Node
from .ir.ops import Kind, Op, kind
from .ir.printer import format_node, format_type, value_names
from .passes.partition import Group

MAX_LABEL = 60  # characters per label line: long attribute lists would make huge boxes


def _quote(text: str) -> str:
    """A DOT string literal; newlines become centred line breaks."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n") + '"'


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 3] + "..."


def node_label(node: Node, names: dict[Node, str]) -> str:
    """`%3 = sum axes=(1,)` on the first line, the type on the second."""
    if node.op is Op.VAR:
        return f"{names[node]}\n{format_type(node)}"
    text = format_node(node, names)
    head, _, type_text = text.rpartition(" : ")
    operands = ", ".join(names[i] for i in node.inputs)
    if operands:  # edges show the operands; keep the op and its attributes
        head = head.replace(" " + operands, "", 1)
    return f"{_short(head)}\n{type_text}"


def _node_line(
    node: Node, ident: str, names: dict[Node, str], outputs: set[Node], stored: set[Node]
) -> str:
    attrs = [f"label={_quote(node_label(node, names))}"]
    if node.op is Op.VAR:
        attrs.append("shape=box")
    elif kind(node.op) is Kind.SOURCE:
        attrs.append("shape=plaintext")
    if node in outputs:
        attrs.append("peripheries=2")
    if node in stored:
        attrs.append('style=filled fillcolor="#dde8f7"')
    return f"  {ident} [{' '.join(attrs)}];"


def _kind(group: Group) -> str:
    return getattr(group.kind, "value", str(group.kind))  # row groups name their kind as text


def _cluster(
    key: str,
    title: str,
    members: list[Node],
    body: list[str],
    indent: str,
    ident: dict[Node, str],
    names: dict[Node, str],
    outputs: set[Node],
    stored: set[Node],
) -> list[str]:
    lines = [
        f"{indent}subgraph cluster_{key} {{",
        f'{indent}  label={_quote(title)}; style=rounded; color="#4a78b5";',
        *body,
    ]
    lines.extend(indent + _node_line(m, ident[m], names, outputs, stored) for m in members)
    return lines + [f"{indent}}}"]


def _group_lines(
    i: int,
    group: Group,
    ident: dict[Node, str],
    names: dict[Node, str],
    outputs: set[Node],
    stored: set[Node],
    grouped: set[Node],
) -> list[str]:
    """One cluster per group; a row group's parts are clusters inside its cluster."""
    title = f"group {i}: {_kind(group)} -> {names[group.root]}"
    body: list[str] = []
    for j, part in enumerate(getattr(group, "parts", ())):
        members = [m for m in part.members if m in ident and m not in grouped]
        grouped.update(members)
        body += _cluster(
            f"{i}_{j}",
            f"{_kind(part)} -> {names[part.root]}",
            members,
            [],
            "    ",
            ident,
            names,
            outputs,
            stored,
        )
    members = [m for m in group.members if m in ident and m not in grouped]
    grouped.update(members)
    return _cluster(str(i), title, members, body, "  ", ident, names, outputs, stored)


def to_dot(
    graph: Graph, groups: Sequence[Group] = (), name: str = "graph", stored: set[Node] | None = None
) -> str:
    """DOT source of `graph`; `groups` (a Plan's fusion groups) become clusters and `stored`
    (values kept in memory, default: the groups' roots) are filled."""
    names = value_names(graph)
    nodes = graph.nodes()
    ident = {node: f"n{i}" for i, node in enumerate(nodes)}
    outputs = set(graph.outputs)
    stored = {g.root for g in groups} if stored is None else stored
    grouped: set[Node] = set()
    lines = [
        f"digraph {_quote(name)} {{",
        "  rankdir=TB;",
        '  graph [fontname="Helvetica" fontsize=11];',
        '  node [shape=ellipse fontname="Helvetica" fontsize=10];',
        '  edge [fontname="Helvetica" fontsize=9];',
    ]
    for i, group in enumerate(groups):
        lines += _group_lines(i, group, ident, names, outputs, stored, grouped)
    lines.extend(_node_line(n, ident[n], names, outputs, stored) for n in nodes if n not in grouped)
    for node in nodes:
        for inp in dict.fromkeys(node.inputs):
            lines.append(f"  {ident[inp]} -> {ident[node]};")
    for i, out in enumerate(graph.outputs):
        label = graph.output_names[i] if i < len(graph.output_names) else f"out{i}"
        lines.append(f"  out{i} [label={_quote(label)} shape=plaintext];")
        lines.append(f"  {ident[out]} -> out{i};")
    lines.append("}")
    return "\n".join(lines) + "\n"
