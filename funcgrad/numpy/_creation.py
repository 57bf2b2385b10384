"""Creation functions that differentiate in traced arguments, and the dtype names as casts.

``linspace``, ``logspace`` and ``geomspace`` are differentiable in ``start`` and
``stop`` (and ``logspace`` in ``base``), ``full`` and ``full_like`` in
``fill_value``; on plain arguments each calls NumPy directly.

``fnp.float32``, ``fnp.int64``, ... are the NumPy scalar types made callable on
traced values, as in JAX: ``fnp.float32(x)`` is ``x.astype(float32)`` for a traced
``x`` (differentiable), and NumPy's own ``np.float32(x)`` otherwise.  They remain
dtypes everywhere NumPy takes one (``np.dtype(fnp.float32)``, ``dtype=fnp.float32``,
``np.issubdtype(a.dtype, fnp.float32)``, ``a.dtype == fnp.float32``), through the
``dtype`` attribute NumPy reads from any object.  Unlike NumPy's types they are not
classes of NumPy scalars: ``fnp.float32 is np.float32`` is false (use ``==``).

Examples:
    >>> import funcgrad as fg
    >>> float(fg.grad(lambda x: linspace(0.0, x, 5)[1])(2.0))
    0.25
    >>> float32 = scalar_type(np.float32)
    >>> np.dtype(float32), float32(1.5)
    (dtype('float32'), np.float32(1.5))
"""

from __future__ import annotations

import numpy as np

from funcgrad._core.trace import Tracer
from funcgrad.ops import elementwise as ew
from funcgrad.ops import misc
from funcgrad.ops import shape as sh
from funcgrad.ops._family import dtype_of, shape_of


def _traced(*objs) -> bool:
    def any_tracer(o):
        if isinstance(o, Tracer):
            return True
        return isinstance(o, (list, tuple)) and any(any_tracer(i) for i in o)
    return any(any_tracer(o) for o in objs)


def _as_array(x):
    from funcgrad.numpy import asarray
    return asarray(x)


# -- dtype names that cast -----------------------------------------------------------------
class _ScalarTypeMeta(type):
    """The type of ``fnp.float32`` & co.: a NumPy scalar type that also casts tracers."""

    dtype: np.dtype

    def __call__(cls, x=0, /):
        if _traced(x):
            return misc.astype(_as_array(x), cls.dtype)
        return cls.dtype.type(x)

    def __eq__(cls, other) -> bool:
        return other is cls or other == cls.dtype.type

    def __hash__(cls) -> int:
        return hash(cls.dtype.type)

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, cls.dtype.type)

    def __repr__(cls) -> str:
        return f"funcgrad.numpy.{cls.__name__}"


def scalar_type(np_type) -> _ScalarTypeMeta:
    """``np_type`` (a NumPy scalar type) as a dtype name that also casts traced values."""
    dtype = np.dtype(np_type)
    return _ScalarTypeMeta(dtype.type.__name__, (), {
        "dtype": dtype, "__module__": "funcgrad.numpy",
        "__doc__": f"``numpy.{dtype.type.__name__}``: a dtype, and a cast: ``{dtype.type.__name__}(x)`` "
                   f"on a traced ``x`` is ``x.astype({dtype.name})`` (differentiable)."})


# -- creation ------------------------------------------------------------------------------
def full(shape, fill_value, dtype=None, order: str = "C"):
    """``numpy.full``, differentiable in a traced ``fill_value`` (broadcast to ``shape``).

    Examples:
        >>> full(2, 1.5)
        array([1.5, 1.5])
    """
    if not _traced(fill_value):
        return np.full(shape, fill_value, dtype, order)
    value = _as_array(fill_value)
    if dtype is not None:
        value = misc.astype(value, dtype)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return sh.broadcast_to(value, shape)


def full_like(a, fill_value, dtype=None, shape=None):
    """``numpy.full_like`` for arrays and tracers; differentiable in a traced ``fill_value`` only.

    Examples:
        >>> full_like(np.zeros(2, np.float32), 3)
        array([3., 3.], dtype=float32)
    """
    out_shape = shape_of(a) if shape is None else shape
    dtype = dtype or dtype_of(a)
    if not _traced(fill_value):
        return np.full(out_shape, fill_value, dtype)
    return full(out_shape, fill_value, dtype)


def _steps(num: int, endpoint: bool, ndim: int, dtype):
    """``(arange(num) shaped to broadcast against start/stop, divisor)`` as NumPy's linspace builds them."""
    div = (num - 1) if endpoint else num
    ramp = np.arange(0, num, dtype=dtype).reshape((-1,) + (1,) * ndim)
    return ramp, div


