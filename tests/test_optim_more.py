"""funcgrad.optim's optax-derived optimisers against their update rules written out in NumPy.

Every optimiser runs 25 steps on a separable quadratic over a nested pytree,
and its whole trajectory must match the reference's (tests/optim_reference.py)
in float64.  Then: jit against eager, float32, and bad hyperparameters.  The
wrappers, accumulation and schedules are in tests/test_optim_wrappers.py.
"""

import numpy as np
import pytest
from optim_reference import (
    Adadelta,
    Adafactor,
    Adagrad,
    Adam,
    Adamax,
    Lamb,
    Lars,
    Lion,
    Rmsprop,
    Sgd,
    assert_histories_close,
    make_problem,
    per_leaf,
    run,
    run_reference,
)

import funcgrad as fg
from funcgrad import optim, tree
from funcgrad.errors import ArgumentError

# -- every optimiser against its reference for 25 steps --------------------------------------

CASES = [
    ("adagrad", lambda: optim.adagrad(0.1), per_leaf(Adagrad)),
    ("adagrad hyper", lambda: optim.adagrad(0.3, initial_accumulator_value=0.5, eps=1e-3),
     per_leaf(Adagrad, lr=0.3, init=0.5, eps=1e-3)),
    ("adadelta", lambda: optim.adadelta(0.5), per_leaf(Adadelta)),
    ("adadelta decay", lambda: optim.adadelta(1.0, rho=0.8, eps=1e-4, weight_decay=0.05),
     per_leaf(Adadelta, lr=1.0, rho=0.8, eps=1e-4, wd=0.05)),
    ("adamax", lambda: optim.adamax(0.05), per_leaf(Adamax)),
    ("adamax hyper", lambda: optim.adamax(0.1, b1=0.5, b2=0.9, eps=1e-3),
     per_leaf(Adamax, lr=0.1, b1=0.5, b2=0.9, eps=1e-3)),
    ("nadam", lambda: optim.nadam(0.05), per_leaf(Adam, nesterov=True)),
    ("nadam eps_root", lambda: optim.nadam(0.05, b1=0.8, eps_root=1e-4),
     per_leaf(Adam, b1=0.8, eps_root=1e-4, nesterov=True)),
    ("radam", lambda: optim.radam(0.05), per_leaf(Adam, threshold=5.0)),
    # b2 = 0.9: rho passes the threshold at step 6, so both branches are exercised.
    ("radam b2", lambda: optim.radam(0.05, b2=0.9, threshold=4.5),
     per_leaf(Adam, b2=0.9, threshold=4.5)),
    ("radam nesterov", lambda: optim.radam(0.05, b2=0.9, nesterov=True),
     per_leaf(Adam, b2=0.9, threshold=5.0, nesterov=True)),
    ("lamb", lambda: optim.lamb(0.05), per_leaf(Lamb, eps=1e-6)),
    ("lamb decay", lambda: optim.lamb(0.05, weight_decay=0.1, eps=1e-8),
     per_leaf(Lamb, eps=1e-8, wd=0.1)),
    ("lars", lambda: optim.lars(0.5, weight_decay=0.01), per_leaf(Lars)),
    ("lars nesterov", lambda: optim.lars(2.0, trust_coefficient=0.01, eps=1e-3, momentum=0.5,
                                         nesterov=True),
     per_leaf(Lars, lr=2.0, wd=0.0, coef=0.01, eps=1e-3, momentum=0.5, nesterov=True)),
    ("lion", lambda: optim.lion(0.01), per_leaf(Lion)),
    ("lion hyper", lambda: optim.lion(0.02, b1=0.5, b2=0.9, weight_decay=0.1),
     per_leaf(Lion, lr=0.02, b1=0.5, b2=0.9, wd=0.1)),
    ("adafactor", lambda: optim.adafactor(0.05), per_leaf(Adafactor)),
    ("adafactor factored", lambda: optim.adafactor(0.05, min_dim_size_to_factor=2),
     per_leaf(Adafactor, min_dim=2)),
    ("adafactor all options", lambda: optim.adafactor(
        0.1, min_dim_size_to_factor=2, decay_rate=0.5, multiply_by_parameter_scale=False,
        clipping_threshold=0.5, momentum=0.9, weight_decay_rate=0.01, eps=1e-10),
     per_leaf(Adafactor, lr=0.1, min_dim=2, decay_rate=0.5, param_scale=False, clip=0.5,
              momentum=0.9, wd=0.01, eps=1e-10)),
    ("adafactor unfactored", lambda: optim.adafactor(0.05, min_dim_size_to_factor=2,
                                                     factored=False, clipping_threshold=None),
     per_leaf(Adafactor, min_dim=10 ** 9, clip=None)),
    ("rmsprop eps_in_sqrt", lambda: optim.rmsprop(0.01, eps=1e-3, eps_in_sqrt=True),
     per_leaf(Rmsprop, eps=1e-3, eps_in_sqrt=True)),
    ("rmsprop centered", lambda: optim.rmsprop(0.01, decay=0.8, eps=1e-4, centered=True),
     per_leaf(Rmsprop, decay=0.8, eps=1e-4, centered=True)),
    ("rmsprop centered in sqrt", lambda: optim.rmsprop(0.01, centered=True, eps_in_sqrt=True,
                                                       initial_scale=1.0, momentum=0.5),
     per_leaf(Rmsprop, centered=True, eps_in_sqrt=True, initial_scale=1.0, momentum=0.5)),
    ("clip then sgd", lambda: optim.chain(optim.clip(0.5), optim.sgd(0.05, momentum=0.9)),
     per_leaf(Sgd, clip=0.5, momentum=0.9)),
]
CASE_IDS = [name for name, _, _ in CASES]


