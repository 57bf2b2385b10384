"""funcgrad.optim's optax-derived optimisers, wrappers and schedules against written-out NumPy.

Every reference below is the update rule written out again in plain NumPy,
leaf by leaf (no funcgrad.optim call): the optimiser under test runs 25 steps
on a separable quadratic over a nested pytree, and its whole trajectory must
match the reference's in float64.
"""

import math

import numpy as np
import pytest

import funcgrad as fg
from funcgrad import optim, tree
from funcgrad.errors import ArgumentError

STEPS = 25
RTOL = 1e-12


# -- the problem: a separable quadratic over a nested pytree ---------------------------------


def make_problem(seed=0, dtype=np.float64):
    """Params ``{"dense": {"w": 3x5, "b": 5}, "scale": 2, "seq": (4, 2x2)}``; ``g = a p - c``."""
    rng = np.random.default_rng(seed)
    shapes = {"dense": {"w": (3, 5), "b": (5,)}, "scale": (2,), "seq": ((4,), (2, 2))}
    is_shape = lambda s: isinstance(s, tuple) and all(isinstance(n, int) for n in s)  # noqa: E731
    params = tree.map(lambda s: rng.normal(size=s).astype(dtype), shapes, is_leaf=is_shape)
    a = tree.map(lambda s: rng.uniform(0.5, 2.0, size=s), shapes, is_leaf=is_shape)
    c = tree.map(lambda s: rng.normal(size=s), shapes, is_leaf=is_shape)

    def grad_fn(p):
        return tree.map(lambda x, ai, ci: (ai * x - ci).astype(x.dtype), p, a, c)

    return params, grad_fn, (tree.leaves(a), tree.leaves(c))


def run(opt, params, grad_fn, steps=STEPS, grads_hook=None):
    """The params after each step (and the final state)."""
    state = opt.init(params)
    history = []
    for t in range(steps):
        grads = grad_fn(params)
        if grads_hook is not None:
            grads = grads_hook(t, grads)
        updates, state = opt.update(grads, state, params)
        params = optim.apply_updates(params, updates)
        history.append(params)
    return history, state


def run_reference(make_leaf, params, coefficients, steps=STEPS, labels=None):
    """Each leaf optimised by its own reference object ``make_leaf(p0[, label]).step(g, p, t)``."""
    leaves, treedef = tree.flatten(params)
    a, c = coefficients
    labels = labels or [None] * len(leaves)
    opts = [make_leaf(p) if lab is None else make_leaf(p, lab) for p, lab in zip(leaves, labels)]
    ps = [np.array(p, dtype=np.float64) for p in leaves]
    history = []
    for t in range(1, steps + 1):
        ps = [p + o.step(ai * p - ci, p, t) for p, o, ai, ci in zip(ps, opts, a, c)]
        history.append(treedef.unflatten(ps))
    return history


def assert_histories_close(got, expected, rtol=RTOL, atol=1e-14):
    assert len(got) == len(expected)
    for t, (g, e) in enumerate(zip(got, expected)):
        assert tree.structure(g) == tree.structure(e)
        for x, y in zip(tree.leaves(g), tree.leaves(e)):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"step {t + 1}")


def norm(x):
    return np.sqrt(np.sum(x * x))


def rms(x):
    return np.sqrt(np.mean(x * x))


# -- the references: one object per leaf, step(g, p, t) returns the update -------------------


class Adagrad:
    def __init__(self, p, lr=0.1, init=0.1, eps=1e-7):
        self.lr, self.eps, self.s = lr, eps, np.full_like(p, init)

    def step(self, g, p, t):
        self.s = self.s + g * g
        return -self.lr * g / np.sqrt(self.s + self.eps)


class Adadelta:
    def __init__(self, p, lr=0.5, rho=0.9, eps=1e-6, wd=0.0):
        self.lr, self.rho, self.eps, self.wd = lr, rho, eps, wd
        self.eg, self.ex = np.zeros_like(p), np.zeros_like(p)

    def step(self, g, p, t):
        g = g + self.wd * p
        self.eg = self.rho * self.eg + (1 - self.rho) * g ** 2
        d = np.sqrt(self.ex + self.eps) / np.sqrt(self.eg + self.eps) * g
        self.ex = self.rho * self.ex + (1 - self.rho) * d ** 2
        return -self.lr * d


