"""Statistics for ``funcgrad.numpy``: order statistics, NaN-skipping reductions, ``average``,
``ptp``, ``cov``, ``corrcoef`` and ``count_nonzero``, written as compositions of primitives.

Order statistics (``median``, ``quantile``, ``percentile`` and their ``nan`` versions) sort
with :func:`funcgrad.ops.sorting.sort`, then gather and interpolate, so their derivative goes
to the elements that were picked, through the stable sort's permutation at ties (as JAX).
The NaN-skipping functions replace NaNs by the neutral element with ``where``, so an
ignored NaN entry gets a zero gradient, never NaN; an all-NaN slice gives NaN (NumPy's
value) and a zero gradient.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from funcgrad._core.dtypes import is_complex, is_inexact
from funcgrad._core.trace import Tracer
from funcgrad.errors import ConcretizationError, ShapeError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import indexing, misc
from funcgrad.ops import reductions as red
from funcgrad.ops import shape as sh
from funcgrad.ops._family import dtype_of, shape_of
from funcgrad.ops.reductions import normalize_axis
from funcgrad.ops.sorting import argsort, sort
from funcgrad.ops.statistics import nanargmax, nanargmin  # noqa: F401 - re-exported by fnp

__all__ = ["average", "corrcoef", "count_nonzero", "cov", "median", "nanargmax", "nanargmin",
           "nancumprod", "nancumsum", "nanmax", "nanmean", "nanmedian", "nanmin",
           "nanpercentile", "nanprod", "nanquantile", "nanstd", "nansum", "nanvar",
           "percentile", "ptp", "quantile"]


def _array(x):
    """A tracer stays a tracer; lists holding tracers are stacked; anything else is NumPy's."""
    if isinstance(x, (Tracer, np.ndarray)):
        return x
    from funcgrad import numpy as fnp

    return fnp.asarray(x)


def _known(x):
    """``x``'s NumPy value when there is one (plain, or traced under grad/jvp); else None."""
    x = _array(x)
    if not isinstance(x, Tracer):
        return np.asarray(x)
    try:
        return np.asarray(x.concrete_value("a value check"))
    except ConcretizationError:
        return None


