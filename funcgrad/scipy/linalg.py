"""``funcgrad.scipy.linalg``: SciPy's ``solve_triangular``, ``cho_factor``/``cho_solve``,
``lu_factor``/``lu_solve``, ``expm`` and ``block_diag``, differentiable to any order.

SciPy computes the values (imported on first use); the derivative rules are funcgrad ops:

* ``solve_triangular`` is the ``triangular_solve`` primitive (:mod:`funcgrad.ops.triangular`);
  ``cho_solve`` and ``lu_solve`` are two triangular solves each (plus a row permutation).
* ``lu_factor`` is the primitive ``lu`` (the packed factors) with the integer pivots as a
  non-differentiable sibling primitive sharing one LAPACK ``getrf`` call.  With
  ``A = P L U`` and ``X = L⁻¹ Pᵀ Ȧ U⁻¹``: ``L̇ = L tril(X, -1)``, ``U̇ = triu(X) U``; the
  VJP is its transpose, ``Ā = P L⁻ᵀ (tril(Lᵀ Ḡ, -1) + triu(Ḡ Uᵀ)) U⁻ᵀ``.
* ``expm``'s Fréchet derivative is the upper-right block of ``expm([[A, E], [0, A]])``
  (Higham), so both rules are ``expm`` again: ``ẋ = L(A, Ȧ)`` and ``Ā = L(Aᵀ, Ḡ)``, and
  every order of derivative is exact up to ``expm``'s own accuracy (each order doubles the
  matrix size, so the n-th derivative costs ``expm`` of a ``2ⁿ N`` matrix).
* ``block_diag`` is shape ops (zero padding and concatenation).

Examples:
    >>> import numpy as np
    >>> from funcgrad.scipy.linalg import cho_factor, cho_solve
    >>> cho_solve(cho_factor(np.array([[4.0, 2.0], [2.0, 5.0]])), np.array([6.0, 7.0]))
    array([1., 1.])
"""

import numpy as _np

from funcgrad._core.namespace import public_dir as _public_dir
from funcgrad._core.primitive import Primitive as _Primitive
from funcgrad.errors import ArgumentError as _ArgumentError, ShapeError as _ShapeError
from funcgrad.ops import elementwise as _ew
from funcgrad.ops import shape as _sh
from funcgrad.ops._array_like import asarray as _asarray
from funcgrad.ops._family import dtype_of as _dtype_of, shape_of as _shape_of
from funcgrad.ops.decompositions import _batched, _decomposed, _input, cholesky as _cholesky
from funcgrad.ops.linalg import matmul as _matmul
from funcgrad.ops.misc import astype as _astype
from funcgrad.ops.triangular import _TRANS, solve_triangular, triangular_solve as _triangular_solve

__all__ = ["block_diag", "cho_factor", "cho_solve", "expm", "lu_factor", "lu_solve",
           "solve_triangular"]
__dir__ = _public_dir(globals())


def _mT(x):
    return _sh.swapaxes(x, -1, -2)


# -- cho_factor, cho_solve ------------------------------------------------------------------
def cho_factor(a, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True):
    """``scipy.linalg.cho_factor``: ``(c, lower)`` for :func:`cho_solve`, ``a = L Lᴴ`` or ``Uᴴ U``.

    ``c`` is the Cholesky factor (``lower=False``: the upper one, read from ``a``'s upper
    triangle, as SciPy does).  Unlike SciPy, whose ``c`` keeps ``a``'s entries in the
    other triangle, that triangle is zero (as in JAX); :func:`cho_solve` never reads it.
    ``overwrite_a`` and ``check_finite`` are accepted and ignored.  A matrix that is not
    positive definite raises ``numpy.linalg.LinAlgError``.

    Examples:
        >>> c, lower = cho_factor(np.array([[4.0, 2.0], [2.0, 5.0]]), lower=True)
        >>> c
        array([[2., 0.],
               [1., 2.]])
    """
    del overwrite_a, check_finite
    return _cholesky(a, upper=not lower), bool(lower)


def cho_solve(c_and_lower, b, overwrite_b: bool = False, check_finite: bool = True):
    """``scipy.linalg.cho_solve``: ``x`` with ``a x = b`` from ``(c, lower) = cho_factor(a)``.

    Two triangular solves with ``c``, reading only its ``lower`` (or upper) triangle;
    differentiable in ``c`` and ``b``.  ``b`` is a vector (N,) or a stack (..., N, K).

    Examples:
        >>> c = cho_factor(np.array([[4.0, 2.0], [2.0, 5.0]]))
        >>> cho_solve(c, np.array([[6.0], [7.0]]))
        array([[1.],
               [1.]])
    """
    del overwrite_b, check_finite
    try:
        c, lower = c_and_lower
    except (TypeError, ValueError):
        raise _ArgumentError("cho_solve: expected (c, lower) as returned by cho_factor, got "
                            f"{type(c_and_lower).__name__}") from None
    lower = bool(lower)
    first, second = (0, "C") if lower else ("C", 0)  # a = L Lᴴ or Uᴴ U
    return solve_triangular(c, solve_triangular(c, b, first, lower), second, lower)