class Adamax:
    def __init__(self, p, lr=0.05, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.m, self.u = np.zeros_like(p), np.zeros_like(p)

    def step(self, g, p, t):
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.u = np.maximum(np.abs(g) + self.eps, self.b2 * self.u)
        return -self.lr * (self.m / (1 - self.b1 ** t)) / self.u


class Adam:
    """Adam, NAdam (``nesterov``), RAdam (``threshold``), with optional decoupled decay."""

    def __init__(self, p, lr=0.05, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, nesterov=False,
                 threshold=None, wd=0.0):
        self.lr, self.b1, self.b2, self.eps, self.eps_root = lr, b1, b2, eps, eps_root
        self.nesterov, self.threshold, self.wd = nesterov, threshold, wd
        self.m, self.v = np.zeros_like(p), np.zeros_like(p)

    def direction(self, g, t):
        b1, b2 = self.b1, self.b2
        self.m = b1 * self.m + (1 - b1) * g
        self.v = b2 * self.v + (1 - b2) * g * g
        if self.nesterov:
            m_hat = b1 * self.m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1 ** t)
        else:
            m_hat = self.m / (1 - b1 ** t)
        v_hat = self.v / (1 - b2 ** t)
        d = m_hat / (np.sqrt(v_hat + self.eps_root) + self.eps)
        if self.threshold is None:
            return d
        rho_inf = 2 / (1 - b2) - 1
        rho = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
        if rho < self.threshold:
            return m_hat
        r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        return r * d

    def step(self, g, p, t):
        return -self.lr * (self.direction(g, t) + self.wd * p)


class Lamb(Adam):
    def step(self, g, p, t):
        d = self.direction(g, t) + self.wd * p
        ratio = norm(p) / norm(d) if norm(p) > 0 and norm(d) > 0 else 1.0
        return -self.lr * ratio * d


class Lars:
    def __init__(self, p, lr=0.5, wd=0.01, coef=0.001, eps=0.0, momentum=0.9, nesterov=False,
                 trust=True):
        self.lr, self.wd, self.coef, self.eps = lr, wd, coef, eps
        self.mu, self.nesterov, self.trust = momentum, nesterov, trust
        self.v = np.zeros_like(p)

    def step(self, g, p, t):
        d = g + self.wd * p
        if self.trust and norm(p) > 0 and norm(d) > 0:
            d = d * self.coef * norm(p) / (norm(d) + self.eps)
        d = -self.lr * d
        self.v = d + self.mu * self.v
        return d + self.mu * self.v if self.nesterov else self.v


class Lion:
    def __init__(self, p, lr=0.01, b1=0.9, b2=0.99, wd=1e-3):
        self.lr, self.b1, self.b2, self.wd = lr, b1, b2, wd
        self.m = np.zeros_like(p)

    def step(self, g, p, t):
        c = np.sign((1 - self.b1) * g + self.b1 * self.m)
        self.m = self.b2 * self.m + (1 - self.b2) * g
        return -self.lr * (c + self.wd * p)


class Adafactor:
    """Adafactor as optax chains it, with the factored moments written out for 2-D leaves."""

    def __init__(self, p, lr=0.05, min_dim=128, decay_rate=0.8, param_scale=True, clip=1.0,
                 momentum=None, wd=None, eps=1e-30):
        self.lr, self.decay_rate, self.param_scale, self.clip = lr, decay_rate, param_scale, clip
        self.momentum, self.wd, self.eps = momentum, wd, eps
        self.factored = p.ndim == 2 and min(p.shape) >= min_dim
        if self.factored:  # rows: mean over the larger axis (axis 1 on a tie), columns: the other
            self.big = 1 if p.shape[1] >= p.shape[0] else 0
            self.row = np.zeros(p.shape[1 - self.big])
            self.col = np.zeros(p.shape[self.big])
        else:
            self.v = np.zeros_like(p)
        self.ema = np.zeros_like(p)

    def step(self, g, p, t):
        decay = 1 - t ** -self.decay_rate
        g2 = g * g + self.eps
        if self.factored:
            self.row = decay * self.row + (1 - decay) * g2.mean(axis=self.big)
            self.col = decay * self.col + (1 - decay) * g2.mean(axis=1 - self.big)
            row_factor = (self.row / self.row.mean()) ** -0.5
            col_factor = self.col ** -0.5
            if self.big == 1:
                u = g * row_factor[:, None] * col_factor[None, :]
            else:
                u = g * row_factor[None, :] * col_factor[:, None]
        else:
            self.v = decay * self.v + (1 - decay) * g2
            u = g * self.v ** -0.5
        if self.clip is not None:
            u = u / max(1.0, rms(u) / self.clip)
        u = self.lr * u
        if self.param_scale:
            u = u * max(rms(p), 1e-3)
        if self.momentum is not None:
            self.ema = self.momentum * self.ema + (1 - self.momentum) * u
            u = self.ema
        if self.wd is not None:
            u = u + self.wd * p
        return -u


