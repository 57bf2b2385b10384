"""Value tests and dtype rules: ``isinf``/``isposinf``/``isneginf``, ``isclose``, ``allclose``,
``array_equal``, ``array_equiv``, ``isscalar``, ``result_type`` and ``promote_types``.

Boolean results have no derivative.  On plain arrays each is NumPy's; on traced ones
the tests are built from elementwise ops, so they run under ``jit`` and ``vmap``, where
``allclose``/``array_equal``/``array_equiv`` return a traced boolean (NumPy returns a
Python ``bool``; ``bool(...)`` of it works where the value is known, as under ``grad``).

Examples:
    >>> isclose(np.array([1.0, 1.1]), 1.0)
    array([ True, False])
    >>> result_type(np.float32, 1.0)
    dtype('float32')
"""

from __future__ import annotations

import numpy as np

from funcgrad._core.trace import Tracer
from funcgrad.ops import elementwise as ew
from funcgrad.ops import misc
from funcgrad.ops import reductions as red
from funcgrad.ops._family import dtype_of, shape_of

__all__ = ["allclose", "array_equal", "array_equiv", "isclose", "isinf", "isneginf", "isposinf",
           "isscalar", "promote_types", "result_type"]


def _traced(*xs) -> bool:
    return any(isinstance(x, Tracer) for x in xs)


def isinf(x):
    """``numpy.isinf``: True at positive or negative infinity.

    Examples:
        >>> isinf(np.array([1.0, np.inf, -np.inf, np.nan]))
        array([False,  True,  True, False])
    """
    if not _traced(x):
        return np.isinf(x)
    return ew.logical_not(ew.logical_or(ew.isfinite(x), ew.isnan(x)))


def isposinf(x):
    """``numpy.isposinf``: True at positive infinity (real input).

    Examples:
        >>> isposinf(np.array([np.inf, -np.inf]))
        array([ True, False])
    """
    if not _traced(x):
        return np.isposinf(x)
    return ew.logical_and(isinf(x), ew.greater(x, 0))


def isneginf(x):
    """``numpy.isneginf``: True at negative infinity (real input).

    Examples:
        >>> isneginf(np.array([np.inf, -np.inf]))
        array([False,  True])
    """
    if not _traced(x):
        return np.isneginf(x)
    return ew.logical_and(isinf(x), ew.less(x, 0))


def isclose(a, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
    """``numpy.isclose``: ``|a - b| <= atol + rtol * |b|`` elementwise (infinities equal only to themselves).

    Examples:
        >>> isclose(np.array([1e-9, np.inf]), np.array([0.0, np.inf]))
        array([ True,  True])
    """
    if not _traced(a, b):
        return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    dtype = np.result_type(dtype_of(b), 1.0)
    x, y = misc.astype(a, np.result_type(dtype_of(a), dtype)), misc.astype(b, dtype)
    close = ew.less_equal(ew.abs(x - y), atol + rtol * ew.abs(y))
    result = ew.logical_or(ew.logical_and(close, ew.isfinite(y)), ew.equal(x, y))
    if equal_nan:
        result = ew.logical_or(result, ew.logical_and(ew.isnan(x), ew.isnan(y)))
    return result


def allclose(a, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
    """``numpy.allclose``: :func:`isclose` everywhere.

    Examples:
        >>> allclose(np.ones(3), 1.0 + 1e-9)
        True
    """
    if not _traced(a, b):
        return np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return red.all(isclose(a, b, rtol, atol, equal_nan))


def array_equal(a1, a2, equal_nan: bool = False):
    """``numpy.array_equal``: same shape and the same elements.

    Examples:
        >>> array_equal(np.ones(2), np.ones(3))
        False
    """
    if not _traced(a1, a2):
        return np.array_equal(a1, a2, equal_nan=equal_nan)
    if shape_of(a1) != shape_of(a2):
        return False
    same = ew.equal(a1, a2)
    if equal_nan:
        same = ew.logical_or(same, ew.logical_and(ew.isnan(a1), ew.isnan(a2)))
    return red.all(same)


def array_equiv(a1, a2):
    """``numpy.array_equiv``: equal after broadcasting (False when the shapes do not broadcast).

    Examples:
        >>> array_equiv(np.ones((2, 2)), np.ones(2))
        True
    """
    if not _traced(a1, a2):
        return np.array_equiv(a1, a2)
    try:
        np.broadcast_shapes(shape_of(a1), shape_of(a2))
    except ValueError:
        return False
    return red.all(ew.equal(a1, a2))


def isscalar(element) -> bool:
    """``numpy.isscalar``; a 0-d traced value counts as a scalar (as in JAX), since it stands
    for the Python or NumPy scalar the function was called with.

    Examples:
        >>> isscalar(1.0), isscalar(np.ones(1))
        (True, False)
    """
    if isinstance(element, Tracer):
        return not shape_of(element)
    return np.isscalar(element)


def _dtype_or_value(x):
    return dtype_of(x) if isinstance(x, Tracer) else x


def result_type(*arrays_and_dtypes) -> np.dtype:
    """``numpy.result_type`` that also reads traced values' dtypes (Python scalars stay weak).

    Examples:
        >>> result_type(np.ones(2, np.float32), np.int64)
        dtype('float64')
    """
    return np.result_type(*[_dtype_or_value(x) for x in arrays_and_dtypes])


def promote_types(type1, type2) -> np.dtype:
    """``numpy.promote_types``: the smallest dtype both cast to safely.

    Examples:
        >>> promote_types(np.int8, np.float32)
        dtype('float32')
    """
    return np.promote_types(type1, type2)