# -- lu_factor, lu_solve --------------------------------------------------------------------
def _getrf(a):
    from scipy.linalg import lu_factor as scipy_lu_factor

    return scipy_lu_factor(a, check_finite=False)


def _square(name: str, a):
    s = _shape_of(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise _ShapeError(f"{name}: expected a square matrix or a stack of them (..., N, N), "
                         f"got shape {s} (funcgrad's LU is for square matrices)")
    return s


_lu_p = _Primitive("lu", lambda a: _decomposed(_getrf, a)[0],
                 lambda a: (_square("lu_factor", a), _dtype_of(a)))
_lu_pivots_p = _Primitive("lu_pivots", lambda a: _decomposed(_getrf, a)[1],
                        lambda a: (_square("lu_factor", a)[:-1], _np.dtype(_np.int32)),
                        differentiable=False)


def _permutation_impl(piv, inverse: bool):
    """LAPACK's row interchanges as a permutation: ``a[..., perm, :] = L U`` (or its inverse)."""
    perm = _np.broadcast_to(_np.arange(piv.shape[-1]), piv.shape).copy()
    for i in range(piv.shape[-1]):
        j = piv[..., i:i + 1].astype(_np.intp)
        here, there = perm[..., i:i + 1].copy(), _np.take_along_axis(perm, j, -1)
        perm[..., i:i + 1] = there
        _np.put_along_axis(perm, j, here, -1)
    return _np.argsort(perm, axis=-1) if inverse else perm


_lu_permutation_p = _Primitive("lu_permutation", _permutation_impl,
                             lambda piv, inverse: (_shape_of(piv), _np.dtype(_np.intp)),
                             differentiable=False)
_lu_permutation_p.defbatch(lambda values, dims, inverse: (
    _lu_permutation_p.bind(_sh.moveaxis(values[0], dims[0], 0), inverse=inverse), 0))


def _row_picker(piv, dtype, inverse: bool = False):
    """The 0/1 matrices ``Q`` with ``Q @ m == m[..., perm, :]`` (``inverse``: ``Qᵀ``)."""
    perm = _lu_permutation_p.bind(piv, inverse=inverse)
    n = _shape_of(piv)[-1]
    return _astype(_ew.equal(_sh.expand_dims(perm, -1), _np.arange(n)), dtype)


def _lu_parts(lu, a):
    """``(L, U, Q)`` from the packed factors, ``Q a = L U``."""
    n = _shape_of(lu)[-1]
    low = _sh.tril(lu, -1) + _np.eye(n, dtype=_dtype_of(lu))
    return low, _sh.triu(lu), _row_picker(_lu_pivots_p.bind(a), _dtype_of(lu))


def _lu_jvp(t, ans, a):
    low, up, q = _lu_parts(ans, a)
    x = _triangular_solve(ans, _matmul(q, t), lower=True, unit_diagonal=True)   # L⁻¹ Q Ȧ
    x = _mT(_triangular_solve(ans, _mT(x), lower=False, trans=1))              # ... U⁻¹
    return _matmul(low, _sh.tril(x, -1)) + _matmul(_sh.triu(x), up)


def _lu_vjp(g, ans, a):
    low, up, q = _lu_parts(ans, a)
    xbar = _sh.tril(_matmul(_mT(low), g), -1) + _sh.triu(_matmul(g, _mT(up)))
    y = _triangular_solve(ans, xbar, lower=True, trans=1, unit_diagonal=True)  # L⁻ᵀ X̄
    y = _mT(_triangular_solve(ans, _mT(y), lower=False))                      # ... U⁻ᵀ
    return _matmul(_mT(q), y)


_lu_p.defjvp(_lu_jvp)
_lu_p.defvjp(_lu_vjp)
_batched(_lu_p)
_batched(_lu_pivots_p)


def lu_factor(a, overwrite_a: bool = False, check_finite: bool = True):
    """``scipy.linalg.lu_factor``: ``(lu, piv)`` with ``a = P L U`` packed in ``lu``.

    ``lu`` holds ``U`` and the strictly lower part of the unit-diagonal ``L``; ``piv`` holds
    LAPACK's (0-based) row interchanges, int32.  ``lu`` is differentiable (square,
    nonsingular ``a``; stacks ``(..., N, N)`` too); ``piv`` is piecewise constant.  An exactly
    singular ``a`` gives SciPy's ``LinAlgWarning`` and a ``U`` with a zero on its diagonal.
    ``overwrite_a`` and ``check_finite`` are accepted and ignored.

    Examples:
        >>> lu, piv = lu_factor(np.array([[1.0, 2.0], [3.0, 4.0]]))
        >>> piv
        array([1, 1], dtype=int32)
    """
    del overwrite_a, check_finite
    a = _input("lu_factor", a, square=True)
    _square("lu_factor", a)
    return _lu_p.bind(a), _lu_pivots_p.bind(a)


def lu_solve(lu_and_piv, b, trans: int | str = 0, overwrite_b: bool = False,
             check_finite: bool = True):
    """``scipy.linalg.lu_solve``: ``x`` with ``op(a) x = b`` from ``(lu, piv) = lu_factor(a)``.

    ``trans``: 0/'N' (``a``), 1/'T' (``aᵀ``), 2/'C' (``aᴴ``).  Differentiable in ``lu`` and
    ``b``; ``b`` is a vector (N,) or a stack (..., N, K).

    Examples:
        >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> lu_solve(lu_factor(a), np.array([5.0, 11.0]))
        array([1., 2.])
    """
    del overwrite_b, check_finite
    try:
        lu, piv = lu_and_piv
    except (TypeError, ValueError):
        raise _ArgumentError("lu_solve: expected (lu, piv) as returned by lu_factor, got "
                            f"{type(lu_and_piv).__name__}") from None
    if trans not in _TRANS or isinstance(trans, bool):
        raise _ArgumentError(f"lu_solve: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")
    lu, piv = _asarray(lu), _asarray(piv)
    n = _square("lu_solve", lu)[-1]
    if _shape_of(piv)[-1:] != (n,):
        raise _ShapeError(f"lu_solve: pivots of shape {_shape_of(piv)} do not fit lu of shape "
                         f"{_shape_of(lu)}")
    b = _asarray(b)
    vector = len(_shape_of(b)) == 1
    if vector:
        b = _sh.expand_dims(b, -1)
    dt = _np.result_type(_dtype_of(lu), _dtype_of(b))
    dt = dt if dt.kind in "fc" else _np.dtype(_np.float64)
    b = _astype(b, dt)
    if _TRANS[trans] == 0:
        y = _matmul(_row_picker(piv, dt), b)
        x = solve_triangular(lu, solve_triangular(lu, y, 0, True, True), 0, False)
    else:
        z = solve_triangular(lu, b, trans, False)
        x = _matmul(_row_picker(piv, dt, inverse=True),
                   solve_triangular(lu, z, trans, True, True))
    return _sh.squeeze(x, -1) if vector else x


# -- expm -------------------------------------------------------------------------------------
def _expm_impl(a):
    from scipy.linalg import expm as scipy_expm

    return _np.asarray(scipy_expm(a), dtype=a.dtype)


_expm_p = _Primitive("expm", _expm_impl, lambda a: (_square("expm", a), _dtype_of(a)))


def _frechet(a, e):
    """``L(a, e)``, the derivative of ``expm`` at ``a`` along ``e``: the upper-right block of
    ``expm([[a, e], [0, a]])``."""
    n = _shape_of(a)[-1]
    zeros = _np.zeros(_shape_of(a), _dtype_of(a))
    big = _sh.concatenate([_sh.concatenate([a, e], -1), _sh.concatenate([zeros, a], -1)], -2)
    return _expm_p.bind(big)[..., :n, n:]


_expm_p.defjvp(lambda t, ans, a: _frechet(a, t))
_expm_p.defvjp(lambda g, ans, a: _frechet(_mT(a), g))
_batched(_expm_p)


def expm(A):
    """``scipy.linalg.expm``: the matrix exponential of ``A`` (..., N, N), by SciPy's Padé
    approximation with scaling and squaring.

    Its derivatives are Fréchet derivatives computed with ``expm`` itself (see the module
    docstring), exact to any order.

    Examples:
        >>> expm(np.zeros((2, 2)))
        array([[1., 0.],
               [0., 1.]])
    """
    return _expm_p.bind(_input("expm", A, square=True))


# -- block_diag ---------------------------------------------------------------------------------
def block_diag(*arrs):
    """``scipy.linalg.block_diag``: the arrays on the diagonal of a 2-D array, zeros elsewhere.

    0-d and 1-D arguments count as 1 x 1 and 1 x N matrices (an empty one as 1 x 0);
    differentiable in every argument.

    Examples:
        >>> block_diag(np.array([[1.0]]), np.array([2.0, 3.0]))
        array([[1., 0., 0.],
               [0., 2., 3.]])
    """
    mats = [_asarray(a) for a in arrs]
    if not mats:
        return _np.empty((1, 0))
    big = [i for i, m in enumerate(mats) if len(_shape_of(m)) > 2]
    if big:
        raise _ShapeError(f"block_diag: arguments in positions {big} have more than 2 "
                         f"dimensions (shapes {[_shape_of(mats[i]) for i in big]})")
    mats = [m if len(_shape_of(m)) == 2 else _sh.reshape(m, (1, -1)) for m in mats]
    dt = _np.result_type(*[_dtype_of(m) for m in mats])
    widths = [_shape_of(m)[1] for m in mats]
    total, rows, start = sum(widths), [], 0
    for m, w in zip(mats, widths):
        r = _shape_of(m)[0]
        rows.append(_sh.concatenate([_np.zeros((r, start), dt), _astype(m, dt),
                                    _np.zeros((r, total - start - w), dt)], axis=1))
        start += w
    return _sh.concatenate(rows, axis=0)