def _numpy_scalars(fn):
    """``fn`` returning NumPy scalars where it computed 0-d arrays on plain inputs, as NumPy does."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        out = fn(*args, **kwargs)
        if isinstance(out, tuple):
            return tuple(o[()] if isinstance(o, np.ndarray) and not o.ndim else o for o in out)
        return out[()] if isinstance(out, np.ndarray) and not out.ndim else out
    return wrapper


def _no_out(out, name: str) -> None:
    if out is not None:
        raise TypeError(f"{name}: out= is not supported (funcgrad returns new arrays)")


def _float(x):
    """``x`` as floating point (NumPy's statistics of integers are float64)."""
    return x if is_inexact(dtype_of(x)) else misc.astype(x, np.float64)


# -- NaN-skipping reductions ---------------------------------------------------------
def _skip_nan(x, fill):
    """``x`` with NaNs replaced by ``fill``: the replaced entries get a zero gradient."""
    x = _array(x)
    return ew.where(ew.isnan(x), fill, x) if is_inexact(dtype_of(x)) else x


def _count(x, axis, keepdims):
    """The number of non-NaN entries along ``axis`` (an integer array)."""
    return red.sum(ew.logical_not(ew.isnan(x)), axis=axis, keepdims=keepdims)


def nansum(a, axis=None, dtype=None, out=None, keepdims: bool = False):
    """``numpy.nansum``: the sum with NaNs counted as zero (their gradient is 0).

    Examples:
        >>> nansum(np.array([1.0, np.nan, 2.0]))
        np.float64(3.0)
    """
    _no_out(out, "nansum")
    x = _skip_nan(a, 0)
    x = x if dtype is None else misc.astype(x, dtype)
    return red.sum(x, axis=axis, keepdims=keepdims)


def nanprod(a, axis=None, dtype=None, out=None, keepdims: bool = False):
    """``numpy.nanprod``: the product with NaNs counted as one (their gradient is 0).

    Examples:
        >>> nanprod(np.array([2.0, np.nan, 3.0]))
        np.float64(6.0)
    """
    _no_out(out, "nanprod")
    x = _skip_nan(a, 1)
    x = x if dtype is None else misc.astype(x, dtype)
    return red.prod(x, axis=axis, keepdims=keepdims)


def nancumsum(a, axis=None, dtype=None, out=None):
    """``numpy.nancumsum``: the cumulative sum with NaNs counted as zero.

    Examples:
        >>> nancumsum(np.array([1.0, np.nan, 2.0]))
        array([1., 1., 3.])
    """
    _no_out(out, "nancumsum")
    x = _skip_nan(a, 0)
    return red.cumsum(x if dtype is None else misc.astype(x, dtype), axis=axis)


def nancumprod(a, axis=None, dtype=None, out=None):
    """``numpy.nancumprod``: the cumulative product with NaNs counted as one.

    Examples:
        >>> nancumprod(np.array([2.0, np.nan, 3.0]))
        array([2., 2., 6.])
    """
    _no_out(out, "nancumprod")
    x = _skip_nan(a, 1)
    return red.cumprod(x if dtype is None else misc.astype(x, dtype), axis=axis)


def nanmean(a, axis=None, dtype=None, out=None, keepdims: bool = False):
    """``numpy.nanmean``: the mean of the non-NaN entries (NaN for an all-NaN slice).

    Examples:
        >>> nanmean(np.array([1.0, np.nan, 3.0]))
        np.float64(2.0)
    """
    _no_out(out, "nanmean")
    x = _array(a)
    if not is_inexact(dtype_of(x)):
        return red.mean(x if dtype is None else misc.astype(x, dtype), axis=axis, keepdims=keepdims)
    total = nansum(x, axis=axis, dtype=dtype, keepdims=keepdims)
    count = _count(x, axis, keepdims)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / misc.astype(count, dtype_of(total))


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims: bool = False):
    """``numpy.nanvar``: the variance of the non-NaN entries; NaN where ``count - ddof <= 0``.

    Examples:
        >>> nanvar(np.array([1.0, np.nan, 3.0]))
        np.float64(1.0)
    """
    _no_out(out, "nanvar")
    x = _array(a)
    if not is_inexact(dtype_of(x)):
        x = misc.astype(x, np.float64 if dtype is None else dtype)
    elif dtype is not None:
        x = misc.astype(x, dtype)
    nan = ew.isnan(x)
    count = _count(x, axis, True)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = red.sum(ew.where(nan, 0, x), axis=axis, keepdims=True) / misc.astype(
            count, dtype_of(x))
        centered = ew.where(nan, 0, x - mean)
        squared = (ew.real(centered * ew.conj(centered)) if is_complex(dtype_of(x))
                   else centered * centered)
        dof = count - ddof
        if not keepdims:
            dof = sh.reshape(dof, shape_of(red.sum(squared, axis=axis)))
        total = red.sum(squared, axis=axis, keepdims=keepdims)
        positive = ew.greater(dof, 0)
        return ew.where(positive, total / misc.astype(ew.where(positive, dof, 1), dtype_of(total)),
                        np.nan)


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims: bool = False):
    """``numpy.nanstd``; like ``std``, its derivative at a constant slice is 0, not NaN.

    Examples:
        >>> nanstd(np.array([1.0, np.nan, 3.0]))
        np.float64(1.0)
    """
    return red.sqrt_zero_slope(nanvar(a, axis=axis, dtype=dtype, out=out, ddof=ddof,
                                      keepdims=keepdims))


def _nan_extremum(reduce, fill, a, axis, out, keepdims, name):
    _no_out(out, name)
    x = _array(a)
    if not is_inexact(dtype_of(x)):
        return reduce(x, axis=axis, keepdims=keepdims)
    nan = ew.isnan(x)
    found = reduce(ew.where(nan, fill, x), axis=axis, keepdims=keepdims)
    return ew.where(red.all(nan, axis=axis, keepdims=keepdims), np.nan, found)


