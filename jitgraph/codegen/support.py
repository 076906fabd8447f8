"""Small functions generated kernels call, compiled with their own fast-math flags.

A max/min reduction written with NaN checks in the loop branches and does not vectorize. The
kernels instead keep a running maximum with `fmax` below, whose comparison may assume no NaN
(so LLVM turns the loop into a vector max reduction), and track NaN separately with `x != x`
in the kernel's own NaN-respecting code; a NaN seen anywhere makes the result NaN, as NumPy's.
The flags stay on these instructions when LLVM inlines the calls (Numba-level inlining would
replace them with the kernel's).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from ..ir.control import checked_index, checked_window
from .gemm import checked as gemm_checked

_NO_NAN = {"nnan", "nsz", "contract", "reassoc"}


@njit(fastmath=_NO_NAN, cache=True)
def fmax(a, b):  # pragma: no cover - compiled
    return a if a > b else b


@njit(fastmath=_NO_NAN, cache=True)
def fmin(a, b):  # pragma: no cover - compiled
    return a if a < b else b


def _matmul(a, b, out):
    np.matmul(a, b, out=out)


NAMESPACE: dict[str, Any] = {
    "_gemm_float32": gemm_checked,
    "_gemm_float64": gemm_checked,
    "_fmax": fmax,
    "_fmin": fmin,
    "_wrap_index": njit(cache=True)(checked_index),
    "_wrap_window": njit(cache=True)(checked_window),
}
PYTHON_NAMESPACE: dict[str, Any] = {
    "_gemm_float32": _matmul,
    "_gemm_float64": _matmul,
    "_fmax": lambda a, b: a if a > b else b,
    "_fmin": lambda a, b: a if a < b else b,
    "_wrap_index": checked_index,
    "_wrap_window": checked_window,
}
