"""Hypothesis strategies for property tests of funcgrad code: shapes, arrays and pytrees.

Values are finite floats of moderate magnitude (no NaN, infinity or
subnormals), so a finite-difference check is meaningful on every example.

A property test that checks the first and second derivatives of a broadcasting
function on every generated pair of shapes:

Examples:
    >>> import funcgrad.numpy as fnp
    >>> from hypothesis import given
    >>> from funcgrad.testing import check_grads
    >>> from funcgrad.testing.strategies import array_pairs
    >>> @given(array_pairs(max_side=3))
    ... def test_mul_tanh(pair):
    ...     x, y = pair
    ...     check_grads(lambda x, y: fnp.tanh(x) * y, (x, y))
    >>> test_mul_tanh()

    Needs hypothesis (a test-time dependency); ``import funcgrad.testing`` does not.
"""

from __future__ import annotations

from typing import Any, Literal

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import strategies as st

__all__ = ["array_pairs", "arrays", "broadcastable_shapes", "pytrees", "shapes"]

Shape = tuple[int, ...]
DEFAULT_BOUNDS = (-10.0, 10.0)


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[Shape]:
    """Array shapes with ``min_dims..max_dims`` axes of ``min_side..max_side`` each (``()`` included by default).

    Examples:
        >>> from hypothesis import given
        >>> @given(shapes(max_dims=2))
        ... def test_zeros(shape):
        ...     assert np.zeros(shape).ndim <= 2
        >>> test_zeros()
    """
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def _floats(dtype: np.dtype, bounds: tuple[float, float]) -> st.SearchStrategy[float]:
    """Finite floats in ``[lo, hi]``, representable in ``dtype``, with no subnormals."""
    if dtype.kind != "f":
        raise TypeError(f"arrays: dtype must be a floating-point dtype, got {dtype}")
    kind = dtype.type if dtype.itemsize <= 8 else np.float64
    lo, hi = kind(bounds[0]), kind(bounds[1])
    # Round the bounds inwards to the dtype, which hypothesis needs for widths below 64.
    if float(lo) < bounds[0]:
        lo = np.nextafter(lo, kind(np.inf))
    if float(hi) > bounds[1]:
        hi = np.nextafter(hi, kind(-np.inf))
    size = np.dtype(kind).itemsize
    width: Literal[16, 32, 64] = 16 if size == 2 else 32 if size == 4 else 64
    return st.floats(min_value=float(lo), max_value=float(hi), allow_nan=False,
                     allow_infinity=False, allow_subnormal=False, width=width)


def _elements(elements: Any, dtype: np.dtype) -> st.SearchStrategy:
    if elements is None:
        return _floats(dtype, DEFAULT_BOUNDS)
    if isinstance(elements, st.SearchStrategy):
        return elements
    if isinstance(elements, tuple) and len(elements) == 2:
        return _floats(dtype, (float(elements[0]), float(elements[1])))
    raise TypeError(f"elements must be a (lo, hi) pair or a hypothesis strategy, got {elements!r}")


def arrays(shape: Shape | int | st.SearchStrategy | None = None, dtype: Any = np.float64,
           elements: tuple[float, float] | st.SearchStrategy | None = None, *,
           min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[np.ndarray]:
    """Float arrays of ``dtype`` whose values come from ``elements``.

    ``shape`` is a shape, an int, a strategy of shapes, or ``None`` for any shape
    from :func:`shapes` with the given bounds.  ``elements`` is a ``(lo, hi)``
    pair of bounds (default ``(-10, 10)``) or a strategy of floats.

    Examples:
        >>> from hypothesis import given
        >>> @given(arrays((2, 3), np.float32, elements=(-1, 1)))
        ... def test_tanh_bounded(a):
        ...     assert a.shape == (2, 3) and a.dtype == np.float32
        ...     assert (np.abs(np.tanh(a)) <= np.abs(a)).all()
        >>> test_tanh_bounded()
    """
    dtype = np.dtype(dtype)
    if shape is None:
        shape = shapes(min_dims, max_dims, min_side, max_side)
    return hnp.arrays(dtype, shape, elements=_elements(elements, dtype))


def broadcastable_shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
                         max_side: int = 4) -> st.SearchStrategy[tuple[Shape, Shape]]:
    """Pairs ``(shape_a, shape_b)`` that broadcast together under NumPy's rules.

    The pairs include 0-d shapes, axes of size 1 and different ranks.

    Examples:
        >>> from hypothesis import given
        >>> @given(broadcastable_shapes())
        ... def test_add_shape(pair):
        ...     a, b = pair
        ...     assert (np.zeros(a) + np.zeros(b)).shape == np.broadcast_shapes(a, b)
        >>> test_add_shape()
    """
    return hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
        max_side=max_side).map(lambda b: (b.input_shapes[0], b.input_shapes[1]))


@st.composite
def _pairs(draw, pair_shapes, dtype, elements):
    shape_a, shape_b = draw(pair_shapes)
    return draw(arrays(shape_a, dtype, elements)), draw(arrays(shape_b, dtype, elements))


def array_pairs(dtype: Any = np.float64,
                elements: tuple[float, float] | st.SearchStrategy | None = None, *,
                min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
                max_side: int = 4) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """Pairs of float arrays whose shapes broadcast together (see :func:`broadcastable_shapes`).

    Examples:
        >>> from hypothesis import given
        >>> @given(array_pairs())
        ... def test_mul_commutes(pair):
        ...     x, y = pair
        ...     np.testing.assert_array_equal(x * y, y * x)
        >>> test_mul_commutes()
    """
    return _pairs(broadcastable_shapes(min_dims, max_dims, min_side, max_side),
                  np.dtype(dtype), elements)


_KEYS = st.text(alphabet="abcdefwxyz", min_size=1, max_size=3)


def pytrees(leaves: st.SearchStrategy | None = None, max_depth: int = 2,
            max_children: int = 3) -> st.SearchStrategy[Any]:
    """Pytrees of nested ``dict``/``list``/``tuple`` containers (at most ``max_depth`` deep) of ``leaves``.

    Every container has 1 to ``max_children`` children, so every tree holds at
    least one leaf; a bare leaf is a tree of depth 0.  ``leaves`` defaults to
    :func:`arrays` of float64 with at most 2 axes of at most 3 elements.

    Examples:
        >>> from hypothesis import given
        >>> from funcgrad import tree
        >>> @given(pytrees())
        ... def test_round_trip(t):
        ...     leaves, treedef = tree.flatten(t)
        ...     assert tree.structure(tree.unflatten(treedef, leaves)) == treedef
        >>> test_round_trip()
    """
    if leaves is None:
        leaves = arrays(max_dims=2, max_side=3)
    if max_depth < 0:
        raise ValueError(f"pytrees: max_depth must be >= 0, got {max_depth}")
    trees = leaves
    for _ in range(max_depth):
        children = trees
        trees = st.one_of(
            leaves,
            st.lists(children, min_size=1, max_size=max_children),
            st.lists(children, min_size=1, max_size=max_children).map(tuple),
            st.dictionaries(_KEYS, children, min_size=1, max_size=max_children),
        )
    return trees
