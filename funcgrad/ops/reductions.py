"""Reductions: sum, max/min, prod, cumulative sum and product, and non-differentiable ones.

``sum`` and ``broadcast_to`` are each other's derivative (the seeds' sum/expand
pair); every other reduction's rule is written in terms of them.
"""

from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from funcgrad._core.dtypes import is_inexact
from funcgrad._core.primitive import Primitive, Tracer
from funcgrad.errors import ShapeError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import misc
from funcgrad.ops import shape as sh
from funcgrad.ops._family import complex_valued, dtype_of, shape_of


def normalize_axis(axis, ndim: int, name: str = "axis") -> tuple[int, ...]:
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative ints; a clear error when out of range."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        a = operator.index(a)
        if not -ndim <= a < builtins.max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ShapeError(f"{name}={axis} is out of range for an array of {ndim} dimensions")
        out.append(a % builtins.max(ndim, 1))
    if len(set(out)) != len(out):
        raise ShapeError(f"repeated axis in {name}={axis}")
    return tuple(sorted(out))


def _reduced_shape(shape, axis, keepdims):
    if keepdims:
        return tuple(1 if i in axis else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axis)


def _reduce_aval(dtype_fn):
    def abstract_eval(x, axis, keepdims):
        return _reduced_shape(shape_of(x), axis, keepdims), dtype_fn(dtype_of(x))
    return abstract_eval


def _expand_back(g, x, axis, keepdims):
    """Reshape a reduction's cotangent so it broadcasts against ``x`` (the inverse of dropping axes)."""
    if not keepdims:
        g = sh.reshape(g, _reduced_shape(shape_of(x), axis, True))
    return g


def _batch_reduction(prim: Primitive) -> None:
    """Batch a reduction in one call: the reduced axes step over the batch axis, which stays put."""
    def rule(values, dims, axis, keepdims):
        (x,), (d,) = values, dims
        out_dim = d if keepdims else d - builtins.sum(a < d for a in axis)
        return prim.bind(x, axis=tuple(a + (a >= d) for a in axis), keepdims=keepdims), out_dim

    prim.defbatch(rule)


def _ufunc_reduction(ufunc, fallback):
    """``fallback(x, axis=, keepdims=)`` as ``ufunc.reduce`` on ndarrays (no Python wrapper)."""
    reduce = ufunc.reduce

    def impl(x, axis, keepdims):
        if type(x) is np.ndarray:
            return reduce(x, axis=axis, keepdims=keepdims)
        return fallback(x, axis=axis, keepdims=keepdims)
    return impl


def _sum_vjp(g, ans, x, axis, keepdims):
    return sh.broadcast_to(_expand_back(g, x, axis, keepdims), shape_of(x))


def _sum_dtype(dt):
    return np.sum(np.zeros(0, dt)).dtype


# np.sum's Python wrapper costs as much as a small sum itself: ufunc.reduce on ndarrays.
sum_p = Primitive("sum", _ufunc_reduction(np.add, np.sum), _reduce_aval(_sum_dtype))
sum_p.defvjp(_sum_vjp)
sum_p.defjvp(lambda t, ans, x, **params: sum_p.bind(t, **params))
_batch_reduction(sum_p)


def _extremum_vjp(g, ans, x, axis, keepdims):
    # Ties share the cotangent evenly.
    ans = _expand_back(ans, x, axis, keepdims)
    mask = ew.equal(x, ans)
    count = sum(mask, axis=axis, keepdims=True)
    return _expand_back(g, x, axis, keepdims) * (mask / count)


def _extremum_jvp(t, ans, x, axis, keepdims):
    # The mean of the tangents at the tied extrema: the transpose of the VJP's even split.
    mask = ew.equal(x, _expand_back(ans, x, axis, keepdims))
    count = misc.astype(sum(mask, axis=axis, keepdims=keepdims), dtype_of(t))
    return sum(ew.where(mask, t, 0), axis=axis, keepdims=keepdims) / count


