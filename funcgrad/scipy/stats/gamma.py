"""The gamma distribution with shape ``a`` (``scipy.stats.gamma``).

Examples:
    >>> import numpy as np
    >>> logpdf(np.array([1.0]), 1.0)                  # exponential: -x
    array([-1.])
"""

import numpy as _np

import funcgrad.numpy as _fnp
from funcgrad._core.namespace import public_dir as _public_dir
from funcgrad.scipy import special as _special
from funcgrad.scipy.stats._util import promote as _promote, stand_in as _stand_in, where_valid as _where_valid

__all__ = ["logpdf", "pdf"]
__dir__ = _public_dir(globals())


def logpdf(x, a, loc=0.0, scale=1.0):
    """``(a - 1) log z - z - log Γ(a) - log(scale)`` for ``z = (x - loc) / scale >= 0``, else ``-inf``.

    At ``z == 0`` it is ``-log(scale)`` for ``a == 1``, ``-inf`` for ``a > 1`` and ``+inf``
    for ``a < 1`` (``xlogy``), as in SciPy; NaN where ``a <= 0`` or ``scale <= 0``.

    Examples:
        >>> logpdf(np.array([0.5, 2.0, -1.0]), 2.0, scale=0.5)
        array([-0.30685282, -1.92055846,        -inf])
    """
    x, a, loc, scale = _promote(x, a, loc, scale)
    ok = _fnp.logical_and(_fnp.greater(a, 0), _fnp.greater(scale, 0))
    a, scale = _stand_in(ok, a, 1.0), _stand_in(ok, scale, 1.0)
    z = (x - loc) / scale
    inside = _fnp.greater_equal(z, 0)
    z = _stand_in(inside, z, 1.0)              # no log of a negative number, even unselected
    out = _special.xlogy(a - 1, z) - z - _special.gammaln(a) - _fnp.log(scale)
    return _where_valid(ok, _fnp.where(inside, out, -_np.inf))


def pdf(x, a, loc=0.0, scale=1.0):
    """``exp(logpdf(x, a, loc, scale))``.

    Examples:
        >>> pdf(np.array([1.0]), 2.0)                     # x exp(-x)
        array([0.36787944])
    """
    return _fnp.exp(logpdf(x, a, loc, scale))
