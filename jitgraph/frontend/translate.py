"""The translator: walks a function's ast and builds IR, inlining helper functions.

Statements run at compile time over the value domain of values.py: values known at compile time
are computed, everything else becomes IR. `if` on a compile-time value translates only the taken
branch; `if` on a runtime scalar translates both and merges with `where`; `for` over a range known
at compile time is unrolled. A failed construct is recorded as a problem and gives POISON, so
translation goes on and one compile reports every problem.
"""

from __future__ import annotations

import ast
import builtins
import operator
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import GraphIndexError, GraphShapeError, GraphTypeError
from ..ir import build, dtypes
from ..ir import dims as D
from ..ir.node import Node
from ..ir.ops import Op
from . import builtins_api, numpy_api
from .check import UNSUPPORTED, check_function
from .errors import Problem, ProblemKind, Problems
from .loops import BranchTranslation, Dynamic, LoopTranslation, RuntimeRange
from .source import FunctionSource, function_source, problem_at
from .values import (
    JIT_TYPES,
    POISON,
    ArrayObject,
    LocalFunction,
    Unbound,
    Unsupported,
    getitem_view,
    is_number,
    is_size,
    strong,
    to_node,
    wrap,
)

MAX_UNROLL = 64          # iterations of one loop
MAX_TOTAL_UNROLL = 4096  # iterations of all loops of one compile
_LOOP_HINT = ("jitgraph unrolls `for` loops over range() with bounds known at compile time; "
              "vectorize the loop body with array operations")


class NeedStatic(Exception):
    """A Python scalar argument is used where a compile-time value is needed (a shape, an index,
    a range bound): the caller re-specializes with these arguments static."""

    def __init__(self, names: set[str]):
        super().__init__(", ".join(sorted(names)))
        self.names = names


class UserRaise(Exception):
    """A `raise` reached at compile time: the user's function raises for these arguments."""

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


@dataclass
class Frame:
    """One activation of a function being translated (the jitted one or an inlined helper)."""

    source: FunctionSource
    env: dict[str, Any]
    outer: Frame | None = None        # the defining scope of a nested def
    returned: bool = False
    result: Any = None
    jump: str | None = None             # 'break' / 'continue' pending in an unrolled loop
    runtime_depth: int = 0              # nesting of `if` decided at run time and runtime loops
    runtime_what: list[str] = field(default_factory=list)  # their descriptions, innermost last
    cached_globals: dict[str, Any] = field(default_factory=dict)


_BINOPS: dict[type, tuple[Op | None, Callable]] = {
    ast.Add: (Op.ADD, operator.add), ast.Sub: (Op.SUB, operator.sub),
    ast.Mult: (Op.MUL, operator.mul), ast.Div: (Op.DIV, operator.truediv),
    ast.FloorDiv: (Op.FLOORDIV, operator.floordiv), ast.Mod: (Op.MOD, operator.mod),
    ast.Pow: (Op.POW, operator.pow), ast.MatMult: (None, operator.matmul),
    ast.BitAnd: (Op.AND, operator.and_), ast.BitOr: (Op.OR, operator.or_),
    ast.BitXor: (Op.XOR, operator.xor),
}
_SIZE_OPS = {ast.Add: D.add, ast.Sub: D.sub, ast.Mult: D.mul, ast.FloorDiv: D.floordiv}
_COMPARE: dict[type, tuple[Op, Callable]] = {
    ast.Eq: (Op.EQ, operator.eq), ast.NotEq: (Op.NE, operator.ne), ast.Lt: (Op.LT, operator.lt),
    ast.LtE: (Op.LE, operator.le), ast.Gt: (Op.GT, operator.gt), ast.GtE: (Op.GE, operator.ge),
}
# Types whose operators are safe to apply at compile time (Python's and NumPy's own code).
_SAFE_STATIC = (bool, int, float, str, tuple, list, type(None), np.generic, np.dtype, range)


