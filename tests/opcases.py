"""Op cases for tests/test_ops.py: expressions written once, run with NumPy and with jitgraph.

Every case is `fn(m, *arrays)` where `m` is `np` or `jg.sym`: the same lambda gives NumPy's
expected value and builds the jitgraph Symbol. A case names its tolerance class; `compare`
turns the class and the result dtype into tolerances (see TOLERANCES for the reasoning).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import jitgraph as jg

DTYPES = ("bool", "int32", "int64", "float32", "float64")
EPS = {
    np.dtype("float32"): float(np.finfo(np.float32).eps),
    np.dtype("float64"): float(np.finfo(np.float64).eps),
}

# Tolerances in units of the result dtype's machine epsilon (f32 eps 1.2e-7, f64 eps 2.2e-16).
# exact: IEEE basic operations (+ - * / sqrt, comparisons, selects) are correctly rounded in
#        both NumPy and Numba, so results agree bit for bit; one eps of slack covers a weak
#        Python float being rounded once in a different place.
# transcendental: libm / SVML / LLVM intrinsics differ by a few ulp (NumPy's SIMD loops are
#        documented at <= 4 ulp); 16 eps is 2e-6 in f32 and 3.6e-15 in f64.
# reduction: the kernels reassociate sums (fastmath 'reassoc', fixed chunking) where NumPy sums
#        pairwise; the error bound of a sum grows with the element count n, so the tolerance
#        is 4 * n eps (relative to the largest magnitude summed, via atol).
TOLERANCES = {"exact": 1, "transcendental": 16, "reduction": 4}


@dataclass(frozen=True)
class Case:
    """One expression over 1..3 inputs, with its tolerance class."""

    name: str
    fn: Callable[..., Any]
    arity: int
    tol: str = "exact"

    def numpy(self, *arrays: np.ndarray) -> np.ndarray:
        """NumPy's result (warnings for x // 0, log(-1), ... are NumPy's business, not ours)."""
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(self.fn(np, *arrays))

    def symbol(self, *variables: jg.Symbol) -> jg.Symbol:
        return self.fn(jg.sym, *variables)


def _c(name: str, fn: Callable[..., Any], arity: int, tol: str = "exact") -> Case:
    # A TypeError from NumPy means "dtypes rejected": a lambda of the wrong arity must not pass
    # for one, so the arity is checked here.
    assert fn.__code__.co_argcount == arity + 1, f"case {name}: lambda takes {arity} arrays"
    return Case(name, fn, arity, tol)


def _finite_or_zero(m: Any, x: Any) -> Any:
    """x with nan/inf replaced by 0: float -> int casts of nan/inf are undefined (in NumPy too)."""
    return m.where(m.isfinite(x), x, 0)


def _nonzero(m: Any, x: Any) -> Any:
    """x with 0 replaced by 1: integer reciprocal of 0 is undefined (NumPy gives INT_MIN)."""
    return m.where(x == 0, 1, x)


UNARY = [
    _c("negative", lambda m, x: m.negative(x), 1),
    _c("neg_op", lambda m, x: -x, 1),
    _c("abs", lambda m, x: m.abs(x), 1),
    _c("logical_not", lambda m, x: m.logical_not(x), 1),
    _c("exp", lambda m, x: m.exp(x), 1, "transcendental"),
    _c("expm1", lambda m, x: m.expm1(x), 1, "transcendental"),
    _c("log", lambda m, x: m.log(x), 1, "transcendental"),
    _c("log1p", lambda m, x: m.log1p(x), 1, "transcendental"),
    _c("log2", lambda m, x: m.log2(x), 1, "transcendental"),
    _c("log10", lambda m, x: m.log10(x), 1, "transcendental"),
    _c("sqrt", lambda m, x: m.sqrt(x), 1),
    _c("square", lambda m, x: m.square(x), 1),
    _c("reciprocal", lambda m, x: m.reciprocal(_nonzero(m, x)), 1),
    _c("sin", lambda m, x: m.sin(x), 1, "transcendental"),
    _c("cos", lambda m, x: m.cos(x), 1, "transcendental"),
    _c("tan", lambda m, x: m.tan(x), 1, "transcendental"),
    _c("arcsin", lambda m, x: m.arcsin(x), 1, "transcendental"),
    _c("arccos", lambda m, x: m.arccos(x), 1, "transcendental"),
    _c("arctan", lambda m, x: m.arctan(x), 1, "transcendental"),
    _c("sinh", lambda m, x: m.sinh(x), 1, "transcendental"),
    _c("cosh", lambda m, x: m.cosh(x), 1, "transcendental"),
    _c("tanh", lambda m, x: m.tanh(x), 1, "transcendental"),
    _c("floor", lambda m, x: m.floor(x), 1),
    _c("ceil", lambda m, x: m.ceil(x), 1),
    _c("sign", lambda m, x: m.sign(x), 1),
    _c("isnan", lambda m, x: m.isnan(x), 1),
    _c("isinf", lambda m, x: m.isinf(x), 1),
    _c("isfinite", lambda m, x: m.isfinite(x), 1),
    *[
        _c(f"astype_{t}", (lambda t: lambda m, x: _finite_or_zero(m, x).astype(t))(t), 1)
        for t in DTYPES
    ],
    # Weak Python scalars (NEP 50): the array's dtype wins unless the scalar's kind is higher.
    _c("add_int", lambda m, x: x + 1, 1),
    _c("mul_float", lambda m, x: x * 2.5, 1),
    _c("rsub_int", lambda m, x: 3 - x, 1),
    _c("div_int", lambda m, x: x / 2, 1),
    _c("rdiv_float", lambda m, x: 1.5 / x, 1),
    _c("floordiv_int", lambda m, x: x // 2, 1),
    _c("mod_int", lambda m, x: x % 3, 1),
    _c("pow_int", lambda m, x: m.power(x, 2), 1),
    _c("pow_float", lambda m, x: x**0.5, 1, "transcendental"),
    _c("gt_int", lambda m, x: x > 0, 1),
    _c("eq_float", lambda m, x: x == 1.0, 1),
    _c("and_bool", lambda m, x: m.logical_and(x, True), 1),
    _c("clip_scalars", lambda m, x: m.clip(x, -1, 2), 1),
    _c("clip_lo", lambda m, x: m.clip(x, 0, None), 1),
    _c("where_scalars", lambda m, x: m.where(x > 0, 1, 0), 1),
    _c("where_scalar_arr", lambda m, x: m.where(x > 0, x, 0.5), 1),
]

BINARY = [
    _c("add", lambda m, x, y: x + y, 2),
    _c("subtract", lambda m, x, y: x - y, 2),
    _c("multiply", lambda m, x, y: x * y, 2),
    _c("true_divide", lambda m, x, y: x / y, 2),
    _c("floor_divide", lambda m, x, y: x // y, 2),
    _c("remainder", lambda m, x, y: x % y, 2),
    # int ** negative int raises in NumPy: |y| keeps integer exponents in range.
    _c("power_abs", lambda m, x, y: x ** m.abs(y), 2, "transcendental"),
    _c("maximum", lambda m, x, y: m.maximum(x, y), 2),
    _c("minimum", lambda m, x, y: m.minimum(x, y), 2),
    _c("arctan2", lambda m, x, y: m.arctan2(x, y), 2, "transcendental"),
    _c("equal", lambda m, x, y: x == y, 2),
    _c("not_equal", lambda m, x, y: x != y, 2),
    _c("less", lambda m, x, y: x < y, 2),
    _c("less_equal", lambda m, x, y: x <= y, 2),
    _c("greater", lambda m, x, y: x > y, 2),
    _c("greater_equal", lambda m, x, y: x >= y, 2),
    _c("logical_and", lambda m, x, y: m.logical_and(x, y), 2),
    _c("logical_or", lambda m, x, y: m.logical_or(x, y), 2),
    _c("logical_xor", lambda m, x, y: m.logical_xor(x, y), 2),
    _c("where", lambda m, x, y: m.where(x > y, x, y), 2),
    _c("clip", lambda m, x, y: m.clip(x, y, 3), 2),
    _c("fused", lambda m, x, y: m.maximum(x * y + 1, x - y), 2),
]

FLOAT_ONLY_BINARY = [
    _c("power", lambda m, x, y: x**y, 2, "transcendental"),
]


# ---------------------------------------------------------------------------------------------
# Inputs

FLOAT_VALUES = [
    np.nan,
    np.inf,
    -np.inf,
    -0.0,
    0.0,
    1.0,
    -1.0,
    0.5,
    -2.5,
    3.0,
    1e-3,
    7.25,
    -0.75,
    2.0,
    100.0,
    -9.5,
    0.25,
    -3.0,
    1.5,
    -0.5,
]
INT_VALUES = [-7, -3, -1, 0, 1, 2, 3, 5, 9, -2, 4, 0, 6, -5, 8, 1, -9, 7, 2, -4]
BOOL_VALUES = [True, False, False, True, True, True, False, False, True, False]


def values(dtype: Any, n: int, shift: int = 0) -> np.ndarray:
    """n values of `dtype` cycling through the special values, starting at `shift`."""
    dtype = np.dtype(dtype)
    pool = {"b": BOOL_VALUES, "i": INT_VALUES, "f": FLOAT_VALUES}[dtype.kind]
    return np.array([pool[(shift + 7 * i) % len(pool)] for i in range(n)], dtype=dtype)


def array(dtype: Any, shape: Sequence[int], shift: int = 0) -> np.ndarray:
    return values(dtype, int(np.prod(shape, dtype=np.int64)), shift).reshape(shape)


# ---------------------------------------------------------------------------------------------
# Comparison


def tolerance(tol: str, dtype: np.dtype, count: int = 1) -> float:
    """Relative tolerance of tolerance class `tol` for results of `dtype` (0 for exact dtypes)."""
    if dtype.kind != "f":
        return 0.0
    scale = TOLERANCES[tol] * (max(count, 1) if tol == "reduction" else 1)
    return scale * EPS[dtype]


def compare(
    name: str,
    got: Any,
    expected: np.ndarray,
    tol: str = "exact",
    count: int = 1,
    scale: float = 0.0,
    signed_zeros: bool = True,
    values: bool = True,
) -> None:
    """Shape and dtype exactly; bool/int values exactly; floats within the class tolerance
    (reductions: relative to `scale`, the magnitude of what was summed), NaN where NumPy has NaN,
    and (for elementwise results) the sign of zeros. `values=False`: np.empty, shape only."""
    got = np.asarray(got)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"{name}: shape {got.shape} != NumPy's {expected.shape}"
    assert got.dtype == expected.dtype, f"{name}: dtype {got.dtype} != NumPy's {expected.dtype}"
    if not values:
        return
    if expected.dtype.kind != "f":
        np.testing.assert_array_equal(got, expected, err_msg=name, strict=True)
        return
    rtol = tolerance(tol, expected.dtype, count)
    # A reassociated sum's error is relative to the magnitudes summed, not to the result.
    atol = rtol * scale if tol == "reduction" else 0.0
    np.testing.assert_allclose(
        got, expected, rtol=rtol, atol=atol, equal_nan=True, err_msg=name, strict=True
    )
    if signed_zeros:
        zeros = (expected == 0) & (got == 0)
        np.testing.assert_array_equal(
            np.signbit(got[zeros]), np.signbit(expected[zeros]), err_msg=f"{name}: sign of zero"
        )


# ---------------------------------------------------------------------------------------------
# Reductions: one case per (op, axis, keepdims), written with the array methods both share.

REDUCTION_OPS = (
    "sum",
    "mean",
    "prod",
    "max",
    "min",
    "any",
    "all",
    "var",
    "std",
    "argmax",
    "argmin",
)
# (axis, keepdims) on a 3-D input; argmax / argmin take None or an int only.
AXES = [
    (None, False),
    (None, True),
    (0, False),
    (-1, True),
    (1, False),
    ((0, 2), False),
    ((2, 0), True),
]
ARG_AXES = [(None, False), (0, False), (-1, True), (1, False)]


def _reduction(op: str, axis: Any, keepdims: bool, operand: int = 0) -> Case:
    """`op` of input number `operand` (x or y) over `axis`."""
    label = "all" if axis is None else "_".join(str(a) for a in np.atleast_1d(axis))
    name = f"{op}[{'xy'[operand]},{label}{',keep' if keepdims else ''}]"
    if operand == 0:
        fn = lambda m, x: getattr(x, op)(axis=axis, keepdims=keepdims)  # noqa: E731
    else:
        fn = lambda m, x, y: getattr(y, op)(axis=axis, keepdims=keepdims)  # noqa: E731
    return _c(name, fn, operand + 1, "reduction")


def reduction_cases(
    ops: Sequence[str] = REDUCTION_OPS, operand: int = 0, axes: Sequence[tuple] = tuple(AXES)
) -> list[Case]:
    cases = []
    for op in ops:
        arg = op.startswith("arg")
        for axis, keepdims in axes:
            if not arg or (axis, keepdims) in ARG_AXES or not isinstance(axis, tuple):
                cases.append(_reduction(op, axis, keepdims, operand))
    return cases


REDUCTION_FUNCTIONS = [
    # The jg.sym / np function spellings, and reductions of computed values.
    _c("np.sum", lambda m, x: m.sum(x, axis=1), 1, "reduction"),
    _c("np.mean", lambda m, x: m.mean(x, axis=(0, 1)), 1, "reduction"),
    _c("np.max", lambda m, x: m.max(x, axis=-1, keepdims=True), 1, "reduction"),
    _c("np.amin", lambda m, x: m.amin(x), 1, "reduction"),
    _c("np.argmax", lambda m, x: m.argmax(x, axis=2), 1, "reduction"),
    _c("np.var_ddof", lambda m, x: m.var(x, axis=0, ddof=1), 1, "reduction"),
    _c("np.std_ddof", lambda m, x: m.std(x, axis=-1, ddof=1), 1, "reduction"),
    _c("sum_of_square", lambda m, x: (x * x).sum(axis=1), 1, "reduction"),
    _c("mean_of_abs_T", lambda m, x: m.abs(x).T.mean(axis=0), 1, "reduction"),
]


def finite_values(dtype: Any, shape: Sequence[int], shift: int = 0) -> np.ndarray:
    """Finite data with repeated values (ties for argmax) and mixed signs and magnitudes."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64))
    k = (np.arange(n) * 5 + shift) % 13 - 6
    if dtype.kind == "b":
        return (k % 3 == 0).reshape(shape)
    if dtype.kind == "i":
        return k.astype(dtype).reshape(shape)
    return (k * 0.75 + np.sin(np.arange(n)) * 0.125).astype(dtype).reshape(shape)


