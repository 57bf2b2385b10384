"""``funcgrad.scipy.special`` beyond the op table: extreme arguments, conventions at 0, errors.

The op table (``tests/op_records_scipy.py``) checks every function against SciPy with
gradients of order 1 and 2 against finite differences inside each domain; here are the
places finite differences cannot reach: the far tails, the edges of the domains, and
``logsumexp`` with weights and signs.
"""

import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.special as sc

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.errors import ArgumentError
from funcgrad.scipy import special
from funcgrad.testing import check_grads


def grad_and_jvp(f, x):
    """``f'(x)`` in reverse mode and in forward mode (they must agree)."""
    return fg.grad(f)(x), fg.jvp(f, (x,), (1.0,))[1]


def test_import_funcgrad_does_not_import_scipy():
    code = ("import sys, funcgrad, funcgrad.scipy.special, funcgrad.scipy.stats; "
            "print('scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- far tails ---------------------------------------------------------------------------
# d/dx log(ndtr(x)) and its second derivative, computed with mpmath at 50 digits
# (mpmath.diff of log(ncdf(x))), rounded to 20 significant digits.
LOG_NDTR_SLOPES = [(-40.0, 40.024968847207263723, -0.99937733162140861123),
                   (-300.0, 300.00333325926337415, -0.99998888962956105042),
                   (10.0, 7.6945986267064193463e-23, -7.6945986267064193463e-22)]


@pytest.mark.parametrize("x, d1, d2", LOG_NDTR_SLOPES)
def test_log_ndtr_is_stable_far_in_the_tails(x, d1, d2):
    assert special.log_ndtr(x) == sc.log_ndtr(x)
    for slope in grad_and_jvp(special.log_ndtr, x):
        assert slope == pytest.approx(d1, rel=1e-13)
    assert fg.grad(fg.grad(special.log_ndtr))(x) == pytest.approx(d2, rel=1e-10)


def test_log_ndtr_slope_vanishes_where_the_cdf_is_one():
    g, t = grad_and_jvp(special.log_ndtr, 40.0)  # pdf(40) / 1 underflows to 0
    assert g == 0.0 and t == 0.0


def test_expit_saturates_without_overflow_or_nan():
    x = np.array([-800.0, 800.0])
    np.testing.assert_array_equal(special.expit(x), [0.0, 1.0])
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(special.expit(x)))(x), [0.0, 0.0])
    # Closed form expit' = exp(-|x|) / (1 + exp(-|x|))**2 where it is representable.
    x = np.array([-30.0, 30.0])
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(special.expit(x)))(x),
                               np.exp(-30.0) / (1 + np.exp(-30.0)) ** 2, rtol=1e-13)


@pytest.mark.parametrize("f, x", [(special.erfinv, 1.0), (special.erfinv, -1.0),
                                  (special.ndtri, 0.0), (special.ndtri, 1.0),
                                  (special.logit, 0.0), (special.logit, 1.0)])
def test_inverse_functions_have_infinite_slope_at_the_ends(f, x):
    for slope in grad_and_jvp(f, x):
        assert slope == np.inf


def test_inverse_functions_invert_and_their_slopes_are_reciprocal():
    p = np.array([0.1, 0.5, 0.8])
    np.testing.assert_allclose(special.ndtr(special.ndtri(p)), p, rtol=1e-14)
    np.testing.assert_allclose(special.erf(special.erfinv(p)), p, rtol=1e-14)
    np.testing.assert_allclose(fg.grad(lambda p: fnp.sum(special.expit(special.logit(p))))(p),
                               np.ones(3), rtol=1e-13)


# -- conventions at 0 --------------------------------------------------------------------
@pytest.mark.parametrize("f, y0, log", [(special.xlogy, 0.0, np.log),
                                        (special.xlog1py, -1.0, np.log1p)])
