"""The Numba backend's float64 ``exp`` and ``tanh`` (``funcgrad/backends/_numba_math.py``).

They replace libm's scalar calls in the generated loops, so their accuracy is checked here
against correctly rounded values: ``np.longdouble`` (80-bit on x86: 64-bit significands,
within ~2**-11 ulp of the exact value), or, where ``long double`` is only a double,
``decimal`` at 50 digits on a smaller sample.  The bounds asserted are the ones measured
over 10**7 inputs on 2026-12-08 (x86-64 with FMA and AVX-512; ``docs/jit.md``):

=====  ============  ==========================  ===============================
func   max error     equal to correctly rounded  equal to ``np.exp``/``np.tanh``
=====  ============  ==========================  ===============================
exp    0.506 ulp     99.936 % (libm: 99.936 %)   96.09 % (NumPy's own: 96.09 %)
tanh   0.806 ulp     97.31 % (libm: 79.7 %)      84.78 % (NumPy's own: 85.37 %)
=====  ============  ==========================  ===============================

NumPy's float64 ``exp``/``tanh`` on an AVX-512 machine are its own SIMD approximations,
which are not correctly rounded either; on other machines they are libm's.  So the
agreement with NumPy is asserted relative to NumPy's own agreement with the correctly
rounded values.
"""

from __future__ import annotations

import decimal

import numpy as np
import pytest

pytest.importorskip("numba")

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.backends import _numba_fused
from funcgrad.ops import elementwise as ew
from funcgrad.optimize.fusion import Program

EXP = Program([(ew.exp_p, (("in", 0),))], 0, 1)
TANH = Program([(ew.tanh_p, (("in", 0),))], 0, 1)
F64 = (np.dtype(np.float64),)

#: Measured bounds (see the module docstring), rounded up in the last digit shown.
MAX_ULP = {"exp": 0.51, "tanh": 0.81}
#: Least fraction equal to the correctly rounded value (measured 0.99936 and 0.9731).
MIN_CORRECTLY_ROUNDED = {"exp": 0.999, "tanh": 0.97}

LONG_DOUBLE = np.finfo(np.longdouble).nmant >= 63


def _kernel(program):
    """The generated flat loop for ``program`` on float64 (compiled directly: the planner
    may send a one-instruction Program to NumPy)."""
    typed = _numba_fused.typed_for(program, F64)
    assert typed is not None and typed.body[0].endswith("_float64(x0))"), typed
    kernel = _numba_fused.compiled_kernel(program, typed, F64, (1,), 1)

    def run(x):
        out = np.empty_like(x)
        kernel(out, x)
        return out
    return run


