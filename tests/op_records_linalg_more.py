"""Op-table rows for the rest of ``fnp.linalg`` (``tests/op_table.py`` imports this file):
``eig``, ``eigvals``, ``lstsq``, ``matrix_power``, ``multi_dot``, ``tensorsolve``,
``tensorinv``, ``trace``, ``diagonal``, ``outer``, ``cross``, ``vecdot``, ``vector_norm``,
``matrix_norm`` and ``norm``'s singular-value orders.

The generated tests compare real outputs, so ``eig``'s rows return real functions of the
complex eigenvalues and eigenvectors, each invariant under a reordering of the eigenpairs
(sums over the eigenvalue axis); the ``V**2`` row depends on the eigenvectors' phase, so it
checks the gauge rule (LAPACK's unit norm and real largest component) against finite
differences of NumPy's output.  Complex inputs are ``x + iy`` of two real arguments.
``tests/test_linalg_more.py`` covers keywords, errors, complex pairs and degenerate points.
"""

import dataclasses

import numpy as np
from op_records_linalg import SINGULAR, SYMMETRIC
from op_table import (
    LINALG_TOL,
    NONZERO,
    REAL,
    SQUARE,
    fixed,
    interval,
    op,
    same,
    sides,
)

import funcgrad.numpy as fnp


def linalg_op(name, fun, ref, shapes, domains, **kw):
    op(name, fun, ref, shapes=shapes, domains=domains, kind="linalg", tol=LINALG_TOL, **kw)


