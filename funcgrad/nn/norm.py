"""Normalisation layers: LayerNorm, RMSNorm, GroupNorm and BatchNorm (channels last).

Every layer normalises over some axes, then scales and shifts by learned
per-feature parameters ``{"scale": ones, "bias": zeros}`` (flax's names).
Features are the **last** axis, as for ``Linear``: a batch of images is
``(N, H, W, C)`` (NHWC, JAX/flax's layout).  Variances are the biased
(population) ones, ``mean((x - mean) ** 2)``, and ``eps`` is added to the
variance inside the square root, as in PyTorch and flax.

``BatchNorm`` also keeps running statistics.  They are not parameters (they get
no gradient) but an explicit **state** pytree: ``init_state()`` makes it and
``apply(params, x, state=state, train=True)`` returns ``(y, new_state)``.

Examples:
    >>> import numpy as np
    >>> ln = LayerNorm(3)
    >>> params = ln.init(np.random.default_rng(0))
    >>> ln.apply(params, np.array([1.0, 2.0, 3.0])).round(4)
    array([-1.2247,  0.    ,  1.2247])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.errors import ArgumentError, ShapeError, TreeStructureError
from funcgrad.nn._util import (
    check_float_dtype,
    check_positive_int,
    check_rng,
    dtype_of,
    shape_of,
)
from funcgrad.nn.layers import Module, _check_param_shape

__all__ = ["BatchNorm", "GroupNorm", "LayerNorm", "RMSNorm"]

Array = Any
DTypeLike = Any


def _check_eps(eps: Any, where: str) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps >= 0.0:
        raise ArgumentError(f"{where}: eps must be a non-negative float, got {eps!r}")
    return float(eps)


def _affine_params(layer: Module, rng: Any, dtype: DTypeLike, shape: tuple[int, ...],
                   use_scale: bool, use_bias: bool) -> dict[str, np.ndarray]:
    """``{"scale": ones, "bias": zeros}`` of ``shape`` (only the ones the layer uses)."""
    check_rng(rng, f"{layer!r}.init")
    dt = check_float_dtype(dtype, f"{layer!r}.init")
    params = {}
    if use_scale:
        params["scale"] = np.ones(shape, dt)
    if use_bias:
        params["bias"] = np.zeros(shape, dt)
    return params


def _affine(layer: Module, params: Any, y: Array, shape: tuple[int, ...], use_scale: bool,
            use_bias: bool) -> Array:
    """``y * params["scale"] + params["bias"]`` after checking the parameters' shapes."""
    if not isinstance(params, dict):
        raise TreeStructureError(f"{layer!r}.apply: params must be a dict, got "
                                 f"{type(params).__name__}")
    if use_scale:
        y = y * _check_param_shape(params, "scale", shape, layer)
    if use_bias:
        y = y + _check_param_shape(params, "bias", shape, layer)
    return y


def _check_trailing(x: Array, shape: tuple[int, ...], layer: Module, min_ndim: int = 0) -> None:
    got = shape_of(x)
    if len(got) < max(len(shape), min_ndim) or got[len(got) - len(shape):] != shape:
        lead = "(N, ..., " if min_ndim > len(shape) else "(..., "
        raise ShapeError(f"{layer!r}.apply: expected x of shape {lead}"
                         f"{', '.join(map(str, shape))}), got x.shape={got}")


def _standardize(x: Array, axes: tuple[int, ...], eps: float) -> Array:
    """``(x - mean) / sqrt(var + eps)`` over ``axes`` (biased variance)."""
    mean = fnp.mean(x, axis=axes, keepdims=True)
    centred = x - mean
    var = fnp.mean(centred * centred, axis=axes, keepdims=True)
    return centred / fnp.sqrt(var + eps)


def _as_shape(features: int | Sequence[int], where: str) -> tuple[int, ...]:
    shape = (features,) if isinstance(features, (int, np.integer)) else tuple(features)
    if not shape:
        raise ArgumentError(f"{where}: the normalised shape must have at least one axis")
    for n in shape:
        check_positive_int(n, "every normalised size", where)
    return tuple(int(n) for n in shape)


