"""Accumulation over steps: ``ema``, ``apply_every`` and ``MultiSteps`` (gradient accumulation).

All three are traceable: which step emits an update is decided with
``fnp.where`` on the step counters in the state, never with a Python ``if``,
so a jitted training step is traced once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad.errors import ArgumentError
from funcgrad.optim import _checks
from funcgrad.optim._checks import cast_like
from funcgrad.optim.base import GradientTransformation, Params, Updates

__all__ = ["ApplyEvery", "EmaState", "MultiSteps", "MultiStepsState", "apply_every", "ema",
           "skip_large_updates", "skip_not_finite"]


def _zeros(params: Params, dtype: Any) -> Params:
    if dtype is None:
        return _checks.zeros_like(params)
    return tree.map(lambda p: fnp.zeros(np.shape(p), dtype), params)


def _check_transformation(where: str, t: Any) -> None:
    if not (isinstance(t, tuple) and callable(getattr(t, "init", None))
            and callable(getattr(t, "update", None))):
        raise ArgumentError(f"{where}: expected a GradientTransformation (init, update), got "
                            f"{t!r:.80} ({type(t).__name__})")


class EmaState(NamedTuple):
    """The step count and the exponential moving average."""

    count: Any
    ema: Any


def ema(decay: float, debias: bool = True, accumulator_dtype: Any = None) -> GradientTransformation:
    """An exponential moving average of the updates: ``e = decay e + (1 - decay) u``.

    The output is ``e`` (divided by ``1 - decay**t`` with ``debias``).  Fed the
    parameters as "updates" it keeps an EMA of the parameters.  The average is
    kept in ``accumulator_dtype`` (default: each leaf's dtype).

    Examples:
        >>> import numpy as np
        >>> opt = ema(0.5, debias=False)
        >>> state = opt.init(np.zeros(1))
        >>> out, state = opt.update(np.array([4.0]), state)
        >>> out, state = opt.update(np.array([4.0]), state)
        >>> out
        array([3.])
    """
    decay = _checks.real(decay, "ema", "decay", low=0.0, high=1.0)
    debias = _checks.boolean(debias, "ema", "debias")
    dtype = None if accumulator_dtype is None else np.dtype(accumulator_dtype)

    def init(params: Params) -> EmaState:
        return EmaState(_checks.zero_count(), _zeros(params, dtype))

    def update(updates: Updates, state: EmaState,
               params: Params | None = None) -> tuple[Updates, EmaState]:
        _checks.check_update("ema.update", updates, params, state.ema)
        count = _checks.increment(state.count)
        new = tree.map(lambda u, e: decay * e + (1.0 - decay) * u, updates, state.ema)
        if debias:
            correction = 1.0 - decay ** count
            out = tree.map(lambda e, u: cast_like(e / correction, u), new, updates)
        else:
            out = tree.map(cast_like, new, updates)
        return out, EmaState(count, tree.map(cast_like, new, state.ema))

    return GradientTransformation(init, update)


class ApplyEvery(NamedTuple):
    """``apply_every``'s position in the cycle of ``k`` steps and the running sum."""

    count: Any
    grad_acc: Any


def apply_every(k: int = 1) -> GradientTransformation:
    """Sum the updates over ``k`` steps; emit the sum on every ``k``-th step and zeros otherwise.

    Examples:
        >>> import numpy as np
        >>> opt = apply_every(2)
        >>> state = opt.init(np.zeros(1))
        >>> u1, state = opt.update(np.array([1.0]), state)
        >>> u2, state = opt.update(np.array([3.0]), state)
        >>> u1, u2
        (array([0.]), array([4.]))
    """
    k = _checks.integer(k, "apply_every", "k", low=1)

    def init(params: Params) -> ApplyEvery:
        return ApplyEvery(_checks.zero_count(), _checks.zeros_like(params))

    def update(updates: Updates, state: ApplyEvery,
               params: Params | None = None) -> tuple[Updates, ApplyEvery]:
        _checks.check_update("apply_every.update", updates, params, state.grad_acc)
        position = state.count % k
        grad_acc = tree.map(lambda g, a: fnp.where(position != 0, a + g, g),
                            updates, state.grad_acc)
        emit = position == k - 1
        out = tree.map(lambda a, u: cast_like(fnp.where(emit, a, fnp.zeros_like(a)), u),
                       grad_acc, updates)
        return out, ApplyEvery(fnp.asarray((state.count + 1) % k), grad_acc)

    return GradientTransformation(init, update)


class MultiStepsState(NamedTuple):
    """``MultiSteps``' counters, the inner optimiser's state and the gradient accumulator.

    ``mini_step`` counts the micro-batches since the last emitted update,
    ``gradient_step`` the emitted updates; ``skip_state`` is what
    ``should_skip_update_fn`` returned last.
    """

    mini_step: Any
    gradient_step: Any
    inner_opt_state: Any
    acc_grads: Any
    skip_state: Any


SkipFn = Callable[[Updates, Any, Params | None], tuple[Any, Any]]


def skip_not_finite(updates: Updates, gradient_step: Any,
                    params: Params | None) -> tuple[Any, dict[str, Any]]:
    """For ``MultiSteps``: skip a micro-batch whose gradients have a NaN or an infinity.

    Examples:
        >>> import numpy as np
        >>> bool(skip_not_finite({"w": np.array([1.0, np.nan])}, 0, None)[0])
        True
    """
    count: Any = np.zeros((), np.int64)
    for leaf in tree.leaves(updates):
        count = count + fnp.sum(fnp.astype(fnp.logical_not(fnp.isfinite(leaf)), np.int64))
    should_skip = fnp.asarray(count > 0)
    return should_skip, {"should_skip": should_skip, "num_not_finite": fnp.asarray(count)}


def skip_large_updates(updates: Updates, gradient_step: Any, params: Params | None,
                       max_squared_norm: float) -> tuple[Any, dict[str, Any]]:
    """For ``MultiSteps`` (via ``functools.partial``): skip when ``|g|**2 >= max_squared_norm`` or NaN.

    Examples:
        >>> import numpy as np
        >>> bool(skip_large_updates(np.array([3.0, 4.0]), 0, None, max_squared_norm=20.0)[0])
        True
    """
    norm_sq: Any = np.zeros(())
    for leaf in tree.leaves(updates):
        norm_sq = norm_sq + fnp.sum(fnp.square(leaf))
    should_skip = fnp.logical_not(norm_sq < max_squared_norm)
    return should_skip, {"should_skip": should_skip, "norm_squared": norm_sq}


def _never_skip(updates: Updates, gradient_step: Any, params: Params | None) -> tuple[Any, Any]:
    return np.asarray(False), ()


def _select(condition: Any, if_true: Any, if_false: Any) -> Any:
    """``where(condition, a, b)`` leaf by leaf, each result in ``b``'s dtype."""
    return tree.map(lambda a, b: cast_like(fnp.where(condition, a, b), b), if_true, if_false)


class MultiSteps:
    """Gradient accumulation: average (or sum) ``k`` micro-batch gradients, then step ``opt``.

    ``update`` returns zeros for ``k - 1`` calls and the inner optimiser's
    update of the accumulated gradients on the ``k``-th; the inner state moves
    only then.  ``every_k_schedule`` is an int or a function of the number of
    emitted updates.  With ``should_skip_update_fn`` (e.g.
    :func:`skip_not_finite`) a rejected micro-batch leaves the state as it was.
    The accumulator has each parameter's dtype unless ``accumulator_dtype`` is
    given (optax's default is float32).  Use ``gradient_transformation()`` to
    get a :class:`GradientTransformation`.

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = MultiSteps(optim.sgd(1.0), every_k_schedule=2)
        >>> p = np.zeros(1)
        >>> state = opt.init(p)
        >>> u1, state = opt.update(np.array([1.0]), state, p)
        >>> u2, state = opt.update(np.array([3.0]), state, p)
        >>> u1, u2  # nothing, then -lr * mean(1, 3)
        (array([0.]), array([-2.]))
    """

    def __init__(self, opt: GradientTransformation, every_k_schedule: int | Callable[[Any], Any],
                 use_grad_mean: bool = True, should_skip_update_fn: SkipFn | None = None,
                 accumulator_dtype: Any = None):
        _check_transformation("MultiSteps", opt)
        if callable(every_k_schedule):
            self._every_k = every_k_schedule
        else:
            k = _checks.integer(every_k_schedule, "MultiSteps", "every_k_schedule", low=1)
            self._every_k = lambda step: k
        self._opt = opt
        self._mean = _checks.boolean(use_grad_mean, "MultiSteps", "use_grad_mean")
        self._skip = should_skip_update_fn or _never_skip
        self._acc_dtype = None if accumulator_dtype is None else np.dtype(accumulator_dtype)

    @property
    def inner_opt(self) -> GradientTransformation:
        """The wrapped optimiser."""
        return self._opt

    def init(self, params: Params) -> MultiStepsState:
        """The initial state: counters at 0, the inner state, a zero accumulator."""
        step = _checks.zero_count()
        _, skip_state = self._skip(_checks.zeros_like(params), step, params)
        return MultiStepsState(_checks.zero_count(), step, self._opt.init(params),
                               _zeros(params, self._acc_dtype), skip_state)

    def update(self, updates: Updates, state: MultiStepsState,
               params: Params | None = None) -> tuple[Updates, MultiStepsState]:
        """Accumulate ``updates``; every ``k``-th call, return the inner optimiser's step."""
        _checks.check_update("MultiSteps.update", updates, params, state.acc_grads)
        k = self._every_k(state.gradient_step)
        skip, skip_state = self._skip(updates, state.gradient_step, params)
        if tuple(np.shape(skip)) != () or _checks.dtype_of(skip) != np.bool_:
            raise ArgumentError(f"MultiSteps: should_skip_update_fn must return a boolean "
                                f"scalar first, got dtype {_checks.dtype_of(skip)} and shape "
                                f"{np.shape(skip)}")
        n = state.mini_step
        with _checks.quiet_when(skip):
            if self._mean:  # Welford's running mean
                acc = tree.map(lambda g, a: cast_like(a + (g - a) / (n + 1), a), updates,
                               state.acc_grads)
            else:
                acc = tree.map(lambda g, a: cast_like(a + g, a), updates, state.acc_grads)
            inner_updates, inner_state = self._opt.update(tree.map(cast_like, acc, updates),
                                                          state.inner_opt_state, params)
        emit = fnp.logical_and(n == k - 1, fnp.logical_not(skip))
        zeros = _checks.zeros_like(updates)
        new_state = MultiStepsState(
            mini_step=fnp.asarray(fnp.where(skip, n, (n + 1) % k)),
            gradient_step=fnp.asarray(fnp.where(emit, state.gradient_step + 1,
                                                state.gradient_step)),
            inner_opt_state=_select(emit, inner_state, state.inner_opt_state),
            acc_grads=_select(emit, _zeros(state.acc_grads, None),
                              _select(skip, state.acc_grads, acc)),
            skip_state=skip_state)
        return _select(emit, inner_updates, zeros), new_state

    def has_updated(self, state: MultiStepsState) -> Any:
        """Whether the last ``update`` emitted the inner optimiser's step."""
        return fnp.logical_and(state.mini_step == 0, state.gradient_step > 0)

    def gradient_transformation(self) -> GradientTransformation:
        """This accumulator as a :class:`GradientTransformation` (for ``chain`` and friends)."""
        return GradientTransformation(self.init, self.update)

