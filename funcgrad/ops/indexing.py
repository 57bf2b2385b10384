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
from funcgrad.ops._family import batch_size, dtype_of, shape_of, unbroadcast


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
        raise _out_of_bounds(x, arrays, index, e) from None


def _out_of_bounds(x, arrays, index, error: IndexError) -> ShapeError:
    """NumPy's ``IndexError`` for ``x[index]`` (or ``x.at[index]``) as a :class:`ShapeError`."""
    return ShapeError(f"index {_show(index, arrays)} is out of bounds for shape "
                      f"{np.shape(x)}: {error}")


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
    try:
        if arrays:
            np.add.at(out, idx, updates)  # repeated indices accumulate
        else:
            out[idx] += updates
    except IndexError as e:
        raise _out_of_bounds(operand, arrays, index, e) from None
    return out


def _scatter_set(operand, updates, *arrays, index):
    out = np.array(operand, copy=True)
    try:
        out[fill_index(index, arrays)] = updates
    except IndexError as e:
        raise _out_of_bounds(operand, arrays, index, e) from None
    return out


def _scatter_aval(operand, updates, *arrays, index):
    return shape_of(operand), np.result_type(dtype_of(operand))


# -- batching ------------------------------------------------------------------
# NumPy places the dimensions of the advanced indices (index arrays, and ints when
# any array is present) where the first one stands when they are adjacent, and in
# front of the result when anything (a slice, None, an Ellipsis) separates them.
def _advanced(static) -> list[int]:
    """Positions in ``static`` of the advanced entries (only meaningful when it holds arrays)."""
    return [k for k, s in enumerate(static) if s is ARRAY or type(s) is int]


def _adjacent(static) -> bool:
    adv = _advanced(static)
    return adv[-1] - adv[0] + 1 == len(adv)


def _leading_dims(static, ndim: int, k: int) -> tuple[int, int]:
    """``(axes of x, axes of the result)`` that the entries before position ``k`` account for."""
    consumed = sum(1 for s in static if s is not None and s is not Ellipsis)
    x_axes = out_axes = 0
    for s in static[:k]:
        if s is Ellipsis:
            x_axes += ndim - consumed
            out_axes += ndim - consumed
        elif s is None:
            out_axes += 1
        else:  # a slice (ints before the first advanced entry cannot occur with arrays)
            x_axes += 1
            out_axes += 1
    return x_axes, out_axes


def _batch_index(x, xdim, arrays, adims, static, size):
    """Rewrite ``x[static]`` for a batch: ``(x, arrays, static, x_axis, out_axis)``.

    ``x`` (batched along ``xdim``, or unbatched) and the index arrays (batched along
    ``adims``) become one index into the batched ``x``, whose batch axis is then
    ``x_axis``; the batch axis of the result is ``out_axis``.
    """
    from funcgrad.ops.shape import moveaxis, reshape

    if all(d is None for d in adims):
        # Only x is batched: a full slice over its batch axis, moved to the front.
        x = moveaxis(x, xdim, 0)
        if arrays and not _adjacent(static):  # the advanced dims go first, the batch after
            out_axis = len(np.broadcast_shapes(*[shape_of(a) for a in arrays]))
        else:
            out_axis = 0
        return x, list(arrays), (slice(None),) + tuple(static), 0, out_axis
    # Batched index arrays: the batch axis becomes the leading axis of the broadcast
    # index arrays, and a batched x is indexed along its batch axis by arange(size).
    rank = max(len(shape_of(a)) - (d is not None) for a, d in zip(arrays, adims))
    new_arrays = []
    for a, d in zip(arrays, adims):
        if d is not None:
            a = moveaxis(a, d, 0)
            s = shape_of(a)
            a = reshape(a, s[:1] + (1,) * (rank - len(s) + 1) + s[1:])
        new_arrays.append(a)
    k = _advanced(static)[0]
    ndim = len(shape_of(x)) - (xdim is not None)
    x_axis, before = _leading_dims(static, ndim, k)
    out_axis = before if _adjacent(static) else 0
    if xdim is None:
        return x, new_arrays, tuple(static), None, out_axis
    # Just before the first advanced entry, so the advanced block stays where it was.
    x = moveaxis(x, xdim, x_axis)
    batch_index = np.arange(size).reshape((size,) + (1,) * rank)
    return (x, [batch_index] + new_arrays, static[:k] + (ARRAY,) + static[k:], x_axis,
            out_axis)


def _gather_batch(values, dims, index):
    x, *arrays = values
    x, arrays, index, _, out_axis = _batch_index(x, dims[0], arrays, dims[1:], index,
                                                 batch_size(values, dims))
    return gather_p.bind(x, *arrays, index=index), out_axis


