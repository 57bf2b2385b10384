"""Student's t distribution with ``df`` degrees of freedom (``scipy.stats.t``).

Examples:
    >>> import numpy as np
    >>> logpdf(np.array([0.0]), 1.0)                  # Cauchy: -log(pi)
    array([-1.14472989])
"""

import math as _math

import funcgrad.numpy as _fnp
from funcgrad._core.namespace import public_dir as _public_dir
from funcgrad.scipy import special as _special
from funcgrad.scipy.stats._util import promote as _promote, stand_in as _stand_in, where_valid as _where_valid

__all__ = ["logpdf", "pdf"]
__dir__ = _public_dir(globals())


def logpdf(x, df, loc=0.0, scale=1.0):
    """``log Γ((ν+1)/2) - log Γ(ν/2) - log(ν π)/2 - (ν+1)/2 log(1 + z²/ν) - log(scale)``.

    Differentiable in ``x``, ``df``, ``loc`` and ``scale``; NaN where ``df <= 0`` or
    ``scale <= 0``.

    Examples:
        >>> logpdf(np.array([1.0, 3.0]), 3.0, loc=1.0, scale=2.0)
        array([-1.69403603, -2.26940018])
    """
    x, df, loc, scale = _promote(x, df, loc, scale)
    ok = _fnp.logical_and(_fnp.greater(df, 0), _fnp.greater(scale, 0))
    df, scale = _stand_in(ok, df, 1.0), _stand_in(ok, scale, 1.0)
    z = (x - loc) / scale
    half = 0.5 * (df + 1)
    out = (_special.gammaln(half) - _special.gammaln(0.5 * df) - 0.5 * _fnp.log(df * _math.pi)
           - half * _fnp.log1p(z * z / df) - _fnp.log(scale))
    return _where_valid(ok, out)


def pdf(x, df, loc=0.0, scale=1.0):
    """``exp(logpdf(x, df, loc, scale))``.

    Examples:
        >>> pdf(np.array([0.0]), 1.0)                     # 1 / pi
        array([0.31830989])
    """
    return _fnp.exp(logpdf(x, df, loc, scale))
