"""`jg.jit`: the decorator, the per-signature cache and the call path.

A call binds its arguments, computes the cache key (arrays: dtype, rank and size-1 axes;
Python scalars: their type, or their value when static; other Python values: their value),
and runs the cached specialization; only a new key translates and compiles.

Calls are often many and small, so a positional call whose arguments look like an earlier
call's (types, dtypes, size-1 axes, compile-time values: `_fast_key_function`, cheaper than
binding and the full key) goes straight to that call's runner, which calls the generated entry
function.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .. import runtime
from ..errors import ArgumentError
from ..ir import dtypes
from ..ir.printer import format_graph
from .specialize import Specialization, specialize
from .translate import NeedStatic
from .values import JIT_TYPES

_SCALARS = (bool, int, float)
_STATIC_TYPES = (str, tuple, np.dtype, type, type(None))
_DTYPES = frozenset(dtypes.SUPPORTED)


class JitFunction:
    """A NumPy function compiled per argument signature. Call it like the original."""

    def __init__(self, fn: Callable, static_argnames: Iterable[str] = (), backend: str = "numba",
                 num_threads: int | None = None):
        if not isinstance(fn, types.FunctionType):
            raise ArgumentError(f"jg.jit needs a Python function, got {type(fn).__name__}")
        if backend not in runtime.BACKENDS:
            raise ArgumentError(f"unknown backend {backend!r}; choose one of {runtime.BACKENDS}")
        functools.update_wrapper(self, fn)
        self.python_function = fn
        self.backend = backend
        self.num_threads = _check_num_threads(num_threads)
        self._signature = inspect.signature(fn)
        self._names = list(self._signature.parameters)
        static = {static_argnames} if isinstance(static_argnames, str) else set(static_argnames)
        unknown = static - set(self._names)
        if unknown:
            raise ArgumentError(f"static_argnames {sorted(unknown)} are not parameters of "
                                f"{fn.__qualname__}{self._signature}")
        self._static = {self._names.index(n) for n in static}
        self._cache: dict[tuple, Specialization] = {}
        self._simple = all(p.kind == p.POSITIONAL_OR_KEYWORD
                           for p in self._signature.parameters.values())
        # The fast path: positional calls, keyed on what `_fast_key` reads from the arguments
        # (cheaper than binding them and computing the full key), to a runner of one tuple.
        self._fast: dict[tuple, Callable[[tuple], Any]] = {}
        self._fast_key = _fast_key_function(len(self._names), self._static)
        self._runners: dict[tuple, Callable[[Sequence], Any]] = {}

    @property
    def static_argnames(self) -> tuple[str, ...]:
        """The compile-time parameters, in parameter order: those declared with
        `static_argnames`, and the Python-scalar parameters calls have shown to be needed at
        compile time (used as a shape, an index or a loop bound)."""
        return tuple(self._names[i] for i in sorted(self._static))

    # -- calling -------------------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs:
            try:
                run = self._fast.get(self._fast_key(*args))
            except TypeError:  # another number of arguments or an unhashable one: the full
                run = None  # path binds them or says what is wrong
            if run is not None:
                return run(args)
        return self._call(args, kwargs)

    def _call(self, args: tuple, kwargs: dict) -> Any:
        """Bind, key, compile if new, run; then let the same arguments take the fast path."""
        values = self._bind(args, kwargs)
        key = self._key(values)
        spec = self._cache.get(key)
        if spec is None:
            spec, key = self._compile(values, key)
        run = self._runners.get(key) or self._make_runner(spec, key)
        result = run(values)
        if not kwargs and len(args) == len(self._names) and self._simple and all(
            type(a) is np.ndarray or _kind(k) != "array" for a, k in zip(args, key)
        ):
            self._fast[self._fast_key(*args)] = run
        return result

    def _make_runner(self, spec: Specialization, key: tuple) -> Callable[[Sequence], Any]:
        """What runs `spec` on argument values: `spec.call`, or, for the common case (arrays
        in parameter order, nothing written back), the executable's entry and the rebuild of
        the result alone. `num_threads` is set around it."""
        exe = spec.executable
        if spec.written:
            def run(values: Sequence) -> Any:
                values = list(values)
                return self._for_aliasing(spec, key, values).call(values)
        elif (exe is not None and exe.backend != "reference" and not spec.scalar_params
              and not spec.writebacks and type(spec).call is Specialization.call
              and spec.runtime_params == tuple(range(len(self._names)))):
            rebuild = spec.rebuild

            def run(values: Sequence) -> Any:
                return rebuild(exe.run(*values), values)  # exe.run: replaced after 1st call
        else:
            def run(values: Sequence) -> Any:
                return spec.call(list(values))
        if self.num_threads is not None and self.backend != "reference":
            run = _with_threads(run, self.num_threads)
        self._runners[key] = run
        return run

    def _bind(self, args: tuple, kwargs: dict) -> list:
        if not kwargs and len(args) == len(self._names) and self._simple:
            return list(args)
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as error:
            raise ArgumentError(f"{self.__qualname__}{self._signature}: {error}") from None
        bound.apply_defaults()
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in self._signature.parameters.values()):
            return list(bound.arguments.values())
        return [bound.arguments[name] for name in self._names]

    def _key(self, values: list) -> tuple:
        """The cache key; converts array-like arguments to arrays in `values` in place."""
        key = []
        for i, value in enumerate(values):
            kind = type(value)
            if i in self._static or (kind not in _SCALARS and isinstance(value, _STATIC_TYPES)):
                key.append(("static", kind, self._hashable(i, value)))
            elif kind is np.ndarray and value.dtype in _DTYPES:
                key.append((value.dtype, tuple(s == 1 for s in value.shape)))
            elif kind in _SCALARS:
                _check_scalar(self._names[i], value)
                key.append(kind)
            else:
                values[i] = value = runtime.as_array(value, self._names[i])
                key.append((value.dtype, tuple(s == 1 for s in value.shape)))
        return tuple(key)

    def _hashable(self, i: int, value: Any) -> Any:
        try:
            hash(value)
        except TypeError:
            raise ArgumentError(
                f"argument {self._names[i]!r} is a {type(value).__name__} that cannot be a "
                "compile-time value (it must be hashable); tuples of arrays are not supported as "
                "arguments yet: pass each array as its own argument") from None
        return value

    def _compile(self, values: list, key: tuple, aliases: dict[int, int] | None = None):
        """Translate and build the specialization for `key`; learn which scalar arguments must
        be compile-time values (used as shapes, indices or loop bounds) on the way."""
        while True:
            kinds = [_kind(k) for k in key]
            try:
                spec = self._build_specialization(values, kinds, aliases or {})
            except NeedStatic as need:
                self._static |= {self._names.index(n) for n in need.names}
                self._fast.clear()  # their keys do not include the new static values
                self._fast_key = _fast_key_function(len(self._names), self._static)
                key = self._key(values)
                cached = self._cache.get(key)
                if cached is not None and aliases is None:
                    return cached, key
                continue
            if aliases:
                key = key + (("aliases", tuple(aliases.items())),)
            self._cache[key] = spec
            return spec, key

    def _build_specialization(self, values: list, kinds: list[str],
                              aliases: dict[int, int]) -> Specialization:
        """Translate and compile one specialization (subclasses such as jg.grad's compile
        something else from the same translation)."""
        return specialize(self.python_function, self._names, values, kinds, aliases,
                          self.backend)

    def _for_aliasing(self, spec: Specialization, key: tuple, values: list) -> Specialization:
        """Arguments sharing memory with an argument the function writes: identical arrays are
        one object in the graph (its own specialization); partial overlaps are refused."""
        _check_writable(values, spec.written, self._names)
        aliases = _aliases(values, spec.written, self._names)
        if not aliases:
            return spec
        full_key = key + (("aliases", tuple(aliases.items())),)
        cached = self._cache.get(full_key)
        if cached is None:
            cached, _ = self._compile(values, key, aliases)
        return cached

    # -- inspection ----------------------------------------------------------------------------

    def specialization(self, *args: Any, **kwargs: Any) -> Specialization:
        """The specialization these arguments select (translated and compiled on first use)."""
        values = self._bind(args, kwargs)
        key = self._key(values)
        spec = self._cache.get(key)
        if spec is None:
            spec, _ = self._compile(values, key)
        return spec

    def graph(self, *args: Any, **kwargs: Any) -> str:
        """The typed graph of these arguments' specialization, as text."""
        exe = self.specialization(*args, **kwargs).executable
        if exe is None:
            return f"def {self.__name__}() -> ():\n  return"
        return format_graph(exe.graph, name=self.__name__)

    def source(self, *args: Any, **kwargs: Any) -> str:
        """The generated code of these arguments' specialization."""
        exe = self.specialization(*args, **kwargs).executable
        return "# nothing to compute\n" if exe is None else exe.source

    def inspect(self, *args: Any, **kwargs: Any) -> Any:
        """What the compiler did for these arguments, as a `jitgraph.report.Report`: the graph
        after each pass, fusion groups and every fusion declined with its reason, the memory
        plan, the generated code and the compile timings (what `jitgraph inspect` prints)."""
        import dataclasses
        from typing import NamedTuple

        from ..report import Report, build_report

        class Where(NamedTuple):  # a location both as `loc[0]:loc[1]` and `.filename`, `.line`
            filename: str
            line: int
            col: int

        values = self._bind(args, kwargs)
        key = self._key(values)
        spec = self._cache.get(key) or self._compile(values, key)[0]
        if spec.written:
            spec = self._for_aliasing(spec, key, values)
        exe = spec.executable
        if exe is None:  # nothing computed: the function returns its arguments or constants
            return Report([], [], [], [], {"unfused_bytes": 0, "fused_bytes": 0,
                                           "planned_bytes": 0}, "# nothing to compute\n")
        if exe.plan is None:
            raise ArgumentError("inspect needs a code-generating backend ('numba' or 'python')")
        # The report prints locations as `loc[0]:loc[1]`; the frontend's are Location objects.
        graph = exe.plan.graph
        located = {n: Where(loc.filename, loc.line, loc.col) if hasattr(loc, "filename") else loc
                   for n, loc in graph.locations.items()}
        plan = dataclasses.replace(exe.plan, graph=dataclasses.replace(graph, locations=located))
        shapes = [np.shape(values[i]) for i in spec.runtime_params]
        donated = exe.kernel.donated if exe.kernel is not None else {}
        return build_report(exe.input_graph, plan, exe.source, shapes, exe.timings, donated)

    def __repr__(self) -> str:
        return f"<jitgraph.jit {self.__qualname__} backend={self.backend!r}>"