@dataclass(frozen=True, init=False)
class LayerNorm(Module):
    """Normalise each example over its last axes: ``(x - mean) / sqrt(var + eps) * scale + bias``.

    ``LayerNorm(64)`` normalises over the last axis (size 64); ``LayerNorm((8, 64))``
    over the last two (PyTorch's ``normalized_shape``).  ``scale`` and ``bias`` have
    that shape (``use_scale=False`` / ``use_bias=False`` drop them).  ``eps=1e-5``
    as PyTorch (flax's default is 1e-6).

    Examples:
        >>> import numpy as np
        >>> ln = LayerNorm(4)
        >>> params = ln.init(np.random.default_rng(0))
        >>> y = ln.apply(params, np.arange(8.0).reshape(2, 4))
        >>> y.mean(-1).round(12), y.var(-1).round(4)
        (array([0., 0.]), array([1., 1.]))
    """

    shape: tuple[int, ...]
    eps: float = 1e-5
    use_scale: bool = True
    use_bias: bool = True

    def __init__(self, shape: int | Sequence[int], eps: float = 1e-5, use_scale: bool = True,
                 use_bias: bool = True) -> None:
        object.__setattr__(self, "shape", _as_shape(shape, "LayerNorm"))
        object.__setattr__(self, "eps", _check_eps(eps, "LayerNorm"))
        object.__setattr__(self, "use_scale", bool(use_scale))
        object.__setattr__(self, "use_bias", bool(use_bias))

    def init(self, rng: Any, dtype: DTypeLike = np.float64) -> dict[str, np.ndarray]:
        """``{"scale": ones(shape), "bias": zeros(shape)}`` (``rng`` is only checked)."""
        return _affine_params(self, rng, dtype, self.shape, self.use_scale, self.use_bias)

    def apply(self, params: dict[str, Array], x: Array) -> Array:
        """``x`` of shape ``(..., *shape)`` normalised over its last ``len(shape)`` axes."""
        _check_trailing(x, self.shape, self)
        axes = tuple(range(-len(self.shape), 0))
        y = _standardize(x, axes, self.eps)
        return _affine(self, params, y, self.shape, self.use_scale, self.use_bias)


@dataclass(frozen=True, init=False)
class RMSNorm(Module):
    """``x / sqrt(mean(x ** 2) + eps) * scale`` over the last axes (no centring, no bias).

    Zhang & Sennrich (2019), as flax's ``RMSNorm`` and PyTorch's ``nn.RMSNorm``.
    ``eps=1e-6`` as flax (PyTorch's default is the dtype's machine epsilon).

    Examples:
        >>> import numpy as np
        >>> norm = RMSNorm(2)
        >>> norm.apply(norm.init(np.random.default_rng(0)), np.array([3.0, 4.0])).round(6)
        array([0.848528, 1.131371])
    """

    shape: tuple[int, ...]
    eps: float = 1e-6
    use_scale: bool = True

    def __init__(self, shape: int | Sequence[int], eps: float = 1e-6,
                 use_scale: bool = True) -> None:
        object.__setattr__(self, "shape", _as_shape(shape, "RMSNorm"))
        object.__setattr__(self, "eps", _check_eps(eps, "RMSNorm"))
        object.__setattr__(self, "use_scale", bool(use_scale))

    def init(self, rng: Any, dtype: DTypeLike = np.float64) -> dict[str, np.ndarray]:
        """``{"scale": ones(shape)}`` (``rng`` is only checked)."""
        return _affine_params(self, rng, dtype, self.shape, self.use_scale, False)

    def apply(self, params: dict[str, Array], x: Array) -> Array:
        """``x`` of shape ``(..., *shape)`` divided by its root mean square over the last axes."""
        _check_trailing(x, self.shape, self)
        axes = tuple(range(-len(self.shape), 0))
        y = x / fnp.sqrt(fnp.mean(x * x, axis=axes, keepdims=True) + self.eps)
        return _affine(self, params, y, self.shape, self.use_scale, False)


