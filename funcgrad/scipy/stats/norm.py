"""The normal distribution ``N(loc, scale**2)`` (``scipy.stats.norm``).

Examples:
    >>> import numpy as np
    >>> cdf(np.array([0.0, 1.96]))
    array([0.5      , 0.9750021])
"""

import math as _math

import funcgrad.numpy as _fnp
from funcgrad._core.namespace import public_dir as _public_dir
from funcgrad.scipy import special as _special
from funcgrad.scipy.stats._util import promote as _promote, stand_in as _stand_in, where_valid as _where_valid

__all__ = ["cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]
__dir__ = _public_dir(globals())

_HALF_LOG_2PI = 0.5 * _math.log(2 * _math.pi)


def logpdf(x, loc=0.0, scale=1.0):
    """``-z**2 / 2 - log(scale) - log(2 pi) / 2`` for ``z = (x - loc) / scale``.

    Examples:
        >>> logpdf(np.array([0.0, 1.0]), loc=1.0, scale=2.0)
        array([-1.73708571, -1.61208571])
    """
    x, loc, scale = _promote(x, loc, scale)
    ok = _fnp.greater(scale, 0)
    z = (x - loc) / scale
    return _where_valid(ok, -0.5 * (z * z) - _fnp.log(_stand_in(ok, scale, 1.0)) - _HALF_LOG_2PI)


def pdf(x, loc=0.0, scale=1.0):
    """``exp(logpdf(x, loc, scale))``.

    Examples:
        >>> pdf(np.array([0.0]))
        array([0.39894228])
    """
    return _fnp.exp(logpdf(x, loc, scale))


def _standard(fn, x, loc, scale, sign=1.0):
    x, loc, scale = _promote(x, loc, scale)
    return _where_valid(_fnp.greater(scale, 0), fn(sign * ((x - loc) / scale)))


def cdf(x, loc=0.0, scale=1.0):
    """``P(X <= x)`` = ``ndtr((x - loc) / scale)``.

    Examples:
        >>> cdf(np.array([1.0]), loc=1.0)
        array([0.5])
    """
    return _standard(_special.ndtr, x, loc, scale)


def logcdf(x, loc=0.0, scale=1.0):
    """``log P(X <= x)``, accurate far in the lower tail (``log_ndtr``).

    Examples:
        >>> logcdf(np.array([-40.0]))
        array([-804.60844201])
    """
    return _standard(_special.log_ndtr, x, loc, scale)


def sf(x, loc=0.0, scale=1.0):
    """The survival function ``P(X > x) = ndtr(-(x - loc) / scale)``.

    Examples:
        >>> sf(np.array([0.0]))
        array([0.5])
    """
    return _standard(_special.ndtr, x, loc, scale, -1.0)


def logsf(x, loc=0.0, scale=1.0):
    """``log P(X > x)``, accurate far in the upper tail.

    Examples:
        >>> logsf(np.array([40.0]))
        array([-804.60844201])
    """
    return _standard(_special.log_ndtr, x, loc, scale, -1.0)


def ppf(q, loc=0.0, scale=1.0):
    """The quantile function ``loc + scale * ndtri(q)``: the inverse of :func:`cdf`.

    Examples:
        >>> ppf(np.array([0.5, 0.975]), loc=1.0)
        array([1.        , 2.95996398])
    """
    q, loc, scale = _promote(q, loc, scale)
    return _where_valid(_fnp.greater(scale, 0), loc + scale * _special.ndtri(q))


def isf(q, loc=0.0, scale=1.0):
    """The inverse of :func:`sf`: ``loc - scale * ndtri(q)``.

    Examples:
        >>> isf(np.array([0.5]))
        array([0.])
    """
    q, loc, scale = _promote(q, loc, scale)
    return _where_valid(_fnp.greater(scale, 0), loc - scale * _special.ndtri(q))