JIT_TYPES.append(JitFunction)


_INT64 = (-(2**63), 2**63)


def _fast_item(value: Any) -> Any:
    """A fast-path key part: equal parts mean equal full key parts (see `JitFunction._key`).
    Arrays give pairs, other values bare types or triples: the kinds never compare equal
    (a dtype equals its scalar type: np.dtype('float64') == float)."""
    kind = type(value)
    if kind is np.ndarray:
        shape = value.shape
        if 1 in shape:
            return value.dtype, tuple([n == 1 for n in shape])
        return value.dtype, len(shape)
    if kind is float or kind is bool:
        return kind
    if kind is int and _INT64[0] <= value < _INT64[1]:
        return int
    return "value", kind, value  # compile-time values by value; too large an int never
    # matches a registered key, so the full path reports it


def _fast_key_function(count: int, static: Iterable[int]) -> Callable[..., tuple]:
    """The fast key of `count` positional arguments: their `_fast_item`s, then the values of
    the `static` ones (a static scalar's item is only its type). Straight-line code, with the
    common case of `_fast_item` (an array without size-1 axes) inline: a loop or map() over
    the arguments, or a call per array, would cost more than the items themselves (about 250
    and 70 ns in CPython 3.11)."""
    params = [f"a{i}" for i in range(count)]
    parts = [f"(({p}.dtype, {p}.ndim) if type({p}) is _ndarray and 1 not in {p}.shape "
             f"else _item({p}))" for p in params]
    parts += [params[i] for i in sorted(static)]
    items = "".join(f"\n        {part}," for part in parts)
    source = f"def fast_key({', '.join(params)}):\n    return ({items}\n    )\n"
    namespace = {"_item": _fast_item, "_ndarray": np.ndarray}
    exec(source, namespace)
    return namespace["fast_key"]


