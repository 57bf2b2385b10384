"""Numerically stable ``logsumexp``, ``softmax`` and ``log_softmax`` with hand-written derivatives.

All three shift by the maximum before exponentiating, so logits of size 1e3 (or
1e300) neither overflow nor produce NaN, and they accept arrays and tracers alike.

* ``logsumexp`` is a :class:`~funcgrad.custom_jvp` function whose tangent is
  ``sum(softmax(a) * t)``; reverse mode transposes that rule, so it works
  under every transformation (``grad``, ``jvp``, ``vmap``, ``hessian``, ...).
* ``log_softmax`` is ``x - logsumexp(x, keepdims=True)``: it inherits that rule.
* ``softmax`` is a :class:`~funcgrad.custom_vjp` function with the backward
  pass ``s * (g - sum(g * s))``, which never forms the Jacobian.  Like every
  ``custom_vjp`` function it has no forward mode: ``jvp``/``jacfwd``/``hessian``
  of it raise a clear error; use ``exp(log_softmax(x))`` there.

Static arguments (``axis``, ``keepdims``) are not arrays, so each distinct
setting gets its own custom-derivative function, built once and cached.
"""

from __future__ import annotations

import functools

import funcgrad.numpy as fnp
from funcgrad.ops.reductions import normalize_axis
from funcgrad.transforms.custom import custom_jvp, custom_vjp

__all__ = ["log_softmax", "logsumexp", "softmax"]


def _axes(x, axis) -> tuple[int, ...]:
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative axes of ``x``."""
    return normalize_axis(axis, fnp.ndim(x))


def _shift(x, axes):
    """The maximum over ``axes`` (kept), with non-finite maxima replaced by 0; no derivative.

    The shift cancels mathematically, so it is a constant for differentiation.
    Replacing ``-inf`` (an all ``-inf`` slice) and ``inf`` by 0 keeps ``x - shift``
    free of ``inf - inf``.
    """
    m = fnp.max(fnp.stop_gradient(x), axis=axes, keepdims=True)
    return fnp.where(fnp.isfinite(m), m, 0.0)


def _drop(y, axes, keepdims: bool):
    return y if keepdims or not axes else fnp.squeeze(y, axis=axes)


def _exp_shifted(x, axes):
    """``(exp(x - shift), shift)`` with the shift of :func:`_shift`."""
    m = _shift(x, axes)
    return fnp.exp(x - m), m


@functools.cache
def _logsumexp_fn(axes: tuple[int, ...], keepdims: bool) -> custom_jvp:
    def value(e, m):
        return fnp.log(fnp.sum(e, axis=axes, keepdims=keepdims)) + _drop(m, axes, keepdims)

    def fun(a):
        return value(*_exp_shifted(a, axes))

    def rule(primals, tangents):
        (a,), (t,) = primals, tangents
        e, m = _exp_shifted(a, axes)
        weights = e / fnp.sum(e, axis=axes, keepdims=True)        # softmax(a) over axes
        return value(e, m), fnp.sum(weights * t, axis=axes, keepdims=keepdims)

    fun.__name__ = "logsumexp"      # the primitive prints as custom_jvp[logsumexp]
    f = custom_jvp(fun)
    f.defjvp(rule)
    return f


def logsumexp(a, axis: int | tuple[int, ...] | None = None, keepdims: bool = False):
    """``log(sum(exp(a), axis))``, computed without overflow (like ``scipy.special.logsumexp``).

    ``axis`` is None (all axes), an int or a tuple of ints; ``keepdims`` keeps
    the reduced axes with size 1.  The derivative is ``softmax(a)`` along
    ``axis`` (a custom JVP rule, used by forward and reverse mode alike).

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
    """
    return _logsumexp_fn(_axes(a, axis), bool(keepdims))(a)


@functools.cache
def _softmax_fn(axes: tuple[int, ...]) -> custom_vjp:
    def fun(x):
        e, _ = _exp_shifted(x, axes)
        return e / fnp.sum(e, axis=axes, keepdims=True)

    def fwd(x):
        s = fun(x)
        return s, s

    def bwd(s, g):
        # J^T g for J = diag(s) - s s^T, without forming J.
        return (s * (g - fnp.sum(g * s, axis=axes, keepdims=True)),)

    fun.__name__ = "softmax"        # the primitive prints as custom_vjp[softmax]
    f = custom_vjp(fun)
    f.defvjp(fwd, bwd)
    return f


def softmax(x, axis: int | tuple[int, ...] | None = -1):
    """``exp(x) / sum(exp(x), axis)``, max-shifted so large logits do not overflow.

    ``axis`` is an int, a tuple of ints or None (all axes).  Reverse mode uses a
    hand-written VJP, ``s * (g - sum(g * s, axis))``; forward mode (``jvp``,
    ``jacfwd``, ``hessian``) is not available for ``softmax`` (a ``custom_vjp``
    function): use ``exp(log_softmax(x, axis))`` there.

    Examples:
        >>> import numpy as np
        >>> import funcgrad as fg
        >>> softmax(np.array([1000.0, 1000.0 + np.log(3.0)]))
        array([0.25, 0.75])
        >>> fg.grad(lambda x: softmax(x)[0])(np.array([0.0, np.log(3.0)]))
        array([ 0.1875, -0.1875])
    """
    return _softmax_fn(_axes(x, axis))(x)


def log_softmax(x, axis: int | tuple[int, ...] | None = -1):
    """``x - logsumexp(x, axis, keepdims=True)``: log-probabilities, stable for large logits.

    Its derivative comes from ``logsumexp``'s custom rule, so it works under every
    transformation, including forward mode and ``hessian``.

    Examples:
        >>> import numpy as np
        >>> log_softmax(np.array([1000.0, 1000.0 + np.log(3.0)]))
        array([-1.38629436, -0.28768207])
    """
    return x - logsumexp(x, axis=axis, keepdims=True)
