"""Primitives whose output length depends on values, made static by a ``size``: ``argwhere``
and ``unique`` (first occurrences and counts, and the inverse index).

Under ``jit`` the number of nonzero or distinct elements is unknown while tracing, so
``fnp.nonzero``/``argwhere``/``flatnonzero``/``unique`` bind these primitives only when the
caller fixes the length with ``size=`` (JAX's convention): longer results are cut, shorter
ones padded.  Their outputs are integers: no derivative (the values of ``unique`` are
gathered from the input afterwards, so they differentiate).  ``vmap`` loops over the batch.

Examples:
    >>> argwhere_p.bind(np.array([0.0, 2.0, 3.0]), size=3, fill_value=-1)
    array([[ 1],
           [ 2],
           [-1]])
"""

from __future__ import annotations

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.ops._family import shape_of


def _argwhere(x, size, fill_value):
    idx = np.argwhere(x)[:size]
    out = np.full((size, np.ndim(x)), fill_value, dtype=np.intp)
    out[:len(idx)] = idx
    return out


argwhere_p = Primitive("argwhere", _argwhere,
                       lambda x, size, fill_value: ((size, len(shape_of(x))), np.dtype(np.intp)),
                       differentiable=False)


def _unique_first(x, size, equal_nan):
    """Row 0: the flat index of each distinct value's first occurrence (sorted by value, 0 after
    the last); row 1: how often it occurs (0 after the last)."""
    _, first, counts = np.unique(np.ravel(x), return_index=True, return_counts=True,
                                 equal_nan=equal_nan)
    out = np.zeros((2, size), dtype=np.intp)
    n = min(size, len(first))
    out[0, :n], out[1, :n] = first[:n], counts[:n]
    return out


unique_first_p = Primitive("unique_first", _unique_first,
                           lambda x, size, equal_nan: ((2, size), np.dtype(np.intp)),
                           differentiable=False)


def _unique_inverse(x, equal_nan):
    _, inverse = np.unique(np.ravel(x), return_inverse=True, equal_nan=equal_nan)
    return inverse.reshape(np.shape(x)).astype(np.intp)


unique_inverse_p = Primitive("unique_inverse", _unique_inverse,
                             lambda x, equal_nan: (shape_of(x), np.dtype(np.intp)),
                             differentiable=False)
