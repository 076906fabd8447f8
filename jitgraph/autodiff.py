"""Reverse-mode automatic differentiation on the IR: `Graph -> Graph`.

`vjp(outputs, seeds, wrt)` walks the graph from the outputs back to the arguments and returns
the gradient of `sum(output * seed)` with respect to each node of `wrt`, as ordinary IR nodes
built with the builders of `ir/build.py`. The backward graph therefore goes through the same
optimizer, fusion and code generator as any other graph, and shares forward values with it by
interning (a forward value the backward pass needs is the same node, computed once).

One table, `GRAD_RULES`, holds a rule per op. A rule gets the node, the cotangent `g` of its
result and an input position, and returns that input's gradient in any shape that broadcasts
to the input's (the driver sums broadcast axes back and casts to the input's dtype), or None
for "no gradient" (zero).

Conventions
- Only floating-point values carry gradients. Integer and bool values (comparisons, argmax,
  casts to int, integer arguments) stop the backward pass: their users pass them no gradient.
  Asking for the gradient of an integer or bool argument is an error (`GraphTypeError`).
- Ties split the gradient equally. `maximum(x, y)` / `minimum(x, y)` with x == y give each
  side g / 2 (as JAX and PyTorch); `max` / `min` reductions give each of the k tied maxima
  g / k (as JAX's reduce_max and PyTorch's amax). `clip` is minimum(maximum(x, lo), hi), so at
  exactly a bound x gets g / 2. If the result is NaN, the gradient is NaN.
- Subgradients at kinks: `abs` has gradient 0 at 0 (sign(0)); `where` sends g to the chosen
  branch only; `remainder(x, y)` is x - floor(x / y) * y away from its jumps.
- `prod` handles zeros exactly: with no zero along the reduced axes the gradient is prod / x;
  with exactly one zero, only that element gets the product of the others; with two or more
  zeros every gradient is 0.
- `power(x, y)`: d/dx is 0 where y == 0 (also at x == 0), d/dy is 0 where x == 0 (as JAX).
- Non-differentiable ops (floor, ceil, sign, floor_divide, comparisons, logical ops, isnan,
  argmax, any, ...) give zero gradient.
- Loops with static bounds are unrolled by the frontend: their backward pass is the unrolled
  one. Loops with a runtime trip count (LOOP nodes) are differentiated whole by
  `jitgraph.autodiff_loops` (a reverse loop; carried values recomputed or stored on a tape).
  Runtime branches are inlined as selects first (`control.branches_as_selects`): both sides
  are computed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import GraphTypeError
from .ir import build, control
from .ir import dims as D
from .ir.node import Graph, Node, topological_order
from .ir.ops import Kind, Op, kind
from .passes.rows import blas_product

Rule = Callable[[Node, Node, int], "Node | None"]

# ---------------------------------------------------------------------------------------------
# Short builder spellings (every gradient is built with the ordinary builders)


def _e(op: Op) -> Callable[..., Node]:
    return lambda *xs: build.elementwise(op, *xs)


add, sub, mul, div, neg = _e(Op.ADD), _e(Op.SUB), _e(Op.MUL), _e(Op.DIV), _e(Op.NEG)
eq, gt, lt = _e(Op.EQ), _e(Op.GT), _e(Op.LT)
exp, log, sqrt, sin, cos, sinh, cosh = (
    _e(op) for op in (Op.EXP, Op.LOG, Op.SQRT, Op.SIN, Op.COS, Op.SINH, Op.COSH)
)
sign, floor_divide, power = _e(Op.SIGN), _e(Op.FLOORDIV), _e(Op.POW)


def where(c: Any, x: Any, y: Any) -> Node:
    return build.where(c, x, y)


def is_differentiable(node: Node) -> bool:
    """Whether values of this node's dtype carry gradients (floating point only)."""
    return node.dtype.kind == "f"


# ---------------------------------------------------------------------------------------------
# Shape helpers


