"""The Poisson distribution with mean ``mu`` (``scipy.stats.poisson``).

Examples:
    >>> import numpy as np
    >>> pmf(np.array([0, 1, 2]), 1.0)
    array([0.36787944, 0.36787944, 0.18393972])
"""

import numpy as _np

import funcgrad.numpy as _fnp
from funcgrad._core.namespace import public_dir as _public_dir
from funcgrad.scipy import special as _special
from funcgrad.scipy.stats._util import promote as _promote, stand_in as _stand_in, where_valid as _where_valid

__all__ = ["logpmf", "pmf"]
__dir__ = _public_dir(globals())


def logpmf(k, mu, loc=0):
    """``k log(mu) - log(k!) - mu`` for integer ``k - loc >= 0``, else ``-inf``.

    Differentiable in ``mu`` (and, through ``gammaln``, in ``k``); ``logpmf(0, 0) = 0``;
    NaN where ``mu < 0``.

    Examples:
        >>> logpmf(np.array([2, 3, 1.5]), 2.0)
        array([-1.30685282, -1.71231793,        -inf])
    """
    k, mu, loc = _promote(k, mu, loc)
    valid = _fnp.greater_equal(mu, 0)
    mu = _stand_in(valid, mu, 1.0)
    x = k - loc
    inside = _fnp.logical_and(_fnp.greater_equal(x, 0), _fnp.equal(_fnp.round(x), x))
    x = _stand_in(inside, x, 0.0)
    out = _special.xlogy(x, mu) - _special.gammaln(x + 1) - mu
    return _where_valid(valid, _fnp.where(inside, out, -_np.inf))


def pmf(k, mu, loc=0):
    """``exp(logpmf(k, mu, loc))``.

    Examples:
        >>> pmf(np.array([0]), 2.0)
        array([0.13533528])
    """
    return _fnp.exp(logpmf(k, mu, loc))
