"""Linear algebra: matmul (NumPy's 1-D and batched rules), dot and friends,
and ``linalg``'s inv, det, slogdet and solve (``einsum`` is in :mod:`funcgrad.ops.einsum`).

The primitives are ``matmul``, ``inv``, ``det``, ``logabsdet``,
``slogdet_sign`` and ``solve``; ``dot``, ``vdot``, ``inner``, ``outer`` and
``tensordot`` are built from them and from shape ops (``norm``, a composite of
elementwise ops and reductions, lives in :mod:`funcgrad.numpy.linalg`).  Every
derivative rule is written in funcgrad ops, so it differentiates again.
"""

from __future__ import annotations

import builtins
import math
import operator
from typing import NamedTuple

import numpy as np

from funcgrad._core.dtypes import is_inexact
from funcgrad._core.primitive import Primitive, Tracer
from funcgrad._core.trace import user_location
from funcgrad.errors import ArgumentError, ShapeError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import reductions as red
from funcgrad.ops import shape as sh
from funcgrad.ops._array_like import asarray
from funcgrad.ops._family import batch_shape, complex_valued, dtype_of, shape_of, unbroadcast
from funcgrad.ops.einsum import einsum, einsum_p  # noqa: F401 - einsum has a file of its own


def _array(x):
    """Tracers as they are, lists holding tracers as one traced array, anything else as NumPy's."""
    return x if isinstance(x, Tracer) else asarray(x)


def _mT(x):
    return sh.swapaxes(x, -1, -2)


def _here() -> str:
    """`` at file:line`` of the user's call, for errors raised before any primitive is bound."""
    loc = user_location()
    return f" at {loc[0]}:{loc[1]}" if loc else ""


def _checked(impl, aval):
    """``impl``, but a NumPy shape error is replaced by ``aval``'s :class:`ShapeError` naming every shape."""
    def run(*args):
        try:
            return impl(*args)
        except ValueError:
            aval(*args)  # raises the ShapeError when the shapes are at fault
            raise        # otherwise (e.g. a singular matrix) NumPy's own error
    return run


# -- matmul --------------------------------------------------------------------
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
    batch = batch_shape("matmul", sa, sb)
    out = batch + (sa[-2:-1] if len(sa) > 1 else ()) + (sb[-1:] if len(sb) > 1 else ())
    return out, np.result_type(dtype_of(a), dtype_of(b))


def _as_matrices(g, a, b):
    """Promote 1-D operands (and the cotangent) to matrices, as NumPy's matmul does."""
    sa, sb = shape_of(a), shape_of(b)
    if len(sb) == 1:  # first: with both 1-D, g is 0-d and gains its last axis here
        b = sh.reshape(b, sb + (1,))
        g = sh.expand_dims(g, -1)
    if len(sa) == 1:
        a = sh.reshape(a, (1,) + sa)
        g = sh.expand_dims(g, -2)
    return g, a, b


def _drop_promoted(ct, x):
    """Undo :func:`_as_matrices` on a cotangent, then sum it over broadcast batch axes."""
    if len(shape_of(x)) == 1:
        ct = sh.reshape(ct, shape_of(ct)[:-2] + shape_of(x))
    return unbroadcast(ct, x)


def _matmul_da(g, ans, a, b):
    g2, _, b2 = _as_matrices(g, a, b)
    return _drop_promoted(matmul(g2, _mT(b2)), a)


def _matmul_db(g, ans, a, b):
    g2, a2, _ = _as_matrices(g, a, b)
    return _drop_promoted(matmul(_mT(a2), g2), b)


def _front(x, d):
    """``x`` with its batch axis ``d`` moved to the front (unbatched ``x`` as it is)."""
    return x if d is None else sh.moveaxis(x, d, 0)


