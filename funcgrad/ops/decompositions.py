"""Matrix decompositions: ``cholesky``, ``qr``, ``svd``, ``svdvals``, ``eigh``, ``eigvalsh``.

A primitive has one output, and a decomposition has several, so each output is its own
primitive (``eigh_values`` and ``eigh_vectors``; ``svd_values``, ``svd_u`` and ``svd_vh``;
``qr_q`` and ``qr_r``; ``cholesky``), and the sibling primitives share one LAPACK call
through :func:`_decomposed`, a one-entry memo per thread keyed by the input's *values*:
binding ``eigh_vectors`` right after ``eigh_values`` on the same matrix costs no second
decomposition, and a mutated input is never served a stale result.  Each output's VJP
and JVP rule is that output's share of the decomposition's derivative (the shares add
up to the whole); a rule needing a sibling output binds the sibling primitive, which
the memo answers, and everything is written in funcgrad ops, so it differentiates again.

``eigh``, ``eigvalsh`` and ``cholesky`` read one triangle of their input, as NumPy does:
the gradient with respect to the other triangle is 0 (what finite differences of NumPy's
function give).  ``eigh`` and ``eigvalsh`` build the symmetric matrix from that triangle with
differentiable shape ops, so their primitives see symmetric input only; the ``cholesky``
primitive reads the lower triangle itself, as LAPACK does, and its VJP (one primitive,
:mod:`funcgrad.ops.cholesky_grad`) is the cotangent of that triangle.

Derivatives follow JAX's rules (``jax/_src/lax/linalg.py``) for real inputs.  At
degenerate points: eigenvalue and singular-value functions have finite derivatives
(their rules never divide by a gap); the rules of eigenvectors and singular vectors
divide by eigenvalue (squared singular value) gaps, masked on the diagonal only, so at
an exact tie their derivatives are NaN or inf, as in JAX: they do not exist there.
Complex inputs are decomposed (NumPy's values) but not differentiated: their rules
raise :class:`~funcgrad.errors.DTypeError`.
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.errors import ArgumentError, DTypeError, ShapeError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import reductions as red
from funcgrad.ops import shape as sh
from funcgrad.ops._array_like import asarray
from funcgrad.ops._family import dtype_of, shape_of
from funcgrad.ops.cholesky_grad import cholesky_grad, mirror_lower, phi
from funcgrad.ops.linalg import matmul
from funcgrad.ops.misc import astype
from funcgrad.ops.triangular import triangle_mask, triangular_solve


# -- helpers -----------------------------------------------------------------------------
def _mT(x):
    return sh.swapaxes(x, -1, -2)


def _row(v):
    """A batch of vectors (..., k) as rows (..., 1, k): ``m * _row(v)`` scales m's columns."""
    return sh.expand_dims(v, -2)


def _col(v):
    """A batch of vectors (..., k) as columns (..., k, 1): ``m * _col(v)`` scales m's rows."""
    return sh.expand_dims(v, -1)


def _diag(m):
    """The main diagonals of a stack of matrices, (..., k)."""
    return sh.diagonal(m, 0, -2, -1)


def _column_sums(m):
    """``diag(Uᵀ M)`` written as the column sums of ``U * M``, (..., k)."""
    return red.sum(m, axis=-2)


def _solve_right(x, r):
    """``x r⁻¹`` for a stack of square upper-triangular ``r``."""
    return _mT(triangular_solve(r, _mT(x), lower=False, trans=1))


def _real_dtype(dt) -> np.dtype:
    """NumPy's linalg dtype for eigenvalues and singular values: real, float64 for integers."""
    dt = np.dtype(dt)
    if dt.kind not in "fc":
        return np.dtype(np.float64)
    return np.finfo(dt).dtype


def _linalg_dtype(dt) -> np.dtype:
    dt = np.dtype(dt)
    return dt if dt.kind in "fc" else np.dtype(np.float64)


