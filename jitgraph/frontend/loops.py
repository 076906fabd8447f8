"""Loops with runtime trip counts and runtime indices, for the translator.

A `for` over a range whose bounds are known only at run time (or too long to unroll) and a
`while` on a runtime condition become LOOP nodes (see ir/control.py). The body is translated
with placeholders standing for what it may change:

1. A first pass gives a placeholder to every name the body assigns that is bound before the
   loop, and to every array reachable from the names in scope (writes through any alias reach
   its array). What the pass leaves unchanged is not carried.
2. Passes repeat until the carried values' types are stable: `t = 0` followed by `t += 0.5`
   in the body carries a float (NumPy would give an int when the loop runs zero times; like
   Numba, the compiled loop gives the type the body produces).
3. The last pass is kept: the body's values become the loop's next values, and after the loop
   the names and arrays read the loop's results.

Problems found in the exploratory passes are discarded (the last pass reports them). Inside a
runtime loop, `return`, `break`, `continue` and `raise` are not supported (the translator says
so at the statement).

Runtime indices: `x[i]`, `x[i, 1:]`, `x[i] = v` with an integer `i` known only at run time
(a loop counter, a scalar argument, a value computed from data) read and write through
`at` / `put` with the index wrapped and checked at run time.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ir import build, control, dtypes
from ..ir import dims as D
from ..ir.node import Node
from .errors import Problems
from .values import (
    POISON,
    ArrayObject,
    Unbound,
    Unsupported,
    View,
    is_number,
    to_node,
    weak_scalar,
)

MAX_TYPE_PASSES = 4


@dataclass(frozen=True)
class RuntimeRange:
    """`range(start, stop, step)` with bounds known only at run time (int64 scalars)."""

    start: Node
    stop: Node
    step: Node


@dataclass(frozen=True)
class Dynamic:
    """An integer index known only at run time inside a subscript key."""

    node: Node


@dataclass(frozen=True)
class Carry:
    """The type of one carried value."""

    dtype: np.dtype
    shape: tuple
    weak: bool
    array: bool  # a name bound to an array (rebound in the body), not a scalar


def assigned_names(statements: list[ast.stmt]) -> list[str]:
    """Names a block binds (assignments, augmented assignments, loop targets), in order."""
    found: dict[str, None] = {}
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                found.setdefault(node.id)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                found.setdefault(node.target.id)
    return list(found)


def _is_scalar_value(value: Any) -> bool:
    """A number the loop can carry: a runtime scalar, a Python or NumPy number, a size."""
    return (isinstance(value, Node) and value.ndim == 0) or is_number(value) or isinstance(
        value, D.DimExpr)


class LoopTranslation:
    """Mixed into the Translator: runtime loops and runtime indices."""

    # -- runtime indices -----------------------------------------------------------------------

    def dynamic_view(self, base: Node, key: tuple, site: str) -> View:
        """The view `base[key]` for a key with runtime integer items (`Dynamic`)."""
        from .translate import _key_axes

        axes = _key_axes(key, base.ndim)
        dyn_axes, indices, rest = [], [], []
        for item, axis in zip(key, axes, strict=True):
            if isinstance(item, Dynamic):
                dyn_axes.append(axis)
                indices.append(control.wrap_index(item.node, base.shape[axis], site))
            else:
                rest.append(item)
        rest_key = tuple(rest)
        plain = all(item == slice(None) or item is Ellipsis for item in rest_key)

        def read(b: Node) -> Node:
            picked = control.at(b, indices, dyn_axes)
            return picked if plain else build.getitem(picked, rest_key)

        def write(b: Node, new: Node) -> Node:
            region = new if plain else build.setitem(control.at(b, indices, dyn_axes), rest_key,
                                                     new)
            return control.put(b, region, indices, dyn_axes)

        return View(read, write)

    def runtime_item(self, item: Any) -> Dynamic | None:
        """`item` as a runtime integer index, or None if it is not one."""
        if isinstance(item, ArrayObject) or not isinstance(item, Node) or item.ndim:
            return None
        if item.dtype.kind not in "iu":
            raise Unsupported(f"only integer scalars are valid indices, got a "
                              f"{dtypes.short_name(item.dtype)} scalar", kind="type")
        return Dynamic(item)

    def site(self, node: ast.AST) -> str:
        return f"{ast.unparse(node)} at {self.frame.source.location(node)}"

    # -- runtime loops -------------------------------------------------------------------------

    def runtime_range(self, args: list) -> RuntimeRange:
        """`range(...)` with a bound known only at run time (sizes, scalars, data)."""
        bounds = [self.range_bound(a) for a in args]
        if len(args) == 3:
            step = args[2]
            if not isinstance(step, (int, np.integer)) or isinstance(step, bool):
                raise Unsupported("a range() step known only at run time is not supported",
                                  "use a constant step such as 1 or -1")
            if step == 0:
                raise Unsupported("range() arg 3 must not be zero", kind="shape")
        one = build.const(1, np.int64)
        if len(bounds) == 1:
            return RuntimeRange(build.const(0, np.int64), bounds[0], one)
        return RuntimeRange(bounds[0], bounds[1], bounds[2] if len(bounds) == 3 else one)

    def range_bound(self, value: Any) -> Node:
        if isinstance(value, D.DimExpr):
            return build.cast(build.size(value), np.int64)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return build.const(int(value), np.int64)
        if isinstance(value, Node) and value.ndim == 0 and value.dtype.kind in "iu":
            return build.cast(value, np.int64)
        raise Unsupported(f"range() bound must be an integer, got {_kind(value)}"
                          + (f" of dtype {value.dtype}" if isinstance(value, Node) else ""),
                          kind="type")

    def runtime_loop(self, node: ast.For | ast.While, bounds: RuntimeRange | None,
                     iterate: Any = None) -> None:
        """A loop the kernel runs: see the module docstring. `bounds`: a for loop's range
        (`iterate`: the array iterated over, if any); None for a while loop."""
        if node.orelse:
            raise Unsupported("`else` after a loop with a runtime trip count is not supported",
                              "move the else block after the loop", node=node.orelse[0])
        frame = self.frame
        candidates = [n for n in assigned_names(node.body) if n in frame.env]
        if isinstance(node, ast.For):
            candidates = [n for n in candidates if n not in assigned_names([ast.Expr(node.target)])]
        roots = self.live_roots()
        names: dict[str, Carry] = {}
        for name in candidates:
            value = frame.env[name]
            if value is POISON or isinstance(value, (ArrayObject, Unbound)):
                continue
            if not _is_scalar_value(value):
                continue  # static values the body rebinds: checked in the pass
            n = to_node(value)
            names[name] = Carry(n.dtype, (), n.weak, False)
        carried_roots = {root: _carry_of(root.value) for root in roots}
        for _ in range(MAX_TYPE_PASSES):
            outcome = self.loop_pass(node, bounds, iterate, names, carried_roots, final=False)
            new_names, new_roots = self.carried_types(outcome, names, carried_roots)
            if new_names == names and new_roots == carried_roots:
                break
            names, carried_roots = new_names, new_roots
        else:
            raise Unsupported("the types of the values this loop changes do not settle",
                              node=node)
        self.loop_pass(node, bounds, iterate, names, carried_roots, final=True)

    def carried_types(self, outcome, names: dict[str, Carry], roots: dict[ArrayObject, Carry]):
        """From a pass's outcome: what is carried, with types widened to what the body makes."""
        env_after, bound, roots_after, before_env = outcome
        new_names: dict[str, Carry] = {}
        for name, value in env_after.items():
            if not _bound(name, before_env) or value is POISON:
                continue  # bound by the body only: unbound after the loop
            before = before_env[name]
            if value is bound.get(name, before):
                continue  # unchanged by the body
            old = names.get(name)
            if isinstance(before, ArrayObject) or (old is not None and old.array):
                if not isinstance(value, ArrayObject):
                    raise Unsupported(f"{name!r} is an array before this loop and "
                                      f"{_kind(value)} inside it")
                after = value.read()
                old = old or _carry_of(before.read())
                if not _same_shape(after.shape, old.shape):
                    raise Unsupported(f"array {name!r} changes shape inside a loop with a "
                                      "runtime trip count", "keep its shape the same in every "
                                      "iteration (preallocate, then write into slices)")
                new_names[name] = Carry(_widen(old, after), old.shape, False, True)
                continue
            if not (_is_scalar_value(value) and _is_scalar_value(before)):
                raise Unsupported(f"{name!r} is {_kind(before)} before this loop and "
                                  f"{_kind(value)} inside it; a loop with a runtime trip count "
                                  "can only change numbers and arrays")
            after = to_node(value)
            old = old or _carry_of(to_node(before))
            new_names[name] = Carry(_widen(old, after), (), old.weak and after.weak, False)
        new_roots = {}
        for root, value in roots_after.items():
            if value is not bound.get(root):
                new_roots[root] = roots.get(root) or _carry_of(value)
        return new_names, new_roots

    def loop_pass(self, node, bounds, iterate, names, roots, final: bool):
        """Translate the body once over placeholders for `names` and `roots`."""
        frame = self.frame
        before_env = dict(frame.env)
        before_roots = {root: root.value for root in self.live_roots()}
        saved_problems, saved_unrolled = self.problems, self.unrolled
        if not final:
            self.problems = Problems()
        label = f"line {node.lineno}"
        scope = control.Scope("for" if bounds is not None else "while", label)
        placeholders: dict[Any, Node] = {}
        bound: dict[Any, Any] = {}  # what each carried name / array holds at the body's start
        if bounds is not None:
            index = scope.index_placeholder()
        for name, carry in names.items():
            ph = scope.carry(name, carry.dtype, carry.shape, carry.weak)
            placeholders[name] = ph
            if carry.array:
                obj = ArrayObject(ph)
                obj.writable = False
                obj.why_readonly = (f"{name!r} is rebound to a new array in this loop; writing "
                                    "into it before the rebinding is not supported (copy it "
                                    "first: x = x.copy())")
                frame.env[name] = bound[name] = obj
            else:
                frame.env[name] = bound[name] = ph
        for root, carry in roots.items():
            ph = scope.carry(_root_name(root, before_env), carry.dtype, carry.shape, carry.weak)
            placeholders[root] = bound[root] = ph
            root.value = ph
        cond = None
        frame.runtime_depth += 1
        frame.runtime_what.append("a loop with a runtime trip count")
        try:
            if bounds is not None:
                item = index if iterate is None else self.subscript(iterate, index)
                self.assign(node.target, item)
            else:
                test = self.eval(node.test)
                truth = POISON if test is POISON else self.truth(test)
                if isinstance(truth, bool):
                    raise Unsupported("a while loop whose condition does not change in the "
                                      "loop", node=node.test)
                cond = truth
            self.exec_block(node.body)
        finally:
            frame.runtime_depth -= 1
            frame.runtime_what.pop()
        env_after = dict(frame.env)
        roots_after = {root: root.value for root in roots}
        frame.env.clear()
        frame.env.update(before_env)
        for root, value in before_roots.items():
            root.value = value
        self.problems, self.unrolled = saved_problems, saved_unrolled
        if not final:
            return env_after, bound, roots_after, before_env
        inits, nexts = [], []
        for name, carry in names.items():
            before, after = before_env[name], env_after[name]
            inits.append(_as(carry, before.read() if isinstance(before, ArrayObject)
                             else to_node(before)))
            if after is POISON:
                after = placeholders[name]
            nexts.append(_as(carry, after.read() if isinstance(after, ArrayObject)
                             else to_node(after)))
        for root in roots:
            inits.append(before_roots[root])
            nexts.append(roots_after[root])
        try:
            results = scope.close(
                inits, nexts,
                bounds=(bounds.start, bounds.stop, bounds.step) if bounds is not None else (),
                cond=cond)
        except AssertionError as error:
            raise Unsupported(f"this loop cannot be compiled: {error}", node=node) from None
        for (name, carry), result in zip(names.items(), results, strict=False):
            frame.env[name] = ArrayObject(result) if carry.array else result
        for root, result in zip(roots, results[len(names):], strict=True):
            root.value = result
        # Names the body binds that were unbound before, and the loop variable: Python keeps
        # the last iteration's value; here they are unbound after the loop (an error if read).
        targets = assigned_names([ast.Expr(node.target)]) if bounds is not None else []
        for name in assigned_names(node.body) + targets:
            if not _bound(name, before_env) or name in targets:
                frame.env[name] = Unbound(name, "loop")