max_p = Primitive("max", _ufunc_reduction(np.maximum, np.max), _reduce_aval(lambda dt: dt))
max_p.defvjp(_extremum_vjp)
max_p.defjvp(_extremum_jvp)
_batch_reduction(max_p)
min_p = Primitive("min", _ufunc_reduction(np.minimum, np.min), _reduce_aval(lambda dt: dt))
min_p.defvjp(_extremum_vjp)
min_p.defjvp(_extremum_jvp)
_batch_reduction(min_p)


def _prod_others(x, axis):
    """d prod / d x_i, the product of all the *other* elements, in ``x``'s shape.

    Computed with exclusive cumulative products from both ends, so zeros in x are exact.
    """
    shape = shape_of(x)
    kept = [i for i in range(len(shape)) if i not in axis]
    xt = sh.transpose(x, tuple(kept) + axis)
    n = math.prod([shape[i] for i in axis])
    flat = sh.reshape(xt, tuple(shape[i] for i in kept) + (n,))
    ones = np.ones(shape_of(flat)[:-1] + (1,), dtype_of(x))
    left = sh.concatenate([ones, cumprod(flat[..., :-1], axis=-1)], axis=-1)
    right = sh.flip(sh.concatenate([ones, cumprod(sh.flip(flat, -1)[..., :-1], axis=-1)], axis=-1), -1)
    others = sh.reshape(left * right, shape_of(xt))
    inverse = tuple(int(i) for i in np.argsort(tuple(kept) + axis))
    return sh.transpose(others, inverse)


prod_p = Primitive("prod", lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims),
                   _reduce_aval(_sum_dtype))
prod_p.defvjp(lambda g, ans, x, axis, keepdims:
              _expand_back(g, x, axis, keepdims) * _prod_others(x, axis))
prod_p.defjvp(lambda t, ans, x, axis, keepdims:
              sum(t * _prod_others(x, axis), axis=axis, keepdims=keepdims))
_batch_reduction(prod_p)


def _scan_aval(x, axis):
    return shape_of(x), _sum_dtype(dtype_of(x))


def _batch_scan(prim: Primitive) -> None:
    """Batch a cumulative op in one call: its axis steps over the batch axis."""
    def rule(values, dims, axis):
        (x,), (d,) = values, dims
        return prim.bind(x, axis=axis + (axis >= d)), d

    prim.defbatch(rule)


cumsum_p = Primitive("cumsum", lambda x, axis: np.cumsum(x, axis=axis), _scan_aval)
cumsum_p.defvjp(lambda g, ans, x, axis: sh.flip(cumsum(sh.flip(g, axis), axis=axis), axis))
cumsum_p.defjvp(lambda t, ans, x, axis: cumsum_p.bind(t, axis=axis))
_batch_scan(cumsum_p)


def _cumprod_table(x, axis):
    """``T[..., i, j] = d out_j / d x_i`` for ``out = cumprod(x, axis)``, with ``axis`` moved last.

    out_j = prod_{k<=j} x_k, so d out_j / d x_i = prod_{k<=j, k!=i} x_k for i <= j (0 above).
    Built with x_i replaced by 1 in row i: exact even with zeros in x.
    """
    x = sh.moveaxis(x, axis, -1)
    n = shape_of(x)[-1]
    rows = ew.where(np.eye(n, dtype=bool), 1, sh.expand_dims(x, -2))   # [..., i, k]
    upper = np.triu(np.ones((n, n), dtype=bool))                       # j >= i
    return ew.where(upper, cumprod(rows, axis=-1), 0)                  # [..., i, j]


def _cumprod_vjp(g, ans, x, axis):
    g = sh.expand_dims(sh.moveaxis(g, axis, -1), -2)                   # [..., 1, j]
    return sh.moveaxis(sum(_cumprod_table(x, axis) * g, axis=-1), -1, axis)


