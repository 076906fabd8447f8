"""The symbolic style (MXNet's Symbol API) over jitgraph's graph.

A Symbol is a recipe: a DAG of `SymNode`s whose variables have no type yet. Compiling it
specializes the recipe for the argument signature of a call (dtypes, ranks, which axes have
size 1) into typed IR, which the optimizer and code generator turn into one parallel kernel.

    A = jg.Variable('A'); B = jg.Variable('B')
    D = B * A + 1
    f = jg.compile(D); f(A=np.ones(10), B=np.ones(10) * 2)   # array of 3.0
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import runtime
from .errors import ArgumentError, GraphTypeError
from .ir import build, dtypes
from .ir.node import Graph, Node  # noqa: F401
from .ir.ops import OPS, Op

# ---------------------------------------------------------------------------------------------
# The symbol-level op table


@dataclass(frozen=True)
class SymOp:
    """A Symbol API operation: its inputs, attributes, how it builds IR, its name stem."""

    arity: int | None  # None: one or more inputs
    attrs: tuple[str, ...]
    build: Callable[[list[Node], dict[str, Any]], Node]
    stem: str


def _elementwise(op: Op) -> SymOp:
    return SymOp(
        OPS[op].arity, (), lambda xs, a: build.elementwise(op, *xs), OPS[op].symbol_name or op.value
    )


def _reduction(op: Op) -> SymOp:
    return SymOp(
        1,
        ("axis", "keepdims"),
        lambda xs, a: build.reduce(op, xs[0], a.get("axis"), a.get("keepdims", False)),
        op.value,
    )


def _stat(fn: Callable, stem: str) -> SymOp:
    return SymOp(
        1,
        ("axis", "keepdims", "ddof"),
        lambda xs, a: fn(xs[0], a.get("axis"), a.get("keepdims", False), a.get("ddof", 0)),
        stem,
    )


def _like(fill: Any) -> SymOp:
    def make(xs: list[Node], a: dict[str, Any]) -> Node:
        value = a.get("fill_value", fill)
        return build.full_like(xs[0], value, a.get("dtype"))

    return SymOp(1, ("dtype",) + (("fill_value",) if fill is None else ()), make, "")


def _creation(fill: Any) -> SymOp:
    def make(xs: list[Node], a: dict[str, Any]) -> Node:
        dtype = a.get("dtype")
        value = a.get("fill_value", fill)
        if dtype is None and fill is not None:
            dtype = np.float64
        return build.full(a["shape"], value, dtype)

    return SymOp(0, ("shape", "dtype") + (("fill_value",) if fill is None else ()), make, "")


def _clip(xs: list[Node], a: dict[str, Any]) -> Node:
    it = iter(xs[1:])
    lo = next(it) if a.get("has_lo", True) else None
    hi = next(it) if a.get("has_hi", True) else None
    return build.clip(xs[0], lo, hi)


SYM_OPS: dict[str, SymOp] = {
    "var": SymOp(0, ("shape", "dtype"), lambda xs, a: None, ""),
    "const": SymOp(0, ("value", "weak"), lambda xs, a: None, "_const"),
}
for _op in (
    Op.NEG,
    Op.ABS,
    Op.NOT,
    Op.EXP,
    Op.EXPM1,
    Op.LOG,
    Op.LOG1P,
    Op.LOG2,
    Op.LOG10,
    Op.SQRT,
    Op.SIN,
    Op.COS,
    Op.TAN,
    Op.ARCSIN,
    Op.ARCCOS,
    Op.ARCTAN,
    Op.SINH,
    Op.COSH,
    Op.TANH,
    Op.FLOOR,
    Op.CEIL,
    Op.SIGN,
    Op.ISNAN,
    Op.ISINF,
    Op.ISFINITE,
    Op.ADD,
    Op.SUB,
    Op.MUL,
    Op.DIV,
    Op.FLOORDIV,
    Op.MOD,
    Op.POW,
    Op.MAXIMUM,
    Op.MINIMUM,
    Op.ARCTAN2,
    Op.EQ,
    Op.NE,
    Op.LT,
    Op.LE,
    Op.GT,
    Op.GE,
    Op.AND,
    Op.OR,
    Op.XOR,
):
    SYM_OPS[_op.value] = _elementwise(_op)
for _op in (Op.SUM, Op.PROD, Op.MAX, Op.MIN, Op.ARGMAX, Op.ARGMIN, Op.ANY, Op.ALL):
    SYM_OPS[_op.value] = _reduction(_op)
SYM_OPS.update(
    {
        "mean": SymOp(
            1,
            ("axis", "keepdims"),
            lambda xs, a: build.mean(xs[0], a.get("axis"), a.get("keepdims", False)),
            "mean",
        ),
        "var_": _stat(build.var, "var"),
        "std": _stat(build.std, "std"),
        "square": SymOp(1, (), lambda xs, a: build.square(xs[0]), "square"),
        "reciprocal": SymOp(1, (), lambda xs, a: build.reciprocal(xs[0]), "reciprocal"),
        "where": SymOp(3, (), lambda xs, a: build.where(*xs), "where"),
        "clip": SymOp(None, ("has_lo", "has_hi"), _clip, "clip"),
        "astype": SymOp(1, ("dtype",), lambda xs, a: build.cast(xs[0], a["dtype"]), "astype"),
        "matmul": SymOp(2, (), lambda xs, a: build.matmul(*xs), "matmul"),
        "dot": SymOp(2, (), lambda xs, a: build.dot(*xs), "dot"),
        "outer": SymOp(2, (), lambda xs, a: build.outer(*xs), "outer"),
        "transpose": SymOp(
            1, ("axes",), lambda xs, a: build.transpose(xs[0], a.get("axes")), "transpose"
        ),
        "reshape": SymOp(1, ("shape",), lambda xs, a: build.reshape(xs[0], a["shape"]), "reshape"),
        "expand_dims": SymOp(
            1, ("axis",), lambda xs, a: build.expand_dims(xs[0], a["axis"]), "expand_dims"
        ),
        "squeeze": SymOp(
            1, ("axis",), lambda xs, a: build.squeeze(xs[0], a.get("axis")), "squeeze"
        ),
        "broadcast_to": SymOp(
            1, ("shape",), lambda xs, a: build.broadcast_to(xs[0], a["shape"]), "broadcast_to"
        ),
        "getitem": SymOp(1, ("key",), lambda xs, a: build.getitem(xs[0], a["key"]), "slice"),
        "concatenate": SymOp(
            None, ("axis",), lambda xs, a: build.concatenate(xs, a.get("axis", 0)), "concat"
        ),
        "stack": SymOp(None, ("axis",), lambda xs, a: build.stack(xs, a.get("axis", 0)), "stack"),
        "zeros": _creation(0),
        "ones": _creation(1),
        "empty": _creation(0),
        "full": _creation(None),
        "zeros_like": _like(0),
        "ones_like": _like(1),
        "empty_like": _like(0),
        "full_like": _like(None),
        "arange": SymOp(
            0,
            ("start", "stop", "step", "dtype"),
            lambda xs, a: build.arange(a["start"], a.get("stop"), a.get("step", 1), a.get("dtype")),
            "arange",
        ),
        "eye": SymOp(
            0,
            ("N", "M", "k", "dtype"),
            lambda xs, a: build.eye(
                a["N"], a.get("M"), a.get("k", 0), a.get("dtype") or np.float64
            ),
            "eye",
        ),
        "linspace": SymOp(
            0,
            ("start", "stop", "num", "endpoint", "dtype"),
            lambda xs, a: build.linspace(
                a["start"], a["stop"], a.get("num", 50), a.get("endpoint", True), a.get("dtype")
            ),
            "linspace",
        ),
    }
)


def _grad(xs: list[Node], a: dict[str, Any]) -> Node:
    """Inputs (head, wrt) or (head, wrt, head_grad): the gradient of sum(head * head_grad)
    (head_grad defaults to ones) with respect to the Variable wrt, differentiated when the
    recipe is specialized."""
    from . import autodiff

    head, wrt = xs[0], xs[1]
    if len(xs) > 3:
        raise GraphTypeError(f"grad takes 2 or 3 inputs (head, wrt, head_grad), got {len(xs)}")
    if wrt.op is not Op.VAR:
        raise GraphTypeError("grad: the second input (wrt) must be a Variable")
    autodiff.check_output(head)
    seed = xs[2] if len(xs) == 3 else build.const(1, head.dtype)
    if seed.ndim > head.ndim:
        raise GraphTypeError(
            f"grad: head gradient of rank {seed.ndim} for a head of rank {head.ndim}"
        )
    seed = build.broadcast_to(build.cast(seed, head.dtype), head.shape)
    return autodiff.vjp([head], [seed], [wrt])[0]


SYM_OPS["grad"] = SymOp(None, (), _grad, "grad")
for _name, _spec in list(SYM_OPS.items()):
    if not _spec.stem:
        SYM_OPS[_name] = SymOp(_spec.arity, _spec.attrs, _spec.build, _name)


class SymNode:
    """One operation of a recipe. Identity matters (two Variables named alike are distinct)."""

    __slots__ = ("op", "inputs", "attrs", "name")

    def __init__(self, op: str, inputs: Sequence[SymNode], attrs: dict[str, Any], name: str | None):
        self.op = op
        self.inputs = tuple(inputs)
        self.attrs = attrs
        self.name = name


def sym_topological(heads: Iterable[SymNode]) -> list[SymNode]:
    order: list[SymNode] = []
    seen: set[int] = set()
    for head in heads:
        stack: list[tuple[SymNode, int]] = [(head, 0)]
        while stack:
            node, i = stack.pop()
            if i == 0 and id(node) in seen:
                continue
            if i < len(node.inputs):
                stack.append((node, i + 1))
                if id(node.inputs[i]) not in seen:
                    stack.append((node.inputs[i], 0))
            elif id(node) not in seen:
                seen.add(id(node))
                order.append(node)
    return order


def _auto_names(order: list[SymNode]) -> dict[int, str]:
    """Per-graph names in topological order: `_mul0`, `_mul1`, `exp0`, ... (deterministic: they do
    not depend on what else the process has built)."""
    names: dict[int, str] = {}
    taken = {n.name for n in order if n.name}
    counters: dict[str, int] = {}
    for node in order:
        if node.name:
            names[id(node)] = node.name
            continue
        stem = SYM_OPS[node.op].stem
        while True:
            count = counters.get(stem, 0)
            counters[stem] = count + 1
            if f"{stem}{count}" not in taken:
                break
        names[id(node)] = f"{stem}{count}"
    return names


def _output_name(node: SymNode, names: dict[int, str]) -> str:
    return names[id(node)] if node.op == "var" else names[id(node)] + "_output"


# ---------------------------------------------------------------------------------------------
# Symbol


def _to_symbol_node(value: Any) -> SymNode:
    if isinstance(value, Symbol):
        return value._single("use as an operand")
    if isinstance(value, SymNode):
        return value
    return _constant_node(value)


def _constant_node(value: Any, name: str | None = None) -> SymNode:
    if isinstance(value, (str, bytes)) or value is None:
        raise GraphTypeError(
            f"cannot use {value!r} as a constant: expected a number or a numeric array"
        )
    weak = isinstance(value, (bool, int, float)) and not isinstance(value, np.generic)
    node = build.const(value)  # validates dtype and range now, not at compile time
    array = node.attr("value").array
    return SymNode("const", (), {"value": array, "weak": weak}, name)


def _apply(op: str, inputs: Sequence[Any], name: str | None = None, **attrs: Any) -> Symbol:
    nodes = [_to_symbol_node(x) for x in inputs]
    clean = {k: v for k, v in attrs.items() if v is not None}
    return Symbol([SymNode(op, nodes, clean, name)])


class Symbol:
    """A symbolic value (or a group of values): build with operators and `jg.sym` functions,
    then `compile` or `bind` it."""

    __array_priority__ = 1000  # numpy scalars and arrays defer to Symbol's operators

    def __init__(self, heads: Sequence[SymNode], output_names: Sequence[str] | None = None):
        self._heads = list(heads)
        self._output_names = list(output_names) if output_names is not None else None

    # -- structure ---------------------------------------------------------------------------

    def _single(self, what: str) -> SymNode:
        if len(self._heads) != 1:
            raise ArgumentError(
                f"cannot {what} a group of {len(self._heads)} outputs; select one "
                "with symbol['name'] or symbol[i] first"
            )
        return self._heads[0]

    def _order(self) -> list[SymNode]:
        return sym_topological(self._heads)

    def _names(self) -> dict[int, str]:
        return _auto_names(self._order())

    @property
    def name(self) -> str:
        node = self._single("name")
        return (
            self._output_names[0].removesuffix("_output")
            if self._output_names
            else self._names()[id(node)]
        )

    def list_arguments(self) -> list[str]:
        """Names of the variables, in order of first use."""
        variables = [n for n in self._order() if n.op == "var"]
        names = [n.name for n in variables]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise ArgumentError(
                f"two different Variables are named {dup!r} in one graph; give each "
                "variable a unique name"
            )
        return names

    def list_outputs(self) -> list[str]:
        if self._output_names is not None:
            return list(self._output_names)
        names = self._names()
        return [_output_name(h, names) for h in self._heads]

    def get_internals(self) -> Symbol:
        """Every value of the graph as an output, in topological order (constants left out)."""
        order = [n for n in self._order() if n.op != "const"]
        names = self._names()
        return Symbol(order, [_output_name(n, names) for n in order])

    def __getitem__(self, key: Any) -> Symbol:
        if isinstance(key, str):
            outputs = self.list_outputs()
            if key not in outputs:
                raise KeyError(f"no output named {key!r}; outputs are {outputs}")
            i = outputs.index(key)
            return Symbol([self._heads[i]], [key])
        if len(self._heads) > 1 and isinstance(key, numbers.Integral):
            if not -len(self._heads) <= key < len(self._heads):
                raise IndexError(f"output index {key} out of range for {len(self._heads)} outputs")
            return Symbol([self._heads[key]], [self.list_outputs()[key]])
        return _apply("getitem", [self], key=key if isinstance(key, tuple) else (key,))

    def __len__(self) -> int:
        return len(self._heads)

    def __iter__(self):
        if len(self._heads) == 1:
            raise TypeError("a single-output Symbol is not iterable")
        return iter(self[i] for i in range(len(self._heads)))

    def __repr__(self) -> str:
        if len(self._heads) == 1:
            return f"<Symbol {self.name}>"
        return f"<Symbol group [{', '.join(self.list_outputs())}]>"

    def __bool__(self) -> bool:
        raise TypeError(
            "the truth value of a Symbol is unknown until it is computed; use "
            "jg.sym.where(...) for data-dependent choices"
        )

    __hash__ = object.__hash__

    # -- arithmetic ----------------------------------------------------------------------------

    def __add__(self, o):
        return _apply("add", [self, o])

    def __radd__(self, o):
        return _apply("add", [o, self])

    def __sub__(self, o):
        return _apply("subtract", [self, o])

    def __rsub__(self, o):
        return _apply("subtract", [o, self])

    def __mul__(self, o):
        return _apply("multiply", [self, o])

    def __rmul__(self, o):
        return _apply("multiply", [o, self])

    def __truediv__(self, o):
        return _apply("true_divide", [self, o])

    def __rtruediv__(self, o):
        return _apply("true_divide", [o, self])

    def __floordiv__(self, o):
        return _apply("floor_divide", [self, o])

    def __rfloordiv__(self, o):
        return _apply("floor_divide", [o, self])

    def __mod__(self, o):
        return _apply("remainder", [self, o])

    def __rmod__(self, o):
        return _apply("remainder", [o, self])

    def __pow__(self, o):
        # NumPy's `a ** 2` operator computes square (so bool ** 2 is int8, as np.square).
        if type(o) is int and o == 2:
            return _apply("square", [self])
        return _apply("power", [self, o])

    def __rpow__(self, o):
        return _apply("power", [o, self])

    def __matmul__(self, o):
        return _apply("matmul", [self, o])

    def __rmatmul__(self, o):
        return _apply("matmul", [o, self])

    def __neg__(self):
        return _apply("negative", [self])

    def __pos__(self):
        return self

    def __abs__(self):
        return _apply("absolute", [self])

    def __invert__(self):
        return _apply("logical_not", [self])

    def __and__(self, o):
        return _apply("logical_and", [self, o])

    def __rand__(self, o):
        return _apply("logical_and", [o, self])

    def __or__(self, o):
        return _apply("logical_or", [self, o])

    def __ror__(self, o):
        return _apply("logical_or", [o, self])

    def __xor__(self, o):
        return _apply("logical_xor", [self, o])

    def __rxor__(self, o):
        return _apply("logical_xor", [o, self])

    def __lt__(self, o):
        return _apply("less", [self, o])

    def __le__(self, o):
        return _apply("less_equal", [self, o])

    def __gt__(self, o):
        return _apply("greater", [self, o])

    def __ge__(self, o):
        return _apply("greater_equal", [self, o])

    def __eq__(self, o):
        return _apply("equal", [self, o])  # type: ignore[override]

    def __ne__(self, o):
        return _apply("not_equal", [self, o])  # type: ignore[override]

    # -- methods, as on NumPy arrays -------------------------------------------------------------

    def sum(self, axis=None, keepdims=False):
        return _apply("sum", [self], axis=axis, keepdims=keepdims)

    def prod(self, axis=None, keepdims=False):
        return _apply("prod", [self], axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return _apply("mean", [self], axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return _apply("max", [self], axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _apply("min", [self], axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        return _apply("argmax", [self], axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False):
        return _apply("argmin", [self], axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims=False):
        return _apply("any", [self], axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims=False):
        return _apply("all", [self], axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        return _apply("var_", [self], axis=axis, keepdims=keepdims, ddof=ddof)

    def std(self, axis=None, keepdims=False, ddof=0):
        return _apply("std", [self], axis=axis, keepdims=keepdims, ddof=ddof)

    def astype(self, dtype):
        return _apply("astype", [self], dtype=dtypes.check(dtype, "astype"))

    def reshape(self, *shape):
        return _apply("reshape", [self], shape=_shape_tuple(shape))

    def squeeze(self, axis=None):
        return _apply("squeeze", [self], axis=axis)

    def clip(self, lo=None, hi=None):
        return clip(self, lo, hi)

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return _apply("transpose", [self], axes=tuple(axes) if axes else None)

    @property
    def T(self) -> Symbol:
        return _apply("transpose", [self])

    # -- gradients -------------------------------------------------------------------------------

    def grad(self, wrt: Any, head_grads: Any = None) -> Any:
        """Gradient symbols of this symbol with respect to the Variables `wrt` (Symbols or
        names; a list gives a list). A non-scalar value is differentiated as its sum, or as
        sum(head * head_grad) with `head_grads` (one per output; Symbols or arrays); the
        gradients of a group's outputs add up. Differentiation happens when the recipe is
        specialized, so a gradient symbol is an ordinary recipe node ("grad") that can be
        saved, loaded, compiled and bound like any other."""
        single = not isinstance(wrt, (list, tuple))
        targets = [self._wrt_node(w) for w in ([wrt] if single else wrt)]
        seeds = self._head_grads(head_grads)
        result = []
        for target in targets:
            name = f"{target.name}_grad"
            parts = [
                SymNode(
                    "grad",
                    (h, target) + ((s,) if s is not None else ()),
                    {},
                    name if len(self._heads) == 1 else None,
                )
                for h, s in zip(self._heads, seeds)
            ]
            total = parts[0]
            for part in parts[1:]:
                total = SymNode("add", (total, part), {}, name if part is parts[-1] else None)
            result.append(Symbol([total]))
        return result[0] if single else result

    def _wrt_node(self, wrt: Any) -> SymNode:
        if isinstance(wrt, str):
            found = [n for n in self._order() if n.op == "var" and n.name == wrt]
            if not found:
                raise ArgumentError(
                    f"grad: no Variable named {wrt!r}; the arguments are {self.list_arguments()}"
                )
            return found[0]
        node = wrt._single("differentiate with respect to") if isinstance(wrt, Symbol) else None
        if node is None or node.op != "var":
            raise ArgumentError(f"grad: wrt must be Variables or their names, got {wrt!r}")
        return node

    def _head_grads(self, head_grads: Any) -> list[SymNode | None]:
        if head_grads is None:
            return [None] * len(self._heads)
        items = head_grads if isinstance(head_grads, (list, tuple)) else [head_grads]
        if len(items) != len(self._heads):
            raise ArgumentError(f"grad: {len(items)} head gradients for {len(self._heads)} outputs")
        return [None if h is None else _to_symbol_node(h) for h in items]

    # -- compile and run -------------------------------------------------------------------------

    def infer_shape(self, *args: Any, **kwargs: Any):
        """(argument shapes, output shapes) from argument shapes given by name or position."""
        given = _by_name(self.list_arguments(), args, kwargs, "infer_shape")
        arg_nodes = [n for n in self._order() if n.op == "var"]
        specs = {}
        for node in arg_nodes:
            shape = given.get(node.name, node.attrs.get("shape"))
            if shape is None:
                raise ArgumentError(f"infer_shape: no shape for argument {node.name!r}")
            shape = _shape_tuple((shape,))
            if any(d is None for d in shape):
                raise ArgumentError(
                    f"infer_shape: shape of {node.name!r} is not fully known: {shape}"
                )
            specs[node.name] = (node.attrs.get("dtype") or np.dtype(np.float32), shape)
        graph = specialize(self._heads, specs, concrete=True)
        return [tuple(specs[n.name][1]) for n in arg_nodes], [tuple(o.shape) for o in graph.outputs]

    def infer_type(self, *args: Any, **kwargs: Any):
        """(argument dtypes, output dtypes) from argument dtypes given by name or position.
        Arguments without a declared shape are assumed to share one rank (the lowest that works)."""
        given = _by_name(self.list_arguments(), args, kwargs, "infer_type")
        arg_nodes = [n for n in self._order() if n.op == "var"]
        types = {}
        for node in arg_nodes:
            dt = given.get(node.name, node.attrs.get("dtype"))
            if dt is None:
                raise ArgumentError(f"infer_type: no dtype for argument {node.name!r}")
            types[node.name] = dtypes.check(dt, f"infer_type: argument {node.name!r}")
        error: Exception | None = None
        for rank in range(0, 7):
            specs = {
                name: (dt, _declared(arg_nodes, name) or (None,) * rank)
                for name, dt in types.items()
            }
            try:
                graph = specialize(self._heads, specs, concrete=False)
            except (ValueError, TypeError, IndexError) as exc:
                error = error or exc
                continue
            return [types[n.name] for n in arg_nodes], [o.dtype for o in graph.outputs]
        raise error  # type: ignore[misc]

    def bind(self, ctx: Any = None, args: Any = None, **kwargs: Any) -> Executor:
        """An executor with arrays bound to the arguments (a dict by name, or a list in
        list_arguments() order). The context may be left out: `s.bind({'A': a})`."""
        if args is None and not isinstance(ctx, Context):
            ctx, args = None, ctx
        if args is None:
            raise ArgumentError("bind: no arguments given; pass a dict of arrays by name")
        return Executor(self, args, **kwargs)

    def simple_bind(self, ctx: Any = None, grad_req: str = "null", **shapes: Any) -> Executor:
        """An executor with zero-filled float32 arrays of the given shapes (and, unless
        grad_req is 'null', zero-filled gradient arrays for every argument)."""
        arg_shapes, _ = self.infer_shape(**shapes)
        names = self.list_arguments()
        args = {n: np.zeros(s, np.float32) for n, s in zip(names, arg_shapes)}
        grads = None if grad_req == "null" else {n: np.zeros_like(a) for n, a in args.items()}
        return Executor(self, args, args_grad=grads, grad_req=grad_req)

    def eval(self, ctx: Any = None, **kwargs: Any) -> list[np.ndarray]:
        """Bind and run once: a list of output arrays."""
        return self.bind(ctx, kwargs).forward()

    # -- persistence ---------------------------------------------------------------------------

    def tojson(self) -> str:
        from .serialize import symbol_to_json

        return symbol_to_json(self)

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.tojson())


def _declared(arg_nodes: list[SymNode], name: str) -> tuple | None:
    for n in arg_nodes:
        if n.name == name and n.attrs.get("shape") is not None:
            return tuple(n.attrs["shape"])
    return None


def _shape_tuple(shape: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    result = []
    for d in shape:
        if d is not None and (not isinstance(d, numbers.Integral) or isinstance(d, bool)):
            raise GraphTypeError(f"shape must be a tuple of integers, got {shape!r}")
        result.append(None if d is None else int(d))
    return tuple(result)


def _by_name(names: list[str], args: tuple, kwargs: dict, what: str) -> dict[str, Any]:
    if len(args) > len(names):
        raise ArgumentError(
            f"{what}: {len(args)} positional values for {len(names)} arguments {names}"
        )
    given = dict(zip(names, args))
    for key, value in kwargs.items():
        if key not in names:
            raise ArgumentError(f"{what}: unknown argument {key!r}; the arguments are {names}")
        if key in given:
            raise ArgumentError(f"{what}: argument {key!r} given twice")
        given[key] = value
    return given


# ---------------------------------------------------------------------------------------------
# Constructors


def Variable(name: str, shape: Any = None, dtype: Any = None) -> Symbol:
    """A named input. `shape` and `dtype` are optional; when given, calls are checked."""
    if not isinstance(name, str) or not name:
        raise ArgumentError(f"Variable name must be a non-empty string, got {name!r}")
    attrs: dict[str, Any] = {}
    if shape is not None:
        shape = _shape_tuple((shape,) if not isinstance(shape, tuple) else (shape,))
        if any(d is not None and d < 0 for d in shape):
            raise ArgumentError(f"Variable {name!r}: negative dimension in shape {shape}")
        attrs["shape"] = shape
    if dtype is not None:
        attrs["dtype"] = dtypes.check(dtype, f"Variable {name!r}")
    return Symbol([SymNode("var", (), attrs, name)])


var = Variable


def Constant(value: Any, name: str | None = None) -> Symbol:
    """A constant value. A Python scalar stays weakly typed (NEP 50): `x + Constant(1)` keeps
    x's dtype."""
    return Symbol([_constant_node(value, name)])


