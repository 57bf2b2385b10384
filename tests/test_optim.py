"""funcgrad.optim: every optimiser against its closed form or a hand-written NumPy version.

The optimisers are fed gradients from a NumPy function of the parameters, so
the comparison checks the optimiser alone; a separate test trains with
``funcgrad.grad`` end to end, eagerly and under ``jit``.
"""

import doctest
import math
import os

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import optim, tree
from funcgrad.errors import ArgumentError, TreeStructureError

# -- a random quadratic with dict parameters -------------------------------------------------


def make_quadratic(seed=0, dtype=np.float64):
    """``loss(p) = sum_k 0.5 p_k.A_k p_k - b_k.p_k`` over nested dict params; A_k SPD."""
    rng = np.random.default_rng(seed)
    shapes = {"b": (2,), "layer": {"w": (4,)}}
    As, bs = {}, {}
    for key, n in (("b", 2), ("w", 4)):
        m = rng.normal(size=(n, n))
        As[key] = m @ m.T / n + np.eye(n)
        bs[key] = rng.normal(size=n)
    params = tree.map(lambda s: rng.normal(size=s).astype(dtype), shapes,
                      is_leaf=lambda s: isinstance(s, tuple))

    def grad_fn(p):  # by hand, in NumPy
        return {"b": As["b"] @ p["b"] - bs["b"], "layer": {"w": As["w"] @ p["layer"]["w"] - bs["w"]}}

    def loss(p):  # the same function for funcgrad.grad
        total = 0.0
        for key, x in (("b", p["b"]), ("w", p["layer"]["w"])):
            total = total + 0.5 * fnp.sum(x * (As[key] @ x)) - fnp.sum(bs[key] * x)
        return total

    optimum = {"b": np.linalg.solve(As["b"], bs["b"]),
               "layer": {"w": np.linalg.solve(As["w"], bs["w"])}}
    return params, grad_fn, loss, optimum


def run(opt, params, grad_fn, steps):
    """Params after each of ``steps`` optimiser steps."""
    state = opt.init(params)
    history = []
    for _ in range(steps):
        updates, state = opt.update(grad_fn(params), state, params)
        params = optim.apply_updates(params, updates)
        history.append(params)
    return history


def assert_trees_close(actual, expected, rtol, atol=0.0):
    assert tree.structure(actual) == tree.structure(expected)
    for a, e in zip(tree.leaves(actual), tree.leaves(expected)):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


def assert_trees_equal(actual, expected):
    assert tree.structure(actual) == tree.structure(expected)
    for a, e in zip(tree.leaves(actual), tree.leaves(expected)):
        assert np.shape(a) == np.shape(e) and np.asarray(a).dtype == np.asarray(e).dtype
        np.testing.assert_array_equal(a, e)


def copy_tree(t):
    return tree.map(np.array, t)


# -- hand-written NumPy optimisers: the oracles ----------------------------------------------


def numpy_sgd(params, grad_fn, steps, lr, momentum=0.0, nesterov=False):
    p = copy_tree(params)
    v = tree.map(np.zeros_like, p)
    history = []
    for t in range(steps):
        g = grad_fn(p)
        lr_t = lr(t) if callable(lr) else lr
        v = tree.map(lambda gi, vi: gi + momentum * vi, g, v)
        step = tree.map(lambda gi, vi: gi + momentum * vi, g, v) if nesterov else v
        p = tree.map(lambda pi, si, lr_t=lr_t: pi - lr_t * si, p, step)
        history.append(p)
    return history


def numpy_adam(params, grad_fn, steps, lr, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0):
    p = copy_tree(params)
    m = tree.map(np.zeros_like, p)
    v = tree.map(np.zeros_like, p)
    history = []
    for t in range(1, steps + 1):
        g = grad_fn(p)
        lr_t = lr(t - 1) if callable(lr) else lr
        m = tree.map(lambda gi, mi: b1 * mi + (1 - b1) * gi, g, m)
        v = tree.map(lambda gi, vi: b2 * vi + (1 - b2) * gi ** 2, g, v)

        def step(pi, mi, vi, t=t, lr_t=lr_t):
            m_hat = mi / (1 - b1 ** t)
            v_hat = vi / (1 - b2 ** t)
            return pi - lr_t * (m_hat / (np.sqrt(v_hat) + eps) + weight_decay * pi)

        p = tree.map(step, p, m, v)
        history.append(p)
    return history


