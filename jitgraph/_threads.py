"""Settings of the thread pools jitgraph's kernels share the cores with, made when jitgraph is
imported (`jitgraph/__init__.py` imports this module first)."""

from __future__ import annotations

import os


def set_thread_environment() -> None:
    """Defaults for the thread pools kernels share the cores with; `import jitgraph` calls it.
    They are read when each pool starts (SciPy's OpenBLAS when Numba is imported, Numba's
    OpenMP pool at the first parallel loop that runs or compiles in the process), so they are
    set as early as possible: a process that ran a parallel Numba function before jitgraph set
    them kept libgomp's 3 ms spin and ran an MLP step 3x slower (34 vs 10.5 ms). setdefault
    only: a user's own settings win.
    """
    # Kernels call SciPy's OpenBLAS (np.dot) between prange loops. After a call its threads
    # spin for a while waiting for the next one, taking the cores Numba's threads need next:
    # a 256-row MLP step ran 9x slower than NumPy. A short spin gives the cores back. OpenBLAS
    # reads this when it loads, which Numba's import does (it imports scipy.linalg): so before
    # `import numba`; a user's own setting wins.
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
    # The same the other way: after a prange, OpenMP's threads spin and take the cores from a
    # BLAS call that follows (libgomp's default, 300000 spins, ~3 ms: a 256-row MLP step took
    # 36 ms instead of 3). Not spinning at all (OMP_WAIT_POLICY=PASSIVE) makes every prange
    # wake its threads through the OS, and on this project's VM a call after an idle pause then
    # ran 2x slower (a 2048x784 @ 784x512 product 10-12.5 vs 5-6.5 ms; an MLP step 24-30 vs
    # 14-17 ms, 3 alternating processes each). Large products run on Numba's own threads now
    # (codegen/gemm.py), so BLAS calls are few and thin; a short spin of 30000 keeps the threads
    # ready between a kernel's loops (100000 measured the same). Read when Numba's OpenMP pool
    # loads; a user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", "30000")


set_thread_environment()
