"""Reverse mode through LOOP nodes (loops with a runtime trip count).

A LOOP node is one value whose RESULT nodes are the carried values after the loop; its
gradient is built whole, when the walk reaches the LOOP node with the cotangents of all its
RESULTs. `autodiff.vjp` hands graphs that reach a LOOP to `vjp` here: the same walk (the rules
of `GRAD_RULES` for every other op), plus

- activity per loop: a carried value is *live* (carries a cotangent) when it is floating point
  and its initial value is active, or the body computes its next value from a live carried
  value or an active capture (a fixed point over the body graph);
- the LOOP rule: from the cotangents of the live RESULTs, the cotangents of the loop's inits
  (live carried values) and of its active floating-point captures. Integer and bool carried
  values (counters, indices) carry no cotangent but are replayed; a `while` loop's condition
  is not differentiated.

Everything is built in the existing IR: LOOP nodes made with `control.Scope`, so the backward
graph is optimized, planned and compiled like any other graph, on every backend. The backward
pass of a loop is a loop over the forward iterations in reverse:

    T       trip count: max(0, ceil((stop - start) / step)) for a `for` loop; for a `while`
            loop, a counting loop (the forward loop again, carrying an int counter as well)
    ct_c    cotangents of the live carried values, starting from the RESULTs' cotangents
    ct_z    cotangents of the active captures, starting from zeros
    for each iteration j = T-1 .. 0 (for a `for` loop, over its indices in reverse):
        v_j        = what the body's VJP reads of the carried values before iteration j
        ct_c, dz   = VJP of the body graph at (index_j, v_j, z), seeded with ct_c
        ct_z       = ct_z + dz
    cotangent of the inits: ct_c; of the captures: ct_z

The body's VJP is `autodiff.vjp` on the body graph over its placeholders (nested loops and
branches included), the placeholders then replaced. Where v_j comes from:

- Tape, when the trip count is a size: a `for` loop whose indices stay in [0, n) for a size n
  known when compiling (`range(len(x))`, `range(1, x.shape[0])`, `for row in X`,
  `range(len(x) - 1, -1, -1)`). A second forward loop stores, at row i of one array per value,
  the values the VJP reads (the frontier: the nodes computed from carried values that a node
  computed from the cotangents reads, such as `z[i - 1]` in `z[i] = z[i - 1] * a + x[i]`), or
  failing that the carried values themselves. Cost: 2T body evaluations, T body VJPs, and a
  tape of n rows. The tape is used only if it holds no more elements than one argument
  (its sizes are distinct axes of one argument): a carried array of n elements over n
  iterations is recomputed rather than kept as an n x n tape.
- Recompute, otherwise (a trip count known only at run time, a `while` loop, a tape too
  large): v_j comes from a replay LOOP running the body j times from the inits, inside the
  backward loop. Cost: T(T-1)/2 + T body evaluations for the replays (a `while` loop: T more
  for the count), T body VJPs, O(1) extra memory (the replay's carried values). Quadratic in
  T: keep such loops short, or make the trip count a size. The replay disappears when the
  VJP reads no carried value (`t = t + f(x[i])`: O(T)).

Nested loops are differentiated the same way (a recomputed loop nested d deep: O(T^(2d))).

Accumulation: `acc + put(zeros, v, i)` (the gradient of `x[i]` added into a capture's
cotangent) is built as `put(acc, acc[i] + v, i)`: one element updated in place per iteration
instead of a zeroed array and a full add.

Limits (performance, not results): the memory planner updates a carried array in place only
when a single update writes it where it is read; a row update `put(acc, acc[i] + v, i)` (the
gradient of `for row in X`) and a chain of updates (`ct_z[i] = 0`, then `ct_z[i - 1] += ...`
in a recurrence) copy the array each iteration (O(n) per iteration).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import autodiff
from .ir import build, control
from .ir import dims as D
from .ir.control import body_of, split_inputs
from .ir.node import Node, topological_order
from .ir.ops import Op

INT = np.dtype(np.int64)


def reaches_loop(outputs: Sequence[Node]) -> bool:
    """Does the graph of `outputs` hold a LOOP node (outside loop bodies)?"""
    return any(node.op is Op.LOOP for node in topological_order(outputs))


# ---------------------------------------------------------------------------------------------
# Activity


@dataclass(frozen=True)
class LoopActivity:
    """What carries cotangents in one LOOP node: the live carried positions and the positions
    (among the captures) of the active captures."""

    live: tuple[int, ...]
    captures: tuple[int, ...]


def _carried_phs(node: Node) -> tuple[Node, ...]:
    body = body_of(node)
    offset = 1 if body.has_index else 0
    return body.graph.args[offset : offset + body.n_carried]


def _capture_phs(node: Node) -> tuple[Node, ...]:
    body = body_of(node)
    offset = 1 if body.has_index else 0
    return body.graph.args[offset + body.n_carried :]


def loop_activity(node: Node, active: set[Node]) -> LoopActivity | None:
    """The live carried values and active captures of LOOP `node`, given the active nodes of
    the enclosing graph; None when nothing in the loop carries a cotangent."""
    _, inits, captures = split_inputs(node)
    carried_phs = _carried_phs(node)
    floats = {k for k, ph in enumerate(carried_phs) if autodiff.is_differentiable(ph)}
    caps = tuple(k for k, c in enumerate(captures) if c in active and autodiff.is_differentiable(c))
    live = {k for k in floats if inits[k] in active}
    outputs = control.branches_as_selects(list(body_of(node).graph.outputs))
    order = topological_order(outputs)
    cap_phs = _capture_phs(node)
    while True:
        seeds = [carried_phs[k] for k in sorted(live)] + [cap_phs[k] for k in caps]
        inner, _ = active_nodes(order, seeds)
        grown = live | {k for k in floats if outputs[k] in inner}
        if grown == live:
            break
        live = grown
    if not live:
        return None
    return LoopActivity(tuple(sorted(live)), caps)


def active_nodes(order: list[Node], wrt: Sequence[Node]) -> tuple[set[Node], dict]:
    """Floating-point nodes that depend on a node of `wrt` (through loops too), and the
    activity of each LOOP node on the way."""
    active = set(wrt)
    loops: dict[Node, LoopActivity] = {}
    for node in order:
        if node.op is Op.LOOP:
            activity = loop_activity(node, active)
            if activity is not None:
                loops[node] = activity
        elif node.op is Op.RESULT and node.inputs[0].op is Op.LOOP:
            activity = loops.get(node.inputs[0])
            if activity is not None and node.attr("index") in activity.live:
                active.add(node)
        elif autodiff.is_differentiable(node) and any(i in active for i in node.inputs):
            active.add(node)
    return active, loops


# ---------------------------------------------------------------------------------------------
# The walk


def vjp(outputs: Sequence[Node], seeds: Sequence[Node], wrt: Sequence[Node]) -> list[Node]:
    """`autodiff.vjp` for graphs with LOOP nodes (branches already inlined as selects)."""
    order = topological_order(outputs)
    active, loops = active_nodes(order, wrt)
    cotangents: dict[Node, Node] = {}
    carried: dict[Node, dict[int, Node]] = {}  # LOOP -> cotangents of its RESULTs
    for out, seed in zip(outputs, seeds, strict=True):
        if out in active:
            autodiff._accumulate(cotangents, out, autodiff._fit(seed, out))
    for node in reversed(order):
        if node.op is Op.LOOP:
            if node in loops and node in carried:
                for position, g in loop_vjp(node, loops[node], carried[node]).items():
                    inp = node.inputs[position]
                    if inp in active:
                        autodiff._accumulate(cotangents, inp, autodiff._fit(g, inp))
            continue
        g = cotangents.get(node)
        if g is None or not node.inputs:
            continue
        if node.op is Op.RESULT and node.inputs[0].op is Op.LOOP:
            autodiff._accumulate(carried.setdefault(node.inputs[0], {}), node.attr("index"), g)
            continue
        rule = autodiff.GRAD_RULES.get(node.op)
        if rule is None:
            raise autodiff.GraphTypeError(f"no gradient rule for {node.op.value}")
        for i, inp in enumerate(node.inputs):
            if inp in active:
                contribution = rule(node, g, i)
                if contribution is not None:
                    autodiff._accumulate(cotangents, inp, autodiff._fit(contribution, inp))
    return [cotangents.get(w, autodiff._zeros(w.shape, w.dtype)) for w in wrt]


# ---------------------------------------------------------------------------------------------
# The LOOP rule


def _int(value: int) -> Node:
    return build.const(value, INT)


def _i(op: Op, *xs: Node) -> Node:
    return build.elementwise(op, *xs)


def _as_int(node: Node) -> Node:
    return node if node.dtype == INT and not node.weak else build.cast(node, INT)


def _like(g: Node, ph: Node) -> Node:
    """`g` with exactly `ph`'s shape and dtype (a carried value of a loop)."""
    g = autodiff._fit(g, ph)
    if g.shape != ph.shape:
        g = build.broadcast_to(g, ph.shape)
    return g


