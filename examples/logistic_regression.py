"""Logistic regression trained with a compiled SGD step (Symbol API).

The loss, its gradients and the parameter updates are one recipe; `jg.compile(loss,
updates=...)` turns it into one fused kernel per call signature that returns the loss and
writes the new parameters into the arrays passed in.

Run: python examples/logistic_regression.py   (JITGRAPH_BACKEND=python runs without Numba)
"""

import os

import numpy as np

import jitgraph as jg

BACKEND = os.environ.get("JITGRAPH_BACKEND", "numba")


def make_data(n: int = 512, d: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    w_true = rng.normal(size=d)
    y = (x @ w_true + 0.3 * rng.normal(size=n) > 0).astype(np.float64)
    return x, y


def training_step(lr: float = 0.5) -> jg.CompiledFunction:
    X, Y, W, b = jg.Variable("X"), jg.Variable("Y"), jg.Variable("W"), jg.Variable("b")
    z = jg.sym.matmul(X, W) + b
    # Binary cross-entropy from logits, written stably: log(1 + e^z) - y z.
    loss = (jg.sym.maximum(z, 0.0) - z * Y + jg.sym.log1p(jg.sym.exp(-jg.sym.abs(z)))).mean()
    gW, gb = loss.grad(wrt=[W, b])
    return jg.compile(loss, updates={W: W - lr * gW, b: b - lr * gb}, backend=BACKEND)


def main() -> None:
    x, y = make_data()
    w, b = np.zeros(x.shape[1]), np.zeros(())
    step = training_step()
    for epoch in range(40):
        loss = step(X=x, Y=y, W=w, b=b)
        if epoch % 5 == 0 or epoch == 39:
            print(f"epoch {epoch:3d}  loss {float(loss):.4f}")
    accuracy = np.mean(((x @ w + b) > 0) == (y > 0.5))
    print(f"training accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
