"""``funcgrad.scipy.stats`` beyond the op table: edges of the supports, invalid parameters,
closed-form gradients, tails, and multivariate_normal's shapes and errors.
"""

import numpy as np
import pytest
import scipy.stats as ss

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.errors import ArgumentError, ShapeError
from funcgrad.scipy.stats import bernoulli, beta, gamma, multivariate_normal, norm, poisson, t
from funcgrad.testing import check_grads


def test_norm_logpdf_gradients_in_every_argument_are_the_closed_forms():
    x, loc, scale = np.array([0.3, -1.2, 2.5]), 0.4, 1.7
    z = (x - loc) / scale
    gx, gloc, gscale = fg.grad(lambda x, m, s: fnp.sum(norm.logpdf(x, m, s)), argnums=(0, 1, 2))(
        x, loc, scale)
    np.testing.assert_allclose(gx, -z / scale, rtol=1e-14)
    assert gloc == pytest.approx(np.sum(z / scale), rel=1e-14)
    assert gscale == pytest.approx(np.sum((z * z - 1) / scale), rel=1e-14)


@pytest.mark.parametrize("fn, ref, x", [(norm.logcdf, ss.norm.logcdf, -40.0),
                                        (norm.logsf, ss.norm.logsf, 40.0),
                                        (norm.logcdf, ss.norm.logcdf, -300.0)])
def test_norm_log_tails_are_finite_with_finite_slopes(fn, ref, x):
    assert fn(x) == pytest.approx(ref(x), rel=1e-14)
    g = fg.grad(fn)(x)
    assert np.isfinite(g) and abs(g) == pytest.approx(abs(x), rel=1e-3)  # the Mills ratio ~ |x|


def test_norm_ppf_inverts_cdf_and_is_differentiable_in_q():
    q = np.array([0.025, 0.5, 0.9])
    x = norm.ppf(q, loc=1.0, scale=2.0)
    np.testing.assert_allclose(x, ss.norm.ppf(q, loc=1.0, scale=2.0), rtol=1e-14)
    np.testing.assert_allclose(norm.cdf(x, loc=1.0, scale=2.0), q, rtol=1e-14)
    # dx/dq = 1 / pdf(x)
    np.testing.assert_allclose(fg.grad(lambda q: fnp.sum(norm.ppf(q, 1.0, 2.0)))(q),
                               1 / ss.norm.pdf(x, 1.0, 2.0), rtol=1e-12)


INVALID = [
    ("norm.logpdf", lambda: norm.logpdf(0.5, scale=-1.0), lambda: ss.norm.logpdf(0.5, scale=-1.0)),
    ("norm.cdf", lambda: norm.cdf(0.5, scale=0.0), lambda: ss.norm.cdf(0.5, scale=0.0)),
    ("t.logpdf", lambda: t.logpdf(0.5, -2.0), lambda: ss.t.logpdf(0.5, -2.0)),
    ("gamma.logpdf", lambda: gamma.logpdf(0.5, -1.0), lambda: ss.gamma.logpdf(0.5, -1.0)),
    ("beta.logpdf", lambda: beta.logpdf(0.5, 2.0, 0.0), lambda: ss.beta.logpdf(0.5, 2.0, 0.0)),
    ("poisson.logpmf", lambda: poisson.logpmf(2, -1.0), lambda: ss.poisson.logpmf(2, -1.0)),
    ("bernoulli.logpmf", lambda: bernoulli.logpmf(1, 1.5), lambda: ss.bernoulli.logpmf(1, 1.5)),
]