def sum_to(g: Node, shape: tuple) -> Node:
    """Sum `g` over the axes that broadcasting added to reach it from `shape`: leading axes
    and axes of size 1 in `shape` (NumPy's broadcasting, undone)."""
    extra = g.ndim - len(shape)
    rows = extra == 1 and g.ndim == 2
    row_sum = build.matmul(build.full(g.shape[:1], 1, g.dtype), g) if rows else None
    if row_sum is not None and blas_product(row_sum):
        # The gradient of a bias added to every row: the sum of g's rows as the product
        # ones @ g, one BLAS call (gemv) reading g row by row in parallel. A loop nest summing
        # over the leading axis walks down columns, several times slower on a large g.
        g = row_sum
    elif extra > 0:
        g = build.reduce(Op.SUM, g, tuple(range(extra)))
    axes = tuple(
        i for i, (gd, d) in enumerate(zip(g.shape, shape, strict=False)) if d == 1 and gd != 1
    )
    if axes:
        g = build.reduce(Op.SUM, g, axes, keepdims=True)
    return g


def _fit(g: Node, x: Node) -> Node:
    """`g` as a gradient of `x`: summed back to x's shape, broadcast up if smaller, x's dtype."""
    g = sum_to(g, x.shape)
    # Sizes that differ only as expressions (checked equal at run time) need no broadcast.
    if g.ndim != x.ndim or any(gd == 1 and d != 1 for gd, d in zip(g.shape, x.shape, strict=True)):
        g = build.broadcast_to(g, x.shape)
    return build.cast(g, x.dtype) if g.dtype != x.dtype else g


def _expand(g: Node, node: Node) -> Node:
    """The result (or cotangent) of a reduction with its reduced axes back as size-1 axes."""
    if node.attr("keepdims"):
        return g
    axes = node.attr("axes")
    return build.getitem(
        g, tuple(None if i in axes else slice(None) for i in range(node.inputs[0].ndim))
    )


def _zeros(shape: tuple, dtype: np.dtype) -> Node:
    return build.full(shape, 0, dtype)


def _swap_last(x: Node) -> Node:
    perm = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return build.transpose(x, perm)


def _matmul(p: Node, q: Node) -> Node:
    """p @ q; a contraction over one element is an outer product, which fuses as a multiply."""
    if p.shape[-1] == 1:
        return mul(p, q)
    return build.matmul(p, q)


# ---------------------------------------------------------------------------------------------
# Rule makers


def _unary(fn: Callable[[Node, Node, Node], Node]) -> Rule:
    """y = f(x): fn(x, y, g) is the gradient of x."""
    return lambda node, g, i: fn(node.inputs[0], node, g)


def _binary(dx: Callable | None, dy: Callable | None) -> Rule:
    """z = f(x, y): dx(x, y, z, g) and dy(x, y, z, g) are the gradients (None: no gradient)."""

    def rule(node: Node, g: Node, i: int) -> Node | None:
        fn = (dx, dy)[i]
        return None if fn is None else fn(*node.inputs, node, g)

    return rule


def _zero(node: Node, g: Node, i: int) -> None:
    return None


def _identity(node: Node, g: Node, i: int) -> Node:
    return g


# ---------------------------------------------------------------------------------------------
# Rules that need more than a line


def _tie_share(x: Node, y: Node, g: Node, wins: Callable) -> Node:
    """maximum/minimum: all of g where x wins, half of it on a tie, none where it loses."""
    return where(wins(x, y), g, where(eq(x, y), mul(g, 0.5), 0))


def _nonzero_constant(x: Node) -> bool:
    value = build.const_value(x)
    return value is not None and value != 0


def _pow_dx(x: Node, y: Node, z: Node, g: Node) -> Node:
    # y * x**(y-1), taken as 0 where y == 0 (no 0 * inf at x == 0).
    dx = mul(g, mul(y, power(x, sub(y, 1))))
    return dx if _nonzero_constant(y) else where(eq(y, 0), 0, dx)


def _pow_dy(x: Node, y: Node, z: Node, g: Node) -> Node:
    # x**y * log(x), taken as 0 where x == 0 (the limit for y > 0).
    if _nonzero_constant(x):
        return mul(g, mul(z, log(x)))
    return where(eq(x, 0), 0, mul(g, mul(z, log(where(eq(x, 0), 1, x)))))


