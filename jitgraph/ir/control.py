"""Runtime indices and control flow in the IR.

Runtime indices. `x[i]` with `i` known only at run time is `at(x, wrap(i, n))`: `wrap` makes a
negative index count from the end and checks the bounds (an IndexError naming the expression,
as NumPy raises one); `at` is a view that removes the indexed axes. `x[i] = v` is
`put(x, v, wrap(i, n))`, the functional form of the write (the memory planner turns it into an
in-place store when `x` dies there).

Loops and branches. A loop is one `LOOP` node holding its body as a nested `Graph` over
placeholders: the loop index, the carried values (names and arrays the body changes) and the
captures (values from outside the loop the body reads). The body's outputs are the carried
values of the next iteration; `RESULT` nodes read the final ones. What the body reads from
outside but does not change is computed once, before the loop: a subexpression that depends on
no placeholder of this loop is a capture (loop-invariant code motion comes free with interning).
A `while` loop also holds its condition as a graph over the same placeholders, evaluated before
each iteration. A `BRANCH` holds two graphs over the same placeholders, one run when its
condition holds and one otherwise.

The body graphs are ordinary graphs: the optimizer, the partition and the memory planner run on
them unchanged, and codegen emits them inside the generated loop or `if`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import GraphTypeError, RuntimeIndexError
from . import build, dtypes
from .dims import Dim
from .node import Check, Graph, Node, topological_order
from .ops import Kind, Op, kind

_SCOPES = itertools.count(1)

# Sources a body keeps (they are free to read anywhere); everything else from outside is captured.
_KEPT_SOURCES = (Op.CONST, Op.SIZE, Op.INDEX)


@dataclass(frozen=True, eq=False)
class Body:
    """The nested graphs of a LOOP or BRANCH node (compared by identity).

    `graph.args` are the placeholders: the loop index (for loops over a range), then one per
    carried value, then one per capture. `graph.outputs` are the carried values after one
    iteration (a branch: after the taken branch). `cond`: a while loop's condition; `orelse`: a
    branch's other side, over the same placeholders."""

    kind: str  # 'for' | 'while' | 'branch'
    graph: Graph
    n_carried: int
    cond: Graph | None = None
    orelse: Graph | None = None
    label: str = ""

    @property
    def has_index(self) -> bool:
        return self.kind == "for"

    def graphs(self) -> list[Graph]:
        return [g for g in (self.cond, self.graph, self.orelse) if g is not None]

    def __repr__(self) -> str:
        return f"<{self.kind} {self.label}>"


def placeholder(scope: int, name: str, position: int, dtype: np.dtype, shape: tuple[Dim, ...],
                weak: bool = False) -> Node:
    """A value a body receives from its loop or branch: a VAR of the body graph."""
    attrs = {"name": name, "index": position, "dtype": np.dtype(dtype), "shape": tuple(shape),
             "weak": weak, "scope": scope}
    return Node.make(Op.VAR, (), attrs, tuple(shape), dtype, weak=weak)


# -- runtime indices -------------------------------------------------------------------------


def checked_index(i: int, n: int, site: str) -> int:
    """WRAP's meaning, run by the reference interpreter and compiled into kernels."""
    j = i + n if i < 0 else i
    if j < 0 or j >= n:
        raise RuntimeIndexError(site, i, n)
    return j


def checked_window(i: int, n: int, length: int, site: str) -> int:
    """WRAP of a window `x[i:i+length]`: its start, checked to leave `length` elements. A
    negative start counts from the end when the stop does too (x[-3:-1]); a stop of 0 or more
    after a negative start (x[-2:0]) is an empty slice in NumPy, so it is out of range here."""
    j = i + n if i < 0 else i
    if j < 0 or j + length > n or (i < 0 and length > 0 and i + length >= 0):
        raise RuntimeIndexError(site, i, n, length)
    return j


def wrap_index(i: Node, n: Dim, site: str, length: int = 1) -> Node:
    """`i` as an index into an axis of size `n`: negative counts from the end; out of range
    raises IndexError at run time, naming `site` (the user's expression and location). With
    `length`: the start of a window of that many elements (`x[i:i+3]`), all in range."""
    if i.dtype.kind not in "iu" or i.ndim:
        raise GraphTypeError(f"{site}: only integer scalars are valid indices, got "
                             f"{dtypes.short_name(i.dtype)}[{i.ndim}-d]")
    if i.dtype != dtypes.INT64 or i.weak:
        i = build.cast(i, dtypes.INT64)
    attrs = {"site": site} if length == 1 else {"site": site, "length": length}
    return Node.make(Op.WRAP, (i, build.size(n)), attrs, (), dtypes.INT64)


def _at_shape(base: Node, axes: Sequence[int], lengths: Sequence[int | None]) -> tuple:
    """The shape of base indexed at `axes`: an index removes its axis, a window of length k
    (lengths[j] not None) leaves an axis of size k."""
    lengths = tuple(lengths) or (None,) * len(axes)
    window = {axis: k for axis, k in zip(axes, lengths, strict=True)}
    return tuple(window[axis] if axis in window else d for axis, d in enumerate(base.shape)
                 if window.get(axis, 0) is not None)


