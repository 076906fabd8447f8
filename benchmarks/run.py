"""`make bench`: jitgraph against NumPy, a hand-written prange loop, Numba's parallel=True on
the NumPy code, numexpr and JAX (when installed), measured side by side in one run.

Rounds interleave the implementations (so machine noise hits all alike), in a new order each
round (so none always runs right after the same other), and the table reports
medians: one row per workload, one column per implementation, each time also as a ratio to
jitgraph's. Every implementation's result is checked against NumPy's in float64 before timing
(a workload that updates its arguments, the Jacobi loop, gets fresh copies for every call).
After the table: dispatch overhead on 16 elements (dispatch.py), cold and warm compile times
(compile.py, fresh processes) and peak temporaries (memory.py, fresh processes). Results go to
stdout (progress to stderr) and to benchmarks/RESULTS.md with the machine described (and the
memory rows to benchmarks/MEMORY.md).

    .venv/bin/python benchmarks/run.py            # the full run (`make bench`)
    .venv/bin/python benchmarks/run.py --quick    # a smoke run: small sizes, writes nothing
    .venv/bin/python benchmarks/run.py --only Jacobi --no-extras --no-write

Each timed call follows one untimed call of the same implementation: what ran before it is
then the implementation itself, as in a loop that runs only it. Without it, the call after
NumPy's 0.9 s single-threaded GELU started on cores that had idled (jitgraph's GELU 16 ms in
its round, 8-9 ms when it followed itself; the hand loop after it, 8).

Workloads with matrix products also let thread pools settle before each timed call: NumPy's
OpenBLAS, SciPy's OpenBLAS (which Numba's np.dot calls), Numba's OpenMP workers and XLA's
threads each spin for a while after their work, and on a small machine the spinning pool of
the implementation that ran before would be timed as part of the next one. So each timed call
follows a pause and one untimed call of the same implementation: its own threads are awake, as
in a training loop that runs only it.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field

import numba
import numpy as np
from numba import njit, prange

import jitgraph as jg
from jitgraph.codegen.vmath import vm_exp_f32, vm_tanh_f32  # the same vectorizable math

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # dispatch.py, compile.py and memory.py beside this file
    sys.path.insert(0, HERE)


@dataclass
class Workload:
    name: str
    make_inputs: Callable[[np.random.Generator], dict[str, np.ndarray]]
    impls: dict[str, Callable[..., object]] = field(default_factory=dict)
    settle: float = 0.0  # seconds of pause, then one untimed call, before each timed call
    notes: list[str] = field(default_factory=list)  # implementations left out, and why
    mutates: bool = False  # the call updates its array arguments: each call gets fresh copies
    tol: float = 1e-3  # largest max. relative error vs NumPy in float64 counted as agreeing


# -- a*b + c*d -----------------------------------------------------------------------------------


@njit(parallel=True, fastmath={"contract", "reassoc"})
def _hand_abcd(a, b, c, d, out):
    for i in prange(a.shape[0]):
        for j in range(a.shape[1]):
            out[i, j] = a[i, j] * b[i, j] + c[i, j] * d[i, j]


def hand_abcd(A, B, C, D):
    out = np.empty_like(A)
    _hand_abcd(A, B, C, D, out)
    return out


def numpy_abcd(A, B, C, D):
    return A * B + C * D


def _symbolic_abcd():
    a, b, c, d = (jg.Variable(n) for n in "ABCD")
    return jg.compile(a * b + c * d)


def abcd_workload(n: int) -> Workload:
    def inputs(rng):
        return {k: rng.uniform(0, 1, (n, n)).astype(np.float32) for k in "ABCD"}

    w = Workload(f"a*b + c*d  ({n}x{n} f32)", inputs)
    w.impls["numpy"] = numpy_abcd
    w.impls["jitgraph"] = _symbolic_abcd()
    w.impls["hand prange"] = hand_abcd
    w.impls["numba parallel"] = njit(parallel=True)(numpy_abcd)
    _optional(w, "numexpr", lambda: _numexpr("A*B + C*D"))
    _optional(w, "jax", lambda: _jax(numpy_abcd))
    return w


# -- mean((x - y)**2) ------------------------------------------------------------------------------


@njit(parallel=True, fastmath={"contract", "reassoc"})
def _hand_mse(x, y):
    acc = np.float32(0.0)
    for i in prange(x.shape[0]):
        d = x[i] - y[i]
        acc += d * d
    return acc / x.shape[0]


def numpy_mse(x, y):
    return np.mean((x - y) ** 2)


def mse_workload(n: int) -> Workload:
    def inputs(rng):
        return {k: rng.standard_normal(n).astype(np.float32) for k in "xy"}

    w = Workload(f"mean((x-y)**2)  ({n} f32)", inputs)
    x, y = jg.Variable("x"), jg.Variable("y")
    w.impls["numpy"] = numpy_mse
    w.impls["jitgraph"] = jg.compile(((x - y) ** 2).mean())
    w.impls["hand prange"] = lambda x, y: _hand_mse(x, y)
    w.impls["numba parallel"] = njit(parallel=True)(numpy_mse)
    _optional(w, "jax", lambda: _jax(numpy_mse))
    return w


# -- row softmax -----------------------------------------------------------------------------------


@njit(parallel=True, fastmath={"contract", "reassoc"})
def _hand_softmax(x, out):
    for i in prange(x.shape[0]):
        m = x[i, 0]
        for j in range(x.shape[1]):
            m = max(m, x[i, j])
        s = np.float32(0.0)
        for j in range(x.shape[1]):
            e = vm_exp_f32(x[i, j] - m)
            out[i, j] = e
            s += e
        for j in range(x.shape[1]):
            out[i, j] /= s


def hand_softmax(x):
    out = np.empty_like(x)
    _hand_softmax(x, out)
    return out


def numpy_softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_workload(rows: int, cols: int) -> Workload:
    def inputs(rng):
        return {"x": rng.standard_normal((rows, cols)).astype(np.float32)}

    w = Workload(f"row softmax  ({rows}x{cols} f32)", inputs)
    x = jg.Variable("x")
    e = jg.sym.exp(x - x.max(axis=1, keepdims=True))
    w.impls["numpy"] = numpy_softmax
    w.impls["jitgraph"] = jg.compile(e / e.sum(axis=1, keepdims=True))
    w.impls["hand prange"] = hand_softmax
    _optional(w, "jax", lambda: _jax(numpy_softmax))
    return w


# -- GELU and an exp/sqrt chain --------------------------------------------------------------------


def numpy_gelu(x):
    return 0.5 * x * (1 + np.tanh(0.7978845608 * (x + 0.044715 * x**3)))


@njit(parallel=True, fastmath={"contract", "reassoc"})
def _hand_gelu(x, out):
    for i in prange(x.shape[0]):
        for j in range(x.shape[1]):
            v = x[i, j]
            out[i, j] = (
                np.float32(0.5)
                * v
                * (
                    np.float32(1)
                    + vm_tanh_f32(np.float32(0.7978845608) * (v + np.float32(0.044715) * v * v * v))
                )
            )


def hand_gelu(x):
    out = np.empty_like(x)
    _hand_gelu(x, out)
    return out


def gelu_workload(n: int) -> Workload:
    def inputs(rng):
        return {"x": rng.standard_normal((n, n)).astype(np.float32)}

    w = Workload(f"GELU  ({n}x{n} f32)", inputs)
    x = jg.Variable("x")
    w.impls["numpy"] = numpy_gelu
    w.impls["jitgraph"] = jg.compile(
        0.5 * x * (1 + jg.sym.tanh(0.7978845608 * (x + 0.044715 * x**3)))
    )
    w.impls["hand prange"] = hand_gelu
    w.impls["numba parallel"] = njit(parallel=True)(numpy_gelu)
    _optional(w, "jax", lambda: _jax(numpy_gelu))
    return w


# -- relu(x @ W + b) -------------------------------------------------------------------------------

SETTLE = 0.2  # > OpenBLAS's default spin time (2**28 cycles) after a call


def numpy_dense(x, W, b):
    return np.maximum(x @ W + b, 0)


@njit(parallel=True, fastmath={"contract", "reassoc"})
def _hand_dense(x, W, b, out):
    np.dot(x, W, out)  # BLAS (SciPy's), then the epilogue in place, one parallel pass
    for i in prange(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = max(out[i, j] + b[j], np.float32(0))


def hand_dense(x, W, b):
    out = np.empty((x.shape[0], W.shape[1]), x.dtype)
    _hand_dense(x, W, b, out)
    return out


def dense_workload(batch: int, n_in: int, n_out: int) -> Workload:
    def inputs(rng):
        return {
            "x": rng.standard_normal((batch, n_in)).astype(np.float32),
            "W": (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32),
            "b": rng.standard_normal(n_out).astype(np.float32),
        }

    w = Workload(f"relu(x@W+b)  ({batch}x{n_in} @ {n_in}x{n_out} f32)", inputs, settle=SETTLE)
    w.impls["numpy"] = numpy_dense
    w.impls["jitgraph"] = jg.jit(numpy_dense)
    w.impls["hand prange"] = hand_dense
    _optional(w, "numba parallel", lambda: _numba_parallel(numpy_dense, inputs))
    _optional(w, "jax", lambda: _jax(numpy_dense))
    return w


# -- MLP training step -----------------------------------------------------------------------------


def mlp_loss(x, w1, b1, w2, b2, labels):
    """Two-layer MLP: ReLU hidden layer, mean softmax cross-entropy over the batch."""
    h = np.maximum(x @ w1 + b1, 0)
    logits = h @ w2 + b2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(labels * logp) / x.shape[0]


def sgd(w1, b1, w2, b2, g1, gb1, g2, gb2, lr):
    w1 -= lr * g1
    b1 -= lr * gb1
    w2 -= lr * g2
    b2 -= lr * gb2


def numpy_mlp_step(x, labels, w1, b1, w2, b2, lr):
    """One SGD step in NumPy, the backward pass written by hand; updates the weights in place
    and returns the loss."""
    z = x @ w1 + b1
    h = np.maximum(z, 0)
    logits = h @ w2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    loss = -np.sum(labels * (shifted - np.log(s))) / x.shape[0]
    dlogits = (e / s - labels) / x.shape[0]
    dh = (dlogits @ w2.T) * (z > 0)
    w2 -= lr * (h.T @ dlogits)
    b2 -= lr * dlogits.sum(axis=0)
    w1 -= lr * (x.T @ dh)
    b1 -= lr * dh.sum(axis=0)
    return loss


class MlpState:
    """An implementation's own weights, which its steps update. A new input set (new arrays)
    starts from the initial weights again, so every implementation's first step is compared
    with NumPy's on equal terms. `step(x, labels, params)` returns (loss, new params): the same
    arrays when it updates in place."""

    def __init__(self, step: Callable):
        self.step = step
        self.origin = None
        self.params: list = []

    def __call__(self, x, labels, w1, b1, w2, b2):
        if self.origin is not w1:
            self.origin = w1
            self.params = [p.copy() for p in (w1, b1, w2, b2)]
        loss, self.params = self.step(x, labels, self.params)
        return Flat([loss, *self.params])


class Flat:
    """Loss and weights after a step, flattened into one array only when the error check asks
    (np.asarray): not inside the timed call."""

    def __init__(self, parts: list):
        self.parts = parts

    def __array__(self, dtype=None, copy=None):
        return np.concatenate([np.ravel(np.asarray(p, dtype=dtype)) for p in self.parts])


def _jitgraph_mlp(lr: float):
    """Forward and backward pass: one kernel from jg.value_and_grad (the gradients by jitgraph's
    autodiff); the SGD update: one kernel from jg.jit (its writes reach the caller's arrays)."""
    value_and_grad = jg.value_and_grad(mlp_loss, argnums=(1, 2, 3, 4))
    update = jg.jit(sgd)

    def step(x, labels, params):
        loss, grads = value_and_grad(x, *params, labels)
        update(*params, *grads, lr)
        return loss, params

    return step


def _numpy_mlp(lr: float):
    def step(x, labels, params):
        return numpy_mlp_step(x, labels, *params, lr), params

    return step


def _numba_mlp(lr: float, make_inputs):
    compiled = njit(parallel=True)(numpy_mlp_step)
    probe = make_inputs(np.random.default_rng(1))  # compiles now: fails here if unsupported
    compiled(*(probe[k] for k in ("x", "labels", "w1", "b1", "w2", "b2")), np.float32(lr))

    def step(x, labels, params):
        return compiled(x, labels, *params, np.float32(lr)), params

    return step


def _jax_mlp(lr: float):
    """jax.jit of value_and_grad of the same `mlp_loss` and the update: one XLA program per
    step. JAX arrays are immutable, so the weights are JAX's own arrays from the second step on
    (the inputs are converted once)."""
    import jax
    import jax.numpy as jnp

    grad = jax.value_and_grad(_as_jax(mlp_loss), argnums=(1, 2, 3, 4))

    @jax.jit
    def jax_step(params, x, labels):
        value, grads = grad(x, *params, labels)
        return value, [p - lr * g for p, g in zip(params, grads)]

    converted: dict[int, tuple] = {}

    def step(x, labels, params):
        if id(x) not in converted:
            converted.clear()
            converted[id(x)] = (x, jnp.asarray(x), jnp.asarray(labels))  # x kept: ids stay unique
        _, jx, jlabels = converted[id(x)]
        value, new = jax_step([jnp.asarray(p) for p in params], jx, jlabels)
        return jax.block_until_ready(value), jax.block_until_ready(new)

    return step


def mlp_workload(batch: int, n_in: int, hidden: int, classes: int, lr: float = 0.05) -> Workload:
    def inputs(rng):
        return {
            "x": rng.standard_normal((batch, n_in)).astype(np.float32),
            "labels": np.eye(classes, dtype=np.float32)[rng.integers(0, classes, batch)],
            "w1": (rng.standard_normal((n_in, hidden)) / np.sqrt(n_in)).astype(np.float32),
            "b1": np.zeros(hidden, np.float32),
            "w2": (rng.standard_normal((hidden, classes)) / np.sqrt(hidden)).astype(np.float32),
            "b2": np.zeros(classes, np.float32),
        }

    w = Workload(
        f"MLP SGD step  ({batch}x{n_in} -> {hidden} -> {classes} f32)", inputs, settle=SETTLE
    )
    w.impls["numpy"] = MlpState(_numpy_mlp(lr))
    w.impls["jitgraph"] = MlpState(_jitgraph_mlp(lr))
    _optional(w, "jax", lambda: MlpState(_jax_mlp(lr)))
    _optional(w, "numba parallel", lambda: MlpState(_numba_mlp(lr, inputs)))
    return w


# -- column standardization ------------------------------------------------------------------------


def numpy_standardize(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


@njit(parallel=True, fastmath={"contract", "reassoc"})
def _hand_column_sums(X, chunks):
    """Per chunk of rows, the sums of X - X[0] and of its squares for every column, in float64
    (shifted by the first row: the sum of squares keeps its precision when means are large).
    Rows are read in order, the inner loop runs along a row (vectorized, contiguous)."""
    n, m = X.shape
    s1 = np.empty((chunks, m))
    s2 = np.empty((chunks, m))
    for c in prange(chunks):
        a1 = np.zeros(m)
        a2 = np.zeros(m)
        for i in range(c * n // chunks, (c + 1) * n // chunks):
            for j in range(m):
                d = np.float64(X[i, j]) - np.float64(X[0, j])
                a1[j] += d
                a2[j] += d * d
        s1[c] = a1
        s2[c] = a2
    return s1, s2


@njit(parallel=True, fastmath={"contract", "reassoc"})
def _hand_standardize(X, s1, s2, out):
    n, m = X.shape
    chunks = s1.shape[0]
    mean = np.empty(m, X.dtype)
    std = np.empty(m, X.dtype)
    for j in range(m):
        d1 = 0.0
        d2 = 0.0
        for c in range(chunks):
            d1 += s1[c, j]
            d2 += s2[c, j]
        shift = d1 / n
        mean[j] = X[0, j] + shift
        std[j] = np.sqrt(max(d2 / n - shift * shift, 0.0))
    for i in prange(n):
        for j in range(m):
            out[i, j] = (X[i, j] - mean[j]) / std[j]


def hand_standardize(X):
    """Two passes over the rows: column sums with per-thread partial sums, then the output."""
    s1, s2 = _hand_column_sums(X, numba.get_num_threads())
    out = np.empty_like(X)
    _hand_standardize(X, s1, s2, out)
    return out


def _numexpr_standardize():
    """numexpr for the elementwise part; the column mean and std by NumPy (numexpr reduces only
    as the last operation, single-threaded)."""
    import numexpr

    def run(X):
        m, s = X.mean(axis=0), X.std(axis=0)
        return numexpr.evaluate("(X - m) / s", local_dict={"X": X, "m": m, "s": s})

    return run


def standardize_workload(rows: int, cols: int) -> Workload:
    def inputs(rng):
        return {"X": (rng.standard_normal((rows, cols)) * 3 + 10).astype(np.float32)}

    w = Workload(f"column standardization  ({rows}x{cols} f32)", inputs)
    w.impls["numpy"] = numpy_standardize
    w.impls["jitgraph"] = jg.jit(numpy_standardize)
    w.impls["hand prange"] = hand_standardize
    _optional(w, "numba parallel", lambda: _numba_parallel(numpy_standardize, inputs))
    if _optional(w, "numexpr", _numexpr_standardize):
        w.notes.append("numexpr: the elementwise part; mean and std by NumPy")
    _optional(w, "jax", lambda: _jax(numpy_standardize))
    return w


# -- 2-D Jacobi stencil, a time loop ---------------------------------------------------------------


def numpy_jacobi(A, B, T):
    """T Jacobi steps, each two half-steps (A -> B, B -> A); updates A and B in place."""
    for _ in range(T):
        B[1:-1, 1:-1] = 0.25 * (A[:-2, 1:-1] + A[2:, 1:-1] + A[1:-1, :-2] + A[1:-1, 2:])
        A[1:-1, 1:-1] = 0.25 * (B[:-2, 1:-1] + B[2:, 1:-1] + B[1:-1, :-2] + B[1:-1, 2:])


@njit(parallel=True)
def _hand_jacobi(A, B, T):
    n, m = A.shape
    for _ in range(T):
        for i in prange(1, n - 1):
            for j in range(1, m - 1):
                B[i, j] = 0.25 * (A[i - 1, j] + A[i + 1, j] + A[i, j - 1] + A[i, j + 1])
        for i in prange(1, n - 1):
            for j in range(1, m - 1):
                A[i, j] = 0.25 * (B[i - 1, j] + B[i + 1, j] + B[i, j - 1] + B[i, j + 1])


def _in_place(fn):
    """A call of `fn(A, B, T)`, which updates A and B, returning both for the error check."""

    def run(A, B, T):
        fn(A, B, T)
        return Flat([A, B])

    return run


def _numexpr_jacobi():
    """The same loop, each half-step one numexpr.evaluate writing into the interior view."""
    import numexpr

    step = "0.25 * (n + s + w + e)"

    def half(src, dst):
        views = {"n": src[:-2, 1:-1], "s": src[2:, 1:-1], "w": src[1:-1, :-2], "e": src[1:-1, 2:]}
        numexpr.evaluate(step, local_dict=views, out=dst[1:-1, 1:-1])

    def run(A, B, T):
        for _ in range(T):
            half(A, B)
            half(B, A)
        return Flat([A, B])

    return run


def _jax_jacobi():
    """JAX arrays are immutable: the loop is jax.lax.fori_loop over (A, B), T a traced argument
    (one compilation for every T, as for the others), each half-step an .at[].set(); returns
    the new A and B."""
    import jax

    def half(src, dst):
        return dst.at[1:-1, 1:-1].set(
            0.25 * (src[:-2, 1:-1] + src[2:, 1:-1] + src[1:-1, :-2] + src[1:-1, 2:])
        )

    def body(_, carry):
        A, B = carry
        B = half(A, B)
        return half(B, A), B

    jitted = jax.jit(lambda A, B, T: jax.lax.fori_loop(0, T, body, (A, B)))

    def run(A, B, T):
        return Flat(list(jax.block_until_ready(jitted(A, B, T))))

    return run


def jacobi_workload(n: int, steps: int) -> Workload:
    def inputs(rng):
        A = rng.uniform(0, 1, (n, n))
        return {"A": A, "B": A.copy(), "T": steps}

    w = Workload(f"Jacobi 2-D, T={steps} steps  ({n}x{n} f64)", inputs, mutates=True, tol=1e-12)
    w.impls["numpy"] = _in_place(numpy_jacobi)
    w.impls["jitgraph"] = _in_place(jg.jit(numpy_jacobi))
    w.impls["hand prange"] = _in_place(_hand_jacobi)
    _optional(w, "numba parallel", lambda: _in_place(njit(parallel=True)(numpy_jacobi)))
    _optional(w, "numexpr", _numexpr_jacobi)
    if _optional(w, "jax", _jax_jacobi):
        w.notes.append("jax: jax.lax.fori_loop with T traced (not a Python loop under jit)")
    return w


# -- optional competitors --------------------------------------------------------------------------


def _numexpr(expr: str):
    import numexpr

    return lambda **kw: numexpr.evaluate(expr, local_dict=kw)


def _as_jax(fn):
    """The same function with `np` bound to jax.numpy (the NumPy source, traced by JAX)."""
    import jax.numpy as jnp

    return types.FunctionType(
        fn.__code__, {**fn.__globals__, "np": jnp}, fn.__name__, fn.__defaults__, fn.__closure__
    )


def _jax(fn):
    import jax

    jitted = jax.jit(_as_jax(fn))

    def run(**kw):
        return jitted(**kw).block_until_ready()

    return run


def _numba_parallel(fn, make_inputs):
    """Numba's parallel=True on the NumPy function itself, compiled now (on small inputs of the
    same types) so that a function Numba does not support is left out with its reason."""
    compiled = njit(parallel=True)(fn)
    compiled(**make_inputs(np.random.default_rng(1)))
    return compiled


def _optional(w: Workload, name: str, make) -> bool:
    """Add the implementation `make()` returns, or a note saying why it is left out."""
    try:
        w.impls[name] = make()
        return True
    except ImportError:
        w.notes.append(f"{name}: not installed")
    except Exception as exc:  # Numba cannot compile the NumPy code: say so in the results
        w.notes.append(f"{name}: does not compile ({type(exc).__name__}: {_reason(exc)})")
    return False


def _reason(exc: Exception) -> str:
    """The informative part of an error: for Numba's typing errors, the call it could not type
    and why, not the pipeline stage on the first line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    call = next((line[3:].strip() for line in lines if line.startswith(">>>")), None)
    why = next((line for line in lines if line.startswith("TypingError:")), None)
    if call:
        return f"{call}: {why.split(':', 1)[1].strip() if why else lines[0]}"[:160]
    return lines[0][:160]


# -- measurement -----------------------------------------------------------------------------------


def _as_f64(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float64)
    return value


def _copies(inputs: dict) -> dict:
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in inputs.items()}


def measure(w: Workload, rounds: int, rng) -> dict[str, tuple[float, float]]:
    """Median seconds and max relative error (vs NumPy in float64) of each implementation.
    A workload that updates its inputs gets fresh copies for every call, made before the
    timer starts."""
    inputs = w.make_inputs(rng)

    def args():
        return _copies(inputs) if w.mutates else inputs

    exact = np.asarray(w.impls["numpy"](**{k: _as_f64(v) for k, v in args().items()}))
    scale = max(float(np.max(np.abs(exact))), 1e-30)
    errors = {}
    for name, fn in w.impls.items():  # warm up (compiles) and check every result
        result = np.asarray(fn(**args()), dtype=np.float64)
        if result.shape != exact.shape:
            errors[name] = float("inf")
        else:
            errors[name] = float(np.max(np.abs(result - exact))) / scale
    times: dict[str, list[float]] = {name: [] for name in w.impls}
    order = list(w.impls.items())
    shuffle = np.random.default_rng(len(order))  # the same orders in every run
    for _ in range(rounds):
        # A new order each round: no implementation always runs right after the same other
        # (whichever came right after NumPy's long single-threaded pass ran on cores that had
        # partly idled: 1.4-1.7 ms in a column standardization, 0.8-1.0 later in the round).
        for k in shuffle.permutation(len(order)):
            name, fn = order[k]
            if w.settle:  # see the module docstring
                time.sleep(w.settle)
            fn(**args())  # untimed: the implementation's threads and caches are its own
            call_args = args()
            start = time.perf_counter()
            fn(**call_args)
            times[name].append(time.perf_counter() - start)
    return {name: (float(np.median(t)), errors[name]) for name, t in times.items()}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        import scipy

        blas = f"SciPy {scipy.__version__} (the BLAS Numba's np.dot calls)"
    except ImportError:
        blas = "no SciPy (products run as loops)"
    return (
        f"{cpu}; {os.cpu_count()} cores; Python {platform.python_version()}; "
        f"NumPy {np.__version__}; Numba {numba.__version__} "
        f"(threading layer set at first parallel call); {blas}; jitgraph {jg.__version__}"
    )


# -- the report -----------------------------------------------------------------------------------

VARIANTS = ("jitgraph", "numpy", "numexpr", "numba parallel", "jax", "hand prange")


def _columns(results: dict[str, dict]) -> list[str]:
    found = [v for v in VARIANTS if any(v in entries for entries in results.values())]
    return found + sorted({n for e in results.values() for n in e} - set(found))


def table(results: dict[str, dict[str, tuple[float, float]]], tols: dict[str, float]) -> str:
    """Workloads (rows) x implementations (columns): median ms and, in parentheses, the time
    over jitgraph's. A result that does not agree with NumPy (error above the workload's
    tolerance) is marked `!`."""
    columns = _columns(results)
    lines = [
        "| workload | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for workload, entries in results.items():
        ours = entries.get("jitgraph", (None,))[0]
        cells = []
        for name in columns:
            if name not in entries:
                cells.append("-")
                continue
            t, err = entries[name]
            cell = f"{t * 1e3:.2f}"
            if ours and name != "jitgraph":
                cell += f" ({t / ours:.2f}x)"
            if not err <= tols[workload]:
                cell += " !"
            cells.append(cell)
        lines.append(f"| {workload} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def error_table(results: dict[str, dict[str, tuple[float, float]]]) -> str:
    columns = _columns(results)
    lines = ["| workload | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for workload, entries in results.items():
        cells = [f"{entries[n][1]:.1e}" if n in entries else "-" for n in columns]
        lines.append(f"| {workload} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def dispatch_lines(rounds: int, calls: int) -> list[str]:
    import dispatch

    r = dispatch.run(16, rounds, calls)
    names = {
        "jitgraph": "jitgraph",
        "jitgraph kernel alone": "its kernel alone",
        "numba njit": "Numba njit",
        "numba njit(parallel=True)": "Numba njit(parallel=True)",
        "numpy": "NumPy",
        "jax.jit (device arrays)": "JAX jit (device arrays)",
    }
    parts = [f"{label} {r[key]:.2f}" for key, label in names.items() if key in r]
    return [
        f"Dispatch, `a * b + 1` on two float64[16], us per call (median of {rounds} rounds of "
        f"{calls} calls; {dispatch.numba_threads()} Numba threads): "
        + ", ".join(parts)
        + f"; jitgraph's own overhead {r['jitgraph overhead']:.2f}"
    ]


def compile_lines(repeat: int, names: list[str] | None) -> list[str]:
    import compile as compile_bench  # benchmarks/compile.py, not the builtin

    found = compile_bench.summary(repeat, names)
    lines = [
        f"Compile time of the first call, s (median of {repeat} fresh processes; cold: no "
        "cache, warm: the persistent cache filled by an earlier process; jitgraph vs Numba "
        "parallel=True on the same NumPy function, except softmax, which Numba cannot compile: "
        "its prange version):"
    ]
    for name, r in found.items():
        lines.append(
            f"  - {name}: cold jitgraph {r['jitgraph cold']:.2f}, Numba {r['numba cold']:.2f}; "
            f"warm jitgraph {r['jitgraph cached']:.2f}, Numba {r['numba cached']:.2f} "
            f"(jitgraph cold, ms: {r['phases']})"
        )
    return lines


def memory_lines(n: int, write: bool) -> list[str]:
    import memory

    rows = memory.measure_all(n)
    if write:
        memory.write(rows)
    lines = ["Peak memory of one call beyond its inputs and outputs, MB (fresh process each):"]
    lines += [
        f"  - {label}: NumPy {np_mb:.1f}, jitgraph {jg_mb:.1f}" for label, np_mb, jg_mb in rows
    ]
    return lines


def _enable_jax_x64() -> None:
    """float64 in JAX (the Jacobi workload and the dispatch line use it); float32 inputs stay
    float32."""
    try:
        import jax
    except ImportError:
        return
    jax.config.update("jax_enable_x64", True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=10, help="Jacobi time steps")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: small sizes, 3 rounds, short extras; does not write RESULTS.md "
        "unless --out is given",
    )
    parser.add_argument(
        "--no-extras",
        action="store_true",
        help="only the workloads: no dispatch, compile or memory lines",
    )
    parser.add_argument(
        "--compile-repeat",
        type=int,
        default=2,
        help="fresh processes per compile measurement (compile.py alone: 3)",
    )
    parser.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    parser.add_argument("--out", help="write the results here instead of benchmarks/RESULTS.md")
    parser.add_argument("--only", help="run only workloads whose name contains this text")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.size, args.compile_repeat = min(args.rounds, 3), 256, 1
    write = not args.no_write and (args.out is not None or not args.quick)
    _enable_jax_x64()
    rng = np.random.default_rng(0)
    size = args.size
    dense = (256, 784, 128) if args.quick else (2048, 784, 512)
    mlps = (
        [(256, 784, 128, 10), (64, 784, 32, 10)]
        if args.quick
        else [(2048, 784, 512, 10), (256, 784, 128, 10)]
    )
    # (label for --only, factory): workloads are built only when selected (building one may
    # compile its Numba competitor).
    factories = [
        ("a*b + c*d", lambda: abcd_workload(size)),
        ("mean((x-y)**2)", lambda: mse_workload(size * size)),
        ("row softmax", lambda: softmax_workload(size, 1024)),
        ("GELU", lambda: gelu_workload(size)),
        ("column standardization", lambda: standardize_workload(size, 1024)),
        ("Jacobi", lambda: jacobi_workload(size // 2, args.steps)),
        # One dense layer of the MLP below.
        ("relu(x@W+b)", lambda: dense_workload(*dense)),
        # A small MLP on MNIST-sized inputs (784 features, 10 classes) at two batch / width
        # settings: a large batch and hidden layer, where the two big products dominate, and
        # a small one, where per-operation costs do.
        *((f"MLP SGD step  ({m[0]}", lambda m=m: mlp_workload(*m)) for m in mlps),
    ]
    if args.only:
        factories = [(label, make) for label, make in factories if args.only in label]
    results: dict[str, dict[str, tuple[float, float]]] = {}
    tols: dict[str, float] = {}
    notes = []
    began = time.perf_counter()
    for _, make in factories:  # progress on stderr: stdout is the report
        start = time.perf_counter()
        w = make()
        print(f"{w.name} ...", end=" ", file=sys.stderr, flush=True)
        results[w.name] = measure(w, args.rounds, rng)
        tols[w.name] = w.tol
        notes += [f"{w.name}: {note}" for note in w.notes]
        for name, (_, err) in results[w.name].items():
            if not err <= w.tol:
                notes.append(
                    f"{w.name}: {name} does not agree with NumPy: max relative error "
                    f"{err:.1e} > {w.tol:.0e} (marked !)"
                )
        print(f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    sections = [
        f"Median ms per call of {args.rounds} interleaved rounds; in parentheses, the time over "
        "jitgraph's (above 1.00x: slower than jitgraph).\n\n" + table(results, tols)
    ]
    if notes:
        sections.append("\n".join(f"- {note}" for note in notes))
    if not args.no_extras:
        quick = args.quick
        print("dispatch ...", file=sys.stderr, flush=True)
        extras = dispatch_lines(3 if quick else 15, 2000 if quick else 20000)
        print("compile ...", file=sys.stderr, flush=True)
        extras += compile_lines(args.compile_repeat, ["a*b + c*d"] if quick else None)
        print("memory ...", file=sys.stderr, flush=True)
        # MEMORY.md too, when RESULTS.md is written in its place
        extras += memory_lines(1024 if quick else 4096, write=write and not quick and not args.out)
        sections.append(
            "\n".join(line if line.startswith("  ") else f"- {line}" for line in extras)
        )
    sections.append(
        "Max relative error vs NumPy in float64 (checked before timing):\n\n" + error_table(results)
    )
    text = "\n\n".join(sections)
    print(f"total {time.perf_counter() - began:.0f} s", file=sys.stderr)
    print(text)
    if write:
        path = args.out or os.path.join(HERE, "RESULTS.md")
        with open(path, "w") as f:
            f.write("# Benchmark results\n\n")
            f.write(f"Machine: {machine()}\n\n")
            f.write(
                f"Command: `{' '.join(['python', 'benchmarks/run.py'] + (argv or sys.argv[1:]))}`"
                "; one process (compile and memory: fresh processes).\n\n"
            )
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
