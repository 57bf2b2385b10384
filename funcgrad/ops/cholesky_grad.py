"""Cholesky's reverse-mode rule as one primitive, ``cholesky_grad(L, Ḡ)``, with its own rules.

``cholesky`` reads the lower triangle of ``A`` (as NumPy does) and returns ``L`` with
``sym(A) = L Lᵀ``, where ``sym(A)`` mirrors that triangle.  Its VJP is the textbook

    Y = L⁻ᵀ Φ(Lᵀ Ḡ) L⁻¹,      Ā = Φ(Y + Yᵀ)

(``Φ``: the lower triangle with the diagonal halved).  ``Φ(Y + Yᵀ)`` is the cotangent of
the triangle that is read: the symmetric gradient ``½(Y + Yᵀ)`` with its off-diagonal
entries counted twice, once for each mirrored entry.  As one primitive the NumPy reference
is the lower triangle of ``Lᵀ Ḡ`` by block rows (a sixth of the flops of a general
product: both factors are triangular) and two BLAS ``trsm`` in place; written as separate
funcgrad ops it was a full matrix product, two solves, a symmetrisation and the
triangle's mirror, about ten passes over n x n arrays more.

The primitive's own rules are written in funcgrad ops, so every order differentiates.
With ``Z = Y + Yᵀ`` (``= ans + ansᵀ``), an output cotangent ``Ō`` seen as the symmetric
``S = Φ(Ō) + Φ(Ō)ᵀ`` and ``Q = Φ(L⁻¹ S L⁻ᵀ)``:

* ``Ḡ̄ = L Q`` (the cholesky JVP of ``S``), ``L̄ = tril(Ḡ Qᵀ - Z S L⁻ᵀ)``;
* ``ẋ = cholesky_grad(L, Ġ) + Φ(N + Nᵀ - M - Mᵀ)`` with ``M = Z L̇ L⁻¹`` and
  ``N = L⁻ᵀ Φ(L̇ᵀ Ḡ) L⁻¹``.

Only the lower triangles of ``L`` and ``Ḡ`` are read, so their cotangents are lower
triangular.  Real inputs only (``cholesky`` raises for complex derivatives before binding).
"""

from __future__ import annotations

import functools

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.errors import ShapeError
from funcgrad.ops import shape as sh
from funcgrad.ops._family import batch_shape, dtype_of, shape_of, unbroadcast
from funcgrad.ops.linalg import matmul
from funcgrad.ops.triangular import masked, triangle_mask, triangular_solve
from funcgrad.ops import elementwise as ew


def _mT(x):
    return sh.swapaxes(x, -1, -2)


@functools.lru_cache(maxsize=32)
def phi_weights(n: int, dtype: np.dtype) -> np.ndarray:
    """The read-only weights of ``Φ``: 1 below the diagonal, ½ on it, 0 above (n x n)."""
    w = np.tril(np.ones((n, n), dtype=dtype)) - 0.5 * np.eye(n, dtype=dtype)
    w.flags.writeable = False
    return w


def phi(x):
    """``Φ(x)``: the lower triangle of a stack of square matrices with the diagonal halved."""
    return x * phi_weights(shape_of(x)[-1], dtype_of(x))


def mirror_lower(x):
    """The symmetric matrices whose lower triangle is ``x``'s (``Φ(x) + Φ(x)ᵀ``)."""
    return ew.where(triangle_mask(shape_of(x)[-1], True), x, _mT(x))


def solve_left_t(l, x):
    """``L⁻ᵀ x`` for lower-triangular ``L``."""
    return triangular_solve(l, x, lower=True, trans=1)


def solve_right(x, l):
    """``x L⁻¹`` for lower-triangular ``L``."""
    return _mT(triangular_solve(l, _mT(x), lower=True, trans=1))


def _aval(l, g):
    sl, sg = shape_of(l), shape_of(g)
    if len(sl) < 2 or sl[-1] != sl[-2] or sl[-2:] != sg[-2:]:
        raise ShapeError(f"cholesky_grad: expected L and its cotangent of shape (..., N, N), "
                         f"got shapes {sl} and {sg}")
    batch = batch_shape("cholesky_grad", sl, sg)
    return batch + sl[-2:], np.result_type(dtype_of(l), dtype_of(g))


_BLOCK = 64  # rows per block of the triangular product Φ(Lᵀ Ḡ)


