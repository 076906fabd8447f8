"""Programs tests/test_matmul.py runs in processes of their own (resource limits, threading
layers): `python gemm_processes.py out-of-memory | first-calls-in-threads`."""

import resource
import sys
import threading

import numpy as np

import jitgraph as jg


def product(x, w):
    return x @ w


def product_again(x, w):
    return x @ w


def out_of_memory() -> None:
    """The GEMM packs B (K x 33 -> K x 64 here: 256 MB) with 120 MB left: a MemoryError."""
    f = jg.jit(product)
    rng = np.random.default_rng(0)
    k = 1 << 20
    a = rng.standard_normal((8, k)).astype(np.float32)
    b = rng.standard_normal((k, 33)).astype(np.float32)
    assert np.allclose(f(a[:, :1000], b[:1000]), a[:, :1000] @ b[:1000], rtol=1e-4, atol=1e-3)
    with open("/proc/self/status") as status:
        size = next(int(line.split()[1]) for line in status if line.startswith("VmSize"))
    resource.setrlimit(resource.RLIMIT_AS, (size * 1024 + (120 << 20), resource.RLIM_INFINITY))
    try:
        f(a, b)
    except MemoryError as error:
        print("MemoryError:", error)
    else:
        print("no error")


def first_calls_in_threads() -> None:
    """Two functions whose only parallel loops are the GEMM's, first called from two threads
    at once (run with NUMBA_THREADING_LAYER=workqueue, which aborts on concurrent use)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((600, 600)).astype(np.float32)
    w = rng.standard_normal((600, 600)).astype(np.float32)
    functions = [jg.jit(product), jg.jit(product_again)]
    barrier = threading.Barrier(2)
    errors = []

    def run(f):
        barrier.wait()
        for _ in range(3):
            if not np.allclose(f(x, w), x @ w, rtol=1e-4, atol=1e-2):
                errors.append("wrong")

    threads = [threading.Thread(target=run, args=(f,)) for f in functions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("ok" if not errors else errors)


if __name__ == "__main__":
    cases = {"out-of-memory": out_of_memory, "first-calls-in-threads": first_calls_in_threads}
    cases[sys.argv[1]]()
