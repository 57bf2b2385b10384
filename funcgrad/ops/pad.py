"""``numpy.pad`` in every NumPy mode but ``median`` and callables, differentiable.

``constant`` (and ``empty``, filled with zeros) is one primitive, ``pad``; the other
modes pad one axis at a time, as NumPy does (so the corners of later axes see the
padding of earlier ones), from ops that differentiate again: ``edge``, ``wrap``,
``reflect`` and ``symmetric`` are gathers and concatenations, ``linear_ramp`` is
a ramp from the edge value to ``end_values``, and ``maximum``, ``minimum`` and
``mean`` are reductions over ``stat_length`` elements at each end, broadcast.

Examples:
    >>> pad(np.array([1.0, 2.0, 3.0]), 2, mode="reflect")
    array([3., 2., 1., 2., 3., 2., 1.])
    >>> pad(np.array([1.0, 2.0]), (1, 2), mode="linear_ramp", end_values=(0.0, 5.0))
    array([0. , 1. , 2. , 3.5, 5. ])
"""

from __future__ import annotations

import numbers

import numpy as np

from funcgrad._core.primitive import Primitive, Tracer
from funcgrad.errors import ShapeError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import indexing, misc
from funcgrad.ops import reductions as red
from funcgrad.ops import shape as sh
from funcgrad.ops._array_like import asarray
from funcgrad.ops._family import dtype_of, shape_of


# -- the constant-mode primitive --------------------------------------------------------------
def _pad_aval(x, pad_width, constant_values):
    return tuple(n + a + b for n, (a, b) in zip(shape_of(x), pad_width)), dtype_of(x)


def _pad_vjp(g, ans, x, pad_width, constant_values):
    return g[tuple(slice(a, a + n) for n, (a, _) in zip(shape_of(x), pad_width))]


pad_p = Primitive("pad", lambda x, pad_width, constant_values:
                  np.pad(x, pad_width, mode="constant", constant_values=constant_values), _pad_aval)
pad_p.defvjp(_pad_vjp)
# The padding constant does not depend on x: the tangent is padded with zeros.
pad_p.defjvp(lambda t, ans, x, pad_width, constant_values:
             pad_p.bind(t, pad_width=pad_width, constant_values=0))
pad_p.defbatch(lambda values, dims, pad_width, constant_values: (pad_p.bind(
    values[0], pad_width=pad_width[:dims[0]] + ((0, 0),) + pad_width[dims[0]:],
    constant_values=constant_values), dims[0]))


# -- arguments, as NumPy reads them ----------------------------------------------------------
_KWARGS = {"constant": {"constant_values"}, "empty": set(), "edge": set(), "wrap": set(),
           "linear_ramp": {"end_values"}, "maximum": {"stat_length"}, "minimum": {"stat_length"},
           "mean": {"stat_length"}, "reflect": {"reflect_type"}, "symmetric": {"reflect_type"}}


def _as_pairs(x, ndim: int, as_index: bool = False) -> list[tuple]:
    """NumPy's ``_as_pairs``: a scalar, a pair or one pair per axis, as ``ndim`` (before, after) pairs."""
    if x is None:
        return [(None, None)] * ndim
    if _holds_tracer(x):
        if as_index:
            raise TypeError("pad: pad_width must be integers, not traced values")
        return _traced_pairs(x, ndim)
    x = np.array(x)
    if as_index:
        x = np.round(x).astype(np.intp)
    if x.ndim < 3:
        if x.size == 1:
            x = x.ravel()
            if as_index and x[0] < 0:
                raise ValueError("index can't contain negative values")
            return [(x[0], x[0])] * ndim
        if x.size == 2 and x.shape != (2, 1):
            x = x.ravel()
            if as_index and (x[0] < 0 or x[1] < 0):
                raise ValueError("index can't contain negative values")
            return [(x[0], x[1])] * ndim
    if as_index and x.min() < 0:
        raise ValueError("index can't contain negative values")
    try:
        pairs = np.broadcast_to(x, (ndim, 2))
    except ValueError:
        raise ShapeError(f"pad: a value of shape {x.shape} cannot be read as one (before, after) "
                         f"pair per axis of a {ndim}-d array") from None
    return [tuple(p) for p in pairs.tolist()]


def _holds_tracer(x) -> bool:
    return isinstance(x, Tracer) or (isinstance(x, (list, tuple)) and any(_holds_tracer(v) for v in x))


