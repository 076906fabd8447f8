"""Shared fixtures. Numba compiles cost ~1 s each: tests compile few, large graphs and reuse
them."""

from __future__ import annotations

import os

import numpy as np
import pytest

import jitgraph as jg


def pytest_collection_modifyitems(config, items):
    # JITGRAPH_TEST_BACKEND=python runs the generated code without Numba (fast, debuggable).
    pass


@pytest.fixture(scope="session")
def backend() -> str:
    return os.environ.get("JITGRAPH_TEST_BACKEND", "numba")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


__all__ = ["jg"]


@pytest.fixture(scope="session", autouse=True)
def _jitgraph_cache_dir(tmp_path_factory):
    """The suite compiles into a fresh cache directory, never the user's (subprocesses such as
    the CLI tests inherit the variable)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JITGRAPH_CACHE_DIR", str(tmp_path_factory.mktemp("jitgraph-cache")))
        yield
