"""``funcgrad.scipy.special``: SciPy's special functions, differentiable.

SciPy computes the values (imported on first use); the derivative rules are funcgrad
primitives (``funcgrad.ops.special``), so every function here works under ``grad``,
``jvp``, ``vmap``, ``jit`` and to any order.  Conventions at the edges of the domains
(``xlogy(0, y)``, ``entr(0)``, ``log_ndtr`` far in the tail) are in ``docs/scipy.md``.

``logsumexp``, ``softmax`` and ``log_softmax`` shift by the maximum before
exponentiating, so logits of size 1e3 (or 1e300) neither overflow nor produce NaN:

* ``logsumexp`` is one primitive (and one more with weights ``b``) whose rules are
  ``softmax(a)`` along the axes: reverse ``g * softmax(a)``, forward ``sum(softmax(a) * t)``,
  so it works under every transformation (``grad``, ``jvp``, ``vmap``, ``hessian``, ...).
  With weights ``b`` it is ``log|sum(b * exp(a))|`` (and its sign with ``return_sign``).
* ``log_softmax`` is one primitive for ``x - logsumexp(x, keepdims=True)``, with the
  same rules through ``softmax(x)``.
* ``softmax`` is one primitive whose rules act on its output ``s``: backward
  ``s * (g - sum(g * s))``, forward ``s * (t - sum(s * t))`` (the Jacobian is never
  formed), so it works in both modes and to any order (``hessian``, ``jvp(grad(f))``).

Static arguments (``axis``, ``keepdims``) are the primitives' params.
"""

import functools as _functools

import numpy as _np

import funcgrad.numpy as _fnp
from funcgrad._core.namespace import public_dir as _public_dir
from funcgrad._core.primitive import Primitive as _Primitive
from funcgrad._core.trace import Tracer as _Tracer
from funcgrad.errors import ArgumentError as _ArgumentError
from funcgrad.ops import special as _sp
from funcgrad.ops._family import safe_mul as _safe_mul
from funcgrad.ops._family import unbroadcast as _unbroadcast
from funcgrad.ops.reductions import normalize_axis as _normalize_axis

__all__ = ["betaln", "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "expit", "gamma",
           "gammaln", "log_ndtr", "log_softmax", "logit", "logsumexp", "ndtr", "ndtri",
           "polygamma", "softmax", "xlog1py", "xlogy"]
__dir__ = _public_dir(globals())


# -- elementwise functions (primitives in funcgrad.ops.special) ------------------------
def expit(x):
    """The logistic sigmoid ``1 / (1 + exp(-x))``; saturates to 0 and 1 without overflow.

    Examples:
        >>> expit(np.array([-800.0, 0.0, 800.0]))
        array([0. , 0.5, 1. ])
    """
    return _sp.expit(x)


def logit(p):
    """``log(p / (1 - p))``, the inverse of :func:`expit`; slope ``1 / (p (1 - p))``, inf at 0 and 1.

    Examples:
        >>> logit(np.array([0.5, 0.75]))
        array([0.        , 1.09861229])
    """
    return _sp.logit(p)


def erf(x):
    """The error function; ``erf'(x) = 2 / sqrt(pi) * exp(-x**2)``.

    Examples:
        >>> erf(np.array([0.0, 1.0]))
        array([0.        , 0.84270079])
    """
    return _sp.erf(x)


def erfc(x):
    """``1 - erf(x)``, accurate where ``erf(x)`` is close to 1.

    Examples:
        >>> erfc(np.array([0.0, 10.0]))
        array([1.00000000e+00, 2.08848758e-45])
    """
    return _sp.erfc(x)


def erfcx(x):
    """The scaled complementary error function ``exp(x**2) * erfc(x)``; finite for large ``x``.

    Examples:
        >>> erfcx(np.array([0.0, 30.0]))
        array([1.        , 0.01879589])
    """
    return _sp.erfcx(x)


def erfinv(y):
    """The inverse of :func:`erf` on ``(-1, 1)``; slope ``sqrt(pi) / 2 * exp(erfinv(y)**2)``, inf at +-1.

    Examples:
        >>> erfinv(np.array([0.0, 0.5]))
        array([0.        , 0.47693628])
    """
    return _sp.erfinv(y)


