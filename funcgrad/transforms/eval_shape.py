"""``eval_shape``: the shapes and dtypes of a function's outputs, without computing anything.

The function is traced abstractly (as ``jit`` traces it), on arguments that only need
``.shape`` and ``.dtype``: arrays, or :class:`ShapeDtypeStruct` placeholders for arrays
too large to build.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import tree
from funcgrad._core.trace import AbstractTrace, Tracer
from funcgrad.transforms._args import as_array_leaf


class ShapeDtypeStruct:
    """A placeholder for an array: its shape and dtype, no data (a pytree leaf).

    Examples:
        >>> s = ShapeDtypeStruct((2, 3), np.float32)
        >>> s, s.ndim, s.size
        (ShapeDtypeStruct(shape=(2, 3), dtype=float32), 2, 6)
    """

    __slots__ = ("dtype", "shape")

    def __init__(self, shape: tuple[int, ...], dtype: Any):
        object.__setattr__(self, "shape", tuple(int(d) for d in shape))
        object.__setattr__(self, "dtype", np.dtype(dtype))

    def __setattr__(self, name, value):
        raise AttributeError(f"ShapeDtypeStruct is immutable: cannot set {name!r}")

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __eq__(self, other) -> bool:
        return (isinstance(other, ShapeDtypeStruct) and self.shape == other.shape
                and self.dtype == other.dtype)

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype))

    def __repr__(self) -> str:
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name})"


def _aval(x, i: int, treedef, fname: str) -> tuple[tuple, np.dtype]:
    if hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, type):
        return tuple(x.shape), np.dtype(x.dtype)
    x = as_array_leaf(x, f"leaf {i} of the arguments {treedef}", fname)
    return np.shape(x), x.dtype


def eval_shape(f: Callable, *args, **kwargs) -> Any:
    """``f(*args, **kwargs)``'s output structure with a :class:`ShapeDtypeStruct` per leaf.

    Arguments may be arrays, Python scalars, or anything with ``.shape`` and ``.dtype``
    (a :class:`ShapeDtypeStruct`); nothing is computed, so huge shapes cost nothing.
    Python control flow on argument values raises :class:`~funcgrad.errors.ConcretizationError`,
    as under ``jit``.

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> eval_shape(lambda a, b: fnp.tanh(a @ b), ShapeDtypeStruct((1000, 5000), np.float32),
        ...            ShapeDtypeStruct((5000, 10), np.float32))
        ShapeDtypeStruct(shape=(1000, 10), dtype=float32)
    """
    fname = f"eval_shape({getattr(f, '__name__', 'f')})"
    leaves, treedef = tree.flatten((args, kwargs))
    avals = [_aval(x, i, treedef, fname) for i, x in enumerate(leaves)]
    with AbstractTrace(fname) as trace:
        tracers = [trace.new_input(shape, dtype) for shape, dtype in avals]
        call_args, call_kwargs = tree.unflatten(treedef, tracers)
        out = f(*call_args, **call_kwargs)
        out_leaves, out_tree = tree.flatten(out)
        structs = []
        for i, leaf in enumerate(out_leaves):
            if not isinstance(leaf, Tracer):
                leaf = as_array_leaf(leaf, f"output leaf {i}", fname)
            structs.append(ShapeDtypeStruct(leaf.shape, leaf.dtype))
    return tree.unflatten(out_tree, structs)


__all__ = ["ShapeDtypeStruct", "eval_shape"]
