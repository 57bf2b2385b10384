"""funcgrad.nn.initializers: sample moments and bounds against the closed forms, fans, orthogonality.

Every statistical check allows 5 standard errors of its statistic for the sample size
(``sigma / sqrt(N)`` for a mean, ``sigma**2 sqrt((kurtosis - 1) / N)`` for a variance, the
kurtosis from the closed form: 3 normal, 9/5 uniform, SciPy's for the truncated normal);
the seeds are fixed, so the tests are deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import funcgrad as fg
from funcgrad.errors import ArgumentError, DTypeError, ShapeError
from funcgrad.nn import initializers as init
from funcgrad.nn._util import check_rng

TRUNC_STD = stats.truncnorm(-2, 2).std()            # 0.8796...: truncation at 2 sigma
TRUNC_KURTOSIS = stats.truncnorm(-2, 2).stats(moments="k") + 3.0
KURTOSIS = {"normal": 3.0, "uniform": 1.8, "truncated_normal": TRUNC_KURTOSIS}


def source(kind: str, seed: int = 0):
    """What an initializer draws from: a key, a Generator, or the layers' key wrapper."""
    if kind == "key":
        return fg.random.key(seed)
    if kind == "generator":
        return np.random.default_rng(seed)
    return check_rng(fg.random.key(seed), "test")


def check_moments(w, mean: float, var: float, kurtosis: float) -> None:
    w = np.asarray(w, np.float64).ravel()
    n = w.size
    assert abs(w.mean() - mean) <= 5 * math.sqrt(var / n), (w.mean(), mean)
    assert abs(w.var() - var) <= 5 * var * math.sqrt((kurtosis - 1) / n), (w.var(), var)


