"""Loops and branches in the kernel: each body graph is planned like any graph and emitted
inside a Python `for` / `while` / `if` of the same kernel, its loop nests parallel as usual.

Storage of a loop: one array per carried array value, made before the loop from the initial
value (a copy: the body writes it), and one local per carried scalar. The body reads the
carried arrays as arguments and writes the next values as outputs. When the memory planner
finds that an output can be written where its carried value is read (the body's last read of
it is at the index being written: `z[i] = ...`, `x = x - lr * g`, a stencil's region update),
the output *is* the carried array and the update happens in place. Otherwise the output goes to
a scratch array allocated once, before the loop, and is copied into the carried array after the
body. A `while` loop's condition is a separate graph over the same placeholders, evaluated
before each iteration. A branch's sides write their values into result storage made before the
`if`; they read the values from before the branch where they are.
"""

from __future__ import annotations

from contextlib import ExitStack

from ..ir.control import body_of, result, split_inputs
from ..ir.node import Check, Graph, Node
from ..ir.ops import Op
from ..ir.shape_env import ShapeEnv
from ..passes import pipeline
from ..passes.memory import plan_buffers
from . import scalar
from .kernel import KernelBuilder

Binding = tuple[str, str]  # ('array' | 'scalar', name in the kernel)


class BodyBuilder(KernelBuilder):
    """Emits a body graph into its parent's kernel: same source, parameters, sizes and names.
    `owned`: the carried placeholders whose arrays the body may overwrite."""

    def __init__(self, graph: Graph, parent: KernelBuilder, owned: tuple[Node, ...] = ()):
        plan = pipeline.plan(graph)
        self.plan = plan
        self.name = parent.name
        self.out = parent.out
        self.params = parent.params
        self.arrays: dict[Node, str] = {}
        self.scalars: dict[Node, str] = {}
        self.dim_names = parent.dim_names
        self.twin, self.large, self.parallel_works = False, None, set()  # the parent's choice
        self.counter = parent.counter
        self.outputs = plan.graph.outputs
        self.all_checks: list[Check] = all_checks(parent) + plan.graph.checks()
        self.env = ShapeEnv(self.all_checks)
        self.memory = plan_buffers(
            plan, self.env, reuse=pipeline.is_enabled("buffer_reuse"), owned=owned
        )
        self.slot_names: dict[int, str] = {}
        self.out_names: dict[int, str] = {}
        self.prefix = f"b{self.fresh('')}_"
        self.owned = set(owned)
        self.users = plan.graph.users()
        parent.counter = self.counter

    def prepare_target(self, node: Node) -> str | None:
        if node in self.outputs and node.ndim == 0:
            return None  # a carried scalar: a local, stored after the body
        return super().prepare_target(node)

    def bind(self, bindings: dict[Node, Binding]) -> None:
        for ph in self.plan.graph.args:
            if ph in bindings:
                where, name = bindings[ph]
                (self.scalars if where == "scalar" else self.arrays)[ph] = name

    def emit_all(self, parent: KernelBuilder) -> None:
        for group in self.plan.groups:
            self.emit_group(group)
        parent.counter = self.counter


def all_checks(kb: KernelBuilder) -> list[Check]:
    return getattr(kb, "all_checks", None) or kb.plan.graph.checks()


def allocate(kb: KernelBuilder, name: str, like: Node) -> None:
    shape = "(" + "".join(f"{kb.dim(d)}, " for d in like.shape) + ")"
    kb.out.line(f"{name} = np.empty({shape}, {scalar.np_type(like.dtype)})")