def _lower_product(lt, g, w):
    """``Φ(Lᵀ Ḡ)`` from the lower triangles only, by block rows: row block ``I`` of the
    lower triangle is ``Lᵀ[I, I:] @ Ḡ[I:, :I+1]`` (``Lᵀ`` is upper triangular), a third of the
    flops of a triangular product (``trmm``) and a sixth of a general one."""
    n = lt.shape[-1]
    p = np.zeros((n, n), lt.dtype)
    for i0 in range(0, n, _BLOCK):
        i1 = min(n, i0 + _BLOCK)
        rows = p[i0:i1, :i1]
        # Lᵀ's triangle only, and Ḡ's lower triangle only: its upper triangle is never read
        # (an inf or NaN there must not meet a zero of Lᵀ and become NaN).
        gb = g[i0:i1, :i1].copy()
        gb[:, i0:i1] = np.tril(gb[:, i0:i1])
        np.matmul(np.triu(lt[i0:i1, i0:i1]), gb, out=rows)
        if i1 < n:
            rows += lt[i0:i1, i1:] @ g[i1:, :i1]
        p[i0:i1, i0:i1] *= w[:i1 - i0, :i1 - i0]  # Φ on the diagonal block; zeros above it
    return p


def _impl(l, g):
    """``Φ(Y + Yᵀ)``, ``Y = L⁻ᵀ Φ(Lᵀ Ḡ) L⁻¹``: a blocked triangular product and two BLAS
    ``trsm`` per matrix, on the transposes so that no operand is copied."""
    from scipy.linalg.blas import get_blas_funcs

    shape, dtype = _aval(l, g)
    work = np.result_type(dtype, np.float32)  # BLAS has no float16
    out = np.empty(shape, work)
    n = shape[-1]
    if out.size == 0:
        return out.astype(dtype, copy=False)
    l = np.broadcast_to(np.asarray(l, work), shape)
    g = np.broadcast_to(np.asarray(g, work), shape)
    (trsm,) = get_blas_funcs(("trsm",), (out,))
    w = phi_weights(n, work)
    for i in np.ndindex(shape[:-2]):
        u = l[i].T  # Lᵀ: upper triangular, and Fortran-ordered (no copy) when L is C-ordered
        pt = _lower_product(u, g[i], w).T  # Φᵀ, Fortran-ordered
        xt = trsm(1.0, u, pt, side=1, lower=0, trans_a=1, overwrite_b=1)  # Φᵀ L⁻¹ = (L⁻ᵀ Φ)ᵀ
        yt = trsm(1.0, u, xt, lower=0, overwrite_b=1)                     # (L⁻ᵀ Φ L⁻¹)ᵀ
        o = out[i]
        np.add(yt, yt.T, out=o)
        o *= w
    return out.astype(dtype, copy=False)


cholesky_grad_p = Primitive("cholesky_grad", _impl, _aval)
cholesky_grad_p.fit_cotangent = unbroadcast  # batch axes broadcast


def cholesky_grad(l, g):
    """Cholesky's VJP: the cotangent of the lower triangle of ``A`` from ``L`` and ``Ḡ``.

    Examples:
        >>> l = np.array([[2.0, 0.0], [1.0, 2.0]])
        >>> cholesky_grad(l, np.ones((2, 2)))  # d(sum of L)/d(lower triangle of A), A = L Lᵀ
        array([[0.1875, 0.    ],
               [0.25  , 0.25  ]])
    """
    return cholesky_grad_p.bind(l, g)


def _q(o, l):
    """``(S, Q)``: the symmetric ``S`` behind the cotangent ``o`` and ``Q = Φ(L⁻¹ S L⁻ᵀ)``."""
    s = mirror_lower(o)
    half = triangular_solve(l, s, lower=True)                      # L⁻¹ S
    return s, phi(triangular_solve(l, _mT(half), lower=True))      # L⁻¹ S L⁻ᵀ


def _vjp_l(o, ans, l, g):
    s, q = _q(o, l)
    z = ans + _mT(ans)
    return masked(matmul(g, _mT(q)) - _mT(triangular_solve(l, matmul(s, z), lower=True)), True)


def _vjp_g(o, ans, l, g):
    return matmul(masked(l, True), _q(o, l)[1])  # only L's lower triangle is read


def _jvp_l(t, ans, l, g):
    dl = masked(t, True)
    z = ans + _mT(ans)
    m = solve_right(matmul(z, dl), l)
    n = solve_right(solve_left_t(l, phi(matmul(_mT(dl), g))), l)
    return phi(n + _mT(n) - m - _mT(m))


def _batch(values, dims):
    """Batch axes go first; a batched operand with fewer stack axes gets unit axes after
    its batch axis, so that the stack axes line up under broadcasting."""
    moved = [v if d is None else sh.moveaxis(v, d, 0) for v, d in zip(values, dims)]
    rank = max(len(shape_of(v)) - (d is not None) for v, d in zip(moved, dims))
    out = []
    for v, d in zip(moved, dims):
        s = shape_of(v)
        if d is not None and len(s) - 1 < rank:
            v = sh.reshape(v, s[:1] + (1,) * (rank - len(s) + 1) + s[1:])
        out.append(v)
    return cholesky_grad_p.bind(*out), 0


cholesky_grad_p.defvjp(_vjp_l, _vjp_g)
cholesky_grad_p.defjvp(_jvp_l, lambda t, ans, l, g: cholesky_grad(l, t))
cholesky_grad_p.defbatch(_batch)
