"""Distances and linear algebra."""

import numpy as np


def pairwise_sq_dists(a, b):
    aa = (a * a).sum(axis=1)[:, np.newaxis]
    bb = (b * b).sum(axis=1)[np.newaxis, :]
    return aa + bb - 2 * a @ b.T


def pairwise_broadcast(a, b):
    diff = a[:, None, :] - b[None, :, :]
    return np.sqrt((diff**2).sum(axis=-1))


def cosine_similarity(a, b):
    dot = np.dot(a, b)
    return dot / (np.linalg.norm(a) * np.linalg.norm(b))


COEFFS = (1.0, -2.0, 0.5, 3.0)


def polynomial(x):
    result = np.zeros_like(x)
    for c in COEFFS:
        result = result * x + c
    return result


def gram_trace(x):
    g = x.T @ x
    return g, (x**2).sum()


def outer_sum(u, v):
    return np.outer(u, v) + u[:, None] + v