def with_specials(dtype: Any, shape: Sequence[int]) -> np.ndarray:
    """Finite data with NaN twice in one row (argmax must give the first), inf and -inf."""
    a = finite_values(dtype, shape, 1)
    if a.dtype.kind == "f":
        flat = a.reshape(-1)
        flat[[2, 3, 9, 17]] = [np.nan, np.nan, np.inf, -np.inf]
    return a


# ---------------------------------------------------------------------------------------------
# Linear algebra: x (3,4), y (4,5), z (2,3,4)

LINALG = [
    _c("x@y", lambda m, x, y: x @ y, 2, "reduction"),
    _c("matmul", lambda m, x, y: m.matmul(x, y), 2, "reduction"),
    _c("dot", lambda m, x, y: m.dot(x, y), 2, "reduction"),
    _c("mat@vec", lambda m, x, y: x @ y[:, 0], 2, "reduction"),
    _c("vec@mat", lambda m, x, y: x[0] @ y, 2, "reduction"),
    _c("vec@vec", lambda m, x: x[0] @ x[1], 1, "reduction"),
    _c("dot_vec", lambda m, x, y: m.dot(x[0], y[:, 1]), 2, "reduction"),
    _c("dot_scalar", lambda m, x: m.dot(x, 2), 1, "reduction"),
    _c("T@", lambda m, x: x.T @ x, 1, "reduction"),
    _c("computed@", lambda m, x, y: (x + 1) @ (y * 2), 2, "reduction"),
    _c("k=0", lambda m, x, y: x[:, :0] @ y[:0, :], 2, "reduction"),
    _c("batch@", lambda m, x, y, z: z @ y, 3, "reduction"),
    _c("batch@T", lambda m, x, y, z: z @ m.transpose(z, (0, 2, 1)), 3, "reduction"),
    _c("outer", lambda m, x, y: m.outer(x[0], y[1]), 2, "reduction"),
    _c("outer_2d", lambda m, x, y: m.outer(x, y[:2]), 2, "reduction"),
]


