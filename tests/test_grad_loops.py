"""Reverse mode through loops with a runtime trip count (jitgraph/autodiff_loops.py): gradients
against central finite differences in float64 through scalar accumulations, recurrences,
carried arrays, while loops, zero-trip loops, `for row in X`, nested loops and branches in a
body; which strategy a loop gets (a tape when the trip count is a size, recomputation
otherwise); dtypes. Reference and python backends by default; the Numba runs are marked."""

from __future__ import annotations

import numpy as np
import pytest

import jitgraph as jg

BACKENDS = ["reference", "python"]
EPS = 1e-6
RTOL = 1e-5


def numeric_grad(fn, args: list, k: int):
    """Central finite differences of the scalar fn(*args) with respect to args[k] (an array
    or a float); every call gets fresh copies of the arrays (functions may write them)."""

    def call(values):
        return fn(*[v.copy() if isinstance(v, np.ndarray) else v for v in values])

    values = list(args)
    if not isinstance(values[k], np.ndarray):
        hi, lo = list(values), list(values)
        hi[k], lo[k] = values[k] + EPS, values[k] - EPS
        return (call(hi) - call(lo)) / (2 * EPS)
    x = np.array(values[k], dtype=np.float64)
    values[k] = x
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + EPS
        hi = call(values)
        x[i] = old - EPS
        lo = call(values)
        x[i] = old
        out[i] = (hi - lo) / (2 * EPS)
    return out


def assert_close(got, want) -> None:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    err = float(np.max(np.abs(got - want), initial=0.0)) / scale
    assert err <= RTOL, f"relative error {err:.2e}\n got {got}\nwant {want}"


def check_grads(fn, args: list, argnums: tuple[int, ...], backend: str):
    """value_and_grad of fn matches fn and finite differences; returns the gradients."""
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    value, grads = jg.value_and_grad(fn, argnums=argnums, backend=backend)(*copies)
    expected = fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    assert np.isclose(value, expected, rtol=1e-12, atol=1e-12), (value, expected)
    for k, g in zip(argnums, grads, strict=True):
        assert_close(g, numeric_grad(fn, args, k))
    return grads


# ---------------------------------------------------------------------------------------------
# The functions


def accumulate(x, w, n):
    t = 0.0
    for i in range(n):
        t = t + np.sin(x[i]) * w
    return t


def recurrence(x, a):
    z = np.zeros_like(x)
    z[0] = x[0]
    for i in range(1, len(x)):
        z[i] = z[i - 1] * a + x[i]
    return (z * z).sum()


def descent(x, lr, steps):
    for _ in range(steps):
        x = x - lr * np.tanh(x)
    return (x**2).sum()


def shrink(x, s):
    while np.abs(x).max() > 1.0:
        x = x * s
    return (x * x).sum() + x[0]


def rows(X, w):
    total = np.zeros(X.shape[1])
    for row in X:
        total = total * w + row * np.sin(row)
    return (total * total).sum()


def pairwise(x):
    s = 0.0
    for i in range(len(x)):
        for j in range(i):
            s += (x[i] - x[j]) ** 2 * x[j]
    return s


def branchy(x, n):
    t = 1.0
    for i in range(n):
        if x[i] > 0:
            t = t + np.sum(x[:2] * x[i]) * t
        else:
            t = t * x[i]
    return t


def counted(x):
    n = 0
    s = 0.0
    while s < 3.0:
        s = s + np.exp(x[n % 3]) * (n + 1)
        n += 1
    return s * n


def backwards(x):
    t = 0.0
    for i in range(len(x) - 1, -1, -1):
        t = t * 0.9 + np.sin(x[i]) * t + x[i]
    return t


def stepped(x):
    t = 1.0
    for i in range(1, len(x), 2):
        t = np.maximum(t * x[i], 0.1) + x[i - 1]
    return t