@dataclasses.dataclass(frozen=True)
class Diagonalizable:
    """Real matrices ``S D S⁻¹``, ``S`` near the identity (condition number below 3), ``D``
    block diagonal with real eigenvalues and conjugate pairs ``a ± ib`` (``b`` in [0.5, 1.5]):
    all eigenvalues at least 0.5 apart and away from 0."""

    def sample(self, rng: np.random.Generator, shape) -> np.ndarray:
        n = shape[-1]
        out = np.empty(shape)
        for idx in np.ndindex(*shape[:-2]):
            re = (0.5 + np.cumsum(rng.uniform(0.5, 1.5, n))) * rng.choice([-1, 1])
            d = np.diag(rng.permutation(re))
            for k in range(rng.integers(0, n // 2 + 1)):  # 2x2 blocks: pairs a +- ib
                i = 2 * k
                b = rng.uniform(0.5, 1.5)
                d[i, i + 1], d[i + 1, i], d[i + 1, i + 1] = b, -b, d[i, i]
            s = np.eye(n) + rng.uniform(-0.5, 0.5, (n, n)) / n
            out[idx] = s @ d @ np.linalg.inv(s)
        return out


@dataclasses.dataclass(frozen=True)
class TensorSquare:
    """Arrays whose size is a square ``p * p``, a diagonally dominant ``(p, p)`` matrix reshaped."""

    def sample(self, rng: np.random.Generator, shape) -> np.ndarray:
        p = int(round(np.sqrt(np.prod(shape))))
        return SQUARE.sample(rng, (p, p)).reshape(shape)


EIG = Diagonalizable()
TENSOR = TensorSquare()
_SQUARE = sides(2, lambda b, n: ((n, n),)) | sides(2, lambda b, n: ((b, n, n),))


# -- eig, eigvals ------------------------------------------------------------------------------
def _spectrum_sums(mod, w):
    """Order-invariant real functions of the eigenvalues."""
    return (mod.sum(mod.real(w) ** 2, axis=-1), mod.sum(mod.abs(w) ** 3, axis=-1),
            mod.sum(mod.imag(w) ** 2, axis=-1))


def _eigvals_row(mod):
    return lambda a: _spectrum_sums(mod, mod.linalg.eigvals(a))


def _eigvals_complex_row(mod):
    return lambda x, y: _spectrum_sums(mod, mod.linalg.eigvals(x + 1j * y))


def _eig_row(mod):
    """``sum_j |V_ij|^2 w_j`` and ``sum_j V_ij^2 w_j``: a pair's columns move together."""
    def fun(a):
        w, v = mod.linalg.eig(a)
        w = mod.expand_dims(w, -2)
        p = mod.sum(mod.abs(v) ** 2 * w, axis=-1)
        q = mod.sum(v * v * w, axis=-1)
        return mod.real(p), mod.imag(p), mod.real(q), mod.imag(q)
    return fun


def _eig_complex_row(mod):
    return lambda x, y: _eig_row(mod)(x + 1j * y)


linalg_op("linalg.eigvals", _eigvals_row(fnp), _eigvals_row(np), _SQUARE, EIG)
linalg_op("linalg.eigvals[symmetric]", _eigvals_row(fnp), _eigvals_row(np), _SQUARE, SYMMETRIC)
linalg_op("linalg.eigvals[x + iy]", _eigvals_complex_row(fnp), _eigvals_complex_row(np),
          sides(2, lambda b, n: ((n, n), (n, n))) | sides(2, lambda b, n: ((b, n, n), (b, n, n))),
          (EIG, interval(-0.2, 0.2)))
linalg_op("linalg.eig[|V|^2 w, V^2 w]", _eig_row(fnp), _eig_row(np), _SQUARE, EIG)
linalg_op("linalg.eig[x + iy]", _eig_complex_row(fnp), _eig_complex_row(np),
          sides(1, lambda n: ((n, n), (n, n))), (EIG, interval(-0.2, 0.2)))


# -- lstsq: the solution, residuals and singular values (the rank is an integer) ---------------
def _lstsq_row(mod, **kw):
    def fun(a, b):
        x, res, _, s = mod.linalg.lstsq(a, b, **kw)
        return x, res, s
    return fun


_LSTSQ_SHAPES = {  # label: (a, b) shapes from (m, n, k)
    "tall, vector b": lambda m, n, k: ((m + n, n), (m + n,)),
    "tall, matrix b": lambda m, n, k: ((m + n, n), (m + n, k)),
    "square": lambda m, n, k: ((n, n), (n, k)),
    "wide": lambda m, n, k: ((n, m + n), (n,)),
}
for _label, _make in _LSTSQ_SHAPES.items():
    linalg_op(f"linalg.lstsq[{_label}]", _lstsq_row(fnp), _lstsq_row(np), sides(3, _make),
              (SINGULAR, REAL))
linalg_op("linalg.lstsq[rcond=0.01]", _lstsq_row(fnp, rcond=0.01), _lstsq_row(np, rcond=0.01),
          sides(3, _LSTSQ_SHAPES["tall, matrix b"]), (SINGULAR, REAL))

# -- matrix_power, multi_dot, tensorsolve, tensorinv ----------------------------------------------
for _n in (-2, -1, 0, 1, 2, 3, 5):
    linalg_op(f"linalg.matrix_power[n={_n}]", lambda a, n=_n: fnp.linalg.matrix_power(a, n),
              lambda a, n=_n: np.linalg.matrix_power(a, n), _SQUARE, SQUARE,
              diff=_n != 0)  # n = 0: the identity, a constant
linalg_op("linalg.multi_dot[3 matrices]", lambda a, b, c: fnp.linalg.multi_dot([a, b, c]),
          lambda a, b, c: np.linalg.multi_dot([a, b, c]),
          sides(4, lambda i, j, k, m: ((i, j), (j, k), (k, m))), (REAL,) * 3)
linalg_op("linalg.multi_dot[vector, 2 matrices, vector]",
          lambda a, b, c, d: fnp.linalg.multi_dot([a, b, c, d]),
          lambda a, b, c, d: np.linalg.multi_dot([a, b, c, d]),
          sides(3, lambda i, j, k: ((i,), (i, j), (j, k), (k,))), (REAL,) * 4)
linalg_op("linalg.tensorsolve", lambda a, b: fnp.linalg.tensorsolve(a, b), np.linalg.tensorsolve,
          fixed((2, 3, 6), (2, 3)) | fixed((2, 2, 2, 2), (2, 2)), (TENSOR, REAL))
linalg_op("linalg.tensorsolve[axes=(0,)]", lambda a, b: fnp.linalg.tensorsolve(a, b, axes=(0,)),
          lambda a, b: np.linalg.tensorsolve(a, b, axes=(0,)), fixed((6, 2, 3), (2, 3)),
          (TENSOR, REAL))
linalg_op("linalg.tensorinv", lambda a: fnp.linalg.tensorinv(a), np.linalg.tensorinv,
          fixed((4, 6, 8, 3)) | fixed((2, 2, 4)), TENSOR)
linalg_op("linalg.tensorinv[ind=1]", lambda a: fnp.linalg.tensorinv(a, ind=1),
          lambda a: np.linalg.tensorinv(a, ind=1), fixed((6, 2, 3)), TENSOR)

# -- trace, diagonal, outer, cross, vecdot ------------------------------------------------------
_MATRICES = same(min_dims=2, max_dims=4)
for _off in (0, 1, -1):
    linalg_op(f"linalg.trace[offset={_off}]", lambda x, o=_off: fnp.linalg.trace(x, offset=o),
              lambda x, o=_off: np.linalg.trace(x, offset=o), _MATRICES, REAL)
    linalg_op(f"linalg.diagonal[offset={_off}]",
              lambda x, o=_off: fnp.linalg.diagonal(x, offset=o),
              lambda x, o=_off: np.linalg.diagonal(x, offset=o), _MATRICES, REAL)
linalg_op("linalg.trace[dtype=float64]", lambda x: fnp.linalg.trace(x, dtype=np.float64),
          lambda x: np.linalg.trace(x, dtype=np.float64), _MATRICES, REAL)
linalg_op("linalg.outer", lambda a, b: fnp.linalg.outer(a, b), np.linalg.outer,
          sides(2, lambda m, n: ((m,), (n,))), (REAL, REAL))
linalg_op("linalg.cross", lambda a, b: fnp.linalg.cross(a, b), np.linalg.cross,
          fixed((3,), (3,)) | fixed((2, 3), (3,)) | fixed((1, 3), (2, 1, 3)), (REAL, REAL))
linalg_op("linalg.cross[axis=0]", lambda a, b: fnp.linalg.cross(a, b, axis=0),
          lambda a, b: np.linalg.cross(a, b, axis=0), fixed((3, 2), (3, 2)) | fixed((3, 1), (3, 4)),
          (REAL, REAL))
linalg_op("linalg.vecdot", lambda a, b: fnp.linalg.vecdot(a, b), np.linalg.vecdot,
          sides(2, lambda b, n: ((b, n), (n,))) | sides(2, lambda b, n: ((n,), (b, 1, n))),
          (REAL, REAL))
linalg_op("linalg.vecdot[axis=0]", lambda a, b: fnp.linalg.vecdot(a, b, axis=0),
          lambda a, b: np.linalg.vecdot(a, b, axis=0),
          sides(2, lambda n, m: ((n, m), (n, m))), (REAL, REAL))
linalg_op("linalg.vecdot[x + iy, conjugated]",
          lambda x, y, z: (fnp.real(fnp.linalg.vecdot(x + 1j * y, z)),
                           fnp.imag(fnp.linalg.vecdot(x + 1j * y, z))),
          lambda x, y, z: (np.real(np.linalg.vecdot(x + 1j * y, z)),
                           np.imag(np.linalg.vecdot(x + 1j * y, z))),
          same(3, min_dims=1), (REAL,) * 3)

# -- vector_norm, matrix_norm, norm's singular-value orders ---------------------------------------
_VECTOR_NORMS = {  # label: (kwargs, min_dims, domain, distinct)
    "default": ({}, 0, NONZERO, False),
    "axis=-1,keepdims": ({"axis": -1, "keepdims": True}, 1, NONZERO, False),
    "axis=(0,-1),ord=1": ({"axis": (0, -1), "ord": 1}, 2, NONZERO, False),
    "keepdims,ord=3": ({"keepdims": True, "ord": 3}, 0, NONZERO, False),
    "axis=0,ord=inf": ({"axis": 0, "ord": np.inf}, 1, interval(0.2, 2.0), True),
    "axis=-1,ord=-inf": ({"axis": -1, "ord": -np.inf}, 1, interval(0.2, 2.0), True),
    "axis=0,ord=-1.5": ({"axis": 0, "ord": -1.5}, 1, NONZERO, False),
}
for _label, (_kw, _nd, _dom, _distinct) in _VECTOR_NORMS.items():
    linalg_op(f"linalg.vector_norm[{_label}]", lambda x, kw=_kw: fnp.linalg.vector_norm(x, **kw),
              lambda x, kw=_kw: np.linalg.vector_norm(x, **kw), same(min_dims=_nd), _dom,
              distinct=_distinct)

_STACKS = sides(3, lambda b, m, n: ((m, n),)) | sides(3, lambda b, m, n: ((b, m, n),))
# 2, -2, 'nuc': separated singular values; 1, inf: ties between column (row) sums have
# probability 0.
for _ord, _dom in (("fro", NONZERO), ("nuc", SINGULAR), (2, SINGULAR), (-2, SINGULAR),
                   (1, NONZERO), (-np.inf, NONZERO)):
    for _keep in (False, True):
        linalg_op(f"linalg.matrix_norm[ord={_ord},keepdims={_keep}]",
                  lambda x, o=_ord, k=_keep: fnp.linalg.matrix_norm(x, ord=o, keepdims=k),
                  lambda x, o=_ord, k=_keep: np.linalg.matrix_norm(x, ord=o, keepdims=k),
                  _STACKS, _dom)
for _ord in (2, -2, "nuc"):
    linalg_op(f"linalg.norm[matrix ord={_ord}]", lambda x, o=_ord: fnp.linalg.norm(x, ord=o),
              lambda x, o=_ord: np.linalg.norm(x, ord=o), sides(2, lambda m, n: ((m, n),)),
              SINGULAR)
    linalg_op(f"linalg.norm[matrix ord={_ord},axis=(2,0),keepdims]",
              lambda x, o=_ord: fnp.linalg.norm(x, ord=o, axis=(2, 0), keepdims=True),
              lambda x, o=_ord: np.linalg.norm(x, ord=o, axis=(2, 0), keepdims=True),
              sides(3, lambda a, b, c: ((a, b, c),)), NONZERO)
