"""Register-blocked packed GEMM in plain Numba.

Micro-kernel: MR x NR scalar accumulators (generated source), k loop outermost.
LLVM's SLP vectorizer (off by default in Numba, see numba#8705) turns the MR x NR
scalars into MR*NR/VL zmm registers -> textbook broadcast+FMA micro-kernel.
LLVM's *loop* vectorizer would otherwise vectorize the k loop as 448 FP reductions
(gathers + spills); that is blocked by a harmless NaN-tracking use of c0_0 inside
the k loop (the flag only re-writes a NaN that is NaN anyway).
"""
import contextlib, numpy as np, numba
from numba import njit, prange
FM = {'nsz', 'arcp', 'contract', 'afn', 'reassoc'}


@contextlib.contextmanager
def slp_on():
    old = numba.config.SLP_VECTORIZE
    numba.config.SLP_VECTORIZE = 1
    try:
        yield
    finally:
        numba.config.SLP_VECTORIZE = old


def ukernel_src(MR, NR, dt, name="ukern"):
    L = [f"def {name}(Ap, Bp, kc, C, ci, cj, first):"]
    w = L.append
    for i in range(MR):
        w("    " + " = ".join(f"c{i}_{j}" for j in range(NR)) + f" = np.{dt}(0.0)")
    w("    bad = False")
    w("    for k in range(kc):")
    w("        av = Ap[k]")
    w("        bv = Bp[k]")
    for j in range(NR):
        w(f"        b{j} = bv[{j}]")
    for i in range(MR):
        w(f"        a = av[{i}]")
        for j in range(NR):
            w(f"        c{i}_{j} += a * b{j}")
    w("        bad |= c0_0 != c0_0")
    w("    if first:")
    for i in range(MR):
        w(f"        cr = C[ci + {i}, cj:cj + {NR}]")
        for j in range(NR):
            w(f"        cr[{j}] = c{i}_{j}")
    w("    else:")
    for i in range(MR):
        w(f"        cr = C[ci + {i}, cj:cj + {NR}]")
        for j in range(NR):
            w(f"        cr[{j}] += c{i}_{j}")
    w("    if bad:")
    w("        C[ci, cj] = np.nan")
    return "\n".join(L)


def gemm_src(MR, NR, MC, KC, NCH, PA=True, KE=True, CS=0):
    packrows = "\n".join(f"                        a{r} = A[ib + {r}, pc:pc + kc]" for r in range(MR))
    packstores = "\n".join(f"                            apk[{r}] = a{r}[k]" for r in range(MR))
    return f"""
def gemm(A, B, C):
    M, K = A.shape
    N = B.shape[1]
    npn = (N + {NR} - 1) // {NR}
    Bp = np.empty((npn, K, {NR}), dtype=C.dtype)
    for jp in prange(npn):
        j0 = jp * {NR}
        nr = min({NR}, N - j0)
        for k in range(K):
            bk = Bp[jp, k]
            src = B[k, j0:j0 + nr]
            for j in range(nr):
                bk[j] = src[j]
            for j in range(nr, {NR}):
                bk[j] = 0
    # row chunks, one (or a few) per thread, multiple of MR
    nch = {NCH}
    rows = (M + nch - 1) // nch
    rows = ((rows + {MR} - 1) // {MR}) * {MR}
    nch = (M + rows - 1) // rows
    old_cs = set_parallel_chunksize({CS})
    for ch in prange(nch):
        Ap = np.empty(({MC} // {MR}, {KC}, {MR}), dtype=C.dtype)
        T = np.empty(({MR}, {NR}), dtype=C.dtype)
        r0 = ch * rows
        r1 = min(M, r0 + rows)
        for pc in range(0, K, {KC}):
            kc = min({KC}, K - pc)
            first = pc == 0
            zero = pc - pc
            notfirst = pc >= 0
            for i0 in range(r0, r1, {MC}):
                mc = min({MC}, r1 - i0)
                nmp = (mc + {MR} - 1) // {MR}
                # pack A[i0:i0+mc, pc:pc+kc] -> Ap[p, k, r]
                for p in range(nmp):
                    ib = i0 + p * {MR}
                    mr = min({MR}, i0 + mc - ib)
                    ap = Ap[p]
                    if mr == {MR}:
{packrows}
                        for k in range(kc):
                            apk = ap[k]
{packstores}
                    else:
                        for k in range(kc):
                            for r in range({MR}):
                                ap[k, r] = A[ib + r, pc + k] if r < mr else 0
                for jp in range(npn):
                    cj = jp * {NR}
                    nr = min({NR}, N - cj)
                    bp = Bp[jp, pc:pc + kc]
                    for p in range(nmp):
                        ci = i0 + p * {MR}
                        mr = min({MR}, i0 + mc - ci)
                        if not {KE}:
                            pass
                        elif mr == {MR} and nr == {NR}:
                            ukern(Ap[p, :kc], bp, kc, C, ci, cj, first)
                        else:
                            ukern(Ap[p, :kc], bp, kc, T, zero, zero, notfirst)
                            for r in range(mr):
                                for j in range(nr):
                                    if first:
                                        C[ci + r, cj + j] = T[r, j]
                                    else:
                                        C[ci + r, cj + j] += T[r, j]
    set_parallel_chunksize(old_cs)
"""