def _cumprod_jvp(t, ans, x, axis):
    t = sh.expand_dims(sh.moveaxis(t, axis, -1), -1)                   # [..., i, 1]
    return sh.moveaxis(sum(_cumprod_table(x, axis) * t, axis=-2), -1, axis)


cumprod_p = Primitive("cumprod", lambda x, axis: np.cumprod(x, axis=axis), _scan_aval)
cumprod_p.defvjp(_cumprod_vjp)
cumprod_p.defjvp(_cumprod_jvp)
_batch_scan(cumprod_p)


def _index_aval(x, axis, keepdims):
    return _reduced_shape(shape_of(x), axis, keepdims), np.dtype(np.intp)


argmax_p = Primitive("argmax", lambda x, axis, keepdims: np.argmax(x, axis=axis[0] if axis else None, keepdims=keepdims), differentiable=False)  # noqa: E501
argmin_p = Primitive("argmin", lambda x, axis, keepdims: np.argmin(x, axis=axis[0] if axis else None, keepdims=keepdims), differentiable=False)  # noqa: E501
all_p = Primitive("all", lambda x, axis, keepdims: np.all(x, axis=axis, keepdims=keepdims),
                  _reduce_aval(lambda dt: np.dtype(bool)), differentiable=False)
any_p = Primitive("any", lambda x, axis, keepdims: np.any(x, axis=axis, keepdims=keepdims),
                  _reduce_aval(lambda dt: np.dtype(bool)), differentiable=False)
# Integer and boolean outputs: no JVP rule, so forward mode gives them no tangent.
for _prim in (argmax_p, argmin_p, all_p, any_p):
    _batch_reduction(_prim)


# -- public functions --------------------------------------------------------
def sum(x, axis=None, keepdims: bool = False):  # noqa: A001 - NumPy's name
    """``numpy.sum``; its derivative broadcasts the cotangent back.

    Examples:
        >>> sum(np.ones((2, 3)), axis=0)
        array([2., 2., 2.])
    """
    return sum_p.bind(x, axis=normalize_axis(axis, len(shape_of(x))), keepdims=bool(keepdims))


def max(x, axis=None, keepdims: bool = False):  # noqa: A001
    """``numpy.max``; tied maxima share the gradient evenly.

    Examples:
        >>> max(np.array([1.0, 3.0, 2.0]))
        np.float64(3.0)
    """
    return max_p.bind(x, axis=normalize_axis(axis, len(shape_of(x))), keepdims=bool(keepdims))


def min(x, axis=None, keepdims: bool = False):  # noqa: A001
    """``numpy.min``; tied minima share the gradient evenly.

    Examples:
        >>> min(np.array([1.0, 3.0, 2.0]))
        np.float64(1.0)
    """
    return min_p.bind(x, axis=normalize_axis(axis, len(shape_of(x))), keepdims=bool(keepdims))


amax, amin = max, min


def prod(x, axis=None, keepdims: bool = False):
    """``numpy.prod``; exact gradient even where elements are zero.

    Examples:
        >>> prod(np.array([2.0, 3.0]))
        np.float64(6.0)
    """
    return prod_p.bind(x, axis=normalize_axis(axis, len(shape_of(x))), keepdims=bool(keepdims))


def mean(x, axis=None, keepdims: bool = False):
    """``numpy.mean``.

    Examples:
        >>> mean(np.array([1.0, 2.0, 6.0]))
        np.float64(3.0)
    """
    axes = normalize_axis(axis, len(shape_of(x)))
    count = math.prod([shape_of(x)[a] for a in axes])
    total = sum(x, axis=axes, keepdims=keepdims)
    if not is_inexact(dtype_of(total)):
        total = total * 1.0
    return total / count


def var(x, axis=None, ddof: int = 0, keepdims: bool = False):
    """``numpy.var`` with ``ddof``.

    Examples:
        >>> var(np.array([1.0, 3.0]))
        np.float64(1.0)
    """
    axes = normalize_axis(axis, len(shape_of(x)))
    count = math.prod([shape_of(x)[a] for a in axes])
    centered = x - mean(x, axis=axes, keepdims=True)
    # |c|^2: NumPy's variance of complex values is real
    squared = ew.real(centered * ew.conj(centered)) if complex_valued(x) else centered * centered
    return sum(squared, axis=axes, keepdims=keepdims) / (count - ddof)


