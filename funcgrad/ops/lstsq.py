"""Least squares: ``numpy.linalg.lstsq`` with the derivative of the pseudo-inverse.

The primitive ``lstsq`` gives the minimum-norm least-squares solution ``x = A⁺ b``
(LAPACK ``gelsd``, singular values below ``rcond * s_max`` dropped) for stacks of
``(M, N)`` matrices ``A`` and ``(M, K)`` right-hand sides.  Its rules are those of
``A⁺ b`` for ``A`` of locally constant rank (Golub and Pereyra, 1973), with ``P = A⁺``
(the :mod:`~funcgrad.ops.pinv` primitive, same cutoff), the residual ``r = b - A x`` and
``y = Pᴴ x``::

    ẋ = -P Ȧ x + P Pᴴ Ȧᴴ r + (I - P A) Ȧᴴ y + P ḃ
    Ā = -Pᵀ ḡ xᵀ + conj(r) (conj(P) Pᵀ ḡ)ᴴ + conj(y) (ḡ - Aᵀ Pᵀ ḡ)ᴴ,      b̄ = Pᵀ ḡ

(the VJP is the JVP's transpose without conjugation, ``docs/complex.md``; for real input
every ``conj`` and ``ᴴ`` is the identity and ``ᵀ``).  They need no singular-value gap, so
they are finite at repeated singular values (an orthogonal ``A``), unlike a derivative
taken through the SVD.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from funcgrad._core.primitive import Primitive, Tracer
from funcgrad.errors import ConcretizationError, ShapeError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import reductions as red
from funcgrad.ops import shape as sh
from funcgrad.ops._array_like import asarray
from funcgrad.ops._family import batch_shape, dtype_of, shape_of, unbroadcast
from funcgrad.ops._decomposition import _H, _conj, _mT
from funcgrad.ops.pinv import pinv_p
from funcgrad.ops.svd import svdvals
from funcgrad.ops.linalg import _align_batch, _front, _here, _linalg_dtype, matmul
from funcgrad.ops.misc import astype


def _aval(a, b, rcond):
    sa, sb = shape_of(a), shape_of(b)
    if len(sa) < 2 or len(sb) < 2 or sa[-2] != sb[-2]:
        raise ShapeError(f"lstsq: expected a (..., M, N) and b (..., M, K), got shapes {sa} and {sb}")
    batch = batch_shape("lstsq", sa, sb)
    return batch + (sa[-1], sb[-1]), _linalg_dtype(np.result_type(dtype_of(a), dtype_of(b)))


def _impl(a, b, rcond):
    shape, dtype = _aval(a, b, rcond)
    batch = shape[:-2]
    a = np.broadcast_to(a, batch + a.shape[-2:]).astype(dtype, copy=False)
    b = np.broadcast_to(b, batch + b.shape[-2:]).astype(dtype, copy=False)
    out = np.empty(shape, dtype)
    for i in np.ndindex(*batch):
        out[i] = np.linalg.lstsq(a[i], b[i], rcond=rcond)[0]
    return out


lstsq_p = Primitive("lstsq", _impl, _aval)


def _pinv(a, b, rcond):
    """``A⁺`` with gelsd's cutoff (a negative ``rcond`` means machine precision), in the
    dtype of the solution."""
    dtype = _linalg_dtype(np.result_type(dtype_of(a), dtype_of(b)))
    eps = float(np.finfo(dtype).eps)
    return pinv_p.bind(astype(a, dtype), rcond=rcond if rcond >= 0 else eps)


def _jvp_a(t, ans, a, b, rcond):
    p = _pinv(a, b, rcond)
    r = b - matmul(a, ans)
    th = _H(t)
    q = matmul(th, matmul(_H(p), ans))                            # Ȧᴴ y
    return (-matmul(p, matmul(t, ans)) + matmul(p, matmul(_H(p), matmul(th, r)))
            + q - matmul(p, matmul(a, q)))


def _jvp_b(t, ans, a, b, rcond):
    return matmul(_pinv(a, b, rcond), t)


def _vjp_a(g, ans, a, b, rcond):
    p = _pinv(a, b, rcond)
    ptg = matmul(_mT(p), g)
    r = b - matmul(a, ans)
    y = matmul(_H(p), ans)
    abar = (-matmul(ptg, _mT(ans)) + matmul(_conj(r), _H(matmul(_conj(p), ptg)))
            + matmul(_conj(y), _H(g - matmul(_mT(a), ptg))))
    return unbroadcast(abar, a)


def _vjp_b(g, ans, a, b, rcond):
    return unbroadcast(matmul(_mT(_pinv(a, b, rcond)), g), b)


def _batch(values, dims, rcond):
    (a, b), (da, db) = values, dims
    a, b = _align_batch([_front(a, da), _front(b, db)], [da is not None, db is not None])
    return lstsq_p.bind(a, b, rcond=rcond), 0


lstsq_p.defjvp(_jvp_a, _jvp_b)
lstsq_p.defvjp(_vjp_a, _vjp_b)
lstsq_p.defbatch(_batch)


def lstsq_solution(a, b, rcond: float):
    """``x`` of ``numpy.linalg.lstsq(a, b, rcond)`` for stacks ``a (..., M, N)``, ``b (..., M, K)``.

    Examples:
        >>> lstsq_solution(np.array([[1.0], [1.0]]), np.array([[1.0], [3.0]]), 1e-15)
        array([[2.]])
    """
    return lstsq_p.bind(a, b, rcond=float(rcond))


class LstsqResult(NamedTuple):
    """``(x, residuals, rank, s)`` of ``lstsq`` (NumPy returns a plain tuple in this order)."""

    x: Any
    residuals: Any
    rank: Any
    s: Any


def _known(v):
    """``v``'s concrete value, or None while tracing abstractly (jit) or under vmap."""
    if not isinstance(v, Tracer):
        return np.asarray(v)
    try:
        return np.asarray(v.concrete_value("lstsq's rank"))
    except ConcretizationError:
        return None


