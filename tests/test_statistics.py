"""Sorting, statistics, differences and polynomials beyond the op table: ties (forward
against reverse mode, and JAX's numbers), NaN handling, errors, keyword variants,
tracer methods and backends.

Reference gradients marked "jax 0.10.2" were generated once with ``jax.grad`` of the
same ``jax.numpy`` function (float64) and pasted here; jax is not imported.
"""

import warnings

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.errors import ShapeError

RNG = np.random.default_rng(0)


def assert_transpose_identity(f, x, seed=0):
    """``<ct, J t> == <J^T ct, t>``: forward and reverse mode use the same derivative."""
    rng = np.random.default_rng(seed)
    out, tangent = fg.jvp(f, (x,), (t := rng.standard_normal(x.shape),))
    out, pullback = fg.vjp(f, x)
    ct = rng.standard_normal(np.shape(out))
    (cotangent,) = pullback(ct)
    np.testing.assert_allclose(np.sum(ct * tangent), np.sum(cotangent * t), rtol=1e-12, atol=1e-12)
    assert np.all(np.isfinite(tangent)) and np.all(np.isfinite(cotangent))


# -- ties: the stable sort's permutation, in both modes, as JAX -----------------------------
TIES = [  # (id, function, point, gradient from jax 0.10.2)
    ("sort", lambda x: fnp.sum(fnp.sort(x) * np.array([1.0, 10.0, 100.0, 1000.0])),
     [2.0, 1.0, 2.0, 2.0], [10.0, 1.0, 100.0, 1000.0]),
    ("median[odd]", fnp.median, [1.0, 2.0, 2.0], [0.0, 1.0, 0.0]),
    ("median[even]", fnp.median, [2.0, 1.0, 2.0, 2.0], [0.5, 0.0, 0.5, 0.0]),
    ("quantile[0.3]", lambda x: fnp.quantile(x, 0.3), [2.0, 1.0, 2.0, 2.0], [0.9, 0.1, 0.0, 0.0]),
    ("nanmax", fnp.nanmax, [1.0, 3.0, np.nan, 3.0], [0.0, 0.5, 0.0, 0.5]),
    ("nanmin", fnp.nanmin, [1.0, 3.0, np.nan, 1.0], [0.5, 0.0, 0.0, 0.5]),
    ("ptp", fnp.ptp, [1.0, 3.0, 3.0, 1.0], [-0.5, 0.5, 0.5, -0.5]),
    ("nanmedian", fnp.nanmedian, [1.0, np.nan, 3.0, 2.0], [0.0, 0.0, 0.0, 1.0]),
]


