"""The multiplicative and extremal scatters behind ``x.at[idx].multiply/divide/power/min/max``.

``x.at[idx].multiply(v)`` is ``scatter_mul``: with unique indices its rules are one
line each.  Repeated indices are split into rounds of unique ones at the call site
(the ``k``-th round multiplies by the ``k``-th occurrence of each index, the order
``numpy.multiply.at`` uses), so the derivative is exact at every order with no
division; JAX refuses these derivatives.  Where the indices are traced and cannot be
checked, the scatter is marked ``unique=False`` and its derivative in the updates
raises instead of being wrong.  ``divide`` and ``power`` are
``x / ones.at[idx].multiply(v)`` and ``x ** ones.at[idx].multiply(v)``, as in JAX.

``scatter_max``/``scatter_min`` split the derivative evenly among the winners of each
position (the operand's element and every update equal to the result), as
``maximum`` does at a tie and JAX's scatter_max does; a NaN result gets none.

Examples:
    >>> at_multiply(np.ones(3), np.array([0, 0]), np.array([2.0, 3.0]))
    array([6., 1., 1.])
"""

from __future__ import annotations

import numpy as np

from funcgrad._core.primitive import Primitive, Tracer
from funcgrad.errors import ConcretizationError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import misc
from funcgrad.ops._family import dtype_of, shape_of, unbroadcast
from funcgrad.ops.indexing import (
    ARRAY,
    _scatter_aval,
    _scatter_batch,
    fill_index,
    gather_p,
    scatter_add_p,
    split_index,
)


def _ufunc_at(ufunc):
    def impl(operand, updates, *arrays, index, **params):
        out = np.array(operand, copy=True)
        ufunc.at(out, fill_index(index, arrays), updates)
        return out
    return impl


def _zeros_like(x, dtype=None):
    return np.zeros(shape_of(x), dtype or dtype_of(x))


# -- multiply ------------------------------------------------------------------------
def _require_unique(unique: bool) -> None:
    if not unique:
        raise ConcretizationError(
            "the derivative of x.at[idx].multiply(v) (also .divide, .power) in v needs indices "
            "that are known to be unique: these are traced, so repeated indices cannot be "
            "ruled out.  Pass unique_indices=True if they are unique, or compute the index "
            "array outside the transformed function")


def _mul_updates_vjp(g, ans, operand, updates, *arrays, index, unique):
    _require_unique(unique)
    return unbroadcast(gather_p.bind(g * operand, *arrays, index=index), updates)


def _mul_updates_jvp(t, ans, operand, updates, *arrays, index, unique):
    _require_unique(unique)
    contribution = gather_p.bind(operand, *arrays, index=index) * t
    return scatter_add_p.bind(_zeros_like(ans), contribution, *arrays, index=index)


scatter_mul_p = Primitive("scatter_mul", _ufunc_at(np.multiply),
                          lambda operand, updates, *arrays, index, unique:
                          _scatter_aval(operand, updates, *arrays, index=index))
# d/d operand: the product of the updates at each position (1 elsewhere), exact for repeats too.
scatter_mul_p.defvjp(lambda g, ans, operand, updates, *arrays, index, unique:
                     scatter_mul_p.bind(g, updates, *arrays, index=index, unique=unique),
                     _mul_updates_vjp)
scatter_mul_p.defjvp(lambda t, ans, operand, updates, *arrays, index, unique:
                     scatter_mul_p.bind(t, updates, *arrays, index=index, unique=unique),
                     _mul_updates_jvp)
_scatter_batch(scatter_mul_p)


# -- max and min ---------------------------------------------------------------------
def _winners(ans, operand, updates, arrays, index):
    """``(operand wins, update wins, n)``: who attains each result, and how many share it (>= 1)."""
    dtype = dtype_of(ans)
    update_wins = ew.equal(gather_p.bind(ans, *arrays, index=index), updates)
    operand_wins = ew.equal(operand, ans)
    n = (misc.astype(operand_wins, dtype)
         + scatter_add_p.bind(_zeros_like(ans), misc.astype(update_wins, dtype), *arrays, index=index))
    return operand_wins, update_wins, ew.where(ew.equal(n, 0), 1, n)  # 0: a NaN result, no winner


def _extremal_operand_rule(g, ans, operand, updates, *arrays, index):
    operand_wins, _, n = _winners(ans, operand, updates, arrays, index)
    return ew.where(operand_wins, g / n, 0)


def _extremal_updates_vjp(g, ans, operand, updates, *arrays, index):
    _, update_wins, n = _winners(ans, operand, updates, arrays, index)
    share = gather_p.bind(g / n, *arrays, index=index)
    return unbroadcast(ew.where(update_wins, share, 0), updates)


