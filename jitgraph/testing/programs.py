"""A random program generator: Python source of NumPy functions jitgraph supports, with inputs.

Programs are valid by construction: every candidate expression and statement is run by NumPy
on the program's own arguments while the program is built, so shapes, dtypes, broadcasting and
bounds are those NumPy sees; a candidate NumPy rejects (or whose dtype jitgraph lacks, such as
float16) is dropped and another one drawn.

Results must be comparable within a tolerance, so the generator tracks which values are
*exact* (computed by correctly rounded or integer operations only: NumPy and jitgraph agree bit
for bit) and feeds inexact values (transcendentals, float sums) only to operations whose error
stays proportional to the values (+ - * max min where, sums, matmul, views). Operations that
are discontinuous or amplify errors (comparisons, floor, //, %, sqrt, log, tan, float -> int
casts, argmax, divisors, where conditions) take exact operands only: `floor(exp(x))` would
differ wherever exp's last ulp straddles an integer.

Tolerances follow the least precise inexact value: a float32 value with a rounding error
(`exp(x32)`, a float32 sum or product) keeps float32's relative error after promotion to float64,
so a program that returns or writes one (`exp(x32) + x64`) is compared with float32's rtol
(`Program.rtol`); other programs with the default of their output dtype.

Documented divergences from NumPy are avoided: integer ** negative integer (NumPy raises),
float -> int casts of NaN, inf or out-of-range values (undefined), integer reciprocal and
one-element slices of axes too short to have the element.
"""

from __future__ import annotations

import itertools
import linecache
import math
import random
import re
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DTYPES = ("bool", "int32", "int64", "float32", "float64")
_SUPPORTED = frozenset(np.dtype(d) for d in DTYPES)
MAX_ELEMENTS = 2048  # largest intermediate a program may build
FLOAT_SPECIALS = (math.nan, math.inf, -math.inf, -0.0, 0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 0.25)
_COUNTER = itertools.count()

# Unary functions by how they treat their operand's error (see the module docstring).
UNARY_EXACT = ("negative", "abs", "square")  # fine on inexact operands
UNARY_TRANSCENDENTAL = (
    "exp",
    "expm1",
    "log",
    "log1p",
    "log2",
    "log10",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
)
UNARY_DISCONTINUOUS = (
    "sqrt",
    "floor",
    "ceil",
    "sign",
    "isnan",
    "isinf",
    "isfinite",
    "logical_not",
    "reciprocal",
)
SMOOTH_BINARY = ("+", "-", "*", "np.maximum", "np.minimum")
EXACT_BINARY = (
    "/",
    "//",
    "%",
    "np.arctan2",
    "np.logical_and",
    "np.logical_or",
    "np.logical_xor",
    "<",
    "<=",
    ">",
    ">=",
    "==",
    "!=",
)
REDUCTIONS = ("sum", "mean", "prod", "max", "min", "any", "all", "var", "std", "argmax", "argmin")


@dataclass
class Program:
    """A generated function: `source` is a module defining `name`; `arg_recipes` are Python
    expressions (over `np`) that build its arguments; `magnitude` bounds the values it
    computes (errors of sums are relative to it); `features` names what it exercises."""

    name: str
    source: str
    arg_recipes: tuple[str, ...]
    magnitude: float = 0.0
    features: frozenset[str] = frozenset()
    rtol: float | None = None  # None: the output dtype's default (see the module docstring)
    # The arguments again with larger sizes (same dtypes, layouts and size-1 axes), for a second
    # call of the same compiled function; `resized_first`: that call comes first (and compiles).
    resized_recipes: tuple[str, ...] = ()
    resized_first: bool = False

    def make_args(self) -> list:
        """Fresh arguments (strided and reversed views included)."""
        return [eval(recipe, {"np": np}) for recipe in self.arg_recipes]  # noqa: S307

    def calls(self) -> list[list]:
        """Argument lists for the calls of one compiled function, in call order: the
        arguments, and the resized arguments before or after them (if any)."""
        calls = [self.make_args()]
        if self.resized_recipes:
            resized = [eval(recipe, {"np": np}) for recipe in self.resized_recipes]  # noqa: S307
            calls.insert(0 if self.resized_first else 1, resized)
        return calls

    def function(self) -> types.FunctionType:
        """The function, loaded so that `inspect.getsource` (and so `jg.jit`) can read it."""
        return load_function(self.source, self.name)

    def script(self, backend: str = "python") -> str:
        """A standalone reproduction: the source, the arguments and the harness call."""
        args = ",\n    ".join(self.arg_recipes)
        resized, first, also = "", "ARGS", ""
        if self.resized_recipes:
            resized = "RESIZED = [\n    " + ",\n    ".join(self.resized_recipes) + ",\n]\n"
            first, then = ("RESIZED", "[ARGS]") if self.resized_first else ("ARGS", "[RESIZED]")
            also = f", also={then}"
        return (
            f"{self.source}\n\nARGS = [\n    {args},\n]\n{resized}\n"
            "if __name__ == '__main__':\n"
            "    from jitgraph.testing import assert_matches_numpy\n"
            f"    assert_matches_numpy({self.name}, *{first}, backend={backend!r}, "
            f"scale={self.magnitude!r}{f', rtol={self.rtol!r}' if self.rtol else ''}{also})\n"
        )


