"""The building blocks optimisers are chained from.

Each function returns a :class:`~funcgrad.optim.GradientTransformation` whose
state is a NamedTuple of arrays (a pytree), and whose ``update`` is traceable:
no Python control flow on array values, step counts kept as int64 arrays, so
``funcgrad.jit`` compiles it once.  Every update keeps each leaf's dtype.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad.errors import ArgumentError
from funcgrad.optim import _checks
from funcgrad.optim._checks import cast_like
from funcgrad.optim._masking import masked
from funcgrad.optim.base import (
    EmptyState,
    GradientTransformation,
    OptState,
    Params,
    Schedule,
    Updates,
    identity,
)

__all__ = ["ScaleByAdamState", "ScaleByRStdDevState", "ScaleByRmsState", "ScaleByScheduleState",
           "TraceState", "add_decayed_weights", "clip_by_global_norm", "global_norm", "scale",
           "scale_by_adam", "scale_by_learning_rate", "scale_by_rms", "scale_by_schedule",
           "scale_by_stddev", "trace"]

_zeros_like = _checks.zeros_like


def _check_params(where: str, updates: Updates, params: Params | None) -> None:
    _checks.check_update(where, updates, params)


def _check_state(where: str, updates: Updates, state_tree: Any) -> None:
    _checks.check_update(where, updates, None, state_tree)


def scale(step_size: float) -> GradientTransformation:
    """Multiply every update by the constant ``step_size``.

    Examples:
        >>> import numpy as np
        >>> opt = scale(-0.5)
        >>> opt.update({"w": np.array([2.0, 4.0])}, opt.init(None))[0]
        {'w': array([-1., -2.])}
    """
    step_size = _checks.real(step_size, "scale", "step_size")

    def init(params: Params) -> EmptyState:
        return EmptyState()

    def update(updates: Updates, state: OptState,
               params: Params | None = None) -> tuple[Updates, EmptyState]:
        _check_params("scale.update", updates, params)
        return tree.map(lambda u: u * step_size, updates), state

    return GradientTransformation(init, update)


class ScaleByScheduleState(NamedTuple):
    """How many updates have been made (an int64 0-d array)."""

    count: Any


def scale_by_schedule(step_size_fn: Schedule) -> GradientTransformation:
    """Multiply the updates by ``step_size_fn(count)``, where ``count`` counts the updates from 0.

    Examples:
        >>> import numpy as np
        >>> opt = scale_by_schedule(lambda count: 1.0 / (count + 1))
        >>> state = opt.init(np.zeros(1))
        >>> u0, state = opt.update(np.ones(1), state)
        >>> u1, state = opt.update(np.ones(1), state)
        >>> u0, u1, state.count
        (array([1.]), array([0.5]), array(2))
    """
    if not callable(step_size_fn):
        raise ArgumentError(f"scale_by_schedule: step_size_fn must be a callable of the step "
                            f"count, got {step_size_fn!r} ({type(step_size_fn).__name__})")

    def init(params: Params) -> ScaleByScheduleState:
        return ScaleByScheduleState(_checks.zero_count())

    def update(updates: Updates, state: ScaleByScheduleState,
               params: Params | None = None) -> tuple[Updates, ScaleByScheduleState]:
        _check_params("scale_by_schedule.update", updates, params)
        step_size = step_size_fn(state.count)
        updates = tree.map(lambda u: cast_like(u * step_size, u), updates)
        return updates, ScaleByScheduleState(_checks.increment(state.count))

    return GradientTransformation(init, update)


def scale_by_learning_rate(learning_rate: float | Schedule | None, *,
                           flip_sign: bool = True) -> GradientTransformation:
    """Multiply the updates by ``-learning_rate`` (a float or a schedule of the step count).

    The minus sign makes gradients into descent steps; ``flip_sign=False``
    multiplies by ``+learning_rate``.  ``None`` is :func:`identity` (as in optax).

    Examples:
        >>> import numpy as np
        >>> opt = scale_by_learning_rate(0.1)
        >>> opt.update(np.array([1.0, -2.0]), opt.init(None))[0]
        array([-0.1,  0.2])
    """
    flip_sign = _checks.boolean(flip_sign, "scale_by_learning_rate", "flip_sign")
    if learning_rate is None:
        return identity()
    lr = _checks.real_or_schedule(learning_rate, "scale_by_learning_rate", "learning_rate")
    sign = -1.0 if flip_sign else 1.0
    if callable(lr):
        return scale_by_schedule(lambda count: sign * lr(count))
    return scale(sign * lr)


class TraceState(NamedTuple):
    """The running momentum ``v`` (a pytree like the params)."""

    trace: Any


def trace(decay: float, nesterov: bool = False) -> GradientTransformation:
    """Momentum: ``v = g + decay * v``; the update is ``v`` (or ``g + decay * v`` with Nesterov).

    This is the heavy-ball convention of PyTorch's SGD (no dampening).

    Examples:
        >>> import numpy as np
        >>> opt = trace(0.5)
        >>> state = opt.init(np.zeros(1))
        >>> u, state = opt.update(np.ones(1), state)
        >>> u, state = opt.update(np.ones(1), state)
        >>> u
        array([1.5])
    """
    decay = _checks.real(decay, "trace", "decay", low=0.0)
    if not isinstance(nesterov, bool):
        raise ArgumentError(f"trace: nesterov must be a bool, got {nesterov!r}")

    def init(params: Params) -> TraceState:
        return TraceState(_zeros_like(params))

    def update(updates: Updates, state: TraceState,
               params: Params | None = None) -> tuple[Updates, TraceState]:
        _check_params("trace.update", updates, params)
        _check_state("trace.update", updates, state.trace)
        new_trace = tree.map(lambda g, v: g + decay * v, updates, state.trace)
        if nesterov:
            updates = tree.map(lambda g, v: g + decay * v, updates, new_trace)
        else:
            updates = new_trace
        return updates, TraceState(new_trace)

    return GradientTransformation(init, update)


class ScaleByAdamState(NamedTuple):
    """Adam's step count and its first and second moment estimates."""

    count: Any
    mu: Any
    nu: Any


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, eps_root: float = 0.0,
                  *, nesterov: bool = False) -> GradientTransformation:
    """Adam's direction ``m_hat / (sqrt(v_hat + eps_root) + eps)``, with bias-corrected moments.

    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g**2``,
    ``m_hat = m / (1 - b1**t)``, ``v_hat = v / (1 - b2**t)`` at step ``t = 1, 2, ...``.
    ``nesterov=True`` is NAdam (Dozat), as in optax:
    ``m_hat = b1 m / (1 - b1**(t+1)) + (1 - b1) g / (1 - b1**t)``.

    Examples:
        >>> import numpy as np
        >>> opt = scale_by_adam()
        >>> opt.update(np.array([2.0, -3.0]), opt.init(np.zeros(2)))[0]
        array([ 1., -1.])
    """
    b1 = _checks.real(b1, "scale_by_adam", "b1", low=0.0, high=1.0, high_open=True)
    b2 = _checks.real(b2, "scale_by_adam", "b2", low=0.0, high=1.0, high_open=True)
    eps = _checks.real(eps, "scale_by_adam", "eps", low=0.0)
    eps_root = _checks.real(eps_root, "scale_by_adam", "eps_root", low=0.0)
    nesterov = _checks.boolean(nesterov, "scale_by_adam", "nesterov")

    def init(params: Params) -> ScaleByAdamState:
        return ScaleByAdamState(_checks.zero_count(), _zeros_like(params), _zeros_like(params))

    def update(updates: Updates, state: ScaleByAdamState,
               params: Params | None = None) -> tuple[Updates, ScaleByAdamState]:
        _check_params("scale_by_adam.update", updates, params)
        _check_state("scale_by_adam.update", updates, state.mu)
        count = _checks.increment(state.count)
        mu = tree.map(lambda g, m: b1 * m + (1.0 - b1) * g, updates, state.mu)
        nu = tree.map(lambda g, v: b2 * v + (1.0 - b2) * fnp.square(g), updates, state.nu)
        mu_hat = adam_first_moment(updates, mu, b1, count, nesterov)
        correction2 = 1.0 - b2 ** count
        updates = tree.map(
            lambda m, v: cast_like(m / (fnp.sqrt(v / correction2 + eps_root) + eps), m),
            mu_hat, nu)
        return updates, ScaleByAdamState(count, mu, nu)

    return GradientTransformation(init, update)


