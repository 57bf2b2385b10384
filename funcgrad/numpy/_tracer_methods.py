"""Give :class:`~funcgrad._core.trace.Tracer` the array interface: operators, methods, ``.at``.

Kept here, not in ``_core``, because the core knows no particular op.
``__array_ufunc__`` routes NumPy ufuncs called on tracers (``np.exp(t)``,
``ndarray * t``) to the funcgrad op of the same name, so tracers win on either side.
"""

from __future__ import annotations

from funcgrad._core.primitive import binary_binder
from funcgrad._core.trace import Tracer, user_location
from funcgrad.errors import ArgumentError, TracerConversionError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import indexing, misc
from funcgrad.ops import reductions as red
from funcgrad.ops import shape as sh
from funcgrad.ops import sorting


def _swap(fn):
    prim = getattr(fn, "primitive", None)
    if prim is not None:  # no wrapper around the binder: operators are the hottest path
        return binary_binder(prim, swapped=True)
    return lambda self, other: fn(other, self)


def _forward(fn):
    prim = getattr(fn, "primitive", None)
    if prim is not None:
        return binary_binder(prim)
    return lambda self, other: fn(self, other)


def _linalg():
    from funcgrad.ops import linalg
    return linalg


def _matmul(a, b):
    return _linalg().matmul(a, b)


_BINARY = {
    "add": ew.add, "sub": ew.subtract, "mul": ew.multiply, "truediv": ew.divide,
    "pow": ew.power, "matmul": _matmul, "floordiv": ew.floor_divide, "mod": ew.mod,
    # NumPy's bit operators: on booleans they are the logical ones.
    "and": ew.bitwise_and, "or": ew.bitwise_or, "xor": ew.bitwise_xor,
    "lshift": ew.left_shift, "rshift": ew.right_shift,
}
_COMPARE = {"eq": ew.equal, "ne": ew.not_equal, "lt": ew.less, "le": ew.less_equal,
            "gt": ew.greater, "ge": ew.greater_equal}


def _method_reshape(self, *shape, order="C"):
    """``ndarray.reshape``; ``order="F"`` reads and writes the elements in column-major order
    (a reshape of the transpose, transposed back); traced arrays are C-ordered, so "A" is "C"."""
    shape = shape[0] if len(shape) == 1 else shape
    if order in ("C", "A"):
        return sh.reshape(self, shape)
    if order == "F":
        reversed_shape = (shape,) if isinstance(shape, int) else tuple(shape)[::-1]
        return sh.transpose(sh.reshape(sh.transpose(self), reversed_shape))
    raise ArgumentError(f"reshape: order must be 'C', 'F' or 'A', got {order!r}")


def _divmod(a, b):
    return ew.floor_divide(a, b), ew.mod(a, b)


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    fn = _matmul if ufunc.__name__ == "matmul" else getattr(ew, ufunc.__name__, None)
    if method != "__call__" or fn is None or kwargs:
        from funcgrad.numpy._ufunc_hints import ufunc_display_name, ufunc_hint

        loc = user_location()
        call = ufunc_display_name(ufunc) + ("" if method == "__call__" else f".{method}")
        raise TracerConversionError(
            f"{call}(...) cannot take a traced array{f' at {loc[0]}:{loc[1]}' if loc else ''}: "
            f"{ufunc_hint(ufunc, method, kwargs)}.")
    return fn(*inputs)


def _numpy_method(fn):
    """A reduction method that also takes the ``dtype``/``out`` keywords ``np.sum(t)`` passes."""
    def method(self, *args, dtype=None, out=None, **kwargs):
        if out is not None:
            raise TracerConversionError(f"{fn.__name__}(out=...) cannot write into an array "
                                        "from a traced computation")
        result = fn(self, *args, **kwargs)
        return result if dtype is None else misc.astype(result, dtype)
    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


def _method_clip(self, min=None, max=None, *, a_min=None, a_max=None):  # noqa: A002 - NumPy's names
    """``ndarray.clip(min, max)`` (NumPy 2.x; ``a_min``/``a_max`` accepted too)."""
    return ew.clip(self, a_min if min is None else min, a_max if max is None else max)


def _method_nonzero(self):
    """``ndarray.nonzero()``: integer index arrays, which need a concrete value (no derivative is lost)."""
    import numpy as np

    return np.nonzero(np.asarray(self.concrete_value("nonzero()")))


def install() -> None:
    for name, fn in _BINARY.items():
        setattr(Tracer, f"__{name}__", _forward(fn))
        setattr(Tracer, f"__r{name}__", _swap(fn))
    for name, fn in _COMPARE.items():
        setattr(Tracer, f"__{name}__", _forward(fn))
    Tracer.__divmod__ = _divmod
    Tracer.__rdivmod__ = lambda self, other: _divmod(other, self)
    Tracer.__neg__ = lambda self: ew.negative(self)
    Tracer.__pos__ = lambda self: self
    Tracer.__abs__ = lambda self: ew.abs(self)
    Tracer.__invert__ = lambda self: ew.invert(self)
    Tracer.__getitem__ = lambda self, index: indexing.getitem(self, index)
    Tracer.__array_ufunc__ = _array_ufunc
    Tracer.T = property(lambda self: sh.transpose(self))
    Tracer.mT = property(lambda self: sh.swapaxes(self, -1, -2))
    Tracer.at = property(lambda self: indexing.at(self))
    Tracer.reshape = _method_reshape
    Tracer.ravel = lambda self: sh.ravel(self)
    Tracer.flatten = lambda self: sh.ravel(self)
    Tracer.transpose = lambda self, *axes: sh.transpose(
        self, (axes[0] if len(axes) == 1 else axes) if axes else None)
    Tracer.squeeze = lambda self, axis=None: sh.squeeze(self, axis)
    Tracer.swapaxes = lambda self, a, b: sh.swapaxes(self, a, b)
    Tracer.astype = lambda self, dtype: misc.astype(self, dtype)
    # ndarray.view(dtype): the same bits as a dtype of the same size (no derivative).
    Tracer.view = lambda self, dtype=None: self if dtype is None else misc.bitcast_convert_type(self, dtype)
    Tracer.real = property(lambda self: ew.real(self))
    Tracer.imag = property(lambda self: ew.imag(self))
    Tracer.conj = Tracer.conjugate = lambda self: ew.conjugate(self)
    Tracer.dot = lambda self, other: _linalg().dot(self, other)
    for name in ("sum", "mean", "max", "min", "prod", "all", "any", "argmax", "argmin", "var",
                 "std", "cumsum", "cumprod"):
        setattr(Tracer, name, _numpy_method(getattr(red, name)))
    Tracer.clip = _method_clip
    Tracer.round = lambda self, decimals=0: ew.round(self, decimals)
    # Tracers are immutable: .sort() returns the sorted array (as JAX's), not None.
    Tracer.sort = lambda self, axis=-1, kind=None, order=None, *, stable=None: sorting.sort(
        self, axis, kind, order, stable=stable)
    Tracer.argsort = lambda self, axis=-1, kind=None, order=None, *, stable=None: sorting.argsort(
        self, axis, kind, order, stable=stable)
    Tracer.nonzero = _method_nonzero
    Tracer.__hash__ = None


install()
