"""The translator's value domain.

A name is bound to one of:
- an `ArrayObject`: a NumPy array with identity (an argument, or an array made inside). Names
  bound to the same object see each other's writes; a view's writes go to its base.
- an IR `Node` of rank 0: an immutable scalar known at run time (a NumPy scalar, or a Python
  scalar argument, which is weak).
- a size: a Python int, or a symbolic `DimExpr` (`x.shape[0]`); arithmetic on sizes stays symbolic.
- a static Python value known at compile time: bool, int, float, str, None, slice, tuple and list
  (of values), np.dtype, NumPy scalar types, modules, functions.
- `POISON` (after an error: everything computed from it is silently poison too, so translation
  can go on and find later errors) or `Unbound` (assigned in only one branch of a runtime if).
"""

from __future__ import annotations

import ast
import numbers
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ir import build
from ..ir import dims as D
from ..ir.node import Node
from ..ir.ops import Op
from .errors import ProblemKind


class Unsupported(Exception):
    """Raised inside the translator; recorded as a problem at the construct being translated."""

    def __init__(self, message: str, hint: str = "", kind: ProblemKind = "unsupported",
                 node: ast.AST | None = None):
        super().__init__(message)
        self.message, self.hint, self.kind, self.node = message, hint, kind, node


class _Poison:
    """The value of an expression that failed to translate (an error is already recorded)."""

    def __repr__(self) -> str:
        return "POISON"


POISON = _Poison()


@dataclass(frozen=True)
class Unbound:
    """A name assigned in only one branch of an `if` decided at run time (`why` = 'if'), or
    only inside a loop with a runtime trip count ('loop')."""

    name: str
    why: str = "if"


@dataclass
class View:
    """How a view reads its base and writes back into it."""

    read: Callable[[Node], Node]                # base value -> view value
    write: Callable[[Node, Node], Node]         # (base value, new view value) -> new base value


def layout_dependent(operand: Any, result: Node) -> ArrayObject:
    """A read-only copy `result` of `operand` that NumPy may instead return as a view of it
    (reshape / ravel merging axes of an array whose layout is known only at run time)."""
    obj = ArrayObject(result)
    obj.writable = False
    obj.why_readonly = ("NumPy's reshape/ravel return a view or a copy depending on memory "
                        "layout; call .copy() on the result before writing into it")
    if isinstance(operand, ArrayObject):
        root = operand.root()
        obj.copied_from = (root, root.value)
    return obj


def getitem_view(base: Node, key: tuple) -> View:
    """A basic-indexing view `base[key]`: reads getitem, writes setitem (new axes squeezed out
    first). `key` is static (build.index_key's form: ints, slices, None, ...)."""
    items, _, _ = build.index_key(base, key)
    squeeze = tuple(0 if item[0] == "new" else slice(None) for item in items if item[0] != "int")
    write_key = tuple(k for k in key if k is not None)
    has_new = any(item[0] == "new" for item in items)

    def write(b: Node, new: Node) -> Node:
        return build.setitem(b, write_key, build.getitem(new, squeeze) if has_new else new)

    return View(lambda b: build.getitem(b, key), write)


