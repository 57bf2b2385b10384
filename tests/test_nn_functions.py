"""funcgrad.nn's jax.nn-style activations and optax-style losses against NumPy/SciPy closed forms.

Values are compared with formulas written out here in NumPy and SciPy (``scipy.special``),
gradients with finite differences (``check_grads``, orders 1 and 2, both modes) away from
kinks, and the derivatives at the kinks with the values JAX documents for them.
"""

from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np
import pytest
from scipy import special

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import nn
from funcgrad.errors import ArgumentError, DTypeError, ShapeError
from funcgrad.testing import check_grads

# Klambauer et al. (2017), eq. 14: the fixed point constants of SELU.
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
X = np.concatenate([np.linspace(-9.0, 9.0, 37), [-0.3, 0.01, 5.99, 6.01]])
LARGE = np.array([-1e3, -200.0, -30.0, -1.0, 0.0, 1.0, 30.0, 200.0, 1e3])


@contextlib.contextmanager
def no_warnings():
    """Python warnings, overflow, division by zero and invalid operations become errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            yield


def grad_each(f, x):
    """The elementwise derivative ``f'(x)`` (``f`` elementwise), by reverse mode."""
    return fg.grad(lambda z: fnp.sum(f(z)))(x)


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


# name -> (funcgrad function, NumPy/SciPy closed form)
ELEMENTWISE = {
    "silu": (nn.silu, lambda x: x * special.expit(x)),
    "elu": (nn.elu, _elu),
    "elu_alpha": (lambda x: nn.elu(x, alpha=0.3), lambda x: _elu(x, 0.3)),
    "selu": (nn.selu, lambda x: SELU_SCALE * _elu(x, SELU_ALPHA)),
    "celu": (lambda x: nn.celu(x, alpha=2.0), lambda x: np.where(x > 0, x, 2.0 * np.expm1(
        np.minimum(x, 0.0) / 2.0))),
    "log_sigmoid": (nn.log_sigmoid, special.log_expit),
    "relu6": (nn.relu6, lambda x: np.clip(x, 0.0, 6.0)),
    "hard_tanh": (nn.hard_tanh, lambda x: np.clip(x, -1.0, 1.0)),
    "softsign": (nn.softsign, lambda x: x / (1.0 + np.abs(x))),
    "gelu_exact": (lambda x: nn.gelu(x, approximate=False), lambda x: x * special.ndtr(x)),
    "gelu_tanh": (lambda x: nn.gelu(x, approximate=True), lambda x: 0.5 * x * (1.0 + np.tanh(
        math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))),
}
# Where each is smooth (no kink within 1e-3 of a point), for the finite differences.
SMOOTH_AT = {"relu6": np.array([-2.0, 0.5, 3.0, 5.5, 8.0]),
             "hard_tanh": np.array([-3.0, -0.5, 0.2, 0.9, 2.0])}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_values_match_closed_forms(name):
    f, ref = ELEMENTWISE[name]
    np.testing.assert_allclose(f(X), ref(X), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_gradients_match_finite_differences(name):
    f, _ = ELEMENTWISE[name]
    x = SMOOTH_AT.get(name, np.array([-3.0, -0.7, 0.4, 2.5]))
    check_grads(f, (x,), order=2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_at_large_inputs_is_finite_warning_free_and_keeps_dtype(name, dtype):
    f, ref = ELEMENTWISE[name]
    x = LARGE.astype(dtype)
    with no_warnings():
        y = f(x)
        g = grad_each(f, x)
    assert y.dtype == dtype and g.dtype == dtype
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g))
    with np.errstate(over="ignore"):
        expected = ref(LARGE)
    tol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(y, expected.astype(dtype), rtol=tol, atol=tol)