def _align_batch(values, batched):
    """Pad the batched operands (batch axis first) with unit axes after the batch axis, so
    that under NumPy's right-aligned broadcasting every batch axis lines up with the
    leading one and unbatched operands broadcast over it."""
    rank = builtins.max(len(shape_of(v)) - b for v, b in zip(values, batched))
    out = []
    for v, b in zip(values, batched):
        s = shape_of(v)
        if b and len(s) - 1 < rank:
            v = sh.reshape(v, s[:1] + (1,) * (rank - len(s) + 1) + s[1:])
        out.append(v)
    return out


def _logical_ndim(x, d) -> int:
    return len(shape_of(x)) - (d is not None)


def _matmul_batch(values, dims):
    # A logically 1-D operand is promoted to a matrix first, so that its batch axis is
    # not taken for a matrix axis; the promoted axis is dropped from the result.
    (a, b), (da, db) = values, dims
    a_vec, b_vec = _logical_ndim(a, da) == 1, _logical_ndim(b, db) == 1
    a, b = _front(a, da), _front(b, db)
    if a_vec:
        a = sh.expand_dims(a, -2)
    if b_vec:
        b = sh.expand_dims(b, -1)
    a, b = _align_batch([a, b], [da is not None, db is not None])
    out = matmul_p.bind(a, b)
    if a_vec or b_vec:
        s = shape_of(out)
        out = sh.reshape(out, s[:-2] + (() if a_vec else s[-2:-1]) + (() if b_vec else s[-1:]))
    return out, 0


def np_matmul(a, b):
    """``np.matmul`` with NumPy's result dtype: ml_dtypes' bfloat16 (float8, ...) matmul
    returns float32, so its result is cast back, as ``np.dot`` and ``jnp.matmul`` do."""
    out = np.matmul(a, b)
    if out.dtype != getattr(a, "dtype", out.dtype):  # mixed dtypes, or an ml_dtypes float
        want = np.result_type(a.dtype, getattr(b, "dtype", out.dtype))
        if out.dtype != want:
            out = out.astype(want)
    return out


matmul_p = Primitive("matmul", _checked(np_matmul, _matmul_aval), _matmul_aval)
matmul_p.defvjp(_matmul_da, _matmul_db)
matmul_p.defjvp(lambda t, ans, a, b: matmul(t, b), lambda t, ans, a, b: matmul(a, t))
matmul_p.defbatch(_matmul_batch)


def matmul(a, b):
    """``numpy.matmul`` (``a @ b``) with NumPy's 1-D and batched (broadcasting) rules.

    Examples:
        >>> matmul(np.ones((2, 3)), np.ones(3))
        array([3., 3.])
    """
    return matmul_p.bind(a, b)


# -- dot, vdot, inner, outer, tensordot --------------------------------------
def _axes_list(axes, ndim: int, which: str, shapes) -> list[int]:
    axes = [axes] if isinstance(axes, (int, np.integer)) else list(axes)
    out = []
    for a in axes:
        a = operator.index(a)
        if not -ndim <= a < ndim:
            raise ShapeError(f"tensordot: axis {a} is out of range for the {which} operand; "
                             f"shapes {shapes[0]} and {shapes[1]}{_here()}")
        out.append(a % ndim)
    return out


def _size(shape, axes) -> int:
    return math.prod([shape[i] for i in axes])


