"""Weight initialisers: draws from a ``numpy.random.Generator``, always in float64, then cast.

Drawing in float64 and casting means a float32 model starts from the same
numbers (rounded) as a float64 one with the same seed.
"""

from __future__ import annotations

import math

import numpy as np


def he_normal(rng: np.random.Generator, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    """``N(0, 1) * sqrt(2 / fan_in)`` (He et al. 2015), ``fan_in = shape[0]``."""
    return (rng.standard_normal(shape) * math.sqrt(2.0 / shape[0])).astype(dtype)


def glorot_uniform(rng: np.random.Generator, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    """``U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio 2010)."""
    a = math.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-a, a, size=shape).astype(dtype)


def uniform(rng: np.random.Generator, shape: tuple[int, ...], bound: float,
            dtype: np.dtype) -> np.ndarray:
    """``U(-bound, bound)``."""
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def normal(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """``N(0, 1)``."""
    return rng.standard_normal(shape).astype(dtype)


WEIGHT_INITS = {"he": he_normal, "glorot": glorot_uniform}
