"""Algebraic simplification: local rewrites that are exact, never approximately right.

Every rule of `RULES_SIMPLIFY` gives, for every input, the bit pattern NumPy gives: NaN stays
NaN, inf stays inf, -0.0 stays -0.0, integer overflow wraps exactly as before, and the dtype,
shape and weakness (NEP 50) of the value never change. A rule whose replacement does not have
the node's exact type returns None; where it helps, the replacement is wrapped in an astype or a
broadcast_to, and the rule's comment says why that wrapper is exact.

The common argument for the identity rules (x * 1, x / 1, x - 0, x ** 1): NumPy evaluates
`op(x, c)` by converting x to the loop dtype R, which for these ops is the result dtype, and
computing in R; c is an identity of the op in R, so the result is astype(x, R).

Rejected as inexact (not in the table):
  x + 0.0 -> x      for floats: -0.0 + 0.0 is +0.0 (only x + (-0.0) and integer x are exact)
  x - x -> 0        for floats: inf - inf and NaN - NaN are NaN
  x * 0 -> 0        for floats: NaN * 0 and inf * 0 are NaN, -1.0 * 0 is -0.0
  x == x -> True    for floats: NaN != NaN (likewise x != x, x <= x, ...)
  x / x -> 1        0/0 and inf/inf are NaN; integer 0/0 too
  x * -1 -> -x      for floats: multiplying keeps a NaN's sign bit, negation flips it
  0 - x -> -x       for floats: 0 - 0.0 is +0.0, -(0.0) is -0.0
  x ** 2 -> x * x   with an array exponent: NumPy's vectorized pow is then not correctly
                    rounded (measured: it differs from x * x in the last bit); only a scalar
                    exponent takes NumPy's exact square fast path
  astype round trips through a lossy type (int64 -> float64 -> int64, f64 -> f32 -> f64)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..ir import build
from ..ir.node import Graph, Node
from ..ir.ops import Kind, Op, kind
from .rewrite import rewrite, same_type

# ---------------------------------------------------------------------------------------------
# Reading constants


def _constant_array(node: Node) -> np.ndarray | None:
    """The constant every element of `node` is taken from: a CONST, seen through views and
    reshapes (which only select or repeat elements), or None if `node` is not constant."""
    while kind(node.op) in (Kind.VIEW, Kind.RESHAPE):
        node = node.inputs[0]
    return node.attr("value").array if node.op is Op.CONST else None


def _all(node: Node, predicate: Callable[[np.ndarray], np.ndarray]) -> bool:
    """True if `node` is constant and every element satisfies `predicate` (elementwise)."""
    array = _constant_array(node)
    return array is not None and bool(np.all(predicate(array)))


def _is_one(a: np.ndarray) -> np.ndarray:
    return a == 1


def _is_two(a: np.ndarray) -> np.ndarray:
    return a == 2


def _is_zero(a: np.ndarray) -> np.ndarray:
    return a == 0


def _is_plus_zero(a: np.ndarray) -> np.ndarray:
    return (a == 0) & ~np.signbit(a)


def _is_minus_zero(a: np.ndarray) -> np.ndarray:
    return (a == 0) & np.signbit(a)  # signbit is False for every integer and bool


def _other(node: Node, predicate: Callable, commutative: bool = True) -> Node | None:
    """For a binary node: the operand whose partner is a constant satisfying `predicate` (the
    right one; the left one too if the op is commutative), else None."""
    x, c = node.inputs
    if _all(c, predicate):
        return x
    if commutative and _all(x, predicate):
        return c
    return None


# ---------------------------------------------------------------------------------------------
# Building replacements of the node's exact type


def as_type_of(node: Node, x: Node) -> Node | None:
    """`x` converted to `node`'s dtype (astype) and broadcast to its shape, or None.

    Only the rules whose comment argues that astype(x, R) is the node's value call this. A weak
    x (a Python scalar such as a size) is only accepted with the node's dtype: NumPy converts
    weak scalars with range checks that astype does not make."""
    if x.weak and x.dtype != node.dtype:
        return None
    if x.dtype != node.dtype or x.weak != node.weak:
        if node.weak:
            return None
        x = build.cast(x, node.dtype)
    if x.shape != node.shape:
        x = build.broadcast_to(x, node.shape)
    return x if same_type(node, x) else None


def _zeros_like(node: Node) -> Node | None:
    """Zeros of `node`'s exact type (a broadcast constant: nothing is stored)."""
    zero = build.const(0) if node.weak else build.const(np.zeros((), node.dtype))
    return as_type_of(node, zero)


def _is_int(dtype: np.dtype) -> bool:
    return dtype.kind in "iu"


def _int_or_bool(dtype: np.dtype) -> bool:
    return dtype.kind in "iub"


# ---------------------------------------------------------------------------------------------
# The rules: each takes a node of its op and returns a replacement or None.


def _mul_one(node: Node) -> Node | None:
    x = _other(node, _is_one)
    return None if x is None else as_type_of(node, x)


