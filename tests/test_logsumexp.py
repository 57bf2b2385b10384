"""``logsumexp``, its weighted form and ``log_softmax`` as single primitives: the edges.

The op table (``tests/op_records_scipy.py``) checks them against SciPy with gradients
against finite differences, jvp, vmap and jit inside smooth domains; here are the inputs
it cannot draw: ``-inf``/``inf``/NaN entries, all ``-inf`` slices, weights that are zero
or negative, empty sums and empty axis tuples, complex input.  Expected values come from
SciPy, closed forms (the derivative of ``log sum b e^a`` in ``a_i`` is ``b_i e^{a_i} / s``,
in ``b_i`` it is ``e^{a_i} / s``) and finite differences.
"""

import warnings

import numpy as np
import pytest
import scipy.special as sc

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.testing import check_grads

INF, NAN = np.inf, np.nan


@pytest.fixture(autouse=True)
def _quiet():
    # log(0) and inf - inf on purpose: NumPy's RuntimeWarnings are expected here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with np.errstate(all="ignore"):
            yield


def softmax_np(a, axis):
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def lse_sum(w, **kw):
    """``sum(w * logsumexp(x, **kw))``: a scalar whose gradient weighs each output by ``w``."""
    return lambda x: fnp.sum(special.logsumexp(x, **kw) * w)


# -- single nodes -------------------------------------------------------------------------
def test_each_function_is_one_node():
    a, b = np.ones((2, 3)), np.array([1.0, -2.0, 0.5])
    for f, name in [(lambda x: special.logsumexp(x, axis=1), "logsumexp axes=(1,)"),
                    (lambda x: special.log_softmax(x), "log_softmax axes=(1,)"),
                    (lambda x: special.logsumexp(x, b=b, return_sign=True)[0],
                     "logsumexp_weighted axes=(0, 1)")]:
        text = str(fg.make_graph(f)(a))
        assert name in text and "custom" not in text
        if "weighted" not in name:
            assert "exp" not in text.replace("logsumexp", "").replace("log_softmax", "")


# -- non-finite inputs --------------------------------------------------------------------
EDGE_ROWS = np.array([[-INF, -INF, -INF],   # an empty sum in disguise: -inf
                      [-INF, 0.0, 1.0],     # a -inf term drops out
                      [INF, 1.0, 0.0],      # inf
                      [NAN, 0.0, 1.0],      # NaN propagates
                      [0.5, 1.0, 2.0]])


def test_non_finite_values_match_scipy():
    for kw in [{"axis": 1}, {"axis": 1, "keepdims": True}, {"axis": 0}, {"axis": None}]:
        # assert_allclose: inf equals inf, NaN equals NaN; finite values within an ulp or two.
        np.testing.assert_allclose(special.logsumexp(EDGE_ROWS, **kw), sc.logsumexp(EDGE_ROWS, **kw),
                                   rtol=1e-15)
    np.testing.assert_allclose(special.log_softmax(EDGE_ROWS, axis=1),
                               sc.log_softmax(EDGE_ROWS, axis=1), rtol=1e-15)
    np.testing.assert_array_equal(special.logsumexp(np.array([INF, -INF])), INF)


def test_gradient_at_non_finite_rows():
    w = np.array([1.0, 2.0, 1.0, 1.0, 3.0])
    g = fg.grad(lse_sum(w, axis=1))(EDGE_ROWS)
    # Finite rows: w times the softmax; a -inf entry gets weight exactly 0.
    np.testing.assert_allclose(g[1], [0.0, *softmax_np(np.array([0.0, 1.0]), 0) * 2.0], rtol=1e-15)
    assert g[1, 0] == 0.0
    np.testing.assert_allclose(g[4], 3.0 * softmax_np(EDGE_ROWS[4], 0), rtol=1e-15)
    # All -inf: 0/0.  An inf entry: inf/inf there, 0 for the finite entries of its row.
    assert np.isnan(g[0]).all()
    assert np.isnan(g[2, 0]) and (g[2, 1:] == 0.0).all()
    assert np.isnan(g[3]).all()
    # Forward mode gives the same slopes on the finite rows, one basis tangent at a time (on
    # the inf row, sum(softmax * t) is NaN for every tangent: NaN * 0 is NaN).
    jac = fg.jacfwd(lambda x: special.logsumexp(x, axis=1))(EDGE_ROWS)
    slopes = np.einsum("iij->ij", jac) * w[:, None]
    np.testing.assert_array_equal(slopes[[1, 4]], g[[1, 4]])
    assert np.isnan(slopes[[0, 2, 3]]).all()


