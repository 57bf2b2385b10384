"""Student's t distribution with ``df`` degrees of freedom (``scipy.stats.t``).

Examples:
    >>> import numpy as np
    >>> logpdf(np.array([0.0]), 1.0)                  # Cauchy: -log(pi)
    array([-1.14472989])
"""

from __future__ import annotations

import math

import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.scipy.stats._util import promote, stand_in, where_valid

__all__ = ["logpdf", "pdf"]


def logpdf(x, df, loc=0.0, scale=1.0):
    """``log Γ((ν+1)/2) - log Γ(ν/2) - log(ν π)/2 - (ν+1)/2 log(1 + z²/ν) - log(scale)``.

    Differentiable in ``x``, ``df``, ``loc`` and ``scale``; NaN where ``df <= 0`` or
    ``scale <= 0``.

    Examples:
        >>> logpdf(np.array([1.0, 3.0]), 3.0, loc=1.0, scale=2.0)
        array([-1.69403603, -2.26940018])
    """
    x, df, loc, scale = promote(x, df, loc, scale)
    ok = fnp.logical_and(fnp.greater(df, 0), fnp.greater(scale, 0))
    df, scale = stand_in(ok, df, 1.0), stand_in(ok, scale, 1.0)
    z = (x - loc) / scale
    half = 0.5 * (df + 1)
    out = (special.gammaln(half) - special.gammaln(0.5 * df) - 0.5 * fnp.log(df * math.pi)
           - half * fnp.log1p(z * z / df) - fnp.log(scale))
    return where_valid(ok, out)


def pdf(x, df, loc=0.0, scale=1.0):
    """``exp(logpdf(x, df, loc, scale))``.

    Examples:
        >>> pdf(np.array([0.0]), 1.0)                     # 1 / pi
        array([0.31830989])
    """
    return fnp.exp(logpdf(x, df, loc, scale))