class Translator(LoopTranslation, BranchTranslation):
    """Translates one specialization. `weak_args`: runtime Python-scalar argument nodes, by name
    (a value derived only from them can be made static by re-specializing)."""

    def __init__(self, weak_args: dict[Node, str]):
        self.problems = Problems()
        self.locations: dict[Node, Any] = {}
        self.weak_args = weak_args
        self.frame: Frame | None = None
        self.inlining: list[Any] = []
        self.checked: set[Any] = set()
        self.unrolled = 0
        self.viewed: list[Node] = []  # views evaluated (see locate)
        self.current_site = "an index"  # the subscript being translated, for runtime errors

    # -- entry points ------------------------------------------------------------------------

    def run(self, source: FunctionSource, env: dict[str, Any], outer: Frame | None = None) -> Any:
        """Translate the body of `source` with parameters bound in `env`; its return value."""
        if source.tree not in self.checked:
            self.checked.add(source.tree)
            for problem in check_function(source):
                self.problems.add(problem)
        saved = self.frame
        self.frame = Frame(source, env, outer)
        try:
            self.exec_block(source.tree.body)
            return self.frame.result
        finally:
            self.frame = saved

    def report(self, node: ast.AST, error: Unsupported) -> None:
        self.problems.add(problem_at(self.frame.source, error.node or node, error.message,
                                     error.hint, error.kind))

    # -- statements --------------------------------------------------------------------------

    def exec_block(self, statements: Iterable[ast.stmt]) -> None:
        for statement in statements:
            if self.frame.returned or self.frame.jump:
                return
            self.exec_statement(statement)

    def exec_statement(self, node: ast.stmt) -> None:
        if type(node) in UNSUPPORTED:
            self.poison_targets(node)  # reported by the pre-pass; later uses stay quiet
            return
        handler = getattr(self, "stmt_" + type(node).__name__, None)
        try:
            if handler is None:
                raise Unsupported(f"'{type(node).__name__}' statements are not supported")
            handler(node)
        except Unsupported as error:
            self.report(node, error)
        except (GraphShapeError, GraphIndexError, GraphTypeError) as error:
            self.report(node, _graph_problem(error))

    def poison_targets(self, node: ast.AST) -> None:
        for inner in ast.walk(node):
            if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
                self.bind(inner.id, POISON)

    def stmt_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant):
            return  # a docstring or a bare constant
        self.eval(node.value)

    def stmt_Pass(self, node: ast.Pass) -> None:
        pass

    def stmt_Assign(self, node: ast.Assign) -> None:
        value = self.eval(node.value)
        for target in node.targets:
            self.assign(target, value)

    def stmt_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.assign(node.target, self.eval(node.value))

    def stmt_AugAssign(self, node: ast.AugAssign) -> None:
        value = self.eval(node.value)
        target = node.target
        if isinstance(target, ast.Name):
            current = self.lookup(target.id, target)
            if isinstance(current, ArrayObject) and value is not POISON:
                self.write_whole(current, self.binop(node.op, current, value), target)
            else:
                self.bind(target.id, self.binop(node.op, current, value))
        elif isinstance(target, ast.Subscript):
            obj, key = self.eval(target.value), self.eval_key(target.slice)
            if obj is POISON or value is POISON or key is POISON:
                return
            self.current_site = self.site(target)
            current = self.subscript(obj, key)
            # An element (x[i, j]) is a NumPy scalar: `x[i] op= v` is `x[i] = x[i] op v`, cast
            # back as setitem casts (unsafe). A region is an array: the ufunc writes into it
            # with out= semantics (same_kind casting).
            in_place = not (isinstance(current, Node) and current.ndim == 0
                            and self.is_element(obj, key))
            self.store_item(obj, key, self.binop(node.op, current, value), target,
                            in_place=in_place)

    def stmt_Return(self, node: ast.Return) -> None:
        if self.frame.runtime_depth:
            raise Unsupported(f"return inside {self.runtime_context()} is not supported yet",
                              "assign the result to a variable and return it afterwards")
        self.frame.result = None if node.value is None else self.eval(node.value)
        self.frame.returned = True

    def stmt_If(self, node: ast.If) -> None:
        test = self.eval(node.test)
        if test is POISON:
            return
        truth = self.truth(test)
        if isinstance(truth, bool):
            self.exec_block(node.body if truth else node.orelse)
        else:
            self.runtime_if(node, truth)

    def runtime_context(self) -> str:
        kinds = self.frame.runtime_what
        return kinds[-1] if kinds else "an `if` decided at run time"

    def stmt_For(self, node: ast.For) -> None:
        iterable = self.eval(node.iter)
        if iterable is POISON:
            return
        runtime = self.runtime_bounds(iterable)
        if runtime is not None:
            self.runtime_loop(node, *runtime)
            return
        try:
            items = self.iterate(iterable)
        except Unsupported as error:
            error.node = error.node or node.iter
            raise
        if len(items) > MAX_UNROLL or self.unrolled + len(items) > MAX_TOTAL_UNROLL:
            raise Unsupported(f"a loop of {len(items)} iterations is too long to unroll "
                              f"(the limit is {MAX_UNROLL})", _LOOP_HINT, node=node.iter)
        self.unrolled += len(items)
        for item in items:
            self.assign(node.target, item)
            self.exec_block(node.body)
            jump, self.frame.jump = self.frame.jump, None
            if jump == "break" or self.frame.returned:
                break

    def runtime_bounds(self, iterable: Any) -> tuple[RuntimeRange, Any] | None:
        """(range, array iterated or None) for a loop the kernel runs; None to unroll."""
        if isinstance(iterable, RuntimeRange):
            return iterable, None
        if isinstance(iterable, range) and len(iterable) > MAX_UNROLL:
            return RuntimeRange(*(build.const(v, np.int64) for v in (
                iterable.start, iterable.stop, iterable.step))), None
        if isinstance(iterable, (ArrayObject, Node)):
            node = self.node(iterable)
            if node.ndim and not isinstance(node.shape[0], int):
                stop = build.cast(build.size(node.shape[0]), np.int64)
                start, step = build.const(0, np.int64), build.const(1, np.int64)
                return RuntimeRange(start, stop, step), iterable
        return None

    def stmt_While(self, node: ast.While) -> None:
        test = self.eval(node.test)
        if test is POISON:
            return
        truth = self.truth(test)
        if isinstance(truth, bool):
            if not truth:
                if node.orelse:
                    self.exec_block(node.orelse)
                return
        self.runtime_loop(node, None)

    def stmt_Break(self, node: ast.Break) -> None:
        self._jump("break")

    def stmt_Continue(self, node: ast.Continue) -> None:
        self._jump("continue")

    def _jump(self, kind: str) -> None:
        if self.frame.runtime_depth:
            raise Unsupported(f"{kind} inside {self.runtime_context()} is not supported yet",
                              "use a while loop whose condition says when to stop, or "
                              "compute a mask and use np.where")
        self.frame.jump = kind

    def stmt_Assert(self, node: ast.Assert) -> None:
        test = self.eval(node.test)
        if test is POISON:
            return
        truth = self.truth(test)
        if not isinstance(truth, bool):
            raise Unsupported("assert on a value known only at run time is not supported yet",
                              "check the inputs before calling the compiled function")
        if not truth and self.frame.runtime_depth == 0:
            message = ast.unparse(node.msg) if node.msg is not None else ast.unparse(node.test)
            loc = self.frame.source.location(node)
            raise UserRaise(AssertionError(f"{message} (assert at {loc}, checked at compile "
                                           "time for these arguments)"))

    def stmt_Raise(self, node: ast.Raise) -> None:
        if self.frame.runtime_depth:
            raise Unsupported(f"raise inside {self.runtime_context()} is not supported yet",
                              "validate the inputs before calling the compiled function")
        raise UserRaise(self.user_exception(node))

    def stmt_FunctionDef(self, node: ast.FunctionDef) -> None:
        """A nested def: its defaults are evaluated now, as Python does."""
        spec = node.args
        positional = spec.posonlyargs + spec.args
        defaults = {a.arg: self.eval(d) for a, d in zip(positional[::-1], spec.defaults[::-1])}
        defaults.update({a.arg: self.eval(d) for a, d in zip(spec.kwonlyargs, spec.kw_defaults)
                         if d is not None})
        self.bind(node.name, LocalFunction(node, self.frame, defaults))

    # -- assignment --------------------------------------------------------------------------

    def bind(self, name: str, value: Any) -> None:
        self.frame.env[name] = value

    def assign(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            self.unpack(target, value)
        elif isinstance(target, ast.Subscript):
            obj, key = self.eval(target.value), self.eval_key(target.slice)
            if POISON not in (obj, key, value):
                self.current_site = self.site(target)
                self.store_item(obj, key, value, target)
        # attribute and starred targets are reported by the pre-pass

    def unpack(self, target: ast.Tuple | ast.List, value: Any) -> None:
        if value is POISON:
            items = [POISON] * len(target.elts)
        else:
            items = self.iterate(value)
        if len(items) != len(target.elts):
            raise Unsupported(f"cannot unpack {len(items)} values into {len(target.elts)} names",
                              kind="shape")
        for element, item in zip(target.elts, items):
            self.assign(element, item)

    def writable(self, obj: Any, node: ast.AST) -> ArrayObject:
        if not isinstance(obj, ArrayObject):
            raise Unsupported(f"cannot assign into {_describe(obj)}: only arrays support item "
                              "assignment", node=node)
        reason = obj.readonly_reason()
        if reason:
            raise Unsupported(f"cannot write into this array: {reason}", node=node)
        return obj

    def store_item(self, obj: Any, key: Any, value: Any, node: ast.AST,
                   in_place: bool = False) -> None:
        """`obj[key] = value` with NumPy semantics: every name bound to obj sees the change."""
        target = self.writable(obj, node)
        if value is POISON:
            return
        base = target.read()
        value_node = self.node(value)
        items = key if isinstance(key, tuple) else (key,)
        if any(self.runtime_item(item) for item in items):
            view = self.key_view(base, key)
            region = view.read(base).shape
            if in_place:
                value_node = self.same_kind(self.fit_output(value_node, region), base.dtype)
            value_node = _drop_leading_ones(value_node, len(region))
            self.assign_array(target, view.write(base, value_node))
            return
        static_key = self.index_key(base, key)
        if in_place:
            region = build.getitem(base, static_key).shape
            value_node = self.same_kind(self.fit_output(value_node, region), base.dtype)
        if any(item is None for item in static_key):
            # x[:, None] = v: v broadcasts to the region with its new axes, which setitem (whose
            # region has none) must not see: the view's write squeezes them out.
            region = build.getitem(base, static_key).shape
            placed = build.broadcast_to(_drop_leading_ones(value_node, len(region)), region)
            self.assign_array(target, getitem_view(base, static_key).write(base, placed))
            return
        self.assign_array(target, build.setitem(base, static_key, value_node))

    def is_element(self, obj: Any, key: Any) -> bool:
        """True if `obj[key]` is one element (a NumPy scalar, not a 0-d array): every axis is
        indexed by an integer, with no `...`, None or slice (`x[()]` of a 0-d array too)."""
        if not isinstance(obj, ArrayObject):
            return False
        items = key if isinstance(key, tuple) else (key,)
        return (len(items) == obj.read().ndim
                and all(is_size(item) or isinstance(item, (Node, np.integer)) for item in items))

    def write_whole(self, obj: ArrayObject, value: Any, node: ast.AST) -> None:
        """`x += y` on an array: x's object is updated in place (its shape and dtype stay)."""
        target = self.writable(obj, node)
        if value is POISON:
            return
        current, new = target.read(), self.node(value)
        fitted = self.same_kind(self.fit_output(new, current.shape), current.dtype)
        self.assign_array(target, fitted)

    @staticmethod
    def fit_output(new: Node, shape: tuple) -> Node:
        """An in-place result `new` (x op y, broadcast) as x's `shape`, NumPy's out= rule: the
        broadcast shape must be x's. Sizes that only the call knows (x.0 against 3) become
        runtime checks; what no call can satisfy is rejected now, as NumPy would reject it."""
        try:
            if new.ndim > len(shape):
                raise GraphShapeError("more dimensions than the output")
            return build.broadcast_to(new, shape)
        except GraphShapeError:
            raise Unsupported(f"non-broadcastable output operand with shape "
                              f"({D.format_shape(shape)}) doesn't match the broadcast "
                              f"shape ({D.format_shape(new.shape)})", kind="shape") from None

    @staticmethod
    def same_kind(value: Node, dtype: np.dtype) -> Node:
        """In-place operators cast the result back with NumPy's 'same_kind' rule."""
        if value.dtype != dtype and not np.can_cast(value.dtype, dtype, "same_kind"):
            raise Unsupported(f"Cannot cast ufunc output from {value.dtype} to {dtype} with "
                              "casting rule 'same_kind' (NumPy raises this too)",
                              "write x = x <op> y to get a new array of the wider type",
                              kind="type")
        return build.cast(value, dtype) if value.dtype != dtype or value.weak else value

    # -- runtime if ----------------------------------------------------------------------------

    def where_if(self, node: ast.If, cond: Node) -> None:
        """Both branches translated; each variable and array they change merged with where()."""
        frame = self.frame
        roots = self.live_roots()
        before_env, before = dict(frame.env), {obj: obj.value for obj in roots}
        frame.runtime_depth += 1
        try:
            self.exec_block(node.body)
            then_env, then_vals = frame.env, {obj: obj.value for obj in roots}
            frame.env = dict(before_env)
            for obj in roots:
                obj.value = before[obj]
            self.exec_block(node.orelse)
        finally:
            frame.runtime_depth -= 1
        for obj in roots:
            if then_vals[obj] is not obj.value:
                obj.value = build.where(cond, then_vals[obj], obj.value)
        else_env = frame.env
        for name in set(then_env) | set(else_env):
            a, b = then_env.get(name, Unbound(name)), else_env.get(name, Unbound(name))
            frame.env[name] = self.merge(name, cond, a, b, before_env.get(name), node)

    def merge(self, name: str, cond: Node, a: Any, b: Any, before: Any, node: ast.If) -> Any:
        if a is b:
            return a
        if POISON in (a, b):
            return POISON
        if isinstance(a, Unbound) or isinstance(b, Unbound):
            return Unbound(name)
        if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
            return tuple(self.merge(name, cond, x, y, None, node) for x, y in zip(a, b))
        if not (_mergeable(a) and _mergeable(b)):
            raise Unsupported(f"variable {name!r} gets values of different kinds in the branches "
                              "of an `if` decided at run time; this is not supported yet",
                              "make both branches assign arrays or numbers", node=node.test)
        x, y = to_node(a), to_node(b)
        if x.shape != y.shape:
            raise Unsupported(f"variable {name!r} gets arrays of different shapes "
                              f"({D.format_shape(x.shape)}) and ({D.format_shape(y.shape)}) in "
                              "the branches of an `if` decided at run time", node=node.test)
        merged = build.where(cond, x, y)
        if not isinstance(a, ArrayObject) and not isinstance(b, ArrayObject):
            return merged
        result = ArrayObject(merged)
        if any(isinstance(v, ArrayObject) and v is before for v in (a, b)) or before is not None:
            result.writable = False
            result.why_readonly = ("it is one of two arrays chosen by a condition known only at "
                                   "run time; call .copy() first")
        return result

    def live_roots(self) -> list[ArrayObject]:
        """Base array objects reachable from any name in scope (their writes may need merging)."""
        found: dict[int, ArrayObject] = {}
        frames: list[Frame] = []
        frame = self.frame
        while frame is not None:
            frames.append(frame)
            frame = frame.outer
        stack = [v for f in frames + self._callers() for v in f.env.values()]
        while stack:
            value = stack.pop()
            if isinstance(value, ArrayObject):
                root = value.root()
                found.setdefault(id(root), root)
            elif isinstance(value, (tuple, list)):
                stack.extend(value)
        return list(found.values())

    def _callers(self) -> list[Frame]:
        return [entry[1] for entry in self.inlining if entry[1] is not None]

    # -- expressions ---------------------------------------------------------------------------

    def eval(self, node: ast.expr) -> Any:
        if type(node) in UNSUPPORTED:
            return POISON
        handler = getattr(self, "expr_" + type(node).__name__, None)
        try:
            if handler is None:
                raise Unsupported(f"'{type(node).__name__}' expressions are not supported")
            value = handler(node)
        except Unsupported as error:
            self.report(node, error)
            return POISON
        except (GraphShapeError, GraphIndexError, GraphTypeError) as error:
            self.report(node, _graph_problem(error))
            return POISON
        if isinstance(value, Node) and value.ndim:
            value = ArrayObject(value)  # a fresh array: it gets an identity
        self.locate(value, node)
        return value

    def locate(self, value: Any, node: ast.AST) -> None:
        if isinstance(value, ArrayObject) and value.base is not None:
            try:  # a view's node carries its checks (a reshape's sizes): kept if unused
                self.viewed.append(value.read())
            except Unsupported:
                pass
        if isinstance(value, ArrayObject) and value.base is None:
            value = value.value
        if isinstance(value, Node) and value not in self.locations:
            self.locations[value] = self.frame.source.location(node)

    def expr_Constant(self, node: ast.Constant) -> Any:
        return node.value

    def expr_Name(self, node: ast.Name) -> Any:
        value = self.lookup(node.id, node)
        if isinstance(value, Unbound) and value.why == "loop":
            raise Unsupported(f"{node.id!r} is assigned only inside a loop with a runtime trip "
                              "count", "assign it before the loop")
        if isinstance(value, Unbound):
            raise Unsupported(f"{node.id!r} is assigned in only one branch of an `if` decided at "
                              "run time", "assign it in both branches (or before the if)")
        return value

    def expr_Tuple(self, node: ast.Tuple) -> Any:
        return tuple(self.eval(e) for e in node.elts)

    def expr_List(self, node: ast.List) -> Any:
        return [self.eval(e) for e in node.elts]

    def expr_Slice(self, node: ast.Slice) -> Any:
        parts = [None if p is None else self.eval(p) for p in (node.lower, node.upper, node.step)]
        return POISON if POISON in parts else slice(*parts)

    def expr_Attribute(self, node: ast.Attribute) -> Any:
        return self.attribute(self.eval(node.value), node.attr)

    def expr_Subscript(self, node: ast.Subscript) -> Any:
        value, key = self.eval(node.value), self.eval_key(node.slice)
        if value is POISON or key is POISON:
            return POISON
        self.current_site = self.site(node)
        return self.subscript(value, key)

    def eval_key(self, node: ast.expr) -> Any:
        key = self.eval(node)
        if isinstance(key, tuple) and any(k is POISON for k in key):
            return POISON
        return key

    def expr_BinOp(self, node: ast.BinOp) -> Any:
        return self.binop(node.op, self.eval(node.left), self.eval(node.right))

    def expr_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.eval(node.operand)
        if value is POISON:
            return POISON
        if isinstance(node.op, ast.Not):
            truth = self.truth(value)
            return (not truth) if isinstance(truth, bool) else build.elementwise(Op.NOT, truth)
        if isinstance(node.op, ast.UAdd):
            return value
        if _is_static(value) and is_number(value):
            return -value if isinstance(node.op, ast.USub) else ~value
        if isinstance(node.op, ast.USub):
            if isinstance(value, D.DimExpr):
                return D.mul(value, -1)
            return wrap(build.elementwise(Op.NEG, self.node(value)))
        x = self.node(value)
        if x.dtype.kind != "b":
            raise Unsupported("~ on integers (bitwise not) is not supported yet",
                              "use ~ on boolean arrays only")
        return wrap(build.elementwise(Op.NOT, x))

    def expr_BoolOp(self, node: ast.BoolOp) -> Any:
        result = self.eval(node.values[0])
        for operand in node.values[1:]:
            if result is POISON:
                return POISON
            truth = self.truth(result)
            is_and = isinstance(node.op, ast.And)
            if isinstance(truth, bool):
                if truth == is_and:
                    result = self.eval(operand)
                continue
            other = self.node(self.eval(operand))
            result = (build.where(truth, other, self.node(result)) if is_and
                      else build.where(truth, self.node(result), other))
        return result

    def expr_Compare(self, node: ast.Compare) -> Any:
        left = self.eval(node.left)
        result: Any = True
        for op, right_node in zip(node.ops, node.comparators):
            right = self.eval(right_node)
            if POISON in (left, right):
                return POISON
            pair = self.compare(op, left, right)
            result = pair if result is True else self._and(result, pair)
            left = right
        return result

    def _and(self, a: Any, b: Any) -> Any:
        if isinstance(a, bool) and isinstance(b, bool):
            return a and b
        if a is False or b is False:
            return False
        return build.elementwise(Op.AND, self.node(a), self.node(b))

    def expr_IfExp(self, node: ast.IfExp) -> Any:
        test = self.eval(node.test)
        if test is POISON:
            return POISON
        truth = self.truth(test)
        if isinstance(truth, bool):
            return self.eval(node.body if truth else node.orelse)
        a, b = self.eval(node.body), self.eval(node.orelse)
        if POISON in (a, b):
            return POISON
        return wrap(build.where(truth, self.node(a), self.node(b)))

    def expr_Call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Attribute):
            owner = self.eval(node.func.value)
            if owner is POISON:
                return POISON
            if _is_arraylike(owner):
                return self.call_method(owner, node.func.attr, node)
            function = self.attribute(owner, node.func.attr)
        else:
            function = self.eval(node.func)
        args = [self.eval(a) for a in node.args]
        kwargs = {k.arg: self.eval(k.value) for k in node.keywords if k.arg is not None}
        if function is POISON:
            return POISON
        if POISON in args or POISON in kwargs.values():
            self.check_callable(function)
            return POISON
        return self.call(function, args, kwargs, node)

    def check_callable(self, function: Any) -> None:
        """Report an unsupported callee even when its arguments failed to translate."""
        if numpy_api.lookup(function) is None and builtins_api.lookup(function) is None:
            name = numpy_api.numpy_name(function)
            if name is not None:
                raise Unsupported(f"{name} is not supported yet",
                                  "write it with the supported NumPy functions")

    # -- names and attributes ------------------------------------------------------------------

    def lookup(self, name: str, node: ast.AST) -> Any:
        frame = self.frame
        while frame is not None:
            if name in frame.env:
                return frame.env[name]
            if frame.outer is None:
                break
            frame = frame.outer
        return self.outside(frame, name)

    def outside(self, frame: Frame, name: str) -> Any:
        """A name from the closure, the module or builtins: read, never executed."""
        if name in frame.cached_globals:
            return frame.cached_globals[name]
        source = frame.source
        if name in source.closure:
            value = source.closure[name]
        elif name in source.globals:
            value = source.globals[name]
        elif hasattr(builtins, name):
            value = getattr(builtins, name)
        else:
            raise Unsupported(f"name {name!r} is not defined")
        value = _import_value(name, value)
        frame.cached_globals[name] = value
        return value

    def attribute(self, value: Any, name: str) -> Any:
        if value is POISON:
            return POISON
        if _is_arraylike(value):
            result = numpy_api.attribute(self, value, name)
            if result is None:
                raise Unsupported(f"array attribute .{name} is not supported",
                                  "supported: .shape, .ndim, .size, .dtype, .T and the methods "
                                  "sum, mean, max, astype, reshape, copy, ...")
            return result
        if isinstance(value, types.ModuleType):
            if name in vars(value):
                return _import_value(name, vars(value)[name])
            if value.__name__.startswith("numpy") and hasattr(value, name):
                return getattr(value, name)  # NumPy's lazily loaded submodules
            raise Unsupported(f"module {value.__name__!r} has no attribute {name!r}")
        if isinstance(value, np.dtype) or (isinstance(value, type)
                                           and issubclass(value, np.generic)):
            return getattr(np.dtype(value), name)
        raise Unsupported(f"reading .{name} of {_describe(value)} is not supported",
                          "compiled functions read attributes of arrays, dtypes and modules only")

    # -- operators ---------------------------------------------------------------------------

    def binop(self, op: ast.operator, a: Any, b: Any) -> Any:
        if POISON in (a, b):
            return POISON
        ir_op, python = _BINOPS[type(op)]
        if _is_static(a) and _is_static(b):
            return _static_apply(python, a, b)
        if is_size(a) and is_size(b) and type(op) in _SIZE_OPS:
            return _SIZE_OPS[type(op)](a, b)
        x, y = self.node(a), self.node(b)
        if ir_op is None:
            return wrap(build.matmul(x, y))
        if ir_op in (Op.AND, Op.OR, Op.XOR) and (x.dtype.kind != "b" or y.dtype.kind != "b"):
            raise Unsupported("bitwise operators on integers are not supported yet",
                              "use &, | and ^ on boolean arrays (masks) only")
        return wrap(build.elementwise(ir_op, x, y))

    def compare(self, op: ast.cmpop, a: Any, b: Any) -> Any:
        if isinstance(op, (ast.Is, ast.IsNot)):
            same = a is b
            return same if isinstance(op, ast.Is) else not same
        if isinstance(op, (ast.In, ast.NotIn)):
            if not (_is_static(a) and isinstance(b, (tuple, list, str, range))):
                raise Unsupported("`in` is supported on tuples and lists known at compile "
                                  "time only")
            found = any(x is a or (_is_static(x) and _static_apply(operator.eq, x, a) is True)
                        for x in b) if not isinstance(b, str) else a in b
            return found if isinstance(op, ast.In) else not found
        ir_op, python = _COMPARE[type(op)]
        if isinstance(a, tuple) or isinstance(b, tuple):
            return self.compare_tuples(op, a, b)
        if _is_static(a) and _is_static(b):
            return _static_apply(python, a, b)
        if is_size(a) and is_size(b):
            known = _compare_sizes(type(op), a, b)
            if known is not None:
                return known
        return wrap(build.elementwise(ir_op, self.node(a), self.node(b)))

    def compare_tuples(self, op: ast.cmpop, a: Any, b: Any) -> Any:
        """`x.shape == y.shape`: decided at compile time when it can be, else a runtime bool."""
        if not isinstance(op, (ast.Eq, ast.NotEq)):
            raise Unsupported("only == and != compare tuples in compiled code")
        if not (isinstance(a, tuple) and isinstance(b, tuple)) or len(a) != len(b):
            return isinstance(op, ast.NotEq)
        result: Any = True
        for x, y in zip(a, b):
            result = self._and(result, self.compare(ast.Eq(), x, y))
        if isinstance(op, ast.Eq):
            return result
        return (not result) if isinstance(result, bool) else build.elementwise(Op.NOT, result)

    def truth(self, value: Any) -> bool | Node:
        """Truth value: a Python bool when known at compile time, else a runtime bool scalar."""
        if isinstance(value, D.DimExpr):
            return _compare_sizes(ast.NotEq, value, 0) or build.elementwise(
                Op.NE, build.size(value), 0)
        if _is_static(value) or value is None or isinstance(value, (tuple, list)):
            return bool(value)
        if isinstance(value, (Node, ArrayObject)):
            node = self.node(value)
            if node.ndim and any(d != 1 for d in node.shape):
                raise Unsupported("the truth value of an array with more than one element is "
                                  "ambiguous (NumPy raises ValueError)",
                                  "use np.any(...) / np.all(...), or & and | for masks",
                                  kind="shape")
            if node.ndim:
                node = build.getitem(node, (0,) * node.ndim)
            return node if node.dtype.kind == "b" else build.elementwise(Op.NE, node, 0)
        raise Unsupported(f"cannot use {_describe(value)} as a condition")

    # -- indexing ------------------------------------------------------------------------------

    def subscript(self, value: Any, key: Any) -> Any:
        if isinstance(value, (tuple, list, str, range)):
            return value[self.static(key, "index")]
        base = self.node(value)
        view = self.key_view(base, key)
        result = view.read(base)
        if not isinstance(value, ArrayObject) or result.ndim == 0:
            return wrap(result)
        return ArrayObject(base=value, view=view)

    def key_view(self, base: Node, key: Any):
        """The view `base[key]`: static keys as getitem, runtime integers through at/put."""
        items = key if isinstance(key, tuple) else (key,)
        dynamic = [self.runtime_item(item) for item in items]
        if not any(dynamic):
            return getitem_view(base, self.index_key(base, key))
        # The static key's own checks (too many indices, ...), a runtime index standing as 0,
        # a runtime window as a whole axis.
        build.index_key(base, tuple(item if d is None else 0 if isinstance(d, Dynamic)
                                    else slice(None) for item, d in zip(items, dynamic,
                                                                        strict=True)))
        axes = _key_axes(items, base.ndim)
        resolved = tuple(
            d if d is not None else self.key_item(item, base.shape[axis] if axis is not None
                                                  else None)
            for item, d, axis in zip(items, dynamic, axes, strict=True))
        return self.dynamic_view(base, resolved, self.current_site)

    def index_key(self, base: Node, key: Any) -> tuple:
        """A NumPy basic-indexing key with every entry known at compile time: sizes such as
        `len(x) - 1` become negative indices when they count from the end of that axis."""
        items = key if isinstance(key, tuple) else (key,)
        axes = _key_axes(items, base.ndim)
        return tuple(self.key_item(item, base.shape[axis] if axis is not None else None)
                     for item, axis in zip(items, axes))

    def key_item(self, item: Any, n: Any) -> Any:
        if item is None or item is Ellipsis:
            return item
        if isinstance(item, slice):
            step = self.bound(item.step, None)
            forward = step is None or step > 0
            return slice(self.bound(item.start, n), self.bound(item.stop, n, forward), step)
        if isinstance(item, (ArrayObject, list)) or (isinstance(item, Node) and item.ndim):
            raise Unsupported("advanced indexing (with arrays or lists) is not supported yet",
                              "use basic slices, or np.where(mask, x, y) for masks")
        if isinstance(item, bool):
            raise Unsupported("indexing with a boolean scalar is not supported")
        return self.bound(item, n)

    def bound(self, value: Any, n: Any, end_ok: bool = False) -> int | None:
        """An index or slice bound as a compile-time int. `n - k` on an axis of size n is the
        negative index -k (NumPy reads both alike, even when n < k); `n` itself is accepted as
        the stop of a forward slice (`end_ok`)."""
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, D.DimExpr):
            offset = _offset_from(value, n) if n is not None else None
            if offset is not None and offset < 0:
                return offset
            if offset == 0 and end_ok:
                return None
            raise Unsupported("an index or slice bound computed from array sizes is not "
                              "supported yet (only `n - k` on the axis of size n is)",
                              "use negative indices such as x[:-1] or x[1:-1]")
        if isinstance(value, Node):
            self.demand_static(value, "an index or slice bound")
        raise Unsupported(f"index {_describe(value)} is not supported",
                          "use integers, slices, None and ...", kind="type")

    # -- calls ---------------------------------------------------------------------------------

    def call_method(self, owner: Any, name: str, node: ast.Call) -> Any:
        handler = numpy_api.METHODS.get(name)
        args = [self.eval(a) for a in node.args]
        kwargs = {k.arg: self.eval(k.value) for k in node.keywords if k.arg is not None}
        if POISON in args or POISON in kwargs.values():
            return POISON
        if handler is None:
            raise Unsupported(f"array method .{name}() is not supported yet",
                              "see the list of supported NumPy functions and methods")
        return self.apply(handler, f".{name}", [owner, *args], kwargs)

    def call(self, function: Any, args: list, kwargs: dict, node: ast.Call) -> Any:
        entry = numpy_api.lookup(function)
        if entry is not None:
            return self.apply(entry[1], entry[0], args, kwargs)
        builtin = builtins_api.lookup(function)
        if builtin is not None:
            return self.apply(builtin, f"{getattr(function, '__name__', 'builtin')}", args, kwargs)
        if isinstance(function, type) and issubclass(function, np.generic) or function is np.dtype:
            return self.apply(_scalar_type_call, function.__name__, [function, *args], kwargs)
        if type(function) in JIT_TYPES:
            function = function.python_function
        if isinstance(function, (types.FunctionType, LocalFunction)):
            return self.inline(function, args, kwargs, node)
        name = numpy_api.numpy_name(function)
        if name is not None:
            raise Unsupported(f"{name} is not supported yet",
                              "write it with the supported NumPy functions")
        raise Unsupported(f"calling {_describe(function)} is not supported",
                          "compiled functions call NumPy functions and plain Python functions")

    def apply(self, handler: Callable, name: str, args: list, kwargs: dict) -> Any:
        try:
            bound = _signature(handler).bind(self, *args, **kwargs)
        except TypeError as error:
            raise Unsupported(f"{name}(): {error}", kind="type") from None
        result = handler(*bound.args, **bound.kwargs)
        return wrap(result) if isinstance(result, Node) else result

    def inline(self, function: Any, args: list, kwargs: dict, node: ast.Call) -> Any:
        """A plain Python function's body translated in place, with its own scope."""
        if isinstance(function, LocalFunction):
            tree, outer, identity = function.tree, function.frame, function.tree
            source, defaults = _same_file(function.frame.source, tree), function.defaults
        else:
            source = function_source(function)
            tree, outer, identity = source.tree, None, function.__code__
            defaults = {k: _import_value(k, v) for k, v in source.defaults.items()}
        if any(entry[0] is identity for entry in self.inlining):
            raise Unsupported(f"recursive call of {tree.name!r} cannot be inlined",
                              "rewrite the recursion as a loop with a bound known at compile time")
        env = _bind_parameters(tree, args, kwargs, defaults)
        self.inlining.append((identity, self.frame))
        try:
            return self.run(source, env, outer)
        finally:
            self.inlining.pop()

    def user_exception(self, node: ast.Raise) -> BaseException:
        """The exception a `raise` reached at compile time raises, with the user's location."""
        loc = self.frame.source.location(node)
        exc = node.exc
        cls, message = RuntimeError, ast.unparse(node) if exc is not None else "raise"
        if isinstance(exc, ast.Call) and isinstance(exc.func, ast.Name):
            found = getattr(builtins, exc.func.id, None)
            if isinstance(found, type) and issubclass(found, Exception):
                cls = found
                if len(exc.args) == 1 and isinstance(exc.args[0], ast.Constant):
                    message = str(exc.args[0].value)
        return cls(f"{message} (raised at {loc} for these arguments, found at compile time)")

    # -- helpers for numpy_api / builtins_api (the `cx` they receive) -------------------------

    def node(self, value: Any) -> Node:
        if isinstance(value, (list, tuple)):
            items = [self.node(v) for v in value]
            if all(_is_static(v) for v in value):
                return build.const(np.asarray(value))
            return build.stack(items) if items else build.const(np.zeros(0))
        if isinstance(value, (ArrayObject, Node, D.DimExpr, np.ndarray)) or is_number(value):
            return to_node(value)
        raise Unsupported(f"expected an array or a number, got {_describe(value)}", kind="type")

    def array(self, value: Any) -> Node:
        """An operand as NumPy's np.asarray sees it: Python scalars become strong (int64,
        float64) arrays. Non-ufunc functions (reshape, concatenate, ...) convert this way;
        ufuncs keep Python scalars weak (NEP 50) and use `node`."""
        return strong(self.node(value))

    def is_runtime(self, value: Any) -> bool:
        return isinstance(value, (ArrayObject, Node))

    def static(self, value: Any, what: str, sizes: bool = False) -> Any:
        """A value needed at compile time (axis, shape, bound, ...)."""
        if isinstance(value, (tuple, list)):
            return type(value)(self.static(v, what, sizes) for v in value)
        if isinstance(value, D.DimExpr):
            if sizes:
                return value
            raise Unsupported(f"{what} must be known at compile time, but it depends on array "
                              "sizes (not supported yet)")
        if isinstance(value, (Node, ArrayObject)):
            self.demand_static(self.node(value), what)
        return value

    def demand_static(self, node: Node, what: str) -> None:
        """Raise NeedStatic if `node` is computed from Python-scalar arguments only."""
        names, stack, seen = set(), [node], set()
        while stack:
            current = stack.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            if current.op is Op.VAR:
                if current not in self.weak_args:
                    names = None
                    break
                names.add(self.weak_args[current])
            stack.extend(current.inputs)
        if names:
            raise NeedStatic(names)
        raise Unsupported(f"{what} must be known at compile time; values known only at run time "
                          "are not supported here yet",
                          "compute it from shapes, constants or static arguments")

    def axis(self, value: Any) -> Any:
        return self.static(value, "axis")

    def shape(self, value: Any) -> Any:
        return self.static(value, "shape", sizes=True)

    def dtype(self, value: Any) -> np.dtype | None:
        if value is None:
            return None
        if isinstance(value, (np.dtype, str)) or value in (float, int, bool) or (
                isinstance(value, type) and issubclass(value, np.generic)):
            return dtypes.check(value, "dtype")
        raise Unsupported(f"{_describe(value)} is not a dtype", kind="type")

    def sequence(self, value: Any) -> list:
        if isinstance(value, (tuple, list)):
            return list(value)
        raise Unsupported(f"expected a tuple or list of arrays, got {_describe(value)}",
                          kind="type")

    def iterate(self, value: Any) -> list:
        if isinstance(value, (tuple, list, range)):
            return list(value)
        if isinstance(value, (ArrayObject, Node)):
            node = self.node(value)
            n = node.shape[0] if node.ndim else None
            if not isinstance(n, int):
                raise Unsupported("iterating over an array whose length is known only at run "
                                  "time is not supported yet (loops with runtime bounds)",
                                  _LOOP_HINT)
            return [self.subscript(value, i) for i in range(n)]
        raise Unsupported(f"cannot iterate over {_describe(value)}")

    def loop_bound(self, value: Any) -> int:
        if isinstance(value, D.DimExpr):
            raise Unsupported("loops with runtime bounds are not supported yet: this bound "
                              "depends on an array size", _LOOP_HINT)
        if isinstance(value, (Node, ArrayObject)):
            self.demand_static(self.node(value), "a range() bound")
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise Unsupported(f"range() bound must be an integer, got {_describe(value)}",
                              kind="type")
        return int(value)

    def assign_array(self, target: ArrayObject, new: Node) -> None:
        """Write `new` into `target`; the write's checks (the value fits the region) stay
        even if the array is never read again (see specialize.statement_checks)."""
        target.assign(new)
        self.viewed.append(target.root().value)

    def write(self, obj: Any, new: Node) -> None:
        self.assign_array(self.writable(obj, None), new)

    def unsupported(self, message: str, hint: str = "") -> Unsupported:
        return Unsupported(message, hint)

    def problem(self, kind: ProblemKind, message: str, hint: str = "") -> Unsupported:
        return Unsupported(message, hint, kind)


