"""Loops the kernel runs: runtime trip counts, while loops on data, recurrences, runtime
indices (the loop counter, scalar arguments)."""

import numpy as np


def heat_time_loop(A, B, T):
    """The issue's time-stepping stencil: two arrays updated in turn, T known at run time."""
    for t in range(T):  # noqa: B007 - written as the issue writes it
        B[1:-1] = 0.33 * (A[:-2] + A[1:-1] + A[2:])
        A[1:-1] = 0.33 * (B[:-2] + B[1:-1] + B[2:])
    return A


def tanh_diagonal(a):
    t = 0.0
    for i in range(a.shape[0]):
        t += np.tanh(a[i, i])
    return t


def exponential_smoothing(x):
    z = np.zeros_like(x)
    z[0] = x[0]
    for i in range(1, len(x)):
        z[i] = z[i - 1] * 0.9 + x[i]
    return z


def halve_until_small(x):
    n = 0
    while np.abs(x).max() > 1.0:
        x = x * 0.5
        n += 1
    return x, n


def gradient_steps(x, lr, steps):
    for _ in range(steps):
        x -= lr * 2.0 * (x - 1.0)
    return x


def column_energy(X):
    total = np.zeros(X.shape[1])
    for row in X:
        total += row * row
    return total


def running_max(x):
    out = np.empty_like(x)
    m = x[0]
    for i in range(len(x)):
        m = max(m, x[i])
        out[i] = m
    return out


def power_iteration(A, v, iterations):
    for _ in range(iterations):
        v = A @ v
        v = v / np.sqrt((v * v).sum())
    return v


def pairwise_spread(x):
    s = 0.0
    for i in range(len(x)):
        for j in range(i):
            s += abs(x[i] - x[j])
    return s


def collatz_steps(n):
    steps = 0
    while n != 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps


def long_decay(x):
    for _ in range(100):
        x = x * 0.99 + 0.01
    return x


def pick_row(X, i):
    return X[i] * 2.0, X[-1, i]


def scatter_rows(out, src, start):
    for k in range(src.shape[0]):
        out[start + k, :] = src[k] + out[start + k, :]
    return out


def lookup_or_default(x, i):
    """A runtime branch guarding an index: the side not taken must not raise."""
    value = np.float64(-1.0)
    if 0 <= i < x.shape[0]:
        value = x[i] * 2.0
    return value


def clipped_row_sums(X):
    """A branch per row inside a runtime loop, writing the output in place."""
    out = np.zeros(X.shape[0])
    for i in range(X.shape[0]):
        if X[i, 0] > 0:
            out[i] = X[i].sum()
        else:
            out[i] = -1.0
    return out


def normalize_if_large(x):
    """A top-level branch on data with a reduction in one side and an update in the other."""
    total = np.abs(x).sum()
    if total > 10.0:
        y = x / total
        scale = 1.0 / total
    else:
        y = x.copy()
        y[0] = 0.0
        scale = 1.0
    return y, scale


def moving_average(x, width):
    """Windows with a runtime start and a constant length: x[i:i + 3] in a runtime loop."""
    out = np.zeros(x.shape[0] - 2)
    for i in range(x.shape[0] - 2):
        out[i] = x[i:i + 3].sum() / 3.0
    x[width:width + 2] = 0.0  # a window write at a scalar argument
    return out
