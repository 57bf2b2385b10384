"""Piecewise elementwise primitives: rounding, ``fabs``, ``copysign``, ``heaviside``, ``fmod``,
``fmax``/``fmin`` and ``nan_to_num``.

Each is smooth between its kinks and jumps.  One rule serves both modes (the
family helpers of ``_family.py``), so forward and reverse mode agree at every
kink; the values chosen there are listed in ``docs/conventions.md``:

* ``rint``, ``trunc``, ``fix``: zero derivative everywhere (as ``floor``/``round``);
* ``fabs(x)`` at 0: 0 (as ``abs``); ``copysign(x, y)``: ``d/dx`` is 0 at ``x == 0``,
  ``d/dy`` is 0 everywhere (the sign of ``y`` only flips);
* ``heaviside(x, h)``: 0 in ``x``; 1 in ``h`` where ``x == 0`` (the value there is ``h``);
* ``fmod(x, y)``: ``1`` in ``x`` and ``-trunc(x / y)`` in ``y`` (JAX's ``rem``);
* ``fmax``/``fmin``: 1/2 to each operand at a tie (as ``maximum``), all of it to the
  operand that is not NaN, 0 to both where both are NaN;
* ``nan_to_num``: 1 where ``x`` is finite, 0 where it was replaced by a constant.

Examples:
    >>> fmax(np.array([1.0, np.nan]), np.array([np.nan, 2.0]))
    array([1., 2.])
    >>> trunc(np.array([-1.5, 1.5]))
    array([-1.,  1.])
"""

from __future__ import annotations

import numpy as np

from funcgrad._core.primitive import Primitive, Tracer, binary_binder, unary_binder
from funcgrad.ops import elementwise as ew
from funcgrad.ops._array_like import as_operand
from funcgrad.ops._family import binary, complex_valued, unary

# -- unary -----------------------------------------------------------------
rint_p = unary("rint", np.rint, lambda g, ans, x: None)
trunc_p = unary("trunc", np.trunc, lambda g, ans, x: None)
fabs_p = unary("fabs", np.fabs, lambda g, ans, x: g * ew.sign(x))


def _nan_to_num_rule(g, ans, x, nan, posinf, neginf):
    return ew.where(ew.isfinite(x), g, 0)


# Real values only: a complex x is split into its parts by nan_to_num below.
nan_to_num_p = unary("nan_to_num", lambda x, nan, posinf, neginf: np.nan_to_num(
    x, nan=nan, posinf=posinf, neginf=neginf), _nan_to_num_rule)


# -- binary ----------------------------------------------------------------
def _copysign_dx(g, ans, x, y):
    # |x| with the sign of y: sign(x) * (+-1); 0 at x == 0, like abs.
    return g * (ew.sign(x) * copysign(1.0, y))


copysign_p = binary("copysign", np.copysign, _copysign_dx, lambda g, ans, x, y: None)
heaviside_p = binary("heaviside", np.heaviside, lambda g, ans, x, h: None,
                     lambda g, ans, x, h: ew.where(ew.equal(x, 0), g, 0))
fmod_p = binary("fmod", np.fmod, lambda g, ans, x, y: g,
                lambda g, ans, x, y: -g * trunc(x / y))


def _fextremum_share(x, y, wins):
    """How much of the derivative ``x`` gets in ``fmax``/``fmin``: 1 where it wins, 1/2 at a
    tie, 1 where only ``y`` is NaN, 0 where ``x`` is NaN."""
    x_nan, y_nan = ew.isnan(x), ew.isnan(y)
    share = ew.where(wins(x, y), 1.0, ew.where(ew.equal(x, y), 0.5, 0.0))
    return ew.where(y_nan, ew.where(x_nan, 0.0, 1.0), share)


fmax_p = binary("fmax", np.fmax, lambda g, ans, x, y: g * _fextremum_share(x, y, ew.greater),
                lambda g, ans, x, y: g * _fextremum_share(y, x, ew.greater))
fmin_p = binary("fmin", np.fmin, lambda g, ans, x, y: g * _fextremum_share(x, y, ew.less),
                lambda g, ans, x, y: g * _fextremum_share(y, x, ew.less))


