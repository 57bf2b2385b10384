"""``numpy.linalg.svd`` and ``svdvals``: the primitives ``svd_values``, ``svd_u`` and ``svd_vh``.

The three share one LAPACK call (the memo of :mod:`funcgrad.ops._decomposition`); each
output's rules are its share of the SVD's derivative.  The rules are JAX's
(``_svd_jvp_rule``), with ``dS = Uᴴ Ȧ V`` and ``F[i, j] = 1 / (s_j² - s_i²)`` off the
diagonal: ``ṡ = Re diag(dS)``, ``U̇ = U (F ∘ (dS S + S dSᴴ) + i Im(diag dS) S⁻¹) + (I - U Uᴴ)
Ȧ V S⁻¹`` and ``V̇ = V (F ∘ (S dS + dSᴴ S)) + (I - V Vᴴ) Ȧᴴ U S⁻¹``; the VJPs are their
transposes without conjugation (``docs/complex.md``).  For complex input each pair
``(u_j, v_j)`` is defined up to one phase, and the term ``i Im(diag dS) S⁻¹`` is JAX's
gauge, not LAPACK's: differentiate phase-invariant functions (``|U|``, ``U diag(s) Vh``).
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
    _H,
    _conj,
    _diag,
    _mT,
    _real_dtype,
    _row,
)
from funcgrad.ops import elementwise as ew
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
    m, n = shape_of(a)[-2:]
    if full_matrices and m != n:
        raise ArgumentError(
            f"svd: no derivative of the full_matrices=True factors of a non-square matrix "
            f"(shape {shape_of(a)}): their extra columns are any orthonormal completion, "
            "not a function of the input; use full_matrices=False")
    return svd_u_p.bind(a, full_matrices=False), svd_values_p.bind(a), \
        svd_vh_p.bind(a, full_matrices=False)


def _real(x):
    return ew.real(x) if dtype_of(x).kind == "c" else x


def _phase_share(x, s):
    """``i Im(diag(x)) / s``: the diagonal that JAX's gauge gives ``U`` (0 for real ``x``)."""
    return 1j * ew.imag(_diag(x)) * _inverse_or_zero(s) if dtype_of(x).kind == "c" else None


def _svd_values_vjp(g, ans, a):
    """Ā = conj(U) diag(s̄) conj(Vh): no singular-value gap, so finite at repeated ones."""
    u, _, vh = _svd_parts(a, False)
    return _conj(matmul(u * _row(g), vh))


def _svd_values_jvp(t, ans, a):
    """ṡ = Re diag(Uᴴ Ȧ V)."""
    u, _, vh = _svd_parts(a, False)
    return _real(_column_sums(_conj(u) * matmul(t, _H(vh))))


def _svd_u_vjp(g, ans, a, full_matrices):
    """U's share, the transpose of its JVP: with G = Uᵀ Ū and J = F ∘ G,
    Ā = conj(U) ((J + Jᴴ) S + i Im(diag G) S⁻¹) conj(Vh) + (Ū - conj(U) G) S⁻¹ conj(Vh)."""
    u, s, vh = _svd_parts(a, full_matrices)
    m, n = shape_of(a)[-2:]
    uc, vhc = _conj(u), _conj(vh)
    utg = matmul(_mT(u), g)
    j = _gaps_inverse(s * s) * utg
    core = (j + _H(j)) * _row(s)
    phase = _phase_share(utg, s)
    if phase is not None:
        core = core + np.eye(shape_of(s)[-1]) * _row(phase)
    out = matmul(matmul(uc, core), vhc)
    if m > n:
        proj = g - matmul(uc, utg)
        out = out + matmul(proj * _row(_inverse_or_zero(s)), vhc)
    return out


def _svd_vh_vjp(g, ans, a, full_matrices):
    """Vh's share: with V̄ = Vh̄ᴴ and K = F ∘ Vᵀ V̄,
    Ā = conj(U) (S (K + Kᴴ)) conj(Vh) + conj(U) S⁻¹ V̄ᴴ (I - conj(V) Vᵀ)."""
    u, s, vh = _svd_parts(a, full_matrices)
    m, n = shape_of(a)[-2:]
    uc, vhc = _conj(u), _conj(vh)
    vtg = matmul(vhc, _H(g))                                  # Vᵀ V̄
    k = _gaps_inverse(s * s) * vtg
    core = _col(s) * (k + _H(k))
    out = matmul(matmul(uc, core), vhc)
    if n > m:
        proj = g - matmul(_H(vtg), vhc)  # V̄ᴴ (I - conj(V) Vᵀ) = g - (Vᵀ V̄)ᴴ conj(Vh)
        out = out + matmul(uc * _row(_inverse_or_zero(s)), proj)
    return out


def _svd_ds(t, u, vh):
    return matmul(_H(u), matmul(t, _H(vh)))


def _svd_u_jvp(t, ans, a, full_matrices):
    """U̇ = U (F ∘ (dS S + S dSᴴ) + i Im(diag dS) S⁻¹) + (I - U Uᴴ) Ȧ V S⁻¹, dS = Uᴴ Ȧ V
    (JAX's: the phase of each singular pair moves with U)."""
    u, s, vh = _svd_parts(a, full_matrices)
    m, n = shape_of(a)[-2:]
    ds = _svd_ds(t, u, vh)
    out = matmul(u, _gaps_inverse(s * s) * (ds * _row(s) + _col(s) * _H(ds)))
    phase = _phase_share(ds, s)
    if phase is not None:
        out = out + u * _row(phase)
    if m > n:
        tv = matmul(t, _H(vh))
        out = out + (tv - matmul(u, matmul(_H(u), tv))) * _row(_inverse_or_zero(s))
    return out


def _svd_vh_jvp(t, ans, a, full_matrices):
    """V̇ = V (F ∘ (S dS + dSᴴ S)) + (I - V Vᴴ) Ȧᴴ U S⁻¹; the tangent of Vh is V̇ᴴ."""
    u, s, vh = _svd_parts(a, full_matrices)
    m, n = shape_of(a)[-2:]
    ds = _svd_ds(t, u, vh)
    v = _H(vh)
    out = matmul(v, _gaps_inverse(s * s) * (_col(s) * ds + _H(ds) * _row(s)))
    if n > m:
        tu = matmul(_H(t), u)
        out = out + (tu - matmul(v, matmul(vh, tu))) * _row(_inverse_or_zero(s))
    return _H(out)


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