class Rmsprop:
    def __init__(self, p, lr=0.01, decay=0.9, eps=1e-8, initial_scale=0.0, eps_in_sqrt=False,
                 centered=False, momentum=None):
        self.lr, self.decay, self.eps = lr, decay, eps
        self.eps_in_sqrt, self.centered, self.momentum = eps_in_sqrt, centered, momentum
        self.v, self.m = np.full_like(p, initial_scale), np.zeros_like(p)
        self.buf = np.zeros_like(p)

    def step(self, g, p, t):
        self.v = self.decay * self.v + (1 - self.decay) * g * g
        self.m = self.decay * self.m + (1 - self.decay) * g
        s = self.v - self.m ** 2 if self.centered else self.v
        d = g / np.sqrt(s + self.eps) if self.eps_in_sqrt else g / (np.sqrt(s) + self.eps)
        if self.momentum is not None:
            self.buf = self.momentum * self.buf + d
            d = self.buf
        return -self.lr * d


class Sgd:
    def __init__(self, p, lr=0.05, momentum=0.0, clip=None):
        self.lr, self.momentum, self.clip, self.v = lr, momentum, clip, np.zeros_like(p)

    def step(self, g, p, t):
        if self.clip is not None:
            g = np.clip(g, -self.clip, self.clip)
        self.v = g + self.momentum * self.v
        return -self.lr * self.v


def per_leaf(cls, **kw):
    return lambda p: cls(p, **kw)


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
    params, grad_fn, _ = make_problem()
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

    def hook(t, grads):  # micro-steps 3 and 8 (0-based) get a NaN
        if t in bad:
            return tree.map(lambda g: np.where(np.arange(g.size).reshape(g.shape) == 0, np.nan,
                                               g), grads)
        return grads

    got, state = run(multi.gradient_transformation(), params, grad_fn, grads_hook=hook)
    assert int(state.skip_state["num_not_finite"]) == 0
    # Skipped micro-batches do not count: 25 - 2 good ones, an update every 2.
    assert int(state.gradient_step) == (STEPS - len(bad)) // 2
    good_history = reference_multisteps(params, coefficients, 2, steps=STEPS - len(bad))
    # Map each real step to the number of good micro-steps so far.
    expected, good = [], 0
    for t in range(STEPS):
        if t not in bad:
            good += 1
        expected.append(good_history[good - 1] if good else params)
    assert_histories_close(got, expected)


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
        expected = tree.map(lambda ei: ei / (1 - 0.9 ** t), e) if debias else e
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
    leaves, treedef = tree.flatten(params)
    a, c = coefficients
    opts, ps, expected, n = [Adam(x) for x in leaves], [np.array(x) for x in leaves], [], 0
    for t in range(STEPS):
        if t not in bad:
            n += 1
            ps = [x + o.step(ai * x - ci, x, n) for x, o, ai, ci in zip(ps, opts, a, c)]
        expected.append(treedef.unflatten(ps))
    assert_histories_close(history, expected)


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
    leaves, treedef = tree.flatten(params)
    a, c = coefficients
    opts, ps, expected = [Adam(x, b1=0.8) for x in leaves], [np.array(x) for x in leaves], []
    for t in range(1, STEPS + 1):
        for o in opts:
            o.lr = 0.05 if t <= 10 else 0.01
        ps = [x + o.step(ai * x - ci, x, t) for x, o, ai, ci in zip(ps, opts, a, c)]
        expected.append(treedef.unflatten(ps))
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
    expected = run_reference(lambda x: _ScheduledSgd(x, [0.1] * 4 + [0.02] * 4), params,
                             coefficients, steps=8)
    assert_histories_close(history, expected, rtol=1e-13)


class _ScheduledSgd(Sgd):
    def __init__(self, p, lrs):
        super().__init__(p, momentum=0.9)
        self.lrs = lrs

    def step(self, g, p, t):
        self.lr = self.lrs[t - 1]
        return super().step(g, p, t)


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
    ("sgdr", optim.sgdr_schedule([dict(init_value=0.0, peak_value=1.0, warmup_steps=2,
                                       decay_steps=6),
                                  dict(init_value=0.1, peak_value=0.5, warmup_steps=0,
                                       decay_steps=10, end_value=0.05, exponent=2.0)]),
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
