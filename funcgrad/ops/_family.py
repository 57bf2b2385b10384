"""Helpers that make whole families of primitives from one expression each.

``unary`` and ``binary`` build elementwise primitives from the NumPy function
and the derivative; ``unbroadcast`` is the one place where a cotangent is
summed back to the shape of an operand that broadcasting expanded.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from funcgrad._core.dtypes import is_complex, is_inexact
from funcgrad._core.primitive import Primitive
from funcgrad.errors import ShapeError
from funcgrad.ops._array_like import holds_tracer, sequence_dtype, sequence_shape


def shape_of(x) -> tuple[int, ...]:
    """The shape of an array, tracer, graph node, Python scalar or (nested) list of them."""
    shape = getattr(x, "shape", None)
    if shape is not None:
        return shape
    return sequence_shape(x) if holds_tracer(x) else np.shape(x)


def dtype_of(x) -> np.dtype:
    """The dtype of an array, tracer, graph node, Python scalar or (nested) list of them."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None:
        return dtype
    return sequence_dtype(x) if holds_tracer(x) else np.asarray(x).dtype


def is_float(x) -> bool:
    return is_inexact(dtype_of(x))


def complex_valued(x) -> bool:
    """Whether ``x`` (array, tracer, node or scalar) has a complex dtype."""
    return is_complex(dtype_of(x))


def batch_shape(name: str, sa: tuple, sb: tuple) -> tuple[int, ...]:
    """The broadcast leading (batch) axes of two stacks of matrices; a :class:`ShapeError` if none."""
    try:
        return np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise ShapeError(f"{name}: batch dimensions of shapes {sa} and {sb} do not broadcast") from None


def unbroadcast(g, like):
    """Sum the cotangent ``g`` over the axes broadcasting added, to ``like``'s shape and dtype."""
    try:  # the common case first: nothing was broadcast
        if g.shape == like.shape and g.dtype == like.dtype:
            return g
    except AttributeError:
        pass
    shape = shape_of(like)
    gshape = shape_of(g)
    from funcgrad.ops import misc, reductions
    from funcgrad.ops import shape as shape_ops

    if gshape != shape:
        lead = len(gshape) - len(shape)
        axes = tuple(range(lead)) + tuple(
            i + lead for i, n in enumerate(shape) if n == 1 and gshape[i + lead] != 1)
        if axes:
            g = reductions.sum(g, axis=axes, keepdims=False)
        if shape_of(g) != shape:
            g = shape_ops.reshape(g, shape)
    dtype = dtype_of(like)
    if dtype_of(g) != dtype and is_inexact(dtype):
        g = misc.astype(real_part_for(g, dtype), dtype)
    return g


def real_part_for(g, dtype):
    """``g``, or its real part when ``g`` is complex and ``dtype`` is real.

    A real operand of a complex operation (``x * 1j``, a real-to-complex cast) gets
    the real part of the complex cotangent: the transpose of the real-to-complex
    embedding (JAX's convention, see ``docs/complex.md``).
    """
    if complex_valued(g) and not is_complex(dtype):
        from funcgrad.ops.elementwise import real

        return real(g)
    return g


def safe_mul(g, d):
    """``g * d`` where a zero cotangent stays zero even if ``d`` is infinite or NaN.

    This is what makes the gradient of ``where(x > 0, sqrt(x), 0)`` finite at ``x <= 0``:
    the unchosen branch receives a zero cotangent, and zero times ``sqrt'(x)`` is zero.
    Only a non-finite ``d`` under a zero ``g`` is masked, so the result stays ``g * d``
    with slope ``d`` in ``g``: its derivative with respect to ``g`` (a second-order
    gradient, e.g. of ``t * log(p)`` with respect to ``t`` at ``t == 0``) is ``d``, not 0.
    """
    from funcgrad.ops import elementwise as ew

    return g * ew.where(ew.logical_or(ew.isfinite(d), ew.not_equal(g, 0)), d, 0.0)


def _zero(dtype):
    return np.zeros((), dtype)


@lru_cache(maxsize=4096)
def _result_dtype(fn, key) -> np.dtype:
    args = [_zero(k) if isinstance(k, np.dtype) else k[1] for k in key]
    with np.errstate(all="ignore"):
        return np.result_type(fn(*args))