def adam_first_moment(grads: Updates, mu: Updates, b1: Any, count: Any,
                      nesterov: bool) -> Updates:
    """Adam's bias-corrected first moment at step ``count`` (NAdam's with ``nesterov``)."""
    correction = 1.0 - b1 ** count
    if not nesterov:
        return tree.map(lambda m: cast_like(m / correction, m), mu)
    next_correction = 1.0 - b1 ** (count + 1)
    return tree.map(lambda g, m: cast_like(b1 * (m / next_correction)
                                           + (1.0 - b1) * (g / correction), m), grads, mu)


class ScaleByRmsState(NamedTuple):
    """The running average of the squared gradients."""

    nu: Any


def _rms_hyper(where: str, decay: float, eps: float, initial_scale: float,
               eps_in_sqrt: bool) -> tuple[Any, Any, Any, bool]:
    return (_checks.real(decay, where, "decay", low=0.0, high=1.0, high_open=True),
            _checks.real(eps, where, "eps", low=0.0),
            _checks.real(initial_scale, where, "initial_scale", low=0.0),
            _checks.boolean(eps_in_sqrt, where, "eps_in_sqrt"))


def _full_like(params: Params, value: Any) -> Params:
    return tree.map(lambda p: fnp.full_like(p, value), params)


def _root_divider(eps: Any, eps_in_sqrt: bool) -> Any:
    """``(g, s) -> g / sqrt(s + eps)`` or ``(g, s) -> g / (sqrt(s) + eps)``, in ``g``'s dtype."""
    if eps_in_sqrt:
        return lambda g, s: cast_like(g / fnp.sqrt(s + eps), g)
    return lambda g, s: cast_like(g / (fnp.sqrt(s) + eps), g)


