"""The Poisson distribution with mean ``mu`` (``scipy.stats.poisson``).

Examples:
    >>> import numpy as np
    >>> pmf(np.array([0, 1, 2]), 1.0)
    array([0.36787944, 0.36787944, 0.18393972])
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.scipy.stats._util import promote, stand_in, where_valid

__all__ = ["logpmf", "pmf"]


def logpmf(k, mu, loc=0):
    """``k log(mu) - log(k!) - mu`` for integer ``k - loc >= 0``, else ``-inf``.

    Differentiable in ``mu`` (and, through ``gammaln``, in ``k``); ``logpmf(0, 0) = 0``;
    NaN where ``mu < 0``.

    Examples:
        >>> logpmf(np.array([2, 3, 1.5]), 2.0)
        array([-1.30685282, -1.71231793,        -inf])
    """
    k, mu, loc = promote(k, mu, loc)
    valid = fnp.greater_equal(mu, 0)
    mu = stand_in(valid, mu, 1.0)
    x = k - loc
    inside = fnp.logical_and(fnp.greater_equal(x, 0), fnp.equal(fnp.round(x), x))
    x = stand_in(inside, x, 0.0)
    out = special.xlogy(x, mu) - special.gammaln(x + 1) - mu
    return where_valid(valid, fnp.where(inside, out, -np.inf))


def pmf(k, mu, loc=0):
    """``exp(logpmf(k, mu, loc))``.

    Examples:
        >>> pmf(np.array([0]), 2.0)
        array([0.13533528])
    """
    return fnp.exp(logpmf(k, mu, loc))