def _traced_pairs(x, ndim: int) -> list[tuple]:
    """:func:`_as_pairs` for values that hold tracers (scalars each), without converting them."""
    if isinstance(x, Tracer):
        if shape_of(x):
            raise ShapeError(f"pad: a traced pad value must be a scalar, got shape {shape_of(x)}")
        return [(x, x)] * ndim
    seq = list(x)
    nested = [isinstance(v, (list, tuple)) for v in seq]
    if len(seq) == 1:
        return _traced_pairs(seq[0], ndim)
    if len(seq) == 2 and not any(nested):
        return [tuple(seq)] * ndim
    if len(seq) == ndim and all(nested) and all(len(v) in (1, 2) for v in seq):
        return [tuple(v) * (3 - len(v)) for v in seq]
    raise ShapeError(f"pad: {len(seq)} values cannot be read as one (before, after) pair per axis "
                     f"of a {ndim}-d array")


def _along(axis: int, index) -> tuple:
    return (slice(None),) * axis + (index,)


def _cast(v, dtype):
    """A pad value in the array's dtype (NumPy casts them; integers are rounded down from ramps)."""
    if np.dtype(dtype).kind in "iub" and np.dtype(dtype_of(v)).kind in "fc":
        v = ew.floor(v)
    return misc.astype(v, dtype)


def _fill(x, axis: int, width: int, value):
    """A block of ``width`` elements along ``axis``, every one ``value`` (broadcast from a unit axis)."""
    shape = list(shape_of(x))
    shape[axis] = width
    return sh.broadcast_to(_cast(value, dtype_of(x)), tuple(shape))


def _join(x, axis: int, left, right):
    parts = [p for p in (left, x, right) if p is not None and shape_of(p)[axis]]
    return parts[0] if len(parts) == 1 else sh.concatenate(parts, axis=axis)


# -- one axis, one mode ------------------------------------------------------------------------
def _constant(x, axis, before, after, values):
    lo, hi = values
    return _join(x, axis, _fill(x, axis, before, lo), _fill(x, axis, after, hi))


def _edge(x, axis, before, after, _):
    n = shape_of(x)[axis]
    return _join(x, axis, _fill(x, axis, before, x[_along(axis, slice(0, 1))]),
                 _fill(x, axis, after, x[_along(axis, slice(n - 1, n))]))


def _wrap(x, axis, before, after, _):
    n = shape_of(x)[axis]
    return indexing.take(x, np.arange(-before, n + after) % n, axis=axis)


def _reflect_both(x, axis, before, after, odd: bool, include_edge: bool, period: int):
    """NumPy's ``_set_reflect_both`` loop: reflect chunks of at most one (growing) period at a time."""
    while before > 0 or after > 0:
        n = shape_of(x)[axis]
        if include_edge:
            length, offset = n // period * period, 1
        else:
            length, offset = (n - 1) // (period - 1) * (period - 1), 0
        left = right = None
        if before > 0:
            k = min(length, before)
            left = x[_along(axis, slice(k - offset, None if offset else 0, -1))]
            if odd:
                left = 2 * x[_along(axis, slice(0, 1))] - left
            before -= k
        if after > 0:
            k = min(length, after)
            start = n - 2 + offset  # reflect skips the edge element, symmetric repeats it
            right = x[_along(axis, slice(start, start - k if start - k >= 0 else None, -1))]
            if odd:
                right = 2 * x[_along(axis, slice(n - 1, n))] - right
            after -= k
        x = _join(x, axis, left, right)
    return x


def _reflect(x, axis, before, after, reflect_type):
    n = shape_of(x)[axis]
    if n == 1:  # NumPy's legacy behaviour: a singleton axis is extended like 'edge'
        return _edge(x, axis, before, after, None)
    return _reflect_both(x, axis, before, after, reflect_type == "odd", False, n)


def _symmetric(x, axis, before, after, reflect_type):
    return _reflect_both(x, axis, before, after, reflect_type == "odd", True, shape_of(x)[axis])