def _check_num_threads(n: Any) -> int | None:
    if n is None:
        return None
    import numba

    limit = numba.config.NUMBA_NUM_THREADS
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or not (
        1 <= n <= limit
    ):
        raise ValueError(f"num_threads={n!r}: must be an integer from 1 to {limit} (the size of "
                         "Numba's thread pool, NUMBA_NUM_THREADS)")
    return int(n)


def _with_threads(run: Callable[[Sequence], Any], n: int) -> Callable[[Sequence], Any]:
    """`run` on `n` threads: Numba's setting is per calling thread, restored afterwards."""
    import numba

    get, set_ = numba.get_num_threads, numba.set_num_threads

    def run_on_n_threads(values: Sequence) -> Any:
        saved = get()
        if saved == n:
            return run(values)
        set_(n)
        try:
            return run(values)
        finally:
            set_(saved)

    return run_on_n_threads


def _kind(key_item: Any) -> str:
    if isinstance(key_item, tuple) and key_item[0] == "static":
        return "static"
    return "scalar" if key_item in _SCALARS else "array"


def _check_scalar(name: str, value: Any) -> None:
    if type(value) is int and not -2**63 <= value < 2**63:
        raise ArgumentError(f"argument {name!r}: Python int {value} does not fit in int64")


def _check_writable(values: list, written: frozenset[int], names: list[str]) -> None:
    """The function writes these arguments (in place, as NumPy would): they must allow it."""
    for i in written:
        value = values[i]
        if type(value) is np.ndarray and not value.flags.writeable:
            raise ArgumentError(
                f"argument {names[i]!r} ({value.dtype}, shape {value.shape}) is written by the "
                "function, but the array is read-only; pass a writable array (or a copy)")


