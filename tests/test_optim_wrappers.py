"""funcgrad.optim's wrappers, accumulation and schedules against written-out NumPy.

masked and multi_transform, MultiSteps, apply_every and ema, apply_if_finite
and zero_nans, inject_hyperparams (eager and under jit), and the schedules
against their closed forms.  The references are in tests/optim_reference.py.
"""

import math

import numpy as np
import pytest
from optim_reference import (
    RTOL,
    STEPS,
    Adam,
    Lion,
    Scheduled,
    Sgd,
    assert_histories_close,
    make_problem,
    run,
    run_reference,
)

import funcgrad as fg
from funcgrad import optim, tree
from funcgrad.errors import ArgumentError

# -- masked and multi_transform --------------------------------------------------------------


def test_masked_applies_inner_to_marked_leaves_and_passes_the_rest_through():
    params, grad_fn, coefficients = make_problem(3)
    mask = {"dense": {"w": True, "b": False}, "scale": False, "seq": (False, True)}
    opt = optim.chain(optim.masked(optim.trace(0.9), mask), optim.scale(-0.05))
    got, state = run(opt, params, grad_fn)
    momentum = [False, True, False, False, True]
    expected = run_reference(lambda p, m: Sgd(p, momentum=0.9 if m else 0.0), params,
                             coefficients, labels=momentum)
    assert_histories_close(got, expected)
    # The inner state holds traces for the marked leaves only.
    inner = state[0].inner_state.trace
    assert len(tree.leaves(inner)) == 2
    assert isinstance(inner["scale"], optim.MaskedNode)


def test_masked_with_a_single_bool_and_a_nested_prefix():
    params, grad_fn, _ = make_problem(4)
    g = grad_fn(params)
    for mask, expect_changed in ((True, 5), (False, 0), ({"dense": True, "scale": False,
                                                         "seq": False}, 2)):
        opt = optim.masked(optim.scale(-1.0), mask)
        updates, _ = opt.update(g, opt.init(params), params)
        changed = sum(not np.array_equal(u, gi) for u, gi in zip(tree.leaves(updates),
                                                                    tree.leaves(g)))
        assert changed == expect_changed
        for u, gi in zip(tree.leaves(updates), tree.leaves(g)):
            assert np.array_equal(u, gi) or np.array_equal(u, -gi)


def test_masked_rejects_a_mask_that_does_not_fit():
    params, _, _ = make_problem()
    with pytest.raises(ArgumentError, match="nothing in it covers the leaf at"):
        optim.masked(optim.scale(2.0), {"dense": True, "scale": True}).init(params)
    with pytest.raises(ArgumentError, match="entries that are not in the params"):
        optim.masked(optim.scale(2.0), {"dense": True, "scale": True, "seq": True,
                                        "extra": False}).init(params)
    with pytest.raises(ArgumentError, match="mask leaves must be Python bools"):
        optim.masked(optim.scale(2.0), {"dense": 1, "scale": True, "seq": True}).init(params)


def test_multi_transform_gives_each_label_its_optimiser():
    params, grad_fn, coefficients = make_problem(5)
    labels = {"dense": {"w": "adam", "b": "sgd"}, "scale": "lion", "seq": "adam"}
    opt = optim.multi_transform({"adam": optim.adam(0.05), "sgd": optim.sgd(0.05, momentum=0.9),
                                 "lion": optim.lion(0.01)}, labels)
    got, _ = run(opt, params, grad_fn)
    refs = {"adam": lambda p: Adam(p), "sgd": lambda p: Sgd(p, momentum=0.9),
            "lion": lambda p: Lion(p)}
    leaf_labels = ["sgd", "adam", "lion", "adam", "adam"]
    expected = run_reference(lambda p, lab: refs[lab](p), params, coefficients,
                             labels=leaf_labels)
    assert_histories_close(got, expected)
    # Labels as a function of the params; a label without an optimiser is an error.
    got_fn, _ = run(optim.multi_transform({"adam": optim.adam(0.05), "sgd": optim.sgd(
        0.05, momentum=0.9), "lion": optim.lion(0.01)}, lambda p: labels), params, grad_fn)
    assert_histories_close(got_fn, expected)
    with pytest.raises(ArgumentError, match="labels 'lion' have no transformation"):
        optim.multi_transform({"adam": optim.adam(0.1), "sgd": optim.sgd(0.1)},
                              labels).init(params)


# -- gradient accumulation -------------------------------------------------------------------


