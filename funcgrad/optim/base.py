"""The gradient-transformation interface, ``chain`` and ``apply_updates``.

An optimiser is a :class:`GradientTransformation`: a pair of pure functions.
``init(params)`` builds the optimiser state (a pytree of arrays) and
``update(grads, state, params=None)`` returns ``(updates, new_state)``.  Nothing
is modified in place, so a whole training step can go through ``funcgrad.jit``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad.errors import ArgumentError
from funcgrad.optim._checks import cast_like, check_update, same_shapes, same_structure

__all__ = ["EmptyState", "GradientTransformation", "OptState", "Params", "Schedule", "Updates",
           "apply_updates", "chain", "identity"]

Params = Any   #: a pytree of arrays: the parameters being optimised
Updates = Any  #: a pytree like the params: gradients in, updates out
OptState = Any  #: a pytree of arrays: an optimiser's state
Schedule = Callable[[Any], Any]  #: a function of the step count (an int64 array or a tracer)


class TransformInitFn(Protocol):
    def __call__(self, params: Params) -> OptState: ...


class TransformUpdateFn(Protocol):
    def __call__(self, updates: Updates, state: OptState,
                 params: Params | None = None) -> tuple[Updates, OptState]: ...


class GradientTransformation(NamedTuple):
    """An optimiser as two pure functions: ``init(params)`` and ``update(grads, state, params)``.

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = optim.sgd(0.1)
        >>> params = {"w": np.array([1.0, 2.0])}
        >>> state = opt.init(params)
        >>> updates, state = opt.update({"w": np.array([1.0, -1.0])}, state, params)
        >>> optim.apply_updates(params, updates)
        {'w': array([0.9, 2.1])}
    """

    init: TransformInitFn
    update: TransformUpdateFn


class EmptyState(NamedTuple):
    """The state of a stateless transformation: a pytree with no leaves."""


def _is_transformation(t: Any) -> bool:
    return (isinstance(t, tuple) and len(t) == 2 and callable(getattr(t, "init", None))
            and callable(getattr(t, "update", None)))


def identity() -> GradientTransformation:
    """A transformation that passes the updates through unchanged.

    Examples:
        >>> identity().update({"w": 1.0}, EmptyState())
        ({'w': 1.0}, EmptyState())
    """
    def init(params: Params) -> EmptyState:
        return EmptyState()

    def update(updates: Updates, state: OptState,
               params: Params | None = None) -> tuple[Updates, EmptyState]:
        return updates, state

    return GradientTransformation(init, update)


def _named_chain(name: str, *transforms: GradientTransformation) -> GradientTransformation:
    """``chain`` whose update checks ``grads`` against ``params`` and ``state`` under ``name``."""
    for i, t in enumerate(transforms):
        if not _is_transformation(t):
            raise ArgumentError(f"{name}: argument {i} must be a GradientTransformation "
                                f"(init, update), got {t!r:.80} ({type(t).__name__})")
    transforms = tuple(transforms)

    def init(params: Params) -> tuple[OptState, ...]:
        return tuple(t.init(params) for t in transforms)

    def update(updates: Updates, state: OptState,
               params: Params | None = None) -> tuple[Updates, tuple[OptState, ...]]:
        if not (isinstance(state, tuple) and len(state) == len(transforms)):
            raise ArgumentError(
                f"{name}.update: expected the state made by this optimiser's init (a tuple of "
                f"{len(transforms)} states), got {type(state).__name__} with structure "
                f"{tree.structure(state)!r}")
        check_update(f"{name}.update", updates, params)
        new_state = []
        for t, s in zip(transforms, state):
            updates, s = t.update(updates, s, params)
            new_state.append(s)
        return updates, tuple(new_state)

    return GradientTransformation(init, update)


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply ``transforms`` one after another; the state is the tuple of their states.

    The first transformation sees the gradients, each next one the previous
    one's output.

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = chain(optim.clip_by_global_norm(1.0), optim.scale(-0.5))
        >>> updates, _ = opt.update(np.array([3.0, 4.0]), opt.init(np.zeros(2)))
        >>> updates
        array([-0.3, -0.4])
    """
    return _named_chain("chain", *transforms)


def apply_updates(params: Params, updates: Updates) -> Params:
    """``params + updates`` leaf by leaf; each result keeps its parameter's dtype.

    Examples:
        >>> import numpy as np
        >>> apply_updates({"w": np.ones(2, np.float32)}, {"w": np.array([0.5, -0.5])})
        {'w': array([1.5, 0.5], dtype=float32)}
    """
    same_structure("apply_updates", params, "params", updates, "updates")
    same_shapes("apply_updates", params, "params", updates, "updates")
    return tree.map(lambda p, u: cast_like(fnp.add(p, u), p), params, updates)