def Group(symbols: Sequence[Symbol]) -> Symbol:
    """One symbol with the outputs of all `symbols`, in order."""
    symbols = list(symbols)
    if not symbols or not all(isinstance(s, Symbol) for s in symbols):
        raise ArgumentError("Group takes a non-empty list of Symbols")
    heads = [h for s in symbols for h in s._heads]
    names = [n for s in symbols for n in s.list_outputs()]
    return Symbol(heads, names)


def clip(x: Any, lo: Any = None, hi: Any = None, name: str | None = None) -> Symbol:
    if lo is None and hi is None:
        raise ArgumentError("clip: one of lo and hi must be given")
    inputs = [x] + [v for v in (lo, hi) if v is not None]
    return _apply("clip", inputs, name, has_lo=lo is not None, has_hi=hi is not None)


# ---------------------------------------------------------------------------------------------
# Specialization: recipe -> typed IR


def specialize(
    heads: Sequence[SymNode], specs: dict[str, tuple[Any, tuple]], concrete: bool = False
) -> Graph:
    """Typed graph for argument specs {name: (dtype, shape pattern)}; in a pattern None is a
    symbolic size (or, with concrete=True, every entry is a known size)."""
    return specialize_values(heads, specs)[0]


def specialize_values(
    heads: Sequence[SymNode], specs: dict[str, tuple[Any, tuple]]
) -> tuple[Graph, dict[int, Node]]:
    """`specialize`, and the IR node of every recipe node (by id)."""
    order = sym_topological(heads)
    values: dict[int, Node] = {}
    args: list[Node] = []
    names = [n.name for n in order if n.op == "var"]
    for node in order:
        if node.op == "var":
            dtype, pattern = specs[node.name]
            arg = build.argument(node.name, names.index(node.name), dtype, pattern)
            args.append(arg)
            values[id(node)] = arg
        elif node.op == "const":
            value = node.attrs["value"]
            values[id(node)] = build.const(value.item() if node.attrs.get("weak") else value)
        else:
            values[id(node)] = SYM_OPS[node.op].build(
                [values[id(i)] for i in node.inputs], node.attrs
            )
    return Graph(tuple(values[id(h)] for h in heads), tuple(args)), values


