"""Saving and loading Symbols: faithful round trips, and strict rejection of malformed files.

Results of the original and the loaded graph are compared with the "reference" backend (the NumPy
interpreter) or the "python" backend (the generated code, run without Numba); only the seed
example compiles with Numba. Graphs with an argument or a constant as an output (get_internals,
creation ops, x[()]) use "reference": generated code does not copy such outputs yet.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import Any

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import jitgraph as jg
from jitgraph import sym
from jitgraph.errors import ArgumentError, SerializationError
from jitgraph.ir.dtypes import SUPPORTED
from jitgraph.serialize import kind_of
from jitgraph.symbol import SYM_OPS, SymNode, sym_topological

# ---------------------------------------------------------------------------------------------
# Helpers


def same_attr(a: Any, b: Any) -> bool:
    """Exact equality of attribute values: types too; arrays by dtype, shape and values."""
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        )
    if isinstance(a, tuple):
        return type(b) is tuple and len(a) == len(b) and all(map(same_attr, a, b))
    if isinstance(a, float) and np.isnan(a):
        return type(b) is type(a) and np.isnan(b)
    return type(a) is type(b) and a == b


def assert_same_graph(a: jg.Symbol, b: jg.Symbol) -> None:
    order_a, order_b = sym_topological(a._heads), sym_topological(b._heads)
    assert len(order_a) == len(order_b)
    pos_a = {id(n): i for i, n in enumerate(order_a)}
    pos_b = {id(n): i for i, n in enumerate(order_b)}
    for x, y in zip(order_a, order_b, strict=True):
        assert (x.op, x.name) == (y.op, y.name)
        assert [pos_a[id(i)] for i in x.inputs] == [pos_b[id(i)] for i in y.inputs]
        assert x.attrs.keys() == y.attrs.keys()
        for key in x.attrs:
            assert same_attr(x.attrs[key], y.attrs[key]), (x.op, key, x.attrs[key], y.attrs[key])


def roundtrip(symbol: jg.Symbol) -> jg.Symbol:
    """Save and load `symbol`; check the copy's structure, names and text equal the original's."""
    text = symbol.tojson()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON literal {c}"))
    loaded = jg.fromjson(text)
    assert_same_graph(symbol, loaded)
    assert loaded.tojson() == text
    assert loaded.list_outputs() == symbol.list_outputs()
    assert loaded.get_internals().list_outputs() == symbol.get_internals().list_outputs()
    try:
        expected = symbol.list_arguments()
    except ArgumentError:
        with pytest.raises(ArgumentError):
            loaded.list_arguments()
    else:
        assert loaded.list_arguments() == expected
    return loaded


def assert_same_results(
    original: jg.Symbol, loaded: jg.Symbol, backend: str = "python", /, **args: Any
) -> None:
    got = jg.compile(loaded, backend=backend)(**args)
    want = jg.compile(original, backend=backend)(**args)
    got, want = (got, want) if isinstance(got, list) else ([got], [want])
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)


def check(symbol: jg.Symbol, backend: str = "python", /, **args: Any) -> jg.Symbol:
    loaded = roundtrip(symbol)
    assert_same_results(symbol, loaded, backend, **args)
    return loaded


# ---------------------------------------------------------------------------------------------
# The seed example, and the format


@pytest.mark.numba
def test_seed_example_saves_loads_and_runs_with_numba(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    A = jg.Variable("A")
    B = jg.Variable("B")
    C = B * A
    D = C + jg.Constant(1)  # noqa: E702
    D.save("mygraph")
    D2 = jg.load("mygraph")
    f = jg.compile([D2])
    out = f(A=np.ones(10), B=np.ones(10) * 2)  # noqa: E501, E702
    assert isinstance(out, list) and len(out) == 1
    np.testing.assert_array_equal(out[0], np.full(10, 3.0))


def seed() -> jg.Symbol:
    A, B = jg.Variable("A"), jg.Variable("B")
    return B * A + jg.Constant(1)


def test_document_layout_is_versioned_topological_and_one_node_per_line():
    text = seed().tojson()
    doc = json.loads(text)
    assert list(doc) == ["format", "version", "nodes", "heads", "output_names"]
    assert (doc["format"], doc["version"], doc["heads"], doc["output_names"]) == (
        "jitgraph.symbol",
        1,
        [4],
        None,
    )
    assert [n["op"] for n in doc["nodes"]] == ["var", "var", "multiply", "const", "add"]
    assert doc["nodes"][2] == {"op": "multiply", "name": None, "inputs": [0, 1], "attrs": {}}
    assert doc["nodes"][3]["attrs"] == {
        "value": {"dtype": "int64", "shape": [], "data": [1]},
        "weak": True,
    }
    node_lines = [line for line in text.splitlines() if line.startswith('  {"op"')]
    assert len(node_lines) == 5


def test_output_is_deterministic():
    assert seed().tojson() == seed().tojson()
    s = seed()
    assert s.tojson() == s.tojson()


def test_save_and_load_paths(tmp_path):
    path = tmp_path / "graph.json"
    seed().save(str(path))
    loaded = jg.load(path)  # a pathlib.Path works too
    assert_same_graph(seed(), loaded)
    assert_same_results(seed(), loaded, A=np.arange(4.0), B=np.ones(4))


def test_non_finite_floats_are_strings_so_the_text_is_strict_json():
    s = jg.Variable("x") + jg.Constant(np.array([np.nan, np.inf, -np.inf, -0.0, 1e-300]))
    text = s.tojson()
    assert '"nan", "inf", "-inf", -0.0, 1e-300' in text
    assert "NaN" not in text and "Infinity" not in text
    check(s, x=np.ones(5))


# ---------------------------------------------------------------------------------------------
# Round trips, by attribute kind


@pytest.mark.parametrize(
    "key",
    [
        (slice(1, -1, 2), None, Ellipsis, slice(None, None, -1)),
        (-1,),
        (slice(None, None, -2),),
        (Ellipsis, 0),
        (None, slice(3, None), 2),
        (slice(-2, None, None), slice(None, 1, None)),
        (),
    ],
    ids=repr,
)
def test_getitem_keys(key):
    x = jg.Variable("x")
    # x[()] is x itself: an argument as output, which the generated code does not copy yet.
    backend = "reference" if key == () else "python"
    loaded = check(x[key], backend, x=np.arange(30.0).reshape(5, 6))
    assert loaded._heads[0].attrs["key"] == key


def test_shape_ops():
    x = jg.Variable("x")
    parts = [
        x.reshape(-1, 2),
        x.reshape((3, 4)),
        x.transpose(1, 0),
        x.T,
        sym.expand_dims(x, (0, 2)),
        sym.expand_dims(x, -1).squeeze(-1),
        sym.broadcast_to(x, (2, 4, 3)),
        sym.concatenate([x, x], axis=1),
        sym.stack([x, x, x], axis=-1),
        sym.transpose(x, (1, 0)),
    ]
    check(jg.Group(parts), x=np.arange(12.0).reshape(4, 3))


def test_reductions_and_statistics():
    x = jg.Variable("x")
    parts = [
        x.sum(axis=(0, 2)),
        x.prod(axis=1, keepdims=True),
        x.mean(),
        sym.amax(x, axis=[0, 1]),
        x.min(axis=-1),
        x.argmax(axis=2),
        x.argmin(),
        (x > 5).any(axis=0),
        (x > 0).all(),
        x.var(axis=(1, 2), ddof=1),
        x.std(ddof=2, keepdims=True),
        sym.var(x, axis=0),
    ]
    check(jg.Group(parts), x=np.arange(24.0).reshape(2, 3, 4) % 7)


@pytest.mark.parametrize(
    "value",
    [
        np.array([np.nan, np.inf, -np.inf, 0.5], np.float32),
        np.array([[1.5, -2.0], [np.nan, 3.0]]),
        np.array([-128, 0, 127], np.int8),
        np.array([0, 2**64 - 1], np.uint64),
        np.array([-(2**63), 2**63 - 1], np.int64),
        np.array([[True, False, True]]),
        np.array(7, np.uint16),
        np.zeros((0, 3), np.int32),
        np.float32(2.5),
    ],
    ids=lambda v: f"{v.dtype}{list(np.shape(v))}",
)
def test_constant_arrays(value):
    s = jg.Variable("x") + jg.Constant(value, name="c")
    check(s, "reference", x=np.zeros(np.shape(value), np.int8))


@settings(max_examples=150, deadline=None)
@given(
    hnp.arrays(
        st.sampled_from(list(SUPPORTED)),
        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    )
)
def test_any_constant_array_round_trips_exactly(value):
    loaded = roundtrip(jg.Constant(value))
    got = loaded._heads[0].attrs["value"]
    assert got.dtype == value.dtype and got.shape == value.shape
    assert np.array_equal(got, value, equal_nan=value.dtype.kind == "f")
    if value.dtype.kind == "f":  # -0.0 stays negative (a NaN's sign and payload are not kept)
        assert np.array_equal(np.signbit(got) | np.isnan(got), np.signbit(value) | np.isnan(value))


def test_weak_constant_stays_weak_and_strong_stays_strong():
    x = jg.Variable("x")
    weak = roundtrip(x + jg.Constant(1))
    strong = roundtrip(x + jg.Constant(np.int64(1)))
    big = roundtrip(x + jg.Constant(2**63 + 5))
    a = np.arange(4, dtype=np.int32)
    assert jg.compile(weak, backend="python")(x=a).dtype == np.int32
    assert jg.compile(strong, backend="python")(x=a).dtype == np.int64
    assert weak._heads[0].inputs[1].attrs["weak"] is True
    assert big._heads[0].inputs[1].attrs["value"].dtype == np.uint64
    for value in (True, 2.5, -3):
        check(x * jg.Constant(value), "reference", x=np.arange(3, dtype=np.float32))


def test_creation_ops():
    x = jg.Variable("x")
    parts = [
        sym.zeros((2, 3)),
        sym.ones(4, dtype="int16"),
        sym.empty((1, 2), dtype=np.float32),
        sym.full((2,), np.float32(1.5)),
        sym.full((2, 2), 7),
        sym.full(3, np.nan),
        sym.full((1,), True),
        sym.zeros_like(x),
        sym.ones_like(x, dtype=np.int8),
        sym.empty_like(x),
        sym.full_like(x, -np.inf),
        sym.arange(5),
        sym.arange(2.5),
        sym.arange(1, 10, 3),
        sym.arange(5, -5, -2.5, dtype=np.float32),
        sym.eye(3),
        sym.eye(2, 4, k=1, dtype=bool),
        sym.eye(3, k=-1),
        sym.linspace(0, 1, 5),
        sym.linspace(-1, 1, num=4, endpoint=False, dtype=np.float32),
        sym.linspace(0, 10, 3, dtype=np.int64),
    ]
    loaded = check(jg.Group(parts), "reference", x=np.ones(3))
    assert jg.compile(loaded[3], backend="reference")().dtype == np.float32  # typed fill survives


def test_clip_with_either_bound_or_both():
    x, lo, hi = jg.Variable("x"), jg.Variable("lo"), jg.Variable("hi")
    parts = [x.clip(0.5), x.clip(hi=2.5), sym.clip(x, lo, hi), sym.clip(x, lo=None, hi=hi)]
    check(jg.Group(parts), x=np.arange(5.0), lo=np.ones(5), hi=np.full(5, 3.0))


def test_other_ops_and_attributes():
    x, y = jg.Variable("x"), jg.Variable("y", shape=(None, 3), dtype=np.float64)
    parts = [
        sym.where(x > y, x, y),
        x.astype(np.int32),
        sym.astype(y, "float32"),
        sym.matmul(x, y.T),
        sym.dot(x[0], y[0]),
        sym.outer(x[0], y[0]),
        x @ y.T,
        sym.arctan2(x, y),
        -(abs(x) ** 2) // 3 % 5,
        ~(x > 1) & (y < 2) | (x == y) ^ (x != 0),
        sym.square(x),
        sym.reciprocal(y + 1),
        sym.exp(x),
        sym.log1p(y),
        sym.sqrt(abs(x)),
    ]
    data = np.arange(6.0).reshape(2, 3)
    loaded = check(jg.Group(parts), x=data, y=data[::-1].copy())
    with pytest.raises(ArgumentError, match="declared with dtype"):
        jg.compile(loaded, backend="python")(x=data, y=data.astype(np.float32))


@pytest.mark.parametrize(
    "op", sorted(n for n, s in SYM_OPS.items() if s.arity in (1, 2, 3) and not s.attrs)
)
def test_every_plain_op_round_trips(op):
    inputs = [jg.Variable(f"v{i}") for i in range(SYM_OPS[op].arity)]
    roundtrip(jg.symbol._apply(op, inputs))


def test_every_attribute_of_every_op_has_a_codec():
    for op, spec in SYM_OPS.items():
        for attr in spec.attrs:
            assert kind_of(op, attr), (op, attr)


def test_group_and_internal_selections_keep_their_output_names():
    a, b = jg.Variable("a"), jg.Variable("b")
    c = sym.multiply(a, b, name="prod")
    d = sym.exp(c) + 1
    internals = d.get_internals()
    group = jg.Group([internals["prod_output"], d, internals[0], d])
    args = dict(a=np.arange(3.0), b=np.ones(3))
    # The reference backend: generated code does not copy an argument that is an output yet.
    loaded = check(group, "reference", **args)
    assert loaded.list_outputs() == ["prod_output", "_plus0_output", "a", "_plus0_output"]
    assert internals.list_outputs() == ["a", "b", "prod_output", "exp0_output", "_plus0_output"]
    check(internals, "reference", **args)
    check(internals["exp0_output"], **args)
    check(jg.Group([internals[3], internals[2]]), **args)


def test_unusual_names_round_trip():
    names = [
        'say "hi"',
        "it's",
        "line\nbreak",
        "tab\there",
        "ünïcödé ✓",
        "\ud800 lone surrogate",
        "back\\slash",
        '{"op": "var"}',
        " ",
        "x" * 1000,
    ]
    xs = [jg.Variable(n) for n in names]
    total = sym.add(xs[0], xs[1], name='sum "of" \n two')
    for x in xs[2:]:
        total = total + x
    loaded = check(total, **{n: np.full(2, float(i)) for i, n in enumerate(names)})
    assert loaded.list_arguments() == names


def test_hostile_names_are_data_not_code(tmp_path):
    marker = tmp_path / "pwned"  # created if any name below ever ran as code
    evil = jg.Variable("x); import os; (")
    newline = jg.Variable(f"a\nb = 1\nopen({str(marker)!r}, 'w')")
    s = sym.multiply(evil, newline, name=f"'); open({str(marker)!r}, 'w'); ('") - evil
    args = {evil.name: np.arange(3.0), newline.name: np.full(3, 2.0)}
    loaded = check(s, **args)
    assert loaded.list_arguments() == ["x); import os; (", newline.name]
    out = jg.compile(loaded, backend="python")(np.arange(3.0), np.full(3, 2.0))
    np.testing.assert_array_equal(out, np.arange(3.0))
    assert not marker.exists()


def test_duplicate_variable_names_stay_distinct_nodes():
    s = jg.Variable("x") + jg.Variable("x")
    loaded = roundtrip(s)  # roundtrip also checks list_arguments raises on both
    assert len([n for n in sym_topological(loaded._heads) if n.op == "var"]) == 2


def test_shared_subgraphs_stay_shared():
    x = jg.Variable("x")
    y = sym.exp(x)
    loaded = roundtrip(y * y + y)
    order = sym_topological(loaded._heads)
    assert [n.op for n in order] == ["var", "exp", "multiply", "add"]


def test_a_loaded_graph_is_saved_identically_after_more_ops():
    loaded = jg.fromjson(seed().tojson())
    assert (loaded * 2).tojson() == (seed() * 2).tojson()


def test_saving_unsupported_values_fails_clearly():
    x = jg.Variable("x")
    with pytest.raises(SerializationError, match=r"node 1 \('slice0'\): attribute 'key'"):
        x[np.array([0, 1])].tojson()
    bad = jg.Symbol([SymNode("sum", [x._heads[0]], {"bogus": 1}, None)])
    with pytest.raises(SerializationError, match="has no attribute 'bogus'"):
        bad.tojson()


# ---------------------------------------------------------------------------------------------
# Rejections. The base file: B (0), A (1), _mul0 (2), const (3), _plus0 (4).


def base() -> dict[str, Any]:
    return json.loads(seed().tojson())


def load_doc(doc: Any) -> jg.Symbol:
    return jg.fromjson(json.dumps(doc))


def edit(fn: Callable[[dict], Any]) -> dict[str, Any]:
    doc = base()
    fn(doc)
    return doc


def node(doc: dict, i: int) -> dict:
    return doc["nodes"][i]


BAD_DOCUMENTS = [
    (lambda d: d.pop("format"), "'format' is missing"),
    (lambda d: d.update(format="mxnet"), "'format' is \"mxnet\", expected 'jitgraph.symbol'"),
    (
        lambda d: d.update(version=2),
        "unsupported version 2 (written by a newer jitgraph?); this jitgraph reads version 1",
    ),
    (lambda d: d.update(version=0), "unsupported version 0"),
    (lambda d: d.update(version="1"), "'version' must be an integer, got \"1\""),
    (lambda d: d.update(version=True), "'version' must be an integer, got true"),
    (lambda d: d.update(extra=1), 'unknown top-level key "extra"'),
    (lambda d: d.update(nodes={}), "'nodes' must be a list of node objects, got an object"),
    (lambda d: d.update(heads=[]), "'heads' must be a non-empty list"),
    (lambda d: d.update(heads=4), "'heads' must be a non-empty list"),
    (lambda d: d.update(heads=[4, 5]), "heads[1]: 5 is not a node index; there are 5 nodes"),
    (lambda d: d.update(heads=[-1]), "heads[0]: -1 is not a node index"),
    (lambda d: d.update(heads=[True]), "heads[0]: true is not a node index"),
    (lambda d: d.update(output_names=["a", "b"]), "'output_names' has 2 names for 1 heads"),
    (lambda d: d.update(output_names="out"), "'output_names' must be a list of strings or null"),
    (lambda d: d.update(output_names=[3]), "output_names[0]: expected a string"),
    (lambda d: d["nodes"].__setitem__(1, ["var"]), "node 1: expected a node object, got a list"),
    (
        lambda d: node(d, 2).update(kind="x"),
        "node 2 ('_mul0'): unknown key \"kind\"; a node has the keys op, name, inputs, attrs",
    ),
    (lambda d: node(d, 2).pop("op"), "node 2: 'op' is missing"),
    (
        lambda d: node(d, 2).update(op="multiplyy"),
        "node 2: unknown op \"multiplyy\"; did you mean 'multiply'?",
    ),
    (lambda d: node(d, 2).update(op="__import__"), 'node 2: unknown op "__import__"'),
    (lambda d: node(d, 2).update(op=["add"]), "node 2: unknown op a list of 1 items"),
    (
        lambda d: node(d, 2).update(inputs="0,1"),
        "node 2 ('_mul0'): 'inputs' must be a list of node indices",
    ),
    (
        lambda d: node(d, 2).update(inputs=[0, 1.0]),
        "node 2 ('_mul0'): inputs[1] must be a node index (an integer), got 1.0",
    ),
    (
        lambda d: node(d, 2).update(inputs=[0, False]),
        "node 2 ('_mul0'): inputs[1] must be a node index",
    ),
    (lambda d: node(d, 2).update(inputs=[0, -1]), "node 2 ('_mul0'): input -1 is negative"),
    (
        lambda d: node(d, 2).update(inputs=[0, 3]),
        "node 2 ('_mul0'): input 3 refers to a later node; inputs must come earlier",
    ),
    (
        lambda d: node(d, 2).update(inputs=[2, 0]),
        "node 2 ('_mul0'): input 2 refers to the node itself",
    ),
    (
        lambda d: node(d, 2).update(inputs=[0]),
        "node 2 ('_mul0'): op 'multiply' takes 2 inputs, got 1",
    ),
    (lambda d: node(d, 1).update(inputs=[0]), "node 1 ('A'): op 'var' takes 0 inputs, got 1"),
    (
        lambda d: node(d, 2).update(attrs={"axis": 0}),
        "node 2 ('_mul0'): op 'multiply' has no attribute \"axis\"; its attributes are (none)",
    ),
    (lambda d: node(d, 2).update(attrs=[]), "node 2 ('_mul0'): 'attrs' must be an object"),
    (
        lambda d: node(d, 2).update(name=3),
        "node 2 ('_mul0'): 'name' must be a string of at most 1000 characters or null, got 3",
    ),
    (lambda d: node(d, 2).update(name="n" * 1001), "'name' must be a string of at most 1000"),
    (lambda d: node(d, 1).update(name=None), "node 1: a var node needs a non-empty name"),
    (lambda d: node(d, 1).update(name=""), "node 1: a var node needs a non-empty name"),
    (lambda d: d.update(heads=[2]), "node 3 ('_const0'): not used by any head"),
    (
        lambda d: node(d, 3)["attrs"].pop("weak"),
        "node 3 ('_const0'): op 'const' needs attribute 'weak'",
    ),
    (
        lambda d: node(d, 3)["attrs"].update(weak=1),
        "node 3 ('_const0'): attribute 'weak': expected true or false, got 1",
    ),
    (lambda d: node(d, 3)["attrs"].update(weak=None), "attribute 'weak' must not be null"),
    # A cycle: each of two nodes names the other as input; the later-input rule rejects it.
    (
        lambda d: (node(d, 2).update(inputs=[4, 0]), node(d, 4).update(inputs=[2, 3])),
        "node 2 ('_mul0'): input 4 refers to a later node",
    ),
]


@pytest.mark.parametrize("mutate, message", BAD_DOCUMENTS, ids=[m for _, m in BAD_DOCUMENTS])
def test_rejects_malformed_documents(mutate, message):
    with pytest.raises(SerializationError, match=re.escape(message)):
        load_doc(edit(mutate))


def single(op: str, attrs: dict[str, Any], inputs: int = 1) -> dict[str, Any]:
    """A file computing one `op` node (index 1 when it has inputs: they all are var x)."""
    nodes = [{"op": "var", "name": "x", "inputs": [], "attrs": {}}] if inputs else []
    name = "v" if op == "var" else None
    nodes.append({"op": op, "name": name, "inputs": [0] * inputs, "attrs": attrs})
    return {
        "format": "jitgraph.symbol",
        "version": 1,
        "nodes": nodes,
        "heads": [len(nodes) - 1],
        "output_names": None,
    }


def const(value: dict[str, Any], weak: bool = False) -> dict[str, Any]:
    return single("const", {"value": value, "weak": weak}, inputs=0)


BAD_ATTRS = [
    (
        single("sum", {"keepdims": 1}),
        "node 1 ('sum0'): attribute 'keepdims': expected true or false, got 1",
    ),
    (single("var_", {"ddof": True}), "node 1 ('var0'): attribute 'ddof': expected an integer"),
    (single("std", {"ddof": 1.0}), "attribute 'ddof': expected an integer"),
    (
        single("sum", {"axis": 64}),
        "node 1 ('sum0'): attribute 'axis': expected an integer in [-64, 64), got 64",
    ),
    (single("sum", {"axis": "0"}), "attribute 'axis': expected an integer"),
    (single("sum", {"axis": [0, True]}), "attribute 'axis'[1]: expected an integer"),
    (
        single("sum", {"axis": list(range(65))}),
        "attribute 'axis': expected a list of at most 64 items",
    ),
    (single("sum", {"axis": [[0]]}), "attribute 'axis'[0]: expected an integer"),
    (single("transpose", {"axes": 1}), "attribute 'axes': expected a list"),
    (
        single("astype", {"dtype": "float16"}),
        "node 1 ('astype0'): attribute 'dtype': expected a dtype name, one of bool, int8",
    ),
    (single("astype", {"dtype": "<f8"}), "attribute 'dtype': expected a dtype name"),
    (single("astype", {"dtype": "object"}), "attribute 'dtype': expected a dtype name"),
    (single("astype", {}), "node 1 ('astype0'): op 'astype' needs attribute 'dtype'"),
    (single("reshape", {"shape": [-1, -1]}), "attribute 'shape': only one dimension can be -1"),
    (single("reshape", {"shape": [-2]}), "attribute 'shape'[0]: expected an integer in [-1,"),
    (single("reshape", {"shape": 4}), "attribute 'shape': expected a list"),
    (single("reshape", {}), "op 'reshape' needs attribute 'shape'"),
    (
        single("zeros", {"shape": [2, -1]}, 0),
        "node 0 ('zeros0'): attribute 'shape'[1]: expected an integer in [0,",
    ),
    (single("zeros", {"shape": [None]}, 0), "attribute 'shape'[0]: expected an integer"),
    (single("var", {"shape": [-1]}, 0), "attribute 'shape'[0]: expected an integer in [0,"),
    (single("var", {"shape": [None, 2.5]}, 0), "attribute 'shape'[1]: expected an integer"),
    (
        single("getitem", {"key": [{"slice": [None, None, 0]}]}),
        "node 1 ('slice0'): attribute 'key'[0]: slice step cannot be zero",
    ),
    (
        single("getitem", {"key": ["...", "..."]}),
        "attribute 'key': an index can only have a single ellipsis",
    ),
    (
        single("getitem", {"key": ["0"]}),
        "attribute 'key'[0]: expected an integer, null, \"...\" or a slice",
    ),
    (single("getitem", {"key": [True]}), "attribute 'key'[0]: expected an integer, null"),
    (single("getitem", {"key": [{"slice": [1, 2]}]}), 'a slice is {"slice": [start, stop, step]}'),
    (single("getitem", {"key": [{"slice": [1, 2, 1], "x": 1}]}), 'a slice is {"slice"'),
    (
        single("getitem", {"key": [{"slice": [1.5, None, None]}]}),
        "attribute 'key'[0].slice[0]: expected an integer",
    ),
    (single("getitem", {"key": 0}), "attribute 'key': expected a list"),
    (
        single("full", {"shape": [2], "fill_value": "1"}, 0),
        "attribute 'fill_value': expected a bool, a number or \"nan\"",
    ),
    (
        single("full", {"shape": [2], "fill_value": [1]}, 0),
        "attribute 'fill_value': expected a bool, a number",
    ),
    (single("full", {"shape": [2], "fill_value": 2**64}, 0), "attribute 'fill_value': expected"),
    (single("full", {"shape": [2]}, 0), "op 'full' needs attribute 'fill_value'"),
    (
        single("full", {"shape": [2], "fill_value": {"dtype": "float32", "value": 1e300}}, 0),
        "attribute 'fill_value'.value[0]: 1e+300 is out of range for float32",
    ),
    (
        single("full", {"shape": [2], "fill_value": {"dtype": "int8", "value": 1.5}}, 0),
        "attribute 'fill_value'.value[0]: expected an integer in int8's range [-128, 127], got 1.5",
    ),
    (
        single("full", {"shape": [2], "fill_value": {"dtype": "int8"}}, 0),
        'a typed scalar is {"dtype": ..., "value": ...}',
    ),
    (
        single("arange", {"start": True}, 0),
        "node 0 ('arange0'): attribute 'start': expected a number",
    ),
    (
        single("arange", {"start": {"dtype": "bool", "value": True}}, 0),
        "attribute 'start': a bool is not allowed here",
    ),
    (single("arange", {"stop": 3}, 0), "op 'arange' needs attribute 'start'"),
    (
        single("linspace", {"start": 0, "stop": 1, "num": -1}, 0),
        "attribute 'num': expected an integer in [0,",
    ),
    (
        single("linspace", {"start": 0, "stop": 1, "endpoint": "yes"}, 0),
        "attribute 'endpoint': expected true or false",
    ),
    (single("eye", {"N": 3, "M": -1}, 0), "attribute 'M': expected an integer in [0,"),
    (single("eye", {"N": 3, "k": 2**63}, 0), "attribute 'k': expected an integer"),
    (single("eye", {"N": 3, "k": None}, 0), "attribute 'k' must not be null"),
    (single("clip", {"has_lo": False}, 3), "node 1 ('clip0'): op 'clip' takes 2 inputs, got 3"),
    (single("clip", {"has_lo": False, "has_hi": False}, 1), "clip needs has_lo or has_hi"),
    (single("clip", {}, 1), "op 'clip' takes 3 inputs, got 1"),
    (
        single("concatenate", {}, 0),
        "node 0 ('concat0'): op 'concatenate' takes one or more inputs, got none",
    ),
    (single("sum", {"axis": 0}, 2), "op 'sum' takes 1 input, got 2"),
    (
        const({"dtype": "float16", "shape": [], "data": [1.0]}),
        "node 0 ('_const0'): attribute 'value'.dtype: expected a dtype name",
    ),
    (
        const({"dtype": "complex128", "shape": [], "data": [1.0]}),
        "attribute 'value'.dtype: expected a dtype name",
    ),
    (
        const({"dtype": "int32", "shape": [2, 2], "data": [1, 2, 3]}),
        "attribute 'value': shape [2, 2] needs a flat 'data' list of 4 elements, "
        "got a list of 3 items",
    ),
    (
        const({"dtype": "int32", "shape": [2], "data": [[1], [2]]}),
        "attribute 'value'.data[0]: expected an integer in int32's range",
    ),
    (
        const({"dtype": "int32", "shape": [2], "data": [1, "2"]}),
        "attribute 'value'.data[1]: expected an integer",
    ),
    (
        const({"dtype": "int32", "shape": [2], "data": [1, 2.0]}),
        "attribute 'value'.data[1]: expected an integer",
    ),
    (
        const({"dtype": "int64", "shape": [1], "data": [True]}),
        "attribute 'value'.data[0]: expected an integer",
    ),
    (
        const({"dtype": "int8", "shape": [2], "data": [1, 128]}),
        "attribute 'value'.data[1]: expected an integer in int8's range [-128, 127], got 128",
    ),
    (
        const({"dtype": "uint8", "shape": [1], "data": [-1]}),
        "attribute 'value'.data[0]: expected an integer in uint8's range",
    ),
    (
        const({"dtype": "int8", "shape": [1], "data": ["nan"]}),
        "attribute 'value'.data[0]: expected an integer",
    ),
    (
        const({"dtype": "bool", "shape": [2], "data": [True, 0]}),
        "attribute 'value'.data[1]: expected true or false, got 0",
    ),
    (
        const({"dtype": "float64", "shape": [1], "data": ["NaN"]}),
        "attribute 'value'.data[0]: expected a number or \"nan\"",
    ),
    (
        const({"dtype": "float64", "shape": [1], "data": [None]}),
        "attribute 'value'.data[0]: expected a number",
    ),
    (
        const({"dtype": "float64", "shape": [1], "data": [False]}),
        "attribute 'value'.data[0]: expected a number",
    ),
    (
        const({"dtype": "float64", "shape": [1], "data": [2**1024]}),
        "attribute 'value'.data[0]: expected a number",
    ),
    (
        const({"dtype": "float32", "shape": [2], "data": [1.0, 1e39]}),
        "attribute 'value'.data[1]: 1e+39 is out of range for float32",
    ),
    (
        const({"dtype": "float64", "shape": [2**20, 2**20], "data": []}),
        "attribute 'value': shape [1048576, 1048576] has 1099511627776 elements, "
        "over the limit of 67108864",
    ),
    (
        const({"dtype": "float64", "shape": [0, 2**40], "data": []}),
        "attribute 'value'.shape[1]: expected an integer in [0, 67108865)",
    ),
    (
        const({"dtype": "float64", "shape": [-1], "data": []}),
        "attribute 'value'.shape[0]: expected an integer",
    ),
    (
        const({"dtype": "float64", "shape": [1] * 65, "data": [1.0]}),
        "attribute 'value'.shape: expected a list of at most 64 items",
    ),
    (
        const({"dtype": "float64", "shape": [1], "data": [1.0], "code": "x"}),
        "attribute 'value': expected {\"dtype\"",
    ),
    (
        const({"dtype": "float64", "shape": [2], "data": [1.0, 2.0]}, weak=True),
        "node 0 ('_const0'): a weak constant must be a 0-d array of dtype "
        "bool, int64, uint64, float64; got shape [2]",
    ),
    (
        const({"dtype": "int32", "shape": [], "data": [1]}, weak=True),
        "a weak constant must be a 0-d array",
    ),
    (single("const", {"weak": False}, 0), "op 'const' needs attribute 'value'"),
]


@pytest.mark.parametrize("doc, message", BAD_ATTRS, ids=[m for _, m in BAD_ATTRS])
def test_rejects_bad_attributes(doc, message):
    with pytest.raises(SerializationError, match=re.escape(message)):
        load_doc(doc)


def test_single_helper_builds_loadable_files():
    """The rejection table's files differ from valid ones only in the field under test."""
    load_doc(single("sum", {"axis": [0, -1], "keepdims": True}))
    load_doc(single("var", {"shape": [None, 3], "dtype": "int8"}, 0))
    load_doc(single("full", {"shape": [2], "fill_value": "-inf"}, 0))
    typed = {"dtype": "uint64", "value": 2**64 - 1}
    assert load_doc(single("full", {"shape": [2], "fill_value": typed}, 0))._heads[0].attrs[
        "fill_value"
    ] == np.uint64(2**64 - 1)
    load_doc(single("clip", {"has_lo": False}, 2))
    load_doc(single("eye", {"N": 3, "M": None}, 0))
    load_doc(const({"dtype": "float32", "shape": [3], "data": [1, "nan", 0.1]}))


