"""What the compiler did and why: the report behind `inspect`.

Sections: the graph after each pass, the fusion groups (one loop nest each: members, iteration
space, source lines), every fusion declined with its reason code, the memory plan (value, shape,
dtype, bytes, live range, slot, in place) with unfused / fused / planned bytes, the generated
source, and compile timings. `str(report)` is the text form; `report.as_dict()` is for tools.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .ir import dims as D
from .ir.node import Graph, Node
from .ir.ops import Kind, kind
from .ir.printer import format_graph, format_type, value_names
from .ir.shape_env import ShapeEnv
from .passes.columns import ColumnGroup
from .passes.memory import MemoryPlan, plan_buffers, value_bytes
from .passes.partition import Group, Plan
from .passes.pipeline import PASSES
from .passes.rows import RowGroup

WIDTH = 100


@dataclass
class Report:
    stages: list[tuple[str, str]]
    groups: list[dict[str, Any]]
    declined: list[dict[str, Any]]
    buffers: list[dict[str, Any]]
    memory: dict[str, int]
    source: str
    timings: dict[str, float] = field(default_factory=dict)
    # written arguments whose final value is computed in their own array (no copy back)
    in_place_arguments: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stages": [{"pass": name, "graph": text} for name, text in self.stages],
            "groups": self.groups,
            "declined": self.declined,
            "buffers": self.buffers,
            "memory": self.memory,
            "source": self.source,
            "timings": self.timings,
            "in_place_arguments": self.in_place_arguments,
        }

    def __str__(self) -> str:
        parts = []
        previous = None
        for name, text in self.stages:
            title = f"graph after {name}" if name != "input" else "graph as built"
            parts.append(_section(title, text if text != previous else "(unchanged)"))
            previous = text
        parts.append(_section("fusion groups (one loop nest each)", _groups_text(self.groups)))
        parts.append(_section("fusions declined", _declined_text(self.declined)))
        memory = _memory_text(self.buffers, self.memory)
        for d in self.in_place_arguments:
            memory += (f"\nargument {d['argument']!r} is written in place: its final value "
                       f"({d['output']}) is computed in its own array, not copied back")
        parts.append(_section("memory plan", memory))
        parts.append(_section("generated code", self.source.rstrip()))
        if self.timings:
            parts.append(
                _section(
                    "compile time",
                    "  ".join(f"{k} {v * 1e3:.1f} ms" for k, v in self.timings.items()),
                )
            )
        return "\n\n".join(parts)


def _section(title: str, body: str) -> str:
    return f"== {title} " + "=" * max(3, WIDTH - len(title) - 4) + "\n" + body


def pass_stages(graph: Graph) -> list[tuple[str, Graph]]:
    """The graph as built and after each pass of the pipeline."""
    stages = [("input", graph)]
    for name, run in PASSES:
        graph = run(graph)
        stages.append((name, graph))
    return stages


def _where(graph: Graph, node: Node) -> str | None:
    loc = graph.locations.get(node)
    if loc is None:
        return None
    if hasattr(loc, "line"):  # the frontend's Location
        return f"{loc.filename}:{loc.line}"
    return f"{loc[0]}:{loc[1]}"


def _describe_group(group: Group, names: dict[Node, str], env: ShapeEnv, graph: Graph) -> dict:
    root = group.root
    space = root.inputs[0].shape if group.kind is Kind.REDUCE else root.shape
    if group.kind is Kind.UPDATE:
        space = root.inputs[1].shape
    computed = [m for m in group.members if kind(m.op) is not Kind.VIEW]
    return {
        "kind": group.kind.value,
        "root": names[root],
        "type": format_type(root),
        "members": [names[m] for m in computed],
        "ops": [m.op.value for m in computed],
        "iteration_space": "[" + D.format_shape(env.shape(space)) + "]",
        "source": sorted({w for m in group.members if (w := _where(graph, m))}),
    }


def describe_groups(plan: Plan, names: dict[Node, str], env: ShapeEnv) -> list[dict[str, Any]]:
    """One entry per loop nest; a row loop lists its stages, which values stay in registers
    (one per row) and which rows are kept in an output's row until it is overwritten; a column
    loop lists its reductions and the values they share, computed once per element."""
    groups = []
    for i, group in enumerate(plan.groups):
        if isinstance(group, RowGroup):
            entry = _describe_stages(group, [], names, env, plan.graph, "rows", group.outer,
                                     "parallel")
            entry["in_registers"] = [names[n] for n in group.parts_order(group.row_locals)]
            entry["kept_in"] = {names[v]: names[h] for v, h in group.stash.items()}
        elif isinstance(group, ColumnGroup):
            shared = [m for m in group.shared if kind(m.op) is not Kind.VIEW]
            entry = _describe_stages(group, shared, names, env, plan.graph, "columns",
                                     group.space, "one pass")
            entry["shared"] = [names[m] for m in shared]
        else:
            entry = _describe_group(group, names, env, plan.graph)
        groups.append({"id": i, **entry})
    return groups


def _describe_stages(group: RowGroup | ColumnGroup, shared: list[Node], names: dict[Node, str],
                     env: ShapeEnv, graph: Graph, kind_: str, space: tuple, how: str) -> dict:
    """A loop nest of several stages (parts): each part described, members and ops in order,
    `shared` members (computed for several parts) first."""
    stages = [_describe_group(p, names, env, graph) for p in group.parts]
    return {
        "kind": kind_,
        "root": names[group.root],
        "type": format_type(group.root),
        "iteration_space": f"[{D.format_shape(env.shape(space))}] ({how})",
        "stages": stages,
        "members": [names[m] for m in shared] + [m for st in stages for m in st["members"]],
        "ops": [m.op.value for m in shared] + [o for st in stages for o in st["ops"]],
        "source": sorted({w for m in shared if (w := _where(graph, m))}
                         | {w for st in stages for w in st["source"]}),
    }


def describe_buffers(
    plan: Plan, memory: MemoryPlan, names: dict[Node, str], shapes: list[tuple[int, ...]]
) -> list[dict[str, Any]]:
    rows = []
    for node, buf in memory.buffers.items():
        rows.append(
            {
                "value": names[node],
                "shape": tuple(D.evaluate(d, shapes) for d in node.shape),
                "dtype": node.dtype.name,
                "bytes": value_bytes(node, shapes),
                "live": [buf.first, buf.last],
                "slot": buf.slot,
                "inplace_of": names[buf.inplace_of] if buf.inplace_of is not None else None,
                "in_output": names[buf.in_output] if buf.in_output is not None else None,
            }
        )
    return rows


def unfused_bytes(graph: Graph, shapes: list[tuple[int, ...]]) -> int:
    """Intermediate bytes if every computed node were stored (as NumPy runs it, line by line)."""
    outputs = set(graph.outputs)
    return sum(
        value_bytes(n, shapes)
        for n in graph.nodes()
        if n not in outputs and kind(n.op) not in (Kind.SOURCE, Kind.VIEW) and n.ndim > 0
    )


def build_report(
    graph: Graph,
    plan: Plan,
    source: str,
    shapes: list[tuple[int, ...]],
    timings: dict[str, float] | None = None,
    donated: dict[int, int] | None = None,
) -> Report:
    """`donated`: output index -> argument index, the written arguments whose final values the
    kernel computes in the arguments' own arrays (Kernel.donated)."""
    env = ShapeEnv(plan.graph.checks())
    names = value_names(plan.graph)
    # The kernel's own plan: a donated argument lives in its output's array, which no other
    # value may then take (KernelBuilder.__init__).
    in_place = {plan.graph.args[a]: plan.graph.outputs[k] for k, a in (donated or {}).items()}
    memory = plan_buffers(plan, env, owned=tuple(in_place), designated=in_place)
    stages = [(name, format_graph(g)) for name, g in pass_stages(graph)]
    declined = [
        {
            "value": names.get(d.node, "?"),
            "op": d.node.op.value,
            "reason": d.reason,
            "detail": d.detail,
            "source": _where(plan.graph, d.node),
        }
        for d in plan.declined
    ]
    return Report(
        stages=stages,
        groups=describe_groups(plan, names, env),
        declined=declined,
        buffers=describe_buffers(plan, memory, names, shapes),
        memory={
            "unfused_bytes": unfused_bytes(plan.graph, shapes),
            "fused_bytes": memory.unplanned_bytes(shapes),
            "planned_bytes": memory.planned_bytes(shapes),
        },
        in_place_arguments=[
            {"argument": plan.graph.args[a].attr("name"), "output": plan.graph.output_names[k]}
            for k, a in sorted((donated or {}).items())
        ],
        source=source,
        timings=dict(timings or {}),
    )