def numpy_rmsprop(params, grad_fn, steps, lr, decay=0.9, eps=1e-8, momentum=0.0):
    p = copy_tree(params)
    v = tree.map(np.zeros_like, p)
    buf = tree.map(np.zeros_like, p)
    history = []
    for _ in range(steps):
        g = grad_fn(p)
        v = tree.map(lambda gi, vi: decay * vi + (1 - decay) * gi ** 2, g, v)
        buf = tree.map(lambda gi, vi, bi: momentum * bi + gi / (np.sqrt(vi) + eps), g, v, buf)
        p = tree.map(lambda pi, bi: pi - lr * bi, p, buf)
        history.append(p)
    return history


# -- SGD -------------------------------------------------------------------------------------


def test_sgd_matches_the_closed_form_on_a_quadratic():
    # f(x) = 0.5 * a * x**2 elementwise: x_t = (1 - lr * a)**t * x_0.
    a = np.array([1.0, 2.0, 4.0])
    x0 = np.array([1.0, -2.0, 0.5])
    history = run(optim.sgd(0.1), {"x": x0}, lambda p: {"x": a * p["x"]}, steps=6)
    for t, p in enumerate(history, start=1):
        np.testing.assert_allclose(p["x"], (1 - 0.1 * a) ** t * x0, rtol=1e-14)


def test_sgd_momentum_hand_computed_sequence():
    # f(x) = x**2 / 2, x0 = 1, lr 0.1, momentum 0.9:
    # v1 = 1, x1 = 0.9; v2 = 0.9 + 0.9 = 1.8, x2 = 0.72; v3 = 0.72 + 1.62 = 2.34, x3 = 0.486.
    history = run(optim.sgd(0.1, momentum=0.9), np.array([1.0]), lambda x: x, steps=3)
    np.testing.assert_allclose(np.concatenate(history), [0.9, 0.72, 0.486], rtol=1e-14)


def test_sgd_nesterov_hand_computed_sequence():
    # Same problem with Nesterov: step g + 0.9 v.
    # v1 = 1, step 1.9, x1 = 0.81; v2 = 0.81 + 0.9 = 1.71, step 0.81 + 1.539 = 2.349, x2 = 0.5751.
    opt = optim.sgd(0.1, momentum=0.9, nesterov=True)
    history = run(opt, np.array([1.0]), lambda x: x, steps=2)
    np.testing.assert_allclose(np.concatenate(history), [0.81, 0.5751], rtol=1e-14)


@pytest.mark.parametrize("momentum, nesterov", [(None, False), (0.9, False), (0.5, True)])
def test_sgd_matches_numpy_on_a_random_quadratic(momentum, nesterov):
    params, grad_fn, _, _ = make_quadratic(1)
    got = run(optim.sgd(0.05, momentum=momentum, nesterov=nesterov), params, grad_fn, 10)
    expected = numpy_sgd(params, grad_fn, 10, 0.05, momentum or 0.0, nesterov)
    for g, e in zip(got, expected):
        assert_trees_close(g, e, rtol=1e-13, atol=1e-15)


# -- Adam, AdamW, RMSProp -------------------------------------------------------------------


@pytest.mark.parametrize("hyper", [{}, {"b1": 0.5, "b2": 0.9, "eps": 1e-3}])
def test_adam_matches_numpy_adam_with_bias_correction(hyper):
    params, grad_fn, _, _ = make_quadratic(2)
    got = run(optim.adam(0.1, **hyper), params, grad_fn, 10)
    expected = numpy_adam(params, grad_fn, 10, 0.1, **hyper)
    for g, e in zip(got, expected):
        assert_trees_close(g, e, rtol=1e-12, atol=1e-14)


def test_adam_first_step_is_minus_lr_times_the_sign_of_the_gradient():
    # Bias correction makes m_hat = g and v_hat = g**2 at step 1.
    opt = optim.adam(0.25, eps=0.0)
    g = np.array([3.0, -0.01, 7.0])
    updates, _ = opt.update(g, opt.init(np.zeros(3)))
    np.testing.assert_allclose(updates, -0.25 * np.sign(g), rtol=1e-15)


def test_adamw_matches_numpy_decoupled_weight_decay():
    params, grad_fn, _, _ = make_quadratic(3)
    got = run(optim.adamw(0.05, weight_decay=0.3), params, grad_fn, 10)
    expected = numpy_adam(params, grad_fn, 10, 0.05, weight_decay=0.3)
    for g, e in zip(got, expected):
        assert_trees_close(g, e, rtol=1e-12, atol=1e-14)


