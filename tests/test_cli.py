"""The `jitgraph` command line, end to end: `python -m jitgraph ...` on user files in tmp_path.

Most runs use `inspect` without `--run`, which generates code but never compiles it with Numba;
the few that compile are marked `numba`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import jitgraph as jg
from jitgraph.cli import main, parse_argspec, sample_values, split_compile_targets

USER_FILE = textwrap.dedent("""\
    import numpy as np
    import jitgraph as jg

    def f(A, B):
        C = B * A
        D = C + 1
        return D

    @jg.jit
    def softmax(x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    """)

UNSUPPORTED_FILE = textwrap.dedent("""\
    import numpy as np
    import jitgraph as jg

    @jg.jit
    def count(x):
        total = 0
        with np.errstate(all="ignore"):
            total += 1
        return x + total
    """)

SECTIONS = [
    "== graph as parsed ",
    "== optimized graph ",
    "== fusion groups (one loop nest each) ",
    "== fusions declined ",
    "== memory plan ",
    "== generated code ",
    "== compile time ",
]


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run `python -m jitgraph ARGS` in `cwd`; no run may ever print a traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "jitgraph", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    return done


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    (tmp_path / "model.py").write_text(USER_FILE)
    (tmp_path / "unsupported.py").write_text(UNSUPPORTED_FILE)
    return tmp_path


def section_body(text: str, title: str) -> str:
    """The body of the section `== title ===`, up to the next section."""
    match = re.search(rf"^== {re.escape(title)} =+\n(.*?)(?=^== |\Z)", text, re.S | re.M)
    assert match, f"no section {title!r} in:\n{text}"
    return match.group(1)


def byte_counts(memory: str) -> dict[str, int]:
    """naive / fused / planned byte totals of a memory plan section."""
    counts = {}
    for kind in ("naive", "fused", "planned"):
        match = re.search(rf"^  {kind} .*?([\d,]+) bytes", memory, re.M)
        assert match, memory
        counts[kind] = int(match.group(1).replace(",", ""))
    return counts


# -- argument specs (in process) ---------------------------------------------------------------


def test_argspec_forms():
    spec = parse_argspec("x=f32[1000,n]")
    assert (spec.name, spec.dtype, spec.shape) == ("x", np.dtype(np.float32), (1000, "n"))
    assert parse_argspec("f64[]").shape == ()
    assert parse_argspec("bool[3,4]").dtype == np.dtype(bool)
    assert parse_argspec("3").value == 3 and isinstance(parse_argspec("3").value, int)
    assert parse_argspec("k=0.5").value == 0.5 and parse_argspec("k=0.5").name == "k"
    values = sample_values({"a": parse_argspec("i64[n]"), "b": parse_argspec("f32[n,2]")}, {"n": 7})
    assert values["a"].shape == (7,) and values["b"].shape == (7, 2)  # named dims are shared
    assert values["a"].dtype == np.int64


def test_compile_targets_split_on_colon_tokens():
    items = ["a.py:f", "f32[n]", "--", "b.py:g", "i64[3]", "k=2"]
    assert split_compile_targets(items) == [("a.py:f", ["f32[n]"]), ("b.py:g", ["i64[3]", "k=2"])]


def test_jit_inspect_returns_the_report():
    @jg.jit(backend="python")
    def g(x):
        return np.exp(x) + 1

    report = g.inspect(np.ones(5))
    assert report.groups and report.groups[0]["ops"] == ["exp", "add"]
    assert "def " in report.source and "memory" in report.as_dict()
    assert "fusion groups" in str(report)


# -- inspect -------------------------------------------------------------------------------------


def test_inspect_seed_expression(user_dir: Path):
    done = run_cli("inspect", "model.py:f", "f64[10]", "f64[10]", cwd=user_dir)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    positions = [out.index(title) for title in SECTIONS]
    assert positions == sorted(positions)
    assert all(len(line) <= 100 for line in out.splitlines())
    parsed = section_body(out, "graph as parsed")
    assert parsed.startswith("def f(A: f64[A.0], B: f64[B.0]) -> (f64[B.0]):")
    assert re.search(r"%0 = multiply B, A : f64\[B\.0\] +# line 5: C = B \* A", parsed)
    assert re.search(r"%1 = add %0, 1 : f64\[B\.0\] +# line 6: D = C \+ 1", parsed)
    groups = section_body(out, "fusion groups (one loop nest each)")
    assert "group 0: elemwise" in groups and "computes %0 multiply, %1 add" in groups
    assert "from line 5: C = B * A" in groups and "group 1" not in groups
    assert "(none" in section_body(out, "fusions declined")
    memory = section_body(out, "memory plan")
    assert byte_counts(memory) == {"naive": 80, "fused": 0, "planned": 0}  # C: 10 float64s
    code = section_body(out, "generated code")
    assert "def kernel_f(" in code and "prange" in code and "# from line 6: D = C + 1" in code
    timings = section_body(out, "compile time")
    for phase in ("parse", "passes", "codegen", "Numba"):
        assert re.search(rf"^  {phase}", timings, re.M), timings


def test_inspect_row_softmax(user_dir: Path):
    done = run_cli("inspect", "model.py:softmax", "x=f32[n,16]", "--dims", "n=8", cwd=user_dir)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert all(title in out for title in SECTIONS)
    assert "x=f32[n,16]  (dims n=8)" in out.splitlines()[0]
    parsed = section_body(out, "graph as parsed")
    for op in (
        "max x axes=(1,) keepdims=True",
        "subtract x, %0",
        "exp %1",
        "sum %2",
        "true_divide",
    ):
        assert op in parsed
    groups = section_body(out, "fusion groups (one loop nest each)")
    computed = " ".join(re.findall(r"computes (.*)", groups))
    assert all(op in computed for op in ("max", "subtract", "exp", "sum", "true_divide"))
    assert "from line 11: e = np.exp(x - x.max(axis=1, keepdims=True))" in groups
    assert "from line 12: return e / e.sum(axis=1, keepdims=True)" in groups
    counts = byte_counts(section_body(out, "memory plan"))
    # NumPy stores max and sum (8 float32s each), x - max and exp (8 x 16 float32s each)
    assert counts["naive"] == 2 * 8 * 4 + 2 * 8 * 16 * 4
    assert counts["planned"] <= counts["fused"] <= counts["naive"]
    code = section_body(out, "generated code")
    assert "def kernel_softmax(" in code and "prange" in code and "np.exp" in code
    assert "# from line 11:" in code and "# from line 12:" in code


def test_inspect_stages_and_passes(user_dir: Path):
    plan = run_cli("inspect", "model.py:softmax", "f32[4,4]", "--stage", "plan", cwd=user_dir)
    assert plan.returncode == 0, plan.stderr
    assert "== fusion groups" in plan.stdout and "== memory plan" in plan.stdout
    assert "== generated code" not in plan.stdout and "== graph as parsed" not in plan.stdout
    source = run_cli(
        "inspect", "model.py:f", "f64[3]", "f64[3]", "--stage", "source", "--passes", cwd=user_dir
    )
    assert source.returncode == 0, source.stderr
    assert "== generated code" in source.stdout and "== fusion groups" not in source.stdout
    assert "== after pass 1: simplify " in source.stdout


def test_inspect_json(user_dir: Path):
    done = run_cli("inspect", "model.py:softmax", "f64[n,n]", "--json", cwd=user_dir)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    for key in (
        "stages",
        "groups",
        "declined",
        "buffers",
        "memory",
        "source",
        "timings",
        "function",
        "arguments",
        "dims",
        "run",
    ):
        assert key in data
    assert data["function"] == "softmax" and data["arguments"] == {"x": "f64[n,n]"}
    assert data["dims"] == {"n": 64} and data["run"] is None
    assert data["stages"][0]["pass"] == "input" and data["groups"]
    assert {"parse", "passes", "codegen"} <= set(data["timings"])
    assert set(data["memory"]) == {"unfused_bytes", "fused_bytes", "planned_bytes"}


def test_dot_output(user_dir: Path):
    done = run_cli(
        "inspect",
        "model.py:softmax",
        "f32[8,8]",
        "--dot",
        "g.dot",
        "--stage",
        "parsed",
        cwd=user_dir,
    )
    assert done.returncode == 0, done.stderr
    dot = (user_dir / "g.dot").read_text()
    assert dot.startswith('digraph "softmax" {') and "subgraph cluster_0" in dot
    assert "%2 = exp\\nf32[x.0,x.1]" in dot and "shape=box" in dot  # op labels, types, args
    if shutil.which("dot"):
        accepted = subprocess.run(
            ["dot", "-Tsvg", str(user_dir / "g.dot")], capture_output=True, text=True, check=False
        )
        assert accepted.returncode == 0 and "<svg" in accepted.stdout, accepted.stderr


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_svg_and_png_rendered_with_graphviz(user_dir: Path):
    done = run_cli(
        "inspect",
        "model.py:f",
        "f64[3]",
        "f64[3]",
        "--svg",
        "g.svg",
        "--png",
        "g.png",
        "--stage",
        "parsed",
        cwd=user_dir,
    )
    assert done.returncode == 0, done.stderr
    assert "<svg" in (user_dir / "g.svg").read_text()
    assert (user_dir / "g.png").read_bytes().startswith(b"\x89PNG")


def test_svg_without_graphviz_is_a_clear_error(user_dir: Path):
    env = {**os.environ, "PATH": str(user_dir)}  # no `dot` on this PATH
    done = run_cli(
        "inspect", "model.py:f", "f64[3]", "f64[3]", "--svg", "g.svg", cwd=user_dir, env=env
    )
    assert done.returncode == 2 and "Graphviz" in done.stderr
    assert not (user_dir / "g.svg").exists()


# -- errors ------------------------------------------------------------------------------------


def test_unsupported_construct_names_file_and_line(user_dir: Path):
    done = run_cli("inspect", "unsupported.py:count", "f64[3]", cwd=user_dir)
    assert done.returncode == 2
    assert re.search(r"unsupported\.py:7:5: 'with' statements are not supported", done.stderr)


USAGE_ERRORS = [
    (["inspect", "model.py:f", "f65[3]", "f64[3]"], "unknown dtype 'f65'"),
    (["inspect", "model.py:f", "f64[3,x-1]", "f64[3]"], "dimension 'x-1'"),
    (["inspect", "model.py:f", "zebra", "f64[3]"], "expected DTYPE[DIMS]"),
    (["inspect", "model.py:f", "f64[3]"], "no argument spec for parameter B"),
    (["inspect", "model.py:f", "f64[3]", "C=f64[3]"], "f has no parameter 'C'"),
    (["inspect", "missing.py:f", "f64[3]"], "no such file: missing.py"),
    (["inspect", "model.py:g", "f64[3]"], "model.py has no function 'g'"),
    (["inspect", "model.py:f", "f64[3]", "f64[4]"], "must be equal"),
    (["inspect", "model.py:f", "f64[n]", "f64[n]", "--dims", "m=3"], "--dims m"),
    (["check", "missing.py"], "no such file: missing.py"),
]


@pytest.mark.parametrize("args, message", USAGE_ERRORS)
def test_usage_errors_exit_2(user_dir: Path, args: list[str], message: str, capsys, monkeypatch):
    monkeypatch.chdir(user_dir)
    assert main(args) == 2  # in process: the same code path, without a subprocess per case
    err = capsys.readouterr().err
    assert message in err and err.startswith("jitgraph: error: ")


@pytest.mark.parametrize("case", [0, 5, 7])
def test_usage_errors_end_to_end_have_no_traceback(user_dir: Path, case: int):
    args, message = USAGE_ERRORS[case]
    done = run_cli(*args, cwd=user_dir)
    assert done.returncode == 2 and message in done.stderr


# -- check -------------------------------------------------------------------------------------


CHECKED_FILE = textwrap.dedent("""\
    import numpy as np
    import jitgraph as jg
    open("executed.marker", "w").close()  # check must never run the file

    @jg.jit
    def good(x):
        return np.exp(x) + helper(x)

    def helper(y):
        print(y)
        return y

    @jg.jit(backend="python")
    def bad(x):
        try:
            pass
        except Exception:
            pass
        return np.cumsum(x) + undefined_name

    def plain(x):
        with open(x):
            pass
    """)


def test_check_reports_one_line_per_problem(tmp_path: Path):
    (tmp_path / "checked.py").write_text(CHECKED_FILE)
    done = run_cli("check", "checked.py", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[:-1] == [
        "checked.py:10:5: print() is not supported in compiled code (hint: print the results "
        "after the call, or use backend='reference')",
        "checked.py:15:5: try/except is not supported (hint: check inputs before calling the "
        "compiled function)",
        "checked.py:19:12: np.cumsum is not supported yet (hint: write it with the supported "
        "NumPy functions)",
        "checked.py:19:27: name 'undefined_name' is not defined (hint: define it at module level "
        "or pass it as an argument)",
    ]
    assert lines[-1].startswith("checked.py: 4 problems found, 3 functions checked")
    assert not (tmp_path / "executed.marker").exists()
    every = run_cli("check", "checked.py", "--all", cwd=tmp_path)
    assert every.returncode == 1 and "checked.py:22:5: 'with' statements" in every.stdout


def test_check_clean_file_exits_0(user_dir: Path):
    done = run_cli("check", "model.py", cwd=user_dir)
    assert done.returncode == 0
    assert done.stdout.strip() == "model.py: no problems found, 1 function checked (softmax)"
    every = run_cli("check", "model.py", "--all", cwd=user_dir)
    assert every.returncode == 0 and "2 functions checked (f, softmax)" in every.stdout


def test_check_syntax_error_is_a_problem(tmp_path: Path):
    (tmp_path / "broken.py").write_text("def f(x):\n    return x +\n")
    done = run_cli("check", "broken.py", cwd=tmp_path)
    assert done.returncode == 1 and done.stdout.startswith("broken.py:2:")


# -- compile -----------------------------------------------------------------------------------


def test_compile_failures_exit_2(user_dir: Path):
    done = run_cli(
        "compile",
        "unsupported.py:count",
        "f64[3]",
        "--",
        "model.py:f",
        "f64[3]",
        "f64[4]",
        cwd=user_dir,
    )
    assert done.returncode == 2
    lines = done.stdout.splitlines()
    assert lines[0].startswith("unsupported.py:count") and "FAILED: cannot compile" in lines[0]
    assert lines[1].startswith("model.py:f") and "must be equal" in lines[1]
    assert lines[-1].startswith("0 of 2 compiled")
    assert "unsupported.py:7:5" in done.stderr


@pytest.mark.numba
def test_compile_several_targets(user_dir: Path):
    done = run_cli(
        "compile",
        "model.py:f",
        "f64[n]",
        "f64[n]",
        "--",
        "model.py:softmax",
        "f32[n,16]",
        "--dims",
        "n=100",
        cwd=user_dir,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert re.match(r"model\.py:f +f64\[n\] f64\[n\] +\d+\.\d\d s  ok$", lines[0])
    assert re.match(r"model\.py:softmax +f32\[n,16\] +\d+\.\d\d s  ok$", lines[1])
    assert lines[2].startswith("2 of 2 compiled") and "\r" not in done.stdout  # not a TTY


@pytest.mark.numba
def test_inspect_run_matches_numpy(user_dir: Path):
    done = run_cli("inspect", "model.py:softmax", "f32[n,32]", "--run", "--json", cwd=user_dir)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    run = data["run"]
    assert run["match"] and run["outputs"] == 1 and run["max_rel_error"] < 1e-4
    assert run["runs"] >= 3 and run["compiled_seconds"] > 0 and run["numpy_seconds"] > 0
    assert "numba" in data["timings"]
    text = run_cli(
        "inspect", "model.py:f", "f64[10]", "f64[10]", "--run", "--stage", "plan", cwd=user_dir
    )
    assert text.returncode == 0, text.stderr
    body = section_body(text.stdout, "run: compiled vs NumPy")
    assert body.startswith("match: 1 output, max abs error ") and "median of" in body