def reference_multisteps(params, coefficients, k, mean=True, steps=STEPS):
    """Adam(0.05) stepped with the mean (or sum) of every k gradients; zero updates in between."""
    leaves, treedef = tree.flatten(params)
    a, c = coefficients
    opts = [Adam(p) for p in leaves]
    ps = [np.array(p) for p in leaves]
    acc = [np.zeros_like(p) for p in leaves]
    history, emitted = [], 0
    for n in range(1, steps + 1):
        acc = [s + (ai * p - ci) for s, p, ai, ci in zip(acc, ps, a, c)]
        if n % k == 0:
            emitted += 1
            ps = [p + o.step(s / k if mean else s, p, emitted) for p, o, s in zip(ps, opts, acc)]
            acc = [np.zeros_like(p) for p in ps]
        history.append(treedef.unflatten(ps))
    return history


@pytest.mark.parametrize("mean", [True, False])
def test_multisteps_accumulates_k_gradients_then_steps(mean):
    params, grad_fn, coefficients = make_problem(6)
    multi = optim.MultiSteps(optim.adam(0.05), every_k_schedule=3, use_grad_mean=mean)
    opt = multi.gradient_transformation()
    state = opt.init(params)
    history = []
    p = params
    for n in range(1, STEPS + 1):
        updates, state = opt.update(grad_fn(p), state, p)
        if n % 3:  # zero updates until the k-th micro-step
            assert all(np.all(u == 0) for u in tree.leaves(updates))
            assert not multi.has_updated(state)
        else:
            assert multi.has_updated(state)
        assert int(state.gradient_step) == n // 3 and int(state.mini_step) == n % 3
        p = optim.apply_updates(p, updates)
        history.append(p)
    assert_histories_close(history, reference_multisteps(params, coefficients, 3, mean))


def test_multisteps_with_a_schedule_and_skipping_non_finite_micro_batches():
    params, grad_fn, coefficients = make_problem(7)
    multi = optim.MultiSteps(optim.adam(0.05), every_k_schedule=lambda step: 2,
                             should_skip_update_fn=optim.skip_not_finite)
    bad = {3, 8}

    def hook(t, grads):  # micro-steps 3 and 8 (0-based) get a NaN in every leaf
        if t in bad:
            return tree.map(lambda g: np.where(np.arange(g.size).reshape(g.shape) == 0,
                                               np.nan, g), grads)
        return grads

    got, state = run(multi.gradient_transformation(), params, grad_fn, grads_hook=hook)
    assert int(state.skip_state["num_not_finite"]) == 0
    # Skipped micro-batches do not count: 25 - 2 good ones, an update every 2.
    assert int(state.gradient_step) == (STEPS - len(bad)) // 2
    good_history = reference_multisteps(params, coefficients, 2, steps=STEPS - len(bad))
    # After each real step: the reference after as many good micro-steps.
    good_so_far = np.cumsum([t not in bad for t in range(STEPS)])
    assert_histories_close(got, [good_history[g - 1] for g in good_so_far])


def test_apply_every_sums_k_updates():
    params, grad_fn, coefficients = make_problem(8)
    got, _ = run(optim.chain(optim.sgd(0.05), optim.apply_every(4)), params, grad_fn)
    leaves, treedef = tree.flatten(params)
    a, c = coefficients
    ps, acc, expected = [np.array(p) for p in leaves], [0.0] * len(leaves), []
    for n in range(1, STEPS + 1):
        acc = [s - 0.05 * (ai * p - ci) for s, p, ai, ci in zip(acc, ps, a, c)]
        if n % 4 == 0:
            ps = [p + s for p, s in zip(ps, acc)]
            acc = [0.0] * len(leaves)
        expected.append(treedef.unflatten(ps))
    assert_histories_close(got, expected)


@pytest.mark.parametrize("debias", [True, False])
def test_ema_of_a_sequence(debias):
    rng = np.random.default_rng(9)
    xs = [{"w": rng.normal(size=(2, 3)), "b": (rng.normal(size=4),)} for _ in range(STEPS)]
    opt = optim.ema(0.9, debias=debias)
    state = opt.init(xs[0])
    e = tree.map(np.zeros_like, xs[0])
    for t, x in enumerate(xs, start=1):
        out, state = opt.update(x, state)
        e = tree.map(lambda ei, xi: 0.9 * ei + 0.1 * xi, e, x)
        correction = 1 - 0.9 ** t if debias else 1.0
        expected = tree.map(lambda ei, c=correction: ei / c, e)
        for o, ex in zip(tree.leaves(out), tree.leaves(expected)):
            np.testing.assert_allclose(o, ex, rtol=RTOL)
    assert int(state.count) == STEPS


