"""Convolution: one primitive, ``conv``, behind ``lax.conv_general_dilated`` and its family.

``conv_p`` works in one layout, the canonical one: ``lhs`` is ``(N, C, *spatial)``,
``rhs`` is ``(O, C // G, *window)`` and the result is ``(N, O, *out)``, with
``G = feature_group_count`` (output features ``g * O/G ...`` see input features
``g * C/G ...``).  Its params are ``window_strides``, ``padding`` (one resolved
``(lo, hi)`` pair per spatial axis; negative values crop), ``lhs_dilation``,
``rhs_dilation`` and ``feature_group_count``.  :func:`conv_general_dilated` reads JAX's
arguments (padding strings, dimension numbers such as ``('NHWC', 'HWIO', 'NHWC')``) and
transposes its operands into that layout and the result out of it.

The implementation (NumPy im2col and BLAS, several strategies chosen by shape and
memory order) lives in :mod:`funcgrad.ops._conv_kernels`.

The rules are JAX's (``_conv_general_dilated_transpose_lhs/rhs``): the operand
cotangents are convolutions themselves, so every derivative order works.

* ``lhs``: the cotangent convolved with the spatially flipped kernel, input and output
  features swapped, ``window_strides`` and ``lhs_dilation`` exchanged and the padding of
  :func:`_lhs_cotangent_padding`; feature groups move into the flipped kernel's output
  features.
* ``rhs``: the input convolved with the cotangent as the kernel, batch and features
  swapped in both, ``window_strides`` and ``rhs_dilation`` exchanged and the padding of
  :func:`_rhs_cotangent_padding`.  Feature groups, for which JAX uses
  ``batch_group_count``, are folded into the swapped input's features instead (the
  group index before the batch), so ``conv_p`` needs no batch groups.
* JVP: bilinear, one convolution per tangent.
* Batching: a batched ``lhs`` folds into ``N``, a batched ``rhs`` into ``O`` (inside
  each feature group), both batched into the feature groups (``B * G`` groups).

Examples:
    >>> conv_general_dilated(np.ones((1, 1, 4)), np.ones((1, 1, 2)), (1,), "VALID")
    array([[[2., 2., 2.]]])
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.errors import ArgumentError, ShapeError, UnsupportedError
from funcgrad.ops import misc
from funcgrad.ops import shape as sh
from funcgrad.ops._array_like import asarray
from funcgrad.ops._conv_kernels import _conv_impl, _dilate, _out_sizes
from funcgrad.ops._family import dtype_of, shape_of

__all__ = ["ConvDimensionNumbers", "conv", "conv_dimension_numbers", "conv_general_dilated",
           "conv_transpose", "conv_with_general_padding", "padtype_to_pads"]

PADDINGS = ("SAME", "SAME_LOWER", "VALID")
# -- geometry ---------------------------------------------------------------------------------
def padtype_to_pads(in_shape: Sequence[int], window_shape: Sequence[int],
                    window_strides: Sequence[int], padding: str) -> list[tuple[int, int]]:
    """``lax.padtype_to_pads``: the ``(lo, hi)`` pairs of ``'SAME'``, ``'SAME_LOWER'`` or ``'VALID'``.

    ``'SAME'`` pads so that the output has ``ceil(in / stride)`` elements, the odd one
    after; ``'SAME_LOWER'`` puts it before; ``'VALID'`` does not pad.

    Examples:
        >>> padtype_to_pads((5,), (3,), (2,), "SAME")
        [(1, 1)]
    """
    if not isinstance(padding, str) or padding.upper() not in PADDINGS:
        raise ArgumentError(f"padding must be one of {PADDINGS} or a sequence of (low, high) "
                            f"integer pairs, got {padding!r}")
    padding = padding.upper()
    if padding == "VALID":
        return [(0, 0)] * len(in_shape)
    pads = []
    for n, k, s in zip(in_shape, window_shape, window_strides):
        total = max(0, (-(-n // s) - 1) * s + k - n)
        lo = total // 2 if padding == "SAME" else total - total // 2
        pads.append((lo, total - lo))
    return pads


def _conv_aval(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
               feature_group_count):
    n, _, *in_sizes = shape_of(lhs)
    o, _, *window = shape_of(rhs)
    out = _out_sizes(in_sizes, window, window_strides, padding, lhs_dilation, rhs_dilation)
    return (n, o) + out, np.result_type(dtype_of(lhs), dtype_of(rhs))


# -- derivative rules -----------------------------------------------------------------------------
def _lhs_cotangent_padding(in_sizes, window, strides, out_sizes, padding, lhs_dilation,
                           rhs_dilation) -> tuple:
    """JAX's ``_conv_general_vjp_lhs_padding``."""
    pads = []
    for n, k, s, m, (lo, _), ld, rd in zip(in_sizes, window, strides, out_sizes, padding,
                                           lhs_dilation, rhs_dilation):
        before = _dilate(k, rd) - lo - 1
        after = _dilate(n, ld) + _dilate(k, rd) - 1 - _dilate(m, s) - before
        pads.append((before, after))
    return tuple(pads)