def rich() -> jg.Symbol:
    """A graph with an attribute of every kind, for fuzzing."""
    x, lo = jg.Variable("x", shape=(None, 4), dtype=np.float64), jg.Variable("lo")
    y = x[1:, None, ..., ::-2].reshape(-1, 2).sum(axis=(0,), keepdims=True).std(ddof=1)
    z = sym.clip(x, lo=lo) * jg.Constant(np.array([1.5, np.nan, -np.inf, 0.0], np.float32))
    w = sym.full((2,), np.float32(2.5)) + sym.arange(0.5, 2.5, 1.0) + sym.eye(2, 2, k=1)[0]
    return jg.Group([y, sym.transpose(z, (1, 0)), w, sym.linspace(0, 1, 3, endpoint=False)])


def json_paths(value: Any, found: list) -> list:
    """Every (container, key) of a parsed document, to replace what is there."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        found.append((value, key))
        if isinstance(item, (dict, list)):
            json_paths(item, found)
    return found


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=4)
    | st.sampled_from(["nan", "...", "var", "add", "float32", "slice"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["op", "slice", "dtype", "shape", "data", "value", "x"]),
            inner,
            max_size=3,
        )
    ),
    max_leaves=6,
)


RICH_TEXT = rich().tojson()


@settings(max_examples=int(os.environ.get("JITGRAPH_FUZZ_EXAMPLES", 200)), deadline=None)
@given(st.data())
def test_fuzzed_files_load_or_fail_with_serialization_error_only(data):
    doc = json.loads(RICH_TEXT)
    paths = json_paths(doc, [])
    container, key = paths[data.draw(st.integers(0, len(paths) - 1))]
    container[key] = data.draw(JSON_VALUES)
    text = json.dumps(doc, allow_nan=True)  # st.floats may give inf: the loader must reject it
    try:
        loaded = jg.fromjson(text)
    except SerializationError:
        return
    assert jg.fromjson(loaded.tojson()).tojson() == loaded.tojson()  # what loads, saves


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(RICH_TEXT) - 1),
            st.sampled_from(
                list('{}[]",:0-9.eE ntfa\\\n') + ["NaN", "1e999", "\\u0000", "\\ud800"]
            ),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_corrupted_text_loads_or_fails_with_serialization_error_only(edits):
    text = RICH_TEXT
    for position, replacement in edits:
        text = text[:position] + replacement + text[position + 1 :]
    try:
        jg.fromjson(text)
    except SerializationError:
        pass


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "the text is empty"),
        ("   \n", "the text is empty"),
        ("{", "not valid JSON (truncated or corrupted?)"),
        ("not json", "not valid JSON"),
        ('{"format": "jitgraph.symbol", "version": 1', "not valid JSON (truncated or corrupted?)"),
        ("[]", "the top level must be a JSON object, got a list of 0 items"),
        ('"jitgraph.symbol"', 'the top level must be a JSON object, got "jitgraph.symbol"'),
        ("null", "the top level must be a JSON object, got null"),
        ('{"x": NaN}', "NaN is not valid JSON"),
        ('{"x": [Infinity]}', "Infinity is not valid JSON"),
        ('{"x": -Infinity}', "-Infinity is not valid JSON"),
        ('{"format": "a", "format": "b"}', 'duplicate key "format" in a JSON object'),
        ("[" * 100_000 + "]" * 100_000, "JSON nested too deeply"),
        ('{"x": ' + "9" * 5000 + "}", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (42, "expected JSON text (str or bytes), got int"),
    ],
)
def test_rejects_text_that_is_not_a_symbol_file(text, message):
    with pytest.raises(SerializationError, match=re.escape(message)):
        jg.fromjson(text)


def test_truncated_file_is_rejected():
    text = seed().tojson()
    for cut in (1, 10, len(text) // 2, len(text) - 3):
        with pytest.raises(SerializationError, match="not valid JSON"):
            jg.fromjson(text[:cut])


def test_raw_nan_in_const_data_is_rejected():
    text = (jg.Variable("x") + jg.Constant(np.array([np.nan, 1.0]))).tojson()
    with pytest.raises(SerializationError, match="NaN is not valid JSON"):
        jg.fromjson(text.replace('"nan"', "NaN"))
    with pytest.raises(SerializationError, match=re.escape("data[0]: expected a number")):
        jg.fromjson(text.replace('"nan"', "1e999"))  # parses to inf: not something we write


def test_errors_are_value_errors_and_name_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "jitgraph.symbol", "version": 7}')
    with pytest.raises(ValueError, match=re.escape(f"{path}: unsupported version 7")):
        jg.load(str(path))


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "no-such-graph.json"
    with pytest.raises(OSError, match="no-such-graph.json"):
        jg.load(path)
