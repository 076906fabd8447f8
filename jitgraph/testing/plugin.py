"""pytest plugin (registered through the `pytest11` entry point): the `jit_check` fixture and
the fuzz options.

    def test_softmax(jit_check):
        jit_check(softmax, np.random.rand(4, 5))          # NumPy vs jitgraph, with bisection

    @pytest.mark.jit_check(backend="python", rtol=1e-4)   # per-test defaults
    def test_fast(jit_check): ...

Options: `--jitgraph-backend` (the fixture's default backend, else $JITGRAPH_TEST_BACKEND or
"numba"), `--jitgraph-fuzz=N` (programs a fuzz test runs; the `jitgraph_fuzz_count` fixture)
and `--jitgraph-fuzz-seed` (the `jitgraph_fuzz_seed` fixture).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

DEFAULT_FUZZ_COUNT = 25
DEFAULT_FUZZ_SEED = "0"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("jitgraph", "jitgraph differential testing")
    group.addoption(
        "--jitgraph-fuzz",
        type=int,
        default=DEFAULT_FUZZ_COUNT,
        metavar="N",
        help=f"random programs per fuzz test (default {DEFAULT_FUZZ_COUNT})",
    )
    group.addoption(
        "--jitgraph-fuzz-seed",
        default=DEFAULT_FUZZ_SEED,
        metavar="SEED",
        help="campaign seed of the fuzz tests (default: fixed, reproducible)",
    )
    group.addoption(
        "--jitgraph-backend",
        default=None,
        help="default backend of the jit_check fixture (numba, python, reference)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "jit_check(**defaults): defaults of the jit_check "
        "fixture for this test (backend, rtol, atol, static_argnames)",
    )


@pytest.fixture
def jit_check(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """`jit_check(fn, *args, **options)`: `jitgraph.testing.assert_matches_numpy` with this
    test's defaults (the jit_check marker, then --jitgraph-backend)."""
    from jitgraph.testing import assert_matches_numpy

    defaults: dict[str, Any] = {}
    backend = request.config.getoption("--jitgraph-backend") or os.environ.get(
        "JITGRAPH_TEST_BACKEND"
    )
    if backend:
        defaults["backend"] = backend
    marker = request.node.get_closest_marker("jit_check")
    if marker is not None:
        defaults.update(marker.kwargs)

    def check(fn: Callable, *args: Any, **options: Any) -> Any:
        __tracebackhide__ = True  # the assertion message is the report: hide harness frames
        return assert_matches_numpy(fn, *args, **{**defaults, **options})

    return check


@pytest.fixture
def jitgraph_fuzz_count(request: pytest.FixtureRequest) -> int:
    """Number of random programs a fuzz test should check (--jitgraph-fuzz)."""
    return int(request.config.getoption("--jitgraph-fuzz"))


@pytest.fixture
def jitgraph_fuzz_seed(request: pytest.FixtureRequest) -> str:
    """Campaign seed of the fuzz tests (--jitgraph-fuzz-seed)."""
    return str(request.config.getoption("--jitgraph-fuzz-seed"))