def test_derivatives_match_closed_forms():
    x = np.array([-20.0, -2.0, -0.5, 0.5, 2.0, 20.0])
    s = special.expit(x)
    np.testing.assert_allclose(grad_each(nn.silu, x), s * (1 + x * (1 - s)), rtol=1e-13)
    np.testing.assert_allclose(grad_each(nn.log_sigmoid, x), special.expit(-x), rtol=1e-13)
    # expm1's derivative is expm1(x) + 1 (as JAX's), exact to rounding of 1: atol 1e-16.
    np.testing.assert_allclose(grad_each(nn.elu, x), np.where(x > 0, 1.0, np.exp(x)), rtol=1e-13,
                               atol=1e-16)
    np.testing.assert_allclose(grad_each(nn.softsign, x), 1 / (1 + np.abs(x)) ** 2, rtol=1e-13)
    np.testing.assert_allclose(grad_each(lambda z: nn.gelu(z, approximate=False), x),
                               special.ndtr(x) + x * np.exp(-x * x / 2) / np.sqrt(2 * np.pi),
                               rtol=1e-13, atol=1e-300)
    # log_sigmoid is exact where log(sigmoid(x)) underflows: its derivative there is 1.
    np.testing.assert_array_equal(grad_each(nn.log_sigmoid, np.array([-1e3])), [1.0])


@pytest.mark.parametrize("f, x, expected", [
    (nn.relu6, 0.0, 0.0), (nn.relu6, 6.0, 0.0), (nn.relu6, 3.0, 1.0), (nn.relu6, 7.0, 0.0),
    (nn.hard_tanh, 1.0, 1.0), (nn.hard_tanh, -1.0, 1.0), (nn.hard_tanh, 1.5, 0.0),
    (nn.hard_tanh, -1.5, 0.0),
    (nn.elu, 0.0, 1.0), (lambda x: nn.elu(x, alpha=0.3), 0.0, 0.3),
    (lambda x: nn.celu(x, alpha=0.3), 0.0, 1.0), (nn.selu, 0.0, SELU_SCALE * SELU_ALPHA),
    (nn.softsign, 0.0, 1.0), (nn.relu, 0.0, 0.0),
])
def test_derivatives_at_the_kinks_are_jaxs(f, x, expected):
    # jax.nn documents relu6's derivative as 0 at 0 and 6; hard_tanh's middle piece is
    # -1 <= x <= 1, so its derivative is 1 at both ends; elu/selu take the x <= 0 branch.
    assert fg.grad(f)(x) == pytest.approx(expected, rel=1e-15)
    assert fg.jvp(f, (x,), (1.0,))[1] == pytest.approx(expected, rel=1e-15)


def test_clipping_activations_pass_nan_through():
    assert np.isnan(nn.relu6(np.nan)) and np.isnan(nn.hard_tanh(np.nan))


def test_aliases():
    assert nn.swish is nn.silu and nn.soft_sign is nn.softsign
    from funcgrad.scipy.special import logsumexp
    assert nn.logsumexp is logsumexp
    x = np.array([[1000.0, 1000.0 + math.log(3.0)], [0.0, 0.0]])
    np.testing.assert_allclose(nn.logsumexp(x, axis=-1), special.logsumexp(x, axis=-1),
                               rtol=1e-15)


def test_gelu_default_is_still_the_tanh_approximation():
    x = np.linspace(-5, 5, 11)
    np.testing.assert_array_equal(nn.gelu(x), nn.gelu(x, approximate=True))
    assert np.max(np.abs(nn.gelu(x) - nn.gelu(x, approximate=False))) > 1e-5
    with pytest.raises(ArgumentError, match="approximate must be True or False"):
        nn.gelu(x, approximate="tanh")


# -- glu, standardize, one_hot ---------------------------------------------------------------
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_glu_matches_numpy_and_differentiates(axis):
    x = np.random.default_rng(0).standard_normal((4, 6))
    a, b = np.split(x, 2, axis=axis)
    np.testing.assert_allclose(nn.glu(x, axis=axis), a * special.expit(b), rtol=1e-14)
    check_grads(lambda z: nn.glu(z, axis=axis), (x,), order=2)


def test_glu_rejects_an_odd_axis():
    with pytest.raises(ShapeError, match=r"x.shape\[-1\] must be even"):
        nn.glu(np.ones((2, 3)))
    with pytest.raises(ShapeError, match="axis=2 is out of range"):
        nn.glu(np.ones((2, 4)), axis=2)