def nanmax(a, axis=None, out=None, keepdims: bool = False):
    """``numpy.nanmax``: tied maxima share the gradient evenly (as ``max``); NaNs get 0.

    Examples:
        >>> nanmax(np.array([1.0, np.nan, 3.0]))
        np.float64(3.0)
    """
    return _nan_extremum(red.max, -np.inf, a, axis, out, keepdims, "nanmax")


def nanmin(a, axis=None, out=None, keepdims: bool = False):
    """``numpy.nanmin``: tied minima share the gradient evenly (as ``min``); NaNs get 0.

    Examples:
        >>> nanmin(np.array([1.0, np.nan, 3.0]))
        np.float64(1.0)
    """
    return _nan_extremum(red.min, np.inf, a, axis, out, keepdims, "nanmin")


def ptp(a, axis=None, out=None, keepdims: bool = False):
    """``numpy.ptp``: ``max - min``; ties share the gradient evenly, as in ``max`` and ``min``.

    Examples:
        >>> ptp(np.array([1.0, 4.0, 2.0]))
        np.float64(3.0)
    """
    _no_out(out, "ptp")
    x = _array(a)
    return red.max(x, axis=axis, keepdims=keepdims) - red.min(x, axis=axis, keepdims=keepdims)


def count_nonzero(a, axis=None, *, keepdims: bool = False):
    """``numpy.count_nonzero`` (integer output, no gradient).

    Examples:
        >>> count_nonzero(np.array([[0.0, 1.0], [2.0, 0.0]]), axis=0)
        array([1, 1])
    """
    a = _array(a)
    if not isinstance(a, Tracer):
        return np.count_nonzero(a, axis=axis, keepdims=keepdims)
    return misc.astype(red.sum(ew.not_equal(a, 0), axis=axis, keepdims=keepdims), np.intp)


# -- average, cov, corrcoef -----------------------------------------------------------
def average(a, axis=None, weights=None, returned: bool = False, *, keepdims: bool = False):
    """``numpy.average``: the weighted mean, differentiable in ``a`` and ``weights``.

    ``returned=True`` also gives the sum of the weights (broadcast to the result's shape).

    Examples:
        >>> average(np.array([1.0, 3.0]), weights=np.array([3.0, 1.0]))
        np.float64(1.5)
    """
    x = _array(a)
    ndim = len(shape_of(x))
    axes = normalize_axis(axis, ndim)
    if weights is None:
        avg = red.mean(x, axis=axes, keepdims=keepdims)
        scale = math.prod([shape_of(x)[i] for i in axes]) if ndim else 1
        scale = np.asarray(scale, dtype_of(avg))
    else:
        w = _array(weights)
        if shape_of(w) != shape_of(x):
            if axis is None:
                raise TypeError("Axis must be specified when shapes of a and weights differ.")
            if len(shape_of(w)) != 1:
                raise TypeError("1D weights expected when shapes of a and weights differ.")
            if len(axes) != 1 or shape_of(w)[0] != shape_of(x)[axes[0]]:
                raise ValueError("Length of weights not compatible with specified axis.")
            w = sh.reshape(w, tuple(shape_of(w)[0] if i == axes[0] else 1 for i in range(ndim)))
        x, w = _float(x), _float(w)
        scale = red.sum(w, axis=axes, keepdims=keepdims)
        known = _known(scale)
        if known is not None and np.any(known == 0.0):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        avg = red.sum(x * w, axis=axes, keepdims=keepdims) / scale
    if not returned:
        return avg
    if shape_of(scale) != shape_of(avg):
        scale = sh.broadcast_to(scale, shape_of(avg))
    return avg, scale