@pytest.mark.parametrize("name, make, reference", CASES, ids=CASE_IDS)
def test_optimiser_matches_its_written_out_rule_for_25_steps(name, make, reference):
    params, grad_fn, coefficients = make_problem()
    got, _ = run(make(), params, grad_fn)
    assert_histories_close(got, run_reference(reference, params, coefficients))


def test_adamw_mask_decays_only_the_marked_leaves():
    params, grad_fn, coefficients = make_problem(1)
    mask = {"dense": {"w": True, "b": False}, "scale": False, "seq": True}  # a prefix at "seq"
    got, _ = run(optim.adamw(0.05, weight_decay=0.2, mask=mask), params, grad_fn)
    decayed = [False, True, False, True, True]  # leaf order: dense.b, dense.w, scale, seq[0], seq[1]
    labels = [0.2 if d else 0.0 for d in decayed]
    expected = run_reference(lambda p, wd: Adam(p, wd=wd), params, coefficients, labels=labels)
    assert_histories_close(got, expected)
    # The same mask as a function of the params.
    got_fn, _ = run(optim.adamw(0.05, weight_decay=0.2, mask=lambda p: mask), params, grad_fn)
    assert_histories_close(got_fn, expected)


def test_lamb_mask_and_lars_trust_ratio_mask():
    params, grad_fn, coefficients = make_problem(2)
    mask = {"dense": False, "scale": True, "seq": (True, False)}
    decayed = [False, False, True, True, False]
    got, _ = run(optim.lamb(0.05, weight_decay=0.1, mask=mask, eps=1e-8), params, grad_fn)
    expected = run_reference(lambda p, d: Lamb(p, eps=1e-8, wd=0.1 if d else 0.0), params,
                             coefficients, labels=decayed)
    assert_histories_close(got, expected)
    got, _ = run(optim.lars(0.5, weight_decay=0.01, trust_ratio_mask=mask,
                            weight_decay_mask=mask), params, grad_fn)
    expected = run_reference(lambda p, d: Lars(p, wd=0.01 if d else 0.0, trust=d), params,
                             coefficients, labels=decayed)
    assert_histories_close(got, expected)


# -- jit, float32 and bad hyperparameters ----------------------------------------------------

JIT_CASES = [
    ("adagrad", lambda: optim.adagrad(0.1)),
    ("adadelta", lambda: optim.adadelta(0.5, weight_decay=0.01)),
    ("adamax", lambda: optim.adamax(0.05)),
    ("nadam", lambda: optim.nadam(0.05)),
    ("radam", lambda: optim.radam(0.05, b2=0.9)),
    ("lamb", lambda: optim.lamb(0.05, weight_decay=0.01)),
    ("lars", lambda: optim.lars(0.5, weight_decay=0.01)),
    ("lion", lambda: optim.lion(0.01)),
    ("adafactor", lambda: optim.adafactor(0.05, min_dim_size_to_factor=2, momentum=0.9)),
    ("rmsprop centered", lambda: optim.rmsprop(0.01, centered=True)),
    ("adamw mask", lambda: optim.adamw(0.05, mask={"dense": True, "scale": False, "seq": True})),
    ("multi_transform", lambda: optim.multi_transform(
        {"a": optim.adam(0.05), "b": optim.chain(optim.clip(0.1), optim.sgd(0.1))},
        {"dense": "a", "scale": "b", "seq": ("a", "b")})),
    ("MultiSteps", lambda: optim.MultiSteps(optim.adam(0.05), 2).gradient_transformation()),
    ("apply_if_finite", lambda: optim.apply_if_finite(optim.adam(0.05), 2)),
    ("inject", lambda: optim.inject_hyperparams(optim.lamb)(0.05)),
    ("zero_nans ema", lambda: optim.chain(optim.zero_nans(), optim.ema(0.9), optim.scale(-0.1))),
]


