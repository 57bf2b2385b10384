"""The multivariate normal distribution ``N(mean, cov)`` (``scipy.stats.multivariate_normal``).

The log-density goes through the Cholesky factor ``L`` of ``cov`` and one triangular
solve, so it is differentiable in ``x``, ``mean`` and ``cov`` to any order (the
derivative in ``cov`` is that of a symmetric matrix read through its lower triangle, as
``fnp.linalg.cholesky`` defines it).

Examples:
    >>> import numpy as np
    >>> logpdf(np.zeros(2), np.zeros(2), np.eye(2))   # -log(2 pi)
    np.float64(-1.8378770664093453)
"""

import math as _math

import funcgrad.numpy as _fnp
from funcgrad._core.namespace import public_dir as _public_dir
from funcgrad.errors import ArgumentError as _ArgumentError, ShapeError as _ShapeError
from funcgrad.scipy.stats._util import promote as _promote

__all__ = ["logpdf", "pdf"]
__dir__ = _public_dir(globals())

_LOG_2PI = _math.log(2 * _math.pi)


def _dimension(mean, cov) -> int:
    if mean is not None and _fnp.ndim(mean) > 0:
        return _fnp.shape(mean)[-1]
    if _fnp.ndim(cov) > 0:
        return _fnp.shape(cov)[-1]
    return 1


def logpdf(x, mean=None, cov=1, allow_singular: bool = False):
    """The log-density at ``x``; its last axis holds the ``n`` coordinates, the others are samples.

    ``mean``: shape ``(n,)`` (or broadcasting with ``x``), default zeros.  ``cov``: an
    ``(n, n)`` positive definite matrix, a vector (a diagonal covariance) or a scalar
    (``cov * I``).  When ``mean`` and ``cov`` are scalars (``n == 1``) each element of a
    0-d or 1-D ``x`` is one sample, as in SciPy.  The result has shape ``x.shape[:-1]``
    (JAX's; SciPy also squeezes axes of size 1).
    A covariance that is not positive definite raises ``numpy.linalg.LinAlgError`` (from
    the Cholesky factorisation); ``allow_singular=True`` is not supported.

    Examples:
        >>> logpdf(np.array([[1.0, 0.0], [0.0, 2.0]]), np.zeros(2), np.diag([1.0, 4.0]))
        array([-3.03102425, -3.03102425])
    """
    if allow_singular:
        raise _ArgumentError("multivariate_normal.logpdf: allow_singular=True is not supported "
                            "(funcgrad factors cov with Cholesky); pass a positive definite cov")
    n = _dimension(mean, cov)
    scalars = _fnp.ndim(cov) == 0 and (mean is None or _fnp.ndim(mean) == 0)
    x, mean, cov = _promote(x, 0.0 if mean is None else mean, cov)
    if _fnp.ndim(x) == 0 or (scalars and _fnp.ndim(x) == 1):
        x = _fnp.expand_dims(x, -1)
    if _fnp.shape(x)[-1] != n:
        raise _ShapeError(f"multivariate_normal.logpdf: x must have {n} coordinates on its last "
                         f"axis (the dimension of mean and cov), got shape {_fnp.shape(x)}")
    diff = x - mean
    if _fnp.ndim(cov) == 2:
        maha, logdet = _full(diff, cov, n)
    elif _fnp.ndim(cov) <= 1:
        var = _fnp.broadcast_to(cov, (n,))
        maha = _fnp.sum(diff * diff / var, axis=-1)
        logdet = _fnp.sum(_fnp.log(var))
    else:
        raise _ShapeError(f"multivariate_normal.logpdf: cov must be a scalar, a vector or an "
                         f"(n, n) matrix, got shape {_fnp.shape(cov)}")
    return -0.5 * (n * _LOG_2PI + logdet + maha)


def _full(diff, cov, n: int):
    """``(diffᵀ cov⁻¹ diff, log det cov)`` through ``cov = L Lᵀ``.

    They are ``|L⁻¹ diff|²`` and ``2 Σ log Lᵢᵢ``: one triangular solve, no inverse.
    """
    from funcgrad.scipy.linalg import solve_triangular

    if _fnp.shape(cov) != (n, n):
        raise _ShapeError(f"multivariate_normal.logpdf: cov must be ({n}, {n}) for a mean of "
                         f"dimension {n}, got shape {_fnp.shape(cov)}")
    chol = _fnp.linalg.cholesky(cov)
    batch = _fnp.shape(diff)[:-1]
    columns = _fnp.transpose(_fnp.reshape(diff, (-1, n)))                # (n, samples)
    y = solve_triangular(chol, columns, lower=True)
    maha = _fnp.reshape(_fnp.sum(y * y, axis=0), batch)
    logdet = 2 * _fnp.sum(_fnp.log(_fnp.diagonal(chol)))
    return maha, logdet


def pdf(x, mean=None, cov=1, allow_singular: bool = False):
    """``exp(logpdf(x, mean, cov))``.

    Examples:
        >>> pdf(np.zeros(2), cov=np.eye(2))               # 1 / (2 pi)
        np.float64(0.15915494309189535)
    """
    return _fnp.exp(logpdf(x, mean, cov, allow_singular))
