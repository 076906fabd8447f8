"""The loop-nest emitter: a partitioned graph becomes the source of one Numba kernel.

Every group of the plan becomes one loop nest; `prange` runs its outermost loop in parallel.
Inside a nest, values are scalar expressions evaluated at an index (a tuple of index
expressions). Views remap the index and read through; nothing is copied. Sizes are kernel
parameters computed by the entry function, so one kernel serves every size.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import CodegenError
from ..ir import dims as D
from ..ir.control import at_lengths
from ..ir.dims import Dim
from ..ir.node import ConstValue, Node
from ..ir.ops import Kind, Op, kind
from ..ir.printer import format_type
from ..ir.shape_env import ShapeEnv
from ..passes.columns import ColumnGroup
from ..passes.memory import plan_buffers
from ..passes.partition import Group, Plan, Stages
from ..passes.pipeline import is_enabled
from ..passes.rows import RowGroup, blas_product, is_filled_vector, space
from . import scalar
from .writer import CodeWriter

Index = tuple[str, ...]

REDUCE_INIT = {Op.SUM: 0, Op.PROD: 1, Op.ANY: False, Op.ALL: True}
FULL_REDUCTION_CHUNKS = 64  # fixed, so results do not depend on the thread count
COLUMN_UNROLL = 4  # rows a column reduction folds per pass over its partial row
COMBINE_BLOCK = 2048  # columns per parallel task combining column partials
# Multiply-adds from which a BLAS-eligible product calls BLAS; smaller ones run as loop nests.
# A loop nest's i-k-j product keeps its row in memory (Numba cannot prove it does not alias
# the operands), so BLAS wins from small sizes on: a 64x128 @ 128x10 product takes 12 us in
# BLAS and 110 us as loops. When BLAS hands work to its own threads, they must be woken (they
# sleep at once: runtime.py), ~20-40 us; OpenBLAS runs products below 262144 multiply-adds on
# the calling thread. Measured MLP SGD steps (784 inputs, 10 classes; jitgraph vs NumPy, ms)
# with this threshold at 4M -> 65536: batch 64, hidden 32: 0.67 -> 0.19 (NumPy 0.08); batch
# 256, hidden 128: 1.36 -> 1.03 (0.69); 1024x32 @ 32x64 layers: 1.36 -> 0.35 (0.28).
BLAS_MIN_WORK = 1 << 16

# Matrix @ matrix products call jitgraph's own GEMM (codegen/gemm.py) unless the environment
# says JITGRAPH_GEMM=0 (then BLAS's np.dot, as products with a vector always do).
USE_GEMM = os.environ.get("JITGRAPH_GEMM", "1") != "0"


@dataclass(frozen=True)
class Param:
    """A kernel parameter, as the entry function must supply it."""

    kind: str  # 'arg' | 'const' | 'out' | 'buffer' | 'dim'
    key: Any  # arg index | ConstValue | output index | Node | Dim
    name: str


@dataclass
class Kernel:
    source: str
    name: str
    params: list[Param]
    buffers: list[Node] = field(default_factory=list)
    # output index -> argument index: the output is returned in the argument's own array (a
    # written argument's final value, computed in place; the entry passes the argument)
    donated: dict[int, int] = field(default_factory=dict)
    # The serial twin (KernelBuilder.build): the same loops without threads, compiled without
    # parallel=True on first use, which the entry calls when every nest's work, one of the
    # `small_when` sizes (kernel parameters), is below SERIAL_MAX.
    serial_source: str = ""
    serial_name: str = ""
    small_when: tuple[str, ...] = ()


def _sanitize(text: str) -> str:
    kept = "".join(c if c.isalnum() and c.isascii() else "_" for c in text)[:24]
    return kept.strip("_") or "x"


class KernelBuilder:
    # Carried arrays of an enclosing loop that this code may overwrite: none at the top level
    # (a loop body's BodyBuilder has its own, codegen/control.py).
    owned: frozenset[Node] | set[Node] = frozenset()
    # Written arguments -> the outputs of their final values (top level only; see __init__).
    donate: dict[Node, Node] = {}  # noqa: RUF012  (never mutated: replaced per builder)

    def __init__(self, plan: Plan, name: str = "kernel", donate: dict[int, int] | None = None):
        """`donate`: output index -> index of the argument whose final value it is (a function
        that writes its argument). Where the plan allows, the output is computed in the
        argument's own array: no copy of it before and no copy back after (`Kernel.donated`)."""
        self.plan = plan
        self.name = name
        self.out = CodeWriter()
        self.params: list[Param] = []
        self.arrays: dict[Node, str] = {}  # nodes readable as arrays in the kernel
        self.scalars: dict[Node, str] = {}  # 0-d values held in kernel locals
        self.dim_names: dict[Dim, str] = {}
        self.counter = 0
        self.outputs = plan.graph.outputs
        self.env = ShapeEnv(plan.graph.checks())
        self.users = plan.graph.users()
        self.donate = self._donation_candidates(donate or {})
        self.memory = plan_buffers(
            plan, self.env, reuse=is_enabled("buffer_reuse"), owned=tuple(self.donate),
            designated=self.donate,
        )
        args = plan.graph.args
        self.donated = {
            self.outputs.index(out): args.index(arg) for arg, out in self.donate.items()
            if arg in self.memory.unread or (
                arg in self.memory.buffers and self.memory.buffers[arg].in_output is out)
        }
        self.slot_names: dict[int, str] = {}
        self.out_names: dict[int, str] = {}
        self.prefix = ""  # of slot names: a loop body's slots are parameters of the same kernel
        # The serial twin (see build): whether this kernel can have one, the one symbolic work
        # of all its nests (known large in the parallel kernel) and the works of its nests
        # that have parallel loops (the entry's choice between the two kernels).
        self.twin = False
        self.large: Dim | None = None
        self.parallel_works: set[str] = set()

    def _donation_candidates(self, donate: dict[int, int]) -> dict[Node, Node]:
        """Written arguments and the outputs holding their final values, where the output has
        the argument's type and is that argument's only output."""
        graph = self.plan.graph
        result = {}
        for k, a in donate.items():
            arg, out = graph.args[a], graph.outputs[k]
            if (arg.ndim and out.dtype == arg.dtype and graph.outputs.count(out) == 1
                    and self.env.shape(out.shape) == self.env.shape(arg.shape)):
                result[arg] = out
        return result

    def donate_to_loop(self, loop: Node, k: int, init: Node) -> str | None:
        """The output array a loop's k-th carried value may live in from the start: when `init`
        is a written argument, the loop its only reader and its final value that output, the
        loop carries it in the argument's own array (no copy in, none out)."""
        out = self.donate.get(init)
        if (
            out is None
            or out.op is not Op.RESULT
            or out.inputs[0] is not loop
            or out.attr("index") != k
            or self.users.get(init) != [loop]
            or loop.inputs.count(init) != 1
            or self.memory.output_home(out) is not None
        ):
            return None
        self.donated[self.outputs.index(out)] = self.plan.graph.args.index(init)
        return self.output_name(out)

    # -- names -------------------------------------------------------------------------------

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    def param(self, kind_: str, key: Any, name: str) -> str:
        self.params.append(Param(kind_, key, name))
        return name

    def dim(self, d: Dim) -> str:
        """Source for a size inside the kernel: a literal, or a parameter the entry computes."""
        d = self.env.canon(d)  # sizes known equal share one parameter
        if isinstance(d, int):
            return str(d)
        if d not in self.dim_names:
            self.dim_names[d] = self.param("dim", d, f"n{len(self.dim_names)}")
        return self.dim_names[d]

    # -- reading values ------------------------------------------------------------------------

    def read(self, node: Node, idx: Index) -> str:
        """Expression for a value that is not computed in the current nest."""
        if node in self.scalars:
            return self.scalars[node]
        if node in self.arrays:
            return f"{self.arrays[node]}[{', '.join(idx)}]" if idx else f"{self.arrays[node]}[()]"
        if node.op is Op.CONST:
            value: ConstValue = node.attr("value")
            if node.ndim == 0:
                return scalar.literal(value.array.item(), node.dtype)
            name = self.param("const", value, self.fresh("c"))
            self.arrays[node] = name
            return self.read(node, idx)
        if node.op is Op.SIZE:
            return self.dim(node.attr("dim"))
        if node.op is Op.INDEX:
            return idx[node.attr("axis")]
        raise CodegenError(f"no storage for {node.op.value} {format_type(node)}")

    def value(self, node: Node, idx: Index, members: set[Node], body: list[str], memo: dict) -> str:
        """Expression for `node` at index `idx` inside a loop body (statements go to `body`)."""
        key = (node, idx)
        if key in memo:
            return memo[key]
        k = kind(node.op)
        if k is Kind.VIEW and (node in members or node not in self.arrays):
            expr = self.value(node.inputs[0], self.view_index(node, idx), members, body, memo)
        elif node in members and k is Kind.ELEMWISE:
            operands = []
            for inp in node.inputs:
                sub = broadcast_index(inp.shape, idx)
                operands.append((self.value(inp, sub, members, body, memo), inp))
            name = self.fresh("t")
            body.append(
                f"{name} = {small_power(node, operands) or scalar.render_op(node, operands)}"
            )
            expr = name
        else:
            expr = self.read(node, idx)
        memo[key] = expr
        return expr

    def view_index(self, node: Node, idx: Index) -> Index:
        src = node.inputs[0]
        if node.op is Op.TRANSPOSE:
            result = [""] * src.ndim
            for out_axis, in_axis in enumerate(node.attr("perm")):
                result[in_axis] = idx[out_axis]
            return tuple(result)
        if node.op is Op.BROADCAST:
            return self.stretch_index(src.shape, node.shape, idx)
        if node.op is Op.GETITEM:
            return self.items_index(node.attr("items"), src.shape, idx)
        if node.op is Op.AT:
            return self.at_index(node, idx)
        raise CodegenError(f"not a view: {node.op.value}")

    def stretch_index(self, shape: tuple[Dim, ...], target: tuple[Dim, ...], idx: Index) -> Index:
        """The index into an operand of `shape` broadcast to `target`, indexed by `idx`. An axis
        of size 1 reads index 0, an axis known equal to its target reads `idx`; an axis that may
        be 1 at run time only (a slice length, dims.can_be_one) is checked to be 1 or equal to
        its target (build.broadcast_to), so `min(i, size - 1)` reads the right element in both
        cases. np.int64: Numba's prange index is unsigned, and min() of mixed signs is float."""
        result = []
        tail = idx[len(idx) - len(shape) :] if shape else ()
        for d, t, i in zip(shape, target[len(target) - len(shape) :], tail):
            d = self.env.canon(d)
            if d == 1:
                result.append("0")
            elif self.env.same(d, t) or not D.can_be_one(d):
                result.append(i)
            else:
                result.append(f"min(np.int64({i}), {self.dim(D.sub(d, 1))})")
        return tuple(result)

    def items_index(self, items: tuple, shape: tuple[Dim, ...], idx: Index) -> Index:
        """The index into an array of `shape` that basic-indexing `items` map `idx` to."""
        result, pos, axis = [], 0, 0
        for item in items:
            if item[0] == "new":
                pos += 1
                continue
            n = shape[axis]
            if item[0] == "int":
                k = item[1]
                result.append(str(k) if k >= 0 else self.dim(D.add(n, k)))
            else:
                _, start, stop, step = item
                first = D.sliced(n, start, stop, step)[1]
                term = idx[pos] if step == 1 else f"{idx[pos]} * {step}"
                result.append(term if first == 0 else f"({self.dim(first)} + {term})")
                pos += 1
            axis += 1
        return tuple(result)

    # -- storage -------------------------------------------------------------------------------

    def prepare_target(self, node: Node) -> str | None:
        """Array that will hold a group's root (None for 0-d values kept in a local). Buffers are
        views of the memory plan's slots, made here, before any loop opens. The root is not
        readable until `register`."""
        buffer = self.memory.buffers.get(node)
        if node in self.outputs:
            return self.output_name(node)
        if node.ndim == 0:
            return None
        if buffer.in_output is not None:
            return self.output_name(buffer.in_output)
        slot = buffer.slot
        if slot not in self.slot_names:
            self.slot_names[slot] = self.param(
                "slot", self.memory.slots[slot], f"{self.prefix}slot{slot}"
            )
        name = self.fresh("buf")
        shape = "(" + "".join(f"{self.dim(d)}, " for d in node.shape) + ")"
        self.out.line(f"{name} = {self.slot_names[slot]}.reshape({shape})")
        return name

    def register(self, node: Node, target: str | None) -> None:
        if target is not None:
            self.arrays[node] = target

    def store_target(self, node: Node) -> str | None:
        """`prepare_target`, readable at once (for roots that are computed, never read)."""
        target = self.prepare_target(node)
        self.register(node, target)
        return target

    def output_name(self, node: Node) -> str:
        index = self.outputs.index(node)
        if index not in self.out_names:
            self.out_names[index] = self.param("out", index, f"out{index}")
        return self.out_names[index]

    def assign(self, target: str | None, node: Node, idx: Index, expr: str) -> None:
        if target is None or not idx:
            local = self.fresh("s")
            self.out.line(f"{local} = {expr}")
            self.scalars[node] = local  # later nests read the local (see hold_0d_arguments)
            if target is not None:
                self.out.line(f"{target}[()] = {local}")
        else:
            self.out.line(f"{target}[{', '.join(idx) if idx else '()'}] = {expr}")

    # -- loop nests ----------------------------------------------------------------------------

    def loops(self, stack: ExitStack, extents: list[Dim], parallel: bool = True) -> Index:
        names = []
        for axis, extent in enumerate(extents):
            var = self.fresh("i")
            loop = "prange" if parallel and axis == 0 else "range"
            stack.enter_context(self.out.block(f"for {var} in {loop}({self.dim(extent)}):"))
            names.append(var)
        return tuple(names)

    def emit_group(self, group: Group | Stages) -> None:
        start = len(self.out.lines)
        self.emit_nest(group)
        if isinstance(group, Stages) or not (
            group.kind is Kind.CONTROL or blas_product(group.root)  # their own choices
        ):
            self.serial_when_small(start, _work(group))

    def serial_when_small(self, start: int, work: Dim) -> None:
        """The loop nest just emitted (lines from `start`) runs serially when its work is below
        SERIAL_MAX elements: a `prange` costs a few microseconds to start its threads, more
        than such a nest takes. The nest is written twice, under `if work < SERIAL_MAX`; a
        size known when compiling picks one version."""
        lines = self.out.lines[start:]
        if not any("prange(" in line for line in lines):
            return
        work = self.env.canon(work)
        if isinstance(work, int):
            if work < SERIAL_MAX:
                self.out.lines[start:] = [line.replace("prange(", "range(") for line in lines]
            else:
                self.twin = False  # always parallel somewhere: a serial twin would never run
            return
        self.parallel_works.add(self.dim(work))
        if work == self.large:
            return  # in this kernel the work is large: small sizes run the serial twin
        indent = "    " * self.out.depth
        self.out.lines[start:] = [
            f"{indent}if {self.dim(work)} < {SERIAL_MAX}:  # serial: no threads to start",
            *("    " + line.replace("prange(", "range(") for line in lines),
            f"{indent}else:",
            *("    " + line for line in lines),
        ]

    def emit_nest(self, group: Group | Stages) -> None:
        if isinstance(group, RowGroup):
            return self.emit_rows(group)
        if isinstance(group, ColumnGroup):
            self.out.comment(
                f"column loop: {len(group.roots)} reductions"
                + f" over [{D.format_shape(self.env.shape(group.space))}], one pass"
            )
            for root in group.roots:
                self.out.comment(f"{root.op.value} -> {format_type(root)}")
            return self.emit_columns(group.roots, set(group.members))
        root = group.root
        self.out.comment(f"{root.op.value} -> {format_type(root)}")
        members = set(group.members)
        k = group.kind
        if k is Kind.ELEMWISE:
            self.emit_elementwise(root, members)
        elif k is Kind.REDUCE:
            self.emit_reduce(root, members)
        elif k is Kind.MATMUL:
            self.emit_matmul(root)
        elif k is Kind.CONCAT:
            self.emit_concat(root, members)
        elif k is Kind.RESHAPE:
            self.emit_reshape(root)
        elif k is Kind.UPDATE:
            self.emit_update(root, members)
        elif k is Kind.CONTROL:
            from .control import emit_control  # loops and branches: nested plans

            emit_control(self, root)
        else:
            raise CodegenError(f"no loop nest for {root.op.value}")

    def emit_elementwise(self, root: Node, members: set[Node]) -> None:
        target = self.prepare_target(root)
        if root.op is Op.RESULT and target is not None and self.arrays.get(root) == target:
            return  # a branch wrote this output in place (codegen/control.py)
        with ExitStack() as stack:
            idx = self.loops(stack, list(root.shape))
            body: list[str] = []
            expr = self.value(root, idx, members, body, {})
            # The target becomes readable only now: a root that is read, not computed (a
            # constant or a view of one, as zeros((2, 3))), would otherwise read its own output.
            self.register(root, target)
            self.out.extend(body)
            self.assign(target, root, idx, expr)

    def emit_reduce(self, root: Node, members: set[Node]) -> None:
        x = root.inputs[0]
        axes = root.attr("axes")
        kept = [a for a in range(x.ndim) if a not in axes]
        op = root.op
        if tuple(axes) == (0,) and kept and op not in (Op.ARGMAX, Op.ARGMIN):
            return self.emit_columns([root], members)
        target = self.store_target(root)
        acc_dt = _accumulator_dtype(root)
        init = scalar.literal(reduce_init(op, acc_dt), acc_dt)
        with ExitStack() as stack:
            if kept:
                outer = self.loops(stack, [x.shape[a] for a in kept])
                chunked = None
            else:
                chunked = self.open_chunks(stack, x, axes, acc_dt, op)
            acc, best_i = self.fresh("acc"), self.fresh("ai")
            self.out.extend(reduce_start(op, acc, best_i, acc_dt))
            with ExitStack() as inner:
                red_axes = list(axes)
                names: dict[int, str] = {}
                for n, a in enumerate(red_axes):
                    var = self.fresh("i")
                    if chunked and n == 0:
                        step = self.fresh("k")
                        inner.enter_context(
                            self.out.block(f"for {step} in range({chunked[1]} - {chunked[0]}):")
                        )
                        self.out.line(f"{var} = {chunked[0]} + {step}")
                    else:
                        header = f"for {var} in range({self.dim(x.shape[a])}):"
                        inner.enter_context(self.out.block(header))
                    names[a] = var
                if kept:
                    names.update(zip(kept, outer))
                full = tuple(names[a] for a in range(x.ndim))
                body: list[str] = []
                v = self.value(x, full, members, body, {})
                self.out.extend(body)
                position = self.flat_position(x, full, axes, root.attr("flat"))
                self.out.extend(combine(op, acc, best_i, v, x.dtype, acc_dt, position))
            self.out.extend(reduce_finish(op, acc, acc_dt))
            if chunked:
                self.close_chunks(stack, chunked, acc, best_i, op)
                stack.close()
                return self.finish_full_reduction(root, target, chunked, acc_dt, init, op)
            result = reduction_result(op, acc, best_i)
            out_idx = tuple(
                outer[kept.index(a)] if a in kept else "0"
                for a in range(x.ndim)
                if a in kept or root.attr("keepdims")
            )
            self.assign(
                target, root, out_idx, scalar.cast(result, _result_dt(op, acc_dt), root.dtype)
            )

    def emit_columns(self, roots: list[Node], members: set[Node]) -> None:
        """Reductions over the leading axis (`X.sum(axis=0)`, a column mean; several over
        arrays of one shape when passes/columns.py merged them): a loop over columns would read
        X down its columns, a stride of a row per element. Instead chunks of rows run in
        parallel, each folding its rows into a row of partial results per reduction (the inner
        loop runs along contiguous rows and vectorizes; values several reductions read are
        computed once per element); the partials are then combined per column, in chunk
        order (results do not depend on the thread count)."""
        x0 = roots[0].inputs[0]
        rest = list(x0.shape[1:])
        n = self.dim(x0.shape[0])
        rest_shape = "".join(f"{self.dim(d)}, " for d in rest)
        nc, c = self.fresh("nc"), self.fresh("c")
        folds = [_ColumnFold(self, root, rest_shape) for root in roots]
        targets = [self.store_target(root) for root in roots]
        self.out.line(f"{nc} = max(1, min({n}, {FULL_REDUCTION_CHUNKS}))")
        for fold in folds:
            self.out.line(f"{fold.parts} = np.empty(({nc}, {rest_shape}), {fold.np_type})")
            if fold.nan:
                self.out.line(f"{fold.flags} = np.zeros(({nc}, {rest_shape}), np.bool_)")
        with self.out.block(f"for {c} in prange({nc}):"):
            lo, hi, i = self.fresh("lo"), self.fresh("hi"), self.fresh("i")
            self.out.line(f"{lo} = max(0, {c} * {n} // {nc})")
            self.out.line(f"{hi} = ({c} + 1) * {n} // {nc}")
            # Each chunk folds into arrays of its own (LLVM then knows nothing else writes
            # them, and the row loop vectorizes: measured 10x faster than folding into `parts`).
            for fold in folds:
                self.out.line(f"{fold.row} = np.empty(({rest_shape}), {fold.np_type})")
                if fold.nan:
                    self.out.line(f"{fold.row_nan} = np.zeros(({rest_shape}), np.bool_)")
            with ExitStack() as stack:
                js = ", ".join(self.inner_loops(stack, tuple(rest)))
                for fold in folds:
                    self.out.line(f"{fold.row}[{js}] = {fold.init}")
            unroll = COLUMN_UNROLL if all(f.op in (Op.SUM, Op.PROD) for f in folds) else 1
            if unroll > 1:
                # Rows `unroll` at a time: each partial is loaded and stored once per
                # `unroll` rows (those loads and stores, not arithmetic, bound this loop:
                # measured 1.8x faster for a float32 variance's three sums).
                self.out.line(f"{i} = {lo}")
                with self.out.block(f"while {i} + {unroll} <= {hi}:"):
                    rows = [i] + [f"{i} + {u}" for u in range(1, unroll)]
                    self.fold_rows(folds, rows, rest, members)
                    self.out.line(f"{i} += {unroll}")
                with self.out.block(f"for {i} in range({i}, {hi}):"):
                    self.fold_rows(folds, [i], rest, members)
            else:
                with self.out.block(f"for {i} in range({lo}, {hi}):"):
                    self.fold_rows(folds, [i], rest, members)
            with ExitStack() as stack:
                js = ", ".join(self.inner_loops(stack, tuple(rest)))
                for fold in folds:
                    self.out.line(f"{fold.parts}[{c}, {js}] = {fold.row}[{js}]")
                    if fold.nan:
                        self.out.line(f"{fold.flags}[{c}, {js}] = {fold.row_nan}[{js}]")
        combined = [(f, t) for f, t in zip(folds, targets) if f.op in (Op.SUM, Op.PROD)]
        stored = self.combine_partial_rows(combined, nc, rest)
        rest_folds = [(f, t) for f, t in zip(folds, targets) if f not in stored]
        if not rest_folds:
            return
        with ExitStack() as stack:
            jv = self.loops(stack, rest)
            js = ", ".join(jv)
            for fold, target in rest_folds:
                op, acc_dt = fold.op, fold.acc_dt
                out_idx = (("0",) if fold.root.attr("keepdims") else ()) + jv
                if op in (Op.SUM, Op.PROD):  # combined in row 0 already
                    result = scalar.cast(f"{fold.parts}[0, {js}]", acc_dt, fold.root.dtype)
                    self.assign(target, fold.root, out_idx, result)
                    continue
                acc, best_i, cc = self.fresh("acc"), self.fresh("ai"), self.fresh("c")
                self.out.extend(reduce_start(op, acc, best_i, acc_dt))
                with self.out.block(f"for {cc} in range({nc}):"):
                    self.out.extend(
                        combine(op, acc, best_i, f"{fold.parts}[{cc}, {js}]", acc_dt, acc_dt, "0")
                    )
                    if fold.nan:
                        self.out.line(f"{acc}_nan = {acc}_nan | {fold.flags}[{cc}, {js}]")
                self.out.extend(reduce_finish(op, acc, acc_dt))
                self.assign(target, fold.root, out_idx,
                            scalar.cast(acc, acc_dt, fold.root.dtype))

    def combine_partial_rows(self, folds: list[tuple[_ColumnFold, str | None]], nc: str,
                             rest: list[Dim]) -> list[_ColumnFold]:
        """Sums and products of column partials: row c added into row 0 for c = 1, 2, ... (the
        chunk order), along contiguous rows in parallel blocks of columns. Reading the
        partials down their columns instead, one column at a time, strides a row per read
        (measured: a quarter of a float32 column variance's time). Each block's results are
        stored in the same loop where the result's array is one the kernel made (a C array,
        read flat): one parallel loop less. Returns the folds stored so."""
        if not folds:
            return []
        width = self.dim(D.product(tuple(rest)))
        blocks, b, lo, hi = self.fresh("nb"), self.fresh("b"), self.fresh("lo"), self.fresh("hi")
        flats = [self.fresh("flat") for _ in folds]
        results: list[str | None] = []
        for (fold, target), flat in zip(folds, flats):
            self.out.line(f"{flat} = {fold.parts}.reshape(({nc}, {width}))")
            own = (type(self) is KernelBuilder and target is not None
                   and fold.root not in self.donate.values())
            results.append(self.fresh("flatout") if own else None)
            if own:
                self.out.line(f"{results[-1]} = {target}.reshape(({width},))")
        self.out.line(f"{blocks} = ({width} + {COMBINE_BLOCK - 1}) // {COMBINE_BLOCK}")
        with self.out.block(f"for {b} in prange({blocks}):"):
            self.out.line(f"{lo} = max(0, {b} * {COMBINE_BLOCK})")
            self.out.line(f"{hi} = min({width}, {lo} + {COMBINE_BLOCK})")
            for (fold, _), flat, result in zip(folds, flats, results):
                dst, src = self.fresh("dst"), self.fresh("src")
                cc, j = self.fresh("c"), self.fresh("j")
                sym = "+" if fold.op is Op.SUM else "*"
                # views indexed from 0: no wraparound checks, the loop vectorizes
                self.out.line(f"{dst} = {flat}[0, {lo}:{hi}]")
                with self.out.block(f"for {cc} in range(1, {nc}):"):
                    self.out.line(f"{src} = {flat}[{cc}, {lo}:{hi}]")
                    with self.out.block(f"for {j} in range({hi} - {lo}):"):
                        self.out.line(f"{dst}[{j}] = {dst}[{j}] {sym} {src}[{j}]")
                if result is not None:
                    out, j = self.fresh("res"), self.fresh("j")
                    self.out.line(f"{out} = {result}[{lo}:{hi}]")
                    with self.out.block(f"for {j} in range({hi} - {lo}):"):
                        value = scalar.cast(f"{dst}[{j}]", fold.acc_dt, fold.root.dtype)
                        self.out.line(f"{out}[{j}] = {value}")
        return [fold for (fold, _), result in zip(folds, results) if result is not None]

    def fold_rows(self, folds: list[_ColumnFold], rows: list[str], rest: list[Dim],
                  members: set[Node]) -> None:
        """Inner loops over a row's elements folding rows `rows` of each fold's input into its
        partial row (a value several folds read is computed once per element)."""
        with ExitStack() as stack:
            jv = self.inner_loops(stack, tuple(rest))
            js = ", ".join(jv)
            body: list[str] = []
            memo: dict = {}  # keyed by index too: one for all rows
            values = [[self.value(f.x, (row, *jv), members, body, memo) for row in rows]
                      for f in folds]
            self.out.extend(body)
            for fold, vs in zip(folds, values):
                slot = f"{fold.row}[{js}]"
                if fold.op in (Op.SUM, Op.PROD):
                    # One statement: the load, add and store LLVM vectorizes (a local in
                    # between, `a = row[j]; a = a + v; row[j] = a`, measured 30x slower).
                    sym = " + " if fold.op is Op.SUM else " * "
                    vs = [scalar.cast(v, fold.x.dtype, fold.acc_dt) for v in vs]
                    folded = vs[0] if len(vs) == 1 else f"({sym.join(vs)})"
                    self.out.line(f"{slot} = {slot}{sym}{folded}")
                else:
                    (v,) = vs  # one row at a time (emit_columns)
                    flag = f"{fold.row_nan}[{js}]" if fold.nan else None
                    self.fold_into(fold.op, slot, flag, v, fold.x.dtype, fold.acc_dt)

    def fold_into(self, op: Op, slot: str, flag: str | None, v: str, v_dt: np.dtype,
                  acc_dt: np.dtype) -> None:
        """`combine` into an array element `slot` (and its NaN flag) through a local."""
        local = self.fresh("a")
        self.out.line(f"{local} = {slot}")
        if flag is not None:
            self.out.line(f"{local}_nan = {flag}")
        self.out.extend(combine(op, local, "", v, v_dt, acc_dt, "0"))
        self.out.line(f"{slot} = {local}")
        if flag is not None:
            self.out.line(f"{flag} = {local}_nan")

    def flat_position(self, x: Node, full: Index, axes: tuple, flat: bool) -> str:
        if not flat:
            return full[axes[0]] if axes else "0"
        position = "0"
        for a in range(x.ndim):
            position = (
                full[a] if position == "0" else f"({position} * {self.dim(x.shape[a])} + {full[a]})"
            )
        return position

    def open_chunks(self, stack: ExitStack, x: Node, axes: tuple, acc_dt: np.dtype, op: Op):
        """A full reduction: per-chunk partials in parallel, combined in order afterwards."""
        if not axes:
            return None
        n = self.dim(x.shape[axes[0]])
        nc, parts, parts_i = self.fresh("nc"), self.fresh("part"), self.fresh("parti")
        self.out.line(f"{nc} = min({n}, {FULL_REDUCTION_CHUNKS})")
        self.out.line(f"{parts} = np.empty({nc}, {scalar.np_type(acc_dt)})")
        if op in (Op.ARGMAX, Op.ARGMIN):
            self.out.line(f"{parts_i} = np.zeros({nc}, np.int64)")
        c = self.fresh("c")
        stack.enter_context(self.out.block(f"for {c} in prange({nc}):"))
        lo, hi = self.fresh("lo"), self.fresh("hi")
        # max(0, ...) tells LLVM the chunk's indices are non-negative, which removes Numba's
        # negative-index wraparound from every read and lets the inner loop vectorize.
        self.out.line(f"{lo} = max(0, {c} * {n} // {nc})")
        self.out.line(f"{hi} = ({c} + 1) * {n} // {nc}")
        return lo, hi, parts, parts_i, c, nc

    def close_chunks(self, stack: ExitStack, chunked, acc: str, best_i: str, op: Op) -> None:
        _, _, parts, parts_i, c, _ = chunked
        self.out.line(f"{parts}[{c}] = {acc}")
        if op in (Op.ARGMAX, Op.ARGMIN):
            self.out.line(f"{parts_i}[{c}] = {best_i}")

    def finish_full_reduction(self, root, target, chunked, acc_dt, init, op) -> None:
        _, _, parts, parts_i, _, nc = chunked
        acc, best_i, c = self.fresh("acc"), self.fresh("ai"), self.fresh("c")
        self.out.extend(reduce_start(op, acc, best_i, acc_dt))
        with self.out.block(f"for {c} in range({nc}):"):
            self.out.extend(
                combine(op, acc, best_i, f"{parts}[{c}]", acc_dt, acc_dt, f"{parts_i}[{c}]")
            )
        self.out.extend(reduce_finish(op, acc, acc_dt))
        result = reduction_result(op, acc, best_i)
        out_idx = ("0",) * root.ndim
        self.assign(target, root, out_idx, scalar.cast(result, _result_dt(op, acc_dt), root.dtype))

    def matmul_row(self, root: Node, outer: Index, target: str) -> None:
        """Row `outer` (batch indices, then i) of a matrix product into `target`, i-k-j order:
        the innermost loop runs along contiguous rows of the output and of b, so it vectorizes."""
        a, b = root.inputs
        dt = root.dtype
        nb = len(outer) - 1
        batch, i = outer[:nb], outer[nb]
        j, kk = self.fresh("j"), self.fresh("k")
        n_extent = self.dim(root.shape[-1])
        out_row = f"{target}[{', '.join(batch + (i, j))}]"
        with self.out.block(f"for {j} in range({n_extent}):"):
            self.out.line(f"{out_row} = {scalar.literal(0, dt)}")
        with self.out.block(f"for {kk} in range({self.dim(a.shape[-1])}):"):
            body: list[str] = []
            av = self.value(a, broadcast_index(a.shape[:-2], batch) + (i, kk), set(), body, {})
            self.out.extend(body)
            aval = self.fresh("av")
            self.out.line(f"{aval} = {scalar.cast(av, a.dtype, dt)}")
            with self.out.block(f"for {j} in range({n_extent}):"):
                body = []
                bv = self.value(b, broadcast_index(b.shape[:-2], batch) + (kk, j), set(), body, {})
                self.out.extend(body)
                self.out.line(f"{out_row} = {mac(out_row, aval, scalar.cast(bv, b.dtype, dt), dt)}")

    def emit_matmul(self, root: Node) -> None:
        target = self.store_target(root)
        if not blas_product(root):
            return self.emit_matmul_loops(root, target)
        work = self.blas_work(root)
        if isinstance(work, int) or BLAS_MIN_WORK <= 0:  # the path is known: emit only it
            if BLAS_MIN_WORK <= 0 or work >= BLAS_MIN_WORK:
                return self.emit_blas(root, target)
            return self.emit_matmul_loops(root, target)
        with self.out.block(f"if {work} >= {BLAS_MIN_WORK}:"):
            self.emit_blas(root, target)
        with self.out.block("else:"):
            self.emit_matmul_loops(root, target)

    def blas_work(self, root: Node) -> int | str:
        """Multiply-adds of a BLAS-eligible product: an int when every size is known, else an
        expression of the kernel's size parameters."""
        a, b = root.inputs
        sizes = [a.shape[-2]] if a.ndim == 2 else []
        sizes += [a.shape[-1]] + ([b.shape[-1]] if b.ndim == 2 else [])
        sizes = [self.env.canon(d) for d in sizes]
        if all(isinstance(d, int) for d in sizes):
            return int(np.prod(sizes))
        return " * ".join(self.dim(d) for d in sizes)

    def emit_matmul_loops(self, root: Node, target: str | None) -> None:
        """A product as loop nests: rows in parallel, each row in i-k-j order (matmul_row), or
        one parallel loop over the result's elements when an operand is a vector."""
        a, b = root.inputs
        dt = root.dtype
        nb = root.ndim - (a.ndim >= 2) - (b.ndim >= 2)
        m_axis = [a.shape[-2]] if a.ndim >= 2 else []
        k_extent = self.dim(a.shape[-1])
        members: set[Node] = set()
        with ExitStack() as stack:
            if a.ndim >= 2 and b.ndim >= 2 and target is not None:
                outer = self.loops(stack, list(root.shape[:nb]) + m_axis)
                self.matmul_row(root, outer, target)
                return
            outer = self.loops(stack, list(root.shape))
            batch = outer[:nb]
            i = outer[nb : nb + 1] if a.ndim >= 2 else ()
            j = outer[nb + len(i) :] if b.ndim >= 2 else ()
            acc, kk = self.fresh("acc"), self.fresh("k")
            self.out.line(f"{acc} = {scalar.literal(0, dt)}")
            with self.out.block(f"for {kk} in range({k_extent}):"):
                body = []
                a_idx = broadcast_index(a.shape[:-2], batch) + i + (kk,) if a.ndim >= 2 else (kk,)
                b_idx = broadcast_index(b.shape[:-2], batch) + (kk,) + j if b.ndim >= 2 else (kk,)
                av = scalar.cast(self.value(a, a_idx, members, body, {}), a.dtype, dt)
                bv = scalar.cast(self.value(b, b_idx, members, body, {}), b.dtype, dt)
                self.out.extend(body)
                self.out.line(f"{acc} = {mac(acc, av, bv, dt)}")
            self.assign(target, root, outer, acc)

    def emit_blas(self, root: Node, target: str) -> None:
        """One library call for the whole product, outside any parallel loop. A matrix @ matrix
        product with at least one register tile of rows (gemm.tile) calls jitgraph's own GEMM
        (codegen/gemm.py: runs on Numba's threads, reads operands of any strides; a product
        with few columns, as the 10 classes of an MLP, pads them to a tile and still matched
        BLAS: 2048x512 @ 512x10 0.17 vs 0.18 ms, and no BLAS threads to wake: MLP step 7.3 vs
        7.9 ms); fewer rows and products with a vector call BLAS (np.dot runs its own threads).
        The target is C-contiguous (a fresh output or a slot), as np.dot's `out` must be;
        operands are arrays or views of them. Both fill the target with zeros when the
        contracted size is 0 and do nothing when the result is empty."""
        a, b = root.inputs
        if a.ndim == 2 and b.ndim == 2 and USE_GEMM:
            from .gemm import tile

            rows = tile(root.dtype.itemsize)[0]
            m = self.env.canon(root.shape[0])
            if isinstance(m, int):
                if m >= rows:
                    return self.emit_gemm(root, target)
            else:
                with self.out.block(f"if {self.dim(m)} >= {rows}:"):
                    self.emit_gemm(root, target)
                with self.out.block("else:"):
                    self.emit_dot(root, target)
                return
        self.emit_dot(root, target)

    def emit_gemm(self, root: Node, target: str) -> None:
        """`_gemm_<dtype>(a, b, out)`, each as a view typed with any layout (`x[:, :]` in
        Numba), so that one compiled GEMM per dtype serves C, Fortran and strided operands
        alike. The name says which C entry the kernel links to (runtime.build registers it)."""
        a, b = (self.blas_array(x, contiguous=False) for x in root.inputs)
        self.out.line(f"_gemm_{root.dtype.name}({a}[:, :], {b}[:, :], {target}[:, :])")

    def emit_dot(self, root: Node, target: str) -> None:
        a, b = root.inputs
        self.out.line(f"np.dot({self.blas_array(a)}, {self.blas_array(b)}, {target})")

    def blas_array(self, node: Node, contiguous: bool = True) -> str:
        """An array expression for a BLAS operand (see rows.blas_operand). A transpose is the
        array's `.T`: a Fortran-order view BLAS reads with its transpose flag, no copy. Basic
        indexing is the same indexing in Numba, through np.ascontiguousarray: Numba types any
        slice as possibly strided ('A' layout), and its np.dot copies such an operand with a
        performance warning; ascontiguousarray checks at run time and copies only a view that
        really is strided (`x[1:]` of a C array is passed as it is). With contiguous=False (for
        jitgraph's GEMM, which packs strided operands as fast as contiguous ones) a slice is
        passed as the view it is."""
        if node in self.arrays:  # stored already (a view that is also an output, say)
            return self.arrays[node]
        if is_filled_vector(node):  # a few elements, allocated per call
            value = scalar.literal(node.inputs[0].attr("value").array.item(), node.dtype)
            return f"np.full(({self.dim(node.shape[0])},), {value})"
        if node.op is Op.TRANSPOSE:
            return f"{self.blas_array(node.inputs[0], contiguous)}.T"
        if node.op is Op.GETITEM:
            items = ", ".join(map(slice_source, node.attr("items")))
            view = f"{self.blas_array(node.inputs[0], contiguous)}[{items}]"
            return f"np.ascontiguousarray({view})" if contiguous else view
        self.read(node, ())  # registers a constant's array parameter
        return self.arrays[node]

    def emit_concat(self, root: Node, members: set[Node]) -> None:
        axis = root.attr("axis")
        target = self.store_target(root)
        offset: Dim = 0
        for part in root.inputs:
            with ExitStack() as stack:
                idx = self.loops(stack, list(part.shape))
                body: list[str] = []
                expr = self.value(part, idx, members, body, {})
                self.out.extend(body)
                shifted = list(idx)
                if offset != 0:
                    shifted[axis] = f"({self.dim(offset)} + {idx[axis]})"
                self.assign(target, root, tuple(shifted), scalar.cast(expr, part.dtype, root.dtype))
            offset = D.add(offset, part.shape[axis])

    def emit_rows(self, rows: RowGroup) -> None:
        """One parallel loop over the outer axes; each part runs as inner loops per row. Row
        results stay in locals, stashed rows live in their holder's row (see passes/rows.py)."""
        self.out.comment(
            "row loop: "
            + ", ".join(f"{p.root.op.value}" for p in rows.parts)
            + f" over [{D.format_shape(self.env.shape(rows.outer))}]"
        )
        targets: dict[Node, str | None] = {}
        for part in rows.parts:  # storage views are made once, before the loop
            root = part.root
            if root not in rows.row_locals and root not in rows.stash:
                targets[root] = self.store_target(root)
        for value, holder in rows.stash.items():
            self.arrays[value] = targets[holder]
        with ExitStack() as stack:
            outer = self.loops(stack, list(rows.outer))
            parts = list(rows.parts)
            while parts:
                part = parts.pop(0)
                self.out.comment(f"{part.root.op.value} -> {format_type(part.root)}")
                if part.kind is Kind.REDUCE:
                    self.emit_row_reduce(part, outer, targets.get(part.root))
                elif part.kind is Kind.MATMUL:
                    self.matmul_row(part.root, outer, self.arrays[part.root])
                elif parts and self.reduces_right_after(part, parts[0], len(outer)):
                    reduction = parts.pop(0)
                    self.out.comment(f"and {reduction.root.op.value} of it, in the same loop")
                    self.emit_row_elementwise(part, outer, rows, reduction, targets)
                else:
                    self.emit_row_elementwise(part, outer, rows)

    def reduces_right_after(self, part: Group, after: Group, depth: int) -> bool:
        """Is `after` a reduction of exactly `part`'s value over the same inner axes? Then both
        run in one inner loop (softmax: store each exponential and add it to the row sum)."""
        return (
            after.kind is Kind.REDUCE
            and after.root.inputs[0] is part.root
            and self.env.shape(part.root.shape[depth:])
            == self.env.shape(after.root.inputs[0].shape[depth:])
        )

    def inner_loops(self, stack: ExitStack, extents: tuple[Dim, ...]) -> Index:
        """Serial loops over `extents`; an extent known to be 1 needs no loop (index 0)."""
        names = []
        for extent in extents:
            if extent == 1:
                names.append("0")
                continue
            var = self.fresh("j")
            stack.enter_context(self.out.block(f"for {var} in range({self.dim(extent)}):"))
            names.append(var)
        return tuple(names)

    def emit_row_elementwise(
        self,
        part: Group,
        outer: Index,
        rows: RowGroup,
        reduction: Group | None = None,
        targets: dict | None = None,
    ) -> None:
        """One elementwise stage of a row loop; with `reduction`, also that reduction of the
        stage's value, accumulated in the same inner loop."""
        root = part.root
        if reduction is not None:
            red, acc_dt = reduction.root, _accumulator_dtype(reduction.root)
            acc, best_i = self.fresh("acc"), self.fresh("ai")
            self.out.extend(reduce_start(red.op, acc, best_i, acc_dt))
        with ExitStack() as stack:
            idx = outer + self.inner_loops(stack, root.shape[len(outer) :])
            body: list[str] = []
            expr = self.value(root, idx, set(part.members), body, {})
            self.out.extend(body)
            if root in rows.row_locals:
                local = self.fresh("r")
                self.out.line(f"{local} = {expr}")
                self.scalars[root] = local
            else:
                self.out.line(f"{self.arrays[root]}[{', '.join(idx)}] = {expr}")
            if reduction is not None:
                position = self.flat_position(root, idx, red.attr("axes"), False)
                self.out.extend(combine(red.op, acc, best_i, expr, root.dtype, acc_dt, position))
        if reduction is not None:
            self.out.extend(reduce_finish(red.op, acc, acc_dt))
            self.finish_row_reduction(reduction, outer, targets.get(red), acc, best_i, acc_dt)

    def finish_row_reduction(
        self, part: Group, outer: Index, target: str | None, acc: str, best_i: str, acc_dt
    ) -> None:
        """Store a row reduction's result: a register value, or its row of the target."""
        root, op = part.root, part.root.op
        result = reduction_result(op, acc, best_i)
        expr = scalar.cast(result, _result_dt(op, acc_dt), root.dtype)
        if target is None:
            local = self.fresh("r")
            self.out.line(f"{local} = {expr}")
            self.scalars[root] = local
        else:
            out_idx = outer + ("0",) * (root.ndim - len(outer))
            self.out.line(f"{target}[{', '.join(out_idx)}] = {expr}")

    def emit_row_reduce(self, part: Group, outer: Index, target: str | None) -> None:
        root, op = part.root, part.root.op
        x = root.inputs[0]
        acc_dt = _accumulator_dtype(root)
        acc, best_i = self.fresh("acc"), self.fresh("ai")
        self.out.extend(reduce_start(op, acc, best_i, acc_dt))
        with ExitStack() as stack:
            full = outer + self.inner_loops(stack, x.shape[len(outer) :])
            body: list[str] = []
            v = self.value(x, full, set(part.members), body, {})
            self.out.extend(body)
            position = self.flat_position(x, full, root.attr("axes"), False)
            self.out.extend(combine(op, acc, best_i, v, x.dtype, acc_dt, position))
        self.out.extend(reduce_finish(op, acc, acc_dt))
        self.finish_row_reduction(part, outer, target, acc, best_i, acc_dt)

    def emit_update(self, root: Node, members: set[Node]) -> None:
        """`base` with `base[key] = value`: copy the base (unless the plan puts the result in the
        base's own storage), then write the region, computing the value inside that loop."""
        base, placed = root.inputs[:2]
        if root.op is Op.SETITEM and all(
            item == ("slice", None, None, 1) for item in root.attr("items")
        ):
            # The region is the whole array (`x[...] = v`, `x[:] = v`, any 0-d update): the
            # result is the value alone, written once (a 0-d result may live in a local).
            target = self.prepare_target(root)
            with ExitStack() as stack:
                idx = self.loops(stack, list(root.shape))
                body: list[str] = []
                expr = self.value(placed, idx, members, body, {})
                self.out.extend(body)
                self.register(root, target)
                self.assign(target, root, idx, expr)
            return
        buffer = self.memory.buffers.get(root)
        in_place = (buffer is not None and buffer.inplace_of is base) or self.memory.output_home(
            root
        ) is base
        if in_place:
            target = self.store_target(root)
        else:
            target = self.prepare_target(root)
            with ExitStack() as stack:
                idx = self.loops(stack, list(root.shape))
                body: list[str] = []
                expr = self.value(base, idx, members, body, {})
                self.out.extend(body)
                self.register(root, target)
                self.assign(target, root, idx, expr)
        with ExitStack() as stack:
            region = self.loops(stack, list(placed.shape))
            body = []
            expr = self.value(placed, region, members, body, {})
            self.out.extend(body)
            self.out.line(
                f"{target}[{', '.join(self.region_index(root, region)) or '()'}] = {expr}"
            )

    def region_index(self, root: Node, region: Index) -> Index:
        """Where element `region` of an update's region lands in the updated array."""
        if root.op is Op.PUT:
            return self.at_index(root, region)
        return self.items_index(root.attr("items"), root.inputs[0].shape, region)

    def at_index(self, node: Node, idx: Index) -> Index:
        """AT / PUT: the runtime indices (wrapped scalars, held in locals) at their axes, `idx`
        on the other axes."""
        first = 1 if node.op is Op.AT else 2
        runtime = dict(zip(node.attr("axes"), node.inputs[first:], strict=True))
        windows = dict(zip(node.attr("axes"), at_lengths(node), strict=True))
        rest = iter(idx)
        result = []
        for axis in range(node.inputs[0].ndim):
            if axis not in runtime:
                result.append(next(rest))
            elif windows[axis] is None:
                result.append(self.read(runtime[axis], ()))
            else:  # a window x[i:i+k]: its start plus the index within it
                result.append(f"({self.read(runtime[axis], ())} + {next(rest)})")
        return tuple(result)

    def emit_reshape(self, root: Node) -> None:
        src = root.inputs[0]
        shape = "(" + "".join(f"{self.dim(d)}, " for d in root.shape) + ")"
        view = self.fresh("v")
        if src.ndim == 0:  # a local, a literal or a 0-d array: one element, any shape of size 1
            self.out.line(f"{view} = np.full({shape}, {self.read(src, ())})")
        else:
            self.read(src, ())  # registers constants
            self.out.line(f"{view} = np.ascontiguousarray({self.arrays[src]}).reshape({shape})")
        if root in self.outputs:
            self.arrays[root] = view
            saved = self.arrays.pop(root)
            target = self.store_target(root)
            with ExitStack() as stack:
                idx = self.loops(stack, list(root.shape))
                self.out.line(
                    f"{target}[{', '.join(idx) or '()'}] = {saved}[{', '.join(idx) or '()'}]"
                )
        else:
            self.arrays[root] = view

    # -- the kernel ----------------------------------------------------------------------------

    def hold_0d_arguments(self, graph) -> None:
        """Read 0-d arguments into locals once: inside a prange body Numba's parfor lowering
        passes a 0-d array to the gufunc as a scalar, where `a[()]` does not type."""
        for arg in graph.args:
            if arg.ndim == 0:
                local = self.fresh("s")
                self.out.line(f"{local} = {self.arrays[arg]}[()]")
                self.scalars[arg] = local

    def build(self) -> Kernel:
        graph = self.plan.graph
        for i, arg in enumerate(graph.args):
            name = self.param("arg", i, f"a{i}_{_sanitize(arg.attr('name'))}")
            self.arrays[arg] = name
        body_start = len(self.out.lines)
        self.out.depth = 1
        self.hold_0d_arguments(graph)
        self.plan_twin()
        for group in self.plan.groups:
            self.emit_group(group)
        self.out.line("return 0")
        body = self.out.lines[body_start:]
        # A kernel without parallel loops (scalar loops, tiny graphs) compiles serial: Numba
        # would warn that parallel=True found nothing to parallelize.
        parallel = any("prange(" in line for line in body)
        source = self.function(self.name, body, parallel)
        buffers = [p.key for p in self.params if p.kind == "buffer"]
        kernel = Kernel(source, self.name, self.params, buffers, dict(self.donated))
        if parallel and self.twin and self.parallel_works:
            kernel.serial_name = f"{self.name}_serial"
            serial = [line.replace("prange(", "range(") for line in body]
            kernel.serial_source = self.function(kernel.serial_name, serial, False)
            kernel.small_when = tuple(sorted(self.parallel_works))
        return kernel

    def plan_twin(self) -> None:
        """A kernel whose nests all have one symbolic work (the elements of `a*b + c*d`, of a
        GELU) gets a serial twin, and its own nests then need no serial copy under an `if`:
        Numba compiles half the loops on the first call (measured: ~50 ms of ~650 for
        `a*b + c*d`), and small arrays run the twin, which is compiled only when they come.
        Loops and branches (their nests plan their own copies) and products (a GEMM runs on
        Numba's threads, which a serial kernel must not be the first to start) keep the
        copies and have no twin."""
        groups = self.plan.groups
        if any(
            isinstance(g, Group) and (g.kind is Kind.CONTROL or blas_product(g.root))
            for g in groups
        ):
            return
        works = {self.env.canon(_work(g)) for g in groups}
        symbolic = {w for w in works if not isinstance(w, int)}
        self.twin = not any(isinstance(w, int) and w >= SERIAL_MAX for w in works)
        if self.twin and len(symbolic) == 1:
            (self.large,) = symbolic

    def function(self, name: str, body: list[str], parallel: bool) -> str:
        header = CodeWriter()
        flags = "parallel=True, " if parallel else ""
        header.line(f"@njit({flags}error_model='numpy', fastmath=FASTMATH)")
        header.line(f"def {name}({', '.join(p.name for p in self.params)}):")
        header.depth = 1
        for p in self.params:
            if p.kind == "arg":
                header.comment(f"{p.name}: argument {self.plan.graph.args[p.key].attr('name')!r}")
        return "\n".join(header.lines + body) + "\n"