def _sum_rule(node: Node, g: Node, i: int) -> Node:
    return build.broadcast_to(_expand(g, node), node.inputs[0].shape)


def _prod_rule(node: Node, g: Node, i: int) -> Node:
    """Product of the other elements, exact with zeros (see module docstring)."""
    x, axes = node.inputs[0], node.attr("axes")
    is_zero = eq(x, 0)
    nonzero = where(is_zero, 1, x)
    others = build.reduce(Op.PROD, nonzero, axes, keepdims=True)
    zeros = build.reduce(Op.SUM, build.cast(is_zero, np.int64), axes, keepdims=True)
    one_zero = where(is_zero, others, 0)
    share = where(eq(zeros, 0), div(others, nonzero), where(eq(zeros, 1), one_zero, 0))
    return mul(_expand(g, node), share)


def _extremum_rule(node: Node, g: Node, i: int) -> Node:
    """max/min: g split equally among the elements equal to the result."""
    x = node.inputs[0]
    hit = build.cast(eq(x, _expand(node, node)), x.dtype)
    count = build.reduce(Op.SUM, hit, node.attr("axes"), keepdims=True)
    return mul(div(_expand(g, node), count), hit)


def _matmul_rule(node: Node, g: Node, i: int) -> Node:
    """np.matmul for every rank: 1-D operands get their added axis back, batch axes that
    broadcasting added or stretched are summed."""
    a, b = node.inputs
    a2 = a if a.ndim > 1 else build.getitem(a, (None, slice(None)))
    b2 = b if b.ndim > 1 else build.getitem(b, (slice(None), None))
    if a.ndim == 1 and b.ndim == 1:
        g2 = build.getitem(g, (None, None))
    elif a.ndim == 1:
        g2 = build.getitem(g, (Ellipsis, None, slice(None)))
    elif b.ndim == 1:
        g2 = build.getitem(g, (Ellipsis, None))
    else:
        g2 = g
    if i == 0:
        ga = sum_to(_matmul(g2, _swap_last(b2)), a2.shape)
        return ga if a.ndim > 1 else build.getitem(ga, 0)
    gb = sum_to(_matmul(_swap_last(a2), g2), b2.shape)
    return gb if b.ndim > 1 else build.getitem(gb, (slice(None), 0))


def _transpose_rule(node: Node, g: Node, i: int) -> Node:
    perm = node.attr("perm")
    inverse = tuple(perm.index(axis) for axis in range(len(perm)))
    return build.transpose(g, inverse)


def _getitem_rule(node: Node, g: Node, i: int) -> Node | None:
    """Scatter g into zeros of the input's shape; axes added by None are dropped first. The
    shift of a one-pass variance (`build._first_row`) gets none: the variance does not depend
    on it (its two contributions cancel exactly)."""
    if node.attr("unchecked"):
        return None
    x, items = node.inputs[0], node.attr("items")
    drop = tuple(0 if item[0] == "new" else slice(None) for item in items if item[0] != "int")
    region = build.getitem(g, drop) if any(item[0] == "new" for item in items) else g
    return build.setitem(
        _zeros(x.shape, g.dtype), build.key_from_items(items, keep_new=False), region
    )


def _setitem_rule(node: Node, g: Node, i: int) -> Node:
    """base[key] = value: the base gets g outside the region, the value gets g inside it."""
    key = build.key_from_items(node.attr("items"))
    if i == 0:
        return build.setitem(g, key, 0)
    return build.getitem(g, key)


def _at_rule(node: Node, g: Node, i: int) -> Node | None:
    """x[i] with i known at run time: g scattered into zeros at i."""
    if i:
        return None
    x = node.inputs[0]
    return control.put(_zeros(x.shape, g.dtype), g, node.inputs[1:], node.attr("axes"),
                       control.at_lengths(node))


def _put_rule(node: Node, g: Node, i: int) -> Node | None:
    indices, axes, lengths = node.inputs[2:], node.attr("axes"), control.at_lengths(node)
    if i == 0:
        return control.put(g, build.const(0, g.dtype), indices, axes, lengths)
    return control.at(g, indices, axes, lengths) if i == 1 else None


