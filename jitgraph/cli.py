"""The `jitgraph` command line: see what the compiler did to your code, and why.

    jitgraph inspect FILE.py:FUNC [ARGSPEC ...] [--dims n=1000] [--stage parsed|optimized|plan|
                     source|all] [--passes] [--run] [--dot F] [--svg F] [--png F] [--json]
    jitgraph check FILE.py [--all]
    jitgraph compile FILE.py:FUNC ARGSPEC ... [-- FILE.py:FUNC ARGSPEC ...] [--dims n=1000]
    jitgraph show GRAPH.json A=f32[1000,1000] ... [--stage graph|source|all] [--run]

ARGSPEC: `f32[1000,1000]`, `i64[n]` (named dims share one size), `f64[]`, `bool[3,4]`, a Python
number (`3`, `0.5`), each optionally `name=` first.

Exit status: 0 success; 1 `check` found problems, or `--run` results differ from NumPy's; 2 a
usage error (no such file or function, bad ARGSPEC, unsupported code, shape errors; one message,
never a traceback); 3 an internal error (a jitgraph bug; `--traceback` shows where).
"""

from __future__ import annotations

import argparse
import ast
import builtins
import contextlib
import importlib.util
import inspect as pyinspect
import json
import linecache
import math
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .errors import JitGraphError
from .ir import dtypes

_SPEC = re.compile(r"^(?:(?P<name>[^=\[]+)=)?(?P<dtype>[a-z0-9_]+)\[(?P<dims>[^\]]*)\]$")
SYMBOLIC_SIZE = 64  # the size a named dimension (`n`) gets unless --dims sets it
WIDTH = 100
STAGES = ("parsed", "optimized", "plan", "source", "all")


class UsageError(Exception):
    """A command-line mistake or a problem in the user's code: one message, exit status 2."""


# -- argument specs ----------------------------------------------------------------------------


@dataclass
class ArgSpec:
    """`name=f32[1000,n]`: a dtype and a shape whose named dims are symbolic; or a number."""

    name: str | None
    dtype: np.dtype | None
    shape: tuple[int | str, ...] | None
    value: float | int | None = None
    text: str = ""

    def sizes(self, dims: dict[str, int]) -> tuple[int, ...]:
        """The concrete shape: named dims take their size from `dims` (default 64)."""
        return tuple(
            dims.get(d, SYMBOLIC_SIZE) if isinstance(d, str) else d for d in self.shape or ()
        )

    def sample(
        self, rng: np.random.Generator, dims: dict[str, int] | None = None
    ) -> np.ndarray | float | int:
        """An array of this spec with random values (a Python number for a scalar spec)."""
        if self.dtype is None:
            return self.value  # type: ignore[return-value]
        shape = self.sizes(dims or {})
        if self.dtype.kind == "b":
            return rng.random(shape) < 0.5
        if self.dtype.kind in "iu":
            low = -50 if self.dtype.kind == "i" else 0
            return rng.integers(low, 50, shape).astype(self.dtype)
        return rng.standard_normal(shape).astype(self.dtype)

    def describe(self) -> str:
        """The spec as typed, without its name: `f32[n,4]` or `3`."""
        return self.text.partition("=")[2] if self.name else self.text


def parse_argspec(text: str) -> ArgSpec:
    """Parse `f32[3,4]`, `i64[n]`, `f64[]`, `bool[2]`, `x=f32[n]`, `3`, `0.5`, `k=3`."""
    match = _SPEC.match(text)
    if match:
        name = match.group("name") or None
        if name is not None and not name.isidentifier():
            raise UsageError(f"argument spec {text!r}: {name!r} is not a parameter name")
        try:
            dtype = dtypes.from_name(match.group("dtype"))
        except JitGraphError as exc:
            raise UsageError(f"argument spec {text!r}: {exc}") from None
        return ArgSpec(name, dtype, _parse_dims(text, match.group("dims")), text=text)
    name, _, rest = text.rpartition("=")
    if name and not name.isidentifier():
        raise UsageError(f"argument spec {text!r}: {name!r} is not a parameter name")
    try:
        value: float | int = int(rest) if re.fullmatch(r"[+-]?\d+", rest) else float(rest)
    except ValueError:
        raise UsageError(
            f"argument spec {text!r}: expected DTYPE[DIMS] such as f32[100,100] or "
            "i64[n], or a number such as 3 or 0.5"
        ) from None
    return ArgSpec(name or None, None, None, value, text=text)


def _parse_dims(text: str, dims_text: str) -> tuple[int | str, ...]:
    shape: list[int | str] = []
    for part in (p.strip() for p in dims_text.split(",")) if dims_text.strip() else ():
        if part.isdigit():
            shape.append(int(part))
        elif part.isidentifier():
            shape.append(part)
        else:
            raise UsageError(
                f"argument spec {text!r}: dimension {part!r} is neither a size nor a name"
            )
    return tuple(shape)


def parse_dim_sizes(items: list[str]) -> dict[str, int]:
    """`--dims n=1000 --dims m=3,k=4` -> {'n': 1000, 'm': 3, 'k': 4}."""
    sizes: dict[str, int] = {}
    for item in (p for text in items for p in text.split(",") if p.strip()):
        name, _, size = item.partition("=")
        if not name.strip().isidentifier() or not size.strip().isdigit():
            raise UsageError(f"--dims {item!r}: expected NAME=SIZE such as n=1000")
        sizes[name.strip()] = int(size)
    return sizes


# -- loading the user's file -------------------------------------------------------------------


@dataclass
class Target:
    """`FILE.py:FUNC`: the Python function and the static parameters its decorator declared."""

    path: Path
    name: str
    function: types.FunctionType
    static: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.path}:{self.name}"


_MODULES: dict[Path, types.ModuleType] = {}


def split_target(text: str) -> tuple[Path, str]:
    """`dir/file.py:func` -> (path, 'func'); the last ':' splits, so `C:\\x.py:f` works."""
    path, sep, name = text.rpartition(":")
    if not sep or not path or not name:
        raise UsageError(f"{text!r}: expected FILE.py:FUNCTION, such as model.py:softmax")
    return Path(path), name


