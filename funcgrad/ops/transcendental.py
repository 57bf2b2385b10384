"""More smooth elementwise functions: ``exp2``, ``logaddexp2``, ``sinc``, ``float_power`` and
the angle conversions ``deg2rad``/``rad2deg`` (``radians``/``degrees``).

``exp2`` and ``logaddexp2`` are primitives (one line each, rules in funcgrad ops).
The others are compositions of primitives, so their derivatives of every order
come from the pieces; on plain arrays they call NumPy directly.  ``sinc`` is
analytic at 0, where its formula ``sin(pi x) / (pi x)`` is 0/0: there it takes the
Maclaurin series, whose derivatives (``sinc'(0) = 0``, ``sinc''(0) = -pi**2 / 3``,
...) come from the primitive ``sinc_maclaurin`` (the same construction as JAX's).

Examples:
    >>> exp2(np.array([3.0, -1.0]))
    array([8. , 0.5])
    >>> float(sinc(0.0)), float(sinc(0.5))
    (1.0, 0.6366197723675814)
"""

from __future__ import annotations

import math

import numpy as np

from funcgrad._core.primitive import Tracer, binary_binder, unary_binder
from funcgrad.ops import elementwise as ew
from funcgrad.ops import misc
from funcgrad.ops._array_like import as_operand
from funcgrad.ops._family import binary, dtype_of, unary

_LN2 = math.log(2.0)

exp2_p = unary("exp2", np.exp2, lambda g, ans, x: g * (ans * _LN2))
logaddexp2_p = binary("logaddexp2", np.logaddexp2,
                      lambda g, ans, x, y: g * exp2(x - ans), lambda g, ans, x, y: g * exp2(y - ans))


def _sinc_derivative_at_0(k: int) -> float:
    """The ``k``-th derivative of ``sin(pi x) / (pi x)`` at 0: ``(-1)**n pi**2n / (2n + 1)`` for ``k = 2n``."""
    return 0.0 if k % 2 else (-1) ** (k // 2) * math.pi ** k / (k + 1)


def _sinc_maclaurin(x, k):
    dtype = np.result_type(np.asarray(x).dtype, np.float16)  # floats keep their width; ints: float64
    return np.full(np.shape(x), _sinc_derivative_at_0(k), dtype)


# The constant sinc^(k)(0) in x's shape; its derivative is the next one, so every order is exact.
sinc_maclaurin_p = unary("sinc_maclaurin", _sinc_maclaurin,
                         lambda g, ans, x, k: g * sinc_maclaurin_p.bind(x, k=k + 1))

exp2 = unary_binder(exp2_p)
exp2.__name__ = exp2.__qualname__ = "exp2"
exp2.primitive = exp2_p
exp2.__doc__ = """Elementwise ``numpy.exp2`` (``2 ** x``); the derivative is ``log(2) * 2 ** x``.

    Examples:
        >>> exp2(np.array([0.0, 10.0]))
        array([1.000e+00, 1.024e+03])
    """
logaddexp2 = binary_binder(logaddexp2_p)
logaddexp2.__name__ = logaddexp2.__qualname__ = "logaddexp2"
logaddexp2.primitive = logaddexp2_p
logaddexp2.__doc__ = """Elementwise ``numpy.logaddexp2``: ``log2(2**x + 2**y)`` without overflow.

    Its derivative in ``x`` is ``2 ** (x - result)``.

    Examples:
        >>> logaddexp2(np.array([1.0]), 1.0)
        array([2.])
    """


def sinc(x):
    """``numpy.sinc``: ``sin(pi x) / (pi x)``, and 1 at 0; differentiable at every order.

    At 0 the derivatives are those of the Maclaurin series: ``sinc'(0) = 0``,
    ``sinc''(0) = -pi**2 / 3``, in forward and reverse mode alike.

    Examples:
        >>> sinc(np.array([0.0, 1.0, 0.5]))
        array([1.00000000e+00, 3.89817183e-17, 6.36619772e-01])
    """
    x = as_operand(x)
    if not isinstance(x, Tracer):
        return np.sinc(x)
    at_zero = ew.equal(x, 0)
    y = math.pi * ew.where(at_zero, 1, x)  # 1 (not 0) at 0: no 0/0, and a zero cotangent there
    return ew.where(at_zero, sinc_maclaurin_p.bind(x, k=0), ew.sin(y) / y)


def deg2rad(x):
    """``numpy.deg2rad``: ``x * (pi / 180)``, as NumPy computes it.

    Examples:
        >>> deg2rad(np.array([180.0]))
        array([3.14159265])
    """
    x = as_operand(x)
    return x * (math.pi / 180.0) if isinstance(x, Tracer) else np.deg2rad(x)


def rad2deg(x):
    """``numpy.rad2deg``: ``x * (180 / pi)``, as NumPy computes it.

    Examples:
        >>> rad2deg(np.array([np.pi]))
        array([180.])
    """
    x = as_operand(x)
    return x * (180.0 / math.pi) if isinstance(x, Tracer) else np.rad2deg(x)


def radians(x):
    """``numpy.radians`` (the same as :func:`deg2rad`).

    Examples:
        >>> radians(np.array([90.0]))
        array([1.57079633])
    """
    return deg2rad(x)


def degrees(x):
    """``numpy.degrees`` (the same as :func:`rad2deg`).

    Examples:
        >>> degrees(np.array([np.pi / 2]))
        array([90.])
    """
    return rad2deg(x)


def _float_power_dtype(x, y) -> np.dtype:
    """The dtype ``numpy.float_power`` computes in: at least float64 (complex128 for complex)."""
    def probe(v):  # Python scalars stay weak, as in NumPy's own resolution
        return v if type(v) in (bool, int, float, complex) else np.zeros((), dtype_of(v))
    return np.result_type(np.float_power(probe(x), probe(y)))


def float_power(x, y):
    """``numpy.float_power``: ``x ** y`` computed in float64 (complex128 for complex operands).

    Differentiable in both operands, with the rules of :func:`funcgrad.numpy.power`;
    the gradient of a float32 operand comes back in float32.

    Examples:
        >>> float_power(np.array([2.0], np.float32), 3).dtype
        dtype('float64')
    """
    x, y = as_operand(x), as_operand(y)
    if not isinstance(x, Tracer) and not isinstance(y, Tracer):
        return np.float_power(x, y)
    dtype = _float_power_dtype(x, y)
    if type(y) is not int:
        y = misc.astype(y, dtype) if isinstance(y, Tracer) else np.asarray(y, dtype)
    return ew.power(misc.astype(x, dtype) if isinstance(x, Tracer) else np.asarray(x, dtype), y)
