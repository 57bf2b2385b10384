"""Linear algebra: matmul (NumPy's 1-D and batched rules), einsum, dot and friends,
and ``linalg``'s norm, inv, det, slogdet and solve.
"""

from __future__ import annotations

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.errors import ShapeError
from funcgrad.ops import shape as sh
from funcgrad.ops._family import dtype_of, shape_of, unbroadcast


def _matmul_aval(a, b):
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        raise ShapeError(f"matmul: operands must not be 0-d, got shapes {sa} and {sb}; use * for scalars")
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise ShapeError(f"matmul: shapes {sa} and {sb} are not aligned: "
                         f"{ka} (dim {len(sa) - 1} of the first) != {kb} "
                         f"(dim {max(len(sb) - 2, 0)} of the second)")
    try:
        batch = np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise ShapeError(f"matmul: batch dimensions of shapes {sa} and {sb} do not broadcast") from None
    out = batch + (sa[-2:-1] if len(sa) > 1 else ()) + (sb[-1:] if len(sb) > 1 else ())
    return out, np.result_type(dtype_of(a), dtype_of(b))


def _matmul_impl(a, b):
    try:
        return np.matmul(a, b)
    except ValueError:
        _matmul_aval(a, b)  # raises the ShapeError that names both shapes
        raise


def _as_matrices(g, a, b):
    """Promote 1-D operands (and the cotangent) to matrices, as NumPy's matmul does."""
    sa, sb = shape_of(a), shape_of(b)
    if len(sa) == 1:
        a = sh.reshape(a, (1,) + sa)
        g = sh.expand_dims(g, -2)
    if len(sb) == 1:
        b = sh.reshape(b, sb + (1,))
        g = sh.expand_dims(g, -1)
    return g, a, b


def _drop_promoted(ct, x):
    """Undo :func:`_as_matrices` on a cotangent, then sum it over broadcast batch axes."""
    if len(shape_of(x)) == 1:
        ct = sh.reshape(ct, shape_of(ct)[:-2] + shape_of(x))
    return unbroadcast(ct, x)


def _matmul_da(g, ans, a, b):
    g2, a2, b2 = _as_matrices(g, a, b)
    return _drop_promoted(matmul(g2, sh.swapaxes(b2, -1, -2)), a)


def _matmul_db(g, ans, a, b):
    g2, a2, b2 = _as_matrices(g, a, b)
    return _drop_promoted(matmul(sh.swapaxes(a2, -1, -2), g2), b)


matmul_p = Primitive("matmul", _matmul_impl, _matmul_aval)
matmul_p.defvjp(_matmul_da, _matmul_db)


def matmul(a, b):
    """``numpy.matmul`` (``a @ b``) with NumPy's 1-D and batched (broadcasting) rules.

    >>> matmul(np.ones((2, 3)), np.ones(3))
    array([3., 3.])
    """
    return matmul_p.bind(a, b)