def std(x, axis=None, ddof: int = 0, keepdims: bool = False):
    """``numpy.std`` with ``ddof``; where a slice is constant its derivative is 0, not NaN.

    ``std`` is the 2-norm of ``x - mean(x)`` over ``sqrt(n - ddof)``, so it takes the
    2-norm's convention at 0 (``docs/conventions.md``).

    Examples:
        >>> std(np.array([1.0, 3.0]))
        np.float64(1.0)
    """
    return sqrt_zero_slope(var(x, axis=axis, ddof=ddof, keepdims=keepdims))


def sqrt_zero_slope(v):
    """``sqrt(v)`` for ``v >= 0``, with derivative 0 (not ``+inf``) where ``v == 0``.

    The square root of a sum of squares (a norm, a standard deviation) has a kink there,
    and 0 is a subgradient.  The ``where`` keeps every order of derivative finite there.

    Examples:
        >>> sqrt_zero_slope(np.array([0.0, 4.0]))
        array([0., 2.])
    """
    if not isinstance(v, Tracer):  # plain values: no derivative to protect
        return ew.sqrt(v)
    zero = ew.equal(v, 0)
    return ew.where(zero, 0.0, ew.sqrt(ew.where(zero, 1.0, v)))


def _scan(prim, x, axis):
    if axis is None:
        x, axis = sh.reshape(x, (-1,)), 0
    return prim.bind(x, axis=normalize_axis(axis, len(shape_of(x)))[0])


def cumsum(x, axis=None):
    """``numpy.cumsum`` (flattened when ``axis`` is None).

    Examples:
        >>> cumsum(np.array([1.0, 2.0, 3.0]))
        array([1., 3., 6.])
    """
    return _scan(cumsum_p, x, axis)


def cumprod(x, axis=None):
    """``numpy.cumprod`` (flattened when ``axis`` is None); exact gradient with zeros.

    Examples:
        >>> cumprod(np.array([1.0, 2.0, 3.0]))
        array([1., 2., 6.])
    """
    return _scan(cumprod_p, x, axis)


def _arg(prim, x, axis, keepdims):
    if axis is None:
        keepdims_shape = (1,) * len(shape_of(x)) if keepdims else None  # x's rank, not the flat one
        x = sh.reshape(x, (-1,))
        out = prim.bind(x, axis=(0,), keepdims=False)
        return sh.reshape(out, keepdims_shape) if keepdims_shape else out
    return prim.bind(x, axis=normalize_axis(axis, len(shape_of(x))), keepdims=bool(keepdims))


def argmax(x, axis=None, keepdims: bool = False):
    """``numpy.argmax`` (not differentiable: integer output).

    Examples:
        >>> argmax(np.array([1.0, 3.0, 2.0]))
        np.int64(1)
    """
    return _arg(argmax_p, x, axis, keepdims)


def argmin(x, axis=None, keepdims: bool = False):
    """``numpy.argmin`` (not differentiable: integer output).

    Examples:
        >>> argmin(np.array([1.0, 3.0, 2.0]))
        np.int64(0)
    """
    return _arg(argmin_p, x, axis, keepdims)


def all(x, axis=None, keepdims: bool = False):  # noqa: A001
    """``numpy.all`` (boolean output, no gradient)."""
    return all_p.bind(x, axis=normalize_axis(axis, len(shape_of(x))), keepdims=bool(keepdims))


def any(x, axis=None, keepdims: bool = False):  # noqa: A001
    """``numpy.any`` (boolean output, no gradient)."""
    return any_p.bind(x, axis=normalize_axis(axis, len(shape_of(x))), keepdims=bool(keepdims))
