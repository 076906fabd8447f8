"""One specialization of a jitted function: arguments of one signature -> a graph, its
executable, and the plan of the call (which arguments run, which are written back, how the
return value is rebuilt from the graph's outputs).
"""

from __future__ import annotations

import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import runtime
from ..ir import build
from ..ir import dims as D
from ..ir.node import Check, Graph, Node, topological_order
from .errors import Problem, raise_problems
from .source import function_source
from .translate import Translator, Unsupported, UserRaise
from .values import ArrayObject

Rebuild = Callable[[tuple, list], Any]  # (graph outputs, call values) -> return value


@dataclass
class Specialization:
    """A compiled specialization: `call(values)` runs it on bound, converted argument values."""

    executable: runtime.Executable | None
    runtime_params: tuple[int, ...]  # parameters passed to the executable, in order
    scalar_params: tuple[int, ...]  # those of them that are Python scalars
    writebacks: tuple[tuple[int, int], ...]  # (parameter, output) copied back after the run
    rebuild: Rebuild
    written: frozenset[int]  # parameters whose arrays the function writes

    def call(self, values: list) -> Any:
        outputs: tuple = ()
        if self.executable is not None:
            args = list(values[i] for i in self.runtime_params)
            if self.executable.backend != "reference":
                for i in self.scalar_params:
                    args[i] = np.asarray(args[i])
            outputs = self.executable.run(*args)
        for param, out in self.writebacks:
            if outputs[out] is not values[param]:  # not computed in place
                np.copyto(values[param], outputs[out])
        return self.rebuild(outputs, values)


def specialize(
    fn: types.FunctionType,
    names: list[str],
    values: list,
    kinds: list[str],
    aliases: dict[int, int],
    backend: str,
) -> Specialization:
    """Translate `fn` for arguments `values` of `kinds` ('array', 'scalar', 'static');
    `aliases` maps a parameter to an earlier one holding the same array."""
    t = translate(fn, names, values, kinds, aliases)
    source, translator, result, args, objects = t.source, t.translator, t.result, t.args, t.objects
    problems = list(translator.problems)
    outputs: list[Node] = []
    rebuild = None
    if not problems:
        try:
            rebuild = _template(result, outputs)
        except Unsupported as error:
            problems.append(Problem(source.location(source.tree), error.message, error.hint))
    if problems:
        raise_problems(source.name, problems, describe_arguments(names, values, kinds))
    writebacks, written = append_writebacks(objects, args, outputs)
    runtime_params = tuple(sorted(args))
    scalars = tuple(k for k, p in enumerate(runtime_params) if kinds[p] == "scalar")
    # Nothing to compute may still leave sizes to check (an unused `x + y`): an entry only.
    needed = outputs or statement_checks(t)
    executable = (
        build_executable(t, outputs, backend, fn.__name__, writebacks) if needed else None
    )
    return Specialization(
        executable, runtime_params, scalars, tuple(writebacks), rebuild, frozenset(written)
    )


@dataclass
class Translation:
    """A function's body translated for one argument signature (before outputs are chosen)."""

    source: Any
    translator: Any
    result: Any
    args: dict
    objects: dict
    began: float


def translate(
    fn: types.FunctionType,
    names: list[str],
    values: list,
    kinds: list[str],
    aliases: dict[int, int],
) -> Translation:
    """Parse and translate `fn`'s body for these arguments; `began` starts the parse timing."""
    began = time.perf_counter()
    source = function_source(fn)
    env, args, weak, objects = graph_arguments(names, values, kinds, aliases)
    translator = Translator(weak)
    try:
        result = translator.run(source, env)
    except UserRaise as error:
        raise error.error from None
    return Translation(source, translator, result, args, objects, began)


def append_writebacks(objects: dict, args: dict, outputs: list) -> tuple[list, set]:
    """Append the final value of every argument the function wrote to `outputs`; return the
    (parameter, output index) pairs and the set of written parameters."""
    writebacks, written = [], set()
    for param, obj in objects.items():
        if obj.value is not args[param]:
            written.add(param)
            writebacks.append((param, len(outputs)))
            outputs.append(obj.value)
    return writebacks, written


