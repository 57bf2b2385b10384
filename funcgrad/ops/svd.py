"""``numpy.linalg.svd`` and ``svdvals``: the primitives ``svd_values``, ``svd_u`` and ``svd_vh``.

The three share one LAPACK call (the memo of :mod:`funcgrad.ops._decomposition`); each
output's rules are its share of the SVD's derivative.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.errors import ArgumentError
from funcgrad.ops._decomposition import (
    _batched,
    _col,
    _column_sums,
    _decomposed,
    _gaps_inverse,
    _input,
    _inverse_or_zero,
    _linalg_dtype,
    _matrix_shape,
    _memoized,
    _mT,
    _real_dtype,
    _real_only,
    _row,
)
from funcgrad.ops._family import dtype_of, shape_of
from funcgrad.ops.linalg import matmul


def _svd_values_impl(a):
    hit = _memoized(np.linalg.svd, a, full_matrices=False)
    return hit[1] if hit is not None else np.linalg.svd(a, compute_uv=False)


def _svd_values_aval(a):
    s = _matrix_shape("svd", a)
    return s[:-2] + (min(s[-2:]),), _real_dtype(dtype_of(a))


def _svd_u_aval(a, full_matrices):
    s = _matrix_shape("svd", a)
    m, n = s[-2:]
    return s[:-2] + (m, m if full_matrices else min(m, n)), _linalg_dtype(dtype_of(a))


def _svd_vh_aval(a, full_matrices):
    s = _matrix_shape("svd", a)
    m, n = s[-2:]
    return s[:-2] + (n if full_matrices else min(m, n), n), _linalg_dtype(dtype_of(a))


svd_values_p = Primitive("svd_values", _svd_values_impl, _svd_values_aval)
svd_u_p = Primitive("svd_u", lambda a, full_matrices: _decomposed(
    np.linalg.svd, a, full_matrices=full_matrices)[0], _svd_u_aval)
svd_vh_p = Primitive("svd_vh", lambda a, full_matrices: _decomposed(
    np.linalg.svd, a, full_matrices=full_matrices)[2], _svd_vh_aval)


def _svd_parts(a, full_matrices: bool):
    """``(u, s, vh)`` of the reduced SVD, for the rules; full matrices only when square."""
    _real_only("svd", a)
    m, n = shape_of(a)[-2:]
    if full_matrices and m != n:
        raise ArgumentError(
            f"svd: no derivative of the full_matrices=True factors of a non-square matrix "
            f"(shape {shape_of(a)}): their extra columns are any orthonormal completion, "
            "not a function of the input; use full_matrices=False")
    return svd_u_p.bind(a, full_matrices=False), svd_values_p.bind(a), \
        svd_vh_p.bind(a, full_matrices=False)


def _svd_values_vjp(g, ans, a):
    """Ā = U diag(s̄) Vh: no singular-value gap, so finite at repeated singular values."""
    u, _, vh = _svd_parts(a, False)
    return matmul(u * _row(g), vh)


def _svd_values_jvp(t, ans, a):
    """ṡ = diag(Uᵀ Ȧ V)."""
    u, _, vh = _svd_parts(a, False)
    return _column_sums(u * matmul(t, _mT(vh)))


def _svd_u_vjp(g, ans, a, full_matrices):
    """U's share: Ā = U ((J + Jᵀ) S) Vh + (I - U Uᵀ) Ū S⁻¹ Vh, J = F ∘ Uᵀ Ū."""
    u, s, vh = _svd_parts(a, full_matrices)
    m, n = shape_of(a)[-2:]
    utg = matmul(_mT(u), g)
    j = _gaps_inverse(s * s) * utg
    core = (j + _mT(j)) * _row(s)
    out = matmul(matmul(u, core), vh)
    if m > n:
        proj = g - matmul(u, utg)
        out = out + matmul(proj * _row(_inverse_or_zero(s)), vh)
    return out


