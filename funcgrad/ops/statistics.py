"""``nanargmax`` and ``nanargmin``: integer-valued reductions that skip NaNs.

They are primitives, not ``argmax`` of a masked array, so that an all-NaN slice raises
NumPy's own ``ValueError`` when the values are known, under ``jit`` as well as eagerly.
The differentiable NaN-skipping functions (``nansum``, ``nanmax``, ``nanquantile``...)
are compositions in ``funcgrad/numpy/_statistics.py``.
"""

from __future__ import annotations

import operator

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.ops import shape as sh
from funcgrad.ops._family import shape_of
from funcgrad.ops.reductions import _batch_reduction, _index_aval, normalize_axis


def _nanarg(fn):
    def impl(x, axis, keepdims):
        return fn(x, axis=axis[0] if axis else None, keepdims=keepdims)
    return impl


nanargmax_p = Primitive("nanargmax", _nanarg(np.nanargmax), _index_aval, differentiable=False)
nanargmin_p = Primitive("nanargmin", _nanarg(np.nanargmin), _index_aval, differentiable=False)
for _prim in (nanargmax_p, nanargmin_p):
    _batch_reduction(_prim)


def _arg(prim, x, axis, keepdims, out):
    if out is not None:
        raise TypeError(f"{prim.name}: out= is not supported (funcgrad returns new arrays)")
    ndim = len(shape_of(x))
    if axis is None:  # over the flattened array; keepdims keeps every axis as 1
        found = prim.bind(sh.reshape(x, (-1,)), axis=(0,), keepdims=False)
        return sh.reshape(found, (1,) * ndim) if keepdims else found
    return prim.bind(x, axis=normalize_axis(operator.index(axis), ndim), keepdims=bool(keepdims))


def nanargmax(a, axis=None, out=None, *, keepdims: bool = False):
    """``numpy.nanargmax``: the index of the largest non-NaN element (integer output, no gradient).

    An all-NaN slice raises NumPy's ``ValueError``.

    Examples:
        >>> nanargmax(np.array([1.0, np.nan, 3.0]))
        np.int64(2)
    """
    return _arg(nanargmax_p, a, axis, keepdims, out)


def nanargmin(a, axis=None, out=None, *, keepdims: bool = False):
    """``numpy.nanargmin``: the index of the smallest non-NaN element (integer output, no gradient).

    Examples:
        >>> nanargmin(np.array([1.0, np.nan, 3.0]))
        np.int64(0)
    """
    return _arg(nanargmin_p, a, axis, keepdims, out)