class _ColumnFold:
    """Names and types of one reduction in emit_columns."""

    def __init__(self, builder: KernelBuilder, root: Node, rest_shape: str):
        self.root, self.op, self.x = root, root.op, root.inputs[0]
        self.acc_dt = _accumulator_dtype(root)
        self.np_type = scalar.np_type(self.acc_dt)
        self.init = scalar.literal(reduce_init(self.op, self.acc_dt), self.acc_dt)
        self.nan = _tracks_nan(self.op, self.acc_dt)
        self.parts, self.row = builder.fresh("part"), builder.fresh("rowacc")
        self.flags = builder.fresh("partnan") if self.nan else None
        self.row_nan = builder.fresh("rownan") if self.nan else None


# Below this many elements of work a loop nest runs serially (measured on this project's
# 2-core machine: a prange of a multiply-add costs ~3 us to start and is slower than a serial
# loop up to about 16-32k elements; benchmarks/dispatch.py).
SERIAL_MAX = 32768


def _work(group: Group | Stages) -> Dim:
    """Elements a loop nest visits (a product: its multiply-adds)."""
    if isinstance(group, RowGroup):
        return D.product(space(group.parts[0]))
    if isinstance(group, ColumnGroup):
        return D.product(group.space)
    root = group.root
    if group.kind is Kind.MATMUL:
        return D.product((*root.shape, root.inputs[0].shape[-1]))
    if group.kind is Kind.REDUCE:
        return D.product(root.inputs[0].shape)
    if group.kind is Kind.UPDATE:  # the region (a copy of the base, if any, is extra)
        return D.product(root.inputs[1].shape)
    return D.product(root.shape)