def emit_control(kb: KernelBuilder, node: Node) -> None:
    body = body_of(node)
    head, inits, captures = split_inputs(node)
    graph = body.graph
    offset = 1 if body.has_index else 0
    carried_phs = graph.args[offset : offset + body.n_carried]
    capture_phs = graph.args[offset + body.n_carried :]
    kb.out.comment(f"{body.kind} {body.label}")
    bindings: dict[Node, Binding] = {}
    for ph, cap in zip(capture_phs, captures, strict=True):
        bindings[ph] = readable(kb, cap)
    if body.kind == "branch":
        emit_branch(kb, node, head[0], inits, carried_phs, bindings)
        return
    carried = [
        carry(kb, ph, init, kb.donate_to_loop(node, k, init) if ph.dtype == init.dtype else None)
        for k, (ph, init) in enumerate(zip(carried_phs, inits, strict=True))
    ]
    bindings.update(zip(carried_phs, carried, strict=True))
    bounds = [expression(kb, h) for h in head]
    index = kb.fresh("it")
    if body.has_index:
        bindings[graph.args[0]] = ("scalar", index)
    cond = None
    if body.cond is not None:
        cond = BodyBuilder(body.cond, kb)
        cond.bind(bindings)
    sub = BodyBuilder(graph, kb, owned=tuple(carried_phs))
    sub.bind(bindings)
    homes = _homes(sub, carried_phs)
    outputs = sub.plan.graph.outputs
    for k, out in enumerate(outputs):
        if out.ndim and k == outputs.index(out):
            if homes.get(k) or _branch_result_in_place(sub, out, carried_phs[k]):
                sub.out_names[k] = carried[k][1]
            else:
                sub.out_names[k] = kb.fresh("next")
                allocate(kb, sub.out_names[k], out)
    header = f"for {index} in range({', '.join(bounds)}):" if body.has_index else "while True:"
    with kb.out.block(header):
        if cond is not None:
            cond.counter = kb.counter
            cond.emit_all(kb)
            with kb.out.block(f"if not {cond.read(cond.plan.graph.outputs[0], ())}:"):
                kb.out.line("break")
        sub.counter = kb.counter
        sub.emit_all(kb)
        store_next(kb, sub, sub.plan.graph, carried)
    register(kb, node, carried)


def _homes(sub: BodyBuilder, carried_phs: tuple[Node, ...]) -> dict[int, bool]:
    """Output positions whose value the plan writes over their own carried array."""
    outputs = sub.plan.graph.outputs
    result: dict[int, bool] = {}
    for k, ph in enumerate(carried_phs):
        buf = sub.memory.buffers.get(ph)
        result[k] = buf is not None and buf.in_output is outputs[k] and outputs.count(
            outputs[k]) == 1
    return result


def _in_place_init(kb: KernelBuilder, branch: Node, init: Node) -> bool:
    """May a branch write its result over `init`'s array? When init is a carried array of the
    enclosing loop (its storage the loop's own) and nothing but the branch reads it: then
    `if c: y[i] = v` inside a loop writes one element, not a copy of y."""
    return init in kb.owned and init.ndim > 0 and kb.users.get(init) == [branch] and (
        init not in kb.plan.graph.outputs)


def _branch_result_in_place(sub: BodyBuilder, out: Node, ph: Node) -> bool:
    """Is loop output `out` the result of a branch written in place over carried `ph`?"""
    if out.op is not Op.RESULT or out.inputs[0].op is not Op.BRANCH:
        return False
    branch = out.inputs[0]
    _, inits, _ = split_inputs(branch)
    return inits[out.attr("index")] is ph and _in_place_init(sub, branch, ph)


def readable(kb: KernelBuilder, node: Node) -> Binding:
    """A value of the enclosing kernel as a body argument: a stored array or a scalar."""
    if node.ndim == 0:
        return ("scalar", expression(kb, node))
    kb.read(node, ("0",) * node.ndim)  # registers a constant array as a kernel parameter
    if node in kb.arrays:
        return ("array", kb.arrays[node])
    return ("array", copy_of(kb, node, kb.fresh("v")))


def expression(kb: KernelBuilder, node: Node) -> str:
    """A 0-d value of the enclosing kernel as an expression (statements emitted first)."""
    lines: list[str] = []
    expr = kb.value(node, (), set(), lines, {})
    kb.out.extend(lines)
    return expr


def copy_of(kb: KernelBuilder, node: Node, name: str) -> str:
    """A fresh array `name` holding `node`'s value (read through views)."""
    allocate(kb, name, node)
    with ExitStack() as stack:
        idx = kb.loops(stack, list(node.shape))
        lines: list[str] = []
        expr = kb.value(node, idx, set(), lines, {})
        kb.out.extend(lines)
        kb.out.line(f"{name}[{', '.join(idx)}] = {expr}")
    return name


