"""What the distributions share: the standardised variable and SciPy's NaN for bad parameters."""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp


def standardize(x, loc, scale):
    """``(x - loc) / scale`` as a float array (integers become float64, as in SciPy)."""
    z = (fnp.asarray(x) - loc) / scale
    return z if fnp.issubdtype(z.dtype, fnp.inexact) else fnp.astype(z, np.float64)


def where_valid(valid, value):
    """``value`` where the parameters are ``valid``, NaN elsewhere (SciPy's answer for bad parameters)."""
    if isinstance(valid, bool) and valid:
        return value
    return fnp.where(valid, value, np.nan)


def log_scale(scale):
    """``log(scale)``, with a positive stand-in where ``scale <= 0`` (that result becomes NaN)."""
    return fnp.log(fnp.where(fnp.greater(scale, 0), scale, 1.0))
