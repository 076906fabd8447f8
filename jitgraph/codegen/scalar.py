"""Scalar expressions: one template per elementwise op, with NumPy's casting made explicit.

A ufunc casts its operands to a loop dtype, computes, and stores the result in the output dtype.
Numba's typing differs (int32 + int32 is int64 there), so every operand is cast to the loop dtype
and every result to the node's dtype: the generated code computes exactly what NumPy computes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..ir.node import Node
from ..ir.ops import Op

_NP_NAME = {
    "bool": "np.bool_",
    "int8": "np.int8",
    "int16": "np.int16",
    "int32": "np.int32",
    "int64": "np.int64",
    "uint8": "np.uint8",
    "uint16": "np.uint16",
    "uint32": "np.uint32",
    "uint64": "np.uint64",
    "float32": "np.float32",
    "float64": "np.float64",
}


def np_type(dtype: np.dtype) -> str:
    return _NP_NAME[np.dtype(dtype).name]


def cast(expr: str, src: np.dtype, dst: np.dtype) -> str:
    """`expr` (of dtype src) converted as NumPy's astype converts."""
    if src == dst:
        return expr
    if dst.kind == "b":
        return f"({expr} != 0)"
    return f"{np_type(dst)}({expr})"


def literal(value: object, dtype: np.dtype) -> str:
    """A scalar literal of the given dtype."""
    if dtype.kind == "b":
        return "True" if value else "False"
    if dtype.kind == "f":
        value = float(value)
        if math.isnan(value):
            text = "np.nan"
        elif math.isinf(value):
            text = "np.inf" if value > 0 else "-np.inf"
        else:
            text = repr(value)
        return f"{np_type(dtype)}({text})"
    return f"{np_type(dtype)}({int(value)})"


def loop_dtype(node: Node) -> np.dtype:
    """The dtype the operands are cast to before the op computes (NumPy's ufunc loop)."""
    op = node.op
    if op in (Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE):
        return np.result_type(*(_weak_or_dtype(i) for i in node.inputs))
    if (
        op in (Op.ISNAN, Op.ISINF, Op.ISFINITE, Op.SIGN, Op.FLOOR, Op.CEIL)
        and node.inputs[0].dtype.kind != "f"
    ):
        return node.inputs[0].dtype
    if op in (Op.ISNAN, Op.ISINF, Op.ISFINITE):
        return node.inputs[0].dtype
    if op in (Op.NOT, Op.AND, Op.OR, Op.XOR):
        return np.dtype(bool)
    if op is Op.CAST:
        return node.inputs[0].dtype
    return node.dtype


def _weak_or_dtype(node: Node) -> object:
    if node.weak:
        return {"b": True, "i": 0, "u": 0, "f": 0.0}[node.dtype.kind]
    return node.dtype


# On ties NumPy's maximum / minimum return the second operand (x86 max/min semantics), which
# decides the sign of maximum(-0.0, 0.0); a NaN in either operand propagates.
def _maximum(a: str, b: str, dt: np.dtype) -> str:
    if dt.kind == "f":
        return f"({a} if ({a} > {b} or {a} != {a}) else {b})"
    return f"({a} if {a} > {b} else {b})"


def _minimum(a: str, b: str, dt: np.dtype) -> str:
    if dt.kind == "f":
        return f"({a} if ({a} < {b} or {a} != {a}) else {b})"
    return f"({a} if {a} < {b} else {b})"


def _sign(a: str, dt: np.dtype) -> str:
    if dt.kind == "f":
        # sign(-0.0) is +0.0 in NumPy; NaN stays NaN.
        return f"(1.0 if {a} > 0 else (-1.0 if {a} < 0 else ({a} if {a} != {a} else 0.0)))"
    return f"(1 if {a} > 0 else (-1 if {a} < 0 else 0))"


def _int_identity_or(fn: str) -> Callable[[str, np.dtype], str]:
    return lambda a, dt: f"{fn}({a})" if dt.kind == "f" else a


