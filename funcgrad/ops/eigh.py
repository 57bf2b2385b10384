"""``numpy.linalg.eigh`` and ``eigvalsh``: the primitives ``eigh_values`` and ``eigh_vectors``.

Both share one LAPACK call (the memo of :mod:`funcgrad.ops._decomposition`); the public
functions build the symmetric (complex: Hermitian) matrix from the ``UPLO`` triangle with
differentiable ops, so the primitives see Hermitian input only.  The rules are JAX's
(``_eigh_jvp_rule``), ``ẇ = Re diag(Vᴴ Ȧ V)`` and ``V̇ = V (F ∘ Vᴴ Ȧ V)`` with
``F[i, j] = 1 / (w_j - w_i)`` off the diagonal, and the VJPs their transposes without
conjugation (``docs/complex.md``).  A complex eigenvector is defined up to a phase;
``V̇`` is the derivative in the gauge ``diag(Vᴴ V̇) = 0`` (JAX's), not LAPACK's phase, so
differentiate phase-invariant functions of complex eigenvectors (``|V|``, ``v vᴴ``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.ops._decomposition import (
    _batched,
    _column_sums,
    _decomposed,
    _gaps_inverse,
    _hermitian_from,
    _input,
    _linalg_dtype,
    _matrix_shape,
    _memoized,
    _H,
    _conj,
    _mT,
    _real_dtype,
    _row,
)
from funcgrad.ops import elementwise as ew
from funcgrad.ops._family import dtype_of
from funcgrad.ops.linalg import matmul


def _eigh_values_impl(a):
    hit = _memoized(np.linalg.eigh, a)
    return hit[0] if hit is not None else np.linalg.eigvalsh(a)


def _eigh_values_aval(a):
    return _matrix_shape("eigvalsh", a, square=True)[:-1], _real_dtype(dtype_of(a))


def _eigh_vectors_aval(a):
    return _matrix_shape("eigh", a, square=True), _linalg_dtype(dtype_of(a))


eigh_values_p = Primitive("eigh_values", _eigh_values_impl, _eigh_values_aval)
eigh_vectors_p = Primitive("eigh_vectors", lambda a: _decomposed(np.linalg.eigh, a)[1],
                           _eigh_vectors_aval)


def _eigh_values_vjp(g, ans, a):
    """Ā = conj(V) diag(w̄) Vᵀ: no eigenvalue gap, so finite at repeated eigenvalues."""
    v = eigh_vectors_p.bind(a)
    return matmul(_conj(v) * _row(g), _mT(v))


def _eigh_values_jvp(t, ans, a):
    """ẇ = Re diag(Vᴴ Ȧ V)."""
    v = eigh_vectors_p.bind(a)
    w = _column_sums(_conj(v) * matmul(t, v))
    return ew.real(w) if dtype_of(w).kind == "c" else w


def _eigh_vectors_vjp(g, ans, a):
    """Ā = herm(conj(V) (F ∘ Vᵀ V̄) Vᵀ), F = 1 / (w_j - w_i) off the diagonal; the input is
    Hermitian, so the cotangent's Hermitian part is the one that counts."""
    f = _gaps_inverse(eigh_values_p.bind(a))
    abar = matmul(_conj(ans), matmul(f * matmul(_mT(ans), g), _mT(ans)))
    return 0.5 * (abar + _H(abar))


def _eigh_vectors_jvp(t, ans, a):
    """V̇ = V (F ∘ Vᴴ Ȧ V)."""
    f = _gaps_inverse(eigh_values_p.bind(a))
    return matmul(ans, f * matmul(_H(ans), matmul(t, ans)))


eigh_values_p.defvjp(_eigh_values_vjp)
eigh_values_p.defjvp(_eigh_values_jvp)
eigh_vectors_p.defvjp(_eigh_vectors_vjp)
eigh_vectors_p.defjvp(_eigh_vectors_jvp)
_batched(eigh_values_p)
_batched(eigh_vectors_p)


class EighResult(NamedTuple):
    """``(eigenvalues, eigenvectors)``, like NumPy 2's ``EighResult``."""

    eigenvalues: Any
    eigenvectors: Any


def eigh(a, UPLO: str = "L") -> EighResult:
    """``numpy.linalg.eigh``: eigenvalues (ascending) and eigenvectors of a Hermitian matrix.

    Reads the ``UPLO`` triangle only (and the real part of a complex diagonal).  Derivatives
    of the eigenvectors divide by eigenvalue gaps: at exactly repeated eigenvalues they are
    NaN or inf, as in JAX.  Complex eigenvectors differentiate in JAX's phase gauge, so
    differentiate phase-invariant functions of them (``|V|``, ``V diag(f(w)) Vᴴ``).

    Examples:
        >>> w, v = eigh(np.diag([2.0, 1.0]))
        >>> w
        array([1., 2.])
    """
    a = _hermitian_from("eigh", _input("eigh", a, square=True), UPLO)
    return EighResult(eigh_values_p.bind(a), eigh_vectors_p.bind(a))


def eigvalsh(a, UPLO: str = "L"):
    """``numpy.linalg.eigvalsh``: the eigenvalues of a Hermitian matrix, ascending.

    The derivative is finite everywhere, repeated eigenvalues included.

    Examples:
        >>> eigvalsh(np.array([[2.0, 1.0], [1.0, 2.0]]))
        array([1., 3.])
    """
    return eigh_values_p.bind(_hermitian_from("eigvalsh", _input("eigvalsh", a, square=True), UPLO))