@pytest.mark.parametrize("axis", [-1, 0, (0, 1), None])
def test_standardize_matches_numpy(axis):
    x = np.random.default_rng(1).standard_normal((3, 5)) * 4.0 + 2.0
    mean = np.mean(x, axis=axis, keepdims=True)
    var = np.var(x, axis=axis, keepdims=True)
    np.testing.assert_allclose(nn.standardize(x, axis=axis), (x - mean) / np.sqrt(var + 1e-5),
                               rtol=1e-13, atol=1e-15)
    check_grads(lambda z: nn.standardize(z, axis=axis, epsilon=1e-3), (x,), order=2)


def test_standardize_with_given_statistics():
    x = np.arange(6.0).reshape(2, 3)
    out = nn.standardize(x, mean=np.array([1.0, 2.0, 3.0]), variance=4.0, epsilon=0.0)
    np.testing.assert_allclose(out, (x - [1.0, 2.0, 3.0]) / 2.0, rtol=1e-15)
    # Unit-variance rows are (nearly) fixed points; float32 stays float32.
    y = nn.standardize(np.array([[-1.0, 1.0]], np.float32), epsilon=0.0)
    assert y.dtype == np.float32 and np.array_equal(y, [[-1.0, 1.0]])


@pytest.mark.parametrize("axis", [-1, 0, 1, 2, -2])
def test_one_hot_matches_numpy_with_out_of_range_as_zeros(axis):
    x = np.array([[0, 3, -1], [2, 5, 1]])
    rows = np.vstack([np.eye(4), np.zeros((1, 4))])          # row 4: an index out of range
    expected = np.moveaxis(rows[np.where((x >= 0) & (x < 4), x, 4)], -1, axis)
    out = nn.one_hot(x, 4, axis=axis)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, expected)


def test_one_hot_dtype_jit_vmap_and_errors():
    x = np.array([2, 0])
    assert nn.one_hot(x, 3, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(fg.jit(lambda i: nn.one_hot(i, 3))(x), np.eye(3)[x])
    np.testing.assert_array_equal(fg.vmap(lambda i: nn.one_hot(i, 3))(x), np.eye(3)[x])
    assert nn.one_hot(np.int64(1), 2).tolist() == [0.0, 1.0]
    with pytest.raises(DTypeError, match="integer class indices"):
        nn.one_hot(np.array([1.0]), 3)
    with pytest.raises(ArgumentError, match="num_classes must be a non-negative int"):
        nn.one_hot(x, -1)
    with pytest.raises(ShapeError, match="axis=2 is out of range"):
        nn.one_hot(x, 3, axis=2)


# -- losses ----------------------------------------------------------------------------------
RNG = np.random.default_rng(7)
P, T = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))


def _huber(e, d):
    return np.where(np.abs(e) <= d, 0.5 * e ** 2, d * np.abs(e) - 0.5 * d ** 2)


def _focal(x, y, alpha, gamma):
    p = special.expit(x)
    ce = -(y * np.log(p) + (1 - y) * np.log1p(-p))
    p_t = p * y + (1 - p) * (1 - y)
    w = 1.0 if alpha is None else alpha * y + (1 - alpha) * (1 - y)
    return w * (1 - p_t) ** gamma * ce


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


PROBS = special.softmax(RNG.standard_normal((4, 3)), axis=-1)
TARGETS = np.array([[0.2, 0.8, 0.0], [1.0, 0.0, 0.0], [0.3, 0.3, 0.4], [0.5, 0.25, 0.25]])
LABELS01 = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.3, 0.9, 0.0]])