def _aliases(values: list, written: frozenset[int], names: list[str]) -> dict[int, int]:
    arrays = [(i, v) for i, v in enumerate(values) if type(v) is np.ndarray]
    aliases: dict[int, int] = {}
    for n, (j, b) in enumerate(arrays):
        for i, a in arrays[:n]:
            if i not in written and j not in written and i not in aliases:
                continue
            if not np.may_share_memory(a, b):
                continue
            if _same_layout(a, b):
                aliases[j] = aliases.get(i, i)
                break
            raise ArgumentError(
                f"arguments {names[i]!r} (shape {a.shape}) and {names[j]!r} (shape {b.shape}) "
                "share memory without being the same array, and the function writes into one "
                "of them; pass a copy of one of them")
    return aliases


def _same_layout(a: np.ndarray, b: np.ndarray) -> bool:
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype)


def jit(fn: Callable | None = None, *, static_argnames: Iterable[str] = (),
        backend: str = "numba", num_threads: int | None = None) -> Any:
    """Compile a NumPy function: `jg.jit(f)`, `@jg.jit`,
    `@jg.jit(static_argnames=, backend=, num_threads=)`.

    Arguments: arrays (specialized on dtype, rank and size-1 axes), Python scalars (runtime
    values, unless named in `static_argnames` or used as a shape, index or loop bound: then
    compile-time values), and hashable Python values (compile-time). Backends: "numba",
    "python" (the generated code without Numba) and "reference" (the NumPy interpreter).
    `num_threads`: the number of threads this function's kernels run on (Numba's
    `set_num_threads` around each call, restored after); by default the calling thread's
    setting (`numba.set_num_threads`, `NUMBA_NUM_THREADS`).
    """
    if fn is None:
        return lambda f: JitFunction(f, static_argnames, backend, num_threads)
    return JitFunction(fn, static_argnames, backend, num_threads)
