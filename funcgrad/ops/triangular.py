"""Triangular solves: the ``triangular_solve`` primitive behind ``solve_triangular``,
``cho_solve``, ``lu_solve`` and the derivative rules of ``cholesky``.

``triangular_solve(a, b, lower, trans, unit_diagonal)`` solves ``op(a) x = b`` for a stack of
matrices ``b`` (..., N, K), with ``op(a) = a`` (``trans=0``) or ``aᵀ`` (``trans=1``); it reads
one triangle of ``a`` (``lower``), and not its diagonal with ``unit_diagonal``, so the
cotangent of ``a`` is zero outside what was read.  The batch axes of ``a`` and ``b``
broadcast.  Vector right-hand sides and ``trans='C'`` (``conj(a)`` with ``trans=1``) are
handled by the public :func:`solve_triangular`, so the primitive has two transposes only.

With ``M = op(a)`` and ``x = M⁻¹ b``: ``b̄ = M⁻ᵀ ḡ`` (the other transpose), ``M̄ = -b̄ xᵀ``
masked to the triangle read, and ``ẋ = M⁻¹ (ḃ - Ṁ x)``: every rule is another triangular
solve plus a masked outer product, written in funcgrad ops, so it differentiates again.
For complex inputs these are JAX's (unconjugated) transposes.  The values come from
SciPy's LAPACK ``trtrs`` (``scipy.linalg.solve_triangular``), imported on first use.
"""

from __future__ import annotations

import functools

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.errors import ArgumentError, DTypeError, ShapeError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import shape as sh
from funcgrad.ops._array_like import asarray
from funcgrad.ops._family import batch_shape, dtype_of, shape_of, unbroadcast
from funcgrad.ops.linalg import matmul
from funcgrad.ops.misc import astype

_TRANS = {0: 0, "N": 0, 1: 1, "T": 1, 2: 2, "C": 2}


def _mT(x):
    return sh.swapaxes(x, -1, -2)


@functools.lru_cache(maxsize=32)
def triangle_mask(n: int, lower: bool, k: int = 0) -> np.ndarray:
    """The read-only boolean mask of ``tril(·, k)`` (``lower``) or ``triu(·, k)``, n x n.

    The rules of large solves and factorizations use it on every call: cached, it costs
    one ``where`` instead of building the mask each time.
    """
    mask = np.tril(np.ones((n, n), bool), k) if lower else np.triu(np.ones((n, n), bool), k)
    mask.flags.writeable = False
    return mask


def masked(x, lower: bool, k: int = 0):
    """``tril(x, k)`` (``lower``) or ``triu(x, k)`` of a stack of square matrices."""
    return ew.where(triangle_mask(shape_of(x)[-1], lower, k), x, 0)


def _triangle(x, lower: bool, unit_diagonal: bool):
    """The part of ``x`` that a solve with these flags reads."""
    k = int(unit_diagonal)
    return masked(x, lower, -k if lower else k)


def _aval(a, b, lower, trans, unit_diagonal):
    sa, sb = shape_of(a), shape_of(b)
    if len(sa) < 2 or sa[-1] != sa[-2] or len(sb) < 2 or sb[-2] != sa[-1]:
        raise ShapeError(f"solve_triangular: expected a of shape (..., N, N) and b of shape "
                         f"(N,) or (..., N, K), got shapes {sa} and {sb}")
    batch = batch_shape("solve_triangular", sa, sb)
    return batch + sb[-2:], np.result_type(dtype_of(a), dtype_of(b))


def _impl(a, b, lower, trans, unit_diagonal):
    from scipy.linalg import solve_triangular as trtrs

    _aval(a, b, lower, trans, unit_diagonal)  # our ShapeError, not SciPy's ValueError
    out = trtrs(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal,
                check_finite=False)
    return np.asarray(out, dtype=np.result_type(a.dtype, b.dtype))


triangular_solve_p = Primitive("triangular_solve", _impl, _aval)
triangular_solve_p.fit_cotangent = unbroadcast  # batch axes broadcast


def triangular_solve(a, b, lower: bool, trans: int = 0, unit_diagonal: bool = False):
    """``op(a)⁻¹ b`` for matrices ``b`` (..., N, K), ``op`` the identity or (``trans=1``) ``ᵀ``."""
    return triangular_solve_p.bind(a, b, lower=lower, trans=trans, unit_diagonal=unit_diagonal)