def trip_count(head: Sequence[Node]) -> Node:
    """Iterations of range(start, stop, step): max(0, ceil((stop - start) / step))."""
    start, stop, step = (_as_int(h) for h in head)
    ceil = _i(Op.NEG, _i(Op.FLOORDIV, _i(Op.SUB, start, stop), step))
    return _i(Op.MAXIMUM, ceil, _int(0))


def replay(node: Node, inits: Sequence[Node], captures: Sequence[Node],
           bounds: Sequence[Node]) -> list[Node]:
    """The carried values of LOOP `node` after its body ran over range(*bounds) (for a while
    loop: as many times as that range is long, the condition not evaluated)."""
    body = body_of(node)
    scope = control.Scope("for", f"replay of {body.label}")
    index = scope.index_placeholder()
    swap: dict[Node, Node] = {}
    if body.has_index:
        swap[body.graph.args[0]] = index
    for ph in _carried_phs(node):
        swap[ph] = scope.carry(ph.attr("name"), ph.dtype, ph.shape, ph.weak)
    swap.update(zip(_capture_phs(node), captures, strict=True))
    nexts = control._substitute(list(body.graph.outputs), swap)
    return scope.close(list(inits), nexts, bounds=bounds)


def count_trips(node: Node) -> Node:
    """The number of iterations of a while LOOP `node`: the loop again, counting."""
    body = body_of(node)
    _, inits, captures = split_inputs(node)
    scope = control.Scope("while", f"trip count of {body.label}")
    swap: dict[Node, Node] = {
        ph: scope.carry(ph.attr("name"), ph.dtype, ph.shape, ph.weak) for ph in _carried_phs(node)
    }
    counter = scope.carry("trips", INT, (), False)
    swap.update(zip(_capture_phs(node), captures, strict=True))
    nexts = control._substitute(list(body.graph.outputs), swap)
    assert body.cond is not None
    (cond,) = control._substitute(list(body.cond.outputs), swap)
    results = scope.close([*inits, _int(0)], [*nexts, _i(Op.ADD, counter, _int(1))], cond=cond)
    return results[-1]


