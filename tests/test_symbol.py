"""The Symbol API: the seed documents' examples as acceptance tests, then naming, executors,
shape/type inference and bad input. Numba compiles are shared through module-level functions."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import jitgraph as jg


def seed_graph():
    a, b, c, d = (jg.Variable(n) for n in "ABCD")
    return (a * b) + (c * d)


# -- the seed examples ----------------------------------------------------------------------------


@pytest.mark.numba
def test_seed_memory_example_compiles_and_runs():
    A = jg.Variable("A")
    B = jg.Variable("B")
    C = B * A
    D = C + jg.Constant(1)  # noqa: E702
    f = jg.compile(D)
    d = f(A=np.ones(10), B=np.ones(10) * 2)
    assert d.dtype == np.float64 and d.shape == (10,)
    np.testing.assert_array_equal(d, np.full(10, 3.0))


def test_seed_symbol_listing():
    e = seed_graph()
    assert e.list_arguments() == ["A", "B", "C", "D"]
    assert e.list_outputs() == ["_plus0_output"]
    assert e.get_internals().list_outputs() == [
        "A",
        "B",
        "_mul0_output",
        "C",
        "D",
        "_mul1_output",
        "_plus0_output",
    ]
    assert repr(e) == "<Symbol _plus0>"
    assert repr(jg.Variable("A")) == "<Symbol A>"


@pytest.mark.numba
def test_seed_bind_forward_int32_and_float32():
    e = seed_graph()
    ex = e.bind(
        jg.cpu(),
        {
            "A": np.array([1], np.int32),
            "B": np.array([2], np.int32),
            "C": np.array([3], np.int32),
            "D": np.array([4], np.int32),
        },
    )
    out = ex.forward()
    assert isinstance(out, list) and len(out) == 1
    assert out[0].dtype == np.int32
    np.testing.assert_array_equal(out[0], np.array([14], np.int32))
    assert ex.outputs is out

    rng = np.random.default_rng(0)
    data = {n: rng.uniform(0, 1, (1000, 1000)).astype(np.float32) for n in "ABCD"}
    ex = e.bind(jg.cpu(), data)
    result = ex.forward()[0]
    assert result.dtype == np.float32 and result.shape == (1000, 1000)
    np.testing.assert_allclose(result, data["A"] * data["B"] + data["C"] * data["D"], rtol=1e-6)


@pytest.mark.numba
def test_kernel_is_reused_for_other_sizes():
    f = jg.compile(seed_graph())
    for n in (1, 5, 1000):
        arrays = {k: np.full(n if n != 1 else 3, i + 1, np.float32) for i, k in enumerate("ABCD")}
        np.testing.assert_array_equal(f(**arrays), np.full(arrays["A"].shape, 14, np.float32))
    assert len(f._cache) == 1


def test_internals_select_and_compile():
    internals = seed_graph().get_internals()
    mul = internals["_mul0_output"]
    assert mul.list_outputs() == ["_mul0_output"]
    assert mul.list_arguments() == ["A", "B"]
    f = jg.compile(mul, backend="python")
    np.testing.assert_array_equal(f(A=np.array([2.0]), B=np.array([3.0])), [6.0])
    assert internals[2].list_outputs() == ["_mul0_output"]
    with pytest.raises(KeyError, match="no output named"):
        internals["_mul9_output"]


def test_compiling_one_internal_computes_only_what_it_needs():
    internals = seed_graph().get_internals()
    f = jg.compile(internals["_mul1_output"], backend="python")
    assert f.arguments == ["C", "D"]
    source = f.source(C=np.ones(3), D=np.ones(3))
    assert source.count("prange") == 1 and "a0_C" in source and "_B" not in source


# -- names, groups, compile results ----------------------------------------------------------------


def test_user_names_and_automatic_names():
    x = jg.Variable("x")
    y = jg.sym.exp(x, name="e") * 2
    assert y.get_internals().list_outputs() == ["x", "e_output", "_mul0_output"]
    z = jg.sym.sum(jg.sym.exp(x) + jg.sym.exp(x * 2))
    assert z.get_internals().list_outputs() == [
        "x",
        "exp0_output",
        "_mul0_output",
        "exp1_output",
        "_plus0_output",
        "sum0_output",
    ]


def test_group_and_list_compile_return_lists():
    x = jg.Variable("x")
    g = jg.Group([x + 1, x * 2])
    assert g.list_outputs() == ["_plus0_output", "_mul0_output"]
    out = jg.compile(g, backend="python")(x=np.arange(3.0))
    assert isinstance(out, list) and len(out) == 2
    single = jg.compile([x + 1], backend="python")(x=np.arange(3.0))
    assert isinstance(single, list) and len(single) == 1
    np.testing.assert_array_equal(jg.compile(x + 1, backend="python")(np.arange(3.0)), [1, 2, 3])


def test_duplicate_outputs_are_distinct_arrays():
    x = jg.Variable("x")
    y = x + 1
    a, b = jg.compile([y, y], backend="python")(x=np.zeros(2))
    a[0] = 7
    assert b[0] == 1


def test_outputs_never_alias_inputs():
    x = jg.Variable("x")
    data = np.arange(4.0)
    (out,) = jg.compile([x], backend="python")(x=data)
    out[0] = 99
    assert data[0] == 0


def test_methods_and_sym_functions():
    x = jg.Variable("x")
    xs = np.arange(12.0).reshape(3, 4) - 5
    cases = {
        "T": (x.T, xs.T),
        "sum1": (x.sum(axis=1), xs.sum(axis=1)),
        "max_keep": (x.max(axis=0, keepdims=True), xs.max(axis=0, keepdims=True)),
        "reshape": (x.reshape(2, 6), xs.reshape(2, 6)),
        "astype": (x.astype("int32"), xs.astype(np.int32)),
        "index": (x[1, ::-2], xs[1, ::-2]),
        "none": (x[None, :, 1], xs[None, :, 1]),
        "where": (jg.sym.where(x > 0, x, 0.5), np.where(xs > 0, xs, 0.5)),
        "clip": (x.clip(-1, 2), xs.clip(-1, 2)),
        "std": (x.std(axis=1, ddof=1), xs.std(axis=1, ddof=1)),
        "matmul": (x @ x.T, xs @ xs.T),
        "neg_abs": (abs(-x), abs(-xs)),
        "pow": (2**x, 2.0**xs),
    }
    f = jg.compile([s for s, _ in cases.values()], backend="python")
    for (name, (_, want)), got in zip(cases.items(), f(x=xs)):
        assert got.dtype == want.dtype, name
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=name)


# -- shape and type inference ----------------------------------------------------------------------


def test_infer_shape_and_type():
    x, w = jg.Variable("x"), jg.Variable("w")
    y = (x @ w).sum(axis=1, keepdims=True)
    arg_shapes, out_shapes = y.infer_shape(x=(8, 3), w=(3, 5))
    assert arg_shapes == [(8, 3), (3, 5)] and out_shapes == [(8, 1)]
    arg_types, out_types = y.infer_type(x=np.float32, w=np.float64)
    assert arg_types == [np.float32, np.float64] and out_types == [np.float64]
    assert (x + 1).infer_type(x=np.int32)[1] == [np.int32]  # NEP 50: the 1 is weak
    declared = jg.Variable("v", shape=(2, 3))
    assert declared.sum(axis=0).infer_shape() == ([(2, 3)], [(3,)])


def test_infer_shape_errors():
    x, w = jg.Variable("x"), jg.Variable("w")
    with pytest.raises(jg.GraphShapeError, match="contracted sizes differ: 3 .* 4"):
        (x @ w).infer_shape(x=(2, 3), w=(4, 5))
    with pytest.raises(jg.ArgumentError, match="no shape for argument 'w'"):
        (x + w).infer_shape(x=(2, 3))
    with pytest.raises(jg.ArgumentError, match="unknown argument 'q'"):
        (x + w).infer_shape(x=(2, 3), q=(1,))
    with pytest.raises(jg.GraphShapeError, match="cannot be broadcast"):
        (x + w).infer_shape(x=(2, 3), w=(4,))


# -- bad input: each gets a clear error naming what is wrong ---------------------------------------


@pytest.fixture(scope="module")
def seed_fn():
    return jg.compile(seed_graph(), backend="python")


def test_missing_and_unknown_arguments(seed_fn):
    ones = np.ones(3)
    with pytest.raises(jg.ArgumentError, match="missing arguments 'C', 'D'"):
        seed_fn(A=ones, B=ones)
    with pytest.raises(jg.ArgumentError, match="unknown argument 'E'"):
        seed_fn(A=ones, B=ones, C=ones, D=ones, E=ones)
    with pytest.raises(TypeError):  # ArgumentError is a TypeError
        seed_fn(ones, ones, ones, ones, ones)
    with pytest.raises(jg.ArgumentError, match="missing argument 'D'"):
        seed_graph().bind(jg.cpu(), {"A": ones, "B": ones, "C": ones})


def test_incompatible_shapes_name_the_arguments(seed_fn):
    with pytest.raises(jg.ArgumentShapeError) as info:
        seed_fn(A=np.ones(3), B=np.ones(4), C=np.ones(3), D=np.ones(3))
    message = str(info.value)
    assert "'A' has shape (3,)" in message and "'B' has shape (4,)" in message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "bad, dtype_text",
    [
        (np.array(["a", "b"]), "<U1"),
        (np.array([object(), 1]), "object"),
        (np.ones(2, np.complex128), "complex128"),
        (np.ones(2, np.float16), "float16"),
        (np.array(["2020-01-01"], dtype="datetime64[D]"), "datetime64"),
    ],
)
def test_unsupported_dtypes_are_rejected_by_name(seed_fn, bad, dtype_text):
    ones = np.ones(2)
    with pytest.raises(jg.ArgumentError, match=f"argument 'C' .* has dtype {dtype_text}"):
        seed_fn(A=ones, B=ones, C=bad, D=ones)


def test_ragged_list_argument(seed_fn):
    ones = np.ones(2)
    with pytest.raises(jg.ArgumentError, match="argument 'A'"):
        seed_fn(A=[[1, 2], [3]], B=ones, C=ones, D=ones)


def test_bad_graph_construction_errors():
    x = jg.Variable("x")
    with pytest.raises(jg.GraphTypeError, match="cannot use 'abc' as a constant"):
        x + "abc"
    with pytest.raises(jg.GraphTypeError, match="complex"):
        x + 1j
    with pytest.raises(jg.ArgumentError, match="non-empty string"):
        jg.Variable("")
    with pytest.raises(jg.GraphTypeError, match="float16"):
        jg.Variable("h", dtype=np.float16)
    with pytest.raises(TypeError, match="truth value of a Symbol"):
        bool(x > 0)
    with pytest.raises(jg.GraphTypeError, match="does not accept"):
        jg.compile(-(x > 0), backend="reference")(x=np.ones(2))
    with pytest.raises(jg.GraphIndexError, match="too many indices"):
        jg.compile(x[0, 0, 0], backend="reference")(x=np.ones((2, 2)))
    with pytest.raises(jg.GraphShapeError, match="axis 2 is out of bounds"):
        jg.compile(x.sum(axis=2), backend="reference")(x=np.ones((2, 2)))
    with pytest.raises(jg.ArgumentError, match="two different Variables are named 'x'"):
        (x + jg.Variable("x")).list_arguments()
    with pytest.raises(jg.ArgumentError, match="no gpu backend"):
        jg.gpu()


def test_declared_shape_and_dtype_are_enforced():
    v = jg.Variable("v", shape=(2, None), dtype=np.float32)
    f = jg.compile(v * 2, backend="python")
    np.testing.assert_array_equal(f(v=np.ones((2, 5), np.float32)), np.full((2, 5), 2, np.float32))
    with pytest.raises(
        jg.ArgumentShapeError, match=r"'v' has shape \(3, 5\).*declared with shape \(2, None\)"
    ):
        f(v=np.ones((3, 5), np.float32))
    with pytest.raises(
        jg.ArgumentError, match="'v' has dtype float64.*declared with dtype float32"
    ):
        f(v=np.ones((2, 5)))


def test_runtime_index_out_of_range_is_an_index_error():
    x = jg.Variable("x")
    f = jg.compile(x[3], backend="python")
    assert f(x=np.arange(5.0)) == 3.0
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis with size x.0 = 2"):
        f(x=np.arange(2.0))


def test_max_of_empty_raises_like_numpy():
    x = jg.Variable("x")
    f = jg.compile(x.max(axis=1), backend="python")
    with pytest.raises(ValueError, match="zero-size array to reduction operation maximum"):
        f(x=np.ones((3, 0)))
    np.testing.assert_array_equal(f(x=np.ones((0, 3))), np.ones(0))


def test_hostile_variable_names_are_data():
    name = "x); import os; os._exit(1); ("
    x = jg.Variable(name)
    y = jg.Variable("y\nimport sys")
    f = jg.compile(x + y, backend="python")
    np.testing.assert_array_equal(f(**{name: np.ones(2), "y\nimport sys": np.ones(2)}), [2.0, 2.0])
    source = f.source(**{name: np.ones(2), "y\nimport sys": np.ones(2)})
    assert "import os" not in source.replace("\\n", " ").split("#")[0]
    compile(source, "<check>", "exec")  # still valid Python


def test_inputs_are_never_modified():
    x = jg.Variable("x")
    data = np.arange(6.0).reshape(2, 3)
    before = data.copy()
    jg.compile([x * 2, x.sum(axis=0), x.T @ x], backend="python")(x=data)
    np.testing.assert_array_equal(data, before)


# -- concurrency -----------------------------------------------------------------------------------


@pytest.mark.numba
def test_concurrent_callers_get_correct_results():
    x = jg.Variable("x")
    f = jg.compile((x * 2).sum(axis=1))
    data = [np.full((200, 300), i, np.float64) for i in range(8)]
    f(x=data[0])  # compile once before the threads start
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        for _ in range(20):
            results[i] = f(x=data[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(8):
        np.testing.assert_array_equal(results[i], np.full(200, 600.0 * i))
