"""The NumPy surface the frontend understands: NumPy functions (by identity, however the module
was imported), array methods and attributes, each mapped to IR builders.

Handlers take the translator's helper context `cx` first (for operands: `cx.node`, static
arguments: `cx.static`, `cx.axis`, `cx.shape`, `cx.dtype`) and NumPy's own parameters after, so a
call with an unknown keyword fails to bind and is reported with NumPy's parameter names.
NumPy functions never return weak (Python) scalars: every registered function's result goes
through `strong_result`, so a handler need not care. Functions NumPy defines as views
(transpose, expand_dims, squeeze, broadcast_to) return view `ArrayObject`s of array operands, so
later writes into the operand are seen through them, as in NumPy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ..ir import build
from ..ir import dims as D
from ..ir.node import Node
from ..ir.ops import BINARY, UNARY, Op
from .values import (
    ArrayObject,
    View,
    getitem_view,
    layout_dependent,
    strong,
    strong_result,
    weak_scalar,
)

Handler = Callable[..., Any]

FUNCTIONS: dict[int, tuple[str, Handler]] = {}   # id(numpy function) -> (name, handler)
METHODS: dict[str, Handler] = {}                  # ndarray method name -> handler(cx, self, ...)


def numpy_function(*names: str) -> Callable[[Handler], Handler]:
    """Register a handler for `np.<name>` for every name NumPy has."""
    def register(handler: Handler) -> Handler:
        for name in names:
            fn = getattr(np, name, None)
            if fn is not None:
                register_function(fn, f"np.{name}", handler)
        return handler
    return register


def register_function(fn: Any, name: str, handler: Handler) -> None:
    """Map the NumPy callable `fn` to `handler`, whose result is made strong: NumPy functions
    return arrays and NumPy scalars, never Python scalars (unlike methods such as .item())."""
    @functools.wraps(handler)  # keeps the signature: calls are bound against NumPy's parameters
    def strong_handler(*args: Any, **kwargs: Any) -> Any:
        return strong_result(handler(*args, **kwargs))

    FUNCTIONS.setdefault(id(fn), (name, strong_handler))


def method(*names: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for name in names:
            METHODS[name] = handler
        return handler
    return register


def lookup(fn: Any) -> tuple[str, Handler] | None:
    """The handler for a NumPy callable, or None if jitgraph does not support it."""
    return FUNCTIONS.get(id(fn))


def numpy_name(fn: Any) -> str | None:
    """`np.cumsum` for NumPy functions jitgraph does not support (for the error message)."""
    module = getattr(fn, "__module__", "") or ""
    name = getattr(fn, "__name__", None)
    if name and (module.startswith("numpy") or isinstance(fn, np.ufunc)):
        return f"np.{name}"
    return None


# ---------------------------------------------------------------------------------------------
# Elementwise


def _ufunc(op: Op) -> Handler:
    arity = 1 if op in UNARY else 2
    if arity == 1:
        return lambda cx, x: strong(build.elementwise(op, cx.node(x)))
    return lambda cx, x1, x2: strong(build.elementwise(op, cx.node(x1), cx.node(x2)))


for _op in list(UNARY) + list(BINARY):
    numpy_function(_op.value)(_ufunc(_op))
numpy_function("abs")(_ufunc(Op.ABS))
numpy_function("divide")(_ufunc(Op.DIV))
numpy_function("mod")(_ufunc(Op.MOD))


@numpy_function("square")
def _square(cx, x):
    return strong(build.square(cx.node(x)))


@numpy_function("reciprocal")
def _reciprocal(cx, x):
    return strong(build.reciprocal(cx.node(x)))


@numpy_function("where")
def _where(cx, condition, x, y):
    return strong(build.where(cx.node(condition), cx.node(x), cx.node(y)))


@numpy_function("clip")
@method("clip")
def _clip(cx, a, a_min=None, a_max=None):
    lo = None if a_min is None else cx.node(a_min)
    hi = None if a_max is None else cx.node(a_max)
    return strong(build.clip(cx.node(a), lo, hi))


# ---------------------------------------------------------------------------------------------
# Reductions


def _reduction(op: Op) -> Handler:
    def handler(cx, a, axis=None, dtype=None, keepdims=False):
        x = cx.node(a)
        if dtype is not None:
            x = build.cast(x, cx.dtype(dtype))
        return build.reduce(op, x, cx.axis(axis), cx.static(keepdims, "keepdims"))
    return handler


def _arg_reduction(op: Op) -> Handler:
    def handler(cx, a, axis=None, keepdims=False):
        return build.reduce(op, cx.node(a), cx.axis(axis), cx.static(keepdims, "keepdims"))
    return handler


for _names, _op in ((("sum",), Op.SUM), (("prod",), Op.PROD), (("max", "amax"), Op.MAX),
                    (("min", "amin"), Op.MIN), (("any",), Op.ANY), (("all",), Op.ALL)):
    numpy_function(*_names)(_reduction(_op))
    method(_names[0])(_reduction(_op))
for _name, _op in (("argmax", Op.ARGMAX), ("argmin", Op.ARGMIN)):
    numpy_function(_name)(_arg_reduction(_op))
    method(_name)(_arg_reduction(_op))


@numpy_function("mean")
@method("mean")
def _mean(cx, a, axis=None, dtype=None, keepdims=False):
    x = cx.node(a) if dtype is None else build.cast(cx.node(a), cx.dtype(dtype))
    return build.mean(x, cx.axis(axis), cx.static(keepdims, "keepdims"))


def _stat(fn: Callable) -> Handler:
    def handler(cx, a, axis=None, dtype=None, ddof=0, keepdims=False):
        x = cx.node(a) if dtype is None else build.cast(cx.node(a), cx.dtype(dtype))
        return fn(x, cx.axis(axis), cx.static(keepdims, "keepdims"), cx.static(ddof, "ddof"))
    return handler


for _name, _fn in (("var", build.var), ("std", build.std)):
    numpy_function(_name)(_stat(_fn))
    method(_name)(_stat(_fn))


# ---------------------------------------------------------------------------------------------
# Linear algebra


@numpy_function("matmul")
def _matmul(cx, x1, x2):
    return build.matmul(cx.node(x1), cx.node(x2))


@numpy_function("dot")
@method("dot")
def _dot(cx, a, b):
    return strong(build.dot(cx.node(a), cx.node(b)))


@numpy_function("outer")
def _outer(cx, a, b):
    return build.outer(cx.array(a), cx.array(b))


def _norm(cx, x, ord=None, axis=None, keepdims=False):
    if ord not in (None, 2, "fro") or (ord == 2 and axis is None and cx.node(x).ndim != 1):
        raise cx.unsupported(f"np.linalg.norm(ord={ord!r}) is not supported yet",
                             "only the Euclidean / Frobenius norm (ord=None) is")
    node = cx.array(x)
    squares = build.elementwise(Op.MUL, node, node)
    total = build.reduce(Op.SUM, squares, cx.axis(axis), cx.static(keepdims, "keepdims"))
    return build.elementwise(Op.SQRT, total)


register_function(np.linalg.norm, "np.linalg.norm", _norm)


# ---------------------------------------------------------------------------------------------
# Structure


def _inverse(perm: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sorted(range(len(perm)), key=lambda i: perm[i]))


def transpose_view(obj: Any, cx, axes: Any = None) -> Any:
    """`a.T` / `np.transpose(a)`: a view, so writes through it reach `a`."""
    x = cx.array(obj)
    perm = tuple(reversed(range(x.ndim))) if axes is None else tuple(
        a % x.ndim for a in cx.static(axes, "axes"))
    result = build.transpose(x, perm)
    if not isinstance(obj, ArrayObject):
        return result
    view = View(lambda base: build.transpose(base, perm),
                lambda base, new: build.transpose(new, _inverse(perm)))
    return ArrayObject(base=obj, view=view)


@numpy_function("transpose")
def _transpose(cx, a, axes=None):
    return transpose_view(a, cx, axes)


@method("transpose")
def _transpose_method(cx, self, *axes):
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        axes = axes[0]
    return transpose_view(self, cx, axes or None)


def _reshaped(cx, obj: Any, shape: Any) -> Any:
    """np.reshape: a view when NumPy never copies for this change of shape (axes only split,
    size-1 axes added or dropped), so writes are shared both ways; otherwise whether NumPy
    copies depends on the operand's memory layout, which only the call knows."""
    x = cx.array(obj)
    result = build.reshape(x, cx.shape(shape))
    if not isinstance(obj, ArrayObject):
        return result
    if not _splits_only(x.shape, result.shape):
        return layout_dependent(obj, result)
    new_shape = result.shape
    view = View(lambda base: build.reshape(base, new_shape),
                lambda base, new: build.reshape(new, base.shape))
    return ArrayObject(base=obj, view=view)


