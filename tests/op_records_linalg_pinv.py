"""Op-table rows for ``pinv``, ``matrix_rank`` and ``cond``, and the complex rows of the
decompositions (``tests/op_table.py`` imports this file).

Complex inputs are ``x + iy`` of two real arguments, ``y`` small (so a positive definite
``x`` stays so, and separated spectra stay separated), and complex outputs are returned
as ``(real, imag)``.  Complex eigenvectors and singular vectors carry a free phase each,
so their rows return phase-invariant functions of them (``|V|``, ``V diag(w³) Vᴴ``,
``U diag(s²) Vh``); ``Q`` and ``R`` are compared as they are (LAPACK's ``R`` has a real
diagonal, the gauge the rules keep).  ``tests/test_linalg_complex.py`` covers the rest.
"""

import dataclasses

import numpy as np
from op_records_linalg import SINGULAR, SPD, SYMMETRIC, _orthonormal
from op_table import LINALG_TOL, REAL, interval, op, sides

import funcgrad.numpy as fnp


def linalg_op(name, fun, ref, shapes, domains, **kw):
    op(name, fun, ref, shapes=shapes, domains=domains, kind="linalg", tol=LINALG_TOL, **kw)


@dataclasses.dataclass(frozen=True)
class RankDeficient:
    """Matrices ``U diag(s) Vᵀ`` whose rank is drawn from 0 to ``min(m, n)``, the nonzero
    singular values in [0.5, 2].  ``rotate=False``: ``U`` and ``V`` are signed permutations,
    so the zero singular values are exactly 0 and the default tolerance has no borderline
    case; ``rotate=True``: random orthonormal ``U``, ``V`` (zeros up to rounding)."""

    rotate: bool = False

    def sample(self, rng: np.random.Generator, shape) -> np.ndarray:
        m, n = shape[-2:]
        k = min(m, n)
        batch = tuple(shape[:-2])
        s = rng.uniform(0.5, 2.0, batch + (k,))
        s = s * (np.arange(k) < rng.integers(0, k + 1, batch + (1,)))
        if self.rotate:
            u, v = _orthonormal(rng, batch + (m, k)), _orthonormal(rng, batch + (n, k))
        else:
            u = self._signed_permutation(rng, batch, m, k)
            v = self._signed_permutation(rng, batch, n, k)
        return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)

    @staticmethod
    def _signed_permutation(rng, batch, m, k):
        out = np.zeros(batch + (m, k))
        for idx in np.ndindex(*batch):
            rows = rng.permutation(m)[:k]
            out[idx + (rows, np.arange(k))] = rng.choice([-1.0, 1.0], k)
        return out


SMALL = interval(-0.2, 0.2)
_ANY = sides(2, lambda m, n: ((m, n),)) | sides(3, lambda b, m, n: ((b, m, n),))
_SQUARE = sides(2, lambda b, n: ((n, n),)) | sides(2, lambda b, n: ((b, n, n),))
_ANY2 = sides(2, lambda m, n: ((m, n),) * 2) | sides(3, lambda b, m, n: ((b, m, n),) * 2)
_SQUARE2 = sides(2, lambda b, n: ((n, n),) * 2) | sides(2, lambda b, n: ((b, n, n),) * 2)


def _parts(mod, *zs):
    """The real and imaginary parts of each complex output."""
    return tuple(p for z in zs for p in (mod.real(z), mod.imag(z)))


# -- pinv ------------------------------------------------------------------------------------
linalg_op("linalg.pinv", lambda a: fnp.linalg.pinv(a), np.linalg.pinv, _ANY, SINGULAR)
linalg_op("linalg.pinv[rtol=None]", lambda a: fnp.linalg.pinv(a, rtol=None),
          lambda a: np.linalg.pinv(a, rtol=None), _ANY, SINGULAR)
linalg_op("linalg.pinv[hermitian]", lambda a: fnp.linalg.pinv(a, hermitian=True),
          lambda a: np.linalg.pinv(a, hermitian=True), _SQUARE, SPD)
linalg_op("linalg.pinv[x + iy]", lambda x, y: _parts(fnp, fnp.linalg.pinv(x + 1j * y)),
          lambda x, y: _parts(np, np.linalg.pinv(x + 1j * y)), _ANY2, (SINGULAR, SMALL))

# -- matrix_rank: an integer, no derivative --------------------------------------------------
linalg_op("linalg.matrix_rank", lambda a: fnp.linalg.matrix_rank(a), np.linalg.matrix_rank,
          _ANY, RankDeficient(), diff=False)