def build_executable(
    t: Translation,
    outputs: list[Node],
    backend: str,
    label: str,
    writebacks: Sequence[tuple[int, int]] = (),
) -> runtime.Executable:
    """Compile the graph of `outputs` over the translation's runtime arguments (in parameter
    order), recording the source -> graph time as the executable's 'parse' timing. The final
    values of written arguments (`writebacks`) may be computed in the arguments' own arrays."""
    runtime_params = tuple(sorted(t.args))
    donate = {out: runtime_params.index(param) for param, out in writebacks}
    graph = Graph(
        tuple(outputs),
        tuple(t.args[p] for p in runtime_params),
        tuple(f"out{i}" for i in range(len(outputs))),
        t.translator.locations,
        statement_checks(t),
    )
    parse = time.perf_counter() - t.began  # source -> graph, before passes and codegen
    executable = runtime.build(graph, backend, label=label, donate=donate)
    record_parse_time(executable, parse)
    return executable


def statement_checks(t: Translation) -> tuple[Check, ...]:
    """The size checks of every expression the function evaluated, used or not: NumPy raises
    for `t = x + y` with shapes that do not broadcast even when t is never read, so the compiled
    function checks it too (the computation itself is dead code and not compiled)."""
    evaluated = [*t.translator.locations, *t.translator.viewed]
    nodes = topological_order(evaluated)  # with the broadcasts that carry the checks
    return tuple(dict.fromkeys(c for node in nodes for c in node.checks))


def record_parse_time(executable: runtime.Executable, seconds: float) -> None:
    """Put the translation time first in the executable's timings (what `inspect` shows).
    The dict is updated in place: the Numba entry records its first-call time into it later."""
    recorded = dict(executable.timings)
    executable.timings.clear()
    executable.timings.update({"parse": seconds, **recorded})


def graph_arguments(
    names: list[str], values: list, kinds: list[str], aliases: dict[int, int]
) -> tuple[dict[str, Any], dict[int, Node], dict[Node, str], dict[int, ArrayObject]]:
    """Graph arguments and the names they are bound to: arrays get an identity (aliased
    parameters share one), Python scalars are weak runtime scalars, static values stay Python.
    Returns (env: name -> value, args: parameter -> graph argument, weak: scalar argument ->
    name, objects: parameter -> its array object)."""
    env: dict[str, Any] = {}
    args: dict[int, Node] = {}
    weak: dict[Node, str] = {}
    objects: dict[int, ArrayObject] = {}
    for i, (name, value, kind) in enumerate(zip(names, values, kinds)):
        if kind == "static":
            env[name] = value
            continue
        index = len(args)
        if kind == "scalar":
            dtype = np.asarray(value).dtype
            args[i] = env[name] = build.argument(name, index, dtype, (), weak=True)
            weak[args[i]] = name
            continue
        pattern = tuple(1 if s == 1 else None for s in value.shape)
        args[i] = build.argument(name, index, value.dtype, pattern)
        if i in aliases:
            env[name] = objects[aliases[i]]
        else:
            env[name] = objects[i] = ArrayObject(args[i], origin=i)
    return env, args, weak, objects


def _template(value: Any, outputs: list[Node]) -> Rebuild:
    """How to rebuild the return value from the outputs; appends the nodes it needs."""
    if isinstance(value, ArrayObject):
        if value.base is None and value.origin is not None:
            param = value.origin
            return lambda outs, vals: vals[param]  # the caller's own array, as NumPy returns it
        return _output(value.read(), outputs, lambda a: a)
    if isinstance(value, Node):
        convert = (lambda a: a.item()) if value.weak else (lambda a: a[()])
        return _output(value, outputs, convert)
    if isinstance(value, D.DimExpr):
        return _output(build.size(value), outputs, lambda a: int(a))
    if isinstance(value, (tuple, list)):
        parts = [_template(v, outputs) for v in value]
        kind = type(value)
        return lambda outs, vals: kind(part(outs, vals) for part in parts)
    if value is None or isinstance(value, (bool, int, float, str, np.generic, np.dtype)):
        return lambda outs, vals: value
    raise Unsupported(
        f"returning {type(value).__name__} values is not supported",
        "return arrays, numbers or tuples of them",
    )


def _output(node: Node, outputs: list[Node], convert: Callable) -> Rebuild:
    index = len(outputs)
    outputs.append(node)
    if convert is not None and node.ndim == 0:
        return lambda outs, vals: convert(outs[index])
    return lambda outs, vals: outs[index]


def describe_arguments(names: list[str], values: list, kinds: list[str]) -> str:
    """`x: float64 array of shape (3,), n=2`: the arguments of a call, for error messages."""
    parts = []
    for name, value, kind in zip(names, values, kinds):
        if kind == "array":
            parts.append(f"{name}: {value.dtype} array of shape {value.shape}")
        else:
            parts.append(f"{name}={value!r}")
    return ", ".join(parts)
