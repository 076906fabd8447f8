"""Matrix products in jitgraph's own compiled code: a packed, register-blocked GEMM.

Generated kernels call it as `_gemm_float32(a, b, out)` / `_gemm_float64` (`checked`, below)
for float32/float64 matrix @ matrix products large enough to leave loop nests
(kernel.BLAS_MIN_WORK) with at least MR rows. It is Goto's scheme, the one BLAS libraries use:

- B is packed once per call into column panels of NR columns (`Bp[panel, k, 0:NR]`, the last
  panel zero-padded), so the innermost loop reads it with unit stride whatever its layout (a
  transposed operand is packed from its strided view, never copied first). A C- or
  Fortran-contiguous A is read in place: per k the micro-kernel broadcasts one element from
  each of MR rows (MR streams the prefetcher follows; packing it cost ~0.45 of 3.8 ms on
  2048x784 @ 784x512). A strided A, and the last rows when fewer than MR, are packed per
  block of MC rows x KC depth into zero-padded row panels (`Ap[panel, k, 0:MR]`).
- The micro-kernel (`_micro`) keeps an MR x NR tile of C in registers across the KC depth:
  per k, NR/VL vector loads of B, MR broadcasts of A and MR*NR/VL fused multiply-adds. It is
  LLVM IR written here with explicit vector types, so it is vectorized whatever LLVM's
  vectorizers decide (Numba turns LLVM's SLP vectorizer off, numba#8705, which a scalar
  formulation would need) and compiles in milliseconds.
- One B panel (KC x NR) stays in L1 while the micro-kernel sweeps a block of A (MC x KC, in
  L2). Rows (and, for few rows, column panels) are split into tasks run by Numba's threads
  (prange), four tasks a thread so that a descheduled thread does not hold the others up.

Tiles follow the machine's vectors: with AVX-512, 8 x 32 float32 (8 x 16 float64): 16
accumulator registers of the 32; with AVX2, 6 x 16 (6 x 8): 12 of 16. Results agree with
NumPy's product to rounding (fused multiply-adds, summation in k order within each KC block);
NaN and inf propagate as in any sum of products.

Compared with calling OpenBLAS through np.dot: no thread pool of its own to wake or spin (the
products run on the same threads as the kernel's loops), and on this project's machine (whose
environment sets OPENBLAS_CORETYPE=Haswell: AVX2 kernels on an AVX-512 CPU) 2048x784 @ 784x512
float32 takes 3.4 ms against 7.0 (Numba's np.dot) and JAX's 3.4 at best (benchmarks/RESULTS.md:
relu(x@W+b), the MLP step; docs/experiments/gemm: the scalar-source prototype it replaced).

Packing B's column panels is packing B.T's row panels: a Fortran-order B is packed by
_pack_a_rows on B.T. A C-order B has loops of its own (_pack_b_rows): through _pack_a_columns
on B.T it measured 10-15% slower on deep products (784x2048 @ 2048x512).

Every copy loop runs over a view with an index counting from 0: Numba checks each signed
index for wraparound (a negative index counts from the end), and with a computed index
(`B[k, j0 + j]`) LLVM cannot drop the check and does not vectorize. Through views the packing
got 2-3x faster (784x2048 @ 2048x512 with a transposed A: 6.6 -> 4.4 ms; 2048x784 @ 784x512:
4.9 -> 4.1; 256x784 @ 784x128: 0.31 -> 0.20, interleaved in one process).
"""

from __future__ import annotations

import llvmlite.binding as llvm
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic

_FEATURES = llvm.get_host_cpu_features()
AVX512 = bool(_FEATURES.get("avx512f", False))
VECTOR_BYTES = 64 if AVX512 else 32
MR = 8 if AVX512 else 6  # rows of a register tile
KC = 256  # depth of a packed block: one B panel (KC x NR) fills ~32 KB of L1
MC = 16 * MR  # rows of a packed A block (MC x KC: 128-256 KB, in L2)
TASKS_PER_THREAD = 4
SERIAL_WORK = 1 << 21  # multiply-adds below which one thread does it all (no thread launch)


def tile(itemsize: int) -> tuple[int, int, int]:
    """(MR, NR, VL): a register tile of MR x NR elements of `itemsize` bytes, NR = 2 vectors of
    VL elements."""
    lanes = VECTOR_BYTES // itemsize
    return MR, 2 * lanes, lanes