def lstsq(a, b, rcond=None) -> LstsqResult:
    """``numpy.linalg.lstsq``: the minimum-norm ``x`` minimising ``|b - a x|``, with the
    residuals, the rank of ``a`` and its singular values.

    ``rcond`` (default ``eps * max(M, N)``) drops singular values below ``rcond * s_max``.
    ``x`` is differentiable in ``a`` and ``b`` (for a rank that is constant nearby);
    ``residuals`` (squared norms of ``b - a x``) and ``s`` too; ``rank`` is an integer.
    As in NumPy, ``residuals`` is empty unless ``rank == N < M``; where the rank is not
    known while tracing (``jit``, ``vmap``) and ``M > N``, the residuals are returned
    whatever the rank, as JAX does.

    Examples:
        >>> x, res, rank, s = lstsq(np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]),
        ...                         np.array([1.0, 2.0, 2.0]))
        >>> np.round(x, 6), np.round(res, 6), int(rank)
        (array([1.166667, 0.5     ]), array([0.166667]), 2)
    """
    a, b = asarray(a), asarray(b)
    sa, sb = shape_of(a), shape_of(b)
    if len(sa) != 2:
        raise ShapeError(f"lstsq: {len(sa)}-dimensional array given for a (shape {sa}); it "
                         f"must be two-dimensional{_here()}")
    if len(sb) not in (1, 2) or sb[0] != sa[0]:
        raise ShapeError(f"lstsq: incompatible dimensions: a of shape {sa} needs b of shape "
                         f"({sa[0]},) or ({sa[0]}, K), got shape {sb}{_here()}")
    dtype = _linalg_dtype(np.result_type(dtype_of(a), dtype_of(b)))
    a, b = astype(a, dtype), astype(b, dtype)
    m, n = sa
    if rcond is None:
        rcond = float(np.finfo(dtype).eps) * max(m, n)
    vector = len(sb) == 1
    b2 = sh.expand_dims(b, -1) if vector else b
    x = lstsq_p.bind(a, b2, rcond=float(rcond))
    s = svdvals(a)
    cutoff = float(rcond) * red.max(s) if min(m, n) else 0.0
    rank = astype(red.sum(ew.greater(s, cutoff)), np.int32) if min(m, n) else np.int32(0)
    known = _known(rank)
    if isinstance(rank, np.ndarray):
        rank = rank[()]  # NumPy's int32 scalar
    if m > n and (known is None or int(known) == n):
        r = b2 - matmul(a, x)
        residuals = red.sum(ew.real(r * ew.conj(r)) if dtype.kind == "c" else r * r, axis=0)
    else:
        residuals = np.empty((0,), np.finfo(dtype).dtype)
    return LstsqResult(sh.reshape(x, (n,)) if vector else x, residuals, rank, s)
