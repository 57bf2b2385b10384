"""Searching and counting: ``nonzero``, ``argwhere``, ``flatnonzero``, ``unique``, ``isin``,
``digitize``, ``bincount`` and ``histogram``.

Their outputs are indices or counts (no derivative), with two exceptions that are
differentiable: the values returned by ``unique`` (gathered from the input) and
``bincount``/``histogram`` in their ``weights``.  On plain arrays each is NumPy's.

On traced inputs an output whose *length* depends on the values (``nonzero``,
``argwhere``, ``flatnonzero``, ``unique``; ``bincount`` without ``length``) is computed
from the concrete value under ``grad``/``jvp``; under ``jit``/``vmap`` there is none, and
the call raises a :class:`~funcgrad.errors.ConcretizationError` that suggests ``size=``
(``length=`` for ``bincount``), which fixes the length as in JAX.

Examples:
    >>> nonzero(np.array([0.0, 3.0, 0.0, 4.0]))
    (array([1, 3]),)
    >>> bincount(np.array([0, 2, 2]), weights=np.array([0.5, 1.0, 2.0]))
    array([0.5, 0. , 3. ])
"""

from __future__ import annotations

import builtins

import numpy as np

from funcgrad._core.trace import Tracer
from funcgrad.errors import ConcretizationError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import indexing, misc
from funcgrad.ops import reductions as red
from funcgrad.ops import shape as sh
from funcgrad.ops._family import dtype_of, shape_of
from funcgrad.ops.searching import argwhere_p, unique_first_p, unique_inverse_p
from funcgrad.ops.sorting import searchsorted

__all__ = ["argwhere", "bincount", "digitize", "flatnonzero", "histogram", "isin", "nonzero",
           "unique"]


def _arr(x):
    if isinstance(x, (Tracer, np.ndarray)):
        return x
    from funcgrad.numpy import asarray

    return asarray(x)


def _concrete(x, what: str, fix: str):
    """``x``'s NumPy value (plain, or traced under grad/jvp), or a ConcretizationError naming ``fix``."""
    if not isinstance(x, Tracer):
        return np.asarray(x)
    try:
        return np.asarray(x.concrete_value(what))
    except ConcretizationError as e:
        raise ConcretizationError(f"{e} The length of {what}'s result depends on the values: "
                                  f"pass {fix} to fix it (as in JAX).") from None


def argwhere(a, *, size: int | None = None, fill_value=None):
    """``numpy.argwhere``: the indices of the nonzero elements, one row each.

    ``size`` fixes the number of rows (cut, or padded with ``fill_value``, default 0),
    which makes it work under ``jit`` and ``vmap``.

    Examples:
        >>> argwhere(np.array([[0.0, 1.0], [2.0, 0.0]]))
        array([[0, 1],
               [1, 0]])
    """
    a = _arr(a)
    if size is None:
        return np.argwhere(_concrete(a, "argwhere", "size="))
    fill = 0 if fill_value is None else fill_value
    return argwhere_p.bind(a, size=int(size), fill_value=fill)


def nonzero(a, *, size: int | None = None, fill_value=None) -> tuple:
    """``numpy.nonzero``: a tuple of index arrays, one per axis (``size``: see :func:`argwhere`).

    Examples:
        >>> nonzero(np.array([0.0, 5.0]), size=2, fill_value=-1)
        (array([ 1, -1]),)
    """
    a = _arr(a)
    if not shape_of(a):
        raise ValueError("Calling nonzero on 0d arrays is not allowed. Use "
                         "np.atleast_1d(scalar).nonzero() instead.")
    if size is None:
        return np.nonzero(_concrete(a, "nonzero", "size="))
    fills = fill_value if isinstance(fill_value, (tuple, list)) else [fill_value] * len(shape_of(a))
    rows = argwhere(a, size=size, fill_value=0)
    return tuple(rows[:, k] if f is None else _fill_past(rows[:, k], a, size, f)
                 for k, f in enumerate(fills))


def _fill_past(column, a, size, fill):
    """``column`` with the entries past the number of nonzero elements set to ``fill``."""
    count = red.sum(misc.astype(ew.not_equal(a, 0), np.intp))
    return ew.where(np.arange(size) < count, column, fill)


def flatnonzero(a, *, size: int | None = None, fill_value=None):
    """``numpy.flatnonzero``: indices of the nonzero elements of the flattened array.

    Examples:
        >>> flatnonzero(np.array([[0.0, 1.0], [1.0, 0.0]]))
        array([1, 2])
    """
    return nonzero(sh.ravel(_arr(a)), size=size, fill_value=fill_value)[0]


