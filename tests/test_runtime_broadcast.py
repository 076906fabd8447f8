"""Sizes that are 1 only at run time broadcast as NumPy's do (issue 7, "derived-size-one").

The specialization key records which *argument* axes have size 1, so an argument size is never
1 at run time. A derived size (a slice `x[1:]`, `x[::3]`, a reshape's -1) may be: it gets the
check "d == e or d == 1" (stated as the equality `bcast(d, e) == e`), and its reads are clamped
(`min(i, d - 1)`) by a broadcast view. These tests run each program for sizes that make the
derived size 1, equal to the other operand's, 0, and incompatible (NumPy raises, so must
jitgraph), all with one compiled function, so one kernel serves every case.
"""

from __future__ import annotations

import numpy as np
import pytest

import jitgraph as jg
from jitgraph.codegen.entry import check_failed
from jitgraph.ir import build
from jitgraph.ir import dims as D
from jitgraph.ir.node import Graph
from jitgraph.ir.ops import Op
from jitgraph.ir.shape_env import ShapeEnv
from jitgraph.testing import assert_matches_numpy
from jitgraph.testing.harness import run


def arange(n, dtype=np.float64):
    return np.arange(n, dtype=dtype) - 1


# ---------------------------------------------------------------------------------------------
# Programs: each runs with several sizes on ONE jitted function (the kernel is reused)


def scale_by_every_third(x):
    return x / x[::3]


def shifted_times_other(x, y):
    return x[1:] * y


def two_derived_sizes(x, y):
    return x[1:] + y[2:]


def where_of_derived(c, x, y):
    return np.where(c[1:] > 0, x[::2], y[2:])


def smooth_into(a, b):
    b[1:-1] = 0.25 * (a[:-2] + a[1:-1] + a[2:])
    return b


def element_from_one_element_slice(x, b):
    b[-1] = x[::3]  # NumPy: a bool element takes the truth value of a one-element array
    return b


def leading_axis_of_runtime_size_one(x, y):
    y[1:] = x[::3, None] * 2.0  # value (d, 1) into a 1-d region: d must be 1
    return y


def in_place_by_derived(x, y):
    x[1:] += y[::2]
    return x


def batched_matmul_of_slices(a, b):
    return a[1:] @ b


def reduction_after_broadcast(x, y):
    return (x[2:] * y).sum(axis=-1), (x[2:] - y).max()


def reshaped_size(x, y):
    return x.reshape(-1, 2)[:, :1] + y.reshape(-1, 2)


def broadcast_to_of_slice(x, n):
    return np.broadcast_to(x[1:], (3, n.shape[0]))


CASES = [
    (scale_by_every_third, [(arange(2),), (arange(3),), (arange(4),), (arange(6),)]),
    (shifted_times_other, [(arange(2), arange(4)), (arange(5), arange(4)), (arange(3), arange(4)),
                           (arange(0), arange(2))]),
    (two_derived_sizes, [(arange(2), arange(5)), (arange(5), arange(3)), (arange(4), arange(5)),
                         (arange(2), arange(3)), (arange(1 + 1), arange(2)),
                         (arange(4), arange(4)), (arange(0), arange(3))]),
    (where_of_derived, [(arange(2), arange(6), arange(5)), (arange(4), arange(2), arange(5)),
                        (arange(4), arange(5), arange(3)), (arange(4), arange(6), arange(5)),
                        (arange(2), arange(2), arange(3))]),
    (smooth_into, [(arange(3), np.zeros(6)), (arange(6), np.zeros(6)), (arange(4), np.zeros(6)),
                   (arange(0), np.zeros(3))]),
    (element_from_one_element_slice,
     [(arange(2) > 0, np.zeros(3, bool)), (arange(3) < 0, np.zeros(3, bool)),
      (arange(4) > 0, np.zeros(3, bool)), (arange(0) > 0, np.zeros(3, bool))]),
    (leading_axis_of_runtime_size_one, [(arange(3), np.zeros(4)), (arange(4), np.zeros(4)),
                                        (arange(0), np.zeros(4))]),
    (in_place_by_derived, [(arange(4), arange(2)), (arange(4), arange(5)),
                           (arange(2), arange(4)), (arange(3), arange(3))]),
    (batched_matmul_of_slices, [(np.ones((2, 3, 2)), np.ones((4, 2, 3))),
                                (np.ones((5, 3, 2)), np.ones((4, 2, 3))),
                                (np.ones((3, 3, 2)), np.ones((4, 2, 3)))]),
    (reduction_after_broadcast, [(arange(3), arange(4)), (arange(6), arange(4)),
                                 (arange(5), arange(4))]),
    (reshaped_size, [(arange(2), arange(6)), (arange(6), arange(6)), (arange(4), arange(6))]),
    (broadcast_to_of_slice, [(arange(2), arange(4)), (arange(5), arange(4)),
                             (arange(3), arange(4))]),
]


