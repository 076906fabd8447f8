"""Operation folding and buffer reuse: each fusion shape computes what the reference interpreter
computes, and the plan has the structure we claim (checked through the inspect report)."""

from __future__ import annotations

import numpy as np
import pytest

import jitgraph as jg
from jitgraph.passes.pipeline import disabled

x, y, W, b = jg.Variable("x"), jg.Variable("y"), jg.Variable("W"), jg.Variable("b")
s = jg.Variable("s")  # a 0-d argument


def softmax(v):
    e = jg.sym.exp(v - v.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def standardize(v):
    centered = v - v.mean(axis=1, keepdims=True)
    return centered / jg.sym.sqrt((centered * centered).mean(axis=1, keepdims=True) + 1e-5)


# name -> (symbol, argument names); each is checked on every input set below
CASES = {
    "chain": (jg.sym.sqrt(x * x + y * y) * jg.sym.exp(-(x * x)), "xy"),
    "mse": (((x - y) ** 2).mean(), "xy"),
    "softmax": (softmax(x), "x"),
    "logsumexp": (
        jg.sym.log(jg.sym.exp(x - x.max(axis=1, keepdims=True)).sum(axis=1)) + x.max(axis=1),
        "x",
    ),
    "standardize": (standardize(x), "x"),
    "max_and_sum": (jg.Group([x.max(axis=1), x.sum(axis=1)]), "x"),
    "a_over_amax": (x / x.max(), "x"),  # Numba's own fused reductions have got this wrong
    "reduce_then_same": (x - x.sum(axis=1, keepdims=True) * y, "xy"),
    "full_and_rows": (jg.Group([x.sum(), (x * y).sum(axis=1), x.min(axis=0)]), "xy"),
    "argmax_rows": (jg.Group([(x * y).argmax(axis=1), x.argmin(axis=1)]), "xy"),
    "epilogue": (jg.sym.maximum(x @ W + b, 0), "xWb"),
    "two_outputs_same_space": (jg.Group([x + y, x * y]), "xy"),
    "broadcast_row": (x * y[0:1, :] + y.sum(axis=0), "xy"),
    "zero_d_scale": (softmax(x * s) + s, "xs"),
    "zero_d_reduce": (jg.Group([(x - s).max(axis=1) * s, (x * s).sum()]), "xs"),
}


def inputs(kind: str, dtype) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    shape = {"rows": (6, 5), "single_row": (1, 5), "single_col": (6, 1)}[kind]
    if np.dtype(dtype).kind == "f":
        xs = rng.standard_normal(shape).astype(dtype)
        ys = rng.standard_normal(shape).astype(dtype)
        xs.flat[3] = np.nan
        ys.flat[1] = np.inf
        ys.flat[-1] = -np.inf
    else:
        xs = rng.integers(-5, 5, shape).astype(dtype)
        ys = rng.integers(-5, 5, shape).astype(dtype)
    return {
        "x": xs,
        "y": ys,
        "W": rng.standard_normal((shape[1], 3)).astype(dtype),
        "b": rng.standard_normal(3).astype(dtype),
        "s": np.asarray(3, dtype),
    }


def outputs_of(fn, args):
    result = fn(**args)
    return result if isinstance(result, list) else [result]


def check(name: str, backend: str, kind: str, dtype) -> None:
    symbol, names = CASES[name]
    data = inputs(kind, dtype)
    args = {n: data[n] for n in names}
    with np.errstate(all="ignore"):
        try:
            want = outputs_of(jg.compile(symbol, backend="reference"), args)
        except jg.JitGraphError as error:  # e.g. integer sqrt gives a float: still must agree
            with pytest.raises(type(error)):
                jg.compile(symbol, backend=backend)(**args)
            return
        got = outputs_of(jg.compile(symbol, backend=backend), args)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype and g.shape == w.shape, name
        if w.dtype.kind == "f":
            np.testing.assert_allclose(
                g,
                w,
                rtol=2e-5 if w.dtype == np.float32 else 1e-12,
                atol=1e-6,
                equal_nan=True,
                err_msg=name,
            )
        else:
            np.testing.assert_array_equal(g, w, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
@pytest.mark.parametrize("kind", ["rows", "single_row", "single_col"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_fusion_shapes_match_reference(name, kind, dtype):
    check(name, "python", kind, dtype)


@pytest.mark.numba
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_fusion_shapes_compiled(dtype):
    # One compile per case and dtype: rows and the size-1 layouts are separate signatures,
    # so only the general layout runs here; the python backend covers the rest.
    for name in (
        "softmax",
        "standardize",
        "a_over_amax",
        "mse",
        "epilogue",
        "max_and_sum",
        "argmax_rows",
        "full_and_rows",
        "zero_d_scale",
    ):
        check(name, "numba", "rows", dtype)


@pytest.mark.parametrize("name", ["softmax", "standardize", "epilogue", "a_over_amax"])
def test_fusion_off_gives_the_same_results(name):
    symbol, names = CASES[name]
    data = {n: inputs("rows", np.float64)[n] for n in names}
    fused = outputs_of(jg.compile(symbol, backend="python"), data)
    with disabled("fuse_rows", "buffer_reuse", "simplify", "fold_constants"):
        plain = outputs_of(jg.compile(symbol, backend="python"), data)
    for f, p in zip(fused, plain, strict=True):
        np.testing.assert_allclose(f, p, rtol=1e-13, equal_nan=True)


# -- plan structure ----------------------------------------------------------------------------


def report(symbol, **arrays):
    return jg.compile(symbol, backend="python").inspect(**arrays)


def test_seed_memory_example_has_no_intermediate_buffer():
    A, B = jg.Variable("A"), jg.Variable("B")
    r = report(B * A + 1, A=np.ones(10), B=np.ones(10))
    assert r.buffers == [] and r.memory["planned_bytes"] == 0
    assert r.memory["unfused_bytes"] == 80  # NumPy would store C = B * A
    assert len(r.groups) == 1 and r.source.count("prange") == 1
    assert "no intermediate buffers" in str(r)


def test_softmax_is_one_parallel_loop_with_row_values_in_registers():
    r = report(softmax(x), x=np.ones((8, 16), np.float32))
    (group,) = r.groups
    assert group["kind"] == "rows"
    assert [s["kind"] for s in group["stages"]] == ["reduce", "elemwise", "reduce", "elemwise"]
    assert len(group["in_registers"]) == 2 and len(group["kept_in"]) == 1
    assert r.buffers == [] and r.source.count("prange") == 1


def test_matmul_epilogue_runs_in_the_product_loop():
    # Integer products are loops (BLAS has no integer kernels; float products are BLAS calls,
    # tests/test_matmul.py): the epilogue runs in the product's row loop.
    ints = np.ones((4, 3), np.int64), np.ones((3, 5), np.int64), np.ones(5, np.int64)
    r = report(jg.sym.maximum(x @ W + b, 0), **dict(zip("xWb", ints, strict=True)))
    (group,) = r.groups
    assert [s["kind"] for s in group["stages"]] == ["matmul", "elemwise"]
    assert r.buffers == [] and r.source.count("prange") == 1


def test_independent_reductions_over_the_same_rows_share_one_pass():
    r = report(jg.Group([x.max(axis=1), x.sum(axis=1)]), x=np.ones((4, 6)))
    assert len(r.groups) == 1 and r.source.count("prange") == 1


def test_full_reduction_is_parallel_over_chunks():
    r = report(((x - y) ** 2).mean(), x=np.ones(100), y=np.ones(100))
    assert "prange" in r.source and "part" in r.source
    assert r.buffers == []


def test_declined_fusions_have_reason_codes():
    xs = np.ones((4, 4))
    r = report((x * 2) @ (x * 3), x=xs)
    assert {d["reason"] for d in r.declined} == {"matmul-operand"}
    r = report(jg.Group([jg.sym.exp(x).sum(axis=0), jg.sym.exp(x).T.sum(axis=0)]), x=xs)
    assert any(d["reason"] in ("multiple-consumers", "view-of-computed") for d in r.declined)
    r = report(jg.Group([x * 2, (x * 3).sum(axis=0)]), x=xs)
    assert {d["reason"] for d in r.declined} == {"reduction-axis"}
    assert "reduction-axis: reduces leading axes" in str(r)


def test_buffers_are_reused_when_lifetimes_do_not_overlap():
    # Products in a chain: each intermediate is read while the next is written, so two slots
    # alternate; the third intermediate takes the first one's slot.
    chain = (((x @ x) @ x) @ x) @ x
    r = report(chain, x=np.ones((8, 8)))
    slots = [b["slot"] for b in r.buffers]
    assert len(r.buffers) == 3 and slots[0] == slots[2] != slots[1]
    assert r.memory["planned_bytes"] == 2 * 8 * 8 * 8
    assert r.memory["fused_bytes"] == 3 * 8 * 8 * 8
    np.testing.assert_allclose(jg.compile(chain, backend="python")(x=np.eye(8) * 2), np.eye(8) * 32)


def test_update_writes_in_place_over_a_dying_buffer():
    @jg.jit(backend="python")
    def f(a):
        t = a * 2.0
        t[1:-1] = 0.0
        return t

    a = np.arange(6.0)
    np.testing.assert_array_equal(f(a), np.array([0, 0, 0, 0, 0, 10.0]))
    r = f.inspect(a)
    (row,) = r.buffers
    assert row["in_output"] is not None and row["slot"] is None
    assert r.memory["planned_bytes"] == 0
    assert r.source.count("prange") == 2  # compute t into the output, then the region


def test_each_fusion_report_section_is_printed_and_serializable():
    r = report(softmax(x), x=np.ones((4, 4)))
    text = str(r)
    for section in (
        "graph as built",
        "fusion groups",
        "fusions declined",
        "memory plan",
        "generated code",
    ):
        assert f"== {section}" in text
    data = r.as_dict()
    import json

    json.dumps(data)
    assert set(data) >= {"stages", "groups", "declined", "buffers", "memory", "source"}


def test_reduction_after_batched_product_keeps_the_product_rows():
    # Found by the fuzzer: a reduction over the product's last two axes would have made the
    # row loop shallower than the product's rows (batch, i).
    a = jg.Variable("a")
    product = a @ a.transpose((0, 2, 1))
    data = np.random.default_rng(3).uniform(0.5, 1.5, (2, 3, 4))
    for backend in ("python", "reference"):
        got = jg.compile(product.prod(axis=(-2, 2), keepdims=True), backend=backend)(a=data)
        want = np.prod(data @ data.transpose(0, 2, 1), axis=(-2, 2), keepdims=True)
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_reshape_of_a_weak_constant():
    # Found while fuzzing the frontend: a 0-d constant has no array to reshape.
    from jitgraph import runtime
    from jitgraph.ir import build
    from jitgraph.ir.node import Graph
    from jitgraph.ir.ops import Op

    xs = build.argument("x", 0, np.float64, (None,))
    out = build.elementwise(Op.ADD, build.cast(build.reshape(build.const(3), (1,)), np.int64), xs)
    graph = Graph((out,), (xs,), ("out0",), {})
    data = np.array([1.0, 2.0])
    for backend in ("python", "reference"):
        (got,) = runtime.build(graph, backend).run(data)
        np.testing.assert_array_equal(got, data + 3)


def test_column_reductions_fold_rows_in_parallel_chunks():
    """sum(axis=0) reads rows, not columns: chunks of rows fold into a row of partials each
    (contiguous, vectorized), then the partials are combined per column in chunk order."""
    xs = np.arange(24.0).reshape(8, 3)
    r = report(x.sum(axis=0), x=xs)
    assert "rowacc" in r.source and "part" in r.source
    for expr, expected in ((x.sum(axis=0), xs.sum(axis=0)), (x.max(axis=0), xs.max(axis=0)),
                           (((x - 3.0) ** 2).mean(axis=0), ((xs - 3.0) ** 2).mean(axis=0))):
        np.testing.assert_allclose(jg.compile(expr, backend="python")(x=xs), expected)


def test_column_standardization_computes_the_column_mean_once():
    """std(axis=0) centres with the same mean node as the user's X.mean(axis=0) (no kept axes
    over leading axes), so the mean is one reduction shared by both."""
    xs = np.arange(24.0).reshape(8, 3)
    r = report((x - x.mean(axis=0)) / x.std(axis=0), x=xs)
    assert [g["kind"] for g in r.groups].count("reduce") == 2  # the mean, the squared deviations
    got = jg.compile((x - x.mean(axis=0)) / x.std(axis=0), backend="python")(x=xs)
    np.testing.assert_allclose(got, (xs - xs.mean(axis=0)) / xs.std(axis=0))


def test_cheap_value_read_by_two_nests_is_recomputed_not_stored():
    """x - mean, read by the variance's reduction and by the output, is one subtraction: each
    nest computes it again instead of writing and re-reading an array of x's size. A costly
    value read by two nests (exp) is still stored once."""
    xs = np.arange(24.0).reshape(8, 3) ** 1.5
    r = report((x - x.mean(axis=0)) / x.std(axis=0), x=xs)
    recomputed = [d for d in r.declined if d["reason"] == "recomputed"]
    assert [d["op"] for d in recomputed] == ["subtract"]
    assert sum("subtract" in g["ops"] for g in r.groups) == 2
    assert all(b["shape"] != (8, 3) for b in r.buffers)  # nothing of x's size is stored
    got = jg.compile((x - x.mean(axis=0)) / x.std(axis=0), backend="python")(x=xs)
    np.testing.assert_allclose(got, (xs - xs.mean(axis=0)) / xs.std(axis=0), rtol=1e-14)
    e = jg.sym.exp(x)
    r = report(e.sum(axis=0) + e.max(axis=0), x=xs)
    assert not [d for d in r.declined if d["reason"] == "recomputed"]


# -- column fusion (passes/columns.py) and the one-pass float32 variance ---------------------


def _standardized(xs: np.ndarray, ddof: int = 0) -> np.ndarray:
    """The float64 result, rounded to float32: what an exact float32 computation returns."""
    wide = xs.astype(np.float64)
    return ((wide - wide.mean(axis=0)) / wide.std(axis=0, ddof=ddof)).astype(np.float32)


def test_float32_column_moments_share_one_pass_over_x():
    """A float32 column standardization: the mean and the variance's two shifted sums are one
    loop nest reading each element once; the deviations they share are computed there, not
    stored; nothing of x's size is stored at all."""
    xs = (np.random.default_rng(3).standard_normal((40, 7)) * 3 + 10).astype(np.float32)
    expr = (x - x.mean(axis=0)) / x.std(axis=0)
    r = report(expr, x=xs)
    (columns,) = [g for g in r.groups if g["kind"] == "columns"]
    assert [st["ops"][-1] for st in columns["stages"]] == ["sum", "sum", "sum"]
    assert columns["shared"]  # the deviations from the first row
    assert [g["kind"] for g in r.groups].count("reduce") == 0
    assert all(b["shape"] != (40, 7) for b in r.buffers)
    assert "column loop: 3 reductions" in r.source and r.source.count("rowacc") >= 3
    with disabled("fuse_columns"):
        unfused = report(expr, x=xs)
    assert not [g for g in unfused.groups if g["kind"] == "columns"]
    assert [g["kind"] for g in unfused.groups].count("reduce") == 3
    want = _standardized(xs)
    # float32 rounding of x - mean (|x| ~ 10, the mean to its last bit) over std (~3), and of
    # the quotient: a few units in the last place of each
    eps = np.finfo(np.float32).eps
    wide = xs.astype(np.float64)
    bound = 4 * eps * ((np.abs(wide) + np.abs(wide.mean(axis=0))) / wide.std(axis=0)
                       + np.abs(want))
    for backend in ("python", "numba"):
        got = jg.compile(expr, backend=backend)(x=xs)
        assert got.dtype == np.float32
        assert np.all(np.abs(got - want) <= bound), backend
    with disabled("fuse_columns"):
        assert np.all(np.abs(jg.compile(expr, backend="python")(x=xs) - want) <= bound)


def test_float32_column_variance_is_accurate_where_float32_two_pass_is_not():
    """Columns with a large mean and a small spread, and a first row far from the mean: the
    shifted float64 sums keep the variance to float32 rounding (NumPy's float32 two-pass
    formula loses digits here; ours must not)."""
    rng = np.random.default_rng(4)
    xs = (rng.standard_normal((1000, 4)) * 0.01 + 1e4).astype(np.float32)
    xs[0] = [1e4 + 30, 1e4 - 30, 0, 1e4]  # 3000 and ~1e6 standard deviations off, and 0
    wide = xs.astype(np.float64)
    f = jg.compile(jg.Group([x.var(axis=0), x.std(axis=0, ddof=1)]), backend="python")
    var, std = f(x=xs)
    want_var, want_std = wide.var(axis=0), wide.std(axis=0, ddof=1)
    np.testing.assert_allclose(var[[0, 1, 3]], want_var[[0, 1, 3]], rtol=2e-6)
    np.testing.assert_allclose(std[[0, 1, 3]], want_std[[0, 1, 3]], rtol=2e-6)
    # column 2: the first row ~1e6 standard deviations away: documented limit, still close
    np.testing.assert_allclose(var[2], want_var[2], rtol=1e-3)


@pytest.mark.filterwarnings("ignore:Degrees of freedom:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")
@pytest.mark.parametrize(
    "shape, ddof, keepdims",
    [((9, 4), 0, False), ((9, 4), 1, True), ((5, 3, 2), 0, True), ((3, 2), 3, False),
     ((1, 5), 0, False), ((1, 5), 1, False), ((0, 3), 0, False), ((0, 3), 1, True)],
)
def test_float32_column_variance_edge_cases_match_numpy(shape, ddof, keepdims):
    """ddof (up to n: infinity or NaN as NumPy), keepdims, more axes, one row, no rows (NaN,
    and no error: the first row is only read where there are rows)."""
    xs = (np.random.default_rng(5).standard_normal(shape) * 2 + 5).astype(np.float32)
    f = jg.compile(jg.Group([x.var(axis=0, ddof=ddof, keepdims=keepdims),
                             x.std(axis=0, ddof=ddof, keepdims=keepdims),
                             x.mean(axis=0)]), backend="python")
    with np.errstate(all="ignore"):
        got = f(x=xs)
        wide = xs.astype(np.float64)
        want = [wide.var(axis=0, ddof=ddof, keepdims=keepdims),
                wide.std(axis=0, ddof=ddof, keepdims=keepdims), wide.mean(axis=0)]
    for g, w in zip(got, want, strict=True):
        assert g.dtype == np.float32 and g.shape == w.shape
        np.testing.assert_allclose(g, w.astype(np.float32), rtol=1e-6, atol=1e-6,
                                   equal_nan=True)


def test_float32_column_variance_propagates_nan_and_inf_as_numpy():
    xs = np.arange(20, dtype=np.float32).reshape(5, 4)
    xs[2, 0], xs[0, 1], xs[3, 2] = np.nan, np.inf, -np.inf
    f = jg.compile(jg.Group([x.var(axis=0), x.std(axis=0)]), backend="python")
    with np.errstate(all="ignore"):
        got = f(x=xs)
        want = [xs.var(axis=0), xs.std(axis=0)]
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
        np.testing.assert_allclose(g[~np.isnan(w)], w[~np.isnan(w)], rtol=1e-6)


def test_dependent_column_reductions_stay_separate_passes():
    """sum(x - sum(x)) reads the first sum: one pass cannot compute both (a cycle)."""
    xs = np.arange(12.0).reshape(4, 3) ** 2
    expr = (x - x.sum(axis=0)).sum(axis=0) + x.max(axis=0)
    r = report(expr, x=xs)
    kinds = [g["kind"] for g in r.groups]
    (columns,) = [g for g in r.groups if g["kind"] == "columns"]
    # the first sum and the max are independent: one pass; the dependent sum: another
    assert sorted(st["ops"][-1] for st in columns["stages"]) == ["max", "sum"]
    assert kinds.count("reduce") == 1
    want = (xs - xs.sum(axis=0)).sum(axis=0) + xs.max(axis=0)
    np.testing.assert_allclose(jg.compile(expr, backend="python")(x=xs), want)


def test_gradient_of_float32_column_std():
    """The shift has no gradient (build._first_row); the gradient of the one-pass variance is
    the two-pass one's: (x - mean) / (n std) per element of sum(std)."""
    xs = (np.random.default_rng(6).standard_normal((30, 5)) * 2 + 7).astype(np.float32)
    (gx,) = x.std(axis=0).sum().grad(wrt=[x])
    g = jg.compile(gx, backend="python")(x=xs)
    wide = xs.astype(np.float64)
    want = (wide - wide.mean(axis=0)) / (wide.shape[0] * wide.std(axis=0))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, want, rtol=2e-5, atol=1e-6)


def test_column_loop_results_stored_flat_match_numpy_compiled():
    """Sums store each block of columns as they are combined, through a flat view of the
    result (kept axes, more than one kept axis); a max in the same pass is stored per column."""
    xs = (np.random.default_rng(7).standard_normal((70, 3, 5)) + 2).astype(np.float32)
    f = jg.compile(jg.Group([x.sum(axis=0, keepdims=True), x.var(axis=0), x.max(axis=0)]),
                   backend="numba")
    r = f.inspect(x=xs)
    assert [g["kind"] for g in r.groups].count("columns") == 1
    got = f(x=xs)
    wide = xs.astype(np.float64)
    want = [wide.sum(axis=0, keepdims=True), wide.var(axis=0), wide.max(axis=0)]
    for g, w in zip(got, want, strict=True):
        assert g.dtype == np.float32 and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=2e-6, atol=1e-5)
