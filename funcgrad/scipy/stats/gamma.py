"""The gamma distribution with shape ``a`` (``scipy.stats.gamma``).

Examples:
    >>> import numpy as np
    >>> logpdf(np.array([1.0]), 1.0)                  # exponential: -x
    array([-1.])
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.scipy.stats._util import promote, stand_in, where_valid

__all__ = ["logpdf", "pdf"]


def logpdf(x, a, loc=0.0, scale=1.0):
    """``(a - 1) log z - z - log Γ(a) - log(scale)`` for ``z = (x - loc) / scale >= 0``, else ``-inf``.

    At ``z == 0`` it is ``-log(scale)`` for ``a == 1``, ``-inf`` for ``a > 1`` and ``+inf``
    for ``a < 1`` (``xlogy``), as in SciPy; NaN where ``a <= 0`` or ``scale <= 0``.

    Examples:
        >>> logpdf(np.array([0.5, 2.0, -1.0]), 2.0, scale=0.5)
        array([-0.30685282, -1.92055846,        -inf])
    """
    x, a, loc, scale = promote(x, a, loc, scale)
    ok = fnp.logical_and(fnp.greater(a, 0), fnp.greater(scale, 0))
    a, scale = stand_in(ok, a, 1.0), stand_in(ok, scale, 1.0)
    z = (x - loc) / scale
    inside = fnp.greater_equal(z, 0)
    z = stand_in(inside, z, 1.0)              # no log of a negative number, even unselected
    out = special.xlogy(a - 1, z) - z - special.gammaln(a) - fnp.log(scale)
    return where_valid(ok, fnp.where(inside, out, -np.inf))


def pdf(x, a, loc=0.0, scale=1.0):
    """``exp(logpdf(x, a, loc, scale))``.

    Examples:
        >>> pdf(np.array([1.0]), 2.0)                     # x exp(-x)
        array([0.36787944])
    """
    return fnp.exp(logpdf(x, a, loc, scale))