@pytest.mark.parametrize("name, fun, ref", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_parameters_give_nan_as_scipy(name, fun, ref):
    assert np.isnan(ref()) and np.isnan(fun())


EDGES = [  # (name, funcgrad, SciPy): points on and outside the edges of each support
    ("gamma below 0", lambda: gamma.logpdf(-1.0, 2.0), lambda: ss.gamma.logpdf(-1.0, 2.0)),
    ("gamma at 0, a=1", lambda: gamma.logpdf(0.0, 1.0, scale=2.0),
     lambda: ss.gamma.logpdf(0.0, 1.0, scale=2.0)),
    ("gamma at 0, a=2", lambda: gamma.logpdf(0.0, 2.0), lambda: ss.gamma.logpdf(0.0, 2.0)),
    ("gamma at 0, a=0.5", lambda: gamma.logpdf(0.0, 0.5), lambda: ss.gamma.logpdf(0.0, 0.5)),
    ("gamma at loc", lambda: gamma.logpdf(1.0, 1.0, loc=1.0), lambda: ss.gamma.logpdf(1.0, 1.0, loc=1.0)),
    ("beta at 0, a=1", lambda: beta.logpdf(0.0, 1.0, 3.0), lambda: ss.beta.logpdf(0.0, 1.0, 3.0)),
    ("beta at 1, b=1", lambda: beta.logpdf(1.0, 2.0, 1.0), lambda: ss.beta.logpdf(1.0, 2.0, 1.0)),
    ("beta above 1", lambda: beta.logpdf(1.5, 2.0, 2.0), lambda: ss.beta.logpdf(1.5, 2.0, 2.0)),
    ("beta on [loc, loc+scale]", lambda: beta.logpdf(2.5, 2.0, 3.0, loc=2.0, scale=2.0),
     lambda: ss.beta.logpdf(2.5, 2.0, 3.0, loc=2.0, scale=2.0)),
    ("poisson k=0, mu=0", lambda: poisson.logpmf(0, 0.0), lambda: ss.poisson.logpmf(0, 0.0)),
    ("poisson k=1, mu=0", lambda: poisson.logpmf(1, 0.0), lambda: ss.poisson.logpmf(1, 0.0)),
    ("poisson k=-1", lambda: poisson.logpmf(-1, 2.0), lambda: ss.poisson.logpmf(-1, 2.0)),
    ("poisson k=1.5", lambda: poisson.logpmf(1.5, 2.0), lambda: ss.poisson.logpmf(1.5, 2.0)),
    ("poisson with loc", lambda: poisson.logpmf(5, 2.0, loc=3), lambda: ss.poisson.logpmf(5, 2.0, loc=3)),
    ("bernoulli k=0, p=0", lambda: bernoulli.logpmf(0, 0.0), lambda: ss.bernoulli.logpmf(0, 0.0)),
    ("bernoulli k=1, p=0", lambda: bernoulli.logpmf(1, 0.0), lambda: ss.bernoulli.logpmf(1, 0.0)),
    ("bernoulli k=1, p=1", lambda: bernoulli.logpmf(1, 1.0), lambda: ss.bernoulli.logpmf(1, 1.0)),
    ("bernoulli k=2", lambda: bernoulli.logpmf(2, 0.3), lambda: ss.bernoulli.logpmf(2, 0.3)),
]


@pytest.mark.parametrize("name, fun, ref", EDGES, ids=[c[0] for c in EDGES])
def test_values_at_the_edges_of_the_support_match_scipy(name, fun, ref):
    with np.errstate(divide="ignore"):
        expected = ref()
    got = fun()
    assert got == pytest.approx(expected, rel=1e-14) if np.isfinite(expected) else got == expected


def test_outside_the_support_the_gradient_is_zero_not_nan():
    # -inf is constant in the parameters: every slope there is 0, and no NaN leaks from
    # the log of a negative number in the branch that is not selected.
    ga, gs = fg.grad(lambda a, s: gamma.logpdf(-1.0, a, scale=s), argnums=(0, 1))(2.0, 1.5)
    assert ga == 0.0 and gs == 0.0
    ga, gb = fg.grad(lambda a, b: beta.logpdf(1.5, a, b), argnums=(0, 1))(2.0, 3.0)
    assert ga == 0.0 and gb == 0.0
    assert fg.grad(lambda mu: poisson.logpmf(1.5, mu))(2.0) == 0.0
    assert fg.grad(lambda p: bernoulli.logpmf(2, p))(0.3) == 0.0


def test_counting_distributions_gradients_are_the_closed_forms():
    k, mu = np.array([0.0, 1.0, 4.0]), 2.5
    assert fg.grad(lambda mu: fnp.sum(poisson.logpmf(k, mu)))(mu) == pytest.approx(
        np.sum(k / mu - 1), rel=1e-14)
    k, p = np.array([0.0, 1.0, 1.0]), 0.3
    assert fg.grad(lambda p: fnp.sum(bernoulli.logpmf(k, p)))(p) == pytest.approx(
        np.sum(k / p - (1 - k) / (1 - p)), rel=1e-14)
    # k log p at p = 0, k = 0 is xlogy(0, 0) = 0 with slope 0 in p; 1 - k = 1 gives -1.
    assert fg.grad(lambda p: bernoulli.logpmf(0, p))(0.0) == pytest.approx(-1.0)


@pytest.mark.parametrize("fn, args", [
    (t.logpdf, (np.array([0.3, -2.0]), 3.5, 0.2, 1.4)),
    (gamma.logpdf, (np.array([0.8, 2.0]), 1.7, 0.1, 0.9)),
    (beta.logpdf, (np.array([0.3, 0.6]), 1.7, 2.4, 0.05, 1.1)),
])
def test_logpdf_second_order_in_every_argument(fn, args):
    check_grads(fn, args, order=2)


def test_python_defaults_keep_float32():
    x = np.array([0.5, 1.5], np.float32)
    for out in (norm.logpdf(x), norm.cdf(x), t.logpdf(x, 3.0), gamma.logpdf(x, 2.0),
                beta.logpdf(x / 2, 2.0, 3.0), poisson.logpmf(np.round(x), np.float32(2.0)),
                multivariate_normal.logpdf(x, np.zeros(2, np.float32), 1.0)):
        assert out.dtype == np.float32
    assert poisson.logpmf(np.array([1, 2]), 2.0).dtype == np.float64  # integer counts


# -- multivariate normal -----------------------------------------------------------------
RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 3))
MEAN = np.array([0.1, -0.2, 0.3])
_A = RNG.standard_normal((3, 3))
COV = _A @ _A.T + np.eye(3)


