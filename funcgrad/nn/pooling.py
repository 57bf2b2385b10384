"""Pooling layers MaxPool2d and AvgPool2d: channels last (NHWC), on ``lax.reduce_window``.

Inputs are ``(N, H, W, C)`` or ``(H, W, C)``; each channel is pooled separately.
The arguments are PyTorch's (``kernel_size``, ``stride`` defaulting to the kernel
size, integer ``padding`` on both sides), and ``padding`` may also be ``"SAME"`` or
``"VALID"`` (JAX's).  Max pooling pads with ``-inf`` and sends each cotangent to the
**first** maximum of its window (as JAX; a tie is split nowhere).  Average pooling
divides by the whole window, padding included, unless ``count_include_pad=False``
(then by the number of input elements in the window), as PyTorch and flax.  Neither
has parameters: ``init`` returns ``None``.

Examples:
    >>> import numpy as np
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> MaxPool2d(2).apply(None, x)[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    >>> AvgPool2d(2).apply(None, x)[0, :, :, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from funcgrad import lax
from funcgrad.errors import DTypeError, ShapeError
from funcgrad.nn._util import check_rng, dtype_of, shape_of
from funcgrad.nn.conv import IntOrTuple, Padding, as_padding, as_tuple
from funcgrad.nn.layers import Module

__all__ = ["AvgPool2d", "MaxPool2d"]

Array = Any
DTypeLike = Any


@dataclass(frozen=True, init=False)
class _Pool2d(Module):
    """The window geometry the pooling layers share, and the call to ``reduce_window``."""

    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: str | tuple[tuple[int, int], ...]

    def _set(self, kernel_size: IntOrTuple, stride: IntOrTuple | None, padding: Padding) -> None:
        where = type(self).__name__
        kernel = as_tuple(kernel_size, 2, "kernel_size", where)
        object.__setattr__(self, "kernel_size", kernel)
        object.__setattr__(self, "stride", kernel if stride is None else as_tuple(
            stride, 2, "stride", where))
        object.__setattr__(self, "padding", as_padding(padding, 2, where))

    def init(self, rng: Any, dtype: DTypeLike = np.float64) -> None:
        """No parameters: ``None``."""
        check_rng(rng, f"{self!r}.init")

    def _reduce(self, x: Array, init_value: Any, computation: Any) -> Array:
        """``reduce_window`` over H and W of ``x`` (``(N, H, W, C)`` or ``(H, W, C)``)."""
        shape = shape_of(x)
        if len(shape) not in (3, 4):
            raise ShapeError(f"{self!r}.apply: expected x of shape (N, H, W, C) or (H, W, C), "
                             f"got x.shape={shape}")
        lead = (1,) * (len(shape) - 3)
        pads = self.padding if isinstance(self.padding, str) else (
            ((0, 0),) * len(lead) + self.padding + ((0, 0),))
        return lax.reduce_window(x, init_value, computation, lead + self.kernel_size + (1,),
                                 lead + self.stride + (1,), pads)


@dataclass(frozen=True, init=False)
class MaxPool2d(_Pool2d):
    """The maximum of each ``kernel_size`` window, moved by ``stride`` (default: the kernel size).

    ``padding`` (an int, pairs, ``"SAME"`` or ``"VALID"``) adds ``-inf``; it must be
    smaller than the window so that no window holds only padding.

    Examples:
        >>> import numpy as np
        >>> pool = MaxPool2d(kernel_size=3, stride=2, padding=1)
        >>> pool.apply(None, np.ones((2, 7, 7, 4))).shape
        (2, 4, 4, 4)
    """

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                 padding: Padding = 0) -> None:
        self._set(kernel_size, stride, padding)
        if not isinstance(self.padding, str) and any(
                p >= k for pair, k in zip(self.padding, self.kernel_size) for p in pair):
            raise ShapeError(f"MaxPool2d: padding {self.padding} must be smaller than the "
                             f"kernel {self.kernel_size} (a window of padding alone has no "
                             "maximum)")

    def apply(self, params: None, x: Array) -> Array:
        """The window maxima of ``x`` (``(N, H, W, C)`` or ``(H, W, C)``)."""
        dt = dtype_of(x)
        if dt.kind == "f":
            lowest = -np.inf
        elif dt.kind in "iu":
            lowest = np.iinfo(dt).min
        else:
            raise DTypeError(f"{self!r}.apply: x must be real (floating or integer), got dtype "
                             f"{dt}")
        return self._reduce(x, np.array(lowest, dt), lax.max)


@dataclass(frozen=True, init=False)
class AvgPool2d(_Pool2d):
    """The mean of each ``kernel_size`` window, moved by ``stride`` (default: the kernel size).

    Zero padding counts in the mean (``count_include_pad=True``, PyTorch's and flax's
    default); with ``count_include_pad=False`` each window is divided by the number
    of input elements it covers.

    Examples:
        >>> import numpy as np
        >>> x = np.ones((1, 2, 2, 1))
        >>> AvgPool2d(2, stride=1, padding=1).apply(None, x)[0, :, :, 0]
        array([[0.25, 0.5 , 0.25],
               [0.5 , 1.  , 0.5 ],
               [0.25, 0.5 , 0.25]])
        >>> AvgPool2d(2, stride=1, padding=1, count_include_pad=False).apply(None, x)[0, 0, 0, 0]
        np.float64(1.0)
    """

    count_include_pad: bool = True

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                 padding: Padding = 0, count_include_pad: bool = True) -> None:
        self._set(kernel_size, stride, padding)
        object.__setattr__(self, "count_include_pad", bool(count_include_pad))

    def apply(self, params: None, x: Array) -> Array:
        """The window means of ``x`` (``(N, H, W, C)`` or ``(H, W, C)``), floating."""
        dt = dtype_of(x)
        if dt.kind != "f":
            raise DTypeError(f"{self!r}.apply: x must be floating point, got dtype {dt}")
        sums = self._reduce(x, np.array(0, dt), lax.add)
        if self.count_include_pad:
            return sums / np.asarray(self.kernel_size[0] * self.kernel_size[1], dt)
        # How many input elements each window covers: the same sums over ones (a constant).
        counts = self._reduce(np.ones(shape_of(x)[-3:-1] + (1,), dt), np.array(0, dt), lax.add)
        return sums / counts
