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
from funcgrad.scipy.stats._util import log_scale, standardize, where_valid

__all__ = ["logpdf", "pdf"]


def logpdf(x, a, loc=0.0, scale=1.0):
    """``(a - 1) log z - z - log Γ(a) - log(scale)`` for ``z = (x - loc) / scale >= 0``, else ``-inf``.

    At ``z == 0`` it is ``-log(scale)`` for ``a == 1``, ``-inf`` for ``a > 1`` and ``+inf``
    for ``a < 1`` (``xlogy``), as in SciPy; NaN where ``a <= 0`` or ``scale <= 0``.

    Examples:
        >>> logpdf(np.array([0.5, 2.0, -1.0]), 2.0, scale=0.5)
        array([-0.30685282, -1.92055846,        -inf])
    """
    z = standardize(x, loc, scale)
    inside = fnp.greater_equal(z, 0)
    z_in = fnp.where(inside, z, 1.0)          # no log of a negative number, even unselected
    a_ok = fnp.where(fnp.greater(a, 0), a, 1.0)
    out = special.xlogy(a_ok - 1, z_in) - z_in - special.gammaln(a_ok) - log_scale(scale)
    out = fnp.where(inside, out, -np.inf)
    return where_valid(fnp.logical_and(fnp.greater(a, 0), fnp.greater(scale, 0)), out)


def pdf(x, a, loc=0.0, scale=1.0):
    """``exp(logpdf(x, a, loc, scale))``.

    Examples:
        >>> pdf(np.array([1.0]), 2.0)                     # x exp(-x)
        array([0.36787944])
    """
    return fnp.exp(logpdf(x, a, loc, scale))