def scale_by_rms(decay: float = 0.9, eps: float = 1e-8, initial_scale: float = 0.0,
                 eps_in_sqrt: bool = False) -> GradientTransformation:
    """RMSProp's direction ``g / (sqrt(v) + eps)`` with ``v = decay v + (1 - decay) g**2``.

    ``v`` starts at ``initial_scale``.  ``eps_in_sqrt=True`` gives
    ``g / sqrt(v + eps)`` instead (optax's default; funcgrad keeps PyTorch's).

    Examples:
        >>> import numpy as np
        >>> opt = scale_by_rms(decay=0.75, eps=0.0)
        >>> opt.update(np.array([1.0, -4.0]), opt.init(np.zeros(2)))[0]
        array([ 2., -2.])
    """
    decay, eps, initial_scale, eps_in_sqrt = _rms_hyper("scale_by_rms", decay, eps,
                                                        initial_scale, eps_in_sqrt)
    divide = _root_divider(eps, eps_in_sqrt)

    def init(params: Params) -> ScaleByRmsState:
        return ScaleByRmsState(_full_like(params, initial_scale))

    def update(updates: Updates, state: ScaleByRmsState,
               params: Params | None = None) -> tuple[Updates, ScaleByRmsState]:
        _check_params("scale_by_rms.update", updates, params)
        _check_state("scale_by_rms.update", updates, state.nu)
        nu = tree.map(lambda g, v: decay * v + (1.0 - decay) * fnp.square(g), updates, state.nu)
        updates = tree.map(divide, updates, nu)
        return updates, ScaleByRmsState(nu)

    return GradientTransformation(init, update)


class ScaleByRStdDevState(NamedTuple):
    """The running averages of the gradients and of their squares."""

    mu: Any
    nu: Any