def gammaln(x):
    """``log|Gamma(x)|``; its derivative is :func:`digamma`.

    Examples:
        >>> gammaln(np.array([1.0, 5.0]))                   # log 0! and log 4!
        array([0.        , 3.17805383])
    """
    return _sp.gammaln(x)


def gamma(x):
    """The gamma function; ``gamma'(x) = gamma(x) * digamma(x)``.

    Examples:
        >>> gamma(np.array([0.5, 5.0]))
        array([ 1.77245385, 24.        ])
    """
    return _sp.gamma(x)


def digamma(x):
    """``d/dx log Gamma(x)``; its derivative is ``polygamma(1, x)``.

    Examples:
        >>> digamma(np.array([1.0]))                        # minus the Euler-Mascheroni constant
        array([-0.57721566])
    """
    return _sp.digamma(x)


def polygamma(n, x):
    """The ``n``-th derivative of :func:`digamma`; differentiable in ``x``.

    ``n`` holds non-negative integers (an int or an array of them, broadcast with ``x``);
    it is an order, not a variable, so it cannot be traced.

    Examples:
        >>> polygamma(1, np.array([1.0]))                   # pi**2 / 6
        array([1.64493407])
        >>> polygamma(np.array([0, 1]), 1.0)
        array([-0.57721566,  1.64493407])
    """
    if isinstance(n, _Tracer):
        raise _ArgumentError("polygamma: the order n must be a concrete non-negative integer "
                            "(an int or an integer array), got a traced value; mark it static")
    orders = _np.asarray(n)
    if (orders.dtype.kind not in "iuf" or not _np.all(_np.isfinite(orders))
            or _np.any(orders < 0) or _np.any(orders != _np.round(orders))):
        raise _ArgumentError(f"polygamma: the order n must hold non-negative integers, got {n!r}")
    if orders.ndim == 0:
        return _sp.polygamma(int(orders), x)
    out = 0.0
    for k in _np.unique(orders):
        out = _fnp.where(orders == k, _sp.polygamma(int(k), x), out)
    return out


def betaln(a, b):
    """``log|B(a, b)| = gammaln(a) + gammaln(b) - gammaln(a + b)``, computed by SciPy.

    Examples:
        >>> betaln(np.array([1.0]), np.array([2.0]))        # log(1/2)
        array([-0.69314718])
    """
    return _sp.betaln(a, b)


def xlogy(x, y):
    """``x * log(y)``, and 0 where ``x == 0`` (even at ``y == 0``).

    Derivatives: ``log(y)`` in ``x`` (-inf at ``y == 0``) and ``x / y`` in ``y``, exactly
    0 where ``x == 0`` (see ``docs/scipy.md``).

    Examples:
        >>> xlogy(np.array([0.0, 2.0]), np.array([0.0, np.e]))
        array([0., 2.])
    """
    return _sp.xlogy(x, y)


def xlog1py(x, y):
    """``x * log1p(y)``, and 0 where ``x == 0`` (even at ``y == -1``).

    Examples:
        >>> xlog1py(np.array([0.0, 2.0]), np.array([-1.0, np.e - 1]))
        array([0., 2.])
    """
    return _sp.xlog1py(x, y)


def entr(x):
    """The elementwise entropy ``-x log x``: 0 at ``x == 0``, ``-inf`` for ``x < 0``.

    Its slope ``-(log x + 1)`` is +inf at 0 (the one-sided limit, as JAX gives).

    Examples:
        >>> entr(np.array([0.0, 0.5, -1.0]))
        array([0.        , 0.34657359,       -inf])
    """
    return _sp.entr(x)


def ndtr(x):
    """The standard normal CDF; ``ndtr'(x) = exp(-x**2 / 2) / sqrt(2 pi)``.

    Examples:
        >>> ndtr(np.array([0.0, 1.0]))
        array([0.5       , 0.84134475])
    """
    return _sp.ndtr(x)


def log_ndtr(x):
    """``log(ndtr(x))``, accurate far in the lower tail (``log_ndtr(-40)`` is about -804.6).

    The derivative ``pdf(x) / ndtr(x)`` is computed as ``sqrt(2/pi) / erfcx(-x / sqrt(2))``,
    finite where the pdf and the CDF both underflow.

    Examples:
        >>> log_ndtr(np.array([-40.0]))
        array([-804.60844201])
    """
    return _sp.log_ndtr(x)