@pytest.mark.parametrize("name, make", JIT_CASES, ids=[c[0] for c in JIT_CASES])
def test_jit_update_equals_eager_and_keeps_the_state_structure(name, make):
    opt = make()
    params, grad_fn, _ = make_problem(13)
    jitted = fg.jit(lambda g, s, p: opt.update(g, s, p))
    eager_state = jit_state = opt.init(params)
    treedef = tree.structure(eager_state)
    for _ in range(4):
        grads = grad_fn(params)
        eager_updates, eager_state = opt.update(grads, eager_state, params)
        jit_updates, jit_state = jitted(grads, jit_state, params)
        assert tree.structure(jit_state) == tree.structure(eager_state) == treedef
        for a, b in zip(tree.leaves((jit_updates, jit_state)),
                        tree.leaves((eager_updates, eager_state))):
            assert np.asarray(a).dtype == np.asarray(b).dtype
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
        params = optim.apply_updates(params, eager_updates)
    assert jitted.cache_info().misses == 1


@pytest.mark.parametrize("name, make", JIT_CASES, ids=[c[0] for c in JIT_CASES])
def test_float32_params_stay_float32(name, make):
    opt = make()
    params, grad_fn, _ = make_problem(14, dtype=np.float32)
    state = opt.init(params)
    for _ in range(3):
        updates, state = opt.update(grad_fn(params), state, params)
        params = optim.apply_updates(params, updates)
    assert {np.asarray(x).dtype for x in tree.leaves((updates, params))} == {np.dtype("float32")}
    assert {np.asarray(x).dtype.kind for x in tree.leaves(state)} <= {"f", "i", "b"}
    assert not any(np.asarray(x).dtype == np.float64 for x in tree.leaves(state)
                   if np.ndim(x) > 0)


@pytest.mark.parametrize("make, message", [
    (lambda: optim.radam(0.1, threshold=3.0), "threshold must be >= 4.0"),
    (lambda: optim.adagrad(0.1, eps=-1.0), "eps must be >= 0.0"),
    (lambda: optim.lion(0.1, b1=1.0), "b1 must be < 1.0"),
    (lambda: optim.adafactor(min_dim_size_to_factor=2.5), "min_dim_size_to_factor must be an int"),
    (lambda: optim.rmsprop(0.1, centered="yes"), "centered must be a bool"),
    (lambda: optim.clip(-1.0), "max_delta must be >= 0.0"),
    (lambda: optim.MultiSteps(optim.sgd(0.1), 0), "every_k_schedule must be >= 1"),
    (lambda: optim.apply_every(0), "k must be >= 1"),
    (lambda: optim.ema(1.5), "decay must be <= 1.0"),
    (lambda: optim.piecewise_constant_schedule(1.0, {2: -0.5}), "scale must be >= 0.0"),
    (lambda: optim.polynomial_schedule(1.0, 0.0, 2, 0), "transition_steps must be >= 1"),
    (lambda: optim.piecewise_interpolate_schedule("cubic", 1.0), "'linear' or 'cosine'"),
    (lambda: optim.sgdr_schedule([]), "non-empty sequence of dicts"),
    (lambda: optim.multi_transform({}, {}), "non-empty mapping"),
])
def test_bad_hyperparameters_raise_clear_errors(make, message):
    with pytest.raises(ArgumentError, match=message):
        make()


def test_transformations_that_need_params_say_so():
    for opt in (optim.lamb(0.1), optim.lars(0.1), optim.adafactor(0.1)):
        with pytest.raises(ArgumentError, match="needs the parameters"):
            opt.update(np.ones(2), opt.init(np.ones(2)))