def _matrix_shape(name: str, a, square: bool = False) -> tuple[int, ...]:
    s = shape_of(a)
    if len(s) < 2 or (square and s[-1] != s[-2]):
        what = "a square matrix or a stack of them (..., M, M)" if square else \
            "a matrix or a stack of them (..., M, N)"
        raise ShapeError(f"{name}: expected {what}, got shape {s}")
    return s


def _real_only(name: str, a) -> None:
    if dtype_of(a).kind == "c":
        raise DTypeError(f"{name}: derivatives of complex decompositions are not supported "
                         f"(got {dtype_of(a)}); the values are NumPy's, only real inputs "
                         "differentiate")


class _Memo(threading.local):
    entry: tuple | None = None


_memo = _Memo()


def _memoized(fn, a, **kw) -> tuple | None:
    """Fresh copies of ``fn(a, **kw)`` if the memo holds them for an input equal to ``a``."""
    e, a = _memo.entry, np.asarray(a)
    if (e is not None and e[0] == (fn, tuple(sorted(kw.items()))) and e[1].shape == a.shape
            and e[1].dtype == a.dtype and np.array_equal(e[1], a)):
        return tuple(np.array(o, copy=True) for o in e[2])
    return None


def _decomposed(fn, a, **kw) -> tuple:
    """``fn(a, **kw)`` as a tuple of fresh arrays; only the last call on each thread is
    kept (a copy of its input and its outputs)."""
    hit = _memoized(fn, a, **kw)
    if hit is None:
        a = np.asarray(a)
        outs = tuple(fn(a, **kw))
        _memo.entry = ((fn, tuple(sorted(kw.items()))), a.copy(), outs)
        hit = tuple(np.array(o, copy=True) for o in outs)
    return hit


def _batched(prim: Primitive) -> None:
    """Batch a primitive on stacks of matrices: a batch axis among the stack axes stays,
    one among the matrix axes moves to the front; the output keeps the stack axes."""
    def rule(values, dims, **params):
        (a,), (d,) = values, dims
        if d >= len(shape_of(a)) - 2:
            a, d = sh.moveaxis(a, d, 0), 0
        return prim.bind(a, **params), d

    prim.defbatch(rule)


def _gaps_inverse(w):
    """``F[..., i, j] = 1 / (w_j - w_i)`` off the diagonal and 0 on it (JAX's masking).

    An exact tie off the diagonal gives inf: the derivative does not exist there.
    """
    n = shape_of(w)[-1]
    eye = np.eye(n, dtype=dtype_of(w))
    return 1.0 / (eye + (_row(w) - _col(w))) - eye


def _inverse_or_zero(s):
    """``1 / s`` where ``s != 0`` and 0 where it is 0 (JAX's convention for zero singular values)."""
    zero = ew.equal(s, 0)
    return ew.where(zero, 0.0, 1.0 / ew.where(zero, 1.0, s))


# -- cholesky ----------------------------------------------------------------------------------
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


# The primitive reads one triangle of its input, as LAPACK does: the lower one for real
# input (the public function transposes for ``upper=True``); ``upper`` is only ever True
# for complex input, which has no derivative.
cholesky_p = Primitive("cholesky", lambda a, upper: np.linalg.cholesky(a, upper=upper),
                       _cholesky_aval)
cholesky_p.defvjp(_cholesky_vjp)
cholesky_p.defjvp(_cholesky_jvp)
_batched(cholesky_p)


# -- eigh ----------------------------------------------------------------------------------------
def _eigh_values_impl(a):
    hit = _memoized(np.linalg.eigh, a)
    return hit[0] if hit is not None else np.linalg.eigvalsh(a)


def _eigh_values_aval(a):
    return _matrix_shape("eigvalsh", a, square=True)[:-1], _real_dtype(dtype_of(a))


def _eigh_vectors_aval(a):
    return _matrix_shape("eigh", a, square=True), _linalg_dtype(dtype_of(a))


