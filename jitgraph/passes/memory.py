"""Buffer planning: which memory each stored intermediate lives in.

After fusion, only group roots are stored. Outputs get fresh arrays from the entry function;
0-d values live in kernel locals; every other stored value needs a buffer. Liveness runs over
the groups in execution order. A value takes over the storage of an input that dies in its own
loop nest when the nest reads that input at exactly the index it writes (same shape, dtype, no
view in between): that is an in-place update. Otherwise it reuses a free slot of the same dtype
and element count, or gets a new slot. The entry function allocates one array per slot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..ir import dims as D
from ..ir.control import at_lengths
from ..ir.dims import Dim
from ..ir.node import Node
from ..ir.ops import Kind, Op, kind
from ..ir.shape_env import ShapeEnv
from .partition import Group, Plan, Stages
from .rows import under_views


@dataclass
class Buffer:
    """A stored intermediate: its slot, live range (group indices) and in-place source."""

    node: Node
    slot: int | None
    first: int
    last: int
    inplace_of: Node | None = None
    in_output: Node | None = None  # stored in this output's array (the output overwrites it)


@dataclass
class Slot:
    dtype: np.dtype
    count: Dim  # elements

    def nbytes(self, shapes: list[tuple[int, ...]]) -> int:
        return D.evaluate(self.count, shapes) * self.dtype.itemsize


@dataclass
class MemoryPlan:
    buffers: dict[Node, Buffer] = field(default_factory=dict)
    slots: list[Slot] = field(default_factory=list)
    unread: set[Node] = field(default_factory=set)  # owned arguments no loop nest reads

    def output_home(self, output: Node) -> Node | None:
        """The stored value that lives in `output`'s array before `output` overwrites it."""
        for buf in self.buffers.values():
            if buf.in_output is output:
                return buf.node
        return None

    def planned_bytes(self, shapes: list[tuple[int, ...]]) -> int:
        """Bytes of intermediate storage one call allocates (all slots, alive for the call)."""
        return sum(s.nbytes(shapes) for s in self.slots)

    def unplanned_bytes(self, shapes: list[tuple[int, ...]]) -> int:
        """Bytes if every stored intermediate had its own array (no reuse, no in-place)."""
        return sum(value_bytes(b.node, shapes) for b in self.buffers.values())


def value_bytes(node: Node, shapes: list[tuple[int, ...]]) -> int:
    """Bytes of `node`'s value for concrete argument shapes."""
    return D.evaluate(D.product(node.shape), shapes) * node.dtype.itemsize


def _stored_roots(group: Group, materialized: set[Node]) -> list[Node]:
    return group.stored(materialized) if isinstance(group, Stages) else [group.root]


def group_reads(group: Group, materialized: set[Node]) -> dict[Node, bool]:
    """Stored values a group reads, each mapped to whether every read is at the written index
    (so the group may write its result over that value in place)."""
    members = set(group.members)
    several = isinstance(group, Stages)
    if several:  # every value a row or column loop produces is not a read
        members |= set(group.roots)
    reads: dict[Node, bool] = {}
    remapped = under_views(group) if not several else set()
    for member in group.members:
        for position, inp in enumerate(member.inputs):
            if inp in members:
                continue
            base, direct = inp, True
            while base not in materialized and kind(base.op) is Kind.VIEW:
                base, direct = base.inputs[0], False
            if base not in materialized:
                continue
            if several:
                same_index = False  # in-place across a row loop's stages: not attempted
            elif group.kind is Kind.UPDATE:
                # An update copies its base element by element, then writes a region; any other
                # read of the base (a shifted right-hand side) must see the old values. With a
                # one-element region (`z[i] = z[i - 1] * a`) every read of the base precedes
                # the one write, when the update writes over the base itself (no copy). Over
                # any other value the copy comes first and would overwrite what the region's
                # value still reads (`x[-2] = t[0]` in t's buffer: fuzz program '0:9184').
                same_index = (direct and member is group.root and position == 0) or (
                    group.root.inputs[1].ndim == 0 and base is _update_base(group.root)
                ) or (
                    # `Y[i] = Y[i] + v`: the region's value reads the base at the very place
                    # written, element by element, so the update may run in the base's storage
                    _reads_written_place(group, member, inp, base, remapped)
                )
            else:
                # A member evaluated under a view of the group (`clip(x)[::-2]`, broadcast)
                # reads at a remapped index, not the written one (fuzz program '61:856').
                same_index = (
                    direct
                    and kind(member.op) is Kind.ELEMWISE
                    and group.kind is Kind.ELEMWISE
                    and member.shape == group.root.shape
                    and member not in remapped
                )
            reads[base] = reads.get(base, True) and same_index
    return reads


def _reads_written_place(group: Group, member: Node, inp: Node, base: Node,
                         remapped: set[Node]) -> bool:
    """Does `member` read `base` (through the AT view `inp`, or as the AT member itself) at
    exactly the element the group's PUT writes while computing that element?"""
    at = member if member.op is Op.AT else inp
    if at.op is not Op.AT or at.inputs[0] is not base or not _same_place(at, group.root):
        return False
    return (member not in remapped and member.shape == group.root.inputs[1].shape
            and (member is at or kind(member.op) is Kind.ELEMWISE))


def _same_place(view: Node, update: Node) -> bool:
    """Does AT `view` read exactly the region PUT `update` writes (same axes, windows and
    index values; the frontend makes separate WRAP nodes for `Y[i]` read and written)?"""
    if view.op is not Op.AT or update.op is not Op.PUT:
        return False
    if view.attr("axes") != update.attr("axes") or at_lengths(view) != at_lengths(update):
        return False
    return all(
        a is b or (a.op is b.op is Op.WRAP and a.inputs == b.inputs
                   and a.attr("length") == b.attr("length"))
        for a, b in zip(view.inputs[1:], update.inputs[2:], strict=True)
    )


