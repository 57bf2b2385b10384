"""Activation functions: elementwise (relu, sigmoid, gelu, ...) and along an axis (softmax).

Every function accepts NumPy arrays, Python scalars and tracers, keeps the
input's floating dtype, and is written so that large inputs (``|x|`` of 1e3
and more) give finite values and finite gradients without floating-point
warnings.
"""

from __future__ import annotations

import math
from typing import Any

import funcgrad.numpy as fnp

# softmax and log_softmax (axis=-1 by default) are funcgrad.scipy.special's:
# max-shifted, with hand-written derivative rules.
from funcgrad.scipy.special import log_softmax, softmax

__all__ = ["gelu", "leaky_relu", "log_softmax", "relu", "sigmoid", "softmax", "softplus", "tanh"]

Array = Any

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


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


def gelu(x: Array) -> Array:
    """GELU, tanh approximation: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))``.

    This is the erf-free form (PyTorch's ``gelu(x, approximate='tanh')``,
    JAX's ``gelu(x, approximate=True)``); it differs from the exact
    ``x * Phi(x)`` by less than 5e-4.

    Examples:
        >>> import numpy as np
        >>> gelu(np.array([-1000.0, 0.0, 1.0]))
        array([-0.        ,  0.        ,  0.84119199])
    """
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