# ---------------------------------------------------------------------------------------------
# Compiled functions and executors


class Context:
    """Where a computation runs. jitgraph runs on the CPU (all cores)."""

    def __init__(self, device_type: str = "cpu", device_id: int = 0):
        if device_type != "cpu":
            raise ArgumentError(f"jitgraph has no {device_type} backend; use jg.cpu()")
        self.device_type, self.device_id = device_type, device_id

    def __repr__(self) -> str:
        return f"cpu({self.device_id})"


def cpu(device_id: int = 0) -> Context:
    return Context("cpu", device_id)


def gpu(device_id: int = 0) -> Context:
    return Context("gpu", device_id)


class CompiledFunction:
    """A callable for one or more symbols: `f(A=a, B=b)`. One kernel per argument signature
    (dtypes, ranks, size-1 axes); calls with other sizes reuse it. `updates` (variable name,
    recipe) are computed by the same kernel and then written into the argument arrays."""

    def __init__(
        self,
        heads: Sequence[SymNode],
        output_names: list[str],
        single: bool,
        backend: str,
        updates: Sequence[tuple[str, SymNode]] = (),
    ):
        if backend not in runtime.BACKENDS:
            raise ArgumentError(f"unknown backend {backend!r}; choose one of {runtime.BACKENDS}")
        self._heads = list(heads) + [node for _, node in updates]
        self._count = len(heads)
        self.updates = [name for name, _ in updates]
        self.output_names = list(output_names) + [f"update_{name}" for name in self.updates]
        self.single = single
        self.backend = backend
        order = sym_topological(self._heads)
        self._vars = [n for n in order if n.op == "var"]
        self.arguments = Symbol(self._heads).list_arguments()
        missing = [n for n in self.updates if n not in self.arguments]
        if missing:
            raise ArgumentError(
                f"updates: {missing[0]!r} is not an argument of the compiled "
                f"symbols; the arguments are {self.arguments}"
            )
        self._cache: dict[tuple, runtime.Executable] = {}

    def _arrays(self, args: tuple, kwargs: dict) -> list[np.ndarray]:
        given = _by_name(self.arguments, args, kwargs, "call")
        missing = [n for n in self.arguments if n not in given]
        if missing:
            raise ArgumentError(
                f"missing argument{'s' if len(missing) > 1 else ''} "
                f"{', '.join(map(repr, missing))}; the arguments are {self.arguments}"
            )
        arrays = []
        for node in self._vars:
            array = runtime.as_array(given[node.name], node.name)
            _check_declared(node, array)
            arrays.append(array)
        return arrays

    def executable(self, *args: Any, **kwargs: Any) -> runtime.Executable:
        """The specialization these arguments select (compiled on first use)."""
        return self._executable(self._arrays(args, kwargs))

    def _specs(self, arrays: list[np.ndarray]) -> dict[str, tuple]:
        return {
            n.name: (a.dtype, tuple(1 if s == 1 else None for s in a.shape))
            for n, a in zip(self._vars, arrays)
        }

    def _executable(self, arrays: list[np.ndarray]) -> runtime.Executable:
        key = runtime.signature(arrays)
        exe = self._cache.get(key)
        if exe is None:
            graph = specialize(self._heads, self._specs(arrays))
            graph.output_names = tuple(self.output_names)
            exe = runtime.build(
                graph, self.backend, label=self.output_names[0].removesuffix("_output")
            )
            self._cache[key] = exe
        return exe

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        arrays = self._arrays(args, kwargs)
        outputs = self._executable(arrays).run(*arrays)
        if self.updates:
            self._write_updates(args, kwargs, arrays, outputs[self._count :])
            outputs = outputs[: self._count]
        return outputs[0] if self.single else list(outputs)

    def _write_updates(
        self, args: tuple, kwargs: dict, arrays: list[np.ndarray], values: Sequence[np.ndarray]
    ) -> None:
        """Copy the update values into the caller's arrays, after checking all of them (no
        partial update). The values were all computed from the old contents."""
        given = _by_name(self.arguments, args, kwargs, "call")
        by_name = {n.name: a for n, a in zip(self._vars, arrays)}
        for name, value in zip(self.updates, values):
            target = given[name]
            if target is not by_name[name] or not target.flags.writeable:
                raise ArgumentError(
                    f"updates: argument {name!r} must be a writable NumPy array "
                    "(it is updated in place)"
                )
            if not np.can_cast(value.dtype, target.dtype, "same_kind"):
                raise ArgumentError(
                    f"updates: the new value of {name!r} is {value.dtype}, which "
                    f"cannot be stored into the {target.dtype} argument"
                )
            if value.shape != target.shape:
                raise ArgumentError(
                    f"updates: the new value of {name!r} has shape {value.shape}, "
                    f"the argument has shape {target.shape}"
                )
        for name, value in zip(self.updates, values):
            np.copyto(given[name], value, casting="same_kind")

    def source(self, *args: Any, **kwargs: Any) -> str:
        """The generated code (kernel and entry function) for these arguments' signature."""
        return self.executable(*args, **kwargs).source

    def graph(self, *args: Any, **kwargs: Any) -> str:
        """The typed graph for these arguments' signature, as text."""
        from .ir.printer import format_graph

        return format_graph(self.executable(*args, **kwargs).graph)

    def inspect(self, *args: Any, **kwargs: Any):
        """What the compiler did for these arguments: passes, fusion groups and the reasons for
        every fusion declined, the memory plan, the generated code (see jitgraph.report). For
        gradient symbols, also the forward values kept for the backward pass."""
        from .report import build_report

        arrays = self._arrays(args, kwargs)
        exe = self._executable(arrays)
        if exe.plan is None:
            raise ArgumentError("inspect needs a code-generating backend ('numba' or 'python')")
        grads = [n for n in sym_topological(self._heads) if n.op == "grad"]
        if grads:
            from .autodiff import inspect_gradient

            _, values = specialize_values(self._heads, self._specs(arrays))
            return inspect_gradient(exe, [values[id(g.inputs[0])] for g in grads], arrays)
        return build_report(
            exe.input_graph, exe.plan, exe.source, [a.shape for a in arrays], exe.timings
        )