def small_power(node: Node, operands: list[tuple[str, Node]]) -> str | None:
    """x**3 and x**4 of floats as products: a libm pow call per element costs more than the
    whole loop otherwise, and the product is within an ulp of pow (NumPy calls pow here)."""
    if node.op is not Op.POW or node.dtype.kind != "f":
        return None
    (base, base_node), (_, exponent) = operands
    if exponent.op is not Op.CONST or exponent.ndim != 0:
        return None
    k = exponent.attr("value").array.item()
    if k not in (3, 4) or isinstance(k, bool):
        return None
    x = scalar.cast(base, base_node.dtype, node.dtype)
    square = f"({x} * {x})"
    product = f"({square} * {x})" if k == 3 else f"({square} * {square})"
    return f"{scalar.np_type(node.dtype)}{product}"


def broadcast_index(shape: tuple[Dim, ...], idx: Index) -> Index:
    """The index into an operand of `shape` broadcast against a value indexed by `idx`."""
    tail = idx[len(idx) - len(shape) :] if shape else ()
    return tuple("0" if d == 1 else i for d, i in zip(shape, tail))


def reduce_init(op: Op, dt: np.dtype) -> Any:
    if op in REDUCE_INIT:
        return REDUCE_INIT[op]
    lowest = op in (Op.MAX, Op.ARGMAX)
    if dt.kind == "f":
        return -np.inf if lowest else np.inf
    if dt.kind == "b":
        return not lowest
    info = np.iinfo(dt)
    return info.min if lowest else info.max