@pytest.mark.parametrize("name,f,x,expected", TIES, ids=[t[0] for t in TIES])
def test_gradient_at_ties_is_jax_and_forward_mode_agrees(name, f, x, expected):
    x = np.array(x)
    np.testing.assert_allclose(fg.grad(f)(x), expected, rtol=1e-12, atol=1e-12)
    if not np.isnan(x).any():  # (random tangents at a NaN entry would make the tangent NaN-free anyway)
        assert_transpose_identity(f, x)
    np.testing.assert_allclose(fg.jit(fg.grad(f))(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("f", [lambda x: fnp.sort(x, axis=0), lambda x: fnp.median(x, axis=1),
                               lambda x: fnp.quantile(x, [0.2, 0.7], axis=0, method="hazen"),
                               lambda x: fnp.partition(x, 1, axis=0), fnp.ptp,
                               lambda x: fnp.nanmax(x, axis=1)],
                         ids=["sort", "median", "quantile", "partition", "ptp", "nanmax"])
def test_forward_and_reverse_agree_on_a_matrix_full_of_ties(f):
    x = np.round(RNG.uniform(0, 2, (4, 3)))  # values in {0, 1, 2}: ties everywhere
    assert_transpose_identity(f, x)


def test_argsort_is_stable_at_ties():
    x = np.array([2.0, 1.0, 2.0, 1.0, 2.0])
    np.testing.assert_array_equal(fnp.argsort(x), np.argsort(x, kind="stable"))
    np.testing.assert_array_equal(fg.jit(fnp.argsort)(x), np.argsort(x, kind="stable"))


# -- NaN handling ------------------------------------------------------------------------
NAN_FUNCTIONS = {
    "nansum": fnp.nansum, "nanmean": fnp.nanmean, "nanprod": fnp.nanprod, "nanvar": fnp.nanvar,
    "nanstd": fnp.nanstd, "nanmax": fnp.nanmax, "nanmin": fnp.nanmin, "nanmedian": fnp.nanmedian,
    "nanquantile": lambda x, **k: fnp.nanquantile(x, 0.3, **k),
    "nanpercentile": lambda x, **k: fnp.nanpercentile(x, 70, **k),
}


@pytest.mark.parametrize("name", NAN_FUNCTIONS)
def test_nan_entries_get_zero_gradient_and_all_nan_slices_match_numpy(name):
    f = NAN_FUNCTIONS[name]
    x = np.array([[1.0, np.nan, 3.0, 0.5], [np.nan, np.nan, np.nan, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy warns on all-NaN slices
        expected = getattr(np, name)(x, axis=1) if name[3:] not in ("quantile", "percentile") else (
            getattr(np, name)(x, 0.3 if name == "nanquantile" else 70, axis=1))
        np.testing.assert_allclose(f(x, axis=1), expected, rtol=1e-12)
        # all-NaN: NaN, except the empty sum and product (0 and 1, as NumPy)
        assert np.isnan(f(x, axis=1)[1]) == (name not in ("nansum", "nanprod"))
        g = fg.grad(lambda x: fnp.sum(f(x, axis=1)[0]))(x)
        g_all = fg.grad(lambda x: f(x, axis=1)[1])(x)
    assert np.all(np.isfinite(g)) and np.all(g[:, 1] == 0) and np.all(g[1] == 0)
    np.testing.assert_array_equal(g_all, np.zeros_like(x))
    # the gradient of the numbers is that of the same function without the NaN
    plain = {"nansum": np.sum, "nanmean": np.mean, "nanprod": np.prod}.get(name)
    if plain is not None:
        ref = fg.grad(lambda v: getattr(fnp, name[3:])(v))(np.array([1.0, 3.0, 0.5]))
        np.testing.assert_allclose(g[0, [0, 2, 3]], ref, rtol=1e-12)


def test_nan_reductions_match_jax_gradients():
    # jax 0.10.2: grad of jnp.nansum, nanmean, nanstd, nanprod at these points
    cases = [(fnp.nansum, [1.0, np.nan], [1.0, 0.0]),
             (fnp.nanmean, [1.0, np.nan, 3.0], [0.5, 0.0, 0.5]),
             (fnp.nanstd, [1.0, np.nan, 3.0], [-0.5, 0.0, 0.5]),
             (fnp.nanprod, [2.0, np.nan, 3.0], [3.0, 0.0, 2.0])]
    for f, x, expected in cases:
        np.testing.assert_allclose(fg.grad(f)(np.array(x)), expected, rtol=1e-12)


def test_quantile_of_a_slice_with_nan_is_nan_as_numpy():
    x = np.array([[1.0, np.nan, 2.0], [1.0, 2.0, 3.0]])
    np.testing.assert_allclose(fnp.quantile(x, 0.5, axis=1), np.quantile(x, 0.5, axis=1))
    np.testing.assert_allclose(fnp.median(x, axis=1), [np.nan, 2.0])
    g = fg.grad(lambda x: fnp.sum(fnp.median(x, axis=1)))(x)
    np.testing.assert_array_equal(g, [[0, 0, 0], [0, 1, 0]])


def test_nanargmax_and_nanargmin_skip_nan_and_raise_on_all_nan_slices():
    x = np.array([[1.0, np.nan, 3.0], [np.nan, -1.0, 0.0]])
    np.testing.assert_array_equal(fnp.nanargmax(x, axis=1), np.nanargmax(x, axis=1))
    np.testing.assert_array_equal(fnp.nanargmin(x, axis=0), np.nanargmin(x, axis=0))
    assert fnp.nanargmax(x, keepdims=True).shape == np.nanargmax(x, keepdims=True).shape == (1, 1)
    np.testing.assert_array_equal(fg.jit(lambda x: fnp.nanargmax(x, axis=1))(x), [2, 2])
    bad = np.array([[np.nan, np.nan], [1.0, 2.0]])
    with pytest.raises(ValueError, match="All-NaN slice"):
        fnp.nanargmax(bad, axis=1)
    with pytest.raises(ValueError, match="All-NaN slice"):
        fg.jit(lambda x: fnp.nanargmin(x, axis=1))(bad)


# -- errors, as NumPy raises them ----------------------------------------------------------
ERRORS = [
    ("sort axis", lambda: fnp.sort(np.ones((2, 3)), axis=2), ValueError, "out of range"),
    ("sort 0-d", lambda: fnp.sort(np.float64(1.0)), ValueError, "0 dimensions"),
    ("median axis", lambda: fnp.median(np.ones(3), axis=1), ValueError, "out of range"),
    ("partition kth", lambda: fnp.argpartition(np.ones(3), 3), ValueError, "out of bounds"),
    ("quantile range", lambda: fnp.quantile(np.ones(3), 1.5), ValueError, r"range \[0, 1\]"),
    ("percentile range", lambda: fnp.percentile(np.ones(3), -1), ValueError, r"range \[0, 100\]"),
    ("quantile method", lambda: fnp.quantile(np.ones(3), 0.5, method="cubic"), ValueError,
     "not a valid method"),
    ("quantile weights", lambda: fnp.quantile(np.ones(3), 0.5, weights=np.ones(3)), ValueError,
     "inverted_cdf"),
    ("quantile negative weights", lambda: fnp.quantile(np.ones(3), 0.5, method="inverted_cdf",
                                                       weights=-np.ones(3)), ValueError, "non-negative"),
    ("quantile complex", lambda: fnp.median(np.ones(3) * 1j), TypeError, "real numbers"),
    ("average zero weights", lambda: fnp.average(np.ones(2), weights=np.zeros(2)),
     ZeroDivisionError, "sum to zero"),
    ("average weights axis", lambda: fnp.average(np.ones((2, 3)), weights=np.ones(3)), TypeError,
     "Axis must be specified"),
    ("cov 3-D", lambda: fnp.cov(np.ones((2, 2, 2))), ValueError, "more than 2 dimensions"),
    ("diff order", lambda: fnp.diff(np.ones(3), -1), ValueError, "non-negative"),
    ("diff 0-d", lambda: fnp.diff(np.float64(1.0)), ValueError, "at least one dimensional"),
    ("gradient small", lambda: fnp.gradient(np.ones(2), edge_order=2), ValueError, "too small"),
    ("gradient spacing", lambda: fnp.gradient(np.ones(3), np.ones(2)), ValueError, "must match"),
    ("cross dims", lambda: fnp.cross(np.ones(4), np.ones(3)), ValueError, "dimension must be 2 or 3"),
    ("convolve empty", lambda: fnp.convolve(np.ones(0), np.ones(2)), ValueError, "a cannot be empty"),
    ("convolve mode", lambda: fnp.convolve(np.ones(3), np.ones(2), "middle"), ValueError, "mode"),
    ("convolve 2-D", lambda: fnp.convolve(np.ones((2, 2)), np.ones(2)), ShapeError, "1-D"),
    ("interp lengths", lambda: fnp.interp(0.5, np.ones(3), np.ones(2)), ValueError, "same length"),
    ("vander 2-D", lambda: fnp.vander(np.ones((2, 2))), ValueError, "one-dimensional"),
    ("polyfit points", lambda: fnp.polyfit(np.arange(2.0), np.ones(2), 2), ValueError,
     "underdetermined"),
    ("polyfit rank", lambda: fnp.polyfit(np.ones(4), np.ones(4), 1), np.linalg.LinAlgError,
     "rank deficient"),
    ("polyfit full", lambda: fnp.polyfit(np.arange(3.0), np.ones(3), 1, full=True), TypeError,
     "not supported"),
]


@pytest.mark.parametrize("name,call,error,match", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(name, call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_errors_are_the_same_under_grad():
    with pytest.raises(ValueError, match="out of range"):
        fg.grad(lambda x: fnp.sum(fnp.sort(x, axis=1)))(np.ones(3))
    with pytest.raises(ValueError, match=r"range \[0, 1\]"):
        fg.grad(lambda q: fnp.quantile(np.arange(3.0), q))(np.float64(2.0))


# -- keyword variants and methods ----------------------------------------------------------
def test_tracer_sort_and_argsort_methods():
    x = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    w = np.arange(6.0).reshape(2, 3)
    g = fg.grad(lambda x: fnp.sum(x.sort() * w))(x)
    np.testing.assert_array_equal(g, [[2.0, 0.0, 1.0], [3.0, 5.0, 4.0]])
    np.testing.assert_array_equal(fg.jit(lambda x: x.sort(axis=0))(x), np.sort(x, axis=0))
    np.testing.assert_array_equal(fg.jit(lambda x: x.argsort(axis=None))(x), np.argsort(x, axis=None))


@pytest.mark.parametrize("kind", [None, "quicksort", "mergesort", "heapsort", "stable"])
def test_sort_accepts_every_kind(kind):
    x = RNG.standard_normal(5)
    np.testing.assert_array_equal(fnp.sort(x, kind=kind), np.sort(x, kind=kind))


def test_quantile_is_differentiable_in_q():
    x = np.array([0.0, 1.0, 4.0, 9.0])
    f = lambda q: fnp.sum(fnp.quantile(x, q))  # noqa: E731
    q = np.array([0.2, 0.5])
    # (n - 1) q interpolates between sorted neighbours: slope (x[i+1] - x[i]) * (n - 1)
    np.testing.assert_allclose(fg.grad(f)(q), [3.0, 9.0], rtol=1e-12)
    np.testing.assert_allclose(fg.grad(lambda q: fnp.percentile(x, q))(np.float64(20.0)), 0.03)
    # the discrete methods do not depend smoothly on q
    assert fg.grad(lambda q: fnp.quantile(x, q, method="lower"))(np.float64(0.3)) == 0.0


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest", "inverted_cdf",
                                    "averaged_inverted_cdf", "closest_observation",
                                    "interpolated_inverted_cdf", "hazen", "weibull",
                                    "median_unbiased", "normal_unbiased"])
def test_every_quantile_method_matches_numpy_including_nan_versions(method):
    x = RNG.standard_normal((3, 5, 4))
    xn = x.copy()
    xn[0, 1, :] = np.nan
    xn[1, :, 2] = np.nan
    for q in (0.0, 0.37, 1.0, [0.1, 0.5, 0.99]):
        for axis, keepdims in ((None, False), (1, True), ((0, 2), False)):
            np.testing.assert_allclose(fnp.quantile(x, q, axis=axis, method=method, keepdims=keepdims),
                                       np.quantile(x, q, axis=axis, method=method, keepdims=keepdims),
                                       rtol=1e-13)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                np.testing.assert_allclose(
                    fnp.nanquantile(xn, q, axis=axis, method=method, keepdims=keepdims),
                    np.nanquantile(xn, q, axis=axis, method=method, keepdims=keepdims), rtol=1e-13)


def test_weighted_quantile_matches_numpy_and_differentiates_in_a_only():
    x, w = RNG.standard_normal((4, 6)), RNG.uniform(0, 1, (4, 6))
    w[:, 0] = 0.0  # zero weights are skipped, as in NumPy
    for q in (0.0, 0.3, [0.5, 1.0]):
        np.testing.assert_array_equal(
            fnp.quantile(x, q, axis=1, method="inverted_cdf", weights=w),
            np.quantile(x, q, axis=1, method="inverted_cdf", weights=w))
    gx, gw = fg.grad(lambda x, w: fnp.sum(fnp.quantile(x, 0.4, axis=1, method="inverted_cdf",
                                                         weights=w)), argnums=(0, 1))(x, w)
    assert np.all(gw == 0) and np.all(np.sum(gx, axis=1) == 1) and np.all(np.isin(gx, [0, 1]))


def test_count_nonzero_and_average_returned_match_numpy():
    x = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])
    assert fnp.count_nonzero(x) == np.count_nonzero(x) == 3
    np.testing.assert_array_equal(fg.jit(lambda x: fnp.count_nonzero(x, axis=1, keepdims=True))(x),
                                  np.count_nonzero(x, axis=1, keepdims=True))
    avg, total = fnp.average(x, axis=1, weights=[1.0, 2.0, 3.0], returned=True)
    ref_avg, ref_total = np.average(x, axis=1, weights=[1.0, 2.0, 3.0], returned=True)
    np.testing.assert_allclose(avg, ref_avg)
    np.testing.assert_allclose(total, ref_total)


def test_cov_with_frequency_weights_and_corrcoef_of_a_vector():
    m, fw = RNG.standard_normal((2, 5)), np.array([1, 2, 1, 3, 1])
    np.testing.assert_allclose(fnp.cov(m, fweights=fw), np.cov(m, fweights=fw), rtol=1e-12)
    np.testing.assert_allclose(fnp.cov(m, fweights=fw, aweights=np.arange(1.0, 6.0), ddof=1),
                               np.cov(m, fweights=fw, aweights=np.arange(1.0, 6.0), ddof=1), rtol=1e-12)
    assert fnp.corrcoef(m[0]) == np.corrcoef(m[0]) == 1.0


def test_cross_of_2_vectors_warns_as_numpy_2():
    with pytest.warns(DeprecationWarning, match="2-dimensional vectors"):
        z = fnp.cross(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert z == -2.0


def test_interp_period_and_knot_convention():
    xp, fp = np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0, 3.0])
    x = np.array([-0.5, 0.25, 1.0, 2.0, 3.5])
    np.testing.assert_allclose(fnp.interp(x, xp, fp, period=4.0), np.interp(x, xp, fp, period=4.0))
    # at the knot x = 1 the slope is the right segment's, (3 - 2) / (3 - 1) (JAX's convention);
    # outside [xp[0], xp[-1]] the value is constant
    g = fg.grad(lambda x: fnp.sum(fnp.interp(x, xp, fp)))(x)
    np.testing.assert_allclose(g, [0.0, 2.0, 0.5, 0.5, 0.0])
    assert_transpose_identity(lambda x: fnp.interp(x, xp, fp), x)


def test_correlate_conjugates_a_complex_kernel_and_differentiates():
    a, v = RNG.standard_normal(5), RNG.standard_normal(3) + 1j * RNG.standard_normal(3)
    for mode in ("full", "same", "valid"):
        np.testing.assert_allclose(fnp.correlate(a, v, mode), np.correlate(a, v, mode), rtol=1e-12)
        np.testing.assert_allclose(fnp.correlate(v, a, mode), np.correlate(v, a, mode), rtol=1e-12)
    # d/da of sum(correlate(a, v, 'valid')) = sum over the windows of conj(v)
    g = fg.grad(lambda a: fnp.sum(fnp.correlate(a, np.array([1.0, 2.0]), "valid")))(np.ones(4))
    np.testing.assert_allclose(g, [1.0, 3.0, 3.0, 2.0])


def test_polyfit_gradient_matches_finite_differences():
    from funcgrad.testing import check_grads

    x = np.linspace(-1.0, 1.0, 6)
    y = RNG.standard_normal(6)
    check_grads(lambda x, y: fnp.polyfit(x, y, 2), (x, y), order=2)
    # a line through exact data has coefficient gradients from the normal equations
    np.testing.assert_allclose(fnp.polyfit(x, 2 * x + 1, 1), [2.0, 1.0], rtol=1e-12)


# -- backends and vmap ---------------------------------------------------------------------
@pytest.mark.parametrize("f", [lambda x: fnp.sort(x, axis=0), lambda x: fnp.quantile(x, [0.1, 0.9], axis=1),
                               lambda x: fnp.nanmedian(x), lambda x: fnp.argpartition(x, 1, axis=0),
                               lambda x: fnp.convolve(x[0], x[1], "same"),
                               lambda x: fnp.interp(x[0], np.array([-1.0, 0.0, 1.0]), x[1, :3])],
                         ids=["sort", "quantile", "nanmedian", "argpartition", "convolve", "interp"])
def test_numba_backend_falls_back_to_the_reference_for_sorting(f):
    x = RNG.standard_normal((4, 4))
    np.testing.assert_allclose(fg.jit(f, backend="numba")(x), f(x), rtol=1e-12)
    loss = lambda x: fnp.sum(f(x) * 1.0)  # noqa: E731
    if np.asarray(f(x)).dtype.kind == "f":
        np.testing.assert_allclose(fg.jit(fg.grad(loss), backend="numba")(x), fg.grad(loss)(x),
                                   rtol=1e-12)


def test_vmap_of_searchsorted_over_batched_sorted_arrays():
    a = np.sort(RNG.standard_normal((3, 5)), axis=1)
    v = RNG.standard_normal((3, 2))
    got = fg.vmap(fnp.searchsorted)(a, v)
    np.testing.assert_array_equal(got, [np.searchsorted(a[i], v[i]) for i in range(3)])
    got = fg.vmap(fnp.searchsorted, in_axes=(0, None))(a, v[0])
    np.testing.assert_array_equal(got, [np.searchsorted(a[i], v[0]) for i in range(3)])