SOURCES = ["key", "generator", "keydraws"]
SHAPE = (200, 200)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", SOURCES)
def test_normal(kind, dtype):
    w = init.normal(0.3)(source(kind), SHAPE, dtype)
    assert w.shape == SHAPE and w.dtype == dtype
    check_moments(w, 0.0, 0.09, 3.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", SOURCES)
def test_uniform_is_on_zero_to_scale(kind, dtype):
    w = init.uniform(0.3)(source(kind), SHAPE, dtype)
    assert w.dtype == dtype and w.min() >= 0.0 and w.max() < 0.3
    assert w.min() < 0.001 and w.max() > 0.299        # it fills the interval
    check_moments(w, 0.15, 0.09 / 12, 1.8)


@pytest.mark.parametrize("bounds", [(-2.0, 2.0), (-1.0, 3.0)])
@pytest.mark.parametrize("kind", SOURCES)
def test_truncated_normal_is_not_rescaled(kind, bounds):
    lower, upper = bounds
    w = init.truncated_normal(0.5, lower=lower, upper=upper)(source(kind), SHAPE)
    assert w.min() > 0.5 * lower and w.max() < 0.5 * upper
    dist = stats.truncnorm(lower, upper, scale=0.5)
    check_moments(w, dist.mean(), dist.var(), dist.stats(moments="k") + 3.0)


# -- variance scaling ------------------------------------------------------------------------
CONV = (5, 5, 16, 32)                   # receptive field 25: fan_in 400, fan_out 800
FANS = {"fan_in": 400.0, "fan_out": 800.0, "fan_avg": 600.0, "fan_geo_avg": math.sqrt(400 * 800)}


@pytest.mark.parametrize("distribution", ["normal", "uniform", "truncated_normal"])
@pytest.mark.parametrize("mode", sorted(FANS))
def test_variance_scaling_variance_is_scale_over_the_fan(mode, distribution):
    w = init.variance_scaling(1.5, mode, distribution)(fg.random.key(1), CONV)
    var = 1.5 / FANS[mode]
    check_moments(w, 0.0, var, KURTOSIS[distribution])
    if distribution == "uniform":
        assert np.abs(w).max() <= math.sqrt(3 * var) and np.abs(w).max() > 0.999 * math.sqrt(3 * var)
    if distribution == "truncated_normal":
        assert np.abs(w).max() < 2 * math.sqrt(var) / TRUNC_STD


def test_fans_with_axis_tuples_and_a_batch_axis():
    # shape (4, 5, 6, 7): inputs on axes 0 and 1 (20), outputs on 3 (7), a batch of 6,
    # no receptive field.  The uniform's bound sqrt(3 scale / n) is reached by 840 samples.
    shape = (4, 5, 6, 7)
    for mode, n in [("fan_in", 20.0), ("fan_out", 7.0), ("fan_avg", 13.5)]:
        w = init.variance_scaling(1.0, mode, "uniform", in_axis=(0, 1), out_axis=3,
                                  batch_axis=2)(fg.random.key(2), shape)
        bound = math.sqrt(3.0 / n)
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound, mode


NAMED = {  # name -> (distribution, variance for shape (400, 300))
    "glorot_uniform": ("uniform", 2.0 / 700), "glorot_normal": ("truncated_normal", 2.0 / 700),
    "he_uniform": ("uniform", 2.0 / 400), "he_normal": ("truncated_normal", 2.0 / 400),
    "lecun_uniform": ("uniform", 1.0 / 400), "lecun_normal": ("truncated_normal", 1.0 / 400),
}


@pytest.mark.parametrize("name", sorted(NAMED))
def test_named_initializers_match_their_closed_forms(name):
    distribution, var = NAMED[name]
    w = getattr(init, name)()(np.random.default_rng(3), (400, 300))
    check_moments(w, 0.0, var, KURTOSIS[distribution])
    bound = math.sqrt(3 * var) if distribution == "uniform" else 2 * math.sqrt(var) / TRUNC_STD
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound


def test_aliases_are_the_same_builders():
    assert init.xavier_uniform is init.glorot_uniform and init.xavier_normal is init.glorot_normal
    assert init.kaiming_uniform is init.he_uniform and init.kaiming_normal is init.he_normal


# -- orthogonal ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-13), (np.float32, 2e-6)])
def test_orthogonal_columns_or_rows_are_orthonormal(dtype, tol):
    key = fg.random.key(0)
    tall = init.orthogonal()(key, (6, 4), dtype)
    wide = init.orthogonal(scale=2.0)(key, (4, 6), dtype)
    assert tall.dtype == dtype and wide.dtype == dtype
    np.testing.assert_allclose(tall.T @ tall, np.eye(4), atol=tol)
    np.testing.assert_allclose(wide @ wide.T, 4.0 * np.eye(4), atol=4 * tol)
    # column_axis: a (3, 2, 5) kernel is a matrix of 6 rows of the 5 columns on axis -1 ...
    k = init.orthogonal()(np.random.default_rng(0), (3, 2, 5), dtype).reshape(6, 5)
    np.testing.assert_allclose(k.T @ k, np.eye(5), atol=tol)
    # ... or of 10 rows of the 3 columns on axis 0.
    k = np.moveaxis(init.orthogonal(column_axis=0)(key, (3, 2, 5), dtype), 0, -1).reshape(10, 3)
    np.testing.assert_allclose(k.T @ k, np.eye(3), atol=tol)


def test_orthogonal_is_haar_distributed():
    # For Haar-random Q in O(4), Q[0, 0]^2 ~ Beta(1/2, 3/2): mean 1/4, variance 1/16; and
    # Q[0, 0] is positive half of the time (a bare Householder QR would give it one sign).
    draws = np.array([init.orthogonal()(fg.random.key(i), (4, 4))[0, 0] for i in range(400)])
    assert abs(np.mean(draws > 0) - 0.5) <= 5 * math.sqrt(0.25 / 400)
    assert abs(np.mean(draws ** 2) - 0.25) <= 5 * math.sqrt(1 / 16 / 400)


# -- dtypes, keys, transformations, errors ---------------------------------------------------
def test_constants_and_dtypes():
    assert init.zeros(None, (2, 3)).tolist() == [[0.0] * 3] * 2
    assert init.ones(fg.random.key(0), 2, np.float32).dtype == np.float32
    np.testing.assert_array_equal(init.constant(np.array([1.0, 2.0]))(None, (2, 2)),
                                  [[1.0, 2.0], [1.0, 2.0]])
    assert init.constant(1.0, dtype=np.float32)(None, (2,)).dtype == np.float32
    assert init.he_uniform(dtype=np.float32)(fg.random.key(0), (3, 3)).dtype == np.float32
    assert init.he_uniform(dtype=np.float32)(fg.random.key(0), (3, 3), np.float64).dtype == \
        np.float64
    with pytest.raises(DTypeError, match="floating point"):
        init.normal()(fg.random.key(0), (2,), np.int32)
    assert init.glorot_uniform()(fg.random.key(0), (0, 3)).shape == (0, 3)
    assert init.orthogonal()(fg.random.key(0), (0, 3)).shape == (0, 3)


def test_key_draws_are_funcgrad_randoms_and_reproducible():
    key = fg.random.key(5)
    w = init.normal(0.5)(key, (3, 4), np.float32)
    np.testing.assert_array_equal(w, fg.random.normal(key, (3, 4), np.float32) * np.float32(0.5))
    np.testing.assert_array_equal(init.he_normal()(key, (3, 4)), init.he_normal()(key, (3, 4)))
    assert not np.array_equal(init.he_normal()(key, (3, 4)),
                              init.he_normal()(fg.random.key(6), (3, 4)))
    # A Generator draws in float64 and casts, so float32 is float64 rounded (to an ulp).
    a = init.he_uniform()(np.random.default_rng(0), (3, 4), np.float32)
    b = init.he_uniform()(np.random.default_rng(0), (3, 4), np.float64)
    np.testing.assert_allclose(a, b, rtol=2e-7)


def test_initializers_under_jit_and_vmap_of_keys():
    key = fg.random.key(0)
    for builder in (init.he_normal(), init.orthogonal(), init.uniform()):
        np.testing.assert_allclose(fg.jit(lambda k: builder(k, (4, 3)))(key),   # noqa: B023
                                   builder(key, (4, 3)), rtol=1e-12, atol=1e-15)
    keys = fg.random.split(key, 3)
    batched = fg.vmap(lambda k: init.orthogonal()(k, (3, 3)))(keys)
    np.testing.assert_allclose(batched[1], init.orthogonal()(keys[1], (3, 3)), atol=1e-14)


def test_errors():
    key = fg.random.key(0)
    with pytest.raises(ShapeError, match="default in_axis=-2"):
        init.he_normal()(key, (5,))
    with pytest.raises(ShapeError, match="out_axis=3 is out of range"):
        init.variance_scaling(1.0, "fan_in", "normal", out_axis=3)(key, (2, 3))
    with pytest.raises(ArgumentError, match="mode must be one of"):
        init.variance_scaling(1.0, "fan_sum", "normal")
    with pytest.raises(ArgumentError, match="distribution must be one of"):
        init.variance_scaling(1.0, "fan_in", "laplace")
    with pytest.raises(ArgumentError, match="rng must be a funcgrad.random key"):
        init.normal()(42, (2,))
    with pytest.raises(ShapeError, match="at least 2 dimensions"):
        init.orthogonal()(key, (4,))
    with pytest.raises(ShapeError, match="column_axis=2 is out of range"):
        init.orthogonal(column_axis=2)(key, (4, 4))
    with pytest.raises(ShapeError, match="non-negative ints"):
        init.normal()(key, (2, -1))
