"""Comparing a result with NumPy's: structure, types, shapes, dtypes and values.

Tolerances depend on the dtype. Integers and bools must be equal. Floats pass if
`|got - expected| <= atol + rtol * |expected|` and have NaN in the same places and infinities
of the same sign. The default `atol` is `rtol * scale`, where `scale` is the largest finite
magnitude of the values involved (the arguments and the expected output, unless the caller
knows a larger one): a sum or a difference has an error relative to the values combined, not
to the result, so `x.sum() - x.sum(axis=0).sum()` may be 1e-13 where NumPy gives 0.0.
The signs of zeros are not compared: IEEE 754 leaves the sign of `maximum(-0.0, 0.0)`
unspecified, and NumPy's answer depends on which SIMD loop ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

# Default relative tolerance per float dtype. float32: ~84 ulp (a few transcendental ulps, a
# reassociated sum of a few hundred terms); float64: ~4500 ulp (the same, with headroom for
# float64 intermediates that NumPy and jitgraph round at different points).
DEFAULT_RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


@dataclass(frozen=True)
class Tolerance:
    """What the caller asked for: None means the dtype's default."""

    rtol: float | None = None
    atol: float | None = None
    scale: float = 0.0  # magnitude the default atol is relative to

    def for_dtype(self, dtype: np.dtype, expected: np.ndarray) -> tuple[float, float]:
        """(rtol, atol) for a float result of `dtype` whose NumPy value is `expected`."""
        rtol = DEFAULT_RTOL.get(dtype, 1e-12) if self.rtol is None else self.rtol
        if self.atol is not None:
            return rtol, self.atol
        return rtol, rtol * max(self.scale, magnitude(expected))


def magnitude(value: Any) -> float:
    """The largest finite absolute value in `value` (0.0 if it has none or is not numeric)."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf" or array.size == 0:
        return 0.0
    finite = np.abs(array[np.isfinite(array)]) if array.dtype.kind == "f" else np.abs(array)
    return float(finite.max()) if finite.size else 0.0


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, leaf) pairs of a nested tuple/list result, in order: '0', '1.0', ..."""
    if isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            yield from leaves(item, f"{path}.{i}" if path else str(i))
    else:
        yield path or "0", value


def structure_problem(got: Any, expected: Any, where: str) -> str | None:
    """A description of how the nesting and container types differ, or None."""
    if isinstance(expected, (tuple, list)):
        if type(got) is not type(expected):
            return f"{where}: {_kind(got)} where NumPy gives {_kind(expected)}"
        if len(got) != len(expected):
            return f"{where}: {len(got)} items where NumPy gives {len(expected)}"
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            problem = structure_problem(g, e, f"{where}[{i}]")
            if problem:
                return problem
        return None
    if isinstance(got, (tuple, list)):
        return f"{where}: {_kind(got)} where NumPy gives {_kind(expected)}"
    return None


def _kind(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    if isinstance(value, np.ndarray):
        return f"an array {value.dtype}{list(value.shape)}"
    if isinstance(value, np.generic):
        return f"a NumPy scalar {value.dtype}"
    return f"{type(value).__name__} {value!r}"


def leaf_problem(got: Any, expected: Any, tol: Tolerance, what: str) -> str | None:
    """How one leaf (array, NumPy scalar, Python value) differs from NumPy's, or None.

    A NumPy scalar and a 0-d array are interchangeable (NumPy itself returns either depending
    on the function; jitgraph returns NumPy scalars for 0-d results); a Python number must be
    a Python number of the same type."""
    numpy_kinds = (np.ndarray, np.generic)
    if isinstance(expected, numpy_kinds):
        if not isinstance(got, numpy_kinds):
            return f"{what}: {_kind(got)} where NumPy gives {_kind(expected)}"
        return array_problem(np.asarray(got), np.asarray(expected), tol, what)
    if isinstance(expected, (bool, int, float)):
        if type(got) is not type(expected):
            return f"{what}: {_kind(got)} where NumPy gives {_kind(expected)}"
        return array_problem(np.asarray(got), np.asarray(expected), tol, what)
    if got is not expected and got != expected:
        return f"{what}: {got!r} where NumPy gives {expected!r}"
    return None


def array_problem(got: np.ndarray, expected: np.ndarray, tol: Tolerance, what: str) -> str | None:
    """Shape, dtype and values of `got` against NumPy's `expected`: a message, or None."""
    if got.shape != expected.shape:
        return f"{what}: shape {got.shape} where NumPy gives {expected.shape}"
    if got.dtype != expected.dtype:
        return f"{what}: dtype {got.dtype} where NumPy gives {expected.dtype}"
    bad = differing(got, expected, tol)
    if not bad.any():
        return None
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    count = int(bad.sum())
    detail = ""
    if expected.dtype.kind == "f":
        rtol, atol = tol.for_dtype(expected.dtype, expected)
        detail = f" (rtol={rtol:.3g}, atol={atol:.3g})"
    return (
        f"{what}: {count} of {expected.size} values differ; first at index {index}: "
        f"got {got[index]!r}, NumPy gives {expected[index]!r}{detail}"
    )


def differing(got: np.ndarray, expected: np.ndarray, tol: Tolerance) -> np.ndarray:
    """Boolean mask of the elements of `got` outside the tolerance of `expected`."""
    if expected.dtype.kind != "f":
        return np.asarray(got != expected)
    rtol, atol = tol.for_dtype(expected.dtype, expected)
    g = got.astype(np.float64)
    e = expected.astype(np.float64)
    nan_g, nan_e = np.isnan(g), np.isnan(e)
    inf_g, inf_e = np.isinf(g), np.isinf(e)
    with np.errstate(all="ignore"):
        far = np.abs(g - e) > atol + rtol * np.abs(e)
    both_finite = ~(nan_g | nan_e | inf_g | inf_e)
    # NaN only where NumPy has NaN; an infinity only where NumPy has the same one.
    infinite_differ = (inf_g | inf_e) & (g != e)
    return (nan_g != nan_e) | infinite_differ | (both_finite & far)


def bit_identical(a: np.ndarray, b: np.ndarray) -> bool:
    """Same shape, dtype and bytes (NaN payloads and zero signs included)."""
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
