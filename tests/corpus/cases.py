"""Inputs for every corpus function: `CASES` lists (function, argument maker, jit options)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import control, geometry, inplace, integers, loops, losses, stats


@dataclass
class Case:
    fn: Callable
    make: Callable[[np.random.Generator], tuple]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.fn.__module__.rsplit('.', 1)[-1]}.{self.fn.__name__}"


def f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def f64(rng, *shape):
    return rng.standard_normal(shape)


def ints(rng, *shape, lo=-20, hi=20):
    return rng.integers(lo, hi, shape, dtype=np.int64)


CASES = [
    # stats
    Case(stats.softmax, lambda r: (f32(r, 5, 7),)),
    Case(stats.logsumexp, lambda r: (f64(r, 4, 6),)),
    Case(stats.log_softmax, lambda r: (f32(r, 3, 8),)),
    Case(stats.standardize, lambda r: (f64(r, 10, 3),)),
    Case(stats.layer_norm, lambda r: (f32(r, 4, 6), f32(r, 6), f32(r, 6))),
    Case(stats.min_max_scale, lambda r: (f64(r, 9),)),
    Case(stats.l2_normalize_rows, lambda r: (f32(r, 6, 3),)),
    Case(stats.zscore_clip, lambda r: (f64(r, 20), 1.5)),
    Case(stats.moments, lambda r: (f64(r, 12),)),
    # losses and networks
    Case(losses.mse, lambda r: (f32(r, 10), f32(r, 10))),
    Case(losses.cross_entropy, lambda r: (f64(r, 6, 4), np.eye(4)[r.integers(0, 4, 6)])),
    Case(losses.huber, lambda r: (f64(r, 15), f64(r, 15))),
    Case(
        losses.binary_cross_entropy,
        lambda r: (r.random(8).astype(np.float32), (r.random(8) > 0.5).astype(np.float32)),
    ),
    Case(losses.gelu, lambda r: (f32(r, 3, 5),)),
    Case(losses.sigmoid, lambda r: (f64(r, 7),)),
    Case(
        losses.mlp_forward,
        lambda r: (f32(r, 5, 4), f32(r, 4, 8), f32(r, 8), f32(r, 8, 2), f32(r, 2)),
    ),
    Case(losses.dense_layers, lambda r: (f64(r, 3, 4), 0.5 * f64(r, 4, 4), f64(r, 4))),
    # geometry
    Case(geometry.pairwise_sq_dists, lambda r: (f64(r, 5, 3), f64(r, 4, 3))),
    Case(geometry.pairwise_broadcast, lambda r: (f32(r, 5, 3), f32(r, 6, 3))),
    Case(geometry.cosine_similarity, lambda r: (f64(r, 8), f64(r, 8))),
    Case(geometry.polynomial, lambda r: (f64(r, 6),)),
    Case(geometry.gram_trace, lambda r: (f64(r, 5, 3),)),
    Case(geometry.outer_sum, lambda r: (f32(r, 4), f32(r, 3))),
    # in-place updates
    Case(inplace.axpy, lambda r: (2.0, f64(r, 6), f64(r, 6))),
    Case(inplace.clamp_inplace, lambda r: (f64(r, 8), -0.5, 0.5)),
    Case(inplace.smooth_interior, lambda r: (f64(r, 9),)),
    Case(inplace.set_border, lambda r: (f32(r, 4, 5), 7.0)),
    Case(inplace.view_writes, lambda r: (f64(r, 3, 5),)),
    Case(inplace.accumulate, lambda r: (f64(r, 4), f64(r, 4), f64(r, 1), f64(r, 4))),
    Case(inplace.running_update, lambda r: (f32(r, 6), f32(r, 6), 0.1)),
    Case(inplace.scaled_copy, lambda r: (ints(r, 5),)),
    # control flow and helpers
    Case(control.center_both, lambda r: (f64(r, 4, 5),)),
    Case(control.rank_dispatch, lambda r: (f64(r, 4, 3),)),
    Case(control.runtime_branch, lambda r: (f64(r, 6), 0.5)),
    Case(control.conditional_expr, lambda r: (f32(r, 5), True)),
    Case(control.sum_of_shifts, lambda r: (f64(r, 10),)),
    Case(control.stats_tuple, lambda r: (f32(r, 7),)),
    Case(control.stencil_steps, lambda r: (f64(r, 12), 0.2)),
    Case(control.resize_static, lambda r: (f32(r, 3, 4), 5)),
    Case(control.early_return, lambda r: (f64(r, 3, 4), "max")),
    # integers and booleans
    Case(integers.int_arith, lambda r: (ints(r, 8), ints(r, 8, lo=1, hi=9))),
    Case(integers.count_positive, lambda r: (f64(r, 11),)),
    Case(integers.masks, lambda r: (ints(r, 6), ints(r, 6))),
    Case(integers.histogram_bins, lambda r: (f64(r, 30), 5)),
    Case(integers.int_scalar_weak, lambda r: (ints(r, 4).astype(np.int8), 3)),
    Case(integers.float32_constants, lambda r: (f32(r, 5),)),
    # loops the kernel runs
    Case(loops.heat_time_loop, lambda r: (f64(r, 40), f64(r, 40), 7)),
    Case(loops.tanh_diagonal, lambda r: (f64(r, 9, 9),)),
    Case(loops.exponential_smoothing, lambda r: (f32(r, 30),)),
    Case(loops.halve_until_small, lambda r: (10.0 * f64(r, 12),)),
    Case(loops.gradient_steps, lambda r: (f64(r, 6), 0.1, 12)),
    Case(loops.column_energy, lambda r: (f64(r, 7, 3),)),
    Case(loops.running_max, lambda r: (f64(r, 11),)),
    Case(loops.power_iteration, lambda r: (f64(r, 5, 5), f64(r, 5), 20)),
    Case(loops.pairwise_spread, lambda r: (f64(r, 8),)),
    Case(loops.collatz_steps, lambda r: (27,)),
    Case(loops.long_decay, lambda r: (f32(r, 4),)),
    Case(loops.pick_row, lambda r: (f64(r, 4, 5), -2)),
    Case(loops.scatter_rows, lambda r: (f64(r, 6, 3), f64(r, 3, 3), 2)),
    Case(loops.lookup_or_default, lambda r: (f64(r, 5), 7)),
    Case(loops.clipped_row_sums, lambda r: (f64(r, 9, 4),)),
    Case(loops.normalize_if_large, lambda r: (5.0 * f64(r, 12),)),
    Case(loops.moving_average, lambda r: (f64(r, 10), 4)),
]