def _accumulator_dtype(root: Node) -> np.dtype:
    if root.op in (Op.ANY, Op.ALL):
        return np.dtype(bool)
    return root.inputs[0].dtype if root.op in (Op.ARGMAX, Op.ARGMIN) else root.dtype


def _result_dt(op: Op, acc_dt: np.dtype) -> np.dtype:
    return np.dtype(np.int64) if op in (Op.ARGMAX, Op.ARGMIN) else acc_dt


def _tracks_nan(op: Op, acc_dt: np.dtype) -> bool:
    return op in (Op.MAX, Op.MIN) and acc_dt.kind == "f"


def reduce_start(op: Op, acc: str, best_i: str, acc_dt: np.dtype) -> list[str]:
    """Statements that start an accumulation (see `combine` and `reduce_finish`)."""
    lines = [f"{acc} = {scalar.literal(reduce_init(op, acc_dt), acc_dt)}"]
    if op in (Op.ARGMAX, Op.ARGMIN):
        lines.append(f"{best_i} = 0")
    if _tracks_nan(op, acc_dt):
        lines.append(f"{acc}_nan = False")
    return lines


def reduction_result(op: Op, acc: str, best_i: str) -> str:
    """The value a finished accumulation gives: the accumulator, or the index for arg*
    (an int64 also in the python backend, where a start of `0` is a Python int)."""
    return f"np.int64({best_i})" if op in (Op.ARGMAX, Op.ARGMIN) else acc