# name -> (funcgrad loss of (a, b), its reduction="none" in NumPy/SciPy, a, b)
LOSSES = {
    "l2_loss": (nn.l2_loss, lambda a, b: 0.5 * (a - b) ** 2, P, T),
    "huber": (nn.huber, lambda a, b: _huber(a - b, 1.0), P * 2, T),
    "huber_delta": (lambda a, b, **k: nn.huber(a, b, delta=0.4, **k),
                    lambda a, b: _huber(a - b, 0.4), P * 2, T),
    "cosine_similarity": (nn.cosine_similarity,
                          lambda a, b: np.sum(_unit(a) * _unit(b), axis=-1), P, T),
    "kl_divergence": (nn.kl_divergence,
                      lambda a, b: np.sum(special.rel_entr(b, np.exp(a)), axis=-1),
                      np.log(PROBS), TARGETS),
    "focal": (nn.sigmoid_focal_loss, lambda a, b: _focal(a, b, None, 2.0), P * 3, LABELS01),
    "focal_alpha_gamma": (lambda a, b, **k: nn.sigmoid_focal_loss(a, b, alpha=0.25, gamma=1.5,
                                                                  **k),
                          lambda a, b: _focal(a, b, 0.25, 1.5), P * 3, LABELS01),
    "softmax_cross_entropy_smoothed": (
        lambda a, b, **k: nn.softmax_cross_entropy(a, b, label_smoothing=0.1, **k),
        lambda a, b: -np.sum((0.9 * b + 0.1 / 3) * special.log_softmax(a, axis=-1), axis=-1),
        P, TARGETS),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_values_and_reductions_match_numpy(name):
    f, ref, a, b = LOSSES[name]
    expected = ref(a, b)
    none = f(a, b, reduction="none")
    assert none.shape == expected.shape
    np.testing.assert_allclose(none, expected, rtol=1e-13, atol=1e-15)
    assert f(a, b) == pytest.approx(expected.mean(), rel=1e-13)
    assert f(a, b, reduction="sum") == pytest.approx(expected.sum(), rel=1e-13)
    with pytest.raises(ArgumentError, match="reduction must be one of"):
        f(a, b, reduction="avg")
    with pytest.raises(ShapeError, match=r"shape.*\(4, 2\)"):
        f(a, b[:, :2])


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_gradients_match_finite_differences(name):
    f, _, a, b = LOSSES[name]
    check_grads(lambda x: f(x, b, reduction="none"), (a,), order=2)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_keeps_float32(name):
    f, ref, a, b = LOSSES[name]
    out = f(a.astype(np.float32), b.astype(np.float32), reduction="none")
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref(a, b), rtol=2e-5, atol=2e-6)


def test_l2_and_huber_without_targets_and_huber_gradient_is_the_clipped_error():
    e = np.array([-3.0, -0.5, 0.0, 0.2, 2.0])
    np.testing.assert_array_equal(nn.l2_loss(e, reduction="none"), 0.5 * e ** 2)
    np.testing.assert_allclose(nn.huber(e, reduction="none"), _huber(e, 1.0), rtol=1e-15)
    g = fg.grad(lambda z: nn.huber(z, delta=0.4, reduction="sum"))(e)
    np.testing.assert_array_equal(g, np.clip(e, -0.4, 0.4))
    # The second derivative is 1 inside the quadratic piece (0 included) and 0 outside.
    h = fg.jvp(fg.grad(lambda z: nn.huber(z, delta=0.4, reduction="sum")), (e,), (np.ones(5),))[1]
    np.testing.assert_array_equal(h, [0.0, 0.0, 1.0, 1.0, 0.0])
    assert nn.huber_loss is nn.huber
    with pytest.raises(ArgumentError, match="delta must be positive"):
        nn.huber(e, delta=0.0)


def test_cosine_similarity_is_scale_invariant_and_epsilon_handles_zero_vectors():
    a, b = P, T
    np.testing.assert_allclose(nn.cosine_similarity(3.0 * a, 0.5 * b, reduction="none"),
                               nn.cosine_similarity(a, b, reduction="none"), rtol=1e-14)
    zero = np.zeros((1, 3))
    out = nn.cosine_similarity(zero, np.ones((1, 3)), epsilon=1e-12, reduction="none")
    np.testing.assert_array_equal(out, [0.0])
    # epsilon clips the squared norms (optax >= 0.2.4): a vector of norm 0.1 against 1e-2.
    v = np.array([[0.1, 0.0]])
    out = nn.cosine_similarity(v, v, epsilon=1.0, reduction="none")
    np.testing.assert_allclose(out, [0.01], rtol=1e-14)