def swapped(x, n):
    a = x[0]
    b = x[1]
    for _ in range(n):
        a, b = b * 1.5, a + np.sin(b)
    return a * b


def smear(x, a):
    z = x * 1.0
    for i in range(len(x)):
        z = z * a + x[i]
    return (z * z).sum()


def power(A, v, iterations):
    for _ in range(iterations):
        v = A @ v
        v = v / np.sqrt((v * v).sum())
    return v[0]


def untouched(x, w):
    t = 0.0
    for i in range(len(x)):
        t = t + x[i]
    return t * w


def weak_counter(x):
    k = 0
    t = np.float32(1.0)
    for i in range(len(x)):
        k += 2
        t = t * x[i] + t * k
    return t


def combined(x, lr, steps):
    """A recurrence (taped), a runtime step count (recomputed) and a while loop (counted)."""
    z = np.zeros_like(x)
    z[0] = x[0]
    for i in range(1, len(x)):
        z[i] = z[i - 1] * 0.5 + x[i]
    for _ in range(steps):
        z = z - lr * np.tanh(z)
    while np.abs(z).max() > 1.0:
        z = z * 0.75
    return (z**2).sum() + z[-1]


rng = np.random.default_rng(5)
X5 = rng.normal(size=5)


# ---------------------------------------------------------------------------------------------
# Gradients against finite differences