def _bound(name: str, env: dict[str, Any]) -> bool:
    """Does `name` hold a value in `env` (not unbound, e.g. by an earlier runtime loop)?"""
    return name in env and not isinstance(env[name], Unbound)


def _same_shape(a: tuple, b: tuple) -> bool:
    """Shapes a carried array may have in successive iterations: equal, or of sizes known only
    at run time (`v = A @ v` needs A.shape[0] == v.shape[0]: checked before the loop)."""
    from .translate import _offset_from

    def may_equal(x: Any, y: Any) -> bool:
        if isinstance(x, int) and isinstance(y, int):
            return x == y
        offset = _offset_from(x, y) if not isinstance(y, int) else None
        return offset is None or offset == 0

    return len(a) == len(b) and all(may_equal(x, y) for x, y in zip(a, b, strict=True))


def _carry_of(node: Node) -> Carry:
    return Carry(node.dtype, node.shape, node.weak, False)


def _widen(old: Carry, new: Node) -> np.dtype:
    if new.dtype == old.dtype:
        return old.dtype
    if old.weak and not new.weak:
        return new.dtype
    if new.weak and not old.weak:
        return old.dtype
    return np.result_type(old.dtype, new.dtype)


def _as(carry: Carry, node: Node) -> Node:
    """`node` as the carried type (a widened initial value, a body value of a narrower type)."""
    if node.dtype != carry.dtype or node.weak != carry.weak:
        node = weak_scalar(node, carry.dtype) if carry.weak else build.cast(node, carry.dtype)
    if carry.shape and node.shape != carry.shape:
        node = build.broadcast_to(node, carry.shape)
    return node


def _kind(value: Any) -> str:
    if isinstance(value, ArrayObject):
        return "an array"
    if _is_scalar_value(value):
        return "a number"
    return f"a {type(value).__name__}"


def _root_name(root: ArrayObject, env: dict[str, Any]) -> str:
    for name, value in env.items():
        if isinstance(value, ArrayObject) and value.root() is root:
            return name
    return "array"