def _mul_zero_int(node: Node) -> Node | None:
    if not _int_or_bool(node.dtype) or _other(node, _is_zero) is None:
        return None
    return _zeros_like(node)


def _div_one(node: Node) -> Node | None:
    x = _other(node, _is_one, commutative=False)
    return None if x is None else as_type_of(node, x)


def _floordiv_one_int(node: Node) -> Node | None:
    x = _other(node, _is_one, commutative=False)
    return None if x is None or not _is_int(node.dtype) else as_type_of(node, x)


def _sub_zero(node: Node) -> Node | None:
    x = _other(node, _is_plus_zero, commutative=False)
    return None if x is None else as_type_of(node, x)


def _sub_self_int(node: Node) -> Node | None:
    x, y = node.inputs
    return _zeros_like(node) if x is y and _is_int(node.dtype) else None


def _add_zero(node: Node) -> Node | None:
    x, y = node.inputs
    for a, b in ((x, y), (y, x)):
        exact_zero = _is_zero if _int_or_bool(a.dtype) else _is_minus_zero
        if _all(b, exact_zero):
            return as_type_of(node, a)
    return None


def _pow_scalar(node: Node, predicate: Callable) -> Node | None:
    """The base, if the exponent is a scalar constant satisfying `predicate`."""
    x, e = node.inputs
    return x if e.op is Op.CONST and e.ndim == 0 and _all(e, predicate) else None


def _pow_one(node: Node) -> Node | None:
    x = _pow_scalar(node, _is_one)
    return None if x is None else as_type_of(node, x)


def _pow_two(node: Node) -> Node | None:
    x = _pow_scalar(node, _is_two)
    if x is None:
        return None
    a = as_type_of(node, x)
    return None if a is None else build.elementwise(Op.MUL, a, a)


def _involution(node: Node) -> Node | None:
    """op(op(x)) -> x for an op that is its own inverse on x's type."""
    inner = node.inputs[0]
    if inner.op is not node.op:
        return None
    x = inner.inputs[0]
    if node.op is Op.NOT and x.dtype.kind != "b":
        return None
    return x if same_type(node, x) else None


def _idempotent_unary(node: Node) -> Node | None:
    """op(op(x)) -> op(x) for an op with f(f(x)) == f(x)."""
    inner = node.inputs[0]
    return inner if inner.op is node.op else None


def _same_operands(node: Node) -> Node | None:
    """op(x, x) -> x for an op with f(x, x) == x on x's type."""
    x, y = node.inputs
    if x is not y:
        return None
    if node.op in (Op.AND, Op.OR) and x.dtype.kind != "b":
        return None
    return x if same_type(node, x) else None


def _where_same(node: Node) -> Node | None:
    _, x, y = node.inputs
    if x is not y or x.dtype != node.dtype or x.weak != node.weak:
        return None
    return as_type_of(node, x)


def _cast_same(node: Node) -> Node | None:
    x = node.inputs[0]
    return x if same_type(node, x) else None


def _cast_round_trip(node: Node) -> Node | None:
    inner = node.inputs[0]
    if inner.op is not Op.CAST:
        return None
    x = inner.inputs[0]
    return x if same_type(node, x) and exact_cast(x.dtype, inner.dtype) else None


def exact_cast(src: np.dtype, dst: np.dtype) -> bool:
    """True if astype(src -> dst) keeps every value of src, so casting back restores it
    (np.can_cast(..., 'safe') will not do: it calls int64 -> float64 safe)."""
    if src.kind == "b":
        return True  # 0 and 1 exist in every type; casting back to bool maps nonzero to True
    if src.kind in "iu" and dst.kind in "iu":
        s, d = np.iinfo(src), np.iinfo(dst)
        return d.min <= s.min and s.max <= d.max
    if src.kind in "iu" and dst.kind == "f":
        bits = np.iinfo(src).bits - (src.kind == "i")
        return bits <= np.finfo(dst).nmant + 1
    if src.kind == "f" and dst.kind == "f":
        return dst.itemsize >= src.itemsize  # f32 -> f64 keeps NaN, inf, -0.0 and every value
    return False


def _transpose_twice(node: Node) -> Node | None:
    inner = node.inputs[0]
    if inner.op is not Op.TRANSPOSE:
        return None
    outer, first = node.attr("perm"), inner.attr("perm")
    # y = transpose(x, p1) has y.axis[k] = x.axis[p1[k]]; transposing y by p2 reads p1[p2[j]].
    composed = tuple(first[p] for p in outer)
    return build.transpose(inner.inputs[0], composed)


def _getitem_identity(node: Node) -> Node | None:
    x, items = node.inputs[0], node.attr("items")
    if len(items) != x.ndim:
        return None  # an integer index or a newaxis changes the shape
    for item, n in zip(items, x.shape, strict=True):
        if item[0] != "slice":
            return None
        _, start, stop, step = item
        if isinstance(n, int):
            if range(*slice(start, stop, step).indices(n)) != range(n):
                return None
        elif not (start in (None, 0) and stop is None and step == 1):
            return None
    return x if same_type(node, x) else None