def cov(m, y=None, rowvar: bool = True, bias: bool = False, ddof=None, fweights=None,
        aweights=None, *, dtype=None):
    """``numpy.cov``: the covariance matrix of the rows (``rowvar``) or columns of ``m``.

    Differentiable in ``m``, ``y`` and ``aweights``.

    Examples:
        >>> cov(np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
        array([[ 1., -1.],
               [-1.,  1.]])
    """
    if ddof is not None and ddof != int(ddof):
        raise ValueError("ddof must be integer")
    x = _rows(m, rowvar, dtype, "m")
    if y is not None:
        x = sh.concatenate([x, _rows(y, rowvar, dtype_of(x), "y")], axis=0)
    ddof = (0 if bias else 1) if ddof is None else ddof
    w = None
    if fweights is not None:
        f = _array(fweights)
        if not np.issubdtype(dtype_of(f), np.integer) and not np.all(
                np.equal(_known(f), np.around(_known(f)))):
            raise TypeError("fweights must be integer")
        w = misc.astype(_weights(f, shape_of(x)[1], "fweights"), dtype_of(x))
    if aweights is not None:  # NumPy computes with the weights as floats of x's dtype
        aw = misc.astype(_weights(_array(aweights), shape_of(x)[1], "aweights"), dtype_of(x))
        w = aw if w is None else w * aw
    n = shape_of(x)[1]
    if w is None:
        avg = red.mean(x, axis=1, keepdims=True)
        fact = float(n - ddof)
        fact = fact if fact > 0 else 0.0
    else:
        wsum = red.sum(w)
        avg = red.sum(x * w, axis=1, keepdims=True) / wsum
        if ddof == 0:
            fact = wsum
        elif aweights is None:
            fact = wsum - ddof
        else:
            fact = wsum - ddof * red.sum(w * aw) / wsum
        fact = ew.where(ew.greater(fact, 0), fact, 0.0)
    centered = x - avg
    weighted = centered if w is None else centered * w
    with np.errstate(divide="ignore", invalid="ignore"):
        c = _matmul(centered, ew.conj(sh.transpose(weighted))) * (1.0 / fact)
    return sh.squeeze(c)


def _matmul(a, b):
    from funcgrad.ops.linalg import matmul

    return matmul(a, b)


def _rows(m, rowvar, dtype, name):
    x = _array(m)
    if len(shape_of(x)) > 2:
        raise ShapeError(f"{name} has more than 2 dimensions (shape {shape_of(x)})")
    dtype = np.result_type(dtype_of(x), np.float64) if dtype is None else dtype
    x = misc.astype(x, dtype) if dtype_of(x) != dtype else x
    x = sh.reshape(x, (1,) * (2 - len(shape_of(x))) + shape_of(x))
    if not rowvar and shape_of(x)[0] != 1:
        x = sh.transpose(x)
    return x


def _weights(w, n, name):
    if len(shape_of(w)) != 1:
        raise RuntimeError(f"cannot handle multidimensional {name}")
    if shape_of(w)[0] != n:
        raise RuntimeError(f"incompatible numbers of samples and {name}")
    known = _known(w)
    if known is not None and np.any(known < 0):
        raise ValueError(f"{name} cannot be negative")
    return w


def corrcoef(x, y=None, rowvar: bool = True, *, dtype=None):
    """``numpy.corrcoef``: Pearson correlation coefficients, clipped to [-1, 1] as NumPy does.

    Examples:
        >>> corrcoef(np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.5]]))[0, 1] < 0
        np.True_
    """
    c = cov(x, y, rowvar, dtype=dtype)
    if not shape_of(c):
        with np.errstate(divide="ignore", invalid="ignore"):
            return c / c
    std = ew.sqrt(ew.real(sh.diagonal(c)))
    with np.errstate(divide="ignore", invalid="ignore"):
        c = c / sh.expand_dims(std, 1) / sh.expand_dims(std, 0)
    if is_complex(dtype_of(c)):
        return ew.clip(ew.real(c), -1, 1) + 1j * ew.imag(c)
    return ew.clip(c, -1, 1)


