"""``numpy.linalg.cholesky``: the ``cholesky`` primitive and its rules.

The primitive reads the lower triangle of its input itself, as LAPACK does (for complex
input: the Hermitian matrix of that triangle, with the diagonal's real part).  Its rules
are JAX's, ``L̇ = L Φ(L⁻¹ Ȧ L⁻ᴴ)`` with ``Ȧ`` the Hermitian matrix of the tangent's lower
triangle; the real VJP is one primitive of its own (:mod:`funcgrad.ops.cholesky_grad`),
the complex one its transpose in funcgrad ops (no conjugation, ``docs/complex.md``).
"""

from __future__ import annotations

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.ops._decomposition import (
    _batched,
    _input,
    _linalg_dtype,
    _matrix_shape,
    _H,
    _conj,
    _mT,
    hermitian_part,
)
from funcgrad.ops._family import dtype_of
from funcgrad.ops.cholesky_grad import cholesky_grad, mirror_lower, phi
from funcgrad.ops.linalg import matmul
from funcgrad.ops.triangular import triangular_solve


def _cholesky_jvp(t, ans, a, upper):
    """L̇ = L Φ(L⁻¹ Ȧ L⁻ᴴ), with two triangular solves; ``Ȧ`` mirrored from its lower triangle."""
    complex_ = dtype_of(ans).kind == "c"
    left = triangular_solve(ans, hermitian_part(t) if complex_ else mirror_lower(t),
                            lower=True)                                  # L⁻¹ Ȧ
    return matmul(ans, phi(_H(triangular_solve(ans, _H(left), lower=True))))


def _cholesky_vjp(g, ans, a, upper):
    """Ā = Φ(Y + Yᴴ), Y = L⁻ᵀ Φ(Lᵀ L̄) conj(L)⁻¹: for real input one primitive
    (:mod:`funcgrad.ops.cholesky_grad`); for complex input the diagonal of ``Y + Yᴴ`` is
    real, the Hermitian mirror's transpose."""
    if dtype_of(ans).kind != "c":
        return cholesky_grad(ans, g)
    x = triangular_solve(ans, phi(matmul(_mT(ans), g)), lower=True, trans=1)  # L⁻ᵀ Φ(Lᵀ L̄)
    y = _mT(triangular_solve(_conj(ans), _mT(x), lower=True, trans=1))       # ... conj(L)⁻¹
    return phi(y + _H(y))


def _cholesky_aval(a, upper):
    return _matrix_shape("cholesky", a, square=True), _linalg_dtype(dtype_of(a))


def _cholesky_impl(a, upper):
    """``numpy.linalg.cholesky``; real float32/float64 matrices through SciPy's LAPACK
    ``potrf``, which at n = 500 takes a fifth of the time of NumPy's bundled (ILP64) build."""
    if upper or a.dtype.type not in (np.float32, np.float64) or a.size == 0:
        return np.linalg.cholesky(a, upper=upper)
    from scipy.linalg.lapack import get_lapack_funcs

    (potrf,) = get_lapack_funcs(("potrf",), (a,))
    out = None if a.ndim == 2 else np.empty(a.shape, a.dtype)
    for i in np.ndindex(a.shape[:-2]):
        u, info = potrf(a[i].T, lower=0, clean=1)  # aᵀ's upper triangle is a's lower one
        if info > 0:
            raise np.linalg.LinAlgError("Matrix is not positive definite")
        if out is None:
            return u.T  # C-ordered, as NumPy's
        out[i] = u.T
    return out


# The primitive reads the lower triangle of its input, as LAPACK does; the public function
# takes the conjugate transpose for ``upper=True``, so ``upper`` is always False.
cholesky_p = Primitive("cholesky", _cholesky_impl, _cholesky_aval)
cholesky_p.defvjp(_cholesky_vjp)
cholesky_p.defjvp(_cholesky_jvp)
_batched(cholesky_p)


def cholesky(a, /, *, upper: bool = False):
    """``numpy.linalg.cholesky``: ``L`` lower triangular with ``a = L Lᴴ`` (``upper=True``: ``U = Lᴴ``).

    Only the lower (``upper=True``: upper) triangle of ``a`` is read, as in NumPy, so the
    gradient with respect to the other triangle is 0 (complex input: and with respect to the
    imaginary part of the diagonal).  A matrix that is not positive
    definite raises ``numpy.linalg.LinAlgError``.

    Examples:
        >>> cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
        array([[2., 0.],
               [1., 2.]])
    """
    a = _input("cholesky", a, square=True)
    if upper:  # the upper triangle of a is the lower one of aᴴ, and U = Lᴴ
        return _H(cholesky_p.bind(_H(a), upper=False))
    return cholesky_p.bind(a, upper=False)
