"""Elementwise primitives: arithmetic, transcendental functions, comparisons, ``where``.

Each unary op is one line: the NumPy function and its cotangent rule
``(g, ans, x) -> g * f'(x)``, written with funcgrad ops (in terms of the input
``x`` and the output ``ans``) so that it differentiates again.  Rules whose
derivative can be infinite use ``safe_mul``, so a zero cotangent stays zero.
Binary ops broadcast; the backward pass unbroadcasts their cotangents.
Conventions at non-differentiable points are in ``docs/conventions.md``.

Examples:
    >>> sin(np.array([0.0, np.pi / 2]))
    array([0., 1.])
    >>> maximum(np.array([1.5, -2.0]), 0.0)
    array([1.5, 0. ])
"""

from __future__ import annotations

import cmath
import math

import numpy as np

from funcgrad._core.primitive import Primitive, binary_binder, unary_binder
from funcgrad.ops import misc
from funcgrad.ops._family import (
    batch_elementwise,
    binary,
    broadcast_like,
    dtype_of,
    elementwise_aval,
    complex_valued,
    safe_mul,
    unary,
    unbroadcast,
)

_LN2, _LN10 = math.log(2.0), math.log(10.0)

# -- unary -----------------------------------------------------------------
negative_p = unary("negative", np.negative, lambda g, ans, x: -g)
reciprocal_p = unary("reciprocal", lambda x: np.divide(1, x),
                     lambda g, ans, x: _keep_zero(-g, ans * ans))
square_p = unary("square", np.square, lambda g, ans, x: g * 2 * x)
abs_p = unary("abs", np.abs, lambda g, ans, x: _abs_vjp(g, ans, x),
              lambda t, ans, x: _abs_jvp(t, ans, x))
sign_p = unary("sign", np.sign, lambda g, ans, x: _sign_vjp(g, ans, x),
               lambda t, ans, x: _sign_jvp(t, ans, x))
exp_p = unary("exp", np.exp, lambda g, ans, x: g * ans)
expm1_p = unary("expm1", np.expm1, lambda g, ans, x: g * (ans + 1))
log_p = unary("log", np.log, lambda g, ans, x: safe_mul(g, 1 / x))
log1p_p = unary("log1p", np.log1p, lambda g, ans, x: safe_mul(g, 1 / (x + 1)))
log2_p = unary("log2", np.log2, lambda g, ans, x: safe_mul(g, 1 / (x * _LN2)))
log10_p = unary("log10", np.log10, lambda g, ans, x: safe_mul(g, 1 / (x * _LN10)))
sqrt_p = unary("sqrt", np.sqrt, lambda g, ans, x: safe_mul(g, 0.5 / ans))
cbrt_p = unary("cbrt", np.cbrt, lambda g, ans, x: safe_mul(g, 1 / (3 * (ans * ans))))
sin_p = unary("sin", np.sin, lambda g, ans, x: g * cos(x))
cos_p = unary("cos", np.cos, lambda g, ans, x: -g * sin(x))
tan_p = unary("tan", np.tan, lambda g, ans, x: g * (1 + ans * ans))
arcsin_p = unary("arcsin", np.arcsin, lambda g, ans, x: safe_mul(g, 1 / sqrt(1 - x * x)))
arccos_p = unary("arccos", np.arccos, lambda g, ans, x: safe_mul(g, -1 / sqrt(1 - x * x)))
arctan_p = unary("arctan", np.arctan, lambda g, ans, x: g / (1 + x * x))
sinh_p = unary("sinh", np.sinh, lambda g, ans, x: g * cosh(x))
cosh_p = unary("cosh", np.cosh, lambda g, ans, x: g * sinh(x))
tanh_p = unary("tanh", np.tanh, lambda g, ans, x: g * (1 - ans * ans))
arcsinh_p = unary("arcsinh", np.arcsinh, lambda g, ans, x: g / sqrt(x * x + 1))
# sqrt(x - 1) sqrt(x + 1), not sqrt(x*x - 1): the same for real x > 1, and for complex x
# the derivative of NumPy's principal branch (sqrt(x*x - 1) flips sign left of the axis).
arccosh_p = unary("arccosh", np.arccosh,
                  lambda g, ans, x: safe_mul(g, 1 / (sqrt(x - 1) * sqrt(x + 1))))
