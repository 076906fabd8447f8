"""Helpers, branches on static facts and on runtime scalars, loops, multiple returns."""

import numpy as np

SCALE = 2.5
OFFSETS = (1, 2, 3)


def _center(x, axis=0):
    return x - x.mean(axis=axis, keepdims=True)


def center_both(x):
    def inner(y):
        return _center(y, axis=1)

    return inner(_center(x)) * SCALE


def rank_dispatch(x):
    if x.ndim == 1:
        return x * 2
    elif x.shape[1] == 1:
        return x[:, 0] + 1
    else:
        return x.sum(axis=1)


def runtime_branch(x, threshold):
    total = x.sum()
    if total > threshold:
        scale = 1.0
        shift = total
    else:
        scale = -1.0
        shift = 0.0
    return x * scale + shift


def conditional_expr(x, flag):
    y = x * 2 if flag else x - 1
    return y, abs(float(x.mean())) if flag else 0.0


def sum_of_shifts(x):
    acc = np.zeros(x.shape[0] - 3, dtype=x.dtype)
    for k in OFFSETS:
        acc = acc + x[k : x.shape[0] - 3 + k]
    return acc


def stats_tuple(x):
    n = len(x)
    return x.min(), x.max(), x.sum() / n, n


def stencil_steps(u, alpha):
    """Explicit heat equation: a time loop with a bound known at compile time."""
    u = u.copy()
    for _step in range(10):
        lap = u[:-2] - 2 * u[1:-1] + u[2:]
        u[1:-1] += alpha * lap
    return u


def resize_static(x, n):
    out = np.zeros((n, x.shape[1]), dtype=x.dtype)
    out[:2] = x[:2]
    return out


def early_return(x, mode):
    if mode == "sum":
        return x.sum(axis=0)
    if mode == "max":
        return x.max(axis=0)
    return x[0]
