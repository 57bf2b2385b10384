"""Special functions (``scipy.special``): SciPy computes the values, the rules are funcgrad ops.

Each primitive is one line, like those of :mod:`funcgrad.ops.elementwise`: the SciPy
function (looked up when it first runs, so ``import funcgrad`` never imports SciPy) and
its cotangent rule ``(g, ans, x) -> g * f'(x)``, written with funcgrad ops so that it
differentiates again (``erf' = 2/sqrt(pi) exp(-x^2)``, ``gammaln' = digamma``,
``digamma' = polygamma(1, .)``, ...).  Rules whose derivative can be infinite use
``safe_mul``, so a zero cotangent stays zero.

The result keeps the floating dtype of the inputs as NumPy's ufuncs do (SciPy returns
float64 for float16 and for ``polygamma``; funcgrad casts back).  These primitives are
elementwise and batch natively, but they do not fuse: no backend has a scalar kernel for
them, and a fused cluster holding one would send the whole cluster back to NumPy.
Conventions at the edges of each domain are in ``docs/scipy.md``.

Examples:
    >>> erf(np.array([0.0, 1.0]))
    array([0.        , 0.84270079])
    >>> xlogy(0.0, 0.0)
    np.float64(0.0)
"""

from __future__ import annotations

import functools
import math

import numpy as np

from funcgrad._core.dtypes import is_inexact
from funcgrad._core.primitive import Primitive, binary_binder, unary_binder
from funcgrad.ops import elementwise as ew
from funcgrad.ops._family import binary, safe_mul, unary

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SQRT_HALF = math.sqrt(0.5)


@functools.cache
def _scipy_special():
    import scipy.special  # a dependency of funcgrad.scipy only, imported on first use

    return scipy.special


def _out_dtype(args) -> np.dtype:
    """NumPy's float result type for these operands (Python scalars weak, integers to float64)."""
    dtype = np.result_type(*args)
    return dtype if is_inexact(dtype) else np.dtype(np.float64)


def _scipy(name: str):
    """The NumPy-side implementation: ``scipy.special.<name>``, in the operands' float dtype.

    float16 and bfloat16 are computed in float32 (SciPy has no loops for them) and cast back.
    """
    def impl(*args, **params):
        args = [a if type(a) in (bool, int, float) else np.asarray(a) for a in args]  # array_like
        dtype = _out_dtype(args)
        if dtype.itemsize < 4:  # float16, bfloat16
            args = [a if type(a) in (bool, int, float) else a.astype(np.float32) for a in args]
        with np.errstate(all="ignore"):
            out = getattr(_scipy_special(), name)(*args, **params)
        return out if out.dtype == dtype else out.astype(dtype)

    impl.__name__ = name
    return impl


def _special(prim: Primitive) -> Primitive:
    # No backend compiles these into a fused loop (see the module docstring).
    prim.elementwise = False
    return prim


_polygamma = _scipy("polygamma")


def _polygamma_impl(x, n: int):
    return _polygamma(n, x)


def _reciprocal_or_zero(num, den):
    """``num / den``, and 0 where ``num == 0`` (even where ``den`` is 0): ``x / y`` of xlogy's rule."""
    return safe_mul(num, ew.reciprocal(den))


# -- unary ---------------------------------------------------------------------------
# expit' = expit(x) expit(-x): the same as ans (1 - ans), without its cancellation for x >> 0.
expit_p = _special(unary("expit", _scipy("expit"), lambda g, ans, x: g * (ans * expit(-x))))
logit_p = _special(unary("logit", _scipy("logit"),
                         lambda g, ans, x: safe_mul(g, ew.reciprocal(x * (1 - x)))))
erf_p = _special(unary("erf", _scipy("erf"),
                       lambda g, ans, x: g * (_TWO_OVER_SQRT_PI * ew.exp(-(x * x)))))
erfc_p = _special(unary("erfc", _scipy("erfc"),
                        lambda g, ans, x: g * (-_TWO_OVER_SQRT_PI * ew.exp(-(x * x)))))
