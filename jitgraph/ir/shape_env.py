"""Sizes known equal: the equalities a graph's checks guarantee, as a union-find.

Broadcasting `A * B` records the check `B.0 == A.0`; every later computation may treat the two
as one size. Fusion compares iteration spaces and codegen names loop bounds through this
environment, so `a*b + c*d` is one loop nest over one pair of bounds.

A size that may be 1 at run time only (`x[1:]` against `y`) broadcasts: its check is
`bcast(d, e) == e` (d is e or 1), which is recorded as that equality, never as `d == e`. Such a
`d` is *stretched* to `e`: see `stretched`.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import dims as D
from .dims import Dim
from .node import Check


class ShapeEnv:
    def __init__(self, checks: Iterable[Check] = ()):
        self._parent: dict[Dim, Dim] = {}
        self._stretch: dict[Dim, Dim] = {}
        pairs: set[tuple[Dim, Dim]] = set()
        for check in checks:
            if check.kind == "eq":
                self.union(check.a, check.b)
                a = check.a
                if isinstance(a, D.DimExpr) and a.op == "bcast" and a.args[1] == check.b:
                    self._stretch.setdefault(a.args[0], check.b)
                    pairs.add((a.args[0], check.b))
        # d broadcasts to e and e to d (d == e or d == 1, and e == d or e == 1): then d == e.
        # A stencil's two half-steps (B[1:-1] from A[:-2], A[1:-1] from B[:-2]) check both
        # ways, and their sizes are one size: no clamped reads, one loop nest per half-step.
        for d, e in pairs:
            if (e, d) in pairs:
                self.union(d, e)

    def _find(self, d: Dim) -> Dim:
        root = d
        while root in self._parent:
            root = self._parent[root]
        while d in self._parent and self._parent[d] != root:  # path compression
            self._parent[d], d = root, self._parent[d]
        return root

    def union(self, a: Dim, b: Dim) -> None:
        ra, rb = self._find(self.canon(a)), self._find(self.canon(b))
        if ra == rb:
            return
        # Prefer a known integer, then the simpler expression, as the representative.
        if isinstance(ra, int) or (not isinstance(rb, int) and _weight(ra) <= _weight(rb)):
            self._parent[rb] = ra
        else:
            self._parent[ra] = rb

    def canon(self, d: Dim) -> Dim:
        """The representative of `d`, with sub-expressions canonicalized too."""
        if isinstance(d, int) or d is None:
            return d
        if d.op != "arg":
            args = tuple(self.canon(a) if isinstance(a, D.DimExpr) else a for a in d.args)
            d = D._make(d.op, *args)
            if isinstance(d, int):
                return d
        return self._find(d)

    def same(self, a: Dim, b: Dim) -> bool:
        return self.canon(a) == self.canon(b)

    def shape(self, shape: tuple[Dim, ...]) -> tuple[Dim, ...]:
        return tuple(self.canon(d) for d in shape)

    def stretched(self, d: Dim) -> Dim:
        """The size `d` broadcasts to where it is checked to be that size or 1 (else `d`).

        Not an equality: for costs only. A value of size d read through such a broadcast
        (clamped reads, kernel.py `stretch_index`) is evaluated once per element of the
        broadcast when d is the larger size, and the same element repeatedly when d is 1, which
        costs no more than the larger size would."""
        return self.canon(self._stretch.get(d, self._stretch.get(self.canon(d), d)))


def _weight(d: Dim) -> tuple:
    """Order for choosing representatives: fewer leaves first, then the earliest argument."""
    leaves = D.leaves(d)
    return (len(leaves), [leaf.args[:2] for leaf in leaves])
