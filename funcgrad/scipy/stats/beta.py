"""The beta distribution with shapes ``a`` and ``b`` on ``[loc, loc + scale]`` (``scipy.stats.beta``).

Examples:
    >>> import numpy as np
    >>> logpdf(np.array([0.25]), 1.0, 1.0)            # uniform on [0, 1]
    array([0.])
"""

import numpy as _np

import funcgrad.numpy as _fnp
from funcgrad._core.namespace import public_dir as _public_dir
from funcgrad.scipy import special as _special
from funcgrad.scipy.stats._util import promote as _promote, stand_in as _stand_in, where_valid as _where_valid

__all__ = ["logpdf", "pdf"]
__dir__ = _public_dir(globals())


def logpdf(x, a, b, loc=0.0, scale=1.0):
    """``(a-1) log z + (b-1) log(1-z) - log B(a, b) - log(scale)`` on ``0 <= z <= 1``, else ``-inf``.

    Differentiable in ``x``, ``a``, ``b``, ``loc`` and ``scale``; NaN where ``a <= 0``,
    ``b <= 0`` or ``scale <= 0``.

    Examples:
        >>> logpdf(np.array([0.5, 1.5]), 2.0, 3.0)
        array([0.40546511,       -inf])
    """
    x, a, b, loc, scale = _promote(x, a, b, loc, scale)
    ok = _fnp.logical_and(_fnp.logical_and(_fnp.greater(a, 0), _fnp.greater(b, 0)),
                         _fnp.greater(scale, 0))
    a, b, scale = _stand_in(ok, a, 1.0), _stand_in(ok, b, 1.0), _stand_in(ok, scale, 1.0)
    z = (x - loc) / scale
    inside = _fnp.logical_and(_fnp.greater_equal(z, 0), _fnp.less_equal(z, 1))
    z = _stand_in(inside, z, 0.5)              # no log of a negative number, even unselected
    out = (_special.xlogy(a - 1, z) + _special.xlog1py(b - 1, -z) - _special.betaln(a, b)
           - _fnp.log(scale))
    return _where_valid(ok, _fnp.where(inside, out, -_np.inf))


def pdf(x, a, b, loc=0.0, scale=1.0):
    """``exp(logpdf(x, a, b, loc, scale))``.

    Examples:
        >>> pdf(np.array([0.5]), 2.0, 2.0)                # 6 x (1 - x)
        array([1.5])
    """
    return _fnp.exp(logpdf(x, a, b, loc, scale))