def test_xlogy_at_x_zero_forward_and_reverse_agree(f, y0, log):
    for y in (y0, y0 + 2.0):
        assert f(0.0, y) == 0.0
        dx, dy = fg.grad(f, argnums=(0, 1))(0.0, y)
        _, tx = fg.jvp(f, (0.0, y), (1.0, 0.0))
        _, ty = fg.jvp(f, (0.0, y), (0.0, 1.0))
        # x-slope log(y): -inf at the edge (JAX's value); y-slope exactly 0 (xlogy(0, .) == 0,
        # where JAX's x / y rule gives 0/0 = NaN at y = 0).
        with np.errstate(divide="ignore"):
            assert dx == tx == log(y)
        assert dy == ty == 0.0
    # The mixed second derivative at x = 0 is the slope of x / y in x: 1 / y (1 / (1 + y)).
    assert fg.grad(fg.grad(f, 0), 1)(0.0, y0 + 2.0) == pytest.approx(0.5)


def test_xlogy_gradient_is_zero_where_a_mask_selects_nothing():
    # A zero cotangent stays zero through log(0) = -inf.
    g = fg.grad(lambda y: special.xlogy(0.0, y) * 0.0)(0.0)
    assert g == 0.0


def test_entr_at_zero_and_outside_its_domain():
    np.testing.assert_array_equal(special.entr(np.array([0.0, -1.0])), [0.0, -np.inf])
    g, t = grad_and_jvp(special.entr, 0.0)
    assert g == t == np.inf  # -(log x + 1) -> +inf as x -> 0+ (JAX gives inf too)
    # The one-sided derivative does not leak through a mask that excludes 0.
    assert fg.grad(lambda x: fnp.where(x > 0, special.entr(x), 0.0))(0.0) == 0.0
    assert fg.grad(special.entr)(np.e) == pytest.approx(-2.0)  # -(log e + 1)


# -- derivative chains (rules in funcgrad ops) ------------------------------------------
def test_gamma_family_derivatives_are_each_other():
    x = np.array([0.7, 1.5, 4.0])
    loss = lambda f: (lambda x: fnp.sum(f(x)))  # noqa: E731
    np.testing.assert_allclose(fg.grad(loss(special.gammaln))(x), sc.digamma(x), rtol=1e-14)
    np.testing.assert_allclose(fg.grad(loss(special.digamma))(x), sc.polygamma(1, x), rtol=1e-14)
    np.testing.assert_allclose(fg.grad(fg.grad(lambda x: special.gammaln(x)))(1.5),
                               sc.polygamma(1, 1.5), rtol=1e-14)
    np.testing.assert_allclose(fg.grad(loss(special.gamma))(x), sc.gamma(x) * sc.digamma(x),
                               rtol=1e-13)
    np.testing.assert_allclose(fg.grad(lambda x: special.polygamma(2, x))(1.5),
                               sc.polygamma(3, 1.5), rtol=1e-14)
    a, b = 1.5, 2.5
    da, db = fg.grad(special.betaln, argnums=(0, 1))(a, b)
    assert da == pytest.approx(sc.digamma(a) - sc.digamma(a + b), rel=1e-14)
    assert db == pytest.approx(sc.digamma(b) - sc.digamma(a + b), rel=1e-14)


@pytest.mark.parametrize("f", [special.erf, special.erfc, special.erfcx, special.ndtr,
                               special.log_ndtr, special.expit])
def test_third_order_matches_finite_differences(f):
    check_grads(f, (np.array([-1.3, 0.2, 0.9]),), order=3, eps=1e-4, rtol=1e-4, atol=1e-6)


def test_polygamma_order_must_be_a_concrete_non_negative_integer():
    with pytest.raises(ArgumentError, match="non-negative integers"):
        special.polygamma(-1, 1.0)
    with pytest.raises(ArgumentError, match="non-negative integers"):
        special.polygamma(1.5, 1.0)
    with pytest.raises(ArgumentError, match="traced"):
        fg.grad(lambda n: special.polygamma(n, 1.0))(1.0)
    # An integer-valued float order is accepted, as SciPy accepts it.
    assert special.polygamma(1.0, 2.0) == pytest.approx(sc.polygamma(1, 2.0), rel=1e-15)


# -- dtypes ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_low_precision_input_keeps_its_dtype(dtype):
    x = np.array([0.25, 0.5], dtype)
    for f in (special.erf, special.gammaln, special.log_ndtr, lambda x: special.polygamma(1, x)):
        out = f(x)
        assert out.dtype == dtype
        assert fg.grad(lambda x: fnp.sum(f(x)))(x).dtype == dtype
    assert special.xlogy(x, 2.0).dtype == dtype  # a Python scalar is weak
    assert special.erf(np.array([1, 2])).dtype == np.float64  # integers: float64, as SciPy


