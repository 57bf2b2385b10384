"""Float64 ``exp`` as arithmetic that LLVM vectorises, for the generated Numba loops.

Numba compiles ``np.exp`` on a float64 to a call of libm's scalar ``exp``, which no
loop vectorises: in an LSTM cell's loops most of the time went to it.  The function
here is the algorithm of glibc's and ARM's optimized-routines ``exp`` (Szabolcs Nagy's),
written branch-free so that the loop around it becomes SIMD code (the table reads are
gathers):

* ``x = (k + j/128) * ln2 + r`` with ``|r| <= ln2/256``: ``k*128 + j`` is ``x*128/ln2``
  rounded to nearest by the ``1.5*2**52`` shift trick, and ``r`` is reduced with a
  Cody--Waite two-constant split of ``ln2/128`` (the high part has 35 significant
  bits, so ``(k*128 + j) * high`` is exact);
* ``2**(j/128) = H[j] * (1 + T[j])`` from two 128-entry tables (built here in 200-bit
  fixed point, Python integers); ``e**r - 1`` is its Taylor polynomial to ``r**6`` (truncation below
  ``2**-71``);
* ``2**k`` is added to ``H[j]``'s exponent bits; results near the overflow threshold are
  scaled by ``2**1009`` (rounding to ``inf`` exactly where ``exp`` overflows), and
  results in the subnormal range are computed at ``2**1022`` times their size and
  rounded once (glibc's ``specialcase``), so they are rounded as a correct ``exp``
  would round them and underflow to ``0.0`` where it does;
* ``x >= 1024`` gives ``inf``, ``x <= -1024`` (and ``-inf``) ``0.0``, NaN stays NaN.

``tanh_float64`` (below) is built on it.  Measured accuracy over 10**7 inputs
(``tests/test_numba_math.py``, ``docs/jit.md``): ``exp`` at most 0.506 ulp from the
correctly rounded value (libm's: 0.507), ``tanh`` at most 0.81 ulp (libm's: 2.19).
"""

from __future__ import annotations

import hashlib
import math
import pathlib

import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

#: Table size (2**EXP_BITS entries) of ``2**(j/N)``.
EXP_BITS = 7
EXP_N = 1 << EXP_BITS


#: Fixed-point precision (bits) of the tables' construction, in Python integers (no import:
#: ``decimal`` is not always importable where the backend is, e.g. after dropping privileges).
_P = 200