def _svd_vh_vjp(g, ans, a, full_matrices):
    """Vh's share: Ā = U (S (K + Kᵀ)) Vh + U S⁻¹ V̄ᵀ (I - V Vᵀ), K = F ∘ Vᵀ V̄, V̄ = Vh̄ᵀ."""
    u, s, vh = _svd_parts(a, full_matrices)
    m, n = shape_of(a)[-2:]
    vbar = _mT(g)
    vtg = matmul(vh, vbar)
    k = _gaps_inverse(s * s) * vtg
    core = _col(s) * (k + _mT(k))
    out = matmul(matmul(u, core), vh)
    if n > m:
        proj = g - matmul(_mT(vtg), vh)  # V̄ᵀ (I - V Vᵀ) = g - (Vᵀ V̄)ᵀ Vh
        out = out + matmul(u * _row(_inverse_or_zero(s)), proj)
    return out


def _svd_ds(t, u, vh):
    return matmul(_mT(u), matmul(t, _mT(vh)))


def _svd_u_jvp(t, ans, a, full_matrices):
    """U̇ = U (F ∘ (dS S + S dSᵀ)) + (I - U Uᵀ) Ȧ V S⁻¹, dS = Uᵀ Ȧ V."""
    u, s, vh = _svd_parts(a, full_matrices)
    m, n = shape_of(a)[-2:]
    ds = _svd_ds(t, u, vh)
    out = matmul(u, _gaps_inverse(s * s) * (ds * _row(s) + _col(s) * _mT(ds)))
    if m > n:
        tv = matmul(t, _mT(vh))
        out = out + (tv - matmul(u, matmul(_mT(u), tv))) * _row(_inverse_or_zero(s))
    return out


def _svd_vh_jvp(t, ans, a, full_matrices):
    """V̇ = V (F ∘ (S dS + dSᵀ S)) + (I - V Vᵀ) Ȧᵀ U S⁻¹; the tangent of Vh is V̇ᵀ."""
    u, s, vh = _svd_parts(a, full_matrices)
    m, n = shape_of(a)[-2:]
    ds = _svd_ds(t, u, vh)
    out = matmul(_mT(vh), _gaps_inverse(s * s) * (_col(s) * ds + _mT(ds) * _row(s)))
    if n > m:
        tu = matmul(_mT(t), u)
        out = out + (tu - matmul(_mT(vh), matmul(vh, tu))) * _row(_inverse_or_zero(s))
    return _mT(out)


svd_values_p.defvjp(_svd_values_vjp)
svd_values_p.defjvp(_svd_values_jvp)
svd_u_p.defvjp(_svd_u_vjp)
svd_u_p.defjvp(_svd_u_jvp)
svd_vh_p.defvjp(_svd_vh_vjp)
svd_vh_p.defjvp(_svd_vh_jvp)
for _p in (svd_values_p, svd_u_p, svd_vh_p):
    _batched(_p)


class SVDResult(NamedTuple):
    """``(U, S, Vh)``, like NumPy 2's ``SVDResult``."""

    U: Any
    S: Any
    Vh: Any


def svdvals(x, /):
    """``numpy.linalg.svdvals``: singular values, descending; finite derivatives everywhere.

    Examples:
        >>> svdvals(np.diag([1.0, -3.0]))
        array([3., 1.])
    """
    return svd_values_p.bind(_input("svdvals", x))


def svd(a, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False):
    """``numpy.linalg.svd``: ``a = U @ (S[..., None] * Vh)``, singular values descending.

    ``hermitian=True`` is accepted and computes the general SVD (the same singular values;
    ``U`` and ``Vh`` may differ from NumPy's eigh-based ones by signs).  Derivatives of
    ``U`` and ``Vh`` exist for ``full_matrices=False`` (or square matrices); at exactly
    repeated singular values they are NaN or inf, as in JAX.

    Examples:
        >>> u, s, vh = svd(np.diag([1.0, 3.0]))
        >>> s
        array([3., 1.])
    """
    a = _input("svd", a)
    if not compute_uv:
        return svd_values_p.bind(a)
    m, n = shape_of(a)[-2:]
    full = bool(full_matrices) and m != n
    return SVDResult(svd_u_p.bind(a, full_matrices=full), svd_values_p.bind(a),
                     svd_vh_p.bind(a, full_matrices=full))
