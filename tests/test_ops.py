"""Every op against NumPy: bool, int32, int64, float32 and float64 inputs; same shapes,
broadcasting (size-1 and 0-d), empty and non-contiguous inputs; through the reference
interpreter, the generated code run as Python, and compiled with Numba.

Expected values are NumPy's own results for the same expression (see opcases.py). Numba compiles
cost ~0.4 s per output loop nest, so each suite is one `jg.Group` compiled once per argument
signature and cached for the session; the unmarked tests run every suite through the fast
backends.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest
from opcases import (
    ARG_AXES,
    AXES,
    BINARY,
    CREATION,
    DTYPES,
    FLOAT_ONLY_BINARY,
    LINALG,
    REDUCTION_FUNCTIONS,
    REDUCTION_OPS,
    STRUCTURE,
    UNARY,
    UNINITIALIZED,
    Case,
    array,
    compare,
    finite_values,
    reduction_cases,
    with_specials,
)

import jitgraph as jg
from jitgraph.ir import dtypes as jg_dtypes

FAST_BACKENDS = ("reference", "python")
NAMES = ("x", "y", "z")
VARIABLES = tuple(jg.Variable(n) for n in NAMES)
# IEEE 754 leaves the sign of maximum(-0.0, 0.0) unspecified, and NumPy's answer depends on
# which SIMD path runs (array or scalar operand, clip or maximum): zero signs are not compared
# for these cases (their values are).
UNSPECIFIED_ZERO_SIGN = {"maximum", "minimum", "clip", "clip_scalars", "clip_lo", "fused"}


# ---------------------------------------------------------------------------------------------
# Suites: cases over one set of inputs, compiled as one Group


@dataclass
class Suite:
    """Cases evaluated on `inputs` (bound to x, y, z in order)."""

    name: str
    cases: Sequence[Case]
    inputs: tuple[np.ndarray, ...]
    count: int = 1  # elements per reduced value, for the tolerance
    scale: float = 0.0  # magnitude bound of what a reduction adds up
    valid: list[tuple[Case, np.ndarray]] = field(default_factory=list)
    rejected: list[Case] = field(default_factory=list)

    def __post_init__(self) -> None:
        # A sum of n terms is off by at most ~n eps times the sum of the magnitudes added: terms
        # are inputs (sum), products of two (matmul) or squares (var), each at most M^2 + M.
        finite = [np.abs(a[np.isfinite(a)]) for a in self.inputs if a.dtype.kind == "f"]
        biggest = max((float(a.max()) for a in finite if a.size), default=1.0)
        self.scale = self.count * (biggest * biggest + biggest)
        for case in self.cases:
            try:
                expected = case.numpy(*self.inputs[: case.arity])
            except TypeError:
                self.rejected.append(case)  # NumPy rejects the dtypes: jitgraph must too
                continue
            if expected.dtype not in jg_dtypes.SUPPORTED:
                # NumPy gives float16 for exp(bool) etc.: jitgraph has no float16 and rejects it.
                self.rejected.append(case)
                continue
            self.valid.append((case, expected))

    def key(self) -> tuple[str, ...]:
        return tuple(case.name for case, _ in self.valid)


_COMPILED: dict[tuple, jg.CompiledFunction] = {}


@pytest.fixture(scope="module", autouse=True)
def _numba_threads(request: pytest.FixtureRequest) -> None:
    """Run one parallel kernel first: a kernel without parallel loops (0-d only) cannot be the
    first one a process calls (see test_0d_kernel_first_in_process)."""
    if any(item.get_closest_marker("numba") for item in request.session.items):
        jg.compile(jg.Variable("w") + 1)(w=np.ones(2))


def compiled(suite: Suite, backend: str) -> jg.CompiledFunction:
    """One CompiledFunction per (case list, backend), shared by suites with the same cases
    (it specializes per argument signature itself, so `empty` reuses `same`'s kernel)."""
    key = (suite.key(), backend)
    if key not in _COMPILED:
        symbols = [case.symbol(*VARIABLES[: case.arity]) for case, _ in suite.valid]
        _COMPILED[key] = jg.compile(jg.Group(symbols), backend=backend)
    return _COMPILED[key]


def call(fn: jg.CompiledFunction, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Run with NumPy's floating-point warnings silenced (the Python backend raises the same
    warnings NumPy does for log(0), x / 0, ...)."""
    args = {name: value for name, value in zip(NAMES, inputs, strict=False) if name in fn.arguments}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(**args)


def run_suite(suite: Suite, backend: str) -> None:
    """Every valid case matches NumPy; every case NumPy rejects, jitgraph rejects too."""
    failures = []
    if suite.valid:
        outputs = call(compiled(suite, backend), suite.inputs)
        for (case, expected), got in zip(suite.valid, outputs, strict=True):
            signs = case.tol != "reduction" and case.name not in UNSPECIFIED_ZERO_SIGN
            try:
                compare(
                    case.name,
                    got,
                    expected,
                    case.tol,
                    suite.count,
                    suite.scale,
                    signed_zeros=signs,
                    values=case.name not in UNINITIALIZED,
                )
            except AssertionError as exc:
                failures.append(f"{case.name}: {exc}")
    if backend == "reference":  # rejection happens when the graph is built: one backend is enough
        for case in suite.rejected:
            fn = jg.compile(case.symbol(*VARIABLES[: case.arity]), backend="reference")
            try:
                call(fn, suite.inputs)
            except jg.GraphTypeError:
                continue
            failures.append(f"{case.name}: NumPy rejects these dtypes but jitgraph accepted them")
    header = f"{suite.name}: {len(failures)} case(s) differ from NumPy:\n"
    assert not failures, header + "\n".join(failures)


# ---------------------------------------------------------------------------------------------
# Elementwise suites


def _noncontiguous(dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """x: every other row of a larger array (strided); y: a transpose (Fortran order)."""
    return array(dtype, (6, 4))[::2], array(dtype, (4, 3), 3).T


def _reversed(dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Negative strides: x reversed on both axes, y reversed with step -2."""
    return array(dtype, (3, 4))[::-1, ::-1], array(dtype, (3, 8), 3)[:, ::-2]


SHAPES: dict[str, Callable[[str], tuple[np.ndarray, np.ndarray]]] = {
    "same": lambda dt: (array(dt, (3, 4)), array(dt, (3, 4), 3)),
    "empty": lambda dt: (array(dt, (0, 4)), array(dt, (0, 4), 3)),
    "col_row": lambda dt: (array(dt, (4, 1)), array(dt, (1, 5), 3)),
    "vec_mat": lambda dt: (array(dt, (4,)), array(dt, (3, 4), 3)),
    "scalar_mat": lambda dt: (array(dt, ()), array(dt, (3, 4), 3)),
    "mat_scalar": lambda dt: (array(dt, (3, 4)), array(dt, (), 4)),
    "noncontiguous": _noncontiguous,
    "negative_strides": _reversed,
    "0d": lambda dt: (array(dt, ()), array(dt, (), 3)),
}
# Broadcasting and layout exercise index code that does not depend on the op, so those
# configurations run a representative subset under Numba (each layout is another compile).
NUMBA_SUBSET = {
    "add",
    "true_divide",
    "floor_divide",
    "remainder",
    "maximum",
    "less",
    "where",
    "logical_xor",
    "fused",
    "exp",
    "abs",
    "astype_float32",
    "isnan",
    "mul_float",
}
NUMBA_FULL_SHAPES = ("same", "empty", "0d")
# A 2-D kernel of every op costs 30-50 s of compile. The scalar templates are the same in 0-d and
# 2-D kernels, so int64 and float32 run every op 0-d (~5 s) and the subset 2-D.
NUMBA_FULL_2D_DTYPES = ("bool", "int32", "float64")


def all_elementwise(dtype: str) -> list[Case]:
    return UNARY + BINARY + (FLOAT_ONLY_BINARY if dtype.startswith("float") else [])


def elementwise_suite(dtype: str, shape: str, numba: bool = False) -> Suite:
    cases = all_elementwise(dtype)
    if numba and (
        shape not in NUMBA_FULL_SHAPES or (shape != "0d" and dtype not in NUMBA_FULL_2D_DTYPES)
    ):
        cases = [c for c in cases if c.name in NUMBA_SUBSET]
    if shape in ("col_row", "vec_mat", "scalar_mat", "mat_scalar"):
        cases = [c for c in cases if c.arity == 2]  # one-input cases do not broadcast
    return Suite(f"{dtype}/{shape}", cases, SHAPES[shape](dtype))


MIXED = [
    ("int32", "float32"),
    ("bool", "int64"),
    ("int64", "float64"),
    ("int32", "int64"),
    ("float32", "float64"),
    ("bool", "float32"),
    ("int64", "float32"),
]
NUMBA_MIXED = MIXED[:1]


def mixed_suite(dtypes: tuple[str, str]) -> Suite:
    dx, dy = dtypes
    cases = [c for c in BINARY if c.arity == 2]
    return Suite(f"{dx}+{dy}", cases, (array(dx, (3, 4)), array(dy, (3, 4), 3)))


@pytest.mark.parametrize("backend", FAST_BACKENDS)
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise(dtype: str, shape: str, backend: str) -> None:
    run_suite(elementwise_suite(dtype, shape), backend)


# Numba: every op and dtype 0-d; every op 2-D and empty for NUMBA_FULL_2D_DTYPES, the subset for
# the others; broadcasting and strided layouts (op- and dtype-independent index code, one
# compile each) on float32 only.
NUMBA_ELEMENTWISE = [(dt, shape) for dt in DTYPES for shape in NUMBA_FULL_SHAPES]
NUMBA_ELEMENTWISE += [("float32", shape) for shape in SHAPES if shape not in NUMBA_FULL_SHAPES]


@pytest.mark.numba
@pytest.mark.parametrize("dtype,shape", NUMBA_ELEMENTWISE)
def test_elementwise_numba(dtype: str, shape: str) -> None:
    run_suite(elementwise_suite(dtype, shape, numba=True), "numba")


@pytest.mark.parametrize("backend", FAST_BACKENDS)
@pytest.mark.parametrize("dtypes", MIXED, ids="+".join)
def test_mixed_dtypes(dtypes: tuple[str, str], backend: str) -> None:
    run_suite(mixed_suite(dtypes), backend)


@pytest.mark.numba
@pytest.mark.parametrize("dtypes", NUMBA_MIXED, ids="+".join)
def test_mixed_dtypes_numba(dtypes: tuple[str, str]) -> None:
    run_suite(mixed_suite(dtypes), "numba")


# ---------------------------------------------------------------------------------------------
# Reductions: a 3-D input, axis None / int / negative / tuple, keepdims; floats also with NaN
# (twice in one row: argmax gives the first) and +-inf.

REDUCTION_SHAPE = (2, 3, 4)
# Numba (a reduction nest costs ~2 s to compile): every op once per dtype, the axis form (full,
# kept negative axis, tuple) rotating over ops and dtypes so each pair of op and form is
# compiled for some dtype; floats add max / argmax over NaN and inf.
NUMBA_AXES = [(None, False), (-1, True), ((0, 2), False)]


def numba_reduction_cases(dtype: str) -> list[Case]:
    shift = DTYPES.index(dtype)
    cases = []
    for i, op in enumerate(REDUCTION_OPS):
        axes = NUMBA_AXES if not op.startswith("arg") else ARG_AXES[:3]
        cases += reduction_cases([op], axes=[axes[(i + shift) % len(axes)]])
    if dtype.startswith("float"):
        cases += reduction_cases(("max", "argmax", "argmin"), operand=1, axes=[(-1, True)])
    return cases


def reduction_suite(dtype: str, numba: bool = False) -> Suite:
    x = finite_values(dtype, REDUCTION_SHAPE)
    y = with_specials(dtype, REDUCTION_SHAPE)
    if numba:
        return Suite(f"{dtype}/reductions", numba_reduction_cases(dtype), (x, y), count=x.size)
    cases = reduction_cases(axes=AXES) + REDUCTION_FUNCTIONS
    if dtype.startswith("float"):
        special_ops = ("sum", "max", "min", "argmax", "argmin", "var")
        cases += reduction_cases(special_ops, operand=1, axes=AXES)
    return Suite(f"{dtype}/reductions", cases, (x, y), count=x.size)


@pytest.mark.parametrize("backend", FAST_BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_reductions(dtype: str, backend: str) -> None:
    run_suite(reduction_suite(dtype), backend)


@pytest.mark.numba
@pytest.mark.parametrize("dtype", DTYPES)
def test_reductions_numba(dtype: str) -> None:
    run_suite(reduction_suite(dtype, numba=True), "numba")


def empty_reduction_suite(dtype: str) -> Suite:
    """Reductions of (0, 4) and (3, 0): sum / prod / any / all have identities, mean and var
    give NaN, max over the non-empty axis gives an empty result."""
    ops = ("sum", "prod", "any", "all", "mean", "var")
    cases = reduction_cases(ops, axes=[(None, False), (0, False), (1, True)])
    cases += [
        Case("max[x,1]", lambda m, x: x.max(axis=1), 1, "reduction"),
        Case("argmin[x,1]", lambda m, x: x.argmin(axis=1), 1, "reduction"),
    ]
    return Suite(f"{dtype}/empty reductions", cases, (finite_values(dtype, (0, 4)),), count=1)


@pytest.mark.parametrize("backend", FAST_BACKENDS)
@pytest.mark.parametrize("dtype", ["bool", "int32", "float64"])
def test_empty_reductions(dtype: str, backend: str) -> None:
    run_suite(empty_reduction_suite(dtype), backend)


# ---------------------------------------------------------------------------------------------
# matmul, dot, outer: x (3,4) @ y (4,5), batched z (2,3,4). Finite data: BLAS and a loop nest
# order NaN/inf products differently only in which NaN comes out, not in where.


def linalg_suite(dtype: str) -> Suite:
    inputs = (
        finite_values(dtype, (3, 4)),
        finite_values(dtype, (4, 5), 2),
        finite_values(dtype, (2, 3, 4), 5),
    )
    return Suite(f"{dtype}/linalg", LINALG, inputs, count=4)


@pytest.mark.parametrize(
    "dtype,backend",
    [
        *[(dt, b) for dt in DTYPES for b in FAST_BACKENDS],
        *[pytest.param(dt, "numba", marks=pytest.mark.numba) for dt in ("bool", "float64")],
    ],
)
def test_linalg(dtype: str, backend: str) -> None:
    run_suite(linalg_suite(dtype), backend)


def test_linalg_mixed_dtypes() -> None:
    """int32 @ float32 is float64; bool @ int64 is int64."""
    for dx, dy in (("int32", "float32"), ("bool", "int64")):
        inputs = (finite_values(dx, (3, 4)), finite_values(dy, (4, 5), 2))
        suite = Suite(f"{dx}@{dy}", [c for c in LINALG if c.arity == 2], inputs, count=4)
        for backend in FAST_BACKENDS:
            run_suite(suite, backend)


# ---------------------------------------------------------------------------------------------
# Structure ops and creation. y has another dtype, for concatenate's promotion.

OTHER_DTYPE = {
    "bool": "int32",
    "int32": "float32",
    "int64": "bool",
    "float32": "int64",
    "float64": "float32",
}


def structure_suite(dtype: str, numba: bool = False) -> Suite:
    inputs = (
        array(dtype, (3, 4)),
        array(OTHER_DTYPE[dtype], (2, 4), 3),
        array(dtype, (2, 3, 4), 5),
    )
    cases = STRUCTURE + CREATION
    if numba:
        # Every other case: each is a loop nest (~1 s of compile); the views, reshapes, concats
        # and creation forms alternate in the lists, so both halves cover every kind.
        cases = STRUCTURE[::2] + CREATION[::2]
    return Suite(f"{dtype}/structure", cases, inputs)


STRUCTURE_NUMBA_DTYPES = ("float32",)  # structure is dtype-blind; creation casts are not


@pytest.mark.parametrize("backend", FAST_BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_structure(dtype: str, backend: str) -> None:
    run_suite(structure_suite(dtype), backend)


@pytest.mark.numba
@pytest.mark.parametrize("dtype", STRUCTURE_NUMBA_DTYPES)
def test_structure_numba(dtype: str) -> None:
    run_suite(structure_suite(dtype, numba=True), "numba")


# ---------------------------------------------------------------------------------------------
# Errors NumPy raises at run time


@pytest.mark.parametrize(
    "backend", [*FAST_BACKENDS, pytest.param("numba", marks=pytest.mark.numba)]
)
def test_max_of_empty_raises(backend: str) -> None:
    """max / argmin over an empty axis raise ValueError (jg.ArgumentShapeError) as NumPy does;
    over a non-empty axis of an empty array they give an empty result."""
    x = jg.Variable("x")
    f = jg.compile(jg.Group([x.max(axis=0), x.argmin(axis=1)]), backend=backend)
    empty_rows = np.zeros((0, 4))
    with pytest.raises(ValueError):
        np.max(empty_rows, axis=0)
    with pytest.raises(jg.ArgumentShapeError):
        f(x=empty_rows)
    with pytest.raises(jg.ArgumentShapeError):
        jg.compile(x.max(), backend=backend)(x=empty_rows)
    got = jg.compile(x.max(axis=1), backend=backend)(x=empty_rows)
    compare("max(axis=1)", got, np.max(empty_rows, axis=1))


@pytest.mark.numba
def test_0d_kernel_first_in_process() -> None:
    """A process whose first compiled kernel has no parallel loop (0-d arguments only)."""
    code = (
        "import numpy as np, jitgraph as jg; x = jg.Variable('x'); "
        "print(jg.compile(jg.sym.exp(x))(x=np.array(0.0)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("backend", FAST_BACKENDS)
def test_one_element_slice_needs_its_element(backend: str) -> None:
    """x[:, 1:2] is known to have one element, so it broadcasts like NumPy's size-1 axes. The
    price (a documented divergence): where NumPy would slice it empty, jitgraph raises."""
    x = jg.Variable("x")
    f = jg.compile(x[:, 1:2], backend=backend)
    a = np.arange(6.0).reshape(3, 2)
    compare("x[:, 1:2]", f(x=a), a[:, 1:2])
    with pytest.raises(jg.ArgumentShapeError):
        f(x=np.zeros((3, 0)))