def _control_rule(node: Node, g: Node, i: int) -> Node:
    """LOOP / RESULT / BRANCH have no per-input rule: vjp inlines branches as selects, and
    autodiff_loops builds a LOOP's gradient whole from the cotangents of all its RESULTs."""
    raise GraphTypeError(
        f"internal error: {node.op.value} reached the per-op gradient walk (loops are "
        "differentiated by jitgraph.autodiff_loops, branches inlined as selects)"
    )


def _reshape_rule(node: Node, g: Node, i: int) -> Node:
    return build.reshape(g, node.inputs[0].shape)


def _concat_rule(node: Node, g: Node, i: int) -> Node | None:
    """The input's stretch of g along the axis: a slice when its bounds are known when the
    graph is built, else a selection matmul (runtime offsets cannot be slice bounds yet)."""
    axis = node.attr("axis")
    sizes = [x.shape[axis] for x in node.inputs]
    before, size, after = sizes[:i], sizes[i], sizes[i + 1 :]
    bounds = _static_bounds(before, size, after)
    if bounds is not None:
        key = (slice(None),) * axis + (slice(*bounds),)
        return build.getitem(g, key)
    return _select_along(g, axis, _dim_sum(before), size)


def _static_bounds(before: list, size: Any, after: list) -> tuple | None:
    """(start, stop) of a stretch from the static sizes around it, with negative indices
    counted from the end when only the sizes after it are known."""
    if all(isinstance(d, int) for d in before):
        start = sum(before)
        if isinstance(size, int):
            return start, start + size
        if all(isinstance(d, int) for d in after):
            return start, (-sum(after) or None)
        return None
    if isinstance(size, int) and size > 0 and all(isinstance(d, int) for d in after):
        tail = sum(after)
        return -(tail + size), (-tail or None)
    return None


def _dim_sum(dims: list) -> Any:
    total: Any = 0
    for d in dims:
        total = D.add(total, d)
    return total


def _select_along(g: Node, axis: int, offset: Any, size: Any) -> Node:
    """g[offset:offset + size] along `axis` for runtime offset and size, as g @ S with the 0/1
    selection matrix S[k, j] = (k == j + offset). Costs size * len(axis) per row."""
    total = g.shape[axis]
    grid = (total, size)
    picked = eq(build.index(grid, 0), add(build.index(grid, 1), build.size(offset)))
    moved = build.transpose(g, tuple(a for a in range(g.ndim) if a != axis) + (axis,))
    chosen = build.matmul(moved, build.cast(picked, g.dtype))
    back = list(range(g.ndim - 1))
    back.insert(axis, g.ndim - 1)
    return build.transpose(chosen, tuple(back))


# ---------------------------------------------------------------------------------------------
# The table: one rule per op. x, y: inputs; z: result; g: cotangent of the result.

