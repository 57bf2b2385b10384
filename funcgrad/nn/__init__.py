"""``funcgrad.nn``: functional layers, activations, losses, and parameter files.

Layers are frozen dataclasses of hyperparameters; parameters are plain pytrees
(dicts and lists of NumPy arrays).  ``layer.init(rng)`` draws parameters from a
``numpy.random.Generator``; ``layer.apply(params, x)`` is a pure function, so
``grad``, ``jit`` and ``vmap`` apply to it directly.

Examples:
    >>> import numpy as np
    >>> import funcgrad as fg
    >>> from funcgrad import nn
    >>> model = nn.MLP([2, 8, 1])
    >>> params = model.init(np.random.default_rng(0))
    >>> x, y = np.ones((4, 2)), np.zeros((4, 1))
    >>> loss = lambda p: nn.mse(model.apply(p, x), y)
    >>> grads = fg.grad(loss)(params)
    >>> [sorted(g) for g in grads]
    [['b', 'w'], ['b', 'w']]
"""

from funcgrad.nn import initializers
from funcgrad.nn.activations import (
                                     celu,
                                     elu,
                                     gelu,
                                     glu,
                                     hard_tanh,
                                     leaky_relu,
                                     log_sigmoid,
                                     log_softmax,
                                     logsumexp,
                                     one_hot,
                                     relu,
                                     relu6,
                                     selu,
                                     sigmoid,
                                     silu,
                                     soft_sign,
                                     softmax,
                                     softplus,
                                     softsign,
                                     standardize,
                                     swish,
                                     tanh,
)
from funcgrad.nn.attention import (
                                     MultiheadAttention,
                                     dot_product_attention,
                                     dot_product_attention_weights,
)
from funcgrad.nn.conv import Conv1d, Conv2d, ConvTranspose2d
from funcgrad.nn.io import load, save
from funcgrad.nn.layers import MLP, Dropout, Embedding, Linear, Module, Sequential
from funcgrad.nn.losses import (
                                     binary_cross_entropy,
                                     binary_cross_entropy_with_logits,
                                     cosine_similarity,
                                     huber,
                                     huber_loss,
                                     kl_divergence,
                                     l2_loss,
                                     mse,
                                     sigmoid_focal_loss,
                                     softmax_cross_entropy,
)
from funcgrad.nn.norm import BatchNorm, GroupNorm, LayerNorm, RMSNorm
from funcgrad.nn.pooling import AvgPool2d, MaxPool2d
from funcgrad.nn.recurrent import GRUCell, LSTMCell, RNNCell

__all__ = [
                                     "MLP",
                                     "AvgPool2d",
                                     "BatchNorm",
                                     "Conv1d",
                                     "Conv2d",
                                     "ConvTranspose2d",
                                     "Dropout",
                                     "Embedding",
                                     "GRUCell",
                                     "GroupNorm",
                                     "LSTMCell",
                                     "LayerNorm",
                                     "Linear",
                                     "MaxPool2d",
                                     "Module",
                                     "MultiheadAttention",
                                     "RMSNorm",
                                     "RNNCell",
                                     "Sequential",
                                     "binary_cross_entropy",
                                     "binary_cross_entropy_with_logits",
                                     "celu",
                                     "cosine_similarity",
                                     "dot_product_attention",
                                     "dot_product_attention_weights",
                                     "elu",
                                     "gelu",
                                     "glu",
                                     "hard_tanh",
                                     "huber",
                                     "huber_loss",
                                     "initializers",
                                     "kl_divergence",
                                     "l2_loss",
                                     "leaky_relu",
                                     "load",
                                     "log_sigmoid",
                                     "log_softmax",
                                     "logsumexp",
                                     "mse",
                                     "one_hot",
                                     "relu",
                                     "relu6",
                                     "save",
                                     "selu",
                                     "sigmoid",
                                     "sigmoid_focal_loss",
                                     "silu",
                                     "soft_sign",
                                     "softmax",
                                     "softmax_cross_entropy",
                                     "softplus",
                                     "softsign",
                                     "standardize",
                                     "swish",
                                     "tanh",
]