arctanh_p = unary("arctanh", np.arctanh, lambda g, ans, x: safe_mul(g, 1 / (1 - x * x)))
floor_p = unary("floor", np.floor, lambda g, ans, x: None)
ceil_p = unary("ceil", np.ceil, lambda g, ans, x: None)
round_p = unary("round", np.round, lambda g, ans, x, **params: None)  # params: decimals
isnan_p = unary("isnan", np.isnan)
isfinite_p = unary("isfinite", np.isfinite)
logical_not_p = unary("logical_not", np.logical_not)


# -- binary ----------------------------------------------------------------
def _keep_zero(g, d):
    """``g * d``, where a zero cotangent stays zero even if ``d`` is infinite or NaN (``safe_mul``).

    This is what keeps the unchosen branch of a ``where`` at zero in reverse mode, as it
    is in forward mode: ``where(x > 0, x * log(x), 0)`` at ``x == 0``.  The guard costs
    four more operations, so it is built only when ``d`` could be non-finite: a traced
    ``d``, or a plain one that is not finite somewhere.
    """
    if type(d) is np.ndarray:  # a finite sum means every element is finite: one fast pass
        finite = cmath.isfinite(d.item() if d.size == 1 else np.add.reduce(d, axis=None))
    else:  # cmath: complex scalars too
        finite = isinstance(d, (float, int, complex, np.generic)) and cmath.isfinite(d)
    return g * d if finite else safe_mul(g, d)


def _divide_keep_zero(g, y):
    """``g / y``, with 0 (not NaN) where ``g == 0`` and ``y == 0``: :func:`_keep_zero` for a quotient."""
    if (type(y) is float or type(y) is int) and y != 0:
        return g / y
    if type(y) is np.ndarray and np.all(y):
        return g / y
    return g / where(logical_and(equal(g, 0), equal(y, 0)), np.inf, y)


def _pow_dx(g, ans, x, y):
    # y * x**(y-1), written so that x**0 has derivative 0 everywhere (also at x = 0).
    return _keep_zero(g, y * power(x, where(equal(y, 0), 1, y - 1)))


def _pow_dy(g, ans, x, y):
    # ans * log(x), with 0 at x = 0 (where x**y is flat in y for y > 0).  A real base of a
    # complex power takes the complex log (log(-2) = log 2 + i pi), as NumPy's power does.
    if complex_valued(ans) and not complex_valued(x):
        x = misc.astype(x, dtype_of(ans))
    return _keep_zero(g, ans * log(where(equal(x, 0), 1, x)))


def _extremum_dx(g, x, y, wins, np_wins):
    """``g`` where ``x`` wins (``wins(x, y)``), half of ``g`` where ``x == y`` (a tie).

    On plain arrays without a tie (the usual case, e.g. ReLU's ``maximum(z, 0.0)``) it
    is ``g * np_wins(x, y)``: the same values, two array passes fewer.
    """
    plain = type(x) is np.ndarray and type(g) is np.ndarray and type(y) in (float, np.ndarray)
    if plain and not np.equal(x, y).any():
        return g * np_wins(x, y)
    return g * (wins(x, y) + 0.5 * equal(x, y))


def _max_dx(g, ans, x, y):
    return _extremum_dx(g, x, y, greater, np.greater)


def _min_dx(g, ans, x, y):
    return _extremum_dx(g, x, y, less, np.less)


add_p = binary("add", np.add, lambda g, ans, x, y: g, lambda g, ans, x, y: g)
subtract_p = binary("subtract", np.subtract, lambda g, ans, x, y: g, lambda g, ans, x, y: -g)
multiply_p = binary("multiply", np.multiply,
                    lambda g, ans, x, y: _keep_zero(g, y), lambda g, ans, x, y: _keep_zero(g, x))
divide_p = binary("divide", np.true_divide,
                  lambda g, ans, x, y: _divide_keep_zero(g, y),
                  lambda g, ans, x, y: _divide_keep_zero(_keep_zero(-g, ans), y))
power_p = binary("power", np.power, _pow_dx, _pow_dy)


def _integer_pow_rule(g, ans, x, y):
    if y == 0:
        return g * 0
    if y == 1:
        return g
    if y == 2:
        return g * (2 * x)
    d = y * integer_pow_p.bind(x, y=y - 1)
    return _keep_zero(g, d) if y < 0 else g * d  # a negative power's derivative is infinite at 0


