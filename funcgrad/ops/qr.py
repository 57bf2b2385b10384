"""``numpy.linalg.qr``: the primitives ``qr_q`` and ``qr_r`` (one LAPACK call, shared).

The rules are JAX's (``qr_jvp_rule``), complex inputs included; the VJPs are their
transposes without conjugation (``docs/complex.md``).  LAPACK's Householder QR makes the
diagonal of ``R`` real, which is the gauge JAX's ``i Im(diag C)`` term keeps, so the
derivative of complex ``Q`` and ``R`` is the derivative of NumPy's output.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.errors import ArgumentError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import shape as sh
from funcgrad.ops._decomposition import (
    _decomposed,
    _batched,
    _input,
    _linalg_dtype,
    _matrix_shape,
    _H,
    _conj,
    _mT,
    _solve_right,
)
from funcgrad.ops._family import dtype_of, shape_of
from funcgrad.ops.linalg import matmul
from funcgrad.ops.triangular import triangular_solve


def _qr_aval(which):
    def aval(a, mode):
        s = _matrix_shape("qr", a)
        m, n = s[-2:]
        k = m if mode == "complete" else min(m, n)
        return s[:-2] + ((m, k) if which == "q" else (k, n)), _linalg_dtype(dtype_of(a))
    return aval


qr_q_p = Primitive("qr_q", lambda a, mode: _decomposed(np.linalg.qr, a, mode=mode)[0],
                   _qr_aval("q"))
qr_r_p = Primitive("qr_r", lambda a, mode: _decomposed(np.linalg.qr, a, mode=mode)[1],
                   _qr_aval("r"))


def _qr_parts(a, mode: str):
    m, n = shape_of(a)[-2:]
    if mode == "complete" and m > n:
        raise ArgumentError(
            f"qr: no derivative of mode='complete' for a tall matrix (shape {shape_of(a)}): "
            "the extra columns of Q are any orthonormal completion, not a function of the "
            "input; use mode='reduced'")
    return qr_q_p.bind(a, mode="reduced"), qr_r_p.bind(a, mode="reduced")


def _imaginary_diagonal(x):
    """``i Im(diag(x))`` as a diagonal matrix: JAX's correction of ``Ω`` for complex input."""
    return np.eye(shape_of(x)[-1]) * (1j * ew.imag(x))


def _qr_square_vjp(qbar, rbar, q, r):
    """Ā of A = QR with R square (m ≥ n), the transpose of the JVP below:
    (Q̄ + conj(Q) (tril(N - Nᴴ, -1) - N + i Im(diag N))) R⁻ᵀ, N = QᵀQ̄ - R̄Rᵀ.

    ``None`` stands for a zero cotangent.
    """
    nmat = None if qbar is None else matmul(_mT(q), qbar)
    if rbar is not None:
        rrt = matmul(rbar, _mT(r))
        nmat = -rrt if nmat is None else nmat - rrt
    cbar = sh.tril(nmat - _H(nmat), -1) - nmat
    if dtype_of(cbar).kind == "c":
        cbar = cbar + _imaginary_diagonal(nmat)
    z = matmul(_conj(q), cbar)
    if qbar is not None:
        z = z + qbar
    return _mT(triangular_solve(r, _mT(z), lower=False))


def _qr_square_jvp(t, q, r):
    """(Q̇, Ṙ) for R square (JAX's ``_thin_qr_jvp``): C = Qᴴ Ȧ R⁻¹, Ω = tril(C, -1) -
    tril(C, -1)ᴴ + i Im(diag C), Q̇ = Q(Ω - C) + Ȧ R⁻¹, Ṙ = (C - Ω) R."""
    z = _solve_right(t, r)
    c = matmul(_H(q), z)
    low = sh.tril(c, -1)
    omega = low - _H(low)
    if dtype_of(c).kind == "c":
        omega = omega + _imaginary_diagonal(c)
    return matmul(q, omega - c) + z, matmul(c - omega, r)


def _qr_vjp(qbar, rbar, a, mode):
    """A wide A = [X | Y] (m < n) has R = [R_X | Qᴴ Y] with Q R_X = X: the square rule on X
    with Q̄ + conj(Y) R̄_Yᴴ, and Ȳ = conj(Q) R̄_Y."""
    q, r = _qr_parts(a, mode)
    m, n = shape_of(a)[-2:]
    if m >= n:
        return _qr_square_vjp(qbar, rbar, q, r)
    if rbar is None:
        xbar = _qr_square_vjp(qbar, None, q, r[..., :, :m])
        return sh.concatenate([xbar, np.zeros(shape_of(a)[:-1] + (n - m,), dtype_of(xbar))], -1)
    rbar_x, rbar_y = rbar[..., :, :m], rbar[..., :, m:]
    from_r = _conj(matmul(a[..., :, m:], _mT(rbar_y)))
    xbar = _qr_square_vjp(from_r if qbar is None else qbar + from_r, rbar_x, q, r[..., :, :m])
    return sh.concatenate([xbar, matmul(_conj(q), rbar_y)], axis=-1)


def _qr_jvp(t, a, mode):
    q, r = _qr_parts(a, mode)
    m, n = shape_of(a)[-2:]
    if m >= n:
        return _qr_square_jvp(t, q, r)
    dq, drx = _qr_square_jvp(t[..., :, :m], q, r[..., :, :m])
    dry = matmul(_H(dq), a[..., :, m:]) + matmul(_H(q), t[..., :, m:])
    return dq, sh.concatenate([drx, dry], axis=-1)


qr_q_p.defvjp(lambda g, ans, a, mode: _qr_vjp(g, None, a, mode))
qr_r_p.defvjp(lambda g, ans, a, mode: _qr_vjp(None, g, a, mode))
qr_q_p.defjvp(lambda t, ans, a, mode: _qr_jvp(t, a, mode)[0])
qr_r_p.defjvp(lambda t, ans, a, mode: _qr_jvp(t, a, mode)[1])
_batched(qr_q_p)
_batched(qr_r_p)


class QRResult(NamedTuple):
    """``(Q, R)``, like NumPy 2's ``QRResult``."""

    Q: Any
    R: Any


def qr(a, mode: str = "reduced"):
    """``numpy.linalg.qr``: ``a = Q @ R`` with ``mode`` 'reduced', 'complete' or 'r' (``R`` only).

    Differentiable for 'reduced' and 'r' (any shape, full column or row rank) and for
    'complete' when ``M <= N``.

    Examples:
        >>> q, r = qr(np.array([[3.0, 0.0], [4.0, 5.0]]))
        >>> np.round(np.abs(r), 6)
        array([[5., 4.],
               [0., 3.]])
    """
    if mode not in ("reduced", "complete", "r"):
        raise ArgumentError(f"qr: mode must be 'reduced', 'complete' or 'r', got {mode!r} "
                            "('raw' is not supported)")
    a = _input("qr", a)
    m, n = shape_of(a)[-2:]
    if mode == "r":
        return qr_r_p.bind(a, mode="reduced")
    mode = "complete" if mode == "complete" and m > n else "reduced"
    return QRResult(qr_q_p.bind(a, mode=mode), qr_r_p.bind(a, mode=mode))
