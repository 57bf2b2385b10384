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

import math as _math

import numpy as _np

from funcgrad._core.dtypes import finfo, issubdtype  # noqa: F401 - ml_dtypes' bfloat16 is a floating type
from funcgrad._core.namespace import public_dir as _public_dir
from funcgrad._core.trace import Tracer as _Tracer
from funcgrad.ops._array_like import array_from_sequence as _array_from_sequence
from funcgrad.ops._array_like import holds_tracer as _holds_tracer
from funcgrad.ops._family import dtype_of as _dtype_of
from funcgrad.ops._family import shape_of as _shape_of
from funcgrad.errors import ShapeError as _ShapeError
from funcgrad.numpy import (
    _tracer_methods,  # noqa: F401 - installs the array interface
    fft,  # noqa: F401
    linalg,  # noqa: F401
)
from funcgrad.numpy._assembly import (  # noqa: F401
    array_split,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    block,
    broadcast_arrays,
    column_stack,
    copy,
    diagflat,
    dsplit,
    dstack,
    fliplr,
    flipud,
    hsplit,
    piecewise,
    put_along_axis,
    roll,
    rot90,
    select,
    split,
    take_along_axis,
    unstack,
    vsplit,
)
from funcgrad.numpy._comparison import (  # noqa: F401
    allclose,
    array_equal,
    array_equiv,
    isclose,
    isinf,
    isneginf,
    isposinf,
    isscalar,
    promote_types,
    result_type,
)
from funcgrad.numpy._index_tricks import (  # noqa: F401
    broadcast_shapes,
    c_,
    diag_indices,
    empty_like,
    indices,
    ix_,
    meshgrid,
    r_,
    ravel_multi_index,
    tri,
    tril_indices,
    triu_indices,
    unravel_index,
)
from funcgrad.numpy._searching import (  # noqa: F401
    argwhere,
    bincount,
    digitize,
    flatnonzero,
    histogram,
    isin,
    nonzero,
    unique,
)
from funcgrad.numpy._vectorize import apply_along_axis, vectorize  # noqa: F401
from funcgrad.numpy._calculus import (  # noqa: F401
    convolve,
    correlate,
    cross,
    diff,
    ediff1d,
    gradient,
    interp,
    kron,
    polyfit,
    polyval,
    trapezoid,
    vander,
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
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
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
    invert,
    isfinite,
    isnan,
    left_shift,
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
    nextafter,
    not_equal,
    power,
    real,
    reciprocal,
    remainder,
    right_shift,
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
from funcgrad.ops.indexing import at, take  # noqa: F401
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
from funcgrad.ops.piecewise import (  # noqa: F401
    copysign,
    fabs,
    fix,
    fmax,
    fmin,
    fmod,
    heaviside,
    nan_to_num,
    rint,
    trunc,
)
from funcgrad.ops.transcendental import (  # noqa: F401
    deg2rad,
    degrees,
    exp2,
    float_power,
    logaddexp2,
    rad2deg,
    radians,
    sinc,
)
from funcgrad.numpy._creation import full, full_like, geomspace, linspace, logspace  # noqa: F401
from funcgrad.numpy._creation import scalar_type as _scalar_type

# Constants and dtypes, as in NumPy.
pi, e, inf, nan, newaxis = _np.pi, _np.e, _np.inf, _np.nan, _np.newaxis
# The concrete scalar types are also casts of traced values: fnp.float32(x) (see _creation.py).
bool_, int8, int16, int32, int64 = map(_scalar_type, (_np.bool_, _np.int8, _np.int16, _np.int32, _np.int64))
uint8, uint16, uint32, uint64 = map(_scalar_type, (_np.uint8, _np.uint16, _np.uint32, _np.uint64))
float16, float32, float64 = map(_scalar_type, (_np.float16, _np.float32, _np.float64))
complex64, complex128 = map(_scalar_type, (_np.complex64, _np.complex128))
floating, inexact, complexfloating = _np.floating, _np.inexact, _np.complexfloating
ndarray = _np.ndarray

# Creation functions: plain NumPy arrays (no inputs, nothing to differentiate).
# (full, linspace, logspace and geomspace differentiate in traced arguments: _creation.py.)
zeros, ones, empty, eye, identity = _np.zeros, _np.ones, _np.empty, _np.eye, _np.identity
arange = _np.arange

# Array-API names of NumPy 2.x.
acos, acosh, asin, asinh, atan, atanh = arccos, arccosh, arcsin, arcsinh, arctan, arctanh
atan2, pow, around, concat, permute_dims = arctan2, power, round, concatenate, transpose


def matrix_transpose(x):
    """``numpy.matrix_transpose``: swap the last two axes (at least two dimensions).

    Examples:
        >>> matrix_transpose(np.zeros((4, 2, 3))).shape
        (4, 3, 2)
    """
    if ndim(x) < 2:
        raise _ShapeError(f"matrix_transpose: input must be at least 2-dimensional, got shape {shape(x)}")
    return swapaxes(x, -1, -2)


def shape(x) -> tuple[int, ...]:
    """``numpy.shape`` for arrays, scalars, tracers and lists of them."""
    return x.shape if isinstance(x, _Tracer) else _shape_of(x)


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
        return fn(_shape_of(x) if shape is None else shape, dtype or _dtype_of(x))
    like.__name__ = like.__qualname__ = fn.__name__ + "_like"
    like.__doc__ = f"``numpy.{like.__name__}`` that also accepts tracers (the result is constant)."
    return like


zeros_like, ones_like = _like(_np.zeros), _like(_np.ones)


def array(obj, dtype=None, copy: bool = True):
    """``numpy.array`` that keeps tracers traced: a (nested) list or tuple holding tracers is
    one traced array, with NumPy's shape rules and Python scalars weak (``[x32, 1.0]`` is
    float32; see ``docs/conventions.md``).

    Examples:
        >>> array([1.0, 2.0])
        array([1., 2.])
    """
    if isinstance(obj, _Tracer):
        return obj if dtype is None else astype(obj, dtype)
    if _holds_tracer(obj):
        return _array_from_sequence(obj, dtype)
    return _np.array(obj, dtype=dtype, copy=copy)


def asarray(obj, dtype=None):
    """``numpy.asarray`` that keeps tracers traced (lists holding tracers as in :func:`array`).

    Examples:
        >>> asarray(3.0).shape
        ()
    """
    if isinstance(obj, _Tracer) or _holds_tracer(obj):
        return array(obj, dtype)
    return _np.asarray(obj, dtype=dtype)


# The public names are the names above without a leading underscore (helpers are bound as
# ``_name``): NumPy's names and funcgrad's ``at`` and ``stop_gradient``.  Keep this block
# last; tests/test_namespace.py checks the contract.
__all__ = sorted(_name for _name in globals() if not _name.startswith("_"))
__dir__ = _public_dir(globals())
