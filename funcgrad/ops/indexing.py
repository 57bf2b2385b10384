"""Indexing: ``x[idx]`` (basic slicing, integer arrays, boolean masks), ``take``,
``take_along_axis`` and the functional updates ``x.at[idx].set(v)`` / ``.add(v)``.

An index is split into a static part (slices, ints, ``None``, ``Ellipsis``), kept in
the node's params, and its integer index arrays, which are operands of the node
(params never hold arrays).  Boolean masks become integer arrays (``nonzero``),
so they need a concrete mask.  The derivative of gathering is scatter-adding,
so repeated indices accumulate.
"""

from __future__ import annotations

import numpy as np

from funcgrad._core.primitive import Primitive, Tracer
from funcgrad.errors import ShapeError
from funcgrad.ops._family import dtype_of, shape_of, unbroadcast


class _ArraySlot:
    """Marks where an index array operand goes in a static index."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "[]"


ARRAY = _ArraySlot()


def split_index(index) -> tuple[tuple, list]:
    """``(static index with ARRAY slots, index arrays)`` for any NumPy-style index."""
    if not isinstance(index, tuple):
        index = (index,)
    static, arrays = [], []
    for item in index:
        if item is None or item is Ellipsis or isinstance(item, slice):
            static.append(item)
        elif isinstance(item, (bool, np.bool_)):
            raise TypeError("indexing with a Python bool is not supported; use a boolean array")
        elif isinstance(item, (int, np.integer)):
            static.append(int(item))
        else:
            if isinstance(item, Tracer):
                if item.dtype == bool:
                    item = np.asarray(item.concrete_value("boolean mask indexing"))
                elif item.dtype.kind not in "iu":
                    raise TypeError(f"index arrays must be integer or boolean, got {item.dtype}")
            else:
                item = np.asarray(item)
                if item.dtype.kind not in "iub":
                    raise TypeError(f"index arrays must be integer or boolean, got {item.dtype}")
            if item.dtype == bool:
                for part in np.nonzero(item):
                    static.append(ARRAY)
                    arrays.append(part)
            else:
                static.append(ARRAY)
                arrays.append(item)
    return tuple(static), arrays


def fill_index(static, arrays):
    """Put the index arrays back into their slots."""
    if not arrays:
        return static
    it = iter(arrays)
    return tuple(next(it) if s is ARRAY else s for s in static)


def _gather(x, *arrays, index):
    try:
        return x[fill_index(index, arrays)]
    except IndexError as e:
        raise ShapeError(f"index {_show(index, arrays)} is out of bounds for shape "
                         f"{np.shape(x)}: {e}") from None


def _show(index, arrays):
    return "[" + ", ".join(
        f"<{np.shape(a)} array>" if s is ARRAY else repr(s)
        for s, a in zip(index, _aligned(index, arrays))) + "]"


def _aligned(index, arrays):
    it = iter(arrays)
    return [next(it) if s is ARRAY else None for s in index]


def _scatter_add(operand, updates, *arrays, index):
    out = np.array(operand, copy=True)
    idx = fill_index(index, arrays)
    if arrays:
        np.add.at(out, idx, updates)  # repeated indices accumulate
    else:
        out[idx] += updates
    return out


def _scatter_set(operand, updates, *arrays, index):
    out = np.array(operand, copy=True)
    out[fill_index(index, arrays)] = updates
    return out


def _scatter_aval(operand, updates, *arrays, index):
    return shape_of(operand), np.result_type(dtype_of(operand))


gather_p = Primitive("getitem", _gather)
gather_p.defvjp_argnum(lambda i, g, ans, x, *arrays, index: None if i else
                       scatter_add_p.bind(np.zeros(shape_of(x), dtype_of(x)), g, *arrays, index=index))

scatter_add_p = Primitive("scatter_add", _scatter_add, _scatter_aval)
scatter_add_p.defvjp_argnum(lambda i, g, ans, operand, updates, *arrays, index:
                            g if i == 0 else
                            unbroadcast(gather_p.bind(g, *arrays, index=index), updates) if i == 1
                            else None)

scatter_set_p = Primitive("scatter_set", _scatter_set, _scatter_aval)
scatter_set_p.defvjp_argnum(lambda i, g, ans, operand, updates, *arrays, index:
                            scatter_set_p.bind(g, 0, *arrays, index=index) if i == 0 else
                            unbroadcast(gather_p.bind(g, *arrays, index=index), updates) if i == 1
                            else None)


def getitem(x, index):
    """``x[index]`` with NumPy semantics (basic slicing, integer arrays, boolean masks).

    >>> getitem(np.arange(5.0), np.array([0, 0, 3]))
    array([0., 0., 3.])
    """
    static, arrays = split_index(index)
    return gather_p.bind(x, *arrays, index=static)


def take(x, indices, axis=None):
    """``numpy.take``: gather along ``axis`` (the flattened array when None).

    >>> take(np.array([1.0, 2.0, 3.0]), [2, 0])
    array([3., 1.])
    """
    from funcgrad.ops.shape import _axis, ravel

    if axis is None:
        return getitem(ravel(x), indices if isinstance(indices, Tracer) else np.asarray(indices))
    axis = _axis(axis, len(shape_of(x)))
    idx = indices if isinstance(indices, Tracer) else np.asarray(indices)
    return getitem(x, (slice(None),) * axis + (idx,))


def take_along_axis(x, indices, axis: int):
    """``numpy.take_along_axis``: pick along ``axis`` with an index array of the same rank.

    >>> take_along_axis(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1], [0]]), 1)
    array([[2.],
           [3.]])
    """
    from funcgrad.ops.shape import _axis

    shape = shape_of(x)
    indices = indices if isinstance(indices, Tracer) else np.asarray(indices)
    if len(shape_of(indices)) != len(shape):
        raise ShapeError(f"take_along_axis: indices of shape {shape_of(indices)} must have as "
                         f"many dimensions as the array of shape {shape}")
    axis = _axis(axis, len(shape))
    index = []
    for d, n in enumerate(shape):
        if d == axis:
            index.append(indices)
        else:
            view = [1] * len(shape)
            view[d] = n
            index.append(np.arange(n).reshape(view))
    return getitem(x, tuple(index))


class _AtIndexer:
    """``x.at[idx]``: functional updates that return a new array and leave ``x`` untouched."""

    __slots__ = ("_x",)

    def __init__(self, x):
        object.__setattr__(self, "_x", x)

    def __getitem__(self, index) -> "_AtUpdate":
        return _AtUpdate(self._x, index)


class _AtUpdate:
    __slots__ = ("_x", "_index")

    def __init__(self, x, index):
        object.__setattr__(self, "_x", x)
        object.__setattr__(self, "_index", index)

    def get(self):
        """``x[idx]``."""
        return getitem(self._x, self._index)

    def set(self, values):
        """A copy of ``x`` with ``x[idx] = values`` (for repeated indices the last write wins)."""
        static, arrays = split_index(self._index)
        return scatter_set_p.bind(self._x, values, *arrays, index=static)

    def add(self, values):
        """A copy of ``x`` with ``values`` added at ``idx``; repeated indices accumulate."""
        static, arrays = split_index(self._index)
        return scatter_add_p.bind(self._x, values, *arrays, index=static)


def at(x) -> _AtIndexer:
    """Functional indexed updates for arrays and tracers alike: ``at(x)[idx].set(v)``.

    >>> at(np.zeros(3))[1].set(5.0)
    array([0., 5., 0.])
    """
    return _AtIndexer(x)
