"""Shape primitives (reshape, transpose, broadcast_to, concatenate, pad) and the
NumPy shape functions built from them and from indexing.
"""

from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.errors import ShapeError
from funcgrad.ops._array_like import as_operand, asarray
from funcgrad.ops._family import batch_size, dtype_of, shape_of, unbroadcast


def _axis(axis, ndim, name="axis") -> int:
    axis = operator.index(axis)
    if not -ndim <= axis < ndim:
        raise ShapeError(f"{name}={axis} is out of range for an array of {ndim} dimensions")
    return axis % ndim


# -- reshape -----------------------------------------------------------------
def _reshape_aval(x, shape):
    size = math.prod(shape_of(x))
    if math.prod(shape) != size:
        raise ShapeError(f"reshape: cannot reshape an array of shape {shape_of(x)} "
                         f"(size {size}) into shape {shape}")
    return shape, dtype_of(x)


def _reshape_impl(x, shape):
    return x.reshape(shape) if type(x) is np.ndarray else np.reshape(x, shape)


reshape_p = Primitive("reshape", _reshape_impl, _reshape_aval)
reshape_p.moves_data = True
reshape_p.defvjp(lambda g, ans, x, shape: reshape(g, shape_of(x)))
reshape_p.defjvp(lambda t, ans, x, shape: reshape_p.bind(t, shape=shape))


def _batch_reshape(values, dims, shape):
    (x,), (d,) = values, dims
    x = moveaxis(x, d, 0)
    return reshape(x, shape_of(x)[:1] + shape), 0


reshape_p.defbatch(_batch_reshape)