def test_adamw_decay_is_not_rescaled_by_the_moments():
    # With zero gradients Adam's direction is 0, so only -lr * wd * p remains.
    opt = optim.adamw(0.1, weight_decay=0.5)
    p = {"w": np.array([2.0, -4.0])}
    updates, _ = opt.update({"w": np.zeros(2)}, opt.init(p), p)
    np.testing.assert_array_equal(updates["w"], [-0.1, 0.2])


@pytest.mark.parametrize("hyper", [{}, {"decay": 0.5, "eps": 1e-4}, {"momentum": 0.8}])
def test_rmsprop_matches_numpy(hyper):
    params, grad_fn, _, _ = make_quadratic(4)
    got = run(optim.rmsprop(0.01, **hyper), params, grad_fn, 10)
    expected = numpy_rmsprop(params, grad_fn, 10, 0.01, **hyper)
    for g, e in zip(got, expected):
        assert_trees_close(g, e, rtol=1e-12, atol=1e-14)


# -- clipping, weight decay, scale, chain ---------------------------------------------------


def test_clip_by_global_norm_below_and_at_the_threshold_is_the_identity():
    g = {"a": np.array([0.3, -0.4]), "b": np.array([[1.2]])}  # norm 1.3
    for max_norm in (1.3, 2.0, 1e6):
        clip = optim.clip_by_global_norm(max_norm)
        out, _ = clip.update(g, clip.init(g))
        assert_trees_equal(out, g)


def test_clip_by_global_norm_above_the_threshold_rescales_to_max_norm():
    rng = np.random.default_rng(5)
    g = {"a": rng.normal(size=(3, 2)), "b": rng.normal(size=4) * 10}
    norm = np.sqrt(sum(np.sum(x ** 2) for x in tree.leaves(g)))
    assert norm > 1.0
    clip = optim.clip_by_global_norm(1.0)
    out, state = clip.update(g, clip.init(g))
    assert_trees_equal(out, tree.map(lambda x: x * (1.0 / norm), g))
    np.testing.assert_allclose(optim.global_norm(out), 1.0, rtol=1e-15)
    assert state == optim.EmptyState()


def test_clip_by_global_norm_keeps_float32_and_zero_updates():
    clip = optim.clip_by_global_norm(1.0)
    out, _ = clip.update(np.array([30.0, 40.0], np.float32), clip.init(None))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [0.6, 0.8], rtol=1e-6)
    zeros, _ = clip.update(np.zeros(3), clip.init(None))  # norm 0: no 0/0
    np.testing.assert_array_equal(zeros, np.zeros(3))


def test_global_norm_of_several_leaves():
    assert optim.global_norm({"a": np.array([3.0]), "b": [np.array([[4.0]]), np.array(12.0)]}) == 13.0


def test_add_decayed_weights_and_scale():
    p = {"w": np.array([1.0, -2.0])}
    g = {"w": np.array([0.5, 0.5])}
    decay = optim.add_decayed_weights(0.25)
    out, _ = decay.update(g, decay.init(p), p)
    np.testing.assert_array_equal(out["w"], [0.75, 0.0])
    s = optim.scale(-3.0)
    out, _ = s.update(g, s.init(p))
    np.testing.assert_array_equal(out["w"], [-1.5, -1.5])


def test_chain_composes_in_order():
    g = np.array([3.0, 4.0])  # norm 5
    scale_then_clip = optim.chain(optim.scale(2.0), optim.clip_by_global_norm(1.0))
    clip_then_scale = optim.chain(optim.clip_by_global_norm(1.0), optim.scale(2.0))
    out1, state1 = scale_then_clip.update(g, scale_then_clip.init(g))
    out2, _ = clip_then_scale.update(g, clip_then_scale.init(g))
    np.testing.assert_allclose(out1, [0.6, 0.8], rtol=1e-15)
    np.testing.assert_allclose(out2, [1.2, 1.6], rtol=1e-15)
    assert state1 == (optim.EmptyState(), optim.EmptyState())