eigh_values_p = Primitive("eigh_values", _eigh_values_impl, _eigh_values_aval)
eigh_vectors_p = Primitive("eigh_vectors", lambda a: _decomposed(np.linalg.eigh, a)[1],
                           _eigh_vectors_aval)


def _eigh_values_vjp(g, ans, a):
    """Ā = V diag(w̄) Vᵀ: no eigenvalue gap, so finite at repeated eigenvalues."""
    _real_only("eigvalsh", a)
    v = eigh_vectors_p.bind(a)
    return matmul(v * _row(g), _mT(v))


def _eigh_values_jvp(t, ans, a):
    """ẇ = diag(Vᵀ Ȧ V)."""
    _real_only("eigvalsh", a)
    v = eigh_vectors_p.bind(a)
    return _column_sums(v * matmul(t, v))


def _eigh_vectors_vjp(g, ans, a):
    """Ā = sym(V (F ∘ Vᵀ V̄) Vᵀ), F = 1 / (w_j - w_i) off the diagonal."""
    _real_only("eigh", a)
    f = _gaps_inverse(eigh_values_p.bind(a))
    abar = matmul(ans, matmul(f * matmul(_mT(ans), g), _mT(ans)))
    return 0.5 * (abar + _mT(abar))


def _eigh_vectors_jvp(t, ans, a):
    """V̇ = V (F ∘ Vᵀ Ȧ V)."""
    _real_only("eigh", a)
    f = _gaps_inverse(eigh_values_p.bind(a))
    return matmul(ans, f * matmul(_mT(ans), matmul(t, ans)))


eigh_values_p.defvjp(_eigh_values_vjp)
eigh_values_p.defjvp(_eigh_values_jvp)
eigh_vectors_p.defvjp(_eigh_vectors_vjp)
eigh_vectors_p.defjvp(_eigh_vectors_jvp)
_batched(eigh_values_p)
_batched(eigh_vectors_p)


# -- svd -------------------------------------------------------------------------------------------
def _svd_values_impl(a):
    hit = _memoized(np.linalg.svd, a, full_matrices=False)
    return hit[1] if hit is not None else np.linalg.svd(a, compute_uv=False)


def _svd_values_aval(a):
    s = _matrix_shape("svd", a)
    return s[:-2] + (min(s[-2:]),), _real_dtype(dtype_of(a))


def _svd_u_aval(a, full_matrices):
    s = _matrix_shape("svd", a)
    m, n = s[-2:]
    return s[:-2] + (m, m if full_matrices else min(m, n)), _linalg_dtype(dtype_of(a))


def _svd_vh_aval(a, full_matrices):
    s = _matrix_shape("svd", a)
    m, n = s[-2:]
    return s[:-2] + (n if full_matrices else min(m, n), n), _linalg_dtype(dtype_of(a))


svd_values_p = Primitive("svd_values", _svd_values_impl, _svd_values_aval)
svd_u_p = Primitive("svd_u", lambda a, full_matrices: _decomposed(
    np.linalg.svd, a, full_matrices=full_matrices)[0], _svd_u_aval)
svd_vh_p = Primitive("svd_vh", lambda a, full_matrices: _decomposed(
    np.linalg.svd, a, full_matrices=full_matrices)[2], _svd_vh_aval)


def _svd_parts(a, full_matrices: bool):
    """``(u, s, vh)`` of the reduced SVD, for the rules; full matrices only when square."""
    _real_only("svd", a)
    m, n = shape_of(a)[-2:]
    if full_matrices and m != n:
        raise ArgumentError(
            f"svd: no derivative of the full_matrices=True factors of a non-square matrix "
            f"(shape {shape_of(a)}): their extra columns are any orthonormal completion, "
            "not a function of the input; use full_matrices=False")
    return svd_u_p.bind(a, full_matrices=False), svd_values_p.bind(a), \
        svd_vh_p.bind(a, full_matrices=False)