GRAD_RULES: dict[Op, Rule] = {
    # -- sources have no inputs; their gradients are what the walk accumulates ------------
    # -- elementwise unary ------------------------------------------------------------------
    Op.NEG: _unary(lambda x, z, g: neg(g)),  # -x
    Op.ABS: _unary(lambda x, z, g: mul(g, sign(x))),  # sign(x); 0 at 0
    Op.EXP: _unary(lambda x, z, g: mul(g, z)),  # e^x
    Op.EXPM1: _unary(lambda x, z, g: mul(g, add(z, 1))),  # e^x = z + 1
    Op.LOG: _unary(lambda x, z, g: div(g, x)),  # 1 / x
    Op.LOG1P: _unary(lambda x, z, g: div(g, add(x, 1))),  # 1 / (1 + x)
    Op.LOG2: _unary(lambda x, z, g: div(g, mul(x, math.log(2)))),  # 1 / (x ln 2)
    Op.LOG10: _unary(lambda x, z, g: div(g, mul(x, math.log(10)))),  # 1 / (x ln 10)
    Op.SQRT: _unary(lambda x, z, g: div(mul(g, 0.5), z)),  # 1 / (2 sqrt x)
    Op.SIN: _unary(lambda x, z, g: mul(g, cos(x))),  # cos x
    Op.COS: _unary(lambda x, z, g: neg(mul(g, sin(x)))),  # -sin x
    Op.TAN: _unary(lambda x, z, g: mul(g, add(mul(z, z), 1))),  # 1 + tan^2 x
    Op.ARCSIN: _unary(lambda x, z, g: div(g, sqrt(sub(1, mul(x, x))))),  # 1 / sqrt(1 - x^2)
    Op.ARCCOS: _unary(lambda x, z, g: neg(div(g, sqrt(sub(1, mul(x, x)))))),  # -1 / sqrt(1-x^2)
    Op.ARCTAN: _unary(lambda x, z, g: div(g, add(mul(x, x), 1))),  # 1 / (1 + x^2)
    Op.SINH: _unary(lambda x, z, g: mul(g, cosh(x))),  # cosh x
    Op.COSH: _unary(lambda x, z, g: mul(g, sinh(x))),  # sinh x
    Op.TANH: _unary(lambda x, z, g: mul(g, sub(1, mul(z, z)))),  # 1 - tanh^2 x
    Op.CAST: _identity,  # float -> float: the driver casts g back
    Op.FLOOR: _zero,
    Op.CEIL: _zero,
    Op.SIGN: _zero,  # piecewise constant
    Op.NOT: _zero,
    Op.ISNAN: _zero,
    Op.ISINF: _zero,
    Op.ISFINITE: _zero,  # bool results
    # -- elementwise binary -----------------------------------------------------------------
    Op.ADD: _binary(lambda x, y, z, g: g, lambda x, y, z, g: g),
    Op.SUB: _binary(lambda x, y, z, g: g, lambda x, y, z, g: neg(g)),
    Op.MUL: _binary(lambda x, y, z, g: mul(g, y), lambda x, y, z, g: mul(g, x)),
    Op.DIV: _binary(
        lambda x, y, z, g: div(g, y),  # 1 / y
        lambda x, y, z, g: neg(div(mul(g, z), y)),
    ),  # -x / y^2 = -z / y
    Op.POW: _binary(_pow_dx, _pow_dy),  # y x^(y-1), x^y ln x
    Op.MAXIMUM: _binary(
        lambda x, y, z, g: _tie_share(x, y, g, gt),  # ties: g / 2 each
        lambda x, y, z, g: _tie_share(y, x, g, gt),
    ),
    Op.MINIMUM: _binary(
        lambda x, y, z, g: _tie_share(x, y, g, lt), lambda x, y, z, g: _tie_share(y, x, g, lt)
    ),
    Op.ARCTAN2: _binary(  # atan2(x, y)
        lambda x, y, z, g: div(mul(g, y), add(mul(x, x), mul(y, y))),  # y / (x^2 + y^2)
        lambda x, y, z, g: neg(div(mul(g, x), add(mul(x, x), mul(y, y)))),  # -x / (x^2 + y^2)
    ),
    Op.MOD: _binary(
        lambda x, y, z, g: g,  # x - floor(x/y) y
        lambda x, y, z, g: neg(mul(g, floor_divide(x, y))),
    ),
    Op.FLOORDIV: _zero,  # piecewise constant
    Op.EQ: _zero,
    Op.NE: _zero,
    Op.LT: _zero,
    Op.LE: _zero,
    Op.GT: _zero,
    Op.GE: _zero,
    Op.AND: _zero,
    Op.OR: _zero,
    Op.XOR: _zero,  # bool results
    # -- where: g goes to the branch chosen, none to the condition ---------------------------
    Op.WHERE: lambda node, g, i: (None, where(node.inputs[0], g, 0), where(node.inputs[0], 0, g))[
        i
    ],
    # -- reductions ---------------------------------------------------------------------------
    Op.SUM: _sum_rule,  # g broadcast back over the reduced axes
    Op.PROD: _prod_rule,  # product of the others, exact with zeros
    Op.MAX: _extremum_rule,
    Op.MIN: _extremum_rule,  # split equally among ties
    Op.ARGMAX: _zero,
    Op.ARGMIN: _zero,
    Op.ANY: _zero,
    Op.ALL: _zero,  # integer / bool results
    # -- structure ----------------------------------------------------------------------------
    Op.MATMUL: _matmul_rule,  # g @ b^T, a^T @ g (all ranks, batched)
    Op.TRANSPOSE: _transpose_rule,  # the inverse permutation
    Op.GETITEM: _getitem_rule,  # scatter into zeros
    Op.BROADCAST: _identity,  # the driver sums the broadcast axes
    Op.RESHAPE: _reshape_rule,  # reshape back
    Op.CONCAT: _concat_rule,  # each input's stretch of g
    Op.SETITEM: _setitem_rule,  # g outside the region / inside it
    Op.WRAP: _zero,  # an integer index
    Op.AT: _at_rule,  # scatter into zeros at the runtime index
    Op.PUT: _put_rule,  # g outside the element / at it
    Op.LOOP: _control_rule,
    Op.BRANCH: _control_rule,
    Op.RESULT: _control_rule,
}