def _splits_only(old: tuple, new: tuple) -> bool:
    """True if reshaping `old` to `new` only splits axes and adds or drops size-1 axes: NumPy
    does that without copying whatever the strides (merging axes may need a copy)."""
    old = tuple(d for d in old if d != 1)
    new = tuple(d for d in new if d != 1)
    if len(old) <= 1:
        return True  # one axis (or none) split into all of new's, whatever the sizes
    j = 0
    for d in old:
        size: Any = 1
        while j < len(new) and size != d:
            size = D.mul(size, new[j])
            j += 1
        if size != d:
            return False
    return j == len(new)


@numpy_function("reshape")
def _reshape(cx, a, shape):
    return _reshaped(cx, a, shape)


@method("reshape")
def _reshape_method(cx, self, *shape):
    return _reshaped(cx, self, shape[0] if len(shape) == 1 else shape)


@numpy_function("ravel")
@method("ravel")
def _ravel(cx, a):
    return _reshaped(cx, a, (-1,))


@method("flatten")
def _flatten(cx, self):
    return build.reshape(cx.array(self), (-1,))


def indexing_view(obj: Any, x: Node, key: tuple) -> Any:
    """`x[key]` (basic indexing of obj's value x) as NumPy's view of obj when obj is an array:
    writes into either are seen by the other. A 0-d result stays an array (np.squeeze of a
    (1,) array is a 0-d view), unlike `x[0]`, which is a scalar."""
    if isinstance(obj, ArrayObject):
        return ArrayObject(base=obj, view=getitem_view(x, key))
    return build.getitem(x, key)


