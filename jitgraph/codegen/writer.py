"""A tiny code writer: lines plus an indentation context manager."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class CodeWriter:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def line(self, text: str = "") -> None:
        self.lines.append("    " * self.depth + text if text else "")

    def comment(self, text: str) -> None:
        # Comments may quote user names: keep them on one line whatever they contain.
        for part in text.splitlines() or [""]:
            self.line("# " + part.encode("unicode_escape").decode("ascii"))

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        self.line(header)
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def extend(self, lines: list[str]) -> None:
        for text in lines:
            self.line(text)

    def source(self) -> str:
        return "\n".join(self.lines) + "\n"