def test_kl_divergence_zero_targets_and_gradient():
    t = np.array([[0.0, 0.5, 0.5]])
    logq = np.log(np.array([[0.5, 0.25, 0.25]]))
    with no_warnings():
        kl = nn.kl_divergence(logq, t, reduction="none")
        g = fg.grad(lambda q, t: nn.kl_divergence(q, t, reduction="sum"), argnums=(0, 1))(logq, t)
    np.testing.assert_allclose(kl, [math.log(2.0)], rtol=1e-15)
    np.testing.assert_array_equal(g[0], -t)                          # d/d log q = -t
    # d/dt = log t + 1 - log q where t > 0, and -log q at t == 0 (optax's formula: there
    # t log t is the constant 0, while t * (-log q) keeps its slope).
    np.testing.assert_allclose(g[1], [[-logq[0, 0], *(np.log(0.5) + 1 - logq[0, 1:])]],
                               rtol=1e-14)
    assert nn.kl_divergence(logq, np.exp(logq)) == pytest.approx(0.0, abs=1e-16)


def test_focal_loss_with_gamma_0_is_binary_cross_entropy_and_large_logits_are_finite():
    x, y = P * 3, LABELS01
    np.testing.assert_allclose(nn.sigmoid_focal_loss(x, y, gamma=0.0, reduction="none"),
                               nn.binary_cross_entropy_with_logits(x, y, reduction="none"),
                               rtol=1e-13)
    big = np.array([-1e3, -50.0, 50.0, 1e3])
    for labels in (np.ones(4), np.zeros(4), np.full(4, 0.3)):
        for gamma in (0.5, 2.0):
            with no_warnings():
                out = nn.sigmoid_focal_loss(big, labels, gamma=gamma, reduction="none")
                g = fg.grad(nn.sigmoid_focal_loss)(big, labels, gamma=gamma)
            assert np.all(np.isfinite(out)) and np.all(np.isfinite(g))
    # A confidently right prediction costs nothing; a confidently wrong one its logit.
    out = nn.sigmoid_focal_loss(big, np.array([0.0, 0.0, 1.0, 1.0]), reduction="none")
    np.testing.assert_allclose(out, [0.0, 0.0, 0.0, 0.0], atol=1e-20)
    out = nn.sigmoid_focal_loss(big, np.array([1.0, 1.0, 0.0, 0.0]), reduction="none")
    np.testing.assert_allclose(out, [1e3, 50.0, 50.0, 1e3], rtol=1e-13)
    with pytest.raises(ArgumentError, match=r"labels must be in \[0, 1\]"):
        nn.sigmoid_focal_loss(big, np.full(4, 2.0))
    with pytest.raises(ArgumentError, match=r"alpha must be a number in \[0, 1\]"):
        nn.sigmoid_focal_loss(big, np.ones(4), alpha=1.5)


def test_softmax_cross_entropy_label_smoothing_with_integer_labels():
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 1000.0, 0.0]])
    labels = np.array([0, 2])
    smooth = 0.9 * np.eye(3)[labels] + 0.1 / 3
    expected = -np.sum(smooth * special.log_softmax(logits, axis=-1), axis=-1)
    out = nn.softmax_cross_entropy(logits, labels, reduction="none", label_smoothing=0.1)
    np.testing.assert_allclose(out, expected, rtol=1e-14)
    check_grads(lambda z: nn.softmax_cross_entropy(z, labels[:1], label_smoothing=0.1),
                (logits[:1],), order=2)
    # label_smoothing=0 is the plain loss, bit for bit.
    np.testing.assert_array_equal(
        nn.softmax_cross_entropy(logits, labels, reduction="none", label_smoothing=0.0),
        nn.softmax_cross_entropy(logits, labels, reduction="none"))
    with pytest.raises(ArgumentError, match=r"label_smoothing must be a number in \[0, 1\]"):
        nn.softmax_cross_entropy(logits, labels, label_smoothing=1.5)


def test_losses_under_jit_and_vmap():
    f = fg.jit(lambda a, b: nn.huber(a, b) + nn.cosine_similarity(a, b)
               + nn.sigmoid_focal_loss(a, np.ones((4, 3))))
    eager = nn.huber(P, T) + nn.cosine_similarity(P, T) + nn.sigmoid_focal_loss(P, np.ones((4, 3)))
    assert f(P, T) == pytest.approx(eager, rel=1e-13)
    per_row = fg.vmap(lambda q, t: nn.kl_divergence(q, t, reduction="sum"))(np.log(PROBS), TARGETS)
    np.testing.assert_allclose(per_row, nn.kl_divergence(np.log(PROBS), TARGETS, reduction="none"),
                               rtol=1e-14)