# -- order statistics ----------------------------------------------------------------
_CONTINUOUS = {  # Hyndman and Fan's (alpha, beta), as NumPy names them
    "interpolated_inverted_cdf": (0.0, 1.0), "hazen": (0.5, 0.5), "weibull": (0.0, 0.0),
    "median_unbiased": (1 / 3, 1 / 3), "normal_unbiased": (3 / 8, 3 / 8),
}
METHODS = ("inverted_cdf", "averaged_inverted_cdf", "closest_observation",
           *_CONTINUOUS, "linear", "lower", "higher", "midpoint", "nearest")


def _positions(n, q, method):
    """``(lower index, upper index, weight of the upper)`` of quantile ``q`` among ``n`` sorted values.

    NumPy's ``_QuantileMethods``, written in funcgrad ops: the weight is differentiable in
    ``q`` for the interpolating methods; the indexes are not clipped yet.
    """
    def around(v):
        return ew.floor(v), ew.floor(v) + 1, v - ew.floor(v)

    if method == "linear":
        return around((n - 1) * q)
    if method in _CONTINUOUS:
        alpha, beta = _CONTINUOUS[method]
        return around(n * q + (alpha + q * (1 - alpha - beta)) - 1)
    if method == "averaged_inverted_cdf":
        lo, hi, frac = around(n * q - 1)
        return lo, hi, ew.where(ew.equal(frac, 0), 0.5, 1.0)
    if method == "midpoint":
        v = (ew.floor((n - 1) * q) + ew.ceil((n - 1) * q)) * 0.5
        lo, hi, frac = around(v)
        return lo, hi, ew.where(ew.equal(frac, 0), 0.0, 0.5)
    if method in ("inverted_cdf", "closest_observation"):
        v = n * q - 1 if method == "inverted_cdf" else n * q - 1.5
        lo, frac = ew.floor(v), v - ew.floor(v)
        at_lower = ew.equal(frac, 0)
        if method == "closest_observation":
            at_lower = ew.logical_and(at_lower, ew.equal(ew.mod(lo, 2), 1))
        idx = ew.where(at_lower, lo, lo + 1)
    else:
        rounding = {"lower": ew.floor, "higher": ew.ceil, "nearest": ew.round}[method]
        idx = rounding((n - 1) * q)
    return idx, idx, ew.multiply(idx, 0.0)


def _lerp(a, b, t):
    """NumPy's linear interpolation (``b - (b - a)(1 - t)`` for ``t >= 1/2``: exact at ``t = 1``)."""
    d = b - a
    return ew.where(ew.greater_equal(t, 0.5), b - d * (1 - t), a + d * t)


def _last_axes(x, axis):
    """``(x with the reduced axes merged into one last axis, keepdims shape)``."""
    shape = shape_of(x)
    axes = normalize_axis(axis, len(shape))
    kept = [i for i in range(len(shape)) if i not in axes]
    x = sh.transpose(x, tuple(kept) + axes) if axes != tuple(range(len(kept), len(shape))) else x
    x = sh.reshape(x, tuple(shape[i] for i in kept) + (math.prod([shape[i] for i in axes]),))
    return x, tuple(1 if i in axes else n for i, n in enumerate(shape))


def _check_q(q, lo=0.0, hi=1.0, name="Quantiles"):
    known = _known(q)
    if known is not None and not (np.all(known >= lo) and np.all(known <= hi)):
        raise ValueError(f"{name} must be in the range [{lo:g}, {hi:g}]")


def _result_dtype(x, q, method, weighted):
    q0 = q if type(q) in (int, float) else np.zeros(shape_of(q), dtype_of(q))
    return np.quantile(np.zeros(1, dtype_of(x)), q0, method=method,
                       weights=np.ones(1) if weighted else None).dtype


