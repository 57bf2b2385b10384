"""funcgrad.nn: layers, activations and losses against NumPy closed forms and finite differences."""

from __future__ import annotations

import contextlib
import doctest
import math
import os
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import nn
from funcgrad.errors import ArgumentError, DTypeError, ShapeError, TreeStructureError
from funcgrad.testing import check_grads
from funcgrad.testing import strategies as fst


@contextlib.contextmanager
def no_warnings():
    """Every Python warning, overflow, division by zero and invalid operation becomes an error.

    Underflow to zero (``exp(-1000)``) is the correct answer, and NumPy ignores it by default.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            yield


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def weighted_sum_grad(f, x, w=None):
    """grad of sum(f(x) * w), w a fixed vector of distinct weights."""
    w = np.linspace(0.5, 1.5, x.size).reshape(x.shape).astype(x.dtype) if w is None else w
    return fg.grad(lambda z: fnp.sum(f(z) * w))(x)


# ---------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------

def _np_softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _np_log_softmax(x):
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def _np_gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


# name -> (funcgrad function, NumPy closed form that is stable at any x)
ACTIVATIONS = {
    "relu": (nn.relu, lambda x: np.where(x > 0, x, 0.0)),
    "leaky_relu": (nn.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x)),
    "sigmoid": (nn.sigmoid, lambda x: np.exp(-np.logaddexp(0.0, -x))),
    "tanh": (nn.tanh, np.tanh),
    "gelu": (nn.gelu, _np_gelu_tanh),
    "softplus": (nn.softplus, lambda x: np.logaddexp(0.0, x)),
    "softmax": (nn.softmax, _np_softmax),
    "log_softmax": (nn.log_softmax, _np_log_softmax),
}
SMOOTH = ["sigmoid", "tanh", "gelu", "softplus", "softmax", "log_softmax"]
LARGE = np.array([-1e3, -200.0, -30.0, -1.0, 0.0, 1.0, 30.0, 200.0, 1e3])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@given(x=fst.arrays(elements=(-10, 10), min_dims=1))
def test_activation_values_match_numpy(name, x):
    f, ref = ACTIVATIONS[name]
    np.testing.assert_allclose(f(x), ref(x), rtol=1e-12, atol=1e-14)


def test_sigmoid_matches_the_textbook_formula_and_keeps_relative_precision():
    x = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(nn.sigmoid(x), 1.0 / (1.0 + np.exp(-x)), rtol=1e-14)
    # sigmoid(-700) = 1 / (1 + e^700) = e^-700 to double precision; 1 - tanh-based forms give 0.
    np.testing.assert_allclose(nn.sigmoid(np.array([-700.0])), np.exp(-700.0), rtol=1e-12)


def test_softplus_matches_log1p_exp():
    x = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(nn.softplus(x), np.log1p(np.exp(x)), rtol=1e-14)


def test_gelu_is_the_tanh_approximation_close_to_the_exact_gelu():
    x = np.linspace(-6, 6, 121)
    exact = 0.5 * x * (1.0 + np.array([math.erf(v / math.sqrt(2.0)) for v in x]))
    assert np.max(np.abs(nn.gelu(x) - exact)) < 5e-4
    assert np.max(np.abs(nn.gelu(x) - exact)) > 1e-5      # it is the approximation, not erf


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_at_large_logits_is_finite_exact_and_warning_free(name, dtype):
    f, ref = ACTIVATIONS[name]
    x = LARGE.astype(dtype)
    with no_warnings():
        y = f(x)
        g = weighted_sum_grad(f, x)
    assert y.dtype == dtype and g.dtype == dtype
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g))
    with np.errstate(over="ignore"):
        expected = ref(LARGE)
    tol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(y, expected.astype(dtype), rtol=tol, atol=tol)


def test_elementwise_activation_gradients_at_large_logits_match_closed_forms():
    x = LARGE
    s = np.exp(-np.logaddexp(0.0, -x))                 # sigmoid, stable
    s_neg = np.exp(-np.logaddexp(0.0, x))              # sigmoid(-x) = 1 - sigmoid(x), stable
    ones = np.ones_like(x)
    with no_warnings():
        np.testing.assert_allclose(weighted_sum_grad(nn.sigmoid, x, ones), s * s_neg, rtol=1e-12)
        np.testing.assert_allclose(weighted_sum_grad(nn.softplus, x, ones), s, rtol=1e-12)
        np.testing.assert_allclose(weighted_sum_grad(nn.tanh, x, ones), 1 - np.tanh(x) ** 2)
        np.testing.assert_array_equal(weighted_sum_grad(nn.relu, x, ones), (x > 0).astype(float))
    # log_softmax: d/dx sum(w * log_softmax(x)) = w - softmax(x) * sum(w)
    w = np.linspace(0.5, 1.5, x.size)
    with no_warnings():
        g = weighted_sum_grad(nn.log_softmax, x, w)
    np.testing.assert_allclose(g, w - _np_softmax(x) * w.sum(), atol=1e-12)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradients_match_finite_differences(name):
    f, _ = ACTIVATIONS[name]
    # Away from relu's kink, second derivatives exist everywhere (they are 0 for relu).
    x = np.array([[-2.1, -0.6, 0.3, 1.7], [0.9, -1.2, 2.4, -0.05]])
    # softmax is a custom_vjp, which has no forward mode (as in JAX): check reverse mode only.
    check_grads(f, (x,), order=2, modes=("rev",) if name == "softmax" else ("rev", "fwd"))


def test_smooth_activations_have_third_derivatives():
    x = np.array([-1.3, 0.2, 0.8])
    for name in SMOOTH:
        # softmax is a custom_vjp, which has no forward mode (as in JAX): reverse mode only.
        check_grads(ACTIVATIONS[name][0], (x,), order=3,
                    modes=("rev",) if name == "softmax" else ("rev", "fwd"))


def test_relu_and_leaky_relu_derivatives_at_zero():
    assert fg.grad(nn.relu)(0.0) == 0.0
    assert fg.grad(nn.relu)(-1.0) == 0.0 and fg.grad(nn.relu)(2.0) == 1.0
    np.testing.assert_array_equal(
        weighted_sum_grad(nn.relu, np.zeros(3), np.ones(3)), np.zeros(3))
    assert fg.grad(lambda x: nn.leaky_relu(x, 0.2))(0.0) == pytest.approx(0.2)
    assert fg.grad(lambda x: nn.leaky_relu(x, 0.2))(-3.0) == pytest.approx(0.2)
    assert fg.grad(lambda x: nn.leaky_relu(x, 0.2))(3.0) == 1.0


def test_sigmoid_derivative_at_zero_is_a_quarter():
    assert fg.grad(nn.sigmoid)(0.0) == 0.25


def test_softmax_axis_and_float32():
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(nn.softmax(x), _np_softmax(x), rtol=1e-6)
    np.testing.assert_allclose(nn.softmax(x, axis=0), _np_softmax(x.T).T, rtol=1e-6)
    assert nn.softmax(x).dtype == np.float32 and nn.log_softmax(x).dtype == np.float32


def test_activations_under_jit_and_vmap():
    x = np.array([[-3.0, 0.5, 2.0], [1.0, -0.25, 0.0]])
    for name, (f, ref) in ACTIVATIONS.items():
        np.testing.assert_allclose(fg.jit(f)(x), ref(x), rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(fg.vmap(f)(x), ref(x), rtol=1e-12, err_msg=name)


# ---------------------------------------------------------------------------
# Linear
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("lead", [(), (5,), (2, 3)])
def test_linear_values_and_shapes(lead):
    layer = nn.Linear(4, 3)
    params = layer.init(rng())
    params = {"w": params["w"], "b": np.array([0.5, -1.0, 2.0])}
    x = rng(1).standard_normal(lead + (4,))
    y = layer.apply(params, x)
    assert y.shape == lead + (3,)
    np.testing.assert_allclose(y, x @ params["w"] + params["b"], rtol=1e-14)


def test_linear_params_structure_and_zero_bias():
    params = nn.Linear(4, 3).init(rng())
    assert sorted(params) == ["b", "w"]
    assert params["w"].shape == (4, 3) and params["b"].shape == (3,)
    np.testing.assert_array_equal(params["b"], np.zeros(3))
    assert sorted(nn.Linear(4, 3, bias=False).init(rng())) == ["w"]
    no_bias = nn.Linear(4, 3, bias=False)
    p = no_bias.init(rng())
    x = np.ones((2, 4))
    np.testing.assert_allclose(no_bias.apply(p, x), x @ p["w"])


def test_linear_init_is_deterministic_in_the_generator():
    a, b = nn.Linear(5, 4).init(rng(7)), nn.Linear(5, 4).init(rng(7))
    np.testing.assert_array_equal(a["w"], b["w"])
    assert not np.array_equal(a["w"], nn.Linear(5, 4).init(rng(8))["w"])
    # He init is N(0, 1) * sqrt(2 / fan_in), drawn from the generator in order.
    np.testing.assert_array_equal(a["w"], rng(7).standard_normal((5, 4)) * math.sqrt(2 / 5))


def test_he_init_statistics():
    fan_in, fan_out = 1000, 400
    w = nn.Linear(fan_in, fan_out, init="he").init(rng(3))["w"]
    assert w.std() == pytest.approx(math.sqrt(2.0 / fan_in), rel=0.02)
    assert abs(w.mean()) < 5 * w.std() / math.sqrt(w.size)          # five standard errors
    # Normal, not uniform: about 4.6% of the draws lie beyond two standard deviations.
    assert np.mean(np.abs(w) > 2 * math.sqrt(2.0 / fan_in)) == pytest.approx(0.0455, abs=0.005)


def test_glorot_init_bounds_and_statistics():
    fan_in, fan_out = 600, 400
    a = math.sqrt(6.0 / (fan_in + fan_out))
    w = nn.Linear(fan_in, fan_out, init="glorot").init(rng(4))["w"]
    assert np.all(np.abs(w) <= a)
    assert np.abs(w).max() > 0.999 * a
    assert w.var() == pytest.approx(a * a / 3.0, rel=0.02)      # variance of U(-a, a)


def test_init_dtype_float32():
    layer = nn.Linear(3, 2)
    p32 = layer.init(rng(0), np.float32)
    p64 = layer.init(rng(0))
    assert p32["w"].dtype == np.float32 and p32["b"].dtype == np.float32
    np.testing.assert_array_equal(p32["w"], p64["w"].astype(np.float32))
    x = np.ones((4, 3), np.float32)
    assert layer.apply(p32, x).dtype == np.float32
    g = fg.grad(lambda p: fnp.sum(layer.apply(p, x)))(p32)
    assert g["w"].dtype == np.float32


def test_linear_gradients_match_finite_differences():
    layer = nn.Linear(3, 2)
    p = layer.init(rng())
    p["b"] = np.array([0.3, -0.2])
    x = rng(1).standard_normal((4, 3))
    check_grads(lambda w, b, x: layer.apply({"w": w, "b": b}, x), (p["w"], p["b"], x), order=2)
    check_grads(lambda p: fnp.tanh(layer.apply(p, x)), (p,), order=2)


def test_linear_gradient_closed_form():
    layer = nn.Linear(3, 2)
    p = layer.init(rng())
    x = rng(1).standard_normal((4, 3))
    g = fg.grad(lambda p: fnp.sum(layer.apply(p, x) ** 2) / 2)(p)
    y = x @ p["w"] + p["b"]
    np.testing.assert_allclose(g["w"], x.T @ y, rtol=1e-12)
    np.testing.assert_allclose(g["b"], y.sum(0), rtol=1e-12)


def test_linear_input_width_mismatch_names_both_shapes():
    layer = nn.Linear(3, 2)
    p = layer.init(rng())
    with pytest.raises(ShapeError, match=r"\(\.\.\., 3\).*\(5, 4\)"):
        layer.apply(p, np.ones((5, 4)))
    with pytest.raises(ShapeError, match=r"\(\.\.\., 3\).*\(\)"):
        layer.apply(p, np.float64(1.0))
    # ... also under a transformation, where x is traced.
    with pytest.raises(ShapeError, match=r"\(\.\.\., 3\).*\(5, 4\)"):
        fg.grad(lambda p: fnp.sum(layer.apply(p, np.ones((5, 4)))))(p)


def test_linear_bad_params_and_arguments():
    layer = nn.Linear(3, 2)
    with pytest.raises(ShapeError, match=r"\(3, 2\).*\(2, 3\)"):
        layer.apply({"w": np.ones((2, 3)), "b": np.zeros(2)}, np.ones(3))
    with pytest.raises(TreeStructureError, match="'w'"):
        layer.apply({"weight": np.ones((3, 2))}, np.ones(3))
    with pytest.raises(ArgumentError, match="init"):
        nn.Linear(3, 2, init="xavier")
    with pytest.raises(ArgumentError, match="in_features"):
        nn.Linear(0, 2)
    with pytest.raises(ArgumentError, match="out_features"):
        nn.Linear(3, 2.5)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="Generator"):
        layer.init(np.random.RandomState(0))  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="Generator"):
        layer.init(0)  # type: ignore[arg-type]
    with pytest.raises(DTypeError, match="int64"):
        layer.init(rng(), np.int64)


def test_layers_hold_only_hyperparameters():
    layer = nn.Linear(3, 2, init="glorot")
    assert (layer.in_features, layer.out_features, layer.weight_init, layer.bias) == (3, 2, "glorot",
                                                                                      True)
    with pytest.raises(AttributeError):
        layer.in_features = 4  # type: ignore[misc]
    assert layer == nn.Linear(3, 2, init="glorot") and hash(layer) == hash(nn.Linear(3, 2, "glorot"))


def test_linear_under_jit_matches_eager():
    layer = nn.Linear(3, 2)
    p = layer.init(rng())
    x = rng(1).standard_normal((4, 3))
    np.testing.assert_allclose(fg.jit(layer.apply)(p, x), layer.apply(p, x), rtol=1e-14)
    loss = lambda p, x: fnp.sum(fnp.tanh(layer.apply(p, x)) ** 2)
    gj, ge = fg.jit(fg.grad(loss))(p, x), fg.grad(loss)(p, x)
    np.testing.assert_allclose(gj["w"], ge["w"], rtol=1e-12)
    np.testing.assert_allclose(gj["b"], ge["b"], rtol=1e-12)


def test_per_example_gradients_through_linear_with_vmap_grad():
    layer = nn.Linear(3, 2)
    p = layer.init(rng())
    xs, ys = rng(1).standard_normal((6, 3)), rng(2).standard_normal((6, 2))
    loss = lambda p, x, y: nn.mse(layer.apply(p, x), y)
    per = fg.vmap(fg.grad(loss), in_axes=(None, 0, 0))(p, xs, ys)
    assert per["w"].shape == (6, 3, 2) and per["b"].shape == (6, 2)
    for i in range(6):
        gi = fg.grad(loss)(p, xs[i], ys[i])
        np.testing.assert_allclose(per["w"][i], gi["w"], rtol=1e-12)
        # closed form: d/db mean((xw + b - y)^2) = 2 (xw + b - y) / 2
        np.testing.assert_allclose(per["b"][i], xs[i] @ p["w"] + p["b"] - ys[i], rtol=1e-12)
    jitted = fg.jit(fg.vmap(fg.grad(loss), in_axes=(None, 0, 0)))(p, xs, ys)
    np.testing.assert_allclose(jitted["w"], per["w"], rtol=1e-12)


# ---------------------------------------------------------------------------
# Sequential and MLP
# ---------------------------------------------------------------------------

def test_sequential_params_and_apply_compose():
    model = nn.Sequential([nn.Linear(2, 4), nn.tanh, nn.Linear(4, 3), nn.relu])
    params = model.init(rng())
    assert isinstance(params, list) and len(params) == 4
    assert params[1] is None and params[3] is None
    x = rng(1).standard_normal((5, 2))
    h = np.tanh(x @ params[0]["w"] + params[0]["b"])
    expected = np.maximum(h @ params[2]["w"] + params[2]["b"], 0.0)
    np.testing.assert_allclose(model.apply(params, x), expected, rtol=1e-14)
    check_grads(lambda p: model.apply(p, x[:2]), (params,), order=1)


def test_sequential_of_sequentials_and_errors():
    inner = nn.Sequential([nn.Linear(2, 2), nn.tanh])
    model = nn.Sequential([inner, nn.Linear(2, 1)])
    params = model.init(rng())
    assert isinstance(params[0], list) and params[0][1] is None
    assert model.apply(params, np.ones((3, 2))).shape == (3, 1)
    with pytest.raises(TreeStructureError, match="2.*length 1"):
        model.apply(params[:1], np.ones((3, 2)))
    with pytest.raises(ArgumentError, match="layer 1"):
        nn.Sequential([nn.Linear(2, 2), 3])  # type: ignore[list-item]
    with pytest.raises(ArgumentError, match="list of layers"):
        nn.Sequential(nn.Linear(2, 2))  # type: ignore[arg-type]


def test_seed_table_linear_sequential_is_reproduced():
    # Origin document 001: Sequential([Linear(2, 3), Linear(3, 1)]), summed squared error,
    # 10 steps of SGD with lr 0.05 (see shared/seeds/README.md for the draws).
    legacy = np.random.RandomState(42)

    def node_ids(n):                   # the origin drew one id per tensor it created
        for _ in range(n):
            legacy.randint(0, 100000)

    node_ids(2)
    params = []
    for n_in, n_out in [(2, 3), (3, 1)]:
        w = legacy.randn(n_in, n_out) * np.sqrt(2.0 / n_in)
        node_ids(2)
        params.append({"w": w, "b": np.zeros(n_out)})
    data = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    target = np.array([[0.0], [1.0], [0.0], [1.0]])
    model = nn.Sequential([nn.Linear(2, 3), nn.Linear(3, 1)])

    def loss(p):
        return fnp.sum((model.apply(p, data) - target) ** 2)

    losses = []
    for _ in range(10):
        value, grads = fg.value_and_grad(loss)(params)
        losses.append(float(value))
        params = fg.tree.map(lambda p, g: p - 0.05 * g, params, grads)
    np.testing.assert_allclose(losses, [3.65094627, 5.24649682, 7.49768079, 2.58132095, 0.82653187,
                                        0.26937059, 0.2301955, 0.19896456, 0.17283695, 0.15067618],
                               rtol=0, atol=5e-9)                # the 8 decimals printed


def test_mlp_structure_values_and_gradients():
    model = nn.MLP([3, 5, 4, 2], activation=nn.tanh, final_activation=nn.sigmoid, init="glorot")
    params = model.init(rng())
    assert [p["w"].shape for p in params] == [(3, 5), (5, 4), (4, 2)]
    x = rng(1).standard_normal((2, 3))
    h = x
    for i, p in enumerate(params):
        h = h @ p["w"] + p["b"]
        h = np.tanh(h) if i < 2 else 1.0 / (1.0 + np.exp(-h))
    np.testing.assert_allclose(model.apply(params, x), h, rtol=1e-13)
    check_grads(lambda p, x: model.apply(p, x), (params, x), order=2)


def test_mlp_default_is_relu_between_layers_only():
    model = nn.MLP([2, 3, 2])
    params = model.init(rng())
    x = rng(1).standard_normal((4, 2))
    h = np.maximum(x @ params[0]["w"] + params[0]["b"], 0)
    out = model.apply(params, x)
    np.testing.assert_allclose(out, h @ params[1]["w"] + params[1]["b"], rtol=1e-14)


def test_mlp_bad_arguments():
    with pytest.raises(ArgumentError, match="at least"):
        nn.MLP([3])
    with pytest.raises(ArgumentError, match="every size"):
        nn.MLP([3, 0, 2])
    model = nn.MLP([3, 4, 2])
    with pytest.raises(TreeStructureError, match="2 layer"):
        model.apply(model.init(rng())[:1], np.ones(3))
    with pytest.raises(ShapeError, match=r"\(\.\.\., 3\).*\(7,\)"):
        model.apply(model.init(rng()), np.ones(7))


def test_mlp_training_under_jit_reduces_the_loss():
    model = nn.MLP([2, 8, 1], activation=nn.tanh)
    params = model.init(rng(0))
    x = rng(1).standard_normal((32, 2))
    y = (x[:, :1] * x[:, 1:]).copy()
    loss = lambda p: nn.mse(model.apply(p, x), y)
    step = fg.jit(fg.value_and_grad(loss))
    first = None
    for _ in range(200):
        value, grads = step(params)
        first = value if first is None else first
        params = fg.tree.map(lambda p, g: p - 0.1 * g, params, grads)
    assert float(loss(params)) < 0.5 * float(first)


# ---------------------------------------------------------------------------
# Embedding
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("ids", [np.array([2, 0, 2]), np.array([[1, 1], [3, 0]]), np.int64(3)])
def test_embedding_rows(ids):
    emb = nn.Embedding(4, 3)
    params = emb.init(rng())
    out = emb.apply(params, ids)
    assert out.shape == np.shape(ids) + (3,)
    np.testing.assert_array_equal(out, params["table"][ids])


def test_embedding_repeated_ids_accumulate_gradients():
    emb = nn.Embedding(5, 2)
    params = emb.init(rng())
    ids = np.array([1, 3, 1, 1, 0])
    cot = rng(1).standard_normal((5, 2))
    g = fg.grad(lambda p: fnp.sum(emb.apply(p, ids) * cot))(params)["table"]
    expected = np.zeros((5, 2))
    np.add.at(expected, ids, cot)
    np.testing.assert_allclose(g, expected, rtol=1e-14)
    np.testing.assert_allclose(g[1], cot[0] + cot[2] + cot[3], rtol=1e-14)
    np.testing.assert_array_equal(g[[2, 4]], 0.0)
    check_grads(lambda t: emb.apply({"table": t}, ids), (params["table"],), order=2)


def test_embedding_init_errors_and_jit():
    emb = nn.Embedding(50, 40)
    table = emb.init(rng())["table"]
    assert table.shape == (50, 40)
    assert table.std() == pytest.approx(1.0, rel=0.05)
    with pytest.raises(DTypeError, match="float64"):
        emb.apply({"table": table}, np.array([1.0, 2.0]))
    with pytest.raises(ShapeError, match=r"50.*\(50, 40\)"):
        emb.apply({"table": table}, np.array([1, 50]))
    with pytest.raises(ShapeError, match=r"-1.*\(50, 40\)"):
        emb.apply({"table": table}, np.array([-1]))
    with pytest.raises(ShapeError, match=r"\(50, 40\).*\(40, 50\)"):
        emb.apply({"table": table.T}, np.array([1]))
    ids = np.array([[3, 3], [7, 0]])
    np.testing.assert_array_equal(fg.jit(emb.apply)({"table": table}, ids), table[ids])


def test_embedding_then_linear_gradients():
    emb, lin = nn.Embedding(6, 3), nn.Linear(3, 2)
    params = {"emb": emb.init(rng(0)), "lin": lin.init(rng(1))}
    ids = np.array([0, 5, 5, 2])
    check_grads(lambda p: fnp.tanh(lin.apply(p["lin"], emb.apply(p["emb"], ids))), (params,),
                order=2)


# ---------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------

def test_dropout_draws_the_mask_from_the_generator():
    drop = nn.Dropout(0.25)
    x = rng(5).standard_normal((40, 50))
    y = drop.apply(None, x, rng=rng(9))
    keep = rng(9).random(x.shape) >= 0.25
    np.testing.assert_allclose(y, np.where(keep, x / 0.75, 0.0), rtol=1e-15)
    assert np.mean(keep) == pytest.approx(0.75, abs=0.03)
    # The mask is a constant: the gradient is mask / (1 - rate).
    g = fg.grad(lambda x: fnp.sum(drop.apply(None, x, rng=rng(9))))(x)
    np.testing.assert_allclose(g, keep / 0.75, rtol=1e-15)


def test_dropout_is_the_identity_in_evaluation_and_at_rate_zero():
    x = np.arange(6.0)
    np.testing.assert_array_equal(nn.Dropout(0.5).apply(None, x, train=False), x)
    np.testing.assert_array_equal(nn.Dropout(0.0).apply(None, x, rng=rng()), x)
    assert nn.Dropout(0.5).init(rng()) is None


def test_dropout_errors():
    with pytest.raises(ArgumentError, match="rate"):
        nn.Dropout(1.0)
    with pytest.raises(ArgumentError, match="rate"):
        nn.Dropout(-0.1)
    with pytest.raises(ArgumentError, match="rng="):
        nn.Dropout(0.5).apply(None, np.ones(3))
    with pytest.raises(ShapeError, match=r"\(2,\).*\(3,\)"):
        nn.Dropout(0.5).apply(None, np.ones(3), mask=np.ones(2, bool))


def test_dropout_under_jit_takes_the_mask_as_an_argument():
    drop = nn.Dropout(0.5)
    f = fg.jit(lambda x, mask: drop.apply(None, x, mask=mask))
    x = np.arange(1.0, 9.0)
    for seed in range(3):
        mask = drop.draw_mask(rng(seed), x.shape)
        np.testing.assert_array_equal(f(x, mask), np.where(mask, 2 * x, 0.0))
    assert f.cache_info().misses == 1                 # one trace serves every mask


def test_sequential_forwards_rng_and_train_to_dropout():
    model = nn.Sequential([nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 1)])
    params = model.init(rng())
    x = rng(1).standard_normal((5, 3))
    plain = nn.Sequential([nn.Linear(3, 4), nn.Linear(4, 1)])
    plain_params = [params[0], params[2]]
    np.testing.assert_allclose(model.apply(params, x, train=False), plain.apply(plain_params, x))
    h = x @ params[0]["w"] + params[0]["b"]
    keep = rng(3).random(h.shape) >= 0.5
    expected = np.where(keep, 2 * h, 0) @ params[2]["w"] + params[2]["b"]
    np.testing.assert_allclose(model.apply(params, x, rng=rng(3)), expected, rtol=1e-14)
    assert model.stochastic and not plain.stochastic


# ---------------------------------------------------------------------------
# Recurrent cells
# ---------------------------------------------------------------------------

def _np_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _np_lstm(p, x, h, c):
    z = x @ p["w_ih"] + h @ p["w_hh"] + p["b"]
    i, f, g, o = np.split(z, 4, axis=-1)
    c = _np_sigmoid(f) * c + _np_sigmoid(i) * np.tanh(g)
    return _np_sigmoid(o) * np.tanh(c), c


def test_rnn_cell_values_shapes_and_init():
    cell = nn.RNNCell(3, 4)
    p = cell.init(rng())
    assert {k: v.shape for k, v in p.items()} == {"w_ih": (3, 4), "w_hh": (4, 4), "b": (4,)}
    assert all(np.all(np.abs(v) <= 0.5) for v in p.values())            # 1 / sqrt(4)
    x, h = rng(1).standard_normal((2, 3)), rng(2).standard_normal((2, 4))
    np.testing.assert_allclose(cell.apply(p, x, h), np.tanh(x @ p["w_ih"] + h @ p["w_hh"] + p["b"]),
                               rtol=1e-14)
    assert cell.initial_state((2,)).shape == (2, 4)
    check_grads(cell.apply, (p, x, h), order=2)


def test_lstm_cell_values_shapes_and_grads():
    cell = nn.LSTMCell(2, 3)
    p = cell.init(rng())
    assert {k: v.shape for k, v in p.items()} == {"w_ih": (2, 12), "w_hh": (3, 12), "b": (12,)}
    assert all(np.all(np.abs(v) <= 1 / math.sqrt(3)) for v in p.values())
    x = rng(1).standard_normal((4, 2))
    h, c = rng(2).standard_normal((4, 3)), rng(3).standard_normal((4, 3))
    h1, c1 = cell.apply(p, x, (h, c))
    eh, ec = _np_lstm(p, x, h, c)
    assert h1.shape == (4, 3) and c1.shape == (4, 3)
    np.testing.assert_allclose(h1, eh, rtol=1e-13)
    np.testing.assert_allclose(c1, ec, rtol=1e-13)
    check_grads(lambda p, x, h, c: cell.apply(p, x, (h, c)), (p, x[:2], h[:2], c[:2]), order=2)


def test_lstm_unrolled_over_time_grads_jit_and_vmap():
    cell = nn.LSTMCell(2, 3)
    p = cell.init(rng())
    xs = rng(1).standard_normal((4, 5, 2))          # time, batch, features

    def run(p, xs):
        state = cell.initial_state(xs.shape[1:-1])
        for t in range(xs.shape[0]):
            state = cell.apply(p, xs[t], state)
        return state[0]

    h = np.zeros((5, 3))
    c = np.zeros((5, 3))
    for x in xs:
        h, c = _np_lstm(p, x, h, c)
    np.testing.assert_allclose(run(p, xs), h, rtol=1e-13)
    np.testing.assert_allclose(fg.jit(run)(p, xs), h, rtol=1e-13)
    # vmap over the batch axis of xs equals the batched cell.
    np.testing.assert_allclose(fg.vmap(run, in_axes=(None, 1))(p, xs), h, rtol=1e-13)
    check_grads(lambda p: run(p, xs[:3, :2]), (p,), order=1)


def test_recurrent_cell_errors_name_shapes():
    rnn, lstm = nn.RNNCell(3, 4), nn.LSTMCell(3, 4)
    p, q = rnn.init(rng()), lstm.init(rng())
    with pytest.raises(ShapeError, match=r"\(\.\.\., 3\).*\(2, 5\)"):
        rnn.apply(p, np.ones((2, 5)), np.zeros((2, 4)))
    with pytest.raises(ShapeError, match=r"\(\.\.\., 4\).*\(2, 3\)"):
        rnn.apply(p, np.ones((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ShapeError, match=r"\(\.\.\., 4\).*\(2, 2\)"):
        lstm.apply(q, np.ones((2, 3)), (np.zeros((2, 4)), np.zeros((2, 2))))
    with pytest.raises(TreeStructureError, match="pair"):
        lstm.apply(q, np.ones((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ShapeError, match=r"w_hh.*\(4, 16\).*\(4, 4\)"):
        lstm.apply({**q, "w_hh": p["w_hh"]}, np.ones(3), lstm.initial_state())
    with pytest.raises(ArgumentError, match="hidden_size"):
        nn.LSTMCell(3, 0)


# ---------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------

def test_mse_values_reductions_and_grads():
    pred, target = rng(1).standard_normal((4, 3)), rng(2).standard_normal((4, 3))
    sq = (pred - target) ** 2
    assert nn.mse(pred, target) == pytest.approx(sq.mean(), rel=1e-14)
    assert nn.mse(pred, target, reduction="sum") == pytest.approx(sq.sum(), rel=1e-14)
    np.testing.assert_allclose(nn.mse(pred, target, reduction="none"), sq, rtol=1e-14)
    np.testing.assert_allclose(fg.grad(nn.mse)(pred, target), 2 * (pred - target) / pred.size,
                               rtol=1e-14)
    check_grads(nn.mse, (pred, target), order=2)


@given(fst.array_pairs(elements=(-5, 5)))
def test_mse_matches_numpy_on_equal_shapes(pair):
    a, b = pair
    b = np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape)).copy()
    a = np.broadcast_to(a, b.shape).copy()
    np.testing.assert_allclose(nn.mse(a, b), np.mean((a - b) ** 2), rtol=1e-12, atol=1e-300)


def test_losses_do_not_broadcast():
    with pytest.raises(ShapeError, match=r"\(3, 1\).*\(3,\)"):
        nn.mse(np.ones((3, 1)), np.ones(3))
    with pytest.raises(ShapeError, match=r"\(3,\).*\(2,\)"):
        nn.binary_cross_entropy(np.full(3, 0.5), np.ones(2))
    with pytest.raises(ShapeError, match=r"\(3, 1\).*\(3,\)"):
        nn.binary_cross_entropy_with_logits(np.ones((3, 1)), np.ones(3))
    with pytest.raises(ArgumentError, match="reduction"):
        nn.mse(np.ones(3), np.ones(3), reduction="avg")


def test_binary_cross_entropy_values_and_grads():
    p = np.array([0.05, 0.3, 0.5, 0.9, 0.99])
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.3])
    expected = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert nn.binary_cross_entropy(p, t) == pytest.approx(expected.mean(), rel=1e-14)
    np.testing.assert_allclose(nn.binary_cross_entropy(p, t, reduction="none"), expected, rtol=1e-14)
    np.testing.assert_allclose(fg.grad(nn.binary_cross_entropy)(p, t),
                               (p - t) / (p * (1 - p)) / p.size, rtol=1e-12)
    check_grads(nn.binary_cross_entropy, (p, t), order=2)


def test_binary_cross_entropy_at_zero_and_one_is_clamped_and_finite():
    p, t = np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0])
    with no_warnings():
        losses = nn.binary_cross_entropy(p, t, reduction="none")
        g = fg.grad(lambda p: nn.binary_cross_entropy(p, t))(p)
    np.testing.assert_allclose(losses, [100.0, 100.0, 0.0, 0.0], rtol=1e-12)
    assert np.all(np.isfinite(g))
    with pytest.raises(DTypeError, match="probs"):
        nn.binary_cross_entropy(np.array([0, 1]), np.array([0.0, 1.0]))


def test_binary_cross_entropy_with_logits_is_stable_and_exact():
    x = np.array([-1e3, -30.0, -2.0, 0.0, 0.7, 30.0, 1e3])
    t = np.array([1.0, 0.0, 1.0, 0.5, 0.0, 1.0, 0.0])
    expected = np.logaddexp(0.0, x) - t * x
    with no_warnings():
        losses = nn.binary_cross_entropy_with_logits(x, t, reduction="none")
        g = fg.grad(nn.binary_cross_entropy_with_logits)(x, t)
    np.testing.assert_allclose(losses, expected, rtol=1e-14)
    sig = np.exp(-np.logaddexp(0.0, -x))
    # (sigmoid(30) - 1) cancels in the reference itself: compare those to 1e-15 absolutely.
    np.testing.assert_allclose(g, (sig - t) / x.size, rtol=1e-12, atol=1e-15)
    # Where the sigmoid does not saturate it agrees with binary_cross_entropy(sigmoid(x)).
    xm, tm = x[1:-1] / 10, t[1:-1]
    assert nn.binary_cross_entropy_with_logits(xm, tm) == pytest.approx(
        float(nn.binary_cross_entropy(nn.sigmoid(xm), tm)), rel=1e-12)
    check_grads(nn.binary_cross_entropy_with_logits, (xm, tm), order=2)


def _np_ce(logits, labels):
    return -_np_log_softmax(logits)[np.arange(len(labels)), labels]


def test_softmax_cross_entropy_integer_and_one_hot_labels():
    logits = rng(1).standard_normal((5, 4))
    labels = np.array([0, 3, 3, 1, 2])
    one_hot = np.eye(4)[labels]
    expected = _np_ce(logits, labels)
    assert nn.softmax_cross_entropy(logits, labels) == pytest.approx(expected.mean(), rel=1e-14)
    assert nn.softmax_cross_entropy(logits, one_hot) == pytest.approx(expected.mean(), rel=1e-14)
    np.testing.assert_allclose(nn.softmax_cross_entropy(logits, labels, reduction="none"), expected,
                               rtol=1e-14)
    assert nn.softmax_cross_entropy(logits, labels, reduction="sum") == pytest.approx(
        expected.sum(), rel=1e-14)
    for lab in (labels, one_hot):
        g = fg.grad(nn.softmax_cross_entropy)(logits, lab)
        np.testing.assert_allclose(g, (_np_softmax(logits) - one_hot) / 5, rtol=1e-12, atol=1e-16)
    check_grads(lambda z: nn.softmax_cross_entropy(z, labels), (logits,), order=2)
    check_grads(nn.softmax_cross_entropy, (logits, one_hot * 0.7 + 0.075), order=2)


def test_softmax_cross_entropy_with_leading_dims_and_soft_labels():
    logits = rng(1).standard_normal((2, 3, 4))
    labels = np.array([[0, 1, 3], [2, 2, 0]])
    expected = -np.take_along_axis(_np_log_softmax(logits), labels[..., None], -1)[..., 0]
    np.testing.assert_allclose(nn.softmax_cross_entropy(logits, labels, reduction="none"), expected,
                               rtol=1e-14)
    soft = _np_softmax(rng(2).standard_normal((2, 3, 4)))
    np.testing.assert_allclose(nn.softmax_cross_entropy(logits, soft, reduction="none"),
                               -(soft * _np_log_softmax(logits)).sum(-1), rtol=1e-14)


def test_softmax_cross_entropy_at_large_logits():
    logits = np.array([[1e3, -1e3, 0.0], [-1e3, -1e3, 1e3], [5.0, 1e3, 1e3]])
    labels = np.array([0, 0, 2])
    with no_warnings():
        losses = nn.softmax_cross_entropy(logits, labels, reduction="none")
        g = fg.grad(nn.softmax_cross_entropy)(logits, labels)
    # log(2) comes out of logsumexp = 1000 + log(2) minus 1000: exact to the ulp of 1000.
    np.testing.assert_allclose(losses, [0.0, 2e3, math.log(2.0)], rtol=1e-14, atol=1e-12)
    expected = (_np_softmax(logits) - np.eye(3)[labels]) / 3
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-300)
    f32 = logits.astype(np.float32)
    with no_warnings():
        assert np.isfinite(nn.softmax_cross_entropy(f32, labels))
        assert np.all(np.isfinite(fg.grad(nn.softmax_cross_entropy)(f32, labels)))


def test_softmax_cross_entropy_bad_input_names_shapes():
    logits = np.zeros((3, 4))
    with pytest.raises(ShapeError, match=r"label 4.*\(3, 4\)"):
        nn.softmax_cross_entropy(logits, np.array([0, 4, 1]))
    with pytest.raises(ShapeError, match=r"label -1.*\(3, 4\)"):
        nn.softmax_cross_entropy(logits, np.array([0, -1, 1]))
    with pytest.raises(ShapeError, match=r"\(3,\).*\(2,\).*\(3, 4\)"):
        nn.softmax_cross_entropy(logits, np.array([0, 1]))
    with pytest.raises(ShapeError, match=r"\(3, 3\).*\(3, 4\)"):
        nn.softmax_cross_entropy(logits, np.eye(3))
    with pytest.raises(ShapeError, match=r"class axis.*\(\)"):
        nn.softmax_cross_entropy(np.float64(0.0), np.int64(0))
    with pytest.raises(DTypeError, match="bool"):
        nn.softmax_cross_entropy(logits, np.ones((3, 4), bool))
    with pytest.raises(DTypeError, match="logits"):
        nn.softmax_cross_entropy(np.zeros((3, 4), int), np.array([0, 1, 2]))
    # Out-of-range labels that are traced arguments of jit fail when the graph runs.
    with pytest.raises(ShapeError, match="out of bounds"):
        fg.jit(nn.softmax_cross_entropy)(logits, np.array([0, 4, 1]))


def test_losses_under_jit_and_per_example_vmap():
    logits = rng(1).standard_normal((6, 3))
    labels = np.array([0, 2, 1, 1, 0, 2])
    jitted = fg.jit(nn.softmax_cross_entropy)(logits, labels)
    assert jitted == pytest.approx(float(nn.softmax_cross_entropy(logits, labels)), rel=1e-14)
    per = fg.vmap(nn.softmax_cross_entropy)(logits, labels)
    np.testing.assert_allclose(per, _np_ce(logits, labels), rtol=1e-14)
    gper = fg.vmap(fg.grad(nn.softmax_cross_entropy))(logits, labels)
    np.testing.assert_allclose(gper, _np_softmax(logits) - np.eye(3)[labels], rtol=1e-12, atol=1e-16)


@given(st.integers(1, 5), st.integers(2, 5), st.integers(0, 2**31 - 1))
def test_softmax_cross_entropy_matches_numpy(n, c, seed):
    r = rng(seed)
    logits = r.standard_normal((n, c)) * 10
    labels = r.integers(0, c, size=n)
    np.testing.assert_allclose(nn.softmax_cross_entropy(logits, labels),
                               _np_ce(logits, labels).mean(), rtol=1e-12)


# ---------------------------------------------------------------------------
# The documentation runs as written
# ---------------------------------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def test_docs_nn_page_runs():
    result = doctest.testfile(os.path.join(ROOT, "docs", "nn.md"), module_relative=False,
                              optionflags=FLAGS, raise_on_error=False, report=True, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} example(s) in docs/nn.md failed (see stdout)"


@pytest.mark.parametrize("module", ["funcgrad.nn", "funcgrad.nn.activations", "funcgrad.nn.layers",
                                    "funcgrad.nn.losses", "funcgrad.nn.recurrent", "funcgrad.nn.io"])
def test_docstring_examples_run(module):
    import importlib

    failures, tried = doctest.testmod(importlib.import_module(module), optionflags=FLAGS)
    assert tried > 0 and failures == 0


# -- funcgrad.random keys ------------------------------------------------------------------
def test_init_from_a_key_is_reproducible_and_gives_each_layer_its_own_weights():
    key = fg.random.key(3)
    model = nn.MLP([4, 4, 4, 1])
    params = model.init(key)
    again = model.init(key)
    for a, b in zip(fg.tree.leaves(params), fg.tree.leaves(again)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(params[0]["w"], params[1]["w"])
    # The draws are funcgrad.random's: he_normal of the subkey split off first.
    _, sub = fg.random.split(key)
    np.testing.assert_array_equal(params[0]["w"], fg.random.normal(sub, (4, 4)) * np.sqrt(2.0 / 4))
    cell = nn.LSTMCell(3, 5).init(fg.random.key(0), np.float32)
    assert cell["w_ih"].dtype == np.float32 and not np.array_equal(cell["w_ih"][:3], cell["w_hh"][:3])
    assert nn.Embedding(4, 2).init(key)["table"].shape == (4, 2)


def test_dropout_with_a_key_draws_inside_jit_and_vmap():
    drop = nn.Dropout(0.25)
    x = np.ones(1000)
    key = fg.random.key(0)
    y = drop.apply(None, x, rng=key)
    np.testing.assert_array_equal(y, np.where(fg.random.bernoulli(key, 0.75, (1000,)), 1 / 0.75, 0.0))
    f = fg.jit(lambda x, k: drop.apply(None, x, rng=k))
    np.testing.assert_array_equal(f(x, key), y)
    assert not np.array_equal(f(x, fg.random.key(1)), y) and f.cache_info().misses == 1
    keys = fg.random.split(key, 3)
    batched = fg.vmap(lambda k, x: drop.apply(None, x, rng=k))(keys, np.ones((3, 1000)))
    np.testing.assert_array_equal(batched, np.stack([drop.apply(None, x, rng=k) for k in keys]))
    g = fg.grad(lambda x: fnp.sum(drop.apply(None, x, rng=key)))(x)
    np.testing.assert_array_equal(g, y)  # the gradient is mask / (1 - rate)


def test_sequential_gives_each_dropout_its_own_key():
    model = nn.Sequential([nn.Dropout(0.5), nn.Dropout(0.5)])
    key = fg.random.key(2)
    x = np.ones(64)
    out = model.apply([None, None], x, rng=key)
    first = nn.Dropout(0.5).apply(None, x, rng=fg.random.fold_in(key, 0))
    np.testing.assert_array_equal(out, nn.Dropout(0.5).apply(None, first, rng=fg.random.fold_in(key, 1)))
    assert not np.array_equal(fg.random.fold_in(key, 0), fg.random.fold_in(key, 1))
