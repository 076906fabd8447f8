"""hypothesis strategies for testing jitted functions: dtypes, broadcastable shapes, arrays
(NaN, inf, empty, strided and negative-stride layouts included) and random programs.

    from hypothesis import given
    from jitgraph.testing import strategies as jst

    @given(jst.arrays(dtype="float32"))
    def test_double(x):
        assert_matches_numpy(double, x, backend="python")
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .programs import DTYPES, Program, generate_program

__all__ = [
    "dtypes",
    "shapes",
    "broadcast_shapes",
    "elements",
    "arrays",
    "layouts",
    "array_tuples",
    "programs",
    "DTYPES",
]


def dtypes(names: tuple[str, ...] = DTYPES) -> st.SearchStrategy[np.dtype]:
    """One of the dtypes jitgraph supports (by default bool, int32, int64, float32, float64)."""
    return st.sampled_from([np.dtype(n) for n in names])


def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 0, max_side: int = 5
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes, empty axes (size 0) included unless `min_side` > 0."""
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcast_shapes(
    count: int = 2, min_dims: int = 0, max_dims: int = 3, min_side: int = 0, max_side: int = 5
) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """`count` shapes that broadcast together (size-1 axes and missing leading axes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=count, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda result: result.input_shapes)


def elements(
    dtype: Any, allow_nan: bool = True, allow_infinity: bool = True, bound: float | None = None
) -> st.SearchStrategy[Any]:
    """Values of `dtype`: NaN, +-inf and -0.0 included for floats unless excluded; `bound`
    limits magnitudes (integers default to their full range)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        low = info.min if bound is None else max(info.min, -int(bound))
        high = info.max if bound is None else min(info.max, int(bound))
        return st.integers(low, high)
    return st.floats(
        -bound if bound else None,
        bound,
        allow_nan=allow_nan and bound is None,
        allow_infinity=allow_infinity and bound is None,
        width=dtype.itemsize * 8,
    )


def layouts() -> st.SearchStrategy[str]:
    """How an array is laid out in memory."""
    return st.sampled_from(("contiguous", "strided", "reversed", "transposed"))


@st.composite
def arrays(
    draw: st.DrawFn,
    dtype: Any = None,
    shape: Any = None,
    layout: str | None = None,
    **element_options: Any,
) -> np.ndarray:
    """An array of `dtype` and `shape` (drawn if not given, or given as strategies) in a
    drawn `layout`: contiguous, strided (every other element of a larger array), reversed
    (negative stride) or transposed (Fortran order)."""
    dtype = np.dtype(
        draw(dtype)
        if isinstance(dtype, st.SearchStrategy)
        else (dtype if dtype is not None else draw(dtypes()))
    )
    shape = tuple(
        draw(shape)
        if isinstance(shape, st.SearchStrategy)
        else (shape if shape is not None else draw(shapes()))
    )
    layout = layout or draw(layouts())
    values = elements(dtype, **element_options)
    if layout == "transposed" and len(shape) >= 2:
        return draw(hnp.arrays(dtype, shape[::-1], elements=values)).T
    if layout in ("strided", "reversed") and shape:
        axis = draw(st.integers(0, len(shape) - 1))
        base = list(shape)
        step = -1
        if layout == "strided":
            base[axis], step = 2 * shape[axis], draw(st.sampled_from((2, -2)))
        key = (slice(None),) * axis + (slice(None, None, step),)
        return draw(hnp.arrays(dtype, tuple(base), elements=values))[key]
    return draw(hnp.arrays(dtype, shape, elements=values))


@st.composite
def array_tuples(
    draw: st.DrawFn, count: int = 2, dtype: Any = None, **shape_options: Any
) -> tuple[np.ndarray, ...]:
    """`count` arrays whose shapes broadcast together (each with its own drawn dtype and
    layout unless `dtype` is given)."""
    shape_tuple = draw(broadcast_shapes(count, **shape_options))
    return tuple(draw(arrays(dtype=dtype, shape=shape)) for shape in shape_tuple)


def programs(inplace: bool = True) -> st.SearchStrategy[Program]:
    """Random programs (see `jitgraph.testing.programs`) drawn from hypothesis' randomness,
    so failing programs shrink towards simpler choices."""
    return st.randoms(use_true_random=False).map(
        lambda rng: generate_program(_plain(rng), "program", inplace)
    )


def _plain(rng: random.Random) -> random.Random:
    # The generator seeds sub-choices from `rng` directly; hypothesis' Random supports it.
    return rng