@dataclass(frozen=True)
class SimplifyRule:
    """One local rewrite: `apply(node)` for a node of `op` gives its replacement or None."""

    name: str
    op: Op
    apply: Callable[[Node], Node | None]


RULES_SIMPLIFY: tuple[SimplifyRule, ...] = (
    # x*1, 1*x -> astype(x, R): a*1 == a in IEEE-754 (NaN, inf, -0.0 kept), ints, bools (and).
    SimplifyRule("mul-one", Op.MUL, _mul_one),
    # x*0, 0*x -> 0 for an int/bool result only: a*0 == 0 in modular arithmetic (floats: NaN*0).
    SimplifyRule("mul-zero-int", Op.MUL, _mul_zero_int),
    # x/1 -> astype(x, R): true division by 1 is exact for every float including NaN, inf and -0.0.
    SimplifyRule("div-one", Op.DIV, _div_one),
    # x//1 -> astype(x, R) for an integer result: a//1 == a, no overflow (only MIN // -1 overflows).
    SimplifyRule("floordiv-one-int", Op.FLOORDIV, _floordiv_one_int),
    # x-(+0) -> astype(x, R): a - (+0) == a + (-0) == a, even a = -0.0 (-0 + -0 = -0). Not x-(-0).
    SimplifyRule("sub-zero", Op.SUB, _sub_zero),
    # x-x -> 0 for integers: a - a == 0 exactly, wrap-around included (never for floats: inf - inf).
    SimplifyRule("sub-self-int", Op.SUB, _sub_self_int),
    # x+0, 0+x -> astype(x, R) if x is int/bool (astype never yields -0.0), or if the zero is -0.0.
    SimplifyRule("add-zero", Op.ADD, _add_zero),
    # x**1 -> astype(x, R), scalar exponent only: NumPy's power copies the base for a scalar 1.
    SimplifyRule("pow-one", Op.POW, _pow_one),
    # x**2 -> x*x, scalar exponent only: NumPy's power computes square (a*a) for a scalar 2.
    SimplifyRule("pow-two", Op.POW, _pow_two),
    # --x -> x: negation flips the sign bit (floats, NaN too) or is an involution mod 2**n (ints).
    SimplifyRule("neg-neg", Op.NEG, _involution),
    # not(not(b)) -> b for bool b (for other dtypes the result is bool, not x).
    SimplifyRule("not-not", Op.NOT, _involution),
    # abs(abs(x)) -> abs(x): idempotent, also for NaN (sign cleared) and MIN (abs(MIN) == MIN).
    SimplifyRule("abs-abs", Op.ABS, _idempotent_unary),
    # maximum(x, x) -> x: both operands are the same element; NaN propagates as x itself.
    SimplifyRule("max-self", Op.MAXIMUM, _same_operands),
    # minimum(x, x) -> x: as maximum.
    SimplifyRule("min-self", Op.MINIMUM, _same_operands),
    # logical_and(b, b) -> b for bool b.
    SimplifyRule("and-self", Op.AND, _same_operands),
    # logical_or(b, b) -> b for bool b.
    SimplifyRule("or-self", Op.OR, _same_operands),
    # where(c, x, x) -> broadcast_to(x): both branches give x's element; a broadcast repeats it.
    SimplifyRule("where-same", Op.WHERE, _where_same),
    # astype(x, x.dtype) -> x for a strong x: a same-type astype is a copy.
    SimplifyRule("cast-same", Op.CAST, _cast_same),
    # astype(astype(x, w), x.dtype) -> x if x -> w keeps every value (i32->i64, f32->f64, ...).
    SimplifyRule("cast-round-trip", Op.CAST, _cast_round_trip),
    # transpose(transpose(x, p1), p2) -> transpose(x, p1[p2]) (or x if the identity): views only.
    SimplifyRule("transpose-transpose", Op.TRANSPOSE, _transpose_twice),
    # x[:, ::1, 0:] -> x: slices that select every element in order are the identity view.
    SimplifyRule("getitem-identity", Op.GETITEM, _getitem_identity),
)

_BY_OP: dict[Op, tuple[SimplifyRule, ...]] = {}
for _rule in RULES_SIMPLIFY:
    _BY_OP[_rule.op] = _BY_OP.get(_rule.op, ()) + (_rule,)


def simplify_node(node: Node) -> Node | None:
    """The first rule for `node`'s op that applies, or None."""
    for rule in _BY_OP.get(node.op, ()):
        replacement = rule.apply(node)
        if replacement is not None and replacement is not node:
            return replacement
    return None


def simplify(graph: Graph) -> Graph:
    """`graph` with every rule of RULES_SIMPLIFY applied bottom-up until none applies."""
    return rewrite(graph, simplify_node)
