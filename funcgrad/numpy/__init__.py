"""``funcgrad.numpy`` (``import funcgrad.numpy as fnp``): NumPy's names, differentiable.

Each function accepts NumPy arrays, Python scalars and tracers alike.  On plain
arrays it calls NumPy directly (no graph, no tracer); on tracers it records a
node.  Creation functions (``zeros``, ``ones``, ``eye``, ...) return plain NumPy
arrays: they have no inputs to differentiate.

Examples:
    >>> import funcgrad.numpy as fnp
    >>> fnp.sum(fnp.sin(np.zeros(3)))
    np.float64(0.0)
"""

from __future__ import annotations

import math as _math

import numpy as _np

from funcgrad._core.dtypes import finfo, issubdtype  # noqa: F401 - ml_dtypes' bfloat16 is a floating type
from funcgrad._core.trace import Tracer as _Tracer
from funcgrad.numpy import (
    _tracer_methods,  # noqa: F401 - installs the array interface
    fft,  # noqa: F401
    linalg,  # noqa: F401
)
from funcgrad.numpy._statistics import (  # noqa: F401
    average,
    corrcoef,
    count_nonzero,
    cov,
    median,
    nanargmax,
    nanargmin,
    nancumprod,
    nancumsum,
    nanmax,
    nanmean,
    nanmedian,
    nanmin,
    nanpercentile,
    nanprod,
    nanquantile,
    nanstd,
    nansum,
    nanvar,
    percentile,
    ptp,
    quantile,
)
from funcgrad.ops.elementwise import (  # noqa: F401
    abs,
    absolute,
    add,
    angle,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    cbrt,
    ceil,
    clip,
    conj,
    conjugate,
    cos,
    cosh,
    divide,
    equal,
    exp,
    expm1,
    floor,
    floor_divide,
    greater,
    greater_equal,
    hypot,
    imag,
    isfinite,
    isnan,
    less,
    less_equal,
    log,
    log1p,
    log2,
    log10,
    logaddexp,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    maximum,
    minimum,
    mod,
    multiply,
    negative,
    not_equal,
    power,
    real,
    reciprocal,
    remainder,
    round,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    subtract,
    tan,
    tanh,
    true_divide,
    where,
)
from funcgrad.ops.indexing import at, take, take_along_axis  # noqa: F401
from funcgrad.ops.linalg import dot, einsum, inner, matmul, outer, tensordot, vdot  # noqa: F401
from funcgrad.ops.misc import astype, stop_gradient  # noqa: F401
from funcgrad.ops.reductions import (  # noqa: F401
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    cumprod,
    cumsum,
    max,
    mean,
    min,
    prod,
    std,
    sum,
    var,
)
from funcgrad.ops.shape import (  # noqa: F401
    atleast_1d,
    atleast_2d,
    broadcast_to,
    concatenate,
    diag,
    diagonal,
    expand_dims,
    flip,
    hstack,
    moveaxis,
    pad,
    ravel,
    repeat,
    reshape,
    split,
    squeeze,
    stack,
    swapaxes,
    tile,
    trace,
    transpose,
    tril,
    triu,
    vstack,
)
from funcgrad.ops.sorting import argpartition, argsort, partition, searchsorted, sort  # noqa: F401

# Constants and dtypes, as in NumPy.
pi, e, inf, nan, newaxis = _np.pi, _np.e, _np.inf, _np.nan, _np.newaxis
float32, float64, int32, int64, bool_ = _np.float32, _np.float64, _np.int32, _np.int64, _np.bool_
complex64, complex128 = _np.complex64, _np.complex128
float16, floating, inexact, complexfloating = _np.float16, _np.floating, _np.inexact, _np.complexfloating
ndarray = _np.ndarray

# Creation functions: plain NumPy arrays (no inputs, nothing to differentiate).
zeros, ones, full, empty, eye, identity = _np.zeros, _np.ones, _np.full, _np.empty, _np.eye, _np.identity
arange, linspace = _np.arange, _np.linspace


def shape(x) -> tuple[int, ...]:
    """``numpy.shape`` for arrays, scalars and tracers."""
    return x.shape if isinstance(x, _Tracer) else _np.shape(x)


def ndim(x) -> int:
    """``numpy.ndim`` for arrays, scalars and tracers."""
    return len(shape(x))


def size(x) -> int:
    """``numpy.size`` for arrays, scalars and tracers."""
    return _math.prod(shape(x))


def _like(fn):
    def like(x, dtype=None, shape=None):
        if isinstance(x, _Tracer):
            return fn(x.shape if shape is None else shape, dtype or x.dtype)
        return fn(_np.shape(x) if shape is None else shape,
                  dtype or _np.asarray(x).dtype)
    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = f"``numpy.{like.__name__}`` that also accepts tracers (the result is constant)."
    return like


zeros_like, ones_like = _like(_np.zeros), _like(_np.ones)


def full_like(x, fill_value, dtype=None):
    """``numpy.full_like`` that also accepts tracers (the result is constant)."""
    return _np.full(shape(x), fill_value, dtype or (x.dtype if hasattr(x, "dtype") else None))


def _has_tracer(obj) -> bool:
    if isinstance(obj, _Tracer):
        return True
    if isinstance(obj, (list, tuple)):
        return builtins_any(_has_tracer(o) for o in obj)
    return False


builtins_any = __builtins__["any"] if isinstance(__builtins__, dict) else __builtins__.any


def _stack_nested(obj, dtype):
    if isinstance(obj, (list, tuple)):
        return stack([_stack_nested(o, dtype) for o in obj])
    return obj if dtype is None else astype(obj, dtype)


def array(obj, dtype=None, copy: bool = True):
    """``numpy.array`` that keeps tracers traced (nested lists of tracers are stacked).

    Examples:
        >>> array([1.0, 2.0])
        array([1., 2.])
    """
    if isinstance(obj, _Tracer):
        return obj if dtype is None else astype(obj, dtype)
    if _has_tracer(obj):
        return _stack_nested(obj, dtype)
    return _np.array(obj, dtype=dtype, copy=copy)


def asarray(obj, dtype=None):
    """``numpy.asarray`` that keeps tracers traced.

    Examples:
        >>> asarray(3.0).shape
        ()
    """
    if isinstance(obj, _Tracer) or _has_tracer(obj):
        return array(obj, dtype)
    return _np.asarray(obj, dtype=dtype)
