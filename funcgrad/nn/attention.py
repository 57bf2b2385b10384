"""Scaled dot-product attention and the multi-head attention layer.

Layouts follow flax: the functions take ``query`` of shape ``(..., L, H, D)``
(batch dimensions, query length, heads, depth) and ``key``/``value`` of shape
``(..., S, H, D)``; the attention weights have shape ``(..., H, L, S)``.  A mask
is **boolean, True where a query may attend to a key** (JAX/flax's convention;
PyTorch's boolean ``attn_mask`` means the opposite), and broadcastable to
``(..., H, L, S)``.  Masked logits are replaced by the dtype's most negative
finite number before the softmax, so a masked key gets weight exactly 0, and a
query whose keys are all masked attends uniformly to all of them (flax's
behaviour; PyTorch gives NaN there).

Examples:
    >>> import numpy as np
    >>> q = k = v = np.ones((1, 3, 1, 2))                  # batch 1, length 3, 1 head, depth 2
    >>> dot_product_attention_weights(q, k, causal=True)[0, 0]
    array([[1.        , 0.        , 0.        ],
           [0.5       , 0.5       , 0.        ],
           [0.33333333, 0.33333333, 0.33333333]])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.errors import ArgumentError, DTypeError, ShapeError, TreeStructureError
from funcgrad.nn._util import check_positive_int, check_rng, dtype_of, shape_of
from funcgrad.nn.activations import softmax
from funcgrad.nn.layers import Dropout, Linear, Module

__all__ = ["MultiheadAttention", "dot_product_attention", "dot_product_attention_weights"]

Array = Any
DTypeLike = Any


def _broadcastable(a: tuple[int, ...], b: tuple[int, ...], result: tuple[int, ...] | None = None
                   ) -> bool:
    """True when shapes ``a`` and ``b`` broadcast (to ``result``, when given)."""
    try:
        shape = np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return result is None or shape == result


def _check_mask(mask: Array, logits_shape: tuple[int, ...], where: str) -> None:
    if dtype_of(mask) != np.bool_:
        raise DTypeError(f"{where}: mask must be boolean (True where a query may attend to a "
                         f"key), got dtype {dtype_of(mask)}")
    shape = shape_of(mask)
    if not _broadcastable(shape, logits_shape, logits_shape):
        raise ShapeError(f"{where}: mask.shape={shape} must broadcast to the attention weights' "
                         f"shape (..., heads, q_length, k_length)={logits_shape}")


def dot_product_attention_weights(query: Array, key: Array, *, mask: Array | None = None,
                                  causal: bool = False) -> Array:
    """``softmax(q . k / sqrt(D))`` over the keys: weights of shape ``(..., H, L, S)``.

    ``query`` is ``(..., L, H, D)`` and ``key`` ``(..., S, H, D)``.  ``mask`` (boolean,
    True = attend) broadcasts to ``(..., H, L, S)``; ``causal=True`` also masks every
    key after the query's position (it needs ``L == S``).

    Examples:
        >>> import numpy as np
        >>> q = np.array([[[1.0]], [[0.0]]])                  # L=2, H=1, D=1
        >>> dot_product_attention_weights(q, q, mask=np.array([True, False]))
        array([[[1., 0.],
                [1., 0.]]])
    """
    where = "dot_product_attention_weights"
    q_shape, k_shape = shape_of(query), shape_of(key)
    if len(q_shape) < 3 or len(k_shape) != len(q_shape) or q_shape[-2:] != k_shape[-2:] or \
            not _broadcastable(q_shape[:-3], k_shape[:-3]):
        raise ShapeError(f"{where}: expected query (..., L, H, D) and key (..., S, H, D) with "
                         f"the same heads and depth, got query.shape={q_shape}, "
                         f"key.shape={k_shape}")
    q = fnp.swapaxes(query, -2, -3) / math.sqrt(q_shape[-1])      # (..., H, L, D)
    k = fnp.swapaxes(key, -2, -3)                                  # (..., H, S, D)
    logits = fnp.matmul(q, fnp.swapaxes(k, -1, -2))                # (..., H, L, S)
    l_len, s_len = q_shape[-3], k_shape[-3]
    if causal:
        if l_len != s_len:
            raise ShapeError(f"{where}: causal=True needs as many queries as keys, got "
                             f"q_length={l_len} and k_length={s_len}")
        causal_mask = np.tril(np.ones((l_len, s_len), dtype=bool))
        mask = causal_mask if mask is None else fnp.logical_and(mask, causal_mask)
    if mask is not None:
        _check_mask(mask, shape_of(logits), where)
        lowest = np.array(np.finfo(dtype_of(logits)).min, dtype_of(logits))
        logits = fnp.where(mask, logits, lowest)
    return softmax(logits, axis=-1)


def dot_product_attention(query: Array, key: Array, value: Array, *, mask: Array | None = None,
                          causal: bool = False, dropout_rate: float = 0.0, rng: Any = None,
                          train: bool = True) -> Array:
    """Attention of ``query`` over ``key``/``value``: ``(..., L, H, Dv)``.

    The weights are :func:`dot_product_attention_weights`; with ``dropout_rate > 0``
    and ``train=True`` they go through inverted dropout drawn from ``rng`` (a
    ``funcgrad.random`` key or a ``numpy.random.Generator``, as ``nn.Dropout``).
    ``value`` is ``(..., S, H, Dv)``.

    Examples:
        >>> import numpy as np
        >>> q, k = np.zeros((2, 1, 1)), np.zeros((2, 1, 1))
        >>> v = np.array([[[1.0]], [[3.0]]])
        >>> dot_product_attention(q, k, v)[:, 0, 0]          # equal weights: the mean
        array([2., 2.])
    """
    weights = dot_product_attention_weights(query, key, mask=mask, causal=causal)
    v_shape = shape_of(value)
    if len(v_shape) != len(shape_of(key)) or v_shape[-3:-1] != shape_of(key)[-3:-1]:
        raise ShapeError(f"dot_product_attention: expected value (..., S, H, Dv) matching "
                         f"key.shape={shape_of(key)}, got value.shape={v_shape}")
    weights = Dropout(dropout_rate).apply(None, weights, rng=rng, train=train)
    out = fnp.matmul(weights, fnp.swapaxes(value, -2, -3))          # (..., H, L, Dv)
    return fnp.swapaxes(out, -2, -3)


@dataclass(frozen=True)
class MultiheadAttention(Module):
    """Multi-head attention: project, attend per head, concatenate, project out.

    ``query`` is ``(..., L, embed_dim)`` (batch first), ``key`` ``(..., S, kdim)`` and
    ``value`` ``(..., S, vdim)``; ``key`` defaults to ``query`` and ``value`` to
    ``key`` (self-attention).  Each is projected by a ``Linear`` to ``embed_dim``
    features, split into ``num_heads`` heads of depth ``embed_dim // num_heads``,
    attended with :func:`dot_product_attention` (``mask``: boolean, True = attend,
    broadcastable to ``(batch..., num_heads, L, S)``; ``causal=True``; dropout on the
    weights at rate ``dropout`` when ``train``), and the heads' outputs, concatenated,
    go through the ``Linear`` ``"out"``.  Parameters: ``{"query", "key", "value",
    "out"}``, each a ``Linear``'s ``{"w", "b"}``, with Glorot-uniform weights and zero
    biases (PyTorch's initialisation of its input projection).

    Examples:
        >>> import numpy as np
        >>> mha = MultiheadAttention(embed_dim=8, num_heads=2)
        >>> params = mha.init(np.random.default_rng(0))
        >>> sorted(params), params["key"]["w"].shape
        (['key', 'out', 'query', 'value'], (8, 8))
        >>> mha.apply(params, np.ones((3, 5, 8)), causal=True).shape
        (3, 5, 8)
    """

    embed_dim: int
    num_heads: int
    kdim: int | None = None
    vdim: int | None = None
    dropout: float = 0.0
    bias: bool = True

    def __post_init__(self) -> None:
        check_positive_int(self.embed_dim, "embed_dim", "MultiheadAttention")
        check_positive_int(self.num_heads, "num_heads", "MultiheadAttention")
        if self.embed_dim % self.num_heads:
            raise ArgumentError(f"MultiheadAttention: embed_dim={self.embed_dim} must be "
                                f"divisible by num_heads={self.num_heads}")
        for name in ("kdim", "vdim"):
            if getattr(self, name) is not None:
                check_positive_int(getattr(self, name), name, "MultiheadAttention")
        Dropout(self.dropout)                          # checks the rate

    @property
    def stochastic(self) -> bool:
        """True when ``dropout > 0``: ``apply`` then takes ``rng=`` and ``train=``."""
        return self.dropout > 0.0

    @property
    def projections(self) -> dict[str, Linear]:
        """The four ``Linear`` layers: ``query``, ``key``, ``value`` and ``out``."""
        e = self.embed_dim
        sizes = {"query": e, "key": self.kdim or e, "value": self.vdim or e, "out": e}
        return {name: Linear(n, e, init="glorot", bias=self.bias) for name, n in sizes.items()}

    def init(self, rng: Any, dtype: DTypeLike = np.float64) -> dict[str, dict[str, np.ndarray]]:
        """The four projections' parameters, drawn in the order query, key, value, out."""
        rng = check_rng(rng, f"{self!r}.init")
        return {name: layer.init(rng, dtype) for name, layer in self.projections.items()}

    def apply(self, params: dict[str, Any], query: Array,  # type: ignore[override]
              key: Array | None = None, value: Array | None = None, *,
              mask: Array | None = None, causal: bool = False, rng: Any = None,
              train: bool = True) -> Array:
        """The attention output, ``(..., L, embed_dim)``."""
        layers = self.projections
        if not isinstance(params, dict) or sorted(params) != sorted(layers):
            got = sorted(params) if isinstance(params, dict) else type(params).__name__
            raise TreeStructureError(f"{self!r}.apply: params must be a dict with keys "
                                     f"{sorted(layers)}, got {got}")
        key = query if key is None else key
        value = key if value is None else value
        heads, depth = self.num_heads, self.embed_dim // self.num_heads

        def project(name: str, x: Array) -> Array:
            y = layers[name].apply(params[name], x)
            return fnp.reshape(y, shape_of(y)[:-1] + (heads, depth))

        out = dot_product_attention(project("query", query), project("key", key),
                                    project("value", value), mask=mask, causal=causal,
                                    dropout_rate=self.dropout, rng=rng, train=train)
        out = fnp.reshape(out, shape_of(out)[:-2] + (self.embed_dim,))
        return layers["out"].apply(params["out"], out)