def _svd_values_vjp(g, ans, a):
    """Ā = U diag(s̄) Vh: no singular-value gap, so finite at repeated singular values."""
    u, _, vh = _svd_parts(a, False)
    return matmul(u * _row(g), vh)


def _svd_values_jvp(t, ans, a):
    """ṡ = diag(Uᵀ Ȧ V)."""
    u, _, vh = _svd_parts(a, False)
    return _column_sums(u * matmul(t, _mT(vh)))


def _svd_u_vjp(g, ans, a, full_matrices):
    """U's share: Ā = U ((J + Jᵀ) S) Vh + (I - U Uᵀ) Ū S⁻¹ Vh, J = F ∘ Uᵀ Ū."""
    u, s, vh = _svd_parts(a, full_matrices)
    m, n = shape_of(a)[-2:]
    utg = matmul(_mT(u), g)
    j = _gaps_inverse(s * s) * utg
    core = (j + _mT(j)) * _row(s)
    out = matmul(matmul(u, core), vh)
    if m > n:
        proj = g - matmul(u, utg)
        out = out + matmul(proj * _row(_inverse_or_zero(s)), vh)
    return out


def _svd_vh_vjp(g, ans, a, full_matrices):
    """Vh's share: Ā = U (S (K + Kᵀ)) Vh + U S⁻¹ V̄ᵀ (I - V Vᵀ), K = F ∘ Vᵀ V̄, V̄ = Vh̄ᵀ."""
    u, s, vh = _svd_parts(a, full_matrices)
    m, n = shape_of(a)[-2:]
    vbar = _mT(g)
    vtg = matmul(vh, vbar)
    k = _gaps_inverse(s * s) * vtg
    core = _col(s) * (k + _mT(k))
    out = matmul(matmul(u, core), vh)
    if n > m:
        proj = g - matmul(_mT(vtg), vh)  # V̄ᵀ (I - V Vᵀ) = g - (Vᵀ V̄)ᵀ Vh
        out = out + matmul(u * _row(_inverse_or_zero(s)), proj)
    return out


def _svd_ds(t, u, vh):
    return matmul(_mT(u), matmul(t, _mT(vh)))


def _svd_u_jvp(t, ans, a, full_matrices):
    """U̇ = U (F ∘ (dS S + S dSᵀ)) + (I - U Uᵀ) Ȧ V S⁻¹, dS = Uᵀ Ȧ V."""
    u, s, vh = _svd_parts(a, full_matrices)
    m, n = shape_of(a)[-2:]
    ds = _svd_ds(t, u, vh)
    out = matmul(u, _gaps_inverse(s * s) * (ds * _row(s) + _col(s) * _mT(ds)))
    if m > n:
        tv = matmul(t, _mT(vh))
        out = out + (tv - matmul(u, matmul(_mT(u), tv))) * _row(_inverse_or_zero(s))
    return out


def _svd_vh_jvp(t, ans, a, full_matrices):
    """V̇ = V (F ∘ (S dS + dSᵀ S)) + (I - V Vᵀ) Ȧᵀ U S⁻¹; the tangent of Vh is V̇ᵀ."""
    u, s, vh = _svd_parts(a, full_matrices)
    m, n = shape_of(a)[-2:]
    ds = _svd_ds(t, u, vh)
    out = matmul(_mT(vh), _gaps_inverse(s * s) * (_col(s) * ds + _mT(ds) * _row(s)))
    if n > m:
        tu = matmul(_mT(t), u)
        out = out + (tu - matmul(_mT(vh), matmul(vh, tu))) * _row(_inverse_or_zero(s))
    return _mT(out)


svd_values_p.defvjp(_svd_values_vjp)
svd_values_p.defjvp(_svd_values_jvp)
svd_u_p.defvjp(_svd_u_vjp)
svd_u_p.defjvp(_svd_u_jvp)
svd_vh_p.defvjp(_svd_vh_vjp)
svd_vh_p.defjvp(_svd_vh_jvp)
for _p in (svd_values_p, svd_u_p, svd_vh_p):
    _batched(_p)