# ---------------------------------------------------------------------------------------------
# Helpers


_SIGNATURES: dict[Any, Any] = {}


def _signature(handler: Callable):
    import inspect

    sig = _SIGNATURES.get(handler)
    if sig is None:
        sig = _SIGNATURES[handler] = inspect.signature(handler)
    return sig


def _scalar_type_call(cx, kind, value=None):
    """`np.float32(x)`: a cast of an array, or a typed constant of a number."""
    if kind is np.dtype:
        return cx.dtype(value)
    dtype = cx.dtype(kind)
    if value is None:
        value = 0
    if isinstance(value, (ArrayObject, Node, D.DimExpr)):
        return build.cast(cx.node(value), dtype)
    return build.const(np.asarray(cx.static(value, "value")).astype(dtype)[()], dtype)


def _import_value(name: str, value: Any) -> Any:
    """A module-level object as a value: arrays become read-only constants."""
    if isinstance(value, np.ndarray):
        obj = ArrayObject(build.const(value))
        obj.writable = False
        obj.why_readonly = (f"{name!r} is a module-level array; compiled functions do not modify "
                            "globals (use .copy())")
        return obj
    return value


def _is_static(value: Any) -> bool:
    if isinstance(value, (tuple, list)):
        return all(_is_static(v) for v in value)
    return isinstance(value, _SAFE_STATIC) or value is Ellipsis