def unique(ar, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis=None, *, equal_nan: bool = True, sorted: bool = True,
           size: int | None = None, fill_value=None):
    """``numpy.unique``: the sorted distinct values (and first indices, inverse, counts).

    The values are gathered from ``ar``, so they differentiate.  ``size`` (flattened
    input only) fixes the number of distinct values: padded with ``fill_value`` (default:
    the smallest value), index 0 and count 0.

    Examples:
        >>> unique(np.array([3.0, 1.0, 3.0]), return_counts=True)
        (array([1., 3.]), array([1, 2]))
    """
    ar = _arr(ar)
    extras = (return_index, return_inverse, return_counts)
    if size is None:
        value = _concrete(ar, "unique", "size=")
        res = np.unique(value, return_index=True, return_inverse=return_inverse,
                        return_counts=return_counts, axis=axis, equal_nan=equal_nan)
        index, rest = res[1], list(res[2:])
        if isinstance(ar, Tracer):
            values = indexing.take(ar if axis is not None else sh.ravel(ar), index, axis=axis or 0)
        else:
            values = res[0]
        out = [values] + ([index] if return_index else []) + rest
        return out[0] if not any(extras) else tuple(out)
    if axis is not None:
        raise NotImplementedError("unique: size= is supported for the flattened array (axis=None) only")
    flat = sh.ravel(ar)
    first_counts = unique_first_p.bind(flat, size=int(size), equal_nan=equal_nan)
    first, counts = first_counts[0], first_counts[1]
    values = indexing.take(flat, first)
    fill = values[0] if fill_value is None else fill_value
    values = ew.where(counts > 0, values, fill)
    out = [values]
    if return_index:
        out.append(first)
    if return_inverse:
        out.append(unique_inverse_p.bind(ar, equal_nan=equal_nan))
    if return_counts:
        out.append(counts)
    return out[0] if len(out) == 1 else tuple(out)


def isin(element, test_elements, assume_unique: bool = False, invert: bool = False, *, kind=None):
    """``numpy.isin``: whether each element of ``element`` occurs in ``test_elements``.

    Examples:
        >>> isin(np.array([1, 2, 3]), [2, 4])
        array([False,  True, False])
    """
    element, tests = _arr(element), _arr(test_elements)
    if not isinstance(element, Tracer) and not isinstance(tests, Tracer):
        return np.isin(element, tests, assume_unique=assume_unique, invert=invert, kind=kind)
    hits = red.any(ew.equal(sh.expand_dims(element, -1), sh.ravel(tests)), axis=-1)
    return ew.logical_not(hits) if invert else hits


def digitize(x, bins, right: bool = False):
    """``numpy.digitize``: the index of the bin each ``x`` falls in (bins increasing or decreasing).

    Traced bins whose values are not known (under ``jit``) are taken to be increasing.

    Examples:
        >>> digitize(np.array([0.5, 1.5, 3.0]), np.array([1.0, 2.0]))
        array([0, 1, 2])
    """
    x, bins = _arr(x), _arr(bins)
    if not isinstance(x, Tracer) and not isinstance(bins, Tracer):
        return np.digitize(x, bins, right=right)
    if len(shape_of(bins)) != 1:
        raise ValueError("object too deep for desired array")
    side = "left" if right else "right"
    known = None
    if isinstance(bins, Tracer):
        try:
            known = np.asarray(bins.concrete_value("digitize"))
        except ConcretizationError:
            known = None
    else:
        known = np.asarray(bins)
    if known is not None and known.size > 1:
        d = np.diff(known)
        if (d <= 0).all() and not (d == 0).all():
            return misc.astype(known.size - searchsorted(sh.flip(bins, 0), x, side=side), np.intp)
        if not (d >= 0).all():
            raise ValueError("bins must be monotonically increasing or decreasing")
    return searchsorted(bins, x, side=side)