def _linear_ramp(x, axis, before, after, end_values):
    n = shape_of(x)[axis]

    def ramp(edge, end, width, reverse):
        if width == 0:
            return None
        steps = np.arange(width, dtype=np.float64) / width
        if reverse:
            steps = steps[::-1].copy()
        shape = [1] * len(shape_of(x))
        shape[axis] = width
        steps = steps.reshape(shape)
        edge = misc.astype(edge, np.result_type(dtype_of(x), np.float32)) if np.dtype(
            dtype_of(x)).kind in "iub" else edge
        return _cast(end + (edge - end) * steps.astype(dtype_of(edge)), dtype_of(x))

    lo, hi = end_values
    return _join(x, axis, ramp(x[_along(axis, slice(0, 1))], lo, before, False),
                 ramp(x[_along(axis, slice(n - 1, n))], hi, after, True))


def _stat(reduce, rounds: bool):
    def mode(x, axis, before, after, stat_length):
        n = shape_of(x)[axis]
        lo_len, hi_len = (n if s is None else min(int(s), n) for s in stat_length)
        for s, w in ((lo_len, before), (hi_len, after)):
            if s == 0 and w > 0:
                raise ValueError("stat_length of 0 yields no value for padding")

        def stat(part):
            v = reduce(part, axis=axis, keepdims=True)
            if rounds and np.dtype(dtype_of(x)).kind in "iu":
                v = ew.round(v)
            return v

        left = _fill(x, axis, before, stat(x[_along(axis, slice(0, lo_len))])) if before else None
        right = _fill(x, axis, after, stat(x[_along(axis, slice(n - hi_len, n))])) if after else None
        return _join(x, axis, left, right)
    return mode


_MODES = {"constant": _constant, "edge": _edge, "wrap": _wrap, "reflect": _reflect,
          "symmetric": _symmetric, "linear_ramp": _linear_ramp,
          "maximum": _stat(red.max, False), "minimum": _stat(red.min, False),
          "mean": _stat(red.mean, True)}


def pad(x, pad_width, mode: str = "constant", **kwargs):
    """``numpy.pad``: modes ``constant``, ``empty`` (zeros), ``edge``, ``wrap``, ``reflect`` and
    ``symmetric`` (``reflect_type='even'|'odd'``), ``linear_ramp`` (``end_values``), ``maximum``,
    ``minimum`` and ``mean`` (``stat_length``), with NumPy's ``pad_width`` forms: an int, a
    ``(before, after)`` pair, or one pair per axis.

    Examples:
        >>> pad(np.ones(2), 1)
        array([0., 1., 1., 0.])
        >>> pad(np.array([1.0, 2.0, 3.0]), (2, 1), mode="wrap")
        array([2., 3., 1., 2., 3., 1.])
    """
    if callable(mode):
        raise NotImplementedError("pad: a callable mode is not supported; use one of "
                                  f"{sorted(_KWARGS)}")
    if mode not in _KWARGS and mode != "median":
        raise ValueError(f"mode {mode!r} is not supported")
    if mode == "median":
        raise NotImplementedError("pad: mode='median' is not supported; use 'mean', 'maximum' "
                                  "or 'minimum'")
    unsupported = set(kwargs) - _KWARGS[mode]
    if unsupported:
        raise ValueError(f"unsupported keyword arguments for mode '{mode}': {unsupported}")
    x = asarray(x)
    ndim = len(shape_of(x))
    widths = [(int(a), int(b)) for a, b in _as_pairs(pad_width, ndim, as_index=True)]
    if mode in ("constant", "empty"):
        values = kwargs.get("constant_values", 0)
        if isinstance(values, numbers.Number) and not isinstance(values, Tracer):
            return pad_p.bind(x, pad_width=tuple(widths), constant_values=values)
        option = _as_pairs(values, ndim)
        mode = "constant"
    elif mode == "linear_ramp":
        option = _as_pairs(kwargs.get("end_values", 0), ndim)
    elif mode in ("maximum", "minimum", "mean"):
        option = _as_pairs(kwargs.get("stat_length"), ndim, as_index=True)
    elif mode in ("reflect", "symmetric"):
        kind = kwargs.get("reflect_type", "even")
        if kind not in ("even", "odd"):
            raise ValueError(f"unsupported reflect_type {kind!r}: use 'even' or 'odd'")
        option = [kind] * ndim
    else:
        option = [None] * ndim
    for axis, ((before, after), opt) in enumerate(zip(widths, option)):
        if not before and not after:
            continue
        if shape_of(x)[axis] == 0 and mode != "constant":
            raise ValueError(f"can't extend empty axis {axis} using modes other than 'constant' "
                             "or 'empty'")
        x = _MODES[mode](x, axis, before, after, opt)
    return x
