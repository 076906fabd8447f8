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
import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ir import build, control, dtypes
from ..ir import dims as D
from ..ir.node import Node, topological_order
from ..ir.ops import Kind, Op, kind
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
class Window:
    """A slice `x[i:i+k]` whose start is known only at run time and whose length k is not."""

    start: Node
    length: int


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
        dyn_axes, indices, lengths, rest = [], [], [], []
        for item, axis in zip(key, axes, strict=True):
            if isinstance(item, Dynamic):
                dyn_axes.append(axis)
                indices.append(control.wrap_index(item.node, base.shape[axis], site))
                lengths.append(None)
            elif isinstance(item, Window):
                dyn_axes.append(axis)
                indices.append(control.wrap_index(item.start, base.shape[axis], site,
                                                  item.length))
                lengths.append(item.length)
                rest.append(slice(None))  # the window's axis stays
            else:
                rest.append(item)
        rest_key = tuple(rest)
        plain = all(item == slice(None) or item is Ellipsis for item in rest_key)

        def read(b: Node) -> Node:
            picked = control.at(b, indices, dyn_axes, lengths)
            return picked if plain else build.getitem(picked, rest_key)

        def write(b: Node, new: Node) -> Node:
            region = new if plain else build.setitem(
                control.at(b, indices, dyn_axes, lengths), rest_key, new)
            return control.put(b, region, indices, dyn_axes, lengths)

        return View(read, write)

    def runtime_item(self, item: Any) -> Dynamic | Window | None:
        """`item` as a runtime integer index or window, or None if it is not one."""
        if isinstance(item, slice):
            return self.runtime_window(item)
        if isinstance(item, ArrayObject) or not isinstance(item, Node) or item.ndim:
            return None
        if item.dtype.kind not in "iu":
            raise Unsupported(f"only integer scalars are valid indices, got a "
                              f"{dtypes.short_name(item.dtype)} scalar", kind="type")
        return Dynamic(item)

    def runtime_window(self, item: slice) -> Window | None:
        """A slice with a runtime bound: `x[i:i+k]`, `x[i-1:i+2]` (the bounds differ by a
        constant) is a window of k elements; a length known only at run time is not
        supported (shapes are known when compiling, up to argument sizes)."""
        start, stop = item.start, item.stop
        if not any(isinstance(b, Node) and not isinstance(b, ArrayObject) for b in (start, stop)):
            return None
        for bound in (start, stop):
            if isinstance(bound, Node) and (bound.ndim or bound.dtype.kind not in "iu"):
                raise Unsupported("slice indices must be integers, got a "
                                  f"{dtypes.short_name(bound.dtype)} value", kind="type")
        if item.step is not None and item.step != 1:
            raise Unsupported("a slice with a bound known only at run time and a step is not "
                              "supported yet", "use a step of 1: x[i:i + k]")
        (a, p), (b, q) = _linear(start), _linear(stop)
        if a is None or a is not b or q < p:
            for bound in (start, stop):  # from Python-scalar arguments: compiled per value
                if isinstance(bound, Node):
                    try:
                        self.demand_static(bound, "a slice bound")
                    except Unsupported:
                        pass
            raise Unsupported("a slice whose length is known only at run time is not "
                              "supported yet (its length must be a constant: x[i:i + 3])",
                              "use a fixed-length window x[i:i + k], or compute on the whole "
                              "array with np.where(mask, x, y)")
        start_node = a if p == 0 else build.elementwise(Op.ADD, a, build.const(p, np.int64))
        return Window(start_node, q - p)

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
            frame.env[name] = bound[name] = _bound_placeholder(name, ph, carry, "loop")
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


def _linear(value: Any) -> tuple[Node | None, int]:
    """`value` as (node, constant offset): `i + 3` is (i, 3), `i - 1` is (i, -1), `i` is
    (i, 0); a number is (None, value)."""
    offset = 0
    while isinstance(value, Node) and value.op in (Op.ADD, Op.SUB) and value.ndim == 0:
        x, y = value.inputs
        if y.op is Op.CONST and y.dtype.kind in "iu":
            offset += int(y.attr("value").array) * (1 if value.op is Op.ADD else -1)
            value = x
        elif x.op is Op.CONST and x.dtype.kind in "iu" and value.op is Op.ADD:
            offset += int(x.attr("value").array)
            value = y
        else:
            break
    if isinstance(value, Node):
        return value, offset
    return None, offset + (int(value) if value is not None else 0)


def _bound(name: str, env: dict[str, Any]) -> bool:
    """Does `name` hold a value in `env` (not unbound, e.g. by an earlier runtime loop)?"""
    return name in env and not isinstance(env[name], Unbound)