# -- NaN guards ------------------------------------------------------------------------------


def test_apply_if_finite_skips_nan_steps_and_counts_them():
    params, grad_fn, coefficients = make_problem(10)
    bad = {2, 6, 7, 15}
    opt = optim.apply_if_finite(optim.adam(0.05), max_consecutive_errors=3)
    seen = []

    def hook(t, grads):
        if t in bad:
            grads = dict(grads, scale=np.array([np.inf if t == 15 else np.nan, 1.0]))
        return grads

    state = opt.init(params)
    p = params
    history = []
    for t in range(STEPS):
        updates, state = opt.update(hook(t, grad_fn(p)), state, p)
        if t in bad:
            assert all(np.all(u == 0) for u in tree.leaves(updates))
        assert bool(state.last_finite) == (t not in bad)
        seen.append(int(state.notfinite_count))
        p = optim.apply_updates(p, updates)
        history.append(p)
    assert int(state.total_notfinite) == len(bad)
    assert seen[6:9] == [1, 2, 0] and seen[15] == 1
    # The reference: Adam that never saw the bad steps (its step count does not advance).
    assert_histories_close(history, run_reference(Adam, params, coefficients, skip=bad))


def test_apply_if_finite_lets_nans_through_after_too_many_in_a_row():
    opt = optim.apply_if_finite(optim.sgd(1.0), max_consecutive_errors=2)
    p = np.zeros(2)
    state = opt.init(p)
    outs = []
    for _ in range(4):
        u, state = opt.update(np.array([np.nan, 1.0]), state, p)
        outs.append(u)
    assert np.all(outs[0] == 0) and np.all(outs[1] == 0)
    assert np.isnan(outs[2][0]) and outs[2][1] == -1.0  # the third in a row goes through
    assert int(state.total_notfinite) == 4


def test_zero_nans_replaces_nans_and_flags_leaves():
    opt = optim.zero_nans()
    g = {"a": np.array([1.0, np.nan, -np.inf]), "b": (np.array([2.0]),)}
    state = opt.init(g)
    assert not any(bool(x) for x in tree.leaves(state.found_nan))
    u, state = opt.update(g, state)
    np.testing.assert_array_equal(u["a"], [1.0, 0.0, -np.inf])  # only NaN, as in optax
    np.testing.assert_array_equal(u["b"][0], [2.0])
    assert bool(state.found_nan["a"]) and not bool(state.found_nan["b"][0])


# -- inject_hyperparams ----------------------------------------------------------------------


def test_inject_hyperparams_changes_the_learning_rate_mid_run():
    params, grad_fn, coefficients = make_problem(11)
    opt = optim.inject_hyperparams(optim.adam)(learning_rate=0.05, b1=0.8)
    state = opt.init(params)
    assert float(state.hyperparams["learning_rate"]) == 0.05
    assert float(state.hyperparams["b1"]) == 0.8
    assert set(state.hyperparams) == {"learning_rate", "b1", "b2", "eps", "eps_root"}
    p, history = params, []
    for t in range(STEPS):
        if t == 10:
            state.hyperparams["learning_rate"] = np.array(0.01)
        updates, state = opt.update(grad_fn(p), state, p)
        p = optim.apply_updates(p, updates)
        history.append(p)
    lrs = [0.05] * 10 + [0.01] * (STEPS - 10)
    expected = run_reference(lambda x: Scheduled(Adam(x, b1=0.8), lrs), params, coefficients)
    assert_histories_close(history, expected)


def test_inject_hyperparams_under_jit_takes_new_values_without_retracing():
    params, grad_fn, coefficients = make_problem(12)
    opt = optim.inject_hyperparams(optim.sgd)(learning_rate=0.1, momentum=0.9)

    @fg.jit
    def step(p, state):
        updates, state = opt.update(grad_fn(p), state, p)
        return optim.apply_updates(p, updates), state

    state = opt.init(params)
    p, history = params, []
    for t in range(8):
        if t == 4:
            state = state._replace(hyperparams=dict(state.hyperparams,
                                                    learning_rate=np.array(0.02)))
        p, state = step(p, state)
        history.append(p)
    assert step.cache_info().misses == 1
    expected = run_reference(lambda x: Scheduled(Sgd(x, momentum=0.9), [0.1] * 4 + [0.02] * 4),
                             params, coefficients, steps=8)
    assert_histories_close(history, expected, rtol=1e-13)


