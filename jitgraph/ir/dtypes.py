"""Supported dtypes and NumPy 2 type promotion (NEP 50: Python scalars are weak).

Result dtypes are never re-derived by hand: they are asked of NumPy itself by applying the real
function to tiny probe operands, so jitgraph's promotion is NumPy's by construction.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import GraphTypeError

SUPPORTED = tuple(
    np.dtype(t)
    for t in (
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float32",
        "float64",
    )
)
_SHORT = {
    "bool": "bool",
    "int8": "i8",
    "int16": "i16",
    "int32": "i32",
    "int64": "i64",
    "uint8": "u8",
    "uint16": "u16",
    "uint32": "u32",
    "uint64": "u64",
    "float32": "f32",
    "float64": "f64",
}
_FROM_SHORT = {v: k for k, v in _SHORT.items()}

BOOL = np.dtype("bool")
INT64 = np.dtype("int64")
FLOAT64 = np.dtype("float64")


def short_name(dtype: np.dtype) -> str:
    """`f32`, `i64`, `bool`, ...: the spelling used by the printer and the CLI."""
    return _SHORT[np.dtype(dtype).name]


def from_name(name: str) -> np.dtype:
    """Parse `f32` or `float32` (or any alias NumPy accepts) into a supported dtype."""
    text = _FROM_SHORT.get(name, name)
    try:
        dtype = np.dtype(text)
    except TypeError:
        raise GraphTypeError(f"unknown dtype {name!r}; use one of {supported_names()}") from None
    return check(dtype, f"dtype {name!r}")


def supported_names() -> str:
    return ", ".join(d.name for d in SUPPORTED)


def check(dtype: Any, what: str) -> np.dtype:
    """`dtype` as np.dtype if jitgraph supports it; else a clear error naming `what`."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise GraphTypeError(f"{what}: {dtype!r} is not a dtype") from None
    if dtype.byteorder == ">" or dtype not in SUPPORTED:
        hint = " (cast to float32 first)" if dtype.kind in "fc" else ""
        raise GraphTypeError(
            f"{what} has dtype {dtype}, which jitgraph does not support{hint}; "
            f"supported: {supported_names()}"
        )
    return dtype


def weak_default(value: Any) -> np.dtype:
    """The dtype NumPy gives a Python scalar once it stands alone (bool, int64, float64)."""
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT64
    if isinstance(value, float):
        return FLOAT64
    raise GraphTypeError(f"unsupported Python scalar {value!r} of type {type(value).__name__}")


def _probe_value(dtype: np.dtype, weak: bool, value: Any) -> Any:
    if not weak:
        return np.ones((1,), dtype)
    if value is not None:
        return value
    return {"b": True, "i": 1, "u": 1, "f": 1.0}[dtype.kind]


def probe(
    fn: Callable[..., Any], operands: Sequence[tuple[np.dtype, bool, Any]], what: str
) -> np.dtype:
    """Apply `fn` to probe operands (dtype, weak, python value or None) and return the result dtype.

    NumPy's own TypeError / OverflowError (e.g. `negative` of bool, `uint8 + -1`) becomes a
    GraphTypeError naming `what`.
    """
    args = [_probe_value(d, w, v) for d, w, v in operands]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            result = fn(*args)
        except (TypeError, OverflowError, ValueError) as exc:
            kinds = ", ".join(
                ("Python " + type(_probe_value(d, w, v)).__name__) if w else d.name
                for d, w, v in operands
            )
            raise GraphTypeError(f"{what} does not accept ({kinds}): {exc}") from None
    return np.asarray(result).dtype
