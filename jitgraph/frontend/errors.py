"""Frontend problems and how they are shown: `file:line:col`, the source line, a caret under the
construct, what is wrong and what to write instead.

Problems are collected while a function is checked and translated, so one compile reports every
problem at once. Raised errors carry only the user's file: no jitgraph frames, no jitgraph paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NoReturn

from ..errors import ArgumentError, ArgumentShapeError, FrontendError

# 'unsupported': jitgraph cannot translate it (FrontendError); 'shape' / 'type': NumPy would
# reject it too for these arguments (ArgumentShapeError / ArgumentError).
ProblemKind = Literal["unsupported", "shape", "type"]


class SourceUnavailable(FrontendError):
    """The function's source cannot be read or is not a plain `def`."""


@dataclass(frozen=True)
class Location:
    """A span on one line of the user's file; line and columns are 1-based, end exclusive."""

    filename: str
    line: int
    col: int
    end_col: int
    text: str

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    location: Location
    message: str
    hint: str = ""
    kind: ProblemKind = "unsupported"

    def format(self) -> str:
        """`file:line:col: message`, the line, a caret under the construct and the hint."""
        loc = self.location
        caret = " " * (loc.col - 1) + "^" * max(loc.end_col - loc.col, 1)
        lines = [f"{loc}: {self.message}", "    " + loc.text, "    " + caret]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class Problems(list):
    """The problems found so far in one compile."""

    def add(self, problem: Problem) -> None:
        if problem not in self:
            self.append(problem)


def raise_problems(function: str, problems: list[Problem], arguments: str) -> NoReturn:
    """Raise the error for `problems`: a FrontendError listing every unsupported construct, or,
    when everything is supported but NumPy would reject these arguments, the argument error."""
    unsupported = [p for p in problems if p.kind == "unsupported"]
    if unsupported:
        count = f"{len(unsupported)} problem{'s' if len(unsupported) > 1 else ''}"
        body = "\n\n".join(p.format() for p in unsupported)
        error: Exception = FrontendError(f"cannot compile {function!r} ({count}):\n\n{body}")
    else:
        first = problems[0]
        cls = ArgumentShapeError if first.kind == "shape" else ArgumentError
        error = cls(f"{function!r} called with {arguments}:\n{first.format()}")
    error.problems = list(problems)  # type: ignore[attr-defined]
    raise error
