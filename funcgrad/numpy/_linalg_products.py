"""Products and tensor helpers of ``numpy.linalg``: ``matrix_power``, ``multi_dot``,
``tensorsolve``, ``tensorinv``, and the array-API functions ``trace``, ``diagonal``,
``outer``, ``cross``, ``vecdot``, ``matmul``, ``tensordot`` and ``matrix_transpose`` with
NumPy 2's ``linalg`` signatures (``trace`` and ``diagonal`` act on the last two axes,
``outer`` and ``cross`` take only 1-D and 3-vector operands, unlike their namesakes in
the main namespace).

All are compositions of differentiable primitives (``matmul``, ``inv``, ``solve``,
shape ops, ``sum``), so their derivatives are those primitives' rules.

Examples:
    >>> import numpy as np
    >>> matrix_power(np.array([[1.0, 1.0], [0.0, 1.0]]), 3)
    array([[1., 3.],
           [0., 1.]])
"""

from __future__ import annotations

import math
import operator

import numpy as np

from funcgrad.errors import ArgumentError, ShapeError
from funcgrad.numpy._calculus import cross as _cross
from funcgrad.ops import elementwise as ew
from funcgrad.ops import reductions as red
from funcgrad.ops import shape as sh
from funcgrad.ops._family import complex_valued, dtype_of, shape_of
from funcgrad.ops.linalg import _array, _here, inv, solve
from funcgrad.ops.linalg import matmul as _matmul
from funcgrad.ops.linalg import tensordot as _tensordot
from funcgrad.ops.misc import astype

__all__ = ["cross", "diagonal", "matmul", "matrix_power", "matrix_transpose", "multi_dot", "outer",
           "tensordot", "tensorinv", "tensorsolve", "trace", "vecdot"]


