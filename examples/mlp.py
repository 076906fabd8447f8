"""A two-layer MLP (tanh hidden layer, softmax cross-entropy) trained with a compiled SGD step.

`jg.value_and_grad` compiles the loss and all four gradients into one fused kernel per call
signature; a `jg.jit` function applies the update in place (`w -= lr * g`). At the end the
compiled step is timed against the same step written in NumPy.

Run: python examples/mlp.py   (JITGRAPH_BACKEND=python runs without Numba, on smaller data)
"""

import os
import time

import numpy as np

import jitgraph as jg

BACKEND = os.environ.get("JITGRAPH_BACKEND", "numba")
N, D, H, C = (1024, 32, 64, 4) if BACKEND == "numba" else (128, 8, 16, 4)


def loss_fn(x, w1, b1, w2, b2, labels):
    h = np.tanh(x @ w1 + b1)
    logits = h @ w2 + b2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(labels * logp) / x.shape[0]


def sgd(w1, b1, w2, b2, g1, gb1, g2, gb2, lr):
    w1 -= lr * g1
    b1 -= lr * gb1
    w2 -= lr * g2
    b2 -= lr * gb2


def numpy_step(x, w1, b1, w2, b2, labels, lr):
    """The same training step in NumPy, gradients by hand."""
    h = np.tanh(x @ w1 + b1)
    logits = h @ w2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.sum(labels * np.log(p)) / x.shape[0]
    dlogits = (p - labels) / x.shape[0]
    dh = (dlogits @ w2.T) * (1 - h * h)
    w2 -= lr * (h.T @ dlogits)
    b2 -= lr * dlogits.sum(axis=0)
    w1 -= lr * (x.T @ dh)
    b1 -= lr * dh.sum(axis=0)
    return loss


def make_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(C, D)) * 2
    classes = rng.integers(0, C, N)
    x = centers[classes] + rng.normal(size=(N, D))
    return x, np.eye(C)[classes]


def init_params(seed: int = 1):
    rng = np.random.default_rng(seed)
    return [
        rng.normal(size=(D, H)) / np.sqrt(D),
        np.zeros(H),
        rng.normal(size=(H, C)) / np.sqrt(H),
        np.zeros(C),
    ]


def main() -> None:
    x, labels = make_data()
    params = init_params()
    grad_step = jg.value_and_grad(loss_fn, argnums=(1, 2, 3, 4), backend=BACKEND)
    update = jg.jit(sgd, backend=BACKEND)
    lr = 0.5
    for epoch in range(30):
        loss, grads = grad_step(x, *params, labels)
        update(*params, *grads, lr)
        if epoch % 5 == 0 or epoch == 29:
            print(f"epoch {epoch:3d}  loss {loss:.4f}")
    h = np.tanh(x @ params[0] + params[1])
    accuracy = np.mean(np.argmax(h @ params[2] + params[3], axis=1) == np.argmax(labels, axis=1))
    print(f"training accuracy {accuracy:.3f}")
    benchmark(x, labels, grad_step, update, lr)


def benchmark(x, labels, grad_step, update, lr, rounds: int = 21) -> None:
    """Median time of one training step, jitgraph and NumPy interleaved (machine noise hits
    both alike). Each timed step follows a pause and one untimed step of the same
    implementation: BLAS and Numba thread pools spin for a while after their work, and the
    other implementation should not be timed against that (as in benchmarks/run.py)."""

    def compiled(params):
        loss, grads = grad_step(x, *params, labels)
        update(*params, *grads, lr)

    steps = {
        "jitgraph": compiled,
        "numpy": lambda params: numpy_step(x, *params, labels, lr),
    }
    params = {name: init_params() for name in steps}
    for name, step in steps.items():
        step(params[name])  # warm up (compiles)
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            time.sleep(0.2)
            step(params[name])
            start = time.perf_counter()
            step(params[name])
            times[name].append(time.perf_counter() - start)
    median = {name: float(np.median(t)) for name, t in times.items()}
    print(
        f"training step ({N}x{D} -> {H} -> {C}, {BACKEND}): jitgraph "
        f"{median['jitgraph'] * 1e3:.2f} ms, NumPy {median['numpy'] * 1e3:.2f} ms "
        f"(medians of {rounds}; jitgraph / NumPy = {median['jitgraph'] / median['numpy']:.2f})"
    )


if __name__ == "__main__":
    main()