def carry(kb: KernelBuilder, ph: Node, init: Node, donated: str | None = None) -> Binding:
    """Storage for one carried value, holding its initial value: `donated`, the array of a
    written argument that already holds it (KernelBuilder.donate_to_loop), or a copy."""
    if donated is not None:
        return ("array", donated)
    if ph.ndim == 0:
        name = kb.fresh("carry")
        value = scalar.cast(expression(kb, init), init.dtype, ph.dtype)
        kb.out.line(f"{name} = {scalar.np_type(ph.dtype)}({value})")
        return ("scalar", name)
    return ("array", copy_of(kb, init, kb.fresh("carry")))


def store_next(kb: KernelBuilder, sub: BodyBuilder, graph: Graph, storage: list[Binding]) -> None:
    """After a body: the next values into their storage (scalars through fresh locals, so
    `a, b = b, a` reads both before writing either)."""
    pending = []
    for out, (where, name) in zip(graph.outputs, storage, strict=True):
        if where == "scalar":
            fresh = kb.fresh("n")
            kb.out.line(f"{fresh} = {sub.read(out, ())}")
            pending.append((name, fresh))
            continue
        source = sub.arrays[out]
        if source == name:
            continue  # written in place
        with ExitStack() as stack:
            idx = kb.loops(stack, list(out.shape))
            kb.out.line(f"{name}[{', '.join(idx)}] = {source}[{', '.join(idx)}]")
    for name, fresh in pending:
        kb.out.line(f"{name} = {fresh}")


def register(kb: KernelBuilder, node: Node, storage: list[Binding]) -> None:
    """The RESULT nodes of `node` read their storage in the rest of the kernel."""
    for k, (where, name) in enumerate(storage):
        (kb.scalars if where == "scalar" else kb.arrays)[result(node, k)] = name


def emit_branch(kb: KernelBuilder, node: Node, cond: Node, inits: list[Node],
                carried_phs: tuple[Node, ...], bindings: dict[Node, Binding]) -> None:
    """`if cond: <graph> else: <orelse>`: placeholders read the values from before the branch;
    each side writes the carried values into result storage made before the `if`."""
    body = body_of(node)
    results: list[Binding] = []
    read = {n for graph in (body.graph, body.orelse) for n in graph.nodes()}
    in_place: list[Node] = []  # placeholders whose result is written over their init's array
    for ph, init, out in zip(carried_phs, inits, body.graph.outputs, strict=True):
        if ph in read:  # a name both sides bind is not read before (its init is a dummy)
            bindings[ph] = readable(kb, init)
        if ph in read and out.dtype == ph.dtype and _in_place_init(kb, node, init):
            in_place.append(ph)
            results.append(bindings[ph])
            continue
        name = kb.fresh("r")
        if out.ndim == 0:
            results.append(("scalar", name))
        else:
            allocate(kb, name, out)  # the result's type: the sides may widen it
            results.append(("array", name))
    sides = []
    for graph in (body.graph, body.orelse):
        sub = BodyBuilder(graph, kb, owned=tuple(in_place))
        sub.bind(bindings)
        homes = _homes(sub, carried_phs)
        outputs = sub.plan.graph.outputs
        for k, out in enumerate(outputs):
            if out.ndim and k == outputs.index(out):
                if carried_phs[k] in in_place and not homes.get(k):
                    # not written where it is read: into scratch, copied over the init after
                    sub.out_names[k] = kb.fresh("next")
                    allocate(kb, sub.out_names[k], out)
                else:
                    sub.out_names[k] = results[k][1]
        sides.append(sub)
    test = expression(kb, cond)
    for header, sub in zip((f"if {test}:", "else:"), sides, strict=True):
        with kb.out.block(header):
            sub.counter = kb.counter
            sub.emit_all(kb)
            store_next(kb, sub, sub.plan.graph, results)
    register(kb, node, results)
