"""The Bernoulli distribution with success probability ``p`` (``scipy.stats.bernoulli``).

Examples:
    >>> import numpy as np
    >>> pmf(np.array([0, 1]), 0.25)
    array([0.75, 0.25])
"""

import numpy as _np

import funcgrad.numpy as _fnp
from funcgrad._core.namespace import public_dir as _public_dir
from funcgrad.scipy import special as _special
from funcgrad.scipy.stats._util import promote as _promote, stand_in as _stand_in, where_valid as _where_valid

__all__ = ["logpmf", "pmf"]
__dir__ = _public_dir(globals())


def logpmf(k, p, loc=0):
    """``k log p + (1 - k) log(1 - p)`` for ``k - loc`` in {0, 1}, else ``-inf``.

    Differentiable in ``p``; ``logpmf(1, 1) = logpmf(0, 0) = 0`` (``xlogy``); NaN where
    ``p`` is outside ``[0, 1]``.

    Examples:
        >>> logpmf(np.array([0, 1, 2]), 0.25)
        array([-0.28768207, -1.38629436,        -inf])
    """
    k, p, loc = _promote(k, p, loc)
    valid = _fnp.logical_and(_fnp.greater_equal(p, 0), _fnp.less_equal(p, 1))
    p = _stand_in(valid, p, 0.5)
    x = k - loc
    inside = _fnp.logical_or(_fnp.equal(x, 0), _fnp.equal(x, 1))
    x = _stand_in(inside, x, 0.0)
    out = _special.xlogy(x, p) + _special.xlog1py(1 - x, -p)
    return _where_valid(valid, _fnp.where(inside, out, -_np.inf))


def pmf(k, p, loc=0):
    """``exp(logpmf(k, p, loc))``.

    Examples:
        >>> pmf(np.array([1]), 0.25)
        array([0.25])
    """
    return _fnp.exp(logpmf(k, p, loc))
