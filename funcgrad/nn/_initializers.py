"""Weight initialisers: draws from a ``numpy.random.Generator`` or a key, always in float64, then cast.

Drawing in float64 and casting means a float32 model starts from the same
numbers (rounded) as a float64 one with the same seed.  A ``funcgrad.random`` key
is wrapped in :class:`KeyDraws`, which splits off a fresh subkey for every draw, so
the layers of one model get different weights and ``init(key)`` is reproducible.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def he_normal(rng: Any, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    """``N(0, 1) * sqrt(2 / fan_in)`` (He et al. 2015), ``fan_in = shape[0]``."""
    return (rng.standard_normal(shape) * math.sqrt(2.0 / shape[0])).astype(dtype)


def glorot_uniform(rng: Any, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    """``U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio 2010)."""
    a = math.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-a, a, size=shape).astype(dtype)


def uniform(rng: Any, shape: tuple[int, ...], bound: float,
            dtype: np.dtype) -> np.ndarray:
    """``U(-bound, bound)``."""
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def normal(rng: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """``N(0, 1)``."""
    return rng.standard_normal(shape).astype(dtype)


WEIGHT_INITS = {"he": he_normal, "glorot": glorot_uniform}


class KeyDraws:
    """The draws of a ``numpy.random.Generator`` that the layers use, from a ``funcgrad.random`` key.

    Each draw splits the current key into ``(next key, subkey)`` and samples with the
    subkey (``funcgrad.random.normal`` / ``uniform``, float64), so a sequence of draws
    is a pure function of the first key.

    Examples:
        >>> import funcgrad as fg
        >>> draws = KeyDraws(fg.random.key(0))
        >>> bool((draws.standard_normal((2,)) != draws.standard_normal((2,))).all())
        True
    """

    def __init__(self, key) -> None:
        self.key = key

    def _subkey(self):
        from funcgrad import random

        keys = random.split(self.key)
        self.key = keys[0]
        return keys[1]

    def standard_normal(self, shape):
        """``N(0, 1)`` samples of ``shape`` (float64)."""
        from funcgrad import random

        return random.normal(self._subkey(), shape, np.float64)

    def uniform(self, low: float = 0.0, high: float = 1.0, size=()):
        """Uniform samples in ``[low, high)`` of shape ``size`` (float64)."""
        from funcgrad import random

        return random.uniform(self._subkey(), size, np.float64, low, high)

    def random(self, shape=()):
        """Uniform samples in ``[0, 1)`` (float64)."""
        return self.uniform(0.0, 1.0, shape)