def reduce_finish(op: Op, acc: str, acc_dt: np.dtype) -> list[str]:
    """A float max/min that met a NaN is NaN."""
    if not _tracks_nan(op, acc_dt):
        return []
    return [f"{acc} = {scalar.literal(float('nan'), acc_dt)} if {acc}_nan else {acc}"]


def combine(
    op: Op, acc: str, best_i: str, v: str, v_dt: np.dtype, acc_dt: np.dtype, position: str
) -> list[str]:
    """Statements folding value `v` into the accumulator (NumPy's NaN rules for max/min/arg*)."""
    if op in (Op.SUM, Op.PROD):
        sym = "+" if op is Op.SUM else "*"
        # NumPy's sum and prod of bools are ints, so the accumulator is never bool here.
        return [f"{acc} = {scalar.np_type(acc_dt)}({acc} {sym} {scalar.cast(v, v_dt, acc_dt)})"]
    if op is Op.ANY:
        return [f"{acc} = {acc} or {scalar.cast(v, v_dt, acc_dt)}"]
    if op is Op.ALL:
        return [f"{acc} = {acc} and {scalar.cast(v, v_dt, acc_dt)}"]
    better = ">" if op in (Op.MAX, Op.ARGMAX) else "<"
    nan = v_dt.kind == "f"
    if op in (Op.MAX, Op.MIN) and nan:
        fn = "_fmax" if op is Op.MAX else "_fmin"
        return [f"{acc} = {fn}({acc}, {v})", f"{acc}_nan = {acc}_nan | ({v} != {v})"]
    if op in (Op.MAX, Op.MIN):
        return [f"if {v} {better} {acc}:", f"    {acc} = {v}"]
    cond = f"{v} {better} {acc}" + (f" or ({v} != {v} and {acc} == {acc})" if nan else "")
    return [f"if {cond}:", f"    {acc} = {v}", f"    {best_i} = {position}"]


def slice_source(item: tuple) -> str:
    """A GETITEM item (an integer or a forward slice) as Python indexing source."""
    if item[0] == "int":
        return str(item[1])
    _, start, stop, step = item
    bounds = f"{'' if start is None else start}:{'' if stop is None else stop}"
    return bounds if step == 1 else f"{bounds}:{step}"


def mac(acc: str, a: str, b: str, dt: np.dtype) -> str:
    """acc + a * b in dtype dt (or/and for bool, as NumPy's bool matmul)."""
    if dt.kind == "b":
        return f"({acc} or ({a} and {b}))"
    return f"{scalar.np_type(dt)}({acc} + {a} * {b})"


def emit_kernel(plan: Plan, name: str = "kernel", donate: dict[int, int] | None = None) -> Kernel:
    return KernelBuilder(plan, name, donate).build()
