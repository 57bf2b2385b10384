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

from funcgrad.optim._accumulation import (
    ApplyEvery,
    EmaState,
    MultiSteps,
    MultiStepsState,
    apply_every,
    ema,
    skip_large_updates,
    skip_not_finite,
)
from funcgrad.optim._aliases import (
    adadelta,
    adafactor,
    adagrad,
    adamax,
    lamb,
    lars,
    lion,
    nadam,
    radam,
)
from funcgrad.optim._factored import FactoredState, scale_by_factored_rms
from funcgrad.optim._masking import (
    MaskedNode,
    MaskedState,
    MultiTransformState,
    masked,
    multi_transform,
    partition,
)
from funcgrad.optim._scaling import (
    ScaleByAdaDeltaState,
    ScaleByLionState,
    ScaleByRssState,
    clip,
    clip_by_block_rms,
    scale_by_adadelta,
    scale_by_adamax,
    scale_by_lion,
    scale_by_param_block_rms,
    scale_by_radam,
    scale_by_rss,
    scale_by_trust_ratio,
)
from funcgrad.optim._wrappers import (
    ApplyIfFiniteState,
    InjectHyperparamsState,
    ZeroNansState,
    apply_if_finite,
    inject_hyperparams,
    zero_nans,
)
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
    cosine_onecycle_schedule,
    exponential_decay,
    join_schedules,
    linear_schedule,
    piecewise_constant_schedule,
    piecewise_interpolate_schedule,
    polynomial_schedule,
    sgdr_schedule,
    warmup_cosine_decay_schedule,
)
from funcgrad.optim.transform import (
    ScaleByAdamState,
    ScaleByRmsState,
    ScaleByRStdDevState,
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
    scale_by_stddev,
    trace,
)

__all__ = [
    "ApplyEvery",
    "ApplyIfFiniteState",
    "EmaState",
    "EmptyState",
    "FactoredState",
    "GradientTransformation",
    "InjectHyperparamsState",
    "MaskedNode",
    "MaskedState",
    "MultiSteps",
    "MultiStepsState",
    "MultiTransformState",
    "OptState",
    "Params",
    "ScaleByAdaDeltaState",
    "ScaleByAdamState",
    "ScaleByLionState",
    "ScaleByRStdDevState",
    "ScaleByRmsState",
    "ScaleByRssState",
    "ScaleByScheduleState",
    "Schedule",
    "TraceState",
    "Updates",
    "ZeroNansState",
    "adadelta",
    "adafactor",
    "adagrad",
    "adam",
    "adamax",
    "adamw",
    "add_decayed_weights",
    "apply_every",
    "apply_if_finite",
    "apply_updates",
    "chain",
    "clip",
    "clip_by_block_rms",
    "clip_by_global_norm",
    "constant_schedule",
    "cosine_decay_schedule",
    "cosine_onecycle_schedule",
    "ema",
    "exponential_decay",
    "global_norm",
    "identity",
    "inject_hyperparams",
    "join_schedules",
    "lamb",
    "lars",
    "linear_schedule",
    "lion",
    "masked",
    "multi_transform",
    "nadam",
    "partition",
    "piecewise_constant_schedule",
    "piecewise_interpolate_schedule",
    "polynomial_schedule",
    "radam",
    "rmsprop",
    "scale",
    "scale_by_adadelta",
    "scale_by_adam",
    "scale_by_adamax",
    "scale_by_factored_rms",
    "scale_by_learning_rate",
    "scale_by_lion",
    "scale_by_param_block_rms",
    "scale_by_radam",
    "scale_by_rms",
    "scale_by_rss",
    "scale_by_schedule",
    "scale_by_stddev",
    "scale_by_trust_ratio",
    "sgd",
    "sgdr_schedule",
    "skip_large_updates",
    "skip_not_finite",
    "trace",
    "warmup_cosine_decay_schedule",
    "zero_nans",
]
