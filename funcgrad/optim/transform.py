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
from funcgrad.optim._checks import cast_like, same_structure
from funcgrad.optim.base import (
    EmptyState,
    GradientTransformation,
    OptState,
    Params,
    Schedule,
    Updates,
)

__all__ = ["ScaleByAdamState", "ScaleByRmsState", "ScaleByScheduleState", "TraceState",
           "add_decayed_weights", "clip_by_global_norm", "global_norm", "scale",
           "scale_by_adam", "scale_by_learning_rate", "scale_by_rms", "scale_by_schedule",
           "trace"]

def _zeros_like(params: Params) -> Params:
    return tree.map(fnp.zeros_like, params)


def _check_params(where: str, updates: Updates, params: Params | None) -> None:
    if params is not None:
        same_structure(where, updates, "grads", params, "params")


def _check_state(where: str, updates: Updates, state_tree: Any) -> None:
    same_structure(where, updates, "grads", state_tree, "the state (made by init(params))")


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


def scale_by_learning_rate(learning_rate: float | Schedule) -> GradientTransformation:
    """Multiply the updates by ``-learning_rate`` (a float or a schedule of the step count).

    The minus sign makes gradients into descent steps.

    Examples:
        >>> import numpy as np
        >>> opt = scale_by_learning_rate(0.1)
        >>> opt.update(np.array([1.0, -2.0]), opt.init(None))[0]
        array([-0.1,  0.2])
    """
    lr = _checks.real_or_schedule(learning_rate, "scale_by_learning_rate", "learning_rate")
    if callable(lr):
        return scale_by_schedule(lambda count: -lr(count))
    return scale(-lr)


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


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    """Adam's direction ``m_hat / (sqrt(v_hat) + eps)``, with bias-corrected moments.

    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g**2``,
    ``m_hat = m / (1 - b1**t)``, ``v_hat = v / (1 - b2**t)`` at step ``t = 1, 2, ...``.

    Examples:
        >>> import numpy as np
        >>> opt = scale_by_adam()
        >>> opt.update(np.array([2.0, -3.0]), opt.init(np.zeros(2)))[0]
        array([ 1., -1.])
    """
    b1 = _checks.real(b1, "scale_by_adam", "b1", low=0.0, high=1.0, high_open=True)
    b2 = _checks.real(b2, "scale_by_adam", "b2", low=0.0, high=1.0, high_open=True)
    eps = _checks.real(eps, "scale_by_adam", "eps", low=0.0)

    def init(params: Params) -> ScaleByAdamState:
        return ScaleByAdamState(_checks.zero_count(), _zeros_like(params), _zeros_like(params))

    def update(updates: Updates, state: ScaleByAdamState,
               params: Params | None = None) -> tuple[Updates, ScaleByAdamState]:
        _check_params("scale_by_adam.update", updates, params)
        _check_state("scale_by_adam.update", updates, state.mu)
        count = _checks.increment(state.count)
        mu = tree.map(lambda g, m: b1 * m + (1.0 - b1) * g, updates, state.mu)
        nu = tree.map(lambda g, v: b2 * v + (1.0 - b2) * fnp.square(g), updates, state.nu)
        correction1 = 1.0 - b1 ** count
        correction2 = 1.0 - b2 ** count
        updates = tree.map(
            lambda m, v: cast_like((m / correction1) / (fnp.sqrt(v / correction2) + eps), m),
            mu, nu)
        return updates, ScaleByAdamState(count, mu, nu)

    return GradientTransformation(init, update)


class ScaleByRmsState(NamedTuple):
    """The running average of the squared gradients."""

    nu: Any


def scale_by_rms(decay: float = 0.9, eps: float = 1e-8) -> GradientTransformation:
    """RMSProp's direction ``g / (sqrt(v) + eps)`` with ``v = decay v + (1 - decay) g**2``, ``v0 = 0``.

    Examples:
        >>> import numpy as np
        >>> opt = scale_by_rms(decay=0.75, eps=0.0)
        >>> opt.update(np.array([1.0, -4.0]), opt.init(np.zeros(2)))[0]
        array([ 2., -2.])
    """
    decay = _checks.real(decay, "scale_by_rms", "decay", low=0.0, high=1.0, high_open=True)
    eps = _checks.real(eps, "scale_by_rms", "eps", low=0.0)

    def init(params: Params) -> ScaleByRmsState:
        return ScaleByRmsState(_zeros_like(params))

    def update(updates: Updates, state: ScaleByRmsState,
               params: Params | None = None) -> tuple[Updates, ScaleByRmsState]:
        _check_params("scale_by_rms.update", updates, params)
        _check_state("scale_by_rms.update", updates, state.nu)
        nu = tree.map(lambda g, v: decay * v + (1.0 - decay) * fnp.square(g), updates, state.nu)
        updates = tree.map(lambda g, v: g / (fnp.sqrt(v) + eps), updates, nu)
        return updates, ScaleByRmsState(nu)

    return GradientTransformation(init, update)


def add_decayed_weights(weight_decay: float) -> GradientTransformation:
    """Add ``weight_decay * params`` to the updates (decoupled weight decay, as in AdamW).

    Needs ``params``: call ``update(grads, state, params)``.

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
        if params is None:
            raise ArgumentError("add_decayed_weights.update needs the parameters: call "
                                "update(grads, state, params)")
        same_structure("add_decayed_weights.update", updates, "grads", params, "params")
        updates = tree.map(lambda u, p: cast_like(u + weight_decay * p, u), updates, params)
        return updates, state

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