# ---------------------------------------------------------------------------------------------
# Structure: x (3,4), y (2,4) of another dtype, z (2,3,4)

STRUCTURE = [
    _c(".T", lambda m, x: x.T, 1),
    _c("transpose3", lambda m, x, y, z: m.transpose(z, (1, 0, 2)), 3),
    _c("transpose_neg", lambda m, x, y, z: z.transpose(-1, 0, 1), 3),
    _c("transpose_default", lambda m, x, y, z: m.transpose(z), 3),
    _c("reshape", lambda m, x: x.reshape(4, 3), 1),
    _c("reshape-1", lambda m, x: x.reshape(-1), 1),
    _c("reshape3", lambda m, x, y, z: z.reshape(6, -1), 3),
    _c("reshape_T", lambda m, x: x.T.reshape(2, -1), 1),
    _c("reshape_fn", lambda m, x: m.reshape(x + x, (2, 3, 2)), 1),
    _c("reshape_slice", lambda m, x: x[::-1, 1:].reshape(-1), 1),
    _c("expand_dims0", lambda m, x: m.expand_dims(x, 0), 1),
    _c("expand_dims-1", lambda m, x: m.expand_dims(x, -1), 1),
    _c("expand_dims_tuple", lambda m, x: m.expand_dims(x, (0, 2)), 1),
    _c("None", lambda m, x: x[None], 1),
    _c(":,None", lambda m, x: x[:, None], 1),
    _c("...,None", lambda m, x: x[..., None], 1),
    _c("squeeze", lambda m, x: m.squeeze(x[:1]), 1),
    _c("squeeze_axis", lambda m, x: x[:, 1:2].squeeze(axis=1), 1),
    _c("squeeze3", lambda m, x, y, z: m.squeeze(z[:1, :, 2:3]), 3),
    _c("broadcast_row", lambda m, x: m.broadcast_to(x[0], (3, 4)), 1),
    _c("broadcast_col", lambda m, x: m.broadcast_to(x[:, :1], (3, 4)), 1),
    _c("broadcast_3d", lambda m, x: m.broadcast_to(x, (2, 3, 4)), 1),
    _c("[1:]", lambda m, x: x[1:], 1),
    _c("[::-1]", lambda m, x: x[::-1], 1),
    _c("[:,::2]", lambda m, x: x[:, ::2], 1),
    _c("[::-2,1:3]", lambda m, x: x[::-2, 1:3], 1),
    _c("[-2:,-3:-1]", lambda m, x: x[-2:, -3:-1], 1),
    _c("[1]", lambda m, x: x[1], 1),
    _c("[-1,2]", lambda m, x: x[-1, 2], 1),
    _c("[:,-1]", lambda m, x: x[:, -1], 1),
    _c("[3:-4:-2]", lambda m, x: x[:, 3:-4:-2], 1),
    _c("z[1,::-1,1::2]", lambda m, x, y, z: z[1, ::-1, 1::2], 3),
    _c("[...,1]", lambda m, x, y, z: z[..., 1], 3),
    _c("[5:] empty", lambda m, x: x[5:], 1),
    _c("[1:2:-1] empty", lambda m, x: x[1:2:-1], 1),
    _c("[0:10]", lambda m, x: x[0:10], 1),
    _c("slice_of_computed", lambda m, x: (x * 2)[::-1, 2], 1),
    _c("view_chain", lambda m, x: x.T[::2][:, None][..., 1:], 1),
    _c("concat0", lambda m, x: m.concatenate([x, x[::-1]], axis=0), 1),
    _c("concat1", lambda m, x: m.concatenate([x, x[:, :2], x[:, :0]], axis=1), 1),
    _c("concat-1", lambda m, x, y, z: m.concatenate([z, z[:, :, 1:]], axis=-1), 3),
    _c("concat_mixed", lambda m, x, y: m.concatenate([x, y]), 2),
    _c("concat_computed", lambda m, x, y: m.concatenate([x + 1, m.abs(y)]), 2),
    _c("stack", lambda m, x: m.stack([x, x[::-1]]), 1),
    _c("stack1", lambda m, x: m.stack([x, x], axis=1), 1),
    _c("stack-1", lambda m, x, y: m.stack([x[:2], y], axis=-1), 2),
    _c("transpose_of_sum", lambda m, x: (x + x).T[1:], 1),
    # One-element slices broadcast like NumPy's size-1 axes.
    _c("x/x[:,:1]", lambda m, x: x / x[:, :1], 1),
    _c("x-x[:,-1:]", lambda m, x: x - x[:, -1:], 1),
    _c("x[1:2]+x", lambda m, x: x[1:2] + x, 1),
]

