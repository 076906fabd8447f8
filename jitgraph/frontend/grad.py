"""`jg.grad` and `jg.value_and_grad`: reverse-mode gradients of jit-able functions.

The function is translated exactly as `jg.jit` translates it (per argument signature); its
scalar result is differentiated on the graph (jitgraph.autodiff) and the graph of the
gradients is optimized, fused and compiled like any other. Loops with static bounds are
unrolled by the frontend (their gradients are the unrolled backward pass); loops with a runtime
trip count are reversed whole (jitgraph.autodiff_loops: recomputed or taped carried values).

    loss, (gW, gb) = jg.value_and_grad(loss_fn, argnums=(1, 2))(x, W, b)
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import autodiff
from ..errors import ArgumentError, GraphTypeError
from ..ir import build
from ..ir.node import Node
from .errors import raise_problems
from .jit import JitFunction
from .specialize import (
    Specialization,
    append_writebacks,
    build_executable,
    describe_arguments,
    translate,
)
from .values import ArrayObject


@dataclass
class GradSpecialization(Specialization):
    """A compiled gradient; `primal` is the forward result (for the saved-values report)."""

    primal: tuple[Node, ...] = ()


class GradFunction(JitFunction):
    """The gradient of a function returning a float scalar, compiled per argument signature.
    Returns the gradient (argnums an int), a tuple of them (argnums a tuple), and with
    `with_value` the pair (value, gradients)."""

    def __init__(
        self,
        fn: Callable,
        argnums: int | tuple[int, ...],
        with_value: bool,
        static_argnames: Iterable[str] = (),
        backend: str | None = None,
    ):
        if isinstance(fn, JitFunction):
            fn, backend = fn.python_function, backend or fn.backend
        super().__init__(fn, static_argnames, backend or "numba")
        self.argnums = _check_argnums(argnums, len(self._names), fn)
        self.with_value = with_value

    def _build_specialization(
        self, values: list, kinds: list[str], aliases: dict[int, int]
    ) -> GradSpecialization:
        return specialize_grad(
            self.python_function,
            self._names,
            values,
            kinds,
            aliases,
            self.backend,
            self.argnums,
            self.with_value,
        )

    def inspect(self, *args: Any, **kwargs: Any) -> autodiff.GradReport:
        """The compiler's report on the gradient for these arguments: fusion groups and memory
        plan of the combined forward + backward graph, and the forward values kept for the
        backward pass (`saved_for_backward`, with bytes)."""
        values = self._bind(args, kwargs)
        spec = self.specialization(*values)
        exe = spec.executable
        if exe is None or exe.plan is None:
            raise ArgumentError("inspect needs a code-generating backend ('numba' or 'python')")
        arrays = [values[i] for i in spec.runtime_params]
        return autodiff.inspect_gradient(exe, spec.primal, arrays)

    def __repr__(self) -> str:
        what = "value_and_grad" if self.with_value else "grad"
        return (
            f"<jitgraph.{what} {self.__qualname__} argnums={self.argnums} backend={self.backend!r}>"
        )


def _check_argnums(argnums: Any, count: int, fn: Callable) -> int | tuple[int, ...]:
    items = argnums if isinstance(argnums, tuple) else (argnums,)
    for a in items:
        if not isinstance(a, int) or isinstance(a, bool) or not -count <= a < count:
            raise ArgumentError(
                f"argnums {argnums!r}: {fn.__qualname__} has {count} "
                f"parameter{'s' if count != 1 else ''}; argnums must be an int or "
                "a tuple of ints indexing them"
            )
    normalized = tuple(a % count for a in items)
    return normalized if isinstance(argnums, tuple) else normalized[0]


def specialize_grad(
    fn: types.FunctionType,
    names: list[str],
    values: list,
    kinds: list[str],
    aliases: dict[int, int],
    backend: str,
    argnums: int | tuple[int, ...],
    with_value: bool,
) -> GradSpecialization:
    """Translate `fn` for these arguments, differentiate its result with respect to the
    parameters `argnums`, compile (value?, gradients..., written-back arguments...)."""
    t = translate(fn, names, values, kinds, aliases)
    source, translator, result, args, objects = t.source, t.translator, t.result, t.args, t.objects
    if list(translator.problems):
        raise_problems(
            source.name, list(translator.problems), describe_arguments(names, values, kinds)
        )
    loss = _scalar_result(result, fn)
    params = argnums if isinstance(argnums, tuple) else (argnums,)
    wrt = [_wrt_argument(p, names, kinds, args, values) for p in params]
    grads = autodiff.vjp([loss], [autodiff.scalar_seed(loss)], wrt)
    outputs = ([loss] if with_value else []) + grads
    writebacks, written = append_writebacks(objects, args, outputs)
    runtime_params = tuple(sorted(args))
    # The parse timing includes building the gradient graph.
    executable = build_executable(t, outputs, backend, f"grad_{fn.__name__}", writebacks)
    scalars = tuple(k for k, p in enumerate(runtime_params) if kinds[p] == "scalar")
    rebuild = _rebuild(params, kinds, isinstance(argnums, tuple), with_value)
    return GradSpecialization(
        executable, runtime_params, scalars, tuple(writebacks), rebuild, frozenset(written), (loss,)
    )


def _scalar_result(result: Any, fn: Callable) -> Node:
    if isinstance(result, ArrayObject):
        result = result.read()
    if isinstance(result, (bool, int, float, np.generic)):
        result = build.const(float(result))
    if not isinstance(result, Node):
        raise GraphTypeError(
            f"grad of {fn.__qualname__}: the function must return a float "
            f"scalar, it returned a {type(result).__name__}"
        )
    if result.ndim:
        raise GraphTypeError(
            f"grad of {fn.__qualname__}: the function must return a scalar, it "
            f"returned an array of shape {result.shape}; reduce it (e.g. .sum())"
        )
    autodiff.check_output(result)
    return result


def _wrt_argument(
    param: int, names: list[str], kinds: list[str], args: dict[int, Node], values: list
) -> Node:
    name = names[param]
    if kinds[param] == "static":
        raise ArgumentError(
            f"argnums selects {name!r}, a compile-time value "
            f"({type(values[param]).__name__}); only arrays and floats have "
            "gradients"
        )
    node = args[param]
    if not autodiff.is_differentiable(node):
        raise ArgumentError(
            f"argnums selects {name!r} of dtype {node.dtype}: only "
            "floating-point arguments have gradients; pass a float array or "
            "leave it out of argnums"
        )
    return node


def _rebuild(
    params: tuple[int, ...], kinds: list[str], as_tuple: bool, with_value: bool
) -> Callable[[tuple, list], Any]:
    first = 1 if with_value else 0

    def one(outs: tuple, k: int) -> Any:
        array = outs[first + k]
        return float(array) if kinds[params[k]] == "scalar" else array

    def rebuild(outs: tuple, vals: list) -> Any:
        grads = tuple(one(outs, k) for k in range(len(params)))
        grads = grads if as_tuple else grads[0]
        return (outs[0][()], grads) if with_value else grads

    return rebuild


def grad(
    fn: Callable,
    argnums: int | tuple[int, ...] = 0,
    *,
    static_argnames: Iterable[str] = (),
    backend: str | None = None,
) -> GradFunction:
    """The gradient of `fn` (which returns a float scalar) with respect to argument `argnums`
    (an int: one gradient; a tuple: a tuple of gradients), compiled like `jg.jit(fn)`."""
    return GradFunction(fn, argnums, False, static_argnames, backend)


def value_and_grad(
    fn: Callable,
    argnums: int | tuple[int, ...] = 0,
    *,
    static_argnames: Iterable[str] = (),
    backend: str | None = None,
) -> GradFunction:
    """Like `grad`, but the compiled function returns `(fn(...), gradients)`, both from one
    fused kernel."""
    return GradFunction(fn, argnums, True, static_argnames, backend)
