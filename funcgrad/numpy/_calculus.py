"""Differences, integration and polynomials for ``funcgrad.numpy``: ``diff``, ``ediff1d``,
``gradient``, ``trapezoid``, ``cross``, ``kron``, ``convolve``, ``correlate``, ``interp``,
``polyval``, ``polyfit`` and ``vander``.

Each is a composition of primitives (slices, gathers, products and sums), so it is
differentiable in every floating-point argument, batches under ``vmap`` and runs under
``jit`` with no rule of its own.  ``convolve`` and ``correlate`` are one 1-D ``conv``
(:mod:`funcgrad.ops.conv`, the primitive behind ``lax.conv_general_dilated``): ``O(n m)``
time and memory, as NumPy's direct method.
"""

from __future__ import annotations

import warnings

import numpy as np

from funcgrad._core.dtypes import is_complex
from funcgrad._core.trace import Tracer
from funcgrad.errors import ArgumentError, ShapeError
from funcgrad.numpy._statistics import _array, _float, _known, _numpy_scalars
from funcgrad.ops import elementwise as ew
from funcgrad.ops import indexing, misc
from funcgrad.ops import reductions as red
from funcgrad.ops import shape as sh
from funcgrad.ops._family import dtype_of, shape_of
from funcgrad.ops.conv import conv_general_dilated
from funcgrad.ops.linalg import matmul
from funcgrad.ops.reductions import normalize_axis
from funcgrad.ops.sorting import argsort, searchsorted

__all__ = ["convolve", "correlate", "cross", "diff", "ediff1d", "gradient", "interp", "kron",
           "polyfit", "polyval", "trapezoid", "vander"]

_NO_VALUE = object()


def _along(ndim: int, axis: int, index) -> tuple:
    """An index that applies ``index`` along ``axis`` and takes everything elsewhere."""
    return (slice(None),) * axis + (index,) + (slice(None),) * (ndim - axis - 1)


# -- differences ------------------------------------------------------------------
def diff(a, n: int = 1, axis: int = -1, prepend=_NO_VALUE, append=_NO_VALUE):
    """``numpy.diff``: the ``n``-th discrete difference along ``axis``.

    Examples:
        >>> diff(np.array([1.0, 4.0, 9.0]))
        array([3., 5.])
    """
    if n == 0:
        return a
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n!r}")
    x = _array(a)
    ndim = len(shape_of(x))
    if ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis(axis, ndim)[0]
    parts = []
    for extra in (prepend, x, append):
        if extra is x:
            parts.append(x)
        elif extra is not _NO_VALUE:
            extra = _array(extra)
            if not shape_of(extra):
                shape = list(shape_of(x))
                shape[axis] = 1
                extra = sh.broadcast_to(extra, tuple(shape))
            parts.append(extra)
    if len(parts) > 1:
        x = sh.concatenate(parts, axis=axis)
    boolean = dtype_of(x) == np.bool_
    for _ in range(n):
        later, earlier = x[_along(ndim, axis, slice(1, None))], x[_along(ndim, axis, slice(None, -1))]
        x = ew.not_equal(later, earlier) if boolean else later - earlier
    return x


def ediff1d(ary, to_end=None, to_begin=None):
    """``numpy.ediff1d``: differences of the flattened array, with optional ends.

    Examples:
        >>> ediff1d(np.array([1.0, 2.0, 4.0]), to_begin=0.0)
        array([0., 1., 2.])
    """
    x = sh.ravel(_array(ary))
    parts = [] if to_begin is None else [sh.ravel(misc.astype(_array(to_begin), dtype_of(x)))]
    parts.append(x[1:] - x[:-1])
    if to_end is not None:
        parts.append(sh.ravel(misc.astype(_array(to_end), dtype_of(x))))
    return parts[0] if len(parts) == 1 else sh.concatenate(parts, axis=0)


