"""``funcgrad.nn.initializers``: weight initialisers with ``jax.nn.initializers``' names and numerics.

Each builder (``normal(stddev)``, ``he_uniform()``, ...) returns an initializer
``init(key, shape, dtype=np.float64)``.  ``key`` is a ``funcgrad.random`` key, a
``numpy.random.Generator``, or the key wrapper the layers use; ``zeros`` and ``ones``
ignore it.  With a key, the draws are ``funcgrad.random``'s in ``dtype``, which are
JAX's (float32 bit for bit, float64 within a few ulp), so ``init(key, shape,
np.float32)`` gives the numbers ``jax.nn.initializers`` gives for the same key.  With a
Generator (or a layer's key wrapper) the draws are made in float64 and cast, as the
layers' own initialisers do.  Only real floating dtypes are supported.

``variance_scaling`` computes the fans from the shape as JAX does: ``in_axis``
(default -2) and ``out_axis`` (default -1) hold the input and output sizes, ``batch_axis``
(default none) is left out, and every other axis is a receptive field that multiplies
both fans (a ``(3, 3, C_in, C_out)`` kernel has ``fan_in = 9 C_in``).

Examples:
    >>> import numpy as np
    >>> import funcgrad as fg
    >>> from funcgrad.nn import initializers
    >>> init = initializers.glorot_uniform()
    >>> w = init(fg.random.key(0), (784, 256))
    >>> w.shape, w.dtype, bool(np.abs(w).max() <= np.sqrt(6 / (784 + 256)))
    ((784, 256), dtype('float64'), True)
    >>> initializers.constant(0.5)(None, (2,), np.float32)
    array([0.5, 0.5], dtype=float32)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

import funcgrad.numpy as fnp
from funcgrad import random
from funcgrad.errors import ShapeError
from funcgrad.nn._util import check_choice, check_float_dtype, check_rng, is_key
from funcgrad.scipy.special import erfinv

__all__ = ["Initializer", "constant", "glorot_normal", "glorot_uniform", "he_normal",
           "he_uniform", "kaiming_normal", "kaiming_uniform", "lecun_normal", "lecun_uniform",
           "normal", "ones", "orthogonal", "truncated_normal", "uniform", "variance_scaling",
           "xavier_normal", "xavier_uniform", "zeros"]

Array = Any
Axes = int | Sequence[int]

_MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
_DISTRIBUTIONS = ("truncated_normal", "normal", "uniform")
# The standard deviation of a standard normal truncated to (-2, 2) (JAX's constant).
_TRUNCATED_STD = .87962566103423978


class Initializer(Protocol):
    """What every builder returns: ``init(key, shape, dtype=np.float64) -> array``."""

    def __call__(self, key: Any, shape: int | Sequence[int], dtype: Any = np.float64) -> Array:
        ...


# -- where the random numbers come from -----------------------------------------------------
class _FromKey:
    """A ``funcgrad.random`` key: ``funcgrad.random``'s (JAX's) draws, in the requested dtype."""

    def __init__(self, key) -> None:
        self.key = key

    def normal(self, shape, dtype):
        return random.normal(self.key, shape, dtype)

    def uniform(self, shape, dtype, low, high):
        return random.uniform(self.key, shape, dtype, low, high)

    def truncated_normal(self, shape, dtype, lower, upper):
        return random.truncated_normal(self.key, lower, upper, shape, dtype)


class _FromGenerator:
    """A ``numpy.random.Generator`` or the layers' ``KeyDraws``: float64 draws, then cast."""

    def __init__(self, rng) -> None:
        self.rng = rng

    def normal(self, shape, dtype):
        return fnp.astype(self.rng.standard_normal(shape), dtype)

    def uniform(self, shape, dtype, low, high):
        return fnp.astype(self.rng.uniform(low, high, size=shape), dtype)

    def truncated_normal(self, shape, dtype, lower, upper):
        # Inverse CDF, as funcgrad.random.truncated_normal: u uniform between erf(lower / sqrt 2)
        # and erf(upper / sqrt 2), x = sqrt(2) erfinv(u), kept inside the open interval.
        sqrt2 = math.sqrt(2.0)
        u = self.rng.uniform(math.erf(lower / sqrt2), math.erf(upper / sqrt2), size=shape)
        x = fnp.clip(sqrt2 * erfinv(u), np.nextafter(lower, np.inf), np.nextafter(upper, -np.inf))
        return fnp.astype(x, dtype)


