"""Wrappers around an optimiser: ``apply_if_finite``, ``zero_nans`` and ``inject_hyperparams``.

``apply_if_finite`` and ``zero_nans`` guard training against NaN/inf
gradients without Python branches on values (``fnp.where``), so they stay
traceable.  ``inject_hyperparams`` moves an optimiser's numeric
hyperparameters into its state, where they can be read and changed between
steps (also under ``jit``, without a retrace).
"""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np

import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad.errors import ArgumentError
from funcgrad.optim import _checks
from funcgrad.optim._checks import cast_like
from funcgrad.optim.base import GradientTransformation, Params, Updates

__all__ = ["ApplyIfFiniteState", "InjectHyperparamsState", "ZeroNansState", "apply_if_finite",
           "inject_hyperparams", "zero_nans"]


def _all_finite(updates: Updates) -> Any:
    finite: Any = np.asarray(True)
    for leaf in tree.leaves(updates):
        finite = fnp.logical_and(finite, fnp.all(fnp.isfinite(leaf)))
    return fnp.asarray(finite)


class ApplyIfFiniteState(NamedTuple):
    """Consecutive and total non-finite steps, whether the last one was finite, the inner state."""

    notfinite_count: Any
    last_finite: Any
    total_notfinite: Any
    inner_state: Any


def apply_if_finite(inner: GradientTransformation,
                    max_consecutive_errors: int) -> GradientTransformation:
    """Skip steps whose gradients have a NaN or an infinity: zero updates, inner state kept.

    The skipped steps are counted (``notfinite_count`` consecutive ones,
    ``total_notfinite`` in all).  After more than ``max_consecutive_errors``
    in a row the update goes through anyway, as in optax, so that a run that
    only produces NaNs shows them instead of silently standing still.

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = apply_if_finite(optim.sgd(1.0), max_consecutive_errors=3)
        >>> p = np.zeros(2)
        >>> u, state = opt.update(np.array([1.0, np.nan]), opt.init(p), p)
        >>> u, int(state.total_notfinite)
        (array([0., 0.]), 1)
    """
    if not (isinstance(inner, tuple) and callable(getattr(inner, "update", None))):
        raise ArgumentError(f"apply_if_finite: inner must be a GradientTransformation, got "
                            f"{inner!r:.80} ({type(inner).__name__})")
    limit = _checks.integer(max_consecutive_errors, "apply_if_finite", "max_consecutive_errors")

    def init(params: Params) -> ApplyIfFiniteState:
        return ApplyIfFiniteState(_checks.zero_count(), np.asarray(True), _checks.zero_count(),
                                  inner.init(params))

    def update(updates: Updates, state: ApplyIfFiniteState,
               params: Params | None = None) -> tuple[Updates, ApplyIfFiniteState]:
        finite = _all_finite(updates)
        notfinite_count = fnp.asarray(fnp.where(finite, 0, state.notfinite_count + 1))
        apply = fnp.logical_or(finite, notfinite_count > limit)
        with _checks.quiet_when(fnp.logical_not(apply)):
            new_updates, new_inner = inner.update(updates, state.inner_state, params)
        select = lambda a, b: cast_like(fnp.where(apply, a, b), b)
        return (tree.map(lambda u: select(u, fnp.zeros_like(u)), new_updates),
                ApplyIfFiniteState(
                    notfinite_count, finite,
                    fnp.asarray(fnp.where(finite, state.total_notfinite,
                                          state.total_notfinite + 1)),
                    tree.map(select, new_inner, state.inner_state)))

    return GradientTransformation(init, update)


class ZeroNansState(NamedTuple):
    """Whether the last updates had a NaN, leaf by leaf (a tree of booleans like the params)."""

    found_nan: Any


def zero_nans() -> GradientTransformation:
    """Replace NaNs in the updates by zeros, and record per leaf whether there were any.

    Examples:
        >>> import numpy as np
        >>> opt = zero_nans()
        >>> u, state = opt.update({"w": np.array([1.0, np.nan])}, opt.init({"w": np.zeros(2)}))
        >>> u, state.found_nan
        ({'w': array([1., 0.])}, {'w': array(True)})
    """
    def init(params: Params) -> ZeroNansState:
        return ZeroNansState(tree.map(lambda p: np.asarray(False), params))

    def update(updates: Updates, state: ZeroNansState,
               params: Params | None = None) -> tuple[Updates, ZeroNansState]:
        found = tree.map(lambda u: fnp.asarray(fnp.any(fnp.isnan(u))), updates)
        updates = tree.map(lambda u: fnp.where(fnp.isnan(u), fnp.zeros_like(u), u), updates)
        return updates, ZeroNansState(found)

    return GradientTransformation(init, update)


class InjectHyperparamsState(NamedTuple):
    """The step count, the current hyperparameters (0-d arrays, by name), the inner state."""

    count: Any
    hyperparams: dict
    inner_state: Any


