"""Sorting: ``sort`` (differentiable), and the integer-valued ``argsort``, ``argpartition``
and ``searchsorted``.

Sorting permutes its input, so its derivative is the same permutation: the JVP gathers
the tangent with ``argsort(x)`` and the VJP, its transpose, gathers the cotangent with the
inverse permutation.  Every sort is stable, so tied elements keep their order and the
permutation at ties is the one JAX uses; forward and reverse mode read the same one
(``docs/conventions.md``).  ``partition`` and the order statistics built on ``sort``
(``median``, ``quantile``) inherit this convention.
"""

from __future__ import annotations

import numpy as np

from funcgrad._core.primitive import Primitive, Tracer
from funcgrad.errors import ShapeError
from funcgrad.ops import indexing
from funcgrad.ops import shape as sh
from funcgrad.ops._array_like import as_operand
from funcgrad.ops._family import dtype_of, shape_of
from funcgrad.ops.reductions import normalize_axis


def _index_aval(x, **params):
    return shape_of(x), np.dtype(np.intp)


def _batch_along(prim: Primitive) -> None:
    """Batch an op that acts along one ``axis``: that axis steps over the batch axis."""
    def rule(values, dims, axis, **params):
        (x,), (d,) = values, dims
        return prim.bind(x, axis=axis + (axis >= d), **params), d

    prim.defbatch(rule)


argsort_p = Primitive("argsort", lambda x, axis: np.argsort(x, axis=axis, kind="stable"),
                      _index_aval, differentiable=False)
_batch_along(argsort_p)


def _permute(t, perm, axis):
    return indexing.take_along_axis(t, perm, axis)


def _sort_jvp(t, ans, x, axis):
    return _permute(t, argsort_p.bind(x, axis=axis), axis)


def _sort_vjp(g, ans, x, axis):
    # The transpose of gathering with a permutation is gathering with its inverse.
    inverse = argsort_p.bind(argsort_p.bind(x, axis=axis), axis=axis)
    return _permute(g, inverse, axis)


sort_p = Primitive("sort", lambda x, axis: np.sort(x, axis=axis, kind="stable"),
                   lambda x, axis: (shape_of(x), dtype_of(x)))
sort_p.defvjp(_sort_vjp)
sort_p.defjvp(_sort_jvp)
_batch_along(sort_p)

argpartition_p = Primitive("argpartition",
                           lambda x, kth, axis: np.argpartition(x, kth, axis=axis),
                           _index_aval, differentiable=False)
_batch_along(argpartition_p)


def _searchsorted_aval(a, v, side):
    return shape_of(v), np.dtype(np.intp)


def _batch_searchsorted(values, dims, side):
    (a, v), (da, dv) = values, dims
    if da is None:  # one sorted array for every example: searchsorted is elementwise in v
        return searchsorted_p.bind(a, v, side=side), dv
    size = shape_of(a)[da]
    a = sh.moveaxis(a, da, 0)
    v = sh.moveaxis(v, dv, 0) if dv is not None else None
    outs = [searchsorted_p.bind(a[i], v[i] if v is not None else values[1], side=side)
            for i in range(size)]  # each example has its own sorted array
    return sh.stack(outs, 0), 0


searchsorted_p = Primitive("searchsorted", lambda a, v, side: np.searchsorted(a, v, side=side),
                           _searchsorted_aval, differentiable=False)
searchsorted_p.defbatch(_batch_searchsorted)


# -- public functions --------------------------------------------------------
def _flat_axis(x, axis):
    """``(x, axis)`` with ``axis=None`` meaning the flattened array, as NumPy's sorts do."""
    if axis is None:
        return sh.reshape(x, (-1,)), 0
    ndim = len(shape_of(x))
    if ndim == 0:
        raise ShapeError(f"axis={axis} is out of range for an array of 0 dimensions "
                         "(NumPy sorts 0-d arrays only with axis=None)")
    return x, normalize_axis(axis, ndim)[0]


def _check_kind(kind, stable, order) -> None:
    if order is not None:
        raise ShapeError("order= (sorting structured arrays by field) is not supported")
    kinds = (None, "quicksort", "mergesort", "heapsort", "stable")
    if kind not in kinds:
        raise ValueError(f"sort kind must be one of {kinds[1:]}, got {kind!r}")
    if stable is False and kind in ("mergesort", "stable"):
        raise ValueError("stable=False conflicts with a stable kind")


def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """``numpy.sort``, differentiable: the derivative permutes like the values.

    The sort is always stable (any ``kind`` is accepted), so equal elements keep their
    order and the gradient at ties goes where the elements went.

    Examples:
        >>> sort(np.array([3.0, 1.0, 2.0]))
        array([1., 2., 3.])
    """
    _check_kind(kind, stable, order)
    a, axis = _flat_axis(a, axis)
    return sort_p.bind(a, axis=axis)


def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    """``numpy.argsort`` (integer output, no gradient); always stable, as ``stable=True``.

    Examples:
        >>> argsort(np.array([3.0, 1.0, 2.0]))
        array([1, 2, 0])
    """
    _check_kind(kind, stable, order)
    a, axis = _flat_axis(a, axis)
    return argsort_p.bind(a, axis=axis)


def _kth(kth, n: int) -> tuple[int, ...]:
    if np.asarray(kth).dtype.kind not in "iu":
        raise TypeError(f"kth must be an integer or a sequence of integers, got {kth!r}")
    kths = tuple(int(k) for k in np.atleast_1d(np.asarray(kth)).ravel())
    for k in kths:
        if not -n <= k < n:
            raise ShapeError(f"kth(={k}) out of bounds ({n})")
    return kths


def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    """``numpy.argpartition`` (integer output, no gradient), with NumPy's own algorithm.

    Examples:
        >>> argpartition(np.array([3.0, 1.0, 2.0]), 0)[0]
        np.int64(1)
    """
    if order is not None or kind != "introselect":
        raise ValueError("argpartition supports only kind='introselect' and order=None")
    a, axis = _flat_axis(a, axis)
    return argpartition_p.bind(a, kth=_kth(kth, shape_of(a)[axis]), axis=axis)


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """``numpy.partition``, differentiable: ``take_along_axis(a, argpartition(a, kth))``.

    The values equal NumPy's (the same selection algorithm); the derivative gathers like
    the values, so it goes where each element went.

    Examples:
        >>> partition(np.array([3.0, 1.0, 2.0]), 1)[1]
        np.float64(2.0)
    """
    a = as_operand(a)
    if not isinstance(a, Tracer):
        return np.partition(a, kth, axis=axis, kind=kind, order=order)
    idx = argpartition(a, kth, axis=axis, kind=kind, order=order)
    a, axis = _flat_axis(a, axis)
    return indexing.take_along_axis(a, idx, axis)


def searchsorted(a, v, side: str = "left", sorter=None):
    """``numpy.searchsorted`` (integer output, no gradient): where ``v`` would go in sorted ``a``.

    Examples:
        >>> searchsorted(np.array([1.0, 2.0, 3.0]), np.array([2.5, 0.0]))
        array([2, 0])
    """
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    if len(shape_of(a)) != 1:
        raise ShapeError(f"searchsorted: a must be 1-D, got shape {shape_of(a)}")
    if sorter is not None:
        a = indexing.take(a, sorter)
    return searchsorted_p.bind(a, v, side=side)