def _vjp_b(g, ans, a, b, lower, trans, unit_diagonal):
    return triangular_solve(a, g, lower, 1 - trans, unit_diagonal)


def _vjp_a(g, ans, a, b, lower, trans, unit_diagonal):
    b_bar = -triangular_solve(a, g, lower, 1 - trans, unit_diagonal)  # (..., N, K): negated
    a_bar = matmul(b_bar, _mT(ans)) if trans == 0 else matmul(ans, _mT(b_bar))  # before the product
    return _triangle(a_bar, lower, unit_diagonal)


def _jvp_a(t, ans, a, b, lower, trans, unit_diagonal):
    dm = _triangle(t, lower, unit_diagonal)
    return -triangular_solve(a, matmul(dm if trans == 0 else _mT(dm), ans), lower, trans,
                             unit_diagonal)


def _batch(values, dims, **params):
    """Batch axes go first; an operand with fewer stack axes gets unit axes after its batch
    axis, so that its stack axes line up with the other's under broadcasting."""
    moved = [v if d is None else sh.moveaxis(v, d, 0) for v, d in zip(values, dims)]
    rank = max(len(shape_of(v)) - (d is not None) for v, d in zip(moved, dims))
    out = []
    for v, d in zip(moved, dims):
        s = shape_of(v)
        if d is not None and len(s) - 1 < rank:
            v = sh.reshape(v, s[:1] + (1,) * (rank - len(s) + 1) + s[1:])
        out.append(v)
    return triangular_solve_p.bind(*out, **params), 0


triangular_solve_p.defvjp(_vjp_a, _vjp_b)
triangular_solve_p.defjvp(_jvp_a, lambda t, ans, a, b, **p: triangular_solve(a, t, **p))
triangular_solve_p.defbatch(_batch)


def _inexact(name: str, x):
    x = asarray(x)
    kind = dtype_of(x).kind
    if kind in "biu":
        return astype(x, np.float64)
    if kind not in "fc":
        raise DTypeError(f"{name}: expected a numeric array, got dtype {dtype_of(x)}")
    return x


def solve_triangular(a, b, trans: int | str = 0, lower: bool = False,
                     unit_diagonal: bool = False, overwrite_b: bool = False,
                     check_finite: bool = True):
    """``scipy.linalg.solve_triangular``: ``x`` with ``op(a) @ x = b``, ``a`` triangular.

    ``trans``: 0/'N' (``a``), 1/'T' (``aᵀ``), 2/'C' (``aᴴ``).  Only the ``lower`` (default:
    upper) triangle of ``a`` is read, and not its diagonal with ``unit_diagonal=True``
    (taken as ones); the gradient with respect to the entries not read is zero.  ``a`` is
    (..., N, N); ``b`` is a vector (N,) or a stack of matrices (..., N, K), the batch axes
    broadcasting.  ``overwrite_b`` and ``check_finite`` are accepted and ignored (as in
    JAX): inputs are never overwritten.  A zero on the diagonal raises
    ``numpy.linalg.LinAlgError``, as SciPy does.

    Examples:
        >>> solve_triangular(np.array([[2.0, 0.0], [1.0, 1.0]]), np.array([2.0, 3.0]), lower=True)
        array([1., 2.])
    """
    del overwrite_b, check_finite
    if trans not in _TRANS or isinstance(trans, bool):
        raise ArgumentError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', "
                            f"got {trans!r}")
    mode = _TRANS[trans]
    a, b = _inexact("solve_triangular", a), _inexact("solve_triangular", b)
    sa, sb = shape_of(a), shape_of(b)
    vector = len(sb) == 1
    if vector:
        if len(sa) < 2 or sb[0] != sa[-1]:
            raise ShapeError(f"solve_triangular: expected a of shape (..., N, N) and b of "
                             f"shape (N,) or (..., N, K), got shapes {sa} and {sb}")
        b = sh.expand_dims(b, -1)
    dt = np.result_type(dtype_of(a), dtype_of(b))
    a, b = astype(a, dt), astype(b, dt)
    if mode == 2:
        a, mode = (ew.conj(a) if dt.kind == "c" else a), 1
    x = triangular_solve(a, b, bool(lower), mode, bool(unit_diagonal))
    return sh.squeeze(x, -1) if vector else x