@numpy_function("expand_dims")
def _expand_dims(cx, a, axis):
    x = cx.array(a)
    axis = cx.static(axis, "axis")
    build.expand_dims(x, axis)  # NumPy's errors for bad axes
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    new = build.normalize_axes(tuple(axes), x.ndim + len(axes), "expand_dims")
    key = tuple(None if i in new else slice(None) for i in range(x.ndim + len(axes)))
    return indexing_view(a, x, key)


@numpy_function("squeeze")
@method("squeeze")
def _squeeze(cx, a, axis=None):
    x = cx.array(a)
    axis = cx.axis(axis)
    key, checks = build.squeeze_key(x, axis), build.squeeze_checks(x, axis)
    if not isinstance(a, ArrayObject):
        return build.with_checks(build.getitem(x, key), checks)
    view = getitem_view(x, key)  # with the checks that axes of runtime size are 1
    return ArrayObject(base=a, view=View(lambda b: build.with_checks(view.read(b), checks),
                                         view.write))


@numpy_function("broadcast_to")
def _broadcast_to(cx, array, shape):
    shape = cx.shape(shape)
    result = build.broadcast_to(cx.array(array), shape)
    if not isinstance(array, ArrayObject):
        return result
    # A read-only view: it shows later writes into `array`; NumPy refuses writes into it.
    view = View(lambda base: build.broadcast_to(base, shape), _unwritable)
    obj = ArrayObject(base=array, view=view)
    obj.writable = False
    obj.why_readonly = "np.broadcast_to returns a read-only view (NumPy raises ValueError too)"
    return obj


def _unwritable(base: Node, new: Node) -> Node:
    raise AssertionError("a read-only view was written")  # writable() refuses it first


@numpy_function("concatenate")
def _concatenate(cx, arrays, axis=0):
    return build.concatenate([cx.array(a) for a in cx.sequence(arrays)], cx.static(axis, "axis"))


@numpy_function("stack")
def _stack(cx, arrays, axis=0):
    return build.stack([cx.array(a) for a in cx.sequence(arrays)], cx.static(axis, "axis"))


@numpy_function("vstack")
def _vstack(cx, tup):
    nodes = [cx.array(a) for a in cx.sequence(tup)]
    return build.concatenate([build.reshape(n, (1, -1)) if n.ndim < 2 else n for n in nodes], 0)


@numpy_function("hstack")
def _hstack(cx, tup):
    nodes = [cx.array(a) for a in cx.sequence(tup)]
    nodes = [build.reshape(n, (1,)) if n.ndim == 0 else n for n in nodes]
    return build.concatenate(nodes, 0 if nodes[0].ndim == 1 else 1)


@numpy_function("shape")
def _shape(cx, a):
    return cx.node(a).shape


@numpy_function("ndim")
def _ndim(cx, a):
    return cx.node(a).ndim


@numpy_function("size")
def _size(cx, a):
    return D.product(cx.node(a).shape)


