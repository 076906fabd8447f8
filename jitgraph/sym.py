"""`jg.sym.<numpy name>(...)`: NumPy's functions over Symbols.

    jg.sym.exp(x), jg.sym.sum(x, axis=1), jg.sym.where(x > 0, x, 0), jg.sym.zeros((3, 4))

Every function takes an optional `name=` (the node's name in list_outputs / get_internals).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .ir import dtypes
from .symbol import Constant, Group, Symbol, Variable, _apply, _shape_tuple, clip, var  # noqa: F401


def _unary(op: str, doc: str):
    def fn(x: Any, name: str | None = None) -> Symbol:
        return _apply(op, [x], name)

    fn.__name__ = fn.__qualname__ = doc
    fn.__doc__ = f"np.{doc} over a Symbol."
    return fn


def _binary(op: str, doc: str):
    def fn(x: Any, y: Any, name: str | None = None) -> Symbol:
        return _apply(op, [x, y], name)

    fn.__name__ = fn.__qualname__ = doc
    fn.__doc__ = f"np.{doc} over Symbols."
    return fn


def _reduction(op: str, doc: str):
    def fn(x: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Symbol:
        return _apply(op, [x], name, axis=_axis(axis), keepdims=keepdims)

    fn.__name__ = fn.__qualname__ = doc
    fn.__doc__ = (
        f"np.{doc} over a Symbol: axis None, an int (negative counts from the end) or a tuple."
    )
    return fn


def _axis(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


_UNARY = {
    "negative": "negative",
    "abs": "absolute",
    "absolute": "absolute",
    "logical_not": "logical_not",
    "exp": "exp",
    "expm1": "expm1",
    "log": "log",
    "log1p": "log1p",
    "log2": "log2",
    "log10": "log10",
    "sqrt": "sqrt",
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "arcsin": "arcsin",
    "arccos": "arccos",
    "arctan": "arctan",
    "sinh": "sinh",
    "cosh": "cosh",
    "tanh": "tanh",
    "floor": "floor",
    "ceil": "ceil",
    "sign": "sign",
    "isnan": "isnan",
    "isinf": "isinf",
    "isfinite": "isfinite",
    "square": "square",
    "reciprocal": "reciprocal",
}
_BINARY = {
    "add": "add",
    "subtract": "subtract",
    "multiply": "multiply",
    "divide": "true_divide",
    "true_divide": "true_divide",
    "floor_divide": "floor_divide",
    "mod": "remainder",
    "remainder": "remainder",
    "power": "power",
    "maximum": "maximum",
    "minimum": "minimum",
    "arctan2": "arctan2",
    "equal": "equal",
    "not_equal": "not_equal",
    "less": "less",
    "less_equal": "less_equal",
    "greater": "greater",
    "greater_equal": "greater_equal",
    "logical_and": "logical_and",
    "logical_or": "logical_or",
    "logical_xor": "logical_xor",
    "matmul": "matmul",
    "dot": "dot",
    "outer": "outer",
}
_REDUCTIONS = {
    name: name for name in ("sum", "prod", "max", "min", "argmax", "argmin", "any", "all", "mean")
}
_REDUCTIONS.update({"amax": "max", "amin": "min"})

for _name, _op in _UNARY.items():
    globals()[_name] = _unary(_op, _name)
for _name, _op in _BINARY.items():
    globals()[_name] = _binary(_op, _name)
for _name, _op in _REDUCTIONS.items():
    globals()[_name] = _reduction(_op, _name)


def var_(
    x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0, name: str | None = None
) -> Symbol:
    """np.var (population variance unless ddof is given)."""
    return _apply("var_", [x], name, axis=_axis(axis), keepdims=keepdims, ddof=ddof)


def std(
    x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0, name: str | None = None
) -> Symbol:
    return _apply("std", [x], name, axis=_axis(axis), keepdims=keepdims, ddof=ddof)


def where(cond: Any, x: Any, y: Any, name: str | None = None) -> Symbol:
    return _apply("where", [cond, x, y], name)


def astype(x: Any, dtype: Any, name: str | None = None) -> Symbol:
    return _apply("astype", [x], name, dtype=dtypes.check(dtype, "astype"))


def transpose(x: Any, axes: Sequence[int] | None = None, name: str | None = None) -> Symbol:
    return _apply("transpose", [x], name, axes=tuple(axes) if axes is not None else None)


def reshape(x: Any, shape: Any, name: str | None = None) -> Symbol:
    return _apply("reshape", [x], name, shape=_shape_tuple((shape,)))


def expand_dims(x: Any, axis: Any, name: str | None = None) -> Symbol:
    return _apply("expand_dims", [x], name, axis=_axis(axis))


def squeeze(x: Any, axis: Any = None, name: str | None = None) -> Symbol:
    return _apply("squeeze", [x], name, axis=_axis(axis))


def broadcast_to(x: Any, shape: Any, name: str | None = None) -> Symbol:
    return _apply("broadcast_to", [x], name, shape=_shape_tuple((shape,)))


def concatenate(xs: Sequence[Any], axis: int = 0, name: str | None = None) -> Symbol:
    return _apply("concatenate", list(xs), name, axis=axis)


def stack(xs: Sequence[Any], axis: int = 0, name: str | None = None) -> Symbol:
    return _apply("stack", list(xs), name, axis=axis)


def _dtype_or_none(dtype: Any, what: str) -> Any:
    return None if dtype is None else dtypes.check(dtype, what)


def zeros(shape: Any, dtype: Any = None, name: str | None = None) -> Symbol:
    return _apply(
        "zeros", [], name, shape=_shape_tuple((shape,)), dtype=_dtype_or_none(dtype, "zeros")
    )


def ones(shape: Any, dtype: Any = None, name: str | None = None) -> Symbol:
    return _apply(
        "ones", [], name, shape=_shape_tuple((shape,)), dtype=_dtype_or_none(dtype, "ones")
    )


def empty(shape: Any, dtype: Any = None, name: str | None = None) -> Symbol:
    """Like zeros: jitgraph never hands out uninitialized memory."""
    return _apply(
        "empty", [], name, shape=_shape_tuple((shape,)), dtype=_dtype_or_none(dtype, "empty")
    )


def full(shape: Any, fill_value: Any, dtype: Any = None, name: str | None = None) -> Symbol:
    return _apply(
        "full",
        [],
        name,
        shape=_shape_tuple((shape,)),
        fill_value=fill_value,
        dtype=_dtype_or_none(dtype, "full"),
    )


def zeros_like(x: Any, dtype: Any = None, name: str | None = None) -> Symbol:
    return _apply("zeros_like", [x], name, dtype=_dtype_or_none(dtype, "zeros_like"))


def ones_like(x: Any, dtype: Any = None, name: str | None = None) -> Symbol:
    return _apply("ones_like", [x], name, dtype=_dtype_or_none(dtype, "ones_like"))


def empty_like(x: Any, dtype: Any = None, name: str | None = None) -> Symbol:
    return _apply("empty_like", [x], name, dtype=_dtype_or_none(dtype, "empty_like"))


def full_like(x: Any, fill_value: Any, dtype: Any = None, name: str | None = None) -> Symbol:
    return _apply(
        "full_like", [x], name, fill_value=fill_value, dtype=_dtype_or_none(dtype, "full_like")
    )


def arange(
    start: Any, stop: Any = None, step: Any = 1, dtype: Any = None, name: str | None = None
) -> Symbol:
    return _apply(
        "arange", [], name, start=start, stop=stop, step=step, dtype=_dtype_or_none(dtype, "arange")
    )


def eye(
    N: int, M: int | None = None, k: int = 0, dtype: Any = None, name: str | None = None
) -> Symbol:
    return _apply("eye", [], name, N=N, M=M, k=k, dtype=_dtype_or_none(dtype, "eye"))


def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    dtype: Any = None,
    name: str | None = None,
) -> Symbol:
    return _apply(
        "linspace",
        [],
        name,
        start=start,
        stop=stop,
        num=num,
        endpoint=endpoint,
        dtype=_dtype_or_none(dtype, "linspace"),
    )


globals()["var"] = var_  # jg.sym.var is NumPy's variance; jg.Variable / jg.sym.Variable make inputs
