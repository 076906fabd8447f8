"""jitgraph.testing: the differential harness (comparison, side effects, pass bisection), the
hypothesis strategies and the pytest plugin. Fast backends only (no Numba compilation)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

import jitgraph as jg
from jitgraph.ir import build
from jitgraph.ir.ops import Op
from jitgraph.passes import pipeline
from jitgraph.passes.rewrite import rewrite
from jitgraph.testing import assert_matches_numpy, check, generate_program, layout_copy
from jitgraph.testing import strategies as jst
from jitgraph.testing.compare import Tolerance, array_problem
from jitgraph.testing.harness import Outcome, compare_outcomes

FAST = ("python", "reference")


def axpy(a, x, y):
    return a * x + y


def scale_in_place(x, y):
    x *= 2.0
    return x.sum() + y


def stats(x):
    return x.mean(axis=0), x.max(), x.shape[0]


def plant_wrong_add(graph):
    """A wrong rewrite: add(x, y) -> subtract(x, y) (for bisection tests)."""

    def rule(node):
        if node.op is Op.ADD and node.dtype.kind == "f":
            return build.elementwise(Op.SUB, *node.inputs)
        return None

    return rewrite(graph, rule)


@pytest.mark.parametrize("backend", FAST)
def test_matching_function_passes_and_returns_numpy_result(backend):
    x, y = np.arange(6.0).reshape(2, 3), np.ones(3, np.float32)
    result = assert_matches_numpy(axpy, 2.0, x, y, backend=backend)
    np.testing.assert_array_equal(result, 2.0 * x + y)
    out = assert_matches_numpy(stats, np.arange(12.0).reshape(4, 3), backend=backend)
    assert out[2] == 4


@pytest.mark.parametrize("backend", FAST)
def test_mutated_arguments_are_compared(backend):
    assert_matches_numpy(scale_in_place, np.arange(4.0), np.float64(1.0), backend=backend)


def test_accepts_a_jitted_function():
    jitted = jg.jit(axpy, backend="python")
    assert_matches_numpy(jitted, 1.5, np.arange(3.0), np.ones(3), backend=None)
    assert check(jitted, 1.5, np.arange(3.0), np.ones(3)).ok  # its own backend: python


def test_planted_wrong_pass_is_named_by_bisection(monkeypatch):
    monkeypatch.setattr(
        pipeline, "PASSES", pipeline.PASSES + [("plant_wrong_add", plant_wrong_add)]
    )
    x, y = np.arange(6.0).reshape(2, 3), np.full(3, 0.5)
    with pytest.raises(AssertionError) as info:
        assert_matches_numpy(axpy, 2.0, x, y, backend="python")
    message = str(info.value)
    assert "mismatch disappears when pass 'plant_wrong_add' is disabled" in message
    assert "output 0" in message and "first at index (0, 0)" in message
    assert "got np.float64(-0.5), NumPy gives np.float64(0.5)" in message
    # The reference interpreter runs no passes: it agrees, and only the compiled one differs.
    assert "reference interpreter:" not in message


def test_no_single_pass_explains_a_frontend_difference(monkeypatch):
    report = check(axpy, 2.0, np.arange(3.0), np.ones(3), backend="python")
    assert report.ok
    from jitgraph.testing import harness

    wrong = Outcome("NumPy", result=np.zeros(3), arguments=[2.0, np.arange(3.0), np.ones(3)])
    text = harness.bisect_passes(
        axpy, (2.0, np.arange(3.0), np.ones(3)), "python", (), wrong, Tolerance(), ["a", "x", "y"]
    )
    assert "no single pass explains it" in text


def _outcome(result, *arguments):
    return Outcome("compiled", result=result, arguments=list(arguments))


def test_compare_reports_dtype_shape_structure_and_values():
    tol = Tolerance()
    base = np.arange(3.0)
    expected = _outcome((base, np.float32(1)), base)
    cases = {
        "dtype float32 where NumPy gives float64": (base.astype(np.float32), np.float32(1)),
        "shape (1, 3) where NumPy gives (3,)": (base[None], np.float32(1)),
        "a list of 2 where NumPy gives a tuple of 2": [base, np.float32(1)],
        "1 items where NumPy gives 2": (base,),
        "first at index (2,): got np.float64(9.0), NumPy gives np.float64(2.0)": (
            np.array([0.0, 1.0, 9.0]),
            np.float32(1),
        ),
    }
    for text, result in cases.items():
        kind, problems = compare_outcomes(expected, _outcome(result, base), [base], tol, ["x"])
        assert kind == "mismatch" and text in "\n".join(problems), (text, problems)


def test_compare_side_effects():
    original = np.arange(3.0)
    untouched = _outcome(None, original.copy())
    touched = _outcome(None, np.array([0.0, 5.0, 2.0]))
    kind, problems = compare_outcomes(untouched, touched, [original], Tolerance(), ["x"])
    assert kind == "mismatch" and "argument 'x' after the call" in problems[0]
    assert "NumPy leaves it untouched" in problems[0]
    # A -0.0 written over 0.0 is a change of bits, even if equal as a value.
    zero = np.zeros(1)
    kind, _ = compare_outcomes(
        _outcome(None, zero.copy()), _outcome(None, -zero), [zero], Tolerance(), ["x"]
    )
    assert kind == "mismatch"


def test_compare_errors():
    numpy_raises = Outcome("NumPy", error=ValueError("zero-size array"))
    ok, _ = compare_outcomes(
        numpy_raises, Outcome("c", error=jg.ArgumentShapeError("x")), [], Tolerance(), []
    )
    assert ok == "ok"  # ArgumentShapeError is a ValueError
    kind, problems = compare_outcomes(numpy_raises, _outcome(np.zeros(1)), [], Tolerance(), [])
    assert kind == "crash" and "NumPy raises ValueError" in problems[0]
    kind, problems = compare_outcomes(
        _outcome(1.0), Outcome("c", error=KeyError("n")), [], Tolerance(), []
    )
    assert kind == "crash" and "raised KeyError" in problems[0]


def test_tolerances_are_dtype_aware():
    tol = Tolerance()
    f32 = np.array([1.0, np.nan, np.inf], np.float32)
    assert array_problem(f32 * np.float32(1 + 2e-6), f32, tol, "x") is None
    assert array_problem(f32 * np.float32(1 + 1e-4), f32, tol, "x") is not None
    f64 = np.array([1.0, 2.0])
    assert array_problem(f64 + 1e-14, f64, tol, "x") is None
    assert array_problem(f64 + 1e-9, f64, tol, "x") is not None
    # NaN only where NumPy has NaN, infinities of the same sign, integers exactly.
    assert array_problem(np.array([np.nan, 1.0]), np.array([1.0, 1.0]), tol, "x")
    assert array_problem(np.array([-np.inf]), np.array([np.inf]), tol, "x")
    assert array_problem(np.array([3], np.int64), np.array([4], np.int64), tol, "x")
    # atol scales with the magnitudes involved: a cancelled sum of 1e6-sized terms.
    assert array_problem(np.array([1e-7]), np.array([0.0]), Tolerance(scale=1e6), "x") is None
    assert array_problem(np.array([1e-7]), np.array([0.0]), Tolerance(atol=0.0), "x")


def test_layout_copy_keeps_strides():
    for array in (
        np.arange(12.0).reshape(3, 4)[:, ::-2],
        np.arange(6).reshape(2, 3).T,
        np.arange(10, dtype=np.float32)[::3],
        np.zeros((0, 3))[:, ::-1],
    ):
        copy = layout_copy(array)
        assert copy.strides == array.strides or array.size == 0
        assert not np.shares_memory(copy, array)
        np.testing.assert_array_equal(copy, array)


@settings(max_examples=40, deadline=None)
@given(jst.arrays())
def test_array_strategy_gives_supported_arrays(x):
    assert x.dtype.name in jst.DTYPES and x.ndim <= 3


def test_array_strategy_covers_layouts_and_specials():
    seen = set()

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(jst.arrays(dtype="float64"))
    def collect(x):
        seen.add("noncontiguous" if not x.flags.c_contiguous else "contiguous")
        seen.update({"negative" for s in x.strides if s < 0})
        seen.update({"empty"} if x.size == 0 else set())
        seen.update({"nan"} if np.isnan(x).any() else set())
        seen.update({"inf"} if np.isinf(x).any() else set())

    collect()
    assert seen >= {"contiguous", "noncontiguous", "negative", "empty", "nan", "inf"}


@settings(max_examples=15, deadline=None)
@given(jst.array_tuples(2, dtype="float64"))
def test_elementwise_with_broadcasting_matches_numpy(xs):
    np.broadcast_shapes(xs[0].shape, xs[1].shape)
    assert_matches_numpy(axpy, 0.5, *xs, backend="python")


@jg.jit(backend="python")
def jitted_axpy(a, x, y):
    return a * x + y


@pytest.mark.jit_check(backend="reference")
def test_jit_check_fixture(jit_check, request):
    jit_check(axpy, 3, np.arange(4, dtype=np.int32), np.ones(4, np.int32))
    jit_check(jitted_axpy, 3, np.arange(4.0), np.ones(4), backend="python")
    assert request.config.getoption("--jitgraph-fuzz") >= 0
    assert isinstance(request.config.getoption("--jitgraph-fuzz-seed"), str)


def shifted_product(x, y):
    return x[1:] * y


def test_later_calls_reuse_the_compiled_function(monkeypatch):
    """`also`: calls with other sizes run the kernel compiled for the first ones, so a kernel
    that is right only for the sizes it was compiled for is caught (here: reads of a slice that
    broadcasts at run time, planted unclamped)."""
    first, other = (np.arange(5.0), np.ones(4)), (np.arange(2.0), np.ones(4))
    assert check(shifted_product, *first, backend="python", also=[other]).ok
    from jitgraph.codegen import kernel

    def unclamped(self, shape, target, idx):
        return tuple("0" if d == 1 else i for d, i in zip(shape, idx[len(idx) - len(shape) :]))

    monkeypatch.setattr(kernel.KernelBuilder, "stretch_index", unclamped)
    assert check(shifted_product, *first, backend="python").ok
    report = check(shifted_product, *first, backend="python", also=[other])
    assert report.kind == "crash"
    assert "compiled (backend='python'), call 2 (other sizes) raised IndexError" in report.message()
    # NumPy rejecting a later call (sizes that do not broadcast) needs jitgraph to reject it too.
    monkeypatch.undo()
    assert check(shifted_product, *first, backend="python", also=[(np.arange(3.0), np.ones(4))]).ok


def test_programs_resize_their_arguments_within_one_specialization():
    """A program's resized arguments: same dtypes, layouts (strides' signs) and size-1 axes,
    larger sizes elsewhere; `calls` orders them as the program says."""
    resized = 0
    for i in range(60):
        program = generate_program(f"resize:{i}")
        calls = program.calls()
        if not program.resized_recipes:
            assert len(calls) == 1
            continue
        resized += 1
        new, old = calls if program.resized_first else calls[::-1]
        for a, b in zip(new, old, strict=True):
            if not isinstance(a, np.ndarray):
                assert a == b
                continue
            assert a.dtype == b.dtype and a.ndim == b.ndim
            assert [s == 1 for s in a.shape] == [s == 1 for s in b.shape]
            assert all(m >= n for m, n in zip(a.shape, b.shape, strict=True))
        assert any(np.shape(a) != np.shape(b) for a, b in zip(new, old, strict=True))
    assert resized > 30