def _spacings(varargs, shape, axes):
    """One spacing per axis: a scalar step, or the 1-D differences of the coordinates."""
    if not varargs:
        return [1.0] * len(axes)
    if len(varargs) == 1 and not shape_of(varargs[0]):
        return [varargs[0]] * len(axes)
    if len(varargs) != len(axes):
        raise TypeError("invalid number of arguments")
    out = []
    for ax, d in zip(axes, varargs):
        d = _array(d)
        if not shape_of(d):
            out.append(d)
            continue
        if len(shape_of(d)) != 1:
            raise ValueError("distances must be either scalars or 1d")
        if shape_of(d)[0] != shape[ax]:
            raise ValueError("when 1d, distances must match the length of the corresponding "
                             "dimension")
        steps = diff(_float(d))
        if not isinstance(steps, Tracer) and np.all(steps == steps[0]):
            steps = steps[0]  # uniform, as NumPy detects it
        out.append(steps)
    return out


def gradient(f, *varargs, axis=None, edge_order: int = 1):
    """``numpy.gradient``: second-order central differences inside, one-sided at the edges.

    Differentiable in ``f`` and in coordinate arrays given as spacings.  One axis gives
    an array; several give a tuple, as in NumPy.

    Examples:
        >>> gradient(np.array([1.0, 4.0, 9.0, 16.0]))
        array([3., 4., 6., 7.])
    """
    x = _float(_array(f))
    ndim = len(shape_of(x))
    axes = tuple(range(ndim)) if axis is None else _axes_in_order(axis, ndim)
    spacings = _spacings(varargs, shape_of(x), axes)
    if edge_order not in (1, 2):
        raise ValueError("'edge_order' greater than 2 not supported")
    outs = []
    for ax, dx in zip(axes, spacings):
        if shape_of(x)[ax] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least (edge_order + 1) elements are required.")
        outs.append(_gradient_1(x, ax, dx, edge_order))
    return outs[0] if len(axes) == 1 else tuple(outs)


def _axes_in_order(axis, ndim):
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    normalize_axis(axes, ndim)  # range and repeats checked as NumPy does
    return tuple(int(a) % ndim for a in axes)


def _gradient_1(f, axis, dx, edge_order):
    ndim = len(shape_of(f))

    def at(index):
        return f[_along(ndim, axis, index)]

    def shaped(v):  # a 1-D coefficient along ``axis``
        return sh.reshape(v, tuple(-1 if i == axis else 1 for i in range(ndim)))

    uniform = not shape_of(dx)
    if uniform:
        inner = (at(slice(2, None)) - at(slice(None, -2))) / (2.0 * dx)
    else:
        dx1, dx2 = dx[:-1], dx[1:]
        a = shaped(-dx2 / (dx1 * (dx1 + dx2)))
        b = shaped((dx2 - dx1) / (dx1 * dx2))
        c = shaped(dx1 / (dx2 * (dx1 + dx2)))
        inner = a * at(slice(None, -2)) + b * at(slice(1, -1)) + c * at(slice(2, None))
    if edge_order == 1:
        first = (at(slice(1, 2)) - at(slice(0, 1))) / (dx if uniform else dx[0])
        last = (at(slice(-1, None)) - at(slice(-2, -1))) / (dx if uniform else dx[-1])
    else:
        if uniform:
            a0, b0, c0 = -1.5 / dx, 2.0 / dx, -0.5 / dx
            a1, b1, c1 = 0.5 / dx, -2.0 / dx, 1.5 / dx
        else:
            d1, d2 = dx[0], dx[1]
            a0, b0, c0 = (-(2.0 * d1 + d2) / (d1 * (d1 + d2)), (d1 + d2) / (d1 * d2),
                          -d1 / (d2 * (d1 + d2)))
            d1, d2 = dx[-2], dx[-1]
            a1, b1, c1 = (d2 / (d1 * (d1 + d2)), -(d2 + d1) / (d1 * d2),
                          (2.0 * d2 + d1) / (d2 * (d1 + d2)))
        first = a0 * at(slice(0, 1)) + b0 * at(slice(1, 2)) + c0 * at(slice(2, 3))
        last = a1 * at(slice(-3, -2)) + b1 * at(slice(-2, -1)) + c1 * at(slice(-1, None))
    parts = [first, inner, last] if shape_of(f)[axis] > 2 else [first, last]
    out = sh.concatenate(parts, axis=axis)
    return out if dtype_of(out) == dtype_of(f) else misc.astype(out, dtype_of(f))