def _check_declared(node: SymNode, array: np.ndarray) -> None:
    declared_dtype = node.attrs.get("dtype")
    if declared_dtype is not None and array.dtype != declared_dtype:
        raise ArgumentError(
            f"argument {node.name!r} has dtype {array.dtype}, but the Variable was "
            f"declared with dtype {declared_dtype}"
        )
    shape = node.attrs.get("shape")
    if shape is not None:
        ok = len(shape) == array.ndim and all(
            d is None or d == s for d, s in zip(shape, array.shape)
        )
        if not ok:
            from .errors import ArgumentShapeError

            raise ArgumentShapeError(
                f"argument {node.name!r} has shape {array.shape}, but the "
                f"Variable was declared with shape {shape}"
            )


def compile(
    symbols: Symbol | Sequence[Symbol],
    backend: str = "numba",
    updates: dict[Any, Any] | None = None,
) -> CompiledFunction:
    """A callable computing `symbols`: an array for a single symbol, a list for a list or Group.

    `updates` ({Variable or name: new value}) are applied in place after the outputs are
    computed, all in the same compiled kernel: every new value is computed from the old
    contents, then copied into the array passed for that Variable (which must be a writable
    NumPy array of the same shape), e.g. `updates={W: W - lr * gW}` for an SGD step."""
    if isinstance(symbols, Symbol):
        heads, names, single = symbols._heads, symbols.list_outputs(), len(symbols._heads) == 1
    else:
        group = Group(list(symbols))
        heads, names, single = group._heads, group.list_outputs(), False
    return CompiledFunction(heads, names, single, backend, _update_list(updates or {}))


