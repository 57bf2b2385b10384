"""``numpy.linalg.matrix_rank`` and ``cond``: compositions of singular values, norms and ``inv``.

On plain arrays both are NumPy's own functions.  On traced arrays ``matrix_rank`` counts
the singular values above the tolerance (an integer: no derivative) and ``cond`` is
``s_max / s_min`` (``p`` None, 2, -2) or ``norm(x, p) * norm(inv(x), p)``, so its
derivative is theirs (``s_max / s_min`` is not differentiable where the largest or the
smallest singular value is repeated).

Examples:
    >>> import numpy as np
    >>> int(matrix_rank(np.diag([1.0, 0.0, 2.0])))
    2
    >>> float(cond(np.diag([4.0, 0.5])))
    8.0
"""

from __future__ import annotations

import numpy as np

from funcgrad._core.primitive import Tracer
from funcgrad.errors import ArgumentError, ShapeError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import reductions as red
from funcgrad.ops import shape as sh
from funcgrad.ops._array_like import asarray
from funcgrad.ops._decomposition import _input
from funcgrad.ops._family import dtype_of, shape_of
from funcgrad.ops.eigh import eigvalsh
from funcgrad.ops.linalg import _here, inv
from funcgrad.ops.misc import astype
from funcgrad.ops.svd import svdvals
from funcgrad.numpy._norms import matrix_norm

__all__ = ["cond", "matrix_rank"]

_COND_ORDERS = (None, 1, -1, 2, -2, np.inf, -np.inf, "fro", "nuc")


def matrix_rank(A, tol=None, hermitian: bool = False, *, rtol=None):
    """``numpy.linalg.matrix_rank``: the number of singular values above the tolerance.

    ``tol`` is an absolute threshold; ``rtol`` (default ``max(M, N) * eps``) a threshold
    relative to the largest singular value; ``hermitian=True`` takes the singular values
    as ``|eigvalsh(A)|`` (the lower triangle).  Stacks give one rank per matrix.  The
    result is an integer, with no derivative.

    Examples:
        >>> int(matrix_rank(np.ones((3, 3))))
        1
    """
    if rtol is not None and tol is not None:
        raise ArgumentError(f"matrix_rank: `tol` and `rtol` can't be both set{_here()}")
    A = asarray(A)
    if not isinstance(A, Tracer) and not isinstance(tol, Tracer) and not isinstance(rtol, Tracer):
        return np.linalg.matrix_rank(A, tol=tol, hermitian=hermitian, rtol=rtol)
    if len(shape_of(A)) < 2:
        return astype(red.any(ew.not_equal(A, 0)), np.int64)
    A = _input("matrix_rank", A)
    s = ew.abs(eigvalsh(A)) if hermitian else svdvals(A)
    k = shape_of(s)[-1]
    if k == 0:
        return np.zeros(shape_of(s)[:-1], np.intp)
    if tol is None:
        if rtol is None:
            rtol = max(shape_of(A)[-2:]) * float(np.finfo(dtype_of(s)).eps)
        tol = red.max(s, axis=-1, keepdims=True) * _per_matrix(rtol)
    else:
        tol = _per_matrix(tol)
    return astype(red.sum(ew.greater(s, tol), axis=-1), np.intp)


def _per_matrix(t):
    """A tolerance (a number, or one per stacked matrix) against singular values (..., K)."""
    t = asarray(t)
    return sh.expand_dims(t, -1) if len(shape_of(t)) else t


def cond(x, p=None):
    """``numpy.linalg.cond``: the condition number of a matrix (or of each in a stack).

    ``p``: None or 2 (``s_max / s_min``), -2 (``s_min / s_max``), 'fro', 'nuc', 1, -1,
    inf, -inf (``norm(x, p) * norm(inv(x), p)``, square matrices only).  Differentiable
    where its parts are; on traced input a singular matrix with ``p`` not in (None, 2,
    -2) raises ``LinAlgError`` (``inv`` does), where NumPy returns inf.

    Examples:
        >>> float(cond(np.array([[1.0, 0.0], [0.0, 0.25]]), p=1))
        4.0
    """
    if p not in _COND_ORDERS:
        raise ArgumentError(f"cond: invalid norm order {p!r}; expected one of None, 1, -1, 2, "
                            f"-2, inf, -inf, 'fro', 'nuc'{_here()}")
    x = asarray(x)
    if not isinstance(x, Tracer):
        return np.linalg.cond(x, p)
    x = _input("cond", x)
    shape = shape_of(x)
    if 0 in shape[-2:]:
        raise np.linalg.LinAlgError("cond is not defined on empty arrays")
    if p is None or p in (2, -2):
        s = svdvals(x)
        top, bottom = s[..., 0], s[..., -1]
        r = bottom / top if p == -2 else top / bottom
    else:
        if shape[-1] != shape[-2]:
            raise ShapeError(f"cond: p={p!r} needs square matrices (..., M, M), got shape "
                             f"{shape}{_here()}")
        r = matrix_norm(x, ord=p) * matrix_norm(inv(x), ord=p)
    # NumPy's: a NaN from a singular matrix (0 / 0) is inf, unless x itself holds a NaN.
    nan = ew.logical_and(ew.isnan(r), ew.logical_not(red.any(ew.isnan(x), axis=(-2, -1))))
    return ew.where(nan, np.inf, r)