def bincount(x, weights=None, minlength: int = 0, *, length: int | None = None):
    """``numpy.bincount``: occurrences of each non-negative integer in ``x`` (the sum of their
    ``weights``: differentiable in ``weights``).  ``length`` fixes the output length, which
    makes it work under ``jit`` (values at or past it are dropped there).

    Examples:
        >>> bincount(np.array([1, 1, 3]))
        array([0, 2, 0, 1])
    """
    x = _arr(x)
    if not isinstance(x, Tracer) and not isinstance(weights, Tracer) and length is None:
        return np.bincount(x, None if weights is None else np.asarray(weights), minlength)
    if np.dtype(dtype_of(x)).kind not in "iu":
        raise TypeError(f"bincount: x must hold non-negative integers, got dtype {dtype_of(x)}")
    if len(shape_of(x)) != 1:
        raise ValueError(f"bincount: x must be 1-D, got shape {shape_of(x)}")
    if minlength < 0:
        raise ValueError("'minlength' must not be negative")
    if length is None:
        value = _concrete(x, "bincount", "length=")
        if value.size and value.min() < 0:
            raise ValueError("'list' argument must have no negative elements")
        length = builtins.max(int(value.max()) + 1 if value.size else 0, minlength)
    keep = ew.less(x, length)
    index = ew.where(keep, x, 0)
    if weights is None:
        ones = misc.astype(keep, np.intp)
        return indexing.at(np.zeros(length, np.intp))[index].add(ones)
    w = misc.astype(_arr(weights), np.float64)  # NumPy sums weights in float64
    if shape_of(w) != shape_of(x):
        raise ValueError(f"bincount: weights of shape {shape_of(w)} do not match x of shape {shape_of(x)}")
    return indexing.at(np.zeros(length, np.float64))[index].add(ew.where(keep, w, 0.0))


def histogram(a, bins=10, range=None, density=None, weights=None):
    """``numpy.histogram`` with a number of equal bins or explicit bin edges.

    The counts are piecewise constant in ``a`` (no derivative); with ``weights`` they
    differentiate in the weights, and the edges in ``a``'s extremes (``range=None``).

    Examples:
        >>> hist, edges = histogram(np.array([0.0, 0.5, 1.0, 1.0]), bins=2)
        >>> hist, edges
        (array([1, 3]), array([0. , 0.5, 1. ]))
    """
    a = _arr(a)
    if not isinstance(a, Tracer) and not isinstance(weights, Tracer) and not isinstance(bins, Tracer):
        return np.histogram(a, bins, range, density, weights)
    if isinstance(bins, str):
        raise NotImplementedError(f"histogram: bins={bins!r} estimates edges from the data; "
                                  "on traced values pass a number of bins or the edges")
    flat = sh.ravel(a)
    if isinstance(bins, (int, np.integer)):
        n = int(bins)
        if n < 1:
            raise ValueError("`bins` must be positive, when an integer")
        if range is None:
            lo, hi = red.min(flat), red.max(flat)
            same = ew.equal(lo, hi)
            lo, hi = ew.where(same, lo - 0.5, lo), ew.where(same, hi + 0.5, hi)
        else:
            lo, hi = range
            if lo > hi:
                raise ValueError("max must be larger than min in range parameter.")
            if lo == hi:
                lo, hi = lo - 0.5, hi + 0.5
        dtype = np.result_type(dtype_of(a), np.float64) if np.dtype(dtype_of(a)).kind in "iub" \
            else dtype_of(a)
        lo, hi = misc.astype(_arr(lo), dtype), misc.astype(_arr(hi), dtype)
        steps = (np.arange(n) / n).astype(dtype)
        edges = sh.concatenate([lo + (hi - lo) * steps, sh.reshape(hi, (1,))])
    else:
        edges = _arr(bins)
        known = edges if not isinstance(edges, Tracer) else None
        if known is not None and (np.diff(known) < 0).any():
            raise ValueError("`bins` must increase monotonically, when an array")
        n = shape_of(edges)[0] - 1
    keep = ew.logical_and(ew.greater_equal(flat, edges[0]), ew.less_equal(flat, edges[-1]))
    index = ew.minimum(ew.maximum(searchsorted(edges, flat, side="right") - 1, 0), n - 1)
    if weights is None:
        counts = indexing.at(np.zeros(n, np.intp))[index].add(misc.astype(keep, np.intp))
    else:
        w = sh.ravel(_arr(weights))
        counts = indexing.at(np.zeros(n, dtype_of(w)))[index].add(ew.where(keep, w, 0))
    if density:
        widths = edges[1:] - edges[:-1]
        counts = misc.astype(counts, np.float64) if np.dtype(dtype_of(counts)).kind in "iu" else counts
        counts = counts / widths / red.sum(counts)
    return counts, edges
