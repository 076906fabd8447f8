"""Row fusion: consecutive loop nests over the same outer axes become one parallel loop.

A matrix product may start a row loop: `relu(x @ W + b)` computes one row of the product, then
applies the bias and activation to that row while it is in cache, in the output's own row. That
holds for products computed by loops (integer and bool dtypes, batched or mixed-dtype products).
A product BLAS can compute (`blas_product`: float32/float64 matrices read as stored arrays) is one
library call before the loop nests that read it: jitgraph's own packed GEMM (codegen/gemm.py) for
matrix @ matrix, `np.dot` (BLAS) for products with a vector or fewer rows than a register tile.
Blocked, register-tiled kernels are several times faster than a row loop, and they run their own
parallel loops, which cannot nest inside a `prange` (OpenBLAS's pool, called from Numba's threads,
serializes and oversubscribes the cores). Its epilogue is then
one more pass over the product, written in place (the memory plan puts the product in the
epilogue's output), and the report declines the fusion with reason `blas-product`. The kernel
still computes products below kernel.BLAS_MIN_WORK multiply-adds with loops (a run-time branch
on the sizes): for those, handing work to BLAS's threads costs more than the product.

Row softmax is four nests after partitioning (max, exp, sum, divide), each a pass over memory.
They share their outer axis (rows), and each reads what the earlier ones produced *at the same
row*, so one `prange` over rows can run all four as inner loops: the row's max and sum live in
registers, and the row's exponentials are kept in the output row until the final divide
rescales them in place. The same shape covers logsumexp, row standardization and independent
reductions over the same rows.

A group can join a row group when
  - it is elementwise, or a reduction over exactly the trailing (inner) axes;
  - its iteration space starts with the row group's outer axes (equal up to known equalities);
  - it reads values produced inside the row group only directly (no view in between) and at
    the outer index (their leading axes are the outer axes);
Groups are merged only with their neighbours in execution order, so the result stays convex.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from ..ir.dims import Dim
from ..ir.node import Node
from ..ir.ops import Kind, Op, kind
from ..ir.shape_env import ShapeEnv
from .partition import Decline, Group, Plan, Stages


@dataclass
class RowGroup(Stages):
    """Loop nests run inside one parallel loop over `outer` (the first `len(outer)` axes)."""

    outer: tuple[Dim, ...]
    parts: list[Group]
    row_locals: set[Node] = field(default_factory=set)  # one value per row: in registers
    stash: dict[Node, Node] = field(default_factory=dict)  # full-row value -> output holding it

    kind = "rows"

    def parts_order(self, nodes: set[Node]) -> list[Node]:
        """`nodes` (roots of parts) in execution order."""
        return [r for r in self.roots if r in nodes]


BLAS_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@cache
def blas_available() -> bool:
    """Numba binds BLAS through SciPy (scipy.linalg.cython_blas): without SciPy, np.dot does not
    compile in a kernel, and every product runs as loops."""
    return importlib.util.find_spec("scipy") is not None


def blas_product(node: Node) -> bool:
    """Is `node` a product the kernel computes with one BLAS call (`np.dot(a, b, out)`)?

    Matrix @ matrix, matrix @ vector and vector @ matrix where both operands and the result
    have one float dtype (BLAS has no integer or bool kernels, and a mixed-dtype product would
    need converted copies), each operand readable as an array (`blas_operand`). Batched and
    vector @ vector products stay loops. The answer depends on the node alone, so the plan
    (rows.py) and codegen (kernel.py) agree without passing it along."""
    if node.op is not Op.MATMUL or not blas_available():
        return False
    a, b = node.inputs
    return (
        node.dtype in BLAS_DTYPES
        and a.dtype == node.dtype
        and b.dtype == node.dtype
        and (a.ndim, b.ndim) in ((2, 2), (2, 1), (1, 2))
        and blas_operand(a)
        and blas_operand(b)
    )


def blas_operand(node: Node) -> bool:
    """Can the kernel pass `node` to np.dot as an array expression? Arguments, constants and
    stored values (matmul operands that are computed are always stored), read through
    transposes (a transposed C array is a Fortran array: BLAS reads it with its transpose flag,
    no copy) and basic indexing with integers and forward slices (a strided view is copied to
    a contiguous array first); and a constant filling a vector (`ones @ g`, the sum of g's
    rows, as autodiff writes bias gradients), made with np.full. Other broadcasts, new axes and
    reversed slices stay loops."""
    if is_filled_vector(node):
        return True
    while kind(node.op) is Kind.VIEW:
        if node.op is Op.GETITEM:
            for item in node.attr("items"):
                if item[0] not in ("int", "slice") or (item[0] == "slice" and item[3] < 1):
                    return False
        elif node.op is Op.TRANSPOSE:
            if node.attr("perm") != tuple(reversed(range(node.ndim))):
                return False  # only a reversal of all axes is Numba's `.T`
        else:
            return False
        node = node.inputs[0]
    if kind(node.op) is Kind.SOURCE:
        return node.op in (Op.VAR, Op.CONST) and node.ndim > 0
    return True


def is_filled_vector(node: Node) -> bool:
    """A 1-D broadcast of a scalar constant (np.full / np.ones of a runtime length)."""
    return (
        node.op is Op.BROADCAST
        and node.ndim == 1
        and node.inputs[0].op is Op.CONST
        and node.inputs[0].ndim == 0
    )


def space(group: Group) -> tuple[Dim, ...]:
    return group.root.inputs[0].shape if group.kind is Kind.REDUCE else group.root.shape


def outer_limit(group: Group) -> int:
    """How many leading axes of the group's space can be outer (parallel, per-row) axes."""
    if group.kind is Kind.ELEMWISE:
        # Only computed roots: an output that is an argument or a view is a plain copy.
        return group.root.ndim if kind(group.root.op) is Kind.ELEMWISE else 0
    if group.kind is Kind.MATMUL:
        # A product of matrices computed by loops can start a row loop (its epilogue follows
        # per row); a product of vectors has no rows; BLAS computes the whole product at once.
        a, b = group.root.inputs
        if blas_product(group.root):
            return 0
        return group.root.ndim - 1 if a.ndim >= 2 and b.ndim >= 2 else 0
    if group.kind is Kind.REDUCE:
        axes = group.root.attr("axes")
        ndim = group.root.inputs[0].ndim
        if axes and tuple(axes) == tuple(range(axes[0], ndim)):
            return axes[0]
    return 0