def _sample(name: str, n: int) -> np.ndarray:
    """A deterministic sample of the function's domain: uniform, dense near 0, around the
    thresholds (overflow/underflow for exp; the formula switch at 0.55 and saturation at
    ~19.06 for tanh), integers and halves."""
    rng = np.random.default_rng(20261208)
    tiny = rng.standard_normal(n // 8) * 10.0 ** rng.uniform(-20, -1, n // 8)
    if name == "exp":
        parts = [rng.uniform(-745.2, 709.8, n // 2), tiny, rng.uniform(-1, 1, n // 8),
                 rng.uniform(709.0, 709.79, n // 16), rng.uniform(-745.2, -708.0, n // 16),
                 np.arange(-745, 710, dtype=float), np.arange(-1490, 1420) / 2]
    else:
        parts = [rng.uniform(-25, 25, n // 4), rng.uniform(-1, 1, n // 4), tiny,
                 rng.uniform(0.5, 0.6, n // 16), -rng.uniform(0.5, 0.6, n // 16),
                 rng.uniform(18, 21, n // 16), -rng.uniform(18, 21, n // 16),
                 10.0 ** rng.uniform(-320, -7, n // 16), np.arange(-40, 41) / 2]
    return np.concatenate(parts)


def _decimal_value(name: str, x: float) -> decimal.Decimal:
    d = decimal.Decimal(x)
    if name == "exp":
        return d.exp()
    if abs(x) < 1e-6:  # tanh by its series: the exp formula would cancel
        return d - d ** 3 / 3 + 2 * d ** 5 / 15 - 17 * d ** 7 / 315
    e = (2 * d).exp()
    return (e - 1) / (e + 1)


def _reference(name: str, x: np.ndarray):
    """``(x, correctly rounded doubles, errors in ulp of a result got)``."""
    if LONG_DOUBLE:
        exact = getattr(np, name)(x.astype(np.longdouble))
        with np.errstate(over="ignore"):
            rounded = exact.astype(np.float64)

        def ulps(got):
            return np.abs((got.astype(np.longdouble) - exact)
                          / np.spacing(np.abs(rounded)).astype(np.longdouble)).astype(np.float64)
        return x, rounded, ulps
    x = np.ascontiguousarray(x[:: max(1, x.size // 20000)])
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        ctx.Emin, ctx.Emax = -999999, 999999
        exact = [_decimal_value(name, float(v)) for v in x]
        rounded = np.array([float(v) for v in exact])

        def ulps(got):
            with decimal.localcontext() as c:
                c.prec = 50
                return np.array([float(abs(decimal.Decimal(float(g)) - e) / decimal.Decimal(float(u)))
                                 for g, e, u in zip(got, exact, np.spacing(np.abs(rounded)))])
    return x, rounded, ulps


@pytest.mark.parametrize("name", ["exp", "tanh"])
def test_accuracy_against_correctly_rounded_values(name):
    fn = _kernel(EXP if name == "exp" else TANH)
    x, rounded, ulps = _reference(name, _sample(name, 2_000_000))
    got = fn(x)
    finite = np.isfinite(rounded) & (rounded != 0)
    errors = ulps(got)[finite]
    assert errors.max() <= MAX_ULP[name], (errors.max(), x[finite][np.argmax(errors)])
    # where the correct result is 0 or inf (exp's underflow and overflow), it is that exactly
    assert np.array_equal(got[~finite], rounded[~finite])
    correct = np.mean(got == rounded)
    assert correct >= MIN_CORRECTLY_ROUNDED[name], correct
    with np.errstate(over="ignore", under="ignore"):
        numpy = getattr(np, name)(x)
    # As often equal to NumPy's as NumPy is to the correctly rounded value, within 1 %
    # (measured: exp 0.00003 below it, tanh 0.006).
    assert np.mean(got == numpy) >= np.mean(numpy == rounded) - 0.01


def _bits(a):
    return np.asarray(a, np.float64).view(np.int64)


def test_exp_special_values_are_numpys_bit_for_bit():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, -5e-324, 1e-300,
                  709.782712893384, np.nextafter(709.782712893384, np.inf),  # last finite, inf
                  -745.1332191019411, np.nextafter(-745.1332191019411, -np.inf),  # 5e-324, 0
                  -708.4, -740.0, -744.44,  # subnormal results
                  1024.0, -1024.0, 1e308, -1e308, 512.0, -512.0, 1.0])
    got = _kernel(EXP)(x)
    with np.errstate(over="ignore", under="ignore"):
        want = np.exp(x)
    assert np.isnan(got[0])
    assert np.array_equal(_bits(got[1:]), _bits(want[1:])), (got, want)
    assert got[9] == np.inf and got[10] == 5e-324 and got[11] == 0.0


def test_tanh_special_values():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-9,
                  19.1, -19.1, 20.0, 1e308, -1e308])
    got = _kernel(TANH)(x)
    assert np.isnan(got[0])
    assert got[1:3].tolist() == [1.0, -1.0]
    assert np.array_equal(_bits(got[3:9]), _bits(x[3:9]))  # tiny inputs are their own tanh, -0.0 too
    assert got[9:].tolist() == [1.0, -1.0, 1.0, 1.0, -1.0]


def test_exp_and_tanh_in_a_jitted_scan_body_match_numpy():
    """The whole-loop generator (``_numba_bodies``) uses the same helpers as the fused kernels."""
    w = np.random.default_rng(0).normal(size=(6, 6)) * 0.5

    def f(h, xs):
        def step(h, x):
            h = fnp.tanh(h @ w + x) * (1 / (1 + fnp.exp(-x)))
            return h, fnp.exp(h)
        return fg.lax.scan(step, h, xs)

    h0 = np.random.default_rng(1).normal(size=6)
    xs = np.random.default_rng(2).normal(size=(30, 6)) * 3
    got = fg.jit(f, backend="numba")(h0, xs)
    want = fg.jit(f, backend="numpy")(h0, xs)
    for g, e in zip(fg.tree.leaves(got), fg.tree.leaves(want)):
        # (1 ulp per call; matmul and 30 steps of a contracting recurrence)
        np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-15)