def _highest_float(params: Params) -> np.dtype:
    dtypes = [_checks.dtype_of(p) for p in tree.leaves(params)]
    floats = [d for d in dtypes if np.issubdtype(d, np.floating)]
    return np.result_type(*floats) if floats else np.dtype(np.float64)


def _as_hyperparam(value: Any, dtype: np.dtype) -> Any:
    """A numeric hyperparameter as a 0-d array: floats in ``dtype``, ints as int64."""
    if _checks.dtype_of(value).kind == "f" or isinstance(value, float):
        return fnp.asarray(fnp.astype(fnp.asarray(value), dtype))
    return fnp.asarray(value)


def inject_hyperparams(inner_factory: Callable[..., GradientTransformation],
                       static_args: str | Iterable[str] = (),
                       hyperparam_dtype: Any = None) -> Callable[..., GradientTransformation]:
    """Wrap an optimiser factory so that its numeric hyperparameters live in the state.

    ``inject_hyperparams(optim.adam)(learning_rate=0.1)`` behaves like
    ``optim.adam(0.1)``, but its state is an :class:`InjectHyperparamsState`
    whose ``hyperparams["learning_rate"]`` is a 0-d array: read it to log it,
    replace it (``state.hyperparams["learning_rate"] = 0.01``, or build a new
    state with ``_replace``) to change it between steps; a jitted step is not
    retraced.  A schedule argument is evaluated at the step count each step
    and its value stored.  Bools, ``None`` and the names in ``static_args``
    stay fixed.  Float hyperparameters are stored in ``hyperparam_dtype``
    (default: the widest float dtype of the params).  The optimiser is rebuilt
    from the stored values in every ``update``.

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = inject_hyperparams(optim.sgd)(learning_rate=0.1)
        >>> p = np.zeros(1)
        >>> state = opt.init(p)
        >>> state.hyperparams["learning_rate"] = np.array(0.5)
        >>> opt.update(np.array([1.0]), state, p)[0]
        array([-0.5])
    """
    if not callable(inner_factory):
        raise ArgumentError(f"inject_hyperparams: inner_factory must be a function returning a "
                            f"GradientTransformation, got {inner_factory!r:.80}")
    static = {static_args} if isinstance(static_args, str) else set(static_args)
    signature = inspect.signature(inner_factory)
    unknown = static - set(signature.parameters)
    if unknown:
        raise ArgumentError(f"inject_hyperparams: static_args {sorted(unknown)} are not "
                            f"parameters of {getattr(inner_factory, '__name__', inner_factory)}; "
                            f"it has {list(signature.parameters)}")
    fixed_dtype = None if hyperparam_dtype is None else np.dtype(hyperparam_dtype)

    @functools.wraps(inner_factory)
    def wrapped(*args: Any, **kwargs: Any) -> GradientTransformation:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as e:
            raise ArgumentError(f"inject_hyperparams: {e}") from None
        bound.apply_defaults()
        numeric, schedules, other = {}, {}, {}
        for name, value in bound.arguments.items():
            if name in static or isinstance(value, (bool, np.bool_)) or value is None:
                other[name] = value
            elif callable(value):
                schedules[name] = value
            elif isinstance(value, numbers.Number) or (isinstance(value, np.ndarray)
                                                       and value.ndim == 0):
                numeric[name] = value
            else:
                other[name] = value
        inner_factory(**other, **numeric, **{k: f(0) for k, f in schedules.items()})  # checks

        def current(hyperparams: dict, count: Any, params: Params) -> dict:
            dtype = fixed_dtype or _highest_float(params)
            values = {k: _as_hyperparam(v, dtype) for k, v in hyperparams.items()
                      if k not in schedules}
            values.update({k: _as_hyperparam(f(count), dtype) for k, f in schedules.items()})
            return values

        def init(params: Params) -> InjectHyperparamsState:
            count = _checks.zero_count()
            hyperparams = current(numeric, count, params)
            return InjectHyperparamsState(count, hyperparams,
                                          inner_factory(**other, **hyperparams).init(params))

        def update(updates: Updates, state: InjectHyperparamsState,
                   params: Params | None = None) -> tuple[Updates, InjectHyperparamsState]:
            if set(state.hyperparams) != set(numeric) | set(schedules):
                raise ArgumentError(f"inject_hyperparams: the state's hyperparams must have "
                                    f"the keys {sorted(set(numeric) | set(schedules))}, got "
                                    f"{sorted(state.hyperparams)}")
            hyperparams = current(state.hyperparams, state.count,
                                  updates if params is None else params)
            updates, inner_state = inner_factory(**other, **hyperparams).update(
                updates, state.inner_state, params)
            return updates, InjectHyperparamsState(_checks.increment(state.count), hyperparams,
                                                   inner_state)

        return GradientTransformation(init, update)

    return wrapped
