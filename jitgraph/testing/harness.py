"""The differential harness: a function run by NumPy, compiled by jitgraph, and interpreted by
the reference interpreter, on copies of the same arguments; any difference is reported with
the pass whose removal makes it disappear.

NumPy is the oracle. The reference interpreter evaluates the graph before any pass runs, so
when it agrees with NumPy and the compiled function does not, the culprit is a pass or code
generation, and recompiling with each pass disabled in turn names the pass.
"""

from __future__ import annotations

import inspect
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..frontend.jit import JitFunction, jit
from ..passes import pipeline
from .compare import (
    Tolerance,
    array_problem,
    bit_identical,
    leaf_problem,
    leaves,
    magnitude,
    structure_problem,
)

NUMPY = "NumPy"
REFERENCE = "reference"


@dataclass
class Outcome:
    """What one run did: its result or the exception it raised, and the arguments after it."""

    label: str
    result: Any = None
    error: BaseException | None = None
    arguments: list = field(default_factory=list)


@dataclass
class Report:
    """The verdict of one comparison. `kind`: 'ok', 'mismatch' (a different result or side
    effect) or 'crash' (jitgraph raised where NumPy did not, or did not raise where it did)."""

    kind: str
    problems: list[str] = field(default_factory=list)
    bisection: str = ""
    error: BaseException | None = None
    expected: Any = None  # NumPy's result

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    def message(self, name: str = "function") -> str:
        lines = [f"{name} does not match NumPy ({self.kind}):"]
        lines += [f"  {p}" for p in self.problems]
        if self.bisection:
            lines.append(f"  pass bisection: {self.bisection}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Running on copies


def layout_copy(array: np.ndarray) -> np.ndarray:
    """A copy of `array` with the same strides (a C-order copy would hide stride bugs)."""
    if (
        array.flags.c_contiguous
        or array.size == 0
        or any(s % array.itemsize for s in array.strides)
    ):
        return array.copy()
    extent = [(n - 1) * s for n, s in zip(array.shape, array.strides, strict=True)]
    low = sum(e for e in extent if e < 0)
    high = sum(e for e in extent if e > 0) + array.itemsize
    buffer = np.zeros(high - low, np.uint8)
    copy = np.ndarray(array.shape, array.dtype, buffer=buffer, offset=-low, strides=array.strides)
    copy[...] = array
    return copy


def copy_arguments(args: Iterable[Any]) -> list:
    """Copies of the array arguments (an array passed twice stays one array); others as is."""
    copies: dict[int, np.ndarray] = {}
    result = []
    for value in args:
        if isinstance(value, np.ndarray):
            value = copies.setdefault(id(value), layout_copy(value))
        result.append(value)
    return result


@contextmanager
def quiet() -> Iterator[None]:
    """NumPy's floating-point warnings (x / 0, log(-1)) are expected: silence them."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def run(label: str, fn: Callable, args: Iterable[Any]) -> Outcome:
    """Call `fn` on copies of `args`, catching what it raises."""
    arguments = copy_arguments(args)
    outcome = Outcome(label, arguments=arguments)
    with quiet():
        try:
            outcome.result = fn(*arguments)
        except Exception as error:  # noqa: BLE001 - any exception is a finding to report
            outcome.error = error
    return outcome


# ---------------------------------------------------------------------------------------------
# Comparing two outcomes


def _error_text(error: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    return text if len(text) < 600 else text[:600] + " ..."


def _compatible(numpy_error: BaseException, error: BaseException) -> bool:
    """True if `error` is of a built-in class NumPy's error is (ValueError for AxisError...)."""
    builtin = [
        c
        for c in type(numpy_error).__mro__
        if c.__module__ == "builtins" and c not in (Exception, BaseException, object)
    ]
    return any(isinstance(error, c) for c in builtin)


def compare_outcomes(
    expected: Outcome, got: Outcome, originals: list, tol: Tolerance, names: list[str]
) -> tuple[str, list[str]]:
    """('ok' | 'mismatch' | 'crash', problems) of `got` against NumPy's `expected`."""
    who = got.label
    if expected.error is not None:
        if got.error is None:
            return "crash", [
                f"NumPy raises {_error_text(expected.error)}; {who} returned "
                f"{got.result!r:.200} instead"
            ]
        if not _compatible(expected.error, got.error):
            return "crash", [
                f"NumPy raises {_error_text(expected.error)}; {who} raises {_error_text(got.error)}"
            ]
        return "ok", []
    if got.error is not None:
        return "crash", [f"{who} raised {_error_text(got.error)}"]
    problem = structure_problem(got.result, expected.result, f"{who}: the result")
    problems = [problem] if problem else []
    if not problem:
        for (path, g), (_, e) in zip(leaves(got.result), leaves(expected.result), strict=False):
            problem = leaf_problem(g, e, tol, f"{who}: output {path}")
            if problem:
                problems.append(problem)
    problems += side_effect_problems(expected, got, originals, tol, names)
    return ("mismatch" if problems else "ok"), problems


def side_effect_problems(
    expected: Outcome, got: Outcome, originals: list, tol: Tolerance, names: list[str]
) -> list[str]:
    """Arguments NumPy mutates must end equal to NumPy's; the others must be untouched."""
    problems = []
    for i, original in enumerate(originals):
        if not isinstance(original, np.ndarray):
            continue
        mine, theirs = got.arguments[i], expected.arguments[i]
        what = f"{got.label}: argument {names[i]!r} after the call"
        if bit_identical(theirs, original):
            if not bit_identical(mine, original):
                problem = array_problem(mine, original, Tolerance(0.0, 0.0), what)
                problems.append(problem or f"{what}: bits changed (NumPy leaves it untouched)")
                if problem:
                    problems[-1] += " (NumPy leaves it untouched)"
        else:
            problem = array_problem(mine, theirs, tol, what)
            if problem:
                problems.append(problem)
    return problems


# ---------------------------------------------------------------------------------------------
# The harness


def _unwrap(fn: Callable, static_argnames: Iterable[str]) -> tuple[Callable, tuple[str, ...]]:
    """The plain Python function and its static argument names (a jg.jit object knows both)."""
    static = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    if isinstance(fn, JitFunction):
        known = getattr(fn, "_static", set())
        names = list(inspect.signature(fn.python_function).parameters)
        return fn.python_function, tuple(dict.fromkeys(static + tuple(names[i] for i in known)))
    return getattr(fn, "__wrapped__", fn), static


@dataclass
class Call:
    """One call of a check: its arguments, NumPy's outcome and the tolerance for it."""

    args: tuple
    expected: Outcome
    tol: Tolerance


def check(
    fn: Callable,
    *args: Any,
    rtol: float | None = None,
    atol: float | None = None,
    backend: str | None = None,
    static_argnames: Iterable[str] = (),
    scale: float = 0.0,
    bisect: bool = True,
    also: Iterable[Iterable[Any]] = (),
) -> Report:
    """Compare `fn` run by NumPy with jitgraph's compiled function and reference interpreter.

    `also`: more argument tuples, each called after `args` on the same jitted function: with
    the same dtypes and size-1 axes but other sizes, they run the kernel compiled for `args`
    (the sizes it was not compiled for are what its runtime checks and symbolic sizes handle).

    Returns a Report (does not raise). See `assert_matches_numpy` for the other arguments."""
    if backend is None:
        backend = fn.backend if isinstance(fn, JitFunction) else "numba"
    python_fn, static = _unwrap(fn, static_argnames)
    names = _parameter_names(python_fn, len(args))
    calls = []
    for call_args in [tuple(args), *(tuple(a) for a in also)]:
        magnitudes = [magnitude(a) for a in call_args if isinstance(a, np.ndarray)]
        tol = Tolerance(rtol, atol, max([scale, *magnitudes]))
        calls.append(Call(call_args, run(NUMPY, python_fn, call_args), tol))
    expected = calls[0].expected
    backends = [backend] if backend == REFERENCE else [backend, REFERENCE]
    kinds, problems, error = [], [], None
    for name in backends:
        label = "reference interpreter" if name == REFERENCE else f"compiled (backend={name!r})"
        jitted = jit(python_fn, backend=name, static_argnames=static)
        kind = "ok"
        for number, call in enumerate(calls):
            which = label if number == 0 else f"{label}, call {number + 1} (other sizes)"
            got = run(which, jitted, call.args)
            call_kind, found = compare_outcomes(
                call.expected, got, list(call.args), call.tol, names
            )
            kind = _worst(kind, call_kind)
            problems += found
            error = error or got.error
        kinds.append(kind)
    if all(k == "ok" for k in kinds):
        return Report("ok", expected=expected.result)
    report = Report(
        "crash" if "crash" in kinds else "mismatch", problems, error=error, expected=expected.result
    )
    if bisect:
        report.bisection = bisect_passes(
            python_fn,
            calls[0].args,
            backend,
            static,
            expected,
            calls[0].tol,
            names,
            reference_ok=len(kinds) > 1 and kinds[1] == "ok",
            also=calls[1:],
        )
    return report


def _worst(a: str, b: str) -> str:
    order = ("ok", "mismatch", "crash")
    return max(a, b, key=order.index)


def _parameter_names(fn: Callable, count: int) -> list[str]:
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        names = []
    return (names + [f"#{i}" for i in range(len(names), count)])[:count]


def bisect_passes(
    python_fn: Callable,
    args: tuple,
    backend: str,
    static: tuple[str, ...],
    expected: Outcome,
    tol: Tolerance,
    names: list[str],
    reference_ok: bool = False,
    also: Iterable[Call] = (),
) -> str:
    """Recompile with each pass disabled in turn: the first one whose removal makes the
    compiled result agree with NumPy, or a description of why none does. `also`: the calls
    that follow the first one on the same compiled function (see `check`)."""
    if backend == REFERENCE:
        return (
            "the reference interpreter runs no passes: suspect the frontend, the IR or the "
            "interpreter"
        )

    calls = [Call(tuple(args), expected, tol), *also]

    def agrees(*disabled: str) -> bool:
        with pipeline.disabled(*disabled):
            compiled = jit(python_fn, backend=backend, static_argnames=static)
            for call in calls:
                got = run("compiled", compiled, call.args)
                outcome = compare_outcomes(call.expected, got, list(call.args), call.tol, names)
                if outcome[0] != "ok":
                    return False
        return True

    passes = pipeline.pass_names()
    for name in passes:
        if agrees(name):
            return f"mismatch disappears when pass {name!r} is disabled"
    where = (
        "the reference interpreter agrees with NumPy"
        if reference_ok
        else "the reference interpreter differs too: suspect the frontend or the IR"
    )
    if passes and agrees(*passes):
        return f"no single pass explains it; disabling all of {passes} together does ({where})"
    return f"no single pass explains it; it remains with every pass disabled ({where})"


def assert_matches_numpy(
    fn: Callable,
    *args: Any,
    rtol: float | None = None,
    atol: float | None = None,
    backend: str | None = "numba",
    static_argnames: Iterable[str] = (),
    scale: float = 0.0,
    also: Iterable[Iterable[Any]] = (),
) -> Any:
    """Assert that `fn` compiled by jitgraph behaves like `fn` run by NumPy; return NumPy's result.

    `fn` is a plain NumPy function or one wrapped by `jg.jit` (its Python function and static
    argument names are used). It is run three times on copies of `args` (strides kept): by
    NumPy, compiled with `backend` (None: the jitted function's own backend) and by the
    reference interpreter. Compared: the structure of the result (tuples), each output's
    type, shape, dtype and values, and the arguments afterwards (those NumPy mutates must end
    equal, the others bit-identical). If NumPy raises, jitgraph must raise an exception of the
    same built-in class.

    Tolerances (floats only; integers and bools are exact): `rtol` defaults to 1e-5 for float32
    and 1e-12 for float64; `atol` defaults to `rtol * scale`, `scale` being the largest finite
    magnitude among the arguments, the expected output and the `scale` given.

    `also`: more argument tuples, each passed to the same compiled function after `args` (other
    sizes with the same dtypes and size-1 axes reuse its kernel) and compared the same way.

    On a difference raises AssertionError naming the output, the first differing index and
    both values, and the first optimization pass whose removal makes the difference disappear.
    """
    report = check(
        fn,
        *args,
        rtol=rtol,
        atol=atol,
        backend=backend,
        static_argnames=static_argnames,
        scale=scale,
        also=also,
    )
    if not report.ok:
        name = getattr(fn, "__qualname__", "function")
        raise AssertionError(report.message(name)) from report.error
    return report.expected
