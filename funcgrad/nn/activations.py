"""Activation functions: elementwise (relu, sigmoid, gelu, ...) and along an axis (softmax, glu).

Names, signatures and values are JAX's (``jax.nn``).  Every function accepts
NumPy arrays, Python scalars and tracers, keeps the input's floating dtype, and
is written so that large inputs (``|x|`` of 1e3 and more) give finite values and
finite gradients without floating-point warnings.  At a kink the derivative is
the one of the branch that ``where`` selects there (named in each docstring; the
same as JAX's).  ``one_hot``, ``standardize`` and ``logsumexp`` live here too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.errors import ArgumentError, DTypeError, ShapeError
from funcgrad.nn._util import dtype_of, shape_of

# softmax, log_softmax (axis=-1 by default) and logsumexp are funcgrad.scipy.special's:
# max-shifted, with hand-written derivative rules.
from funcgrad.scipy.special import erfc, log_softmax, logsumexp, softmax

__all__ = ["celu", "elu", "gelu", "glu", "hard_tanh", "leaky_relu", "log_sigmoid", "log_softmax",
           "logsumexp", "one_hot", "relu", "relu6", "selu", "sigmoid", "silu", "soft_sign",
           "softmax", "softplus", "softsign", "standardize", "swish", "tanh"]

Array = Any

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SQRT_HALF = math.sqrt(0.5)
# SELU's constants (Klambauer et al. 2017), as in JAX and PyTorch.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def relu(x: Array) -> Array:
    """``max(x, 0)``, with derivative 0 at ``x == 0`` (as in PyTorch and JAX).

    Written as ``where(x > 0, x, 0)``: ``fnp.maximum(x, 0.0)`` would split the
    derivative at the tie and give 1/2.

    Examples:
        >>> import numpy as np
        >>> import funcgrad as fg
        >>> relu(np.array([-1.0, 0.0, 2.0]))
        array([0., 0., 2.])
        >>> fg.grad(relu)(0.0)
        np.float64(0.0)
    """
    return fnp.where(x > 0, x, 0.0)


def leaky_relu(x: Array, negative_slope: float = 0.01) -> Array:
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise (derivative ``negative_slope`` at 0).

    Examples:
        >>> import numpy as np
        >>> leaky_relu(np.array([-2.0, 3.0]), negative_slope=0.1)
        array([-0.2,  3. ])
    """
    return fnp.where(x > 0, x, negative_slope * x)


def sigmoid(x: Array) -> Array:
    """The logistic function ``1 / (1 + exp(-x))``, without overflow for large ``|x|``.

    Both branches exponentiate ``-|x|`` (which is at most 0), so neither ever
    overflows and the derivative stays finite: ``1 / (1 + z)`` for ``x >= 0``
    and ``z / (1 + z)`` for ``x < 0``, with ``z = exp(-|x|)``.  For very
    negative ``x`` the result keeps full relative precision (``sigmoid(-700)``
    is ``exp(-700)``, not 0).

    Examples:
        >>> import numpy as np
        >>> import funcgrad as fg
        >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
        array([0. , 0.5, 1. ])
        >>> fg.grad(sigmoid)(0.0)
        np.float64(0.25)
    """
    nonneg = x >= 0
    z = fnp.exp(fnp.where(nonneg, -x, x))       # exp(-|x|), in (0, 1]
    return fnp.where(nonneg, 1.0 / (1.0 + z), z / (1.0 + z))


def tanh(x: Array) -> Array:
    """The hyperbolic tangent (``fnp.tanh``); saturates to ±1 without overflow.

    Examples:
        >>> import numpy as np
        >>> tanh(np.array([0.0, 1000.0]))
        array([0., 1.])
    """
    return fnp.tanh(x)


def gelu(x: Array, approximate: bool = True) -> Array:
    """GELU, ``x * Phi(x)``: by default its tanh approximation (JAX's default, ``approximate=True``).

    ``approximate=True``: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))``
    (PyTorch's ``gelu(x, approximate='tanh')``), within 5e-4 of the exact form.
    ``approximate=False``: the exact ``0.5 x erfc(-x / sqrt(2))`` (PyTorch's
    default ``gelu(x)``).

    Examples:
        >>> import numpy as np
        >>> gelu(np.array([-1000.0, 0.0, 1.0]))
        array([-0.        ,  0.        ,  0.84119199])
        >>> gelu(np.array([1.0]), approximate=False)          # 1 * Phi(1)
        array([0.84134475])
    """
    if not isinstance(approximate, (bool, np.bool_)):
        raise ArgumentError(f"gelu: approximate must be True or False, got {approximate!r}")
    if not approximate:
        return 0.5 * x * erfc(-_SQRT_HALF * x)
    inner = _SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
    return 0.5 * x * (1.0 + fnp.tanh(inner))