_cache = {}
def build(MR=14, NR=32, MC=112, KC=256, NCH=2, dt='float32', sigs=None, PA=True, KE=True, CS=0, PAR=True):
    key = (MR, NR, MC, KC, NCH, dt, PA, KE, CS, PAR)
    if key in _cache:
        return _cache[key]
    ns = {'np': np, 'prange': prange, 'set_parallel_chunksize': numba.set_parallel_chunksize}
    with slp_on():
        exec(compile(ukernel_src(MR, NR, dt), f"<ukern_{MR}x{NR}_{dt}>", "exec"), ns)
        uk = njit(fastmath=FM, boundscheck=False, inline='never')(ns['ukern'])
        ns['ukern'] = uk
        exec(compile(gemm_src(MR, NR, MC, KC, NCH, PA, KE, CS), f"<gemm_{key}>", "exec"), ns)
        g = njit(parallel=PAR, fastmath=FM, boundscheck=False)(ns['gemm'])
    def run(A, B, C):
        sig = (numba.typeof(A), numba.typeof(B), numba.typeof(C))
        if sig not in g.signatures:
            with slp_on():
                g.compile(sig)
        return g(A, B, C)
    run.g = g
    run.uk = uk
    _cache[key] = (run, uk)
    return run, uk


# ---------------------------------------------------------------- dispatcher
CONFIGS = {
    # (dtype, small_n) -> (MR, NR, MC, KC)
    ('float32', False): (8, 32, 128, 256),
    ('float32', True): (16, 16, 128, 256),
    ('float64', False): (8, 16, 128, 256),
    ('float64', True): (8, 16, 128, 256),
}


SERIAL_FLOPS = 10e6   # below this, run on the calling thread only (no parallel region)


def matmul(A, B, out=None, nch=None, cs=1, serial=None):
    """out = A @ B for 2-D float32/float64 arrays of any layout (views like x.T are fine)."""
    dt = np.result_type(A.dtype, B.dtype)
    dts = 'float64' if dt == np.float64 else 'float32'
    M, K = A.shape
    N = B.shape[1]
    if A.dtype != dt:
        A = A.astype(dt)
    if B.dtype != dt:
        B = B.astype(dt)
    if out is None:
        out = np.empty((M, N), dtype=dt)
    MR, NR, MC, KC = CONFIGS[(dts, N <= 16)]
    if nch is None:
        nch = 4 * numba.get_num_threads()
    if serial is None:
        serial = 2.0 * M * N * K < SERIAL_FLOPS
    if serial:
        run, _ = build(MR, NR, MC, KC, NCH=1, dt=dts, CS=0, PAR=False)
    else:
        run, _ = build(MR, NR, MC, KC, NCH=nch, dt=dts, CS=cs)
    if K == 0:
        out[...] = 0
        return out
    run(A, B, out)
    return out
