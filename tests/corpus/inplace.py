"""Functions that write into arrays, their arguments included."""

import numpy as np


def axpy(a, x, y):
    y += a * x


def clamp_inplace(x, lo, hi):
    x[2:] *= 2.0
    x[:] = np.clip(x, lo, hi)
    x -= x.mean()
    return x


def smooth_interior(u):
    u[1:-1] = 0.25 * u[:-2] + 0.5 * u[1:-1] + 0.25 * u[2:]
    return u.sum()


def set_border(img, value):
    out = img.copy()
    out[0, :] = value
    out[-1, :] = value
    out[:, 0] = value
    out[:, -1] = value
    return out


def view_writes(a):
    first_row = a[0]
    first_row += 10
    alias = a
    alias[1:, ::2] = -1.0
    return a.T.copy()


def accumulate(a, b, c, out):
    """Writes into its last argument and returns nothing."""
    out[:] = 0
    for part in (a, b, c):
        out += part


def running_update(state, x, rate):
    state *= 1 - rate
    state += rate * x
    return state


def scaled_copy(x):
    y = np.empty_like(x)
    y[...] = x * 3
    y[0] = -1
    return x, y