def _resolve_shape(old, shape) -> tuple[int, ...]:
    if type(shape) is tuple and -1 not in shape and math.prod(shape) == math.prod(old):
        return shape  # the common case: an explicit, valid tuple
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(map(operator.index, shape))
    size = math.prod(old)
    if shape.count(-1) > 1:
        raise ShapeError(f"reshape: can only specify one unknown dimension, got {shape}")
    if -1 in shape:
        known = math.prod([n for n in shape if n != -1])
        if known == 0 or size % known:
            raise ShapeError(f"reshape: cannot reshape an array of shape {old} into shape {shape}")
        shape = tuple(size // known if n == -1 else n for n in shape)
    if math.prod(shape) != size:
        raise ShapeError(f"reshape: cannot reshape an array of shape {old} (size {size}) "
                         f"into shape {shape}")
    return shape


def reshape(x, shape, *more):
    """``numpy.reshape`` (one ``-1`` allowed).

    Examples:
        >>> reshape(np.arange(6.0), (2, -1)).shape
        (2, 3)
    """
    if more:
        shape = (shape, *more)
    shape = _resolve_shape(shape_of(x), shape)
    if shape == shape_of(x):
        return as_operand(x)  # a list holding tracers is still made an array
    return reshape_p.bind(x, shape=shape)


def ravel(x):
    """``numpy.ravel``: flatten to one dimension (C order).

    Examples:
        >>> ravel(np.ones((2, 2))).shape
        (4,)
    """
    return reshape(x, (-1,))


def expand_dims(x, axis):
    """``numpy.expand_dims`` (``axis`` int or tuple).

    Examples:
        >>> expand_dims(np.ones(3), 0).shape
        (1, 3)
    """
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    ndim = len(shape_of(x)) + len(axes)
    axes = sorted(_axis(a, ndim) for a in axes)
    shape = list(shape_of(x))
    for a in axes:
        shape.insert(a, 1)
    return reshape(x, tuple(shape))


def squeeze(x, axis=None):
    """``numpy.squeeze``; squeezing an axis whose length is not 1 is a :class:`ShapeError`.

    Examples:
        >>> squeeze(np.ones((1, 3, 1))).shape
        (3,)
    """
    shape = shape_of(x)
    if axis is None:
        axes = {i for i, n in enumerate(shape) if n == 1}
    else:
        axes = {_axis(a, len(shape)) for a in ((axis,) if isinstance(axis, (int, np.integer)) else axis)}
        bad = [a for a in axes if shape[a] != 1]
        if bad:
            raise ShapeError(f"squeeze: axis {bad[0]} of shape {shape} has length {shape[bad[0]]}, not 1")
    return reshape(x, tuple(n for i, n in enumerate(shape) if i not in axes))


# -- transpose ---------------------------------------------------------------
def _transpose_aval(x, axes):
    return tuple(shape_of(x)[a] for a in axes), dtype_of(x)


def _transpose_impl(x, axes):
    return x.transpose(axes) if type(x) is np.ndarray else np.transpose(x, axes)


transpose_p = Primitive("transpose", _transpose_impl, _transpose_aval)
transpose_p.moves_data = True
transpose_p.defvjp(lambda g, ans, x, axes: transpose(g, tuple(np.argsort(axes))))
transpose_p.defjvp(lambda t, ans, x, axes: transpose_p.bind(t, axes=axes))
# One permutation: the batch axis first, then the logical axes (stepping over the batch axis).
transpose_p.defbatch(lambda values, dims, axes: (
    transpose(values[0], (dims[0],) + tuple(a + (a >= dims[0]) for a in axes)), 0))


def transpose(x, axes=None):
    """``numpy.transpose`` (reverse the axes, or permute them by ``axes``).

    Examples:
        >>> transpose(np.ones((2, 3))).shape
        (3, 2)
    """
    ndim = len(shape_of(x))
    if axes is None:
        axes = tuple(range(ndim))[::-1]
    else:
        axes = tuple(_axis(a, ndim, "axes") for a in axes)
        if sorted(axes) != list(range(ndim)):
            raise ShapeError(f"transpose: axes {axes} is not a permutation of {ndim} axes")
    if axes == tuple(range(ndim)):
        return as_operand(x)
    return transpose_p.bind(x, axes=axes)


def swapaxes(x, axis1, axis2):
    """``numpy.swapaxes``.

    Examples:
        >>> swapaxes(np.ones((2, 3, 4)), 0, 2).shape
        (4, 3, 2)
    """
    ndim = len(shape_of(x))
    axes = list(range(ndim))
    a, b = _axis(axis1, ndim), _axis(axis2, ndim)
    axes[a], axes[b] = axes[b], axes[a]
    return transpose(x, tuple(axes))


def moveaxis(x, source, destination):
    """``numpy.moveaxis`` (ints or sequences).

    Examples:
        >>> moveaxis(np.ones((2, 3, 4)), 0, -1).shape
        (3, 4, 2)
    """
    ndim = len(shape_of(x))
    src = [source] if isinstance(source, (int, np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    if len(src) != len(dst):
        raise ShapeError("moveaxis: source and destination must have the same number of elements")
    src = [_axis(a, ndim, "source") for a in src]
    dst = [_axis(a, ndim, "destination") for a in dst]
    order = [a for a in range(ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, tuple(order))


# -- broadcast_to --------------------------------------------------------------
def _broadcast_aval(x, shape):
    try:
        np.broadcast_shapes(shape_of(x), shape)
        if np.broadcast_shapes(shape_of(x), shape) != shape:
            raise ValueError
    except ValueError:
        raise ShapeError(f"broadcast_to: cannot broadcast an array of shape {shape_of(x)} "
                         f"to shape {shape}") from None
    return shape, dtype_of(x)


_SMALL = 4096  # below this many elements a filled copy is cheaper than np.broadcast_to's view


def _broadcast_impl(x, shape):
    if math.prod(shape) <= _SMALL:
        x = np.asarray(x)
        out = np.empty(shape, x.dtype)
        out[...] = x
        return out
    return np.broadcast_to(x, shape)


broadcast_to_p = Primitive("broadcast_to", _broadcast_impl, _broadcast_aval)
broadcast_to_p.moves_data = True
broadcast_to_p.defvjp(lambda g, ans, x, shape: unbroadcast(g, x))
broadcast_to_p.defjvp(lambda t, ans, x, shape: broadcast_to_p.bind(t, shape=shape))


def _batch_broadcast_to(values, dims, shape):
    # Batch axis first, then align the logical ranks so NumPy's rules see the logical shapes.
    (x,), (d,) = values, dims
    x = moveaxis(x, d, 0)
    size, rest = shape_of(x)[0], shape_of(x)[1:]
    x = reshape(x, (size,) + (1,) * (len(shape) - len(rest)) + rest)
    return broadcast_to(x, (size,) + shape), 0


broadcast_to_p.defbatch(_batch_broadcast_to)


def broadcast_to(x, shape):
    """``numpy.broadcast_to`` (its derivative sums over the broadcast axes).

    Examples:
        >>> broadcast_to(np.ones(3), (2, 3)).shape
        (2, 3)
    """
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(map(operator.index, shape))
    if shape == shape_of(x):
        return as_operand(x)
    return broadcast_to_p.bind(x, shape=shape)


# -- concatenate ---------------------------------------------------------------
def _concat_aval(*xs, axis):
    shapes = [shape_of(x) for x in xs]
    base = shapes[0]
    for s in shapes[1:]:
        if len(s) != len(base) or any(a != b for i, (a, b) in enumerate(zip(s, base)) if i != axis):
            raise ShapeError(f"concatenate: shapes {', '.join(map(str, shapes))} do not match "
                             f"outside axis {axis}")
    shape = list(base)
    shape[axis] = builtins.sum(s[axis] for s in shapes)
    return tuple(shape), np.result_type(*[dtype_of(x) for x in xs])


def _concat_vjp(i, g, ans, *xs, axis):
    start = builtins.sum(shape_of(x)[axis] for x in xs[:i])
    index = (slice(None),) * axis + (slice(start, start + shape_of(xs[i])[axis]),)
    return unbroadcast(g[index], xs[i])


def _concat_jvp(primals, tangents, axis):
    ans = concatenate_p.bind(*primals, axis=axis)
    if all(t is None for t in tangents):
        return ans, None
    # Inputs without a tangent contribute zeros of their own shape.
    tangents = [np.zeros(shape_of(x), dtype_of(ans)) if t is None else t
                for x, t in zip(primals, tangents)]
    return ans, concatenate_p.bind(*tangents, axis=axis)


def _batch_concat(values, dims, axis):
    size = batch_size(values, dims)
    moved = [broadcast_to(expand_dims(v, 0), (size,) + shape_of(v)) if d is None else moveaxis(v, d, 0)
             for v, d in zip(values, dims)]
    return concatenate_p.bind(*moved, axis=axis + 1), 0


concatenate_p = Primitive("concatenate", lambda *xs, axis: np.concatenate(xs, axis=axis),
                          _concat_aval)
concatenate_p.defvjp_argnum(_concat_vjp)
concatenate_p.defjvp_full(_concat_jvp)
concatenate_p.defbatch(_batch_concat)


def concatenate(arrays, axis: int = 0):
    """``numpy.concatenate`` of a sequence of arrays along an existing axis.

    Examples:
        >>> concatenate([np.ones(2), np.zeros(1)]).shape
        (3,)
    """
    arrays = list(arrays)
    if not arrays:
        raise ShapeError("concatenate: need at least one array")
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    ndim = len(shape_of(arrays[0]))
    if ndim == 0:
        raise ShapeError("concatenate: zero-dimensional arrays cannot be concatenated")
    return concatenate_p.bind(*arrays, axis=_axis(axis, ndim))


def stack(arrays, axis: int = 0):
    """``numpy.stack``: join arrays of equal shape along a new axis.

    Examples:
        >>> stack([np.ones(2), np.zeros(2)]).shape
        (2, 2)
    """
    arrays = list(arrays)
    if not arrays:
        raise ShapeError("stack: need at least one array")
    shapes = {shape_of(a) for a in arrays}
    if len(shapes) != 1:
        raise ShapeError(f"stack: all input arrays must have the same shape, got {sorted(shapes)}")
    axis = _axis(axis, len(shape_of(arrays[0])) + 1)
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)


def atleast_1d(x):
    return reshape(x, (1,)) if len(shape_of(x)) == 0 else x


def atleast_2d(x):
    nd = len(shape_of(x))
    return reshape(x, (1,) * (2 - nd) + shape_of(x)) if nd < 2 else x


def hstack(arrays):
    """``numpy.hstack``.

    Examples:
        >>> hstack([np.ones(2), np.zeros(1)]).shape
        (3,)
    """
    arrays = [atleast_1d(a) for a in arrays]
    return concatenate(arrays, axis=0 if len(shape_of(arrays[0])) == 1 else 1)


def vstack(arrays):
    """``numpy.vstack``.

    Examples:
        >>> vstack([np.ones(2), np.zeros(2)]).shape
        (2, 2)
    """
    return concatenate([atleast_2d(a) for a in arrays], axis=0)


def split(x, indices_or_sections, axis: int = 0):
    """``numpy.split`` into a list of arrays (equal sections, or at the given indices).

    Examples:
        >>> [a.shape for a in split(np.ones(6), 3)]
        [(2,), (2,), (2,)]
    """
    x = asarray(x)
    ndim = len(shape_of(x))
    axis = _axis(axis, ndim)
    n = shape_of(x)[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0 or n % sections:
            raise ShapeError(f"split: array of length {n} along axis {axis} does not split "
                             f"into {sections} equal sections")
        bounds = list(range(0, n + 1, n // sections)) if n else [0] * (sections + 1)
    else:
        bounds = [0, *indices_or_sections, n]
    pre = (slice(None),) * axis
    return [x[pre + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:])]


def tile(x, reps):
    """``numpy.tile``, built from reshape and broadcast_to.

    Examples:
        >>> tile(np.array([1.0, 2.0]), 2)
        array([1., 2., 1., 2.])
    """
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    shape = shape_of(x)
    nd = builtins.max(len(shape), len(reps))
    shape = (1,) * (nd - len(shape)) + shape
    reps = (1,) * (nd - len(reps)) + reps
    x = reshape(x, tuple(v for n in shape for v in (1, n)))
    x = broadcast_to(x, tuple(v for r, n in zip(reps, shape) for v in (r, n)))
    return reshape(x, tuple(r * n for r, n in zip(reps, shape)))


def repeat(x, repeats, axis=None):
    """``numpy.repeat`` (an int, or one count per element along ``axis``).

    Examples:
        >>> repeat(np.array([1.0, 2.0]), 2)
        array([1., 1., 2., 2.])
    """
    from funcgrad.ops import indexing

    if axis is None:
        x, axis = ravel(x), 0
    axis = _axis(axis, len(shape_of(x)))
    if isinstance(repeats, (int, np.integer)):
        shape = shape_of(x)
        y = expand_dims(x, axis + 1)
        y = broadcast_to(y, shape[:axis + 1] + (int(repeats),) + shape[axis + 1:])
        return reshape(y, shape[:axis] + (shape[axis] * int(repeats),) + shape[axis + 1:])
    index = np.repeat(np.arange(shape_of(x)[axis]), np.asarray(repeats))
    return indexing.take(x, index, axis=axis)


def flip(x, axis=None):
    """``numpy.flip`` (all axes when ``axis`` is None).

    Examples:
        >>> flip(np.array([1.0, 2.0]))
        array([2., 1.])
    """
    from funcgrad.ops.reductions import normalize_axis

    x = asarray(x)
    axes = normalize_axis(axis, len(shape_of(x)))
    return x[tuple(slice(None, None, -1) if i in axes else slice(None)
                   for i in range(len(shape_of(x))))]


# -- pad -----------------------------------------------------------------------
def pad(x, pad_width, mode: str = "constant", **kwargs):
    """``numpy.pad``: every mode lives in :mod:`funcgrad.ops.pad` (imported when first used).

    Examples:
        >>> pad(np.ones(2), 1)
        array([0., 1., 1., 0.])
    """
    from funcgrad.ops.pad import pad as pad_

    return pad_(x, pad_width, mode, **kwargs)


# -- triangles and diagonals -------------------------------------------------------
def _tri_mask(x, k, upper):
    from funcgrad.ops import elementwise as ew

    n, m = shape_of(x)[-2:]
    mask = np.triu(np.ones((n, m), dtype=bool), k) if upper else np.tril(np.ones((n, m), dtype=bool), k)
    return ew.where(mask, x, 0)


def triu(x, k: int = 0):
    """``numpy.triu``: zero below the ``k``-th diagonal.

    Examples:
        >>> triu(np.ones((2, 2)))
        array([[1., 1.],
               [0., 1.]])
    """
    if len(shape_of(x)) < 2:
        raise ShapeError(f"triu: expected an array of at least 2 dimensions, got shape {shape_of(x)}")
    return _tri_mask(x, k, True)


def tril(x, k: int = 0):
    """``numpy.tril``: zero above the ``k``-th diagonal.

    Examples:
        >>> tril(np.ones((2, 2)))
        array([[1., 0.],
               [1., 1.]])
    """
    if len(shape_of(x)) < 2:
        raise ShapeError(f"tril: expected an array of at least 2 dimensions, got shape {shape_of(x)}")
    return _tri_mask(x, k, False)


def diagonal(x, offset: int = 0, axis1: int = 0, axis2: int = 1):
    """``numpy.diagonal``: the diagonal over ``axis1``/``axis2``, appended as the last axis.

    Examples:
        >>> diagonal(np.arange(4.0).reshape(2, 2))
        array([0., 3.])
    """
    x = asarray(x)
    ndim = len(shape_of(x))
    if ndim < 2:
        raise ShapeError(f"diagonal: expected an array of at least 2 dimensions, got shape {shape_of(x)}")
    y = moveaxis(x, (_axis(axis1, ndim), _axis(axis2, ndim)), (-2, -1))
    n, m = shape_of(y)[-2:]
    rows = np.arange(builtins.max(0, -offset), builtins.min(n, m - offset))
    if rows.size == 0:
        rows = np.arange(0)
    return y[..., rows, rows + offset]


def trace(x, offset: int = 0, axis1: int = 0, axis2: int = 1):
    """``numpy.trace``: the sum of a diagonal.

    Examples:
        >>> trace(np.eye(3))
        np.float64(3.0)
    """
    from funcgrad.ops.reductions import sum

    return sum(diagonal(x, offset, axis1, axis2), axis=-1)


def diag(v, k: int = 0):
    """``numpy.diag``: a 1-D array's diagonal matrix, or a 2-D array's diagonal.

    Examples:
        >>> diag(np.array([1.0, 2.0]))
        array([[1., 0.],
               [0., 2.]])
    """
    nd = len(shape_of(v))
    if nd == 2:
        return diagonal(v, k)
    if nd != 1:
        raise ShapeError(f"diag: expected a 1-D or 2-D array, got shape {shape_of(v)}")
    n = shape_of(v)[0]
    size = n + builtins.abs(k)
    mat = expand_dims(v, 1) * np.eye(n, dtype=bool)  # n x n with v on the diagonal
    before = (builtins.max(0, -k), builtins.max(0, k))
    return pad(mat, (before, (size - n - before[0], size - n - before[1])))