def scale_by_stddev(decay: float = 0.9, eps: float = 1e-8, initial_scale: float = 0.0,
                    eps_in_sqrt: bool = False) -> GradientTransformation:
    """Centred RMSProp's direction ``g / (sqrt(v - m**2) + eps)``.

    ``m = decay m + (1 - decay) g`` and ``v = decay v + (1 - decay) g**2``;
    ``v`` starts at ``initial_scale``; ``eps_in_sqrt=True`` gives
    ``g / sqrt(v - m**2 + eps)``.

    Examples:
        >>> import numpy as np
        >>> opt = scale_by_stddev(decay=0.5, eps=0.0)
        >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0]  # 2 / sqrt(2 - 1)
        array([2.])
    """
    decay, eps, initial_scale, eps_in_sqrt = _rms_hyper("scale_by_stddev", decay, eps,
                                                        initial_scale, eps_in_sqrt)
    divide = _root_divider(eps, eps_in_sqrt)

    def init(params: Params) -> ScaleByRStdDevState:
        return ScaleByRStdDevState(_zeros_like(params), _full_like(params, initial_scale))

    def update(updates: Updates, state: ScaleByRStdDevState,
               params: Params | None = None) -> tuple[Updates, ScaleByRStdDevState]:
        _check_params("scale_by_stddev.update", updates, params)
        _check_state("scale_by_stddev.update", updates, state.mu)
        mu = tree.map(lambda g, m: decay * m + (1.0 - decay) * g, updates, state.mu)
        nu = tree.map(lambda g, v: decay * v + (1.0 - decay) * fnp.square(g), updates, state.nu)
        updates = tree.map(lambda g, m, v: divide(g, v - fnp.square(m)), updates, mu, nu)
        return updates, ScaleByRStdDevState(mu, nu)

    return GradientTransformation(init, update)


def add_decayed_weights(weight_decay: float = 0.0, mask: Any = None) -> GradientTransformation:
    """Add ``weight_decay * params`` to the updates (decoupled weight decay, as in AdamW).

    Needs ``params``: call ``update(grads, state, params)``.  ``mask`` (a tree
    of bools like the params, or a prefix of it, or a function of the params
    returning one) limits the decay to the leaves marked ``True``; see
    :func:`~funcgrad.optim.masked`.

    Examples:
        >>> import numpy as np
        >>> opt = add_decayed_weights(0.1)
        >>> opt.update(np.zeros(2), opt.init(None), np.array([1.0, 2.0]))[0]
        array([0.1, 0.2])
    """
    weight_decay = _checks.real(weight_decay, "add_decayed_weights", "weight_decay")

    def init(params: Params) -> EmptyState:
        return EmptyState()

    def update(updates: Updates, state: OptState,
               params: Params | None = None) -> tuple[Updates, EmptyState]:
        _checks.need_params("add_decayed_weights.update", updates, params)
        updates = tree.map(lambda u, p: cast_like(u + weight_decay * p, u), updates, params)
        return updates, state

    if mask is not None:
        return masked(GradientTransformation(init, update), mask)
    return GradientTransformation(init, update)


def global_norm(updates: Updates) -> Any:
    """The Euclidean norm of all the leaves together, ``sqrt(sum of every element squared)``.

    Examples:
        >>> import numpy as np
        >>> global_norm({"a": np.array([3.0]), "b": np.array([[4.0]])})
        np.float64(5.0)
    """
    total: Any = 0.0
    for leaf in tree.leaves(updates):
        total = total + fnp.sum(fnp.square(leaf))
    return fnp.sqrt(total)


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """Scale the updates down so that their global norm is at most ``max_norm``.

    Updates whose norm is within ``max_norm`` pass through unchanged (they are
    multiplied by exactly 1); larger ones are multiplied by ``max_norm / norm``.

    Examples:
        >>> import numpy as np
        >>> opt = clip_by_global_norm(1.0)
        >>> opt.update({"a": np.array([3.0]), "b": np.array([4.0])}, opt.init(None))[0]
        {'a': array([0.6]), 'b': array([0.8])}
    """
    max_norm = _checks.real(max_norm, "clip_by_global_norm", "max_norm", low=0.0, low_open=True)

    def init(params: Params) -> EmptyState:
        return EmptyState()

    def update(updates: Updates, state: OptState,
               params: Params | None = None) -> tuple[Updates, EmptyState]:
        _check_params("clip_by_global_norm.update", updates, params)
        # max_norm / max(norm, max_norm) is exactly 1.0 below the threshold: no where, no 0/0.
        factor = max_norm / fnp.maximum(global_norm(updates), max_norm)
        return tree.map(lambda u: cast_like(u * factor, u), updates), state

    return GradientTransformation(init, update)
