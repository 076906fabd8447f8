"""Reverse-mode autodiff: every rule against central finite differences (float64), composite
losses, conventions (ties, zeros, integer inputs), the Symbol API (grad symbols, executors,
updates, save/load) and inspect. Most tests use the reference and python backends; the few
that compile with Numba are marked `numba`."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jitgraph as jg
from jitgraph import autodiff
from jitgraph.ir.ops import Op

EPS = 1e-6
RTOL = 1e-5


def numeric_grad(fn, args: list, k: int) -> np.ndarray:
    """Central finite differences of the scalar fn(*args) with respect to args[k]."""
    base = [np.array(a, dtype=np.float64) if isinstance(a, np.ndarray) else a for a in args]
    x = base[k]
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + EPS
        hi = fn(*base)
        x[i] = old - EPS
        lo = fn(*base)
        x[i] = old
        out[i] = (hi - lo) / (2 * EPS)
    return out


def assert_close(got: np.ndarray, want: np.ndarray) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    err = float(np.max(np.abs(got - want), initial=0.0)) / scale
    assert err <= RTOL, f"relative error {err:.2e}\n got {got}\nwant {want}"


def check_grads(fn, args: list, argnums: tuple[int, ...], backend: str = "reference") -> None:
    value, grads = jg.value_and_grad(fn, argnums=argnums, backend=backend)(*args)
    assert np.isclose(value, fn(*args), rtol=1e-12, atol=1e-12)
    for k, g in zip(argnums, grads, strict=True):
        assert_close(g, numeric_grad(fn, args, k))


# ---------------------------------------------------------------------------------------------
# Shapes that broadcast


@st.composite
def broadcast_shapes(draw, count: int = 2):
    """A base shape and `count` operand shapes broadcasting to it (leading axes dropped, some
    axes of size 1)."""
    base = draw(st.lists(st.integers(1, 4), min_size=0, max_size=3))
    shapes = []
    for _ in range(count):
        drop = draw(st.integers(0, len(base)))
        shape = [1 if draw(st.booleans()) and draw(st.booleans()) else d for d in base[drop:]]
        shapes.append(tuple(shape))
    return shapes


def _values(shape, lo, hi, seed):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


UNARY = {
    "negative": (np.negative, -2, 2),
    "absolute": (np.abs, 0.2, 2),
    "exp": (np.exp, -2, 2),
    "expm1": (np.expm1, -2, 2),
    "log": (np.log, 0.3, 3),
    "log1p": (np.log1p, -0.5, 2),
    "log2": (np.log2, 0.3, 3),
    "log10": (np.log10, 0.3, 3),
    "sqrt": (np.sqrt, 0.3, 3),
    "sin": (np.sin, -3, 3),
    "cos": (np.cos, -3, 3),
    "tan": (np.tan, -1.2, 1.2),
    "arcsin": (np.arcsin, -0.9, 0.9),
    "arccos": (np.arccos, -0.9, 0.9),
    "arctan": (np.arctan, -3, 3),
    "sinh": (np.sinh, -2, 2),
    "cosh": (np.cosh, -2, 2),
    "tanh": (np.tanh, -2, 2),
    "square": (np.square, -2, 2),
    "reciprocal": (np.reciprocal, 0.5, 2),
}


def _u_negative(x, w):
    return np.sum(np.negative(x) * w)


def _u_absolute(x, w):
    return np.sum(np.absolute(x) * w)


def _u_exp(x, w):
    return np.sum(np.exp(x) * w)


def _u_expm1(x, w):
    return np.sum(np.expm1(x) * w)


def _u_log(x, w):
    return np.sum(np.log(x) * w)


def _u_log1p(x, w):
    return np.sum(np.log1p(x) * w)


def _u_log2(x, w):
    return np.sum(np.log2(x) * w)


def _u_log10(x, w):
    return np.sum(np.log10(x) * w)


def _u_sqrt(x, w):
    return np.sum(np.sqrt(x) * w)


def _u_sin(x, w):
    return np.sum(np.sin(x) * w)


def _u_cos(x, w):
    return np.sum(np.cos(x) * w)


def _u_tan(x, w):
    return np.sum(np.tan(x) * w)


def _u_arcsin(x, w):
    return np.sum(np.arcsin(x) * w)


def _u_arccos(x, w):
    return np.sum(np.arccos(x) * w)


def _u_arctan(x, w):
    return np.sum(np.arctan(x) * w)


def _u_sinh(x, w):
    return np.sum(np.sinh(x) * w)


def _u_cosh(x, w):
    return np.sum(np.cosh(x) * w)


def _u_tanh(x, w):
    return np.sum(np.tanh(x) * w)


def _u_square(x, w):
    return np.sum(np.square(x) * w)


def _u_reciprocal(x, w):
    return np.sum(np.reciprocal(x) * w)


_UNARY_FNS = {name: globals()[f"_u_{name}"] for name in UNARY}


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=4, deadline=None)
@given(shapes=broadcast_shapes(), seed=st.integers(0, 100))
def test_unary_rules(name, shapes, seed):
    _, lo, hi = UNARY[name]
    x = _values(shapes[0], lo, hi, seed)
    w = _values(shapes[1], -1, 1, seed + 1)
    check_grads(_UNARY_FNS[name], [x, w], (0,))


def _add(x, y, w):
    return np.sum((x + y) * w)


def _sub(x, y, w):
    return np.sum((x - y) * w)


def _mul(x, y, w):
    return np.sum(x * y * w)


def _div(x, y, w):
    return np.sum(x / y * w)


def _pow(x, y, w):
    return np.sum(x**y * w)


def _maximum(x, y, w):
    return np.sum(np.maximum(x, y) * w)


def _minimum(x, y, w):
    return np.sum(np.minimum(x, y) * w)


def _arctan2(x, y, w):
    return np.sum(np.arctan2(x, y) * w)


def _mod(x, y, w):
    return np.sum(np.mod(x, y) * w)


def _where(x, y, w):
    return np.sum(np.where(w > 0, x, y) * w)


BINARY = {  # fn, x range, y range (ranges keep away from kinks, ties and singularities)
    "add": (_add, (-2, 2), (-2, 2)),
    "subtract": (_sub, (-2, 2), (-2, 2)),
    "multiply": (_mul, (-2, 2), (-2, 2)),
    "divide": (_div, (-2, 2), (0.5, 2)),
    "power": (_pow, (0.5, 2), (-2, 2)),
    "maximum": (_maximum, (-2, -0.1), (0.1, 2)),
    "minimum": (_minimum, (0.1, 2), (-2, -0.1)),
    "arctan2": (_arctan2, (-2, 2), (0.5, 2)),
    "remainder": (_mod, (0.1, 0.9), (1.1, 2)),
    "where": (_where, (-2, 2), (-2, 2)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=5, deadline=None)
@given(shapes=broadcast_shapes(3), seed=st.integers(0, 100), swap=st.booleans())
def test_binary_rules_with_broadcasting(name, shapes, seed, swap):
    fn, xr, yr = BINARY[name]
    if swap and name in ("maximum", "minimum"):
        xr, yr = yr, xr  # both sides winning
    x = _values(shapes[0], *xr, seed)
    y = _values(shapes[1], *yr, seed + 1)
    w = _values(shapes[2], -1, 1, seed + 2)
    check_grads(fn, [x, y, w], (0, 1))


def _sum_axis(x, w):
    return np.sum(np.sum(x, axis=1) * w)


def _sum_keep(x, w):
    return np.sum(np.sum(x, axis=(0, 2), keepdims=True) * w)


def _prod_axis(x, w):
    return np.sum(np.prod(x, axis=1) * w)


def _prod_all(x, w):
    return np.prod(x) * np.sum(w)


def _max_axis(x, w):
    return np.sum(np.max(x, axis=2) * w)


def _min_keep(x, w):
    return np.sum(np.min(x, axis=1, keepdims=True) * w)


def _max_all(x, w):
    return np.max(x) + np.sum(w)


def _mean(x, w):
    return np.sum(np.mean(x, axis=0) * w)


def _var(x, w):
    return np.sum(np.var(x, axis=-1) * w)


def _std(x, w):
    return np.sum(x.std(axis=1, keepdims=True) * w)


REDUCTIONS = {
    "sum_axis": (_sum_axis, (2, 4)),
    "sum_keepdims": (_sum_keep, (1, 1, 1)),
    "prod_axis": (_prod_axis, (4,)),
    "prod_all": (_prod_all, ()),
    "max_axis": (_max_axis, (2, 3)),
    "min_keepdims": (_min_keep, (2, 1, 4)),
    "max_all": (_max_all, ()),
    "mean": (_mean, (3, 4)),
    "var": (_var, (2, 3)),
    "std": (_std, (2, 1, 4)),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("backend", ["reference", "python"])
def test_reduction_rules(name, backend):
    fn, wshape = REDUCTIONS[name]
    rng = np.random.default_rng(1)
    x = rng.permutation(24).reshape(2, 3, 4) / 7.0 + 0.5  # distinct: no ties
    w = rng.uniform(-1, 1, wshape)
    check_grads(fn, [x, w], (0, 1), backend)


def _mm(a, b):
    return np.sum(np.tanh(a @ b))


@pytest.mark.parametrize(
    "shapes",
    [
        ((4,), (4,)),
        ((4,), (4, 3)),
        ((2, 4), (4,)),
        ((2, 4), (4, 3)),
        ((5, 2, 4), (4, 3)),
        ((2, 4), (5, 4, 3)),
        ((5, 1, 2, 4), (3, 4, 2)),
        ((3, 2, 1), (3, 1, 2)),
        ((1, 4), (4, 1)),
    ],
)
@pytest.mark.parametrize("backend", ["reference", "python"])
def test_matmul_rule_all_ranks(shapes, backend):
    rng = np.random.default_rng(2)
    a, b = (rng.uniform(-1, 1, s) for s in shapes)
    check_grads(_mm, [a, b], (0, 1), backend)


def _transpose(x):
    return np.sum(np.sin(x.transpose(2, 0, 1)) * np.arange(24.0).reshape(4, 2, 3))


def _reshape(x):
    return np.sum(np.sin(x.reshape(6, 4)) * np.arange(24.0).reshape(6, 4))


def _slices(x):
    return np.sum(np.sin(x[1, ::2, 1:]) * np.arange(6.0).reshape(2, 3))


def _neg_step(x):
    return np.sum(np.exp(x[:, ::-2, None, -1]))


def _newaxis(x):
    return np.sum(x[None, :, 0] * x[:, None, 1])


def _broadcast(x):
    return np.sum(np.broadcast_to(x[0, :, :1], (5, 3, 2)) ** 3)


def _concat(x):
    return np.sum(np.concatenate([x[0], np.sin(x[1]), x[0, :1]], axis=0) ** 2)


def _concat_last(x):
    return np.sum(np.cos(np.concatenate([x[0], x[1] * 2], axis=1)))


def _stack(x):
    return np.sum(np.stack([x[0], x[1] ** 2], axis=1) * np.arange(24.0).reshape(3, 2, 4))


def _cast(x):
    return np.sum(np.exp(x.astype(np.float32).astype(np.float64) * 0 + x))


def _squeeze(x):
    return np.sum(np.expand_dims(x[:, 0], 1).squeeze(1) ** 2)


def _clip(x):
    return np.sum(np.clip(x, 0.3, 0.7) ** 2)


def _setitem(x):
    y = x.copy()
    y[0, 1:3] = np.sin(x[1, :2])
    y[1, :, ::2] = 2.0
    return np.sum(y * y * np.arange(24.0).reshape(2, 3, 4))


STRUCTURE = {
    "transpose": _transpose,
    "reshape": _reshape,
    "slices": _slices,
    "neg_step": _neg_step,
    "newaxis": _newaxis,
    "broadcast_to": _broadcast,
    "concatenate": _concat,
    "concatenate_last": _concat_last,
    "stack": _stack,
    "cast": _cast,
    "squeeze": _squeeze,
    "clip": _clip,
    "setitem": _setitem,
}


@pytest.mark.parametrize("name", sorted(STRUCTURE))
@pytest.mark.parametrize("backend", ["reference", "python"])
def test_structure_rules(name, backend):
    x = np.random.default_rng(3).uniform(0, 1, (2, 3, 4))
    check_grads(STRUCTURE[name], [x], (0,), backend)


def test_every_op_has_a_rule():
    sources = {Op.VAR, Op.CONST, Op.SIZE, Op.INDEX}
    assert set(Op) - sources == set(autodiff.GRAD_RULES)


# ---------------------------------------------------------------------------------------------
# Conventions


def _max_red(x):
    return np.max(x)


def _maximum_self(x, y):
    return np.sum(np.maximum(x, y))


def _abs(x):
    return np.sum(np.abs(x))


def _prod_red(x):
    return np.prod(x)


def _floor(x):
    return np.sum(np.floor(x) + np.sign(x) + (x > 0.5))


def _int_arg(x, n):
    return np.sum(x * n)


def test_max_ties_split_equally():
    g = jg.grad(_max_red, backend="reference")(np.array([1.0, 3.0, 3.0, 2.0, 3.0]))
    np.testing.assert_allclose(g, [0, 1 / 3, 1 / 3, 0, 1 / 3])


def test_maximum_ties_split_in_half():
    gx, gy = jg.grad(_maximum_self, argnums=(0, 1), backend="reference")(
        np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 1.0])
    )
    np.testing.assert_allclose(gx, [0, 0.5, 1])
    np.testing.assert_allclose(gy, [1, 0.5, 0])


def test_abs_subgradient_zero_at_zero():
    np.testing.assert_allclose(
        jg.grad(_abs, backend="reference")(np.array([-2.0, 0.0, 3.0])), [-1, 0, 1]
    )


@pytest.mark.parametrize(
    "x, want",
    [
        ([2.0, 3.0, 4.0], [12, 8, 6]),
        ([2.0, 0.0, 4.0], [0, 8, 0]),  # one zero: only it gets the others' product
        ([0.0, 3.0, 0.0], [0, 0, 0]),  # two zeros: every gradient is 0
    ],
)
def test_prod_with_zeros(x, want):
    np.testing.assert_allclose(jg.grad(_prod_red, backend="python")(np.array(x)), want)


def test_non_differentiable_ops_give_zero():
    np.testing.assert_array_equal(jg.grad(_floor, backend="reference")(np.array([0.3, 1.7])), 0)


def test_integer_argument_has_no_gradient():
    f = jg.grad(_int_arg, argnums=1, backend="reference")
    with pytest.raises(jg.ArgumentError, match="only floating-point arguments"):
        f(np.ones(3), np.arange(3))
    # As data (not in argnums) an integer array is fine.
    np.testing.assert_allclose(
        jg.grad(_int_arg, backend="reference")(np.ones(3), np.arange(3)), [0, 1, 2]
    )


def _vector(x):
    return x * 2


def test_non_scalar_result_is_an_error():
    with pytest.raises(jg.GraphTypeError, match="must return a scalar"):
        jg.grad(_vector, backend="reference")(np.ones(3))


def _float32_loss(x, s):
    return np.sum(x * x) * s


def test_float32_and_python_scalar_arguments():
    gx, gs = jg.grad(_float32_loss, argnums=(0, 1), backend="python")(np.ones(3, np.float32), 2.0)
    assert gx.dtype == np.float32 and isinstance(gs, float)
    np.testing.assert_allclose(gx, 4.0)
    assert gs == 3.0


def test_grad_accepts_a_jit_function():
    f = jg.jit(_abs, backend="reference")
    np.testing.assert_allclose(jg.grad(f)(np.array([-1.0, 2.0])), [-1, 1])


# ---------------------------------------------------------------------------------------------
# Composite functions


def softmax_xent(logits, labels):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(labels * logp) / logits.shape[0]


def mlp_loss(x, w1, b1, w2, b2, y):
    h = np.tanh(x @ w1 + b1)
    out = h @ w2 + b2
    return np.mean((out - y) ** 2)


def layer_norm(x, gamma, beta):
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=-1, keepdims=True)
    y = (x - mu) / np.sqrt(var + 1e-5) * gamma + beta
    return np.sum(y * np.arange(12.0).reshape(3, 4))


def unrolled(x, w):
    h = x
    for _ in range(4):
        h = np.tanh(h * w + 0.1)
    return np.sum(h)


def relu_net(x, w):
    h = np.maximum(x @ w, 0.0)
    return np.sum(np.where(h > 0.5, h * h, h))


@pytest.mark.parametrize("backend", ["reference", "python"])
def test_composite_losses(backend):
    rng = np.random.default_rng(4)
    logits, labels = rng.normal(size=(5, 3)), np.eye(3)[rng.integers(0, 3, 5)]
    check_grads(softmax_xent, [logits, labels], (0,), backend)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    w1, b1, w2, b2 = (
        rng.normal(size=(3, 4)),
        rng.normal(size=4),
        rng.normal(size=(4, 2)),
        rng.normal(size=2),
    )
    check_grads(mlp_loss, [x, w1, b1, w2, b2, y], (0, 1, 2, 3, 4), backend)
    check_grads(
        layer_norm,
        [rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=4)],
        (0, 1, 2),
        backend,
    )
    check_grads(unrolled, [rng.normal(size=(2, 3)), rng.normal(size=3)], (0, 1), backend)
    check_grads(relu_net, [rng.normal(size=(4, 3)), rng.normal(size=(3, 5))], (0, 1), backend)


def test_training_step_with_update_written_back():
    def sgd_step(x, w, y):
        loss, gw = jg.value_and_grad(mlp_like, argnums=1, backend="python")(x, w, y)
        w -= 0.1 * gw
        return loss

    def mlp_like(x, w, y):
        return np.mean((np.tanh(x @ w) - y) ** 2)

    rng = np.random.default_rng(5)
    x, y, w = rng.normal(size=(16, 3)), rng.normal(size=(16, 2)) * 0.3, rng.normal(size=(3, 2))
    losses = [sgd_step(x, w, y) for _ in range(20)]
    assert losses[-1] < losses[0]


# ---------------------------------------------------------------------------------------------
# Symbol API


def test_seed_symbol_example_python_backend():
    A, B = jg.Variable("A"), jg.Variable("B")
    D = B * A + 1
    gA, gB = D.grad(wrt=[A, B])
    f = jg.compile([gA, gB], backend="python")
    ga, gb = f(A=np.ones(10), B=np.ones(10) * 2)
    np.testing.assert_array_equal(ga, 2)
    np.testing.assert_array_equal(gb, 1)
    assert jg.Group([gA, gB]).list_outputs() == ["A_grad_output", "B_grad_output"]


@pytest.mark.numba
def test_seed_symbol_example_numba():
    A = jg.Variable("A")
    B = jg.Variable("B")
    C = B * A
    D = C + jg.Constant(1)
    gA, gB = D.grad(wrt=[A, B])
    f = jg.compile([gA, gB])
    ga, gb = f(A=np.ones(10), B=np.ones(10) * 2)
    np.testing.assert_array_equal(ga, np.full(10, 2.0))
    np.testing.assert_array_equal(gb, np.ones(10))


def test_gradient_symbols_save_and_load(tmp_path):
    A, B = jg.Variable("A"), jg.Variable("B")
    D = jg.sym.exp(A) * B
    grads = jg.Group(D.grad(wrt=[A, B], head_grads=[jg.Variable("dD")]))
    path = tmp_path / "grads.json"
    grads.save(str(path))
    loaded = jg.load(str(path))
    a, b, d = np.array([0.0, 1.0]), np.array([2.0, 3.0]), np.array([1.0, -1.0])
    ga, gb = jg.compile(loaded, backend="reference")(A=a, B=b, dD=d)
    np.testing.assert_allclose(ga, np.exp(a) * b * d)
    np.testing.assert_allclose(gb, np.exp(a) * d)


def test_group_gradient_adds_heads_and_unused_wrt_is_zero():
    A, B, C = jg.Variable("A"), jg.Variable("B"), jg.Variable("C")
    gA, gC = jg.Group([A * B, A * A]).grad(wrt=[A, C])
    a, b, c = np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.ones(2)
    ga, gc = jg.compile([gA, gC], backend="reference")(A=a, B=b, C=c)
    np.testing.assert_allclose(ga, b + 2 * a)
    np.testing.assert_array_equal(gc, 0)


def test_executor_backward_write_add_null():
    A, B = jg.Variable("A"), jg.Variable("B")
    D = B * A + 1
    ga, gb = np.zeros(4), np.ones(4)
    ex = D.bind(
        jg.cpu(),
        {"A": np.ones(4), "B": np.full(4, 2.0)},
        args_grad={"A": ga, "B": gb},
        grad_req={"A": "write", "B": "add"},
        backend="python",
    )
    with pytest.raises(jg.ArgumentError, match="forward"):
        ex.backward()
    ex.forward(is_train=True)
    ex.backward()
    np.testing.assert_array_equal(ex.grad_dict["A"], 2)
    np.testing.assert_array_equal(ex.grad_dict["B"], 2)  # 1 + 1 accumulated
    ex.backward(out_grads=np.full(4, 3.0))
    np.testing.assert_array_equal(ga, 6)
    np.testing.assert_array_equal(gb, 5)
    ex2 = D.bind(
        {"A": np.ones(4), "B": np.ones(4)},
        args_grad=[np.zeros(4), None],
        grad_req="null",
        backend="python",
    )
    ex2.forward()
    ex2.backward()
    assert ex2.grad_arrays[1] is None and np.all(ex2.grad_dict["B"] == 0)


def test_compile_with_updates_trains_linear_regression():
    W, X, Y = jg.Variable("W"), jg.Variable("X"), jg.Variable("Y")
    loss = ((X @ W - Y) ** 2).mean()
    (gW,) = loss.grad([W])
    step = jg.compile(loss, updates={W: W - 0.2 * gW}, backend="python")
    rng = np.random.default_rng(6)
    x, wt = rng.normal(size=(32, 3)), np.array([1.0, -2.0, 0.5])
    w = np.zeros(3)
    first = step(X=x, W=w, Y=x @ wt)
    for _ in range(60):
        last = step(X=x, W=w, Y=x @ wt)
    assert last < first * 1e-3
    np.testing.assert_allclose(w, wt, atol=1e-2)
    with pytest.raises(jg.ArgumentError, match="writable NumPy array"):
        step(X=x, W=[0.0, 0.0, 0.0], Y=x @ wt)


def test_inspect_gradient_reports_saved_values():
    report = jg.grad(mlp_loss, argnums=(1, 3), backend="python").inspect(
        np.ones((8, 3)), np.ones((3, 4)), np.ones(4), np.ones((4, 2)), np.ones(2), np.ones((8, 2))
    )
    saved = report.saved_for_backward
    assert saved and all({"value", "shape", "dtype", "bytes", "kind"} <= set(s) for s in saved)
    assert report.saved_bytes == sum(s["bytes"] for s in saved if s["kind"] == "stored")
    text = str(report)
    assert "fusion groups" in text and "saved for backward" in text and "memory plan" in text
    W = jg.Variable("W")
    X = jg.Variable("X")
    (gW,) = jg.sym.tanh(X @ W).grad([W])
    sym_report = jg.compile(gW, backend="python").inspect(X=np.ones((5, 3)), W=np.ones((3, 2)))
    assert sym_report.saved_for_backward


# ---------------------------------------------------------------------------------------------
# End to end with Numba


@pytest.mark.numba
def test_mlp_value_and_grad_numba():
    rng = np.random.default_rng(7)
    args = [
        rng.normal(size=(16, 5)),
        rng.normal(size=(5, 8)) * 0.3,
        np.zeros(8),
        rng.normal(size=(8, 3)) * 0.3,
        np.zeros(3),
        rng.normal(size=(16, 3)),
    ]
    fn = jg.value_and_grad(mlp_loss, argnums=(1, 2, 3, 4))
    value, grads = fn(*args)
    ref_value, ref_grads = jg.value_and_grad(mlp_loss, argnums=(1, 2, 3, 4), backend="reference")(
        *args
    )
    assert np.isclose(value, ref_value)
    for g, r in zip(grads, ref_grads, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-12)