# x ** n for a Python int n: cheaper rules than power's (no exponent cotangent, no guards).
integer_pow_p = unary("integer_pow", lambda x, y: np.power(x, y), _integer_pow_rule)
maximum_p = binary("maximum", np.maximum, _max_dx, lambda g, ans, x, y: _max_dx(g, ans, y, x))
minimum_p = binary("minimum", np.minimum, _min_dx, lambda g, ans, x, y: _min_dx(g, ans, y, x))


def _ratio_or_zero(num, den, zero):
    """``num / den``, and 0 where ``zero`` (``den`` is 0 there), with a zero derivative at those points."""
    return where(zero, 0.0, num / where(zero, 1.0, den))


def _at_origin(x, y):
    return logical_and(equal(x, 0), equal(y, 0))


# At the origin both are not differentiable; their derivatives there are 0 (docs/conventions.md):
# hypot(x, 0) is |x|, and abs has derivative 0 at 0; norm at 0 has the same convention.
arctan2_p = binary("arctan2", np.arctan2,
                   lambda g, ans, y, x: g * _ratio_or_zero(x, x * x + y * y, _at_origin(x, y)),
                   lambda g, ans, y, x: -g * _ratio_or_zero(y, x * x + y * y, _at_origin(x, y)))
hypot_p = binary("hypot", np.hypot, lambda g, ans, x, y: g * _ratio_or_zero(x, ans, equal(ans, 0)),
                 lambda g, ans, x, y: g * _ratio_or_zero(y, ans, equal(ans, 0)))
logaddexp_p = binary("logaddexp", np.logaddexp,
                     lambda g, ans, x, y: g * exp(x - ans), lambda g, ans, x, y: g * exp(y - ans))

# Comparisons and logical ops: recorded in graphs, never differentiated.
equal_p = binary("equal", np.equal)
not_equal_p = binary("not_equal", np.not_equal)
less_p = binary("less", np.less)
less_equal_p = binary("less_equal", np.less_equal)
greater_p = binary("greater", np.greater)
greater_equal_p = binary("greater_equal", np.greater_equal)
logical_and_p = binary("logical_and", np.logical_and)
logical_or_p = binary("logical_or", np.logical_or)
logical_xor_p = binary("logical_xor", np.logical_xor)
floor_divide_p = binary("floor_divide", np.floor_divide)
mod_p = binary("mod", np.mod, lambda g, ans, x, y: g, lambda g, ans, x, y: -g * floor_divide(x, y))

# Bit operations on integers and booleans (NumPy's: ``right_shift`` of an unsigned integer is
# a logical shift), never differentiated; funcgrad.random builds its bits from them.
bitwise_and_p = binary("bitwise_and", np.bitwise_and)
bitwise_or_p = binary("bitwise_or", np.bitwise_or)
bitwise_xor_p = binary("bitwise_xor", np.bitwise_xor)
left_shift_p = binary("left_shift", np.left_shift)
right_shift_p = binary("right_shift", np.right_shift)
invert_p = unary("invert", np.invert)
# nextafter(x, y) moves x by one ulp: slope 1 in x, piecewise constant in y.
nextafter_p = binary("nextafter", np.nextafter, lambda g, ans, x, y: g, lambda g, ans, x, y: None)

# -- complex parts ---------------------------------------------------------
# Rules for complex values follow JAX's convention (docs/complex.md): a JVP is the
# ordinary (R-linear) derivative and a VJP is its transpose for the pairing
# Re(sum(a * b)), with no conjugation.  A holomorphic op's one rule ``g * f'(z)``
# serves both; the non-holomorphic ones below (and ``abs``) have a tangent rule of
# their own.  On real inputs every one of them is the real op (real(x) = conj(x) = x,
# imag(x) = 0, angle(x) = 0 or pi).
def _to_complex(g, x):
    """``g`` (real) in ``x``'s complex dtype: the transpose of taking a real part."""
    return misc.astype(g, dtype_of(x))


def _unit_conj(ans, x):
    """``conj(x) / |x|``, 0 at ``x = 0``: the derivative of ``|x|`` for complex ``x`` (as JAX's)."""
    return conj(x) / where(equal(ans, 0), 1, ans)


def _abs_vjp(g, ans, x):
    return g * _unit_conj(ans, x) if complex_valued(x) else g * sign(x)


def _abs_jvp(t, ans, x):
    return real(t * _unit_conj(ans, x)) if complex_valued(x) else t * sign(x)