def produced_reads(group: Group | Stages, produced: set[Node]) -> tuple[list[Node], list[Node]]:
    """Values of `produced` the group reads (direct reads, reads through a view).

    A member computed under a view of the group (`(x - t).T`: the subtraction is evaluated at
    the transposed index) reads everything at remapped indices, so its reads count as reads
    through a view too."""
    members = set(group.members)
    remapped = under_views(group)
    direct, through_view = [], []
    for member in group.members:
        for inp in member.inputs:
            if inp in members:
                continue
            base, viewed = inp, member in remapped or kind(member.op) is Kind.VIEW
            while base not in produced and kind(base.op) is Kind.VIEW:
                base, viewed = base.inputs[0], True
            if base in produced:
                (through_view if viewed else direct).append(base)
    return direct, through_view


def under_views(group: Group) -> set[Node]:
    """Members of the group evaluated at an index a view of the group remapped: the inputs,
    direct or indirect, of its VIEW members (memory.py asks too)."""
    members = set(group.members)
    under: set[Node] = set()
    for member in reversed(group.members):  # root first: consumers before their inputs
        if member in under or kind(member.op) is Kind.VIEW:
            under.update(i for i in member.inputs if i in members)
    return under


def _joinable(rows: RowGroup, group: Group, env: ShapeEnv, declined: list[Decline]) -> int:
    """The outer depth if `group` can join `rows`, else 0."""
    depth = min(len(rows.outer), outer_limit(group))
    if group.kind is Kind.REDUCE and outer_limit(group) == 0:
        declined.append(
            Decline(
                group.root,
                "reduction-axis",
                "reduces leading axes: it cannot run inside a loop over rows",
            )
        )
        return 0
    if depth == 0 or group.kind is Kind.MATMUL:
        return 0  # a product reads whole operands: it only starts a row loop
    if depth < len(rows.outer) and any(p.kind is Kind.MATMUL for p in rows.parts):
        return 0  # a product's rows are all its leading axes: the loop cannot be shallower
    # A reduction in a row loop reduces every axis inside the row (kernel emit_row_reduce):
    # the loop's depth must be exactly its outer limit, for the parts already in the loop
    # (a shallower loop would leave `all(x, axis=-1)`'s kept axis inside the row: fuzz program
    # '1:8208') and for the group joining it.
    reductions = [p for p in [*rows.parts, group] if p.kind is Kind.REDUCE]
    if any(outer_limit(p) != depth for p in reductions):
        return 0
    if env.shape(space(group)[:depth]) != env.shape(rows.outer[:depth]):
        return 0
    produced = set(rows.roots)
    direct, viewed = produced_reads(group, produced)
    if viewed:
        declined.append(
            Decline(
                group.root,
                "view-between-nests",
                "reads a value of the previous loop nest through a view",
            )
        )
        return 0
    for value in direct:
        if value.ndim != len(space(group)) or env.shape(value.shape[:depth]) != env.shape(
            rows.outer[:depth]
        ):
            declined.append(
                Decline(
                    group.root,
                    "row-mismatch",
                    "reads a value of the previous loop nest at another row",
                )
            )
            return 0
    return depth


