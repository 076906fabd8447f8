"""Builders: the only way nodes are made. Each infers shape and dtype (NumPy 2 rules) and records
the runtime size checks the result relies on. Composite NumPy functions are lowered here into
the core ops of ops.py, following NumPy's own definitions (mean is sum / n, var is NumPy's
two-pass formula, clip is minimum(maximum(...)), ...).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import GraphIndexError, GraphShapeError, GraphTypeError
from . import dims as D
from . import dtypes
from .dims import Dim
from .node import Check, ConstValue, Node
from .ops import BINARY, OPERATOR_SYMBOLS, REDUCTIONS, UNARY, Op

Operand = Any  # a Node, or a Python / NumPy scalar or array that becomes a constant


# ---------------------------------------------------------------------------------------------
# Sources


def argument(
    name: str, index: int, dtype: Any, shape: Sequence[Dim | None], weak: bool = False
) -> Node:
    """Argument number `index`. Unknown sizes (None) become symbolic dims named `name.axis`.
    `weak`: a Python scalar passed at run time (0-d; promotes like a literal, NEP 50)."""
    dtype = dtypes.check(dtype, f"argument {name!r}")
    dims = tuple(D.arg_dim(index, axis, name) if d is None else d for axis, d in enumerate(shape))
    if weak and dims:
        raise GraphTypeError(f"argument {name!r}: only 0-d arguments can be weakly typed")
    attrs = {"name": name, "index": index, "dtype": dtype, "shape": dims, "weak": weak}
    return Node.make(Op.VAR, (), attrs, dims, dtype, weak=weak)


def const(value: Any, dtype: Any = None) -> Node:
    """A constant. Python scalars stay weak (NEP 50) unless a dtype is given."""
    if isinstance(value, Node):
        return value if dtype is None else cast(value, dtype)
    weak = (
        isinstance(value, (bool, int, float))
        and not isinstance(value, np.generic)
        and dtype is None
    )
    if isinstance(value, complex) or isinstance(value, np.complexfloating):
        raise GraphTypeError(f"complex constant {value!r}: jitgraph supports real dtypes only")
    if weak:
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
            raise GraphTypeError(f"Python integer {value} does not fit in 64 bits")
        array = np.asarray(value)
    else:
        try:
            array = np.asarray(value, dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise GraphTypeError(f"constant {value!r} is not a numeric array: {exc}") from None
        dtypes.check(array.dtype, "constant")
    return Node.make(
        Op.CONST,
        (),
        {"value": ConstValue(array), "weak": weak},
        array.shape,
        array.dtype,
        weak=weak,
    )


def size(dim: Dim) -> Node:
    """A size as a weak int scalar: `n` in `sum(x) / n`."""
    if isinstance(dim, int):
        return const(dim)
    return Node.make(Op.SIZE, (), {"dim": dim}, (), dtypes.INT64, weak=True)


def index(shape: Sequence[Dim], axis: int) -> Node:
    """The grid of indices along `axis` over `shape` (int64): arange and eye are built on it."""
    return Node.make(
        Op.INDEX, (), {"shape": tuple(shape), "axis": axis}, tuple(shape), dtypes.INT64
    )


def as_node(value: Operand) -> Node:
    return value if isinstance(value, Node) else const(value)


def const_value(node: Node) -> Any:
    """The Python value of a weak scalar constant, else None (used for NEP 50 probes)."""
    if node.op is Op.CONST and node.weak:
        return node.attr("value").array.item()
    return None


# ---------------------------------------------------------------------------------------------
# Broadcasting


def broadcast_shapes(
    shapes: Sequence[tuple[Dim, ...]], what: str
) -> tuple[tuple[Dim, ...], list[Check]]:
    """NumPy broadcasting over possibly symbolic shapes; conditions that cannot be decided now
    become runtime checks.

    Argument sizes are never 1 (size-1 axes are specialized), so where one takes part the result
    is that size and every other size must equal it or, if it may be 1 at run time (a slice
    length, see `dims.can_be_one`), equal it or be 1. Where all sizes may be 1 the result is
    their `dims.broadcast_size`, evaluated at run time."""
    ndim = max((len(s) for s in shapes), default=0)
    result: list[Dim] = []
    checks: list[Check] = []
    for pos in range(ndim):
        column = [s[len(s) - ndim + pos] for s in shapes if len(s) - ndim + pos >= 0]
        sized = list(dict.fromkeys(d for d in column if d != 1))
        if not sized:
            result.append(1)
            continue
        known = [d for d in sized if isinstance(d, int)]
        if len(known) > 1:
            text = " and ".join("(" + D.format_shape(s) + ")" for s in shapes)
            raise GraphShapeError(f"{what}: shapes {text} cannot be broadcast together")
        never_one = [d for d in sized if not D.can_be_one(d)]
        if known or never_one:
            chosen = known[0] if known else never_one[0]
        else:
            chosen = sized[0]
            for d in sized[1:]:
                chosen = D.broadcast_size(chosen, d)
            sized = sized[1:]  # chosen is sized[0] unless that is 1: its check always holds
        checks += [_fits_check(d, chosen, what) for d in sized if d != chosen]
        result.append(chosen)
    return tuple(result), checks


def _fits_check(d: Dim, target: Dim, what: str) -> Check:
    """The runtime check that size `d` broadcasts to size `target` (d != target as expressions):
    equality when d is never 1, else `bcast(d, target) == target` (d == target or d == 1), a
    true equality of sizes, so the shape environment may rely on it like any other."""
    if D.can_be_one(d) and target != 1:
        return Check("eq", D.bcast(d, target), target, what)
    return Check("eq", d, target, what)


def stretched(x: Node, shape: tuple[Dim, ...]) -> Node:
    """`x` as an operand broadcast to `shape` by an operation that broadcasts implicitly:
    itself, unless an axis of x may be 1 at run time only (see `dims.can_be_one`). Codegen
    broadcasts implicitly only the axes known to be 1; such an axis needs a broadcast view,
    whose reads are clamped to the axis (kernel.py, `stretch_index`)."""
    target = shape[len(shape) - x.ndim :] if x.ndim else ()
    if any(d != 1 and d != t and D.can_be_one(d) for d, t in zip(x.shape, target)):
        return broadcast_to(x, target)
    return x


def _broadcast_operands(
    inputs: Sequence[Node], shapes: Sequence[tuple[Dim, ...]], what: str
) -> tuple[list[Node], tuple[Dim, ...], list[Check]]:
    """Broadcast `shapes` (the inputs' shapes, or the parts of them that broadcast): the inputs,
    `stretched` where needed, the broadcast shape, and the checks the result must carry (those
    a stretched input does not carry already)."""
    shape, checks = broadcast_shapes(shapes, what)
    # x.shape[len(s):]: matmul's matrix axes, which do not broadcast
    result = [stretched(x, shape + x.shape[len(s) :]) for x, s in zip(inputs, shapes)]
    carried = {(c.kind, c.a, c.b) for x in result if x.op is Op.BROADCAST for c in x.checks}
    return result, shape, [c for c in checks if (c.kind, c.a, c.b) not in carried]


# ---------------------------------------------------------------------------------------------
# Elementwise


def _probe_operands(nodes: Sequence[Node]) -> list[tuple[np.dtype, bool, Any]]:
    return [(n.dtype, n.weak, const_value(n)) for n in nodes]


def _describe(op: Op) -> str:
    symbol = OPERATOR_SYMBOLS.get(op)
    return f"'{symbol}'" if symbol else op.value


def elementwise(op: Op, *operands: Operand) -> Node:
    """Apply the ufunc `op` (see ops.UNARY / ops.BINARY) with broadcasting and NEP 50 promotion."""
    inputs = [as_node(x) for x in operands]
    fn = UNARY.get(op) or BINARY.get(op)
    what = _describe(op)
    dtype = dtypes.probe(fn, _probe_operands(inputs), what)
    dtype = dtypes.check(dtype, f"result of {what}")
    weak = all(n.weak for n in inputs)
    if weak:
        dtype = dtypes.weak_default(np.zeros((), dtype).item())
    inputs, shape, checks = _broadcast_operands(inputs, [n.shape for n in inputs], what)
    return Node.make(op, inputs, {}, shape, dtype, weak=weak, checks=tuple(checks))


def cast(x: Operand, dtype: Any) -> Node:
    """`x.astype(dtype)` (unsafe casting, as NumPy's default)."""
    x = as_node(x)
    dtype = dtypes.check(dtype, "astype target")
    if x.dtype == dtype and not x.weak:
        return x
    return Node.make(Op.CAST, (x,), {"dtype": dtype}, x.shape, dtype)


def where(cond: Operand, x: Operand, y: Operand) -> Node:
    inputs = [as_node(v) for v in (cond, x, y)]
    dtype = dtypes.probe(np.where, _probe_operands(inputs), "where")
    weak = inputs[1].weak and inputs[2].weak
    inputs, shape, checks = _broadcast_operands(inputs, [n.shape for n in inputs], "where")
    return Node.make(Op.WHERE, inputs, {}, shape, dtype, weak=weak, checks=tuple(checks))


def clip(x: Operand, lo: Operand | None, hi: Operand | None) -> Node:
    """np.clip: minimum(maximum(x, lo), hi), promoted over all three operands."""
    if lo is None and hi is None:
        raise GraphTypeError("clip: one of lo and hi must be given")
    nodes = [as_node(v) for v in (x, lo, hi) if v is not None]
    dtype = dtypes.probe(
        lambda *a: (
            np.clip(a[0], *(a[1:] + (None,) * (3 - len(a))))
            if lo is not None
            else np.clip(a[0], None, a[1])
        ),
        _probe_operands(nodes),
        "clip",
    )
    result = as_node(x)
    if result.dtype != dtype and not result.weak:
        result = cast(result, dtype)
    if lo is not None:
        result = elementwise(Op.MAXIMUM, result, lo)
    if hi is not None:
        result = elementwise(Op.MINIMUM, result, hi)
    return cast(result, dtype) if result.dtype != dtype else result


def square(x: Operand) -> Node:
    """np.square: x * x in square's own loop dtype (int8 for bool, where multiply is 'and')."""
    x = as_node(x)
    dtype = dtypes.probe(np.square, _probe_operands([x]), "square")
    if x.dtype != dtype and not x.weak:
        x = cast(x, dtype)
    return elementwise(Op.MUL, x, x)


def reciprocal(x: Operand) -> Node:
    """np.reciprocal: 1/x for floats; for integers NumPy's truncating 1/x (0 unless |x| == 1)."""
    x = as_node(x)
    if x.dtype.kind == "f":
        return elementwise(Op.DIV, const(1, x.dtype), x)
    if x.dtype.kind == "b":
        raise GraphTypeError("reciprocal does not accept bool")
    one = elementwise(Op.EQ, x, 1)
    minus_one = elementwise(Op.EQ, x, -1) if x.dtype.kind == "i" else const(False)
    zero = const(0, x.dtype)
    return where(
        one,
        const(1, x.dtype),
        where(minus_one, cast(const(-1), x.dtype) if x.dtype.kind == "i" else zero, zero),
    )


# ---------------------------------------------------------------------------------------------
# Reductions


def normalize_axes(axis: Any, ndim: int, what: str) -> tuple[int, ...]:
    """NumPy's axis argument (None, int, negative, tuple) as a sorted tuple of distinct axes."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    result = []
    for a in items:
        if not isinstance(a, numbers.Integral) or isinstance(a, bool):
            raise GraphTypeError(
                f"{what}: axis must be an integer or a tuple of integers, got {a!r}"
            )
        if not -ndim <= a < ndim:
            raise GraphShapeError(
                f"{what}: axis {a} is out of bounds for array of dimension {ndim}"
            )
        a = int(a) % ndim if ndim else 0
        if a in result:
            raise GraphShapeError(f"{what}: duplicate value in 'axis'")
        result.append(a)
    return tuple(sorted(result))


_EMPTY_MESSAGE = {
    Op.MAX: "zero-size array to reduction operation maximum which has no identity",
    Op.MIN: "zero-size array to reduction operation minimum which has no identity",
    Op.ARGMAX: "attempt to get argmax of an empty sequence",
    Op.ARGMIN: "attempt to get argmin of an empty sequence",
}


def reduce(op: Op, x: Operand, axis: Any = None, keepdims: bool = False) -> Node:
    """sum, prod, max, min, argmax, argmin, any, all over `axis` (None, int, tuple)."""
    x = as_node(x)
    what = op.value
    if op in (Op.ARGMAX, Op.ARGMIN) and isinstance(axis, (tuple, list)):
        raise GraphTypeError(f"{what}: axis must be None or an integer, got {axis!r}")
    axes = normalize_axes(axis, x.ndim, what)
    if op in (Op.ARGMAX, Op.ARGMIN) and axis is None and keepdims:
        shape = (1,) * x.ndim
    elif keepdims:
        shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    else:
        shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    fn = REDUCTIONS[op]
    operand = [(x.dtype, False, None)]
    dtype = dtypes.probe(lambda a: fn(a), operand, what)
    checks = []
    if op in _EMPTY_MESSAGE:
        extent = D.product(tuple(x.shape[i] for i in axes))
        if extent == 0:
            raise GraphShapeError(f"{what}: {_EMPTY_MESSAGE[op]}")
        if not isinstance(extent, int):
            checks.append(Check("nonempty", extent, 0, f"{what}: {_EMPTY_MESSAGE[op]}"))
    attrs = {"axes": axes, "keepdims": bool(keepdims), "flat": axis is None}
    return Node.make(op, (x,), attrs, shape, dtype, checks=tuple(checks))


def _reduced_count(x: Node, axes: tuple[int, ...]) -> Dim:
    return D.product(tuple(x.shape[i] for i in axes))


def mean(x: Operand, axis: Any = None, keepdims: bool = False) -> Node:
    """np.mean: sum (in float64 for integers) divided by the count."""
    x = as_node(x)
    dtype = dtypes.probe(np.mean, [(x.dtype, False, None)], "mean")
    axes = normalize_axes(axis, x.ndim, "mean")
    total = reduce(Op.SUM, cast(x, dtype), axes, keepdims)
    return elementwise(Op.DIV, total, size(_reduced_count(x, axes)))


def var(x: Operand, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Node:
    """np.var: see `_variance`."""
    value, dtype = _variance(x, axis, keepdims, ddof)
    return cast(value, dtype)


def std(x: Operand, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Node:
    value, dtype = _variance(x, axis, keepdims, ddof)
    return cast(elementwise(Op.SQRT, value), dtype)


def _variance(x: Operand, axis: Any, keepdims: bool, ddof: int) -> tuple[Node, np.dtype]:
    """The variance (in the dtype it is computed in) and np.var's result dtype.

    NumPy's two-pass formula (the mean of squared deviations), except for float32 columns (a
    reduction over the leading axis): there one pass over x sums the float64 deviations from
    x's first row, d, and their squares, and the variance is (sum(d*d) - sum(d)**2 / n) /
    (n - ddof). A float32 value is exact in float64 and so is the square of a difference of
    two of them, so only the sums round (float64, 29 bits more than the result keeps); the
    shift keeps the subtraction from cancelling unless the first row lies more than ~10^4
    standard deviations from the mean. The two sums and the column mean of the same array
    then run as one pass over it (passes/columns.py): a column standardization reads x
    twice, not three times."""
    x = as_node(x)
    dtype = dtypes.probe(np.var, [(x.dtype, False, None)], "var")
    axes = normalize_axes(axis, x.ndim, "var")
    count = _reduced_count(x, axes)
    divisor = size(D.maximum(D.sub(count, ddof), 0)) if ddof else size(count)
    if x.dtype == np.float32 and axes == (0,) and x.ndim >= 2:
        wide = np.dtype(np.float64)
        d = elementwise(Op.SUB, cast(x, wide), cast(broadcast_to(_first_row(x), x.shape), wide))
        s1 = reduce(Op.SUM, d, axes, keepdims)
        s2 = reduce(Op.SUM, elementwise(Op.MUL, d, d), axes, keepdims)
        squares = elementwise(
            Op.SUB, s2, elementwise(Op.DIV, elementwise(Op.MUL, s1, s1), size(count))
        )  # the sum of squared deviations from the mean: never negative but for rounding
        nonnegative = elementwise(Op.MAXIMUM, squares, const(0.0, wide))
        return elementwise(Op.DIV, nonnegative, divisor), dtype
    xf = cast(x, dtype)
    # Over leading axes the mean broadcasts back without kept axes: then it is the very node
    # of `x.mean(axis=0)`, which a column standardization computes too (interning shares it).
    leading = axes == tuple(range(len(axes)))
    centered = elementwise(
        Op.SUB, xf, elementwise(Op.DIV, reduce(Op.SUM, xf, axes, not leading), size(count))
    )
    total = reduce(Op.SUM, elementwise(Op.MUL, centered, centered), axes, keepdims)
    return elementwise(Op.DIV, total, divisor), dtype


def _first_row(x: Node) -> Node:
    """`x[:1]` without the check that x has a row: only read where x has elements (the
    deviations of a variance; an empty x has none), so an empty x is not an error. The
    attribute keeps the node distinct from a user's checked `x[:1]` when interned. Autodiff
    gives it no gradient: the variance does not depend on the shift."""
    items = (("slice", 0, 1, 1),) + (("slice", None, None, 1),) * (x.ndim - 1)
    return Node.make(
        Op.GETITEM, (x,), {"items": items, "unchecked": True}, (1, *x.shape[1:]), x.dtype
    )


# ---------------------------------------------------------------------------------------------
# Linear algebra


def matmul(a: Operand, b: Operand) -> Node:
    """np.matmul: 1-D operands promoted and the added axis removed; batch axes broadcast."""
    a, b = as_node(a), as_node(b)
    if a.ndim == 0 or b.ndim == 0:
        raise GraphShapeError(
            "matmul: operands must have at least one dimension (use * for scalars)"
        )
    dtype = dtypes.probe(
        lambda p, q: np.matmul(p.reshape(1, 1), q.reshape(1, 1)),
        [(a.dtype, False, None), (b.dtype, False, None)],
        "matmul",
    )
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    checks: list[Check] = []
    what = "matmul"
    if isinstance(ka, int) and isinstance(kb, int):
        if ka != kb:
            raise GraphShapeError(
                f"{what}: contracted sizes differ: {ka} (last axis of the first "
                f"operand) and {kb} (of the second)"
            )
    elif ka != kb:
        checks.append(Check("eq", ka, kb, f"{what}: contracted axes"))
    (a, b), batch, bchecks = _broadcast_operands((a, b), (a.shape[:-2], b.shape[:-2]), what)
    shape = batch + (a.shape[-2:-1] if a.ndim >= 2 else ()) + (b.shape[-1:] if b.ndim >= 2 else ())
    return Node.make(Op.MATMUL, (a, b), {}, shape, dtype, checks=tuple(checks + bchecks))


def dot(a: Operand, b: Operand) -> Node:
    a, b = as_node(a), as_node(b)
    if a.ndim == 0 or b.ndim == 0:
        # np.dot is no ufunc: it converts a Python scalar to an array first, so the scalar is
        # strong (np.dot(int32 array, 2) is int64), unlike NEP 50's weak operands of `*`.
        a, b = (cast(n, n.dtype) if n.weak else n for n in (a, b))
        return elementwise(Op.MUL, a, b)
    if a.ndim <= 2 and b.ndim <= 2:
        return matmul(a, b)
    raise GraphShapeError(
        "dot: operands with more than 2 dimensions are not supported yet; "
        "use matmul (which broadcasts batch axes) instead"
    )


def outer(a: Operand, b: Operand) -> Node:
    a, b = as_node(a), as_node(b)
    return elementwise(Op.MUL, reshape(a, (-1, 1)), reshape(b, (1, -1)))


# ---------------------------------------------------------------------------------------------
# Structure


def transpose(x: Operand, axes: Sequence[int] | None = None) -> Node:
    x = as_node(x)
    if axes is None:
        perm = tuple(reversed(range(x.ndim)))
    else:
        perm = tuple(normalize_axes(a, x.ndim, "transpose")[0] for a in axes)
        if sorted(perm) != list(range(x.ndim)):
            raise GraphShapeError(
                f"transpose: axes {tuple(axes)} are not a permutation of {tuple(range(x.ndim))}"
            )
    if perm == tuple(range(x.ndim)):
        return x
    shape = tuple(x.shape[p] for p in perm)
    return Node.make(Op.TRANSPOSE, (x,), {"perm": perm}, shape, x.dtype, weak=x.weak)


def _static_int(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    raise GraphIndexError(f"{what} must be an integer or None, got {value!r}")


def getitem(x: Operand, key: Any) -> Node:
    """Basic indexing: integers, slices (negative starts and steps), None / newaxis, Ellipsis."""
    x = as_node(x)
    items, shape, checks = index_key(x, key)
    if all(i == ("slice", None, None, 1) for i in items):
        return x
    return Node.make(
        Op.GETITEM, (x,), {"items": items}, shape, x.dtype, weak=x.weak, checks=tuple(checks)
    )


def setitem(base: Operand, key: Any, value: Operand) -> Node:
    """`base` with `base[key] = value` (a new value: the functional form of slice assignment).
    `value` broadcasts to the region and is cast to base's dtype as NumPy's setitem casts."""
    base, value = as_node(base), as_node(value)
    items, region, checks = index_key(base, key)
    if any(item[0] == "new" for item in items):
        items = tuple(item for item in items if item[0] != "new")
        region = _region_shape(base, items)
    if value.ndim and _selects_one_element(key, base.ndim):
        # `x[i, j] = v` assigns one element, converting v as a scalar: NumPy requires a 0-d v,
        # except for a bool x, where v's truth value counts (any array of one element).
        if base.dtype != np.bool_:
            raise GraphShapeError(
                f"setting an array element with a sequence: the value has shape "
                f"({D.format_shape(value.shape)}), one element needs a 0-d value"
            )
        value = getitem(_ones_at(value, range(value.ndim)), (0,) * value.ndim)
    value = cast(value, base.dtype) if value.dtype != base.dtype or value.weak else value
    if value.ndim > len(region):
        value = drop_leading_ones(value, len(region))
    placed = broadcast_to(value, region)
    return Node.make(
        Op.SETITEM,
        (base, placed),
        {"items": items},
        base.shape,
        base.dtype,
        checks=tuple(checks) + placed.checks,
    )


def _selects_one_element(key: Any, ndim: int) -> bool:
    """True if `key` indexes every axis with an integer (no slice, None or ...): `x[()]` of a
    0-d x too, but not `x[...]`, which assigns a 0-d region by broadcasting."""
    key = key if isinstance(key, tuple) else (key,)
    return len(key) == ndim and all(
        isinstance(k, numbers.Integral) and not isinstance(k, bool) for k in key
    )


def _region_shape(x: Node, items: tuple) -> tuple[Dim, ...]:
    shape = []
    for axis, item in enumerate(items):
        if item[0] == "slice":
            shape.append(D.sliced(x.shape[axis], *item[1:])[0])
    return tuple(shape)


def drop_leading_ones(value: Node, ndim: int) -> Node:
    """`value` without its leading axes beyond `ndim`, which NumPy's setitem requires to have
    size 1 and ignores. A size that may be 1 at run time only (a slice length) is checked to be
    1; one that never is (an argument size) is rejected now, as NumPy rejects it at every call."""
    extra = value.ndim - ndim
    if extra <= 0:
        return value
    leading = value.shape[:extra]
    if any(not D.can_be_one(d) for d in leading):
        raise GraphShapeError(
            f"could not broadcast input array from shape "
            f"({D.format_shape(value.shape)}) into a {ndim}-d region"
        )
    return getitem(_ones_at(value, range(extra)), (0,) * extra)


def _ones_at(x: Node, axes: Any) -> Node:
    """`x` with `axes` known to have size 1: a broadcast view to size 1, whose check (the
    equality `d == 1`) rejects other sizes at run time. Axes already of size 1 cost nothing."""
    return broadcast_to(x, tuple(1 if i in axes else d for i, d in enumerate(x.shape)))


def key_from_items(items: tuple, keep_new: bool = True) -> tuple:
    """A NumPy basic-indexing key from normalized items (the inverse of `index_key`)."""
    key: list[Any] = []
    for item in items:
        if item[0] == "new":
            if keep_new:
                key.append(None)
        elif item[0] == "int":
            key.append(item[1])
        else:
            key.append(slice(item[1], item[2], item[3]))
    return tuple(key)


def index_key(x: Node, key: Any) -> tuple[tuple, tuple[Dim, ...], list[Check]]:
    """Normalize a basic-indexing key against x: (items, result shape, runtime checks). Items are
    ('slice', start, stop, step), ('int', k) or ('new',), covering every axis of x."""
    key = key if isinstance(key, tuple) else (key,)
    for item in key:
        if not (item is None or item is Ellipsis or isinstance(item, (slice, numbers.Integral))):
            kind = type(item).__name__
            raise GraphIndexError(
                f"index {item!r} of type {kind}: only integers, slices, None and ... are supported "
                "(advanced indexing with arrays or booleans is not supported yet; use where())"
            )
    if sum(item is Ellipsis for item in key) > 1:
        raise GraphIndexError("an index can only have a single ellipsis ('...')")
    used = sum(1 for item in key if item is not None and item is not Ellipsis)
    if used > x.ndim:
        raise GraphIndexError(
            f"too many indices for array: array is {x.ndim}-dimensional, but {used} were indexed"
        )
    if Ellipsis in key:
        pos = key.index(Ellipsis)
        key = key[:pos] + (slice(None),) * (x.ndim - used) + key[pos + 1 :]
    else:
        key = key + (slice(None),) * (x.ndim - used)
    items: list[tuple] = []
    shape: list[Dim] = []
    checks: list[Check] = []
    axis = 0
    for item in key:
        if item is None:
            items.append(("new",))
            shape.append(1)
            continue
        n = x.shape[axis]
        if isinstance(item, slice):
            start = _static_int(item.start, "slice start")
            stop = _static_int(item.stop, "slice stop")
            step = _static_int(item.step, "slice step")
            step = 1 if step is None else step
            if step == 0:
                raise GraphIndexError("slice step cannot be zero")
            length, _ = D.sliced(n, start, stop, step)
            if not isinstance(length, int) and D.slice_bound(start, stop, step) <= 1:
                # x[:, :1], x[:, -1:], x[:, 1:2]: at most one element, so the length is 1 unless
                # the axis is too short. Known as 1 it broadcasts as NumPy's does (a symbolic
                # size never does); the check rejects the short axis NumPy would slice empty.
                bound = D.slice_bound(start, stop, step)
                checks.append(
                    Check(
                        "eq",
                        length,
                        bound,
                        f"slice {start}:{stop}:{step} on axis "
                        f"{axis} (jitgraph needs it to have {bound} element(s))",
                    )
                )
                length = bound
            items.append(("slice", start, stop, step))
            shape.append(length)
        else:
            k = int(item)
            if isinstance(n, int):
                if not -n <= k < n:
                    raise GraphIndexError(
                        f"index {k} is out of bounds for axis {axis} with size {n}"
                    )
            else:
                checks.append(Check("index", k, n, f"index {k} on axis {axis}"))
            items.append(("int", k))
        axis += 1
    return tuple(items), tuple(shape), checks


def expand_dims(x: Operand, axis: Any) -> Node:
    x = as_node(x)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out_ndim = x.ndim + len(axes)
    new = normalize_axes(tuple(axes), out_ndim, "expand_dims")
    key = []
    for i in range(out_ndim):
        key.append(None if i in new else slice(None))
    return getitem(x, tuple(key))


def squeeze(x: Operand, axis: Any = None) -> Node:
    """np.squeeze. An axis named in `axis` whose size may be 1 only at run time (a slice
    `x[::3]` of 2 elements) is squeezed with a runtime check that it is 1; axis=None squeezes
    the axes known to be 1 (which axes NumPy squeezes must be known when compiling)."""
    x = as_node(x)
    return with_checks(getitem(x, squeeze_key(x, axis)), squeeze_checks(x, axis))


def squeeze_key(x: Node, axis: Any) -> tuple:
    axes = squeeze_axes(x, axis)
    return tuple(0 if i in axes else slice(None) for i in range(x.ndim))


def squeeze_axes(x: Node, axis: Any) -> tuple[int, ...]:
    if axis is None:
        return tuple(i for i, d in enumerate(x.shape) if d == 1)
    axes = normalize_axes(axis, x.ndim, "squeeze")
    for a in axes:
        d = x.shape[a]
        if d != 1 and not (isinstance(d, D.DimExpr) and D.can_be_one(d)):
            raise GraphShapeError(
                f"squeeze: cannot select an axis to squeeze out which has "
                f"size not equal to one (axis {a} has size {D.format_dim(d)})"
            )
    return axes


def squeeze_checks(x: Node, axis: Any) -> tuple[Check, ...]:
    """Runtime checks that the squeezed axes of sizes known only at run time are 1."""
    return tuple(
        Check("eq", x.shape[a], 1, "squeeze") for a in squeeze_axes(x, axis)
        if x.shape[a] != 1
    )


def with_checks(node: Node, checks: tuple[Check, ...]) -> Node:
    """`node` requiring `checks` too: a node of its own (nodes are interned without their
    checks), marked by the attribute `requires`."""
    if not checks:
        return node
    attrs = dict(node.attrs) | {"requires": tuple(D.format_dim(c.a) for c in checks)}
    return Node.make(node.op, node.inputs, attrs, node.shape, node.dtype, node.weak,
                     tuple(dict.fromkeys(node.checks + checks)))


def _shape_arg(shape: Any, what: str) -> tuple[Dim, ...]:
    if isinstance(shape, (numbers.Integral, D.DimExpr)):
        shape = (shape,)
    try:
        items = tuple(shape)
    except TypeError:
        raise GraphTypeError(f"{what}: shape must be a tuple of integers, got {shape!r}") from None
    result = []
    for d in items:
        if isinstance(d, D.DimExpr):
            result.append(d)
        elif isinstance(d, numbers.Integral) and not isinstance(d, bool):
            result.append(int(d))
        else:
            raise GraphTypeError(f"{what}: shape must be a tuple of integers, got {shape!r}")
    return tuple(result)


def broadcast_to(x: Operand, shape: Any) -> Node:
    x = as_node(x)
    target = _shape_arg(shape, "broadcast_to")
    if any(isinstance(d, int) and d < 0 for d in target):
        raise GraphShapeError(
            f"broadcast_to: all elements of shape must be non-negative, got {target}"
        )
    if x.ndim > len(target):
        raise GraphShapeError(
            f"broadcast_to: cannot broadcast a {x.ndim}-d array to {len(target)} dims"
        )
    checks = []
    for src, dst in zip(x.shape[::-1], target[::-1]):
        if src == 1 or src == dst:
            continue
        if isinstance(src, int) and isinstance(dst, int):
            raise GraphShapeError(
                f"broadcast_to: shape ({D.format_shape(x.shape)}) cannot be "
                f"broadcast to ({D.format_shape(target)})"
            )
        checks.append(_fits_check(src, dst, "broadcasting"))
    if target == x.shape:
        return x
    # Only a 0-d value can be weak: broadcasting a Python scalar makes an ordinary array.
    return Node.make(
        Op.BROADCAST,
        (x,),
        {"shape": target},
        target,
        x.dtype,
        weak=x.weak and not target,
        checks=tuple(checks),
    )


def reshape(x: Operand, shape: Any) -> Node:
    """C-order reshape; at most one -1."""
    x = as_node(x)
    target = list(_shape_arg(shape, "reshape"))
    total = D.product(x.shape)
    unknown = [i for i, d in enumerate(target) if d == -1]
    if len(unknown) > 1:
        raise GraphShapeError("reshape: can only specify one unknown dimension (-1)")
    if any(isinstance(d, int) and d < -1 for d in target):
        raise GraphShapeError(f"reshape: negative dimensions are not allowed: {tuple(target)}")
    checks = []
    known = D.product(tuple(d for d in target if d != -1))
    if unknown:
        if known == 0:
            raise GraphShapeError(
                f"reshape: cannot reshape array of size {D.format_dim(total)} "
                f"into shape {tuple(target)}"
            )
        target[unknown[0]] = D.floordiv(total, known)
        if known == 1:
            pass
        elif isinstance(total, int) and isinstance(known, int):
            if total % known:
                raise GraphShapeError(
                    f"reshape: cannot reshape array of size {total} into shape {tuple(shape)}"
                )
        else:
            checks.append(Check("divides", total, known, f"reshape to {tuple(shape)}"))
    elif isinstance(total, int) and isinstance(known, int):
        if total != known:
            raise GraphShapeError(
                f"reshape: cannot reshape array of size {total} into shape {tuple(target)}"
            )
    else:
        checks.append(Check("eq", total, known, f"reshape to {tuple(shape)}"))
    target_t = tuple(target)
    if target_t == x.shape:
        return x
    return Node.make(
        Op.RESHAPE, (x,), {"shape": target_t}, target_t, x.dtype, weak=x.weak, checks=tuple(checks)
    )


def concatenate(xs: Sequence[Operand], axis: int = 0) -> Node:
    nodes = [as_node(x) for x in xs]
    if not nodes:
        raise GraphShapeError("concatenate: need at least one array to concatenate")
    if any(n.ndim == 0 for n in nodes):
        raise GraphShapeError("concatenate: zero-dimensional arrays cannot be concatenated")
    ndim = nodes[0].ndim
    for i, n in enumerate(nodes):
        if n.ndim != ndim:
            raise GraphShapeError(
                f"concatenate: all the input arrays must have same number of "
                f"dimensions, but array 0 has {ndim} and array {i} has {n.ndim}"
            )
    (ax,) = normalize_axes(axis, ndim, "concatenate")
    dtype = dtypes.probe(
        lambda *a: np.concatenate(a), [(n.dtype, False, None) for n in nodes], "concatenate"
    )
    checks: list[Check] = []
    shape = list(nodes[0].shape)
    for i, n in enumerate(nodes[1:], 1):
        for a in range(ndim):
            if a == ax:
                continue
            d0, d1 = nodes[0].shape[a], n.shape[a]
            if d0 == d1:
                continue
            if isinstance(d0, int) and isinstance(d1, int):
                raise GraphShapeError(
                    f"concatenate: array 0 has size {d0} and array {i} has size {d1} along axis {a}"
                )
            checks.append(Check("eq", d1, d0, f"concatenate: axis {a} of array {i}"))
    total: Dim = 0
    for n in nodes:
        total = D.add(total, n.shape[ax])
    shape[ax] = total
    if len(nodes) == 1:
        return cast(nodes[0], dtype)
    return Node.make(Op.CONCAT, nodes, {"axis": ax}, tuple(shape), dtype, checks=tuple(checks))


def stack(xs: Sequence[Operand], axis: int = 0) -> Node:
    nodes = [as_node(x) for x in xs]
    if not nodes:
        raise GraphShapeError("stack: need at least one array to stack")
    ndim = nodes[0].ndim
    for n in nodes:
        if n.ndim != ndim:
            raise GraphShapeError("stack: all input arrays must have the same shape")
    (ax,) = normalize_axes(axis, ndim + 1, "stack")
    return concatenate([expand_dims(n, ax) for n in nodes], ax)


# ---------------------------------------------------------------------------------------------
# Creation


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Node:
    target = _shape_arg(shape, "full")
    if any(isinstance(d, int) and d < 0 for d in target):
        raise GraphShapeError(f"negative dimensions are not allowed: {target}")
    if isinstance(fill_value, Node):
        value = fill_value if dtype is None else cast(fill_value, dtype)
    else:
        dt = np.asarray(fill_value).dtype if dtype is None else dtype
        value = const(np.asarray(fill_value).astype(dtypes.check(dt, "full")))
    return broadcast_to(value, target)


def full_like(x: Operand, fill_value: Any, dtype: Any = None) -> Node:
    x = as_node(x)
    return full(x.shape, fill_value, x.dtype if dtype is None else dtype)


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> Node:
    if stop is None:
        start, stop = 0, start
    for name, v in (("start", start), ("stop", stop), ("step", step)):
        if not isinstance(v, numbers.Real) or isinstance(v, bool):
            raise GraphTypeError(
                f"arange: {name} must be a number known at compile time, got {v!r}"
            )
    if step == 0:
        raise GraphShapeError("arange: step must not be zero")
    natural = (
        np.arange(start, start + step, step).dtype
        if step > 0
        else np.result_type(start, stop, step)
    )
    dtype = dtypes.check(natural if dtype is None else dtype, "arange")
    n = max(math.ceil((stop - start) / step), 0)
    if n == 0:
        return full((0,), 0, dtype)
    i = index((n,), 0)
    if natural.kind in "iu" and np.dtype(dtype).kind in "iu":
        values = elementwise(Op.ADD, elementwise(Op.MUL, i, int(step)), int(start))
    else:
        # NumPy fills start + i * delta with delta = (start + step) - start, in float64.
        delta = float(start + step) - float(start)
        values = elementwise(Op.ADD, elementwise(Op.MUL, cast(i, np.float64), delta), float(start))
    return cast(values, dtype)


def eye(n: int, m: int | None = None, k: int = 0, dtype: Any = np.float64) -> Node:
    m = n if m is None else m
    shape = (int(n), int(m))
    return cast(
        elementwise(Op.EQ, elementwise(Op.ADD, index(shape, 0), int(k)), index(shape, 1)), dtype
    )


def linspace(
    start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None
) -> Node:
    """np.linspace by NumPy's own formula (start + i * step; the last point set to stop)."""
    if not isinstance(num, numbers.Integral) or num < 0:
        raise GraphShapeError(f"linspace: number of samples, {num}, must be non-negative")
    num = int(num)
    natural = np.result_type(float(start), float(stop)) if dtype is None else dtype
    dtype = dtypes.check(natural if dtype is None else dtype, "linspace")
    if num == 0:
        return full((0,), 0, dtype)
    div = num - 1 if endpoint else num
    start_f, stop_f = float(start), float(stop)
    i = cast(index((num,), 0), np.float64)
    delta = stop_f - start_f
    step = delta / div if div > 0 else float("nan")
    if div > 0 and step == 0:
        y = elementwise(Op.MUL, elementwise(Op.DIV, i, float(div)), delta)
    elif div > 0:
        y = elementwise(Op.MUL, i, step)
    else:
        y = elementwise(Op.MUL, i, delta)
    y = elementwise(Op.ADD, y, start_f)
    if endpoint and num > 1:
        y = where(elementwise(Op.EQ, index((num,), 0), num - 1), stop_f, y)
    if np.dtype(dtype).kind in "iu":
        y = elementwise(Op.FLOOR, y)
    return cast(y, dtype)
