"""Column fusion: reductions over the leading axis of arrays of one shape become one pass.

A reduction over the leading axis (`X.sum(axis=0)`, a column mean) runs as chunks of rows in
parallel, each folding its rows into a row of partial results (kernel.emit_columns). Several
such reductions over arrays of the same shape (the mean, and the two sums of a float32
variance, build._variance) can share that loop nest: each element is read once and folded into
one partial row per reduction. Memory traffic, not arithmetic, bounds these loops, so a column
standardization reads X twice (moments, then the output) instead of three times.

Reductions merge when they are column reductions over the same shape (equal up to known
equalities) and neither depends on the other, directly or through other loop nests (merging
them would make a cycle). An elementwise value that only such merged reductions read (the
deviations `d` both sums of a variance fold) is then computed inside the merged nest, once per
element, and never stored. Merging can move a reduction earlier in execution order: groups are
re-sorted topologically, keeping the original order where dependencies allow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir.node import Node
from ..ir.ops import Kind, Op, kind
from ..ir.shape_env import ShapeEnv
from .partition import Group, Plan, Stages
from .rows import produced_reads


@dataclass
class ColumnGroup(Stages):
    """Column reductions (`parts`) over one iteration space, run as one loop nest; `shared`
    are elementwise members computed once per element for several parts."""

    parts: list[Group]
    shared: list[Node] = field(default_factory=list)

    kind = "columns"

    @property
    def members(self) -> list[Node]:
        return [*self.shared, *super().members]

    @property
    def space(self) -> tuple:
        return self.parts[0].root.inputs[0].shape


def is_column_reduction(group) -> bool:
    """A reduction kernel.emit_columns runs: over axis 0 only, with axes kept, not arg-."""
    if not isinstance(group, Group) or group.kind is not Kind.REDUCE:
        return False
    root = group.root
    return (
        tuple(root.attr("axes")) == (0,)
        and root.inputs[0].ndim >= 2
        and root.op not in (Op.ARGMAX, Op.ARGMIN)
    )


def _producers(groups: list) -> dict[Node, int]:
    return {root: i for i, g in enumerate(groups) for root in _roots(g)}


def _roots(group) -> list[Node]:
    return group.roots if isinstance(group, Stages) else [group.root]


def _reads(group, producer: dict[Node, int]) -> dict[Node, bool]:
    """Values produced by other groups that `group` reads, each mapped to whether every read
    is direct (no view in between, and not by a member evaluated under a view)."""
    direct, viewed = produced_reads(group, set(producer))
    reads = dict.fromkeys(direct, True)
    reads.update(dict.fromkeys(viewed, False))
    return reads


def _dependencies(groups: list) -> list[set[int]]:
    """For each group, the groups it reads from, directly or transitively."""
    producer = _producers(groups)
    deps: list[set[int]] = []
    for group in groups:
        direct = {producer[v] for v in _reads(group, producer)}
        # Groups are in execution order: every group read from is earlier, its set closed.
        deps.append(direct.union(*(deps[d] for d in direct)))
    return deps


def fuse_columns(plan: Plan) -> Plan:
    """Merge independent column reductions of one shape into ColumnGroups (module docstring)."""
    env = ShapeEnv(plan.graph.checks())
    groups: list = list(plan.groups)
    merged_any = False
    while True:
        pair = _mergeable_pair(groups, env)
        if pair is None:
            break
        i, j = pair
        a, b = groups[i], groups[j]
        parts = (a.parts if isinstance(a, ColumnGroup) else [a]) + (
            b.parts if isinstance(b, ColumnGroup) else [b]
        )
        shared = (a.shared if isinstance(a, ColumnGroup) else []) + (
            b.shared if isinstance(b, ColumnGroup) else []
        )
        groups[j] = ColumnGroup(parts, shared)
        del groups[i]
        groups = _sorted(groups)
        merged_any = True
    if not merged_any:
        return plan
    absorbed = _absorb_shared(groups, env, plan)
    graph_outputs = set(plan.graph.outputs)
    assert not absorbed & graph_outputs
    plan.materialized.difference_update(absorbed)
    declined = [d for d in plan.declined if d.node not in absorbed]
    return Plan(plan.graph, groups, declined, plan.materialized)


def _mergeable_pair(groups: list, env: ShapeEnv) -> tuple[int, int] | None:
    """Two column loop nests (i < j) over one shape with no path between them."""
    deps = _dependencies(groups)
    candidates = [
        i for i, g in enumerate(groups) if isinstance(g, ColumnGroup) or is_column_reduction(g)
    ]
    for jj, j in enumerate(candidates):
        for i in candidates[:jj]:
            if i in deps[j]:
                continue
            if env.shape(_space(groups[i])) == env.shape(_space(groups[j])):
                return i, j
    return None


def _space(group) -> tuple:
    return group.space if isinstance(group, ColumnGroup) else group.root.inputs[0].shape


def _sorted(groups: list) -> list:
    """A topological order of `groups` that keeps their order where dependencies allow (a
    merged group sits where its last part was; groups it reads move before it)."""
    producer = _producers(groups)
    direct = [{producer[v] for v in _reads(g, producer)} for g in groups]
    done: set[int] = set()
    order: list[int] = []

    def visit(i: int) -> None:
        if i in done:
            return
        done.add(i)
        for d in sorted(direct[i]):
            visit(d)
        order.append(i)

    for i in range(len(groups)):
        visit(i)
    return [groups[i] for i in order]


def _absorb_shared(groups: list, env: ShapeEnv, plan: Plan) -> set[Node]:
    """Move elementwise groups read only by one ColumnGroup, directly and over its whole
    space, into it (computed per element, not stored). Returns the roots no longer stored."""
    outputs = set(plan.graph.outputs)
    absorbed: set[Node] = set()
    changed = True
    while changed:
        changed = False
        producer = _producers(groups)
        reads = [_reads(g, producer) for g in groups]
        for index, group in enumerate(groups):
            if not isinstance(group, Group) or group.kind is not Kind.ELEMWISE:
                continue
            root = group.root
            if root in outputs or kind(root.op) is not Kind.ELEMWISE:
                continue
            readers = [k for k, r in enumerate(reads) if root in r]
            if len(readers) != 1:
                continue
            (reader,) = readers
            target = groups[reader]
            if (
                isinstance(target, ColumnGroup)
                and reads[reader][root]
                and env.shape(root.shape) == env.shape(target.space)
            ):
                target.shared = [*group.members, *target.shared]
                absorbed.add(root)
                del groups[index]
                changed = True
                break
    return absorbed
