"""Layers: hyperparameters in a frozen dataclass, parameters in a pytree, ``apply`` a pure function.

A layer object never holds arrays.  ``layer.init(rng)`` draws fresh parameters
(a dict or list of NumPy arrays) from a ``numpy.random.Generator``;
``layer.apply(params, x)`` computes the output from them.  Because ``apply``
is pure, it works under every transformation: ``grad`` with respect to the
parameters, ``jit``, ``vmap`` over examples.

Examples:
    >>> import numpy as np
    >>> import funcgrad as fg
    >>> import funcgrad.numpy as fnp
    >>> layer = Linear(3, 2)
    >>> params = layer.init(np.random.default_rng(0))
    >>> {k: v.shape for k, v in params.items()}
    {'w': (3, 2), 'b': (2,)}
    >>> layer.apply(params, np.ones((5, 3))).shape
    (5, 2)
    >>> grads = fg.grad(lambda p: fnp.sum(layer.apply(p, np.ones((5, 3)))))(params)
    >>> grads["b"]
    array([5., 5.])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.errors import ArgumentError, DTypeError, ShapeError, TreeStructureError
from funcgrad.nn import _initializers
from funcgrad.nn._util import (
    check_choice,
    check_float_dtype,
    check_positive_int,
    check_rng,
    dtype_of,
    is_concrete,
    is_key,
    shape_of,
)
from funcgrad.nn.activations import relu

__all__ = ["MLP", "Dropout", "Embedding", "Linear", "Module", "Sequential"]

Array = Any
PyTree = Any
DTypeLike = Any


class Module:
    """What every layer provides: ``init(rng, dtype) -> params`` and ``apply(params, x) -> y``.

    Subclasses are frozen dataclasses of hyperparameters.  A layer whose
    output is random (``Dropout``) says so with ``stochastic``; its ``apply``
    then also takes the keywords ``rng`` and ``train``, which ``Sequential``
    forwards to it.
    """

    @property
    def stochastic(self) -> bool:
        """True when ``apply`` takes ``rng=`` and ``train=`` keywords."""
        return False

    def init(self, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> PyTree:
        """Fresh parameters drawn from ``rng``, with floating dtype ``dtype``."""
        raise NotImplementedError

    def apply(self, params: PyTree, x: Array) -> Array:
        """The layer's output for input ``x`` under parameters ``params``."""
        raise NotImplementedError


def _check_last_dim(x: Array, expected: int, name: str, layer: Module) -> None:
    shape = shape_of(x)
    if len(shape) == 0 or shape[-1] != expected:
        raise ShapeError(f"{layer!r}.apply: expected {name} of shape (..., {expected}), "
                         f"got {name}.shape={shape}")


def _check_param_shape(params: Any, key: str, expected: tuple[int, ...], layer: Module) -> Array:
    if not isinstance(params, dict) or key not in params:
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise TreeStructureError(f"{layer!r}.apply: params must be a dict with key {key!r}, "
                                 f"got {got}")
    value = params[key]
    if shape_of(value) != expected:
        raise ShapeError(f"{layer!r}.apply: params[{key!r}] must have shape {expected}, "
                         f"got {shape_of(value)}")
    return value