def _is_arraylike(value: Any) -> bool:
    return isinstance(value, (ArrayObject, Node))


def _mergeable(value: Any) -> bool:
    return isinstance(value, (ArrayObject, Node, D.DimExpr)) or is_number(value)


def _static_apply(python: Callable, a: Any, b: Any) -> Any:
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        if python not in (operator.add, operator.mul, operator.eq, operator.ne):
            raise Unsupported("this operator is not defined for tuples", kind="type")
    try:
        return python(a, b)
    except ZeroDivisionError:
        raise Unsupported("division by zero at compile time (Python raises "
                          "ZeroDivisionError here)", kind="type") from None
    except (TypeError, ValueError, OverflowError) as error:
        raise Unsupported(f"{error}", kind="type") from None


def _compare_sizes(op: type, a: Any, b: Any) -> bool | None:
    """Compare sizes when the answer is known for every size the specialization accepts: equal
    expressions, and argument sizes (never 1: size-1 axes are specialized)."""
    if isinstance(a, int) and isinstance(b, int):
        return _COMPARE[op][1](a, b)
    if a == b and op in (ast.Eq, ast.NotEq, ast.LtE, ast.GtE, ast.Lt, ast.Gt):
        return op in (ast.Eq, ast.LtE, ast.GtE)
    arg_dim = next((d for d in (a, b) if isinstance(d, D.DimExpr) and d.op == "arg"), None)
    other = b if arg_dim is a else a
    if arg_dim is not None and other == 1 and op in (ast.Eq, ast.NotEq):
        return op is ast.NotEq
    return None