@pytest.mark.parametrize("fn,calls", CASES, ids=[c[0].__name__ for c in CASES])
@pytest.mark.parametrize("backend", ["python", "reference"])
def test_runtime_size_one_broadcasts_like_numpy(fn, calls, backend):
    """NumPy's result, or its error class, for every size: size 1 broadcasts, equal sizes
    match element by element, others raise ValueError."""
    jitted = jg.jit(fn, backend=backend)
    for args in calls:
        expected = run("NumPy", fn, args)
        got = run("jitgraph", jitted, args)
        if expected.error is not None:
            assert isinstance(got.error, ValueError), (args, got.error, got.result)
            continue
        assert got.error is None, (args, got.error)
        want = expected.result if isinstance(expected.result, tuple) else (expected.result,)
        have = got.result if isinstance(got.result, tuple) else (got.result,)
        for w, h in zip(want, have, strict=True):
            assert np.shape(h) == np.shape(w) and np.asarray(h).dtype == np.asarray(w).dtype
            np.testing.assert_array_equal(h, w)
        for w, h in zip(expected.arguments, got.arguments, strict=True):
            np.testing.assert_array_equal(h, w)


@pytest.mark.parametrize("fn,calls", CASES[:5], ids=[c[0].__name__ for c in CASES[:5]])
def test_harness_agrees(fn, calls):
    """The same programs through the differential harness (reference and generated code)."""
    for args in calls:
        if run("NumPy", fn, args).error is None:
            assert_matches_numpy(fn, *args, backend="python")


@pytest.mark.numba
def test_clamped_reads_compiled_with_numba():
    """One Numba kernel, parallel loop and inner loop, for a runtime size 1 and a full size."""
    def rows(a, b):
        return a[:, 1:] * b + a[1:, :1]

    jitted = jg.jit(rows)
    for n, m in ((3, 2), (3, 5), (2, 5), (4, 4), (2, 2)):
        a, b = np.arange(n * m, dtype=np.float64).reshape(n, m), np.ones(4) * 3
        expected = run("NumPy", rows, (a, b))
        got = run("jitgraph", jitted, (a, b))
        if expected.error is not None:
            assert isinstance(got.error, ValueError)
        else:
            np.testing.assert_array_equal(got.result, expected.result)


# ---------------------------------------------------------------------------------------------
# The IR: which sizes may be 1, which checks, which views


def test_which_sizes_may_be_one():
    n, m = D.arg_dim(0, 0, "x"), D.arg_dim(1, 0, "y")
    shifted = D.sliced(n, 1, None, 1)[0]
    every_third = D.sliced(n, None, None, 3)[0]
    for d in (3, 0, n, D.mul(n, m), D.add(n, m), D.mul(n, every_third), D.maximum(n, m)):
        assert not D.can_be_one(d), d
    for d in (1, shifted, every_third, D.add(n, 1), D.floordiv(n, 2), D.mul(shifted, shifted),
              D.sub(n, 1)):
        assert D.can_be_one(d), d