# ---------------------------------------------------------------------------------------------
# The walk


def _active(order: list[Node], wrt: Sequence[Node]) -> set[Node]:
    """Floating-point nodes that depend on a node of `wrt`: the ones carrying cotangents."""
    active = set(wrt)
    for node in order:
        if is_differentiable(node) and any(i in active for i in node.inputs):
            active.add(node)
    return active


def _accumulate(cotangents: dict[Node, Node], node: Node, g: Node) -> None:
    previous = cotangents.get(node)
    cotangents[node] = g if previous is None else add(previous, g)


def vjp(outputs: Sequence[Node], seeds: Sequence[Node], wrt: Sequence[Node]) -> list[Node]:
    """Gradients of sum_k sum(outputs[k] * seeds[k]) with respect to each node of `wrt`
    (each the shape and dtype of its node; zeros where there is no dependence)."""
    for w in wrt:
        if not is_differentiable(w):
            raise GraphTypeError(
                f"cannot differentiate with respect to {_describe(w)} of dtype "
                f"{w.dtype}: only floating-point values have gradients"
            )
    outputs = control.branches_as_selects(outputs)
    from . import autodiff_loops  # loops: each LOOP node's gradient is built whole

    if autodiff_loops.reaches_loop(outputs):
        return autodiff_loops.vjp(outputs, seeds, wrt)
    order = topological_order(outputs)
    active = _active(order, wrt)
    cotangents: dict[Node, Node] = {}
    for out, seed in zip(outputs, seeds, strict=True):
        if out in active:
            _accumulate(cotangents, out, _fit(seed, out))
    for node in reversed(order):
        g = cotangents.get(node)
        if g is None or not node.inputs:
            continue
        rule = GRAD_RULES.get(node.op)
        if rule is None:
            raise GraphTypeError(f"no gradient rule for {node.op.value}")
        for i, inp in enumerate(node.inputs):
            if inp in active:
                contribution = rule(node, g, i)
                if contribution is not None:
                    _accumulate(cotangents, inp, _fit(contribution, inp))
    return [cotangents[w] if w in cotangents else _zeros(w.shape, w.dtype) for w in wrt]


def _describe(node: Node) -> str:
    name = node.attr("name")
    return f"argument {name!r}" if name is not None else f"a {node.op.value} value"


def scalar_seed(output: Node) -> Node:
    """The seed 1 for a 0-d output (the gradient of the output itself)."""
    check_output(output)
    if output.ndim:
        from .ir.printer import format_type

        raise GraphTypeError(
            f"grad needs a function returning a scalar; it returned "
            f"{format_type(output)} (reduce it, e.g. with .sum())"
        )
    return build.const(1, output.dtype)


def check_output(output: Node) -> None:
    if not is_differentiable(output):
        raise GraphTypeError(
            f"cannot differentiate a value of dtype {output.dtype}: only "
            "floating-point results have gradients"
        )


