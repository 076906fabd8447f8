"""Partition a graph into groups: each group is one loop nest in the generated kernel.

A group has one root (the value it materializes) and members computed inside its loop nest.
An elementwise node joins the group of its users when all of them are in one group, that group
can evaluate it per element (elementwise and reduction loop nests can; matmul operands are read
many times, so they are materialized first) and it is evaluated once per iteration (same number
of elements: no broadcast replication). Because a node joins only when *every* user is already in
the group, no path leaves a group and comes back: groups are convex by construction.

Free nodes are never computed: sources (arguments, constants, sizes, index grids) and views of
free or materialized values (transpose, slicing, broadcast), which codegen reads through by
remapping indices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir import dims as D
from ..ir.node import Graph, Node
from ..ir.ops import Kind, Op, kind
from ..ir.shape_env import ShapeEnv

ROOT_KINDS = {Kind.REDUCE, Kind.MATMUL, Kind.CONCAT, Kind.RESHAPE, Kind.UPDATE, Kind.CONTROL}


@dataclass
class Group:
    """One loop nest: `root` is materialized, `members` are computed inside the nest."""

    root: Node
    members: list[Node] = field(default_factory=list)  # topological order, root last

    @property
    def kind(self) -> Kind:
        k = kind(self.root.op)
        return Kind.ELEMWISE if k in (Kind.ELEMWISE, Kind.VIEW, Kind.SOURCE) else k


class Stages:
    """A loop nest that runs several groups (`parts`) together: a row loop (rows.py), a column
    loop (columns.py). Its roots are the parts' roots; those still materialized outlive it."""

    parts: list[Group]

    @property
    def root(self) -> Node:
        return self.parts[-1].root

    @property
    def roots(self) -> list[Node]:
        return [part.root for part in self.parts]

    @property
    def members(self) -> list[Node]:
        return [m for part in self.parts for m in part.members]

    def stored(self, materialized: set[Node]) -> list[Node]:
        """Roots that outlive the loop nest (outputs and buffers), in order."""
        return [r for r in self.roots if r in materialized]


@dataclass
class Decline:
    """A fusion not made, with a reason code the inspect report prints."""

    node: Node
    reason: str
    detail: str


@dataclass
class Plan:
    graph: Graph
    groups: list[Group]
    declined: list[Decline]
    materialized: set[Node]  # roots of groups: values that live in memory


def is_free(node: Node, materialized: set[Node]) -> bool:
    """Sources and views of free or materialized values: readable without computing."""
    if node in materialized:
        return False
    k = kind(node.op)
    if k is Kind.SOURCE:
        return True
    return k is Kind.VIEW and (
        node.inputs[0] in materialized or is_free(node.inputs[0], materialized)
    )


def _iteration_size(group: Group) -> D.Dim:
    """Elements one pass of the group's loop nest visits (an update: its region)."""
    root = group.root
    if group.kind is Kind.UPDATE:
        return D.product(root.inputs[1].shape)
    space = root.inputs[0].shape if group.kind is Kind.REDUCE else root.shape
    return D.product(space)


def partition(graph: Graph) -> Plan:
    order = graph.nodes()
    position = {n: i for i, n in enumerate(order)}
    users = graph.users()
    outputs = set(graph.outputs)
    group_of: dict[Node, Group] = {}
    groups: list[Group] = []
    declined: list[Decline] = []
    materialized: set[Node] = set()
    env = ShapeEnv(graph.checks())

    def new_group(node: Node) -> None:
        group = Group(node, [node])
        groups.append(group)
        group_of[node] = group
        materialized.add(node)

    for node in reversed(order):
        k = kind(node.op)
        if node in outputs:
            new_group(node)
            continue
        if k is Kind.SOURCE:
            continue
        if k in ROOT_KINDS or (k is Kind.VIEW and any(u.op is Op.RESHAPE for u in users[node])):
            new_group(node)  # a reshape reads its input as a stored C-order array
            continue
        # Views and elementwise nodes: fuse into the users' group when possible.
        target = _fusion_target(node, users[node], group_of, declined, env)
        if target is None:
            if k is Kind.VIEW:
                continue  # read through at each use; materialized only if computing needs it
            new_group(node)
        elif isinstance(target, list):  # computed again in each nest (_recomputable)
            declined.append(Decline(
                node, "recomputed", f"computed in each of {len(target)} loop nests, not stored"))
            for group in target:
                group.members.append(node)
            group_of[node] = target[0]
        else:
            target.members.append(node)
            group_of[node] = target
    for group in groups:
        group.members.sort(key=position.__getitem__)
    groups.sort(key=lambda g: position[g.root])
    # A view left ungrouped over a computed (non-materialized) node would have nothing to read.
    for node in order:
        if kind(node.op) is Kind.VIEW and node not in group_of:
            base = node
            while kind(base.op) is Kind.VIEW and base not in group_of:
                base = base.inputs[0]
            if kind(base.op) is not Kind.SOURCE and base not in materialized:
                raise AssertionError("partition: view of an unmaterialized value")
    return Plan(graph, groups, declined, materialized)