def _offset_from(d: Any, n: Any) -> int | None:
    """c when size expression d is n + c for a constant c, else None."""
    if d == n:
        return 0
    if not isinstance(d, D.DimExpr) or d.op not in ("add", "sub"):
        return None
    a, b = d.args
    if isinstance(b, int):
        c = _offset_from(a, n)
        return None if c is None else (c + b if d.op == "add" else c - b)
    if d.op == "add" and isinstance(a, int):
        c = _offset_from(b, n)
        return None if c is None else c + a
    return None


def _drop_leading_ones(value: Node, ndim: int) -> Node:
    """value without leading axes of size 1 beyond `ndim` (NumPy's setitem ignores them)."""
    extra = 0
    while value.ndim - extra > ndim and value.shape[extra] == 1:
        extra += 1
    return build.getitem(value, (0,) * extra) if extra else value


def _key_axes(items: tuple, ndim: int) -> list[int | None]:
    """The axis of x that each key item indexes (None for None / ...)."""
    used = sum(1 for item in items if item is not None and item is not Ellipsis)
    axes: list[int | None] = []
    axis = 0
    for item in items:
        if item is None:
            axes.append(None)
        elif item is Ellipsis:
            axes.append(None)
            axis += max(ndim - used, 0)
        else:
            axes.append(axis if axis < ndim else None)
            axis += 1
    return axes


