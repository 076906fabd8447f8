"""codegen/vmath.py against NumPy: ulp bounds over the whole range and exact special values.

One njit kernel per dtype applies every function to an array (Numba compiles cost ~1 s per
kernel); inputs are dense sweeps of the interesting ranges, random bit patterns (every exponent,
denormals included) and the special values. References: NumPy (libm: correctly rounded or
within 1 ulp), except sigmoid (extended precision) and erf (`math.erf`). float32 references are
computed in float64 so they are the correctly rounded (or nearly) results.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest

import jitgraph as jg
from jitgraph.codegen import scalar

numba = pytest.importorskip("numba")
vmath = pytest.importorskip("jitgraph.codegen.vmath")

UNARY = ("exp", "expm1", "log", "log1p", "tanh", "sigmoid", "erf", "sin", "cos")
# Documented bounds (vmath docstring), in ulp of the reference rounded to the dtype.
TOLERANCE_ULP = {
    "float32": {
        "exp": 1.5,
        "expm1": 1.5,
        "log": 1,
        "log1p": 1,
        "tanh": 1.5,
        "sigmoid": 1.5,
        "erf": 1,
        "sin": 1,
        "cos": 1,
        "pow": 1,
    },
    "float64": {
        "exp": 1.5,
        "expm1": 2,
        "log": 1,
        "log1p": 2,
        "tanh": 2.5,
        "sigmoid": 2.5,
        "erf": 1.5,
        "pow": 1.5,
    },
}
SWEEPS = {
    "exp": (-110, 720),
    "expm1": (-5, 5),
    "log": (0, 10),
    "log1p": (-1, 5),
    "tanh": (-10, 10),
    "sigmoid": (-760, 50),
    "erf": (-7, 7),
    "sin": (-10, 10),
    "cos": (-10, 10),
}


def _reference(name: str, x: np.ndarray) -> np.ndarray:
    """Exact-ish values: float32 inputs evaluated in float64, float64 in long double."""
    wide = np.float64 if x.dtype == np.float32 else np.longdouble
    with np.errstate(all="ignore"):
        if name == "sigmoid":
            return 1 / (1 + np.exp(-x.astype(np.longdouble)))
        if name == "erf":
            return np.array([math.erf(float(v)) for v in x])
        if name in ("sin", "cos") and x.dtype == np.float64:
            return getattr(np, name)(x)
        return getattr(np, name)(x.astype(wide))


def _inputs(dtype: np.dtype, lo: float, hi: float, n: int = 60_000) -> np.ndarray:
    rng = np.random.default_rng(7)
    info = np.finfo(dtype)
    ints = np.int32 if dtype == np.float32 else np.int64
    bits = rng.integers(np.iinfo(ints).min, np.iinfo(ints).max, n, dtype=ints).view(dtype)
    special = [
        np.nan,
        -np.nan,
        np.inf,
        -np.inf,
        0.0,
        -0.0,
        1.0,
        -1.0,
        info.tiny,
        -info.tiny,
        info.smallest_subnormal,
        -info.smallest_subnormal,
        info.max,
        -info.max,
        info.eps,
        1e-30,
        -1e-30,
        88.72,
        88.73,
        709.78,
        709.79,
        -103.97,
        -745.13,
    ]
    return np.concatenate(
        [
            bits,
            np.linspace(lo, hi, n).astype(dtype),
            np.geomspace(info.smallest_subnormal, info.max, n).astype(dtype),
            -np.geomspace(info.smallest_subnormal, 1e3, n // 4).astype(dtype),
            np.array(special, dtype),
        ]
    )


def _ulp_error(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """|got - expected| in ulp of expected rounded to got's dtype; 0 where both are the same
    special value (NaN, inf, signed zero) and inf where they differ in kind."""
    dtype = got.dtype
    rounded = expected.astype(dtype)
    wide = expected.dtype if expected.dtype.itemsize > dtype.itemsize else np.longdouble
    same = (got == rounded) | (np.isnan(got) & np.isnan(rounded))
    ulp = np.spacing(np.abs(rounded)).astype(wide)
    with np.errstate(all="ignore"):
        err = np.abs(got.astype(wide) - expected.astype(wide)) / ulp
    return np.where(same, 0.0, np.where(np.isfinite(err), err, np.inf))


_KERNELS: dict[str, Callable] = {}


def _kernel(dtype: str) -> Callable:
    """One compiled function applying every unary function of `dtype` (cached)."""
    if dtype not in _KERNELS:
        suffix = "f32" if dtype == "float32" else "f64"
        fns = tuple(getattr(vmath, f"vm_{n}_{suffix}", None) for n in UNARY)
        exp, expm1, log, log1p, tanh, sigmoid, erf, sin, cos = fns
        has_trig = sin is not None

        @numba.njit
        def apply(x, out):
            for i in range(x.size):
                out[0, i] = exp(x[i])
                out[1, i] = expm1(x[i])
                out[2, i] = log(x[i])
                out[3, i] = log1p(x[i])
                out[4, i] = tanh(x[i])
                out[5, i] = sigmoid(x[i])
                out[6, i] = erf(x[i])
                if has_trig:
                    out[7, i] = sin(x[i])
                    out[8, i] = cos(x[i])

        _KERNELS[dtype] = apply
    return _KERNELS[dtype]


_RESULTS: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def _results(dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, outputs[function, element]) over the union of all sweeps."""
    if dtype not in _RESULTS:
        dt = np.dtype(dtype)
        x = np.concatenate([_inputs(dt, lo, hi, 20_000) for lo, hi in SWEEPS.values()])
        out = np.full((len(UNARY), x.size), np.nan, dt)
        _kernel(dtype)(x, out)
        _RESULTS[dtype] = (x, out)
    return _RESULTS[dtype]