def test_inject_hyperparams_with_a_schedule_stores_its_value():
    schedule = optim.exponential_decay(0.1, transition_steps=1, decay_rate=0.5)
    opt = optim.inject_hyperparams(optim.sgd)(learning_rate=schedule)
    p = np.zeros(1)
    state = opt.init(p)
    for n in range(4):
        u, state = opt.update(np.array([1.0]), state, p)
        assert float(state.hyperparams["learning_rate"]) == 0.1 * 0.5 ** n
        np.testing.assert_allclose(u, [-0.1 * 0.5 ** n], rtol=1e-15)


def test_inject_hyperparams_float32_params_and_errors():
    opt = optim.inject_hyperparams(optim.adam)(0.1)
    p = {"w": np.ones(3, np.float32)}
    state = opt.init(p)
    assert state.hyperparams["learning_rate"].dtype == np.float32
    u, state = opt.update({"w": np.ones(3, np.float32)}, state, p)
    assert u["w"].dtype == np.float32
    with pytest.raises(ArgumentError, match="static_args"):
        optim.inject_hyperparams(optim.adam, static_args="nope")
    with pytest.raises(ArgumentError, match="b1 must be < 1.0"):
        optim.inject_hyperparams(optim.adam)(0.1, b1=1.5)


# -- schedules against closed forms ----------------------------------------------------------

SCHEDULES = [
    ("polynomial", optim.polynomial_schedule(1.0, 0.1, power=3, transition_steps=20,
                                             transition_begin=5),
     lambda n: (1.0 - 0.1) * (1 - min(max(n - 5, 0), 20) / 20) ** 3 + 0.1),
    ("piecewise constant", optim.piecewise_constant_schedule(0.5, {10: 0.1, 3: 2.0, 20: 0.0}),
     lambda n: 0.5 * (2.0 if n >= 3 else 1.0) * (0.1 if n >= 10 else 1.0)
     * (0.0 if n >= 20 else 1.0)),
    ("onecycle", optim.cosine_onecycle_schedule(20, 2.0, pct_start=0.25, div_factor=10.0,
                                                final_div_factor=100.0),
     lambda n: (0.2 + (2.0 - 0.2) * (1 - math.cos(math.pi * n / 5)) / 2 if n < 5 else
                2e-3 + (2.0 - 2e-3) * (1 + math.cos(math.pi * (n - 5) / 15)) / 2 if n < 20
                else 2e-3)),
    ("linear interpolate", optim.piecewise_interpolate_schedule("linear", 1.0, {4: 0.5, 8: 0.0}),
     lambda n: 1.0 - 0.125 * n if n < 4 else 0.5 - 0.125 * (n - 4) if n < 8 else 0.0),
    ("sgdr", optim.sgdr_schedule([
        {"init_value": 0.0, "peak_value": 1.0, "warmup_steps": 2, "decay_steps": 6},
        {"init_value": 0.1, "peak_value": 0.5, "warmup_steps": 0, "decay_steps": 10,
         "end_value": 0.05, "exponent": 2.0}]),
     lambda n: (n / 2 if n < 2 else (1 + math.cos(math.pi * (n - 2) / 4)) / 2) if n < 6 else
     0.05 + 0.45 * ((1 + math.cos(math.pi * min(n - 6, 10) / 10)) / 2) ** 2),
]


@pytest.mark.parametrize("name, schedule, closed_form", SCHEDULES,
                         ids=[s[0] for s in SCHEDULES])
def test_schedule_matches_its_closed_form(name, schedule, closed_form):
    for n in [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 12, 15, 19, 20, 21, 25, 30, 100]:
        np.testing.assert_allclose(float(schedule(n)), closed_form(n), rtol=1e-13, atol=1e-15,
                                   err_msg=f"count {n}")
        np.testing.assert_allclose(float(schedule(np.array(n, np.int64))), closed_form(n),
                                   rtol=1e-13, atol=1e-15)


def test_schedules_work_under_jit_as_learning_rates():
    schedule = optim.cosine_onecycle_schedule(10, 1.0)
    opt = optim.sgd(schedule)
    step = fg.jit(lambda g, s: opt.update(g, s))
    state = opt.init(np.zeros(1))
    for n in range(12):
        u, state = step(np.ones(1), state)
        np.testing.assert_allclose(u, [-float(schedule(n))], rtol=1e-14)
    assert step.cache_info().misses == 1