def ndtri(p):
    """The inverse of :func:`ndtr` (the standard normal quantile); slope ``sqrt(2 pi) exp(ndtri(p)**2 / 2)``.

    Examples:
        >>> ndtri(np.array([0.5, 0.975]))
        array([0.        , 1.95996398])
    """
    return _sp.ndtri(p)


def _axes(x, axis) -> tuple[int, ...]:
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative axes of ``x``."""
    return _normalize_axis(axis, _fnp.ndim(x))


def _max_shift(x, axes) -> _np.ndarray:
    """NumPy: the maximum of ``x`` over ``axes`` (kept), 0 where it is not finite or the slice is empty.

    Shifting by it keeps ``exp`` from overflowing; replacing ``-inf`` (an all ``-inf``
    slice), ``inf`` and NaN by 0 keeps ``x - shift`` free of ``inf - inf``.
    """
    if x.size == 0:  # NumPy's max has no identity: nothing to shift (SciPy gives -inf)
        return _np.zeros([1 if k in axes else n for k, n in enumerate(x.shape)], x.dtype)
    m = _np.max(x, axis=axes, keepdims=True)
    return _np.where(_np.isfinite(m), m, 0)


def _shift(x, axes):
    """:func:`_max_shift` in funcgrad ops, as a constant (the shift cancels: no derivative)."""
    shape = _fnp.shape(x)
    if 0 in shape:
        return _fnp.zeros([1 if k in axes else n for k, n in enumerate(shape)], _fnp.result_type(x))
    m = _fnp.max(_fnp.stop_gradient(x), axis=axes, keepdims=True)
    return _fnp.where(_fnp.isfinite(m), m, 0.0)


def _reduced_shape(shape, axes, keepdims: bool) -> tuple[int, ...]:
    if keepdims:
        return tuple(1 if k in axes else n for k, n in enumerate(shape))
    return tuple(n for k, n in enumerate(shape) if k not in axes)


def _expand(g, axes, keepdims: bool):
    """A reduced cotangent with its reduced axes back (size 1), to broadcast against the input."""
    return g if keepdims or not axes else _fnp.expand_dims(g, axes)


def _times(g, d):
    """``g * d`` as the multiply rule forms a cotangent: a zero ``g`` stays zero where ``d`` is
    inf or NaN (:func:`~funcgrad.ops._family.safe_mul`), checked only when ``d`` is not finite."""
    if type(d) is _np.ndarray and _np.isfinite(_np.add.reduce(d, axis=None)):
        return g * d
    return _safe_mul(g, d)


def _quotient(g, s):
    """``g / s`` as the divide rule forms a cotangent: 0 where ``g == 0`` and ``s == 0``."""
    if type(s) is _np.ndarray and _np.all(s):
        return g / s
    return g / _fnp.where(_fnp.logical_and(_fnp.equal(g, 0), _fnp.equal(s, 0)), _np.inf, s)


def _batched_axes(axes, d):
    """``axes`` of an example as axes of the batch stacked on axis ``d``."""
    return tuple(a + (a >= d) for a in axes)


def _out_dim(axes, d, keepdims: bool) -> int:
    """Where the batch axis ``d`` ends up after reducing the (batched) ``axes``."""
    return d if keepdims else d - sum(a < d for a in axes)


# -- logsumexp: one primitive ----------------------------------------------------------
def _logsumexp_impl(a, axes, keepdims):
    """NumPy's max-shifted ``log(sum(exp(a)))`` over ``axes`` (the reference of ``_logsumexp_p``)."""
    a = _np.asarray(a)
    m = _max_shift(a, axes)
    r = _np.log(_np.sum(_np.exp(a - m), axis=axes, keepdims=keepdims))
    return r + (m if keepdims or not axes else _np.squeeze(m, axis=axes))


@_functools.lru_cache(maxsize=64)
def _result_dtype(dtype: _np.dtype) -> _np.dtype:
    """The dtype of ``logsumexp``/``softmax`` of ``dtype`` input (float64 for ints and bools)."""
    return _np.result_type(_logsumexp_impl(_np.zeros(1, dtype), (0,), False))


