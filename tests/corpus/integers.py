"""Integer and boolean code."""

import numpy as np


def int_arith(a, b):
    q = a // b
    r = a % b
    return q * b + r, np.abs(a - b).max()


def count_positive(x):
    return (x > 0).sum(), np.sum(x < 0)


def masks(x, y):
    both = (x > 0) & (y > 0)
    either = (x > 0) | (y > 0)
    return np.where(both, x + y, 0), ~either


def histogram_bins(x, nbins):
    lo = x.min()
    width = (x.max() - lo) / nbins
    idx = ((x - lo) / width).astype(np.int64)
    return np.minimum(idx, nbins - 1)


def int_scalar_weak(x, k):
    return x * k + 1, (x + k).dtype == x.dtype


def float32_constants(x):
    y = x * np.float32(0.5) + np.float32(1)
    return y.astype(np.float64), y.dtype