def softplus(x: Array) -> Array:
    """``log(1 + exp(x))``, computed as ``logaddexp(0, x)`` so large ``|x|`` neither overflows nor underflows.

    Its derivative is ``sigmoid(x)``.

    Examples:
        >>> import numpy as np
        >>> softplus(np.array([-1000.0, 1000.0]))
        array([   0., 1000.])
        >>> float(softplus(0.0))                       # log(2)
        0.6931471805599453
    """
    return fnp.logaddexp(0.0, x)



def log_sigmoid(x: Array) -> Array:
    """``log(sigmoid(x)) = -softplus(-x)``: exact for any ``x`` (``log_sigmoid(-1000) == -1000``).

    Its derivative is ``sigmoid(-x)``.

    Examples:
        >>> import numpy as np
        >>> float(log_sigmoid(-1000.0)), float(log_sigmoid(0.0))      # -1000, -log(2)
        (-1000.0, -0.6931471805599453)
    """
    return -softplus(-x)


def silu(x: Array) -> Array:
    """SiLU (swish): ``x * sigmoid(x)``; ``swish`` is the same function.

    Examples:
        >>> import numpy as np
        >>> silu(np.array([-1000.0, 0.0, 2.0]))
        array([-0.        ,  0.        ,  1.76159416])
    """
    return x * sigmoid(x)


swish = silu


def _expm1_of_nonpositive(x: Array) -> Array:
    """``expm1(min(x, 0))`` in ``(-1, 0]``: the exponential of a large positive ``x`` is never
    computed, so neither the value nor the derivative overflows (``0 * inf`` would be NaN)."""
    return fnp.expm1(fnp.where(x > 0, 0.0, x))