def _extremal_updates_jvp(t, ans, operand, updates, *arrays, index):
    _, update_wins, n = _winners(ans, operand, updates, arrays, index)
    won = ew.where(update_wins, t, 0)
    return scatter_add_p.bind(_zeros_like(ans), won, *arrays, index=index) / n


def _extremal(name, ufunc) -> Primitive:
    prim = Primitive(name, _ufunc_at(ufunc), _scatter_aval)
    prim.defvjp(_extremal_operand_rule, _extremal_updates_vjp)
    prim.defjvp(_extremal_operand_rule, _extremal_updates_jvp)
    _scatter_batch(prim)
    return prim


scatter_max_p = _extremal("scatter_max", np.maximum)
scatter_min_p = _extremal("scatter_min", np.minimum)


# -- the functions behind x.at[idx] ------------------------------------------------
def _concrete_indices(arrays):
    """The index arrays as NumPy arrays, or None when one is traced without a value."""
    out = []
    for a in arrays:
        if isinstance(a, Tracer):
            try:
                a = a.concrete_value("x.at[idx] index check")
            except ConcretizationError:
                return None
        out.append(np.asarray(a))
    return out


def _occurrences(positions: np.ndarray) -> np.ndarray:
    """For each position, how many equal ones come before it (0 for a first occurrence)."""
    order = np.argsort(positions, kind="stable")
    ranked = positions[order]
    starts = np.r_[0, np.flatnonzero(ranked[1:] != ranked[:-1]) + 1]
    sizes = np.diff(np.r_[starts, ranked.size])
    occ = np.empty_like(order)
    occ[order] = np.arange(ranked.size) - np.repeat(starts, sizes)
    return occ


def at_multiply(x, index, values, unique_indices: bool = False):
    """``x`` with ``x[index] *= values`` applied functionally (repeated indices multiply again).

    Examples:
        >>> at_multiply(np.full(2, 2.0), 1, 3.0)
        array([2., 6.])
    """
    static, arrays = split_index(index)
    if unique_indices or not arrays:  # basic indexing never repeats a position
        return scatter_mul_p.bind(x, values, *arrays, index=static, unique=True)
    concrete = _concrete_indices(arrays)
    if concrete is None:
        return scatter_mul_p.bind(x, values, *arrays, index=static, unique=False)
    shape = shape_of(x)
    positions = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)
    positions = positions[fill_index(static, concrete)]
    occ = _occurrences(positions.ravel())
    if not occ.any():
        return scatter_mul_p.bind(x, values, *arrays, index=static, unique=True)
    from funcgrad.ops.shape import broadcast_to, reshape

    flat = reshape(x, (-1,))
    updates = reshape(broadcast_to(values, positions.shape), (-1,))
    for k in range(int(occ.max()) + 1):  # round k: the k-th occurrence of each position
        sel = np.flatnonzero(occ == k)
        flat = scatter_mul_p.bind(flat, gather_p.bind(updates, sel, index=(ARRAY,)),
                                  positions.ravel()[sel], index=(ARRAY,), unique=True)
    return reshape(flat, shape)


def at_divide(x, index, values, unique_indices: bool = False):
    """``x`` with ``x[index] /= values`` applied functionally: ``x / ones.at[index].multiply(values)``.

    Examples:
        >>> at_divide(np.full(2, 6.0), 0, 3.0)
        array([2., 6.])
    """
    return x / at_multiply(np.ones(shape_of(x), dtype_of(x)), index, values, unique_indices)


def at_power(x, index, values, unique_indices: bool = False):
    """``x`` with ``x[index] **= values`` applied functionally: ``x ** ones.at[index].multiply(values)``.

    Examples:
        >>> at_power(np.full(2, 3.0), 1, 2.0)
        array([3., 9.])
    """
    exponent = at_multiply(np.ones(shape_of(x), dtype_of(x)), index, values, unique_indices)
    return ew.power_p.bind(x, exponent)


def at_max(x, index, values):
    """``x`` with ``x[index] = maximum(x[index], values)`` (repeated indices: the largest wins).

    Examples:
        >>> at_max(np.zeros(2), np.array([1, 1]), np.array([3.0, 2.0]))
        array([0., 3.])
    """
    static, arrays = split_index(index)
    return scatter_max_p.bind(x, values, *arrays, index=static)


def at_min(x, index, values):
    """``x`` with ``x[index] = minimum(x[index], values)`` (repeated indices: the smallest wins).

    Examples:
        >>> at_min(np.zeros(2), np.array([1, 1]), np.array([-3.0, 2.0]))
        array([ 0., -3.])
    """
    static, arrays = split_index(index)
    return scatter_min_p.bind(x, values, *arrays, index=static)
