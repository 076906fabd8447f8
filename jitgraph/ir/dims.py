"""Symbolic dimensions: one compiled kernel serves every size.

A dimension is a Python int (known when the graph is built) or a `DimExpr`, a small interned
expression over argument sizes (`A.0` is the size of argument A's axis 0). The runtime evaluates
every expression a kernel needs from the arguments' shapes before the kernel runs; the kernel only
ever sees plain integers. Expressions fold to ints whenever their operands are known.

Argument sizes are never 1 (the specialization key records which argument axes have size 1),
but a *derived* size (a slice `x[1:]`, a reshape's -1, a concatenation) may be 1 at run time
only. `can_be_one` tells them apart, and `bcast` expresses NumPy's broadcasting of such a size:
see `broadcast_size`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Union

Dim = Union[int, "DimExpr"]


@dataclass(frozen=True)
class DimExpr:
    """`op` with `args` (ints, DimExprs, or for 'arg': argument index, axis, label)."""

    op: str
    args: tuple

    def __repr__(self) -> str:
        return format_dim(self)


def arg_dim(arg_index: int, axis: int, label: str) -> DimExpr:
    """The size of axis `axis` of argument number `arg_index`, printed as `label.axis`."""
    return DimExpr("arg", (arg_index, axis, label))


def slice_len(n: int, start: int | None, stop: int | None, step: int) -> int:
    """Length of `x[start:stop:step]` for an axis of size n (Python semantics)."""
    return len(range(*slice(start, stop, step).indices(n)))


def slice_start(n: int, start: int | None, stop: int | None, step: int) -> int:
    """First index read by `x[start:stop:step]` on an axis of size n."""
    return slice(start, stop, step).indices(n)[0]


_EVAL: dict[str, Callable[..., int]] = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "floordiv": lambda a, b: a // b if b else 0,
    "max": max,
    "min": min,
    "slicelen": slice_len,
    "slicestart": slice_start,
    "bcast": lambda a, b: b if a == 1 else a,
}
_INFIX = {"add": "+", "sub": "-", "mul": "*", "floordiv": "//"}


def _make(op: str, *args: object) -> Dim:
    if all(isinstance(a, int) or a is None for a in args):
        return _EVAL[op](*args)
    if op == "bcast":  # identities for every value of the operands
        a, b = args
        if a == b or b == 1:
            return a
        if a == 1:
            return b
    return DimExpr(op, tuple(args))


def add(a: Dim, b: Dim) -> Dim:
    if a == 0:
        return b
    if b == 0:
        return a
    return _make("add", a, b)


def sub(a: Dim, b: Dim) -> Dim:
    if b == 0:
        return a
    return _make("sub", a, b)


def mul(a: Dim, b: Dim) -> Dim:
    if a == 1:
        return b
    if b == 1:
        return a
    if a == 0 or b == 0:
        return 0
    return _make("mul", a, b)


def floordiv(a: Dim, b: Dim) -> Dim:
    if b == 1:
        return a
    return _make("floordiv", a, b)


def maximum(a: Dim, b: Dim) -> Dim:
    return a if a == b else _make("max", a, b)


def minimum(a: Dim, b: Dim) -> Dim:
    return a if a == b else _make("min", a, b)


def bcast(a: Dim, b: Dim) -> Dim:
    """`b if a == 1 else a`: the size `a` broadcast against `b`, as NumPy broadcasts them.

    Simplified only by identities that hold for every size (both known, equal, or one of them
    1): `bcast(d, c) == c` is how a graph states "d broadcasts to c" (d == c or d == 1) as a
    runtime check, which must not be simplified away by assuming what it checks."""
    return _make("bcast", a, b)


def broadcast_size(a: Dim, b: Dim) -> Dim:
    """The size NumPy gives to axes of sizes `a` and `b` broadcast together, assuming they do
    (the graph checks it): the one that is not 1."""
    if not can_be_one(a):
        return a  # a != 1, so b is a or 1
    if not can_be_one(b):
        return b
    return bcast(a, b)


def can_be_one(d: Dim) -> bool:
    """False when `d` is provably never 1 for any call of the specialization: a known size other
    than 1, an argument size (size-1 argument axes are specialized as the constant 1), and sums,
    products, maxima and minima of such non-negative sizes. True otherwise (a slice length, a
    reshape's inferred size, ...): such a size may broadcast at run time."""
    return not _never_one(d)


def _never_one(d: Dim) -> bool:
    if isinstance(d, int):
        return d != 1
    if d.op == "arg":
        return True
    if d.op not in ("mul", "add", "max", "min", "bcast"):
        return False
    if not all(_non_negative(a) for a in d.args):
        return False
    if d.op == "mul":  # a product of non-negative ints is 1 only if every factor is
        return any(_never_one(a) for a in d.args)
    # add: 0 + 0, 0 + k >= 2 or k + m >= 4; max, min, bcast: one of the operands
    return all(_never_one(a) for a in d.args)


def _non_negative(d: Dim) -> bool:
    """True when `d` is provably >= 0 (sizes and their sums, products and clamps)."""
    if isinstance(d, int):
        return d >= 0
    if d.op in ("arg", "slicelen"):
        return True
    if d.op == "max":
        return any(_non_negative(a) for a in d.args)
    if d.op in ("add", "mul", "min", "floordiv", "bcast"):
        return all(_non_negative(a) for a in d.args)
    return False


def product(dims: tuple[Dim, ...]) -> Dim:
    result: Dim = 1
    for d in dims:
        result = mul(result, d)
    return result


def sliced(n: Dim, start: int | None, stop: int | None, step: int) -> tuple[Dim, Dim]:
    """(length, first index) of `x[start:stop:step]` on an axis of size n (n >= 0)."""
    if isinstance(n, int):
        return slice_len(n, start, stop, step), slice_start(n, start, stop, step)
    if step == 1 and (start is None or start >= 0) and (stop is None or stop < 0):
        # Length is max(n + stop - start, 0); when it is 0 no element is read, so the first
        # index may be the unclamped start.
        s = start or 0
        offset = (stop or 0) - s
        length = add(n, offset) if offset >= 0 else sub(n, -offset)
        return (maximum(length, 0) if offset < 0 else length), s
    length = DimExpr("slicelen", (n, start, stop, step))
    if step > 0 and (start is None or start >= 0):
        return length, start or 0  # past the end the slice is empty: nothing read from there
    return length, DimExpr("slicestart", (n, start, stop, step))


def slice_bound(start: int | None, stop: int | None, step: int) -> float:
    """The most elements `x[start:stop:step]` can have whatever the axis size: finite when start
    and stop count from the same end (both from 0, or both from the end); else infinity."""

    def anchor(bound: int | None, is_start: bool) -> tuple[str, int]:
        if bound is not None:
            return ("end", bound) if bound < 0 else ("zero", bound)
        if step > 0:
            return ("zero", 0) if is_start else ("end", 0)
        return ("end", -1) if is_start else ("zero", -1)

    (a_end, a), (b_end, b) = anchor(start, True), anchor(stop, False)
    if a_end != b_end:
        return float("inf")
    return max(0, -((a - b) // step) if step > 0 else -((b - a) // -step))


def leaves(d: Dim) -> list[DimExpr]:
    """Every argument size (`arg` expression) that `d` depends on."""
    if isinstance(d, int) or d is None:
        return []
    if d.op == "arg":
        return [d]
    return [leaf for a in d.args for leaf in leaves(a)]


def evaluate(d: Dim, shapes: list[tuple[int, ...]]) -> int:
    """Value of `d` given the concrete shapes of the arguments, by index."""
    if isinstance(d, int) or d is None:
        return d
    if d.op == "arg":
        return shapes[d.args[0]][d.args[1]]
    return _EVAL[d.op](*(evaluate(a, shapes) for a in d.args))


def render(d: Dim, name_of: Callable[[DimExpr], str]) -> str:
    """Python source computing `d`; `name_of` names argument sizes. Helpers: `_slice_len`, ..."""
    if isinstance(d, int) or d is None:
        return repr(d)
    if d.op == "arg":
        return name_of(d)
    args = [render(a, name_of) for a in d.args]
    if d.op in _INFIX and d.op != "floordiv":
        return f"({args[0]} {_INFIX[d.op]} {args[1]})"
    if d.op == "floordiv":
        return f"_floordiv({args[0]}, {args[1]})"
    if d.op in ("slicelen", "slicestart"):
        return f"_slice_{d.op[5:]}({', '.join(args)})"
    if d.op == "bcast":
        return f"_bcast({', '.join(args)})"
    return f"{d.op}({', '.join(args)})"


RENDER_HELPERS = {
    "_slice_len": slice_len,
    "_slice_start": slice_start,
    "_floordiv": _EVAL["floordiv"],
    "_bcast": _EVAL["bcast"],
}


def format_dim(d: Dim) -> str:
    """Readable form for printed graphs: `A.0`, `(A.0 - 2)`, `max((A.0 - 2), 0)`."""
    if isinstance(d, int) or d is None:
        return str(d)
    if d.op == "arg":
        return f"{d.args[2]}.{d.args[1]}"
    args = [format_dim(a) for a in d.args]
    if d.op in _INFIX:
        return f"({args[0]} {_INFIX[d.op]} {args[1]})"
    return f"{d.op}({', '.join(args)})"


def format_shape(shape: tuple[Dim, ...]) -> str:
    return ",".join(format_dim(d) for d in shape)