def gradient_graph(graph: Graph, wrt: Sequence[int], with_value: bool = False) -> Graph:
    """The graph computing (value?, gradients) of a graph with one 0-d float output, with
    respect to its arguments number `wrt`."""
    (loss,) = graph.outputs
    grads = vjp([loss], [scalar_seed(loss)], [graph.args[i] for i in wrt])
    outputs = ((loss,) if with_value else ()) + tuple(grads)
    names = (("value",) if with_value else ()) + tuple(
        f"grad_{graph.args[i].attr('name')}" for i in wrt
    )
    return Graph(outputs, graph.args, names, dict(graph.locations), graph.carried_checks)


# ---------------------------------------------------------------------------------------------
# What the backward pass keeps from the forward pass (for inspect)


@dataclass
class GradReport:
    """`inspect` of a gradient: the compiler's report of the combined forward + backward graph
    (fusion groups, memory plan, code) and the forward values the backward pass reads."""

    report: Any  # jitgraph.report.Report
    saved_for_backward: list[dict[str, Any]] = field(default_factory=list)

    @property
    def saved_bytes(self) -> int:
        return sum(s["bytes"] for s in self.saved_for_backward if s["kind"] == "stored")

    def as_dict(self) -> dict[str, Any]:
        result = self.report.as_dict()
        result["saved_for_backward"] = self.saved_for_backward
        result["saved_bytes"] = self.saved_bytes
        return result

    def __str__(self) -> str:
        title = "== saved for backward (forward values the backward loop nests read) "
        lines = [
            f"{s['value']:<8}{s['op']:<14}{str(s['shape']):<22}{s['dtype']:<9}"
            f"{s['bytes']:>14,}  {s['kind']}"
            for s in self.saved_for_backward
        ]
        lines.append(f"stored forward bytes kept for backward: {self.saved_bytes:,}")
        return str(self.report) + "\n\n" + title + "=" * 30 + "\n" + "\n".join(lines)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["report"], name)


def saved_for_backward(plan: Any, primal: Iterable[Node], shapes: list[tuple]) -> list[dict]:
    """Forward values (nodes of the optimized forward graph `primal` reaches) that a backward
    loop nest reads from memory: arguments ('argument') and stored intermediates ('stored').
    Forward values fused into a backward loop nest are recomputed there, not kept."""
    from .ir.printer import value_names
    from .passes.memory import group_reads, value_bytes

    forward = set(topological_order(primal))
    names = value_names(plan.graph)
    saved: dict[Node, str] = {}
    for group in plan.groups:
        roots = getattr(group, "roots", None) or [group.root]
        if all(r in forward for r in roots):
            continue
        for value in group_reads(group, plan.materialized):
            if value in forward:
                saved.setdefault(value, "stored")
        for member in group.members:
            for inp in member.inputs:
                base = inp
                while kind(base.op) is Kind.VIEW:
                    base = base.inputs[0]
                if base.op is Op.VAR and base in forward:
                    saved.setdefault(base, "argument")
    return [
        {
            "value": names.get(n, "?"),
            "op": n.op.value,
            "shape": tuple(D.evaluate(d, shapes) for d in n.shape),
            "dtype": n.dtype.name,
            "bytes": value_bytes(n, shapes),
            "kind": k,
        }
        for n, k in saved.items()
    ]


def inspect_gradient(executable: Any, primal_outputs: Sequence[Node], arrays: list) -> GradReport:
    """The report of a compiled gradient (a runtime.Executable) for argument `arrays`."""
    from .passes.pipeline import optimize
    from .report import build_report

    shapes = [np.shape(a) for a in arrays]
    plan = _plain_locations(executable.plan)
    report = build_report(
        executable.input_graph, plan, executable.source, shapes, executable.timings
    )
    primal = optimize(Graph(tuple(primal_outputs), executable.input_graph.args)).outputs
    return GradReport(report, saved_for_backward(executable.plan, primal, shapes))


def _plain_locations(plan: Any) -> Any:
    """The plan with frontend Location objects as (file, line) pairs, the form report.py
    formats (until it formats Locations itself)."""
    from dataclasses import replace

    locations = {
        n: (loc.filename, loc.line) if hasattr(loc, "filename") else loc
        for n, loc in plan.graph.locations.items()
    }
    return replace(plan, graph=replace(plan.graph, locations=locations))
