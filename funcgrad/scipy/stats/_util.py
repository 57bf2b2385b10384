"""What the distributions share: one float dtype for all arguments, and SciPy's NaN for bad parameters."""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad._core.dtypes import is_inexact

_WEAK = (bool, int, float)


def promote(*args):
    """The arguments as arrays of one float dtype (JAX's ``promote_args_inexact``).

    NumPy's promotion with Python numbers weak: float32 data and ``loc=0.0`` stay float32;
    integers (counts) become float64.
    """
    args = [a if type(a) in _WEAK else fnp.asarray(a) for a in args]
    dtype = np.result_type(*[a if type(a) in _WEAK else a.dtype for a in args])
    if not is_inexact(dtype):
        dtype = np.dtype(np.float64)
    return [fnp.asarray(a, dtype=dtype) if type(a) in _WEAK
            else a if a.dtype == dtype else fnp.astype(a, dtype) for a in args]


def where_valid(valid, value):
    """``value`` where the parameters are ``valid``, NaN elsewhere (SciPy's answer for bad parameters)."""
    return fnp.where(valid, value, np.nan)


def stand_in(ok, p, good: float):
    """``p`` where ``ok``, else ``good``: the invalid entries (NaN in the end) never reach a log."""
    return fnp.where(ok, p, good)
