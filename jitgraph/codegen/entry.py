"""The entry function: plain Python that runs before the kernel.

It reads the arguments' shapes, checks every size condition the graph relies on (these checks
are the kernel's memory safety: the loops have no bounds checks), computes the sizes the kernel
takes as parameters, allocates outputs and buffers with NumPy (faster than allocating inside the
kernel for large arrays) and calls the kernel.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ArgumentIndexError, ArgumentShapeError
from ..ir import dims as D
from ..ir.dims import Dim
from ..ir.node import Check, Graph
from .kernel import SERIAL_MAX, Kernel
from .writer import CodeWriter


def _size_name(d: D.DimExpr) -> str:
    arg, axis, _ = d.args
    return f"s{arg}_{axis}"


def _dim_source(d: Dim) -> str:
    return D.render(d, _size_name)


def check_failed(graph: Graph, check: Check, shapes: list[tuple[int, ...]]) -> Exception:
    """The error for a failed size check: which operation, which sizes, which arguments."""
    a, b = D.evaluate(check.a, shapes), D.evaluate(check.b, shapes)
    involved = {leaf.args[0] for leaf in D.leaves(check.a) + D.leaves(check.b)}
    described = ", ".join(
        f"{graph.args[i].attr('name')!r} has shape {shapes[i]}" for i in sorted(involved)
    )
    fa, fb = D.format_dim(check.a), D.format_dim(check.b)
    if check.kind == "eq" and _is_broadcast_check(check):
        # bcast(d, b) == b: d must be b or 1 (see build._fits_check)
        d = check.a.args[0]
        fd, vd = D.format_dim(d), D.evaluate(d, shapes)
        text = (
            f"{check.what}: size {fd} = {vd} does not broadcast to {fb} = {b} "
            "(it must be equal or 1)"
        )
    elif check.kind == "eq" and check.b == 1:
        text = f"{check.what}: size {fa} = {a} must be 1"
    elif check.kind == "eq":
        text = f"{check.what}: sizes {fa} = {a} and {fb} = {b} must be equal"
    elif check.kind == "divides":
        text = f"{check.what}: cannot reshape array of size {fa} = {a} (not a multiple of {b})"
    elif check.kind == "index":
        text = f"{check.what}: index {a} is out of bounds for axis with size {fb} = {b}"
        return ArgumentIndexError(f"{text} ({described})")
    else:
        text = f"{check.what} ({fa} = {a})"
    return ArgumentShapeError(f"{text} ({described})" if described else text)


def _is_broadcast_check(check: Check) -> bool:
    """`bcast(d, b) == b`: size d broadcasts to b (build._fits_check), worded as such."""
    a = check.a
    return isinstance(a, D.DimExpr) and a.op == "bcast" and a.args[1] == check.b


def _condition(check: Check) -> str:
    a, b = _dim_source(check.a), _dim_source(check.b)
    if check.kind == "eq":
        return f"{a} != {b}"
    if check.kind == "divides":
        return f"{b} == 0 or {a} % {b} != 0"
    if check.kind == "index":
        return f"not (-{b} <= {a} < {b})"
    return f"{a} == 0"


def emit_entry(graph: Graph, kernel: Kernel, name: str = "entry") -> tuple[str, dict[str, Any]]:
    """Source of the entry function and the globals it needs (besides the kernel)."""
    w = CodeWriter()
    env: dict[str, Any] = {"_empty": np.empty, "_check_failed": check_failed, "_graph": graph}
    env.update(D.RENDER_HELPERS)
    params = [f"a{i}" for i in range(len(graph.args))]
    with w.block(f"def {name}({', '.join(params)}):"):
        for i, arg in enumerate(graph.args):
            if arg.ndim:
                names = ", ".join(f"s{i}_{axis}" for axis in range(arg.ndim))
                w.line(f"{names}{',' if arg.ndim == 1 else ''} = a{i}.shape")
        checks = graph.checks()
        for n, check in enumerate(checks):
            env[f"_chk{n}"] = check
            with w.block(f"if {_condition(check)}:"):
                shapes = "[" + ", ".join(f"a{i}.shape" for i in range(len(graph.args))) + "]"
                w.line(f"raise _check_failed(_graph, _chk{n}, {shapes})")
        call_args = []
        for p in kernel.params:
            if p.kind == "arg":
                call_args.append(f"a{p.key}")
            elif p.kind == "dim":
                w.line(f"{p.name} = {_dim_source(p.key)}")
                call_args.append(p.name)
            elif p.kind == "const":
                env[p.name] = p.key.array
                call_args.append(p.name)
            elif p.kind == "slot":
                dt = f"_dt_{p.name}"
                env[dt] = p.key.dtype
                w.line(f"{p.name} = _empty(({_dim_source(p.key.count)},), {dt})")
                call_args.append(p.name)
            elif p.kind == "out" and p.key in kernel.donated:
                w.line(f"{p.name} = a{kernel.donated[p.key]}")  # computed in place
                call_args.append(p.name)
            else:
                node = graph.outputs[p.key] if p.kind == "out" else p.key
                shape = "(" + "".join(f"{_dim_source(d)}, " for d in node.shape) + ")"
                dt = f"_dt_{p.name}"
                env[dt] = node.dtype
                w.line(f"{p.name} = _empty({shape}, {dt})")
                call_args.append(p.name)
        call = ", ".join(call_args)
        if kernel.serial_name:
            small = " and ".join(f"{n} < {SERIAL_MAX}" for n in kernel.small_when)
            with w.block(f"if {small}:  # the same loops without threads: {kernel.serial_name}"):
                w.line(f"_kernel_serial({call})")
            with w.block("else:"):
                w.line(f"_kernel({call})")
        else:
            w.line(f"_kernel({call})")
        outs = []
        seen: set[int] = set()
        for node in graph.outputs:
            first = graph.outputs.index(node)
            outs.append(f"out{first}" if first not in seen else f"out{first}.copy()")
            seen.add(first)
        w.line(f"return ({', '.join(outs)},)" if outs else "return ()")
    return w.source(), env
