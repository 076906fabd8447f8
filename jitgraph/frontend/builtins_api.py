"""Python builtins and `math` functions inside compiled code: `len`, `range`, `abs`, `min`,
`max`, `float`, `int`, `bool`, `tuple`, `list`, `zip`, `enumerate`, `math.sqrt`, ...

On values known at compile time they compute at compile time (they are Python's own builtins,
never user code); on runtime scalars they become IR.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..ir import build
from ..ir import dims as D
from ..ir.node import Node
from ..ir.ops import Op
from .values import ArrayObject, is_number, weak_scalar, wrap

MAX_RANGE = 1 << 20  # a range this long cannot be unrolled anyway; keeps compile memory bounded


def _len(cx, obj):
    if isinstance(obj, (tuple, list, str, range)):
        return len(obj)
    node = cx.node(obj)
    if node.ndim == 0:
        raise cx.problem("type", "len() of a 0-d array (NumPy raises TypeError: len() of "
                         "unsized object)")
    return node.shape[0]


def _range(cx, *args):
    """A Python range when every bound is known now (short ones are unrolled), else a range
    the kernel loops over."""
    if not args or len(args) > 3:
        raise cx.problem("type", f"range expected 1 to 3 arguments, got {len(args)}")
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
        result = range(*(int(a) for a in args))
        if len(result) <= MAX_RANGE:
            return result
    return cx.runtime_range(list(args))


def _abs(cx, x):
    if is_number(x):
        return abs(x)
    return wrap(build.elementwise(Op.ABS, cx.node(x)))


def _extremum(op: Op, python: Callable) -> Callable:
    def handler(cx, *args):
        if len(args) == 1:
            args = cx.sequence(args[0])
        if all(is_number(a) for a in args):
            return python(args)
        if len(args) < 2:
            raise cx.unsupported(f"{python.__name__}() of an array is not supported",
                                 f"use np.{python.__name__}(x)")
        result = cx.node(args[0])
        for arg in args[1:]:
            result = build.elementwise(op, result, cx.node(arg))
        return wrap(result)
    return handler


def _python_scalar(python: type) -> Callable:
    def handler(cx, x=None):
        if x is None:
            return python()
        if isinstance(x, D.DimExpr):
            x = build.size(x)
        if not isinstance(x, (Node, ArrayObject)):
            return python(cx.static(x, f"{python.__name__}() argument"))
        node = cx.node(x)
        if node.ndim and any(d != 1 for d in node.shape):
            raise cx.problem("type", f"only arrays of size 1 can be converted to Python "
                             f"{python.__name__}s")
        if node.ndim:
            node = build.getitem(node, (0,) * node.ndim)
        if python is bool:
            node = build.elementwise(Op.NE, node, 0) if node.dtype.kind != "b" else node
        return weak_scalar(node, np.asarray(python()).dtype)
    return handler


def _sequence(kind: type) -> Callable:
    def handler(cx, iterable=()):
        return kind(cx.iterate(iterable))
    return handler


def _zip(cx, *iterables):
    return list(zip(*(cx.iterate(it) for it in iterables)))


def _enumerate(cx, iterable, start=0):
    return list(enumerate(cx.iterate(iterable), cx.static(start, "enumerate start")))


def _print(cx, *args, **kwargs):
    raise cx.unsupported("print() is not supported in compiled code",
                         "print the results after the call, or use backend='reference'")


def _isinstance(cx, obj, classinfo):
    raise cx.unsupported("isinstance() is not supported in compiled code",
                         "arguments are specialized on their type already; use x.ndim / x.dtype")


BUILTINS: dict[Any, Callable] = {
    builtins.len: _len, builtins.range: _range, builtins.abs: _abs,
    builtins.min: _extremum(Op.MINIMUM, builtins.min),
    builtins.max: _extremum(Op.MAXIMUM, builtins.max),
    builtins.float: _python_scalar(float), builtins.int: _python_scalar(int),
    builtins.bool: _python_scalar(bool), builtins.tuple: _sequence(tuple),
    builtins.list: _sequence(list), builtins.zip: _zip, builtins.enumerate: _enumerate,
    builtins.print: _print, builtins.isinstance: _isinstance,
}


def _math(op: Op, python: Callable) -> Callable:
    def handler(cx, x):
        if is_number(x):
            return python(x)
        return weak_scalar(build.elementwise(op, build.cast(cx.node(x), np.float64)), np.float64)
    return handler


for _name, _op in (("sqrt", Op.SQRT), ("exp", Op.EXP), ("log", Op.LOG), ("log1p", Op.LOG1P),
                   ("expm1", Op.EXPM1), ("sin", Op.SIN), ("cos", Op.COS), ("tan", Op.TAN),
                   ("tanh", Op.TANH), ("fabs", Op.ABS), ("log2", Op.LOG2), ("log10", Op.LOG10)):
    BUILTINS[getattr(math, _name)] = _math(_op, getattr(math, _name))


def lookup(fn: Any) -> Callable | None:
    try:
        return BUILTINS.get(fn)
    except TypeError:  # unhashable
        return None
