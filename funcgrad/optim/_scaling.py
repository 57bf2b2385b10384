"""More building blocks, each optax's transformation of the same name and numerics.

Per-element rescalings (``scale_by_rss`` for Adagrad, ``scale_by_adadelta``,
``scale_by_adamax``, ``scale_by_radam``, ``scale_by_lion``), per-leaf ones
(``scale_by_trust_ratio`` for LARS and LAMB, ``scale_by_param_block_rms`` and
``clip_by_block_rms`` for Adafactor) and clipping by value (``clip``).  Like
:mod:`funcgrad.optim.transform`, every update is traceable and keeps each
leaf's dtype.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad.optim import _checks
from funcgrad.optim._checks import cast_like
from funcgrad.optim.base import (
    EmptyState,
    GradientTransformation,
    OptState,
    Params,
    Updates,
)
from funcgrad.optim.transform import ScaleByAdamState, adam_first_moment

__all__ = ["ScaleByAdaDeltaState", "ScaleByLionState", "ScaleByRssState", "clip",
           "clip_by_block_rms", "scale_by_adadelta", "scale_by_adamax", "scale_by_lion",
           "scale_by_param_block_rms", "scale_by_radam", "scale_by_rss", "scale_by_trust_ratio"]


def _stateless(where: str, leaf_fn: Any, needs_params: bool = False) -> GradientTransformation:
    """A transformation with no state mapping ``leaf_fn(u)`` (or ``leaf_fn(u, p)``) over the leaves."""
    def init(params: Params) -> EmptyState:
        return EmptyState()

    def update(updates: Updates, state: OptState,
               params: Params | None = None) -> tuple[Updates, OptState]:
        if needs_params:
            _checks.need_params(where, updates, params)
            return tree.map(lambda u, p: cast_like(leaf_fn(u, p), u), updates, params), state
        _checks.check_update(where, updates, params)
        return tree.map(lambda u: cast_like(leaf_fn(u), u), updates), state

    return GradientTransformation(init, update)


def _norm(x: Any) -> Any:
    return fnp.sqrt(fnp.sum(fnp.square(x)))


def _rms(x: Any) -> Any:
    return fnp.sqrt(fnp.mean(fnp.square(x)))


def clip(max_delta: float) -> GradientTransformation:
    """Clip every element of the updates to ``[-max_delta, max_delta]``.

    Examples:
        >>> import numpy as np
        >>> opt = clip(1.0)
        >>> opt.update(np.array([-3.0, 0.5, 2.0]), opt.init(None))[0]
        array([-1. ,  0.5,  1. ])
    """
    max_delta = _checks.real(max_delta, "clip", "max_delta", low=0.0)
    return _stateless("clip.update", lambda u: fnp.clip(u, -max_delta, max_delta))


def clip_by_block_rms(threshold: float) -> GradientTransformation:
    """Scale each leaf down so that its root mean square is at most ``threshold``.

    ``u / max(1, rms(u) / threshold)``, leaf by leaf (Adafactor's update clipping).

    Examples:
        >>> import numpy as np
        >>> opt = clip_by_block_rms(1.0)
        >>> opt.update(np.array([3.0, -3.0]), opt.init(None))[0]
        array([ 1., -1.])
    """
    threshold = _checks.real(threshold, "clip_by_block_rms", "threshold", low=0.0, low_open=True)
    return _stateless("clip_by_block_rms.update",
                      lambda u: u / fnp.maximum(1.0, _rms(u) / threshold))


def scale_by_param_block_rms(min_scale: float = 1e-3) -> GradientTransformation:
    """Multiply each leaf's update by its parameter's root mean square, at least ``min_scale``.

    Examples:
        >>> import numpy as np
        >>> opt = scale_by_param_block_rms()
        >>> opt.update(np.ones(2), opt.init(None), np.array([3.0, -3.0]))[0]
        array([3., 3.])
    """
    min_scale = _checks.real(min_scale, "scale_by_param_block_rms", "min_scale", low=0.0)
    return _stateless("scale_by_param_block_rms.update",
                      lambda u, p: u * fnp.maximum(_rms(p), min_scale), needs_params=True)


def scale_by_trust_ratio(min_norm: float = 0.0, trust_coefficient: float = 1.0,
                         eps: float = 0.0) -> GradientTransformation:
    """Multiply each leaf's update by ``trust_coefficient * |p| / (|u| + eps)`` (LARS, LAMB).

    Norms are Euclidean over the whole leaf, each at least ``min_norm``; where
    either norm is 0 the ratio is 1.

    Examples:
        >>> import numpy as np
        >>> opt = scale_by_trust_ratio()
        >>> opt.update(np.array([0.0, 2.0]), opt.init(None), np.array([3.0, 4.0]))[0]
        array([0., 5.])
    """
    where = "scale_by_trust_ratio"
    min_norm = _checks.real(min_norm, where, "min_norm", low=0.0)
    trust_coefficient = _checks.real(trust_coefficient, where, "trust_coefficient")
    eps = _checks.real(eps, where, "eps", low=0.0)

    def leaf(u: Any, p: Any) -> Any:
        param_norm = fnp.maximum(_norm(p), min_norm)
        update_norm = fnp.maximum(_norm(u), min_norm)
        zero = fnp.logical_or(param_norm == 0.0, update_norm == 0.0)
        ratio = trust_coefficient * param_norm / fnp.where(zero, 1.0, update_norm + eps)
        return u * fnp.where(zero, 1.0, ratio)

    return _stateless(where + ".update", leaf, needs_params=True)


class ScaleByRssState(NamedTuple):
    """Adagrad's running sum of squared gradients."""

    sum_of_squares: Any


def scale_by_rss(initial_accumulator_value: float = 0.1, eps: float = 1e-7) -> GradientTransformation:
    """Adagrad's direction ``g / sqrt(s + eps)`` with ``s = s + g**2``, ``s0 = initial_accumulator_value``.

    Where ``s`` is 0 the update is 0.

    Examples:
        >>> import numpy as np
        >>> opt = scale_by_rss(initial_accumulator_value=0.0, eps=0.0)
        >>> opt.update(np.array([3.0, 0.0]), opt.init(np.zeros(2)))[0]
        array([1., 0.])
    """
    where = "scale_by_rss"
    initial = _checks.real(initial_accumulator_value, where, "initial_accumulator_value", low=0.0)
    eps = _checks.real(eps, where, "eps", low=0.0)

    def init(params: Params) -> ScaleByRssState:
        return ScaleByRssState(tree.map(lambda p: fnp.full_like(p, initial), params))

    def update(updates: Updates, state: ScaleByRssState,
               params: Params | None = None) -> tuple[Updates, ScaleByRssState]:
        _checks.check_update(where + ".update", updates, params, state.sum_of_squares)
        sums = tree.map(lambda g, s: fnp.square(g) + s, updates, state.sum_of_squares)

        def leaf(g: Any, s: Any) -> Any:
            positive = s > 0
            inverse = 1.0 / fnp.sqrt(fnp.where(positive, s, 1.0) + eps)
            return cast_like(fnp.where(positive, inverse, 0.0) * g, g)

        return tree.map(leaf, updates, sums), ScaleByRssState(sums)

    return GradientTransformation(init, update)


class ScaleByAdaDeltaState(NamedTuple):
    """AdaDelta's running averages of squared gradients and of squared updates."""

    e_g: Any
    e_x: Any


def scale_by_adadelta(rho: float = 0.9, eps: float = 1e-6) -> GradientTransformation:
    """AdaDelta's direction ``sqrt(e_x + eps) / sqrt(e_g + eps) * g`` (Zeiler).

    ``e_g = rho e_g + (1 - rho) g**2`` first; then ``e_x`` averages the squared
    updates the same way.

    Examples:
        >>> import numpy as np
        >>> opt = scale_by_adadelta(rho=0.0, eps=1.0)
        >>> opt.update(np.array([0.0]), opt.init(np.zeros(1)))[0]
        array([0.])
    """
    rho = _checks.real(rho, "scale_by_adadelta", "rho", low=0.0, high=1.0, high_open=True)
    eps = _checks.real(eps, "scale_by_adadelta", "eps", low=0.0, low_open=True)

    def init(params: Params) -> ScaleByAdaDeltaState:
        return ScaleByAdaDeltaState(_checks.zeros_like(params), _checks.zeros_like(params))

    def update(updates: Updates, state: ScaleByAdaDeltaState,
               params: Params | None = None) -> tuple[Updates, ScaleByAdaDeltaState]:
        _checks.check_update("scale_by_adadelta.update", updates, params, state.e_g)
        e_g = tree.map(lambda g, e: rho * e + (1.0 - rho) * fnp.square(g), updates, state.e_g)
        updates = tree.map(lambda g, eg, ex: cast_like(fnp.sqrt(ex + eps) / fnp.sqrt(eg + eps)
                                                       * g, g), updates, e_g, state.e_x)
        e_x = tree.map(lambda u, e: rho * e + (1.0 - rho) * fnp.square(u), updates, state.e_x)
        return updates, ScaleByAdaDeltaState(e_g, e_x)

    return GradientTransformation(init, update)


def _betas(where: str, b1: float, b2: float) -> tuple[Any, Any]:
    return (_checks.real(b1, where, "b1", low=0.0, high=1.0, high_open=True),
            _checks.real(b2, where, "b2", low=0.0, high=1.0, high_open=True))


def _adam_init(params: Params) -> ScaleByAdamState:
    return ScaleByAdamState(_checks.zero_count(), _checks.zeros_like(params),
                            _checks.zeros_like(params))


def scale_by_adamax(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    """AdaMax's direction ``m_hat / u`` with ``u = max(|g| + eps, b2 u)`` (the infinity norm).

    ``m`` is Adam's first moment, bias-corrected; ``u`` needs no correction.

    Examples:
        >>> import numpy as np
        >>> opt = scale_by_adamax()
        >>> opt.update(np.array([2.0, -4.0]), opt.init(np.zeros(2)))[0]
        array([ 1., -1.])
    """
    b1, b2 = _betas("scale_by_adamax", b1, b2)
    eps = _checks.real(eps, "scale_by_adamax", "eps", low=0.0)

    def update(updates: Updates, state: ScaleByAdamState,
               params: Params | None = None) -> tuple[Updates, ScaleByAdamState]:
        _checks.check_update("scale_by_adamax.update", updates, params, state.mu)
        count = _checks.increment(state.count)
        mu = tree.map(lambda g, m: b1 * m + (1.0 - b1) * g, updates, state.mu)
        nu = tree.map(lambda g, u: fnp.maximum(fnp.abs(g) + eps, b2 * u), updates, state.nu)
        mu_hat = adam_first_moment(updates, mu, b1, count, nesterov=False)
        updates = tree.map(lambda m, u: cast_like(m / u, m), mu_hat, nu)
        return updates, ScaleByAdamState(count, mu, nu)

    return GradientTransformation(_adam_init, update)


def scale_by_radam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, eps_root: float = 0.0,
                   threshold: float = 5.0, *, nesterov: bool = False) -> GradientTransformation:
    """Rectified Adam's direction (Liu et al.): Adam's, times a variance rectification ``r``.

    With ``rho_inf = 2 / (1 - b2) - 1`` and ``rho = rho_inf - 2 t b2**t / (1 - b2**t)``,
    the update is ``r m_hat / (sqrt(v_hat + eps_root) + eps)`` once
    ``rho >= threshold``, where ``r = sqrt((rho-4)(rho-2) rho_inf / ((rho_inf-4)(rho_inf-2) rho))``,
    and the plain momentum ``m_hat`` before.  ``threshold`` must be at least 4
    (``r`` is not real below ``rho = 4``).

    Examples:
        >>> import numpy as np
        >>> opt = scale_by_radam()
        >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0]  # rho = 1 < 5: m_hat = g
        array([2.])
    """
    where = "scale_by_radam"
    b1, b2 = _betas(where, b1, b2)
    eps = _checks.real(eps, where, "eps", low=0.0)
    eps_root = _checks.real(eps_root, where, "eps_root", low=0.0)
    threshold = _checks.real(threshold, where, "threshold", low=4.0)
    nesterov = _checks.boolean(nesterov, where, "nesterov")
    rho_inf = 2.0 / (1.0 - b2) - 1.0

    def update(updates: Updates, state: ScaleByAdamState,
               params: Params | None = None) -> tuple[Updates, ScaleByAdamState]:
        _checks.check_update(where + ".update", updates, params, state.mu)
        count = _checks.increment(state.count)
        mu = tree.map(lambda g, m: b1 * m + (1.0 - b1) * g, updates, state.mu)
        nu = tree.map(lambda g, v: b2 * v + (1.0 - b2) * fnp.square(g), updates, state.nu)
        b2t = b2 ** count
        rho = rho_inf - 2.0 * count * b2t / (1.0 - b2t)
        rectified = rho >= threshold
        # rho <= rho_inf, so where rectified rho_inf >= rho >= 4: the radicand is >= 0 and
        # the denominator > 0 there; elsewhere both are replaced (no NaN, no warning).
        denominator = fnp.where(rectified, (rho_inf - 4.0) * (rho_inf - 2.0) * rho, 1.0)
        radicand = fnp.where(rectified, (rho - 4.0) * (rho - 2.0) * rho_inf, 0.0)
        r = fnp.sqrt(radicand / denominator)
        mu_hat = adam_first_moment(updates, mu, b1, count, nesterov)
        correction2 = 1.0 - b2t
        updates = tree.map(
            lambda m, v: cast_like(fnp.where(
                rectified, r * m / (fnp.sqrt(v / correction2 + eps_root) + eps), m), m),
            mu_hat, nu)
        return updates, ScaleByAdamState(count, mu, nu)

    return GradientTransformation(_adam_init, update)


class ScaleByLionState(NamedTuple):
    """Lion's step count and momentum."""

    count: Any
    mu: Any


def scale_by_lion(b1: float = 0.9, b2: float = 0.99) -> GradientTransformation:
    """Lion's direction ``sign((1 - b1) g + b1 m)``, then ``m = b2 m + (1 - b2) g`` (Chen et al.).

    Examples:
        >>> import numpy as np
        >>> opt = scale_by_lion()
        >>> opt.update(np.array([0.3, -2.0, 0.0]), opt.init(np.zeros(3)))[0]
        array([ 1., -1.,  0.])
    """
    b1, b2 = _betas("scale_by_lion", b1, b2)

    def init(params: Params) -> ScaleByLionState:
        return ScaleByLionState(_checks.zero_count(), _checks.zeros_like(params))

    def update(updates: Updates, state: ScaleByLionState,
               params: Params | None = None) -> tuple[Updates, ScaleByLionState]:
        _checks.check_update("scale_by_lion.update", updates, params, state.mu)
        directions = tree.map(lambda g, m: cast_like(fnp.sign((1.0 - b1) * g + b1 * m), g),
                              updates, state.mu)
        mu = tree.map(lambda g, m: b2 * m + (1.0 - b2) * g, updates, state.mu)
        return directions, ScaleByLionState(_checks.increment(state.count), mu)

    return GradientTransformation(init, update)

