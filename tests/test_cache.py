"""The persistent compile cache (jitgraph.cache): entry files, keys, explanations, damaged
entries and a second process. Building a specialization writes the entry without compiling
it, so only the tests marked `numba` run Numba (the slow part: a second process, damaged
files of Numba's, thread counts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest

import jitgraph as jg
from jitgraph import cache, runtime


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """A fresh cache directory, explanations on, nothing loaded in this process."""
    directory = tmp_path / "cache"
    monkeypatch.delenv("JITGRAPH_CACHE", raising=False)
    monkeypatch.setenv("JITGRAPH_CACHE_DIR", str(directory))
    monkeypatch.setenv("JITGRAPH_EXPLAIN_CACHE", "1")
    monkeypatch.setattr(cache, "_LOADED", {})
    return directory


def scale_add(a, b):
    return a * 2.0 + b


def entries(directory) -> list:
    return sorted(directory.glob("*.py"))


def build(fn, *args):
    """A fresh JitFunction's executable for `args` (built, not run)."""
    return jg.jit(fn).specialization(*args).executable


def test_entry_file_holds_the_generated_code(cache_dir):
    exe = build(scale_add, np.ones(3), np.ones(3))
    (path,) = entries(cache_dir)
    text = path.read_text()
    assert exe.kernel.source in text
    assert path.name.startswith("scale_add_")
    key = json.loads(next(line for line in text.splitlines() if line.startswith("# key: "))[7:])
    assert key["signature"] == "a: float64[:], b: float64[:]"
    assert key["numba"] == numba.__version__ and key["numpy"] == np.__version__
    assert exe.cache == "pending"


@pytest.mark.parametrize("setting", [{"JITGRAPH_CACHE": "0"}, {"JITGRAPH_CACHE_DIR": ""}])
def test_cache_can_be_disabled(cache_dir, monkeypatch, setting):
    for name, value in setting.items():
        monkeypatch.setenv(name, value)
    exe = build(scale_add, np.ones(3), np.ones(3))
    assert exe.cache == "off"
    assert not cache_dir.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG paths are for Linux")