def _update_base(root: Node) -> Node:
    """The stored value an update copies (its base, through views)."""
    base = root.inputs[0]
    while kind(base.op) is Kind.VIEW:
        base = base.inputs[0]
    return base


def plan_buffers(
    plan: Plan,
    env: ShapeEnv | None = None,
    reuse: bool = True,
    owned: tuple[Node, ...] = (),
    designated: dict[Node, Node] | None = None,
) -> MemoryPlan:
    """Assign storage slots to the stored intermediates of `plan` (see module docstring).
    With reuse=False every stored value gets its own slot (for bisection and comparison).

    `owned`: arguments whose storage the graph may overwrite (a loop body's carried arrays).
    One that dies where an output of its type is written at the index it is read lives in that
    output's array (`in_output`): the loop then keeps one array per carried value and the
    body updates it in place. `designated` restricts an owned argument to one output: a
    written function argument may only become the array its own final value is returned in."""
    env = env or ShapeEnv(plan.graph.checks())
    outputs = set(plan.graph.outputs)
    owned = tuple(n for n in owned if n.ndim > 0)
    materialized = plan.materialized | set(owned)
    roots = [_stored_roots(g, plan.materialized) for g in plan.groups]
    stored = [
        r for rs in roots for r in rs if r not in outputs and r.ndim > 0 and r.op is not Op.RESHAPE
    ]
    position = {r: i for i, rs in enumerate(roots) for r in rs}
    position.update({n: -1 for n in owned})
    reads = [group_reads(g, materialized) for g in plan.groups]
    last_use = {n: position[n] for n in [*owned, *stored]}
    for i, group_reads_ in enumerate(reads):
        for node in group_reads_:
            node = _storage(node, materialized)
            if node in last_use:
                last_use[node] = max(last_use[node], i)
    memory = MemoryPlan(unread={n for n in owned if last_use[n] < 0})
    read_owned = [n for n in owned if last_use[n] >= 0]
    homes = (
        _output_homes(plan, [*read_owned, *stored], last_use, reads, env, designated or {})
        if reuse else {}
    )
    for node in read_owned:
        if node in homes:
            memory.buffers[node] = Buffer(node, None, -1, last_use[node], in_output=homes[node])
    free: list[int] = []
    for i in range(len(plan.groups)):
        defined = [r for r in roots[i] if r in last_use]
        for root in defined:
            if root in homes:
                memory.buffers[root] = Buffer(root, None, i, last_use[root], in_output=homes[root])
            elif reuse:
                memory.buffers[root] = _place(root, i, last_use[root], reads[i], memory, free, env)
            else:
                memory.slots.append(Slot(root.dtype, env.canon(D.product(root.shape))))
                memory.buffers[root] = Buffer(root, len(memory.slots) - 1, i, last_use[root])
        for node, buf in list(memory.buffers.items()):
            if (
                buf.last == i
                and node not in defined
                and buf.slot is not None
                and not _taken_over(memory, node)
            ):
                free.append(buf.slot)
    return memory


def _storage(node: Node, materialized: set[Node]) -> Node:
    """The stored value whose buffer holds `node`: a reshape that is not an output is a view of
    its input's buffer (codegen emit_reshape), so reading it reads that buffer."""
    while node.op is Op.RESHAPE or (kind(node.op) is Kind.VIEW and node not in materialized):
        node = node.inputs[0]
    return node


def _output_homes(
    plan: Plan,
    stored: list[Node],
    last_use: dict[Node, int],
    reads: list[dict[Node, bool]],
    env: ShapeEnv,
    designated: dict[Node, Node],
) -> dict[Node, Node]:
    """Stored values whose last reader writes an output of the same type at the index it reads
    them: they can live in that output's array from the start (no buffer, no copy)."""
    homes: dict[Node, Node] = {}
    outputs = set(plan.graph.outputs)
    for node in stored:
        group = plan.groups[last_use[node]]
        root = group.root
        if (
            root in outputs
            and designated.get(node, root) is root
            and not isinstance(group, Stages)
            and reads[last_use[node]].get(node)
            and root.dtype == node.dtype
            and env.shape(root.shape) == env.shape(node.shape)
            and root not in homes.values()
            and plan.graph.outputs.count(root) == 1
        ):
            homes[node] = root
    return homes


def _taken_over(memory: MemoryPlan, node: Node) -> bool:
    return any(b.inplace_of is node for b in memory.buffers.values())


def _place(
    root: Node,
    first: int,
    last: int,
    reads: dict[Node, bool],
    memory: MemoryPlan,
    free: list[int],
    env: ShapeEnv,
) -> Buffer:
    count = env.canon(D.product(root.shape))
    for node, same_index in reads.items():
        source = memory.buffers.get(node)
        if (
            source is not None
            and source.slot is not None
            and same_index
            and source.last == first
            and node.dtype == root.dtype
            and env.shape(node.shape) == env.shape(root.shape)
            and not _taken_over(memory, node)
        ):
            return Buffer(root, source.slot, first, last, inplace_of=node)
    for slot_index in free:
        slot = memory.slots[slot_index]
        if slot.dtype == root.dtype and env.canon(slot.count) == count:
            free.remove(slot_index)
            return Buffer(root, slot_index, first, last)
    memory.slots.append(Slot(root.dtype, count))
    return Buffer(root, len(memory.slots) - 1, first, last)