def _sign_jvp(t, ans, x):
    # Real sign is piecewise constant (no derivative).  Complex sign s = z/|z| turns with the
    # phase: ds = i s Im(conj(s) dz) / |z| (0 at z = 0).  JAX gives 0 here, which is wrong.
    if not complex_valued(x):
        return None
    return 1j * ans * imag(conj(ans) * t) / _nonzero_abs(x)


def _sign_vjp(g, ans, x):
    # The transpose of _sign_jvp for the pairing Re(sum(a * b)).
    if not complex_valued(x):
        return None
    return 1j * imag(g * ans) * conj(ans) / _nonzero_abs(x)


def _nonzero_abs(x):
    a = abs(x)
    return where(equal(a, 0), 1, a)


def _angle_factor(x):
    """``-i conj(x) / |x|^2`` (0 at ``x = 0``): d angle = Re(factor * dx)."""
    m = real(x * conj(x))
    return conj(x) * -1j / where(equal(m, 0), 1, m)


real_p = unary("real", np.real, lambda g, ans, x: _to_complex(g, x),
               lambda t, ans, x: real(t) if complex_valued(x) else t)
imag_p = unary("imag", np.imag, lambda g, ans, x: _to_complex(g, x) * -1j if complex_valued(x) else None,
               lambda t, ans, x: imag(t) if complex_valued(x) else None)
conj_p = unary("conj", np.conjugate, lambda g, ans, x: conj(g) if complex_valued(g) else g)
angle_p = unary("angle", np.angle,
                lambda g, ans, x: g * _angle_factor(x) if complex_valued(x) else None,
                lambda t, ans, x: real(t * _angle_factor(x)) if complex_valued(x) else None)

# -- where -----------------------------------------------------------------
select_p = Primitive("where", np.where, elementwise_aval(np.where, "where"))
select_p.elementwise = True  # pointwise and broadcasting: the optimiser may fuse it
select_p.defvjp(None,
                lambda g, ans, c, x, y: unbroadcast(where(c, g, 0), x),
                lambda g, ans, c, x, y: unbroadcast(where(c, 0, g), y))
select_p.defjvp(None,
                lambda t, ans, c, x, y: broadcast_like(where(c, t, 0), ans),
                lambda t, ans, c, x, y: broadcast_like(where(c, 0, t), ans))
batch_elementwise(select_p)


# -- public functions --------------------------------------------------------
def _public1(prim: Primitive, npname: str):
    fn = unary_binder(prim)
    fn.__name__ = fn.__qualname__ = npname
    fn.primitive = prim
    fn.__doc__ = (f"Elementwise ``numpy.{npname}``, differentiable.\n\n"
                  f"    ``fnp.{npname}(x)`` computes ``numpy.{npname}(x)`` on arrays, Python scalars "
                  "and traced values alike.\n")
    return fn


def _public2(prim: Primitive, npname: str):
    fn = binary_binder(prim)
    fn.__name__ = fn.__qualname__ = npname
    fn.primitive = prim
    fn.__doc__ = (f"Elementwise ``numpy.{npname}`` with broadcasting, differentiable in both "
                  f"operands.\n\n    ``fnp.{npname}(x, y)`` computes ``numpy.{npname}(x, y)``; "
                  "either operand may be an array, a Python scalar or a traced value.\n")
    return fn


negative = _public1(negative_p, "negative")
reciprocal = _public1(reciprocal_p, "reciprocal")
square = _public1(square_p, "square")
abs = _public1(abs_p, "abs")  # noqa: A001 - NumPy's name
sign = _public1(sign_p, "sign")
exp = _public1(exp_p, "exp")
expm1 = _public1(expm1_p, "expm1")
log = _public1(log_p, "log")
log1p = _public1(log1p_p, "log1p")
log2 = _public1(log2_p, "log2")
log10 = _public1(log10_p, "log10")
sqrt = _public1(sqrt_p, "sqrt")
cbrt = _public1(cbrt_p, "cbrt")
sin = _public1(sin_p, "sin")
cos = _public1(cos_p, "cos")
tan = _public1(tan_p, "tan")
arcsin = _public1(arcsin_p, "arcsin")
arccos = _public1(arccos_p, "arccos")
arctan = _public1(arctan_p, "arctan")
sinh = _public1(sinh_p, "sinh")
cosh = _public1(cosh_p, "cosh")
tanh = _public1(tanh_p, "tanh")
arcsinh = _public1(arcsinh_p, "arcsinh")
arccosh = _public1(arccosh_p, "arccosh")
arctanh = _public1(arctanh_p, "arctanh")
floor = _public1(floor_p, "floor")
ceil = _public1(ceil_p, "ceil")
isnan = _public1(isnan_p, "isnan")
isfinite = _public1(isfinite_p, "isfinite")
logical_not = _public1(logical_not_p, "logical_not")
real = _public1(real_p, "real")
imag = _public1(imag_p, "imag")
conjugate = _public1(conj_p, "conjugate")
conj = conjugate

