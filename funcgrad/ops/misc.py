"""Primitives that only move derivatives around: dtype conversion and ``stop_gradient``."""

from __future__ import annotations

import numpy as np

from funcgrad._core.dtypes import is_inexact
from funcgrad._core.primitive import Primitive, Tracer
from funcgrad.errors import DTypeError
from funcgrad.ops._family import is_float, real_part_for, shape_of

convert_p = Primitive("convert", lambda x, dtype: np.asarray(x).astype(dtype),
                      lambda x, dtype: (shape_of(x), np.dtype(dtype)))
# Complex to real keeps the real part (JVP), so its VJP is complex(ct, 0); real to complex
# is the embedding, so its VJP is the real part of the cotangent (JAX's convention).
convert_p.defvjp(lambda g, ans, x, dtype:
                 astype(real_part_for(g, x.dtype), x.dtype) if is_float(x) else None)
convert_p.defjvp(lambda t, ans, x, dtype:
                 astype(real_part_for(t, dtype), dtype) if is_inexact(dtype) else None)

stop_gradient_p = Primitive("stop_gradient", lambda x: x, lambda x: (shape_of(x), x.dtype))
stop_gradient_p.defvjp(lambda g, ans, x: None)


def _batch_pointwise(prim: Primitive) -> None:
    """A one-operand elementwise op acts on the whole batch as is; the batch axis stays put."""
    prim.defbatch(lambda values, dims, **params: (prim.bind(*values, **params), dims[0]))


_batch_pointwise(convert_p)


def _bitcast_aval(x, dtype):
    have, want = np.dtype(x.dtype), np.dtype(dtype)
    if have.itemsize != want.itemsize:
        raise DTypeError(f"bitcast_convert_type: {have} ({have.itemsize} bytes) cannot be "
                         f"reinterpreted as {want} ({want.itemsize} bytes); the sizes must match")
    return shape_of(x), want


# The same bits read as another dtype of the same size (``x.view(dtype)``, JAX's
# ``lax.bitcast_convert_type``): no derivative (the map is not smooth).
bitcast_p = Primitive("bitcast_convert_type",
                      lambda x, dtype: np.asarray(x).view(_bitcast_aval(x, dtype)[1]),
                      _bitcast_aval, differentiable=False)
_batch_pointwise(bitcast_p)


def _drop_derivatives(x):
    """``x`` without the derivative of any trace, still batched (vmap) or abstract (jit).

    Under ``grad`` and ``jvp`` (concrete and forward-mode traces) the result is the
    primal itself, no longer a tracer of that trace, so ``float()`` of it works; under
    ``vmap`` and ``jit`` there is no single value to give, so a node is recorded.
    """
    while isinstance(x, Tracer) and x._trace.carries_primal:
        if not x._trace.active:
            raise x._trace.leak_error()
        x = x._value
    return stop_gradient_p.bind(x) if isinstance(x, Tracer) else x


# A recorded stop_gradient (jit's graph run under grad, jvp or vmap) drops every
# derivative of its operand too.
stop_gradient_p.defjvp_full(lambda primals, tangents: (_drop_derivatives(primals[0]), None))
stop_gradient_p.defbatch(lambda values, dims: (_drop_derivatives(values[0]), dims[0]))


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


def bitcast_convert_type(x, new_dtype):
    """The bits of ``x`` read as ``new_dtype``, which has the same size (``x.view(new_dtype)``).

    Not differentiable.  A dtype of another size is a :class:`~funcgrad.errors.DTypeError`.

    Examples:
        >>> bitcast_convert_type(np.array([1.0], np.float32), np.uint32)
        array([1065353216], dtype=uint32)
    """
    return bitcast_p.bind(x, dtype=np.dtype(new_dtype))


def stop_gradient(x):
    """``x`` itself, but its derivative is zero: no gradient flows through it.

    Works on pytrees.  Under ``grad`` and ``jvp`` the result is a plain value, so
    ``float(stop_gradient(x))`` is how to take a traced value as a constant on purpose.

    Examples:
        >>> import funcgrad as fg
        >>> float(fg.grad(lambda x: x * stop_gradient(x))(3.0))
        3.0
        >>> float(fg.grad(lambda x: x * float(stop_gradient(x)))(3.0))
        3.0
    """
    from funcgrad import tree

    return tree.map(_drop_derivatives, x)