def trapezoid(y, x=None, dx=1.0, axis: int = -1):
    """``numpy.trapezoid``: the trapezoidal rule along ``axis``; differentiable in ``y`` and ``x``.

    Examples:
        >>> trapezoid(np.array([1.0, 2.0, 3.0]), dx=0.5)
        np.float64(2.0)
    """
    y = _array(y)
    ndim = len(shape_of(y))
    axis = normalize_axis(axis, ndim)[0]
    if x is None:
        d = dx
    else:
        x = _array(x)
        if len(shape_of(x)) == 1:
            d = sh.reshape(diff(x), tuple(-1 if i == axis else 1 for i in range(ndim)))
        else:
            d = diff(x, axis=axis)
    heights = y[_along(ndim, axis, slice(1, None))] + y[_along(ndim, axis, slice(None, -1))]
    return red.sum(d * heights / 2.0, axis=axis)


# -- products ------------------------------------------------------------------------
def cross(a, b, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis=None):
    """``numpy.cross`` of 3-vectors (or 2-vectors, deprecated in NumPy 2 as here), broadcasting.

    Examples:
        >>> cross(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
        array([0., 0., 1.])
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _array(a), _array(b)
    a = sh.moveaxis(a, normalize_axis(axisa, len(shape_of(a)), "axisa")[0], -1)
    b = sh.moveaxis(b, normalize_axis(axisb, len(shape_of(b)), "axisb")[0], -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n(dimension must be 2 or 3)")
    if na == 2 or nb == 2:
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of "
                      "3-dimensional vectors instead. (deprecated in NumPy 2.0)",
                      DeprecationWarning, stacklevel=2)
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    z = a0 * b1 - a1 * b0
    if na == 2 and nb == 2:
        return z
    a2 = a[..., 2] if na == 3 else 0.0
    b2 = b[..., 2] if nb == 3 else 0.0
    x, y = a1 * b2 - a2 * b1, a2 * b0 - a0 * b2
    shape = np.broadcast_shapes(shape_of(x), shape_of(y), shape_of(z))
    out = sh.stack([sh.broadcast_to(c, shape) for c in (x, y, z)], axis=-1)
    return sh.moveaxis(out, -1, normalize_axis(axisc, len(shape) + 1, "axisc")[0])


def kron(a, b):
    """``numpy.kron``: the Kronecker product (blocks ``a[i, j] * b``), any number of dimensions.

    Examples:
        >>> kron(np.array([1.0, 2.0]), np.array([1.0, 10.0]))
        array([ 1., 10.,  2., 20.])
    """
    a, b = _array(a), _array(b)
    nd = max(len(shape_of(a)), len(shape_of(b)))
    sa = (1,) * (nd - len(shape_of(a))) + tuple(shape_of(a))
    sb = (1,) * (nd - len(shape_of(b))) + tuple(shape_of(b))
    a = sh.reshape(a, tuple(v for n in sa for v in (n, 1)))
    b = sh.reshape(b, tuple(v for n in sb for v in (1, n)))
    return sh.reshape(a * b, tuple(m * n for m, n in zip(sa, sb)))


# -- convolution ------------------------------------------------------------------------
_MODES = ("full", "same", "valid")


def _signals(a, v, name):
    a, v = _array(a), _array(v)
    for label, x in (("a", a), ("v", v)):
        if len(shape_of(x)) > 1:
            raise ShapeError(f"{name}: {label} must be 1-D, got shape {shape_of(x)}")
    a, v = sh.ravel(a), sh.ravel(v)  # NumPy accepts 0-d operands as length-1 signals
    if shape_of(a)[0] == 0:
        raise ValueError("a cannot be empty")
    if shape_of(v)[0] == 0:
        raise ValueError("v cannot be empty")
    return a, v


def _full_rows(a, kernel, start: int, count: int):
    """Rows ``start .. start + count`` of the full cross-correlation of ``a`` with ``kernel``
    (``a`` padded by ``len(kernel) - 1`` zeros each side): one 1-D ``conv`` whose padding
    keeps just those rows."""
    n, m = shape_of(a)[0], shape_of(kernel)[0]
    lo = m - 1 - start
    out = conv_general_dilated(sh.reshape(a, (1, 1, n)), sh.reshape(kernel, (1, 1, m)), (1,),
                               [(lo, count + m - 1 - n - lo)])
    return sh.reshape(out, (count,))


def convolve(a, v, mode: str = "full"):
    """``numpy.convolve`` of two 1-D signals (modes ``full``, ``same``, ``valid``); differentiable in both.

    Examples:
        >>> convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
        array([0. , 1. , 2.5, 4. , 1.5])
    """
    a, v = _signals(a, v, "convolve")
    n, m = shape_of(a)[0], shape_of(v)[0]
    start, count = _window(mode, n, m, (min(n, m) - 1) // 2)
    return _full_rows(a, sh.flip(v, 0), start, count)


def correlate(a, v, mode: str = "valid"):
    """``numpy.correlate``: ``c[k] = sum_n a[n + k] * conj(v[n])`` (modes ``full``, ``same``, ``valid``).

    Examples:
        >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
        array([3.5])
    """
    a, v = _signals(a, v, "correlate")
    n, m = shape_of(a)[0], shape_of(v)[0]
    same = (m - 1) // 2 if n >= m else n - 1 - (n - 1) // 2
    start, count = _window(mode, n, m, same)
    return _full_rows(a, ew.conj(v), start, count)


def _window(mode, n: int, m: int, same_start: int) -> tuple[int, int]:
    """``(first row, number of rows)`` of the full result that ``mode`` keeps."""
    if mode == "full":
        return 0, n + m - 1
    if mode == "same":
        return same_start, max(n, m)
    if mode == "valid":
        return min(n, m) - 1, max(n, m) - min(n, m) + 1
    raise ValueError(f"mode must be one of 'full', 'same' or 'valid', got {mode!r}")


# -- interpolation ----------------------------------------------------------------------
def interp(x, xp, fp, left=None, right=None, period=None):
    """``numpy.interp``: piecewise-linear interpolation, differentiable in ``x``, ``xp`` and ``fp``.

    At a sample point ``x == xp[i]`` the derivative in ``x`` is the slope of the segment to
    the right (JAX's convention: ``searchsorted(xp, x, side='right')``).

    Examples:
        >>> interp(np.array([0.5, 2.0]), np.array([0.0, 1.0]), np.array([0.0, 10.0]))
        array([ 5., 10.])
    """
    x, xp, fp = _array(x), _array(xp), _array(fp)
    if len(shape_of(xp)) != 1 or len(shape_of(fp)) != 1:
        raise ValueError("Data points must be 1-D sequences")
    if shape_of(xp)[0] != shape_of(fp)[0]:
        raise ValueError("fp and xp are not of the same length.")
    if shape_of(xp)[0] == 0:
        raise ValueError("array of sample points is empty")
    # NumPy interpolates in double precision, whatever the inputs' dtypes.
    x, xp = misc.astype(x, np.float64), misc.astype(xp, np.float64)
    fp = misc.astype(fp, np.complex128 if is_complex(dtype_of(fp)) else np.float64)
    if period is not None:
        if period == 0:
            raise ValueError("period must be a non-zero value")
        period = abs(period)
        left = right = None
        x, xp = ew.mod(x, period), ew.mod(xp, period)
        order = argsort(xp)
        xp, fp = xp[order], fp[order]
        xp = sh.concatenate([xp[-1:] - period, xp, xp[:1] + period], axis=0)
        fp = sh.concatenate([fp[-1:], fp, fp[:1]], axis=0)
    n = shape_of(xp)[0]
    if n == 1:
        f = sh.broadcast_to(fp[0], shape_of(x)) if shape_of(x) else fp[0] + 0 * x
    else:
        i = ew.clip(searchsorted(xp, x, side="right"), 1, n - 1)
        x0, x1 = indexing.getitem(xp, i - 1), indexing.getitem(xp, i)  # xp may be plain, i traced
        f0, f1 = indexing.getitem(fp, i - 1), indexing.getitem(fp, i)
        flat = ew.equal(x1 - x0, 0)
        f = ew.where(flat, f1, f0 + ((x - x0) / ew.where(flat, 1, x1 - x0)) * (f1 - f0))
    if period is None:
        f = ew.where(ew.less(x, xp[0]), fp[0] if left is None else left, f)
        f = ew.where(ew.greater(x, xp[-1]), fp[-1] if right is None else right, f)
    return f


# -- polynomials ------------------------------------------------------------------------
def polyval(p, x):
    """``numpy.polyval``: ``p[0] * x**(n-1) + ... + p[n-1]`` by Horner's rule.

    Examples:
        >>> polyval(np.array([1.0, 0.0, -1.0]), np.array([2.0, 3.0]))
        array([3., 8.])
    """
    p, x = _array(p), _array(x)
    y = np.zeros(shape_of(x), dtype_of(x))
    for k in range(shape_of(p)[0] if shape_of(p) else 1):
        y = y * x + (p[k] if shape_of(p) else p)
    return y


def vander(x, N=None, increasing: bool = False):
    """``numpy.vander``: the columns are powers of ``x`` (decreasing unless ``increasing``).

    Examples:
        >>> vander(np.array([2.0, 3.0]), 3)
        array([[4., 2., 1.],
               [9., 3., 1.]])
    """
    x = _array(x)
    if len(shape_of(x)) != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    dtype = np.promote_types(dtype_of(x), int)  # NumPy's: float32 becomes float64
    x = x if dtype_of(x) == dtype else misc.astype(x, dtype)
    n = shape_of(x)[0] if N is None else int(N)
    powers = range(n) if increasing else range(n - 1, -1, -1)
    if n == 0:
        return np.empty((shape_of(x)[0], 0), dtype)
    return sh.stack([ew.power(x, k) for k in powers], axis=1)


def polyfit(x, y, deg: int, rcond=None, full: bool = False, w=None, cov: bool = False):
    """``numpy.polyfit``: least-squares polynomial coefficients (highest power first),
    differentiable in ``x``, ``y`` and ``w``.

    Solved with a QR factorisation of the column-scaled Vandermonde matrix.  An
    underdetermined or rank-deficient fit is an error here (NumPy warns and returns a
    minimum-norm solution); ``full=True`` and ``cov=True`` are not supported.

    Examples:
        >>> np.round(polyfit(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0]), 1), 12)
        array([2., 1.])
    """
    from funcgrad.numpy import linalg

    if full or cov:
        raise ArgumentError("polyfit: full=True and cov=True are not supported; "
                            "use the coefficients and fnp.linalg for residuals")
    order = int(deg) + 1
    if deg < 0:
        raise ValueError("expected deg >= 0")
    x, y = _float(_array(x)), _float(_array(y))
    if len(shape_of(x)) != 1:
        raise TypeError("expected 1D vector for x")
    if shape_of(x)[0] == 0:
        raise TypeError("expected non-empty vector for x")
    if len(shape_of(y)) not in (1, 2):
        raise TypeError("expected 1D or 2D array for y")
    if shape_of(x)[0] != shape_of(y)[0]:
        raise TypeError("expected x and y to have same length")
    if shape_of(x)[0] < order:
        raise ValueError(f"polyfit: {order} coefficients need at least {order} points, got "
                         f"{shape_of(x)[0]} (the fit is underdetermined)")
    lhs, rhs = vander(x, order), y
    if w is not None:
        w = _float(_array(w))
        if len(shape_of(w)) != 1:
            raise TypeError("expected a 1-d array for weights")
        if shape_of(w)[0] != shape_of(y)[0]:
            raise TypeError("expected w and y to have the same length")
        lhs = lhs * sh.expand_dims(w, 1)
        rhs = rhs * (w if len(shape_of(y)) == 1 else sh.expand_dims(w, 1))
    scale = ew.sqrt(red.sum(lhs * lhs, axis=0))
    q, r = linalg.qr(lhs / scale)
    diag = _known(sh.diagonal(r))
    tol = (shape_of(x)[0] * np.finfo(dtype_of(x)).eps) if rcond is None else rcond
    if diag is not None and np.min(np.abs(diag)) <= tol * np.max(np.abs(diag)):
        raise np.linalg.LinAlgError("polyfit: the fit is rank deficient (repeated or too few "
                                    "distinct x for this degree)")
    c = linalg.solve(r, matmul(sh.transpose(q), rhs))
    return c / (scale if len(shape_of(c)) == 1 else sh.expand_dims(scale, 1))


for _name in __all__:  # public functions return NumPy scalars for 0-d results on plain arrays
    globals()[_name] = _numpy_scalars(globals()[_name])
del _name