def _logsumexp_aval(a, axes, keepdims):
    return (_reduced_shape(a.shape, axes, keepdims),
            _result_dtype(_np.dtype(a.dtype)))


def _logsumexp_batch(values, dims, axes, keepdims):
    (a,), (d,) = values, dims
    axes = _batched_axes(axes, d)
    return _logsumexp_p.bind(a, axes=axes, keepdims=keepdims), _out_dim(axes, d, keepdims)


# Both rules are softmax(a) along the axes (the same max-shifted e / sum(e) as before, so the
# gradients keep their bits): reverse g * softmax(a), forward sum(softmax(a) * t).  softmax is
# a primitive with its own rules, so these differentiate again (hessian, jvp of grad).
_logsumexp_p = _Primitive("logsumexp", _logsumexp_impl, _logsumexp_aval)
_logsumexp_p.defvjp(lambda g, r, a, axes, keepdims:
                    _times(_expand(g, axes, keepdims), _softmax_p.bind(a, axes=axes)))
_logsumexp_p.defjvp(lambda t, r, a, axes, keepdims:
                    _fnp.sum(_softmax_p.bind(a, axes=axes) * t, axis=axes, keepdims=keepdims))
_logsumexp_p.defbatch(_logsumexp_batch)


# -- logsumexp with weights b: one primitive -------------------------------------------
# log|s| + m for s = sum(b * exp(a - m)) over axes, where m is the maximum of a where b != 0.
def _weighted_impl(a, b, axes, keepdims):
    a, b = _np.asarray(a), _np.asarray(b)
    nonzero = b != 0
    m = _max_shift(_np.where(nonzero, a, -_np.inf), axes)
    s = _np.sum(_np.where(nonzero, b * _np.exp(a - m), 0.0), axis=axes, keepdims=keepdims)
    return _np.log(_np.abs(s)) + (m if keepdims or not axes else _np.squeeze(m, axis=axes))


def _weighted_aval(a, b, axes, keepdims):
    shape = _np.broadcast_shapes(a.shape, b.shape)
    one = _weighted_impl(_np.zeros((), a.dtype), _np.ones((), b.dtype), (), False)
    return _reduced_shape(shape, axes, keepdims), _np.result_type(one)


def _weighted_parts(a, b, axes, keepdims):
    """``(b != 0, exp(a - m), s)`` as funcgrad values (``m`` a constant), for the rules."""
    nonzero = _fnp.not_equal(b, 0)
    m = _shift(_fnp.where(nonzero, a, -_np.inf), axes)
    e = _fnp.exp(a - m)
    s = _fnp.sum(_fnp.where(nonzero, b * e, 0.0), axis=axes, keepdims=keepdims)
    return nonzero, e, s


def _weighted_cotangent(g, a, b, axes, keepdims):
    """``(b != 0, exp(a - m), g / s)``, the last broadcast to the shape of ``b * exp(a)``."""
    nonzero, e, s = _weighted_parts(a, b, axes, keepdims)
    full = _np.broadcast_shapes(_fnp.shape(a), _fnp.shape(b))
    return nonzero, e, _fnp.broadcast_to(_expand(_quotient(g, s), axes, keepdims), full)


def _weighted_vjp_a(g, r, a, b, axes, keepdims):
    nonzero, e, ct = _weighted_cotangent(g, a, b, axes, keepdims)
    return _times(_times(_fnp.where(nonzero, ct, 0), e), b)


def _weighted_vjp_b(g, r, a, b, axes, keepdims):
    _, e, ct = _weighted_cotangent(g, a, b, axes, keepdims)
    return _times(ct, e)


def _weighted_jvp(primals, tangents, axes, keepdims):
    """``sum((b * ta + tb) * exp(a)) / s``; in ``b`` it is ``exp(a - r)`` also where ``b == 0``."""
    (a, b), (ta, tb) = primals, tangents
    r = _weighted_p.bind(a, b, axes=axes, keepdims=keepdims)
    if ta is None and tb is None:
        return r, None
    nonzero, e, s = _weighted_parts(a, b, axes, keepdims)
    terms = None if ta is None else _fnp.where(nonzero, b * ta * e, 0.0)
    if tb is not None:
        terms = tb * e if terms is None else terms + tb * e
    return r, _fnp.sum(terms, axis=axes, keepdims=keepdims) / s