@pytest.mark.numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", UNARY)
def test_unary_accuracy(name: str, dtype: str) -> None:
    if name not in TOLERANCE_ULP[dtype]:
        pytest.skip(f"{name} {dtype} uses libm")
    x, out = _results(dtype)
    got = out[UNARY.index(name)]
    expected = _reference(name, x)
    err = _ulp_error(got, expected)
    worst = int(np.argmax(err))
    assert err[worst] <= TOLERANCE_ULP[dtype][name], (
        f"{name}({x[worst]!r}) = {got[worst]!r}, reference {expected[worst]!r}: "
        f"{err[worst]:.2f} ulp"
    )
    # Special values exactly: NaN where NumPy has NaN, inf and signed zeros bit for bit.
    rounded = expected.astype(dtype)
    assert np.array_equal(np.isnan(got), np.isnan(rounded))
    exact = np.isinf(rounded) | (rounded == 0)
    assert np.array_equal(got[exact], rounded[exact])
    assert np.array_equal(np.signbit(got[exact]), np.signbit(rounded[exact]))


POW_SPECIAL = [
    np.nan,
    np.inf,
    -np.inf,
    0.0,
    -0.0,
    1.0,
    -1.0,
    2.0,
    -2.0,
    0.5,
    -0.5,
    3.0,
    -3.0,
    2.5,
    -2.5,
    1e300,
    -1e-300,
    5e-324,
    2.0**53,
    2.0**53 + 2,
    1e10,
    -7.0,
    1.0000001,
    0.9999999,
    1e-45,
    3e38,
]


