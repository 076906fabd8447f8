"""`make bench`: jitgraph against NumPy, a hand-written prange loop, Numba's parallel=True on
the NumPy code, numexpr and JAX (when installed), measured side by side in one run.

Rounds interleave the implementations (so machine noise hits all alike) and the table reports
medians. Results go to stdout and to benchmarks/RESULTS.md with the machine described.

Workloads with matrix products let thread pools settle before each timed call: NumPy's
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


@dataclass
class Workload:
    name: str
    make_inputs: Callable[[np.random.Generator], dict[str, np.ndarray]]
    impls: dict[str, Callable[..., object]] = field(default_factory=dict)
    settle: float = 0.0  # seconds of pause, then one untimed call, before each timed call
    notes: list[str] = field(default_factory=list)  # implementations left out, and why


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


def _optional(w: Workload, name: str, make) -> None:
    try:
        w.impls[name] = make()
    except ImportError:
        w.notes.append(f"{name}: not installed")
    except Exception as exc:  # Numba cannot compile the NumPy code: say so in the results
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        w.notes.append(f"{name}: does not compile ({type(exc).__name__}: {first[:120]})")


# -- measurement -----------------------------------------------------------------------------------


def measure(w: Workload, rounds: int, rng) -> dict[str, tuple[float, float]]:
    """Median seconds and max relative error (vs NumPy in float64) of each implementation."""
    inputs = w.make_inputs(rng)
    exact = np.asarray(w.impls["numpy"](**{k: v.astype(np.float64) for k, v in inputs.items()}))
    errors = {}
    for name, fn in w.impls.items():  # warm up (compiles) and check every result
        result = np.asarray(fn(**inputs), dtype=np.float64)
        scale = max(float(np.max(np.abs(exact))), 1e-30)
        errors[name] = float(np.max(np.abs(result - exact))) / scale
    times: dict[str, list[float]] = {name: [] for name in w.impls}
    for _ in range(rounds):
        for name, fn in w.impls.items():
            if w.settle:  # see the module docstring
                time.sleep(w.settle)
                fn(**inputs)
            start = time.perf_counter()
            fn(**inputs)
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


def table(results: dict[str, dict[str, tuple[float, float]]]) -> str:
    lines = [
        "| workload | implementation | median ms | vs jitgraph | max rel. error |",
        "|---|---|---:|---:|---:|",
    ]
    for workload, entries in results.items():
        ours = entries.get("jitgraph", (None,))[0]
        for name, (t, err) in entries.items():
            ratio = f"{t / ours:.2f}x" if ours else "-"
            lines.append(f"| {workload} | {name} | {t * 1e3:.2f} | {ratio} | {err:.1e} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    parser.add_argument("--only", help="run only workloads whose name contains this text")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    # (label for --only, factory): workloads are built only when selected (building one may
    # compile its Numba competitor).
    factories = [
        ("a*b + c*d", lambda: abcd_workload(args.size)),
        ("mean((x-y)**2)", lambda: mse_workload(args.size * args.size)),
        ("row softmax", lambda: softmax_workload(args.size, 1024)),
        ("GELU", lambda: gelu_workload(args.size)),
        # One dense layer of the MLP below.
        ("relu(x@W+b)", lambda: dense_workload(2048, 784, 512)),
        # A small MLP on MNIST-sized inputs (784 features, 10 classes) at two batch / width
        # settings: a large batch and hidden layer, where the two big products dominate, and
        # a small one, where per-operation costs do.
        ("MLP SGD step  (2048", lambda: mlp_workload(2048, 784, 512, 10)),
        ("MLP SGD step  (256", lambda: mlp_workload(256, 784, 128, 10)),
    ]
    if args.only:
        factories = [(label, make) for label, make in factories if args.only in label]
    results = {}
    notes = []
    for _, make in factories:
        w = make()
        results[w.name] = measure(w, args.rounds, rng)
        notes += [f"{w.name}: {note}" for note in w.notes]
        line = ", ".join(f"{k} {v[0] * 1e3:.2f} ms" for k, v in results[w.name].items())
        entries = results[w.name]
        if "jitgraph" in entries:
            line += f"; jitgraph / numpy = {entries['jitgraph'][0] / entries['numpy'][0]:.2f}"
        print(f"{w.name}: {line}", flush=True)
    text = table(results)
    if notes:
        text += "\n\n" + "\n".join(f"- {note}" for note in notes)
    print()
    print(text)
    if not args.no_write:
        with open(os.path.join(HERE, "RESULTS.md"), "w") as f:
            f.write("# Benchmark results\n\n")
            f.write(f"Machine: {machine()}\n\n")
            f.write(
                f"Command: `{' '.join(['python', 'benchmarks/run.py'] + (argv or sys.argv[1:]))}`; "
                f"medians of {args.rounds} interleaved rounds, one process.\n\n"
            )
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