def _float_dtype(ty) -> bool:
    return isinstance(ty, types.Array) and ty.dtype in (types.float32, types.float64)


@intrinsic
def _tile(typingctx, c):
    """(MR, NR) for c's dtype, as constants LLVM can unroll and fold with."""
    if not _float_dtype(c):
        return None
    mr, nr, _ = tile(c.dtype.bitwidth // 8)
    sig = types.UniTuple(types.intp, 2)(c)

    def codegen(context, builder, sig, args):
        items = [context.get_constant(types.intp, mr), context.get_constant(types.intp, nr)]
        return context.make_tuple(builder, sig.return_type, items)

    return sig, codegen


@intrinsic
def _micro(typingctx, ap, a0, ai, ak, bp, b0, kc, c, c0, ldc, accumulate):
    """C[c0 + i*ldc + j] (+)= sum over k < kc of A[a0 + i*ai + k*ak] * Bp[b0 + k*NR + j] for
    the MR x NR tile, A a packed panel (ai = 1, ak = MR) or a contiguous operand read in place;
    `accumulate` adds to C instead of storing. C's columns are contiguous."""
    arrays = (ap, bp, c)
    if not all(_float_dtype(t) for t in arrays) or len({t.dtype for t in arrays}) != 1:
        return None
    if not all(isinstance(t, types.Integer) for t in (a0, ai, ak, b0, kc, c0, ldc)):
        return None
    if accumulate != types.boolean:
        return None
    itemsize = c.dtype.bitwidth // 8
    mr, nr, lanes = tile(itemsize)
    nv = nr // lanes
    sig = types.void(ap, a0, ai, ak, bp, b0, kc, c, c0, ldc, accumulate)

    def codegen(context, builder, sig, args):
        ap_v, a0_v, ai_v, ak_v, bp_v, b0_v, kc_v, c_v, c0_v, ldc_v, acc_v = args
        i64 = ir.IntType(64)
        i32 = ir.IntType(32)

        def data(ty, value):
            return context.make_array(ty)(context, builder, value=value).data

        def index(value, ty):
            return context.cast(builder, value, ty, types.int64)

        def const(n):
            return ir.Constant(i64, n)

        kc_i = index(kc_v, sig.args[6])
        ldc_i = index(ldc_v, sig.args[9])
        ai_i = index(ai_v, sig.args[2])
        ak_i = index(ak_v, sig.args[3])
        pa = builder.gep(data(sig.args[0], ap_v), [index(a0_v, sig.args[1])])
        pb = builder.gep(data(sig.args[4], bp_v), [index(b0_v, sig.args[5])])
        pc = builder.gep(data(sig.args[7], c_v), [index(c0_v, sig.args[8])])
        a_offsets = [builder.mul(const(i), ai_i) for i in range(mr)]
        elem = context.get_value_type(c.dtype)
        vty = ir.VectorType(elem, lanes)
        vptr = vty.as_pointer()
        zero = ir.Constant(vty, [0.0] * lanes)
        undef = ir.Constant(vty, ir.Undefined)
        splat_mask = ir.Constant(ir.VectorType(i32, lanes), [0] * lanes)
        suffix = f"v{lanes}f{itemsize * 8}"
        fma = builder.module.declare_intrinsic(
            f"llvm.fma.{suffix}", fnty=ir.FunctionType(vty, [vty, vty, vty]))

        entry = builder.basic_block
        loop = builder.append_basic_block("gemm.k")
        done = builder.append_basic_block("gemm.done")
        builder.cbranch(builder.icmp_signed(">", kc_i, const(0)), loop, done)

        builder.position_at_end(loop)
        k = builder.phi(i64)
        acc = [[builder.phi(vty) for _ in range(nv)] for _ in range(mr)]
        b_row = builder.gep(pb, [builder.mul(k, const(nr))])
        b_vec = [
            builder.load(builder.bitcast(builder.gep(b_row, [const(v * lanes)]), vptr),
                         align=itemsize)
            for v in range(nv)
        ]
        a_row = builder.gep(pa, [builder.mul(k, ak_i)])
        new = []
        for i in range(mr):
            a = builder.load(builder.gep(a_row, [a_offsets[i]]), align=itemsize)
            splat = builder.shuffle_vector(
                builder.insert_element(undef, a, ir.Constant(i32, 0)), undef, splat_mask)
            new.append([builder.call(fma, [splat, b_vec[v], acc[i][v]]) for v in range(nv)])
        k_next = builder.add(k, const(1))
        k.add_incoming(const(0), entry)
        k.add_incoming(k_next, loop)
        for i in range(mr):
            for v in range(nv):
                acc[i][v].add_incoming(zero, entry)
                acc[i][v].add_incoming(new[i][v], loop)
        builder.cbranch(builder.icmp_signed("<", k_next, kc_i), loop, done)

        builder.position_at_end(done)
        final = [[builder.phi(vty) for _ in range(nv)] for _ in range(mr)]
        for i in range(mr):
            for v in range(nv):
                final[i][v].add_incoming(zero, entry)
                final[i][v].add_incoming(new[i][v], loop)
        pointers = [
            [builder.bitcast(builder.gep(pc, [builder.add(builder.mul(const(i), ldc_i),
                                                          const(v * lanes))]), vptr)
             for v in range(nv)]
            for i in range(mr)
        ]
        with builder.if_else(acc_v) as (add, store):
            with add:
                for i in range(mr):
                    for v in range(nv):
                        old = builder.load(pointers[i][v], align=itemsize)
                        builder.store(builder.fadd(old, final[i][v]), pointers[i][v],
                                      align=itemsize)
            with store:
                for i in range(mr):
                    for v in range(nv):
                        builder.store(final[i][v], pointers[i][v], align=itemsize)
        return context.get_dummy_value()

    return sig, codegen


def _threading_call(name: str, returns: bool, arity: int):
    """An intrinsic calling the C function `name` of Numba's threading layer by its symbol, with
    the LLVM type Numba's own parfor lowering declares it with (an intp result or argument):
    numba.get_num_threads and set_parallel_chunksize go through ctypes pointers, which Numba
    cannot cache."""

    def typer(typingctx, *arg_types):
        if len(arg_types) != arity or not all(isinstance(t, types.Integer) for t in arg_types):
            return None
        from numba.np.ufunc.parallel import _launch_threads

        _launch_threads()  # loads the layer, which registers the symbols

        def codegen(context, builder, sig, llargs):
            intp = context.get_value_type(types.intp)
            fnty = ir.FunctionType(intp if returns else ir.VoidType(), [intp] * arity)
            fn = cgutils.get_or_insert_function(builder.module, fnty, name)
            values = [context.cast(builder, v, t, types.intp) for v, t in zip(llargs, arg_types)]
            result = builder.call(fn, values)
            return result if returns else context.get_dummy_value()

        return (types.intp if returns else types.void)(*arg_types), codegen

    if arity:
        return intrinsic(lambda typingctx, n: typer(typingctx, n))
    return intrinsic(lambda typingctx: typer(typingctx))


_num_threads = _threading_call("get_num_threads", True, 0)
_get_chunksize = _threading_call("get_parallel_chunksize", True, 0)
_set_chunksize = _threading_call("set_parallel_chunksize", False, 1)


def _relayout(layout: str):
    """An intrinsic viewing a 2-D array typed with any layout as `layout` ('C' or 'F'), for a
    caller that checked at run time that it is (`_contiguous`): indexing a typed-contiguous
    array computes addresses from the shape, so copies through it vectorize."""

    @intrinsic
    def relayout(typingctx, x):
        if not isinstance(x, types.Array) or x.ndim != 2:
            return None

        def codegen(context, builder, sig, args):
            # every layout has the same data model; a result is a new reference
            return impl_ret_borrowed(context, builder, sig.return_type, args[0])

        return x.copy(layout=layout)(x), codegen

    return relayout


_as_c = _relayout("C")
_as_f = _relayout("F")


@njit(cache=True)
def _contiguous(x):  # pragma: no cover - compiled
    """0 for a strided 2-D array, 1 for a C-contiguous one, 2 for a Fortran-contiguous one."""
    rows, cols = x.shape
    size = x.itemsize
    if x.strides[1] == size and (rows <= 1 or x.strides[0] == cols * size):
        return 1
    if x.strides[0] == size and (cols <= 1 or x.strides[1] == rows * size):
        return 2
    return 0


@njit(cache=True, boundscheck=False)
def _pack_b_rows(B, Bp, jp, nr):  # pragma: no cover - compiled
    K, N = B.shape
    j0 = jp * nr
    width = min(nr, N - j0)
    base = jp * K * nr
    for k in range(K):
        src = B[k, j0:j0 + width]
        dst = Bp[base + k * nr:base + (k + 1) * nr]
        for j in range(width):
            dst[j] = src[j]
        for j in range(width, nr):
            dst[j] = 0


@njit(cache=True, boundscheck=False)
def _pack_b(B, Bp, jp, nr, layout):  # pragma: no cover - compiled
    """Column panel `jp` of B (all K rows) into Bp[(jp*K + k)*nr + j], zero past N; `layout`
    is B's `_contiguous`."""
    if layout == 2:  # columns contiguous: they are the rows of B.T, packed as A's rows are
        K, N = B.shape
        j0 = jp * nr
        _pack_a_rows(_as_f(B).T, Bp[jp * K * nr:], j0, min(nr, N - j0), 0, K, nr)
    elif layout == 1:
        _pack_b_rows(_as_c(B), Bp, jp, nr)
    else:
        _pack_b_rows(B, Bp, jp, nr)


@njit(cache=True, boundscheck=False)
def _pack_a_rows(A, Ap, i0, rows, pc, kc, mr):  # pragma: no cover - compiled
    for p in range((rows + mr - 1) // mr):
        base = p * kc * mr
        height = min(mr, rows - p * mr)
        for r in range(mr):
            dst = Ap[base + r:base + kc * mr:mr]
            if r < height:
                src = A[i0 + p * mr + r, pc:pc + kc]
                for k in range(kc):
                    dst[k] = src[k]
            else:
                for k in range(kc):
                    dst[k] = 0


@njit(cache=True, boundscheck=False)
def _pack_a_columns(A, Ap, i0, rows, pc, kc, mr):  # pragma: no cover - compiled
    panels = (rows + mr - 1) // mr
    for k in range(kc):  # down each column: contiguous reads
        src = A[i0:i0 + rows, pc + k]
        for p in range(panels):
            dst = Ap[(p * kc + k) * mr:(p * kc + k + 1) * mr]
            height = min(mr, rows - p * mr)
            part = src[p * mr:p * mr + height]
            for r in range(height):
                dst[r] = part[r]
            for r in range(height, mr):
                dst[r] = 0


@njit(cache=True, boundscheck=False)
def _pack_a(A, Ap, i0, rows, pc, kc, mr, layout):  # pragma: no cover - compiled
    """A[i0:i0+rows, pc:pc+kc] into row panels Ap[(p*kc + k)*mr + r], zero past `rows`;
    `layout` is A's `_contiguous`."""
    if layout == 1:
        _pack_a_rows(_as_c(A), Ap, i0, rows, pc, kc, mr)
    elif layout == 2:
        _pack_a_columns(_as_f(A), Ap, i0, rows, pc, kc, mr)
    else:
        _pack_a_rows(A, Ap, i0, rows, pc, kc, mr)


@njit(cache=True, boundscheck=False)
def _block(A, Bp, C, r0, r1, p0, p1, Ap, T):  # pragma: no cover - compiled
    """Rows r0:r1 and column panels p0:p1 of C = A @ B, B packed in Bp."""
    K = A.shape[1]
    N = C.shape[1]
    mr, nr = _tile(C)
    direct = C.strides[1] == C.itemsize
    ldc = C.strides[0] // C.itemsize
    layout = _contiguous(A)
    ai = A.strides[0] // A.itemsize
    ak = A.strides[1] // A.itemsize
    for pc in range(0, K, KC):
        kc = min(KC, K - pc)
        first = pc == 0
        for i0 in range(r0, r1, MC):
            rows = min(MC, r1 - i0)
            if layout == 0:  # strided: packed; a contiguous A is read in place (whole tiles)
                _pack_a(A, Ap, i0, rows, pc, kc, mr, layout)
            for jp in range(p0, p1):
                cj = jp * nr
                width = min(nr, N - cj)
                b0 = (jp * K + pc) * nr
                for p in range((rows + mr - 1) // mr):
                    ci = i0 + p * mr
                    height = min(mr, r1 - ci)
                    whole = direct and height == mr and width == nr
                    if layout != 0 and height == mr:
                        a0 = ci * ai + pc * ak
                        if whole:
                            _micro(A, a0, ai, ak, Bp, b0, kc, C, ci * ldc + cj, ldc, not first)
                        else:
                            _micro(A, a0, ai, ak, Bp, b0, kc, T, 0, nr, False)
                            _store_edge(C, T, ci, cj, height, width, nr, first)
                        continue
                    a0 = p * kc * mr
                    if layout != 0:  # the last rows, fewer than a tile: packed, zero-padded
                        _pack_a(A, Ap, ci, height, pc, kc, mr, layout)
                        a0 = 0
                    if whole:
                        _micro(Ap, a0, 1, mr, Bp, b0, kc, C, ci * ldc + cj, ldc, not first)
                    else:  # an edge tile: through T, then its valid part
                        _micro(Ap, a0, 1, mr, Bp, b0, kc, T, 0, nr, False)
                        _store_edge(C, T, ci, cj, height, width, nr, first)


@njit(cache=True, boundscheck=False)
def _store_edge(C, T, ci, cj, height, width, nr, first):  # pragma: no cover - compiled
    """The valid height x width part of the tile T (rows of nr) into C at (ci, cj)."""
    for r in range(height):
        row = C[ci + r, cj:cj + width]
        tile_row = T[r * nr:r * nr + width]
        for j in range(width):
            if first:
                row[j] = tile_row[j]
            else:
                row[j] += tile_row[j]


@njit(cache=True)
def _a_size(rows, K, mr):  # pragma: no cover - compiled
    """Room for a packed block of A: up to MC rows (whole register tiles) by KC."""
    return ((min(MC, rows) + mr - 1) // mr) * mr * min(KC, K)


@njit(parallel=True, cache=True, boundscheck=False)
def gemm(A, B, C):  # pragma: no cover - compiled
    """C = A @ B for 2-D float arrays of one dtype, any strides; C must not overlap A or B."""
    M, K = A.shape
    N = B.shape[1]
    if M == 0 or N == 0:
        return
    if K == 0:
        for i in range(M):
            for j in range(N):
                C[i, j] = 0
        return
    mr, nr = _tile(C)
    panels = (N + nr - 1) // nr
    Bp = np.empty(panels * K * nr, dtype=C.dtype)
    layout = _contiguous(B)
    if M * N * K < SERIAL_WORK:
        for jp in range(panels):
            _pack_b(B, Bp, jp, nr, layout)
        _block(A, Bp, C, 0, M, 0, panels, np.empty(_a_size(M, K, mr), C.dtype),
               np.empty(mr * nr, C.dtype))
        return
    # tasks: row chunks (whole register tiles) x column-panel chunks
    want = TASKS_PER_THREAD * _num_threads()
    row_tiles = (M + mr - 1) // mr
    row_chunks = min(want, row_tiles)
    col_chunks = min(panels, (want + row_chunks - 1) // row_chunks)
    rows_per = ((row_tiles + row_chunks - 1) // row_chunks) * mr
    row_chunks = (M + rows_per - 1) // rows_per
    panels_per = (panels + col_chunks - 1) // col_chunks
    col_chunks = (panels + panels_per - 1) // panels_per
    tasks = row_chunks * col_chunks
    # every buffer before the parallel loops: an allocation that fails raises here, not in a
    # task (with the chunk size changed)
    a_size = _a_size(rows_per, K, mr)
    Aps = np.empty((tasks, a_size), dtype=C.dtype)
    Ts = np.empty((tasks, mr * nr), dtype=C.dtype)
    for jp in prange(panels):
        _pack_b(B, Bp, jp, nr, layout)
    old = _get_chunksize()
    _set_chunksize(1)
    for task in prange(tasks):
        rc = task // col_chunks
        cc = task - rc * col_chunks
        r0 = rc * rows_per
        p0 = cc * panels_per
        _block(A, Bp, C, r0, min(M, r0 + rows_per), p0, min(panels, p0 + panels_per),
               Aps[task], Ts[task])
    _set_chunksize(old)


# ---------------------------------------------------------------------------------------------
# The kernels' entry: a C function per dtype, called by symbol name.
#
# A kernel calling the `gemm` dispatcher directly would link the GEMM's LLVM module into its
# own, and Numba optimizes the linked module again: 1.7 s more for every kernel with a product.
# Kernels instead call `jitgraph_gemm_float32` / `_float64`, C functions compiled once (and
# cached) whose addresses are registered with LLVM under those names before any kernel that
# uses them is compiled or loaded from the cache (`register`).

_ARRAY_ARGS = 5  # data pointer, rows, columns, row stride, column stride (bytes)


@intrinsic
def _view(typingctx, data, rows, cols, row_stride, col_stride):
    """A 2-D array (any layout, no owner) over `data` with the given shape and byte strides."""
    if not isinstance(data, types.CPointer) or data.dtype not in (types.float32, types.float64):
        return None
    array = types.Array(data.dtype, 2, "A")
    sig = array(data, rows, cols, row_stride, col_stride)

    def codegen(context, builder, sig, args):
        from numba.np.arrayobj import populate_array

        ptr, *sizes = args
        intp = [context.cast(builder, v, t, types.intp) for v, t in zip(sizes, sig.args[1:])]
        view = context.make_array(array)(context, builder)
        populate_array(view, data=ptr, shape=cgutils.pack_array(builder, intp[:2]),
                       strides=cgutils.pack_array(builder, intp[2:]),
                       itemsize=context.get_constant(types.intp, data.dtype.bitwidth // 8),
                       meminfo=None)
        return view._getvalue()

    return sig, codegen


def _entry_signature(dtype):
    ptr = types.CPointer(dtype)
    sizes = (types.int64,) * (_ARRAY_ARGS - 1)
    return types.int32(*((ptr, *sizes) * 3))


_ENTRIES: dict[str, object] = {}  # dtype name -> the registered CFunc (kept alive)


def symbol(dtype_name: str) -> str:
    return f"jitgraph_gemm_{dtype_name}"


def register(dtype_name: str) -> None:
    """Compile (or load from Numba's cache) the C entry for `dtype_name` and register its
    address under `symbol(dtype_name)`; once per process."""
    # Numba's own (reentrant) compiler lock: register runs inside kernel compiles (the typing
    # of `call`) and outside them (runtime._link_gemm); a lock of our own could deadlock
    # against it
    from numba.core.compiler_lock import global_compiler_lock

    with global_compiler_lock:
        if dtype_name not in _ENTRIES:
            _register(dtype_name)


def _register(dtype_name: str) -> None:
    from numba import cfunc
    from numba.np.ufunc.parallel import _launch_threads

    _launch_threads()  # the GEMM's parallel loops link to the threading layer's symbols
    dtype = getattr(types, dtype_name)
    # one Python function per dtype: Numba's cache files are named after the function
    entry = _entry32 if dtype_name == "float32" else _entry64
    compiled = cfunc(_entry_signature(dtype), cache=True)(entry)
    llvm.add_symbol(symbol(dtype_name), compiled.address)
    _ENTRIES[dtype_name] = compiled


# A C function cannot raise: the entries return 1 when the GEMM raised (its buffers could not
# be allocated), 0 otherwise, and `checked` raises in the kernel.


def _entry32(a, am, ak, ars, acs, b, bk, bn, brs, bcs, c, cm, cn, crs, ccs):  # pragma: no cover
    try:
        gemm(_view(a, am, ak, ars, acs), _view(b, bk, bn, brs, bcs), _view(c, cm, cn, crs, ccs))
    except Exception:
        return 1
    return 0


def _entry64(a, am, ak, ars, acs, b, bk, bn, brs, bcs, c, cm, cn, crs, ccs):  # pragma: no cover
    try:
        gemm(_view(a, am, ak, ars, acs), _view(b, bk, bn, brs, bcs), _view(c, cm, cn, crs, ccs))
    except Exception:
        return 1
    return 0


@intrinsic
def call(typingctx, a, b, c):
    """c = a @ b through the registered C entry; 0, or 1 when it failed (see `checked`)."""
    arrays = (a, b, c)
    if not all(_float_dtype(t) and t.ndim == 2 for t in arrays):
        return None
    if len({t.dtype for t in arrays}) != 1:
        return None
    name = str(c.dtype)
    register(name)
    sig = types.int32(a, b, c)

    def codegen(context, builder, sig, args):
        intp = context.get_value_type(types.intp)
        pointer = context.get_value_type(c.dtype).as_pointer()
        values = []
        for ty, value in zip(sig.args, args):
            view = context.make_array(ty)(context, builder, value=value)
            values.append(view.data)
            values += cgutils.unpack_tuple(builder, view.shape, 2)
            values += cgutils.unpack_tuple(builder, view.strides, 2)
        fnty = ir.FunctionType(ir.IntType(32), [pointer, intp, intp, intp, intp] * 3)
        fn = cgutils.get_or_insert_function(builder.module, fnty, symbol(name))
        return builder.call(fn, values)

    return sig, codegen


@njit(cache=True)
def checked(a, b, c):  # pragma: no cover - compiled
    """c = a @ b (what generated kernels call as `_gemm_float32` / `_gemm_float64`)."""
    if call(a, b, c) != 0:
        raise MemoryError("matrix product: no memory for jitgraph's GEMM to pack its operands")
