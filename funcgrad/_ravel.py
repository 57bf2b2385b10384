"""``ravel_pytree``: a pytree of arrays as one 1-D vector, and the function back.

As ``jax.flatten_util.ravel_pytree``: the leaves are raveled in flatten order and
concatenated after casting to the promotion of their dtypes, by JAX's type-promotion
lattice with 64-bit types enabled (int32 with float32 is float32, uint64 with int64 is
float64; NumPy would give float64 and float64).  Each leaf's dtype is its own (a Python
float is float64, an int int64), so Python scalars are not "weak" here, as in JAX.  When
every leaf already has the common dtype, ``unravel`` keeps the dtype of the vector it is
given; otherwise it casts each piece back to its leaf's dtype and insists on a vector
of the common dtype.  Both directions are written in funcgrad operations, so ``grad``,
``jit`` and ``vmap`` trace through them.  Re-exported by :mod:`funcgrad.tree`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import tree as _tree
from funcgrad.errors import DTypeError, ShapeError

__all__ = ["ravel_pytree"]

# JAX's type-promotion lattice (jax._src.dtypes, non-strict, without bfloat16 and the
# small float types NumPy lacks): each type -> the types immediately above it.  "i*",
# "f*", "c*" are JAX's weak int/float/complex; as a result they mean int64, float64,
# complex128.
_LATTICE: dict[str, tuple[str, ...]] = {
    "bool": ("i*",),
    "i*": ("uint8", "int8"),
    "uint8": ("int16", "uint16"), "uint16": ("int32", "uint32"),
    "uint32": ("int64", "uint64"), "uint64": ("f*",),
    "int8": ("int16",), "int16": ("int32",), "int32": ("int64",), "int64": ("f*",),
    "f*": ("float16", "c*"),
    "float16": ("float32",), "float32": ("float64", "complex64"), "float64": ("complex128",),
    "c*": ("complex64",), "complex64": ("complex128",), "complex128": (),
}
_WEAK_AS = {"i*": "int64", "f*": "float64", "c*": "complex128"}


def _upper_set(name: str) -> frozenset[str]:
    seen, stack = {name}, [name]
    while stack:
        for above in _LATTICE[stack.pop()]:
            if above not in seen:
                seen.add(above)
                stack.append(above)
    return frozenset(seen)


_UPPER = {name: _upper_set(name) for name in _LATTICE}


def promote(dtypes: list[np.dtype]) -> np.dtype:
    """The least upper bound of ``dtypes`` on JAX's lattice (``jnp.result_type`` with x64).

    Examples:
        >>> promote([np.dtype("int32"), np.dtype("float32")])
        dtype('float32')
        >>> promote([np.dtype("uint64"), np.dtype("int64")])
        dtype('float64')
    """
    common = frozenset(_LATTICE)
    for dtype in dtypes:
        common &= _UPPER[dtype.name]
    least = next(t for t in common if _UPPER[t] == common)  # a lattice: exactly one
    return np.dtype(_WEAK_AS.get(least, least))


def _leaf_dtype(leaf: Any) -> np.dtype | None:
    dtype = getattr(leaf, "dtype", None)
    if dtype is None:
        dtype = np.asarray(leaf).dtype if isinstance(leaf, (bool, int, float, complex)) else None
    dtype = None if dtype is None else np.dtype(dtype)
    return dtype if dtype is not None and dtype.name in _LATTICE else None


def ravel_pytree(pytree: Any) -> tuple[Any, Callable[[Any], Any]]:
    """Flatten ``pytree`` to one 1-D array and return it with the function that undoes it
    (``jax.flatten_util.ravel_pytree``).

    The leaves are raveled in flatten order and concatenated, cast to the promotion of
    their dtypes by JAX's rules (int32 with float32 is float32; a Python float counts as
    float64).  ``unravel(vector)`` splits a vector of the same length back into the
    structure, shapes and dtypes of ``pytree``.  Both are funcgrad operations, so
    ``grad``, ``jit`` and ``vmap`` see through them.  A tree without leaves ravels to an
    empty float32 vector, as in JAX.

    Examples:
        >>> from funcgrad.tree import ravel_pytree
        >>> flat, unravel = ravel_pytree({"w": np.ones((2, 2)), "b": np.zeros(1)})
        >>> flat
        array([0., 1., 1., 1., 1.])
        >>> unravel(flat + 1)["w"]
        array([[2., 2.],
               [2., 2.]])
    """
    import funcgrad.numpy as fnp  # funcgrad.numpy imports funcgrad.tree, which imports us

    leaves, treedef = _tree.flatten(pytree)
    if not leaves:
        return np.zeros(0, np.float32), Unravel(treedef, (), (), (), None)
    dtypes = [_leaf_dtype(leaf) for leaf in leaves]
    bad = [i for i, d in enumerate(dtypes) if d is None]  # not `None in`: dtype(None) is float64
    if bad:
        path, leaf = _tree.leaves_with_path(pytree)[bad[0]]
        raise DTypeError(
            f"ravel_pytree: every leaf must be a boolean, integer, floating or complex array "
            f"or scalar; the leaf at {_tree.keystr(path) or 'the root'} is "
            f"{type(leaf).__name__}{_dtype_note(leaf)}")
    shapes = tuple(tuple(getattr(leaf, "shape", ())) for leaf in leaves)
    to_dtype = promote(dtypes)  # type: ignore[arg-type]  # None ruled out above
    mixed = any(d != to_dtype for d in dtypes)
    pieces = [fnp.reshape(fnp.astype(leaf, to_dtype) if mixed else leaf, (-1,))
              for leaf in leaves]
    flat = pieces[0] if len(pieces) == 1 else fnp.concatenate(pieces)
    return flat, Unravel(treedef, tuple(math.prod(s) for s in shapes), shapes,
                         tuple(dtypes), to_dtype if mixed else None)  # type: ignore[arg-type]


def _dtype_note(leaf: Any) -> str:
    dtype = getattr(leaf, "dtype", None)
    return "" if dtype is None else f" of dtype {dtype}"


class Unravel:
    """``unravel(vector) -> pytree``, the inverse of one :func:`ravel_pytree` call.

    Equal (and hashing equal) to another made from a tree of the same structure, shapes
    and dtypes, so it can be a static argument of ``jit``.
    """

    __slots__ = ("_key", "dtypes", "shapes", "sizes", "to_dtype", "treedef")

    def __init__(self, treedef: _tree.TreeDef, sizes: tuple[int, ...],
                 shapes: tuple[tuple[int, ...], ...], dtypes: tuple[np.dtype, ...],
                 to_dtype: np.dtype | None) -> None:
        self.treedef, self.sizes, self.shapes = treedef, sizes, shapes
        self.dtypes, self.to_dtype = dtypes, to_dtype
        self._key = (treedef, sizes, shapes, dtypes, to_dtype)

    def __call__(self, flat: Any) -> Any:
        import funcgrad.numpy as fnp

        total = sum(self.sizes)
        shape = tuple(getattr(flat, "shape", np.shape(flat)))
        if shape != (total,):
            raise ShapeError(f"unravel: expected a vector of shape ({total},) for the "
                             f"structure {self.treedef!r}, got shape {shape}")
        dtype = getattr(flat, "dtype", None)
        dtype = np.asarray(flat).dtype if dtype is None else np.dtype(dtype)
        if self.to_dtype is not None and dtype != self.to_dtype:
            raise DTypeError(f"unravel: expected a vector of dtype {self.to_dtype} (the common "
                             f"dtype of the raveled leaves), got {dtype}")
        leaves, start = [], 0
        for size, leaf_shape, leaf_dtype in zip(self.sizes, self.shapes, self.dtypes):
            piece = fnp.reshape(flat[start:start + size], leaf_shape)
            start += size
            if self.to_dtype is not None and leaf_dtype != self.to_dtype:
                if dtype.kind == "c" and leaf_dtype.kind != "c":
                    piece = fnp.real(piece)  # as JAX: the imaginary part is dropped silently
                piece = fnp.astype(piece, leaf_dtype)
            leaves.append(piece)
        return _tree.unflatten(self.treedef, leaves)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unravel) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return f"<unravel to {self.treedef!r}>"
