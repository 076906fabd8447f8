"""Matrix products: the BLAS path (one `np.dot(a, b, out)` per float32/float64 product, see
passes/rows.blas_product) and the loop path (every other dtype, batched and mixed-dtype
products) give NumPy's results, including empty and size-1 axes; the plan and the inspect report
say which path ran.

Numba compiles cost 1-2 s each: each compiled function below holds several products and is
compiled once per dtype for the module (the sizes change, the signature does not)."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import jitgraph as jg
from jitgraph.codegen import kernel
from jitgraph.passes.rows import blas_available, blas_product

pytestmark = pytest.mark.skipif(not blas_available(), reason="the BLAS path needs SciPy")


@pytest.fixture
def always_blas(monkeypatch):
    """Products BLAS can take call it whatever their size (by default small ones run as loop
    nests, kernel.BLAS_MIN_WORK): the BLAS path, tested on small data."""
    monkeypatch.setattr(kernel, "BLAS_MIN_WORK", 0)

FLOATS = (np.float32, np.float64)


def products(x, w, v):
    """Products BLAS takes, each operand read as stored: plain, transposed (Fortran-order views,
    BLAS's transpose flags), sliced (a contiguous row range; a strided column range, copied
    first), matrix @ vector and vector @ matrix."""
    return (
        x @ w,
        x.T @ x,
        w @ w.T,
        x[1:] @ w,
        x[:, 1:] @ w[1:],
        x @ v,
        v @ x.T,
    )


def epilogue(x, w, b):
    return np.maximum(x @ w + b, 0)


def product(x, w):
    return x @ w


def loop_products(x, w, z):
    """Products that stay loops: batched, vector @ vector, a broadcast operand."""
    return z @ w, x[0] @ x[1], x @ np.broadcast_to(w[:, :1], w.shape)


def data(dtype, m: int, k: int, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, k)).astype(dtype)
    w = rng.standard_normal((k, n)).astype(dtype)
    v = rng.standard_normal(k).astype(dtype)
    return x, w, v


# Sizes: general, one row, one column, k = 1, and empty along each axis (k = 0 gives zeros).
# Shapes must keep every slice above non-empty except where the case is about emptiness.
SIZES = [(5, 4, 3), (1, 4, 3), (5, 4, 1), (5, 1, 3), (0, 4, 3), (5, 4, 0), (5, 0, 3)]


def assert_close(got, want, dtype):
    rtol = 1e-5 if np.dtype(dtype) == np.float32 else 1e-12
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


def check_products(fn, dtype, m, k, n):
    x, w, v = data(dtype, m, k, n)
    for got, want in zip(fn(x, w, v), products(x, w, v), strict=True):
        assert_close(got, want, dtype)


# -- the plan: which products BLAS computes --------------------------------------------------


def test_blas_takes_float_matrices_and_leaves_the_rest_to_loops(always_blas):
    f = jg.jit(products, backend="python")
    for dtype in FLOATS:
        source = f.source(*data(dtype, 5, 4, 3))
        assert source.count("np.dot(") == 7, source
        assert "prange" not in source  # nothing else to compute: no loop at all
        # Transposes are views BLAS reads with its transpose flag; slices are made contiguous
        # (a run-time check: a row range of a C array is passed as it is).
        assert ".T" in source and source.count("np.ascontiguousarray(") == 3
    for dtype in (np.int32, np.int64, np.bool_):
        assert "np.dot(" not in f.source(*data(dtype, 5, 4, 3))
    mixed = jg.jit(product, backend="python")
    assert "np.dot(" not in mixed.source(np.ones((2, 3), np.float32), np.ones((3, 2)))


def test_batched_vector_and_broadcast_products_stay_loops(always_blas):
    f = jg.jit(loop_products, backend="python")
    x, w, _ = data(np.float64, 4, 4, 3)
    z = np.random.default_rng(1).standard_normal((2, 5, 4))
    assert "np.dot(" not in f.source(x, w, z)
    for got, want in zip(f(x, w, z), loop_products(x, w, z), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def reordered(z, w):
    """A 3-D array's axes reversed (Numba's `.T`), then one matrix of it; and a transpose
    that swaps only the last two axes (not `.T`: a loop)."""
    return z.T[0] @ w[:2], z.transpose(0, 2, 1)[1] @ z[1]


def test_transposes_of_higher_rank_arrays(always_blas):
    f = jg.jit(reordered, backend="python")
    z = np.random.default_rng(4).standard_normal((2, 4, 3))
    w = np.random.default_rng(5).standard_normal((3, 5))
    assert f.source(z, w).count("np.dot(") == 1
    for got, want in zip(f(z, w), reordered(z, w), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_blas_product_is_decided_per_node():
    from jitgraph.ir import build

    a = build.argument("a", 0, np.float32, (None, None))
    b = build.argument("b", 1, np.float32, (None, None))
    i = build.argument("i", 2, np.int64, (None, None))
    assert blas_product(build.matmul(a, b))
    assert blas_product(build.matmul(build.transpose(a, (1, 0)), b))
    assert not blas_product(build.matmul(i, i))
    assert blas_product(build.matmul(a, build.cast(i, np.float32)))  # stored before the call
    assert blas_product(build.matmul(a, build.getitem(b, (slice(1, None), 0))))
    assert not blas_product(build.matmul(a, build.getitem(b, (slice(None, None, -1),))))


def test_epilogue_is_one_pass_in_place_over_the_blas_output_and_reported(always_blas):
    f = jg.jit(epilogue, backend="python")
    x, w, _ = data(np.float32, 6, 4, 3)
    b = np.arange(3, dtype=np.float32)
    r = f.inspect(x, w, b)
    assert [g["kind"] for g in r.groups] == ["matmul", "elemwise"]
    (decline,) = [d for d in r.declined if d["op"] == "matmul"]
    assert decline["reason"] == "blas-product"
    assert "blas-product: computed by one library call" in str(r)
    # The product lives in the output's array: no buffer, and the epilogue rewrites it.
    (row,) = r.buffers
    assert row["slot"] is None and row["in_output"] is not None
    assert r.memory["planned_bytes"] == 0
    assert r.source.count("np.dot(") == 1 and r.source.count("prange") == 1
    assert_close(f(x, w, b), epilogue(x, w, b), np.float32)


def test_loop_products_keep_the_fused_row_epilogue():
    f = jg.jit(epilogue, backend="python")
    x, w, _ = data(np.int64, 6, 4, 3)
    r = f.inspect(x, w, np.arange(3))
    (group,) = r.groups
    assert [s["kind"] for s in group["stages"]] == ["matmul", "elemwise"]
    assert not any(d["reason"] == "blas-product" for d in r.declined)
    np.testing.assert_array_equal(f(x, w, np.arange(3)), epilogue(x, w, np.arange(3)))


# -- results: the generated code run as Python ------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("m,k,n", SIZES)
def test_blas_products_python_backend(dtype, m, k, n, always_blas):
    check_products(jg.jit(products, backend="python"), dtype, m, k, n)


def test_contracting_nothing_gives_zeros(always_blas):
    f = jg.jit(product, backend="python")
    got = f(np.ones((3, 0)), np.ones((0, 2)))
    np.testing.assert_array_equal(got, np.zeros((3, 2)))


# -- results: compiled with Numba ------------------------------------------------------------

COMPILED = {}


def compiled(name, fn, make=jg.jit):
    """One jit function per case (and BLAS threshold) for the whole module: Numba compiles each
    signature once."""
    key = (name, kernel.BLAS_MIN_WORK)
    if key not in COMPILED:
        COMPILED[key] = make(fn)
    return COMPILED[key]


@pytest.mark.numba
@pytest.mark.parametrize("dtype", FLOATS)
def test_blas_products_compiled(dtype, always_blas):
    f = compiled("products", products)
    # Empty axes and k = 0 (zeros, and BLAS must not be called) run the same kernel as the
    # general sizes; size-1 axes are other signatures (see the next test).
    for m, k, n in [(7, 5, 3), (64, 33, 17), (7, 5, 0), (0, 5, 3), (7, 0, 3)]:
        check_products(f, dtype, m, k, n)
    assert f.source(*data(dtype, 7, 5, 3)).count("np.dot(") == 7


@pytest.mark.numba
def test_blas_size_one_axes_compiled(always_blas):
    f = compiled("product", product)
    for m, k, n in [(1, 4, 3), (5, 4, 1), (5, 1, 3), (1, 1, 1)]:
        x, w, _ = data(np.float64, m, k, n)
        assert_close(f(x, w), x @ w, np.float64)
    got = f(np.full((3, 0), 7.0), np.full((0, 2), 7.0))
    np.testing.assert_array_equal(got, np.zeros((3, 2)))


@pytest.mark.numba
@pytest.mark.parametrize("dtype", FLOATS)
# Numba warns that it copies the strided argument below before calling BLAS: expected here.
@pytest.mark.filterwarnings("ignore::numba.core.errors.NumbaPerformanceWarning")
def test_blas_epilogue_compiled(dtype, always_blas):
    f = compiled("epilogue", epilogue)
    x, w, _ = data(dtype, 33, 17, 9)
    b = np.linspace(-1, 1, 9).astype(dtype)
    assert_close(f(x, w, b), epilogue(x, w, b), dtype)
    # Arguments in Fortran order (another Numba layout of the same signature) and a strided
    # view (copied to a contiguous array by Numba's np.dot) give the same results.
    assert_close(f(np.asfortranarray(x), np.asfortranarray(w), b), epilogue(x, w, b), dtype)
    wide = np.repeat(w, 2, axis=1)[:, ::2]
    assert_close(f(x, wide, b), epilogue(x, w, b), dtype)


@pytest.mark.numba
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_loop_products_compiled(dtype):
    f = compiled("epilogue", epilogue)
    rng = np.random.default_rng(2)
    x = rng.integers(-9, 9, (13, 7)).astype(dtype)
    w = rng.integers(-9, 9, (7, 5)).astype(dtype)
    b = rng.integers(-9, 9, 5).astype(dtype)
    np.testing.assert_array_equal(f(x, w, b), epilogue(x, w, b))


def dense_loss(x, w, b):
    return np.sum(np.maximum(x @ w + b, 0) ** 2)


def dense_grads(x, w, b):
    h = x @ w + b
    dh = 2 * np.maximum(h, 0) * (h > 0)
    return dh @ w.T, x.T @ dh, dh.sum(axis=0)


def test_gradients_of_a_dense_layer_are_blas_calls(always_blas):
    # x^T @ dh and dh @ w^T read transposed views (no copies); the bias gradient, the sum of
    # dh's rows, is ones @ dh (a BLAS gemv, not a loop down dh's columns).
    g = jg.grad(dense_loss, argnums=(0, 1, 2), backend="python")
    x, w, _ = data(np.float64, 9, 6, 4)
    b = np.linspace(-1, 1, 4)
    source = g.specialization(x, w, b).executable.source
    assert source.count("np.dot(") == 4 and "np.ascontiguousarray" not in source
    assert source.count(".T, ") == 2
    assert "np.full((" in source
    for got, want in zip(g(x, w, b), dense_grads(x, w, b), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    # float32 data with float64 weights: the forward product is mixed, a loop.
    gx, gw, gb = g(x.astype(np.float32), w, b)
    for got, want in zip((gx, gw, gb), dense_grads(x.astype(np.float32), w, b), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.numba
@pytest.mark.parametrize("dtype", FLOATS)
def test_gradients_of_a_dense_layer_compiled(dtype, always_blas):
    g = compiled("dense_grad", dense_loss, lambda fn: jg.grad(fn, argnums=(0, 1, 2)))
    x, w, _ = data(dtype, 40, 17, 9)
    b = np.linspace(-1, 1, 9).astype(dtype)
    rtol = 1e-4 if dtype == np.float32 else 1e-12
    for got, want in zip(g(x, w, b), dense_grads(x, w, b), strict=True):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


# -- small products: loop nests, large ones: BLAS ----------------------------------------------


def test_small_products_run_as_loops_large_ones_call_blas():
    f = jg.jit(epilogue, backend="python")
    x, w, _ = data(np.float64, 6, 4, 3)
    b = np.arange(3.0)
    source = f.source(x, w, b)
    # Sizes are kernel parameters: the kernel chooses at run time, by the product's work.
    assert re.search(rf"if n\d+ \* n\d+ \* n\d+ >= {kernel.BLAS_MIN_WORK}:", source), source
    assert source.count("np.dot(") == 1 and "else:" in source
    assert_close(f(x, w, b), epilogue(x, w, b), np.float64)
    big = data(np.float64, 160, 160, 170)  # above the threshold: the BLAS branch
    assert 160 * 160 * 170 >= kernel.BLAS_MIN_WORK
    assert_close(f(big[0], big[1], np.arange(170.0)), epilogue(big[0], big[1], np.arange(170.0)),
                 np.float64)


@pytest.mark.numba
@pytest.mark.parametrize("m,k,n", [(7, 5, 3), (0, 5, 3), (7, 0, 3), (160, 160, 170)])
def test_both_branches_compiled(m, k, n):
    f = compiled("epilogue", epilogue)
    x, w, _ = data(np.float32, m, k, n)
    b = np.linspace(-1, 1, n).astype(np.float32)
    assert_close(f(x, w, b), epilogue(x, w, b), np.float32)


# -- jitgraph's own GEMM (codegen/gemm.py) -----------------------------------------------------


def gemm_products(x, w):
    """Matrix @ matrix products in every operand layout the GEMM packs from: C (x @ w),
    Fortran (x.T, w.T), row and column ranges, a strided row view and a computed operand."""
    return (
        x @ w,
        x.T @ x,
        w.T @ w,
        x[1:] @ w,
        x[:, 1:] @ w[1:],
        x[::2] @ w,
        (2 * x) @ w,
        x[:, :0] @ w[:0],  # k = 0: zeros
    )


def assert_within_rounding(got, x, w):
    """|got - x @ w| <= k * eps * (|x| @ |w|) elementwise: the forward error bound of a sum of
    k products in floating point, whatever the order of summation (Higham's gamma_k), against
    the float64 product. NaN and inf must be where NumPy puts them."""
    want = x @ w
    exact = x.astype(np.float64) @ w.astype(np.float64)
    assert got.dtype == want.dtype and got.shape == want.shape
    finite = np.isfinite(want)
    np.testing.assert_array_equal(np.isfinite(got), finite)
    np.testing.assert_array_equal(got[~finite], want[~finite])
    eps = np.finfo(got.dtype).eps
    bound = x.shape[1] * eps * (np.abs(x).astype(np.float64) @ np.abs(w).astype(np.float64))
    error = np.abs(got[finite].astype(np.float64) - exact[finite])
    assert (error <= bound[finite] + np.finfo(got.dtype).tiny).all()


def gemm_operands(x, w):
    return [(x, w), (x.T, x), (w.T, w), (x[1:], w), (x[:, 1:], w[1:]), (x[::2], w), (2 * x, w),
            (x[:, :0], w[:0])]


def test_gemm_is_called_for_products_with_a_register_tile_of_rows_and_columns():
    from jitgraph.codegen.gemm import tile

    f = jg.jit(gemm_products, backend="python")
    for dtype in FLOATS:
        source = f.source(*data(dtype, 45, 301, 37)[:2])
        assert source.count(f"_gemm_{np.dtype(dtype).name}(") == 8, source
        rows = tile(np.dtype(dtype).itemsize)[0]
        # Products with fewer rows than one tile call BLAS: a run-time branch.
        assert re.search(rf"if n\d+ >= {rows}:", source), source
        assert source.count("np.dot(") == 8
        # The GEMM reads strided views as they are: no contiguous copies first.
        assert "np.ascontiguousarray(x[::2" not in source.split("np.dot")[0]


@pytest.mark.numba
@pytest.mark.parametrize("dtype", FLOATS)
def test_gemm_products_compiled(dtype):
    f = compiled("gemm_products", gemm_products)
    # (9, 40, 33): one thread, edge tiles; (45, 301, 37): depth past one packed block (KC),
    # x.T @ x on the parallel path; (130, 520, 70): two row blocks (MC) and deeper; n = 10:
    # fewer columns than a tile (padded).
    for m, k, n in [(9, 40, 33), (45, 301, 37), (130, 520, 70), (70, 300, 10)]:
        x, w, _ = data(dtype, m, k, n, seed=m)
        x[3, 5] = np.nan  # a NaN spoils its row, an inf its row and column products
        x[4, 6] = np.inf
        for got, (a, b) in zip(f(x, w), gemm_operands(x, w), strict=True):
            assert_within_rounding(got, a, b)


@pytest.mark.numba
def test_gemm_leaves_its_operands_alone():
    f = compiled("gemm_product", product)
    x, w, _ = data(np.float32, 64, 300, 96)
    before = x.copy(), w.copy()
    assert "_gemm_float32(" in f.source(x, w)
    assert_within_rounding(f(x, w), x, w)
    np.testing.assert_array_equal(x, before[0])
    np.testing.assert_array_equal(w, before[1])


SCRIPT = pathlib.Path(__file__).parent / "scripts" / "gemm_processes.py"


def run_script(case: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), case], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=600)


@pytest.mark.numba
def test_gemm_out_of_memory_is_a_memory_error():
    # The GEMM runs behind a C entry, which cannot raise: its failure must still reach the
    # caller, not leave the output uninitialized.
    done = run_script("out-of-memory")
    assert done.returncode == 0, done.stderr
    assert "MemoryError: matrix product: no memory for jitgraph's GEMM" in done.stdout, done


@pytest.mark.numba
def test_first_calls_from_two_threads_on_the_workqueue_layer():
    done = run_script("first-calls-in-threads", NUMBA_THREADING_LAYER="workqueue")
    assert done.returncode == 0 and done.stdout.strip() == "ok", (done.stdout, done.stderr)