def test_zero_cotangent_stays_zero_on_non_finite_rows():
    # The multiply rule's convention (safe_mul): a row whose output is not used gets exactly
    # 0, even where its softmax is NaN, as the custom_jvp version gave.
    w = np.array([0.0, 1.0, 0.0, 0.0, 1.0])
    g = fg.grad(lse_sum(w, axis=1))(EDGE_ROWS)
    assert (g[[0, 2, 3]] == 0.0).all()
    W = (w[:, None] * np.ones(3))
    g = fg.grad(lambda x: fnp.sum(special.log_softmax(x) * W))(EDGE_ROWS)
    assert (g[[0, 2, 3]] == 0.0).all() and np.isfinite(g).all()


def test_log_softmax_gradient_closed_form():
    # d/dx_j sum_i w_i log_softmax(x)_i = w_j - sum(w) softmax(x)_j
    x = np.array([[0.3, -1.2, 2.0, 0.0], [1000.0, 1001.0, 999.0, -INF]])
    w = np.array([[1.0, 0.5, -2.0, 3.0], [0.2, 1.0, 0.0, 0.0]])
    g = fg.grad(lambda x: fnp.sum(special.log_softmax(x) * w))(x)
    expected = w - np.sum(w, axis=1, keepdims=True) * softmax_np(x, 1)
    np.testing.assert_allclose(g, expected, rtol=1e-13, atol=1e-15)
    t = np.ones_like(x) * np.array([1.0, -1.0, 0.5, 2.0])
    t[1, 3] = 0.0
    _, tan = fg.jvp(special.log_softmax, (x,), (t,))
    np.testing.assert_allclose(tan, t - np.sum(softmax_np(x, 1) * t, axis=1, keepdims=True),
                               rtol=1e-13, atol=1e-15)