# -- qr --------------------------------------------------------------------------------------------
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
    _real_only("qr", a)
    m, n = shape_of(a)[-2:]
    if mode == "complete" and m > n:
        raise ArgumentError(
            f"qr: no derivative of mode='complete' for a tall matrix (shape {shape_of(a)}): "
            "the extra columns of Q are any orthonormal completion, not a function of the "
            "input; use mode='reduced'")
    return qr_q_p.bind(a, mode="reduced"), qr_r_p.bind(a, mode="reduced")


def _qr_square_vjp(qbar, rbar, q, r):
    """Ā of A = QR with R square (m ≥ n): (Q̄ + Q (tril(N - Nᵀ, -1) - N)) R⁻ᵀ, N = QᵀQ̄ - R̄Rᵀ.

    ``None`` stands for a zero cotangent.
    """
    nmat = None if qbar is None else matmul(_mT(q), qbar)
    if rbar is not None:
        rrt = matmul(rbar, _mT(r))
        nmat = -rrt if nmat is None else nmat - rrt
    z = matmul(q, sh.tril(nmat - _mT(nmat), -1) - nmat)
    if qbar is not None:
        z = z + qbar
    return _mT(triangular_solve(r, _mT(z), lower=False))


def _qr_square_jvp(t, q, r):
    """(Q̇, Ṙ) for R square: C = Qᵀ Ȧ R⁻¹, Ω = tril(C, -1) - tril(C, -1)ᵀ, Q̇ = Q(Ω - C) + Ȧ R⁻¹,
    Ṙ = (C - Ω) R."""
    z = _solve_right(t, r)
    c = matmul(_mT(q), z)
    low = sh.tril(c, -1)
    omega = low - _mT(low)
    return matmul(q, omega - c) + z, matmul(c - omega, r)


def _qr_vjp(qbar, rbar, a, mode):
    """A wide A = [X | Y] (m < n) has R = [R_X | Qᵀ Y] with Q R_X = X: the square rule on X
    with Q̄ + Y R̄_Yᵀ, and Ȳ = Q R̄_Y."""
    q, r = _qr_parts(a, mode)
    m, n = shape_of(a)[-2:]
    if m >= n:
        return _qr_square_vjp(qbar, rbar, q, r)
    if rbar is None:
        xbar = _qr_square_vjp(qbar, None, q, r[..., :, :m])
        return sh.concatenate([xbar, np.zeros(shape_of(a)[:-1] + (n - m,), dtype_of(xbar))], -1)
    rbar_x, rbar_y = rbar[..., :, :m], rbar[..., :, m:]
    from_r = matmul(a[..., :, m:], _mT(rbar_y))
    xbar = _qr_square_vjp(from_r if qbar is None else qbar + from_r, rbar_x, q, r[..., :, :m])
    return sh.concatenate([xbar, matmul(q, rbar_y)], axis=-1)


def _qr_jvp(t, a, mode):
    q, r = _qr_parts(a, mode)
    m, n = shape_of(a)[-2:]
    if m >= n:
        return _qr_square_jvp(t, q, r)
    dq, drx = _qr_square_jvp(t[..., :, :m], q, r[..., :, :m])
    dry = matmul(_mT(dq), a[..., :, m:]) + matmul(_mT(q), t[..., :, m:])
    return dq, sh.concatenate([drx, dry], axis=-1)


qr_q_p.defvjp(lambda g, ans, a, mode: _qr_vjp(g, None, a, mode))
qr_r_p.defvjp(lambda g, ans, a, mode: _qr_vjp(None, g, a, mode))
qr_q_p.defjvp(lambda t, ans, a, mode: _qr_jvp(t, a, mode)[0])
qr_r_p.defjvp(lambda t, ans, a, mode: _qr_jvp(t, a, mode)[1])
_batched(qr_q_p)
_batched(qr_r_p)