def load_function(source: str, name: str) -> types.FunctionType:
    """Execute module `source` under a linecache file name and return its function `name`."""
    filename = f"<jitgraph-program:{name}:{next(_COUNTER)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": f"jitgraph_program_{name}"}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace[name]


@dataclass
class Expr:
    """A candidate expression: its text, NumPy's value for it, whether it is exact, and its
    taints, properties inherited from its operands:
    - "coarse": it depends on an inexact float32 value (its error is float32's);
    - "loose-zero": the sign of its zeros is unspecified (IEEE 754 leaves the sign of
      maximum(-0.0, 0.0) open; NumPy's SIMD loops and jitgraph may differ), so it must not
      reach an operation that turns a zero's sign into a value (1 / x, arctan2);
    - "0d-view": it may be a view of a 0-d array (`x[None]`), which jitgraph reads as a value,
      so it is neither written into nor read after a write (see _State.layout_dependent)."""

    text: str
    value: Any
    exact: bool
    taints: frozenset[str] = frozenset()

    @property
    def coarse(self) -> bool:
        return "coarse" in self.taints

    @property
    def loose_zero(self) -> bool:
        return "loose-zero" in self.taints


FLOAT32_RTOL = 1e-5  # compare.DEFAULT_RTOL for float32


def _taints(value: Any, exact: bool, inherited: frozenset[str] = frozenset()) -> frozenset[str]:
    """`inherited` taints that still apply to `value`, plus "coarse" for an inexact float32."""
    taints = set(inherited)
    if np.result_type(value).kind != "f":
        taints.discard("loose-zero")  # integers and bools have one zero
    if not exact and np.result_type(value) == np.float32:
        taints.add("coarse")
    return frozenset(taints)


# ---------------------------------------------------------------------------------------------
# Arguments


def _literal(value: Any) -> str:
    """Python source for one element (NaN and inf spelled through np)."""
    if isinstance(value, float):
        if math.isnan(value):
            return "np.nan"
        if math.isinf(value):
            return "np.inf" if value > 0 else "-np.inf"
    return repr(value)


def _elements(
    rng: random.Random, dtype: str, count: int, specials: bool, extremes: bool = True
) -> list:
    if dtype == "bool":
        return [rng.random() < 0.5 for _ in range(count)]
    if dtype.startswith("int"):
        info = np.iinfo(dtype)
        limits = (int(info.min), int(info.max))
        rate = 0.02 if extremes else 0.0
        return [rng.choice(limits) if rng.random() < rate else rng.randint(-9, 9)
                for _ in range(count)]
    pool = FLOAT_SPECIALS if specials else FLOAT_SPECIALS[3:]
    values = [
        rng.choice(pool) if rng.random() < 0.3 else round(rng.uniform(-10, 10), 2)
        for _ in range(count)
    ]
    # Resized arguments (extremes=False) were not seen by the generator, which keeps zeros of
    # unspecified sign away from divisions only for the values it saw: no -0.0 in them
    # ('0:5400': clip(-0.0, 0, 3) as a divisor).
    return values if extremes else [v + 0.0 for v in values]


def array_recipe(
    rng: random.Random,
    dtype: str,
    shape: tuple[int, ...],
    layout: str,
    specials: bool = True,
    extremes: bool = True,
) -> str:
    """Source building an array of `shape`: contiguous, 'strided' (every other element of a
    larger array), 'reversed' (a negative stride) or 'transposed' (Fortran order). `specials`:
    NaN and infinities among float values; `extremes`: integer limits among integers (and
    negative zeros among floats)."""
    base = list(shape)
    axis = rng.randrange(len(shape)) if shape else 0
    key = ""
    if layout == "strided" and shape:
        base[axis] = 2 * shape[axis]
        key = "[" + ":, " * axis + "::2]"
    elif layout == "reversed" and shape:
        key = "[" + ":, " * axis + "::-1]"
    elif layout == "transposed" and len(shape) >= 2:
        base = base[::-1]
        key = ".T"
    values = _elements(rng, dtype, math.prod(base), specials, extremes)
    data = "[" + ", ".join(_literal(v) for v in values) + "]"
    if not shape:
        return f"np.array({_literal(values[0])}, dtype=np.{dtype})"
    return f"np.array({data}, dtype=np.{dtype}).reshape{tuple(base)}{key}"


def _shapes(rng: random.Random, count: int) -> tuple[list[tuple[int, ...]], list[int]]:
    """`count` shapes that broadcast together: variants of one base shape (leading axes
    dropped, some axes set to 1), and the base shape."""
    rank = rng.choices((0, 1, 2, 3), weights=(1, 3, 4, 2))[0]
    base = [rng.choices((0, 1, 2, 3, 4, 5), weights=(1, 3, 4, 4, 3, 2))[0] for _ in range(rank)]
    shapes = []
    for _ in range(count):
        drop = rng.randint(0, rank) if rng.random() < 0.25 else 0
        shapes.append(tuple(1 if rng.random() < 0.15 else d for d in base[drop:]))
    return shapes, base