def _float_only(fn: str, other: str) -> Callable[[str, np.dtype], str]:
    return lambda a, dt: f"{fn}({a})" if dt.kind == "f" else other


# Transcendental ops with a vectorizable implementation in codegen/vmath.py: op -> (function
# stem, loop dtypes it exists for). `vm_<stem>_f32` / `vm_<stem>_f64` are in the generated code's
# globals (runtime namespaces). float64 sin/cos stay libm (see the vmath docstring).
VMATH: dict[Op, tuple[str, tuple[str, ...]]] = {
    Op.EXP: ("exp", ("float32", "float64")),
    Op.EXPM1: ("expm1", ("float32", "float64")),
    Op.LOG: ("log", ("float32", "float64")),
    Op.LOG1P: ("log1p", ("float32", "float64")),
    Op.TANH: ("tanh", ("float32", "float64")),
    Op.SIN: ("sin", ("float32",)),
    Op.COS: ("cos", ("float32",)),
    Op.POW: ("pow", ("float32", "float64")),
}


def math_mode() -> str:
    """ "fast" (vmath) or "libm" (NumPy's scalar functions): `jitgraph.runtime.MATH`, read when
    code is generated. Imported here, not at the top: the setting belongs to the runtime."""
    from .. import runtime

    return runtime.MATH


def vmath_name(op: Op, dt: np.dtype) -> str | None:
    """The vmath function computing `op` in loop dtype `dt`, or None for libm."""
    stem, dtypes = VMATH.get(op, ("", ()))
    if np.dtype(dt).name not in dtypes or math_mode() != "fast":
        return None
    return f"vm_{stem}_f{np.dtype(dt).itemsize * 8}"


def _math(op: Op, libm: str) -> Callable[..., str]:
    """Template calling the vmath function for float loops, else `libm` (e.g. "np.exp")."""
    return lambda *args: f"{vmath_name(op, args[-1]) or libm}({', '.join(args[:-1])})"


def _power(a: str, b: str, dt: np.dtype) -> str:
    name = vmath_name(Op.POW, dt)
    return f"{name}({a}, {b})" if name else f"({a} ** {b})"


# op -> template over operand expressions already cast to the loop dtype `dt`.
RENDER: dict[Op, Callable[..., str]] = {
    Op.NEG: lambda a, dt: f"(-{a})",
    Op.ABS: lambda a, dt: f"abs({a})",
    Op.NOT: lambda a, dt: f"(not {a})",
    Op.EXP: _math(Op.EXP, "np.exp"),
    Op.EXPM1: _math(Op.EXPM1, "np.expm1"),
    Op.LOG: _math(Op.LOG, "np.log"),
    Op.LOG1P: _math(Op.LOG1P, "np.log1p"),
    Op.LOG2: lambda a, dt: f"np.log2({a})",
    Op.LOG10: lambda a, dt: f"np.log10({a})",
    Op.SQRT: lambda a, dt: f"np.sqrt({a})",
    Op.SIN: _math(Op.SIN, "np.sin"),
    Op.COS: _math(Op.COS, "np.cos"),
    Op.TAN: lambda a, dt: f"np.tan({a})",
    Op.ARCSIN: lambda a, dt: f"np.arcsin({a})",
    Op.ARCCOS: lambda a, dt: f"np.arccos({a})",
    Op.ARCTAN: lambda a, dt: f"np.arctan({a})",
    Op.SINH: lambda a, dt: f"np.sinh({a})",
    Op.COSH: lambda a, dt: f"np.cosh({a})",
    Op.TANH: _math(Op.TANH, "np.tanh"),
    Op.FLOOR: _int_identity_or("np.floor"),
    Op.CEIL: _int_identity_or("np.ceil"),
    Op.SIGN: _sign,
    Op.ISNAN: _float_only("np.isnan", "False"),
    Op.ISINF: _float_only("np.isinf", "False"),
    Op.ISFINITE: _float_only("np.isfinite", "True"),
    Op.CAST: lambda a, dt: a,
    Op.ADD: lambda a, b, dt: f"({a} + {b})",
    Op.SUB: lambda a, b, dt: f"({a} - {b})",
    Op.MUL: lambda a, b, dt: f"({a} * {b})",
    Op.DIV: lambda a, b, dt: f"({a} / {b})",
    Op.FLOORDIV: lambda a, b, dt: f"({a} // {b})",
    Op.MOD: lambda a, b, dt: f"({a} % {b})",
    Op.POW: _power,
    Op.MAXIMUM: _maximum,
    Op.MINIMUM: _minimum,
    Op.ARCTAN2: lambda a, b, dt: f"np.arctan2({a}, {b})",
    Op.EQ: lambda a, b, dt: f"({a} == {b})",
    Op.NE: lambda a, b, dt: f"({a} != {b})",
    Op.LT: lambda a, b, dt: f"({a} < {b})",
    Op.LE: lambda a, b, dt: f"({a} <= {b})",
    Op.GT: lambda a, b, dt: f"({a} > {b})",
    Op.GE: lambda a, b, dt: f"({a} >= {b})",
    Op.AND: lambda a, b, dt: f"({a} and {b})",
    Op.OR: lambda a, b, dt: f"({a} or {b})",
    Op.XOR: lambda a, b, dt: f"({a} != {b})",
    Op.WHERE: lambda c, x, y, dt: f"({x} if {c} else {y})",
}