# Elementwise operations cheap enough to compute again in every loop nest that reads them,
# rather than store once and read back: storing costs a write and a read per element.
RECOMPUTED_OPS = {Op.ADD, Op.SUB, Op.MUL, Op.NEG}
RECOMPUTE_MAX_NESTS = 3


def _recomputable(node: Node, groups: list[Group], env: ShapeEnv) -> bool:
    """May `node` be computed inside each of `groups` instead of stored? A single cheap
    operation (`x - mean`, read by a column variance and by the standardized output) over
    inputs that are free, or smaller (stored by their own nest: a broadcast row), in loop nests
    that each evaluate it once per element. Its inputs then fuse into none of the nests."""
    if node.op not in RECOMPUTED_OPS or node.ndim == 0 or len(groups) > RECOMPUTE_MAX_NESTS:
        return False
    size = env.canon(D.product(node.shape))
    for inp in node.inputs:
        if kind(inp.op) is Kind.SOURCE or inp.ndim == 0:
            continue
        if inp.ndim >= node.ndim:  # would fuse into one of the nests only
            return False
    return all(
        g.kind in (Kind.ELEMWISE, Kind.REDUCE)
        and env.canon(_iteration_size(g)) == size
        for g in groups
    )


def _fusion_target(
    node: Node,
    node_users: list[Node],
    group_of: dict[Node, Group],
    declined: list[Decline],
    env: ShapeEnv,
) -> Group | list[Group] | None:
    targets = []
    for user in node_users:
        if user.op in (Op.AT, Op.PUT) and node in user.inputs[1 if user.op is Op.AT else 2 :]:
            declined.append(
                Decline(node, "runtime-index", "an index known at run time is computed first")
            )
            return None
        if user in group_of:
            targets.append(group_of[user])
        elif kind(user.op) is Kind.VIEW:
            # An ungrouped view reads its input wherever it is used: the node must be materialized.
            declined.append(
                Decline(node, "view-of-computed", "read through a view by several loop nests")
            )
            return None
    distinct = {id(g): g for g in targets}
    if len(distinct) > 1 and _recomputable(node, list(distinct.values()), env):
        return list(distinct.values())
    if len(distinct) != 1:
        if len(distinct) > 1:
            declined.append(
                Decline(
                    node,
                    "multiple-consumers",
                    f"used by {len(distinct)} loop nests; computed once and stored",
                )
            )
        return None
    (group,) = distinct.values()
    if group.kind is Kind.CONTROL:
        declined.append(Decline(node, "loop-input", "a loop or branch reads its inputs stored"))
        return None
    if group.kind is Kind.MATMUL:
        declined.append(Decline(node, "matmul-operand", "matmul operands are read many times"))
        return None
    if group.kind is Kind.CONCAT or group.kind is Kind.RESHAPE:
        declined.append(
            Decline(node, "layout-change", f"{group.root.op.value} needs its input stored")
        )
        return None
    if group.kind is Kind.UPDATE and node is group.root.inputs[0]:
        declined.append(Decline(node, "update-base", "the array an update writes into is stored"))
        return None
    # A size checked to broadcast to the group's (n - 2 against m - 2: equal, or 1) counts as
    # that size: reading the value through the broadcast costs no more than the group's pass.
    stretched = D.product(tuple(env.stretched(d) for d in node.shape))
    if env.canon(stretched) != env.canon(_iteration_size(group)):
        declined.append(
            Decline(
                node,
                "shape-mismatch",
                f"[{D.format_shape(node.shape)}] would be recomputed across a broadcast",
            )
        )
        return None
    return group