def _weighted_batch(values, dims, axes, keepdims):
    """Both batch axes moved to the front; a batched operand with fewer axes than the other
    gets size-1 axes after its batch axis, so broadcasting lines the examples' axes up."""
    n = max(_fnp.ndim(v) - (d is not None) for v, d in zip(values, dims))
    moved = []
    for v, d in zip(values, dims):
        if d is not None:
            v = _fnp.moveaxis(v, d, 0)
            shape = _fnp.shape(v)
            if len(shape) < n + 1:
                v = _fnp.reshape(v, shape[:1] + (1,) * (n + 1 - len(shape)) + shape[1:])
        moved.append(v)
    return _weighted_p.bind(*moved, axes=tuple(a + 1 for a in axes), keepdims=keepdims), 0


_weighted_p = _Primitive("logsumexp_weighted", _weighted_impl, _weighted_aval)
_weighted_p.defvjp(_weighted_vjp_a, _weighted_vjp_b)
_weighted_p.defjvp_full(_weighted_jvp)
_weighted_p.fit_cotangent = _unbroadcast
_weighted_p.defbatch(_weighted_batch)


def _weighted_sign(a, b, axes, keepdims: bool):
    """The sign of ``sum(b * exp(a))`` (0 where it is 0); it has no derivative."""
    a, b = _fnp.stop_gradient(a), _fnp.stop_gradient(b)
    nonzero = _fnp.not_equal(b, 0)
    e = _fnp.exp(a - _shift(_fnp.where(nonzero, a, -_np.inf), axes))
    return _fnp.sign(_fnp.sum(_fnp.where(nonzero, b * e, 0.0), axis=axes, keepdims=keepdims))


def logsumexp(a, axis: int | tuple[int, ...] | None = None, b=None, keepdims: bool = False,
              return_sign: bool = False):
    """``log(sum(b * exp(a), axis))``, computed without overflow (``scipy.special.logsumexp``).

    ``axis`` is None (all axes), an int or a tuple of ints; ``keepdims`` keeps
    the reduced axes with size 1.  ``b`` (optional) weights each term and broadcasts with
    ``a``; weights may be negative or zero.  With ``return_sign=True`` the result is the pair
    ``(log|s|, sign(s))`` for ``s = sum(b * exp(a))`` (sign 0 and ``-inf`` where ``s == 0``);
    without it a negative sum is NaN, as in SciPy.  An empty sum is ``-inf``.  The
    derivative is ``softmax(a)`` along ``axis`` (``b * exp(a) / s`` with weights), and
    ``exp(a) / s`` in ``b``; one primitive (one with weights) with forward and reverse rules.

    Examples:
        >>> import numpy as np
        >>> import funcgrad as fg
        >>> x = np.array([1000.0, 1000.0 + np.log(3.0)])
        >>> logsumexp(x)                                    # 1000 + log(1 + 3)
        np.float64(1001.3862943611199)
        >>> fg.grad(logsumexp)(x)                           # softmax(x)
        array([0.25, 0.75])
        >>> logsumexp(np.zeros((2, 3)), axis=1, keepdims=True).shape
        (2, 1)
        >>> logsumexp(np.array([0.0, 0.0]), b=np.array([1.0, -3.0]), return_sign=True)
        (np.float64(0.6931471805599453), np.float64(-1.0))
    """
    if b is None and not return_sign:
        return _logsumexp_p.bind(a, axes=_axes(a, axis), keepdims=bool(keepdims))
    a = _fnp.asarray(a)
    b = _fnp.ones((), a.dtype) if b is None else _fnp.asarray(b)
    axes = _normalize_axis(axis, max(_fnp.ndim(a), _fnp.ndim(b)))
    r = _weighted_p.bind(a, b, axes=axes, keepdims=bool(keepdims))
    sign = _weighted_sign(a, b, axes, bool(keepdims))
    if return_sign:
        return r, sign
    return _fnp.where(_fnp.less(sign, 0), _np.nan, r)