# -- public functions --------------------------------------------------------
def _public(prim: Primitive, npname: str, binder, doc: str):
    fn = binder(prim)
    fn.__name__ = fn.__qualname__ = npname
    fn.primitive = prim
    fn.__doc__ = doc
    return fn


rint = _public(rint_p, "rint", unary_binder, """Elementwise ``numpy.rint`` (round half to even); zero derivative.

    Examples:
        >>> rint(np.array([0.5, 1.5, -1.7]))
        array([ 0.,  2., -2.])
    """)
trunc = _public(trunc_p, "trunc", unary_binder, """Elementwise ``numpy.trunc`` (round towards zero); zero derivative.

    Examples:
        >>> trunc(np.array([-1.7, 1.7]))
        array([-1.,  1.])
    """)
fabs = _public(fabs_p, "fabs", unary_binder, """Elementwise ``numpy.fabs`` (real inputs); the derivative is ``sign(x)``, 0 at 0.

    Examples:
        >>> fabs(np.array([-1.5, 2]))
        array([1.5, 2. ])
    """)
copysign = _public(copysign_p, "copysign", binary_binder, """Elementwise ``numpy.copysign(x, y)``: ``|x|`` with the sign of ``y``.

    The derivative in ``x`` is ``sign(x) * sign(y)`` (0 at ``x == 0``, as ``abs``);
    ``y`` only picks a sign, so its derivative is 0.

    Examples:
        >>> copysign(np.array([1.0, -2.0]), -0.0)
        array([-1., -2.])
    """)
heaviside = _public(heaviside_p, "heaviside", binary_binder, """Elementwise ``numpy.heaviside(x, h)``: 0 for ``x < 0``, ``h`` at 0, 1 for ``x > 0``.

    The derivative in ``x`` is 0 (also at the jump); in ``h`` it is 1 where ``x == 0``.

    Examples:
        >>> heaviside(np.array([-1.0, 0.0, 2.0]), 0.5)
        array([0. , 0.5, 1. ])
    """)
fmod = _public(fmod_p, "fmod", binary_binder, """Elementwise ``numpy.fmod(x, y)``: the C remainder, with the sign of ``x``.

    Derivatives: 1 in ``x`` and ``-trunc(x / y)`` in ``y`` (JAX's ``rem``).

    Examples:
        >>> fmod(np.array([5.0, -5.0]), 3.0)
        array([ 2., -2.])
    """)
fmax = _public(fmax_p, "fmax", binary_binder, """Elementwise ``numpy.fmax``: the maximum, ignoring NaN.

    At a tie each operand gets half of the derivative (as ``maximum``); where one
    operand is NaN the other gets all of it.

    Examples:
        >>> fmax(np.array([1.0, np.nan]), 0.5)
        array([1. , 0.5])
    """)
fmin = _public(fmin_p, "fmin", binary_binder, """Elementwise ``numpy.fmin``: the minimum, ignoring NaN (conventions as :func:`fmax`).

    Examples:
        >>> fmin(np.array([1.0, np.nan]), 0.5)
        array([0.5, 0.5])
    """)


def fix(x):
    """``numpy.fix``: round towards zero (``trunc``); zero derivative.

    Examples:
        >>> fix(np.array([-2.5, 2.5]))
        array([-2.,  2.])
    """
    return trunc(x)


def nan_to_num(x, copy: bool = True, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None):
    """``numpy.nan_to_num``: NaN and infinities replaced by finite numbers.

    The derivative is 1 where ``x`` is finite and 0 where a value was replaced (a
    constant); a complex ``x`` is treated part by part, as NumPy does.  ``copy`` is
    accepted for NumPy's signature: the result is always a new array.

    Examples:
        >>> nan_to_num(np.array([np.nan, -np.inf, 1.5]), posinf=9.0, neginf=-9.0)
        array([ 0. , -9. ,  1.5])
    """
    x = as_operand(x)
    if not isinstance(x, Tracer):
        return np.nan_to_num(x, copy=True, nan=nan, posinf=posinf, neginf=neginf)
    params = {"nan": float(nan), "posinf": None if posinf is None else float(posinf),
              "neginf": None if neginf is None else float(neginf)}
    if complex_valued(x):
        return (nan_to_num_p.bind(ew.real(x), **params)
                + 1j * nan_to_num_p.bind(ew.imag(x), **params))
    return nan_to_num_p.bind(x, **params)