def test_chain_threads_each_state():
    opt = optim.chain(optim.trace(0.5), optim.scale_by_schedule(lambda n: 1.0 / (n + 1)))
    state = opt.init(np.zeros(1))
    outs = []
    for _ in range(3):
        u, state = opt.update(np.ones(1), state)
        outs.append(float(u[0]))
    # traces 1, 1.5, 1.75 scaled by 1, 1/2, 1/3
    np.testing.assert_allclose(outs, [1.0, 0.75, 1.75 / 3], rtol=1e-15)
    np.testing.assert_array_equal(state[0].trace, [1.75])
    assert state[1].count == 3


def test_sgd_equals_chain_of_building_blocks():
    params, grad_fn, _, _ = make_quadratic(6)
    by_hand = optim.chain(optim.trace(0.9), optim.scale_by_learning_rate(0.05))
    for a, b in zip(run(optim.sgd(0.05, momentum=0.9), params, grad_fn, 5),
                    run(by_hand, params, grad_fn, 5)):
        assert_trees_equal(a, b)


def test_identity_passes_updates_through():
    opt = optim.identity()
    g = {"a": np.ones(2)}
    out, state = opt.update(g, opt.init(g))
    assert out is g and state == optim.EmptyState()


# -- schedules ------------------------------------------------------------------------------

COUNTS = range(40)