def _softmax_impl(x, axes):
    """NumPy's max-shifted softmax over ``axes`` (the reference of ``_softmax_p``)."""
    x = _np.asarray(x)
    e = _np.exp(x - _max_shift(x, axes))
    return e / _np.sum(e, axis=axes, keepdims=True)


def _softmax_aval(x, axes):
    return x.shape, _result_dtype(_np.dtype(x.dtype))


def _softmax_batch(values, dims, axes):
    (x,), (d,) = values, dims
    return _softmax_p.bind(x, axes=_batched_axes(axes, d)), d


# One primitive with both derivative rules on its output s (J = diag(s) - s s^T, never formed):
# forward  J t = s * (t - sum(s * t)),  reverse  J^T g = s * (g - sum(g * s)).  Both are
# funcgrad ops on s, so they differentiate again (hessian, jvp of grad, grad of grad).
_softmax_p = _Primitive("softmax", _softmax_impl, _softmax_aval)
_softmax_p.defvjp(lambda g, s, x, axes: s * (g - _fnp.sum(g * s, axis=axes, keepdims=True)))
_softmax_p.defjvp(lambda t, s, x, axes: s * (t - _fnp.sum(s * t, axis=axes, keepdims=True)))
_softmax_p.defbatch(_softmax_batch)


def softmax(x, axis: int | tuple[int, ...] | None = -1):
    """``exp(x) / sum(exp(x), axis)``, max-shifted so large logits do not overflow.

    ``axis`` is an int, a tuple of ints or None (all axes).  One primitive with a
    reverse rule ``s * (g - sum(g * s, axis))`` and a forward rule
    ``s * (t - sum(s * t, axis))``, both on the output ``s``: ``grad``, ``jvp``,
    ``jacfwd``, ``hessian`` and Hessian-vector products (``jvp(grad(f))``) all work.

    Examples:
        >>> import numpy as np
        >>> import funcgrad as fg
        >>> softmax(np.array([1000.0, 1000.0 + np.log(3.0)]))
        array([0.25, 0.75])
        >>> fg.grad(lambda x: softmax(x)[0])(np.array([0.0, np.log(3.0)]))
        array([ 0.1875, -0.1875])
        >>> fg.jvp(softmax, (np.array([0.0, np.log(3.0)]),), (np.array([1.0, 0.0]),))[1]
        array([ 0.1875, -0.1875])
    """
    return _softmax_p.bind(x, axes=_axes(x, axis))


def _log_softmax_impl(x, axes):
    """NumPy's ``x - logsumexp(x, axes, keepdims=True)`` (the reference of ``_log_softmax_p``)."""
    x = _np.asarray(x)
    return x - _logsumexp_impl(x, axes, True)


def _log_softmax_batch(values, dims, axes):
    (x,), (d,) = values, dims
    return _log_softmax_p.bind(x, axes=_batched_axes(axes, d)), d


# One primitive for x - logsumexp(x): reverse g - sum(g) * softmax(x), forward
# t - sum(softmax(x) * t), computed as the two operations it replaces computed them.
_log_softmax_p = _Primitive("log_softmax", _log_softmax_impl, _softmax_aval)
_log_softmax_p.defvjp(lambda g, y, x, axes: g + _times(_fnp.sum(-g, axis=axes, keepdims=True),
                                                       _softmax_p.bind(x, axes=axes)))
_log_softmax_p.defjvp(lambda t, y, x, axes:
                      t - _fnp.sum(_softmax_p.bind(x, axes=axes) * t, axis=axes, keepdims=True))
_log_softmax_p.defbatch(_log_softmax_batch)


def log_softmax(x, axis: int | tuple[int, ...] | None = -1):
    """``x - logsumexp(x, axis, keepdims=True)``: log-probabilities, stable for large logits.

    One primitive with a reverse rule ``g - sum(g, axis) * softmax(x)`` and a forward rule
    ``t - sum(softmax(x) * t, axis)``, so it works under every transformation, including
    forward mode and ``hessian``.

    Examples:
        >>> import numpy as np
        >>> log_softmax(np.array([1000.0, 1000.0 + np.log(3.0)]))
        array([-1.38629436, -0.28768207])
    """
    return _log_softmax_p.bind(x, axes=_axes(x, axis))