def test_broadcast_size_is_the_size_that_is_not_one():
    n, d = D.arg_dim(0, 0, "x"), D.sliced(D.arg_dim(1, 0, "y"), 1, None, 1)[0]
    assert D.broadcast_size(d, n) == n and D.broadcast_size(n, d) == n
    assert D.broadcast_size(d, 1) == d and D.broadcast_size(1, d) == d
    both = D.broadcast_size(d, D.sliced(n, 2, None, 1)[0])
    assert both.op == "bcast"
    for a, b, size in ((1, 4, 4), (4, 1, 4), (4, 4, 4), (1, 0, 0), (0, 1, 0), (1, 1, 1)):
        assert D.evaluate(D.bcast(a, b), []) == size


def test_derived_size_gets_a_broadcast_check_not_an_equality():
    x = build.argument("x", 0, np.float64, (None,))
    y = build.argument("y", 1, np.float64, (None,))
    shifted = build.getitem(x, slice(1, None))
    product = build.elementwise(Op.MUL, shifted, y)
    d, n = shifted.shape[0], y.shape[0]
    assert product.shape == (n,)
    stretched = product.inputs[0]
    assert stretched.op is Op.BROADCAST and stretched.inputs[0] is shifted
    checks = stretched.checks
    assert [(c.kind, c.a, c.b) for c in checks] == [("eq", D.bcast(d, n), n)]
    env = ShapeEnv(checks)
    assert env.same(D.bcast(d, n), n)
    assert not env.same(d, n)  # d may be 1: never recorded as equal to n
    assert env.stretched(d) == n


def test_argument_sizes_keep_equality_checks_and_no_views():
    x = build.argument("x", 0, np.float64, (None,))
    y = build.argument("y", 1, np.float64, (None,))
    product = build.elementwise(Op.MUL, x, y)
    assert product.inputs == (x, y)
    assert [(c.kind, c.a, c.b) for c in product.checks] == [("eq", y.shape[0], x.shape[0])]


def test_same_derived_size_needs_no_check():
    x = build.argument("x", 0, np.float64, (None,))
    diff = build.elementwise(Op.SUB, build.getitem(x, slice(1, None)),
                             build.getitem(x, slice(None, -1)))
    assert diff.checks == () and all(i.op is Op.GETITEM for i in diff.inputs)


def test_broadcast_check_message():
    x = build.argument("x", 0, np.float64, (None,))
    y = build.argument("y", 1, np.float64, (None,))
    product = build.elementwise(Op.MUL, build.getitem(x, slice(None, None, 3)), y)
    graph = Graph((product,), (x, y))
    (check,) = graph.checks()
    error = check_failed(graph, check, [(5,), (4,)])
    assert isinstance(error, ValueError)
    assert "slicelen(x.0, None, None, 3) = 2 does not broadcast to y.0 = 4" in str(error)


def test_generated_code_is_unclamped_when_sizes_are_known_equal():
    def stencil(a, b):
        return (a[2:] - a[:-2]) * 0.5 + a[1:-1], a * b

    jitted = jg.jit(stencil, backend="python")
    assert "min(np.int64" not in str(jitted.inspect(np.ones(5), np.ones(4)))
    jitted = jg.jit(two_derived_sizes, backend="python")
    assert "min(np.int64" in str(jitted.inspect(np.ones(5), np.ones(4)))


def test_one_element_assignment_needs_a_0d_value_unless_bool():
    """NumPy assigns `x[i] = v` as a scalar: v must be 0-d, except into bool arrays."""
    def assign(x, v):
        x[0] = v
        return x

    expected = run("NumPy", assign, (np.zeros(3), np.ones(1)))
    got = run("jitgraph", jg.jit(assign, backend="python"), (np.zeros(3), np.ones(1)))
    assert isinstance(expected.error, ValueError) and isinstance(got.error, ValueError)
    assert_matches_numpy(assign, np.zeros(3, bool), np.ones((1, 1)), backend="python")