class ArrayObject:
    """A NumPy array with identity. `value` is its current content for a base object; a view
    derives its content from its base, so it always sees the base's latest writes."""

    __slots__ = ("value", "base", "view", "origin", "writable", "why_readonly", "copied_from")

    def __init__(self, value: Node | None = None, base: ArrayObject | None = None,
                 view: View | None = None, origin: Any = None):
        self.value = value
        self.base = base
        self.view = view
        self.origin = origin        # the argument's index, or None for arrays made inside
        self.writable = True
        self.why_readonly = ""
        # (operand's root, its value then) for a result NumPy may make a view or a copy of
        # depending on memory layout (reshape): reading it after a write into that root is an
        # answer jitgraph cannot know, so it is refused (see `layout_dependent`).
        self.copied_from: tuple[ArrayObject, Node] | None = None

    def read(self) -> Node:
        if self.base is None:
            if self.copied_from is not None and self.copied_from[0].value is not \
                    self.copied_from[1]:
                raise Unsupported(
                    "this reshape/ravel result is read after a write into the array it was "
                    "made from: NumPy returns a view (which sees the write) or a copy (which "
                    "does not) depending on memory layout",
                    "call .copy() on the reshape result, or reshape after the write")
            return self.value
        return self.view.read(self.base.read())

    def assign(self, new: Node) -> None:
        """Replace the whole content (same shape and dtype); views write through to the base."""
        if self.base is None:
            self.value = new
        else:
            self.base.assign(self.view.write(self.base.read(), new))

    def root(self) -> ArrayObject:
        return self if self.base is None else self.base.root()

    def readonly_reason(self) -> str:
        """Why this object cannot be written ('' if it can)."""
        obj: ArrayObject | None = self
        while obj is not None:
            if not obj.writable:
                return obj.why_readonly
            obj = obj.base
        return ""


@dataclass
class LocalFunction:
    """A `def` inside the compiled function: inlined at its calls, reading its defining scope."""

    tree: ast.FunctionDef
    frame: Any                  # the translator frame it was defined in (its enclosing scope)
    defaults: dict[str, Any]    # evaluated when the def ran, as in Python


# Wrapper types whose `python_function` is inlined when called (jg.jit functions register here).
JIT_TYPES: list[type] = []


STATIC_SCALARS = (bool, int, float, np.generic)
STATIC_TYPES = (bool, int, float, str, type(None), slice, type(Ellipsis), np.dtype, np.generic,
                types.ModuleType)


def is_size(value: Any) -> bool:
    """A Python int or a symbolic size."""
    return isinstance(value, D.DimExpr) or (isinstance(value, int) and not isinstance(value, bool))


def is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, complex)


def is_scalar_type(value: Any) -> bool:
    """np.float32, np.int64, ... : types that cast or make constants when called."""
    return isinstance(value, type) and issubclass(value, np.generic)


def is_dtype_like(value: Any) -> bool:
    return isinstance(value, np.dtype) or is_scalar_type(value) or value in (float, int, bool)


def is_array_value(value: Any) -> bool:
    """Values that act as arrays in operations: array objects, runtime scalars, sizes, numbers."""
    return (isinstance(value, (ArrayObject, Node, D.DimExpr)) or is_number(value))


def to_node(value: Any) -> Node:
    """An operand as an IR node: arrays read their current value, sizes become runtime sizes,
    Python numbers weak constants, NumPy scalars typed constants."""
    if isinstance(value, ArrayObject):
        return value.read()
    if isinstance(value, Node):
        return value
    if isinstance(value, D.DimExpr):
        return build.size(value)
    if isinstance(value, np.ndarray):
        return build.const(value)
    return build.const(value)


def strong(node: Node) -> Node:
    """NumPy functions return NumPy scalars, never weak Python scalars: `np.exp(1.0)` is float64."""
    return build.cast(node, node.dtype) if node.weak else node


def strong_result(value: Any) -> Any:
    """A NumPy function's result: an ndarray or a NumPy scalar, never a weak Python scalar, even
    when computed from Python scalars only (`np.expand_dims(3, 0)` is an int64 array)."""
    if isinstance(value, Node):
        return strong(value)
    if isinstance(value, ArrayObject) and value.base is None and value.value.weak:
        value.value = strong(value.value)  # same content: identity and flags stay
    return value


def wrap(node: Node) -> Any:
    """A fresh result: arrays get a new identity; rank-0 results are immutable scalars."""
    return ArrayObject(node) if node.ndim else node


def weak_scalar(node: Node, dtype: Any) -> Node:
    """`float(x)` / `int(x)`: a Python scalar (weak) of x's value. There is no weak-cast builder
    yet, so the cast node is made here (see the frontend's report)."""
    dtype = np.dtype(dtype)
    if node.weak and node.dtype == dtype:
        return node
    return Node.make(Op.CAST, (node,), {"dtype": dtype}, (), dtype, weak=True)
