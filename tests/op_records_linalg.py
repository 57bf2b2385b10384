"""Op-table rows for the decompositions of ``fnp.linalg`` (``tests/op_table.py`` imports this file).

The generated tests need outputs that are functions of the input: eigenvectors and
singular vectors are defined up to sign, so their rows return sign-invariant functions
of them (elementwise squares, ``U @ Vh``, ``V diag(w³) Vᵀ``), and the inputs come from
domains whose spectra are well separated (gaps of at least 0.5, condition numbers below
``n + 2``), where every derivative exists and central differences are accurate.
``tests/test_decompositions.py`` covers degenerate points, errors and keywords.
"""

import dataclasses

import numpy as np
from op_table import LINALG_TOL, op, sides

import funcgrad.numpy as fnp


def _orthonormal(rng: np.random.Generator, shape) -> np.ndarray:
    """Random matrices with orthonormal columns, (..., m, k) with k <= m."""
    q, r = np.linalg.qr(rng.standard_normal(shape))
    return q * np.sign(np.diagonal(r, 0, -2, -1))[..., None, :]


def _spectrum(rng: np.random.Generator, batch, k: int, start: float) -> np.ndarray:
    """``k`` values from ``start``, consecutive gaps in [0.5, 1.5], shuffled."""
    w = start + np.cumsum(rng.uniform(0.5, 1.5, batch + (k,)), axis=-1)
    return rng.permuted(w, axis=-1)


@dataclasses.dataclass(frozen=True)
class SeparatedSymmetric:
    """Symmetric matrices ``Q diag(w) Qᵀ`` with eigenvalue gaps >= 0.5; ``positive``:
    eigenvalues in [1, n + 2) (positive definite), otherwise of either sign."""

    positive: bool = True

    def sample(self, rng: np.random.Generator, shape) -> np.ndarray:
        n = shape[-1]
        w = _spectrum(rng, tuple(shape[:-2]), n, 0.5 if self.positive else -0.5 - 0.5 * n)
        q = _orthonormal(rng, shape)
        a = (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)
        return (a + np.swapaxes(a, -1, -2)) / 2


@dataclasses.dataclass(frozen=True)
class SeparatedSingular:
    """Matrices ``U diag(s) Vᵀ`` of any shape with singular values in [1, k + 2), gaps >= 0.5."""

    def sample(self, rng: np.random.Generator, shape) -> np.ndarray:
        m, n = shape[-2:]
        k = min(m, n)
        batch = tuple(shape[:-2])
        s = _spectrum(rng, batch, k, 0.5)
        u, v = _orthonormal(rng, batch + (m, k)), _orthonormal(rng, batch + (n, k))
        return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


SPD = SeparatedSymmetric(positive=True)
SYMMETRIC = SeparatedSymmetric(positive=False)
SINGULAR = SeparatedSingular()

_SQUARE = sides(2, lambda b, n: ((n, n),)) | sides(2, lambda b, n: ((b, n, n),))
_ANY = (sides(2, lambda m, n: ((m, n),)) | sides(3, lambda b, m, n: ((b, m, n),)))
_TALL = sides(2, lambda m, d: ((m + d, m),), min_side=1)
_WIDE = sides(2, lambda m, d: ((m, m + d),), min_side=1) | sides(
    3, lambda b, m, d: ((b, m, m + d),))


def decomposition_op(name, fun, ref, shapes, domain, **kw):
    op(name, fun, ref, shapes=shapes, domains=domain, kind="linalg", tol=LINALG_TOL, **kw)


def _square_entries(x):
    return x * x


# -- cholesky ------------------------------------------------------------------------------
decomposition_op("linalg.cholesky", lambda a: fnp.linalg.cholesky(a), np.linalg.cholesky,
                 _SQUARE, SPD)
decomposition_op("linalg.cholesky[upper]", lambda a: fnp.linalg.cholesky(a, upper=True),
                 lambda a: np.linalg.cholesky(a, upper=True), _SQUARE, SPD)

