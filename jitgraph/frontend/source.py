"""Reading a function's source: `inspect` + `ast`, dedented, decorators stripped, and the map
from ast positions back to the user's file (line, column, the text of the line).

Nothing here executes user code: the source is read from the file and parsed, never run.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from dataclasses import dataclass
from typing import Any

from .errors import Location, Problem, ProblemKind, SourceUnavailable


@dataclass
class FunctionSource:
    """A parsed Python function: its `def` node and the context its names are resolved in."""

    name: str
    filename: str
    tree: ast.FunctionDef
    raw_lines: list[str]        # the lines as they are in the file (not dedented)
    first_line: int             # file line of raw_lines[0]
    indent: int                 # columns removed by dedenting
    globals: dict[str, Any]
    closure: dict[str, Any]     # free variables with their current cell contents
    defaults: dict[str, Any]    # parameter name -> default value

    def location(self, node: ast.AST) -> Location:
        """Where `node` is in the user's file (1-based line and column)."""
        line = getattr(node, "lineno", 1)
        end_line = getattr(node, "end_lineno", line) or line
        raw = self.raw_lines[line - 1] if line - 1 < len(self.raw_lines) else ""
        col = _char_column(raw, self.indent, getattr(node, "col_offset", 0))
        if end_line == line:
            end_col = _char_column(raw, self.indent, getattr(node, "end_col_offset", None) or 0)
        else:  # a multi-line construct: underline the rest of its first line
            end_col = len(raw.rstrip())
        return Location(self.filename, self.first_line + line - 1, col + 1,
                        max(end_col, col + 1) + 1, raw.rstrip("\n"))


def _char_column(raw: str, indent: int, byte_offset: int) -> int:
    """ast columns are UTF-8 byte offsets into the dedented line: convert to characters."""
    dedented = raw[indent:].encode("utf-8")
    return indent + len(dedented[:byte_offset].decode("utf-8", errors="ignore"))


_CACHE: dict[types.CodeType, FunctionSource] = {}


def function_source(fn: types.FunctionType) -> FunctionSource:
    """The parsed source of `fn` (cached per code object; closures are re-read every time)."""
    cached = _CACHE.get(fn.__code__)
    if cached is None:
        cached = _parse(fn)
        _CACHE[fn.__code__] = cached
    return FunctionSource(cached.name, cached.filename, cached.tree, cached.raw_lines,
                          cached.first_line, cached.indent, fn.__globals__, _closure(fn),
                          _defaults(fn))


def _parse(fn: types.FunctionType) -> FunctionSource:
    name = fn.__qualname__
    try:
        raw_lines, first_line = inspect.getsourcelines(fn)
        filename = inspect.getsourcefile(fn) or fn.__code__.co_filename
    except (OSError, TypeError):
        raise SourceUnavailable(
            f"cannot read the source of {name!r}: jitgraph compiles functions from their source "
            "file; define it in a .py file (not in exec() or an interactive prompt)") from None
    text = "".join(raw_lines)
    dedented = textwrap.dedent(text)
    indent = len(raw_lines[0]) - len(raw_lines[0].lstrip()) if dedented != text else 0
    tree = ast.parse(dedented).body[0]
    if not isinstance(tree, ast.FunctionDef):
        raise SourceUnavailable(f"{name!r} is not defined with 'def' (lambdas and async "
                                "functions cannot be compiled): define it with def")
    tree.decorator_list = []
    return FunctionSource(name, filename, tree, raw_lines, first_line, indent, {}, {}, {})


def _closure(fn: types.FunctionType) -> dict[str, Any]:
    result = {}
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        try:
            result[name] = cell.cell_contents
        except ValueError:  # a cell not yet assigned (a name defined later in the outer function)
            continue
    return result


def _defaults(fn: types.FunctionType) -> dict[str, Any]:
    code = fn.__code__
    positional = code.co_varnames[:code.co_argcount]
    defaults = dict(zip(positional[len(positional) - len(fn.__defaults__ or ()):],
                        fn.__defaults__ or ()))
    defaults.update(fn.__kwdefaults__ or {})
    return defaults


def problem_at(source: FunctionSource, node: ast.AST, message: str, hint: str = "",
               kind: ProblemKind = "unsupported") -> Problem:
    """A problem located at `node` of `source`."""
    return Problem(source.location(node), message, hint, kind)
