"""XLA's ``erf_inv``, operation for operation: the function ``jax.random.normal`` is made of.

JAX lowers ``lax.erf_inv`` to CHLO's ``erf_inv``, which XLA expands into
``w = -log1p(x * -x)`` and a polynomial in ``w`` (Giles, "Approximating the erfinv
function", GPU Computing Gems, 2011): for float32 two pieces of degree 8 (``w < 5``:
in ``w - 2.5``; else in ``sqrt(w) - 3``), for float64 three (``w < 6.25``: degree 22 in
``w - 3.125``; ``w < 16``: degree 18 in ``sqrt(w) - 3.25``; else degree 16 in
``sqrt(w) - 5``), times ``x``, and ``x * inf`` where ``|x| == 1``.  float16 and bfloat16
go through float32, as in XLA.  On CPU, XLA's ``log1p`` is Cephes' rational function for
``|x| < sqrt(2) - 1`` and ``log(1 + x)`` otherwise, its float32 ``log`` is Cephes' (an
inline polynomial, not libm's), and LLVM fuses every multiply feeding an add into one
fused multiply-add.

float32 reproduces all of it, the fused multiply-adds computed in float64 (the product
is exact there; the sum rounds twice, which differs from one rounding only in ties rarer
than 2**-29): bit for bit JAX's values on every input tested.  float64 rounds after each
multiply and add (an exact float64 fused multiply-add costs ~30 operations, ~40 are
needed) and takes ``log`` from NumPy: within 2 ulp of JAX's, equal for ~92% of inputs.
Subnormal inputs differ (XLA's CPU flushes them to zero); uniform samples are never
subnormal.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad._core.trace import Tracer
from funcgrad.ops import elementwise as ew
from funcgrad.ops import misc, special
from funcgrad.ops._family import dtype_of

Array = Any
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)

# Cephes' log1p: numerator and denominator, highest degree first (XLA's EmitLog1p).
_LOG1P_P = (4.5270000862445199635215e-5, 4.9854102823193375972212e-1, 6.5787325942061044846969e0,
            2.9911919328553073277375e1, 6.0949667980987787057556e1, 5.7112963590585538103336e1,
            2.0039553499201281259648e1)
_LOG1P_Q = (1.0, 1.5062909083469192043167e1, 8.3047565967967209469434e1, 2.2176239823732856465394e2,
            3.0909872225312059774938e2, 2.1642788614495947685003e2, 6.0118660497603843919306e1)
_SQRT2_MINUS_1 = 0.41421356237309504880

# float32 erf_inv (Giles), highest degree first: w < 5, and w >= 5.
_F32_LOW = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
            -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_F32_HIGH = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
             -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)

# float64 erf_inv, highest degree first: w < 6.25, w < 16, and w >= 16.
_F64_LOW = (
    -3.6444120640178196996e-21, -1.685059138182016589e-19, 1.2858480715256400167e-18,
    1.115787767802518096e-17, -1.333171662854620906e-16, 2.0972767875968561637e-17,
    6.6376381343583238325e-15, -4.0545662729752068639e-14, -8.1519341976054721522e-14,
    2.6335093153082322977e-12, -1.2975133253453532498e-11, -5.4154120542946279317e-11,
    1.051212273321532285e-09, -4.1126339803469836976e-09, -2.9070369957882005086e-08,
    4.2347877827932403518e-07, -1.3654692000834678645e-06, -1.3882523362786468719e-05,
    0.0001867342080340571352, -0.00074070253416626697512, -0.0060336708714301490533,
    0.24015818242558961693, 1.6536545626831027356)
_F64_MID = (
    2.2137376921775787049e-09, 9.0756561938885390979e-08, -2.7517406297064545428e-07,
    1.8239629214389227755e-08, 1.5027403968909827627e-06, -4.013867526981545969e-06,
    2.9234449089955446044e-06, 1.2475304481671778723e-05, -4.7318229009055733981e-05,
    6.8284851459573175448e-05, 2.4031110387097893999e-05, -0.0003550375203628474796,
    0.00095328937973738049703, -0.0016882755560235047313, 0.0024914420961078508066,
    -0.0037512085075692412107, 0.005370914553590063617, 1.0052589676941592334,
    3.0838856104922207635)
_F64_HIGH = (
    -2.7109920616438573243e-11, -2.5556418169965252055e-10, 1.5076572693500548083e-09,
    -3.7894654401267369937e-09, 7.6157012080783393804e-09, -1.4960026627149240478e-08,
    2.9147953450901080826e-08, -6.7711997758452339498e-08, 2.2900482228026654717e-07,
    -9.9298272942317002539e-07, 4.5260625972231537039e-06, -1.9681778105531670567e-05,
    7.5995277030017761139e-05, -0.00021503011930044477347, -0.00013871931833623122026,
    1.0103004648645343977, 4.8499064014085844221)


def _f32(bits: int) -> np.float32:
    return np.array(bits, np.uint32).view(np.float32)[()]


# XLA's CPU float32 log (Cephes' logf): its constants, as float32 bit patterns.
_LOGF_TINY = _f32(0x00800000)
_LOGF_SQRTHF = _f32(0x3F3504F3)
_LOGF_C = tuple(map(_f32, (0x3D9021BB, 0xBDEBD1B8, 0xBDFE5D4F, 0x3E11E9BF, 0x3E4CCEAC, 0xBE7FFFFC,
                           0x3DEF251A, 0xBE2AAE50, 0x3EAAAAAA)))
_LOGF_LN2_LO, _LOGF_LN2_HI = _f32(0xB95E8083), _f32(0x3F318000)


# -- fused multiply-adds ----------------------------------------------------------------
def _fma32(a, b, c):
    """``a * b + c`` in float32 with (almost always) one rounding: exact product in float64."""
    wide = misc.astype(a, _F64) * misc.astype(b, _F64) + misc.astype(c, _F64)
    return misc.astype(wide, _F32)


def _mul_add(a, b, c):
    """``a * b + c``, rounding after each (XLA's arithmetic where it does not fuse)."""
    return a * b + c


def _horner(z, coeffs, dtype: np.dtype, fma):
    """``coeffs[0] * z**n + ... + coeffs[n]``, Horner's rule from the highest degree (as XLA)."""
    if fma is _fma32:
        z = misc.astype(z, _F64)  # widened once, not at every step
    p = np.array(coeffs[0], dtype)
    for c in coeffs[1:]:
        p = fma(p, z, np.array(c, dtype))
    return p


def _pick(cond, x, if_true, if_false):
    """``where(cond, if_true(x), if_false(x))``, the same numbers (elementwise functions); on
    concrete arrays each branch is evaluated only where it is chosen, saving most of the work."""
    if isinstance(x, Tracer) or isinstance(cond, Tracer):
        return ew.where(cond, if_true(x), if_false(x))
    x, cond = np.asarray(x), np.asarray(cond)
    out = np.empty(x.shape, x.dtype)
    out[cond] = if_true(x[cond])
    out[~cond] = if_false(x[~cond])
    return out


# -- log and log1p as XLA's CPU backend computes them -------------------------------------
def _log_f32(v):
    """XLA's CPU float32 ``log`` (Cephes' ``logf``: exponent and a degree-8 polynomial)."""
    x = ew.where(ew.greater(v, _LOGF_TINY), v, _LOGF_TINY)
    bits = misc.bitcast_convert_type(x, np.uint32)
    e = misc.astype(misc.astype(ew.right_shift(bits, np.uint32(23)), np.int32) - np.int32(127), _F32)
    e = e + np.float32(1)
    m = misc.bitcast_convert_type(ew.bitwise_or(ew.bitwise_and(bits, np.uint32(0x807FFFFF)),
                                                np.uint32(0x3F000000)), _F32)  # in [0.5, 1)
    small = ew.less(m, _LOGF_SQRTHF)
    x = (m - np.float32(1)) + ew.where(small, m, np.float32(0))
    e = e - ew.where(small, np.float32(1), np.float32(0))
    x2 = x * x
    x3 = x2 * x
    c = _LOGF_C
    y, y1, y2 = _fma32(x, c[0], c[1]), _fma32(x, c[2], c[3]), _fma32(x, c[4], c[5])
    y, y1, y2 = _fma32(y, x, c[6]), _fma32(y1, x, c[7]), _fma32(y2, x, c[8])
    y = _fma32(_fma32(y, x3, y1), x3, y2)
    y = _fma32(y, x3, e * _LOGF_LN2_LO)
    r = _fma32(x2, np.float32(-0.5), x) + y
    r = _fma32(e, _LOGF_LN2_HI, r)
    r = ew.where(ew.greater(v, np.float32(0)), r, np.float32(np.nan))
    r = ew.where(ew.equal(v, np.float32(0)), np.float32(-np.inf), r)
    return ew.where(ew.equal(v, np.float32(np.inf)), np.float32(np.inf), r)


def _log1p(x, dtype: np.dtype, fma, log):
    """XLA's CPU ``log1p``: Cephes' rational function near 0, ``log(1 + x)`` elsewhere."""
    def near(x):
        num = _horner(x, _LOG1P_P, dtype, fma)
        den = _horner(x, _LOG1P_Q, dtype, fma)
        x2 = x * x
        return x + fma(x2, np.array(-0.5, dtype), (x * x2) * (num / den))

    return _pick(ew.less(ew.abs(x), np.array(_SQRT2_MINUS_1, dtype)), x, near,
                 lambda x: log(x + np.array(1.0, dtype)))


# -- erf_inv ---------------------------------------------------------------------------
def _erf_inv32(x):
    w = -_log1p(x * -x, _F32, _fma32, _log_f32)
    return _pick(ew.less(w, np.float32(5.0)), w,
                 lambda w: _horner(w + np.float32(-2.5), _F32_LOW, _F32, _fma32),
                 lambda w: _horner(ew.sqrt(w) + np.float32(-3.0), _F32_HIGH, _F32, _fma32)) * x


def _erf_inv64(x):
    w = -_log1p(x * -x, _F64, _mul_add, ew.log)

    def tail(w):
        return _pick(ew.less(w, 16.0), w,
                     lambda w: _horner(ew.sqrt(w) - 3.25, _F64_MID, _F64, _mul_add),
                     lambda w: _horner(ew.sqrt(w) - 5.0, _F64_HIGH, _F64, _mul_add))

    return _pick(ew.less(w, 6.25), w,
                 lambda w: _horner(w - 3.125, _F64_LOW, _F64, _mul_add), tail) * x


def erf_inv(u) -> Array:
    """``lax.erf_inv(u)`` as JAX computes it on CPU (see the module docstring for how close).

    The derivative is the exact one, ``sqrt(pi) / 2 * exp(erf_inv(u) ** 2)`` (as JAX's).

    Examples:
        >>> erf_inv(np.array([0.0, 0.5, -1.0], np.float32))
        array([0.        , 0.47693628,       -inf], dtype=float32)
    """
    dtype = np.dtype(dtype_of(u))
    x = misc.stop_gradient(u)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if dtype == _F64:
            y = _erf_inv64(x)
        else:
            y = misc.astype(_erf_inv32(misc.astype(x, _F32)), dtype)
        y = ew.where(ew.equal(ew.abs(x), np.array(1.0, dtype)), x * np.array(np.inf, dtype), y)
        if not isinstance(u, Tracer):
            return y
        # Traced (jit, vmap, grad): SciPy's erfinv carries the derivative; the difference,
        # a few ulp and so exact (Sterbenz), makes the value XLA's again.
        plain = special.erfinv(u)
        diff = y - plain
        return plain + misc.stop_gradient(ew.where(ew.isfinite(diff), diff, np.array(0.0, dtype)))