add = _public2(add_p, "add")
subtract = _public2(subtract_p, "subtract")
multiply = _public2(multiply_p, "multiply")
divide = _public2(divide_p, "divide")


def power(x, y):
    """Elementwise ``numpy.power`` with broadcasting, differentiable in both operands.

    A Python ``int`` exponent uses a dedicated primitive whose rules skip the
    exponent's derivative; integer powers of negative bases have finite gradients.

    Examples:
        >>> power(np.array([2.0, 3.0]), 2)
        array([4., 9.])
    """
    if type(y) is int:
        return integer_pow_p.bind(x, y=y)
    return power_p.bind(x, y)


maximum = _public2(maximum_p, "maximum")
minimum = _public2(minimum_p, "minimum")
arctan2 = _public2(arctan2_p, "arctan2")
hypot = _public2(hypot_p, "hypot")
logaddexp = _public2(logaddexp_p, "logaddexp")
equal = _public2(equal_p, "equal")
not_equal = _public2(not_equal_p, "not_equal")
less = _public2(less_p, "less")
less_equal = _public2(less_equal_p, "less_equal")
greater = _public2(greater_p, "greater")
greater_equal = _public2(greater_equal_p, "greater_equal")
logical_and = _public2(logical_and_p, "logical_and")
logical_or = _public2(logical_or_p, "logical_or")
logical_xor = _public2(logical_xor_p, "logical_xor")
floor_divide = _public2(floor_divide_p, "floor_divide")
mod = _public2(mod_p, "mod")
bitwise_and = _public2(bitwise_and_p, "bitwise_and")
bitwise_or = _public2(bitwise_or_p, "bitwise_or")
bitwise_xor = _public2(bitwise_xor_p, "bitwise_xor")
left_shift = _public2(left_shift_p, "left_shift")
right_shift = _public2(right_shift_p, "right_shift")
invert = _public1(invert_p, "invert")
bitwise_not = invert
nextafter = _public2(nextafter_p, "nextafter")
true_divide = divide
remainder = mod


def round(x, decimals: int = 0):  # noqa: A001 - NumPy's name
    """``numpy.round``; piecewise constant, so its derivative is zero.

    Examples:
        >>> round(np.array([1.26]), 1)
        array([1.3])
    """
    return round_p.bind(x, decimals=decimals) if decimals else round_p.bind(x)


def angle(z, deg: bool = False):
    """``numpy.angle``: the argument of complex ``z`` (radians, or degrees with ``deg=True``).

    Its derivative follows JAX's convention (``docs/complex.md``); at ``z = 0``, where the
    angle jumps, it is 0.  For real ``z`` the angle is 0 or pi, with derivative 0.

    Examples:
        >>> angle(np.array([1j, -1.0]))
        array([1.57079633, 3.14159265])
    """
    out = angle_p.bind(z)
    return out * (180 / math.pi) if deg else out


def where(condition, x, y):
    """``numpy.where(condition, x, y)``: pick ``x`` where true, else ``y``; differentiable in both.

    The branch that is not chosen receives a zero cotangent, so
    ``where(x > 0, sqrt(x), 0)`` has a finite gradient everywhere.

    Examples:
        >>> where(np.array([True, False]), 1.0, np.array([5.0, 6.0]))
        array([1., 6.])
    """
    return select_p.bind(condition, x, y)


def clip(x, a_min=None, a_max=None):
    """``numpy.clip``; the gradient passes to ``x`` inside ``[a_min, a_max]`` (bounds included), else to the bound.

    Examples:
        >>> clip(np.array([-2.0, 0.5, 3.0]), 0.0, 1.0)
        array([0. , 0.5, 1. ])
    """
    if a_min is not None:
        x = where(less(x, a_min), a_min, x)
    if a_max is not None:
        x = where(greater(x, a_max), a_max, x)
    return x


absolute = abs