def import_file(path: Path) -> types.ModuleType:
    """Import `path` as a module (its directory on sys.path meanwhile, for its own imports).
    This runs the file's module-level code: the user pointed the CLI at their own file."""
    resolved = path.resolve()
    if resolved in _MODULES:
        return _MODULES[resolved]
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    stem = re.sub(r"\W", "_", path.stem)
    module_name = f"_jitgraph_cli_{stem}_{len(_MODULES)}"
    # The path as typed (not resolved): error messages then name the file the way the user did.
    spec = importlib.util.spec_from_file_location(module_name, str(path))
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up here
    sys.path.insert(0, str(resolved.parent))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise UsageError(f"{path}:{exc.lineno}:{exc.offset}: syntax error: {exc.msg}") from None
    except SystemExit as exc:
        raise UsageError(
            f"importing {path} called sys.exit({exc.code!r}); guard the file's "
            "script code with `if __name__ == '__main__':`"
        ) from None
    except Exception as exc:  # the user's module failed: say where, without our frames
        raise UsageError(
            f"importing {path} failed{_where_in(exc, resolved, path)}: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(resolved.parent))
    _MODULES[resolved] = module
    return module


def _where_in(exc: BaseException, resolved: Path, shown: Path) -> str:
    """` at file.py:12` for the deepest frame of the traceback in the user's file."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == resolved
    ]
    return f" at {shown}:{frames[-1].lineno}" if frames else ""


def load_target(text: str) -> Target:
    """The function `FILE.py:FUNC` names: a `jg.jit` function or a plain one."""
    from .frontend.jit import JitFunction

    path, name = split_target(text)
    module = import_file(path)
    value: Any = module
    for part in name.split("."):
        if not hasattr(value, part):
            raise UsageError(
                f"{path} has no function {name!r}; it defines: "
                f"{', '.join(_functions_in(module)) or 'no functions'}"
            )
        value = getattr(value, part)
    if isinstance(value, JitFunction):
        static = tuple(value._names[i] for i in sorted(value._static))
        return Target(path, name, value.python_function, static)
    if isinstance(value, types.FunctionType):
        return Target(path, name, value)
    raise UsageError(f"{path}:{name} is a {type(value).__name__}, not a function")


def _functions_in(module: types.ModuleType) -> list[str]:
    from .frontend.jit import JitFunction

    return [
        n
        for n, v in vars(module).items()
        if isinstance(v, (types.FunctionType, JitFunction))
        and not n.startswith("_")
        and getattr(v, "__module__", None) == module.__name__
    ]


def bind_specs(target: Target, specs: list[ArgSpec]) -> dict[str, ArgSpec]:
    """Specs by parameter name: positional ones in parameter order, named ones by name."""
    params = pyinspect.signature(target.function).parameters
    names = [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    positional = [s for s in specs if s.name is None]
    if len(positional) > len(names):
        raise UsageError(
            f"{len(positional)} argument specs for {target.name}"
            f"{pyinspect.signature(target.function)}, which takes {len(names)}"
        )
    bound = dict(zip(names, positional, strict=False))  # fewer specs than parameters is ok
    for spec in specs:
        if spec.name is None:
            continue
        if spec.name not in names:
            raise UsageError(
                f"argument spec {spec.text!r}: {target.name} has no parameter "
                f"{spec.name!r}; its parameters are {', '.join(names)}"
            )
        if spec.name in bound:
            raise UsageError(f"argument spec {spec.text!r}: parameter {spec.name!r} is given twice")
        bound[spec.name] = spec
    missing = [n for n in names if n not in bound and params[n].default is params[n].empty]
    if missing:
        signature = f"{target.name}{pyinspect.signature(target.function)}"
        raise UsageError(
            f"no argument spec for parameter{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} of {signature}; give one per parameter, such as "
            f"f32[1000] or {missing[0]}=f64[n,n]"
        )
    return {n: bound[n] for n in names if n in bound}


def sample_values(bound: dict[str, ArgSpec], dims: dict[str, int], seed: int = 0) -> dict:
    """Random arguments of the specs (the same for the same seed)."""
    rng = np.random.default_rng(seed)
    return {name: spec.sample(rng, dims) for name, spec in bound.items()}


def describe_specs(bound: dict[str, ArgSpec]) -> str:
    return " ".join(f"{name}={spec.describe()}" for name, spec in bound.items())


def _copied(values: dict) -> dict:
    """Fresh copies: a function may write into its array arguments."""
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in values.items()}


# -- inspecting: translate, optimize, plan, generate ---------------------------------------------


@dataclass
class Inspection:
    """Everything `inspect` shows about one target and argument specs."""

    target: Target
    bound: dict[str, ArgSpec]
    dims: dict[str, int]
    values: dict[str, Any]
    jitted: Any  # the JitFunction
    executable: Any  # runtime.Executable, or None when nothing is computed
    report: Any  # report.Report
    run: dict[str, Any] | None = None

    @property
    def timings(self) -> dict[str, float]:
        return self.report.timings


def compile_target(target: Target, values: dict, backend: str) -> tuple[Any, Any, float]:
    """The JitFunction for `target`, its specialization for `values`, and the seconds spent
    translating, optimizing and generating code (not Numba's compile: that is on first call)."""
    from .frontend.jit import JitFunction

    jitted = JitFunction(target.function, static_argnames=target.static, backend=backend)
    _warm_imports()
    start = time.perf_counter()
    spec = jitted.specialization(**_copied(values))
    return jitted, spec, time.perf_counter() - start


def _warm_imports() -> None:
    """Import what building an executable imports lazily (Numba, the vector math library), so
    that import time is not counted as parse time (parse is what the other phases leave)."""
    for module in ("numba", "jitgraph.codegen.vmath"):
        with contextlib.suppress(ImportError):
            importlib.import_module(module)


def inspect_target(
    target: Target, bound: dict[str, ArgSpec], dims: dict[str, int], run: bool
) -> Inspection:
    """Compile `target` for the specs (with Numba only when running) and build its report."""
    values = sample_values(bound, dims)
    jitted, spec, total = compile_target(target, values, "numba" if run else "python")
    exe = spec.executable
    if exe is not None:
        check_sizes(exe.graph, values)
    results = compare_with_numpy(target, jitted, values) if run else None
    report = jitted.inspect(**_copied(values))
    report.timings = _phase_timings(total, exe.timings if exe is not None else {})
    return Inspection(target, bound, dims, values, jitted, exe, report, results)


def check_sizes(graph: Any, values: dict[str, Any]) -> None:
    """Raise the error a call would raise when the specs' sizes violate a check of the graph
    (shapes that do not broadcast, ...): the kernel is symbolic in sizes, so translating it for
    the specs cannot find these."""
    from .codegen.entry import check_failed
    from .ir import dims as D

    shapes = [np.shape(values[arg.attr("name")]) for arg in graph.args]
    for check in graph.checks():
        a, b = D.evaluate(check.a, shapes), D.evaluate(check.b, shapes)
        holds = {"eq": a == b, "divides": b != 0 and a % b == 0, "index": -b <= a < b}.get(
            check.kind, a != 0
        )
        if not holds:
            raise check_failed(graph, check, shapes)


def _phase_timings(total: float, recorded: dict[str, float]) -> dict[str, float]:
    """parse, passes, codegen, numba: the frontend records no parse time, so it is the rest of
    the specialization's time."""
    phases = {"parse": max(total - recorded.get("passes", 0) - recorded.get("codegen", 0), 0.0)}
    phases.update((k, v) for k, v in recorded.items() if not k.startswith("numba"))
    for key, value in recorded.items():
        if key.startswith("numba"):
            phases["numba"] = value
    return phases


# -- --run: compiled vs plain NumPy --------------------------------------------------------------

TOLERANCE = {"f": (1e-4, 1e-6), "d": (1e-7, 1e-12)}  # dtype char -> (rtol, atol)


def _flatten(value: Any) -> list[np.ndarray]:
    if isinstance(value, (tuple, list)):
        return [a for v in value for a in _flatten(v)]
    return [np.asarray(value)]


def _timed(fn: Callable, values: dict, repeat: int) -> tuple[Any, float]:
    """The result of one call and the median time of `repeat` calls on fresh copies."""
    times, result = [], None
    for _ in range(repeat):
        args = _copied(values)
        start = time.perf_counter()
        result = fn(**args)
        times.append(time.perf_counter() - start)
    return result, float(np.median(times))


def _repeats(fn: Callable, values: dict) -> int:
    """Enough runs for a stable median within about a second: 3 to 21."""
    args = _copied(values)
    start = time.perf_counter()
    fn(**args)
    once = time.perf_counter() - start
    return int(min(21, max(3, 1.0 / max(once, 1e-6))))


def compare_with_numpy(target: Target, jitted: Any, values: dict) -> dict[str, Any]:
    """Run the compiled function (first call compiles) and the original Python function on the
    same random inputs; the largest errors and the median times."""
    jitted(**_copied(values))  # compiles with Numba; its time is in the executable's timings
    try:
        _repeats(target.function, values)
    except Exception as exc:
        raise UsageError(
            f"the original function {target.name} raised {type(exc).__name__} on "
            f"these inputs: {exc}"
        ) from None
    repeat = _repeats(jitted, values)
    compiled, compiled_time = _timed(jitted, values, repeat)
    expected, numpy_time = _timed(target.function, values, repeat)
    result = compare_outputs(_flatten(compiled), _flatten(expected))
    result.update(
        runs=repeat,
        compiled_seconds=compiled_time,
        numpy_seconds=numpy_time,
        speedup=numpy_time / compiled_time if compiled_time > 0 else math.inf,
    )
    return result


def compare_outputs(got: list[np.ndarray], want: list[np.ndarray]) -> dict[str, Any]:
    """Max abs/rel error over all outputs; NaN must match NaN; dtypes and shapes must agree."""
    problems: list[str] = []
    max_abs = max_rel = 0.0
    tolerance = (0.0, 0.0)
    if len(got) != len(want):
        problems.append(f"{len(got)} outputs, NumPy returned {len(want)}")
    for i, (g, w) in enumerate(zip(got, want, strict=False)):  # counts checked above
        if g.shape != w.shape:
            problems.append(f"output {i}: shape {g.shape}, NumPy's is {w.shape}")
            continue
        if g.dtype != w.dtype:
            problems.append(f"output {i}: dtype {g.dtype}, NumPy's is {w.dtype}")
        rtol, atol = TOLERANCE.get(np.result_type(g, w).char, (0.0, 0.0))
        tolerance = max(tolerance, (rtol, atol))
        error_abs, error_rel = _errors(g, w)
        max_abs, max_rel = max(max_abs, error_abs), max(max_rel, error_rel)
        if not np.allclose(g, w, rtol=rtol, atol=atol, equal_nan=True) if g.size else False:
            problems.append(f"output {i}: values differ beyond rtol={rtol:g}, atol={atol:g}")
    return {
        "match": not problems,
        "problems": problems,
        "outputs": len(want),
        "max_abs_error": max_abs,
        "max_rel_error": max_rel,
        "rtol": tolerance[0],
        "atol": tolerance[1],
    }


def _errors(got: np.ndarray, want: np.ndarray) -> tuple[float, float]:
    if got.size == 0 or got.dtype.kind not in "biuf" or want.dtype.kind not in "biuf":
        return 0.0, 0.0
    g, w = got.astype(np.float64), want.astype(np.float64)
    both_nan = np.isnan(g) & np.isnan(w)
    same = (g == w) | both_nan  # equal infinities: no error (inf - inf would be nan)
    diff = np.where(same, 0.0, np.abs(g - w))
    diff = np.where(np.isnan(diff), np.inf, diff)
    rel = diff / np.maximum(np.abs(w), np.finfo(np.float64).tiny)
    return float(diff.max()), float(np.where(same, 0.0, rel).max())


# -- text rendering ------------------------------------------------------------------------------


def section(title: str, body: str) -> str:
    """`== title ====...` ruled to the full width, then the body."""
    return f"== {title} " + "=" * max(3, WIDTH - len(title) - 4) + "\n" + body


def _fit(text: str, width: int = WIDTH) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


class SourceLines:
    """User source lines by `file:line`, printed relative to the target's file."""

    def __init__(self, target_path: Path):
        self.target = target_path.resolve()
        self.shown = target_path

    def where(self, filename: str, line: int) -> str:
        return (
            f"line {line}"
            if Path(filename).resolve() == self.target
            else f"{Path(filename).name}:{line}"
        )

    def text(self, filename: str, line: int) -> str:
        return linecache.getline(filename, line).strip()

    def describe(self, location: str) -> str:
        """`line 10: e = np.exp(...)` for a report's `file:line`."""
        filename, _, line = location.rpartition(":")
        if not line.isdigit():
            return location
        return f"{self.where(filename, int(line))}: {self.text(filename, int(line))}"


def annotated_graph(graph: Any, name: str, lines: SourceLines) -> str:
    """The printed graph, each node followed by the user source line it came from."""
    from .ir.ops import Op
    from .ir.printer import format_graph

    text = format_graph(graph, name=name).splitlines()
    nodes = [
        n for n in graph.nodes() if n.op is not Op.VAR and not (n.op is Op.CONST and n.ndim == 0)
    ]
    column = min(max((len(t) for t in text[1 : 1 + len(nodes)]), default=0) + 2, 56)
    for i, node in enumerate(nodes, start=1):
        loc = graph.locations.get(node)
        if loc is not None and hasattr(loc, "line"):
            note = f"# {lines.where(loc.filename, loc.line)}: {lines.text(loc.filename, loc.line)}"
            text[i] = _fit(text[i].ljust(column) + note)
    return "\n".join(text)


def groups_text(groups: list[dict[str, Any]], lines: SourceLines) -> str:
    out = []
    for g in groups:
        out.append(
            _fit(
                f"group {g['id']}: {g['kind']} loop nest over {g['iteration_space']} "
                f"-> {g['root']} : {g['type']}"
            )
        )
        computed = zip(g["members"], g["ops"], strict=True)
        out.append(_fit("    computes " + ", ".join(f"{m} {o}" for m, o in computed)))
        if g["kind"] == "columns":
            stages = ", ".join(f"{st['root']} ({st['ops'][-1]})" for st in g["stages"])
            out.append(_fit(f"    reductions sharing one read of each element: {stages}"))
            if g["shared"]:
                out.append(_fit(
                    "    computed once per element for several of them, not stored: "
                    + ", ".join(g["shared"])
                ))
        out.extend(_fit(f"    from {lines.describe(loc)}") for loc in g["source"])
    return "\n".join(out) or "(none: nothing is computed)"


def declined_text(declined: list[dict[str, Any]], lines: SourceLines) -> str:
    out = []
    for d in declined:
        out.append(_fit(f"{d['value']} ({d['op']}) not fused: [{d['reason']}] {d['detail']}"))
        if d.get("source"):
            out.append(_fit(f"    at {lines.describe(d['source'])}"))
    return "\n".join(out) or "(none: every computed value was fused into its consumer)"


def _bytes(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"


def memory_text(buffers: list[dict[str, Any]], memory: dict[str, int]) -> str:
    """The buffer table (live ranges in loop nests, i.e. group ids) and the three totals."""
    rows = []
    if buffers:
        rows.append(
            f"{'value':<8}{'shape':<24}{'dtype':<9}{'bytes':>14}  {'live (groups)':<15}"
            f"{'slot':<6}in place of"
        )
        for b in buffers:
            shape = "(" + ", ".join(str(s) for s in b["shape"]) + ")"
            live = f"{b['live'][0]}..{b['live'][1]}"
            rows.append(
                _fit(
                    f"{b['value']:<8}{shape:<24}{b['dtype']:<9}{b['bytes']:>14,}  "
                    f"{live:<15}{b['slot']:<6}{b['inplace_of'] or '-'}"
                )
            )
    else:
        rows.append("no intermediate buffers: every intermediate value stays in registers")
    naive, fused, planned = (
        memory["unfused_bytes"],
        memory["fused_bytes"],
        memory["planned_bytes"],
    )
    share = f"  ({planned / naive:.0%} of naive)" if naive else ""
    rows += [
        "",
        "peak intermediate memory per call (inputs and outputs not counted):",
        f"  naive   (NumPy: one array per operation)   {_bytes(naive)}",
        f"  fused   (one buffer per stored value)      {_bytes(fused)}",
        f"  planned (buffers share slots, in place)    {_bytes(planned)}{share}",
    ]
    return "\n".join(rows)


_STAGE_COMMENT = re.compile(r"^\s*# (\w+) -> (.+)$")  # codegen's heading of each loop nest


def annotated_source(source: str, plan: Any, lines: SourceLines) -> str:
    """The generated code; under each loop nest's heading comment (`# op -> type`), the user
    source lines of what that nest computes (skipped when codegen already names them)."""
    from .ir.printer import format_type

    text = source.rstrip().splitlines()
    if any(f"{lines.shown.name}:" in t for t in text):
        return "\n".join(text)
    # a row group's parts are nests of their own, each with its heading
    pending = [u for g in plan.groups for u in (getattr(g, "parts", None) or [g])]
    out: list[str] = []
    for line in text:
        out.append(line)
        match = _STAGE_COMMENT.match(line)
        unit = match and next(
            (
                u
                for u in pending
                if u.root.op.value == match.group(1)
                and format_type(u.root) == match.group(2).strip()
            ),
            None,
        )
        if not unit:
            continue
        pending.remove(unit)
        indent = line[: len(line) - len(line.lstrip())]
        out.extend(_fit(f"{indent}# from {where}") for where in _member_lines(unit, plan, lines))
    return "\n".join(out)


def _member_lines(unit: Any, plan: Any, lines: SourceLines) -> list[str]:
    """`line 7: e = ...` for each distinct source line of `unit`'s members, in file order."""
    found = {}
    for member in unit.members:
        loc = plan.graph.locations.get(member)
        if loc is not None and hasattr(loc, "line"):
            found[(loc.filename, loc.line)] = None
    return [f"{lines.where(f, n)}: {lines.text(f, n)}" for f, n in sorted(found)]


def timings_text(timings: dict[str, float], ran: bool) -> str:
    labels = {
        "parse": "parse (source -> graph)",
        "passes": "passes",
        "codegen": "codegen",
        "numba": "Numba (compile + first run)",
    }
    rows = [f"  {labels.get(k, k):<30}{v * 1e3:>10.1f} ms" for k, v in timings.items()]
    if not ran:
        rows.append(f"  {'Numba':<30}{'not run':>13}  (--run compiles with Numba)")
    return "\n".join(rows)


def run_text(run: dict[str, Any]) -> str:
    verdict = "match" if run["match"] else "MISMATCH"
    rows = [
        f"{verdict}: {run['outputs']} output{'s' if run['outputs'] != 1 else ''}, max abs "
        f"error {run['max_abs_error']:.3g}, max rel error {run['max_rel_error']:.3g} "
        f"(tolerance rtol={run['rtol']:g}, atol={run['atol']:g})"
    ]
    rows += [f"  {p}" for p in run["problems"]]
    speedup = run["speedup"]
    ratio = f"{speedup:.2f}x faster" if speedup >= 1 else f"{1 / speedup:.2f}x slower"
    rows.append(
        f"time (median of {run['runs']} runs): compiled {run['compiled_seconds'] * 1e3:.3f}"
        f" ms, NumPy {run['numpy_seconds'] * 1e3:.3f} ms: compiled is {ratio}"
    )
    return "\n".join(rows)


def render(insp: Inspection, stage: str, passes: bool) -> str:
    """The sections `inspect` prints for `--stage` (and `--passes`)."""
    lines = SourceLines(insp.target.path)
    report, exe, name = insp.report, insp.executable, insp.target.name.rpartition(".")[2]
    parts = [
        _fit(
            f"jitgraph inspect {insp.target.label}  {describe_specs(insp.bound)}"
            + (
                f"  (dims {', '.join(f'{k}={v}' for k, v in insp.dims.items())})"
                if insp.dims
                else ""
            )
        )
    ]
    if exe is None:
        return "\n\n".join(
            parts + ["nothing to compute: the function returns its arguments or constants"]
        )
    if stage in ("parsed", "all"):
        parts.append(section("graph as parsed", annotated_graph(exe.input_graph, name, lines)))
    if passes:
        parts.extend(_pass_sections(report.stages, name))
    if stage in ("optimized", "all"):
        parts.append(section("optimized graph", annotated_graph(exe.plan.graph, name, lines)))
    if stage in ("plan", "all"):
        parts.append(
            section("fusion groups (one loop nest each)", groups_text(report.groups, lines))
        )
        parts.append(section("fusions declined", declined_text(report.declined, lines)))
        parts.append(section("memory plan", memory_text(report.buffers, report.memory)))
    if stage in ("source", "all"):
        parts.append(section("generated code", annotated_source(report.source, exe.plan, lines)))
    if stage == "all":
        parts.append(section("compile time", timings_text(insp.timings, insp.run is not None)))
    if insp.run is not None:
        parts.append(section("run: compiled vs NumPy", run_text(insp.run)))
    return "\n\n".join(parts)


def _pass_sections(stages: list[tuple[str, str]], name: str) -> list[str]:
    parts, previous = [], None
    for i, (pass_name, text) in enumerate(stages):
        if pass_name == "input":
            previous = text
            continue
        body = "(unchanged)" if text == previous else text.replace("def graph(", f"def {name}(", 1)
        parts.append(section(f"after pass {i}: {pass_name}", body))
        previous = text
    return parts


# -- inspect -------------------------------------------------------------------------------------


def _cmd_inspect(args: argparse.Namespace) -> int:
    target = load_target(args.target)
    bound = bind_specs(target, [parse_argspec(s) for s in args.specs])
    dims = _used_dims(bound, parse_dim_sizes(args.dims))
    insp = inspect_target(target, bound, dims, args.run)
    if args.dot or args.svg or args.png:
        write_graphviz(insp, args.dot, args.svg, args.png)
    if args.json:
        print(json.dumps(as_json(insp), indent=2, default=_json_default))
    else:
        print(render(insp, args.stage, args.passes))
    return 0 if insp.run is None or insp.run["match"] else 1


def _used_dims(bound: dict[str, ArgSpec], sizes: dict[str, int]) -> dict[str, int]:
    """Each named dim of the specs with its size; a --dims name no spec uses is a mistake."""
    used = {d for s in bound.values() for d in s.shape or () if isinstance(d, str)}
    unknown = set(sizes) - used
    if unknown:
        raise UsageError(
            f"--dims {', '.join(sorted(unknown))}: no argument spec uses "
            f"{'these names' if len(unknown) > 1 else 'this name'}"
        )
    return {d: sizes.get(d, SYMBOLIC_SIZE) for d in sorted(used)}


def as_json(insp: Inspection) -> dict[str, Any]:
    """report.as_dict() plus what was inspected and the run results."""
    data = insp.report.as_dict()
    data.update(
        function=insp.target.name,
        file=str(insp.target.path),
        arguments={n: s.describe() for n, s in insp.bound.items()},
        dims=insp.dims,
        run=insp.run,
    )
    return data


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    return str(value)


def write_graphviz(insp: Inspection, dot: str | None, svg: str | None, png: str | None) -> None:
    """Write DOT source, and render SVG/PNG with Graphviz's `dot` (exit 2 when it is absent)."""
    from .dot import to_dot

    if insp.executable is None:
        raise UsageError("nothing to draw: the function computes nothing")
    plan = insp.executable.plan
    text = to_dot(plan.graph, plan.groups, insp.target.name, plan.materialized)
    if dot:
        _write(dot, text)
    renders = [(fmt, out) for fmt, out in (("svg", svg), ("png", png)) if out]
    if renders and shutil.which("dot") is None:
        raise UsageError(
            "--svg/--png need Graphviz's `dot` program, which is not installed "
            "(apt-get install graphviz, brew install graphviz); --dot FILE writes "
            "the source without it"
        )
    for fmt, out in renders:
        done = subprocess.run(
            ["dot", f"-T{fmt}", "-o", out], input=text, text=True, capture_output=True, check=False
        )
        if done.returncode != 0:
            raise UsageError(f"Graphviz failed to render {out}: {done.stderr.strip()}")


def _write(path: str, text: str) -> None:
    try:
        Path(path).write_text(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


# -- check: unsupported constructs, statically ----------------------------------------------------


_JIT_NAMES = {"jit", "jg.jit", "jitgraph.jit"}
_JIT_PATHS = {"jitgraph.jit", "jitgraph.frontend.jit", "jitgraph.frontend.jit.jit"}
_SAFE_MODULES = {"numpy": np, "math": math}  # modules resolved statically (never the user's)


@dataclass
class ModuleFacts:
    """What a file binds at module level, read with ast only (nothing is executed)."""

    imports: dict[str, str] = field(default_factory=dict)  # local name -> dotted import path
    names: set[str] = field(default_factory=set)  # every module-level binding
    functions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    wrapped: set[str] = field(default_factory=set)  # `g` of a module-level `jit(g)`

    def resolve(self, dotted: str) -> str:
        """`np.linalg.norm` -> `numpy.linalg.norm` through the file's imports."""
        head, _, rest = dotted.partition(".")
        base = self.imports.get(head)
        return dotted if base is None else base + ("." + rest if rest else "")

    def is_jit(self, expr: ast.expr) -> bool:
        """Is `expr` (a decorator, or the callee of a call) jitgraph's `jit`?"""
        if isinstance(expr, ast.Call):
            expr = expr.func
        dotted = _dotted(expr)
        if dotted is None:
            return False
        if dotted.partition(".")[0] in self.imports:
            return self.resolve(dotted) in _JIT_PATHS
        return dotted in _JIT_NAMES


def _dotted(expr: ast.expr) -> str | None:
    """`a.b.c` for a chain of attributes on a name, else None."""
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    return ".".join([expr.id, *reversed(parts)])


def module_facts(tree: ast.Module) -> ModuleFacts:
    facts = ModuleFacts()
    for node in _module_level(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.partition(".")[0]
                facts.imports[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                facts.imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            facts.names.add(node.name)
            if isinstance(node, ast.FunctionDef) and node in tree.body:
                facts.functions[node.name] = node
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            facts.names.add(node.id)
    facts.names |= set(facts.imports)
    for node in _module_level(tree):  # `jg.jit(g)` and `jg.jit(backend=...)(g)`
        if (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Name)
            and facts.is_jit(node.func)
        ):
            facts.wrapped.add(node.args[0].id)
    return facts


def _module_level(tree: ast.Module) -> Iterator[ast.AST]:
    """Module-level nodes, not descending into function or class bodies."""
    stack: list[ast.AST] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _function_source(path: str, lines: list[str], node: ast.FunctionDef) -> Any:
    """A FunctionSource for a top-level def read from the file (decorators dropped: they are
    not part of what is translated)."""
    import copy

    from .frontend.source import FunctionSource

    tree = copy.copy(node)
    tree.decorator_list = []
    return FunctionSource(node.name, path, tree, lines, 1, 0, {}, {}, {})


class _Resolver(ast.NodeVisitor):
    """Static checks beyond syntax: names defined nowhere, NumPy and builtin functions jitgraph
    does not support, and which module-level helpers the function calls (they are inlined)."""

    def __init__(self, source: Any, facts: ModuleFacts):
        from .frontend.source import problem_at

        self.source, self.facts, self.problems = source, facts, []
        self.problem_at = problem_at
        self.locals = _local_names(source.tree)
        self.helpers: set[str] = set()

    def report(self, node: ast.AST, message: str, hint: str = "") -> None:
        self.problems.append(self.problem_at(self.source, node, message, hint))

    def visit_Raise(self, node: ast.Raise) -> None:
        """Not walked, as in the translator: a raise is translated only when reached."""

    def visit_Name(self, node: ast.Name) -> None:
        if (
            isinstance(node.ctx, ast.Load)
            and node.id not in self.locals
            and node.id not in self.facts.names
            and not hasattr(builtins, node.id)
        ):
            self.report(
                node,
                f"name {node.id!r} is not defined",
                "define it at module level or pass it as an argument",
            )

    def visit_Call(self, node: ast.Call) -> None:
        dotted = _dotted(node.func)
        head = (dotted or "").partition(".")[0]
        if dotted and head not in self.locals:
            if dotted in self.facts.functions or dotted in self.facts.wrapped:
                self.helpers.add(dotted)
            elif head in self.facts.imports:
                self._check_module_call(node, dotted)
            elif "." not in dotted and dotted not in self.facts.names:
                self._check_builtin_call(node, dotted)
        self.generic_visit(node)

    def _check_module_call(self, node: ast.Call, dotted: str) -> None:
        from .frontend import builtins_api, numpy_api

        path = self.facts.resolve(dotted).split(".")
        value: Any = _SAFE_MODULES.get(path[0])
        if value is None:
            return  # another library: resolving it would mean importing it
        for part in path[1:]:
            if not hasattr(value, part):
                self.report(
                    node.func, f"module {path[0]!r} has no attribute {'.'.join(path[1:])!r}"
                )
                return
            value = getattr(value, part)
        if isinstance(value, (type, types.ModuleType)) or not callable(value):
            return  # dtypes such as np.float32(x) are supported calls
        if numpy_api.lookup(value) is None and builtins_api.lookup(value) is None:
            shown = dotted if "." in dotted else f"{dotted} ({'.'.join(path)})"
            self.report(
                node.func,
                f"{shown} is not supported yet",
                "write it with the supported NumPy functions",
            )

    def _check_builtin_call(self, node: ast.Call, name: str) -> None:
        from .frontend import builtins_api

        value = getattr(builtins, name, None)
        if value is None or (isinstance(value, type) and issubclass(value, BaseException)):
            return
        handler = builtins_api.lookup(value)
        if handler is None:
            self.report(
                node.func,
                f"calling {name}() is not supported in compiled code",
                "compiled functions call NumPy functions and plain Python functions",
            )
        elif name in ("print", "isinstance"):  # handlers that always refuse: use their message
            message, hint = _refusal(handler)
            self.report(node.func, message, hint)


def _refusal(handler: Callable) -> tuple[str, str]:
    """The message a builtin's handler refuses with (it raises `cx.unsupported(...)`)."""

    class Refused(Exception):
        pass

    class Context:
        def unsupported(self, message: str, hint: str = "", **_: Any) -> Exception:
            return Refused(message, hint)

    try:
        handler(Context(), None, None)
    except Refused as refused:
        return refused.args[0], refused.args[1]
    except Exception:
        pass
    return "this builtin is not supported in compiled code", ""


def _local_names(tree: ast.FunctionDef) -> set[str]:
    """Every name the function (and its nested functions) binds: parameters, assignments,
    loop targets, nested defs."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def check_file(path: Path, every_function: bool) -> tuple[list[Any], list[str]]:
    """Problems (frontend `Problem`s, sorted by position) and the names of functions checked."""
    from .frontend.check import check_function
    from .frontend.errors import Location, Problem

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    lines = text.splitlines(True)
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        line = (lines[exc.lineno - 1] if exc.lineno and exc.lineno <= len(lines) else "").rstrip()
        col = exc.offset or 1
        return [
            Problem(
                Location(str(path), exc.lineno or 1, col, col + 1, line), f"syntax error: {exc.msg}"
            )
        ], []
    facts = module_facts(tree)
    roots = [
        name
        for name, node in facts.functions.items()
        if every_function
        or name in facts.wrapped
        or any(facts.is_jit(d) for d in node.decorator_list)
    ]
    problems: dict[Any, None] = {}
    checked, queue = [], list(roots)
    while queue:  # helpers a checked function calls are inlined when compiled: check them too
        name = queue.pop(0)
        if name in checked or name not in facts.functions:
            continue
        checked.append(name)
        source = _function_source(str(path), lines, facts.functions[name])
        resolver = _Resolver(source, facts)
        for statement in source.tree.body:
            resolver.visit(statement)
        problems.update(dict.fromkeys(check_function(source) + resolver.problems))
        queue.extend(sorted(resolver.helpers))
    ordered = sorted(problems, key=lambda p: (p.location.line, p.location.col, p.message))
    return ordered, checked


def _cmd_check(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    problems, checked = check_file(path, args.all)
    for problem in problems:
        hint = f" (hint: {problem.hint})" if problem.hint else ""
        print(f"{problem.location}: {problem.message}{hint}")
    if not checked and not problems:
        print(f"{path}: no @jit functions found (--all checks every top-level function)")
        return 0
    functions = f"{len(checked)} function{'s' if len(checked) != 1 else ''} checked"
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        print(f"{path}: {count} found, {functions} ({', '.join(checked) or 'none'})")
        return 1
    print(f"{path}: no problems found, {functions} ({', '.join(checked)})")
    return 0


# -- compile: ahead of time ----------------------------------------------------------------------


def split_compile_targets(items: list[str]) -> list[tuple[str, list[str]]]:
    """`a.py:f f32[n] -- b.py:g i64[3]` -> [('a.py:f', ['f32[n]']), ('b.py:g', ['i64[3]'])]:
    a token with ':' starts a target ('--' between targets is optional)."""
    targets: list[tuple[str, list[str]]] = []
    for item in items:
        if item == "--":
            continue
        if ":" in item and "[" not in item:
            targets.append((item, []))
        elif not targets:
            raise UsageError(f"{item!r} comes before any FILE.py:FUNCTION target")
        else:
            targets[-1][1].append(item)
    if not targets:
        raise UsageError("compile needs at least one FILE.py:FUNCTION target with its ARGSPECs")
    return targets


class Progress:
    """One line per target; on a terminal the line shows 'compiling' first, updated in place."""

    def __init__(self, stream: Any = None):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()

    def start(self, label: str) -> None:
        if self.tty:
            self.stream.write(f"\r{label}  compiling ...")
            self.stream.flush()

    def done(self, label: str, status: str, seconds: float) -> None:
        line = f"{label}  {seconds:6.2f} s  {status}"
        if self.tty:
            self.stream.write("\r\x1b[2K")  # clear the 'compiling' line first
        self.stream.write(line + "\n")
        self.stream.flush()


def compile_one(text: str, spec_texts: list[str], dims: dict[str, int]) -> tuple[str, float]:
    """Translate, generate and compile one target with Numba; the status and seconds."""
    start = time.perf_counter()
    target = load_target(text)
    bound = bind_specs(target, [parse_argspec(s) for s in spec_texts])
    values = sample_values(bound, {d: dims.get(d, SYMBOLIC_SIZE) for d in _names_in(bound)})
    jitted, _, _ = compile_target(target, values, "numba")
    jitted(**_copied(values))  # Numba compiles on the first call
    return "ok", time.perf_counter() - start


def _names_in(bound: dict[str, ArgSpec]) -> set[str]:
    return {d for s in bound.values() for d in s.shape or () if isinstance(d, str)}


def _cmd_compile(args: argparse.Namespace) -> int:
    targets = split_compile_targets(args.items)
    dims = parse_dim_sizes(args.dims)
    progress, failed, total = Progress(), 0, time.perf_counter()
    width = max(len(t) for t, _ in targets)
    spec_width = max(len(" ".join(specs) or "(no arguments)") for _, specs in targets)
    for text, specs in targets:
        label = f"{text:<{width}}  {' '.join(specs) or '(no arguments)':<{spec_width}}"
        progress.start(label)
        start = time.perf_counter()
        try:
            status, seconds = compile_one(text, specs, dims)
        except (UsageError, JitGraphError) as exc:
            status, seconds = "FAILED: " + str(exc).splitlines()[0], time.perf_counter() - start
            failed += 1
            progress.done(label, status, seconds)
            _print_error(exc, detail_only=True)  # a frontend error's located problems
            continue
        progress.done(label, status, seconds)
    summary = (
        f"{len(targets) - failed} of {len(targets)} compiled in {time.perf_counter() - total:.2f} s"
    )
    print(summary + ("" if not failed else f"; {failed} failed"))
    return 2 if failed else 0


# -- show: a saved symbol ------------------------------------------------------------------------


def _cmd_show(args: argparse.Namespace) -> int:
    from .serialize import load

    try:
        symbol = load(args.graph)
    except OSError as exc:
        raise UsageError(f"cannot read {args.graph}: {exc.strerror}") from None
    names = symbol.list_arguments()
    specs = [parse_argspec(s) for s in args.specs]
    values: dict[str, object] = {}
    rng = np.random.default_rng(0)
    for i, spec in enumerate(specs):
        name = spec.name or (names[i] if i < len(names) else None)
        if name is None or name not in names:
            raise UsageError(f"argument spec {args.specs[i]!r}: the graph's arguments are {names}")
        values[name] = spec.sample(rng, parse_dim_sizes(args.dims))
    missing = [n for n in names if n not in values]
    if missing:
        raise UsageError(
            f"no spec for argument{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        )
    from .symbol import compile as compile_symbol

    fn = compile_symbol(symbol, backend="numba" if args.run else "python")
    if args.stage in ("graph", "all"):
        print(fn.graph(**values))
    if args.stage in ("source", "all"):
        print(fn.source(**values))
    if args.run:
        start = time.perf_counter()
        fn(**values)
        print(f"ran in {time.perf_counter() - start:.3f} s (including compilation)")
    return 0


# -- the parser and main -------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jitgraph", description="Compile NumPy functions and see what the compiler did."
    )
    parser.add_argument("--version", action="version", version=f"jitgraph {__version__}")
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="show Python tracebacks of internal errors (for bug reports)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_inspect(commands)
    _add_check(commands)
    _add_compile(commands)
    _add_show(commands)
    return parser


def _add_inspect(commands: Any) -> None:
    p = commands.add_parser(
        "inspect",
        help="show the graphs, fusion decisions, memory plan, code and timings",
        description="Compile FUNC for the argument specs and show what the compiler did.",
    )
    p.add_argument("target", metavar="FILE.py:FUNC")
    p.add_argument(
        "specs",
        nargs="*",
        metavar="ARGSPEC",
        help="f32[1000,1000], i64[n], f64[], bool[3,4], 3, 0.5; optionally NAME= first",
    )
    p.add_argument("--stage", choices=STAGES, default="all", help="the sections to print")
    p.add_argument("--passes", action="store_true", help="also print the graph after each pass")
    p.add_argument(
        "--run",
        action="store_true",
        help="compile with Numba, run on random inputs and compare with NumPy",
    )
    _add_dims(p)
    p.add_argument("--dot", metavar="FILE", help="write Graphviz source of the optimized graph")
    p.add_argument("--svg", metavar="FILE", help="render the graph to SVG (needs Graphviz)")
    p.add_argument("--png", metavar="FILE", help="render the graph to PNG (needs Graphviz)")
    p.add_argument("--json", action="store_true", help="print everything as JSON")
    p.set_defaults(handler=_cmd_inspect)


def _add_check(commands: Any) -> None:
    p = commands.add_parser(
        "check",
        help="report unsupported constructs without compiling or running the file",
        description="Check every @jit function (with --all: every top-level function) of FILE "
        "for constructs jitgraph cannot compile. The file is parsed, never run.",
    )
    p.add_argument("file", metavar="FILE.py")
    p.add_argument("--all", action="store_true", help="check every top-level function")
    p.set_defaults(handler=_cmd_check)


def _add_compile(commands: Any) -> None:
    p = commands.add_parser(
        "compile",
        help="compile functions ahead of time with Numba",
        usage="jitgraph compile FILE.py:FUNC ARGSPEC... [[--] FILE.py:FUNC ARGSPEC...] "
        "[--dims n=SIZE]",
        description="Compile each FILE.py:FUNC for its ARGSPECs with Numba (in this process; "
        "a persistent cache will make this warm it).",
    )
    _add_dims(p)
    p.set_defaults(handler=_cmd_compile, items=[])


def _add_show(commands: Any) -> None:
    p = commands.add_parser(
        "show", help="print the typed graph and generated code of a saved symbol"
    )
    p.add_argument("graph", help="a file written by Symbol.save()")
    p.add_argument("specs", nargs="*", help="argument specs such as A=f32[1000,1000]")
    p.add_argument("--stage", choices=("graph", "source", "all"), default="all")
    p.add_argument("--run", action="store_true", help="compile with Numba and run on random inputs")
    _add_dims(p)
    p.set_defaults(handler=_cmd_show)


def _add_dims(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dims",
        action="append",
        default=[],
        metavar="NAME=SIZE",
        help=f"size of a named dimension (default {SYMBOLIC_SIZE}); repeatable",
    )


def parse_arguments(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """argparse, but positionals may follow options (`inspect f.py:f --run f32[3]`) and
    `compile` takes any number of targets with their specs."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((t for t in argv if not t.startswith("-")), None)
    if command == "compile":  # '--' only separates targets (a ':' marks them anyway); drop it
        argv = [t for t in argv if t != "--"]  # so that options after it are still options
    args, extras = parser.parse_known_args(argv)
    unknown = [e for e in extras if e.startswith("-") and e != "--" and not _is_number(e)]
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == "compile":
        args.items = extras
    elif args.command in ("inspect", "show"):
        args.specs = list(args.specs) + [e for e in extras if e != "--"]
    elif extras:
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def _is_number(text: str) -> bool:
    with contextlib.suppress(ValueError):
        float(text.rpartition("=")[2])
        return True
    return False


def _print_error(exc: BaseException, detail_only: bool = False) -> None:
    text = str(exc)
    sys.stdout.flush()  # keep the message after what was printed before it
    if detail_only:
        rest = text.splitlines()[1:]
        if rest:
            print("\n".join("    " + line for line in rest), file=sys.stderr)
        return
    print(f"jitgraph: error: {text}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse_arguments(parser, argv)
    try:
        return args.handler(args)
    except (UsageError, JitGraphError) as exc:
        _print_error(exc)
        return 2
    except BrokenPipeError:  # `jitgraph inspect ... | head`: the reader left; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that flushing at exit does not fail again
        return 1
    except KeyboardInterrupt:
        print("jitgraph: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug in jitgraph: one line unless asked for the traceback
        if args.traceback or os.environ.get("JITGRAPH_TRACEBACK"):
            raise
        print(
            f"jitgraph: internal error (a bug in jitgraph, please report it): "
            f"{type(exc).__name__}: {exc}; rerun with --traceback for details",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":
    sys.exit(main())
