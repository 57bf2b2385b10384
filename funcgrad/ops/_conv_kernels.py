"""The reference implementation of the ``conv`` primitive (:mod:`funcgrad.ops.conv`):
NumPy im2col and BLAS products, the strategy chosen by shapes and memory order.

``_conv_impl(lhs, rhs, ...)`` takes the canonical layout, ``lhs`` ``(N, C, *spatial)``
and ``rhs`` ``(O, C // G, *window)``, but the arrays may be any strided views: the layers
work in NHWC, so what reaches it is often an ``(N, C, H, W)`` view of ``(N, H, W, C)``
memory, and each strategy copies its windows in the order the memory is laid out.

* :func:`_batch_last`: a window larger than the output (a kernel gradient), ungrouped,
  with a batch of 8 or more: the windows with output and window swapped, contracted a
  block of features at a time, the cotangent read once.
* :func:`_channels_last`: ungrouped, 8 or more features: im2col with the features
  innermost, ``(N * out, window * C) @ (window * C, O)``, one cache-sized buffer.
* :func:`_kernel_first`: few output features (an input gradient): the features are
  contracted first over the whole input and the window's shifted slices added.
* otherwise im2col per example and group, ``(N, G, C/G * window, out)`` matrices
  (:func:`_window_major`), or ``(G, N * out, C/G * window)`` rows when the window is
  larger than the output (:func:`_output_major`).

Examples:
    >>> _conv_impl(np.ones((1, 1, 4)), np.ones((1, 1, 2)), window_strides=(1,),
    ...            padding=((0, 0),), lhs_dilation=(1,), rhs_dilation=(1,), feature_group_count=1)
    array([[[2., 2., 2.]]])
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

#: Elements of im2col matrix built at once (a block of examples): small enough for the cache.
COLS_BLOCK = 1 << 20
#: Elements of the channels-last im2col buffer, refilled for each block of examples.
CHANNELS_LAST_BLOCK = 1 << 16
#: The smallest batch (input features of a kernel gradient's convolution) for :func:`_batch_last`.
BATCH_LAST_MIN_BATCH = 8
#: The fewest input features for which :func:`_channels_last` im2col is used (ungrouped).
CHANNELS_LAST_MIN = 8
#: The largest window (elements) that :func:`_kernel_first` adds slice by slice.
SHIFT_MAX_WINDOW = 32



# -- geometry ---------------------------------------------------------------------------------
def _dilate(size: int, d: int) -> int:
    """The length of ``size`` elements with ``d - 1`` holes between neighbours."""
    return 0 if size == 0 else (size - 1) * d + 1


def _out_sizes(in_sizes, window, strides, padding, lhs_dilation, rhs_dilation) -> tuple:
    """Spatial sizes of a convolution's result (0 where the window does not fit)."""
    out = []
    for n, k, s, (lo, hi), ld, rd in zip(in_sizes, window, strides, padding, lhs_dilation,
                                         rhs_dilation):
        span = _dilate(n, ld) + lo + hi - _dilate(k, rd)
        out.append(max(0, span // s + 1) if span >= 0 else 0)
    return tuple(out)


# -- the reference implementation ---------------------------------------------------------------
def dilate_and_pad(x: np.ndarray, dilation, padding, fill=0) -> np.ndarray:
    """``x`` with holes (``fill``) between the elements of its trailing axes and padded by
    ``padding`` (``(lo, hi)`` per trailing axis; negative values crop), as XLA's convolution
    and ``reduce_window`` see their input.

    Examples:
        >>> dilate_and_pad(np.array([1.0, 2.0]), (2,), [(1, -1)])
        array([0., 1., 0.])
    """
    lead = x.ndim - len(padding)
    if any(d > 1 for d in dilation):
        shape = x.shape[:lead] + tuple(_dilate(n, d) for n, d in zip(x.shape[lead:], dilation))
        holes = np.full(shape, fill, x.dtype)
        holes[(Ellipsis,) + tuple(slice(None, None, d) for d in dilation)] = x
        x = holes
    if any(lo < 0 or hi < 0 for lo, hi in padding):
        x = x[(Ellipsis,) + tuple(slice(max(-lo, 0), n - max(-hi, 0))
                                  for n, (lo, hi) in zip(x.shape[lead:], padding))]
    if any(lo > 0 or hi > 0 for lo, hi in padding):
        x = np.pad(x, [(0, 0)] * lead + [(max(lo, 0), max(hi, 0)) for lo, hi in padding],
                   constant_values=fill)
    return x


def windows(x: np.ndarray, window, strides, rhs_dilation) -> np.ndarray:
    """A view ``(..., *out, *window)`` of the windows over the trailing axes of an already
    dilated and padded ``x`` (nothing is copied)."""
    k = len(window)
    eff = tuple(_dilate(w, d) for w, d in zip(window, rhs_dilation))
    view = sliding_window_view(x, eff, axis=tuple(range(x.ndim - k, x.ndim)))
    return view[(Ellipsis,) + tuple(slice(None, None, s) for s in strides)
                + tuple(slice(None, None, d) for d in rhs_dilation)]


def _conv_impl(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
               feature_group_count):
    lhs, rhs = np.asarray(lhs), np.asarray(rhs)
    dtype = np.result_type(lhs, rhs)
    n, c, *in_sizes = lhs.shape
    o, _, *window = rhs.shape
    g = feature_group_count
    out_sizes = _out_sizes(in_sizes, window, window_strides, padding, lhs_dilation, rhs_dilation)
    if 0 in out_sizes or 0 in (n, o) or lhs.size == 0 or rhs.size == 0:
        return np.zeros((n, o) + out_sizes, dtype)
    lhs, rhs = lhs.astype(dtype, copy=False), rhs.astype(dtype, copy=False)
    p, size = int(np.prod(out_sizes)), int(np.prod(window))
    padded = int(np.prod([_dilate(m, d) + lo + hi for m, d, (lo, hi) in
                          zip(in_sizes, lhs_dilation, padding)]))
    # Measured (float32, 3x3 windows, 28x28 inputs, 32 examples): kernel-first is 4x faster
    # with O = 1, C = 32; as fast with O = 16, C = 32; 1.2x slower with O = 32, C = 64.
    kernel_first = size <= SHIFT_MAX_WINDOW and 4 * o * padded <= c * p
    # Measured (float32, 32 examples), kernel gradients of NHWC data: 32 -> 64 features at
    # 28x28, 22 -> 11 ms; 48 -> 96 at 4x4, 0.73 -> 0.58 ms.  With the batch not innermost
    # (NCHW data) it is no faster; with one input feature slower (0.07 -> 0.11 ms).
    if g == 1 and size > p and n >= BATCH_LAST_MIN_BATCH:
        return _batch_last(lhs, rhs, out_sizes, window_strides, padding, lhs_dilation,
                           rhs_dilation)
    # Measured: with a window over 4x the output (a kernel gradient of a small batch) the
    # per-example im2col (output-major) is faster.
    if g == 1 and c >= CHANNELS_LAST_MIN and not kernel_first and size <= 4 * p:
        return _channels_last(lhs, rhs, out_sizes, window_strides, padding, lhs_dilation,
                              rhs_dilation)
    x = dilate_and_pad(lhs, lhs_dilation, padding)
    kernel = rhs.reshape(g, o // g, c // g, -1)
    if kernel_first:
        out = _kernel_first(x, kernel, tuple(window), out_sizes, window_strides, rhs_dilation)
    else:
        view = windows(x, window, window_strides, rhs_dilation)  # (n, c, *out, *window)
        view = view.reshape((n, g, c // g) + out_sizes + tuple(window))
        im2col = _window_major if p >= size else _output_major
        out = im2col(view, kernel.reshape(g, o // g, -1), len(window), p)
    return out.reshape((n, o) + out_sizes)


def _channels_last(lhs, rhs, out_sizes, strides, padding, lhs_dilation, rhs_dilation):
    """im2col with the features innermost, one product for a block of examples:
    ``(N * out, window * C) @ (window * C, O)``.  The input is moved to ``(N, *in, C)``
    (a view, free when the data is channels-last in memory, as the NHWC layers' is), so the
    copy reads runs of ``C`` contiguous elements; the result ``(N, *out, O)`` goes back as
    an ``(N, O, *out)`` view.  Faster than :func:`_window_major` once ``C`` is a few
    floats wide."""
    n, c = lhs.shape[:2]
    o, _, *window = rhs.shape
    k, size, p = len(window), int(np.prod(window)), int(np.prod(out_sizes))
    x = dilate_and_pad(np.moveaxis(lhs, 1, -1), tuple(lhs_dilation) + (1,),
                       tuple(padding) + ((0, 0),))
    eff = tuple(_dilate(w, d) for w, d in zip(window, rhs_dilation))
    view = sliding_window_view(x, eff, axis=tuple(range(1, 1 + k)))  # (n, *out, c, *window)
    view = view[(slice(None),) + tuple(slice(None, None, s) for s in strides) + (slice(None),)
                + tuple(slice(None, None, d) for d in rhs_dilation)]
    view = view.transpose((0,) + tuple(range(1, 1 + k)) + tuple(range(2 + k, 2 + 2 * k))
                          + (1 + k,))                                  # (n, *out, *window, c)
    kernel = rhs.transpose(tuple(range(2, 2 + k)) + (1, 0)).reshape(-1, o)  # (*window, c, o)
    out = np.empty((n, p, o), rhs.dtype)
    blocks = _blocks(n, p * size * c, CHANNELS_LAST_BLOCK)
    cols = np.empty((len(range(*blocks[0].indices(n))),) + view.shape[1:], rhs.dtype)
    for b in blocks:  # one buffer, refilled: it stays in the cache for the product
        m = len(range(*b.indices(n)))
        cols[:m] = view[b]
        np.matmul(cols[:m].reshape(-1, size * c), kernel, out=out[b].reshape(-1, o))
    return np.moveaxis(out.reshape((n,) + tuple(out_sizes) + (o,)), -1, 1)


def _batch_last(lhs, rhs, out_sizes, strides, padding, lhs_dilation, rhs_dilation):
    """A big window and few outputs (a kernel gradient): contract the window and the
    features a block of features at a time, ``out (N * out, O) += cols (N * out, C_b *
    window) @ kernel (C_b * window, O)``, where ``cols`` is the windows with the roles of
    output and window swapped (the window moves by the kernel dilation, the outputs by the
    stride), copied into one cache-sized buffer, and the kernel (the cotangent) is read
    once.  The copy follows the memory order: with the batch innermost (the kernel gradient
    of channels-last data, whose input is ``(N, *in, C)``) the input is moved to
    ``(C, *in, N)`` and copied in runs of ``N``; otherwise in runs along the last axis."""
    n, c = lhs.shape[:2]
    o, _, *window = rhs.shape
    k, p, size = len(window), int(np.prod(out_sizes)), int(np.prod(window))
    batch_inner = lhs.strides[0] == lhs.itemsize and n > 1
    x = np.moveaxis(lhs, 0, -1) if batch_inner else np.moveaxis(lhs, 1, 0)  # c first
    pads, dilation = tuple(padding), tuple(lhs_dilation)
    x = (dilate_and_pad(x, dilation + (1,), pads + ((0, 0),)) if batch_inner else
         dilate_and_pad(x, dilation, pads))                    # (c, *in, n) or (c, n, *in)
    first = 1 if batch_inner else 2                             # the first spatial axis
    span = tuple(_dilate(m, s) for m, s in zip(out_sizes, strides))
    view = sliding_window_view(x, span, axis=tuple(range(first, first + k)))
    taps = tuple(slice(0, (w - 1) * d + 1, d) for w, d in zip(window, rhs_dilation))
    steps = tuple(slice(None, None, s) for s in strides)
    pos, spans = tuple(range(first, first + k)), tuple(range(x.ndim, x.ndim + k))
    if batch_inner:  # (c, *pos, n, *span) -> (c, *window, *out, n): rows (window), columns (out, n)
        view = view[(slice(None),) + taps + (slice(None),) + steps]
        view = view.transpose((0,) + pos + spans + (1 + k,))
    else:            # (c, n, *pos, *span) -> (c, n, *out, *window): rows (n, out), columns (window)
        view = view[(slice(None), slice(None)) + taps + steps]
        view = view.transpose((0, 1) + spans + pos)
    kernel = rhs.transpose((1,) + tuple(range(2, 2 + k)) + (0,)).reshape(c, size, o)
    out = np.zeros((p * n, o), rhs.dtype)
    blocks = _blocks(c, size * p * n, CHANNELS_LAST_BLOCK)
    cols = np.empty((len(range(*blocks[0].indices(c))),) + view.shape[1:], rhs.dtype)
    for b in blocks:
        m = len(range(*b.indices(c)))
        cols[:m] = view[b]
        if batch_inner:
            out += cols[:m].reshape(m * size, p * n).T @ kernel[b].reshape(m * size, o)
        else:
            rows = cols[:m].reshape(m, n * p, size).transpose(1, 0, 2).reshape(n * p, m * size)
            out += rows @ kernel[b].reshape(m * size, o)
    out = out.reshape(tuple(out_sizes) + (n, o) if batch_inner else (n,) + tuple(out_sizes) + (o,))
    return np.moveaxis(out, (-2, -1), (0, 1)) if batch_inner else np.moveaxis(out, -1, 1)


def _blocks(n: int, per_example: int, block: int | None = None):
    """Slices of examples whose working matrix holds about ``block`` elements (``COLS_BLOCK``
    by default), so that it stays in the cache."""
    step = max(1, (COLS_BLOCK if block is None else block) // max(1, per_example))
    return [slice(i, i + step) for i in range(0, n, step)]


def _window_major(view, kernel, k: int, p: int):
    """im2col per example, ``(C/G * window, out)``: the copy reads rows of ``out``; one product
    per example and group, straight into the ``(N, G, O/G, out)`` layout."""
    n, g = view.shape[:2]
    out_axes, window_axes = tuple(range(3, 3 + k)), tuple(range(3 + k, 3 + 2 * k))
    out = np.empty((n, g, kernel.shape[1], p), kernel.dtype)
    for b in _blocks(n, g * kernel.shape[2] * p):
        cols = view[b].transpose((0, 1, 2) + window_axes + out_axes)
        np.matmul(kernel, cols.reshape(-1, g, kernel.shape[2], p), out=out[b])
    return out


def _output_major(view, kernel, k: int, p: int):
    """Big windows, few outputs (a kernel gradient): ``(N * out, C/G * window)`` rows, so the
    copy reads rows of the window; one product per group for a block of examples."""
    n, g = view.shape[:2]
    out_axes, window_axes = tuple(range(3, 3 + k)), tuple(range(3 + k, 3 + 2 * k))
    og = kernel.shape[1]
    out = np.empty((g, n, p, og), kernel.dtype)
    for b in _blocks(n, g * kernel.shape[2] * p):
        cols = view[b].transpose((1, 0) + out_axes + (2,) + window_axes)
        out[:, b] = np.matmul(cols.reshape(g, -1, kernel.shape[2]),
                              kernel.transpose(0, 2, 1)).reshape(g, -1, p, og)
    return np.ascontiguousarray(out.transpose(1, 0, 3, 2))


def _kernel_first(x, kernel, window, out_sizes, strides, rhs_dilation):
    """Few output features (an input gradient): contract the features first, one product per
    example and group over the whole padded input, ``(O/G * window, C/G) @ (C/G, in)``, then add
    the window's shifted, strided slices.  No window is copied: cheaper than im2col when the
    products ``O * in`` are a few times fewer than the windows' elements ``C * out``."""
    n, _, *sizes = x.shape
    g, og, cg, size = kernel.shape
    first = kernel.transpose(0, 1, 3, 2).reshape(g, og * size, cg)
    flat = np.ascontiguousarray(x).reshape(n, g, cg, -1)
    out = np.zeros((n, g, og) + out_sizes, kernel.dtype)
    for b in _blocks(n, g * og * size * flat.shape[-1]):
        z = np.matmul(first, flat[b]).reshape((-1, g, og, size) + tuple(sizes))
        for j, offset in enumerate(np.ndindex(*window)):
            taps = tuple(slice(t * d, t * d + (m - 1) * s + 1, s)
                         for t, d, m, s in zip(offset, rhs_dilation, out_sizes, strides))
            out[b] += z[(slice(None),) * 3 + (j,) + taps]
    return out