# -- the public functions ---------------------------------------------------------------------
class EighResult(NamedTuple):
    """``(eigenvalues, eigenvectors)``, like NumPy 2's ``EighResult``."""

    eigenvalues: Any
    eigenvectors: Any


class QRResult(NamedTuple):
    """``(Q, R)``, like NumPy 2's ``QRResult``."""

    Q: Any
    R: Any


class SVDResult(NamedTuple):
    """``(U, S, Vh)``, like NumPy 2's ``SVDResult``."""

    U: Any
    S: Any
    Vh: Any


def _input(name: str, a, square: bool = False):
    """``a`` as a tracer or array of an inexact dtype (integers become float64, as in NumPy)."""
    a = asarray(a)
    _matrix_shape(name, a, square)
    if dtype_of(a).kind not in "fc":
        if dtype_of(a).kind not in "biu":
            raise DTypeError(f"{name}: expected a numeric matrix, got dtype {dtype_of(a)}")
        a = astype(a, np.float64)
    return a


def _hermitian_from(name: str, a, uplo: str):
    """The symmetric matrix NumPy's LAPACK call sees: ``uplo``'s triangle mirrored."""
    if uplo not in ("L", "U"):
        raise ArgumentError(f"{name}: UPLO must be 'L' or 'U', got {uplo!r}")
    if dtype_of(a).kind == "c":  # values only (no derivative): NumPy reads the triangle itself
        return a
    return ew.where(triangle_mask(shape_of(a)[-1], uplo == "L"), a, _mT(a))


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


def eigh(a, UPLO: str = "L") -> EighResult:
    """``numpy.linalg.eigh``: eigenvalues (ascending) and eigenvectors of a symmetric matrix.

    Reads the ``UPLO`` triangle only.  Derivatives of the eigenvectors divide by
    eigenvalue gaps: at exactly repeated eigenvalues they are NaN or inf, as in JAX.

    Examples:
        >>> w, v = eigh(np.diag([2.0, 1.0]))
        >>> w
        array([1., 2.])
    """
    a = _hermitian_from("eigh", _input("eigh", a, square=True), UPLO)
    return EighResult(eigh_values_p.bind(a), eigh_vectors_p.bind(a))


def eigvalsh(a, UPLO: str = "L"):
    """``numpy.linalg.eigvalsh``: the eigenvalues of a symmetric matrix, ascending.

    The derivative is finite everywhere, repeated eigenvalues included.

    Examples:
        >>> eigvalsh(np.array([[2.0, 1.0], [1.0, 2.0]]))
        array([1., 3.])
    """
    return eigh_values_p.bind(_hermitian_from("eigvalsh", _input("eigvalsh", a, square=True), UPLO))


def svdvals(x, /):
    """``numpy.linalg.svdvals``: singular values, descending; finite derivatives everywhere.

    Examples:
        >>> svdvals(np.diag([1.0, -3.0]))
        array([3., 1.])
    """
    return svd_values_p.bind(_input("svdvals", x))


def svd(a, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False):
    """``numpy.linalg.svd``: ``a = U @ (S[..., None] * Vh)``, singular values descending.

    ``hermitian=True`` is accepted and computes the general SVD (the same singular values;
    ``U`` and ``Vh`` may differ from NumPy's eigh-based ones by signs).  Derivatives of
    ``U`` and ``Vh`` exist for ``full_matrices=False`` (or square matrices); at exactly
    repeated singular values they are NaN or inf, as in JAX.

    Examples:
        >>> u, s, vh = svd(np.diag([1.0, 3.0]))
        >>> s
        array([3., 1.])
    """
    a = _input("svd", a)
    if not compute_uv:
        return svd_values_p.bind(a)
    m, n = shape_of(a)[-2:]
    full = bool(full_matrices) and m != n
    return SVDResult(svd_u_p.bind(a, full_matrices=full), svd_values_p.bind(a),
                     svd_vh_p.bind(a, full_matrices=full))


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