# erfcx(x) = exp(x^2) erfc(x): the scaled form that keeps log_ndtr's derivative finite.
erfcx_p = _special(unary("erfcx", _scipy("erfcx"),
                         lambda g, ans, x: g * (2 * x * ans - _TWO_OVER_SQRT_PI)))
erfinv_p = _special(unary("erfinv", _scipy("erfinv"),
                          lambda g, ans, x: safe_mul(g, _SQRT_PI_OVER_2 * ew.exp(ans * ans))))
gammaln_p = _special(unary("gammaln", _scipy("gammaln"), lambda g, ans, x: g * digamma(x)))
gamma_p = _special(unary("gamma", _scipy("gamma"), lambda g, ans, x: g * (ans * digamma(x))))
digamma_p = _special(unary("digamma", _scipy("digamma"), lambda g, ans, x: g * polygamma(1, x)))
polygamma_p = _special(unary("polygamma", _polygamma_impl,
                             lambda g, ans, x, n: g * polygamma(n + 1, x)))
ndtr_p = _special(unary("ndtr", _scipy("ndtr"),
                        lambda g, ans, x: g * (ew.exp(-0.5 * (x * x)) / _SQRT_2PI)))
# log_ndtr' = pdf / ndtr = sqrt(2/pi) / erfcx(-x/sqrt(2)): finite for x << 0 (about -x),
# where pdf and ndtr both underflow; for x >> 0 erfcx overflows to inf and the slope is 0.
log_ndtr_p = _special(unary("log_ndtr", _scipy("log_ndtr"),
                            lambda g, ans, x: g * (_SQRT_2_OVER_PI / erfcx(-_SQRT_HALF * x))))
ndtri_p = _special(unary("ndtri", _scipy("ndtri"),
                         lambda g, ans, x: safe_mul(g, _SQRT_2PI * ew.exp(0.5 * (ans * ans)))))
# entr = -x log x: slope -(log x + 1), +inf at 0 (as JAX); NaN for x < 0, where entr is -inf.
entr_p = _special(unary("entr", _scipy("entr"),
                        lambda g, ans, x: safe_mul(g, -(ew.log(x) + 1))))

# -- binary --------------------------------------------------------------------------
# xlogy(0, y) = 0 for every y, so its y-slope there is exactly 0 (JAX's rule gives 0/0 = NaN
# at y = 0); the x-slope is log(y), -inf at y = 0 (as JAX).  Likewise xlog1py at y = -1.
xlogy_p = _special(binary("xlogy", _scipy("xlogy"),
                          lambda g, ans, x, y: safe_mul(g, ew.log(y)),
                          lambda g, ans, x, y: _reciprocal_or_zero(g * x, y)))
xlog1py_p = _special(binary("xlog1py", _scipy("xlog1py"),
                            lambda g, ans, x, y: safe_mul(g, ew.log1p(y)),
                            lambda g, ans, x, y: _reciprocal_or_zero(g * x, 1 + y)))
betaln_p = _special(binary("betaln", _scipy("betaln"),
                           lambda g, ans, a, b: g * (digamma(a) - digamma(a + b)),
                           lambda g, ans, a, b: g * (digamma(b) - digamma(a + b))))


# -- binders -------------------------------------------------------------------------
expit = unary_binder(expit_p)
logit = unary_binder(logit_p)
erf = unary_binder(erf_p)
erfc = unary_binder(erfc_p)
erfcx = unary_binder(erfcx_p)
erfinv = unary_binder(erfinv_p)
gammaln = unary_binder(gammaln_p)
gamma = unary_binder(gamma_p)
digamma = unary_binder(digamma_p)
ndtr = unary_binder(ndtr_p)
log_ndtr = unary_binder(log_ndtr_p)
ndtri = unary_binder(ndtri_p)
entr = unary_binder(entr_p)
xlogy = binary_binder(xlogy_p)
xlog1py = binary_binder(xlog1py_p)
betaln = binary_binder(betaln_p)


def polygamma(n: int, x):
    """The ``n``-th derivative of ``digamma``, differentiable in ``x`` (``n``: a non-negative int)."""
    return polygamma_p.bind(x, n=n)