SCHEDULES = [
    ("constant", optim.constant_schedule(0.3), lambda n: 0.3),
    ("exponential", optim.exponential_decay(0.5, transition_steps=7, decay_rate=0.3),
     lambda n: 0.5 * 0.3 ** (n / 7)),
    ("exponential begin", optim.exponential_decay(0.5, 7, 0.3, transition_begin=5),
     lambda n: 0.5 if n < 5 else 0.5 * 0.3 ** ((n - 5) / 7)),
    ("exponential staircase end", optim.exponential_decay(1.0, 4, 0.5, staircase=True, end_value=0.1),
     lambda n: max(0.5 ** (n // 4), 0.1)),
    ("exponential growth end", optim.exponential_decay(1.0, 10, 2.0, end_value=5.0),
     lambda n: min(2.0 ** (n / 10), 5.0)),
    ("linear", optim.linear_schedule(1.0, 0.2, transition_steps=20, transition_begin=3),
     lambda n: 1.0 + (0.2 - 1.0) * min(max(n - 3, 0), 20) / 20),
    ("cosine", optim.cosine_decay_schedule(0.8, decay_steps=25, alpha=0.1),
     lambda n: 0.8 * (0.9 * 0.5 * (1 + math.cos(math.pi * min(n, 25) / 25)) + 0.1)),
    ("warmup cosine", optim.warmup_cosine_decay_schedule(0.01, 1.0, warmup_steps=5, decay_steps=30,
                                                         end_value=0.05),
     lambda n: (0.01 + (1.0 - 0.01) * n / 5 if n < 5 else
                0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(n - 5, 25) / 25)))),
    ("warmup cosine, no warm-up", optim.warmup_cosine_decay_schedule(0.0, 2.0, 0, 10),
     lambda n: 2.0 * 0.5 * (1 + math.cos(math.pi * min(n, 10) / 10))),
    ("join", optim.join_schedules([optim.constant_schedule(1.0), optim.linear_schedule(1.0, 0.0, 10),
                                   optim.constant_schedule(0.5)], [4, 20]),
     lambda n: 1.0 if n < 4 else (1.0 - min(n - 4, 10) / 10 if n < 20 else 0.5)),
]


@pytest.mark.parametrize("name, schedule, closed_form", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_schedule_matches_its_closed_form(name, schedule, closed_form):
    for n in COUNTS:
        for count in (n, np.asarray(n, np.int64)):
            np.testing.assert_allclose(schedule(count), closed_form(n), rtol=1e-14, atol=1e-16,
                                       err_msg=f"{name} at count {n}")


@pytest.mark.parametrize("name, schedule, closed_form", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_schedule_under_jit_equals_eager(name, schedule, closed_form):
    jitted = fg.jit(lambda count: fnp.asarray(schedule(count), np.float64))
    for n in (0, 3, 4, 5, 6, 19, 20, 39):
        count = np.asarray(n, np.int64)
        np.testing.assert_array_equal(jitted(count), schedule(count))
    assert jitted.cache_info().misses == 1


def test_linear_schedule_reaches_end_value_exactly():
    schedule = optim.linear_schedule(0.7, 0.1, transition_steps=3)
    assert schedule(3) == 0.1 and schedule(100) == 0.1


def test_sgd_with_a_schedule_uses_the_value_at_each_step():
    schedule = optim.exponential_decay(0.2, transition_steps=2, decay_rate=0.5)
    params, grad_fn, _, _ = make_quadratic(7)
    got = run(optim.sgd(schedule, momentum=0.5), params, grad_fn, 8)
    expected = numpy_sgd(params, grad_fn, 8, lambda t: 0.2 * 0.5 ** (t / 2), momentum=0.5)
    for g, e in zip(got, expected):
        assert_trees_close(g, e, rtol=1e-13, atol=1e-15)


def test_adam_with_a_schedule_matches_numpy():
    schedule = optim.warmup_cosine_decay_schedule(0.0, 0.1, warmup_steps=3, decay_steps=10)
    params, grad_fn, _, _ = make_quadratic(8)
    got = run(optim.adam(schedule), params, grad_fn, 10)
    expected = numpy_adam(params, grad_fn, 10, schedule)
    for g, e in zip(got, expected):
        assert_trees_close(g, e, rtol=1e-12, atol=1e-14)


# -- states are pytrees; updates are jit-compatible ------------------------------------------

OPTIMIZERS = [
    ("sgd", lambda: optim.sgd(0.05)),
    ("momentum", lambda: optim.sgd(0.05, momentum=0.9)),
    ("nesterov", lambda: optim.sgd(0.05, momentum=0.9, nesterov=True)),
    ("sgd schedule", lambda: optim.sgd(optim.cosine_decay_schedule(0.1, 20))),
    ("adam", lambda: optim.adam(0.05)),
    ("adam schedule", lambda: optim.adam(optim.warmup_cosine_decay_schedule(0.0, 0.1, 2, 10))),
    ("adamw", lambda: optim.adamw(0.05, weight_decay=0.1)),
    ("rmsprop", lambda: optim.rmsprop(0.01)),
    ("rmsprop momentum", lambda: optim.rmsprop(optim.exponential_decay(0.01, 3, 0.5), momentum=0.5)),
    ("clipped adam", lambda: optim.chain(optim.clip_by_global_norm(0.5), optim.adam(0.05))),
]
OPT_IDS = [name for name, _ in OPTIMIZERS]


def leaf_signature(state):
    return [(np.shape(x), np.asarray(x).dtype) for x in tree.leaves(state)]


@pytest.mark.parametrize("name, make", OPTIMIZERS, ids=OPT_IDS)
def test_state_is_a_pytree_with_a_stable_structure(name, make):
    opt = make()
    params, grad_fn, _, _ = make_quadratic(9)
    state = opt.init(params)
    leaves, treedef = tree.flatten(state)
    assert all(isinstance(x, (np.ndarray, np.generic)) for x in leaves)
    signature = leaf_signature(state)
    for _ in range(3):
        updates, state = opt.update(grad_fn(params), state, params)
        params = optim.apply_updates(params, updates)
        assert tree.structure(state) == treedef
        assert leaf_signature(state) == signature
    rebuilt = tree.unflatten(treedef, tree.leaves(state))
    assert type(rebuilt) is type(state)
    assert all(a is b for a, b in zip(tree.leaves(rebuilt), tree.leaves(state)))
    counts = [x for x in tree.leaves(state) if np.asarray(x).dtype.kind == "i"]
    for count in counts:  # step counts: int64 0-d arrays
        assert isinstance(count, np.ndarray) and count.shape == () and count.dtype == np.int64
        assert count == 3


@pytest.mark.parametrize("name, make", OPTIMIZERS, ids=OPT_IDS)
def test_jit_update_equals_eager_and_traces_once(name, make):
    opt = make()
    params, grad_fn, _, _ = make_quadratic(10)
    jitted = fg.jit(lambda g, s, p: opt.update(g, s, p))
    eager_state = jit_state = opt.init(params)
    for _ in range(5):
        grads = grad_fn(params)
        eager_updates, eager_state = opt.update(grads, eager_state, params)
        jit_updates, jit_state = jitted(grads, jit_state, params)
        assert_trees_equal(jit_updates, eager_updates)
        for a, b in zip(tree.leaves(jit_state), tree.leaves(eager_state)):
            np.testing.assert_array_equal(a, b)
        assert tree.structure(jit_state) == tree.structure(eager_state)
        params = optim.apply_updates(params, eager_updates)
    info = jitted.cache_info()
    assert info.misses == 1 and info.hits == 4


@pytest.mark.parametrize("name, make", OPTIMIZERS, ids=OPT_IDS)
def test_float32_params_stay_float32(name, make):
    opt = make()
    params, grad_fn, _, _ = make_quadratic(11, dtype=np.float32)
    state = opt.init(params)
    for _ in range(2):
        grads = tree.map(lambda g: g.astype(np.float32), grad_fn(params))
        updates, state = opt.update(grads, state, params)
        params = optim.apply_updates(params, updates)
    assert {np.asarray(x).dtype for x in tree.leaves(updates)} == {np.dtype(np.float32)}
    assert {np.asarray(x).dtype for x in tree.leaves(params)} == {np.dtype(np.float32)}
    assert {np.asarray(x).dtype for x in tree.leaves(state)} <= {np.dtype(np.float32),
                                                                 np.dtype(np.int64)}


@pytest.mark.parametrize("name, make", OPTIMIZERS, ids=OPT_IDS)
def test_update_does_not_modify_its_arguments(name, make):
    opt = make()
    params, grad_fn, _, _ = make_quadratic(12)
    state = opt.update(grad_fn(params), opt.init(params), params)[1]
    grads = grad_fn(params)
    before = copy_tree((grads, state, params))
    opt.update(grads, state, params)
    assert_trees_equal((grads, state, params), before)


# -- training loops --------------------------------------------------------------------------

TRAINING = [
    ("sgd", lambda: optim.sgd(0.1), 300),
    ("momentum", lambda: optim.sgd(0.1, momentum=0.9), 300),
    ("nesterov", lambda: optim.sgd(0.1, momentum=0.9, nesterov=True), 200),
    ("adam", lambda: optim.adam(optim.cosine_decay_schedule(0.1, 800)), 800),
    ("rmsprop", lambda: optim.rmsprop(optim.exponential_decay(0.02, 100, 0.5)), 1500),
]


@pytest.mark.parametrize("name, make, steps", TRAINING, ids=[t[0] for t in TRAINING])
def test_training_loop_converges_to_the_minimum(name, make, steps):
    opt = make()
    params, _, loss, optimum = make_quadratic(13)
    state = opt.init(params)
    value_and_grad = fg.value_and_grad(loss)
    first, _ = value_and_grad(params)
    for _ in range(steps):
        _, grads = value_and_grad(params)
        updates, state = opt.update(grads, state, params)
        params = optim.apply_updates(params, updates)
    assert float(loss(params)) < float(first)
    assert_trees_close(params, optimum, rtol=0, atol=1e-5)


def test_jitted_training_step_converges_and_traces_once():
    opt = optim.chain(optim.clip_by_global_norm(10.0), optim.adamw(0.05, weight_decay=1e-4))
    params, _, loss, optimum = make_quadratic(14)

    @fg.jit
    def step(params, state):
        value, grads = fg.value_and_grad(loss)(params)
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state, value

    state = opt.init(params)
    eager_params, eager_state = params, state
    values = []
    for i in range(600):
        params, state, value = step(params, state)
        values.append(float(value))
        if i < 5:  # the compiled step follows the eager one
            grads = fg.grad(loss)(eager_params)
            updates, eager_state = opt.update(grads, eager_state, eager_params)
            eager_params = optim.apply_updates(eager_params, updates)
            assert_trees_close(params, eager_params, rtol=1e-12, atol=1e-14)
    assert step.cache_info().misses == 1
    assert values[-1] < values[0]
    # weight decay moves the minimum by ~1e-4 relative
    assert_trees_close(params, optimum, rtol=0, atol=2e-3)


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("name, make", OPTIMIZERS, ids=OPT_IDS)
def test_grads_params_structure_mismatch_names_both(name, make):
    opt = make()
    params = {"w": np.ones(3), "b": np.ones(2)}
    grads = {"w": np.ones(3)}
    state = opt.init(params)
    with pytest.raises(TreeStructureError) as info:
        opt.update(grads, state, params)
    message = str(info.value)
    assert repr(tree.structure(grads)) in message and repr(tree.structure(params)) in message
    assert "grads" in message and "params" in message


def test_grads_state_structure_mismatch_names_both():
    opt = optim.adam(0.1)
    state = opt.init({"w": np.ones(3), "b": np.ones(2)})
    with pytest.raises(TreeStructureError, match=r"grads .*PyTreeDef\(\[\*\]\).*PyTreeDef\(\{'b'"):
        opt.update([np.ones(3)], state)  # no params: checked against the state


def test_apply_updates_structure_mismatch():
    with pytest.raises(TreeStructureError, match=r"params and updates.*\{'a': \*\}.*\(\*, \*\)"):
        optim.apply_updates({"a": np.ones(1)}, (np.ones(1), np.ones(1)))


def test_state_from_another_optimiser_is_refused():
    params = {"w": np.ones(2)}
    with pytest.raises(ArgumentError, match="adam.update: expected the state made by this"):
        optim.adam(0.1).update(params, optim.sgd(0.1).init(params), params)


def test_adamw_update_needs_params():
    opt = optim.adamw(0.1)
    with pytest.raises(ArgumentError, match="needs the parameters"):
        opt.update(np.ones(2), opt.init(np.ones(2)))


BAD_HYPERPARAMETERS = [
    (lambda: optim.sgd("0.1"), "learning_rate must be a real number or a schedule"),
    (lambda: optim.sgd(float("nan")), "learning_rate must be finite"),
    (lambda: optim.sgd(True), "learning_rate"),
    (lambda: optim.sgd(0.1, momentum=-0.5), "momentum must be >= 0.0"),
    (lambda: optim.sgd(0.1, nesterov=True), "nesterov=True needs a momentum"),
    (lambda: optim.sgd(0.1, momentum=0.9, nesterov=1), "nesterov must be a bool"),
    (lambda: optim.adam(0.1, b1=1.0), "b1 must be < 1.0, got 1.0"),
    (lambda: optim.adam(0.1, b2=-0.1), "b2 must be >= 0.0"),
    (lambda: optim.adam(0.1, eps=-1e-8), "eps must be >= 0.0"),
    (lambda: optim.adamw(0.1, weight_decay="x"), "weight_decay must be a real number"),
    (lambda: optim.rmsprop(0.1, decay=1.0), "decay must be < 1.0"),
    (lambda: optim.clip_by_global_norm(0.0), "max_norm must be > 0.0"),
    (lambda: optim.scale(None), "step_size must be a real number"),
    (lambda: optim.scale_by_schedule(0.1), "step_size_fn must be a callable"),
    (lambda: optim.chain(optim.sgd(0.1), object()), "argument 1 must be a GradientTransformation"),
    (lambda: optim.exponential_decay(1.0, 0, 0.5), "transition_steps must be >= 1"),
    (lambda: optim.exponential_decay(1.0, 10, -0.5), "decay_rate must be >= 0.0"),
    (lambda: optim.exponential_decay(1.0, 2.5, 0.5), "transition_steps must be an int"),
    (lambda: optim.linear_schedule(1.0, 0.0, 0), "transition_steps must be >= 1"),
    (lambda: optim.cosine_decay_schedule(1.0, 0), "decay_steps must be >= 1"),
    (lambda: optim.warmup_cosine_decay_schedule(0.0, 1.0, 10, 10), "must be larger than"),
    (lambda: optim.join_schedules([optim.constant_schedule(1.0)], [3]), "1 schedules need 0"),
    (lambda: optim.join_schedules([optim.constant_schedule(1.0)] * 3, [5, 5]), "must increase"),
]


@pytest.mark.parametrize("make, message", BAD_HYPERPARAMETERS,
                         ids=[m for _, m in BAD_HYPERPARAMETERS])
def test_bad_hyperparameters_raise_argument_error(make, message):
    with pytest.raises(ArgumentError, match=message.replace("(", r"\(").replace(".", r"\.")):
        make()


def test_hyperparameters_accept_numpy_scalars():
    opt = optim.adam(np.float32(0.5), b1=np.float64(0.5), b2=np.array(0.5))
    updates, _ = opt.update(np.array([2.0]), opt.init(np.zeros(1)))
    np.testing.assert_allclose(updates, [-0.5], rtol=1e-6)


# -- documentation --------------------------------------------------------------------------

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")


def test_doc_page_examples_run():
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testfile(os.path.join(DOCS, "optim.md"), module_relative=False,
                              optionflags=flags, raise_on_error=False, report=True, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} example(s) in docs/optim.md failed (see stdout)"


@pytest.mark.parametrize("module", ["funcgrad.optim", "funcgrad.optim.base",
                                    "funcgrad.optim.transform", "funcgrad.optim.optimizers",
                                    "funcgrad.optim.schedules"])
def test_docstring_examples_run(module):
    import importlib

    result = doctest.testmod(importlib.import_module(module),
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
