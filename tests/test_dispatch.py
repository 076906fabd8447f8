"""The call path: positional calls whose arguments match an earlier call's types skip binding
and keying (the fast path); everything that selects a specialization still selects it there.
`num_threads` is set around the kernel call. Python backend: no Numba compilation."""

from __future__ import annotations

import numba
import numpy as np
import pytest

import jitgraph as jg


def forbid_full_path(f, monkeypatch) -> None:
    """Make the bind-and-key path fail, so a call that still works took the fast path."""

    def full_path(args, kwargs):
        raise AssertionError("the full call path ran")

    monkeypatch.setattr(f, "_call", full_path)


def test_repeated_calls_take_the_fast_path(monkeypatch):
    @jg.jit(backend="python")
    def f(a, b):
        return a * b + 1

    a, b = np.arange(4.0), np.arange(4.0) * 2
    np.testing.assert_array_equal(f(a, b), a * b + 1)
    forbid_full_path(f, monkeypatch)
    a, b = np.arange(9.0), np.ones(9)  # another size: the same specialization
    np.testing.assert_array_equal(f(a, b), a * b + 1)


@pytest.mark.parametrize(
    "first, second",
    [
        ((np.ones(3), 2.0), (np.ones(3, np.float32), 2.0)),  # dtype
        ((np.ones((2, 3)), 2.0), (np.ones((1, 3)), 2.0)),  # a size-1 axis
        ((np.ones(3), 2.0), (np.ones((3, 3)), 2.0)),  # rank
        ((np.ones(3), 2.0), (np.ones(3), 2)),  # Python scalar type
        ((np.ones(3), 2.0), (np.ones(3), np.ones(3))),  # scalar -> array
    ],
)
def test_fast_path_tells_specializations_apart(first, second):
    @jg.jit(backend="python")
    def scale(x, s):
        return x * s

    for args in (first, second, first, second):
        expected = args[0] * args[1]
        got = scale(*args)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
    assert len(scale._cache) == 2


def test_static_values_are_part_of_the_fast_key():
    @jg.jit(backend="python", static_argnames="k")
    def shift(x, k, how):
        return x + k if how == "add" else x * k

    x = np.arange(3.0)
    for k, how in [(1, "add"), (2, "add"), (1, "mul"), (2, "mul"), (1, "add"), (2, "mul")]:
        np.testing.assert_array_equal(shift(x, k, how), x + k if how == "add" else x * k)
    assert len(shift._cache) == 4


def test_array_likes_and_keywords_still_work_after_fast_calls():
    @jg.jit(backend="python")
    def f(a, b):
        return a - b

    a = np.arange(3.0)
    f(a, a)
    np.testing.assert_array_equal(f([3.0, 2.0, 1.0], a), [3.0, 1.0, -1.0])
    np.testing.assert_array_equal(f(b=a, a=np.ones(3)), 1 - a)


def test_out_of_range_int_is_refused_on_every_call():
    @jg.jit(backend="python")
    def f(x, s):
        return x + s

    x = np.zeros(2, np.int64)
    assert f(x, 5).tolist() == [5, 5]
    with pytest.raises(jg.ArgumentError, match="does not fit in int64"):
        f(x, 2**70)


def test_aliasing_is_checked_on_fast_calls():
    def f(a, b):
        a += 1
        return b * 10

    compiled = jg.jit(f, backend="python")
    x, y = np.arange(3.0), np.arange(3.0)
    compiled(x, y)
    compiled(x, y)  # the fast path is registered now
    a, expected_a = np.arange(3.0), np.arange(3.0)
    expected = f(expected_a, expected_a)
    np.testing.assert_array_equal(compiled(a, a), expected)
    np.testing.assert_array_equal(a, expected_a)


# ---------------------------------------------------------------------------------------------
# Threads


def probe_threads(f, args, monkeypatch) -> list[int]:
    """Numba's thread count seen by the executable of `f(*args)` on each later call."""
    exe = f.specialization(*args).executable
    seen: list[int] = []
    run = exe.run

    def probe(*values):
        seen.append(numba.get_num_threads())
        return run(*values)

    monkeypatch.setattr(exe, "run", probe)
    return seen


def test_num_threads_is_set_around_the_call_and_restored(monkeypatch):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs a Numba thread pool of 2 or more")

    def f(x):
        return x * 2

    one = jg.jit(f, backend="python", num_threads=1)
    default = jg.jit(f, backend="python")
    x = np.arange(5.0)
    one(x), default(x)  # the first calls compile and make the fast path
    seen_one = probe_threads(one, (x,), monkeypatch)
    seen_default = probe_threads(default, (x,), monkeypatch)
    before = numba.get_num_threads()
    assert before >= 2
    np.testing.assert_array_equal(one(x), default(x))
    assert seen_one == [1] and seen_default == [before]
    assert numba.get_num_threads() == before
    numba.set_num_threads(1)  # the caller's own setting is what a default function uses
    try:
        default(x)
        assert seen_default == [before, 1]
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize("bad", [0, -1, 2.0, "2", True, 10**6])
def test_num_threads_is_validated(bad):
    def f(x):
        return x

    with pytest.raises(ValueError, match="num_threads"):
        jg.jit(f, num_threads=bad)


def test_small_loop_nests_start_no_threads():
    """Work below kernel.SERIAL_MAX elements runs serially (a prange costs microseconds to
    start). A kernel whose nests all have one symbolic work has a serial twin the entry calls
    for small sizes (its parallel kernel has no serial copies: half the loops to compile);
    nests of different works keep a serial copy each under a run-time `if`, and the twin
    runs when all are small; sizes known when compiling choose once."""
    from jitgraph.codegen.kernel import SERIAL_MAX

    @jg.jit(backend="python")
    def f(a, b):
        return a * b + 1

    exe = f.specialization(np.ones(8), np.ones(8)).executable
    kernel = exe.kernel
    assert "prange(" in kernel.source and f"< {SERIAL_MAX}" not in kernel.source
    assert "prange(" not in kernel.serial_source and " in range(" in kernel.serial_source
    assert f"if n0 < {SERIAL_MAX}:" in exe.entry_source and "_kernel_serial(" in exe.entry_source
    assert kernel.serial_source in f.source(np.ones(8), np.ones(8))  # shown, as it runs
    for n in (5, SERIAL_MAX + 5):  # both versions run and agree with NumPy
        a, b = np.arange(n, dtype=np.float64), np.full(n, 0.5)
        np.testing.assert_array_equal(f(a, b), a * b + 1)

    @jg.jit(backend="python")
    def two(a, b):
        return a * 2, b + 1  # two nests, independent sizes

    kernel = two.specialization(np.ones(8), np.ones(9)).executable.kernel
    assert kernel.source.count(f"< {SERIAL_MAX}:") == 2 and len(kernel.small_when) == 2
    for n, m in ((5, 7), (5, SERIAL_MAX + 1), (SERIAL_MAX + 3, 4), (SERIAL_MAX, SERIAL_MAX)):
        a, b = np.arange(n, dtype=np.float64), np.arange(m, dtype=np.float64)
        got = two(a, b)
        np.testing.assert_array_equal(got[0], a * 2)
        np.testing.assert_array_equal(got[1], b + 1)

    @jg.jit(backend="python")
    def g(a):
        return a[:, None] * np.ones(3)  # a's size is 1: every size is known

    fixed = g.source(np.ones(1))
    assert "prange(" not in fixed and f"< {SERIAL_MAX}" not in fixed