def _quantile(a, q, axis, method, keepdims, weights, skip_nan):
    x = _array(a)
    if is_complex(dtype_of(x)):
        raise TypeError("a must be an array of real numbers")
    if method not in METHODS:
        raise ValueError(f"{method!r} is not a valid method. Use one of: {METHODS}")
    if weights is not None and method != "inverted_cdf":
        raise ValueError("Only method 'inverted_cdf' supports weights. "
                         f"Got: {method}.")
    qa = _array(q)
    if len(shape_of(qa)) > 2:
        raise ValueError("q must be a scalar or 1d")
    dtype = _result_dtype(x, q, method, weights is not None)
    if math.prod(shape_of(x)) == 0:
        raise ValueError("cannot compute a quantile of an empty array")
    xm, kept = _last_axes(x, axis)
    if weights is not None:
        wm = _weights_like(_array(weights), x, axis, xm)
    qshape, k = shape_of(qa), math.prod(shape_of(qa))
    qf = sh.reshape(_float(qa), (k,))
    xm = _float(xm)  # NumPy interpolates in the data's dtype, with weights in q's (or the result's)
    weak = type(q) in (int, float)
    lead = len(shape_of(xm)) - 1
    nan_aware = is_inexact(dtype_of(xm))
    if weights is not None:
        perm = argsort(xm, axis=-1)
        xs = indexing.take_along_axis(xm, perm, -1)
        ws = indexing.take_along_axis(misc.stop_gradient(wm), perm, -1)
        if skip_nan and nan_aware:
            ws = ew.where(ew.isnan(xs), 0, ws)
        n = shape_of(xm)[-1] if not (skip_nan and nan_aware) else _count(xm, -1, True)
        lo = hi = _weighted_index(ws, qf, n)
        gamma = 0.0
    else:
        xs = sort(xm, axis=-1)
        n = _count(xm, -1, True) if skip_nan and nan_aware else shape_of(xm)[-1]
        nf = n if isinstance(n, int) else misc.astype(n, dtype_of(qf))
        lo, hi, gamma = _positions(nf, sh.reshape(qf, (1,) * lead + (k,)), method)
        top = n - 1 if isinstance(n, int) else ew.maximum(n - 1, 0)
        lo = misc.astype(ew.clip(lo, 0, top), np.intp)
        hi = misc.astype(ew.clip(hi, 0, top), np.intp)
        gamma = misc.astype(gamma, dtype if weak else np.result_type(dtype_of(qf), dtype))
    out = _lerp(indexing.take_along_axis(xs, lo, -1), indexing.take_along_axis(xs, hi, -1), gamma)
    out = misc.astype(out, dtype) if dtype_of(out) != dtype else out
    if nan_aware:
        invalid = ew.equal(n, 0) if skip_nan else ew.isnan(xs[..., -1:])
        if skip_nan and isinstance(n, int):
            invalid = None
        if invalid is not None:
            out = ew.where(invalid, np.nan, out)
    out = sh.moveaxis(out, -1, 0) if lead else out
    target = qshape + (kept if keepdims else tuple(shape_of(xm)[:-1]))
    return sh.reshape(out, target) if shape_of(out) != target else out


def _weights_like(w, x, axis, xm):
    if shape_of(w) == shape_of(x):
        return _last_axes(w, axis)[0]
    if len(shape_of(w)) == 1 and axis is not None and (
            isinstance(axis, (int, np.integer)) or len(tuple(axis)) == 1):
        ax = normalize_axis(axis, len(shape_of(x)))[0]
        if shape_of(w)[0] == shape_of(x)[ax]:
            return sh.broadcast_to(w, shape_of(xm))
    raise ShapeError(f"weights of shape {shape_of(w)} must have the shape of a {shape_of(x)} "
                     "or be 1-D along a single axis")


def _weighted_index(ws, q, n):
    """The first sorted position whose cumulative weight reaches ``q`` (NumPy's inverted_cdf)."""
    known = _known(ws)
    if known is not None and np.any(known < 0):
        raise ValueError("Weights must be non-negative.")
    total = red.sum(ws, axis=-1, keepdims=True)
    if known is not None and not np.all(np.isfinite(known.sum(-1)) & (known.sum(-1) > 0)):
        raise ValueError("Weights included NaN, inf or were all zero.")
    cdf = misc.astype(red.cumsum(ws, axis=-1) / total, dtype_of(q))
    cdf = ew.where(ew.equal(cdf, 0), -1.0, cdf)
    below = ew.less(sh.expand_dims(cdf, -2), sh.expand_dims(q, -1))  # [..., k, n]
    idx = red.sum(below, axis=-1)
    return ew.minimum(idx, n - 1 if isinstance(n, int) else ew.maximum(n - 1, 0))


