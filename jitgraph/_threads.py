"""Settings of the thread pools jitgraph's kernels share the cores with, made when jitgraph is
imported (`jitgraph/__init__.py` imports this module first)."""

from __future__ import annotations

import os


def set_thread_environment() -> None:
    """Defaults for the thread pools kernels share the cores with; `import jitgraph` calls it.
    They are read when each pool starts (SciPy's OpenBLAS when Numba is imported, Numba's
    OpenMP pool at the first parallel loop that runs or compiles in the process), so they are
    set as early as possible (when products were BLAS calls, a process that ran a parallel
    Numba function before jitgraph set them kept a long OpenMP spin and ran an MLP step 3x
    slower). setdefault only: a user's own settings win. The OpenMP spin count set is libgomp's
    own default today: set explicitly so that the choice, measured below, is visible and kept
    whatever a libgomp build defaults to.
    """
    # Kernels call SciPy's OpenBLAS (np.dot) between prange loops. After a call its threads
    # spin for a while waiting for the next one, taking the cores Numba's threads need next:
    # a 256-row MLP step ran 9x slower than NumPy. A short spin gives the cores back. OpenBLAS
    # reads this when it loads, which Numba's import does (it imports scipy.linalg): so before
    # `import numba`; a user's own setting wins.
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
    # libgomp's threads spin before they sleep after a prange. Too long a spin takes the cores
    # from a BLAS call that follows (when products were BLAS calls, libgomp's 300000 made a
    # 256-row MLP step 36 ms instead of 3, and 30000 was chosen). Products run on Numba's own
    # threads now (codegen/gemm.py) and BLAS calls are few and thin, while too short a spin
    # lets the threads sleep between a kernel's parallel loops, and on this project's VM a
    # sleeping vCPU is slow to wake: with 30000, relu(x@W+b) took 12-18 ms in `make bench`
    # rounds, with 300000 8.4-9.5 (NumPy 9.5-11.6, JAX 9.5-10.1), the 256-row MLP step 0.78
    # (0.84 with 30000) and every other workload the same. Not spinning at all
    # (OMP_WAIT_POLICY=PASSIVE) ran a call after an idle pause 2x slower. Read when Numba's
    # OpenMP pool loads; a user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", "300000")


set_thread_environment()
