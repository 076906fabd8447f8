"""A generic bottom-up graph rewriter, the engine of the local optimization passes.

`rewrite(graph, rule)` visits the nodes inputs-first. Each node is first rebuilt over its
rewritten inputs, then `rule` is applied to it until it returns None (a fixpoint per node); the
result replaces the node for every user. Because nodes are interned, rebuilding a node whose
inputs did not change returns the node itself, and equal replacements are shared.

A rewrite may only replace a value by one of the identical type: same shape, dtype and weakness
(NEP 50 weakness decides the dtype of users, so it is part of the type). The engine asserts it.

Safety: a node that disappears may have carried a runtime size check (a broadcast, an index
bound). NumPy would reject such inputs even if the node's value is no longer needed, so every
check of every removed node is kept in `Graph.carried_checks`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..ir.node import Check, Graph, Node

Rule = Callable[[Node], "Node | None"]

# A rule chain longer than this on one node, or fresh nodes nested deeper than this inside
# replacements, means rules undo each other or grow without end: a bug in a rule.
MAX_STEPS_PER_NODE = 64
MAX_FRESH_DEPTH = 64


def same_type(a: Node, b: Node) -> bool:
    """True if `b` can stand for `a`: identical shape, dtype and weakness."""
    return a.shape == b.shape and a.dtype == b.dtype and a.weak == b.weak


def _assert_same_type(old: Node, new: Node, why: str) -> None:
    if not same_type(old, new):
        from ..ir.printer import format_type

        raise AssertionError(
            f"rewrite: {why} changed the type of {old.op.value} from "
            f"{format_type(old)} to {format_type(new)}"
        )


def with_inputs(node: Node, inputs: Sequence[Node]) -> Node:
    """`node` re-made over `inputs` (same op, attributes, type and checks). Each new input must
    have the type of the input it replaces, so the node's own type is unchanged."""
    inputs = tuple(inputs)
    if inputs == node.inputs:
        return node
    if len(inputs) != len(node.inputs):
        raise AssertionError(
            f"rewrite: {node.op.value} rebuilt with {len(inputs)} inputs, had {len(node.inputs)}"
        )
    for old, new in zip(node.inputs, inputs, strict=True):
        _assert_same_type(old, new, f"replacing an input of {node.op.value}")
    return Node.make(
        node.op, inputs, dict(node.attrs), node.shape, node.dtype, node.weak, node.checks
    )


class _Rewriter:
    """Memoized bottom-up application of one rule. `done[n]` is the final replacement of n;
    every final replacement maps to itself (it is a fixpoint of the rule)."""

    def __init__(self, rule: Rule):
        self.rule = rule
        self.done: dict[Node, Node] = {}
        self.depth = 0

    def visit(self, node: Node) -> Node:
        """The fixpoint replacement of `node`. Its inputs are visited first; for the nodes of
        the original graph (visited in topological order) they are already done, so recursion
        only descends into the few fresh nodes a rule builds."""
        result = self.done.get(node)
        if result is not None:
            return result
        self.depth += 1
        try:
            return self._rewrite(node)
        finally:
            self.depth -= 1

    def _rewrite(self, node: Node) -> Node:
        if self.depth > MAX_FRESH_DEPTH:
            raise AssertionError(
                f"rewrite: no fixpoint: rules keep building new nodes under {node.op.value}"
            )
        current = with_inputs(node, [self.visit(i) for i in node.inputs])
        for _ in range(MAX_STEPS_PER_NODE):
            if current in self.done:  # already known (interning): reuse its fixpoint
                current = self.done[current]
                break
            replacement = self.rule(current)
            if replacement is None or replacement is current:
                self.done[current] = current
                break
            _assert_same_type(current, replacement, f"a rule on {current.op.value}")
            # The replacement may be a fresh node over fresh nodes: rewrite its inputs too.
            current = with_inputs(replacement, [self.visit(i) for i in replacement.inputs])
        else:
            raise AssertionError(
                f"rewrite: no fixpoint after {MAX_STEPS_PER_NODE} rewrites of "
                f"{node.op.value}: rules undo each other"
            )
        self.done[node] = current
        return current


def rewrite(graph: Graph, rule: Rule) -> Graph:
    """`graph` with `rule` applied bottom-up to every node until nothing changes.

    `rule(node)` returns a replacement of identical type, or None to keep the node. Arguments
    and output names are kept; locations move to the replacements; checks of removed nodes
    are carried."""
    rewriter = _Rewriter(rule)
    for node in graph.nodes():  # inputs first: recursion in visit() stays shallow
        rewriter.visit(node)
    outputs = tuple(rewriter.done[o] for o in graph.outputs)
    for old, new in zip(graph.outputs, outputs, strict=True):
        _assert_same_type(old, new, "rewriting an output")
    result = Graph(outputs, graph.args, graph.output_names, {}, ())
    result.locations = _carry_locations(graph, result, rewriter.done)
    result.carried_checks = _carry_checks(graph, result)
    return result


def _carry_locations(old: Graph, new: Graph, done: dict[Node, Node]) -> dict[Node, Any]:
    """Locations of surviving nodes, then (if it has none yet) the location of a replaced node
    given to its replacement, so errors and reports still point at user code."""
    alive = set(new.nodes())
    locations = {n: loc for n, loc in old.locations.items() if n in alive}
    for node, loc in old.locations.items():
        replacement = done.get(node)
        if replacement is not None and replacement in alive:
            locations.setdefault(replacement, loc)
    return locations


def _carry_checks(old: Graph, new: Graph) -> tuple[Check, ...]:
    """Every check the old graph made (its nodes' and those it already carried) that no node of
    the new graph makes: inputs NumPy rejects must still be rejected."""
    present = {check for node in new.nodes() for check in node.checks}
    return tuple(check for check in old.checks() if check not in present)