@pytest.mark.parametrize("cov", [COV, np.array([0.5, 1.0, 2.0]), 1.5], ids=["full", "diag", "scalar"])
def test_mvn_logpdf_matches_scipy(cov):
    dense = cov if np.ndim(cov) == 2 else np.diag(np.broadcast_to(cov, (3,)))
    np.testing.assert_allclose(multivariate_normal.logpdf(X, MEAN, cov),
                               ss.multivariate_normal.logpdf(X, MEAN, dense), rtol=1e-13)
    np.testing.assert_allclose(multivariate_normal.pdf(X[0], MEAN, cov),
                               ss.multivariate_normal.pdf(X[0], MEAN, dense), rtol=1e-13)


def test_mvn_gradients_are_the_closed_forms():
    inv = np.linalg.inv(COV)
    d = X - MEAN
    gx, gm = fg.grad(lambda x, m: fnp.sum(multivariate_normal.logpdf(x, m, COV)), argnums=(0, 1))(
        X, MEAN)
    np.testing.assert_allclose(gx, -d @ inv, rtol=1e-12)
    np.testing.assert_allclose(gm, np.sum(d @ inv, axis=0), rtol=1e-12)
    # In cov, along a symmetric direction E: sum_k 0.5 tr((inv d_k d_k^T inv - inv) E).
    e = RNG.standard_normal((3, 3))
    e = e + e.T
    expected = sum(0.5 * np.trace((inv @ np.outer(dk, dk) @ inv - inv) @ e) for dk in d)
    for mode in ("forward", "reverse"):
        f = lambda c: fnp.sum(multivariate_normal.logpdf(X, MEAN, c))  # noqa: E731
        if mode == "forward":
            slope = fg.jvp(f, (COV,), (e,))[1]
        else:
            slope = np.sum(fg.grad(f)(COV) * e)
        assert slope == pytest.approx(expected, rel=1e-10)


def test_mvn_under_jit_vmap_and_second_order():
    f = lambda x, m: multivariate_normal.logpdf(x, m, COV)  # noqa: E731
    expected = f(X, MEAN)
    for backend in ("numpy", "numba"):
        np.testing.assert_allclose(fg.jit(f, backend=backend)(X, MEAN), expected, rtol=1e-13)
    np.testing.assert_allclose(fg.vmap(f, in_axes=(0, None))(X, MEAN), expected, rtol=1e-13)
    check_grads(lambda m: fnp.sum(f(X, m)), (MEAN,), order=2)
    check_grads(lambda a: fnp.sum(multivariate_normal.logpdf(X, MEAN, a @ a.T + np.eye(3))),
                (_A,), order=2)


def test_mvn_errors_say_what_was_expected():
    with pytest.raises(ShapeError, match="3 coordinates"):
        multivariate_normal.logpdf(np.zeros((4, 2)), MEAN, COV)
    with pytest.raises(ShapeError, match=r"\(3, 3\)"):
        multivariate_normal.logpdf(X, MEAN, np.eye(2))
    with pytest.raises(np.linalg.LinAlgError):
        multivariate_normal.logpdf(X, MEAN, -np.eye(3))
    with pytest.raises(ArgumentError, match="allow_singular"):
        multivariate_normal.logpdf(X, MEAN, COV, allow_singular=True)


def test_mvn_scalar_parameters_treat_a_vector_as_samples():
    x = np.array([0.3, -1.0, 2.0])
    np.testing.assert_allclose(multivariate_normal.logpdf(x, 0.5, 2.0),
                               ss.multivariate_normal.logpdf(x, 0.5, 2.0), rtol=1e-14)
    np.testing.assert_allclose(multivariate_normal.logpdf(x, 0.5, 2.0),
                               ss.norm.logpdf(x, 0.5, np.sqrt(2.0)), rtol=1e-14)
