"""``funcgrad.numpy.linalg``: differentiable ``norm``, ``inv``, ``det``, ``slogdet``, ``solve``.

All are batched over leading axes like NumPy's.  ``inv``, ``det``, ``slogdet`` and
``solve`` are primitives (in :mod:`funcgrad.ops.linalg`); ``norm`` is built here
from elementwise ops and reductions.  Matrix norms that need singular values
(``ord=2``, ``-2``, ``'nuc'``) are not supported and raise
:class:`~funcgrad.errors.ArgumentError`.

Examples:
    >>> import numpy as np
    >>> import funcgrad.numpy as fnp
    >>> float(fnp.linalg.det(np.eye(2)))
    1.0
"""

from __future__ import annotations

import operator

import numpy as np
from numpy.linalg import LinAlgError  # raised for singular matrices, as in NumPy

from funcgrad._core.dtypes import is_inexact
from funcgrad.errors import ArgumentError, ShapeError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import reductions as red
from funcgrad.ops import shape as sh
from funcgrad.ops._family import complex_valued, dtype_of, shape_of
from funcgrad.ops.decompositions import (
    EighResult,
    QRResult,
    SVDResult,
    cholesky,
    eigh,
    eigvalsh,
    qr,
    svd,
    svdvals,
)
from funcgrad.ops.linalg import SlogdetResult, _array, _here, det, inv, slogdet, solve
from funcgrad.ops.misc import astype

__all__ = ["EighResult", "LinAlgError", "QRResult", "SVDResult", "SlogdetResult", "cholesky",
           "det", "eigh", "eigvalsh", "inv", "norm", "qr", "slogdet", "solve", "svd", "svdvals"]


def _safe_where(zero, fn, s):
    """``fn(s)`` where ``s`` is nonzero and 0 where it is zero, with a zero (not NaN) gradient there."""
    return ew.where(zero, 0.0, fn(ew.where(zero, 1.0, s)))


def _two_norm(x, axis, keepdims):
    squared = ew.real(x * ew.conj(x)) if complex_valued(x) else x * x  # |x|^2 for complex x
    return red.sqrt_zero_slope(red.sum(squared, axis=axis, keepdims=keepdims))


def _vector_norm(x, ord, axis: int, keepdims: bool):
    if ord is None or ord == 2:
        return _two_norm(x, axis, keepdims)
    if isinstance(ord, str):
        raise ArgumentError(f"norm: invalid norm order {ord!r} for vectors{_here()}")
    if ord == np.inf:
        return red.max(ew.abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return red.min(ew.abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:  # a count of nonzeros: piecewise constant, so no gradient
        return red.sum(astype(ew.not_equal(x, 0), dtype_of(x)), axis=axis, keepdims=keepdims)
    if ord == 1:
        return red.sum(ew.abs(x), axis=axis, keepdims=keepdims)
    p = float(ord)
    ax = ew.abs(x)
    if p < 0:
        # A zero entry makes the norm 0, and near it the norm is |x_i|: derivative 0 there (abs's
        # convention), computed on a zero-free copy so that no inf reaches the derivative.
        zero = ew.equal(ax, 0)
        safe = ew.where(red.any(zero, axis=axis, keepdims=True), 1.0, ax)
        out = red.sum(safe ** p, axis=axis, keepdims=keepdims) ** (1.0 / p)
        return ew.where(red.any(zero, axis=axis, keepdims=keepdims), 0.0, out)
    # Zero entries contribute 0 with a zero gradient (|x|**p has an infinite slope at 0 for p < 1).
    s = red.sum(_safe_where(ew.equal(ax, 0), lambda v: v ** p, ax), axis=axis, keepdims=keepdims)
    return _safe_where(ew.equal(s, 0), lambda v: v ** (1.0 / p), s)


def _matrix_norm(x, ord, axes: tuple[int, int], keepdims: bool):
    row, col = axes
    if ord is None or ord in ("fro", "f"):
        return _two_norm(x, axes, keepdims)
    if ord in (2, -2, "nuc"):
        raise ArgumentError(f"norm: the matrix norm ord={ord!r} needs singular values, which "
                            f"funcgrad does not support; use ord='fro', 1, -1, inf or -inf{_here()}")
    if isinstance(ord, str) or ord not in (1, -1, np.inf, -np.inf):
        raise ArgumentError(f"norm: invalid norm order {ord!r} for matrices{_here()}")
    summed, picked = (row, col) if ord in (1, -1) else (col, row)
    extreme = red.max if ord > 0 else red.min
    out = extreme(red.sum(ew.abs(x), axis=summed, keepdims=True), axis=picked, keepdims=True)
    if keepdims:
        return out
    return sh.reshape(out, tuple(n for i, n in enumerate(shape_of(x)) if i not in axes))


def norm(x, ord=None, axis=None, keepdims: bool = False):
    """``numpy.linalg.norm``: vector norms (``None``/2, 1, inf, -inf, 0, any other p) and
    matrix norms (``'fro'``, 1, -1, inf, -inf); matrix ``ord=2, -2, 'nuc'`` are not supported.

    The 2-norm's gradient at 0 is 0 (a subgradient), not NaN.

    Examples:
        >>> float(norm(np.array([3.0, 4.0])))
        5.0
    """
    x = _array(x)
    if not is_inexact(dtype_of(x)):
        x = astype(x, np.float64)
    nd = len(shape_of(x))
    if axis is None:
        if ord is None or (ord in ("fro", "f") and nd == 2) or (ord == 2 and nd == 1):
            out = _two_norm(sh.ravel(x), None, False)
            return sh.reshape(out, (1,) * nd) if keepdims else out
        axis = tuple(range(nd))
    axis = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    red.normalize_axis(axis, nd)  # range and duplicate checks
    axes = tuple(operator.index(a) % max(nd, 1) for a in axis)  # unsorted: (row, column) matters
    if len(axes) == 1 and nd >= 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ShapeError(f"norm: improper number of dimensions to norm: shape {shape_of(x)}, "
                     f"axis={axis}, ord={ord!r}{_here()}")