def tensordot(a, b, axes=2):
    """``numpy.tensordot``: contract the last ``axes`` axes of ``a`` with the first of ``b``,
    or the axes given as a pair of sequences.

    Examples:
        >>> tensordot(np.ones((2, 3, 4)), np.ones((3, 4, 5))).shape
        (2, 5)
    """
    a, b = _array(a), _array(b)
    sa, sb = shape_of(a), shape_of(b)
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > len(sa) or n > len(sb):
            raise ShapeError(f"tensordot: cannot contract {n} axes of shapes {sa} and {sb}{_here()}")
        ax_a, ax_b = list(range(len(sa) - n, len(sa))), list(range(n))
    else:
        try:
            first, second = axes
        except (TypeError, ValueError):
            raise ArgumentError(f"tensordot: axes must be an int or a pair of sequences, "
                                f"got {axes!r}{_here()}") from None
        ax_a = _axes_list(first, len(sa), "first", (sa, sb))
        ax_b = _axes_list(second, len(sb), "second", (sa, sb))
    if len(ax_a) != len(ax_b) or any(sa[i] != sb[j] for i, j in zip(ax_a, ax_b)):
        raise ShapeError(f"tensordot: axes {ax_a} of shape {sa} do not match axes {ax_b} of "
                         f"shape {sb}{_here()}")
    free_a = [i for i in range(len(sa)) if i not in ax_a]
    free_b = [j for j in range(len(sb)) if j not in ax_b]
    k = _size(sa, ax_a)
    a2 = sh.reshape(sh.transpose(a, tuple(free_a + ax_a)), (_size(sa, free_a), k))
    b2 = sh.reshape(sh.transpose(b, tuple(ax_b + free_b)), (k, _size(sb, free_b)))
    return sh.reshape(matmul(a2, b2), tuple(sa[i] for i in free_a) + tuple(sb[j] for j in free_b))


def dot(a, b):
    """``numpy.dot``: a product for scalars, ``matmul`` up to 2-D, and for N-D a sum over the
    last axis of ``a`` and the second-to-last of ``b``.

    Examples:
        >>> dot(np.ones((2, 3)), np.ones((3, 4))).shape
        (2, 4)
    """
    a, b = _array(a), _array(b)
    na, nb = len(shape_of(a)), len(shape_of(b))
    if na == 0 or nb == 0:
        return ew.multiply(a, b)
    if nb == 1 or (na <= 2 and nb <= 2):
        return matmul(a, b)
    return tensordot(a, b, axes=([na - 1], [nb - 2]))


def vdot(a, b):
    """``numpy.vdot``: the dot product of the flattened arrays, conjugating a complex ``a``.

    Examples:
        >>> vdot(np.ones((2, 2)), np.full((2, 2), 2.0))
        np.float64(8.0)
        >>> vdot(np.array([1j]), np.array([1j]))
        np.complex128(1+0j)
    """
    a, b = _array(a), _array(b)
    if complex_valued(a):
        a = ew.conj(a)
    if math.prod(shape_of(a)) != math.prod(shape_of(b)):
        raise ShapeError(f"vdot: operands of shapes {shape_of(a)} and {shape_of(b)} have "
                         f"different sizes{_here()}")
    return matmul(sh.ravel(a), sh.ravel(b))


def inner(a, b):
    """``numpy.inner``: a sum over the last axes of ``a`` and ``b`` (a product for scalars).

    Examples:
        >>> inner(np.ones((2, 3)), np.ones((4, 3))).shape
        (2, 4)
    """
    a, b = _array(a), _array(b)
    if not shape_of(a) or not shape_of(b):
        return ew.multiply(a, b)
    if shape_of(a)[-1] != shape_of(b)[-1]:
        raise ShapeError(f"inner: the last axes of shapes {shape_of(a)} and {shape_of(b)} "
                         f"differ{_here()}")
    return tensordot(a, b, axes=([-1], [-1]))


def outer(a, b):
    """``numpy.outer``: ``out[i, j] = a.ravel()[i] * b.ravel()[j]``.

    Examples:
        >>> outer(np.array([1.0, 2.0]), np.array([1.0, 10.0]))
        array([[ 1., 10.],
               [ 2., 20.]])
    """
    return ew.multiply(sh.reshape(_array(a), (-1, 1)), sh.reshape(_array(b), (1, -1)))


# -- inv, det, slogdet, solve ----------------------------------------------------
def _linalg_dtype(dt) -> np.dtype:
    """NumPy's linalg result dtype: floats keep their precision, integers become float64."""
    dt = np.dtype(dt)
    return dt if is_inexact(dt) else np.dtype(np.float64)


