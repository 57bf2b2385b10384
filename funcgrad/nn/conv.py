"""Convolution layers Conv1d, Conv2d, ConvTranspose2d: channels last, on ``conv_general_dilated``.

**Layout: channels last**, JAX/flax's: inputs are ``(N, L, C)`` (1-D) or
``(N, H, W, C)`` (2-D, NHWC); an unbatched ``(L, C)`` or ``(H, W, C)`` works too.
Kernels are ``(*kernel_size, in_channels // groups, out_channels)`` (``HWIO``).  The
arguments have PyTorch's names and meanings (``stride``, ``padding``, ``dilation``,
``groups``, ``output_padding``), and ``padding`` may also be ``"SAME"`` or ``"VALID"``
(JAX's).  To use NCHW data, transpose it: ``fnp.transpose(x, (0, 2, 3, 1))``.

Parameters are ``{"w": kernel, "b": (out_channels,)}``.  With ``init="he"`` (the
default, as ``Linear``) the kernel is ``N(0, 2 / fan_in)``; with ``"glorot"`` it is
``U(-a, a)``, ``a = sqrt(6 / (fan_in + fan_out))``; ``fan_in = in_channels // groups *
prod(kernel_size)`` and ``fan_out = out_channels * prod(kernel_size)`` (the fans of
``nn.initializers.variance_scaling`` for ``HWIO``).  ``init`` may also be any
``nn.initializers`` initializer, such as ``nn.initializers.lecun_normal()`` (flax's
default).  The bias starts at zero.

Examples:
    >>> import numpy as np
    >>> conv = Conv2d(3, 8, kernel_size=3, padding=1)
    >>> params = conv.init(np.random.default_rng(0))
    >>> params["w"].shape, params["b"].shape
    ((3, 3, 3, 8), (8,))
    >>> conv.apply(params, np.ones((2, 28, 28, 3))).shape
    (2, 28, 28, 8)
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

import funcgrad.numpy as fnp
from funcgrad import lax
from funcgrad.errors import ArgumentError, ShapeError
from funcgrad.nn import initializers
from funcgrad.nn._util import (
    check_choice,
    check_float_dtype,
    check_positive_int,
    check_rng,
    shape_of,
)
from funcgrad.nn.layers import Module, _check_param_shape

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d"]

Array = Any
DTypeLike = Any
IntOrTuple = int | Sequence[int]
Padding = str | int | Sequence[int] | Sequence[tuple[int, int]]

_LAYOUTS = {1: ("NHC", "HIO", "NHC"), 2: ("NHWC", "HWIO", "NHWC")}


def as_tuple(value: Any, k: int, name: str, where: str, minimum: int = 1) -> tuple[int, ...]:
    """An int or ``k`` ints as a tuple of ``k`` ints ``>= minimum``; anything else is an error."""
    try:
        out = (operator.index(value),) * k if not isinstance(value, Sequence) else tuple(
            operator.index(v) for v in value)
    except TypeError:
        out = ()
    if isinstance(value, bool) or len(out) != k or any(v < minimum for v in out):
        raise ArgumentError(f"{where}: {name} must be an int >= {minimum} or {k} of them, "
                            f"got {value!r}")
    return out


def as_padding(padding: Padding, k: int, where: str) -> str | tuple[tuple[int, int], ...]:
    """``"SAME"``/``"VALID"`` (any case), an int, ``k`` ints or ``k`` ``(lo, hi)`` pairs, as
    ``"SAME"``, ``"VALID"`` or ``k`` pairs of non-negative ints."""
    if isinstance(padding, str):
        check_choice(padding.upper(), ("SAME", "VALID"), "padding (a string)", where)
        return padding.upper()
    if isinstance(padding, Sequence) and padding and all(
            isinstance(p, Sequence) for p in padding):
        pairs = tuple(as_tuple(p, 2, "each padding pair", where, minimum=0) for p in padding)
        if len(pairs) != k:
            raise ArgumentError(f"{where}: padding must have {k} (low, high) pairs, got "
                                f"{padding!r}")
        return pairs
    return tuple((p, p) for p in as_tuple(padding, k, "padding", where, minimum=0))


# The kernel initialisers that ``init="he"`` and ``init="glorot"`` name (fans from HWIO).
_KERNEL_INITS = {"he": initializers.variance_scaling(2.0, "fan_in", "normal"),
                 "glorot": initializers.glorot_uniform()}


@dataclass(frozen=True, init=False)
class _Conv(Module):
    """What the convolution layers share: sizes, the kernel's shape, init and the input check."""

    spatial: ClassVar[int]
    in_channels: int
    out_channels: int
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: str | tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]
    groups: int
    bias: bool
    weight_init: str | initializers.Initializer

    def _set(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple, stride: IntOrTuple,
             padding: Padding, dilation: IntOrTuple, groups: int, bias: bool,
             init: str | initializers.Initializer) -> None:
        where, k = type(self).__name__, self.spatial
        check_positive_int(in_channels, "in_channels", where)
        check_positive_int(out_channels, "out_channels", where)
        check_positive_int(groups, "groups", where)
        if in_channels % groups or out_channels % groups:
            raise ArgumentError(f"{where}: in_channels={in_channels} and out_channels="
                                f"{out_channels} must both be divisible by groups={groups}")
        if not callable(init):
            check_choice(init, tuple(_KERNEL_INITS), "init (a name or an nn.initializers "
                         "initializer)", where)
        for name, value in [("in_channels", int(in_channels)), ("out_channels", int(out_channels)),
                            ("kernel_size", as_tuple(kernel_size, k, "kernel_size", where)),
                            ("stride", as_tuple(stride, k, "stride", where)),
                            ("padding", as_padding(padding, k, where)),
                            ("dilation", as_tuple(dilation, k, "dilation", where)),
                            ("groups", int(groups)), ("bias", bool(bias)), ("weight_init", init)]:
            object.__setattr__(self, name, value)

    @property
    def kernel_shape(self) -> tuple[int, ...]:
        """``(*kernel_size, in_channels // groups, out_channels)``."""
        return self.kernel_size + (self.in_channels // self.groups, self.out_channels)

    def init(self, rng: Any, dtype: DTypeLike = np.float64) -> dict[str, np.ndarray]:
        """``{"w": kernel, "b": zeros(out_channels)}`` (see the module docstring for the draws)."""
        rng = check_rng(rng, f"{self!r}.init")
        dt = check_float_dtype(dtype, f"{self!r}.init")
        draw = self.weight_init if callable(self.weight_init) else _KERNEL_INITS[self.weight_init]
        params = {"w": np.asarray(draw(rng, self.kernel_shape, dt))}
        if self.bias:
            params["b"] = np.zeros(self.out_channels, dt)
        return params

    def _batched(self, x: Array) -> tuple[Array, bool]:
        """``x`` with a batch axis, and whether one was added; checks the channels."""
        shape, k = shape_of(x), self.spatial
        if len(shape) not in (k + 1, k + 2) or shape[-1] != self.in_channels:
            layout = "(N, H, W, C)" if k == 2 else "(N, L, C)"
            raise ShapeError(f"{self!r}.apply: expected x of shape {layout} or without N, with "
                             f"C={self.in_channels} channels last, got x.shape={shape}")
        return (x, False) if len(shape) == k + 2 else (fnp.expand_dims(x, 0), True)

    def _finish(self, params: dict[str, Array], y: Array, added: bool) -> Array:
        if self.bias:
            y = y + _check_param_shape(params, "b", (self.out_channels,), self)
        return y[0] if added else y

    def _convolve(self, x: Array, w: Array, padding: Any, lhs_dilation: tuple[int, ...] | None,
                  strides: tuple[int, ...]) -> Array:
        return lax.conv_general_dilated(x, w, strides, padding, lhs_dilation=lhs_dilation,
                                        rhs_dilation=self.dilation,
                                        dimension_numbers=_LAYOUTS[self.spatial],
                                        feature_group_count=self.groups)

    def apply(self, params: dict[str, Array], x: Array) -> Array:
        """The convolution of ``x`` (channels last) with ``params["w"]``, plus ``params["b"]``."""
        w = _check_param_shape(params, "w", self.kernel_shape, self)
        x, added = self._batched(x)
        y = self._convolve(x, w, self.padding, None, self.stride)
        return self._finish(params, y, added)


def _conv_init(self: _Conv, in_channels: int, out_channels: int, kernel_size: IntOrTuple,
               stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1,
               groups: int = 1, bias: bool = True,
               init: str | initializers.Initializer = "he") -> None:
    self._set(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
              init)


@dataclass(frozen=True, init=False)
class Conv1d(_Conv):
    """A 1-D convolution (cross-correlation) over ``x`` of shape ``(N, L, in_channels)``.

    ``Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
    groups=1, bias=True, init="he")``; ``padding`` is an int (both sides), ``(lo, hi)``
    pairs, ``"SAME"`` or ``"VALID"``.  The output is ``(N, L_out, out_channels)``.

    Examples:
        >>> import numpy as np
        >>> conv = Conv1d(1, 1, kernel_size=2, bias=False)
        >>> conv.apply({"w": np.array([[[1.0]], [[-1.0]]])}, np.array([[1.0], [4.0], [9.0]]))
        array([[-3.],
               [-5.]])
    """

    spatial: ClassVar[int] = 1
    __init__ = _conv_init


@dataclass(frozen=True, init=False)
class Conv2d(_Conv):
    """A 2-D convolution (cross-correlation) over ``x`` of shape ``(N, H, W, in_channels)`` (NHWC).

    ``Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
    groups=1, bias=True, init="he")``, PyTorch's arguments (ints or pairs); ``padding``
    may also be ``"SAME"``/``"VALID"`` or ``((top, bottom), (left, right))``.
    ``groups=in_channels`` is a depthwise convolution.  The output is ``(N, H_out,
    W_out, out_channels)`` with ``H_out = (H + top + bottom - dilation * (k - 1) - 1)
    // stride + 1``.

    Examples:
        >>> import numpy as np
        >>> conv = Conv2d(2, 4, kernel_size=(3, 3), stride=2, padding="SAME")
        >>> conv.apply(conv.init(np.random.default_rng(0)), np.ones((1, 9, 9, 2))).shape
        (1, 5, 5, 4)
    """

    spatial: ClassVar[int] = 2
    __init__ = _conv_init


@dataclass(frozen=True, init=False)
class ConvTranspose2d(_Conv):
    """PyTorch's ``ConvTranspose2d``, a transposed 2-D convolution in NHWC: upsamples by stride.

    With integer ``padding`` ``p`` the output has ``H_out = (H - 1) * stride - 2 p +
    dilation * (k - 1) + output_padding + 1`` rows (PyTorch's formula); with
    ``"SAME"`` ``H * stride`` and with ``"VALID"`` ``H * stride + max(k - stride, 0)``
    (JAX's ``conv_transpose``; ``output_padding`` must be 0 then).  The kernel is
    ``(kh, kw, in_channels // groups, out_channels)`` and is applied to the
    stride-dilated input **without flipping** (flax's ``ConvTranspose``); a PyTorch
    weight ``W`` of shape ``(in, out, kh, kw)`` is ``W.transpose(2, 3, 0, 1)[::-1, ::-1]``
    here.  It is the gradient (with respect to its input) of a ``Conv2d`` whose kernel is
    this one flipped with its channel axes swapped.

    Examples:
        >>> import numpy as np
        >>> up = ConvTranspose2d(1, 1, kernel_size=2, stride=2, bias=False)
        >>> up.apply({"w": np.ones((2, 2, 1, 1))}, np.array([[[[1.0], [2.0]]]]))[0, :, :, 0]
        array([[1., 1., 2., 2.],
               [1., 1., 2., 2.]])
    """

    spatial: ClassVar[int] = 2
    output_padding: tuple[int, ...] = (0, 0)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: Padding = 0, output_padding: IntOrTuple = 0,
                 dilation: IntOrTuple = 1, groups: int = 1, bias: bool = True,
                 init: str | initializers.Initializer = "he") -> None:
        self._set(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                  init)
        where = "ConvTranspose2d"
        extra = as_tuple(output_padding, 2, "output_padding", where, minimum=0)
        if isinstance(self.padding, str) and (any(extra) or self.groups > 1):
            raise ArgumentError(f"{where}: padding={self.padding!r} needs output_padding=0 and "
                                f"groups=1 (got {extra} and {self.groups}); give integer padding")
        if any(e >= max(s, d) for e, s, d in zip(extra, self.stride, self.dilation)):
            raise ArgumentError(f"{where}: output_padding={extra} must be smaller than the "
                                f"stride {self.stride} or the dilation {self.dilation} (as in "
                                "PyTorch)")
        object.__setattr__(self, "output_padding", extra)

    def _pads(self) -> str | tuple[tuple[int, int], ...]:
        """The padding of the stride-dilated input for the forward convolution."""
        if isinstance(self.padding, str):
            return self.padding
        span = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
        return tuple((s - lo, s - hi + e) for s, (lo, hi), e in
                     zip(span, self.padding, self.output_padding))

    def apply(self, params: dict[str, Array], x: Array) -> Array:
        """The transposed convolution of ``x`` (NHWC) with ``params["w"]``, plus ``params["b"]``."""
        w = _check_param_shape(params, "w", self.kernel_shape, self)
        x, added = self._batched(x)
        pads = self._pads()
        if isinstance(pads, str):
            y = lax.conv_transpose(x, w, self.stride, pads, rhs_dilation=self.dilation,
                                   dimension_numbers=_LAYOUTS[2])
        else:
            y = self._convolve(x, w, pads, self.stride, (1, 1))
        return self._finish(params, y, added)
