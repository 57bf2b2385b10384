"""Shape and assembly functions of NumPy, built from funcgrad's shape and indexing ops.

Every function here is a composition of primitives (``reshape``, ``transpose``,
``concatenate``, ``getitem``, ``scatter``, ``where``...), so it differentiates to
any order, batches under ``vmap`` and runs under ``jit`` with no rule of its own.
On plain NumPy arrays the result is NumPy's (the ops call NumPy directly).

Where funcgrad differs from NumPy (all as in JAX):

* ``put_along_axis`` returns a new array instead of writing into ``arr``;
* ``piecewise`` evaluates every function on the whole array and selects with ``where``
  (NumPy calls each on the selected elements only), so the functions must be
  elementwise; the result has ``x``'s dtype, as in NumPy;
* ``copy`` of a traced value is the value itself (traced values are immutable).

Examples:
    >>> roll(np.arange(4.0), 1)
    array([3., 0., 1., 2.])
    >>> [a.shape for a in array_split(np.ones(5), 3)]
    [(2,), (2,), (1,)]
"""

from __future__ import annotations

import builtins
import functools
import operator

import numpy as np

from funcgrad._core.trace import Tracer
from funcgrad.errors import ShapeError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import indexing, misc
from funcgrad.ops import shape as sh
from funcgrad.ops._family import dtype_of, shape_of
from funcgrad.ops.shape import _axis

__all__ = ["array_split", "atleast_1d", "atleast_2d", "atleast_3d", "block",
           "broadcast_arrays", "column_stack", "copy", "diagflat", "dsplit", "dstack", "fliplr",
           "flipud", "hsplit", "piecewise", "put_along_axis", "roll", "rot90", "select", "split",
           "take_along_axis", "unstack", "vsplit"]


def _traced(obj) -> bool:
    if isinstance(obj, Tracer):
        return True
    return isinstance(obj, (list, tuple)) and builtins.any(_traced(o) for o in obj)


def _arr(x):
    """A tracer as it is; a (nested) list holding tracers stacked; anything else NumPy's array."""
    if isinstance(x, (Tracer, np.ndarray)):
        return x
    if _traced(x):
        return sh.stack([_arr(o) for o in x])
    return np.asarray(x)


def _ndim(x) -> int:
    return len(shape_of(x))


def _along(ndim: int, axis: int, index) -> tuple:
    return (slice(None),) * axis + (index,)


# -- rolling, rotating, flipping -----------------------------------------------------------
def roll(a, shift, axis=None):
    """``numpy.roll``: shift elements along ``axis`` (the flattened array when None), wrapping around.

    ``shift`` and ``axis`` may be sequences; they broadcast against each other.

    Examples:
        >>> roll(np.arange(6.0).reshape(2, 3), -1, axis=1)
        array([[1., 2., 0.],
               [4., 5., 3.]])
    """
    a = _arr(a)
    if axis is None:
        return sh.reshape(roll(sh.ravel(a), shift, 0), shape_of(a))
    shifts, axes = np.broadcast_arrays(np.atleast_1d(np.asarray(shift)), np.atleast_1d(np.asarray(axis)))
    if axes.ndim > 1:
        raise ValueError("'shift' and 'axis' should be scalars or 1D sequences")
    total: dict[int, int] = {}
    for s, ax in zip(shifts.tolist(), axes.tolist()):
        ax = _axis(ax, _ndim(a))
        total[ax] = total.get(ax, 0) + operator.index(s)
    for ax, s in total.items():
        n = shape_of(a)[ax]
        if n == 0 or s % n == 0:
            continue
        s %= n
        a = sh.concatenate([a[_along(ax, ax, slice(n - s, None))], a[_along(ax, ax, slice(0, n - s))]],
                           axis=ax)
    return a