def _source(key: Any, where: str) -> _FromKey | _FromGenerator:
    return _FromKey(key) if is_key(key) else _FromGenerator(check_rng(key, where))


def _shape(shape: Any, where: str) -> tuple[int, ...]:
    dims = (shape,) if isinstance(shape, (int, np.integer)) else shape
    try:
        dims = tuple(dims)
    except TypeError:
        raise ShapeError(f"{where}: shape must be an int or a sequence of ints, got {shape!r}") \
            from None
    if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0
               for d in dims):
        raise ShapeError(f"{where}: shape must hold non-negative ints, got {shape!r}")
    return tuple(int(d) for d in dims)


def _builder_dtype(dtype: Any, where: str) -> Any:
    return None if dtype is None else check_float_dtype(dtype, where)


def _call_dtype(dtype: Any, where: str) -> np.dtype:
    """The dtype an initializer was called with (its builder's ``dtype``, else float64)."""
    return check_float_dtype(np.float64 if dtype is None else dtype, where)


# -- constants ------------------------------------------------------------------------------
def zeros(key: Any, shape: int | Sequence[int], dtype: Any = np.float64) -> Array:
    """An array of zeros; ``key`` is ignored.

    Examples:
        >>> zeros(None, (2,))
        array([0., 0.])
    """
    return np.zeros(_shape(shape, "nn.initializers.zeros"),
                    check_float_dtype(dtype, "nn.initializers.zeros"))


def ones(key: Any, shape: int | Sequence[int], dtype: Any = np.float64) -> Array:
    """An array of ones; ``key`` is ignored.

    Examples:
        >>> ones(None, 2)
        array([1., 1.])
    """
    return np.ones(_shape(shape, "nn.initializers.ones"),
                   check_float_dtype(dtype, "nn.initializers.ones"))


def constant(value: Any, dtype: Any = None) -> Initializer:
    """An initializer of arrays full of ``value`` (which broadcasts to the shape); the key is ignored.

    Examples:
        >>> import numpy as np
        >>> constant(-0.5)(None, (2, 2))
        array([[-0.5, -0.5],
               [-0.5, -0.5]])
    """
    where = "nn.initializers.constant"
    default = _builder_dtype(dtype, where)

    def init(key: Any, shape: int | Sequence[int], dtype: Any = default) -> Array:
        return np.full(_shape(shape, where), value, _call_dtype(dtype, where))

    return init


# -- plain distributions -------------------------------------------------------------------
def _scaled(draw, scale: Any, name: str, dtype: Any) -> Initializer:
    """An initializer ``draw(source, shape, dtype) * scale`` (the product in ``dtype``, as JAX)."""
    where = f"nn.initializers.{name}"
    default = _builder_dtype(dtype, where)

    def init(key: Any, shape: int | Sequence[int], dtype: Any = default) -> Array:
        dt = _call_dtype(dtype, where)
        return draw(_source(key, where), _shape(shape, where), dt) * np.asarray(scale, dt)

    return init


def uniform(scale: float = 1e-2, dtype: Any = None) -> Initializer:
    """An initializer of uniform samples in ``[0, scale)`` (JAX's: not symmetric about 0).

    Examples:
        >>> import funcgrad as fg
        >>> w = uniform(0.1)(fg.random.key(0), (1000,))
        >>> bool(w.min() >= 0.0 and w.max() < 0.1)
        True
    """
    return _scaled(lambda src, shape, dt: src.uniform(shape, dt, 0.0, 1.0), scale, "uniform", dtype)


def normal(stddev: float = 1e-2, dtype: Any = None) -> Initializer:
    """An initializer of normal samples with mean 0 and standard deviation ``stddev``.

    Examples:
        >>> import numpy as np
        >>> normal(2.0)(np.random.default_rng(0), (3,)).shape
        (3,)
    """
    return _scaled(lambda src, shape, dt: src.normal(shape, dt), stddev, "normal", dtype)


def truncated_normal(stddev: float = 1e-2, dtype: Any = None, lower: float = -2.0,
                     upper: float = 2.0) -> Initializer:
    """``stddev`` times a standard normal truncated to ``(lower, upper)``.

    As in JAX, ``stddev`` is not corrected for the truncation: the samples lie in
    ``(stddev * lower, stddev * upper)`` and their standard deviation is ``stddev`` times
    that of the truncated standard normal (0.8796 for the default bounds).

    Examples:
        >>> import funcgrad as fg
        >>> w = truncated_normal(1.0)(fg.random.key(0), (1000,))
        >>> bool(abs(w).max() < 2.0)
        True
    """
    return _scaled(lambda src, shape, dt: src.truncated_normal(shape, dt, lower, upper), stddev,
                   "truncated_normal", dtype)