def fuse_rows(plan: Plan) -> Plan:
    """Merge neighbouring groups of `plan` into row groups (see the module docstring)."""
    env = ShapeEnv(plan.graph.checks())
    merged: list[Group | RowGroup] = []
    current: RowGroup | None = None
    for group in plan.groups:
        if current is not None:
            depth = _joinable(current, group, env, plan.declined)
            if depth:
                current.outer = current.outer[:depth]
                current.parts.append(group)
                continue
            merged.append(_finish(current, plan, env))
            current = None
        limit = outer_limit(group)
        if limit:
            current = RowGroup(tuple(space(group)[:limit]), [group])
        else:
            merged.append(group)
    if current is not None:
        merged.append(_finish(current, plan, env))
    _decline_blas_epilogues(plan)
    # A value row fusion keeps in registers or in an output row is no longer a declined fusion.
    resolved = {n for g in merged if isinstance(g, RowGroup) for n in g.row_locals | set(g.stash)}
    declined = [d for d in plan.declined if d.node not in resolved]
    return Plan(plan.graph, merged, declined, plan.materialized)


def _decline_blas_epilogues(plan: Plan) -> None:
    """Report each BLAS product that a later loop nest reads: that nest (the epilogue, as the
    bias and activation of `relu(x @ W + b)`) runs as its own pass over the stored product
    instead of inside the product's row loop."""
    for group in plan.groups:
        if group.kind is not Kind.MATMUL or not blas_product(group.root):
            continue
        readers = [
            g for g in plan.groups if g is not group and any(produced_reads(g, {group.root}))
        ]
        if readers:
            plan.declined.append(
                Decline(
                    group.root,
                    "blas-product",
                    "computed by one library call (jitgraph's GEMM, or BLAS's np.dot for a "
                    "product with a vector or fewer rows than a register tile; "
                    "below kernel.BLAS_MIN_WORK multiply-adds, by its own loop nest): the "
                    "loop nests reading it make their own pass over it",
                )
            )


def _finish(rows: RowGroup, plan: Plan, env: ShapeEnv) -> Group | RowGroup:
    if len(rows.parts) == 1:
        return rows.parts[0]
    depth = len(rows.outer)
    inside = set(rows.roots)
    outputs = set(plan.graph.outputs)
    read_outside = _read_outside(rows, plan)
    for part in rows.parts:
        root = part.root
        if root in outputs or root in read_outside:
            continue
        if all(d == 1 for d in root.shape[depth:]) and part.kind is not Kind.MATMUL:
            rows.row_locals.add(root)  # (a product accumulates into a row array)
            continue
        holder = _stash_holder(rows, part, env, outputs)
        if holder is not None:
            rows.stash[root] = holder
    # Only values that must outlive the row loop stay materialized as buffers.
    plan.materialized.difference_update(rows.row_locals | set(rows.stash))
    plan.materialized.update(inside - rows.row_locals - set(rows.stash))
    return rows


def _read_outside(rows: RowGroup, plan: Plan) -> set[Node]:
    inside = set(rows.roots)
    parts = {id(p) for p in rows.parts}
    result: set[Node] = set()
    for group in plan.groups:
        if id(group) in parts:
            continue
        direct, viewed = produced_reads(group, inside)
        result.update(direct, viewed)
    return result


def _stash_holder(rows: RowGroup, part: Group, env: ShapeEnv, outputs: set[Node]) -> Node | None:
    """A later output of the row group that can hold `part`'s row until it overwrites it: same
    dtype and shape, written by an elementwise nest that reads the value at the written index."""
    value = part.root
    later = rows.parts[rows.parts.index(part) + 1 :]
    for i, other in enumerate(later):
        holder = other.root
        if (
            holder in outputs
            and other.kind is Kind.ELEMWISE
            and holder.dtype == value.dtype
            and env.shape(holder.shape) == env.shape(value.shape)
            and value in produced_reads(other, {value})[0]
            and all(value not in sum(produced_reads(g, {value}), []) for g in later[i + 1 :])
            and holder not in rows.stash.values()
        ):
            return holder
    return None
