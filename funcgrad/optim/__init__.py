"""``funcgrad.optim``: optimisers as pure gradient transformations (in the style of optax).

An optimiser is a :class:`GradientTransformation`, a pair of pure functions:
``state = opt.init(params)`` and ``updates, state = opt.update(grads, state, params)``;
``apply_updates(params, updates)`` takes the step.  States are pytrees of
arrays, so a whole step can be compiled with ``funcgrad.jit``.

Examples:
    >>> import numpy as np
    >>> import funcgrad as fg
    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import optim
    >>> loss = lambda p: fnp.sum((p["w"] - 3.0) ** 2)
    >>> params = {"w": np.zeros(2)}
    >>> opt = optim.adam(0.1)
    >>> state = opt.init(params)
    >>> for _ in range(300):
    ...     updates, state = opt.update(fg.grad(loss)(params), state, params)
    ...     params = optim.apply_updates(params, updates)
    >>> np.round(params["w"], 3)
    array([3., 3.])
"""

from funcgrad.optim.base import (
    EmptyState,
    GradientTransformation,
    OptState,
    Params,
    Schedule,
    Updates,
    apply_updates,
    chain,
    identity,
)
from funcgrad.optim.optimizers import adam, adamw, rmsprop, sgd
from funcgrad.optim.schedules import (
    constant_schedule,
    cosine_decay_schedule,
    exponential_decay,
    join_schedules,
    linear_schedule,
    warmup_cosine_decay_schedule,
)
from funcgrad.optim.transform import (
    ScaleByAdamState,
    ScaleByRmsState,
    ScaleByScheduleState,
    TraceState,
    add_decayed_weights,
    clip_by_global_norm,
    global_norm,
    scale,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_rms,
    scale_by_schedule,
    trace,
)

__all__ = [
    "EmptyState", "GradientTransformation", "OptState", "Params", "ScaleByAdamState",
    "ScaleByRmsState", "ScaleByScheduleState", "Schedule", "TraceState", "Updates", "adam",
    "adamw", "add_decayed_weights", "apply_updates", "chain", "clip_by_global_norm",
    "constant_schedule", "cosine_decay_schedule", "exponential_decay", "global_norm",
    "identity", "join_schedules", "linear_schedule", "rmsprop", "scale", "scale_by_adam",
    "scale_by_learning_rate", "scale_by_rms", "scale_by_schedule", "sgd", "trace",
    "warmup_cosine_decay_schedule",
]