def _rhs_cotangent_padding(in_sizes, window, strides, out_sizes, padding, lhs_dilation,
                           rhs_dilation) -> tuple:
    """JAX's ``_conv_general_vjp_rhs_padding``."""
    pads = []
    for n, k, s, m, (lo, _), ld, rd in zip(in_sizes, window, strides, out_sizes, padding,
                                           lhs_dilation, rhs_dilation):
        pads.append((lo, _dilate(m, s) - _dilate(n, ld) + _dilate(k, rd) - lo - 1))
    return tuple(pads)


def _swap01(x):
    axes = list(range(len(shape_of(x))))
    axes[:2] = [1, 0]
    return sh.transpose(x, tuple(axes))


def _vjp_lhs(g, ans, lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
             feature_group_count):
    _, c, *in_sizes = shape_of(lhs)
    o, cg, *window = shape_of(rhs)
    k, groups = len(window), feature_group_count
    spatial = tuple(range(2, 2 + k))
    # Kernel (G * O/G, C/G, *w) -> (G * C/G, O/G, *w), flipped: input and output features swap.
    kernel = sh.reshape(rhs, (groups, o // groups, cg) + tuple(window))
    kernel = sh.transpose(kernel, (0, 2, 1) + tuple(range(3, 3 + k)))
    kernel = sh.flip(sh.reshape(kernel, (c, o // groups) + tuple(window)), spatial)
    pads = _lhs_cotangent_padding(in_sizes, window, window_strides, shape_of(g)[2:], padding,
                                  lhs_dilation, rhs_dilation)
    return conv_p.bind(g, kernel, window_strides=lhs_dilation, padding=pads,
                       lhs_dilation=window_strides, rhs_dilation=rhs_dilation,
                       feature_group_count=groups)


def _vjp_rhs(g, ans, lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
             feature_group_count):
    n, _, *in_sizes = shape_of(lhs)
    _, cg, *window = shape_of(rhs)
    k, groups = len(window), feature_group_count
    if 0 in shape_of(g):
        return None
    # Input (N, G * C/G, *s) -> (C/G, G * N, *s): batch and features swap, groups stay outermost.
    x = sh.reshape(lhs, (n, groups, cg) + tuple(in_sizes))
    x = sh.reshape(sh.transpose(x, (2, 1, 0) + tuple(range(3, 3 + k))),
                   (cg, groups * n) + tuple(in_sizes))
    pads = _rhs_cotangent_padding(in_sizes, window, window_strides, shape_of(g)[2:], padding,
                                  lhs_dilation, rhs_dilation)
    out = conv_p.bind(x, _swap01(g), window_strides=rhs_dilation, padding=pads,
                      lhs_dilation=lhs_dilation, rhs_dilation=window_strides,
                      feature_group_count=groups)  # (C/G, O, *window)
    return _swap01(out)


def _fold(x, axis: int, into: int):
    """Merge the batch axis ``axis`` of ``x`` into axis ``into`` of the unbatched value (as its
    major part)."""
    x = sh.moveaxis(x, axis, into)  # the batch at `into`, the target axis right after it
    shape = shape_of(x)
    return sh.reshape(x, shape[:into] + (shape[into] * shape[into + 1],) + shape[into + 2:])


def _batch(values, dims, *, window_strides, padding, lhs_dilation, rhs_dilation,
           feature_group_count):
    lhs, rhs = values
    ld, rd = dims
    params = {"window_strides": window_strides, "padding": padding, "lhs_dilation": lhs_dilation,
              "rhs_dilation": rhs_dilation}
    groups = feature_group_count
    if rd is None:  # the batch joins N
        b = shape_of(lhs)[ld]
        out = conv_p.bind(_fold(lhs, ld, 0), rhs, feature_group_count=groups, **params)
        return sh.reshape(out, (b, -1) + shape_of(out)[1:]), 0
    b = shape_of(rhs)[rd]
    o, cg, *window = shape_of(rhs)[:rd] + shape_of(rhs)[rd + 1:]
    if ld is None:  # the batch joins O inside each group: (G, B, O/G) outputs
        kernel = sh.reshape(sh.moveaxis(rhs, rd, 0), (b, groups, o // groups, cg) + tuple(window))
        kernel = sh.transpose(kernel, (1, 0) + tuple(range(2, 4 + len(window))))
        kernel = sh.reshape(kernel, (groups * b * (o // groups), cg) + tuple(window))
        out = conv_p.bind(lhs, kernel, feature_group_count=groups, **params)
        n, _, *rest = shape_of(out)
        out = sh.reshape(out, (n, groups, b, o // groups) + tuple(rest))
        out = sh.transpose(out, (0, 2, 1) + tuple(range(3, 4 + len(rest))))
        return sh.reshape(out, (n, b, o) + tuple(rest)), 1
    # Both batched: B * G feature groups, the batch outermost.
    out = conv_p.bind(_fold(lhs, ld, 1), _fold(rhs, rd, 0), feature_group_count=b * groups,
                      **params)
    n, _, *rest = shape_of(out)
    return sh.reshape(out, (n, b, o) + tuple(rest)), 1


conv_p = Primitive("conv", _conv_impl, _conv_aval)
conv_p.defvjp(_vjp_lhs, _vjp_rhs)
conv_p.defjvp(lambda t, ans, lhs, rhs, **params: conv_p.bind(t, rhs, **params),
              lambda t, ans, lhs, rhs, **params: conv_p.bind(lhs, t, **params))
conv_p.defbatch(_batch)


# -- dimension numbers --------------------------------------------------------------------------
class ConvDimensionNumbers(NamedTuple):
    """``lax.ConvDimensionNumbers``: for each of lhs, rhs and out, the axis numbers of
    (batch, feature, *spatial), (out feature, in feature, *spatial) and (batch, feature,
    *spatial), spatial axes in the kernel's order."""

    lhs_spec: tuple
    rhs_spec: tuple
    out_spec: tuple


def _permutations(specs) -> ConvDimensionNumbers:
    """JAX's ``conv_general_permutations`` for strings such as ``('NHWC', 'HWIO', 'NHWC')``."""
    lhs_spec, rhs_spec, out_spec = specs
    pairs = (("N", "C"), ("O", "I"), ("N", "C"))
    for i, (a, b) in enumerate(pairs):
        if not specs[i].count(a) == specs[i].count(b) == 1 or len(set(specs[i])) != len(specs[i]):
            raise ArgumentError(f"convolution dimension_numbers[{i}] must hold the characters "
                                f"{a!r} and {b!r} exactly once and no character twice, got "
                                f"{specs[i]!r}")
    if not set(lhs_spec) - {"N", "C"} == set(rhs_spec) - {"O", "I"} == set(out_spec) - {"N", "C"}:
        raise ArgumentError("convolution dimension_numbers must name the same spatial axes in "
                            f"all three specs, got {tuple(specs)}")

    def perm(spec, pair):
        spatial = [i for i, ch in enumerate(spec) if ch not in pair]
        if spec is not rhs_spec:
            spatial.sort(key=lambda i: rhs_spec.index(spec[i]))
        return (spec.index(pair[0]), spec.index(pair[1])) + tuple(spatial)

    return ConvDimensionNumbers(*map(perm, specs, pairs))


def conv_dimension_numbers(lhs_shape: Sequence[int], rhs_shape: Sequence[int],
                           dimension_numbers) -> ConvDimensionNumbers:
    """``lax.conv_dimension_numbers``: ``None`` (``NC...``, ``OI...``, ``NC...``), three layout
    strings, or a :class:`ConvDimensionNumbers`, as axis permutations.

    Examples:
        >>> conv_dimension_numbers((1, 5, 5, 3), (3, 3, 3, 8), ("NHWC", "HWIO", "NHWC"))
        ConvDimensionNumbers(lhs_spec=(0, 3, 1, 2), rhs_spec=(3, 2, 0, 1), out_spec=(0, 3, 1, 2))
    """
    if isinstance(dimension_numbers, ConvDimensionNumbers):
        return dimension_numbers
    if len(lhs_shape) != len(rhs_shape):
        raise ShapeError(f"convolution: lhs and rhs must have the same number of dimensions, got "
                         f"shapes {tuple(lhs_shape)} and {tuple(rhs_shape)}")
    if dimension_numbers is None:
        iota = tuple(range(len(lhs_shape)))
        return ConvDimensionNumbers(iota, iota, iota)
    if not isinstance(dimension_numbers, (list, tuple)) or len(dimension_numbers) != 3 or not all(
            isinstance(s, str) for s in dimension_numbers):
        raise ArgumentError("convolution dimension_numbers must be None, a ConvDimensionNumbers "
                            f"or three strings such as ('NHWC', 'HWIO', 'NHWC'), got "
                            f"{dimension_numbers!r}")
    for i, spec in enumerate(dimension_numbers):
        if len(spec) != len(lhs_shape):
            raise ShapeError(f"convolution dimension_numbers[{i}] = {spec!r} has {len(spec)} "
                             f"axes, but lhs and rhs have shapes {tuple(lhs_shape)} and "
                             f"{tuple(rhs_shape)}")
    return _permutations(tuple(dimension_numbers))


# -- the public functions ---------------------------------------------------------------------
def _ints(name: str, value, k: int, default: int = 1, minimum: int = 1) -> tuple[int, ...]:
    if value is None:
        return (default,) * k
    try:
        out = tuple(operator.index(v) for v in value)
    except TypeError:
        raise ArgumentError(f"convolution: {name} must be a sequence of {k} integers, got "
                            f"{value!r}") from None
    if len(out) != k or any(v < minimum for v in out):
        raise ArgumentError(f"convolution: {name} must be {k} integers >= {minimum} (one per "
                            f"spatial axis), got {value!r}")
    return out


def _pairs(padding, k: int) -> tuple[tuple[int, int], ...]:
    try:
        out = tuple((operator.index(lo), operator.index(hi)) for lo, hi in padding)
    except (TypeError, ValueError):
        out = None
    if out is None or len(out) != k:
        raise ArgumentError(f"padding must be one of {PADDINGS} or {k} (low, high) integer pairs "
                            f"(one per spatial axis), got {padding!r}")
    return out


def conv_general_dilated(lhs, rhs, window_strides: Sequence[int], padding,
                         lhs_dilation: Sequence[int] | None = None,
                         rhs_dilation: Sequence[int] | None = None, dimension_numbers=None,
                         feature_group_count: int = 1, batch_group_count: int = 1,
                         precision=None, preferred_element_type=None):
    """``lax.conv_general_dilated``: an N-d convolution (cross-correlation, as in deep learning)
    with strides, padding (``'SAME'``, ``'SAME_LOWER'``, ``'VALID'`` or ``(lo, hi)`` pairs),
    input (``lhs_dilation``, a transposed convolution) and kernel (``rhs_dilation``, atrous)
    dilation, dimension numbers and feature groups (``feature_group_count = C`` is depthwise).

    ``precision`` is accepted and ignored (NumPy computes in the operands' precision);
    ``preferred_element_type`` computes and returns in that dtype; ``batch_group_count > 1``
    is not supported.

    Examples:
        >>> x = np.arange(5.0).reshape(1, 1, 5)
        >>> conv_general_dilated(x, np.ones((1, 1, 2)), (2,), "SAME")
        array([[[1., 5., 4.]]])
        >>> conv_general_dilated(np.ones((1, 4, 4, 2)), np.ones((3, 3, 2, 5)), (1, 1), "VALID",
        ...                      dimension_numbers=("NHWC", "HWIO", "NHWC")).shape
        (1, 2, 2, 5)
    """
    lhs, rhs = asarray(lhs), asarray(rhs)
    dnums = conv_dimension_numbers(shape_of(lhs), shape_of(rhs), dimension_numbers)
    if len(shape_of(lhs)) < 3 or len(shape_of(rhs)) != len(shape_of(lhs)):
        raise ShapeError(f"convolution: lhs and rhs need the same number of dimensions, at least 3 "
                         f"(batch, feature, one or more spatial), got shapes {shape_of(lhs)} and "
                         f"{shape_of(rhs)}")
    if batch_group_count != 1:
        raise UnsupportedError(f"conv_general_dilated: batch_group_count={batch_group_count} is "
                               "not supported (only 1)")
    try:
        groups = operator.index(feature_group_count)
    except TypeError:
        raise ArgumentError(f"conv_general_dilated: feature_group_count must be an integer, got "
                            f"{feature_group_count!r}") from None
    if preferred_element_type is not None:
        lhs = misc.astype(lhs, preferred_element_type)
        rhs = misc.astype(rhs, preferred_element_type)
    if dnums.lhs_spec != tuple(range(len(dnums.lhs_spec))):
        lhs = sh.transpose(lhs, dnums.lhs_spec)
    if dnums.rhs_spec != tuple(range(len(dnums.rhs_spec))):
        rhs = sh.transpose(rhs, dnums.rhs_spec)
    (_, c, *in_sizes), (o, i, *window) = shape_of(lhs), shape_of(rhs)
    k = len(in_sizes)
    if groups < 1 or c % groups or o % groups or c != i * groups:
        raise ShapeError(f"convolution: lhs has {c} features and rhs {i} input and {o} output "
                         f"features with feature_group_count={groups}: lhs features must equal "
                         "rhs input features times feature_group_count, and both lhs features "
                         "and rhs output features must be divisible by it")
    strides = _ints("window_strides", window_strides, k)
    ld = _ints("lhs_dilation", lhs_dilation, k)
    rd = _ints("rhs_dilation", rhs_dilation, k)
    if isinstance(padding, str):
        if any(d != 1 for d in ld):
            raise ArgumentError("conv_general_dilated: string padding is not implemented with "
                                "lhs_dilation (a transposed convolution): give (lo, hi) pairs "
                                "or use conv_transpose")
        pads = tuple(padtype_to_pads(in_sizes, [_dilate(w, d) for w, d in zip(window, rd)],
                                     strides, padding))
    else:
        pads = _pairs(padding, k)
    out = conv_p.bind(lhs, rhs, window_strides=strides, padding=pads, lhs_dilation=ld,
                      rhs_dilation=rd, feature_group_count=groups)
    if dnums.out_spec != tuple(range(len(dnums.out_spec))):
        out = sh.transpose(out, tuple(np.argsort(dnums.out_spec).tolist()))
    return out


def conv(lhs, rhs, window_strides: Sequence[int], padding, precision=None,
         preferred_element_type=None):
    """``lax.conv``: :func:`conv_general_dilated` in the ``NCHW``/``OIHW`` layout, no dilation.

    Examples:
        >>> conv(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), (1, 1), "VALID")[0, 0]
        array([[4., 4.],
               [4., 4.]])
    """
    return conv_general_dilated(lhs, rhs, window_strides, padding, precision=precision,
                                preferred_element_type=preferred_element_type)


def conv_with_general_padding(lhs, rhs, window_strides: Sequence[int], padding,
                              lhs_dilation: Sequence[int] | None,
                              rhs_dilation: Sequence[int] | None, precision=None,
                              preferred_element_type=None):
    """``lax.conv_with_general_padding``: :func:`conv_general_dilated` in ``NCHW``/``OIHW``.

    Examples:
        >>> conv_with_general_padding(np.ones((1, 1, 2)), np.ones((1, 1, 2)), (1,), [(1, 1)],
        ...                           None, None)
        array([[[1., 2., 1.]]])
    """
    return conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation,
                                precision=precision, preferred_element_type=preferred_element_type)


def _transpose_padding(k: int, stride: int, padding) -> tuple[int, int]:
    """JAX's ``_conv_transpose_padding``: the padding of the dilated input for the forward
    convolution's ``'SAME'``/``'VALID'`` or ``(lo, hi)`` padding (``k``: the dilated window)."""
    if padding == "SAME":
        total = k + stride - 2
        lo = k - 1 if stride > k - 1 else -(-total // 2)
    elif padding == "VALID":
        total, lo = k + stride - 2 + max(k - stride, 0), k - 1
    else:
        lo, hi = k - padding[0] - 1, k - padding[1] - 1
        total = lo + hi
    return lo, total - lo


_TRANSPOSE_LAYOUTS = {3: ("NHC", "HIO", "NHC"), 4: ("NHWC", "HWIO", "NHWC"),
                      5: ("NHWDC", "HWDIO", "NHWDC")}


def conv_transpose(lhs, rhs, strides: Sequence[int], padding, rhs_dilation=None,
                   dimension_numbers=None, transpose_kernel: bool = False, precision=None,
                   preferred_element_type=None, use_consistent_padding: bool = False):
    """``lax.conv_transpose``: the "deconvolution" that upsamples by ``strides`` (input
    dilation).  The default layout is JAX's: ``NHC``/``HIO``, ``NHWC``/``HWIO``,
    ``NHWDC``/``HWDIO``.  ``'SAME'`` gives ``in * stride`` outputs and ``'VALID'``
    ``in * stride + max(k - stride, 0)``; explicit ``(lo, hi)`` pairs pad the dilated input
    as given, unless ``use_consistent_padding`` reads them as the forward convolution's.
    ``transpose_kernel=True`` flips the kernel's spatial axes and swaps its feature axes,
    which makes the result the lhs gradient of the forward convolution with that kernel.

    Examples:
        >>> conv_transpose(np.ones((1, 2, 1)), np.ones((3, 1, 1)), (2,), "SAME")[0, :, 0]
        array([1., 1., 2., 1.])
    """
    lhs, rhs = asarray(lhs), asarray(rhs)
    ndim = len(shape_of(lhs))
    if dimension_numbers is None:
        if ndim not in _TRANSPOSE_LAYOUTS:
            raise ShapeError(f"conv_transpose: without dimension_numbers the operands must have "
                             f"3, 4 or 5 dimensions, got shapes {shape_of(lhs)} and {shape_of(rhs)}")
        dimension_numbers = _TRANSPOSE_LAYOUTS[ndim]
    dnums = conv_dimension_numbers(shape_of(lhs), shape_of(rhs), dimension_numbers)
    k = ndim - 2
    rd = _ints("rhs_dilation", rhs_dilation, k)
    strides = _ints("strides", strides, k)
    if use_consistent_padding or isinstance(padding, str):
        if isinstance(padding, str) and padding.upper() not in ("SAME", "VALID"):
            raise ArgumentError(f"conv_transpose: padding must be 'SAME', 'VALID' or (low, high) "
                                f"pairs, got {padding!r}")
        each = [padding.upper()] * k if isinstance(padding, str) else _pairs(padding, k)
        window = [_dilate(shape_of(rhs)[a], d) for a, d in zip(dnums.rhs_spec[2:], rd)]
        padding = tuple(_transpose_padding(w, s, p) for w, s, p in zip(window, strides, each))
    if transpose_kernel:
        rhs = sh.flip(rhs, tuple(dnums.rhs_spec[2:]))
        rhs = sh.swapaxes(rhs, dnums.rhs_spec[0], dnums.rhs_spec[1])
    return conv_general_dilated(lhs, rhs, (1,) * k, padding, strides, rd, dnums,
                                precision=precision, preferred_element_type=preferred_element_type)