@pytest.mark.numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pow(dtype: str) -> None:
    dt = np.dtype(dtype)
    fn = vmath.vm_pow_f32 if dtype == "float32" else vmath.vm_pow_f64

    @numba.njit
    def apply(a, b, out):
        for i in range(a.size):
            out[i] = fn(a[i], b[i])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = np.array(list(itertools.product(POW_SPECIAL, POW_SPECIAL)), dt).T
    rng = np.random.default_rng(3)
    n = 100_000
    top = 700 if dtype == "float64" else 85
    x = (np.exp(rng.uniform(-top, top, n)) * np.where(np.arange(n) % 3 == 0, -1, 1)).astype(dt)
    y = rng.uniform(-3, 3, n).astype(dt)
    y[::3] = np.round(y[::3] * 10)  # integer exponents, odd and even
    logs = np.maximum(np.abs(np.log(np.abs(x[1::7]))), 1e-3)
    y[1::7] = (rng.uniform(-1, 1, logs.size) * top / logs).astype(dt)  # results near overflow
    a = np.concatenate([pairs[0], x])
    b = np.concatenate([pairs[1], y])
    got = np.empty_like(a)
    apply(a, b, got)
    with np.errstate(all="ignore"):
        wide = np.float64 if dtype == "float32" else np.longdouble
        expected = np.power(a.astype(wide), b.astype(wide))
        numpy_result = np.power(a, b)
    special = np.isnan(numpy_result) | np.isinf(numpy_result) | (numpy_result == 0)
    assert np.array_equal(np.isnan(got), np.isnan(numpy_result))
    assert np.array_equal(got[special & ~np.isnan(got)], numpy_result[special & ~np.isnan(got)])
    signed = special & ~np.isnan(numpy_result)
    assert np.array_equal(np.signbit(got[signed]), np.signbit(numpy_result[signed]))
    err = _ulp_error(got, expected)
    worst = int(np.argmax(err))
    assert err[worst] <= TOLERANCE_ULP[dtype]["pow"], (a[worst], b[worst], got[worst])


def test_render_chooses_by_dtype_and_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every name the templates emit exists; MATH="libm" gives NumPy's functions back."""
    for op, (_stem, dtypes) in scalar.VMATH.items():
        for dtype in dtypes:
            assert scalar.vmath_name(op, np.dtype(dtype)) in vmath.NAMESPACE
    from jitgraph.ir.ops import Op

    assert scalar.RENDER[Op.EXP]("x", np.dtype("float32")) == "vm_exp_f32(x)"
    assert scalar.RENDER[Op.SIN]("x", np.dtype("float64")) == "np.sin(x)"
    monkeypatch.setattr(jg.runtime, "MATH", "libm")
    assert scalar.RENDER[Op.EXP]("x", np.dtype("float32")) == "np.exp(x)"
    assert scalar.RENDER[Op.POW]("x", "y", np.dtype("float64")) == "(x ** y)"


GRAPH_FUNCTIONS = {
    "exp": np.exp,
    "expm1": np.expm1,
    "log": np.log,
    "log1p": np.log1p,
    "tanh": np.tanh,
    "sin": np.sin,
    "cos": np.cos,
}


@pytest.mark.numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_generated_code(dtype: str) -> None:
    """The ops through jitgraph (one compiled Group) match NumPy within the vmath bounds; the
    generated source calls the vmath functions."""
    x = jg.Variable("x")
    y = jg.Variable("y")
    symbols = [getattr(jg.sym, name)(x) for name in GRAPH_FUNCTIONS] + [x**y]
    fn = jg.compile(jg.Group(symbols), backend="numba")
    a = _inputs(np.dtype(dtype), -20, 20, 3000)
    b = np.resize(np.array([2.0, -1.5, 0.5, 3.0, np.nan, 0.0], dtype), a.size)
    with np.errstate(all="ignore"):
        outputs = fn(x=a, y=b)
        expected = [f(a) for f in GRAPH_FUNCTIONS.values()] + [np.power(a, b)]
    for name, got, want in zip([*GRAPH_FUNCTIONS, "pow"], outputs, expected, strict=True):
        err = _ulp_error(np.asarray(got), want)
        # libm functions (float64 sin, cos) agree with NumPy to 1 ulp.
        bound = TOLERANCE_ULP[dtype].get(name, 1) + 1  # NumPy itself is within 1 ulp
        assert err.max() <= bound, f"{name}: {err.max():.2f} ulp"