linalg_op("linalg.matrix_rank[tol=0.1]", lambda a: fnp.linalg.matrix_rank(a, tol=0.1),
          lambda a: np.linalg.matrix_rank(a, tol=0.1), _ANY, RankDeficient(rotate=True),
          diff=False)
# a aᵀ: eigenvalues 0 (up to rounding) or in [0.25, 4], so rtol = 0.01 has a wide margin.
linalg_op("linalg.matrix_rank[hermitian, rtol=0.01]",
          lambda a: fnp.linalg.matrix_rank(a @ fnp.swapaxes(a, -1, -2), hermitian=True, rtol=0.01),
          lambda a: np.linalg.matrix_rank(a @ np.swapaxes(a, -1, -2), hermitian=True, rtol=0.01),
          _ANY, RankDeficient(rotate=True), diff=False)

# -- cond: separated singular values, so every part is differentiable -------------------------
for _p in (None, 2, -2):
    linalg_op(f"linalg.cond[p={_p}]", lambda a, p=_p: fnp.linalg.cond(a, p),
              lambda a, p=_p: np.linalg.cond(a, p), _ANY, SINGULAR)
for _p in ("fro", "nuc", 1, -1, np.inf, -np.inf):  # square; ties of row/column sums: prob. 0
    linalg_op(f"linalg.cond[p={_p}]", lambda a, p=_p: fnp.linalg.cond(a, p),
              lambda a, p=_p: np.linalg.cond(a, p), _SQUARE, SINGULAR)


# -- complex decompositions: x + iy ----------------------------------------------------------
def _cholesky_row(mod, upper):
    return lambda x, y: _parts(mod, mod.linalg.cholesky(x + 1j * y, upper=upper))


def _eigh_row(mod):
    def fun(x, y):
        w, v = mod.linalg.eigh(x + 1j * y)
        vh = mod.conj(mod.swapaxes(v, -1, -2))
        return (w, mod.abs(v)) + _parts(mod, (v * (w ** 3)[..., None, :]) @ vh)
    return fun


def _svd_row(mod):
    def fun(x, y):
        u, s, vh = mod.linalg.svd(x + 1j * y, full_matrices=False)
        return (mod.abs(u), s, mod.abs(vh)) + _parts(mod, (u * (s * s)[..., None, :]) @ vh)
    return fun


def _qr_row(mod, mode):
    def fun(x, y):
        out = mod.linalg.qr(x + 1j * y, mode=mode)
        return _parts(mod, *(out if isinstance(out, tuple) else (out,)))
    return fun


def _lstsq_row(mod):
    def fun(ax, ay, bx, by):
        x, res, _, s = mod.linalg.lstsq(ax + 1j * ay, bx + 1j * by)
        return _parts(mod, x) + (res, s)
    return fun


for _upper in (False, True):
    linalg_op(f"linalg.cholesky[upper={_upper}, x + iy]", _cholesky_row(fnp, _upper),
              _cholesky_row(np, _upper), _SQUARE2, (SPD, SMALL))
linalg_op("linalg.eigvalsh[x + iy]", lambda x, y: fnp.linalg.eigvalsh(x + 1j * y),
          lambda x, y: np.linalg.eigvalsh(x + 1j * y), _SQUARE2, (SYMMETRIC, SMALL))
linalg_op("linalg.eigh[x + iy, w, |V|, V diag(w^3) V^H]", _eigh_row(fnp), _eigh_row(np),
          _SQUARE2, (SYMMETRIC, SMALL))
linalg_op("linalg.svdvals[x + iy]", lambda x, y: fnp.linalg.svdvals(x + 1j * y),
          lambda x, y: np.linalg.svdvals(x + 1j * y), _ANY2, (SINGULAR, SMALL))
linalg_op("linalg.svd[x + iy, |U|, s, |Vh|, U diag(s^2) Vh]", _svd_row(fnp), _svd_row(np),
          _ANY2, (SINGULAR, SMALL))
for _mode in ("reduced", "r"):
    linalg_op(f"linalg.qr[{_mode}, x + iy]", _qr_row(fnp, _mode), _qr_row(np, _mode), _ANY2,
              (SINGULAR, SMALL))
linalg_op("linalg.lstsq[x + iy]", _lstsq_row(fnp), _lstsq_row(np),
          sides(3, lambda m, n, k: ((m + n, n), (m + n, n), (m + n, k), (m + n, k))),
          (SINGULAR, SMALL, REAL, REAL))
