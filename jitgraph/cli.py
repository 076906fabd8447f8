"""The `jitgraph` command line.

    jitgraph show GRAPH.json A=f32[1000,1000] B=f32[1000,1000] [--stage graph|source|all] [--run]

Errors (no such file, bad argument spec, a graph that does not type-check) print one message and
exit with status 2; there is never a traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass

import numpy as np

from . import __version__
from .errors import JitGraphError
from .ir import dtypes

_SPEC = re.compile(r"^(?:(?P<name>[^=]+)=)?(?P<dtype>[a-z0-9_]+)\[(?P<dims>[^\]]*)\]$")
SYMBOLIC_SIZE = 16  # the size a named dimension (`n`) gets when the CLI makes sample arrays


class UsageError(Exception):
    """A command-line mistake: printed as one line, exit status 2."""


@dataclass
class ArgSpec:
    """`name=f32[1000,n]`: a dtype and a shape whose named dims are symbolic."""

    name: str | None
    dtype: np.dtype | None
    shape: tuple[int | str, ...] | None
    value: float | int | None = None

    def sample(self, rng: np.random.Generator) -> np.ndarray | float | int:
        """An array of this spec with random values (a Python number for a scalar spec)."""
        if self.dtype is None:
            return self.value  # type: ignore[return-value]
        shape = tuple(SYMBOLIC_SIZE if isinstance(d, str) else d for d in self.shape or ())
        if self.dtype.kind == "b":
            return rng.random(shape) < 0.5
        if self.dtype.kind in "iu":
            return rng.integers(-50 if self.dtype.kind == "i" else 0, 50, shape).astype(self.dtype)
        return rng.standard_normal(shape).astype(self.dtype)


def parse_argspec(text: str) -> ArgSpec:
    """Parse `f32[3,4]`, `i64[n]`, `f64[]`, `bool[2]`, `x=f32[n]`, `3`, `0.5`, `k=3`."""
    match = _SPEC.match(text)
    if match:
        name = match.group("name") or ""
        try:
            dtype = dtypes.from_name(match.group("dtype"))
        except JitGraphError as exc:
            raise UsageError(f"argument spec {text!r}: {exc}") from None
        dims_text = match.group("dims").strip()
        shape: list[int | str] = []
        for part in filter(None, (p.strip() for p in dims_text.split(","))):
            if part.isdigit():
                shape.append(int(part))
            elif part.isidentifier():
                shape.append(part)
            else:
                raise UsageError(f"argument spec {text!r}: dimension {part!r} is neither a size "
                                 "nor a name")
        return ArgSpec(name or None, dtype, tuple(shape))
    name, _, rest = text.partition("=") if "=" in text else ("", "", text)
    try:
        value: float | int = int(rest) if re.fullmatch(r"[+-]?\d+", rest) else float(rest)
    except ValueError:
        raise UsageError(f"argument spec {text!r}: expected DTYPE[DIMS] such as f32[100,100] or "
                         "a number") from None
    return ArgSpec(name or None, None, None, value)


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
        values[name] = spec.sample(rng)
    missing = [n for n in names if n not in values]
    if missing:
        raise UsageError(f"no spec for argument{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jitgraph", description="Compile and inspect jitgraph graphs.")
    parser.add_argument("--version", action="version", version=f"jitgraph {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("show", help="print the typed graph and generated code of a saved symbol")
    show.add_argument("graph", help="a file written by Symbol.save()")
    show.add_argument("specs", nargs="*", help="argument specs such as A=f32[1000,1000]")
    show.add_argument("--stage", choices=("graph", "source", "all"), default="all")
    show.add_argument("--run", action="store_true", help="compile with Numba and run on random inputs")
    show.set_defaults(handler=_cmd_show)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (UsageError, JitGraphError) as exc:
        print(f"jitgraph: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
