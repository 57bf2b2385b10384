"""The beta distribution with shapes ``a`` and ``b`` on ``[loc, loc + scale]`` (``scipy.stats.beta``).

Examples:
    >>> import numpy as np
    >>> logpdf(np.array([0.25]), 1.0, 1.0)            # uniform on [0, 1]
    array([0.])
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.scipy.stats._util import promote, stand_in, where_valid

__all__ = ["logpdf", "pdf"]


def logpdf(x, a, b, loc=0.0, scale=1.0):
    """``(a-1) log z + (b-1) log(1-z) - log B(a, b) - log(scale)`` on ``0 <= z <= 1``, else ``-inf``.

    Differentiable in ``x``, ``a``, ``b``, ``loc`` and ``scale``; NaN where ``a <= 0``,
    ``b <= 0`` or ``scale <= 0``.

    Examples:
        >>> logpdf(np.array([0.5, 1.5]), 2.0, 3.0)
        array([0.40546511,       -inf])
    """
    x, a, b, loc, scale = promote(x, a, b, loc, scale)
    ok = fnp.logical_and(fnp.logical_and(fnp.greater(a, 0), fnp.greater(b, 0)),
                         fnp.greater(scale, 0))
    a, b, scale = stand_in(ok, a, 1.0), stand_in(ok, b, 1.0), stand_in(ok, scale, 1.0)
    z = (x - loc) / scale
    inside = fnp.logical_and(fnp.greater_equal(z, 0), fnp.less_equal(z, 1))
    z = stand_in(inside, z, 0.5)              # no log of a negative number, even unselected
    out = (special.xlogy(a - 1, z) + special.xlog1py(b - 1, -z) - special.betaln(a, b)
           - fnp.log(scale))
    return where_valid(ok, fnp.where(inside, out, -np.inf))


def pdf(x, a, b, loc=0.0, scale=1.0):
    """``exp(logpdf(x, a, b, loc, scale))``.

    Examples:
        >>> pdf(np.array([0.5]), 2.0, 2.0)                # 6 x (1 - x)
        array([1.5])
    """
    return fnp.exp(logpdf(x, a, b, loc, scale))
