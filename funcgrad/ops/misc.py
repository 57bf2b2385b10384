"""Primitives that only move derivatives around: dtype conversion and ``stop_gradient``."""

from __future__ import annotations

import numpy as np

from funcgrad._core.dtypes import is_inexact
from funcgrad._core.primitive import Primitive
from funcgrad.ops._family import is_float, shape_of

convert_p = Primitive("convert", lambda x, dtype: np.asarray(x).astype(dtype),
                      lambda x, dtype: (shape_of(x), np.dtype(dtype)))
convert_p.defvjp(lambda g, ans, x, dtype: astype(g, x.dtype) if is_float(x) else None)
convert_p.defjvp(lambda t, ans, x, dtype: astype(t, dtype) if is_inexact(dtype) else None)

stop_gradient_p = Primitive("stop_gradient", lambda x: x, lambda x: (shape_of(x), x.dtype))
stop_gradient_p.defvjp(lambda g, ans, x: None)
stop_gradient_p.defjvp(lambda t, ans, x: None)


def _batch_pointwise(prim: Primitive) -> None:
    """A one-operand elementwise op acts on the whole batch as is; the batch axis stays put."""
    prim.defbatch(lambda values, dims, **params: (prim.bind(*values, **params), dims[0]))


_batch_pointwise(convert_p)
_batch_pointwise(stop_gradient_p)


def astype(x, dtype):
    """``x.astype(dtype)``; the cotangent is converted back to ``x``'s dtype.

    Examples:
        >>> astype(np.ones(2), np.float32).dtype
        dtype('float32')
    """
    dtype = np.dtype(dtype)
    if getattr(x, "dtype", None) == dtype:
        return x
    return convert_p.bind(x, dtype=dtype)


def stop_gradient(x):
    """``x`` itself, but its derivative is zero: no gradient flows through it.

    Examples:
        >>> import funcgrad as fg
        >>> float(fg.grad(lambda x: x * stop_gradient(x))(3.0))
        3.0
    """
    from funcgrad import tree

    return tree.map(lambda leaf: stop_gradient_p.bind(leaf), x)
