"""The problem and the written-out NumPy references shared by the funcgrad.optim tests.

Each reference is an optimiser's update rule written out again in plain
NumPy, for one leaf: ``step(g, p, t)`` returns the update at step ``t``
(from 1).  Nothing here calls funcgrad.optim.
"""

import math

import numpy as np

from funcgrad import optim, tree

STEPS = 25
RTOL = 1e-12


# -- the problem: a separable quadratic over a nested pytree ---------------------------------


def make_problem(seed=0, dtype=np.float64):
    """Params ``{"dense": {"w": 3x5, "b": 5}, "scale": 2, "seq": (4, 2x2)}``; ``g = a p - c``."""
    rng = np.random.default_rng(seed)
    shapes = {"dense": {"w": (3, 5), "b": (5,)}, "scale": (2,), "seq": ((4,), (2, 2))}
    def is_shape(s):
        return isinstance(s, tuple) and all(isinstance(n, int) for n in s)

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


def run_reference(make_leaf, params, coefficients, steps=STEPS, labels=None, skip=()):
    """Each leaf optimised by its own reference object ``make_leaf(p0[, label]).step(g, p, t)``.

    The steps in ``skip`` (0-based) leave the params as they are and do not
    count: the reference's ``t`` counts the steps taken.
    """
    leaves, treedef = tree.flatten(params)
    a, c = coefficients
    labels = labels or [None] * len(leaves)
    opts = [make_leaf(p) if lab is None else make_leaf(p, lab) for p, lab in zip(leaves, labels)]
    ps = [np.array(p, dtype=np.float64) for p in leaves]
    history, t = [], 0
    for n in range(steps):
        if n not in skip:
            t += 1
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



class Scheduled:
    """A reference whose ``lr`` is ``lrs[t - 1]`` at step ``t``."""

    def __init__(self, inner, lrs):
        self.inner, self.lrs = inner, lrs

    def step(self, g, p, t):
        self.inner.lr = self.lrs[t - 1]
        return self.inner.step(g, p, t)