def _indexed_shape(x, arrays, static) -> tuple[int, ...]:
    """The shape of ``x[static]`` with these index arrays, from zero-stride dummies."""
    dummy = np.broadcast_to(np.zeros((), np.int8), shape_of(x))
    idx = [np.broadcast_to(np.zeros((), np.intp), shape_of(a)) for a in arrays]
    return np.shape(dummy[fill_index(static, idx)])


def _align_updates(updates, udim, shape, out_axis, size):
    """Updates for a batched scatter: broadcastable to the batched indexed ``shape``, with
    their batch axis (a unit axis if they are unbatched) at ``out_axis``."""
    from funcgrad.ops.shape import moveaxis, reshape

    rank = len(shape) - 1  # of one example's indexed shape
    s = shape_of(updates)
    if udim is None and not s:
        return updates  # a scalar broadcasts anywhere
    if udim is not None:
        updates = moveaxis(updates, udim, 0)
        s = shape_of(updates)[1:]
    if len(s) > rank and all(n == 1 for n in s[:len(s) - rank]):
        s = s[len(s) - rank:]  # NumPy ignores leading unit axes of the values
    s = (1,) * (rank - len(s)) + s
    if udim is None:
        return reshape(updates, s[:out_axis] + (1,) + s[out_axis:])
    return moveaxis(reshape(updates, (size,) + s), 0, out_axis)


def _scatter_batch(prim):
    def rule(values, dims, index, **params):
        from funcgrad.ops.shape import broadcast_to, expand_dims

        operand, updates, *arrays = values
        size = batch_size(values, dims)
        odim = dims[0]
        if odim is None:  # every example starts from the same operand
            operand = broadcast_to(expand_dims(operand, 0), (size,) + tuple(shape_of(operand)))
            odim = 0
        operand, arrays, index, x_axis, out_axis = _batch_index(operand, odim, arrays, dims[2:],
                                                                index, size)
        shape = _indexed_shape(operand, arrays, index)
        updates = _align_updates(updates, dims[1], shape, out_axis, size)
        return prim.bind(operand, updates, *arrays, index=index, **params), x_axis

    prim.defbatch(rule)


# -- forward mode -------------------------------------------------------------
def _scatter_jvp(prim, zero_updates):
    """The scatters are linear in (operand, updates) jointly: scatter the tangents."""
    def rule(primals, tangents, index):
        operand, _, *arrays = primals
        t_operand, t_updates = tangents[:2]
        ans = prim.bind(*primals, index=index)
        if t_updates is None:
            if t_operand is None:
                return ans, None
            if zero_updates is None:  # adding zeros: the operand's tangent passes through
                return ans, t_operand
            t_updates = zero_updates
        if t_operand is None:
            t_operand = np.zeros(shape_of(operand), dtype_of(ans))
        return ans, prim.bind(t_operand, t_updates, *arrays, index=index)

    prim.defjvp_full(rule)


# -- the transpose of indexing: a scatter into zeros --------------------------------
# ``x[index]`` has the VJP "zeros of x's shape with the cotangent added at ``index``".  As
# its own primitive that is one allocation and one slice assignment for a basic index
# (slices, ints, None, Ellipsis: no element repeats, so writing is adding) and one
# ``np.add.at`` for index arrays, where a scatter-add into a zeros operand first copies
# the zeros (about 70x slower for a 2**17 array with a slice).  Linear, so its rules are
# indexing and itself.
def _unslice(g, *arrays, shape, dtype, index):
    if not np.can_cast(np.result_type(g), dtype, "same_kind"):
        raise TypeError(f"unslice: cannot write {np.result_type(g)} values into {dtype}")
    out = np.zeros(shape, dtype)
    if arrays:
        np.add.at(out, fill_index(index, arrays), g)  # repeated indices accumulate
    else:
        out[index] = g
    return out


def _unslice_batch(values, dims, shape, dtype, index):
    from funcgrad.ops.shape import moveaxis

    if len(values) > 1:  # index arrays: scatter_add's rule, from an unbatched zeros operand
        return scatter_add_p.batch_rule((np.zeros(shape, dtype), *values), (None, *dims),
                                        index=index)
    g = moveaxis(values[0], dims[0], 0)
    return unslice_p.bind(g, shape=shape_of(g)[:1] + shape, dtype=dtype,
                          index=(slice(None),) + index), 0


unslice_p = Primitive("unslice", _unslice, lambda g, *arrays, shape, dtype, index: (shape, dtype))
unslice_p.defvjp_argnum(lambda i, ct, ans, g, *arrays, shape, dtype, index: None if i else
                        unbroadcast(gather_p.bind(ct, *arrays, index=index), g))
