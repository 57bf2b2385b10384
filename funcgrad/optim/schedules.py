"""Learning-rate schedules: functions of the step count ``count = 0, 1, 2, ...``.

A schedule is any callable ``schedule(count) -> value``.  The optimisers call
it with the int64 step count from their state, which is a tracer under
``funcgrad.jit``; so the schedules here use ``funcgrad.numpy`` and
``fnp.where``/``fnp.minimum`` instead of ``if``, and each can be called with a
Python int too.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import funcgrad.numpy as fnp
from funcgrad.errors import ArgumentError
from funcgrad.optim import _checks
from funcgrad.optim.base import Schedule

__all__ = ["Schedule", "constant_schedule", "cosine_decay_schedule", "cosine_onecycle_schedule",
           "exponential_decay", "join_schedules", "linear_schedule",
           "piecewise_constant_schedule", "piecewise_interpolate_schedule",
           "polynomial_schedule", "sgdr_schedule", "warmup_cosine_decay_schedule"]

def constant_schedule(value: float) -> Schedule:
    """The same value at every step.

    Examples:
        >>> constant_schedule(0.1)(1000)
        0.1
    """
    value = _checks.real(value, "constant_schedule", "value")

    def schedule(count: Any) -> float:
        return value

    return schedule


def exponential_decay(init_value: float, transition_steps: int, decay_rate: float,
                      transition_begin: int = 0, staircase: bool = False,
                      end_value: float | None = None) -> Schedule:
    """``init_value * decay_rate ** ((count - transition_begin) / transition_steps)``.

    The value stays ``init_value`` until ``transition_begin``.  ``staircase``
    floors the exponent (decay in steps); ``end_value`` bounds the value (a
    floor when decaying, a ceiling when ``decay_rate > 1``).

    Examples:
        >>> schedule = exponential_decay(1.0, transition_steps=10, decay_rate=0.5)
        >>> float(schedule(0)), float(schedule(10)), float(schedule(20))
        (1.0, 0.5, 0.25)
    """
    where = "exponential_decay"
    init_value = _checks.real(init_value, where, "init_value")
    transition_steps = _checks.integer(transition_steps, where, "transition_steps", low=1)
    decay_rate = _checks.real(decay_rate, where, "decay_rate", low=0.0)
    transition_begin = _checks.integer(transition_begin, where, "transition_begin")
    if not isinstance(staircase, bool):
        raise ArgumentError(f"{where}: staircase must be a bool, got {staircase!r}")
    if end_value is not None:
        end_value = _checks.real(end_value, where, "end_value")

    def schedule(count: Any) -> Any:
        # Steps before transition_begin count as 0, so the exponent is never negative.
        exponent = fnp.maximum(count - transition_begin, 0) / transition_steps
        if staircase:
            exponent = fnp.floor(exponent)
        value = init_value * decay_rate ** exponent
        if end_value is None:
            return value
        return fnp.maximum(value, end_value) if decay_rate < 1.0 else fnp.minimum(value, end_value)

    return schedule


def linear_schedule(init_value: float, end_value: float, transition_steps: int,
                    transition_begin: int = 0) -> Schedule:
    """From ``init_value`` to ``end_value`` in a straight line over ``transition_steps`` steps.

    Constant before ``transition_begin`` and after the transition; exactly
    ``end_value`` at its end.

    Examples:
        >>> schedule = linear_schedule(0.0, 1.0, transition_steps=4)
        >>> [float(schedule(n)) for n in range(6)]
        [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """
    return _polynomial("linear_schedule", init_value, end_value, None, transition_steps,
                       transition_begin)


def cosine_decay_schedule(init_value: float, decay_steps: int, alpha: float = 0.0) -> Schedule:
    """Half a cosine from ``init_value`` down to ``alpha * init_value`` over ``decay_steps``.

    ``init_value * ((1 - alpha) * (1 + cos(pi * min(count, decay_steps) / decay_steps)) / 2 + alpha)``.

    Examples:
        >>> schedule = cosine_decay_schedule(1.0, decay_steps=4)
        >>> [round(float(schedule(n)), 6) for n in range(6)]
        [1.0, 0.853553, 0.5, 0.146447, 0.0, 0.0]
    """
    where = "cosine_decay_schedule"
    init_value = _checks.real(init_value, where, "init_value")
    decay_steps = _checks.integer(decay_steps, where, "decay_steps", low=1)
    alpha = _checks.real(alpha, where, "alpha")

    def schedule(count: Any) -> Any:
        progress = fnp.minimum(count, decay_steps) / decay_steps
        cosine = 0.5 * (1.0 + fnp.cos(math.pi * progress))
        return init_value * ((1.0 - alpha) * cosine + alpha)

    return schedule


def join_schedules(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """Run ``schedules[i]`` from ``boundaries[i - 1]`` on, each starting again from count 0.

    ``len(boundaries)`` must be ``len(schedules) - 1``, increasing.

    Examples:
        >>> schedule = join_schedules([constant_schedule(1.0), linear_schedule(1.0, 0.0, 2)], [3])
        >>> [float(schedule(n)) for n in range(6)]
        [1.0, 1.0, 1.0, 1.0, 0.5, 0.0]
    """
    schedules, boundaries = list(schedules), list(boundaries)
    if not schedules or not all(callable(s) for s in schedules):
        raise ArgumentError(f"join_schedules: schedules must be a non-empty sequence of "
                            f"callables, got {schedules!r}")
    if len(boundaries) != len(schedules) - 1:
        raise ArgumentError(f"join_schedules: {len(schedules)} schedules need "
                            f"{len(schedules) - 1} boundaries, got {boundaries!r}")
    boundaries = [_checks.integer(b, "join_schedules", "boundary") for b in boundaries]
    if any(b >= c for b, c in itertools.pairwise(boundaries)):
        raise ArgumentError(f"join_schedules: boundaries must increase, got {boundaries!r}")
    starts = [0] + boundaries

    def schedule(count: Any) -> Any:
        # Every piece is evaluated (no branching on a traced count); an inactive
        # later piece sees count 0, never a negative count.
        value = schedules[-1](fnp.maximum(count - starts[-1], 0))
        for piece, start, end in reversed(list(zip(schedules, starts, boundaries))):
            value = fnp.where(count < end, piece(fnp.maximum(count - start, 0)), value)
        return value

    return schedule


def warmup_cosine_decay_schedule(init_value: float, peak_value: float, warmup_steps: int,
                                 decay_steps: int, end_value: float = 0.0,
                                 exponent: float = 1.0) -> Schedule:
    """Linear warm-up from ``init_value`` to ``peak_value``, then cosine decay to ``end_value``.

    ``decay_steps`` counts the whole schedule, warm-up included (as in optax).
    The decay is ``end + (peak - end) * ((1 + cos(pi * progress)) / 2) ** exponent``.

    Examples:
        >>> schedule = warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=2, decay_steps=6)
        >>> [round(float(schedule(n)), 6) for n in range(8)]
        [0.0, 0.5, 1.0, 0.853553, 0.5, 0.146447, 0.0, 0.0]
    """
    where = "warmup_cosine_decay_schedule"
    init_value = _checks.real(init_value, where, "init_value")
    peak_value = _checks.real(peak_value, where, "peak_value")
    end_value = _checks.real(end_value, where, "end_value")
    exponent = _checks.real(exponent, where, "exponent")
    warmup_steps = _checks.integer(warmup_steps, where, "warmup_steps")
    decay_steps = _checks.integer(decay_steps, where, "decay_steps", low=1)
    if decay_steps <= warmup_steps:
        raise ArgumentError(f"{where}: decay_steps ({decay_steps}) must be larger than "
                            f"warmup_steps ({warmup_steps}); it counts the warm-up too")
    cosine_steps = decay_steps - warmup_steps

    def cosine(count: Any) -> Any:
        progress = fnp.minimum(count, cosine_steps) / cosine_steps
        cosine = 0.5 * (1.0 + fnp.cos(math.pi * progress))
        return end_value + (peak_value - end_value) * (cosine if exponent == 1.0
                                                       else cosine ** exponent)

    if warmup_steps == 0:
        return cosine
    return join_schedules([linear_schedule(init_value, peak_value, warmup_steps), cosine],
                          [warmup_steps])


def polynomial_schedule(init_value: float, end_value: float, power: float, transition_steps: int,
                        transition_begin: int = 0) -> Schedule:
    """From ``init_value`` to ``end_value`` along ``(1 - done / transition_steps) ** power``.

    ``(init - end) * (1 - clip(n - begin, 0, steps) / steps) ** power + end``;
    ``power=1`` is :func:`linear_schedule`.

    Examples:
        >>> schedule = polynomial_schedule(1.0, 0.0, power=2, transition_steps=4)
        >>> [float(schedule(n)) for n in range(6)]
        [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """
    return _polynomial("polynomial_schedule", init_value, end_value, power, transition_steps,
                       transition_begin)


def _polynomial(where: str, init_value: float, end_value: float, power: float | None,
                transition_steps: int, transition_begin: int) -> Schedule:
    """linear_schedule (``power=None``: no power taken) and polynomial_schedule."""
    init_value = _checks.real(init_value, where, "init_value")
    end_value = _checks.real(end_value, where, "end_value")
    if power is not None:
        power = _checks.real(power, where, "power")
    transition_steps = _checks.integer(transition_steps, where, "transition_steps", low=1)
    transition_begin = _checks.integer(transition_begin, where, "transition_begin")

    def schedule(count: Any) -> Any:
        done = fnp.clip(count - transition_begin, 0, transition_steps)
        frac = 1.0 - done / transition_steps
        return (init_value - end_value) * (frac if power is None else frac ** power) + end_value

    return schedule


def _boundaries_and_scales(where: str, value: dict[int, float] | None) -> list[tuple[int, float]]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise ArgumentError(f"{where}: boundaries_and_scales must be a dict from step to scale "
                            f"factor, got {value!r} ({type(value).__name__})")
    pairs = [(_checks.integer(b, where, "boundary"), _checks.real(s, where, "scale", low=0.0))
             for b, s in value.items()]
    return sorted(pairs)


def piecewise_constant_schedule(init_value: float,
                                boundaries_and_scales: dict[int, float] | None = None) -> Schedule:
    """``init_value``, multiplied by ``scale`` from each step ``boundary`` on.

    Examples:
        >>> schedule = piecewise_constant_schedule(1.0, {2: 0.5, 4: 0.1})
        >>> [float(schedule(n)) for n in range(6)]
        [1.0, 1.0, 0.5, 0.5, 0.05, 0.05]
    """
    where = "piecewise_constant_schedule"
    init_value = _checks.real(init_value, where, "init_value")
    pairs = _boundaries_and_scales(where, boundaries_and_scales)

    def schedule(count: Any) -> Any:
        value: Any = init_value
        for boundary, factor in pairs:
            value = fnp.where(count >= boundary, value * factor, value)
        return value

    return schedule


def piecewise_interpolate_schedule(interpolate_type: str, init_value: float,
                                   boundaries_and_scales: dict[int, float] | None = None
                                   ) -> Schedule:
    """Interpolate (``"linear"`` or ``"cosine"``) between ``init_value * scale_1 * ... * scale_i``.

    The value at ``boundaries[i]`` is ``init_value`` times the first ``i``
    scales; between boundaries it is interpolated; after the last it is
    constant.

    Examples:
        >>> schedule = piecewise_interpolate_schedule("linear", 1.0, {4: 0.5})
        >>> [float(schedule(n)) for n in range(6)]
        [1.0, 0.875, 0.75, 0.625, 0.5, 0.5]
    """
    where = "piecewise_interpolate_schedule"
    if interpolate_type == "linear":
        def interpolate(start: float, end: float, pct: Any) -> Any:
            return (end - start) * pct + start
    elif interpolate_type == "cosine":
        def interpolate(start: float, end: float, pct: Any) -> Any:
            return end + (start - end) / 2.0 * (fnp.cos(math.pi * pct) + 1.0)
    else:
        raise ArgumentError(f"{where}: interpolate_type must be 'linear' or 'cosine', got "
                            f"{interpolate_type!r}")
    init_value = _checks.real(init_value, where, "init_value")
    pairs = _boundaries_and_scales(where, boundaries_and_scales)
    bounds = [0] + [b for b, _ in pairs]
    values = [init_value]
    for _, factor in pairs:
        values.append(values[-1] * factor)

    def schedule(count: Any) -> Any:
        value: Any = values[-1]
        for i in reversed(range(len(pairs))):
            start, end = bounds[i], bounds[i + 1]
            pct = (count - start) / max(end - start, 1)
            value = fnp.where(count < end, interpolate(values[i], values[i + 1], pct), value)
        return value

    return schedule


def cosine_onecycle_schedule(transition_steps: int, peak_value: float, pct_start: float = 0.3,
                             div_factor: float = 25.0, final_div_factor: float = 1e4) -> Schedule:
    """The one-cycle policy (Smith): cosine up to ``peak_value``, then cosine down.

    It starts at ``peak_value / div_factor``, peaks at step
    ``int(pct_start * transition_steps)`` and ends at
    ``peak_value / (div_factor * final_div_factor)`` at ``transition_steps``.

    Examples:
        >>> schedule = cosine_onecycle_schedule(10, 1.0, pct_start=0.2, div_factor=10.0,
        ...                                     final_div_factor=10.0)
        >>> [round(float(schedule(n)), 4) for n in (0, 1, 2, 6, 10, 11)]
        [0.1, 0.55, 1.0, 0.505, 0.01, 0.01]
    """
    where = "cosine_onecycle_schedule"
    transition_steps = _checks.integer(transition_steps, where, "transition_steps", low=1)
    peak_value = _checks.real(peak_value, where, "peak_value")
    pct_start = _checks.real(pct_start, where, "pct_start", low=0.0, high=1.0)
    div_factor = _checks.real(div_factor, where, "div_factor", low=0.0, low_open=True)
    final_div_factor = _checks.real(final_div_factor, where, "final_div_factor", low=0.0,
                                    low_open=True)
    return piecewise_interpolate_schedule(
        "cosine", peak_value / div_factor,
        {int(pct_start * transition_steps): div_factor,
         transition_steps: 1.0 / (div_factor * final_div_factor)})


def sgdr_schedule(cosine_kwargs: Sequence[dict[str, Any]]) -> Schedule:
    """Warm restarts (Loshchilov & Hutter): warm-up-cosine cycles one after another.

    Each dict holds the arguments of :func:`warmup_cosine_decay_schedule`; a
    cycle lasts its ``decay_steps``.

    Examples:
        >>> cycle = dict(init_value=0.0, peak_value=1.0, warmup_steps=1, decay_steps=3)
        >>> schedule = sgdr_schedule([cycle, cycle])
        >>> [round(float(schedule(n)), 4) for n in range(7)]
        [0.0, 1.0, 0.5, 0.0, 1.0, 0.5, 0.0]
    """
    cosine_kwargs = list(cosine_kwargs)
    if not cosine_kwargs or not all(isinstance(k, dict) for k in cosine_kwargs):
        raise ArgumentError(f"sgdr_schedule: cosine_kwargs must be a non-empty sequence of "
                            f"dicts (arguments of warmup_cosine_decay_schedule), got "
                            f"{cosine_kwargs!r:.100}")
    schedules, boundaries, step = [], [], 0
    for kwargs in cosine_kwargs:
        schedules.append(warmup_cosine_decay_schedule(**kwargs))
        step += kwargs["decay_steps"]
        boundaries.append(step)
    return join_schedules(schedules, boundaries[:-1])
