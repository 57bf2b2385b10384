"""``funcgrad.numpy.fft`` (``fnp.fft``): NumPy's discrete Fourier transforms, differentiable.

The functions take NumPy's arguments (``n``/``s``, ``axis``/``axes``, ``norm`` in
``{None, "backward", "ortho", "forward"}``) and raise NumPy's errors for bad ones.  On
plain arrays they call :mod:`numpy.fft` directly; on traced values they crop or
zero-pad to ``n``/``s`` with the slicing and pad ops and bind the one ``fft``
primitive (:mod:`funcgrad.ops.fft`).  Derivatives follow JAX's complex convention
(``docs/complex.md``): for a real loss ``L`` of a complex value ``z = x + iy``,
``grad`` gives ``∂L/∂x − i ∂L/∂y``.

Examples:
    >>> import funcgrad as fg
    >>> import funcgrad.numpy as fnp
    >>> fnp.fft.rfft(np.array([1.0, 2.0, 3.0, 4.0]))
    array([10.+0.j, -2.+2.j, -2.+0.j])
    >>> fg.grad(lambda x: fnp.sum(fnp.fft.irfft(fnp.fft.rfft(x) * 2.0)))(np.ones(4))
    array([2., 2., 2., 2.])
"""

import operator as _operator
import warnings as _warnings
from collections.abc import Sequence as _Sequence

import numpy as _np
from numpy.exceptions import AxisError as _AxisError

from funcgrad._core.namespace import public_dir as _public_dir
from funcgrad._core.trace import Tracer as _Tracer
from funcgrad.errors import DTypeError as _DTypeError
from funcgrad.ops import fft as _ops
from funcgrad.ops import misc as _misc
from funcgrad.ops import shape as _shape

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
           "fftn", "ifftn", "rfftn", "irfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]
__dir__ = _public_dir(globals())

_Axes = _Sequence[int] | None
_Shape = _Sequence[int] | None

#: kind -> (input is real, output is real): which side holds the half spectrum.
_REAL_IN = {"fft": False, "ifft": False, "rfft": True, "ihfft": True, "irfft": False, "hfft": False}
_REAL_OUT = {"fft": False, "ifft": False, "rfft": False, "ihfft": False, "irfft": True, "hfft": True}
# -- argument checks (NumPy's errors) ------------------------------------------------------
def _norm(norm: str | None) -> str:
    if norm is None:
        return "backward"
    if norm not in _ops.NORMS:
        raise ValueError(f'Invalid norm value {norm}; should be "backward","ortho" or "forward".')
    return norm


def _points(n) -> int:
    n = _operator.index(n)  # TypeError for 2.5, as NumPy
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    return n


def _axis(axis, ndim: int) -> int:
    axis = _operator.index(axis)
    if not -ndim <= axis < ndim:
        raise _AxisError(axis, ndim)
    return axis % ndim


def _traced(a):
    """``a`` as a tracer when it is one or holds one (a list of tracers), else None."""
    if isinstance(a, _Tracer):
        return a
    if isinstance(a, (list, tuple)):
        from funcgrad import numpy as fnp

        arr = fnp.asarray(a)
        return arr if isinstance(arr, _Tracer) else None
    return None


def _input_dtype(x, kind: str):
    """Cast ``x`` to the dtype the transform reads (NumPy: real kinds refuse complex input)."""
    dtype = _np.dtype(x.dtype)
    if _REAL_IN[kind]:
        if dtype.kind == "c":
            raise _DTypeError(f"fnp.fft: the {kind} transform takes a real input, got {dtype}; "
                              "use fft for complex input")
        return _misc.astype(x, _np.result_type(dtype, 1.0))
    return _misc.astype(x, _np.result_type(dtype, _np.complex64))


def _resize(x, axis: int, size: int):
    """Crop or zero-pad ``x`` along ``axis`` to ``size`` (what NumPy does with ``n``)."""
    have = x.shape[axis]
    if have > size:
        return x[(slice(None),) * axis + (slice(0, size),)]
    if have < size:
        widths = [(0, 0)] * x.ndim
        widths[axis] = (0, size - have)
        return _shape.pad(x, widths)
    return x