def _at_attrs(axes: Sequence[int], lengths: Sequence[int | None]) -> dict:
    if any(k is not None for k in lengths):
        return {"axes": tuple(axes), "lengths": tuple(lengths)}
    return {"axes": tuple(axes)}


def at(base: Node, indices: Sequence[Node], axes: Sequence[int],
       lengths: Sequence[int | None] = ()) -> Node:
    """`base` indexed by wrapped runtime `indices` at `axes`: an index removes its axis; with
    `lengths[j]` = k, indices[j] starts a window of k elements (`x[i:i+k]`)."""
    lengths = tuple(lengths) or (None,) * len(axes)
    return Node.make(Op.AT, (base, *indices), _at_attrs(axes, lengths),
                     _at_shape(base, axes, lengths), base.dtype, weak=base.weak)


def put(base: Node, value: Node, indices: Sequence[Node], axes: Sequence[int],
        lengths: Sequence[int | None] = ()) -> Node:
    """`base` with `base[indices at axes] = value` (windows as for `at`); value broadcasts to
    the region and is cast to base's dtype, as NumPy's setitem casts."""
    lengths = tuple(lengths) or (None,) * len(axes)
    region = _at_shape(base, axes, lengths)
    value = build.cast(value, base.dtype) if value.dtype != base.dtype or value.weak else value
    placed = build.broadcast_to(value, region)
    return Node.make(Op.PUT, (base, placed, *indices), _at_attrs(axes, lengths), base.shape,
                     base.dtype, checks=placed.checks)


def at_lengths(node: Node) -> tuple[int | None, ...]:
    """Per runtime index of an AT / PUT node: None for an index, k for a window of k."""
    return node.attr("lengths") or (None,) * len(node.attr("axes"))


# -- loops and branches -------------------------------------------------------------------------


class Scope:
    """Builds one loop or branch: hands out placeholders, then closes the body over them."""

    def __init__(self, kind_: str, label: str = ""):
        self.kind = kind_
        self.label = label
        self.id = next(_SCOPES)
        self.index: Node | None = None
        self.carried: list[Node] = []

    def index_placeholder(self) -> Node:
        self.index = placeholder(self.id, "i", 0, dtypes.INT64, (), weak=True)
        return self.index

    def carry(self, name: str, dtype: np.dtype, shape: tuple[Dim, ...], weak: bool) -> Node:
        node = placeholder(self.id, name, len(self.carried) + 1, dtype, shape, weak)
        self.carried.append(node)
        return node

    def close(self, inits: Sequence[Node], nexts: Sequence[Node], *, bounds: Sequence[Node] = (),
              cond: Node | None = None, orelse: Sequence[Node] | None = None,
              branch_cond: Node | None = None, outside: set[Node] | None = None) -> list[Node]:
        """The LOOP/BRANCH node over `inits` (one per carried placeholder) and the RESULT nodes
        of its carried values. `nexts`: each carried value after the body. `bounds`: a for
        loop's start, stop, step. `cond`: a while loop's condition. `orelse`/`branch_cond`: a
        branch's other side and its condition.

        A loop's carried values keep their placeholder's type. A branch's placeholders are the
        values before it, and both sides give each result one type, which may be wider (`x` an
        int before, `x = x * 0.5` in one side). `outside`: the nodes that exist before a
        branch; only those are captured (computed before it), and everything else the sides
        compute stays in them, so a side that is not taken computes nothing (and raises
        nothing: `if i < n: t = x[i]`). Without it, every subexpression that depends on no
        placeholder is captured (a loop's invariant code, hoisted)."""
        pairs = zip(self.carried, inits, nexts, orelse or nexts, strict=True)
        for ph, init, new, other in pairs:
            same = (init,) if self.kind == "branch" else (init, new)
            if any(v.shape != ph.shape or v.dtype != ph.dtype for v in same) or (
                    new.shape != other.shape or new.dtype != other.dtype):
                raise AssertionError(f"control: {ph.attr('name')} changes type in the body")
        own = set(self.carried) | ({self.index} if self.index is not None else set())
        roots = list(nexts) + ([cond] if cond is not None else []) + list(orelse or [])
        captures = _captures(roots, own) if outside is None else _outside(roots, own, outside)
        capture_phs = [
            placeholder(self.id, f"c{k}", len(self.carried) + 1 + k, c.dtype, c.shape, c.weak)
            for k, c in enumerate(captures)
        ]
        swap = dict(zip(captures, capture_phs, strict=True))
        args = ((self.index,) if self.index is not None else ()) + tuple(self.carried) + tuple(
            capture_phs)

        def graph(outputs: Sequence[Node]) -> Graph:
            return Graph(tuple(_substitute(outputs, swap)), args)

        body = Body(
            self.kind,
            graph(nexts),
            len(self.carried),
            cond=graph([cond]) if cond is not None else None,
            orelse=graph(orelse) if orelse is not None else None,
            label=self.label,
        )
        checks: dict[Check, None] = {}
        for g in body.graphs():
            checks.update(dict.fromkeys(g.checks()))
        head = list(bounds) + ([branch_cond] if branch_cond is not None else [])
        op = Op.BRANCH if self.kind == "branch" else Op.LOOP
        node = Node.make(op, (*head, *inits, *captures), {"body": body}, (), dtypes.BOOL,
                         checks=tuple(checks))
        return [result(node, k) for k in range(len(self.carried))]


