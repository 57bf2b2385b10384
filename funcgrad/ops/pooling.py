"""``lax.reduce_window``: sums, maxima and minima over sliding windows (pooling).

No primitive of its own: each reduction is built from primitives that already carry
every rule, so gradients of every order, JVPs, ``vmap`` and ``jit`` come with them.

* **add** is a convolution (:data:`funcgrad.ops.conv.conv_p`) of the operand, seen as one
  image with one feature and every axis spatial, with a kernel of ones: ``base_dilation``
  is the convolution's input dilation and ``window_dilation`` its kernel dilation.  Its
  VJP is therefore a convolution too (JAX's pad-and-sum transpose).
* **max** and **min** over windows of up to ``SCAN_MAX_WINDOW`` elements (and no base
  dilation) are a running ``where`` over the window's offsets: the strided slice of the
  padded operand at each offset replaces the best so far where it is strictly better
  (or the first NaN).  Larger windows gather each window's elements (a constant index
  table, computed once per geometry), pick the first extreme of each window with
  ``argmax``/``argmin`` (no derivative), and gather the operand at those positions.
  Either way each cotangent goes to the first maximum of its window, as JAX's
  ``select_and_scatter_add`` does, and the JVP picks the tangent there; the running
  ``where`` does it with dense slices and selects (2x2 pooling of 32 maps of 8x8x48,
  forward and backward: 0.85 -> 0.27 ms).  Floating windows that tile the operand
  (stride = window, no padding, none over the last axis: channels-last pooling) are
  summed instead, the operand where it is its tile's first extreme (found by the same
  comparisons) and ``-0.0`` elsewhere: dense passes with no slice VJPs (32x28x28x32,
  5.2 -> 2.2 ms); a tile whose extreme is ``-0.0`` gives ``0.0`` there (the sums start
  from ``+0.0``).

Padding and base-dilation holes hold ``init_value``, which must be the reduction's
identity (0, -inf or the dtype's minimum, +inf or the dtype's maximum), as JAX's fast
paths require; a window that holds only padding gives ``init_value``.

Examples:
    >>> reduce_window(np.array([1.0, 3.0, 2.0, 0.0]), -np.inf, np.maximum, (2,), (2,), "VALID")
    array([3., 2.])
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from funcgrad._core.primitive import Tracer
from funcgrad.errors import ArgumentError, ShapeError, UnsupportedError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import indexing
from funcgrad.ops import reductions as red
from funcgrad.ops import shape as sh
from funcgrad.ops._array_like import asarray
from funcgrad.ops._family import dtype_of, shape_of
from funcgrad.ops.conv import _dilate, _out_sizes, conv_p, padtype_to_pads

__all__ = ["reduce_window"]

#: Windows of up to this many elements take the running ``where`` (:func:`_scan_offsets`);
#: larger ones gather each window's elements once.
SCAN_MAX_WINDOW = 16


# -- the three reductions ---------------------------------------------------------------------
def _identity(kind: str, dtype: np.dtype):
    dtype = np.dtype(dtype)
    if kind == "add":
        return dtype.type(0)
    if dtype.kind == "f":
        return dtype.type(-np.inf if kind == "max" else np.inf)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return dtype.type(info.min if kind == "max" else info.max)
    if dtype.kind == "b":
        return np.bool_(kind != "max")
    raise ArgumentError(f"reduce_window: cannot take the {kind} of {dtype} values")


def _window_sum(x, window, strides, pads, base_dilation, window_dilation):
    shape = shape_of(x)
    ones = np.ones((1, 1) + tuple(window), dtype_of(x))
    out = conv_p.bind(sh.reshape(x, (1, 1) + shape), ones, window_strides=strides, padding=pads,
                      lhs_dilation=base_dilation, rhs_dilation=window_dilation,
                      feature_group_count=1)
    return sh.reshape(out, shape_of(out)[2:])


@lru_cache(maxsize=128)
def _window_table(shape, window, strides, pads, base_dilation, window_dilation):
    """``(index, valid, any_valid)``: for each output position and window offset, the flat index
    into the operand it reads (0 where it reads padding or a hole), whether it reads the
    operand, and whether its window reads any element at all.  Cached, hence read-only."""
    out_sizes = _out_sizes(shape, window, strides, pads, base_dilation, window_dilation)
    k = len(shape)
    index = np.zeros(out_sizes + tuple(window), np.intp)
    valid = np.ones(out_sizes + tuple(window), bool)
    flat_strides = np.cumprod((1,) + tuple(shape[::-1]))[:-1][::-1]
    for a, (n, w, s, (lo, _), bd, wd) in enumerate(zip(shape, window, strides, pads,
                                                      base_dilation, window_dilation)):
        pos = np.arange(out_sizes[a])[:, None] * s + np.arange(w)[None, :] * wd - lo
        ok = (pos >= 0) & (pos < _dilate(n, bd)) & (pos % bd == 0)
        along = [1] * (2 * k)
        along[a], along[k + a] = out_sizes[a], w
        index += (np.where(ok, pos // bd, 0) * flat_strides[a]).reshape(along)
        valid &= ok.reshape(along)
    size = int(np.prod(window))
    index = index.reshape(out_sizes + (size,))
    valid = valid.reshape(out_sizes + (size,))
    any_valid = valid.any(axis=-1)
    for a in (index, valid, any_valid):
        a.flags.writeable = False
    return index, valid, any_valid


def _window_extreme(kind: str):
    pick = red.argmax if kind == "max" else red.argmin
    beats = ew.greater if kind == "max" else ew.less

    def reduce(x, window, strides, pads, base_dilation, window_dilation):
        out_sizes = _out_sizes(shape_of(x), window, strides, pads, base_dilation, window_dilation)
        small = 0 not in out_sizes and int(np.prod(window)) <= SCAN_MAX_WINDOW
        # Measured (2x2 windows of 32x28x28x32 float32, forward and backward): channels last
        # 5.2 -> 2.2 ms with tiles; with the window in the last axis (NCHW) 5.1 -> 10 ms.
        if small and tuple(strides) == tuple(window) and window[-1] == 1 and all(
                d == 1 for d in base_dilation + window_dilation) and not any(
                any(p) for p in pads) and np.dtype(dtype_of(x)).kind == "f":
            return _tiles(x, beats, window, out_sizes)
        if small and all(d == 1 for d in base_dilation):
            return _scan_offsets(x, beats, window, strides, pads, window_dilation, out_sizes)
        index, valid, any_valid = _window_table(shape_of(x), window, strides, pads, base_dilation,
                                                window_dilation)
        fill = _identity(kind, dtype_of(x))
        flat = sh.ravel(x)
        values = indexing.getitem(flat, index)  # (*out, window size)
        if not valid.all():
            values = ew.where(valid, values, fill)
        first = pick(values, axis=-1, keepdims=True)  # the first extreme of each window
        out = indexing.getitem(flat, indexing.take_along_axis(index, first, -1)[..., 0])
        if not any_valid.all():
            out = ew.where(any_valid, out, fill)
        return out
    return reduce


def _scan_offsets(x, beats, window, strides, pads, window_dilation, out_sizes):
    """The extreme of each window as a running ``where`` over the window's offsets: the
    strided slice of the (padded) operand at each offset replaces the best so far where it
    beats it strictly, or is the first NaN (NaN propagates, as ``lax.max``).  The first
    extreme wins ties, and the VJP of ``where`` and of a slice sends each cotangent there
    with dense operations (no gather or scatter)."""
    fill = _identity("max" if beats is ew.greater else "min", dtype_of(x))
    if any(lo < 0 or hi < 0 for lo, hi in pads):
        x = indexing.getitem(x, tuple(slice(max(-lo, 0), n - max(-hi, 0))
                                      for n, (lo, hi) in zip(shape_of(x), pads)))
    if any(lo > 0 or hi > 0 for lo, hi in pads):
        x = sh.pad(x, [(max(lo, 0), max(hi, 0)) for lo, hi in pads], constant_values=fill)
    return _running_extreme(beats, np.dtype(dtype_of(x)).kind in "fc", [
        indexing.getitem(x, tuple(slice(t * d, t * d + (m - 1) * s + 1, s) for t, d, m, s
                                  in zip(offset, window_dilation, out_sizes, strides)))
        for offset in np.ndindex(*window)])[0]


def _running_extreme(beats, floating: bool, values):
    """``(best, which)``: the first extreme of ``values`` (same-shaped arrays, NaN counting as
    the most extreme) and its position in the list."""
    best, which = values[0], np.zeros(shape_of(values[0]), np.intp)
    for j, value in enumerate(values[1:], 1):
        better = beats(value, best)
        if floating:
            better = ew.logical_or(better, ew.logical_and(ew.isnan(value),
                                                          ew.logical_not(ew.isnan(best))))
        best, which = ew.where(better, value, best), ew.where(better, j, which)
    return best, which


def _tiles(x, beats, window, out_sizes):
    """Windows that tile the operand (stride = window, no padding or dilation), floating:
    the operand reshaped to ``(out_0, w_0, out_1, w_1, ...)`` (a view), the first extreme of
    each tile found by comparisons (no derivative), and the result the sum over each tile
    of the operand where it is that element and ``-0.0`` elsewhere (exact, except that an
    extreme of ``-0.0`` comes back as ``0.0``).  Forward and backward are a few dense passes over the operand; no slice of it
    gets a VJP of its own."""
    shape = shape_of(x)
    if any(m * w != n for m, w, n in zip(out_sizes, window, shape)):  # 'VALID' drops the rest
        x = indexing.getitem(x, tuple(slice(0, m * w) for m, w in zip(out_sizes, window)))
    dims = []  # (size, is a window axis): axes of size 1 dropped, neighbouring outputs merged
    for m, w in zip(out_sizes, window):
        if dims and not dims[-1][1]:
            dims[-1] = (dims[-1][0] * m, False)
        else:
            dims.append((m, False))
        if w > 1:
            dims.append((w, True))
    tiles = sh.reshape(x, tuple(d for d, _ in dims))
    axes = tuple(a for a, (_, is_window) in enumerate(dims) if is_window)
    _, which = _running_extreme(beats, True, [
        indexing.getitem(tiles, tuple(slice(None) if a not in axes else int(offset[axes.index(a)])
                                      for a in range(len(dims))))
        for offset in np.ndindex(*[dims[a][0] for a in axes])])
    offsets = np.arange(int(np.prod(window))).reshape(
        tuple(d if is_window else 1 for d, is_window in dims))
    first = ew.equal(sh.expand_dims(which, axes), offsets)
    picked = ew.where(first, tiles, np.array(-0.0, dtype_of(x)))
    return sh.reshape(red.sum(picked, axis=axes), tuple(out_sizes))


_REDUCTIONS = {"add": _window_sum, "max": _window_extreme("max"), "min": _window_extreme("min")}
#: The computations ``reduce_window`` recognises, as JAX's ``lax.add``/``lax.max``/``lax.min``.
_COMPUTATIONS = {ew.add: "add", np.add: "add", operator.add: "add",
                 ew.maximum: "max", np.maximum: "max", ew.minimum: "min", np.minimum: "min"}


def _kind(computation) -> str:
    try:
        kind = _COMPUTATIONS.get(computation)
    except TypeError:  # an unhashable callable
        kind = None
    if kind is None:
        raise UnsupportedError(f"reduce_window: computation {computation!r} is not supported; use "
                               "lax.add, lax.max or lax.min (or fnp.add, fnp.maximum, "
                               "fnp.minimum)")
    return kind


def _ints(name: str, value, rank: int, minimum: int) -> tuple[int, ...]:
    try:
        out = tuple(operator.index(v) for v in value)
    except TypeError:
        out = None
    if out is None or len(out) != rank or any(v < minimum for v in out):
        raise ArgumentError(f"reduce_window: {name} must be {rank} integers >= {minimum} (one per "
                            f"axis of the operand), got {value!r}")
    return out


def reduce_window(operand, init_value, computation: Callable, window_dimensions: Sequence[int],
                  window_strides: Sequence[int] | None = None, padding="VALID",
                  base_dilation: Sequence[int] | None = None,
                  window_dilation: Sequence[int] | None = None):
    """``lax.reduce_window`` for ``lax.add``, ``lax.max`` and ``lax.min``: the reduction of every
    window of ``window_dimensions`` (one size per axis of ``operand``), moved by
    ``window_strides``, over the operand padded (``'SAME'``, ``'SAME_LOWER'``, ``'VALID'`` or
    ``(lo, hi)`` pairs) and dilated.  ``init_value`` must be the identity of the reduction;
    padding counts as ``init_value``.  Max and min send gradients to the first extreme of each
    window.

    Examples:
        >>> x = np.arange(16.0).reshape(1, 4, 4)
        >>> reduce_window(x, -np.inf, np.maximum, (1, 2, 2), (1, 2, 2), "VALID")
        array([[[ 5.,  7.],
                [13., 15.]]])
        >>> reduce_window(np.ones(3), 0.0, np.add, (2,), (1,), "SAME")
        array([2., 2., 1.])
    """
    kind = _kind(computation)
    x = asarray(operand)
    shape, rank = tuple(shape_of(x)), len(shape_of(x))
    if isinstance(init_value, Tracer):
        raise ArgumentError("reduce_window: init_value must be a concrete scalar (the identity of "
                            "the reduction), not a traced value")
    identity = _identity(kind, dtype_of(x))
    if np.shape(init_value) != () or not np.asarray(init_value == identity).all():
        raise UnsupportedError(f"reduce_window: init_value {init_value!r} is not supported for "
                               f"{kind} over {np.dtype(dtype_of(x))} values; use its identity "
                               f"{identity} (padding takes that value)")
    window = _ints("window_dimensions", window_dimensions, rank, 1)
    strides = (1,) * rank if window_strides is None else _ints("window_strides", window_strides,
                                                               rank, 1)
    bd = (1,) * rank if base_dilation is None else _ints("base_dilation", base_dilation, rank, 1)
    wd = (1,) * rank if window_dilation is None else _ints("window_dilation", window_dilation,
                                                           rank, 1)
    if isinstance(padding, str):
        pads = tuple(padtype_to_pads(shape, [_dilate(w, d) for w, d in zip(window, wd)], strides,
                                     padding))
    else:
        try:
            pads = tuple((operator.index(lo), operator.index(hi)) for lo, hi in padding)
        except (TypeError, ValueError):
            pads = ()
        if len(pads) != rank:
            raise ArgumentError(f"reduce_window: padding must be 'SAME', 'SAME_LOWER', 'VALID' or "
                                f"{rank} (low, high) integer pairs, got {padding!r}")
    if 0 in shape and kind != "add":
        raise ShapeError(f"reduce_window: cannot take the {kind} of windows of an empty operand "
                         f"of shape {shape}")
    return _REDUCTIONS[kind](x, window, strides, pads, bd, wd)