def _groups_text(groups: list[dict[str, Any]]) -> str:
    lines = []
    for g in groups:
        where = f"  (lines {', '.join(g['source'])})" if g["source"] else ""
        lines.append(
            f"group {g['id']}: {g['kind']} -> {g['root']} : {g['type']} over "
            f"{g['iteration_space']}{where}"
        )
        for stage in g.get("stages", [g]):
            prefix = (
                f"    {stage['kind']} over {stage['iteration_space']}: "
                if "stages" in g
                else "    "
            )
            lines.append(
                prefix
                + "computes "
                + ", ".join(f"{m} {o}" for m, o in zip(stage["members"], stage["ops"]))
            )
        if g.get("in_registers"):
            lines.append(f"    one value per row, in registers: {', '.join(g['in_registers'])}")
        for value, holder in g.get("kept_in", {}).items():
            lines.append(f"    row of {value} kept in {holder}'s row until {holder} overwrites it")
    return "\n".join(lines) or "(none)"


def _declined_text(declined: list[dict[str, Any]]) -> str:
    lines = [f"{d['value']} ({d['op']}): {d['reason']}: {d['detail']}" for d in declined]
    return "\n".join(lines) or "(none: every computed value was fused into its consumer)"


def _memory_text(buffers: list[dict[str, Any]], memory: dict[str, int]) -> str:
    header = f"{'value':<8}{'shape':<22}{'dtype':<9}{'bytes':>14}  {'live':<9}{'slot':<6}stored in"
    rows = [header] + [
        f"{b['value']:<8}{str(b['shape']):<22}{b['dtype']:<9}{b['bytes']:>14,}  "
        f"{str(b['live'][0]) + '..' + str(b['live'][1]):<9}"
        f"{b['slot'] if b['slot'] is not None else '-':<6}"
        f"{b['inplace_of'] or ('output ' + b['in_output'] if b['in_output'] else '-')}"
        for b in buffers
    ]
    if not buffers:
        rows = ["no intermediate buffers: every intermediate value lives in registers"]
    rows.append(
        f"intermediate bytes: unfused (one array per operation) {memory['unfused_bytes']:,}; "
        f"fused {memory['fused_bytes']:,}; planned {memory['planned_bytes']:,}"
    )
    return "\n".join(rows)