def loop_vjp(node: Node, activity: LoopActivity, cts: dict[int, Node]) -> dict[int, Node]:
    """Cotangents of LOOP `node`'s inputs (by input position) from the cotangents `cts` of its
    RESULTs (by carried position); see the module docstring."""
    body = body_of(node)
    head, inits, captures = split_inputs(node)
    carried_phs, cap_phs = _carried_phs(node), _capture_phs(node)
    live, caps = activity.live, activity.captures

    scope = control.Scope("for", f"gradient of {body.label}")
    index = scope.index_placeholder()
    ct_phs = [scope.carry(f"ct_{carried_phs[k].attr('name')}", carried_phs[k].dtype,
                          carried_phs[k].shape, False) for k in live]
    acc_phs = [scope.carry(f"ct_{cap_phs[k].attr('name')}", cap_phs[k].dtype, cap_phs[k].shape,
                           False) for k in caps]

    # The body's VJP over its own placeholders; the carried values it reads come next.
    outputs = [body.graph.outputs[k] for k in live]
    wrt = [carried_phs[k] for k in live] + [cap_phs[k] for k in caps]
    grads = autodiff.vjp(outputs, ct_phs, wrt)
    reached = set(topological_order(grads))
    needed = [ph for ph in carried_phs if ph in reached]

    if body.kind == "for":
        start, _, step = (_as_int(h) for h in head)
        trips = trip_count(head)
        # the forward indices in reverse: start + (T-1)*step down to start
        last = _i(Op.ADD, start, _i(Op.MUL, _i(Op.SUB, trips, _int(1)), step))
        bounds = (last, _i(Op.SUB, start, step), _i(Op.NEG, step))
        before = taped(node, grads, ct_phs, index) if needed else {}
        if before is None:
            replayed = replay(node, inits, captures, (start, _as_int(index), step))
            before = dict(zip(carried_phs, replayed, strict=True))
    else:
        bounds = (_i(Op.SUB, count_trips(node), _int(1)), _int(-1), _int(-1))
        replayed = replay(node, inits, captures, (_int(0), _as_int(index), _int(1)))
        before = dict(zip(carried_phs, replayed, strict=True))

    swap = dict(before)
    swap.update(zip(cap_phs, captures, strict=True))
    if body.has_index:
        swap[body.graph.args[0]] = index
    grads = control._substitute(grads, swap)
    nexts = [_like(g, ph) for g, ph in zip(grads[: len(live)], ct_phs, strict=True)]
    nexts += [_like(autodiff.add(acc, g), acc)
              for acc, g in zip(acc_phs, grads[len(live) :], strict=True)]
    starts = [_like(cts[k], ph) if k in cts else autodiff._zeros(ph.shape, ph.dtype)
              for k, ph in zip(live, ct_phs, strict=True)]
    starts += [autodiff._zeros(ph.shape, ph.dtype) for ph in acc_phs]
    results = scope.close(starts, scatter_adds(nexts), bounds=bounds)

    n_head = len(head)
    found: dict[int, Node] = {}
    for k, r in zip(live, results, strict=False):
        found[n_head + k] = r
    for k, r in zip(caps, results[len(live) :], strict=True):
        found[n_head + len(inits) + k] = r
    return found