def elementwise_aval(fn, name):
    """Abstract evaluation of an elementwise NumPy function: broadcast shapes, probe the dtype."""

    def abstract_eval(*avals, **params):
        shapes = [shape_of(a) for a in avals]
        try:
            shape = np.broadcast_shapes(*shapes)
        except ValueError:
            raise ShapeError(f"{name}: operands with shapes {' and '.join(map(str, shapes))} "
                             "cannot be broadcast together") from None
        # Python scalars stay weak (NEP 50): probe with the scalar itself.
        # The key holds each scalar's type (1, 1.0 and True are equal dict keys), and only exact
        # Python types are weak: a NumPy scalar such as np.float64(2.0) is strong, like an array.
        key = tuple((type(a), a) if type(a) in (bool, int, float, complex)
                    else np.dtype(dtype_of(a)) for a in avals)
        probe = (lambda *xs: fn(*xs, **params)) if params else fn
        dtype = _result_dtype(probe, key) if not params else np.result_type(
            probe(*[_zero(k) if isinstance(k, np.dtype) else k[1] for k in key]))
        return shape, dtype

    return abstract_eval


def unary(name: str, fn, rule=None, jvp=None) -> Primitive:
    """An elementwise primitive ``fn(x)`` with cotangent rule ``rule(g, ans, x)`` (``None``: not differentiable).

    Elementwise, the rule is pointwise linear in ``g``, so it maps tangents too: it
    serves as both the VJP and the JVP rule.  That holds for real values and for
    holomorphic functions of complex ones (``g * f'(z)``, no conjugate: JAX's
    convention); a non-holomorphic op (``abs``, ``real``, ``angle``...) passes its
    tangent rule ``jvp(t, ans, x)`` separately.
    """
    prim = Primitive(name, fn, elementwise_aval(fn, name), differentiable=rule is not None)
    prim.elementwise = True  # pointwise and broadcasting: the optimiser may fuse it
    if rule is not None:
        prim.defvjp(rule)
        prim.defjvp(jvp or rule)
    batch_elementwise(prim)
    return prim


def binary(name: str, fn, dx=None, dy=None) -> Primitive:
    """A broadcasting elementwise primitive; ``dx(g, ans, x, y)`` gives the full-shape cotangent.

    The rules stay full-shape: the backward pass sums a cotangent back to its
    operand's shape and dtype with ``fit_cotangent`` (:func:`unbroadcast`), and
    only when they differ.
    """
    prim = Primitive(name, fn, elementwise_aval(fn, name), differentiable=dx is not None)
    prim.elementwise = True  # pointwise and broadcasting: the optimiser may fuse it
    if dx is not None:
        prim.defvjp(dx, dy)
        prim.fit_cotangent = unbroadcast
        prim.defjvp(_full_shape_tangent(dx), _full_shape_tangent(dy))
    batch_elementwise(prim)
    return prim


def _full_shape_tangent(rule):
    """A binary op's JVP rule from its cotangent rule: the same map, broadcast to the output.

    A rule that gives ``None`` (a symbolic zero: ``heaviside`` in ``x``, ``copysign`` in
    ``y``) gives no tangent, not a broadcast ``None``.
    """
    if rule is None:
        return None

    def jvp(t, ans, x, y):
        out = rule(t, ans, x, y)
        return None if out is None else broadcast_like(out, ans)

    return jvp


def broadcast_like(t, like):
    """``t`` broadcast to ``like``'s shape (a tangent of a broadcasting op must have the output's shape)."""
    shape = shape_of(like)
    if shape_of(t) == shape:
        return t
    from funcgrad.ops.shape import broadcast_to

    return broadcast_to(t, shape)


def batch_size(values, dims) -> int:
    """The batch size, read off the first batched operand."""
    for v, d in zip(values, dims):
        if d is not None:
            return shape_of(v)[d]
    raise ValueError("no batched operand")


def batch_elementwise(prim: Primitive) -> None:
    """Batch a broadcasting elementwise op in one call: batch axes to the front, ranks aligned."""
    def rule(values, dims, **params):
        from funcgrad.ops.shape import moveaxis, reshape

        rank = max(len(shape_of(v)) - (d is not None) for v, d in zip(values, dims))
        args = []
        for v, d in zip(values, dims):
            if d is not None:
                v = moveaxis(v, d, 0)
                s = shape_of(v)
                if len(s) - 1 < rank:
                    v = reshape(v, s[:1] + (1,) * (rank - len(s) + 1) + s[1:])
            args.append(v)
        return prim.bind(*args, **params), 0

    prim.defbatch(rule)