@dataclass(frozen=True, init=False)
class Linear(Module):
    """``x @ w + b``: a dense layer from ``in_features`` to ``out_features``.

    Parameters are ``{"w": (in_features, out_features), "b": (out_features,)}``
    (no ``"b"`` when ``bias=False``).  ``init="he"`` draws ``w`` from
    ``N(0, 1) * sqrt(2 / in_features)``; ``init="glorot"`` from ``U(-a, a)``
    with ``a = sqrt(6 / (in_features + out_features))``.  The bias starts at
    zero.  (The ``init`` argument is stored as ``weight_init``: ``init`` is
    the method.)  ``x`` may have any leading dimensions: ``(..., in_features)``.

    Examples:
        >>> import numpy as np
        >>> layer = Linear(2, 1, init="glorot")
        >>> params = layer.init(np.random.default_rng(0))
        >>> params["b"]
        array([0.])
        >>> layer.apply(params, np.zeros(2))
        array([0.])
    """

    in_features: int
    out_features: int
    weight_init: str = "he"
    bias: bool = True

    def __init__(self, in_features: int, out_features: int, init: str = "he",
                 bias: bool = True) -> None:
        check_positive_int(in_features, "in_features", "Linear")
        check_positive_int(out_features, "out_features", "Linear")
        check_choice(init, tuple(_initializers.WEIGHT_INITS), "init", "Linear")
        object.__setattr__(self, "in_features", int(in_features))
        object.__setattr__(self, "out_features", int(out_features))
        object.__setattr__(self, "weight_init", init)
        object.__setattr__(self, "bias", bool(bias))

    def init(self, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> dict[str, np.ndarray]:
        """``{"w": ..., "b": zeros}`` drawn from ``rng`` (see the class docstring)."""
        rng = check_rng(rng, f"{self!r}.init")
        dt = check_float_dtype(dtype, f"{self!r}.init")
        draw = _initializers.WEIGHT_INITS[self.weight_init]
        params = {"w": draw(rng, (self.in_features, self.out_features), dt)}
        if self.bias:
            params["b"] = np.zeros(self.out_features, dt)
        return params

    def apply(self, params: dict[str, Array], x: Array) -> Array:
        """``x @ params["w"] + params["b"]``; ``x`` has shape ``(..., in_features)``."""
        w = _check_param_shape(params, "w", (self.in_features, self.out_features), self)
        _check_last_dim(x, self.in_features, "x", self)
        y = fnp.matmul(x, w)
        if self.bias:
            y = y + _check_param_shape(params, "b", (self.out_features,), self)
        return y


def _fold_in(key: Any, i: int) -> Any:
    """``funcgrad.random.fold_in(key, i)`` (imported on first use)."""
    from funcgrad import random

    return random.fold_in(key, i)


def _is_module(layer: Any) -> bool:
    return isinstance(layer, Module)


def _apply_layer(layer: Any, params: PyTree, x: Array, rng: np.random.Generator | None,
                 train: bool) -> Array:
    if not _is_module(layer):
        return layer(x)                     # a plain function such as nn.relu
    if layer.stochastic:
        return layer.apply(params, x, rng=rng, train=train)
    return layer.apply(params, x)


@dataclass(frozen=True, init=False)
class Sequential(Module):
    """Layers applied one after the other; the parameters are the list of the layers' parameters.

    A layer is a :class:`Module` or a plain function of one array (an
    activation such as ``nn.relu``); a function has no parameters and its
    entry in the list is ``None``.  ``apply`` forwards ``rng=`` and
    ``train=`` to the stochastic layers (``Dropout``).

    Examples:
        >>> import numpy as np
        >>> from funcgrad import nn
        >>> model = Sequential([nn.Linear(2, 3), nn.relu, nn.Linear(3, 1)])
        >>> params = model.init(np.random.default_rng(0))
        >>> [None if p is None else sorted(p) for p in params]
        [['b', 'w'], None, ['b', 'w']]
        >>> model.apply(params, np.ones((4, 2))).shape
        (4, 1)
    """

    layers: tuple[Any, ...]

    def __init__(self, layers: Sequence[Module | Callable[[Array], Array]]) -> None:
        if isinstance(layers, (Module, str)) or not isinstance(layers, Sequence):
            raise ArgumentError(f"Sequential expects a list of layers, got {type(layers).__name__}")
        for i, layer in enumerate(layers):
            if not (_is_module(layer) or callable(layer)):
                raise ArgumentError(f"Sequential: layer {i} is a {type(layer).__name__}; expected "
                                    "an nn.Module or a function of one array")
        object.__setattr__(self, "layers", tuple(layers))

    @property
    def stochastic(self) -> bool:
        """True when any layer is stochastic."""
        return any(_is_module(layer) and layer.stochastic for layer in self.layers)

    def init(self, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> list[PyTree]:
        """``[layer.init(rng, dtype) for each layer]``, ``None`` for plain functions."""
        rng = check_rng(rng, "Sequential.init")
        return [layer.init(rng, dtype) if _is_module(layer) else None for layer in self.layers]

    def apply(self, params: Sequence[PyTree], x: Array, *, rng: Any = None,
              train: bool = True) -> Array:
        """Run the layers in order; ``rng`` and ``train`` go to the stochastic layers (a key as
        ``fold_in(rng, i)`` to layer ``i``)."""
        if not isinstance(params, (list, tuple)) or len(params) != len(self.layers):
            got = f"a {type(params).__name__} of length {len(params)}" if isinstance(
                params, (list, tuple)) else f"a {type(params).__name__}"
            raise TreeStructureError(f"Sequential.apply: params must be a list with one entry per "
                                     f"layer ({len(self.layers)}), got {got}")
        for i, (layer, p) in enumerate(zip(self.layers, params)):
            # A key gives each layer its own stream (fold_in of the layer's index); a Generator
            # is shared and advances.
            layer_rng = _fold_in(rng, i) if is_key(rng) and _is_module(layer) and \
                layer.stochastic else rng
            x = _apply_layer(layer, p, x, layer_rng, train)
        return x


@dataclass(frozen=True, init=False)
class MLP(Module):
    """A multilayer perceptron: ``Linear`` layers of widths ``sizes`` with ``activation`` between them.

    ``MLP([784, 256, 10])`` is ``Linear(784, 256)``, ``activation``,
    ``Linear(256, 10)``, then ``final_activation`` if given.  The parameters
    are the list of the ``Linear`` layers' dicts.

    Examples:
        >>> import numpy as np
        >>> model = MLP([4, 8, 3])
        >>> params = model.init(np.random.default_rng(0))
        >>> [p["w"].shape for p in params]
        [(4, 8), (8, 3)]
        >>> model.apply(params, np.ones((2, 4))).shape
        (2, 3)
    """

    sizes: tuple[int, ...]
    activation: Callable[[Array], Array] = relu
    final_activation: Callable[[Array], Array] | None = None
    weight_init: str = "he"
    bias: bool = True

    def __init__(self, sizes: Sequence[int], activation: Callable[[Array], Array] = relu,
                 final_activation: Callable[[Array], Array] | None = None, init: str = "he",
                 bias: bool = True) -> None:
        if not isinstance(sizes, Sequence) or len(sizes) < 2:
            raise ArgumentError(f"MLP: sizes must list at least an input and an output width, "
                                f"got {sizes!r}")
        for s in sizes:
            check_positive_int(s, "every size", "MLP")
        if not callable(activation) or not (final_activation is None or callable(final_activation)):
            raise ArgumentError("MLP: activation and final_activation must be functions")
        check_choice(init, tuple(_initializers.WEIGHT_INITS), "init", "MLP")
        object.__setattr__(self, "sizes", tuple(int(s) for s in sizes))
        object.__setattr__(self, "activation", activation)
        object.__setattr__(self, "final_activation", final_activation)
        object.__setattr__(self, "weight_init", init)
        object.__setattr__(self, "bias", bool(bias))

    @property
    def linears(self) -> tuple[Linear, ...]:
        """The ``Linear`` layers, one per consecutive pair of ``sizes``."""
        return tuple(Linear(a, b, self.weight_init, self.bias)
                     for a, b in zip(self.sizes[:-1], self.sizes[1:]))

    def init(self, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> list[dict[str, np.ndarray]]:
        """The list of the ``Linear`` layers' parameters."""
        rng = check_rng(rng, "MLP.init")
        return [layer.init(rng, dtype) for layer in self.linears]

    def apply(self, params: Sequence[dict[str, Array]], x: Array) -> Array:
        """``Linear``, ``activation``, ..., ``Linear``, then ``final_activation``."""
        linears = self.linears
        if not isinstance(params, (list, tuple)) or len(params) != len(linears):
            got = len(params) if isinstance(params, (list, tuple)) else type(params).__name__
            raise TreeStructureError(f"MLP.apply: params must be a list of {len(linears)} layer "
                                     f"dicts for sizes {self.sizes}, got {got}")
        for i, (layer, p) in enumerate(zip(linears, params)):
            x = layer.apply(p, x)
            if i < len(linears) - 1:
                x = self.activation(x)
        if self.final_activation is not None:
            x = self.final_activation(x)
        return x


@dataclass(frozen=True)
class Embedding(Module):
    """A lookup table: integer ids in, rows of ``params["table"]`` (``(num_embeddings, embedding_dim)``) out.

    ``apply(params, ids)`` has shape ``ids.shape + (embedding_dim,)``.  Its
    gradient scatter-adds into the table, so an id used several times gets the
    sum of its rows' cotangents.  The table starts as ``N(0, 1)`` (as in
    PyTorch).

    Examples:
        >>> import numpy as np
        >>> emb = Embedding(4, 2)
        >>> params = {"table": np.arange(8.0).reshape(4, 2)}
        >>> emb.apply(params, np.array([3, 0, 3]))
        array([[6., 7.],
               [0., 1.],
               [6., 7.]])
    """

    num_embeddings: int
    embedding_dim: int

    def __post_init__(self) -> None:
        check_positive_int(self.num_embeddings, "num_embeddings", "Embedding")
        check_positive_int(self.embedding_dim, "embedding_dim", "Embedding")

    def init(self, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> dict[str, np.ndarray]:
        """``{"table": N(0, 1) of shape (num_embeddings, embedding_dim)}``."""
        rng = check_rng(rng, f"{self!r}.init")
        dt = check_float_dtype(dtype, f"{self!r}.init")
        return {"table": _initializers.normal(rng, (self.num_embeddings, self.embedding_dim), dt)}

    def apply(self, params: dict[str, Array], ids: Array) -> Array:
        """The rows ``params["table"][ids]``; ``ids`` is an integer array of any shape."""
        table = _check_param_shape(params, "table", (self.num_embeddings, self.embedding_dim), self)
        dt = dtype_of(ids)
        if dt.kind not in "iu":
            raise DTypeError(f"{self!r}.apply: ids must be integers, got dtype {dt} "
                             f"(shape {shape_of(ids)})")
        if is_concrete(ids):
            ids = np.asarray(ids)
            bad = (ids < 0) | (ids >= self.num_embeddings)
            if bad.any():
                raise ShapeError(f"{self!r}.apply: id {ids[bad].flat[0]} is out of range for the "
                                 f"table of shape {(self.num_embeddings, self.embedding_dim)} "
                                 f"(ids must be in [0, {self.num_embeddings}))")
        return fnp.take(table, ids, axis=0)


@dataclass(frozen=True)
class Dropout(Module):
    """Inverted dropout: zero each element with probability ``rate`` and scale the rest by ``1 / (1 - rate)``.

    ``apply(params, x, rng=..., train=True)`` draws the keep-mask from ``rng``: a
    ``funcgrad.random`` key (``bernoulli(key, 1 - rate, x.shape)``, as flax) or a
    ``numpy.random.Generator``.  The mask is not a function of ``x``, so the gradient
    is ``mask / (1 - rate)``.  A key may be an argument of a jitted or vmapped function:
    the mask is drawn inside the computation, fresh for every key (per example under
    ``vmap`` of a batch of keys).  A Generator is drawn from **outside the traced
    computation**: under ``jit`` its mask would be drawn once, at trace time, and reused
    by every call (pass a key, or a mask drawn outside with ``mask=``, see
    :meth:`draw_mask`); under ``vmap`` it has the per-example shape and is shared.
    With ``train=False`` or ``rate == 0`` it is the identity.  It has no
    parameters (``init`` returns ``None``).

    Examples:
        >>> import numpy as np
        >>> drop = Dropout(0.5)
        >>> y = drop.apply(None, np.ones(6), rng=np.random.default_rng(0))
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
        >>> drop.apply(None, np.ones(3), train=False)
        array([1., 1., 1.])
    """

    rate: float

    def __post_init__(self) -> None:
        if isinstance(self.rate, bool) or not isinstance(self.rate, (int, float)) or not (
                0.0 <= self.rate < 1.0):
            raise ArgumentError(f"Dropout: rate must be a float in [0, 1), got {self.rate!r}")

    @property
    def stochastic(self) -> bool:
        """Always True: ``apply`` takes ``rng=`` and ``train=``."""
        return True

    def init(self, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> None:
        """No parameters: ``None``."""
        check_rng(rng, f"{self!r}.init")

    def draw_mask(self, rng: Any, shape: tuple[int, ...]) -> Array:
        """A boolean keep-mask of ``shape``: each element True with probability ``1 - rate``.

        From a key: ``funcgrad.random.bernoulli(key, 1 - rate, shape)`` (traceable);
        from a ``numpy.random.Generator``: ``rng.random(shape) >= rate``.
        """
        if is_key(rng):
            from funcgrad import random

            return random.bernoulli(rng, 1.0 - self.rate, shape)
        check_rng(rng, f"{self!r}.draw_mask")
        return rng.random(shape) >= self.rate

    def apply(self, params: None, x: Array, *, rng: Any = None,
              train: bool = True, mask: Array | None = None) -> Array:
        """``x * mask / (1 - rate)`` when training, else ``x``; the mask comes from ``rng`` (a key
        or a Generator) or ``mask``."""
        if not train or self.rate == 0.0:
            return x
        if mask is None:
            if rng is None:
                raise ArgumentError(f"{self!r}.apply: training mode needs rng= (a funcgrad.random "
                                    "key or a numpy.random.Generator) or mask=; pass train=False "
                                    "for evaluation")
            mask = self.draw_mask(rng, shape_of(x))
        elif shape_of(mask) != shape_of(x):
            raise ShapeError(f"{self!r}.apply: mask.shape={shape_of(mask)} must equal "
                             f"x.shape={shape_of(x)}")
        return fnp.where(mask, x / (1.0 - self.rate), 0.0)