def quantile(a, q, axis=None, out=None, overwrite_input: bool = False, method: str = "linear",
             keepdims: bool = False, *, weights=None):
    """``numpy.quantile`` with every NumPy ``method``; differentiable in ``a`` (and in ``q``
    for the interpolating methods).  ``weights`` need ``method='inverted_cdf'``, as in NumPy.

    Examples:
        >>> quantile(np.array([1.0, 2.0, 3.0, 4.0]), 0.25)
        np.float64(1.75)
    """
    _no_out(out, "quantile")
    _check_q(q)
    return _quantile(a, q, axis, method, keepdims, weights, skip_nan=False)


def percentile(a, q, axis=None, out=None, overwrite_input: bool = False, method: str = "linear",
               keepdims: bool = False, *, weights=None):
    """``numpy.percentile``: :func:`quantile` with ``q`` in percent.

    Examples:
        >>> percentile(np.array([1.0, 2.0, 3.0, 4.0]), 50)
        np.float64(2.5)
    """
    _no_out(out, "percentile")
    _check_q(q, 0.0, 100.0, "Percentiles")
    return _quantile(a, _percent(q), axis, method, keepdims, weights, skip_nan=False)


def _percent(q):
    return q / 100 if type(q) in (int, float) else ew.divide(_float(_array(q)), 100)


def median(a, axis=None, out=None, overwrite_input: bool = False, keepdims: bool = False):
    """``numpy.median``; at ties the gradient follows the stable sort (see ``docs/conventions.md``).

    Examples:
        >>> median(np.array([3.0, 1.0, 2.0, 10.0]))
        np.float64(2.5)
    """
    _no_out(out, "median")
    return _quantile(a, 0.5, axis, "linear", keepdims, None, skip_nan=False)


def nanquantile(a, q, axis=None, out=None, overwrite_input: bool = False, method: str = "linear",
                keepdims: bool = False, *, weights=None):
    """``numpy.nanquantile``: :func:`quantile` of the non-NaN entries (NaN for an all-NaN slice).

    Examples:
        >>> nanquantile(np.array([1.0, np.nan, 3.0]), 0.5)
        np.float64(2.0)
    """
    _no_out(out, "nanquantile")
    _check_q(q)
    return _quantile(a, q, axis, method, keepdims, weights, skip_nan=True)


def nanpercentile(a, q, axis=None, out=None, overwrite_input: bool = False,
                  method: str = "linear", keepdims: bool = False, *, weights=None):
    """``numpy.nanpercentile``: :func:`nanquantile` with ``q`` in percent.

    Examples:
        >>> nanpercentile(np.array([1.0, np.nan, 3.0]), 50)
        np.float64(2.0)
    """
    _no_out(out, "nanpercentile")
    _check_q(q, 0.0, 100.0, "Percentiles")
    return _quantile(a, _percent(q), axis, method, keepdims, weights, skip_nan=True)


def nanmedian(a, axis=None, out=None, overwrite_input: bool = False, keepdims: bool = False):
    """``numpy.nanmedian``: the median of the non-NaN entries; NaNs get a zero gradient.

    Examples:
        >>> nanmedian(np.array([1.0, np.nan, 3.0, 2.0]))
        np.float64(2.0)
    """
    _no_out(out, "nanmedian")
    return _quantile(a, 0.5, axis, "linear", keepdims, None, skip_nan=True)


for _name in __all__:  # public functions return NumPy scalars for 0-d results on plain arrays
    if _name not in ("nanargmax", "nanargmin"):
        globals()[_name] = _numpy_scalars(globals()[_name])
del _name
