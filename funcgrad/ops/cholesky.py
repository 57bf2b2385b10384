"""``numpy.linalg.cholesky``: the ``cholesky`` primitive and its rules.

The primitive reads the lower triangle of its input itself, as LAPACK does; its VJP is
one primitive of its own (:mod:`funcgrad.ops.cholesky_grad`).
"""

from __future__ import annotations

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.ops._decomposition import (
    _batched,
    _input,
    _linalg_dtype,
    _matrix_shape,
    _mT,
    _real_only,
)
from funcgrad.ops._family import dtype_of
from funcgrad.ops.cholesky_grad import cholesky_grad, mirror_lower, phi
from funcgrad.ops.linalg import matmul
from funcgrad.ops.triangular import triangular_solve


def _cholesky_jvp(t, ans, a, upper):
    """L̇ = L Φ(L⁻¹ Ȧ L⁻ᵀ), with two triangular solves; ``Ȧ`` mirrored from its lower triangle."""
    _real_only("cholesky", a)
    left = triangular_solve(ans, mirror_lower(t), lower=True)     # L⁻¹ Ȧ
    return matmul(ans, phi(_mT(triangular_solve(ans, _mT(left), lower=True))))


def _cholesky_vjp(g, ans, a, upper):
    """Ā = Φ(Y + Yᵀ), Y = L⁻ᵀ Φ(Lᵀ L̄) L⁻¹: one primitive (:mod:`funcgrad.ops.cholesky_grad`)."""
    _real_only("cholesky", a)
    return cholesky_grad(ans, g)


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


# The primitive reads one triangle of its input, as LAPACK does: the lower one for real
# input (the public function transposes for ``upper=True``); ``upper`` is only ever True
# for complex input, which has no derivative.
cholesky_p = Primitive("cholesky", _cholesky_impl, _cholesky_aval)
cholesky_p.defvjp(_cholesky_vjp)
cholesky_p.defjvp(_cholesky_jvp)
_batched(cholesky_p)


def cholesky(a, /, *, upper: bool = False):
    """``numpy.linalg.cholesky``: ``L`` lower triangular with ``a = L Lᴴ`` (``upper=True``: ``U = Lᴴ``).

    Only the lower (``upper=True``: upper) triangle of ``a`` is read, as in NumPy, so the
    gradient with respect to the other triangle is 0.  A matrix that is not positive
    definite raises ``numpy.linalg.LinAlgError``.

    Examples:
        >>> cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
        array([[2., 0.],
               [1., 2.]])
    """
    a = _input("cholesky", a, square=True)
    if dtype_of(a).kind == "c":  # values only: NumPy reads the triangle itself
        return cholesky_p.bind(a, upper=bool(upper))
    if upper:  # the upper triangle of a is the lower one of aᵀ
        return _mT(cholesky_p.bind(_mT(a), upper=False))
    return cholesky_p.bind(a, upper=False)