# -- variance scaling and its named cases ---------------------------------------------------
def _axes(axis: Axes, ndim: int, name: str, shape: tuple[int, ...], where: str) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ShapeError(f"{where}: {name}={axis!r} is out of range for shape {shape}")
    return tuple(int(a) % ndim for a in axes)


def _fans(shape: tuple[int, ...], in_axis: Axes, out_axis: Axes, batch_axis: Axes,
          where: str) -> tuple[float, float]:
    """``(fan_in, fan_out)``: the sizes along ``in_axis`` and ``out_axis``, each times the
    receptive field (the product of the axes that are neither those nor ``batch_axis``)."""
    if in_axis == -2 and len(shape) <= 1:
        raise ShapeError(f"{where}: cannot tell the input and output sizes of a weight of shape "
                         f"{shape} with the default in_axis=-2; it needs at least 2 dimensions, "
                         "or an explicit in_axis")
    ins, outs, batch = (math.prod(shape[a] for a in _axes(axis, len(shape), name, shape, where))
                        for axis, name in ((in_axis, "in_axis"), (out_axis, "out_axis"),
                                           (batch_axis, "batch_axis")))
    receptive = math.prod(shape) / ins / outs / batch
    return ins * receptive, outs * receptive


def variance_scaling(scale: float, mode: str, distribution: str, in_axis: Axes = -2,
                     out_axis: Axes = -1, batch_axis: Axes = (), dtype: Any = None) -> Initializer:
    """Samples with mean 0 and variance ``scale / n``, ``n`` the fan that ``mode`` names.

    ``mode``: ``"fan_in"``, ``"fan_out"``, ``"fan_avg"`` (their mean) or ``"fan_geo_avg"``
    (their geometric mean).  ``distribution``: ``"truncated_normal"`` (a normal truncated
    at two standard deviations, rescaled so the variance after truncation is
    ``scale / n``), ``"normal"``, or ``"uniform"`` (on ``[-sqrt(3 scale / n),
    sqrt(3 scale / n))``).

    Examples:
        >>> import funcgrad as fg
        >>> init = variance_scaling(2.0, "fan_in", "normal")
        >>> w = init(fg.random.key(0), (500, 400))
        >>> round(float(w.std() * (500 / 2.0) ** 0.5), 2)         # close to 1
        1.0
    """
    where = "nn.initializers.variance_scaling"
    check_choice(mode, _MODES, "mode", where)
    check_choice(distribution, _DISTRIBUTIONS, "distribution", where)
    default = _builder_dtype(dtype, where)

    def init(key: Any, shape: int | Sequence[int], dtype: Any = default) -> Array:
        shape, dt = _shape(shape, where), _call_dtype(dtype, where)
        if 0 in shape:
            return np.zeros(shape, dt)          # nothing to draw (and the fans would be 0)
        fan_in, fan_out = _fans(shape, in_axis, out_axis, batch_axis, where)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
             "fan_geo_avg": math.sqrt(fan_in * fan_out)}[mode]
        variance = np.asarray(scale / n, dt)
        src = _source(key, where)
        if distribution == "truncated_normal":
            return src.truncated_normal(shape, dt, -2.0, 2.0) * (
                np.sqrt(variance) / np.asarray(_TRUNCATED_STD, dt))
        if distribution == "normal":
            return src.normal(shape, dt) * np.sqrt(variance)
        return src.uniform(shape, dt, -1.0, 1.0) * np.sqrt(3 * variance)

    return init


def _named(scale: float, mode: str, distribution: str, in_axis: Axes, out_axis: Axes,
           batch_axis: Axes, dtype: Any) -> Initializer:
    return variance_scaling(scale, mode, distribution, in_axis=in_axis, out_axis=out_axis,
                            batch_axis=batch_axis, dtype=dtype)


def glorot_uniform(in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = (),
                   dtype: Any = None) -> Initializer:
    """Glorot (Xavier) uniform: ``U(-a, a)``, ``a = sqrt(6 / (fan_in + fan_out))``; alias ``xavier_uniform``.

    Examples:
        >>> import numpy as np
        >>> w = glorot_uniform()(np.random.default_rng(0), (3, 5))
        >>> bool(abs(w).max() < np.sqrt(6 / 8))
        True
    """
    return _named(1.0, "fan_avg", "uniform", in_axis, out_axis, batch_axis, dtype)


