"""Vector and matrix norms: ``norm``, ``vector_norm``, ``matrix_norm`` (of ``numpy.linalg``).

Built from elementwise ops and reductions, so every rule is theirs; the matrix norms
``ord=2``, ``-2`` and ``'nuc'`` are the largest, the smallest and the sum of the singular
values (:func:`~funcgrad.ops.decompositions.svdvals`), whose derivatives are finite at
repeated singular values.  ``ord=2`` at a tie of the two largest singular values (and
``-2`` at a tie of the smallest) is not differentiable: there the rule gives the
average of the tied values' derivatives (``max``'s convention at ties).

Examples:
    >>> import numpy as np
    >>> float(matrix_norm(np.diag([3.0, -4.0]), ord=2))
    4.0
"""

from __future__ import annotations

import operator

import numpy as np

from funcgrad._core.dtypes import is_inexact
from funcgrad.errors import ArgumentError, ShapeError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import reductions as red
from funcgrad.ops import shape as sh
from funcgrad.ops._family import complex_valued, dtype_of, shape_of
from funcgrad.ops.decompositions import svdvals
from funcgrad.ops.linalg import _array, _here
from funcgrad.ops.misc import astype

__all__ = ["matrix_norm", "norm", "vector_norm"]


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


def _singular_value_norm(x, ord, axes: tuple[int, int], keepdims: bool):
    """``ord=2`` (largest), ``-2`` (smallest) or ``'nuc'`` (sum of) singular values over ``axes``."""
    s = svdvals(sh.moveaxis(x, axes, (-2, -1)))
    reduce = {2: red.max, -2: red.min, "nuc": red.sum}[ord]
    out = reduce(s, axis=-1)
    if keepdims:
        return sh.reshape(out, tuple(1 if i in axes else n for i, n in enumerate(shape_of(x))))
    return out


def _matrix_norm(x, ord, axes: tuple[int, int], keepdims: bool):
    row, col = axes
    if ord is None or ord in ("fro", "f"):
        return _two_norm(x, axes, keepdims)
    if ord in (2, -2, "nuc"):
        return _singular_value_norm(x, ord, axes, keepdims)
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
    matrix norms (``'fro'``, ``'nuc'``, 1, -1, 2, -2, inf, -inf).

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


def vector_norm(x, /, *, axis=None, keepdims: bool = False, ord=2):
    """``numpy.linalg.vector_norm``: the ``ord``-norm over ``axis`` (all axes when None,
    several axes as one flattened vector).

    Examples:
        >>> float(vector_norm(np.array([[3.0], [4.0]])))
        5.0
    """
    x = _array(x)
    if not is_inexact(dtype_of(x)):
        x = astype(x, np.float64)
    shape = shape_of(x)
    if axis is None:
        out = _vector_norm(sh.ravel(x), ord, 0, False)
        return sh.reshape(out, (1,) * len(shape)) if keepdims else out
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    axes = tuple(operator.index(a) for a in axes)
    normalized = red.normalize_axis(axes, len(shape))
    if len(axes) == 1:
        return _vector_norm(x, ord, normalized[0], keepdims)
    rest = tuple(i for i in range(len(shape)) if i not in normalized)
    flat = sh.reshape(sh.transpose(x, tuple(normalized) + rest),
                      (-1,) + tuple(shape[i] for i in rest))
    out = _vector_norm(flat, ord, 0, False)
    if keepdims:
        return sh.reshape(out, tuple(1 if i in normalized else n for i, n in enumerate(shape)))
    return out


def matrix_norm(x, /, *, keepdims: bool = False, ord="fro"):
    """``numpy.linalg.matrix_norm``: the norm of each matrix over the last two axes;
    ``ord`` is ``'fro'``, ``'nuc'``, 1, -1, 2, -2, inf or -inf.

    Examples:
        >>> float(matrix_norm(np.eye(2), ord="nuc"))
        2.0
    """
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)
