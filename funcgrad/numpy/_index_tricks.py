"""Index and grid helpers: ``r_``, ``c_``, ``meshgrid``, ``indices``, ``ix_``, ``tri``, ``tril_indices``,
``triu_indices``, ``diag_indices``, ``unravel_index``, ``ravel_multi_index``,
``broadcast_shapes`` and ``empty_like``.

Functions of shapes alone return NumPy's arrays (constants).  ``meshgrid`` and ``ix_`` of
traced vectors are reshapes and broadcasts (``meshgrid`` differentiates);
``unravel_index``/``ravel_multi_index`` of traced integers are integer arithmetic, so
they run under ``jit`` (``mode='raise'`` then cannot check the bounds: NumPy's error
needs the values).

Examples:
    >>> [g.shape for g in meshgrid(np.ones(3), np.ones(2))]
    [(2, 3), (2, 3)]
    >>> unravel_index(5, (2, 3))
    (np.int64(1), np.int64(2))
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from funcgrad._core.trace import Tracer
from funcgrad.errors import ShapeError
from funcgrad.numpy._assembly import _arr, _ndim
from funcgrad.ops import elementwise as ew
from funcgrad.ops import misc
from funcgrad.ops import shape as sh
from funcgrad.ops._array_like import holds_tracer
from funcgrad.ops._family import dtype_of, shape_of

__all__ = ["broadcast_shapes", "c_", "diag_indices", "empty_like", "indices", "ix_", "meshgrid",
           "r_", "ravel_multi_index", "tri", "tril_indices", "triu_indices", "unravel_index"]

# Shapes in, NumPy arrays out: nothing to trace.
broadcast_shapes = np.broadcast_shapes
indices = np.indices
tri = np.tri
tril_indices = np.tril_indices
triu_indices = np.triu_indices
diag_indices = np.diag_indices


def _traced(xs) -> bool:
    return any(isinstance(x, Tracer) for x in xs)


def meshgrid(*xi, copy: bool = True, sparse: bool = False, indexing: str = "xy") -> tuple:
    """``numpy.meshgrid``: coordinate grids from 1-D coordinate vectors (``'xy'`` or ``'ij'``).

    Examples:
        >>> x, y = meshgrid(np.arange(3.0), np.arange(2.0), indexing="ij")
        >>> x.shape, y.shape
        ((3, 2), (3, 2))
    """
    if not _traced(xi):
        return np.meshgrid(*xi, copy=copy, sparse=sparse, indexing=indexing)
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    ndim = len(xi)
    ones = (1,) * ndim
    out = [sh.reshape(x, ones[:i] + (-1,) + ones[i + 1:]) for i, x in enumerate(xi)]
    if indexing == "xy" and ndim > 1:
        out[0] = sh.reshape(out[0], (1, -1) + ones[2:])
        out[1] = sh.reshape(out[1], (-1, 1) + ones[2:])
    if sparse:
        return tuple(out)
    shape = np.broadcast_shapes(*[shape_of(o) for o in out])
    return tuple(sh.broadcast_to(o, shape) for o in out)


def ix_(*args) -> tuple:
    """``numpy.ix_``: open-mesh index arrays (1-D integer or boolean sequences).

    Examples:
        >>> [a.shape for a in ix_([0, 1], [2, 0, 1])]
        [(2, 1), (1, 3)]
    """
    if not _traced(args):
        return np.ix_(*args)
    nd = len(args)
    out = []
    for k, a in enumerate(args):
        if len(shape_of(a)) != 1:
            raise ValueError("Cross index must be 1 dimensional")
        if dtype_of(a) == np.bool_:
            a = np.nonzero(np.asarray(a.concrete_value("ix_ of a boolean mask")
                                      if isinstance(a, Tracer) else a))[0]
        out.append(sh.reshape(a, (1,) * k + (-1,) + (1,) * (nd - k - 1)))
    return tuple(out)


def empty_like(prototype, dtype=None, order: str = "K", subok: bool = True, shape=None):
    """``numpy.empty_like``; for a traced prototype the (constant) result is filled with zeros.

    Examples:
        >>> empty_like(np.ones((2, 3))).shape
        (2, 3)
    """
    if not isinstance(prototype, Tracer) and not holds_tracer(prototype):
        return np.empty_like(prototype, dtype=dtype, order=order, subok=subok, shape=shape)
    return np.zeros(shape_of(prototype) if shape is None else shape, dtype or dtype_of(prototype))


def unravel_index(indices, shape, order: str = "C") -> tuple:
    """``numpy.unravel_index``: flat indices to a tuple of coordinate arrays.

    Examples:
        >>> unravel_index(np.array([1, 5]), (2, 3))
        (array([0, 1]), array([1, 2]))
    """
    if not isinstance(indices, Tracer):
        return np.unravel_index(indices, shape, order=order)
    if np.dtype(dtype_of(indices)).kind not in "iu":
        raise TypeError("only int indices permitted")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    dims = shape if order == "C" else shape[::-1]
    out, rest = [], indices
    for n in reversed(dims):
        out.append(ew.mod(rest, n))
        rest = ew.floor_divide(rest, n)
    out = out[::-1] if order == "C" else out
    return tuple(misc.astype(o, np.intp) for o in out)


def ravel_multi_index(multi_index, dims, mode="raise", order: str = "C"):
    """``numpy.ravel_multi_index``: coordinate arrays to flat indices (``mode`` raise, wrap or clip).

    Examples:
        >>> ravel_multi_index((np.array([0, 1]), np.array([1, 2])), (2, 3))
        array([1, 5])
    """
    if not _traced(multi_index):
        return np.ravel_multi_index(multi_index, dims, mode=mode, order=order)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(multi_index) != len(dims):
        raise ShapeError(f"parameter multi_index must be a sequence of length {len(dims)}")
    modes = mode if isinstance(mode, (tuple, list)) else [mode] * len(dims)
    strides = [math.prod(dims[k + 1:]) if order == "C" else math.prod(dims[:k])
               for k in range(len(dims))]
    total = 0
    for idx, n, m, s in zip(multi_index, dims, modes, strides):
        if np.dtype(dtype_of(idx)).kind not in "iu":
            raise TypeError("only int indices permitted")
        if m == "wrap":
            idx = ew.mod(idx, n)
        elif m == "clip":
            idx = ew.clip(idx, 0, n - 1)
        elif m != "raise":
            raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap', got {m!r}")
        total = total + idx * s
    return misc.astype(total, np.intp)


# -- r_ and c_ ----------------------------------------------------------------------------
class _Concatenator:
    """``numpy.r_`` / ``numpy.c_``: concatenation by index syntax; tracers stay traced.

    Slices become ``arange`` (or ``linspace`` for a complex step, ``0:1:5j``); a leading
    string ``"axis[,ndmin[,trans1d]]"`` sets the concatenation axis as in NumPy.
    """

    def __init__(self, axis: int, ndmin: int, trans1d: int):
        self.axis, self.ndmin, self.trans1d = axis, ndmin, trans1d

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        if not _traced(list(items)):
            return (np.r_ if self.ndmin == 1 else np.c_)[key]
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        parts, scalar_dtypes = [], []
        for k, item in enumerate(items):
            if isinstance(item, str):
                if k:
                    raise ValueError("r_/c_: a string directive must come first")
                if item in ("r", "c"):
                    raise ValueError("r_/c_: matrix directives 'r' and 'c' are not supported")
                vals = [int(v) for v in item.split(",")]
                axis = vals[0]
                ndmin = vals[1] if len(vals) > 1 else ndmin
                trans1d = vals[2] if len(vals) > 2 else trans1d
                continue
            if isinstance(item, slice):
                start = 0 if item.start is None else item.start
                step = 1 if item.step is None else item.step
                if isinstance(step, complex):
                    new = np.linspace(start, item.stop, int(builtins.abs(step)))
                else:
                    new = np.arange(start, item.stop, step)
                new = self._promote(new, ndmin, trans1d, slice_=True)
            elif isinstance(item, (int, float, complex, bool, np.generic)) or (
                    isinstance(item, Tracer) and not shape_of(item)):
                scalar_dtypes.append(item if isinstance(item, (int, float, complex, bool))
                                     else dtype_of(item))
                new = sh.reshape(_arr(item), (1,) * builtins.max(ndmin, 1))
            else:
                new = self._promote(_arr(item), ndmin, trans1d)
            parts.append(new)
        dtype = np.result_type(*[dtype_of(p) for p in parts], *scalar_dtypes) if parts else None
        return sh.concatenate([misc.astype(p, dtype) for p in parts], axis=axis)

    @staticmethod
    def _promote(x, ndmin: int, trans1d: int, slice_: bool = False):
        nd = _ndim(x)
        if ndmin <= nd:
            return x
        x = sh.reshape(x, (1,) * (ndmin - nd) + shape_of(x))
        if trans1d == -1:
            return x
        if slice_:
            return sh.swapaxes(x, -1, trans1d)
        k2, k1 = ndmin - nd, trans1d
        if k1 < 0:
            k1 += k2 + 1
        axes = list(range(ndmin))
        return sh.transpose(x, tuple(axes[:k1] + axes[k2:] + axes[k1:k2]))


r_ = _Concatenator(0, 1, -1)
c_ = _Concatenator(-1, 2, 0)