def test_second_order_closed_form():
    # The Hessian of logsumexp is diag(s) - s s^T; of log_softmax's row sum, -(that) * n.
    x = np.array([0.1, -0.7, 1.3, 2.0])
    s = softmax_np(x, 0)
    h = np.diag(s) - np.outer(s, s)
    np.testing.assert_allclose(fg.hessian(special.logsumexp)(x), h, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(fg.hessian(lambda x: fnp.sum(special.log_softmax(x)))(x),
                               -len(x) * h, rtol=1e-13, atol=1e-15)
    v = np.array([1.0, 0.0, -2.0, 0.5])
    _, hvp = fg.jvp(fg.grad(special.logsumexp), (x,), (v,))
    np.testing.assert_allclose(hvp, h @ v, rtol=1e-13, atol=1e-16)
    check_grads(lambda x: special.log_softmax(x, axis=0), (np.array([[0.2, 1.0], [-0.5, 0.3]]),),
                order=3, eps=1e-4, rtol=1e-4, atol=1e-7)


# -- weights ------------------------------------------------------------------------------
def test_zero_weights_drop_their_terms_but_not_their_slope_in_b():
    a = np.array([INF, 0.5, 3.0, -1.0])       # the inf is weighted 0: it does not count
    b = np.array([0.0, 2.0, 0.0, -1.0])
    r, sign = special.logsumexp(a, b=b, return_sign=True)
    r_ref, sign_ref = sc.logsumexp(a, b=b, return_sign=True)
    assert r == pytest.approx(r_ref, rel=1e-15) and sign == sign_ref == 1.0
    f = lambda a, b: special.logsumexp(a, b=b, return_sign=True)[0]
    ga, gb = fg.grad(f, argnums=(0, 1))(a[1:], b[1:])
    s = np.sum(b[1:] * np.exp(a[1:]))
    np.testing.assert_allclose(ga, b[1:] * np.exp(a[1:]) / s, rtol=1e-14)
    assert ga[1] == 0.0                          # b == 0: no slope in a
    np.testing.assert_allclose(gb, np.exp(a[1:]) / s, rtol=1e-14)  # but e^a / s in b
    _, tb = fg.jvp(lambda b: f(a[1:], b), (b[1:],), (np.array([0.0, 1.0, 0.0]),))
    assert tb == pytest.approx(np.exp(3.0) / s, rel=1e-14)


def test_negative_weights_gradients_and_finite_differences():
    a = np.array([[0.3, 1.1, -0.4], [2.0, 0.0, 0.7]])
    b = np.array([[1.0, -3.0, 0.5], [-1.0, 0.25, 2.0]])
    f = lambda a, b: special.logsumexp(a, axis=1, b=b, return_sign=True)
    r, sign = f(a, b)
    r_ref, sign_ref = sc.logsumexp(a, axis=1, b=b, return_sign=True)
    np.testing.assert_allclose(r, r_ref, rtol=1e-14)
    np.testing.assert_array_equal(sign, sign_ref)
    assert sign[0] == -1.0  # a negative sum: log|s|, sign -1 ...
    assert np.isnan(special.logsumexp(a, axis=1, b=b)[0])  # ... and NaN without return_sign
    s = np.sum(b * np.exp(a), axis=1, keepdims=True)
    ga, gb = fg.grad(lambda a, b: fnp.sum(f(a, b)[0]), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(ga, b * np.exp(a) / s, rtol=1e-14)
    np.testing.assert_allclose(gb, np.exp(a) / s, rtol=1e-14)
    check_grads(lambda a, b: f(a, b)[0], (a, b), order=2)


def test_weights_broadcast_and_their_cotangent_is_summed():
    a = np.array([[0.3, 1.1, -0.4], [2.0, 0.0, 0.7]])
    b = np.array([1.0, 0.5, 2.0])                # broadcast over the rows of a
    r = special.logsumexp(a, b=b)
    assert r == pytest.approx(sc.logsumexp(a, b=b), rel=1e-15)
    gb = fg.grad(lambda b: special.logsumexp(a, b=b))(b)
    s = np.sum(b * np.exp(a))
    np.testing.assert_allclose(gb, np.sum(np.exp(a), axis=0) / s, rtol=1e-14)
    # a with fewer axes than b: a's cotangent is summed over b's extra axis.
    b2 = np.array([[1.0, 0.5, 2.0], [0.25, 1.0, 3.0]])
    ga = fg.grad(lambda a: special.logsumexp(a, b=b2))(a[0])
    s2 = np.sum(b2 * np.exp(a[0]))
    np.testing.assert_allclose(ga, np.sum(b2, axis=0) * np.exp(a[0]) / s2, rtol=1e-14)


def test_weighted_under_vmap_and_jit_matches_a_loop():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    f = lambda a, b: special.logsumexp(a, b=b, return_sign=True)
    loop = [f(a[i], b[i]) for i in range(4)]
    for got in (fg.vmap(f)(a, b), fg.jit(fg.vmap(f))(a, b)):
        np.testing.assert_allclose(got[0], [r for r, _ in loop], rtol=1e-14)
        np.testing.assert_array_equal(got[1], [s for _, s in loop])
    # Batched weights of one axis against unbatched 2-d a (the batch rule lines the axes up).
    a2 = rng.normal(size=(2, 3))
    got = fg.vmap(lambda b: special.logsumexp(a2, axis=1, b=b))(np.abs(b))
    np.testing.assert_allclose(got, [sc.logsumexp(a2, axis=1, b=np.abs(b[i])) for i in range(4)],
                               rtol=1e-14, atol=1e-15)
    grads = fg.vmap(fg.grad(lambda a, b: f(a, b)[0], argnums=(0, 1)))(a, b)
    for i in range(4):
        s = np.sum(b[i] * np.exp(a[i]))
        np.testing.assert_allclose(grads[0][i], b[i] * np.exp(a[i]) / s, rtol=1e-12)
        np.testing.assert_allclose(grads[1][i], np.exp(a[i]) / s, rtol=1e-12)


# -- empty sums and empty axis tuples -----------------------------------------------------
def test_empty_sum_is_minus_infinity():
    np.testing.assert_array_equal(special.logsumexp(np.zeros((0,))), sc.logsumexp(np.zeros((0,))))
    np.testing.assert_array_equal(special.logsumexp(np.zeros((2, 0)), axis=1), [-INF, -INF])
    assert special.logsumexp(np.zeros((0, 3)), axis=0, keepdims=True).shape == (1, 3)
    assert special.logsumexp(np.zeros((0, 3)), axis=1).shape == (0,)
    assert special.log_softmax(np.zeros((2, 0))).shape == (2, 0)
    assert fg.grad(lambda x: fnp.sum(special.logsumexp(x, axis=1)))(np.zeros((2, 0))).shape == (2, 0)
    # SciPy 1.17 answers sign -1 for an empty weighted sum; it is 0, like any zero sum.
    r, sign = special.logsumexp(np.zeros((0,)), b=np.zeros((0,)), return_sign=True)
    assert (r, sign) == (-INF, 0.0)


def test_empty_axis_tuple_is_the_identity():
    a = np.array([[1.0, -INF], [INF, -2.0]])
    np.testing.assert_array_equal(special.logsumexp(a, axis=()), sc.logsumexp(a, axis=()))
    w = np.array([[2.0, 3.0], [4.0, 5.0]])
    g = fg.grad(lambda x: fnp.sum(special.logsumexp(x, axis=()) * w))(np.array([[1.0, 7.0], [-3.0, 0.0]]))
    np.testing.assert_array_equal(g, w)  # d/dx log(exp(x)) = exp(x) / exp(x) = 1


# -- dtypes -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_low_precision_keeps_its_dtype(dtype):
    x = np.array([[0.5, 1.0, -1.0]], dtype)
    for f in (lambda x: special.logsumexp(x, axis=1), lambda x: special.log_softmax(x)[:, 0],
              lambda x: special.logsumexp(x, axis=1, b=np.ones(3, dtype))):
        assert f(x).dtype == dtype
        assert fg.grad(lambda x, f=f: fnp.sum(f(x)))(x).dtype == dtype
    assert special.logsumexp(np.array([1, 2])).dtype == np.float64  # integers: float64, as SciPy


@pytest.mark.parametrize("x", [np.array([True, False]), np.array([1, 2])])
def test_integer_and_bool_input_give_float64_in_the_graph_too(x):
    for f in (special.logsumexp, special.log_softmax, special.softmax):
        assert f(x).dtype == np.float64 == fg.jit(f)(x).dtype
        assert "f64[" in str(fg.make_graph(f)(x)).splitlines()[1]  # the node's declared type
    np.testing.assert_allclose(special.logsumexp(x), sc.logsumexp(x), rtol=1e-15)


def test_complex_input_matches_scipy_and_its_tangent_is_the_softmax():
    z = np.array([1.0 + 1.0j, 2.0 - 0.5j, -0.3 + 2.0j])
    assert special.logsumexp(z) == pytest.approx(sc.logsumexp(z), rel=1e-15)
    np.testing.assert_allclose(special.log_softmax(z), z - sc.logsumexp(z), rtol=1e-15)
    # Holomorphic: the tangent along t is sum(softmax(z) * t), softmax(z) = exp(z) / sum(exp(z)).
    t = np.array([0.5 - 1.0j, 1.0, 2.0j])
    _, tan = fg.jvp(special.logsumexp, (z,), (t,))
    assert tan == pytest.approx(np.sum(np.exp(z) / np.sum(np.exp(z)) * t), rel=1e-14)