def _resized(shape: tuple[int, ...], base: list[int], new_base: list[int]) -> tuple[int, ...]:
    """`shape` (a variant of `base`, see `_shapes`) as the same variant of `new_base`: its axes
    of size 0 and 1 kept, so the specialization (which records size-1 axes) is the same."""
    offset = len(base) - len(shape)
    return tuple(d if d < 2 else new_base[offset + i] for i, d in enumerate(shape))


# ---------------------------------------------------------------------------------------------
# The generator


@dataclass
class _State:
    """The program being built and NumPy's values of its variables after the body so far."""

    params: list[str]
    recipes: list[str]
    lines: list[str] = field(default_factory=list)
    env: dict[str, Any] = field(default_factory=dict)
    exact: dict[str, bool] = field(default_factory=dict)
    taints: dict[str, frozenset[str]] = field(default_factory=dict)  # see Expr
    features: set[str] = field(default_factory=set)
    magnitude: float = 0.0
    temps: int = 0
    unwritable: set[str] = field(default_factory=set)
    # Values made by reshape / ravel (a view or a copy depending on layout, so jitgraph refuses
    # to read them after a write) and views of 0-d arrays (values in jitgraph): not read after
    # a write into anything (their origin is not tracked here).
    layout_dependent: set[str] = field(default_factory=set)
    resized: list[str] = field(default_factory=list)  # see Program.resized_recipes
    resized_first: bool = False


