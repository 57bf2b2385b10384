"""Adafactor's factored second moments: ``scale_by_factored_rms`` (optax's numerics).

For a leaf with two dimensions of at least ``min_dim_size_to_factor``, the
running average of ``g**2 + eps`` is kept as a row average ``r`` (over the
larger of the two largest axes) and a column average ``c`` (over the other),
O(n + m) memory instead of O(nm); the second moment is estimated as
``r c / mean(r)``.  Other leaves keep a full average ``v``.  The decay rises
with the step: ``decay_t = 1 - (t - step_offset + 1) ** -decay_rate``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad.optim import _checks
from funcgrad.optim._checks import cast_like
from funcgrad.optim.base import GradientTransformation, Params, Updates

__all__ = ["FactoredState", "scale_by_factored_rms"]


class FactoredState(NamedTuple):
    """The step count, the row and column averages of factored leaves, and ``v`` of the others.

    Each tree has the structure of the params; a leaf that does not use an
    average holds a 1-element placeholder (as in optax).
    """

    count: Any
    v_row: Any
    v_col: Any
    v: Any


def factored_dims(shape: tuple[int, ...], factored: bool,
                  min_dim_size_to_factor: int) -> tuple[int, int] | None:
    """The axes ``(d1, d0)`` to average over, the two largest (``d0`` the largest), or ``None``."""
    if not factored or len(shape) < 2:
        return None
    sorted_dims = np.argsort(shape)
    if shape[sorted_dims[-2]] < min_dim_size_to_factor:
        return None
    return int(sorted_dims[-2]), int(sorted_dims[-1])


def scale_by_factored_rms(factored: bool = True, decay_rate: float = 0.8, step_offset: int = 0,
                          min_dim_size_to_factor: int = 128,
                          epsilon: float = 1e-30) -> GradientTransformation:
    """Adafactor's direction ``g / sqrt(v_hat)``, with ``v_hat`` factored for large matrices.

    See the module docstring.  ``update`` needs ``params`` (for their shapes).

    Examples:
        >>> import numpy as np
        >>> opt = scale_by_factored_rms()
        >>> params = np.zeros(3)
        >>> opt.update(np.array([2.0, -1.0, 0.5]), opt.init(params), params)[0]  # g / |g|
        array([ 1., -1.,  1.])
    """
    where = "scale_by_factored_rms"
    factored = _checks.boolean(factored, where, "factored")
    decay_rate = _checks.real(decay_rate, where, "decay_rate", low=0.0)
    step_offset = _checks.integer(step_offset, where, "step_offset")
    min_dim = _checks.integer(min_dim_size_to_factor, where, "min_dim_size_to_factor")
    epsilon = _checks.real(epsilon, where, "epsilon", low=0.0)

    def placeholder(p: Any) -> Any:
        return fnp.zeros((1,), dtype=_checks.dtype_of(p))

    def init(params: Params) -> FactoredState:
        def leaf(p: Any) -> tuple[Any, Any, Any]:
            dims = factored_dims(np.shape(p), factored, min_dim)
            if dims is None:
                return placeholder(p), placeholder(p), fnp.zeros_like(p)
            d1, d0 = dims
            return (fnp.zeros_like(fnp.sum(p, axis=d0)), fnp.zeros_like(fnp.sum(p, axis=d1)),
                    placeholder(p))

        leaves, treedef = tree.flatten(params)
        return FactoredState(_checks.zero_count(), *_unzip(treedef, [leaf(p) for p in leaves], 3))

    def update(updates: Updates, state: FactoredState,
               params: Params | None = None) -> tuple[Updates, FactoredState]:
        _checks.need_params(where + ".update", updates, params)
        _checks.check_update(where + ".update", updates, None, state.v, state_shapes=False)
        # Steps before step_offset count as step 0 (decay 0), not as a NaN power.
        t = fnp.maximum(state.count - step_offset, 0) + 1
        decay = 1.0 - fnp.astype(t, np.float64) ** (-decay_rate)

        def leaf(g: Any, v_row: Any, v_col: Any, v: Any, p: Any) -> tuple[Any, ...]:
            g_sq = fnp.square(g) + epsilon
            dims = factored_dims(np.shape(p), factored, min_dim)
            if dims is None:
                new_v = cast_like(decay * v + (1.0 - decay) * g_sq, v)
                return cast_like(g * new_v ** -0.5, g), v_row, v_col, new_v
            d1, d0 = dims
            new_row = cast_like(decay * v_row + (1.0 - decay) * fnp.mean(g_sq, axis=d0), v_row)
            new_col = cast_like(decay * v_col + (1.0 - decay) * fnp.mean(g_sq, axis=d1), v_col)
            reduced_d1 = d1 - 1 if d1 > d0 else d1
            row_factor = (new_row / fnp.mean(new_row, axis=reduced_d1, keepdims=True)) ** -0.5
            col_factor = new_col ** -0.5
            update = (g * fnp.expand_dims(row_factor, axis=d0)
                      * fnp.expand_dims(col_factor, axis=d1))
            return cast_like(update, g), new_row, new_col, v

        treedef = tree.structure(params)
        columns = [tree.leaves(t) for t in (updates, state.v_row, state.v_col, state.v, params)]
        new_updates, *moments = _unzip(treedef, [leaf(*xs) for xs in zip(*columns)], 4)
        return new_updates, FactoredState(_checks.increment(state.count), *moments)

    return GradientTransformation(init, update)


def _unzip(treedef: Any, rows: list[tuple[Any, ...]], width: int) -> list[Any]:
    """Per-leaf tuples of ``width`` values to ``width`` trees (each with ``treedef``)."""
    return [treedef.unflatten([row[i] for row in rows]) for i in range(width)]