# ---------------------------------------------------------------------------------------------
# The tape: a for loop whose indices stay in [0, n) for a size n (range(len(x)), `for row in
# X`) stores what the backward pass reads of the carried values, row i for iteration i.


def _static(node: Node) -> int | None:
    """The value of a constant integer scalar, else None."""
    if node.op is Op.CONST and node.ndim == 0 and node.dtype.kind in "iu":
        return int(node.attr("value").array)
    return None


def _size(node: Node) -> D.Dim | None:
    """The size `node` holds when it is one (a SIZE node, maybe cast) or a constant >= 0."""
    while node.op is Op.CAST and node.dtype.kind in "iu":
        node = node.inputs[0]
    if node.op is Op.SIZE:
        return node.attr("dim")
    value = _static(node)
    return value if value is not None and value >= 0 else None


def tape_length(head: Sequence[Node]) -> D.Dim | None:
    """A size n with every index of range(start, stop, step) in [0, n), known when the graph
    is built: range(a, n) and range(n - 1, b, -1) for constants a >= 0, b >= -1 and a size
    n; None otherwise (a bound that is a runtime scalar, a step known only at run time)."""
    start, stop, step = head
    s = _static(step)
    if s is None or s == 0:
        return None
    if s > 0:
        a, n = _static(start), _size(stop)
        if a is None or a < 0 or n is None:
            return None
    else:
        b, top = _static(stop), _size(start)
        if b is None or b < -1 or top is None:
            return None
        # range(n - 1, b, -1): n - 1 + 1 is n
        plain = isinstance(top, D.DimExpr) and top.op == "sub" and top.args[1] == 1
        n = top.args[0] if plain else D.add(top, 1)
    return n if D._non_negative(n) else D.maximum(n, 0)


def frontier(grads: Sequence[Node], carried: Sequence[Node], seeds: Sequence[Node]) -> list[Node]:
    """The values of the carried placeholders the body's VJP `grads` reads: the nodes that
    depend on a carried value but not on the cotangents `seeds`, used by one that does."""
    carried_set, seed_set = set(carried), set(seeds)
    order = topological_order(grads)
    on_carried: dict[Node, bool] = {}
    on_seeds: dict[Node, bool] = {}
    for n in order:
        on_carried[n] = n in carried_set or any(on_carried[i] for i in n.inputs)
        on_seeds[n] = n in seed_set or any(on_seeds[i] for i in n.inputs)
    read: dict[Node, None] = {}
    for n in order:
        for i in n.inputs if on_seeds[n] else ():
            if on_carried[i] and not on_seeds[i]:
                read.setdefault(i)
    for g in grads:
        if on_carried[g] and not on_seeds[g]:
            read.setdefault(g)
    return list(read)


def _within_one_argument(shape: tuple) -> bool:
    """Does an array of `shape` hold at most as many elements as one argument (times a
    constant)? Its sizes are distinct axes of one argument, or constants."""
    leaves = [d for d in shape if not isinstance(d, int)]
    if not all(isinstance(d, D.DimExpr) and d.op == "arg" for d in leaves):
        return False
    return len({d.args[0] for d in leaves}) <= 1 and len({d.args[1] for d in leaves}) == len(
        leaves)


