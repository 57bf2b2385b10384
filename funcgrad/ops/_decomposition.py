"""What the decompositions share: shape and dtype helpers, the memo that lets sibling
primitives (one per output) share one LAPACK call, the batching rule, the gap matrix of
the eigenvector and singular-vector rules, and the input checks of the public functions.

Low-level on purpose: :mod:`~funcgrad.ops.cholesky`, :mod:`~funcgrad.ops.eigh`,
:mod:`~funcgrad.ops.svd`, :mod:`~funcgrad.ops.qr`, :mod:`~funcgrad.ops.eig` and
:mod:`~funcgrad.ops.lstsq` import it, and it imports none of them.
"""

from __future__ import annotations

import threading

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.errors import ArgumentError, DTypeError, ShapeError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import reductions as red
from funcgrad.ops import shape as sh
from funcgrad.ops._array_like import asarray
from funcgrad.ops._family import dtype_of, shape_of
from funcgrad.ops.misc import astype
from funcgrad.ops.triangular import triangle_mask, triangular_solve


def _mT(x):
    return sh.swapaxes(x, -1, -2)


def _conj(x):
    """``conj(x)``, with no node for a real ``x``."""
    return ew.conj(x) if dtype_of(x).kind == "c" else x


def _H(x):
    """The conjugate transpose of a stack of matrices (the transpose of real ones)."""
    return _mT(_conj(x))


def _row(v):
    """A batch of vectors (..., k) as rows (..., 1, k): ``m * _row(v)`` scales m's columns."""
    return sh.expand_dims(v, -2)


def _col(v):
    """A batch of vectors (..., k) as columns (..., k, 1): ``m * _col(v)`` scales m's rows."""
    return sh.expand_dims(v, -1)


def _diag(m):
    """The main diagonals of a stack of matrices, (..., k)."""
    return sh.diagonal(m, 0, -2, -1)


def _column_sums(m):
    """``diag(Uᵀ M)`` written as the column sums of ``U * M``, (..., k)."""
    return red.sum(m, axis=-2)


def _solve_right(x, r):
    """``x r⁻¹`` for a stack of square upper-triangular ``r``."""
    return _mT(triangular_solve(r, _mT(x), lower=False, trans=1))


def _real_dtype(dt) -> np.dtype:
    """NumPy's linalg dtype for eigenvalues and singular values: real, float64 for integers."""
    dt = np.dtype(dt)
    if dt.kind not in "fc":
        return np.dtype(np.float64)
    return np.finfo(dt).dtype


def _linalg_dtype(dt) -> np.dtype:
    dt = np.dtype(dt)
    return dt if dt.kind in "fc" else np.dtype(np.float64)


def _matrix_shape(name: str, a, square: bool = False) -> tuple[int, ...]:
    s = shape_of(a)
    if len(s) < 2 or (square and s[-1] != s[-2]):
        what = "a square matrix or a stack of them (..., M, M)" if square else \
            "a matrix or a stack of them (..., M, N)"
        raise ShapeError(f"{name}: expected {what}, got shape {s}")
    return s


class _Memo(threading.local):
    entry: tuple | None = None


_memo = _Memo()


def _memoized(fn, a, **kw) -> tuple | None:
    """Fresh copies of ``fn(a, **kw)`` if the memo holds them for an input equal to ``a``."""
    e, a = _memo.entry, np.asarray(a)
    if (e is not None and e[0] == (fn, tuple(sorted(kw.items()))) and e[1].shape == a.shape
            and e[1].dtype == a.dtype and np.array_equal(e[1], a)):
        return tuple(np.array(o, copy=True) for o in e[2])
    return None


def _decomposed(fn, a, **kw) -> tuple:
    """``fn(a, **kw)`` as a tuple of fresh arrays; only the last call on each thread is
    kept (a copy of its input and its outputs)."""
    hit = _memoized(fn, a, **kw)
    if hit is None:
        a = np.asarray(a)
        outs = tuple(fn(a, **kw))
        _memo.entry = ((fn, tuple(sorted(kw.items()))), a.copy(), outs)
        hit = tuple(np.array(o, copy=True) for o in outs)
    return hit


def _batched(prim: Primitive) -> None:
    """Batch a primitive on stacks of matrices: a batch axis among the stack axes stays,
    one among the matrix axes moves to the front; the output keeps the stack axes."""
    def rule(values, dims, **params):
        (a,), (d,) = values, dims
        if d >= len(shape_of(a)) - 2:
            a, d = sh.moveaxis(a, d, 0), 0
        return prim.bind(a, **params), d

    prim.defbatch(rule)


def _gaps_inverse(w):
    """``F[..., i, j] = 1 / (w_j - w_i)`` off the diagonal and 0 on it (JAX's masking).

    An exact tie off the diagonal gives inf: the derivative does not exist there.
    """
    n = shape_of(w)[-1]
    eye = np.eye(n, dtype=dtype_of(w))
    return 1.0 / (eye + (_row(w) - _col(w))) - eye


def _inverse_or_zero(s):
    """``1 / s`` where ``s != 0`` and 0 where it is 0 (JAX's convention for zero singular values)."""
    zero = ew.equal(s, 0)
    return ew.where(zero, 0.0, 1.0 / ew.where(zero, 1.0, s))


def _input(name: str, a, square: bool = False):
    """``a`` as a tracer or array of an inexact dtype (integers become float64, as in NumPy)."""
    a = asarray(a)
    _matrix_shape(name, a, square)
    if dtype_of(a).kind not in "fc":
        if dtype_of(a).kind not in "biu":
            raise DTypeError(f"{name}: expected a numeric matrix, got dtype {dtype_of(a)}")
        a = astype(a, np.float64)
    return a


def _hermitian_from(name: str, a, uplo: str):
    """The Hermitian (real: symmetric) matrix NumPy's LAPACK call sees: ``uplo``'s triangle
    mirrored, and for complex input the diagonal's real part (LAPACK ignores its imaginary part)."""
    if uplo not in ("L", "U"):
        raise ArgumentError(f"{name}: UPLO must be 'L' or 'U', got {uplo!r}")
    return hermitian_part(a, uplo == "L")


def hermitian_part(a, lower: bool = True):
    """The Hermitian matrices whose ``lower`` (or upper) triangles are ``a``'s: one ``where``
    for real input; for complex input also ``(h + hᴴ) / 2``, which keeps the triangle exactly
    and makes the diagonal real."""
    h = ew.where(triangle_mask(shape_of(a)[-1], lower), a, _H(a))
    return 0.5 * (h + _H(h)) if dtype_of(a).kind == "c" else h