def _update_list(updates: dict[Any, Any]) -> list[tuple[str, SymNode]]:
    result = []
    for target, value in updates.items():
        if isinstance(target, Symbol):
            node = target._single("update")
            if node.op != "var":
                raise ArgumentError(
                    f"updates: keys must be Variables or their names, got {target!r}"
                )
            name = node.name
        elif isinstance(target, str):
            name = target
        else:
            raise ArgumentError(f"updates: keys must be Variables or their names, got {target!r}")
        result.append((name, _to_symbol_node(value)))
    return result


GRAD_REQS = ("write", "add", "null")


class Executor:
    """Arrays bound to a symbol's arguments. `forward()` computes the outputs (a list of arrays,
    also kept in `outputs`); arrays of other sizes can be bound and reuse the compiled kernel.

    With `args_grad` ({name: array} or a list in list_arguments() order, None for none),
    `backward(out_grads)` computes the gradients of the outputs (of their sum, or weighted by
    `out_grads`) with respect to those arguments and writes them into the given arrays
    (`grad_req` 'write'), adds them ('add') or skips them ('null'; a str, or one per name)."""

    def __init__(
        self,
        symbol: Symbol,
        args: Any,
        backend: str = "numba",
        args_grad: Any = None,
        grad_req: Any = "write",
    ):
        self._symbol = symbol
        self._backend = backend
        self._fn = CompiledFunction(symbol._heads, symbol.list_outputs(), False, backend)
        names = self._fn.arguments
        given = self._by_name(args, "bind", "arguments")
        missing = [n for n in names if n not in given]
        if missing:
            raise ArgumentError(
                f"bind: missing argument{'s' if len(missing) > 1 else ''} "
                f"{', '.join(map(repr, missing))}; the arguments are {names}"
            )
        self.arg_dict = {n: runtime.as_array(given[n], n) for n in names}
        self.arg_arrays = [self.arg_dict[n] for n in names]
        self.outputs: list[np.ndarray] | None = None
        self.grad_dict = self._grad_arrays(args_grad)
        self.grad_req = self._grad_reqs(grad_req)
        self._backward_fns: dict[bool, CompiledFunction] = {}

    def _by_name(self, values: Any, what: str, kind: str) -> dict[str, Any]:
        names = self._fn.arguments
        if isinstance(values, dict):
            return _by_name(names, (), values, what)
        if isinstance(values, (list, tuple)):
            return _by_name(names, tuple(values), {}, what)
        raise ArgumentError(
            f"{what}: {kind} must be a dict by name or a list, got {type(values).__name__}"
        )

    def _grad_arrays(self, args_grad: Any) -> dict[str, np.ndarray]:
        if args_grad is None:
            return {}
        given = {
            k: v for k, v in self._by_name(args_grad, "bind", "args_grad").items() if v is not None
        }
        for name, array in given.items():
            if not isinstance(array, np.ndarray) or not array.flags.writeable:
                raise ArgumentError(f"bind: args_grad[{name!r}] must be a writable NumPy array")
            if array.dtype.kind != "f" or self.arg_dict[name].dtype.kind != "f":
                raise ArgumentError(
                    f"bind: argument {name!r} ({self.arg_dict[name].dtype}) "
                    f"cannot have a gradient array of dtype {array.dtype}: "
                    "only floating-point arguments have gradients"
                )
        return given

    def _grad_reqs(self, grad_req: Any) -> dict[str, str]:
        if isinstance(grad_req, str):
            reqs = dict.fromkeys(self.grad_dict, grad_req)
        else:
            reqs = {
                **dict.fromkeys(self.grad_dict, "write"),
                **self._by_name(grad_req, "bind", "grad_req"),
            }
        for name, req in reqs.items():
            if req not in GRAD_REQS:
                raise ArgumentError(
                    f"bind: grad_req {req!r} for {name!r}; choose one of {GRAD_REQS}"
                )
            if req != "null" and name not in self.grad_dict:
                raise ArgumentError(
                    f"bind: grad_req {req!r} for {name!r}, which has no array in args_grad"
                )
        return reqs

    def forward(self, is_train: bool = False, **kwargs: Any) -> list[np.ndarray]:
        """Compute the outputs. `is_train` is accepted for MXNet compatibility (no op behaves
        differently in training yet); new argument arrays may be given by name."""
        for name, value in kwargs.items():
            if name not in self.arg_dict:
                raise ArgumentError(
                    f"forward: unknown argument {name!r}; the arguments are {list(self.arg_dict)}"
                )
            self.arg_dict[name] = runtime.as_array(value, name)
        self.arg_arrays = [self.arg_dict[n] for n in self._fn.arguments]
        self.outputs = self._fn(**self.arg_dict)
        return self.outputs

    def backward(self, out_grads: Any = None) -> None:
        """Gradients of the outputs with respect to the arguments in `args_grad`, written into
        those arrays per `grad_req`. `out_grads`: one array per output (default: ones, the
        gradient of the outputs' sum). Runs one fused kernel (recomputing what it needs of
        the forward pass)."""
        if self.outputs is None:
            raise ArgumentError("backward: call forward(is_train=True) first")
        wanted = [n for n in self._fn.arguments if self.grad_req.get(n, "null") != "null"]
        if not wanted:
            return
        seeds = self._out_grads(out_grads)
        fn = self._backward_fn(wanted, seeds is not None)
        extra = {f"_head_grad{i}": s for i, s in enumerate(seeds or ())}
        grads = fn(**self.arg_dict, **extra)
        for name, g in zip(wanted, grads):
            target = self.grad_dict[name]
            if target.shape != g.shape:
                raise ArgumentError(
                    f"backward: args_grad[{name!r}] has shape {target.shape}, the "
                    f"gradient has shape {g.shape}"
                )
            if self.grad_req[name] == "add":
                target += g
            else:
                np.copyto(target, g, casting="same_kind")

    def _out_grads(self, out_grads: Any) -> list[np.ndarray] | None:
        if out_grads is None:
            return None
        items = out_grads if isinstance(out_grads, (list, tuple)) else [out_grads]
        if len(items) != len(self.outputs):
            raise ArgumentError(f"backward: {len(items)} out_grads for {len(self.outputs)} outputs")
        return [runtime.as_array(g, f"out_grads[{i}]") for i, g in enumerate(items)]

    def _backward_fn(self, wanted: list[str], seeded: bool) -> CompiledFunction:
        key = (tuple(wanted), seeded)
        fn = self._backward_fns.get(key)
        if fn is None:
            heads = self._symbol._heads
            seeds = [Variable(f"_head_grad{i}") for i in range(len(heads))] if seeded else None
            grads = self._symbol.grad(wanted, head_grads=seeds)
            fn = compile(grads, self._backend)
            self._backward_fns[key] = fn
        return fn

    @property
    def grad_arrays(self) -> list[np.ndarray | None]:
        """Gradient arrays in list_arguments() order (None where there is none)."""
        return [self.grad_dict.get(n) for n in self._fn.arguments]

    @property
    def output_dict(self) -> dict[str, np.ndarray]:
        if self.outputs is None:
            raise ArgumentError("output_dict: call forward() first")
        return dict(zip(self._symbol.list_outputs(), self.outputs))