def _ln2_fixed() -> int:
    """``ln 2 * 2**_P`` to within ``_P + 1`` units: ``sum(1 / (k * 2**k))``."""
    return sum((1 << _P) // (k << k) for k in range(1, _P + 8))


def _tables() -> tuple[np.ndarray, np.ndarray]:
    """``(SBITS, TAIL)``: ``2**(j/N) = H * (1 + TAIL[j])`` with ``H`` a double, and ``SBITS[j]``
    the bits of ``H`` less ``j << (52 - EXP_BITS)`` (the shifted index added back at run time)."""
    root = 2 << _P
    for _ in range(EXP_BITS):  # 2**(1/N) by EXP_BITS square roots, in fixed point
        root = math.isqrt(root << _P)
    sbits, tail, power = [], [], 1 << _P
    for j in range(EXP_N):
        high = power / (1 << _P)  # int / int: correctly rounded
        high_fixed = int(high * 2.0 ** _P)  # exact
        tail.append((power - high_fixed) / high_fixed)
        sbits.append(int(np.float64(high).view(np.int64)) - (j << (52 - EXP_BITS)))
        power = power * root >> _P
    return np.array(sbits, np.int64), np.array(tail, np.float64)


EXP_SBITS, EXP_TAIL = _tables()


def _ln2_split() -> tuple[float, float]:
    """``ln2/N`` as ``high + low``: ``high`` with 35 significant bits (``n * high`` is exact for
    ``|n| < 2**18``), ``low`` the correctly rounded rest."""
    exact = _ln2_fixed() // EXP_N
    bits = int(np.float64(exact / (1 << _P)).view(np.int64)) & ~((1 << (52 - 34)) - 1)
    high = float(np.int64(bits).view(np.float64))
    return high, (exact - int(high * 2.0 ** _P)) / (1 << _P)


LN2_HIGH, LN2_LOW = _ln2_split()
INV_LN2_N = (EXP_N << _P) / _ln2_fixed()  # only rounds k: need not be exact
SHIFT = 1.5 * 2.0**52


@intrinsic
def bits_of(typingctx, x):
    """The bits of a float64 as an int64 (a bitcast, not a conversion)."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def float_of(typingctx, n):
    """The float64 whose bits are the int64 ``n``."""
    if n != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@intrinsic
def fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (``llvm.fma``: one instruction on a CPU with FMA)."""
    if not (a == b == c == types.float64):
        return None

    def codegen(context, builder, signature, args):
        double = ir.DoubleType()
        f = cgutils.get_or_insert_function(builder.module, ir.FunctionType(double, [double] * 3),
                                           "llvm.fma.f64")
        return builder.call(f, args)
    return types.float64(types.float64, types.float64, types.float64), codegen


#: A stamp of this module's source: part of every generated module that uses it, so an edit
#: here changes the generated file's name and Numba's disk cache loads no stale code.
STAMP = hashlib.sha1(pathlib.Path(__file__).read_bytes()).hexdigest()[:16]


def exp_float64_source(fma: bool) -> str:
    """Source of ``exp_float64(x)``; with ``fma`` (the CPU has it) each multiply-add of the
    reduction, the polynomial and the scaling is one :func:`fma` (rounded once).

    ``inline="always"``: Numba inlines it into the calling loop, which LLVM then vectorises
    (as a separate function LLVM does not inline it: too large).  The multiply-adds are
    explicit, not ``fastmath``, because an inlined function is compiled with its caller's
    flags, and the kernels keep NumPy's rounding for the user's own arithmetic.
    """
    def mad(a: str, b: str, c: str) -> str:
        return f"fma({a}, {b}, {c})" if fma else f"({a} * {b} + ({c}))"

    m = 52 - EXP_BITS
    # glibc's order: tail + r + r2 * (1/2 + r/6) + r2**2 * (1/24 + r/120 + r2/720)
    tmp = mad("r2 * r2", mad("r2", repr(1 / 720), mad("r", repr(1 / 120), repr(1 / 24))),
              mad("r2", mad("r", repr(1 / 6), "0.5"), "EXP_TAIL[j] + r"))
    return f'''\
# _numba_math {STAMP}
from funcgrad.backends._numba_math import EXP_SBITS, EXP_TAIL, bits_of, float_of, fma


@numba.njit(inline="always", error_model="numpy")
def exp_float64(x):
    kd = {mad("x", repr(INV_LN2_N), repr(SHIFT))}
    ki = bits_of(kd)
    kd = kd - {SHIFT!r}
    r = {mad("kd", repr(-LN2_LOW), mad("kd", repr(-LN2_HIGH), "x"))}
    j = ki & {EXP_N - 1}
    sbits = EXP_SBITS[j] + (ki << {m})
    r2 = r * r
    tmp = {tmp}
    scale = float_of(sbits)
    normal = {mad("scale", "tmp", "scale")}
    big = float_of(sbits - {1009 << 52})
    big = {2.0 ** 1009!r} * {mad("big", "tmp", "big")}
    small = float_of(sbits + {1022 << 52})
    y = {mad("small", "tmp", "small")}
    lo = {mad("small", "tmp", "small - y")}
    hi = 1.0 + y
    lo = 1.0 - hi + y + lo
    sub = (hi + lo) - 1.0
    sub = {2.0 ** -1022!r} * (y if y >= 1.0 else (0.0 if sub == 0.0 else sub))
    out = normal if abs(x) < 512.0 else (big if x > 0.0 else sub)
    out = 0.0 if x <= -1024.0 else out
    out = np.inf if x >= 1024.0 else out
    return out if x == x else x
'''


#: ``tanh(x) = x + x * s * G(s)`` with ``s = x*x`` for ``|x| < TANH_SWITCH``: ``G`` (lowest power
#: first) is mpmath's ``chebyfit`` of degree 11 to ``(tanh(sqrt(s))/sqrt(s) - 1)/s`` on
#: ``[0, 0.5625**2]`` (60 digits; absolute error 3.7e-19, ~0.001 ulp of tanh).
TANH_G = (-0.3333333333333333, 0.133333333333333, -0.05396825396820291, 0.02186948853313033,
          -0.008863235437120377, 0.003592126352822234, -0.0014558149436249654,
          0.0005898788187502341, -0.00023836459039376214, 9.427778828319503e-05,
          -3.333062013997152e-05, 7.634414185118713e-06)
TANH_SWITCH = 0.55
#: ``tanh(x)`` rounds to 1.0 from ``x > 19.06``; larger inputs are clamped to this.
TANH_CLAMP = 20.0


def tanh_float64_source(fma_cpu: bool) -> str:
    """Source of ``tanh_float64(x)`` (and of the ``exp_float64`` it calls).

    ``|x| < 0.55``: the odd polynomial :data:`TANH_G`.  Above: ``1 - d`` with
    ``d = 2/(exp(2|x|) + 1)``, the sum ``exp + 1`` kept exactly as two doubles, the
    division's remainder recovered with an :func:`fma` (``llvm.fma``: one instruction on
    x86 with FMA and on ARM; a libm call, still correct, on an x86 without), and ``1 - d``
    rounded once, so the only errors are ``exp``'s (scaled by ``d/2``) and the last
    rounding.  ``|x| > 20`` is clamped (``tanh`` is 1.0 from 19.06); NaN stays NaN; the sign
    is applied last, so ``tanh(-0.0)`` is ``-0.0``.
    """
    g = repr(TANH_G[-1])
    for c in reversed(TANH_G[:-1]):
        g = f"fma(s, {g}, {c!r})"
    return exp_float64_source(fma_cpu) + f'''

@numba.njit(inline="always", error_model="numpy")
def tanh_float64(x):
    s = x * x
    small = fma(x * s, {g}, x)
    a = abs(x)
    a = a if a < {TANH_CLAMP!r} else {TANH_CLAMP!r}
    e = exp_float64(a + a)
    t = e + 1.0
    t_lo = (1.0 - t) + e
    d = 2.0 / t
    d_lo = (fma(-d, t, 2.0) - d * t_lo) / t
    h = 1.0 - d
    large = h + (((1.0 - h) - d) - d_lo)
    large = large if x > 0.0 else -large
    out = small if a < {TANH_SWITCH!r} else large
    out = x if a < 1e-9 else out  # tanh(x) rounds to x (and keeps -0.0)
    return out if x == x else x
'''