def _bound_placeholder(name: str, ph: Node, carry: Carry, where: str) -> Any:
    """What name `name` holds at the start of a loop body or branch side: its placeholder; for
    an array the body rebinds, a read-only array object over it."""
    if not carry.array:
        return ph
    obj = ArrayObject(ph)
    obj.writable = False
    obj.why_readonly = (f"{name!r} is rebound to a new array in this {where}; writing into it "
                        "before the rebinding is not supported (copy it first: x = x.copy())")
    return obj


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


# -- branches --------------------------------------------------------------------------------
# An `if` on a runtime condition is a BRANCH node (ir/control.py) whose sides the kernel runs
# in an `if` / `else`, unless both sides compute only elementwise values (arithmetic, ufuncs,
# views): those are translated as both sides merged with where(), one fused loop with no
# stored intermediates, which computes both sides and so costs little more than one. A side
# with a runtime index, a reduction, a product, a loop or an update is a real branch: the side
# not taken computes nothing and raises nothing.

_CHEAP_KINDS = (Kind.ELEMWISE, Kind.SOURCE, Kind.VIEW)
_COSTLY_OPS = (Op.WRAP, Op.AT, Op.RESULT)


class BranchTranslation:
    """Mixed into the Translator: `if` statements decided at run time."""

    def runtime_if(self, node: ast.If, cond: Node) -> None:
        frame = self.frame
        roots = self.live_roots()
        before_env, before_roots = dict(frame.env), {root: root.value for root in roots}
        outside = set(topological_order([cond, *_nodes_of([*before_env.values(),
                                                             *before_roots.values()])]))
        saved_problems, saved_unrolled = self.problems, self.unrolled

        def undo_trial() -> None:
            self.problems, self.unrolled = saved_problems, saved_unrolled
            frame.env.clear()
            frame.env.update(before_env)
            for root, value in before_roots.items():
                root.value = value

        self.problems = Problems()
        try:  # a trial, to see what the sides compute
            self.where_if(node, cond)
            changed = [v for k, v in frame.env.items() if before_env.get(k) is not v]
            changed += [root.value for root in roots if root.value is not before_roots[root]]
            computed = [n for n in topological_order(_nodes_of(changed)) if n not in outside]
            cheap = all(kind(n.op) in _CHEAP_KINDS and n.op not in _COSTLY_OPS for n in computed)
        except BaseException:
            undo_trial()
            raise
        if cheap and not self.problems:
            self.problems = saved_problems  # the trial found nothing to report: it stands
            return
        failed = bool(self.problems)
        undo_trial()
        if failed:  # the where() translation again, this time reporting its problems
            self.where_if(node, cond)
        else:
            self.branch_if(node, cond, outside)

    def branch_if(self, node: ast.If, cond: Node, outside: set[Node]) -> None:
        """The BRANCH node: a first pass over placeholders finds what the sides change and
        the types they give it; the second builds the node (see Scope.close)."""
        frame = self.frame
        names: dict[str, Carry] = {}
        for name in assigned_names(node.body + node.orelse):
            value = frame.env.get(name)
            if isinstance(value, ArrayObject):
                names[name] = dataclasses.replace(_carry_of(value.read()), array=True)
            elif value is not POISON and _is_scalar_value(value):
                names[name] = _carry_of(to_node(value))
        roots = {root: _carry_of(root.value) for root in self.live_roots()}
        sides, bound = self.branch_pass(node, cond, names, roots, outside, None)
        merged, plain = self.branch_types(node, sides, bound)
        changed = {r: roots[r] for r in roots if any(v[r] is not bound[r] for _, v in sides)}
        self.branch_pass(node, cond, names, changed, outside, merged)
        frame.env.update(plain)

    def branch_pass(self, node, cond, names, roots, outside, merged):
        """Translate both sides over placeholders for `names` and `roots`. Without `merged`
        (the result types), a trial: returns each side's (env, root values) and the values the
        placeholders stood for. With it: builds the BRANCH node and binds its results."""
        frame = self.frame
        before_env = dict(frame.env)
        before_roots = {root: root.value for root in self.live_roots()}
        saved_problems, saved_unrolled = self.problems, self.unrolled
        if merged is None:
            self.problems = Problems()
        scope = control.Scope("branch", f"line {node.lineno}")
        bound: dict[Any, Any] = {}
        carried_names = [n for n in names if merged is None or n in merged]
        for name in carried_names:
            carry = names[name]
            ph = scope.carry(name, carry.dtype, carry.shape, carry.weak)
            bound[name] = _bound_placeholder(name, ph, carry, "branch")
        new_names = [n for n in (merged or {}) if n not in names]
        for name in new_names:  # bound by both sides only: the placeholder is never read
            scope.carry(name, merged[name].dtype, merged[name].shape, merged[name].weak)
        for root, carry in roots.items():
            bound[root] = scope.carry(_root_name(root, before_env), carry.dtype, carry.shape,
                                      carry.weak)
        sides = []
        frame.runtime_depth += 1
        frame.runtime_what.append("an `if` decided at run time")
        try:
            for block in (node.body, node.orelse):
                frame.env.update({n: bound[n] for n in carried_names})
                for root in roots:
                    root.value = bound[root]
                self.exec_block(block)
                sides.append((dict(frame.env), {root: root.value for root in roots}))
                frame.env.clear()
                frame.env.update(before_env)
        finally:
            frame.runtime_depth -= 1
            frame.runtime_what.pop()
            for root, value in before_roots.items():
                root.value = value
            self.problems, self.unrolled = saved_problems, saved_unrolled
        if merged is None:
            return sides, bound
        inits, outs = [], [[], []]
        for name in [*carried_names, *new_names]:
            carry = merged[name]
            if name in names:
                before = before_env[name]
                inits.append(before.read() if isinstance(before, ArrayObject) else to_node(before))
            else:
                inits.append(_zeros(carry))
            for k, (env, _) in enumerate(sides):
                value = env[name]
                outs[k].append(_as(carry, value.read() if isinstance(value, ArrayObject)
                                   else to_node(value)))
        for root in roots:
            inits.append(before_roots[root])
            for k, (_, values) in enumerate(sides):
                outs[k].append(values[root])
        try:
            results = scope.close(inits, outs[0], orelse=outs[1], branch_cond=cond,
                                  outside=outside)
        except AssertionError as error:
            raise Unsupported(f"this branch cannot be compiled: {error}", node=node) from None
        for name, result_node in zip([*carried_names, *new_names], results, strict=False):
            frame.env[name] = ArrayObject(result_node) if merged[name].array else result_node
        for root, result_node in zip(roots, results[len(carried_names) + len(new_names):],
                                     strict=True):
            root.value = result_node

    def branch_types(self, node: ast.If, sides, bound: dict[Any, Any]):
        """From the trial: the result type of each name the sides change (both sides' values
        joined), and the names that get one value whichever side runs (unbound in a side:
        unbound after; a static value both sides leave or give)."""
        (then_env, _), (else_env, _) = sides
        merged: dict[str, Carry] = {}
        plain: dict[str, Any] = {}
        for name in assigned_names(node.body + node.orelse):
            a, b = then_env.get(name, Unbound(name)), else_env.get(name, Unbound(name))
            if a is POISON or b is POISON:
                plain[name] = POISON
                continue
            if isinstance(a, Unbound) or isinstance(b, Unbound):
                plain[name] = Unbound(name)  # an error if read after the branch
                continue
            if a is b and name in bound and a is bound[name]:
                continue  # unchanged
            if a is b and not _nodes_of([a]):
                plain[name] = a  # a static value both sides give
                continue
            if not all(isinstance(v, ArrayObject) or _is_scalar_value(v) for v in (a, b)):
                raise Unsupported(f"variable {name!r} gets values of different kinds in the "
                                  "branches of an `if` decided at run time; this is not "
                                  "supported yet", "make both branches assign arrays or numbers",
                                  node=node.test)
            x, y = (v.read() if isinstance(v, ArrayObject) else to_node(v) for v in (a, b))
            if x.shape != y.shape:
                raise Unsupported(f"variable {name!r} gets arrays of different shapes "
                                  f"({D.format_shape(x.shape)}) and ({D.format_shape(y.shape)}) "
                                  "in the branches of an `if` decided at run time",
                                  node=node.test)
            array = isinstance(a, ArrayObject) or isinstance(b, ArrayObject)
            merged[name] = Carry(_widen(_carry_of(x), y), x.shape, x.weak and y.weak, array)
        return merged, plain


def _nodes_of(values: list[Any]) -> list[Node]:
    """The graph nodes among `values` (names' values: arrays, scalars, tuples of them)."""
    found: list[Node] = []
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, ArrayObject):
            if value.base is None:
                found.append(value.value)
            else:
                stack.append(value.base)
        elif isinstance(value, Node):
            found.append(value)
        elif isinstance(value, (tuple, list)):
            stack.extend(value)
    return found


def _zeros(carry: Carry) -> Node:
    zero = build.const(0, carry.dtype)
    return build.broadcast_to(zero, carry.shape) if carry.shape else zero