@dataclass(frozen=True)
class GroupNorm(Module):
    """Split the channels into ``num_groups`` groups; normalise each example over each group.

    ``x`` is ``(N, ..., C)`` with ``C = num_channels`` (channels last): for every
    example and group, the mean and variance run over the spatial axes and the
    ``C / num_groups`` channels of the group (Wu & He 2018; PyTorch's
    ``GroupNorm`` in NHWC layout).  ``scale`` and ``bias`` are per channel.
    ``num_groups=1`` is LayerNorm over all but the batch axis; ``num_groups=C``
    is InstanceNorm.  ``eps=1e-5`` as PyTorch (flax: 1e-6).

    Examples:
        >>> import numpy as np
        >>> gn = GroupNorm(2, 4)
        >>> y = gn.apply(gn.init(np.random.default_rng(0)), np.arange(16.0).reshape(2, 2, 4))
        >>> y[0, :, :2].mean().round(12), y[0, :, :2].var().round(4)
        (np.float64(0.0), np.float64(1.0))
    """

    num_groups: int
    num_channels: int
    eps: float = 1e-5
    use_scale: bool = True
    use_bias: bool = True

    def __post_init__(self) -> None:
        check_positive_int(self.num_groups, "num_groups", "GroupNorm")
        check_positive_int(self.num_channels, "num_channels", "GroupNorm")
        if self.num_channels % self.num_groups:
            raise ArgumentError(f"GroupNorm: num_channels={self.num_channels} must be divisible "
                                f"by num_groups={self.num_groups}")
        object.__setattr__(self, "eps", _check_eps(self.eps, "GroupNorm"))

    def init(self, rng: Any, dtype: DTypeLike = np.float64) -> dict[str, np.ndarray]:
        """``{"scale": ones(C), "bias": zeros(C)}`` (``rng`` is only checked)."""
        return _affine_params(self, rng, dtype, (self.num_channels,), self.use_scale,
                              self.use_bias)

    def apply(self, params: dict[str, Array], x: Array) -> Array:
        """``x`` of shape ``(N, ..., C)`` normalised per example and group."""
        c = self.num_channels
        _check_trailing(x, (c,), self, min_ndim=2)
        shape = shape_of(x)
        g = self.num_groups
        grouped = fnp.reshape(x, shape[:-1] + (g, c // g))
        axes = tuple(range(1, len(shape) - 1)) + (len(shape),)    # spatial axes + within group
        y = fnp.reshape(_standardize(grouped, axes, self.eps), shape)
        return _affine(self, params, y, (c,), self.use_scale, self.use_bias)


@dataclass(frozen=True)
class BatchNorm(Module):
    """Normalise each channel over the batch (and spatial) axes; keep running statistics.

    ``x`` is ``(N, ..., C)`` with ``C = num_features`` (channels last).  In training
    (``train=True``) the mean and biased variance over every axis but the last
    normalise ``x``, and the running statistics move towards them with
    **PyTorch's conventions**: ``running = (1 - momentum) * running + momentum *
    batch`` with ``momentum=0.1``, the running variance is updated with the
    *unbiased* batch variance (``n / (n - 1)`` times the biased one), ``eps=1e-5``.
    (flax writes the same update as ``momentum=0.9`` and uses the biased variance.)
    In evaluation (``train=False``) the running statistics normalise ``x`` and the
    state comes back unchanged.

    The state is ``{"mean": zeros(C), "var": ones(C)}`` from :meth:`init_state`;
    ``apply(params, x, state=state, train=True)`` returns ``(y, new_state)``.  The
    new state carries no gradient (it is computed from ``stop_gradient`` of the
    batch statistics) and keeps the state's dtype; ``y`` has the dtype of ``x``.  Under
    ``grad`` return the new state as auxiliary data (``has_aux=True``).
    ``Sequential`` does not thread state: call a ``BatchNorm`` directly.

    Examples:
        >>> import numpy as np
        >>> bn = BatchNorm(2)
        >>> params, state = bn.init(np.random.default_rng(0)), bn.init_state()
        >>> x = np.array([[0.0, 10.0], [2.0, 30.0]])
        >>> y, state = bn.apply(params, x, state=state)
        >>> y.round(4)
        array([[-1., -1.],
               [ 1.,  1.]])
        >>> state["mean"], state["var"]
        (array([0.1, 2. ]), array([ 1.1, 20.9]))
        >>> bn.apply(params, x, state=state, train=False)[0].round(3)   # running statistics
        array([[-0.095,  1.75 ],
               [ 1.812,  6.125]])
    """

    num_features: int
    momentum: float = 0.1
    eps: float = 1e-5
    use_scale: bool = True
    use_bias: bool = True

    def __post_init__(self) -> None:
        check_positive_int(self.num_features, "num_features", "BatchNorm")
        m = self.momentum
        if isinstance(m, bool) or not isinstance(m, (int, float)) or not 0.0 <= m <= 1.0:
            raise ArgumentError(f"BatchNorm: momentum must be a float in [0, 1] (PyTorch's "
                                f"convention: the weight of the new batch), got {m!r}")
        object.__setattr__(self, "momentum", float(m))
        object.__setattr__(self, "eps", _check_eps(self.eps, "BatchNorm"))

    def init(self, rng: Any, dtype: DTypeLike = np.float64) -> dict[str, np.ndarray]:
        """``{"scale": ones(C), "bias": zeros(C)}`` (``rng`` is only checked)."""
        return _affine_params(self, rng, dtype, (self.num_features,), self.use_scale,
                              self.use_bias)

    def init_state(self, dtype: DTypeLike = np.float64) -> dict[str, np.ndarray]:
        """The running statistics before any batch: ``{"mean": zeros(C), "var": ones(C)}``."""
        dt = check_float_dtype(dtype, f"{self!r}.init_state")
        return {"mean": np.zeros(self.num_features, dt), "var": np.ones(self.num_features, dt)}

    def _state(self, state: Any) -> tuple[Array, Array]:
        if state is None:
            raise ArgumentError(f"{self!r}.apply: state= is required (the running statistics "
                                "from init_state()); BatchNorm returns (y, new_state), so it "
                                "cannot be a layer of Sequential: call it directly")
        if not isinstance(state, dict) or sorted(state) != ["mean", "var"]:
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise TreeStructureError(f"{self!r}.apply: state must be a dict with keys "
                                     f"['mean', 'var'] (from init_state()), got {got}")
        c = (self.num_features,)
        return (_check_param_shape(state, "mean", c, self),
                _check_param_shape(state, "var", c, self))

    def apply(self, params: dict[str, Array], x: Array, *,  # type: ignore[override]
              state: dict[str, Array] | None = None,
              train: bool = True) -> tuple[Array, dict[str, Array]]:
        """``(y, new_state)``: batch statistics when ``train``, running statistics otherwise."""
        running_mean, running_var = self._state(state)
        c = self.num_features
        _check_trailing(x, (c,), self, min_ndim=2)
        shape = shape_of(x)
        axes = tuple(range(len(shape) - 1))
        dt = dtype_of(x)
        if not train:
            mean, var = fnp.astype(running_mean, dt), fnp.astype(running_var, dt)
            y = (x - mean) / fnp.sqrt(var + self.eps)
            return _affine(self, params, y, (c,), self.use_scale, self.use_bias), state
        n = int(np.prod(shape[:-1]))
        if n < 2:
            raise ShapeError(f"{self!r}.apply: training needs more than one value per channel "
                             f"to estimate a variance, got x.shape={shape}")
        mean = fnp.mean(x, axis=axes)
        centred = x - mean
        var = fnp.mean(centred * centred, axis=axes)
        y = centred / fnp.sqrt(var + self.eps)
        m = self.momentum
        # The state keeps its own dtype (float32 statistics for float16 activations, say).
        sd = dtype_of(running_mean)
        batch_mean = fnp.astype(fg.stop_gradient(mean), sd)
        batch_var = fnp.astype(fg.stop_gradient(var), sd)
        new_state = {"mean": (1.0 - m) * running_mean + m * batch_mean,
                     "var": (1.0 - m) * running_var + m * batch_var * (n / (n - 1))}
        return _affine(self, params, y, (c,), self.use_scale, self.use_bias), new_state