def matrix_power(a, n):
    """``numpy.linalg.matrix_power``: ``a`` multiplied by itself ``n`` times (an integer);
    ``n = 0`` gives the identity, a negative ``n`` the power of ``inv(a)``.

    Examples:
        >>> matrix_power(np.diag([2.0, 3.0]), -1)
        array([[0.5       , 0.        ],
               [0.        , 0.33333333]])
    """
    a = _array(a)
    s = shape_of(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise ShapeError(f"matrix_power: expected a square matrix or a stack of them "
                         f"(..., M, M), got shape {s}{_here()}")
    try:
        n = operator.index(n)
    except TypeError:
        raise ArgumentError(f"matrix_power: exponent must be an integer, got "
                            f"{type(n).__name__} {n!r}{_here()}") from None
    if n == 0:  # NumPy's identity in a's dtype: a constant, so no gradient flows
        return np.broadcast_to(np.eye(s[-1], dtype=dtype_of(a)), s).copy()
    if n < 0:
        a, n = inv(a), -n
    result = None
    while True:  # binary powering: about 2 log2(n) products, as NumPy
        if n & 1:
            result = a if result is None else _matmul(result, a)
        n >>= 1
        if not n:
            return result
        a = _matmul(a, a)


def _chain_order(dims: list[int]) -> list[list[int]]:
    """``split[i][j]``: where the cheapest product of matrices ``i..j`` splits (matrix-chain DP)."""
    k = len(dims) - 1
    cost = [[0] * k for _ in range(k)]
    split = [[0] * k for _ in range(k)]
    for length in range(1, k):
        for i in range(k - length):
            j = i + length
            cost[i][j] = math.inf
            for m in range(i, j):
                c = cost[i][m] + cost[m + 1][j] + dims[i] * dims[m + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, m
    return split


def _chain_product(arrays, split, i: int, j: int):
    if i == j:
        return arrays[i]
    m = split[i][j]
    return _matmul(_chain_product(arrays, split, i, m), _chain_product(arrays, split, m + 1, j))


def multi_dot(arrays, *, out=None):
    """``numpy.linalg.multi_dot``: the product of two or more matrices in the cheapest order
    (the first may be a 1-D row vector, the last a 1-D column vector).

    Examples:
        >>> multi_dot([np.ones(2), np.ones((2, 3)), np.ones(3)])
        np.float64(6.0)
    """
    if out is not None:
        raise ArgumentError(f"multi_dot: out= is not supported (arrays are immutable); "
                            f"use the returned value{_here()}")
    arrays = [_array(x) for x in arrays]
    if len(arrays) < 2:
        raise ShapeError(f"multi_dot: expecting at least two arrays, got {len(arrays)}{_here()}")
    first_vec, last_vec = len(shape_of(arrays[0])) == 1, len(shape_of(arrays[-1])) == 1
    if first_vec:
        arrays[0] = sh.expand_dims(arrays[0], 0)
    if last_vec:
        arrays[-1] = sh.expand_dims(arrays[-1], -1)
    for i, x in enumerate(arrays):
        if len(shape_of(x)) != 2:
            raise ShapeError(f"multi_dot: array {i} has shape {shape_of(x)}; every array must be "
                             "two-dimensional (the first and last may be one-dimensional)"
                             f"{_here()}")
    for i in range(len(arrays) - 1):
        if shape_of(arrays[i])[1] != shape_of(arrays[i + 1])[0]:
            raise ShapeError(f"multi_dot: shapes {shape_of(arrays[i])} and "
                             f"{shape_of(arrays[i + 1])} (arrays {i} and {i + 1}) are not "
                             f"aligned{_here()}")
    dims = [shape_of(arrays[0])[0]] + [shape_of(x)[1] for x in arrays]
    result = _chain_product(arrays, _chain_order(dims), 0, len(arrays) - 1)
    if first_vec and last_vec:
        out = sh.reshape(result, ())
        return out[()] if isinstance(out, np.ndarray) else out  # NumPy's scalar
    if first_vec:
        return sh.reshape(result, shape_of(result)[1:])
    if last_vec:
        return sh.reshape(result, shape_of(result)[:-1])
    return result


def tensorsolve(a, b, axes=None):
    """``numpy.linalg.tensorsolve``: ``x`` with ``tensordot(a, x, x.ndim) == b``;
    ``axes`` are moved to the end of ``a`` first.

    Examples:
        >>> tensorsolve(np.eye(6).reshape(2, 3, 6), np.ones((2, 3))).shape
        (6,)
    """
    a, b = _array(a), _array(b)
    an, bn = len(shape_of(a)), len(shape_of(b))
    if axes is not None:
        order = list(range(an))
        for k in axes:
            k = operator.index(k) % max(an, 1)
            order.remove(k)
            order.append(k)
        a = sh.transpose(a, tuple(order))
    old = shape_of(a)[bn:]
    size = math.prod(old)
    if math.prod(shape_of(a)) != size ** 2 or math.prod(shape_of(a)[:bn]) != math.prod(shape_of(b)):
        raise ShapeError(f"tensorsolve: a of shape {shape_of(a)} and b of shape {shape_of(b)} must "
                         "satisfy prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim]) == b.size"
                         f"{_here()}")
    x = solve(sh.reshape(a, (size, size)), sh.ravel(b))
    return sh.reshape(x, old)


def tensorinv(a, ind: int = 2):
    """``numpy.linalg.tensorinv``: the inverse of ``a`` as a map from its last axes to its
    first ``ind`` axes, so ``tensordot(tensorinv(a, ind), a, ind)`` is the identity.

    Examples:
        >>> tensorinv(np.eye(4).reshape(4, 2, 2), ind=1).shape
        (2, 2, 4)
    """
    a = _array(a)
    ind = operator.index(ind)
    if ind <= 0:
        raise ArgumentError(f"tensorinv: invalid ind argument {ind} (must be positive){_here()}")
    old = shape_of(a)
    size = math.prod(old[ind:])
    if math.prod(old) != size * size:
        raise ShapeError(f"tensorinv: a of shape {old} with ind={ind} is not square: "
                         f"prod(a.shape[:ind]) = {math.prod(old[:ind])} != prod(a.shape[ind:]) "
                         f"= {size}{_here()}")
    return sh.reshape(inv(sh.reshape(a, (size, size))), old[ind:] + old[:ind])


def trace(x, /, *, offset: int = 0, dtype=None):
    """``numpy.linalg.trace``: the sum of the ``offset`` diagonal of each matrix (last two axes).

    Examples:
        >>> trace(np.arange(8.0).reshape(2, 2, 2))
        array([ 3., 11.])
    """
    d = diagonal(x, offset=offset)
    return red.sum(d if dtype is None else astype(d, np.dtype(dtype)), axis=-1)  # sums in dtype


def diagonal(x, /, *, offset: int = 0):
    """``numpy.linalg.diagonal``: the ``offset`` diagonal of each matrix (last two axes).

    Examples:
        >>> diagonal(np.arange(4.0).reshape(2, 2))
        array([0., 3.])
    """
    return sh.diagonal(_array(x), operator.index(offset), -2, -1)


def outer(x1, x2, /):
    """``numpy.linalg.outer``: ``out[i, j] = x1[i] * x2[j]`` for two 1-D arrays.

    Examples:
        >>> outer(np.array([1.0, 2.0]), np.array([1.0, 10.0]))
        array([[ 1., 10.],
               [ 2., 20.]])
    """
    x1, x2 = _array(x1), _array(x2)
    if len(shape_of(x1)) != 1 or len(shape_of(x2)) != 1:
        raise ShapeError(f"outer: input arrays must be one-dimensional, got shapes "
                         f"{shape_of(x1)} and {shape_of(x2)}{_here()}")
    return ew.multiply(sh.expand_dims(x1, -1), sh.expand_dims(x2, 0))


def cross(x1, x2, /, *, axis: int = -1):
    """``numpy.linalg.cross``: the cross product of 3-vectors along ``axis``, broadcasting.

    Examples:
        >>> cross(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
        array([0., 0., 1.])
    """
    x1, x2 = _array(x1), _array(x2)
    n1, n2 = _axis_length(x1, axis, "cross"), _axis_length(x2, axis, "cross")
    if n1 != 3 or n2 != 3:
        raise ShapeError(f"cross: both input arrays must be (arrays of) 3-dimensional vectors, "
                         f"but they are {n1} and {n2} dimensional along axis={axis}{_here()}")
    return _cross(x1, x2, axis=axis)


def _axis_length(x, axis, name: str) -> int:
    s = shape_of(x)
    axis = operator.index(axis)
    if not -len(s) <= axis < len(s):
        raise ShapeError(f"{name}: axis={axis} is out of range for an array of shape {s}{_here()}")
    return s[axis]


def vecdot(x1, x2, /, *, axis: int = -1):
    """``numpy.linalg.vecdot``: ``sum(conj(x1) * x2)`` along ``axis``, broadcasting the rest.

    Examples:
        >>> vecdot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
        array([3., 7.])
    """
    x1, x2 = _array(x1), _array(x2)
    n1, n2 = _axis_length(x1, axis, "vecdot"), _axis_length(x2, axis, "vecdot")
    if n1 != n2:
        raise ShapeError(f"vecdot: the vectors along axis={axis} have different lengths: shapes "
                         f"{shape_of(x1)} and {shape_of(x2)}{_here()}")
    x1, x2 = sh.moveaxis(x1, axis, -1), sh.moveaxis(x2, axis, -1)
    if complex_valued(x1):
        x1 = ew.conj(x1)
    return red.sum(x1 * x2, axis=-1)


def matmul(x1, x2, /):
    """``numpy.linalg.matmul``: ``numpy.matmul`` with positional operands.

    Examples:
        >>> matmul(np.eye(2), np.array([1.0, 2.0]))
        array([1., 2.])
    """
    return _matmul(_array(x1), _array(x2))


def tensordot(x1, x2, /, *, axes=2):
    """``numpy.linalg.tensordot``: ``numpy.tensordot`` with ``axes`` keyword-only.

    Examples:
        >>> tensordot(np.ones((2, 3)), np.ones((3, 4)), axes=1).shape
        (2, 4)
    """
    return _tensordot(x1, x2, axes=axes)


def matrix_transpose(x, /):
    """``numpy.linalg.matrix_transpose``: swap the last two axes of a (stack of) matrices.

    Examples:
        >>> matrix_transpose(np.arange(6.0).reshape(2, 3)).shape
        (3, 2)
    """
    x = _array(x)
    if len(shape_of(x)) < 2:
        raise ShapeError(f"matrix_transpose: expected an array of at least 2 dimensions, got "
                         f"shape {shape_of(x)}{_here()}")
    return sh.swapaxes(x, -1, -2)
