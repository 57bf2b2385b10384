"""Op-table rows for ``funcgrad.scipy.linalg`` (``tests/op_table.py`` imports this file).

References are SciPy's own functions.  Triangular solves read one triangle, so their
matrices come from a diagonally dominant domain (any triangle of it is well conditioned);
``lu_factor`` gets those matrices with their rows shuffled, so partial pivoting swaps rows
and the pivots stay put under the finite-difference steps.  ``cho_factor``'s SciPy result
keeps the input's entries in the unread triangle, funcgrad's has zeros there: its row
compares the factor's triangle.  ``tests/test_scipy_linalg.py`` covers keywords and errors.
"""

import dataclasses

import numpy as np
import scipy.linalg as sl
from op_records_linalg import SPD
from op_table import LINALG_TOL, REAL, SQUARE, op, sides

import funcgrad.scipy.linalg as fsl


@dataclasses.dataclass(frozen=True)
class RowShuffled:
    """Diagonally dominant square matrices with their rows in a random order."""

    def sample(self, rng: np.random.Generator, shape) -> np.ndarray:
        return SQUARE.sample(rng, shape)[..., rng.permutation(shape[-2]), :]


SHUFFLED = RowShuffled()


def scipy_linalg_op(name, fun, ref, shapes, domains, **kw):
    op(f"scipy.linalg.{name}", fun, ref, shapes=shapes, domains=domains, kind="linalg",
       tol=LINALG_TOL, **kw)


_SQUARE = sides(2, lambda b, n: ((n, n),)) | sides(2, lambda b, n: ((b, n, n),))
_SOLVE_SHAPES = {  # label: (a, b) shapes from (batch, n, k)
    "vector": lambda b, n, k: ((n, n), (n,)),
    "matrix": lambda b, n, k: ((n, n), (n, k)),
    "stacked": lambda b, n, k: ((b, n, n), (b, n, k)),
    "stacked a, vector b": lambda b, n, k: ((b, n, n), (n,)),
    "broadcast batch": lambda b, n, k: ((1, n, n), (b, 2, n, k)),
}
_SOLVE = sides(3, lambda b, n, k: _SOLVE_SHAPES["matrix"](b, n, k))


def _solve_shapes(label):
    return sides(3, _SOLVE_SHAPES[label])


# -- solve_triangular: every shape once, then every flag combination -----------------------
for _label in _SOLVE_SHAPES:
    scipy_linalg_op(f"solve_triangular[lower, {_label}]",
                    lambda a, b: fsl.solve_triangular(a, b, lower=True),
                    lambda a, b: sl.solve_triangular(a, b, lower=True),
                    _solve_shapes(_label), (SQUARE, REAL))
for _trans in (0, 1, 2, "T"):
    for _lower in (False, True):
        for _unit in (False, True):
            scipy_linalg_op(
                f"solve_triangular[trans={_trans!r}, lower={_lower}, unit_diagonal={_unit}]",
                lambda a, b, t=_trans, lo=_lower, u=_unit: fsl.solve_triangular(
                    a, b, trans=t, lower=lo, unit_diagonal=u),
                lambda a, b, t=_trans, lo=_lower, u=_unit: sl.solve_triangular(
                    a, b, trans=t, lower=lo, unit_diagonal=u),
                _SOLVE | _solve_shapes("stacked a, vector b"), (SQUARE, REAL))


# -- cho_factor, cho_solve --------------------------------------------------------------------
def _scipy_factor(a, lower):
    c, _ = sl.cho_factor(a, lower=lower)
    return np.tril(c) if lower else np.triu(c)


for _lower in (False, True):
    scipy_linalg_op(f"cho_factor[lower={_lower}]",
                    lambda a, lo=_lower: fsl.cho_factor(a, lower=lo)[0],
                    lambda a, lo=_lower: _scipy_factor(a, lo), _SQUARE, (SPD,))
    scipy_linalg_op(f"cho_solve[lower={_lower}]",
                    lambda c, b, lo=_lower: fsl.cho_solve((c, lo), b),
                    lambda c, b, lo=_lower: sl.cho_solve((c, lo), b),
                    _SOLVE | _solve_shapes("vector") | _solve_shapes("stacked"), (SQUARE, REAL))
    scipy_linalg_op(f"cho_solve[cho_factor, lower={_lower}]",
                    lambda a, b, lo=_lower: fsl.cho_solve(fsl.cho_factor(a, lower=lo), b),
                    lambda a, b, lo=_lower: sl.cho_solve(sl.cho_factor(a, lower=lo), b),
                    _SOLVE | _solve_shapes("vector") | _solve_shapes("stacked"), (SPD, REAL))

# -- lu_factor, lu_solve ----------------------------------------------------------------------
scipy_linalg_op("lu_factor", lambda a: tuple(fsl.lu_factor(a)), lambda a: tuple(sl.lu_factor(a)),
                _SQUARE, (SHUFFLED,))
for _trans in (0, 1, 2):
    scipy_linalg_op(f"lu_solve[trans={_trans}]",
                    lambda a, b, t=_trans: fsl.lu_solve(fsl.lu_factor(a), b, trans=t),
                    lambda a, b, t=_trans: sl.lu_solve(sl.lu_factor(a), b, trans=t),
                    _SOLVE | _solve_shapes("vector") | _solve_shapes("stacked"),
                    (SHUFFLED, REAL))

# -- expm ---------------------------------------------------------------------------------------
scipy_linalg_op("expm", lambda a: fsl.expm(a), sl.expm, _SQUARE, (REAL,))

# -- block_diag ---------------------------------------------------------------------------------
scipy_linalg_op("block_diag[2-D, 1-D]", lambda x, y: fsl.block_diag(x, y), sl.block_diag,
                sides(3, lambda m, n, k: ((m, n), (k,))), (REAL, REAL))
scipy_linalg_op("block_diag[0-D, 2-D, 2-D]", lambda x, y, z: fsl.block_diag(x, y, z),
                sl.block_diag, sides(3, lambda m, n, k: ((), (m, n), (n, k))), (REAL, REAL, REAL))