def test_default_directory_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("JITGRAPH_CACHE_DIR", raising=False)
    monkeypatch.delenv("JITGRAPH_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.directory() == tmp_path / "jitgraph"


def test_each_key_part_selects_its_own_entry(cache_dir, monkeypatch, capsys):
    x = np.ones(3)
    build(scale_add, x, x)
    assert "no entry for scale_add" in capsys.readouterr().err
    build(scale_add, x.astype(np.float32), x)
    assert "signature a: float64[:], b: float64[:] -> a: float32[:], b: float64[:]" in (
        capsys.readouterr().err)
    monkeypatch.setattr(runtime, "MATH", "libm")
    build(scale_add, x, x)
    assert "miss for scale_add: math fast -> libm\n" in capsys.readouterr().err
    monkeypatch.setattr(runtime, "FASTMATH", {"contract"})
    build(scale_add, x, x)
    assert "miss for scale_add: fastmath contract, reassoc -> contract\n" in (
        capsys.readouterr().err)
    real = cache.versions
    monkeypatch.setattr(cache, "versions", lambda files: {**real(files), "numba": "99.0"})
    build(scale_add, x, x)
    assert f"miss for scale_add: numba {numba.__version__} -> 99.0\n" in capsys.readouterr().err
    assert len(entries(cache_dir)) == 5


def test_same_key_is_one_entry_and_quiet(cache_dir, capsys):
    x = np.ones(3)
    build(scale_add, x, x)
    first = entries(cache_dir)
    capsys.readouterr()
    cache._LOADED.clear()  # as a new process would: read the file again
    build(scale_add, np.ones(5), np.ones(5))  # another size: the same kernel
    assert entries(cache_dir) == first
    assert capsys.readouterr().err == ""


def test_damaged_entry_file_is_rewritten(cache_dir, capsys):
    x = np.ones(3)
    exe = build(scale_add, x, x)
    (path,) = entries(cache_dir)
    path.write_bytes(b"\x00garbage\xff" + path.read_bytes()[: len(exe.kernel.source) // 2])
    cache._LOADED.clear()
    rewritten = cache.STATS["rewritten"]
    build(scale_add, x, x)
    assert exe.kernel.source in path.read_text()
    assert cache.STATS["rewritten"] == rewritten + 1
    assert "was damaged" in capsys.readouterr().err


def test_unwritable_directory_compiles_without_the_cache(cache_dir, monkeypatch):
    cache_dir.parent.joinpath("file").write_text("")
    monkeypatch.setenv("JITGRAPH_CACHE_DIR", str(cache_dir.parent / "file" / "cache"))
    exe = build(scale_add, np.ones(3), np.ones(3))
    assert exe.cache == "off"


# ---------------------------------------------------------------------------------------------
# With Numba


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def call_fresh(fn, *args):
    """Call a new JitFunction of `fn` as a new process would (nothing loaded); its result and
    where its kernel came from."""
    cache._LOADED.clear()
    jitted = jg.jit(fn)
    result = jitted(*args)
    return result, jitted.specialization(*args).executable.cache


@pytest.mark.numba
def test_damaged_numba_files_are_recompiled(cache_dir, capsys):
    x = np.random.default_rng(0).standard_normal((6, 5))
    expected = softmax(x)
    result, where = call_fresh(softmax, x)
    np.testing.assert_allclose(result, expected, rtol=1e-12)
    assert where == "miss"
    (index,) = (cache_dir / "__pycache__").glob("*.nbi")
    (data,) = (cache_dir / "__pycache__").glob("*.nbc")
    for damaged, content in [(index, b"not a pickle"), (data, data.read_bytes()[:100])]:
        damaged.write_bytes(content)
        unreadable = cache.STATS["unreadable"]
        result, where = call_fresh(softmax, x)
        np.testing.assert_allclose(result, expected, rtol=1e-12)
        assert (where, cache.STATS["unreadable"]) == ("miss", unreadable + 1)
        assert "unreadable" in capsys.readouterr().err
    result, where = call_fresh(softmax, x)  # the recompiled entry was saved again
    np.testing.assert_allclose(result, expected, rtol=1e-12)
    assert where == "hit"


SCRIPT = """
import json
import numpy as np
import jitgraph as jg
from jitgraph import cache

def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)

x = np.random.default_rng(0).standard_normal((7, 5))
f = jg.jit(softmax)
error = float(np.max(np.abs(f(x) - softmax(x))))
print(json.dumps({"cache": f.specialization(x).executable.cache, "error": error}))
"""


@pytest.mark.numba
def test_processes_share_the_cache(cache_dir, tmp_path):
    """Two processes compiling one key at once both work; a third loads the saved code."""
    script = tmp_path / "program.py"
    script.write_text(textwrap.dedent(SCRIPT))
    env = {**os.environ, "JITGRAPH_CACHE_DIR": str(cache_dir)}
    env.pop("JITGRAPH_CACHE", None)

    def start():
        return subprocess.Popen([sys.executable, str(script)], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def result(process):
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        return json.loads(out)

    concurrent = [result(p) for p in [start(), start()]]
    assert all(r["error"] < 1e-12 and r["cache"] in ("hit", "miss") for r in concurrent)
    third = result(start())
    assert third == {"cache": "hit", "error": third["error"]} and third["error"] < 1e-12


@pytest.mark.numba
def test_num_threads_gives_identical_results(cache_dir, monkeypatch):
    before = numba.get_num_threads()
    if before < 2:
        pytest.skip("needs 2 or more Numba threads")
    x = np.random.default_rng(1).standard_normal((300, 40))
    one, default = jg.jit(softmax, num_threads=1), jg.jit(softmax)
    expected = default(x)  # compiles; `one` gets the same kernel from the cache
    np.testing.assert_array_equal(one(x), expected)
    exe = one.specialization(x).executable
    seen, run = [], exe.run
    monkeypatch.setattr(exe, "run", lambda *a: seen.append(numba.get_num_threads()) or run(*a))
    np.testing.assert_array_equal(one(x), expected)
    assert seen == [1] and numba.get_num_threads() == before
