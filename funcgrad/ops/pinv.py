"""The Moore-Penrose pseudo-inverse: the ``pinv`` primitive behind ``numpy.linalg.pinv``
and the derivative rules of ``lstsq``.

``pinv(a, rcond)`` is ``A⁺`` for stacks of ``(M, N)`` matrices, singular values at or below
``rcond * s_max`` dropped (NumPy's values).  Its rules are the derivative of ``A⁺`` for
``A`` of locally constant rank (Golub and Pereyra, 1973), with ``P = A⁺``::

    Ṗ = -P Ȧ P + P Pᴴ Ȧᴴ (I - A P) + (I - P A) Ȧᴴ Pᴴ P
    Ā = -Pᵀ Ḡ Pᵀ + (I - conj(A P)) Ḡᴴ conj(P) Pᵀ + Pᵀ conj(P) Ḡᴴ (I - conj(P A))

(the VJP is the JVP's transpose without conjugation, ``docs/complex.md``).  They need no
singular-value gap, so they are finite at repeated singular values, unlike a derivative
taken through the SVD; where the rank changes (a singular value crossing the cutoff)
the pseudo-inverse jumps and has no derivative.
"""

from __future__ import annotations

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.errors import ArgumentError
from funcgrad.ops._decomposition import (
    _H,
    _batched,
    _conj,
    _hermitian_from,
    _input,
    _linalg_dtype,
    _matrix_shape,
    _mT,
)
from funcgrad.ops._family import dtype_of, shape_of
from funcgrad.ops.linalg import matmul


def _aval(a, rcond):
    s = _matrix_shape("pinv", a)
    return s[:-2] + (s[-1], s[-2]), _linalg_dtype(dtype_of(a))


pinv_p = Primitive("pinv", lambda a, rcond: np.linalg.pinv(a, rcond=rcond), _aval)


def _jvp(t, p, a, rcond):
    """Ṗ = -P Ȧ P + P Pᴴ Ȧᴴ (I - A P) + (I - P A) Ȧᴴ Pᴴ P."""
    th = _H(t)
    ph = _H(p)
    return (-matmul(p, matmul(t, p))
            + matmul(matmul(p, ph), th - matmul(matmul(th, a), p))
            + matmul(th - matmul(p, matmul(a, th)), matmul(ph, p)))


def _vjp(g, p, a, rcond):
    """Ā = -Pᵀ Ḡ Pᵀ + (Ḡᴴ - conj(A) conj(P) Ḡᴴ) conj(P) Pᵀ
    + Pᵀ conj(P) (Ḡᴴ - Ḡᴴ conj(P) conj(A))."""
    gh, pc, ac, pt = _H(g), _conj(p), _conj(a), _mT(p)
    return (-matmul(pt, matmul(g, pt))
            + matmul(gh - matmul(ac, matmul(pc, gh)), matmul(pc, pt))
            + matmul(matmul(pt, pc), gh - matmul(matmul(gh, pc), ac)))


pinv_p.defjvp(_jvp)
pinv_p.defvjp(_vjp)
_batched(pinv_p)


class _NoValue:
    """NumPy's sentinel: ``rtol`` not given (``rtol=None`` means something else)."""

    def __repr__(self) -> str:
        return "<no value>"


_NO_VALUE = _NoValue()


def _scalar(name: str, what: str, value) -> float:
    v = np.asarray(value)
    if v.ndim != 0 or v.dtype.kind not in "biuf":
        raise ArgumentError(f"{name}: {what} must be a real number (funcgrad does not take "
                            f"one per stacked matrix), got {value!r}")
    return float(v)


def pinv(a, rcond=None, hermitian: bool = False, *, rtol=_NO_VALUE):
    """``numpy.linalg.pinv``: the Moore-Penrose pseudo-inverse of a matrix (or a stack of them).

    Singular values at or below ``rcond * s_max`` count as zero; ``rcond`` defaults to
    NumPy's ``1e-15``, and ``rtol`` (NumPy 2's name; ``rtol=None`` means ``max(M, N) * eps``)
    may be given instead.  ``hermitian=True`` reads the lower triangle only, as NumPy does.
    The derivative is the pseudo-inverse's (finite at repeated singular values; none
    where the rank changes).  ``rcond`` is one number for the whole stack.

    Examples:
        >>> pinv(np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]))
        array([[1. , 0. , 0. ],
               [0. , 0.5, 0. ]])
    """
    a = _input("pinv", a)
    if rcond is None:
        if rtol is _NO_VALUE:
            rcond = 1e-15
        elif rtol is None:
            rcond = max(shape_of(a)[-2:]) * float(np.finfo(dtype_of(a)).eps)
        else:
            rcond = _scalar("pinv", "rtol", rtol)
    elif rtol is not _NO_VALUE:
        raise ArgumentError("pinv: `rtol` and `rcond` can't be both set.")
    rcond = _scalar("pinv", "rcond", rcond)
    if hermitian:
        a = _hermitian_from("pinv", a, "L")
    return pinv_p.bind(a, rcond=rcond)