@pytest.mark.parametrize("backend", BACKENDS)
def test_scalar_accumulation_with_a_runtime_trip_count(backend):
    gx, gw = check_grads(accumulate, [X5, 0.7, 3], (0, 1), backend)
    # the elements the loop never reads get no gradient
    assert np.all(gx[3:] == 0) and np.all(gx[:3] != 0) and gw != 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_recurrence_written_into_a_preallocated_array(backend):
    check_grads(recurrence, [rng.normal(size=6), 0.8], (0, 1), backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_loop_carrying_an_array(backend):
    check_grads(descent, [rng.normal(size=4), 0.3, 5], (0, 1), backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_while_loop_on_data(backend):
    x = np.array([3.0, -2.5, 0.5])
    check_grads(shrink, [x, 0.7], (0, 1), backend)
    check_grads(shrink, [x * 0.1, 0.7], (0, 1), backend)  # runs zero times: ds = 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_loops_that_run_zero_times(backend):
    gx, gw = check_grads(accumulate, [X5, 0.7, 0], (0, 1), backend)
    assert np.all(gx == 0) and gw == 0
    x = rng.normal(size=4)
    gx, glr = check_grads(descent, [x, 0.3, 0], (0, 1), backend)
    assert np.array_equal(gx, 2 * x) and glr == 0
    gx, glr = check_grads(descent, [x, 0.3, -2], (0, 1), backend)  # an empty range
    assert np.array_equal(gx, 2 * x)
    one = np.array([0.4])
    assert_close(jg.grad(recurrence, argnums=0, backend=backend)(one, 0.8), 2 * one)


@pytest.mark.parametrize("backend", BACKENDS)
def test_for_row_in_matrix(backend):
    check_grads(rows, [rng.normal(size=(4, 3)), 0.9], (0, 1), backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_nested_loops(backend):
    check_grads(pairwise, [rng.normal(size=5)], (0,), backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_branch_in_a_loop_body(backend):
    x = np.array([0.5, -0.7, 1.2, -0.3, 0.9])
    check_grads(branchy, [x, 5], (0,), backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_while_loop_with_an_integer_counter_read_by_the_body(backend):
    check_grads(counted, [np.array([0.1, -0.2, 0.3])], (0,), backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_descending_range_and_a_product_in_the_body(backend):
    check_grads(backwards, [rng.normal(size=5)], (0,), backend)
    # a step of 2, and comparisons (bool values) read by the VJP of maximum
    check_grads(stepped, [np.array([0.3, 1.5, -0.2, 0.7, 0.4, -1.2, 0.9])], (0,), backend)
    check_grads(power, [rng.normal(size=(3, 3)), rng.normal(size=3), 3], (0, 1), backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_carried_values_exchanged_each_iteration(backend):
    check_grads(swapped, [np.array([0.3, 0.7]), 3], (0,), backend)
    check_grads(swapped, [np.array([0.3, 0.7]), 4], (0,), backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_loop_that_does_not_depend_on_the_argument(backend):
    x = rng.normal(size=4)
    gx, gw = check_grads(untouched, [x, 1.5], (0, 1), backend)
    assert np.allclose(gx, 1.5) and np.isclose(gw, x.sum())
    assert np.isclose(jg.grad(untouched, argnums=1, backend=backend)(x, 1.5), x.sum())


@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_loops_keep_their_dtype(backend):
    x = np.linspace(0.5, 1.0, 4).astype(np.float32)
    value, g = jg.value_and_grad(weak_counter, backend=backend)(x)
    assert g.dtype == np.float32 and np.asarray(value).dtype == np.float32
    want = numeric_grad(weak_counter, [x.astype(np.float64)], 0)
    assert np.allclose(g, want, rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# Strategies


def backward_text(fn, *args, argnums=(0, 1)) -> str:
    return jg.grad(fn, argnums=argnums, backend="python").graph(*args)


def test_a_trip_count_that_is_a_size_is_taped_not_recomputed():
    # range(1, len(x)): the value the backward pass reads (z[i - 1] for d/da, a scalar) is
    # kept per iteration, not recomputed by replaying the loop
    text = backward_text(recurrence, np.ones(5), 0.5)
    assert "tape of line" in text and "replay of line" not in text
    text = backward_text(rows, np.ones((3, 2)), 0.5)
    assert "tape of line" in text and "replay of line" not in text
    text = backward_text(stepped, np.ones(5), argnums=0)
    assert "tape of line" in text and "replay of line" not in text


def test_a_tape_larger_than_an_argument_is_recomputed_instead():
    # d/da reads all of z (x.0 elements) in each of x.0 iterations: no x.0 x x.0 tape
    text = backward_text(smear, np.ones(4), 0.5)
    assert "replay of line" in text and "tape of line" not in text
    for backend in BACKENDS:
        check_grads(smear, [rng.normal(size=4), 0.7], (0, 1), backend)


def test_a_runtime_trip_count_is_recomputed():
    text = backward_text(descent, np.ones(3), 0.1, 4)
    assert "replay of line" in text and "tape of line" not in text
    text = backward_text(shrink, np.ones(3), 0.5)
    assert "trip count of line" in text and "replay of line" in text


def test_accumulating_an_element_of_a_capture_updates_it_in_place():
    # the gradient of x[i] is added into one element, not a zeroed array per iteration
    text = backward_text(accumulate, np.ones(4), 0.5, 3)
    body = text.split("gradient of line")[1]
    assert "put ct_" in body and "broadcast_to" not in body


# ---------------------------------------------------------------------------------------------
# Numba (one compile each)


@pytest.mark.numba
def test_numba_combined_tape_recompute_and_while():
    x = np.array([1.5, -0.4, 0.9, 2.0, -1.1])
    check_grads(combined, [x, 0.3, 3], (0, 1), "numba")


@pytest.mark.numba
def test_numba_runtime_trip_count_and_nested_loops():
    def both(x, w, n):
        return accumulate(x, w, n) + pairwise(x)

    check_grads(both, [X5, 0.7, 3], (0, 1), "numba")


def windows(x, w):
    t = 0.0
    for i in range(x.shape[0] - 2):
        t = t + (x[i:i + 3] * w).sum() ** 2  # a runtime window: at/put with a length
    return t


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradient_through_runtime_windows(backend):
    rng = np.random.default_rng(7)
    check_grads(windows, [rng.standard_normal(9), rng.standard_normal(3)], (0, 1), backend)