unslice_p.defjvp(lambda t, ans, g, *arrays, **params: unslice_p.bind(t, *arrays, **params))
unslice_p.defbatch(_unslice_batch)


def _gather_vjp(i, g, ans, x, *arrays, index):
    if i:
        return None
    return unslice_p.bind(g, *arrays, shape=shape_of(x), dtype=dtype_of(x), index=index)


gather_p = Primitive("getitem", _gather)
gather_p.defvjp_argnum(_gather_vjp)
gather_p.defjvp(lambda t, ans, x, *arrays, index: gather_p.bind(t, *arrays, index=index))
gather_p.defbatch(_gather_batch)

scatter_add_p = Primitive("scatter_add", _scatter_add, _scatter_aval)
scatter_add_p.defvjp_argnum(lambda i, g, ans, operand, updates, *arrays, index:
                            g if i == 0 else
                            unbroadcast(gather_p.bind(g, *arrays, index=index), updates) if i == 1
                            else None)
_scatter_jvp(scatter_add_p, None)
_scatter_batch(scatter_add_p)

scatter_set_p = Primitive("scatter_set", _scatter_set, _scatter_aval)
scatter_set_p.defvjp_argnum(lambda i, g, ans, operand, updates, *arrays, index:
                            scatter_set_p.bind(g, 0, *arrays, index=index) if i == 0 else
                            unbroadcast(gather_p.bind(g, *arrays, index=index), updates) if i == 1
                            else None)
_scatter_jvp(scatter_set_p, 0)
_scatter_batch(scatter_set_p)


def getitem(x, index):
    """``x[index]`` with NumPy semantics (basic slicing, integer arrays, boolean masks).

    Examples:
        >>> getitem(np.arange(5.0), np.array([0, 0, 3]))
        array([0., 0., 3.])
    """
    static, arrays = split_index(index)
    return gather_p.bind(x, *arrays, index=static)


def take(x, indices, axis=None):
    """``numpy.take``: gather along ``axis`` (the flattened array when None).

    Examples:
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

    Examples:
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
    return getitem(x, along_axis_index(shape, indices, _axis(axis, len(shape))))


def along_axis_index(shape, indices, axis: int) -> tuple:
    """The fancy index that picks ``indices`` along ``axis`` (aranges broadcast over the rest)."""
    index = []
    for d, n in enumerate(shape):
        if d == axis:
            index.append(indices)
        else:
            view = [1] * len(shape)
            view[d] = n
            index.append(np.arange(n).reshape(view))
    return tuple(index)


class _AtIndexer:
    """``x.at[idx]``: functional updates that return a new array and leave ``x`` untouched."""

    __slots__ = ("_x",)

    def __init__(self, x):
        object.__setattr__(self, "_x", x)

    def __getitem__(self, index) -> _AtUpdate:
        return _AtUpdate(self._x, index)

    def __setitem__(self, index, value):
        from funcgrad._core.hints import item_assignment_error
        from funcgrad._core.trace import user_location

        raise item_assignment_error("x.at[...]", index, user_location(),
                                    "x.at[i] names elements for a functional update, made by a "
                                    "method")


class _AtUpdate:
    __slots__ = ("_index", "_x")

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

    def multiply(self, values, *, unique_indices: bool = False):
        """A copy of ``x`` with ``x[idx] *= values``; repeated indices multiply again (exact derivatives)."""
        from funcgrad.ops.scatter import at_multiply
        return at_multiply(self._x, self._index, values, unique_indices)

    mul = multiply

    def divide(self, values, *, unique_indices: bool = False):
        """A copy of ``x`` with ``x[idx] /= values`` (``x / ones.at[idx].multiply(values)``)."""
        from funcgrad.ops.scatter import at_divide
        return at_divide(self._x, self._index, values, unique_indices)

    def power(self, values, *, unique_indices: bool = False):
        """A copy of ``x`` with ``x[idx] **= values`` (``x ** ones.at[idx].multiply(values)``)."""
        from funcgrad.ops.scatter import at_power
        return at_power(self._x, self._index, values, unique_indices)

    def min(self, values):
        """A copy of ``x`` with ``x[idx] = minimum(x[idx], values)``; ties share the derivative."""
        from funcgrad.ops.scatter import at_min
        return at_min(self._x, self._index, values)

    def max(self, values):
        """A copy of ``x`` with ``x[idx] = maximum(x[idx], values)``; ties share the derivative."""
        from funcgrad.ops.scatter import at_max
        return at_max(self._x, self._index, values)


def at(x) -> _AtIndexer:
    """Functional indexed updates for arrays and tracers alike: ``at(x)[idx].set(v)``.

    Examples:
        >>> at(np.zeros(3))[1].set(5.0)
        array([0., 5., 0.])
    """
    return _AtIndexer(x)