def _square(name: str, a) -> tuple[int, ...]:
    s = shape_of(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise ShapeError(f"{name}: expected a square matrix or a stack of them (..., M, M), "
                         f"got shape {s}")
    return s


def _inv_aval(a):
    return _square("inv", a), _linalg_dtype(dtype_of(a))


def _batch_aval(name):
    return lambda a: (_square(name, a)[:-2], _linalg_dtype(dtype_of(a)))


def _solve_aval(a, b):
    sa, sb = shape_of(a), shape_of(b)
    if len(sa) < 2 or sa[-1] != sa[-2]:
        raise ShapeError(f"solve: a must be square (..., M, M), got shapes {sa} and {sb}")
    m = sa[-1]
    if len(sb) == 1:
        if sb[0] != m:
            raise ShapeError(f"solve: a of shape {sa} needs b of shape ({m},) or (..., {m}, K), "
                             f"got shape {sb}")
        out = sa[:-1]
    else:
        if len(sb) < 1 or sb[-2] != m:
            raise ShapeError(f"solve: a of shape {sa} needs b of shape ({m},) or (..., {m}, K), "
                             f"got shape {sb}")
        try:
            out = np.broadcast_shapes(sa[:-2], sb[:-2]) + sb[-2:]
        except ValueError:
            raise ShapeError(f"solve: batch dimensions of shapes {sa} and {sb} do not "
                             "broadcast") from None
    return out, _linalg_dtype(np.result_type(dtype_of(a), dtype_of(b)))


def _matrix_of(v):
    """A batch of scalars as (..., 1, 1), to scale a batch of matrices."""
    return sh.expand_dims(v, (-2, -1))


def _trace_product(m, t):
    """``trace(mᵀ t)`` over the last two axes, batched."""
    return red.sum(m * t, axis=(-2, -1))


def _solve_tangent_a(t, ans, a, b):
    """d x = -solve(a, d a · x) for x = solve(a, b)."""
    if len(shape_of(b)) == 1:
        return -solve(a, matmul(t, sh.expand_dims(ans, -1)))[..., 0]
    return -solve(a, matmul(t, ans))


def _solve_cotangents(g, ans, a, b):
    """(ā, b̄) for x = solve(a, b): b̄ = solve(aᵀ, g), ā = -b̄ xᵀ."""
    vector = len(shape_of(b)) == 1
    if vector:
        g, ans = sh.expand_dims(g, -1), sh.expand_dims(ans, -1)
    b_bar = solve(_mT(a), g)
    a_bar = -matmul(b_bar, _mT(ans))
    if vector:
        b_bar = b_bar[..., 0]
    return unbroadcast(a_bar, a), unbroadcast(b_bar, b)


def _stacked_batch(prim):
    """inv, det and slogdet act on stacks of matrices: a batch axis among the leading
    (stack) axes stays where it is, one among the matrix axes moves to the front."""
    def rule(values, dims):
        (a,), (d,) = values, dims
        if d >= len(shape_of(a)) - 2:
            a, d = sh.moveaxis(a, d, 0), 0
        return prim.bind(a), d

    prim.defbatch(rule)


def _solve_batch(values, dims):
    # With a batch axis, a logically 1-D b would read as a stack of matrices: make it an
    # (M, 1) matrix and drop that axis from the result.
    (a, b), (da, db) = values, dims
    b_vec = _logical_ndim(b, db) == 1
    a, b = _front(a, da), _front(b, db)
    if b_vec:
        b = sh.expand_dims(b, -1)
    a, b = _align_batch([a, b], [da is not None, db is not None])
    out = solve_p.bind(a, b)
    if b_vec:
        out = sh.reshape(out, shape_of(out)[:-1])
    return out, 0


inv_p = Primitive("inv", _checked(np.linalg.inv, _inv_aval), _inv_aval)
inv_p.defvjp(lambda g, ans, a: -matmul(_mT(ans), matmul(g, _mT(ans))))
inv_p.defjvp(lambda t, ans, a: -matmul(ans, matmul(t, ans)))
_stacked_batch(inv_p)

det_p = Primitive("det", _checked(np.linalg.det, _batch_aval("det")), _batch_aval("det"))
det_p.defvjp(lambda g, ans, a: _matrix_of(g * ans) * _mT(inv(a)))
det_p.defjvp(lambda t, ans, a: ans * _trace_product(_mT(inv(a)), t))
_stacked_batch(det_p)

logabsdet_p = Primitive("logabsdet", _checked(lambda a: np.linalg.slogdet(a)[1],
                                              _batch_aval("slogdet")), _batch_aval("slogdet"))
# For complex a, log|det a| = Re(log det a): the tangent is the real part of tr(a⁻¹ da), and
# its transpose (JAX's convention, no conjugate) is the same ḡ a⁻ᵀ as for real a.
logabsdet_p.defvjp(lambda g, ans, a: _matrix_of(g) * _mT(inv(a)))
logabsdet_p.defjvp(lambda t, ans, a: _real_part(_trace_product(_mT(inv(a)), t), a))
_stacked_batch(logabsdet_p)


def _real_part(v, a):
    return ew.real(v) if complex_valued(a) else v


# The sign det a / |det a| is piecewise constant for real a (no derivative); for complex a
# it turns with the phase: d sign = sign · i Im(tr(a⁻¹ da)), as in JAX's slogdet.
def _sign_jvp(t, ans, a):
    if not complex_valued(a):
        return None
    return ans * (1j * ew.imag(_trace_product(_mT(inv(a)), t)))


def _sign_vjp(g, ans, a):
    return _matrix_of(1j * ew.imag(g * ans)) * _mT(inv(a)) if complex_valued(a) else None


slogdet_sign_p = Primitive("slogdet_sign", _checked(lambda a: np.linalg.slogdet(a)[0],
                                                    _batch_aval("slogdet")),
                           _batch_aval("slogdet"))
slogdet_sign_p.defvjp(_sign_vjp)
slogdet_sign_p.defjvp(_sign_jvp)
_stacked_batch(slogdet_sign_p)

solve_p = Primitive("solve", _checked(np.linalg.solve, _solve_aval), _solve_aval)
solve_p.defvjp(lambda g, ans, a, b: _solve_cotangents(g, ans, a, b)[0],
               lambda g, ans, a, b: _solve_cotangents(g, ans, a, b)[1])
solve_p.defjvp(_solve_tangent_a, lambda t, ans, a, b: solve(a, t))
solve_p.defbatch(_solve_batch)


class SlogdetResult(NamedTuple):
    """``(sign, logabsdet)`` of a determinant, like NumPy 2's ``SlogdetResult``."""

    sign: object
    logabsdet: object


def inv(a):
    """``numpy.linalg.inv``, batched over leading axes; derivative ``-A⁻ᵀ ḡ A⁻ᵀ``.

    Examples:
        >>> inv(np.diag([2.0, 4.0]))
        array([[0.5 , 0.  ],
               [0.  , 0.25]])
    """
    return inv_p.bind(_array(a))


def det(a):
    """``numpy.linalg.det``, batched; derivative ``ḡ det(A) A⁻ᵀ`` (needs A invertible).

    Examples:
        >>> float(det(np.diag([2.0, 3.0])))
        6.0
    """
    return det_p.bind(_array(a))


def slogdet(a) -> SlogdetResult:
    """``numpy.linalg.slogdet``: ``(sign, logabsdet)``; only ``logabsdet`` is differentiable.

    Examples:
        >>> sign, logabsdet = slogdet(np.diag([-2.0, 3.0]))
        >>> float(sign), round(float(logabsdet), 4)
        (-1.0, 1.7918)
    """
    a = _array(a)
    return SlogdetResult(slogdet_sign_p.bind(a), logabsdet_p.bind(a))


def solve(a, b):
    """``numpy.linalg.solve`` with NumPy 2's rule: ``b`` is a vector only when ``b.ndim == 1``,
    otherwise a stack of (M, K) matrices; batch axes broadcast.

    Examples:
        >>> solve(np.diag([2.0, 4.0]), np.array([1.0, 1.0]))
        array([0.5 , 0.25])
    """
    return solve_p.bind(_array(a), _array(b))
