"""Random programs against NumPy (jitgraph.testing.fuzz), and one fixed regression program
per bug the fuzzer found.

`--jitgraph-fuzz=N` sets the number of programs (default 25), `--jitgraph-fuzz-seed` the
campaign seed (default fixed); `make fuzz N=10000` runs a long campaign. Failures that match a
reported, not yet fixed bug (jitgraph.testing.fuzz.KNOWN_ISSUES) are tolerated here; each of
those bugs has a strict xfail regression test below, which starts failing (XPASS) once fixed:
then remove the xfail mark and the KNOWN_ISSUES entry.
"""

from __future__ import annotations

import numpy as np
import pytest

from jitgraph.testing import assert_matches_numpy, generate_program
from jitgraph.testing.fuzz import KNOWN_ISSUES, run_campaign

NUMBA_PROGRAMS = 10


def _assert_clean(result) -> None:
    failures = result.new_failures
    details = "\n\n".join(f"program {f.index}:\n{f.message}\n"
                          f"{f.program.source if f.program else ''}" for f in failures[:3])
    assert not failures, f"{result.summary()}\n\n{details}"


def test_fuzz_python(jitgraph_fuzz_count, jitgraph_fuzz_seed):
    """Generated code run as plain Python, and the reference interpreter, against NumPy."""
    _assert_clean(run_campaign(jitgraph_fuzz_count, jitgraph_fuzz_seed, backend="python"))


@pytest.mark.numba
def test_fuzz_numba(jitgraph_fuzz_seed):
    count = NUMBA_PROGRAMS
    _assert_clean(run_campaign(count, f"{jitgraph_fuzz_seed}-numba", backend="numba"))


def test_programs_are_reproducible():
    assert generate_program("7:3").source == generate_program("7:3").source
    assert generate_program("7:3").source != generate_program("7:4").source


def test_generator_covers_the_supported_subset():
    features: set[str] = set()
    sources = []
    for i in range(300):
        program = generate_program(f"coverage:{i}", inplace=i % 2 == 0)
        features |= program.features
        sources.append(program.source)
    text = "\n".join(sources)
    expected = {"unary", "transcendental", "binary", "comparison", "broadcast", "reduction",
                "keepdims", "slice", "negative-step", "transpose", "matmul", "where", "clip",
                "astype", "power", "structure", "creation", "augassign", "setitem", "loop",
                "tuple-return", "strided-arg", "reversed-arg", "transposed-arg", "empty",
                "scalar-arg", "bool-arg", "int32-arg", "int64-arg", "float32-arg", "float64-arg"}
    assert expected <= features, expected - features
    for snippet in ("for i in range(", " += ", "] = ", " @ ", ".sum(", "np.where(", "np.clip(",
                    "keepdims=True", "::-1"):
        assert snippet in text, snippet
    recipes = "\n".join(r for i in range(100)
                        for r in generate_program(f"coverage:{i}").arg_recipes)
    assert "np.nan" in recipes and "np.inf" in recipes and ".T" in recipes


def test_known_issues_name_a_suspect():
    for issue in KNOWN_ISSUES:
        assert issue.summary and issue.suspect and issue.pattern


# ---------------------------------------------------------------------------------------------
# Regression programs: minimal reproductions of what the fuzzer found. Each names its known
# issue (fuzz.KNOWN_ISSUES) or, for mismatches no message identifies, the bug it reproduces.

def expand_dims_is_a_view(x):
    v = np.expand_dims(x, 0)
    x[...] = 1.0
    return v


def squeeze_is_a_view(x):
    v = np.squeeze(x[None], 0)
    x[...] = 1.0
    return v


def expand_dims_of_python_int(x):
    return np.expand_dims(3, 0) + x


def transpose_of_python_int(x):
    return np.transpose(3, ()), x


def divide_by_one_element_slice(x):
    return x / x[::3]


def in_place_with_literal_shape(x):
    x *= np.ones(3)
    return x


def element_aug_assign_casts_unsafely(x):
    b = x > 0
    b[0] -= np.int64(2)
    return b


def write_into_0d(x, y):
    for _ in range(2):
        x[...] = x


def matmul_used_twice_in_where(x):
    t = np.where(x == -2, -1.5, 2.5)
    return np.where(t == x[0, -1], t ** t, t @ np.transpose(t, (0, 2, 1)))


def reshape_of_empty_slice(x):
    t = np.transpose(x[0::2].reshape(-1))
    return np.clip(np.square(t), -2, 2.5), t


def read_after_in_place_update(x0, x1, x2, s0):
    x1[...] += s0
    x0[...] = x1.sum(keepdims=True) + x2
    return x2


def _xfail(reason: str):
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)


REGRESSIONS = [
    pytest.param(expand_dims_is_a_view, (np.zeros((2, 2), np.float32),), "reference",
                 id="expand_dims-view"),
    pytest.param(squeeze_is_a_view, (np.zeros((2, 2)),), "reference",
                 id="squeeze-view"),
    pytest.param(expand_dims_of_python_int, (np.ones(2, np.float32),), "reference",
                 id="expand_dims-weak"),
    pytest.param(transpose_of_python_int, (np.ones(2),), "reference",
                 id="transpose-weak"),
    pytest.param(divide_by_one_element_slice, (np.array([1.0, 2.0]),), "reference",
                 marks=_xfail("derived-size-one (ir/build.py broadcasting)"),
                 id="derived-size-one"),
    pytest.param(in_place_with_literal_shape, (np.arange(3.0),), "reference",
                 id="inplace-static-shape"),
    pytest.param(element_aug_assign_casts_unsafely, (np.array([1.0, -1.0]),), "reference",
                 id="element-augassign-cast"),
    pytest.param(write_into_0d, (np.array(-9.0, np.float32), np.array([-1, -6], np.int32)),
                 "python",
                 id="setitem-0d"),
    # matmul-fusion-keyerror: fixed by a concurrent change to the passes while fuzzing.
    pytest.param(matmul_used_twice_in_where,
                 (np.array([7.11, 0.5, -2.5, 0.48]).reshape(4, 1, 1),), "python",
                 id="matmul-keyerror"),
    # UnboundLocalError 'buf3' in generated code: fixed by a concurrent codegen change.
    pytest.param(reshape_of_empty_slice, (np.zeros((6, 0), np.float32)[::2],), "python",
                 id="reshape-empty-strided"),
    pytest.param(read_after_in_place_update,
                 (np.array(-1.7), np.array(0.61), np.array(8, np.int32), -1), "python",
                 id="stale-read-after-update"),
]


@pytest.mark.parametrize("fn,args,backend", REGRESSIONS)
def test_regression(fn, args, backend):
    assert_matches_numpy(fn, *args, backend=backend)