def _transform(x, kind: str, sizes: list[int], axes: list[int], norm: str):
    """Resize ``x`` along distinct ``axes`` to the logical ``sizes`` and bind the primitive."""
    x = _input_dtype(x, kind)
    for i, (n, ax) in enumerate(zip(sizes, axes)):
        last = i == len(axes) - 1
        x = _resize(x, ax, n // 2 + 1 if last and _REAL_OUT[kind] else n)
    return _ops.fft_transform(x, kind, tuple(axes), tuple(sizes), norm)


# -- 1-D transforms ------------------------------------------------------------------------
def _one(kind: str, a, n, axis, norm):
    norm = _norm(norm)
    x = _traced(a)
    if x is None:
        a = _np.asarray(a)
        _axis(axis, a.ndim)
        if n is not None:
            _points(n)
        return getattr(_np.fft, kind)(a, n, axis, norm)  # numpy.fft is imported on first use
    ax = _axis(axis, x.ndim)
    if n is None:
        n = 2 * (x.shape[ax] - 1) if _REAL_OUT[kind] else x.shape[ax]
    return _transform(x, kind, [_points(n)], [ax], norm)


def fft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """``numpy.fft.fft``: the 1-D discrete Fourier transform, differentiable.

    Examples:
        >>> fft(np.array([1.0, 0.0, 0.0, 0.0]))
        array([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j])
    """
    return _one("fft", a, n, axis, norm)


def ifft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """``numpy.fft.ifft``: the 1-D inverse discrete Fourier transform, differentiable.

    Examples:
        >>> ifft(np.array([4.0, 0.0, 0.0, 0.0]))
        array([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j])
    """
    return _one("ifft", a, n, axis, norm)


def rfft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """``numpy.fft.rfft``: the FFT of a real signal, frequencies ``0 .. n // 2``.

    Examples:
        >>> rfft(np.array([1.0, 1.0, 1.0, 1.0]))
        array([4.+0.j, 0.+0.j, 0.+0.j])
    """
    return _one("rfft", a, n, axis, norm)


def irfft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """``numpy.fft.irfft``: the inverse of :func:`rfft`; ``n`` is the output length (default ``2 (m - 1)``).

    The imaginary parts of the zero (and, for even ``n``, Nyquist) frequencies are
    ignored, as in NumPy, so their gradient is zero.

    Examples:
        >>> irfft(np.array([4.0, 0.0, 0.0]))
        array([1., 1., 1., 1.])
    """
    return _one("irfft", a, n, axis, norm)


def hfft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """``numpy.fft.hfft``: the FFT of a signal with Hermitian symmetry, given by its first half.

    Examples:
        >>> hfft(np.array([1.0, 0.0, 0.0]))
        array([1., 1., 1., 1.])
    """
    return _one("hfft", a, n, axis, norm)


def ihfft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """``numpy.fft.ihfft``: the inverse of :func:`hfft` (a real signal in, a half spectrum out).

    Examples:
        >>> ihfft(np.array([4.0, 0.0, 0.0, 0.0]))
        array([1.-0.j, 1.-0.j, 1.-0.j])
    """
    return _one("ihfft", a, n, axis, norm)


# -- n-D transforms ------------------------------------------------------------------------
def _cook(x, s, axes, real_out: bool):
    """NumPy's ``_cook_nd_args``: the logical sizes and the axes (normalised) of an n-D transform."""
    shapeless = s is None
    if axes is not None:
        axes = [_axis(ax, x.ndim) for ax in axes]
    if shapeless:
        s = list(x.shape) if axes is None else [x.shape[ax] for ax in axes]
    s = list(s)
    if axes is None:
        if not shapeless:
            _warnings.warn("`axes` should not be `None` if `s` is not `None` (Deprecated in NumPy "
                          "2.0): pass axes explicitly", DeprecationWarning, stacklevel=4)
        axes = [_axis(ax, x.ndim) for ax in range(-len(s), 0)]
    if len(s) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    if real_out and shapeless:
        s[-1] = (x.shape[axes[-1]] - 1) * 2
    if None in s:
        _warnings.warn("Passing an array containing `None` values to `s` is deprecated in NumPy "
                      "2.0: pass the default of the 1-D transform's `n` instead",
                      DeprecationWarning, stacklevel=4)
        s = [n if n is not None else 2 * (x.shape[ax] - 1) if real_out and i == len(s) - 1
             else x.shape[ax] for i, (n, ax) in enumerate(zip(s, axes))]
    s = [x.shape[ax] if n == -1 else _points(n) for n, ax in zip(s, axes)]
    return s, axes


def _many(kind: str, a, s, axes, norm):
    norm = _norm(norm)
    x = _traced(a)
    if x is None:
        a = _np.asarray(a)
        for ax in () if axes is None else axes:
            _axis(ax, a.ndim)  # an AxisError (an IndexError, as NumPy raises) with the numbers
        return getattr(_np.fft, kind + "n")(a, s, axes, norm)
    sizes, axes = _cook(x, s, axes, _REAL_OUT[kind])
    if not axes:
        if kind in ("fft", "ifft"):
            return x  # NumPy returns the input unchanged
        raise IndexError(f"fnp.fft.{kind}n: the real transforms need at least one axis")
    if len(set(axes)) == len(axes):
        return _transform(x, kind, sizes, axes, norm)
    # An axis listed twice is transformed twice, each time cropped or padded first: as NumPy,
    # one 1-D transform at a time (the half-spectrum axis is the last one listed).
    half, full = ("rfft", "fft") if kind == "rfft" else ("irfft", "ifft") if kind == "irfft" else (
        kind, kind)
    if kind == "irfft":
        for n, ax in zip(sizes[:-1], axes[:-1]):
            x = _transform(x, full, [n], [ax], norm)
        return _transform(x, half, sizes[-1:], axes[-1:], norm)
    x = _transform(x, half, sizes[-1:], axes[-1:], norm)
    for n, ax in reversed(list(zip(sizes[:-1], axes[:-1]))):
        x = _transform(x, full, [n], [ax], norm)
    return x


def fftn(a, s: _Shape = None, axes: _Axes = None, norm: str | None = None):
    """``numpy.fft.fftn``: the n-D discrete Fourier transform over ``axes`` (default all).

    Examples:
        >>> fftn(np.ones((2, 2)))
        array([[4.+0.j, 0.+0.j],
               [0.+0.j, 0.+0.j]])
    """
    return _many("fft", a, s, axes, norm)


def ifftn(a, s: _Shape = None, axes: _Axes = None, norm: str | None = None):
    """``numpy.fft.ifftn``: the n-D inverse discrete Fourier transform.

    Examples:
        >>> ifftn(np.array([[4.0, 0.0], [0.0, 0.0]])).real
        array([[1., 1.],
               [1., 1.]])
    """
    return _many("ifft", a, s, axes, norm)


def rfftn(a, s: _Shape = None, axes: _Axes = None, norm: str | None = None):
    """``numpy.fft.rfftn``: the n-D FFT of a real array; the last axis keeps ``s[-1] // 2 + 1`` frequencies.

    Examples:
        >>> rfftn(np.ones((2, 4))).shape
        (2, 3)
    """
    return _many("rfft", a, s, axes, norm)


def irfftn(a, s: _Shape = None, axes: _Axes = None, norm: str | None = None):
    """``numpy.fft.irfftn``: the inverse of :func:`rfftn`; ``s`` is the output's shape along ``axes``.

    Examples:
        >>> irfftn(np.array([[8.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))
        array([[1., 1., 1., 1.],
               [1., 1., 1., 1.]])
    """
    return _many("irfft", a, s, axes, norm)


def fft2(a, s: _Shape = None, axes: _Axes = (-2, -1), norm: str | None = None):
    """``numpy.fft.fft2``: :func:`fftn` over the last two axes.

    Examples:
        >>> fft2(np.ones((2, 2)))[0, 0]
        np.complex128(4+0j)
    """
    return _many("fft", a, s, axes, norm)


def ifft2(a, s: _Shape = None, axes: _Axes = (-2, -1), norm: str | None = None):
    """``numpy.fft.ifft2``: :func:`ifftn` over the last two axes.

    Examples:
        >>> ifft2(np.full((2, 2), 4.0))[0, 0]
        np.complex128(4+0j)
    """
    return _many("ifft", a, s, axes, norm)


def rfft2(a, s: _Shape = None, axes: _Axes = (-2, -1), norm: str | None = None):
    """``numpy.fft.rfft2``: :func:`rfftn` over the last two axes.

    Examples:
        >>> rfft2(np.ones((3, 4))).shape
        (3, 3)
    """
    return _many("rfft", a, s, axes, norm)


def irfft2(a, s: _Shape = None, axes: _Axes = (-2, -1), norm: str | None = None):
    """``numpy.fft.irfft2``: :func:`irfftn` over the last two axes.

    Examples:
        >>> irfft2(np.ones((3, 3))).shape
        (3, 4)
    """
    return _many("irfft", a, s, axes, norm)


# -- frequencies and shifts ----------------------------------------------------------------
def fftfreq(n: int, d=1.0):
    """``numpy.fft.fftfreq``: the sample frequencies; differentiable in the sample spacing ``d``.

    Examples:
        >>> fftfreq(4, 0.5)
        array([ 0. ,  0.5, -1. , -0.5])
    """
    if isinstance(d, _Tracer):  # NumPy's arithmetic (and so its dtypes) on the traced spacing
        n = _operator.index(n)
        return _np.fft.ifftshift(_np.arange(-(n // 2), n - n // 2)) * (1.0 / (n * d))
    return _np.fft.fftfreq(n, d)


def rfftfreq(n: int, d=1.0):
    """``numpy.fft.rfftfreq``: the sample frequencies of :func:`rfft`; differentiable in ``d``.

    Examples:
        >>> rfftfreq(4, 0.5)
        array([0. , 0.5, 1. ])
    """
    if isinstance(d, _Tracer):  # NumPy's arithmetic (and so its dtypes) on the traced spacing
        n = _operator.index(n)
        return _np.arange(n // 2 + 1) * (1.0 / (n * d))
    return _np.fft.rfftfreq(n, d)


def _roll_half(x, axes, sign: int):
    if axes is None:
        axes = range(x.ndim)
    elif isinstance(axes, int):
        axes = (axes,)
    for ax in axes:
        ax = _axis(ax, x.ndim)
        n = x.shape[ax]
        k = (sign * (n // 2)) % n if n else 0
        if k:  # a rotation: the last k entries move to the front
            head = x[(slice(None),) * ax + (slice(n - k, None),)]
            tail = x[(slice(None),) * ax + (slice(0, n - k),)]
            x = _shape.concatenate([head, tail], axis=ax)
    return x


def fftshift(x, axes: int | _Sequence[int] | None = None):
    """``numpy.fft.fftshift``: move the zero frequency to the centre (a rotation, differentiable).

    Examples:
        >>> fftshift(np.array([0.0, 1.0, 2.0, -2.0, -1.0]))
        array([-2., -1.,  0.,  1.,  2.])
    """
    t = _traced(x)
    return _np.fft.fftshift(x, axes) if t is None else _roll_half(t, axes, 1)


def ifftshift(x, axes: int | _Sequence[int] | None = None):
    """``numpy.fft.ifftshift``: the inverse of :func:`fftshift`.

    Examples:
        >>> ifftshift(np.array([-2.0, -1.0, 0.0, 1.0, 2.0]))
        array([ 0.,  1.,  2., -2., -1.])
    """
    t = _traced(x)
    return _np.fft.ifftshift(x, axes) if t is None else _roll_half(t, axes, -1)
