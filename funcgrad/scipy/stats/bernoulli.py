"""The Bernoulli distribution with success probability ``p`` (``scipy.stats.bernoulli``).

Examples:
    >>> import numpy as np
    >>> pmf(np.array([0, 1]), 0.25)
    array([0.75, 0.25])
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.scipy.stats._util import promote, stand_in, where_valid

__all__ = ["logpmf", "pmf"]


def logpmf(k, p, loc=0):
    """``k log p + (1 - k) log(1 - p)`` for ``k - loc`` in {0, 1}, else ``-inf``.

    Differentiable in ``p``; ``logpmf(1, 1) = logpmf(0, 0) = 0`` (``xlogy``); NaN where
    ``p`` is outside ``[0, 1]``.

    Examples:
        >>> logpmf(np.array([0, 1, 2]), 0.25)
        array([-0.28768207, -1.38629436,        -inf])
    """
    k, p, loc = promote(k, p, loc)
    valid = fnp.logical_and(fnp.greater_equal(p, 0), fnp.less_equal(p, 1))
    p = stand_in(valid, p, 0.5)
    x = k - loc
    inside = fnp.logical_or(fnp.equal(x, 0), fnp.equal(x, 1))
    x = stand_in(inside, x, 0.0)
    out = special.xlogy(x, p) + special.xlog1py(1 - x, -p)
    return where_valid(valid, fnp.where(inside, out, -np.inf))


def pmf(k, p, loc=0):
    """``exp(logpmf(k, p, loc))``.

    Examples:
        >>> pmf(np.array([1]), 0.25)
        array([0.25])
    """
    return fnp.exp(logpmf(k, p, loc))