# -- logsumexp with weights and signs ----------------------------------------------------
A = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]])
B = np.array([1.0, -2.0, 1.0])


@pytest.mark.parametrize("kw", [{}, {"axis": 1}, {"axis": 0, "keepdims": True}, {"axis": (0, 1)}])
def test_logsumexp_with_weights_matches_scipy(kw):
    r, s = special.logsumexp(A, b=B, return_sign=True, **kw)
    r_ref, s_ref = sc.logsumexp(A, b=B, return_sign=True, **kw)
    np.testing.assert_allclose(r, r_ref, rtol=1e-14)
    np.testing.assert_array_equal(s, s_ref)
    with np.errstate(invalid="ignore"):
        expected = sc.logsumexp(A, b=B, **kw)  # NaN where the sum is negative
    np.testing.assert_allclose(special.logsumexp(A, b=B, **kw), expected, rtol=1e-14)


def test_logsumexp_negative_weights_at_huge_logits():
    a = np.array([1000.0, 1000.0 + np.log(3.0)])
    r, s = special.logsumexp(a, b=np.array([1.0, -1.0]), return_sign=True)  # e^1000 (1 - 3)
    assert s == -1.0 and r == pytest.approx(1000.0 + np.log(2.0), rel=1e-15)
    assert np.isnan(special.logsumexp(a, b=np.array([1.0, -1.0])))  # as SciPy: log of a negative
    r, s = special.logsumexp(np.array([1.0, 1.0]), b=np.array([1.0, -1.0]), return_sign=True)
    assert (r, s) == (-np.inf, 0.0)  # the sum is exactly 0, as SciPy


def test_logsumexp_gradients_are_the_weighted_softmax():
    a, b = np.array([1.0, 2.0, 3.0]), B
    s = np.sum(b * np.exp(a))
    for mode in ("reverse", "forward"):
        f = lambda a, b: special.logsumexp(a, b=b, return_sign=True)[0]  # noqa: E731
        if mode == "reverse":
            ga, gb = fg.grad(f, argnums=(0, 1))(a, b)
        else:
            ga, gb = fg.jacfwd(f, argnums=(0, 1))(a, b)
        np.testing.assert_allclose(ga, b * np.exp(a) / s, rtol=1e-14)  # d log|s| / da
        np.testing.assert_allclose(gb, np.exp(a) / s, rtol=1e-14)      # d log|s| / db
    check_grads(lambda a, b: special.logsumexp(a, axis=1, b=b, return_sign=True)[0], (A, B),
                order=2)


def test_logsumexp_slope_in_a_zero_weight_is_not_dropped():
    # b = 0 removes a term from the value, not from the derivative in b (JAX's masking gives 0).
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 1.0])
    r = special.logsumexp(a, b=b)
    assert r == pytest.approx(sc.logsumexp(a, b=b), rel=1e-15)
    ga, gb = fg.grad(lambda a, b: special.logsumexp(a, b=b), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(gb, np.exp(a - r), rtol=1e-14)
    np.testing.assert_allclose(ga, b * np.exp(a - r), rtol=1e-14)
    # A huge logit under a zero weight does not overflow the value.
    assert special.logsumexp(np.array([1e300, 1.0]), b=np.array([0.0, 1.0])) == 1.0


def test_logsumexp_with_weights_under_jit_and_vmap():
    f = lambda a: special.logsumexp(a, axis=-1, b=B, return_sign=True)  # noqa: E731
    expected = f(A)
    for backend in ("numpy", "numba"):
        got = fg.jit(f, backend=backend)(A)
        np.testing.assert_allclose(got[0], expected[0], rtol=1e-14)
        np.testing.assert_array_equal(got[1], expected[1])
    got = fg.vmap(f)(A)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-14)


def test_docs_page_examples_run():
    import doctest
    import pathlib

    page = pathlib.Path(__file__).parent.parent / "docs" / "scipy.md"
    with np.errstate(all="ignore"):
        result = doctest.testfile(str(page), module_relative=False, report=True,
                                  optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
