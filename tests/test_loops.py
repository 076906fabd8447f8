"""Loops the kernel runs and runtime indices: semantics at the edges (zero trips, type
widening, negative and out-of-range indices), the errors, and the shape of the generated loop
(in-place updates of carried arrays, loop-invariant code computed once)."""

import re

import numpy as np
import pytest
from corpus import loops

import jitgraph as jg

BACKENDS = ["python", pytest.param("numba", marks=pytest.mark.numba)]


def widening(n):
    t = 0
    for _ in range(n):
        t += 0.5
    return t


def invariant_exp(x, a, n):
    for _ in range(n):
        x = x + np.exp(a)
    return x


def used_after(x, n):
    for i in range(n):
        y = x * i
    return y  # noqa: F821 - assigned only in the loop


def writes_before_rebinding(x, n):
    for _ in range(n):
        x[0] = 1.0
        x = x * 2.0
    return x


@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_trip_loops_leave_values_unchanged(backend):
    a, b = np.arange(6.0), np.arange(6.0) * 2
    f = jg.jit(loops.heat_time_loop, backend=backend)
    result = f(a, b, 0)
    assert np.array_equal(result, np.arange(6.0)) and np.array_equal(b, np.arange(6.0) * 2)
    x, n = jg.jit(loops.halve_until_small, backend=backend)(np.full(3, 0.5))
    assert n == 0 and np.array_equal(x, np.full(3, 0.5))


@pytest.mark.parametrize("backend", BACKENDS)
def test_carried_scalar_type_widens_to_what_the_body_makes(backend):
    got = jg.jit(widening, backend=backend)(5)
    assert got == 2.5 and np.asarray(got).dtype == np.float64


@pytest.mark.parametrize("backend", BACKENDS)
def test_runtime_index_out_of_range_names_the_expression(backend):
    f = jg.jit(loops.pick_row, backend=backend)
    X = np.arange(12.0).reshape(3, 4)
    row, last = f(X, -1)
    assert np.array_equal(row, X[-1] * 2) and last == X[-1, -1]
    with pytest.raises(IndexError) as info:
        f(X, 3)
    text = str(info.value)
    assert "index 3 is out of bounds for axis with size 3" in text
    assert "X[i] at " in text and "loops.py:" in text
    assert isinstance(info.value, jg.JitGraphError)


def test_loop_index_out_of_range_in_a_recurrence_is_caught():
    def shifted(x):
        for i in range(len(x)):
            x[i] = x[i + 1]
        return x

    f = jg.jit(shifted, backend="python")
    with pytest.raises(IndexError, match=r"x\[i \+ 1\] at .*test_loops.py"):
        f(np.arange(4.0))


def test_carried_array_updates_in_place():
    source = jg.jit(loops.exponential_smoothing, backend="python").source(np.zeros(8))
    loop = source[source.index("for it") : source.index("# result")]
    assert "prange" not in loop and "next" not in loop  # one element written, nothing copied
    stencil = jg.jit(loops.heat_time_loop, backend="python").source(np.zeros(8), np.zeros(8), 2)
    assert "next" not in stencil  # both region updates land in the carried arrays
    # A and B are checked to broadcast both ways, so their sizes are one size: each half-step
    # is one nest computing its value where it writes it, with no clamped reads.
    body = stencil[stencil.index("for it"):stencil.index("# result")]
    assert "min(np.int64" not in body and body.count("# setitem") == 4  # serial + parallel
    assert "row loop" not in body and "buf" not in body


def test_loop_invariant_values_are_computed_once_before_the_loop():
    source = jg.jit(invariant_exp, backend="python").source(np.zeros(4), np.zeros(4), 3)
    assert source.index("exp") < source.index("for it")


def test_name_assigned_only_in_the_loop_is_an_error_after_it():
    with pytest.raises(jg.FrontendError, match="'y' is assigned only inside a loop"):
        jg.jit(used_after, backend="python")(np.zeros(3), 2)


def test_writing_into_a_name_before_the_loop_rebinds_it_is_refused():
    with pytest.raises(jg.FrontendError, match="rebound to a new array in this loop"):
        jg.jit(writes_before_rebinding, backend="python")(np.zeros(3), 2)
    x = np.zeros(3)
    assert np.array_equal(x, np.zeros(3))


def test_runtime_loops_match_the_reference_interpreter():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(9)
    want = loops.exponential_smoothing(x.copy())
    got = jg.jit(loops.exponential_smoothing, backend="reference")(x.copy())
    assert np.array_equal(want, got)


def test_too_many_runtime_indices_is_a_located_error():
    def too_many(x, i):
        return x[i, i]

    with pytest.raises(jg.ArgumentShapeError, match="array is 1-dimensional, but 2 were indexed"):
        jg.jit(too_many, backend="python")(np.zeros(3), 1)


def window_sum(x, i):
    return x[i - 1:i + 2].sum()


def prefix_sum(x):
    return x[:x.argmax()].sum()  # a length that depends on the data


@pytest.mark.parametrize("backend", BACKENDS)
def test_runtime_windows_match_numpy_and_refuse_short_slices(backend):
    f = jg.jit(window_sum, backend=backend)
    x = np.arange(10.0)
    for i in (1, 5, 8, -3):
        assert f(x, i) == window_sum(x, i)
    # NumPy returns fewer than 3 elements here (x[9:12], x[-2:1]): jitgraph raises
    for i in (9, -1, 0):
        with pytest.raises(IndexError, match=r"slice of 3 elements starting at index .* "
                                             r"\(x\[i - 1:i \+ 2\] at .*test_loops.py:"):
            f(x, i)


def test_slices_of_runtime_length_are_reported_with_a_caret():
    with pytest.raises(jg.JitGraphError) as info:
        jg.jit(prefix_sum, backend="python")(np.arange(5.0))
    text = str(info.value)
    assert "length is known only at run time" in text and "test_loops.py:" in text
    assert "^" in text and "x[i:i + k]" in text


def add_to_rows(Y, v):
    for i in range(Y.shape[0]):
        Y[i] = Y[i] + v * i  # reads the row it writes: updated in place
    return Y


def shift_rows(Y, v):
    for i in range(1, Y.shape[0]):
        Y[i] = Y[i - 1] + v  # reads another row: the old values must be read
    return Y


def reverse_rows(Y, v):
    for i in range(Y.shape[0]):
        Y[i] = Y[i][::-1] + v  # reads the written row reversed: not in place
    return Y


@pytest.mark.parametrize("backend", BACKENDS)
def test_row_updates_in_a_loop(backend):
    for fn in (add_to_rows, shift_rows, reverse_rows):
        Y, v = np.arange(12.0).reshape(4, 3), np.array([1.0, -2.0, 0.5])
        got = jg.jit(fn, backend=backend)(Y.copy(), v)
        np.testing.assert_array_equal(got, fn(Y.copy(), v))
    source = jg.jit(add_to_rows, backend="python").source(np.ones((4, 3)), np.ones(3))
    body = source[source.index("for it"):source.index("return 0")]
    # in place, in the caller's own array: the entry passes Y as the output the loop carries
    assert "next" not in body and re.search(r"out0\[s\d+, i\d+\] = ", body)
    assert "out0 = a0" in source and "carry" not in body
    reverse = jg.jit(reverse_rows, backend="python").source(np.ones((4, 3)), np.ones(3))
    assert "next" in reverse[reverse.index("for it"):]  # a scratch row: not in place