def rot90(m, k: int = 1, axes=(0, 1)):
    """``numpy.rot90``: rotate by 90 degrees ``k`` times in the plane of ``axes`` (first towards second).

    Examples:
        >>> rot90(np.array([[1.0, 2.0], [3.0, 4.0]]))
        array([[2., 4.],
               [1., 3.]])
    """
    m = _arr(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    nd = _ndim(m)
    if axes[0] == axes[1] or builtins.abs(axes[0] - axes[1]) == nd:
        raise ValueError("Axes must be different.")
    if not (-nd <= axes[0] < nd and -nd <= axes[1] < nd):
        raise ShapeError(f"Axes={axes} out of range for array of ndim={nd}.")
    k = operator.index(k) % 4
    if k == 0:
        return m
    if k == 2:
        return sh.flip(sh.flip(m, axes[0]), axes[1])
    perm = list(range(nd))
    a0, a1 = axes[0] % nd, axes[1] % nd
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return sh.transpose(sh.flip(m, axes[1]), perm)
    return sh.flip(sh.transpose(m, perm), axes[1])


def fliplr(m):
    """``numpy.fliplr``: reverse axis 1 (needs at least 2 dimensions).

    Examples:
        >>> fliplr(np.eye(2))
        array([[0., 1.],
               [1., 0.]])
    """
    m = _arr(m)
    if _ndim(m) < 2:
        raise ShapeError(f"fliplr: input must be >= 2-d, got shape {shape_of(m)}")
    return sh.flip(m, 1)


def flipud(m):
    """``numpy.flipud``: reverse axis 0 (needs at least 1 dimension).

    Examples:
        >>> flipud(np.array([1.0, 2.0]))
        array([2., 1.])
    """
    m = _arr(m)
    if _ndim(m) < 1:
        raise ShapeError("flipud: input must be >= 1-d, got a 0-d array")
    return sh.flip(m, 0)


# -- at least n dimensions, broadcasting -----------------------------------------------------
def _one_or_tuple(fn):
    @functools.wraps(fn)
    def many(*arys):
        out = tuple(fn(_arr(a)) for a in arys)
        return out[0] if len(out) == 1 else out
    return many


@_one_or_tuple
def atleast_1d(x):
    """``numpy.atleast_1d``: 0-d arrays become shape (1,); several arguments give a tuple.

    Examples:
        >>> atleast_1d(1.0)
        array([1.])
    """
    return sh.reshape(x, (1,)) if _ndim(x) == 0 else x


@_one_or_tuple
def atleast_2d(x):
    """``numpy.atleast_2d``: leading unit axes up to 2 dimensions.

    Examples:
        >>> atleast_2d(np.ones(3)).shape
        (1, 3)
    """
    nd = _ndim(x)
    return sh.reshape(x, (1,) * (2 - nd) + shape_of(x)) if nd < 2 else x


@_one_or_tuple
def atleast_3d(x):
    """``numpy.atleast_3d``: (N,) becomes (1, N, 1) and (M, N) becomes (M, N, 1), as in NumPy.

    Examples:
        >>> atleast_3d(np.ones((2, 3))).shape
        (2, 3, 1)
    """
    s = shape_of(x)
    shape = {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}.get(len(s), s)
    return sh.reshape(x, shape)


def broadcast_arrays(*args):
    """``numpy.broadcast_arrays``: every argument broadcast to the common shape (a tuple).

    Examples:
        >>> [a.shape for a in broadcast_arrays(np.ones(3), np.ones((2, 1)))]
        [(2, 3), (2, 3)]
    """
    arrays = [_arr(a) for a in args]
    try:
        shape = np.broadcast_shapes(*[shape_of(a) for a in arrays])
    except ValueError:
        raise ShapeError("broadcast_arrays: shapes " + ", ".join(str(shape_of(a)) for a in arrays)
                         + " cannot be broadcast together") from None
    return tuple(sh.broadcast_to(a, shape) for a in arrays)


# -- stacking and splitting ---------------------------------------------------------------
def _sequence(tup, name: str) -> list:
    if isinstance(tup, (Tracer, np.ndarray)) or not hasattr(tup, "__iter__"):
        raise TypeError(f"{name}: arrays to stack must be passed as a sequence (list or tuple), "
                        f"got {type(tup).__name__}")
    arrays = [_arr(a) for a in tup]
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    return arrays


def dstack(tup):
    """``numpy.dstack``: stack along the third axis (after :func:`atleast_3d`).

    Examples:
        >>> dstack([np.ones(2), np.zeros(2)]).shape
        (1, 2, 2)
    """
    return sh.concatenate([atleast_3d(a) for a in _sequence(tup, "dstack")], axis=2)


def column_stack(tup):
    """``numpy.column_stack``: 1-D arrays become columns; 2-D arrays are stacked as they are.

    Examples:
        >>> column_stack([np.ones(2), np.zeros(2)])
        array([[1., 0.],
               [1., 0.]])
    """
    arrays = [sh.reshape(a, (-1, 1)) if _ndim(a) < 2 else a for a in _sequence(tup, "column_stack")]
    return sh.concatenate(arrays, axis=1)


def _split_at(x, bounds, axis: int) -> list:
    return [x[_along(axis, axis, slice(lo, hi))] for lo, hi in zip(bounds[:-1], bounds[1:])]


def split(ary, indices_or_sections, axis: int = 0) -> list:
    """``numpy.split``: equal sections (an error when they are not equal) or at the given indices.

    Examples:
        >>> [a.tolist() for a in split(np.arange(4.0), [1])]
        [[0.0], [1.0, 2.0, 3.0]]
    """
    ary = _arr(ary)
    if isinstance(indices_or_sections, (int, np.integer)):
        axis_ = _axis(axis, _ndim(ary))
        n, sections = shape_of(ary)[axis_], int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        if n % sections:
            raise ShapeError(f"array split does not result in an equal division: {n} elements "
                             f"along axis {axis} into {sections} sections")
    return array_split(ary, indices_or_sections, axis)


def array_split(ary, indices_or_sections, axis: int = 0) -> list:
    """``numpy.array_split``: like :func:`split`, but sections may differ in length by one.

    Examples:
        >>> [a.tolist() for a in array_split(np.arange(5.0), 2)]
        [[0.0, 1.0, 2.0], [3.0, 4.0]]
    """
    ary = _arr(ary)
    axis = _axis(axis, _ndim(ary))
    n = shape_of(ary)[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        each, extras = divmod(n, sections)
        sizes = [0] + extras * [each + 1] + (sections - extras) * [each]
        bounds = np.cumsum(sizes).tolist()
    else:
        bounds = [0, *[operator.index(i) for i in indices_or_sections], n]
    return _split_at(ary, bounds, axis)


def _split_family(name: str, axis_of: Callable[[int], int], min_ndim: int, doc: str):
    def fn(ary, indices_or_sections) -> list:
        ary = _arr(ary)
        if _ndim(ary) < min_ndim:
            raise ShapeError(f"{name} only works on arrays of {min_ndim} or more dimensions, "
                             f"got shape {shape_of(ary)}")
        return split(ary, indices_or_sections, axis_of(_ndim(ary)))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


hsplit = _split_family("hsplit", lambda nd: 1 if nd > 1 else 0, 1, """``numpy.hsplit``: split along
    axis 1 (axis 0 for 1-D arrays).

    Examples:
        >>> [a.shape for a in hsplit(np.ones((2, 4)), 2)]
        [(2, 2), (2, 2)]
    """)
vsplit = _split_family("vsplit", lambda nd: 0, 2, """``numpy.vsplit``: split along axis 0 (at least 2-D).

    Examples:
        >>> [a.shape for a in vsplit(np.ones((4, 2)), 2)]
        [(2, 2), (2, 2)]
    """)
dsplit = _split_family("dsplit", lambda nd: 2, 3, """``numpy.dsplit``: split along axis 2 (at least 3-D).

    Examples:
        >>> [a.shape for a in dsplit(np.ones((1, 1, 4)), [1])]
        [(1, 1, 1), (1, 1, 3)]
    """)


def unstack(x, /, *, axis: int = 0) -> tuple:
    """``numpy.unstack``: the slices along ``axis``, as a tuple (the inverse of ``stack``).

    Examples:
        >>> [a.tolist() for a in unstack(np.arange(4.0).reshape(2, 2))]
        [[0.0, 1.0], [2.0, 3.0]]
    """
    x = _arr(x)
    if _ndim(x) == 0:
        raise ShapeError("unstack: input array must be at least 1-d")
    axis = _axis(axis, _ndim(x))
    return tuple(x[_along(axis, axis, i)] for i in range(shape_of(x)[axis]))


# -- block --------------------------------------------------------------------------------
def _block_depth(arrays, index=()) -> tuple[int, int]:
    """``(list depth, largest array ndim)`` of a nested list, checking the nesting is uniform."""
    if isinstance(arrays, tuple):
        raise TypeError(f"arrays{''.join(f'[{i}]' for i in index)} is a tuple. Only lists can "
                        "be used to arrange blocks, and np.block does not allow implicit "
                        "conversion from tuple to ndarray.")
    if not isinstance(arrays, list):
        return 0, _ndim(_arr(arrays))
    if not arrays:
        raise ValueError(f"List at arrays{''.join(f'[{i}]' for i in index)} cannot be empty")
    depths = [_block_depth(a, index + (i,)) for i, a in enumerate(arrays)]
    if len({d for d, _ in depths}) != 1:
        raise ValueError("List depths are mismatched. First element was at depth "
                         f"{depths[0][0] + len(index) + 1}, but there is an element at a "
                         "different depth.")
    return depths[0][0] + 1, builtins.max(n for _, n in depths)


def _block(arrays, depth: int, list_ndim: int, ndim: int):
    if depth < list_ndim:
        parts = [_block(a, depth + 1, list_ndim, ndim) for a in arrays]
        return sh.concatenate(parts, axis=-(list_ndim - depth))
    a = _arr(arrays)
    return sh.reshape(a, (1,) * (ndim - _ndim(a)) + shape_of(a))


def block(arrays):
    """``numpy.block``: assemble an array from nested lists of blocks (innermost lists join the last axis).

    Examples:
        >>> block([[np.eye(2), np.zeros((2, 1))]]).shape
        (2, 3)
    """
    list_ndim, arr_ndim = _block_depth(arrays)
    return _block(arrays, 0, list_ndim, builtins.max(list_ndim, arr_ndim))


def diagflat(v, k: int = 0):
    """``numpy.diagflat``: the flattened input on the ``k``-th diagonal of a square matrix.

    Examples:
        >>> diagflat(np.array([[1.0, 2.0]]))
        array([[1., 0.],
               [0., 2.]])
    """
    return sh.diag(sh.ravel(_arr(v)), k)


# -- along an axis ----------------------------------------------------------------------
def _index_array(indices, name: str):
    indices = indices if isinstance(indices, Tracer) else np.asarray(indices)
    if np.dtype(dtype_of(indices)).kind not in "iu":
        raise TypeError(f"{name}: indices must be an integer array, got dtype {dtype_of(indices)}")
    return indices


def take_along_axis(arr, indices, axis: int | None = -1):
    """``numpy.take_along_axis``: pick along ``axis`` with an index array of the same rank
    (``axis=None``: along the flattened array).  Other axes broadcast.

    Examples:
        >>> take_along_axis(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1], [0]]), axis=1)
        array([[2.],
               [3.]])
    """
    arr, indices = _arr(arr), _index_array(indices, "take_along_axis")
    if axis is None:
        if _ndim(indices) != 1:
            raise ShapeError("take_along_axis: when axis=None, indices must have a single "
                             f"dimension, got shape {shape_of(indices)}")
        arr, axis = sh.ravel(arr), 0
    return indexing.take_along_axis(arr, indices, axis)


def put_along_axis(arr, indices, values, axis: int | None):
    """``numpy.put_along_axis``, functional: a new array with ``values`` written at ``indices``
    along ``axis``; ``arr`` is left unchanged.  For repeated indices the last write wins.

    Examples:
        >>> put_along_axis(np.zeros((2, 2)), np.array([[1], [0]]), 5.0, axis=1)
        array([[0., 5.],
               [5., 0.]])
    """
    arr, indices = _arr(arr), _index_array(indices, "put_along_axis")
    shape = shape_of(arr)
    if axis is None:
        if _ndim(indices) != 1:
            raise ShapeError("put_along_axis: when axis=None, indices must have a single "
                             f"dimension, got shape {shape_of(indices)}")
        return sh.reshape(put_along_axis(sh.ravel(arr), indices, values, 0), shape)
    if _ndim(indices) != len(shape):
        raise ShapeError(f"put_along_axis: indices of shape {shape_of(indices)} must have as many "
                         f"dimensions as the array of shape {shape}")
    axis = _axis(axis, len(shape))
    index = indexing.along_axis_index(shape, indices, axis)
    values = _arr(values)
    target = np.broadcast_shapes(*[shape_of(i) for i in index])
    return indexing.at(arr)[index].set(sh.broadcast_to(misc.astype(values, dtype_of(arr)), target))


# -- choosing -------------------------------------------------------------------------------
def select(condlist, choicelist, default=0):
    """``numpy.select``: where the first true condition picks its choice, else ``default``.

    Examples:
        >>> x = np.array([-1.0, 0.5, 2.0])
        >>> select([x < 0, x > 1], [-x, x ** 2], default=0.0)
        array([1., 0., 4.])
    """
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if not condlist:
        raise ValueError("select with an empty condition list is not possible")
    conds = [_arr(c) for c in condlist]
    for i, c in enumerate(conds):
        if dtype_of(c) != np.bool_:
            raise TypeError(f"invalid entry {i} in condlist: should be boolean ndarray")
    choices = [_arr(c) for c in choicelist]
    dtype = np.result_type(*[dtype_of(c) for c in choices],
                           default if isinstance(default, (int, float, complex)) else dtype_of(_arr(default)))
    out = misc.astype(_arr(default), dtype)
    for c, v in zip(reversed(conds), reversed(choices)):
        out = ew.where(c, misc.astype(v, dtype), out)
    try:  # NumPy broadcasts every condition and choice together
        shape = np.broadcast_shapes(*[shape_of(a) for a in conds + choices], shape_of(out))
    except ValueError:
        raise ShapeError("select: conditions and choices of shapes "
                         + ", ".join(str(shape_of(a)) for a in conds + choices)
                         + " cannot be broadcast together") from None
    return sh.broadcast_to(out, shape)


def piecewise(x, condlist, funclist, *args, **kw):
    """``numpy.piecewise``: ``funclist[i]`` (a function or a constant) where ``condlist[i]`` holds;
    later conditions win; one extra function is the default where no condition holds.

    Each function is evaluated on the whole ``x`` and its values selected with ``where``.

    Examples:
        >>> x = np.array([-2.0, 0.5, 3.0])
        >>> piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2])
        array([2.  , 0.25, 9.  ])
    """
    x = _arr(x)
    if isinstance(condlist, (bool, np.bool_)) or (
            isinstance(condlist, (Tracer, np.ndarray)) and _ndim(condlist) == _ndim(x)):
        condlist = [condlist]
    conds = [_arr(c) for c in condlist]
    n, n2 = len(conds), len(funclist)
    if n2 == n + 1:
        none = ew.logical_not(functools.reduce(ew.logical_or, conds)) if conds else np.ones(shape_of(x), bool)
        conds.append(none)
    elif n2 != n:
        raise ValueError(f"with {n} condition(s), either {n} or {n + 1} functions are expected")
    out = np.zeros(shape_of(x), dtype_of(x))
    for c, f in zip(conds, funclist):
        value = f(x, *args, **kw) if callable(f) else f
        out = ew.where(c, misc.astype(_arr(value), dtype_of(x)), out)
    return sh.broadcast_to(out, shape_of(x))


def copy(a, order: str = "K", subok: bool = False):
    """``numpy.copy``; a traced value is returned as it is (traced values are immutable).

    Examples:
        >>> copy(np.ones(2))
        array([1., 1.])
    """
    if _traced(a):
        return _arr(a)
    return np.copy(a, order=order, subok=subok)