class Generator:
    """Builds one random program from `rng` (a random.Random, or hypothesis' `randoms()`)."""

    def __init__(self, rng: random.Random, name: str = "program", inplace: bool = True):
        self.rng = rng
        self.name = name
        self.inplace = inplace
        self.state = _State([], [])
        self.loop_var: str | None = None

    # -- whole program ---------------------------------------------------------------------

    def program(self) -> Program:
        self.arguments()
        for _ in range(self.rng.randint(1, 5)):
            self.statement()
        returned = self.ret()
        s = self.state
        body = "\n".join(s.lines)
        source = f"import numpy as np\n\n\ndef {self.name}({', '.join(s.params)}):\n{body}\n"
        # Returned values and arguments (written ones are compared) set the precision.
        coarse = any("coarse" in s.taints.get(name, ()) for name in [*returned, *s.params])
        return Program(self.name, source, tuple(s.recipes), s.magnitude, frozenset(s.features),
                       FLOAT32_RTOL if coarse else None, tuple(s.resized), s.resized_first)

    def arguments(self) -> None:
        """The parameters and their recipes, and the same arguments resized (see Program)."""
        rng, s = self.rng, self.state
        resize_rng = random.Random(rng.random())
        count = rng.choices((1, 2, 3), weights=(3, 4, 2))[0]
        specials = rng.random() < 0.5
        shapes, base = _shapes(rng, count)
        # Larger sizes only: indices and one-element slices chosen for the arguments stay valid.
        new_base = [d if d < 2 else d + resize_rng.randint(1, 2) for d in base]
        changed = False
        for i, shape in enumerate(shapes):
            dtype = rng.choices(DTYPES, weights=(1, 2, 1, 3, 3))[0]
            layout = rng.choices(
                ("contiguous", "strided", "reversed", "transposed"), weights=(6, 2, 2, 1)
            )[0]
            s.params.append(f"x{i}")
            s.recipes.append(array_recipe(rng, dtype, shape, layout, specials))
            # Without integer limits: exactness was judged for these values' magnitudes.
            resized = _resized(shape, base, new_base)
            changed = changed or resized != shape
            s.resized.append(
                array_recipe(resize_rng, dtype, resized, layout, specials, extremes=False)
            )
            s.features.add(f"{layout}-arg")
            s.features.add(f"{dtype}-arg")
            if 0 in shape:
                s.features.add("empty")
        if rng.random() < 0.15:
            s.params.append("s0")
            s.recipes.append(repr(rng.choice((0.5, -2.0, 3, -1, 2.25))))
            s.resized.append(s.recipes[-1])
            s.features.add("scalar-arg")
        if rng.random() < 0.25:
            # A loop count known at run time only: `for i in range(n0)` is a loop the kernel
            # runs (a LOOP node), not an unrolled one. At least one iteration: the body is
            # validated by running it, and jitgraph checks a body's sizes before the loop
            # (tests/test_loops.py covers loops that run zero times).
            s.params.append("n0")
            s.recipes.append(repr(rng.choice((1, 2, 3))))
            s.resized.append(s.recipes[-1])
            s.features.add("count-arg")
        if not changed:
            s.resized.clear()
        s.resized_first = resize_rng.random() < 0.5
        if not self.refresh(s.lines):
            raise AssertionError("generated arguments do not build")
        for p in s.params:
            s.exact[p] = True
            s.magnitude = max(s.magnitude, _magnitude(s.env[p]))

    def refresh(self, lines: list[str]) -> bool:
        """Run the body `lines` with NumPy on fresh arguments; keep the variables if it works."""
        s = self.state
        source = (
            f"def _probe({', '.join(s.params)}):\n"
            + "\n".join(lines + ["    pass"])
            + "\n    return locals()\n"
        )
        namespace: dict[str, Any] = {"np": np}
        try:
            exec(compile(source, "<probe>", "exec"), namespace)  # noqa: S102
            with _quiet():
                env = namespace["_probe"](*[eval(r, {"np": np}) for r in s.recipes])  # noqa: S307
        except Exception:  # noqa: BLE001 - NumPy rejected the candidate: draw another
            return False
        if not all(_acceptable(v) for k, v in env.items() if k != self.loop_var):
            return False
        s.env = env
        return True

    # -- statements ------------------------------------------------------------------------

    def statement(self, indent: str = "    ") -> None:
        kinds = ["assign", "assign", "assign", "loop"]
        if self.inplace:
            kinds += ["augassign", "setitem"]
        if self.loop_var:
            kinds = [k for k in kinds if k != "loop"]
        for _ in range(10):
            kind = self.rng.choice(kinds)
            lines, effects = getattr(self, f"stmt_{kind}")(indent)
            if lines and self.refresh(self.state.lines + lines):
                self.state.lines += lines
                effects()
                return

    def new_temp(self) -> str:
        self.state.temps += 1
        return f"t{self.state.temps}"

    def stmt_assign(self, indent: str) -> tuple[list[str], Callable[[], None]]:
        expr = self.expression(self.rng.randint(1, 3))
        name = self.new_temp()
        return [f"{indent}{name} = {expr.text}"], lambda: self._assigned(name, expr)

    def _assigned(self, name: str, expr: Expr) -> None:
        s = self.state
        s.exact[name] = expr.exact
        s.taints[name] = expr.taints
        # jitgraph refuses writes into reshape results (NumPy gives a view or a copy depending
        # on the layout) and treats 0-d results as scalars: never write into those.
        words = set(re.findall(r"[A-Za-z_]\w*", expr.text))
        if (
            "reshape" in words
            or "ravel" in words
            or words & s.unwritable
            or not np.ndim(expr.value)
        ):
            s.unwritable.add(name)
        if {"reshape", "ravel"} & words or words & s.layout_dependent or "0d-view" in expr.taints:
            s.layout_dependent.add(name)
        if "0d-view" in expr.taints:
            s.unwritable.add(name)
        self.state.magnitude = max(self.state.magnitude, _magnitude(expr.value))

    def _array_variable(self) -> str | None:
        names = [
            k
            for k, v in self.state.env.items()
            if isinstance(v, np.ndarray)
            and k in self.state.exact
            and k not in self.state.unwritable
        ]
        return self.rng.choice(names) if names else None

    def stmt_augassign(self, indent: str) -> tuple[list[str], Callable[[], None]]:
        target = self._array_variable()
        if target is None:
            return [], lambda: None
        op = self.rng.choice(("+=", "-=", "*=", "+=", "/="))
        expr = self.expression(self.rng.randint(0, 2))
        if op == "/=" and not expr.exact:
            return [], lambda: None
        # x[i] += v converts the result as a Python scalar: float -> int of inf or NaN raises in
        # NumPy and is undefined in jitgraph, so integer targets take integer results only.
        array = self.state.env[target]
        result = np.result_type(array, expr.value) if op != "/=" else np.float64
        if not np.can_cast(result, array.dtype, "same_kind"):
            return [], lambda: None
        key = self.key(self.state.env[target], allow_new=False) if self.rng.random() < 0.4 else ""
        line = f"{indent}{target}{key} {op} {expr.text}"
        return [line], lambda: self._written(target, expr, "augassign")

    def stmt_setitem(self, indent: str) -> tuple[list[str], Callable[[], None]]:
        target = self._array_variable()
        if target is None:
            return [], lambda: None
        array = self.state.env[target]
        key = self.key(array, allow_new=False) if array.ndim else "[...]"
        expr = self.expression(self.rng.randint(0, 2))
        # NumPy's setitem casts unsafely; float -> int of NaN is undefined, so stay same-kind.
        if not np.can_cast(np.result_type(expr.value), array.dtype, "same_kind"):
            return [], lambda: None
        # A view of the target as the value (`x[::2] = x[:-2]`): NumPy copies element by
        # element without a temporary, so its result depends on its copy order ('1:4906');
        # jitgraph reads the whole value first.
        if isinstance(expr.value, np.ndarray) and np.shares_memory(expr.value, array):
            return [], lambda: None
        line = f"{indent}{target}{key or '[...]'} = {expr.text}"
        return [line], lambda: self._written(target, expr, "setitem")

    def _written(self, target: str, expr: Expr, feature: str) -> None:
        """After a write: every variable sharing memory with `target` may have changed."""
        s = self.state
        s.features.add(feature)
        for name in s.layout_dependent:  # no longer readable (see _State.layout_dependent)
            s.exact.pop(name, None)
        written = s.env[target]
        for name, value in s.env.items():
            if (
                isinstance(value, np.ndarray)
                and name in s.exact
                and np.shares_memory(value, written)
            ):
                if value.ndim == 0 and name != target:
                    # A 0-d view (x[..., 0]) is a value in jitgraph: it does not see the write.
                    del s.exact[name]
                    continue
                s.exact[name] = s.exact[name] and expr.exact
                inherited = s.taints.get(name, frozenset()) | expr.taints
                s.taints[name] = _taints(value, s.exact[name], inherited)
                s.magnitude = max(s.magnitude, _magnitude(value))

    def stmt_loop(self, indent: str) -> tuple[list[str], Callable[[], None]]:
        """`for i in range(R):` over a body of one or two statements: unrolled by jitgraph for
        a literal R, a loop of the kernel for the count argument n0. Body statements are
        validated as they are added, by running the whole loop."""
        s = self.state
        saved_lines, saved_env, saved_exact = list(s.lines), dict(s.env), dict(s.exact)
        saved_taints = dict(s.taints)
        runtime = "n0" in s.params and self.rng.random() < 0.7
        count = "n0" if runtime else str(self.rng.randint(2, 3))
        s.lines.append(f"{indent}for i in range({count}):")
        s.env["i"] = 0
        self.loop_var = "i"
        for _ in range(self.rng.randint(1, 2)):
            self.statement(indent + "    ")
        self.loop_var = None
        lines, body_exact, body_taints = s.lines[len(saved_lines) :], dict(s.exact), s.taints
        s.lines, s.env, s.exact, s.taints = saved_lines, saved_env, saved_exact, saved_taints
        if len(lines) == 1:  # no body statement was accepted
            return [], lambda: None

        if runtime:
            # A name first assigned in the body is unbound after a loop that may not run
            # (jitgraph rejects reading it, as Python would fail for n0 = 0): not readable.
            body_exact = {k: v for k, v in body_exact.items() if k in saved_exact}

        def effects() -> None:
            s.exact.clear()  # the body's: assignments added, layout-dependent values removed
            s.exact.update(body_exact)
            s.taints.update(body_taints)
            s.features.add("runtime-loop" if runtime else "loop")

        return lines, effects

    def ret(self) -> list[str]:
        """Add the return statement; the names it returns."""
        s = self.state
        names = [k for k in s.env if k in s.exact and _acceptable(s.env[k])]
        temps = [k for k in names if k.startswith("t")] or names
        if "augassign" in s.features or "setitem" in s.features:
            if self.rng.random() < 0.15:
                return []  # no return statement: only the side effects count
        if len(temps) > 1 and self.rng.random() < 0.3:
            picked = self.rng.sample(temps, 2)
            s.lines.append(f"    return {picked[0]}, {picked[1]}")
            s.features.add("tuple-return")
            return picked
        name = temps[-1] if self.rng.random() < 0.7 else self.rng.choice(temps)
        s.lines.append(f"    return {name}")
        return [name]

    # -- expressions -----------------------------------------------------------------------

    def expression(self, depth: int, exact_only: bool = False) -> Expr:
        """A random expression over the variables, `depth` operations deep at most."""
        if depth <= 0 or self.rng.random() < 0.15:
            return self.leaf(exact_only)
        builders = (
            [self.unary] * 3
            + [self.binary] * 5
            + [self.reduction] * 2
            + [self.getitem] * 2
            + [
                self.where,
                self.clip,
                self.transpose,
                self.matmul,
                self.astype,
                self.structure,
                self.power,
                self.creation,
            ]
        )
        for _ in range(6):
            expr = self.rng.choice(builders)(depth - 1)
            if expr is not None and (expr.exact or not exact_only):
                return expr
        return self.leaf(exact_only)

    def readable(self, name: str) -> bool:
        """Whether a variable may be read here. In a loop body, values jitgraph cannot follow
        through a write (see _State.layout_dependent) are not: the next iteration would read
        them after the body's writes ('0:9444', a 0-d view read by `x += t` twice)."""
        s = self.state
        return name in s.exact and not (self.loop_var and name in s.layout_dependent)

    def leaf(self, exact_only: bool = False) -> Expr:
        s = self.state
        names = [
            k for k in s.exact if k in s.env and (s.exact[k] or not exact_only) and self.readable(k)
        ]
        if self.loop_var:
            names.append(self.loop_var)
        if not names or self.rng.random() < 0.05:
            return self.literal()
        return self.leaf_named(self.rng.choice(names))

    def leaf_named(self, name: str) -> Expr:
        s = self.state
        if name == self.loop_var:
            return Expr(name, s.env[name], True)
        return Expr(name, s.env[name], s.exact[name], s.taints.get(name, frozenset()))

    def literal(self) -> Expr:
        text = self.rng.choice(("2", "0.5", "-1.5", "3", "1", "-2", "2.5", "True"))
        return Expr(text, eval(text), True)  # noqa: S307

    def operand(self, depth: int, exact_only: bool = False) -> Expr:
        """An expression, or (a quarter of the time) a Python scalar: a weak NEP 50 operand."""
        return self.literal() if self.rng.random() < 0.25 else self.expression(depth, exact_only)

    def evaluate(self, text: str, exact: bool, feature: str, *parts: Expr) -> Expr | None:
        """NumPy's value of `text` over the current variables, or None if NumPy rejects it."""
        try:
            with _quiet():
                value = eval(text, {"np": np}, dict(self.state.env))  # noqa: S307
        except Exception:  # noqa: BLE001
            return None
        if not isinstance(value, (np.ndarray, np.generic)) or not _acceptable(value):
            return None
        self.state.features.add(feature)
        if len({np.shape(p.value) for p in parts}) > 1:
            self.state.features.add("broadcast")
        inherited = frozenset().union(*(p.taints for p in parts))
        return Expr(text, value, exact, _taints(value, exact, inherited))

    def unary(self, depth: int) -> Expr | None:
        group = self.rng.choice(("exact", "transcendental", "discontinuous"))
        if group == "exact":
            a = self.expression(depth)
            fn = self.rng.choice(UNARY_EXACT)
            text = self.rng.choice(
                {
                    "negative": (f"-{_p(a)}", f"np.negative({a.text})"),
                    "abs": (f"abs({a.text})", f"np.abs({a.text})"),
                    "square": (f"np.square({a.text})",),
                }[fn]
            )
            return self.evaluate(text, a.exact, "unary", a)
        a = self.expression(depth, exact_only=True)
        if group == "transcendental":
            fn = self.rng.choice(UNARY_TRANSCENDENTAL)
            return self.evaluate(f"np.{fn}({a.text})", False, "transcendental", a)
        fn = self.rng.choice(UNARY_DISCONTINUOUS)
        if fn == "reciprocal" and (np.result_type(a.value).kind != "f" or a.loose_zero):
            return None  # integer reciprocal of 0 is undefined; 1 / +-0 see Expr
        return self.evaluate(f"np.{fn}({a.text})", True, "unary", a)

    def binary(self, depth: int) -> Expr | None:
        op = self.rng.choice(SMOOTH_BINARY * 2 + EXACT_BINARY)
        if op in SMOOTH_BINARY:
            a, b = self.expression(depth), self.operand(depth)
        elif op == "/":
            a, b = self.expression(depth), self.operand(depth, exact_only=True)
        else:
            a, b = self.expression(depth, True), self.operand(depth, True)
        if op != "/" and self.rng.random() < 0.5:
            a, b = b, a
        # A zero of unspecified sign makes x / 0 +-inf and arctan2 +-pi (see Expr).
        if (op in ("/", "//", "%") and b.loose_zero) or (
            op == "np.arctan2" and (a.loose_zero or b.loose_zero)
        ):
            return None
        if op.startswith("np."):
            text = f"{op}({a.text}, {b.text})"
        else:
            text = f"{_p(a)} {op} {_p(b)}"
        exact = a.exact and b.exact and op != "np.arctan2"
        expr = self.evaluate(
            text, exact, "comparison" if "=" in op or op in "<>" else "binary", a, b
        )
        return _loose_zero(expr) if op in ("np.maximum", "np.minimum") else expr

    def power(self, depth: int) -> Expr | None:
        a = self.expression(depth)
        if np.result_type(a.value).kind == "f":
            exponent = self.rng.choice(("2", "3", "0.5", "array"))
            if exponent == "array":
                b = self.expression(depth, exact_only=True)
                if not a.exact or a.loose_zero or np.result_type(b.value).kind != "f":
                    return None
                return self.evaluate(f"{_p(a)} ** {_p(b)}", False, "power", a, b)
            if exponent == "0.5" and not a.exact:
                return None
            return self.evaluate(
                f"{_p(a)} ** {exponent}", a.exact and exponent == "2", "power", a
            )
        # Integer exponents are literal and non-negative: int ** negative int raises in NumPy.
        exponent = self.rng.choice(("0", "1", "2", "3"))
        return self.evaluate(f"{_p(a)} ** {exponent}", a.exact, "power", a)

    def condition(self, depth: int) -> Expr | None:
        """An exact boolean expression."""
        for _ in range(4):
            a = self.expression(depth, exact_only=True)
            if np.result_type(a.value) == np.bool_:
                return a
            b = self.operand(depth, exact_only=True)
            op = self.rng.choice(("<", "<=", ">", ">=", "==", "!="))
            expr = self.evaluate(f"{_p(a)} {op} {_p(b)}", True, "comparison", a, b)
            if expr is not None:
                return expr
        return None

    def where(self, depth: int) -> Expr | None:
        c = self.condition(depth)
        if c is None:
            return None
        a, b = self.operand(depth), self.operand(depth)
        return self.evaluate(
            f"np.where({c.text}, {a.text}, {b.text})", a.exact and b.exact, "where", c, a, b
        )

    def clip(self, depth: int) -> Expr | None:
        a = self.expression(depth)
        lo, hi = sorted(self.rng.sample((-2, -1, 0, 0.5, 1, 3, 2.5), 2))
        text = self.rng.choice(
            (
                f"np.clip({a.text}, {lo}, {hi})",
                f"{_p(a)}.clip({lo}, {hi})",
                f"np.clip({a.text}, {lo}, None)",
            )
        )
        return _loose_zero(self.evaluate(text, a.exact, "clip", a))

    def reduction(self, depth: int) -> Expr | None:
        op = self.rng.choice(REDUCTIONS)
        a = self.expression(depth, exact_only=op in ("argmax", "argmin", "any", "all"))
        ndim = np.ndim(a.value)
        axis = self._axis(ndim, allow_tuple=not op.startswith("arg"))
        options = [] if axis == "None" and self.rng.random() < 0.5 else [f"axis={axis}"]
        if self.rng.random() < 0.4:
            options.append("keepdims=True")
            self.state.features.add("keepdims")
        if op in ("var", "std") and self.rng.random() < 0.3:
            options.append("ddof=1")
        args = ", ".join(options)
        if self.rng.random() < 0.5:
            text = f"{_p(a)}.{op}({args})"
        else:
            text = f"np.{op}({a.text}{', ' if args else ''}{args})"
        expr = self.evaluate(text, self._reduction_exact(op, a), "reduction", a)
        if op in ("max", "min"):
            expr = _loose_zero(expr)
        if expr is not None:
            count = max(np.size(a.value), 1)
            scale = _magnitude(a.value)
            bound = count * scale * (scale if op in ("var", "std") else 1.0)
            if math.isfinite(bound):
                self.state.magnitude = max(self.state.magnitude, bound)
        return expr

    def _axis(self, ndim: int, allow_tuple: bool) -> str:
        if ndim == 0 or self.rng.random() < 0.3:
            return "None"
        if allow_tuple and ndim >= 2 and self.rng.random() < 0.3:
            axes = self.rng.sample(range(ndim), self.rng.randint(2, ndim))
            return str(tuple(a - ndim if self.rng.random() < 0.3 else a for a in axes))
        return str(self.rng.randint(-ndim, ndim - 1))

    @staticmethod
    def _reduction_exact(op: str, a: Expr) -> bool:
        """Float sums are reassociated (inexact); integer sums wrap identically (exact)."""
        kind = np.result_type(a.value).kind
        if op in ("max", "min", "any", "all", "argmax", "argmin"):
            return a.exact
        if op in ("sum", "prod"):
            return a.exact and kind in "biu"
        if op == "mean":  # a float64 sum of integers is exact while it stays below 2**53
            return a.exact and kind in "biu" and _magnitude(a.value) * np.size(a.value) < 2**50
        return False

    def key(self, value: Any, allow_new: bool = True) -> str:
        """A random basic index for `value`: ints, slices (negative steps too), None, ...;
        starts and int indices stay in range (see the module docstring)."""
        shape = np.shape(value)
        count = self.rng.randint(1, len(shape)) if shape else 0
        items = [self._key_item(n) for n in shape[:count]]
        if allow_new and self.rng.random() < 0.15:
            items.insert(self.rng.randint(0, len(items)), "None")
        if shape and self.rng.random() < 0.1:
            items = ["...", self._key_item(shape[-1])]
        if not items:
            return "[...]" if not allow_new or self.rng.random() < 0.5 else "[None]"
        return "[" + ", ".join(items) + "]"

    def _key_item(self, n: int) -> str:
        rng = self.rng
        if n > 0 and rng.random() < 0.25:
            return str(rng.randint(-n, n - 1))
        step = rng.choice((None, None, 1, 2, -1, -2, 3))
        start = str(rng.randint(-n, n - 1)) if n > 0 and rng.random() < 0.5 else ""
        stop = str(rng.randint(-n, n)) if n > 0 and rng.random() < 0.4 else ""
        if step is not None and step < 0:
            self.state.features.add("negative-step")
        return f"{start}:{stop}" + (f":{step}" if step is not None else "")

    def getitem(self, depth: int) -> Expr | None:
        a = self.expression(depth)
        expr = self.evaluate(f"{_p(a)}{self.key(a.value)}", a.exact, "slice", a)
        if expr is not None and np.ndim(a.value) == 0:
            # NumPy's x[...] / x[None] of a 0-d x is a view; jitgraph's 0-d x is a value.
            expr.taints = expr.taints | {"0d-view"}
        return expr

    def transpose(self, depth: int) -> Expr | None:
        a = self.expression(depth)
        ndim = np.ndim(a.value)
        perm = list(range(ndim))
        self.rng.shuffle(perm)
        perm_text = str(tuple(perm)) if ndim != 1 else "(0,)"
        text = self.rng.choice(
            (f"{_p(a)}.T", f"np.transpose({a.text})", f"np.transpose({a.text}, {perm_text})")
        )
        return self.evaluate(text, a.exact, "transpose", a)

    def matmul(self, depth: int) -> Expr | None:
        a = self.expression(depth)
        ndim = np.ndim(a.value)
        forms = {
            1: (f"{_p(a)} @ {_p(a)}", f"np.dot({a.text}, {a.text})"),
            2: (f"{_p(a)} @ {_p(a)}.T", f"{_p(a)}.T @ {_p(a)}", f"np.dot({a.text}, {_p(a)}.T)"),
            3: (f"{_p(a)} @ np.transpose({a.text}, (0, 2, 1))",),
        }.get(ndim)
        others = [
            k
            for k, v in self.state.env.items()
            if self.readable(k)
            and np.ndim(v) >= 1
            and ndim >= 1
            and np.shape(v)[max(np.ndim(v) - 2, 0)] == np.shape(a.value)[-1]
        ]
        if others and (forms is None or self.rng.random() < 0.5):
            b = self.rng.choice(others)
            forms = (f"{_p(a)} @ {b}",)
            other = self.leaf_named(b)
        elif forms is None:
            return None
        else:
            other = a
        # Integer products are exact; float ones are sums in some order (the result's kind).
        kind = np.result_type(a.value, other.value).kind
        expr = self.evaluate(
            self.rng.choice(forms), a.exact and other.exact and kind in "biu", "matmul", a
        )
        if expr is not None:
            expr.taints = _taints(expr.value, expr.exact, expr.taints | other.taints)
        if expr is not None and ndim:
            scale = _magnitude(a.value)  # scale * scale: inf, not OverflowError, when huge
            bound = np.shape(a.value)[-1] * scale * scale + _magnitude(expr.value)
            if math.isfinite(bound):
                self.state.magnitude = max(self.state.magnitude, bound)
        return expr

    def astype(self, depth: int) -> Expr | None:
        a = self.expression(depth)
        target = self.rng.choice(DTYPES)
        source = np.result_type(a.value).kind
        if source == "f" and target != "bool" and not target.startswith("float"):
            if not a.exact:
                return None
            # NaN, inf and out-of-range floats have no defined integer value: clamp them first.
            text = (
                f"np.clip(np.where(np.isfinite({a.text}), {a.text}, 0), -1000, 1000)"
                f".astype(np.{target})"
            )
            return self.evaluate(text, True, "astype", a)
        if target == "bool" and not a.exact:
            return None
        return self.evaluate(f"{_p(a)}.astype(np.{target})", a.exact, "astype", a)

    def structure(self, depth: int) -> Expr | None:
        a = self.expression(depth)
        shape, ndim = np.shape(a.value), np.ndim(a.value)
        axis = self.rng.randint(-ndim, ndim - 1) if ndim else 0
        forms = [
            f"{_p(a)}.reshape(-1)",
            f"{_p(a)}[None]",
            f"{_p(a)}.copy()",
            f"np.broadcast_to({a.text}, {(2,) + tuple(shape)})",
        ]
        if not self.inplace:  # known issue 'view-functions': they copy where NumPy gives views
            forms.append(f"np.expand_dims({a.text}, 0)")
        if ndim:
            forms += [
                f"np.concatenate([{a.text}, {_p(a)}[::-1]], axis={axis})",
                f"np.stack([{a.text}, {_p(a)}[::-1]], axis={axis})",
                f"{_p(a)}[:, None]",
                f"{_p(a)}.reshape({tuple(reversed(shape))})",
            ]
        if 1 in shape and not self.inplace:
            forms.append(f"np.squeeze({a.text}, axis={shape.index(1)})")
        return self.evaluate(self.rng.choice(forms), a.exact, "structure", a)

    def creation(self, depth: int) -> Expr | None:
        a = self.leaf()
        n = np.shape(a.value)[0] if np.ndim(a.value) else 3
        dtype = self.rng.choice(DTYPES)
        forms = [
            f"np.zeros_like({a.text})",
            f"np.ones_like({a.text}, dtype=np.{dtype})",
            f"np.full_like({a.text}, 2)",
            f"np.zeros(({n}, 2), dtype=np.{dtype})",
            f"np.ones({n})",
            f"np.full(({n},), 2.5)",
            f"np.arange({n})",
            f"np.eye({n}, dtype=np.{dtype})",
        ]
        return self.evaluate(self.rng.choice(forms), True, "creation")