def taped(node: Node, grads: Sequence[Node], seeds: Sequence[Node],
          index: Node) -> dict[Node, Node] | None:
    """The values the body's VJP reads from the carried values, as reads of a tape at the
    backward loop's `index`, or None when the loop is not taped: its trip count is not a
    size, or the tape would be larger than one argument (a carried array of n elements over
    n iterations: recomputed rather than an n x n tape)."""
    head, _, _ = split_inputs(node)
    length = tape_length(head)
    if length is None:
        return None
    carried = _carried_phs(node)
    reached = set(topological_order(grads))
    for values in (frontier(grads, carried, seeds), [ph for ph in carried if ph in reached]):
        if values and all(v.op not in (Op.LOOP, Op.BRANCH)
                          and _within_one_argument((length, *v.shape)) for v in values):
            return read_tape(node, values, length, index)
    return None


def read_tape(node: Node, values: Sequence[Node], length: D.Dim,
              index: Node) -> dict[Node, Node]:
    """`values` (nodes over the body's placeholders) as they were in the iteration of forward
    index `index` (a placeholder of the backward loop), read from tapes that the forward
    loop, run again, fills: row i of a tape holds the value of iteration i."""
    body = body_of(node)
    head, inits, captures = split_inputs(node)
    carried_phs = _carried_phs(node)
    scope = control.Scope("for", f"tape of {body.label}")
    i = scope.index_placeholder()
    swap: dict[Node, Node] = {body.graph.args[0]: i}
    for ph in carried_phs:
        swap[ph] = scope.carry(ph.attr("name"), ph.dtype, ph.shape, ph.weak)
    tapes = [scope.carry(f"tape{k}", v.dtype, (length, *v.shape), False)
             for k, v in enumerate(values)]
    swap.update(zip(_capture_phs(node), captures, strict=True))
    nexts = control._substitute(list(body.graph.outputs), swap)
    row_i = [control.wrap_index(_as_int(i), length, "a loop's tape")]
    nexts += [control.put(tape, v, row_i, (0,))
              for tape, v in zip(tapes, control._substitute(values, swap), strict=True)]
    starts = list(inits) + [autodiff._zeros(t.shape, t.dtype) for t in tapes]
    filled = scope.close(starts, nexts, bounds=tuple(head))[len(carried_phs) :]
    row = [control.wrap_index(_as_int(index), length, "a loop's tape")]
    reads: dict[Node, Node] = {}
    for v, tape in zip(values, filled, strict=True):
        value = control.at(tape, row, (0,))
        if v.weak:  # a Python scalar: read back as one (NEP 50 promotion)
            value = Node.make(Op.CAST, (value,), {"dtype": v.dtype}, (), v.dtype, weak=True)
        reads[v] = value
    return reads


# ---------------------------------------------------------------------------------------------
# Accumulating into one element: `acc + put(zeros, v, i)` (the gradient of `x[i]` added to a
# cotangent carried by the backward loop) is `put(acc, acc[i] + v, i)`, one element updated in
# place instead of a zeroed array and a full add per iteration.


def _is_zeros(node: Node) -> bool:
    while node.op is Op.BROADCAST:
        node = node.inputs[0]
    return node.op is Op.CONST and not np.any(node.attr("value").array)


def scatter_adds(outputs: Sequence[Node]) -> list[Node]:
    """`outputs` with every `a + put(zeros, v, i)` (same shapes) as `put(a, a[i] + v, i)`."""
    done: dict[Node, Node] = {}
    for node in topological_order(outputs):
        inputs = tuple(done[i] for i in node.inputs)
        new = node if inputs == node.inputs else Node.make(
            node.op, inputs, dict(node.attrs), node.shape, node.dtype, node.weak, node.checks)
        if node.op is Op.ADD and all(i.shape == node.shape and i.dtype == node.dtype
                                     for i in inputs):
            for a, p in (inputs, inputs[::-1]):
                if p.op is Op.PUT and _is_zeros(p.inputs[0]) and not p.checks:
                    indices, axes = p.inputs[2:], p.attr("axes")
                    lengths = control.at_lengths(p)
                    region = control.at(a, indices, axes, lengths)
                    new = control.put(a, autodiff.add(region, p.inputs[1]), indices, axes,
                                      lengths)
                    break
        done[node] = new
    return [done[n] for n in outputs]