def elu(x: Array, alpha: float = 1.0) -> Array:
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise (via ``expm1``: exact near 0).

    The derivative at 0 is the left branch's, ``alpha`` (as in JAX).

    Examples:
        >>> import numpy as np
        >>> import funcgrad as fg
        >>> elu(np.array([-1000.0, -1.0, 2.0]))
        array([-1.        , -0.63212056,  2.        ])
        >>> fg.grad(lambda x: elu(x, alpha=0.5))(0.0)
        np.float64(0.5)
    """
    return fnp.where(x > 0, x, alpha * _expm1_of_nonpositive(x))


def celu(x: Array, alpha: float = 1.0) -> Array:
    """``x`` for ``x > 0``, ``alpha * (exp(x / alpha) - 1)`` otherwise; derivative 1 at 0.

    Examples:
        >>> import numpy as np
        >>> celu(np.array([-2.0, 3.0]), alpha=2.0)
        array([-1.26424112,  3.        ])
    """
    return fnp.where(x > 0, x, alpha * _expm1_of_nonpositive(x / alpha))


def selu(x: Array) -> Array:
    """SELU: ``scale * elu(x, alpha)`` with ``alpha = 1.6732632...`` and ``scale = 1.0507009...``.

    Examples:
        >>> import numpy as np
        >>> selu(np.array([-1000.0, 1.0]))
        array([-1.75809934,  1.05070099])
    """
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def relu6(x: Array) -> Array:
    """``min(max(x, 0), 6)``, with derivative 0 at both kinks, ``x == 0`` and ``x == 6`` (as JAX).

    A NaN input gives NaN (it is not clipped to a number).

    Examples:
        >>> import numpy as np
        >>> import funcgrad as fg
        >>> relu6(np.array([-1.0, 3.0, 7.0]))
        array([0., 3., 6.])
        >>> fg.grad(relu6)(0.0), fg.grad(relu6)(6.0), fg.grad(relu6)(3.0)
        (np.float64(0.0), np.float64(0.0), np.float64(1.0))
    """
    return fnp.where(x >= 6, 6.0, fnp.where(x <= 0, 0.0, x))


def hard_tanh(x: Array) -> Array:
    """``x`` clipped to ``[-1, 1]``, with derivative 1 at ``x == ±1`` (as JAX: the kink belongs to
    the middle piece).

    A NaN input gives NaN.

    Examples:
        >>> import numpy as np
        >>> import funcgrad as fg
        >>> hard_tanh(np.array([-3.0, 0.5, 3.0]))
        array([-1. ,  0.5,  1. ])
        >>> fg.grad(hard_tanh)(1.0), fg.grad(hard_tanh)(1.5)
        (np.float64(1.0), np.float64(0.0))
    """
    return fnp.where(x > 1, 1.0, fnp.where(x < -1, -1.0, x))


def softsign(x: Array) -> Array:
    """``x / (1 + |x|)``; ``soft_sign`` (JAX's name) is the same function.

    Examples:
        >>> import numpy as np
        >>> softsign(np.array([-3.0, 0.0, 1.0]))
        array([-0.75,  0.  ,  0.5 ])
    """
    return x / (1.0 + fnp.abs(x))


soft_sign = softsign


def glu(x: Array, axis: int = -1) -> Array:
    """Gated linear unit: ``a * sigmoid(b)`` where ``a, b`` are the two halves of ``x`` along ``axis``.

    ``x.shape[axis]`` must be even; the result has half that size along ``axis``.

    Examples:
        >>> import numpy as np
        >>> glu(np.array([[1.0, 2.0, 0.0, 1000.0]]))
        array([[0.5, 2. ]])
    """
    shape = shape_of(x)
    if not shape or not -len(shape) <= axis < len(shape):
        raise ShapeError(f"glu: axis={axis} is out of range for x.shape={shape}")
    if shape[axis] % 2:
        raise ShapeError(f"glu: x.shape[{axis}] must be even (it is split into two halves), got "
                         f"x.shape={shape}")
    a, b = fnp.split(x, 2, axis)
    return a * sigmoid(b)


def standardize(x: Array, axis: int | tuple[int, ...] | None = -1, mean: Array | None = None,
                variance: Array | None = None, epsilon: float = 1e-5) -> Array:
    """``(x - mean) / sqrt(variance + epsilon)``, with the mean and variance over ``axis`` by default.

    ``axis`` is an int, a tuple of ints or None (all axes).  A ``mean`` or ``variance``
    given is used as it is (it must broadcast against ``x``); otherwise they are
    ``mean(x, axis)`` and the two-pass ``mean((x - mean) ** 2, axis)`` (JAX's
    ``algorithm="stable"``; JAX's default ``"fast"`` one-pass form differs only by rounding,
    except where it cancels catastrophically).

    Examples:
        >>> import numpy as np
        >>> standardize(np.array([[1.0, 3.0]]), epsilon=0.0)
        array([[-1.,  1.]])
    """
    if mean is None:
        mean = fnp.mean(x, axis=axis, keepdims=True)
    centred = x - mean
    if variance is None:
        variance = fnp.mean(centred * centred, axis=axis, keepdims=True)
    return centred / fnp.sqrt(variance + epsilon)


def one_hot(x: Array, num_classes: int, *, dtype: Any = np.float64, axis: int = -1) -> Array:
    """One-hot vectors of integer class indices: ``out[..., c] = (x == c)``; out-of-range indices give zeros.

    A new axis of size ``num_classes`` is inserted at ``axis`` (``-1``: last).  As in JAX,
    an index outside ``[0, num_classes)`` (negative ones included) encodes as all zeros;
    ``x`` must be an integer array (a float index is a :class:`~funcgrad.errors.DTypeError`).
    ``dtype`` is that of the result (float64 by default).

    Examples:
        >>> import numpy as np
        >>> one_hot(np.array([0, 2, 3, -1]), 3)
        array([[1., 0., 0.],
               [0., 0., 1.],
               [0., 0., 0.],
               [0., 0., 0.]])
        >>> one_hot(np.array([1, 0]), 2, axis=0, dtype=np.int32)
        array([[0, 1],
               [1, 0]], dtype=int32)
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes < 0:
        raise ArgumentError(f"one_hot: num_classes must be a non-negative int, got {num_classes!r}")
    in_dtype = dtype_of(x)
    if in_dtype.kind not in "iu":
        raise DTypeError(f"one_hot: x must hold integer class indices, got dtype {in_dtype} "
                         f"(shape {shape_of(x)})")
    try:
        out_dtype = np.dtype(dtype)
    except TypeError:
        raise DTypeError(f"one_hot: dtype={dtype!r} is not a NumPy dtype") from None
    ndim = len(shape_of(x)) + 1
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) \
            or not -ndim <= axis < ndim:
        raise ShapeError(f"one_hot: axis={axis!r} is out of range for a result of {ndim} "
                         f"dimensions (x.shape={shape_of(x)})")
    axis = int(axis) % ndim
    classes = np.arange(num_classes).reshape([num_classes if d == axis else 1 for d in range(ndim)])
    return fnp.astype(fnp.expand_dims(x, axis) == classes, out_dtype)