def linspace(start, stop, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype=None, axis: int = 0):
    """``numpy.linspace``, differentiable in traced ``start`` and ``stop``.

    ``y[i] = start + i * (stop - start) / div``, the last one exactly ``stop`` (with
    ``endpoint``), as NumPy computes them; an integer ``dtype`` floors, with no derivative.

    Examples:
        >>> linspace(0.0, 1.0, 3)
        array([0. , 0.5, 1. ])
    """
    if not _traced(start, stop):
        return np.linspace(start, stop, num, endpoint, retstep, dtype, axis)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    # Python scalars are weak, as in NumPy: linspace(0.5, float32 array) is float32.
    dt = np.result_type(*[a if type(a) in (int, float) else dtype_of(a) for a in (start, stop)],
                        float(num))
    start, stop = misc.astype(_as_array(start), dt), misc.astype(_as_array(stop), dt)
    delta = stop - start
    ramp, div = _steps(num, endpoint, len(shape_of(delta)), dt)
    step = delta / div if div > 0 else delta * np.nan
    y = start + ramp * step if div > 0 else start + ramp * delta
    if endpoint and num > 1:
        y = sh.concatenate([y[:-1], sh.expand_dims(sh.broadcast_to(stop, shape_of(y)[1:]), 0)])
    if axis != 0:
        y = sh.moveaxis(y, 0, axis)
    if dtype is not None:
        if np.issubdtype(dtype, np.integer):
            y = ew.floor(y)
        y = misc.astype(y, dtype)
    return (y, step) if retstep else y


def logspace(start, stop, num: int = 50, endpoint: bool = True, base=10.0, dtype=None,
             axis: int = 0):
    """``numpy.logspace``: ``base ** linspace(start, stop)``, differentiable in ``start``,
    ``stop`` and ``base``.

    Examples:
        >>> logspace(0.0, 2.0, 3)
        array([  1.,  10., 100.])
    """
    if not _traced(start, stop, base):
        return np.logspace(start, stop, num, endpoint, base, dtype, axis)
    if type(base) not in (int, float) and len(shape_of(base)):
        # NumPy's: start, stop and base to one rank (ndmin), then base gets an axis at ``axis``.
        start, stop, base = (_as_array(a) for a in (start, stop, base))
        ndmax = len(np.broadcast_shapes(*(shape_of(a) for a in (start, stop, base))))
        start, stop, base = (sh.reshape(a, (1,) * (ndmax - a.ndim) + a.shape) for a in (start, stop, base))
        base = sh.expand_dims(base, axis)
    y = linspace(start, stop, num=num, endpoint=endpoint, axis=axis)
    out = ew.power(base, y)
    return out if dtype is None else misc.astype(out, dtype)


def geomspace(start, stop, num: int = 50, endpoint: bool = True, dtype=None, axis: int = 0):
    """``numpy.geomspace``: a geometric sequence from ``start`` to ``stop``, differentiable in both.

    Real values only when traced; the endpoints are exactly ``start`` and ``stop``.  A zero
    endpoint is NumPy's ``ValueError`` when its value is known (under ``jit`` it is not
    checked and gives NaN).

    Examples:
        >>> geomspace(1.0, 100.0, 3)
        array([  1.,  10., 100.])
    """
    if not _traced(start, stop):
        return np.geomspace(start, stop, num, endpoint, dtype, axis)
    start, stop = _as_array(start), _as_array(stop)
    dt = np.result_type(dtype_of(start), dtype_of(stop), float(num), np.float64)
    if np.issubdtype(dt, np.complexfloating):
        raise NotImplementedError("geomspace of traced complex endpoints is not supported")
    for v in (start, stop):
        known = _known_value(v)
        if known is not None and np.any(known == 0):
            raise ValueError("Geometric sequence cannot include zero")
    shape = np.broadcast_shapes(shape_of(start), shape_of(stop))
    start = sh.broadcast_to(misc.astype(start, dt), shape)
    stop = sh.broadcast_to(misc.astype(stop, dt), shape)
    sign = ew.sign(start)  # piecewise constant: no derivative
    y = logspace(ew.log10(start / sign), ew.log10(stop / sign), num=num, endpoint=endpoint)
    if num > 0:
        first = sh.expand_dims(start / sign, 0)
        last = [sh.expand_dims(stop / sign, 0)] if num > 1 and endpoint else []
        middle = y[1:-1] if last else y[1:]
        y = sh.concatenate([first, middle] + last)
    y = y * sign
    if axis != 0:
        y = sh.moveaxis(y, 0, axis)
    return y if dtype is None else misc.astype(y, dtype)


def _known_value(x):
    """The value of ``x`` if it is known at trace time (a plain array or a concrete tracer), else None."""
    if not isinstance(x, Tracer):
        return np.asarray(x)
    from funcgrad.errors import ConcretizationError
    try:
        return x.concrete_value("geomspace's zero check")
    except ConcretizationError:
        return None