def body_of(node: Node) -> Body:
    return node.attr("body")


def result(node: Node, index: int) -> Node:
    """Carried value `index` of a LOOP/BRANCH node after it ran (typed as its placeholder)."""
    body = body_of(node)
    # A loop's value keeps its placeholder's type; a branch's is its sides' (Scope.close).
    ph = body.graph.outputs[index] if body.kind == "branch" else body.graph.args[
        (1 if body.has_index else 0) + index]
    return Node.make(Op.RESULT, (node,), {"index": index}, ph.shape, ph.dtype, weak=ph.weak)


def split_inputs(node: Node) -> tuple[list[Node], list[Node], list[Node]]:
    """(head, inits, captures) of a LOOP/BRANCH node: head is a for loop's (start, stop, step),
    a branch's condition, nothing for a while loop."""
    body = body_of(node)
    n_head = {"for": 3, "while": 0, "branch": 1}[body.kind]
    inputs = list(node.inputs)
    head, rest = inputs[:n_head], inputs[n_head:]
    return head, rest[: body.n_carried], rest[body.n_carried :]


def _captures(roots: Sequence[Node], own: set[Node]) -> list[Node]:
    """The largest subexpressions of `roots` that depend on no placeholder in `own`: computed
    once outside. Views of them and free sources stay in the body (they cost nothing to read
    through, and a view is not a stored array the body could receive)."""
    depends: dict[Node, bool] = {}
    for node in topological_order(roots):
        depends[node] = node in own or any(depends[i] for i in node.inputs)
    captures: dict[Node, None] = {}
    seen: set[Node] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if depends[node] or kind(node.op) is Kind.VIEW:
            stack.extend(node.inputs)
        elif node.op not in _KEPT_SOURCES:
            captures.setdefault(node)
    return list(captures)


def _outside(roots: Sequence[Node], own: set[Node], outside: set[Node]) -> list[Node]:
    """The nodes of `outside` that `roots` read (through views), and other sources that are
    not free to read anywhere: a branch's captures (see Scope.close)."""
    captures: dict[Node, None] = {}
    seen: set[Node] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node in seen or node in own:
            continue
        seen.add(node)
        if node.op in _KEPT_SOURCES:
            continue
        if kind(node.op) is Kind.VIEW or (node not in outside and kind(node.op) is not Kind.SOURCE):
            stack.extend(node.inputs)
        else:
            captures.setdefault(node)
    return list(captures)


def _substitute(outputs: Sequence[Node], swap: dict[Node, Node]) -> list[Node]:
    """`outputs` rebuilt with each node in `swap` replaced (same types: nodes are re-made)."""
    done = dict(swap)
    stack = [(n, False) for n in outputs]
    while stack:
        node, ready = stack.pop()
        if node in done:
            continue
        if not ready:
            stack.append((node, True))
            stack.extend((i, False) for i in node.inputs if i not in done)
            continue
        inputs = tuple(done[i] for i in node.inputs)
        done[node] = node if inputs == node.inputs else Node.make(
            node.op, inputs, dict(node.attrs), node.shape, node.dtype, node.weak, node.checks)
    return [done[n] for n in outputs]


def branches_as_selects(outputs: Sequence[Node]) -> list[Node]:
    """`outputs` with every branch's results computed as `where(cond, then, else)` over both
    sides inlined: the form autodiff differentiates (where's rule routes each side's
    gradient). Both sides are then computed, so a side that would raise (an index out of range
    in the side not taken) raises here."""
    done: dict[Node, Node] = {}
    for node in topological_order(outputs):
        inputs = tuple(done[i] for i in node.inputs)
        if node.op is Op.RESULT and node.inputs[0].op is Op.BRANCH:
            branch = node.inputs[0]
            body = body_of(branch)
            head, inits, captures = split_inputs(Node.make(
                branch.op, tuple(done[i] for i in branch.inputs), dict(branch.attrs),
                branch.shape, branch.dtype))
            swap = dict(zip(body.graph.args, [*inits, *captures], strict=True))
            k = node.attr("index")
            sides = [_substitute([g.outputs[k]], swap)[0] for g in (body.graph, body.orelse)]
            done[node] = build.where(head[0], *branches_as_selects(sides))
        elif inputs == node.inputs:
            done[node] = node
        else:
            done[node] = Node.make(node.op, inputs, dict(node.attrs), node.shape, node.dtype,
                                   node.weak, node.checks)
    return [done[n] for n in outputs]