# -- eigh, eigvalsh ------------------------------------------------------------------------
decomposition_op("linalg.eigvalsh", lambda a: fnp.linalg.eigvalsh(a), np.linalg.eigvalsh,
                 _SQUARE, SYMMETRIC)
decomposition_op("linalg.eigvalsh[UPLO=U]", lambda a: fnp.linalg.eigvalsh(a, UPLO="U"),
                 lambda a: np.linalg.eigvalsh(a, UPLO="U"), _SQUARE, SYMMETRIC)


def _eigh_squares(eigh):
    def fun(a):
        w, v = eigh(a)
        return w, v * v
    return fun


def _eigh_cubed(eigh, mT, matmul):
    def fun(a):
        w, v = eigh(a)
        return matmul(v * (w * w * w)[..., None, :], mT(v))
    return fun


decomposition_op("linalg.eigh[w, v*v]", _eigh_squares(fnp.linalg.eigh),
                 _eigh_squares(np.linalg.eigh), _SQUARE, SYMMETRIC)
decomposition_op("linalg.eigh[UPLO=U, v diag(w^3) vT]",
                 _eigh_cubed(lambda a: fnp.linalg.eigh(a, UPLO="U"),
                             lambda x: fnp.swapaxes(x, -1, -2), fnp.matmul),
                 _eigh_cubed(lambda a: np.linalg.eigh(a, UPLO="U"),
                             lambda x: np.swapaxes(x, -1, -2), np.matmul), _SQUARE, SYMMETRIC)

# -- svd, svdvals ----------------------------------------------------------------------------
decomposition_op("linalg.svdvals", lambda a: fnp.linalg.svdvals(a), np.linalg.svdvals,
                 _ANY, SINGULAR)
decomposition_op("linalg.svd[compute_uv=False]", lambda a: fnp.linalg.svd(a, compute_uv=False),
                 lambda a: np.linalg.svd(a, compute_uv=False), _ANY, SINGULAR)


def _svd_squares(svd):
    def fun(a):
        u, s, vh = svd(a, full_matrices=False)
        return u * u, s, vh * vh
    return fun


def _svd_product(svd):
    def fun(a):
        u, s, vh = svd(a, full_matrices=False)
        return u @ vh
    return fun


decomposition_op("linalg.svd[reduced, u*u, s, vh*vh]", _svd_squares(fnp.linalg.svd),
                 _svd_squares(np.linalg.svd), _ANY, SINGULAR)
decomposition_op("linalg.svd[reduced, u @ vh]", _svd_product(fnp.linalg.svd),
                 _svd_product(np.linalg.svd), _ANY, SINGULAR)
decomposition_op("linalg.svd[square, full_matrices]",
                 lambda a: tuple(_square_entries(x) for x in fnp.linalg.svd(a)),
                 lambda a: tuple(_square_entries(x) for x in np.linalg.svd(a)), _SQUARE, SINGULAR)

# -- qr: Householder signs are continuous at these inputs, so Q and R are compared as they are
decomposition_op("linalg.qr[reduced, tall]", lambda a: tuple(fnp.linalg.qr(a)),
                 lambda a: tuple(np.linalg.qr(a)), _TALL, SINGULAR)
decomposition_op("linalg.qr[reduced, wide]", lambda a: tuple(fnp.linalg.qr(a)),
                 lambda a: tuple(np.linalg.qr(a)), _WIDE, SINGULAR)
decomposition_op("linalg.qr[complete, wide]", lambda a: tuple(fnp.linalg.qr(a, mode="complete")),
                 lambda a: tuple(np.linalg.qr(a, mode="complete")), _WIDE, SINGULAR)
decomposition_op("linalg.qr[mode=r]", lambda a: fnp.linalg.qr(a, mode="r"),
                 lambda a: np.linalg.qr(a, mode="r"), _ANY, SINGULAR)
