"""Normalizations, softmax and friends."""

import numpy as np
from numpy import exp, sqrt

EPS = 1e-5


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def logsumexp(x):
    m = np.max(x, axis=1)
    return m + np.log(np.sum(np.exp(x - m[:, None]), axis=1))


def log_softmax(x):
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(exp(shifted).sum(axis=1, keepdims=True))


def standardize(x):
    mu = x.mean(axis=0)
    sigma = x.std(axis=0)
    return (x - mu) / (sigma + EPS)


def layer_norm(x, gamma, beta):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return gamma * (x - mean) / sqrt(var + EPS) + beta


def min_max_scale(x):
    lo, hi = x.min(), x.max()
    return (x - lo) / (hi - lo)


def l2_normalize_rows(x):
    norms = np.sqrt(np.sum(x * x, axis=1, keepdims=True))
    return x / np.maximum(norms, 1e-12)


def zscore_clip(x, limit=3.0):
    z = (x - np.mean(x)) / np.std(x)
    return np.clip(z, -limit, limit)


def moments(x):
    n = x.shape[0]
    mean = x.sum() / n
    centered = x - mean
    variance = (centered**2).sum() / (n - 1)
    skew = (centered**3).mean() / variance**1.5
    return mean, variance, skew