def _bind_parameters(tree: ast.FunctionDef, args: list, kwargs: dict,
                     defaults: dict[str, Any]) -> dict[str, Any]:
    """Python's call binding for an inlined function (positional, keyword, defaults)."""
    spec = tree.args
    positional = [a.arg for a in spec.posonlyargs + spec.args]
    names = positional + [a.arg for a in spec.kwonlyargs]
    if len(args) > len(positional):
        raise Unsupported(f"{tree.name}() takes {len(positional)} positional arguments but "
                          f"{len(args)} were given", kind="type")
    env = dict(zip(positional, args))
    for key, value in kwargs.items():
        if key not in names or key in env:
            reason = "unexpected keyword" if key not in names else "multiple values for"
            raise Unsupported(f"{tree.name}() got {reason} argument {key!r}", kind="type")
        env[key] = value
    for name in names:
        if name not in env:
            if name not in defaults:
                raise Unsupported(f"{tree.name}() missing argument {name!r}", kind="type")
            env[name] = defaults[name]
    return env


def _same_file(source: FunctionSource, tree: ast.FunctionDef) -> FunctionSource:
    return FunctionSource(tree.name, source.filename, tree, source.raw_lines, source.first_line,
                          source.indent, source.globals, source.closure, {})


def _describe(value: Any) -> str:
    if isinstance(value, ArrayObject):
        return "an array"
    if isinstance(value, Node):
        return "a scalar known only at run time"
    if isinstance(value, D.DimExpr):
        return f"the size {D.format_dim(value)}"
    if isinstance(value, types.FunctionType):
        return f"function {value.__qualname__!r}"
    if isinstance(value, type):
        return f"class {value.__qualname__!r}"
    if isinstance(value, (types.BuiltinFunctionType, np.ufunc)):
        return f"{value.__name__!r}"
    return f"{type(value).__name__} {value!r}" if _is_static(value) else type(value).__name__


def _graph_problem(error: Exception) -> Unsupported:
    kind: ProblemKind = "type" if isinstance(error, GraphTypeError) else "shape"
    return Unsupported(str(error), kind=kind)


__all__ = ["Translator", "Unsupported", "NeedStatic", "UserRaise", "Problem"]