# ---------------------------------------------------------------------------------------------
# Creation (x gives the _like forms their shape and dtype)

CREATION = [
    _c("zeros", lambda m, x: m.zeros((2, 3)), 1),
    _c("zeros_i32", lambda m, x: m.zeros((2, 3), dtype=np.int32), 1),
    _c("zeros_0d", lambda m, x: m.zeros(()), 1),
    _c("ones", lambda m, x: m.ones(4), 1),
    _c("ones_bool", lambda m, x: m.ones((2, 2), dtype=bool), 1),
    _c("ones_empty", lambda m, x: m.ones((0, 3), dtype=np.float32), 1),
    _c("full_int", lambda m, x: m.full((2, 3), 7), 1),
    _c("full_float", lambda m, x: m.full((2,), -2.5), 1),
    _c("full_f32", lambda m, x: m.full((2, 3), 2.5, dtype=np.float32), 1),
    _c("full_bool", lambda m, x: m.full((3,), True), 1),
    _c("full_cast", lambda m, x: m.full((2,), 3.9, dtype=np.int64), 1),
    _c("empty", lambda m, x: m.empty((2, 3)), 1),
    _c("empty_i64", lambda m, x: m.empty(3, dtype=np.int64), 1),
    _c("zeros_like", lambda m, x: m.zeros_like(x), 1),
    _c("ones_like", lambda m, x: m.ones_like(x), 1),
    _c("ones_like_f32", lambda m, x: m.ones_like(x, dtype=np.float32), 1),
    _c("full_like", lambda m, x: m.full_like(x, 3), 1),
    _c("full_like_float", lambda m, x: m.full_like(x, 2.7), 1),
    _c("full_like_dtype", lambda m, x: m.full_like(x, 2.7, dtype=np.float64), 1),
    _c("empty_like", lambda m, x: m.empty_like(x), 1),
    _c("arange", lambda m, x: m.arange(5), 1),
    _c("arange_step", lambda m, x: m.arange(2, 10, 3), 1),
    _c("arange_neg", lambda m, x: m.arange(10, 0, -3), 1),
    _c("arange_float", lambda m, x: m.arange(0.0, 1.0, 0.1), 1),
    _c("arange_mixed", lambda m, x: m.arange(1, 2.5, 0.5), 1),
    _c("arange_f32", lambda m, x: m.arange(5, dtype=np.float32), 1),
    _c("arange_empty", lambda m, x: m.arange(3, 1), 1),
    _c("arange_plus", lambda m, x: x + m.arange(4), 1),
    _c("eye", lambda m, x: m.eye(3), 1),
    _c("eye_k", lambda m, x: m.eye(3, 4, k=1), 1),
    _c("eye_neg_k", lambda m, x: m.eye(4, 3, k=-2, dtype=np.int32), 1),
    _c("eye_bool", lambda m, x: m.eye(2, dtype=bool), 1),
    _c("linspace", lambda m, x: m.linspace(0, 1, 5), 1),
    _c("linspace_open", lambda m, x: m.linspace(0, 1, 5, endpoint=False), 1),
    _c("linspace_1", lambda m, x: m.linspace(-1, 1, 1), 1),
    _c("linspace_int", lambda m, x: m.linspace(0, 10, 4, dtype=np.int32), 1),
    _c("linspace_neg_int", lambda m, x: m.linspace(-7, 3, 6, dtype=np.int64), 1),
    _c("linspace_flat", lambda m, x: m.linspace(2, 2, 3), 1),
    _c("linspace_0", lambda m, x: m.linspace(0, 1, 0), 1),
    _c("linspace_f32", lambda m, x: m.linspace(1, 0, 7, dtype=np.float32), 1),
]
UNINITIALIZED = {"empty", "empty_i64", "empty_like"}  # np.empty's values are arbitrary