# ---------------------------------------------------------------------------------------------
# Creation and copies


def _creation(fill: Any) -> Handler:
    def handler(cx, shape, dtype=float):
        return build.full(cx.shape(shape), fill, cx.dtype(dtype))
    return handler


for _name, _fill in (("zeros", 0), ("ones", 1), ("empty", 0)):
    numpy_function(_name)(_creation(_fill))


@numpy_function("full")
def _full(cx, shape, fill_value, dtype=None):
    if cx.is_runtime(fill_value):
        fill = strong(cx.node(fill_value))
    else:
        fill = cx.static(fill_value, "fill_value")
    return build.full(cx.shape(shape), fill, cx.dtype(dtype))


def _like(fill: Any) -> Handler:
    def handler(cx, a, dtype=None):
        return build.full_like(cx.node(a), fill, cx.dtype(dtype))
    return handler


for _name, _fill in (("zeros_like", 0), ("ones_like", 1), ("empty_like", 0)):
    numpy_function(_name)(_like(_fill))


@numpy_function("full_like")
def _full_like(cx, a, fill_value, dtype=None):
    x = cx.node(a)
    dtype = cx.dtype(dtype) or x.dtype
    return build.full(x.shape, build.cast(cx.node(fill_value), dtype), dtype)


@numpy_function("arange")
def _arange(cx, start, stop=None, step=None, dtype=None):
    step = 1 if step is None else cx.static(step, "arange step")
    stop = None if stop is None else cx.static(stop, "arange stop")
    return build.arange(cx.static(start, "arange start"), stop, step, cx.dtype(dtype))


@numpy_function("eye")
def _eye(cx, N, M=None, k=0, dtype=float):
    M = None if M is None else cx.static(M, "eye size")
    return build.eye(cx.static(N, "eye size"), M, cx.static(k, "k"), cx.dtype(dtype))


@numpy_function("identity")
def _identity(cx, n, dtype=float):
    return build.eye(cx.static(n, "identity size"), None, 0, cx.dtype(dtype))


@numpy_function("linspace")
def _linspace(cx, start, stop, num=50, endpoint=True, dtype=None):
    return build.linspace(cx.static(start, "linspace start"), cx.static(stop, "linspace stop"),
                          cx.static(num, "num"), cx.static(endpoint, "endpoint"), cx.dtype(dtype))


@numpy_function("copy")
@method("copy")
def _copy(cx, a):
    return ArrayObject(cx.array(a))


@numpy_function("array")
def _array(cx, object, dtype=None, copy=True):
    node = cx.array(object)
    if dtype is not None:
        node = build.cast(node, cx.dtype(dtype))
    if isinstance(object, ArrayObject) and not cx.static(copy, "copy") and node is object.read():
        return object
    return ArrayObject(node)


@numpy_function("asarray", "ascontiguousarray")
def _asarray(cx, a, dtype=None):
    if isinstance(a, ArrayObject) and (dtype is None or cx.dtype(dtype) == a.read().dtype):
        return a  # the same object, as NumPy returns it
    return _array(cx, a, dtype)


@method("astype")
def _astype(cx, self, dtype, copy=True):
    return ArrayObject(build.cast(cx.node(self), cx.dtype(dtype)))


@method("fill")
def _fill(cx, self, value):
    x = cx.node(self)
    cx.write(self, build.full(x.shape, build.cast(cx.node(value), x.dtype), x.dtype))
    return None


@method("item")
def _item(cx, self):
    x = cx.node(self)
    if x.ndim and any(d != 1 for d in x.shape):
        raise cx.unsupported("item() of an array that may have more than one element is not "
                             "supported", "index the element, e.g. x[0, 0]")
    value = build.getitem(x, (0,) * x.ndim) if x.ndim else x
    python = {"f": float, "b": bool}.get(value.dtype.kind, int)
    return weak_scalar(value, np.asarray(python(0)).dtype)


# ---------------------------------------------------------------------------------------------
# Attributes


def attribute(cx, value: Any, name: str) -> Any:
    """`x.shape`, `x.ndim`, `x.size`, `x.dtype`, `x.T`; None for names that are not attributes."""
    node = cx.node(value)
    if name == "shape":
        return tuple(node.shape)
    if name == "ndim":
        return node.ndim
    if name == "size":
        return D.product(node.shape)
    if name == "dtype":
        return node.dtype
    if name == "T":
        return transpose_view(value, cx)
    return None