# ---------------------------------------------------------------------------------------------
# Helpers


def _loose_zero(expr: Expr | None) -> Expr | None:
    """`expr` (a maximum or minimum) with its zeros' sign unspecified (see Expr)."""
    if expr is not None:
        expr.taints = _taints(expr.value, expr.exact, expr.taints | {"loose-zero"})
    return expr


def _p(expr: Expr) -> str:
    """`expr`'s text, parenthesized unless it is a name, a call or a subscript."""
    text = expr.text
    simple = text.replace(".", "").replace("_", "").isalnum()
    return text if simple else f"({text})"


def _magnitude(value: Any) -> float:
    try:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf" or array.size == 0:
            return 0.0
        finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
        result = float(np.max(np.abs(finite.astype(np.float64)))) if finite.size else 0.0
        return result if math.isfinite(result) else 0.0
    except (TypeError, ValueError):
        return 0.0


def _acceptable(value: Any) -> bool:
    """A value a program may hold: a Python number, or an array of a supported dtype that is
    not too large."""
    if isinstance(value, (bool, int, float)):
        return True
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype in _SUPPORTED and np.size(value) <= MAX_ELEMENTS and np.ndim(value) <= 4
    return False


class _quiet:
    """NumPy's warnings for x / 0, log(-1), int overflow ... are expected while generating."""

    def __enter__(self) -> None:
        self._errstate = np.errstate(all="ignore")
        self._errstate.__enter__()
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc: Any) -> None:
        self._warnings.__exit__(*exc)
        self._errstate.__exit__(*exc)


def generate_program(
    seed: int | str | random.Random, name: str | None = None, inplace: bool = True
) -> Program:
    """A random program. `seed` (an int or str) makes it reproducible; a random.Random (or
    hypothesis' `randoms()`) is drawn from directly. `inplace=False` leaves out writes into
    arrays (`x[...] = ...`, `x += ...`)."""
    rng = seed if isinstance(seed, random.Random) else random.Random(str(seed))
    if name is None:
        tag = "".join(c if c.isalnum() else "_" for c in str(seed))[:40]
        name = f"fuzz_{tag}" if not isinstance(seed, random.Random) else "fuzz_program"
    return Generator(rng, name, inplace).program()