def glorot_normal(in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = (),
                  dtype: Any = None) -> Initializer:
    """Glorot (Xavier) normal: truncated normal of variance ``2 / (fan_in + fan_out)``; alias ``xavier_normal``.

    Examples:
        >>> import funcgrad as fg
        >>> glorot_normal()(fg.random.key(0), (3, 5)).shape
        (3, 5)
    """
    return _named(1.0, "fan_avg", "truncated_normal", in_axis, out_axis, batch_axis, dtype)


def lecun_uniform(in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = (),
                  dtype: Any = None) -> Initializer:
    """LeCun uniform: ``U(-a, a)``, ``a = sqrt(3 / fan_in)``.

    Examples:
        >>> import funcgrad as fg
        >>> lecun_uniform()(fg.random.key(0), (3, 5)).shape
        (3, 5)
    """
    return _named(1.0, "fan_in", "uniform", in_axis, out_axis, batch_axis, dtype)


def lecun_normal(in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = (),
                 dtype: Any = None) -> Initializer:
    """LeCun normal: truncated normal of variance ``1 / fan_in``.

    Examples:
        >>> import funcgrad as fg
        >>> lecun_normal()(fg.random.key(0), (3, 5)).shape
        (3, 5)
    """
    return _named(1.0, "fan_in", "truncated_normal", in_axis, out_axis, batch_axis, dtype)


def he_uniform(in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = (),
               dtype: Any = None) -> Initializer:
    """He (Kaiming) uniform: ``U(-a, a)``, ``a = sqrt(6 / fan_in)``; alias ``kaiming_uniform``.

    Examples:
        >>> import funcgrad as fg
        >>> he_uniform()(fg.random.key(0), (3, 3, 2, 4)).shape     # a conv kernel: fan_in = 18
        (3, 3, 2, 4)
    """
    return _named(2.0, "fan_in", "uniform", in_axis, out_axis, batch_axis, dtype)


def he_normal(in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = (),
              dtype: Any = None) -> Initializer:
    """He (Kaiming) normal: truncated normal of variance ``2 / fan_in``; alias ``kaiming_normal``.

    This is JAX's (truncated) form; ``nn.Linear(init="he")`` draws an untruncated normal.

    Examples:
        >>> import funcgrad as fg
        >>> he_normal()(fg.random.key(0), (3, 5)).shape
        (3, 5)
    """
    return _named(2.0, "fan_in", "truncated_normal", in_axis, out_axis, batch_axis, dtype)


xavier_uniform = glorot_uniform
xavier_normal = glorot_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal


# -- orthogonal -----------------------------------------------------------------------------
def orthogonal(scale: float = 1.0, column_axis: int = -1, dtype: Any = None) -> Initializer:
    """``scale`` times a uniformly random (Haar) orthogonal matrix, reshaped to the shape.

    The shape is read as a matrix of ``prod(shape) / shape[column_axis]`` rows and
    ``shape[column_axis]`` columns; its columns are orthonormal when there are at least as
    many rows, its rows otherwise.  The matrix is ``Q`` of the QR decomposition of a normal
    matrix, with the signs of ``diag(R)`` folded in (Mezzadri 2007), as JAX draws it.

    Examples:
        >>> import numpy as np
        >>> import funcgrad as fg
        >>> q = orthogonal()(fg.random.key(0), (5, 3))
        >>> np.allclose(q.T @ q, np.eye(3))
        True
    """
    where = "nn.initializers.orthogonal"
    default = _builder_dtype(dtype, where)

    def init(key: Any, shape: int | Sequence[int], dtype: Any = default) -> Array:
        shape, dt = _shape(shape, where), _call_dtype(dtype, where)
        if len(shape) < 2:
            raise ShapeError(f"{where}: needs a shape of at least 2 dimensions, got {shape}")
        (axis,) = _axes(column_axis, len(shape), "column_axis", shape, where)
        if 0 in shape:
            return np.zeros(shape, dt)
        n_cols = shape[axis]
        n_rows = math.prod(shape) // n_cols
        z = _source(key, where).normal((max(n_rows, n_cols), min(n_rows, n_cols)), dt)
        q, r = fnp.linalg.qr(z)
        q = q * fnp.sign(fnp.diagonal(r))[None, :]
        if n_rows < n_cols:
            q = q.T
        rest = shape[:axis] + shape[axis + 1:]
        q = fnp.moveaxis(fnp.reshape(q, rest + (n_cols,)), -1, axis)
        return np.asarray(scale, dt) * q

    return init