def render_op(node: Node, operands: list[tuple[str, Node]]) -> str:
    """Expression computing `node` from rendered operands (expression, operand node)."""
    dt = loop_dtype(node)
    targets = (
        [np.dtype(bool), node.dtype, node.dtype] if node.op is Op.WHERE else [dt] * len(operands)
    )
    args = [operand(expr, n, target) for (expr, n), target in zip(operands, targets)]
    if node.op is Op.WRAP and node.attr("length") is not None:  # a window's start
        return f"_wrap_window({args[0]}, {args[1]}, {node.attr('length')}, {node.attr('site')!r})"
    if node.op is Op.WRAP:  # raises IndexError naming the user's expression
        return f"_wrap_index({args[0]}, {args[1]}, {node.attr('site')!r})"
    if node.op is Op.POW and dt.kind == "f" and operands[1][1].ndim == 0:
        expr = _scalar_power(args[0], args[1], operands[1][1])
    else:
        expr = RENDER[node.op](*args, dt)
    if node.op is Op.WHERE:
        return expr
    if node.dtype.kind == "b":
        # Predicates already yield bool; arithmetic on bools (add is or) yields ints.
        return expr if node.op in PREDICATES else f"({expr} != 0)"
    return f"{np_type(node.dtype)}({expr})"


def _scalar_power(a: str, b: str, exponent: Node) -> str:
    """x ** e for a 0-d float exponent: NumPy's power loop computes sqrt(x) when the exponent is
    a scalar 0.5, which differs from pow at -inf (nan) and -0.0 (-0.0)."""
    if exponent.op is Op.CONST:
        return f"np.sqrt({a})" if exponent.attr("value").array.item() == 0.5 else f"({a} ** {b})"
    return f"(np.sqrt({a}) if {b} == 0.5 else {a} ** {b})"


def operand(expr: str, node: Node, target: np.dtype) -> str:
    """An operand converted to the loop dtype; weak scalars become literals of that dtype
    (NEP 50)."""
    if node.op is Op.CONST and node.ndim == 0:
        return literal(node.attr("value").array.item(), target)
    return cast(expr, node.dtype, target)


PREDICATES = {
    Op.EQ,
    Op.NE,
    Op.LT,
    Op.LE,
    Op.GT,
    Op.GE,
    Op.NOT,
    Op.AND,
    Op.OR,
    Op.XOR,
    Op.ISNAN,
    Op.ISINF,
    Op.ISFINITE,
}
