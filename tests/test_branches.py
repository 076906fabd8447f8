"""`if` on values known only at run time: a branch in the generated code when a side computes
more than elementwise values (the side not taken computes nothing and raises nothing), a
where() select otherwise; names and arrays the sides change; gradients through branches."""

import re

import numpy as np
import pytest
from corpus import loops

import jitgraph as jg
from jitgraph.errors import FrontendError, RuntimeIndexError

BACKENDS = ["python", pytest.param("numba", marks=pytest.mark.numba)]


def guarded_read(x, i):
    t = np.float64(0.0)
    if i > -100:
        t = x[i]
    return t


def costly(x, s):
    if s > 0:
        y = x @ x.T
    else:
        y = x[:, :1] * x[:, 0]
    return y.sum()


def cheap(x, s):
    if s > 0:
        y = x * 2.0
    else:
        y = x - 1.0
    return y


def bound_in_one_side(x, s):
    if s > 0:
        z = x.sum()
    return z  # noqa: F821 - unbound when s <= 0


def maybe_reset(x, s):
    if s > 0:
        x[0] = x.sum()
    return x.max()


def nested(x, s):
    r = x.sum()
    if s > 0:
        if s > 10:
            r = x.max()
        else:
            r = x.min() * 2.0
    else:
        r = x.prod()
    return r


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_side_not_taken_does_not_raise(backend):
    f = jg.jit(loops.lookup_or_default, backend=backend)
    x = np.arange(5.0)
    assert f(x, 7) == -1.0 and f(x, -9) == -1.0 and f(x, 3) == 6.0
    g = jg.jit(guarded_read, backend=backend)
    assert g(x, -2) == 3.0
    with pytest.raises(RuntimeIndexError, match=r"index 10 is out of bounds.*x\[i\] at "):
        g(x, 10)  # the side taken raises, naming the expression


def graph_ops(f, *args) -> str:
    return f.graph(*args)


def test_costly_sides_become_a_branch_cheap_ones_a_select():
    x = np.ones((3, 2))
    costly_graph = jg.jit(costly).graph(x, 1.0)
    assert "branch" in costly_graph and "matmul" in costly_graph
    cheap_graph = jg.jit(cheap).graph(x, 1.0)
    assert "branch" not in cheap_graph and "where" in cheap_graph


@pytest.mark.parametrize("backend", BACKENDS)
def test_branch_results_match_numpy_for_both_sides(backend):
    x = np.arange(6.0).reshape(3, 2) - 2.0
    f = jg.jit(costly, backend=backend)
    for s in (1.0, -1.0):
        assert np.isclose(f(x, s), costly(x, s))
    g = jg.jit(nested, backend=backend)
    for s in (20, 5, -1):
        assert np.isclose(g(x, s), nested(x, s))


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_argument_is_written_only_when_the_side_runs(backend):
    f = jg.jit(maybe_reset, backend=backend)
    for s in (1, -1):
        x, expected_x = np.arange(4.0), np.arange(4.0)
        expected = maybe_reset(expected_x, s)
        assert f(x, s) == expected and np.array_equal(x, expected_x)


def test_a_name_bound_in_one_side_is_unbound_after():
    with pytest.raises(FrontendError, match=r"'z'") as info:
        jg.jit(bound_in_one_side, backend="python")(np.ones(3), 1)
    assert "test_branches.py:" in str(info.value)


def test_gradient_through_a_branch_matches_finite_differences():
    x = np.arange(6.0).reshape(3, 2) * 0.3 - 0.5
    for s in (1.0, -1.0):
        grad = jg.grad(costly, backend="python")(x, s)
        numeric = np.zeros_like(x)
        for k in np.ndindex(x.shape):
            d = np.zeros_like(x)
            d[k] = 1e-6
            numeric[k] = (costly(x + d, s) - costly(x - d, s)) / 2e-6
        assert np.allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_a_branch_in_a_loop_writes_the_carried_array_in_place():
    """`if c: out[i] = v else: out[i] = w` in a loop: each side writes one element of the loop's
    own array; no copy of `out` per iteration."""
    source = jg.jit(loops.clipped_row_sums, backend="python").source(np.ones((4, 3)))
    body = source[source.index("for it"):source.index("return 0")]
    assert len(re.findall(r"carry\d+\[s\d+\] = ", body)) == 2  # one write in each side
    assert "np.empty" not in body.split("if ")[0] and "next" not in body
